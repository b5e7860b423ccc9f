package dns53

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/minicloud/minicloud/internal/dnszone"
)

func TestRecordTypes(t *testing.T) {
	s := startServer(t, Config{Source: testSource()})
	type tc struct {
		name   string
		qtype  uint16
		rcode  int
		answer []string // values, in order
		owners string   // expected owner of every answer record ("" skip)
		nsSOA  bool     // SOA in authority (negative answer)
	}
	for _, c := range []tc{
		{name: "www.example.com.", qtype: dns.TypeA, answer: []string{"192.0.2.1", "192.0.2.2"}, owners: "www.example.com."},
		{name: "WwW.ExAmple.COM.", qtype: dns.TypeA, answer: []string{"192.0.2.1", "192.0.2.2"}, owners: "WwW.ExAmple.COM."},
		{name: "www.example.com.", qtype: dns.TypeAAAA, answer: []string{"2001:db8::1"}},
		{name: "example.com.", qtype: dns.TypeA, answer: []string{"192.0.2.100"}},
		{name: "example.com.", qtype: dns.TypeNS, answer: []string{"ns-1.awsdns-01.org.", "ns-2.awsdns-02.net."}},
		{name: "example.com.", qtype: dns.TypeSOA, answer: []string{soaValue}},
		{name: "mx.example.com.", qtype: dns.TypeMX, answer: []string{"10 mail.example.com.", "20 mail2.example.com."}},
		{name: "txt.example.com.", qtype: dns.TypeTXT, answer: []string{`"hello world"`, `"v=1"`}},
		{name: "spf.example.com.", qtype: dns.TypeSPF, answer: []string{`"v=spf1 -all"`}},
		{name: "_sip._tcp.example.com.", qtype: dns.TypeSRV, answer: []string{"1 10 5060 sip.example.com."}},
		{name: "caa.example.com.", qtype: dns.TypeCAA, answer: []string{`0 issue "amazon.com"`}},
		{name: "ptr.example.com.", qtype: dns.TypePTR, answer: []string{"host.example.com."}},
		{name: "naptr.example.com.", qtype: dns.TypeNAPTR, answer: []string{`100 50 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .`}},
		{name: "alias.example.com.", qtype: dns.TypeCNAME, answer: []string{"www.example.com."}},
		// CNAME chasing, in zone and across zones.
		{name: "alias.example.com.", qtype: dns.TypeA, answer: []string{"www.example.com.", "192.0.2.1", "192.0.2.2"}},
		{name: "chain.example.com.", qtype: dns.TypeA, answer: []string{"ALIAS.example.com.", "www.example.com.", "192.0.2.1", "192.0.2.2"}},
		{name: "cross.example.com.", qtype: dns.TypeA, answer: []string{"www.other.test.", "192.0.2.99"}},
		{name: "gone.example.com.", qtype: dns.TypeA, rcode: dns.RcodeNameError, answer: []string{"missing.example.com."}, nsSOA: true},
		{name: "loop1.example.com.", qtype: dns.TypeA, answer: []string{"loop2.example.com.", "loop1.example.com."}},
		// A dangling CNAME without upstreams: the CNAME alone.
		{name: "out.example.com.", qtype: dns.TypeA, answer: []string{"www.upstream.test."}},
		// Wildcards (RFC 4592).
		{name: "a.wild.example.com.", qtype: dns.TypeA, answer: []string{"192.0.2.50"}, owners: "a.wild.example.com."},
		{name: "x.y.wild.example.com.", qtype: dns.TypeA, answer: []string{"192.0.2.50"}, owners: "x.y.wild.example.com."},
		{name: "*.wild.example.com.", qtype: dns.TypeA, answer: []string{"192.0.2.50"}},
		{name: "a.wild.example.com.", qtype: dns.TypeTXT, nsSOA: true},
		{name: "sub.wild.example.com.", qtype: dns.TypeA, nsSOA: true},
		{name: "x.sub.wild.example.com.", qtype: dns.TypeA, rcode: dns.RcodeNameError, nsSOA: true},
		{name: "wild.example.com.", qtype: dns.TypeA, nsSOA: true}, // empty non-terminal
		// NXDOMAIN vs NODATA.
		{name: "nope.example.com.", qtype: dns.TypeA, rcode: dns.RcodeNameError, nsSOA: true},
		{name: "ent.example.com.", qtype: dns.TypeA, nsSOA: true},
		{name: "www.example.com.", qtype: dns.TypeMX, nsSOA: true},
		// ANY: every set at the name.
		{name: "www.example.com.", qtype: dns.TypeANY, answer: []string{"192.0.2.1", "192.0.2.2", "2001:db8::1"}},
		// The private zone of the same name is not served by the host server.
		{name: "priv.example.com.", qtype: dns.TypeA, rcode: dns.RcodeNameError, nsSOA: true},
		{name: "www.elsewhere.test.", qtype: dns.TypeA, rcode: dns.RcodeRefused},
		// Alias records.
		{name: "alias-in.example.com.", qtype: dns.TypeA, answer: []string{"192.0.2.1", "192.0.2.2"}, owners: "alias-in.example.com."},
		{name: "alias-lb.example.com.", qtype: dns.TypeA, answer: []string{"198.51.100.7"}},
		{name: "alias-lb.example.com.", qtype: dns.TypeAAAA, answer: []string{"2001:db8::7"}},
	} {
		for _, network := range []string{"udp", "tcp"} {
			t.Run(network+"/"+c.name+"/"+dns.TypeToString[c.qtype], func(t *testing.T) {
				r := query(t, s, network, c.name, c.qtype, 0)
				if r.Rcode != c.rcode {
					t.Fatalf("rcode %s, want %s\n%v", dns.RcodeToString[r.Rcode], dns.RcodeToString[c.rcode], r)
				}
				if r.Question[0].Name != c.name {
					t.Errorf("question %q, want %q (0x20)", r.Question[0].Name, c.name)
				}
				if c.rcode != dns.RcodeRefused && !r.Authoritative {
					t.Errorf("AA not set")
				}
				got := values(r.Answer)
				if c.qtype == dns.TypeANY {
					slices.Sort(got)
				}
				if !slices.Equal(got, c.answer) {
					t.Errorf("answer %q, want %q\n%v", got, c.answer, r)
				}
				for _, rr := range r.Answer {
					if c.owners != "" && rr.Header().Name != c.owners {
						t.Errorf("owner %q, want %q", rr.Header().Name, c.owners)
					}
				}
				hasSOA := len(r.Ns) == 1 && r.Ns[0].Header().Rrtype == dns.TypeSOA
				if hasSOA != c.nsSOA {
					t.Errorf("SOA in authority %v, want %v: %v", hasSOA, c.nsSOA, r.Ns)
				}
				if hasSOA && r.Ns[0].Header().Ttl != 300 {
					t.Errorf("negative TTL %d, want min(900, 300)", r.Ns[0].Header().Ttl)
				}
			})
		}
	}
}

