package iam

import (
	"encoding/json"
	"net/http"
	"unicode"

	"github.com/minicloud/minicloud/internal/api"
)

// docKind is what a policy document is for; the grammar differs (a trust
// policy names principals, an identity policy must not).
type docKind int

const (
	identityDoc docKind = iota
	trustDoc
	boundaryDoc
)

// validateDoc is the one place policy documents are checked. It answers
// MalformedPolicyDocument as AWS does. Until the policy language package
// (internal/iampolicy) is merged it checks the document's outline only:
// JSON, an object, a Statement.
func validateDoc(doc string, _ docKind) error {
	var v map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return malformed("Syntax errors in policy.")
	}
	if _, ok := v["Statement"]; !ok {
		return malformed("Missing required field Statement")
	}
	return nil
}

func malformed(msg string) error {
	return api.Errorf(http.StatusBadRequest, "MalformedPolicyDocument", "%s", msg)
}

// docSize is a document's size as IAM's quotas count it: characters,
// whitespace excluded.
func docSize(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// Quotas on documents (IAM and AWS STS quotas).
const (
	managedPolicyQuota = 6144
	trustPolicyQuota   = 2048
	maxPolicyVersions  = 5
)
