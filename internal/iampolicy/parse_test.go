package iampolicy

import (
	"errors"
	"strings"
	"testing"
)

// TestConfirmedMessages lists the MalformedPolicyDocument messages that
// users quote from real AWS responses, each with the case that produced
// it there (the source named in the comment).
func TestConfirmedMessages(t *testing.T) {
	cases := []struct {
		name string
		kind Kind
		doc  string
		want string
	}{
		// boto/boto3#180: an unparsable document.
		{"syntax", Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",}]}`, "Syntax errors in policy."},
		// hashicorp/terraform#13449, terraform-provider-aws#10419: a
		// Principal in a role's inline policy.
		{"principal in identity", Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}]}`, "Policy document should not specify a principal."},
		// spantaleev/matrix-docker-ansible-deploy#1869 (S3 console), django-storages#876.
		{"no principal in resource policy", Resource, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`, "Missing required field Principal"},
		// aws-cloudformation/cfn-lint#4287: "arn:aws::iam::…:root".
		{"bad principal", Trust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws::iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`, `Invalid principal in policy: "AWS":"arn:aws::iam::123456789012:root"`},
		// aws/aws-cdk#7615: a statement with resources only.
		{"no actions", Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}`, "Policy statement must contain actions."},
		// trussworks/terraform-aws-s3-anti-virus#22, #28: an empty resource list.
		{"no resources", Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sns:Publish","Resource":[]}]}`, "Policy statement must contain resources."},
		// garnaat/kappa#111.
		{"two colons", Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:Create:Group","Resource":"*"}]}`, "Actions/Condition can contain only one colon."},
		// ministryofjustice/modernisation-platform-environments#590.
		{"resource not an ARN", Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"my-bucket"}]}`, `Resource my-bucket must be in ARN format or "*".`},
		// Graylog2/graylog-plugin-aws#172: no Version and a malformed ARN.
		{"legacy", Identity, `{"Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam:79:user/x"}]}`, "The policy failed legacy parsing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.doc, c.kind)
			var me *MalformedPolicyError
			if !errors.As(err, &me) {
				t.Fatalf("Parse = %v, want *MalformedPolicyError", err)
			}
			if me.Error() != c.want {
				t.Errorf("message = %q, want %q", me.Error(), c.want)
			}
		})
	}
}

// TestParseErrors covers the grammar (IAM user guide, "IAM JSON policy
// grammar" and "IAM JSON policy elements reference") and the inferred
// messages.
func TestParseErrors(t *testing.T) {
	const v = `"Version":"2012-10-17",`
	cases := []struct {
		name string
		kind Kind
		doc  string
		want string // "" means valid
	}{
		{"not json", Identity, `nope`, msgSyntax},
		{"array top", Identity, `[]`, msgSyntax},
		{"trailing data", Identity, `{"Version":"2012-10-17","Statement":[]} {}`, msgSyntax},
		{"unknown top element", Identity, `{` + v + `"Statement":[],"Foo":1}`, msgSyntax},
		{"bad version", Identity, `{"Version":"2012-10-18","Statement":[]}`, msgSyntax},
		{"no statement", Identity, `{` + v + `"Id":"x"}`, msgSyntax},
		{"empty statement list", Identity, `{` + v + `"Statement":[]}`, ""},
		{"statement object", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`, ""},
		{"version 2008", Identity, `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`, ""},
		{"no version", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`, ""},
		{"id", Identity, `{` + v + `"Id":"my-policy","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`, ""},
		{"unknown statement element", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Foo":1}}`, msgSyntax},
		{"no effect", Identity, `{` + v + `"Statement":{"Action":"s3:*","Resource":"*"}}`, msgSyntax},
		{"bad effect", Identity, `{` + v + `"Statement":{"Effect":"allow","Action":"s3:*","Resource":"*"}}`, msgSyntax},
		{"action and notaction", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","NotAction":"iam:*","Resource":"*"}}`, msgSyntax},
		{"resource and notresource", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","NotResource":"*"}}`, msgSyntax},
		{"notaction only", Identity, `{` + v + `"Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`, ""},
		{"notresource only", Identity, `{` + v + `"Statement":{"Effect":"Deny","Action":"s3:*","NotResource":"arn:aws:s3:::b/*"}}`, ""},
		{"empty action list", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}`, msgNoActions},
		{"action not a string", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":5,"Resource":"*"}}`, msgSyntax},
		{"action without vendor", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"GetObject","Resource":"*"}}`, msgVendor},
		{"action empty vendor", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":":GetObject","Resource":"*"}}`, msgVendor},
		{"action vendor wildcard", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"*:Untag*","Resource":"*"}}`, msgVendorWildcard},
		{"action star", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, ""},
		{"action wildcards", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":["ec2:Describe*","s3:Get?bject"],"Resource":"*"}}`, ""},
		{"no resource", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*"}}`, msgNoResources},
		{"resource short arn", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3"}}`, `Resource arn:aws:s3 must be in ARN format or "*".`},
		{"bad partition", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:awz:s3:::b"}}`, `Partition "awz" is not valid for resource "arn:awz:s3:::b".`},
		{"wildcard partition", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:*:s3:::b"}}`, ""},
		{"china partition", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws-cn:s3:::b"}}`, ""},
		{"resource list", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}}`, ""},
		{"principal and notprincipal", Resource, `{` + v + `"Statement":{"Effect":"Deny","Principal":"*","NotPrincipal":"*","Action":"s3:*","Resource":"*"}}`, msgSyntax},
		{"notprincipal in identity", Identity, `{` + v + `"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"123456789012"},"Action":"s3:*","Resource":"*"}}`, msgNoPrincipalHere},
		{"principal in boundary", Boundary, `{` + v + `"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}`, msgNoPrincipalHere},
		{"principal in session", Session, `{` + v + `"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}`, msgNoPrincipalHere},
		{"principal in scp", SCP, `{` + v + `"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}}`, msgNoPrincipalHere},
		{"trust no principal", Trust, `{` + v + `"Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}`, msgMissingPrinc},
		{"trust with resource", Trust, `{` + v + `"Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}}`, msgResourceInTrust},
		{"trust service", Trust, `{` + v + `"Statement":{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","ecs-tasks.amazonaws.com"]},"Action":"sts:AssumeRole"}}`, ""},
		{"trust account", Trust, `{` + v + `"Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}}`, ""},
		{"trust root", Trust, `{` + v + `"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}}`, ""},
		{"trust user and role", Trust, `{` + v + `"Statement":{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:user/a","arn:aws:iam::123456789012:role/path/r"]},"Action":"sts:AssumeRole"}}`, ""},
		{"trust session", Resource, `{` + v + `"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::123456789012:assumed-role/r/s"},"Action":"s3:*","Resource":"*"}}`, ""},
		{"trust federated", Trust, `{` + v + `"Statement":{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"sts:AssumeRoleWithWebIdentity"}}`, ""},
		{"trust saml", Trust, `{` + v + `"Statement":{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:saml-provider/Okta"},"Action":"sts:AssumeRoleWithSAML"}}`, ""},
		{"canonical user", Resource, `{` + v + `"Statement":{"Effect":"Allow","Principal":{"CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},"Action":"s3:GetObject","Resource":"*"}}`, ""},
		{"principal star", Resource, `{` + v + `"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}}`, ""},
		{"principal aws star", Resource, `{` + v + `"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"*"}}`, ""},
		{"principal string not star", Resource, `{` + v + `"Statement":{"Effect":"Allow","Principal":"123456789012","Action":"s3:GetObject","Resource":"*"}}`, `Invalid principal in policy: "123456789012"`},
		{"principal partial wildcard", Resource, `{` + v + `"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/*"},"Action":"s3:GetObject","Resource":"*"}}`, `Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:user/*"`},
		{"principal short account", Resource, `{` + v + `"Statement":{"Effect":"Allow","Principal":{"AWS":"12345"},"Action":"s3:GetObject","Resource":"*"}}`, `Invalid principal in policy: "AWS":"12345"`},
		{"principal unknown type", Resource, `{` + v + `"Statement":{"Effect":"Allow","Principal":{"Foo":"x"},"Action":"s3:GetObject","Resource":"*"}}`, `Invalid principal in policy: "Foo":"x"`},
		{"principal bad service", Trust, `{` + v + `"Statement":{"Effect":"Allow","Principal":{"Service":"ec2"},"Action":"sts:AssumeRole"}}`, `Invalid principal in policy: "SERVICE":"ec2"`},
		{"principal empty object", Resource, `{` + v + `"Statement":{"Effect":"Allow","Principal":{},"Action":"s3:GetObject","Resource":"*"}}`, msgSyntax},
		{"sid alnum", Identity, `{` + v + `"Statement":{"Sid":"Allow S3","Effect":"Allow","Action":"s3:*","Resource":"*"}}`, msgSidAlnum},
		{"sid spaces in resource policy", Resource, `{` + v + `"Statement":{"Sid":"Allow S3","Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}`, ""},
		{"sid duplicate", Identity, `{` + v + `"Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"s3:*","Resource":"*"}]}`, msgSidUnique},
		{"condition", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:username":"bob"}}}}`, ""},
		{"condition unknown operator", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEqual":{"aws:username":"bob"}}}}`, msgSyntax},
		{"condition key without vendor", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"username":"bob"}}}}`, msgVendor},
		{"condition number value", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":10}}}}`, ""},
		{"condition bool value", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":true}}}}`, ""},
		{"condition bad number", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":"ten"}}}}`, msgSyntax},
		{"condition bad date", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}}}`, msgSyntax},
		{"condition bad cidr", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}}`, msgSyntax},
		{"condition empty list", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:username":[]}}}}`, msgSyntax},
		{"condition object value", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:username":{"a":1}}}}}`, msgSyntax},
		{"condition null bad", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Null":{"aws:TokenIssueTime":"maybe"}}}}`, msgSyntax},
		{"condition set and ifexists", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"ForAnyValue:StringLikeIfExists":{"aws:TagKeys":"a*"}}}}`, ""},
		{"legacy keeps principal message", Identity, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}`, msgNoPrincipalHere},
		{"legacy action", Identity, `{"Statement":{"Effect":"Allow","Action":"GetObject","Resource":"*"}}`, msgLegacy},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.doc, c.kind)
			if c.want == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if err == nil || err.Error() != c.want {
				t.Fatalf("Parse error = %v, want %q", err, c.want)
			}
		})
	}
}

