package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/minicloud/minicloud/minicloudtest"
)

// TestClientCommands: status, endpoint and resolve find the running server
// by MINICLOUD_LISTEN, resolve asks its DNS wherever that listens, and each
// says plainly when no server answers.
func TestClientCommands(t *testing.T) {
	mc := minicloudtest.New(t, minicloudtest.WithoutDataPlane())
	r53 := route53.NewFromConfig(mc.Config)
	zone, err := r53.CreateHostedZone(t.Context(), &route53.CreateHostedZoneInput{Name: aws.String("example.test"), CallerReference: aws.String("r")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r53.ChangeResourceRecordSets(t.Context(), &route53.ChangeResourceRecordSetsInput{HostedZoneId: zone.HostedZone.Id,
		ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{Action: r53types.ChangeActionUpsert,
			ResourceRecordSet: &r53types.ResourceRecordSet{Name: aws.String("app.example.test"), Type: r53types.RRTypeA,
				TTL: aws.Int64(60), ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("198.51.100.7")}}}}}}}); err != nil {
		t.Fatal(err)
	}
	running := strings.TrimPrefix(mc.Endpoint, "http://")
	for _, tc := range []struct {
		name         string
		listen       string
		args         []string
		code         int
		stdout       []string // each in stdout
		stdoutExact  string   // stdout, when set
		stderrPrefix string
	}{
		{name: "status", listen: running, args: []string{"status"},
			stdout: []string{"API on " + mc.Endpoint, "DNS for Route 53 zones on " + mc.DNSAddr, "data plane off (API only)"}},
		{name: "endpoint", listen: running, args: []string{"endpoint"}, stdoutExact: mc.Endpoint + "\n"},
		{name: "resolve", listen: running, args: []string{"resolve", "app.example.test"}, stdoutExact: "198.51.100.7\n"},
		{name: "resolve a name of no zone", listen: running, args: []string{"resolve", "nothing.example.test"}, code: 1,
			stderrPrefix: "minicloud resolve: nothing.example.test: no address on minicloud's DNS at " + mc.DNSAddr},
		{name: "resolve, --endpoint wins", listen: "127.0.0.1:1", args: []string{"resolve", "--endpoint", mc.Endpoint, "app.example.test"},
			stdoutExact: "198.51.100.7\n"},
		{name: "status, none running", listen: "127.0.0.1:1", args: []string{"status"}, code: 1,
			stderrPrefix: "minicloud status: no minicloud answers at http://127.0.0.1:1: start one with `minicloud serve`"},
		{name: "resolve, none running", listen: "127.0.0.1:1", args: []string{"resolve", "app.example.test"}, code: 1,
			stderrPrefix: "minicloud resolve: no minicloud answers at http://127.0.0.1:1"},
		{name: "databases, none running", listen: "127.0.0.1:1", args: []string{"databases"}, code: 1,
			stderrPrefix: "minicloud databases: no minicloud answers at http://127.0.0.1:1"},
		{name: "aws refuses another endpoint", listen: running, args: []string{"aws", "--endpoint-url", "https://ec2.amazonaws.com", "ec2", "describe-vpcs"},
			code: 2, stderrPrefix: "minicloud aws: the endpoint is the running minicloud's"},
		{name: "aws, none running", listen: "127.0.0.1:1", args: []string{"aws", "sts", "get-caller-identity"}, code: 1,
			stderrPrefix: "minicloud aws: no minicloud answers at http://127.0.0.1:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("MINICLOUD_LISTEN", tc.listen)
			var stdout, stderr bytes.Buffer
			if code := run(tc.args, &stdout, &stderr); code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, tc.code, stderr.String())
			}
			for _, w := range tc.stdout {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout.String())
				}
			}
			if tc.stdoutExact != "" && stdout.String() != tc.stdoutExact {
				t.Errorf("stdout %q, want %q", stdout.String(), tc.stdoutExact)
			}
			if !strings.HasPrefix(stderr.String(), tc.stderrPrefix) {
				t.Errorf("stderr %q, want it to start with %q", stderr.String(), tc.stderrPrefix)
			}
		})
	}
}

// TestAWSEnv: the wrapper supplies test credentials and a region only when
// the environment has none of its own, so it never sends a real key.
func TestAWSEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     []string
		added   []string
		without []string
	}{
		{name: "nothing set", env: []string{"HOME=/root"},
			added: []string{"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1", "AWS_PAGER="}},
		{name: "a pager asked for", env: []string{"AWS_PAGER=less"}, added: []string{"AWS_PAGER=less"}, without: []string{"AWS_PAGER="}},
		{name: "keys and region set", env: []string{"AWS_ACCESS_KEY_ID=AKIA1", "AWS_REGION=eu-west-1"},
			without: []string{"AWS_ACCESS_KEY_ID=test", "AWS_DEFAULT_REGION=us-east-1"}},
		{name: "a profile", env: []string{"AWS_PROFILE=minicloud"},
			without: []string{"AWS_ACCESS_KEY_ID=test", "AWS_DEFAULT_REGION=us-east-1"}},
		{name: "empty values count as unset", env: []string{"AWS_ACCESS_KEY_ID=", "AWS_DEFAULT_REGION="},
			added: []string{"AWS_ACCESS_KEY_ID=test", "AWS_DEFAULT_REGION=us-east-1"}, without: []string{"AWS_ACCESS_KEY_ID=", "AWS_DEFAULT_REGION="}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := awsEnv(slices.Clone(tc.env))
			for _, w := range tc.added {
				if !slices.Contains(got, w) {
					t.Errorf("awsEnv(%q) = %q, lacks %s", tc.env, got, w)
				}
			}
			for _, w := range tc.without {
				if slices.Contains(got, w) {
					t.Errorf("awsEnv(%q) = %q, has %s", tc.env, got, w)
				}
			}
		})
	}
}
