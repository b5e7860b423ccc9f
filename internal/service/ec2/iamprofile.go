package ec2

import (
	"context"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/iamport"
	"github.com/minicloud/minicloud/internal/state"
)

// IAM instance profiles of instances: RunInstances' IamInstanceProfile and
// the four association operations. The profile a request names is checked
// against IAM through iamport.Profiles (WithProfiles) before the write
// transaction, since IAM's lookups open transactions of their own; what
// is recorded is the profile's real ARN and ID. The instance record
// carries the active association's profile (DescribeInstances shows it,
// the runtime hands it to the metadata service, which reads the profile's
// role from IAM at each request); the associations are records of their
// own, whose states AWS moves over time and which are therefore computed
// when read (associating → associated, disassociating → disassociated).

// WithProfiles makes RunInstances and the association operations check the
// instance profile they name against IAM. Without it a profile is
// recorded as given, with a made-up ID (tests of EC2 alone).
func WithProfiles(p iamport.Profiles) Option { return func(s *Service) { s.profiles = p } }

// iipTransition is how long an association stays associating, or
// disassociating, before it is associated, or disassociated; iipKept is
// how long a disassociated one is still listed.
const (
	iipTransition = time.Second
	iipKept       = time.Hour
)

type iipAssocRecord struct {
	ec2api.IamInstanceProfileAssociation
	// Ended is when it was disassociated or replaced; zero while it is
	// the instance's active association.
	Ended time.Time `json:"ended,omitzero"`
}

var iipAssocs = register(&kind[iipAssocRecord]{prefix: "iip-assoc", table: state.Table[iipAssocRecord]{Service: "ec2", Kind: "iip-assoc"},
	noun: "association ID", notFound: "InvalidAssociationID.NotFound",
	id: func(r *iipAssocRecord) string { return deref(r.AssociationId) }})

// iipState is the association's state at now.
func iipState(a *iipAssocRecord, now time.Time) string {
	switch {
	case a.Ended.IsZero() && now.Sub(deref(a.Timestamp)) < iipTransition:
		return "associating"
	case a.Ended.IsZero():
		return "associated"
	case now.Sub(a.Ended) < iipTransition:
		return "disassociating"
	}
	return "disassociated"
}

func (a *iipAssocRecord) view(now time.Time) ec2api.IamInstanceProfileAssociation {
	v := a.IamInstanceProfileAssociation
	v.State = new(iipState(a, now))
	return v
}

// resolveProfile checks the profile spec names against IAM and returns it
// as EC2 records it; nil when spec names none.
func (s *Service) resolveProfile(ctx context.Context, spec *ec2api.IamInstanceProfileSpecification) (*ec2api.IamInstanceProfile, error) {
	if spec == nil || deref(spec.Arn) == "" && deref(spec.Name) == "" {
		return nil, nil
	}
	account := api.Request(ctx).Account
	if s.profiles == nil {
		arn := deref(spec.Arn)
		if arn == "" {
			arn = state.NewARN(state.Global(account), "iam", "instance-profile/"+deref(spec.Name)).String()
		}
		return &ec2api.IamInstanceProfile{Arn: new(arn), Id: new(state.NewUniqueID("AIPA"))}, nil
	}
	var (
		p     iamport.Profile
		found bool
		err   error
	)
	if arn := deref(spec.Arn); arn != "" {
		if p, found, err = iamport.ProfileByARN(ctx, s.profiles, account, arn); err == nil && !found {
			return nil, errInvalidParam("Value (%s) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN", arn)
		}
	} else if p, found, err = s.profiles.ProfileByName(ctx, account, *spec.Name); err == nil && !found {
		return nil, errInvalidParam("Value (%s) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name", *spec.Name)
	}
	if err != nil {
		return nil, err
	}
	return &ec2api.IamInstanceProfile{Arn: new(p.ARN), Id: new(p.ID)}, nil
}

