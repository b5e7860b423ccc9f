package iam

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/iamapi"
	"github.com/minicloud/minicloud/internal/iampolicy"
	"github.com/minicloud/minicloud/internal/lazyregexp"
	"github.com/minicloud/minicloud/internal/state"
)

// policyRec is a managed policy: a customer's, stored in its account, or
// one of AWS's (awsPolicies), shared by every account.
type policyRec struct {
	Name        string       `json:"name"`
	Path        string       `json:"path"`
	ID          string       `json:"id"`
	ARN         string       `json:"arn"`
	Description string       `json:"description,omitempty"`
	Created     time.Time    `json:"created"`
	Updated     time.Time    `json:"updated"`
	Tags        []state.Tag  `json:"tags,omitempty"`
	Default     string       `json:"default"`
	Versions    []versionRec `json:"versions"`
	// Next is the number of the next version: ids are never reused.
	Next int  `json:"next"`
	aws  bool // one of AWS's: read-only
}

type versionRec struct {
	ID      string    `json:"id"`
	Doc     string    `json:"doc"`
	Created time.Time `json:"created"`
}

var policies = state.Table[policyRec]{Service: "iam", Kind: "policy"}

//go:embed awspolicies.json
var awsPoliciesJSON []byte

// awsPolicies are AWS managed policies with their real documents, default
// version ids and descriptions, as AWS's managed policy reference gives
// them (only the default version: older versions are not kept).
var awsPolicies = sync.OnceValue(func() map[string]*policyRec {
	var list []struct {
		Name, Path, Description, DefaultVersionID, Document string
		CreateDate, UpdateDate                              time.Time
	}
	if err := json.Unmarshal(awsPoliciesJSON, &list); err != nil {
		panic("iam: embedded AWS managed policies: " + err.Error())
	}
	out := map[string]*policyRec{}
	for _, p := range list {
		arn := "arn:aws:iam::aws:policy" + p.Path + p.Name
		n, _ := strconv.Atoi(strings.TrimPrefix(p.DefaultVersionID, "v"))
		out[arn] = &policyRec{Name: p.Name, Path: p.Path, ID: stableID("ANPA", arn), ARN: arn, Description: p.Description,
			Created: p.CreateDate, Updated: p.UpdateDate, Default: p.DefaultVersionID, Next: n + 1, aws: true,
			Versions: []versionRec{{ID: p.DefaultVersionID, Doc: p.Document, Created: p.UpdateDate}}}
	}
	return out
})

// stableID derives a unique id from an ARN, for AWS's own entities whose
// real ids minicloud does not know.
func stableID(prefix, arn string) string {
	sum := sha256.Sum256([]byte(arn))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := []byte(prefix)
	for i := 0; i < 17; i++ {
		b = append(b, alphabet[sum[i]%32])
	}
	return string(b)
}

var policyARN = lazyregexp.New(`^arn:aws[\w-]*:iam::(aws|\d{12}):policy(/(?:[\x21-\x7E]*/)?)([\w+=,.@-]+)$`)

// getPolicy finds a managed policy by ARN: AWS's, or one of the account's.
func getPolicy(tx state.Tx, sc state.Scope, arn string) (*policyRec, error) {
	m := policyARN.FindStringSubmatch(arn)
	if m == nil {
		return nil, invalidInput("ARN %s is not valid.", arn)
	}
	if m[1] == "aws" {
		if p, ok := awsPolicies()[arn]; ok {
			c := *p
			c.Versions = slices.Clone(p.Versions)
			return &c, nil
		}
	} else if m[1] == sc.Account {
		p, ok, err := policies.Get(tx, sc, key(m[3]))
		if err != nil {
			return nil, err
		}
		if ok && p.ARN == arn {
			return &p, nil
		}
	}
	return nil, noSuchEntity("Policy %s does not exist or is not attachable.", arn)
}

func (s *Service) readPolicy(ctx context.Context, arn string) (*policyRec, error) {
	var p *policyRec
	err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		var err error
		p, err = getPolicy(tx, sc, arn)
		return err
	})
	return p, err
}

// mutatePolicy changes one of the account's policies; AWS's are read-only.
func (s *Service) mutatePolicy(ctx context.Context, arn string, fn func(p *policyRec) error) error {
	return s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		p, err := getPolicy(tx, sc, arn)
		if err != nil {
			return err
		}
		if p.aws {
			return api.Errorf(http.StatusForbidden, "AccessDenied", "Cannot modify the AWS managed policy %s.", arn)
		}
		if err := fn(p); err != nil {
			return err
		}
		return policies.Put(tx, sc, key(p.Name), *p)
	})
}

