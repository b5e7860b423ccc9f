package authz_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/minicloud/minicloud/internal/oidc"
	"github.com/minicloud/minicloud/internal/sdktest"
)

// mint asks the server's OIDC issuer for a token.
func mint(t *testing.T, base, sub string, ttl int, aud ...string) string {
	t.Helper()
	q := url.Values{"sub": {sub}, "aud": aud, "ttl": {strconv.Itoa(ttl)}}
	req, err := http.NewRequest(http.MethodPost, base+oidc.TokenPath+"?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := sdktest.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mint: %s %s", resp.Status, b)
	}
	return strings.TrimSpace(string(b))
}

const (
	issuerHost = "oidc.minicloud.localhost"
	webTrust   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::` + account + `:oidc-provider/` + issuerHost + `"},` +
		`"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + issuerHost + `:aud":"sts.amazonaws.com"},"StringLike":{"` + issuerHost + `:sub":"repo:org/app:*"}}}]}`
)

// TestAssumeRoleWithWebIdentity: with IAM enforced, a token of
// minicloud's issuer, registered as an OIDC provider, assumes a role whose
// trust policy allows the provider with the token's sub and aud — in an
// unsigned call, as the SDKs make it — and the session acts with the
// role's policies; every other token is refused with AWS's error.
func TestAssumeRoleWithWebIdentity(t *testing.T) {
	ctx := context.Background()
	base := enforcing(t, true)
	admin := iam.NewFromConfig(cfgFor(base, rootKey, rootSecret, ""))
	must(admin.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String(oidc.IssuerURL), ClientIDList: []string{"sts.amazonaws.com"}}))
	// A provider minicloud cannot reach the keys of.
	must(admin.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://token.actions.githubusercontent.com"), ClientIDList: []string{"sts.amazonaws.com"}}))
	role := *must(admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deploy"), Path: aws.String("/ci/"), AssumeRolePolicyDocument: aws.String(webTrust)})).Role.Arn
	must(admin.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("deploy"), PolicyName: aws.String("p"), PolicyDocument: aws.String(describeOnly)}))

	anon := cfgFor(base, "", "", "")
	anon.Credentials = aws.AnonymousCredentials{}
	assume := func(token string) (*sts.AssumeRoleWithWebIdentityOutput, error) {
		return sts.NewFromConfig(anon).AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
			RoleArn: aws.String(role), RoleSessionName: aws.String("gh"), WebIdentityToken: aws.String(token)})
	}

	out, err := assume(mint(t, base, "repo:org/app:ref:refs/heads/main", 600, "sts.amazonaws.com"))
	if err != nil {
		t.Fatal(err)
	}
	sessionARN := "arn:aws:sts::" + account + ":assumed-role/deploy/gh"
	if *out.AssumedRoleUser.Arn != sessionARN || *out.SubjectFromWebIdentityToken != "repo:org/app:ref:refs/heads/main" ||
		*out.Provider != "arn:aws:iam::"+account+":oidc-provider/"+issuerHost || *out.Audience != "sts.amazonaws.com" {
		t.Fatalf("answer %+v %+v", out, out.AssumedRoleUser)
	}
	c := out.Credentials
	sess := cfgFor(base, *c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
	if id := must(sts.NewFromConfig(sess).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})); *id.Arn != sessionARN {
		t.Fatalf("caller %s", *id.Arn)
	}
	must(ec2.NewFromConfig(sess).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}))
	_, err = ec2.NewFromConfig(sess).RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12345678"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if ae := apiError(t, err); ae.ErrorCode() != "UnauthorizedOperation" || !strings.Contains(ae.ErrorMessage(), "User: "+sessionARN+" is not authorized") {
		t.Fatalf("RunInstances as the session: %v", err)
	}

	// The SDK's own web identity provider (EKS's AWS_WEB_IDENTITY_TOKEN_FILE)
	// works against minicloud with a token file.
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(mint(t, base, "repo:org/app:ref:refs/heads/main", 600)), 0o600); err != nil {
		t.Fatal(err)
	}
	viaFile := cfgFor(base, "", "", "")
	viaFile.Credentials = aws.NewCredentialsCache(stscreds.NewWebIdentityRoleProvider(sts.NewFromConfig(anon), role, stscreds.IdentityTokenFile(tokenFile),
		func(o *stscreds.WebIdentityRoleOptions) { o.RoleSessionName = "gh" }))
	if id := must(sts.NewFromConfig(viaFile).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})); *id.Arn != sessionARN {
		t.Fatalf("caller through the token file %s", *id.Arn)
	}

	// CloudTrail records the call in the role's account as AWS does.
	id := trailIdentity(t, cfgFor(base, rootKey, rootSecret, ""), "AssumeRoleWithWebIdentity")
	if id["type"] != "WebIdentityUser" || id["userName"] != "repo:org/app:ref:refs/heads/main" || id["identityProvider"] != *out.Provider ||
		id["principalId"] != *out.Provider+":sts.amazonaws.com:repo:org/app:ref:refs/heads/main" {
		t.Errorf("CloudTrail's userIdentity %v", id)
	}

	good := mint(t, base, "repo:org/app:ref:refs/heads/main", 600)
	parts := strings.Split(good, ".")
	short := mint(t, base, "repo:org/app:x", 1)
	time.Sleep(1100 * time.Millisecond)
	for _, tc := range []struct {
		name, token, code, msg string
	}{
		{"a subject the trust policy does not allow", mint(t, base, "repo:other/app:x", 600), "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity"},
		{"an audience not a client ID", mint(t, base, "repo:org/app:x", 600, "api://other"), "InvalidIdentityToken", "Incorrect token audience"},
		{"not a JWT", "abc.def", "InvalidIdentityToken", "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)"},
		{"a changed token", withIssuer(parts, oidc.IssuerURL), "InvalidIdentityToken", "The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request."},
		{"an expired token", short, "ExpiredTokenException", "Token expired: current date/time "},
		{"another issuer's token", withIssuer(parts, "https://token.actions.githubusercontent.com"), "InvalidIdentityToken",
			"Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := assume(tc.token)
			if ae := apiError(t, err); ae.ErrorCode() != tc.code || !strings.HasPrefix(ae.ErrorMessage(), tc.msg) {
				t.Errorf("got %s: %q, want %s: %q", ae.ErrorCode(), ae.ErrorMessage(), tc.code, tc.msg)
			}
		})
	}

	must(admin.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: out.Provider}))
	_, err = assume(good)
	if ae := apiError(t, err); ae.ErrorCode() != "InvalidIdentityToken" || ae.ErrorMessage() != "No OpenIDConnect provider found in your account for "+oidc.IssuerURL {
		t.Errorf("with the provider deleted: %v", err)
	}
}

