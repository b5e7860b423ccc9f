package filterpattern

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// The events of AWS's "Filter pattern syntax" user guide pages, each
// example there matched against the events the page gives it.
var (
	termEvents = []string{
		"[ERROR] A fatal exception has occurred",
		"Exiting with ERRORCODE: -1",
		"[ERROR] Caught IllegalArgumentException",
		"[ERROR] Unhandled Exception",
		"[WARN] Failed to process the request",
		"[ERROR] Unable to continue: Failed to process the request",
	}
	orEvents = []string{"ERROR WARN message", "ERROR message", "WARN message"}

	regexEvents = []string{
		"[ERROR 401] UNAUTHORIZED REQUEST",
		"[SUCCESS 200] AUTHORIZED REQUEST",
		"client 10.0.0.1 connected",
		"color", "colour", "hat trick", "that cat",
	}

	trailEvent = `{
  "eventType": "UpdateTrail",
  "sourceIPAddress": "111.111.111.111",
  "arrayKey": ["value", "another value"],
  "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
  "SomeObject": null,
  "ThisFlag": true
}`
	usersEvent = `{
    "user": {"id": 1, "email": "John.Stiles@example.com"},
    "users": [
        {"id": 2, "email": "John.Doe@example.com"},
        {"id": 3, "email": "Jane.Doe@example.com"}
    ],
    "actions": ["GET", "PUT", "DELETE"],
    "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]]
}`
	numbersEvent = `{"latency": 1500, "numbers": [5, 0.001], "processes": [{},{},{},{},{"averageRuntime": 55.5}], "errorCode": 400}`
	fooEvents    = []string{`{"foo": "bar"}`, `{"foo": "baz"}`}

	apacheEvents = []string{
		`127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534`,
		`127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324`,
		`127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355`,
		`127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534`,
		`127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 403 2000`,
	}
)

