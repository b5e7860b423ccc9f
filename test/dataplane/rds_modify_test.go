package dataplane_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
)

// TestRDSModifySecurityGroups changes a running DB instance's VPC security
// groups: the interface gets the new groups live, without a restart, so the
// instance that was allowed is cut off and the one now allowed connects.
func TestRDSModifySecurityGroups(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx
	v := e.newVPC("10.61.0.0/16", "10.61.1.0/24", "10.61.2.0/24")
	web := e.newSG(v.id, "web", tcpFrom(8080, "0.0.0.0/0"))
	other := e.newSG(v.id, "other", tcpFrom(8080, "0.0.0.0/0"))
	dbWeb := e.newSG(v.id, "db-web", tcpFromGroup(5432, web))
	dbOther := e.newSG(v.id, "db-other", tcpFromGroup(5432, other))
	if _, err := e.rds.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("dbs"),
		DBSubnetGroupDescription: aws.String("dbs"), SubnetIds: v.subnets}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rds.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("db1"),
		Engine: aws.String("postgres"), DBInstanceClass: aws.String("db.t3.micro"), AllocatedStorage: aws.Int32(20),
		MasterUsername: aws.String("master"), MasterUserPassword: aws.String("secret-password"), BackupRetentionPeriod: aws.Int32(0),
		DBSubnetGroupName: aws.String("dbs"), VpcSecurityGroupIds: []string{dbWeb}}); err != nil {
		t.Fatal(err)
	}
	e.waitDB("db1", "available", 60*time.Second)
	enis := e.dbENIs(v.id)
	if len(enis) != 1 {
		t.Fatalf("%d RDS network interfaces, want 1", len(enis))
	}
	dbIP := aws.ToString(enis[0].PrivateIpAddress)
	insts := e.runAll(e.image(),
		launch{subnet: v.subnets[1], groups: []string{web}, userData: tcpCheckUserData(dbIP, 5432)},
		launch{subnet: v.subnets[1], groups: []string{other}, userData: tcpCheckUserData(dbIP, 5432)})
	webIP, otherIP := e.eip(aws.ToString(insts[0].InstanceId)), e.eip(aws.ToString(insts[1].InstanceId))
	check := func(ip string, ok bool) error {
		return eventually(30*time.Second, func() error {
			got, err := fetch("http://" + ip + ":8080/")
			if err != nil {
				return err
			}
			if ok != (got == "ok") || !ok && !strings.HasPrefix(got, "fail") {
				return errors.New(got)
			}
			return nil
		})
	}
	if err := check(webIP, true); err != nil {
		t.Fatalf("web instance to the database before the change: %v", err)
	}
	if err := check(otherIP, false); err != nil {
		t.Fatalf("other instance before the change: %v", err)
	}

	out, err := e.rds.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("db1"), VpcSecurityGroupIds: []string{dbOther}})
	if err != nil {
		t.Fatal(err)
	}
	if g := out.DBInstance.VpcSecurityGroups; len(g) != 1 || aws.ToString(g[0].VpcSecurityGroupId) != dbOther || aws.ToString(g[0].Status) != "adding" {
		t.Fatalf("security groups right after the change: %+v", g)
	}
	if err := check(otherIP, true); err != nil {
		t.Fatalf("other instance to the database after the change: %v", err)
	}
	if err := check(webIP, false); err != nil {
		t.Fatalf("web instance after the change: %v", err)
	}
	if err := eventually(10*time.Second, func() error {
		d, err := e.rds.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("db1")})
		if err != nil {
			return err
		}
		if g := d.DBInstances[0].VpcSecurityGroups; len(g) != 1 || aws.ToString(g[0].Status) != "active" {
			return fmt.Errorf("security groups %+v", g)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	enis = e.dbENIs(v.id)
	if len(enis) != 1 || len(enis[0].Groups) != 1 || aws.ToString(enis[0].Groups[0].GroupId) != dbOther {
		t.Fatalf("RDS network interfaces after the change: %+v", enis)
	}
	if _, err := e.rds.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("db1"), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.waitDBGone("db1")
}

func (e *env) waitDBGone(id string) {
	e.t.Helper()
	if err := eventually(60*time.Second, func() error {
		_, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
		if err == nil {
			return fmt.Errorf("%s still exists", id)
		}
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
}