// withIssuer is parts' token with other claims of issuer iss under the
// same signature, which is then not theirs.
func withIssuer(parts []string, iss string) string {
	p, _ := json.Marshal(map[string]any{"iss": iss, "sub": "repo:org/app:forged", "aud": "sts.amazonaws.com",
		"exp": time.Now().Add(time.Hour).Unix()})
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(p) + "." + parts[2]
}

// TestOIDCProviders: IAM's OpenID Connect provider operations and their
// errors.
func TestOIDCProviders(t *testing.T) {
	ctx := context.Background()
	admin := iam.NewFromConfig(cfgFor(enforcing(t, false), rootKey, rootSecret, ""))
	arn := *must(admin.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://example.com/id/1"),
		ClientIDList: []string{"a", "a"}, ThumbprintList: []string{strings.Repeat("b", 40)}})).OpenIDConnectProviderArn
	if arn != "arn:aws:iam::"+account+":oidc-provider/example.com/id/1" {
		t.Fatalf("ARN %s", arn)
	}
	on := aws.String(arn)
	must(admin.AddClientIDToOpenIDConnectProvider(ctx, &iam.AddClientIDToOpenIDConnectProviderInput{OpenIDConnectProviderArn: on, ClientID: aws.String("b")}))
	must(admin.RemoveClientIDFromOpenIDConnectProvider(ctx, &iam.RemoveClientIDFromOpenIDConnectProviderInput{OpenIDConnectProviderArn: on, ClientID: aws.String("a")}))
	must(admin.UpdateOpenIDConnectProviderThumbprint(ctx, &iam.UpdateOpenIDConnectProviderThumbprintInput{OpenIDConnectProviderArn: on, ThumbprintList: []string{strings.Repeat("c", 40)}}))
	must(admin.TagOpenIDConnectProvider(ctx, &iam.TagOpenIDConnectProviderInput{OpenIDConnectProviderArn: on, Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("ci")}}}))
	got := must(admin.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: on}))
	if *got.Url != "example.com/id/1" || strings.Join(got.ClientIDList, ",") != "b" || got.ThumbprintList[0] != strings.Repeat("c", 40) || len(got.Tags) != 1 {
		t.Fatalf("provider %+v", got)
	}
	if l := must(admin.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})); len(l.OpenIDConnectProviderList) != 1 {
		t.Fatalf("list %+v", l)
	}
	if sum := must(admin.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})); sum.SummaryMap["Providers"] != 1 {
		t.Fatalf("GetAccountSummary's Providers %d", sum.SummaryMap["Providers"])
	}
	for _, tc := range []struct {
		name, code, msg string
		call            func() error
	}{
		{"the same URL again", "EntityAlreadyExists", "Provider with url https://example.com/id/1 already exists.", func() error {
			_, err := admin.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://example.com/id/1")})
			return err
		}},
		{"an http URL", "InvalidInput", "Invalid Open ID Connect Provider URL.", func() error {
			_, err := admin.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("http://example.com")})
			return err
		}},
		{"a port", "InvalidInput", "Invalid Open ID Connect Provider URL.", func() error {
			_, err := admin.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://example.com:8443")})
			return err
		}},
		{"a short thumbprint", "InvalidInput", "Thumbprint must be exactly 40 characters.", func() error {
			_, err := admin.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://x.example"), ThumbprintList: []string{"ab"}})
			return err
		}},
		{"a provider that does not exist", "NoSuchEntity", "OpenIDConnect Provider not found for arn " + arn + "x", func() error {
			_, err := admin.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn + "x")})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if ae := apiError(t, tc.call()); ae.ErrorCode() != tc.code || ae.ErrorMessage() != tc.msg {
				t.Errorf("got %s: %q, want %s: %q", ae.ErrorCode(), ae.ErrorMessage(), tc.code, tc.msg)
			}
		})
	}
	// Deleting is idempotent, as AWS documents.
	for range 2 {
		must(admin.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: on}))
	}
}

const fedUserPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:Describe*","sts:GetFederationToken","sts:DecodeAuthorizationMessage"],"Resource":"*"}]}`

// TestGetFederationToken: a federated user's credentials act with the
// intersection of its IAM user's policies and the session policy; without
// a session policy they may do nothing; session credentials cannot ask
// for one; CloudTrail records the federated user.
func TestGetFederationToken(t *testing.T) {
	ctx := context.Background()
	base := enforcing(t, true)
	admin := iam.NewFromConfig(cfgFor(base, rootKey, rootSecret, ""))
	proxy := user(t, base, admin, "proxy", fedUserPolicy, "")
	session := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:DescribeVpcs","ec2:RunInstances"],"Resource":"*"}]}`
	fed := func(name string, policy *string) aws.Config {
		t.Helper()
		out := must(sts.NewFromConfig(proxy).GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String(name), Policy: policy, DurationSeconds: aws.Int32(900)}))
		if want := "arn:aws:sts::" + account + ":federated-user/" + name; *out.FederatedUser.Arn != want || *out.FederatedUser.FederatedUserId != account+":"+name {
			t.Fatalf("federated user %+v", out.FederatedUser)
		}
		c := out.Credentials
		return cfgFor(base, *c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
	}
	bob := fed("bob", aws.String(session))
	bobARN := "arn:aws:sts::" + account + ":federated-user/bob"
	if id := must(sts.NewFromConfig(bob).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})); *id.Arn != bobARN || *id.UserId != account+":bob" {
		t.Fatalf("caller %+v", id)
	}
	must(ec2.NewFromConfig(bob).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}))
	nobody := fed("nobody", nil)
	for _, tc := range []struct {
		name, code, msg string
		call            func() error
	}{
		{"past the session policy", "UnauthorizedOperation", "User: " + bobARN + " is not authorized to perform: ec2:DescribeSubnets because no session policy allows the ec2:DescribeSubnets action",
			func() error {
				_, err := ec2.NewFromConfig(bob).DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
				return err
			}},
		{"past the user's policies", "UnauthorizedOperation", "User: " + bobARN + " is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:us-east-1:" + account + ":instance/* because no identity-based policy allows the ec2:RunInstances action",
			func() error {
				_, err := ec2.NewFromConfig(bob).RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12345678"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: ec2types.InstanceTypeT3Micro})
				return err
			}},
		{"no session policy", "UnauthorizedOperation", "User: arn:aws:sts::" + account + ":federated-user/nobody is not authorized to perform: ec2:DescribeVpcs because no session policy allows the ec2:DescribeVpcs action",
			func() error {
				_, err := ec2.NewFromConfig(nobody).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
				return err
			}},
		{"too long", "ValidationError", "1 validation error detected: Value '129601' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 129600",
			func() error {
				_, err := sts.NewFromConfig(proxy).GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("x1"), DurationSeconds: aws.Int32(129601)})
				return err
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if ae := apiError(t, tc.call()); ae.ErrorCode() != tc.code || !strings.HasPrefix(stripEC2(ae.ErrorMessage()), tc.msg) {
				t.Errorf("got %s: %q, want %s: %q", ae.ErrorCode(), ae.ErrorMessage(), tc.code, tc.msg)
			}
		})
	}

	// Session credentials may not federate (the root's, unlike a role's,
	// are not checked against a policy first).
	root := cfgFor(base, rootKey, rootSecret, "")
	rs := must(sts.NewFromConfig(root).GetSessionToken(ctx, &sts.GetSessionTokenInput{})).Credentials
	_, err := sts.NewFromConfig(cfgFor(base, *rs.AccessKeyId, *rs.SecretAccessKey, *rs.SessionToken)).GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("x2")})
	if ae := apiError(t, err); ae.ErrorCode() != "AccessDenied" || ae.ErrorMessage() != "Cannot call GetFederationToken with session credentials" {
		t.Errorf("from session credentials: %v", err)
	}

	id := trailIdentity(t, root, "DescribeSubnets")
	issuer, _ := id["sessionContext"].(map[string]any)["sessionIssuer"].(map[string]any)
	if id["type"] != "FederatedUser" || id["arn"] != bobARN || issuer["type"] != "IAMUser" || issuer["arn"] != "arn:aws:iam::"+account+":user/proxy" {
		t.Errorf("CloudTrail's userIdentity %v", id)
	}
}

