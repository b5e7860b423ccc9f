package cloudwatch

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Metric math: a small expression language over time series, parsed into
// a tree and evaluated against the series of the request's other queries.
// Supported: numbers, query ids, + - * / ^ and unary minus, comparisons
// (== != < <= > >=, 1 or 0) and logic (AND &&, OR ||, NOT !), parentheses,
// [a, b] arrays, and the functions of mathfuncs.go.

type node interface{}

type (
	numNode  struct{ v float64 }
	idNode   struct{ id string }
	strNode  struct{ s string }
	listNode struct{ items []node }
	unNode   struct{ x node }
	notNode  struct{ x node }
	binNode  struct {
		op   byte
		l, r node
	}
	callNode struct {
		fn   string
		args []node
	}
)

type exprParser struct {
	s     string
	pos   int
	depth int // brackets, parentheses and calls open at pos
}

// parseExpr parses a metric math expression.
func parseExpr(s string) (node, error) {
	p := &exprParser{s: s}
	n, err := p.logic()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos != len(p.s) {
		return nil, fmt.Errorf("unexpected %q at position %d", p.s[p.pos:], p.pos+1)
	}
	return n, nil
}

func (p *exprParser) space() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t' || p.s[p.pos] == '\n') {
		p.pos++
	}
}

func (p *exprParser) peek() byte {
	p.space()
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

// Operators of comparison and logic, as binNode ops.
const (
	opGE  = 'g'
	opLE  = 'l'
	opEQ  = '='
	opNE  = '!'
	opAnd = '&'
	opOr  = '|'
)

// keyword answers whether the upper-case word w is next (and not the start
// of a longer name), consuming it.
func (p *exprParser) keyword(w string) bool {
	p.space()
	end := p.pos + len(w)
	if !strings.HasPrefix(p.s[p.pos:], w) || end < len(p.s) && (p.s[end] == '_' || unicode.IsLetter(rune(p.s[end])) || unicode.IsDigit(rune(p.s[end]))) {
		return false
	}
	p.pos = end
	return true
}

// symbol consumes sym when it is next.
func (p *exprParser) symbol(sym string) bool {
	p.space()
	if strings.HasPrefix(p.s[p.pos:], sym) {
		p.pos += len(sym)
		return true
	}
	return false
}

// logic is the loosest level: OR over AND over NOT over comparisons.
func (p *exprParser) logic() (node, error) {
	l, err := p.conj()
	for err == nil && (p.keyword("OR") || p.symbol("||")) {
		var r node
		if r, err = p.conj(); err == nil {
			l = &binNode{opOr, l, r}
		}
	}
	return l, err
}

func (p *exprParser) conj() (node, error) {
	l, err := p.negation()
	for err == nil && (p.keyword("AND") || p.symbol("&&")) {
		var r node
		if r, err = p.negation(); err == nil {
			l = &binNode{opAnd, l, r}
		}
	}
	return l, err
}

func (p *exprParser) negation() (node, error) {
	if p.keyword("NOT") || p.peek() == '!' && !strings.HasPrefix(p.s[p.pos:], "!=") && p.symbol("!") {
		x, err := p.negation()
		if err != nil {
			return nil, err
		}
		return &notNode{x}, nil
	}
	return p.comparison()
}

func (p *exprParser) comparison() (node, error) {
	l, err := p.expr()
	if err != nil {
		return nil, err
	}
	for _, c := range []struct {
		sym string
		op  byte
	}{{">=", opGE}, {"<=", opLE}, {"==", opEQ}, {"!=", opNE}, {">", '>'}, {"<", '<'}} {
		if p.symbol(c.sym) {
			r, err := p.expr()
			if err != nil {
				return nil, err
			}
			return &binNode{c.op, l, r}, nil
		}
	}
	return l, nil
}

func (p *exprParser) expr() (node, error) {
	l, err := p.term()
	for err == nil {
		op := p.peek()
		if op != '+' && op != '-' {
			return l, nil
		}
		p.pos++
		var r node
		if r, err = p.term(); err == nil {
			l = &binNode{op, l, r}
		}
	}
	return nil, err
}

func (p *exprParser) term() (node, error) {
	l, err := p.unary()
	for err == nil {
		op := p.peek()
		if op != '*' && op != '/' {
			return l, nil
		}
		p.pos++
		var r node
		if r, err = p.unary(); err == nil {
			l = &binNode{op, l, r}
		}
	}
	return nil, err
}

func (p *exprParser) unary() (node, error) {
	if p.peek() == '-' {
		p.pos++
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &unNode{x}, nil
	}
	b, err := p.primary()
	if err != nil {
		return nil, err
	}
	if p.peek() == '^' {
		p.pos++
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &binNode{'^', b, e}, nil
	}
	return b, nil
}

// maxDepth bounds nesting, so a hostile expression cannot exhaust the stack.
const maxDepth = 64

func (p *exprParser) primary() (node, error) {
	c := p.peek()
	switch {
	case c == 0:
		return nil, fmt.Errorf("unexpected end of expression")
	case c == '(':
		p.pos++
		if p.depth++; p.depth > maxDepth {
			return nil, fmt.Errorf("expression nested too deeply")
		}
		defer func() { p.depth-- }()
		n, err := p.logic()
		if err != nil {
			return nil, err
		}
		if p.peek() != ')' {
			return nil, fmt.Errorf("missing ) at position %d", p.pos+1)
		}
		p.pos++
		return n, nil
	case c == '[':
		p.pos++
		if p.depth++; p.depth > maxDepth {
			return nil, fmt.Errorf("expression nested too deeply")
		}
		defer func() { p.depth-- }()
		items, err := p.args(']')
		if err != nil {
			return nil, err
		}
		return &listNode{items}, nil
	case c == '\'' || c == '"':
		end := strings.IndexByte(p.s[p.pos+1:], c)
		if end < 0 {
			return nil, fmt.Errorf("unterminated string at position %d", p.pos+1)
		}
		s := p.s[p.pos+1 : p.pos+1+end]
		p.pos += end + 2
		return &strNode{s}, nil
	case c == '.' || c >= '0' && c <= '9':
		start := p.pos
		for p.pos < len(p.s) && (p.s[p.pos] == '.' || p.s[p.pos] >= '0' && p.s[p.pos] <= '9' || p.s[p.pos] == 'e' || p.s[p.pos] == 'E' ||
			(p.s[p.pos] == '-' || p.s[p.pos] == '+') && (p.s[p.pos-1] == 'e' || p.s[p.pos-1] == 'E')) {
			p.pos++
		}
		v, err := strconv.ParseFloat(p.s[start:p.pos], 64)
		if err != nil {
			return nil, fmt.Errorf("invalid number %q", p.s[start:p.pos])
		}
		return &numNode{v}, nil
	case c == '_' || unicode.IsLetter(rune(c)):
		start := p.pos
		for p.pos < len(p.s) && (p.s[p.pos] == '_' || p.s[p.pos] < 128 && (unicode.IsLetter(rune(p.s[p.pos])) || unicode.IsDigit(rune(p.s[p.pos])))) {
			p.pos++
		}
		name := p.s[start:p.pos]
		if p.peek() != '(' {
			return &idNode{name}, nil
		}
		p.pos++
		if p.depth++; p.depth > maxDepth {
			return nil, fmt.Errorf("expression nested too deeply")
		}
		defer func() { p.depth-- }()
		args, err := p.args(')')
		if err != nil {
			return nil, err
		}
		return &callNode{strings.ToUpper(name), args}, nil
	}
	return nil, fmt.Errorf("unexpected %q at position %d", c, p.pos+1)
}

func (p *exprParser) args(end byte) ([]node, error) {
	var out []node
	if p.peek() == end {
		p.pos++
		return out, nil
	}
	for {
		n, err := p.logic()
		if err != nil {
			return nil, err
		}
		out = append(out, n)
		switch p.peek() {
		case ',':
			p.pos++
		case end:
			p.pos++
			return out, nil
		default:
			return nil, fmt.Errorf("expected , or %c at position %d", end, p.pos+1)
		}
	}
}

// Values of an evaluation: a scalar, a series (timestamps in ascending
// Unix seconds with their values) or an array of series.
type series struct {
	label string
	ts    []int64
	vs    []float64
	// dropped: values that were not numbers (NaN, ±Inf) were left out
	// on the way to this series (the result's ArithmeticError message).
	dropped bool
}

type value struct {
	scalar *float64
	one    *series
	many   []*series
}

// evalEnv evaluates expressions of one request.
type evalEnv struct {
	grid    []int64 // every period start of the request, ascending
	lookup  func(id string) (value, error)
	statIDs []string // the ids of MetricStat queries, in request order
	// periodOf is a MetricStat query's period (PERIOD()).
	periodOf func(id string) (int64, bool)
	// search answers SEARCH(expression, stat, period)'s series.
	search func(expr, stat string, period int64) ([]*series, error)
}

func (e *evalEnv) eval(n node) (value, error) {
	switch n := n.(type) {
	case *numNode:
		return value{scalar: &n.v}, nil
	case *idNode:
		return e.lookup(n.id)
	case *strNode:
		return value{}, fmt.Errorf("a string is only an argument of METRICS()")
	case *listNode:
		var out []*series
		for _, it := range n.items {
			v, err := e.eval(it)
			if err != nil {
				return value{}, err
			}
			switch {
			case v.one != nil:
				out = append(out, v.one)
			case v.many != nil:
				out = append(out, v.many...)
			default:
				return value{}, fmt.Errorf("an array holds time series, not numbers")
			}
		}
		return value{many: out}, nil
	case *unNode:
		x, err := e.eval(n.x)
		if err != nil {
			return value{}, err
		}
		return mapValue(x, func(v float64) float64 { return -v }), nil
	case *notNode:
		x, err := e.eval(n.x)
		if err != nil {
			return value{}, err
		}
		return mapValue(x, func(v float64) float64 { return bool01(v == 0) }), nil
	case *binNode:
		l, err := e.eval(n.l)
		if err != nil {
			return value{}, err
		}
		r, err := e.eval(n.r)
		if err != nil {
			return value{}, err
		}
		return binary(n.op, l, r)
	case *callNode:
		return e.call(n)
	}
	return value{}, fmt.Errorf("unknown expression")
}

func mapValue(x value, f func(float64) float64) value {
	switch {
	case x.scalar != nil:
		v := f(*x.scalar)
		return value{scalar: &v}
	case x.one != nil:
		return value{one: mapSeries(x.one, f)}
	}
	out := make([]*series, len(x.many))
	for i, s := range x.many {
		out[i] = mapSeries(s, f)
	}
	return value{many: out}
}

func mapSeries(s *series, f func(float64) float64) *series {
	o := &series{label: s.label, dropped: s.dropped}
	for i, t := range s.ts {
		o.add(t, f(s.vs[i]))
	}
	return o
}

// add appends a value, or notes that it was dropped when it is not a
// number.
func (s *series) add(t int64, v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		s.dropped = true
		return
	}
	s.ts = append(s.ts, t)
	s.vs = append(s.vs, v)
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func arith(op byte, a, b float64) float64 {
	switch op {
	case '+':
		return a + b
	case '-':
		return a - b
	case '*':
		return a * b
	case '/':
		return a / b
	case '>':
		return bool01(a > b)
	case '<':
		return bool01(a < b)
	case opGE:
		return bool01(a >= b)
	case opLE:
		return bool01(a <= b)
	case opEQ:
		return bool01(a == b)
	case opNE:
		return bool01(a != b)
	case opAnd:
		return bool01(a != 0 && b != 0)
	case opOr:
		return bool01(a != 0 || b != 0)
	}
	return math.Pow(a, b)
}

// joinSeries combines two series at the timestamps both have.
func joinSeries(op byte, a, b *series) *series {
	o := &series{label: a.label, dropped: a.dropped || b.dropped}
	i, j := 0, 0
	for i < len(a.ts) && j < len(b.ts) {
		switch {
		case a.ts[i] < b.ts[j]:
			i++
		case a.ts[i] > b.ts[j]:
			j++
		default:
			o.add(a.ts[i], arith(op, a.vs[i], b.vs[j]))
			i++
			j++
		}
	}
	return o
}

func binary(op byte, l, r value) (value, error) {
	switch {
	case l.scalar != nil && r.scalar != nil:
		v := arith(op, *l.scalar, *r.scalar)
		return value{scalar: &v}, nil
	case r.scalar != nil:
		return mapValue(l, func(v float64) float64 { return arith(op, v, *r.scalar) }), nil
	case l.scalar != nil:
		return mapValue(r, func(v float64) float64 { return arith(op, *l.scalar, v) }), nil
	case l.one != nil && r.one != nil:
		return value{one: joinSeries(op, l.one, r.one)}, nil
	case l.one != nil:
		out := make([]*series, len(r.many))
		for i, s := range r.many {
			out[i] = joinSeries(op, l.one, s)
		}
		return value{many: out}, nil
	case r.one != nil:
		out := make([]*series, len(l.many))
		for i, s := range l.many {
			out[i] = joinSeries(op, s, r.one)
		}
		return value{many: out}, nil
	}
	return value{}, fmt.Errorf("two arrays of time series cannot be combined with an operator")
}

func (e *evalEnv) call(n *callNode) (value, error) {
	switch n.fn {
	case "METRICS":
		filter := ""
		if len(n.args) > 1 {
			return value{}, fmt.Errorf("METRICS takes at most one argument")
		}
		if len(n.args) == 1 {
			s, ok := n.args[0].(*strNode)
			if !ok {
				return value{}, fmt.Errorf("the argument of METRICS must be a string")
			}
			filter = s.s
		}
		var out []*series
		for _, id := range e.statIDs {
			if !strings.Contains(id, filter) {
				continue
			}
			v, err := e.lookup(id)
			if err != nil {
				return value{}, err
			}
			out = append(out, v.one)
		}
		return value{many: out}, nil
	case "SUM", "AVG", "MIN", "MAX", "STDDEV":
		if len(n.args) != 1 {
			return value{}, fmt.Errorf("%s takes one argument", n.fn)
		}
		x, err := e.eval(n.args[0])
		if err != nil {
			return value{}, err
		}
		return aggregate(n.fn, x)
	case "FILL":
		if len(n.args) != 2 {
			return value{}, fmt.Errorf("FILL takes two arguments")
		}
		x, err := e.eval(n.args[0])
		if err != nil {
			return value{}, err
		}
		if id, ok := n.args[1].(*idNode); ok && (id.id == "REPEAT" || id.id == "LINEAR") {
			return e.fillBy(x, id.id == "LINEAR"), nil
		}
		f, err := e.eval(n.args[1])
		if err != nil {
			return value{}, err
		}
		if f.scalar == nil {
			return value{}, fmt.Errorf("the second argument of FILL must be a number")
		}
		return e.fill(x, *f.scalar)
	}
	if f, ok := mathFuncs[n.fn]; ok {
		return f(e, n.args)
	}
	return value{}, fmt.Errorf("unknown function %s", n.fn)
}

func reduce(fn string, vs []float64) float64 {
	switch fn {
	case "SUM", "AVG":
		var s float64
		for _, v := range vs {
			s += v
		}
		if fn == "AVG" {
			s /= float64(len(vs))
		}
		return s
	case "MIN":
		return slices.Min(vs)
	case "STDDEV":
		// The population standard deviation (of the values given, not
		// an estimate of a larger population's).
		mean := reduce("AVG", vs)
		var ss float64
		for _, v := range vs {
			ss += (v - mean) * (v - mean)
		}
		return math.Sqrt(ss / float64(len(vs)))
	}
	return slices.Max(vs)
}

// aggregate is SUM/AVG/MIN/MAX/STDDEV: of an array, the series of each
// timestamp's aggregate over the series that have it; of one series, a
// scalar.
func aggregate(fn string, x value) (value, error) {
	switch {
	case x.scalar != nil:
		return x, nil
	case x.one != nil:
		if len(x.one.vs) == 0 {
			return value{one: &series{}}, nil
		}
		v := reduce(fn, x.one.vs)
		return value{scalar: &v}, nil
	}
	at := map[int64][]float64{}
	for _, s := range x.many {
		for i, t := range s.ts {
			at[t] = append(at[t], s.vs[i])
		}
	}
	o := &series{}
	for t := range at {
		o.ts = append(o.ts, t)
	}
	slices.Sort(o.ts)
	for _, t := range o.ts {
		o.vs = append(o.vs, reduce(fn, at[t]))
	}
	return value{one: o}, nil
}

// fill gives every period of the request a value: the series' own, else v.
func (e *evalEnv) fill(x value, v float64) (value, error) {
	one := func(s *series) *series {
		o := &series{label: s.label, ts: slices.Clone(e.grid), vs: make([]float64, len(e.grid)), dropped: s.dropped}
		j := 0
		for i, t := range e.grid {
			for j < len(s.ts) && s.ts[j] < t {
				j++
			}
			if j < len(s.ts) && s.ts[j] == t {
				o.vs[i] = s.vs[j]
			} else {
				o.vs[i] = v
			}
		}
		return o
	}
	switch {
	case x.scalar != nil:
		return x, nil
	case x.one != nil:
		return value{one: one(x.one)}, nil
	}
	out := make([]*series, len(x.many))
	for i, s := range x.many {
		out[i] = one(s)
	}
	return value{many: out}, nil
}

// errUnknown is a reference to an id the request does not have.
var errUnknown = fmt.Errorf("unknown metric or expression id")
