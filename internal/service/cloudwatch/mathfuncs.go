package cloudwatch

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/metrics"
)

// The metric math functions beyond SUM/AVG/MIN/MAX/STDDEV, METRICS and
// FILL(x, number) (expr.go), by the User Guide's "Metric math syntax and
// functions":
//
//   - ABS(x): absolute values.
//   - DIFF(x): each value minus the one before it (the first has none);
//     DIFF_TIME(x): the seconds between each timestamp and the one before;
//     RATE(x): DIFF over DIFF_TIME, a change per second.
//   - PERIOD(m): m's period in seconds at each of m's timestamps; m must be
//     a MetricStat query ("not the results of other expressions").
//   - IF(condition, a[, b]): a where the condition is non-zero, else b (no
//     value without b); a and b numbers or series, read at the condition's
//     timestamps.
//   - FILL(x, REPEAT): every period of the request gets the latest value
//     before it (the first value before the series starts); FILL(x,
//     LINEAR): values interpolated between the values around a gap, the
//     nearest one at either end.
//   - FIRST(array), LAST(array): the array's first or last series.
//   - SORT(array, AVG|MIN|MAX|SUM|STDDEV, ASC|DESC[, n]): the series in
//     the order of that statistic of their values, the first n.
//   - SLICE(array, from[, to]): the series from index from (0-based) up to
//     but not including to.
//   - SEARCH('{Namespace,Dim,…} terms', 'Stat', period): every stored
//     metric of the account and region with data in the request's range
//     whose dimension names are exactly the schema's (when a schema is
//     given) and that every term matches: Key=value or Key="value" for
//     MetricName, Namespace or a dimension name, a bare word or "phrase"
//     for a part of the namespace, name or a dimension value.
var mathFuncs map[string]func(e *evalEnv, args []node) (value, error)

func init() {
	mathFuncs = map[string]func(e *evalEnv, args []node) (value, error){
		"ABS":       mapFunc(math.Abs),
		"DIFF":      stepFunc(func(dv float64, _ int64) float64 { return dv }),
		"DIFF_TIME": stepFunc(func(_ float64, dt int64) float64 { return float64(dt) }),
		"RATE":      stepFunc(func(dv float64, dt int64) float64 { return dv / float64(dt) }),
		"PERIOD":    (*evalEnv).period,
		"IF":        (*evalEnv).ifFunc,
		"FIRST":     pickFunc(func(ss []*series) []*series { return ss[:1] }),
		"LAST":      pickFunc(func(ss []*series) []*series { return ss[len(ss)-1:] }),
		"SORT":      (*evalEnv).sort,
		"SLICE":     (*evalEnv).slice,
		"SEARCH":    (*evalEnv).searchFunc,
	}
}

// one evaluates the only argument of fn.
func (e *evalEnv) one(fn string, args []node) (value, error) {
	if len(args) != 1 {
		return value{}, fmt.Errorf("%s takes one argument", fn)
	}
	return e.eval(args[0])
}

func mapFunc(f func(float64) float64) func(*evalEnv, []node) (value, error) {
	return func(e *evalEnv, args []node) (value, error) {
		x, err := e.one("the function", args)
		if err != nil {
			return value{}, err
		}
		return mapValue(x, f), nil
	}
}

// eachSeries applies f to a series or to each series of an array; a
// number is an error.
func eachSeries(x value, what string, f func(*series) *series) (value, error) {
	switch {
	case x.one != nil:
		return value{one: f(x.one)}, nil
	case x.many != nil:
		out := make([]*series, len(x.many))
		for i, s := range x.many {
			out[i] = f(s)
		}
		return value{many: out}, nil
	}
	return value{}, fmt.Errorf("%s takes a time series or an array of time series", what)
}

// stepFunc is DIFF, DIFF_TIME or RATE: f of each value's change and
// seconds since the value before it.
func stepFunc(f func(dv float64, dt int64) float64) func(*evalEnv, []node) (value, error) {
	return func(e *evalEnv, args []node) (value, error) {
		x, err := e.one("the function", args)
		if err != nil {
			return value{}, err
		}
		return eachSeries(x, "DIFF, DIFF_TIME and RATE each", func(s *series) *series {
			o := &series{label: s.label, dropped: s.dropped}
			for i := 1; i < len(s.ts); i++ {
				o.add(s.ts[i], f(s.vs[i]-s.vs[i-1], s.ts[i]-s.ts[i-1]))
			}
			return o
		})
	}
}

func (e *evalEnv) period(args []node) (value, error) {
	id, ok := func() (*idNode, bool) {
		if len(args) != 1 {
			return nil, false
		}
		id, ok := args[0].(*idNode)
		return id, ok
	}()
	if !ok {
		return value{}, fmt.Errorf("PERIOD takes the id of one metric")
	}
	p, ok := int64(0), false
	if e.periodOf != nil {
		p, ok = e.periodOf(id.id)
	}
	if !ok {
		return value{}, fmt.Errorf("the argument of PERIOD must be a metric, not an expression")
	}
	x, err := e.eval(id)
	if err != nil {
		return value{}, err
	}
	return mapValue(x, func(float64) float64 { return float64(p) }), nil
}

