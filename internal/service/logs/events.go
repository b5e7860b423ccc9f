package logs

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// The event store: one append-only file per stream (see doc.go for why).
//
// A file is a sequence of frames: u32 payload length, u32 CRC-32C of the
// payload, the payload. The first frame names the stream (kind 'H':
// account, region, group, stream); every other frame is one accepted
// PutLogEvents batch (kind 'B': ingestion time, first sequence number,
// then each event's timestamp and message). A batch is chronological (the
// API requires it), so its time range is its first and last event; the
// memory index keeps, per batch, its place in the file and that range —
// never the messages.

// streamKey names a stream in the event store.
type streamKey struct{ Account, Region, Group, Stream string }

// groupKey names a log group in the event store.
type groupKey struct{ Account, Region, Group string }

func (k streamKey) group() groupKey { return groupKey{k.Account, k.Region, k.Group} }

// event is one stored log event. Seq orders events of one stream that
// share a timestamp, in the order they were accepted.
type event struct {
	Time, Ingest int64 // milliseconds since the epoch
	Seq          uint64
	Message      string
}

// batchRef is the index entry of one stored batch.
type batchRef struct {
	off        int64
	size       int64 // frame size, header included
	minT, maxT int64
	count      int
	bytes      int64 // message bytes
}

// streamData is one stream's file (or, ephemeral, its bytes) and index.
type streamData struct {
	mu      sync.Mutex
	key     streamKey
	path    string        // "" in memory
	f       *os.File      // open for appends, nil in memory
	mem     *bytes.Buffer // the frames, in memory
	size    int64
	batches []batchRef
	nextSeq uint64
	// Summary for DescribeLogStreams / DescribeLogGroups.
	first, last, lastIngest int64
	stored                  int64
}

// eventStore holds every stream's events.
type eventStore struct {
	dir    string // "" = memory only (--ephemeral)
	logger *slog.Logger

	mu      sync.Mutex
	streams map[streamKey]*streamData
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

const (
	frameHeader = 8
	kindHeader  = 'H'
	kindBatch   = 'B'
)

func openEventStore(dir string, logger *slog.Logger) (*eventStore, error) {
	es := &eventStore{dir: dir, logger: logger, streams: map[streamKey]*streamData{}}
	if dir == "" {
		return es, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("log events: %w", err)
	}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".log") {
			return err
		}
		sd, err := loadStream(path)
		if err != nil {
			// A file that cannot even name its stream is not ours to fix:
			// leave it, say so, and go on with the others.
			logger.Warn("log events: skipping unreadable stream file", "path", path, "err", err)
			return nil
		}
		es.streams[sd.key] = sd
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("log events: %w", err)
	}
	return es, nil
}

// loadStream reads a stream file's frames into the index, cutting a torn
// tail (a crash during an append that was never acknowledged).
func loadStream(path string) (*streamData, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	sd := &streamData{path: path, f: f}
	r := bufio.NewReader(f)
	var off int64
	for {
		payload, size, err := readFrame(r)
		if err != nil {
			break // EOF or a torn/corrupt tail
		}
		if off == 0 {
			if sd.key, err = decodeHeader(payload); err != nil {
				f.Close()
				return nil, err
			}
		} else if err := sd.index(off, size, payload); err != nil {
			break
		}
		off += size
	}
	if off == 0 {
		f.Close()
		return nil, errors.New("no header")
	}
	if err := f.Truncate(off); err != nil {
		f.Close()
		return nil, fmt.Errorf("truncate torn tail: %w", err)
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	sd.size = off
	return sd, nil
}

func readFrame(r io.Reader) (payload []byte, size int64, err error) {
	var h [frameHeader]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, 0, err
	}
	n := binary.LittleEndian.Uint32(h[:4])
	if n > 64<<20 {
		return nil, 0, errors.New("frame too large")
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return nil, 0, err
	}
	if crc32.Checksum(payload, crcTable) != binary.LittleEndian.Uint32(h[4:]) {
		return nil, 0, errors.New("checksum mismatch")
	}
	return payload, int64(n) + frameHeader, nil
}

func frame(payload []byte) []byte {
	out := make([]byte, frameHeader, frameHeader+len(payload))
	binary.LittleEndian.PutUint32(out[:4], uint32(len(payload)))
	binary.LittleEndian.PutUint32(out[4:], crc32.Checksum(payload, crcTable))
	return append(out, payload...)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func readString(b []byte) (string, []byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return "", nil, errors.New("short string")
	}
	return string(b[k : k+int(n)]), b[k+int(n):], nil
}

