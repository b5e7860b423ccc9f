package metrics

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestGroupCommit: puts that arrive while an fsync runs share the next
// one, and none returns before an fsync that began after its write; all
// are there after a crash (no Close) and reopening.
func TestGroupCommit(t *testing.T) {
	const n = 16
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var syncs atomic.Int32
	release := make(chan struct{})
	var returned atomic.Int32
	s.wal.fsync = func(f *os.File) error {
		if syncs.Add(1) == 1 {
			<-release // the first fsync lasts until every put has written
		}
		return f.Sync()
	}
	now := time.Now().UTC().Truncate(time.Minute)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Put(context.Background(), sc, []Sample{{Metric: metric(fmt.Sprint(i)), Time: now, Values: []float64{float64(i)}}})
			returned.Add(1)
			errs <- err
		}()
	}
	// Wait for every record to be written; none may have returned yet:
	// the first put's fsync is held, the others wait for the next one.
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.wal.smu.Lock()
		written := s.wal.written
		s.wal.smu.Unlock()
		if written == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d records written", written, n)
		}
		time.Sleep(time.Millisecond)
	}
	if r := returned.Load(); r != 0 {
		t.Fatalf("%d puts returned while the fsync of the first was running", r)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// The first fsync covered the records written before it began (the
	// first, perhaps a few more); one more covered all the others, which
	// were written while it ran.
	if got := syncs.Load(); got < 1 || got > 2 {
		t.Errorf("%d fsyncs for %d concurrent puts, want 2 (or 1)", got, n)
	}
	s.wal.f.Close() // no Close: as after kill -9
	s2, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	for i := range n {
		pts := s2.Query(Query{Scope: sc, Metric: metric(fmt.Sprint(i)), Start: now.Add(-time.Hour), End: now.Add(time.Minute), Period: 3600})
		if len(pts) != 1 || pts[0].Agg.Sum != float64(i) {
			t.Errorf("metric %d after reopening: %v", i, pts)
		}
	}
}

// BenchmarkConcurrentPut is puts of 20 samples from many goroutines to a
// durable store: with group commit they share fsyncs.
func BenchmarkConcurrentPut(b *testing.B) {
	s, err := Open(Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UTC()
	var id atomic.Int64
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		m := metric(fmt.Sprint(id.Add(1)))
		samples := make([]Sample, 20)
		for i := range samples {
			samples[i] = Sample{Metric: m, Time: now, Values: []float64{float64(i)}}
		}
		for pb.Next() {
			if err := s.Put(context.Background(), sc, samples); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
