package rds

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// TestEventQuery pins DescribeEvents' checks and the interval it reads.
func TestEventQuery(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	at := func(m int) *time.Time { v := now.Add(time.Duration(m) * time.Minute); return &v }
	for _, tc := range []struct {
		name       string
		in         rdsapi.DescribeEventsMessage
		code       string
		start, end time.Time
	}{
		{name: "default hour", start: *at(-60), end: now},
		{name: "duration", in: rdsapi.DescribeEventsMessage{Duration: ptr(int32(10))}, start: *at(-10), end: now},
		{name: "start only", in: rdsapi.DescribeEventsMessage{StartTime: at(-300)}, start: *at(-300), end: now},
		{name: "start and duration", in: rdsapi.DescribeEventsMessage{StartTime: at(-300), Duration: ptr(int32(30))}, start: *at(-300), end: *at(-270)},
		{name: "end and duration", in: rdsapi.DescribeEventsMessage{EndTime: at(-100), Duration: ptr(int32(20))}, start: *at(-120), end: *at(-100)},
		{name: "start and end", in: rdsapi.DescribeEventsMessage{StartTime: at(-50), EndTime: at(-40)}, start: *at(-50), end: *at(-40)},
		{name: "identifier without type", in: rdsapi.DescribeEventsMessage{SourceIdentifier: ptr("db1")}, code: "InvalidParameterValue"},
		{name: "unknown type", in: rdsapi.DescribeEventsMessage{SourceType: ptr("db-nothing")}, code: "InvalidParameterValue"},
		{name: "filters", in: rdsapi.DescribeEventsMessage{Filters: []rdsapi.Filter{{Name: ptr("x"), Values: []string{"y"}}}}, code: "InvalidParameterValue"},
		{name: "negative duration", in: rdsapi.DescribeEventsMessage{Duration: ptr(int32(-1))}, code: "InvalidParameterValue"},
		{name: "start in the future", in: rdsapi.DescribeEventsMessage{StartTime: at(5)}, start: *at(5), end: now},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := eventQueryOf(&tc.in, now)
			wantErr(t, err, tc.code)
			if tc.code == "" && (!q.start.Equal(tc.start) || !q.end.Equal(tc.end)) {
				t.Fatalf("interval %s – %s, want %s – %s", q.start, q.end, tc.start, tc.end)
			}
		})
	}
}

// TestDescribeEventsPages records events directly and reads them back by
// source, category and page, oldest first; the sweep removes only those
// past the retention.
func TestDescribeEventsPages(t *testing.T) {
	t.Parallel()
	store := state.NewMemory()
	s := New(store, Config{})
	sc := state.Scope{Account: "000000000000", Region: "us-east-1"}
	ctx := api.WithRequest(context.Background(), &api.RequestInfo{Account: sc.Account, Region: sc.Region})
	err := store.Update(ctx, func(tx state.Tx) error {
		for i := range 25 {
			if err := records.Note(tx, sc, records.EvParamUpdated, "pg", "arn:pg", fmt.Sprintf("p%02d", i), "1", "immediate"); err != nil {
				return err
			}
		}
		if err := records.Note(tx, sc, records.EvInstanceCreated, "db1", "arn:db1"); err != nil {
			return err
		}
		old := records.Event{ID: "RDS-EVENT-0005", Event: rdsapi.Event{SourceIdentifier: ptr("gone"), SourceType: ptr("db-instance"),
			Date: ptr(time.Now().Add(-15 * 24 * time.Hour))}}
		return records.Events.Put(tx, sc, records.EventKey(*old.Date), old)
	})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	marker := ""
	for pages := 0; pages < 3; pages++ {
		out, err := s.DescribeEvents(ctx, &rdsapi.DescribeEventsMessage{SourceType: ptr("db-parameter-group"), SourceIdentifier: ptr("PG"),
			MaxRecords: ptr(int32(20)), Marker: ptrOrNil(marker)})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range out.Events {
			msgs = append(msgs, deref(e.Message))
		}
		if marker = deref(out.Marker); marker == "" {
			break
		}
	}
	if len(msgs) != 25 || msgs[0] != "Updated parameter p00 to 1 with apply method immediate." || msgs[24] != "Updated parameter p24 to 1 with apply method immediate." {
		t.Fatalf("%d events: %q … %q", len(msgs), msgs[0], msgs[len(msgs)-1])
	}
	byCat, err := s.DescribeEvents(ctx, &rdsapi.DescribeEventsMessage{EventCategories: []string{"creation"}, Duration: ptr(int32(14 * 24 * 60))})
	if err != nil || len(byCat.Events) != 1 || deref(byCat.Events[0].SourceIdentifier) != "db1" || deref(byCat.Events[0].SourceArn) != "arn:db1" {
		t.Fatalf("creation events %+v, %v", byCat, err)
	}
	_, err = s.DescribeEvents(ctx, &rdsapi.DescribeEventsMessage{MaxRecords: ptr(int32(10))})
	wantErr(t, err, "InvalidParameterValue")

	if err := s.sweepEvents(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	n := 0
	_ = store.View(ctx, func(tx state.Tx) error {
		return records.Events.ForEach(tx, sc, func(string, records.Event) error { n++; return nil })
	})
	if n != 26 {
		t.Fatalf("%d events after the sweep, want 26 (the 15-day-old one gone)", n)
	}
}

// TestDescribeEventCategories lists every source type, or one.
func TestDescribeEventCategories(t *testing.T) {
	t.Parallel()
	s := New(state.NewMemory(), Config{})
	all, err := s.DescribeEventCategories(context.Background(), &rdsapi.DescribeEventCategoriesMessage{})
	if err != nil || len(all.EventCategoriesMapList) != len(records.EventCategories) {
		t.Fatalf("%+v, %v", all, err)
	}
	one, err := s.DescribeEventCategories(context.Background(), &rdsapi.DescribeEventCategoriesMessage{SourceType: ptr("db-cluster")})
	if err != nil || len(one.EventCategoriesMapList) != 1 || deref(one.EventCategoriesMapList[0].SourceType) != "db-cluster" {
		t.Fatalf("%+v, %v", one, err)
	}
	_, err = s.DescribeEventCategories(context.Background(), &rdsapi.DescribeEventCategoriesMessage{SourceType: ptr("nothing")})
	wantErr(t, err, "InvalidParameterValue")
	// Every event minicloud records is in its source type's categories.
	for _, k := range []records.EventKind{records.EvInstanceCreated, records.EvRestarted, records.EvBackingUp, records.EvParamUpdated,
		records.EvManualSnapshotCreated, records.EvClusterFailoverCrossAZ, records.EvClusterFailoverDone, records.EvClusterCreated,
		records.EvClusterSnapshotCreated, records.EvInstanceStopped, records.EvRestoredSnapshot, records.EvIncompatible} {
		out, err := s.DescribeEventCategories(context.Background(), &rdsapi.DescribeEventCategoriesMessage{SourceType: ptr(k.SourceType)})
		if err != nil || !slices.Contains(out.EventCategoriesMapList[0].EventCategories, k.Category) {
			t.Errorf("%s: category %q not listed for %s (%v)", k.ID, k.Category, k.SourceType, err)
		}
	}
}

func ptrOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
