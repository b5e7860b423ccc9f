package metrics

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The files of a store's directory: "snapshot" (gob of snapshotFile) and
// the logs "wal.<generation>". A snapshot names the first generation of
// log written after it; older logs are folded into it and removed.
const (
	snapshotName = "snapshot"
	walPrefix    = "wal."
	maxWAL       = 64 << 20 // bytes; past it a put triggers a snapshot
	maxRecord    = 64 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// A snapshot is a gob stream: a snapshotHeader, then a snapshotSeries
// per series, then a snapshotSeries with a nil Series as its end (a file
// without it is refused). It is written series by series, so that puts
// wait for one series' encoding at most, never for the whole store's; a
// series written after a put applied has that put in it, which its Seq
// says, so the replay of the log skips it there (Store.apply).
type snapshotHeader struct {
	// Version is snapshotVersion.
	Version int
	// NextGen is the first log generation the snapshot does not hold
	// whole: opening replays it and the later ones.
	NextGen int
	// Seq is the sequence number of the last put of the logs before
	// NextGen (every one of them is in the snapshot).
	Seq uint64
}

type snapshotSeries struct {
	Scope  Scope
	Series *series
}

// snapshotVersion changes when the snapshot's or the log's format does.
const snapshotVersion = 2

// wal is the write-ahead log of a store directory.
//
// Its fsync is a group commit: a put writes its record (under the store's
// wmu, in log order) and then waits in syncTo until an fsync that began
// after its write has finished. One waiter at a time runs the fsync, for
// every record written before it began; the puts that arrive meanwhile
// wait for the next one, which covers them all. So concurrent puts share
// fsyncs instead of queueing one fsync each behind wmu, and a put still
// returns only once its record is on disk.
type wal struct {
	dir  string
	gen  int
	f    *os.File // changed only with smu held and no fsync running
	size int64

	smu     sync.Mutex
	synced  sync.Cond // broadcast when an fsync ends
	written uint64    // records written, ever (a record's sequence number)
	durable uint64    // records known to be on disk
	syncing bool      // an fsync (or a file switch) is running
	// broken is set when the log can no longer be trusted (write,
	// syncTo); a move to a new log clears it.
	broken error
	// fsync is (*os.File).Sync and writeFile (*os.File).Write; tests
	// count, hold and fail them.
	fsync     func(*os.File) error
	writeFile func(*os.File, []byte) (int, error)
}

// openWAL loads dir's snapshot (load) and replays its logs (replay), then
// opens the current log for appending.
func openWAL(dir string, load func(snapshotHeader, func(*snapshotSeries) (bool, error)) error, replay func([]byte) error) (*wal, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	next := 0
	f, err := os.Open(filepath.Join(dir, snapshotName))
	switch {
	case err == nil:
		next, err = readSnapshot(f, load)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read snapshot: %w", err)
		}
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	gens, err := walGens(dir)
	if err != nil {
		return nil, err
	}
	w := &wal{dir: dir, gen: next, fsync: (*os.File).Sync, writeFile: (*os.File).Write}
	w.synced.L = &w.smu
	for _, g := range gens {
		path := w.path(g)
		if g < next {
			if err := os.Remove(path); err != nil {
				return nil, err
			}
			continue
		}
		good, err := replayFile(path, replay)
		if err != nil {
			return nil, err
		}
		// A torn tail is a put that was never acknowledged: cut it, so
		// that new records do not follow garbage.
		if err := os.Truncate(path, good); err != nil {
			return nil, err
		}
		w.gen = g
	}
	f, err = w.open(w.gen)
	if err != nil {
		return nil, err
	}
	if err := w.use(f); err != nil {
		return nil, err
	}
	return w, nil
}

// readSnapshot decodes a snapshot stream, giving its header and then each
// series to load, and returns the header's NextGen.
func readSnapshot(r io.Reader, load func(snapshotHeader, func(*snapshotSeries) (bool, error)) error) (int, error) {
	dec := gob.NewDecoder(bufio.NewReader(r))
	var hdr snapshotHeader
	if err := dec.Decode(&hdr); err != nil {
		return 0, err
	}
	if hdr.Version != snapshotVersion {
		return 0, fmt.Errorf("snapshot version %d, want %d", hdr.Version, snapshotVersion)
	}
	err := load(hdr, func(ss *snapshotSeries) (bool, error) {
		*ss = snapshotSeries{}
		if err := dec.Decode(ss); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF // no end record
			}
			return false, err
		}
		return ss.Series != nil, nil
	})
	return hdr.NextGen, err
}

