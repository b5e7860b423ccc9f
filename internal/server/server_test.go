package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/minicloud/minicloud/internal/sdktest"
	"github.com/minicloud/minicloud/internal/server"
	ec2svc "github.com/minicloud/minicloud/internal/service/ec2"
)

// startServer serves a fresh in-memory minicloud (or one on dir) over HTTP.
func startServer(t *testing.T, dir string) (*server.Server, string) {
	t.Helper()
	cfg := server.Config{Ephemeral: dir == "", StateDir: dir, Accounts: map[string]string{"AKIAMAPPED": "222222222222"}}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		_ = srv.Close(context.Background())
	})
	return srv, hs.URL
}

func awsConfig(url, region, key, secret, token string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(key, secret, token),
		BaseEndpoint: aws.String(url),
		// Retries would hide the first answer and slow failing tests.
		RetryMaxAttempts: 1,
		HTTPClient:       sdktest.HTTPClient(),
	}
}

func apiErr(t *testing.T, err error) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want an AWS API error, got %v", err)
	}
	return ae
}

func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func TestGetCallerIdentityAccounts(t *testing.T) {
	_, url := startServer(t, "")
	tests := []struct {
		key, account, arn string
	}{
		{"test", "000000000000", "arn:aws:iam::000000000000:root"},
		{"123456789012", "123456789012", "arn:aws:iam::123456789012:root"},
		{"AKIAMAPPED", "222222222222", "arn:aws:iam::222222222222:root"},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			c := sts.NewFromConfig(awsConfig(url, "us-east-1", tc.key, "secret", ""))
			out, err := c.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.Account) != tc.account || aws.ToString(out.Arn) != tc.arn {
				t.Fatalf("got account %s arn %s, want %s %s", aws.ToString(out.Account), aws.ToString(out.Arn), tc.account, tc.arn)
			}
		})
	}
}

func TestAssumeRoleCredentialsWork(t *testing.T) {
	_, url := startServer(t, "")
	ctx := context.Background()
	roleID := createRole(t, url, "111111111111", "/app/", "deployer")
	c := sts.NewFromConfig(awsConfig(url, "us-east-1", "test", "test", ""))
	out, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String("arn:aws:iam::111111111111:role/app/deployer"),
		RoleSessionName: aws.String("ci-run"),
		DurationSeconds: aws.Int32(900),
	})
	if err != nil {
		t.Fatal(err)
	}
	cr := out.Credentials
	if !strings.HasPrefix(aws.ToString(cr.AccessKeyId), "ASIA") || len(aws.ToString(cr.AccessKeyId)) != 20 {
		t.Errorf("access key %q is not a 20-character ASIA key", aws.ToString(cr.AccessKeyId))
	}
	if aws.ToString(cr.SecretAccessKey) == "" || aws.ToString(cr.SessionToken) == "" || cr.Expiration == nil {
		t.Fatalf("incomplete credentials %+v", cr)
	}
	wantARN := "arn:aws:sts::111111111111:assumed-role/deployer/ci-run"
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != wantARN {
		t.Errorf("assumed role ARN %s, want %s", got, wantARN)
	}
	if id := aws.ToString(out.AssumedRoleUser.AssumedRoleId); id != roleID+":ci-run" {
		t.Errorf("assumed role id %s", id)
	}

	// The temporary credentials are credentials: the caller is now the role.
	as := sts.NewFromConfig(awsConfig(url, "us-east-1", *cr.AccessKeyId, *cr.SecretAccessKey, *cr.SessionToken))
	who, err := as.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(who.Arn) != wantARN || aws.ToString(who.Account) != "111111111111" || aws.ToString(who.UserId) != aws.ToString(out.AssumedRoleUser.AssumedRoleId) {
		t.Fatalf("caller with role credentials: %s %s %s", aws.ToString(who.Account), aws.ToString(who.Arn), aws.ToString(who.UserId))
	}

	// A temporary key minicloud never issued is rejected, as AWS does.
	bogus := sts.NewFromConfig(awsConfig(url, "us-east-1", "ASIAAAAAAAAAAAAAAAAA", "x", "y"))
	_, err = bogus.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if ae := apiErr(t, err); ae.ErrorCode() != "InvalidClientTokenId" {
		t.Fatalf("unknown temporary key: %v", err)
	}
}

