package cli_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// auroraMember is one of a DB cluster's DBClusterMembers.
type auroraMember struct {
	ID     string `json:"id"`
	Writer bool   `json:"writer"`
	Tier   int    `json:"tier"`
}

// auroraReport is what one client saw of an Aurora cluster's life, built
// by the same steps whichever client drives them (aurora.py for boto3,
// auroraCLI for the AWS CLIs), so that checkAurora judges them alike.
// Steps holds, per step that failed, "error: <code>".
type auroraReport struct {
	Steps   map[string]string `json:"steps"`
	Created struct {
		Status         string `json:"status"`
		Endpoint       string `json:"endpoint"`
		ReaderEndpoint string `json:"readerEndpoint"`
		Port           int    `json:"port"`
		Engine         string `json:"engine"`
	} `json:"created"`
	Described struct {
		Status         string         `json:"status"`
		Members        []auroraMember `json:"members"`
		Zones          []string       `json:"zones"`
		SubnetGroup    string         `json:"subnetGroup"`
		Endpoint       string         `json:"endpoint"`
		ReaderEndpoint string         `json:"readerEndpoint"`
		SecurityGroups []string       `json:"securityGroups"`
	} `json:"described"`
	SecurityGroup string           `json:"securityGroup"`
	Instances     []auroraInstance `json:"instances"`
	Endpoints     []auroraEndpoint `json:"endpoints"`
	Custom        auroraCustom     `json:"custom"`
	Modified      int              `json:"modified"`
	AfterFailover []auroraMember   `json:"afterFailover"`
	Gone          string           `json:"gone"`
}

// auroraInstance is one member as DescribeDBInstances shows it.
type auroraInstance struct {
	ID      string `json:"id"`
	Zone    string `json:"zone"`
	Status  string `json:"status"`
	Cluster string `json:"cluster"`
	Engine  string `json:"engine"`
}

// auroraCustom is what a client saw of two custom endpoints of the
// cluster: "one" (READER over the static member orders-2, modified to
// orders-2 and orders-3) and "most" (ANY: every member but orders-3).
type auroraCustom struct {
	// Created holds CreateDBClusterEndpoint's answers, Available
	// DescribeDBClusterEndpoints' custom endpoints once both are available,
	// Modified the answer for "one" once available after the change.
	Created   []auroraCustomEndpoint `json:"created"`
	Available []auroraCustomEndpoint `json:"available"`
	Modified  auroraCustomEndpoint   `json:"modified"`
	// Reached lists, per "one", "most" and "one-modified", the members
	// whose servers answered connections through the endpoint's loopback
	// address.
	Reached map[string][]string `json:"reached"`
	// Left is DescribeDBClusterEndpoints' endpoint types after both are
	// deleted.
	Left []string `json:"left"`
}

// auroraCustomEndpoint is one custom endpoint as the API answers it.
type auroraCustomEndpoint struct {
	ID         string   `json:"id"`
	Type       string   `json:"type"`
	CustomType string   `json:"customType"`
	Endpoint   string   `json:"endpoint"`
	Status     string   `json:"status"`
	Static     []string `json:"static"`
	Excluded   []string `json:"excluded"`
}

// auroraEndpoint is one of DescribeDBClusterEndpoints' endpoints.
type auroraEndpoint struct {
	Type     string `json:"type"`
	Endpoint string `json:"endpoint"`
	Status   string `json:"status"`
}

var (
	clusterEndpointRE = regexp.MustCompile(`^orders\.cluster-([a-z0-9]+)\.us-east-1\.rds\.amazonaws\.com$`)
	readerEndpointRE  = regexp.MustCompile(`^orders\.cluster-ro-([a-z0-9]+)\.us-east-1\.rds\.amazonaws\.com$`)
)

