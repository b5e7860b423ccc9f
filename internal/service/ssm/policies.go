package ssm

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/minicloud/minicloud/internal/api/ssmapi"
)

// Parameter policies (advanced parameters only): a JSON array of
// {"Type", "Version", "Attributes"} objects. Expiration deletes the
// parameter at its Timestamp (records.go hides it from then on);
// ExpirationNotification and NoChangeNotification would send EventBridge
// events, which minicloud does not have yet: they are validated and kept,
// and their status stays Pending.

const (
	policyExpiration             = "Expiration"
	policyExpirationNotification = "ExpirationNotification"
	policyNoChangeNotification   = "NoChangeNotification"
	maxPolicies                  = 10
)

// policy is one parameter policy as stored.
type policy struct {
	Type string
	// Text is the policy as the request gave it, compacted.
	Text string
	// Expires is an Expiration policy's Timestamp.
	Expires time.Time `json:",omitempty"`
}

func errPolicyType() error {
	return clientError("InvalidPolicyTypeException",
		"The policy type is not supported. Parameter Store supports the following policy types: Expiration, ExpirationNotification, and NoChangeNotification.")
}

func errPolicyAttribute(format string, args ...any) error {
	return clientError("InvalidPolicyAttributeException", format, args...)
}

// parsePolicies checks a PutParameter Policies member.
func parsePolicies(text string, now time.Time) ([]policy, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		// A single object is accepted as a one-policy list, as the
		// console writes it.
		var one json.RawMessage
		if json.Unmarshal([]byte(text), &one) != nil || len(one) == 0 || one[0] != '{' {
			return nil, errPolicyAttribute("A policy attribute or its value is invalid. Policies must be a JSON array of policies.")
		}
		raw = []json.RawMessage{one}
	}
	if len(raw) > maxPolicies {
		return nil, clientError("PoliciesLimitExceededException",
			"You specified more than the maximum number of allowed policies for the parameter. The maximum is %d.", maxPolicies)
	}
	var out []policy
	seen := map[string]bool{}
	for _, r := range raw {
		var p struct {
			Type       string
			Version    string
			Attributes map[string]any
		}
		if err := json.Unmarshal(r, &p); err != nil {
			return nil, errPolicyAttribute("A policy attribute or its value is invalid.")
		}
		if seen[p.Type] {
			return nil, clientError("IncompatiblePolicyException",
				"There is a conflict in the policies specified for this parameter. You can't, for example, specify two Expiration policies for a parameter. Review your policies, and try again.")
		}
		seen[p.Type] = true
		if p.Version != "" && p.Version != "1.0" {
			return nil, errPolicyAttribute("A policy attribute or its value is invalid: Version must be 1.0.")
		}
		pol := policy{Type: p.Type}
		switch p.Type {
		case policyExpiration:
			ts, _ := p.Attributes["Timestamp"].(string)
			t, err := parseTimestamp(ts)
			if err != nil {
				return nil, errPolicyAttribute("A policy attribute or its value is invalid: Timestamp %q is not an ISO 8601 time.", ts)
			}
			if !t.After(now) {
				return nil, errPolicyAttribute("A policy attribute or its value is invalid: the expiration Timestamp must be in the future.")
			}
			pol.Expires = t.UTC()
		case policyExpirationNotification:
			if err := checkPeriod(p.Attributes, "Before"); err != nil {
				return nil, err
			}
		case policyNoChangeNotification:
			if err := checkPeriod(p.Attributes, "After"); err != nil {
				return nil, err
			}
		default:
			return nil, errPolicyType()
		}
		compact, _ := json.Marshal(json.RawMessage(r))
		pol.Text = string(compact)
		out = append(out, pol)
	}
	if seen[policyExpirationNotification] && !seen[policyExpiration] {
		return nil, clientError("IncompatiblePolicyException",
			"There is a conflict in the policies specified for this parameter. An ExpirationNotification policy needs an Expiration policy. Review your policies, and try again.")
	}
	return out, nil
}

// parseTimestamp reads an Expiration Timestamp: ISO 8601 with a zone, or a
// date alone.
func parseTimestamp(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z0700", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, strconv.ErrSyntax
}

// checkPeriod checks a notification's period: a positive whole number and
// a unit of Days or Hours.
func checkPeriod(attrs map[string]any, key string) error {
	v := attrs[key]
	var n int
	switch x := v.(type) {
	case string:
		var err error
		if n, err = strconv.Atoi(x); err != nil {
			n = 0
		}
	case float64:
		n = int(x)
	}
	if n <= 0 {
		return errPolicyAttribute("A policy attribute or its value is invalid: %s must be a positive number.", key)
	}
	if u, _ := attrs["Unit"].(string); u != "Days" && u != "Hours" {
		return errPolicyAttribute("A policy attribute or its value is invalid: Unit must be Days or Hours.")
	}
	return nil
}

// inline is the policies as the API shows them (an empty list for none).
func inline(ps []policy) []ssmapi.ParameterInlinePolicy {
	out := []ssmapi.ParameterInlinePolicy{}
	for _, p := range ps {
		out = append(out, ssmapi.ParameterInlinePolicy{PolicyText: new(p.Text), PolicyType: new(p.Type), PolicyStatus: new("Pending")})
	}
	return out
}
