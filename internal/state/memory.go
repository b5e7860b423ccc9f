package state

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// memStore is the --ephemeral backend. Writers build a private overlay and
// apply it at commit, so a failing fn leaves no trace, exactly like a bbolt
// rollback.
type memStore struct {
	wmu    sync.Mutex   // serializes writers (one overlay at a time)
	mu     sync.RWMutex // guards data/keys against the commit step only
	data   map[string][]byte
	keys   []string // sorted view of data's keys, for ordered scans
	hub    hub
	closed atomic.Bool
}

// NewMemory returns an in-memory Store with the same semantics as OpenBolt
// minus durability; used for --ephemeral runs and fast tests.
func NewMemory() Store { return &memStore{data: map[string][]byte{}} }

func (s *memStore) View(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("state: view: %w", err)
	}
	if s.closed.Load() {
		return ErrClosed
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := &memTx{s: s}
	defer func() { t.done = true }()
	return fn(t)
}

func (s *memStore) Update(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("state: update: %w", err)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed.Load() {
		return ErrClosed
	}
	// Only the holder of wmu mutates data, so the writer may read it without
	// s.mu while readers share it; s.mu is taken just to apply the overlay.
	t := &memTx{s: s, writable: true, overlay: map[string]*[]byte{}}
	err := func() error {
		defer func() { t.done = true }()
		return fn(t)
	}()
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.apply(t.overlay)
	s.mu.Unlock()
	s.hub.publish(t.changes.events())
	return nil
}

// apply installs an overlay (nil entry = delete) into data and keys.
func (s *memStore) apply(ov map[string]*[]byte) {
	var added []string
	removed := map[string]bool{}
	for k, v := range ov {
		_, existed := s.data[k]
		if v == nil {
			delete(s.data, k)
		} else {
			s.data[k] = *v
		}
		switch {
		case existed && v == nil:
			removed[k] = true
		case !existed && v != nil:
			added = append(added, k)
		}
	}
	if len(added)+len(removed) == 0 {
		return
	}
	if len(added)+len(removed) > 32 {
		// One merge of the sorted changes instead of a shift per key, and
		// never a sort of every key: a commit of k new keys costs k log k
		// and one pass, however many keys the store holds.
		slices.Sort(added)
		keys := make([]string, 0, len(s.keys)+len(added)-len(removed))
		i := 0
		for _, k := range s.keys {
			for i < len(added) && added[i] < k {
				keys = append(keys, added[i])
				i++
			}
			if !removed[k] {
				keys = append(keys, k)
			}
		}
		s.keys = append(keys, added[i:]...)
		return
	}
	for k := range removed {
		if i, found := slices.BinarySearch(s.keys, k); found {
			s.keys = slices.Delete(s.keys, i, i+1)
		}
	}
	for _, k := range added {
		if i, found := slices.BinarySearch(s.keys, k); !found {
			s.keys = slices.Insert(s.keys, i, k)
		}
	}
}

func (s *memStore) Subscribe(prefix string) (<-chan Event, func()) {
	return s.hub.subscribe(prefix)
}

func (s *memStore) Reset(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("state: reset: %w", err)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed.Load() {
		return ErrClosed
	}
	s.mu.Lock()
	s.data = map[string][]byte{}
	s.keys = nil
	s.mu.Unlock()
	s.hub.publish([]Event{{Reset: true}})
	return nil
}

func (s *memStore) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.hub.close()
	return nil
}

type memTx struct {
	s        *memStore
	writable bool
	done     bool
	overlay  map[string]*[]byte // nil value = deleted in this tx
	changes  changeSet
}

func (t *memTx) Get(key string) ([]byte, bool) {
	if t.done {
		return nil, false
	}
	v, ok := t.get(key)
	if !ok {
		return nil, false
	}
	return bytes.Clone(v), true
}

func (t *memTx) getShared(key string) ([]byte, bool) {
	if t.done {
		return nil, false
	}
	return t.get(key)
}

// get returns the stored slice itself, not a copy.
func (t *memTx) get(key string) ([]byte, bool) {
	if v, ok := t.overlay[key]; ok {
		if v == nil {
			return nil, false
		}
		return *v, true
	}
	v, ok := t.s.data[key]
	return v, ok
}

func (t *memTx) Put(key string, val []byte) error {
	if err := t.writeCheck(key); err != nil {
		return err
	}
	c := bytes.Clone(val)
	if c == nil {
		c = []byte{}
	}
	t.overlay[key] = &c
	t.changes.record(key, false)
	return nil
}

func (t *memTx) Delete(key string) error {
	if err := t.writeCheck(key); err != nil {
		return err
	}
	if _, ok := t.Get(key); !ok {
		return nil
	}
	t.overlay[key] = nil
	t.changes.record(key, true)
	return nil
}

func (t *memTx) writeCheck(key string) error {
	switch {
	case t.done:
		return ErrTxDone
	case !t.writable:
		return ErrReadOnly
	case key == "":
		return fmt.Errorf("%w: empty key", ErrInvalidKey)
	}
	return nil
}

func (t *memTx) Scan(prefix string, fn func(key string, val []byte) error) error {
	return t.scan(prefix, true, fn)
}

// scanShared is Scan without copying the values (sharedScanner): they are
// the store's own slices. Those are never changed in place — a commit or a
// Put replaces a value with a new slice — so readers that only decode them
// may skip the copy, and the same committed value is the same slice each
// time, which lets the decode cache find it by address.
func (t *memTx) scanShared(prefix string, fn func(key string, val []byte) error) error {
	return t.scan(prefix, false, fn)
}

func (t *memTx) scan(prefix string, clone bool, fn func(key string, val []byte) error) error {
	if t.done {
		return ErrTxDone
	}
	// Committed keys in range (already sorted)...
	keys := t.s.keys
	i, _ := slices.BinarySearch(keys, prefix)
	var base []string
	for ; i < len(keys) && strings.HasPrefix(keys[i], prefix); i++ {
		base = append(base, keys[i])
	}
	// ...merged with this transaction's own writes.
	var mine []string
	for k := range t.overlay {
		if strings.HasPrefix(k, prefix) {
			mine = append(mine, k)
		}
	}
	slices.Sort(mine)
	var kvs []kv
	for len(base) > 0 || len(mine) > 0 {
		var k string
		switch {
		case len(mine) == 0 || (len(base) > 0 && base[0] < mine[0]):
			k, base = base[0], base[1:]
		case len(base) == 0 || mine[0] < base[0]:
			k, mine = mine[0], mine[1:]
		default: // same key in both: the overlay wins
			k, base, mine = mine[0], base[1:], mine[1:]
		}
		if v, ok := t.get(k); ok {
			if clone {
				v = bytes.Clone(v)
			}
			kvs = append(kvs, kv{k, v})
		}
	}
	return runScan(kvs, fn)
}
