package dnszone

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// refKey is the sort key spelled out: the name escaped as Route 53 writes
// it, labels reversed and joined by ".".
func refKey(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, `\%03o`, c)
		}
	}
	labels := strings.Split(strings.TrimSuffix(b.String(), "."), ".")
	slices.Reverse(labels)
	return strings.Join(labels, ".")
}

// CompareNames agrees with comparing the spelled-out keys, on names built
// from the bytes where the escaping and the separators decide the order.
func TestCompareNamesMatchesEscapedKeys(t *testing.T) {
	alphabet := []string{"a", "b", "z", "0", "9", "-", "_", "*", "A", " ", "/", "\\", "\x00", "\xff", "."}
	rng := rand.New(rand.NewPCG(1, 2))
	name := func() string {
		var b strings.Builder
		for range rng.IntN(6) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		b.WriteString(".example.com.")
		return b.String()
	}
	fixed := []string{"example.com.", "a.example.com.", "a-b.example.com.", "a.b.example.com.", "*.example.com.", "example.com", "com.", "."}
	names := slices.Clone(fixed)
	for range 2000 {
		names = append(names, name())
	}
	for i := range names {
		for _, j := range []int{(i + 1) % len(names), rng.IntN(len(names))} {
			a, b := names[i], names[j]
			if got, want := CompareNames(a, b), strings.Compare(refKey(a), refKey(b)); got != want {
				t.Fatalf("CompareNames(%q, %q) = %d, want %d (keys %q, %q)", a, b, got, want, refKey(a), refKey(b))
			}
		}
	}
}

func set(name, typ, id string) *RecordSet {
	return &RecordSet{Name: name, Type: typ, SetIdentifier: id}
}

func TestFind(t *testing.T) {
	recs := []*RecordSet{
		set("www.example.com.", "A", ""), set("example.com.", "NS", ""), set("example.com.", "SOA", ""),
		set("a.www.example.com.", "TXT", ""), set("w.example.com.", "A", "2"), set("w.example.com.", "A", "1"),
		set("*.example.com.", "A", ""), set("www-1.example.com.", "A", ""),
	}
	SortRecordSets(recs)
	z := &Zone{Records: recs}
	for _, tc := range []struct {
		name string
		want []string // type/id of each set found
	}{
		{"example.com.", []string{"NS/", "SOA/"}},
		{"w.example.com.", []string{"A/1", "A/2"}},
		{"www.example.com.", []string{"A/"}},
		{"*.example.com.", []string{"A/"}},
		{"ww.example.com.", nil},
		{"zzz.example.com.", nil},
		{"a.example.com.", nil},
	} {
		var got []string
		for _, r := range z.Find(tc.name) {
			if r.Name != tc.name {
				t.Errorf("Find(%s) returned a set of %s", tc.name, r.Name)
			}
			got = append(got, r.Type+"/"+r.SetIdentifier)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Find(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// ChangedNames reports exactly the names whose sets are not the same
// pointers, whether sets were added, removed or replaced.
func TestChangedNames(t *testing.T) {
	base := []*RecordSet{set("example.com.", "NS", ""), set("example.com.", "SOA", ""), set("a.example.com.", "A", ""),
		set("b.example.com.", "A", ""), set("b.example.com.", "TXT", ""), set("c.example.com.", "A", "")}
	SortRecordSets(base)
	edit := func(f func([]*RecordSet) []*RecordSet) *Zone {
		recs := f(slices.Clone(base))
		SortRecordSets(recs)
		return &Zone{Records: recs}
	}
	old := &Zone{Records: base}
	find := func(recs []*RecordSet, name, typ string) int {
		return slices.IndexFunc(recs, func(r *RecordSet) bool { return r.Name == name && r.Type == typ })
	}
	for _, tc := range []struct {
		desc string
		cur  *Zone
		want []string
	}{
		{"same", edit(func(r []*RecordSet) []*RecordSet { return r }), nil},
		{"added", edit(func(r []*RecordSet) []*RecordSet {
			return append(r, set("bb.example.com.", "A", ""), set("a.example.com.", "AAAA", ""))
		}), []string{"a.example.com.", "bb.example.com."}},
		{"removed", edit(func(r []*RecordSet) []*RecordSet {
			return slices.Delete(r, find(r, "b.example.com.", "TXT"), find(r, "b.example.com.", "TXT")+1)
		}), []string{"b.example.com."}},
		{"replaced by an equal copy", edit(func(r []*RecordSet) []*RecordSet {
			i := find(r, "c.example.com.", "A")
			c := *r[i]
			r[i] = &c
			return r
		}), []string{"c.example.com."}},
		{"emptied", &Zone{}, []string{"example.com.", "a.example.com.", "b.example.com.", "c.example.com."}},
	} {
		if got := ChangedNames(old, tc.cur); !slices.Equal(got, tc.want) {
			t.Errorf("%s: ChangedNames = %v, want %v", tc.desc, got, tc.want)
		}
		if got := ChangedNames(tc.cur, old); !slices.Equal(got, tc.want) {
			t.Errorf("%s, reversed: ChangedNames = %v, want %v", tc.desc, got, tc.want)
		}
	}
	if got := ChangedNames(nil, old); len(got) != 4 {
		t.Errorf("from nil: %v", got)
	}
}
