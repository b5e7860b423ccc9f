package state

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

type host struct {
	Subnet string   `json:"subnet"`
	IPs    []string `json:"ips"`
}

// hosts is indexed by each address, prefixed with the subnet so that one
// subnet's addresses are a range.
var hosts = Table[host]{Service: "test", Kind: "host", Indexes: []Index[host]{{
	Name: "ip",
	Values: func(h *host) []string {
		var out []string
		for _, ip := range h.IPs {
			out = append(out, h.Subnet+"/"+ip)
		}
		return out
	},
	Group: func(v string) string { g, _, _ := strings.Cut(v, "/"); return g },
}}}

// rawHosts is the same table without its index, as an older minicloud
// wrote it.
var rawHosts = Table[host]{Service: "test", Kind: "host"}

type indexEntry struct{ value, id string }

func scanAll(t *testing.T, tx Tx, sc Scope, prefix string) []indexEntry {
	t.Helper()
	var out []indexEntry
	if err := hosts.ScanIndex(tx, sc, "ip", prefix, func(v, id string) error {
		out = append(out, indexEntry{v, id})
		return nil
	}); err != nil {
		t.Fatalf("ScanIndex(%q): %v", prefix, err)
	}
	return out
}

func TestIndex(t *testing.T) {
	sc := Scope{Account: "111122223333", Region: "us-east-1"}
	other := Scope{Account: "111122223333", Region: "eu-west-1"}
	tests := []struct {
		name string
		// setup runs in one Update; legacy writes records without entries.
		setup  func(tx Tx) error
		legacy bool
		prefix string
		want   []indexEntry
		s1     int // Count of group "s1"
	}{
		{
			name: "entries ordered by value then id, prefix selects a range",
			setup: func(tx Tx) error {
				return errors.Join(
					hosts.Put(tx, sc, "h2", host{"s1", []string{"0a000005", "0a000004"}}),
					hosts.Put(tx, sc, "h1", host{"s1", []string{"0a000006"}}),
					hosts.Put(tx, sc, "h3", host{"s2", []string{"0a000104"}}),
					hosts.Put(tx, other, "h9", host{"s1", []string{"0a000004"}}),
				)
			},
			prefix: "s1/",
			want:   []indexEntry{{"s1/0a000004", "h2"}, {"s1/0a000005", "h2"}, {"s1/0a000006", "h1"}},
			s1:     3,
		},
		{
			name: "a rewrite moves the entries, a delete removes them",
			setup: func(tx Tx) error {
				return errors.Join(
					hosts.Put(tx, sc, "h1", host{"s1", []string{"0a000004", "0a000005"}}),
					hosts.Put(tx, sc, "h2", host{"s1", []string{"0a000006"}}),
					hosts.Put(tx, sc, "h1", host{"s1", []string{"0a000005", "0a000007"}}),
					hosts.Delete(tx, sc, "h2"),
				)
			},
			prefix: "",
			want:   []indexEntry{{"s1/0a000005", "h1"}, {"s1/0a000007", "h1"}},
			s1:     2,
		},
		{
			name: "two records under one value",
			setup: func(tx Tx) error {
				return errors.Join(
					hosts.Put(tx, sc, "h2", host{"s1", []string{"0a000004"}}),
					hosts.Put(tx, sc, "h1", host{"s1", []string{"0a000004"}}),
				)
			},
			prefix: "s1/0a000004",
			want:   []indexEntry{{"s1/0a000004", "h1"}, {"s1/0a000004", "h2"}},
			s1:     2,
		},
		{
			name: "records written without the index are found",
			setup: func(tx Tx) error {
				return errors.Join(
					rawHosts.Put(tx, sc, "h1", host{"s1", []string{"0a000009"}}),
					rawHosts.Put(tx, sc, "h2", host{"s2", []string{"0a000104"}}),
				)
			},
			legacy: true,
			prefix: "s1/",
			want:   []indexEntry{{"s1/0a000009", "h1"}},
			s1:     1,
		},
	}
	for _, b := range backends {
		for _, tt := range tests {
			t.Run(b.name+"/"+tt.name, func(t *testing.T) {
				s := b.open(t)
				defer s.Close()
				if err := s.Update(ctx, tt.setup); err != nil {
					t.Fatalf("setup: %v", err)
				}
				// A read-only transaction: from the entries, or from the
				// records when the index was never built.
				if err := s.View(ctx, func(tx Tx) error {
					if got := scanAll(t, tx, sc, tt.prefix); !slices.Equal(got, tt.want) {
						t.Errorf("View: ScanIndex = %v, want %v", got, tt.want)
					}
					if n, err := hosts.Count(tx, sc, "ip", "s1"); n != tt.s1 || err != nil {
						t.Errorf("View: Count = %d, %v; want %d", n, err, tt.s1)
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				// A read-write one builds what is missing; then the entries
				// themselves must give the same answer.
				if err := s.Update(ctx, func(tx Tx) error {
					if got := scanAll(t, tx, sc, tt.prefix); !slices.Equal(got, tt.want) {
						t.Errorf("Update: ScanIndex = %v, want %v", got, tt.want)
					}
					if n, err := hosts.Count(tx, sc, "ip", "s1"); n != tt.s1 || err != nil {
						t.Errorf("Update: Count = %d, %v; want %d", n, err, tt.s1)
					}
					if n, err := hosts.Count(tx, sc, "ip", "none"); n != 0 || err != nil {
						t.Errorf("Update: Count of an empty group = %d, %v", n, err)
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				var entries []indexEntry
				if err := s.View(ctx, func(tx Tx) error {
					if _, ok := tx.Get(hosts.indexMarker(sc, "ip")); !ok {
						t.Errorf("no marker after a read-write scan")
					}
					base := hosts.indexMarker(sc, "ip") + "/"
					return tx.Scan(base+tt.prefix, func(key string, _ []byte) error {
						v, id, _ := strings.Cut(strings.TrimPrefix(key, base), indexSep)
						entries = append(entries, indexEntry{v, id})
						return nil
					})
				}); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(entries, tt.want) {
					t.Errorf("stored entries = %v, want %v", entries, tt.want)
				}
			})
		}
	}
}

func TestIndexRollbackAndLookup(t *testing.T) {
	sc := Scope{Account: "1", Region: "r"}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			defer s.Close()
			if err := s.Update(ctx, func(tx Tx) error {
				return hosts.Put(tx, sc, "h1", host{"s1", []string{"a"}})
			}); err != nil {
				t.Fatal(err)
			}
			boom := errors.New("boom")
			err := s.Update(ctx, func(tx Tx) error {
				if err := hosts.Put(tx, sc, "h1", host{"s1", []string{"b"}}); err != nil {
					return err
				}
				if ids, err := hosts.Lookup(tx, sc, "ip", "s1/b"); err != nil || !slices.Equal(ids, []string{"h1"}) {
					t.Errorf("Lookup inside the writer = %v, %v", ids, err)
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("Update = %v", err)
			}
			// Update first builds the index, then reads the entries; View
			// before it reads the records.
			for _, txn := range []func(context.Context, func(Tx) error) error{s.View, s.Update} {
				err := txn(ctx, func(tx Tx) error {
					for value, want := range map[string][]string{"s1/a": {"h1"}, "s1/b": nil, "s1/": nil, "s1": nil} {
						ids, err := hosts.Lookup(tx, sc, "ip", value)
						if err != nil || !slices.Equal(ids, want) {
							t.Errorf("Lookup(%q) after rollback = %v, %v; want %v", value, ids, err, want)
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			err = s.View(ctx, func(tx Tx) error {
				// The table's own scans never see entry keys.
				n := 0
				if err := hosts.ForEach(tx, sc, func(string, host) error { n++; return nil }); err != nil {
					return err
				}
				if n != 1 {
					t.Errorf("ForEach saw %d records, want 1", n)
				}
				if _, err := hosts.Lookup(tx, sc, "nope", "x"); err == nil {
					t.Errorf("Lookup of an unknown index: no error")
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			err = s.Update(ctx, func(tx Tx) error {
				return hosts.Put(tx, sc, "h2", host{"s1", []string{"bad\x00value"}})
			})
			if !errors.Is(err, ErrInvalidKey) {
				t.Errorf("value with NUL: %v, want ErrInvalidKey", err)
			}
		})
	}
}

// TestIndexVersion checks that an index written under another definition
// (a changed Values, or a downgrade) is rebuilt, stale entries and counters
// gone, and that a read-only transaction meanwhile reads the records.
func TestIndexVersion(t *testing.T) {
	sc := Scope{Account: "1", Region: "r"}
	// byIP is the hosts index as version 0; bySubnet a later definition
	// (version 1) of the same index, by subnet alone.
	byIP := hosts
	bySubnet := Table[host]{Service: "test", Kind: "host", Indexes: []Index[host]{{
		Name:    "ip",
		Values:  func(h *host) []string { return []string{h.Subnet} },
		Group:   func(v string) string { return v },
		Version: 1,
	}}}
	lookup := func(tb Table[host], tx Tx) []string {
		var out []string
		if err := tb.ScanIndex(tx, sc, "ip", "", func(v, id string) error {
			out = append(out, v+"="+id)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			defer s.Close()
			steps := []struct {
				name  string
				table Table[host]
				want  []string
				count int // of group s1
			}{
				{"version 0 built", byIP, []string{"s1/0a000004=h1", "s1/0a000005=h1", "s2/0a000104=h2"}, 2},
				{"upgrade to version 1", bySubnet, []string{"s1=h1", "s2=h2"}, 1},
				{"downgrade to version 0", byIP, []string{"s1/0a000004=h1", "s1/0a000005=h1", "s2/0a000104=h2"}, 2},
			}
			if err := s.Update(ctx, func(tx Tx) error {
				return errors.Join(
					byIP.Put(tx, sc, "h1", host{"s1", []string{"0a000004", "0a000005"}}),
					byIP.Put(tx, sc, "h2", host{"s2", []string{"0a000104"}}))
			}); err != nil {
				t.Fatal(err)
			}
			for _, st := range steps {
				// Before a writer rebuilds it, a reader of the new
				// definition reads the records.
				for _, txn := range []func(context.Context, func(Tx) error) error{s.View, s.Update, s.View} {
					if err := txn(ctx, func(tx Tx) error {
						if got := lookup(st.table, tx); !slices.Equal(got, st.want) {
							t.Errorf("%s: entries %q, want %q", st.name, got, st.want)
						}
						if n, err := st.table.Count(tx, sc, "ip", "s1"); err != nil || n != st.count {
							t.Errorf("%s: Count(s1) = %d, %v; want %d", st.name, n, err, st.count)
						}
						return nil
					}); err != nil {
						t.Fatal(err)
					}
				}
				// What is stored is the definition's entries and counters
				// alone.
				var keys []string
				if err := s.View(ctx, func(tx Tx) error {
					return tx.Scan(st.table.indexMarker(sc, "ip"), func(k string, _ []byte) error {
						keys = append(keys, strings.TrimPrefix(k, st.table.indexMarker(sc, "ip")))
						return nil
					})
				}); err != nil {
					t.Fatal(err)
				}
				if want := len(st.want) + 1 + 2; len(keys) != want { // entries, marker, a counter per subnet
					t.Errorf("%s: stored %q, want %d keys", st.name, keys, want)
				}
			}
		})
	}
}