func TestTTLs(t *testing.T) {
	s := startServer(t, Config{Source: testSource()})
	// The alias answers with the target's TTL; the external alias with 60.
	for name, ttl := range map[string]uint32{"www.example.com.": 300, "alias-in.example.com.": 300, "alias-lb.example.com.": 60, "a.wild.example.com.": 30} {
		r := query(t, s, "udp", name, dns.TypeA, 0)
		for _, rr := range r.Answer {
			if rr.Header().Ttl != ttl {
				t.Errorf("%s TTL %d, want %d", name, rr.Header().Ttl, ttl)
			}
		}
	}
}

func TestDelegation(t *testing.T) {
	s := startServer(t, Config{Source: testSource()})
	for _, name := range []string{"deleg.example.com.", "host.deleg.example.com."} {
		r := query(t, s, "udp", name, dns.TypeA, 0)
		if r.Rcode != dns.RcodeSuccess || r.Authoritative || len(r.Answer) != 0 {
			t.Fatalf("%s: want a referral: %v", name, r)
		}
		if got := values(r.Ns); !slices.Equal(got, []string{"ns1.deleg.example.com."}) {
			t.Errorf("%s: authority %q", name, got)
		}
		if got := values(r.Extra); !slices.Equal(got, []string{"192.0.2.53"}) {
			t.Errorf("%s: glue %q", name, got)
		}
	}
}

