package iam

import (
	"context"
	"slices"

	"github.com/minicloud/minicloud/internal/api/iamapi"
	"github.com/minicloud/minicloud/internal/state"
)

func noProfile(name string) error { return noSuchEntity("Instance Profile %s cannot be found.", name) }

func getProfile(tx state.Tx, sc state.Scope, name string) (*profileRec, error) {
	p, ok, err := profiles.Get(tx, sc, key(name))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, noProfile(name)
	}
	return &p, nil
}

// profilesOf are the instance profiles a role is in.
func profilesOf(tx state.Tx, sc state.Scope, roleKey string) ([]profileRec, error) {
	all, err := profiles.List(tx, sc)
	return slices.DeleteFunc(all, func(p profileRec) bool { return !slices.Contains(p.Roles, roleKey) }), err
}

// wire answers a profile with its roles, read in tx.
func (p *profileRec) wire(tx state.Tx, sc state.Scope) (*iamapi.InstanceProfile, error) {
	out := &iamapi.InstanceProfile{Path: new(p.Path), InstanceProfileName: new(p.Name), InstanceProfileId: new(p.ID), Arn: new(p.ARN),
		CreateDate: new(p.Created), Roles: []iamapi.Role{}}
	if len(p.Tags) > 0 {
		out.Tags = wireTags(p.Tags)
	}
	for _, rk := range p.Roles {
		r, ok, err := roles.Get(tx, sc, rk)
		if err != nil {
			return nil, err
		}
		if ok {
			out.Roles = append(out.Roles, *r.wire(false))
		}
	}
	return out, nil
}

func wireProfiles(tx state.Tx, sc state.Scope, ps []profileRec) ([]iamapi.InstanceProfile, error) {
	out := []iamapi.InstanceProfile{}
	for i := range ps {
		w, err := ps[i].wire(tx, sc)
		if err != nil {
			return nil, err
		}
		w.Tags = nil
		out = append(out, *w)
	}
	return out, nil
}

// CreateInstanceProfile creates an instance profile (with no role yet).
func (s *Service) CreateInstanceProfile(ctx context.Context, in *iamapi.CreateInstanceProfileRequest) (*iamapi.CreateInstanceProfileResponse, error) {
	name := *in.InstanceProfileName
	if err := checkName("instanceProfileName", name, 128); err != nil {
		return nil, err
	}
	path, err := pathOr("path", in.Path)
	if err != nil {
		return nil, err
	}
	tags, err := mergeTags(nil, in.Tags)
	if err != nil {
		return nil, err
	}
	var out *iamapi.InstanceProfile
	err = s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		if err := absent(tx, sc, profiles, name, func() error { return alreadyExists("Instance Profile %s already exists.", name) }); err != nil {
			return err
		}
		p := profileRec{Name: name, Path: path, ID: state.NewUniqueID("AIPA"), ARN: iamARN(ctx, "instance-profile", path, name), Created: s.stamp(), Tags: tags}
		if out, err = p.wire(tx, sc); err != nil {
			return err
		}
		return profiles.Put(tx, sc, key(name), p)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.CreateInstanceProfileResponse{InstanceProfile: out}, nil
}

// GetInstanceProfile describes an instance profile and its role.
func (s *Service) GetInstanceProfile(ctx context.Context, in *iamapi.GetInstanceProfileRequest) (*iamapi.GetInstanceProfileResponse, error) {
	var out *iamapi.InstanceProfile
	err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		p, err := getProfile(tx, sc, *in.InstanceProfileName)
		if err != nil {
			return err
		}
		out, err = p.wire(tx, sc)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetInstanceProfileResponse{InstanceProfile: out}, nil
}

// DeleteInstanceProfile deletes an instance profile that has no role.
func (s *Service) DeleteInstanceProfile(ctx context.Context, in *iamapi.DeleteInstanceProfileRequest) (*iamapi.Empty, error) {
	return nil, s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		p, err := getProfile(tx, sc, *in.InstanceProfileName)
		if err != nil {
			return err
		}
		if len(p.Roles) > 0 {
			return deleteConflict("Cannot delete entity, must remove roles from instance profile first.")
		}
		return profiles.Delete(tx, sc, key(p.Name))
	})
}

// pageProfiles answers one page of the profiles sel picks, with their
// roles.
func (s *Service) pageProfiles(ctx context.Context, sel func(tx state.Tx, sc state.Scope) ([]profileRec, error), maxItems *int32, marker *string) (out []iamapi.InstanceProfile, trunc *bool, next *string, err error) {
	err = s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		all, err := sel(tx, sc)
		if err != nil {
			return err
		}
		pg, t, m, err := page(all, maxItems, marker, func(p profileRec) string { return key(p.Name) })
		if err != nil {
			return err
		}
		trunc, next = t, m
		out, err = wireProfiles(tx, sc, pg)
		return err
	})
	return out, trunc, next, err
}

