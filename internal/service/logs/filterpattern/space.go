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
	toks, err := lex(pattern[1 : len(pattern)-1])
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
			break
		}
		if t.kind != tComma {
			return nil, p.errorf(t, "expected ','")
		}
	}
	// A trailing comma leaves an empty last slot, which still stands for
	// a field, as in AWS's [..., request=*.html*, status_code=4*,].
	return &Pattern{match: func(message string) (Match, bool) {
		env, ok := bind(fields, splitFields(message))
		if !ok {
			return Match{}, false
		}
		return Match{fields: env}, true
	}}, nil
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

// bind assigns the message's fields to the pattern's slots, ellipses
// taking as many fields as make the rest fit and the conditions hold;
// every field is also bound to its 1-based position ("$3").
func bind(fields []spaceField, words []string) (map[string]string, bool) {
	env := make(map[string]string, len(words)+len(fields))
	var walk func(fi, wi int) bool
	walk = func(fi, wi int) bool {
		if fi == len(fields) {
			if wi != len(words) {
				return false
			}
			for _, f := range fields {
				if f.cond != nil && !f.cond.eval(env) {
					return false
				}
			}
			return true
		}
		f := fields[fi]
		if f.ellipsis {
			for n := len(words) - wi; n >= 0; n-- {
				if walk(fi+1, wi+n) {
					return true
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
		env[strconv.Itoa(wi+1)] = words[wi]
		return walk(fi+1, wi+1)
	}
	if !walk(0, 0) {
		return nil, false
	}
	for i, w := range words {
		env[strconv.Itoa(i+1)] = w // the fields an ellipsis took
	}
	return env, true
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
