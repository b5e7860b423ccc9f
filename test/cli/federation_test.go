package cli_test

import (
	"slices"
	"strings"
	"testing"
)

const (
	oidcIssuer   = "https://oidc.minicloud.localhost"
	oidcProvider = "arn:aws:iam::" + enfAccount + ":oidc-provider/oidc.minicloud.localhost"
	webTrust     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + oidcProvider + `"},` +
		`"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"oidc.minicloud.localhost:aud":"sts.amazonaws.com"},` +
		`"StringLike":{"oidc.minicloud.localhost:sub":"repo:org/app:*"}}}]}`
	webRole       = "arn:aws:iam::" + enfAccount + ":role/deploy"
	webSession    = "arn:aws:sts::" + enfAccount + ":assumed-role/deploy/gh"
	fedPolicy     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:Describe*","sts:GetFederationToken"],"Resource":"*"}]}`
	fedSession    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:DescribeVpcs","Resource":"*"}]}`
	fedUser       = "arn:aws:sts::" + enfAccount + ":federated-user/bob"
	subnetsDenied = "User: " + fedUser + " is not authorized to perform: ec2:DescribeSubnets because no session policy allows the ec2:DescribeSubnets action"
)

// oidcToken mints a token of the running server's issuer with
// `minicloud oidc token`.
func oidcToken(t *testing.T, s *server, sub string, aud ...string) string {
	t.Helper()
	args := []string{"oidc", "token", "--endpoint", s.URL, "--sub", sub}
	for _, a := range aud {
		args = append(args, "--aud", a)
	}
	r := run(t, cleanEnv(), binPath, args...)
	if r.code != 0 || strings.Count(r.stdout, ".") != 2 {
		t.Fatalf("minicloud oidc token: %s", r)
	}
	return strings.TrimSpace(r.stdout)
}

// webIdentitySetup registers minicloud's issuer as an OIDC provider and
// makes the role its tokens assume, allowed only ec2:Describe*.
func webIdentitySetup(t *testing.T, cli awsCLI, s *server, root []string) {
	t.Helper()
	for _, args := range [][]string{
		// Older CLIs require a thumbprint; minicloud keeps it unused.
		{"iam", "create-open-id-connect-provider", "--url", oidcIssuer, "--client-id-list", "sts.amazonaws.com", "--thumbprint-list", strings.Repeat("0", 40)},
		{"iam", "create-role", "--role-name", "deploy", "--assume-role-policy-document", webTrust},
		{"iam", "put-role-policy", "--role-name", "deploy", "--policy-name", "p", "--policy-document", enfDescribe},
	} {
		if r := cli.aws(t, s, root, args...); r.code != 0 {
			t.Fatalf("%s: %s", strings.Join(args[:2], " "), r)
		}
	}
}

// noKeys is env without access keys: AssumeRoleWithWebIdentity needs none.
func noKeys(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "AWS_ACCESS_KEY_ID=") && !strings.HasPrefix(kv, "AWS_SECRET_ACCESS_KEY=") {
			out = append(out, kv)
		}
	}
	return out
}

// TestWebIdentityCLI: with --iam enforce, through each AWS CLI, a token
// from `minicloud oidc token` assumes a role whose trust policy allows
// minicloud's issuer with the token's sub and aud, with no credentials;
// the session acts with the role's policies; other tokens are refused with
// AWS's errors.
func TestWebIdentityCLI(t *testing.T) {
	for _, cli := range requireCLIs(t) {
		t.Run(cli.name, func(t *testing.T) {
			t.Parallel()
			s, root := enforcingServer(t)
			webIdentitySetup(t, cli, s, root)
			anon := noKeys(root)
			assume := func(token string) result {
				return cli.aws(t, s, anon, "sts", "assume-role-with-web-identity", "--role-arn", webRole, "--role-session-name", "gh", "--web-identity-token", token)
			}
			out := decode[struct {
				assumeRoleOut
				SubjectFromWebIdentityToken, Provider, Audience string
			}](t, assume(oidcToken(t, s, "repo:org/app:ref:refs/heads/main")))
			if out.AssumedRoleUser.Arn != webSession || out.SubjectFromWebIdentityToken != "repo:org/app:ref:refs/heads/main" || out.Provider != oidcProvider || out.Audience != "sts.amazonaws.com" {
				t.Fatalf("assume-role-with-web-identity: %+v", out)
			}
			sess := append(slices.Clone(root), out.Credentials.env()...)
			if id := decode[callerIdentity](t, cli.aws(t, s, sess, "sts", "get-caller-identity")); id.Arn != webSession {
				t.Fatalf("caller %+v", id)
			}
			decode[map[string]any](t, cli.aws(t, s, sess, "ec2", "describe-vpcs"))
			if r := cli.aws(t, s, sess, "ec2", "run-instances", "--image-id", "ami-12345678", "--count", "1"); r.code == 0 || !strings.Contains(r.stderr, "(UnauthorizedOperation)") {
				t.Fatalf("run-instances as the session: %s", r)
			}
			for _, tc := range []struct{ name, token, want string }{
				{"a subject the trust policy does not allow", oidcToken(t, s, "repo:other/app:x"), "(AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity"},
				{"an audience not a client ID", oidcToken(t, s, "repo:org/app:x", "api://other"), "(InvalidIdentityToken) when calling the AssumeRoleWithWebIdentity operation: Incorrect token audience"},
			} {
				if r := assume(tc.token); r.code == 0 || !strings.Contains(r.stderr, tc.want) {
					t.Errorf("%s: %s\nwant %s", tc.name, r, tc.want)
				}
			}
		})
	}
}