// checkAurora judges one client's report against what AWS answers for the
// same calls.
func checkAurora(t *testing.T, rep auroraReport) {
	t.Helper()
	for step, err := range rep.Steps {
		t.Errorf("step %s: %s", step, err)
	}
	c := rep.Created
	m1, m2 := clusterEndpointRE.FindStringSubmatch(c.Endpoint), readerEndpointRE.FindStringSubmatch(c.ReaderEndpoint)
	if c.Status != "creating" && c.Status != "available" || c.Engine != "aurora-postgresql" || c.Port != 5432 ||
		m1 == nil || m2 == nil || m1[1] != m2[1] {
		t.Errorf("create-db-cluster answered %+v", c)
	}
	d := rep.Described
	if d.Status != "available" || d.SubnetGroup != "aurora-subnets" || d.Endpoint != c.Endpoint || d.ReaderEndpoint != c.ReaderEndpoint ||
		!slices.Equal(d.SecurityGroups, []string{rep.SecurityGroup}) {
		t.Errorf("describe-db-clusters: %+v", d)
	}
	// AWS lists the zones of the subnet group (at least three for Aurora).
	if !slices.Equal(d.Zones, []string{"us-east-1a", "us-east-1b", "us-east-1c"}) {
		t.Errorf("AvailabilityZones %v, want the subnet group's three", d.Zones)
	}
	if w := writers(d.Members); len(d.Members) != 3 || !slices.Equal(w, []string{"orders-1"}) {
		t.Errorf("DBClusterMembers %+v, want orders-1 the only writer of three", d.Members)
	}
	for _, m := range d.Members {
		// CreateDBInstance's PromotionTier defaults to 1.
		if m.Tier != 1 {
			t.Errorf("member %s PromotionTier %d, want 1", m.ID, m.Tier)
		}
	}
	if len(rep.Instances) != 3 {
		t.Fatalf("describe-db-instances --filters db-cluster-id: %+v", rep.Instances)
	}
	for i, in := range rep.Instances {
		if want := fmt.Sprintf("orders-%d", i+1); in.ID != want || in.Zone != "us-east-1"+string(rune('a'+i)) ||
			in.Status != "available" || in.Cluster != "orders" || in.Engine != "aurora-postgresql" {
			t.Errorf("member %d: %+v", i+1, in)
		}
	}
	// DescribeDBClusterEndpoints lists the cluster's own WRITER and READER
	// endpoints besides custom ones.
	var eps []string
	for _, e := range rep.Endpoints {
		eps = append(eps, e.Type+" "+e.Endpoint+" "+e.Status)
	}
	if want := []string{"READER " + c.ReaderEndpoint + " available", "WRITER " + c.Endpoint + " available"}; rep.Steps["describe-endpoints"] == "" && !slices.Equal(eps, want) {
		t.Errorf("describe-db-cluster-endpoints: %q, want %q", eps, want)
	}
	checkAuroraCustom(t, rep)
	if rep.Steps["modify"] == "" && rep.Modified != 7 {
		t.Errorf("modify-db-cluster: BackupRetentionPeriod %d, want 7", rep.Modified)
	}
	if rep.Steps["failover"] == "" {
		if w := writers(rep.AfterFailover); len(rep.AfterFailover) != 3 || !slices.Equal(w, []string{"orders-3"}) {
			t.Errorf("after failover-db-cluster to orders-3: members %+v", rep.AfterFailover)
		}
	}
	if rep.Gone != "DBClusterNotFoundFault" {
		t.Errorf("describe-db-clusters after delete: %q, want DBClusterNotFoundFault", rep.Gone)
	}
}

