package rds_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/jackc/pgx/v5"
)

// multiAZ creates a Multi-AZ postgres instance in a subnet group of
// us-east-1a and us-east-1b and waits until it is available.
func (e *testEnv) multiAZ(t *testing.T, id, cidr string) {
	t.Helper()
	subnets := e.vpc(t, cidr, "us-east-1a", "us-east-1b")
	if _, err := e.rds.CreateDBSubnetGroup(e.ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String(id + "-net"), DBSubnetGroupDescription: aws.String("d"), SubnetIds: subnets}); err != nil {
		t.Fatal(err)
	}
	in := createInput(id)
	in.DBSubnetGroupName = aws.String(id + "-net")
	in.MultiAZ = aws.Bool(true)
	out, err := e.rds.CreateDBInstance(e.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(out.DBInstance.MultiAZ) {
		t.Fatal("CreateDBInstance answered MultiAZ false")
	}
	e.waitStatus(t, id, "available")
}

// syncState is the standby's sync_state in the primary's
// pg_stat_replication, "" when no standby is connected.
func syncState(t *testing.T, c *pgx.Conn) string {
	t.Helper()
	var st string
	if err := c.QueryRow(context.Background(), "SELECT coalesce(string_agg(sync_state, ','), '') FROM pg_stat_replication").Scan(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// standbySocket is the unix socket directory of instance id's standby.
func (e *testEnv) standbySocket(id string) string {
	return filepath.Join(e.dir, "rds", acct, region, id, "standby", "sock")
}

// wantStandbyRefuses checks that the standby serves nobody: a connection on
// its own socket is refused because it is a standby without reads.
func (e *testEnv) wantStandbyRefuses(t *testing.T, id, addr string) {
	t.Helper()
	port := addr[strings.LastIndex(addr, ":")+1:]
	ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, fmt.Sprintf("host=%s port=%s user=master password=s3cret-pass dbname=postgres sslmode=disable", e.standbySocket(id), port))
	if err == nil {
		_ = c.Close(ctx)
		t.Fatal("the standby accepted a connection")
	}
	if !strings.Contains(err.Error(), "57P03") && !strings.Contains(err.Error(), "not accepting connections") && !strings.Contains(err.Error(), "Hot standby mode is disabled") {
		t.Fatalf("connecting to the standby: %v, want it refused as not accepting connections", err)
	}
}

// TestMultiAZ: a Multi-AZ instance has a synchronous standby in its other
// zone that serves nobody; ForceFailover moves the primary there with the
// committed data and the same loopback address; MultiAZ can be turned off
// and on again; ForceFailover on a single-AZ instance is refused.
func TestMultiAZ(t *testing.T) {
	t.Parallel()
	if !hasPostgres() {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
	}
	e := newEnv(t)
	bad := createInput("bad")
	bad.MultiAZ, bad.AvailabilityZone = aws.Bool(true), aws.String("us-east-1a")
	_, err := e.rds.CreateDBInstance(e.ctx, bad)
	wantCode(t, err, "InvalidParameterCombination")
	if !contains(err, "Requesting a specific availability zone is not valid for Multi-AZ instances.") {
		t.Fatalf("message: %v", err)
	}

	maria := createInput("maria")
	maria.Engine, maria.MultiAZ = aws.String("mariadb"), aws.Bool(true)
	_, err = e.rds.CreateDBInstance(e.ctx, maria)
	wantCode(t, err, "InvalidParameterCombination")

	e.multiAZ(t, "ha", "10.21")
	db := e.describe(t, "ha")
	// AWS picks the primary's zone; the standby's is the group's other one.
	az1, az2 := aws.ToString(db.AvailabilityZone), aws.ToString(db.SecondaryAvailabilityZone)
	if !aws.ToBool(db.MultiAZ) || az1 == az2 || !strings.HasPrefix(az1, "us-east-1") || !strings.HasPrefix(az2, "us-east-1") {
		t.Fatalf("MultiAZ %v, AvailabilityZone %q, SecondaryAvailabilityZone %q", aws.ToBool(db.MultiAZ), aws.ToString(db.AvailabilityZone), aws.ToString(db.SecondaryAvailabilityZone))
	}
	addr, err := e.srv.RDS().Loopback(e.ctx, acct, region, "ha")
	if err != nil || addr == "" {
		t.Fatalf("loopback %q %v", addr, err)
	}
	pc := e.db(t, "ha", "s3cret-pass")
	if st := syncState(t, pc); st != "sync" {
		t.Fatalf("pg_stat_replication sync_state %q, want one synchronous standby", st)
	}
	if _, err := pc.Exec(e.ctx, "CREATE TABLE t (v int); INSERT INTO t VALUES (1), (2)"); err != nil {
		t.Fatal(err)
	}
	e.wantStandbyRefuses(t, "ha", addr)

	// Synchronous: while the standby is frozen a commit is not
	// acknowledged; once it runs again, it is.
	sb := e.standbyPID(t, "ha")
	// Each server process leads its own session: freeze them one by one.
	procs := append(childrenOf(t, sb), sb)
	for _, pid := range procs {
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(e.ctx, 2*time.Second)
	_, err = pc.Exec(ctx, "INSERT INTO t VALUES (100)")
	cancel()
	for _, pid := range procs {
		_ = syscall.Kill(pid, syscall.SIGCONT)
	}
	if err == nil {
		t.Fatal("a commit was acknowledged while the standby was frozen")
	}
	pc = e.db(t, "ha", "s3cret-pass")
	if _, err := pc.Exec(e.ctx, "DELETE FROM t WHERE v = 100"); err != nil {
		t.Fatal(err)
	}

	// A standby that dies is started again.
	if err := syscall.Kill(sb, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for e.standbyPIDOrZero("ha") == sb || syncState(t, pc) != "sync" {
		if time.Now().After(deadline) {
			t.Fatalf("the standby did not come back: %v", instanceHealth(e, "ha"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if h := instanceHealth(e, "ha"); h["standby"] == nil {
		t.Fatalf("health has no standby: %v", h)
	}

	// Failover: the standby becomes the primary in the other zone.
	out, err := e.rds.RebootDBInstance(e.ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("ha"), ForceFailover: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.DBInstance.DBInstanceStatus); got != "rebooting" {
		t.Fatalf("status %q, want rebooting", got)
	}
	e.waitStatus(t, "ha", "available")
	db = e.describe(t, "ha")
	if aws.ToString(db.AvailabilityZone) != az2 || aws.ToString(db.SecondaryAvailabilityZone) != az1 || !aws.ToBool(db.MultiAZ) {
		t.Fatalf("after failover: AvailabilityZone %q, SecondaryAvailabilityZone %q, MultiAZ %v", aws.ToString(db.AvailabilityZone), aws.ToString(db.SecondaryAvailabilityZone), aws.ToBool(db.MultiAZ))
	}
	if a2, _ := e.srv.RDS().Loopback(e.ctx, acct, region, "ha"); a2 != addr {
		t.Fatalf("loopback moved from %s to %s", addr, a2)
	}
	pc = e.db(t, "ha", "s3cret-pass")
	var n int
	if err := pc.QueryRow(e.ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 2 {
		t.Fatalf("after failover t has %d rows (%v), want 2", n, err)
	}
	if _, err := pc.Exec(e.ctx, "INSERT INTO t VALUES (3)"); err != nil {
		t.Fatalf("write after failover: %v", err)
	}
	if st := syncState(t, pc); st != "sync" {
		t.Fatalf("after failover sync_state %q, want a new synchronous standby", st)
	}
	var timeline int
	if err := pc.QueryRow(e.ctx, "SELECT timeline_id FROM pg_control_checkpoint()").Scan(&timeline); err != nil || timeline < 2 {
		t.Fatalf("timeline %d (%v): the primary is not the promoted standby", timeline, err)
	}
	e.wantStandbyRefuses(t, "ha", addr)

	// Single-AZ: the standby goes; ForceFailover is refused.
	mod, err := e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("ha"), MultiAZ: aws.Bool(false), ApplyImmediately: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(mod.DBInstance.DBInstanceStatus); got != "modifying" {
		t.Fatalf("status %q, want modifying", got)
	}
	if p := mod.DBInstance.PendingModifiedValues; p == nil || p.MultiAZ == nil || *p.MultiAZ {
		t.Fatalf("ModifyDBInstance's PendingModifiedValues %+v, want MultiAZ false pending", p)
	}
	e.waitStatus(t, "ha", "available")
	db = e.describe(t, "ha")
	if p := db.PendingModifiedValues; p != nil && p.MultiAZ != nil {
		t.Fatalf("available, but MultiAZ %v still pending", *p.MultiAZ)
	}
	if aws.ToBool(db.MultiAZ) || db.SecondaryAvailabilityZone != nil {
		t.Fatalf("single-AZ: MultiAZ %v, SecondaryAvailabilityZone %v", aws.ToBool(db.MultiAZ), aws.ToString(db.SecondaryAvailabilityZone))
	}
	if _, err := os.Stat(filepath.Join(e.dir, "rds", acct, region, "ha", "standby")); !os.IsNotExist(err) {
		t.Fatalf("the standby's files are still there: %v", err)
	}
	pc = e.db(t, "ha", "s3cret-pass")
	if st := syncState(t, pc); st != "" {
		t.Fatalf("single-AZ primary still replicates: %q", st)
	}
	ctx, cancel = context.WithTimeout(e.ctx, 5*time.Second)
	_, err = pc.Exec(ctx, "INSERT INTO t VALUES (4)")
	cancel()
	if err != nil {
		t.Fatalf("write without a standby: %v", err)
	}
	_, err = e.rds.RebootDBInstance(e.ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("ha"), ForceFailover: aws.Bool(true)})
	wantCode(t, err, "InvalidParameterCombination")

	// Multi-AZ again: a new standby from a base backup.
	if _, err := e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("ha"), MultiAZ: aws.Bool(true), ApplyImmediately: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "ha", "available")
	db = e.describe(t, "ha")
	if !aws.ToBool(db.MultiAZ) || aws.ToString(db.SecondaryAvailabilityZone) != az1 {
		t.Fatalf("Multi-AZ again: MultiAZ %v, SecondaryAvailabilityZone %q", aws.ToBool(db.MultiAZ), aws.ToString(db.SecondaryAvailabilityZone))
	}
	pc = e.db(t, "ha", "s3cret-pass")
	if st := syncState(t, pc); st != "sync" {
		t.Fatalf("sync_state %q after MultiAZ=true", st)
	}

	// A restore of a Multi-AZ instance's snapshot is a single-AZ primary:
	// its commits wait for no standby.
	if _, err := e.rds.CreateDBSnapshot(e.ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("ha"), DBSnapshotIdentifier: aws.String("ha-snap")}); err != nil {
		t.Fatal(err)
	}
	e.waitSnapshot(t, "ha-snap", "available")
	if _, err := e.rds.RestoreDBInstanceFromDBSnapshot(e.ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{DBInstanceIdentifier: aws.String("ha-restored"), DBSnapshotIdentifier: aws.String("ha-snap")}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "ha-restored", "available")
	rc := e.db(t, "ha-restored", "s3cret-pass")
	ctx, cancel = context.WithTimeout(e.ctx, 5*time.Second)
	_, err = rc.Exec(ctx, "INSERT INTO t VALUES (5)")
	cancel()
	if err != nil {
		t.Fatalf("write on the restore of a Multi-AZ snapshot: %v", err)
	}
	if _, err := e.rds.DeleteDBInstance(e.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("ha-restored"), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "ha-restored", "")
	if _, err := e.rds.DeleteDBSnapshot(e.ctx, &rds.DeleteDBSnapshotInput{DBSnapshotIdentifier: aws.String("ha-snap")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rds.DeleteDBInstance(e.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("ha"), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "ha", "")
	if _, err := os.Stat(filepath.Join(e.dir, "rds", acct, region, "ha")); !os.IsNotExist(err) {
		t.Fatalf("the instance's files are still there: %v", err)
	}
}

// TestMultiAZRestart: after minicloud restarts, both servers run again in
// their roles, and a failover still finds the data.
func TestMultiAZRestart(t *testing.T) {
	t.Parallel()
	if !hasPostgres() {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
	}
	dir := t.TempDir()
	e := newEnvIn(t, dir)
	e.multiAZ(t, "pair", "10.22")
	pc := e.db(t, "pair", "s3cret-pass")
	if _, err := pc.Exec(e.ctx, "CREATE TABLE t (v int); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	e.close()

	e2 := newEnvIn(t, dir)
	e2.waitStatus(t, "pair", "available")
	before := aws.ToString(e2.describe(t, "pair").SecondaryAvailabilityZone)
	pc = e2.db(t, "pair", "s3cret-pass")
	deadline := time.Now().Add(30 * time.Second)
	for syncState(t, pc) != "sync" {
		if time.Now().After(deadline) {
			t.Fatalf("after the restart sync_state %q, want the standby back", syncState(t, pc))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := pc.Exec(e2.ctx, "INSERT INTO t VALUES (2)"); err != nil {
		t.Fatal(err)
	}

	// Stopped and started (allowed for Multi-AZ postgres): the pair again.
	if _, err := e2.rds.StopDBInstance(e2.ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String("pair")}); err != nil {
		t.Fatal(err)
	}
	e2.waitStatus(t, "pair", "stopped")
	if h := instanceHealth(e2, "pair"); h["standby"] == nil {
		t.Fatalf("a stopped Multi-AZ instance forgot its standby: %v", h)
	}
	if _, err := e2.rds.StartDBInstance(e2.ctx, &rds.StartDBInstanceInput{DBInstanceIdentifier: aws.String("pair")}); err != nil {
		t.Fatal(err)
	}
	e2.waitStatus(t, "pair", "available")
	pc = e2.db(t, "pair", "s3cret-pass")
	if st := syncState(t, pc); st != "sync" {
		t.Fatalf("after a start sync_state %q, want the standby back", st)
	}
	if _, err := e2.rds.RebootDBInstance(e2.ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("pair"), ForceFailover: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e2.waitStatus(t, "pair", "available")
	if az := aws.ToString(e2.describe(t, "pair").AvailabilityZone); az != before {
		t.Fatalf("after failover AvailabilityZone %q, want the standby's %q", az, before)
	}
	pc = e2.db(t, "pair", "s3cret-pass")
	var n int
	if err := pc.QueryRow(e2.ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 2 {
		t.Fatalf("after failover t has %d rows (%v), want 2", n, err)
	}
	e2.close()

	// Restarted after the failover: the promoted server is still the
	// primary, in the standby's old zone, with a standby again.
	e3 := newEnvIn(t, dir)
	e3.waitStatus(t, "pair", "available")
	if az := aws.ToString(e3.describe(t, "pair").AvailabilityZone); az != before {
		t.Fatalf("after a restart AvailabilityZone %q, want %q", az, before)
	}
	pc = e3.db(t, "pair", "s3cret-pass")
	if _, err := pc.Exec(e3.ctx, "INSERT INTO t VALUES (3)"); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(30 * time.Second)
	for syncState(t, pc) != "sync" {
		if time.Now().After(deadline) {
			t.Fatalf("after the second restart sync_state %q", syncState(t, pc))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// standbyPID is the process ID of instance id's standby postmaster.
func (e *testEnv) standbyPID(t *testing.T, id string) int {
	t.Helper()
	pid := e.standbyPIDOrZero(id)
	if pid == 0 {
		t.Fatalf("no standby postmaster for %s", id)
	}
	return pid
}

func (e *testEnv) standbyPIDOrZero(id string) int {
	raw, err := os.ReadFile(filepath.Join(e.dir, "rds", acct, region, id, "standby", "data", "postmaster.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(raw), "\n", 2)[0]))
	return pid
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(t *testing.T, pid int) []int {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, st := range stats {
		raw, err := os.ReadFile(st)
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			child, _ := strconv.Atoi(filepath.Base(filepath.Dir(st)))
			out = append(out, child)
		}
	}
	if len(out) == 0 {
		t.Fatalf("postmaster %d has no children", pid)
	}
	return out
}

// instanceHealth is instance id's entry in the health endpoint's rds
// section.
func instanceHealth(e *testEnv, id string) map[string]any {
	list, _ := e.srv.RDS().Health()["instances"].([]map[string]any)
	for _, in := range list {
		if in["id"] == id {
			return in
		}
	}
	return nil
}

// TestMultiAZAutomaticFailover: when the primary's server dies and cannot
// start again (here its control file is gone), the standby takes over by
// itself, with every committed row, behind the same loopback address.
func TestMultiAZAutomaticFailover(t *testing.T) {
	t.Parallel()
	if !hasPostgres() {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
	}
	e := newEnv(t)
	e.multiAZ(t, "auto", "10.23")
	before := e.describe(t, "auto")
	pc := e.db(t, "auto", "s3cret-pass")
	if _, err := pc.Exec(e.ctx, "CREATE TABLE t (v int); INSERT INTO t VALUES (1), (2), (3)"); err != nil {
		t.Fatal(err)
	}
	_ = pc.Close(e.ctx)
	data := filepath.Join(e.dir, "rds", acct, region, "auto", "data")
	raw, err := os.ReadFile(filepath.Join(data, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(raw), "\n", 2)[0]))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(data, "global", "pg_control"), filepath.Join(data, "global", "pg_control.lost")); err != nil {
		t.Fatal(err)
	}
	// The primary's postmaster, started by this test's minicloud.
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for aws.ToString(e.describe(t, "auto").AvailabilityZone) != aws.ToString(before.SecondaryAvailabilityZone) {
		if time.Now().After(deadline) {
			t.Fatalf("no failover within 60s: %+v", instanceHealth(e, "auto"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	e.waitStatus(t, "auto", "available")
	db := e.describe(t, "auto")
	if aws.ToString(db.SecondaryAvailabilityZone) != aws.ToString(before.AvailabilityZone) {
		t.Fatalf("SecondaryAvailabilityZone %q, want the old primary's %q", aws.ToString(db.SecondaryAvailabilityZone), aws.ToString(before.AvailabilityZone))
	}
	pc = e.db(t, "auto", "s3cret-pass")
	var n int
	if err := pc.QueryRow(e.ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 3 {
		t.Fatalf("after the failover t has %d rows (%v), want 3", n, err)
	}
	if _, err := pc.Exec(e.ctx, "INSERT INTO t VALUES (4)"); err != nil {
		t.Fatal(err)
	}
	if st := syncState(t, pc); st != "sync" {
		t.Fatalf("sync_state %q, want a new standby", st)
	}
}

// TestMultiAZReadReplica: a read replica of a Multi-AZ instance follows the
// new primary after a failover.
func TestMultiAZReadReplica(t *testing.T) {
	t.Parallel()
	if !hasPostgres() {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
	}
	e := newEnv(t)
	e.multiAZ(t, "main", "10.24")
	pc := e.db(t, "main", "s3cret-pass")
	if _, err := pc.Exec(e.ctx, "CREATE TABLE t (v int); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	_, err := e.rds.CreateDBInstanceReadReplica(e.ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("r2"), SourceDBInstanceIdentifier: aws.String("main"), MultiAZ: aws.Bool(true)})
	wantCode(t, err, "InvalidParameterCombination")
	e.replica(t, "reader", "main")
	rc := e.db(t, "reader", "s3cret-pass")
	waitRow(t, rc, "SELECT count(*) FROM t", 1, 5*time.Second)
	if _, err := e.rds.RebootDBInstance(e.ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("main"), ForceFailover: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "main", "available")
	pc = e.db(t, "main", "s3cret-pass")
	if _, err := pc.Exec(e.ctx, "INSERT INTO t VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	waitRow(t, rc, "SELECT count(*) FROM t", 2, 20*time.Second)
	e.replicating(t, "reader")

	// Promoted, it is a primary without a synchronous standby: its commits
	// do not wait for the source's.
	if _, err := e.rds.PromoteReadReplica(e.ctx, &rds.PromoteReadReplicaInput{DBInstanceIdentifier: aws.String("reader")}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "reader", "available")
	for deadline := time.Now().Add(60 * time.Second); ; {
		if d := e.describe(t, "reader"); aws.ToString(d.ReadReplicaSourceDBInstanceIdentifier) == "" && aws.ToString(d.DBInstanceStatus) == "available" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the replica was never promoted")
		}
		time.Sleep(200 * time.Millisecond)
	}
	rc = e.db(t, "reader", "s3cret-pass")
	ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
	_, err = rc.Exec(ctx, "INSERT INTO t VALUES (3)")
	cancel()
	if err != nil {
		t.Fatalf("write on the promoted replica of a Multi-AZ source: %v", err)
	}
}
