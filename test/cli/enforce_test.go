package cli_test

import (
	"slices"
	"strings"
	"testing"
)

const (
	enfAccount  = "444444444444"
	enfRootKey  = "AKIAENFORCEROOT00000"
	enfDescribe = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}`
	enfAssume   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole","ec2:Describe*"],"Resource":"*"}]}`
	enfAll      = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	enfNoVpcs   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"ec2:DescribeVpcs","Resource":"*"}]}`
	enfTrust    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444444444444:user/reader"},"Action":"sts:AssumeRole"}]}`
)

// enforcingServer is a minicloud with --iam enforce and one root key.
func enforcingServer(t *testing.T) (*server, []string) {
	t.Helper()
	s := startServer(t, "--ephemeral", "--data-plane", "off", "--dns-listen", "off", "--iam", "enforce",
		"--accounts", enfRootKey+"="+enfAccount+":root-secret")
	return s, awsEnv(t, "AWS_ACCESS_KEY_ID="+enfRootKey, "AWS_SECRET_ACCESS_KEY=root-secret")
}

// runDenied is the message of a RunInstances refused to the describe-only
// user.
const runDenied = "User: arn:aws:iam::" + enfAccount + ":user/reader is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:us-east-1:" +
	enfAccount + ":instance/* because no identity-based policy allows the ec2:RunInstances action"

// TestEnforceCLI: with --iam enforce, through each AWS CLI, a user allowed
// only ec2:Describe* describes and is refused RunInstances with AWS's
// message; the role's trust policy decides who assumes it; a boundary's
// explicit deny wins; the refusal is in CloudTrail with who made it.
func TestEnforceCLI(t *testing.T) {
	for _, cli := range requireCLIs(t) {
		t.Run(cli.name, func(t *testing.T) {
			t.Parallel()
			s, root := enforcingServer(t)
			as := func(user, policy string, extra ...string) []string {
				t.Helper()
				return cli.userWithKey(t, s, root, user, policy, extra...)
			}
			reader := as("reader", enfAssume)
			decode[map[string]any](t, cli.aws(t, s, reader, "ec2", "describe-vpcs"))
			r := cli.aws(t, s, reader, "ec2", "run-instances", "--image-id", "ami-12345678", "--count", "1")
			if r.code == 0 || !strings.Contains(r.stderr, "(UnauthorizedOperation)") || !strings.Contains(r.stderr, runDenied) {
				t.Fatalf("run-instances by a describe-only user: %s\nwant UnauthorizedOperation: %s", r, runDenied)
			}

			role := "arn:aws:iam::" + enfAccount + ":role/ops"
			if r := cli.aws(t, s, root, "iam", "create-role", "--role-name", "ops", "--assume-role-policy-document", enfTrust); r.code != 0 {
				t.Fatalf("create-role: %s", r)
			}
			other := as("other", enfAssume)
			r = cli.aws(t, s, other, "sts", "assume-role", "--role-arn", role, "--role-session-name", "x1")
			if want := "User: arn:aws:iam::" + enfAccount + ":user/other is not authorized to perform: sts:AssumeRole on resource: " + role; r.code == 0 || !strings.Contains(r.stderr, "(AccessDenied)") || !strings.Contains(r.stderr, want) {
				t.Fatalf("assume-role by a user the trust policy does not name: %s", r)
			}
			decode[assumeRoleOut](t, cli.aws(t, s, reader, "sts", "assume-role", "--role-arn", role, "--role-session-name", "x2"))

			policy := decode[struct{ Policy struct{ Arn string } }](t, cli.aws(t, s, root, "iam", "create-policy", "--policy-name", "no-vpcs", "--policy-document", enfNoVpcs)).Policy
			bounded := as("bounded", enfAll, "--permissions-boundary", policy.Arn)
			r = cli.aws(t, s, bounded, "ec2", "describe-vpcs")
			if r.code == 0 || !strings.Contains(r.stderr, "with an explicit deny in a permissions boundary") {
				t.Fatalf("describe-vpcs past a denying boundary: %s", r)
			}

			ev := lookupEvent(t, cli, s, root, "RunInstances")
			if !strings.Contains(ev.ErrorCode, "UnauthorizedOperation") || ev.UserIdentity.Type != "IAMUser" || ev.UserIdentity.Arn != "arn:aws:iam::"+enfAccount+":user/reader" {
				t.Errorf("CloudTrail's RunInstances: %+v", ev)
			}
		})
	}
}

