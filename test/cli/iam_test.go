package cli_test

import (
	"strings"
	"testing"
)

const (
	iamAccount = "222222222222"
	iamRootKey = "AKIAIAMCLIROOT000000"
	iamTrust   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	iamInline  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::app/*"}]}`
)

// iamServer is a minicloud that verifies every signature, with one root
// key of iamAccount.
func iamServer(t *testing.T) (*server, []string) {
	t.Helper()
	s := startServer(t, "--ephemeral", "--data-plane", "off", "--dns-listen", "off", "--verify-signatures",
		"--accounts", iamRootKey+"="+iamAccount+":root-secret")
	return s, awsEnv(t, "AWS_ACCESS_KEY_ID="+iamRootKey, "AWS_SECRET_ACCESS_KEY=root-secret")
}

// TestIAMCLI drives IAM with each AWS CLI: a user and its access key,
// whose signed requests are that user's; a role with a trust policy, a
// managed and an inline policy (the CLI decodes the URL-encoded
// documents IAM answers), an instance profile.
func TestIAMCLI(t *testing.T) {
	for _, cli := range requireCLIs(t) {
		t.Run(cli.name, func(t *testing.T) {
			t.Parallel()
			s, env := iamServer(t)
			user := decode[struct{ User struct{ Arn, UserId string } }](t, cli.aws(t, s, env, "iam", "create-user", "--user-name", "deploy")).User
			if want := "arn:aws:iam::" + iamAccount + ":user/deploy"; user.Arn != want {
				t.Fatalf("create-user arn %s, want %s", user.Arn, want)
			}
			key := decode[struct {
				AccessKey struct{ AccessKeyId, SecretAccessKey string }
			}](t,
				cli.aws(t, s, env, "iam", "create-access-key", "--user-name", "deploy")).AccessKey
			userEnv := append(append([]string(nil), env...), "AWS_ACCESS_KEY_ID="+key.AccessKeyId, "AWS_SECRET_ACCESS_KEY="+key.SecretAccessKey)
			id := decode[callerIdentity](t, cli.aws(t, s, userEnv, "sts", "get-caller-identity"))
			if id.Arn != user.Arn || id.UserId != user.UserId || id.Account != iamAccount {
				t.Fatalf("get-caller-identity with the user's key: %+v", id)
			}
			wrong := append(append([]string(nil), userEnv...), "AWS_SECRET_ACCESS_KEY=wrong")
			if r := cli.aws(t, s, wrong, "sts", "get-caller-identity"); r.code == 0 || !strings.Contains(r.stderr, "SignatureDoesNotMatch") {
				t.Fatalf("wrong secret: %s", r)
			}

			if r := cli.aws(t, s, env, "iam", "create-role", "--role-name", "web", "--assume-role-policy-document", iamTrust); r.code != 0 {
				t.Fatalf("create-role: %s", r)
			}
			if r := cli.aws(t, s, env, "iam", "attach-role-policy", "--role-name", "web", "--policy-arn", "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"); r.code != 0 {
				t.Fatalf("attach-role-policy: %s", r)
			}
			if r := cli.aws(t, s, env, "iam", "put-role-policy", "--role-name", "web", "--policy-name", "app", "--policy-document", iamInline); r.code != 0 {
				t.Fatalf("put-role-policy: %s", r)
			}
			// The CLIs decode the documents into JSON objects.
			role := decode[struct {
				Role struct {
					AssumeRolePolicyDocument struct {
						Statement []struct{ Principal struct{ Service string } }
					}
				}
			}](t, cli.aws(t, s, env, "iam", "get-role", "--role-name", "web")).Role
			if st := role.AssumeRolePolicyDocument.Statement; len(st) != 1 || st[0].Principal.Service != "ec2.amazonaws.com" {
				t.Fatalf("get-role trust policy: %+v", role)
			}
			inline := decode[struct {
				PolicyDocument struct{ Statement []struct{ Resource string } }
			}](t, cli.aws(t, s, env, "iam", "get-role-policy", "--role-name", "web", "--policy-name", "app"))
			if st := inline.PolicyDocument.Statement; len(st) != 1 || st[0].Resource != "arn:aws:s3:::app/*" {
				t.Fatalf("get-role-policy: %+v", inline)
			}
			if r := cli.aws(t, s, env, "iam", "create-instance-profile", "--instance-profile-name", "web"); r.code != 0 {
				t.Fatalf("create-instance-profile: %s", r)
			}
			if r := cli.aws(t, s, env, "iam", "add-role-to-instance-profile", "--instance-profile-name", "web", "--role-name", "web"); r.code != 0 {
				t.Fatalf("add-role-to-instance-profile: %s", r)
			}
			ip := decode[struct {
				InstanceProfile struct{ Roles []struct{ RoleName string } }
			}](t, cli.aws(t, s, env, "iam", "get-instance-profile", "--instance-profile-name", "web")).InstanceProfile
			if len(ip.Roles) != 1 || ip.Roles[0].RoleName != "web" {
				t.Fatalf("get-instance-profile: %+v", ip)
			}
			if r := cli.aws(t, s, env, "iam", "delete-role", "--role-name", "web"); r.code == 0 || !strings.Contains(r.stderr, "DeleteConflict") {
				t.Fatalf("delete-role in use: %s", r)
			}
		})
	}
}

const boto3IAMScript = `
import json, sys, urllib.parse, boto3
url = sys.argv[1]
iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1")
user = iam.create_user(UserName="deploy")["User"]
key = iam.create_access_key(UserName="deploy")["AccessKey"]
sts = boto3.client("sts", endpoint_url=url, region_name="us-east-1",
                   aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
ident = sts.get_caller_identity()
iam.create_role(RoleName="web", AssumeRolePolicyDocument=sys.argv[2])
iam.attach_role_policy(RoleName="web", PolicyArn="arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")
role = iam.get_role(RoleName="web")["Role"]
v = iam.get_policy_version(PolicyArn="arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy", VersionId="v1")
iam.create_instance_profile(InstanceProfileName="web")
iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="web")
ip = iam.get_instance_profile(InstanceProfileName="web")["InstanceProfile"]
print(json.dumps({
    "user_arn": user["Arn"], "caller_arn": ident["Arn"],
    "trust_is_decoded": isinstance(role["AssumeRolePolicyDocument"], dict),
    "managed_actions": v["PolicyVersion"]["Document"]["Statement"][0]["Action"],
    "profile_roles": [r["RoleName"] for r in ip["Roles"]],
}))
`

// TestIAMBoto3 is the same flow through boto3, which decodes policy
// documents too.
func TestIAMBoto3(t *testing.T) {
	t.Parallel()
	py := findBoto3Python(t)
	s, env := iamServer(t)
	out := decode[struct {
		UserArn        string   `json:"user_arn"`
		CallerArn      string   `json:"caller_arn"`
		TrustIsDecoded bool     `json:"trust_is_decoded"`
		ManagedActions []string `json:"managed_actions"`
		ProfileRoles   []string `json:"profile_roles"`
	}](t, run(t, env, py, "-c", boto3IAMScript, s.URL, iamTrust))
	if out.CallerArn != out.UserArn || out.UserArn != "arn:aws:iam::"+iamAccount+":user/deploy" {
		t.Errorf("caller %s, user %s", out.CallerArn, out.UserArn)
	}
	if !out.TrustIsDecoded || len(out.ManagedActions) != 6 || len(out.ProfileRoles) != 1 {
		t.Errorf("boto3 answers: %+v", out)
	}
}
