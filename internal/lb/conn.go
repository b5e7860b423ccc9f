package lb

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// trackedConn is a client connection as the node accepted it: it counts
// ProcessedBytes and ActiveConnectionCount, closes itself after the idle
// timeout while no request is in progress, and (on plain HTTP listeners)
// turns the answers Go's server writes on its own to malformed requests
// into AWS's.
type trackedConn struct {
	net.Conn
	node      *Node
	plain     bool // not TLS: Writes carry plaintext HTTP
	closeOnce sync.Once

	mu        sync.Mutex
	idleTimer *time.Timer
}

func newTrackedConn(c net.Conn, n *Node, plain bool) *trackedConn {
	n.counters.add(mNewConnections, 1)
	n.counters.add(mActiveConnections, 1)
	return &trackedConn{Conn: c, node: n, plain: plain}
}

func (c *trackedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.node.counters.add(mProcessedBytes, int64(n))
	return n, err
}

// goErrorHeaders is what follows the status line in the answers Go's
// server writes itself to a request it cannot parse (net/http's
// conn.serve). A handler's answer never has it: net/http writes header
// fields sorted, Connection before Content-Type.
var goErrorHeaders = []byte("\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n")

func (c *trackedConn) Write(p []byte) (int, error) {
	if c.plain && isGoErrorAnswer(p) {
		if code, err := strconv.Atoi(string(p[9:12])); err == nil {
			// Oversized headers (431 in Go) are a 400 on ALB.
			if code == http.StatusRequestHeaderFieldsTooLarge {
				code = http.StatusBadRequest
			}
			c.node.counters.elbCode(code)
			raw := rawErrorResponse(code)
			if _, err := c.Conn.Write(raw); err != nil {
				return 0, err
			}
			c.node.counters.add(mProcessedBytes, int64(len(raw)))
			return len(p), nil
		}
	}
	n, err := c.Conn.Write(p)
	c.node.counters.add(mProcessedBytes, int64(n))
	return n, err
}

// isGoErrorAnswer recognizes those answers: the status line, then at once
// goErrorHeaders.
func isGoErrorAnswer(p []byte) bool {
	if len(p) < 13 || !bytes.HasPrefix(p, []byte("HTTP/1.1 ")) {
		return false
	}
	eol := bytes.Index(p, []byte("\r\n"))
	return eol > 0 && bytes.HasPrefix(p[eol:], goErrorHeaders)
}

func (c *trackedConn) Close() error {
	c.closeOnce.Do(func() {
		c.node.counters.add(mActiveConnections, -1)
		c.stopIdle()
	})
	return c.Conn.Close()
}

// armIdle closes the connection unless a request starts within d.
func (c *trackedConn) armIdle(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.idleTimer != nil {
		c.idleTimer.Reset(d)
		return
	}
	c.idleTimer = time.AfterFunc(d, func() { _ = c.Close() })
}

func (c *trackedConn) stopIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.idleTimer != nil {
		c.idleTimer.Stop()
	}
}

// trackedOf finds the trackedConn under a connection http.Server reports.
func trackedOf(c net.Conn) *trackedConn {
	switch v := c.(type) {
	case *trackedConn:
		return v
	case *tls.Conn:
		t, _ := v.NetConn().(*trackedConn)
		return t
	}
	return nil
}

// activityConn is a target connection after a WebSocket (or other)
// upgrade: both directions go through it, and it closes itself after the
// idle timeout without traffic either way. Closing it ends
// httputil.ReverseProxy's copy loop, which then closes the client side.
type activityConn struct {
	rwc     io.ReadWriteCloser
	idle    time.Duration
	last    atomic.Int64 // unix nanoseconds of the last Read or Write
	timer   *time.Timer
	stopped atomic.Bool
}

func newActivityConn(rwc io.ReadWriteCloser, idle time.Duration) *activityConn {
	a := &activityConn{rwc: rwc, idle: idle}
	a.last.Store(time.Now().UnixNano())
	a.timer = time.AfterFunc(idle, a.check)
	return a
}

func (a *activityConn) check() {
	if a.stopped.Load() {
		return
	}
	quiet := time.Since(time.Unix(0, a.last.Load()))
	if quiet >= a.idle {
		_ = a.Close()
		return
	}
	a.timer.Reset(a.idle - quiet)
}

func (a *activityConn) Read(p []byte) (int, error) {
	n, err := a.rwc.Read(p)
	a.last.Store(time.Now().UnixNano())
	return n, err
}

func (a *activityConn) Write(p []byte) (int, error) {
	n, err := a.rwc.Write(p)
	a.last.Store(time.Now().UnixNano())
	return n, err
}

func (a *activityConn) Close() error {
	a.stopped.Store(true)
	a.timer.Stop()
	return a.rwc.Close()
}