func TestDocumentedExamples(t *testing.T) {
	tests := []struct {
		pattern string
		events  []string
		want    []int // indexes of the events matched
	}{
		// Unstructured terms.
		{"", termEvents, []int{0, 1, 2, 3, 4, 5}},
		{"ERROR", termEvents, []int{0, 1, 2, 3, 5}},
		{`"ERROR" - "Exiting"`, termEvents, []int{0, 2, 3, 5}},
		{"ERROR -Exiting", termEvents, []int{0, 2, 3, 5}},
		{"ERROR Exception", termEvents, []int{2, 3}},
		{"Failed to process the request", termEvents, []int{4, 5}},
		{`"Failed to process the request"`, termEvents, []int{4, 5}},
		{`"to continue"`, termEvents, []int{5}},
		{"error", termEvents, nil}, // case-sensitive
		{"ERROR", orEvents, []int{0, 1}},
		{"?ERROR ?WARN", orEvents, []int{0, 1, 2}},
		{"ERROR WARN", orEvents, []int{0}},
		{"ERROR -WARN", orEvents, []int{1}},
		// Regular expressions.
		{"%AUTHORIZED%", regexEvents, []int{0, 1}},
		{`%\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}%`, regexEvents, []int{2}},
		{"%[Ee]rror|[Ff]ail%", []string{"Error here", "error", "Fail", "ok"}, []int{0, 1, 2}},
		{"%colou?r%", regexEvents, []int{3, 4}},
		{"%^[hc]at%", regexEvents, []int{5}},
		{"%[hc]at$%", regexEvents, []int{6}},
		{"%a{3,5}%", []string{"aa", "aaa", "baaaaab"}, []int{1, 2}},
		{"%[abcx-z]%", []string{"q", "x", "b"}, []int{1, 2}},
		{`%ERROR\s401%`, regexEvents, []int{0}},
		{`%ERROR\s200%`, regexEvents, nil},
		{"%UNAUTHORIZED% REQUEST", regexEvents, []int{0}},
		// JSON: the page's event and its matching filters.
		{`{ $.eventType = "UpdateTrail" }`, []string{trailEvent}, []int{0}},
		{`{ $.sourceIPAddress != 123.123.* }`, []string{trailEvent}, []int{0}},
		{`{ $.sourceIPAddress = 111.111.* }`, []string{trailEvent}, []int{0}},
		{`{ $.arrayKey[0] = "value" }`, []string{trailEvent}, []int{0}},
		{`{ $.objectList[1].id = 2 }`, []string{trailEvent}, []int{0}},
		{`{ $.SomeObject IS NULL }`, []string{trailEvent}, []int{0}},
		{`{ $.SomeOtherObject NOT EXISTS }`, []string{trailEvent}, []int{0}},
		{`{ $.ThisFlag IS TRUE }`, []string{trailEvent}, []int{0}},
		{`{ $.ThisFlag IS FALSE }`, []string{trailEvent}, nil},
		{`{ $.eventType = *Trail }`, []string{trailEvent}, []int{0}},
		{`{ $.eventType = Update* }`, []string{trailEvent}, []int{0}},
		{`{ $.eventType = Up*ail }`, []string{trailEvent}, nil}, // * only at the ends
		{`{ $.eventType = %Update[A-Z]% }`, []string{trailEvent}, []int{0}},
		{`{ $.eventType != %^Update% }`, []string{trailEvent}, nil},
		{`{ $.SomeObject NOT EXISTS }`, []string{trailEvent}, nil},
		{`{ $.arrayKey = "value" }`, []string{trailEvent}, nil}, // an array is not a value node
		{`{ $.arrayKey != "value" }`, []string{trailEvent}, nil},
		{`{ $.nothere != "x" }`, []string{trailEvent}, nil},
		{`{ $.* = "UpdateTrail" }`, []string{trailEvent}, []int{0}},
		{`{ $.objectList[*].name = "b" }`, []string{trailEvent}, []int{0}},
		{`{ $.users = 1 }`, []string{`{"users": [1, 2, 3]}`}, nil},
		{`{ $.users != 1 }`, []string{`{"users": [1, 2, 3]}`}, nil},
		// JSON compound conditions.
		{`{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }`, []string{usersEvent}, []int{0}},
		{`{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }`, []string{usersEvent}, nil},
		{`{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }`, []string{usersEvent}, []int{0}},
		{`{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }`, []string{usersEvent}, nil},
		{`{ $.coordinates[2][0] = 7 }`, []string{usersEvent}, []int{0}},
		{`{$.foo = bar}`, fooEvents, []int{0}},
		{`{$.foo = baz }`, fooEvents, []int{1}},
		{`{$.foo = bar || $.foo = baz }`, fooEvents, []int{0, 1}},
		// JSON numeric comparisons.
		{`{ $.latency >= 500 }`, []string{numbersEvent}, []int{0}},
		{`{ $.numbers[0] < 10e3 }`, []string{numbersEvent}, []int{0}},
		{`{ $.numbers[1] < 10e-3 }`, []string{numbersEvent}, []int{0}},
		{`{ $.numbers[0] < 10e-3 }`, []string{numbersEvent}, nil},
		{`{ $.processes[4].averageRuntime <= 55.5 }`, []string{numbersEvent}, []int{0}},
		{`{ $.errorCode = 400 }`, []string{numbersEvent}, []int{0}},
		{`{ $.errorCode != 500 }`, []string{numbersEvent}, []int{0}},
		{`{ $.latency > +1000 }`, []string{numbersEvent}, []int{0}},
		{`{ $.latency = * }`, []string{numbersEvent, `{"other": 1}`}, []int{0}},
		{`{ $.latency > 2000 }`, []string{numbersEvent}, nil},
		{`{ $.latency = 1500.0 }`, []string{numbersEvent}, []int{0}},
		{`{ $.eventType = "UpdateTrail" }`, []string{"not json", `["UpdateTrail"]`, `{"eventType":"UpdateTrail"} trailing`}, nil},
		// Space-delimited.
		{"[ip, user, username, timestamp, request, status_code, bytes]", apacheEvents, []int{0, 1, 2, 3, 4}},
		{"[ip, user, username, timestamp, request, status_code]", apacheEvents, nil},
		{"[..., status_code, bytes]", apacheEvents, []int{0, 1, 2, 3, 4}},
		{"[ip, user, ..., status_code, bytes]", apacheEvents, []int{0, 1, 2, 3, 4}},
		{"[ip, user, ...]", apacheEvents, []int{0, 1, 2, 3, 4}},
		{"[ip, user, username, timestamp, request, status_code, bytes > 1000]", apacheEvents, []int{0, 1, 2, 3, 4}},
		{"[ip, user, username, timestamp, request, status_code, bytes > 4000]", apacheEvents, []int{1, 2}},
		{"[ip, user, username, timestamp, request, status_code = 200, bytes]", apacheEvents, []int{0, 2}},
		{"[ip, user, username, timestamp, request, status_code = 4*, bytes]", apacheEvents, []int{3, 4}},
		{"[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]", apacheEvents, []int{3, 4}},
		{"[ip, user, username, timestamp, request, status_code = 4* && status_code != 403, bytes]", apacheEvents, []int{3}},
		{"[..., request=*.html*, status_code=4*,]", apacheEvents, []int{3, 4}},
		{"[ip, ..., status_code = %^5[0-9]{2}$%, bytes]", apacheEvents, []int{1}},
		{"[w1=ERROR, w2]", orEvents, []int{1}},
		{"[w1=ERROR || w1=WARN, w2]", orEvents, []int{1, 2}},
		{"[w1!=ERROR && w1!=WARN, ...]", append(orEvents, "INFO x"), []int{3}},
		{"[a, b]", []string{"  spaced   out  "}, []int{0}},
	}
	for _, tt := range tests {
		p, err := Compile(tt.pattern)
		if err != nil {
			t.Errorf("Compile(%q): %v", tt.pattern, err)
			continue
		}
		var got []int
		for i, e := range tt.events {
			if _, ok := p.Match(e); ok {
				got = append(got, i)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s matched %v, want %v", tt.pattern, got, tt.want)
		}
	}
}

func TestValue(t *testing.T) {
	tests := []struct {
		pattern, event, ref string
		want                string
		ok                  bool
	}{
		{`{ $.latency = * }`, numbersEvent, "$.latency", "1500", true},
		{`{ $.latency = * }`, numbersEvent, "$.processes[4].averageRuntime", "55.5", true},
		{`{ $.latency = * }`, numbersEvent, "$.missing", "", false},
		{`{ $.eventType = * }`, trailEvent, "$.eventType", "UpdateTrail", true},
		{`{ $.eventType = * }`, trailEvent, "$.arrayKey[1]", "another value", true},
		{`{ $.eventType = * }`, trailEvent, "$bytes", "", false},
		// The page's extracted fields for [..., request=*.html*, status_code=4*,].
		{"[..., request=*.html*, status_code=4*,]", apacheEvents[3], "$status_code", "404", true},
		{"[..., request=*.html*, status_code=4*,]", apacheEvents[3], "$request", "GET /index.html HTTP/1.0", true},
		{"[..., request=*.html*, status_code=4*,]", apacheEvents[3], "$7", "1534", true},
		{"[..., request=*.html*, status_code=4*,]", apacheEvents[3], "$4", "10/Oct/2000:13:25:15 -0700", true},
		{"[..., request=*.html*, status_code=4*,]", apacheEvents[3], "$3", "frank", true},
		{"[..., request=*.html*, status_code=4*,]", apacheEvents[3], "$2", "-", true},
		{"[..., request=*.html*, status_code=4*,]", apacheEvents[3], "$1", "127.0.0.1", true},
		{"[..., request=*.html*, status_code=4*,]", apacheEvents[3], "$8", "", false},
		{"[ip, user, username, timestamp, request, status_code, bytes]", apacheEvents[1], "$bytes", "5324", true},
		{"[ip, user, username, timestamp, request, status_code, bytes]", apacheEvents[1], "$.bytes", "", false},
		{"ERROR", "ERROR x", "$1", "", false},
	}
	for _, tt := range tests {
		p, err := Compile(tt.pattern)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tt.pattern, err)
		}
		m, ok := p.Match(tt.event)
		if !ok {
			t.Errorf("%s did not match %q", tt.pattern, tt.event)
			continue
		}
		got, ok := m.Value(tt.ref)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: Value(%q) = %q, %v; want %q, %v", tt.pattern, tt.ref, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{`"unterminated`, "Unterminated quoted string"},
		{`ERROR -`, "Invalid character(s) in term"},
		{`foo(bar)`, "Invalid character(s) in term 'foo(bar)'"},
		{`%something!%`, "unsupported character '!'"},
		{`%(a|b)%`, "unsupported character '('"},
		{`%abc`, "missing closing %"},
		{`%a% %b% %c%`, "at most 2 regular expressions"},
		{`%é%`, "multi-byte"},
		{`%\p{L}%`, `unsupported escape \p`},
		{`%a{2,1}%`, "Invalid regular expression"},
		{`{ $.a = 1`, "must end with '}'"},
		{`{ }`, "empty JSON pattern"},
		{`{ a = 1 }`, "expected a selector"},
		{`{ $.a }`, "expected an operator"},
		{`{ $.a = }`, "expected a value"},
		{`{ $.a > abc }`, "needs a number"},
		{`{ $.a IS MAYBE }`, "expected TRUE, FALSE or NULL"},
		{`{ $.a NOT THERE }`, "expected EXISTS"},
		{`{ ($.a = 1 }`, "expected ')'"},
		{`{ $.a = 1 $.b = 2 }`, "unexpected token"},
		{`{ $.a[x] = 1 }`, "bad array index"},
		{`{ $..a = 1 }`, "empty property name"},
		{`{ $.a = %x% && $.b = %y% && $.c = %z% }`, "at most 2 regular expressions"},
		{`[a, b`, "must end with ']'"},
		{`[a b]`, "expected ','"},
		{`[a > x]`, "needs a number"},
		{`[a = "x]`, "Unterminated quoted string"},
		{`[= 1]`, "expected a field name"},
	}
	for _, tt := range tests {
		_, err := Compile(tt.pattern)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Compile(%q) = %v, want an error containing %q", tt.pattern, err, tt.want)
		}
	}
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{"", "ERROR", `?a -"b c"`, "%a{1,2}%", `{ $.a[0].b = "x*" || ($.c > 1e3 && $.d NOT EXISTS) }`,
		"[ip, ..., status = 4* && bytes > 10, ]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pattern string) {
		p, err := Compile(pattern)
		if err == nil {
			p.Match(pattern)
		}
	})
}

func FuzzMatch(f *testing.F) {
	f.Add(`{ $.a[0] = * }`, `{"a": [1]}`, "$.a[0]")
	f.Add(`[a, ..., b = 4*]`, `x "y z" [w] 400`, "$b")
	f.Add(`[..., a, ..., b, ..., c, ..., d = zzz]`, strings.Repeat("w ", 300)+"zzz", "$d")
	f.Add(`?ERROR ?%W.RN%`, "WARN x", "$1")
	f.Fuzz(func(t *testing.T, pattern, message, ref string) {
		p, err := Compile(pattern)
		if err != nil {
			return
		}
		if m, ok := p.Match(message); ok {
			m.Value(ref)
		}
	})
}

// TestExtracted: what TestMetricFilter reports a match bound — AWS's
// API reference example for the named space-delimited pattern, $N for
// the fields no name took, a JSON pattern's selectors.
func TestExtracted(t *testing.T) {
	tests := []struct {
		pattern, event string
		want           map[string]string
	}{
		{"[ip, identity, user_id, timestamp, request, status_code, size]", apacheEvents[0], map[string]string{
			"$ip": "127.0.0.1", "$identity": "-", "$user_id": "frank", "$timestamp": "10/Oct/2000:13:25:15 -0700",
			"$request": "GET /apache_pb.gif HTTP/1.0", "$status_code": "200", "$size": "1534"}},
		{"[..., request=*.html*, status_code=4*,]", apacheEvents[3], map[string]string{
			"$1": "127.0.0.1", "$2": "-", "$3": "frank", "$4": "10/Oct/2000:13:25:15 -0700",
			"$request": "GET /index.html HTTP/1.0", "$status_code": "404", "$7": "1534"}},
		{`{ $.latency > 1000 && $.missing NOT EXISTS }`, numbersEvent, map[string]string{"$.latency": "1500"}},
		{`{ $.eventType = "UpdateTrail" || $.latency = 1 }`, trailEvent, map[string]string{"$.eventType": "UpdateTrail"}},
		{"ERROR", "ERROR x", map[string]string{}},
		{"", "anything", map[string]string{}},
	}
	for _, tt := range tests {
		p, err := Compile(tt.pattern)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tt.pattern, err)
		}
		m, ok := p.Match(tt.event)
		if !ok {
			t.Errorf("%s did not match %q", tt.pattern, tt.event)
			continue
		}
		if got := m.Extracted(); !maps.Equal(got, tt.want) {
			t.Errorf("%s: Extracted() = %v, want %v", tt.pattern, got, tt.want)
		}
	}
}
