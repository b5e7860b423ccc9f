package vpcdns

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/minicloud/minicloud/internal/vpcnet"
)

func TestLimitsDefaults(t *testing.T) {
	cases := []struct {
		in, want Limits
	}{
		{Limits{}, DefaultLimits},
		{Limits{PacketsPerSecond: 10, TCPConns: 3, TCPIdleTimeout: time.Second}, func() Limits {
			l := DefaultLimits
			l.PacketsPerSecond, l.TCPConns, l.TCPIdleTimeout = 10, 3, time.Second
			return l
		}()},
		{Limits{Burst: -1, TCPReadTimeout: -time.Second}, DefaultLimits},
	}
	for _, c := range cases {
		if got := c.in.withDefaults(); got != c.want {
			t.Errorf("%+v: got %+v, want %+v", c.in, got, c.want)
		}
	}
}

// Two clients of one resolver, each with its own source address.
var (
	clientA = netip.MustParseAddr("10.0.0.10")
	clientB = netip.MustParseAddr("10.0.0.11")
)

const privateName = "ip-10-0-1-23.ec2.internal."

// queryFrom sends one A query for name from src inside the namespace.
func queryFrom(nsPath, network string, src netip.Addr, server netip.AddrPort, name string, timeout time.Duration) (*dns.Msg, error) {
	var r *dns.Msg
	err := vpcnet.InNamespace(nsPath, func() error {
		var local net.Addr = &net.UDPAddr{IP: src.AsSlice()}
		if network == "tcp" {
			local = &net.TCPAddr{IP: src.AsSlice()}
		}
		c := &dns.Client{Net: network, Timeout: timeout, Dialer: &net.Dialer{LocalAddr: local}}
		var err error
		r, _, err = c.Exchange(new(dns.Msg).SetQuestion(name, dns.TypeA), server.String())
		return err
	})
	return r, err
}

// tryDial opens a TCP connection from src inside the namespace.
func tryDial(nsPath string, src netip.Addr, server netip.AddrPort) (net.Conn, error) {
	var c net.Conn
	err := vpcnet.InNamespace(nsPath, func() error {
		var err error
		c, err = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: src.AsSlice()}}).Dial("tcp4", server.String())
		return err
	})
	return c, err
}

// dialFrom is tryDial that must succeed.
func dialFrom(t *testing.T, nsPath string, src netip.Addr, server netip.AddrPort) net.Conn {
	t.Helper()
	c, err := tryDial(nsPath, src, server)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// refusedAtAccept reports whether a connection from src is closed by the
// server at once; the reset may reach the dial itself.
func refusedAtAccept(nsPath string, src netip.Addr, server netip.AddrPort) error {
	c, err := tryDial(nsPath, src, server)
	if errors.Is(err, syscall.ECONNRESET) {
		return nil
	}
	if err != nil {
		return err
	}
	defer c.Close()
	return closedByServer(c, time.Second)
}

// closedByServer waits up to d for the server to close c.
func closedByServer(c net.Conn, d time.Duration) error {
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, err := c.Read(make([]byte, 1))
	if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
		return nil
	}
	if err == nil {
		return errors.New("the server sent data")
	}
	return err
}

// tally counts answers and timeouts of queries.
type tally struct{ answered, servfail, unanswered int }

func (t *tally) add(r *dns.Msg, err error) {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		t.unanswered++
	case err != nil:
		t.unanswered += 1000 // any other error fails the comparison
	case r.Rcode == dns.RcodeServerFailure:
		t.servfail++
	default:
		t.answered++
	}
}

