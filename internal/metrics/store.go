package metrics

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Sample is one datapoint as PutMetricData gives it: values (each with a
// count, 1 when Counts is shorter) or a statistic set, at a time, in a
// unit, at standard or high resolution.
type Sample struct {
	Metric  Metric
	Unit    string
	Time    time.Time
	HighRes bool
	Values  []float64
	Counts  []float64
	Set     *StatSet
}

// StatSet is a statistic set.
type StatSet struct{ Count, Sum, Min, Max float64 }

// Options configure a Store.
type Options struct {
	// Dir is where the store keeps its files; "" keeps it in memory only.
	Dir string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// SnapshotEvery is how often the log is folded into the snapshot
	// (default 5 minutes).
	SnapshotEvery time.Duration
	Logger        *slog.Logger
}

// Store is the metric store. It is safe for concurrent use.
type Store struct {
	opts Options
	// wmu serializes writers: log append, fsync and apply, so that the
	// snapshot's cut is consistent with the log it replaces.
	wmu sync.Mutex
	wal *wal // nil in memory
	// mu guards data.
	mu   sync.RWMutex
	data map[Scope]map[string]*series

	stop chan struct{}
	done chan struct{}
}

// Open opens (or creates) the store in opts.Dir and starts its snapshot
// loop; Close stops it.
func Open(opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SnapshotEvery <= 0 {
		opts.SnapshotEvery = 5 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{opts: opts, data: map[Scope]map[string]*series{}, stop: make(chan struct{}), done: make(chan struct{})}
	if opts.Dir != "" {
		w, err := openWAL(opts.Dir, s.load, s.replay)
		if err != nil {
			return nil, fmt.Errorf("metrics: open %s: %w", opts.Dir, err)
		}
		s.wal = w
	}
	go s.loop()
	return s, nil
}

func (s *Store) loop() {
	defer close(s.done)
	t := time.NewTicker(s.opts.SnapshotEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.expireAll()
			if err := s.Snapshot(); err != nil {
				s.opts.Logger.Error("metrics snapshot", "err", err)
			}
		}
	}
}

// Close stops the snapshot loop, writes a last snapshot and closes the
// files.
func (s *Store) Close() error {
	select {
	case <-s.stop:
		return nil
	default:
	}
	close(s.stop)
	<-s.done
	if s.wal == nil {
		return nil
	}
	err := s.Snapshot()
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if cerr := s.wal.close(); err == nil {
		err = cerr
	}
	return err
}

// Put adds samples to sc's metrics. It returns once they are durable.
func (s *Store) Put(ctx context.Context, sc Scope, samples []Sample) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := s.opts.Now()
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.wal != nil {
		if err := s.wal.append(encodePut(now, sc, samples)); err != nil {
			return fmt.Errorf("metrics: log put: %w", err)
		}
	}
	s.apply(now, sc, samples)
	if s.wal != nil && s.wal.size > maxWAL {
		// The put is durable in the log already; a failed snapshot
		// only leaves a longer log to replay.
		if err := s.wal.rotate(s.encodeSnapshot); err != nil {
			s.opts.Logger.Error("metrics snapshot", "err", err)
		}
	}
	return nil
}

// apply adds a put to memory.
func (s *Store) apply(now time.Time, sc Scope, samples []Sample) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.data[sc]
	if m == nil {
		m = map[string]*series{}
		s.data[sc] = m
	}
	var touched []*unitSeries
	for i := range samples {
		smp := &samples[i]
		k := smp.Metric.Key()
		sr := m[k]
		if sr == nil {
			sr = &series{Metric: smp.Metric, Units: map[string]*unitSeries{}}
			m[k] = sr
		}
		sr.LastPut = max(sr.LastPut, now.Unix())
		unit := smp.Unit
		if unit == "" {
			unit = "None"
		}
		u := sr.Units[unit]
		if u == nil {
			u = &unitSeries{}
			sr.Units[unit] = u
		}
		u.add(smp, now)
		if len(touched) == 0 || touched[len(touched)-1] != u {
			touched = append(touched, u)
		}
	}
	// Once per unit series per put (a put's samples of one metric are
	// usually together), not per sample: a put may carry thousands.
	for _, u := range touched {
		u.expire(now)
	}
}

// expireAll drops expired buckets and series without data.
func (s *Store) expireAll() {
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for sc, m := range s.data {
		for k, sr := range m {
			for unit, u := range sr.Units {
				if u.expire(now) {
					delete(sr.Units, unit)
				}
			}
			if len(sr.Units) == 0 {
				delete(m, k)
			}
		}
		if len(m) == 0 {
			delete(s.data, sc)
		}
	}
}

