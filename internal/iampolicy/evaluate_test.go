package iampolicy

import (
	"fmt"
	"strings"
	"testing"
)

type evalCase struct {
	name      string
	principal Principal
	action    string
	resources []string
	identity  []string
	resource  string // resource policy document ("" none)
	resKind   Kind   // Resource unless set to Trust
	resAcct   string
	boundary  string
	session   []string
	scps      [][]string
	ctx       Context
	mustAllow bool
	endpoint  string // VPC endpoint policy document ("" none)

	want     Outcome
	wantType PolicyType
	wantSid  string // checked when set
}

func (c evalCase) run(t *testing.T) Decision {
	t.Helper()
	set := PolicySet{ResourceAccount: c.resAcct, ResourceMustAllow: c.mustAllow}
	for i, d := range c.identity {
		set.Identity = append(set.Identity, pol(t, Identity, fmt.Sprintf("identity%d", i), d))
	}
	if c.resource != "" {
		k := Resource
		if c.resKind == Trust {
			k = Trust
		}
		set.ResourcePolicy = pol(t, k, "resource", c.resource)
	}
	if c.boundary != "" {
		set.Boundary = pol(t, Boundary, "boundary", c.boundary)
	}
	for i, d := range c.session {
		set.Session = append(set.Session, pol(t, Session, fmt.Sprintf("session%d", i), d))
	}
	for i, level := range c.scps {
		var ps []*Policy
		for j, d := range level {
			ps = append(ps, pol(t, SCP, fmt.Sprintf("scp%d-%d", i, j), d))
		}
		set.SCPs = append(set.SCPs, ps)
	}
	if c.endpoint != "" {
		set.Endpoint = pol(t, Resource, "endpoint", c.endpoint)
	}
	return Evaluate(Request{Principal: c.principal, Action: c.action, Resources: c.resources, Context: c.ctx}, set)
}

const (
	bucket    = "arn:aws:s3:::amzn-s3-demo-bucket"
	object    = "arn:aws:s3:::amzn-s3-demo-bucket/report.csv"
	fullAWS   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	bobARN    = `{"AWS":"arn:aws:iam::111122223333:user/bob"}`
	devRole   = `{"AWS":"arn:aws:iam::111122223333:role/Dev"}`
	devSess   = `{"AWS":"arn:aws:sts::111122223333:assumed-role/Dev/alice"}`
	acctRoot  = `{"AWS":"arn:aws:iam::111122223333:root"}`
	acctBare  = `{"AWS":"111122223333"}`
	otherRoot = `{"AWS":"arn:aws:iam::444455556666:root"}`
)

