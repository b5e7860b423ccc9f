package metrics

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

var sc = Scope{Account: "000000000000", Region: "us-east-1"}

func metric(name string) Metric {
	return Metric{Namespace: "T", Name: name, Dims: []Dim{{"A", "1"}}}
}

// clock is a settable time.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func put(t testing.TB, s *Store, m Metric, at time.Time, highRes bool, vals ...float64) {
	t.Helper()
	if err := s.Put(context.Background(), sc, []Sample{{Metric: m, Time: at, HighRes: highRes, Values: vals}}); err != nil {
		t.Fatal(err)
	}
}

// TestPeriodRulesByAge checks which data a query sees by the age of its
// StartTime, as AWS documents: under 3 h any period over one-second data,
// then minutes (15 days), five minutes (63 days) and hours.
func TestPeriodRulesByAge(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		age    time.Duration
		period int64
		want   int // datapoints
	}{
		{"1 s periods within 3 h", time.Hour, 1, 2},
		{"10 s periods within 3 h", time.Hour, 10, 1},
		{"1 s periods past 3 h: none", 4 * time.Hour, 1, 0},
		{"minute periods past 3 h", 4 * time.Hour, 60, 1},
		{"minute periods past 15 days: none", 16 * 24 * time.Hour, 60, 0},
		{"5-minute periods past 15 days", 16 * 24 * time.Hour, 300, 1},
		{"5-minute periods past 63 days: none", 64 * 24 * time.Hour, 300, 0},
		{"hour periods past 63 days", 64 * 24 * time.Hour, 3600, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{now.Add(-tc.age)}
			s, err := Open(Options{Now: c.now})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			at := c.t.Add(-time.Minute).Truncate(time.Hour).Add(30 * time.Minute)
			put(t, s, metric("m"), at, true, 1)
			put(t, s, metric("m"), at.Add(time.Second), true, 2)
			c.t = now // time passes; the data ages
			s.expireAll()
			pts := s.Query(Query{Scope: sc, Metric: metric("m"), Start: at, End: at.Add(time.Hour), Period: tc.period})
			if len(pts) != tc.want {
				t.Fatalf("%d points, want %d: %+v", len(pts), tc.want, pts)
			}
			if tc.want == 1 && (pts[0].Agg.Count != 2 || pts[0].Agg.Sum != 3) {
				t.Errorf("aggregate %+v, want both values", pts[0].Agg)
			}
		})
	}
}

// TestPercentileAccuracy checks exact percentiles for few values and the
// sketch's 1% bound for many, against a sort.
func TestPercentileAccuracy(t *testing.T) {
	for _, n := range []int{1, 10, 64, 65, 1000, 50000} {
		var a Agg
		vals := make([]float64, n)
		r := rand.New(rand.NewPCG(1, uint64(n)))
		for i := range vals {
			vals[i] = math.Exp(r.NormFloat64()*3) * float64(1-2*(i%7/6)) // some negative
			a.AddValue(vals[i], 1)
		}
		slices.Sort(vals)
		for _, p := range []float64{0, 1, 25, 50, 90, 99, 99.9, 100} {
			rank := max(1, int(math.Ceil(p/100*float64(n))))
			want := vals[rank-1]
			got, ok := a.Percentile(p)
			if !ok {
				t.Fatalf("n=%d p%v: no percentile", n, p)
			}
			tol := 0.0
			if n > exactCap {
				tol = math.Abs(want) * 0.01
			}
			if math.Abs(got-want) > tol+1e-12 {
				t.Errorf("n=%d p%v = %v, want %v ± %v", n, p, got, want, tol)
			}
		}
	}
}

