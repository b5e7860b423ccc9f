package dns53

import (
	"cmp"
	"math/rand/v2"
	"net/netip"
	"slices"

	"github.com/miekg/dns"

	"github.com/minicloud/minicloud/internal/dnszone"
)

const (
	// maxChain bounds CNAME chains and alias/health recursion.
	maxChain = 8
	// maxMultiValue is how many multivalue answer sets Route 53 returns.
	maxMultiValue = 8
	// aliasTTL is the TTL of answers for alias targets outside the hosted
	// zones (Route 53 uses the target's, 60 s for load balancers).
	aliasTTL = 60
)

// ClientInfo is what routing policies know of the client.
type ClientInfo struct {
	Addr netip.Addr
	// Region is the client's AWS region for latency routing ("" unknown).
	Region string
	// Location is the client's location for geolocation routing (nil
	// unknown: only the default "*" location matches).
	Location *dnszone.GeoLocation
}

// Answer answers req (exactly one question, class IN or ANY, opcode QUERY;
// the caller checks) from the zones of src.Snapshot() that zoneFilter
// accepts (nil: all). owned is false, and the message nil, when no
// accepted zone contains the name: the caller forwards it. Otherwise the
// message is the authoritative reply (AA set, RA clear, no OPT record, not
// truncated): the caller adds EDNS and truncates for its transport.
func Answer(src dnszone.Source, zoneFilter func(*dnszone.Zone) bool, req *dns.Msg, client ClientInfo) (*dns.Msg, bool) {
	if src == nil || req == nil || len(req.Question) != 1 {
		return nil, false
	}
	r := &resolver{src: src, idx: indexFor(src.Snapshot()), filter: zoneFilter, client: client}
	q := req.Question[0]
	name := canonical(q.Name)
	z := r.zoneFor(name)
	if z == nil {
		return nil, false
	}
	resp := new(dns.Msg)
	resp.SetReply(req)
	resp.Authoritative = true
	resp.RecursionAvailable = false
	resp.Compress = true
	owner := q.Name
	if owner == "" || owner[len(owner)-1] != '.' {
		owner = name
	}
	seen := map[string]bool{name: true}
	for hop := 0; ; hop++ {
		res := r.lookup(z, name, owner, q.Qtype)
		resp.Answer = append(resp.Answer, res.answer...)
		resp.Rcode = res.rcode
		switch {
		case res.referral != nil:
			if hop == 0 {
				resp.Authoritative = false
			}
			resp.Ns, resp.Extra = res.referral, res.glue
			return resp, true
		case res.cname == "":
			if res.rcode == dns.RcodeNameError || len(res.answer) == 0 {
				resp.Ns = []dns.RR{z.negativeSOA()}
			}
			return resp, true
		}
		if hop == maxChain || seen[res.cname] {
			return resp, true
		}
		seen[res.cname] = true
		nz := r.zoneFor(res.cname)
		if nz == nil {
			// Left the zones: the client (or the caller) resolves the rest.
			return resp, true
		}
		z, name, owner = nz, res.cname, res.cname
	}
}

// ZoneFor is the ID of the zone Answer would answer name from (the most
// specific zone of src that zoneFilter accepts), "" when none holds it.
func ZoneFor(src dnszone.Source, zoneFilter func(*dnszone.Zone) bool, name string) string {
	if src == nil {
		return ""
	}
	r := &resolver{idx: indexFor(src.Snapshot()), filter: zoneFilter}
	if e := r.entryFor(canonical(name)); e != nil {
		return e.src.ID
	}
	return ""
}

// DanglingCNAME is the target of the CNAME that ends resp's answer when
// the chain leaves the owned zones (the name still to resolve for qtype),
// "" otherwise.
func DanglingCNAME(resp *dns.Msg) string {
	if resp == nil || len(resp.Question) != 1 || resp.Rcode != dns.RcodeSuccess || len(resp.Answer) == 0 {
		return ""
	}
	qt := resp.Question[0].Qtype
	if qt == dns.TypeCNAME || qt == dns.TypeANY {
		return ""
	}
	c, ok := resp.Answer[len(resp.Answer)-1].(*dns.CNAME)
	if !ok {
		return ""
	}
	for _, rr := range resp.Answer {
		if rr.Header().Rrtype == qt {
			return ""
		}
	}
	return c.Target
}

