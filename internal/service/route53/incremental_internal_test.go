package route53

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/route53api"
	"github.com/minicloud/minicloud/internal/dnszone"
	"github.com/minicloud/minicloud/internal/state"
)

func testCtx(account string) context.Context {
	return api.WithRequest(context.Background(), &api.RequestInfo{Account: account, Region: "us-east-1"})
}

func createZone(t *testing.T, ctx context.Context, s *Service, name string, private bool) string {
	t.Helper()
	in := &route53api.CreateHostedZoneRequest{Name: new(name), CallerReference: new("ref-" + name + fmt.Sprint(private))}
	if private {
		in.VPC = &route53api.VPC{VPCId: new("vpc-0123456789abcdef0"), VPCRegion: new("us-east-1")}
	}
	out, err := s.CreateHostedZone(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(deref(out.HostedZone.Id), "/hostedzone/")
}

func set(name, typ string, values ...string) *route53api.ResourceRecordSet {
	r := &route53api.ResourceRecordSet{Name: new(name), Type: new(typ), TTL: new(int64(60))}
	for _, v := range values {
		r.ResourceRecords = append(r.ResourceRecords, route53api.ResourceRecord{Value: new(v)})
	}
	return r
}

func changeSets(ctx context.Context, s *Service, zoneID string, changes ...route53api.Change) error {
	_, err := s.ChangeResourceRecordSets(ctx, &route53api.ChangeResourceRecordSetsRequest{HostedZoneId: new(zoneID), ChangeBatch: &route53api.ChangeBatch{Changes: changes}})
	return err
}

func change(action string, r *route53api.ResourceRecordSet) route53api.Change {
	return route53api.Change{Action: new(action), ResourceRecordSet: r}
}

// values renders a snapshot's zones, to compare two snapshots by content.
func values(snap *dnszone.Snapshot) []dnszone.Zone {
	var out []dnszone.Zone
	for _, z := range snap.Zones {
		c := *z
		c.Records = nil
		for _, r := range z.Records {
			rc := *r
			c.Records = append(c.Records, &rc)
		}
		out = append(out, c)
	}
	return out
}

// TestIncrementalSnapshotMatchesRebuild applies random batches (creates,
// upserts, deletes; several types and weighted sets per name; failing
// batches too) to two zones of two accounts and checks after each batch
// that the snapshot made incrementally equals one read back from the
// store, that it is sorted, and that it shares with the snapshot before
// every set and zone the batch did not change.
func TestIncrementalSnapshotMatchesRebuild(t *testing.T) {
	store := state.NewMemory()
	s := New(store)
	ctxA, ctxB := testCtx("111111111111"), testCtx("222222222222")
	za := createZone(t, ctxA, s, "a.example", false)
	zb := createZone(t, ctxB, s, "b.example", false)
	zp := createZone(t, ctxA, s, "a.example", true)
	rng := rand.New(rand.NewPCG(7, 11))
	type key struct{ name, typ, id string }
	live := map[string]map[key]*route53api.ResourceRecordSet{za: {}, zb: {}, zp: {}}
	apex := map[string]string{za: "a.example.", zb: "b.example.", zp: "a.example."}
	ctxOf := map[string]context.Context{za: ctxA, zb: ctxB, zp: ctxA}
	for round := range 60 {
		zone := []string{za, zb, zp}[rng.IntN(3)]
		var changes []route53api.Change
		used := map[key]bool{}
		for range 1 + rng.IntN(20) {
			name := fmt.Sprintf("%s.%s", []string{"www", "x", "*", "a.b", "mail", "n-1", "n_2", "deep.x"}[rng.IntN(8)], apex[zone])
			typ := []string{"A", "TXT", "MX"}[rng.IntN(3)]
			id := ""
			r := set(name, typ)
			switch typ {
			case "A":
				id = fmt.Sprint(rng.IntN(3))
				r.SetIdentifier, r.Weight = new(id), new(int64(rng.IntN(5)))
				r.ResourceRecords = []route53api.ResourceRecord{{Value: new(fmt.Sprintf("10.0.0.%d", rng.IntN(250)))}}
			case "TXT":
				r.ResourceRecords = []route53api.ResourceRecord{{Value: new(fmt.Sprintf(`"%d"`, rng.IntN(1000)))}}
			case "MX":
				r.ResourceRecords = []route53api.ResourceRecord{{Value: new(fmt.Sprintf("%d mx.example.", rng.IntN(50)))}}
			}
			k := key{name, typ, id}
			if used[k] {
				continue
			}
			used[k] = true
			if old, ok := live[zone][k]; ok && rng.IntN(2) == 0 {
				changes = append(changes, change("DELETE", old))
			} else {
				changes = append(changes, change("UPSERT", r))
			}
		}
		if round%10 == 9 {
			// A batch that fails leaves everything as it was.
			changes = append(changes, change("CREATE", set("bad."+apex[zone], "A", "not-an-ip")))
		}
		before := s.Source().Snapshot()
		err := changeSets(ctxOf[zone], s, zone, changes...)
		if (err != nil) != (round%10 == 9) {
			t.Fatalf("round %d: %v", round, err)
		}
		if err == nil {
			for _, c := range changes {
				k := key{normalizeName(deref(c.ResourceRecordSet.Name)), deref(c.ResourceRecordSet.Type), deref(c.ResourceRecordSet.SetIdentifier)}
				if deref(c.Action) == "DELETE" {
					delete(live[zone], k)
				} else {
					live[zone][k] = c.ResourceRecordSet
				}
			}
		}
		after := s.Source().Snapshot()
		if want := New(store).Source().Snapshot(); !reflect.DeepEqual(values(after), values(want)) {
			t.Fatalf("round %d: incremental snapshot\n%+v\nread back\n%+v", round, values(after), values(want))
		}
		for _, z := range after.Zones {
			if !slices.IsSortedFunc(z.Records, dnszone.CompareRecordSets) {
				t.Fatalf("round %d: zone %s not sorted", round, z.ID)
			}
			old := slices.IndexFunc(before.Zones, func(o *dnszone.Zone) bool { return o.ID == z.ID })
			if z.ID != zone || err != nil {
				if before.Zones[old] != z {
					t.Fatalf("round %d: zone %s not shared", round, z.ID)
				}
				continue
			}
			changed := map[string]bool{}
			for _, c := range changes {
				changed[normalizeName(deref(c.ResourceRecordSet.Name))] = true
			}
			for _, name := range dnszone.ChangedNames(before.Zones[old], z) {
				if !changed[name] {
					t.Fatalf("round %d: %s has new record sets but was not changed", round, name)
				}
			}
		}
	}
	if len(live[za])+len(live[zb])+len(live[zp]) == 0 {
		t.Fatal("no record set left: the test changed nothing")
	}
}

// TestAliasTargetInUse: a name an alias of the zone points at may not lose
// its last set, whether the alias was committed before or made earlier in
// the same batch; deleting the alias first frees it.
func TestAliasTargetInUse(t *testing.T) {
	ctx := testCtx("111111111111")
	s := New(state.NewMemory())
	z := createZone(t, ctx, s, "example.com", false)
	alias := func(name, target string) *route53api.ResourceRecordSet {
		return &route53api.ResourceRecordSet{Name: new(name), Type: new("A"), AliasTarget: &route53api.AliasTarget{HostedZoneId: new(z), DNSName: new(target), EvaluateTargetHealth: new(false)}}
	}
	target := set("t.example.com.", "A", "10.0.0.1")
	other := set("u.example.com.", "A", "10.0.0.2")
	if err := changeSets(ctx, s, z, change("CREATE", target), change("CREATE", other), change("CREATE", alias("a.example.com.", "t.example.com."))); err != nil {
		t.Fatal(err)
	}
	const inUse = "Tried to delete resource record set [name='t.example.com.', type='A'] but it is the target of an alias resource record set [name='a.example.com.', type='A']"
	for _, tc := range []struct {
		desc    string
		changes []route53api.Change
		want    string // "" success
	}{
		{"committed alias", []route53api.Change{change("DELETE", target)}, inUse},
		{"alias made in the batch", []route53api.Change{change("CREATE", alias("b.example.com.", "u.example.com.")), change("DELETE", other)},
			"Tried to delete resource record set [name='u.example.com.', type='A'] but it is the target of an alias resource record set [name='b.example.com.', type='A']"},
		{"another set left at the name", []route53api.Change{change("CREATE", set("t.example.com.", "TXT", `"x"`)), change("DELETE", target)}, ""},
		{"alias deleted first", []route53api.Change{change("DELETE", alias("a.example.com.", "t.example.com.")), change("DELETE", set("t.example.com.", "TXT", `"x"`))}, ""},
	} {
		err := changeSets(ctx, s, z, tc.changes...)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.desc, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", tc.desc, err, tc.want)
		}
	}
}

