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
}

// The tiers, finest first. The raw tier's buckets are one second wide for
// high-resolution data and one minute for standard data.
var tiers = [...]tier{
	{1, 3 * time.Hour},
	{60, 15 * 24 * time.Hour},
	{300, 63 * 24 * time.Hour},
	{3600, 455 * 24 * time.Hour},
}

// bucket is one tier's aggregate of the datapoints whose time falls in
// [T, T+res).
type bucket struct {
	T int64
	A Agg
}

// unitSeries is one unit's data of a metric: a slice of buckets, sorted by
// time, per tier.
type unitSeries struct {
	Tiers [len(tiers)][]bucket
}

// series is a metric's data, per unit ("None" when put without one).
type series struct {
	Metric Metric
	Units  map[string]*unitSeries
	// LastPut is when data last arrived (Unix seconds), for ListMetrics'
	// two weeks and RecentlyActive.
	LastPut int64
}

// bucketAt returns tier i's bucket at t, inserting it in order.
func (u *unitSeries) bucketAt(i int, t int64) *Agg {
	bs := u.Tiers[i]
	n := len(bs)
	if n > 0 && bs[n-1].T == t {
		return &bs[n-1].A
	}
	if n == 0 || bs[n-1].T < t {
		u.Tiers[i] = append(bs, bucket{T: t})
		return &u.Tiers[i][n].A
	}
	j := sort.Search(n, func(k int) bool { return bs[k].T >= t })
	if j < n && bs[j].T == t {
		return &bs[j].A
	}
	u.Tiers[i] = slices.Insert(bs, j, bucket{T: t})
	return &u.Tiers[i][j].A
}

// expire drops the buckets older than each tier's retention; it reports
// whether nothing is left.
func (u *unitSeries) expire(now time.Time) bool {
	empty := true
	for i, tr := range tiers {
		cut := now.Add(-tr.retention).Unix()
		bs := u.Tiers[i]
		j := sort.Search(len(bs), func(k int) bool { return bs[k].T+tr.res > cut })
		if j > 0 {
			u.Tiers[i] = slices.Clone(bs[j:])
		}
		if len(u.Tiers[i]) > 0 {
			empty = false
		}
	}
	return empty
}

// add adds one sample to every tier.
func (u *unitSeries) add(s *Sample, now time.Time) {
	t := s.Time.Unix()
	for i, tr := range tiers {
		res := tr.res
		if i == 0 && !s.HighRes {
			res = 60
		}
		if s.Time.Before(now.Add(-tr.retention)) {
			continue
		}
		a := u.bucketAt(i, floorDiv(t, res)*res)
		if s.Set != nil {
			a.AddSet(s.Set.Count, s.Set.Sum, s.Set.Min, s.Set.Max)
			continue
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
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
