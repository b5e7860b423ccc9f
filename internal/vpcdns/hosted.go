package vpcdns

import (
	"fmt"
	"maps"

	"github.com/miekg/dns"

	"github.com/minicloud/minicloud/internal/dnszone"
)

// The Route 53 private hosted zones (Config.Zones) are compiled once per
// version of each zone, not per query: the server keeps the compiled form
// of every zone Zones returned last, by pointer (a zone of a snapshot
// never changes). A zone's new version is compiled from its previous one,
// parsing only the names whose record sets changed (dnszone.ChangedNames),
// so a change batch costs the resolvers what it changed, not the zone.

// hostedCache is the compiled form of the zones Zones returned last.
type hostedCache map[*dnszone.Zone]*hostedZone

// hostedZone is one compiled version of a hosted zone.
type hostedZone struct {
	src *dnszone.Zone
	*zone
}

// hostedZones returns the compiled zones of the VPC's private hosted zones
// now, in Zones' order, compiling the versions not seen yet.
func (s *Server) hostedZones(vpcID string) []*zone {
	if s.cfg.Zones == nil {
		return nil
	}
	srcs := s.cfg.Zones()
	out := make([]*zone, 0, len(srcs))
	if c := s.hosted.Load(); c != nil {
		for _, src := range srcs {
			hz, ok := (*c)[src]
			if !ok {
				break
			}
			out = append(out, hz.zone)
		}
		if len(out) == len(srcs) {
			return out
		}
	}
	s.hostedMu.Lock()
	defer s.hostedMu.Unlock()
	old := hostedCache{}
	if c := s.hosted.Load(); c != nil {
		old = *c
	}
	byID := map[string]*hostedZone{}
	for _, hz := range old {
		if hz.src.ID != "" {
			byID[hz.src.ID] = hz
		}
	}
	next := make(hostedCache, len(srcs))
	out = out[:0]
	for _, src := range srcs {
		hz := old[src]
		if hz == nil {
			var errs []error
			if prev := byID[src.ID]; prev != nil && src.ID != "" && prev.apex == canonical(src.Name) {
				hz, errs = prev.next(src)
			} else {
				hz, errs = compileHosted(src)
			}
			for _, err := range errs {
				s.log.Debug("vpcdns: hosted zone", "vpc", vpcID, "err", err)
			}
		}
		next[src] = hz
		out = append(out, hz.zone)
	}
	s.hosted.Store(&next)
	return out
}

// compileHosted compiles a hosted zone. Alias record sets, and sets
// without values, are not answered. Records that do not parse or lie
// outside the zone are skipped and reported.
func compileHosted(in *dnszone.Zone) (*hostedZone, []error) {
	z := newZone(in.Name, 900, 86400)
	z.below = map[string]int{}
	hz := &hostedZone{src: in, zone: z}
	var errs []error
	for _, r := range in.Records {
		errs = hz.addSet(r, errs)
	}
	return hz, errs
}

// next compiles in, a later version of hz's zone, from hz: the names whose
// record sets changed are parsed again, the others keep their records.
func (hz *hostedZone) next(in *dnszone.Zone) (*hostedZone, []error) {
	changed := dnszone.ChangedNames(hz.src, in)
	if len(changed) > len(hz.names)/2 {
		return compileHosted(in)
	}
	z := &zone{apex: hz.apex, soa: hz.soa, names: maps.Clone(hz.names), below: maps.Clone(hz.below)}
	n := &hostedZone{src: in, zone: z}
	var errs []error
	for _, raw := range changed {
		name := canonical(raw)
		if name != raw {
			// Another spelling may share the name: compile it all.
			return compileHosted(in)
		}
		if _, ok := z.names[name]; ok {
			delete(z.names, name)
			z.count(name, -1)
		}
		if name == z.apex {
			z.soa = newZone(in.Name, 900, 86400).soa
		}
		for _, r := range in.Find(raw) {
			errs = n.addSet(r, errs)
		}
	}
	return n, errs
}

// addSet parses one record set's values into the zone.
func (hz *hostedZone) addSet(r *dnszone.RecordSet, errs []error) []error {
	if r.Alias != nil || len(r.Values) == 0 {
		return errs
	}
	name := canonical(r.Name)
	if !dns.IsSubDomain(hz.apex, name) {
		return append(errs, fmt.Errorf("zone %s: record %s outside the zone", hz.apex, name))
	}
	for _, v := range r.Values {
		rr, err := dns.NewRR(fmt.Sprintf("%s %d IN %s %s", name, r.TTL, r.Type, v))
		if err != nil || rr == nil {
			errs = append(errs, fmt.Errorf("zone %s: record %s %s %q: %v", hz.apex, name, r.Type, v, err))
			continue
		}
		hz.add(rr)
	}
	return errs
}
