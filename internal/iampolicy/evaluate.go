package iampolicy

import (
	"slices"
	"strings"
)

// PrincipalType is the kind of caller.
type PrincipalType uint8

// Principal types. Their aws:PrincipalType values are Account, User,
// AssumedRole, FederatedUser, Anonymous; a service has none.
const (
	Anonymous PrincipalType = iota
	Root
	User
	AssumedRole
	FederatedUser
	ServicePrincipal
)

// Principal is who makes a request.
type Principal struct {
	Type PrincipalType
	// ARN is the caller's ARN: arn:aws:iam::123456789012:root,
	// …:user/path/name, arn:aws:sts::123456789012:assumed-role/Role/session,
	// arn:aws:sts::123456789012:federated-user/name.
	ARN     string
	Account string
	// RoleARN is, for an assumed-role session, the role's ARN with its path
	// (aws:PrincipalArn); for a federated user, the IAM user who called
	// GetFederationToken.
	RoleARN string
	// UserID is aws:userid (AIDA… for a user, AROA…:session for a role
	// session, the account for root); Username is aws:username (users
	// only).
	UserID   string
	Username string
	// Tags are the principal's tags, with session tags already merged in
	// (aws:PrincipalTag/…).
	Tags map[string]string
	// Service is the service principal's name ("ec2.amazonaws.com").
	Service string
	// Federated is the identity provider of a web-identity or SAML caller,
	// matched by a trust policy's "Federated" principal.
	Federated     string
	CanonicalUser string
}

// Context is a request's condition keys and their values (multi-valued),
// keyed lower-case because condition keys are case-insensitive. Build it
// with Set.
type Context map[string][]string

// Set adds a key's values, replacing earlier ones.
func (c Context) Set(key string, values ...string) Context {
	c[strings.ToLower(key)] = values
	return c
}

// Request is one authorization question: may Principal do Action on each
// of Resources?
type Request struct {
	Principal Principal
	// Action is "service:Operation", e.g. "ec2:RunInstances".
	Action string
	// Resources are the ARNs the action touches; none means "*" (actions
	// without resource-level permissions). Each must be allowed.
	Resources []string
	Context   Context
}

// PolicySet is every policy that applies to a request.
type PolicySet struct {
	// Identity: the principal's managed and inline policies, and its
	// groups'.
	Identity []*Policy
	// ResourcePolicy is the resource's policy (nil: none) and
	// ResourceAccount the account that owns the resource (empty: the
	// principal's own).
	ResourcePolicy  *Policy
	ResourceAccount string
	// Boundary is the principal's permissions boundary (nil: none).
	Boundary *Policy
	// Session holds the session policies of an assumed-role or federated
	// session (none: the session is not scoped down).
	Session []*Policy
	// SessionScoped says the session policies limit the session even when
	// there are none, which then allows nothing: a federated user's
	// (GetFederationToken without a policy has no permissions).
	SessionScoped bool
	// SCPs are the service control policies by level of the organization
	// (root, each OU, the account): every level must allow. Nil when the
	// account is in no organization, or is its management account.
	SCPs [][]*Policy
	// ResourceMustAllow says the resource policy must allow the caller even
	// within its account, as a KMS key policy must; a Trust policy always
	// must ("IAM role trust policies and KMS key policies are exceptions").
	ResourceMustAllow bool
	// Endpoint is the policy of the VPC endpoint the request came through
	// (nil: none). It is a resource-based document (with Principal) that
	// must allow the request, whoever the caller, the account's root user
	// included; it grants nothing by itself.
	Endpoint *Policy
}

// Outcome is a decision's result.
type Outcome uint8

// Outcomes.
const (
	ImplicitDeny Outcome = iota
	Allowed
	ExplicitDeny
)

func (o Outcome) String() string {
	switch o {
	case Allowed:
		return "allowed"
	case ExplicitDeny:
		return "explicitDeny"
	}
	return "implicitDeny"
}

// PolicyType names a kind of policy the way AWS's AccessDenied messages do.
type PolicyType string

// Policy types in messages.
const (
	IdentityBased  PolicyType = "identity-based"
	ResourceBased  PolicyType = "resource-based"
	BoundaryPolicy PolicyType = "permissions boundary"
	SessionPolicy  PolicyType = "session"
	SCPPolicy      PolicyType = "service control"
	EndpointPolicy PolicyType = "VPC endpoint"
)