// TestLegacyZoneMigrated: a zone written with its record sets inside its
// own record (before name records) is served, listed, counted and then
// stored as name records once the service starts.
func TestLegacyZoneMigrated(t *testing.T) {
	store := state.NewMemory()
	sc := state.Global("111111111111")
	legacy := zoneRecord{ID: "ZLEGACY0000000000000", Name: "old.example.", CallerReference: "r", Records: []rrset{
		*set("old.example.", "NS", "ns-1.awsdns-01.com."), *set("old.example.", "SOA", "ns-1.awsdns-01.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"),
		*set("www.old.example.", "A", "10.0.0.1"), *set("www.old.example.", "TXT", `"t"`), *set("a.old.example.", "A", "10.0.0.2"),
	}}
	if err := store.Update(context.Background(), func(tx state.Tx) error { return zones.Put(tx, sc, legacy.ID, legacy) }); err != nil {
		t.Fatal(err)
	}
	s := New(store)
	snap := s.Source().Snapshot()
	if len(snap.Zones) != 1 || len(snap.Zones[0].Records) != 5 || !slices.IsSortedFunc(snap.Zones[0].Records, dnszone.CompareRecordSets) {
		t.Fatalf("snapshot %+v", values(snap))
	}
	ctx := testCtx("111111111111")
	list, err := s.ListResourceRecordSets(ctx, &route53api.ListResourceRecordSetsRequest{HostedZoneId: new(legacy.ID)})
	if err != nil || len(list.ResourceRecordSets) != 5 {
		t.Fatalf("list: %v %d", err, len(list.ResourceRecordSets))
	}
	hz, err := s.GetHostedZone(ctx, &route53api.GetHostedZoneRequest{Id: new(legacy.ID)})
	if err != nil || deref(hz.HostedZone.ResourceRecordSetCount) != 5 {
		t.Fatalf("count: %v", err)
	}
	_ = store.View(context.Background(), func(tx state.Tx) error {
		z, _, _ := zones.Get(tx, sc, legacy.ID)
		n, ok, _ := rrsets.Get(tx, sc, nameID(legacy.ID, "www.old.example."))
		if len(z.Records) != 0 || z.Count != 5 || !ok || len(n.Sets) != 2 {
			t.Errorf("stored after migration: zone %+v, www %+v", z, n)
		}
		return nil
	})
}

