package filterpattern

import (
	"strconv"
	"strings"
)

// literal is the right-hand side of a condition.
type literal struct {
	text    string  // as written, unquoted
	num     float64 // when isNum
	isNum   bool    // an unquoted number: compared numerically
	re      *regex  // %regex%
	prefix  bool    // leading * wildcard
	suffix  bool    // trailing * wildcard
	pattern string  // text without the wildcards
}

// parseLiteral reads the value token of a condition.
func (p *parser) parseLiteral() (literal, error) {
	t := p.next()
	switch t.kind {
	case tRegex:
		p.regexes++
		if p.regexes > maxRegexes {
			return literal{}, p.errorf(t, "at most %d regular expressions are allowed", maxRegexes)
		}
		re, err := compileRegex(t.text)
		if err != nil {
			return literal{}, err
		}
		return literal{text: t.text, re: re}, nil
	case tString:
		return wildcard(t.text), nil
	case tWord:
		if n, err := strconv.ParseFloat(t.text, 64); err == nil && isNumberText(t.text) {
			return literal{text: t.text, num: n, isNum: true}, nil
		}
		return wildcard(t.text), nil
	}
	return literal{}, p.errorf(t, "expected a value")
}

// wildcard makes a string literal; AWS treats * as a wildcard at the
// start or end of the value only ("Ev*ent" matches only "Ev*ent").
func wildcard(s string) literal {
	l := literal{text: s, pattern: s}
	if strings.HasPrefix(l.pattern, "*") {
		l.prefix, l.pattern = true, l.pattern[1:]
	}
	if strings.HasSuffix(l.pattern, "*") {
		l.suffix, l.pattern = true, l.pattern[:len(l.pattern)-1]
	}
	return l
}

// isNumberText accepts AWS's numbers: an optionally signed integer or
// decimal with an optional exponent (no hex, no Inf/NaN).
func isNumberText(s string) bool {
	s = strings.TrimLeft(s, "+-")
	if s == "" {
		return false
	}
	digits, dot, exp := false, false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits = true
		case c == '.' && !dot && !exp:
			dot = true
		case (c == 'e' || c == 'E') && digits && !exp && i+1 < len(s):
			exp, digits = true, false
			if s[i+1] == '+' || s[i+1] == '-' {
				i++
			}
		default:
			return false
		}
	}
	return digits
}

// compare applies op to a field's text and the literal. Numeric literals
// compare numerically with fields that hold numbers and, for = and !=,
// as text with those that do not; <, <=, > and >= need a number.
func compare(op string, text string, lit literal) bool {
	if lit.re != nil {
		return lit.re.find(text) == (op == "=")
	}
	if lit.isNum {
		if n, err := strconv.ParseFloat(text, 64); err == nil && isNumberText(text) {
			switch op {
			case "=":
				return n == lit.num
			case "!=":
				return n != lit.num
			case "<":
				return n < lit.num
			case "<=":
				return n <= lit.num
			case ">":
				return n > lit.num
			case ">=":
				return n >= lit.num
			}
		}
		switch op {
		case "=":
			return text == lit.text
		case "!=":
			return text != lit.text
		}
		return false
	}
	eq := globMatch(text, lit)
	if op == "!=" {
		return !eq
	}
	return eq
}

func globMatch(text string, lit literal) bool {
	switch {
	case lit.prefix && lit.suffix:
		return strings.Contains(text, lit.pattern)
	case lit.prefix:
		return strings.HasSuffix(text, lit.pattern)
	case lit.suffix:
		return strings.HasPrefix(text, lit.pattern)
	}
	return text == lit.pattern
}
