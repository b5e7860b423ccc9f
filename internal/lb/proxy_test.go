package lb

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestRulesEndToEnd(t *testing.T) {
	api := newBackend(t, "api", nil)
	web := newBackend(t, "web", nil)
	cfg := Config{
		TargetGroups: []TargetGroup{groupOf("tg-api", api), groupOf("tg-web", web)},
		Listeners: []Listener{{
			Port: 80, Protocol: HTTP,
			Rules: []Rule{
				// Listed out of order: priority decides.
				{Priority: 20, Conditions: []Condition{{Field: FieldPathPattern, Values: []string{"/api/*"}}}, Actions: forwardTo("tg-api")},
				{Priority: 10, Conditions: []Condition{{Field: FieldPathPattern, Values: []string{"/api/admin*"}}}, Actions: fixed("admin")},
				{Priority: 30, Conditions: []Condition{
					{Field: FieldHostHeader, Values: []string{"beta.example.com"}},
					{Field: FieldRequestMethod, Values: []string{"GET"}},
				}, Actions: fixed("beta")},
				{Priority: 40, Conditions: []Condition{{Field: FieldSourceIP, Values: []string{"127.0.0.0/8"}}, {Field: FieldHTTPHeader, HeaderName: "X-Local", Values: []string{"yes"}}}, Actions: fixed("local")},
				{Priority: 50, Conditions: []Condition{{Field: FieldSourceIP, Values: []string{"10.0.0.0/8"}}}, Actions: fixed("ten")},
				{Priority: 60, Conditions: []Condition{{Field: FieldQueryString, QueryString: []KeyValue{{Key: "v", Value: "2"}}}}, Actions: fixed("v2")},
			},
			DefaultActions: forwardTo("tg-web"),
		}},
	}
	n := testNode(t, Options{}, cfg)
	base := nodeURL(t, n, 80, "http")
	c := noRedirects()
	tests := []struct {
		name, path string
		hdr        []string
		want       string
	}{
		{"path rule", "/api/users", nil, "api"},
		{"higher priority first", "/api/admin/x", nil, "admin"},
		{"default", "/index.html", nil, "web"},
		{"host and method", "/", []string{"Host", "beta.example.com"}, "beta"},
		{"host only is not enough for other hosts", "/", []string{"Host", "gamma.example.com"}, "web"},
		{"source ip and header", "/", []string{"X-Local", "yes"}, "local"},
		// A forged X-Forwarded-For does not make a loopback peer a 10/8 one.
		{"source ip is the TCP peer", "/", []string{"X-Forwarded-For", "10.1.2.3"}, "web"},
		{"query string", "/?v=2", nil, "v2"},
		{"query string other value", "/?v=3", nil, "web"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body, _ := get(t, c, base+tt.path, tt.hdr...)
			if code != 200 || body != tt.want {
				t.Errorf("GET %s %v = %d %q, want 200 %q", tt.path, tt.hdr, code, body, tt.want)
			}
		})
	}
}

func TestRedirect(t *testing.T) {
	tests := []struct {
		name string
		rd   Redirect
		path string
		want string
		code int
	}{
		{"to https", Redirect{Protocol: "HTTPS", Port: "443", StatusCode: "HTTP_301"}, "/a/b?x=1", "https://www.example.com/a/b?x=1", 301},
		{"defaults keep everything", Redirect{StatusCode: "HTTP_302"}, "/a?x=1", "http://www.example.com:8080/a?x=1", 302},
		{"placeholders", Redirect{Host: "new.#{host}", Path: "/v2/#{path}", Query: "#{query}&from=#{port}", StatusCode: "HTTP_302"}, "/p?q=1", "http://new.www.example.com:8080/v2/p?q=1&from=8080", 302},
		{"fixed path, no query", Redirect{Host: "example.org", Port: "80", Path: "/moved", Query: "", StatusCode: "HTTP_301"}, "/old", "http://example.org/moved", 301},
		{"empty query leaves no question mark", Redirect{Path: "/x", StatusCode: "HTTP_301"}, "/old", "http://www.example.com:8080/x", 301},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd := tt.rd
			n := testNode(t, Options{}, Config{Listeners: []Listener{{Port: 8080, Protocol: HTTP,
				DefaultActions: []Action{{Type: ActionRedirect, Redirect: &rd}}}}})
			code, body, h := get(t, noRedirects(), nodeURL(t, n, 8080, "http")+tt.path, "Host", "www.example.com:8080")
			if code != tt.code || h.Get("Location") != tt.want {
				t.Errorf("= %d %q, want %d %q", code, h.Get("Location"), tt.code, tt.want)
			}
			if h.Get("Server") != "awselb/2.0" || !strings.Contains(body, fmt.Sprintf("<h1>%d ", tt.code)) {
				t.Errorf("headers %v body %q", h, body)
			}
		})
	}
}