func encodeHeader(k streamKey) []byte {
	b := []byte{kindHeader}
	for _, s := range []string{k.Account, k.Region, k.Group, k.Stream} {
		b = appendString(b, s)
	}
	return b
}

func decodeHeader(b []byte) (streamKey, error) {
	if len(b) == 0 || b[0] != kindHeader {
		return streamKey{}, errors.New("not a stream header")
	}
	b = b[1:]
	var parts [4]string
	for i := range parts {
		var err error
		if parts[i], b, err = readString(b); err != nil {
			return streamKey{}, err
		}
	}
	return streamKey{parts[0], parts[1], parts[2], parts[3]}, nil
}

func encodeBatch(events []event) []byte {
	b := []byte{kindBatch}
	b = binary.AppendVarint(b, events[0].Ingest)
	b = binary.AppendUvarint(b, events[0].Seq)
	b = binary.AppendUvarint(b, uint64(len(events)))
	for _, e := range events {
		b = binary.AppendVarint(b, e.Time)
		b = appendString(b, e.Message)
	}
	return b
}

func decodeBatch(b []byte) ([]event, error) {
	if len(b) == 0 || b[0] != kindBatch {
		return nil, errors.New("not a batch")
	}
	b = b[1:]
	ingest, k := binary.Varint(b)
	if k <= 0 {
		return nil, errors.New("short batch")
	}
	b = b[k:]
	seq, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, errors.New("short batch")
	}
	b = b[k:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > 1<<20 {
		return nil, errors.New("short batch")
	}
	b = b[k:]
	out := make([]event, 0, n)
	for i := range n {
		t, k := binary.Varint(b)
		if k <= 0 {
			return nil, errors.New("short event")
		}
		msg, rest, err := readString(b[k:])
		if err != nil {
			return nil, err
		}
		b = rest
		out = append(out, event{Time: t, Ingest: ingest, Seq: seq + i, Message: msg})
	}
	return out, nil
}

// index adds a decoded batch frame at off to the index and the summary.
func (sd *streamData) index(off, size int64, payload []byte) error {
	evs, err := decodeBatch(payload)
	if err != nil {
		return err
	}
	if len(evs) == 0 {
		return nil
	}
	ref := batchRef{off: off, size: size, minT: evs[0].Time, maxT: evs[len(evs)-1].Time, count: len(evs)}
	for _, e := range evs {
		ref.bytes += int64(len(e.Message))
	}
	sd.batches = append(sd.batches, ref)
	sd.nextSeq = max(sd.nextSeq, evs[len(evs)-1].Seq+1)
	if len(sd.batches) == 1 || ref.minT < sd.first {
		sd.first = ref.minT
	}
	sd.last = max(sd.last, ref.maxT)
	sd.lastIngest = max(sd.lastIngest, evs[0].Ingest)
	sd.stored += ref.bytes
	return nil
}

// fileName is a stream's file: names may hold "/" and run to 512
// characters, so directories and files are named by hashes and the header
// frame keeps the names.
func (es *eventStore) groupDir(g groupKey) string {
	return filepath.Join(es.dir, hashName(g.Account+"\x00"+g.Region+"\x00"+g.Group))
}

func hashName(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:16])
}

// stream returns key's data, creating its file when create is set.
func (es *eventStore) stream(key streamKey, create bool) (*streamData, error) {
	es.mu.Lock()
	defer es.mu.Unlock()
	if sd, ok := es.streams[key]; ok || !create {
		return sd, nil
	}
	sd := &streamData{key: key}
	hdr := frame(encodeHeader(key))
	if es.dir == "" {
		sd.mem = bytes.NewBuffer(hdr)
	} else {
		dir := es.groupDir(key.group())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("log stream %s: %w", key.Stream, err)
		}
		sd.path = filepath.Join(dir, hashName(key.Stream)+".log")
		f, err := os.OpenFile(sd.path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return nil, fmt.Errorf("log stream %s: %w", key.Stream, err)
		}
		if _, err := f.Write(hdr); err != nil {
			f.Close()
			return nil, fmt.Errorf("log stream %s: %w", key.Stream, err)
		}
		if err := syncFileAndDir(f, dir); err != nil {
			f.Close()
			return nil, fmt.Errorf("log stream %s: %w", key.Stream, err)
		}
		sd.f = f
	}
	sd.size = int64(len(hdr))
	es.streams[key] = sd
	return sd, nil
}

