package metrics

import (
	"slices"
	"sort"
	"strings"
	"time"
)

// Scope is an account in a region.
type Scope struct{ Account, Region string }

// Dim is one dimension of a metric.
type Dim struct{ Name, Value string }

// Metric names a metric: its dimensions sorted by name (SortDims).
type Metric struct {
	Namespace, Name string
	Dims            []Dim
}

// SortDims sorts dims by name then value, the order a metric's identity
// uses: AWS treats dimensions as a set.
func SortDims(dims []Dim) {
	slices.SortFunc(dims, func(a, b Dim) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
}

// Key is the metric's identity as a string (also its listing order).
func (m Metric) Key() string {
	var b strings.Builder
	b.WriteString(m.Namespace)
	b.WriteByte(0)
	b.WriteString(m.Name)
	for _, d := range m.Dims {
		b.WriteByte(0)
		b.WriteString(d.Name)
		b.WriteByte(1)
		b.WriteString(d.Value)
	}
	return b.String()
}

// tier is one resolution of the store.
type tier struct {
	res       int64 // bucket width, seconds
	retention time.Duration
	// slots is how many buckets a block of the tier holds: a block is
	// dropped whole once all of it has expired, and its expired head
	// slots are cleared as they expire.
	slots int64
}

// The tiers, finest first. The raw tier's buckets are one second wide for
// high-resolution data and one minute for standard data (see
// unitSeries).
var tiers = [...]tier{
	{1, 3 * time.Hour, blockSpan},
	{60, 15 * 24 * time.Hour, 24 * 60},      // a day a block
	{300, 63 * 24 * time.Hour, 7 * 24 * 12}, // a week
	{3600, 455 * 24 * time.Hour, 14 * 24},   // two weeks
}

// span is the seconds a block of the tier covers.
func (tr tier) span() int64 { return tr.res * tr.slots }

// rollDelay is how long data stay in the raw tier alone before they are
// folded into the coarser tiers: late puts within it cost nothing extra.
const rollDelay = time.Hour

// unitSeries is one unit's data of a metric. Every tier is kept in
// columnar blocks (rawBlock): Tiers[0] is the raw tier, Tiers[i] the
// coarser tiers[i], which hold only the data before Rolled: data from
// Rolled on are in the raw tier alone, and a query of a coarse tier reads
// them from there. Every hour the raw hours older than rollDelay are
// folded into the coarse tiers and Rolled moves on, so the coarse buckets
// of high-resolution data (which keep their values for percentiles) exist
// only for data the raw tier is about to drop.
type unitSeries struct {
	Tiers [len(tiers)][]rawBlock // each sorted by Start
	// Rolled is an hour boundary (Unix seconds): the raw tier holds
	// every datapoint from Rolled on; the coarse tiers hold every
	// datapoint before it.
	Rolled int64
}

// series is a metric's data, per unit ("None" when put without one).
type series struct {
	Metric Metric
	Units  map[string]*unitSeries
	// LastPut is when data last arrived (Unix seconds), for ListMetrics'
	// two weeks and RecentlyActive.
	LastPut int64
	// Seq is the sequence number of the last put applied to the series:
	// a snapshot's series has every put up to it, which the replay of
	// the log then skips.
	Seq uint64
}

// slot returns tier i's block holding time t, inserting it in order, and
// t's slot in it.
func (u *unitSeries) slot(i int, t int64) (*rawBlock, int) {
	tr := tiers[i]
	start := floorDiv(t, tr.span()) * tr.span()
	slot := int((t - start) / tr.res)
	bs := u.Tiers[i]
	n := len(bs)
	if n > 0 && bs[n-1].Start == start {
		return &bs[n-1], slot
	}
	j := sort.Search(n, func(k int) bool { return bs[k].Start >= start })
	if j == n || bs[j].Start != start {
		u.Tiers[i] = slices.Insert(bs, j, rawBlock{Start: start})
	}
	return &u.Tiers[i][j], slot
}

// roll folds the raw hours older than rollDelay into the coarse tiers.
// It must run before expire, so that the raw tier always holds
// [Rolled, now].
func (u *unitSeries) roll(now time.Time) {
	target := floorDiv(now.Add(-rollDelay).Unix(), blockSpan) * blockSpan
	if target <= u.Rolled {
		return
	}
	for bi := range u.Tiers[0] {
		b := &u.Tiers[0][bi]
		if b.Start < u.Rolled || b.Start >= target {
			continue
		}
		b.each(b.Start, b.Start+blockSpan, 1, func(t int64, a *Agg) {
			for i := 1; i < len(tiers); i++ {
				if t >= now.Add(-tiers[i].retention).Unix() {
					blk, slot := u.slot(i, t)
					blk.fold(slot, a)
				}
			}
		})
	}
	u.Rolled = target
}

// expire drops the data older than each tier's retention; it reports
// whether nothing is left. It runs once per unit series per put and in
// the periodic loop, so it must cost nothing when nothing expires and
// little when something does: whole blocks and the expired head of the
// oldest block are dropped by reslicing (dropHead, dropBefore), never by
// copying a tier.
func (u *unitSeries) expire(now time.Time) bool {
	u.roll(now)
	empty := true
	for i, tr := range tiers {
		cut := now.Add(-tr.retention).Unix()
		bs := u.Tiers[i]
		if i == 0 {
			// The raw tier goes by whole hours (a query past 3 h
			// reads the minute tier).
			if len(bs) > 0 && bs[0].Start+blockSpan <= cut {
				j := sort.Search(len(bs), func(k int) bool { return bs[k].Start+blockSpan > cut })
				u.Tiers[0] = dropHead(bs, j)
			}
		} else if len(bs) > 0 && bs[0].Start+tr.res <= cut {
			j := sort.Search(len(bs), func(k int) bool { return bs[k].Start+tr.span() > cut })
			if j < len(bs) && bs[j].dropBefore(int(ceilDiv(cut-bs[j].Start-tr.res+1, tr.res))) {
				j++
			}
			u.Tiers[i] = dropHead(bs, j)
		}
		if len(u.Tiers[i]) > 0 {
			empty = false
		}
	}
	return empty
}

// dropHead drops s's first n elements by reslicing, so that expiring the
// oldest bucket of a tier costs nothing rather than a copy of the tier.
// The dead prefix is not kept for long: the tier grows at its tail, and
// when append outgrows the backing array it copies only the live elements
// to the new one (about a quarter more than their number), so the dead
// prefix stays under a quarter of the live data and each element is
// copied a bounded number of times. The dropped elements are cleared so
// that their values and maps go to the collector now.
func dropHead[T any](s []T, n int) []T {
	clear(s[:n])
	return s[n:]
}

// add adds one sample: to the raw tier while it is within its retention,
// and to the coarse tiers when it is older than Rolled (a late put the
// roll has passed) or too old for the raw tier.
func (u *unitSeries) add(s *Sample, now time.Time) {
	u.roll(now)
	t := s.Time.Unix()
	if !s.Time.Before(now.Add(-tiers[0].retention)) {
		res := int64(1)
		if !s.HighRes {
			res = 60 // standard data show at the minute, as AWS's
		}
		blk, slot := u.slot(0, floorDiv(t, res)*res)
		blk.add(slot, s)
	}
	if t >= u.Rolled {
		return
	}
	for i := 1; i < len(tiers); i++ {
		if !s.Time.Before(now.Add(-tiers[i].retention)) {
			blk, slot := u.slot(i, t)
			blk.add(slot, s)
		}
	}
}

// each calls fn with tier i's buckets in [from, to), in time order: for a
// coarse tier, its buckets before Rolled and then the raw tier's seconds
// (whose periods are multiples of the tier's buckets, so a query
// aggregates them alike). fn must not keep a.
func (u *unitSeries) each(i int, from, to int64, fn func(t int64, a *Agg)) {
	rawFrom := from
	if i > 0 {
		tr := tiers[i]
		bs := u.Tiers[i]
		end := min(to, u.Rolled)
		j := sort.Search(len(bs), func(k int) bool { return bs[k].Start+tr.span() > from })
		for ; j < len(bs) && bs[j].Start < end; j++ {
			bs[j].each(from, end, tr.res, fn)
		}
		rawFrom = max(from, u.Rolled)
	}
	raw := u.Tiers[0]
	j := sort.Search(len(raw), func(k int) bool { return raw[k].Start+blockSpan > rawFrom })
	for ; j < len(raw) && raw[j].Start < to; j++ {
		raw[j].each(rawFrom, to, 1, fn)
	}
}

// addTo adds the sample to a.
func (s *Sample) addTo(a *Agg) {
	if s.Set != nil {
		a.AddSet(s.Set.Count, s.Set.Sum, s.Set.Min, s.Set.Max)
		return
	}
	for k, v := range s.Values {
		n := 1.0
		if k < len(s.Counts) {
			n = s.Counts[k]
		}
		if n > 0 { // a count of 0 puts nothing
			a.AddValue(v, n)
		}
	}
}

// empty reports whether the sample puts nothing: a statistic set of no
// samples, no values, or values whose counts are all 0.
func (s *Sample) empty() bool {
	if s.Set != nil {
		return s.Set.Count <= 0
	}
	for k := range s.Values {
		if k >= len(s.Counts) || s.Counts[k] > 0 {
			return false
		}
	}
	return true
}

// single reports whether the sample is one value counted once, and it.
func (s *Sample) single() (float64, bool) {
	if s.Set != nil || len(s.Values) != 1 || (len(s.Counts) > 0 && s.Counts[0] != 1) {
		return 0, false
	}
	return s.Values[0], true
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
