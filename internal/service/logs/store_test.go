package logs

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/api/logsapi"
	"github.com/minicloud/minicloud/internal/state"
)

var testKey = streamKey{"000000000000", "us-east-1", "g", "s"}

// TestCursorMatchesSort: a cursor, forward or backward from any position
// over any range, answers what sorting every event would — with batches
// out of time order, overlapping and sharing timestamps, on disk and in
// memory.
func TestCursorMatchesSort(t *testing.T) {
	for _, dir := range []string{"", t.TempDir()} {
		es, err := openEventStore(dir, slogDiscard())
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		var all []event
		for b := range 60 {
			base := int64(b * 10)
			if b%7 == 3 {
				base = int64(rng.IntN(600)) // late arrivals
			}
			n := 1 + rng.IntN(8)
			batch := make([]event, n)
			t0 := base
			for i := range batch {
				t0 += int64(rng.IntN(3))
				batch[i] = event{Time: t0, Message: fmt.Sprint(b, ".", i)}
			}
			got, err := es.append(testKey, 0, batch)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, slices.Clone(got)...)
		}
		slices.SortFunc(all, func(a, b event) int { return posOf(a).compare(posOf(b)) })
		for range 300 {
			from, to := int64(rng.IntN(700))-50, int64(rng.IntN(700))
			at := position{Time: int64(rng.IntN(700)) - 50, Seq: uint64(rng.IntN(len(all) + 2))}
			forward := rng.IntN(2) == 0
			var want []string
			for _, e := range all {
				if e.Time >= from && e.Time < to && (forward && posOf(e).compare(at) >= 0 || !forward && posOf(e).compare(at) < 0) {
					want = append(want, e.Message)
				}
			}
			if !forward {
				slices.Reverse(want)
			}
			c := es.cursor(testKey, 0, from, to, at, forward)
			var got []string
			for e, ok := c.Next(); ok; e, ok = c.Next() {
				got = append(got, e.Message)
			}
			c.Close()
			if c.Err() != nil || !slices.Equal(got, want) {
				t.Fatalf("dir %q: [%d,%d) from %+v forward %v:\ngot  %v\nwant %v (%v)", dir, from, to, at, forward, got, want, c.Err())
			}
		}
		es.close()
	}
}

