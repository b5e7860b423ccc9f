package dataplane_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/miekg/dns"
)

// TestAuroraClusterInVPC builds an Aurora PostgreSQL cluster with the Go
// SDK — a writer and two readers, each on its own ENI in its own zone of
// the subnet group behind the cluster's security group — and uses it with
// pgx through the loopback ports /_minicloud/health reports: a row written
// through the cluster endpoint's is read through the reader endpoint's
// within a second, a write there fails with SQLSTATE 25006, and 20 new
// connections reach both readers. minicloud's DNS answers the cluster
// endpoint with the writer's private IP and the reader endpoint with both
// readers', rotated, for a second.
func TestAuroraClusterInVPC(t *testing.T) {
	e, dnsAddr := newEnvDNS(t)
	ctx := e.ctx
	v := e.newVPC("10.62.0.0/16", "10.62.1.0/24", "10.62.2.0/24", "10.62.3.0/24")
	closed := e.newSG(v.id, "aurora")
	if _, err := e.rds.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("dbs"),
		DBSubnetGroupDescription: aws.String("dbs"), SubnetIds: v.subnets}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rds.CreateDBCluster(ctx, &rds.CreateDBClusterInput{DBClusterIdentifier: aws.String("shop"),
		Engine: aws.String("aurora-postgresql"), MasterUsername: aws.String("master"), MasterUserPassword: aws.String("secret-password"),
		DatabaseName: aws.String("app"), DBSubnetGroupName: aws.String("dbs"), VpcSecurityGroupIds: []string{closed}}); err != nil {
		t.Fatal(err)
	}
	members := []string{"shop-1", "shop-2", "shop-3"}
	for i, id := range members {
		if _, err := e.rds.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String(id),
			DBClusterIdentifier: aws.String("shop"), Engine: aws.String("aurora-postgresql"), DBInstanceClass: aws.String("db.r6g.large"),
			AvailabilityZone: aws.String("us-east-1" + string(rune('a'+i)))}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range members {
		e.waitDB(id, "available", 120*time.Second)
	}
	var cl struct{ endpoint, reader, loopback, readerLoopback string }
	if err := eventually(30*time.Second, func() error {
		out, err := e.rds.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String("shop")})
		if err != nil {
			return err
		}
		c := out.DBClusters[0]
		if st := aws.ToString(c.Status); st != "available" {
			return fmt.Errorf("cluster %s", st)
		}
		cl.endpoint, cl.reader = aws.ToString(c.Endpoint), aws.ToString(c.ReaderEndpoint)
		for _, h := range e.srv.RDS().Health()["clusters"].([]map[string]any) {
			if h["id"] == "shop" {
				cl.loopback, _ = h["loopback"].(string)
				cl.readerLoopback, _ = h["readerLoopback"].(string)
			}
		}
		if cl.loopback == "" || cl.readerLoopback == "" {
			return errors.New("no loopback ports in health yet")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Each member on its own ENI, in its own zone, behind the cluster's group.
	ips := map[string]string{}
	zones := map[string]bool{}
	for _, n := range e.dbENIs(v.id) {
		if len(n.Groups) != 1 || aws.ToString(n.Groups[0].GroupId) != closed {
			t.Fatalf("ENI %s: groups %+v, want the cluster's", aws.ToString(n.NetworkInterfaceId), n.Groups)
		}
		zones[aws.ToString(n.AvailabilityZone)] = true
	}
	for _, id := range members {
		out, err := e.rds.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range e.dbENIs(v.id) {
			if aws.ToString(n.AvailabilityZone) == aws.ToString(out.DBInstances[0].AvailabilityZone) {
				ips[id] = aws.ToString(n.PrivateIpAddress)
			}
		}
	}
	if len(zones) != 3 || len(ips) != 3 {
		t.Fatalf("ENIs in zones %v, members' addresses %v: want three of each", zones, ips)
	}

	connect := func(addr string) (*pgx.Conn, error) {
		return pgx.Connect(ctx, fmt.Sprintf("postgres://master:secret-password@%s/app?sslmode=disable&connect_timeout=5", addr))
	}
	w, err := connect(cl.loopback)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(context.Background())
	if _, err := w.Exec(ctx, "CREATE TABLE items (id int primary key, name text)"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Exec(ctx, "INSERT INTO items VALUES (1, 'lamp')"); err != nil {
		t.Fatal(err)
	}
	if err := eventually(time.Second, func() error {
		r, err := connect(cl.readerLoopback)
		if err != nil {
			return err
		}
		defer r.Close(context.Background())
		var name string
		return r.QueryRow(ctx, "SELECT name FROM items WHERE id = 1").Scan(&name)
	}); err != nil {
		t.Fatalf("the row through the reader endpoint within 1s: %v", err)
	}
	r, err := connect(cl.readerLoopback)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Exec(ctx, "INSERT INTO items VALUES (2, 'desk')")
	_ = r.Close(context.Background())
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "25006" {
		t.Fatalf("a write through the reader endpoint: %v, want SQLSTATE 25006", err)
	}
	reached := map[string]int{}
	for range 20 {
		r, err := connect(cl.readerLoopback)
		if err != nil {
			t.Fatal(err)
		}
		var inRecovery bool
		var addr string
		err = r.QueryRow(ctx, "SELECT pg_is_in_recovery(), host(inet_server_addr())").Scan(&inRecovery, &addr)
		_ = r.Close(context.Background())
		if err != nil || !inRecovery {
			t.Fatalf("a reader endpoint connection: in recovery %v, %v", inRecovery, err)
		}
		reached[addr]++
	}
	if len(reached) != 2 || reached[ips["shop-2"]] == 0 || reached[ips["shop-3"]] == 0 {
		t.Fatalf("20 connections reached %v, want both readers %s and %s", reached, ips["shop-2"], ips["shop-3"])
	}

	// DNS: the cluster endpoint is the writer, the reader endpoint both
	// readers, each answer starting with the next, for a second.
	if _, got := askDNS(t, dnsAddr, cl.endpoint); !slices.Equal(got, []string{ips["shop-1"]}) {
		t.Fatalf("%s: %v, want the writer's %s", cl.endpoint, got, ips["shop-1"])
	}
	first := map[string]bool{}
	for range 4 {
		m := new(dns.Msg).SetQuestion(dns.Fqdn(cl.reader), dns.TypeA)
		resp, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, dnsAddr)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, rr := range resp.Answer {
			if a, ok := rr.(*dns.A); ok {
				got = append(got, a.A.String())
				if a.Hdr.Ttl != 1 {
					t.Fatalf("%s: TTL %d, want 1", cl.reader, a.Hdr.Ttl)
				}
			}
		}
		if len(got) != 2 || !slices.Contains(got, ips["shop-2"]) || !slices.Contains(got, ips["shop-3"]) {
			t.Fatalf("%s: %v, want the readers %s and %s", cl.reader, got, ips["shop-2"], ips["shop-3"])
		}
		first[got[0]] = true
	}
	if len(first) != 2 {
		t.Fatalf("%s always answers %v first: not rotated", cl.reader, first)
	}
}
