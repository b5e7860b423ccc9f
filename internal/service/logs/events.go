package logs

import (
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
// A file (format 2) is a 20-byte header — the magic "MCLOGS2\n", the
// offset of the first live batch frame ("start") and the CRC-32C of that
// offset — then frames. A frame is a fixed 68-byte header (magic "MCBL",
// kind, payload length and CRC-32C, then the batch's summary: ingestion
// time, first sequence number, event count, min and max event time,
// message bytes; then the CRC-32C of those 64 bytes) and its payload. The
// first frame names the stream (kind 'N': account, region, group,
// stream, and the identity of the stream record it belongs to); every
// other one is one accepted PutLogEvents batch (kind 'B': each event's
// timestamp and message, in time order, as the API requires).
//
// Why this shape: opening reads only frame headers (the summary is all
// the memory index keeps), so it costs O(batches) small reads, not the
// files' bytes; a header is checked by its own CRC, so a corrupt frame in
// the middle is skipped by finding the next magic whose header checks,
// instead of losing everything after it; a payload is checked when it is
// read. Retention drops whole expired batches: when they lead the file,
// by moving "start" (one small write), else by copying the live frames.
// Format 1 files (no file header; frames of u32 length, u32 CRC, payload
// with the summary inside) are converted once when opened.

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

// batchRef is the index entry of one stored batch: its frame header's
// summary and its place in the file.
type batchRef struct {
	off        int64
	size       int64 // frame size, header included
	minT, maxT int64
	count      int
	bytes      int64 // message bytes
	ingest     int64
	seq        uint64 // first sequence number
}

// batchIndex orders a stream's batches for reads. It is copy-on-write:
// a reader keeps the slices it took under the stream's lock while
// appends only append past their lengths and anything else builds new
// slices, so readers decode without the lock.
type batchIndex struct {
	refs []batchRef // file order
	// byMin orders refs by min time; prefMax[i] is the largest max time
	// of byMin[:i+1], so a forward read finds its first batch by binary
	// search. byMax and sufMin are the same the other way round.
	byMin, byMax    []int32
	prefMax, sufMin []int64
	sorted          bool // byMin.. match refs; else rebuilt at the next read
}

// add indexes ref. A batch that starts and ends no earlier than every
// other one (the common case: time moves on) keeps the orders in O(1).
func (x *batchIndex) add(ref batchRef) {
	n := len(x.refs)
	inOrder := x.sorted && (n == 0 || ref.minT >= x.refs[x.byMin[n-1]].minT && ref.maxT >= x.prefMax[n-1])
	x.refs = append(x.refs, ref)
	if !inOrder {
		x.sorted = false
		return
	}
	x.byMin = append(x.byMin, int32(n))
	x.byMax = append(x.byMax, int32(n))
	x.prefMax = append(x.prefMax, ref.maxT)
	// Every earlier suffix minimum is at most the earlier last batch's
	// min time, itself at most ref.minT: none changes.
	x.sufMin = append(x.sufMin, ref.minT)
}

// sort rebuilds the orders into new slices (readers may hold the old).
func (x *batchIndex) sort() {
	if x.sorted {
		return
	}
	n := len(x.refs)
	byMin, byMax := make([]int32, n), make([]int32, n)
	for i := range n {
		byMin[i], byMax[i] = int32(i), int32(i)
	}
	slices.SortStableFunc(byMin, func(a, b int32) int { return cmp.Compare(x.refs[a].minT, x.refs[b].minT) })
	slices.SortStableFunc(byMax, func(a, b int32) int { return cmp.Compare(x.refs[a].maxT, x.refs[b].maxT) })
	prefMax, sufMin := make([]int64, n), make([]int64, n)
	for i, j := range byMin {
		prefMax[i] = x.refs[j].maxT
		if i > 0 {
			prefMax[i] = max(prefMax[i], prefMax[i-1])
		}
	}
	for i := n - 1; i >= 0; i-- {
		sufMin[i] = x.refs[byMax[i]].minT
		if i < n-1 {
			sufMin[i] = min(sufMin[i], sufMin[i+1])
		}
	}
	x.byMin, x.byMax, x.prefMax, x.sufMin, x.sorted = byMin, byMax, prefMax, sufMin, true
}

// streamData is one stream's file (or, ephemeral, its bytes) and index.
type streamData struct {
	mu   sync.Mutex
	key  streamKey
	gen  uint64 // the stream record's identity; 0: unknown (format 1)
	path string // "" in memory
	// f is the open file (nil in memory, or once closed); readers hold
	// it through ref, so a rewrite or a delete never waits for them: the
	// replaced file is closed when its last reader is done.
	f        *os.File
	ref      *fileRef
	inMem    bool
	mem      []byte // the file's bytes, in memory (--ephemeral)
	size     int64
	namesEnd int64 // where batches may start
	start    int64 // the file header's start offset
	idx      batchIndex
	nextSeq  uint64
	// Summary for DescribeLogStreams / DescribeLogGroups.
	first, last, lastIngest int64
	stored                  int64
	dropped                 bool
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
	fileMagic   = "MCLOGS2\n"
	fileHeader  = 20
	frameMagic  = "MCBL"
	frameHeader = 68
	kindNames   = 'N'
	kindBatch   = 'B'
	maxPayload  = 64 << 20
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
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasSuffix(path, ".tmp") {
			// A rewrite that never reached its rename: the file it was to
			// replace is intact.
			if err := os.Remove(path); err != nil {
				logger.Warn("log events: removing leftover temp file", "path", path, "err", err)
			}
			return nil
		}
		if !strings.HasSuffix(path, ".log") {
			return nil
		}
		sd, err := loadStream(path, logger)
		if err != nil {
			// A file that cannot even name its stream is not ours to fix:
			// leave it, say so, and go on with the others.
			logger.Warn("log events: skipping unreadable stream file", "path", path, "err", err)
			return nil
		}
		if prev, ok := es.streams[sd.key]; ok {
			// Two incarnations' files (a crash before the sweep dropped the
			// older): the one written last is the stream's.
			if prev.lastIngest > sd.lastIngest {
				prev, sd = sd, prev
			}
			logger.Warn("log events: dropping an older incarnation's file", "path", prev.path, "kept", sd.path)
			if err := prev.close(true); err != nil {
				logger.Warn("log events: dropping an older incarnation's file", "path", prev.path, "err", err)
			}
		}
		es.streams[sd.key] = sd
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("log events: %w", err)
	}
	return es, nil
}

