package rds_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/smithy-go"
)

// wantError fails unless err is AWS's error code with exactly message msg.
func wantError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s %q, got %v", code, msg, err)
	}
	if ae.ErrorCode() != code || ae.ErrorMessage() != msg {
		t.Fatalf("want %s %q,\n got %s %q", code, msg, ae.ErrorCode(), ae.ErrorMessage())
	}
}

// errorCase is a request of operation In that is refused, with AWS's
// error code and message.
type errorCase[In any] struct {
	name      string
	in        In
	code, msg string
}

// wantErrors runs each case through call, the operation.
func wantErrors[In any](t *testing.T, cases []errorCase[In], call func(in *In) error) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { wantError(t, call(&tc.in), tc.code, tc.msg) })
	}
}

// errorsEnv is the state the error tables below run against: a DB subnet
// group "closed" in a VPC without an internet gateway, a security group in
// another VPC, an available postgres instance "pg" in "closed" (100 GiB,
// no automated backups) with a snapshot "snap", and a stopped instance
// "old".
type errorsEnv struct {
	*testEnv
	vpcID, otherVPC, otherSG string
	// pgVersion is the host's PostgreSQL version; pgMajor and mariaMajor
	// the engines' major versions, as the default parameter groups name
	// them.
	pgVersion, pgMajor, mariaMajor string
}

func newErrorsEnv(t *testing.T) *errorsEnv {
	t.Helper()
	e := &errorsEnv{testEnv: newEnv(t)}
	subnets := e.vpc(t, "10.41", "us-east-1a", "us-east-1b")
	sn, err := e.ec2.DescribeSubnets(e.ctx, &ec2.DescribeSubnetsInput{SubnetIds: subnets[:1]})
	if err != nil {
		t.Fatal(err)
	}
	e.vpcID = aws.ToString(sn.Subnets[0].VpcId)
	if _, err := e.rds.CreateDBSubnetGroup(e.ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("closed"),
		DBSubnetGroupDescription: aws.String("no internet gateway"), SubnetIds: subnets}); err != nil {
		t.Fatal(err)
	}
	other, err := e.ec2.CreateVpc(e.ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.42.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	e.otherVPC = aws.ToString(other.Vpc.VpcId)
	sg, err := e.ec2.CreateSecurityGroup(e.ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("elsewhere"), Description: aws.String("d"), VpcId: other.Vpc.VpcId})
	if err != nil {
		t.Fatal(err)
	}
	e.otherSG = aws.ToString(sg.GroupId)
	versions, err := e.rds.DescribeDBEngineVersions(e.ctx, &rds.DescribeDBEngineVersionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range versions.DBEngineVersions {
		switch aws.ToString(v.Engine) {
		case "postgres":
			e.pgVersion, e.pgMajor = aws.ToString(v.EngineVersion), aws.ToString(v.MajorEngineVersion)
		case "mariadb":
			e.mariaMajor = aws.ToString(v.MajorEngineVersion)
		}
	}
	if e.pgVersion == "" || e.mariaMajor == "" {
		t.Fatalf("this host runs neither PostgreSQL nor MariaDB: %+v", versions.DBEngineVersions)
	}

	pg := createInput("pg")
	pg.AllocatedStorage, pg.BackupRetentionPeriod, pg.DBSubnetGroupName = aws.Int32(100), aws.Int32(0), aws.String("closed")
	if _, err := e.rds.CreateDBInstance(e.ctx, pg); err != nil {
		t.Fatal(err)
	}
	old := createInput("old")
	old.BackupRetentionPeriod = aws.Int32(0)
	if _, err := e.rds.CreateDBInstance(e.ctx, old); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "pg", "available")
	if _, err := e.rds.CreateDBSnapshot(e.ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("pg"), DBSnapshotIdentifier: aws.String("snap")}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "old", "available")
	if _, err := e.rds.StopDBInstance(e.ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String("old")}); err != nil {
		t.Fatal(err)
	}
	e.waitSnapshot(t, "snap", "available")
	e.waitStatus(t, "pg", "available")
	e.waitStatus(t, "old", "stopped")
	return e
}

