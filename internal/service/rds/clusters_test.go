package rds_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// clusterInput is a valid CreateDBCluster request for an aurora-postgresql
// cluster id in DB subnet group group ("" for none).
func clusterInput(id, group string) *rds.CreateDBClusterInput {
	in := &rds.CreateDBClusterInput{
		DBClusterIdentifier: aws.String(id), Engine: aws.String("aurora-postgresql"),
		MasterUsername: aws.String("master"), MasterUserPassword: aws.String("secret-pw1"),
	}
	if group != "" {
		in.DBSubnetGroupName = aws.String(group)
	}
	return in
}

// memberInput is a valid CreateDBInstance request for member id of cluster.
func memberInput(id, cluster string) *rds.CreateDBInstanceInput {
	return &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String(id), DBClusterIdentifier: aws.String(cluster),
		Engine: aws.String("aurora-postgresql"), DBInstanceClass: aws.String("db.r6g.large"),
	}
}

func (e *testEnv) cluster(t *testing.T, id string) types.DBCluster {
	t.Helper()
	out, err := e.rds.DescribeDBClusters(e.ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String(id)})
	if err != nil {
		t.Fatalf("DescribeDBClusters %s: %v", id, err)
	}
	return out.DBClusters[0]
}

// waitClusterStatus polls until cluster id has status want, for up to 60 s.
func (e *testEnv) waitClusterStatus(t *testing.T, id, want string) {
	t.Helper()
	last := ""
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if last = aws.ToString(e.cluster(t, id).Status); last == want {
			return
		}
	}
	t.Fatalf("cluster %s: status %q, want %q after 60s", id, last, want)
}

