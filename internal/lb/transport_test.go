package lb

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestTargetConnections checks the group's own pool of connections to
// HTTP targets: keep-alive reuse, closing when the target asks, and a
// connection the target closed while idle (as servers with a keep-alive
// timeout do): an idempotent request on it is sent again on a new
// connection, any other request is not sent on it at all.
func TestTargetConnections(t *testing.T) {
	tests := []struct {
		name string
		// the target's answer on each connection; after perConn answers it
		// closes the connection without saying so (0: never)
		header  string
		perConn int
		method  string
		// connections the target should see for 5 requests
		wantConns int64
	}{
		{"keep-alive", "", 0, http.MethodGet, 1},
		{"target closes", "Connection: close\r\n", 0, http.MethodGet, 5},
		{"idle close, GET sent again", "", 1, http.MethodGet, 5},
		{"idle close, POST not sent on it", "", 1, http.MethodPost, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var conns, reqs atomic.Int64
			port := rawServer(t, func(c net.Conn) {
				conns.Add(1)
				br := bufio.NewReader(c)
				for i := 0; tt.perConn == 0 || i < tt.perConn; i++ {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					reqs.Add(1)
					if _, err := fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n%s\r\nok", tt.header); err != nil {
						return
					}
				}
			})
			url := nodeBefore(t, port)
			for i := range 5 {
				req, _ := http.NewRequest(tt.method, url, nil)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || string(body) != "ok" {
					t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
				}
				// Let the target's close reach the node.
				time.Sleep(20 * time.Millisecond)
			}
			if conns.Load() != tt.wantConns || reqs.Load() != 5 {
				t.Errorf("the target saw %d connections and %d requests, want %d and 5", conns.Load(), reqs.Load(), tt.wantConns)
			}
		})
	}
}

// TestTargetStaleConnectionRace: the target closes each kept-alive
// connection right after its answer, with no pause before the next
// request, so that requests meet connections the target has already
// closed; every GET still gets its answer.
func TestTargetStaleConnectionRace(t *testing.T) {
	port := rawServer(t, func(c net.Conn) {
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		_ = req
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	url := nodeBefore(t, port)
	for i := range 50 {
		code, body, _ := get(t, http.DefaultClient, url)
		if code != 200 || !strings.HasPrefix(body, "ok") {
			t.Fatalf("request %d: %d %q", i, code, body)
		}
	}
}

// nodeBefore is the URL of a node whose listener forwards to the target
// on port (no health checks).
func nodeBefore(t *testing.T, port int) string {
	tg := TargetGroup{ARN: "tg", Protocol: HTTP, HealthCheck: HealthCheck{Disabled: true},
		Targets: []Target{{ID: "t", Address: "127.0.0.1", Port: port}}}
	n := testNode(t, Options{}, Config{TargetGroups: []TargetGroup{tg},
		Listeners: []Listener{{Port: 80, Protocol: HTTP, DefaultActions: forwardTo("tg")}}})
	return nodeURL(t, n, 80, "http")
}
