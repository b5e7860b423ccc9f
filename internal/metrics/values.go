package metrics

import (
	"cmp"
	"math"
	"slices"
)

// Values answers the aggregate's samples as values with their weights,
// ascending, for the statistics read from the whole distribution (trimmed
// and winsorized means, percentile ranks…): exact values while the bucket
// keeps them, else each sketch bin's value (within the sketch's relative
// error) clamped to [Min, Max]. ok is false when the aggregate has no
// values (empty, or statistic sets with Minimum ≠ Maximum).
func (a *Agg) Values() (vals []WV, ok bool) {
	if a.Count <= 0 || a.NoPct {
		return nil, false
	}
	if a.Dist == nil {
		return []WV{{V: a.Min, W: a.Count}}, true
	}
	if a.Dist.Sketch == nil {
		vals = slices.Clone(a.Dist.Exact)
		slices.SortFunc(vals, func(x, y WV) int { return cmp.Compare(x.V, y.V) })
		return vals, true
	}
	s := a.Dist.Sketch
	clamp := func(v float64) float64 { return math.Max(a.Min, math.Min(a.Max, v)) }
	for k := len(s.Neg.Idx) - 1; k >= 0; k-- {
		vals = append(vals, WV{V: clamp(-binValue(s.Neg.Idx[k])), W: s.Neg.W[k]})
	}
	if s.Zero > 0 {
		vals = append(vals, WV{V: clamp(0), W: s.Zero})
	}
	for k, i := range s.Pos.Idx {
		vals = append(vals, WV{V: clamp(binValue(i)), W: s.Pos.W[k]})
	}
	return vals, true
}
