package lb

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"
)

// wildcardMatch reports whether s matches pattern, where '*' matches any
// run of characters (also none) and '?' exactly one character (a rune).
// With escapes, "\*" and "\?" are a literal '*' and '?' (query-string
// conditions allow that: "To search for a literal '*' or '?' character in a
// query string, you must escape these characters in Values using a '\'
// character", QueryStringConditionConfig in the ELBv2 API reference).
// Case folding is the caller's: both sides arrive lowered when the
// condition is case-insensitive.
//
// It backtracks only to the last star, so it runs in O(len(pattern) ×
// len(s)) at worst (the algorithm of Go's path.Match without its
// character classes).
func wildcardMatch(pattern, s string, escapes bool) bool {
	px, sx := 0, 0
	starPx, starSx := -1, -1
	for px < len(pattern) || sx < len(s) {
		if px < len(pattern) {
			c, pw := pattern[px], 1
			literal := true
			switch {
			case escapes && c == '\\' && px+1 < len(pattern) && (pattern[px+1] == '*' || pattern[px+1] == '?'):
				c, pw = pattern[px+1], 2
			case c == '*':
				literal = false
				starPx = px
				starSx = sx + runeWidth(s, sx)
				px++
				continue
			case c == '?':
				literal = false
				if sx < len(s) {
					px++
					sx += runeWidth(s, sx)
					continue
				}
			}
			if literal && sx < len(s) {
				if c < utf8.RuneSelf {
					if s[sx] == c {
						px += pw
						sx++
						continue
					}
				} else {
					pr, prw := utf8.DecodeRuneInString(pattern[px:])
					sr, srw := utf8.DecodeRuneInString(s[sx:])
					if pr == sr {
						px += prw
						sx += srw
						continue
					}
				}
			}
		}
		if starSx > 0 && starSx <= len(s) {
			px, sx = starPx, starSx
			continue
		}
		return false
	}
	return true
}

// runeWidth is the width of the rune at s[i:], or 1 past the end (so that
// a star's restart point lands beyond s and stops the backtracking).
func runeWidth(s string, i int) int {
	if i >= len(s) {
		return 1
	}
	if s[i] < utf8.RuneSelf {
		return 1
	}
	_, w := utf8.DecodeRuneInString(s[i:])
	return w
}

// matcher is one compiled condition.
type matcher func(r *http.Request, peer netip.Addr) bool

// compiledRule is a rule ready to evaluate.
type compiledRule struct {
	priority   int
	conditions []matcher
	action     *compiledAction
}

func (r *compiledRule) matches(req *http.Request, peer netip.Addr) bool {
	for _, m := range r.conditions {
		if !m(req, peer) {
			return false
		}
	}
	return true
}

// compileRules sorts rules by priority and compiles their conditions.
func compileRules(rules []Rule, compileAction func([]Action) (*compiledAction, error)) ([]compiledRule, error) {
	out := make([]compiledRule, 0, len(rules))
	for _, r := range rules {
		a, err := compileAction(r.Actions)
		if err != nil {
			return nil, fmt.Errorf("rule priority %d: %w", r.Priority, err)
		}
		cr := compiledRule{priority: r.Priority, action: a}
		for _, c := range r.Conditions {
			m, err := compileCondition(c)
			if err != nil {
				return nil, fmt.Errorf("rule priority %d: %w", r.Priority, err)
			}
			cr.conditions = append(cr.conditions, m)
		}
		out = append(out, cr)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].priority < out[j].priority })
	return out, nil
}

// terminalAction is the first forward, redirect or fixed-response action
// in Order; authenticate-* actions before it are not the node's business.
func terminalAction(actions []Action) *Action {
	var best *Action
	for i := range actions {
		a := &actions[i]
		switch a.Type {
		case ActionForward, ActionRedirect, ActionFixedResponse:
			if best == nil || a.Order < best.Order {
				best = a
			}
		}
	}
	return best
}