// TestClusterErrors pins AWS's refusals of the cluster operations and of
// cluster members, in AWS's codes.
func TestClusterErrors(t *testing.T) {
	t.Parallel()
	if !hasPostgres() {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
	}
	e := newEnv(t)
	subnets := e.vpc(t, "10.31", "us-east-1a", "us-east-1b")
	if _, err := e.rds.CreateDBSubnetGroup(e.ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("net"), DBSubnetGroupDescription: aws.String("d"), SubnetIds: subnets}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rds.CreateDBCluster(e.ctx, clusterInput("base", "net")); err != nil {
		t.Fatal(err)
	}
	protected := clusterInput("guarded", "")
	protected.DeletionProtection = aws.Bool(true)
	if _, err := e.rds.CreateDBCluster(e.ctx, protected); err != nil {
		t.Fatal(err)
	}
	create := func(mod func(*rds.CreateDBClusterInput)) func() error {
		return func() error {
			in := clusterInput("c1", "net")
			mod(in)
			_, err := e.rds.CreateDBCluster(e.ctx, in)
			return err
		}
	}
	member := func(mod func(*rds.CreateDBInstanceInput)) func() error {
		return func() error {
			in := memberInput("m1", "base")
			mod(in)
			_, err := e.rds.CreateDBInstance(e.ctx, in)
			return err
		}
	}
	for _, tc := range []struct {
		name string
		call func() error
		code string
	}{
		{"bad identifier", create(func(in *rds.CreateDBClusterInput) { in.DBClusterIdentifier = aws.String("a--b") }), "InvalidParameterValue"},
		{"unknown engine", create(func(in *rds.CreateDBClusterInput) { in.Engine = aws.String("nosql") }), "InvalidParameterValue"},
		{"Multi-AZ DB cluster", create(func(in *rds.CreateDBClusterInput) { in.Engine = aws.String("postgres") }), "InvalidParameterCombination"},
		{"engine mode", create(func(in *rds.CreateDBClusterInput) { in.EngineMode = aws.String("serverless") }), "InvalidParameterCombination"},
		{"version", create(func(in *rds.CreateDBClusterInput) { in.EngineVersion = aws.String("9.6.1") }), "InvalidParameterCombination"},
		{"instance class", create(func(in *rds.CreateDBClusterInput) { in.DBClusterInstanceClass = aws.String("db.r6g.large") }), "InvalidParameterCombination"},
		{"no master", create(func(in *rds.CreateDBClusterInput) { in.MasterUsername = nil }), "InvalidParameterValue"},
		{"short password", create(func(in *rds.CreateDBClusterInput) { in.MasterUserPassword = aws.String("short") }), "InvalidParameterValue"},
		{"long password", create(func(in *rds.CreateDBClusterInput) { in.MasterUserPassword = aws.String(strings.Repeat("p", 42)) }), "InvalidParameterValue"},
		{"long master", create(func(in *rds.CreateDBClusterInput) { in.MasterUsername = aws.String(strings.Repeat("m", 17)) }), "InvalidParameterValue"},
		{"database name", create(func(in *rds.CreateDBClusterInput) { in.DatabaseName = aws.String("1db") }), "InvalidParameterValue"},
		{"port", create(func(in *rds.CreateDBClusterInput) { in.Port = aws.Int32(80) }), "InvalidParameterValue"},
		{"retention 0", create(func(in *rds.CreateDBClusterInput) { in.BackupRetentionPeriod = aws.Int32(0) }), "InvalidParameterValue"},
		{"serverless range", create(func(in *rds.CreateDBClusterInput) {
			in.ServerlessV2ScalingConfiguration = &types.ServerlessV2ScalingConfiguration{MinCapacity: aws.Float64(8), MaxCapacity: aws.Float64(4)}
		}), "InvalidParameterValue"},
		{"subnet group", create(func(in *rds.CreateDBClusterInput) { in.DBSubnetGroupName = aws.String("nosuch") }), "DBSubnetGroupNotFoundFault"},
		{"cluster parameter group", create(func(in *rds.CreateDBClusterInput) { in.DBClusterParameterGroupName = aws.String("nosuch") }), "DBParameterGroupNotFound"},
		{"zone outside the subnet group", create(func(in *rds.CreateDBClusterInput) { in.AvailabilityZones = []string{"us-east-1c"} }), "InvalidParameterValue"},
		{"exists", create(func(in *rds.CreateDBClusterInput) { in.DBClusterIdentifier = aws.String("BASE") }), "DBClusterAlreadyExistsFault"},
		{"describe missing", func() error {
			_, err := e.rds.DescribeDBClusters(e.ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String("nosuch")})
			return err
		}, "DBClusterNotFoundFault"},
		{"describe filter", func() error {
			_, err := e.rds.DescribeDBClusters(e.ctx, &rds.DescribeDBClustersInput{Filters: []types.Filter{{Name: aws.String("nosuch"), Values: []string{"x"}}}})
			return err
		}, "InvalidParameterValue"},
		{"start available", func() error {
			_, err := e.rds.StartDBCluster(e.ctx, &rds.StartDBClusterInput{DBClusterIdentifier: aws.String("base")})
			return err
		}, "InvalidDBClusterStateFault"},
		{"stop missing", func() error {
			_, err := e.rds.StopDBCluster(e.ctx, &rds.StopDBClusterInput{DBClusterIdentifier: aws.String("nosuch")})
			return err
		}, "DBClusterNotFoundFault"},
		{"delete protected", func() error {
			_, err := e.rds.DeleteDBCluster(e.ctx, &rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String("guarded"), SkipFinalSnapshot: aws.Bool(true)})
			return err
		}, "InvalidParameterCombination"},
		{"delete without final snapshot choice", func() error {
			_, err := e.rds.DeleteDBCluster(e.ctx, &rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String("base")})
			return err
		}, "InvalidParameterCombination"},
		{"delete with a final snapshot of no data", func() error {
			_, err := e.rds.DeleteDBCluster(e.ctx, &rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String("base"), FinalDBSnapshotIdentifier: aws.String("final")})
			return err
		}, "InvalidDBClusterStateFault"},
		{"modify password", func() error {
			_, err := e.rds.ModifyDBCluster(e.ctx, &rds.ModifyDBClusterInput{DBClusterIdentifier: aws.String("base"), MasterUserPassword: aws.String("short")})
			return err
		}, "InvalidParameterValue"},
		{"modify parameter group", func() error {
			_, err := e.rds.ModifyDBCluster(e.ctx, &rds.ModifyDBClusterInput{DBClusterIdentifier: aws.String("base"), DBClusterParameterGroupName: aws.String("nosuch")})
			return err
		}, "DBParameterGroupNotFound"},
		{"aurora instance without a cluster", func() error {
			_, err := e.rds.CreateDBInstance(e.ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("lone"), Engine: aws.String("aurora-postgresql"),
				DBInstanceClass: aws.String("db.r6g.large"), MasterUsername: aws.String("m"), MasterUserPassword: aws.String("secret-pw1"), AllocatedStorage: aws.Int32(20)})
			return err
		}, "InvalidParameterCombination"},
		{"member of a missing cluster", member(func(in *rds.CreateDBInstanceInput) { in.DBClusterIdentifier = aws.String("nosuch") }), "DBClusterNotFoundFault"},
		{"member engine", member(func(in *rds.CreateDBInstanceInput) { in.Engine = aws.String("postgres") }), "InvalidParameterCombination"},
		{"member password", member(func(in *rds.CreateDBInstanceInput) { in.MasterUserPassword = aws.String("secret-pw1") }), "InvalidParameterCombination"},
		{"member storage", member(func(in *rds.CreateDBInstanceInput) { in.AllocatedStorage = aws.Int32(20) }), "InvalidParameterCombination"},
		{"member security groups", member(func(in *rds.CreateDBInstanceInput) { in.VpcSecurityGroupIds = []string{"sg-1"} }), "InvalidParameterCombination"},
		{"member class", member(func(in *rds.CreateDBInstanceInput) { in.DBInstanceClass = aws.String("db.t3.micro") }), "InvalidParameterCombination"},
		{"serverless member without scaling", member(func(in *rds.CreateDBInstanceInput) { in.DBInstanceClass = aws.String("db.serverless") }), "InvalidDBClusterStateFault"},
		{"member promotion tier", member(func(in *rds.CreateDBInstanceInput) { in.PromotionTier = aws.Int32(16) }), "InvalidParameterValue"},
		{"member zone", member(func(in *rds.CreateDBInstanceInput) { in.AvailabilityZone = aws.String("us-east-1c") }), "InvalidParameterValue"},
		{"cluster parameter group family", func() error {
			_, err := e.rds.CreateDBClusterParameterGroup(e.ctx, &rds.CreateDBClusterParameterGroupInput{DBClusterParameterGroupName: aws.String("cpg"),
				DBParameterGroupFamily: aws.String("postgres15"), Description: aws.String("d")})
			return err
		}, "InvalidParameterValue"},
		{"modify default cluster parameter group", func() error {
			_, err := e.rds.ModifyDBClusterParameterGroup(e.ctx, &rds.ModifyDBClusterParameterGroupInput{DBClusterParameterGroupName: aws.String(aws.ToString(e.cluster(t, "base").DBClusterParameterGroup)),
				Parameters: []types.Parameter{{ParameterName: aws.String("work_mem"), ParameterValue: aws.String("8192")}}})
			return err
		}, "InvalidParameterValue"},
		{"subnet group in use", func() error {
			_, err := e.rds.DeleteDBSubnetGroup(e.ctx, &rds.DeleteDBSubnetGroupInput{DBSubnetGroupName: aws.String("net")})
			return err
		}, "InvalidDBSubnetGroupStateFault"},
		{"describe page size", func() error {
			_, err := e.rds.DescribeDBClusters(e.ctx, &rds.DescribeDBClustersInput{MaxRecords: aws.Int32(10)})
			return err
		}, "InvalidParameterValue"},
		{"describe marker", func() error {
			_, err := e.rds.DescribeDBClusters(e.ctx, &rds.DescribeDBClustersInput{Marker: aws.String("bogus")})
			return err
		}, "InvalidParameterValue"},
		{"tag missing cluster", func() error {
			_, err := e.rds.ListTagsForResource(e.ctx, &rds.ListTagsForResourceInput{ResourceName: aws.String(arnPrefix + "cluster:nosuch")})
			return err
		}, "DBClusterNotFoundFault"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.call(), tc.code) })
	}
	if _, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("m1")}); err == nil {
		t.Fatal("a refused member was recorded")
	}
	for _, tc := range []struct {
		filter, value string
		want          []string
	}{
		{"engine", "aurora-postgresql", []string{"base", "guarded"}},
		{"engine", "aurora-mysql", nil},
		{"db-cluster-id", arnPrefix + "cluster:guarded", []string{"guarded"}},
	} {
		out, err := e.rds.DescribeDBClusters(e.ctx, &rds.DescribeDBClustersInput{Filters: []types.Filter{{Name: aws.String(tc.filter), Values: []string{tc.value}}}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range out.DBClusters {
			got = append(got, aws.ToString(c.DBClusterIdentifier))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("filter %s=%s: %v, want %v", tc.filter, tc.value, got, tc.want)
		}
	}
}

// TestClusterLifecycle builds an aurora-postgresql cluster with a writer
// and a reader in two zones, stops and starts it, deletes the writer (the
// reader becomes the writer), and deletes the cluster once empty; its
// parameter group and tags go with it, and everything survives a restart.
func TestClusterLifecycle(t *testing.T) {
	t.Parallel()
	if !hasPostgres() {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
	}
	dir := t.TempDir()
	e := newEnvIn(t, dir)
	subnets := e.vpc(t, "10.32", "us-east-1a", "us-east-1b", "us-east-1c")
	if _, err := e.rds.CreateDBSubnetGroup(e.ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("net"), DBSubnetGroupDescription: aws.String("d"), SubnetIds: subnets}); err != nil {
		t.Fatal(err)
	}
	ev, err := e.rds.DescribeDBEngineVersions(e.ctx, &rds.DescribeDBEngineVersionsInput{Engine: aws.String("aurora-postgresql")})
	if err != nil || len(ev.DBEngineVersions) != 1 {
		t.Fatalf("DescribeDBEngineVersions aurora-postgresql: %+v, %v", ev, err)
	}
	family := aws.ToString(ev.DBEngineVersions[0].DBParameterGroupFamily)
	if !regexp.MustCompile(`^aurora-postgresql\d+$`).MatchString(family) {
		t.Fatalf("family %q", family)
	}
	if _, err := e.rds.CreateDBClusterParameterGroup(e.ctx, &rds.CreateDBClusterParameterGroupInput{DBClusterParameterGroupName: aws.String("cpg"),
		DBParameterGroupFamily: aws.String(family), Description: aws.String("mine"), Tags: tags("k", "v")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rds.ModifyDBClusterParameterGroup(e.ctx, &rds.ModifyDBClusterParameterGroupInput{DBClusterParameterGroupName: aws.String("cpg"),
		Parameters: []types.Parameter{{ParameterName: aws.String("work_mem"), ParameterValue: aws.String("8192"), ApplyMethod: types.ApplyMethodImmediate}}}); err != nil {
		t.Fatal(err)
	}
	in := clusterInput("Prod", "net")
	in.DatabaseName, in.DBClusterParameterGroupName, in.Tags = aws.String("app"), aws.String("cpg"), tags("team", "db")
	out, err := e.rds.CreateDBCluster(e.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	c := *out.DBCluster
	endpoint := regexp.MustCompile(`^prod\.cluster-[a-z0-9]{12}\.us-east-1\.rds\.amazonaws\.com$`)
	switch {
	case aws.ToString(c.DBClusterIdentifier) != "prod", aws.ToString(c.Status) != "available":
		t.Fatalf("created %s in status %s", aws.ToString(c.DBClusterIdentifier), aws.ToString(c.Status))
	case !endpoint.MatchString(aws.ToString(c.Endpoint)):
		t.Fatalf("Endpoint %s", aws.ToString(c.Endpoint))
	case aws.ToString(c.ReaderEndpoint) != regexp.MustCompile(`\.cluster-`).ReplaceAllString(aws.ToString(c.Endpoint), ".cluster-ro-"):
		t.Fatalf("ReaderEndpoint %s", aws.ToString(c.ReaderEndpoint))
	case aws.ToInt32(c.Port) != 5432, aws.ToInt32(c.BackupRetentionPeriod) != 1, aws.ToString(c.EngineMode) != "provisioned":
		t.Fatalf("defaults: port %d, retention %d, mode %s", aws.ToInt32(c.Port), aws.ToInt32(c.BackupRetentionPeriod), aws.ToString(c.EngineMode))
	case aws.ToString(c.DBClusterArn) != arnPrefix+"cluster:prod":
		t.Fatalf("ARN %s", aws.ToString(c.DBClusterArn))
	case !regexp.MustCompile(`^cluster-[A-Z0-9]{26}$`).MatchString(aws.ToString(c.DbClusterResourceId)):
		t.Fatalf("resource ID %s", aws.ToString(c.DbClusterResourceId))
	case !slices.Equal(c.AvailabilityZones, []string{"us-east-1a", "us-east-1b", "us-east-1c"}):
		t.Fatalf("zones %v", c.AvailabilityZones)
	}

	// The first member is the writer, the next a reader in another zone.
	for _, id := range []string{"prod-1", "prod-2"} {
		if _, err := e.rds.CreateDBInstance(e.ctx, memberInput(id, "prod")); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"prod-1", "prod-2"} {
		e.waitStatus(t, id, "available")
	}
	c = e.cluster(t, "prod")
	if w := writerOf(c); w != "prod-1" || len(c.DBClusterMembers) != 2 || !aws.ToBool(c.MultiAZ) {
		t.Fatalf("members %+v (writer %q), MultiAZ %v", c.DBClusterMembers, w, aws.ToBool(c.MultiAZ))
	}
	insts, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{Filters: []types.Filter{{Name: aws.String("db-cluster-id"), Values: []string{"prod"}}}})
	if err != nil || len(insts.DBInstances) != 2 {
		t.Fatalf("members by filter: %v", err)
	}
	for _, db := range insts.DBInstances {
		if aws.ToString(db.DBClusterIdentifier) != "prod" || aws.ToInt32(db.PromotionTier) != 1 || aws.ToString(db.MasterUsername) != "master" || aws.ToString(db.DBName) != "app" {
			t.Fatalf("member %s: cluster %s, tier %d, master %s, db %s", aws.ToString(db.DBInstanceIdentifier), aws.ToString(db.DBClusterIdentifier),
				aws.ToInt32(db.PromotionTier), aws.ToString(db.MasterUsername), aws.ToString(db.DBName))
		}
	}
	if aws.ToString(insts.DBInstances[0].AvailabilityZone) == aws.ToString(insts.DBInstances[1].AvailabilityZone) {
		t.Fatal("the reader is in the writer's zone")
	}
	// A member's PromotionTier changes in its record and its cluster's.
	_, err = e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("prod-2"), PromotionTier: aws.Int32(16)})
	wantCode(t, err, "InvalidParameterValue")
	if _, err := e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("prod-2"), PromotionTier: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	if m := e.cluster(t, "prod").DBClusterMembers[1]; aws.ToString(m.DBInstanceIdentifier) != "prod-2" || aws.ToInt32(m.PromotionTier) != 0 {
		t.Fatalf("member after ModifyDBInstance: %+v", m)
	}
	e.waitStatus(t, "prod-2", "available")
	_, err = e.rds.DeleteDBCluster(e.ctx, &rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String("prod"), SkipFinalSnapshot: aws.Bool(true)})
	wantCode(t, err, "InvalidDBClusterStateFault")
	// What a member's cluster owns is refused on the member.
	for _, tc := range []struct {
		name string
		call func() error
		code string
	}{
		{"stop a member", func() error {
			_, err := e.rds.StopDBInstance(e.ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String("prod-2")})
			return err
		}, "InvalidParameterCombination"},
		{"snapshot a member", func() error {
			_, err := e.rds.CreateDBSnapshot(e.ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("prod-2"), DBSnapshotIdentifier: aws.String("s1")})
			return err
		}, "InvalidParameterValue"},
		{"a member's password", func() error {
			_, err := e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("prod-2"), MasterUserPassword: aws.String("secret-pw2")})
			return err
		}, "InvalidParameterCombination"},
		{"a read replica of a member", func() error {
			_, err := e.rds.CreateDBInstanceReadReplica(e.ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("r1"), SourceDBInstanceIdentifier: aws.String("prod-1")})
			return err
		}, "InvalidParameterCombination"},
		{"a final snapshot of a member", func() error {
			_, err := e.rds.DeleteDBInstance(e.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("prod-2"), FinalDBSnapshotIdentifier: aws.String("s2")})
			return err
		}, "InvalidParameterCombination"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.call(), tc.code) })
	}

	if _, err := e.rds.StopDBCluster(e.ctx, &rds.StopDBClusterInput{DBClusterIdentifier: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	e.waitClusterStatus(t, "prod", "stopped")
	if _, err := e.rds.StartDBCluster(e.ctx, &rds.StartDBClusterInput{DBClusterIdentifier: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	e.waitClusterStatus(t, "prod", "available")

	if _, err := e.rds.ModifyDBCluster(e.ctx, &rds.ModifyDBClusterInput{DBClusterIdentifier: aws.String("prod"), BackupRetentionPeriod: aws.Int32(7), DeletionProtection: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}

	// Restart: the cluster, its members, its group and tags are kept.
	e.close()
	e = newEnvIn(t, dir)
	c = e.cluster(t, "prod")
	if aws.ToInt32(c.BackupRetentionPeriod) != 7 || !aws.ToBool(c.DeletionProtection) || writerOf(c) != "prod-1" || aws.ToString(c.DBClusterParameterGroup) != "cpg" {
		t.Fatalf("after restart: %+v", c)
	}
	if got := e.listTags(t, arnPrefix+"cluster:prod"); got != "team=db" {
		t.Fatalf("cluster tags %q", got)
	}
	params, err := e.rds.DescribeDBClusterParameters(e.ctx, &rds.DescribeDBClusterParametersInput{DBClusterParameterGroupName: aws.String("cpg"), Source: aws.String("user")})
	if err != nil || len(params.Parameters) != 1 || aws.ToString(params.Parameters[0].ParameterValue) != "8192" {
		t.Fatalf("cluster parameters: %+v, %v", params, err)
	}
	e.waitStatus(t, "prod-1", "available")

	// Deleting the writer hands the writer role to the reader.
	if _, err := e.rds.DeleteDBInstance(e.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("prod-1")}); err != nil {
		t.Fatal(err)
	}
	if c = e.cluster(t, "prod"); writerOf(c) != "prod-2" || len(c.DBClusterMembers) != 1 {
		t.Fatalf("after the writer's deletion: %+v", c.DBClusterMembers)
	}
	if _, err := e.rds.DeleteDBInstance(e.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("prod-2")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.rds.DeleteDBCluster(e.ctx, &rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String("prod"), SkipFinalSnapshot: aws.Bool(true)})
	wantCode(t, err, "InvalidParameterCombination") // deletion protection
	if _, err := e.rds.ModifyDBCluster(e.ctx, &rds.ModifyDBClusterInput{DBClusterIdentifier: aws.String("prod"), DeletionProtection: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.rds.DeleteDBClusterParameterGroup(e.ctx, &rds.DeleteDBClusterParameterGroupInput{DBClusterParameterGroupName: aws.String("cpg")})
	wantCode(t, err, "InvalidDBParameterGroupState") // in use
	if _, err := e.rds.DeleteDBCluster(e.ctx, &rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String("prod"), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.rds.DescribeDBClusters(e.ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String("prod")})
	wantCode(t, err, "DBClusterNotFoundFault")
	if _, err := e.rds.DeleteDBClusterParameterGroup(e.ctx, &rds.DeleteDBClusterParameterGroupInput{DBClusterParameterGroupName: aws.String("cpg")}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"prod-1", "prod-2"} {
		e.waitStatus(t, id, "")
	}
}

// writerOf is the identifier of c's writer.
func writerOf(c types.DBCluster) string {
	for _, m := range c.DBClusterMembers {
		if aws.ToBool(m.IsClusterWriter) {
			return aws.ToString(m.DBInstanceIdentifier)
		}
	}
	return ""
}

// TestAuroraEngines: DescribeDBEngineVersions and
// DescribeOrderableDBInstanceOptions list the Aurora engines with Aurora's
// names, families and classes, db.serverless among them.
func TestAuroraEngines(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct{ engine, family, version string }{
		{"aurora-postgresql", `^aurora-postgresql\d+$`, `^\d+\.\d+$`},
		{"aurora-mysql", `^aurora-mysql8\.0$`, `^8\.0\.mysql_aurora\.3\.\d\d\.\d$`},
	} {
		t.Run(tc.engine, func(t *testing.T) {
			ev, err := e.rds.DescribeDBEngineVersions(e.ctx, &rds.DescribeDBEngineVersionsInput{Engine: aws.String(tc.engine)})
			if err != nil {
				t.Fatal(err)
			}
			if len(ev.DBEngineVersions) == 0 {
				t.Skipf("this host cannot run %s", tc.engine)
			}
			v := ev.DBEngineVersions[0]
			if !regexp.MustCompile(tc.family).MatchString(aws.ToString(v.DBParameterGroupFamily)) || !regexp.MustCompile(tc.version).MatchString(aws.ToString(v.EngineVersion)) {
				t.Fatalf("family %s, version %s", aws.ToString(v.DBParameterGroupFamily), aws.ToString(v.EngineVersion))
			}
			if !regexp.MustCompile(`\(minicloud: the host's `).MatchString(aws.ToString(v.DBEngineVersionDescription)) {
				t.Fatalf("description %q does not say what minicloud runs", aws.ToString(v.DBEngineVersionDescription))
			}
			opts, err := e.rds.DescribeOrderableDBInstanceOptions(e.ctx, &rds.DescribeOrderableDBInstanceOptionsInput{Engine: aws.String(tc.engine), DBInstanceClass: aws.String("db.serverless")})
			if err != nil || len(opts.OrderableDBInstanceOptions) == 0 {
				t.Fatalf("db.serverless not orderable: %v", err)
			}
			if o := opts.OrderableDBInstanceOptions[0]; !aws.ToBool(o.SupportsClusters) || aws.ToString(o.StorageType) != "aurora" {
				t.Fatalf("option %+v", o)
			}
			opts, err = e.rds.DescribeOrderableDBInstanceOptions(e.ctx, &rds.DescribeOrderableDBInstanceOptionsInput{Engine: aws.String(tc.engine), DBInstanceClass: aws.String("db.t3.micro")})
			if err != nil || len(opts.OrderableDBInstanceOptions) != 0 {
				t.Fatalf("db.t3.micro orderable for %s: %v", tc.engine, err)
			}
		})
	}
}

// TestClusterEndpointsAndFailover: DescribeDBClusterEndpoints lists the
// cluster's WRITER and READER endpoints and its custom ones; custom
// endpoints are checked as AWS checks them, follow a member's deletion and
// go with their cluster; FailoverDBCluster records the request the
// controller carries out.
func TestClusterEndpointsAndFailover(t *testing.T) {
	t.Parallel()
	if !hasPostgres() {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
	}
	e := newEnv(t)
	subnets := e.vpc(t, "10.33", "us-east-1a", "us-east-1b")
	if _, err := e.rds.CreateDBSubnetGroup(e.ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("net"), DBSubnetGroupDescription: aws.String("d"), SubnetIds: subnets}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rds.CreateDBCluster(e.ctx, clusterInput("ep", "net")); err != nil {
		t.Fatal(err)
	}
	_, err := e.rds.FailoverDBCluster(e.ctx, &rds.FailoverDBClusterInput{DBClusterIdentifier: aws.String("ep")})
	wantCode(t, err, "InvalidDBClusterStateFault") // no reader
	for _, id := range []string{"ep-1", "ep-2", "ep-3"} {
		if _, err := e.rds.CreateDBInstance(e.ctx, memberInput(id, "ep")); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"ep-1", "ep-2", "ep-3"} {
		e.waitStatus(t, id, "available")
	}
	custom := func(id, typ string, static, excluded []string) error {
		_, err := e.rds.CreateDBClusterEndpoint(e.ctx, &rds.CreateDBClusterEndpointInput{DBClusterIdentifier: aws.String("ep"), DBClusterEndpointIdentifier: aws.String(id),
			EndpointType: aws.String(typ), StaticMembers: static, ExcludedMembers: excluded, Tags: tags("k", id)})
		return err
	}
	if err := custom("Analytics", "reader", []string{"ep-2", "EP-3"}, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		err  error
		code string
	}{
		{"writer type", custom("w", "WRITER", nil, nil), "InvalidParameterValue"},
		{"not a member", custom("x", "ANY", []string{"nosuch"}, nil), "InvalidParameterValue"},
		{"both lists", custom("y", "ANY", []string{"ep-2"}, []string{"ep-3"}), "InvalidParameterCombination"},
		{"exists", custom("analytics", "ANY", nil, nil), "DBClusterEndpointAlreadyExistsFault"},
		{"bad identifier", custom("a--b", "ANY", nil, nil), "InvalidParameterValue"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.err, tc.code) })
	}
	out, err := e.rds.DescribeDBClusterEndpoints(e.ctx, &rds.DescribeDBClusterEndpointsInput{DBClusterIdentifier: aws.String("ep")})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, ep := range out.DBClusterEndpoints {
		kinds = append(kinds, aws.ToString(ep.EndpointType)+"/"+aws.ToString(ep.CustomEndpointType))
		if aws.ToString(ep.EndpointType) == "CUSTOM" {
			if !regexp.MustCompile(`^analytics\.cluster-custom-[a-z0-9]{12}\.us-east-1\.rds\.amazonaws\.com$`).MatchString(aws.ToString(ep.Endpoint)) ||
				!slices.Equal(ep.StaticMembers, []string{"ep-2", "ep-3"}) {
				t.Fatalf("custom endpoint %+v", ep)
			}
		}
	}
	slices.Sort(kinds)
	if !slices.Equal(kinds, []string{"CUSTOM/READER", "READER/", "WRITER/"}) {
		t.Fatalf("endpoints %v", kinds)
	}
	if got := e.listTags(t, arnPrefix+"cluster-endpoint:analytics"); got != "k=Analytics" {
		t.Fatalf("endpoint tags %q", got)
	}
	if c := e.cluster(t, "ep"); len(c.CustomEndpoints) != 1 {
		t.Fatalf("CustomEndpoints %v", c.CustomEndpoints)
	}
	_, err = e.rds.DescribeDBClusterEndpoints(e.ctx, &rds.DescribeDBClusterEndpointsInput{DBClusterEndpointIdentifier: aws.String("nosuch")})
	wantCode(t, err, "DBClusterEndpointNotFoundFault")

	// A deleted member leaves the endpoint's static members.
	if _, err := e.rds.DeleteDBInstance(e.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("ep-3")}); err != nil {
		t.Fatal(err)
	}
	one, err := e.rds.DescribeDBClusterEndpoints(e.ctx, &rds.DescribeDBClusterEndpointsInput{DBClusterEndpointIdentifier: aws.String("analytics")})
	if err != nil || !slices.Equal(one.DBClusterEndpoints[0].StaticMembers, []string{"ep-2"}) {
		t.Fatalf("after ep-3's deletion: %+v, %v", one, err)
	}
	if _, err := e.rds.DeleteDBClusterEndpoint(e.ctx, &rds.DeleteDBClusterEndpointInput{DBClusterEndpointIdentifier: aws.String("analytics")}); err != nil {
		t.Fatal(err)
	}
	if c := e.cluster(t, "ep"); len(c.CustomEndpoints) != 0 {
		t.Fatalf("CustomEndpoints after deletion %v", c.CustomEndpoints)
	}

	for _, tc := range []struct{ target, code string }{{"ep-1", "InvalidParameterValue"}, {"nosuch", "InvalidParameterValue"}} {
		_, err := e.rds.FailoverDBCluster(e.ctx, &rds.FailoverDBClusterInput{DBClusterIdentifier: aws.String("ep"), TargetDBInstanceIdentifier: aws.String(tc.target)})
		wantCode(t, err, tc.code)
	}
	// A rename moves the cluster's names and its members with it.
	if _, err := e.rds.ModifyDBCluster(e.ctx, &rds.ModifyDBClusterInput{DBClusterIdentifier: aws.String("ep"), NewDBClusterIdentifier: aws.String("Renamed"), ApplyImmediately: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.rds.DescribeDBClusters(e.ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String("ep")})
	wantCode(t, err, "DBClusterNotFoundFault")
	rc := e.cluster(t, "renamed")
	if aws.ToString(rc.DBClusterArn) != arnPrefix+"cluster:renamed" || !regexp.MustCompile(`^renamed\.cluster-`).MatchString(aws.ToString(rc.Endpoint)) || len(rc.DBClusterMembers) != 2 {
		t.Fatalf("renamed cluster %+v", rc)
	}
	if m, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("ep-2")}); err != nil || aws.ToString(m.DBInstances[0].DBClusterIdentifier) != "renamed" {
		t.Fatalf("member after the rename: %v", err)
	}
	f, err := e.rds.FailoverDBCluster(e.ctx, &rds.FailoverDBClusterInput{DBClusterIdentifier: aws.String("renamed"), TargetDBInstanceIdentifier: aws.String("ep-2")})
	if err != nil {
		t.Fatal(err)
	}
	if st := aws.ToString(f.DBCluster.Status); st != "failing-over" {
		t.Fatalf("FailoverDBCluster: status %s", st)
	}
}

// TestAuroraMySQLCluster: an aurora-mysql cluster (the host's MariaDB under
// Aurora MySQL 3's version) gets its writer as a real server, with
// MariaDB's port and limits.
func TestAuroraMySQLCluster(t *testing.T) {
	t.Parallel()
	if !hasMariaDB() {
		t.Fatal("no MariaDB server (apt-get install mariadb-server)")
	}
	e := newEnv(t)
	in := clusterInput("shop", "")
	in.Engine, in.MasterUsername, in.DatabaseName = aws.String("aurora-mysql"), aws.String("admin"), aws.String("shop")
	out, err := e.rds.CreateDBCluster(e.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if c := out.DBCluster; aws.ToInt32(c.Port) != 3306 || !regexp.MustCompile(`^8\.0\.mysql_aurora\.3\.`).MatchString(aws.ToString(c.EngineVersion)) ||
		aws.ToString(c.DBClusterParameterGroup) != "default.aurora-mysql8.0" {
		t.Fatalf("cluster %+v", c)
	}
	long := clusterInput("long", "")
	long.Engine, long.MasterUsername = aws.String("aurora-mysql"), aws.String("a_master_name_of_17")
	_, err = e.rds.CreateDBCluster(e.ctx, long)
	wantCode(t, err, "InvalidParameterValue") // MySQL's 16-character limit
	m := memberInput("shop-1", "shop")
	m.Engine = aws.String("aurora-mysql")
	if _, err := e.rds.CreateDBInstance(e.ctx, m); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "shop-1", "available")
	db, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("shop-1")})
	if err != nil {
		t.Fatal(err)
	}
	if d := db.DBInstances[0]; aws.ToString(d.Engine) != "aurora-mysql" || aws.ToInt32(d.Endpoint.Port) != 3306 || aws.ToString(d.DBName) != "shop" {
		t.Fatalf("writer %+v", d)
	}
}
