package logs

import (
	"container/heap"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"sync/atomic"
)

// A cursor reads a stream's events in time order (then acceptance
// order), forward or backward from a position, merging only the batches
// it reaches: a page costs its own events, the batches it straddles and
// a binary search of the index, not the stream's size. It decodes from a
// snapshot of the index without the stream's lock, so appends go on
// meanwhile (they only add past the snapshot) and a rewrite replaces the
// file without waiting for it; Close releases the file it read.

// batchesDecoded counts batch decodes, for tests of what a read costs.
var batchesDecoded atomic.Int64

type cursor struct {
	logger   *slog.Logger
	sd       *streamData
	ref      *fileRef // the file read, held until Close
	src      readerAt
	idx      batchIndex
	forward  bool
	from, to int64    // event times read: [from, to)
	at       position // forward: events ≥ at; backward: events < at
	next     int      // the next batch to open, in byMin (forward) or byMax (backward) order
	open     openHeap
	err      error
	done     bool
	closed   bool
}

// openBatch is a decoded batch the cursor is inside.
type openBatch struct {
	evs []event
	i   int
}

type openHeap struct {
	b       []*openBatch
	forward bool
}

func (h openHeap) Len() int { return len(h.b) }
func (h openHeap) Less(i, j int) bool {
	c := posOf(h.b[i].evs[h.b[i].i]).compare(posOf(h.b[j].evs[h.b[j].i]))
	if h.forward {
		return c < 0
	}
	return c > 0
}
func (h openHeap) Swap(i, j int) { h.b[i], h.b[j] = h.b[j], h.b[i] }
func (h *openHeap) Push(x any)   { h.b = append(h.b, x.(*openBatch)) }
func (h *openHeap) Pop() any {
	x := h.b[len(h.b)-1]
	h.b = h.b[:len(h.b)-1]
	return x
}

// cursor opens a read of stream key's incarnation gen (0: any) over event
// times [from, to): forward from at (inclusive), or backward from before
// at. It is never nil; Close it.
func (es *eventStore) cursor(key streamKey, gen uint64, from, to int64, at position, forward bool) *cursor {
	c := &cursor{logger: es.logger, from: from, to: to, at: at, forward: forward, open: openHeap{forward: forward}, done: true}
	sd := es.stream(key)
	if sd == nil {
		return c
	}
	sd.mu.Lock()
	defer sd.mu.Unlock()
	if !sameIncarnation(sd.gen, gen) {
		return c
	}
	if !sd.inMem && sd.ref == nil {
		return c // closed
	}
	sd.idx.sort()
	c.sd, c.idx, c.done = sd, sd.idx, false
	if sd.inMem {
		c.src = memReader(sd.mem[:sd.size])
	} else {
		c.ref = sd.ref
		c.ref.acquire()
		c.src = c.ref.f
	}
	n := len(c.idx.refs)
	if forward {
		lo := max(from, at.Time)
		c.next = sort.Search(n, func(i int) bool { return c.idx.prefMax[i] >= lo })
	} else {
		hi := min(to-1, at.Time)
		c.next = sort.Search(n, func(i int) bool { return c.idx.sufMin[i] > hi }) - 1
	}
	return c
}

// Close releases the stream's file.
func (c *cursor) Close() {
	if c.ref != nil && !c.closed {
		c.closed = true
		c.ref.release()
	}
}

// fill opens every batch that may hold the next event: forward, those
// starting no later than the earliest open event; backward, those ending
// no earlier than the latest.
func (c *cursor) fill() {
	for c.err == nil {
		var ref batchRef
		if c.forward {
			if c.next >= len(c.idx.byMin) {
				return
			}
			ref = c.idx.refs[c.idx.byMin[c.next]]
			if c.open.Len() > 0 && ref.minT > c.top().Time {
				return
			}
			c.next++
			if ref.maxT < max(c.from, c.at.Time) || ref.minT >= c.to {
				continue
			}
		} else {
			if c.next < 0 {
				return
			}
			ref = c.idx.refs[c.idx.byMax[c.next]]
			if c.open.Len() > 0 && ref.maxT < c.top().Time {
				return
			}
			c.next--
			if ref.minT > min(c.to-1, c.at.Time) || ref.maxT < c.from {
				continue
			}
		}
		c.openBatch(ref)
	}
}

func (c *cursor) top() event {
	b := c.open.b[0]
	return b.evs[b.i]
}

func (c *cursor) openBatch(ref batchRef) {
	payload, err := readPayload(c.src, ref)
	var evs []event
	if err == nil {
		evs, err = decodeBatch(ref, payload)
	}
	if errors.Is(err, errCorrupt) {
		// Its header held (it is indexed) but its events are damaged: the
		// others are still good, so the read goes on without them.
		c.logger.Warn("log events: skipping a corrupt batch", "file", c.sd.path, "offset", ref.off, "stream", c.sd.key.Stream)
		return
	}
	if err != nil {
		c.err = fmt.Errorf("read log stream %s: %w", c.sd.key.Stream, err)
		return
	}
	batchesDecoded.Add(1)
	cmpAt := func(e event, p position) int { return posOf(e).compare(p) }
	if c.forward {
		lo := c.at
		if fromPos := (position{Time: c.from}); fromPos.compare(lo) > 0 {
			lo = fromPos
		}
		i := sort.Search(len(evs), func(i int) bool { return cmpAt(evs[i], lo) >= 0 })
		if i < len(evs) {
			heap.Push(&c.open, &openBatch{evs: evs, i: i})
		}
		return
	}
	hi := c.at
	if toPos := (position{Time: c.to}); toPos.compare(hi) < 0 {
		hi = toPos
	}
	i := sort.Search(len(evs), func(i int) bool { return cmpAt(evs[i], hi) >= 0 }) - 1
	if i >= 0 {
		heap.Push(&c.open, &openBatch{evs: evs, i: i})
	}
}

// Next returns the next event, or false at the end (or on an error: Err).
func (c *cursor) Next() (event, bool) {
	if c.done || c.err != nil {
		return event{}, false
	}
	c.fill()
	if c.err != nil || c.open.Len() == 0 {
		c.done = true
		return event{}, false
	}
	e := c.top()
	if c.forward && e.Time >= c.to || !c.forward && e.Time < c.from {
		c.done = true
		return event{}, false
	}
	b := c.open.b[0]
	if c.forward {
		b.i++
	} else {
		b.i--
	}
	if b.i < 0 || b.i >= len(b.evs) {
		heap.Pop(&c.open)
	} else {
		heap.Fix(&c.open, 0)
	}
	return e, true
}

// Err is the error that ended the read, if any.
func (c *cursor) Err() error { return c.err }

// events returns the stream's events with from ≤ Time < to, in time order
// (then acceptance order).
func (es *eventStore) events(key streamKey, from, to int64) ([]event, error) {
	c := es.cursor(key, 0, from, to, position{Time: math.MinInt64}, true)
	defer c.Close()
	var out []event
	for e, ok := c.Next(); ok; e, ok = c.Next() {
		out = append(out, e)
	}
	return out, c.Err()
}