func TestFixedResponse(t *testing.T) {
	n := testNode(t, Options{}, Config{Listeners: []Listener{{Port: 80, Protocol: HTTP,
		DefaultActions: []Action{{Type: ActionFixedResponse, FixedResponse: &FixedResponse{StatusCode: "404", ContentType: "application/json", MessageBody: `{"error":"nope"}`}}}}}})
	code, body, h := get(t, noRedirects(), nodeURL(t, n, 80, "http")+"/x")
	if code != 404 || body != `{"error":"nope"}` || h.Get("Content-Type") != "application/json" || h.Get("Server") != "awselb/2.0" {
		t.Errorf("= %d %q %v", code, body, h)
	}
	if got := n.Counters().LoadBalancer.Counts["HTTP_Fixed_Response_Count"]; got != 1 {
		t.Errorf("HTTP_Fixed_Response_Count = %d", got)
	}
}

func TestWeightedForward(t *testing.T) {
	a, b, z := newBackend(t, "a", nil), newBackend(t, "b", nil), newBackend(t, "z", nil)
	cfg := Config{
		TargetGroups: []TargetGroup{groupOf("tg-a", a), groupOf("tg-b", b), groupOf("tg-z", z)},
		Listeners: []Listener{{Port: 80, Protocol: HTTP, DefaultActions: []Action{{Type: ActionForward, TargetGroups: []WeightedTargetGroup{
			{ARN: "tg-a", Weight: 30}, {ARN: "tg-b", Weight: 70}, {ARN: "tg-z", Weight: 0},
		}}}}},
	}
	n := testNode(t, Options{}, cfg)
	url := nodeURL(t, n, 80, "http")
	c := &http.Client{Timeout: 10 * time.Second}
	counts := map[string]int{}
	for range 1000 {
		code, body, _ := get(t, c, url+"/")
		if code != 200 {
			t.Fatalf("status %d %q", code, body)
		}
		counts[body]++
	}
	if counts["z"] != 0 {
		t.Errorf("weight-0 group got %d requests", counts["z"])
	}
	if d := counts["a"] - 300; d < -30 || d > 30 {
		t.Errorf("split %v, want about 300/700", counts)
	}
	if counts["a"]+counts["b"] != 1000 {
		t.Errorf("split %v", counts)
	}
}

func TestRoundRobinAndAlgorithms(t *testing.T) {
	for _, alg := range []string{RoundRobin, LeastOutstandingRequests, WeightedRandom} {
		t.Run(alg, func(t *testing.T) {
			a, b := newBackend(t, "a", nil), newBackend(t, "b", nil)
			tg := groupOf("tg", a, b)
			tg.Algorithm = alg
			n := testNode(t, Options{}, Config{TargetGroups: []TargetGroup{tg},
				Listeners: []Listener{{Port: 80, Protocol: HTTP, DefaultActions: forwardTo("tg")}}})
			waitState(t, n, "tg", "a", StateHealthy, 5*time.Second)
			waitState(t, n, "tg", "b", StateHealthy, 5*time.Second)
			url := nodeURL(t, n, 80, "http")
			counts := map[string]int{}
			for range 200 {
				_, body, _ := get(t, http.DefaultClient, url)
				counts[body]++
			}
			if counts["a"] < 60 || counts["b"] < 60 {
				t.Errorf("%s spread %v", alg, counts)
			}
		})
	}
}

