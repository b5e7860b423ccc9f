package iam

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/api/iamapi"
	"github.com/minicloud/minicloud/internal/iampolicy"
	"github.com/minicloud/minicloud/internal/state"
)

// Simulation runs the enforcement engine (iampolicy.Evaluate) on the
// policies of an entity (SimulatePrincipalPolicy) or on documents given
// (SimulateCustomPolicy), one EvaluationResult per action: the decision,
// the statement that decided it (its policy's name and type; positions
// in the document are not given), the context keys the policies'
// conditions name that the request did not provide (all the policies'
// condition keys, not only those of statements that matched the action:
// a superset of AWS's answer), and per resource the same when
// ResourceArns are given. Results are paged by action.

// source names a policy in MatchedStatements: SourcePolicyId and
// SourcePolicyType ("user", "group", "role", "aws-managed",
// "user-managed", "resource", "none" for PolicyInputList's).
type source struct{ id, typ string }

// simulation is one simulation's policies and what names them.
type simulation struct {
	set      iampolicy.PolicySet
	sources  map[*iampolicy.Policy]source
	byName   map[string]source
	listKeys []string
}

func (sim *simulation) add(list *[]*iampolicy.Policy, p *iampolicy.Policy, src source) {
	*list = append(*list, p)
	sim.byName[p.Name] = src
	for i := range p.Statements {
		for _, c := range p.Statements[i].Conditions {
			if !slices.ContainsFunc(sim.listKeys, func(k string) bool { return strings.EqualFold(k, c.Key) }) {
				sim.listKeys = append(sim.listKeys, c.Key)
			}
		}
	}
}

// parseInputs parses PolicyInputList-style documents, named as AWS names
// them ("PolicyInputList.1"…).
func (sim *simulation) parseInputs(docs []string, member string, kind iampolicy.Kind, into *[]*iampolicy.Policy) error {
	for i, doc := range docs {
		if err := validateDoc(doc, kind); err != nil {
			return err
		}
		p, _ := iampolicy.Parse(doc, kind)
		p.Name = fmt.Sprintf("%s.%d", member, i+1)
		sim.add(into, p, source{p.Name, "none"})
	}
	return nil
}

