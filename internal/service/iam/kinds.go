package iam

import (
	"context"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/api/iamapi"
	"github.com/minicloud/minicloud/internal/state"
)

// holder is a user, group or role record.
type holder interface{ base() *principal }

// kind is what the operations shared by users, groups and roles (inline
// policies, attached policies, boundaries, tags) need to know of each.
type kind struct {
	noun string // "user", "group", "role": in messages
	// inlineQuota is the total size of the inline policies (whitespace
	// excluded) and attachQuota the managed policies the kind may have;
	// quota names the latter in LimitExceeded.
	inlineQuota int
	attachQuota int
	quota       string
	get         func(tx state.Tx, sc state.Scope, name string) (holder, error)
	put         func(tx state.Tx, sc state.Scope, h holder) error
	del         func(tx state.Tx, sc state.Scope, name string) error
	all         func(tx state.Tx, sc state.Scope) ([]holder, error)
}

func kindOf[T any, PT interface {
	*T
	holder
}](noun string, t state.Table[T], inlineQuota int, quota string) kind {
	return kind{
		noun: noun, inlineQuota: inlineQuota, attachQuota: 10, quota: quota,
		get: func(tx state.Tx, sc state.Scope, name string) (holder, error) {
			v, ok, err := t.Get(tx, sc, key(name))
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, noSuchEntity("The %s with name %s cannot be found.", noun, name)
			}
			return PT(&v), nil
		},
		put: func(tx state.Tx, sc state.Scope, h holder) error {
			return t.Put(tx, sc, key(h.base().Name), *h.(PT))
		},
		del: func(tx state.Tx, sc state.Scope, name string) error { return t.Delete(tx, sc, key(name)) },
		all: func(tx state.Tx, sc state.Scope) ([]holder, error) {
			var out []holder
			err := t.ForEach(tx, sc, func(_ string, v T) error {
				out = append(out, PT(&v))
				return nil
			})
			return out, err
		},
	}
}

var (
	userKind  = kindOf[userRec]("user", users, 2048, "PoliciesPerUser")
	groupKind = kindOf[groupRec]("group", groups, 5120, "PoliciesPerGroup")
	roleKind  = kindOf[roleRec]("role", roles, 10240, "PoliciesPerRole")
)

// mutate applies fn to the named entity of k and stores it, in one
// transaction.
func (s *Service) mutate(ctx context.Context, k kind, name string, fn func(tx state.Tx, sc state.Scope, h holder) error) error {
	return s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		h, err := k.get(tx, sc, name)
		if err != nil {
			return err
		}
		if err := fn(tx, sc, h); err != nil {
			return err
		}
		return k.put(tx, sc, h)
	})
}

// read returns the named entity of k.
func (s *Service) read(ctx context.Context, k kind, name string) (holder, error) {
	var h holder
	err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		var err error
		h, err = k.get(tx, sc, name)
		return err
	})
	return h, err
}

// protect refuses changes to a service-linked role, which only AWS makes.
func protect(h holder) error {
	if r, ok := h.(*roleRec); ok && r.Service != "" {
		return unmodifiable(r.Name)
	}
	return nil
}

// policiesConflict is DeleteConflict for an entity that still has
// policies, which AWS requires detaching or deleting first (attached ones
// are named first, as AWS answers DeleteRole).
func (p *principal) policiesConflict() error {
	switch {
	case len(p.Attached) > 0:
		return deleteConflict("Cannot delete entity, must detach all policies first.")
	case len(p.Inline) > 0:
		return deleteConflict("Cannot delete entity, must delete policies first.")
	}
	return nil
}

// absent fails with exists() when t has a record named name.
func absent[T any](tx state.Tx, sc state.Scope, t state.Table[T], name string, exists func() error) error {
	_, ok, err := t.Get(tx, sc, key(name))
	if err == nil && ok {
		return exists()
	}
	return err
}

// listUnder lists the records of t whose path is under prefix.
func listUnder[T any](ctx context.Context, s *Service, t state.Table[T], prefix *string, path func(T) string) ([]T, error) {
	var all []T
	err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		var err error
		all, err = t.List(tx, sc)
		return err
	})
	return slices.DeleteFunc(all, func(v T) bool { return !underPath(path(v), prefix) }), err
}

// rename changes an entity's name or path (UpdateUser, UpdateGroup);
// moved re-points what refers to the entity by its key.
func (s *Service) rename(ctx context.Context, k kind, name string, newName, newPath *string, maxLen int, moved func(tx state.Tx, sc state.Scope, from, to string) error) error {
	if newName != nil {
		if err := checkName("new"+k.title()+"Name", *newName, maxLen); err != nil {
			return err
		}
	}
	path, err := pathOr("newPath", newPath)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		h, err := k.get(tx, sc, name)
		if err != nil {
			return err
		}
		b := h.base()
		if newPath != nil {
			b.Path = path
		}
		if newName != nil && *newName != b.Name {
			from, to := key(b.Name), key(*newName)
			if from != to {
				if _, err := k.get(tx, sc, *newName); err == nil {
					return k.exists(*newName)
				} else if !isCode(err, "NoSuchEntity") {
					return err
				}
			}
			if err := moved(tx, sc, from, to); err != nil {
				return err
			}
			if err := k.del(tx, sc, from); err != nil {
				return err
			}
			b.Name = *newName
		}
		b.ARN = iamARN(ctx, k.noun, b.Path, b.Name)
		return k.put(tx, sc, h)
	})
}

// title is the kind's noun as messages start with it ("User").
func (k kind) title() string { return strings.ToUpper(k.noun[:1]) + k.noun[1:] }

func (k kind) exists(name string) error {
	return alreadyExists("%s with name %s already exists.", k.title(), name)
}

// create makes a new user, group or role: build turns the shared part,
// validated, into the record to store.
func (s *Service) create(ctx context.Context, k kind, prefix, name string, maxLen int, path, boundary *string, tags []iamapi.Tag, build func(p principal) holder) (holder, error) {
	if err := checkName(k.noun+"Name", name, maxLen); err != nil {
		return nil, err
	}
	var h holder
	err := s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		if _, err := k.get(tx, sc, name); err == nil {
			return k.exists(name)
		} else if !isCode(err, "NoSuchEntity") {
			return err
		}
		p, err := s.newPrincipal(ctx, tx, sc, k.noun, prefix, name, path, boundary, tags)
		if err != nil {
			return err
		}
		h = build(p)
		return k.put(tx, sc, h)
	})
	return h, err
}
