package metrics

import (
	"cmp"
	"math"
	"slices"
)

const (
	// exactCap is how many distinct values a bucket keeps before its
	// percentiles come from a sketch.
	exactCap = 64
	// coarseExactCap is exactCap for the buckets of the coarse tiers.
	coarseExactCap = 8
	// mergeExactCap is how many values a period may merge exactly.
	mergeExactCap = 4096
	// sketchGamma bounds the sketch's relative error to
	// (γ-1)/(γ+1) = 1%.
	sketchGamma = 1.01 / 0.99
	// sketchMinMagnitude: smaller magnitudes count as zero.
	sketchMinMagnitude = 1e-9
	// sketchMaxIndex bounds the bins; larger magnitudes share the last.
	sketchMaxIndex = 2800
)

var logGamma = math.Log(sketchGamma)

// Agg is a bucket's or a period's aggregate: the statistics AWS computes,
// and what its percentiles are read from.
type Agg struct {
	Count, Sum, Min, Max float64
	// Dist holds the values; nil while every value equals Min (one value,
	// or a statistic set with Minimum = Maximum).
	Dist *Dist
	// NoPct is set once a statistic set whose Minimum and Maximum differ
	// was added: its values are unknown, so there are no percentiles.
	NoPct bool
}

// Dist is a bucket's values: exact while there are few, then a sketch.
type Dist struct {
	Exact  []WV
	Sketch *Sketch
}

// WV is a value and how many samples had it.
type WV struct{ V, W float64 }

// Sketch is a logarithmic histogram (DDSketch-like): Pos and Neg count
// the samples whose magnitude is in (γ^(i-1), γ^i] for each bin i.
type Sketch struct {
	Pos, Neg Bins
	Zero     float64
}

// Bins are a sketch's bins with samples, as sorted columns (a map costs
// several times more per bin, and buckets are kept by the thousand).
type Bins struct {
	Idx []int32
	W   []float64
}

func (b *Bins) add(i int32, w float64) {
	j, found := slices.BinarySearch(b.Idx, i)
	if found {
		b.W[j] += w
		return
	}
	b.Idx = slices.Insert(b.Idx, j, i)
	b.W = slices.Insert(b.W, j, w)
}

func (b *Bins) merge(o *Bins) {
	for k, i := range o.Idx {
		b.add(i, o.W[k])
	}
}

// Average is Sum / Count.
func (a *Agg) Average() float64 {
	if a.Count == 0 {
		return 0
	}
	return a.Sum / a.Count
}

// AddValue adds n samples of value v.
func (a *Agg) AddValue(v, n float64) {
	a.addStats(n, v*n, v, v)
	a.addDist(v, n)
}

// AddSet adds a statistic set.
func (a *Agg) AddSet(count, sum, min, max float64) {
	a.addStats(count, sum, min, max)
	if min == max {
		a.addDist(min, count)
		return
	}
	a.NoPct, a.Dist = true, nil
}

func (a *Agg) addStats(count, sum, min, max float64) {
	if a.Count == 0 {
		a.Min, a.Max = min, max
	} else {
		a.Min, a.Max = math.Min(a.Min, min), math.Max(a.Max, max)
	}
	a.Count += count
	a.Sum += sum
}

// addDist records n samples of v for percentiles; addStats has already
// counted them (so Count includes them).
func (a *Agg) addDist(v, n float64) {
	if a.NoPct {
		return
	}
	if a.Dist == nil {
		prev := a.Count - n
		if prev == 0 || (a.Min == a.Max && v == a.Min) {
			return // still a single distinct value
		}
		// The earlier samples all had one value: what Min was before v.
		old := a.Max
		if v == a.Max {
			old = a.Min
		}
		a.Dist = &Dist{Exact: []WV{{old, prev}}}
	}
	a.Dist.add(v, n)
}

func (d *Dist) add(v, n float64) {
	if d.Sketch != nil {
		d.Sketch.add(v, n)
		return
	}
	for i := range d.Exact {
		if d.Exact[i].V == v {
			d.Exact[i].W += n
			return
		}
	}
	if len(d.Exact) < exactCap {
		d.Exact = append(d.Exact, WV{v, n})
		return
	}
	d.toSketch()
	d.Sketch.add(v, n)
}

// toSketch moves the exact values into a sketch.
func (d *Dist) toSketch() {
	d.Sketch = &Sketch{}
	for _, e := range d.Exact {
		d.Sketch.add(e.V, e.W)
	}
	d.Exact = nil
}

func sketchIndex(m float64) int32 {
	i := math.Ceil(math.Log(m) / logGamma)
	return int32(math.Max(-sketchMaxIndex, math.Min(sketchMaxIndex, i)))
}

func (s *Sketch) add(v, n float64) {
	switch m := math.Abs(v); {
	case m < sketchMinMagnitude:
		s.Zero += n
	case v > 0:
		s.Pos.add(sketchIndex(m), n)
	default:
		s.Neg.add(sketchIndex(m), n)
	}
}

