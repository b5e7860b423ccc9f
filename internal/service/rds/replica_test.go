package rds_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const acct, region = "000000000000", "us-east-1"

func (e *testEnv) describe(t *testing.T, id string) types.DBInstance {
	t.Helper()
	out, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	return out.DBInstances[0]
}

// db connects to instance id's loopback address as the master user.
func (e *testEnv) db(t *testing.T, id, password string) *pgx.Conn {
	t.Helper()
	addr, err := e.srv.RDS().Loopback(e.ctx, acct, region, id)
	if err != nil || addr == "" {
		t.Fatalf("loopback of %s: %q %v", id, addr, err)
	}
	// Right after a restart of minicloud the record still says available
	// while the controller starts the server again: retry for a while, as
	// a client's connection pool would.
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := connect(t, addr, password, "postgres")
		if err == nil {
			t.Cleanup(func() { _ = c.Close(context.Background()) })
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("connect to %s: %v", id, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitRow polls q on c until it returns want, for up to d; it returns how
// long that took.
func waitRow(t *testing.T, c *pgx.Conn, q string, want int, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var got int
	var err error
	for time.Since(start) < d {
		err = c.QueryRow(context.Background(), q).Scan(&got)
		if err == nil && got == want {
			return time.Since(start)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s = %d (%v), want %d after %v", q, got, err, want, d)
	return 0
}

// replicating waits until id reports StatusInfos "read replication"
// "replicating".
func (e *testEnv) replicating(t *testing.T, id string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last []types.DBInstanceStatusInfo
	for time.Now().Before(deadline) {
		db := e.describe(t, id)
		last = db.StatusInfos
		if len(last) == 1 && aws.ToString(last[0].StatusType) == "read replication" && aws.ToString(last[0].Status) == "replicating" && aws.ToBool(last[0].Normal) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: StatusInfos %+v, want read replication replicating", id, last)
}

func (e *testEnv) source(t *testing.T, id string, backups int32) {
	t.Helper()
	in := createInput(id)
	in.BackupRetentionPeriod = aws.Int32(backups)
	if _, err := e.rds.CreateDBInstance(e.ctx, in); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, id, "available")
}

func (e *testEnv) replica(t *testing.T, id, source string) {
	t.Helper()
	out, err := e.rds.CreateDBInstanceReadReplica(e.ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String(id), SourceDBInstanceIdentifier: aws.String(source)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.DBInstance.DBInstanceStatus); got != "creating" {
		t.Fatalf("new replica's status %q", got)
	}
	e.waitStatus(t, id, "available")
}

func wantSQLState(t *testing.T, err error, code string) {
	t.Helper()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != code {
		t.Fatalf("want SQLSTATE %s, got %v", code, err)
	}
}

// TestReadReplica: a replica made from a source follows its writes within
// a second, refuses writes itself, is listed by its source, and once
// promoted is writable and no longer follows.
func TestReadReplica(t *testing.T) {
	t.Parallel()
	if !hasPostgres() {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
	}
	e := newEnv(t)
	e.source(t, "primary", 1)
	pc := e.db(t, "primary", "s3cret-pass")
	if _, err := pc.Exec(e.ctx, "CREATE TABLE t (v int); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	srcArn := aws.ToString(e.describe(t, "primary").DBInstanceArn)
	e.replica(t, "reader", srcArn) // by ARN

	r := e.describe(t, "reader")
	if aws.ToString(r.ReadReplicaSourceDBInstanceIdentifier) != "primary" || aws.ToString(r.Engine) != "postgres" ||
		aws.ToString(r.MasterUsername) != "master" || aws.ToInt32(r.AllocatedStorage) != 20 || aws.ToInt32(r.BackupRetentionPeriod) != 0 {
		t.Fatalf("replica: source %q engine %q master %q storage %d backups %d", aws.ToString(r.ReadReplicaSourceDBInstanceIdentifier),
			aws.ToString(r.Engine), aws.ToString(r.MasterUsername), aws.ToInt32(r.AllocatedStorage), aws.ToInt32(r.BackupRetentionPeriod))
	}
	if got := e.describe(t, "primary").ReadReplicaDBInstanceIdentifiers; len(got) != 1 || got[0] != "reader" {
		t.Fatalf("source lists replicas %v", got)
	}
	e.replicating(t, "reader")

	// The replica has the source's data and master password, and follows.
	rc := e.db(t, "reader", "s3cret-pass")
	waitRow(t, rc, "SELECT count(*) FROM t", 1, time.Second)
	if _, err := pc.Exec(e.ctx, "INSERT INTO t VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	if took := waitRow(t, rc, "SELECT count(*) FROM t", 2, time.Second); took > time.Second {
		t.Fatalf("the write took %v to reach the replica", took)
	}
	_, err := rc.Exec(e.ctx, "INSERT INTO t VALUES (3)")
	wantSQLState(t, err, "25006")

	lag, err := e.srv.RDS().ReplicaLag(e.ctx, acct, region, "reader")
	if err != nil || lag > time.Second {
		t.Fatalf("ReplicaLag = %v, %v", lag, err)
	}
	if _, err := e.srv.RDS().ReplicaLag(e.ctx, acct, region, "primary"); err == nil {
		t.Fatal("ReplicaLag of a source answered")
	}
	if h := replicationHealth(e, "reader"); h["status"] != "replicating" || h["source"] != "primary" || h["lagSeconds"] == nil {
		t.Fatalf("health of the replica: %v", h)
	}

	// AWS refuses to stop either side, and to promote a source.
	_, err = e.rds.StopDBInstance(e.ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String("primary")})
	wantCode(t, err, "InvalidDBInstanceState")
	_, err = e.rds.StopDBInstance(e.ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String("reader")})
	wantCode(t, err, "InvalidDBInstanceState")
	_, err = e.rds.PromoteReadReplica(e.ctx, &rds.PromoteReadReplicaInput{DBInstanceIdentifier: aws.String("primary")})
	wantCode(t, err, "InvalidDBInstanceState")

	// Promote: writable, standalone, no longer following.
	out, err := e.rds.PromoteReadReplica(e.ctx, &rds.PromoteReadReplicaInput{DBInstanceIdentifier: aws.String("reader"), BackupRetentionPeriod: aws.Int32(3)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.DBInstance.DBInstanceStatus); got != "modifying" {
		t.Fatalf("promoting: status %q", got)
	}
	e.waitStatus(t, "reader", "available")
	r = e.describe(t, "reader")
	if r.ReadReplicaSourceDBInstanceIdentifier != nil || len(r.StatusInfos) != 0 || aws.ToInt32(r.BackupRetentionPeriod) != 3 {
		t.Fatalf("promoted: source %v, status infos %+v, backups %d", r.ReadReplicaSourceDBInstanceIdentifier, r.StatusInfos, aws.ToInt32(r.BackupRetentionPeriod))
	}
	if got := e.describe(t, "primary").ReadReplicaDBInstanceIdentifiers; len(got) != 0 {
		t.Fatalf("source still lists %v", got)
	}
	rc = e.db(t, "reader", "s3cret-pass")
	if _, err := rc.Exec(e.ctx, "INSERT INTO t VALUES (30)"); err != nil {
		t.Fatalf("write on the promoted replica: %v", err)
	}
	if _, err := pc.Exec(e.ctx, "INSERT INTO t VALUES (4)"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	var n, max int
	if err := rc.QueryRow(e.ctx, "SELECT count(*), max(v) FROM t").Scan(&n, &max); err != nil || n != 3 || max != 30 {
		t.Fatalf("promoted replica has %d rows, max %d (%v): want 1, 2, 30 and not the source's 4", n, max, err)
	}
	var slots int
	if err := pc.QueryRow(e.ctx, "SELECT count(*) FROM pg_replication_slots").Scan(&slots); err != nil || slots != 0 {
		t.Fatalf("source keeps %d replication slots (%v)", slots, err)
	}
	_, err = e.srv.RDS().ReplicaLag(e.ctx, acct, region, "reader")
	if err == nil {
		t.Fatal("ReplicaLag of a promoted instance answered")
	}
}

func TestReadReplicaErrors(t *testing.T) {
	t.Parallel()
	if !hasPostgres() {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
	}
	e := newEnv(t)
	e.source(t, "nobackup", 0)
	create := func(id, src string) error {
		_, err := e.rds.CreateDBInstanceReadReplica(e.ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String(id), SourceDBInstanceIdentifier: aws.String(src)})
		return err
	}
	err := create("r1", "ghost")
	wantCode(t, err, "DBInstanceNotFound")
	err = create("r1", "nobackup")
	wantCode(t, err, "InvalidDBInstanceState")
	if !contains(err, "Automated backups are not enabled for this database instance.") {
		t.Fatalf("message: %v", err)
	}
	err = create("nobackup", "nobackup")
	wantCode(t, err, "DBInstanceAlreadyExists")
	err = create("1bad", "nobackup")
	wantCode(t, err, "InvalidParameterValue")

	// A source still being created (or stopped) is not available.
	in := createInput("young")
	if _, err := e.rds.CreateDBInstance(e.ctx, in); err != nil {
		t.Fatal(err)
	}
	err = create("r2", "young")
	wantCode(t, err, "InvalidDBInstanceState")
	if !contains(err, "DB instance is not in the available state") {
		t.Fatalf("message: %v", err)
	}
	_, err = e.rds.PromoteReadReplica(e.ctx, &rds.PromoteReadReplicaInput{DBInstanceIdentifier: aws.String("ghost")})
	wantCode(t, err, "DBInstanceNotFound")
	e.waitStatus(t, "young", "available")

	// Security groups and the parameter group are checked as for
	// CreateDBInstance.
	for _, tc := range []struct {
		name string
		in   rds.CreateDBInstanceReadReplicaInput
		code string
	}{
		{"missing security group", rds.CreateDBInstanceReadReplicaInput{VpcSecurityGroupIds: []string{"sg-0123456789abcdef0"}}, "InvalidParameterValue"},
		{"missing parameter group", rds.CreateDBInstanceReadReplicaInput{DBParameterGroupName: aws.String("ghost")}, "DBParameterGroupNotFound"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.DBInstanceIdentifier, tc.in.SourceDBInstanceIdentifier = aws.String("r3"), aws.String("young")
			_, err := e.rds.CreateDBInstanceReadReplica(e.ctx, &tc.in)
			wantCode(t, err, tc.code)
		})
	}
}

func contains(err error, s string) bool { return err != nil && strings.Contains(err.Error(), s) }

// TestReadReplicaRestart: after minicloud restarts, the replica is a
// standby again and follows its source's new writes.
func TestReadReplicaRestart(t *testing.T) {
	t.Parallel()
	if !hasPostgres() {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
	}
	dir := t.TempDir()
	e := newEnvIn(t, dir)
	e.source(t, "src", 1)
	e.replica(t, "rep", "src")
	pc := e.db(t, "src", "s3cret-pass")
	if _, err := pc.Exec(e.ctx, "CREATE TABLE t (v int); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	waitRow(t, e.db(t, "rep", "s3cret-pass"), "SELECT count(*) FROM t", 1, time.Second)
	e.close()

	e2 := newEnvIn(t, dir)
	e2.waitStatus(t, "src", "available")
	e2.waitStatus(t, "rep", "available")
	e2.replicating(t, "rep")
	pc = e2.db(t, "src", "s3cret-pass")
	rc := e2.db(t, "rep", "s3cret-pass")
	if _, err := pc.Exec(e2.ctx, "INSERT INTO t VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	waitRow(t, rc, "SELECT count(*) FROM t", 2, time.Second)
	_, err := rc.Exec(e2.ctx, "INSERT INTO t VALUES (3)")
	wantSQLState(t, err, "25006")

	// A source's reboot: the replica catches up again.
	if _, err := e2.rds.RebootDBInstance(e2.ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("src")}); err != nil {
		t.Fatal(err)
	}
	e2.waitStatus(t, "src", "available")
	pc = e2.db(t, "src", "s3cret-pass")
	if _, err := pc.Exec(e2.ctx, "INSERT INTO t VALUES (4)"); err != nil {
		t.Fatal(err)
	}
	waitRow(t, rc, "SELECT count(*) FROM t", 3, 5*time.Second)
}

// TestReadReplicaCascade: replicas of replicas, up to three levels, as RDS
// for PostgreSQL allows (each source with automated backups); deleting a
// source promotes its replicas, and deleting a replica takes it off its
// source's list.
func TestReadReplicaCascade(t *testing.T) {
	t.Parallel()
	if !hasPostgres() {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
	}
	e := newEnv(t)
	in := createInput("top")
	in.DBName = aws.String("app")
	if _, err := e.rds.CreateDBInstance(e.ctx, in); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "top", "available")
	e.replica(t, "mid", "top")
	// A new master password reaches every replica with the data.
	if _, err := e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("top"), MasterUserPassword: aws.String("n3w-password"), ApplyImmediately: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "top", "available")
	_, err := e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("mid"), MasterUserPassword: aws.String("other-password"), ApplyImmediately: aws.Bool(true)})
	wantCode(t, err, "InvalidParameterCombination")
	pc := e.db(t, "top", "n3w-password")
	if _, err := pc.Exec(e.ctx, "CREATE TABLE t (v int)"); err != nil {
		t.Fatal(err)
	}
	_, err = e.rds.CreateDBInstanceReadReplica(e.ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("leaf"), SourceDBInstanceIdentifier: aws.String("mid")})
	wantCode(t, err, "InvalidDBInstanceState") // a replica has no backups until modified
	backups := func(id string) {
		t.Helper()
		if _, err := e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String(id), BackupRetentionPeriod: aws.Int32(1), ApplyImmediately: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
		e.waitStatus(t, id, "available")
	}
	backups("mid")
	e.replica(t, "leaf", "mid")
	backups("leaf")
	e.replica(t, "leaf2", "leaf")
	backups("leaf2")
	_, err = e.rds.CreateDBInstanceReadReplica(e.ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("leaf3"), SourceDBInstanceIdentifier: aws.String("leaf2")})
	wantCode(t, err, "InvalidParameterCombination")

	if _, err := pc.Exec(e.ctx, "INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	l2 := e.db(t, "leaf2", "n3w-password")
	waitRow(t, l2, "SELECT count(*) FROM t", 1, time.Second)
	e.replicating(t, "leaf2")

	// Deleting mid promotes leaf, which leaf2 keeps following.
	if _, err := e.rds.DeleteDBInstance(e.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("mid"), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "mid", "")
	e.waitStatus(t, "leaf", "available")
	leaf := e.describe(t, "leaf")
	if leaf.ReadReplicaSourceDBInstanceIdentifier != nil || len(leaf.ReadReplicaDBInstanceIdentifiers) != 1 {
		t.Fatalf("leaf after its source's deletion: source %v, replicas %v", leaf.ReadReplicaSourceDBInstanceIdentifier, leaf.ReadReplicaDBInstanceIdentifiers)
	}
	if got := e.describe(t, "top").ReadReplicaDBInstanceIdentifiers; len(got) != 0 {
		t.Fatalf("top still lists %v", got)
	}
	lc := e.db(t, "leaf", "n3w-password")
	if _, err := lc.Exec(e.ctx, "INSERT INTO t VALUES (2)"); err != nil {
		t.Fatalf("write on the promoted leaf: %v", err)
	}
	waitRow(t, l2, "SELECT count(*) FROM t", 2, 5*time.Second)

	// Deleting leaf2 takes it off leaf's list and frees its slot.
	if _, err := e.rds.DeleteDBInstance(e.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("leaf2"), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "leaf2", "")
	if got := e.describe(t, "leaf").ReadReplicaDBInstanceIdentifiers; len(got) != 0 {
		t.Fatalf("leaf still lists %v", got)
	}
	var slots int
	if err := lc.QueryRow(e.ctx, "SELECT count(*) FROM pg_replication_slots").Scan(&slots); err != nil || slots != 0 {
		t.Fatalf("leaf keeps %d replication slots (%v)", slots, err)
	}
}