func (w *wal) path(gen int) string { return filepath.Join(w.dir, walPrefix+strconv.Itoa(gen)) }

// open opens (creating) log generation gen for appending.
func (w *wal) open(gen int) (*os.File, error) {
	f, err := os.OpenFile(w.path(gen), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syncDir(w.dir); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// use makes f the log appended to.
func (w *wal) use(f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	w.f, w.size = f, st.Size()
	return nil
}

func walGens(dir string) ([]int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var gens []int
	for _, e := range ents {
		if s, ok := strings.CutPrefix(e.Name(), walPrefix); ok {
			if g, err := strconv.Atoi(s); err == nil {
				gens = append(gens, g)
			}
		}
	}
	slices.Sort(gens)
	return gens, nil
}

// replayFile calls fn with each intact record of path and returns the
// offset after the last one.
func replayFile(path string, fn func([]byte) error) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	var off int64
	for len(b) >= 8 {
		n := binary.LittleEndian.Uint32(b)
		sum := binary.LittleEndian.Uint32(b[4:])
		if n > maxRecord || int(n) > len(b)-8 || crc32.Checksum(b[8:8+n], castagnoli) != sum {
			break
		}
		if err := fn(b[8 : 8+n]); err != nil {
			return 0, fmt.Errorf("replay %s at %d: %w", path, off, err)
		}
		b = b[8+n:]
		off += 8 + int64(n)
	}
	return off, nil
}

// record frames a payload: length, CRC-32C, payload.
func record(payload []byte) []byte {
	rec := make([]byte, 8, 8+len(payload))
	binary.LittleEndian.PutUint32(rec, uint32(len(payload)))
	binary.LittleEndian.PutUint32(rec[4:], crc32.Checksum(payload, castagnoli))
	return append(rec, payload...)
}

// stampSeq sets the put number of a framed put record (its payload's
// first 8 bytes) and its checksum.
func stampSeq(rec []byte, seq uint64) {
	binary.LittleEndian.PutUint64(rec[8:], seq)
	binary.LittleEndian.PutUint32(rec[4:], crc32.Checksum(rec[8:], castagnoli))
}

// write appends a framed record to the log, not yet durable, and answers
// its sequence number for syncTo. The caller holds the store's wmu, so
// records are written (and applied) in one order.
//
// A failed or short write would leave part of a record in the log, and
// the records after it (O_APPEND) would follow that garbage, where the
// replay stops and cuts: acknowledged puts lost. So a failed write cuts
// the log back to its last good size (the fsync of any later record,
// which its acknowledgement waits for, makes the cut durable too), and
// when even that fails the log is broken: every put fails until the
// snapshot loop moves to a new log.
func (w *wal) write(rec []byte) (uint64, error) {
	w.smu.Lock()
	broken := w.broken
	w.smu.Unlock()
	if broken != nil {
		return 0, broken
	}
	if n, err := w.writeFile(w.f, rec); err != nil || n != len(rec) {
		if err == nil {
			err = io.ErrShortWrite
		}
		if terr := w.f.Truncate(w.size); terr != nil {
			w.smu.Lock()
			w.broken = fmt.Errorf("log broken: a write failed (%w) and cutting it away too (%w)", err, terr)
			w.smu.Unlock()
		}
		return 0, err
	}
	w.size += int64(len(rec))
	w.smu.Lock()
	defer w.smu.Unlock()
	w.written++
	return w.written, nil
}

// syncTo returns once record seq is on disk: at once if an fsync since
// its write has ended, else after the next one, which it runs itself if
// none is running.
//
// A failed fsync breaks the log: after one, the kernel may have dropped
// the dirty pages and cleared the error, so a second fsync that succeeds
// proves nothing about the records written before. Every put waiting, and
// every later one, fails until the snapshot loop moves to a new log (the
// store's memory, which the snapshot writes, has the records).
func (w *wal) syncTo(seq uint64) error {
	w.smu.Lock()
	defer w.smu.Unlock()
	for w.durable < seq {
		if w.broken != nil {
			return w.broken
		}
		if w.syncing {
			w.synced.Wait()
			continue
		}
		w.syncing = true
		target, f := w.written, w.f
		w.smu.Unlock()
		err := w.fsync(f)
		w.smu.Lock()
		w.syncing = false
		if err == nil {
			w.durable = max(w.durable, target)
		} else {
			w.broken = fmt.Errorf("log broken: fsync failed: %w", err)
		}
		w.synced.Broadcast()
	}
	return nil
}

// isBroken reports whether the log is broken (write, syncTo).
func (w *wal) isBroken() bool {
	w.smu.Lock()
	defer w.smu.Unlock()
	return w.broken != nil
}

// switchFile runs fn (which replaces or closes w.f) once no fsync runs,
// and none starts until it returns; every record written is then durable
// (fn's old file is synced first). The caller holds the store's wmu, so
// nothing is written meanwhile. A broken log is not synced (its records
// that count are in memory, for the snapshot that follows a switch); with
// heal, a successful fn (a new file) mends it.
func (w *wal) switchFile(heal bool, fn func() error) error {
	w.smu.Lock()
	for w.syncing {
		w.synced.Wait()
	}
	w.syncing = true
	broken := w.broken
	w.smu.Unlock()
	var err error
	if broken == nil {
		err = w.fsync(w.f)
	}
	if err == nil {
		err = fn()
	}
	w.smu.Lock()
	w.syncing = false
	if err == nil {
		w.durable = w.written
		if heal {
			w.broken = nil
		} else if broken != nil {
			err = broken
		}
	}
	w.synced.Broadcast()
	w.smu.Unlock()
	return err
}

// next starts the next log generation and returns the previous one: the
// new log is opened (and its directory entry synced) before the current
// one is closed, so that a failure leaves the current log in use.
func (w *wal) next() (old int, err error) {
	f, err := w.open(w.gen + 1)
	if err != nil {
		return 0, err
	}
	// switchFile syncs the current log first and holds fsyncs off while
	// the file changes.
	err = w.switchFile(true, func() error {
		prev := w.f
		if err := w.use(f); err != nil {
			return err
		}
		old = w.gen
		w.gen++
		if err := prev.Close(); err != nil {
			return fmt.Errorf("close log %d: %w", old, err)
		}
		return nil
	})
	if err != nil {
		f.Close()
		return 0, err
	}
	return old, nil
}

// writeSnapshot writes a snapshot (encode) to a temporary file, fsyncs
// it, renames it over the snapshot and then removes the logs up to old,
// which it holds. A crash (or an error) at any step leaves a snapshot and
// the logs that complete it: the old snapshot with every log, or the new
// one with the logs after old.
func (w *wal) writeSnapshot(old int, encode func(io.Writer) error) error {
	tmp := filepath.Join(w.dir, snapshotName+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	err = encode(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, filepath.Join(w.dir, snapshotName)); err != nil {
		return err
	}
	if err := syncDir(w.dir); err != nil {
		return err
	}
	gens, err := walGens(w.dir)
	if err != nil {
		return err
	}
	for _, g := range gens {
		if g <= old {
			if err := os.Remove(w.path(g)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *wal) close() error { return w.switchFile(false, w.f.Close) }

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// writeSnapshot writes the store to w as a snapshot with header hdr: a
// series at a time, each under the read lock alone, so that puts wait at
// most for one series' encoding. It stops when ctx is done.
func (s *Store) writeSnapshot(ctx context.Context, w io.Writer, hdr snapshotHeader) error {
	enc := gob.NewEncoder(w)
	if err := enc.Encode(hdr); err != nil {
		return fmt.Errorf("encode snapshot: %w", err)
	}
	type ref struct {
		sc  Scope
		key string
	}
	s.mu.RLock()
	var refs []ref
	for sc, m := range s.data {
		for k := range m {
			refs = append(refs, ref{sc, k})
		}
	}
	s.mu.RUnlock()
	for i, r := range refs {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		s.mu.RLock()
		var err error
		if sr := s.data[r.sc][r.key]; sr != nil {
			err = enc.Encode(snapshotSeries{Scope: r.sc, Series: sr})
		}
		s.mu.RUnlock()
		if err != nil {
			return fmt.Errorf("encode snapshot: %w", err)
		}
	}
	if err := enc.Encode(snapshotSeries{}); err != nil {
		return fmt.Errorf("encode snapshot: %w", err)
	}
	return nil
}

// load loads a snapshot: next gives its series until the end.
func (s *Store) load(hdr snapshotHeader, next func(*snapshotSeries) (bool, error)) error {
	s.seq = hdr.Seq
	for {
		var ss snapshotSeries
		ok, err := next(&ss)
		if err != nil || !ok {
			return err
		}
		sr := ss.Series
		if sr.Units == nil {
			sr.Units = map[string]*unitSeries{}
		}
		m := s.data[ss.Scope]
		if m == nil {
			m = map[string]*series{}
			s.data[ss.Scope] = m
		}
		m[sr.Metric.Key()] = sr
	}
}

func (s *Store) replay(payload []byte) error {
	seq, now, sc, samples, err := decodePut(payload)
	if err != nil {
		return err
	}
	s.seq = max(s.seq, seq)
	s.apply(seq, now, sc, samples)
	return nil
}

// A put's record: its sequence number, time, scope and samples, in varints, strings
// (length, bytes) and float64 bits.

type encoder struct{ b []byte }

func (e *encoder) uint(v uint64)   { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) int(v int64)     { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) float(v float64) { e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(v)) }
func (e *encoder) str(s string)    { e.uint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *encoder) floats(v []float64) {
	e.uint(uint64(len(v)))
	for _, f := range v {
		e.float(f)
	}
}

func encodePut(seq uint64, now time.Time, sc Scope, samples []Sample) []byte {
	e := &encoder{}
	e.b = binary.LittleEndian.AppendUint64(e.b, seq) // fixed: stampSeq patches it
	e.int(now.UnixNano())
	e.str(sc.Account)
	e.str(sc.Region)
	e.uint(uint64(len(samples)))
	for i := range samples {
		s := &samples[i]
		e.str(s.Metric.Namespace)
		e.str(s.Metric.Name)
		e.uint(uint64(len(s.Metric.Dims)))
		for _, d := range s.Metric.Dims {
			e.str(d.Name)
			e.str(d.Value)
		}
		e.str(s.Unit)
		e.int(s.Time.UnixNano())
		var flags uint64
		if s.HighRes {
			flags |= 1
		}
		if s.Set != nil {
			flags |= 2
		}
		e.uint(flags)
		if s.Set != nil {
			e.float(s.Set.Count)
			e.float(s.Set.Sum)
			e.float(s.Set.Min)
			e.float(s.Set.Max)
			continue
		}
		e.floats(s.Values)
		e.floats(s.Counts)
	}
	return e.b
}

type decoder struct {
	b   []byte
	err error
}

var errShort = errors.New("record too short")

func (d *decoder) uint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errShort
	}
	d.b = nil
}

// count reads a length that must fit in what is left (each element takes
// at least min bytes).
func (d *decoder) count(min int) int {
	n := d.uint()
	if n > uint64(len(d.b)/min) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *decoder) float() float64 {
	if len(d.b) < 8 {
		d.fail()
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}

func (d *decoder) str() string {
	n := d.count(1)
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) floats() []float64 {
	n := d.count(8)
	if n == 0 {
		return nil
	}
	v := make([]float64, n)
	for i := range v {
		v[i] = d.float()
	}
	return v
}

func decodePut(b []byte) (uint64, time.Time, Scope, []Sample, error) {
	d := &decoder{b: b}
	var seq uint64
	if len(d.b) >= 8 {
		seq = binary.LittleEndian.Uint64(d.b)
		d.b = d.b[8:]
	} else {
		d.fail()
	}
	now := time.Unix(0, d.int())
	sc := Scope{Account: d.str(), Region: d.str()}
	samples := make([]Sample, d.count(4))
	for i := range samples {
		s := &samples[i]
		s.Metric.Namespace = d.str()
		s.Metric.Name = d.str()
		if n := d.count(2); n > 0 {
			s.Metric.Dims = make([]Dim, n)
			for j := range s.Metric.Dims {
				s.Metric.Dims[j] = Dim{Name: d.str(), Value: d.str()}
			}
		}
		s.Unit = d.str()
		s.Time = time.Unix(0, d.int())
		flags := d.uint()
		s.HighRes = flags&1 != 0
		if flags&2 != 0 {
			s.Set = &StatSet{Count: d.float(), Sum: d.float(), Min: d.float(), Max: d.float()}
			continue
		}
		s.Values = d.floats()
		s.Counts = d.floats()
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = io.ErrUnexpectedEOF
	}
	return seq, now, sc, samples, d.err
}
