package route53

import (
	"context"
	"fmt"
	"net/http"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/route53api"
	"github.com/minicloud/minicloud/internal/state"
)

// Reusable delegation sets: four name servers that several public hosted
// zones share, so that a registrar lists the same servers for all of
// them. A set made from a zone (HostedZoneId) takes that zone's name
// servers and the zone then uses the set; others get their own four names
// (as fake as a zone's: see nameServers).

// maxZonesByDelegationSet is AWS's MAX_ZONES_BY_REUSABLE_DELEGATION_SET.
const maxZonesByDelegationSet = 100

type delegationSetRecord struct {
	ID              string   `json:"id"`
	CallerReference string   `json:"callerReference"`
	NameServers     []string `json:"nameServers"`
}

var (
	delegationSets   = state.Table[delegationSetRecord]{Service: "route53", Kind: "delegationset"}
	delegationSetRef = state.Table[refRecord]{Service: "route53", Kind: "delegationsetref"}
)

// newDelegationSetID returns "N" and 13 upper-case letters and digits
// (AWS's shape: N1PA6795SAMPLE).
func newDelegationSetID() string { return "N" + randomAlnum(13) }

func (d *delegationSetRecord) api() *route53api.DelegationSet {
	return &route53api.DelegationSet{Id: new("/delegationset/" + d.ID), CallerReference: new(d.CallerReference), NameServers: d.NameServers}
}

func errNoSuchDelegationSet(id string) error {
	return api.Errorf(http.StatusBadRequest, "NoSuchDelegationSet", "A reusable delegation set with the specified ID does not exist: %s", id)
}

func getDelegationSet(tx state.Tx, sc state.Scope, id string) (*delegationSetRecord, error) {
	id = stripPrefix(&id, "/delegationset/")
	d, ok, err := delegationSets.Get(tx, sc, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNoSuchDelegationSet(id)
	}
	return &d, nil
}

// zonesUsing counts the zones whose name servers are delegation set id's.
func zonesUsing(tx state.Tx, sc state.Scope, id string) (int, error) {
	n := 0
	err := zones.ForEach(tx, sc, func(_ string, z zoneRecord) error {
		if z.DelegationSetID == id {
			n++
		}
		return nil
	})
	return n, err
}

// CreateReusableDelegationSet makes a delegation set, from a zone's name
// servers when HostedZoneId is given.
func (s *Service) CreateReusableDelegationSet(ctx context.Context, in *route53api.CreateReusableDelegationSetRequest) (*route53api.CreateReusableDelegationSetResponse, error) {
	ref := deref(in.CallerReference)
	if ref == "" || len(ref) > 128 {
		return nil, errInvalidInput("1 validation error detected: Value '%s' at 'callerReference' failed to satisfy constraint: Member must have length between 1 and 128", ref)
	}
	hash := state.HashParams(map[string]any{"zone": deref(in.HostedZoneId)})
	var d delegationSetRecord
	err := s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		if _, ok, err := delegationSetRef.Get(tx, sc, ref); err != nil {
			return err
		} else if ok {
			return api.Errorf(http.StatusBadRequest, "DelegationSetAlreadyCreated", "A delegation set with the same owner and caller reference combination has already been created.")
		}
		if n, err := countRows(tx, sc, delegationSets); err != nil {
			return err
		} else if n >= accountLimits["MAX_REUSABLE_DELEGATION_SETS_BY_OWNER"] {
			return api.Errorf(http.StatusBadRequest, "LimitsExceeded", "This operation can't be completed because the current account has reached the limit on reusable delegation sets that it can create.")
		}
		d = delegationSetRecord{ID: newDelegationSetID(), CallerReference: ref}
		d.NameServers = nameServers(d.ID)
		if in.HostedZoneId != nil {
			z, ok, err := zones.Get(tx, sc, stripPrefix(in.HostedZoneId, "/hostedzone/"))
			switch {
			case err != nil:
				return err
			case !ok:
				return api.Errorf(http.StatusBadRequest, "HostedZoneNotFound", "The specified HostedZone can't be found.")
			case z.Private:
				return api.Errorf(http.StatusBadRequest, "DelegationSetNotAvailable", "You can't create a reusable delegation set from a private hosted zone.")
			case z.DelegationSetID != "":
				return api.Errorf(http.StatusBadRequest, "DelegationSetAlreadyReusable", "The specified delegation set has already been marked as reusable.")
			}
			d.NameServers = z.NameServers
			z.DelegationSetID = d.ID
			if err := zones.Put(tx, sc, z.ID, z); err != nil {
				return err
			}
		}
		if err := delegationSetRef.Put(tx, sc, ref, refRecord{ID: d.ID, Hash: hash}); err != nil {
			return err
		}
		return delegationSets.Put(tx, sc, d.ID, d)
	})
	if err != nil {
		return nil, err
	}
	return &route53api.CreateReusableDelegationSetResponse{DelegationSet: d.api(), Location: new("https://route53.amazonaws.com/2013-04-01/delegationset/" + d.ID)}, nil
}

