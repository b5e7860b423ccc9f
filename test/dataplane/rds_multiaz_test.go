package dataplane_test

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/jackc/pgx/v5"
	"github.com/miekg/dns"
)

// TestRDSMultiAZFailoverInVPC: a Multi-AZ instance has one interface per
// zone of its subnet group, both behind its security group; only the
// primary's answers, and its endpoint name resolves to it. After a forced
// failover the name resolves, in the VPC and on minicloud's DNS, to the
// interface in the other zone, where an allowed instance connects, and the
// loopback address still reaches the data.
func TestRDSMultiAZFailoverInVPC(t *testing.T) {
	e, dnsAddr := newEnvDNS(t)
	ctx := e.ctx

	v := e.newVPC("10.63.0.0/16", "10.63.1.0/24", "10.63.2.0/24")
	zoneOf := map[string]string{v.subnets[0]: "us-east-1a", v.subnets[1]: "us-east-1b"}
	web := e.newSG(v.id, "web", tcpFrom(8080, "0.0.0.0/0"))
	dbSG := e.newSG(v.id, "db", tcpFromGroup(5432, web))
	if _, err := e.rds.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("dbs"),
		DBSubnetGroupDescription: aws.String("dbs"), SubnetIds: v.subnets}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rds.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("ha"),
		Engine: aws.String("postgres"), DBInstanceClass: aws.String("db.t3.micro"), AllocatedStorage: aws.Int32(20),
		MasterUsername: aws.String("master"), MasterUserPassword: aws.String("secret-password"), DBName: aws.String("app"),
		DBSubnetGroupName: aws.String("dbs"), VpcSecurityGroupIds: []string{dbSG}, MultiAZ: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	insts := e.runAll(e.image(), launch{subnet: v.subnets[0], groups: []string{web}, userData: resolveUserData})
	webIP := e.eip(aws.ToString(insts[0].InstanceId))
	e.waitDB("ha", "available", 120*time.Second)
	describe := func() (az, secondary string) {
		out, err := e.rds.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("ha")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.DBInstances[0].AvailabilityZone), aws.ToString(out.DBInstances[0].SecondaryAvailabilityZone)
	}
	az1, az2 := describe()
	if az1 == az2 || az2 == "" {
		t.Fatalf("AvailabilityZone %q, SecondaryAvailabilityZone %q", az1, az2)
	}
	// One interface in each zone, both with the instance's group.
	ipIn := map[string]string{}
	for _, n := range e.dbENIs(v.id) {
		if len(n.Groups) != 1 || aws.ToString(n.Groups[0].GroupId) != dbSG {
			t.Fatalf("interface %s has groups %+v, want %s", aws.ToString(n.NetworkInterfaceId), n.Groups, dbSG)
		}
		ipIn[zoneOf[aws.ToString(n.SubnetId)]] = aws.ToString(n.PrivateIpAddress)
	}
	primaryIP, standbyIP := ipIn[az1], ipIn[az2]
	if len(ipIn) != 2 || primaryIP == "" || standbyIP == "" {
		t.Fatalf("RDS interfaces by zone %v, want one in %s and one in %s", ipIn, az1, az2)
	}

	name, port := e.dbEndpoint("ha")
	ask := func(path string) (string, error) { return fetch("http://" + webIP + ":8080" + path) }
	resolvesTo := func(want string) {
		t.Helper()
		if err := eventually(60*time.Second, func() error {
			got, err := ask("/resolve?name=" + url.QueryEscape(name))
			if err == nil && got != want {
				err = fmt.Errorf("resolved to %q", got)
			}
			return err
		}); err != nil {
			t.Fatalf("the instance resolving %s (want %s): %v", name, want, err)
		}
		if rcode, ips := askDNS(t, dnsAddr, name); rcode != dns.RcodeSuccess || !slices.Equal(ips, []string{want}) {
			t.Fatalf("minicloud's DNS: %s is %s %v, want %s", name, dns.RcodeToString[rcode], ips, want)
		}
		if got, err := ask("/tcp?host=" + url.QueryEscape(name) + "&port=" + strconv.Itoa(port)); err != nil || got != "ok" {
			t.Fatalf("the instance connecting to %s:%d: %q %v", name, port, got, err)
		}
	}
	resolvesTo(primaryIP)
	// The standby serves nobody, even where its group would allow.
	if got, err := ask("/tcp?host=" + standbyIP + "&port=" + strconv.Itoa(port)); err != nil || !strings.HasPrefix(got, "fail") {
		t.Fatalf("the instance connecting to the standby %s:%d: %q %v", standbyIP, port, got, err)
	}

	addr, err := e.srv.RDS().Loopback(ctx, "000000000000", "us-east-1", "ha")
	if err != nil || addr == "" {
		t.Fatalf("loopback: %q %v", addr, err)
	}
	dsn := fmt.Sprintf("postgres://master:secret-password@%s/app?sslmode=disable&connect_timeout=5", addr)
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "CREATE TABLE t (v int); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	_ = c.Close(ctx)

	if _, err := e.rds.RebootDBInstance(ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("ha"), ForceFailover: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.waitDB("ha", "available", 120*time.Second)
	if az, secondary := describe(); az != az2 || secondary != az1 {
		t.Fatalf("after failover AvailabilityZone %q, SecondaryAvailabilityZone %q; want %q, %q", az, secondary, az2, az1)
	}
	resolvesTo(standbyIP)
	if got, err := ask("/tcp?host=" + primaryIP + "&port=" + strconv.Itoa(port)); err != nil || !strings.HasPrefix(got, "fail") {
		t.Fatalf("the instance connecting to the new standby %s:%d: %q %v", primaryIP, port, got, err)
	}
	if a2, _ := e.srv.RDS().Loopback(ctx, "000000000000", "us-east-1", "ha"); a2 != addr {
		t.Fatalf("loopback moved from %s to %s", addr, a2)
	}
	c, err = pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("loopback after failover: %v", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "INSERT INTO t VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 2 {
		t.Fatalf("t has %d rows (%v), want 2", n, err)
	}
	if got := len(e.dbENIs(v.id)); got != 2 {
		t.Fatalf("%d RDS interfaces after failover, want 2", got)
	}

	// Single-AZ: the standby's interface goes; the primary's stays.
	if _, err := e.rds.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("ha"), MultiAZ: aws.Bool(false), ApplyImmediately: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.waitDB("ha", "available", 60*time.Second)
	if enis := e.dbENIs(v.id); len(enis) != 1 || aws.ToString(enis[0].PrivateIpAddress) != standbyIP {
		t.Fatalf("single-AZ: RDS interfaces %d, want only the primary's %s", len(enis), standbyIP)
	}
	resolvesTo(standbyIP)

	if _, err := e.rds.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("ha"), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if err := eventually(60*time.Second, func() error {
		if n := len(e.dbENIs(v.id)); n != 0 {
			return fmt.Errorf("%d RDS interfaces after delete", n)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
