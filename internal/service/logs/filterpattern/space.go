package filterpattern

import (
	"fmt"
	"strconv"
	"strings"
)

// spaceField is one comma-separated slot of a space-delimited pattern.
type spaceField struct {
	name     string // "" for an unnamed slot
	ellipsis bool   // ...: any number of fields
	cond     expr   // nil: no condition
}

// fieldCond is one condition on a named field.
type fieldCond struct {
	name string
	op   string
	lit  literal
}

func (c fieldCond) eval(env any) bool {
	v, ok := env.(map[string]string)[c.name]
	return ok && compare(c.op, v, c.lit)
}

// compileSpace compiles [field, field = value, ..., field > n].
func compileSpace(pattern string) (*Pattern, error) {
	if !strings.HasSuffix(pattern, "]") {
		return nil, fmt.Errorf("Invalid filter pattern: a space-delimited pattern must end with ']'")
	}
	fields, err := parseSpaceFields(pattern[1 : len(pattern)-1])
	if err != nil {
		return nil, err
	}
	// A trailing comma leaves an empty last slot, which still stands for
	// a field, as in AWS's [..., request=*.html*, status_code=4*,].
	b := newBinder(fields)
	return &Pattern{match: func(message string) (Match, bool) {
		words := splitFields(message)
		env, named, ok := b.bindNamed(words)
		if !ok {
			return Match{}, false
		}
		return Match{fields: env, named: named, words: len(words)}, true
	}}, nil
}

// parseSpaceFields parses the slots between a pattern's brackets.
func parseSpaceFields(inner string) ([]spaceField, error) {
	toks, err := lex(inner)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	var fields []spaceField
	for {
		f, err := p.parseSpaceField()
		if err != nil {
			return nil, err
		}
		// Consecutive ellipses are one: fewer choices to backtrack over.
		if !f.ellipsis || len(fields) == 0 || !fields[len(fields)-1].ellipsis {
			fields = append(fields, f)
		}
		t := p.next()
		if t.kind == tEOF {
			return fields, nil
		}
		if t.kind != tComma {
			return nil, p.errorf(t, "expected ','")
		}
	}
}

func (p *parser) parseSpaceField() (spaceField, error) {
	t := p.peek()
	switch {
	case t.kind == tComma || t.kind == tEOF:
		return spaceField{}, nil
	case t.kind == tWord && (t.text == "..." || t.text == "…"):
		p.next()
		return spaceField{ellipsis: true}, nil
	}
	var f spaceField
	cond, err := p.parseOr(func() (expr, error) {
		name := p.next()
		if name.kind != tWord {
			return nil, p.errorf(name, "expected a field name")
		}
		if f.name == "" {
			f.name = name.text
		}
		if p.peek().kind != tOp {
			return bareName(name.text), nil
		}
		op := p.next().text
		lit, err := p.parseLiteral()
		if err != nil {
			return nil, err
		}
		if err := checkNumericOp(p, op, lit); err != nil {
			return nil, err
		}
		return fieldCond{name: name.text, op: op, lit: lit}, nil
	})
	if err != nil {
		return spaceField{}, err
	}
	if _, plain := cond.(bareName); !plain {
		f.cond = cond
	}
	return f, nil
}

// bareName is a slot that only names its field.
type bareName string

func (bareName) eval(any) bool { return true }

// binder matches a message's words to a pattern's slots. It checks
// each slot's condition as soon as every field the condition names has
// taken its value for good, so a failing field prunes at once, and it
// remembers, for each ellipsis, the ends from which no match exists, so
// each (slot, word) pair is tried once: O(slots × words) steps instead
// of one per way of splitting the words between the ellipses. Its
// answers, and the fields it binds, are those of trying every split in
// order and checking the conditions at the end (bindReference in the
// tests).
type binder struct {
	fields []spaceField
	at     [][]expr // at[i]: the conditions to check once slot i is bound; at[len(fields)]: at the end
	memo   []bool   // memo[i]: ellipsis i may remember its failed ends, as they fail whatever the earlier slots took
}

