package state

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// backends lists every Store implementation; each conformance case runs
// against all of them so --ephemeral and on-disk behave the same.
var backends = []struct {
	name string
	open func(t *testing.T) Store
}{
	{"memory", func(t *testing.T) Store { return NewMemory() }},
	{"bolt", func(t *testing.T) Store {
		s, err := OpenBolt(filepath.Join(t.TempDir(), "sub", "dir", "state.db"))
		if err != nil {
			t.Fatalf("OpenBolt: %v", err)
		}
		return s
	}},
}

var ctx = context.Background()

func put(t *testing.T, s Store, kv ...string) {
	t.Helper()
	if err := s.Update(ctx, func(tx Tx) error {
		for i := 0; i < len(kv); i += 2 {
			if err := tx.Put(kv[i], []byte(kv[i+1])); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func get(t *testing.T, s Store, key string) (string, bool) {
	t.Helper()
	var (
		v  []byte
		ok bool
	)
	if err := s.View(ctx, func(tx Tx) error { v, ok = tx.Get(key); return nil }); err != nil {
		t.Fatalf("View: %v", err)
	}
	return string(v), ok
}

func scanKeys(t *testing.T, s Store, prefix string) []string {
	t.Helper()
	var keys []string
	if err := s.View(ctx, func(tx Tx) error {
		return tx.Scan(prefix, func(k string, _ []byte) error { keys = append(keys, k); return nil })
	}); err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return keys
}

// recv waits for one event or fails.
func recv(t *testing.T, ch <-chan Event) Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("subscription channel closed")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("timed out waiting for event")
	}
	return Event{}
}

// none asserts that no event arrives within a short window.
func none(t *testing.T, ch <-chan Event) {
	t.Helper()
	select {
	case ev := <-ch:
		t.Fatalf("unexpected event %+v", ev)
	case <-time.After(50 * time.Millisecond):
	}
}

type vpc struct {
	ID   string `json:"id"`
	CIDR string `json:"cidr"`
}

var vpcs = Table[vpc]{Service: "ec2", Kind: "vpc"}

func TestStoreConformance(t *testing.T) {
	errBoom := errors.New("boom")
	cases := []struct {
		name string
		run  func(t *testing.T, s Store)
	}{
		{"put get overwrite", func(t *testing.T, s Store) {
			put(t, s, "a", "1")
			put(t, s, "a", "2")
			if v, ok := get(t, s, "a"); !ok || v != "2" {
				t.Fatalf("got %q %v, want 2", v, ok)
			}
			if _, ok := get(t, s, "missing"); ok {
				t.Fatal("missing key found")
			}
		}},
		{"empty value is present", func(t *testing.T, s Store) {
			put(t, s, "e", "")
			if v, ok := get(t, s, "e"); !ok || v != "" {
				t.Fatalf("got %q %v", v, ok)
			}
		}},
		{"empty key rejected", func(t *testing.T, s Store) {
			err := s.Update(ctx, func(tx Tx) error { return tx.Put("", []byte("x")) })
			if !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("err = %v, want ErrInvalidKey", err)
			}
		}},
		{"delete", func(t *testing.T, s Store) {
			put(t, s, "a", "1")
			if err := s.Update(ctx, func(tx Tx) error {
				if err := tx.Delete("a"); err != nil {
					return err
				}
				return tx.Delete("never-existed")
			}); err != nil {
				t.Fatal(err)
			}
			if _, ok := get(t, s, "a"); ok {
				t.Fatal("deleted key still present")
			}
		}},
		{"scan order and prefix bounds", func(t *testing.T, s Store) {
			put(t, s, "p/b", "", "p/a", "", "p/c/d", "", "p", "", "q/a", "", "o/z", "", "p0", "")
			got := scanKeys(t, s, "p/")
			want := []string{"p/a", "p/b", "p/c/d"}
			if !slices.Equal(got, want) {
				t.Fatalf("Scan(p/) = %v, want %v", got, want)
			}
			if all := scanKeys(t, s, ""); len(all) != 7 || !slices.IsSorted(all) {
				t.Fatalf("Scan(\"\") = %v", all)
			}
		}},
		{"scan order after large commits", func(t *testing.T, s Store) {
			// Commits of many keys at once, adding and deleting among the
			// existing ones, keep every scan in order.
			want := map[string]bool{}
			for round := range 4 {
				if err := s.Update(ctx, func(tx Tx) error {
					for i := range 100 {
						k := fmt.Sprintf("k/%03d", (i*7+round*31)%250)
						if want[k] && i%3 == 0 {
							delete(want, k)
							if err := tx.Delete(k); err != nil {
								return err
							}
							continue
						}
						want[k] = true
						if err := tx.Put(k, []byte("v")); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				got := scanKeys(t, s, "k/")
				if !slices.IsSorted(got) || len(got) != len(want) {
					t.Fatalf("round %d: %d keys (sorted %v), want %d", round, len(got), slices.IsSorted(got), len(want))
				}
				for _, k := range got {
					if !want[k] {
						t.Fatalf("round %d: key %s was deleted", round, k)
					}
				}
			}
		}},
		{"scan stop and error", func(t *testing.T, s Store) {
			put(t, s, "k1", "", "k2", "", "k3", "")
			n := 0
			err := s.View(ctx, func(tx Tx) error {
				return tx.Scan("k", func(string, []byte) error { n++; return ErrStop })
			})
			if err != nil || n != 1 {
				t.Fatalf("ErrStop: err=%v n=%d", err, n)
			}
			err = s.View(ctx, func(tx Tx) error {
				return tx.Scan("k", func(string, []byte) error { return errBoom })
			})
			if !errors.Is(err, errBoom) {
				t.Fatalf("err = %v, want boom", err)
			}
		}},
		{"read your writes inside update", func(t *testing.T, s Store) {
			put(t, s, "x/1", "old", "x/2", "keep", "x/3", "gone")
			err := s.Update(ctx, func(tx Tx) error {
				_ = tx.Put("x/1", []byte("new"))
				_ = tx.Put("x/0", []byte("added"))
				_ = tx.Delete("x/3")
				if v, ok := tx.Get("x/1"); !ok || string(v) != "new" {
					return fmt.Errorf("Get x/1 = %q %v", v, ok)
				}
				if _, ok := tx.Get("x/3"); ok {
					return errors.New("x/3 visible after delete")
				}
				var got []string
				_ = tx.Scan("x/", func(k string, v []byte) error { got = append(got, k+"="+string(v)); return nil })
				if want := []string{"x/0=added", "x/1=new", "x/2=keep"}; !slices.Equal(got, want) {
					return fmt.Errorf("Scan = %v, want %v", got, want)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}},
		{"modify during scan", func(t *testing.T, s Store) {
			put(t, s, "m/1", "", "m/2", "", "m/3", "")
			if err := s.Update(ctx, func(tx Tx) error {
				return tx.Scan("m/", func(k string, _ []byte) error {
					if err := tx.Delete(k); err != nil {
						return err
					}
					return tx.Put("n/"+k, []byte("moved"))
				})
			}); err != nil {
				t.Fatal(err)
			}
			if got := scanKeys(t, s, "m/"); len(got) != 0 {
				t.Fatalf("m/ left: %v", got)
			}
			if got := scanKeys(t, s, "n/"); len(got) != 3 {
				t.Fatalf("n/ = %v", got)
			}
		}},
		{"returned values are copies", func(t *testing.T, s Store) {
			buf := []byte("abc")
			if err := s.Update(ctx, func(tx Tx) error { return tx.Put("c", buf) }); err != nil {
				t.Fatal(err)
			}
			buf[0] = 'X'
			_ = s.View(ctx, func(tx Tx) error {
				v, _ := tx.Get("c")
				v[1] = 'Y'
				return nil
			})
			if v, _ := get(t, s, "c"); v != "abc" {
				t.Fatalf("stored value mutated: %q", v)
			}
		}},
		{"rollback on fn error", func(t *testing.T, s Store) {
			put(t, s, "r", "orig")
			err := s.Update(ctx, func(tx Tx) error {
				_ = tx.Put("r", []byte("changed"))
				_ = tx.Put("r2", []byte("new"))
				return errBoom
			})
			if !errors.Is(err, errBoom) {
				t.Fatalf("err = %v, want boom unchanged", err)
			}
			if v, _ := get(t, s, "r"); v != "orig" {
				t.Fatalf("r = %q after rollback", v)
			}
			if _, ok := get(t, s, "r2"); ok {
				t.Fatal("r2 exists after rollback")
			}
		}},
		{"rollback on panic", func(t *testing.T, s Store) {
			func() {
				defer func() { _ = recover() }()
				_ = s.Update(ctx, func(tx Tx) error {
					_ = tx.Put("p", []byte("x"))
					panic("boom")
				})
			}()
			if _, ok := get(t, s, "p"); ok {
				t.Fatal("write survived panic")
			}
			put(t, s, "after", "ok") // store still usable (locks released)
		}},
		{"view is read-only", func(t *testing.T, s Store) {
			err := s.View(ctx, func(tx Tx) error { return tx.Put("a", nil) })
			if !errors.Is(err, ErrReadOnly) {
				t.Fatalf("Put in View: %v", err)
			}
			err = s.View(ctx, func(tx Tx) error { return tx.Delete("a") })
			if !errors.Is(err, ErrReadOnly) {
				t.Fatalf("Delete in View: %v", err)
			}
		}},
		{"tx unusable after fn", func(t *testing.T, s Store) {
			var leaked Tx
			_ = s.Update(ctx, func(tx Tx) error { leaked = tx; return nil })
			if err := leaked.Put("late", nil); !errors.Is(err, ErrTxDone) {
				t.Fatalf("late Put: %v", err)
			}
		}},
		{"canceled context", func(t *testing.T, s Store) {
			c, cancel := context.WithCancel(ctx)
			cancel()
			called := false
			err := s.Update(c, func(Tx) error { called = true; return nil })
			if !errors.Is(err, context.Canceled) || called {
				t.Fatalf("err=%v called=%v", err, called)
			}
		}},
		{"subscribe after commit only", func(t *testing.T, s Store) {
			ch, unsub := s.Subscribe("acct/")
			defer unsub()
			_ = s.Update(ctx, func(tx Tx) error { _ = tx.Put("acct/rolled", nil); return errBoom })
			put(t, s, "other/x", "1") // outside prefix
			none(t, ch)
			put(t, s, "acct/a", "1")
			if ev := recv(t, ch); ev != (Event{Key: "acct/a"}) {
				t.Fatalf("event %+v", ev)
			}
			// The event must not arrive before the data is readable.
			if _, ok := get(t, s, "acct/a"); !ok {
				t.Fatal("event delivered before commit visible")
			}
			_ = s.Update(ctx, func(tx Tx) error { return tx.Delete("acct/a") })
			if ev := recv(t, ch); ev != (Event{Key: "acct/a", Deleted: true}) {
				t.Fatalf("event %+v", ev)
			}
			_ = s.Update(ctx, func(tx Tx) error { return tx.Delete("acct/never") })
			none(t, ch) // no-op delete is not a change
		}},
		{"one event per key per tx", func(t *testing.T, s Store) {
			ch, unsub := s.Subscribe("")
			defer unsub()
			_ = s.Update(ctx, func(tx Tx) error {
				_ = tx.Put("k", []byte("1"))
				_ = tx.Put("k", []byte("2"))
				return tx.Delete("k")
			})
			if ev := recv(t, ch); ev != (Event{Key: "k", Deleted: true}) {
				t.Fatalf("event %+v", ev)
			}
			none(t, ch)
		}},
		{"reset", func(t *testing.T, s Store) {
			put(t, s, "a", "1", "b/c", "2")
			ch, unsub := s.Subscribe("zzz/") // Reset reaches every prefix
			defer unsub()
			if err := s.Reset(ctx); err != nil {
				t.Fatal(err)
			}
			if ev := recv(t, ch); !ev.Reset {
				t.Fatalf("event %+v, want Reset", ev)
			}
			if got := scanKeys(t, s, ""); len(got) != 0 {
				t.Fatalf("after reset: %v", got)
			}
			put(t, s, "a", "again")
			if v, _ := get(t, s, "a"); v != "again" {
				t.Fatal("store unusable after reset")
			}
		}},
		{"unsubscribe closes channel", func(t *testing.T, s Store) {
			ch, unsub := s.Subscribe("")
			unsub()
			unsub() // idempotent
			put(t, s, "a", "1")
			if _, ok := <-ch; ok {
				t.Fatal("channel not closed")
			}
		}},
		{"slow subscriber never blocks writers", func(t *testing.T, s Store) {
			ch, unsub := s.Subscribe("")
			defer unsub()
			// Many distinct keys while nobody reads: must not block, and the
			// backlog must collapse into a Resync rather than grow forever.
			done := make(chan error, 1)
			go func() {
				done <- s.Update(ctx, func(tx Tx) error {
					for i := 0; i < maxPending+subChanBuffer+100; i++ {
						if err := tx.Put(fmt.Sprintf("k/%06d", i), nil); err != nil {
							return err
						}
					}
					return nil
				})
			}()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("writer blocked by slow subscriber")
			}
			put(t, s, "k/last", "x")
			sawResync := false
			deadline := time.After(5 * time.Second)
			for !sawResync {
				select {
				case ev := <-ch:
					sawResync = ev.Resync
				case <-deadline:
					t.Fatal("no Resync event after overflow")
				}
			}
		}},
		{"coalesces repeated changes", func(t *testing.T, s Store) {
			ch, unsub := s.Subscribe("")
			defer unsub()
			for i := 0; i < 200; i++ {
				put(t, s, "hot", fmt.Sprint(i))
			}
			// Far fewer than 200 events arrive, and the last says not deleted.
			var last Event
			n := 0
			for {
				select {
				case ev := <-ch:
					last, n = ev, n+1
					continue
				case <-time.After(100 * time.Millisecond):
				}
				break
			}
			if n == 0 || n > 200 || last != (Event{Key: "hot"}) {
				t.Fatalf("n=%d last=%+v", n, last)
			}
		}},
		{"concurrent writers and readers", func(t *testing.T, s Store) {
			var wg sync.WaitGroup
			for w := 0; w < 4; w++ {
				wg.Add(2)
				go func() {
					defer wg.Done()
					for i := 0; i < 25; i++ {
						if err := s.Update(ctx, func(tx Tx) error {
							return tx.Put(fmt.Sprintf("c/%d/%d", w, i), []byte("v"))
						}); err != nil {
							t.Error(err)
						}
					}
				}()
				go func() {
					defer wg.Done()
					for i := 0; i < 25; i++ {
						_ = s.View(ctx, func(tx Tx) error {
							return tx.Scan("c/", func(string, []byte) error { return nil })
						})
					}
				}()
			}
			wg.Wait()
			if got := scanKeys(t, s, "c/"); len(got) != 100 {
				t.Fatalf("%d keys, want 100", len(got))
			}
		}},
		{"table round trip", func(t *testing.T, s Store) {
			sc := Scope{Account: "123456789012", Region: "us-east-1"}
			other := Scope{Account: "123456789012", Region: "eu-west-1"}
			err := s.Update(ctx, func(tx Tx) error {
				for _, v := range []vpc{{"vpc-b", "10.1.0.0/16"}, {"vpc-a", "10.0.0.0/16"}} {
					if err := vpcs.Put(tx, sc, v.ID, v); err != nil {
						return err
					}
				}
				return vpcs.Put(tx, other, "vpc-z", vpc{ID: "vpc-z"})
			})
			if err != nil {
				t.Fatal(err)
			}
			_ = s.View(ctx, func(tx Tx) error {
				got, ok, err := vpcs.Get(tx, sc, "vpc-a")
				if err != nil || !ok || got.CIDR != "10.0.0.0/16" {
					t.Errorf("Get = %+v %v %v", got, ok, err)
				}
				if _, ok, _ := vpcs.Get(tx, sc, "vpc-z"); ok {
					t.Error("vpc-z leaked across regions")
				}
				list, err := vpcs.List(tx, sc)
				if err != nil || len(list) != 2 || list[0].ID != "vpc-a" || list[1].ID != "vpc-b" {
					t.Errorf("List = %+v %v", list, err)
				}
				return nil
			})
			_ = s.Update(ctx, func(tx Tx) error { return vpcs.Delete(tx, sc, "vpc-a") })
			_ = s.View(ctx, func(tx Tx) error {
				if _, ok, _ := vpcs.Get(tx, sc, "vpc-a"); ok {
					t.Error("vpc-a not deleted")
				}
				return nil
			})
		}},
		{"closed store", func(t *testing.T, s Store) {
			ch, _ := s.Subscribe("")
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if _, ok := <-ch; ok {
				t.Fatal("subscription not closed by Close")
			}
			if err := s.Update(ctx, func(Tx) error { return nil }); !errors.Is(err, ErrClosed) {
				t.Fatalf("Update after Close: %v", err)
			}
			if err := s.View(ctx, func(Tx) error { return nil }); !errors.Is(err, ErrClosed) {
				t.Fatalf("View after Close: %v", err)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			if _, ok := <-mustSub(s); ok {
				t.Fatal("Subscribe after Close returned open channel")
			}
		}},
	}
	for _, b := range backends {
		for _, c := range cases {
			t.Run(b.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				s := b.open(t)
				defer s.Close()
				c.run(t, s)
			})
		}
	}
}

func mustSub(s Store) <-chan Event { ch, _ := s.Subscribe(""); return ch }

func TestTableKeys(t *testing.T) {
	sc := Scope{Account: "111122223333", Region: "us-west-2"}
	if got, want := vpcs.Key(sc, "vpc-1"), "111122223333/us-west-2/ec2/vpc/vpc-1"; got != want {
		t.Fatalf("Key = %q, want %q", got, want)
	}
	if got := vpcs.Prefix(sc); got != "111122223333/us-west-2/ec2/vpc/" {
		t.Fatalf("Prefix = %q", got)
	}
	if got := Global("1").Prefix(); got != "1/global/" {
		t.Fatalf("Global prefix = %q", got)
	}
	tests := []struct {
		key    string
		ok     bool
		scope  Scope
		id     string
		tableK bool
	}{
		{"111122223333/us-west-2/ec2/vpc/vpc-1", true, sc, "vpc-1", true},
		{"111122223333/us-west-2/ec2/subnet/subnet-1", true, sc, "subnet-1", false},
		{"1/global/iam/role/path/to/role", true, Global("1"), "path/to/role", false},
		{"1/us-east-1/ec2/vpc", false, Scope{}, "", false},
		{"1//ec2/vpc/x", false, Scope{}, "", false},
	}
	for _, tt := range tests {
		s, _, _, id, ok := SplitKey(tt.key)
		if ok != tt.ok || s != tt.scope || id != tt.id {
			t.Errorf("SplitKey(%q) = %+v %q %v", tt.key, s, id, ok)
		}
		if _, _, ok := vpcs.ParseKey(tt.key); ok != tt.tableK {
			t.Errorf("ParseKey(%q) ok = %v", tt.key, ok)
		}
	}
	s := NewMemory()
	defer s.Close()
	bad := []Scope{{}, {Account: "a"}, {Account: "a/b", Region: "r"}}
	for _, b := range bad {
		err := s.Update(ctx, func(tx Tx) error { return vpcs.Put(tx, b, "x", vpc{}) })
		if !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Put with scope %+v: %v", b, err)
		}
	}
	err := s.Update(ctx, func(tx Tx) error { return vpcs.Put(tx, sc, "", vpc{}) })
	if !errors.Is(err, ErrInvalidKey) {
		t.Errorf("empty id: %v", err)
	}
}

func TestOpenBoltLocked(t *testing.T) {
	old := boltLockTimeout
	boltLockTimeout = 100 * time.Millisecond
	defer func() { boltLockTimeout = old }()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = OpenBolt(path)
	if err == nil || !strings.Contains(err.Error(), "another minicloud holds "+path) {
		t.Fatalf("second OpenBolt: %v", err)
	}
}

func TestBoltPersistsAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, "k", "v")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, ok := get(t, s, "k"); !ok || v != "v" {
		t.Fatalf("after reopen: %q %v", v, ok)
	}
}
