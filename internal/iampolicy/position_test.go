package iampolicy

import "testing"

// TestStatementPositions: statements' places as AWS's simulator answers
// them, from the AWS CLI's documented examples (simulate-custom-policy:
// one line, Statement an object; simulate-principal-policy: an indented
// document) and lists of statements.
func TestStatementPositions(t *testing.T) {
	// The principal-policy example does not show its document; this one
	// is laid out as a console-formatted one is, its statement on lines 3
	// to 9.
	pretty := "{\n    \"Version\": \"2012-10-17\",\n    \"Statement\": {\n        \"Effect\": \"Allow\",\n        \"Action\": [\n" +
		"            \"codecommit:ListRepositories\"\n        ],\n        \"Resource\": \"*\"\n        }\n}"
	for _, tc := range []struct {
		name string
		doc  string
		want [][2]Position
	}{
		{"simulate-custom-policy example",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}`,
			[][2]Position{{{1, 38}, {1, 167}}}},
		{"simulate-principal-policy example", pretty, [][2]Position{{{3, 19}, {9, 10}}}},
		{"a list on one line",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}, {"Effect":"Deny","Action":"s3:Put*","Resource":"*"}]}`,
			[][2]Position{{{1, 39}, {1, 87}}, {{1, 90}, {1, 140}}}},
		{"a list over lines, Statement first",
			"{\"Statement\": [\n  {\"Effect\":\"Allow\",\"Action\":\"ec2:*\",\"Resource\":\"*\"},\n  {\"Effect\":\"Deny\",\"Action\":\"ec2:Run*\",\"Resource\":\"*\"}\n], \"Version\": \"2012-10-17\"}",
			[][2]Position{{{2, 4}, {2, 53}}, {{3, 4}, {3, 55}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.doc, Identity)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Statements) != len(tc.want) {
				t.Fatalf("%d statements, want %d", len(p.Statements), len(tc.want))
			}
			for i, st := range p.Statements {
				if got := [2]Position{st.Start, st.End}; got != tc.want[i] {
					t.Errorf("statement %d at %v, want %v", i, got, tc.want[i])
				}
			}
		})
	}
}
