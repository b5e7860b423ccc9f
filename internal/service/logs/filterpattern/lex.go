package filterpattern

import (
	"fmt"
	"strings"
)

// tokKind is the kind of a token of a JSON or space-delimited pattern.
type tokKind int

const (
	tEOF    tokKind = iota
	tWord           // selector, field name, bare value, keyword, ...
	tString         // "quoted"
	tRegex          // %regex%
	tOp             // = != < <= > >=
	tAnd            // &&
	tOr             // ||
	tLParen
	tRParen
	tComma
)

type token struct {
	kind tokKind
	text string
	pos  int
}

// lex splits the inside of a { } or [ ] pattern into tokens.
func lex(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case isBlank(c):
			i++
		case c == '(':
			toks, i = append(toks, token{tLParen, "(", i}), i+1
		case c == ')':
			toks, i = append(toks, token{tRParen, ")", i}), i+1
		case c == ',':
			toks, i = append(toks, token{tComma, ",", i}), i+1
		case strings.HasPrefix(s[i:], "&&"):
			toks, i = append(toks, token{tAnd, "&&", i}), i+2
		case strings.HasPrefix(s[i:], "||"):
			toks, i = append(toks, token{tOr, "||", i}), i+2
		case strings.HasPrefix(s[i:], "!="), strings.HasPrefix(s[i:], "<="), strings.HasPrefix(s[i:], ">="):
			toks, i = append(toks, token{tOp, s[i : i+2], i}), i+2
		case c == '=' || c == '<' || c == '>':
			toks, i = append(toks, token{tOp, s[i : i+1], i}), i+1
		case c == '"':
			text, n, err := quoted(s[i:])
			if err != nil {
				return nil, err
			}
			toks, i = append(toks, token{tString, text, i}), i+n
		case c == '%':
			end := strings.IndexByte(s[i+1:], '%')
			if end < 0 {
				return nil, fmt.Errorf("Invalid regular expression %s: missing closing %%", s[i:])
			}
			toks, i = append(toks, token{tRegex, s[i+1 : i+1+end], i}), i+end+2
		default:
			start := i
			for i < len(s) && !isBlank(s[i]) && strings.IndexByte("(),=<>\"%", s[i]) < 0 &&
				!strings.HasPrefix(s[i:], "&&") && !strings.HasPrefix(s[i:], "||") && !strings.HasPrefix(s[i:], "!=") {
				i++
			}
			if i == start {
				return nil, fmt.Errorf("Invalid character(s) in term '%c'", c)
			}
			toks = append(toks, token{tWord, s[start:i], start})
		}
	}
	return append(toks, token{tEOF, "", len(s)}), nil
}

// parser walks a token list.
type parser struct {
	toks    []token
	i       int
	regexes int
	// selectors are the $.refs a JSON pattern names, in order, once each:
	// what TestMetricFilter reports a match extracted.
	selectors []string
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errorf(t token, format string, args ...any) error {
	where := "at end of pattern"
	if t.kind != tEOF {
		where = fmt.Sprintf("at '%s'", t.text)
	}
	return fmt.Errorf("Invalid filter pattern: %s %s", fmt.Sprintf(format, args...), where)
}