// GetReusableDelegationSet returns a delegation set.
func (s *Service) GetReusableDelegationSet(ctx context.Context, in *route53api.GetReusableDelegationSetRequest) (*route53api.GetReusableDelegationSetResponse, error) {
	var d *delegationSetRecord
	err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		var err error
		d, err = getDelegationSet(tx, sc, deref(in.Id))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &route53api.GetReusableDelegationSetResponse{DelegationSet: d.api()}, nil
}

// ListReusableDelegationSets lists the sets in ID order; Marker is the
// first set's ID.
func (s *Service) ListReusableDelegationSets(ctx context.Context, in *route53api.ListReusableDelegationSetsRequest) (*route53api.ListReusableDelegationSetsResponse, error) {
	n, err := maxItems(in.MaxItems, 100, 100)
	if err != nil {
		return nil, err
	}
	var list []delegationSetRecord
	if err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		list, err = delegationSets.List(tx, sc)
		return err
	}); err != nil {
		return nil, err
	}
	marker := stripPrefix(in.Marker, "/delegationset/")
	out := &route53api.ListReusableDelegationSetsResponse{DelegationSets: []route53api.DelegationSet{}, Marker: new(deref(in.Marker)), MaxItems: new(fmt.Sprint(n)), IsTruncated: new(false)}
	for _, d := range list {
		if d.ID < marker {
			continue
		}
		if len(out.DelegationSets) == n {
			out.IsTruncated, out.NextMarker = new(true), new(d.ID)
			break
		}
		out.DelegationSets = append(out.DelegationSets, *d.api())
	}
	return out, nil
}

// DeleteReusableDelegationSet deletes a set no zone uses.
func (s *Service) DeleteReusableDelegationSet(ctx context.Context, in *route53api.DeleteReusableDelegationSetRequest) (*route53api.DeleteReusableDelegationSetResponse, error) {
	err := s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		d, err := getDelegationSet(tx, sc, deref(in.Id))
		if err != nil {
			return err
		}
		if n, err := zonesUsing(tx, sc, d.ID); err != nil {
			return err
		} else if n > 0 {
			return api.Errorf(http.StatusBadRequest, "DelegationSetInUse", "The specified delegation contains associated hosted zones which must be deleted before the reusable delegation set can be deleted.")
		}
		return delegationSets.Delete(tx, sc, d.ID)
	})
	if err != nil {
		return nil, err
	}
	return &route53api.DeleteReusableDelegationSetResponse{}, nil
}

// GetReusableDelegationSetLimit reports how many zones a set may serve,
// and how many it does.
func (s *Service) GetReusableDelegationSetLimit(ctx context.Context, in *route53api.GetReusableDelegationSetLimitRequest) (*route53api.GetReusableDelegationSetLimitResponse, error) {
	if typ := deref(in.Type); typ != "MAX_ZONES_BY_REUSABLE_DELEGATION_SET" {
		return nil, errInvalidInput("1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [MAX_ZONES_BY_REUSABLE_DELEGATION_SET]", typ)
	}
	var n int
	err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		d, err := getDelegationSet(tx, sc, deref(in.DelegationSetId))
		if err != nil {
			return err
		}
		n, err = zonesUsing(tx, sc, d.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &route53api.GetReusableDelegationSetLimitResponse{
		Limit: &route53api.ReusableDelegationSetLimit{Type: in.Type, Value: new(int64(maxZonesByDelegationSet))},
		Count: new(int64(n)),
	}, nil
}

// useDelegationSet gives a new public zone the name servers of delegation
// set id, checking that the set may take it.
func useDelegationSet(tx state.Tx, sc state.Scope, id string, z *zoneRecord) error {
	d, err := getDelegationSet(tx, sc, id)
	if err != nil {
		return err
	}
	n := 0
	err = zones.ForEach(tx, sc, func(_ string, o zoneRecord) error {
		if o.DelegationSetID != d.ID {
			return nil
		}
		n++
		if o.Name == z.Name {
			return api.Errorf(http.StatusBadRequest, "ConflictingDomainExists", "A hosted zone with the specified name already exists and is already using this reusable delegation set.")
		}
		return nil
	})
	if err != nil {
		return err
	}
	if n >= maxZonesByDelegationSet {
		return api.Errorf(http.StatusBadRequest, "TooManyHostedZones", "This operation can't be completed because you've reached the limit on the number of hosted zones that can be associated with a reusable delegation set.")
	}
	z.DelegationSetID, z.NameServers = d.ID, d.NameServers
	return nil
}
