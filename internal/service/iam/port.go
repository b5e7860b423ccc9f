package iam

import (
	"context"

	"github.com/minicloud/minicloud/internal/iamport"
	"github.com/minicloud/minicloud/internal/state"
)

// Profiles is IAM's instance profiles as EC2 and the metadata service see
// them (iamport).
func (s *Service) Profiles() iamport.Profiles { return profilePort{s} }

type profilePort struct{ s *Service }

// ProfileByName reads the profile and its role as they are now, so that a
// role added to or removed from the profile is seen at the next lookup.
func (p profilePort) ProfileByName(ctx context.Context, account, name string) (iamport.Profile, bool, error) {
	var (
		out   iamport.Profile
		found bool
	)
	sc := state.Global(account)
	err := p.s.store.View(ctx, func(tx state.Tx) error {
		rec, ok, err := profiles.Get(tx, sc, key(name))
		if err != nil || !ok {
			return err
		}
		found = true
		out = iamport.Profile{Name: rec.Name, Path: rec.Path, ID: rec.ID, ARN: rec.ARN}
		for _, rk := range rec.Roles {
			r, ok, err := roles.Get(tx, sc, rk)
			if err != nil {
				return err
			}
			if ok {
				out.Role = iamport.Role{Name: r.Name, ID: r.ID, ARN: r.ARN}
				break
			}
		}
		return nil
	})
	return out, found, err
}