// phrase is the type as it reads inside "…in a(n) X policy".
func (t PolicyType) phrase() string {
	if t == BoundaryPolicy {
		return "permissions boundary"
	}
	return string(t) + " policy"
}

// Decision is the answer to a Request.
type Decision struct {
	Outcome Outcome
	// Type is the policy type that decided: the deny's, the missing
	// allow's, or for an Allow the policy that granted it.
	Type PolicyType
	// Policy and Sid are the deciding statement's policy name and Sid (for
	// an explicit deny or an allow).
	Policy string
	Sid    string
	// Statement is the deciding statement itself (nil when none decided),
	// with its place in its document.
	Statement *Statement
	// Action and Resource are the ones decided (for several resources,
	// the first one denied).
	Action   string
	Resource string
}

// Allowed is whether the request may proceed.
func (d Decision) Allowed() bool { return d.Outcome == Allowed }

// Reason is the clause AWS's AccessDenied message ends with: "with an
// explicit deny in an identity-based policy", "because no permissions
// boundary allows the ec2:RunInstances action"…
func (d Decision) Reason() string {
	switch d.Outcome {
	case ExplicitDeny:
		return "with an explicit deny in " + article(d.Type) + " " + d.Type.phrase()
	case ImplicitDeny:
		return "because no " + d.Type.phrase() + " allows the " + d.Action + " action"
	}
	return ""
}

func article(t PolicyType) string {
	if t == IdentityBased {
		return "an"
	}
	return "a"
}

// Message is AWS's AccessDenied message for a denied decision, e.g.
// "User: arn:aws:iam::123456789012:user/bob is not authorized to perform:
// ec2:RunInstances on resource: arn:aws:ec2:…:instance/* because no
// identity-based policy allows the ec2:RunInstances action". The resource
// is left out when it is "*", as AWS does.
func (d Decision) Message(principalARN string) string {
	var b strings.Builder
	b.WriteString("User: ")
	b.WriteString(principalARN)
	b.WriteString(" is not authorized to perform: ")
	b.WriteString(d.Action)
	if d.Resource != "" && d.Resource != "*" {
		b.WriteString(" on resource: ")
		b.WriteString(d.Resource)
	}
	if r := d.Reason(); r != "" {
		b.WriteByte(' ')
		b.WriteString(r)
	}
	return b.String()
}

// Evaluate decides req against set as AWS's policy evaluation logic
// documents it; see the package documentation for the rules.
func Evaluate(req Request, set PolicySet) Decision {
	if len(req.Resources) == 0 {
		return evaluateOne(&req, &set, "*")
	}
	var last Decision
	for _, res := range req.Resources {
		d := evaluateOne(&req, &set, res)
		if !d.Allowed() {
			return d
		}
		last = d
	}
	return last
}

// grant is how a resource policy's Allow named the caller, which decides
// what else the request needs within one account.
type grant uint8

const (
	grantNone    grant = iota
	grantAccount       // the account (root ARN or bare ID): delegates to identity policies
	grantRole          // the role ARN, for one of its sessions
	grantDirect        // the caller itself: "*", its user or session ARN, its service
)

// evaluation carries one request against one resource.
type evaluation struct {
	req      *Request
	set      *PolicySet
	resource string
	action   string
	resolve  resolver
}

