package iampolicy

import (
	"fmt"
	"testing"
)

// TestActionMatching: "IAM JSON policy elements: Action" — action names are
// case-insensitive, * and ? are wildcards, a vendor prefix is required.
func TestActionMatching(t *testing.T) {
	cases := []struct {
		pattern, action string
		want            bool
	}{
		{"*", "ec2:RunInstances", true},
		{"ec2:*", "ec2:RunInstances", true},
		{"ec2:*", "EC2:runinstances", true},
		{"EC2:RunInstances", "ec2:runInstances", true},
		{"ec2:Describe*", "ec2:DescribeInstances", true},
		{"ec2:Describe*", "ec2:RunInstances", false},
		{"ec2:describe*", "ec2:DescribeVpcs", true},
		{"iam:*AccessKey*", "iam:CreateAccessKey", true},
		{"iam:*AccessKey*", "iam:ListAccessKeys", true},
		{"iam:*AccessKey*", "iam:ListUsers", false},
		{"s3:Get?bject", "s3:GetObject", true},
		{"s3:Get?bject", "s3:Getbject", false},
		{"s3:Get?bject", "s3:GetOObject", false},
		{"s3:*Object", "s3:GetObjectAcl", false},
		{"s3:*Object*", "s3:GetObjectAcl", true},
		{"s3:GetObject", "s3:GetObjectAcl", false},
		{"s3:GetObject", "s3:GetObjec", false},
		{"sqs:*", "sns:Publish", false},
		{"s*:*", "sns:Publish", true},
		{"dynamodb:*Item", "dynamodb:BatchGetItem", true},
		{"dynamodb:*Item", "dynamodb:Query", false},
	}
	for _, c := range cases {
		p := compilePattern(c.pattern, true, false)
		if got := p.match(c.action, true, nil); got != c.want {
			t.Errorf("%q matches %q = %v, want %v", c.pattern, c.action, got, c.want)
		}
	}
}

// TestResourceMatching: "IAM JSON policy elements: Resource" — ARNs are
// case-sensitive, wildcards work within segments, and the resource part
// (which may hold ':' and '/') is crossed by *.
func TestResourceMatching(t *testing.T) {
	cases := []struct {
		pattern, arn string
		want         bool
	}{
		{"*", "arn:aws:s3:::bucket/key", true},
		{"arn:aws:s3:::bucket", "arn:aws:s3:::bucket", true},
		{"arn:aws:s3:::bucket", "arn:aws:s3:::Bucket", false},
		{"arn:aws:s3:::bucket", "arn:aws:s3:::bucket/key", false},
		{"arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b/c.txt", true},
		{"arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", false},
		{"arn:aws:s3:::bucket*", "arn:aws:s3:::bucket-logs/x", true},
		{"arn:aws:s3:::*", "arn:aws:s3:::any/thing", true},
		{"arn:aws:s3:::*/*", "arn:aws:s3:::any", false},
		{"arn:aws:s3:::bucket/home/${aws:username}/*", "arn:aws:s3:::bucket/home/bob/f", true},
		{"arn:aws:ec2:*:*:instance/*", "arn:aws:ec2:us-east-1:111122223333:instance/i-0123", true},
		{"arn:aws:ec2:*:*:instance/*", "arn:aws:ec2:us-east-1:111122223333:volume/vol-1", false},
		{"arn:aws:ec2:us-east-1:*:*", "arn:aws:ec2:eu-west-1:111122223333:instance/i-1", false},
		{"arn:aws:ec2:us-*-1:*:*", "arn:aws:ec2:us-west-1:111122223333:instance/i-1", true},
		// A pattern without all six segments is matched as one string.
		{"arn:aws:ec2:us-east-1*:instance/*", "arn:aws:ec2:us-east-1:111122223333:instance/i-1", true},
		// With all six, a * stays in its segment: here the account's * may
		// not take "x:" from the resource part.
		{"arn:aws:s3:*:*:b", "arn:aws:s3:::x:b", false},
		{"arn:aws:s3:*:*:*b", "arn:aws:s3:::x:b", true},
		{"arn:aws:ec2:*:111122223333:*", "arn:aws:ec2:us-east-1:444455556666:instance/i-1", false},
		{"arn:aws:ec2:*:111122223333:*", "arn:aws:ec2:us-east-1:111122223333:instance/i-1", true},
		{"arn:aws:ec2:us-east-?:*:*", "arn:aws:ec2:us-east-1:1:instance/i", true},
		{"arn:aws:ec2:us-east-?:*:*", "arn:aws:ec2:us-east-10:1:instance/i", false},
		// The resource part keeps its colons.
		{"arn:aws:logs:us-east-1:111122223333:log-group:app:*", "arn:aws:logs:us-east-1:111122223333:log-group:app:log-stream:web", true},
		{"arn:aws:logs:*:*:log-group:app*", "arn:aws:logs:us-east-1:111122223333:log-group:app:log-stream:web", true},
		{"arn:aws:logs:*:*:log-group:other:*", "arn:aws:logs:us-east-1:111122223333:log-group:app:log-stream:web", false},
		{"arn:aws:iam::111122223333:user/*", "arn:aws:iam::111122223333:user/division/bob", true},
		{"arn:aws:iam::111122223333:user/division/*", "arn:aws:iam::111122223333:user/bob", false},
		{"arn:aws:iam::*:role/Admin", "arn:aws:iam::111122223333:role/Admin", true},
		{"arn:aws:iam::*:role/Admin", "arn:aws:iam::111122223333:role/admin", false},
		{"arn:aws:dynamodb:*:*:table/Books", "arn:aws:dynamodb:us-west-2:111122223333:table/Books", true},
		{"arn:aws:dynamodb:*:*:table/Books", "arn:aws:dynamodb:us-west-2:111122223333:table/Books/index/i", false},
		{"arn:*:s3:::b", "arn:aws-cn:s3:::b", true},
		{"arn:aws:s3:::b", "*", false},
		{"arn:aws:ec2:*", "arn:aws:ec2:us-east-1:1:instance/i", true},
		{"arn:aws:s3:::b/?", "arn:aws:s3:::b/é", true},
	}
	for _, c := range cases {
		ap := compileARN(c.pattern, true)
		r := func(k string) (string, bool) {
			if k == "aws:username" {
				return "bob", true
			}
			return "", false
		}
		if got := ap.match(c.arn, r); got != c.want {
			t.Errorf("%q matches %q = %v, want %v", c.pattern, c.arn, got, c.want)
		}
	}
}

