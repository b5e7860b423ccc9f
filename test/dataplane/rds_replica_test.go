package dataplane_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestRDSReadReplicaInVPC: source and replica each run in their VPC behind
// a security group that lets nothing in, yet the replica streams from its
// source (replication does not go through the customer's network, as on
// AWS) and follows its writes within a second.
func TestRDSReadReplicaInVPC(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx

	v := e.newVPC("10.61.0.0/16", "10.61.1.0/24", "10.61.2.0/24")
	closed := e.newSG(v.id, "closed")
	if _, err := e.rds.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("dbs"),
		DBSubnetGroupDescription: aws.String("dbs"), SubnetIds: v.subnets}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rds.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("src"),
		Engine: aws.String("postgres"), DBInstanceClass: aws.String("db.t3.micro"), AllocatedStorage: aws.Int32(20),
		MasterUsername: aws.String("master"), MasterUserPassword: aws.String("secret-password"),
		DBSubnetGroupName: aws.String("dbs"), VpcSecurityGroupIds: []string{closed}}); err != nil {
		t.Fatal(err)
	}
	e.waitDB("src", "available", 60*time.Second)
	if _, err := e.rds.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("rep"),
		SourceDBInstanceIdentifier: aws.String("src")}); err != nil {
		t.Fatal(err)
	}
	e.waitDB("rep", "available", 60*time.Second)
	rep, err := e.rds.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("rep")})
	if err != nil {
		t.Fatal(err)
	}
	r := rep.DBInstances[0]
	if aws.ToString(r.DBSubnetGroup.DBSubnetGroupName) != "dbs" || len(r.VpcSecurityGroups) != 1 || aws.ToString(r.VpcSecurityGroups[0].VpcSecurityGroupId) != closed {
		t.Fatalf("replica: subnet group %v, security groups %+v", r.DBSubnetGroup, r.VpcSecurityGroups)
	}
	if n := len(e.dbENIs(v.id)); n != 2 {
		t.Fatalf("%d RDS network interfaces, want the source's and the replica's", n)
	}

	conn := func(id string) *pgx.Conn {
		t.Helper()
		addr, err := e.srv.RDS().Loopback(ctx, "000000000000", "us-east-1", id)
		if err != nil || addr == "" {
			t.Fatalf("loopback of %s: %q %v", id, addr, err)
		}
		c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://master:secret-password@%s/postgres?sslmode=disable", addr))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close(context.Background()) })
		return c
	}
	sc, rc := conn("src"), conn("rep")
	if _, err := sc.Exec(ctx, "CREATE TABLE t (v int); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if err := eventually(time.Second, func() error {
		var n int
		if err := rc.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil {
			return err
		}
		if n != 1 {
			return fmt.Errorf("%d rows", n)
		}
		return nil
	}); err != nil {
		t.Fatalf("the replica did not follow within 1 s: %v", err)
	}
	_, err = rc.Exec(ctx, "INSERT INTO t VALUES (2)")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "25006" {
		t.Fatalf("write on the replica: %v, want SQLSTATE 25006", err)
	}

	for _, id := range []string{"rep", "src"} {
		if _, err := e.rds.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String(id), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
		if err := eventually(60*time.Second, func() error {
			if _, err := e.rds.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)}); err == nil {
				return fmt.Errorf("%s still exists", id)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.dbENIs(v.id)); n != 0 {
		t.Fatalf("%d RDS network interfaces after delete", n)
	}
}
