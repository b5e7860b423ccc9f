package metrics

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func openDir(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// crash closes s's log as a kill -9 would: no snapshot, no Stop.
func crash(s *Store) {
	close(s.stop)
	<-s.done
	s.wal.f.Close()
}

func sumOf(s *Store, at time.Time) float64 {
	pts := s.Query(Query{Scope: sc, Metric: metric("m"), Start: at.Add(-time.Hour), End: at.Add(time.Minute), Period: 3600})
	if len(pts) == 0 {
		return 0
	}
	return pts[0].Agg.Sum
}

// TestSnapshotWhilePutting checks that a put made while a snapshot is
// being written (after its log rotation) counts once after a restart,
// whether or not the snapshot's series already had it.
func TestSnapshotWhilePutting(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Minute)
	dir := t.TempDir()
	s := openDir(t, dir)
	put(t, s, metric("m"), now, false, 1)
	s.afterRotate = func() { put(t, s, metric("m"), now, false, 2) }
	if err := s.Snapshot(); err != nil {
		t.Fatal(err)
	}
	s.afterRotate = nil
	put(t, s, metric("m"), now, false, 4)
	crash(s)
	s2 := openDir(t, dir)
	defer s2.Close()
	if got := sumOf(s2, now); got != 7 {
		t.Fatalf("after restart: sum %v, want 7", got)
	}
}

// TestSnapshotSkipsEmptyLog checks that the loop's snapshot does nothing
// when nothing was put since the last one, and that a long log makes a
// put ask the loop for a snapshot rather than write it itself.
func TestSnapshotSkipsEmptyLog(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Minute)
	dir := t.TempDir()
	s := openDir(t, dir)
	defer s.Close()
	put(t, s, metric("m"), now, false, 1)
	if err := s.Snapshot(); err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(dir, snapshotName)
	before, err := os.Stat(snap)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.snapshot(context.Background(), false, nil); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Stat(snap); !os.SameFile(before, after) {
		t.Fatal("a snapshot was written with nothing in the log")
	}

	s.maxLog = 1
	gen := s.wal.gen
	// Holding snapMu holds the loop's snapshot off, not a put's own.
	s.snapMu.Lock()
	put(t, s, metric("m"), now, false, 2)
	s.wmu.Lock()
	inline := s.wal.gen != gen
	s.wmu.Unlock()
	s.snapMu.Unlock()
	if inline {
		t.Fatal("the put rotated the log itself")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.snapMu.Lock()
		s.wmu.Lock()
		done := s.wal.gen != gen
		s.wmu.Unlock()
		s.snapMu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the loop wrote no snapshot for a long log")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStopHonoursContext checks that Stop skips the last snapshot of a
// short log, gives up on that of a long one when its context is done,
// and that every put survives either way.
func TestStopHonoursContext(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Minute)
	tests := []struct {
		name         string
		long         bool
		cancel       bool
		wantSnapshot bool
		wantErr      error
	}{
		{"short log: no snapshot", false, false, false, nil},
		{"long log: snapshot", true, false, true, nil},
		{"long log, context done: none", true, true, false, context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openDir(t, dir)
			if tc.long {
				s.closeSnapshotMin = 1
			}
			put(t, s, metric("m"), now, false, 1)
			ctx, cancel := context.WithCancel(context.Background())
			if tc.cancel {
				cancel()
			}
			defer cancel()
			if err := s.Stop(ctx); !errors.Is(err, tc.wantErr) {
				t.Fatalf("Stop: %v, want %v", err, tc.wantErr)
			}
			_, err := os.Stat(filepath.Join(dir, snapshotName))
			if got := err == nil; got != tc.wantSnapshot {
				t.Errorf("snapshot written %v, want %v", got, tc.wantSnapshot)
			}
			s2 := openDir(t, dir)
			defer s2.Close()
			if got := sumOf(s2, now); got != 1 {
				t.Fatalf("after restart: sum %v, want 1", got)
			}
		})
	}
}

// TestLogFaults injects a short write and a failed fsync into the log and
// checks that no acknowledged put is lost across a crash: a short write
// is cut away so that later records do not follow garbage (which the
// replay would stop at), and a failed fsync fails every put until the
// store moves to a new log, rather than trusting a later fsync.
func TestLogFaults(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Minute)
	errDisk := errors.New("injected")
	tests := []struct {
		name   string
		inject func(w *wal, undo func())
	}{
		{"short write", func(w *wal, undo func()) {
			w.writeFile = func(f *os.File, b []byte) (int, error) {
				undo()
				n, _ := f.Write(b[:len(b)/2])
				return n, errDisk
			}
		}},
		{"failed write, nothing written", func(w *wal, undo func()) {
			w.writeFile = func(*os.File, []byte) (int, error) { undo(); return 0, errDisk }
		}},
		{"failed fsync", func(w *wal, undo func()) {
			w.fsync = func(*os.File) error { undo(); return errDisk }
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openDir(t, dir)
			put(t, s, metric("m"), now, false, 1)
			s.snapMu.Lock() // the loop's snapshot waits until asked below
			s.wmu.Lock()
			tc.inject(s.wal, func() {
				s.wal.writeFile, s.wal.fsync = (*os.File).Write, (*os.File).Sync
			})
			s.wmu.Unlock()
			err := s.Put(context.Background(), sc, []Sample{{Metric: metric("m"), Time: now, Values: []float64{2}}})
			if !errors.Is(err, errDisk) {
				t.Fatalf("put with a fault: %v, want the fault", err)
			}
			acked := 1.0
			if err := s.Put(context.Background(), sc, []Sample{{Metric: metric("m"), Time: now, Values: []float64{4}}}); err == nil {
				acked += 4
			} else if !s.wal.isBroken() {
				t.Fatalf("put after the fault: %v", err)
			}
			s.snapMu.Unlock()
			if s.wal.isBroken() {
				// The loop moves to a new log; puts work again.
				deadline := time.Now().Add(5 * time.Second)
				for s.wal.isBroken() {
					if time.Now().After(deadline) {
						t.Fatal("the log stays broken")
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			put(t, s, metric("m"), now, false, 8)
			acked += 8
			crash(s)
			s2 := openDir(t, dir)
			defer s2.Close()
			// A put that failed on its fsync may survive (its record
			// is in memory, and so in the snapshot); one that failed
			// on its write may not.
			got := sumOf(s2, now)
			if got != acked && !(tc.name == "failed fsync" && got == acked+2) {
				t.Fatalf("after restart: sum %v, want the acknowledged %v", got, acked)
			}
		})
	}
}
