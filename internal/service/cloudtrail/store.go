package cloudtrail

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/minicloud/minicloud/internal/api"
)

// Retention is how long events are kept and looked up: AWS's 90 days.
const Retention = 90 * 24 * time.Hour

// queueSize is how many answered calls may wait for the writer; past it
// Record waits (the answer is already written: only the connection's next
// request waits).
const queueSize = 4096

// maxBatch bounds the calls one write takes.
const maxBatch = 512

// syncDelay is how long written events may wait for their fsync. A write
// alone survives kill -9 of minicloud (the kernel holds it); the fsync
// guards against a crash of the host, and one per batch cost a sequential
// client about 100 µs a call on a busy 2-core host (bench -scenarios
// cloudtrail) where one per syncDelay costs nothing measurable.
const syncDelay = 100 * time.Millisecond

// gatherDelay is how long the writer lets calls queue up before it takes
// them: the window in which an answered call is not yet written.
const gatherDelay = 10 * time.Millisecond

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// The store keeps events in one append-only file per UTC day,
// "<YYYY-MM-DD>.events" (so the 90-day sweep removes whole files). A
// record is a frame: length and CRC-32C of the payload (little-endian
// uint32 each), then the payload: the entry's header JSON, a newline, and
// the event's JSON. Memory holds the headers, each with the place of its
// event in its file, never the events themselves (with no directory,
// --ephemeral, it holds the events instead). Opening reads every file
// once; a torn or corrupt tail (a batch never synced) is cut there.
type store struct {
	dir string
	log *slog.Logger
	now func() time.Time

	mu sync.RWMutex
	// byScope holds each account and region's events in (time, seq)
	// order, oldest first.
	byScope map[string][]*indexed
	files   map[string]*os.File // by day, open for append and reads
	seq     uint64

	queue chan queued
	stop  chan struct{}
	done  chan struct{}
	// werr is the last write failure, for health.
	werr error
	// unsynced are the days written since their last fsync (the
	// writer's own).
	unsynced map[string]bool
}

// indexed is an event in memory: its header, and its event's place.
type indexed struct {
	*entry
	seq    uint64
	day    string
	off, n int64
}

// queued is a call waiting for the writer, or a flush: a channel closed
// once everything queued before it is written.
type queued struct {
	call  *api.Call
	flush chan struct{}
}

func scopeKey(account, region string) string { return account + "/" + region }

func dayOf(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func openStore(dir string, now func() time.Time, log *slog.Logger) (*store, error) {
	s := &store{dir: dir, log: log, now: now, byScope: map[string][]*indexed{}, files: map[string]*os.File{}, unsynced: map[string]bool{}}
	if dir == "" {
		return s, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cloudtrail: %w", err)
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.events"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := s.load(name); err != nil {
			s.closeFiles()
			return nil, err
		}
	}
	for k := range s.byScope {
		s.sortScope(k)
	}
	return s, nil
}

// load reads one day's file into the index and cuts a torn tail.
func (s *store) load(path string) error {
	day := strings.TrimSuffix(filepath.Base(path), ".events")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("cloudtrail: open %s: %w", path, err)
	}
	s.files[day] = f
	data, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("cloudtrail: read %s: %w", path, err)
	}
	var off int64
	for {
		hdr, ev, n, ok := readFrame(data[off:])
		if !ok {
			break
		}
		e := new(entry)
		if err := json.Unmarshal(hdr, e); err != nil {
			break
		}
		s.seq++
		evOff := off + int64(n-len(ev))
		s.byScope[scopeKey(e.Account, e.Region)] = append(s.byScope[scopeKey(e.Account, e.Region)],
			&indexed{entry: e, seq: s.seq, day: day, off: evOff, n: int64(len(ev))})
		off += int64(n)
	}
	if off < int64(len(data)) {
		s.log.Warn("cloudtrail: cutting a torn tail", "file", path, "at", off, "size", len(data))
		if err := f.Truncate(off); err != nil {
			return fmt.Errorf("cloudtrail: truncate %s: %w", path, err)
		}
	}
	return nil
}

// frame returns an entry's record.
func frame(e *entry) []byte {
	hdr, _ := json.Marshal(e) // strings, a time and a bool
	payload := make([]byte, 8, 8+len(hdr)+1+len(e.Event))
	payload = append(append(append(payload, hdr...), '\n'), e.Event...)
	binary.LittleEndian.PutUint32(payload[0:], uint32(len(payload)-8))
	binary.LittleEndian.PutUint32(payload[4:], crc32.Checksum(payload[8:], castagnoli))
	return payload
}