func TestTruncation(t *testing.T) {
	s := startServer(t, Config{Source: testSource()})
	for _, c := range []struct {
		network string
		edns    uint16
		tc      bool
	}{
		{"udp", 0, true}, {"udp", 1232, true}, {"udp", 4096, true}, {"tcp", 0, false}, {"tcp", 1232, false},
	} {
		r := query(t, s, c.network, "big.example.com.", dns.TypeTXT, c.edns)
		if r.Truncated != c.tc {
			t.Errorf("%s edns %d: TC %v, want %v", c.network, c.edns, r.Truncated, c.tc)
		}
		if !c.tc && len(r.Answer) != 60 {
			t.Errorf("%s: %d records, want 60", c.network, len(r.Answer))
		}
		size := 512
		if c.edns != 0 {
			size = int(c.edns)
		}
		r.Compress = true
		if b, _ := r.Pack(); c.network == "udp" && len(b) > size {
			t.Errorf("udp answer of %d bytes over %d", len(b), size)
		}
	}
	// A small answer fits without EDNS.
	if r := query(t, s, "udp", "www.example.com.", dns.TypeA, 0); r.Truncated || len(r.Answer) != 2 {
		t.Errorf("small answer truncated: %v", r)
	}
}

func TestEDNS(t *testing.T) {
	s := startServer(t, Config{Source: testSource()})
	r := query(t, s, "udp", "www.example.com.", dns.TypeA, 1400)
	opt := r.IsEdns0()
	if opt == nil || opt.Version() != 0 || opt.UDPSize() != ourUDPSize {
		t.Fatalf("OPT not echoed: %v", r)
	}
	if r := query(t, s, "udp", "www.example.com.", dns.TypeA, 0); r.IsEdns0() != nil {
		t.Errorf("OPT without EDNS in the query")
	}
	m := new(dns.Msg).SetQuestion("www.example.com.", dns.TypeA)
	m.SetEdns0(1232, true)
	if r := exchange(t, s.Addr(), "udp", m); r.IsEdns0() == nil || !r.IsEdns0().Do() {
		t.Errorf("DO not echoed: %v", r)
	}
	m.IsEdns0().SetVersion(1)
	if r := exchange(t, s.Addr(), "udp", m); r.Rcode != dns.RcodeBadVers {
		t.Errorf("EDNS version 1: rcode %s, want BADVERS", dns.RcodeToString[r.Rcode])
	}
	// Other opcodes, classes, zone transfers.
	m = new(dns.Msg).SetQuestion("example.com.", dns.TypeA)
	m.Opcode = dns.OpcodeStatus
	if r := exchange(t, s.Addr(), "udp", m); r.Rcode != dns.RcodeNotImplemented {
		t.Errorf("STATUS: %s", dns.RcodeToString[r.Rcode])
	}
	if r := query(t, s, "tcp", "example.com.", dns.TypeAXFR, 0); r.Rcode != dns.RcodeRefused {
		t.Errorf("AXFR: %s", dns.RcodeToString[r.Rcode])
	}
	m = new(dns.Msg).SetQuestion("example.com.", dns.TypeA)
	m.Question[0].Qclass = dns.ClassCHAOS
	if r := exchange(t, s.Addr(), "udp", m); r.Rcode != dns.RcodeRefused {
		t.Errorf("CHAOS: %s", dns.RcodeToString[r.Rcode])
	}
}

