package iam

import (
	"testing"

	"github.com/minicloud/minicloud/internal/iampolicy"
)

// TestEmbeddedDocuments: every embedded AWS managed policy and every
// service-linked role's trust policy passes the grammar AWS applies.
func TestEmbeddedDocuments(t *testing.T) {
	if n := len(awsPolicies()); n < 16 {
		t.Fatalf("%d AWS managed policies embedded", n)
	}
	for arn, p := range awsPolicies() {
		if _, err := iampolicy.Parse(p.Versions[0].Doc, iampolicy.Managed); err != nil {
			t.Errorf("%s: %v", arn, err)
		}
	}
	for svc, lr := range linkedRoles {
		if awsPolicies()[lr.policy] == nil {
			t.Errorf("%s: policy %s is not embedded", svc, lr.policy)
		}
		if _, err := iampolicy.Parse(linkedTrust(svc), iampolicy.Trust); err != nil {
			t.Errorf("%s trust: %v", svc, err)
		}
	}
}
