package vpcdns

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/vishvananda/netlink"

	"github.com/minicloud/minicloud/internal/vpcnet"
)

// Every address in these tests is loopback or lives in a namespace the
// test creates; upstream servers run on the host's loopback.

var (
	resolverAddr = netip.MustParseAddr("10.0.0.2")
	queryTimeout = 3 * time.Second
)

// newNamespace creates a named network namespace with lo up (and the given
// addresses on lo) and deletes it when the test ends.
func newNamespace(t *testing.T, addrs ...netip.Addr) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("vpcdns namespace tests need root (network namespaces); run them as root")
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	n, err := vpcnet.New(vpcnet.Config{Prefix: "d" + hex.EncodeToString(b)[:5]})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	path, err := n.CreateInstanceNamespace(ctx, "vpcdnstest")
	if err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	t.Cleanup(func() {
		if err := n.DeleteInstanceNamespace(ctx, "vpcdnstest"); err != nil {
			t.Errorf("delete namespace %s: %v", path, err)
		}
		_ = n.Close()
	})
	if _, err := EnsureAddresses(path, addrs); err != nil {
		t.Fatal(err)
	}
	return path
}

// query sends m from inside the namespace.
func query(nsPath, network string, server netip.AddrPort, m *dns.Msg) (r *dns.Msg, err error) {
	err = vpcnet.InNamespace(nsPath, func() error {
		c := &dns.Client{Net: network, Timeout: queryTimeout, UDPSize: 4096}
		var qerr error
		r, _, qerr = c.Exchange(m, server.String())
		return qerr
	})
	return r, err
}

func mustQuery(t *testing.T, nsPath, network string, server netip.AddrPort, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg).SetQuestion(name, qtype)
	r, err := query(nsPath, network, server, m)
	if err != nil {
		t.Fatalf("%s %s over %s to %v: %v", name, dns.TypeToString[qtype], network, server, err)
	}
	return r
}

// upstream is a test DNS server on the host's loopback.
type upstream struct {
	addr     netip.AddrPort
	tcp      atomic.Int32
	udpSize  atomic.Int32 // EDNS size of the last query, 0 without EDNS
	lastName atomic.Value
}

func startUpstream(t *testing.T) *upstream {
	t.Helper()
	u := &upstream{}
	var pc net.PacketConn
	var ln net.Listener
	for range 20 {
		var err error
		if pc, err = net.ListenPacket("udp4", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if ln, err = net.Listen("tcp4", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
		pc = nil
	}
	if pc == nil {
		t.Fatal("no free loopback port for the upstream")
	}
	u.addr = netip.MustParseAddrPort(pc.LocalAddr().String())
	h := dns.HandlerFunc(u.serve)
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
		if err := serve(srv); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
	return u
}

func (u *upstream) serve(w dns.ResponseWriter, req *dns.Msg) {
	_, tcp := w.LocalAddr().(*net.TCPAddr)
	if tcp {
		u.tcp.Add(1)
	}
	u.udpSize.Store(0)
	if opt := req.IsEdns0(); opt != nil {
		u.udpSize.Store(int32(opt.UDPSize()))
	}
	q := req.Question[0]
	u.lastName.Store(q.Name)
	m := new(dns.Msg).SetReply(req)
	m.RecursionAvailable = true
	switch strings.ToLower(q.Name) {
	case "example.test.":
		m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 30}, A: net.IPv4(192, 0, 2, 1)})
	case "big.example.test.":
		if !tcp {
			m.Truncated = true
			break
		}
		for i := range 20 {
			m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 30}, Txt: []string{strings.Repeat(string(rune('a'+i)), 90)}})
		}
	case "slow.example.test.":
		return // never answers
	case "fail.example.test.":
		m.Rcode = dns.RcodeServerFailure
	default:
		m.Rcode = dns.RcodeNameError
	}
	if opt := req.IsEdns0(); opt != nil {
		m.SetEdns0(4096, false)
	}
	_ = w.WriteMsg(m)
}

