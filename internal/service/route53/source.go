package route53

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/minicloud/minicloud/internal/api/route53api"
	"github.com/minicloud/minicloud/internal/dnszone"
	"github.com/minicloud/minicloud/internal/state"
)

// Source returns the zones and health for DNS servers. Snapshot is
// lock-free (an atomic pointer replaced after every committed change);
// Healthy asks the checker; Resolve finds alias targets outside the hosted
// zones among the services' endpoint names (SetEndpoints: load balancers;
// CloudFront and S3 come with those services).
func (s *Service) Source() dnszone.Source { return source{s} }

type source struct{ s *Service }

func (x source) Snapshot() *dnszone.Snapshot { return x.s.snap.Load() }
func (x source) Healthy(id string) bool      { return x.s.checker.healthy(id) }

// Resolve answers an alias target that is a service endpoint with the
// addresses public DNS gives it ("dualstack." in front of a load
// balancer's name is the same name, as on AWS); healthy is false for an
// endpoint marked Unhealthy.
func (x source) Resolve(a dnszone.Alias, qtype string) ([]netip.Addr, bool, bool) {
	srcs := x.s.endpoints.Load()
	if srcs == nil {
		return nil, false, false
	}
	name := strings.TrimPrefix(a.DNSName, "dualstack.")
	set := srcs.Sets().For(name)
	if set == nil {
		return nil, false, false
	}
	e, ok := set.Lookup(name)
	if !ok {
		return nil, false, false
	}
	var out []netip.Addr
	for _, ip := range e.AddrsFrom("") {
		if ip = ip.Unmap(); (qtype == "A" && ip.Is4()) || (qtype == "AAAA" && ip.Is6()) {
			out = append(out, ip)
		}
	}
	return out, !e.Unhealthy, true
}

// The snapshot is the model the DNS servers read. Each change to the zones
// makes the next one from the current one (under mu, after its commit):
// the changed zone gets a new *dnszone.Zone, with new record sets for the
// names the change touched and the very same ones for every other name;
// every other zone is shared as it is. Only a start or a store reset reads
// the zones back from the store (rebuildAll).

// publishLocked makes the next snapshot: the current one with zone id
// replaced by z (nil: removed; id "": no zone changes, only the delegation
// rule is applied again).
func (s *Service) publishLocked(id string, z *dnszone.Zone) {
	cur := s.snap.Load().Zones
	zs := make([]*dnszone.Zone, 0, len(cur)+1)
	for _, o := range cur {
		if id == "" || o.ID != id {
			zs = append(zs, o)
		}
	}
	if z != nil {
		i := sort.Search(len(zs), func(i int) bool { return zoneLess(z, zs[i]) })
		zs = slices.Insert(zs, i, z)
	}
	markShadowed(zs, s.delegated)
	s.snap.Store(&dnszone.Snapshot{Zones: zs})
}

// zoneLess is the snapshot's order of zones: by name, then ID.
func zoneLess(a, b *dnszone.Zone) bool {
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	return a.ID < b.ID
}

// published is zone id as the current snapshot holds it, nil if absent.
func (s *Service) published(id string) *dnszone.Zone {
	for _, z := range s.snap.Load().Zones {
		if z.ID == id {
			return z
		}
	}
	return nil
}

// publishZoneLocked publishes a zone whose metadata changed (VPCs), with
// its record sets as they were.
func (s *Service) publishZoneLocked(z *zoneRecord) {
	var recs []*dnszone.RecordSet
	if cur := s.published(z.ID); cur != nil {
		recs = cur.Records
	}
	s.publishLocked(z.ID, toZone(z, recs))
}

// publishNamesLocked publishes a zone after a change batch: the names in
// sets get those record sets (nil: none), every other name keeps its own.
// Should the zone be missing from the snapshot, it is read from the store.
func (s *Service) publishNamesLocked(ctx context.Context, sc state.Scope, z *zoneRecord, sets map[string][]*dnszone.RecordSet) {
	cur := s.published(z.ID)
	if cur == nil {
		s.reloadZoneLocked(ctx, sc, z.ID)
		return
	}
	s.publishLocked(z.ID, toZone(z, splice(cur.Records, sets)))
}

