package insights

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxLimit is the largest limit the limit command takes, and
// defaultLimit the rows a query without one returns (AWS's limit page).
const (
	maxLimit     = 100000
	defaultLimit = 10000
)

// namedExpr is an expression and the column it fills.
type namedExpr struct {
	name string
	x    node
}

type (
	fieldsCmd  struct{ items []namedExpr }
	displayCmd struct{ items []namedExpr }
	filterCmd  struct{ cond node }
	sortCmd    struct{ keys []sortKey }
	limitCmd   struct{ n int }
	dedupCmd   struct{ names []string }
	parseCmd   struct {
		field node
		re    *regexp.Regexp
		names []string // the fields the pattern's captures fill, in order
	}
	statsCmd struct {
		aggs    []*aggCall
		outputs []namedExpr
		by      []namedExpr
	}
)

type sortKey struct {
	x    node
	desc bool
}

// Query is a parsed Logs Insights query.
type Query struct {
	cmds []any
}

// Parse parses a Logs Insights query: commands separated by |. The
// error's text is what AWS puts in a MalformedQueryException's message.
func Parse(query string) (*Query, error) {
	if !utf8.ValidString(query) {
		return nil, errors.New("the query is not valid UTF-8")
	}
	p := &parser{lx: &lexer{src: query}, src: query}
	q := &Query{}
	for {
		t, err := p.next()
		if err != nil {
			return nil, err
		}
		if t.kind == tEOF {
			if len(q.cmds) == 0 {
				return nil, p.errorf(t, "query is empty")
			}
			return nil, p.unexpected(t) // after a |
		}
		cmd, err := p.command(t)
		if err != nil {
			return nil, err
		}
		q.cmds = append(q.cmds, cmd)
		t, err = p.next()
		if err != nil {
			return nil, err
		}
		if t.kind == tEOF {
			return q, nil
		}
		if !isPunct(t, "|") {
			return nil, p.unexpected(t)
		}
	}
}

func (p *parser) command(t token) (any, error) {
	if t.kind != tIdent || t.quoted {
		return nil, p.unexpected(t)
	}
	switch strings.ToLower(t.text) {
	case "fields":
		items, err := p.namedList(true)
		return fieldsCmd{items}, err
	case "display":
		items, err := p.namedList(false)
		return displayCmd{items}, err
	case "filter":
		cond, err := p.expr()
		return filterCmd{cond}, err
	case "stats":
		return p.statsCommand()
	case "sort":
		return p.sortCommand()
	case "limit":
		n, err := p.next()
		if err != nil {
			return nil, err
		}
		v, cerr := strconv.Atoi(n.text)
		if n.kind != tNumber || cerr != nil || v < 1 || v > maxLimit {
			return nil, p.errorf(n, "limit must be a whole number from 1 to %d, found %s", maxLimit, n.text)
		}
		return limitCmd{v}, nil
	case "dedup":
		items, err := p.namedList(false)
		if err != nil {
			return nil, err
		}
		cmd := dedupCmd{}
		for _, it := range items {
			cmd.names = append(cmd.names, it.name)
		}
		return cmd, nil
	case "parse":
		return p.parseCommand()
	}
	return nil, p.errorf(t, "unexpected symbol found %s", t.text)
}

// namedList parses "expr [as name], ..."; without aliases, a list of
// field names.
func (p *parser) namedList(aliases bool) ([]namedExpr, error) {
	var items []namedExpr
	for {
		start, err := p.peek()
		if err != nil {
			return nil, err
		}
		var it namedExpr
		if aliases {
			if it.x, err = p.expr(); err != nil {
				return nil, err
			}
			if it.name, err = p.alias(p.nameOf(it.x, start.pos)); err != nil {
				return nil, err
			}
		} else {
			t, err := p.next()
			if err != nil {
				return nil, err
			}
			if t.kind != tIdent {
				return nil, p.unexpected(t)
			}
			it = namedExpr{name: t.text, x: fieldRef{t.text}}
		}
		items = append(items, it)
		if ok, err := p.acceptPunct(","); err != nil || !ok {
			return items, err
		}
	}
}

// alias reads an optional "as name", returning name or def.
func (p *parser) alias(def string) (string, error) {
	if ok, err := p.acceptWord("as"); err != nil || !ok {
		return def, err
	}
	a, err := p.next()
	if err != nil {
		return "", err
	}
	if a.kind != tIdent {
		return "", p.errorf(a, "expected a name after as, found %s", a.text)
	}
	return a.text, nil
}

