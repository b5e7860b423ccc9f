package state

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"
)

type cacheRec struct {
	Name  *string
	When  time.Time
	At    *time.Time
	Tags  []struct{ Key, Value *string }
	Attrs map[string][]int
	Any   any
}

// TestDecodeGivesIndependentCopies checks the decode cache's promise: equal
// bytes decode to equal values, and no two callers share memory.
func TestDecodeGivesIndependentCopies(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	orig := cacheRec{Name: new("a"), When: at, At: &at, Attrs: map[string][]int{"x": {1, 2}}, Any: map[string]any{"k": []any{"v"}}}
	orig.Tags = append(orig.Tags, struct{ Key, Value *string }{new("k"), new("v")})
	raw, err := json.Marshal(orig)
	if err != nil {
		t.Fatal(err)
	}
	a, err := decode[cacheRec](raw)
	if err != nil {
		t.Fatal(err)
	}
	b, err := decode[cacheRec](raw)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) || !a.When.Equal(at) || *a.Name != "a" {
		t.Fatalf("decoded values differ: %+v vs %+v", a, b)
	}
	*a.Name = "changed"
	*a.Tags[0].Value = "changed"
	a.Attrs["x"][0] = 99
	a.Any.(map[string]any)["k"] = "changed"
	*a.At = time.Time{}
	c, _ := decode[cacheRec](raw)
	for _, v := range []cacheRec{b, c} {
		if *v.Name != "a" || *v.Tags[0].Value != "v" || v.Attrs["x"][0] != 1 || !v.At.Equal(at) {
			t.Fatalf("a change to one decoded value reached another: %+v", v)
		}
		if _, ok := v.Any.(map[string]any)["k"].([]any); !ok {
			t.Fatalf("interface value shared: %+v", v.Any)
		}
	}
}

func BenchmarkDecodeCached(b *testing.B) {
	rec := cacheRec{Name: new("instance"), Attrs: map[string][]int{"a": {1}, "b": {2}}}
	for i := 0; i < 20; i++ {
		rec.Tags = append(rec.Tags, struct{ Key, Value *string }{new("key"), new("value")})
	}
	raw, _ := json.Marshal(rec)
	b.Run("json", func(b *testing.B) {
		for b.Loop() {
			var v cacheRec
			_ = json.Unmarshal(raw, &v)
		}
	})
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			_, _ = decode[cacheRec](raw)
		}
	})
}

// TestForEachSharedFollowsWrites: the memory store hands ForEachShared its
// own slices and the cache finds them by address, so every read must still
// see the latest committed value or the transaction's own write, on every
// backend.
func TestForEachSharedFollowsWrites(t *testing.T) {
	sc := Scope{Account: "1", Region: "r"}
	names := func(t *testing.T, tx Tx) []string {
		t.Helper()
		var out []string
		if err := hosts.ForEachShared(tx, sc, func(id string, h *host) error {
			out = append(out, id+"="+h.Subnet)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	steps := []struct {
		name  string
		write func(tx Tx) error
		want  []string
	}{
		{"first", func(tx Tx) error { return hosts.Put(tx, sc, "a", host{Subnet: "s1"}) }, []string{"a=s1"}},
		{"rewrite", func(tx Tx) error { return hosts.Put(tx, sc, "a", host{Subnet: "s2"}) }, []string{"a=s2"}},
		{"same bytes again", func(tx Tx) error { return hosts.Put(tx, sc, "a", host{Subnet: "s2"}) }, []string{"a=s2"}},
		{"another", func(tx Tx) error { return hosts.Put(tx, sc, "b", host{Subnet: "s1"}) }, []string{"a=s2", "b=s1"}},
		{"delete", func(tx Tx) error { return hosts.Delete(tx, sc, "a") }, []string{"b=s1"}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			defer s.Close()
			for _, st := range steps {
				err := s.Update(ctx, func(tx Tx) error {
					if err := st.write(tx); err != nil {
						return err
					}
					if got := names(t, tx); !slices.Equal(got, st.want) {
						t.Errorf("%s: inside the writer: %v, want %v", st.name, got, st.want)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				for range 2 { // the second read comes from the cache
					_ = s.View(ctx, func(tx Tx) error {
						if got := names(t, tx); !slices.Equal(got, st.want) {
							t.Errorf("%s: after commit: %v, want %v", st.name, got, st.want)
						}
						return nil
					})
				}
			}
		})
	}
}

// TestGetSharedAndEnsureIndex checks GetShared against what was written,
// inside the writer and after commit, and that EnsureIndex reports an
// index incomplete to a reader until a writer builds it.
func TestGetSharedAndEnsureIndex(t *testing.T) {
	sc := Scope{Account: "1", Region: "r"}
	get := func(t *testing.T, tx Tx, id string) string {
		t.Helper()
		h, ok, err := hosts.GetShared(tx, sc, id)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return "-"
		}
		return h.Subnet
	}
	ensure := func(t *testing.T, tx Tx) bool {
		t.Helper()
		ok, err := hosts.EnsureIndex(tx, sc, "ip")
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			defer s.Close()
			// Records written by hand, as before the index existed.
			put(t, s, hosts.Key(sc, "a"), `{"subnet":"s1","ips":["10.0.0.4"]}`)
			steps := []struct {
				name  string
				write func(tx Tx) error
				id    string
				want  string
			}{
				{"stored", nil, "a", "s1"},
				{"missing", nil, "b", "-"},
				{"rewritten", func(tx Tx) error { return hosts.Put(tx, sc, "a", host{Subnet: "s2"}) }, "a", "s2"},
				{"deleted", func(tx Tx) error { return hosts.Delete(tx, sc, "a") }, "a", "-"},
			}
			for _, st := range steps {
				if st.write != nil {
					if err := s.Update(ctx, func(tx Tx) error {
						if err := st.write(tx); err != nil {
							return err
						}
						if got := get(t, tx, st.id); got != st.want {
							t.Errorf("%s: inside the writer: %s, want %s", st.name, got, st.want)
						}
						return nil
					}); err != nil {
						t.Fatal(err)
					}
				}
				for range 2 { // the second read comes from the cache
					_ = s.View(ctx, func(tx Tx) error {
						if got := get(t, tx, st.id); got != st.want {
							t.Errorf("%s: after commit: %s, want %s", st.name, got, st.want)
						}
						return nil
					})
				}
			}
			_ = s.View(ctx, func(tx Tx) error {
				if ensure(t, tx) {
					t.Error("a reader finds an index nobody built complete")
				}
				return nil
			})
			_ = s.Update(ctx, func(tx Tx) error {
				if !ensure(t, tx) {
					t.Error("a writer did not build the index")
				}
				return nil
			})
			_ = s.View(ctx, func(tx Tx) error {
				if !ensure(t, tx) {
					t.Error("a reader finds the built index incomplete")
				}
				return nil
			})
		})
	}
}
