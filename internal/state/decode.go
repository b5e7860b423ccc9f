package state

import (
	"encoding/json"
	"reflect"
	"sync"
)

// Decoding stored JSON dominated every Describe over many records (a
// DescribeInstances over 1,000 instances spent 75% of its time in
// json.Unmarshal). Records are read far more often than written, so decoded
// values are cached by their encoded bytes: a hit costs a map lookup and a
// deep copy, never a parse. Keying by content means no invalidation is ever
// needed — a changed record has other bytes — and every caller still gets a
// value of its own that it may change freely.

// maxCacheBytes bounds the encoded bytes each type's cache keys hold; past
// it the cache starts over (records in use are decoded again on next read).
const maxCacheBytes = 32 << 20

type decodeCache struct {
	mu sync.RWMutex
	m  map[string]any
	// byAddr finds the decoding of a slice that never changes
	// (decodeStable) by its address and length, without hashing its bytes.
	// An entry keeps its slice alive, so it counts towards bytes too.
	byAddr map[stableKey]any
	bytes  int
}

type stableKey struct {
	p *byte
	n int
}

var decodeCaches sync.Map // reflect.Type → *decodeCache

func cacheFor(t reflect.Type) *decodeCache {
	if c, ok := decodeCaches.Load(t); ok {
		return c.(*decodeCache)
	}
	c, _ := decodeCaches.LoadOrStore(t, &decodeCache{m: map[string]any{}, byAddr: map[stableKey]any{}})
	return c.(*decodeCache)
}

// decode returns raw decoded into a fresh T, which the caller owns.
func decode[T any](raw []byte) (T, error) {
	p, err := decodeShared[T](raw)
	if err != nil {
		var zero T
		return zero, err
	}
	return deepCopy(*p), nil
}

// decodeShared returns the cached decoding of raw. The value is shared by
// every reader of those bytes: it must never be modified or retained.
func decodeShared[T any](raw []byte) (*T, error) {
	c := cacheFor(reflect.TypeFor[T]())
	c.mu.RLock()
	cached, ok := c.m[string(raw)]
	c.mu.RUnlock()
	if ok {
		return cached.(*T), nil
	}
	v := new(T)
	if err := json.Unmarshal(raw, v); err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.bytes+len(raw) > maxCacheBytes {
		c.m, c.byAddr, c.bytes = map[string]any{}, map[stableKey]any{}, 0
	}
	if prev, dup := c.m[string(raw)]; dup {
		v = prev.(*T)
	} else {
		c.m[string(raw)] = v
		c.bytes += len(raw)
	}
	c.mu.Unlock()
	return v, nil
}

// decodeStable is decodeShared for a slice that is never modified while it
// is reachable (a memory store's committed value): a DescribeInstances over
// 1,000 records spent most of its store time copying each record and hashing
// its bytes for the content-keyed lookup; this finds it by address instead.
func decodeStable[T any](raw []byte) (*T, error) {
	if len(raw) == 0 {
		return decodeShared[T](raw)
	}
	c := cacheFor(reflect.TypeFor[T]())
	k := stableKey{&raw[0], len(raw)}
	c.mu.RLock()
	cached, ok := c.byAddr[k]
	c.mu.RUnlock()
	if ok {
		return cached.(*T), nil
	}
	v, err := decodeShared[T](raw)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.bytes+len(raw) > maxCacheBytes {
		c.m, c.byAddr, c.bytes = map[string]any{}, map[stableKey]any{}, 0
	}
	c.byAddr[k] = v
	c.bytes += len(raw)
	c.mu.Unlock()
	return v, nil
}

// Clone returns a deep copy of v: a value obtained from a shared read that
// the caller wants to keep or change.
func Clone[T any](v *T) *T {
	c := deepCopy(*v)
	return &c
}

// deepCopy copies v so that no pointer, slice or map is shared with it.
func deepCopy[T any](v T) T {
	src := reflect.ValueOf(&v).Elem()
	dst := reflect.New(src.Type()).Elem()
	copyValue(dst, src)
	return dst.Interface().(T)
}

func copyValue(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		p := reflect.New(src.Type().Elem())
		copyValue(p.Elem(), src.Elem())
		dst.Set(p)
	case reflect.Interface:
		if src.IsNil() {
			return
		}
		e := reflect.New(src.Elem().Type()).Elem()
		copyValue(e, src.Elem())
		dst.Set(e)
	case reflect.Struct:
		// Set copies every field, unexported ones (time.Time's) included;
		// then the exported fields that can share memory are copied deeply.
		dst.Set(src)
		for i := 0; i < src.NumField(); i++ {
			if !dst.Field(i).CanSet() {
				continue
			}
			switch src.Field(i).Kind() {
			case reflect.Pointer, reflect.Interface, reflect.Struct, reflect.Slice, reflect.Map:
				f := reflect.New(src.Field(i).Type()).Elem()
				copyValue(f, src.Field(i))
				dst.Field(i).Set(f)
			}
		}
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := 0; i < src.Len(); i++ {
			copyValue(s.Index(i), src.Index(i))
		}
		dst.Set(s)
	case reflect.Map:
		if src.IsNil() {
			return
		}
		m := reflect.MakeMapWithSize(src.Type(), src.Len())
		it := src.MapRange()
		for it.Next() {
			e := reflect.New(it.Value().Type()).Elem()
			copyValue(e, it.Value())
			m.SetMapIndex(it.Key(), e)
		}
		dst.Set(m)
	default:
		dst.Set(src)
	}
}
