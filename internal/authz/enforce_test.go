package authz_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/minicloud/minicloud/internal/sdktest"
	"github.com/minicloud/minicloud/internal/server"
)

const (
	rootKey    = "AKIDROOTENFORCE"
	rootSecret = "rootsecretrootsecretrootsecret0000000000"
	account    = "111111111111"
)

// enforcing is minicloud with --iam enforce and one root key.
func enforcing(t *testing.T, enforce bool) string {
	t.Helper()
	srv, err := server.New(server.Config{Ephemeral: true, Version: "test", IAMEnforce: enforce,
		Accounts: map[string]string{rootKey: account}, Secrets: map[string]string{rootKey: rootSecret}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		_ = srv.Close(context.Background())
	})
	return hs.URL
}

func cfgFor(base, key, secret, token string) aws.Config {
	return aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(key, secret, token),
		BaseEndpoint: aws.String(base), HTTPClient: sdktest.HTTPClient(), RetryMaxAttempts: 1}
}

// must is v, or a panic (which fails the test) when a set-up call fails.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// user creates an IAM user with an inline policy (and a boundary, if
// given) and returns an SDK configuration signing as it.
func user(t *testing.T, base string, admin *iam.Client, name, policy, boundaryARN string) aws.Config {
	t.Helper()
	ctx := context.Background()
	in := &iam.CreateUserInput{UserName: aws.String(name)}
	if boundaryARN != "" {
		in.PermissionsBoundary = aws.String(boundaryARN)
	}
	must(admin.CreateUser(ctx, in))
	if policy != "" {
		must(admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(policy)}))
	}
	k := must(admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})).AccessKey
	return cfgFor(base, *k.AccessKeyId, *k.SecretAccessKey, "")
}

func apiError(t *testing.T, err error) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v, want an AWS error", err)
	}
	return ae
}

const describeOnly = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}`

// TestEnforce: a user allowed only ec2:Describe* describes and is denied
// everything else, in each protocol's shape and with AWS's message.
func TestEnforce(t *testing.T) {
	ctx := context.Background()
	base := enforcing(t, true)
	admin := iam.NewFromConfig(cfgFor(base, rootKey, rootSecret, ""))
	alice := user(t, base, admin, "alice", describeOnly, "")
	arn := "arn:aws:iam::" + account + ":user/alice"

	if _, err := ec2.NewFromConfig(alice).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err != nil {
		t.Fatalf("DescribeVpcs: %v", err)
	}
	cases := []struct {
		name, code, msg string
		call            func() error
	}{
		{"ec2 RunInstances", "UnauthorizedOperation",
			"You are not authorized to perform this operation. User: " + arn + " is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:us-east-1:" + account + ":instance/* because no identity-based policy allows the ec2:RunInstances action. Encoded authorization failure message: ",
			func() error {
				_, err := ec2.NewFromConfig(alice).RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12345678"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: ec2types.InstanceTypeT3Micro})
				return err
			}},
		{"iam (query) ListUsers", "AccessDenied",
			"User: " + arn + " is not authorized to perform: iam:ListUsers because no identity-based policy allows the iam:ListUsers action",
			func() error { _, err := iam.NewFromConfig(alice).ListUsers(ctx, &iam.ListUsersInput{}); return err }},
		{"iam (query) DeleteRole names its resource", "AccessDenied",
			"User: " + arn + " is not authorized to perform: iam:DeleteRole on resource: arn:aws:iam::" + account + ":role/x because no identity-based policy allows the iam:DeleteRole action",
			func() error {
				_, err := iam.NewFromConfig(alice).DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("x")})
				return err
			}},
		{"logs (json)", "AccessDeniedException",
			"User: " + arn + " is not authorized to perform: logs:DescribeLogGroups because no identity-based policy allows the logs:DescribeLogGroups action",
			func() error {
				_, err := cloudwatchlogs.NewFromConfig(alice).DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
				return err
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ae := apiError(t, tc.call())
			if ae.ErrorCode() != tc.code || !strings.HasPrefix(ae.ErrorMessage(), tc.msg) {
				t.Errorf("got %s: %q\nwant %s: %q", ae.ErrorCode(), ae.ErrorMessage(), tc.code, tc.msg)
			}
		})
	}

	// GetCallerIdentity needs no permission; GetSessionToken's credentials
	// act as the user, with its permissions.
	if _, err := sts.NewFromConfig(alice).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("GetCallerIdentity: %v", err)
	}
	must(admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("session"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetSessionToken","Resource":"*"}]}`)}))
	tok := must(sts.NewFromConfig(alice).GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(900)})).Credentials
	sessCfg := cfgFor(base, *tok.AccessKeyId, *tok.SecretAccessKey, *tok.SessionToken)
	if id := must(sts.NewFromConfig(sessCfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})); *id.Arn != arn {
		t.Errorf("GetSessionToken's credentials are %s, want %s", *id.Arn, arn)
	}
	if _, err := ec2.NewFromConfig(sessCfg).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err != nil {
		t.Errorf("DescribeVpcs with the user's session: %v", err)
	}
	_, err := sts.NewFromConfig(sessCfg).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if ae := apiError(t, err); ae.ErrorCode() != "AccessDenied" || ae.ErrorMessage() != "Cannot call GetSessionToken with session credentials" {
		t.Errorf("GetSessionToken with session credentials: %v", err)
	}

	// The policy grows: the cache must not keep the old answer.
	must(admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("logs"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:Describe*","Resource":"*"}]}`)}))
	if _, err := cloudwatchlogs.NewFromConfig(alice).DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{}); err != nil {
		t.Errorf("DescribeLogGroups after the policy allows it: %v", err)
	}

	// The denied call is in CloudTrail, with its error and who made it.
	trail := cloudtrail.NewFromConfig(cfgFor(base, rootKey, rootSecret, ""))
	var ev struct {
		ErrorCode    string `json:"errorCode"`
		UserIdentity struct {
			Type     string `json:"type"`
			ARN      string `json:"arn"`
			UserName string `json:"userName"`
		} `json:"userIdentity"`
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		out := must(trail.LookupEvents(ctx, &cloudtrail.LookupEventsInput{}))
		for _, e := range out.Events {
			if aws.ToString(e.EventName) == "RunInstances" {
				if err := json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &ev); err != nil {
					t.Fatal(err)
				}
			}
		}
		if ev.ErrorCode != "" || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ev.ErrorCode != "Client.UnauthorizedOperation" && ev.ErrorCode != "UnauthorizedOperation" || ev.UserIdentity.Type != "IAMUser" || ev.UserIdentity.ARN != arn {
		t.Errorf("CloudTrail's RunInstances event: %+v", ev)
	}
}