// SimulatePrincipalPolicy simulates the policies of a user (with its
// groups'), group or role, plus any given, for a list of actions.
func (s *Service) SimulatePrincipalPolicy(ctx context.Context, in *iamapi.SimulatePrincipalPolicyRequest) (*iamapi.SimulatePolicyResponse, error) {
	sim := &simulation{byName: map[string]source{}}
	src := *in.PolicySourceArn
	p := iampolicy.Principal{ARN: src, Account: account(ctx), Type: iampolicy.User}
	err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		var k kind
		switch {
		case strings.Contains(src, ":user/"):
			k = userKind
			p.Username = src[strings.LastIndexByte(src, '/')+1:]
		case strings.Contains(src, ":group/"):
			k = groupKind
		case strings.Contains(src, ":role/"):
			k, p.Type, p.RoleARN = roleKind, iampolicy.AssumedRole, src
		default:
			return invalidInput("Invalid Entity Arn: %s does not clearly define entity type and name.", src)
		}
		h, err := k.get(tx, sc, src[strings.LastIndexByte(src, '/')+1:])
		if err != nil || h.base().ARN != src {
			return noSuchEntity("Entity %s does not exist.", src)
		}
		b := h.base()
		p.UserID, p.Tags = b.ID, tagMap(b.Tags)
		holders, err := withGroups(tx, sc, h)
		if err != nil {
			return err
		}
		for _, h := range holders {
			if err := sim.entityPolicies(tx, sc, h, &sim.set.Identity); err != nil {
				return err
			}
		}
		if b.Boundary != "" && len(in.PermissionsBoundaryPolicyInputList) == 0 {
			pol, err := managedPolicy(tx, sc, b.Boundary, iampolicy.Boundary)
			if err != nil {
				return err
			}
			sim.set.Boundary = pol
			sim.byName[pol.Name] = managedSource(b.Boundary)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if in.CallerArn != nil {
		p.ARN = *in.CallerArn
	}
	return s.simulate(ctx, sim, p, simInput{in.PolicyInputList, in.PermissionsBoundaryPolicyInputList, in.ActionNames, in.ResourceArns,
		in.ResourcePolicy, in.ResourceOwner, in.ContextEntries, in.MaxItems, in.Marker})
}

// SimulateCustomPolicy simulates the given policies alone.
func (s *Service) SimulateCustomPolicy(ctx context.Context, in *iamapi.SimulateCustomPolicyRequest) (*iamapi.SimulatePolicyResponse, error) {
	sim := &simulation{byName: map[string]source{}}
	p := iampolicy.Principal{Type: iampolicy.User, Account: account(ctx)}
	if in.CallerArn != nil {
		p.ARN = *in.CallerArn
		p.Username = p.ARN[strings.LastIndexByte(p.ARN, '/')+1:]
	}
	return s.simulate(ctx, sim, p, simInput{in.PolicyInputList, in.PermissionsBoundaryPolicyInputList, in.ActionNames, in.ResourceArns,
		in.ResourcePolicy, in.ResourceOwner, in.ContextEntries, in.MaxItems, in.Marker})
}

// simInput is what both simulations take.
type simInput struct {
	policies, boundaries, actions, resources []string
	resourcePolicy, resourceOwner            *string
	context                                  []iamapi.ContextEntry
	maxItems                                 *int32
	marker                                   *string
}

func managedSource(arn string) source {
	typ := "user-managed"
	if strings.Contains(arn, ":iam::aws:") {
		typ = "aws-managed"
	}
	return source{arn[strings.LastIndexByte(arn, '/')+1:], typ}
}

// entityPolicies adds an entity's inline and attached policies.
func (sim *simulation) entityPolicies(tx state.Tx, sc state.Scope, h holder, into *[]*iampolicy.Policy) error {
	var pols []*iampolicy.Policy
	if err := identityPolicies(tx, sc, h.base(), &pols); err != nil {
		return err
	}
	for _, pol := range pols {
		src := source{pol.Name, nounOf(h)}
		if strings.HasPrefix(pol.Name, "arn:") {
			src = managedSource(pol.Name)
		}
		sim.add(into, pol, src)
	}
	return nil
}

func (s *Service) simulate(ctx context.Context, sim *simulation, p iampolicy.Principal, in simInput) (*iamapi.SimulatePolicyResponse, error) {
	if err := sim.parseInputs(in.policies, "PolicyInputList", iampolicy.Identity, &sim.set.Identity); err != nil {
		return nil, err
	}
	if len(in.boundaries) > 0 {
		var bs []*iampolicy.Policy
		if err := sim.parseInputs(in.boundaries, "PermissionsBoundaryPolicyInputList", iampolicy.Boundary, &bs); err != nil {
			return nil, err
		}
		sim.set.Boundary = bs[0]
	}
	if in.resourcePolicy != nil {
		if err := validateDoc(*in.resourcePolicy, iampolicy.Resource); err != nil {
			return nil, err
		}
		rp, _ := iampolicy.Parse(*in.resourcePolicy, iampolicy.Resource)
		rp.Name = "ResourcePolicy"
		var list []*iampolicy.Policy
		sim.add(&list, rp, source{"ResourcePolicy", "resource"})
		sim.set.ResourcePolicy = rp
		sim.set.ResourceAccount = deref(in.resourceOwner)
		if p.ARN == "" {
			return nil, invalidInput("Invalid Input: CallerArn must be specified when a ResourcePolicy is provided.")
		}
	}
	if len(in.actions) == 0 {
		return nil, validationError("1 validation error detected: Value null at 'actionNames' failed to satisfy constraint: Member must not be null")
	}
	c := iampolicy.Context{}
	for _, e := range in.context {
		c.Set(deref(e.ContextKeyName), e.ContextKeyValues...)
	}
	var missing []string
	for _, k := range sim.listKeys {
		if _, ok := c[strings.ToLower(k)]; !ok && !principalKey(k) {
			missing = append(missing, k)
		}
	}
	type indexed struct {
		i int
		r iamapi.EvaluationResult
	}
	var all []indexed
	for i, action := range in.actions {
		all = append(all, indexed{i, sim.result(p, action, in.resources, c, missing)})
	}
	pg, trunc, marker, err := page(all, in.maxItems, in.marker, func(x indexed) string { return fmt.Sprintf("%06d", x.i) })
	if err != nil {
		return nil, err
	}
	out := &iamapi.SimulatePolicyResponse{EvaluationResults: []iamapi.EvaluationResult{}, IsTruncated: trunc, Marker: marker}
	for _, x := range pg {
		out.EvaluationResults = append(out.EvaluationResults, x.r)
	}
	return out, nil
}

// principalKey is whether the engine answers a condition key from the
// principal or the clock, so a simulation never misses it.
func principalKey(k string) bool {
	k = strings.ToLower(k)
	switch k {
	case "aws:username", "aws:userid", "aws:principalarn", "aws:principalaccount", "aws:principaltype", "aws:currenttime", "aws:epochtime":
		return true
	}
	return strings.HasPrefix(k, "aws:principaltag/")
}

// result is one action's EvaluationResult: over "*" without resources,
// else each resource's in ResourceSpecificResults, the action's decision
// the first denied one's.
func (sim *simulation) result(p iampolicy.Principal, action string, resources []string, c iampolicy.Context, missing []string) iamapi.EvaluationResult {
	eval := func(res string) iampolicy.Decision {
		return iampolicy.Evaluate(iampolicy.Request{Principal: p, Action: action, Resources: []string{res}, Context: c}, sim.set)
	}
	r := iamapi.EvaluationResult{EvalActionName: new(action), MissingContextValues: missing}
	if len(resources) == 0 {
		d := eval("*")
		r.EvalResourceName, r.EvalDecision, r.MatchedStatements = new("*"), new(d.Outcome.String()), sim.matched(d)
		r.PermissionsBoundaryDecisionDetail = sim.boundaryDetail(p, action, "*", c)
		return r
	}
	var first *iampolicy.Decision
	for _, res := range resources {
		d := eval(res)
		r.ResourceSpecificResults = append(r.ResourceSpecificResults, iamapi.ResourceSpecificResult{EvalResourceName: new(res),
			EvalResourceDecision: new(d.Outcome.String()), MatchedStatements: sim.matched(d), MissingContextValues: missing,
			PermissionsBoundaryDecisionDetail: sim.boundaryDetail(p, action, res, c)})
		if first == nil || first.Allowed() && !d.Allowed() {
			first = &d
		}
	}
	r.EvalResourceName = new(resources[0])
	if len(resources) > 1 {
		r.EvalResourceName = new("*")
	}
	r.EvalDecision, r.MatchedStatements = new(first.Outcome.String()), sim.matched(*first)
	return r
}

// matched is the statement that decided, as MatchedStatements, with its
// place in its document.
func (sim *simulation) matched(d iampolicy.Decision) []iamapi.Statement {
	if d.Policy == "" {
		return []iamapi.Statement{}
	}
	src, ok := sim.byName[d.Policy]
	if !ok {
		src = source{d.Policy, "none"}
	}
	st := iamapi.Statement{SourcePolicyId: new(src.id), SourcePolicyType: new(src.typ)}
	if d.Statement != nil && d.Statement.Start.Line > 0 {
		st.StartPosition = &iamapi.Position{Line: new(int32(d.Statement.Start.Line)), Column: new(int32(d.Statement.Start.Column))}
		st.EndPosition = &iamapi.Position{Line: new(int32(d.Statement.End.Line)), Column: new(int32(d.Statement.End.Column))}
	}
	return []iamapi.Statement{st}
}

// boundaryDetail says whether the permissions boundary allows the action
// on the resource, when there is one.
func (sim *simulation) boundaryDetail(p iampolicy.Principal, action, res string, c iampolicy.Context) *iamapi.PermissionsBoundaryDecisionDetail {
	if sim.set.Boundary == nil {
		return nil
	}
	d := iampolicy.Evaluate(iampolicy.Request{Principal: p, Action: action, Resources: []string{res}, Context: c},
		iampolicy.PolicySet{Identity: []*iampolicy.Policy{sim.set.Boundary}})
	return &iamapi.PermissionsBoundaryDecisionDetail{AllowedByPermissionsBoundary: new(d.Allowed())}
}
