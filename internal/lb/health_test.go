package lb

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func healthConfig(tgs ...TargetGroup) Config {
	return Config{TargetGroups: tgs, Listeners: []Listener{{Port: 80, Protocol: HTTP, DefaultActions: forwardTo(tgs[0].ARN)}}}
}

func TestHealthUnhealthyAndBack(t *testing.T) {
	a, b := newBackend(t, "a", nil), newBackend(t, "b", nil)
	n := testNode(t, Options{}, healthConfig(groupOf("tg", a, b)))
	waitState(t, n, "tg", "a", StateHealthy, 5*time.Second)
	waitState(t, n, "tg", "b", StateHealthy, 5*time.Second)
	url := nodeURL(t, n, 80, "http")

	b.healthCode.Store(503)
	start := time.Now()
	// interval × unhealthy threshold, plus a check's timeout and slack.
	h := waitState(t, n, "tg", "b", StateUnhealthy, 2*fastChecks.Interval*2+time.Second)
	if el := time.Since(start); el > 2*fastChecks.Interval+fastChecks.Timeout+500*time.Millisecond {
		t.Errorf("unhealthy after %v", el)
	}
	if h.Reason != ReasonResponseCodeMismatch || h.Description != "Health checks failed with these codes: [503]" {
		t.Errorf("health %+v", h)
	}
	// From now on everything goes to a, without a failed request.
	hitsB := b.hits.Load()
	for range 50 {
		code, body, _ := get(t, http.DefaultClient, url)
		if code != 200 || body != "a" {
			t.Fatalf("got %d %q while b is unhealthy", code, body)
		}
	}
	if b.hits.Load() != hitsB {
		t.Errorf("unhealthy b got %d requests", b.hits.Load()-hitsB)
	}
	c := n.Counters().TargetGroups["tg"].Counts
	if c[MetricHealthyHostCount] != 1 || c[MetricUnHealthyHostCount] != 1 {
		t.Errorf("host counts %v", c)
	}

	b.healthCode.Store(200)
	waitState(t, n, "tg", "b", StateHealthy, 2*time.Second)
	seen := map[string]bool{}
	for range 10 {
		_, body, _ := get(t, http.DefaultClient, url)
		seen[body] = true
	}
	if !seen["b"] {
		t.Error("b gets no traffic after it recovered")
	}
}

func TestHealthReasons(t *testing.T) {
	slow := newBackend(t, "slow", nil)
	slow.healthWait.Store(int64(200 * time.Millisecond))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	ok := newBackend(t, "ok", nil)
	tg := groupOf("tg", slow, ok)
	tg.Targets = append(tg.Targets, Target{ID: "refused", Address: "127.0.0.1", Port: closed})
	tg.HealthCheck.Matcher = "200-299"
	n := testNode(t, Options{}, healthConfig(tg))
	if h := waitState(t, n, "tg", "slow", StateUnhealthy, 3*time.Second); h.Reason != ReasonTimeout || h.Description != "Request timed out" {
		t.Errorf("slow: %+v", h)
	}
	if h := waitState(t, n, "tg", "refused", StateUnhealthy, 3*time.Second); h.Reason != ReasonFailedHealthChecks || h.Description != "Health checks failed" {
		t.Errorf("refused: %+v", h)
	}
	waitState(t, n, "tg", "ok", StateHealthy, 3*time.Second)
}

func TestHealthInitialStates(t *testing.T) {
	a := newBackend(t, "a", nil)
	tg := groupOf("tg", a)
	tg.HealthCheck.Interval = time.Hour // the first check only
	tg.HealthCheck.Timeout = time.Second
	a.healthWait.Store(int64(300 * time.Millisecond))
	n := testNode(t, Options{}, healthConfig(tg))
	h := healthOf(n, "tg", "a")
	if h.State != StateInitial || h.Reason != ReasonRegistrationInProgress || h.Description != "Target registration is in progress" {
		t.Errorf("right after registration: %+v", h)
	}
	h = waitState(t, n, "tg", "a", StateInitial, time.Second)
	waitFor(t, 2*time.Second, "initial health checking", func() bool {
		h = healthOf(n, "tg", "a")
		return h.Reason == ReasonInitialHealthChecking
	})
	if h.Description != "Initial health checks in progress" {
		t.Errorf("while checking: %+v", h)
	}
	// One passing check takes a new target in service.
	waitState(t, n, "tg", "a", StateHealthy, 2*time.Second)
}

