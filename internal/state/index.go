package state

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Secondary indexes. Finding records by something other than their id used
// to mean decoding the whole table: every RunInstances scanned all of a
// region's instances (for expired ones) and network interfaces (for the
// addresses in use), so launching slowed as instances accumulated. An Index
// stores one empty-valued entry key per (value, id) pair,
//
//	<account>/<region>/<service>/<kind>~<index>/<value>\x00<id>
//
// which Table.Put and Table.Delete keep in step with the record in the same
// transaction, so an index is exactly as consistent as the table. The entry
// keys sort by value then id, so a prefix of the value selects a range and a
// scan visits it in order. They are not under the table's prefix (the kind
// differs), so ForEach and ParseKey never see them.
//
// A store written before an index existed has records without entries.
// Every scope therefore records that its index is complete with a marker key,
// <account>/<region>/<service>/<kind>~<index>, written together with the
// entries of every existing record by the first read of the index in a
// read-write transaction. A read-only transaction that finds no marker reads
// the table instead, which gives the same answer more slowly.
//
// The marker's value is the index's definition version (Index.Version), so
// that entries written under another definition (a changed Values or Group,
// or a downgrade to an older one) count as incomplete: the next read-write
// transaction deletes every entry and counter of the scope's index and
// builds it again. A marker without a value is version 0.

// Index is a secondary index of a Table.
type Index[T any] struct {
	// Name tells the table's indexes apart; non-empty, without "/" or "~".
	Name string
	// Values returns the values a record is found under, or none. A value
	// must not contain NUL, which separates it from the id in the entry key.
	// Entries are visited in byte order of their values, so values that are
	// to be scanned in order must sort as bytes (fixed-width hex numbers,
	// fixed-width UTC times).
	Values func(v *T) []string
	// Group, if set, puts each value in a group whose number of entries is
	// kept in a counter key next to the entries (Table.Count), so it is
	// known without a scan. The ec2 address index groups by /24 block: a
	// subnet's lowest free address is then found by skipping full blocks.
	Group func(value string) string
	// Version is the definition's version, stored in the scope's marker.
	// Increase it whenever Values or Group change what they return for a
	// record: stores indexed under another version are rebuilt.
	Version int
}

// indexSep separates an entry's value from its record's id.
const indexSep = "\x00"

func (t Table[T]) index(name string) (*Index[T], error) {
	for i := range t.Indexes {
		if t.Indexes[i].Name == name {
			return &t.Indexes[i], nil
		}
	}
	return nil, fmt.Errorf("state: %s/%s has no index %q", t.Service, t.Kind, name)
}

// indexMarker is the key recording that index's entries are complete in s;
// its entries live under indexMarker + "/".
func (t Table[T]) indexMarker(s Scope, name string) string {
	return Key(s.Account, s.Region, t.Service, t.Kind+"~"+name)
}

func (t Table[T]) indexEntry(s Scope, name, value, id string) string {
	return t.indexMarker(s, name) + "/" + value + indexSep + id
}

// indexCounter is the key of group's entry count: beside the entries, not
// among them ("#" instead of "/").
func (t Table[T]) indexCounter(s Scope, name, group string) string {
	return t.indexMarker(s, name) + "#/" + group
}

// addCount adds d to a group's counter; a zero count is no key at all.
func (t Table[T]) addCount(tx Tx, s Scope, name, group string, d int) error {
	key := t.indexCounter(s, name, group)
	n := d
	if raw, ok := tx.Get(key); ok {
		old, err := strconv.Atoi(string(raw))
		if err != nil {
			return fmt.Errorf("state: index counter %q: %w", key, err)
		}
		n += old
	}
	if n <= 0 {
		return tx.Delete(key)
	}
	return tx.Put(key, strconv.AppendInt(nil, int64(n), 10))
}