func TestPrivateZoneAnswer(t *testing.T) {
	src := testSource()
	vpc := func(z *dnszone.Zone) bool {
		return z.Private && slices.Contains(z.VPCs, dnszone.VPC{Region: "us-east-1", ID: "vpc-1"})
	}
	for _, c := range []struct {
		name  string
		owned bool
		rcode int
		want  []string
	}{
		{"www.example.com.", true, dns.RcodeSuccess, []string{"10.0.0.1"}},
		{"priv.example.com.", true, dns.RcodeSuccess, []string{"10.0.0.2"}},
		{"mx.example.com.", true, dns.RcodeNameError, nil}, // no fallthrough to the public zone
		{"www.other.test.", false, 0, nil},
	} {
		req := new(dns.Msg).SetQuestion(c.name, dns.TypeA)
		r, owned := Answer(src, vpc, req, ClientInfo{Region: "us-east-1"})
		if owned != c.owned {
			t.Fatalf("%s: owned %v", c.name, owned)
		}
		if !owned {
			continue
		}
		if r.Rcode != c.rcode || !slices.Equal(values(r.Answer), c.want) {
			t.Errorf("%s: %v", c.name, r)
		}
	}
}

// startUpstream runs a loopback DNS server answering A 203.0.113.1 for
// every name under upstream.test and NXDOMAIN otherwise.
func startUpstream(t *testing.T) netip.AddrPort {
	t.Helper()
	h := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg).SetReply(req)
		m.RecursionAvailable = true
		q := req.Question[0]
		if dns.IsSubDomain("upstream.test.", strings.ToLower(q.Name)) && q.Qtype == dns.TypeA {
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5}, A: []byte{203, 0, 113, 1}})
		} else {
			m.Rcode = dns.RcodeNameError
		}
		_ = w.WriteMsg(m)
	})
	pc := &dns.Server{Addr: "127.0.0.1:0", Net: "udp", Handler: h}
	started := make(chan struct{})
	pc.NotifyStartedFunc = func() { close(started) }
	go func() { _ = pc.ListenAndServe() }()
	<-started
	t.Cleanup(func() { _ = pc.Shutdown() })
	return netip.MustParseAddrPort(pc.PacketConn.LocalAddr().String())
}

func TestForwarding(t *testing.T) {
	up := startUpstream(t)
	s := startServer(t, Config{Source: testSource(), Upstreams: []netip.AddrPort{up}})
	r := query(t, s, "udp", "www.upstream.test.", dns.TypeA, 0)
	if r.Rcode != dns.RcodeSuccess || !slices.Equal(values(r.Answer), []string{"203.0.113.1"}) || r.Authoritative {
		t.Fatalf("forwarded: %v", r)
	}
	r = query(t, s, "tcp", "nope.elsewhere.test.", dns.TypeA, 0)
	if r.Rcode != dns.RcodeNameError {
		t.Fatalf("forwarded NXDOMAIN: %v", r)
	}
	// A CNAME leaving the zones is completed upstream.
	r = query(t, s, "udp", "out.example.com.", dns.TypeA, 0)
	if !slices.Equal(values(r.Answer), []string{"www.upstream.test.", "203.0.113.1"}) {
		t.Fatalf("chased: %v", r)
	}
	// Owned names never go upstream.
	if r := query(t, s, "udp", "nope.example.com.", dns.TypeA, 0); r.Rcode != dns.RcodeNameError || !r.Authoritative {
		t.Fatalf("owned NXDOMAIN: %v", r)
	}
	// A dead upstream: SERVFAIL.
	dead := startServer(t, Config{Source: testSource(), Upstreams: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:9")}, ForwardTimeout: 200e6})
	if r := query(t, dead, "udp", "www.upstream.test.", dns.TypeA, 0); r.Rcode != dns.RcodeServerFailure {
		t.Fatalf("dead upstream: %v", r)
	}
	st := s.Status()
	if !st.Listening || st.Forwarded < 3 || st.PublicZones != 2 || st.RecordErrors != 0 {
		t.Errorf("status %+v", st)
	}
}
