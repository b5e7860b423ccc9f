package authz

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"sync"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/codec"
	"github.com/minicloud/minicloud/internal/iampolicy"
	"github.com/minicloud/minicloud/internal/state"
)

// Policies answers the policies that apply to a principal: the IAM
// service implements it.
type Policies interface {
	// PoliciesFor returns the identity policies and permissions boundary
	// of the IAM user or role behind p (for a session, p.RoleARN's role),
	// and that entity's tags (aws:PrincipalTag before session tags). An
	// entity that no longer exists has none.
	PoliciesFor(ctx context.Context, p iampolicy.Principal) (iampolicy.PolicySet, map[string]string, error)
}

// ResourcePolicies answers a resource's own policy for an action: a
// role's trust policy for sts:AssumeRole. nil, nil: the resource has none
// or does not exist.
type ResourcePolicies interface {
	ResourcePolicy(ctx context.Context, action, arn string) (*iampolicy.Policy, error)
}

// ResourceTagger answers a resource's tags for aws:ResourceTag/…, from
// the service that owns it, when it can do so cheaply.
type ResourceTagger interface {
	ResourceTags(ctx context.Context, arn string) (tags map[string]string, found bool, err error)
}

// PathResolver answers the ARN, with its path, of an IAM entity a request
// names by name: a request names user "carol", AWS evaluates
// arn:aws:iam::…:user/eng/carol. IAM implements it.
type PathResolver interface {
	WithPath(ctx context.Context, arn string) (string, error)
}

// Config configures an Enforcer.
type Config struct {
	Policies Policies
	// Resources, if set, answers resource policies (trust policies).
	Resources ResourcePolicies
	// Taggers are the services that answer their resources' tags, by the
	// service part of the ARN ("iam", "ec2"…).
	Taggers map[string]ResourceTagger
	// Paths, if set, puts IAM entities' paths into the resource ARNs.
	Paths PathResolver
}

// Enforcer evaluates every request against the caller's policies
// (api.Authorizer).
type Enforcer struct {
	cfg Config
	// sessionDocs caches parsed session and endpoint policies by kind and
	// document (parsed).
	mu          sync.Mutex
	sessionDocs map[string]*iampolicy.Policy
	// messages seals EC2's encoded authorization messages.
	messages *messages
}

// New returns an Enforcer.
func New(cfg Config) *Enforcer {
	return &Enforcer{cfg: cfg, sessionDocs: map[string]*iampolicy.Policy{}, messages: newMessages()}
}

// unchecked are the actions AWS performs without asking the caller's
// policies: sts:GetCallerIdentity ("No permissions are required to
// perform this operation", even with an explicit deny), and the calls
// authorized by what they carry rather than by who signs them — a web
// identity token or SAML assertion, which STS checks against the role's
// trust policy itself.
var unchecked = map[string]bool{
	"sts:GetCallerIdentity":         true,
	"sts:AssumeRoleWithWebIdentity": true,
	"sts:AssumeRoleWithSAML":        true,
}

// Authorize implements api.Authorizer.
func (e *Enforcer) Authorize(ctx context.Context, req *api.AccessRequest) error {
	if unchecked[Action(req.Service.SigningName, req.Info.Operation)] {
		return nil
	}
	q, set, err := e.question(ctx, req)
	if err != nil {
		return err
	}
	if q.Principal.Type == iampolicy.Root && set.Endpoint == nil {
		// The account's root user may do anything in its account; there
		// are no SCPs or resource policies here that could stop it (a VPC
		// endpoint's policy can).
		return nil
	}
	d := iampolicy.Evaluate(q, set)
	if d.Allowed() {
		return nil
	}
	return e.denied(req.Protocol, d, &q)
}

// question builds the authorization question a request asks and the
// policies it is decided against.
func (e *Enforcer) question(ctx context.Context, req *api.AccessRequest) (iampolicy.Request, iampolicy.PolicySet, error) {
	p := principalOf(&req.Identity)
	q := iampolicy.Request{Principal: p}
	endpoint, err := e.endpointPolicy(req.Endpoint)
	if err != nil {
		return q, iampolicy.PolicySet{}, err
	}
	if p.Type == iampolicy.Root {
		if endpoint != nil {
			q.Action = Action(req.Service.SigningName, req.Info.Operation)
			q.Resources = Resources(req.Service.SigningName, req.Info.Operation, req.Input, state.PartitionOf(req.Info.Region), req.Info.Region, req.Info.Account)
			q.Context = requestContext(req)
		}
		return q, iampolicy.PolicySet{Endpoint: endpoint}, nil
	}
	set, tags, err := e.cfg.Policies.PoliciesFor(ctx, p)
	if err != nil {
		return q, set, fmt.Errorf("authz: policies of %s: %w", p.ARN, err)
	}
	set.Endpoint = endpoint
	if len(req.Identity.SessionTags) > 0 {
		// Session tags override the role's tags of the same key.
		tags = maps.Clone(tags)
		if tags == nil {
			tags = map[string]string{}
		}
		maps.Copy(tags, req.Identity.SessionTags)
	}
	q.Principal.Tags = tags
	if p.Type == iampolicy.FederatedUser {
		// GetFederationToken's session has no permissions beyond its
		// session policies, even when it was given none.
		set.SessionScoped = true
	}
	for _, doc := range req.Identity.SessionPolicies {
		pol, err := e.sessionPolicy(doc)
		if err != nil {
			return q, set, err
		}
		set.Session = append(set.Session, pol)
	}
	info := req.Info
	q.Action = Action(req.Service.SigningName, info.Operation)
	q.Resources = Resources(req.Service.SigningName, info.Operation, req.Input, state.PartitionOf(info.Region), info.Region, info.Account)
	if e.cfg.Paths != nil && req.Service.SigningName == "iam" {
		for i, r := range q.Resources {
			if q.Resources[i], err = e.cfg.Paths.WithPath(ctx, r); err != nil {
				return q, set, fmt.Errorf("authz: path of %s: %w", r, err)
			}
		}
	}
	q.Context = requestContext(req)
	if len(q.Resources) == 1 {
		if err := e.resourceSide(ctx, &q, &set); err != nil {
			return q, set, err
		}
	}
	return q, set, nil
}

