package rds_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
)

func hasMariaBackup() bool {
	_, err := os.Stat("/usr/bin/mariadb-backup")
	return err == nil
}

func needMariaBackup(t *testing.T) {
	t.Helper()
	if !hasMariaDB() || !hasMariaBackup() {
		t.Fatal("no MariaDB server or mariadb-backup (apt-get install mariadb-server mariadb-backup; scripts/deps.sh does)")
	}
}

// mariaSQL runs statements on MariaDB instance id's database db as the
// master user.
func (e *testEnv) mariaSQL(t *testing.T, id, db string, stmts ...string) {
	t.Helper()
	addr, err := e.srv.RDS().Loopback(e.ctx, "000000000000", "us-east-1", id)
	if err != nil || addr == "" {
		t.Fatalf("loopback of %s: %q %v", id, addr, err)
	}
	c, err := openMaria(t, addr, "s3cret-pass", db)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, s := range stmts {
		if _, err := c.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// mariaRows returns the ids in table items of MariaDB instance id's
// database db.
func (e *testEnv) mariaRows(t *testing.T, id, db string) []int {
	t.Helper()
	addr, err := e.srv.RDS().Loopback(e.ctx, "000000000000", "us-east-1", id)
	if err != nil || addr == "" {
		t.Fatalf("loopback of %s: %q %v", id, addr, err)
	}
	c, err := openMaria(t, addr, "s3cret-pass", db)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rs, err := c.Query("SELECT id FROM items ORDER BY id")
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

// restoreMaria restores snapshot snap into a new instance id and waits
// until it is available.
func (e *testEnv) restoreMaria(t *testing.T, snap, id string) *types.DBInstance {
	t.Helper()
	out, err := e.rds.RestoreDBInstanceFromDBSnapshot(e.ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{
		DBSnapshotIdentifier: aws.String(snap), DBInstanceIdentifier: aws.String(id), BackupRetentionPeriod: aws.Int32(0),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, id, "available")
	return out.DBInstance
}

// wantMariaSnapshot checks what a MariaDB snapshot record carries.
func wantMariaSnapshot(t *testing.T, s types.DBSnapshot, version string) {
	t.Helper()
	if aws.ToString(s.Engine) != "mariadb" || aws.ToString(s.EngineVersion) != version || aws.ToInt32(s.Port) != 3306 ||
		aws.ToString(s.LicenseModel) != "general-public-license" || aws.ToString(s.MasterUsername) != "admin" {
		t.Fatalf("snapshot %s: engine %s %s, port %d, license %s, master %s", aws.ToString(s.DBSnapshotIdentifier),
			aws.ToString(s.Engine), aws.ToString(s.EngineVersion), aws.ToInt32(s.Port), aws.ToString(s.LicenseModel), aws.ToString(s.MasterUsername))
	}
}

// TestMariaDBSnapshots: manual snapshots of a running MariaDB
// (mariadb-backup), copies, final snapshots on delete (online and from a
// stopped instance's files), StopDBInstance's snapshot, automated backups,
// and restores of each, also after minicloud restarts.
func TestMariaDBSnapshots(t *testing.T) {
	t.Parallel()
	needMariaBackup(t)
	dir := t.TempDir()
	e := newEnvIn(t, dir)
	in := mariaInput("msrc")
	in.DBName = aws.String("app")
	in.BackupRetentionPeriod = aws.Int32(1)
	created, err := e.rds.CreateDBInstance(e.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	version := aws.ToString(created.DBInstance.EngineVersion)
	// The first automated backup is taken as the instance is created.
	e.waitStatus(t, "msrc", "available")
	auto, err := e.rds.DescribeDBSnapshots(e.ctx, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String("msrc"), SnapshotType: aws.String("automated")})
	if err != nil {
		t.Fatal(err)
	}
	if len(auto.DBSnapshots) != 1 || aws.ToString(auto.DBSnapshots[0].Status) != "available" {
		t.Fatalf("automated backups = %+v", auto.DBSnapshots)
	}
	wantMariaSnapshot(t, auto.DBSnapshots[0], version)
	ab, err := e.rds.DescribeDBInstanceAutomatedBackups(e.ctx, &rds.DescribeDBInstanceAutomatedBackupsInput{DBInstanceIdentifier: aws.String("msrc")})
	if err != nil {
		t.Fatal(err)
	}
	if len(ab.DBInstanceAutomatedBackups) != 1 || aws.ToString(ab.DBInstanceAutomatedBackups[0].Engine) != "mariadb" || aws.ToString(ab.DBInstanceAutomatedBackups[0].Status) != "active" {
		t.Fatalf("automated backups = %+v", ab.DBInstanceAutomatedBackups)
	}
	// (Point-in-time restore: mysql_pitr_test.go.)

	e.mariaSQL(t, "msrc", "app", "CREATE TABLE items (id int PRIMARY KEY) ENGINE=InnoDB", "INSERT INTO items VALUES (1), (2)")
	snap, err := e.rds.CreateDBSnapshot(e.ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("msrc"), DBSnapshotIdentifier: aws.String("M-First")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(snap.DBSnapshot.Status) != "creating" || aws.ToString(snap.DBSnapshot.DBSnapshotIdentifier) != "m-first" {
		t.Fatalf("created %+v", snap.DBSnapshot)
	}
	wantMariaSnapshot(t, *snap.DBSnapshot, version)
	e.waitSnapshot(t, "m-first", "available")
	e.waitStatus(t, "msrc", "available")
	// The copy is mariadb-backup's, prepared (its redo log applied).
	checkpoints, err := os.ReadFile(filepath.Join(dir, "rds", "000000000000", "us-east-1", "_snapshots", "m-first", "data", "xtrabackup_checkpoints"))
	if err != nil || !strings.Contains(string(checkpoints), "backup_type = log-applied") {
		t.Fatalf("m-first is not a prepared mariadb-backup: %q %v", checkpoints, err)
	}
	e.mariaSQL(t, "msrc", "app", "INSERT INTO items VALUES (3)")
	busySnapshot(t, e)

	if _, err := e.rds.CopyDBSnapshot(e.ctx, &rds.CopyDBSnapshotInput{SourceDBSnapshotIdentifier: aws.String("m-first"), TargetDBSnapshotIdentifier: aws.String("m-copy")}); err != nil {
		t.Fatal(err)
	}
	wantMariaSnapshot(t, e.waitSnapshot(t, "m-copy", "available"), version)

	// Deleting the running instance takes its final snapshot online first.
	if _, err := e.rds.DeleteDBInstance(e.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("msrc"), FinalDBSnapshotIdentifier: aws.String("m-final")}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "msrc", "")
	wantMariaSnapshot(t, e.waitSnapshot(t, "m-final", "available"), version)

	// A restore from the first snapshot has only the first rows.
	r := e.restoreMaria(t, "m-first", "mfirst")
	if aws.ToString(r.Engine) != "mariadb" || aws.ToString(r.EngineVersion) != version || aws.ToString(r.DBName) != "app" {
		t.Fatalf("restored %s %s %s", aws.ToString(r.Engine), aws.ToString(r.EngineVersion), aws.ToString(r.DBName))
	}
	d, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("mfirst")})
	if err != nil {
		t.Fatal(err)
	}
	if ep := d.DBInstances[0].Endpoint; ep == nil || aws.ToInt32(ep.Port) != 3306 {
		t.Fatalf("endpoint = %+v", ep)
	}
	wantRows(t, e.mariaRows(t, "mfirst", "app"), 1, 2)

	// StopDBInstance with a snapshot copies the running server, then stops it.
	e.mariaSQL(t, "mfirst", "app", "INSERT INTO items VALUES (4)")
	if _, err := e.rds.StopDBInstance(e.ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String("mfirst"), DBSnapshotIdentifier: aws.String("m-stop")}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "mfirst", "stopped")
	wantMariaSnapshot(t, e.waitSnapshot(t, "m-stop", "available"), version)
	// A stopped instance's final snapshot is a copy of its files.
	if _, err := e.rds.DeleteDBInstance(e.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("mfirst"), FinalDBSnapshotIdentifier: aws.String("m-stopped-final")}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "mfirst", "")
	wantMariaSnapshot(t, e.waitSnapshot(t, "m-stopped-final", "available"), version)
	// It is a file copy: it carries the checkpoints file mfirst's data came
	// with from m-first, where a new mariadb-backup would write its own.
	if got, err := os.ReadFile(filepath.Join(dir, "rds", "000000000000", "us-east-1", "_snapshots", "m-stopped-final", "data", "xtrabackup_checkpoints")); err != nil || string(got) != string(checkpoints) {
		t.Fatalf("m-stopped-final is not a file copy of the stopped data: %q %v, want %q", got, err, checkpoints)
	}

	for _, tc := range []struct {
		snap, id string
		want     []int
	}{
		{"m-copy", "mcopy", []int{1, 2}},
		{"m-final", "mfinal", []int{1, 2, 3}},
		{"m-stop", "mstop", []int{1, 2, 4}},
	} {
		t.Run(tc.snap, func(t *testing.T) {
			e.restoreMaria(t, tc.snap, tc.id)
			wantRows(t, e.mariaRows(t, tc.id, "app"), tc.want...)
			// The restored server is managed like a new one: its master
			// password can be changed.
			if _, err := e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String(tc.id), MasterUserPassword: aws.String("n3w-password"), ApplyImmediately: aws.Bool(true)}); err != nil {
				t.Fatal(err)
			}
			e.waitStatus(t, tc.id, "available")
			addr, _ := e.srv.RDS().Loopback(e.ctx, "000000000000", "us-east-1", tc.id)
			c, err := openMaria(t, addr, "n3w-password", "app")
			if err != nil {
				t.Fatal(err)
			}
			c.Close()
			e.deleteInstance(t, tc.id)
		})
	}

	// The snapshots and their data outlive a restart of minicloud.
	e.close()
	e2 := newEnvIn(t, dir)
	out, err := e2.rds.DescribeDBSnapshots(e2.ctx, &rds.DescribeDBSnapshotsInput{SnapshotType: aws.String("manual")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.DBSnapshots) != 6 {
		t.Fatalf("after restart, %d manual snapshots, want 6", len(out.DBSnapshots))
	}
	for _, s := range out.DBSnapshots {
		if aws.ToString(s.Status) != "available" {
			t.Fatalf("after restart, snapshot %s is %s", aws.ToString(s.DBSnapshotIdentifier), aws.ToString(s.Status))
		}
		wantMariaSnapshot(t, s, version)
	}
	e2.restoreMaria(t, "m-stopped-final", "mlater")
	wantRows(t, e2.mariaRows(t, "mlater", "app"), 1, 2, 4)
	e2.deleteInstance(t, "mlater")

	// Deleting a snapshot removes its data.
	if _, err := e2.rds.DeleteDBSnapshot(e2.ctx, &rds.DeleteDBSnapshotInput{DBSnapshotIdentifier: aws.String("m-copy")}); err != nil {
		t.Fatal(err)
	}
	snapDir := filepath.Join(dir, "rds", "000000000000", "us-east-1", "_snapshots", "m-copy")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(snapDir); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still there after DeleteDBSnapshot", snapDir)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// busySnapshot snapshots msrc while a client commits transactions that
// each insert one id into two tables: the restore must hold the same ids in
// both, without gaps (a consistent copy as of one moment).
func busySnapshot(t *testing.T, e *testEnv) {
	t.Helper()
	e.mariaSQL(t, "msrc", "app", "CREATE TABLE seq (id int PRIMARY KEY) ENGINE=InnoDB", "CREATE TABLE seq2 (id int PRIMARY KEY) ENGINE=InnoDB")
	addr, _ := e.srv.RDS().Loopback(e.ctx, "000000000000", "us-east-1", "msrc")
	c, err := openMaria(t, addr, "s3cret-pass", "app")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	stop := make(chan struct{})
	var (
		wg       sync.WaitGroup
		written  int
		writeErr error
	)
	wg.Go(func() {
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			tx, err := c.Begin()
			if err == nil {
				_, err = tx.Exec("INSERT INTO seq VALUES (?)", i)
			}
			if err == nil {
				_, err = tx.Exec("INSERT INTO seq2 VALUES (?)", i)
			}
			if err == nil {
				err = tx.Commit()
			}
			if err != nil {
				writeErr = err
				return
			}
			written = i
		}
	})
	time.Sleep(300 * time.Millisecond)
	if _, err := e.rds.CreateDBSnapshot(e.ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("msrc"), DBSnapshotIdentifier: aws.String("m-busy")}); err != nil {
		close(stop)
		wg.Wait()
		t.Fatal(err)
	}
	e.waitSnapshot(t, "m-busy", "available")
	close(stop)
	wg.Wait()
	if writeErr != nil {
		t.Fatalf("writes during the snapshot: %v", writeErr)
	}
	e.waitStatus(t, "msrc", "available")
	e.restoreMaria(t, "m-busy", "mbusy")
	bc, err := openMaria(t, mustLoopback(t, e, "mbusy"), "s3cret-pass", "app")
	if err != nil {
		t.Fatal(err)
	}
	defer bc.Close()
	var n1, max1, n2, max2, both int
	if err := bc.QueryRow("SELECT count(*), coalesce(max(id), 0) FROM seq").Scan(&n1, &max1); err != nil {
		t.Fatal(err)
	}
	if err := bc.QueryRow("SELECT count(*), coalesce(max(id), 0) FROM seq2").Scan(&n2, &max2); err != nil {
		t.Fatal(err)
	}
	if err := bc.QueryRow("SELECT count(*) FROM seq JOIN seq2 USING (id)").Scan(&both); err != nil {
		t.Fatal(err)
	}
	if n1 == 0 || n1 != max1 || n1 != n2 || n2 != max2 || both != n1 || n1 > written {
		t.Fatalf("restored seq: %d rows up to %d, seq2: %d up to %d, %d in both; %d committed in all", n1, max1, n2, max2, both, written)
	}
	t.Logf("the snapshot holds %d of the %d transactions committed while it ran", n1, written)
	e.deleteInstance(t, "mbusy")
}

func mustLoopback(t *testing.T, e *testEnv, id string) string {
	t.Helper()
	addr, err := e.srv.RDS().Loopback(e.ctx, "000000000000", "us-east-1", id)
	if err != nil || addr == "" {
		t.Fatalf("loopback of %s: %q %v", id, addr, err)
	}
	return addr
}