// userWithKey creates an IAM user (create-user's extra arguments) with an
// inline policy and an access key, and returns root's environment signing
// as it.
func (cli awsCLI) userWithKey(t *testing.T, s *server, root []string, user, policy string, extra ...string) []string {
	t.Helper()
	cli.aws(t, s, root, append([]string{"iam", "create-user", "--user-name", user}, extra...)...)
	if r := cli.aws(t, s, root, "iam", "put-user-policy", "--user-name", user, "--policy-name", "p", "--policy-document", policy); r.code != 0 {
		t.Fatalf("put-user-policy: %s", r)
	}
	k := decode[struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}](t, cli.aws(t, s, root, "iam", "create-access-key", "--user-name", user)).AccessKey
	return append(slices.Clone(root), "AWS_ACCESS_KEY_ID="+k.AccessKeyId, "AWS_SECRET_ACCESS_KEY="+k.SecretAccessKey)
}

// lookupEvent finds an event by name with lookup-events, waiting for
// CloudTrail to write it.
func lookupEvent(t *testing.T, cli awsCLI, s *server, env []string, name string) trailRecord {
	t.Helper()
	for range 50 {
		out := decode[struct{ Events []trailEvent }](t, cli.aws(t, s, env, "cloudtrail", "lookup-events",
			"--lookup-attributes", "AttributeKey=EventName,AttributeValue="+name))
		if len(out.Events) > 0 {
			return out.Events[0].record(t)
		}
	}
	t.Fatalf("no %s event in CloudTrail", name)
	return trailRecord{}
}

const boto3EnforceScript = `
import json, sys, boto3
from botocore.exceptions import ClientError
url, describe, assume, trust = sys.argv[1:5]
iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1")
def user(name, policy):
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy)
    k = iam.create_access_key(UserName=name)["AccessKey"]
    return boto3.session.Session(aws_access_key_id=k["AccessKeyId"], aws_secret_access_key=k["SecretAccessKey"], region_name="us-east-1")
def err(fn):
    try:
        fn()
        return None
    except ClientError as e:
        return {"Code": e.response["Error"]["Code"], "Message": e.response["Error"]["Message"]}
reader = user("reader", assume)
other = user("other", assume)
ec2 = reader.client("ec2", endpoint_url=url)
ec2.describe_vpcs()
role = iam.create_role(RoleName="ops", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
print(json.dumps({
    "run": err(lambda: ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)),
    "other_assume": err(lambda: other.client("sts", endpoint_url=url).assume_role(RoleArn=role, RoleSessionName="x1")),
    "reader_assume": err(lambda: reader.client("sts", endpoint_url=url).assume_role(RoleArn=role, RoleSessionName="x2")),
}))
`

// TestEnforceBoto3 is the same through boto3.
func TestEnforceBoto3(t *testing.T) {
	t.Parallel()
	py := findBoto3Python(t)
	s, root := enforcingServer(t)
	type apiErr struct{ Code, Message string }
	out := decode[struct {
		Run          *apiErr `json:"run"`
		OtherAssume  *apiErr `json:"other_assume"`
		ReaderAssume *apiErr `json:"reader_assume"`
	}](t, run(t, root, py, "-c", boto3EnforceScript, s.URL, enfDescribe, enfAssume, enfTrust))
	if out.Run == nil || out.Run.Code != "UnauthorizedOperation" || !strings.Contains(out.Run.Message, runDenied) {
		t.Errorf("run_instances: %+v, want UnauthorizedOperation %q", out.Run, runDenied)
	}
	if out.OtherAssume == nil || out.OtherAssume.Code != "AccessDenied" || out.ReaderAssume != nil {
		t.Errorf("assume_role: other %+v (want AccessDenied), reader %+v (want success)", out.OtherAssume, out.ReaderAssume)
	}
}