// trailIdentity is the userIdentity of the newest event named name in
// LookupEvents, waiting for CloudTrail to write it.
func trailIdentity(t *testing.T, cfg aws.Config, name string) map[string]any {
	t.Helper()
	trail := cloudtrail.NewFromConfig(cfg)
	for range 100 {
		out := must(trail.LookupEvents(context.Background(), &cloudtrail.LookupEventsInput{
			LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String(name)}}}))
		if len(out.Events) > 0 {
			var ev struct{ UserIdentity map[string]any }
			if err := json.Unmarshal([]byte(*out.Events[0].CloudTrailEvent), &ev); err != nil {
				t.Fatal(err)
			}
			return ev.UserIdentity
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %s event", name)
	return nil
}

// stripEC2 is an EC2 refusal's message without EC2's words around it.
func stripEC2(msg string) string {
	return strings.TrimPrefix(msg, "You are not authorized to perform this operation. ")
}

// TestDecodeAuthorizationMessage: EC2's encoded message is opaque and
// sts:DecodeAuthorizationMessage answers what it holds, as AWS documents
// the decoded message, to a caller allowed to ask.
func TestDecodeAuthorizationMessage(t *testing.T) {
	ctx := context.Background()
	base := enforcing(t, true)
	admin := iam.NewFromConfig(cfgFor(base, rootKey, rootSecret, ""))
	alice := user(t, base, admin, "alice", fedUserPolicy, "")
	other := user(t, base, admin, "other", describeOnly, "")
	_, err := ec2.NewFromConfig(alice).RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12345678"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	msg := apiError(t, err).ErrorMessage()
	const marker = "Encoded authorization failure message: "
	encoded := msg[strings.Index(msg, marker)+len(marker):]
	if strings.Contains(encoded, "RunInstances") || strings.Contains(encoded, "alice") {
		t.Fatalf("the message is readable: %s", encoded)
	}
	out := must(sts.NewFromConfig(alice).DecodeAuthorizationMessage(ctx, &sts.DecodeAuthorizationMessageInput{EncodedMessage: aws.String(encoded)}))
	var doc struct {
		Allowed, ExplicitDeny bool
		MatchedStatements     struct{ Items []any }
		Context               struct {
			Principal        struct{ ID, Name, Arn string }
			Action, Resource string
			Conditions       struct{ Items []struct{ Key string } }
		}
	}
	if err := json.Unmarshal([]byte(*out.DecodedMessage), &doc); err != nil {
		t.Fatalf("%v: %s", err, *out.DecodedMessage)
	}
	c := doc.Context
	if doc.Allowed || doc.ExplicitDeny || c.Action != "ec2:RunInstances" || c.Resource != "arn:aws:ec2:us-east-1:"+account+":instance/*" ||
		c.Principal.Arn != "arn:aws:iam::"+account+":user/alice" || c.Principal.Name != "alice" || !strings.Contains(*out.DecodedMessage, `"key":"aws:RequestedRegion"`) {
		t.Errorf("decoded %s", *out.DecodedMessage)
	}
	_, err = sts.NewFromConfig(alice).DecodeAuthorizationMessage(ctx, &sts.DecodeAuthorizationMessageInput{EncodedMessage: aws.String("bm90IG1pbmU")})
	if ae := apiError(t, err); ae.ErrorCode() != "InvalidAuthorizationMessageException" {
		t.Errorf("a message minicloud did not write: %v", err)
	}
	_, err = sts.NewFromConfig(other).DecodeAuthorizationMessage(ctx, &sts.DecodeAuthorizationMessageInput{EncodedMessage: aws.String(encoded)})
	if ae := apiError(t, err); ae.ErrorCode() != "AccessDenied" || !strings.Contains(ae.ErrorMessage(), "sts:DecodeAuthorizationMessage") {
		t.Errorf("a caller not allowed to decode: %v", err)
	}
}

