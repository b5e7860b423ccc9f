package iampolicy

import (
	"fmt"
	"strings"
	"testing"
)

// benchSet is a typical user's set: three managed policies of ten
// statements each, with wildcards, NotAction, conditions and a variable,
// and a deny that does not apply; the allowing statement is the last one.
func benchSet(t testing.TB) PolicySet {
	var set PolicySet
	services := []string{"ec2", "rds", "elasticloadbalancing", "cloudwatch", "logs", "sns", "sqs", "dynamodb", "lambda", "kms"}
	for p := range 3 {
		var stmts []string
		for i := range 10 {
			svc := services[(p*10+i)%len(services)]
			switch i % 4 {
			case 0:
				stmts = append(stmts, fmt.Sprintf(`{"Sid":"S%d","Effect":"Allow","Action":["%s:Describe*","%s:List*","%s:Get*"],"Resource":"*"}`, i, svc, svc, svc))
			case 1:
				stmts = append(stmts, fmt.Sprintf(`{"Sid":"S%d","Effect":"Allow","Action":"%s:*","Resource":"arn:aws:%s:us-east-1:111122223333:*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"},"Bool":{"aws:SecureTransport":"true"}}}`, i, svc, svc))
			case 2:
				stmts = append(stmts, fmt.Sprintf(`{"Sid":"S%d","Effect":"Deny","Action":"%s:Delete*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalTag/team":"admins"}}}`, i, svc))
			case 3:
				stmts = append(stmts, fmt.Sprintf(`{"Sid":"S%d","Effect":"Allow","Action":"%s:Tag*","Resource":"*","Condition":{"ForAllValues:StringLike":{"aws:TagKeys":["team","env*"]},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.0.2.0/24"]}}}`, i, svc))
			}
		}
		if p == 2 {
			stmts[9] = `{"Sid":"Home","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::home-bucket/${aws:username}/*","Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}}`
		}
		doc := `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
		set.Identity = append(set.Identity, pol(t, Identity, fmt.Sprintf("arn:aws:iam::111122223333:policy/p%d", p), doc))
	}
	return set
}

func benchRequest() Request {
	p := user("bob")
	p.Tags = map[string]string{"team": "blue"}
	return Request{Principal: p, Action: "s3:GetObject", Resources: []string{"arn:aws:s3:::home-bucket/bob/notes.txt"},
		Context: Context{}.Set("aws:SourceIp", "10.1.2.3").Set("aws:RequestedRegion", "us-east-1").
			Set("aws:SecureTransport", "true").Set("aws:ResourceTag/team", "blue").Set("aws:CurrentTime", "2026-12-07T20:00:00Z")}
}

// BenchmarkEvaluate is the figure: one typical call (target
// < 50 µs).
func BenchmarkEvaluate(b *testing.B) {
	set := benchSet(b)
	req := benchRequest()
	if d := Evaluate(req, set); !d.Allowed() || d.Sid != "Home" {
		b.Fatalf("decision = %+v", d)
	}
	b.ReportAllocs()
	for b.Loop() {
		Evaluate(req, set)
	}
}

func BenchmarkParse(b *testing.B) {
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":["ec2:Describe*","s3:Get*"],"Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(doc, Identity); err != nil {
			b.Fatal(err)
		}
	}
}
