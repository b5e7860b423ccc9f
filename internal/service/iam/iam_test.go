package iam_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/minicloud/minicloud/internal/sdktest"
	"github.com/minicloud/minicloud/internal/server"
)

const (
	rootKey    = "AKROOTTEST00000000"
	rootSecret = "root-secret"
	trust      = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	allowS3    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
)

type env struct {
	url string
	iam *iam.Client
	ctx context.Context
}

// newEnv serves a minicloud that verifies signatures; the root key of
// account 111111111111 is rootKey.
func newEnv(t *testing.T) *env {
	t.Helper()
	srv, err := server.New(server.Config{Ephemeral: true, VerifySignatures: true,
		Accounts: map[string]string{rootKey: "111111111111"}, Secrets: map[string]string{rootKey: rootSecret}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		_ = srv.Close(context.Background())
	})
	return &env{url: hs.URL, iam: iam.NewFromConfig(config(hs.URL, rootKey, rootSecret)), ctx: context.Background()}
}

func config(url, key, secret string) aws.Config {
	return aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""),
		BaseEndpoint: aws.String(url), RetryMaxAttempts: 1, HTTPClient: sdktest.HTTPClient()}
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// must returns v, or stops the test binary on err: the flows below are
// sequences, each step needing the previous one.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestAccessKeyIdentity: a user's access key signs requests as that user;
// an inactive or deleted key is refused.
func TestAccessKeyIdentity(t *testing.T) {
	e := newEnv(t)
	u := must(e.iam.CreateUser(e.ctx, &iam.CreateUserInput{UserName: aws.String("alice"), Path: aws.String("/dev/")}))
	if got, want := *u.User.Arn, "arn:aws:iam::111111111111:user/dev/alice"; got != want {
		t.Fatalf("arn %s, want %s", got, want)
	}
	if !strings.HasPrefix(*u.User.UserId, "AIDA") {
		t.Fatalf("user id %s", *u.User.UserId)
	}
	k := must(e.iam.CreateAccessKey(e.ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})).AccessKey
	if !strings.HasPrefix(*k.AccessKeyId, "AKIA") || len(*k.SecretAccessKey) < 40 {
		t.Fatalf("key %s", *k.AccessKeyId)
	}
	cfg := config(e.url, *k.AccessKeyId, *k.SecretAccessKey)
	id := must(sts.NewFromConfig(cfg).GetCallerIdentity(e.ctx, &sts.GetCallerIdentityInput{}))
	if *id.Arn != *u.User.Arn || *id.UserId != *u.User.UserId || *id.Account != "111111111111" {
		t.Fatalf("caller %s %s %s", *id.Arn, *id.UserId, *id.Account)
	}
	// GetUser without a name is the caller.
	me := must(iam.NewFromConfig(cfg).GetUser(e.ctx, &iam.GetUserInput{}))
	if *me.User.UserName != "alice" {
		t.Fatalf("GetUser: %s", *me.User.UserName)
	}
	// A wrong secret is refused.
	_, err := sts.NewFromConfig(config(e.url, *k.AccessKeyId, "wrong")).GetCallerIdentity(e.ctx, &sts.GetCallerIdentityInput{})
	if code(err) != "SignatureDoesNotMatch" {
		t.Fatalf("wrong secret: %v", err)
	}
	// Renamed, the user keeps its key and its id; its ARN follows.
	must(e.iam.UpdateUser(e.ctx, &iam.UpdateUserInput{UserName: aws.String("alice"), NewUserName: aws.String("Alicia"), NewPath: aws.String("/ops/")}))
	id = must(sts.NewFromConfig(cfg).GetCallerIdentity(e.ctx, &sts.GetCallerIdentityInput{}))
	if *id.Arn != "arn:aws:iam::111111111111:user/ops/Alicia" || *id.UserId != *u.User.UserId {
		t.Fatalf("after rename: %s %s", *id.Arn, *id.UserId)
	}
	must(e.iam.UpdateUser(e.ctx, &iam.UpdateUserInput{UserName: aws.String("alicia"), NewUserName: aws.String("alice")}))
	must(e.iam.UpdateAccessKey(e.ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: k.AccessKeyId, Status: iamtypes.StatusTypeInactive}))
	_, err = sts.NewFromConfig(cfg).GetCallerIdentity(e.ctx, &sts.GetCallerIdentityInput{})
	if code(err) != "InvalidClientTokenId" {
		t.Fatalf("inactive key: %v", err)
	}
	// DeleteConflict while the user has a key; then deleted.
	if _, err := e.iam.DeleteUser(e.ctx, &iam.DeleteUserInput{UserName: aws.String("alice")}); code(err) != "DeleteConflict" {
		t.Fatalf("delete user with key: %v", err)
	}
	must(e.iam.DeleteAccessKey(e.ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: k.AccessKeyId}))
	_, err = sts.NewFromConfig(cfg).GetCallerIdentity(e.ctx, &sts.GetCallerIdentityInput{})
	if code(err) != "InvalidClientTokenId" {
		t.Fatalf("deleted key: %v", err)
	}
	must(e.iam.DeleteUser(e.ctx, &iam.DeleteUserInput{UserName: aws.String("alice")}))
}