// iipCreate records a new active association of the instance with profile.
func iipCreate(t *rtx, instanceID string, profile *ec2api.IamInstanceProfile, at time.Time) (*iipAssocRecord, error) {
	a := &iipAssocRecord{IamInstanceProfileAssociation: ec2api.IamInstanceProfileAssociation{
		AssociationId: new(state.NewID("iip-assoc")), InstanceId: new(instanceID),
		IamInstanceProfile: &ec2api.IamInstanceProfile{Arn: profile.Arn, Id: profile.Id}, Timestamp: new(at)}}
	return a, iipAssocs.put(t, a)
}

// iipPurge forgets the associations that ended long enough ago, and those
// of instances no longer listed.
func iipPurge(t *rtx) error {
	return iipAssocs.deleteWhere(t, func(a *iipAssocRecord) bool {
		if err := iipEnded(t, a); err != nil {
			return false
		}
		if !a.Ended.IsZero() && t.now.Sub(a.Ended) >= iipKept {
			return true
		}
		_, ok, err := instances.find(t, deref(a.InstanceId))
		return err == nil && !ok
	})
}

// iipActive is the instance's active association, if any.
func iipActive(t *rtx, instanceID string) (*iipAssocRecord, error) {
	var out *iipAssocRecord
	err := iipAssocs.table.ForEachShared(t.tx, t.scope, func(_ string, a *iipAssocRecord) error {
		if a.Ended.IsZero() && deref(a.InstanceId) == instanceID {
			out = state.Clone(a)
		}
		return nil
	})
	return out, err
}

// iipSetInstance sets the instance's profile to p (nil: none).
func iipSetInstance(t *rtx, instanceID string, p *ec2api.IamInstanceProfile) error {
	rec, err := instances.get(t, instanceID)
	if err != nil {
		return err
	}
	rec.IamInstanceProfile = p
	return instances.put(t, rec)
}

// iipEnded sets an active association's end to its instance's
// termination: a terminated instance keeps no profile.
func iipEnded(t *rtx, a *iipAssocRecord) error {
	if !a.Ended.IsZero() {
		return nil
	}
	rec, ok, err := instances.find(t, deref(a.InstanceId))
	if err != nil || !ok {
		return err
	}
	if st := instanceStateName(rec); st == stateShuttingDown || st == stateTerminated {
		a.Ended = rec.TerminatedAt
	}
	return nil
}

// iipAssociation is the association an operation names, which must be
// active.
func iipAssociation(t *rtx, id string) (*iipAssocRecord, error) {
	if !iipAssocs.validID(id) {
		return nil, errInvalidParam("Invalid value for associationId.")
	}
	a, err := iipAssocs.get(t, id)
	if err != nil {
		return nil, err
	}
	if err := iipEnded(t, a); err != nil {
		return nil, err
	}
	if !a.Ended.IsZero() {
		return nil, apiErr("IncorrectState", "The association %s is not the active association", id)
	}
	return a, nil
}