func startServer(t *testing.T, cfg Config, nsPath string, port uint16, listen ...netip.Addr) *Server {
	t.Helper()
	cfg.Port = port
	if cfg.ForwardTimeout == 0 {
		cfg.ForwardTimeout = 300 * time.Millisecond
	}
	s := New(cfg)
	if err := s.Start(nsPath, listen); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

func TestServerInNamespace(t *testing.T) {
	nsPath := newNamespace(t, resolverAddr, LinkLocalResolver)
	up := startUpstream(t)
	vpc := VPCInfo{ID: "vpc-0123456789abcdef0", Region: "us-east-1", CIDRs: []netip.Prefix{testCIDR}, EnableDNSSupport: true, EnableDNSHostnames: true}
	s := startServer(t, Config{VPC: vpc, Hosts: testHosts, Zones: testZones, Upstreams: []netip.AddrPort{up.addr}}, nsPath, 53, resolverAddr, LinkLocalResolver)
	base := netip.AddrPortFrom(resolverAddr, 53)
	ll := netip.AddrPortFrom(LinkLocalResolver, 53)

	t.Run("private name", func(t *testing.T) {
		for _, srv := range []netip.AddrPort{base, ll} {
			for _, network := range []string{"udp", "tcp"} {
				r := mustQuery(t, nsPath, network, srv, "ip-10-0-1-23.ec2.internal.", dns.TypeA)
				if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "10.0.1.23" || r.Answer[0].Header().Ttl != 60 || !r.RecursionAvailable {
					t.Errorf("%v %s: %v", srv, network, r)
				}
			}
		}
	})
	t.Run("PTR", func(t *testing.T) {
		r := mustQuery(t, nsPath, "udp", base, "23.1.0.10.in-addr.arpa.", dns.TypePTR)
		if len(r.Answer) != 1 || r.Answer[0].(*dns.PTR).Ptr != "ip-10-0-1-23.ec2.internal." {
			t.Errorf("%v", r)
		}
	})
	t.Run("public name to private IP", func(t *testing.T) {
		r := mustQuery(t, nsPath, "udp", ll, "ec2-198-18-0-5.compute-1.amazonaws.com.", dns.TypeA)
		if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "10.0.1.23" {
			t.Errorf("%v", r)
		}
	})
	t.Run("NXDOMAIN with SOA", func(t *testing.T) {
		r := mustQuery(t, nsPath, "udp", base, "ip-10-0-9-9.ec2.internal.", dns.TypeA)
		if r.Rcode != dns.RcodeNameError || len(r.Answer) != 0 || len(r.Ns) != 1 || r.Ns[0].Header().Name != "ec2.internal." || r.Ns[0].Header().Rrtype != dns.TypeSOA {
			t.Errorf("%v", r)
		}
		if up.lastName.Load() == "ip-10-0-9-9.ec2.internal." {
			t.Error("an owned name was forwarded")
		}
	})
	t.Run("NODATA", func(t *testing.T) {
		r := mustQuery(t, nsPath, "tcp", base, "ip-10-0-1-23.ec2.internal.", dns.TypeAAAA)
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 || len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != dns.TypeSOA {
			t.Errorf("%v", r)
		}
	})
	t.Run("forward", func(t *testing.T) {
		m := new(dns.Msg).SetQuestion("example.test.", dns.TypeA)
		m.SetEdns0(1400, false)
		r, err := query(nsPath, "udp", base, m)
		if err != nil {
			t.Fatal(err)
		}
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.1" || r.Id != m.Id {
			t.Errorf("%v", r)
		}
		if got := up.udpSize.Load(); got != 1400 {
			t.Errorf("upstream saw EDNS size %d, want the client's 1400", got)
		}
		if r.IsEdns0() == nil {
			t.Error("upstream's OPT not passed back")
		}
		r = mustQuery(t, nsPath, "tcp", ll, "nothing.example.test.", dns.TypeA)
		if r.Rcode != dns.RcodeNameError {
			t.Errorf("upstream NXDOMAIN over TCP: %v", r)
		}
	})
	t.Run("forward TCP fallback", func(t *testing.T) {
		before := up.tcp.Load()
		m := new(dns.Msg).SetQuestion("big.example.test.", dns.TypeTXT)
		m.SetEdns0(4096, false)
		r, err := query(nsPath, "udp", base, m)
		if err != nil {
			t.Fatal(err)
		}
		if r.Truncated || len(r.Answer) != 20 {
			t.Errorf("tc=%v answers=%d", r.Truncated, len(r.Answer))
		}
		if up.tcp.Load() == before {
			t.Error("no TCP query reached the upstream")
		}
		// A client without EDNS gets a truncated answer, then all over TCP.
		r = mustQuery(t, nsPath, "udp", base, "big.example.test.", dns.TypeTXT)
		if !r.Truncated {
			t.Errorf("512-byte client: tc=%v answers=%d", r.Truncated, len(r.Answer))
		}
		r = mustQuery(t, nsPath, "tcp", base, "big.example.test.", dns.TypeTXT)
		if r.Truncated || len(r.Answer) != 20 {
			t.Errorf("TCP: tc=%v answers=%d", r.Truncated, len(r.Answer))
		}
	})
	t.Run("own truncation", func(t *testing.T) {
		r := mustQuery(t, nsPath, "udp", base, "big.corp.example.", dns.TypeTXT)
		if !r.Truncated {
			t.Error("large answer not truncated over UDP")
		}
		r = mustQuery(t, nsPath, "tcp", base, "big.corp.example.", dns.TypeTXT)
		if r.Truncated || len(r.Answer) != 30 {
			t.Errorf("TCP: tc=%v answers=%d", r.Truncated, len(r.Answer))
		}
	})
	t.Run("upstream timeout", func(t *testing.T) {
		start := time.Now()
		r := mustQuery(t, nsPath, "udp", base, "slow.example.test.", dns.TypeA)
		if r.Rcode != dns.RcodeServerFailure {
			t.Errorf("%v", r)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %v with a 300 ms forward timeout", d)
		}
	})
	t.Run("hostnames off", func(t *testing.T) {
		off := vpc
		off.EnableDNSHostnames = false
		if err := s.Update(off); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = s.Update(vpc) }()
		r := mustQuery(t, nsPath, "udp", base, "ec2-198-18-0-5.compute-1.amazonaws.com.", dns.TypeA)
		if r.Rcode != dns.RcodeNameError || up.lastName.Load() != "ec2-198-18-0-5.compute-1.amazonaws.com." {
			t.Errorf("public name not forwarded: %v", r)
		}
		r = mustQuery(t, nsPath, "udp", base, "ip-10-0-1-23.ec2.internal.", dns.TypeA)
		if len(r.Answer) != 1 {
			t.Errorf("private name: %v", r)
		}
	})
	t.Run("DNS support off", func(t *testing.T) {
		off := vpc
		off.EnableDNSSupport = false
		if err := s.Update(off); err != nil {
			t.Fatal(err)
		}
		for _, network := range []string{"udp", "tcp"} {
			start := time.Now()
			m := new(dns.Msg).SetQuestion("ip-10-0-1-23.ec2.internal.", dns.TypeA)
			r, err := query(nsPath, network, base, m)
			if err == nil {
				t.Errorf("%s: answered while off: %v", network, r)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("%s: failing took %v: want a refusal, not a timeout", network, d)
			}
		}
		if err := s.Update(vpc); err != nil {
			t.Fatal(err)
		}
		r := mustQuery(t, nsPath, "udp", base, "ip-10-0-1-23.ec2.internal.", dns.TypeA)
		if len(r.Answer) != 1 {
			t.Errorf("after turning it on again: %v", r)
		}
	})
}

