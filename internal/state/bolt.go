package state

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// bucketName is the single bucket holding all keys; the key layout, not
// nested buckets, provides structure so both backends behave identically.
var bucketName = []byte("state")

// boltLockTimeout bounds how long OpenBolt waits for the file lock before
// concluding another minicloud process owns the file. A var for tests.
var boltLockTimeout = 2 * time.Second

type boltStore struct {
	path   string
	db     *bolt.DB
	wmu    sync.Mutex // serializes commit+publish so events follow commit order
	hub    hub
	closed atomic.Bool
}

// OpenBolt opens (creating if needed) the bbolt file at path. Parent
// directories are created 0700 because the file holds credentials. If
// another process holds the file lock, it fails after a short timeout with
// "another minicloud holds <path>" rather than hanging.
func OpenBolt(path string) (Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("state: create directory for %s: %w", path, err)
		}
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: boltLockTimeout})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("state: another minicloud holds %s: %w", path, err)
		}
		return nil, fmt.Errorf("state: open %s: %w", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketName)
		return err
	}); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("state: initialise %s: %w", path, err)
	}
	return &boltStore{path: path, db: db}, nil
}

func (s *boltStore) View(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("state: view: %w", err)
	}
	if s.closed.Load() {
		return ErrClosed
	}
	var fnErr error
	err := s.db.View(func(btx *bolt.Tx) error {
		t := &boltTx{b: btx.Bucket(bucketName)}
		defer t.finish()
		fnErr = fn(t)
		return fnErr
	})
	return s.txErr("view", err, fnErr)
}

func (s *boltStore) Update(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("state: update: %w", err)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed.Load() {
		return ErrClosed
	}
	var (
		changes changeSet
		fnErr   error
	)
	// bbolt's Update commits with fsync (NoSync is false), so once it
	// returns nil the write survives a crash.
	err := s.db.Update(func(btx *bolt.Tx) error {
		t := &boltTx{b: btx.Bucket(bucketName), writable: true, changes: &changes}
		defer t.finish()
		fnErr = fn(t)
		return fnErr
	})
	if err != nil {
		return s.txErr("update", err, fnErr)
	}
	s.hub.publish(changes.events())
	return nil
}

// txErr returns fn's own error unchanged (callers match on it) and wraps
// errors that come from bbolt itself.
func (s *boltStore) txErr(op string, err, fnErr error) error {
	switch {
	case err == nil:
		return nil
	case fnErr != nil && errors.Is(err, fnErr):
		return fnErr
	case errors.Is(err, berrors.ErrDatabaseNotOpen):
		return ErrClosed
	default:
		return fmt.Errorf("state: %s %s: %w", op, s.path, err)
	}
}

func (s *boltStore) Subscribe(prefix string) (<-chan Event, func()) {
	return s.hub.subscribe(prefix)
}

func (s *boltStore) Reset(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("state: reset: %w", err)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed.Load() {
		return ErrClosed
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketName); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
			return err
		}
		_, err := tx.CreateBucket(bucketName)
		return err
	})
	if err != nil {
		return fmt.Errorf("state: reset %s: %w", s.path, err)
	}
	s.hub.publish([]Event{{Reset: true}})
	return nil
}

func (s *boltStore) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.hub.close()
	// Wait for an in-flight Update (and its publish) before closing the file.
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("state: close %s: %w", s.path, err)
	}
	return nil
}

// boltTx adapts a bbolt bucket to Tx. Values are copied out because bbolt's
// slices point into the mmap and die with the transaction.
type boltTx struct {
	b        *bolt.Bucket
	writable bool
	done     bool
	changes  *changeSet
}

func (t *boltTx) finish() { t.done = true }

func (t *boltTx) Get(key string) ([]byte, bool) {
	if t.done {
		return nil, false
	}
	v := t.b.Get([]byte(key))
	if v == nil {
		return nil, false
	}
	return bytes.Clone(v), true
}

func (t *boltTx) Put(key string, val []byte) error {
	if err := t.writeCheck(key); err != nil {
		return err
	}
	if val == nil {
		val = []byte{} // bbolt treats nil as "no value"
	}
	if err := t.b.Put([]byte(key), val); err != nil {
		return fmt.Errorf("state: put %q: %w", key, err)
	}
	t.changes.record(key, false)
	return nil
}

func (t *boltTx) Delete(key string) error {
	if err := t.writeCheck(key); err != nil {
		return err
	}
	if t.b.Get([]byte(key)) == nil {
		return nil
	}
	if err := t.b.Delete([]byte(key)); err != nil {
		return fmt.Errorf("state: delete %q: %w", key, err)
	}
	t.changes.record(key, true)
	return nil
}

func (t *boltTx) writeCheck(key string) error {
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

func (t *boltTx) Scan(prefix string, fn func(key string, val []byte) error) error {
	if t.done {
		return ErrTxDone
	}
	// Snapshot first so fn may modify the bucket without invalidating the
	// cursor (bbolt cursors are not safe across writes).
	var kvs []kv
	p := []byte(prefix)
	c := t.b.Cursor()
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		kvs = append(kvs, kv{string(k), bytes.Clone(v)})
	}
	return runScan(kvs, fn)
}

type kv struct {
	key string
	val []byte
}

func runScan(kvs []kv, fn func(string, []byte) error) error {
	for _, e := range kvs {
		if err := fn(e.key, e.val); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}
