package dns53

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"

	"github.com/minicloud/minicloud/internal/dnszone"
)

// Route 53's default SOA, used for a zone whose records lack one.
const (
	defaultSOAMname = "ns-2048.awsdns-64.com."
	defaultSOARname = "awsdns-hostmaster.amazon.com."
)

// index is a compiled Snapshot: every zone parsed into dns.RRs, looked up
// by apex and by ID. It is immutable once built.
type index struct {
	snap   *dnszone.Snapshot
	byApex map[string][]*zone // apex -> zones in Snapshot order
	byID   map[string]*zone
	errs   []error
}

// zone is one compiled hosted zone.
type zone struct {
	src   *dnszone.Zone
	apex  string
	soa   *dns.SOA
	names map[string]*node // owner names with record sets
	ent   map[string]bool  // empty non-terminals (ancestors without sets)
	cuts  map[string]bool  // delegation points (non-apex NS sets)
}

// node is the record sets of one owner name.
type node struct {
	name  string
	types []uint16 // in first-seen order
	sets  map[uint16][]*rset
}

// rset is one record set with its parsed records.
type rset struct {
	rs    *dnszone.RecordSet
	rtype uint16
	rrs   []dns.RR
}

// canonical is a name in lower case with a trailing dot; Route 53's
// escaped "\052" wildcard label becomes "*".
func canonical(name string) string {
	n := strings.ToLower(dns.Fqdn(name))
	if strings.HasPrefix(n, `\052.`) {
		n = "*" + n[4:]
	}
	return n
}

func compile(snap *dnszone.Snapshot) *index {
	idx := &index{snap: snap, byApex: map[string][]*zone{}, byID: map[string]*zone{}}
	if snap == nil {
		return idx
	}
	for i := range snap.Zones {
		z := compileZone(&snap.Zones[i], &idx.errs)
		idx.byApex[z.apex] = append(idx.byApex[z.apex], z)
		if z.src.ID != "" {
			idx.byID[z.src.ID] = z
		}
	}
	return idx
}

func compileZone(in *dnszone.Zone, errs *[]error) *zone {
	z := &zone{src: in, apex: canonical(in.Name), names: map[string]*node{}, ent: map[string]bool{}, cuts: map[string]bool{}}
	for i := range in.Records {
		rs := &in.Records[i]
		name := canonical(rs.Name)
		t, ok := dns.StringToType[strings.ToUpper(rs.Type)]
		if !ok {
			*errs = append(*errs, fmt.Errorf("zone %s: %s: unknown type %q", z.apex, name, rs.Type))
			continue
		}
		if !dns.IsSubDomain(z.apex, name) {
			*errs = append(*errs, fmt.Errorf("zone %s: record %s outside the zone", z.apex, name))
			continue
		}
		set := &rset{rs: rs, rtype: t}
		if rs.Alias == nil {
			for _, v := range rs.Values {
				rr, err := dns.NewRR(fmt.Sprintf("%s %d IN %s %s", name, rs.TTL, dns.TypeToString[t], v))
				if err != nil || rr == nil || rr.Header().Rrtype != t {
					*errs = append(*errs, fmt.Errorf("zone %s: record %s %s %q: %v", z.apex, name, rs.Type, v, err))
					continue
				}
				set.rrs = append(set.rrs, rr)
			}
		}
		if t == dns.TypeSOA && name == z.apex && len(set.rrs) > 0 {
			z.soa = set.rrs[0].(*dns.SOA)
		}
		if t == dns.TypeNS && name != z.apex {
			z.cuts[name] = true
		}
		n := z.names[name]
		if n == nil {
			n = &node{name: name, sets: map[uint16][]*rset{}}
			z.names[name] = n
		}
		if _, seen := n.sets[t]; !seen {
			n.types = append(n.types, t)
		}
		n.sets[t] = append(n.sets[t], set)
	}
	if z.soa == nil {
		z.soa = &dns.SOA{
			Hdr: dns.RR_Header{Name: z.apex, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 900},
			Ns:  defaultSOAMname, Mbox: defaultSOARname,
			Serial: 1, Refresh: 7200, Retry: 900, Expire: 1209600, Minttl: 86400,
		}
	}
	for name := range z.names {
		for n := name; n != z.apex; {
			_, parent, ok := strings.Cut(n, ".")
			if !ok || parent == "" {
				break
			}
			n = parent
			if _, has := z.names[n]; !has {
				z.ent[n] = true
			}
		}
	}
	return z
}

// exists reports whether name is an owner or empty non-terminal of z.
func (z *zone) exists(name string) bool {
	if name == z.apex {
		return true
	}
	_, ok := z.names[name]
	return ok || z.ent[name]
}

// find is the node answering name (canonical, in the zone): the name's
// own, or the wildcard of its closest encloser (RFC 4592). ent is true
// for an empty non-terminal (NODATA); nil and false is NXDOMAIN.
func (z *zone) find(name string) (n *node, ent bool) {
	if n, ok := z.names[name]; ok {
		return n, false
	}
	if z.exists(name) {
		return nil, true
	}
	for n := name; n != z.apex; {
		_, parent, ok := strings.Cut(n, ".")
		if !ok || parent == "" {
			return nil, false
		}
		n = parent
		if z.exists(n) {
			return z.names["*."+n], false
		}
	}
	return nil, false
}

// cut is the highest delegation point at or above name, "" if none.
func (z *zone) cut(name string) string {
	if len(z.cuts) == 0 {
		return ""
	}
	found := ""
	for n := name; n != z.apex && dns.IsSubDomain(z.apex, n); {
		if z.cuts[n] {
			found = n
		}
		_, parent, ok := strings.Cut(n, ".")
		if !ok || parent == "" {
			break
		}
		n = parent
	}
	return found
}

// negativeSOA is the SOA for a negative answer; its TTL is the lesser of
// the SOA's TTL and its minimum, as Route 53 answers (RFC 2308).
func (z *zone) negativeSOA() dns.RR {
	s := dns.Copy(z.soa).(*dns.SOA)
	s.Hdr.Ttl = min(s.Hdr.Ttl, s.Minttl)
	return s
}

// The compiled snapshots of the latest few Snapshots (several sources, or
// a server and VPC resolvers sharing one, each hit their own slot).
var (
	cacheSlots [4]atomic.Pointer[index]
	cacheNext  atomic.Uint32
	compileMu  sync.Mutex
)

// indexFor returns the compiled form of snap, compiling it at most once
// while it stays cached.
func indexFor(snap *dnszone.Snapshot) *index {
	for i := range cacheSlots {
		if idx := cacheSlots[i].Load(); idx != nil && idx.snap == snap {
			return idx
		}
	}
	compileMu.Lock()
	defer compileMu.Unlock()
	for i := range cacheSlots {
		if idx := cacheSlots[i].Load(); idx != nil && idx.snap == snap {
			return idx
		}
	}
	idx := compile(snap)
	cacheSlots[cacheNext.Add(1)%uint32(len(cacheSlots))].Store(idx)
	return idx
}
