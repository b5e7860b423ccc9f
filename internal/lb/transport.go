package lb

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"slices"
	"sync"
	"syscall"
	"time"
)

// maxIdlePerTarget bounds the keep-alive connections a group keeps open to
// one target between requests.
const maxIdlePerTarget = 256

// max1xxResponses is how many informational answers a request may get
// before its final one (net/http's limit).
const max1xxResponses = 5

// targetTransport is a target group's http.RoundTripper. Requests without
// a body to HTTP targets (nearly all of them: GETs, WebSocket upgrades)
// take connections from a pool of the group's own: the request is written
// and the answer read in the goroutine of the client's request, and the
// connection goes back to the pool when its answer has been read to the
// end. http.Transport does the same work in two more goroutines per
// connection (its read and write loops), which hand each request and
// answer over through channels: on this path that hand-off cost more CPU
// than the proxying itself. Requests with a body (streamed to the target
// while its answer may already come back, with Expect: 100-continue) and
// HTTPS targets keep http.Transport (std).
//
// Behaviour shared with http.Transport, and relied on by the node: the
// request is bounded by its context (the client leaving, a draining
// target's delay), the answer's headers must arrive within the idle
// timeout after the request was written (a timeout error, 504), dial
// errors are the dialer's (502, 504), informational answers reach
// ReverseProxy's trace, a 101 answer's body is the connection, and a
// request that fails on a reused connection before any answer byte is
// tried once more on a new connection when that is safe.
type targetTransport struct {
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
	idle time.Duration
	std  *http.Transport

	mu      sync.Mutex
	idleBy  map[string][]*targetConn // by host:port, most recently used last
	retired bool
}

func newTargetTransport(dial func(ctx context.Context, network, addr string) (net.Conn, error), idle time.Duration) *targetTransport {
	return &targetTransport{
		dial: dial,
		idle: idle,
		std: &http.Transport{
			DialContext: dial,
			// ALB does not validate targets' certificates (ALB user guide,
			// "Target groups": "the load balancer … does not validate the
			// certificate").
			TLSClientConfig:     &tls.Config{InsecureSkipVerify: true},
			MaxIdleConnsPerHost: maxIdlePerTarget,
			IdleConnTimeout:     idle,
			// A target that has the whole request but sends no answer
			// within the idle timeout is a 504 (net/http reports a
			// timeout error).
			ResponseHeaderTimeout: idle,
			ExpectContinueTimeout: time.Second,
			// The target gets the client's Accept-Encoding as it is, as on
			// AWS, and the answer passes unchanged (http.Transport would
			// otherwise ask for gzip and decompress on the node).
			DisableCompression: true,
		},
		idleBy: map[string][]*targetConn{},
	}
}

// retire closes the idle connections, and the connections of requests
// still in flight when they end: the group no longer uses this transport.
func (t *targetTransport) retire() {
	t.mu.Lock()
	t.retired = true
	var conns []*targetConn
	for _, l := range t.idleBy {
		conns = append(conns, l...)
	}
	clear(t.idleBy)
	t.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
	t.std.CloseIdleConnections()
}

// RoundTrip sends one request to a target.
func (t *targetTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" || (req.Body != nil && req.Body != http.NoBody) {
		return t.std.RoundTrip(req)
	}
	ctx := req.Context()
	replayable := isReplayable(req)
	for attempt := 0; ; attempt++ {
		// A retry takes a new connection: the idle ones may all be stale
		// (the target restarted).
		c, err := t.conn(ctx, req.URL.Host, !replayable, attempt > 0)
		if err != nil {
			return nil, err
		}
		res, err := c.roundTrip(ctx, req)
		if err == nil {
			return res, nil
		}
		c.close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var re *retryableError
		if attempt == 0 && c.reused && errors.As(err, &re) && (re.nothingWritten || replayable) {
			continue
		}
		return nil, err
	}
}

