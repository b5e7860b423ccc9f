package metrics

import (
	"cmp"
	"context"
	"fmt"
	"io"
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
	// Logger gets the background loop's failures (snapshots, expiry),
	// which no request is there to return.
	Logger *slog.Logger
}

// Store is the metric store. It is safe for concurrent use.
type Store struct {
	opts Options
	// snapMu serializes snapshots (the loop's, Snapshot, Reset, Stop).
	snapMu sync.Mutex
	// wmu serializes writers: log write and apply, so that memory holds
	// the log's records in its order and a log rotation falls between
	// two puts. The fsync is outside it (wal.syncTo).
	wmu sync.Mutex
	wal *wal // nil in memory
	// seq numbers the puts (guarded by wmu).
	seq uint64
	// mu guards data.
	mu   sync.RWMutex
	data map[Scope]map[string]*series

	// kick asks the loop for a snapshot now (the log is long).
	kick chan struct{}
	// maxLog and closeSnapshotMin are maxWAL and closeSnapshotMinWAL
	// (tests lower them); afterRotate, when set, runs in a snapshot
	// right after the log is rotated (tests put there).
	maxLog, closeSnapshotMin int64
	afterRotate              func()
	stop                     chan struct{}
	done                     chan struct{}
}

// closeSnapshotMinWAL is the log size from which Stop writes a snapshot:
// a shorter log replays in well under a second.
const closeSnapshotMinWAL = 8 << 20

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
	s := &Store{opts: opts, data: map[Scope]map[string]*series{},
		maxLog: maxWAL, closeSnapshotMin: closeSnapshotMinWAL,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
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
		case <-s.kick:
		}
		if err := s.snapshot(context.Background(), false, nil); err != nil {
			s.opts.Logger.Error("metrics snapshot", "err", err)
		}
	}
}

// Close is Stop without a deadline.
func (s *Store) Close() error { return s.Stop(context.Background()) }

// Stop stops the snapshot loop and closes the files. It writes a last
// snapshot only when the log is long (a short one replays fast at the
// next Open), and gives up on it when ctx is done: the log has every put
// already.
func (s *Store) Stop(ctx context.Context) error {
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
	var err error
	s.wmu.Lock()
	long := s.wal.size >= s.closeSnapshotMin
	s.wmu.Unlock()
	if long {
		if err = s.snapshot(ctx, false, nil); err != nil {
			err = fmt.Errorf("metrics: last snapshot: %w", err)
		}
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if cerr := s.wal.close(); err == nil && cerr != nil {
		err = fmt.Errorf("metrics: close log: %w", cerr)
	}
	return err
}

// Put adds samples to sc's metrics. It returns once they are durable.
func (s *Store) Put(ctx context.Context, sc Scope, samples []Sample) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := s.opts.Now()
	if s.wal == nil {
		s.wmu.Lock()
		defer s.wmu.Unlock()
		s.seq++
		s.apply(s.seq, now, sc, samples)
		return nil
	}
	// Encoded outside the lock; the put's number is stamped in under it.
	rec := record(encodePut(0, now, sc, samples))
	wseq, err := s.put(now, sc, samples, rec)
	if err == nil {
		// Readers may see the samples before they are durable (they
		// are applied in log order under wmu, which the snapshot
		// needs); the caller is answered only after.
		err = s.wal.syncTo(wseq)
	}
	if err != nil {
		if s.wal.isBroken() {
			s.kickSnapshot() // to a new log
		}
		return fmt.Errorf("metrics: log put: %w", err)
	}
	return nil
}

