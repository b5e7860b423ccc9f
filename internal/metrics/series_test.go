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
	bs := u.Coarse[0]
	if len(bs) == 0 {
		t.Fatal("nothing rolled into the minute tier")
	}
	second := &bs[1]
	// When the oldest bucket's minute is 15 days old, it alone goes.
	u.expire(time.Unix(bs[0].T+tiers[1].res, 0).Add(tiers[1].retention))
	if got := u.Coarse[0]; len(got) != len(bs)-1 || &got[0] != second {
		t.Fatalf("expire copied the tier or dropped the wrong buckets: %d buckets (want %d), head moved %v", len(got), len(bs)-1, &got[0] != second)
	}
	if testing.AllocsPerRun(100, func() { u.expire(now.Add(15 * 24 * time.Hour)) }) > 0 {
		t.Error("expire allocates when nothing (more) expires")
	}
}