func syncFileAndDir(f *os.File, dir string) error {
	if err := f.Sync(); err != nil {
		return err
	}
	return syncDir(dir)
}

// append stores a chronological batch (ingestion time set by the caller)
// durably and returns the events with their sequence numbers.
func (es *eventStore) append(key streamKey, batch []event) ([]event, error) {
	if len(batch) == 0 {
		return nil, nil
	}
	sd, err := es.stream(key, true)
	if err != nil {
		return nil, err
	}
	sd.mu.Lock()
	defer sd.mu.Unlock()
	for i := range batch {
		batch[i].Seq = sd.nextSeq + uint64(i)
	}
	fr := frame(encodeBatch(batch))
	if sd.mem != nil {
		sd.mem.Write(fr)
	} else {
		if sd.f == nil {
			return nil, fmt.Errorf("log stream %s was deleted", key.Stream)
		}
		_, err := sd.f.Write(fr)
		if err == nil {
			err = sd.f.Sync()
		}
		if err != nil {
			// Not acknowledged: cut what may have been written (also after
			// a failed fsync, or the next batch would land after bytes the
			// index does not know, and a restart would bring this one back).
			_ = sd.f.Truncate(sd.size)
			_, _ = sd.f.Seek(sd.size, io.SeekStart)
			return nil, fmt.Errorf("append to log stream %s: %w", key.Stream, err)
		}
	}
	if err := sd.index(sd.size, int64(len(fr)), fr[frameHeader:]); err != nil {
		return nil, err
	}
	sd.size += int64(len(fr))
	return batch, nil
}

// readBatch decodes one indexed batch; sd.mu is held.
func (sd *streamData) readBatch(ref batchRef) ([]event, error) {
	buf := make([]byte, ref.size)
	if sd.mem != nil {
		copy(buf, sd.mem.Bytes()[ref.off:ref.off+ref.size])
	} else if _, err := sd.f.ReadAt(buf, ref.off); err != nil {
		return nil, fmt.Errorf("read log stream %s: %w", sd.key.Stream, err)
	}
	return decodeBatch(buf[frameHeader:])
}

// events returns the stream's events with from ≤ Time < to, in time order
// (then acceptance order). Only the batches that overlap the range are read.
func (es *eventStore) events(key streamKey, from, to int64) ([]event, error) {
	sd, _ := es.stream(key, false)
	if sd == nil {
		return nil, nil
	}
	sd.mu.Lock()
	defer sd.mu.Unlock()
	var out []event
	for _, ref := range sd.batches {
		if ref.maxT < from || ref.minT >= to {
			continue
		}
		evs, err := sd.readBatch(ref)
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			if e.Time >= from && e.Time < to {
				out = append(out, e)
			}
		}
	}
	slices.SortFunc(out, func(a, b event) int { return cmp.Or(cmp.Compare(a.Time, b.Time), cmp.Compare(a.Seq, b.Seq)) })
	return out, nil
}

// streamSummary is what DescribeLogStreams reports of a stream's events.
type streamSummary struct {
	First, Last, LastIngest, Stored int64
	HasEvents                       bool
	NextSeq                         uint64
}

func (es *eventStore) summary(key streamKey) streamSummary {
	sd, _ := es.stream(key, false)
	if sd == nil {
		return streamSummary{}
	}
	sd.mu.Lock()
	defer sd.mu.Unlock()
	return streamSummary{First: sd.first, Last: sd.last, LastIngest: sd.lastIngest, Stored: sd.stored, HasEvents: len(sd.batches) > 0, NextSeq: sd.nextSeq}
}

// groupStored is the message bytes a group's streams hold.
func (es *eventStore) groupStored(g groupKey) int64 {
	var n int64
	for _, sd := range es.streamsOf(func(k streamKey) bool { return k.group() == g }) {
		sd.mu.Lock()
		n += sd.stored
		sd.mu.Unlock()
	}
	return n
}

func (es *eventStore) streamsOf(keep func(streamKey) bool) []*streamData {
	es.mu.Lock()
	defer es.mu.Unlock()
	var out []*streamData
	for k, sd := range es.streams {
		if keep(k) {
			out = append(out, sd)
		}
	}
	return out
}

