package rds_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// waitClusterSnapshot polls until cluster snapshot id has status want, for
// up to 90 s.
func (e *testEnv) waitClusterSnapshot(t *testing.T, id, want string) types.DBClusterSnapshot {
	t.Helper()
	last := ""
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		out, err := e.rds.DescribeDBClusterSnapshots(e.ctx, &rds.DescribeDBClusterSnapshotsInput{DBClusterSnapshotIdentifier: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		s := out.DBClusterSnapshots[0]
		if last = aws.ToString(s.Status); last == want {
			return s
		}
	}
	t.Fatalf("cluster snapshot %s: status %q, want %q after 90s", id, last, want)
	return types.DBClusterSnapshot{}
}

// writer adds writer id to cluster and waits until it is available.
func (e *testEnv) writer(t *testing.T, cluster, id string) {
	t.Helper()
	if _, err := e.rds.CreateDBInstance(e.ctx, memberInput(id, cluster)); err != nil {
		t.Fatalf("CreateDBInstance %s in %s: %v", id, cluster, err)
	}
	e.waitStatus(t, id, "available")
}

// TestClusterSnapshotsAndRestores takes a cluster snapshot of a writer
// with real rows, restores it, restores the cluster to a point in time
// between two writes, and clones it: each new cluster's writer has the
// expected rows, and the clone diverges from its source.
func TestClusterSnapshotsAndRestores(t *testing.T) {
	t.Parallel()
	if !hasPostgres() {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
	}
	e := newEnv(t)
	in := clusterInput("src", "")
	in.DatabaseName, in.MasterUserPassword, in.BackupRetentionPeriod = aws.String("app"), aws.String("s3cret-pass"), aws.Int32(7)
	in.Tags = tags("team", "db")
	in.CopyTagsToSnapshot = aws.Bool(true)
	if _, err := e.rds.CreateDBCluster(e.ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rds.CreateDBCluster(e.ctx, clusterInput("empty", "")); err != nil {
		t.Fatal(err)
	}
	e.writer(t, "src", "src-w")
	e.sql(t, "src-w", "app", "CREATE TABLE items (id int PRIMARY KEY)", "INSERT INTO items VALUES (1)")
	time.Sleep(1500 * time.Millisecond)
	between := time.Now().UTC()
	time.Sleep(1500 * time.Millisecond)
	e.sql(t, "src-w", "app", "INSERT INTO items VALUES (2)")
	committed := time.Now().UTC()

	out, err := e.rds.CreateDBClusterSnapshot(e.ctx, &rds.CreateDBClusterSnapshotInput{DBClusterIdentifier: aws.String("src"), DBClusterSnapshotIdentifier: aws.String("Snap1")})
	if err != nil {
		t.Fatal(err)
	}
	if s := out.DBClusterSnapshot; aws.ToString(s.DBClusterSnapshotIdentifier) != "snap1" || aws.ToString(s.Status) != "creating" ||
		aws.ToString(s.DBClusterSnapshotArn) != arnPrefix+"cluster-snapshot:snap1" || aws.ToString(s.SnapshotType) != "manual" ||
		aws.ToString(s.Engine) != "aurora-postgresql" || len(s.TagList) != 1 {
		t.Fatalf("created %+v", s)
	}
	e.waitClusterSnapshot(t, "snap1", "available")
	if _, err := e.rds.CopyDBClusterSnapshot(e.ctx, &rds.CopyDBClusterSnapshotInput{SourceDBClusterSnapshotIdentifier: aws.String("snap1"), TargetDBClusterSnapshotIdentifier: aws.String("snap2")}); err != nil {
		t.Fatal(err)
	}
	copied := e.waitClusterSnapshot(t, "snap2", "available")
	if aws.ToString(copied.SourceDBClusterSnapshotArn) != arnPrefix+"cluster-snapshot:snap1" || len(copied.TagList) != 0 {
		t.Fatalf("copy %+v", copied)
	}

	// LatestRestorableTime follows the writer's WAL archive.
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(time.Second) {
		c := e.cluster(t, "src")
		if l := c.LatestRestorableTime; l != nil && !l.Before(committed) && c.EarliestRestorableTime != nil && !c.EarliestRestorableTime.After(between) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("restorable window %v to %v never reached %v", c.EarliestRestorableTime, c.LatestRestorableTime, committed)
		}
	}
	auto, err := e.rds.DescribeDBClusterSnapshots(e.ctx, &rds.DescribeDBClusterSnapshotsInput{DBClusterIdentifier: aws.String("src"), SnapshotType: aws.String("automated")})
	if err != nil {
		t.Fatal(err)
	}
	if len(auto.DBClusterSnapshots) != 1 || !strings.HasPrefix(aws.ToString(auto.DBClusterSnapshots[0].DBClusterSnapshotIdentifier), "rds:src-") {
		t.Fatalf("automated cluster snapshots %+v", auto.DBClusterSnapshots)
	}
	autoID := auto.DBClusterSnapshots[0].DBClusterSnapshotIdentifier
	manual, err := e.rds.DescribeDBClusterSnapshots(e.ctx, &rds.DescribeDBClusterSnapshotsInput{Filters: []types.Filter{{Name: aws.String("snapshot-type"), Values: []string{"manual"}}}})
	if err != nil || len(manual.DBClusterSnapshots) != 2 || manual.Marker != nil {
		t.Fatalf("manual cluster snapshots %+v, %v", manual, err)
	}

	for _, tc := range []struct {
		name string
		call func() error
		code string
	}{
		{"snapshot bad id", func() error {
			_, err := e.rds.CreateDBClusterSnapshot(e.ctx, &rds.CreateDBClusterSnapshotInput{DBClusterIdentifier: aws.String("src"), DBClusterSnapshotIdentifier: aws.String("1bad")})
			return err
		}, "InvalidParameterValue"},
		{"snapshot of no cluster", func() error {
			_, err := e.rds.CreateDBClusterSnapshot(e.ctx, &rds.CreateDBClusterSnapshotInput{DBClusterIdentifier: aws.String("ghost"), DBClusterSnapshotIdentifier: aws.String("s")})
			return err
		}, "DBClusterNotFoundFault"},
		{"snapshot exists", func() error {
			_, err := e.rds.CreateDBClusterSnapshot(e.ctx, &rds.CreateDBClusterSnapshotInput{DBClusterIdentifier: aws.String("src"), DBClusterSnapshotIdentifier: aws.String("snap1")})
			return err
		}, "DBClusterSnapshotAlreadyExistsFault"},
		{"snapshot of a cluster without writer", func() error {
			_, err := e.rds.CreateDBClusterSnapshot(e.ctx, &rds.CreateDBClusterSnapshotInput{DBClusterIdentifier: aws.String("empty"), DBClusterSnapshotIdentifier: aws.String("s")})
			return err
		}, "InvalidDBClusterStateFault"},
		{"describe none", func() error {
			_, err := e.rds.DescribeDBClusterSnapshots(e.ctx, &rds.DescribeDBClusterSnapshotsInput{DBClusterSnapshotIdentifier: aws.String("ghost")})
			return err
		}, "DBClusterSnapshotNotFoundFault"},
		{"describe bad filter", func() error {
			_, err := e.rds.DescribeDBClusterSnapshots(e.ctx, &rds.DescribeDBClusterSnapshotsInput{Filters: []types.Filter{{Name: aws.String("color"), Values: []string{"x"}}}})
			return err
		}, "InvalidParameterValue"},
		{"copy none", func() error {
			_, err := e.rds.CopyDBClusterSnapshot(e.ctx, &rds.CopyDBClusterSnapshotInput{SourceDBClusterSnapshotIdentifier: aws.String("ghost"), TargetDBClusterSnapshotIdentifier: aws.String("x")})
			return err
		}, "DBClusterSnapshotNotFoundFault"},
		{"copy onto existing", func() error {
			_, err := e.rds.CopyDBClusterSnapshot(e.ctx, &rds.CopyDBClusterSnapshotInput{SourceDBClusterSnapshotIdentifier: aws.String("snap1"), TargetDBClusterSnapshotIdentifier: aws.String("snap2")})
			return err
		}, "DBClusterSnapshotAlreadyExistsFault"},
		{"delete automated", func() error {
			_, err := e.rds.DeleteDBClusterSnapshot(e.ctx, &rds.DeleteDBClusterSnapshotInput{DBClusterSnapshotIdentifier: autoID})
			return err
		}, "InvalidDBClusterSnapshotStateFault"},
		{"restore other engine", func() error {
			_, err := e.rds.RestoreDBClusterFromSnapshot(e.ctx, &rds.RestoreDBClusterFromSnapshotInput{DBClusterIdentifier: aws.String("x"), SnapshotIdentifier: aws.String("snap1"), Engine: aws.String("aurora-mysql")})
			return err
		}, "InvalidParameterCombination"},
		{"restore onto existing cluster", func() error {
			_, err := e.rds.RestoreDBClusterFromSnapshot(e.ctx, &rds.RestoreDBClusterFromSnapshotInput{DBClusterIdentifier: aws.String("empty"), SnapshotIdentifier: aws.String("snap1"), Engine: aws.String("aurora-postgresql")})
			return err
		}, "DBClusterAlreadyExistsFault"},
		{"pitr of no cluster", func() error {
			_, err := e.rds.RestoreDBClusterToPointInTime(e.ctx, &rds.RestoreDBClusterToPointInTimeInput{DBClusterIdentifier: aws.String("x"), SourceDBClusterIdentifier: aws.String("ghost"), UseLatestRestorableTime: aws.Bool(true)})
			return err
		}, "DBClusterNotFoundFault"},
		{"pitr both times", func() error {
			_, err := e.rds.RestoreDBClusterToPointInTime(e.ctx, &rds.RestoreDBClusterToPointInTimeInput{DBClusterIdentifier: aws.String("x"), SourceDBClusterIdentifier: aws.String("src"), UseLatestRestorableTime: aws.Bool(true), RestoreToTime: aws.Time(between)})
			return err
		}, "InvalidParameterCombination"},
		{"pitr in the future", func() error {
			_, err := e.rds.RestoreDBClusterToPointInTime(e.ctx, &rds.RestoreDBClusterToPointInTimeInput{DBClusterIdentifier: aws.String("x"), SourceDBClusterIdentifier: aws.String("src"), RestoreToTime: aws.Time(time.Now().Add(time.Hour))})
			return err
		}, "InvalidRestoreFault"},
		{"pitr without writer", func() error {
			_, err := e.rds.RestoreDBClusterToPointInTime(e.ctx, &rds.RestoreDBClusterToPointInTimeInput{DBClusterIdentifier: aws.String("x"), SourceDBClusterIdentifier: aws.String("empty"), UseLatestRestorableTime: aws.Bool(true)})
			return err
		}, "InvalidDBClusterStateFault"},
		{"bad restore type", func() error {
			_, err := e.rds.RestoreDBClusterToPointInTime(e.ctx, &rds.RestoreDBClusterToPointInTimeInput{DBClusterIdentifier: aws.String("x"), SourceDBClusterIdentifier: aws.String("src"), UseLatestRestorableTime: aws.Bool(true), RestoreType: aws.String("fast")})
			return err
		}, "InvalidParameterValue"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.call(), tc.code) })
	}

	if _, err := e.rds.RestoreDBClusterFromSnapshot(e.ctx, &rds.RestoreDBClusterFromSnapshotInput{
		DBClusterIdentifier: aws.String("fromsnap"), SnapshotIdentifier: aws.String(arnPrefix + "cluster-snapshot:snap2"), Engine: aws.String("aurora-postgresql"),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rds.RestoreDBClusterToPointInTime(e.ctx, &rds.RestoreDBClusterToPointInTimeInput{
		DBClusterIdentifier: aws.String("pitr"), SourceDBClusterIdentifier: aws.String("src"), RestoreToTime: aws.Time(between),
	}); err != nil {
		t.Fatal(err)
	}
	r, err := e.rds.RestoreDBClusterToPointInTime(e.ctx, &rds.RestoreDBClusterToPointInTimeInput{
		DBClusterIdentifier: aws.String("clone"), SourceDBClusterIdentifier: aws.String("src"), RestoreType: aws.String("copy-on-write"), UseLatestRestorableTime: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	if c := r.DBCluster; aws.ToString(c.DatabaseName) != "app" || aws.ToString(c.MasterUsername) != "master" || len(c.DBClusterMembers) != 0 {
		t.Fatalf("clone %+v", c)
	}
	// Its data is still to be copied into the restored cluster's writer.
	_, err = e.rds.DeleteDBClusterSnapshot(e.ctx, &rds.DeleteDBClusterSnapshotInput{DBClusterSnapshotIdentifier: aws.String("snap2")})
	wantCode(t, err, "InvalidDBClusterSnapshotStateFault")
	for _, id := range []string{"fromsnap", "pitr", "clone"} {
		if _, err := e.rds.CreateDBInstance(e.ctx, memberInput(id+"-w", id)); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"fromsnap", "pitr", "clone"} {
		e.waitStatus(t, id+"-w", "available")
	}
	wantRows(t, e.rows(t, "fromsnap-w", "app"), 1, 2)
	if _, err := e.rds.DeleteDBClusterSnapshot(e.ctx, &rds.DeleteDBClusterSnapshotInput{DBClusterSnapshotIdentifier: aws.String("snap2")}); err != nil {
		t.Fatal(err)
	}
	wantRows(t, e.rows(t, "pitr-w", "app"), 1)
	wantRows(t, e.rows(t, "clone-w", "app"), 1, 2)
	// The clone and its source diverge.
	e.sql(t, "clone-w", "app", "INSERT INTO items VALUES (3)")
	e.sql(t, "src-w", "app", "INSERT INTO items VALUES (4)")
	wantRows(t, e.rows(t, "clone-w", "app"), 1, 2, 3)
	wantRows(t, e.rows(t, "src-w", "app"), 1, 2, 4)

	// A restore from the automated cluster snapshot has what it had.
	if _, err := e.rds.RestoreDBClusterFromSnapshot(e.ctx, &rds.RestoreDBClusterFromSnapshotInput{
		DBClusterIdentifier: aws.String("fromauto"), SnapshotIdentifier: autoID, Engine: aws.String("aurora-postgresql"),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rds.DeleteDBClusterSnapshot(e.ctx, &rds.DeleteDBClusterSnapshotInput{DBClusterSnapshotIdentifier: aws.String("snap1")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.rds.DescribeDBClusterSnapshots(e.ctx, &rds.DescribeDBClusterSnapshotsInput{DBClusterSnapshotIdentifier: aws.String("snap1")})
	wantCode(t, err, "DBClusterSnapshotNotFoundFault")
	e.writer(t, "fromauto", "fromauto-w")
	// The first automated backup was taken before the table existed.
	e.sql(t, "fromauto-w", "app", "SELECT 1")
}
