package iampolicy

import (
	"strings"
	"unicode/utf8"
)

// tokKind is what one piece of a compiled pattern is.
type tokKind uint8

const (
	tokLit  tokKind = iota // literal text (an escape such as ${*} is literal too)
	tokStar                // * : any run of characters, possibly empty
	tokOne                 // ? : exactly one character
	tokVar                 // ${key} or ${key, 'default'}: the request's value, literal
)

// token is one piece of a pattern. For tokVar, text is the lower-cased key
// and def the default (hasDef says whether one was given).
type token struct {
	kind   tokKind
	text   string
	def    string
	hasDef bool
}

// pattern is a compiled Action, Resource, Principal or condition value.
// Wildcards are only wildcards where the text has them: what a policy
// variable or an escape produces is matched literally, as AWS documents for
// ${*} ("a literal asterisk").
type pattern struct {
	raw  string
	toks []token
	// plain is set when the pattern is one literal (no wildcard, no
	// variable), the common case, matched by a comparison.
	plain bool
	vars  bool
}

// compilePattern splits s into tokens. wild says whether * and ? are
// wildcards (StringEquals values are not); vars whether ${...} is a policy
// variable (Version 2012-10-17 only).
func compilePattern(s string, wild, vars bool) pattern {
	p := pattern{raw: s}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p.toks = append(p.toks, token{kind: tokLit, text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case wild && c == '*':
			flush()
			p.toks = append(p.toks, token{kind: tokStar})
			i++
		case wild && c == '?':
			flush()
			p.toks = append(p.toks, token{kind: tokOne})
			i++
		case vars && c == '$' && i+1 < len(s) && s[i+1] == '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				lit.WriteByte(c)
				i++
				continue
			}
			inner := strings.TrimSpace(s[i+2 : i+2+end])
			i += end + 3
			switch inner {
			case "*", "?", "$":
				lit.WriteString(inner)
				continue
			}
			flush()
			t := token{kind: tokVar}
			if comma := strings.IndexByte(inner, ','); comma >= 0 {
				d := strings.TrimSpace(inner[comma+1:])
				if len(d) >= 2 && d[0] == '\'' && d[len(d)-1] == '\'' {
					t.def, t.hasDef = d[1:len(d)-1], true
				}
				inner = strings.TrimSpace(inner[:comma])
			}
			t.text = strings.ToLower(inner)
			p.toks = append(p.toks, t)
			p.vars = true
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	p.plain = len(p.toks) == 0 || (len(p.toks) == 1 && p.toks[0].kind == tokLit)
	return p
}

// literal is the pattern's text when it is plain.
func (p *pattern) literal() string {
	if len(p.toks) == 0 {
		return ""
	}
	return p.toks[0].text
}

// resolver answers a policy variable: its single value, or false when the
// key is absent (or has several values, which cannot stand in a string).
type resolver func(lowerKey string) (string, bool)

// match reports whether s matches the pattern; fold makes literal
// comparisons case-insensitive (actions, StringEqualsIgnoreCase). A variable
// that cannot be resolved and has no default matches nothing: AWS says the
// element "evaluates to false" then.
func (p *pattern) match(s string, fold bool, r resolver) bool {
	if p.plain {
		if fold {
			return strings.EqualFold(p.literal(), s)
		}
		return p.literal() == s
	}
	return matchTokens(p.toks, s, fold, r)
}

// matchTokens is the classic wildcard match with backtracking to the last
// star, over tokens instead of bytes so that literals from variables and
// escapes stay literal.
func matchTokens(toks []token, s string, fold bool, r resolver) bool {
	i, j := 0, 0
	starTok, starJ := -1, 0
	for {
		if i == len(toks) && j == len(s) {
			return true
		}
		if i < len(toks) {
			t := &toks[i]
			switch t.kind {
			case tokStar:
				starTok, starJ = i, j
				i++
				continue
			case tokOne:
				if j < len(s) {
					_, n := utf8.DecodeRuneInString(s[j:])
					j += n
					i++
					continue
				}
			case tokLit, tokVar:
				lit := t.text
				if t.kind == tokVar {
					v, ok := r(t.text)
					if !ok {
						if !t.hasDef {
							return false
						}
						v = t.def
					}
					lit = v
				}
				if hasPrefix(s[j:], lit, fold) {
					j += len(lit)
					i++
					continue
				}
			}
		}
		if starTok < 0 || starJ >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starJ:])
		starJ += n
		i, j = starTok+1, starJ
	}
}

func hasPrefix(s, prefix string, fold bool) bool {
	if len(s) < len(prefix) {
		return false
	}
	if fold {
		return strings.EqualFold(s[:len(prefix)], prefix)
	}
	return s[:len(prefix)] == prefix
}

// arnPattern is a resource or ARN-condition pattern matched the way AWS
// matches ARNs: each of the first five colon-separated segments (arn,
// partition, service, region, account) on its own, so a * in the region
// does not run into the account, and the resource part — which may hold
// colons and slashes, both crossed by * — as one. A pattern without five
// colons ("*", "arn:aws:s3:*") is matched as a whole string.
type arnPattern struct {
	whole pattern
	segs  [6][]token // nil when not split
	split bool
}

func compileARN(s string, vars bool) arnPattern {
	ap := arnPattern{whole: compilePattern(s, true, vars)}
	seg := 0
	for _, t := range ap.whole.toks {
		if t.kind != tokLit || seg == 5 {
			ap.segs[seg] = append(ap.segs[seg], t)
			continue
		}
		text := t.text
		for seg < 5 {
			k := strings.IndexByte(text, ':')
			if k < 0 {
				break
			}
			if k > 0 {
				ap.segs[seg] = append(ap.segs[seg], token{kind: tokLit, text: text[:k]})
			}
			seg++
			text = text[k+1:]
		}
		if text != "" {
			ap.segs[seg] = append(ap.segs[seg], token{kind: tokLit, text: text})
		}
	}
	ap.split = seg == 5
	return ap
}

func (ap *arnPattern) match(arn string, r resolver) bool {
	if !ap.split {
		return ap.whole.match(arn, false, r)
	}
	if ap.whole.plain {
		return ap.whole.literal() == arn
	}
	rest := arn
	for seg := 0; seg < 5; seg++ {
		k := strings.IndexByte(rest, ':')
		if k < 0 {
			return false
		}
		if !matchTokens(ap.segs[seg], rest[:k], false, r) {
			return false
		}
		rest = rest[k+1:]
	}
	return matchTokens(ap.segs[5], rest, false, r)
}
