package iampolicy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/minicloud/minicloud/internal/lazyregexp"
)

// Kind is where a policy document is used; it decides which elements the
// grammar requires or forbids.
type Kind int

const (
	// Identity is a policy attached to a user, group or role (managed or
	// inline): no Principal, Resource required.
	Identity Kind = iota
	// Resource is a resource-based policy (bucket, queue, key…): Principal
	// required.
	Resource
	// Trust is a role's trust policy: a resource policy whose resource is
	// the role, so Principal is required and Resource is not allowed.
	Trust
	// Boundary is an identity policy used as a permissions boundary.
	Boundary
	// Session is a session policy passed to AssumeRole or
	// GetFederationToken.
	Session
	// SCP is an AWS Organizations service control policy.
	SCP
	// Managed is an identity policy created as a managed policy
	// (CreatePolicy, CreatePolicyVersion), which must be Version
	// 2012-10-17; inline policies may still be 2008-10-17 or have none.
	Managed
)

func (k Kind) String() string {
	switch k {
	case Identity:
		return "identity"
	case Resource:
		return "resource"
	case Trust:
		return "trust"
	case Boundary:
		return "boundary"
	case Session:
		return "session"
	case SCP:
		return "scp"
	case Managed:
		return "managed"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// hasPrincipal is whether the kind's statements name a principal.
func (k Kind) hasPrincipal() bool { return k == Resource || k == Trust }

// Policy versions.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Effect is a statement's Effect.
type Effect uint8

// Effects.
const (
	Allow Effect = iota + 1
	Deny
)

func (e Effect) String() string {
	if e == Deny {
		return "Deny"
	}
	return "Allow"
}

// Policy is a parsed, validated policy document, compiled for evaluation.
// It is immutable and safe to share between goroutines.
type Policy struct {
	// Name names the policy in a Decision: the caller sets it (a managed
	// policy's ARN, an inline policy's name, "bucket policy"…).
	Name       string
	Version    string
	ID         string
	Kind       Kind
	Statements []Statement
}

// Statement is one statement of a policy.
type Statement struct {
	Sid    string
	Effect Effect
	// Principal is set for Principal and NotPrincipal (NotPrincipal true).
	Principal    *Principals
	NotPrincipal bool
	// Actions (NotAction when NotAction is true), as written.
	Actions   []string
	NotAction bool
	// Resources (NotResource when NotResource is true); empty in a trust
	// policy, which applies to the role itself.
	Resources   []string
	NotResource bool
	Conditions  []Condition
	// Start and End are where the statement is in its document (zero for
	// a statement not parsed from one).
	Start, End Position

	actions   []pattern
	resources []arnPattern
}

// Principals is a Principal or NotPrincipal element. All is "*" (or
// {"AWS": "*"}).
type Principals struct {
	All           bool
	AWS           []string
	Service       []string
	Federated     []string
	CanonicalUser []string
}

// MalformedPolicyError is a document the grammar refuses; Error() is the
// message AWS returns with MalformedPolicyDocument (IAM) or MalformedPolicy
// (S3 and others).
type MalformedPolicyError struct {
	Message string
}

func (e *MalformedPolicyError) Error() string { return e.Message }

// The messages AWS returns. Confirmed ones are quoted by users from real
// responses or listed by moto's tests of IAM's validation (see
// TestConfirmedMessages); the rest are inferred (see doc.go).
const (
	// Confirmed.
	msgSyntax          = "Syntax errors in policy."
	msgLegacy          = "The policy failed legacy parsing"
	msgVersion         = "Policy document must be version 2012-10-17 or greater."
	msgNoPrincipalHere = "Policy document should not specify a principal."
	msgMissingPrinc    = "Missing required field Principal"
	msgNoActions       = "Policy statement must contain actions."
	msgNoResources     = "Policy statement must contain resources."
	msgVendor          = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
	msgOneColon        = "Actions/Condition can contain only one colon."
	msgSidUnique       = "Statement IDs (SID) in a single policy must be unique."
	// Reported once (a 2026 pull request quoting AWS).
	msgVendorWildcard = "Action vendors (e.g., aws, ec2, etc.) must not contain wildcards"
	// Inferred.
	msgResourceInTrust = "Has prohibited field Resource"
	msgSidAlnum        = "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
)

func malformed(format string, args ...any) error {
	return &MalformedPolicyError{Message: fmt.Sprintf(format, args...)}
}

var (
	accountID    = lazyregexp.New(`^[0-9]{12}$`)
	principalARN = lazyregexp.New(`^arn:aws[a-z-]*:(iam::[0-9]{12}:(root|user/.+|role/.+|federated-user/.+)|sts::[0-9]{12}:(assumed-role/[^/]+/.+|federated-user/.+))$`)
	partitions   = map[string]bool{"aws": true, "aws-cn": true, "aws-us-gov": true, "aws-iso": true, "aws-iso-b": true, "aws-iso-e": true, "aws-iso-f": true, "aws-eusc": true, "*": true}
)

// Parse validates doc as a policy of the given kind and compiles it. The
// error is a *MalformedPolicyError carrying AWS's message.
//
// The checks run in the order AWS's answers show (where a document has
// several faults, the first class wins): JSON and element syntax; the
// version (managed policies); the "legacy parsing" faults of any
// statement; unique Sids; then statement by statement the principal,
// actions and resources present, and their formats.
func Parse(doc string, kind Kind) (*Policy, error) {
	p, raws, err := decode(doc, kind)
	if err != nil {
		return nil, err
	}
	if kind == Managed && p.Version != Version2012 {
		return nil, malformed(msgVersion)
	}
	for i := range raws {
		if raws[i].legacy() {
			return nil, malformed(msgLegacy)
		}
	}
	if kind != Resource && kind != Trust {
		sids := map[string]bool{}
		for i := range raws {
			if sid := raws[i].Sid; sid != "" {
				if sids[sid] {
					return nil, malformed(msgSidUnique)
				}
				sids[sid] = true
			}
		}
	}
	vars := p.Version == Version2012
	spans := statementSpans(doc)
	for i := range raws {
		s, err := raws[i].check(kind, vars)
		if err != nil {
			return nil, err
		}
		if len(spans) == len(raws) {
			s.Start, s.End = spans[i][0], spans[i][1]
		}
		p.Statements = append(p.Statements, s)
	}
	return p, nil
}

// MustParse is Parse for documents known to be valid (AWS managed
// policies, tests); it panics otherwise.
func MustParse(doc string, kind Kind) *Policy {
	p, err := Parse(doc, kind)
	if err != nil {
		panic(fmt.Sprintf("iampolicy: %v", err))
	}
	return p
}

// rawStatement is a statement whose elements have the right JSON types,
// not yet checked.
type rawStatement struct {
	Sid                       string
	effect                    string
	principal                 json.RawMessage
	hasPrincipal, notPrinc    bool
	actions                   []string
	hasActions, notAction     bool
	resources                 []string
	hasResources, notResource bool
	conditions                []Condition
	condLegacy                bool
}

// decode is the syntax phase: every fault in it is "Syntax errors in
// policy.".
func decode(doc string, kind Kind) (*Policy, []rawStatement, error) {
	syntax := malformed(msgSyntax)
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var top map[string]json.RawMessage
	if err := dec.Decode(&top); err != nil || top == nil || dec.More() {
		return nil, nil, syntax
	}
	p := &Policy{Kind: kind}
	for k, v := range top {
		switch k {
		case "Version":
			if json.Unmarshal(v, &p.Version) != nil {
				return nil, nil, syntax
			}
		case "Id":
			if json.Unmarshal(v, &p.ID) != nil {
				return nil, nil, syntax
			}
		case "Statement":
		default:
			return nil, nil, syntax
		}
	}
	switch p.Version {
	case Version2012, Version2008, "":
	default:
		return nil, nil, syntax
	}
	raw, ok := top["Statement"]
	if !ok {
		return nil, nil, syntax
	}
	var stmts []json.RawMessage
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '{' {
		stmts = []json.RawMessage{raw}
	} else if json.Unmarshal(raw, &stmts) != nil || len(stmts) == 0 {
		return nil, nil, syntax
	}
	vars := p.Version == Version2012
	out := make([]rawStatement, 0, len(stmts))
	for _, r := range stmts {
		var m map[string]json.RawMessage
		if json.Unmarshal(r, &m) != nil || m == nil {
			return nil, nil, syntax
		}
		var rs rawStatement
		for k, v := range m {
			var err error
			switch k {
			case "Sid":
				err = json.Unmarshal(v, &rs.Sid)
			case "Effect":
				err = json.Unmarshal(v, &rs.effect)
			case "Principal", "NotPrincipal":
				if rs.hasPrincipal {
					return nil, nil, syntax
				}
				rs.principal, rs.hasPrincipal, rs.notPrinc = v, true, k == "NotPrincipal"
			case "Action", "NotAction":
				if rs.hasActions {
					return nil, nil, syntax
				}
				rs.actions, err = stringOrList(v)
				rs.hasActions, rs.notAction = true, k == "NotAction"
			case "Resource", "NotResource":
				if rs.hasResources {
					return nil, nil, syntax
				}
				rs.resources, err = stringOrList(v)
				rs.hasResources, rs.notResource = true, k == "NotResource"
			case "Condition":
				rs.conditions, rs.condLegacy, err = parseConditions(v, vars)
			default:
				return nil, nil, syntax
			}
			if err != nil {
				return nil, nil, syntax
			}
		}
		if !strings.EqualFold(rs.effect, "Allow") && !strings.EqualFold(rs.effect, "Deny") {
			return nil, nil, syntax
		}
		out = append(out, rs)
	}
	return p, out, nil
}

// legacy is whether the statement has a fault IAM reports as "The policy
// failed legacy parsing": an Effect in the wrong case, a date or number
// that does not parse, an ARN of a valid partition with five segments or
// without a service.
func (rs *rawStatement) legacy() bool {
	if rs.effect != "Allow" && rs.effect != "Deny" {
		return true
	}
	if rs.condLegacy {
		return true
	}
	for _, r := range rs.resources {
		if r == "*" || !strings.Contains(r, ":") {
			continue
		}
		// A resource whose partition is wrong gets the partition message
		// instead.
		parts := splitARN(r)
		if len(parts) > 1 && partitions[parts[1]] && (len(parts) == 5 || (len(parts) >= 3 && parts[2] == "")) {
			return true
		}
	}
	return false
}

// check is the last phase, on one statement, and compiles it.
func (rs *rawStatement) check(kind Kind, vars bool) (Statement, error) {
	s := Statement{Sid: rs.Sid, Effect: Allow, NotPrincipal: rs.notPrinc, Actions: rs.actions, NotAction: rs.notAction,
		Resources: rs.resources, NotResource: rs.notResource, Conditions: rs.conditions}
	if rs.effect == "Deny" {
		s.Effect = Deny
	}
	if s.Sid != "" && kind != Resource && kind != Trust && strings.IndexFunc(s.Sid, func(r rune) bool {
		return r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r))
	}) >= 0 {
		return s, malformed(msgSidAlnum)
	}
	switch {
	case rs.hasPrincipal && !kind.hasPrincipal():
		return s, malformed(msgNoPrincipalHere)
	case !rs.hasPrincipal && kind.hasPrincipal():
		return s, malformed(msgMissingPrinc)
	case rs.hasPrincipal:
		var err error
		if s.Principal, err = parsePrincipals(rs.principal); err != nil {
			return s, err
		}
	}
	if len(s.Actions) == 0 {
		return s, malformed(msgNoActions)
	}
	switch {
	case kind == Trust && rs.hasResources:
		return s, malformed(msgResourceInTrust)
	case kind != Trust && len(s.Resources) == 0:
		return s, malformed(msgNoResources)
	}
	for _, a := range s.Actions {
		if err := checkAction(a); err != nil {
			return s, err
		}
		s.actions = append(s.actions, compilePattern(a, true, false))
	}
	for _, r := range s.Resources {
		if err := checkResource(r); err != nil {
			return s, err
		}
		s.resources = append(s.resources, compileARN(r, vars))
	}
	return s, nil
}