// TestPageCost: paging through a stream decodes about each page's own
// batches, not the stream up to the page (O(N) a page, O(N²) in all,
// before the cursor).
func TestPageCost(t *testing.T) {
	s := newService(t, "", nil)
	ctx := reqCtx()
	if _, err := s.CreateLogGroup(ctx, &logsapi.CreateLogGroupRequest{LogGroupName: ptr("g")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateLogStream(ctx, &logsapi.CreateLogStreamRequest{LogGroupName: ptr("g"), LogStreamName: ptr("s")}); err != nil {
		t.Fatal(err)
	}
	const batches, per = 200, 50
	at := time.Now().Add(-time.Hour).UnixMilli()
	for b := range batches {
		in := &logsapi.PutLogEventsRequest{LogGroupName: ptr("g"), LogStreamName: ptr("s")}
		for i := range per {
			in.LogEvents = append(in.LogEvents, logsapi.InputLogEvent{Timestamp: ptr(at + int64(b*per+i)), Message: ptr("m")})
		}
		if _, err := s.PutLogEvents(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name string
		head bool
	}{{"forward", true}, {"backward", false}} {
		req := &logsapi.GetLogEventsRequest{LogGroupName: ptr("g"), LogStreamName: ptr("s"), StartFromHead: ptr(tt.head), Limit: ptr(int32(per))}
		seen, pages := 0, 0
		before := batchesDecoded.Load()
		for {
			out, err := s.GetLogEvents(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Events) == 0 {
				break
			}
			seen += len(out.Events)
			pages++
			req.NextToken = out.NextForwardToken
			if !tt.head {
				req.NextToken = out.NextBackwardToken
			}
		}
		decoded := batchesDecoded.Load() - before
		if seen != batches*per {
			t.Fatalf("%s: read %d events", tt.name, seen)
		}
		// A page of one batch's size straddles at most two batches.
		if decoded > int64(2*pages+2) {
			t.Errorf("%s: %d batches decoded for %d pages", tt.name, decoded, pages)
		}
	}
	before := batchesDecoded.Load()
	out, err := s.FilterLogEvents(ctx, &logsapi.FilterLogEventsRequest{LogGroupName: ptr("g"), Limit: ptr(int32(10))})
	if err != nil || len(out.Events) != 10 || out.NextToken == nil {
		t.Fatalf("filter: %+v, %v", out, err)
	}
	if d := batchesDecoded.Load() - before; d > 2 {
		t.Errorf("filter: %d batches decoded for a page of 10", d)
	}
}

// BenchmarkGetLogEventsPaging reads a 100,000-event stream in pages of
// 100: each page costs about its own size.
func BenchmarkGetLogEventsPaging(b *testing.B) {
	s, err := New(Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Stop(context.Background())
	ctx := reqCtx()
	_, _ = s.CreateLogGroup(ctx, &logsapi.CreateLogGroupRequest{LogGroupName: ptr("g")})
	_, _ = s.CreateLogStream(ctx, &logsapi.CreateLogStreamRequest{LogGroupName: ptr("g"), LogStreamName: ptr("s")})
	at := time.Now().Add(-time.Hour).UnixMilli()
	for bt := range 1000 {
		in := &logsapi.PutLogEventsRequest{LogGroupName: ptr("g"), LogStreamName: ptr("s")}
		for i := range 100 {
			in.LogEvents = append(in.LogEvents, logsapi.InputLogEvent{Timestamp: ptr(at + int64(bt*100+i)), Message: ptr(strings.Repeat("x", 100))})
		}
		if _, err := s.PutLogEvents(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		req := &logsapi.GetLogEventsRequest{LogGroupName: ptr("g"), LogStreamName: ptr("s"), StartFromHead: ptr(true), Limit: ptr(int32(100))}
		n := 0
		for {
			out, err := s.GetLogEvents(ctx, req)
			if err != nil {
				b.Fatal(err)
			}
			if len(out.Events) == 0 {
				break
			}
			n += len(out.Events)
			req.NextToken = out.NextForwardToken
		}
		if n != 100000 {
			b.Fatalf("%d events", n)
		}
	}
}

// fileID is a file's identity, to tell a rewrite from an in-place write.
func fileID(t *testing.T, path string) os.FileInfo {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

func messagesOf(t *testing.T, es *eventStore) []string {
	t.Helper()
	evs, err := es.events(testKey, math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.Message)
	}
	return out
}

// TestExpireCost: the sweep writes nothing when nothing expired, moves the
// start offset (no rewrite) when the expired batches lead the file — also
// across a restart — and copies only when they do not.
func TestExpireCost(t *testing.T) {
	dir := t.TempDir()
	es, err := openEventStore(dir, slogDiscard())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]event{{{Time: 10, Message: "a"}, {Time: 11, Message: "b"}}, {{Time: 20, Message: "c"}}, {{Time: 30, Message: "d"}}, {{Time: 26, Message: "late"}}, {{Time: 40, Message: "e"}}} {
		if _, err := es.append(testKey, 0, b); err != nil {
			t.Fatal(err)
		}
	}
	sd := es.stream(testKey)
	path := sd.path
	before := fileID(t, path)
	if n, err := sd.expire(1); err != nil || n != 0 {
		t.Fatalf("expire(1): %d, %v", n, err)
	}
	if after := fileID(t, path); !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
		t.Error("nothing expired, yet the file was written")
	}
	// 10..11 and 20 lead the file: the start moves, same file, same size.
	if n, err := sd.expire(25); err != nil || n != 3 {
		t.Fatalf("expire(25): %d, %v", n, err)
	}
	if after := fileID(t, path); !os.SameFile(before, after) || after.Size() != before.Size() {
		t.Error("a head expiry rewrote the file")
	}
	if got := strings.Join(messagesOf(t, es), ","); got != "late,d,e" {
		t.Fatalf("after the head expiry: %s", got)
	}
	es.close()
	if es, err = openEventStore(dir, slogDiscard()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(messagesOf(t, es), ","); got != "late,d,e" {
		t.Fatalf("after a restart: %s", got)
	}
	// "late" is not at the head: the live frames are copied.
	sd = es.stream(testKey)
	if n, err := sd.expire(28); err != nil || n != 1 {
		t.Fatalf("expire(28): %d, %v", n, err)
	}
	if after := fileID(t, path); os.SameFile(before, after) || after.Size() >= before.Size() {
		t.Error("a middle expiry did not rewrite the file smaller")
	}
	if _, err := es.append(testKey, 0, []event{{Time: 50, Message: "f"}}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(messagesOf(t, es), ","); got != "d,e,f" {
		t.Fatalf("after the rewrite: %s", got)
	}
	if s := es.summary(testKey, 0); s.First != 30 || s.Last != 50 || s.NextSeq != 7 {
		t.Fatalf("summary %+v", s)
	}
	es.close()
}

// TestOpenReadsHeaders: opening indexes a file from its frame headers,
// without reading the payloads; a payload that fails its CRC is skipped
// when read, with a warning.
func TestOpenReadsHeaders(t *testing.T) {
	dir := t.TempDir()
	es, err := openEventStore(dir, slogDiscard())
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 100<<10)
	for i := range 3 {
		if _, err := es.append(testKey, 0, []event{{Time: int64(i), Message: big}}); err != nil {
			t.Fatal(err)
		}
	}
	path := es.stream(testKey).path
	refs := es.stream(testKey).idx.refs
	es.close()
	// Spoil the middle batch's payload, not its header: opening does not
	// read payloads, so it still indexes the batch; reading it fails.
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("y"), refs[1].off+frameHeader+1000); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var logged bytes.Buffer
	es, err = openEventStore(dir, slog.New(slog.NewTextHandler(&logged, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer es.close()
	if s := es.summary(testKey, 0); s.Stored != 3*int64(len(big)) || len(es.stream(testKey).idx.refs) != 3 {
		t.Fatalf("summary %+v", s)
	}
	// Reading it skips it, saying so; the others read.
	if evs, err := es.events(testKey, 0, 3); err != nil || len(evs) != 2 || evs[0].Time != 0 || evs[1].Time != 2 {
		t.Fatalf("reading past the spoilt batch: %d events, %v", len(evs), err)
	}
	if !strings.Contains(logged.String(), "corrupt batch") || !strings.Contains(logged.String(), fmt.Sprintf("offset=%d", refs[1].off)) {
		t.Errorf("log %q", logged.String())
	}
}

// BenchmarkOpen opens a store of 1,000 batches of 100 KB: headers only.
func BenchmarkOpen(b *testing.B) {
	dir := b.TempDir()
	es, err := openEventStore(dir, slogDiscard())
	if err != nil {
		b.Fatal(err)
	}
	big := strings.Repeat("x", 100<<10)
	for i := range 1000 {
		if _, err := es.append(testKey, 0, []event{{Time: int64(i), Message: big}}); err != nil {
			b.Fatal(err)
		}
	}
	es.close()
	b.ResetTimer()
	for range b.N {
		es, err := openEventStore(dir, slogDiscard())
		if err != nil {
			b.Fatal(err)
		}
		es.close()
	}
}

// TestCorruptMiddle: a corrupt frame header with good frames after it is
// skipped with a warning naming the file and the offset, and the good
// frames stay; a leftover .tmp of an interrupted sweep is removed.
func TestCorruptMiddle(t *testing.T) {
	dir := t.TempDir()
	es, err := openEventStore(dir, slogDiscard())
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range []string{"a", "b", "c", "d"} {
		if _, err := es.append(testKey, 0, []event{{Time: int64(i), Message: m}}); err != nil {
			t.Fatal(err)
		}
	}
	sd := es.stream(testKey)
	path, bad := sd.path, sd.idx.refs[1].off
	es.close()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("garbage!"), bad+20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte("half a rewrite"), 0o644); err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	es, err = openEventStore(dir, slog.New(slog.NewTextHandler(&logged, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer es.close()
	if got := strings.Join(messagesOf(t, es), ","); got != "a,c,d" {
		t.Fatalf("events %s", got)
	}
	if !strings.Contains(logged.String(), "corrupt") || !strings.Contains(logged.String(), path) || !strings.Contains(logged.String(), fmt.Sprintf("offset=%d", bad)) {
		t.Errorf("log %q", logged.String())
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("the .tmp leftover: %v", err)
	}
	if _, err := es.append(testKey, 0, []event{{Time: 9, Message: "e"}}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(messagesOf(t, es), ","); got != "a,c,d,e" {
		t.Fatalf("events after an append %s", got)
	}
}

// TestFormat1: a format 1 file (before frame headers held the summary)
// is converted when opened, its events and sequence numbers kept.
func TestFormat1(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x", "s.log")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	v1Frame := func(p []byte) []byte {
		var h [8]byte
		putU32 := func(b []byte, v uint32) { b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24) }
		putU32(h[:4], uint32(len(p)))
		putU32(h[4:], crc32c(p))
		return append(h[:], p...)
	}
	hdr := []byte{'H'}
	for _, s := range []string{testKey.Account, testKey.Region, testKey.Group, testKey.Stream} {
		hdr = appendString(hdr, s)
	}
	batch := func(ingest int64, seq uint64, evs ...event) []byte {
		b := []byte{'B'}
		b = appendVarint(b, ingest)
		b = appendUvarint(b, seq)
		b = appendUvarint(b, uint64(len(evs)))
		for _, e := range evs {
			b = appendVarint(b, e.Time)
			b = appendString(b, e.Message)
		}
		return b
	}
	data := v1Frame(hdr)
	data = append(data, v1Frame(batch(100, 0, event{Time: 1, Message: "a"}, event{Time: 2, Message: "b"}))...)
	data = append(data, v1Frame(batch(200, 2, event{Time: 3, Message: "c"}))...)
	data = append(data, v1Frame(batch(300, 3, event{Time: 4, Message: "torn"}))[:9]...)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	es, err := openEventStore(dir, slogDiscard())
	if err != nil {
		t.Fatal(err)
	}
	defer es.close()
	evs, err := es.events(testKey, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(evs); got != "[{1 100 0 a} {2 100 1 b} {3 200 2 c}]" {
		t.Fatalf("events %s", got)
	}
	if s := es.summary(testKey, 0); s.NextSeq != 3 || s.LastIngest != 200 {
		t.Fatalf("summary %+v", s)
	}
	if head, _ := os.ReadFile(path); !bytes.HasPrefix(head, []byte(fileMagic)) {
		t.Error("not converted to format 2")
	}
}

// TestSweepIncarnation: the sweep's decision holds for the data it
// listed. A put that raced the stream's deletion left orphan events; the
// sweep listed them; the stream was then created again and written to
// before the sweep acted: the new stream's events stay, the orphans go.
func TestSweepIncarnation(t *testing.T) {
	clk := &movingClock{t: time.Now()}
	s, err := New(Config{Dir: t.TempDir(), State: state.NewMemory(), Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	ctx := reqCtx()
	if _, err := s.CreateLogGroup(ctx, &logsapi.CreateLogGroupRequest{LogGroupName: ptr("g")}); err != nil {
		t.Fatal(err)
	}
	create := func() {
		if _, err := s.CreateLogStream(ctx, &logsapi.CreateLogStreamRequest{LogGroupName: ptr("g"), LogStreamName: ptr("s")}); err != nil {
			t.Fatal(err)
		}
	}
	put := func(msg string) {
		if _, err := s.PutLogEvents(ctx, &logsapi.PutLogEventsRequest{LogGroupName: ptr("g"), LogStreamName: ptr("s"),
			LogEvents: []logsapi.InputLogEvent{{Timestamp: ptr(clk.now().UnixMilli()), Message: ptr(msg)}}}); err != nil {
			t.Fatal(err)
		}
	}
	create()
	put("old")
	gen := s.events.stream(testKey).gen
	if _, err := s.DeleteLogStream(ctx, &logsapi.DeleteLogStreamRequest{LogGroupName: ptr("g"), LogStreamName: ptr("s")}); err != nil {
		t.Fatal(err)
	}
	// The racing put lands after the delete dropped the file.
	if _, err := s.events.append(testKey, gen, []event{{Time: clk.now().UnixMilli(), Message: "orphan"}}); err != nil {
		t.Fatal(err)
	}
	listed := s.events.list()
	create()
	put("new")
	if err := s.expire(ctx, listed); err != nil {
		t.Fatal(err)
	}
	out, err := s.GetLogEvents(ctx, &logsapi.GetLogEventsRequest{LogGroupName: ptr("g"), LogStreamName: ptr("s"), StartFromHead: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range out.Events {
		got = append(got, *e.Message)
	}
	if !slices.Equal(got, []string{"new"}) {
		t.Fatalf("events %v", got)
	}
	// A sweep over the current listing keeps them too.
	if err := s.Expire(ctx); err != nil {
		t.Fatal(err)
	}
	if evs, _ := s.events.events(testKey, math.MinInt64, math.MaxInt64); len(evs) != 1 {
		t.Fatalf("after a second sweep: %v", evs)
	}
}

func crc32c(p []byte) uint32 { return crc32.Checksum(p, crcTable) }

func appendVarint(b []byte, v int64) []byte   { return binary.AppendVarint(b, v) }
func appendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

// TestReadWhileAppending: cursors decode from their snapshot while
// appends, a head expiry and a rewrite go on (run with -race).
func TestReadWhileAppending(t *testing.T) {
	for _, dir := range []string{"", t.TempDir()} {
		es, err := openEventStore(dir, slogDiscard())
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := range 300 {
				if _, err := es.append(testKey, 0, []event{{Time: int64(i), Message: "m"}, {Time: int64(i), Message: "n"}}); err != nil {
					t.Error(err)
					return
				}
				if i%50 == 45 { // a late batch amid live ones: its expiry is a rewrite
					if _, err := es.append(testKey, 0, []event{{Time: int64(i - 35), Message: "late"}}); err != nil {
						t.Error(err)
						return
					}
				}
				if i%50 == 49 {
					if _, err := es.stream(testKey).expire(int64(i - 20)); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
		for range 200 {
			c := es.cursor(testKey, 0, math.MinInt64, math.MaxInt64, position{Time: math.MinInt64}, true)
			prev := position{Time: math.MinInt64}
			for e, ok := c.Next(); ok; e, ok = c.Next() {
				if posOf(e).compare(prev) <= 0 {
					t.Fatalf("out of order: %+v after %+v", e, prev)
				}
				prev = posOf(e)
			}
			c.Close()
			if c.Err() != nil {
				t.Fatal(c.Err())
			}
		}
		<-done
		es.close()
	}
}
