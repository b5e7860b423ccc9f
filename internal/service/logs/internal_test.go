package logs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/logsapi"
	"github.com/minicloud/minicloud/internal/codec"
	"github.com/minicloud/minicloud/internal/logport"
	"github.com/minicloud/minicloud/internal/metricport"
	"github.com/minicloud/minicloud/internal/state"
)

// recorder is a metricport.Publisher that keeps what it is given.
type recorder struct {
	mu   sync.Mutex
	data []metricport.Datum
}

func (r *recorder) Publish(_ context.Context, _, _ string, data []metricport.Datum) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.data = append(r.data, data...)
	return nil
}

func newService(t *testing.T, dir string, pub metricport.Publisher) *Service {
	t.Helper()
	s, err := New(Config{Dir: dir, Metrics: pub})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	return s
}

func reqCtx() context.Context {
	return api.WithRequest(context.Background(), &api.RequestInfo{Account: "000000000000", Region: "us-east-1"})
}

// TestWriter: the logport.Writer creates the group and the stream, cuts
// what it is given into valid batches and drops what a put would reject.
func TestWriter(t *testing.T) {
	s := newService(t, "", nil)
	ctx := reqCtx()
	now := time.Now()
	var evs []logport.Event
	evs = append(evs, logport.Event{Time: now.Add(-20 * 24 * time.Hour), Message: "ancient"})
	for i := range 25000 {
		evs = append(evs, logport.Event{Time: now.Add(-time.Hour + time.Duration(i)*time.Millisecond), Message: fmt.Sprint("line ", i)})
	}
	if err := s.Writer().Write(ctx, "000000000000", "us-east-1", "/aws/rds/instance/db1/postgresql", "db1.0", evs); err != nil {
		t.Fatal(err)
	}
	out, err := s.DescribeLogStreams(ctx, &logsapi.DescribeLogStreamsRequest{LogGroupName: ptr("/aws/rds/instance/db1/postgresql")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.LogStreams) != 1 || *out.LogStreams[0].LogStreamName != "db1.0" || *out.LogStreams[0].FirstEventTimestamp != evs[1].Time.UnixMilli() {
		t.Fatalf("streams %+v", out.LogStreams)
	}
	got, err := s.events.events(streamKey{"000000000000", "us-east-1", "/aws/rds/instance/db1/postgresql", "db1.0"}, 0, 1<<62)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 25000 || got[0].Message != "line 0" || got[24999].Message != "line 24999" {
		t.Fatalf("%d events", len(got))
	}
	// Again: the group and stream exist now.
	if err := s.Writer().Write(ctx, "000000000000", "us-east-1", "/aws/rds/instance/db1/postgresql", "db1.0", evs[1:2]); err != nil {
		t.Fatal(err)
	}

	// A source's event larger than any client could put is cut to the
	// most a batch holds, and both reads page past it (one event a page).
	big := strings.Repeat("x", 2<<20)
	if err := s.Writer().Write(ctx, "000000000000", "us-east-1", "big", "s", []logport.Event{{Time: now, Message: big}, {Time: now, Message: "after"}}); err != nil {
		t.Fatal(err)
	}
	page, err := s.GetLogEvents(ctx, &logsapi.GetLogEventsRequest{LogGroupName: ptr("big"), LogStreamName: ptr("s"), StartFromHead: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 1 || len(*page.Events[0].Message) != maxBatchBytes-eventOverhead {
		t.Fatalf("first page: %d events", len(page.Events))
	}
	page, err = s.GetLogEvents(ctx, &logsapi.GetLogEventsRequest{LogGroupName: ptr("big"), LogStreamName: ptr("s"), NextToken: page.NextForwardToken})
	if err != nil || len(page.Events) != 1 || *page.Events[0].Message != "after" {
		t.Fatalf("second page: %+v, %v", page, err)
	}
	filtered, err := s.FilterLogEvents(ctx, &logsapi.FilterLogEventsRequest{LogGroupName: ptr("big")})
	if err != nil || len(filtered.Events) != 1 || filtered.NextToken == nil {
		t.Fatalf("filter: %+v, %v", filtered, err)
	}
}

// TestTornTail: an append cut short by a crash (never acknowledged) is
// dropped on open; what was acknowledged stays, and appends go on.
func TestTornTail(t *testing.T) {
	dir := t.TempDir()
	key := streamKey{"000000000000", "us-east-1", "g", "s"}
	es, err := openEventStore(dir, slogDiscard())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := es.append(key, 0, []event{{Time: 1, Message: "a"}, {Time: 2, Message: "b"}}); err != nil {
		t.Fatal(err)
	}
	path := es.streams[key].path
	full, _ := os.Stat(path)
	if _, err := es.append(key, 0, []event{{Time: 3, Message: "c"}}); err != nil {
		t.Fatal(err)
	}
	es.close()
	// Cut the last frame in half, as a crash mid-write would.
	after, _ := os.Stat(path)
	if err := os.Truncate(path, full.Size()+(after.Size()-full.Size())/2); err != nil {
		t.Fatal(err)
	}
	es, err = openEventStore(dir, slogDiscard())
	if err != nil {
		t.Fatal(err)
	}
	defer es.close()
	if _, err := es.append(key, 0, []event{{Time: 4, Message: "d"}}); err != nil {
		t.Fatal(err)
	}
	got, err := es.events(key, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, e := range got {
		msgs = append(msgs, e.Message)
	}
	if !slices.Equal(msgs, []string{"a", "b", "d"}) {
		t.Fatalf("events %v", msgs)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "*", "*.log")); len(matches) != 1 {
		t.Fatalf("files %v", matches)
	}
}

// TestMetricFilterValues: values and dimensions from JSON and
// space-delimited fields; defaultValue when nothing matched.
func TestMetricFilterValues(t *testing.T) {
	rec := &recorder{}
	s := newService(t, "", rec)
	ctx := reqCtx()
	if _, err := s.CreateLogGroup(ctx, &logsapi.CreateLogGroupRequest{LogGroupName: ptr("g")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateLogStream(ctx, &logsapi.CreateLogStreamRequest{LogGroupName: ptr("g"), LogStreamName: ptr("s")}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []logsapi.PutMetricFilterRequest{
		{FilterName: ptr("latency"), FilterPattern: ptr(`{ $.ms > 0 }`), MetricTransformations: []logsapi.MetricTransformation{
			{MetricName: ptr("Latency"), MetricNamespace: ptr("App"), MetricValue: ptr("$.ms"), Unit: ptr("Milliseconds"), Dimensions: map[string]string{"Path": "$.path"}}}},
		{FilterName: ptr("bytes"), FilterPattern: ptr(`[ip, verb, status=5*, size]`), MetricTransformations: []logsapi.MetricTransformation{
			{MetricName: ptr("ErrorBytes"), MetricNamespace: ptr("App"), MetricValue: ptr("$size")}}},
		{FilterName: ptr("never"), FilterPattern: ptr(`NEVERMATCHES`), MetricTransformations: []logsapi.MetricTransformation{
			{MetricName: ptr("Never"), MetricNamespace: ptr("App"), MetricValue: ptr("1"), DefaultValue: ptr(0.0)}}},
	} {
		f.LogGroupName = ptr("g")
		if _, err := s.PutMetricFilter(ctx, &f); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Now().Add(-time.Minute).Truncate(time.Second)
	// The last two match the bytes filter with values no metric can hold
	// (ParseFloat reads both): nothing is published for them.
	msgs := []string{`{"ms": 12.5, "path": "/a"}`, `10.0.0.1 GET 503 2048`, `10.0.0.1 GET 200 10`, `{"ms": 0, "path": "/b"}`,
		`10.0.0.1 GET 500 NaN`, `10.0.0.1 GET 502 0x1p4`}
	in := &logsapi.PutLogEventsRequest{LogGroupName: ptr("g"), LogStreamName: ptr("s")}
	for i, m := range msgs {
		in.LogEvents = append(in.LogEvents, logsapi.InputLogEvent{Timestamp: ptr(at.Add(time.Duration(i) * time.Second).UnixMilli()), Message: ptr(m)})
	}
	if _, err := s.PutLogEvents(ctx, in); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range rec.data {
		got = append(got, fmt.Sprintf("%s/%s=%v %s %v +%v", d.Namespace, d.Name, d.Value, d.Unit, d.Dims, d.Time.Sub(at)))
	}
	slices.Sort(got)
	want := []string{
		"App/ErrorBytes=2048 None [] +1s",
		"App/Latency=12.5 Milliseconds [{Path /a}] +0s",
		"App/Never=0 None [] +5s", // the batch's last event
	}
	if !slices.Equal(got, want) {
		t.Fatalf("published\n%v\nwant\n%v", got, want)
	}
	bad := logsapi.PutMetricFilterRequest{LogGroupName: ptr("g"), FilterName: ptr("nan"), FilterPattern: ptr(""), MetricTransformations: []logsapi.MetricTransformation{
		{MetricName: ptr("N"), MetricNamespace: ptr("App"), MetricValue: ptr("NaN")}}}
	if _, err := s.PutMetricFilter(ctx, &bad); err == nil {
		t.Error("PutMetricFilter with metricValue NaN: accepted")
	}
}

// TestExpire: the sweep rewrites a stream without its expired events and
// leaves the others' files alone.
func TestExpire(t *testing.T) {
	now := time.Now()
	clk := func() time.Time { return now }
	s, err := New(Config{Dir: t.TempDir(), Now: clk, State: state.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	ctx := reqCtx()
	for _, g := range []string{"short", "forever"} {
		if _, err := s.CreateLogGroup(ctx, &logsapi.CreateLogGroupRequest{LogGroupName: ptr(g)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateLogStream(ctx, &logsapi.CreateLogStreamRequest{LogGroupName: ptr(g), LogStreamName: ptr("s")}); err != nil {
			t.Fatal(err)
		}
		for _, age := range []time.Duration{50 * time.Hour, 30 * time.Hour, time.Hour} {
			_, err := s.PutLogEvents(ctx, &logsapi.PutLogEventsRequest{LogGroupName: ptr(g), LogStreamName: ptr("s"),
				LogEvents: []logsapi.InputLogEvent{{Timestamp: ptr(now.Add(-age).UnixMilli()), Message: ptr(age.String())}}})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.PutRetentionPolicy(ctx, &logsapi.PutRetentionPolicyRequest{LogGroupName: ptr("short"), RetentionInDays: ptr(int32(1))}); err != nil {
		t.Fatal(err)
	}
	// Events of a stream with no record (a put that raced a delete).
	orphan := streamKey{"000000000000", "us-east-1", "forever", "gone"}
	if _, err := s.events.append(orphan, 0, []event{{Time: now.UnixMilli(), Message: "x"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Expire(ctx); err != nil {
		t.Fatal(err)
	}
	if s.events.stream(orphan) != nil {
		t.Error("the orphan stream's events were kept")
	}
	for g, want := range map[string]int{"short": 1, "forever": 3} {
		got, err := s.events.events(streamKey{"000000000000", "us-east-1", g, "s"}, -1<<62, 1<<62)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != want {
			t.Errorf("%s: %d events, want %d", g, len(got), want)
		}
	}
}

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestAckedPutWithoutClose: a put is on disk when it returns — a second
// service opened on the directory without the first one closing (as
// after kill -9) reads it.
func TestAckedPutWithoutClose(t *testing.T) {
	dir, st := t.TempDir(), state.NewMemory()
	first, err := New(Config{Dir: dir, State: st})
	if err != nil {
		t.Fatal(err)
	}
	ctx := reqCtx()
	if err := first.Writer().Write(ctx, "000000000000", "us-east-1", "g", "s", []logport.Event{{Time: time.Now(), Message: "acked"}}); err != nil {
		t.Fatal(err)
	}
	second := newService(t, dir, nil)
	second.state = st
	out, err := second.GetLogEvents(ctx, &logsapi.GetLogEventsRequest{LogGroupName: ptr("g"), LogStreamName: ptr("s")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Events) != 1 || *out.Events[0].Message != "acked" {
		t.Fatalf("events %+v", out.Events)
	}
	_ = first.Stop(context.Background())
}

// movingClock is a test clock.
type movingClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *movingClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *movingClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// waitQuery waits for query id to end and returns GetQueryResults' answer.
func waitQuery(t *testing.T, s *Service, id *string) *logsapi.GetQueryResultsResponse {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := s.GetQueryResults(reqCtx(), &logsapi.GetQueryResultsRequest{QueryId: id})
		if err != nil {
			t.Fatal(err)
		}
		if *out.Status != "Running" {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatal("query still running")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPruneQueries: a query's record and results go 7 days after it was
// started (AWS's availability), also those a previous run left; then
// GetQueryResults answers as for an unknown query. Younger ones stay.
func TestPruneQueries(t *testing.T) {
	clk := &movingClock{t: time.Now()}
	st := state.NewMemory()
	s, err := New(Config{State: st, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := reqCtx()
	if _, err := s.CreateLogGroup(ctx, &logsapi.CreateLogGroupRequest{LogGroupName: ptr("g")}); err != nil {
		t.Fatal(err)
	}
	start := func(s *Service) *string {
		t.Helper()
		now := clk.now().Unix()
		q, err := s.StartQuery(ctx, &logsapi.StartQueryRequest{LogGroupName: ptr("g"), QueryString: ptr("fields @message"), StartTime: ptr(now - 60), EndTime: ptr(now)})
		if err != nil {
			t.Fatal(err)
		}
		waitQuery(t, s, q.QueryId)
		return q.QueryId
	}
	old := start(s)
	clk.add(6 * 24 * time.Hour)
	young := start(s)
	clk.add(24*time.Hour + time.Minute)
	if err := s.PruneQueries(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetQueryResults(ctx, &logsapi.GetQueryResultsRequest{QueryId: old})
	if ae := (*codec.Error)(nil); !errors.As(err, &ae) || ae.Code != "ResourceNotFoundException" {
		t.Fatalf("GetQueryResults of a pruned query: %v", err)
	}
	if out := waitQuery(t, s, young); *out.Status != "Complete" {
		t.Fatalf("young query: %s", *out.Status)
	}
	_ = s.Stop(context.Background())

	// A new run prunes what the last one left.
	clk.add(6 * 24 * time.Hour)
	s2, err := New(Config{State: st, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Stop(context.Background())
	if err := s2.PruneQueries(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.GetQueryResults(ctx, &logsapi.GetQueryResultsRequest{QueryId: young}); err == nil {
		t.Fatal("the previous run's old query was kept")
	}
}
