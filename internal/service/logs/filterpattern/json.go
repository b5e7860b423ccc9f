package filterpattern

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// expr is a boolean expression of a JSON or space-delimited pattern,
// evaluated against an environment: the decoded JSON event or the named
// fields of a split event.
type expr interface {
	eval(env any) bool
}

type andExpr []expr
type orExpr []expr

func (a andExpr) eval(env any) bool {
	for _, e := range a {
		if !e.eval(env) {
			return false
		}
	}
	return true
}

func (o orExpr) eval(env any) bool {
	for _, e := range o {
		if e.eval(env) {
			return true
		}
	}
	return false
}

// parseOr parses cond (&& cond)* (|| ...)*, where && binds tighter, as
// AWS documents: () > && > ||. leaf parses one condition.
func (p *parser) parseOr(leaf func() (expr, error)) (expr, error) {
	var or orExpr
	for {
		var and andExpr
		for {
			var e expr
			var err error
			if p.peek().kind == tLParen {
				p.next()
				if e, err = p.parseOr(leaf); err != nil {
					return nil, err
				}
				if t := p.next(); t.kind != tRParen {
					return nil, p.errorf(t, "expected ')'")
				}
			} else if e, err = leaf(); err != nil {
				return nil, err
			}
			and = append(and, e)
			if p.peek().kind != tAnd {
				break
			}
			p.next()
		}
		or = append(or, simplify(and))
		if p.peek().kind != tOr {
			break
		}
		p.next()
	}
	if len(or) == 1 {
		return or[0], nil
	}
	return or, nil
}

func simplify(a andExpr) expr {
	if len(a) == 1 {
		return a[0]
	}
	return a
}

// selector is a parsed $.a.b[0] path; a "*" step is any member or element.
type selector struct {
	steps []step
}

type step struct {
	key   string
	index int // >= 0: an array element
	any   bool
}

// parseSelector parses "$", "$.a", "$.a.b[0][1]", "$.*", "$.a[*]".
func parseSelector(ref string) (selector, error) {
	if !strings.HasPrefix(ref, "$") {
		return selector{}, fmt.Errorf("Invalid selector '%s': it must start with $", ref)
	}
	var sel selector
	s := ref[1:]
	for s != "" {
		switch s[0] {
		case '.':
			end := 1
			for end < len(s) && s[end] != '.' && s[end] != '[' {
				end++
			}
			key := s[1:end]
			if key == "" {
				return selector{}, fmt.Errorf("Invalid selector '%s': empty property name", ref)
			}
			sel.steps = append(sel.steps, step{key: key, index: -1, any: key == "*"})
			s = s[end:]
		case '[':
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return selector{}, fmt.Errorf("Invalid selector '%s': missing ]", ref)
			}
			in := s[1:end]
			if in == "*" {
				sel.steps = append(sel.steps, step{index: -1, any: true})
			} else {
				n, err := strconv.Atoi(in)
				if err != nil || n < 0 || len(sel.steps) == 0 {
					return selector{}, fmt.Errorf("Invalid selector '%s': bad array index [%s]", ref, in)
				}
				sel.steps = append(sel.steps, step{index: n})
			}
			s = s[end+1:]
		default:
			return selector{}, fmt.Errorf("Invalid selector '%s'", ref)
		}
	}
	return sel, nil
}

// values returns every node the selector reaches in v (several only
// through a * step).
func (sel selector) values(v any) []any {
	cur := []any{v}
	for _, st := range sel.steps {
		var next []any
		for _, c := range cur {
			switch n := c.(type) {
			case map[string]any:
				if st.any {
					for _, m := range n {
						next = append(next, m)
					}
				} else if st.index < 0 {
					if m, ok := n[st.key]; ok {
						next = append(next, m)
					}
				}
			case []any:
				if st.any {
					next = append(next, n...)
				} else if st.index >= 0 && st.index < len(n) {
					next = append(next, n[st.index])
				}
			}
		}
		cur = next
	}
	return cur
}

func (sel selector) lookup(v any) (any, bool) {
	vs := sel.values(v)
	if len(vs) == 0 {
		return nil, false
	}
	return vs[0], true
}