// TestHandlerErrors pins the errors of the largest handlers, code and
// message, and which one a request with several faults gets: the order in
// which AWS (and minicloud) checks. The instances and snapshot are made
// once (newErrorsEnv); every case is refused, so none changes them.
func TestHandlerErrors(t *testing.T) {
	t.Parallel()
	if !hasPostgres() || !hasMariaDB() {
		t.Fatal("needs PostgreSQL and MariaDB (apt-get install postgresql mariadb-server mariadb-backup)")
	}
	e := newErrorsEnv(t)
	t.Run("CreateDBInstance", e.createErrors)
	t.Run("ModifyDBInstance", e.modifyErrors)
	t.Run("CreateDBInstanceReadReplica", e.replicaErrors)
	t.Run("RestoreDBInstanceFromDBSnapshot", e.restoreErrors)
	t.Run("RestoreDBInstanceToPointInTime", e.pointInTimeErrors)
}

const (
	badIdentifier   = "The parameter DBInstanceIdentifier is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens."
	reservedTagKey  = `Tag keys cannot start with the reserved prefixes "aws:" or "rds:": aws:owner`
	noGateway       = "Cannot %s a publicly accessible DBInstance. The specified VPC has no internet gateway attached."
	missingSG       = "Invalid security group: sg-0123456789abcdef0 does not exist."
	backupsDisabled = "Automated backups are not enabled for this database instance. To enable automated backups, use ModifyDBInstance to set the backup retention period to a non-zero value."
)