// frameInfo is a frame header's contents.
type frameInfo struct {
	kind       byte
	size       int64 // payload bytes
	crc        uint32
	ingest     int64
	seq        uint64
	count      int
	minT, maxT int64
	bytes      int64
}

func encodeFrame(fi frameInfo, payload []byte) []byte {
	le := binary.LittleEndian
	b := make([]byte, frameHeader, frameHeader+len(payload))
	copy(b, frameMagic)
	b[4] = fi.kind
	le.PutUint32(b[8:], uint32(len(payload)))
	le.PutUint32(b[12:], crc32.Checksum(payload, crcTable))
	le.PutUint64(b[16:], uint64(fi.ingest))
	le.PutUint64(b[24:], fi.seq)
	le.PutUint32(b[32:], uint32(fi.count))
	le.PutUint64(b[40:], uint64(fi.minT))
	le.PutUint64(b[48:], uint64(fi.maxT))
	le.PutUint64(b[56:], uint64(fi.bytes))
	le.PutUint32(b[64:], crc32.Checksum(b[:64], crcTable))
	return append(b, payload...)
}

func decodeFrameHeader(h []byte) (frameInfo, bool) {
	le := binary.LittleEndian
	if len(h) < frameHeader || string(h[:4]) != frameMagic || le.Uint32(h[64:]) != crc32.Checksum(h[:64], crcTable) {
		return frameInfo{}, false
	}
	fi := frameInfo{kind: h[4], size: int64(le.Uint32(h[8:])), crc: le.Uint32(h[12:]), ingest: int64(le.Uint64(h[16:])),
		seq: le.Uint64(h[24:]), count: int(le.Uint32(h[32:])), minT: int64(le.Uint64(h[40:])), maxT: int64(le.Uint64(h[48:])),
		bytes: int64(le.Uint64(h[56:]))}
	return fi, fi.size <= maxPayload
}