// stringOrList reads an element that is a string or an array of strings.
func stringOrList(raw json.RawMessage) ([]string, error) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var list []string
	if json.Unmarshal(raw, &list) != nil {
		return nil, malformed(msgSyntax)
	}
	return list, nil
}

var vendorName = lazyregexp.New(`^[A-Za-z0-9_.-]+$`)

func checkAction(a string) error {
	if a == "*" {
		return nil
	}
	vendor, _, ok := strings.Cut(a, ":")
	switch {
	case !ok || vendor == "":
		return malformed(msgVendor)
	case strings.Count(a, ":") > 1:
		return malformed(msgOneColon)
	case strings.ContainsAny(vendor, "*?"):
		return malformed(msgVendorWildcard)
	case !vendorName.MatchString(vendor):
		return malformed("Vendor %s is not valid", vendor)
	}
	return nil
}

// splitARN splits an ARN at its colons, but not at those inside a policy
// variable (${aws:username}).
func splitARN(r string) []string {
	var parts []string
	depth, from := 0, 0
	for i := 0; i < len(r); i++ {
		switch {
		case r[i] == '$' && i+1 < len(r) && r[i+1] == '{':
			depth++
		case r[i] == '}' && depth > 0:
			depth--
		case r[i] == ':' && depth == 0:
			parts = append(parts, r[from:i])
			from = i + 1
		}
	}
	return append(parts, r[from:])
}