// kickSnapshot asks the loop for a snapshot now.
func (s *Store) kickSnapshot() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// put numbers a put, writes its record and applies it, under wmu,
// answering the record's sequence number in the log (for syncTo).
func (s *Store) put(now time.Time, sc Scope, samples []Sample, rec []byte) (uint64, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	seq := s.seq + 1
	stampSeq(rec, seq)
	wseq, err := s.wal.write(rec)
	if err != nil {
		return 0, err
	}
	s.seq = seq
	s.apply(seq, now, sc, samples)
	if s.wal.size > s.maxLog {
		// The loop folds the log into a snapshot: not this client's
		// request, which holds the writers' lock.
		s.kickSnapshot()
	}
	return wseq, nil
}

// apply adds put seq to memory. A series whose Seq is seq or later has it
// already (a snapshot written after the put) and is skipped.
func (s *Store) apply(seq uint64, now time.Time, sc Scope, samples []Sample) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.data[sc]
	if m == nil {
		m = map[string]*series{}
		s.data[sc] = m
	}
	var touched []*unitSeries
	var applied []*series
	for i := range samples {
		smp := &samples[i]
		if smp.empty() {
			continue // a bucket of no samples would answer as a datapoint
		}
		k := smp.Metric.Key()
		sr := m[k]
		if sr == nil {
			sr = &series{Metric: smp.Metric, Units: map[string]*unitSeries{}}
			m[k] = sr
		}
		if sr.Seq >= seq {
			continue
		}
		if len(applied) == 0 || applied[len(applied)-1] != sr {
			applied = append(applied, sr)
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
	for _, sr := range applied {
		sr.Seq = seq
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
func (s *Store) Reset(ctx context.Context) error {
	empty := func() {
		s.mu.Lock()
		s.data = map[Scope]map[string]*series{}
		s.mu.Unlock()
	}
	if s.wal == nil {
		s.wmu.Lock()
		defer s.wmu.Unlock()
		empty()
		return nil
	}
	return s.snapshot(ctx, true, empty)
}

// Snapshot writes the whole store to its snapshot file and restarts the
// log.
func (s *Store) Snapshot() error { return s.snapshot(context.Background(), true, nil) }

// snapshot folds the log into a new snapshot: unless force, only when
// the log has records. With the writers stopped it runs before (Reset's
// clearing), starts the next log and notes the last put's number; then,
// with puts going on into the new log, it writes the store series by
// series (writeSnapshot). Every put of the old logs is in it, and a put
// of the new log that a series has is skipped by the replay (apply), so
// the old logs can go once the snapshot is renamed into place.
func (s *Store) snapshot(ctx context.Context, force bool, before func()) error {
	if s.wal == nil {
		return nil
	}
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	s.wmu.Lock()
	if !force && s.wal.size == 0 && !s.wal.isBroken() {
		s.wmu.Unlock()
		return nil
	}
	if before != nil {
		before()
	}
	old, err := s.wal.next()
	hdr := snapshotHeader{Version: snapshotVersion, NextGen: s.wal.gen, Seq: s.seq}
	s.wmu.Unlock()
	if err != nil {
		return fmt.Errorf("metrics: start log: %w", err)
	}
	if s.afterRotate != nil {
		s.afterRotate()
	}
	if err := s.wal.writeSnapshot(old, func(w io.Writer) error { return s.writeSnapshot(ctx, w, hdr) }); err != nil {
		return fmt.Errorf("metrics: snapshot: %w", err)
	}
	return nil
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
	// The map's keys are the metrics' Keys: sort by them rather than
	// build two Keys per comparison.
	type keyed struct {
		key string
		sr  *series
	}
	ks := make([]keyed, 0, len(s.data[sc]))
	for k, sr := range s.data[sc] {
		ks = append(ks, keyed{k, sr})
	}
	slices.SortFunc(ks, func(a, b keyed) int { return cmp.Compare(a.key, b.key) })
	out := make([]MetricInfo, len(ks))
	for i, k := range ks {
		out[i] = MetricInfo{Metric: k.sr.Metric, LastPut: time.Unix(k.sr.LastPut, 0).UTC()}
	}
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
			if b.Count == 0 {
				return // no samples: no datapoint (kept by an older store)
			}
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