func TestSlowStartWeight(t *testing.T) {
	g := &group{cfg: TargetGroup{SlowStart: 10 * time.Second}}
	now := time.Now()
	for _, tt := range []struct {
		since time.Duration
		want  int64
	}{{0, 1}, {time.Second, 100}, {5 * time.Second, 500}, {10 * time.Second, 1000}, {time.Hour, 1000}} {
		tg := &target{healthySince: now.Add(-tt.since)}
		if got := g.slowStartWeight(tg, now); got != tt.want {
			t.Errorf("after %v: weight %d, want %d", tt.since, got, tt.want)
		}
	}
	// The ramp shows in the traffic: a target that just turned healthy gets
	// a small share next to one at full weight.
	old, fresh := &target{healthySince: now.Add(-time.Hour)}, &target{healthySince: now.Add(-time.Second)}
	got := map[*target]int{}
	for range 1100 {
		got[g.choose([]*target{old, fresh}, now)]++
	}
	if got[fresh] < 90 || got[fresh] > 110 {
		t.Errorf("fresh target got %d of 1100, want about 100", got[fresh])
	}
}

func TestForwardedHeadersAndTraceID(t *testing.T) {
	b := newBackend(t, "b", nil)
	trace := regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$`)
	tests := []struct {
		name    string
		mode    string
		port    bool
		hdr     []string
		wantXFF string
		check   func(t *testing.T, h http.Header)
	}{
		{name: "append new", wantXFF: "127.0.0.1"},
		{name: "append existing", hdr: []string{"X-Forwarded-For", "203.0.113.9"}, wantXFF: "203.0.113.9, 127.0.0.1"},
		{name: "append with port", port: true, check: func(t *testing.T, h http.Header) {
			if !regexp.MustCompile(`^127\.0\.0\.1:\d+$`).MatchString(h.Get("X-Forwarded-For")) {
				t.Errorf("X-Forwarded-For %q", h.Get("X-Forwarded-For"))
			}
		}},
		{name: "preserve", mode: XFFPreserve, hdr: []string{"X-Forwarded-For", "203.0.113.9"}, wantXFF: "203.0.113.9"},
		{name: "preserve absent", mode: XFFPreserve, wantXFF: ""},
		{name: "remove", mode: XFFRemove, hdr: []string{"X-Forwarded-For", "203.0.113.9"}, wantXFF: ""},
		{name: "trace new", check: func(t *testing.T, h http.Header) {
			if !trace.MatchString(h.Get("X-Amzn-Trace-Id")) {
				t.Errorf("trace %q", h.Get("X-Amzn-Trace-Id"))
			}
		}, wantXFF: "127.0.0.1"},
		{name: "trace kept and extended", hdr: []string{"X-Amzn-Trace-Id", "Root=1-67891233-abcdef012345678912345678;CalledFrom=app"}, wantXFF: "127.0.0.1",
			check: func(t *testing.T, h http.Header) {
				re := regexp.MustCompile(`^Self=1-[0-9a-f]{8}-[0-9a-f]{24};Root=1-67891233-abcdef012345678912345678;CalledFrom=app$`)
				if !re.MatchString(h.Get("X-Amzn-Trace-Id")) {
					t.Errorf("trace %q", h.Get("X-Amzn-Trace-Id"))
				}
			}},
		{name: "trace self replaced", hdr: []string{"X-Amzn-Trace-Id", "Self=1-00000000-000000000000000000000000;Root=1-67891233-abcdef012345678912345678"}, wantXFF: "127.0.0.1",
			check: func(t *testing.T, h http.Header) {
				v := h.Get("X-Amzn-Trace-Id")
				if strings.Count(v, "Self=") != 1 || strings.Contains(v, "Self=1-00000000") {
					t.Errorf("trace %q", v)
				}
			}},
		{name: "trace invalid replaced", hdr: []string{"X-Amzn-Trace-Id", "Root=nonsense"}, wantXFF: "127.0.0.1", check: func(t *testing.T, h http.Header) {
			if !trace.MatchString(h.Get("X-Amzn-Trace-Id")) {
				t.Errorf("trace %q", h.Get("X-Amzn-Trace-Id"))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := testNode(t, Options{}, Config{XFFMode: tt.mode, XFFClientPort: tt.port,
				TargetGroups: []TargetGroup{groupOf("tg", b)},
				Listeners:    []Listener{{Port: 8080, Protocol: HTTP, DefaultActions: forwardTo("tg")}}})
			code, _, _ := get(t, http.DefaultClient, nodeURL(t, n, 8080, "http")+"/", tt.hdr...)
			if code != 200 {
				t.Fatalf("status %d", code)
			}
			h := b.lastHeader()
			if tt.check != nil {
				tt.check(t, h)
			} else if got := h.Get("X-Forwarded-For"); got != tt.wantXFF {
				t.Errorf("X-Forwarded-For %q, want %q", got, tt.wantXFF)
			}
			if tt.check != nil && tt.wantXFF != "" && h.Get("X-Forwarded-For") != tt.wantXFF {
				t.Errorf("X-Forwarded-For %q, want %q", h.Get("X-Forwarded-For"), tt.wantXFF)
			}
			if h.Get("X-Forwarded-Proto") != "http" || h.Get("X-Forwarded-Port") != "8080" {
				t.Errorf("proto %q port %q", h.Get("X-Forwarded-Proto"), h.Get("X-Forwarded-Port"))
			}
		})
	}
}

func TestDropInvalidHeaderFields(t *testing.T) {
	b := newBackend(t, "b", nil)
	for _, drop := range []bool{false, true} {
		n := testNode(t, Options{}, Config{DropInvalidHeaderFields: drop,
			TargetGroups: []TargetGroup{groupOf("tg", b)},
			Listeners:    []Listener{{Port: 80, Protocol: HTTP, DefaultActions: forwardTo("tg")}}})
		get(t, http.DefaultClient, nodeURL(t, n, 80, "http"), "X_Under_Score", "1", "X-Fine", "2")
		h := b.lastHeader()
		if _, present := h["X_under_score"]; present == drop || h.Get("X-Fine") != "2" {
			t.Errorf("drop=%v: headers %v", drop, h)
		}
	}
}

// awsPage is the body ALB writes for its own errors.
func awsPage(code int, text string) string {
	return fmt.Sprintf("<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n</body>\r\n</html>\r\n", code, text, code, text)
}

func TestELBErrors(t *testing.T) {
	// A port nothing listens on: the target refuses.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	// A target that answers garbage.
	garbage := rawServer(t, func(c net.Conn) {
		_, _ = bufio.NewReader(c).ReadString('\n')
		_, _ = io.WriteString(c, "this is not HTTP\r\n\r\n")
	})
	// A target that never answers.
	slow := newBackend(t, "slow", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	noChecks := HealthCheck{Disabled: true}
	cfg := Config{
		IdleTimeout: 300 * time.Millisecond,
		TargetGroups: []TargetGroup{
			{ARN: "refused", Protocol: HTTP, HealthCheck: noChecks, Targets: []Target{{ID: "r", Address: "127.0.0.1", Port: closedPort}}},
			{ARN: "garbage", Protocol: HTTP, HealthCheck: noChecks, Targets: []Target{{ID: "g", Address: "127.0.0.1", Port: garbage}}},
			{ARN: "slow", Protocol: HTTP, HealthCheck: noChecks, Targets: []Target{slow.target()}},
			{ARN: "empty", Protocol: HTTP},
		},
		Listeners: []Listener{{Port: 80, Protocol: HTTP,
			Rules: []Rule{
				{Priority: 1, Conditions: []Condition{{Field: FieldPathPattern, Values: []string{"/refused"}}}, Actions: forwardTo("refused")},
				{Priority: 2, Conditions: []Condition{{Field: FieldPathPattern, Values: []string{"/garbage"}}}, Actions: forwardTo("garbage")},
				{Priority: 3, Conditions: []Condition{{Field: FieldPathPattern, Values: []string{"/slow"}}}, Actions: forwardTo("slow")},
			},
			DefaultActions: forwardTo("empty")}},
	}
	n := testNode(t, Options{}, cfg)
	url := nodeURL(t, n, 80, "http")
	tests := []struct {
		path string
		code int
		text string
	}{
		{"/refused", 502, "Bad Gateway"},
		{"/garbage", 502, "Bad Gateway"},
		{"/slow", 504, "Gateway Time-out"},
		{"/none", 503, "Service Temporarily Unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			start := time.Now()
			code, body, h := get(t, http.DefaultClient, url+tt.path)
			if code != tt.code || body != awsPage(tt.code, tt.text) || h.Get("Server") != "awselb/2.0" || h.Get("Content-Type") != "text/html" {
				t.Errorf("= %d %q %v", code, body, h)
			}
			if tt.code == 504 && time.Since(start) > 3*time.Second {
				t.Errorf("504 after %v; the idle timeout is 300ms", time.Since(start))
			}
		})
	}
	got := n.Counters().LoadBalancer.Counts
	if got["HTTPCode_ELB_502_Count"] != 2 || got["HTTPCode_ELB_503_Count"] != 1 || got["HTTPCode_ELB_504_Count"] != 1 || got["HTTPCode_ELB_5XX_Count"] != 4 {
		t.Errorf("counters %v", got)
	}
}

func TestTooManyForwardedAndMalformed(t *testing.T) {
	b := newBackend(t, "b", nil)
	n := testNode(t, Options{}, Config{TargetGroups: []TargetGroup{groupOf("tg", b)},
		Listeners: []Listener{{Port: 80, Protocol: HTTP, DefaultActions: forwardTo("tg")}}})
	url := nodeURL(t, n, 80, "http")
	ips := make([]string, 31)
	for i := range ips {
		ips[i] = fmt.Sprintf("198.51.100.%d", i)
	}
	code, _, h := get(t, http.DefaultClient, url, "X-Forwarded-For", strings.Join(ips, ", "))
	if code != 463 || h.Get("Server") != "awselb/2.0" {
		t.Errorf("31 forwarded addresses: %d %v", code, h)
	}
	if code, _, _ := get(t, http.DefaultClient, url, "X-Forwarded-For", strings.Join(ips[:30], ", ")); code != 200 {
		t.Errorf("30 forwarded addresses: %d", code)
	}
	// A request Go's server refuses before any handler gets AWS's answer.
	for _, raw := range []string{"NOT A REQUEST\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 70<<10) + "\r\n\r\n"} {
		c, err := net.Dial("tcp", n.Addr(80).String())
		if err != nil {
			t.Fatal(err)
		}
		go func() { _, _ = io.WriteString(c, raw) }()
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		c.Close()
		if resp.StatusCode != 400 || string(body) != awsPage(400, "Bad Request") || resp.Header.Get("Server") != "awselb/2.0" {
			t.Errorf("malformed request: %d %q %v", resp.StatusCode, body, resp.Header)
		}
	}
}

func TestClientIdleTimeout(t *testing.T) {
	n := testNode(t, Options{}, Config{IdleTimeout: 200 * time.Millisecond,
		Listeners: []Listener{{Port: 80, Protocol: HTTP, DefaultActions: fixed("ok")}}})
	c, err := net.Dial("tcp", n.Addr(80).String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	// Keep-alive: two requests on one connection, then silence.
	for range 2 {
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	start := time.Now()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("read data from an idle connection")
	}
	if el := time.Since(start); el < 150*time.Millisecond || el > 2*time.Second {
		t.Errorf("idle connection closed after %v, want about 200ms", el)
	}
}

// rawServer accepts connections on loopback and hands each to f; it
// returns the port.
func rawServer(t *testing.T, f func(net.Conn)) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				f(c)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestUpdateUnderLoad(t *testing.T) {
	a, b, c := newBackend(t, "a", nil), newBackend(t, "b", nil), newBackend(t, "c", nil)
	mk := func(i int) Config {
		tg := groupOf("tg", a, b)
		if i%2 == 1 {
			tg.Targets = append(tg.Targets, c.target())
		}
		rules := []Rule{{Priority: 1 + i%3, Conditions: []Condition{{Field: FieldPathPattern, Values: []string{"/never"}}}, Actions: fixed("never")}}
		return Config{TargetGroups: []TargetGroup{tg}, Listeners: []Listener{{Port: 80, Protocol: HTTP, Rules: rules, DefaultActions: forwardTo("tg")}}}
	}
	n := testNode(t, Options{}, mk(0))
	waitState(t, n, "tg", "a", StateHealthy, 5*time.Second)
	waitState(t, n, "tg", "b", StateHealthy, 5*time.Second)
	url := nodeURL(t, n, 80, "http")
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	errs := make(chan error, 8)
	var total [4]int
	for w := range 4 {
		go func() {
			client := &http.Client{Timeout: 5 * time.Second}
			for ctx.Err() == nil {
				resp, err := client.Get(url + "/")
				if err != nil {
					errs <- err
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs <- fmt.Errorf("status %d %q", resp.StatusCode, body)
					return
				}
				total[w]++
			}
			errs <- nil
		}()
	}
	for i := 1; ctx.Err() == nil; i++ {
		if err := n.Update(context.Background(), mk(i)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("request failed during updates: %v", err)
		}
	}
	if sum := total[0] + total[1] + total[2] + total[3]; sum < 100 {
		t.Errorf("only %d requests", sum)
	}
}

func TestUpdateRejectsInvalid(t *testing.T) {
	n := testNode(t, Options{}, Config{Listeners: []Listener{{Port: 80, Protocol: HTTP, DefaultActions: fixed("v1")}}})
	bad := []Config{
		{Listeners: []Listener{{Port: 80, Protocol: HTTP, DefaultActions: forwardTo("missing")}}},
		{Listeners: []Listener{{Port: 80, Protocol: "TCP", DefaultActions: fixed("x")}}},
		{Listeners: []Listener{{Port: 80, Protocol: HTTP}}},
		{Listeners: []Listener{{Port: 80, Protocol: HTTP, DefaultActions: fixed("x"), Rules: []Rule{{Priority: 1, Conditions: []Condition{{Field: FieldSourceIP, Values: []string{"nope"}}}, Actions: fixed("y")}}}}},
		{TargetGroups: []TargetGroup{{ARN: "tg", HealthCheck: HealthCheck{Matcher: "200-100"}}}, Listeners: []Listener{{Port: 80, Protocol: HTTP, DefaultActions: fixed("x")}}},
	}
	for i, cfg := range bad {
		if err := n.Update(context.Background(), cfg); err == nil {
			t.Errorf("config %d accepted", i)
		}
	}
	if _, body, _ := get(t, http.DefaultClient, nodeURL(t, n, 80, "http")); body != "v1" {
		t.Errorf("after rejected updates the node serves %q", body)
	}
}

func TestListenersFollowConfig(t *testing.T) {
	n := testNode(t, Options{}, Config{Listeners: []Listener{{Port: 80, Protocol: HTTP, DefaultActions: fixed("eighty")}}})
	if err := n.Update(context.Background(), Config{Listeners: []Listener{{Port: 81, Protocol: HTTP, DefaultActions: fixed("eighty-one")}}}); err != nil {
		t.Fatal(err)
	}
	if n.Addr(80) != nil {
		t.Error("listener 80 still open")
	}
	if _, body, _ := get(t, http.DefaultClient, nodeURL(t, n, 81, "http")); body != "eighty-one" {
		t.Errorf("port 81 serves %q", body)
	}
}
