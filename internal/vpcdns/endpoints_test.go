package vpcdns

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/miekg/dns"

	"github.com/minicloud/minicloud/internal/dnszone"
)

// testEndpoints: a private DB in this VPC, a public DB in this VPC, a
// public and a private DB of another VPC, and a stopped DB.
// fixedEndpoints is an endpoint source whose set never changes.
type fixedEndpoints struct{ set *dnszone.EndpointSet }

func (f fixedEndpoints) Endpoints() *dnszone.EndpointSet { return f.set }

func testEndpoints() *dnszone.EndpointSet {
	const vpc, other = "vpc-0123456789abcdef0", "vpc-0fedcba9876543210"
	ip := netip.MustParseAddr
	return dnszone.NewEndpointSet(dnszone.RDSDomain, []dnszone.Endpoint{
		{Name: "here.abcdefghijkl.us-east-1.rds.amazonaws.com.", VPC: vpc, PrivateIPs: []netip.Addr{ip("10.0.2.50")}},
		{Name: "pub.abcdefghijkl.us-east-1.rds.amazonaws.com.", VPC: vpc, PrivateIPs: []netip.Addr{ip("10.0.2.51")}, PublicIPs: []netip.Addr{ip("198.18.0.51")}},
		{Name: "far.abcdefghijkl.us-east-1.rds.amazonaws.com.", VPC: other, PrivateIPs: []netip.Addr{ip("10.9.0.5")}, PublicIPs: []netip.Addr{ip("198.18.9.5")}},
		{Name: "farpriv.abcdefghijkl.us-east-1.rds.amazonaws.com.", VPC: other, PrivateIPs: []netip.Addr{ip("10.9.0.6")}},
		{Name: "stopped.abcdefghijkl.us-east-1.rds.amazonaws.com."},
	})
}

func TestAnswerEndpoints(t *testing.T) {
	s := New(Config{
		VPC:       VPCInfo{ID: "vpc-0123456789abcdef0", Region: "us-east-1", CIDRs: []netip.Prefix{testCIDR}, EnableDNSSupport: true},
		Hosts:     testHosts,
		Endpoints: dnszone.EndpointSources{fixedEndpoints{testEndpoints()}},
		Zones: func() []*dnszone.Zone {
			return []*dnszone.Zone{hostedZoneOf("ZCORP", "corp.example.", set("db.corp.example.", "CNAME", "pub.abcdefghijkl.us-east-1.rds.amazonaws.com."))}
		},
	})
	const dom = ".abcdefghijkl.us-east-1.rds.amazonaws.com."
	for _, tc := range []struct {
		name   string
		qtype  uint16
		rcode  int
		answer []string
		soa    bool // negative answer with the domain's SOA
	}{
		{"here" + dom, dns.TypeA, dns.RcodeSuccess, []string{"here" + dom + " A 10.0.2.50"}, false},
		{"HERE" + dom, dns.TypeA, dns.RcodeSuccess, []string{"HERE" + dom + " A 10.0.2.50"}, false},
		// Publicly accessible, in this VPC: still the private IP.
		{"pub" + dom, dns.TypeA, dns.RcodeSuccess, []string{"pub" + dom + " A 10.0.2.51"}, false},
		// Another VPC: what public DNS answers.
		{"far" + dom, dns.TypeA, dns.RcodeSuccess, []string{"far" + dom + " A 198.18.9.5"}, false},
		{"farpriv" + dom, dns.TypeA, dns.RcodeSuccess, []string{"farpriv" + dom + " A 10.9.0.6"}, false},
		// No address now, another type, an empty non-terminal: NODATA.
		{"stopped" + dom, dns.TypeA, dns.RcodeSuccess, nil, true},
		{"here" + dom, dns.TypeAAAA, dns.RcodeSuccess, nil, true},
		{"abcdefghijkl.us-east-1.rds.amazonaws.com.", dns.TypeA, dns.RcodeSuccess, nil, true},
		// Unknown names of the domain are never forwarded.
		{"gone" + dom, dns.TypeA, dns.RcodeNameError, nil, true},
		{"x.here" + dom, dns.TypeA, dns.RcodeNameError, nil, true},
		// A private hosted zone's CNAME to an endpoint is chased.
		{"db.corp.example.", dns.TypeA, dns.RcodeSuccess, []string{"db.corp.example. CNAME pub" + dom, "pub" + dom + " A 10.0.2.51"}, false},
		// Outside the domain: forwarded (no upstream: SERVFAIL).
		{"rds.us-east-1.amazonaws.com.", dns.TypeA, dns.RcodeServerFailure, nil, false},
	} {
		t.Run(tc.name+"/"+dns.TypeToString[tc.qtype], func(t *testing.T) {
			resp := ask(t, s, tc.name, tc.qtype)
			if resp.Rcode != tc.rcode {
				t.Fatalf("rcode %s, want %s", dns.RcodeToString[resp.Rcode], dns.RcodeToString[tc.rcode])
			}
			if got := summary(resp); !slices.Equal(got, tc.answer) {
				t.Fatalf("answer %q, want %q", got, tc.answer)
			}
			for _, rr := range resp.Answer {
				if a, ok := rr.(*dns.A); ok && a.Hdr.Ttl != dnszone.EndpointTTL {
					t.Errorf("TTL %d, want %d", a.Hdr.Ttl, dnszone.EndpointTTL)
				}
			}
			hasSOA := len(resp.Ns) == 1 && resp.Ns[0].Header().Name == dnszone.RDSDomain && resp.Ns[0].Header().Rrtype == dns.TypeSOA
			if hasSOA != tc.soa {
				t.Fatalf("authority %v, want the SOA of %s: %v", resp.Ns, dnszone.RDSDomain, tc.soa)
			}
		})
	}
}