func (p *policyRec) version(id string) (*versionRec, bool) {
	for i := range p.Versions {
		if p.Versions[i].ID == id {
			return &p.Versions[i], true
		}
	}
	return nil, false
}

// use is how a policy is used in an account.
type use struct {
	attached, boundary []holder
}

// usage maps each managed policy's ARN to its users, groups and roles.
func usage(tx state.Tx, sc state.Scope) (map[string]*use, error) {
	out := map[string]*use{}
	at := func(arn string) *use {
		if out[arn] == nil {
			out[arn] = &use{}
		}
		return out[arn]
	}
	for _, k := range []kind{userKind, groupKind, roleKind} {
		all, err := k.all(tx, sc)
		if err != nil {
			return nil, err
		}
		for _, h := range all {
			for _, arn := range h.base().Attached {
				at(arn).attached = append(at(arn).attached, h)
			}
			if b := h.base().Boundary; b != "" {
				at(b).boundary = append(at(b).boundary, h)
			}
		}
	}
	return out, nil
}

func (p *policyRec) wire(u *use) *iamapi.Policy {
	var n, nb int32
	if u != nil {
		n, nb = int32(len(u.attached)), int32(len(u.boundary))
	}
	out := &iamapi.Policy{PolicyName: new(p.Name), PolicyId: new(p.ID), Arn: new(p.ARN), Path: new(p.Path),
		DefaultVersionId: new(p.Default), AttachmentCount: new(n), PermissionsBoundaryUsageCount: new(nb),
		IsAttachable: new(true), CreateDate: new(p.Created), UpdateDate: new(p.Updated)}
	if p.Description != "" {
		out.Description = new(p.Description)
	}
	if len(p.Tags) > 0 {
		out.Tags = wireTags(p.Tags)
	}
	return out
}

func (p *policyRec) wireVersion(v *versionRec) *iamapi.PolicyVersion {
	return &iamapi.PolicyVersion{Document: encodeDoc(v.Doc), VersionId: new(v.ID), IsDefaultVersion: new(v.ID == p.Default), CreateDate: new(v.Created)}
}

func checkManagedDoc(doc string) error {
	if err := validateDoc(doc, iampolicy.Managed); err != nil {
		return err
	}
	if docSize(doc) > managedPolicyQuota {
		return limitExceeded("Cannot exceed quota for PolicySize: %d", managedPolicyQuota)
	}
	return nil
}

// CreatePolicy creates a customer managed policy with its first version.
func (s *Service) CreatePolicy(ctx context.Context, in *iamapi.CreatePolicyRequest) (*iamapi.CreatePolicyResponse, error) {
	name, doc := *in.PolicyName, *in.PolicyDocument
	if err := checkName("policyName", name, 128); err != nil {
		return nil, err
	}
	path, err := pathOr("path", in.Path)
	if err != nil {
		return nil, err
	}
	if len(deref(in.Description)) > 1000 {
		return nil, validationError("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000")
	}
	if err := checkManagedDoc(doc); err != nil {
		return nil, err
	}
	tags, err := mergeTags(nil, in.Tags)
	if err != nil {
		return nil, err
	}
	now := s.stamp()
	p := policyRec{Name: name, Path: path, ID: state.NewUniqueID("ANPA"), ARN: iamARN(ctx, "policy", path, name),
		Description: deref(in.Description), Created: now, Updated: now, Tags: tags, Default: "v1", Next: 2,
		Versions: []versionRec{{ID: "v1", Doc: doc, Created: now}}}
	err = s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		if err := absent(tx, sc, policies, name, func() error {
			return alreadyExists("A policy called %s already exists. Duplicate names are not allowed.", name)
		}); err != nil {
			return err
		}
		return policies.Put(tx, sc, key(name), p)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.CreatePolicyResponse{Policy: p.wire(nil)}, nil
}

// GetPolicy describes a managed policy.
func (s *Service) GetPolicy(ctx context.Context, in *iamapi.GetPolicyRequest) (*iamapi.GetPolicyResponse, error) {
	var out *iamapi.Policy
	err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		p, err := getPolicy(tx, sc, *in.PolicyArn)
		if err != nil {
			return err
		}
		u, err := usage(tx, sc)
		if err != nil {
			return err
		}
		out = p.wire(u[p.ARN])
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetPolicyResponse{Policy: out}, nil
}

