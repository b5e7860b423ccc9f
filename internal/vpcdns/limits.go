package vpcdns

import (
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/minicloud/minicloud/internal/guestlimit"
)

// Limits bound what each client (source address) of a VPC's resolver may
// take of it, and all clients together (see the package documentation).
type Limits struct {
	// PacketsPerSecond and Burst are each client's token bucket, counted
	// per query (a UDP packet, a message over TCP), as AWS limits each ENI
	// to 1024 packets a second to the resolver: a UDP query over it is
	// dropped unanswered, a TCP connection that sends one is closed.
	PacketsPerSecond float64
	Burst            int
	// InFlightPerClient and InFlight bound the queries being answered at
	// once, per client and in all (a forwarded query can take the forward
	// timeout): a query over either is dropped (UDP) or its connection
	// closed (TCP).
	InFlightPerClient int
	InFlight          int
	// TCPConnsPerClient and TCPConns bound the TCP connections held at
	// once; a connection over either is reset as soon as it is accepted.
	TCPConnsPerClient int
	TCPConns          int
	// TCPReadTimeout bounds reading a connection's first query,
	// TCPIdleTimeout waiting for each next one, TCPWriteTimeout writing an
	// answer.
	TCPReadTimeout  time.Duration
	TCPIdleTimeout  time.Duration
	TCPWriteTimeout time.Duration
}

// DefaultLimits are the limits of a Server, field by field, unless
// Config.Limits sets others.
var DefaultLimits = Limits{
	PacketsPerSecond:  1024,
	Burst:             1024,
	InFlightPerClient: 64,
	InFlight:          512,
	TCPConnsPerClient: 16,
	TCPConns:          128,
	TCPReadTimeout:    2 * time.Second,
	TCPIdleTimeout:    8 * time.Second, // RFC 7766's example, miekg/dns's default
	TCPWriteTimeout:   2 * time.Second,
}

// maxRateKeys bounds the rate table: a client sending from ever new
// source addresses shares one bucket past it.
const maxRateKeys = 4096

// withDefaults fills l's zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits { return guestlimit.WithDefaults(l, DefaultLimits) }

// Stats counts what the limits refused. One Stats may be shared by several
// servers (Config.Stats).
type Stats struct {
	// Throttled are queries over a client's rate.
	Throttled atomic.Uint64
	// Refused are queries over the in-flight bounds and TCP connections
	// reset at accept.
	Refused atomic.Uint64
	// NoBudget are forwards not sent for want of a descriptor in the
	// process's budget (answered SERVFAIL).
	NoBudget atomic.Uint64
}

// Map is s as /_minicloud/health shows it.
func (s *Stats) Map() map[string]any {
	return map[string]any{"throttled": s.Throttled.Load(), "refused": s.Refused.Load(), "noBudget": s.NoBudget.Load()}
}

// guards are a Server's limiters.
type guards struct {
	limits   Limits
	budget   *guestlimit.Budget
	stats    *Stats
	rate     *guestlimit.Rate[netip.Addr]
	inFlight *guestlimit.Slots[netip.Addr]
	tcp      *guestlimit.Slots[netip.Addr]
}

func newGuards(cfg Config) guards {
	g := guards{limits: cfg.Limits.withDefaults(), budget: cfg.Budget, stats: cfg.Stats}
	if g.budget == nil {
		g.budget = guestlimit.Process()
	}
	if g.stats == nil {
		g.stats = new(Stats)
	}
	g.rate = guestlimit.NewRate[netip.Addr](g.limits.PacketsPerSecond, g.limits.Burst, maxRateKeys, nil)
	// A query in flight holds no descriptor of its own: its TCP
	// connection has one, and a forward takes its own (forwardSlot).
	g.inFlight = guestlimit.NewSlots[netip.Addr](g.limits.InFlightPerClient, g.limits.InFlight, nil)
	g.tcp = guestlimit.NewSlots[netip.Addr](g.limits.TCPConnsPerClient, g.limits.TCPConns, g.budget)
	return g
}

// listen bounds the TCP connections of ln.
func (g *guards) listen(ln net.Listener) net.Listener {
	return guestlimit.Listen(ln, g.tcp, func(a netip.Addr) netip.Addr { return a }, &g.stats.Refused)
}

// allow takes a token of client's rate.
func (g *guards) allow(client netip.Addr) bool {
	if g.rate.Allow(client) {
		return true
	}
	g.stats.Throttled.Add(1)
	return false
}

// begin takes an in-flight slot for client; end returns it.
func (g *guards) begin(client netip.Addr) bool {
	if g.inFlight.Acquire(client) {
		return true
	}
	g.stats.Refused.Add(1)
	return false
}

func (g *guards) end(client netip.Addr) { g.inFlight.Release(client) }

// forwardSlot takes the descriptor an upstream exchange needs.
func (g *guards) forwardSlot() bool {
	if g.budget.Acquire() {
		return true
	}
	g.stats.NoBudget.Add(1)
	return false
}

var (
	errThrottled = errors.New("vpcdns: client over its query rate")
	errNoBudget  = errors.New("vpcdns: no descriptor left in the guests' budget")
)

// rateReader drops the queries of clients over their rate before they are
// parsed or given a goroutine, as AWS drops packets past an ENI's limit.
type rateReader struct {
	dns.Reader
	g *guards
}

// ReadTCP ends the connection of a client over its rate: the error makes
// the server close it.
func (r rateReader) ReadTCP(conn net.Conn, timeout time.Duration) ([]byte, error) {
	m, err := r.Reader.ReadTCP(conn, timeout)
	if err == nil && !r.g.allow(guestlimit.RemoteIP(conn.RemoteAddr())) {
		return nil, errThrottled
	}
	return m, err
}

// ReadUDP returns the next query of a client within its rate.
func (r rateReader) ReadUDP(conn *net.UDPConn, timeout time.Duration) ([]byte, *dns.SessionUDP, error) {
	for {
		m, s, err := r.Reader.ReadUDP(conn, timeout)
		if err != nil || r.g.allow(guestlimit.RemoteIP(s.RemoteAddr())) {
			return m, s, err
		}
	}
}

// ReadPacketConn is ReadUDP for a PacketConn that is not a *net.UDPConn.
func (r rateReader) ReadPacketConn(conn net.PacketConn, timeout time.Duration) ([]byte, net.Addr, error) {
	pr, ok := r.Reader.(dns.PacketConnReader)
	if !ok {
		return nil, nil, errors.New("vpcdns: no PacketConn reader")
	}
	for {
		m, a, err := pr.ReadPacketConn(conn, timeout)
		if err != nil || r.g.allow(guestlimit.RemoteIP(a)) {
			return m, a, err
		}
	}
}