func TestHealthOverrides(t *testing.T) {
	a, b := newBackend(t, "a", nil), newBackend(t, "b", nil)
	used := groupOf("used", a)
	stopped := b.target()
	stopped.Stopped = true
	used.Targets = append(used.Targets, stopped)
	idle := groupOf("idle", a)
	off := groupOf("off", b)
	off.HealthCheck.Disabled = true
	cfg := Config{TargetGroups: []TargetGroup{used, idle, off}, Listeners: []Listener{{Port: 80, Protocol: HTTP,
		Rules:          []Rule{{Priority: 1, Conditions: []Condition{{Field: FieldPathPattern, Values: []string{"/off"}}}, Actions: forwardTo("off")}},
		DefaultActions: forwardTo("used")}}}
	n := testNode(t, Options{}, cfg)
	tests := []struct{ group, id, state, reason, desc string }{
		{"used", "b", StateUnused, ReasonInvalidState, "Target is in the stopped state"},
		{"idle", "a", StateUnused, ReasonNotInUse, "Target group is not configured to receive traffic from the load balancer"},
		{"off", "b", StateUnavailable, ReasonHealthCheckDisabled, "Health checks are not enabled for this target"},
	}
	for _, tt := range tests {
		if h := healthOf(n, tt.group, tt.id); h.State != tt.state || h.Reason != tt.reason || h.Description != tt.desc {
			t.Errorf("%s/%s: %+v", tt.group, tt.id, h)
		}
	}
	// The stopped target gets nothing; checks-disabled targets serve.
	waitState(t, n, "used", "a", StateHealthy, 3*time.Second)
	url := nodeURL(t, n, 80, "http")
	for range 10 {
		if _, body, _ := get(t, http.DefaultClient, url); body != "a" {
			t.Fatalf("got %q", body)
		}
	}
	if _, body, _ := get(t, http.DefaultClient, url+"/off"); body != "b" {
		t.Errorf("checks disabled: got %q", body)
	}
}

func TestFailOpen(t *testing.T) {
	a, b := newBackend(t, "a", nil), newBackend(t, "b", nil)
	a.healthCode.Store(500)
	b.healthCode.Store(500)
	n := testNode(t, Options{}, healthConfig(groupOf("tg", a, b)))
	waitState(t, n, "tg", "a", StateUnhealthy, 3*time.Second)
	waitState(t, n, "tg", "b", StateUnhealthy, 3*time.Second)
	url := nodeURL(t, n, 80, "http")
	seen := map[string]int{}
	for range 20 {
		code, body, _ := get(t, http.DefaultClient, url)
		if code != 200 {
			t.Fatalf("status %d with every target unhealthy", code)
		}
		seen[body]++
	}
	if seen["a"] == 0 || seen["b"] == 0 {
		t.Errorf("fail-open spread %v", seen)
	}
}

