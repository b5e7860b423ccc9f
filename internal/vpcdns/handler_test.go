package vpcdns

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/minicloud/minicloud/internal/dnszone"
)

var (
	testCIDR    = netip.MustParsePrefix("10.0.0.0/16")
	testPrivate = netip.MustParseAddr("10.0.1.23")
	testPublic  = netip.MustParseAddr("198.18.0.5")
	testOther   = netip.MustParseAddr("10.0.2.40") // no public IP
)

func testHosts() []Host {
	return []Host{
		{PrivateIP: testPrivate, PublicIP: testPublic, Names: []string{"i-0123456789abcdef0.ec2.internal", "i-0123456789abcdef0.example.com"}},
		{PrivateIP: testOther},
	}
}

// hostedZoneOf is a private hosted zone as a snapshot holds it.
func hostedZoneOf(id, name string, recs ...*dnszone.RecordSet) *dnszone.Zone {
	dnszone.SortRecordSets(recs)
	return &dnszone.Zone{ID: id, Name: name, Private: true, Records: recs}
}

func set(name, typ string, values ...string) *dnszone.RecordSet {
	return &dnszone.RecordSet{Name: name, Type: typ, TTL: 300, Values: values}
}

// corpZone is the VPC's private hosted zone in the tests.
var corpZone = func() *dnszone.Zone {
	txt := set("big.corp.example.", "TXT")
	for i := range 30 {
		txt.Values = append(txt.Values, `"`+strings.Repeat(string(rune('a'+i%26)), 60)+`"`)
	}
	return hostedZoneOf("ZCORP", "corp.example.",
		set("db.corp.example.", "A", "10.0.2.40"),
		set("db.corp.example.", "AAAA", "fd00::40"),
		set("www.corp.example.", "CNAME", "db.corp.example."),
		set("ext.corp.example.", "CNAME", "example.test."),
		set("host.ec2.corp.example.", "CNAME", "ip-10-0-1-23.ec2.internal."),
		set("loop1.corp.example.", "CNAME", "loop2.corp.example."),
		set("loop2.corp.example.", "CNAME", "loop1.corp.example."),
		set("note.corp.example.", "TXT", `"hello world"`),
		set("*.wild.corp.example.", "A", "10.0.3.3"),
		set("a.b.deep.corp.example.", "A", "10.0.3.4"),
		set("bad.corp.example.", "A", "not-an-ip"),
		set("outside.example.", "A", "10.0.3.5"),
		&dnszone.RecordSet{Name: "alias.corp.example.", Type: "A", Alias: &dnszone.Alias{HostedZoneID: "ZCORP", DNSName: "db.corp.example."}},
		txt,
	)
}()

func testZones() []*dnszone.Zone { return []*dnszone.Zone{corpZone} }

func testServer(region string, hostnames bool, ups ...netip.AddrPort) *Server {
	return New(Config{
		VPC:       VPCInfo{ID: "vpc-0123456789abcdef0", Region: region, CIDRs: []netip.Prefix{testCIDR, netip.MustParsePrefix("100.64.16.0/20")}, EnableDNSSupport: true, EnableDNSHostnames: hostnames},
		Hosts:     testHosts,
		Zones:     testZones,
		Upstreams: ups,
	})
}

func ask(t *testing.T, s *Server, name string, qtype uint16) *dns.Msg {
	t.Helper()
	req := new(dns.Msg)
	req.SetQuestion(name, qtype)
	resp := s.answer(context.Background(), req, true)
	if resp == nil {
		t.Fatalf("%s %s: no response", name, dns.TypeToString[qtype])
	}
	if _, err := resp.Pack(); err != nil {
		t.Fatalf("%s: pack: %v", name, err)
	}
	return resp
}

// summary renders a response's answer section compactly: "A 10.0.1.23".
func summary(m *dns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		f := strings.Fields(rr.String())
		out = append(out, f[0]+" "+f[3]+" "+strings.Join(f[4:], " "))
	}
	return out
}

