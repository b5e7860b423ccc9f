package iampolicy

import (
	"encoding/json"
	"os"
	"testing"
)

// BenchmarkEvaluateReadOnlyAccess evaluates against AWS's largest common
// managed policy (ReadOnlyAccess, ~4,000 action patterns, embedded by the
// IAM service): an action it allows near its end, and one it does not
// (every pattern tried).
func BenchmarkEvaluateReadOnlyAccess(b *testing.B) {
	raw, err := os.ReadFile("../service/iam/awspolicies.json")
	if err != nil {
		b.Fatal(err)
	}
	var list []struct{ Name, Document string }
	if err := json.Unmarshal(raw, &list); err != nil {
		b.Fatal(err)
	}
	var set PolicySet
	for _, p := range list {
		if p.Name == "ReadOnlyAccess" {
			set.Identity = []*Policy{pol(b, Managed, "arn:aws:iam::aws:policy/ReadOnlyAccess", p.Document)}
		}
	}
	if set.Identity == nil {
		b.Fatal("ReadOnlyAccess is not embedded")
	}
	for _, tc := range []struct {
		action string
		allow  bool
	}{{"xray:GetTraceSummaries", true}, {"ec2:RunInstances", false}} {
		b.Run(tc.action, func(b *testing.B) {
			req := benchRequest()
			req.Action, req.Resources = tc.action, nil
			if d := Evaluate(req, set); d.Allowed() != tc.allow {
				b.Fatalf("decision = %+v", d)
			}
			b.ReportAllocs()
			for b.Loop() {
				Evaluate(req, set)
			}
		})
	}
}
