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
		{"empty statement list", Identity, `{` + v + `"Statement":[]}`, msgSyntax},
		{"statement object", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`, ""},
		{"version 2008", Identity, `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`, ""},
		{"no version", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`, ""},
		{"id", Identity, `{` + v + `"Id":"my-policy","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`, ""},
		{"unknown statement element", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Foo":1}}`, msgSyntax},
		{"no effect", Identity, `{` + v + `"Statement":{"Action":"s3:*","Resource":"*"}}`, msgSyntax},
		{"effect in the wrong case", Identity, `{` + v + `"Statement":{"Effect":"allow","Action":"s3:*","Resource":"*"}}`, msgLegacy},
		{"bad effect", Identity, `{` + v + `"Statement":{"Effect":"Permit","Action":"s3:*","Resource":"*"}}`, msgSyntax},
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
		{"resource short arn", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3"}}`, ""},
		{"colon only in a variable", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"${aws:username}"}}`, `Resource ${aws:username} must be in ARN format or "*".`},
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
		{"condition key without vendor", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"username":"bob"}}}}`, ""},
		{"condition number value", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":10}}}}`, ""},
		{"condition bool value", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":true}}}}`, ""},
		{"condition bad number", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":"ten"}}}}`, msgLegacy},
		{"condition bad date", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}}}`, msgLegacy},
		{"condition bad cidr", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}}`, msgLegacy},
		{"condition empty list", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:username":[]}}}}`, ""},
		{"condition object value", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:username":{"a":1}}}}}`, msgSyntax},
		{"condition null bad", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Null":{"aws:TokenIssueTime":"maybe"}}}}`, msgLegacy},
		{"condition set and ifexists", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"ForAnyValue:StringLikeIfExists":{"aws:TagKeys":"a*"}}}}`, ""},
		{"legacy keeps principal message", Identity, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}`, msgNoPrincipalHere},
		{"no version, same checks", Identity, `{"Statement":{"Effect":"Allow","Action":"GetObject","Resource":"*"}}`, msgVendor},
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
		kind := Kind(k % 7)
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