func encodeFileHeader(start int64) []byte {
	b := make([]byte, fileHeader)
	copy(b, fileMagic)
	binary.LittleEndian.PutUint64(b[8:], uint64(start))
	binary.LittleEndian.PutUint32(b[16:], crc32.Checksum(b[8:16], crcTable))
	return b
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

func encodeNames(k streamKey, gen uint64) []byte {
	var b []byte
	for _, s := range []string{k.Account, k.Region, k.Group, k.Stream} {
		b = appendString(b, s)
	}
	return binary.AppendUvarint(b, gen)
}

func decodeNames(b []byte) (streamKey, uint64, error) {
	var parts [4]string
	for i := range parts {
		var err error
		if parts[i], b, err = readString(b); err != nil {
			return streamKey{}, 0, err
		}
	}
	gen, k := binary.Uvarint(b)
	if k <= 0 {
		return streamKey{}, 0, errors.New("short stream names")
	}
	return streamKey{parts[0], parts[1], parts[2], parts[3]}, gen, nil
}

// batchFrame encodes a chronological batch whose sequence numbers start
// at seq.
func batchFrame(evs []event, seq uint64) ([]byte, batchRef) {
	var payload []byte
	ref := batchRef{minT: evs[0].Time, maxT: evs[len(evs)-1].Time, count: len(evs), ingest: evs[0].Ingest, seq: seq}
	for _, e := range evs {
		payload = binary.AppendVarint(payload, e.Time)
		payload = appendString(payload, e.Message)
		ref.bytes += int64(len(e.Message))
	}
	fr := encodeFrame(frameInfo{kind: kindBatch, ingest: ref.ingest, seq: seq, count: ref.count, minT: ref.minT, maxT: ref.maxT, bytes: ref.bytes}, payload)
	ref.size = int64(len(fr))
	return fr, ref
}

func decodeBatch(ref batchRef, payload []byte) ([]event, error) {
	return decodeEvents(payload, uint64(ref.count), ref.ingest, ref.seq)
}

// decodeEvents decodes n events (timestamp varint, message) of one batch.
func decodeEvents(b []byte, n uint64, ingest int64, seq uint64) ([]event, error) {
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

// readerAt is a stream file or its bytes in memory.
type readerAt interface {
	ReadAt(p []byte, off int64) (int, error)
}

// loadStream indexes a stream file from its frame headers, cutting a
// torn tail (a crash during an append that was never acknowledged) and
// skipping, with a warning, corrupt frames that good ones follow.
func loadStream(path string, logger *slog.Logger) (*streamData, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	var magic [len(fileMagic)]byte
	if _, err := f.ReadAt(magic[:], 0); err != nil || string(magic[:]) != fileMagic {
		f.Close()
		if err := convertV1(path); err != nil {
			return nil, fmt.Errorf("convert format 1: %w", err)
		}
		if f, err = os.OpenFile(path, os.O_RDWR, 0); err != nil {
			return nil, err
		}
	}
	sd, err := indexFile(path, f, logger)
	if err != nil {
		f.Close()
		return nil, err
	}
	return sd, nil
}

func indexFile(path string, f *os.File, logger *slog.Logger) (*streamData, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	fileSize := st.Size()
	hdr := make([]byte, fileHeader+frameHeader)
	if _, err := f.ReadAt(hdr, 0); err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	fi, ok := decodeFrameHeader(hdr[fileHeader:])
	if !ok || fi.kind != kindNames || fileHeader+frameHeader+fi.size > fileSize {
		return nil, errors.New("no stream names")
	}
	names := make([]byte, fi.size)
	if _, err := f.ReadAt(names, fileHeader+frameHeader); err != nil || crc32.Checksum(names, crcTable) != fi.crc {
		return nil, errors.New("corrupt stream names")
	}
	sd := &streamData{path: path, idx: batchIndex{sorted: true}}
	_ = sd.setFile(f) // replaces nothing: no error
	if sd.key, sd.gen, err = decodeNames(names); err != nil {
		return nil, err
	}
	sd.namesEnd = fileHeader + frameHeader + fi.size
	sd.start = sd.namesEnd
	// A torn write of the start offset fails its CRC: then the frames
	// from the names on are all read (expired ones are hidden by reads
	// and dropped again by the next sweep).
	if s := int64(binary.LittleEndian.Uint64(hdr[8:])); crc32.Checksum(hdr[8:16], crcTable) == binary.LittleEndian.Uint32(hdr[16:]) &&
		s >= sd.namesEnd && s <= fileSize {
		sd.start = s
	}
	off := sd.start
	h := make([]byte, frameHeader)
	for off < fileSize {
		fi, ok := frameAt(f, h, off, fileSize)
		if !ok {
			next := resync(f, off+1, fileSize)
			if next < 0 {
				break // a torn tail: cut below
			}
			logger.Warn("log events: skipping corrupt frames", "file", path, "offset", off, "resumed_at", next)
			off = next
			continue
		}
		sd.addRef(batchRef{off: off, size: frameHeader + fi.size, minT: fi.minT, maxT: fi.maxT, count: fi.count, bytes: fi.bytes, ingest: fi.ingest, seq: fi.seq})
		off += frameHeader + fi.size
	}
	if off < fileSize {
		if err := f.Truncate(off); err != nil {
			return nil, fmt.Errorf("truncate torn tail: %w", err)
		}
	}
	sd.size = off
	return sd, nil
}

// frameAt reads and checks the batch frame header at off. The file's
// last frame has its payload checked too: only it can be torn by a crash
// (every append is fsynced before the next), and a torn one must go.
func frameAt(f *os.File, h []byte, off, fileSize int64) (frameInfo, bool) {
	if n, _ := f.ReadAt(h, off); n < frameHeader {
		return frameInfo{}, false
	}
	fi, ok := decodeFrameHeader(h)
	if !ok || fi.kind != kindBatch || fi.count == 0 || off+frameHeader+fi.size > fileSize {
		return frameInfo{}, false
	}
	if off+frameHeader+fi.size == fileSize {
		payload := make([]byte, fi.size)
		if _, err := f.ReadAt(payload, off+frameHeader); err != nil || crc32.Checksum(payload, crcTable) != fi.crc {
			return frameInfo{}, false
		}
	}
	return fi, true
}

// resync finds the next frame at or after off whose header checks, or -1.
func resync(f *os.File, off, fileSize int64) int64 {
	const chunk = 64 << 10
	buf := make([]byte, chunk+len(frameMagic))
	h := make([]byte, frameHeader)
	for ; off < fileSize; off += chunk {
		n, _ := f.ReadAt(buf, off)
		for i := 0; i+len(frameMagic) <= n; {
			j := bytes.Index(buf[i:n], []byte(frameMagic))
			if j < 0 {
				break
			}
			at := off + int64(i+j)
			if _, ok := frameAt(f, h, at, fileSize); ok {
				return at
			}
			i += j + 1
		}
	}
	return -1
}

// addRef indexes a batch and folds it into the summary; sd.mu is held
// (or sd is not shared yet).
func (sd *streamData) addRef(ref batchRef) {
	sd.idx.add(ref)
	sd.nextSeq = max(sd.nextSeq, ref.seq+uint64(ref.count))
	if len(sd.idx.refs) == 1 || ref.minT < sd.first {
		sd.first = ref.minT
	}
	sd.last = max(sd.last, ref.maxT)
	sd.lastIngest = max(sd.lastIngest, ref.ingest)
	sd.stored += ref.bytes
}

// fileName is a stream's file: names may hold "/" and run to 512
// characters, so directories and files are named by hashes and the names
// frame keeps the names.
func (es *eventStore) groupDir(g groupKey) string {
	return filepath.Join(es.dir, hashName(g.Account+"\x00"+g.Region+"\x00"+g.Group))
}

func hashName(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:16])
}