// TestEvaluate walks the cases of "Policy evaluation logic", "Policy
// evaluation for requests within a single account" (its flow charts for a
// user and a role), "Cross-account policy evaluation logic", "Permissions
// boundaries for IAM entities" (its resource-based policy table), "Session
// policies" and "Service control policies", each named in the case.
func TestEvaluate(t *testing.T) {
	get := allowDoc("s3:GetObject", object)
	cases := []evalCase{
		// --- Policy evaluation logic: the default and explicit deny.
		{name: "default deny", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			want: ImplicitDeny, wantType: IdentityBased},
		{name: "identity allow", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			identity: []string{get}, want: Allowed, wantType: IdentityBased, wantSid: "A"},
		{name: "identity allow other resource", principal: user("bob"), action: "s3:GetObject", resources: []string{bucket + "2/x"},
			identity: []string{get}, want: ImplicitDeny, wantType: IdentityBased},
		{name: "identity allow other action", principal: user("bob"), action: "s3:PutObject", resources: []string{object},
			identity: []string{get}, want: ImplicitDeny, wantType: IdentityBased},
		{name: "explicit deny overrides allow", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			identity: []string{fullAWS, denyDoc("s3:*", bucket+"/*")}, want: ExplicitDeny, wantType: IdentityBased, wantSid: "D"},
		{name: "deny in same policy", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			identity: []string{`{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"NoReports","Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::*/report.csv"}]}`},
			want:     ExplicitDeny, wantType: IdentityBased, wantSid: "NoReports"},
		{name: "deny not matching leaves allow", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			identity: []string{fullAWS, denyDoc("s3:DeleteObject", "*")}, want: Allowed},
		{name: "allow across several policies", principal: user("bob"), action: "ec2:DescribeInstances",
			identity: []string{get, allowDoc("ec2:Describe*", "*")}, want: Allowed, wantSid: "A"},
		{name: "resource star for unscoped action", principal: user("bob"), action: "ec2:DescribeInstances",
			identity: []string{allowDoc("ec2:DescribeInstances", "arn:aws:ec2:*:*:instance/*")}, want: ImplicitDeny, wantType: IdentityBased},
		// --- NotAction / NotResource ("IAM JSON policy elements: NotAction", "NotResource").
		{name: "notaction allow everything but iam", principal: user("bob"), action: "ec2:RunInstances",
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`}, want: Allowed},
		{name: "notaction allow excludes iam", principal: user("bob"), action: "iam:CreateUser",
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`}, want: ImplicitDeny, wantType: IdentityBased},
		{name: "notaction deny without mfa", principal: user("bob"), action: "ec2:RunInstances", ctx: Context{},
			identity: []string{fullAWS, `{"Version":"2012-10-17","Statement":{"Sid":"DenyAllUsersNotUsingMFA","Effect":"Deny","NotAction":"iam:*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}}`},
			want:     ExplicitDeny, wantType: IdentityBased, wantSid: "DenyAllUsersNotUsingMFA"},
		{name: "notaction deny with mfa", principal: user("bob"), action: "ec2:RunInstances", ctx: Context{}.Set("aws:MultiFactorAuthPresent", "true"),
			identity: []string{fullAWS, `{"Version":"2012-10-17","Statement":{"Sid":"DenyAllUsersNotUsingMFA","Effect":"Deny","NotAction":"iam:*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}}`},
			want:     Allowed},
		{name: "notaction deny spares iam", principal: user("bob"), action: "iam:ChangePassword",
			identity: []string{fullAWS, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":"iam:*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}}`},
			want:     Allowed},
		{name: "notresource deny outside bucket", principal: user("bob"), action: "s3:GetObject", resources: []string{"arn:aws:s3:::elsewhere/x"},
			identity: []string{fullAWS, `{"Version":"2012-10-17","Statement":{"Sid":"Only","Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::amzn-s3-demo-bucket","arn:aws:s3:::amzn-s3-demo-bucket/*"]}}`},
			want:     ExplicitDeny, wantType: IdentityBased, wantSid: "Only"},
		{name: "notresource deny inside bucket", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			identity: []string{fullAWS, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::amzn-s3-demo-bucket","arn:aws:s3:::amzn-s3-demo-bucket/*"]}}`},
			want:     Allowed},
		{name: "notresource allow", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","NotResource":"arn:aws:s3:::secret/*"}}`},
			want:     Allowed},
		// --- Several resources: each must be allowed.
		{name: "all resources allowed", principal: user("bob"), action: "s3:GetObject", resources: []string{object, bucket + "/b"},
			identity: []string{allowDoc("s3:GetObject", bucket+"/*")}, want: Allowed},
		{name: "one resource denied", principal: user("bob"), action: "s3:GetObject", resources: []string{object, "arn:aws:s3:::other/b"},
			identity: []string{allowDoc("s3:GetObject", bucket+"/*")}, want: ImplicitDeny, wantType: IdentityBased},

		// --- Single account, IAM user (flow chart for a user; "Identity-based policies with resource-based policies").
		{name: "bucket policy grants user without identity allow", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			resource: resDoc("Allow", bobARN, "s3:GetObject", bucket+"/*"), want: Allowed, wantType: ResourceBased, wantSid: "R"},
		{name: "bucket policy grants other user", principal: user("carol"), action: "s3:GetObject", resources: []string{object},
			resource: resDoc("Allow", bobARN, "s3:GetObject", bucket+"/*"), want: ImplicitDeny, wantType: IdentityBased},
		{name: "bucket policy grants account: delegates to identity", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			resource: resDoc("Allow", acctRoot, "s3:GetObject", bucket+"/*"), want: ImplicitDeny, wantType: IdentityBased},
		{name: "bucket policy grants bare account: delegates", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			resource: resDoc("Allow", acctBare, "s3:GetObject", bucket+"/*"), want: ImplicitDeny, wantType: IdentityBased},
		{name: "bucket policy grants account, identity allows", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			identity: []string{get}, resource: resDoc("Allow", acctRoot, "s3:GetObject", bucket+"/*"), want: Allowed},
		{name: "identity allows, no bucket grant needed", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			identity: []string{get}, resource: resDoc("Allow", bobARN, "s3:PutObject", bucket+"/*"), want: Allowed, wantType: IdentityBased},
		{name: "bucket policy deny user", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			identity: []string{fullAWS}, resource: resDoc("Deny", bobARN, "s3:GetObject", bucket+"/*"), want: ExplicitDeny, wantType: ResourceBased, wantSid: "R"},
		{name: "bucket policy deny account covers users", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			identity: []string{fullAWS}, resource: resDoc("Deny", acctRoot, "s3:GetObject", bucket+"/*"), want: ExplicitDeny, wantType: ResourceBased},
		{name: "bucket policy deny star", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			identity: []string{fullAWS}, resource: resDoc("Deny", `"*"`, "s3:*", bucket+"/*"), want: ExplicitDeny, wantType: ResourceBased},
		{name: "bucket policy deny other user spares bob", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			identity: []string{fullAWS}, resource: resDoc("Deny", `{"AWS":"arn:aws:iam::111122223333:user/carol"}`, "s3:GetObject", bucket+"/*"), want: Allowed},
		{name: "bucket deny without secure transport", principal: user("bob"), action: "s3:GetObject", resources: []string{object}, ctx: Context{}.Set("aws:SecureTransport", "false"),
			identity: []string{fullAWS}, resource: `{"Version":"2012-10-17","Statement":{"Sid":"TLS","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::amzn-s3-demo-bucket","arn:aws:s3:::amzn-s3-demo-bucket/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}}`,
			want: ExplicitDeny, wantType: ResourceBased, wantSid: "TLS"},
		{name: "bucket deny with secure transport", principal: user("bob"), action: "s3:GetObject", resources: []string{object}, ctx: Context{}.Set("aws:SecureTransport", "true"),
			identity: []string{fullAWS}, resource: `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}}`,
			want: Allowed},
		{name: "bucket grants star", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			resource: resDoc("Allow", `"*"`, "s3:GetObject", bucket+"/*"), want: Allowed, wantType: ResourceBased},
		{name: "bucket grants aws star", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			resource: resDoc("Allow", `{"AWS":"*"}`, "s3:GetObject", bucket+"/*"), want: Allowed, wantType: ResourceBased},
		{name: "bucket grant with source ip", principal: user("bob"), action: "s3:GetObject", resources: []string{object}, ctx: Context{}.Set("aws:SourceIp", "192.0.2.10"),
			resource: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*","Condition":{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}}`,
			want:     Allowed},
		{name: "bucket grant from other ip", principal: user("bob"), action: "s3:GetObject", resources: []string{object}, ctx: Context{}.Set("aws:SourceIp", "198.51.100.1"),
			resource: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*","Condition":{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}}`,
			want:     ImplicitDeny, wantType: IdentityBased},
		// Boundaries table: a grant to the user ARN is not limited by its boundary.
		{name: "user grant past boundary", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			resource: resDoc("Allow", bobARN, "s3:GetObject", bucket+"/*"), boundary: allowDoc("ec2:*", "*"), want: Allowed, wantType: ResourceBased},
		{name: "user boundary explicit deny still wins", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			resource: resDoc("Allow", bobARN, "s3:GetObject", bucket+"/*"), boundary: denyDoc("s3:*", "*"), want: ExplicitDeny, wantType: BoundaryPolicy},

		// --- Permissions boundaries ("Permissions boundaries for IAM entities": effective = identity ∩ boundary).
		{name: "identity and boundary allow", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			identity: []string{fullAWS}, boundary: allowDoc("s3:*", "*"), want: Allowed},
		{name: "boundary does not allow", principal: user("bob"), action: "iam:CreateUser", resources: []string{"arn:aws:iam::111122223333:user/x"},
			identity: []string{fullAWS}, boundary: allowDoc("s3:*", "*"), want: ImplicitDeny, wantType: BoundaryPolicy},
		{name: "boundary alone grants nothing", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			boundary: allowDoc("s3:*", "*"), want: ImplicitDeny, wantType: IdentityBased},
		{name: "boundary deny", principal: user("bob"), action: "s3:DeleteBucket", resources: []string{bucket},
			identity: []string{fullAWS}, boundary: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"NoDelete","Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}`,
			want: ExplicitDeny, wantType: BoundaryPolicy, wantSid: "NoDelete"},
		{name: "boundary with condition", principal: user("bob"), action: "ec2:RunInstances", ctx: Context{}.Set("aws:RequestedRegion", "us-east-1"),
			identity: []string{fullAWS}, boundary: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}}`, want: Allowed},
		{name: "boundary condition not met", principal: user("bob"), action: "ec2:RunInstances", ctx: Context{}.Set("aws:RequestedRegion", "eu-west-1"),
			identity: []string{fullAWS}, boundary: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}}`,
			want: ImplicitDeny, wantType: BoundaryPolicy},
		// The boundaries page's warning about NotPrincipal with Deny.
		{name: "notprincipal deny with boundary always denies", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			identity: []string{fullAWS}, boundary: fullAWS,
			resource: `{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:user/bob","arn:aws:iam::111122223333:root"]},"Action":"s3:*","Resource":"*"}}`,
			want:     ExplicitDeny, wantType: ResourceBased},

		// --- Single account, role session (flow chart for a role; boundaries table; 2023 change).
		{name: "session identity allow", principal: session("Dev", "alice"), action: "s3:GetObject", resources: []string{object},
			identity: []string{get}, want: Allowed},
		{name: "session no allow", principal: session("Dev", "alice"), action: "s3:GetObject", resources: []string{object},
			want: ImplicitDeny, wantType: IdentityBased},
		{name: "grant to session ARN", principal: session("Dev", "alice"), action: "s3:GetObject", resources: []string{object},
			resource: resDoc("Allow", devSess, "s3:GetObject", bucket+"/*"), want: Allowed, wantType: ResourceBased},
		{name: "grant to session ARN past boundary", principal: session("Dev", "alice"), action: "s3:GetObject", resources: []string{object},
			resource: resDoc("Allow", devSess, "s3:GetObject", bucket+"/*"), boundary: allowDoc("ec2:*", "*"), want: Allowed, wantType: ResourceBased},
		{name: "grant to session ARN past session policy", principal: session("Dev", "alice"), action: "s3:GetObject", resources: []string{object},
			resource: resDoc("Allow", devSess, "s3:GetObject", bucket+"/*"), session: []string{allowDoc("ec2:*", "*")}, want: Allowed, wantType: ResourceBased},
		{name: "grant to other session", principal: session("Dev", "bob"), action: "s3:GetObject", resources: []string{object},
			resource: resDoc("Allow", devSess, "s3:GetObject", bucket+"/*"), want: ImplicitDeny, wantType: IdentityBased},
		{name: "grant to role ARN", principal: session("Dev", "alice"), action: "s3:GetObject", resources: []string{object},
			resource: resDoc("Allow", devRole, "s3:GetObject", bucket+"/*"), want: Allowed, wantType: ResourceBased},
		{name: "grant to role ARN limited by boundary", principal: session("Dev", "alice"), action: "s3:GetObject", resources: []string{object},
			resource: resDoc("Allow", devRole, "s3:GetObject", bucket+"/*"), boundary: allowDoc("sts:GetCallerIdentity", "*"), want: ImplicitDeny, wantType: BoundaryPolicy},
		{name: "grant to role ARN within boundary", principal: session("Dev", "alice"), action: "s3:GetObject", resources: []string{object},
			resource: resDoc("Allow", devRole, "s3:GetObject", bucket+"/*"), boundary: allowDoc("s3:*", "*"), want: Allowed, wantType: ResourceBased},
		{name: "grant to role ARN limited by session policy", principal: session("Dev", "alice"), action: "s3:GetObject", resources: []string{object},
			resource: resDoc("Allow", devRole, "s3:GetObject", bucket+"/*"), session: []string{allowDoc("ec2:*", "*")}, want: ImplicitDeny, wantType: SessionPolicy},
		{name: "grant to other role", principal: session("Ops", "alice"), action: "s3:GetObject", resources: []string{object},
			resource: resDoc("Allow", devRole, "s3:GetObject", bucket+"/*"), want: ImplicitDeny, wantType: IdentityBased},
		{name: "session boundary limits identity", principal: session("Dev", "alice"), action: "s3:GetObject", resources: []string{object},
			identity: []string{fullAWS}, boundary: allowDoc("ec2:*", "*"), want: ImplicitDeny, wantType: BoundaryPolicy},
		{name: "role path in principal arn", principal: func() Principal {
			p := session("Dev", "alice")
			p.RoleARN = "arn:aws:iam::111122223333:role/teams/Dev"
			return p
		}(), action: "s3:GetObject", resources: []string{object},
			resource: resDoc("Allow", `{"AWS":"arn:aws:iam::111122223333:role/teams/Dev"}`, "s3:GetObject", bucket+"/*"), want: Allowed},
		{name: "bucket deny role covers its sessions", principal: session("Dev", "alice"), action: "s3:GetObject", resources: []string{object},
			identity: []string{fullAWS}, resource: resDoc("Deny", devRole, "s3:*", bucket+"/*"), want: ExplicitDeny, wantType: ResourceBased},

		// --- Session policies ("Session policies": effective = identity ∩ session).
		{name: "session policy allows", principal: session("Dev", "alice"), action: "s3:GetObject", resources: []string{object},
			identity: []string{fullAWS}, session: []string{allowDoc("s3:GetObject", "*")}, want: Allowed},
		{name: "session policy does not allow", principal: session("Dev", "alice"), action: "s3:PutObject", resources: []string{object},
			identity: []string{fullAWS}, session: []string{allowDoc("s3:GetObject", "*")}, want: ImplicitDeny, wantType: SessionPolicy},
		{name: "session policy alone grants nothing", principal: session("Dev", "alice"), action: "s3:GetObject", resources: []string{object},
			session: []string{fullAWS}, want: ImplicitDeny, wantType: IdentityBased},
		{name: "session policy deny", principal: session("Dev", "alice"), action: "s3:GetObject", resources: []string{object},
			identity: []string{fullAWS}, session: []string{fullAWS, denyDoc("s3:*", "*")}, want: ExplicitDeny, wantType: SessionPolicy},
		{name: "managed and inline session policies, one allows", principal: session("Dev", "alice"), action: "s3:GetObject", resources: []string{object},
			identity: []string{fullAWS}, session: []string{allowDoc("ec2:*", "*"), allowDoc("s3:*", "*")}, want: Allowed},
		{name: "boundary and session both", principal: session("Dev", "alice"), action: "s3:GetObject", resources: []string{object},
			identity: []string{fullAWS}, boundary: allowDoc("s3:*", "*"), session: []string{allowDoc("s3:Get*", "*")}, want: Allowed},
		{name: "boundary checked before session", principal: session("Dev", "alice"), action: "ec2:RunInstances",
			identity: []string{fullAWS}, boundary: allowDoc("s3:*", "*"), session: []string{allowDoc("s3:Get*", "*")}, want: ImplicitDeny, wantType: BoundaryPolicy},

		// --- Cross-account ("Cross-account policy evaluation logic": both sides must allow).
		{name: "cross-account no resource policy", principal: otherUser("dave"), action: "s3:GetObject", resources: []string{object}, resAcct: acct,
			identity: []string{get}, want: ImplicitDeny, wantType: ResourceBased},
		{name: "cross-account resource grants account", principal: otherUser("dave"), action: "s3:GetObject", resources: []string{object}, resAcct: acct,
			identity: []string{get}, resource: resDoc("Allow", otherRoot, "s3:GetObject", bucket+"/*"), want: Allowed, wantType: IdentityBased},
		{name: "cross-account resource grants bare account", principal: otherUser("dave"), action: "s3:GetObject", resources: []string{object}, resAcct: acct,
			identity: []string{get}, resource: resDoc("Allow", `{"AWS":"444455556666"}`, "s3:GetObject", bucket+"/*"), want: Allowed},
		{name: "cross-account resource grants user", principal: otherUser("dave"), action: "s3:GetObject", resources: []string{object}, resAcct: acct,
			identity: []string{get}, resource: resDoc("Allow", `{"AWS":"arn:aws:iam::444455556666:user/dave"}`, "s3:GetObject", bucket+"/*"), want: Allowed},
		{name: "cross-account resource grant without identity", principal: otherUser("dave"), action: "s3:GetObject", resources: []string{object}, resAcct: acct,
			resource: resDoc("Allow", `{"AWS":"arn:aws:iam::444455556666:user/dave"}`, "s3:GetObject", bucket+"/*"), want: ImplicitDeny, wantType: IdentityBased},
		{name: "cross-account resource grants other account", principal: otherUser("dave"), action: "s3:GetObject", resources: []string{object}, resAcct: acct,
			identity: []string{get}, resource: resDoc("Allow", acctRoot, "s3:GetObject", bucket+"/*"), want: ImplicitDeny, wantType: ResourceBased},
		{name: "cross-account star grant", principal: otherUser("dave"), action: "s3:GetObject", resources: []string{object}, resAcct: acct,
			identity: []string{get}, resource: resDoc("Allow", `"*"`, "s3:GetObject", bucket+"/*"), want: Allowed},
		{name: "cross-account boundary still applies", principal: otherUser("dave"), action: "s3:GetObject", resources: []string{object}, resAcct: acct,
			identity: []string{get}, boundary: allowDoc("ec2:*", "*"), resource: resDoc("Allow", otherRoot, "s3:GetObject", bucket+"/*"), want: ImplicitDeny, wantType: BoundaryPolicy},
		{name: "cross-account resource deny", principal: otherUser("dave"), action: "s3:GetObject", resources: []string{object}, resAcct: acct,
			identity: []string{fullAWS}, resource: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"s3:*","Resource":"*"},{"Sid":"X","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`,
			want: ExplicitDeny, wantType: ResourceBased, wantSid: "X"},
		{name: "cross-account with aws:PrincipalOrgID", principal: otherUser("dave"), action: "s3:GetObject", resources: []string{object}, resAcct: acct, ctx: Context{}.Set("aws:PrincipalOrgID", "o-abc"),
			identity: []string{get}, resource: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}}`, want: Allowed},
		{name: "cross-account session grant by role", principal: func() Principal {
			p := session("Dev", "alice")
			p.Account, p.ARN, p.RoleARN = other, "arn:aws:sts::444455556666:assumed-role/Dev/alice", "arn:aws:iam::444455556666:role/Dev"
			return p
		}(), action: "s3:GetObject", resources: []string{object}, resAcct: acct,
			identity: []string{get}, resource: resDoc("Allow", `{"AWS":"arn:aws:iam::444455556666:role/Dev"}`, "s3:GetObject", bucket+"/*"), want: Allowed},

		// --- Trust policies: the role's trust policy must allow even within the account ("IAM role trust policies and KMS key policies are exceptions").
		{name: "trust names user", principal: user("bob"), action: "sts:AssumeRole", resources: []string{"arn:aws:iam::111122223333:role/Dev"},
			resKind: Trust, resource: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/bob"},"Action":"sts:AssumeRole"}}`, want: Allowed},
		{name: "trust names account, identity allows", principal: user("bob"), action: "sts:AssumeRole", resources: []string{"arn:aws:iam::111122223333:role/Dev"},
			identity: []string{allowDoc("sts:AssumeRole", "arn:aws:iam::111122223333:role/*")},
			resKind:  Trust, resource: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}}`, want: Allowed},
		{name: "trust names account, identity silent", principal: user("bob"), action: "sts:AssumeRole", resources: []string{"arn:aws:iam::111122223333:role/Dev"},
			resKind: Trust, resource: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}}`, want: ImplicitDeny, wantType: IdentityBased},
		{name: "trust names someone else, identity allows", principal: user("bob"), action: "sts:AssumeRole", resources: []string{"arn:aws:iam::111122223333:role/Dev"},
			identity: []string{fullAWS},
			resKind:  Trust, resource: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}`, want: ImplicitDeny, wantType: ResourceBased},
		{name: "trust service", principal: Principal{Type: ServicePrincipal, Service: "ec2.amazonaws.com"}, action: "sts:AssumeRole", resources: []string{"arn:aws:iam::111122223333:role/Dev"},
			resKind: Trust, resource: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}`, want: Allowed},
		{name: "trust other service", principal: Principal{Type: ServicePrincipal, Service: "lambda.amazonaws.com"}, action: "sts:AssumeRole", resources: []string{"arn:aws:iam::111122223333:role/Dev"},
			resKind: Trust, resource: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}`, want: ImplicitDeny, wantType: ResourceBased},
		{name: "trust web identity with aud", principal: Principal{Type: Anonymous, Federated: "cognito-identity.amazonaws.com"}, action: "sts:AssumeRoleWithWebIdentity",
			ctx:     Context{}.Set("cognito-identity.amazonaws.com:aud", "us-east-1:pool"),
			resKind: Trust, resource: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"cognito-identity.amazonaws.com:aud":"us-east-1:pool"}}}}`, want: Allowed},
		{name: "trust web identity wrong aud", principal: Principal{Type: Anonymous, Federated: "cognito-identity.amazonaws.com"}, action: "sts:AssumeRoleWithWebIdentity",
			ctx:     Context{}.Set("cognito-identity.amazonaws.com:aud", "other"),
			resKind: Trust, resource: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"cognito-identity.amazonaws.com:aud":"us-east-1:pool"}}}}`, want: ImplicitDeny, wantType: ResourceBased},
		{name: "trust cross-account with external id", principal: otherUser("dave"), action: "sts:AssumeRole", resAcct: acct, ctx: Context{}.Set("sts:ExternalId", "12345"),
			identity: []string{allowDoc("sts:AssumeRole", "*")},
			resKind:  Trust, resource: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"12345"}}}}`, want: Allowed},
		{name: "trust cross-account without external id", principal: otherUser("dave"), action: "sts:AssumeRole", resAcct: acct,
			identity: []string{allowDoc("sts:AssumeRole", "*")},
			resKind:  Trust, resource: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"12345"}}}}`, want: ImplicitDeny, wantType: ResourceBased},
		{name: "key policy must allow", principal: user("bob"), action: "kms:Decrypt", mustAllow: true,
			identity: []string{fullAWS}, resource: resDoc("Allow", `{"AWS":"arn:aws:iam::111122223333:user/carol"}`, "kms:*", "*"), want: ImplicitDeny, wantType: ResourceBased},
		{name: "key policy delegates to account", principal: user("bob"), action: "kms:Decrypt", mustAllow: true,
			identity: []string{fullAWS}, resource: resDoc("Allow", acctRoot, "kms:*", "*"), want: Allowed},

		// --- Service control policies ("SCP evaluation": every level must allow; an explicit deny wins).
		{name: "scp full access", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			identity: []string{get}, scps: [][]string{{fullAWS}, {fullAWS}}, want: Allowed},
		{name: "scp level without allow", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			identity: []string{get}, scps: [][]string{{fullAWS}, {allowDoc("ec2:*", "*")}}, want: ImplicitDeny, wantType: SCPPolicy},
		{name: "scp deny", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			identity: []string{get}, scps: [][]string{{fullAWS, denyDoc("s3:*", "*")}}, want: ExplicitDeny, wantType: SCPPolicy, wantSid: "D"},
		{name: "scp allow grants nothing", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			scps: [][]string{{fullAWS}}, want: ImplicitDeny, wantType: IdentityBased},
		{name: "scp deny region", principal: user("bob"), action: "ec2:RunInstances", ctx: Context{}.Set("aws:RequestedRegion", "ap-south-1"),
			identity: []string{fullAWS}, scps: [][]string{{fullAWS, `{"Version":"2012-10-17","Statement":{"Sid":"DenyAllOutsideEU","Effect":"Deny","NotAction":["iam:*","sts:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-central-1","eu-west-1"]}}}}`}},
			want: ExplicitDeny, wantType: SCPPolicy, wantSid: "DenyAllOutsideEU"},
		{name: "scp deny region spares global services", principal: user("bob"), action: "iam:ListUsers", ctx: Context{}.Set("aws:RequestedRegion", "ap-south-1"),
			identity: []string{fullAWS}, scps: [][]string{{fullAWS, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":["iam:*","sts:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-central-1","eu-west-1"]}}}}`}},
			want: Allowed},
		{name: "scp limits resource grants too", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			resource: resDoc("Allow", bobARN, "s3:GetObject", bucket+"/*"), scps: [][]string{{allowDoc("ec2:*", "*")}}, want: ImplicitDeny, wantType: SCPPolicy},
		{name: "scp applies to member root", principal: root(acct), action: "s3:GetObject", resources: []string{object},
			scps: [][]string{{fullAWS, denyDoc("s3:*", "*")}}, want: ExplicitDeny, wantType: SCPPolicy},

		// --- Root user, anonymous and service principals.
		{name: "root needs no policy", principal: root(acct), action: "ec2:TerminateInstances", want: Allowed},
		{name: "root ignores identity deny", principal: root(acct), action: "s3:GetObject", resources: []string{object},
			identity: []string{denyDoc("*", "*")}, want: Allowed},
		{name: "root stopped by bucket deny", principal: root(acct), action: "s3:GetObject", resources: []string{object},
			resource: resDoc("Deny", `"*"`, "s3:*", "*"), want: ExplicitDeny, wantType: ResourceBased},
		{name: "root of other account needs grant", principal: root(other), action: "s3:GetObject", resources: []string{object}, resAcct: acct,
			want: ImplicitDeny, wantType: ResourceBased},
		{name: "root of other account granted", principal: root(other), action: "s3:GetObject", resources: []string{object}, resAcct: acct,
			resource: resDoc("Allow", otherRoot, "s3:GetObject", "*"), want: Allowed},
		{name: "anonymous public read", principal: Principal{Type: Anonymous}, action: "s3:GetObject", resources: []string{object},
			resource: resDoc("Allow", `"*"`, "s3:GetObject", bucket+"/*"), want: Allowed, wantType: ResourceBased},
		{name: "anonymous no grant", principal: Principal{Type: Anonymous}, action: "s3:GetObject", resources: []string{object},
			resource: resDoc("Allow", acctRoot, "s3:GetObject", bucket+"/*"), want: ImplicitDeny, wantType: ResourceBased},
		{name: "anonymous no policy", principal: Principal{Type: Anonymous}, action: "s3:GetObject", resources: []string{object},
			want: ImplicitDeny, wantType: ResourceBased},
		{name: "service principal granted", principal: Principal{Type: ServicePrincipal, Service: "logging.s3.amazonaws.com"}, action: "s3:PutObject", resources: []string{object},
			resource: resDoc("Allow", `{"Service":"logging.s3.amazonaws.com"}`, "s3:PutObject", bucket+"/*"), want: Allowed},
		{name: "service principal with source account", principal: Principal{Type: ServicePrincipal, Service: "logging.s3.amazonaws.com"}, action: "s3:PutObject", resources: []string{object},
			ctx:      Context{}.Set("aws:SourceAccount", other),
			resource: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}}`,
			want:     ImplicitDeny, wantType: ResourceBased},
		{name: "service principal not named", principal: Principal{Type: ServicePrincipal, Service: "logs.amazonaws.com"}, action: "s3:PutObject", resources: []string{object},
			resource: resDoc("Allow", `{"Service":"logging.s3.amazonaws.com"}`, "s3:PutObject", bucket+"/*"), want: ImplicitDeny, wantType: ResourceBased},

		// --- NotPrincipal ("AWS JSON policy elements: NotPrincipal"): every identity must be listed.
		{name: "notprincipal deny spares listed user and account", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			identity: []string{fullAWS}, resource: `{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:user/bob","arn:aws:iam::111122223333:root"]},"Action":"s3:*","Resource":"*"}}`, want: Allowed},
		{name: "notprincipal deny hits others", principal: user("carol"), action: "s3:GetObject", resources: []string{object},
			identity: []string{fullAWS}, resource: `{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:user/bob","arn:aws:iam::111122223333:root"]},"Action":"s3:*","Resource":"*"}}`, want: ExplicitDeny, wantType: ResourceBased},
		{name: "notprincipal without account denies the user too", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			identity: []string{fullAWS}, resource: `{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/bob"},"Action":"s3:*","Resource":"*"}}`, want: ExplicitDeny, wantType: ResourceBased},
		{name: "notprincipal session needs role and session", principal: session("Dev", "alice"), action: "s3:GetObject", resources: []string{object},
			identity: []string{fullAWS}, resource: `{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:sts::111122223333:assumed-role/Dev/alice","arn:aws:iam::111122223333:root"]},"Action":"s3:*","Resource":"*"}}`, want: ExplicitDeny, wantType: ResourceBased},
		{name: "notprincipal session with role listed", principal: session("Dev", "alice"), action: "s3:GetObject", resources: []string{object},
			identity: []string{fullAWS}, resource: `{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:sts::111122223333:assumed-role/Dev/alice","arn:aws:iam::111122223333:role/Dev","111122223333"]},"Action":"s3:*","Resource":"*"}}`, want: Allowed},

		// --- ABAC ("Define permissions based on attributes with ABAC").
		{name: "abac same team", principal: func() Principal {
			p := session("Dev", "alice")
			p.Tags = map[string]string{"access-project": "peg"}
			return p
		}(), action: "ec2:StartInstances", resources: []string{"arn:aws:ec2:us-east-1:111122223333:instance/i-1"}, ctx: Context{}.Set("aws:ResourceTag/access-project", "peg"),
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:StartInstances","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/access-project":"${aws:PrincipalTag/access-project}"}}}}`}, want: Allowed},
		{name: "abac other team", principal: func() Principal {
			p := session("Dev", "alice")
			p.Tags = map[string]string{"access-project": "peg"}
			return p
		}(), action: "ec2:StartInstances", resources: []string{"arn:aws:ec2:us-east-1:111122223333:instance/i-1"}, ctx: Context{}.Set("aws:ResourceTag/access-project", "uni"),
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:StartInstances","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/access-project":"${aws:PrincipalTag/access-project}"}}}}`}, want: ImplicitDeny, wantType: IdentityBased},
		{name: "abac untagged principal", principal: session("Dev", "alice"), action: "ec2:StartInstances", ctx: Context{}.Set("aws:ResourceTag/access-project", "peg"),
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:StartInstances","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/access-project":"${aws:PrincipalTag/access-project}"}}}}`}, want: ImplicitDeny, wantType: IdentityBased},
		// "Example IAM identity-based policies": self-service access keys.
		{name: "own access keys", principal: user("bob"), action: "iam:CreateAccessKey", resources: []string{"arn:aws:iam::111122223333:user/bob"},
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["iam:*AccessKey*"],"Resource":"arn:aws:iam::*:user/${aws:username}"}}`}, want: Allowed},
		{name: "someone else's access keys", principal: user("bob"), action: "iam:CreateAccessKey", resources: []string{"arn:aws:iam::111122223333:user/carol"},
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["iam:*AccessKey*"],"Resource":"arn:aws:iam::*:user/${aws:username}"}}`}, want: ImplicitDeny, wantType: IdentityBased},
		// "Example: deny access to AWS based on the requested Region".
		{name: "ec2 in allowed region", principal: user("bob"), action: "ec2:RunInstances", ctx: Context{}.Set("aws:RequestedRegion", "us-east-2"),
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":["us-east-2","us-west-1"]}}}}`}, want: Allowed},
		{name: "ec2 in other region", principal: user("bob"), action: "ec2:RunInstances", ctx: Context{}.Set("aws:RequestedRegion", "eu-west-1"),
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":["us-east-2","us-west-1"]}}}}`}, want: ImplicitDeny, wantType: IdentityBased},
		// "Example: allows access within a specific date range".
		{name: "within date range", principal: user("bob"), action: "ec2:DescribeInstances", ctx: Context{}.Set("aws:CurrentTime", "2020-06-15T12:00:00Z"),
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-04-01T00:00:00Z"},"DateLessThan":{"aws:CurrentTime":"2020-06-30T23:59:59Z"}}}}`}, want: Allowed},
		{name: "after date range", principal: user("bob"), action: "ec2:DescribeInstances", ctx: Context{}.Set("aws:CurrentTime", "2020-07-01T00:00:00Z"),
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-04-01T00:00:00Z"},"DateLessThan":{"aws:CurrentTime":"2020-06-30T23:59:59Z"}}}}`}, want: ImplicitDeny, wantType: IdentityBased},
		// "Example: denies access to AWS based on the source IP", with aws:ViaAWSService.
		{name: "deny outside ip range", principal: user("bob"), action: "s3:ListAllMyBuckets", ctx: Context{}.Set("aws:SourceIp", "198.51.100.9").Set("aws:ViaAWSService", "false"),
			identity: []string{fullAWS, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]},"Bool":{"aws:ViaAWSService":"false"}}}}`},
			want:     ExplicitDeny, wantType: IdentityBased},
		{name: "deny spares service calls", principal: user("bob"), action: "s3:ListAllMyBuckets", ctx: Context{}.Set("aws:SourceIp", "198.51.100.9").Set("aws:ViaAWSService", "true"),
			identity: []string{fullAWS, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]},"Bool":{"aws:ViaAWSService":"false"}}}}`},
			want:     Allowed},
		{name: "deny spares inside range", principal: user("bob"), action: "s3:ListAllMyBuckets", ctx: Context{}.Set("aws:SourceIp", "192.0.2.9").Set("aws:ViaAWSService", "false"),
			identity: []string{fullAWS, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]},"Bool":{"aws:ViaAWSService":"false"}}}}`},
			want:     Allowed},
		// "Example: tag keys on create": ForAllValues with aws:TagKeys.
		{name: "create with allowed tag keys", principal: user("bob"), action: "ec2:CreateTags", ctx: Context{}.Set("aws:TagKeys", "env"),
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["env","cost-center"]}}}}`}, want: Allowed},
		{name: "create with extra tag key", principal: user("bob"), action: "ec2:CreateTags", ctx: Context{}.Set("aws:TagKeys", "env", "owner"),
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["env","cost-center"]}}}}`}, want: ImplicitDeny, wantType: IdentityBased},
		{name: "create without tags passes forallvalues", principal: user("bob"), action: "ec2:CreateTags",
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["env","cost-center"]}}}}`}, want: Allowed},
		{name: "forallvalues with null guard", principal: user("bob"), action: "ec2:CreateTags",
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["env"]},"Null":{"aws:TagKeys":"false"}}}}`}, want: ImplicitDeny, wantType: IdentityBased},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := c.run(t)
			if d.Outcome != c.want {
				t.Fatalf("outcome = %v, want %v (%+v)", d.Outcome, c.want, d)
			}
			if c.wantType != "" && d.Type != c.wantType {
				t.Errorf("type = %q, want %q (%+v)", d.Type, c.wantType, d)
			}
			if c.wantSid != "" && d.Sid != c.wantSid {
				t.Errorf("sid = %q, want %q", d.Sid, c.wantSid)
			}
		})
	}
}

// TestMessages: "Troubleshooting access denied error messages" — the
// format "User: <arn> is not authorized to perform: <action> on resource:
// <arn> because no <type> policy allows the <action> action" and "with an
// explicit deny in a(n) <type> policy".
func TestMessages(t *testing.T) {
	bob := "arn:aws:iam::777788889999:user/JohnDoe"
	cases := []struct {
		d    Decision
		want string
	}{
		{Decision{Outcome: ImplicitDeny, Type: IdentityBased, Action: "codecommit:ListRepositories", Resource: "*"},
			"User: " + bob + " is not authorized to perform: codecommit:ListRepositories because no identity-based policy allows the codecommit:ListRepositories action"},
		{Decision{Outcome: ExplicitDeny, Type: IdentityBased, Action: "codecommit:ListRepositories", Resource: "*"},
			"User: " + bob + " is not authorized to perform: codecommit:ListRepositories with an explicit deny in an identity-based policy"},
		{Decision{Outcome: ImplicitDeny, Type: IdentityBased, Action: "ec2:RunInstances", Resource: "arn:aws:ec2:us-east-1:777788889999:instance/*"},
			"User: " + bob + " is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:us-east-1:777788889999:instance/* because no identity-based policy allows the ec2:RunInstances action"},
		{Decision{Outcome: ImplicitDeny, Type: ResourceBased, Action: "s3:GetObject", Resource: object},
			"User: " + bob + " is not authorized to perform: s3:GetObject on resource: " + object + " because no resource-based policy allows the s3:GetObject action"},
		{Decision{Outcome: ExplicitDeny, Type: ResourceBased, Action: "s3:GetObject", Resource: object},
			"User: " + bob + " is not authorized to perform: s3:GetObject on resource: " + object + " with an explicit deny in a resource-based policy"},
		{Decision{Outcome: ImplicitDeny, Type: BoundaryPolicy, Action: "codecommit:ListRepositories", Resource: "*"},
			"User: " + bob + " is not authorized to perform: codecommit:ListRepositories because no permissions boundary allows the codecommit:ListRepositories action"},
		{Decision{Outcome: ExplicitDeny, Type: BoundaryPolicy, Action: "codecommit:ListRepositories", Resource: "*"},
			"User: " + bob + " is not authorized to perform: codecommit:ListRepositories with an explicit deny in a permissions boundary"},
		{Decision{Outcome: ImplicitDeny, Type: SessionPolicy, Action: "codecommit:ListRepositories", Resource: "*"},
			"User: " + bob + " is not authorized to perform: codecommit:ListRepositories because no session policy allows the codecommit:ListRepositories action"},
		{Decision{Outcome: ExplicitDeny, Type: SessionPolicy, Action: "codecommit:ListRepositories", Resource: "*"},
			"User: " + bob + " is not authorized to perform: codecommit:ListRepositories with an explicit deny in a session policy"},
		{Decision{Outcome: ImplicitDeny, Type: SCPPolicy, Action: "codecommit:ListRepositories", Resource: "*"},
			"User: " + bob + " is not authorized to perform: codecommit:ListRepositories because no service control policy allows the codecommit:ListRepositories action"},
		{Decision{Outcome: ExplicitDeny, Type: SCPPolicy, Action: "codecommit:ListRepositories", Resource: "*"},
			"User: " + bob + " is not authorized to perform: codecommit:ListRepositories with an explicit deny in a service control policy"},
	}
	for _, c := range cases {
		if got := c.d.Message(bob); got != c.want {
			t.Errorf("Message =\n %q\nwant\n %q", got, c.want)
		}
	}
	// And from a real evaluation, naming the first resource denied.
	d := Evaluate(Request{Principal: user("bob"), Action: "ec2:RunInstances",
		Resources: []string{"arn:aws:ec2:us-east-1:111122223333:image/ami-1", "arn:aws:ec2:us-east-1:111122223333:instance/*"}},
		PolicySet{Identity: []*Policy{MustParse(allowDoc("ec2:RunInstances", "arn:aws:ec2:*:*:image/*"), Identity)}})
	want := "User: arn:aws:iam::111122223333:user/bob is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:us-east-1:111122223333:instance/* because no identity-based policy allows the ec2:RunInstances action"
	if got := d.Message(user("bob").ARN); got != want {
		t.Errorf("Message = %q, want %q", got, want)
	}
	if (Decision{Outcome: Allowed}).Reason() != "" {
		t.Error("an allowed decision has no reason")
	}
}

// TestEvaluateConcurrent shares one PolicySet between goroutines (run with
// -race): policies are immutable once parsed.
func TestEvaluateConcurrent(t *testing.T) {
	set := benchSet(t)
	req := benchRequest()
	done := make(chan Decision)
	for range 8 {
		go func() { done <- Evaluate(req, set) }()
	}
	for range 8 {
		if d := <-done; !d.Allowed() {
			t.Errorf("decision = %+v", d)
		}
	}
}

// TestEvaluateEndpointPolicy: a VPC endpoint policy ("Control access to
// VPC endpoints using endpoint policies") must allow a request through the
// endpoint, for the root user too, and grants nothing by itself.
func TestEvaluateEndpointPolicy(t *testing.T) {
	const full = `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`
	get := allowDoc("s3:GetObject", object)
	cases := []evalCase{
		{name: "default policy passes", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			identity: []string{get}, endpoint: full, want: Allowed, wantType: IdentityBased},
		{name: "default policy grants nothing", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			endpoint: full, want: ImplicitDeny, wantType: IdentityBased},
		{name: "other action not allowed", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			identity: []string{fullAWS}, endpoint: resDoc("Allow", `"*"`, "s3:PutObject", "*"), want: ImplicitDeny, wantType: EndpointPolicy},
		{name: "principal not named", principal: user("alice"), action: "s3:GetObject", resources: []string{object},
			identity: []string{fullAWS}, endpoint: resDoc("Allow", bobARN, "s3:*", "*"), want: ImplicitDeny, wantType: EndpointPolicy},
		{name: "principal named", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			identity: []string{fullAWS}, endpoint: resDoc("Allow", bobARN, "s3:*", "*"), want: Allowed},
		{name: "explicit deny", principal: user("bob"), action: "s3:GetObject", resources: []string{object},
			identity: []string{fullAWS}, endpoint: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Sid":"NoGet","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`,
			want: ExplicitDeny, wantType: EndpointPolicy, wantSid: "NoGet"},
		{name: "root stopped", principal: root(acct), action: "s3:GetObject", resources: []string{object},
			endpoint: resDoc("Allow", `"*"`, "s3:PutObject", "*"), want: ImplicitDeny, wantType: EndpointPolicy},
		{name: "root passes", principal: root(acct), action: "s3:GetObject", resources: []string{object},
			endpoint: full, want: Allowed},
		{name: "condition on the source VPC", principal: session("Dev", "alice"), action: "sts:GetSessionToken",
			identity: []string{fullAWS}, ctx: Context{}.Set("aws:SourceVpc", "vpc-1"),
			endpoint: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpc":"vpc-2"}}}]}`,
			want:     ImplicitDeny, wantType: EndpointPolicy},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := c.run(t)
			if d.Outcome != c.want || (c.wantType != "" && d.Type != c.wantType) || (c.wantSid != "" && d.Sid != c.wantSid) {
				t.Fatalf("got %v %q %q, want %v %q %q", d.Outcome, d.Type, d.Sid, c.want, c.wantType, c.wantSid)
			}
		})
	}
	d := cases[2].run(t)
	if got, want := d.Message(user("bob").ARN), "because no VPC endpoint policy allows the s3:GetObject action"; !strings.HasSuffix(got, want) {
		t.Errorf("message %q, want it to end %q", got, want)
	}
}