func (e *errorsEnv) createErrors(t *testing.T) {
	wrongVPC := "Database is in " + e.vpcID + ", but Ec2 Security Group " + e.otherSG + " is in " + e.otherVPC
	wantErrors(t, []errorCase[func(*rds.CreateDBInstanceInput)]{
		{"reserved tag before identifier", func(in *rds.CreateDBInstanceInput) {
			in.Tags, in.DBInstanceIdentifier = []types.Tag{{Key: aws.String("aws:owner"), Value: aws.String("me")}}, aws.String("1bad")
		}, "InvalidParameterValue", reservedTagKey},
		{"public access before identifier", func(in *rds.CreateDBInstanceInput) {
			in.PubliclyAccessible, in.DBSubnetGroupName, in.DBInstanceIdentifier = aws.Bool(true), aws.String("closed"), aws.String("1bad")
		}, "InvalidVPCNetworkStateFault", strings.Replace(noGateway, "%s", "create", 1)},
		{"identifier before class", func(in *rds.CreateDBInstanceInput) {
			in.DBInstanceIdentifier, in.DBInstanceClass = aws.String("my--db"), aws.String("t3.micro")
		}, "InvalidParameterValue", badIdentifier},
		{"class before engine", func(in *rds.CreateDBInstanceInput) {
			in.DBInstanceClass, in.Engine = aws.String("t3.micro"), aws.String("nosql")
		}, "InvalidParameterValue", "Invalid DB Instance class: t3.micro"},
		{"unknown engine, as given", func(in *rds.CreateDBInstanceInput) { in.Engine = aws.String("NoSQL") },
			"InvalidParameterValue", "Invalid DB engine: NoSQL"},
		{"AWS engine minicloud does not run", func(in *rds.CreateDBInstanceInput) { in.Engine = aws.String("oracle-ee") },
			"InvalidParameterValue", "Engine oracle-ee is not supported by minicloud yet: only postgres, mariadb, aurora-postgresql and aurora-mysql are."},
		{"Aurora engine without a cluster", func(in *rds.CreateDBInstanceInput) { in.Engine = aws.String("aurora-postgresql") },
			"InvalidParameterCombination", "A DB instance of engine aurora-postgresql is a member of a DB cluster: create the DB cluster (CreateDBCluster), then its DB instances with DBClusterIdentifier."},
		{"mysql", func(in *rds.CreateDBInstanceInput) { in.Engine = aws.String("MySQL") },
			"InvalidParameterValue", "minicloud does not run RDS for MySQL: that needs MySQL Community Server, which Debian does not package and minicloud does not drive. MariaDB is MySQL-compatible but not MySQL, so minicloud does not pass it off as MySQL: create the instance with Engine mariadb (the host's MariaDB server; apt-get install mariadb-server)."},
		{"Multi-AZ zone before version", func(in *rds.CreateDBInstanceInput) {
			in.MultiAZ, in.AvailabilityZone, in.EngineVersion = aws.Bool(true), aws.String("us-east-1a"), aws.String("9.6.1")
		}, "InvalidParameterCombination", "Requesting a specific availability zone is not valid for Multi-AZ instances."},
		{"Multi-AZ engine", func(in *rds.CreateDBInstanceInput) { in.MultiAZ, in.Engine = aws.Bool(true), aws.String("mariadb") },
			"InvalidParameterCombination", "minicloud runs Multi-AZ DB instance deployments for postgres only so far, not mariadb."},
		{"version before class offered", func(in *rds.CreateDBInstanceInput) {
			in.EngineVersion, in.DBInstanceClass = aws.String("9.6.1"), aws.String("db.x9.huge")
		}, "InvalidParameterCombination", "Cannot find version 9.6.1 for postgres"},
		{"class offered before storage", func(in *rds.CreateDBInstanceInput) {
			in.DBInstanceClass, in.AllocatedStorage = aws.String("db.x9.huge"), nil
		}, "InvalidParameterCombination", "RDS does not support creating a DB instance with the following combination: DBInstanceClass=db.x9.huge, Engine=postgres, EngineVersion=" + e.pgVersion + ", LicenseModel=postgresql-license. For supported combinations of instance class and database engine version, see the documentation."},
		{"no storage before storage type", func(in *rds.CreateDBInstanceInput) { in.AllocatedStorage, in.StorageType = nil, aws.String("disk") },
			"InvalidParameterValue", "The parameter AllocatedStorage must be provided and must not be blank."},
		{"storage type before size", func(in *rds.CreateDBInstanceInput) {
			in.StorageType, in.AllocatedStorage = aws.String("disk"), aws.Int32(5)
		},
			"StorageTypeNotSupported", "Invalid storage type: disk"},
		{"storage size before master user", func(in *rds.CreateDBInstanceInput) { in.AllocatedStorage, in.MasterUsername = aws.Int32(5), nil },
			"InvalidParameterValue", "Invalid storage size for engine name postgres and storage type gp2: 5"},
		{"no master user before password", func(in *rds.CreateDBInstanceInput) { in.MasterUsername, in.MasterUserPassword = nil, nil },
			"InvalidParameterValue", "The parameter MasterUsername must be provided and must not be blank."},
		{"master user too long", func(in *rds.CreateDBInstanceInput) { in.MasterUsername = aws.String("m" + strings.Repeat("a", 63)) },
			"InvalidParameterValue", "The parameter MasterUsername is not a valid identifier because it is longer than 63 characters."},
		{"master user reserved", func(in *rds.CreateDBInstanceInput) { in.MasterUsername = aws.String("RDSAdmin") },
			"InvalidParameterValue", "MasterUsername RDSAdmin cannot be used as it is a reserved word used by the engine"},
		{"master user not a name", func(in *rds.CreateDBInstanceInput) { in.MasterUsername = aws.String("1master") },
			"InvalidParameterValue", "MasterUsername 1master cannot be used as it is a reserved word used by the engine"},
		{"no password", func(in *rds.CreateDBInstanceInput) { in.MasterUserPassword = nil },
			"InvalidParameterValue", "The parameter MasterUserPassword must be provided and must not be blank."},
		{"short password before database name", func(in *rds.CreateDBInstanceInput) {
			in.MasterUserPassword, in.DBName = aws.String("short"), aws.String("1db")
		},
			"InvalidParameterValue", "The parameter MasterUserPassword is not a valid password because it is shorter than 8 characters."},
		{"long password", func(in *rds.CreateDBInstanceInput) { in.MasterUserPassword = aws.String(strings.Repeat("p", 129)) },
			"InvalidParameterValue", "The parameter MasterUserPassword is not a valid password because it is longer than 128 characters."},
		{"password characters", func(in *rds.CreateDBInstanceInput) { in.MasterUserPassword = aws.String("abc@defghij") },
			"InvalidParameterValue", "The parameter MasterUserPassword is not a valid password. Only printable ASCII characters besides '/', '@', '\"', ' ' may be used."},
		{"engine's longest password", func(in *rds.CreateDBInstanceInput) {
			in.Engine, in.MasterUserPassword = aws.String("mariadb"), aws.String(strings.Repeat("p", 42))
		}, "InvalidParameterValue", "The parameter MasterUserPassword is not a valid password because it is longer than 41 characters."},
		{"database name before port", func(in *rds.CreateDBInstanceInput) { in.DBName, in.Port = aws.String("1db"), aws.Int32(80) },
			"InvalidParameterValue", "DBName must begin with a letter and contain only alphanumeric characters."},
		{"port before retention", func(in *rds.CreateDBInstanceInput) { in.Port, in.BackupRetentionPeriod = aws.Int32(80), aws.Int32(36) },
			"InvalidParameterValue", "Invalid port number: 80. Valid values are 1150-65535."},
		{"retention before DB security groups", func(in *rds.CreateDBInstanceInput) {
			in.BackupRetentionPeriod, in.DBSecurityGroups = aws.Int32(36), []string{"default"}
		}, "InvalidParameterValue", "Invalid backup retention period: 36. Valid values are 0-35."},
		{"DB security groups before VPC security groups", func(in *rds.CreateDBInstanceInput) {
			in.DBSecurityGroups, in.DBSubnetGroupName, in.VpcSecurityGroupIds = []string{"default"}, aws.String("closed"), []string{"sg-0123456789abcdef0"}
		}, "InvalidParameterCombination", "DB Security Groups are not supported in a VPC: use VpcSecurityGroupIds."},
		{"missing security group before an existing instance", func(in *rds.CreateDBInstanceInput) {
			in.DBInstanceIdentifier, in.DBSubnetGroupName, in.VpcSecurityGroupIds = aws.String("pg"), aws.String("closed"), []string{"sg-0123456789abcdef0"}
		}, "InvalidParameterValue", missingSG},
		{"security group of another VPC", func(in *rds.CreateDBInstanceInput) {
			in.DBSubnetGroupName, in.VpcSecurityGroupIds = aws.String("closed"), []string{e.otherSG}
		}, "InvalidParameterCombination", wrongVPC},
		{"security groups of a missing subnet group's VPC are only looked up", func(in *rds.CreateDBInstanceInput) {
			in.DBSubnetGroupName, in.VpcSecurityGroupIds = aws.String("ghost"), []string{e.otherSG}
		}, "DBSubnetGroupNotFoundFault", "DBSubnetGroup ghost not found."},
		{"security groups unchecked without a subnet group", func(in *rds.CreateDBInstanceInput) {
			in.DBInstanceIdentifier, in.VpcSecurityGroupIds = aws.String("pg"), []string{"sg-0123456789abcdef0"}
		}, "DBInstanceAlreadyExists", "DB instance already exists"},
		{"existing instance before parameter group", func(in *rds.CreateDBInstanceInput) {
			in.DBInstanceIdentifier, in.DBParameterGroupName = aws.String("PG"), aws.String("ghost")
		}, "DBInstanceAlreadyExists", "DB instance already exists"},
		{"parameter group before subnet group", func(in *rds.CreateDBInstanceInput) {
			in.DBParameterGroupName, in.DBSubnetGroupName = aws.String("ghost"), aws.String("ghost")
		}, "DBParameterGroupNotFound", "DBParameterGroup not found: ghost"},
		{"parameter group of an engine without them", func(in *rds.CreateDBInstanceInput) {
			in.Engine, in.DBParameterGroupName = aws.String("mariadb"), aws.String("default.postgres"+e.pgMajor)
		}, "InvalidParameterCombination", "minicloud supports DB parameter groups for postgres DB instances only: a mariadb DB instance uses its default group default.mariadb" + e.mariaMajor + ", not default.postgres" + e.pgMajor + "."},
		{"subnet group", func(in *rds.CreateDBInstanceInput) { in.DBSubnetGroupName = aws.String("Ghost") },
			"DBSubnetGroupNotFoundFault", "DBSubnetGroup Ghost not found."},
	}, func(mod *func(*rds.CreateDBInstanceInput)) error {
		in := createInput("fresh")
		(*mod)(in)
		_, err := e.rds.CreateDBInstance(e.ctx, in)
		return err
	})
}