// createRole creates a role in account (signing with the account's ID as
// its access key) that the account's principals may assume, and returns
// its ID: AWS refuses to assume a role that does not exist.
func createRole(t *testing.T, url, account, path, name string) string {
	t.Helper()
	out, err := iam.NewFromConfig(awsConfig(url, "us-east-1", account, "test", "")).CreateRole(context.Background(), &iam.CreateRoleInput{
		RoleName: aws.String(name), Path: aws.String(path),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + account + `"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Role.RoleId)
}

func TestAssumeRoleValidation(t *testing.T) {
	_, url := startServer(t, "")
	c := sts.NewFromConfig(awsConfig(url, "us-east-1", "test", "test", ""))
	role := "arn:aws:iam::000000000000:role/r"
	createRole(t, url, "000000000000", "/", "roleeeeeeeee")
	tests := []struct {
		name string
		in   sts.AssumeRoleInput
		code string
		msg  string
	}{
		{"session name too short", sts.AssumeRoleInput{RoleArn: aws.String(role + "oleeeeeeeee"), RoleSessionName: aws.String("x")}, "ValidationError", "roleSessionName"},
		{"bad session name", sts.AssumeRoleInput{RoleArn: aws.String(role + "oleeeeeeeee"), RoleSessionName: aws.String("a b")}, "ValidationError", "regular expression"},
		{"duration too short", sts.AssumeRoleInput{RoleArn: aws.String(role + "oleeeeeeeee"), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(100)}, "ValidationError", "greater than or equal to 900"},
		{"duration above role maximum", sts.AssumeRoleInput{RoleArn: aws.String(role + "oleeeeeeeee"), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(7200)}, "ValidationError", "MaxSessionDuration"},
		{"not a role ARN", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:user/bob"), RoleSessionName: aws.String("s1")}, "ValidationError", "is invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.AssumeRole(context.Background(), &tc.in)
			ae := apiErr(t, err)
			if ae.ErrorCode() != tc.code || !strings.Contains(ae.ErrorMessage(), tc.msg) {
				t.Fatalf("got %s: %s; want %s containing %q", ae.ErrorCode(), ae.ErrorMessage(), tc.code, tc.msg)
			}
			if httpStatus(err) != http.StatusBadRequest {
				t.Fatalf("HTTP %d, want 400", httpStatus(err))
			}
		})
	}
}

func TestDescribeRegions(t *testing.T) {
	_, url := startServer(t, "")
	c := ec2.NewFromConfig(awsConfig(url, "us-east-1", "test", "test", ""))
	ctx := context.Background()
	tests := []struct {
		name string
		in   ec2.DescribeRegionsInput
		want int
	}{
		{"enabled by default", ec2.DescribeRegionsInput{}, 17},
		{"all regions", ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)}, 34},
		{"opt-in filter", ec2.DescribeRegionsInput{AllRegions: aws.Bool(true), Filters: []ec2types.Filter{{Name: aws.String("opt-in-status"), Values: []string{"not-opted-in"}}}}, 17},
		{"wildcard name filter", ec2.DescribeRegionsInput{Filters: []ec2types.Filter{{Name: aws.String("region-name"), Values: []string{"eu-*"}}}}, 5},
		{"named regions", ec2.DescribeRegionsInput{RegionNames: []string{"eu-west-1", "ap-east-2"}}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.DescribeRegions(ctx, &tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Regions) != tc.want {
				t.Fatalf("%d regions, want %d", len(out.Regions), tc.want)
			}
			for _, r := range out.Regions {
				if aws.ToString(r.Endpoint) != "ec2."+aws.ToString(r.RegionName)+".amazonaws.com" || aws.ToString(r.OptInStatus) == "" {
					t.Errorf("region %+v", r)
				}
			}
		})
	}
	_, err := c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{RegionNames: []string{"mars-north-1"}})
	if ae := apiErr(t, err); ae.ErrorCode() != "InvalidParameterValue" {
		t.Fatalf("unknown region: %v", err)
	}
	_, err = c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{Filters: []ec2types.Filter{{Name: aws.String("colour"), Values: []string{"x"}}}})
	if ae := apiErr(t, err); ae.ErrorCode() != "InvalidParameterValue" {
		t.Fatalf("unknown filter: %v", err)
	}
}

func TestDescribeAvailabilityZones(t *testing.T) {
	_, url := startServer(t, "")
	ctx := context.Background()
	tests := []struct {
		region string
		in     ec2.DescribeAvailabilityZonesInput
		want   []string // zone IDs
	}{
		{"us-east-1", ec2.DescribeAvailabilityZonesInput{}, []string{"use1-az6", "use1-az1", "use1-az2", "use1-az4", "use1-az3", "use1-az5"}},
		{"eu-west-1", ec2.DescribeAvailabilityZonesInput{}, []string{"euw1-az3", "euw1-az1", "euw1-az2"}},
		{"eu-west-1", ec2.DescribeAvailabilityZonesInput{ZoneNames: []string{"eu-west-1b"}}, []string{"euw1-az1"}},
		{"ap-northeast-1", ec2.DescribeAvailabilityZonesInput{Filters: []ec2types.Filter{{Name: aws.String("zone-id"), Values: []string{"apne1-az1", "apne1-az2"}}}}, []string{"apne1-az1", "apne1-az2"}},
		{"xx-test-1", ec2.DescribeAvailabilityZonesInput{}, []string{"xxt1-az1", "xxt1-az2", "xxt1-az3"}},
	}
	for _, tc := range tests {
		t.Run(tc.region, func(t *testing.T) {
			c := ec2.NewFromConfig(awsConfig(url, tc.region, "test", "test", ""))
			out, err := c.DescribeAvailabilityZones(ctx, &tc.in)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, z := range out.AvailabilityZones {
				got = append(got, aws.ToString(z.ZoneId))
				if z.State != ec2types.AvailabilityZoneStateAvailable || aws.ToString(z.RegionName) != tc.region ||
					!strings.HasPrefix(aws.ToString(z.ZoneName), tc.region) || aws.ToString(z.ZoneType) != "availability-zone" {
					t.Errorf("zone %+v", z)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("zones %v, want %v", got, tc.want)
			}
		})
	}
	c := ec2.NewFromConfig(awsConfig(url, "us-east-1", "test", "test", ""))
	_, err := c.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{ZoneNames: []string{"us-east-1z"}})
	if ae := apiErr(t, err); ae.ErrorCode() != "InvalidParameterValue" {
		t.Fatalf("unknown zone: %v", err)
	}
	_, err = c.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{DryRun: aws.Bool(true)})
	if ae := apiErr(t, err); ae.ErrorCode() != "DryRunOperation" || httpStatus(err) != http.StatusPreconditionFailed {
		t.Fatalf("dry run: %v (HTTP %d)", err, httpStatus(err))
	}
}

// TestNotImplemented checks that an operation the model knows but minicloud
// does not implement fails clearly, in each protocol a current client uses.
func TestNotImplemented(t *testing.T) {
	_, url := startServer(t, "")
	ctx := context.Background()
	cfg := awsConfig(url, "us-east-1", "test", "test", "")
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"ec2 protocol", func() error {
			_, err := ec2.NewFromConfig(cfg).CreateFleet(ctx, &ec2.CreateFleetInput{LaunchTemplateConfigs: []ec2types.FleetLaunchTemplateConfigRequest{}, TargetCapacitySpecification: &ec2types.TargetCapacitySpecificationRequest{TotalTargetCapacity: aws.Int32(1)}})
			return err
		}, "ec2 CreateFleet"},
		{"smithy-rpc-v2-cbor", func() error {
			_, err := cloudwatch.NewFromConfig(cfg).ListMetricStreams(ctx, &cloudwatch.ListMetricStreamsInput{})
			return err
		}, "cloudwatch ListMetricStreams"},
		{"json 1.1", func() error {
			_, err := ecs.NewFromConfig(cfg).ListClusters(ctx, &ecs.ListClustersInput{})
			return err
		}, "ecs ListClusters"},
		{"rest-xml", func() error {
			_, err := route53.NewFromConfig(cfg).ListTrafficPolicies(ctx, &route53.ListTrafficPoliciesInput{})
			return err
		}, "route53 ListTrafficPolicies"},
		{"rest-json", func() error {
			_, err := apigateway.NewFromConfig(cfg).GetRestApis(ctx, &apigateway.GetRestApisInput{})
			return err
		}, "apigateway GetRestApis"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			ae := apiErr(t, err)
			if ae.ErrorCode() != "NotImplemented" || !strings.Contains(ae.ErrorMessage(), tc.want) {
				t.Fatalf("got %s: %s; want NotImplemented naming %q", ae.ErrorCode(), ae.ErrorMessage(), tc.want)
			}
			if httpStatus(err) != http.StatusNotImplemented {
				t.Fatalf("HTTP %d, want 501", httpStatus(err))
			}
		})
	}
}

// TestStateSurvivesRestart checks that an acknowledged AssumeRole is durable:
// its credentials still work after minicloud restarts on the same directory,
// and a reset forgets them.
func TestStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	srv, url := startServer(t, dir)
	createRole(t, url, "333333333333", "/", "durable")
	out, err := sts.NewFromConfig(awsConfig(url, "us-east-1", "test", "test", "")).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::333333333333:role/durable"), RoleSessionName: aws.String("s1"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(ctx); err != nil {
		t.Fatal(err)
	}
	srv2, url2 := startServer(t, dir)
	cr := out.Credentials
	c := sts.NewFromConfig(awsConfig(url2, "us-east-1", *cr.AccessKeyId, *cr.SecretAccessKey, *cr.SessionToken))
	who, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(who.Account) != "333333333333" {
		t.Fatalf("after restart the role's credentials resolve to %s", aws.ToString(who.Account))
	}
	resp, err := http.Post(url2+"/_minicloud/reset", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("reset: HTTP %d", resp.StatusCode)
	}
	if _, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err == nil || apiErr(t, err).ErrorCode() != "InvalidClientTokenId" {
		t.Fatalf("after reset the role's credentials still work: %v", err)
	}
	_ = srv2
}

// TestHealthEntries checks the entries /_minicloud/health assembles from the
// parts that report one, under the keys tests and tools read.
func TestHealthEntries(t *testing.T) {
	_, url := startServer(t, "")
	resp, err := http.Get(url + "/_minicloud/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key, field string
		want       any // nil: any value
	}{
		{"state", "backend", "memory"},
		{"dataPlane", "state", "off"},
		{"instances", "runtime", "api-only"},
		{"instances", "reason", "the data plane is off (--data-plane=off)"},
		{"dns", "state", ""}, // not listening: Start was not called
		{"rds", "engines", nil},
		{"acm", "ca", nil},
		{"elbv2", "dataPlane", false},
		{"loadBalancerNodes", "state", "off"},
		{"alarms", "running", true},
		{"cloudtrail", "status", "ok"},
		{"iam", "mode", "off"},
		{"ssm", "managedInstances", nil},
	} {
		var entry map[string]any
		if err := json.Unmarshal(h[tc.key], &entry); err != nil {
			t.Errorf("health[%q]: %v (%s)", tc.key, err, h[tc.key])
			continue
		}
		if got, ok := entry[tc.field]; !ok || (tc.want != nil && got != tc.want) {
			t.Errorf("health[%q][%q] = %v (present: %t), want %v", tc.key, tc.field, got, ok, tc.want)
		}
	}
	if len(h) != 15 { // version, uptime and services, and the twelve above
		t.Errorf("health has %d entries, want 15: %s", len(h), strings.Join(slices.Sorted(maps.Keys(h)), ", "))
	}
}

// failingRuntime is an instance runtime that cannot start.
type failingRuntime struct{}

func (failingRuntime) Name() string                  { return "failing" }
func (failingRuntime) Available() (bool, string)     { return true, "" }
func (failingRuntime) Start(ec2svc.Controller) error { return errors.New("no cgroups") }
func (failingRuntime) Stop(context.Context) error    { return nil }

// TestNewRollsBack checks that a part failing to start fails New with the
// part's name, and that what had started is stopped: the store is closed,
// so the next New on the same directory opens it.
func TestNewRollsBack(t *testing.T) {
	dir := t.TempDir()
	_, err := server.New(server.Config{StateDir: dir, EC2Runtime: failingRuntime{}})
	if err == nil || !strings.Contains(err.Error(), "start instance runtime: no cgroups") {
		t.Fatalf("New with a runtime that cannot start: %v", err)
	}
	startServer(t, dir)
}
