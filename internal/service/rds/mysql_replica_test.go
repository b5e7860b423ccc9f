package rds_test

import (
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/go-sql-driver/mysql"
)

// mariaSource creates a MariaDB instance with automated backups (binary
// logging) backups days, and waits until it is available.
func (e *testEnv) mariaSource(t *testing.T, id string, backups int32) {
	t.Helper()
	in := mariaInput(id)
	in.BackupRetentionPeriod = aws.Int32(backups)
	if _, err := e.rds.CreateDBInstance(e.ctx, in); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, id, "available")
}

// maria connects to instance id as the master user, retrying while the
// server (re)starts.
func (e *testEnv) maria(t *testing.T, id, db string) *sql.DB {
	t.Helper()
	return e.mariaAs(t, id, "s3cret-pass", db)
}

func (e *testEnv) mariaAs(t *testing.T, id, password, db string) *sql.DB {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		addr, err := e.srv.RDS().Loopback(e.ctx, acct, region, id)
		if err == nil && addr != "" {
			var c *sql.DB
			if c, err = openMaria(t, addr, password, db); err == nil {
				c.SetMaxOpenConns(1)
				t.Cleanup(func() { c.Close() })
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("connect to %s: %v", id, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func mexec(t *testing.T, c *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := c.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// waitMariaRow polls q until it returns want, for up to d.
func waitMariaRow(t *testing.T, c *sql.DB, q string, want int, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var got int
	var err error
	for time.Since(start) < d {
		if err = c.QueryRow(q).Scan(&got); err == nil && got == want {
			return time.Since(start)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s = %d (%v), want %d after %v", q, got, err, want, d)
	return 0
}

// wantReadOnly asserts MariaDB's ER_OPTION_PREVENTS_STATEMENT (1290):
// the server runs with --read-only.
func wantReadOnly(t *testing.T, err error) {
	t.Helper()
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1290 {
		t.Fatalf("want ERROR 1290 (read-only), got %v", err)
	}
}

// TestMariaDBReadReplica: a MariaDB replica follows its source's writes
// within a second, refuses the master's writes (read_only, which AWS's
// master cannot bypass), reports its lag, and once promoted is writable
// and no longer follows.
func TestMariaDBReadReplica(t *testing.T) {
	t.Parallel()
	if !hasMariaDB() {
		t.Fatal("no MariaDB server (apt-get install mariadb-server; scripts/deps.sh does)")
	}
	e := newEnv(t)
	e.mariaSource(t, "shop", 1)
	pc := e.maria(t, "shop", "")
	mexec(t, pc, "CREATE DATABASE shop", "CREATE TABLE shop.t (v int PRIMARY KEY)", "INSERT INTO shop.t VALUES (1)", "CREATE USER app@'%' IDENTIFIED BY 'app-pass'")
	e.replica(t, "shop-ro", "shop")

	r := e.describe(t, "shop-ro")
	if aws.ToString(r.ReadReplicaSourceDBInstanceIdentifier) != "shop" || aws.ToString(r.Engine) != "mariadb" || aws.ToString(r.MasterUsername) != "admin" {
		t.Fatalf("replica: source %q engine %q master %q", aws.ToString(r.ReadReplicaSourceDBInstanceIdentifier), aws.ToString(r.Engine), aws.ToString(r.MasterUsername))
	}
	if got := e.describe(t, "shop").ReadReplicaDBInstanceIdentifiers; len(got) != 1 || got[0] != "shop-ro" {
		t.Fatalf("source lists replicas %v", got)
	}
	e.replicating(t, "shop-ro")
	rc := e.maria(t, "shop-ro", "")
	waitMariaRow(t, rc, "SELECT count(*) FROM shop.t", 1, time.Second) // the copy
	mexec(t, pc, "INSERT INTO shop.t VALUES (2)")
	if took := waitMariaRow(t, rc, "SELECT count(*) FROM shop.t", 2, time.Second); took > time.Second {
		t.Fatalf("the write took %v to reach the replica", took)
	}
	var n int
	if err := rc.QueryRow("SELECT count(*) FROM mysql.global_priv WHERE User = 'app'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("the source's account app on the replica: %d %v", n, err)
	}
	_, err := rc.Exec("INSERT INTO shop.t VALUES (3)")
	wantReadOnly(t, err)
	var ro, srvID, srcID int
	if err := rc.QueryRow("SELECT @@read_only, @@server_id").Scan(&ro, &srvID); err != nil || ro != 1 {
		t.Fatalf("replica's read_only %d (%v)", ro, err)
	}
	if err := pc.QueryRow("SELECT @@server_id").Scan(&srcID); err != nil || srcID == srvID {
		t.Fatalf("server ids: source %d, replica %d (%v)", srcID, srvID, err)
	}

	lag, err := e.srv.RDS().ReplicaLag(e.ctx, acct, region, "shop-ro")
	if err != nil || lag > time.Second {
		t.Fatalf("ReplicaLag = %v, %v", lag, err)
	}
	if _, err := e.srv.RDS().ReplicaLag(e.ctx, acct, region, "shop"); err == nil {
		t.Fatal("ReplicaLag of a source answered")
	}
	deadline := time.Now().Add(10 * time.Second)
	for h := replicationHealth(e, "shop-ro"); h["lagSeconds"] == nil || h["status"] != "replicating"; h = replicationHealth(e, "shop-ro") {
		if time.Now().After(deadline) {
			t.Fatalf("health of the replica: %v", h)
		}
		time.Sleep(200 * time.Millisecond)
	}

	for _, tc := range []struct{ name, id, code string }{
		{"stop a source", "shop", "InvalidDBInstanceState"},
		{"stop a replica", "shop-ro", "InvalidDBInstanceState"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.rds.StopDBInstance(e.ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String(tc.id)})
			wantCode(t, err, tc.code)
		})
	}
	_, err = e.rds.PromoteReadReplica(e.ctx, &rds.PromoteReadReplicaInput{DBInstanceIdentifier: aws.String("shop")})
	wantCode(t, err, "InvalidDBInstanceState")

	// Promote: writable, standalone, no longer following.
	if _, err := e.rds.PromoteReadReplica(e.ctx, &rds.PromoteReadReplicaInput{DBInstanceIdentifier: aws.String("shop-ro")}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "shop-ro", "available")
	r = e.describe(t, "shop-ro")
	if r.ReadReplicaSourceDBInstanceIdentifier != nil || len(r.StatusInfos) != 0 || aws.ToInt32(r.BackupRetentionPeriod) != 1 {
		t.Fatalf("promoted: source %v, status infos %+v, backups %d", r.ReadReplicaSourceDBInstanceIdentifier, r.StatusInfos, aws.ToInt32(r.BackupRetentionPeriod))
	}
	if got := e.describe(t, "shop").ReadReplicaDBInstanceIdentifiers; len(got) != 0 {
		t.Fatalf("source still lists %v", got)
	}
	mexec(t, rc, "INSERT INTO shop.t VALUES (30)")
	mexec(t, pc, "INSERT INTO shop.t VALUES (4)")
	time.Sleep(time.Second)
	var max int
	if err := rc.QueryRow("SELECT count(*), max(v) FROM shop.t").Scan(&n, &max); err != nil || n != 3 || max != 30 {
		t.Fatalf("promoted replica has %d rows, max %d (%v): want 1, 2, 30 and not the source's 4", n, max, err)
	}
	if _, err := e.srv.RDS().ReplicaLag(e.ctx, acct, region, "shop-ro"); err == nil {
		t.Fatal("ReplicaLag of a promoted instance answered")
	}
}

// TestMariaDBReadReplicaErrors: the source must exist, be available and
// have automated backups, as on AWS.
func TestMariaDBReadReplicaErrors(t *testing.T) {
	t.Parallel()
	if !hasMariaDB() {
		t.Fatal("no MariaDB server (apt-get install mariadb-server; scripts/deps.sh does)")
	}
	e := newEnv(t)
	e.mariaSource(t, "nobackup", 0)
	if _, err := e.rds.CreateDBInstance(e.ctx, mariaInput("young")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, id, src, code, msg string }{
		{"no source", "r1", "ghost", "DBInstanceNotFound", "ghost"},
		{"no backups", "r1", "nobackup", "InvalidDBInstanceState", "Automated backups are not enabled for this database instance."},
		{"exists", "nobackup", "nobackup", "DBInstanceAlreadyExists", "already exists"},
		{"bad identifier", "1bad", "nobackup", "InvalidParameterValue", ""},
		{"source not available", "r2", "young", "InvalidDBInstanceState", "DB instance is not in the available state"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.rds.CreateDBInstanceReadReplica(e.ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String(tc.id), SourceDBInstanceIdentifier: aws.String(tc.src)})
			wantCode(t, err, tc.code)
			if !contains(err, tc.msg) {
				t.Fatalf("message: %v", err)
			}
		})
	}
	e.waitStatus(t, "young", "available")
}

// TestMariaDBReadReplicaRestart: after minicloud restarts, the replica
// replicates again from its GTID position; it follows its source through
// its source's reboot and its own; deleting the source promotes it.
func TestMariaDBReadReplicaRestart(t *testing.T) {
	t.Parallel()
	if !hasMariaDB() {
		t.Fatal("no MariaDB server (apt-get install mariadb-server; scripts/deps.sh does)")
	}
	dir := t.TempDir()
	e := newEnvIn(t, dir)
	e.mariaSource(t, "src", 1)
	mexec(t, e.maria(t, "src", ""), "CREATE DATABASE app", "CREATE TABLE app.t (v int PRIMARY KEY)", "INSERT INTO app.t VALUES (1)")
	e.replica(t, "rep", "src")
	waitMariaRow(t, e.maria(t, "rep", ""), "SELECT count(*) FROM app.t", 1, time.Second)
	e.close()

	e2 := newEnvIn(t, dir)
	e2.waitStatus(t, "src", "available")
	e2.waitStatus(t, "rep", "available")
	e2.replicating(t, "rep")
	pc, rc := e2.maria(t, "src", ""), e2.maria(t, "rep", "")
	mexec(t, pc, "INSERT INTO app.t VALUES (2)")
	waitMariaRow(t, rc, "SELECT count(*) FROM app.t", 2, time.Second)
	_, err := rc.Exec("INSERT INTO app.t VALUES (3)")
	wantReadOnly(t, err)

	// A source's reboot: the replica reconnects and catches up.
	if _, err := e2.rds.RebootDBInstance(e2.ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("src")}); err != nil {
		t.Fatal(err)
	}
	e2.waitStatus(t, "src", "available")
	mexec(t, e2.maria(t, "src", ""), "INSERT INTO app.t VALUES (4)")
	waitMariaRow(t, rc, "SELECT count(*) FROM app.t", 3, 5*time.Second)

	// The replica's reboot: it replicates again from where it was.
	if _, err := e2.rds.RebootDBInstance(e2.ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("rep")}); err != nil {
		t.Fatal(err)
	}
	e2.waitStatus(t, "rep", "available")
	mexec(t, e2.maria(t, "src", ""), "INSERT INTO app.t VALUES (5)")
	rc = e2.maria(t, "rep", "")
	waitMariaRow(t, rc, "SELECT count(*) FROM app.t", 4, 5*time.Second)
	e2.replicating(t, "rep")

	// Deleting the source promotes its replica.
	if _, err := e2.rds.DeleteDBInstance(e2.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("src"), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for e2.describe(t, "rep").ReadReplicaSourceDBInstanceIdentifier != nil || aws.ToString(e2.describe(t, "rep").DBInstanceStatus) != "available" {
		if time.Now().After(deadline) {
			t.Fatal("the replica of a deleted source was not promoted")
		}
		time.Sleep(200 * time.Millisecond)
	}
	mexec(t, rc, "INSERT INTO app.t VALUES (6)")
}

// TestMariaDBReadReplicaCascade: a replica with automated backups is the
// source of another (a replica keeps binary logs with log_slave_updates),
// and the source's writes reach the second level.
func TestMariaDBReadReplicaCascade(t *testing.T) {
	t.Parallel()
	if !hasMariaDB() {
		t.Fatal("no MariaDB server (apt-get install mariadb-server; scripts/deps.sh does)")
	}
	e := newEnv(t)
	e.mariaSource(t, "top", 1)
	pc := e.maria(t, "top", "")
	mexec(t, pc, "CREATE DATABASE app", "CREATE TABLE app.t (v int PRIMARY KEY)", "INSERT INTO app.t VALUES (1)")
	e.replica(t, "mid", "top")
	_, err := e.rds.CreateDBInstanceReadReplica(e.ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("low"), SourceDBInstanceIdentifier: aws.String("mid")})
	wantCode(t, err, "InvalidDBInstanceState") // a replica has no backups until modified
	if _, err := e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("mid"), BackupRetentionPeriod: aws.Int32(1), ApplyImmediately: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "mid", "available")
	mexec(t, pc, "INSERT INTO app.t VALUES (2)")
	e.replica(t, "low", "mid")
	e.replicating(t, "low")
	lc := e.maria(t, "low", "")
	waitMariaRow(t, lc, "SELECT count(*) FROM app.t", 2, time.Second)
	mexec(t, pc, "INSERT INTO app.t VALUES (3)")
	waitMariaRow(t, lc, "SELECT count(*) FROM app.t", 3, time.Second)
	_, err = lc.Exec("INSERT INTO app.t VALUES (4)")
	wantReadOnly(t, err)

	// A new master password reaches every replica with the data; a
	// replica's own is its source's.
	if _, err := e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("top"), MasterUserPassword: aws.String("n3w-password"), ApplyImmediately: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "top", "available")
	_, err = e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("low"), MasterUserPassword: aws.String("other-password"), ApplyImmediately: aws.Bool(true)})
	wantCode(t, err, "InvalidParameterCombination")
	waitMariaRow(t, e.mariaAs(t, "low", "n3w-password", ""), "SELECT count(*) FROM app.t", 3, time.Second)
}