func newBinder(fields []spaceField) *binder {
	b := &binder{fields: fields, at: make([][]expr, len(fields)+1), memo: make([]bool, len(fields))}
	last := map[string]int{}           // the last slot that binds each name
	fixed := make([]bool, len(fields)) // the slot's word is the same on every path: no ellipsis before it
	free := false
	for i, f := range fields {
		if f.name != "" {
			last[f.name] = i
		}
		fixed[i] = !free
		if f.ellipsis {
			free = true
			b.memo[i] = true
		}
	}
	for i, f := range fields {
		if f.cond == nil {
			continue
		}
		names, ok := condNames(f.cond, nil)
		at := i
		for _, n := range names {
			if isDigits(n) {
				// "3" is also the 3rd word, which an ellipsis binds only
				// once the whole match is known: check it at the end.
				ok = false
			}
			if l, bound := last[n]; bound && l > at {
				at = l
			}
		}
		if !ok {
			// Today's search exactly: every condition at the end, no
			// pruning (positions bound on branches since abandoned stay
			// in env, so pruning would change what "3" reads).
			b.at = make([][]expr, len(fields)+1)
			for _, f := range fields {
				if f.cond != nil {
					b.at[len(fields)] = append(b.at[len(fields)], f.cond)
				}
			}
			clear(b.memo)
			return b
		}
		b.at[at] = append(b.at[at], f.cond)
		// A condition checked at slot "at" that reads a field an earlier
		// slot l took for good, at a word that depends on the path, makes
		// each ellipsis between them depend on that earlier choice: what
		// fails after it once may hold on another path.
		for _, n := range names {
			if l, bound := last[n]; bound && l < at && !fixed[l] {
				for e := l + 1; e < at; e++ {
					b.memo[e] = false
				}
			}
		}
	}
	return b
}

// condNames appends the field names cond reads; ok is false for a
// condition it cannot see into.
func condNames(cond expr, names []string) ([]string, bool) {
	switch c := cond.(type) {
	case fieldCond:
		return append(names, c.name), true
	case bareName:
		return names, true
	case andExpr:
		for _, e := range c {
			var ok bool
			if names, ok = condNames(e, names); !ok {
				return names, false
			}
		}
		return names, true
	case orExpr:
		for _, e := range c {
			var ok bool
			if names, ok = condNames(e, names); !ok {
				return names, false
			}
		}
		return names, true
	}
	return names, false
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// bind assigns the message's fields to the pattern's slots, ellipses
// taking as many fields as make the rest fit and the conditions hold
// (the most they can, leftmost first); every field is also bound to its
// 1-based position ("$3").
func (b *binder) bind(words []string) (map[string]string, bool) {
	env, _, ok, _ := b.bindCount(words)
	return env, ok
}

// bindNamed is bind that also says which word each named slot took
// (named[i]: the 0-based word of the i-th named slot).
func (b *binder) bindNamed(words []string) (map[string]string, []int, bool) {
	env, at, ok, _ := b.bindCount(words)
	if !ok {
		return nil, nil, false
	}
	var named []int
	for fi, f := range b.fields {
		if f.name != "" {
			named = append(named, at[fi])
		}
	}
	return env, named, true
}

// bindCount is bind that also says where each slot was bound (at[i]: the
// word slot i took; ellipses' entries are unused) and how many steps it
// took. The search stops at its first success, so the last binding of
// each slot is the successful path's.
func (b *binder) bindCount(words []string) (map[string]string, []int, bool, int) {
	fields := b.fields
	env := make(map[string]string, len(words)+len(fields))
	at := make([]int, len(fields))
	// lowFail[fi], for an ellipsis slot fi: no match exists with the
	// ellipsis ending anywhere from that word on. Ellipses try their
	// longest take first, and a success ends the search, so the words
	// tried and failed are always such a suffix; knowing it, each
	// ellipsis tries each end once over the whole match.
	lowFail := make([]int, len(fields))
	for i := range lowFail {
		lowFail[i] = len(words) + 1
	}
	steps := 0
	holds := func(at int) bool {
		for _, c := range b.at[at] {
			if !c.eval(env) {
				return false
			}
		}
		return true
	}
	var walk func(fi, wi int) bool
	walk = func(fi, wi int) bool {
		steps++
		if fi == len(fields) {
			return wi == len(words) && holds(fi)
		}
		f := fields[fi]
		if f.ellipsis {
			for end := min(len(words), lowFail[fi]-1); end >= wi; end-- {
				steps++
				if walk(fi+1, end) {
					return true
				}
				if b.memo[fi] {
					lowFail[fi] = end
				}
			}
			return false
		}
		if wi == len(words) {
			return false
		}
		if f.name != "" {
			env[f.name] = words[wi]
		}
		at[fi] = wi
		env[strconv.Itoa(wi+1)] = words[wi]
		return holds(fi) && walk(fi+1, wi+1)
	}
	if !walk(0, 0) {
		return nil, nil, false, steps
	}
	for i, w := range words {
		env[strconv.Itoa(i+1)] = w // the fields an ellipsis took
	}
	return env, at, true, steps
}

// splitFields splits a message on blanks, keeping "quoted" and
// [bracketed] runs whole without their delimiters.
func splitFields(message string) []string {
	var words []string
	for i := 0; i < len(message); {
		c := message[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '"' || c == '[':
			closer := byte('"')
			if c == '[' {
				closer = ']'
			}
			end := strings.IndexByte(message[i+1:], closer)
			if end < 0 {
				words = append(words, message[i:])
				return words
			}
			words = append(words, message[i+1:i+1+end])
			i += end + 2
		default:
			start := i
			for i < len(message) && message[i] != ' ' && message[i] != '\t' {
				i++
			}
			words = append(words, message[start:i])
		}
	}
	return words
}
