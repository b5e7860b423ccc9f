package iam

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/minicloud/minicloud/internal/iampolicy"
	"github.com/minicloud/minicloud/internal/state"
)

// Enforcement (package authz) asks, for every request, the policies of
// the user or role behind it. Reading and parsing them is the expensive
// part, so they are cached per entity ARN until the next IAM write: every
// write (update) bumps the generation before it returns, and an entry of
// an older generation is not used. An entry built from a read that began
// before a write carries the generation read before it, so it never
// outlives that write.
type policyCache struct {
	gen     atomic.Uint64
	entries sync.Map // entity ARN (or "trust " + role ARN) → *cacheEntry
}

type cacheEntry struct {
	gen   uint64
	set   iampolicy.PolicySet
	tags  map[string]string
	trust *iampolicy.Policy
}

func (c *policyCache) invalidate() { c.gen.Add(1) }

func (c *policyCache) get(key string) (*cacheEntry, uint64) {
	gen := c.gen.Load()
	if v, ok := c.entries.Load(key); ok && v.(*cacheEntry).gen == gen {
		return v.(*cacheEntry), gen
	}
	return nil, gen
}

// Invalidate drops every cached policy: after the store is reset, which
// does not pass through the service's writes.
func (s *Service) Invalidate() { s.policies.invalidate() }

// PoliciesFor implements authz.Policies: an IAM user's inline and
// attached policies and its groups', a session's role's, and the
// entity's permissions boundary and tags. An entity that is gone (a
// deleted role whose sessions live on) has none, so it is allowed
// nothing. A federated user (GetFederationToken) has the policies of
// the IAM user who made it, or all permissions when the root user did;
// its session policies then cut them down.
func (s *Service) PoliciesFor(ctx context.Context, p iampolicy.Principal) (iampolicy.PolicySet, map[string]string, error) {
	arn, table := p.ARN, kind{}
	switch p.Type {
	case iampolicy.User:
		table = userKind
	case iampolicy.AssumedRole:
		arn, table = p.RoleARN, roleKind
	case iampolicy.FederatedUser:
		if strings.HasSuffix(p.RoleARN, ":root") {
			return iampolicy.PolicySet{Identity: []*iampolicy.Policy{rootPolicy}}, nil, nil
		}
		arn, table = p.RoleARN, userKind
	default:
		return iampolicy.PolicySet{}, nil, nil
	}
	e, gen := s.policies.get(arn)
	if e != nil {
		return e.set, e.tags, nil
	}
	e = &cacheEntry{gen: gen}
	err := s.store.View(ctx, func(tx state.Tx) error {
		sc := state.Global(p.Account)
		h, err := table.get(tx, sc, arn[strings.LastIndexByte(arn, '/')+1:])
		if isCode(err, "NoSuchEntity") || err == nil && h.base().ARN != arn {
			return nil
		}
		if err != nil {
			return err
		}
		b := h.base()
		e.tags = tagMap(b.Tags)
		holders, err := withGroups(tx, sc, h)
		if err != nil {
			return err
		}
		for _, h := range holders {
			if err := identityPolicies(tx, sc, h.base(), &e.set.Identity); err != nil {
				return err
			}
		}
		if b.Boundary != "" {
			e.set.Boundary, err = managedPolicy(tx, sc, b.Boundary, iampolicy.Boundary)
		}
		return err
	})
	if err != nil {
		return iampolicy.PolicySet{}, nil, err
	}
	s.policies.entries.Store(arn, e)
	return e.set, e.tags, nil
}

// rootPolicy is what the root user may do, for its federated users:
// everything.
var rootPolicy = func() *iampolicy.Policy {
	p, err := iampolicy.Parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, iampolicy.Identity)
	if err != nil {
		panic(err)
	}
	p.Name = "root user"
	return p
}()

// withGroups is an entity and, for a user, its groups: whose policies
// apply to it.
func withGroups(tx state.Tx, sc state.Scope, h holder) ([]holder, error) {
	holders := []holder{h}
	if u, ok := h.(*userRec); ok {
		for _, g := range u.Groups {
			gh, err := groupKind.get(tx, sc, g)
			if err != nil {
				return nil, err
			}
			holders = append(holders, gh)
		}
	}
	return holders, nil
}

// identityPolicies appends an entity's inline and attached policies.
func identityPolicies(tx state.Tx, sc state.Scope, b *principal, out *[]*iampolicy.Policy) error {
	for _, name := range sortedKeys(b.Inline) {
		pol, err := iampolicy.Parse(b.Inline[name], iampolicy.Identity)
		if err != nil {
			return fmt.Errorf("iam: inline policy %s of %s: %w", name, b.ARN, err)
		}
		pol.Name = name
		*out = append(*out, pol)
	}
	for _, arn := range b.Attached {
		pol, err := managedPolicy(tx, sc, arn, iampolicy.Identity)
		if err != nil {
			return err
		}
		*out = append(*out, pol)
	}
	return nil
}