// TestMariaDBReadReplicaError: a replica cut off from its source says so in
// its StatusInfos, with MariaDB's reason, and recovers by itself.
func TestMariaDBReadReplicaError(t *testing.T) {
	t.Parallel()
	if !hasMariaDB() {
		t.Fatal("no MariaDB server (apt-get install mariadb-server; scripts/deps.sh does)")
	}
	e := newEnv(t)
	e.mariaSource(t, "src", 1)
	e.replica(t, "rep", "src")
	e.replicating(t, "rep")
	// The replication user may no longer log in; the source's reboot cuts
	// the replica's connection.
	mexec(t, e.maria(t, "src", ""), "ALTER USER rdsrepladmin@'%' ACCOUNT LOCK")
	if _, err := e.rds.RebootDBInstance(e.ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("src")}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "src", "available")
	deadline := time.Now().Add(30 * time.Second)
	var info []types.DBInstanceStatusInfo
	for time.Now().Before(deadline) {
		if info = e.describe(t, "rep").StatusInfos; len(info) == 1 && aws.ToString(info[0].Status) == "error" {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(info) != 1 || aws.ToString(info[0].Status) != "error" || aws.ToBool(info[0].Normal) || !strings.Contains(aws.ToString(info[0].Message), "locked") {
		t.Fatalf("StatusInfos %+v, want read replication error", info)
	}
	if h := replicationHealth(e, "rep"); h["status"] != "error" {
		t.Fatalf("health of the replica: %v", h)
	}
	mexec(t, e.maria(t, "src", ""), "ALTER USER rdsrepladmin@'%' ACCOUNT UNLOCK")
	e.replicating(t, "rep")
}