// newFile is a stream file's first bytes: the file header and the names.
func newFile(key streamKey, gen uint64) []byte {
	names := encodeFrame(frameInfo{kind: kindNames}, encodeNames(key, gen))
	return append(encodeFileHeader(int64(fileHeader+len(names))), names...)
}

// stream returns key's data.
func (es *eventStore) stream(key streamKey) *streamData {
	es.mu.Lock()
	defer es.mu.Unlock()
	return es.streams[key]
}

// streamFor returns the data of stream key's incarnation gen, creating
// its file. Data of another incarnation (a put that raced the stream's
// deletion, then the stream was created again) is dropped first: it is
// not this stream's.
func (es *eventStore) streamFor(key streamKey, gen uint64) (*streamData, error) {
	es.mu.Lock()
	sd, stale := es.stream0(key, gen)
	es.mu.Unlock()
	if stale != nil {
		// Its file has its own name (incarnations never share one), and
		// closing waits for its readers: not under es.mu.
		if err := stale.close(true); err != nil {
			es.logger.Warn("log events: dropping a deleted incarnation", "stream", key.Stream, "err", err)
		}
	}
	if sd == nil {
		return nil, fmt.Errorf("log stream %s: cannot create its file", key.Stream)
	}
	return sd, nil
}

// stream0 is streamFor under es.mu: the data of incarnation gen, created
// if needed, and the data of another incarnation it replaced, if any.
func (es *eventStore) stream0(key streamKey, gen uint64) (sd, stale *streamData) {
	if sd, ok := es.streams[key]; ok {
		if sameIncarnation(sd.gen, gen) {
			return sd, nil
		}
		delete(es.streams, key)
		stale = sd
	}
	sd = &streamData{key: key, gen: gen, idx: batchIndex{sorted: true}, inMem: es.dir == ""}
	init := newFile(key, gen)
	if sd.inMem {
		sd.mem = init
	} else {
		dir := es.groupDir(key.group())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			es.logger.Warn("log events: create stream file", "stream", key.Stream, "err", err)
			return nil, stale
		}
		sd.path = filepath.Join(dir, fileName(key.Stream, gen))
		f, err := writeSynced(sd.path, init, os.O_TRUNC)
		if err != nil {
			es.logger.Warn("log events: create stream file", "stream", key.Stream, "err", err)
			return nil, stale
		}
		sd.setFile(f)
	}
	sd.size = int64(len(init))
	sd.namesEnd, sd.start = sd.size, sd.size
	es.streams[key] = sd
	return sd, stale
}

