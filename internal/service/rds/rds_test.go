package rds_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/jackc/pgx/v5"
)

func TestSubnetGroupErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	two := e.vpc(t, "10.1", "us-east-1a", "us-east-1b")
	one := e.vpc(t, "10.2", "us-east-1a", "us-east-1a")
	other := e.vpc(t, "10.3", "us-east-1c")
	if _, err := e.rds.CreateDBSubnetGroup(e.ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("Good"), DBSubnetGroupDescription: aws.String("d"), SubnetIds: two}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		group   string
		subnets []string
		code    string
	}{
		{"one AZ", "g1", one, "DBSubnetGroupDoesNotCoverEnoughAZs"},
		{"one subnet", "g2", two[:1], "DBSubnetGroupDoesNotCoverEnoughAZs"},
		{"missing subnet", "g3", []string{two[0], "subnet-0123456789abcdef0"}, "InvalidSubnet"},
		{"two VPCs", "g4", []string{two[0], other[0]}, "InvalidSubnet"},
		{"exists", "good", two, "DBSubnetGroupAlreadyExists"},
		{"default name", "default", two, "InvalidParameterValue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.rds.CreateDBSubnetGroup(e.ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String(tc.group), DBSubnetGroupDescription: aws.String("d"), SubnetIds: tc.subnets})
			wantCode(t, err, tc.code)
		})
	}
	out, err := e.rds.DescribeDBSubnetGroups(e.ctx, &rds.DescribeDBSubnetGroupsInput{DBSubnetGroupName: aws.String("good")})
	if err != nil {
		t.Fatal(err)
	}
	g := out.DBSubnetGroups[0]
	if aws.ToString(g.DBSubnetGroupName) != "good" || len(g.Subnets) != 2 || aws.ToString(g.SubnetGroupStatus) != "Complete" || !strings.HasPrefix(aws.ToString(g.VpcId), "vpc-") {
		t.Fatalf("group = %+v", g)
	}
	_, err = e.rds.DescribeDBSubnetGroups(e.ctx, &rds.DescribeDBSubnetGroupsInput{DBSubnetGroupName: aws.String("nope")})
	wantCode(t, err, "DBSubnetGroupNotFoundFault")
	_, err = e.rds.DescribeDBSubnetGroups(e.ctx, &rds.DescribeDBSubnetGroupsInput{MaxRecords: aws.Int32(10)})
	wantCode(t, err, "InvalidParameterValue")
	if _, err := e.rds.DeleteDBSubnetGroup(e.ctx, &rds.DeleteDBSubnetGroupInput{DBSubnetGroupName: aws.String("good")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.rds.DeleteDBSubnetGroup(e.ctx, &rds.DeleteDBSubnetGroupInput{DBSubnetGroupName: aws.String("good")})
	wantCode(t, err, "DBSubnetGroupNotFoundFault")
}

func createInput(id string) *rds.CreateDBInstanceInput {
	return &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String(id),
		DBInstanceClass:      aws.String("db.t3.micro"),
		Engine:               aws.String("postgres"),
		AllocatedStorage:     aws.Int32(20),
		MasterUsername:       aws.String("master"),
		MasterUserPassword:   aws.String("s3cret-pass"),
	}
}

func TestCreateValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		mod  func(in *rds.CreateDBInstanceInput)
		code string
	}{
		{"digit first", func(in *rds.CreateDBInstanceInput) { in.DBInstanceIdentifier = aws.String("1db") }, "InvalidParameterValue"},
		{"double hyphen", func(in *rds.CreateDBInstanceInput) { in.DBInstanceIdentifier = aws.String("my--db") }, "InvalidParameterValue"},
		{"trailing hyphen", func(in *rds.CreateDBInstanceInput) { in.DBInstanceIdentifier = aws.String("mydb-") }, "InvalidParameterValue"},
		{"underscore", func(in *rds.CreateDBInstanceInput) { in.DBInstanceIdentifier = aws.String("my_db") }, "InvalidParameterValue"},
		{"64 chars", func(in *rds.CreateDBInstanceInput) {
			in.DBInstanceIdentifier = aws.String("a" + strings.Repeat("b", 63))
		}, "InvalidParameterValue"},
		{"short password", func(in *rds.CreateDBInstanceInput) { in.MasterUserPassword = aws.String("short") }, "InvalidParameterValue"},
		{"password with @", func(in *rds.CreateDBInstanceInput) { in.MasterUserPassword = aws.String("abc@defghij") }, "InvalidParameterValue"},
		{"engine", func(in *rds.CreateDBInstanceInput) { in.Engine = aws.String("nosql") }, "InvalidParameterValue"},
		{"version", func(in *rds.CreateDBInstanceInput) { in.EngineVersion = aws.String("9.6.1") }, "InvalidParameterCombination"},
		{"class", func(in *rds.CreateDBInstanceInput) { in.DBInstanceClass = aws.String("t3.micro") }, "InvalidParameterValue"},
		{"storage", func(in *rds.CreateDBInstanceInput) { in.AllocatedStorage = aws.Int32(5) }, "InvalidParameterValue"},
		{"port", func(in *rds.CreateDBInstanceInput) { in.Port = aws.Int32(80) }, "InvalidParameterValue"},
		{"subnet group", func(in *rds.CreateDBInstanceInput) { in.DBSubnetGroupName = aws.String("nope") }, "DBSubnetGroupNotFoundFault"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := createInput("valid-db-1")
			tc.mod(in)
			_, err := e.rds.CreateDBInstance(e.ctx, in)
			wantCode(t, err, tc.code)
		})
	}
	for _, op := range []func() error{
		func() error {
			_, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("ghost")})
			return err
		},
		func() error {
			_, err := e.rds.StopDBInstance(e.ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String("ghost")})
			return err
		},
		func() error {
			_, err := e.rds.DeleteDBInstance(e.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("ghost"), SkipFinalSnapshot: aws.Bool(true)})
			return err
		},
	} {
		err := op()
		wantCode(t, err, "DBInstanceNotFound")
		if !strings.Contains(err.Error(), "DBInstance ghost not found.") {
			t.Fatalf("message: %v", err)
		}
	}
	_, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{MaxRecords: aws.Int32(101)})
	wantCode(t, err, "InvalidParameterValue")
	ev, err := e.rds.DescribeDBEngineVersions(e.ctx, &rds.DescribeDBEngineVersionsInput{Engine: aws.String("postgres")})
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.DBEngineVersions) != 1 || !strings.HasPrefix(aws.ToString(ev.DBEngineVersions[0].DBParameterGroupFamily), "postgres") {
		t.Fatalf("engine versions = %+v", ev.DBEngineVersions)
	}
}