// TestFederationTokenCLI: with --iam enforce, through each AWS CLI, an IAM
// user's federated user acts with the intersection of the user's policies
// and its session policy.
func TestFederationTokenCLI(t *testing.T) {
	for _, cli := range requireCLIs(t) {
		t.Run(cli.name, func(t *testing.T) {
			t.Parallel()
			s, root := enforcingServer(t)
			proxy := cli.userWithKey(t, s, root, "proxy", fedPolicy)
			out := decode[struct {
				Credentials   credentials
				FederatedUser struct{ FederatedUserId, Arn string }
			}](t, cli.aws(t, s, proxy, "sts", "get-federation-token", "--name", "bob", "--policy", fedSession))
			if out.FederatedUser.Arn != fedUser || out.FederatedUser.FederatedUserId != enfAccount+":bob" {
				t.Fatalf("federated user %+v", out.FederatedUser)
			}
			bob := append(slices.Clone(root), out.Credentials.env()...)
			decode[map[string]any](t, cli.aws(t, s, bob, "ec2", "describe-vpcs"))
			if r := cli.aws(t, s, bob, "ec2", "describe-subnets"); r.code == 0 || !strings.Contains(r.stderr, subnetsDenied) {
				t.Fatalf("describe-subnets past the session policy: %s", r)
			}
			ev := lookupEvent(t, cli, s, root, "DescribeSubnets")
			if ev.UserIdentity.Type != "FederatedUser" || ev.UserIdentity.Arn != fedUser {
				t.Errorf("CloudTrail's DescribeSubnets: %+v", ev.UserIdentity)
			}
		})
	}
}

const boto3FederationScript = `
import json, sys, boto3
from botocore.exceptions import ClientError
url, role, token, wrong, fed_policy, session_policy = sys.argv[1:7]
def err(fn):
    try:
        fn()
        return None
    except ClientError as e:
        return {"Code": e.response["Error"]["Code"], "Message": e.response["Error"]["Message"]}
anon = boto3.session.Session(region_name="us-east-1")
out = anon.client("sts", endpoint_url=url).assume_role_with_web_identity(RoleArn=role, RoleSessionName="gh", WebIdentityToken=token)
c = out["Credentials"]
sess = boto3.session.Session(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"], region_name="us-east-1")
iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1")
iam.create_user(UserName="proxy")
iam.put_user_policy(UserName="proxy", PolicyName="p", PolicyDocument=fed_policy)
k = iam.create_access_key(UserName="proxy")["AccessKey"]
proxy = boto3.session.Session(aws_access_key_id=k["AccessKeyId"], aws_secret_access_key=k["SecretAccessKey"], region_name="us-east-1")
fed = proxy.client("sts", endpoint_url=url).get_federation_token(Name="bob", Policy=session_policy)
fc = fed["Credentials"]
bob = boto3.session.Session(aws_access_key_id=fc["AccessKeyId"], aws_secret_access_key=fc["SecretAccessKey"], aws_session_token=fc["SessionToken"], region_name="us-east-1")
print(json.dumps({
    "web_arn": out["AssumedRoleUser"]["Arn"],
    "web_caller": sess.client("sts", endpoint_url=url).get_caller_identity()["Arn"],
    "web_wrong": err(lambda: anon.client("sts", endpoint_url=url).assume_role_with_web_identity(RoleArn=role, RoleSessionName="gh", WebIdentityToken=wrong)),
    "web_not_jwt": err(lambda: anon.client("sts", endpoint_url=url).assume_role_with_web_identity(RoleArn=role, RoleSessionName="gh", WebIdentityToken="abcd")),
    "fed_arn": fed["FederatedUser"]["Arn"],
    "fed_vpcs": err(lambda: bob.client("ec2", endpoint_url=url).describe_vpcs()),
    "fed_subnets": err(lambda: bob.client("ec2", endpoint_url=url).describe_subnets()),
}))
`

// TestFederationBoto3: AssumeRoleWithWebIdentity (unsigned, with a token
// from `minicloud oidc token`) and GetFederationToken under enforcement,
// through boto3.
func TestFederationBoto3(t *testing.T) {
	t.Parallel()
	py := findBoto3Python(t)
	s, root := enforcingServer(t)
	webIdentitySetup(t, requireCLIs(t)[0], s, root)
	type apiErr struct{ Code, Message string }
	token := oidcToken(t, s, "repo:org/app:ref:refs/heads/main")
	out := decode[struct {
		WebARN    string  `json:"web_arn"`
		WebCaller string  `json:"web_caller"`
		WebWrong  *apiErr `json:"web_wrong"`
		WebNotJWT *apiErr `json:"web_not_jwt"`
		FedARN    string  `json:"fed_arn"`
		FedVpcs   *apiErr `json:"fed_vpcs"`
		FedSubnet *apiErr `json:"fed_subnets"`
	}](t, run(t, root, py, "-c", boto3FederationScript, s.URL, webRole, token, oidcToken(t, s, "repo:other/app:x"), fedPolicy, fedSession))
	if out.WebARN != webSession || out.WebCaller != webSession {
		t.Errorf("web identity session %q, caller %q; want %q", out.WebARN, out.WebCaller, webSession)
	}
	if out.WebWrong == nil || out.WebWrong.Code != "AccessDenied" || out.WebNotJWT == nil || out.WebNotJWT.Code != "InvalidIdentityToken" {
		t.Errorf("refused tokens: %+v %+v", out.WebWrong, out.WebNotJWT)
	}
	if out.FedARN != fedUser || out.FedVpcs != nil || out.FedSubnet == nil || out.FedSubnet.Code != "UnauthorizedOperation" || !strings.Contains(out.FedSubnet.Message, subnetsDenied) {
		t.Errorf("federated user %q: describe_vpcs %+v, describe_subnets %+v", out.FedARN, out.FedVpcs, out.FedSubnet)
	}
}
