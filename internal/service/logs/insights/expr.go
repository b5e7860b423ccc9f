package insights

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// record is one row as the commands see it: an event's fields, or a
// stats group's.
type record map[string]value

// env is what an expression is evaluated against.
type env struct {
	rec  record
	aggs []value // a stats group's aggregate results
}

// node is an expression.
type node interface {
	eval(e *env) value
}

type fieldRef struct{ name string }

func (f fieldRef) eval(e *env) value { return e.rec[f.name] }

type lit struct{ v value }

func (l lit) eval(*env) value { return l.v }

type negate struct{ x node }

func (n negate) eval(e *env) value {
	x, ok := n.x.eval(e).number()
	if !ok {
		return null
	}
	return num(-x)
}

type not struct{ x node }

func (n not) eval(e *env) value { return boolean(!n.x.eval(e).truthy()) }

type logical struct {
	and  bool
	l, r node
}

func (b logical) eval(e *env) value {
	l := b.l.eval(e).truthy()
	if b.and != l {
		return boolean(l)
	}
	return boolean(b.r.eval(e).truthy())
}

type compare struct {
	op   string
	l, r node
}

func (c compare) eval(e *env) value {
	l, r := c.l.eval(e), c.r.eval(e)
	if l.k == kNull || r.k == kNull {
		// A missing field satisfies no comparison, not even !=.
		return boolean(false)
	}
	n := compareValues(l, r)
	switch c.op {
	case "=":
		return boolean(n == 0)
	case "!=":
		return boolean(n != 0)
	case "<":
		return boolean(n < 0)
	case "<=":
		return boolean(n <= 0)
	case ">":
		return boolean(n > 0)
	}
	return boolean(n >= 0)
}

type arith struct {
	op   string
	l, r node
}

func (a arith) eval(e *env) value {
	lv, rv := a.l.eval(e), a.r.eval(e)
	x, ok1 := lv.number()
	y, ok2 := rv.number()
	if !ok1 || !ok2 {
		return null
	}
	switch a.op {
	case "+":
		return num(x + y)
	case "-":
		return num(x - y)
	case "*":
		return num(x * y)
	case "/":
		if y == 0 {
			return null
		}
		return num(x / y)
	case "%":
		if y == 0 {
			return null
		}
		// math.Mod: the remainder with the dividend's sign, as Go's and
		// SQL's % give for integers, and defined for fractions too
		// (5 % 0.5 is 0, 5.5 % 2 is 1.5); converting to int64 first
		// divided by zero for 0 < |y| < 1 and was undefined past 2^63.
		return num(math.Mod(x, y))
	}
	return num(pow(x, y))
}

// like is "like" and "=~": a /regex/ anywhere in the text, or a
// "substring".
type like struct {
	x   node
	re  *regexp.Regexp
	sub string
	neg bool
}

func (l like) eval(e *env) value {
	v := l.x.eval(e)
	if v.k == kNull {
		return boolean(false)
	}
	s := v.String()
	var m bool
	if l.re != nil {
		m = l.re.MatchString(s)
	} else {
		m = strings.Contains(s, l.sub)
	}
	return boolean(m != l.neg)
}

type in struct {
	x    node
	list []node
	neg  bool
}

func (n in) eval(e *env) value {
	v := n.x.eval(e)
	if v.k == kNull {
		return boolean(false)
	}
	for _, m := range n.list {
		if w := m.eval(e); w.k != kNull && compareValues(v, w) == 0 {
			return boolean(!n.neg)
		}
	}
	return boolean(n.neg)
}

// call is a scalar function.
type call struct {
	fn   *function
	args []node
}

func (c call) eval(e *env) value {
	args := make([]value, len(c.args))
	for i, a := range c.args {
		args[i] = a.eval(e)
	}
	return c.fn.call(e, args)
}

// aggRef reads a stats group's aggregate result.
type aggRef struct{ i int }

func (a aggRef) eval(e *env) value { return e.aggs[a.i] }

// parser parses one query.
type parser struct {
	lx   *lexer
	src  string
	last int // end of the last token consumed
	// stats, while a stats command's outputs are parsed, collects the
	// aggregate calls; nil elsewhere, where aggregates are refused.
	stats *[]*aggCall
}

func (p *parser) next() (token, error) {
	t, err := p.lx.next()
	if err == nil && t.kind != tEOF {
		p.last = t.end
	}
	return t, err
}

