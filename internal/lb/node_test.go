package lb

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestStreaming(t *testing.T) {
	gotFirst := make(chan string, 1)
	releaseResp := make(chan struct{})
	b := newBackend(t, "s", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/upload" {
			buf := make([]byte, 5)
			if _, err := io.ReadFull(r.Body, buf); err != nil {
				return
			}
			gotFirst <- string(buf)
			rest, _ := io.ReadAll(r.Body)
			_, _ = io.WriteString(w, string(buf)+string(rest))
			return
		}
		_, _ = io.WriteString(w, "first")
		w.(http.Flusher).Flush()
		<-releaseResp
		_, _ = io.WriteString(w, "second")
	}))
	n := testNode(t, Options{}, Config{TargetGroups: []TargetGroup{groupOf("tg", b)},
		Listeners: []Listener{{Port: 80, Protocol: HTTP, DefaultActions: forwardTo("tg")}}})
	url := nodeURL(t, n, 80, "http")

	// The request body reaches the target while the client still sends.
	pr, pw := io.Pipe()
	done := make(chan string, 1)
	go func() {
		resp, err := http.Post(url+"/upload", "text/plain", pr)
		if err != nil {
			done <- err.Error()
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- string(body)
	}()
	_, _ = io.WriteString(pw, "hello")
	select {
	case got := <-gotFirst:
		if got != "hello" {
			t.Errorf("target read %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("request body buffered: the target saw nothing while the client was still sending")
	}
	_, _ = io.WriteString(pw, " world")
	pw.Close()
	if got := <-done; got != "hello world" {
		t.Errorf("echo %q", got)
	}

	// The answer reaches the client while the target still writes.
	resp, err := http.Get(url + "/download")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 5)
	readDone := make(chan error, 1)
	go func() { _, err := io.ReadFull(resp.Body, buf); readDone <- err }()
	select {
	case err := <-readDone:
		if err != nil || string(buf) != "first" {
			t.Fatalf("read %q %v", buf, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("response buffered: nothing arrived before the target finished")
	}
	close(releaseResp)
	rest, _ := io.ReadAll(resp.Body)
	if string(rest) != "second" {
		t.Errorf("rest %q", rest)
	}
}

func TestCounters(t *testing.T) {
	b := newBackend(t, "b", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	n := testNode(t, Options{}, Config{TargetGroups: []TargetGroup{groupOf("tg", b)},
		Listeners: []Listener{{Port: 80, Protocol: HTTP,
			Rules:          []Rule{{Priority: 1, Conditions: []Condition{{Field: FieldPathPattern, Values: []string{"/r"}}}, Actions: []Action{{Type: ActionRedirect, Redirect: &Redirect{Path: "/x", StatusCode: "HTTP_302"}}}}},
			DefaultActions: forwardTo("tg")}}})
	url := nodeURL(t, n, 80, "http")
	for range 3 {
		get(t, http.DefaultClient, url+"/")
	}
	get(t, http.DefaultClient, url+"/missing")
	get(t, noRedirects(), url+"/r")
	c := n.Counters()
	lb := c.LoadBalancer.Counts
	for name, want := range map[string]int64{
		"RequestCount": 4, "HTTPCode_Target_2XX_Count": 3, "HTTPCode_Target_4XX_Count": 1,
		"HTTP_Redirect_Count": 1, "HTTPCode_ELB_3XX_Count": 1, "RuleEvaluations": 5,
	} {
		if lb[name] != want {
			t.Errorf("%s = %d, want %d", name, lb[name], want)
		}
	}
	if lb["NewConnectionCount"] < 1 || lb["ProcessedBytes"] < 100 || c.LoadBalancer.TargetResponseTime.Count != 4 {
		t.Errorf("load balancer counters %+v", c.LoadBalancer)
	}
	if got := c.TargetGroups["tg"].Counts["RequestCount"]; got != 4 {
		t.Errorf("target group RequestCount %d", got)
	}
	if got := c.Targets["tg"][b.targetKey()].Counts["HTTPCode_Target_2XX_Count"]; got != 3 {
		t.Errorf("target 2XX %d", got)
	}
}

func TestMaxConnections(t *testing.T) {
	n := testNode(t, Options{MaxConnections: 1}, Config{Listeners: []Listener{{Port: 80, Protocol: HTTP, DefaultActions: fixed("ok")}}})
	first, err := net.Dial("tcp", n.Addr(80).String())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	waitFor(t, 2*time.Second, "the first connection to count", func() bool {
		return n.Counters().LoadBalancer.Counts["ActiveConnectionCount"] == 1
	})
	second, err := net.Dial("tcp", n.Addr(80).String())
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	_ = second.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := second.Read(make([]byte, 1)); err == nil || strings.Contains(err.Error(), "timeout") {
		t.Errorf("connection past the cap not closed: %v", err)
	}
	if got := n.Counters().LoadBalancer.Counts["RejectedConnectionCount"]; got != 1 {
		t.Errorf("RejectedConnectionCount %d", got)
	}
}

func TestCloseEndsHealthChecks(t *testing.T) {
	b := newBackend(t, "b", nil)
	n, err := New(Options{Logger: testNodeLogger(), Listen: func(ctx context.Context, port int) (net.Listener, error) {
		return net.Listen("tcp", "127.0.0.1:0")
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Update(context.Background(), healthConfig(groupOf("tg", b))); err != nil {
		t.Fatal(err)
	}
	waitState(t, n, "tg", "b", StateHealthy, 3*time.Second)
	if err := n.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	checks := b.checks.Load()
	time.Sleep(5 * fastChecks.Interval)
	if got := b.checks.Load() - checks; got > 1 {
		t.Errorf("%d health checks after Close", got)
	}
	if err := n.Update(context.Background(), healthConfig(groupOf("tg", b))); err == nil {
		t.Error("Update after Close succeeded")
	}
}