// at answers a number's value, or a series' at t.
func at(x value, t int64) (float64, bool) {
	if x.scalar != nil {
		return *x.scalar, true
	}
	i, found := slices.BinarySearch(x.one.ts, t)
	if !found {
		return 0, false
	}
	return x.one.vs[i], true
}

func (e *evalEnv) ifFunc(args []node) (value, error) {
	if len(args) != 2 && len(args) != 3 {
		return value{}, fmt.Errorf("IF takes two or three arguments")
	}
	vals := make([]value, len(args))
	for i, a := range args {
		v, err := e.eval(a)
		if err != nil {
			return value{}, err
		}
		if v.many != nil {
			return value{}, fmt.Errorf("the arguments of IF must be numbers or time series, not arrays")
		}
		vals[i] = v
	}
	cond := vals[0]
	pick := func(c float64, t int64) (float64, bool) {
		switch {
		case c != 0:
			return at(vals[1], t)
		case len(vals) == 3:
			return at(vals[2], t)
		}
		return 0, false
	}
	if cond.scalar != nil {
		// A number as condition picks a whole branch.
		switch {
		case *cond.scalar != 0:
			return vals[1], nil
		case len(vals) == 3:
			return vals[2], nil
		}
		return value{one: &series{}}, nil
	}
	o := &series{label: cond.one.label, dropped: cond.one.dropped}
	for i, t := range cond.one.ts {
		if v, ok := pick(cond.one.vs[i], t); ok {
			o.add(t, v)
		}
	}
	return value{one: o}, nil
}

func pickFunc(f func([]*series) []*series) func(*evalEnv, []node) (value, error) {
	return func(e *evalEnv, args []node) (value, error) {
		x, err := e.one("FIRST and LAST each", args)
		switch {
		case err != nil:
			return value{}, err
		case x.one != nil:
			return x, nil
		case x.many == nil:
			return value{}, fmt.Errorf("FIRST and LAST take an array of time series")
		case len(x.many) == 0:
			return value{many: x.many}, nil
		}
		return value{one: f(x.many)[0]}, nil
	}
}

// array evaluates an argument that must be an array (one series is an
// array of one).
func (e *evalEnv) array(n node, fn string) ([]*series, error) {
	x, err := e.eval(n)
	switch {
	case err != nil:
		return nil, err
	case x.one != nil:
		return []*series{x.one}, nil
	case x.many == nil:
		return nil, fmt.Errorf("the first argument of %s must be an array of time series", fn)
	}
	return x.many, nil
}

// count evaluates an argument that must be a whole number ≥ 0.
func (e *evalEnv) count(n node, what string) (int, error) {
	x, err := e.eval(n)
	if err != nil {
		return 0, err
	}
	if x.scalar == nil || *x.scalar < 0 || *x.scalar != math.Trunc(*x.scalar) || *x.scalar > math.MaxInt32 {
		return 0, fmt.Errorf("%s must be a whole number that is not negative", what)
	}
	return int(*x.scalar), nil
}

func word(n node) string {
	if id, ok := n.(*idNode); ok {
		return id.id
	}
	return ""
}

func (e *evalEnv) sort(args []node) (value, error) {
	if len(args) != 3 && len(args) != 4 {
		return value{}, fmt.Errorf("SORT takes three or four arguments")
	}
	ss, err := e.array(args[0], "SORT")
	if err != nil {
		return value{}, err
	}
	fn, order := word(args[1]), word(args[2])
	if !slices.Contains([]string{"AVG", "MIN", "MAX", "SUM", "STDDEV"}, fn) {
		return value{}, fmt.Errorf("the second argument of SORT must be AVG, MIN, MAX, SUM or STDDEV")
	}
	if order != "ASC" && order != "DESC" {
		return value{}, fmt.Errorf("the third argument of SORT must be ASC or DESC")
	}
	key := func(s *series) float64 {
		if len(s.vs) == 0 {
			return math.Inf(-1) // series without values sort first
		}
		return reduce(fn, s.vs)
	}
	out := slices.Clone(ss)
	slices.SortStableFunc(out, func(a, b *series) int {
		if order == "DESC" {
			return cmp.Compare(key(b), key(a))
		}
		return cmp.Compare(key(a), key(b))
	})
	if len(args) == 4 {
		n, err := e.count(args[3], "the fourth argument of SORT")
		if err != nil {
			return value{}, err
		}
		out = out[:min(n, len(out))]
	}
	return value{many: out}, nil
}

func (e *evalEnv) slice(args []node) (value, error) {
	if len(args) != 2 && len(args) != 3 {
		return value{}, fmt.Errorf("SLICE takes two or three arguments")
	}
	ss, err := e.array(args[0], "SLICE")
	if err != nil {
		return value{}, err
	}
	from, err := e.count(args[1], "the second argument of SLICE")
	if err != nil {
		return value{}, err
	}
	to := len(ss)
	if len(args) == 3 {
		if to, err = e.count(args[2], "the third argument of SLICE"); err != nil {
			return value{}, err
		}
	}
	from, to = min(from, len(ss)), min(to, len(ss))
	if to < from {
		to = from
	}
	return value{many: ss[from:to]}, nil
}