type resolver struct {
	src    dnszone.Source
	idx    *index
	filter func(*dnszone.Zone) bool
	client ClientInfo
}

// zoneFor is the most specific accepted zone containing name (the first in
// Snapshot order among zones of the same name), nil if none.
func (r *resolver) zoneFor(name string) *zone {
	if e := r.entryFor(name); e != nil {
		return e.zone()
	}
	return nil
}

// entryFor is zoneFor's index entry.
func (r *resolver) entryFor(name string) *entry {
	for n := name; ; {
		for _, e := range r.idx.byApex[n] {
			if r.filter == nil || r.filter(e.src) {
				return e
			}
		}
		if n == "." {
			return nil
		}
		off, end := dns.NextLabel(n, 0)
		if end {
			n = "."
		} else {
			n = n[off:]
		}
	}
}

type result struct {
	answer   []dns.RR
	rcode    int
	cname    string // canonical target to chase, "" none
	referral []dns.RR
	glue     []dns.RR
}

// lookup answers name (canonical, in z) for qtype, owners written as owner.
func (r *resolver) lookup(z *zone, name, owner string, qtype uint16) result {
	if cut := z.cut(name); cut != "" {
		return r.referral(z, cut)
	}
	n, ent := z.find(name)
	if n == nil {
		if ent {
			return result{rcode: dns.RcodeSuccess}
		}
		return result{rcode: dns.RcodeNameError}
	}
	if qtype == dns.TypeANY {
		var out []dns.RR
		for _, t := range n.types {
			out = append(out, r.render(z, n.sets[t], owner, t, 0)...)
		}
		return result{answer: out, rcode: dns.RcodeSuccess}
	}
	if sets := n.sets[qtype]; len(sets) > 0 {
		return result{answer: r.render(z, sets, owner, qtype, 0), rcode: dns.RcodeSuccess}
	}
	if sets := n.sets[dns.TypeCNAME]; len(sets) > 0 {
		out := r.render(z, sets, owner, dns.TypeCNAME, 0)
		res := result{answer: out, rcode: dns.RcodeSuccess}
		if len(out) > 0 {
			if c, ok := out[len(out)-1].(*dns.CNAME); ok {
				res.cname = canonical(c.Target)
			}
		}
		return res
	}
	return result{rcode: dns.RcodeSuccess}
}

// referral is the delegation to the NS set at cut, with glue from the zone.
func (r *resolver) referral(z *zone, cut string) result {
	n := z.names[cut]
	res := result{rcode: dns.RcodeSuccess}
	res.referral = r.render(z, n.sets[dns.TypeNS], cut, dns.TypeNS, 0)
	for _, rr := range res.referral {
		ns, ok := rr.(*dns.NS)
		if !ok {
			continue
		}
		target := canonical(ns.Ns)
		if !dns.IsSubDomain(cut, target) {
			continue
		}
		if gn, ok := z.names[target]; ok {
			for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
				res.glue = append(res.glue, r.render(z, gn.sets[t], target, t, 0)...)
			}
		}
	}
	return res
}

// render chooses among sets (one name, one type) by their routing policy
// and returns the records, owners written as owner.
func (r *resolver) render(z *zone, sets []*rset, owner string, qtype uint16, depth int) []dns.RR {
	var out []dns.RR
	for _, s := range r.choose(z, sets, depth) {
		out = append(out, r.records(z, s, owner, qtype, depth)...)
	}
	return out
}

