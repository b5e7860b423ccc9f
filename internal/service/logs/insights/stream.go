package insights

import (
	"container/heap"
	"slices"
	"strings"
	"time"
)

// A query's blocking commands, read while its events stream in.

// plan is what Run keeps while reading: a stats folded as events come
// (stats), or the k best rows in the answer's order (k > 0, ordered by
// sort if set, else newest first), after which consumed commands are
// done (limited: one of them was a limit). k == 0 and !stats: every
// matching record (a dedup, or a sort that another command follows).
type plan struct {
	stats    bool
	k        int
	sort     *sortCmd
	consumed int
	limited  bool
}

func planOf(rest []any) plan {
	if len(rest) == 0 {
		return plan{k: defaultLimit}
	}
	switch c := rest[0].(type) {
	case statsCmd:
		return plan{stats: true}
	case limitCmd:
		// The rows a later command sees are the first n: keep those.
		return plan{k: c.n, consumed: 1, limited: true}
	case sortCmd:
		if len(rest) == 1 {
			return plan{k: defaultLimit, sort: &c, consumed: 1}
		}
		if l, ok := rest[1].(limitCmd); ok {
			return plan{k: l.n, sort: &c, consumed: 2, limited: true}
		}
	}
	return plan{}
}

// ranked is a record with what orders it: its sort keys, its timestamp
// and its arrival (Run's order, newest first then sorted stably, ties
// left in arrival order).
type ranked struct {
	r    record
	keys []value
	ts   time.Time
	n    int
}

// topK keeps the k best records; its heap's root is the worst kept.
type topK struct {
	k    int
	sort *sortCmd
	h    []ranked
}

// before reports whether a comes before b in the answer.
func (t *topK) before(a, b ranked) bool {
	if t.sort != nil {
		for j, k := range t.sort.keys {
			va, vb := a.keys[j], b.keys[j]
			n := sortCompare(va, vb)
			if k.desc && va.k != kNull && vb.k != kNull {
				n = -n // missing values stay last either way
			}
			if n != 0 {
				return n < 0
			}
		}
	}
	if c := a.ts.Compare(b.ts); c != 0 {
		return c > 0
	}
	return a.n < b.n
}

func (t *topK) Len() int           { return len(t.h) }
func (t *topK) Less(i, j int) bool { return t.before(t.h[j], t.h[i]) }
func (t *topK) Swap(i, j int)      { t.h[i], t.h[j] = t.h[j], t.h[i] }
func (t *topK) Push(x any)         { t.h = append(t.h, x.(ranked)) }
func (t *topK) Pop() any {
	x := t.h[len(t.h)-1]
	t.h = t.h[:len(t.h)-1]
	return x
}

func (t *topK) add(r record, n int) {
	x := ranked{r: r, ts: r["@timestamp"].t, n: n}
	if t.sort != nil {
		e := &env{rec: r}
		for _, k := range t.sort.keys {
			x.keys = append(x.keys, k.x.eval(e))
		}
	}
	switch {
	case len(t.h) < t.k:
		heap.Push(t, x)
	case t.before(x, t.h[0]):
		t.h[0] = x
		heap.Fix(t, 0)
	}
}

// result is the kept records in the answer's order.
func (t *topK) result() []record {
	slices.SortFunc(t.h, func(a, b ranked) int {
		if t.before(a, b) {
			return -1
		}
		return 1
	})
	out := make([]record, len(t.h))
	for i, x := range t.h {
		out[i] = x.r
	}
	return out
}

// statsFolder is a stats command folding records as they come: one
// group of accumulators per combination of by values.
type statsFolder struct {
	c      statsCmd
	groups map[string]*statsGroup
	order  []*statsGroup
}

type statsGroup struct {
	by   []value
	accs []accumulator
	// The group's first record in newest-first order (latest timestamp,
	// then earliest arrival) orders groups whose by values tie, as when
	// the records were sorted before folding.
	ts time.Time
	n  int
}

func newStatsFolder(c statsCmd) *statsFolder {
	return &statsFolder{c: c, groups: map[string]*statsGroup{}}
}

func (f *statsFolder) add(r record, n int) {
	e := &env{rec: r}
	var key strings.Builder
	by := make([]value, len(f.c.by))
	for i, b := range f.c.by {
		by[i] = b.x.eval(e)
		key.WriteByte(byte(by[i].k))
		key.WriteString(by[i].String())
		key.WriteByte(0)
	}
	ts := r["@timestamp"].t
	g, ok := f.groups[key.String()]
	if !ok {
		g = &statsGroup{by: by, ts: ts, n: n}
		for _, a := range f.c.aggs {
			g.accs = append(g.accs, a.spec.newAcc())
		}
		f.groups[key.String()] = g
		f.order = append(f.order, g)
	} else if ts.After(g.ts) {
		g.ts, g.n = ts, n
	}
	for i, a := range f.c.aggs {
		v := str("*")
		if a.args[0] != nil {
			v = a.args[0].eval(e)
		}
		var extra []value
		for _, x := range a.args[1:] {
			extra = append(extra, x.eval(e))
		}
		g.accs[i].add(v, ts, extra)
	}
}

// result is one record per group, ordered by the group values ascending
// (unverified: AWS documents no order).
func (f *statsFolder) result() []record {
	slices.SortFunc(f.order, func(a, b *statsGroup) int {
		for i := range a.by {
			if n := sortCompare(a.by[i], b.by[i]); n != 0 {
				return n
			}
		}
		if c := b.ts.Compare(a.ts); c != 0 {
			return c
		}
		return a.n - b.n
	})
	out := make([]record, 0, len(f.order))
	for _, g := range f.order {
		r := record{}
		for i, b := range f.c.by {
			set(r, b.name, g.by[i])
		}
		e := &env{rec: r}
		for _, a := range g.accs {
			e.aggs = append(e.aggs, a.result())
		}
		for _, o := range f.c.outputs {
			set(r, o.name, o.x.eval(e))
		}
		out = append(out, r)
	}
	return out
}
