package metrics

import (
	"testing"
	"time"
)

// TestExpireReslices checks that expiring the oldest buckets of a tier
// drops them in place rather than copying the tier (which, run on every
// put, was most of a month-long simulation's CPU), and that the tier is
// still right afterwards.
func TestExpireReslices(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	u := &unitSeries{}
	const n = 1000
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Minute)
		u.add(&Sample{Time: at, Values: []float64{float64(i)}}, at.Add(2*time.Hour))
	}
	now := t0.Add(n*time.Minute + 2*time.Hour)
	u.expire(now)
	minutes := func() (ts []int64) {
		u.each(1, 0, u.Rolled, func(t int64, _ *Agg) { ts = append(ts, t) })
		return ts
	}
	before := minutes()
	if len(before) < 2 {
		t.Fatal("nothing rolled into the minute tier")
	}
	vals := u.Tiers[1][0].Vals
	// When the oldest bucket's minute is 15 days old, it alone goes.
	u.expire(time.Unix(before[0]+tiers[1].res, 0).Add(tiers[1].retention))
	if after := minutes(); len(after) != len(before)-1 || after[0] != before[1] {
		t.Fatalf("after expiry %d buckets from %d, want %d from %d", len(after), after[0], len(before)-1, before[1])
	}
	if got := u.Tiers[1][0].Vals; &got[0] != &vals[1] {
		t.Fatal("expire copied the tier's values")
	}
	if testing.AllocsPerRun(100, func() { u.expire(now.Add(15 * 24 * time.Hour)) }) > 0 {
		t.Error("expire allocates when nothing (more) expires")
	}
}

// TestTierRetention checks that each coarse tier keeps a bucket exactly
// for its retention, whatever the bucket's place in its block: the
// buckets one before and one after the cut, at a block's start, middle
// and end.
func TestTierRetention(t *testing.T) {
	for i := 1; i < len(tiers); i++ {
		tr := tiers[i]
		for _, slot := range []int64{0, 1, tr.slots / 2, tr.slots - 2} {
			t0 := time.Unix(tr.span()*1000+slot*tr.res, 0).UTC()
			u := &unitSeries{}
			for k := range int64(2) {
				at := t0.Add(time.Duration(k*tr.res) * time.Second)
				// Late enough for the raw tier to be past: the sample
				// goes to the coarse tiers directly.
				u.add(&Sample{Time: at, Values: []float64{float64(k)}}, at.Add(4*time.Hour))
			}
			// The first bucket's end is retention old; the second's is not.
			u.expire(t0.Add(time.Duration(tr.res)*time.Second + tr.retention))
			var got []int64
			u.each(i, 0, 1<<62, func(t int64, _ *Agg) { got = append(got, t) })
			if want := t0.Unix() + tr.res; len(got) != 1 || got[0] != want {
				t.Errorf("tier %d slot %d: buckets %v, want [%d]", i, slot, got, want)
			}
		}
	}
}
