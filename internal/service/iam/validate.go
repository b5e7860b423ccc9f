package iam

import (
	"errors"
	"net/http"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/iampolicy"
)

// validateDoc is the one place policy documents are checked: by the policy
// language's grammar for the document's kind (iampolicy.Managed for
// CreatePolicy/CreatePolicyVersion, Identity for inline policies, Trust
// for AssumeRolePolicyDocument), answering MalformedPolicyDocument with
// AWS's message.
func validateDoc(doc string, kind iampolicy.Kind) error {
	_, err := iampolicy.Parse(doc, kind)
	var m *iampolicy.MalformedPolicyError
	if errors.As(err, &m) {
		return api.Errorf(http.StatusBadRequest, "MalformedPolicyDocument", "%s", m.Message)
	}
	return err
}

// docSize is a document's size as IAM's quotas count it.
func docSize(doc string) int { return iampolicy.Size(doc) }

// Quotas on documents (IAM and AWS STS quotas).
const (
	managedPolicyQuota = 6144
	trustPolicyQuota   = 2048
	maxPolicyVersions  = 5
)
