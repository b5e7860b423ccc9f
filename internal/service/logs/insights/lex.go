package insights

import (
	"fmt"
	"strings"
)

// tokKind is the kind of a query token.
type tokKind int

const (
	tEOF      tokKind = iota
	tIdent            // field or function name, keyword; `quoted` names too
	tNumber           // 12, 1.5, 1e3
	tDuration         // 5m, 1h, 30s
	tString           // "..." or '...'
	tRegex            // /.../ (read only where a regex may stand)
	tPunct            // operators and ( ) [ ] , |
)

type token struct {
	kind   tokKind
	text   string
	quoted bool // a `backticked` name: never a keyword
	pos    int  // offset of the token's first byte
	end    int  // offset just past it
}

// lexer reads tokens on demand, because whether / starts a regex or is a
// division depends on where the parser stands.
type lexer struct {
	src  string
	pos  int
	peek *token
}

func (l *lexer) skipBlanks() {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			l.pos++
		case c == '#': // a comment runs to the end of the line
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.pos++
			}
		default:
			return
		}
	}
}

func (l *lexer) next() (token, error) {
	if l.peek != nil {
		t := *l.peek
		l.peek = nil
		return t, nil
	}
	return l.scan()
}

func (l *lexer) lookahead() (token, error) {
	if l.peek == nil {
		t, err := l.scan()
		if err != nil {
			return token{}, err
		}
		l.peek = &t
	}
	return *l.peek, nil
}

var puncts = []string{"=~", "!=", "<=", ">=", "=", "<", ">", "+", "-", "*", "/", "%", "^", "(", ")", "[", "]", ",", "|"}

func (l *lexer) scan() (token, error) {
	t, err := l.scan0()
	t.end = l.pos
	return t, err
}

func (l *lexer) scan0() (token, error) {
	l.skipBlanks()
	start := l.pos
	if l.pos >= len(l.src) {
		return token{kind: tEOF, pos: start}, nil
	}
	c := l.src[l.pos]
	switch {
	case c == '"' || c == '\'':
		var b strings.Builder
		for i := l.pos + 1; i < len(l.src); i++ {
			switch l.src[i] {
			case '\\':
				if i+1 < len(l.src) {
					i++
				}
				b.WriteByte(l.src[i])
			case c:
				l.pos = i + 1
				return token{kind: tString, text: b.String(), pos: start}, nil
			default:
				b.WriteByte(l.src[i])
			}
		}
		return token{}, errorAt(l.src, start, "unterminated string")
	case c == '`':
		end := strings.IndexByte(l.src[l.pos+1:], '`')
		if end < 0 {
			return token{}, errorAt(l.src, start, "unterminated `name`")
		}
		l.pos += end + 2
		return token{kind: tIdent, text: l.src[start+1 : start+1+end], quoted: true, pos: start}, nil
	case isDigit(c) || c == '.' && l.pos+1 < len(l.src) && isDigit(l.src[l.pos+1]):
		for l.pos < len(l.src) && (isDigit(l.src[l.pos]) || l.src[l.pos] == '.') {
			l.pos++
		}
		if l.pos+1 < len(l.src) && (l.src[l.pos] == 'e' || l.src[l.pos] == 'E') &&
			(isDigit(l.src[l.pos+1]) || (l.src[l.pos+1] == '-' || l.src[l.pos+1] == '+') && l.pos+2 < len(l.src) && isDigit(l.src[l.pos+2])) {
			l.pos += 2
			for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
				l.pos++
			}
		}
		if l.pos < len(l.src) && isLetter(l.src[l.pos]) {
			for l.pos < len(l.src) && isLetter(l.src[l.pos]) {
				l.pos++
			}
			return token{kind: tDuration, text: l.src[start:l.pos], pos: start}, nil
		}
		return token{kind: tNumber, text: l.src[start:l.pos], pos: start}, nil
	case isIdentStart(c):
		for l.pos < len(l.src) && isIdentChar(l.src[l.pos]) {
			l.pos++
		}
		return token{kind: tIdent, text: l.src[start:l.pos], pos: start}, nil
	}
	for _, p := range puncts {
		if strings.HasPrefix(l.src[l.pos:], p) {
			l.pos += len(p)
			return token{kind: tPunct, text: p, pos: start}, nil
		}
	}
	return token{}, errorAt(l.src, start, "unexpected symbol found %c", c)
}

// regex reads a /regex/ at the current position.
func (l *lexer) regex() (token, bool) {
	if l.peek != nil {
		l.pos, l.peek = l.peek.pos, nil
	}
	l.skipBlanks()
	if l.pos >= len(l.src) || l.src[l.pos] != '/' {
		return token{}, false
	}
	start := l.pos
	var b strings.Builder
	for i := l.pos + 1; i < len(l.src); i++ {
		switch l.src[i] {
		case '\\':
			if i+1 < len(l.src) && l.src[i+1] == '/' {
				i++
				b.WriteByte('/')
				continue
			}
			b.WriteByte('\\')
		case '/':
			l.pos = i + 1
			return token{kind: tRegex, text: b.String(), pos: start, end: l.pos}, true
		default:
			b.WriteByte(l.src[i])
		}
	}
	return token{}, false
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentStart(c byte) bool {
	return isLetter(c) || c == '_' || c == '@' || c == '$'
}
func isIdentChar(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '.' }

// errorAt is a MalformedQueryException message: AWS names the line and
// the position of the offending symbol.
func errorAt(src string, pos int, format string, args ...any) error {
	line, col := 1, 1
	for i := 0; i < pos && i < len(src); i++ {
		if src[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Errorf("%s at line %d and position %d", fmt.Sprintf(format, args...), line, col)
}