// TestIAMValidation: IAM's answers to CreatePolicy for faulty documents as
// moto's tests record them (tests/test_iam/test_iam_policies.py), and the
// order in which classes of faults win.
func TestIAMValidation(t *testing.T) {
	// st is a 2012-10-17 document of one statement given as JSON members.
	st := func(members string) string {
		return `{"Version":"2012-10-17","Statement":{` + members + `}}`
	}
	const ok = `"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket"`
	cases := []struct {
		name string
		doc  string
		want string
	}{
		{"no version", `{"Statement":{` + ok + `}}`, msgVersion},
		{"version 2008", `{"Version":"2008-10-17","Statement":{` + ok + `}}`, msgVersion},
		{"version beats legacy", `{"Statement":{"Effect":"denY","Action":"s3:ListBucket","Resource":"*"}}`, msgVersion},
		{"version beats sid", `{"Statement":[{"Sid":"a",` + ok + `},{"Sid":"a","Effect":"Allow"}]}`, msgVersion},
		{"unknown version", `{"Version":"2013-10-17","Statement":{` + ok + `}}`, msgSyntax},
		{"version only", `{"Version":"2012-10-17"}`, msgSyntax},
		{"statement of strings", `{"Version":"2012-10-17","Statement":["afd"]}`, msgSyntax},
		{"id list", `{"Version":"2012-10-17","Id":["x"],"Statement":{` + ok + `}}`, msgSyntax},
		{"id object", `{"Version":"2012-10-17","Id":{},"Statement":{` + ok + `}}`, msgSyntax},
		{"sid object", st(`"Sid":{},` + ok), msgSyntax},
		{"effect invalid", st(`"Effect":"invalid","Action":"s3:ListBucket","Resource":"*"`), msgSyntax},
		{"effect case", st(`"Effect":"denY","Action":"s3:ListBucket","Resource":"*"`), msgLegacy},
		{"effect case beats missing action", st(`"Effect":"allow","Resource":"arn:aws:s3:us-east-1::example_bucket"`), msgLegacy},
		{"no effect", st(`"Action":"s3:ListBucket","Resource":"*"`), msgSyntax},
		{"action not a vendor", st(`"Effect":"Allow","Action":"invalid","Resource":"*"`), msgVendor},
		{"empty notaction", st(`"Effect":"Allow","NotAction":"","Resource":"*"`), msgVendor},
		{"vendor with space", st(`"Effect":"Allow","Action":"a a:ListBucket","Resource":"*"`), "Vendor a a is not valid"},
		{"two colons", st(`"Effect":"Allow","Action":"s3:List:Bucket","Resource":"*"`), msgOneColon},
		{"two colons beat resource format", st(`"Effect":"Allow","Action":"s:3:ListBucket","Resource":"sdfsadf"`), msgOneColon},
		{"resource words", st(`"Effect":"Allow","Action":"s3:ListBucket","Resource":"invalid resource"`), `Resource invalid resource must be in ARN format or "*".`},
		{"resource empty", st(`"Effect":"Allow","Action":"s3:ListBucket","Resource":""`), `Resource  must be in ARN format or "*".`},
		{"resource list item", st(`"Effect":"Allow","Action":"s3:ListBucket","Resource":["adf"]`), `Resource adf must be in ARN format or "*".`},
		{"two-part resource", st(`"Effect":"Allow","NotAction":"s3s:ListBucket","Resource":"a:bsdfdsafsad"`), `Partition "bsdfdsafsad" is not valid for resource "arn:bsdfdsafsad:*:*:*:*".`},
		{"three-part resource", st(`"Effect":"Allow","NotAction":"s3s:ListBucket","Resource":"a:b:cadfsdf"`), `Partition "b" is not valid for resource "arn:b:cadfsdf:*:*:*".`},
		{"long resource", st(`"Effect":"Allow","NotAction":"s3s:ListBucket","Resource":"a:b:c:d:e:f:g:h"`), `Partition "b" is not valid for resource "arn:b:c:d:e:f:g:h".`},
		{"resource without arn", st(`"Effect":"Allow","Action":"s3:ListBucket","Resource":"aws:s3:::example_bucket"`), `Partition "s3" is not valid for resource "arn:s3:::example_bucket:*".`},
		{"bad partition", st(`"Effect":"Allow","Action":"s3:ListBucket","Resource":["arn:error:s3:::example_bucket","arn:error:s3::example_bucket"]`), `Partition "error" is not valid for resource "arn:error:s3:::example_bucket".`},
		{"bad partition alone", st(`"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:error:s3:::example_bucket"`), `Partition "error" is not valid for resource "arn:error:s3:::example_bucket".`},
		{"no resource", st(`"Effect":"Allow","Action":"s3:ListBucket"`), msgNoResources},
		{"resources before vendor", st(`"Effect":"Allow","Action":"invalid"`), msgNoResources},
		{"no action", st(`"Effect":"Allow","Resource":"arn:aws:s3:::example_bucket"`), msgNoActions},
		{"effect only", st(`"Effect":"Allow"`), msgNoActions},
		{"first statement without action", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny"},{` + ok + `}]}`, msgNoActions},
		{"iam path", st(`"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:iam:::example_bucket"`), `IAM resource path must either be "*" or start with user/, federated-user/, role/, group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, oidc-provider/, report/, access-report/.`},
		{"five-part arn", st(`"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3::example_bucket"`), msgLegacy},
		{"five-part arn without action", st(`"Effect":"Allow","Resource":"arn:aws:s3::example_bucket"`), msgLegacy},
		{"five-part notresource", st(`"Effect":"Allow","Action":"s3:ListBucket","NotResource":"arn:aws:s3::example_bucket"`), msgLegacy},
		{"no service", st(`"Effect":"Allow","NotAction":"s3:ListBucket","Resource":"arn:aws::::example_bucket"`), msgLegacy},
		{"no service short", st(`"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws::fdsasf"`), msgLegacy},
		{"no vendor", st(`"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws"`), "Resource vendor must be fully qualified and cannot contain regexes."},
		{"resource object", st(`"Effect":"Allow","Action":"s3:ListBucket","Resource":{"a":"arn:aws:s3:::example_bucket"}`), msgSyntax},
		{"resource list with object", st(`"Effect":"Deny","Action":"s3:ListBucket","Resource":["adfdf",{}]`), msgSyntax},
		{"resource and empty notresource", st(`"Effect":"Allow","NotAction":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket","NotResource":[]`), msgSyntax},
		{"action list of lists", st(`"Effect":"Deny","Action":[[]],"Resource":"arn:aws:s3:::example_bucket"`), msgSyntax},
		{"action object", st(`"Effect":"Allow","Action":{},"Resource":"arn:aws:s3:::example_bucket"`), msgSyntax},
		{"notaction and empty action", st(`"Effect":"Allow","NotAction":"s3s:ListBucket","Action":[],"Resource":"*"`), msgSyntax},
		{"condition list", st(ok + `,"Condition":[]`), msgSyntax},
		{"condition string", st(ok + `,"Condition":"a"`), msgSyntax},
		{"condition operator string", st(ok + `,"Condition":{"a":"b"}`), msgSyntax},
		{"condition operator value string", st(ok + `,"Condition":{"DateGreaterThan":"b"}`), msgSyntax},
		{"condition operator value list", st(ok + `,"Condition":{"DateGreaterThan":[]}`), msgSyntax},
		{"condition value object", st(ok + `,"Condition":{"DateGreaterThan":{"a":{}}}`), msgSyntax},
		{"condition value object without action", st(`"Effect":"Allow","Resource":"*","Condition":{"DateGreaterThan":{"a":{}}}`), msgSyntax},
		{"unknown operator", st(ok + `,"Condition":{"x":{"a":"1"}}`), msgSyntax},
		{"double colon operator", st(ok + `,"Condition":{"ForAnyValue::StringEqualsIfExists":{"a":"asf"}}`), msgSyntax},
		{"condition block list", st(ok + `,"Condition":[{"ForAllValues:StringEquals":{"aws:TagKeys":"Department"}}]`), msgSyntax},
		{"iam region", st(`"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:iam:us-east-1::example_bucket"`), "IAM resource arn:aws:iam:us-east-1::example_bucket cannot contain region information."},
		{"s3 region", st(`"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:us-east-1::example_bucket"`), "Resource arn:aws:s3:us-east-1::example_bucket can not contain region information."},
		{"duplicate sid", `{"Version":"2012-10-17","Statement":[{"Sid":"sdf",` + ok + `},{"Sid":"sdf","Effect":"Allow"}]}`, msgSidUnique},
		{"bad date", st(ok + `,"Condition":{"DateGreaterThan":{"a":"sdfdsf"}}`), msgLegacy},
		{"bad date without action", st(`"Effect":"Allow","Condition":{"DateGreaterThan":{"a":"sdfdsf"}}`), msgLegacy},
		{"bad date and partition", st(`"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:error:s3:::example_bucket","Condition":{"DateGreaterThan":{"a":"sdfdsf"}}`), msgLegacy},
		{"date out of range", st(ok + `,"Condition":{"DateLessThan":{"a":"9223372036854775808"}}`), msgLegacy},
		{"bad date form", st(ok + `,"Condition":{"DateLessThanEquals":{"a":"234-13"}}`), msgLegacy},
		// Valid documents.
		{"action name with spaces", st(`"Effect":"Allow","Action":"iam: asdf safdsf af ","Resource":"arn:aws:s3:::example_bucket"`), ""},
		{"resource list with star", st(`"Effect":"Allow","Action":"s3:ListBucket","Resource":["arn:aws:s3:::example_bucket","*"]`), ""},
		{"unknown vendor", st(`"Effect":"Allow","Action":"fsx:ListBucket","Resource":"arn:aws:s3:::example_bucket"`), ""},
		{"vendor with dash and dot", st(`"Effect":"Allow","Action":["s3-s:ListBucket","s3.s:ListBucket"],"Resource":"*"`), ""},
		{"iam user path", st(`"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:iam:::user/example_bucket"`), ""},
		{"unknown service", st(`"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s33:::example_bucket"`), ""},
		{"three-part arn", st(`"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:fdsasf"`), ""},
		{"regional service", st(`"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:cloudwatch:us-east-1::example_bucket"`), ""},
		{"placeholder segments", st(`"Effect":"Allow","Action":"ec2:StartInstances","Resource":"arn:aws:ec2:region:account-id:instance/*"`), ""},
		{"empty condition", st(ok + `,"Condition":{}`), ""},
		{"empty operator", st(ok + `,"Condition":{"DateGreaterThan":{}}`), ""},
		{"empty values", st(ok + `,"Condition":{"DateGreaterThan":{"a":[]}}`), ""},
		{"unknown operator without keys", st(ok + `,"Condition":{"x":{},"y":{}}`), ""},
		{"key without vendor", st(ok + `,"Condition":{"ForAnyValue:StringEqualsIfExists":{"a":"asf"}}`), ""},
		{"date with fraction and zone", st(ok + `,"Condition":{"DateLessThanEquals":{"a":"2016-12-13T21:20:37.593194+00:00"}}`), ""},
		{"negative epoch", st(ok + `,"Condition":{"DateLessThan":{"a":"-292275054"}}`), ""},
		{"variables", st(`"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::bucket-name/cognito/app/${cognito-identity.amazonaws.com:sub}/*","arn:aws:iam::*:user/${aws:username}"]`), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.doc, Managed)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("Parse: %v", err)
			case c.want != "" && (err == nil || err.Error() != c.want):
				t.Fatalf("Parse error = %v, want %q", err, c.want)
			}
		})
	}
}
