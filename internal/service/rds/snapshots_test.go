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
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// waitSnapshot polls until snapshot id has status want, for up to 90 s.
func (e *testEnv) waitSnapshot(t *testing.T, id, want string) types.DBSnapshot {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		out, err := e.rds.DescribeDBSnapshots(e.ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		s := out.DBSnapshots[0]
		if last = aws.ToString(s.Status); last == want {
			return s
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("snapshot %s: status %q, want %q after 90s; health %v", id, last, want, e.srv.RDS().Health())
	return types.DBSnapshot{}
}

// sql runs statements on instance id's database db as the master user.
func (e *testEnv) sql(t *testing.T, id, db string, stmts ...string) {
	t.Helper()
	addr, err := e.srv.RDS().Loopback(e.ctx, "000000000000", "us-east-1", id)
	if err != nil || addr == "" {
		t.Fatalf("loopback of %s: %q %v", id, addr, err)
	}
	c, err := connect(t, addr, "s3cret-pass", db)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(e.ctx)
	for _, s := range stmts {
		if _, err := c.Exec(e.ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// rows returns the ids in table items of instance id's database db.
func (e *testEnv) rows(t *testing.T, id, db string) []int {
	t.Helper()
	addr, err := e.srv.RDS().Loopback(e.ctx, "000000000000", "us-east-1", id)
	if err != nil || addr == "" {
		t.Fatalf("loopback of %s: %q %v", id, addr, err)
	}
	c, err := connect(t, addr, "s3cret-pass", db)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(e.ctx)
	rs, err := c.Query(e.ctx, "SELECT id FROM items ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []int
	for rs.Next() {
		var v int
		if err := rs.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func wantRows(t *testing.T, got []int, want ...int) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("rows = %v, want %v", got, want)
	}
}

func (e *testEnv) deleteInstance(t *testing.T, id string) {
	t.Helper()
	if _, err := e.rds.DeleteDBInstance(e.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String(id), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, id, "")
}

func TestSnapshotRestore(t *testing.T) {
	t.Parallel()
	if !hasPostgres() {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
	}
	e := newEnv(t)
	in := createInput("snap-src")
	in.DBName = aws.String("app")
	in.BackupRetentionPeriod = aws.Int32(0)
	in.CopyTagsToSnapshot = aws.Bool(true)
	in.Tags = []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}
	if _, err := e.rds.CreateDBInstance(e.ctx, in); err != nil {
		t.Fatal(err)
	}
	_, err := e.rds.CreateDBSnapshot(e.ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("snap-src"), DBSnapshotIdentifier: aws.String("too-early")})
	wantCode(t, err, "InvalidDBInstanceState")
	e.waitStatus(t, "snap-src", "available")
	e.sql(t, "snap-src", "app", "CREATE TABLE items (id int PRIMARY KEY)", "INSERT INTO items VALUES (1), (2)")

	out, err := e.rds.CreateDBSnapshot(e.ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("snap-src"), DBSnapshotIdentifier: aws.String("First-Snap")})
	if err != nil {
		t.Fatal(err)
	}
	if s := out.DBSnapshot; aws.ToString(s.Status) != "creating" || aws.ToString(s.DBSnapshotIdentifier) != "first-snap" {
		t.Fatalf("created %+v", s)
	}
	for _, tc := range []struct {
		name     string
		db, snap string
		code     string
	}{
		{"exists", "snap-src", "first-snap", "DBSnapshotAlreadyExists"},
		{"no instance", "ghost", "other", "DBInstanceNotFound"},
		{"bad id", "snap-src", "1snap", "InvalidParameterValue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.rds.CreateDBSnapshot(e.ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String(tc.db), DBSnapshotIdentifier: aws.String(tc.snap)})
			wantCode(t, err, tc.code)
		})
	}
	snap := e.waitSnapshot(t, "first-snap", "available")
	src, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("snap-src")})
	if err != nil {
		t.Fatal(err)
	}
	db := src.DBInstances[0]
	if aws.ToString(snap.DBSnapshotArn) != "arn:aws:rds:us-east-1:000000000000:snapshot:first-snap" ||
		aws.ToString(snap.SnapshotType) != "manual" || aws.ToString(snap.Engine) != "postgres" ||
		aws.ToString(snap.EngineVersion) != aws.ToString(db.EngineVersion) || aws.ToString(snap.MasterUsername) != "master" ||
		aws.ToInt32(snap.Port) != 5432 || aws.ToInt32(snap.AllocatedStorage) != 20 || aws.ToInt32(snap.PercentProgress) != 100 ||
		aws.ToBool(snap.Encrypted) || aws.ToString(snap.StorageType) != "gp2" || aws.ToString(snap.DBInstanceIdentifier) != "snap-src" ||
		aws.ToString(snap.DbiResourceId) != aws.ToString(db.DbiResourceId) || aws.ToString(snap.AvailabilityZone) != "us-east-1a" ||
		snap.SnapshotCreateTime == nil || snap.InstanceCreateTime == nil || !snap.InstanceCreateTime.Equal(aws.ToTime(db.InstanceCreateTime)) ||
		len(snap.TagList) != 1 || aws.ToString(snap.TagList[0].Key) != "team" {
		t.Fatalf("snapshot = %+v", snap)
	}
	e.waitStatus(t, "snap-src", "available")
	e.sql(t, "snap-src", "app", "INSERT INTO items VALUES (3)")

	// Restore: a new instance whose data is the snapshot's.
	r, err := e.rds.RestoreDBInstanceFromDBSnapshot(e.ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{
		DBInstanceIdentifier: aws.String("snap-dst"), DBSnapshotIdentifier: aws.String("first-snap"),
		DBInstanceClass: aws.String("db.t3.small"), Port: aws.Int32(6543),
		Tags: []types.Tag{{Key: aws.String("restored"), Value: aws.String("yes")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := r.DBInstance; aws.ToString(d.DBInstanceStatus) != "creating" || aws.ToString(d.MasterUsername) != "master" || aws.ToString(d.DBName) != "app" ||
		aws.ToString(d.DBInstanceClass) != "db.t3.small" || aws.ToString(d.EngineVersion) != aws.ToString(db.EngineVersion) {
		t.Fatalf("restored = %+v", d)
	}
	_, err = e.rds.RestoreDBInstanceFromDBSnapshot(e.ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{DBInstanceIdentifier: aws.String("snap-dst"), DBSnapshotIdentifier: aws.String("first-snap")})
	wantCode(t, err, "DBInstanceAlreadyExists")
	_, err = e.rds.RestoreDBInstanceFromDBSnapshot(e.ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{DBInstanceIdentifier: aws.String("other"), DBSnapshotIdentifier: aws.String("ghost")})
	wantCode(t, err, "DBSnapshotNotFound")
	e.waitStatus(t, "snap-dst", "available")
	wantRows(t, e.rows(t, "snap-dst", "app"), 1, 2)
	wantRows(t, e.rows(t, "snap-src", "app"), 1, 2, 3)
	d, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("snap-dst")})
	if err != nil {
		t.Fatal(err)
	}
	if ep := d.DBInstances[0].Endpoint; ep == nil || aws.ToInt32(ep.Port) != 6543 {
		t.Fatalf("endpoint = %+v", ep)
	}
	e.deleteInstance(t, "snap-dst")

	// Describe by instance, type and filters; pagination.
	if _, err := e.rds.CopyDBSnapshot(e.ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String("arn:aws:rds:us-east-1:000000000000:snapshot:first-snap"), TargetDBSnapshotIdentifier: aws.String("copy-snap"), CopyTags: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.rds.CopyDBSnapshot(e.ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String("first-snap"), TargetDBSnapshotIdentifier: aws.String("copy-snap")})
	wantCode(t, err, "DBSnapshotAlreadyExists")
	_, err = e.rds.CopyDBSnapshot(e.ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String("ghost"), TargetDBSnapshotIdentifier: aws.String("copy-2")})
	wantCode(t, err, "DBSnapshotNotFound")
	cp := e.waitSnapshot(t, "copy-snap", "available")
	if aws.ToString(cp.SnapshotType) != "manual" || aws.ToString(cp.DBInstanceIdentifier) != "snap-src" || len(cp.TagList) != 1 {
		t.Fatalf("copy = %+v", cp)
	}
	for _, tc := range []struct {
		name string
		in   rds.DescribeDBSnapshotsInput
		want []string
	}{
		{"by instance", rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String("snap-src")}, []string{"copy-snap", "first-snap"}},
		{"manual", rds.DescribeDBSnapshotsInput{SnapshotType: aws.String("manual")}, []string{"copy-snap", "first-snap"}},
		{"automated", rds.DescribeDBSnapshotsInput{SnapshotType: aws.String("automated")}, nil},
		{"other instance", rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String("nope")}, nil},
		{"filter id", rds.DescribeDBSnapshotsInput{Filters: []types.Filter{{Name: aws.String("db-snapshot-id"), Values: []string{"copy-snap"}}}}, []string{"copy-snap"}},
		{"filter engine", rds.DescribeDBSnapshotsInput{Filters: []types.Filter{{Name: aws.String("engine"), Values: []string{"mysql"}}}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.rds.DescribeDBSnapshots(e.ctx, &tc.in)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range out.DBSnapshots {
				got = append(got, aws.ToString(s.DBSnapshotIdentifier))
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("snapshots = %v, want %v", got, tc.want)
			}
		})
	}
	_, err = e.rds.DescribeDBSnapshots(e.ctx, &rds.DescribeDBSnapshotsInput{Filters: []types.Filter{{Name: aws.String("color"), Values: []string{"red"}}}})
	wantCode(t, err, "InvalidParameterValue")
	_, err = e.rds.DescribeDBSnapshots(e.ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String("ghost")})
	wantCode(t, err, "DBSnapshotNotFound")
	_, err = e.rds.DescribeDBSnapshots(e.ctx, &rds.DescribeDBSnapshotsInput{MaxRecords: aws.Int32(5)})
	wantCode(t, err, "InvalidParameterValue")

	// Deleting the source snapshot removes its data; the copy has its own.
	dir := filepath.Join(e.dir, "rds", "000000000000", "us-east-1", "_snapshots")
	if _, err := os.Stat(filepath.Join(dir, "first-snap", "data", "PG_VERSION")); err != nil {
		t.Fatalf("snapshot data: %v", err)
	}
	del, err := e.rds.DeleteDBSnapshot(e.ctx, &rds.DeleteDBSnapshotInput{DBSnapshotIdentifier: aws.String("first-snap")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(del.DBSnapshot.Status) != "deleted" {
		t.Fatalf("deleted status %q", aws.ToString(del.DBSnapshot.Status))
	}
	_, err = e.rds.DeleteDBSnapshot(e.ctx, &rds.DeleteDBSnapshotInput{DBSnapshotIdentifier: aws.String("first-snap")})
	wantCode(t, err, "DBSnapshotNotFound")
	waitGone(t, filepath.Join(dir, "first-snap"))

	// Delete with a final snapshot, then restore from it; manual snapshots
	// outlive their instance.
	_, err = e.rds.DeleteDBInstance(e.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("snap-src"), SkipFinalSnapshot: aws.Bool(false)})
	wantCode(t, err, "InvalidParameterCombination")
	if !strings.Contains(err.Error(), "FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.") {
		t.Fatalf("message: %v", err)
	}
	_, err = e.rds.DeleteDBInstance(e.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("snap-src"), FinalDBSnapshotIdentifier: aws.String("copy-snap")})
	wantCode(t, err, "DBSnapshotAlreadyExists")
	if _, err := e.rds.DeleteDBInstance(e.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("snap-src"), FinalDBSnapshotIdentifier: aws.String("last-words")}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "snap-src", "")
	final := e.waitSnapshot(t, "last-words", "available")
	if aws.ToString(final.DBInstanceIdentifier) != "snap-src" || aws.ToString(final.SnapshotType) != "manual" {
		t.Fatalf("final snapshot = %+v", final)
	}
	e.waitSnapshot(t, "copy-snap", "available")
	if _, err := e.rds.RestoreDBInstanceFromDBSnapshot(e.ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{DBInstanceIdentifier: aws.String("snap-src"), DBSnapshotIdentifier: aws.String("last-words")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rds.RestoreDBInstanceFromDBSnapshot(e.ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{DBInstanceIdentifier: aws.String("from-copy"), DBSnapshotIdentifier: aws.String("copy-snap")}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "snap-src", "available")
	e.waitStatus(t, "from-copy", "available")
	wantRows(t, e.rows(t, "snap-src", "app"), 1, 2, 3)
	wantRows(t, e.rows(t, "from-copy", "app"), 1, 2)
	e.deleteInstance(t, "snap-src")
	e.deleteInstance(t, "from-copy")
}

func waitGone(t *testing.T, path string) {
	t.Helper()
	for range 100 {
		if _, err := os.Stat(path); os.IsNotExist(err) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s still exists", path)
}

func TestPointInTimeRestore(t *testing.T) {
	t.Parallel()
	if !hasPostgres() {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
	}
	e := newEnv(t)
	in := createInput("pitr-src")
	in.DBName = aws.String("app")
	in.BackupRetentionPeriod = aws.Int32(7)
	if _, err := e.rds.CreateDBInstance(e.ctx, in); err != nil {
		t.Fatal(err)
	}
	noPITR := createInput("no-pitr")
	noPITR.BackupRetentionPeriod = aws.Int32(0)
	if _, err := e.rds.CreateDBInstance(e.ctx, noPITR); err != nil {
		t.Fatal(err)
	}
	// The first automated backup shows as backing-up after creating.
	e.waitStatus(t, "pitr-src", "backing-up")
	e.waitStatus(t, "pitr-src", "available")
	auto, err := e.rds.DescribeDBSnapshots(e.ctx, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String("pitr-src"), SnapshotType: aws.String("automated")})
	if err != nil {
		t.Fatal(err)
	}
	if len(auto.DBSnapshots) != 1 || !strings.HasPrefix(aws.ToString(auto.DBSnapshots[0].DBSnapshotIdentifier), "rds:pitr-src-") ||
		aws.ToString(auto.DBSnapshots[0].Status) != "available" {
		t.Fatalf("automated backups = %+v", auto.DBSnapshots)
	}
	_, err = e.rds.DeleteDBSnapshot(e.ctx, &rds.DeleteDBSnapshotInput{DBSnapshotIdentifier: auto.DBSnapshots[0].DBSnapshotIdentifier})
	wantCode(t, err, "InvalidDBSnapshotState")

	e.sql(t, "pitr-src", "app", "CREATE TABLE items (id int PRIMARY KEY)", "INSERT INTO items VALUES (1)")
	time.Sleep(1500 * time.Millisecond)
	between := time.Now().UTC()
	time.Sleep(1500 * time.Millisecond)
	e.sql(t, "pitr-src", "app", "INSERT INTO items VALUES (2)")
	committed := time.Now().UTC()

	// LatestRestorableTime follows the WAL archive.
	deadline := time.Now().Add(90 * time.Second)
	for {
		d, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("pitr-src")})
		if err != nil {
			t.Fatal(err)
		}
		if l := d.DBInstances[0].LatestRestorableTime; l != nil && !l.Before(committed) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("LatestRestorableTime %v never reached %v", d.DBInstances[0].LatestRestorableTime, committed)
		}
		time.Sleep(time.Second)
	}

	for _, tc := range []struct {
		name string
		in   rds.RestoreDBInstanceToPointInTimeInput
		code string
	}{
		{"no source", rds.RestoreDBInstanceToPointInTimeInput{SourceDBInstanceIdentifier: aws.String("ghost"), UseLatestRestorableTime: aws.Bool(true)}, "DBInstanceNotFound"},
		{"retention 0", rds.RestoreDBInstanceToPointInTimeInput{SourceDBInstanceIdentifier: aws.String("no-pitr"), UseLatestRestorableTime: aws.Bool(true)}, "PointInTimeRestoreNotEnabled"},
		{"future", rds.RestoreDBInstanceToPointInTimeInput{SourceDBInstanceIdentifier: aws.String("pitr-src"), RestoreTime: aws.Time(time.Now().Add(time.Hour))}, "InvalidRestoreFault"},
		{"before backups", rds.RestoreDBInstanceToPointInTimeInput{SourceDBInstanceIdentifier: aws.String("pitr-src"), RestoreTime: aws.Time(time.Now().Add(-time.Hour))}, "InvalidRestoreFault"},
		{"both", rds.RestoreDBInstanceToPointInTimeInput{SourceDBInstanceIdentifier: aws.String("pitr-src"), RestoreTime: aws.Time(between), UseLatestRestorableTime: aws.Bool(true)}, "InvalidParameterCombination"},
		{"target exists", rds.RestoreDBInstanceToPointInTimeInput{SourceDBInstanceIdentifier: aws.String("pitr-src"), UseLatestRestorableTime: aws.Bool(true), TargetDBInstanceIdentifier: aws.String("no-pitr")}, "DBInstanceAlreadyExists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.in.TargetDBInstanceIdentifier == nil {
				tc.in.TargetDBInstanceIdentifier = aws.String("never")
			}
			_, err := e.rds.RestoreDBInstanceToPointInTime(e.ctx, &tc.in)
			wantCode(t, err, tc.code)
		})
	}

	if _, err := e.rds.RestoreDBInstanceToPointInTime(e.ctx, &rds.RestoreDBInstanceToPointInTimeInput{
		SourceDBInstanceIdentifier: aws.String("pitr-src"), TargetDBInstanceIdentifier: aws.String("pitr-latest"), UseLatestRestorableTime: aws.Bool(true),
	}); err != nil {
		t.Fatal(err)
	}
	// A new master password: a restore to a time before it has the
	// password the data had then.
	if _, err := e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("pitr-src"), MasterUserPassword: aws.String("n3w-pass-word"), ApplyImmediately: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); ; {
		d, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("pitr-src")})
		if err != nil {
			t.Fatal(err)
		}
		if db := d.DBInstances[0]; aws.ToString(db.DBInstanceStatus) == "available" && (db.PendingModifiedValues == nil || db.PendingModifiedValues.MasterUserPassword == nil) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the new master password was never applied")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := e.rds.RestoreDBInstanceToPointInTime(e.ctx, &rds.RestoreDBInstanceToPointInTimeInput{
		SourceDBInstanceIdentifier: aws.String("pitr-src"), TargetDBInstanceIdentifier: aws.String("pitr-between"), RestoreTime: aws.Time(between),
	}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "pitr-latest", "available")
	e.waitStatus(t, "pitr-between", "available")
	wantRows(t, e.rows(t, "pitr-latest", "app"), 1, 2)
	wantRows(t, e.rows(t, "pitr-between", "app"), 1)
	// The restored instance is a primary of its own.
	e.sql(t, "pitr-between", "app", "INSERT INTO items VALUES (10)")
	wantRows(t, e.rows(t, "pitr-between", "app"), 1, 10)

	// The restore window, as DescribeDBInstanceAutomatedBackups shows it.
	ab, err := e.rds.DescribeDBInstanceAutomatedBackups(e.ctx, &rds.DescribeDBInstanceAutomatedBackupsInput{DBInstanceIdentifier: aws.String("pitr-src")})
	if err != nil {
		t.Fatal(err)
	}
	if len(ab.DBInstanceAutomatedBackups) != 1 {
		t.Fatalf("automated backups: %+v", ab.DBInstanceAutomatedBackups)
	}
	a := ab.DBInstanceAutomatedBackups[0]
	if w := a.RestoreWindow; aws.ToString(a.Status) != "active" || aws.ToInt32(a.BackupRetentionPeriod) != 7 || w == nil ||
		w.EarliestTime == nil || w.EarliestTime.After(between) || w.LatestTime == nil || w.LatestTime.Before(committed) ||
		!strings.HasPrefix(aws.ToString(a.DBInstanceAutomatedBackupsArn), "arn:aws:rds:us-east-1:000000000000:auto-backup:ab-") {
		t.Fatalf("automated backup = %+v, window %+v", a, a.RestoreWindow)
	}
	_, err = e.rds.DescribeDBInstanceAutomatedBackups(e.ctx, &rds.DescribeDBInstanceAutomatedBackupsInput{DBInstanceIdentifier: aws.String("ghost")})
	wantCode(t, err, "DBInstanceAutomatedBackupNotFound")

	// DeleteAutomatedBackups=false retains them after the instance.
	if _, err := e.rds.DeleteDBInstance(e.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("pitr-latest"), SkipFinalSnapshot: aws.Bool(true), DeleteAutomatedBackups: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "pitr-latest", "")
	ab, err = e.rds.DescribeDBInstanceAutomatedBackups(e.ctx, &rds.DescribeDBInstanceAutomatedBackupsInput{DBInstanceIdentifier: aws.String("pitr-latest")})
	if err != nil {
		t.Fatal(err)
	}
	if len(ab.DBInstanceAutomatedBackups) != 1 || aws.ToString(ab.DBInstanceAutomatedBackups[0].Status) != "retained" {
		t.Fatalf("retained automated backups: %+v", ab.DBInstanceAutomatedBackups)
	}
	kept, err := e.rds.DescribeDBSnapshots(e.ctx, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String("pitr-latest"), SnapshotType: aws.String("automated")})
	if err != nil {
		t.Fatal(err)
	}
	if len(kept.DBSnapshots) != 1 || aws.ToString(kept.DBSnapshots[0].Status) != "available" {
		t.Fatalf("retained automated snapshots: %+v", kept.DBSnapshots)
	}

	// Deleting the instance deletes its automated backups by default.
	e.deleteInstance(t, "pitr-src")
	left, err := e.rds.DescribeDBSnapshots(e.ctx, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String("pitr-src")})
	if err != nil {
		t.Fatal(err)
	}
	if len(left.DBSnapshots) != 0 {
		t.Fatalf("automated backups left: %+v", left.DBSnapshots)
	}
	_, err = e.rds.DescribeDBInstanceAutomatedBackups(e.ctx, &rds.DescribeDBInstanceAutomatedBackupsInput{DBInstanceIdentifier: aws.String("pitr-src")})
	wantCode(t, err, "DBInstanceAutomatedBackupNotFound")
	for _, id := range []string{"pitr-between", "no-pitr"} {
		e.deleteInstance(t, id)
	}
}