// checkAuroraCustom judges the custom endpoints' part of a report: the
// fields AWS answers, names under the cluster's hash, and connections
// through each endpoint landing on its members only.
func checkAuroraCustom(t *testing.T, rep auroraReport) {
	t.Helper()
	cu := rep.Custom
	hash := "?"
	if m := clusterEndpointRE.FindStringSubmatch(rep.Created.Endpoint); m != nil {
		hash = m[1]
	}
	want := func(id, status string, static ...string) auroraCustomEndpoint {
		e := auroraCustomEndpoint{ID: id, Type: "CUSTOM", CustomType: "READER", Status: status, Static: static,
			Endpoint: id + ".cluster-custom-" + hash + ".us-east-1.rds.amazonaws.com"}
		if id == "most" {
			e.CustomType, e.Excluded = "ANY", []string{"orders-3"}
		}
		return e
	}
	same := func(a, b auroraCustomEndpoint) bool {
		return a.ID == b.ID && a.Type == b.Type && a.CustomType == b.CustomType && a.Endpoint == b.Endpoint &&
			a.Status == b.Status && slices.Equal(a.Static, b.Static) && slices.Equal(a.Excluded, b.Excluded)
	}
	for _, tc := range []struct {
		what string
		got  []auroraCustomEndpoint
		want []auroraCustomEndpoint
	}{
		{"create-db-cluster-endpoint", cu.Created, []auroraCustomEndpoint{want("one", "creating", "orders-2"), want("most", "creating")}},
		{"describe-db-cluster-endpoints", cu.Available, []auroraCustomEndpoint{want("most", "available"), want("one", "available", "orders-2")}},
		{"modify-db-cluster-endpoint, then describe", []auroraCustomEndpoint{cu.Modified}, []auroraCustomEndpoint{want("one", "available", "orders-2", "orders-3")}},
	} {
		if !slices.EqualFunc(tc.got, tc.want, same) {
			t.Errorf("%s: %+v, want %+v", tc.what, tc.got, tc.want)
		}
	}
	for through, members := range map[string][]string{
		"one":          {"orders-2"},
		"most":         {"orders-1", "orders-2"},
		"one-modified": {"orders-2", "orders-3"},
	} {
		if !slices.Equal(cu.Reached[through], members) {
			t.Errorf("connections through custom endpoint %s reached %v, want %v", through, cu.Reached[through], members)
		}
	}
	if !slices.Equal(cu.Left, []string{"READER", "WRITER"}) {
		t.Errorf("describe-db-cluster-endpoints after deleting the custom endpoints: %v, want READER and WRITER", cu.Left)
	}
}

func writers(ms []auroraMember) []string {
	var w []string
	for _, m := range ms {
		if m.Writer {
			w = append(w, m.ID)
		}
	}
	return w
}

// TestAuroraBoto3 runs testdata/aurora.py: boto3 builds, waits for (with
// its own waiters), describes, modifies, fails over and deletes an Aurora
// PostgreSQL cluster of a writer and two readers in three zones.
func TestAuroraBoto3(t *testing.T) {
	t.Parallel()
	py := findBoto3Python(t)
	s := startServer(t, "--ephemeral", "--data-plane", "off", "--dns-listen", "off")
	start := time.Now()
	r := runFor(t, 5*time.Minute, awsEnv(t), py, "testdata/aurora.py", s.URL)
	if r.code != 0 {
		t.Fatalf("aurora.py: %s", r)
	}
	t.Logf("boto3: the script took %v", time.Since(start).Round(100*time.Millisecond))
	checkAurora(t, decode[auroraReport](t, r))
}

// TestAuroraCLI does what aurora.py does with each AWS CLI, waiting with
// the CLI's own waiters (their delay cut to 1 s), and in between writes
// through the cluster endpoint's loopback address and reads the row back
// through the reader endpoint's, where a write fails read-only.
func TestAuroraCLI(t *testing.T) {
	for _, cli := range requireCLIs(t) {
		t.Run(cli.name, func(t *testing.T) {
			t.Parallel()
			s, env := serverWithFastWaiters(t, cli)
			start := time.Now()
			rep := auroraCLI(t, cli, s, env)
			t.Logf("CLI %s: the cluster's life took %v", cli.name, time.Since(start).Round(100*time.Millisecond))
			checkAurora(t, rep)
		})
	}
}

// serverWithFastWaiters starts an API-only minicloud (its DB servers run,
// on loopback) and returns it with an environment for cli whose RDS
// waiters poll every second (waiterDataPath).
func serverWithFastWaiters(t *testing.T, cli awsCLI) (*server, []string) {
	t.Helper()
	s := startServer(t, "--ephemeral", "--data-plane", "off", "--dns-listen", "off")
	env := awsEnv(t)
	return s, append(env, "AWS_DATA_PATH="+waiterDataPath(t, cli, s, env))
}