// Reset deletes every metric (POST /_minicloud/reset).
func (s *Store) Reset(context.Context) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	s.data = map[Scope]map[string]*series{}
	s.mu.Unlock()
	if s.wal == nil {
		return nil
	}
	return s.wal.rotate(s.encodeSnapshot)
}

// Snapshot writes the whole store to its snapshot file and restarts the
// log.
func (s *Store) Snapshot() error {
	if s.wal == nil {
		return nil
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.wal.rotate(s.encodeSnapshot)
}

// MetricInfo is a metric as ListMetrics sees it.
type MetricInfo struct {
	Metric  Metric
	LastPut time.Time
}

// Metrics returns sc's metrics, sorted by Key.
func (s *Store) Metrics(sc Scope) []MetricInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]MetricInfo, 0, len(s.data[sc]))
	for _, sr := range s.data[sc] {
		out = append(out, MetricInfo{Metric: sr.Metric, LastPut: time.Unix(sr.LastPut, 0).UTC()})
	}
	slices.SortFunc(out, func(a, b MetricInfo) int { return cmp.Compare(a.Metric.Key(), b.Metric.Key()) })
	return out
}

// Query asks for one metric's aggregates per period.
type Query struct {
	Scope  Scope
	Metric Metric
	// Unit keeps only data put in that unit ("" = any).
	Unit string
	// SplitUnits answers a point per unit (GetMetricStatistics); else
	// the units' data are merged (GetMetricData).
	SplitUnits bool
	Start, End time.Time
	Period     int64 // seconds
}

// Point is one period's aggregate.
type Point struct {
	Time time.Time
	Unit string // "" when units are merged
	Agg  Agg
}

// PeriodStart is where a query's periods start: StartTime rounded down as
// AWS rounds it (to the period under a minute, else to the tier's bucket
// by StartTime's age), and the tier that holds it; ok is false when the
// period is not a multiple of that tier's bucket (AWS returns no
// datapoints then).
func PeriodStart(now, start time.Time, period int64) (t time.Time, tierIdx int, ok bool) {
	age := now.Sub(start)
	tierIdx = len(tiers) - 1
	for i, tr := range tiers {
		if age <= tr.retention {
			tierIdx = i
			break
		}
	}
	if tierIdx == 0 && period%60 == 0 {
		tierIdx = 1 // same buckets, sixty times fewer
	}
	res := tiers[tierIdx].res
	if tierIdx == 0 {
		res = 60
		if period < 60 {
			res = period
		}
	}
	if period%res != 0 && tierIdx > 0 {
		return start, tierIdx, false
	}
	if tierIdx == 0 && 60%period != 0 && period%60 != 0 {
		return start, tierIdx, false
	}
	u := start.Unix()
	return time.Unix(floorDiv(u, res)*res, 0).UTC(), tierIdx, true
}

// Query returns the periods of q that have data, in time order (and by
// unit within a period).
func (s *Store) Query(q Query) []Point {
	start, ti, ok := PeriodStart(s.opts.Now(), q.Start, q.Period)
	if !ok || q.Period <= 0 {
		return nil
	}
	from, to := start.Unix(), q.End.Unix()
	if q.End.Nanosecond() > 0 {
		to++ // End is exclusive; a fraction of a second past includes that second
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	sr := s.data[q.Scope][q.Metric.Key()]
	if sr == nil {
		return nil
	}
	type pk struct {
		t    int64
		unit string
	}
	acc := map[pk]*Agg{}
	for unit, u := range sr.Units {
		if q.Unit != "" && unit != q.Unit {
			continue
		}
		key := ""
		if q.SplitUnits {
			key = unit
		}
		u.each(ti, from, to, func(t int64, b *Agg) {
			p := from + floorDiv(t-from, q.Period)*q.Period
			a := acc[pk{p, key}]
			if a == nil {
				a = &Agg{}
				acc[pk{p, key}] = a
			}
			a.Merge(b)
		})
	}
	out := make([]Point, 0, len(acc))
	for k, a := range acc {
		out = append(out, Point{Time: time.Unix(k.t, 0).UTC(), Unit: k.unit, Agg: *a})
	}
	slices.SortFunc(out, func(a, b Point) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.Unit, b.Unit)
	})
	return out
}