// records are one set's records: its values, or its alias target's.
func (r *resolver) records(z *zone, s *rset, owner string, qtype uint16, depth int) []dns.RR {
	if s.rs.Alias == nil {
		out := make([]dns.RR, len(s.rrs))
		for i, rr := range s.rrs {
			c := dns.Copy(rr)
			c.Header().Name = owner
			out[i] = c
		}
		return out
	}
	if depth >= maxChain {
		return nil
	}
	a := s.rs.Alias
	if tz, tn := r.aliasTarget(z, a); tz != nil {
		if tn == nil {
			return nil
		}
		return r.render(tz, tn.sets[s.rtype], owner, s.rtype, depth+1)
	}
	if s.rtype != dns.TypeA && s.rtype != dns.TypeAAAA {
		return nil
	}
	addrs, _, ok := r.src.Resolve(*a, dns.TypeToString[s.rtype])
	if !ok {
		return nil
	}
	var out []dns.RR
	for _, ip := range addrs {
		ip = ip.Unmap()
		h := dns.RR_Header{Name: owner, Rrtype: s.rtype, Class: dns.ClassINET, Ttl: aliasTTL}
		switch {
		case s.rtype == dns.TypeA && ip.Is4():
			out = append(out, &dns.A{Hdr: h, A: ip.AsSlice()})
		case s.rtype == dns.TypeAAAA && ip.Is6():
			out = append(out, &dns.AAAA{Hdr: h, AAAA: ip.AsSlice()})
		}
	}
	return out
}

// aliasTarget finds an alias target among the hosted zones (any zone of
// the snapshot: an alias may name a record of its own or another zone):
// the zone (nil when the target is not a hosted-zone record) and the node
// (nil when the name has no records there).
func (r *resolver) aliasTarget(z *zone, a *dnszone.Alias) (*zone, *node) {
	var tz *zone
	if e := r.idx.byID[a.HostedZoneID]; e != nil {
		tz = e.zone()
	}
	if a.HostedZoneID == "" || a.HostedZoneID == z.src.ID {
		tz = z
	}
	target := canonical(a.DNSName)
	if tz == nil || !dns.IsSubDomain(tz.apex, target) {
		return nil, nil
	}
	n, _ := tz.find(target)
	return tz, n
}

// healthy reports whether a set may be answered: its health check (if
// any) is healthy and, with EvaluateTargetHealth, so is its alias target.
func (r *resolver) healthy(z *zone, s *rset, depth int) bool {
	if s.rs.HealthCheckID != "" && !r.src.Healthy(s.rs.HealthCheckID) {
		return false
	}
	a := s.rs.Alias
	if a == nil || !a.EvaluateTargetHealth {
		return true
	}
	if depth >= maxChain {
		return false
	}
	if tz, tn := r.aliasTarget(z, a); tz != nil {
		if tn == nil {
			return false
		}
		for _, ts := range tn.sets[s.rtype] {
			if r.healthy(tz, ts, depth+1) {
				return true
			}
		}
		return false
	}
	_, ok, exists := r.src.Resolve(*a, dns.TypeToString[s.rtype])
	return exists && ok
}

// choose applies the routing policy of sets (all of one name and type).
func (r *resolver) choose(z *zone, sets []*rset, depth int) []*rset {
	if len(sets) == 0 {
		return nil
	}
	rs := sets[0].rs
	switch {
	case rs.Weight != nil:
		return r.weighted(z, sets, depth)
	case rs.Failover != "":
		return r.failover(z, sets, depth)
	case rs.Region != "":
		return r.latency(z, sets, depth)
	case rs.GeoLocation != nil:
		return r.geo(z, sets, depth)
	case rs.MultiValueAnswer:
		return r.multivalue(z, sets, depth)
	}
	// Simple: every set (Route 53 allows one per name and type and does
	// not evaluate health for it).
	return sets
}

func (r *resolver) healthySets(z *zone, sets []*rset, depth int) []*rset {
	var out []*rset
	for _, s := range sets {
		if r.healthy(z, s, depth) {
			out = append(out, s)
		}
	}
	return out
}

func weightOf(s *rset) int64 {
	if s.rs.Weight == nil || *s.rs.Weight < 0 {
		return 0
	}
	return *s.rs.Weight
}

