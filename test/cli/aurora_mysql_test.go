package cli_test

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// mariadbClient is the host's MySQL client (Debian's mariadb-client,
// which scripts/deps.sh installs).
func mariadbClient(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("mariadb")
	if err != nil {
		t.Fatal("no mariadb client on PATH: scripts/deps.sh installs mariadb-client")
	}
	return p
}

// mysqlAt runs q with the MariaDB client as the cluster's master user on
// database app at addr (host:port), rows tab-separated without headers.
func mysqlAt(t *testing.T, client, addr, q string) result {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	return run(t, cleanEnv(), client, "--protocol=TCP", "-h", host, "-P", port, "-u", "admin", "-psecret-password-1",
		"--connect-timeout=5", "-N", "-B", "-D", "app", "-e", q)
}

// TestAuroraMySQLCLI: an aurora-mysql cluster through the AWS CLI (v2,
// with its waiters) and the host's MySQL client (mariadb) through the
// endpoints' loopback addresses. The cluster answers as Aurora MySQL does
// (port 3306, an 8.0.mysql_aurora version); a writer and a reader; a write
// through the cluster endpoint is read through the reader endpoint within a
// second, where a write fails with MySQL's ERROR 1290 (read-only);
// FailoverDBCluster makes the reader the writer, the cluster endpoint
// follows it with the data, and the old writer rejoins read-only.
func TestAuroraMySQLCLI(t *testing.T) {
	t.Parallel()
	client := mariadbClient(t)
	cli := requireCLIs(t)[1]
	s, env := serverWithFastWaiters(t, cli)
	start := time.Now()
	aws, do := cliCalls(t, cli, s, env)
	type cluster struct {
		Status, Engine, EngineVersion string
		Port                          int
		DBClusterMembers              []struct {
			DBInstanceIdentifier string
			IsClusterWriter      bool
		}
	}
	writer := func() (string, string) {
		t.Helper()
		c := decode[struct{ DBClusters []cluster }](t, do("rds", "describe-db-clusters", "--db-cluster-identifier", "shop")).DBClusters[0]
		for _, m := range c.DBClusterMembers {
			if m.IsClusterWriter {
				return m.DBInstanceIdentifier, c.Status
			}
		}
		return "", c.Status
	}

	vpc := decode[struct{ Vpc struct{ VpcId string } }](t, do("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16")).Vpc.VpcId
	var subnets []string
	for i, z := range []string{"a", "b"} {
		subnets = append(subnets, decode[struct{ Subnet struct{ SubnetId string } }](t, do("ec2", "create-subnet", "--vpc-id", vpc,
			"--cidr-block", fmt.Sprintf("10.0.%d.0/24", i+1), "--availability-zone", "us-east-1"+z)).Subnet.SubnetId)
	}
	do(append([]string{"rds", "create-db-subnet-group", "--db-subnet-group-name", "shop", "--db-subnet-group-description", "two zones", "--subnet-ids"}, subnets...)...)
	c := decode[struct{ DBCluster cluster }](t, do("rds", "create-db-cluster", "--db-cluster-identifier", "shop", "--engine", "aurora-mysql",
		"--master-username", "admin", "--master-user-password", "secret-password-1", "--database-name", "app", "--db-subnet-group-name", "shop")).DBCluster
	if c.Engine != "aurora-mysql" || c.Port != 3306 || !strings.Contains(c.EngineVersion, ".mysql_aurora.") {
		t.Errorf("create-db-cluster answered %+v, want aurora-mysql on 3306 at an 8.0.mysql_aurora version", c)
	}
	for i, z := range []string{"a", "b"} {
		do("rds", "create-db-instance", "--db-instance-identifier", fmt.Sprintf("shop-%d", i+1), "--db-cluster-identifier", "shop",
			"--engine", "aurora-mysql", "--db-instance-class", "db.r6g.large", "--availability-zone", "us-east-1"+z)
	}
	t.Cleanup(func() {
		// What the test's end did not delete goes with the server; this
		// only keeps a failed run from leaving servers behind longer.
		for _, id := range []string{"shop-1", "shop-2"} {
			aws("rds", "delete-db-instance", "--db-instance-identifier", id)
		}
	})
	do("rds", "wait", "db-instance-available", "--filters", "Name=db-cluster-id,Values=shop")
	do("rds", "wait", "db-cluster-available", "--db-cluster-identifier", "shop")
	if w, st := writer(); w != "shop-1" || st != "available" {
		t.Fatalf("cluster %s with writer %q, want available with shop-1", st, w)
	}
	t.Logf("cluster + writer + reader available in %v", time.Since(start).Round(100*time.Millisecond))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	h := rdsHealth(ctx, t, s)
	if len(h.RDS.Clusters) != 1 || h.RDS.Clusters[0].Loopback == "" || h.RDS.Clusters[0].ReaderLoopback == "" {
		t.Fatalf("health lists clusters %+v, want shop with two loopback addresses", h.RDS.Clusters)
	}
	cl, rd := h.RDS.Clusters[0].Loopback, h.RDS.Clusters[0].ReaderLoopback
	if r := mysqlAt(t, client, cl, "CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders VALUES (1); SELECT @@read_only"); r.code != 0 || strings.TrimSpace(r.stdout) != "0" {
		t.Fatalf("write through the cluster endpoint: %s", r)
	}
	// rows waits (up to d) until the server behind addr has the rows want.
	rows := func(addr, want string, d time.Duration) {
		t.Helper()
		deadline := time.Now().Add(d)
		for {
			r := mysqlAt(t, client, addr, "SELECT id FROM orders ORDER BY id")
			got := strings.Join(strings.Fields(r.stdout), ",")
			if r.code == 0 && got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("rows through %s after %v: %q (%s), want %s", addr, d, got, r, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	rows(rd, "1", time.Second)
	readOnly := func(addr string) {
		t.Helper()
		if r := mysqlAt(t, client, addr, "INSERT INTO orders VALUES (99)"); r.code == 0 || !strings.Contains(r.stderr, "ERROR 1290") {
			t.Fatalf("write through %s: %s, want ERROR 1290 (read-only)", addr, r)
		}
	}
	readOnly(rd)

	do("rds", "failover-db-cluster", "--db-cluster-identifier", "shop")
	failed := time.Now()
	// No waiter says "this member is the writer": poll the cluster.
	for w, st := writer(); w != "shop-2" || st != "available"; w, st = writer() {
		if time.Since(failed) > 60*time.Second {
			t.Fatalf("60 s after failover-db-cluster: cluster %s, writer %q, want shop-2", st, w)
		}
		time.Sleep(300 * time.Millisecond)
	}
	// The cluster endpoint follows the new writer, which has the data.
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := mysqlAt(t, client, cl, "INSERT INTO orders VALUES (2); SELECT @@read_only")
		if r.code == 0 && strings.TrimSpace(r.stdout) == "0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("write through the cluster endpoint after the failover: %s", r)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Polled through the CLI (a second or more a call under load): this is
	// the test's pace, not the failover's (docs/benchmarks.md measures that).
	t.Logf("writer moved and written through the cluster endpoint %v after failover-db-cluster returned", time.Since(failed).Round(10*time.Millisecond))
	rows(cl, "1,2", 0)
	// The old writer rejoins as the reader: read-only, with the new row.
	do("rds", "wait", "db-instance-available", "--filters", "Name=db-cluster-id,Values=shop")
	rows(rd, "1,2", 30*time.Second)
	readOnly(rd)

	for _, id := range []string{"shop-2", "shop-1"} {
		do("rds", "delete-db-instance", "--db-instance-identifier", id)
	}
	do("rds", "wait", "db-instance-deleted", "--filters", "Name=db-cluster-id,Values=shop")
	do("rds", "delete-db-cluster", "--db-cluster-identifier", "shop", "--skip-final-snapshot")
	do("rds", "wait", "db-cluster-deleted", "--db-cluster-identifier", "shop")
	if r := aws("rds", "describe-db-clusters", "--db-cluster-identifier", "shop"); r.code == 0 || errorCode(r.stderr) != "DBClusterNotFoundFault" {
		t.Errorf("describe-db-clusters after delete: %s, want DBClusterNotFoundFault", r)
	}
	if left := rdsHealth(ctx, t, s).RDS.Instances; len(left) != 0 {
		t.Errorf("instances left after the cluster's deletion: %+v", left)
	}
	t.Logf("the cluster's life took %v", time.Since(start).Round(100*time.Millisecond))
}