// iamResourceTypes are the resource paths an IAM ARN may have, in the
// order AWS's message lists them.
var iamResourceTypes = []string{"user/", "federated-user/", "role/", "group/", "instance-profile/", "mfa/", "server-certificate/", "policy/", "sms-mfa/", "saml-provider/", "oidc-provider/", "report/", "access-report/"}

// checkResource is a Resource's format. AWS reads "x:y" as an ARN whose
// first segment it replaces with "arn" and pads missing segments with "*";
// its messages quote that form.
func checkResource(r string) error {
	if r == "*" {
		return nil
	}
	parts := splitARN(r)
	if len(parts) < 2 {
		// No colon, or only inside a policy variable.
		return malformed("Resource %s must be in ARN format or \"*\".", r)
	}
	parts[0] = "arn"
	padded := len(parts) < 6
	for len(parts) < 6 {
		parts = append(parts, "*")
	}
	norm := strings.Join(parts, ":")
	partition, service, region := parts[1], parts[2], parts[3]
	if !partitions[partition] && !strings.ContainsAny(partition, "*?$") {
		return malformed("Partition \"%s\" is not valid for resource \"%s\".", partition, norm)
	}
	if service == "" || strings.ContainsAny(service, "*?") {
		return malformed("Resource vendor must be fully qualified and cannot contain regexes.")
	}
	switch service {
	case "iam":
		if region != "" && !padded {
			return malformed("IAM resource %s cannot contain region information.", r)
		}
		path := strings.Join(parts[5:], ":")
		if path != "*" && !slices.ContainsFunc(iamResourceTypes, func(t string) bool { return strings.HasPrefix(path, t) }) {
			return malformed("IAM resource path must either be \"*\" or start with %s.", strings.Join(iamResourceTypes, ", "))
		}
	case "s3":
		if region != "" && !padded {
			return malformed("Resource %s can not contain region information.", r)
		}
	}
	return nil
}