func hasPostgres() bool {
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	return len(m) > 0
}

func connect(t *testing.T, addr, password, db string) (*pgx.Conn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return pgx.Connect(ctx, fmt.Sprintf("postgres://master:%s@%s/%s?sslmode=disable", password, addr, db))
}

func TestPostgresLifecycle(t *testing.T) {
	t.Parallel()
	if !hasPostgres() {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
	}
	e := newEnv(t)
	subnets := e.vpc(t, "10.9", "us-east-1a", "us-east-1b")
	if _, err := e.rds.CreateDBSubnetGroup(e.ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("dbnet"), DBSubnetGroupDescription: aws.String("d"), SubnetIds: subnets}); err != nil {
		t.Fatal(err)
	}
	in := createInput("Orders-DB")
	in.DBName = aws.String("orders")
	in.DBSubnetGroupName = aws.String("dbnet")
	in.BackupRetentionPeriod = aws.Int32(0)
	in.Tags = []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}
	out, err := e.rds.CreateDBInstance(e.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.DBInstance.DBInstanceStatus); got != "creating" || aws.ToString(out.DBInstance.DBInstanceIdentifier) != "orders-db" {
		t.Fatalf("created %q %q", got, aws.ToString(out.DBInstance.DBInstanceIdentifier))
	}
	_, err = e.rds.CreateDBInstance(e.ctx, in)
	wantCode(t, err, "DBInstanceAlreadyExists")
	e.waitStatus(t, "orders-db", "available")

	d, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{Filters: []types.Filter{{Name: aws.String("engine"), Values: []string{"postgres"}}}})
	if err != nil {
		t.Fatal(err)
	}
	db := d.DBInstances[0]
	if ep := db.Endpoint; ep == nil || aws.ToInt32(ep.Port) != 5432 || !strings.HasPrefix(aws.ToString(ep.Address), "orders-db.") || !strings.HasSuffix(aws.ToString(ep.Address), ".us-east-1.rds.amazonaws.com") {
		t.Fatalf("endpoint = %+v", db.Endpoint)
	}
	if aws.ToString(db.DBSubnetGroup.DBSubnetGroupName) != "dbnet" {
		t.Fatalf("subnet group = %+v", db.DBSubnetGroup)
	}
	addr, err := e.srv.RDS().Loopback(e.ctx, "000000000000", "us-east-1", "orders-db")
	if err != nil || addr == "" {
		t.Fatalf("loopback %q %v", addr, err)
	}

	c, err := connect(t, addr, "s3cret-pass", "orders")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"CREATE TABLE items (id int PRIMARY KEY, name text)", "INSERT INTO items VALUES (1, 'apple'), (2, 'pear')"} {
		if _, err := c.Exec(e.ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	_ = c.Close(e.ctx)
	if fi, err := os.Stat(filepath.Join(e.dir, "rds", "000000000000", "us-east-1", "orders-db", "data", "PG_VERSION")); err != nil || fi.Size() == 0 {
		t.Fatalf("data dir: %v", err)
	}

	_, err = e.rds.DeleteDBSubnetGroup(e.ctx, &rds.DeleteDBSubnetGroupInput{DBSubnetGroupName: aws.String("dbnet")})
	wantCode(t, err, "InvalidDBSubnetGroupStateFault")

	countItems := func(password string) {
		t.Helper()
		addr, _ := e.srv.RDS().Loopback(e.ctx, "000000000000", "us-east-1", "orders-db")
		c, err := connect(t, addr, password, "orders")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(e.ctx)
		var n int
		if err := c.QueryRow(e.ctx, "SELECT count(*) FROM items").Scan(&n); err != nil || n != 2 {
			t.Fatalf("items: %d %v", n, err)
		}
	}

	// Stop and start: the data stays.
	if _, err := e.rds.StopDBInstance(e.ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String("orders-db")}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "orders-db", "stopped")
	if c, err := connect(t, addr, "s3cret-pass", "orders"); err == nil {
		_ = c.Close(e.ctx)
		t.Fatal("connected to a stopped instance")
	}
	_, err = e.rds.RebootDBInstance(e.ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("orders-db")})
	wantCode(t, err, "InvalidDBInstanceState")
	if _, err := e.rds.StartDBInstance(e.ctx, &rds.StartDBInstanceInput{DBInstanceIdentifier: aws.String("orders-db")}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "orders-db", "available")
	countItems("s3cret-pass")

	// A new master password is applied for real.
	if _, err := e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("orders-db"), MasterUserPassword: aws.String("n3w-password"), ApplyImmediately: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "orders-db", "available")
	addr, _ = e.srv.RDS().Loopback(e.ctx, "000000000000", "us-east-1", "orders-db")
	if c, err := connect(t, addr, "s3cret-pass", "orders"); err == nil {
		_ = c.Close(e.ctx)
		t.Fatal("the old password still works")
	}
	countItems("n3w-password")

	// Reboot restarts the server.
	if _, err := e.rds.RebootDBInstance(e.ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("orders-db")}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "orders-db", "available")
	countItems("n3w-password")

	// Deletion's guards.
	if _, err := e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("orders-db"), DeletionProtection: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		in   rds.DeleteDBInstanceInput
		code string
	}{
		{"protected", rds.DeleteDBInstanceInput{SkipFinalSnapshot: aws.Bool(true)}, "InvalidParameterCombination"},
	} {
		tc.in.DBInstanceIdentifier = aws.String("orders-db")
		_, err := e.rds.DeleteDBInstance(e.ctx, &tc.in)
		wantCode(t, err, tc.code)
	}
	if _, err := e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("orders-db"), DeletionProtection: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		in   rds.DeleteDBInstanceInput
		code string
	}{
		{"no snapshot flags", rds.DeleteDBInstanceInput{}, "InvalidParameterCombination"},
		{"skip false", rds.DeleteDBInstanceInput{SkipFinalSnapshot: aws.Bool(false)}, "InvalidParameterCombination"},
		{"both", rds.DeleteDBInstanceInput{SkipFinalSnapshot: aws.Bool(true), FinalDBSnapshotIdentifier: aws.String("final")}, "InvalidParameterCombination"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.DBInstanceIdentifier = aws.String("orders-db")
			_, err := e.rds.DeleteDBInstance(e.ctx, &tc.in)
			wantCode(t, err, tc.code)
		})
	}
	del, err := e.rds.DeleteDBInstance(e.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("orders-db"), SkipFinalSnapshot: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(del.DBInstance.DBInstanceStatus) != "deleting" {
		t.Fatalf("status %q", aws.ToString(del.DBInstance.DBInstanceStatus))
	}
	_, err = e.rds.StopDBInstance(e.ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String("orders-db")})
	if err != nil {
		wantCode(t, err, "InvalidDBInstanceState")
	}
	e.waitStatus(t, "orders-db", "")
	if _, err := os.Stat(filepath.Join(e.dir, "rds", "000000000000", "us-east-1", "orders-db")); !os.IsNotExist(err) {
		t.Fatalf("data dir still there: %v", err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		_ = c.Close()
		t.Fatalf("something still listens on %s", addr)
	}
	if _, err := e.rds.DeleteDBSubnetGroup(e.ctx, &rds.DeleteDBSubnetGroupInput{DBSubnetGroupName: aws.String("dbnet")}); err != nil {
		t.Fatal(err)
	}
}

func TestRestartKeepsServer(t *testing.T) {
	t.Parallel()
	if !hasPostgres() {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
	}
	dir := t.TempDir()
	e := newEnvIn(t, dir)
	if _, err := e.rds.CreateDBInstance(e.ctx, createInput("keep")); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "keep", "available")
	addr, _ := e.srv.RDS().Loopback(e.ctx, "000000000000", "us-east-1", "keep")
	c, err := connect(t, addr, "s3cret-pass", "postgres")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(e.ctx, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)"); err != nil {
		t.Fatal(err)
	}
	_ = c.Close(e.ctx)
	e.close()

	e2 := newEnvIn(t, dir)
	e2.waitStatus(t, "keep", "available")
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err = connect(t, addr, "s3cret-pass", "postgres")
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("after restart, %s: %v", addr, err)
	}
	defer c.Close(e2.ctx)
	var v int
	if err := c.QueryRow(e2.ctx, "SELECT v FROM kept").Scan(&v); err != nil || v != 7 {
		t.Fatalf("kept = %d, %v", v, err)
	}
	if _, err := e2.rds.DeleteDBInstance(e2.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("keep"), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e2.waitStatus(t, "keep", "")
}