// isReplayable reports whether a request without a body may be sent again
// after its connection failed mid-way: its method is idempotent, or the
// client marked it so (net/http's rule).
func isReplayable(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	_, a := req.Header["Idempotency-Key"]
	_, b := req.Header["X-Idempotency-Key"]
	return a || b
}

// conn takes an idle connection to addr or (always with fresh) dials one.
// With check (a request that cannot be sent again), an idle connection the
// target has closed meanwhile is skipped rather than found out by the
// request.
func (t *targetTransport) conn(ctx context.Context, addr string, check, fresh bool) (*targetConn, error) {
	for !fresh {
		t.mu.Lock()
		l := t.idleBy[addr]
		if len(l) == 0 {
			t.mu.Unlock()
			break
		}
		c := l[len(l)-1]
		l[len(l)-1] = nil
		t.idleBy[addr] = l[:len(l)-1]
		c.timer.Stop()
		t.mu.Unlock()
		if check && !c.alive() {
			c.close()
			continue
		}
		c.reused = true
		return c, nil
	}
	nc, err := t.dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &targetConn{t: t, addr: addr, nc: nc}
	c.br = bufio.NewReader(nc)
	c.bw = bufio.NewWriter(countingWriter{c})
	return c, nil
}

// put returns a connection whose answer was read to the end to the pool.
func (t *targetTransport) put(c *targetConn) {
	t.mu.Lock()
	l := t.idleBy[c.addr]
	if t.retired || len(l) >= maxIdlePerTarget {
		t.mu.Unlock()
		c.close()
		return
	}
	t.idleBy[c.addr] = append(l, c)
	if c.timer == nil {
		c.timer = time.AfterFunc(t.idle, c.idleTimeout)
	} else {
		c.timer.Reset(t.idle)
	}
	t.mu.Unlock()
}

// targetConn is one HTTP/1.1 connection to a target.
type targetConn struct {
	t       *targetTransport
	addr    string
	nc      net.Conn
	br      *bufio.Reader
	bw      *bufio.Writer
	written int64 // bytes written to nc: none means the target saw nothing
	reused  bool  // served a request before this one
	timer   *time.Timer
}

// countingWriter counts what reaches the connection.
type countingWriter struct{ c *targetConn }

func (w countingWriter) Write(p []byte) (int, error) {
	n, err := w.c.nc.Write(p)
	w.c.written += int64(n)
	return n, err
}

// retryableError is a failure before any byte of an answer.
type retryableError struct {
	err            error
	nothingWritten bool
}

func (e *retryableError) Error() string { return e.err.Error() }
func (e *retryableError) Unwrap() error { return e.err }

// aLongTimeAgo is a deadline in the past: it ends a blocked Read or Write
// at once.
var aLongTimeAgo = time.Unix(1, 0)