// TestRolesPoliciesProfiles drives the role/policy/instance profile flow
// of an EC2 role.
func TestRolesPoliciesProfiles(t *testing.T) {
	e := newEnv(t)
	r := must(e.iam.CreateRole(e.ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(trust),
		Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("a")}}}))
	if doc, _ := url.QueryUnescape(*r.Role.AssumeRolePolicyDocument); doc != trust {
		t.Fatalf("trust %q", *r.Role.AssumeRolePolicyDocument)
	}
	if *r.Role.MaxSessionDuration != 3600 || !strings.HasPrefix(*r.Role.RoleId, "AROA") {
		t.Fatalf("role %+v", r.Role)
	}
	ssm := "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
	must(e.iam.AttachRolePolicy(e.ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("web"), PolicyArn: aws.String(ssm)}))
	p := must(e.iam.CreatePolicy(e.ctx, &iam.CreatePolicyInput{PolicyName: aws.String("read"), PolicyDocument: aws.String(allowS3)}))
	must(e.iam.AttachRolePolicy(e.ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("web"), PolicyArn: p.Policy.Arn}))
	att := must(e.iam.ListAttachedRolePolicies(e.ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("web")}))
	if len(att.AttachedPolicies) != 2 {
		t.Fatalf("attached %+v", att.AttachedPolicies)
	}
	gp := must(e.iam.GetPolicy(e.ctx, &iam.GetPolicyInput{PolicyArn: aws.String(ssm)}))
	if *gp.Policy.DefaultVersionId != "v2" || *gp.Policy.AttachmentCount != 1 {
		t.Fatalf("AWS policy %+v", gp.Policy)
	}
	v := must(e.iam.GetPolicyVersion(e.ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(ssm), VersionId: aws.String("v2")}))
	if doc, _ := url.QueryUnescape(*v.PolicyVersion.Document); !strings.Contains(doc, "ssmmessages:CreateControlChannel") {
		t.Fatalf("document %s", doc)
	}
	// Versions: up to five, the default cannot be deleted.
	for i := 0; i < 4; i++ {
		must(e.iam.CreatePolicyVersion(e.ctx, &iam.CreatePolicyVersionInput{PolicyArn: p.Policy.Arn, PolicyDocument: aws.String(allowS3), SetAsDefault: i == 3}))
	}
	if _, err := e.iam.CreatePolicyVersion(e.ctx, &iam.CreatePolicyVersionInput{PolicyArn: p.Policy.Arn, PolicyDocument: aws.String(allowS3)}); code(err) != "LimitExceeded" {
		t.Fatalf("sixth version: %v", err)
	}
	if _, err := e.iam.DeletePolicyVersion(e.ctx, &iam.DeletePolicyVersionInput{PolicyArn: p.Policy.Arn, VersionId: aws.String("v5")}); code(err) != "DeleteConflict" {
		t.Fatalf("delete default: %v", err)
	}
	vs := must(e.iam.ListPolicyVersions(e.ctx, &iam.ListPolicyVersionsInput{PolicyArn: p.Policy.Arn}))
	if len(vs.Versions) != 5 || *vs.Versions[0].VersionId != "v5" || !vs.Versions[0].IsDefaultVersion {
		t.Fatalf("versions %+v", vs.Versions)
	}
	// Instance profile: one role at most.
	must(e.iam.CreateInstanceProfile(e.ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web")}))
	must(e.iam.AddRoleToInstanceProfile(e.ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("web")}))
	if _, err := e.iam.AddRoleToInstanceProfile(e.ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("web")}); code(err) != "LimitExceeded" {
		t.Fatalf("second role: %v", err)
	}
	ip := must(e.iam.GetInstanceProfile(e.ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("web")}))
	if len(ip.InstanceProfile.Roles) != 1 || *ip.InstanceProfile.Roles[0].RoleName != "web" || !strings.HasPrefix(*ip.InstanceProfile.InstanceProfileId, "AIPA") {
		t.Fatalf("profile %+v", ip.InstanceProfile)
	}
	for _, step := range []struct {
		name string
		call func() error
		want string
	}{
		{"delete role in a profile", func() error {
			_, err := e.iam.DeleteRole(e.ctx, &iam.DeleteRoleInput{RoleName: aws.String("web")})
			return err
		}, "DeleteConflict"},
		{"delete attached policy", func() error {
			_, err := e.iam.DeletePolicy(e.ctx, &iam.DeletePolicyInput{PolicyArn: p.Policy.Arn})
			return err
		}, "DeleteConflict"},
		{"remove role", func() error {
			_, err := e.iam.RemoveRoleFromInstanceProfile(e.ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("web")})
			return err
		}, ""},
		{"delete role with policies", func() error {
			_, err := e.iam.DeleteRole(e.ctx, &iam.DeleteRoleInput{RoleName: aws.String("web")})
			return err
		}, "DeleteConflict"},
	} {
		if got := code(step.call()); got != step.want {
			t.Fatalf("%s: got %q, want %q", step.name, got, step.want)
		}
	}
	ents := must(e.iam.ListEntitiesForPolicy(e.ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(ssm)}))
	if len(ents.PolicyRoles) != 1 || *ents.PolicyRoles[0].RoleName != "web" {
		t.Fatalf("entities %+v", ents)
	}
	managed := must(e.iam.ListPolicies(e.ctx, &iam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeAws, MaxItems: awsInt(3)}))
	if len(managed.Policies) != 3 || !managed.IsTruncated || managed.Marker == nil {
		t.Fatalf("ListPolicies page %+v", managed)
	}
	// The SDK's paginator follows the markers through every AWS policy.
	var all []string
	for pg := iam.NewListPoliciesPaginator(e.iam, &iam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeAws, MaxItems: awsInt(5)}); pg.HasMorePages(); {
		for _, p := range must(pg.NextPage(e.ctx)).Policies {
			all = append(all, *p.PolicyName)
		}
	}
	if len(all) != 20 || !slices.IsSortedFunc(all, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) }) {
		t.Fatalf("paginated AWS policies: %v", all)
	}
	local := must(e.iam.ListPolicies(e.ctx, &iam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeLocal}))
	if len(local.Policies) != 1 || *local.Policies[0].AttachmentCount != 1 {
		t.Fatalf("local policies %+v", local.Policies)
	}
}