func (e *evalEnv) searchFunc(args []node) (value, error) {
	if len(args) != 3 {
		return value{}, fmt.Errorf("SEARCH takes three arguments: the search expression, the statistic and the period")
	}
	q, ok1 := args[0].(*strNode)
	st, ok2 := args[1].(*strNode)
	p, err := e.eval(args[2])
	switch {
	case !ok1 || !ok2:
		return value{}, fmt.Errorf("the search expression and the statistic of SEARCH must be strings")
	case err != nil:
		return value{}, err
	case p.scalar == nil || *p.scalar <= 0 || *p.scalar != math.Trunc(*p.scalar):
		return value{}, fmt.Errorf("the period of SEARCH must be a whole number of seconds")
	}
	if e.search == nil {
		return value{}, fmt.Errorf("SEARCH is not available here")
	}
	ss, err := e.search(q.s, st.s, int64(*p.scalar))
	if err != nil {
		return value{}, err
	}
	return value{many: ss}, nil
}

// searchQuery is a parsed SEARCH expression.
type searchQuery struct {
	schema []string // namespace then dimension names; nil = any
	terms  []searchTerm
}

type searchTerm struct {
	key, value string // key "" = a bare word or phrase
}

// parseSearch parses '{Namespace,Dim} MetricName="x" word "a phrase"'.
func parseSearch(s string) (searchQuery, error) {
	var q searchQuery
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{") {
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return q, fmt.Errorf("missing } in the search expression")
		}
		for _, f := range strings.Split(s[1:end], ",") {
			f = strings.Trim(strings.TrimSpace(f), `"`)
			if f == "" {
				return q, fmt.Errorf("empty name in the search expression's schema")
			}
			q.schema = append(q.schema, f)
		}
		s = s[end+1:]
	}
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		var t searchTerm
		if k, rest, ok := strings.Cut(s, "="); ok && !strings.ContainsAny(k, " \"") {
			t.key, s = k, rest
		}
		if strings.HasPrefix(s, `"`) {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				return q, fmt.Errorf("unterminated phrase in the search expression")
			}
			t.value, s = s[1:1+end], s[end+2:]
		} else {
			end := strings.IndexAny(s, " \t")
			if end < 0 {
				end = len(s)
			}
			t.value, s = s[:end], s[end:]
		}
		q.terms = append(q.terms, t)
	}
	if q.schema == nil && q.terms == nil {
		return q, fmt.Errorf("the search expression is empty")
	}
	return q, nil
}

// matches applies the query to a metric.
func (q *searchQuery) matches(m metrics.Metric) bool {
	if q.schema != nil {
		if m.Namespace != q.schema[0] || len(m.Dims) != len(q.schema)-1 {
			return false
		}
		for _, d := range m.Dims {
			if !slices.Contains(q.schema[1:], d.Name) {
				return false
			}
		}
	}
	for _, t := range q.terms {
		if !t.matches(m) {
			return false
		}
	}
	return true
}

func (t searchTerm) matches(m metrics.Metric) bool {
	switch t.key {
	case "MetricName":
		return m.Name == t.value
	case "Namespace":
		return m.Namespace == t.value
	case "":
		if strings.Contains(m.Namespace, t.value) || strings.Contains(m.Name, t.value) {
			return true
		}
		for _, d := range m.Dims {
			if strings.Contains(d.Value, t.value) {
				return true
			}
		}
		return false
	}
	for _, d := range m.Dims {
		if d.Name == t.key {
			return d.Value == t.value
		}
	}
	return false
}

// searchLabel is a SEARCH result's label: its dimension values and
// metric name.
func searchLabel(m metrics.Metric) string {
	parts := make([]string, 0, len(m.Dims)+1)
	for _, d := range m.Dims {
		parts = append(parts, d.Value)
	}
	return strings.Join(append(parts, m.Name), " ")
}

// fillBy is FILL(x, REPEAT) or FILL(x, LINEAR) over the request's periods.
func (e *evalEnv) fillBy(x value, linear bool) value {
	one := func(s *series) *series {
		o := &series{label: s.label, dropped: s.dropped}
		if len(s.ts) == 0 {
			return o
		}
		j := 0 // the first of s's values at or after t
		for _, t := range e.grid {
			for j < len(s.ts) && s.ts[j] < t {
				j++
			}
			var v float64
			switch {
			case j < len(s.ts) && s.ts[j] == t:
				v = s.vs[j]
			case j == 0:
				v = s.vs[0]
			case j == len(s.ts) || !linear:
				v = s.vs[j-1]
			default:
				t0, t1 := s.ts[j-1], s.ts[j]
				v = s.vs[j-1] + (s.vs[j]-s.vs[j-1])*float64(t-t0)/float64(t1-t0)
			}
			o.add(t, v)
		}
		return o
	}
	if x.scalar != nil {
		return x
	}
	v, _ := eachSeries(x, "FILL", one)
	return v
}