func TestAnswer(t *testing.T) {
	for _, tc := range []struct {
		region    string
		hostnames bool
		name      string
		qtype     uint16
		rcode     int
		answer    []string // summaries, nil for none
		soa       string   // authority SOA owner, "" for none
	}{
		// Private names, per region.
		{"us-east-1", true, "ip-10-0-1-23.ec2.internal.", dns.TypeA, dns.RcodeSuccess, []string{"ip-10-0-1-23.ec2.internal. A 10.0.1.23"}, ""},
		{"us-east-1", false, "IP-10-0-1-23.EC2.Internal.", dns.TypeA, dns.RcodeSuccess, []string{"IP-10-0-1-23.EC2.Internal. A 10.0.1.23"}, ""},
		{"eu-west-1", true, "ip-10-0-2-40.eu-west-1.compute.internal.", dns.TypeA, dns.RcodeSuccess, []string{"ip-10-0-2-40.eu-west-1.compute.internal. A 10.0.2.40"}, ""},
		{"eu-west-1", true, "ip-10-0-2-40.ec2.internal.", dns.TypeA, dns.RcodeServerFailure, nil, ""}, // another region's zone: forwarded, no upstream
		{"us-east-1", true, "i-0123456789abcdef0.ec2.internal.", dns.TypeA, dns.RcodeSuccess, []string{"i-0123456789abcdef0.ec2.internal. A 10.0.1.23"}, ""},
		{"us-east-1", true, "i-0123456789abcdef0.example.com.", dns.TypeA, dns.RcodeServerFailure, nil, ""}, // names outside the zone are ignored
		{"us-east-1", true, "ip-10-0-1-23.ec2.internal.", dns.TypeAAAA, dns.RcodeSuccess, nil, "ec2.internal."},
		{"us-east-1", true, "ip-10-0-1-23.ec2.internal.", dns.TypeANY, dns.RcodeSuccess, []string{"ip-10-0-1-23.ec2.internal. A 10.0.1.23"}, ""},
		{"us-east-1", true, "ip-10-0-9-9.ec2.internal.", dns.TypeA, dns.RcodeNameError, nil, "ec2.internal."},
		{"us-east-1", true, "www.ip-10-0-1-23.ec2.internal.", dns.TypeA, dns.RcodeNameError, nil, "ec2.internal."},
		{"us-east-1", true, "ec2.internal.", dns.TypeSOA, dns.RcodeSuccess, []string{"ec2.internal. SOA ns-1536.awsdns-00.co.uk. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 60"}, ""},
		{"us-east-1", true, "ec2.internal.", dns.TypeA, dns.RcodeSuccess, nil, "ec2.internal."},
		{"us-east-1", true, "instance-data.ec2.internal.", dns.TypeA, dns.RcodeSuccess, []string{"instance-data.ec2.internal. A 169.254.169.254"}, ""},
		// Reverse.
		{"us-east-1", true, "23.1.0.10.in-addr.arpa.", dns.TypePTR, dns.RcodeSuccess, []string{"23.1.0.10.in-addr.arpa. PTR ip-10-0-1-23.ec2.internal."}, ""},
		{"sa-east-1", true, "40.2.0.10.in-addr.arpa.", dns.TypePTR, dns.RcodeSuccess, []string{"40.2.0.10.in-addr.arpa. PTR ip-10-0-2-40.sa-east-1.compute.internal."}, ""},
		{"us-east-1", true, "99.1.0.10.in-addr.arpa.", dns.TypePTR, dns.RcodeNameError, nil, "0.10.in-addr.arpa."},
		{"us-east-1", true, "1.0.10.in-addr.arpa.", dns.TypePTR, dns.RcodeSuccess, nil, "0.10.in-addr.arpa."},   // empty non-terminal
		{"us-east-1", true, "7.0.10.in-addr.arpa.", dns.TypePTR, dns.RcodeNameError, nil, "0.10.in-addr.arpa."}, // nothing below
		{"us-east-1", true, "23.1.0.10.in-addr.arpa.", dns.TypeA, dns.RcodeSuccess, nil, "0.10.in-addr.arpa."},
		{"us-east-1", true, "5.17.64.100.in-addr.arpa.", dns.TypePTR, dns.RcodeNameError, nil, "17.64.100.in-addr.arpa."}, // /20: /24 zones
		{"us-east-1", true, "64.100.in-addr.arpa.", dns.TypePTR, dns.RcodeServerFailure, nil, ""},                         // above the /20's zones
		{"us-east-1", true, "1.1.168.192.in-addr.arpa.", dns.TypePTR, dns.RcodeServerFailure, nil, ""},                    // outside the VPC
		// Public names: split horizon.
		{"us-east-1", true, "ec2-198-18-0-5.compute-1.amazonaws.com.", dns.TypeA, dns.RcodeSuccess, []string{"ec2-198-18-0-5.compute-1.amazonaws.com. A 10.0.1.23"}, ""},
		{"us-east-1", true, "ec2-198-18-0-5.compute-1.amazonaws.com.", dns.TypeAAAA, dns.RcodeSuccess, nil, "compute-1.amazonaws.com."},
		{"eu-west-1", true, "ec2-198-18-0-5.eu-west-1.compute.amazonaws.com.", dns.TypeA, dns.RcodeSuccess, []string{"ec2-198-18-0-5.eu-west-1.compute.amazonaws.com. A 10.0.1.23"}, ""},
		{"us-east-1", false, "ec2-198-18-0-5.compute-1.amazonaws.com.", dns.TypeA, dns.RcodeServerFailure, nil, ""},
		{"us-east-1", true, "ec2-198-18-0-6.compute-1.amazonaws.com.", dns.TypeA, dns.RcodeServerFailure, nil, ""}, // not ours: the internet's
		{"us-east-1", true, "5.0.18.198.in-addr.arpa.", dns.TypePTR, dns.RcodeSuccess, []string{"5.0.18.198.in-addr.arpa. PTR ec2-198-18-0-5.compute-1.amazonaws.com."}, ""},
		{"us-east-1", false, "5.0.18.198.in-addr.arpa.", dns.TypePTR, dns.RcodeServerFailure, nil, ""},
		// Private hosted zone.
		{"us-east-1", true, "db.corp.example.", dns.TypeA, dns.RcodeSuccess, []string{"db.corp.example. A 10.0.2.40"}, ""},
		{"us-east-1", true, "DB.corp.example.", dns.TypeAAAA, dns.RcodeSuccess, []string{"DB.corp.example. AAAA fd00::40"}, ""},
		{"us-east-1", true, "db.corp.example.", dns.TypeMX, dns.RcodeSuccess, nil, "corp.example."},
		{"us-east-1", true, "www.corp.example.", dns.TypeA, dns.RcodeSuccess, []string{"www.corp.example. CNAME db.corp.example.", "db.corp.example. A 10.0.2.40"}, ""},
		{"us-east-1", true, "www.corp.example.", dns.TypeCNAME, dns.RcodeSuccess, []string{"www.corp.example. CNAME db.corp.example."}, ""},
		{"us-east-1", true, "host.ec2.corp.example.", dns.TypeA, dns.RcodeSuccess, []string{"host.ec2.corp.example. CNAME ip-10-0-1-23.ec2.internal.", "ip-10-0-1-23.ec2.internal. A 10.0.1.23"}, ""},
		{"us-east-1", true, "ext.corp.example.", dns.TypeA, dns.RcodeServerFailure, []string{"ext.corp.example. CNAME example.test."}, ""},
		{"us-east-1", true, "loop1.corp.example.", dns.TypeA, dns.RcodeServerFailure, nil, ""},
		{"us-east-1", true, "note.corp.example.", dns.TypeTXT, dns.RcodeSuccess, []string{`note.corp.example. TXT "hello world"`}, ""},
		{"us-east-1", true, "x.wild.corp.example.", dns.TypeA, dns.RcodeSuccess, []string{"x.wild.corp.example. A 10.0.3.3"}, ""},
		{"us-east-1", true, "y.x.wild.corp.example.", dns.TypeA, dns.RcodeSuccess, []string{"y.x.wild.corp.example. A 10.0.3.3"}, ""}, // RFC 4592: x.wild does not exist
		{"us-east-1", true, "b.deep.corp.example.", dns.TypeA, dns.RcodeSuccess, nil, "corp.example."},
		{"us-east-1", true, "nope.corp.example.", dns.TypeA, dns.RcodeNameError, nil, "corp.example."},
		{"us-east-1", true, "bad.corp.example.", dns.TypeA, dns.RcodeNameError, nil, "corp.example."},
		{"us-east-1", true, "corp.example.", dns.TypeNS, dns.RcodeSuccess, nil, "corp.example."},
		// Foreign names without upstreams.
		{"us-east-1", true, "example.test.", dns.TypeA, dns.RcodeServerFailure, nil, ""},
	} {
		t.Run(tc.region+"/"+tc.name+"/"+dns.TypeToString[tc.qtype], func(t *testing.T) {
			s := testServer(tc.region, tc.hostnames)
			resp := ask(t, s, tc.name, tc.qtype)
			if resp.Rcode != tc.rcode {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[resp.Rcode], dns.RcodeToString[tc.rcode])
			}
			if !resp.RecursionAvailable || resp.Authoritative {
				t.Errorf("flags: ra=%v aa=%v", resp.RecursionAvailable, resp.Authoritative)
			}
			got := summary(resp)
			if strings.Join(got, "\n") != strings.Join(tc.answer, "\n") {
				t.Errorf("answer\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.answer, "\n"))
			}
			for _, rr := range resp.Answer {
				if rr.Header().Rrtype != dns.TypeSOA && strings.Contains(rr.Header().Name, "internal") && rr.Header().Ttl != InstanceTTL {
					t.Errorf("TTL %d: %v", rr.Header().Ttl, rr)
				}
			}
			soa := ""
			if len(resp.Ns) == 1 {
				if s, ok := resp.Ns[0].(*dns.SOA); ok {
					soa = s.Hdr.Name
					if s.Hdr.Ttl > s.Minttl {
						t.Errorf("negative TTL %d above SOA minimum %d", s.Hdr.Ttl, s.Minttl)
					}
				}
			} else if len(resp.Ns) > 1 {
				t.Errorf("authority: %v", resp.Ns)
			}
			if soa != tc.soa {
				t.Errorf("authority SOA %q, want %q", soa, tc.soa)
			}
		})
	}
}