func TestServerUpstreams(t *testing.T) {
	nsPath := newNamespace(t, resolverAddr)
	up := startUpstream(t)
	vpc := VPCInfo{ID: "vpc-1", Region: "eu-west-1", CIDRs: []netip.Prefix{testCIDR}, EnableDNSSupport: true}
	srv := netip.AddrPortFrom(resolverAddr, 53)

	// No upstreams: SERVFAIL at once.
	startServer(t, Config{VPC: vpc}, nsPath, 53, resolverAddr)
	start := time.Now()
	r := mustQuery(t, nsPath, "udp", srv, "example.test.", dns.TypeA)
	if r.Rcode != dns.RcodeServerFailure {
		t.Errorf("no upstreams: %v", r)
	}
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Errorf("SERVFAIL took %v", d)
	}

	// A dead upstream (a loopback port nothing listens on), then a live
	// one, then one that fails: the live one answers.
	dead := deadPort(t)
	other := netip.AddrPortFrom(resolverAddr, 5353)
	startServer(t, Config{VPC: vpc, Upstreams: []netip.AddrPort{dead, up.addr}}, nsPath, 5353, resolverAddr)
	r = mustQuery(t, nsPath, "tcp", other, "example.test.", dns.TypeA)
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Errorf("dead then live upstream: %v", r)
	}
	r = mustQuery(t, nsPath, "udp", other, "fail.example.test.", dns.TypeA)
	if r.Rcode != dns.RcodeServerFailure {
		t.Errorf("failing upstream: %v", r)
	}
}