// nameOf is the column an unaliased expression fills: a field's name,
// or the expression's text as written (AWS's "count(*)", "bin(5m)").
func (p *parser) nameOf(x node, start int) string {
	if f, ok := x.(fieldRef); ok {
		return f.name
	}
	return strings.TrimSpace(p.src[start:p.last])
}

func (p *parser) statsCommand() (any, error) {
	cmd := statsCmd{}
	p.stats = &cmd.aggs
	for {
		start, err := p.peek()
		if err != nil {
			return nil, err
		}
		n := len(cmd.aggs)
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		if len(cmd.aggs) == n {
			return nil, p.errorf(start, "stats needs an aggregate function, found %s", strings.TrimSpace(p.src[start.pos:p.last]))
		}
		it := namedExpr{x: x}
		if it.name, err = p.alias(p.nameOf(x, start.pos)); err != nil {
			return nil, err
		}
		cmd.outputs = append(cmd.outputs, it)
		if ok, err := p.acceptPunct(","); err != nil {
			return nil, err
		} else if !ok {
			break
		}
	}
	p.stats = nil
	if ok, err := p.acceptWord("by"); err != nil {
		return nil, err
	} else if ok {
		by, err := p.namedList(true)
		if err != nil {
			return nil, err
		}
		cmd.by = by
	}
	return cmd, nil
}

func (p *parser) sortCommand() (any, error) {
	var cmd sortCmd
	for {
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		// Without asc or desc, sort orders descending (unverified).
		k := sortKey{x: x, desc: true}
		if ok, err := p.acceptWord("asc"); err != nil {
			return nil, err
		} else if ok {
			k.desc = false
		} else if _, err := p.acceptWord("desc"); err != nil {
			return nil, err
		}
		cmd.keys = append(cmd.keys, k)
		if ok, err := p.acceptPunct(","); err != nil || !ok {
			return cmd, err
		}
	}
}

// parseCommand parses parse [field] "glob*" as a, b | parse [field] /(?<name>re)/.
func (p *parser) parseCommand() (any, error) {
	cmd := parseCmd{field: fieldRef{"@message"}}
	t, ok := p.lx.regex()
	if !ok {
		u, err := p.peek()
		if err != nil {
			return nil, err
		}
		if u.kind != tString {
			// Only a name: an expression would read the regex's / as a
			// division.
			if u.kind != tIdent {
				return nil, p.errorf(u, "parse needs a field, a \"glob\" or a /regex/, found %s", u.text)
			}
			p.next()
			cmd.field = fieldRef{u.text}
		}
		t, ok = p.lx.regex()
	}
	if ok {
		p.last = t.end
		re, err := compileRegex(p, t)
		if err != nil {
			return nil, err
		}
		for _, n := range re.SubexpNames()[1:] {
			if n == "" {
				return nil, p.errorf(t, "every group of a parse regex must be named: (?<name>...)")
			}
			cmd.names = append(cmd.names, n)
		}
		if len(cmd.names) == 0 {
			return nil, p.errorf(t, "a parse regex needs a named group (?<name>...)")
		}
		cmd.re = re
		return cmd, nil
	}
	g, err := p.next()
	if err != nil {
		return nil, err
	}
	if g.kind != tString {
		return nil, p.errorf(g, "parse needs a \"glob\" or a /regex/, found %s", g.text)
	}
	if ok, err := p.acceptWord("as"); err != nil {
		return nil, err
	} else if !ok {
		t, _ := p.peek()
		return nil, p.errorf(t, "expected as after the parse pattern")
	}
	items, err := p.namedList(false)
	if err != nil {
		return nil, err
	}
	stars := strings.Count(g.text, "*")
	if stars != len(items) {
		return nil, p.errorf(g, "the parse pattern has %d * but %d names follow as", stars, len(items))
	}
	for _, it := range items {
		cmd.names = append(cmd.names, it.name)
	}
	cmd.re = globRegex(g.text)
	return cmd, nil
}

// globRegex turns a parse glob into a regexp: each * a lazy capture but
// the last, which takes the rest of the text.
func globRegex(glob string) *regexp.Regexp {
	parts := strings.Split(glob, "*")
	var b strings.Builder
	b.WriteString("(?s)")
	for i, part := range parts {
		b.WriteString(regexp.QuoteMeta(part))
		switch {
		case i == len(parts)-1:
		case i == len(parts)-2 && parts[len(parts)-1] == "":
			b.WriteString("(.*)")
		default:
			b.WriteString("(.*?)")
		}
	}
	return regexp.MustCompile(b.String())
}
