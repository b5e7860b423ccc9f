package lb

import (
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func TestWildcardMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		escapes    bool
		want       bool
	}{
		{"", "", false, true},
		{"", "a", false, false},
		{"*", "", false, true},
		{"*", "anything/at/all", false, true},
		{"?", "", false, false},
		{"?", "x", false, true},
		{"?", "é", false, true}, // one character, two bytes
		{"??", "é", false, false},
		{"/api/*", "/api/", false, true},
		{"/api/*", "/api/v1/users", false, true},
		{"/api/*", "/api", false, false},
		{"/api/*", "/apix/v1", false, false},
		{"*.example.com", "www.example.com", false, true},
		{"*.example.com", "example.com", false, false},
		{"*.example.com", "a.b.example.com", false, true},
		{"a*b*c", "abc", false, true},
		{"a*b*c", "aXbYc", false, true},
		{"a*b*c", "aXbY", false, false},
		{"a*b?c", "a--b-c", false, true},
		{"*a*a*a*a*a*a*b", strings.Repeat("a", 60), false, false},
		{`a\*`, "a*", true, true},
		{`a\*`, "ab", true, false},
		{`a\*`, `a\b`, false, true}, // without escapes '\' is literal and '*' a wildcard
		{`\?`, "?", true, true},
		{`\?`, "x", true, false},
	}
	for _, tt := range tests {
		if got := wildcardMatch(tt.pattern, tt.s, tt.escapes); got != tt.want {
			t.Errorf("wildcardMatch(%q, %q, %v) = %v, want %v", tt.pattern, tt.s, tt.escapes, got, tt.want)
		}
	}
}

// wildcardRegexp is the reference the fuzz target compares against.
func wildcardRegexp(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`^(?s:`)
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`)$`)
	return regexp.MustCompile(b.String())
}

