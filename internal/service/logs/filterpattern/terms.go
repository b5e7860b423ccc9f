package filterpattern

import (
	"fmt"
	"strings"
)

// term is one word of an unstructured pattern.
type term struct {
	text    string
	exclude bool // -term: the event must not contain it
	anyOf   bool // ?term: one of the pattern's ?terms must occur
	re      *regex
}

func (t term) in(message string) bool {
	if t.re != nil {
		return t.re.find(message)
	}
	return strings.Contains(message, t.text)
}

// compileTerms compiles an unstructured pattern: the plain terms must
// all occur, no -term may occur and, when the pattern has ?terms, at
// least one of them must occur.
func compileTerms(p string) (*Pattern, error) {
	terms, err := splitTerms(p)
	if err != nil {
		return nil, err
	}
	hasAny := false
	for _, t := range terms {
		hasAny = hasAny || t.anyOf
	}
	return &Pattern{match: func(message string) (Match, bool) {
		anyHit := false
		for _, t := range terms {
			in := t.in(message)
			switch {
			case t.exclude && in:
				return Match{}, false
			case t.anyOf:
				anyHit = anyHit || in
			case !t.exclude && !in:
				return Match{}, false
			}
		}
		return Match{}, !hasAny || anyHit
	}}, nil
}

// splitTerms splits an unstructured pattern into its terms: words
// separated by blanks, "quoted phrases" (with \" and \\ escapes) kept
// whole, each optionally prefixed with - or ?.
func splitTerms(p string) ([]term, error) {
	var terms []term
	regexes := 0
	for i := 0; i < len(p); {
		if isBlank(p[i]) {
			i++
			continue
		}
		var t term
		switch p[i] {
		case '-':
			t.exclude = true
			i++
		case '?':
			t.anyOf = true
			i++
		}
		if t.exclude || t.anyOf {
			// AWS's own example writes "ERROR" - "Exiting".
			for i < len(p) && isBlank(p[i]) {
				i++
			}
			if i == len(p) {
				return nil, fmt.Errorf("Invalid character(s) in term '%s'", p[len(p)-1:])
			}
		}
		switch p[i] {
		case '"':
			s, n, err := quoted(p[i:])
			if err != nil {
				return nil, err
			}
			t.text, i = s, i+n
		case '%':
			end := strings.IndexByte(p[i+1:], '%')
			if end < 0 {
				return nil, fmt.Errorf("Invalid regular expression '%s': missing closing %%", p[i:])
			}
			if regexes++; regexes > maxRegexes {
				return nil, fmt.Errorf("Invalid filter pattern: at most %d regular expressions are allowed", maxRegexes)
			}
			re, err := compileRegex(p[i+1 : i+1+end])
			if err != nil {
				return nil, err
			}
			t.re, i = re, i+end+2
		default:
			start := i
			for i < len(p) && !isBlank(p[i]) {
				i++
			}
			t.text = p[start:i]
			if strings.ContainsAny(t.text, `"{}()%`) {
				return nil, fmt.Errorf("Invalid character(s) in term '%s'", t.text)
			}
		}
		terms = append(terms, t)
	}
	return terms, nil
}

// quoted reads the double-quoted string at the start of s, returning its
// unescaped text and how many bytes it took.
func quoted(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
			}
			b.WriteByte(s[i])
		case '"':
			return b.String(), i + 1, nil
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0, fmt.Errorf("Unterminated quoted string %s", s)
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