// deadPort is a loopback UDP/TCP port with nothing listening.
func deadPort(t *testing.T) netip.AddrPort {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ap := netip.MustParseAddrPort(l.Addr().String())
	l.Close()
	return ap
}

func TestManageAddresses(t *testing.T) {
	nsPath := newNamespace(t)
	extra := netip.MustParseAddr("10.9.0.2")
	if _, err := EnsureAddresses(nsPath, []netip.Addr{extra}); err != nil {
		t.Fatal(err)
	}
	vpc := VPCInfo{ID: "vpc-2", Region: "us-east-1", CIDRs: []netip.Prefix{testCIDR}, EnableDNSSupport: true}
	s := New(Config{VPC: vpc, Hosts: testHosts, ManageAddresses: true, Port: 53})
	if err := s.Start(nsPath, []netip.Addr{resolverAddr, LinkLocalResolver, extra}); err != nil {
		t.Fatal(err)
	}
	if got := addrsOnLo(t, nsPath); !got[resolverAddr] || !got[LinkLocalResolver] || !got[extra] {
		t.Errorf("after Start: %v", got)
	}
	r := mustQuery(t, nsPath, "udp", netip.AddrPortFrom(LinkLocalResolver, 53), "ip-10-0-2-40.ec2.internal.", dns.TypeA)
	if len(r.Answer) != 1 {
		t.Errorf("%v", r)
	}
	if err := s.Start(nsPath, []netip.Addr{resolverAddr}); err == nil {
		t.Error("second Start succeeded")
	}
	s.Stop()
	s.Stop()
	got := addrsOnLo(t, nsPath)
	if got[resolverAddr] || got[LinkLocalResolver] {
		t.Errorf("after Stop, addresses Start added remain: %v", got)
	}
	if !got[extra] {
		t.Error("Stop removed an address it did not add")
	}
	// Gone namespace: removing is not an error.
	if err := RemoveAddresses(vpcnet.NamespacePath("vpcdnstest-does-not-exist"), []netip.Addr{extra}); err != nil {
		t.Errorf("RemoveAddresses in a missing namespace: %v", err)
	}
	if _, err := EnsureAddresses(vpcnet.NamespacePath("vpcdnstest-does-not-exist"), []netip.Addr{extra}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("EnsureAddresses in a missing namespace: %v", err)
	}
}

func TestStartSupportOff(t *testing.T) {
	// Bound lazily: starting with the resolver off opens nothing, and the
	// address may be added after Start (IP_FREEBIND).
	nsPath := newNamespace(t)
	vpc := VPCInfo{ID: "vpc-3", Region: "us-east-1", CIDRs: []netip.Prefix{testCIDR}}
	s := startServer(t, Config{VPC: vpc, Hosts: testHosts}, nsPath, 53, resolverAddr)
	vpc.EnableDNSSupport = true
	if err := s.Update(vpc); err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureAddresses(nsPath, []netip.Addr{resolverAddr}); err != nil {
		t.Fatal(err)
	}
	r := mustQuery(t, nsPath, "udp", netip.AddrPortFrom(resolverAddr, 53), "ip-10-0-1-23.ec2.internal.", dns.TypeA)
	if len(r.Answer) != 1 {
		t.Errorf("%v", r)
	}
}

func addrsOnLo(t *testing.T, nsPath string) map[netip.Addr]bool {
	t.Helper()
	out := map[netip.Addr]bool{}
	err := onLo(nsPath, func(h *netlink.Handle, lo netlink.Link) error {
		as, err := h.AddrList(lo, netlink.FAMILY_V4)
		for _, a := range as {
			ip, _ := netip.AddrFromSlice(a.IP)
			out[ip.Unmap()] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
