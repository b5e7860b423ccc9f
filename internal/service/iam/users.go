package iam

import (
	"context"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/iamapi"
	"github.com/minicloud/minicloud/internal/state"
)

func (u *userRec) wire(withTags bool) *iamapi.User {
	out := &iamapi.User{Path: new(u.Path), UserName: new(u.Name), UserId: new(u.ID), Arn: new(u.ARN), CreateDate: new(u.Created)}
	if withTags {
		out.PermissionsBoundary = wireBoundary(u.Boundary)
		if len(u.Tags) > 0 {
			out.Tags = wireTags(u.Tags)
		}
	}
	return out
}

func (g *groupRec) wire() *iamapi.Group {
	return &iamapi.Group{Path: new(g.Path), GroupName: new(g.Name), GroupId: new(g.ID), Arn: new(g.ARN), CreateDate: new(g.Created)}
}

// newPrincipal validates and builds what a new user, group or role shares.
func (s *Service) newPrincipal(ctx context.Context, tx state.Tx, sc state.Scope, noun, prefix, name string, path *string, boundary *string, tags []iamapi.Tag) (principal, error) {
	p, err := pathOr("path", path)
	if err != nil {
		return principal{}, err
	}
	t, err := mergeTags(nil, tags)
	if err != nil {
		return principal{}, err
	}
	if boundary != nil {
		if err := boundaryARN(tx, sc, *boundary); err != nil {
			return principal{}, err
		}
	}
	return principal{Name: name, Path: p, ID: state.NewUniqueID(prefix), ARN: iamARN(ctx, noun, p, name),
		Created: s.stamp(), Tags: t, Boundary: deref(boundary)}, nil
}

// CreateUser creates an IAM user.
func (s *Service) CreateUser(ctx context.Context, in *iamapi.CreateUserRequest) (*iamapi.CreateUserResponse, error) {
	h, err := s.create(ctx, userKind, "AIDA", *in.UserName, 64, in.Path, in.PermissionsBoundary, in.Tags,
		func(p principal) holder { return &userRec{principal: p} })
	if err != nil {
		return nil, err
	}
	return &iamapi.CreateUserResponse{User: h.(*userRec).wire(true)}, nil
}

// callerUser is the name of the IAM user who signed the request, or a
// ValidationError for other callers (root, roles), as GetUser and the
// access key operations answer without a UserName.
func callerUser(ctx context.Context, name *string) (string, error) {
	if name != nil {
		return *name, nil
	}
	caller := api.Request(ctx).Caller
	if i := strings.Index(caller, ":user/"); i >= 0 {
		return caller[strings.LastIndex(caller, "/")+1:], nil
	}
	return "", validationError("Must specify userName when calling with non-User credentials")
}

// GetUser describes a user; without a name, the caller (the account's
// root when the caller is the root).
func (s *Service) GetUser(ctx context.Context, in *iamapi.GetUserRequest) (*iamapi.GetUserResponse, error) {
	req := api.Request(ctx)
	if in.UserName == nil && strings.HasSuffix(req.Caller, ":root") {
		return &iamapi.GetUserResponse{User: &iamapi.User{UserId: new(account(ctx)), Arn: new(req.Caller), CreateDate: new(s.stamp())}}, nil
	}
	name, err := callerUser(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	h, err := s.read(ctx, userKind, name)
	if err != nil {
		return nil, err
	}
	return &iamapi.GetUserResponse{User: h.(*userRec).wire(true)}, nil
}

// UpdateUser renames a user or changes its path.
func (s *Service) UpdateUser(ctx context.Context, in *iamapi.UpdateUserRequest) (*iamapi.Empty, error) {
	return nil, s.rename(ctx, userKind, *in.UserName, in.NewUserName, in.NewPath, 64, func(tx state.Tx, sc state.Scope, from, to string) error {
		return renameKeys(tx, sc.Account, from, to)
	})
}

// DeleteUser deletes a user that has nothing left attached, as AWS
// requires.
func (s *Service) DeleteUser(ctx context.Context, in *iamapi.DeleteUserRequest) (*iamapi.Empty, error) {
	return nil, s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		h, err := userKind.get(tx, sc, *in.UserName)
		if err != nil {
			return err
		}
		u := h.(*userRec)
		keys, err := keysOf(tx, sc.Account, key(u.Name))
		if err != nil {
			return err
		}
		switch {
		case len(keys) > 0:
			return deleteConflict("Cannot delete entity, must delete access keys first.")
		case u.Login != nil:
			return deleteConflict("Cannot delete entity, must delete login profile first.")
		case u.policiesConflict() != nil:
			return u.policiesConflict()
		case len(u.Groups) > 0:
			return deleteConflict("Cannot delete entity, must remove users from group first.")
		}
		return users.Delete(tx, sc, key(u.Name))
	})
}