// roundTrip writes req and reads its answer's headers.
func (c *targetConn) roundTrip(ctx context.Context, req *http.Request) (*http.Response, error) {
	// The context ends the exchange: a blocked read or write returns, and
	// the connection is not reused.
	stop := context.AfterFunc(ctx, func() { _ = c.nc.SetDeadline(aLongTimeAgo) })
	before := c.written
	err := req.Write(c.bw)
	if err == nil {
		err = c.bw.Flush()
	}
	if err != nil {
		stop()
		return nil, &retryableError{err: fmt.Errorf("write request to %s: %w", c.addr, err), nothingWritten: c.written == before}
	}
	// The target has the whole request: its answer's headers are due
	// within the idle timeout.
	_ = c.nc.SetReadDeadline(time.Now().Add(c.t.idle))
	trace := httptrace.ContextClientTrace(ctx)
	var res *http.Response
	for n1xx := 0; ; n1xx++ {
		if _, err := c.br.Peek(1); err != nil {
			stop()
			if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
				// The target closed a kept-alive connection as the
				// request went out.
				return nil, &retryableError{err: fmt.Errorf("read response from %s: %w", c.addr, err)}
			}
			return nil, fmt.Errorf("read response from %s: %w", c.addr, err)
		}
		res, err = http.ReadResponse(c.br, req)
		if err != nil {
			stop()
			return nil, fmt.Errorf("read response from %s: %w", c.addr, err)
		}
		if res.StatusCode < 100 || res.StatusCode > 199 || res.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		if n1xx == max1xxResponses {
			stop()
			return nil, fmt.Errorf("read response from %s: too many 1xx answers", c.addr)
		}
		if trace != nil && trace.Got1xxResponse != nil {
			if err := trace.Got1xxResponse(res.StatusCode, textproto.MIMEHeader(res.Header)); err != nil {
				stop()
				return nil, err
			}
		}
	}
	_ = c.nc.SetReadDeadline(time.Time{})
	if ctx.Err() != nil {
		// The context ended while the deadline was being cleared: its
		// deadline in the past may have been undone.
		stop()
		return nil, ctx.Err()
	}
	if res.StatusCode == http.StatusSwitchingProtocols {
		// The connection is the answer's body from now on (ReverseProxy
		// copies both ways); ReverseProxy ends it with the request.
		stop()
		res.Body = &upgradedConn{c}
		return res, nil
	}
	reuse := !res.Close && !req.Close
	if res.Body == http.NoBody {
		c.release(stop, reuse)
		return res, nil
	}
	res.Body = &targetBody{c: c, body: res.Body, stop: stop, ctx: ctx, reuse: reuse}
	return res, nil
}

// release ends the connection's exchange: back to the pool when it can
// serve another request, else closed.
func (c *targetConn) release(stop func() bool, reuse bool) {
	if stop() && reuse && c.br.Buffered() == 0 {
		c.t.put(c)
		return
	}
	c.close()
}

func (c *targetConn) close() {
	_ = c.nc.Close()
}

// idleTimeout closes the connection after the idle timeout in the pool,
// unless a request took it meanwhile.
func (c *targetConn) idleTimeout() {
	t := c.t
	t.mu.Lock()
	l := t.idleBy[c.addr]
	i := slices.Index(l, c)
	if i >= 0 {
		t.idleBy[c.addr] = slices.Delete(l, i, i+1)
	}
	t.mu.Unlock()
	if i >= 0 {
		c.close()
	}
}

// alive reports whether an idle connection is still open: the target has
// neither closed it nor sent anything unasked.
func (c *targetConn) alive() bool {
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	alive := true
	var buf [1]byte
	_ = rc.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		alive = n < 0 && errors.Is(err, syscall.EAGAIN)
		return true
	})
	return alive
}

// targetBody is an answer's body: read to its end, with neither side
// having asked to close, it returns the connection to the pool.
type targetBody struct {
	c     *targetConn
	body  io.ReadCloser
	stop  func() bool
	ctx   context.Context
	reuse bool
	done  bool
}

func (b *targetBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.body.Read(p)
	switch {
	case err == io.EOF:
		b.done = true
		b.c.release(b.stop, b.reuse)
	case err != nil:
		b.done = true
		b.c.release(b.stop, false)
		if b.ctx.Err() != nil {
			err = b.ctx.Err()
		}
	}
	return n, err
}

// Close before the end closes the connection: what is left of the answer
// is not worth reading.
func (b *targetBody) Close() error {
	if !b.done {
		b.done = true
		b.c.release(b.stop, false)
	}
	return nil
}

// upgradedConn is the target connection after 101 Switching Protocols, as
// http.Transport hands it to ReverseProxy: reads first drain what was
// buffered after the answer's headers.
type upgradedConn struct{ c *targetConn }

func (u *upgradedConn) Read(p []byte) (int, error)  { return u.c.br.Read(p) }
func (u *upgradedConn) Write(p []byte) (int, error) { return u.c.nc.Write(p) }
func (u *upgradedConn) Close() error                { return u.c.nc.Close() }
