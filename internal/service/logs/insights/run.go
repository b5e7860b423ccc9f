package insights

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Event is one log event a query reads.
type Event struct {
	Time, Ingestion time.Time
	// Message is @message; Group is @log as AWS shows it
	// ("123456789012:/aws/lambda/f"); Stream is @logStream; Ptr is @ptr.
	Message, Group, Stream, Ptr string
}

// Field is one column of a result row.
type Field struct{ Name, Value string }

// Result is a query's outcome, as GetQueryResults reports it.
type Result struct {
	// Rows hold, per row, the fields that row has (a missing field is
	// left out, as AWS leaves it out); rows of events end with @ptr.
	Rows [][]Field
	// Matched counts the events that passed the query's filters before
	// stats, Scanned the events read, BytesScanned their messages' bytes.
	Matched, Scanned int64
	BytesScanned     float64
}

// Run runs the query over events; it stops with ctx's error when ctx is
// done. Events need not come in any order.
func (q *Query) Run(ctx context.Context, events iter.Seq[Event]) (Result, error) {
	var res Result
	// The commands up to the first one that needs every record (stats,
	// sort, limit, dedup) run per event, as it is read.
	stream := len(q.cmds)
	for i, c := range q.cmds {
		switch c.(type) {
		case statsCmd, sortCmd, limitCmd, dedupCmd:
			stream = i
		}
		if stream != len(q.cmds) {
			break
		}
	}
	// What the blocking commands need decides what is kept while events
	// are read: a stats folds them as they come; a limit, a sort, or no
	// blocking command at all keep only the rows that can be answered
	// (a bounded heap); anything else keeps every matching record.
	rest := q.cmds[stream:]
	var stats *statsFolder
	var top *topK
	limited := false
	var recs []record
	switch plan := planOf(rest); {
	case plan.stats:
		stats = newStatsFolder(rest[0].(statsCmd))
		rest = rest[1:]
	case plan.k > 0:
		top = &topK{k: plan.k, sort: plan.sort}
		rest, limited = rest[plan.consumed:], plan.limited
	}
	n := 0
	for ev := range events {
		if n++; n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return Result{}, fmt.Errorf("query cancelled: %w", err)
			}
		}
		res.Scanned++
		res.BytesScanned += float64(len(ev.Message))
		r := eventRecord(ev)
		if !applyStreaming(q.cmds[:stream], r) {
			continue
		}
		res.Matched++
		switch {
		case stats != nil:
			stats.add(r, n)
		case top != nil:
			top.add(r, n)
		default:
			recs = append(recs, r)
		}
	}
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("query cancelled: %w", err)
	}

	grouped := false
	switch {
	case stats != nil:
		recs, grouped = stats.result(), true
	case top != nil:
		recs = top.result()
	default:
		// Without a sort, events come newest first (AWS's default order).
		slices.SortStableFunc(recs, func(a, b record) int { return b["@timestamp"].t.Compare(a["@timestamp"].t) })
	}
	for _, c := range rest {
		switch c := c.(type) {
		case statsCmd:
			recs, grouped = runStats(c, recs), true
		case sortCmd:
			runSort(c, recs)
		case limitCmd:
			limited = true
			if len(recs) > c.n {
				recs = recs[:c.n]
			}
		case dedupCmd:
			recs = dedup(c, recs)
		default:
			recs = applyAll(c, recs)
		}
	}
	if !limited && len(recs) > defaultLimit {
		recs = recs[:defaultLimit]
	}
	cols := q.columns()
	for _, r := range recs {
		var row []Field
		for _, c := range cols {
			if v, ok := r[c]; ok && v.k != kNull {
				row = append(row, Field{c, v.String()})
			}
		}
		if p, ok := r["@ptr"]; ok && !grouped {
			row = append(row, Field{"@ptr", p.s})
		}
		res.Rows = append(res.Rows, row)
	}
	return res, nil
}

// columns are the fields a result row shows: display's, else those stats
// made, else those fields and parse made; @timestamp and @message when
// no fields, stats or display command names any.
func (q *Query) columns() []string {
	var cols []string
	explicit := false
	add := func(n string) {
		if !slices.Contains(cols, n) {
			cols = append(cols, n)
		}
	}
	for _, c := range q.cmds {
		switch c := c.(type) {
		case displayCmd:
			cols, explicit = nil, true
			for _, it := range c.items {
				add(it.name)
			}
		case statsCmd:
			cols, explicit = nil, true
			for _, it := range c.by {
				add(it.name)
			}
			for _, it := range c.outputs {
				add(it.name)
			}
		case fieldsCmd:
			explicit = true
			for _, it := range c.items {
				add(it.name)
			}
		case parseCmd:
			for _, n := range c.names {
				add(n)
			}
		}
	}
	if !explicit {
		cols = append([]string{"@timestamp", "@message"}, cols...)
	}
	return cols
}