// weighted picks one set with probability weight/total among the healthy
// sets of non-zero weight; else uniformly among healthy sets of weight 0;
// with none healthy, among all sets as if healthy (Route 53).
func (r *resolver) weighted(z *zone, sets []*rset, depth int) []*rset {
	cand := r.healthySets(z, sets, depth)
	if len(cand) == 0 {
		cand = sets
	}
	var total int64
	var pos []*rset
	for _, s := range cand {
		if w := weightOf(s); w > 0 {
			total += w
			pos = append(pos, s)
		}
	}
	if total == 0 {
		return []*rset{cand[rand.IntN(len(cand))]}
	}
	x := rand.Int64N(total)
	for _, s := range pos {
		if x -= weightOf(s); x < 0 {
			return []*rset{s}
		}
	}
	return []*rset{pos[len(pos)-1]}
}

// failover answers PRIMARY when healthy, else SECONDARY when healthy, else
// PRIMARY (Route 53 answers as if all were healthy when none is).
func (r *resolver) failover(z *zone, sets []*rset, depth int) []*rset {
	var primary, secondary *rset
	for _, s := range sets {
		switch s.rs.Failover {
		case "PRIMARY":
			primary = cmp.Or(primary, s)
		case "SECONDARY":
			secondary = cmp.Or(secondary, s)
		}
	}
	switch {
	case primary != nil && r.healthy(z, primary, depth):
		return []*rset{primary}
	case secondary != nil && r.healthy(z, secondary, depth):
		return []*rset{secondary}
	case primary != nil:
		return []*rset{primary}
	case secondary != nil:
		return []*rset{secondary}
	}
	return nil
}

// latency picks, among healthy sets (all when none is), the one of the
// client's region, else the lexicographically first region.
func (r *resolver) latency(z *zone, sets []*rset, depth int) []*rset {
	cand := r.healthySets(z, sets, depth)
	if len(cand) == 0 {
		cand = sets
	}
	var best *rset
	for _, s := range cand {
		if r.client.Region != "" && s.rs.Region == r.client.Region {
			return []*rset{s}
		}
		if best == nil || s.rs.Region < best.rs.Region {
			best = s
		}
	}
	return []*rset{best}
}

// geo picks the most specific location matching the client: subdivision,
// country, continent, then the default "*"; a matching set that is
// unhealthy passes to the next broader one. No match is NODATA, as in
// Route 53 without a default location.
func (r *resolver) geo(z *zone, sets []*rset, depth int) []*rset {
	loc := r.client.Location
	level := func(g *dnszone.GeoLocation) int {
		switch {
		case g == nil:
			return -1
		case g.CountryCode == "*":
			return 3
		case loc == nil:
			return -1
		case g.SubdivisionCode != "":
			if g.CountryCode == loc.CountryCode && g.SubdivisionCode == loc.SubdivisionCode {
				return 0
			}
		case g.CountryCode != "":
			if g.CountryCode == loc.CountryCode {
				return 1
			}
		case g.ContinentCode != "":
			if g.ContinentCode == loc.ContinentCode {
				return 2
			}
		}
		return -1
	}
	var byLevel [4]*rset
	for _, s := range sets {
		if l := level(s.rs.GeoLocation); l >= 0 && byLevel[l] == nil {
			byLevel[l] = s
		}
	}
	var first *rset
	for _, s := range byLevel {
		if s == nil {
			continue
		}
		first = cmp.Or(first, s)
		if r.healthy(z, s, depth) {
			return []*rset{s}
		}
	}
	if first != nil {
		return []*rset{first}
	}
	return nil
}

// multivalue answers up to eight sets chosen at random among the healthy
// ones (among all when none is healthy, as Route 53 does).
func (r *resolver) multivalue(z *zone, sets []*rset, depth int) []*rset {
	cand := r.healthySets(z, sets, depth)
	if len(cand) == 0 {
		cand = slices.Clone(sets)
	}
	rand.Shuffle(len(cand), func(i, j int) { cand[i], cand[j] = cand[j], cand[i] })
	if len(cand) > maxMultiValue {
		cand = cand[:maxMultiValue]
	}
	return cand
}