// fileName names an incarnation's file: two incarnations of a stream
// never share a file, so dropping one cannot touch the other's.
func fileName(stream string, gen uint64) string {
	if gen == 0 {
		return hashName(stream) + ".log"
	}
	return fmt.Sprintf("%s-%016x.log", hashName(stream), gen)
}

// sameIncarnation: data and record identities agree, or one is unknown
// (a format 1 file, a caller that does not say).
func sameIncarnation(a, b uint64) bool { return a == 0 || b == 0 || a == b }

// writeSynced creates path with data, fsynced with its directory, and
// returns it open for appends.
func writeSynced(path string, data []byte, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|flag, 0o644)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// append stores a chronological batch (ingestion time set by the caller)
// durably in incarnation gen of stream key and returns the events with
// their sequence numbers.
func (es *eventStore) append(key streamKey, gen uint64, batch []event) ([]event, error) {
	if len(batch) == 0 {
		return nil, nil
	}
	sd, err := es.streamFor(key, gen)
	if err != nil {
		return nil, err
	}
	sd.mu.Lock()
	defer sd.mu.Unlock()
	if sd.dropped || !sd.inMem && sd.f == nil {
		return nil, fmt.Errorf("log stream %s was deleted", key.Stream)
	}
	for i := range batch {
		batch[i].Seq = sd.nextSeq + uint64(i)
	}
	fr, ref := batchFrame(batch, sd.nextSeq)
	ref.off = sd.size
	if sd.inMem {
		// Readers hold sd.mem[:their size]: appending past it is safe.
		sd.mem = append(sd.mem, fr...)
	} else {
		_, err := sd.f.WriteAt(fr, sd.size)
		if err == nil {
			err = sd.f.Sync()
		}
		if err != nil {
			// Not acknowledged: cut what may have been written (also after
			// a failed fsync, or the next batch would land after bytes the
			// index does not know, and a restart would bring this one back).
			_ = sd.f.Truncate(sd.size)
			return nil, fmt.Errorf("append to log stream %s: %w", key.Stream, err)
		}
	}
	sd.addRef(ref)
	sd.size += ref.size
	return batch, nil
}

// errCorrupt is a batch whose payload fails its CRC.
var errCorrupt = errors.New("corrupt batch")