// TestPathARNs: the principal ARN enforcement evaluates and writes in its
// messages keeps an IAM user's path, as AWS's does, and so does the
// resource ARN of a user a request names by name; an assumed-role
// session's ARN has none, whatever the role's path.
func TestPathARNs(t *testing.T) {
	ctx := context.Background()
	base := enforcing(t, true)
	admin := iam.NewFromConfig(cfgFor(base, rootKey, rootSecret, ""))
	userARN := "arn:aws:iam::" + account + ":user/eng/team/carol"
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + userARN + `"},"Action":"sts:AssumeRole"}]}`
	must(admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("carol"), Path: aws.String("/eng/team/")}))
	must(admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("carol"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"},` +
			`{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::` + account + `:user/eng/*"}]}`)}))
	must(admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dave")}))
	k := must(admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("carol")})).AccessKey
	carol := cfgFor(base, *k.AccessKeyId, *k.SecretAccessKey, "")
	role := *must(admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ops"), Path: aws.String("/teams/"), AssumeRolePolicyDocument: aws.String(trust)})).Role.Arn

	_, err := iam.NewFromConfig(carol).ListUsers(ctx, &iam.ListUsersInput{})
	if ae := apiError(t, err); !strings.HasPrefix(ae.ErrorMessage(), "User: "+userARN+" is not authorized to perform: iam:ListUsers") {
		t.Errorf("the user's refusal: %q", ae.ErrorMessage())
	}
	// The resource a request names by name is evaluated with its path.
	must(iam.NewFromConfig(carol).GetUser(ctx, &iam.GetUserInput{UserName: aws.String("carol")}))
	_, err = iam.NewFromConfig(carol).GetUser(ctx, &iam.GetUserInput{UserName: aws.String("dave")})
	if ae := apiError(t, err); !strings.Contains(ae.ErrorMessage(), "iam:GetUser on resource: arn:aws:iam::"+account+":user/dave because") {
		t.Errorf("GetUser of a user outside the path: %q", ae.ErrorMessage())
	}
	c := must(sts.NewFromConfig(carol).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("s1")})).Credentials
	sess := cfgFor(base, *c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
	_, err = iam.NewFromConfig(sess).ListUsers(ctx, &iam.ListUsersInput{})
	if ae := apiError(t, err); !strings.HasPrefix(ae.ErrorMessage(), "User: arn:aws:sts::"+account+":assumed-role/ops/s1 is not authorized") {
		t.Errorf("the session's refusal: %q", ae.ErrorMessage())
	}
}

// TestSimulatePositions: the simulator's MatchedStatements say where the
// deciding statement is, as AWS's documented example answers.
func TestSimulatePositions(t *testing.T) {
	ctx := context.Background()
	admin := iam.NewFromConfig(cfgFor(enforcing(t, false), rootKey, rootSecret, ""))
	doc := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}`
	out := must(admin.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{PolicyInputList: []string{doc}, ActionNames: []string{"dynamodb:CreateBackup"},
		ContextEntries: []iamtypes.ContextEntry{{ContextKeyName: aws.String("aws:CurrentTime"), ContextKeyValues: []string{"2019-04-25T11:00:00Z"}, ContextKeyType: "date"}}}))
	m := out.EvaluationResults[0].MatchedStatements
	if len(m) != 1 || *m[0].SourcePolicyId != "PolicyInputList.1" || m[0].StartPosition.Line != 1 || m[0].StartPosition.Column != 38 ||
		m[0].EndPosition.Line != 1 || m[0].EndPosition.Column != 167 {
		t.Fatalf("matched %+v", m)
	}
}
