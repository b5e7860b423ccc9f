package dns53

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"github.com/miekg/dns"

	"github.com/minicloud/minicloud/internal/dnszone"
)

// describeZone renders what a compiled zone answers from.
func describeZone(z *zone) map[string]any {
	nodes := map[string]string{}
	for name, n := range z.names {
		s := fmt.Sprint(n.name, n.types)
		for _, t := range n.types {
			for _, set := range n.sets[t] {
				s += fmt.Sprintf(" [%p %v]", set.rs, set.rrs)
			}
		}
		nodes[name] = s
	}
	errs := map[string]int{}
	for n, es := range z.errs {
		errs[n] = len(es)
	}
	return map[string]any{"apex": z.apex, "soa": z.soa.String(), "names": nodes, "below": z.below, "cuts": z.cuts, "errs": errs}
}

// TestIncrementalIndex changes a zone version after version, as Route 53's
// snapshots do (new sets for the changed names, the same pointers for the
// rest), and checks each version compiled from the one before against the
// same version compiled from scratch, and that the names a version did not
// change keep their nodes.
func TestIncrementalIndex(t *testing.T) {
	const apex = "inc.test."
	rng := rand.New(rand.NewPCG(5, 8))
	names := []string{apex, "www." + apex, "a.b.c." + apex, "b.c." + apex, "*.w." + apex, "x.w." + apex, "deleg." + apex, "ns.deleg." + apex, "m." + apex}
	setsFor := func(name string, gen int) []*dnszone.RecordSet {
		switch rng.IntN(6) {
		case 0:
			return nil
		case 1:
			if name == apex {
				return []*dnszone.RecordSet{rec(name, "NS", 300, "ns1.example."), rec(name, "SOA", 900, fmt.Sprintf("ns1.example. h.example. %d 7200 900 1209600 %d", gen, 60+gen))}
			}
			return []*dnszone.RecordSet{rec(name, "NS", 300, "ns.deleg."+apex)}
		case 2:
			return []*dnszone.RecordSet{rec(name, "A", 60, "not-an-ip")}
		case 3:
			return []*dnszone.RecordSet{rec(name, "CNAME", 60, "www."+apex)}
		default:
			return []*dnszone.RecordSet{rec(name, "A", 60, fmt.Sprintf("192.0.2.%d", gen%250)), rec(name, "TXT", 60, fmt.Sprintf(`"%d"`, gen))}
		}
	}
	// Names no version changes, so that each changes few of the zone's.
	var static []*dnszone.RecordSet
	for i := range 40 {
		static = append(static, rec(fmt.Sprintf("f%d.%s", i, apex), "A", 60, "192.0.2.1"))
	}
	dnszone.SortRecordSets(static)
	cur := &dnszone.Zone{ID: "ZINC", Name: apex, Records: static}
	snap := &dnszone.Snapshot{Zones: []*dnszone.Zone{cur}}
	idx := buildIndex(snap, nil)
	prevZone := idx.byID["ZINC"].zone()
	skipped := map[string]bool{}
	for gen := range 300 {
		changed := map[string]bool{}
		for range 1 + rng.IntN(3) {
			changed[names[rng.IntN(len(names))]] = true
		}
		var recs []*dnszone.RecordSet
		for _, r := range cur.Records {
			if !changed[r.Name] {
				recs = append(recs, r)
			}
		}
		for name := range changed {
			recs = append(recs, setsFor(name, gen)...)
		}
		dnszone.SortRecordSets(recs)
		next := &dnszone.Zone{ID: "ZINC", Name: apex, Records: recs}
		snap = &dnszone.Snapshot{Zones: []*dnszone.Zone{next}}
		idx = buildIndex(snap, idx)
		if gen%7 == 3 {
			// Nobody asks for this version: the next is compiled from the
			// one before it.
			for name := range changed {
				skipped[name] = true
			}
			cur = next
			continue
		}
		got := idx.byID["ZINC"].zone()
		if want := compileZone(next); !reflect.DeepEqual(describeZone(got), describeZone(want)) {
			t.Fatalf("version %d (changed %v):\nincremental %v\nfrom scratch %v", gen, slices.Collect(maps.Keys(changed)), describeZone(got), describeZone(want))
		}
		for name, n := range got.names {
			if !changed[name] && !skipped[name] && prevZone.names[name] != nil && prevZone.names[name] != n {
				t.Fatalf("version %d: unchanged %s was compiled again", gen, name)
			}
		}
		cur, prevZone, skipped = next, got, map[string]bool{}
	}
}

// TestIndexSharesZones: an index built after another keeps the compiled
// zones of the zones both snapshots hold.
func TestIndexSharesZones(t *testing.T) {
	src := testSource()
	a := buildIndex(src.snap, nil)
	za := a.byID["Z2"].zone()
	www := a.byID["Z1"].zone().names["www.example.com."]
	changed := *src.snap.Zones[0]
	changed.Records = append(slices.Clone(changed.Records), rec("new.example.com.", "A", 60, "192.0.2.200"))
	dnszone.SortRecordSets(changed.Records)
	b := buildIndex(&dnszone.Snapshot{Zones: []*dnszone.Zone{&changed, src.snap.Zones[1], src.snap.Zones[2]}}, a)
	if b.byID["Z2"].zone() != za {
		t.Error("the unchanged zone was compiled again")
	}
	if z := b.byID["Z1"].zone(); z.names["new.example.com."] == nil || z.names["www.example.com."] != www {
		t.Error("the changed zone was not compiled from its previous version")
	}
	r, ok := Answer(fixed{&dnszone.Snapshot{Zones: []*dnszone.Zone{&changed}}}, nil, new(dns.Msg).SetQuestion("new.example.com.", dns.TypeA), ClientInfo{})
	if !ok || len(r.Answer) != 1 {
		t.Errorf("answer from the new version: %v", r)
	}
}

// fixed is a Source of one snapshot, everything healthy.
type fixed struct{ snap *dnszone.Snapshot }

func (f fixed) Snapshot() *dnszone.Snapshot                            { return f.snap }
func (fixed) Healthy(string) bool                                      { return true }
func (fixed) Resolve(dnszone.Alias, string) ([]netip.Addr, bool, bool) { return nil, false, false }
