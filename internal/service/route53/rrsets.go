package route53

import (
	"cmp"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/dnszone"
	"github.com/minicloud/minicloud/internal/state"
)

// A zone's record sets are stored one state record per owner name, not
// inside the zone's record: a change batch then reads and writes the names
// it changes and nothing else, so it costs the same in a zone of 100
// records as in one of 10,000 (one record per zone made every batch decode,
// copy and re-encode the whole zone). The key of a name is the zone's ID
// and the name's listing key (reversedName), so a scan of a zone's prefix
// visits its record sets in ListResourceRecordSets' order.

// nameRecord is every record set of one owner name in one zone, sorted by
// type, then set identifier.
type nameRecord struct {
	Sets []rrset `json:"sets"`
}

// rrsets holds the name records, keyed by nameID. Its indexes find the
// names holding an alias to a name (aliasRef: a DELETE must not remove the
// target of an alias) and those gated by a health check (which may not be
// deleted while they are), where a scan would read every zone.
var rrsets = state.Table[nameRecord]{Service: "route53", Kind: "rrset", Indexes: []state.Index[nameRecord]{
	{Name: "alias", Values: func(n *nameRecord) []string {
		var out []string
		for i := range n.Sets {
			if at := n.Sets[i].AliasTarget; at != nil {
				out = append(out, aliasRef(deref(at.HostedZoneId), deref(at.DNSName)))
			}
		}
		return out
	}},
	{Name: "healthcheck", Values: func(n *nameRecord) []string {
		var out []string
		for i := range n.Sets {
			if id := deref(n.Sets[i].HealthCheckId); id != "" && !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
		return out
	}},
}}

// nameID is the id of a name's record: the zone's ID and the name's
// listing key, so that byte order is Route 53's order.
func nameID(zoneID, name string) string { return zoneID + "/" + reversedName(name) }

// zonePrefix is the key prefix of every name record of a zone.
func zonePrefix(sc state.Scope, zoneID string) string { return rrsets.Prefix(sc) + zoneID + "/" }

// aliasRef is the alias index's value for a target (escaped: a name may
// hold any byte, an index value no NUL).
func aliasRef(zoneID, name string) string { return zoneID + " " + escapeName(name) }

func sortSets(sets []rrset) {
	slices.SortStableFunc(sets, func(a, b rrset) int {
		return cmp.Or(strings.Compare(deref(a.Type), deref(b.Type)), strings.Compare(deref(a.SetIdentifier), deref(b.SetIdentifier)))
	})
}

// batch is a change batch's view of one zone's record sets: the names it
// read, with the changes so far, written back by flush. Nothing else of the
// zone is read.
type batch struct {
	tx    state.Tx
	sc    state.Scope
	zone  *zoneRecord
	names map[string]*nameSets // by nameID
	// changed are the ids of the names changed, in first-change order.
	changed []string
	// aliasesTo are the names given, in this batch, an alias to a name of
	// the zone (target name → ids): the index holds only committed ones.
	aliasesTo map[string][]string
}

// nameSets is one name's record sets as the batch left them.
type nameSets struct {
	name    string
	sets    []rrset
	changed bool
}

func newBatch(tx state.Tx, sc state.Scope, z *zoneRecord) *batch {
	return &batch{tx: tx, sc: sc, zone: z, names: map[string]*nameSets{}, aliasesTo: map[string][]string{}}
}

// load returns the record sets of the name whose record id is id.
func (b *batch) load(id, name string) (*nameSets, error) {
	if ns, ok := b.names[id]; ok {
		return ns, nil
	}
	n, _, err := rrsets.Get(b.tx, b.sc, id)
	if err != nil {
		return nil, err
	}
	ns := &nameSets{name: name, sets: n.Sets}
	if name == "" && len(n.Sets) > 0 {
		ns.name = deref(n.Sets[0].Name)
	}
	b.names[id] = ns
	return ns, nil
}

// of returns the record sets of name in the batch's zone.
func (b *batch) of(name string) (*nameSets, error) { return b.load(nameID(b.zone.ID, name), name) }

func (b *batch) touch(ns *nameSets) {
	if !ns.changed {
		ns.changed = true
		b.changed = append(b.changed, nameID(b.zone.ID, ns.name))
	}
}

// put replaces the set at idx of ns (-1: adds it).
func (b *batch) put(ns *nameSets, idx int, r rrset) {
	b.touch(ns)
	if idx >= 0 {
		ns.sets[idx] = r
	} else {
		ns.sets = append(ns.sets, r)
		b.zone.Count++
	}
	if at := r.AliasTarget; at != nil && deref(at.HostedZoneId) == b.zone.ID {
		target := deref(at.DNSName)
		b.aliasesTo[target] = append(b.aliasesTo[target], nameID(b.zone.ID, ns.name))
	}
}

func (b *batch) remove(ns *nameSets, idx int) {
	b.touch(ns)
	ns.sets = slices.Delete(ns.sets, idx, idx+1)
	b.zone.Count--
}

// aliasOf returns a set of the zone that is an alias to r's name, other
// than r itself, or nil.
func (b *batch) aliasOf(r *rrset) (*rrset, error) {
	name := deref(r.Name)
	ids, err := rrsets.Lookup(b.tx, b.sc, "alias", aliasRef(b.zone.ID, name))
	if err != nil {
		return nil, err
	}
	own := b.zone.ID + "/"
	ids = slices.DeleteFunc(ids, func(id string) bool { return !strings.HasPrefix(id, own) })
	for _, id := range append(ids, b.aliasesTo[name]...) {
		ns, err := b.load(id, "")
		if err != nil {
			return nil, err
		}
		for i := range ns.sets {
			o := &ns.sets[i]
			if at := o.AliasTarget; at != nil && deref(at.HostedZoneId) == b.zone.ID && deref(at.DNSName) == name && idOf(o) != idOf(r) {
				return o, nil
			}
		}
	}
	return nil, nil
}

// flush writes the changed names back and returns their record sets as
// the DNS snapshot holds them (nil for a name left without any).
func (b *batch) flush() (map[string][]*dnszone.RecordSet, error) {
	out := make(map[string][]*dnszone.RecordSet, len(b.changed))
	for _, id := range b.changed {
		ns := b.names[id]
		if len(ns.sets) == 0 {
			if err := rrsets.Delete(b.tx, b.sc, id); err != nil {
				return nil, err
			}
			out[ns.name] = nil
			continue
		}
		sortSets(ns.sets)
		if err := rrsets.Put(b.tx, b.sc, id, nameRecord{Sets: ns.sets}); err != nil {
			return nil, err
		}
		out[ns.name] = toRecordSets(ns.sets)
	}
	return out, nil
}

// putNames writes record sets as name records (a new zone's, a migrated
// zone's), returning how many sets there are.
func putNames(tx state.Tx, sc state.Scope, zoneID string, sets []rrset) (int, error) {
	byName := map[string][]rrset{}
	for _, r := range sets {
		byName[deref(r.Name)] = append(byName[deref(r.Name)], r)
	}
	for name, ss := range byName {
		sortSets(ss)
		if err := rrsets.Put(tx, sc, nameID(zoneID, name), nameRecord{Sets: ss}); err != nil {
			return 0, err
		}
	}
	return len(sets), nil
}

// forEachName calls fn with each name record of a zone in listing order,
// from the first name not before from ("" from the start); fn may return
// state.ErrStop.
func forEachName(tx state.Tx, sc state.Scope, zoneID, from string, fn func(id string, n *nameRecord) error) error {
	prefix := zonePrefix(sc, zoneID)
	start := ""
	if from != "" {
		start = prefix + reversedName(from)
	}
	return tx.Scan(prefix, func(key string, _ []byte) error {
		if key < start {
			return nil
		}
		id := strings.TrimPrefix(key, rrsets.Prefix(sc))
		n, ok, err := rrsets.Get(tx, sc, id)
		if err != nil || !ok {
			return err
		}
		return fn(id, &n)
	})
}
