package imds

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/guestlimit"
)

func TestLimitsDefaults(t *testing.T) {
	cases := []struct {
		name string
		in   Limits
		want Limits
	}{
		{"zero is the defaults", Limits{}, DefaultLimits},
		{"set fields stay", Limits{ConnsPerInstance: 3, RequestsPerSecond: 0.5, IdleTimeout: time.Second},
			func() Limits {
				l := DefaultLimits
				l.ConnsPerInstance, l.RequestsPerSecond, l.IdleTimeout = 3, 0.5, time.Second
				return l
			}()},
		{"negative is the default", Limits{Conns: -1, ReadTimeout: -time.Second}, DefaultLimits},
	}
	for _, c := range cases {
		if got := c.in.withDefaults(); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

// Each instance has its own bucket; callers that are no instance share
// one; a throttled request gets AWS's 429 page, and time refills.
func TestThrottling(t *testing.T) {
	c := &fakeClock{t: launch}
	stats := new(Stats)
	s := New(lookup, WithClock(c.now), WithStats(stats), WithLimits(Limits{RequestsPerSecond: 2, Burst: 3}))
	const webFrom, bareFrom, strangerA, strangerB = "10.0.1.23:1", "172.31.5.6:1", "192.0.2.1:1", "192.0.2.2:1"
	steps := []struct {
		advance time.Duration
		from    string
		n       int
		want    []int // statuses in order
	}{
		{0, webFrom, 4, []int{200, 200, 200, 429}},
		{0, bareFrom, 1, []int{200}}, // another instance is not throttled
		{500 * time.Millisecond, webFrom, 2, []int{200, 429}},
		{0, strangerA, 2, []int{403, 403}},
		{0, strangerB, 2, []int{403, 429}}, // shares the strangers' bucket
		{time.Minute, webFrom, 3, []int{200, 200, 200}},
	}
	throttled := 0
	for i, st := range steps {
		c.add(st.advance)
		for j, want := range st.want {
			w := do(s, req{path: "/latest/meta-data/instance-id", from: st.from})
			if w.Code != want {
				t.Fatalf("step %d request %d from %s: status %d, want %d", i, j, st.from, w.Code, want)
			}
			if want != 429 {
				continue
			}
			throttled++
			if !strings.Contains(w.Body.String(), "<title>429 - Too Many Requests</title>") ||
				w.Header().Get("Content-Type") != "text/html" || w.Header().Get("Server") != "EC2ws" {
				t.Errorf("429 answer: %v %q", w.Header(), w.Body.String())
			}
		}
	}
	if got := stats.Throttled.Load(); got != uint64(throttled) {
		t.Errorf("Throttled = %d, want %d", got, throttled)
	}
}

// serveLimited serves s on a loopback listener (127.0.0.1 is web's).
func serveLimited(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// halfOpen connects and sends part of a request's headers.
func halfOpen(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, "GET /latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n"); err != nil {
		t.Fatal(err)
	}
	return c
}

// closedByServer waits up to d for the server to close c.
func closedByServer(c net.Conn, d time.Duration) error {
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, err := c.Read(make([]byte, 1))
	if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
		return nil
	}
	return err
}

// refusedAtAccept reports whether a half-open request is closed by the
// server at once; the reset may reach the dial or the write.
func refusedAtAccept(addr string) error {
	c, err := net.Dial("tcp4", addr)
	if errors.Is(err, syscall.ECONNRESET) {
		return nil
	}
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\n"); errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return nil
	}
	return closedByServer(c, time.Second)
}

func waitConns(s *Server, want int, d time.Duration) error {
	deadline := time.Now().Add(d)
	for s.Conns() != want {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d connections held, want %d", s.Conns(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// Half-open requests hold at most an instance's share of connections, and
// only until the header timeout; a connection over the share is reset.
func TestHalfOpenConnections(t *testing.T) {
	stats := new(Stats)
	budget := guestlimit.NewBudget(100)
	s := New(lookup, WithStats(stats), WithBudget(budget),
		WithLimits(Limits{ConnsPerInstance: 3, ReadHeaderTimeout: 300 * time.Millisecond}))
	addr := serveLimited(t, s)
	var held []net.Conn
	for range 3 {
		held = append(held, halfOpen(t, addr))
	}
	if err := waitConns(s, 3, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := refusedAtAccept(addr); err != nil {
		t.Fatalf("a connection over the instance's share was not reset: %v", err)
	}
	if stats.RefusedConns.Load() == 0 {
		t.Error("RefusedConns not counted")
	}
	if got := budget.Stats().InUse; got != 3 {
		t.Errorf("budget in use %d, want 3", got)
	}
	start := time.Now()
	for _, c := range held {
		if err := closedByServer(c, 2*time.Second); err != nil {
			t.Fatalf("half-open request not closed by the header timeout: %v", err)
		}
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("half-open requests held for %v", d)
	}
	if err := waitConns(s, 0, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := budget.Stats().InUse; got != 0 {
		t.Errorf("budget in use %d after the connections closed", got)
	}
	// The instance is served again.
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get("http://" + addr + "/latest/meta-data/instance-id")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != web.InstanceID {
		t.Fatalf("after the flood: %d %q", resp.StatusCode, body)
	}
}

// A request whose body trickles in is answered, and its connection is
// closed by the read timeout rather than held while the body comes.
func TestSlowBody(t *testing.T) {
	s := New(lookup, WithLimits(Limits{ReadTimeout: 400 * time.Millisecond}))
	addr := serveLimited(t, s)
	c, err := net.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\n"+
		"X-aws-ec2-metadata-token-ttl-seconds: 60\r\nContent-Length: 1000\r\n\r\nx"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("token with a body: %d", resp.StatusCode)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() { // a byte every 100 ms, for longer than the timeout
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				if _, err := c.Write([]byte("x")); err != nil {
					return
				}
			}
		}
	}()
	if err := waitConns(s, 0, 2*time.Second); err != nil {
		t.Fatalf("slow body: %v", err)
	}
}