func evaluateOne(req *Request, set *PolicySet, resource string) Decision {
	e := &evaluation{req: req, set: set, resource: resource, action: req.Action}
	e.resolve = e.lookupOne
	d := Decision{Action: req.Action, Resource: resource}
	p := &req.Principal
	resAccount := set.ResourceAccount
	if resAccount == "" {
		resAccount = p.Account
	}
	crossAccount := p.Type != ServicePrincipal && p.Type != Anonymous && resAccount != p.Account

	// 1. An explicit deny anywhere decides.
	for _, level := range set.SCPs {
		if pol, sid, ok := e.find(level, Deny); ok {
			return deny(d, SCPPolicy, pol, sid)
		}
	}
	if rp := set.ResourcePolicy; rp != nil {
		if st, ok := e.findResourceDeny(rp); ok {
			return deny(d, ResourceBased, rp.Name, st)
		}
	}
	if ep := set.Endpoint; ep != nil {
		if st, ok := e.findResourceDeny(ep); ok {
			return deny(d, EndpointPolicy, ep.Name, st)
		}
		// Nothing passes an endpoint whose policy does not allow it.
		if g, _ := e.resourceGrant(ep); g == grantNone {
			d.Type = EndpointPolicy
			return d
		}
	}
	if p.Type != Root {
		if pol, sid, ok := e.find(set.Identity, Deny); ok {
			return deny(d, IdentityBased, pol, sid)
		}
		if set.Boundary != nil {
			if pol, sid, ok := e.find([]*Policy{set.Boundary}, Deny); ok {
				return deny(d, BoundaryPolicy, pol, sid)
			}
		}
		if pol, sid, ok := e.find(set.Session, Deny); ok {
			return deny(d, SessionPolicy, pol, sid)
		}
	}

	// 2. Every level of the organization must allow.
	for _, level := range set.SCPs {
		if _, _, ok := e.find(level, Allow); !ok {
			d.Type = SCPPolicy
			return d
		}
	}

	// 3. The resource policy.
	var g grant
	var gPol string
	var gSid *Statement
	if rp := set.ResourcePolicy; rp != nil {
		g, gSid = e.resourceGrant(rp)
		gPol = rp.Name
	}
	switch p.Type {
	case Anonymous, ServicePrincipal:
		if g == grantDirect {
			return allow(d, ResourceBased, gPol, gSid)
		}
		d.Type = ResourceBased
		return d
	case Root:
		// The root user is not subject to identity policies; only an
		// explicit deny (above) or another account's resource stops it.
		if !crossAccount || g != grantNone {
			return allow(d, IdentityBased, "", nil)
		}
		d.Type = ResourceBased
		return d
	}
	if !crossAccount {
		switch {
		case g == grantDirect:
			// A grant to the user, the session or "*" needs nothing else
			// within the account, not even the boundary or session policy.
			return allow(d, ResourceBased, gPol, gSid)
		case g == grantRole:
			// A grant to the role ARN stands in for the identity policies,
			// but the session's boundary and session policies still limit it.
			if dd, ok := e.limits(d); !ok {
				return dd
			}
			return allow(d, ResourceBased, gPol, gSid)
		}
	}

	// 4. The identity side: identity policies, boundary, session policies.
	idPol, idSid, idOK := e.find(set.Identity, Allow)
	if !idOK {
		d.Type = IdentityBased
		return d
	}
	if dd, ok := e.limits(d); !ok {
		return dd
	}
	// 5. Across accounts the resource's account must allow too, and so
	// must a trust or key policy within one.
	mustGrant := crossAccount || set.ResourceMustAllow || (set.ResourcePolicy != nil && set.ResourcePolicy.Kind == Trust)
	if mustGrant && g == grantNone {
		d.Type = ResourceBased
		return d
	}
	return allow(d, IdentityBased, idPol, idSid)
}

// limits checks the permissions boundary and session policies, which
// intersect what was granted.
func (e *evaluation) limits(d Decision) (Decision, bool) {
	if b := e.set.Boundary; b != nil {
		if _, _, ok := e.find([]*Policy{b}, Allow); !ok {
			d.Type = BoundaryPolicy
			return d, false
		}
	}
	if len(e.set.Session) > 0 || e.set.SessionScoped {
		if _, _, ok := e.find(e.set.Session, Allow); !ok {
			d.Type = SessionPolicy
			return d, false
		}
	}
	return d, true
}

func deny(d Decision, t PolicyType, pol string, st *Statement) Decision {
	d.Outcome, d.Type = ExplicitDeny, t
	return decided(d, pol, st)
}

func allow(d Decision, t PolicyType, pol string, st *Statement) Decision {
	d.Outcome, d.Type = Allowed, t
	return decided(d, pol, st)
}

func decided(d Decision, pol string, st *Statement) Decision {
	d.Policy, d.Statement = pol, st
	if st != nil {
		d.Sid = st.Sid
	}
	return d
}

// find returns the first statement of effect in policies that applies to
// the request (action, resource, conditions; principals are not looked at).
func (e *evaluation) find(policies []*Policy, effect Effect) (string, *Statement, bool) {
	for _, pol := range policies {
		for i := range pol.Statements {
			st := &pol.Statements[i]
			if st.Effect == effect && e.applies(st) {
				return pol.Name, st, true
			}
		}
	}
	return "", nil, false
}

// findResourceDeny finds a Deny of the resource policy that names the
// caller.
func (e *evaluation) findResourceDeny(rp *Policy) (*Statement, bool) {
	for i := range rp.Statements {
		st := &rp.Statements[i]
		if st.Effect == Deny && e.applies(st) && e.principalDenied(st) {
			return st, true
		}
	}
	return nil, false
}