// splice replaces the record sets of the names in sets: a search per
// changed name, from the last one found onwards (galloping, so that a run
// of adjacent names costs a comparison or two each), and one copy of the
// pointers.
func splice(recs []*dnszone.RecordSet, sets map[string][]*dnszone.RecordSet) []*dnszone.RecordSet {
	names := make([]string, 0, len(sets))
	n := len(recs)
	for name, ss := range sets {
		names = append(names, name)
		n += len(ss)
	}
	slices.SortFunc(names, dnszone.CompareNames)
	out := make([]*dnszone.RecordSet, 0, n)
	pos := 0
	for _, name := range names {
		lo := pos + gallop(recs[pos:], name)
		hi := lo
		for hi < len(recs) && recs[hi].Name == name {
			hi++
		}
		out = append(append(out, recs[pos:lo]...), sets[name]...)
		pos = hi
	}
	return append(out, recs[pos:]...)
}

// gallop is the index of the first set of recs not before name: bounds
// doubling from the start, then a binary search between the last two.
func gallop(recs []*dnszone.RecordSet, name string) int {
	before := func(i int) bool { return dnszone.CompareNames(recs[i].Name, name) < 0 }
	if len(recs) == 0 || !before(0) {
		return 0
	}
	// recs[lo] is before name; the answer is in (lo, hi].
	lo, step := 0, 1
	for lo+step < len(recs) && before(lo+step) {
		lo += step
		step *= 2
	}
	hi := min(lo+step, len(recs))
	return lo + 1 + sort.Search(hi-lo-1, func(i int) bool { return !before(lo + 1 + i) })
}

// reloadZoneLocked publishes zone id as the store holds it (gone: removed).
func (s *Service) reloadZoneLocked(ctx context.Context, sc state.Scope, id string) {
	var z *dnszone.Zone
	err := s.store.View(context.WithoutCancel(ctx), func(tx state.Tx) error {
		zr, ok, err := zones.Get(tx, sc, id)
		if err != nil || !ok {
			return err
		}
		var recs []*dnszone.RecordSet
		err = forEachName(tx, sc, id, "", func(_ string, n *nameRecord) error {
			recs = append(recs, toRecordSets(n.Sets)...)
			return nil
		})
		z = toZone(&zr, recs)
		return err
	})
	if err == nil {
		s.publishLocked(id, z)
	}
}