func awsInt(n int32) *int32 { return &n }

// TestErrors checks AWS's error codes for the usual mistakes.
func TestErrors(t *testing.T) {
	e := newEnv(t)
	must(e.iam.CreateUser(e.ctx, &iam.CreateUserInput{UserName: aws.String("bob")}))
	must(e.iam.CreateGroup(e.ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")}))
	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"duplicate user, other case", func() error {
			_, err := e.iam.CreateUser(e.ctx, &iam.CreateUserInput{UserName: aws.String("BOB")})
			return err
		}, "EntityAlreadyExists"},
		{"bad user name", func() error {
			_, err := e.iam.CreateUser(e.ctx, &iam.CreateUserInput{UserName: aws.String("a b")})
			return err
		}, "ValidationError"},
		{"bad path", func() error {
			_, err := e.iam.CreateUser(e.ctx, &iam.CreateUserInput{UserName: aws.String("c"), Path: aws.String("nope")})
			return err
		}, "ValidationError"},
		{"unknown user", func() error {
			_, err := e.iam.GetUser(e.ctx, &iam.GetUserInput{UserName: aws.String("nobody")})
			return err
		}, "NoSuchEntity"},
		{"malformed policy", func() error {
			_, err := e.iam.PutUserPolicy(e.ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("p"), PolicyDocument: aws.String("{nope")})
			return err
		}, "MalformedPolicyDocument"},
		{"inline too big for a user", func() error {
			big := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + strings.Repeat("a", 2100) + `"}]}`
			_, err := e.iam.PutUserPolicy(e.ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("p"), PolicyDocument: aws.String(big)})
			return err
		}, "LimitExceeded"},
		{"attach unknown policy", func() error {
			_, err := e.iam.AttachUserPolicy(e.ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String("arn:aws:iam::aws:policy/NoSuchPolicy")})
			return err
		}, "NoSuchEntity"},
		{"attach bad arn", func() error {
			_, err := e.iam.AttachUserPolicy(e.ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String("arn:nope")})
			return err
		}, "InvalidInput"},
		{"detach not attached", func() error {
			_, err := e.iam.DetachUserPolicy(e.ctx, &iam.DetachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")})
			return err
		}, "NoSuchEntity"},
		{"max session too long", func() error {
			_, err := e.iam.CreateRole(e.ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trust), MaxSessionDuration: awsInt(43201)})
			return err
		}, "ValidationError"},
		{"boundary unknown", func() error {
			_, err := e.iam.PutUserPermissionsBoundary(e.ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("bob"), PermissionsBoundary: aws.String("arn:aws:iam::111111111111:policy/none")})
			return err
		}, "NoSuchEntity"},
		{"remove non-member", func() error {
			_, err := e.iam.RemoveUserFromGroup(e.ctx, &iam.RemoveUserFromGroupInput{UserName: aws.String("bob"), GroupName: aws.String("devs")})
			return err
		}, "NoSuchEntity"},
		{"GetUser as root is the root", func() error {
			_, err := e.iam.GetUser(e.ctx, &iam.GetUserInput{})
			return err
		}, ""},
		{"access key without user as root", func() error {
			_, err := e.iam.CreateAccessKey(e.ctx, &iam.CreateAccessKeyInput{})
			return err
		}, "ValidationError"},
		{"modify AWS managed policy", func() error {
			_, err := e.iam.CreatePolicyVersion(e.ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess"), PolicyDocument: aws.String(allowS3)})
			return err
		}, "AccessDenied"},
		{"max items out of range", func() error {
			_, err := e.iam.ListUsers(e.ctx, &iam.ListUsersInput{MaxItems: awsInt(1001)})
			return err
		}, "ValidationError"},
		{"trust policy without a principal", func() error {
			_, err := e.iam.CreateRole(e.ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(allowS3)})
			return err
		}, "MalformedPolicyDocument"},
		{"identity policy with a principal", func() error {
			_, err := e.iam.CreatePolicy(e.ctx, &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(trust)})
			return err
		}, "MalformedPolicyDocument"},
		{"managed policy too big", func() error {
			big := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + strings.Repeat("a", 6200) + `"}]}`
			_, err := e.iam.CreatePolicy(e.ctx, &iam.CreatePolicyInput{PolicyName: aws.String("big"), PolicyDocument: aws.String(big)})
			return err
		}, "LimitExceeded"},
		{"policy name too long", func() error {
			_, err := e.iam.CreatePolicy(e.ctx, &iam.CreatePolicyInput{PolicyName: aws.String(strings.Repeat("p", 129)), PolicyDocument: aws.String(allowS3)})
			return err
		}, "ValidationError"},
		{"duplicate tag keys", func() error {
			_, err := e.iam.TagUser(e.ctx, &iam.TagUserInput{UserName: aws.String("bob"), Tags: []iamtypes.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("A"), Value: aws.String("2")}}})
			return err
		}, "InvalidInput"},
		{"more than 50 tags", func() error {
			var tags []iamtypes.Tag
			for i := range 51 {
				tags = append(tags, iamtypes.Tag{Key: aws.String(strings.Repeat("k", i+1)), Value: aws.String("v")})
			}
			_, err := e.iam.TagUser(e.ctx, &iam.TagUserInput{UserName: aws.String("bob"), Tags: tags})
			return err
		}, "LimitExceeded"},
		{"access key status", func() error {
			_, err := e.iam.UpdateAccessKey(e.ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String("AKIAXXXXXXXXXXXXXXXX"), Status: "Paused"})
			return err
		}, "ValidationError"},
		{"unknown access key", func() error {
			_, err := e.iam.DeleteAccessKey(e.ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String("AKIAXXXXXXXXXXXXXXXX")})
			return err
		}, "NoSuchEntity"},
		{"no login profile", func() error {
			_, err := e.iam.GetLoginProfile(e.ctx, &iam.GetLoginProfileInput{UserName: aws.String("bob")})
			return err
		}, "NoSuchEntity"},
		{"bad account alias", func() error {
			_, err := e.iam.CreateAccountAlias(e.ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("Bad_Alias")})
			return err
		}, "ValidationError"},
		{"custom suffix for ELB's linked role", func() error {
			_, err := e.iam.CreateServiceLinkedRole(e.ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("elasticloadbalancing.amazonaws.com"), CustomSuffix: aws.String("x")})
			return err
		}, "InvalidInput"},
		{"unknown policy version", func() error {
			_, err := e.iam.GetPolicyVersion(e.ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess"), VersionId: aws.String("v9")})
			return err
		}, "NoSuchEntity"},
		{"policy of another account", func() error {
			_, err := e.iam.GetPolicy(e.ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::999999999999:policy/x")})
			return err
		}, "NoSuchEntity"},
		{"operation minicloud does not implement", func() error {
			_, err := e.iam.ListMFADevices(e.ctx, &iam.ListMFADevicesInput{})
			return err
		}, "NotImplemented"},
		{"unknown service-linked role service", func() error {
			_, err := e.iam.CreateServiceLinkedRole(e.ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("nope.amazonaws.com")})
			return err
		}, "InvalidInput"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := code(tc.call()); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestQuotas: two access keys per user, ten managed policies per entity,
// one login profile.
func TestQuotas(t *testing.T) {
	e := newEnv(t)
	must(e.iam.CreateUser(e.ctx, &iam.CreateUserInput{UserName: aws.String("dave")}))
	for i := range 3 {
		_, err := e.iam.CreateAccessKey(e.ctx, &iam.CreateAccessKeyInput{UserName: aws.String("dave")})
		if want := map[bool]string{true: "", false: "LimitExceeded"}[i < 2]; code(err) != want {
			t.Fatalf("key %d: %v", i+1, err)
		}
	}
	for i := range 11 {
		p := must(e.iam.CreatePolicy(e.ctx, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("p%d", i)), PolicyDocument: aws.String(allowS3)}))
		_, err := e.iam.AttachUserPolicy(e.ctx, &iam.AttachUserPolicyInput{UserName: aws.String("dave"), PolicyArn: p.Policy.Arn})
		if want := map[bool]string{true: "", false: "LimitExceeded"}[i < 10]; code(err) != want {
			t.Fatalf("policy %d: %v", i+1, err)
		}
	}
	must(e.iam.CreateLoginProfile(e.ctx, &iam.CreateLoginProfileInput{UserName: aws.String("dave"), Password: aws.String("Secret-123")}))
	if _, err := e.iam.CreateLoginProfile(e.ctx, &iam.CreateLoginProfileInput{UserName: aws.String("dave"), Password: aws.String("Secret-123")}); code(err) != "EntityAlreadyExists" {
		t.Fatalf("second login profile: %v", err)
	}
	if _, err := e.iam.DeleteUser(e.ctx, &iam.DeleteUserInput{UserName: aws.String("dave")}); code(err) != "DeleteConflict" {
		t.Fatalf("delete user with keys: %v", err)
	}
}

