package iam

import (
	"fmt"
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
	for svc := range linkedRoles {
		trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":[%q]},"Action":["sts:AssumeRole"]}]}`, svc)
		if _, err := iampolicy.Parse(trust, iampolicy.Trust); err != nil {
			t.Errorf("%s trust: %v", svc, err)
		}
	}
}