// TestDurable checks that puts survive a restart, through the log and
// through a snapshot, and that a torn last record (a put never
// acknowledged) is dropped without losing those before it.
func TestDurable(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().UTC().Truncate(time.Minute)
	open := func() *Store {
		s, err := Open(Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	sum := func(s *Store) float64 {
		pts := s.Query(Query{Scope: sc, Metric: metric("m"), Start: now.Add(-time.Hour), End: now.Add(time.Minute), Period: 3600})
		if len(pts) == 0 {
			return 0
		}
		return pts[0].Agg.Sum
	}
	s := open()
	put(t, s, metric("m"), now, false, 1)
	if err := s.Snapshot(); err != nil {
		t.Fatal(err)
	}
	put(t, s, metric("m"), now, false, 2)
	// No Close: as after kill -9, the log holds the second put.
	s.wal.f.Close()
	s2 := open()
	if got := sum(s2); got != 3 {
		t.Fatalf("after restart: sum %v, want 3", got)
	}
	put(t, s2, metric("m"), now, false, 4)
	s2.wal.f.Close()
	// Tear the last record.
	logs, _ := filepath.Glob(filepath.Join(dir, walPrefix+"*"))
	last := logs[len(logs)-1]
	st, _ := os.Stat(last)
	if err := os.Truncate(last, st.Size()-3); err != nil {
		t.Fatal(err)
	}
	s3 := open()
	if got := sum(s3); got != 3 {
		t.Fatalf("after a torn record: sum %v, want 3", got)
	}
	put(t, s3, metric("m"), now, false, 5)
	if err := s3.Close(); err != nil {
		t.Fatal(err)
	}
	if got := sum(open()); got != 8 {
		t.Fatalf("after a put past the torn record: sum %v, want 8", got)
	}
}

// TestRetention checks that buckets leave each tier after its retention.
func TestRetention(t *testing.T) {
	c := &clock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, _ := Open(Options{Now: c.now})
	defer s.Close()
	put(t, s, metric("m"), c.t, true, 1)
	c.t = c.t.Add(456 * 24 * time.Hour)
	s.expireAll()
	if n := len(s.Metrics(sc)); n != 0 {
		t.Fatalf("%d metrics after 456 days, want 0", n)
	}
}

// BenchmarkWeekQuery is a GetMetricStatistics over a week of one-minute
// data (10,080 datapoints) in hourly periods.
func BenchmarkWeekQuery(b *testing.B) {
	now := time.Now().UTC().Truncate(time.Minute)
	s, _ := Open(Options{})
	defer s.Close()
	var samples []Sample
	for i := range 7 * 24 * 60 {
		samples = append(samples, Sample{Metric: metric("m"), Time: now.Add(-time.Duration(i) * time.Minute), Values: []float64{float64(i % 100)}})
	}
	if err := s.Put(context.Background(), sc, samples); err != nil {
		b.Fatal(err)
	}
	q := Query{Scope: sc, Metric: metric("m"), Start: now.Add(-7 * 24 * time.Hour), End: now, Period: 3600}
	b.ResetTimer()
	for b.Loop() {
		if pts := s.Query(q); len(pts) < 167 {
			b.Fatalf("%d points", len(pts))
		}
	}
}

// TestRawRollup checks that queries agree with a brute-force aggregate
// across the raw tier's blocks and the coarse tiers they are rolled into:
// seconds with one value, with several, and with a statistic set, put in
// order and late.
func TestRawRollup(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	c := &clock{t0}
	s, err := Open(Options{Now: c.now, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	type point struct {
		t          int64
		n, sum     float64
		min, max   float64
		multiValue bool
	}
	var pts []point
	m := metric("m")
	for sec := 0; sec < 5*3600; sec += 7 {
		c.t = t0.Add(time.Duration(sec) * time.Second)
		at := c.t
		v := float64(sec % 101)
		smp := Sample{Metric: m, Time: at, HighRes: true, Values: []float64{v}}
		p := point{t: at.Unix(), n: 1, sum: v, min: v, max: v}
		switch sec % 5 {
		case 1: // two values, one counted twice
			smp.Values, smp.Counts = []float64{v, v + 1}, []float64{1, 2}
			p = point{t: at.Unix(), n: 3, sum: 3*v + 2, min: v, max: v + 1}
		case 2: // a statistic set
			smp.Values, smp.Set = nil, &StatSet{Count: 4, Sum: 4 * v, Min: v, Max: v}
			p = point{t: at.Unix(), n: 4, sum: 4 * v, min: v, max: v}
		case 3: // late by 90 minutes: past the roll for some
			if sec > 5400 {
				smp.Time = at.Add(-90 * time.Minute)
				p.t = smp.Time.Unix()
			}
		}
		if err := s.Put(context.Background(), sc, []Sample{smp}); err != nil {
			t.Fatal(err)
		}
		pts = append(pts, p)
	}
	end := c.t.Add(time.Second)
	tests := []struct {
		name   string
		start  time.Time
		period int64
	}{
		{"seconds, last hour", end.Add(-time.Hour), 1},
		{"10 s across a block, within 3 h", end.Add(-2*time.Hour - 13*time.Second), 10},
		{"minutes over all, rolled and raw", t0, 60},
		{"5 minutes over all", t0, 300},
		{"hours over all", t0, 3600},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := s.Query(Query{Scope: sc, Metric: m, Start: tc.start, End: end, Period: tc.period})
			start, _, _ := PeriodStart(c.t, tc.start, tc.period)
			want := map[int64]*Agg{}
			for _, p := range pts {
				if p.t < start.Unix() || p.t >= end.Unix() {
					continue
				}
				k := start.Unix() + (p.t-start.Unix())/tc.period*tc.period
				if want[k] == nil {
					want[k] = &Agg{}
				}
				want[k].AddSet(p.n, p.sum, p.min, p.max)
			}
			if len(got) != len(want) {
				t.Fatalf("%d periods, want %d", len(got), len(want))
			}
			for _, g := range got {
				w := want[g.Time.Unix()]
				if w == nil || g.Agg.Count != w.Count || math.Abs(g.Agg.Sum-w.Sum) > 1e-9 || g.Agg.Min != w.Min || g.Agg.Max != w.Max {
					t.Fatalf("period %v: %+v, want %+v", g.Time, g.Agg, w)
				}
			}
		})
	}
	// A restart (snapshot, then the log) gives the same answers.
	q := Query{Scope: sc, Metric: m, Start: t0, End: end, Period: 300}
	before := s.Query(q)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(Options{Now: c.now, Dir: s.opts.Dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if after := s2.Query(q); !slices.EqualFunc(before, after, func(a, b Point) bool {
		return a.Time.Equal(b.Time) && a.Agg.Count == b.Agg.Count && a.Agg.Sum == b.Agg.Sum
	}) {
		t.Fatalf("after restart:\n%+v\nwant\n%+v", after, before)
	}
}

// TestEmptySamples checks that a datum that puts nothing (values counted
// 0 times, no values, a statistic set of no samples) makes no datapoint
// and no metric, and does not hide the data of the same period.
func TestEmptySamples(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		smp  Sample
	}{
		{"count 0", Sample{Values: []float64{5}, Counts: []float64{0}}},
		{"no values", Sample{Values: []float64{}}},
		{"statistic set of 0 samples", Sample{Set: &StatSet{}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{now}
			s, err := Open(Options{Now: c.now})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			smp := tc.smp
			smp.Metric, smp.Time = metric("m"), now.Add(-time.Minute)
			if err := s.Put(context.Background(), sc, []Sample{smp}); err != nil {
				t.Fatal(err)
			}
			q := Query{Scope: sc, Metric: metric("m"), Start: now.Add(-time.Hour), End: now, Period: 60}
			if pts := s.Query(q); len(pts) != 0 {
				t.Fatalf("datapoints %+v, want none", pts)
			}
			if ms := s.Metrics(sc); len(ms) != 0 {
				t.Fatalf("metrics %+v, want none", ms)
			}
			put(t, s, metric("m"), now.Add(-time.Minute), false, 3)
			if err := s.Put(context.Background(), sc, []Sample{smp}); err != nil {
				t.Fatal(err)
			}
			if pts := s.Query(q); len(pts) != 1 || pts[0].Agg.Count != 1 || pts[0].Agg.Sum != 3 {
				t.Fatalf("datapoints %+v, want one of 3", pts)
			}
		})
	}
}