// ListUsers lists the account's users under a path prefix.
func (s *Service) ListUsers(ctx context.Context, in *iamapi.ListUsersRequest) (*iamapi.ListUsersResponse, error) {
	all, err := listUnder(ctx, s, users, in.PathPrefix, func(u userRec) string { return u.Path })
	if err != nil {
		return nil, err
	}
	pg, trunc, marker, err := page(all, in.MaxItems, in.Marker, func(u userRec) string { return key(u.Name) })
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListUsersResponse{Users: []iamapi.User{}, IsTruncated: trunc, Marker: marker}
	for i := range pg {
		out.Users = append(out.Users, *pg[i].wire(false))
	}
	return out, nil
}

// tag and untagKeys change the tags of an entity of k.
func (s *Service) tag(ctx context.Context, k kind, name string, tags []iamapi.Tag) error {
	return s.mutate(ctx, k, name, func(_ state.Tx, _ state.Scope, h holder) error {
		t, err := mergeTags(h.base().Tags, tags)
		h.base().Tags = t
		return err
	})
}

func (s *Service) untagKeys(ctx context.Context, k kind, name string, keys []string) error {
	return s.mutate(ctx, k, name, func(_ state.Tx, _ state.Scope, h holder) error {
		h.base().Tags = untag(h.base().Tags, keys)
		return nil
	})
}

func (s *Service) listTags(ctx context.Context, k kind, name string, maxItems *int32, marker *string) ([]iamapi.Tag, *bool, *string, error) {
	h, err := s.read(ctx, k, name)
	if err != nil {
		return nil, nil, nil, err
	}
	return pageTags(h.base().Tags, maxItems, marker)
}

// TagUser adds or replaces a user's tags.
func (s *Service) TagUser(ctx context.Context, in *iamapi.TagUserRequest) (*iamapi.Empty, error) {
	return nil, s.tag(ctx, userKind, *in.UserName, in.Tags)
}

// UntagUser removes a user's tags.
func (s *Service) UntagUser(ctx context.Context, in *iamapi.UntagUserRequest) (*iamapi.Empty, error) {
	return nil, s.untagKeys(ctx, userKind, *in.UserName, in.TagKeys)
}

// ListUserTags lists a user's tags.
func (s *Service) ListUserTags(ctx context.Context, in *iamapi.ListUserTagsRequest) (*iamapi.ListUserTagsResponse, error) {
	t, tr, m, err := s.listTags(ctx, userKind, *in.UserName, in.MaxItems, in.Marker)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListUserTagsResponse{Tags: t, IsTruncated: tr, Marker: m}, nil
}

// Groups.

// CreateGroup creates a group.
func (s *Service) CreateGroup(ctx context.Context, in *iamapi.CreateGroupRequest) (*iamapi.CreateGroupResponse, error) {
	h, err := s.create(ctx, groupKind, "AGPA", *in.GroupName, 128, in.Path, nil, nil,
		func(p principal) holder { return &groupRec{principal: p} })
	if err != nil {
		return nil, err
	}
	return &iamapi.CreateGroupResponse{Group: h.(*groupRec).wire()}, nil
}

// members are a group's users.
func members(tx state.Tx, sc state.Scope, groupKey string) ([]userRec, error) {
	all, err := users.List(tx, sc)
	return slices.DeleteFunc(all, func(u userRec) bool { return !slices.Contains(u.Groups, groupKey) }), err
}