func (e *errorsEnv) modifyErrors(t *testing.T) {
	unsupported := func(name string) string { return "minicloud does not support changing " + name + " yet." }
	wantErrors(t, []errorCase[rds.ModifyDBInstanceInput]{
		{"public access before password", rds.ModifyDBInstanceInput{PubliclyAccessible: aws.Bool(true), MasterUserPassword: aws.String("short")},
			"InvalidVPCNetworkStateFault", strings.Replace(noGateway, "%s", "modify", 1)},
		{"password before retention", rds.ModifyDBInstanceInput{MasterUserPassword: aws.String("short"), BackupRetentionPeriod: aws.Int32(36)},
			"InvalidParameterValue", "The parameter MasterUserPassword is not a valid password because it is shorter than 8 characters."},
		{"blank password", rds.ModifyDBInstanceInput{MasterUserPassword: aws.String("")},
			"InvalidParameterValue", "The parameter MasterUserPassword must be provided and must not be blank."},
		{"retention before DB security groups", rds.ModifyDBInstanceInput{BackupRetentionPeriod: aws.Int32(-1), DBSecurityGroups: []string{"default"}},
			"InvalidParameterValue", "Invalid backup retention period: -1. Valid values are 0-35."},
		{"DB security groups before what minicloud cannot change", rds.ModifyDBInstanceInput{DBSecurityGroups: []string{"default"}, DBPortNumber: aws.Int32(5433)},
			"InvalidParameterCombination", "DB Security Groups are not supported in a VPC: use VpcSecurityGroupIds."},
		{"new identifier first of what minicloud cannot change", rds.ModifyDBInstanceInput{NewDBInstanceIdentifier: aws.String("renamed"), DBPortNumber: aws.Int32(5433)},
			"InvalidParameterCombination", unsupported("NewDBInstanceIdentifier")},
		{"port before parameter group", rds.ModifyDBInstanceInput{DBPortNumber: aws.Int32(5433), DBParameterGroupName: aws.String("ghost")},
			"InvalidParameterCombination", unsupported("DBPortNumber")},
		{"IOPS", rds.ModifyDBInstanceInput{Iops: aws.Int32(3000)}, "InvalidParameterCombination", unsupported("Iops")},
		{"throughput", rds.ModifyDBInstanceInput{StorageThroughput: aws.Int32(125)}, "InvalidParameterCombination", unsupported("StorageThroughput")},
		{"option group", rds.ModifyDBInstanceInput{OptionGroupName: aws.String("og")}, "InvalidParameterCombination", unsupported("OptionGroupName")},
		{"IAM authentication", rds.ModifyDBInstanceInput{EnableIAMDatabaseAuthentication: aws.Bool(true)}, "InvalidParameterCombination", unsupported("EnableIAMDatabaseAuthentication")},
		{"rotated password", rds.ModifyDBInstanceInput{RotateMasterUserPassword: aws.Bool(true)}, "InvalidParameterCombination", unsupported("ManageMasterUserPassword")},
		{"domain", rds.ModifyDBInstanceInput{Domain: aws.String("d-1234567890")}, "InvalidParameterCombination", unsupported("Domain")},
		{"CA certificate", rds.ModifyDBInstanceInput{CACertificateIdentifier: aws.String("rds-ca-ecc384-g1")}, "InvalidParameterCombination", unsupported("CACertificateIdentifier")},
		{"parameter group before security groups", rds.ModifyDBInstanceInput{DBParameterGroupName: aws.String("ghost"), VpcSecurityGroupIds: []string{"sg-0123456789abcdef0"}},
			"DBParameterGroupNotFound", "DBParameterGroup not found: ghost"},
		{"security groups before the instance's state", rds.ModifyDBInstanceInput{VpcSecurityGroupIds: []string{"sg-0123456789abcdef0"}, EngineVersion: aws.String("9.6")},
			"InvalidParameterValue", missingSG},
		{"security group of another VPC", rds.ModifyDBInstanceInput{VpcSecurityGroupIds: []string{e.otherSG}},
			"InvalidParameterCombination", "Database is in " + e.vpcID + ", but Ec2 Security Group " + e.otherSG + " is in " + e.otherVPC},
		{"version before class", rds.ModifyDBInstanceInput{EngineVersion: aws.String("9.6"), DBInstanceClass: aws.String("m5.large")},
			"InvalidParameterCombination", "Cannot find version 9.6 for postgres"},
		{"class before storage", rds.ModifyDBInstanceInput{DBInstanceClass: aws.String("m5.large"), AllocatedStorage: aws.Int32(50)},
			"InvalidParameterValue", "Invalid DB Instance class: m5.large"},
		{"class offered", rds.ModifyDBInstanceInput{DBInstanceClass: aws.String("db.x9.huge")},
			"InvalidParameterCombination", "RDS does not support creating a DB instance with the following combination: DBInstanceClass=db.x9.huge, Engine=postgres, EngineVersion=" + e.pgVersion + ", LicenseModel=postgresql-license. For supported combinations of instance class and database engine version, see the documentation."},
		{"storage shrinks before storage type", rds.ModifyDBInstanceInput{AllocatedStorage: aws.Int32(50), StorageType: aws.String("io1")},
			"InvalidParameterCombination", "Invalid storage size: 50. The allocated storage of a DB instance can't be decreased (it is 100 GiB)."},
		{"storage grows under 10%", rds.ModifyDBInstanceInput{AllocatedStorage: aws.Int32(105)},
			"InvalidParameterCombination", "The allocated storage must be increased by at least 10 percent (from 100 GiB to at least 110 GiB)."},
		{"storage too large", rds.ModifyDBInstanceInput{AllocatedStorage: aws.Int32(70000)},
			"InvalidParameterValue", "Invalid storage size for engine name postgres and storage type gp2: 70000"},
		{"storage type before subnet group", rds.ModifyDBInstanceInput{MultiAZ: aws.Bool(true), StorageType: aws.String("io1"), DBSubnetGroupName: aws.String("other")},
			"InvalidParameterCombination", unsupported("StorageType")},
		{"subnet group", rds.ModifyDBInstanceInput{DBSubnetGroupName: aws.String("other")},
			"InvalidParameterCombination", "minicloud does not support moving a DB instance to another DB subnet group yet."},
	}, func(in *rds.ModifyDBInstanceInput) error {
		in.DBInstanceIdentifier = aws.String("pg")
		_, err := e.rds.ModifyDBInstance(e.ctx, in)
		return err
	})
	wantErrors(t, []errorCase[rds.ModifyDBInstanceInput]{
		{"missing instance: its parameter group is not checked", rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("Ghost"), DBParameterGroupName: aws.String("ghost")},
			"DBInstanceNotFound", "DBInstance Ghost not found."},
		{"missing instance: security groups first", rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("ghost"), VpcSecurityGroupIds: []string{"sg-0123456789abcdef0"}},
			"InvalidParameterValue", missingSG},
		{"missing instance: public access unchecked", rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("ghost"), PubliclyAccessible: aws.Bool(true)},
			"DBInstanceNotFound", "DBInstance ghost not found."},
		{"stopped instance before its version", rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("old"), EngineVersion: aws.String("9.6")},
			"InvalidDBInstanceState", "Database instance is not in available state."},
	}, func(in *rds.ModifyDBInstanceInput) error {
		_, err := e.rds.ModifyDBInstance(e.ctx, in)
		return err
	})
}