// replicationHealth is instance id's "replication" entry in the health
// endpoint's rds section.
func replicationHealth(e *testEnv, id string) map[string]any {
	list, _ := e.srv.RDS().Health()["instances"].([]map[string]any)
	for _, in := range list {
		if in["id"] == id {
			h, _ := in["replication"].(map[string]any)
			return h
		}
	}
	return nil
}

// TestReadReplicaError: when the replica cannot stream from its source,
// its StatusInfos say error with the reason, and replicating again once
// it can.
func TestReadReplicaError(t *testing.T) {
	t.Parallel()
	if !hasPostgres() {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
	}
	e := newEnv(t)
	e.source(t, "src", 1)
	e.replica(t, "rep", "src")
	e.replicating(t, "rep")
	pc := e.db(t, "src", "s3cret-pass")
	// The replication role may no longer log in: the replica is cut off.
	if _, err := pc.Exec(e.ctx, "ALTER ROLE rdsrepladmin NOLOGIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.Exec(e.ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_replication"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	var info []types.DBInstanceStatusInfo
	for time.Now().Before(deadline) {
		info = e.describe(t, "rep").StatusInfos
		if len(info) == 1 && aws.ToString(info[0].Status) == "error" {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(info) != 1 || aws.ToString(info[0].Status) != "error" || aws.ToBool(info[0].Normal) || !strings.Contains(aws.ToString(info[0].Message), "not permitted to log in") {
		t.Fatalf("StatusInfos %+v, want read replication error", info)
	}
	if _, err := pc.Exec(e.ctx, "ALTER ROLE rdsrepladmin LOGIN"); err != nil {
		t.Fatal(err)
	}
	e.replicating(t, "rep")
}