// One client flooding its resolver is throttled, refused and timed out
// while another keeps its answers.
func TestClientLimits(t *testing.T) {
	nsPath := newNamespace(t, resolverAddr, clientA, clientB)
	up := startUpstream(t)
	vpc := VPCInfo{ID: "vpc-limits", Region: "us-east-1", CIDRs: []netip.Prefix{testCIDR}, EnableDNSSupport: true}
	cases := []struct {
		name   string
		limits Limits
		run    func(t *testing.T, srv netip.AddrPort, st *Stats)
	}{
		{"UDP over the rate is dropped, per client", Limits{PacketsPerSecond: 0.01, Burst: 5}, func(t *testing.T, srv netip.AddrPort, st *Stats) {
			var a, b tally
			for range 8 {
				a.add(queryFrom(nsPath, "udp", clientA, srv, privateName, 150*time.Millisecond))
			}
			for range 3 {
				b.add(queryFrom(nsPath, "udp", clientB, srv, privateName, time.Second))
			}
			if a != (tally{answered: 5, unanswered: 3}) || b != (tally{answered: 3}) {
				t.Errorf("flooding client %+v, other client %+v", a, b)
			}
			if st.Throttled.Load() != 3 {
				t.Errorf("throttled = %d, want 3", st.Throttled.Load())
			}
		}},
		{"a TCP connection over the rate is closed", Limits{PacketsPerSecond: 0.01, Burst: 2}, func(t *testing.T, srv netip.AddrPort, _ *Stats) {
			c := &dns.Conn{Conn: dialFrom(t, nsPath, clientA, srv)}
			for i := range 2 {
				if err := c.WriteMsg(new(dns.Msg).SetQuestion(privateName, dns.TypeA)); err != nil {
					t.Fatal(err)
				}
				_ = c.SetReadDeadline(time.Now().Add(time.Second))
				if r, err := c.ReadMsg(); err != nil || len(r.Answer) != 1 {
					t.Fatalf("query %d within the rate: %v %v", i, r, err)
				}
			}
			if err := c.WriteMsg(new(dns.Msg).SetQuestion(privateName, dns.TypeA)); err != nil {
				t.Fatal(err)
			}
			if err := closedByServer(c.Conn, time.Second); err != nil {
				t.Errorf("over the rate: %v", err)
			}
		}},
		{"TCP connections past a client's share are reset, idle ones closed", Limits{TCPConnsPerClient: 2, TCPReadTimeout: 300 * time.Millisecond},
			func(t *testing.T, srv netip.AddrPort, st *Stats) {
				held := []net.Conn{dialFrom(t, nsPath, clientA, srv), dialFrom(t, nsPath, clientA, srv)}
				time.Sleep(50 * time.Millisecond) // both accepted
				if err := refusedAtAccept(nsPath, clientA, srv); err != nil {
					t.Errorf("third connection: %v", err)
				}
				if st.Refused.Load() != 1 {
					t.Errorf("refused = %d, want 1", st.Refused.Load())
				}
				if r, err := queryFrom(nsPath, "tcp", clientB, srv, privateName, time.Second); err != nil || len(r.Answer) != 1 {
					t.Errorf("other client over TCP: %v %v", r, err)
				}
				for _, c := range held {
					if err := closedByServer(c, time.Second); err != nil {
						t.Errorf("idle connection past the read timeout: %v", err)
					}
				}
			}},
		{"queries in flight past a client's share are dropped", Limits{InFlightPerClient: 2}, func(t *testing.T, srv netip.AddrPort, st *Stats) {
			var mu sync.Mutex
			var a tally
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					// The upstream never answers slow.example.test: each
					// admitted query holds its slot for the forward timeout.
					r, err := queryFrom(nsPath, "udp", clientA, srv, "slow.example.test.", time.Second)
					mu.Lock()
					a.add(r, err)
					mu.Unlock()
				})
			}
			time.Sleep(100 * time.Millisecond)
			r, err := queryFrom(nsPath, "udp", clientB, srv, privateName, 200*time.Millisecond)
			if err != nil || len(r.Answer) != 1 {
				t.Errorf("other client while the first holds its share: %v %v", r, err)
			}
			wg.Wait()
			if a != (tally{servfail: 2, unanswered: 2}) || st.Refused.Load() != 2 {
				t.Errorf("flooding client %+v, refused %d", a, st.Refused.Load())
			}
		}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := new(Stats)
			port := uint16(5300 + i)
			startServer(t, Config{VPC: vpc, Hosts: testHosts, Upstreams: []netip.AddrPort{up.addr}, Limits: c.limits, Stats: st},
				nsPath, port, resolverAddr)
			c.run(t, netip.AddrPortFrom(resolverAddr, port), st)
		})
	}
}