// managedPolicy is a managed policy's default version, parsed and named
// by its ARN.
func managedPolicy(tx state.Tx, sc state.Scope, arn string, kind iampolicy.Kind) (*iampolicy.Policy, error) {
	p, err := getPolicy(tx, sc, arn)
	if err != nil {
		return nil, err
	}
	v, ok := p.version(p.Default)
	if !ok {
		return nil, fmt.Errorf("iam: policy %s has no default version %s", arn, p.Default)
	}
	pol, err := iampolicy.Parse(v.Doc, kind)
	if err != nil {
		return nil, fmt.Errorf("iam: policy %s: %w", arn, err)
	}
	pol.Name = arn
	return pol, nil
}

func tagMap(tags []state.Tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}

// RoleInfo is what STS needs of a role it issues credentials for.
type RoleInfo struct {
	ARN        string
	ID         string
	MaxSession int32
}

// Role finds a role by its ARN (path included), in the ARN's account.
func (s *Service) Role(ctx context.Context, arn string) (RoleInfo, bool, error) {
	var (
		r     roleRec
		found bool
	)
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return RoleInfo{}, false, nil
	}
	err := s.store.View(ctx, func(tx state.Tx) error {
		var err error
		r, found, err = roles.Get(tx, state.Global(parts[4]), key(arn[strings.LastIndexByte(arn, '/')+1:]))
		return err
	})
	if err != nil || !found || r.ARN != arn {
		return RoleInfo{}, false, err
	}
	return RoleInfo{ARN: r.ARN, ID: r.ID, MaxSession: r.MaxSession}, true, nil
}

// PolicyDocument is the default version of a managed policy an account
// can use (its own or AWS's): STS's PolicyArns.
func (s *Service) PolicyDocument(ctx context.Context, account, arn string) (string, bool, error) {
	var doc string
	err := s.store.View(ctx, func(tx state.Tx) error {
		p, err := getPolicy(tx, state.Global(account), arn)
		if err != nil {
			return err
		}
		if v, ok := p.version(p.Default); ok {
			doc = v.Doc
		}
		return nil
	})
	if isCode(err, "NoSuchEntity") || isCode(err, "InvalidInput") {
		return "", false, nil
	}
	return doc, err == nil, err
}

// ResourcePolicy implements authz.ResourcePolicies: a role's trust policy
// is the resource policy of sts:AssumeRole on it.
func (s *Service) ResourcePolicy(ctx context.Context, action, arn string) (*iampolicy.Policy, error) {
	if !strings.HasPrefix(action, "sts:") || !strings.Contains(arn, ":role/") {
		return nil, nil
	}
	ck := "trust " + arn
	e, gen := s.policies.get(ck)
	if e != nil {
		return e.trust, nil
	}
	e = &cacheEntry{gen: gen}
	parts := strings.SplitN(arn, ":", 6)
	err := s.store.View(ctx, func(tx state.Tx) error {
		r, ok, err := roles.Get(tx, state.Global(parts[4]), key(arn[strings.LastIndexByte(arn, '/')+1:]))
		if err != nil || !ok || r.ARN != arn {
			return err
		}
		e.trust, err = iampolicy.Parse(r.Trust, iampolicy.Trust)
		if err == nil {
			e.trust.Name = "trust policy of " + r.Name
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("iam: trust policy of %s: %w", arn, err)
	}
	s.policies.entries.Store(ck, e)
	return e.trust, nil
}

// ResourceTags implements authz.ResourceTagger for users and roles.
func (s *Service) ResourceTags(ctx context.Context, arn string) (map[string]string, bool, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return nil, false, nil
	}
	var k kind
	switch {
	case strings.HasPrefix(parts[5], "user/"):
		k = userKind
	case strings.HasPrefix(parts[5], "role/"):
		k = roleKind
	default:
		return nil, false, nil
	}
	var tags map[string]string
	found := false
	err := s.store.View(ctx, func(tx state.Tx) error {
		h, err := k.get(tx, state.Global(parts[4]), arn[strings.LastIndexByte(arn, '/')+1:])
		if isCode(err, "NoSuchEntity") {
			return nil
		}
		if err == nil {
			tags, found = tagMap(h.base().Tags), true
		}
		return err
	})
	return tags, found, err
}

// WithPath implements authz.PathResolver: the ARN of the user, group,
// role or instance profile an ARN built from its name ("…:user/carol")
// names, with the entity's path ("…:user/eng/carol"), as AWS evaluates
// it; arn itself when there is no such entity or it is not one of those.
func (s *Service) WithPath(ctx context.Context, arn string) (string, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[2] != "iam" || strings.Count(parts[5], "/") != 1 {
		return arn, nil
	}
	typ, name, _ := strings.Cut(parts[5], "/")
	var k kind
	switch typ {
	case "user":
		k = userKind
	case "group":
		k = groupKind
	case "role":
		k = roleKind
	case "instance-profile":
	default:
		return arn, nil
	}
	out := arn
	err := s.store.View(ctx, func(tx state.Tx) error {
		sc := state.Global(parts[4])
		if typ == "instance-profile" {
			p, ok, err := profiles.Get(tx, sc, key(name))
			if ok {
				out = p.ARN
			}
			return err
		}
		h, err := k.get(tx, sc, name)
		if isCode(err, "NoSuchEntity") {
			return nil
		}
		if err == nil {
			out = h.base().ARN
		}
		return err
	})
	return out, err
}
