package server

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minicloud/minicloud/internal/codec"
)

// The HTTP listener's limits. Every connection holds a file descriptor and
// a goroutine, and so far nothing bounded how many a client could open or
// how long one could sit idle or half-sent:
//
//   - at most MaxConnections connections are served at once. Past that a
//     connection is not left waiting in the kernel's backlog (a client
//     would hang): it is accepted, its request head read (briefly), and
//     answered 503 ServiceUnavailable in its service's protocol, then
//     closed. AWS answers an overloaded front end with 503 and
//     ServiceUnavailable (S3: SlowDown); every AWS SDK and both CLIs retry
//     a 503 with backoff, which is what a client over the limit should do.
//     At most maxRefusing connections are being answered so at once;
//     beyond that they are closed at once, so a flood holds no more than
//     MaxConnections + maxRefusing descriptors.
//   - headers must arrive within ReadHeaderTimeout; a request body may
//     pause at most BodyIdleTimeout between reads (gateway: a stalled body
//     is answered 400 RequestTimeout, S3's code for it), but there is no
//     limit on a body's total time, so a slow upload that keeps sending
//     (S3 objects, later) is never cut; no WriteTimeout either, for the
//     same reason on the way out.
//   - a keep-alive connection idle for IdleTimeout is closed (clients
//     reconnect transparently).
const (
	DefaultMaxConnections    = 1024
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultBodyIdleTimeout   = 20 * time.Second
	DefaultIdleTimeout       = 60 * time.Second

	maxRefusing   = 64
	refuseTimeout = 2 * time.Second
)

// refuser writes the answer to a request turned away: the gateway's
// Overloaded, in the request's protocol.
type refuser func(r *http.Request, msg string) *codec.Response

// limitListener serves at most max connections at once and answers the
// others 503 (see above).
type limitListener struct {
	net.Listener
	slots    chan struct{}
	refusing atomic.Int32
	refuse   refuser
	log      *slog.Logger
	refused  atomic.Int64
}

func newLimitListener(ln net.Listener, max int, refuse refuser, log *slog.Logger) *limitListener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, max), refuse: refuse, log: log}
}

// Accept returns the next connection that has a slot; connections over the
// limit are answered in the background meanwhile.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			return &slotConn{Conn: c, release: func() { <-l.slots }}, nil
		default:
		}
		if n := l.refused.Add(1); n == 1 || n%1000 == 0 {
			l.log.Warn("connection limit reached: answering 503", "max_connections", cap(l.slots), "refused", n)
		}
		if l.refusing.Add(1) > maxRefusing {
			l.refusing.Add(-1)
			_ = c.Close()
			continue
		}
		go func() {
			defer l.refusing.Add(-1)
			l.answer(c)
		}()
	}
}

// answer reads one request head from c and answers it 503, then closes c.
func (l *limitListener) answer(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(refuseTimeout))
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err != nil {
		return
	}
	resp := l.refuse(req, "minicloud is serving its maximum of "+strconv.Itoa(cap(l.slots))+" connections; retry later (--max-connections).")
	hr := &http.Response{StatusCode: resp.Status, ProtoMajor: 1, ProtoMinor: 1, Header: resp.Header, Close: true,
		ContentLength: int64(len(resp.Body)), Body: io.NopCloser(bytes.NewReader(resp.Body))}
	if hr.Header.Get("Content-Type") == "" {
		hr.Header.Set("Content-Type", "text/xml")
	}
	_ = hr.Write(c)
}

// slotConn gives its slot back when closed.
type slotConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *slotConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
