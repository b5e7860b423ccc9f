package cloudtrail

import "strings"

// readOnly: AWS marks each API read-only or not. minicloud derives it from
// the operation's name — the verbs that only read — with a table of the
// exceptions AWS marks otherwise among the operations minicloud serves.
var readVerbs = []string{"Describe", "Get", "List", "Lookup", "Search", "Filter", "Test", "Simulate", "Check", "Validate", "Download", "BatchGet", "Query", "Estimate", "Preview"}

// readOnlyExceptions are operations whose readOnly is not their verb's,
// by "service:Operation".
var readOnlyExceptions = map[string]bool{
	// STS's calls only issue credentials: AWS marks them read-only.
	"sts:AssumeRole":                 true,
	"sts:AssumeRoleWithWebIdentity":  true,
	"sts:AssumeRoleWithSAML":         true,
	"sts:DecodeAuthorizationMessage": true,
	// Insights queries read logs; starting and stopping one changes nothing.
	"logs:StartQuery":    true,
	"logs:StopQuery":     true,
	"logs:StartLiveTail": true,
	// Exporting a certificate hands out its private key.
	"acm:ExportCertificate": false,
}

// isReadOnly is an operation's readOnly.
func isReadOnly(service, op string) bool {
	if ro, ok := readOnlyExceptions[service+":"+op]; ok {
		return ro
	}
	return hasReadVerb(op)
}

func hasReadVerb(op string) bool {
	for _, v := range readVerbs {
		if strings.HasPrefix(op, v) {
			return true
		}
	}
	return false
}

// keepsResponse reports whether an event records the answer: AWS leaves
// responseElements null for calls that only read (a Describe's answer is
// not an event's business), but writes those of calls that create, change
// or issue something — AssumeRole and GetSessionToken included.
var responseExceptions = map[string]bool{
	"sts:GetSessionToken":    true,
	"sts:GetFederationToken": true,
	"sts:AssumeRole":         true,
	"logs:StartQuery":        true,
}

func keepsResponse(service, op string) bool {
	if keep, ok := responseExceptions[service+":"+op]; ok {
		return keep
	}
	return !hasReadVerb(op)
}
