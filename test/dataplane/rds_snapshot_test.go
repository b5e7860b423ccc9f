package dataplane_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
)

func (e *env) waitSnapshot(id, want string, d time.Duration) {
	e.t.Helper()
	err := eventually(d, func() error {
		out, err := e.rds.DescribeDBSnapshots(e.ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(id)})
		if err != nil {
			return err
		}
		if got := aws.ToString(out.DBSnapshots[0].Status); got != want {
			return fmt.Errorf("DB snapshot %s is %s, want %s", id, got, want)
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// TestRDSSnapshotInVPC backs up a DB instance placed in its VPC (its
// automated backup after creation and a manual snapshot, both taken with
// pg_basebackup through the loopback proxy into its namespace, behind a
// security group that admits no one) and restores the snapshot into the
// same DB subnet group.
func TestRDSSnapshotInVPC(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx
	v := e.newVPC("10.61.0.0/16", "10.61.1.0/24", "10.61.2.0/24")
	closed := e.newSG(v.id, "closed")
	if _, err := e.rds.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("dbs"),
		DBSubnetGroupDescription: aws.String("dbs"), SubnetIds: v.subnets}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rds.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("db1"),
		Engine: aws.String("postgres"), DBInstanceClass: aws.String("db.t3.micro"), AllocatedStorage: aws.Int32(20),
		MasterUsername: aws.String("master"), MasterUserPassword: aws.String("secret-password"),
		DBSubnetGroupName: aws.String("dbs"), VpcSecurityGroupIds: []string{closed}, BackupRetentionPeriod: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	e.waitDB("db1", "available", 90*time.Second)
	auto, err := e.rds.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String("db1"), SnapshotType: aws.String("automated")})
	if err != nil {
		t.Fatal(err)
	}
	if len(auto.DBSnapshots) != 1 || aws.ToString(auto.DBSnapshots[0].Status) != "available" || aws.ToString(auto.DBSnapshots[0].VpcId) != v.id {
		t.Fatalf("automated backups: %+v", auto.DBSnapshots)
	}
	if _, err := e.rds.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("db1"), DBSnapshotIdentifier: aws.String("s1")}); err != nil {
		t.Fatal(err)
	}
	e.waitSnapshot("s1", "available", 90*time.Second)
	if _, err := e.rds.RestoreDBInstanceFromDBSnapshot(ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{DBInstanceIdentifier: aws.String("db2"),
		DBSnapshotIdentifier: aws.String("s1"), DBSubnetGroupName: aws.String("dbs"), VpcSecurityGroupIds: []string{closed}}); err != nil {
		t.Fatal(err)
	}
	e.waitDB("db2", "available", 90*time.Second)
	if n := len(e.dbENIs(v.id)); n != 2 {
		t.Fatalf("%d RDS network interfaces, want 2", n)
	}
	for _, id := range []string{"db1", "db2"} {
		if _, err := e.rds.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String(id), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := eventually(60*time.Second, func() error {
		if n := len(e.dbENIs(v.id)); n != 0 {
			return fmt.Errorf("%d RDS network interfaces left", n)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