func TestAnswerProtocol(t *testing.T) {
	s := testServer("us-east-1", true)
	ctx := context.Background()

	// Not a single question: FORMERR.
	m := new(dns.Msg)
	m.Id = 7
	m.Question = []dns.Question{{Name: "a.", Qtype: dns.TypeA, Qclass: dns.ClassINET}, {Name: "b.", Qtype: dns.TypeA, Qclass: dns.ClassINET}}
	if r := s.answer(ctx, m, false); r == nil || r.Rcode != dns.RcodeFormatError || r.Id != 7 {
		t.Errorf("two questions: %v", r)
	}
	// A response is not answered.
	m = new(dns.Msg).SetQuestion("ec2.internal.", dns.TypeSOA)
	m.Response = true
	if r := s.answer(ctx, m, false); r != nil {
		t.Errorf("answered a response: %v", r)
	}
	// Opcodes other than QUERY: NOTIMP.
	m = new(dns.Msg).SetQuestion("ec2.internal.", dns.TypeSOA)
	m.Opcode = dns.OpcodeUpdate
	if r := s.answer(ctx, m, false); r.Rcode != dns.RcodeNotImplemented {
		t.Errorf("UPDATE: %s", dns.RcodeToString[r.Rcode])
	}
	// Zone transfers and other classes: REFUSED.
	for _, q := range []dns.Question{{Name: "ec2.internal.", Qtype: dns.TypeAXFR, Qclass: dns.ClassINET}, {Name: "version.bind.", Qtype: dns.TypeTXT, Qclass: dns.ClassCHAOS}} {
		m = new(dns.Msg)
		m.Question = []dns.Question{q}
		if r := s.answer(ctx, m, true); r.Rcode != dns.RcodeRefused {
			t.Errorf("%v: %s", q, dns.RcodeToString[r.Rcode])
		}
	}
	// EDNS: echoed with our size and the DO bit; version 1 is BADVERS.
	m = new(dns.Msg).SetQuestion("ip-10-0-1-23.ec2.internal.", dns.TypeA)
	m.SetEdns0(4096, true)
	r := s.answer(ctx, m, false)
	if opt := r.IsEdns0(); opt == nil || opt.UDPSize() != ourUDPSize || !opt.Do() || len(r.Answer) != 1 {
		t.Errorf("EDNS answer: %v", r)
	}
	m.IsEdns0().SetVersion(1)
	r = s.answer(ctx, m, false)
	if r.Rcode != dns.RcodeBadVers || r.IsEdns0() == nil {
		t.Errorf("EDNS version 1: %v", r)
	}
	if _, err := r.Pack(); err != nil {
		t.Errorf("pack BADVERS: %v", err)
	}
	// Truncation of a large UDP answer; TCP gets everything.
	m = new(dns.Msg).SetQuestion("big.corp.example.", dns.TypeTXT)
	if r := s.answer(ctx, m, false); !r.Truncated || r.Len() > dns.MinMsgSize {
		t.Errorf("UDP without EDNS: tc=%v len=%d", r.Truncated, r.Len())
	}
	m.SetEdns0(4096, false)
	if r := s.answer(ctx, m, false); r.Truncated || len(r.Answer) != 30 {
		t.Errorf("UDP with EDNS 4096: tc=%v answers=%d len=%d", r.Truncated, len(r.Answer), r.Len())
	}
	m = new(dns.Msg).SetQuestion("big.corp.example.", dns.TypeTXT)
	if r := s.answer(ctx, m, true); r.Truncated || len(r.Answer) != 30 {
		t.Errorf("TCP: tc=%v answers=%d", r.Truncated, len(r.Answer))
	}
	// Resolver off: no answer at all.
	if err := s.Update(VPCInfo{Region: "us-east-1", CIDRs: []netip.Prefix{testCIDR}}); err != nil {
		t.Fatal(err)
	}
	if r := s.answer(ctx, new(dns.Msg).SetQuestion("ip-10-0-1-23.ec2.internal.", dns.TypeA), false); r != nil {
		t.Errorf("resolver off answered: %v", r)
	}
}