// TestEnforceBoundaryAndTags: an explicit deny in a permissions boundary
// wins over an identity policy's allow; aws:PrincipalTag conditions read
// the user's tags.
func TestEnforceBoundaryAndTags(t *testing.T) {
	ctx := context.Background()
	base := enforcing(t, true)
	admin := iam.NewFromConfig(cfgFor(base, rootKey, rootSecret, ""))
	b := must(admin.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("no-vpcs"), PolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"NoVpcs","Effect":"Deny","Action":"ec2:DescribeVpcs","Resource":"*"}]}`)}))
	bob := user(t, base, admin, "bob", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, *b.Policy.Arn)
	ae := apiError(t, func() error { _, err := ec2.NewFromConfig(bob).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); return err }())
	if want := "with an explicit deny in a permissions boundary"; ae.ErrorCode() != "UnauthorizedOperation" || !strings.Contains(ae.ErrorMessage(), want) {
		t.Errorf("DescribeVpcs past a denying boundary: %s %q, want UnauthorizedOperation %q", ae.ErrorCode(), ae.ErrorMessage(), want)
	}
	if _, err := ec2.NewFromConfig(bob).DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{}); err != nil {
		t.Errorf("DescribeSubnets, which the boundary allows: %v", err)
	}

	// aws:ResourceTag: EC2 answers a VPC's tags.
	dave := user(t, base, admin, "dave", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"},`+
		`{"Effect":"Deny","Action":"ec2:DeleteVpc","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/env":"prod"}}}]}`, "")
	e2 := ec2.NewFromConfig(dave)
	for _, env := range []string{"prod", "dev"} {
		vpc := must(e2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16"), TagSpecifications: []ec2types.TagSpecification{{
			ResourceType: ec2types.ResourceTypeVpc, Tags: []ec2types.Tag{{Key: aws.String("env"), Value: aws.String(env)}}}}})).Vpc
		_, err := e2.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: vpc.VpcId})
		if denied := err != nil && strings.Contains(err.Error(), "explicit deny"); denied != (env == "prod") {
			t.Errorf("DeleteVpc of a VPC tagged env=%s: %v", env, err)
		}
	}

	carol := user(t, base, admin, "carol", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"blue"}}}]}`, "")
	if _, err := ec2.NewFromConfig(carol).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err == nil {
		t.Error("DescribeVpcs by an untagged user allowed")
	}
	must(admin.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("carol"), Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}}))
	if _, err := ec2.NewFromConfig(carol).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err != nil {
		t.Errorf("DescribeVpcs by a user tagged team=blue: %v", err)
	}
}

// TestEnforceAssumeRole: the role's trust policy and the caller's own
// policy decide who may assume it; the session has the role's
// permissions, narrowed by its session policy.
func TestEnforceAssumeRole(t *testing.T) {
	ctx := context.Background()
	base := enforcing(t, true)
	admin := iam.NewFromConfig(cfgFor(base, rootKey, rootSecret, ""))
	mayAssume := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`
	dan := user(t, base, admin, "dan", mayAssume, "")
	eve := user(t, base, admin, "eve", mayAssume, "")
	frank := user(t, base, admin, "frank", describeOnly, "")
	// deployer trusts dan by name: that alone lets him assume it (the
	// AssumeRole reference: a user named in the trust policy needs no
	// identity policy); shared trusts the account, which delegates to
	// each caller's own policies.
	trust := func(principal string) *string {
		return aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"sts:AssumeRole"}]}`)
	}
	role := must(admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deployer"), Path: aws.String("/ci/"),
		AssumeRolePolicyDocument: trust("arn:aws:iam::" + account + ":user/dan")})).Role
	shared := must(admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("shared"),
		AssumeRolePolicyDocument: trust("arn:aws:iam::" + account + ":root")})).Role
	must(admin.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("deployer"), PolicyName: aws.String("ec2"), PolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}`)}))
	roleARN := *role.Arn

	denied := func(who aws.Config, name, roleARN, reason string) {
		t.Helper()
		_, err := sts.NewFromConfig(who).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s0")})
		ae := apiError(t, err)
		want := "User: arn:aws:iam::" + account + ":user/" + name + " is not authorized to perform: sts:AssumeRole on resource: " + roleARN + reason
		if ae.ErrorCode() != "AccessDenied" || ae.ErrorMessage() != want {
			t.Errorf("AssumeRole by %s: %s %q, want AccessDenied %q", name, ae.ErrorCode(), ae.ErrorMessage(), want)
		}
	}
	denied(eve, "eve", roleARN, " because no resource-based policy allows the sts:AssumeRole action")
	denied(frank, "frank", *shared.Arn, " because no identity-based policy allows the sts:AssumeRole action")
	if _, err := sts.NewFromConfig(eve).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: shared.Arn, RoleSessionName: aws.String("s0")}); err != nil {
		t.Errorf("AssumeRole of a role trusting the account, by a user allowed sts:AssumeRole: %v", err)
	}

	out := must(sts.NewFromConfig(dan).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1"),
		Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:DescribeVpcs","Resource":"*"}]}`)}))
	if !strings.HasPrefix(*out.AssumedRoleUser.AssumedRoleId, *role.RoleId+":") {
		t.Errorf("AssumedRoleId %s, want the role's id %s", *out.AssumedRoleUser.AssumedRoleId, *role.RoleId)
	}
	c := out.Credentials
	sess := cfgFor(base, *c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
	if _, err := ec2.NewFromConfig(sess).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err != nil {
		t.Errorf("DescribeVpcs in the session: %v", err)
	}
	ae := apiError(t, func() error {
		_, err := ec2.NewFromConfig(sess).DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
		return err
	}())
	want := "User: arn:aws:sts::" + account + ":assumed-role/deployer/s1 is not authorized to perform: ec2:DescribeSubnets because no session policy allows the ec2:DescribeSubnets action"
	if !strings.Contains(ae.ErrorMessage(), want) {
		t.Errorf("DescribeSubnets past the session policy: %q, want %q", ae.ErrorMessage(), want)
	}

	_, err := sts.NewFromConfig(dan).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s2"), DurationSeconds: aws.Int32(7200)})
	if ae := apiError(t, err); ae.ErrorCode() != "ValidationError" {
		t.Errorf("DurationSeconds past MaxSessionDuration: %v", err)
	}
}

// TestAssumeMissingRole: AWS refuses a role that does not exist, with
// enforcement or without.
func TestAssumeMissingRole(t *testing.T) {
	for _, enforce := range []bool{false, true} {
		base := enforcing(t, enforce)
		_, err := sts.NewFromConfig(cfgFor(base, rootKey, rootSecret, "")).AssumeRole(context.Background(), &sts.AssumeRoleInput{
			RoleArn: aws.String("arn:aws:iam::" + account + ":role/missing"), RoleSessionName: aws.String("s0")})
		ae := apiError(t, err)
		if want := "User: arn:aws:iam::" + account + ":root is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::" + account + ":role/missing"; ae.ErrorCode() != "AccessDenied" || ae.ErrorMessage() != want {
			t.Errorf("enforce=%t: %s %q, want AccessDenied %q", enforce, ae.ErrorCode(), ae.ErrorMessage(), want)
		}
	}
}

// TestHealthSaysIAMMode: /_minicloud/health says whether IAM is enforced.
func TestHealthSaysIAMMode(t *testing.T) {
	for _, tc := range []struct {
		enforce bool
		want    string
	}{{false, "off"}, {true, "enforce"}} {
		base := enforcing(t, tc.enforce)
		resp, err := http.Get(base + "/_minicloud/health")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var h struct {
			IAM struct{ Mode string } `json:"iam"`
		}
		if err := json.Unmarshal(body, &h); err != nil || h.IAM.Mode != tc.want {
			t.Errorf("health %s, want iam mode %s", body, tc.want)
		}
	}
}

// TestSimulate: SimulatePrincipalPolicy and SimulateCustomPolicy answer
// with the engine enforcement uses.
func TestSimulate(t *testing.T) {
	ctx := context.Background()
	base := enforcing(t, false)
	admin := iam.NewFromConfig(cfgFor(base, rootKey, rootSecret, ""))
	b := must(admin.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("no-vpcs"), PolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"},{"Effect":"Deny","Action":"ec2:DescribeVpcs","Resource":"*"}]}`)}))
	user(t, base, admin, "sim", describeOnly, *b.Policy.Arn)
	out := must(admin.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::" + account + ":user/sim"),
		ActionNames: []string{"ec2:DescribeSubnets", "ec2:DescribeVpcs", "ec2:RunInstances"}}))
	type row struct{ action, decision, source, typ string }
	var got []row
	for _, r := range out.EvaluationResults {
		x := row{action: *r.EvalActionName, decision: string(r.EvalDecision)}
		if len(r.MatchedStatements) > 0 {
			x.source, x.typ = *r.MatchedStatements[0].SourcePolicyId, string(r.MatchedStatements[0].SourcePolicyType)
		}
		got = append(got, x)
	}
	want := []row{
		{"ec2:DescribeSubnets", "allowed", "p", "user"},
		{"ec2:DescribeVpcs", "explicitDeny", "no-vpcs", "user-managed"},
		{"ec2:RunInstances", "implicitDeny", "", ""},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("SimulatePrincipalPolicy:\n got %v\nwant %v", got, want)
	}

	cond := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::app/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`
	for _, tc := range []struct {
		ip, want string
	}{{"10.1.2.3", "allowed"}, {"192.0.2.1", "implicitDeny"}} {
		out := must(admin.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{PolicyInputList: []string{cond}, ActionNames: []string{"s3:GetObject"},
			ResourceArns:   []string{"arn:aws:s3:::app/k", "arn:aws:s3:::other/k"},
			ContextEntries: []iamtypes.ContextEntry{{ContextKeyName: aws.String("aws:SourceIp"), ContextKeyType: iamtypes.ContextKeyTypeEnumIp, ContextKeyValues: []string{tc.ip}}}}))
		rs := out.EvaluationResults[0].ResourceSpecificResults
		if len(rs) != 2 || string(rs[0].EvalResourceDecision) != tc.want || string(rs[1].EvalResourceDecision) != "implicitDeny" {
			t.Errorf("SimulateCustomPolicy from %s: %+v", tc.ip, rs)
		}
	}
	page := must(admin.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{PolicyInputList: []string{cond}, ActionNames: []string{"s3:GetObject", "s3:PutObject"}, MaxItems: aws.Int32(1)}))
	if len(page.EvaluationResults) != 1 || !page.IsTruncated || len(page.EvaluationResults[0].MissingContextValues) != 1 {
		t.Errorf("first page: %d results, truncated %t, missing %v", len(page.EvaluationResults), page.IsTruncated, page.EvaluationResults[0].MissingContextValues)
	}
	next := must(admin.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{PolicyInputList: []string{cond}, ActionNames: []string{"s3:GetObject", "s3:PutObject"}, Marker: page.Marker}))
	if len(next.EvaluationResults) != 1 || *next.EvaluationResults[0].EvalActionName != "s3:PutObject" {
		t.Errorf("second page: %+v", next.EvaluationResults)
	}
}