func parsePrincipals(raw json.RawMessage) (*Principals, error) {
	var star string
	if json.Unmarshal(raw, &star) == nil {
		if star != "*" {
			return nil, malformed("Invalid principal in policy: %q", star)
		}
		return &Principals{All: true}, nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || len(m) == 0 {
		return nil, malformed(msgSyntax)
	}
	p := &Principals{}
	for k, v := range m {
		vals, err := stringOrList(v)
		if err != nil {
			return nil, err
		}
		for _, val := range vals {
			if err := checkPrincipal(k, val); err != nil {
				return nil, err
			}
		}
		switch k {
		case "AWS":
			for _, val := range vals {
				if val == "*" {
					p.All = true
				}
			}
			p.AWS = vals
		case "Service":
			p.Service = vals
		case "Federated":
			p.Federated = vals
		case "CanonicalUser":
			p.CanonicalUser = vals
		}
	}
	return p, nil
}

func checkPrincipal(typ, val string) error {
	bad := func() error {
		return malformed("Invalid principal in policy: \"%s\":\"%s\"", strings.ToUpper(typ), val)
	}
	switch typ {
	case "AWS":
		if val == "*" || accountID.MatchString(val) {
			return nil
		}
		if !principalARN.MatchString(val) || strings.ContainsAny(val, "*?") {
			return malformed("Invalid principal in policy: \"AWS\":\"%s\"", val)
		}
	case "Service":
		if val == "*" || val == "" || strings.ContainsAny(val, "*? /:") || !strings.Contains(val, ".") {
			return bad()
		}
	case "Federated":
		if val == "" || strings.ContainsAny(val, "*? ") {
			return bad()
		}
	case "CanonicalUser":
		if val == "" {
			return bad()
		}
	default:
		return malformed("Invalid principal in policy: \"%s\":\"%s\"", typ, val)
	}
	return nil
}

// Size is a policy document's size as AWS counts it against the quotas
// (managed 6,144, inline user 2,048, role 10,240, group 5,120, trust 2,048
// by default): characters, not bytes, and whitespace is not counted.
func Size(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}
