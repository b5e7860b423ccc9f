package metrics

import (
	"context"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// BenchmarkHourOfHighRes is the memory bound: 1,000 metrics at
// one-second resolution for an hour (3.6 M datapoints, put as PutMetricData
// would, 1,000 datums a call), then the heap the store holds (heap-MB) and
// the put throughput (datapoints/s).
func BenchmarkHourOfHighRes(b *testing.B) {
	const metrics, seconds = 1000, 3600
	names := make([]Metric, metrics)
	for i := range names {
		names[i] = Metric{Namespace: "Bench", Name: "Latency", Dims: []Dim{{"Host", fmt.Sprintf("h%04d", i)}}}
	}
	for b.Loop() {
		start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		c := &clock{start}
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		s, err := Open(Options{Now: c.now})
		if err != nil {
			b.Fatal(err)
		}
		samples := make([]Sample, metrics)
		began := time.Now()
		for sec := range seconds {
			c.t = start.Add(time.Duration(sec) * time.Second)
			for i := range samples {
				// Distinct values, as a latency or a CPU figure: the
				// worst case for percentiles.
				v := 50 + 40*math.Sin(float64(sec*metrics+i)*0.001)
				samples[i] = Sample{Metric: names[i], Time: c.t, HighRes: true, Values: []float64{v}}
			}
			if err := s.Put(context.Background(), sc, samples); err != nil {
				b.Fatal(err)
			}
		}
		took := time.Since(began)
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1e6, "heap-MB")
		b.ReportMetric(float64(metrics*seconds)/took.Seconds(), "datapoints/s")
		q := Query{Scope: sc, Metric: names[0], Start: start, End: c.t, Period: 60}
		if pts := s.Query(q); len(pts) != 60 {
			b.Fatalf("%d points, want 60", len(pts))
		}
		runtime.KeepAlive(s)
		s.Close()
	}
}

// simulate puts one standard-resolution datapoint a minute for each of
// metrics metrics (one PutMetricData of them all, as a publisher does) for
// days simulated days, running the snapshot loop's work every
// snapshotEvery of simulated time. It reports the put rate and the
// slowest put, and returns the store.
func simulate(b *testing.B, dir string, metrics, days int, snapshotEvery time.Duration) *Store {
	names := make([]Metric, metrics)
	for i := range names {
		names[i] = Metric{Namespace: "Bench", Name: "CPUUtilization", Dims: []Dim{{"InstanceId", fmt.Sprintf("i-%017d", i)}}}
	}
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	c := &clock{start}
	s, err := Open(Options{Now: c.now, Dir: dir, SnapshotEvery: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	samples := make([]Sample, metrics)
	var putTime, slowest, loopTime time.Duration
	nextLoop := start.Add(snapshotEvery)
	for min := range days * 24 * 60 {
		c.t = start.Add(time.Duration(min) * time.Minute)
		for i := range samples {
			v := 50 + 40*math.Sin(float64(min*metrics+i)*0.001)
			samples[i] = Sample{Metric: names[i], Unit: "Percent", Time: c.t, Values: []float64{v}}
		}
		began := time.Now()
		if err := s.Put(context.Background(), sc, samples); err != nil {
			b.Fatal(err)
		}
		took := time.Since(began)
		putTime += took
		slowest = max(slowest, took)
		if !c.t.Before(nextLoop) {
			nextLoop = nextLoop.Add(snapshotEvery)
			began := time.Now()
			s.expireAll()
			if err := s.Snapshot(); err != nil {
				b.Fatal(err)
			}
			loopTime += time.Since(began)
		}
	}
	puts := float64(days * 24 * 60)
	b.ReportMetric(puts*float64(metrics)/putTime.Seconds(), "datapoints/s")
	b.ReportMetric(float64(slowest.Microseconds())/1e3, "slowest-put-ms")
	b.ReportMetric(float64(loopTime.Milliseconds())/(puts*time.Minute.Seconds()/snapshotEvery.Seconds()), "loop-ms/run")
	return s
}

// BenchmarkSteadyState is a month of standard one-minute metrics in
// memory, as the built-in publishers write them: 100 metrics × 30
// simulated days (4.3 M datapoints). It reports the heap the store holds
// per metric, the size its snapshot would have per metric, and the put
// rate. MINICLOUD_BENCH_DAYS changes the days.
func BenchmarkSteadyState(b *testing.B) {
	const metrics = 100
	days := benchDays(30)
	for b.Loop() {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		s := simulate(b, "", metrics, days, 5*time.Minute)
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1e6/metrics, "heap-MB/metric")
		var n countWriter
		if err := s.writeSnapshot(context.Background(), &n, snapshotHeader{}); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n)/1e6/metrics, "snapshot-MB/metric")
		runtime.KeepAlive(s)
		s.Close()
	}
}

// BenchmarkSteadyStateDir is BenchmarkSteadyState with a directory: every
// put fsyncs its log record, and the loop's snapshot (every five simulated
// minutes) writes the store. One simulated day by default (fsyncs are
// real: a month would take as long as 43,200 of them).
func BenchmarkSteadyStateDir(b *testing.B) {
	days := benchDays(1)
	for b.Loop() {
		s := simulate(b, b.TempDir(), 100, days, 5*time.Minute)
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func benchDays(def int) int {
	if d, err := strconv.Atoi(os.Getenv("MINICLOUD_BENCH_DAYS")); err == nil && d > 0 {
		return d
	}
	return def
}

type countWriter int64

func (w *countWriter) Write(p []byte) (int, error) { *w += countWriter(len(p)); return len(p), nil }
