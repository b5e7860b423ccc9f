package dns53

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/minicloud/minicloud/internal/dnszone"
)

type fakeEndpoints struct{ set *dnszone.EndpointSet }

func (f fakeEndpoints) Endpoints() *dnszone.EndpointSet { return f.set }

// TestEndpoints asks the host server for RDS endpoint names as a client
// outside every VPC: public IP when there is one, else the private IP.
func TestEndpoints(t *testing.T) {
	const dom = ".abcdefghijkl.us-east-1.rds.amazonaws.com."
	ip := netip.MustParseAddr
	src := testSource()
	src.snap.Zones[0].Records = append(src.snap.Zones[0].Records,
		rec("db.example.com.", "CNAME", 300, "pub"+dom), rec("olddb.example.com.", "CNAME", 300, "gone"+dom))
	dnszone.SortRecordSets(src.snap.Zones[0].Records)
	// A second service's domain beside RDS's: each name is answered from
	// its own service's set.
	const elb = "elb.amazonaws.com."
	s := startServer(t, Config{Source: src, Endpoints: dnszone.EndpointSources{
		fakeEndpoints{dnszone.NewEndpointSet(dnszone.RDSDomain, []dnszone.Endpoint{
			{Name: "pub" + dom, VPC: "vpc-1", PrivateIPs: []netip.Addr{ip("10.0.2.51")}, PublicIPs: []netip.Addr{ip("198.18.0.51")}},
			{Name: "priv" + dom, VPC: "vpc-1", PrivateIPs: []netip.Addr{ip("10.0.2.50")}},
			{Name: "stopped" + dom},
		})},
		fakeEndpoints{dnszone.NewEndpointSet(elb, []dnszone.Endpoint{
			{Name: "lb-1.us-east-1." + elb, VPC: "vpc-1", PrivateIPs: []netip.Addr{ip("10.0.1.7")}, PublicIPs: []netip.Addr{ip("198.18.0.7")}},
			// One address per node of a load balancer.
			{Name: "lb-2.us-east-1." + elb, VPC: "vpc-1", PrivateIPs: []netip.Addr{ip("10.0.1.8"), ip("10.0.2.8")},
				PublicIPs: []netip.Addr{ip("198.18.0.8"), ip("198.18.1.8")}, PublicInVPC: true},
		})},
	}})
	for _, tc := range []struct {
		name   string
		qtype  uint16
		rcode  int
		answer []string // values
		soa    bool
	}{
		{"pub" + dom, dns.TypeA, dns.RcodeSuccess, []string{"198.18.0.51"}, false},
		{"PUB" + dom, dns.TypeA, dns.RcodeSuccess, []string{"198.18.0.51"}, false},
		{"priv" + dom, dns.TypeA, dns.RcodeSuccess, []string{"10.0.2.50"}, false}, // AWS's public DNS gives the private IP
		{"priv" + dom, dns.TypeANY, dns.RcodeSuccess, []string{"10.0.2.50"}, false},
		{"priv" + dom, dns.TypeAAAA, dns.RcodeSuccess, nil, true},
		{"stopped" + dom, dns.TypeA, dns.RcodeSuccess, nil, true},
		{"abcdefghijkl.us-east-1.rds.amazonaws.com.", dns.TypeA, dns.RcodeSuccess, nil, true},
		{"us-east-1.rds.amazonaws.com.", dns.TypeA, dns.RcodeSuccess, nil, true},
		{"nope" + dom, dns.TypeA, dns.RcodeNameError, nil, true},
		{"x.pub" + dom, dns.TypeA, dns.RcodeNameError, nil, true},
		{"nope.rds.amazonaws.com.", dns.TypeA, dns.RcodeNameError, nil, true},
		// A hosted zone's CNAME to an endpoint is completed for stub clients.
		{"db.example.com.", dns.TypeA, dns.RcodeSuccess, []string{"pub" + dom, "198.18.0.51"}, false},
		{"olddb.example.com.", dns.TypeA, dns.RcodeNameError, []string{"gone" + dom}, true},
		{"lb-1.us-east-1." + elb, dns.TypeA, dns.RcodeSuccess, []string{"198.18.0.7"}, false},
		{"lb-2.us-east-1." + elb, dns.TypeA, dns.RcodeSuccess, []string{"198.18.0.8", "198.18.1.8"}, false},
	} {
		t.Run(tc.name+"/"+dns.TypeToString[tc.qtype], func(t *testing.T) {
			m := new(dns.Msg).SetQuestion(tc.name, tc.qtype)
			r := exchange(t, s.Addr(), "udp", m)
			if r.Rcode != tc.rcode || !r.Authoritative {
				t.Fatalf("rcode %s AA %v, want %s AA", dns.RcodeToString[r.Rcode], r.Authoritative, dns.RcodeToString[tc.rcode])
			}
			if got := values(r.Answer); !slices.Equal(got, tc.answer) {
				t.Fatalf("answer %q, want %q", got, tc.answer)
			}
			if n := len(r.Answer); n > 0 && r.Answer[n-1].Header().Rrtype == dns.TypeA && r.Answer[n-1].Header().Ttl != dnszone.EndpointTTL {
				t.Errorf("TTL %d, want %d", r.Answer[n-1].Header().Ttl, dnszone.EndpointTTL)
			}
			hasSOA := len(r.Ns) == 1 && r.Ns[0].Header().Rrtype == dns.TypeSOA && r.Ns[0].Header().Name == dnszone.RDSDomain
			if strings.HasSuffix(tc.name, elb) {
				hasSOA = tc.soa
			}
			if hasSOA != tc.soa {
				t.Fatalf("authority %v, want the SOA of %s: %v", r.Ns, dnszone.RDSDomain, tc.soa)
			}
		})
	}
}