// GetGroup describes a group and lists its users.
func (s *Service) GetGroup(ctx context.Context, in *iamapi.GetGroupRequest) (*iamapi.GetGroupResponse, error) {
	var (
		g   holder
		mem []userRec
	)
	err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		var err error
		if g, err = groupKind.get(tx, sc, *in.GroupName); err != nil {
			return err
		}
		mem, err = members(tx, sc, key(g.base().Name))
		return err
	})
	if err != nil {
		return nil, err
	}
	pg, trunc, marker, err := page(mem, in.MaxItems, in.Marker, func(u userRec) string { return key(u.Name) })
	if err != nil {
		return nil, err
	}
	out := &iamapi.GetGroupResponse{Group: g.(*groupRec).wire(), Users: []iamapi.User{}, IsTruncated: trunc, Marker: marker}
	for i := range pg {
		out.Users = append(out.Users, *pg[i].wire(false))
	}
	return out, nil
}

// UpdateGroup renames a group or changes its path.
func (s *Service) UpdateGroup(ctx context.Context, in *iamapi.UpdateGroupRequest) (*iamapi.Empty, error) {
	return nil, s.rename(ctx, groupKind, *in.GroupName, in.NewGroupName, in.NewPath, 128, func(tx state.Tx, sc state.Scope, from, to string) error {
		mem, err := members(tx, sc, from)
		for _, u := range mem {
			i := slices.Index(u.Groups, from)
			u.Groups[i] = to
			if err == nil {
				err = users.Put(tx, sc, key(u.Name), u)
			}
		}
		return err
	})
}

// DeleteGroup deletes a group that has no users and no policies.
func (s *Service) DeleteGroup(ctx context.Context, in *iamapi.DeleteGroupRequest) (*iamapi.Empty, error) {
	return nil, s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		h, err := groupKind.get(tx, sc, *in.GroupName)
		if err != nil {
			return err
		}
		g := h.base()
		mem, err := members(tx, sc, key(g.Name))
		if err != nil {
			return err
		}
		if len(mem) > 0 {
			return deleteConflict("Cannot delete entity, must remove users from group first.")
		}
		if err := g.policiesConflict(); err != nil {
			return err
		}
		return groups.Delete(tx, sc, key(g.Name))
	})
}

// ListGroups lists the account's groups under a path prefix.
func (s *Service) ListGroups(ctx context.Context, in *iamapi.ListGroupsRequest) (*iamapi.ListGroupsResponse, error) {
	all, err := listUnder(ctx, s, groups, in.PathPrefix, func(g groupRec) string { return g.Path })
	if err != nil {
		return nil, err
	}
	gs, trunc, marker, err := wireGroups(all, in.MaxItems, in.Marker)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListGroupsResponse{Groups: gs, IsTruncated: trunc, Marker: marker}, nil
}

func wireGroups(all []groupRec, maxItems *int32, marker *string) ([]iamapi.Group, *bool, *string, error) {
	pg, trunc, next, err := page(all, maxItems, marker, func(g groupRec) string { return key(g.Name) })
	out := []iamapi.Group{}
	for i := range pg {
		out = append(out, *pg[i].wire())
	}
	return out, trunc, next, err
}

// membership changes whether a user is in a group.
func (s *Service) membership(ctx context.Context, groupName, userName string, add bool) error {
	return s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		g, err := groupKind.get(tx, sc, groupName)
		if err != nil {
			return err
		}
		h, err := userKind.get(tx, sc, userName)
		if err != nil {
			return err
		}
		u, gk := h.(*userRec), key(g.base().Name)
		in := slices.Contains(u.Groups, gk)
		switch {
		case add && in:
			return nil
		case add:
			if len(u.Groups) >= 10 {
				return limitExceeded("Cannot exceed quota for GroupsPerUser: 10")
			}
			u.Groups = append(u.Groups, gk)
		case !in:
			return noSuchEntity("User %s is not in group %s.", u.Name, g.base().Name)
		default:
			u.Groups = slices.DeleteFunc(u.Groups, func(k string) bool { return k == gk })
		}
		return users.Put(tx, sc, key(u.Name), *u)
	})
}