// resourceSide adds what the one resource a request names contributes:
// its policy (a role's trust policy) and its tags.
func (e *Enforcer) resourceSide(ctx context.Context, q *iampolicy.Request, set *iampolicy.PolicySet) error {
	arn := q.Resources[0]
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return nil
	}
	if e.cfg.Resources != nil && strings.HasPrefix(q.Action, "sts:AssumeRole") {
		pol, err := e.cfg.Resources.ResourcePolicy(ctx, q.Action, arn)
		if err != nil {
			return fmt.Errorf("authz: policy of %s: %w", arn, err)
		}
		set.ResourcePolicy, set.ResourceAccount = pol, parts[4]
		// A role's trust policy must allow even within its account; a
		// role that does not exist allows no one.
		set.ResourceMustAllow = true
	}
	if t := e.cfg.Taggers[parts[2]]; t != nil && !strings.HasSuffix(arn, "*") {
		tags, found, err := t.ResourceTags(ctx, arn)
		if err != nil {
			return fmt.Errorf("authz: tags of %s: %w", arn, err)
		}
		if found {
			for k, v := range tags {
				q.Context.Set("aws:ResourceTag/"+k, v)
			}
		}
	}
	return nil
}

// endpointPolicy is the parsed policy of the VPC endpoint a request came
// through; nil when it came through none.
func (e *Enforcer) endpointPolicy(ep *api.VPCEndpoint) (*iampolicy.Policy, error) {
	if ep == nil || ep.Policy == "" {
		return nil, nil
	}
	pol, err := e.parsed(ep.Policy, iampolicy.Resource, "VPC endpoint policy")
	if err != nil {
		// EC2 validated it when the endpoint was created or modified.
		return nil, fmt.Errorf("authz: policy of %s: %w", ep.ID, err)
	}
	return pol, nil
}

// sessionDocLimit bounds the cache of parsed session policies.
const sessionDocLimit = 1024

func (e *Enforcer) sessionPolicy(doc string) (*iampolicy.Policy, error) {
	pol, err := e.parsed(doc, iampolicy.Session, "session policy")
	if err != nil {
		// STS validated it when it issued the session.
		return nil, fmt.Errorf("authz: session policy: %w", err)
	}
	return pol, nil
}

// parsed parses doc as a policy of kind named name, through the cache:
// sessions and endpoints carry the same documents on every request.
func (e *Enforcer) parsed(doc string, kind iampolicy.Kind, name string) (*iampolicy.Policy, error) {
	key := kind.String() + "\x00" + doc
	e.mu.Lock()
	pol, ok := e.sessionDocs[key]
	e.mu.Unlock()
	if ok {
		return pol, nil
	}
	pol, err := iampolicy.Parse(doc, kind)
	if err != nil {
		return nil, err
	}
	pol.Name = name
	e.mu.Lock()
	if len(e.sessionDocs) >= sessionDocLimit {
		clear(e.sessionDocs)
	}
	e.sessionDocs[key] = pol
	e.mu.Unlock()
	return pol, nil
}

// denied is the error a refused request is answered with, in its
// protocol's shape: EC2's UnauthorizedOperation (its message wrapped as
// EC2 words it, with an encoded authorization message that
// sts:DecodeAuthorizationMessage opens), the query and REST-XML
// protocols' AccessDenied, the JSON and CBOR protocols'
// AccessDeniedException; all 403.
func (e *Enforcer) denied(protocol string, d iampolicy.Decision, q *iampolicy.Request) error {
	msg := d.Message(q.Principal.ARN)
	switch protocol {
	case codec.EC2:
		return &codec.Error{Code: "UnauthorizedOperation", Status: http.StatusForbidden,
			Message: "You are not authorized to perform this operation. " + msg + ". Encoded authorization failure message: " + e.encode(d, q)}
	case codec.Query, codec.RestXML:
		return &codec.Error{Code: "AccessDenied", Status: http.StatusForbidden, Message: msg}
	}
	return &codec.Error{Code: "AccessDeniedException", Status: http.StatusForbidden, Message: msg}
}
