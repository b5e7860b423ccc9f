package dataplane_test

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

// publicIP checks that addr is in minicloud's public range, 198.18.0.0/15.
func publicIP(t *testing.T, what, addr string) {
	t.Helper()
	ip, err := netip.ParseAddr(addr)
	if err != nil || !netip.MustParsePrefix("198.18.0.0/15").Contains(ip) {
		t.Fatalf("%s connected to %q, want a public IP in 198.18.0.0/15", what, addr)
	}
}

// TestRDSEndpointFromHost connects from the host to DB instances by their
// endpoint names, as an application outside AWS does: the name resolved by
// minicloud's DNS (AWS's public DNS) to the public IP of a publicly
// accessible instance, reached through the VPC's internet gateway and the
// instance's security group. MariaDB with go-sql-driver/mysql (a dialer
// that resolves with minicloud's DNS), and a PostgreSQL read replica of a
// publicly accessible source with pgx: the replica inherits
// PubliclyAccessible and gets its own public IP.
func TestRDSEndpointFromHost(t *testing.T) {
	if _, err := os.Stat("/usr/sbin/mariadbd"); err != nil {
		t.Fatal("no MariaDB server: scripts/deps.sh installs mariadb-server")
	}
	e, dnsAddr := newEnvDNS(t)
	ctx := e.ctx
	v := e.newVPC("10.62.0.0/16", "10.62.1.0/24", "10.62.2.0/24")
	if _, err := e.ec2.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: aws.String(v.id),
		EnableDnsHostnames: &types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	sg := e.newSG(v.id, "db-public", tcpFrom(3306, "0.0.0.0/0"), tcpFrom(5432, "0.0.0.0/0"))
	if _, err := e.rds.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("pub"),
		DBSubnetGroupDescription: aws.String("pub"), SubnetIds: v.subnets}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ id, engine, user string }{{"maria-pub", "mariadb", "admin"}, {"pg-pub", "postgres", "master"}} {
		if _, err := e.rds.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String(c.id),
			Engine: aws.String(c.engine), DBInstanceClass: aws.String("db.t3.micro"), AllocatedStorage: aws.Int32(20),
			MasterUsername: aws.String(c.user), MasterUserPassword: aws.String("secret-password"), DBName: aws.String("app"),
			DBSubnetGroupName: aws.String("pub"), VpcSecurityGroupIds: []string{sg}, PubliclyAccessible: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
	}
	e.waitDB("pg-pub", "available", 90*time.Second)
	if _, err := e.rds.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("pg-rep"),
		SourceDBInstanceIdentifier: aws.String("pg-pub")}); err != nil {
		t.Fatal(err)
	}
	e.waitDB("maria-pub", "available", 90*time.Second)
	e.waitDB("pg-rep", "available", 90*time.Second)

	// The host's resolver for every name below: minicloud's DNS only.
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, dnsAddr)
	}}

	// MariaDB through its endpoint name.
	var (
		mu     sync.Mutex
		dialed []string
	)
	mysql.RegisterDialContext("minicloud-dns", func(ctx context.Context, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		ips, err := resolver.LookupHost(ctx, host)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		dialed = append(dialed, ips[0])
		mu.Unlock()
		var d net.Dialer
		return d.DialContext(ctx, "tcp", net.JoinHostPort(ips[0], port))
	})
	name, port := e.dbEndpoint("maria-pub")
	db, err := sql.Open("mysql", fmt.Sprintf("admin:secret-password@minicloud-dns(%s:%d)/app?timeout=3s", name, port))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The security group's rules and the public IP's NAT reach the
	// namespace a moment after the instance is available.
	if err := eventually(30*time.Second, func() error { return db.PingContext(ctx) }); err != nil {
		t.Fatalf("mysql to %s:%d: %v", name, port, err)
	}
	mu.Lock()
	publicIP(t, "mysql to "+name, dialed[len(dialed)-1])
	mu.Unlock()
	for _, q := range []string{"CREATE TABLE visits (n int)", "INSERT INTO visits VALUES (41), (1)"} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT sum(n) FROM visits").Scan(&n); err != nil || n != 42 {
		t.Fatalf("sum = %d, %v; want 42", n, err)
	}

	// PostgreSQL: the source and its replica, each by its own name and
	// its own public IP.
	connect := func(id string) *pgx.Conn {
		t.Helper()
		name, port := e.dbEndpoint(id)
		cfg, err := pgx.ParseConfig(fmt.Sprintf("postgres://master:secret-password@%s:%d/app?sslmode=disable&connect_timeout=3", name, port))
		if err != nil {
			t.Fatal(err)
		}
		cfg.LookupFunc = resolver.LookupHost
		var c *pgx.Conn
		if err := eventually(30*time.Second, func() error {
			var err error
			c, err = pgx.ConnectConfig(ctx, cfg)
			return err
		}); err != nil {
			t.Fatalf("pgx to %s (%s:%d): %v", id, name, port, err)
		}
		t.Cleanup(func() { _ = c.Close(context.Background()) })
		host, _, _ := net.SplitHostPort(c.PgConn().Conn().RemoteAddr().String())
		publicIP(t, "pgx to "+name, host)
		return c
	}
	src, rep := connect("pg-pub"), connect("pg-rep")
	if src.PgConn().Conn().RemoteAddr().String() == rep.PgConn().Conn().RemoteAddr().String() {
		t.Fatalf("source and replica share the address %s", src.PgConn().Conn().RemoteAddr())
	}
	if _, err := src.Exec(ctx, "CREATE TABLE visits (n int); INSERT INTO visits VALUES (41), (1)"); err != nil {
		t.Fatal(err)
	}
	if err := eventually(5*time.Second, func() error {
		var n int
		if err := rep.QueryRow(ctx, "SELECT sum(n) FROM visits").Scan(&n); err != nil {
			return err
		}
		if n != 42 {
			return fmt.Errorf("sum %d", n)
		}
		return nil
	}); err != nil {
		t.Fatalf("reading the source's rows on the replica through its endpoint: %v", err)
	}
	var inRecovery bool
	if err := rep.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&inRecovery); err != nil || !inRecovery {
		t.Fatalf("replica's pg_is_in_recovery() = %v, %v", inRecovery, err)
	}

	for _, id := range []string{"pg-rep", "pg-pub", "maria-pub"} {
		if _, err := e.rds.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String(id), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
		e.waitDBGone(id)
	}
}