// drop deletes the streams keep selects, files and all.
func (es *eventStore) drop(keep func(streamKey) bool) error {
	es.mu.Lock()
	var gone []*streamData
	for k, sd := range es.streams {
		if keep(k) {
			gone = append(gone, sd)
			delete(es.streams, k)
		}
	}
	es.mu.Unlock()
	var errs []error
	for _, sd := range gone {
		sd.mu.Lock()
		if sd.f != nil {
			errs = append(errs, sd.f.Close())
			sd.f = nil
			if err := os.Remove(sd.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
		sd.batches, sd.mem = nil, nil
		sd.mu.Unlock()
	}
	return errors.Join(errs...)
}

func (es *eventStore) dropStream(key streamKey) error {
	return es.drop(func(k streamKey) bool { return k == key })
}

func (es *eventStore) dropGroup(g groupKey) error {
	if err := es.drop(func(k streamKey) bool { return k.group() == g }); err != nil {
		return err
	}
	if es.dir != "" {
		_ = os.Remove(es.groupDir(g)) // empty now; a leftover is harmless
	}
	return nil
}

// expire deletes the events of stream key older than cutoff (ms): the
// file is rewritten without them (temp file, fsync, rename), since an
// append-only file can only lose its head by being copied.
func (es *eventStore) expire(key streamKey, cutoff int64) (int, error) {
	sd, _ := es.stream(key, false)
	if sd == nil {
		return 0, nil
	}
	sd.mu.Lock()
	defer sd.mu.Unlock()
	if !slices.ContainsFunc(sd.batches, func(r batchRef) bool { return r.minT < cutoff }) {
		return 0, nil
	}
	fresh := &streamData{key: sd.key, path: sd.path}
	out := bytes.NewBuffer(frame(encodeHeader(sd.key)))
	fresh.size = int64(out.Len())
	dropped := 0
	for _, ref := range sd.batches {
		evs, err := sd.readBatch(ref)
		if err != nil {
			return 0, err
		}
		kept := slices.DeleteFunc(evs, func(e event) bool { return e.Time < cutoff })
		dropped += ref.count - len(kept)
		if len(kept) == 0 {
			continue
		}
		fr := frame(encodeBatch(kept))
		out.Write(fr)
		if err := fresh.index(fresh.size, int64(len(fr)), fr[frameHeader:]); err != nil {
			return 0, err
		}
		fresh.size += int64(len(fr))
	}
	if sd.mem != nil {
		sd.mem = out
	} else {
		tmp := sd.path + ".tmp"
		if err := os.WriteFile(tmp, out.Bytes(), 0o644); err != nil {
			return 0, fmt.Errorf("expire log stream %s: %w", key.Stream, err)
		}
		f, err := os.OpenFile(tmp, os.O_RDWR, 0)
		if err != nil {
			return 0, fmt.Errorf("expire log stream %s: %w", key.Stream, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return 0, fmt.Errorf("expire log stream %s: %w", key.Stream, err)
		}
		if err := os.Rename(tmp, sd.path); err != nil {
			f.Close()
			return 0, fmt.Errorf("expire log stream %s: %w", key.Stream, err)
		}
		if _, err := f.Seek(0, io.SeekEnd); err != nil {
			f.Close()
			return 0, err
		}
		_ = syncDir(filepath.Dir(sd.path))
		sd.f.Close()
		sd.f = f
	}
	// The sequence numbers go on from where they were: tokens stay valid.
	fresh.nextSeq = max(fresh.nextSeq, sd.nextSeq)
	sd.batches, sd.size, sd.nextSeq = fresh.batches, fresh.size, fresh.nextSeq
	sd.first, sd.last, sd.lastIngest, sd.stored = fresh.first, fresh.last, max(fresh.lastIngest, sd.lastIngest), fresh.stored
	return dropped, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// keys lists every stream with events.
func (es *eventStore) keys() []streamKey {
	es.mu.Lock()
	defer es.mu.Unlock()
	out := make([]streamKey, 0, len(es.streams))
	for k := range es.streams {
		out = append(out, k)
	}
	return out
}

// reset deletes every event.
func (es *eventStore) reset(context.Context) error {
	return es.drop(func(streamKey) bool { return true })
}

func (es *eventStore) close() error {
	es.mu.Lock()
	defer es.mu.Unlock()
	var errs []error
	for _, sd := range es.streams {
		sd.mu.Lock()
		if sd.f != nil {
			errs = append(errs, sd.f.Close())
			sd.f = nil
		}
		sd.mu.Unlock()
	}
	return errors.Join(errs...)
}