func (e *errorsEnv) replicaErrors(t *testing.T) {
	wantErrors(t, []errorCase[rds.CreateDBInstanceReadReplicaInput]{
		{"reserved tag before identifier", rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("1bad"), SourceDBInstanceIdentifier: aws.String("pg"),
			Tags: []types.Tag{{Key: aws.String("aws:owner"), Value: aws.String("me")}}}, "InvalidParameterValue", reservedTagKey},
		{"identifier before cluster", rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("1bad"), SourceDBClusterIdentifier: aws.String("c")},
			"InvalidParameterValue", badIdentifier},
		{"cluster before source", rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("rep"), SourceDBClusterIdentifier: aws.String("c")},
			"InvalidParameterCombination", "minicloud has no DB clusters yet: give SourceDBInstanceIdentifier."},
		{"no source", rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("rep"), SourceDBInstanceIdentifier: aws.String("")},
			"InvalidParameterValue", "The parameter SourceDBInstanceIdentifier must be provided and must not be blank."},
		{"source identifier before class", rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("rep"), SourceDBInstanceIdentifier: aws.String("1bad"), DBInstanceClass: aws.String("t3")},
			"InvalidParameterValue", "The parameter SourceDBInstanceIdentifier is not a valid identifier."},
		{"source ARN of a snapshot", rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("rep"), SourceDBInstanceIdentifier: aws.String("arn:aws:rds:us-east-1:000000000000:snapshot:snap")},
			"InvalidParameterValue", "Invalid source DB instance ARN: arn:aws:rds:us-east-1:000000000000:snapshot:snap"},
		{"source ARN of another Region", rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("rep"), SourceDBInstanceIdentifier: aws.String("arn:aws:rds:eu-west-1:000000000000:db:pg")},
			"InvalidParameterValue", "minicloud makes read replicas only of DB instances in the same account and Region, not of arn:aws:rds:eu-west-1:000000000000:db:pg."},
		{"class before port", rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("rep"), SourceDBInstanceIdentifier: aws.String("pg"), DBInstanceClass: aws.String("t3"), Port: aws.Int32(80)},
			"InvalidParameterValue", "Invalid DB Instance class: t3"},
		{"port before Multi-AZ", rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("rep"), SourceDBInstanceIdentifier: aws.String("pg"), Port: aws.Int32(80), MultiAZ: aws.Bool(true)},
			"InvalidParameterValue", "Invalid port number: 80. Valid values are 1150-65535."},
		{"Multi-AZ before security groups", rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("rep"), SourceDBInstanceIdentifier: aws.String("pg"), MultiAZ: aws.Bool(true), VpcSecurityGroupIds: []string{"sg-0123456789abcdef0"}},
			"InvalidParameterCombination", "minicloud does not make Multi-AZ read replicas yet."},
		{"security groups before the source", rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("pg"), SourceDBInstanceIdentifier: aws.String("ghost"), VpcSecurityGroupIds: []string{"sg-0123456789abcdef0"}},
			"InvalidParameterValue", missingSG},
		{"security group of the source's VPC", rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("rep"), SourceDBInstanceIdentifier: aws.String("pg"), VpcSecurityGroupIds: []string{e.otherSG}},
			"InvalidParameterCombination", "Database is in " + e.vpcID + ", but Ec2 Security Group " + e.otherSG + " is in " + e.otherVPC},
		{"security groups of a missing subnet group's VPC are only looked up", rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("rep"), SourceDBInstanceIdentifier: aws.String("pg"),
			DBSubnetGroupName: aws.String("ghost"), VpcSecurityGroupIds: []string{e.otherSG}}, "InvalidDBInstanceState", backupsDisabled},
		{"existing instance before the source", rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("PG"), SourceDBInstanceIdentifier: aws.String("ghost")},
			"DBInstanceAlreadyExists", "DB instance already exists"},
		{"missing source, as given", rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("rep"), SourceDBInstanceIdentifier: aws.String("arn:aws:rds:us-east-1:000000000000:db:ghost")},
			"DBInstanceNotFound", "DBInstance arn:aws:rds:us-east-1:000000000000:db:ghost not found."},
		{"stopped source", rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("rep"), SourceDBInstanceIdentifier: aws.String("old"), ReplicaMode: types.ReplicaModeMounted},
			"InvalidDBInstanceState", "DB instance is not in the available state"},
		{"replica mode before parameter group", rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("rep"), SourceDBInstanceIdentifier: aws.String("pg"), ReplicaMode: types.ReplicaModeMounted, DBParameterGroupName: aws.String("ghost")},
			"InvalidParameterValue", "ReplicaMode is supported only for Oracle and SQL Server DB instances, not postgres."},
		{"parameter group before backups", rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("rep"), SourceDBInstanceIdentifier: aws.String("pg"), DBParameterGroupName: aws.String("ghost")},
			"DBParameterGroupNotFound", "DBParameterGroup not found: ghost"},
		{"source without backups", rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("rep"), SourceDBInstanceIdentifier: aws.String("pg")},
			"InvalidDBInstanceState", backupsDisabled},
	}, func(in *rds.CreateDBInstanceReadReplicaInput) error {
		_, err := e.rds.CreateDBInstanceReadReplica(e.ctx, in)
		return err
	})
}