// iipAssociate records a new association of the profile spec names, in
// one write transaction with pick, which checks what the operation acts on
// and returns the instance.
func (s *Service) iipAssociate(ctx context.Context, spec *ec2api.IamInstanceProfileSpecification, pick func(t *rtx) (string, error)) (*ec2api.IamInstanceProfileAssociation, error) {
	profile, perr := s.resolveProfile(ctx, spec)
	var out ec2api.IamInstanceProfileAssociation
	err := s.update(ctx, func(t *rtx) error {
		if err := iipPurge(t); err != nil {
			return err
		}
		id, err := pick(t)
		switch {
		case err != nil:
			return err
		case perr != nil:
			return perr
		case profile == nil:
			return errMissingParam("IamInstanceProfile")
		}
		a, err := iipCreate(t, id, profile, t.now)
		if err != nil {
			return err
		}
		out = a.view(t.now)
		return iipSetInstance(t, id, profile)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// AssociateIamInstanceProfile gives an instance, which has none, an
// instance profile.
func (s *Service) AssociateIamInstanceProfile(ctx context.Context, in *ec2api.AssociateIamInstanceProfileRequest) (*ec2api.AssociateIamInstanceProfileResult, error) {
	out, err := s.iipAssociate(ctx, in.IamInstanceProfile, func(t *rtx) (string, error) {
		id := deref(in.InstanceId)
		rec, err := instances.get(t, id)
		if err != nil {
			return "", err
		}
		if st := instanceStateName(rec); st == stateShuttingDown || st == stateTerminated {
			return "", apiErr("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be associated.", id)
		}
		if cur, err := iipActive(t, id); err != nil {
			return "", err
		} else if cur != nil {
			return "", apiErr("IncorrectState", "There is an existing association for instance %s", id)
		}
		return id, nil
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.AssociateIamInstanceProfileResult{IamInstanceProfileAssociation: out}, nil
}

// ReplaceIamInstanceProfileAssociation replaces the profile of an active
// association: a new association (a new ID, associating) takes its place.
func (s *Service) ReplaceIamInstanceProfileAssociation(ctx context.Context, in *ec2api.ReplaceIamInstanceProfileAssociationRequest) (*ec2api.ReplaceIamInstanceProfileAssociationResult, error) {
	out, err := s.iipAssociate(ctx, in.IamInstanceProfile, func(t *rtx) (string, error) {
		old, err := iipAssociation(t, deref(in.AssociationId))
		if err != nil {
			return "", err
		}
		old.Ended = t.now
		return deref(old.InstanceId), iipAssocs.put(t, old)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ReplaceIamInstanceProfileAssociationResult{IamInstanceProfileAssociation: out}, nil
}

// DisassociateIamInstanceProfile takes an instance's profile away.
func (s *Service) DisassociateIamInstanceProfile(ctx context.Context, in *ec2api.DisassociateIamInstanceProfileRequest) (*ec2api.DisassociateIamInstanceProfileResult, error) {
	var out ec2api.IamInstanceProfileAssociation
	err := s.update(ctx, func(t *rtx) error {
		if err := iipPurge(t); err != nil {
			return err
		}
		a, err := iipAssociation(t, deref(in.AssociationId))
		if err != nil {
			return err
		}
		a.Ended = t.now
		if err := iipAssocs.put(t, a); err != nil {
			return err
		}
		out = a.view(t.now)
		return iipSetInstance(t, deref(a.InstanceId), nil)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DisassociateIamInstanceProfileResult{IamInstanceProfileAssociation: &out}, nil
}

// DescribeIamInstanceProfileAssociations lists associations, those that
// ended within the last hour too (state disassociated).
func (s *Service) DescribeIamInstanceProfileAssociations(ctx context.Context, in *ec2api.DescribeIamInstanceProfileAssociationsRequest) (*ec2api.DescribeIamInstanceProfileAssociationsResult, error) {
	fs := toFilters(in.Filters)
	if err := state.CheckFilterNames(fs, "instance-id", "state"); err != nil {
		return nil, err
	}
	var recs []*iipAssocRecord
	err := s.view(ctx, func(t *rtx) error {
		// The filters apply after iipEnded, since a state depends on the
		// instance's.
		all, err := iipAssocs.describe(t, in.AssociationIds, nil, nil)
		if err != nil {
			return err
		}
		values := func(a *iipAssocRecord) map[string][]string {
			return map[string][]string{"instance-id": {deref(a.InstanceId)}, "state": {iipState(a, t.now)}}
		}
		for _, a := range all {
			if err := iipEnded(t, a); err != nil {
				return err
			}
			if !a.Ended.IsZero() && t.now.Sub(a.Ended) >= iipKept {
				continue
			}
			if ok, err := iipAssocs.matches(a, fs, values); err != nil {
				return err
			} else if ok {
				recs = append(recs, a)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(recs, in.MaxResults, in.NextToken, func(a *iipAssocRecord) string { return deref(a.AssociationId) }, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeIamInstanceProfileAssociationsResult{IamInstanceProfileAssociations: []ec2api.IamInstanceProfileAssociation{}, NextToken: next}
	now := s.now().UTC()
	for _, a := range pg {
		out.IamInstanceProfileAssociations = append(out.IamInstanceProfileAssociations, a.view(now))
	}
	return out, nil
}
