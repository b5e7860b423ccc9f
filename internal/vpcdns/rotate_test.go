package vpcdns

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/minicloud/minicloud/internal/dnszone"
)

// TestRotateDualStackLookups: an Aurora reader endpoint's answers rotate so
// that clients taking the first address spread their new connections. A
// glibc client's getaddrinfo asks A and AAAA for every lookup; the A
// answers' first address must still alternate between two readers from
// one lookup to the next, whatever else is asked in between (the AAAA
// question has no address to rotate).
func TestRotateDualStackLookups(t *testing.T) {
	const vpc, name = "vpc-0123456789abcdef0", "db.cluster-ro-abcdefghijkl.us-east-1.rds.amazonaws.com."
	r1, r2 := netip.MustParseAddr("10.0.2.10"), netip.MustParseAddr("10.0.3.10")
	set := dnszone.NewEndpointSet(dnszone.RDSDomain, []dnszone.Endpoint{
		{Name: name, VPC: vpc, PrivateIPs: []netip.Addr{r1, r2}, Rotate: true, TTL: 1},
	})
	s := New(Config{
		VPC:       VPCInfo{ID: vpc, Region: "us-east-1", CIDRs: []netip.Prefix{testCIDR}, EnableDNSSupport: true},
		Hosts:     testHosts,
		Endpoints: dnszone.EndpointSources{fixedEndpoints{set}},
	})
	for _, tc := range []struct {
		desc    string
		qtypes  []uint16 // one lookup's questions, the A one's answer counted
		lookups int
	}{
		{"A only", []uint16{dns.TypeA}, 10},
		{"A then AAAA", []uint16{dns.TypeA, dns.TypeAAAA}, 10},
		{"AAAA then A", []uint16{dns.TypeAAAA, dns.TypeA}, 10},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			first := map[string]int{}
			for range tc.lookups {
				for _, q := range tc.qtypes {
					resp := ask(t, s, name, q)
					if q != dns.TypeA {
						continue
					}
					if len(resp.Answer) != 2 {
						t.Fatalf("A answer %v, want both readers", resp.Answer)
					}
					first[resp.Answer[0].(*dns.A).A.String()]++
				}
			}
			if first[r1.String()] != tc.lookups/2 || first[r2.String()] != tc.lookups/2 {
				t.Errorf("first address over %d lookups: %v, want each reader first in half", tc.lookups, first)
			}
		})
	}
}
