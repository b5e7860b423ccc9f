package imds

import (
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/minicloud/minicloud/internal/guestlimit"
)

// Limits bound what instances may take of the metadata service (see the
// package documentation for why each is what it is).
type Limits struct {
	// ConnsPerInstance is how many connections one instance may hold at
	// once; Conns how many all callers of a listener may. A connection
	// over either is reset as soon as it is accepted.
	ConnsPerInstance int
	Conns            int
	// RequestsPerSecond and Burst are each instance's token bucket: a
	// request without a token is answered 429 Too Many Requests.
	RequestsPerSecond float64
	Burst             int
	// ReadHeaderTimeout bounds reading a request's headers, ReadTimeout
	// the whole request with its body, WriteTimeout writing the answer,
	// IdleTimeout a kept-alive connection waiting for its next request.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	// MaxHeaderBytes bounds a request's headers (431 past it).
	MaxHeaderBytes int
}

// DefaultLimits are the limits of a Server, field by field, unless
// WithLimits sets others.
var DefaultLimits = Limits{
	ConnsPerInstance:  32,
	Conns:             512,
	RequestsPerSecond: 100,
	Burst:             200,
	ReadHeaderTimeout: 5 * time.Second,
	ReadTimeout:       10 * time.Second,
	WriteTimeout:      10 * time.Second,
	IdleTimeout:       10 * time.Second,
	MaxHeaderBytes:    16 << 10,
}

// maxRateKeys backstops the rate table (its keys are instance IDs).
const maxRateKeys = 4096

// withDefaults fills l's zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits { return guestlimit.WithDefaults(l, DefaultLimits) }

// Stats counts what the limits refused. One Stats may be shared by several
// servers (WithStats).
type Stats struct {
	// RefusedConns are connections reset at accept: their instance, the
	// listener or the process's descriptor budget held its share.
	RefusedConns atomic.Uint64
	// Throttled are requests answered 429.
	Throttled atomic.Uint64
}

// Limits returns the server's limits, defaults filled in.
func (s *Server) Limits() Limits { return s.limits }

// Conns is the number of connections the server holds.
func (s *Server) Conns() int {
	n, _ := s.slots.Held("")
	return n
}

// Serve answers metadata requests on ln until Close, under the server's
// limits; it returns nil once closed. It may be called for several
// listeners; they share the limits.
func (s *Server) Serve(ln net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.limits.ReadHeaderTimeout,
		ReadTimeout:       s.limits.ReadTimeout,
		WriteTimeout:      s.limits.WriteTimeout,
		IdleTimeout:       s.limits.IdleTimeout,
		MaxHeaderBytes:    s.limits.MaxHeaderBytes,
		// What guests get wrong (bad requests, timeouts) is theirs, not
		// minicloud's to log: a flood would fill the log.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ln.Close()
		return nil
	}
	s.https = append(s.https, hs)
	s.mu.Unlock()
	err := hs.Serve(guestlimit.Listen(ln, s.slots, s.connKey, &s.stats.RefusedConns))
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops serving: the listeners and every connection are closed.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	hss := s.https
	s.https = nil
	s.mu.Unlock()
	var errs []error
	for _, hs := range hss {
		errs = append(errs, hs.Close())
	}
	return errors.Join(errs...)
}

// connKey is whom a connection from ip counts against: its instance, or
// one key shared by every caller that is no instance's.
func (s *Server) connKey(ip netip.Addr) string {
	d, ok := s.lookup(ip)
	return instanceKey(d, ok && d != nil)
}

func instanceKey(d *InstanceData, ok bool) string {
	if !ok {
		return ""
	}
	return d.InstanceID
}
