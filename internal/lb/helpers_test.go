package lb

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// backend is a real HTTP target on loopback that answers with its name and
// remembers the last request's headers; its health path answers
// healthCode.
type backend struct {
	name       string
	srv        *httptest.Server
	healthCode atomic.Int32
	healthWait atomic.Int64 // nanoseconds the health path sleeps
	hits       atomic.Int64
	checks     atomic.Int64 // health checks received

	mu   sync.Mutex
	last http.Header
}

func newBackend(t testing.TB, name string, extra http.Handler) *backend {
	t.Helper()
	b := &backend{name: name}
	b.healthCode.Store(200)
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			b.checks.Add(1)
			time.Sleep(time.Duration(b.healthWait.Load()))
			w.WriteHeader(int(b.healthCode.Load()))
			return
		}
		b.hits.Add(1)
		b.mu.Lock()
		b.last = r.Header.Clone()
		b.mu.Unlock()
		if extra != nil {
			extra.ServeHTTP(w, r)
			return
		}
		_, _ = io.WriteString(w, name)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *backend) lastHeader() http.Header {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last
}

func (b *backend) target() Target {
	_, port, _ := net.SplitHostPort(b.srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return Target{ID: b.name, Address: "127.0.0.1", Port: p}
}

// fastChecks are health checks quick enough for tests.
var fastChecks = HealthCheck{
	Path: "/health", Interval: 40 * time.Millisecond, Timeout: 30 * time.Millisecond,
	HealthyThreshold: 2, UnhealthyThreshold: 2,
}

// group makes a target group of backends.
func groupOf(arn string, bs ...*backend) TargetGroup {
	tg := TargetGroup{ARN: arn, Protocol: HTTP, HealthCheck: fastChecks, DeregistrationDelay: 5 * time.Second}
	for _, b := range bs {
		tg.Targets = append(tg.Targets, b.target())
	}
	return tg
}

func forwardTo(arns ...string) []Action {
	a := Action{Type: ActionForward}
	for _, arn := range arns {
		a.TargetGroups = append(a.TargetGroups, WeightedTargetGroup{ARN: arn, Weight: 1})
	}
	return []Action{a}
}

func fixed(body string) []Action {
	return []Action{{Type: ActionFixedResponse, FixedResponse: &FixedResponse{StatusCode: "200", ContentType: "text/plain", MessageBody: body}}}
}

// testNode starts a node whose listeners bind loopback ports (the config's
// port numbers stay what the node reports in X-Forwarded-Port).
func testNode(t testing.TB, opts Options, cfg Config) *Node {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testNodeLogger()
	}
	if opts.Listen == nil {
		opts.Listen = func(ctx context.Context, port int) (net.Listener, error) {
			var lc net.ListenConfig
			return lc.Listen(ctx, "tcp", "127.0.0.1:0")
		}
	}
	n, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := n.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	if err := n.Update(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	return n
}

// url is the node's address for a listener port.
func nodeURL(t testing.TB, n *Node, port int, scheme string) string {
	t.Helper()
	a := n.Addr(port)
	if a == nil {
		t.Fatalf("no listener on %d", port)
	}
	return scheme + "://" + a.String()
}

// get fetches a URL and returns status and body.
func get(t testing.TB, c *http.Client, url string, hdr ...string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: body: %v", url, err)
	}
	return resp.StatusCode, string(body), resp.Header
}

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// healthOf is one target's health on the node.
func healthOf(n *Node, arn, id string) TargetHealth {
	for _, h := range n.Health()[arn] {
		if h.Target.ID == id {
			return h
		}
	}
	return TargetHealth{State: "absent"}
}

func waitState(t testing.TB, n *Node, arn, id, state string, d time.Duration) TargetHealth {
	t.Helper()
	var h TargetHealth
	waitFor(t, d, fmt.Sprintf("%s to be %s", id, state), func() bool {
		h = healthOf(n, arn, id)
		return h.State == state
	})
	return h
}

// noRedirects is a client that shows redirects instead of following them.
func noRedirects() *http.Client {
	return &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func testNodeLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