func (p *parser) peek() (token, error) { return p.lx.lookahead() }

func (p *parser) errorf(t token, format string, args ...any) error {
	return errorAt(p.src, t.pos, format, args...)
}

func (p *parser) unexpected(t token) error {
	if t.kind == tEOF {
		return p.errorf(t, "unexpected end of query")
	}
	return p.errorf(t, "unexpected symbol found %s", t.text)
}

// isWord reports whether t is the keyword w (case-insensitive).
func isWord(t token, w string) bool {
	return t.kind == tIdent && !t.quoted && strings.EqualFold(t.text, w)
}

func isPunct(t token, s string) bool { return t.kind == tPunct && t.text == s }

func (p *parser) acceptWord(w string) (bool, error) {
	t, err := p.peek()
	if err != nil || !isWord(t, w) {
		return false, err
	}
	_, err = p.next()
	return true, err
}

func (p *parser) acceptPunct(s string) (bool, error) {
	t, err := p.peek()
	if err != nil || !isPunct(t, s) {
		return false, err
	}
	_, err = p.next()
	return true, err
}

func (p *parser) expectPunct(s string) error {
	t, err := p.next()
	if err != nil {
		return err
	}
	if !isPunct(t, s) {
		return p.unexpected(t)
	}
	return nil
}

func (p *parser) expr() (node, error) { return p.or() }

