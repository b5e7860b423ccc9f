package rds_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/rds"
)

// startTime is the server's pg_postmaster_start_time, which a restart
// changes.
func (e *testEnv) startTime(t *testing.T, id, password string) time.Time {
	t.Helper()
	addr, _ := e.srv.RDS().Loopback(e.ctx, "000000000000", "us-east-1", id)
	c, err := connect(t, addr, password, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(e.ctx)
	var ts time.Time
	if err := c.QueryRow(e.ctx, "SELECT pg_postmaster_start_time()").Scan(&ts); err != nil {
		t.Fatal(err)
	}
	return ts
}

func TestSecurityGroupChecks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	subnets := e.vpc(t, "10.31", "us-east-1a", "us-east-1b")
	if _, err := e.rds.CreateDBSubnetGroup(e.ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("sgcheck"), DBSubnetGroupDescription: aws.String("d"), SubnetIds: subnets}); err != nil {
		t.Fatal(err)
	}
	other, err := e.ec2.CreateVpc(e.ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.32.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	sg, err := e.ec2.CreateSecurityGroup(e.ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("elsewhere"), Description: aws.String("d"), VpcId: other.Vpc.VpcId})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		groups []string
		code   string
		msg    string
	}{
		{"other VPC", []string{aws.ToString(sg.GroupId)}, "InvalidParameterCombination", "but Ec2 Security Group " + aws.ToString(sg.GroupId) + " is in " + aws.ToString(other.Vpc.VpcId)},
		{"missing", []string{"sg-0123456789abcdef0"}, "InvalidParameterValue", "sg-0123456789abcdef0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := createInput("sgcheck")
			in.DBSubnetGroupName, in.VpcSecurityGroupIds = aws.String("sgcheck"), tc.groups
			_, err := e.rds.CreateDBInstance(e.ctx, in)
			wantCode(t, err, tc.code)
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("message: %v", err)
			}
		})
	}
}