func TestDraining(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	slowHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-release
		}
		_, _ = io.WriteString(w, "b")
	})
	a, b := newBackend(t, "a", nil), newBackend(t, "b", slowHandler)
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	tg := groupOf("tg", b)
	n := testNode(t, Options{}, healthConfig(tg))
	waitState(t, n, "tg", "b", StateHealthy, 3*time.Second)
	url := nodeURL(t, n, 80, "http")

	slowDone := make(chan string, 1)
	go func() {
		resp, err := http.Get(url + "/slow")
		if err != nil {
			slowDone <- err.Error()
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		slowDone <- resp.Status + " " + string(body)
	}()
	waitFor(t, 2*time.Second, "the slow request to reach b", func() bool { return b.hits.Load() == 1 })

	// Deregister b, register a.
	if err := n.Update(context.Background(), healthConfig(groupOf("tg", a))); err != nil {
		t.Fatal(err)
	}
	if h := healthOf(n, "tg", "b"); h.State != StateDraining || h.Reason != ReasonDeregistrationInProgress || h.Description != "Target deregistration is in progress" {
		t.Errorf("deregistered b: %+v", h)
	}
	waitState(t, n, "tg", "a", StateHealthy, 3*time.Second)
	for range 10 {
		if code, body, _ := get(t, http.DefaultClient, url); code != 200 || body != "a" {
			t.Fatalf("new request went to %d %q while b drains", code, body)
		}
	}
	if b.hits.Load() != 1 {
		t.Errorf("draining b got %d new requests", b.hits.Load()-1)
	}
	once.Do(func() { close(release) })
	if got := <-slowDone; got != "200 OK b" {
		t.Errorf("in-flight request on the draining target: %s", got)
	}
	// No request in flight: deregistration completes.
	waitState(t, n, "tg", "b", "absent", 2*time.Second)
}

func TestDrainingDelayEndsRequests(t *testing.T) {
	b := newBackend(t, "b", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	tg := groupOf("tg", b)
	tg.DeregistrationDelay = 200 * time.Millisecond
	n := testNode(t, Options{}, healthConfig(tg))
	url := nodeURL(t, n, 80, "http")
	done := make(chan error, 1)
	go func() {
		resp, err := http.Get(url + "/hang")
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		done <- err
	}()
	waitFor(t, 2*time.Second, "the request to reach b", func() bool { return b.hits.Load() == 1 })
	empty := groupOf("tg")
	empty.DeregistrationDelay = 200 * time.Millisecond
	if err := n.Update(context.Background(), healthConfig(empty)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("request to a drained target outlived the deregistration delay")
	}
	waitState(t, n, "tg", "b", "absent", time.Second)
	if code, body, _ := get(t, http.DefaultClient, url); code != 503 || !strings.Contains(body, "503 Service Temporarily Unavailable") {
		t.Errorf("no targets: %d %q", code, body)
	}
}

func TestHealthKeptAcrossUpdate(t *testing.T) {
	a := newBackend(t, "a", nil)
	tg := groupOf("tg", a)
	n := testNode(t, Options{}, healthConfig(tg))
	waitState(t, n, "tg", "a", StateHealthy, 3*time.Second)
	cfg := healthConfig(tg)
	cfg.IdleTimeout = 30 * time.Second
	cfg.Listeners[0].Rules = []Rule{{Priority: 5, Conditions: []Condition{{Field: FieldPathPattern, Values: []string{"/x"}}}, Actions: fixed("x")}}
	if err := n.Update(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if h := healthOf(n, "tg", "a"); h.State != StateHealthy {
		t.Errorf("after an update: %+v", h)
	}
}

func TestParseMatcher(t *testing.T) {
	tests := []struct {
		s    string
		ok   []int
		nok  []int
		fail bool
	}{
		{s: "200", ok: []int{200}, nok: []int{201, 503}},
		{s: "200,202", ok: []int{200, 202}, nok: []int{201}},
		{s: "200-299", ok: []int{200, 250, 299}, nok: []int{300, 199}},
		{s: "200-199", fail: true},
		{s: "abc", fail: true},
	}
	for _, tt := range tests {
		m, err := parseMatcher(tt.s)
		if (err != nil) != tt.fail {
			t.Errorf("parseMatcher(%q) error %v", tt.s, err)
			continue
		}
		for _, c := range tt.ok {
			if !m.match(c) {
				t.Errorf("%q does not match %d", tt.s, c)
			}
		}
		for _, c := range tt.nok {
			if m.match(c) {
				t.Errorf("%q matches %d", tt.s, c)
			}
		}
	}
}