func (s *Sketch) merge(o *Sketch) {
	s.Pos.merge(&o.Pos)
	s.Neg.merge(&o.Neg)
	s.Zero += o.Zero
}

// binValue is the value a bin stands for: the point of (γ^(i-1), γ^i]
// whose relative distance to both ends is the same.
func binValue(i int32) float64 { return 2 * math.Pow(sketchGamma, float64(i)) / (sketchGamma + 1) }

// Merge adds o's samples to a.
func (a *Agg) Merge(o *Agg) {
	if o.Count == 0 {
		return
	}
	wasEmpty := a.Count == 0
	aMin, aMax := a.Min, a.Max
	a.addStats(o.Count, o.Sum, o.Min, o.Max)
	switch {
	case a.NoPct || o.NoPct:
		a.NoPct, a.Dist = true, nil
	case wasEmpty:
		a.Dist = o.Dist.clone()
	case a.Dist == nil && o.Dist == nil && aMin == aMax && o.Min == o.Max && aMin == o.Min:
		// Still one distinct value.
	default:
		if a.Dist == nil {
			a.Dist = &Dist{Exact: []WV{{aMin, a.Count - o.Count}}}
		}
		a.Dist.merge(o)
	}
}

// merge adds o's values (o.Dist, or o.Count samples of o.Min).
func (d *Dist) merge(o *Agg) {
	if o.Dist == nil {
		d.addMerged(o.Min, o.Count)
		return
	}
	if o.Dist.Sketch != nil {
		if d.Sketch == nil {
			d.toSketch()
		}
		d.Sketch.merge(o.Dist.Sketch)
		return
	}
	for _, e := range o.Dist.Exact {
		d.addMerged(e.V, e.W)
	}
}

// addMerged is add with the larger cap of a period's merge.
func (d *Dist) addMerged(v, n float64) {
	if d.Sketch == nil && len(d.Exact) >= exactCap && len(d.Exact) < mergeExactCap {
		for i := range d.Exact {
			if d.Exact[i].V == v {
				d.Exact[i].W += n
				return
			}
		}
		d.Exact = append(d.Exact, WV{v, n})
		return
	}
	d.add(v, n)
}

func (d *Dist) clone() *Dist {
	if d == nil {
		return nil
	}
	c := &Dist{Exact: slices.Clone(d.Exact)}
	if d.Sketch != nil {
		c.Sketch = &Sketch{}
		c.Sketch.merge(d.Sketch)
	}
	return c
}

// Percentile is the p-th percentile (0 ≤ p ≤ 100) by nearest rank; ok is
// false when the aggregate has no values or no percentiles.
func (a *Agg) Percentile(p float64) (float64, bool) {
	if a.Count <= 0 || a.NoPct {
		return 0, false
	}
	if a.Dist == nil {
		return a.Min, true
	}
	rank := p / 100 * a.Count
	var v float64
	if a.Dist.Sketch == nil {
		vals := slices.Clone(a.Dist.Exact)
		slices.SortFunc(vals, func(x, y WV) int { return cmp.Compare(x.V, y.V) })
		v = vals[len(vals)-1].V
		var cum float64
		for _, e := range vals {
			cum += e.W
			if cum >= rank && cum > 0 {
				v = e.V
				break
			}
		}
	} else {
		v = a.Dist.Sketch.quantile(rank)
	}
	return math.Max(a.Min, math.Min(a.Max, v)), true
}

func (s *Sketch) quantile(rank float64) float64 {
	var cum float64
	// Most negative first: the largest magnitude of Neg.
	for k := len(s.Neg.Idx) - 1; k >= 0; k-- {
		cum += s.Neg.W[k]
		if cum >= rank && cum > 0 {
			return -binValue(s.Neg.Idx[k])
		}
	}
	cum += s.Zero
	if cum >= rank && cum > 0 {
		return 0
	}
	for k, i := range s.Pos.Idx {
		cum += s.Pos.W[k]
		if cum >= rank {
			return binValue(i)
		}
	}
	if n := len(s.Pos.Idx); n > 0 {
		return binValue(s.Pos.Idx[n-1])
	}
	return 0
}

// fold adds o's samples to a coarse bucket, which keeps at most
// coarseExactCap exact values (Merge's larger cap is for a query's
// periods, which are not kept): a minute of one-second data would
// otherwise keep sixty values, for fifteen days.
func (a *Agg) fold(o *Agg) {
	switch {
	case o.Count == 0:
	case o.Dist == nil:
		a.AddSet(o.Count, o.Sum, o.Min, o.Max)
	case o.Dist.Sketch == nil:
		for _, e := range o.Dist.Exact {
			a.AddValue(e.V, e.W)
		}
	default:
		a.Merge(o)
	}
	if d := a.Dist; d != nil && d.Sketch == nil && len(d.Exact) > coarseExactCap {
		d.toSketch()
	}
}
