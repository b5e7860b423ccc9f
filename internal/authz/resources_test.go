package authz

import (
	"slices"
	"testing"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/api/elbv2api"
	"github.com/minicloud/minicloud/internal/api/iamapi"
	"github.com/minicloud/minicloud/internal/api/logsapi"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/api/route53api"
	"github.com/minicloud/minicloud/internal/api/ssmapi"
	"github.com/minicloud/minicloud/internal/api/stsapi"
	"github.com/minicloud/minicloud/internal/iampolicy"
)

func TestAction(t *testing.T) {
	for _, tc := range []struct{ signing, op, want string }{
		{"ec2", "RunInstances", "ec2:RunInstances"},
		{"monitoring", "PutMetricData", "cloudwatch:PutMetricData"},
		{"elasticloadbalancing", "CreateLoadBalancer", "elasticloadbalancing:CreateLoadBalancer"},
		{"logs", "PutLogEvents", "logs:PutLogEvents"},
	} {
		if got := Action(tc.signing, tc.op); got != tc.want {
			t.Errorf("Action(%s, %s) = %s, want %s", tc.signing, tc.op, got, tc.want)
		}
	}
}

// TestResources: the ARNs of each service's resource types, as their
// "Actions, resources, and condition keys" pages write them.
func TestResources(t *testing.T) {
	const acct = "111111111111"
	for _, tc := range []struct {
		name, signing, op string
		input             any
		want              []string
	}{
		{"describe has no resource type", "ec2", "DescribeInstances", &ec2api.DescribeInstancesRequest{InstanceIds: []string{"i-1"}}, nil},
		{"instances by id", "ec2", "TerminateInstances", &ec2api.TerminateInstancesRequest{InstanceIds: []string{"i-1", "i-2"}},
			[]string{"arn:aws:ec2:us-east-1:" + acct + ":instance/i-1", "arn:aws:ec2:us-east-1:" + acct + ":instance/i-2"}},
		{"run: the new instance, then what it names", "ec2", "RunInstances", &ec2api.RunInstancesRequest{ImageId: new("ami-1"), SubnetId: new("subnet-1"), SecurityGroupIds: []string{"sg-1"}},
			[]string{"arn:aws:ec2:us-east-1:" + acct + ":instance/*", "arn:aws:ec2:us-east-1:" + acct + ":image/ami-1",
				"arn:aws:ec2:us-east-1:" + acct + ":security-group/sg-1", "arn:aws:ec2:us-east-1:" + acct + ":subnet/subnet-1"}},
		{"tags on resources of any type", "ec2", "CreateTags", &ec2api.CreateTagsRequest{Resources: []string{"vpc-1", "i-2"}},
			[]string{"arn:aws:ec2:us-east-1:" + acct + ":vpc/vpc-1", "arn:aws:ec2:us-east-1:" + acct + ":instance/i-2"}},
		{"rds db", "rds", "DeleteDBInstance", &rdsapi.DeleteDBInstanceMessage{DBInstanceIdentifier: new("db1")},
			[]string{"arn:aws:rds:us-east-1:" + acct + ":db:db1"}},
		{"elb by ARN", "elasticloadbalancing", "DeleteLoadBalancer", &elbv2api.DeleteLoadBalancerInput{LoadBalancerArn: new("arn:aws:elasticloadbalancing:us-east-1:" + acct + ":loadbalancer/app/a/1")},
			[]string{"arn:aws:elasticloadbalancing:us-east-1:" + acct + ":loadbalancer/app/a/1"}},
		{"iam has no region", "iam", "DeleteUser", &iamapi.DeleteUserRequest{UserName: new("bob")}, []string{"arn:aws:iam::" + acct + ":user/bob"}},
		{"iam lists have none", "iam", "ListUsers", &iamapi.ListUsersRequest{}, nil},
		{"route 53 has neither region nor account", "route53", "GetHostedZone", &route53api.GetHostedZoneRequest{Id: new("/hostedzone/Z1")},
			[]string{"arn:aws:route53:::hostedzone/Z1"}},
		{"route 53 change", "route53", "GetChange", &route53api.GetChangeRequest{Id: new("/change/C1")}, []string{"arn:aws:route53:::change/C1"}},
		{"log group names keep their slashes", "logs", "DeleteLogGroup", &logsapi.DeleteLogGroupRequest{LogGroupName: new("/aws/app")},
			[]string{"arn:aws:logs:us-east-1:" + acct + ":log-group:/aws/app"}},
		{"ssm parameter: no repeated slash, no selector", "ssm", "GetParameter", &ssmapi.GetParameterRequest{Name: new("/app/db/host:3")},
			[]string{"arn:aws:ssm:us-east-1:" + acct + ":parameter/app/db/host"}},
		{"ssm parameters by name and by ARN", "ssm", "GetParameters", &ssmapi.GetParametersRequest{Names: []string{"plain", "arn:aws:ssm:us-east-1:" + acct + ":parameter/a/b:prod"}},
			[]string{"arn:aws:ssm:us-east-1:" + acct + ":parameter/plain", "arn:aws:ssm:us-east-1:" + acct + ":parameter/a/b"}},
		{"ssm path", "ssm", "GetParametersByPath", &ssmapi.GetParametersByPathRequest{Path: new("/app")}, []string{"arn:aws:ssm:us-east-1:" + acct + ":parameter/app"}},
		{"ssm describe has none", "ssm", "DescribeParameters", &ssmapi.DescribeParametersRequest{}, nil},
		{"ssm session", "ssm", "TerminateSession", &ssmapi.TerminateSessionRequest{SessionId: new("alice-0123456789abcdef0")},
			[]string{"arn:aws:ssm:us-east-1:" + acct + ":session/alice-0123456789abcdef0"}},
		{"ssm session resumed", "ssm", "ResumeSession", &ssmapi.ResumeSessionRequest{SessionId: new("alice-0123456789abcdef0")},
			[]string{"arn:aws:ssm:us-east-1:" + acct + ":session/alice-0123456789abcdef0"}},
		{"assume role: the role", "sts", "AssumeRole", &stsapi.AssumeRoleRequest{RoleArn: new("arn:aws:iam::222222222222:role/r")},
			[]string{"arn:aws:iam::222222222222:role/r"}},
		{"unknown service", "s3", "GetObject", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Resources(tc.signing, tc.op, tc.input, "aws", "us-east-1", acct)
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tc.want))
			if !slices.Equal(got, want) {
				t.Errorf("got %q\nwant %q", got, want)
			}
		})
	}
}

