package route53

import (
	"context"
	"net/netip"
	"sort"
	"strings"

	"github.com/minicloud/minicloud/internal/api"
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
	e, ok := set.Names[name]
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

// rebuild refreshes the caller's account in the snapshot after a commit.
func (s *Service) rebuild(ctx context.Context) {
	account := api.Request(ctx).Account
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	var list []zoneRecord
	err := s.store.View(context.WithoutCancel(ctx), func(tx state.Tx) error {
		var err error
		list, err = zones.List(tx, state.Global(account))
		return err
	})
	if err != nil {
		return
	}
	s.byAccount[account] = toZones(list)
	s.publishLocked()
}

// rebuildAll reloads every account's zones and health checks (at start and
// after a store reset).
func (s *Service) rebuildAll(ctx context.Context) error {
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	byAccount := map[string][]zoneRecord{}
	checks := map[string]route53api.HealthCheckConfig{}
	delegated := map[string]string{}
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
					byAccount[sc.Account] = append(byAccount[sc.Account], z)
				}
			case healthChecks.Kind:
				h, found, err := healthChecks.Get(tx, sc, id)
				if err == nil && found && h.HealthCheckConfig != nil {
					checks[id] = *h.HealthCheckConfig
				}
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	s.byAccount, s.delegated = map[string][]dnszone.Zone{}, delegated
	for a, list := range byAccount {
		s.byAccount[a] = toZones(list)
	}
	s.publishLocked()
	s.checker.reset(checks)
	return nil
}

func (s *Service) publishLocked() {
	snap := &dnszone.Snapshot{}
	for _, zs := range s.byAccount {
		snap.Zones = append(snap.Zones, zs...)
	}
	sort.Slice(snap.Zones, func(i, j int) bool {
		a, b := snap.Zones[i], snap.Zones[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.ID < b.ID
	})
	markShadowed(snap.Zones, s.delegated)
	s.snap.Store(snap)
}

func toZones(list []zoneRecord) []dnszone.Zone {
	out := make([]dnszone.Zone, 0, len(list))
	for _, z := range list {
		dz := dnszone.Zone{ID: z.ID, Name: z.Name, Private: z.Private, Created: z.Created}
		for _, v := range z.VPCs {
			dz.VPCs = append(dz.VPCs, dnszone.VPC{Region: deref(v.VPCRegion), ID: deref(v.VPCId)})
		}
		for _, r := range z.Records {
			dz.Records = append(dz.Records, toRecordSet(r))
		}
		out = append(out, dz)
	}
	return out
}

func toRecordSet(r rrset) dnszone.RecordSet {
	rs := dnszone.RecordSet{
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
