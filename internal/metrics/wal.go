package metrics

import (
	"bytes"
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

type snapshotFile struct {
	NextGen int
	Data    map[Scope]map[string]*series
}

// wal is the write-ahead log of a store directory.
type wal struct {
	dir  string
	gen  int
	f    *os.File
	size int64
}

// openWAL loads dir's snapshot (load) and replays its logs (replay), then
// opens the current log for appending.
func openWAL(dir string, load func(map[Scope]map[string]*series), replay func([]byte) error) (*wal, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	next := 0
	b, err := os.ReadFile(filepath.Join(dir, snapshotName))
	switch {
	case err == nil:
		var snap snapshotFile
		if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&snap); err != nil {
			return nil, fmt.Errorf("read snapshot: %w", err)
		}
		next = snap.NextGen
		load(snap.Data)
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	gens, err := walGens(dir)
	if err != nil {
		return nil, err
	}
	w := &wal{dir: dir, gen: next}
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
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *wal) path(gen int) string { return filepath.Join(w.dir, walPrefix+strconv.Itoa(gen)) }

func (w *wal) open() error {
	f, err := os.OpenFile(w.path(w.gen), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	w.f, w.size = f, st.Size()
	return syncDir(w.dir)
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

// append writes one record and fsyncs it.
func (w *wal) append(payload []byte) error {
	rec := make([]byte, 8, 8+len(payload))
	binary.LittleEndian.PutUint32(rec, uint32(len(payload)))
	binary.LittleEndian.PutUint32(rec[4:], crc32.Checksum(payload, castagnoli))
	rec = append(rec, payload...)
	if _, err := w.f.Write(rec); err != nil {
		return err
	}
	w.size += int64(len(rec))
	return w.f.Sync()
}

// rotate starts the next log, writes the snapshot (encode) naming it, and
// removes the logs the snapshot holds. A crash at any step leaves a
// snapshot and the logs that complete it.
func (w *wal) rotate(encode func(nextGen int) ([]byte, error)) error {
	old := w.gen
	w.gen++
	if err := w.f.Close(); err != nil {
		return err
	}
	if err := w.open(); err != nil {
		return err
	}
	b, err := encode(w.gen)
	if err != nil {
		return err
	}
	tmp := filepath.Join(w.dir, snapshotName+".tmp")
	if err := writeSync(tmp, b); err != nil {
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

func (w *wal) close() error { return w.f.Close() }

func writeSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// encodeSnapshot is the store as a snapshot file; the caller holds wmu.
func (s *Store) encodeSnapshot(nextGen int) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var buf bytes.Buffer
	if err := s.writeSnapshot(&buf, nextGen); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeSnapshot writes the store as a snapshot file to w.
func (s *Store) writeSnapshot(w io.Writer, nextGen int) error {
	if err := gob.NewEncoder(w).Encode(snapshotFile{NextGen: nextGen, Data: s.data}); err != nil {
		return fmt.Errorf("encode snapshot: %w", err)
	}
	return nil
}

func (s *Store) load(data map[Scope]map[string]*series) {
	if data != nil {
		s.data = data
	}
	for _, m := range s.data {
		for _, sr := range m {
			if sr.Units == nil {
				sr.Units = map[string]*unitSeries{}
			}
		}
	}
}

func (s *Store) replay(payload []byte) error {
	now, sc, samples, err := decodePut(payload)
	if err != nil {
		return err
	}
	s.apply(now, sc, samples)
	return nil
}

// A put's record: its time, scope and samples, in varints, strings
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

func encodePut(now time.Time, sc Scope, samples []Sample) []byte {
	e := &encoder{}
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

func decodePut(b []byte) (time.Time, Scope, []Sample, error) {
	d := &decoder{b: b}
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
	return now, sc, samples, d.err
}