// TestPolicyVariables: "IAM policy elements: Variables and tags" —
// substitution in Resource, defaults, escapes, and Version 2008 leaving
// them literal.
func TestPolicyVariables(t *testing.T) {
	bob := user("bob")
	bob.Tags = map[string]string{"Department": "sales", "project": "x*"}
	ctx := Context{}.Set("aws:SourceIp", "10.0.0.1").Set("s3:prefix", "a", "b")
	cases := []struct {
		name, version, resource, arn string
		want                         bool
	}{
		{"username", Version2012, "arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::b/bob/x", true},
		{"username other", Version2012, "arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::b/alice/x", false},
		{"key case-insensitive", Version2012, "arn:aws:s3:::b/${AWS:UserName}/*", "arn:aws:s3:::b/bob/x", true},
		{"spaces inside", Version2012, "arn:aws:s3:::b/${ aws:username }", "arn:aws:s3:::b/bob", true},
		{"userid", Version2012, "arn:aws:s3:::b/${aws:userid}", "arn:aws:s3:::b/AIDAEXAMPLEbob", true},
		{"principal tag", Version2012, "arn:aws:s3:::b/${aws:PrincipalTag/department}/*", "arn:aws:s3:::b/sales/x", true},
		{"principal tag missing", Version2012, "arn:aws:s3:::b/${aws:PrincipalTag/team}/*", "arn:aws:s3:::b//x", false},
		{"default used", Version2012, "arn:aws:s3:::b/${aws:PrincipalTag/team, 'shared'}/*", "arn:aws:s3:::b/shared/x", true},
		{"default not used", Version2012, "arn:aws:s3:::b/${aws:PrincipalTag/department, 'shared'}/*", "arn:aws:s3:::b/sales/x", true},
		{"context key", Version2012, "arn:aws:s3:::b/${aws:SourceIp}", "arn:aws:s3:::b/10.0.0.1", true},
		{"multivalued key unresolved", Version2012, "arn:aws:s3:::b/${s3:prefix}", "arn:aws:s3:::b/a", false},
		{"variable value is literal", Version2012, "arn:aws:s3:::b/${aws:PrincipalTag/project}", "arn:aws:s3:::b/xyz", false},
		{"variable value star literal", Version2012, "arn:aws:s3:::b/${aws:PrincipalTag/project}", "arn:aws:s3:::b/x*", true},
		{"escape star", Version2012, "arn:aws:s3:::b/${*}", "arn:aws:s3:::b/*", true},
		{"escape star not wildcard", Version2012, "arn:aws:s3:::b/${*}", "arn:aws:s3:::b/anything", false},
		{"escape question", Version2012, "arn:aws:s3:::b/${?}", "arn:aws:s3:::b/?", true},
		{"escape question not wildcard", Version2012, "arn:aws:s3:::b/${?}", "arn:aws:s3:::b/x", false},
		{"escape dollar", Version2012, "arn:aws:s3:::b/${$}{x}", "arn:aws:s3:::b/${x}", true},
		{"2008 literal", Version2008, "arn:aws:s3:::b/${aws:username}", "arn:aws:s3:::b/${aws:username}", true},
		{"2008 no substitution", Version2008, "arn:aws:s3:::b/${aws:username}", "arn:aws:s3:::b/bob", false},
		{"account segment", Version2012, "arn:aws:iam::${aws:PrincipalAccount}:user/*", "arn:aws:iam::" + acct + ":user/x", true},
		{"account segment other", Version2012, "arn:aws:iam::${aws:PrincipalAccount}:user/*", "arn:aws:iam::" + other + ":user/x", false},
		{"unterminated", Version2012, "arn:aws:s3:::b/${aws:username", "arn:aws:s3:::b/${aws:username", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := fmt.Sprintf(`{"Version":%q,"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":%q}}`, c.version, c.resource)
			p := pol(t, Identity, c.name, doc)
			d := Evaluate(Request{Principal: bob, Action: "s3:GetObject", Resources: []string{c.arn}, Context: ctx}, PolicySet{Identity: []*Policy{p}})
			if d.Allowed() != c.want {
				t.Errorf("allowed = %v, want %v (%+v)", d.Allowed(), c.want, d)
			}
		})
	}
}
