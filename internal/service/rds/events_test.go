package rds_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// events are the messages of source id's events of the last hour, oldest
// first.
func (e *testEnv) events(t *testing.T, typ types.SourceType, id string) []string {
	t.Helper()
	out, err := e.rds.DescribeEvents(e.ctx, &rds.DescribeEventsInput{SourceType: typ, SourceIdentifier: aws.String(id)})
	if err != nil {
		t.Fatalf("DescribeEvents %s %s: %v", typ, id, err)
	}
	var msgs []string
	for _, ev := range out.Events {
		if aws.ToString(ev.SourceIdentifier) != id || ev.SourceType != typ || ev.Date == nil || len(ev.EventCategories) != 1 || !strings.HasSuffix(aws.ToString(ev.SourceArn), ":"+id) {
			t.Fatalf("event %+v of %s %s", ev, typ, id)
		}
		msgs = append(msgs, aws.ToString(ev.Message))
	}
	return msgs
}

// waitEvents polls until source id's events are want, in order, for up to
// 90 s.
func (e *testEnv) waitEvents(t *testing.T, typ types.SourceType, id string, want ...string) {
	t.Helper()
	var got []string
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if got = e.events(t, typ, id); slices.Equal(got, want) {
			return
		}
	}
	t.Fatalf("%s %s: events\n%q\nwant\n%q", typ, id, got, want)
}

// waitEventsIn polls until source id's events include want, in this
// order, for up to 90 s.
func (e *testEnv) waitEventsIn(t *testing.T, typ types.SourceType, id string, want ...string) {
	t.Helper()
	var got []string
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		got = e.events(t, typ, id)
		rest := want
		for _, m := range got {
			if len(rest) > 0 && m == rest[0] {
				rest = rest[1:]
			}
		}
		if len(rest) == 0 {
			return
		}
	}
	t.Fatalf("%s %s: events\n%q\nlack, in this order,\n%q", typ, id, got, want)
}

// TestEventsOfRealTransitions: a DB instance's creation and first backup,
// a reboot, a manual snapshot, a stop, a start and its deletion, a
// Multi-AZ failover and an Aurora cluster's failover each leave
// AWS's events, in order, once they have really happened; StartTime and
// EndTime bound what DescribeEvents returns.
func TestEventsOfRealTransitions(t *testing.T) {
	t.Parallel()
	if !hasPostgres() {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
	}
	e := newEnv(t)
	before := time.Now()
	if _, err := e.rds.CreateDBInstance(e.ctx, createInput("ev-db")); err != nil {
		t.Fatal(err)
	}
	if got := e.events(t, types.SourceTypeDbInstance, "ev-db"); len(got) != 0 {
		t.Fatalf("events before the server runs: %q", got)
	}
	e.waitStatus(t, "ev-db", "available")
	created := []string{"DB instance created.", "Backing up DB instance.", "Finished DB instance backup."}
	e.waitEvents(t, types.SourceTypeDbInstance, "ev-db", created...)

	if _, err := e.rds.RebootDBInstance(e.ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("ev-db")}); err != nil {
		t.Fatal(err)
	}
	rebooted := append(created, "DB instance shutdown.", "DB instance restarted.")
	e.waitEvents(t, types.SourceTypeDbInstance, "ev-db", rebooted...)

	if _, err := e.rds.CreateDBSnapshot(e.ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("ev-db"), DBSnapshotIdentifier: aws.String("ev-snap")}); err != nil {
		t.Fatal(err)
	}
	e.waitEvents(t, types.SourceTypeDbSnapshot, "ev-snap", "Creating manual snapshot.", "Manual snapshot created.")
	snapped := append(rebooted, "Backing up DB instance.", "Finished DB instance backup.")
	e.waitEvents(t, types.SourceTypeDbInstance, "ev-db", snapped...)

	// Stopped, started, deleted: the events outlive the instance.
	if _, err := e.rds.StopDBInstance(e.ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String("ev-db")}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "ev-db", "stopped")
	if _, err := e.rds.StartDBInstance(e.ctx, &rds.StartDBInstanceInput{DBInstanceIdentifier: aws.String("ev-db")}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "ev-db", "available")
	if _, err := e.rds.DeleteDBInstance(e.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("ev-db"), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.waitEvents(t, types.SourceTypeDbInstance, "ev-db", append(snapped, "DB instance stopped.", "DB instance started.", "DB instance deleted.")...)

	// A Multi-AZ instance fails over to its standby.
	e.multiAZ(t, "ev-ha", "10.61")
	if _, err := e.rds.RebootDBInstance(e.ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("ev-ha"), ForceFailover: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "ev-ha", "available")
	e.waitEventsIn(t, types.SourceTypeDbInstance, "ev-ha", "Multi-AZ instance failover started.", "Multi-AZ instance failover completed.", "DB instance restarted.")

	// An Aurora cluster fails over to the reader asked.
	if _, err := e.rds.CreateDBCluster(e.ctx, clusterInput("evc", "")); err != nil {
		t.Fatal(err)
	}
	e.writer(t, "evc", "evc-1")
	if _, err := e.rds.CreateDBInstance(e.ctx, memberInput("evc-2", "evc")); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "evc-2", "available")
	if _, err := e.rds.FailoverDBCluster(e.ctx, &rds.FailoverDBClusterInput{DBClusterIdentifier: aws.String("evc"), TargetDBInstanceIdentifier: aws.String("evc-2")}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline) && len(got) < 3; time.Sleep(200 * time.Millisecond) {
		got = e.events(t, types.SourceTypeDbCluster, "evc")
	}
	if len(got) != 3 || got[0] != "DB cluster created." || !regexp.MustCompile(`^Started (same|cross) AZ failover to DB instance: evc-2\.$`).MatchString(got[1]) || got[2] != "Completed failover to DB instance: evc-2." {
		t.Fatalf("cluster events %q", got)
	}
	e.waitClusterStatus(t, "evc", "available")

	// The interval: nothing before the first event, nothing after the last.
	after := time.Now()
	for _, in := range []*rds.DescribeEventsInput{
		{EndTime: aws.Time(before.Add(-time.Second))},
		{StartTime: aws.Time(after.Add(time.Minute))},
		{SourceType: types.SourceTypeDbInstance, SourceIdentifier: aws.String("ev-db"), EventCategories: []string{"failover"}},
	} {
		out, err := e.rds.DescribeEvents(e.ctx, in)
		if err != nil {
			t.Fatalf("DescribeEvents %+v: %v", in, err)
		}
		if len(out.Events) != 0 {
			t.Fatalf("DescribeEvents %+v: %d events", in, len(out.Events))
		}
	}
	out, err := e.rds.DescribeEvents(e.ctx, &rds.DescribeEventsInput{StartTime: aws.Time(before), EventCategories: []string{"failover"}})
	if err != nil {
		t.Fatal(err)
	}
	var sources []string
	for i, ev := range out.Events {
		sources = append(sources, aws.ToString(ev.SourceIdentifier))
		if i > 0 && ev.Date.Before(*out.Events[i-1].Date) {
			t.Fatalf("failover events out of order at %d", i)
		}
	}
	if !slices.Equal(sources, []string{"ev-ha", "ev-ha", "evc", "evc"}) {
		t.Fatalf("failover events since the start are of %q", sources)
	}
	_, err = e.rds.DescribeEvents(e.ctx, &rds.DescribeEventsInput{SourceIdentifier: aws.String("ev-db")})
	wantCode(t, err, "InvalidParameterValue")
}