func (p *parser) or() (node, error) {
	l, err := p.and()
	for err == nil {
		var ok bool
		if ok, err = p.acceptWord("or"); !ok || err != nil {
			break
		}
		var r node
		if r, err = p.and(); err == nil {
			l = logical{and: false, l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) and() (node, error) {
	l, err := p.not()
	for err == nil {
		var ok bool
		if ok, err = p.acceptWord("and"); !ok || err != nil {
			break
		}
		var r node
		if r, err = p.not(); err == nil {
			l = logical{and: true, l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) not() (node, error) {
	if ok, err := p.acceptWord("not"); err != nil || ok {
		if err != nil {
			return nil, err
		}
		x, err := p.not()
		return not{x}, err
	}
	return p.comparison()
}

func (p *parser) comparison() (node, error) {
	l, err := p.additive()
	if err != nil {
		return nil, err
	}
	t, err := p.peek()
	if err != nil {
		return nil, err
	}
	switch {
	case t.kind == tPunct && (t.text == "=" || t.text == "!=" || t.text == "<" || t.text == "<=" || t.text == ">" || t.text == ">="):
		p.next()
		r, err := p.additive()
		return compare{op: t.text, l: l, r: r}, err
	case isPunct(t, "=~") || isWord(t, "like"):
		p.next()
		return p.likeRHS(l, false)
	case isWord(t, "in"):
		p.next()
		return p.inRHS(l, false)
	case isWord(t, "not"):
		p.next()
		u, err := p.next()
		if err != nil {
			return nil, err
		}
		switch {
		case isWord(u, "like"):
			return p.likeRHS(l, true)
		case isWord(u, "in"):
			return p.inRHS(l, true)
		}
		return nil, p.unexpected(u)
	}
	return l, nil
}

func (p *parser) likeRHS(x node, neg bool) (node, error) {
	if t, ok := p.lx.regex(); ok {
		p.last = t.end
		re, err := compileRegex(p, t)
		return like{x: x, re: re, neg: neg}, err
	}
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	if t.kind != tString {
		return nil, p.errorf(t, "expected a /regex/ or a string, found %s", t.text)
	}
	return like{x: x, sub: t.text, neg: neg}, nil
}

func compileRegex(p *parser, t token) (*regexp.Regexp, error) {
	re, err := regexp.Compile(t.text)
	if err != nil {
		return nil, p.errorf(t, "invalid regular expression /%s/: %s", t.text, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	return re, nil
}

func (p *parser) inRHS(x node, neg bool) (node, error) {
	if err := p.expectPunct("["); err != nil {
		return nil, err
	}
	var list []node
	for {
		e, err := p.additive()
		if err != nil {
			return nil, err
		}
		list = append(list, e)
		t, err := p.next()
		if err != nil {
			return nil, err
		}
		if isPunct(t, "]") {
			return in{x: x, list: list, neg: neg}, nil
		}
		if !isPunct(t, ",") {
			return nil, p.unexpected(t)
		}
	}
}

func (p *parser) additive() (node, error) {
	l, err := p.multiplicative()
	for err == nil {
		t, perr := p.peek()
		if perr != nil {
			return nil, perr
		}
		if !isPunct(t, "+") && !isPunct(t, "-") {
			break
		}
		p.next()
		var r node
		if r, err = p.multiplicative(); err == nil {
			l = arith{op: t.text, l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) multiplicative() (node, error) {
	l, err := p.power()
	for err == nil {
		t, perr := p.peek()
		if perr != nil {
			return nil, perr
		}
		if !isPunct(t, "*") && !isPunct(t, "/") && !isPunct(t, "%") {
			break
		}
		p.next()
		var r node
		if r, err = p.power(); err == nil {
			l = arith{op: t.text, l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) power() (node, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	if ok, err := p.acceptPunct("^"); err != nil || !ok {
		return l, err
	}
	r, err := p.power() // right-associative
	return arith{op: "^", l: l, r: r}, err
}

func (p *parser) unary() (node, error) {
	if ok, err := p.acceptPunct("-"); err != nil || ok {
		if err != nil {
			return nil, err
		}
		x, err := p.unary()
		return negate{x}, err
	}
	return p.primary()
}

func (p *parser) primary() (node, error) {
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	switch t.kind {
	case tNumber:
		n, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, p.errorf(t, "invalid number %s", t.text)
		}
		return lit{num(n)}, nil
	case tString:
		return lit{str(t.text)}, nil
	case tDuration:
		d, err := parsePeriod(t.text)
		if err != nil {
			return nil, p.errorf(t, "%v", err)
		}
		return lit{value{k: kDur, n: float64(d.Milliseconds())}}, nil
	case tIdent:
		if !t.quoted {
			if u, err := p.peek(); err != nil {
				return nil, err
			} else if isPunct(u, "(") {
				p.next()
				return p.call(t)
			}
			switch strings.ToLower(t.text) {
			case "true":
				return lit{boolean(true)}, nil
			case "false":
				return lit{boolean(false)}, nil
			}
		}
		return fieldRef{t.text}, nil
	case tPunct:
		if t.text == "(" {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			return e, p.expectPunct(")")
		}
	}
	return nil, p.unexpected(t)
}

// call parses a function's arguments, the name and ( read.
func (p *parser) call(name token) (node, error) {
	lname := strings.ToLower(name.text)
	if spec, ok := aggregates[lname]; ok {
		return p.aggregate(name, spec)
	}
	fn, ok := functions[lname]
	if !ok {
		return nil, p.errorf(name, "unknown function %s", name.text)
	}
	args, err := p.args()
	if err != nil {
		return nil, err
	}
	if len(args) < fn.min || fn.max >= 0 && len(args) > fn.max {
		return nil, p.errorf(name, "wrong number of arguments for %s: %d", name.text, len(args))
	}
	return call{fn: fn, args: args}, nil
}

// args parses "a, b, c)" (the ( already read).
func (p *parser) args() ([]node, error) {
	var args []node
	if ok, err := p.acceptPunct(")"); err != nil || ok {
		return nil, err
	}
	for {
		a, err := p.expr()
		if err != nil {
			return nil, err
		}
		args = append(args, a)
		t, err := p.next()
		if err != nil {
			return nil, err
		}
		if isPunct(t, ")") {
			return args, nil
		}
		if !isPunct(t, ",") {
			return nil, p.unexpected(t)
		}
	}
}

// parsePeriod reads a period such as 5m, 1h, 30s, 100ms, 1d, 1w.
func parsePeriod(s string) (time.Duration, error) {
	i := 0
	for i < len(s) && (isDigit(s[i]) || s[i] == '.') {
		i++
	}
	n, err := strconv.ParseFloat(s[:i], 64)
	unit, ok := periodUnits[strings.ToLower(s[i:])]
	if err != nil || !ok || n <= 0 {
		return 0, &periodError{s}
	}
	return time.Duration(n * float64(unit)), nil
}

type periodError struct{ s string }

func (e *periodError) Error() string { return "invalid time period " + e.s }

var periodUnits = map[string]time.Duration{
	"ms": time.Millisecond, "msec": time.Millisecond,
	"s": time.Second, "sec": time.Second, "second": time.Second, "seconds": time.Second,
	"m": time.Minute, "min": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hr": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
	"w": 7 * 24 * time.Hour, "week": 7 * 24 * time.Hour, "weeks": 7 * 24 * time.Hour,
}