// resourceGrant is the strongest way an Allow of the resource policy names
// the caller.
func (e *evaluation) resourceGrant(rp *Policy) (grant, *Statement) {
	best, sid := grantNone, (*Statement)(nil)
	for i := range rp.Statements {
		st := &rp.Statements[i]
		if st.Effect != Allow || !e.applies(st) {
			continue
		}
		if g := e.principalGrant(st); g > best {
			best, sid = g, st
		}
	}
	return best, sid
}

// applies is whether a statement's Action, Resource and Condition match.
func (e *evaluation) applies(st *Statement) bool {
	if !matchAny(st.actions, e.action, st.NotAction) {
		return false
	}
	if st.resources != nil {
		hit := false
		for i := range st.resources {
			if st.resources[i].match(e.resource, e.resolve) {
				hit = true
				break
			}
		}
		if hit == st.NotResource {
			return false
		}
	}
	for i := range st.Conditions {
		c := &st.Conditions[i]
		if !c.eval(e.lookup(c.key), e.resolve) {
			return false
		}
	}
	return true
}

func matchAny(pats []pattern, s string, not bool) bool {
	hit := false
	for i := range pats {
		if pats[i].match(s, true, nil) {
			hit = true
			break
		}
	}
	return hit != not
}

// principalGrant is how an Allow statement's Principal names the caller.
func (e *evaluation) principalGrant(st *Statement) grant {
	pr := st.Principal
	if pr == nil {
		return grantNone
	}
	if st.NotPrincipal {
		if e.excludedBy(pr) {
			return grantNone
		}
		return grantDirect
	}
	return e.named(pr)
}

// named is the strongest match of the caller in a Principal element.
func (e *evaluation) named(pr *Principals) grant {
	p := &e.req.Principal
	if pr.All {
		return grantDirect
	}
	best := grantNone
	for _, v := range pr.AWS {
		switch {
		case p.ARN != "" && v == p.ARN:
			return grantDirect
		case p.Type == AssumedRole && p.RoleARN != "" && v == p.RoleARN:
			best = max(best, grantRole)
		case p.Account != "" && p.Type != ServicePrincipal && p.Type != Anonymous && (v == p.Account || v == rootARN(v, p.Account)):
			if p.Type == Root {
				return grantDirect
			}
			best = max(best, grantAccount)
		}
	}
	if p.Type == ServicePrincipal && containsFold(pr.Service, p.Service) {
		return grantDirect
	}
	if p.Federated != "" && slices.Contains(pr.Federated, p.Federated) {
		return grantDirect
	}
	if p.CanonicalUser != "" && slices.Contains(pr.CanonicalUser, p.CanonicalUser) {
		return grantDirect
	}
	return best
}

// rootARN is v when v is the root ARN of account, in any partition.
func rootARN(v, account string) string {
	if strings.HasPrefix(v, "arn:") && strings.HasSuffix(v, ":iam::"+account+":root") {
		return v
	}
	return ""
}

// principalDenied is whether a Deny statement's Principal or NotPrincipal
// covers the caller.
func (e *evaluation) principalDenied(st *Statement) bool {
	if st.Principal == nil {
		return false
	}
	if st.NotPrincipal {
		// AWS: a Deny with NotPrincipal always denies a principal that has
		// a permissions boundary, whatever NotPrincipal lists.
		if e.set.Boundary != nil {
			return true
		}
		return !e.excludedBy(st.Principal)
	}
	return e.named(st.Principal) != grantNone
}

// excludedBy is whether NotPrincipal lists the caller. AWS checks every
// identity the request carries — the session, its role, the account — so
// each must be listed for the caller to be left out.
func (e *evaluation) excludedBy(pr *Principals) bool {
	if pr.All {
		return true
	}
	p := &e.req.Principal
	switch p.Type {
	case ServicePrincipal:
		return containsFold(pr.Service, p.Service)
	case Anonymous:
		return false
	}
	listed := func(arn string) bool { return slices.Contains(pr.AWS, arn) }
	if !listed(p.ARN) {
		return false
	}
	if p.Type == AssumedRole && p.RoleARN != "" && !listed(p.RoleARN) {
		return false
	}
	if p.Type != Root && !listed(p.Account) && !containsRoot(pr.AWS, p.Account) {
		return false
	}
	return true
}

func containsRoot(list []string, account string) bool {
	for _, v := range list {
		if rootARN(v, account) != "" {
			return true
		}
	}
	return false
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