// reindex moves the entries of record id from the values of what is stored
// now to those of v (nil: the record is being deleted). It runs before the
// record itself is written, while the old value can still be read.
func (t Table[T]) reindex(tx Tx, s Scope, id string, v *T) error {
	var old *T
	if raw, ok := tx.Get(t.Key(s, id)); ok {
		o, err := decodeShared[T](raw)
		if err != nil {
			return fmt.Errorf("state: decode %s/%s %q: %w", t.Service, t.Kind, id, err)
		}
		old = o
	}
	for i := range t.Indexes {
		ix := &t.Indexes[i]
		var was, now []string
		if old != nil {
			was = ix.Values(old)
		}
		if v != nil {
			now = ix.Values(v)
		}
		for _, val := range was {
			if !slices.Contains(now, val) {
				if err := tx.Delete(t.indexEntry(s, ix.Name, val, id)); err != nil {
					return err
				}
				if ix.Group != nil {
					if err := t.addCount(tx, s, ix.Name, ix.Group(val), -1); err != nil {
						return err
					}
				}
			}
		}
		for _, val := range now {
			if slices.Contains(was, val) {
				continue
			}
			if strings.Contains(val, indexSep) {
				return fmt.Errorf("%w: %s/%s index %s value %q contains NUL", ErrInvalidKey, t.Service, t.Kind, ix.Name, val)
			}
			if err := tx.Put(t.indexEntry(s, ix.Name, val, id), nil); err != nil {
				return err
			}
			if ix.Group != nil {
				if err := t.addCount(tx, s, ix.Name, ix.Group(val), 1); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Count returns the number of entries of index in group (Index.Group).
func (t Table[T]) Count(tx Tx, s Scope, index, group string) (int, error) {
	if err := t.check(s); err != nil {
		return 0, err
	}
	ix, err := t.index(index)
	if err != nil {
		return 0, err
	}
	if ix.Group == nil {
		return 0, fmt.Errorf("state: %s/%s index %q counts no groups", t.Service, t.Kind, index)
	}
	complete, err := t.ensureIndex(tx, s, ix)
	if err != nil {
		return 0, err
	}
	if !complete {
		n := 0
		err := t.ForEachShared(tx, s, func(_ string, v *T) error {
			for _, val := range ix.Values(v) {
				if ix.Group(val) == group {
					n++
				}
			}
			return nil
		})
		return n, err
	}
	raw, ok := tx.Get(t.indexCounter(s, ix.Name, group))
	if !ok {
		return 0, nil
	}
	n, err := strconv.Atoi(string(raw))
	if err != nil {
		return 0, fmt.Errorf("state: index counter of %s/%s %q: %w", t.Service, t.Kind, group, err)
	}
	return n, nil
}

// ScanIndex calls fn with the value and record id of every entry of index
// whose value starts with prefix, ordered by value, then id. fn may return
// ErrStop to end the scan early.
func (t Table[T]) ScanIndex(tx Tx, s Scope, index, prefix string, fn func(value, id string) error) error {
	if err := t.check(s); err != nil {
		return err
	}
	ix, err := t.index(index)
	if err != nil {
		return err
	}
	complete, err := t.ensureIndex(tx, s, ix)
	if err != nil {
		return err
	}
	if !complete {
		return t.scanRecords(tx, s, ix, prefix, fn)
	}
	base := t.indexMarker(s, ix.Name) + "/"
	return tx.Scan(base+prefix, func(key string, _ []byte) error {
		value, id, _ := strings.Cut(strings.TrimPrefix(key, base), indexSep)
		return fn(value, id)
	})
}

// Lookup returns the ids of the records indexed under exactly value, in
// byte order.
func (t Table[T]) Lookup(tx Tx, s Scope, index, value string) ([]string, error) {
	var ids []string
	// value plus the separator: exactly value, not the values it prefixes.
	err := t.ScanIndex(tx, s, index, value+indexSep, func(_, id string) error {
		ids = append(ids, id)
		return nil
	})
	return ids, err
}

// EnsureIndex reports whether index's entries in s are complete, building
// them first if tx may write. A read-only caller that would rather scan the
// table itself than have ScanIndex do it learns here which to do.
func (t Table[T]) EnsureIndex(tx Tx, s Scope, index string) (bool, error) {
	if err := t.check(s); err != nil {
		return false, err
	}
	ix, err := t.index(index)
	if err != nil {
		return false, err
	}
	return t.ensureIndex(tx, s, ix)
}

// ensureIndex reports whether index's entries in s are complete, building
// them first if tx may write.
func (t Table[T]) ensureIndex(tx Tx, s Scope, ix *Index[T]) (bool, error) {
	marker := t.indexMarker(s, ix.Name)
	version := strconv.Itoa(ix.Version)
	raw, ok := tx.Get(marker)
	if ok && (string(raw) == version || len(raw) == 0 && ix.Version == 0) {
		return true, nil
	}
	if err := tx.Put(marker, []byte(version)); err != nil {
		if errors.Is(err, ErrReadOnly) {
			return false, nil
		}
		return false, err
	}
	// Entries already present (written by Put since the records' last
	// write, or under another definition) are deleted unless the records
	// still have them, and the counters recounted from scratch.
	base := t.indexMarker(s, ix.Name)
	stale := map[string]bool{}
	for _, p := range []string{base + "#/", base + "/"} {
		if err := tx.Scan(p, func(key string, _ []byte) error {
			stale[key] = true
			return nil
		}); err != nil {
			return false, err
		}
	}
	counts := map[string]int{}
	err := t.ForEachShared(tx, s, func(id string, v *T) error {
		for _, val := range ix.Values(v) {
			if strings.Contains(val, indexSep) {
				return fmt.Errorf("%w: %s/%s index %s value %q contains NUL", ErrInvalidKey, t.Service, t.Kind, ix.Name, val)
			}
			key := t.indexEntry(s, ix.Name, val, id)
			delete(stale, key)
			if err := tx.Put(key, nil); err != nil {
				return err
			}
			if ix.Group != nil {
				counts[ix.Group(val)]++
			}
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	for g, n := range counts {
		key := t.indexCounter(s, ix.Name, g)
		delete(stale, key)
		if err := tx.Put(key, strconv.AppendInt(nil, int64(n), 10)); err != nil {
			return false, err
		}
	}
	for key := range stale {
		if err := tx.Delete(key); err != nil {
			return false, err
		}
	}
	return true, nil
}

// scanRecords answers ScanIndex from the records themselves, for a scope
// whose index is not built and a transaction that cannot build it.
func (t Table[T]) scanRecords(tx Tx, s Scope, ix *Index[T], prefix string, fn func(value, id string) error) error {
	type entry struct{ value, id string }
	var es []entry
	err := t.ForEachShared(tx, s, func(id string, v *T) error {
		for _, val := range ix.Values(v) {
			// As the entry key would: a prefix ending in the separator
			// selects exactly one value.
			if strings.HasPrefix(val+indexSep, prefix) {
				es = append(es, entry{val, id})
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(es, func(a, b entry) int {
		return strings.Compare(a.value+indexSep+a.id, b.value+indexSep+b.id)
	})
	for _, e := range es {
		if err := fn(e.value, e.id); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}