// jsonText is a node as a metric value or comparison sees it: strings
// unquoted, numbers as written, objects and arrays as JSON.
func jsonText(v any) string {
	switch n := v.(type) {
	case string:
		return n
	case json.Number:
		return n.String()
	case nil:
		return "null"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// jsonCond is one condition of a JSON pattern.
type jsonCond struct {
	sel selector
	op  string // = != < <= > >=, or IS TRUE, IS FALSE, IS NULL, NOT EXISTS
	lit literal
}

func (c jsonCond) eval(env any) bool {
	vs := c.sel.values(env)
	if c.op == "NOT EXISTS" {
		return len(vs) == 0
	}
	for _, v := range vs {
		if c.holds(v) {
			return true
		}
	}
	return false
}

// holds applies the condition to one node: a comparison applies only to
// a value node (string, number, boolean), never to an object, an array
// or null, so both = and != fail there, as AWS documents.
func (c jsonCond) holds(v any) bool {
	switch c.op {
	case "IS TRUE":
		return v == true
	case "IS FALSE":
		return v == false
	case "IS NULL":
		return v == nil
	}
	switch v.(type) {
	case string, json.Number, bool:
		return compare(c.op, jsonText(v), c.lit)
	}
	return false
}

// compileJSON compiles { conditions }.
func compileJSON(pattern string) (*Pattern, error) {
	if !strings.HasSuffix(pattern, "}") {
		return nil, fmt.Errorf("Invalid filter pattern: a JSON pattern must end with '}'")
	}
	toks, err := lex(pattern[1 : len(pattern)-1])
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	if p.peek().kind == tEOF {
		return nil, fmt.Errorf("Invalid filter pattern: empty JSON pattern")
	}
	e, err := p.parseOr(p.parseJSONCond)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errorf(t, "unexpected token")
	}
	return &Pattern{match: func(message string) (Match, bool) {
		doc, ok := decodeJSON(message)
		if !ok || !e.eval(doc) {
			return Match{}, false
		}
		return Match{json: doc, refs: p.selectors}, true
	}}, nil
}

func (p *parser) parseJSONCond() (expr, error) {
	t := p.next()
	if t.kind != tWord || !strings.HasPrefix(t.text, "$") {
		return nil, p.errorf(t, "expected a selector such as $.field")
	}
	sel, err := parseSelector(t.text)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(p.selectors, t.text) {
		p.selectors = append(p.selectors, t.text)
	}
	c := jsonCond{sel: sel}
	switch op := p.next(); {
	case op.kind == tOp:
		c.op = op.text
		if c.lit, err = p.parseLiteral(); err != nil {
			return nil, err
		}
		if err := checkNumericOp(p, c.op, c.lit); err != nil {
			return nil, err
		}
	case op.kind == tWord && op.text == "IS":
		v := p.next()
		if v.kind != tWord || (v.text != "TRUE" && v.text != "FALSE" && v.text != "NULL") {
			return nil, p.errorf(v, "expected TRUE, FALSE or NULL after IS")
		}
		c.op = "IS " + v.text
	case op.kind == tWord && op.text == "NOT":
		if v := p.next(); v.kind != tWord || v.text != "EXISTS" {
			return nil, p.errorf(v, "expected EXISTS after NOT")
		}
		c.op = "NOT EXISTS"
	default:
		return nil, p.errorf(op, "expected an operator")
	}
	return c, nil
}

// checkNumericOp refuses <, <=, > and >= with anything but a number.
func checkNumericOp(p *parser, op string, lit literal) error {
	if op != "=" && op != "!=" && !lit.isNum {
		return fmt.Errorf("Invalid filter pattern: operator %s needs a number, got '%s'", op, lit.text)
	}
	return nil
}

// decodeJSON decodes a message that is one JSON value, numbers kept as
// written.
func decodeJSON(message string) (any, bool) {
	d := json.NewDecoder(strings.NewReader(message))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, false
	}
	if strings.TrimSpace(message[d.InputOffset():]) != "" {
		return nil, false // trailing data: not one JSON value
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, false
	}
	return v, true
}