// DeletePolicy deletes a customer managed policy that nothing uses and
// that has only its default version left.
func (s *Service) DeletePolicy(ctx context.Context, in *iamapi.DeletePolicyRequest) (*iamapi.Empty, error) {
	return nil, s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		p, err := getPolicy(tx, sc, *in.PolicyArn)
		if err != nil {
			return err
		}
		if p.aws {
			return api.Errorf(http.StatusForbidden, "AccessDenied", "Cannot delete the AWS managed policy %s.", p.ARN)
		}
		u, err := usage(tx, sc)
		if err != nil {
			return err
		}
		if uu := u[p.ARN]; uu != nil && len(uu.attached)+len(uu.boundary) > 0 {
			return deleteConflict("Cannot delete a policy attached to entities.")
		}
		if len(p.Versions) > 1 {
			return deleteConflict("This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
		}
		return policies.Delete(tx, sc, key(p.Name))
	})
}

// ListPolicies lists managed policies: AWS's, the account's or both.
func (s *Service) ListPolicies(ctx context.Context, in *iamapi.ListPoliciesRequest) (*iamapi.ListPoliciesResponse, error) {
	scopeFilter := deref(in.Scope)
	if scopeFilter == "" {
		scopeFilter = "All"
	}
	if !slices.Contains([]string{"All", "AWS", "Local"}, scopeFilter) {
		return nil, validationError("1 validation error detected: Value '%s' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]", scopeFilter)
	}
	type item struct {
		p *policyRec
		u *use
	}
	var items []item
	err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		u, err := usage(tx, sc)
		if err != nil {
			return err
		}
		var all []*policyRec
		if scopeFilter != "Local" {
			for _, p := range awsPolicies() {
				all = append(all, p)
			}
		}
		if scopeFilter != "AWS" {
			local, err := policies.List(tx, sc)
			if err != nil {
				return err
			}
			for i := range local {
				all = append(all, &local[i])
			}
		}
		for _, p := range all {
			uu := u[p.ARN]
			if !underPath(p.Path, in.PathPrefix) {
				continue
			}
			if deref2(in.OnlyAttached) {
				var n int
				switch {
				case uu == nil:
				case deref(in.PolicyUsageFilter) == "PermissionsPolicy":
					n = len(uu.attached)
				case deref(in.PolicyUsageFilter) == "PermissionsBoundary":
					n = len(uu.boundary)
				default:
					n = len(uu.attached) + len(uu.boundary)
				}
				if n == 0 {
					continue
				}
			}
			items = append(items, item{p, uu})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pg, trunc, marker, err := page(items, in.MaxItems, in.Marker, func(i item) string { return strings.ToLower(i.p.Name) + "\x00" + i.p.ARN })
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListPoliciesResponse{Policies: []iamapi.Policy{}, IsTruncated: trunc, Marker: marker}
	for _, i := range pg {
		w := i.p.wire(i.u)
		w.Tags = nil // ListPolicies does not answer tags
		out.Policies = append(out.Policies, *w)
	}
	return out, nil
}

// CreatePolicyVersion adds a version (at most five are kept).
func (s *Service) CreatePolicyVersion(ctx context.Context, in *iamapi.CreatePolicyVersionRequest) (*iamapi.CreatePolicyVersionResponse, error) {
	doc := *in.PolicyDocument
	if err := checkManagedDoc(doc); err != nil {
		return nil, err
	}
	var out *iamapi.PolicyVersion
	err := s.mutatePolicy(ctx, *in.PolicyArn, func(p *policyRec) error {
		if len(p.Versions) >= maxPolicyVersions {
			return limitExceeded("A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", maxPolicyVersions)
		}
		v := versionRec{ID: fmt.Sprintf("v%d", p.Next), Doc: doc, Created: s.stamp()}
		p.Next++
		p.Versions = append(p.Versions, v)
		if deref2(in.SetAsDefault) {
			p.Default, p.Updated = v.ID, v.Created
		}
		out = p.wireVersion(&v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.CreatePolicyVersionResponse{PolicyVersion: out}, nil
}

func deref2(b *bool) bool { return b != nil && *b }

func noSuchVersion(arn, id string) error {
	return noSuchEntity("Policy %s version %s does not exist or is not attachable.", arn, id)
}

// GetPolicyVersion answers one version with its document.
func (s *Service) GetPolicyVersion(ctx context.Context, in *iamapi.GetPolicyVersionRequest) (*iamapi.GetPolicyVersionResponse, error) {
	p, err := s.readPolicy(ctx, *in.PolicyArn)
	if err != nil {
		return nil, err
	}
	v, ok := p.version(*in.VersionId)
	if !ok {
		return nil, noSuchVersion(p.ARN, *in.VersionId)
	}
	return &iamapi.GetPolicyVersionResponse{PolicyVersion: p.wireVersion(v)}, nil
}

// ListPolicyVersions lists a policy's versions, newest first, without
// their documents.
func (s *Service) ListPolicyVersions(ctx context.Context, in *iamapi.ListPolicyVersionsRequest) (*iamapi.ListPolicyVersionsResponse, error) {
	p, err := s.readPolicy(ctx, *in.PolicyArn)
	if err != nil {
		return nil, err
	}
	// Newest first: the page key sorts higher version numbers earlier.
	pg, trunc, marker, err := page(p.Versions, in.MaxItems, in.Marker, func(v versionRec) string {
		n, _ := strconv.Atoi(strings.TrimPrefix(v.ID, "v"))
		return fmt.Sprintf("%010d", 1<<30-n)
	})
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListPolicyVersionsResponse{Versions: []iamapi.PolicyVersion{}, IsTruncated: trunc, Marker: marker}
	for i := range pg {
		w := p.wireVersion(&pg[i])
		w.Document = nil
		out.Versions = append(out.Versions, *w)
	}
	return out, nil
}

// DeletePolicyVersion deletes a version that is not the default.
func (s *Service) DeletePolicyVersion(ctx context.Context, in *iamapi.DeletePolicyVersionRequest) (*iamapi.Empty, error) {
	return nil, s.mutatePolicy(ctx, *in.PolicyArn, func(p *policyRec) error {
		if _, ok := p.version(*in.VersionId); !ok {
			return noSuchVersion(p.ARN, *in.VersionId)
		}
		if *in.VersionId == p.Default {
			return deleteConflict("Cannot delete the default version of a policy.")
		}
		p.Versions = slices.DeleteFunc(p.Versions, func(v versionRec) bool { return v.ID == *in.VersionId })
		return nil
	})
}

// SetDefaultPolicyVersion makes a version the one that applies.
func (s *Service) SetDefaultPolicyVersion(ctx context.Context, in *iamapi.SetDefaultPolicyVersionRequest) (*iamapi.Empty, error) {
	return nil, s.mutatePolicy(ctx, *in.PolicyArn, func(p *policyRec) error {
		if _, ok := p.version(*in.VersionId); !ok {
			return noSuchVersion(p.ARN, *in.VersionId)
		}
		p.Default, p.Updated = *in.VersionId, s.stamp()
		return nil
	})
}

// TagPolicy adds or replaces tags of a customer managed policy.
func (s *Service) TagPolicy(ctx context.Context, in *iamapi.TagPolicyRequest) (*iamapi.Empty, error) {
	return nil, s.mutatePolicy(ctx, *in.PolicyArn, func(p *policyRec) error {
		t, err := mergeTags(p.Tags, in.Tags)
		p.Tags = t
		return err
	})
}

// UntagPolicy removes tags of a customer managed policy.
func (s *Service) UntagPolicy(ctx context.Context, in *iamapi.UntagPolicyRequest) (*iamapi.Empty, error) {
	return nil, s.mutatePolicy(ctx, *in.PolicyArn, func(p *policyRec) error {
		p.Tags = untag(p.Tags, in.TagKeys)
		return nil
	})
}

// ListPolicyTags lists a managed policy's tags.
func (s *Service) ListPolicyTags(ctx context.Context, in *iamapi.ListPolicyTagsRequest) (*iamapi.ListPolicyTagsResponse, error) {
	p, err := s.readPolicy(ctx, *in.PolicyArn)
	if err != nil {
		return nil, err
	}
	tags, trunc, marker, err := pageTags(p.Tags, in.MaxItems, in.Marker)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListPolicyTagsResponse{Tags: tags, IsTruncated: trunc, Marker: marker}, nil
}

// ListEntitiesForPolicy lists the users, groups and roles a managed policy
// is attached to (or is the permissions boundary of).
func (s *Service) ListEntitiesForPolicy(ctx context.Context, in *iamapi.ListEntitiesForPolicyRequest) (*iamapi.ListEntitiesForPolicyResponse, error) {
	var ents []holder
	err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		p, err := getPolicy(tx, sc, *in.PolicyArn)
		if err != nil {
			return err
		}
		u, err := usage(tx, sc)
		if err != nil || u[p.ARN] == nil {
			return err
		}
		switch deref(in.PolicyUsageFilter) {
		case "PermissionsBoundary":
			ents = u[p.ARN].boundary
		case "PermissionsPolicy":
			ents = u[p.ARN].attached
		default:
			ents = append(slices.Clone(u[p.ARN].attached), u[p.ARN].boundary...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	filter := deref(in.EntityFilter)
	var keep []holder
	seen := map[string]bool{}
	for _, h := range ents {
		noun := nounOf(h)
		if seen[h.base().ARN] || !underPath(h.base().Path, in.PathPrefix) ||
			(filter != "" && filter != "LocalManagedPolicy" && filter != "AWSManagedPolicy" && !strings.EqualFold(filter, noun)) {
			continue
		}
		seen[h.base().ARN] = true
		keep = append(keep, h)
	}
	pg, trunc, marker, err := page(keep, in.MaxItems, in.Marker, func(h holder) string { return nounOf(h) + "/" + key(h.base().Name) })
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListEntitiesForPolicyResponse{PolicyGroups: []iamapi.PolicyGroup{}, PolicyUsers: []iamapi.PolicyUser{},
		PolicyRoles: []iamapi.PolicyRole{}, IsTruncated: trunc, Marker: marker}
	for _, h := range pg {
		b := h.base()
		switch nounOf(h) {
		case "user":
			out.PolicyUsers = append(out.PolicyUsers, iamapi.PolicyUser{UserName: new(b.Name), UserId: new(b.ID)})
		case "group":
			out.PolicyGroups = append(out.PolicyGroups, iamapi.PolicyGroup{GroupName: new(b.Name), GroupId: new(b.ID)})
		default:
			out.PolicyRoles = append(out.PolicyRoles, iamapi.PolicyRole{RoleName: new(b.Name), RoleId: new(b.ID)})
		}
	}
	return out, nil
}

func nounOf(h holder) string {
	switch h.(type) {
	case *userRec:
		return "user"
	case *groupRec:
		return "group"
	}
	return "role"
}

// attach attaches a managed policy to an entity of k.
func (s *Service) attach(ctx context.Context, k kind, name, arn string) error {
	return s.mutate(ctx, k, name, func(tx state.Tx, sc state.Scope, h holder) error {
		if err := protect(h); err != nil {
			return err
		}
		if _, err := getPolicy(tx, sc, arn); err != nil {
			return err
		}
		b := h.base()
		if slices.Contains(b.Attached, arn) {
			return nil
		}
		if len(b.Attached) >= k.attachQuota {
			return limitExceeded("Cannot exceed quota for %s: %d", k.quota, k.attachQuota)
		}
		b.Attached = append(b.Attached, arn)
		return nil
	})
}

func (s *Service) detach(ctx context.Context, k kind, name, arn string) error {
	return s.mutate(ctx, k, name, func(_ state.Tx, _ state.Scope, h holder) error {
		if err := protect(h); err != nil {
			return err
		}
		b := h.base()
		if !slices.Contains(b.Attached, arn) {
			return noSuchEntity("Policy %s was not found.", arn)
		}
		b.Attached = slices.DeleteFunc(b.Attached, func(a string) bool { return a == arn })
		return nil
	})
}

// listAttached answers ListAttachedXPolicies.
func (s *Service) listAttached(ctx context.Context, k kind, name string, prefix *string, maxItems *int32, marker *string) ([]iamapi.AttachedPolicy, *bool, *string, error) {
	var list []iamapi.AttachedPolicy
	err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		h, err := k.get(tx, sc, name)
		if err != nil {
			return err
		}
		list, err = attachedOf(tx, sc, h, prefix)
		return err
	})
	if err != nil {
		return nil, nil, nil, err
	}
	pg, trunc, next, err := page(list, maxItems, marker, func(a iamapi.AttachedPolicy) string { return *a.PolicyArn })
	if pg == nil && err == nil {
		pg = []iamapi.AttachedPolicy{}
	}
	return pg, trunc, next, err
}

func attachedOf(tx state.Tx, sc state.Scope, h holder, prefix *string) ([]iamapi.AttachedPolicy, error) {
	list := []iamapi.AttachedPolicy{}
	for _, arn := range h.base().Attached {
		p, err := getPolicy(tx, sc, arn)
		if err != nil {
			return nil, err
		}
		if underPath(p.Path, prefix) {
			list = append(list, iamapi.AttachedPolicy{PolicyName: new(p.Name), PolicyArn: new(p.ARN)})
		}
	}
	return list, nil
}

// AttachUserPolicy attaches a managed policy to a user.
func (s *Service) AttachUserPolicy(ctx context.Context, in *iamapi.AttachUserPolicyRequest) (*iamapi.Empty, error) {
	return nil, s.attach(ctx, userKind, *in.UserName, *in.PolicyArn)
}

// AttachGroupPolicy attaches a managed policy to a group.
func (s *Service) AttachGroupPolicy(ctx context.Context, in *iamapi.AttachGroupPolicyRequest) (*iamapi.Empty, error) {
	return nil, s.attach(ctx, groupKind, *in.GroupName, *in.PolicyArn)
}

// AttachRolePolicy attaches a managed policy to a role.
func (s *Service) AttachRolePolicy(ctx context.Context, in *iamapi.AttachRolePolicyRequest) (*iamapi.Empty, error) {
	return nil, s.attach(ctx, roleKind, *in.RoleName, *in.PolicyArn)
}

// DetachUserPolicy detaches a managed policy from a user.
func (s *Service) DetachUserPolicy(ctx context.Context, in *iamapi.DetachUserPolicyRequest) (*iamapi.Empty, error) {
	return nil, s.detach(ctx, userKind, *in.UserName, *in.PolicyArn)
}

// DetachGroupPolicy detaches a managed policy from a group.
func (s *Service) DetachGroupPolicy(ctx context.Context, in *iamapi.DetachGroupPolicyRequest) (*iamapi.Empty, error) {
	return nil, s.detach(ctx, groupKind, *in.GroupName, *in.PolicyArn)
}

// DetachRolePolicy detaches a managed policy from a role.
func (s *Service) DetachRolePolicy(ctx context.Context, in *iamapi.DetachRolePolicyRequest) (*iamapi.Empty, error) {
	return nil, s.detach(ctx, roleKind, *in.RoleName, *in.PolicyArn)
}

// ListAttachedUserPolicies lists a user's managed policies.
func (s *Service) ListAttachedUserPolicies(ctx context.Context, in *iamapi.ListAttachedUserPoliciesRequest) (*iamapi.ListAttachedUserPoliciesResponse, error) {
	l, t, m, err := s.listAttached(ctx, userKind, *in.UserName, in.PathPrefix, in.MaxItems, in.Marker)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListAttachedUserPoliciesResponse{AttachedPolicies: l, IsTruncated: t, Marker: m}, nil
}

// ListAttachedGroupPolicies lists a group's managed policies.
func (s *Service) ListAttachedGroupPolicies(ctx context.Context, in *iamapi.ListAttachedGroupPoliciesRequest) (*iamapi.ListAttachedGroupPoliciesResponse, error) {
	l, t, m, err := s.listAttached(ctx, groupKind, *in.GroupName, in.PathPrefix, in.MaxItems, in.Marker)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListAttachedGroupPoliciesResponse{AttachedPolicies: l, IsTruncated: t, Marker: m}, nil
}

// ListAttachedRolePolicies lists a role's managed policies.
func (s *Service) ListAttachedRolePolicies(ctx context.Context, in *iamapi.ListAttachedRolePoliciesRequest) (*iamapi.ListAttachedRolePoliciesResponse, error) {
	l, t, m, err := s.listAttached(ctx, roleKind, *in.RoleName, in.PathPrefix, in.MaxItems, in.Marker)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListAttachedRolePoliciesResponse{AttachedPolicies: l, IsTruncated: t, Marker: m}, nil
}

// Inline policies.

func (s *Service) putInline(ctx context.Context, k kind, name, policyName, doc string) error {
	if err := checkName("policyName", policyName, 128); err != nil {
		return err
	}
	if err := validateDoc(doc, iampolicy.Identity); err != nil {
		return err
	}
	return s.mutate(ctx, k, name, func(_ state.Tx, _ state.Scope, h holder) error {
		if err := protect(h); err != nil {
			return err
		}
		b := h.base()
		size := docSize(doc)
		for n, d := range b.Inline {
			if n != policyName {
				size += docSize(d)
			}
		}
		if size > k.inlineQuota {
			return limitExceeded("Maximum policy size of %d bytes exceeded for %s %s", k.inlineQuota, k.noun, b.Name)
		}
		if b.Inline == nil {
			b.Inline = map[string]string{}
		}
		b.Inline[policyName] = doc
		return nil
	})
}

func noSuchInline(k kind, policyName string) error {
	return noSuchEntity("The %s policy with name %s cannot be found.", k.noun, policyName)
}

func (s *Service) getInline(ctx context.Context, k kind, name, policyName string) (holder, string, error) {
	h, err := s.read(ctx, k, name)
	if err != nil {
		return nil, "", err
	}
	doc, ok := h.base().Inline[policyName]
	if !ok {
		return nil, "", noSuchInline(k, policyName)
	}
	return h, doc, nil
}

func (s *Service) deleteInline(ctx context.Context, k kind, name, policyName string) error {
	return s.mutate(ctx, k, name, func(_ state.Tx, _ state.Scope, h holder) error {
		if err := protect(h); err != nil {
			return err
		}
		if _, ok := h.base().Inline[policyName]; !ok {
			return noSuchInline(k, policyName)
		}
		delete(h.base().Inline, policyName)
		return nil
	})
}

func (s *Service) listInline(ctx context.Context, k kind, name string, maxItems *int32, marker *string) ([]string, *bool, *string, error) {
	h, err := s.read(ctx, k, name)
	if err != nil {
		return nil, nil, nil, err
	}
	return page(sortedKeys(h.base().Inline), maxItems, marker, self)
}

// PutUserPolicy adds or replaces a user's inline policy.
func (s *Service) PutUserPolicy(ctx context.Context, in *iamapi.PutUserPolicyRequest) (*iamapi.Empty, error) {
	return nil, s.putInline(ctx, userKind, *in.UserName, *in.PolicyName, *in.PolicyDocument)
}

// PutGroupPolicy adds or replaces a group's inline policy.
func (s *Service) PutGroupPolicy(ctx context.Context, in *iamapi.PutGroupPolicyRequest) (*iamapi.Empty, error) {
	return nil, s.putInline(ctx, groupKind, *in.GroupName, *in.PolicyName, *in.PolicyDocument)
}

// PutRolePolicy adds or replaces a role's inline policy.
func (s *Service) PutRolePolicy(ctx context.Context, in *iamapi.PutRolePolicyRequest) (*iamapi.Empty, error) {
	return nil, s.putInline(ctx, roleKind, *in.RoleName, *in.PolicyName, *in.PolicyDocument)
}

// GetUserPolicy answers a user's inline policy, its document URL-encoded.
func (s *Service) GetUserPolicy(ctx context.Context, in *iamapi.GetUserPolicyRequest) (*iamapi.GetUserPolicyResponse, error) {
	h, doc, err := s.getInline(ctx, userKind, *in.UserName, *in.PolicyName)
	if err != nil {
		return nil, err
	}
	return &iamapi.GetUserPolicyResponse{UserName: new(h.base().Name), PolicyName: in.PolicyName, PolicyDocument: encodeDoc(doc)}, nil
}

// GetGroupPolicy answers a group's inline policy, its document URL-encoded.
func (s *Service) GetGroupPolicy(ctx context.Context, in *iamapi.GetGroupPolicyRequest) (*iamapi.GetGroupPolicyResponse, error) {
	h, doc, err := s.getInline(ctx, groupKind, *in.GroupName, *in.PolicyName)
	if err != nil {
		return nil, err
	}
	return &iamapi.GetGroupPolicyResponse{GroupName: new(h.base().Name), PolicyName: in.PolicyName, PolicyDocument: encodeDoc(doc)}, nil
}

// GetRolePolicy answers a role's inline policy, its document URL-encoded.
func (s *Service) GetRolePolicy(ctx context.Context, in *iamapi.GetRolePolicyRequest) (*iamapi.GetRolePolicyResponse, error) {
	h, doc, err := s.getInline(ctx, roleKind, *in.RoleName, *in.PolicyName)
	if err != nil {
		return nil, err
	}
	return &iamapi.GetRolePolicyResponse{RoleName: new(h.base().Name), PolicyName: in.PolicyName, PolicyDocument: encodeDoc(doc)}, nil
}

// DeleteUserPolicy deletes a user's inline policy.
func (s *Service) DeleteUserPolicy(ctx context.Context, in *iamapi.DeleteUserPolicyRequest) (*iamapi.Empty, error) {
	return nil, s.deleteInline(ctx, userKind, *in.UserName, *in.PolicyName)
}

// DeleteGroupPolicy deletes a group's inline policy.
func (s *Service) DeleteGroupPolicy(ctx context.Context, in *iamapi.DeleteGroupPolicyRequest) (*iamapi.Empty, error) {
	return nil, s.deleteInline(ctx, groupKind, *in.GroupName, *in.PolicyName)
}

// DeleteRolePolicy deletes a role's inline policy.
func (s *Service) DeleteRolePolicy(ctx context.Context, in *iamapi.DeleteRolePolicyRequest) (*iamapi.Empty, error) {
	return nil, s.deleteInline(ctx, roleKind, *in.RoleName, *in.PolicyName)
}

// ListUserPolicies lists the names of a user's inline policies.
func (s *Service) ListUserPolicies(ctx context.Context, in *iamapi.ListUserPoliciesRequest) (*iamapi.ListUserPoliciesResponse, error) {
	n, t, m, err := s.listInline(ctx, userKind, *in.UserName, in.MaxItems, in.Marker)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListUserPoliciesResponse{PolicyNames: n, IsTruncated: t, Marker: m}, nil
}

// ListGroupPolicies lists the names of a group's inline policies.
func (s *Service) ListGroupPolicies(ctx context.Context, in *iamapi.ListGroupPoliciesRequest) (*iamapi.ListGroupPoliciesResponse, error) {
	n, t, m, err := s.listInline(ctx, groupKind, *in.GroupName, in.MaxItems, in.Marker)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListGroupPoliciesResponse{PolicyNames: n, IsTruncated: t, Marker: m}, nil
}

// ListRolePolicies lists the names of a role's inline policies.
func (s *Service) ListRolePolicies(ctx context.Context, in *iamapi.ListRolePoliciesRequest) (*iamapi.ListRolePoliciesResponse, error) {
	n, t, m, err := s.listInline(ctx, roleKind, *in.RoleName, in.MaxItems, in.Marker)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListRolePoliciesResponse{PolicyNames: n, IsTruncated: t, Marker: m}, nil
}

// Permissions boundaries.

// boundaryARN checks that a permissions boundary is a managed policy.
func boundaryARN(tx state.Tx, sc state.Scope, arn string) error {
	if _, err := getPolicy(tx, sc, arn); err != nil {
		if isCode(err, "NoSuchEntity") {
			return noSuchEntity("Scope ARN: %s does not exist or is not attachable.", arn)
		}
		return err
	}
	return nil
}

func (s *Service) putBoundary(ctx context.Context, k kind, name, arn string) error {
	return s.mutate(ctx, k, name, func(tx state.Tx, sc state.Scope, h holder) error {
		if err := protect(h); err != nil {
			return err
		}
		if err := boundaryARN(tx, sc, arn); err != nil {
			return err
		}
		h.base().Boundary = arn
		return nil
	})
}

func (s *Service) deleteBoundary(ctx context.Context, k kind, name string) error {
	return s.mutate(ctx, k, name, func(_ state.Tx, _ state.Scope, h holder) error {
		if err := protect(h); err != nil {
			return err
		}
		h.base().Boundary = ""
		return nil
	})
}

func wireBoundary(arn string) *iamapi.AttachedPermissionsBoundary {
	if arn == "" {
		return nil
	}
	return &iamapi.AttachedPermissionsBoundary{PermissionsBoundaryType: new("PermissionsBoundaryPolicy"), PermissionsBoundaryArn: new(arn)}
}

// PutUserPermissionsBoundary sets a user's permissions boundary.
func (s *Service) PutUserPermissionsBoundary(ctx context.Context, in *iamapi.PutUserPermissionsBoundaryRequest) (*iamapi.Empty, error) {
	return nil, s.putBoundary(ctx, userKind, *in.UserName, *in.PermissionsBoundary)
}

// PutRolePermissionsBoundary sets a role's permissions boundary.
func (s *Service) PutRolePermissionsBoundary(ctx context.Context, in *iamapi.PutRolePermissionsBoundaryRequest) (*iamapi.Empty, error) {
	return nil, s.putBoundary(ctx, roleKind, *in.RoleName, *in.PermissionsBoundary)
}

// DeleteUserPermissionsBoundary removes a user's permissions boundary.
func (s *Service) DeleteUserPermissionsBoundary(ctx context.Context, in *iamapi.DeleteUserPermissionsBoundaryRequest) (*iamapi.Empty, error) {
	return nil, s.deleteBoundary(ctx, userKind, *in.UserName)
}

// DeleteRolePermissionsBoundary removes a role's permissions boundary.
func (s *Service) DeleteRolePermissionsBoundary(ctx context.Context, in *iamapi.DeleteRolePermissionsBoundaryRequest) (*iamapi.Empty, error) {
	return nil, s.deleteBoundary(ctx, roleKind, *in.RoleName)
}