func TestRequestContext(t *testing.T) {
	req := &api.AccessRequest{Info: &api.RequestInfo{Region: "eu-west-1"}, SourceIP: "10.0.0.5", SecureTransport: true,
		Input: &ec2api.RunInstancesRequest{TagSpecifications: []ec2api.TagSpecification{{ResourceType: new("instance"),
			Tags: []ec2api.Tag{{Key: new("env"), Value: new("dev")}, {Key: new("team"), Value: new("blue")}}}}}}
	c := requestContext(req)
	for key, want := range map[string][]string{
		"aws:sourceip": {"10.0.0.5"}, "aws:securetransport": {"true"}, "aws:requestedregion": {"eu-west-1"},
		"aws:requesttag/env": {"dev"}, "aws:requesttag/team": {"blue"}, "aws:tagkeys": {"env", "team"},
	} {
		if !slices.Equal(c[key], want) {
			t.Errorf("%s = %q, want %q", key, c[key], want)
		}
	}
}

func TestPrincipalOf(t *testing.T) {
	for _, tc := range []struct {
		arn  string
		typ  iampolicy.PrincipalType
		user string
	}{
		{"arn:aws:iam::111111111111:root", iampolicy.Root, ""},
		{"arn:aws:iam::111111111111:user/team/bob", iampolicy.User, "bob"},
		{"arn:aws:sts::111111111111:assumed-role/r/s", iampolicy.AssumedRole, ""},
	} {
		p := principalOf(&api.Identity{ARN: tc.arn})
		if p.Type != tc.typ || p.Username != tc.user {
			t.Errorf("%s: type %d user %q, want %d %q", tc.arn, p.Type, p.Username, tc.typ, tc.user)
		}
	}
}