// ListInstanceProfiles lists the account's instance profiles.
func (s *Service) ListInstanceProfiles(ctx context.Context, in *iamapi.ListInstanceProfilesRequest) (*iamapi.ListInstanceProfilesResponse, error) {
	ps, trunc, marker, err := s.pageProfiles(ctx, func(tx state.Tx, sc state.Scope) ([]profileRec, error) {
		all, err := profiles.List(tx, sc)
		return slices.DeleteFunc(all, func(p profileRec) bool { return !underPath(p.Path, in.PathPrefix) }), err
	}, in.MaxItems, in.Marker)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListInstanceProfilesResponse{InstanceProfiles: ps, IsTruncated: trunc, Marker: marker}, nil
}

// ListInstanceProfilesForRole lists the instance profiles a role is in.
func (s *Service) ListInstanceProfilesForRole(ctx context.Context, in *iamapi.ListInstanceProfilesForRoleRequest) (*iamapi.ListInstanceProfilesForRoleResponse, error) {
	ps, trunc, marker, err := s.pageProfiles(ctx, func(tx state.Tx, sc state.Scope) ([]profileRec, error) {
		h, err := roleKind.get(tx, sc, *in.RoleName)
		if err != nil {
			return nil, err
		}
		return profilesOf(tx, sc, key(h.base().Name))
	}, in.MaxItems, in.Marker)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListInstanceProfilesForRoleResponse{InstanceProfiles: ps, IsTruncated: trunc, Marker: marker}, nil
}

func (s *Service) mutateProfile(ctx context.Context, name string, fn func(tx state.Tx, sc state.Scope, p *profileRec) error) error {
	return s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		p, err := getProfile(tx, sc, name)
		if err != nil {
			return err
		}
		if err := fn(tx, sc, p); err != nil {
			return err
		}
		return profiles.Put(tx, sc, key(p.Name), *p)
	})
}

// AddRoleToInstanceProfile puts a role in an instance profile, which
// holds one role at most.
func (s *Service) AddRoleToInstanceProfile(ctx context.Context, in *iamapi.AddRoleToInstanceProfileRequest) (*iamapi.Empty, error) {
	return nil, s.mutateProfile(ctx, *in.InstanceProfileName, func(tx state.Tx, sc state.Scope, p *profileRec) error {
		h, err := roleKind.get(tx, sc, *in.RoleName)
		if err != nil {
			return err
		}
		if len(p.Roles) >= 1 {
			return limitExceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
		}
		p.Roles = append(p.Roles, key(h.base().Name))
		return nil
	})
}

// RemoveRoleFromInstanceProfile takes the role out of an instance profile.
func (s *Service) RemoveRoleFromInstanceProfile(ctx context.Context, in *iamapi.RemoveRoleFromInstanceProfileRequest) (*iamapi.Empty, error) {
	return nil, s.mutateProfile(ctx, *in.InstanceProfileName, func(tx state.Tx, sc state.Scope, p *profileRec) error {
		if _, err := roleKind.get(tx, sc, *in.RoleName); err != nil {
			return err
		}
		if !slices.Contains(p.Roles, key(*in.RoleName)) {
			return noSuchEntity("The role with name %s cannot be found.", *in.RoleName)
		}
		p.Roles = slices.DeleteFunc(p.Roles, func(k string) bool { return k == key(*in.RoleName) })
		return nil
	})
}

// TagInstanceProfile adds or replaces an instance profile's tags.
func (s *Service) TagInstanceProfile(ctx context.Context, in *iamapi.TagInstanceProfileRequest) (*iamapi.Empty, error) {
	return nil, s.mutateProfile(ctx, *in.InstanceProfileName, func(_ state.Tx, _ state.Scope, p *profileRec) error {
		t, err := mergeTags(p.Tags, in.Tags)
		p.Tags = t
		return err
	})
}

// UntagInstanceProfile removes an instance profile's tags.
func (s *Service) UntagInstanceProfile(ctx context.Context, in *iamapi.UntagInstanceProfileRequest) (*iamapi.Empty, error) {
	return nil, s.mutateProfile(ctx, *in.InstanceProfileName, func(_ state.Tx, _ state.Scope, p *profileRec) error {
		p.Tags = untag(p.Tags, in.TagKeys)
		return nil
	})
}

// ListInstanceProfileTags lists an instance profile's tags.
func (s *Service) ListInstanceProfileTags(ctx context.Context, in *iamapi.ListInstanceProfileTagsRequest) (*iamapi.ListInstanceProfileTagsResponse, error) {
	var p *profileRec
	if err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		var err error
		p, err = getProfile(tx, sc, *in.InstanceProfileName)
		return err
	}); err != nil {
		return nil, err
	}
	t, tr, m, err := pageTags(p.Tags, in.MaxItems, in.Marker)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListInstanceProfileTagsResponse{Tags: t, IsTruncated: tr, Marker: m}, nil
}
