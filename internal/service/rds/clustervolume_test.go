package rds_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
)

// automatedOf lists cluster id's automated cluster snapshots.
func (e *testEnv) automatedOf(t *testing.T, id string) []string {
	t.Helper()
	out, err := e.rds.DescribeDBClusterSnapshots(e.ctx, &rds.DescribeDBClusterSnapshotsInput{DBClusterIdentifier: aws.String(id), SnapshotType: aws.String("automated")})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range out.DBClusterSnapshots {
		ids = append(ids, aws.ToString(s.DBClusterSnapshotIdentifier))
	}
	return ids
}

// TestClusterVolume: a cluster whose members were all deleted keeps its
// data, as Aurora's storage outlives its instances. A new writer starts
// from it; DeleteDBCluster's final snapshot is a copy of it, restorable
// with RestoreDBClusterFromSnapshot; the automated cluster snapshots stay
// until the cluster is deleted; SkipFinalSnapshot removes the volume; the
// request's errors are AWS's.
func TestClusterVolume(t *testing.T) {
	t.Parallel()
	if !hasPostgres() {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
	}
	e := newEnv(t)
	for _, id := range []string{"vol", "tmp", "bare"} {
		in := clusterInput(id, "")
		in.DatabaseName, in.MasterUserPassword = aws.String("app"), aws.String("s3cret-pass")
		if id == "vol" {
			in.BackupRetentionPeriod, in.DeletionProtection = aws.Int32(7), aws.Bool(true)
		}
		if _, err := e.rds.CreateDBCluster(e.ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	e.writer(t, "vol", "vol-1")
	e.sql(t, "vol-1", "app", "CREATE TABLE items (id int PRIMARY KEY)", "INSERT INTO items VALUES (1)")
	for deadline := time.Now().Add(60 * time.Second); len(e.automatedOf(t, "vol")) == 0; time.Sleep(500 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no automated cluster snapshot of vol")
		}
	}
	e.deleteInstance(t, "vol-1")
	if got := e.automatedOf(t, "vol"); len(got) != 1 || !strings.HasPrefix(got[0], "rds:vol-") {
		t.Fatalf("automated cluster snapshots without members %v, want the writer's kept", got)
	}

	// A new writer starts from the cluster's data.
	e.writer(t, "vol", "vol-2")
	if got := e.rows(t, "vol-2", "app"); !slices.Equal(got, []int{1}) {
		t.Fatalf("the new writer's rows %v, want the volume's [1]", got)
	}
	e.sql(t, "vol-2", "app", "INSERT INTO items VALUES (2)")
	if _, err := e.rds.CreateDBClusterSnapshot(e.ctx, &rds.CreateDBClusterSnapshotInput{DBClusterIdentifier: aws.String("vol"), DBClusterSnapshotIdentifier: aws.String("taken")}); err != nil {
		t.Fatal(err)
	}
	e.waitClusterSnapshot(t, "taken", "available")
	e.deleteInstance(t, "vol-2")

	// tmp: a volume SkipFinalSnapshot removes.
	e.writer(t, "tmp", "tmp-1")
	e.sql(t, "tmp-1", "app", "CREATE TABLE items (id int PRIMARY KEY)")
	e.deleteInstance(t, "tmp-1")
	volumes, _ := filepath.Glob(filepath.Join(e.dir, "rds", "*", "*", "_clustersnapshots", "_volume-"+aws.ToString(e.cluster(t, "tmp").DbClusterResourceId)))
	if len(volumes) != 1 {
		t.Fatalf("tmp's volume on disk: %v", volumes)
	}

	for _, tc := range []struct {
		name string
		in   rds.DeleteDBClusterInput
		code string
	}{
		{"neither final snapshot nor skip", rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String("tmp")}, "InvalidParameterCombination"},
		{"both", rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String("tmp"), SkipFinalSnapshot: aws.Bool(true), FinalDBSnapshotIdentifier: aws.String("f")}, "InvalidParameterCombination"},
		{"bad final snapshot identifier", rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String("tmp"), FinalDBSnapshotIdentifier: aws.String("1-bad")}, "InvalidParameterValue"},
		{"final snapshot exists", rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String("tmp"), FinalDBSnapshotIdentifier: aws.String("taken")}, "DBClusterSnapshotAlreadyExistsFault"},
		{"deletion protection", rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String("vol"), FinalDBSnapshotIdentifier: aws.String("f")}, "InvalidParameterCombination"},
		{"final snapshot of a cluster that never had data", rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String("bare"), FinalDBSnapshotIdentifier: aws.String("f")}, "InvalidDBClusterStateFault"},
		{"no such cluster", rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String("ghost"), SkipFinalSnapshot: aws.Bool(true)}, "DBClusterNotFoundFault"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.rds.DeleteDBCluster(e.ctx, &tc.in)
			wantCode(t, err, tc.code)
		})
	}

	if _, err := e.rds.DeleteDBCluster(e.ctx, &rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String("tmp"), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if _, err := os.Stat(volumes[0]); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("tmp's volume still on disk after DeleteDBCluster with SkipFinalSnapshot")
		}
	}

	// vol: the final snapshot of its volume, restorable.
	if _, err := e.rds.ModifyDBCluster(e.ctx, &rds.ModifyDBClusterInput{DBClusterIdentifier: aws.String("vol"), DeletionProtection: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	out, err := e.rds.DeleteDBCluster(e.ctx, &rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String("vol"), FinalDBSnapshotIdentifier: aws.String("Vol-Final")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.DBCluster.Status) != "deleting" {
		t.Fatalf("deleted cluster's status %q", aws.ToString(out.DBCluster.Status))
	}
	_, err = e.rds.DescribeDBClusters(e.ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String("vol")})
	wantCode(t, err, "DBClusterNotFoundFault")
	final := e.waitClusterSnapshot(t, "vol-final", "available")
	if aws.ToString(final.SnapshotType) != "manual" || aws.ToString(final.DBClusterIdentifier) != "vol" || aws.ToString(final.Engine) != "aurora-postgresql" {
		t.Fatalf("final snapshot %+v", final)
	}
	if got := e.automatedOf(t, "vol"); len(got) != 0 {
		t.Fatalf("automated cluster snapshots after the cluster's deletion: %v", got)
	}
	if _, err := e.rds.RestoreDBClusterFromSnapshot(e.ctx, &rds.RestoreDBClusterFromSnapshotInput{DBClusterIdentifier: aws.String("back"), SnapshotIdentifier: aws.String("vol-final"), Engine: aws.String("aurora-postgresql")}); err != nil {
		t.Fatal(err)
	}
	e.writer(t, "back", "back-1")
	if got := e.rows(t, "back-1", "app"); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("restored from the final snapshot: rows %v, want [1 2]", got)
	}
	// The cluster's automated backups went with it (DeleteAutomatedBackups
	// defaults to true).
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		snaps, err := e.rds.DescribeDBSnapshots(e.ctx, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String("vol-2"), SnapshotType: aws.String("automated")})
		if err != nil {
			t.Fatal(err)
		}
		if len(snaps.DBSnapshots) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the deleted cluster's writer's automated backups remain: %d", len(snaps.DBSnapshots))
		}
	}
}