// conditionCompilers builds a matcher per field.
var conditionCompilers = map[string]func(Condition) (matcher, error){
	FieldHostHeader: func(c Condition) (matcher, error) {
		pats := lowered(c.Values)
		return func(r *http.Request, _ netip.Addr) bool {
			return anyMatch(pats, strings.ToLower(hostOnly(r.Host)), false)
		}, nil
	},
	FieldPathPattern: func(c Condition) (matcher, error) {
		pats := c.Values
		// The path only, never the query: "The path pattern is applied only
		// to the path of the URL, not to its query parameters" (ALB user
		// guide, listener rules, path conditions).
		return func(r *http.Request, _ netip.Addr) bool { return anyMatch(pats, r.URL.Path, false) }, nil
	},
	FieldHTTPHeader: func(c Condition) (matcher, error) {
		if c.HeaderName == "" {
			return nil, fmt.Errorf("http-header condition without a header name")
		}
		name := http.CanonicalHeaderKey(c.HeaderName)
		pats := lowered(c.Values)
		return func(r *http.Request, _ netip.Addr) bool {
			for _, v := range r.Header.Values(name) {
				if anyMatch(pats, strings.ToLower(v), false) {
					return true
				}
			}
			return false
		}, nil
	},
	FieldRequestMethod: func(c Condition) (matcher, error) {
		methods := c.Values
		return func(r *http.Request, _ netip.Addr) bool {
			for _, m := range methods {
				if r.Method == m {
					return true
				}
			}
			return false
		}, nil
	},
	FieldQueryString: func(c Condition) (matcher, error) {
		pairs := make([]KeyValue, len(c.QueryString))
		for i, kv := range c.QueryString {
			pairs[i] = KeyValue{Key: strings.ToLower(percentDecode(kv.Key)), Value: strings.ToLower(percentDecode(kv.Value))}
		}
		return func(r *http.Request, _ netip.Addr) bool { return queryMatch(pairs, r.URL.RawQuery) }, nil
	},
	FieldSourceIP: func(c Condition) (matcher, error) {
		prefixes := make([]netip.Prefix, 0, len(c.Values))
		for _, v := range c.Values {
			p, err := netip.ParsePrefix(v)
			if err != nil {
				return nil, fmt.Errorf("source-ip %q: %w", v, err)
			}
			prefixes = append(prefixes, p.Masked())
		}
		// The TCP peer, never X-Forwarded-For: a client cannot claim an
		// address it does not send from.
		return func(_ *http.Request, peer netip.Addr) bool {
			for _, p := range prefixes {
				if p.Contains(peer) {
					return true
				}
			}
			return false
		}, nil
	},
}

func compileCondition(c Condition) (matcher, error) {
	compile, ok := conditionCompilers[c.Field]
	if !ok {
		return nil, fmt.Errorf("unknown condition field %q", c.Field)
	}
	return compile(c)
}

func lowered(values []string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = strings.ToLower(v)
	}
	return out
}

func anyMatch(patterns []string, s string, escapes bool) bool {
	for _, p := range patterns {
		if wildcardMatch(p, s, escapes) {
			return true
		}
	}
	return false
}

// hostOnly strips a port from a Host header value.
func hostOnly(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
}

// queryMatch reports whether any pair of the raw query matches any of the
// condition's pairs (lowered and percent-decoded). The request's pairs are
// split on '&' and at the first '=', then percent-decoded, so that a
// condition value "a b" matches "a%20b" and a value containing '&' or '='
// (which the condition writes percent-encoded, as AWS asks) is compared
// decoded. A segment without '=' is a value without a key. '+' stays a
// plus: AWS documents percent-encoding only.
func queryMatch(pairs []KeyValue, rawQuery string) bool {
	if rawQuery == "" {
		return false
	}
	for seg := range strings.SplitSeq(rawQuery, "&") {
		key, value, found := strings.Cut(seg, "=")
		if !found {
			key, value = "", seg
		}
		key = strings.ToLower(percentDecode(key))
		value = strings.ToLower(percentDecode(value))
		for _, p := range pairs {
			if p.Key != "" && !wildcardMatch(p.Key, key, true) {
				continue
			}
			if p.Value != "" && !wildcardMatch(p.Value, value, true) {
				continue
			}
			return true
		}
	}
	return false
}

// percentDecode decodes %XX sequences and leaves a malformed one as it is
// (AWS answers such a request rather than refusing it).
func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	if d, err := url.PathUnescape(s); err == nil {
		return d
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}