func TestModifyDBInstance(t *testing.T) {
	t.Parallel()
	if !hasPostgres() {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
	}
	e := newEnv(t)
	in := createInput("mod")
	in.AllocatedStorage = aws.Int32(100)
	if _, err := e.rds.CreateDBInstance(e.ctx, in); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "mod", "available")
	e.waitStatus(t, "mod", "available")
	booted := e.startTime(t, "mod", "s3cret-pass")
	id := aws.String("mod")

	for _, tc := range []struct {
		name string
		in   rds.ModifyDBInstanceInput
		code string
	}{
		{"storage shrinks", rds.ModifyDBInstanceInput{AllocatedStorage: aws.Int32(50)}, "InvalidParameterCombination"},
		{"storage grows under 10%", rds.ModifyDBInstanceInput{AllocatedStorage: aws.Int32(109)}, "InvalidParameterCombination"},
		{"storage too large", rds.ModifyDBInstanceInput{AllocatedStorage: aws.Int32(70000)}, "InvalidParameterValue"},
		{"class", rds.ModifyDBInstanceInput{DBInstanceClass: aws.String("m5.large")}, "InvalidParameterValue"},
		{"retention", rds.ModifyDBInstanceInput{BackupRetentionPeriod: aws.Int32(36)}, "InvalidParameterValue"},
		{"password", rds.ModifyDBInstanceInput{MasterUserPassword: aws.String("short")}, "InvalidParameterValue"},
		{"parameter group", rds.ModifyDBInstanceInput{DBParameterGroupName: aws.String("nope")}, "DBParameterGroupNotFound"},
		{"security group", rds.ModifyDBInstanceInput{VpcSecurityGroupIds: []string{"sg-0123456789abcdef0"}}, "InvalidParameterValue"},
		{"port (not supported yet)", rds.ModifyDBInstanceInput{DBPortNumber: aws.Int32(5433)}, "InvalidParameterCombination"},
		{"rename (not supported yet)", rds.ModifyDBInstanceInput{NewDBInstanceIdentifier: aws.String("renamed")}, "InvalidParameterCombination"},
		{"storage type (not supported yet)", rds.ModifyDBInstanceInput{StorageType: aws.String("io1")}, "InvalidParameterCombination"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.DBInstanceIdentifier = id
			_, err := e.rds.ModifyDBInstance(e.ctx, &tc.in)
			wantCode(t, err, tc.code)
		})
	}

	// Deferred: class, storage, and retention turned off wait in
	// PendingModifiedValues; protection, public access and a retention
	// that stays on apply at once.
	out, err := e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: id, ApplyImmediately: aws.Bool(false),
		DBInstanceClass: aws.String("db.t3.small"), AllocatedStorage: aws.Int32(110), BackupRetentionPeriod: aws.Int32(7),
		DeletionProtection: aws.Bool(true), PubliclyAccessible: aws.Bool(true), PreferredMaintenanceWindow: aws.String("Mon:03:00-Mon:03:30")})
	if err != nil {
		t.Fatal(err)
	}
	db := out.DBInstance
	pv := db.PendingModifiedValues
	if aws.ToString(db.DBInstanceClass) != "db.t3.micro" || aws.ToInt32(db.AllocatedStorage) != 100 || aws.ToInt32(db.BackupRetentionPeriod) != 7 ||
		!aws.ToBool(db.DeletionProtection) || !aws.ToBool(db.PubliclyAccessible) || aws.ToString(db.DBInstanceStatus) != "available" {
		t.Fatalf("after deferred modify: class %s storage %d retention %d protection %v public %v status %s", aws.ToString(db.DBInstanceClass),
			aws.ToInt32(db.AllocatedStorage), aws.ToInt32(db.BackupRetentionPeriod), aws.ToBool(db.DeletionProtection), aws.ToBool(db.PubliclyAccessible), aws.ToString(db.DBInstanceStatus))
	}
	if got := aws.ToString(db.PreferredMaintenanceWindow); got != "mon:03:00-mon:03:30" {
		t.Fatalf("maintenance window %q", got)
	}
	if pv == nil || aws.ToString(pv.DBInstanceClass) != "db.t3.small" || aws.ToInt32(pv.AllocatedStorage) != 110 || pv.BackupRetentionPeriod != nil {
		t.Fatalf("pending = %+v", pv)
	}
	if _, err := e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: id, BackupRetentionPeriod: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	d := e.describe(t, "mod")
	db = &d
	if aws.ToInt32(db.BackupRetentionPeriod) != 7 || aws.ToInt32(db.PendingModifiedValues.BackupRetentionPeriod) != 0 || db.PendingModifiedValues.BackupRetentionPeriod == nil {
		t.Fatalf("retention %d, pending %v", aws.ToInt32(db.BackupRetentionPeriod), db.PendingModifiedValues.BackupRetentionPeriod)
	}

	// Deletion protection holds.
	_, err = e.rds.DeleteDBInstance(e.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: id, SkipFinalSnapshot: aws.Bool(true)})
	wantCode(t, err, "InvalidParameterCombination")
	if !strings.Contains(err.Error(), "Cannot delete protected DB Instance, please disable deletion protection and try again.") {
		t.Fatalf("message: %v", err)
	}

	// ApplyImmediately applies what was pending too: modifying, then
	// available on a restarted server.
	out, err = e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: id, ApplyImmediately: aws.Bool(true), DeletionProtection: aws.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.DBInstance.DBInstanceStatus); got != "modifying" {
		t.Fatalf("status %q, want modifying", got)
	}
	e.waitStatus(t, "mod", "available")
	d = e.describe(t, "mod")
	db = &d
	pv = db.PendingModifiedValues
	if aws.ToString(db.DBInstanceClass) != "db.t3.small" || aws.ToInt32(db.AllocatedStorage) != 110 || aws.ToInt32(db.BackupRetentionPeriod) != 0 ||
		pv.DBInstanceClass != nil || pv.AllocatedStorage != nil || pv.BackupRetentionPeriod != nil {
		t.Fatalf("after apply: class %s storage %d retention %d pending %+v", aws.ToString(db.DBInstanceClass), aws.ToInt32(db.AllocatedStorage), aws.ToInt32(db.BackupRetentionPeriod), pv)
	}
	if again := e.startTime(t, "mod", "s3cret-pass"); !again.After(booted) {
		t.Fatalf("the server was not restarted for the new class: started %v, before %v", again, booted)
	}

	// The master password changes at once even without ApplyImmediately.
	if _, err := e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: id, MasterUserPassword: aws.String("an0ther-pass")}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "mod", "available")
	e.startTime(t, "mod", "an0ther-pass")
	if db := e.describe(t, "mod"); db.PendingModifiedValues.MasterUserPassword != nil {
		t.Fatalf("password still pending")
	}
	if _, err := e.rds.DeleteDBInstance(e.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: id, SkipFinalSnapshot: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "mod", "")
}