func FuzzWildcardMatch(f *testing.F) {
	for _, s := range [][2]string{{"/api/*", "/api/x"}, {"*.ex?mple.com", "a.example.com"}, {"a*b*c", "abbbc"}, {"?é*", "xé"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if !utf8Valid(pattern) || !utf8Valid(s) {
			t.Skip()
		}
		want := wildcardRegexp(pattern).MatchString(s)
		if got := wildcardMatch(pattern, s, false); got != want {
			t.Fatalf("wildcardMatch(%q, %q) = %v, regexp says %v", pattern, s, got, want)
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func FuzzQueryMatch(f *testing.F) {
	f.Add("version", "v1", "version=v1&x=y")
	f.Add("", "a b", "q=a%20b")
	f.Add("k*", "", "key=1")
	f.Fuzz(func(t *testing.T, key, value, raw string) {
		pairs := []KeyValue{{Key: strings.ToLower(percentDecode(key)), Value: strings.ToLower(percentDecode(value))}}
		got := queryMatch(pairs, raw) // must not panic
		// A pair percent-encoded on the wire matches as it does decoded.
		if !strings.ContainsAny(key+value, "*?\\%&=") && key != "" && value != "" && utf8Valid(key) && utf8Valid(value) {
			enc := url.QueryEscape(key) + "=" + url.PathEscape(value)
			enc = strings.ReplaceAll(enc, "+", "%20")
			if !queryMatch(pairs, enc) {
				t.Fatalf("pair %q=%q does not match its encoding %q", key, value, enc)
			}
		}
		_ = got
	})
}

func TestConditions(t *testing.T) {
	type req struct {
		method, target, host, peer string
		header                     [][2]string
	}
	get := func(target string) req {
		return req{method: "GET", target: target, host: "www.example.com", peer: "192.0.2.10:5555"}
	}
	with := func(r req, f func(*req)) req { f(&r); return r }
	tests := []struct {
		name string
		cond Condition
		req  req
		want bool
	}{
		{"host exact", Condition{Field: FieldHostHeader, Values: []string{"www.example.com"}}, get("/"), true},
		{"host case-insensitive", Condition{Field: FieldHostHeader, Values: []string{"WWW.Example.COM"}}, get("/"), true},
		{"host with port in request", Condition{Field: FieldHostHeader, Values: []string{"www.example.com"}}, with(get("/"), func(r *req) { r.host = "www.example.com:8080" }), true},
		{"host wildcard", Condition{Field: FieldHostHeader, Values: []string{"*.example.com"}}, get("/"), true},
		{"host question mark", Condition{Field: FieldHostHeader, Values: []string{"ww?.example.com"}}, get("/"), true},
		{"host other", Condition{Field: FieldHostHeader, Values: []string{"api.example.com"}}, get("/"), false},
		{"host OR of values", Condition{Field: FieldHostHeader, Values: []string{"api.example.com", "www.*"}}, get("/"), true},
		{"path prefix", Condition{Field: FieldPathPattern, Values: []string{"/api/*"}}, get("/api/users"), true},
		{"path case-sensitive", Condition{Field: FieldPathPattern, Values: []string{"/API/*"}}, get("/api/users"), false},
		{"path ignores query", Condition{Field: FieldPathPattern, Values: []string{"/api"}}, get("/api?x=/api/y"), true},
		{"path query not matched", Condition{Field: FieldPathPattern, Values: []string{"*x=1*"}}, get("/api?x=1"), false},
		{"path other", Condition{Field: FieldPathPattern, Values: []string{"/api/*"}}, get("/static/a.css"), false},
		{"header value", Condition{Field: FieldHTTPHeader, HeaderName: "user-agent", Values: []string{"*Mobile*"}}, with(get("/"), func(r *req) { r.header = [][2]string{{"User-Agent", "Foo mobile Bar"}} }), true},
		{"header second line", Condition{Field: FieldHTTPHeader, HeaderName: "X-Env", Values: []string{"beta"}}, with(get("/"), func(r *req) { r.header = [][2]string{{"X-Env", "prod"}, {"X-Env", "BETA"}} }), true},
		{"header absent", Condition{Field: FieldHTTPHeader, HeaderName: "X-Env", Values: []string{"*"}}, get("/"), false},
		{"header other value", Condition{Field: FieldHTTPHeader, HeaderName: "X-Env", Values: []string{"beta"}}, with(get("/"), func(r *req) { r.header = [][2]string{{"X-Env", "prod"}} }), false},
		{"method", Condition{Field: FieldRequestMethod, Values: []string{"GET", "HEAD"}}, get("/"), true},
		{"method case-sensitive", Condition{Field: FieldRequestMethod, Values: []string{"get"}}, get("/"), false},
		{"method other", Condition{Field: FieldRequestMethod, Values: []string{"POST"}}, get("/"), false},
		{"query key and value", Condition{Field: FieldQueryString, QueryString: []KeyValue{{Key: "version", Value: "v1"}}}, get("/?a=b&version=V1"), true},
		{"query value only", Condition{Field: FieldQueryString, QueryString: []KeyValue{{Value: "v1"}}}, get("/?x=v1"), true},
		{"query key only", Condition{Field: FieldQueryString, QueryString: []KeyValue{{Key: "debug"}}}, get("/?debug=anything"), true},
		{"query wildcard", Condition{Field: FieldQueryString, QueryString: []KeyValue{{Key: "v*", Value: "?1"}}}, get("/?version=v1"), true},
		{"query percent-decoded", Condition{Field: FieldQueryString, QueryString: []KeyValue{{Key: "q", Value: "a b"}}}, get("/?q=a%20b"), true},
		{"query encoded ampersand", Condition{Field: FieldQueryString, QueryString: []KeyValue{{Key: "q", Value: "a%26b"}}}, get("/?q=a%26b"), true},
		{"query escaped star is literal", Condition{Field: FieldQueryString, QueryString: []KeyValue{{Key: "q", Value: `a\*`}}}, get("/?q=ab"), false},
		{"query escaped star matches star", Condition{Field: FieldQueryString, QueryString: []KeyValue{{Key: "q", Value: `a\*`}}}, get("/?q=a*"), true},
		{"query wrong value", Condition{Field: FieldQueryString, QueryString: []KeyValue{{Key: "version", Value: "v1"}}}, get("/?version=v2"), false},
		{"query none", Condition{Field: FieldQueryString, QueryString: []KeyValue{{Key: "version", Value: "v1"}}}, get("/path"), false},
		{"query pair split across", Condition{Field: FieldQueryString, QueryString: []KeyValue{{Key: "a", Value: "2"}}}, get("/?a=1&b=2"), false},
		{"source v4", Condition{Field: FieldSourceIP, Values: []string{"192.0.2.0/24"}}, get("/"), true},
		{"source v4 other", Condition{Field: FieldSourceIP, Values: []string{"198.51.100.0/24"}}, get("/"), false},
		{"source ignores X-Forwarded-For", Condition{Field: FieldSourceIP, Values: []string{"198.51.100.0/24"}}, with(get("/"), func(r *req) { r.header = [][2]string{{"X-Forwarded-For", "198.51.100.7"}} }), false},
		{"source v6", Condition{Field: FieldSourceIP, Values: []string{"2001:db8::/32"}}, with(get("/"), func(r *req) { r.peer = "[2001:db8::5]:4444" }), true},
		{"source v6 other", Condition{Field: FieldSourceIP, Values: []string{"2001:db8::/32"}}, with(get("/"), func(r *req) { r.peer = "[2001:db9::5]:4444" }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := compileCondition(tt.cond)
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(tt.req.method, "http://"+tt.req.host+tt.req.target, nil)
			r.Host = tt.req.host
			for _, h := range tt.req.header {
				r.Header.Add(h[0], h[1])
			}
			peer := netip.MustParseAddrPort(tt.req.peer)
			if got := m(r, peer.Addr()); got != tt.want {
				t.Errorf("match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConditionErrors(t *testing.T) {
	for _, c := range []Condition{
		{Field: "cookie"},
		{Field: FieldSourceIP, Values: []string{"10.0.0.0/33"}},
		{Field: FieldHTTPHeader, Values: []string{"x"}},
	} {
		if _, err := compileCondition(c); err == nil {
			t.Errorf("compileCondition(%+v) succeeded", c)
		}
	}
}
