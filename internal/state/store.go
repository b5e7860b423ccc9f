package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Store is minicloud's desired-state database. Services write the user's
// intent here inside Update; controllers subscribe to changes and converge
// the real world towards it. Both backends (OpenBolt, NewMemory) satisfy the
// same contract, checked by one shared conformance test.
//
// Transactions must not be nested: starting View or Update from inside
// another transaction's fn may deadlock on either backend.
type Store interface {
	// View runs fn in a read-only transaction with a consistent snapshot.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction. If fn returns an error
	// (returned unchanged) or panics, nothing is written. Update returns nil
	// only once the change is durable, so an acknowledged API call survives a
	// crash. Writers are serialized.
	Update(ctx context.Context, fn func(Tx) error) error
	// Subscribe delivers an Event, after commit, for every changed key that
	// starts with prefix ("" = everything), plus Reset events. Delivery is
	// level-triggered: repeated changes to one key may be coalesced, and if a
	// subscriber falls far behind its backlog collapses into a single
	// Event{Resync: true}, so consumers must re-read state rather than trust
	// event payloads. Slow subscribers never block writers. The returned
	// func unsubscribes and closes the channel; it is safe to call twice.
	Subscribe(prefix string) (<-chan Event, func())
	// Reset deletes everything (POST /_minicloud/reset) and emits
	// Event{Reset: true} to every subscriber.
	Reset(ctx context.Context) error
	// Close releases the store and closes all subscription channels.
	Close() error
}

// Tx is a transaction handle, valid only until its View/Update fn returns.
type Tx interface {
	// Get returns a copy of the value stored under key.
	Get(key string) ([]byte, bool)
	// Put stores a copy of val; it fails with ErrReadOnly inside View.
	Put(key string, val []byte) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(key string) error
	// Scan calls fn for every key with prefix in ascending byte order, over a
	// snapshot taken when Scan starts, so fn may Put or Delete freely.
	// Returning ErrStop from fn ends the scan early without error.
	Scan(prefix string, fn func(key string, val []byte) error) error
}

// Event describes a committed change. It is a hint to re-read, not a copy
// of the data: consumers look the key up again.
type Event struct {
	// Key that changed; empty for Reset and Resync events.
	Key string
	// Deleted is true when the last coalesced change removed Key.
	Deleted bool
	// Reset is true after Store.Reset wiped everything.
	Reset bool
	// Resync is true when this subscriber's backlog overflowed and events
	// were dropped; the consumer must re-list everything under its prefix.
	Resync bool
}

var (
	// ErrClosed is returned by operations on a closed Store.
	ErrClosed = errors.New("state: store is closed")
	// ErrReadOnly is returned by Put/Delete inside View.
	ErrReadOnly = errors.New("state: transaction is read-only")
	// ErrTxDone is returned when a Tx is used after its fn returned.
	ErrTxDone = errors.New("state: transaction has already finished")
	// ErrStop may be returned by a Scan callback to stop early; Scan then
	// returns nil.
	ErrStop = errors.New("state: stop scan")
	// ErrInvalidKey is returned for empty keys, scopes or key parts.
	ErrInvalidKey = errors.New("state: invalid key")
)

// Key joins parts with "/". Every part except the last must be non-empty
// and free of "/" for prefix scans and SplitKey to stay unambiguous; the
// last part (a resource id or name) may contain "/".
func Key(parts ...string) string { return strings.Join(parts, "/") }

// GlobalRegion is the region component used for non-regional services
// (IAM, STS, Route 53, Organizations...), so they share the key layout.
const GlobalRegion = "global"

// Scope is the account and region a resource lives in.
type Scope struct{ Account, Region string }

// Global returns the scope for an account's non-regional resources.
func Global(account string) Scope { return Scope{Account: account, Region: GlobalRegion} }

// IsGlobal reports whether s is a non-regional scope.
func (s Scope) IsGlobal() bool { return s.Region == GlobalRegion }

// Prefix returns "<account>/<region>/", the prefix of everything in s.
func (s Scope) Prefix() string { return Key(s.Account, s.Region) + "/" }

// Validate rejects scopes that would produce ambiguous keys.
func (s Scope) Validate() error {
	if err := checkPart("account", s.Account); err != nil {
		return err
	}
	return checkPart("region", s.Region)
}

func checkPart(what, v string) error {
	if v == "" || strings.Contains(v, "/") {
		return fmt.Errorf("%w: %s %q must be non-empty and contain no '/'", ErrInvalidKey, what, v)
	}
	return nil
}

// SplitKey splits a key built as Key(account, region, service, kind, id)
// back into its parts, so subscribers can route Events to the right table.
func SplitKey(key string) (s Scope, service, kind, id string, ok bool) {
	p := strings.SplitN(key, "/", 5)
	if len(p) != 5 {
		return Scope{}, "", "", "", false
	}
	for _, v := range p {
		if v == "" {
			return Scope{}, "", "", "", false
		}
	}
	return Scope{Account: p[0], Region: p[1]}, p[2], p[3], p[4], true
}

// Table is a typed view over one resource kind of one service; values are
// stored JSON-encoded under Key(account, region, Service, Kind, id). It
// holds no state, so declare tables as package-level variables.
type Table[T any] struct {
	Service, Kind string
	// Indexes are kept in step with the records by Put and Delete, in the
	// same transaction (index.go).
	Indexes []Index[T]
}

func (t Table[T]) check(s Scope) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if err := checkPart("service", t.Service); err != nil {
		return err
	}
	return checkPart("kind", t.Kind)
}

// Prefix returns the key prefix of every item of this table in s.
func (t Table[T]) Prefix(s Scope) string {
	return Key(s.Account, s.Region, t.Service, t.Kind) + "/"
}