func (e *errorsEnv) restoreErrors(t *testing.T) {
	wantErrors(t, []errorCase[rds.RestoreDBInstanceFromDBSnapshotInput]{
		{"cluster snapshot before snapshot", rds.RestoreDBInstanceFromDBSnapshotInput{DBClusterSnapshotIdentifier: aws.String("c"), DBSnapshotIdentifier: aws.String("ghost")},
			"InvalidParameterCombination", "minicloud restores DB instances from DB snapshots only, not from DB cluster snapshots."},
		{"snapshot before identifier", rds.RestoreDBInstanceFromDBSnapshotInput{DBSnapshotIdentifier: aws.String("Ghost"), DBInstanceIdentifier: aws.String("1bad")},
			"DBSnapshotNotFound", "DBSnapshot Ghost not found."},
		{"engine before identifier", rds.RestoreDBInstanceFromDBSnapshotInput{DBSnapshotIdentifier: aws.String("snap"), Engine: aws.String("mariadb"), DBInstanceIdentifier: aws.String("1bad")},
			"InvalidParameterCombination", "Cannot restore a postgres snapshot as engine mariadb."},
		{"reserved tag before public access", rds.RestoreDBInstanceFromDBSnapshotInput{DBSnapshotIdentifier: aws.String("snap"), DBInstanceIdentifier: aws.String("1bad"),
			PubliclyAccessible: aws.Bool(true), DBSubnetGroupName: aws.String("closed"), Tags: []types.Tag{{Key: aws.String("aws:owner"), Value: aws.String("me")}}},
			"InvalidParameterValue", reservedTagKey},
		{"public access before identifier", rds.RestoreDBInstanceFromDBSnapshotInput{DBSnapshotIdentifier: aws.String("snap"), DBInstanceIdentifier: aws.String("1bad"),
			PubliclyAccessible: aws.Bool(true), DBSubnetGroupName: aws.String("closed")}, "InvalidVPCNetworkStateFault", strings.Replace(noGateway, "%s", "create", 1)},
		{"identifier", rds.RestoreDBInstanceFromDBSnapshotInput{DBSnapshotIdentifier: aws.String("snap"), DBInstanceIdentifier: aws.String("1bad")},
			"InvalidParameterValue", badIdentifier},
		{"storage shrinks", rds.RestoreDBInstanceFromDBSnapshotInput{DBSnapshotIdentifier: aws.String("snap"), DBInstanceIdentifier: aws.String("restored"), AllocatedStorage: aws.Int32(10)},
			"InvalidParameterValue", "Invalid storage size for engine name postgres and storage type gp2: 10"},
		{"existing instance", rds.RestoreDBInstanceFromDBSnapshotInput{DBSnapshotIdentifier: aws.String("arn:aws:rds:us-east-1:000000000000:snapshot:snap"), DBInstanceIdentifier: aws.String("pg")},
			"DBInstanceAlreadyExists", "DB instance already exists"},
		{"parameter group", rds.RestoreDBInstanceFromDBSnapshotInput{DBSnapshotIdentifier: aws.String("snap"), DBInstanceIdentifier: aws.String("restored"), DBParameterGroupName: aws.String("ghost")},
			"DBParameterGroupNotFound", "DBParameterGroup not found: ghost"},
		{"subnet group", rds.RestoreDBInstanceFromDBSnapshotInput{DBSnapshotIdentifier: aws.String("snap"), DBInstanceIdentifier: aws.String("restored"), DBSubnetGroupName: aws.String("ghost")},
			"DBSubnetGroupNotFoundFault", "DBSubnetGroup ghost not found."},
	}, func(in *rds.RestoreDBInstanceFromDBSnapshotInput) error {
		if in.DBInstanceIdentifier == nil {
			in.DBInstanceIdentifier = aws.String("restored")
		}
		_, err := e.rds.RestoreDBInstanceFromDBSnapshot(e.ctx, in)
		return err
	})
}