func TestSnapshotsSurviveRestart(t *testing.T) {
	t.Parallel()
	if !hasPostgres() {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
	}
	dir := t.TempDir()
	e := newEnvIn(t, dir)
	in := createInput("keep-snap")
	in.BackupRetentionPeriod = aws.Int32(0)
	if _, err := e.rds.CreateDBInstance(e.ctx, in); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "keep-snap", "available")
	e.sql(t, "keep-snap", "postgres", "CREATE TABLE items (id int)", "INSERT INTO items VALUES (5)")
	if _, err := e.rds.CreateDBSnapshot(e.ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("keep-snap"), DBSnapshotIdentifier: aws.String("done")}); err != nil {
		t.Fatal(err)
	}
	e.waitSnapshot(t, "done", "available")
	e.waitStatus(t, "keep-snap", "available")
	// Stopped while (likely) still creating: taken again after the restart.
	if _, err := e.rds.CreateDBSnapshot(e.ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("keep-snap"), DBSnapshotIdentifier: aws.String("interrupted")}); err != nil {
		t.Fatal(err)
	}
	e.close()

	e2 := newEnvIn(t, dir)
	e2.waitSnapshot(t, "done", "available")
	e2.waitSnapshot(t, "interrupted", "available")
	e2.waitStatus(t, "keep-snap", "available")
	if _, err := e2.rds.RestoreDBInstanceFromDBSnapshot(e2.ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{DBInstanceIdentifier: aws.String("again"), DBSnapshotIdentifier: aws.String("interrupted")}); err != nil {
		t.Fatal(err)
	}
	e2.waitStatus(t, "again", "available")
	wantRows(t, e2.rows(t, "again", "postgres"), 5)
	e2.deleteInstance(t, "again")

	// StopDBInstance with a snapshot takes it before stopping; a stopped
	// instance's final snapshot is a copy of its data directory.
	e2.sql(t, "keep-snap", "postgres", "INSERT INTO items VALUES (6)")
	if _, err := e2.rds.StopDBInstance(e2.ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String("keep-snap"), DBSnapshotIdentifier: aws.String("done")}); err == nil {
		t.Fatal("StopDBInstance reused an existing snapshot identifier")
	} else {
		wantCode(t, err, "DBSnapshotAlreadyExists")
	}
	if _, err := e2.rds.StopDBInstance(e2.ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String("keep-snap"), DBSnapshotIdentifier: aws.String("at-stop")}); err != nil {
		t.Fatal(err)
	}
	e2.waitStatus(t, "keep-snap", "stopped")
	e2.waitSnapshot(t, "at-stop", "available")
	if _, err := e2.rds.DeleteDBInstance(e2.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("keep-snap"), FinalDBSnapshotIdentifier: aws.String("final-stopped")}); err != nil {
		t.Fatal(err)
	}
	e2.waitStatus(t, "keep-snap", "")
	e2.waitSnapshot(t, "final-stopped", "available")
	for _, snap := range []string{"at-stop", "final-stopped"} {
		if _, err := e2.rds.RestoreDBInstanceFromDBSnapshot(e2.ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{DBInstanceIdentifier: aws.String(snap), DBSnapshotIdentifier: aws.String(snap)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"at-stop", "final-stopped"} {
		e2.waitStatus(t, id, "available")
		wantRows(t, e2.rows(t, id, "postgres"), 5, 6)
		e2.deleteInstance(t, id)
	}
}

// A snapshot keeps its instance's VPC, and restores into a DB subnet group
// (placement in the VPC itself is test/dataplane's TestRDSSnapshotInVPC).
func TestSnapshotSubnetGroup(t *testing.T) {
	t.Parallel()
	if !hasPostgres() {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
	}
	e := newEnv(t)
	subnets := e.vpc(t, "10.7", "us-east-1a", "us-east-1b")
	if _, err := e.rds.CreateDBSubnetGroup(e.ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("snapnet"), DBSubnetGroupDescription: aws.String("d"), SubnetIds: subnets}); err != nil {
		t.Fatal(err)
	}
	in := createInput("vpc-src")
	in.DBSubnetGroupName = aws.String("snapnet")
	in.BackupRetentionPeriod = aws.Int32(0)
	if _, err := e.rds.CreateDBInstance(e.ctx, in); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "vpc-src", "available")
	e.sql(t, "vpc-src", "postgres", "CREATE TABLE items (id int)", "INSERT INTO items VALUES (42)")
	if _, err := e.rds.CreateDBSnapshot(e.ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("vpc-src"), DBSnapshotIdentifier: aws.String("vpc-snap")}); err != nil {
		t.Fatal(err)
	}
	snap := e.waitSnapshot(t, "vpc-snap", "available")
	g, err := e.rds.DescribeDBSubnetGroups(e.ctx, &rds.DescribeDBSubnetGroupsInput{DBSubnetGroupName: aws.String("snapnet")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(snap.VpcId) != aws.ToString(g.DBSubnetGroups[0].VpcId) || aws.ToString(snap.VpcId) == "" {
		t.Fatalf("snapshot VpcId %q, group's %q", aws.ToString(snap.VpcId), aws.ToString(g.DBSubnetGroups[0].VpcId))
	}
	if _, err := e.rds.RestoreDBInstanceFromDBSnapshot(e.ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{DBInstanceIdentifier: aws.String("vpc-dst"), DBSnapshotIdentifier: aws.String("vpc-snap"), DBSubnetGroupName: aws.String("snapnet")}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "vpc-dst", "available")
	d, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("vpc-dst")})
	if err != nil {
		t.Fatal(err)
	}
	if sg := d.DBInstances[0].DBSubnetGroup; sg == nil || aws.ToString(sg.DBSubnetGroupName) != "snapnet" {
		t.Fatalf("subnet group = %+v", sg)
	}
	wantRows(t, e.rows(t, "vpc-dst", "postgres"), 42)
	e.deleteInstance(t, "vpc-dst")
	e.deleteInstance(t, "vpc-src")
	if _, err := e.rds.DeleteDBSubnetGroup(e.ctx, &rds.DeleteDBSubnetGroupInput{DBSubnetGroupName: aws.String("snapnet")}); err != nil {
		t.Fatal(err)
	}
}