// Key returns the key of item id in s.
func (t Table[T]) Key(s Scope, id string) string { return t.Prefix(s) + id }

// ParseKey reports whether key belongs to this table and, if so, its scope
// and id; controllers use it to interpret Events.
func (t Table[T]) ParseKey(key string) (Scope, string, bool) {
	s, svc, kind, id, ok := SplitKey(key)
	if !ok || svc != t.Service || kind != t.Kind {
		return Scope{}, "", false
	}
	return s, id, true
}

// Get loads item id; found is false (and err nil) when it does not exist.
func (t Table[T]) Get(tx Tx, s Scope, id string) (v T, found bool, err error) {
	if err := t.checkID(s, id); err != nil {
		return v, false, err
	}
	raw, ok := tx.Get(t.Key(s, id))
	if !ok {
		return v, false, nil
	}
	v, err = decode[T](raw)
	if err != nil {
		return v, false, fmt.Errorf("state: decode %s/%s %q: %w", t.Service, t.Kind, id, err)
	}
	return v, true, nil
}

// GetShared is Get without the copy: the value is shared with every reader
// of the same stored bytes (the decode cache's), so it must never be
// modified. A Describe that reads a few records found through an index
// (ec2's DescribeInstances by tag) pays a map lookup each instead of a deep
// copy.
func (t Table[T]) GetShared(tx Tx, s Scope, id string) (*T, bool, error) {
	if err := t.checkID(s, id); err != nil {
		return nil, false, err
	}
	get, decode := tx.Get, decodeShared[T]
	if sg, ok := tx.(sharedGetter); ok {
		get, decode = sg.getShared, decodeStable[T]
	}
	raw, found := get(t.Key(s, id))
	if !found {
		return nil, false, nil
	}
	v, err := decode(raw)
	if err != nil {
		return nil, false, fmt.Errorf("state: decode %s/%s %q: %w", t.Service, t.Kind, id, err)
	}
	return v, true, nil
}

// Put stores v as item id, replacing any previous value.
func (t Table[T]) Put(tx Tx, s Scope, id string, v T) error {
	if err := t.checkID(s, id); err != nil {
		return err
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("state: encode %s/%s %q: %w", t.Service, t.Kind, id, err)
	}
	if len(t.Indexes) > 0 {
		if err := t.reindex(tx, s, id, &v); err != nil {
			return err
		}
	}
	if err := tx.Put(t.Key(s, id), raw); err != nil {
		return fmt.Errorf("state: put %s/%s %q: %w", t.Service, t.Kind, id, err)
	}
	return nil
}

// Delete removes item id; removing a missing item is not an error.
func (t Table[T]) Delete(tx Tx, s Scope, id string) error {
	if err := t.checkID(s, id); err != nil {
		return err
	}
	if len(t.Indexes) > 0 {
		if err := t.reindex(tx, s, id, nil); err != nil {
			return err
		}
	}
	if err := tx.Delete(t.Key(s, id)); err != nil {
		return fmt.Errorf("state: delete %s/%s %q: %w", t.Service, t.Kind, id, err)
	}
	return nil
}

// List returns every item in s ordered by id (byte order).
func (t Table[T]) List(tx Tx, s Scope) ([]T, error) {
	var out []T
	err := t.ForEach(tx, s, func(_ string, v T) error {
		out = append(out, v)
		return nil
	})
	return out, err
}

// ForEach calls fn for every item in s ordered by id; fn may return ErrStop.
func (t Table[T]) ForEach(tx Tx, s Scope, fn func(id string, v T) error) error {
	if err := t.check(s); err != nil {
		return err
	}
	prefix := t.Prefix(s)
	return tx.Scan(prefix, func(key string, raw []byte) error {
		v, err := decode[T](raw)
		if err != nil {
			return fmt.Errorf("state: decode %q: %w", key, err)
		}
		return fn(strings.TrimPrefix(key, prefix), v)
	})
}

// ForEachShared is ForEach without the copy: v is the decoded value shared
// with every other reader of the same record. It never changes (a write
// stores new bytes, which decode to a new value), so it may be kept for
// reading, but it must never be modified: Clone what is to be changed.
// Describe calls that filter many records and return few use it.
func (t Table[T]) ForEachShared(tx Tx, s Scope, fn func(id string, v *T) error) error {
	if err := t.check(s); err != nil {
		return err
	}
	prefix := t.Prefix(s)
	if ss, ok := tx.(sharedScanner); ok {
		return ss.scanShared(prefix, func(key string, raw []byte) error {
			v, err := decodeStable[T](raw)
			if err != nil {
				return fmt.Errorf("state: decode %q: %w", key, err)
			}
			return fn(strings.TrimPrefix(key, prefix), v)
		})
	}
	return tx.Scan(prefix, func(key string, raw []byte) error {
		v, err := decodeShared[T](raw)
		if err != nil {
			return fmt.Errorf("state: decode %q: %w", key, err)
		}
		return fn(strings.TrimPrefix(key, prefix), v)
	})
}

// sharedScanner is a Tx whose Scan can hand out the stored values
// themselves, which never change (the memory store's).
type sharedScanner interface {
	scanShared(prefix string, fn func(key string, val []byte) error) error
}

// sharedGetter is a Tx whose Get can hand out the stored value itself,
// which never changes (the memory store's).
type sharedGetter interface {
	getShared(key string) ([]byte, bool)
}

func (t Table[T]) checkID(s Scope, id string) error {
	if err := t.check(s); err != nil {
		return err
	}
	if id == "" {
		return fmt.Errorf("%w: empty %s/%s id", ErrInvalidKey, t.Service, t.Kind)
	}
	return nil
}
