package metrics

import (
	"context"
	"fmt"
	"math"
	"runtime"
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
