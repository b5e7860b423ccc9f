package model

import (
	"net/url"
	"testing"
)

func TestURIPatternMatch(t *testing.T) {
	tests := []struct {
		pattern, path, query string
		ok                   bool
		labels               map[string]string
	}{
		{"/", "/", "", true, map[string]string{}},
		{"/2013-04-01/hostedzone", "/2013-04-01/hostedzone", "", true, map[string]string{}},
		{"/2013-04-01/hostedzone/{Id}", "/2013-04-01/hostedzone/Z123", "", true, map[string]string{"Id": "Z123"}},
		{"/2013-04-01/hostedzone/{Id}/rrset/", "/2013-04-01/hostedzone/Z1/rrset/", "", true, map[string]string{"Id": "Z1"}},
		{"/2013-04-01/hostedzone/{Id}/rrset/", "/2013-04-01/hostedzone/Z1/rrset", "", true, map[string]string{"Id": "Z1"}},
		{"/2013-04-01/hostedzone/{Id}", "/2013-04-01/hostedzone/", "", false, nil},
		{"/{Bucket}/{Key+}", "/b/a/b%20c/d", "", true, map[string]string{"Bucket": "b", "Key": "a/b c/d"}},
		{"/{Bucket}/{Key+}", "/b", "", false, nil},
		{"/{Bucket}?uploads", "/b", "uploads", true, map[string]string{"Bucket": "b"}},
		{"/{Bucket}?uploads", "/b", "", false, nil},
		{"/{Bucket}?list-type=2", "/b", "list-type=2", true, map[string]string{"Bucket": "b"}},
		{"/{Bucket}?list-type=2", "/b", "list-type=1", false, nil},
		{"/v1/{Name}:batchGet", "/v1/x:batchGet", "", true, map[string]string{"Name": "x"}},
		{"/restapis/{restapi_id}", "/restapis/a/b", "", false, nil},
		{"/a/{B}", "/a/%zz", "", false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.pattern+" "+tc.path+"?"+tc.query, func(t *testing.T) {
			p, err := ParseURIPattern(tc.pattern)
			if err != nil {
				t.Fatal(err)
			}
			q, _ := url.ParseQuery(tc.query)
			labels, ok := p.Match(tc.path, q)
			if ok != tc.ok {
				t.Fatalf("match = %v, want %v", ok, tc.ok)
			}
			for k, v := range tc.labels {
				if labels[k] != v {
					t.Errorf("label %s = %q, want %q", k, labels[k], v)
				}
			}
		})
	}
}

func TestSpecificityPrefersLiterals(t *testing.T) {
	lit, _ := ParseURIPattern("/2013-04-01/hostedzonesbyname")
	label, _ := ParseURIPattern("/2013-04-01/{Thing}")
	query, _ := ParseURIPattern("/{Bucket}?uploads")
	plain, _ := ParseURIPattern("/{Bucket}")
	if lit.Specificity() <= label.Specificity() || query.Specificity() <= plain.Specificity() {
		t.Fatal("a literal segment or a required query key must outrank a label")
	}
}

func FuzzURIPattern(f *testing.F) {
	f.Add("/{Bucket}/{Key+}?uploads", "/b/k/x")
	f.Add("/2013-04-01/hostedzone/{Id}/rrset/", "/2013-04-01/hostedzone/Z/rrset/")
	f.Fuzz(func(t *testing.T, pattern, path string) {
		p, err := ParseURIPattern(pattern)
		if err != nil {
			return
		}
		_, _ = p.Match(path, url.Values{})
		_ = p.Specificity()
	})
}

func TestLoadKeepsMemberOrder(t *testing.T) {
	svc, err := Load([]byte(`{"metadata":{"protocol":"query"},"operations":{"Op":{"name":"Op","http":{"method":"POST","requestUri":"/"},"input":{"shape":"In"}}},
	"shapes":{"In":{"type":"structure","required":["Z"],"members":{"Z":{"shape":"S"},"A":{"shape":"S","locationName":"a"},"M":{"shape":"S"}}},"S":{"type":"string"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	in := svc.Operations["Op"].Input.Shape
	if got := in.MemberNames; len(got) != 3 || got[0] != "Z" || got[1] != "A" || got[2] != "M" {
		t.Fatalf("member order %v", got)
	}
	if !in.IsRequired("Z") || in.IsRequired("A") || in.Members["A"].Shape.Name != "S" {
		t.Fatal("required or linking wrong")
	}
	if _, err := Load([]byte(`{"shapes":{"X":{"type":"structure","members":{"A":{"shape":"Missing"}}}}}`)); err == nil {
		t.Fatal("a dangling shape reference must fail")
	}
}
