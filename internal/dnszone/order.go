package dnszone

import (
	"cmp"
	"sort"
	"strings"
)

// Route 53 lists record sets by name with the labels reversed
// ("www.example.com." sorts as "com.example.www"), each byte outside
// a-z, 0-9, "-" and "_" written as its \ooo escape ("*" is \052), then by
// type, then by set identifier. A Zone keeps its Records in that order, so
// the sets of one name are adjacent: a server finds them by binary search
// (Find) and tells two versions of a zone apart by walking both once
// (ChangedNames), without building any index of its own first.

// CompareNames orders two owner names as Route 53 lists them: -1, 0 or 1.
// It allocates nothing.
func CompareNames(a, b string) int {
	// Whole labels both names end with sort alike: compare what precedes
	// them (the names of one zone share at least its apex).
	a, b = strings.TrimSuffix(a, "."), strings.TrimSuffix(b, ".")
	i, j := len(a), len(b)
	for i > 0 && j > 0 && a[i-1] == b[j-1] {
		i, j = i-1, j-1
	}
	if d := strings.IndexByte(a[i:], '.'); d >= 0 {
		a, b = a[:i+d], b[:j+d]
	}
	ka, kb := newNameKey(a), newNameKey(b)
	for {
		ca, oka := ka.next()
		cb, okb := kb.next()
		switch {
		case !oka || !okb:
			return cmp.Compare(btoi(oka), btoi(okb))
		case ca != cb:
			return cmp.Compare(ca, cb)
		}
	}
}

// CompareRecordSets orders record sets as Route 53 lists them: by name
// (CompareNames), then type, then set identifier.
func CompareRecordSets(a, b *RecordSet) int {
	return cmp.Or(CompareNames(a.Name, b.Name), strings.Compare(a.Type, b.Type), strings.Compare(a.SetIdentifier, b.SetIdentifier))
}

// SortRecordSets sorts record sets into a Zone's order.
func SortRecordSets(recs []*RecordSet) {
	sort.SliceStable(recs, func(i, j int) bool { return CompareRecordSets(recs[i], recs[j]) < 0 })
}

// Find returns the record sets of owner name (as stored: lower case, with
// the trailing dot), in the zone's order; nil when it has none.
func (z *Zone) Find(name string) []*RecordSet {
	recs := z.Records
	lo := sort.Search(len(recs), func(i int) bool { return CompareNames(recs[i].Name, name) >= 0 })
	hi := lo
	for hi < len(recs) && recs[hi].Name == name {
		hi++
	}
	if hi == lo {
		return nil
	}
	return recs[lo:hi:hi]
}

// ChangedNames lists, in the zones' order, the owner names whose record
// sets differ between two versions of a zone: a set counts as unchanged
// only when both versions hold the same *RecordSet. For a version derived
// from the other (Route 53's snapshots share every set a change left
// alone) this costs one pointer comparison per set plus a name comparison
// per change; for unrelated zones it is still right, only slower.
func ChangedNames(old, cur *Zone) []string {
	var a, b []*RecordSet
	if old != nil {
		a = old.Records
	}
	if cur != nil {
		b = cur.Records
	}
	var out []string
	mark := func(name string) {
		if len(out) == 0 || out[len(out)-1] != name {
			out = append(out, name)
		}
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			i, j = i+1, j+1
		case j == len(b):
			mark(a[i].Name)
			i++
		case i == len(a):
			mark(b[j].Name)
			j++
		default:
			switch c := CompareRecordSets(a[i], b[j]); {
			case c < 0:
				mark(a[i].Name)
				i++
			case c > 0:
				mark(b[j].Name)
				j++
			default:
				mark(b[j].Name)
				i, j = i+1, j+1
			}
		}
	}
	return out
}

// nameKey yields the bytes of a name's sort key one at a time: its labels
// from the last to the first, joined by ".", each byte outside a-z, 0-9,
// "-" and "_" as a backslash and three octal digits.
type nameKey struct {
	s          string // the name without its trailing dot
	start, end int    // the label being read, s[start:end]
	i          int    // its next byte
	esc        int    // octal digits of c still to yield
	c          byte
}

// newNameKey reads a name without its trailing dot.
func newNameKey(s string) nameKey {
	start := strings.LastIndexByte(s, '.') + 1
	return nameKey{s: s, start: start, end: len(s), i: start}
}

func (k *nameKey) next() (byte, bool) {
	if k.esc > 0 {
		k.esc--
		return '0' + (k.c>>(3*k.esc))&7, true
	}
	if k.i < k.end {
		c := k.s[k.i]
		k.i++
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			return c, true
		}
		k.c, k.esc = c, 3
		return '\\', true
	}
	if k.start == 0 {
		return 0, false
	}
	k.end = k.start - 1
	k.start = strings.LastIndexByte(k.s[:k.end], '.') + 1
	k.i = k.start
	return '.', true
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