// cliCalls returns two ways to run an AWS CLI command against s with env,
// with JSON output: aws returns the result, do fails the test unless the
// command succeeds. AWS CLI v1 ignores AWS_ENDPOINT_URL for rds in
// us-east-1 (see TestDatabasesCommand): the endpoint is always a flag.
func cliCalls(t *testing.T, cli awsCLI, s *server, env []string) (aws, do func(args ...string) result) {
	aws = func(args ...string) result {
		t.Helper()
		return run(t, env, cli.path, append([]string{"--endpoint-url", s.URL, "--output", "json"}, args...)...)
	}
	do = func(args ...string) result {
		t.Helper()
		r := aws(args...)
		if r.code != 0 {
			t.Fatalf("aws %s: %s", strings.Join(args, " "), r)
		}
		return r
	}
	return aws, do
}

// auroraCLI runs aurora.py's steps with one AWS CLI.
func auroraCLI(t *testing.T, cli awsCLI, s *server, env []string) auroraReport {
	t.Helper()
	rep := auroraReport{Steps: map[string]string{}}
	aws, do := cliCalls(t, cli, s, env)
	// step runs a command whose failure is a finding, not the end.
	step := func(name string, args ...string) (result, bool) {
		t.Helper()
		r := aws(args...)
		if r.code != 0 {
			rep.Steps[name] = "error: " + errorCode(r.stderr)
			return r, false
		}
		return r, true
	}
	type cluster struct {
		Status, Endpoint, ReaderEndpoint, Engine, DBSubnetGroup string
		Port, BackupRetentionPeriod                             int
		AvailabilityZones                                       []string
		VpcSecurityGroups                                       []struct{ VpcSecurityGroupId string }
		DBClusterMembers                                        []struct {
			DBInstanceIdentifier string
			IsClusterWriter      bool
			PromotionTier        int
		}
	}
	members := func(c cluster) []auroraMember {
		var ms []auroraMember
		for _, m := range c.DBClusterMembers {
			ms = append(ms, auroraMember{ID: m.DBInstanceIdentifier, Writer: m.IsClusterWriter, Tier: m.PromotionTier})
		}
		return ms
	}
	describe := func() cluster {
		t.Helper()
		return decode[struct{ DBClusters []cluster }](t, do("rds", "describe-db-clusters", "--db-cluster-identifier", "orders")).DBClusters[0]
	}

	vpc := decode[struct{ Vpc struct{ VpcId string } }](t, do("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16")).Vpc.VpcId
	var subnets []string
	for i, z := range []string{"a", "b", "c"} {
		subnets = append(subnets, decode[struct{ Subnet struct{ SubnetId string } }](t, do("ec2", "create-subnet", "--vpc-id", vpc,
			"--cidr-block", fmt.Sprintf("10.0.%d.0/24", i+1), "--availability-zone", "us-east-1"+z)).Subnet.SubnetId)
	}
	rep.SecurityGroup = decode[struct{ GroupId string }](t, do("ec2", "create-security-group", "--group-name", "db", "--description", "db", "--vpc-id", vpc)).GroupId
	do(append([]string{"rds", "create-db-subnet-group", "--db-subnet-group-name", "aurora-subnets", "--db-subnet-group-description", "three zones", "--subnet-ids"}, subnets...)...)

	c := decode[struct{ DBCluster cluster }](t, do("rds", "create-db-cluster", "--db-cluster-identifier", "orders", "--engine", "aurora-postgresql",
		"--master-username", "master", "--master-user-password", "secret-password-1", "--database-name", "app",
		"--db-subnet-group-name", "aurora-subnets", "--vpc-security-group-ids", rep.SecurityGroup)).DBCluster
	rep.Created.Status, rep.Created.Endpoint, rep.Created.ReaderEndpoint, rep.Created.Port, rep.Created.Engine = c.Status, c.Endpoint, c.ReaderEndpoint, c.Port, c.Engine
	for i, z := range []string{"a", "b", "c"} {
		do("rds", "create-db-instance", "--db-instance-identifier", fmt.Sprintf("orders-%d", i+1), "--db-cluster-identifier", "orders",
			"--engine", "aurora-postgresql", "--db-instance-class", "db.r6g.large", "--availability-zone", "us-east-1"+z)
	}
	step("wait-instances", "rds", "wait", "db-instance-available", "--filters", "Name=db-cluster-id,Values=orders")
	step("wait-cluster", "rds", "wait", "db-cluster-available", "--db-cluster-identifier", "orders")

	c = describe()
	d := &rep.Described
	d.Status, d.Members, d.Zones, d.SubnetGroup, d.Endpoint, d.ReaderEndpoint = c.Status, members(c), c.AvailabilityZones, c.DBSubnetGroup, c.Endpoint, c.ReaderEndpoint
	slices.Sort(d.Zones)
	for _, g := range c.VpcSecurityGroups {
		d.SecurityGroups = append(d.SecurityGroups, g.VpcSecurityGroupId)
	}
	insts := decode[struct {
		DBInstances []struct {
			DBInstanceIdentifier, AvailabilityZone, DBInstanceStatus, DBClusterIdentifier, Engine string
		}
	}](t, do("rds", "describe-db-instances", "--filters", "Name=db-cluster-id,Values=orders")).DBInstances
	for _, in := range insts {
		rep.Instances = append(rep.Instances, auroraInstance{in.DBInstanceIdentifier, in.AvailabilityZone, in.DBInstanceStatus, in.DBClusterIdentifier, in.Engine})
	}
	slices.SortFunc(rep.Instances, func(a, b auroraInstance) int {
		return strings.Compare(a.ID, b.ID)
	})
	if r, ok := step("describe-endpoints", "rds", "describe-db-cluster-endpoints", "--db-cluster-identifier", "orders"); ok {
		for _, e := range decode[struct {
			DBClusterEndpoints []struct{ EndpointType, Endpoint, Status string }
		}](t, r).DBClusterEndpoints {
			rep.Endpoints = append(rep.Endpoints, auroraEndpoint{e.EndpointType, e.Endpoint, e.Status})
		}
		slices.SortFunc(rep.Endpoints, func(a, b auroraEndpoint) int {
			return strings.Compare(a.Type, b.Type)
		})
	}
	checkClusterData(t, s)
	rep.Custom = auroraCustomCLI(t, s, step)

	if r, ok := step("modify", "rds", "modify-db-cluster", "--db-cluster-identifier", "orders", "--backup-retention-period", "7", "--apply-immediately"); ok {
		rep.Modified = decode[struct{ DBCluster cluster }](t, r).DBCluster.BackupRetentionPeriod
		step("modify", "rds", "wait", "db-cluster-available", "--db-cluster-identifier", "orders")
	}
	if _, ok := step("failover", "rds", "failover-db-cluster", "--db-cluster-identifier", "orders", "--target-db-instance-identifier", "orders-3"); ok {
		// No waiter says "this member is the writer": poll the cluster.
		deadline := time.Now().Add(60 * time.Second)
		for {
			c := describe()
			rep.AfterFailover = members(c)
			if c.Status == "available" && slices.Equal(writers(rep.AfterFailover), []string{"orders-3"}) || time.Now().After(deadline) {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		// The old writer restarts as a reader (rebooting, as on AWS): a
		// member is deleted once it is available again.
		step("failover", "rds", "wait", "db-instance-available", "--filters", "Name=db-cluster-id,Values=orders")
	}
	for _, id := range []string{"orders-3", "orders-2", "orders-1"} {
		step("delete-"+id, "rds", "delete-db-instance", "--db-instance-identifier", id)
	}
	step("wait-deleted", "rds", "wait", "db-instance-deleted", "--filters", "Name=db-cluster-id,Values=orders")
	step("delete-cluster", "rds", "delete-db-cluster", "--db-cluster-identifier", "orders", "--skip-final-snapshot")
	step("wait-cluster-deleted", "rds", "wait", "db-cluster-deleted", "--db-cluster-identifier", "orders")
	r := aws("rds", "describe-db-clusters", "--db-cluster-identifier", "orders")
	rep.Gone = errorCode(r.stderr)
	if r.code == 0 {
		rep.Gone = "still there"
	}
	return rep
}

// auroraCustomCLI creates, describes, uses, modifies and deletes the
// custom endpoints of auroraCustom with one AWS CLI (step runs a command
// whose failure is a finding). No waiter waits for a DB cluster endpoint:
// the CLI polls DescribeDBClusterEndpoints as a user's script would.
func auroraCustomCLI(t *testing.T, s *server, step func(name string, args ...string) (result, bool)) auroraCustom {
	t.Helper()
	cu := auroraCustom{Reached: map[string][]string{}}
	type endpoint struct {
		DBClusterEndpointIdentifier, EndpointType, CustomEndpointType, Endpoint, Status string
		StaticMembers, ExcludedMembers                                                  []string
	}
	conv := func(e endpoint) auroraCustomEndpoint {
		return auroraCustomEndpoint{e.DBClusterEndpointIdentifier, e.EndpointType, e.CustomEndpointType, e.Endpoint, e.Status, e.StaticMembers, e.ExcludedMembers}
	}
	// custom lists the cluster's custom endpoints (by identifier) once
	// none is creating or modifying, and every endpoint type.
	custom := func() ([]auroraCustomEndpoint, []string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			r, ok := step("describe-custom-endpoints", "rds", "describe-db-cluster-endpoints", "--db-cluster-identifier", "orders")
			if !ok {
				return nil, nil
			}
			var list []auroraCustomEndpoint
			var types []string
			settled := true
			for _, e := range decode[struct{ DBClusterEndpoints []endpoint }](t, r).DBClusterEndpoints {
				types = append(types, e.EndpointType)
				if e.EndpointType == "CUSTOM" {
					list = append(list, conv(e))
					settled = settled && e.Status == "available"
				}
			}
			if settled || time.Now().After(deadline) {
				slices.SortFunc(list, func(a, b auroraCustomEndpoint) int { return strings.Compare(a.ID, b.ID) })
				slices.Sort(types)
				return list, types
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	for _, args := range [][]string{
		{"--db-cluster-endpoint-identifier", "one", "--endpoint-type", "READER", "--static-members", "orders-2"},
		{"--db-cluster-endpoint-identifier", "most", "--endpoint-type", "ANY", "--excluded-members", "orders-3"},
	} {
		if r, ok := step("create-"+args[1], append([]string{"rds", "create-db-cluster-endpoint", "--db-cluster-identifier", "orders"}, args...)...); ok {
			cu.Created = append(cu.Created, conv(decode[endpoint](t, r)))
		}
	}
	cu.Available, _ = custom()
	cu.Reached["one"], cu.Reached["most"] = membersReached(t, s, "one"), membersReached(t, s, "most")
	if _, ok := step("modify-one", "rds", "modify-db-cluster-endpoint", "--db-cluster-endpoint-identifier", "one", "--static-members", "orders-2", "orders-3"); ok {
		if list, _ := custom(); len(list) == 2 {
			cu.Modified = list[1]
		}
		cu.Reached["one-modified"] = membersReached(t, s, "one")
	}
	for _, id := range []string{"one", "most"} {
		step("delete-"+id, "rds", "delete-db-cluster-endpoint", "--db-cluster-endpoint-identifier", id)
	}
	_, cu.Left = custom()
	return cu
}

// errorCode is the AWS error code an AWS CLI printed ("An error occurred
// (Code) when calling …"), or the whole message when it printed none.
func errorCode(stderr string) string {
	if m := regexp.MustCompile(`An error occurred \((\w+)\)`).FindStringSubmatch(stderr); m != nil {
		return m[1]
	}
	return strings.TrimSpace(stderr)
}

// checkClusterData writes through the cluster endpoint's loopback address
// (listed by /_minicloud/health, as `minicloud databases` shows it) and
// reads the row back through the reader endpoint's within a second; a
// write there fails with SQLSTATE 25006 (read-only transaction).
func checkClusterData(t *testing.T, s *server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	health := rdsHealth(ctx, t, s)
	if len(health.RDS.Clusters) != 1 || health.RDS.Clusters[0].Loopback == "" || health.RDS.Clusters[0].ReaderLoopback == "" {
		t.Fatalf("health lists clusters %+v, want orders with two loopback addresses", health.RDS.Clusters)
	}
	cl := health.RDS.Clusters[0]
	connect := func(addr string) *pgx.Conn {
		t.Helper()
		c := connectOrders(ctx, t, addr)
		t.Cleanup(func() { _ = c.Close(context.Background()) })
		return c
	}
	w, r := connect(cl.Loopback), connect(cl.ReaderLoopback)
	if _, err := w.Exec(ctx, "CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders VALUES (1)"); err != nil {
		t.Fatalf("write through the cluster endpoint: %v", err)
	}
	deadline := time.Now().Add(time.Second)
	for {
		var n int
		err := r.QueryRow(ctx, "SELECT count(*) FROM orders").Scan(&n)
		if err == nil && n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reader endpoint does not see the row within 1 s: %d rows, %v", n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, err := r.Exec(ctx, "INSERT INTO orders VALUES (2)")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "25006" {
		t.Fatalf("write through the reader endpoint: %v, want SQLSTATE 25006", err)
	}
}

// healthReport is the part of /_minicloud/health these tests read: the
// loopback addresses of DB instances, clusters and custom endpoints (as
// `minicloud databases` shows them).
type healthReport struct {
	RDS struct {
		Instances []struct{ ID, Loopback string }
		Clusters  []struct {
			ID, Writer, Loopback, ReaderLoopback string
			CustomEndpoints                      []struct{ ID, Status, Loopback string }
		}
	}
}

func rdsHealth(ctx context.Context, t *testing.T, s *server) healthReport {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/_minicloud/health", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h healthReport
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatalf("/_minicloud/health: %v", err)
	}
	return h
}

// connectOrders connects to the cluster's database app as its master user.
func connectOrders(ctx context.Context, t *testing.T, addr string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(ctx, "postgres://master:secret-password-1@"+addr+"/app?sslmode=disable")
	if err != nil {
		t.Fatalf("connect %s: %v", addr, err)
	}
	return c
}

// membersReached makes 8 new connections through the loopback address of
// the cluster's custom endpoint id and returns the members (sorted) whose
// servers answered, told apart by the port each member's server listens
// on. The relay takes members in turn, so 8 connections reach every one
// of up to 3 members.
func membersReached(t *testing.T, s *server, id string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	serverPort := func(addr string) string {
		t.Helper()
		c := connectOrders(ctx, t, addr)
		defer func() { _ = c.Close(ctx) }()
		var port string
		if err := c.QueryRow(ctx, "SHOW port").Scan(&port); err != nil {
			t.Fatalf("SHOW port through %s: %v", addr, err)
		}
		return port
	}
	h := rdsHealth(ctx, t, s)
	member := map[string]string{}
	for _, in := range h.RDS.Instances {
		member[serverPort(in.Loopback)] = in.ID
	}
	var through string
	for _, cl := range h.RDS.Clusters {
		for _, e := range cl.CustomEndpoints {
			if e.ID == id {
				through = e.Loopback
			}
		}
	}
	if through == "" {
		t.Errorf("health lists no loopback address for custom endpoint %s: %+v", id, h.RDS.Clusters)
		return nil
	}
	var reached []string
	for range 8 {
		reached = append(reached, member[serverPort(through)])
	}
	slices.Sort(reached)
	return slices.Compact(reached)
}