// readPayload reads and checks one batch's payload from r.
func readPayload(r readerAt, ref batchRef) ([]byte, error) {
	buf := make([]byte, ref.size)
	if _, err := r.ReadAt(buf, ref.off); err != nil {
		return nil, err
	}
	fi, ok := decodeFrameHeader(buf)
	if !ok || crc32.Checksum(buf[frameHeader:], crcTable) != fi.crc {
		return nil, fmt.Errorf("%w at offset %d", errCorrupt, ref.off)
	}
	return buf[frameHeader:], nil
}

type memReader []byte

func (m memReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(m)) {
		return 0, io.ErrUnexpectedEOF
	}
	return copy(p, m[off:]), nil
}

// streamSummary is what DescribeLogStreams reports of a stream's events.
type streamSummary struct {
	First, Last, LastIngest, Stored int64
	HasEvents                       bool
	NextSeq                         uint64
}

// summary is incarnation gen's (0: any).
func (es *eventStore) summary(key streamKey, gen uint64) streamSummary {
	sd := es.stream(key)
	if sd == nil || !sameIncarnation(sd.gen, gen) {
		return streamSummary{}
	}
	sd.mu.Lock()
	defer sd.mu.Unlock()
	return streamSummary{First: sd.first, Last: sd.last, LastIngest: sd.lastIngest, Stored: sd.stored, HasEvents: len(sd.idx.refs) > 0, NextSeq: sd.nextSeq}
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

// fileRef is a stream file as readers share it: closed when it is
// retired (replaced, or the stream closed) and no reader holds it.
type fileRef struct {
	f       *os.File
	mu      sync.Mutex
	readers int
	retired bool
}

func (r *fileRef) acquire() {
	r.mu.Lock()
	r.readers++
	r.mu.Unlock()
}

func (r *fileRef) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.readers--; r.readers == 0 && r.retired {
		_ = r.f.Close()
	}
}

// retire closes the file now or when its last reader is done.
func (r *fileRef) retire() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retired = true
	if r.readers == 0 {
		return r.f.Close()
	}
	return nil
}

// setFile makes f sd's file, retiring the one it replaces; sd.mu is held
// (or sd is not shared yet).
func (sd *streamData) setFile(f *os.File) error {
	old := sd.ref
	sd.f, sd.ref = f, nil
	if f != nil {
		sd.ref = &fileRef{f: f}
	}
	if old != nil {
		return old.retire()
	}
	return nil
}