// rebuildAll reloads every account's zones and health checks (at start and
// after a store reset), first moving the record sets of zones written
// before name records into them.
func (s *Service) rebuildAll(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.migrate(ctx); err != nil {
		return err
	}
	type zoneSets struct {
		z    zoneRecord
		recs []*dnszone.RecordSet
	}
	byID := map[string]*zoneSets{}
	checks := map[string]route53api.HealthCheckConfig{}
	delegated := map[string]string{}
	logTargets := map[string]queryLogTarget{}
	err := s.store.View(ctx, func(tx state.Tx) error {
		return tx.Scan("", func(key string, _ []byte) error {
			sc, svc, kind, id, ok := state.SplitKey(key)
			if !ok || svc != "route53" || !sc.IsGlobal() {
				return nil
			}
			switch kind {
			case delegations.Kind:
				d, found, err := delegations.Get(tx, sc, id)
				if err == nil && found {
					delegated[d.Name] = d.ZoneID
				}
			case zones.Kind:
				z, found, err := zones.Get(tx, sc, id)
				if err == nil && found {
					zs := byID[z.ID]
					if zs == nil {
						zs = &zoneSets{}
						byID[z.ID] = zs
					}
					zs.z = z
				}
			case rrsets.Kind:
				// Keys sort as Route 53 lists: each zone's sets come in order.
				zoneID, _, _ := strings.Cut(id, "/")
				n, found, err := rrsets.Get(tx, sc, id)
				if err == nil && found {
					zs := byID[zoneID]
					if zs == nil {
						zs = &zoneSets{}
						byID[zoneID] = zs
					}
					zs.recs = append(zs.recs, toRecordSets(n.Sets)...)
				}
			case healthChecks.Kind:
				h, found, err := healthChecks.Get(tx, sc, id)
				if err == nil && found && h.HealthCheckConfig != nil {
					checks[id] = *h.HealthCheckConfig
				}
			case queryLogs.Kind:
				c, found, err := queryLogs.Get(tx, sc, id)
				if t, ok := c.target(); err == nil && found && ok {
					logTargets[c.ZoneID] = t
				}
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	s.delegated = delegated
	var zs []*dnszone.Zone
	for _, z := range byID {
		if z.z.ID != "" { // record sets without their zone are not served
			zs = append(zs, toZone(&z.z, z.recs))
		}
	}
	slices.SortFunc(zs, func(a, b *dnszone.Zone) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
	})
	markShadowed(zs, delegated)
	s.snap.Store(&dnszone.Snapshot{Zones: zs})
	s.checker.reset(checks)
	s.qlog.reset(logTargets)
	return nil
}

// migrate moves the record sets held in zone records (stores written
// before name records) into name records, in one transaction.
func (s *Service) migrate(ctx context.Context) error {
	type legacy struct {
		sc state.Scope
		id string
	}
	var old []legacy
	err := s.store.View(ctx, func(tx state.Tx) error {
		return tx.Scan("", func(key string, _ []byte) error {
			if sc, id, ok := zones.ParseKey(key); ok && sc.IsGlobal() {
				if z, found, err := zones.Get(tx, sc, id); err == nil && found && len(z.Records) > 0 {
					old = append(old, legacy{sc, id})
				}
			}
			return nil
		})
	})
	if err != nil || len(old) == 0 {
		return err
	}
	return s.store.Update(ctx, func(tx state.Tx) error {
		for _, l := range old {
			z, found, err := zones.Get(tx, l.sc, l.id)
			if err != nil || !found || len(z.Records) == 0 {
				if err != nil {
					return fmt.Errorf("route53: migrate zone %s: %w", l.id, err)
				}
				continue
			}
			n, err := putNames(tx, l.sc, z.ID, z.Records)
			if err != nil {
				return fmt.Errorf("route53: migrate zone %s: %w", l.id, err)
			}
			z.Count, z.Records = n, nil
			if err := zones.Put(tx, l.sc, z.ID, z); err != nil {
				return fmt.Errorf("route53: migrate zone %s: %w", l.id, err)
			}
		}
		return nil
	})
}

func toZone(z *zoneRecord, recs []*dnszone.RecordSet) *dnszone.Zone {
	dz := &dnszone.Zone{ID: z.ID, Name: z.Name, Private: z.Private, Created: z.Created, Records: recs}
	for _, v := range z.VPCs {
		dz.VPCs = append(dz.VPCs, dnszone.VPC{Region: deref(v.VPCRegion), ID: deref(v.VPCId)})
	}
	return dz
}

// toRecordSets converts one name's record sets (in their order).
func toRecordSets(sets []rrset) []*dnszone.RecordSet {
	out := make([]*dnszone.RecordSet, len(sets))
	for i := range sets {
		out[i] = toRecordSet(&sets[i])
	}
	return out
}

func toRecordSet(r *rrset) *dnszone.RecordSet {
	rs := &dnszone.RecordSet{
		Name:          deref(r.Name),
		Type:          deref(r.Type),
		TTL:           uint32(min(max(deref(r.TTL), 0), 1<<31-1)),
		SetIdentifier: deref(r.SetIdentifier),
		Weight:        r.Weight,
		Failover:      deref(r.Failover),
		Region:        deref(r.Region),
		HealthCheckID: deref(r.HealthCheckId),
	}
	rs.MultiValueAnswer = deref(r.MultiValueAnswer)
	for _, v := range r.ResourceRecords {
		rs.Values = append(rs.Values, deref(v.Value))
	}
	if g := r.GeoLocation; g != nil {
		rs.GeoLocation = &dnszone.GeoLocation{ContinentCode: deref(g.ContinentCode), CountryCode: deref(g.CountryCode), SubdivisionCode: deref(g.SubdivisionCode)}
	}
	if a := r.AliasTarget; a != nil {
		rs.Alias = &dnszone.Alias{HostedZoneID: deref(a.HostedZoneId), DNSName: strings.ToLower(deref(a.DNSName)), EvaluateTargetHealth: deref(a.EvaluateTargetHealth)}
	}
	return rs
}