func (e *errorsEnv) pointInTimeErrors(t *testing.T) {
	wantErrors(t, []errorCase[rds.RestoreDBInstanceToPointInTimeInput]{
		{"resource ID before time", rds.RestoreDBInstanceToPointInTimeInput{SourceDbiResourceId: aws.String("db-ABC")},
			"InvalidParameterCombination", "minicloud restores from a SourceDBInstanceIdentifier only."},
		{"both times", rds.RestoreDBInstanceToPointInTimeInput{SourceDBInstanceIdentifier: aws.String("ghost"), UseLatestRestorableTime: aws.Bool(true), RestoreTime: aws.Time(time.Unix(0, 0))},
			"InvalidParameterCombination", "Cannot specify both RestoreTime and UseLatestRestorableTime."},
		{"no time", rds.RestoreDBInstanceToPointInTimeInput{SourceDBInstanceIdentifier: aws.String("ghost")},
			"InvalidParameterCombination", "Either RestoreTime or UseLatestRestorableTime must be specified."},
		{"source before target identifier", rds.RestoreDBInstanceToPointInTimeInput{SourceDBInstanceIdentifier: aws.String("Ghost"), UseLatestRestorableTime: aws.Bool(true), TargetDBInstanceIdentifier: aws.String("1bad")},
			"DBInstanceNotFound", "DBInstance Ghost not found."},
		{"no retention before target identifier", rds.RestoreDBInstanceToPointInTimeInput{SourceDBInstanceIdentifier: aws.String("pg"), UseLatestRestorableTime: aws.Bool(true), TargetDBInstanceIdentifier: aws.String("1bad")},
			"PointInTimeRestoreNotEnabled", "Point-in-time restore is not enabled for DB instance pg: its BackupRetentionPeriod is 0."},
	}, func(in *rds.RestoreDBInstanceToPointInTimeInput) error {
		if in.TargetDBInstanceIdentifier == nil {
			in.TargetDBInstanceIdentifier = aws.String("restored")
		}
		_, err := e.rds.RestoreDBInstanceToPointInTime(e.ctx, in)
		return err
	})
}