// TestGroupsAndAccount covers membership, DeleteConflict for groups, the
// authorization details and service-linked roles.
func TestGroupsAndAccount(t *testing.T) {
	e := newEnv(t)
	must(e.iam.CreateUser(e.ctx, &iam.CreateUserInput{UserName: aws.String("carol")}))
	must(e.iam.CreateGroup(e.ctx, &iam.CreateGroupInput{GroupName: aws.String("ops")}))
	must(e.iam.AddUserToGroup(e.ctx, &iam.AddUserToGroupInput{UserName: aws.String("carol"), GroupName: aws.String("ops")}))
	must(e.iam.PutGroupPolicy(e.ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("ops"), PolicyName: aws.String("s3"), PolicyDocument: aws.String(allowS3)}))
	g := must(e.iam.GetGroup(e.ctx, &iam.GetGroupInput{GroupName: aws.String("ops")}))
	if len(g.Users) != 1 || *g.Users[0].UserName != "carol" {
		t.Fatalf("members %+v", g.Users)
	}
	must(e.iam.UpdateGroup(e.ctx, &iam.UpdateGroupInput{GroupName: aws.String("ops"), NewGroupName: aws.String("sre")}))
	must(e.iam.UpdateGroup(e.ctx, &iam.UpdateGroupInput{GroupName: aws.String("sre"), NewGroupName: aws.String("ops")}))
	if fu := must(e.iam.ListGroupsForUser(e.ctx, &iam.ListGroupsForUserInput{UserName: aws.String("carol")})); len(fu.Groups) != 1 || *fu.Groups[0].GroupName != "ops" {
		t.Fatalf("groups after rename %+v", fu.Groups)
	}
	if _, err := e.iam.DeleteGroup(e.ctx, &iam.DeleteGroupInput{GroupName: aws.String("ops")}); code(err) != "DeleteConflict" {
		t.Fatalf("delete group with members: %v", err)
	}
	if _, err := e.iam.DeleteUser(e.ctx, &iam.DeleteUserInput{UserName: aws.String("carol")}); code(err) != "DeleteConflict" {
		t.Fatalf("delete user in group: %v", err)
	}
	gp := must(e.iam.GetGroupPolicy(e.ctx, &iam.GetGroupPolicyInput{GroupName: aws.String("ops"), PolicyName: aws.String("s3")}))
	if doc, _ := url.QueryUnescape(*gp.PolicyDocument); doc != allowS3 {
		t.Fatalf("group policy %s", doc)
	}
	slr := must(e.iam.CreateServiceLinkedRole(e.ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("elasticloadbalancing.amazonaws.com")}))
	if *slr.Role.RoleName != "AWSServiceRoleForElasticLoadBalancing" || *slr.Role.Path != "/aws-service-role/elasticloadbalancing.amazonaws.com/" {
		t.Fatalf("SLR %+v", slr.Role)
	}
	if _, err := e.iam.DeleteRole(e.ctx, &iam.DeleteRoleInput{RoleName: slr.Role.RoleName}); code(err) != "UnmodifiableEntity" {
		t.Fatalf("DeleteRole on SLR: %v", err)
	}
	details := must(e.iam.GetAccountAuthorizationDetails(e.ctx, &iam.GetAccountAuthorizationDetailsInput{}))
	if len(details.UserDetailList) != 1 || len(details.GroupDetailList) != 1 || len(details.RoleDetailList) != 1 || len(details.Policies) != 1 ||
		details.UserDetailList[0].GroupList[0] != "ops" {
		t.Fatalf("details %+v", details)
	}
	paged := must(e.iam.GetAccountAuthorizationDetails(e.ctx, &iam.GetAccountAuthorizationDetailsInput{MaxItems: awsInt(2)}))
	if !paged.IsTruncated || len(paged.UserDetailList)+len(paged.GroupDetailList) != 2 {
		t.Fatalf("paged details %+v", paged)
	}
	del := must(e.iam.DeleteServiceLinkedRole(e.ctx, &iam.DeleteServiceLinkedRoleInput{RoleName: slr.Role.RoleName}))
	st := must(e.iam.GetServiceLinkedRoleDeletionStatus(e.ctx, &iam.GetServiceLinkedRoleDeletionStatusInput{DeletionTaskId: del.DeletionTaskId}))
	if st.Status != iamtypes.DeletionTaskStatusTypeSucceeded {
		t.Fatalf("deletion %s", st.Status)
	}
	must(e.iam.CreateAccountAlias(e.ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("my-corp")}))
	al := must(e.iam.ListAccountAliases(e.ctx, &iam.ListAccountAliasesInput{}))
	if len(al.AccountAliases) != 1 || al.AccountAliases[0] != "my-corp" {
		t.Fatalf("aliases %v", al.AccountAliases)
	}
	sum := must(e.iam.GetAccountSummary(e.ctx, &iam.GetAccountSummaryInput{}))
	if sum.SummaryMap["Users"] != 1 || sum.SummaryMap["Groups"] != 1 || sum.SummaryMap["AccessKeysPerUserQuota"] != 2 {
		t.Fatalf("summary %v", sum.SummaryMap)
	}
}