// TestParseElements checks what Parse keeps of a document.
func TestParseElements(t *testing.T) {
	p := MustParse(`{"Version":"2012-10-17","Id":"x","Statement":[
	 {"Sid":"One","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*",
	  "Condition":{"StringEquals":{"aws:PrincipalTag/team":["a","b"]},"NumericLessThan":{"s3:max-keys":10}}},
	 {"Effect":"Deny","NotAction":["iam:*","sts:*"],"NotResource":"*"}]}`, Identity)
	if p.Version != Version2012 || p.ID != "x" || len(p.Statements) != 2 {
		t.Fatalf("policy = %+v", p)
	}
	s := p.Statements[0]
	if s.Sid != "One" || s.Effect != Allow || len(s.Conditions) != 2 || s.Conditions[0].Operator != "NumericLessThan" || s.Conditions[0].Values[0] != "10" {
		t.Errorf("statement 0 = %+v", s)
	}
	if s := p.Statements[1]; !s.NotAction || !s.NotResource || len(s.Actions) != 2 || s.Effect != Deny {
		t.Errorf("statement 1 = %+v", s)
	}
}

// TestSize counts as AWS does for the quotas: whitespace does not count.
func TestSize(t *testing.T) {
	cases := []struct {
		doc  string
		want int
	}{
		{`{}`, 2},
		{"{ \n\t\"a\" : 1 }", 7},
		{`{"Sid":"é"}`, 11},
	}
	for _, c := range cases {
		if got := Size(c.doc); got != c.want {
			t.Errorf("Size(%q) = %d, want %d", c.doc, got, c.want)
		}
	}
	managed := `{"Version":"2012-10-17","Statement":[` + strings.Repeat(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},`, 100) + `]}`
	if Size(managed) != len(managed) {
		t.Errorf("a document without whitespace counts its characters")
	}
}

// FuzzParse checks that Parse never panics and that whatever it accepts can
// be evaluated.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::${aws:username}/*"}}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"123456789012"},"Action":"s3:*","Resource":"*","Condition":{"ForAllValues:StringLike":{"aws:TagKeys":["a*","${*}"]}}}]}`,
		`{"Statement":{"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:iam::*:*"}}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]},"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}}}`,
	} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, doc string, k uint8) {
		kind := Kind(k % 6)
		p, err := Parse(doc, kind)
		if err != nil {
			var me *MalformedPolicyError
			if !errors.As(err, &me) || me.Message == "" {
				t.Fatalf("error %v is not a MalformedPolicyError with a message", err)
			}
			return
		}
		set := PolicySet{Identity: []*Policy{p}}
		if kind.hasPrincipal() {
			set = PolicySet{ResourcePolicy: p}
		}
		req := Request{Principal: user("bob"), Action: "s3:GetObject", Resources: []string{"arn:aws:s3:::bob/x"},
			Context: Context{}.Set("aws:SourceIp", "10.1.2.3").Set("aws:TagKeys", "a", "b")}
		Evaluate(req, set)
	})
}
