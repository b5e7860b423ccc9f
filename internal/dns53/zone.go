package dns53

import (
	"fmt"
	"maps"
	"slices"
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

// index is a Snapshot's zones, looked up by apex and by ID. A zone is
// compiled (its values parsed into dns.RRs) when a query first needs it,
// and an index built after another keeps the compiled zones of every zone
// the two snapshots share; a zone that changed is compiled from its
// previous version, parsing only the names whose record sets changed
// (dnszone.ChangedNames). So a change to one name of one zone costs the
// servers that name, not the zone or the account. An index never changes
// once built; compiled zones are published atomically.
type index struct {
	snap   *dnszone.Snapshot
	all    []*entry            // in Snapshot order
	byApex map[string][]*entry // apex -> zones in Snapshot order
	byID   map[string]*entry
}

// entry is one zone of an index, compiled on first use.
type entry struct {
	src  *dnszone.Zone
	apex string
	c    atomic.Pointer[zone]

	mu sync.Mutex
	// prev is an earlier version of the zone, compiled, to compile this
	// one from (nil: from scratch); dropped once compiled.
	prev *zone
}

// zone is one compiled hosted zone. It never changes once published:
// compiling a later version copies its maps and replaces changed names'
// nodes, so the nodes of unchanged names are shared between versions.
type zone struct {
	src   *dnszone.Zone
	apex  string
	soa   *dns.SOA
	names map[string]*node // owner names with record sets
	// below counts the owner names under each name (up to the apex): a
	// name with none of its own and some below is an empty non-terminal.
	below map[string]int
	cuts  map[string]bool    // delegation points (non-apex NS sets)
	errs  map[string][]error // values that did not parse, by owner name
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

// buildIndex indexes snap, taking from prev (nil: none) the entries of the
// zones both share and the compiled versions of the zones that changed.
func buildIndex(snap *dnszone.Snapshot, prev *index) *index {
	idx := &index{snap: snap, byApex: map[string][]*entry{}, byID: map[string]*entry{}}
	if snap == nil {
		return idx
	}
	shared := map[*dnszone.Zone]*entry{}
	if prev != nil {
		for _, e := range prev.all {
			shared[e.src] = e
		}
	}
	for _, src := range snap.Zones {
		e := shared[src]
		if e == nil {
			e = &entry{src: src, apex: canonical(src.Name)}
			if prev != nil && src.ID != "" {
				if old := prev.byID[src.ID]; old != nil && old.apex == e.apex {
					e.prev = old.compiled()
				}
			}
		}
		idx.all = append(idx.all, e)
		idx.byApex[e.apex] = append(idx.byApex[e.apex], e)
		if src.ID != "" {
			idx.byID[src.ID] = e
		}
	}
	return idx
}

// compiled is the entry's compiled zone if there is one yet, else the
// version it would be compiled from.
func (e *entry) compiled() *zone {
	if z := e.c.Load(); z != nil {
		return z
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if z := e.c.Load(); z != nil {
		return z
	}
	return e.prev
}

// zone returns the compiled zone, compiling it on first use.
func (e *entry) zone() *zone {
	if z := e.c.Load(); z != nil {
		return z
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if z := e.c.Load(); z != nil {
		return z
	}
	var z *zone
	if e.prev != nil {
		z = e.prev.next(e.src)
	} else {
		z = compileZone(e.src)
	}
	e.prev = nil
	e.c.Store(z)
	return z
}

func newZone(in *dnszone.Zone) *zone {
	return &zone{src: in, apex: canonical(in.Name), names: map[string]*node{}, below: map[string]int{}, cuts: map[string]bool{}, errs: map[string][]error{}}
}

func compileZone(in *dnszone.Zone) *zone {
	z := newZone(in)
	for _, rs := range in.Records {
		z.add(rs)
	}
	z.setSOA()
	return z
}

// next compiles in, a later version of z's zone, from z: the names whose
// record sets changed get new nodes, the others keep theirs.
func (z *zone) next(in *dnszone.Zone) *zone {
	changed := dnszone.ChangedNames(z.src, in)
	if len(changed) > len(z.names)/2 {
		return compileZone(in)
	}
	n := &zone{src: in, apex: z.apex, soa: z.soa, names: maps.Clone(z.names), below: maps.Clone(z.below), cuts: maps.Clone(z.cuts), errs: maps.Clone(z.errs)}
	for _, raw := range changed {
		name := canonical(raw)
		if name != raw {
			// Another spelling may share the node: compile it all.
			return compileZone(in)
		}
		n.drop(name)
		for _, rs := range in.Find(raw) {
			n.add(rs)
		}
	}
	n.setSOA()
	return n
}

// add parses one record set into its name's node. The node must be new to
// this version of the zone (see next), never one shared with another.
func (z *zone) add(rs *dnszone.RecordSet) {
	name := canonical(rs.Name)
	t, ok := dns.StringToType[strings.ToUpper(rs.Type)]
	if !ok {
		z.errs[name] = append(z.errs[name], fmt.Errorf("zone %s: %s: unknown type %q", z.apex, name, rs.Type))
		return
	}
	if !dns.IsSubDomain(z.apex, name) {
		z.errs[name] = append(z.errs[name], fmt.Errorf("zone %s: record %s outside the zone", z.apex, name))
		return
	}
	set := &rset{rs: rs, rtype: t}
	if rs.Alias == nil {
		for _, v := range rs.Values {
			rr, err := dns.NewRR(fmt.Sprintf("%s %d IN %s %s", name, rs.TTL, dns.TypeToString[t], v))
			if err != nil || rr == nil || rr.Header().Rrtype != t {
				z.errs[name] = append(z.errs[name], fmt.Errorf("zone %s: record %s %s %q: %v", z.apex, name, rs.Type, v, err))
				continue
			}
			set.rrs = append(set.rrs, rr)
		}
	}
	if t == dns.TypeNS && name != z.apex {
		z.cuts[name] = true
	}
	n := z.names[name]
	if n == nil {
		n = &node{name: name, sets: map[uint16][]*rset{}}
		z.names[name] = n
		z.count(name, 1)
	}
	if _, seen := n.sets[t]; !seen {
		n.types = append(n.types, t)
	}
	n.sets[t] = append(n.sets[t], set)
}

// drop removes name's node and everything derived from it.
func (z *zone) drop(name string) {
	if _, ok := z.names[name]; ok {
		delete(z.names, name)
		z.count(name, -1)
	}
	delete(z.cuts, name)
	delete(z.errs, name)
}

// count adds d to the names below each ancestor of name.
func (z *zone) count(name string, d int) {
	for n := name; n != z.apex; {
		_, parent, ok := strings.Cut(n, ".")
		if !ok || parent == "" {
			break
		}
		n = parent
		if z.below[n] += d; z.below[n] <= 0 {
			delete(z.below, n)
		}
	}
}

// setSOA takes the apex SOA (the last that parsed), else Route 53's
// default one.
func (z *zone) setSOA() {
	z.soa = nil
	if n := z.names[z.apex]; n != nil {
		for _, set := range n.sets[dns.TypeSOA] {
			if len(set.rrs) > 0 {
				z.soa = set.rrs[0].(*dns.SOA)
			}
		}
	}
	if z.soa == nil {
		z.soa = &dns.SOA{
			Hdr: dns.RR_Header{Name: z.apex, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 900},
			Ns:  defaultSOAMname, Mbox: defaultSOARname,
			Serial: 1, Refresh: 7200, Retry: 900, Expire: 1209600, Minttl: 86400,
		}
	}
}

// errors are the zone's record errors, by name in listing order.
func (z *zone) errors() []error {
	names := slices.SortedFunc(maps.Keys(z.errs), dnszone.CompareNames)
	var out []error
	for _, n := range names {
		out = append(out, z.errs[n]...)
	}
	return out
}

// exists reports whether name is an owner or empty non-terminal of z.
func (z *zone) exists(name string) bool {
	if name == z.apex {
		return true
	}
	_, ok := z.names[name]
	return ok || z.below[name] > 0
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

// The indexes of the latest few Snapshots (several sources, or a server
// and VPC resolvers sharing one, each hit their own slot), and the latest
// one built, which the next is built from.
var (
	cacheSlots [4]atomic.Pointer[index]
	cacheNext  atomic.Uint32
	compileMu  sync.Mutex
	latest     *index // under compileMu
)

// indexFor returns the index of snap, building it at most once while it
// stays cached.
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
	idx := buildIndex(snap, latest)
	latest = idx
	cacheSlots[cacheNext.Add(1)%uint32(len(cacheSlots))].Store(idx)
	return idx
}
