package state

import (
	"strings"
	"sync"
)

const (
	// subChanBuffer is the channel capacity handed to subscribers; the real
	// backlog lives in subscriber.pending, where it can be coalesced.
	subChanBuffer = 16
	// maxPending bounds a subscriber's coalesced backlog (distinct keys).
	// Beyond it the backlog collapses into one Resync event, so a stuck
	// consumer costs O(maxPending) memory, never blocks a writer.
	maxPending = 4096
)

// changeSet records the keys a transaction touched, last write wins, so one
// Event per key is published after commit.
type changeSet struct {
	order []string
	last  map[string]bool // key -> deleted
}

func (c *changeSet) record(key string, deleted bool) {
	if c.last == nil {
		c.last = map[string]bool{}
	}
	if _, ok := c.last[key]; !ok {
		c.order = append(c.order, key)
	}
	c.last[key] = deleted
}

func (c *changeSet) events() []Event {
	evs := make([]Event, 0, len(c.order))
	for _, k := range c.order {
		evs = append(evs, Event{Key: k, Deleted: c.last[k]})
	}
	return evs
}

// hub fans committed events out to subscribers without ever blocking the
// publisher: each subscriber has its own coalescing backlog drained by its
// own goroutine.
type hub struct {
	mu     sync.Mutex
	subs   map[*subscriber]struct{}
	closed bool
}

type subscriber struct {
	prefix string
	out    chan Event
	wake   chan struct{} // capacity 1: "backlog is non-empty"
	done   chan struct{} // closed to stop run
	exited chan struct{} // closed when run has returned
	once   sync.Once

	mu      sync.Mutex
	pending []Event
	index   map[string]int // key -> position in pending
	resync  bool           // pending holds a Resync; drop per-key events
}

func (h *hub) subscribe(prefix string) (<-chan Event, func()) {
	s := &subscriber{
		prefix: prefix,
		out:    make(chan Event, subChanBuffer),
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
		index:  map[string]int{},
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		close(s.out)
		return s.out, func() {}
	}
	if h.subs == nil {
		h.subs = map[*subscriber]struct{}{}
	}
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	go s.run()
	return s.out, func() {
		h.mu.Lock()
		delete(h.subs, s)
		h.mu.Unlock()
		s.stop()
	}
}

// publish hands committed events to every interested subscriber.
func (h *hub) publish(evs []Event) {
	if len(evs) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		s.enqueue(evs)
	}
}

// close stops every subscriber and closes their channels.
func (h *hub) close() {
	h.mu.Lock()
	subs := h.subs
	h.subs = nil
	h.closed = true
	h.mu.Unlock()
	for s := range subs {
		s.stop()
	}
}

func (s *subscriber) enqueue(evs []Event) {
	s.mu.Lock()
	added := false
	for _, ev := range evs {
		switch {
		case ev.Reset:
			// Everything before a reset is moot.
			s.pending = append(s.pending[:0], ev)
			s.index = map[string]int{}
			s.resync = false
			added = true
			continue
		case !strings.HasPrefix(ev.Key, s.prefix):
			continue
		case s.resync:
			continue // the pending Resync already covers this key
		}
		added = true
		if i, ok := s.index[ev.Key]; ok {
			s.pending[i] = ev // coalesce: latest state wins
			continue
		}
		if len(s.pending) >= maxPending {
			wasReset := len(s.pending) > 0 && s.pending[0].Reset
			s.pending = append(s.pending[:0], Event{Reset: wasReset, Resync: true})
			s.index = map[string]int{}
			s.resync = true
			continue
		}
		s.index[ev.Key] = len(s.pending)
		s.pending = append(s.pending, ev)
	}
	s.mu.Unlock()
	if added {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

func (s *subscriber) run() {
	defer close(s.exited)
	for {
		select {
		case <-s.done:
			return
		case <-s.wake:
		}
		s.mu.Lock()
		batch := s.pending
		s.pending = nil
		s.index = map[string]int{}
		s.resync = false
		s.mu.Unlock()
		for _, ev := range batch {
			select {
			case s.out <- ev:
			case <-s.done:
				return
			}
		}
	}
}

func (s *subscriber) stop() {
	s.once.Do(func() {
		close(s.done)
		<-s.exited
		close(s.out)
	})
}