// AddUserToGroup adds a user to a group.
func (s *Service) AddUserToGroup(ctx context.Context, in *iamapi.AddUserToGroupRequest) (*iamapi.Empty, error) {
	return nil, s.membership(ctx, *in.GroupName, *in.UserName, true)
}

// RemoveUserFromGroup removes a user from a group.
func (s *Service) RemoveUserFromGroup(ctx context.Context, in *iamapi.RemoveUserFromGroupRequest) (*iamapi.Empty, error) {
	return nil, s.membership(ctx, *in.GroupName, *in.UserName, false)
}

// ListGroupsForUser lists the groups a user is in.
func (s *Service) ListGroupsForUser(ctx context.Context, in *iamapi.ListGroupsForUserRequest) (*iamapi.ListGroupsForUserResponse, error) {
	var gs []groupRec
	err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		h, err := userKind.get(tx, sc, *in.UserName)
		if err != nil {
			return err
		}
		for _, gk := range h.(*userRec).Groups {
			g, ok, err := groups.Get(tx, sc, gk)
			if err != nil {
				return err
			}
			if ok {
				gs = append(gs, g)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out, trunc, marker, err := wireGroups(gs, in.MaxItems, in.Marker)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListGroupsForUserResponse{Groups: out, IsTruncated: trunc, Marker: marker}, nil
}

// Login profiles are kept (a console password minicloud has no console
// for), so that tools which create them work.

func (s *Service) login(ctx context.Context, name string, fn func(u *userRec) error) error {
	return s.mutate(ctx, userKind, name, func(_ state.Tx, _ state.Scope, h holder) error { return fn(h.(*userRec)) })
}

func noLogin(name string) error {
	return noSuchEntity("Login Profile for User %s cannot be found.", name)
}

// CreateLoginProfile gives a user a console password.
func (s *Service) CreateLoginProfile(ctx context.Context, in *iamapi.CreateLoginProfileRequest) (*iamapi.CreateLoginProfileResponse, error) {
	name, err := callerUser(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	var out *iamapi.LoginProfile
	err = s.login(ctx, name, func(u *userRec) error {
		if u.Login != nil {
			return alreadyExists("Login Profile for user %s already exists.", u.Name)
		}
		u.Login = &loginRec{Created: s.stamp(), ResetRequired: deref2(in.PasswordResetRequired)}
		out = &iamapi.LoginProfile{UserName: new(u.Name), CreateDate: new(u.Login.Created), PasswordResetRequired: new(u.Login.ResetRequired)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.CreateLoginProfileResponse{LoginProfile: out}, nil
}

// GetLoginProfile describes a user's login profile.
func (s *Service) GetLoginProfile(ctx context.Context, in *iamapi.GetLoginProfileRequest) (*iamapi.GetLoginProfileResponse, error) {
	name, err := callerUser(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	h, err := s.read(ctx, userKind, name)
	if err != nil {
		return nil, err
	}
	u := h.(*userRec)
	if u.Login == nil {
		return nil, noLogin(u.Name)
	}
	return &iamapi.GetLoginProfileResponse{LoginProfile: &iamapi.LoginProfile{UserName: new(u.Name), CreateDate: new(u.Login.Created),
		PasswordResetRequired: new(u.Login.ResetRequired)}}, nil
}

// UpdateLoginProfile changes a user's password settings.
func (s *Service) UpdateLoginProfile(ctx context.Context, in *iamapi.UpdateLoginProfileRequest) (*iamapi.Empty, error) {
	return nil, s.login(ctx, *in.UserName, func(u *userRec) error {
		if u.Login == nil {
			return noLogin(u.Name)
		}
		if in.PasswordResetRequired != nil {
			u.Login.ResetRequired = *in.PasswordResetRequired
		}
		return nil
	})
}

// DeleteLoginProfile removes a user's console password.
func (s *Service) DeleteLoginProfile(ctx context.Context, in *iamapi.DeleteLoginProfileRequest) (*iamapi.Empty, error) {
	name, err := callerUser(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	return nil, s.login(ctx, name, func(u *userRec) error {
		if u.Login == nil {
			return noLogin(u.Name)
		}
		u.Login = nil
		return nil
	})
}
