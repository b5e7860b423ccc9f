package route53

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/minicloud/minicloud/internal/dnszone"
	"github.com/minicloud/minicloud/internal/state"
)

type fixedEndpoints struct{ set *dnszone.EndpointSet }

func (f fixedEndpoints) Endpoints() *dnszone.EndpointSet { return f.set }

// An alias to a load balancer answers with the addresses public DNS gives
// its name, "dualstack." or not; a name no service publishes is not found.
func TestResolveEndpointAlias(t *testing.T) {
	ip := netip.MustParseAddr
	s := New(state.NewMemory())
	src := s.Source()
	const name = "web-1234567890.us-east-1.elb.amazonaws.com."
	if _, _, ok := src.Resolve(dnszone.Alias{DNSName: name}, "A"); ok {
		t.Fatal("resolved before any endpoint source was set")
	}
	s.SetEndpoints(dnszone.EndpointSources{fixedEndpoints{dnszone.NewEndpointSet("elb.amazonaws.com.", []dnszone.Endpoint{
		{Name: name, VPC: "vpc-1", PrivateIPs: []netip.Addr{ip("10.0.1.5"), ip("10.0.2.5")},
			PublicIPs: []netip.Addr{ip("198.18.0.5"), ip("198.18.1.5")}, PublicInVPC: true},
		{Name: "down-1.us-east-1.elb.amazonaws.com.", PrivateIPs: []netip.Addr{ip("10.0.1.6")}, Unhealthy: true},
	})}})
	for _, tc := range []struct {
		desc, name, qtype string
		want              []netip.Addr
		healthy, ok       bool
	}{
		{"its name", name, "A", []netip.Addr{ip("198.18.0.5"), ip("198.18.1.5")}, true, true},
		{"dualstack", "dualstack." + name, "A", []netip.Addr{ip("198.18.0.5"), ip("198.18.1.5")}, true, true},
		{"no IPv6 address", name, "AAAA", nil, true, true},
		{"no healthy target", "down-1.us-east-1.elb.amazonaws.com.", "A", []netip.Addr{ip("10.0.1.6")}, false, true},
		{"unknown", "gone-1.us-east-1.elb.amazonaws.com.", "A", nil, false, false},
		{"no service's domain", "www.example.com.", "A", nil, false, false},
	} {
		got, healthy, ok := src.Resolve(dnszone.Alias{HostedZoneID: "Z35SXDOTRQ7X7K", DNSName: tc.name}, tc.qtype)
		if !slices.Equal(got, tc.want) || healthy != tc.healthy || ok != tc.ok {
			t.Errorf("%s: %v healthy %v ok %v, want %v %v %v", tc.desc, got, healthy, ok, tc.want, tc.healthy, tc.ok)
		}
	}
}