// readFrame reads the frame at the start of b: its header and event, and
// its whole length; ok is false for a short or corrupt frame.
func readFrame(b []byte) (hdr, ev []byte, n int, ok bool) {
	if len(b) < 8 {
		return nil, nil, 0, false
	}
	size := int(binary.LittleEndian.Uint32(b))
	if size > len(b)-8 || crc32.Checksum(b[8:8+size], castagnoli) != binary.LittleEndian.Uint32(b[4:]) {
		return nil, nil, 0, false
	}
	payload := b[8 : 8+size]
	i := bytes.IndexByte(payload, '\n')
	if i < 0 {
		return nil, nil, 0, false
	}
	return payload[:i], payload[i+1:], 8 + size, true
}

// start runs the writer and the sweep until stopStore.
func (s *store) start(sweepEvery time.Duration) {
	s.queue = make(chan queued, queueSize)
	s.stop = make(chan struct{})
	s.done = make(chan struct{})
	go s.run(sweepEvery)
}

// enqueue hands a call to the writer; after stopStore it is dropped.
func (s *store) enqueue(q queued) bool {
	select {
	case <-s.stop:
		return false
	default:
	}
	select {
	case s.queue <- q:
		return true
	case <-s.stop:
		return false
	}
}

// flush waits until every call queued before it is written (or ctx ends).
func (s *store) flush(ctx context.Context) {
	if s.queue == nil {
		return
	}
	q := queued{flush: make(chan struct{})}
	if !s.enqueue(q) {
		return
	}
	select {
	case <-q.flush:
	case <-ctx.Done():
	}
}

func (s *store) run(sweepEvery time.Duration) {
	defer close(s.done)
	tick := time.NewTicker(sweepEvery)
	defer tick.Stop()
	s.sweep()
	var syncC <-chan time.Time // set while written events wait for their fsync
	for {
		select {
		case q := <-s.queue:
			// Let the calls of the next gatherDelay queue up: Record
			// then wakes no goroutine per call (a wake-up on the
			// request's thread), and one write takes them all.
			select {
			case <-time.After(gatherDelay):
			case <-s.stop:
			}
			s.batch(q)
			for len(s.queue) > 0 { // the writer is the only receiver
				s.batch(<-s.queue)
			}
			if syncC == nil && len(s.unsynced) > 0 {
				syncC = time.After(syncDelay)
			}
		case <-syncC:
			s.sync()
			syncC = nil
		case <-tick.C:
			s.sweep()
		case <-s.stop:
			// Write what was queued before the stop.
			for {
				select {
				case q := <-s.queue:
					s.batch(q)
				default:
					s.sync()
					return
				}
			}
		}
	}
}

// sync fsyncs the files written since their last fsync. A file a reset
// or the sweep closed meanwhile is gone: nothing to keep.
func (s *store) sync() {
	for day := range s.unsynced {
		s.mu.RLock()
		f := s.files[day]
		s.mu.RUnlock()
		if f == nil {
			continue
		}
		if err := f.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
			s.log.Error("cloudtrail: events not synced", "day", day, "error", err)
			s.mu.Lock()
			s.werr = fmt.Errorf("cloudtrail: sync %s: %w", day, err)
			s.mu.Unlock()
		}
	}
	clear(s.unsynced)
}

// batch writes q and whatever else is queued (up to maxBatch): the group
// commit. Events are built here, off the request path.
func (s *store) batch(first queued) {
	var (
		entries []*entry
		flushes []chan struct{}
	)
	take := func(q queued) {
		if q.flush != nil {
			flushes = append(flushes, q.flush)
			return
		}
		entries = append(entries, newEntry(q.call))
	}
	take(first)
drain:
	for len(entries) < maxBatch {
		select {
		case q := <-s.queue:
			take(q)
		default:
			break drain
		}
	}
	if len(entries) > 0 {
		if err := s.write(entries); err != nil {
			s.log.Error("cloudtrail: events not written", "events", len(entries), "error", err)
			s.mu.Lock()
			s.werr = err
			s.mu.Unlock()
		}
	}
	for _, f := range flushes {
		close(f)
	}
}