// applyStreaming runs per-record commands on r; false: r is filtered out.
func applyStreaming(cmds []any, r record) bool {
	e := &env{rec: r}
	for _, c := range cmds {
		switch c := c.(type) {
		case filterCmd:
			if !c.cond.eval(e).truthy() {
				return false
			}
		case fieldsCmd:
			// Evaluate all first: fields a, b as a sees the old a.
			vals := make([]value, len(c.items))
			for i, it := range c.items {
				vals[i] = it.x.eval(e)
			}
			for i, it := range c.items {
				set(r, it.name, vals[i])
			}
		case parseCmd:
			v := c.field.eval(e)
			if v.k == kNull {
				continue
			}
			m := c.re.FindStringSubmatch(v.String())
			for i, n := range c.names {
				if m != nil {
					set(r, n, str(m[i+1]))
				} else {
					delete(r, n)
				}
			}
		case displayCmd:
		}
	}
	return true
}

// applyAll runs a per-record command over records after a blocking one.
func applyAll(c any, recs []record) []record {
	out := recs[:0]
	for _, r := range recs {
		if applyStreaming([]any{c}, r) {
			out = append(out, r)
		}
	}
	return out
}

func set(r record, name string, v value) {
	if v.k == kNull {
		delete(r, name)
		return
	}
	r[name] = v
}

func runSort(c sortCmd, recs []record) {
	keys := make([][]value, len(recs))
	for i, r := range recs {
		e := &env{rec: r}
		for _, k := range c.keys {
			keys[i] = append(keys[i], k.x.eval(e))
		}
	}
	idx := make([]int, len(recs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		for j, k := range c.keys {
			va, vb := keys[a][j], keys[b][j]
			n := sortCompare(va, vb)
			if k.desc && va.k != kNull && vb.k != kNull {
				n = -n // missing values stay last either way
			}
			if n != 0 {
				return n
			}
		}
		return 0
	})
	sorted := make([]record, len(recs))
	for i, j := range idx {
		sorted[i] = recs[j]
	}
	copy(recs, sorted)
}

// dedup keeps the first record of each combination of the fields'
// values; a record missing one of them is always kept.
func dedup(c dedupCmd, recs []record) []record {
	seen := map[string]bool{}
	out := recs[:0]
	for _, r := range recs {
		var key strings.Builder
		missing := false
		for _, n := range c.names {
			v, ok := r[n]
			if !ok || v.k == kNull {
				missing = true
				break
			}
			key.WriteString(v.String())
			key.WriteByte(0)
		}
		if !missing {
			if seen[key.String()] {
				continue
			}
			seen[key.String()] = true
		}
		out = append(out, r)
	}
	return out
}

// runStats folds records (newest first) into one record per group, for a
// stats that another blocking command precedes.
func runStats(c statsCmd, recs []record) []record {
	f := newStatsFolder(c)
	for i, r := range recs {
		f.add(r, i)
	}
	return f.result()
}

// eventRecord is an event's fields: the system fields and, for a JSON
// message, its keys flattened with dots (a.b, list.0.c), as AWS
// discovers them.
func eventRecord(ev Event) record {
	r := record{
		"@timestamp": timeVal(ev.Time),
		"@message":   str(ev.Message),
		"@logStream": str(ev.Stream),
		"@log":       str(ev.Group),
	}
	if !ev.Ingestion.IsZero() {
		r["@ingestionTime"] = timeVal(ev.Ingestion)
	}
	if ev.Ptr != "" {
		r["@ptr"] = str(ev.Ptr)
	}
	if m := strings.TrimSpace(ev.Message); strings.HasPrefix(m, "{") {
		d := json.NewDecoder(strings.NewReader(m))
		d.UseNumber()
		var v map[string]any
		if d.Decode(&v) == nil {
			flatten(r, "", v)
		}
	}
	return r
}

func flatten(r record, prefix string, v any) {
	switch n := v.(type) {
	case map[string]any:
		for k, c := range n {
			flatten(r, prefix+k+".", c)
		}
	case []any:
		for i, c := range n {
			flatten(r, prefix+strconv.Itoa(i)+".", c)
		}
	default:
		name := strings.TrimSuffix(prefix, ".")
		if _, system := r[name]; system || name == "" {
			return
		}
		switch n := v.(type) {
		case string:
			r[name] = str(n)
		case json.Number:
			f, err := n.Float64()
			if err == nil {
				r[name] = value{k: kNum, n: f, s: n.String()}
			} else {
				r[name] = str(n.String())
			}
		case bool:
			r[name] = str(strconv.FormatBool(n))
		}
	}
}