// TestAnswerFollowsSnapshot: whoever has a change's answer finds the
// change in the snapshot, with writers racing on one zone, and the last
// snapshot is what the store holds.
func TestAnswerFollowsSnapshot(t *testing.T) {
	store := state.NewMemory()
	s := New(store)
	ctx := testCtx("111111111111")
	z := createZone(t, ctx, s, "race.example", false)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 25 {
				name := fmt.Sprintf("w%d-%d.race.example.", w, i%5)
				value := fmt.Sprintf("10.%d.%d.1", w, i)
				if err := changeSets(ctx, s, z, change("UPSERT", set(name, "A", value))); err != nil {
					t.Error(err)
					return
				}
				zs := s.Source().Snapshot().Zones
				got := zs[0].Find(name)
				if len(got) != 1 || got[0].Values[0] != value {
					t.Errorf("after the answer for %s = %s the snapshot has %+v", name, value, got)
					return
				}
			}
		})
	}
	wg.Wait()
	if want := New(store).Source().Snapshot(); !reflect.DeepEqual(values(s.Source().Snapshot()), values(want)) {
		t.Fatal("the last snapshot is not what the store holds")
	}
}

// TestSplice: replacing names' record sets by galloping search agrees with
// sorting everything again.
func TestSplice(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	name := func() string { return fmt.Sprintf("h%d.x%d.example.", rng.IntN(40), rng.IntN(3)) }
	for round := range 200 {
		var recs []*dnszone.RecordSet
		seen := map[string]bool{}
		for range rng.IntN(60) {
			n := name()
			if !seen[n] {
				seen[n] = true
				recs = append(recs, &dnszone.RecordSet{Name: n, Type: "A"}, &dnszone.RecordSet{Name: n, Type: "TXT"})
			}
		}
		dnszone.SortRecordSets(recs)
		sets := map[string][]*dnszone.RecordSet{}
		for range rng.IntN(10) {
			n := name()
			if rng.IntN(3) == 0 {
				sets[n] = nil
			} else {
				sets[n] = []*dnszone.RecordSet{{Name: n, Type: "A", TTL: uint32(round)}}
			}
		}
		want := slices.DeleteFunc(slices.Clone(recs), func(r *dnszone.RecordSet) bool { _, ok := sets[r.Name]; return ok })
		for _, ss := range sets {
			want = append(want, ss...)
		}
		dnszone.SortRecordSets(want)
		if got := splice(recs, sets); !slices.Equal(got, want) {
			t.Fatalf("round %d: splice differs from a sort", round)
		}
	}
}