// write appends entries to their days' files and then indexes them: a
// lookup sees an event once it survives kill -9. Its fsync follows within
// syncDelay (run).
func (s *store) write(entries []*entry) error {
	var idx []*indexed
	if s.dir == "" {
		for _, e := range entries {
			idx = append(idx, &indexed{entry: e, day: dayOf(e.Time)})
		}
		s.index(idx)
		return nil
	}
	byDay := map[string][]*entry{}
	var days []string
	for _, e := range entries {
		d := dayOf(e.Time)
		if _, ok := byDay[d]; !ok {
			days = append(days, d)
		}
		byDay[d] = append(byDay[d], e)
	}
	var errs []error
	for _, d := range days {
		f, err := s.file(d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		st, err := f.Stat()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		off := st.Size()
		var buf []byte
		var dayIdx []*indexed
		for _, e := range byDay[d] {
			fr := frame(e)
			evOff := off + int64(len(buf)+len(fr)-len(e.Event))
			dayIdx = append(dayIdx, &indexed{entry: e, day: d, off: evOff, n: int64(len(e.Event))})
			buf = append(buf, fr...)
		}
		if _, err := f.Write(buf); err != nil {
			// Cut a partial write back so later frames follow good ones.
			_ = f.Truncate(off)
			errs = append(errs, fmt.Errorf("cloudtrail: write %s: %w", d, err))
			continue
		}
		s.unsynced[d] = true
		for _, ix := range dayIdx {
			ix.Event = nil // read back from the file
		}
		idx = append(idx, dayIdx...)
	}
	s.index(idx)
	return errors.Join(errs...)
}

// file is the day's file, opened (created) on first use.
func (s *store) file(day string) (*os.File, error) {
	s.mu.RLock()
	f := s.files[day]
	s.mu.RUnlock()
	if f != nil {
		return f, nil
	}
	f, err := os.OpenFile(filepath.Join(s.dir, day+".events"), os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cloudtrail: %w", err)
	}
	s.mu.Lock()
	s.files[day] = f
	s.mu.Unlock()
	return f, nil
}

// index adds written events to memory, in (time, seq) order: calls are
// answered, and so queued, slightly out of their arrival order.
func (s *store) index(idx []*indexed) {
	s.mu.Lock()
	defer s.mu.Unlock()
	touched := map[string]bool{}
	for _, ix := range idx {
		s.seq++
		ix.seq = s.seq
		k := scopeKey(ix.Account, ix.Region)
		list := s.byScope[k]
		if n := len(list); n > 0 && ix.Time.Before(list[n-1].Time) {
			touched[k] = true
		}
		s.byScope[k] = append(list, ix)
	}
	for k := range touched {
		s.sortScope(k)
	}
}

func (s *store) sortScope(k string) {
	slices.SortStableFunc(s.byScope[k], func(a, b *indexed) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return int(a.seq) - int(b.seq)
	})
}

// event reads an indexed event's JSON.
func (s *store) event(ix *indexed) ([]byte, error) {
	if ix.Event != nil {
		return ix.Event, nil
	}
	s.mu.RLock()
	f := s.files[ix.day]
	s.mu.RUnlock()
	if f == nil {
		return nil, fmt.Errorf("cloudtrail: the file of %s is gone", ix.day)
	}
	b := make([]byte, ix.n)
	if _, err := f.ReadAt(b, ix.off); err != nil {
		return nil, fmt.Errorf("cloudtrail: read event: %w", err)
	}
	return b, nil
}

// cutoff is the oldest time still kept.
func (s *store) cutoff() time.Time { return s.now().Add(-Retention) }

// sweep drops events older than Retention: from memory, and each day's
// file once the whole day is past.
func (s *store) sweep() {
	cut := s.cutoff()
	s.mu.Lock()
	for k, list := range s.byScope {
		i := sort.Search(len(list), func(i int) bool { return !list[i].Time.Before(cut) })
		if i == len(list) {
			delete(s.byScope, k)
			continue
		}
		s.byScope[k] = slices.Clone(list[i:])
	}
	var gone []string
	for day, f := range s.files {
		t, err := time.Parse(time.DateOnly, day)
		if err != nil || !t.Add(24*time.Hour).Before(cut) {
			continue
		}
		_ = f.Close()
		delete(s.files, day)
		gone = append(gone, day)
	}
	s.mu.Unlock()
	for _, day := range gone {
		if err := os.Remove(filepath.Join(s.dir, day+".events")); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("cloudtrail: sweep", "day", day, "error", err)
		}
	}
}

// reset deletes every event.
func (s *store) reset() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for day, f := range s.files {
		_ = f.Close()
		if err := os.Remove(filepath.Join(s.dir, day+".events")); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	s.files = map[string]*os.File{}
	s.byScope = map[string][]*indexed{}
	return errors.Join(errs...)
}

// stopStore writes what is queued, stops the writer and closes the files.
func (s *store) stopStore(ctx context.Context) error {
	if s.stop != nil {
		close(s.stop)
		select {
		case <-s.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeFiles()
	return nil
}

func (s *store) closeFiles() {
	for _, f := range s.files {
		_ = f.Close()
	}
	s.files = map[string]*os.File{}
}