// close closes sd's file (once its readers are done), removing it when
// remove is set; the data is gone for appends after that.
func (sd *streamData) close(remove bool) error {
	sd.mu.Lock()
	defer sd.mu.Unlock()
	var errs []error
	if remove {
		sd.dropped = true
		sd.idx, sd.mem = batchIndex{sorted: true}, nil
		if sd.f != nil {
			if err := os.Remove(sd.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	errs = append(errs, sd.setFile(nil))
	return errors.Join(errs...)
}

// drop deletes the streams keep selects, files and all.
func (es *eventStore) drop(keep func(streamKey, *streamData) bool) error {
	es.mu.Lock()
	var gone []*streamData
	for k, sd := range es.streams {
		if keep(k, sd) {
			gone = append(gone, sd)
			delete(es.streams, k)
		}
	}
	es.mu.Unlock()
	var errs []error
	for _, sd := range gone {
		errs = append(errs, sd.close(true))
	}
	return errors.Join(errs...)
}

func (es *eventStore) dropStream(key streamKey) error {
	return es.drop(func(k streamKey, _ *streamData) bool { return k == key })
}

// dropIfSame deletes stream key's data if it still is sd: the sweep
// decided on sd, and a stream created again since has other data.
func (es *eventStore) dropIfSame(key streamKey, sd *streamData) error {
	return es.drop(func(k streamKey, cur *streamData) bool { return k == key && cur == sd })
}

func (es *eventStore) dropGroup(g groupKey) error {
	if err := es.drop(func(k streamKey, _ *streamData) bool { return k.group() == g }); err != nil {
		return err
	}
	if es.dir != "" {
		_ = os.Remove(es.groupDir(g)) // empty now; a leftover is harmless
	}
	return nil
}

// expire drops the batches of sd whose events are all older than cutoff
// (ms) and returns how many events went. Nothing expired: nothing is
// written. The expired batches lead the file (time moves on): the file
// header's start offset moves past them, one small write; the dead head
// is reclaimed by a copy only once it outweighs the live part. Else the
// live frames are copied, as they are, to a new file (temp, fsync,
// rename). A batch with a live event stays whole: reads hide the rest.
func (sd *streamData) expire(cutoff int64) (int, error) {
	sd.mu.Lock()
	defer sd.mu.Unlock()
	var kept []batchRef
	dropped, live := 0, int64(0)
	onlyHead := true // the expired batches all come before the live ones
	for _, r := range sd.idx.refs {
		if r.maxT < cutoff {
			dropped += r.count
			onlyHead = onlyHead && len(kept) == 0
		} else {
			kept = append(kept, r)
			live += r.size
		}
	}
	if dropped == 0 {
		return 0, nil
	}
	newStart := sd.size
	if len(kept) > 0 {
		newStart = kept[0].off
	}
	var err error
	if onlyHead && newStart-sd.namesEnd <= max(live, 1<<20) {
		if err = sd.setStart(newStart); err == nil {
			sd.reindex(kept)
		}
	} else {
		err = sd.rewrite(kept)
	}
	if err != nil {
		return 0, fmt.Errorf("expire log stream %s: %w", sd.key.Stream, err)
	}
	return dropped, nil
}

// setStart records the first live frame in the file header.
func (sd *streamData) setStart(off int64) error {
	h := encodeFileHeader(off)
	if sd.inMem {
		sd.start = off
		return nil
	}
	if _, err := sd.f.WriteAt(h[8:], 8); err != nil {
		return err
	}
	if err := sd.f.Sync(); err != nil {
		return err
	}
	sd.start = off
	return nil
}

// rewrite replaces sd's file with the names and the kept frames, copied
// as they are, and indexes them at their new places; sd.mu is held.
func (sd *streamData) rewrite(kept []batchRef) error {
	var src readerAt = memReader(sd.mem)
	if !sd.inMem {
		src = sd.f
	}
	names := make([]byte, sd.namesEnd-fileHeader)
	if _, err := src.ReadAt(names, fileHeader); err != nil {
		return err
	}
	out := append(encodeFileHeader(sd.namesEnd), names...)
	moved := make([]batchRef, len(kept))
	for i, r := range kept {
		fr := make([]byte, r.size)
		if _, err := src.ReadAt(fr, r.off); err != nil {
			return err
		}
		r.off = int64(len(out))
		moved[i] = r
		out = append(out, fr...)
	}
	if sd.inMem {
		sd.mem = out
	} else {
		tmp := sd.path + ".tmp"
		f, err := writeSynced(tmp, out, os.O_TRUNC)
		if err != nil {
			_ = os.Remove(tmp)
			return err
		}
		if err := os.Rename(tmp, sd.path); err != nil {
			f.Close()
			_ = os.Remove(tmp)
			return err
		}
		_ = syncDir(filepath.Dir(sd.path))
		// Readers still decoding from the old file go on with it.
		if err := sd.setFile(f); err != nil {
			return err
		}
	}
	sd.size, sd.start = int64(len(out)), sd.namesEnd
	sd.reindex(moved)
	return nil
}

// reindex makes refs the index, in new slices, and recomputes the
// summary; the sequence numbers go on from where they were.
func (sd *streamData) reindex(refs []batchRef) {
	nextSeq, lastIngest := sd.nextSeq, sd.lastIngest
	sd.idx = batchIndex{sorted: true}
	sd.first, sd.last, sd.stored = 0, 0, 0
	for _, r := range refs {
		sd.addRef(r)
	}
	sd.nextSeq, sd.lastIngest = max(sd.nextSeq, nextSeq), max(sd.lastIngest, lastIngest)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// list is every stream's data, for the sweep.
func (es *eventStore) list() map[streamKey]*streamData {
	es.mu.Lock()
	defer es.mu.Unlock()
	out := make(map[streamKey]*streamData, len(es.streams))
	for k, sd := range es.streams {
		out[k] = sd
	}
	return out
}

// reset deletes every event.
func (es *eventStore) reset(context.Context) error {
	return es.drop(func(streamKey, *streamData) bool { return true })
}

func (es *eventStore) close() error {
	es.mu.Lock()
	defer es.mu.Unlock()
	var errs []error
	for _, sd := range es.streams {
		errs = append(errs, sd.close(false))
	}
	return errors.Join(errs...)
}
