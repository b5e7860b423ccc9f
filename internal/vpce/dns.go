package vpce

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/dnszone"
)

// Domain is the domain of endpoint-specific names, fully qualified.
const Domain = "vpce.amazonaws.com."

// TTL is the TTL of the endpoints' answers (AWS's private hosted zone
// answers with 60 s).
const TTL = 60

// snapshot is every published name, immutable.
type snapshot struct {
	names *dnszone.EndpointSet
	// private are each VPC's private DNS sets.
	private map[string]dnszone.EndpointSets
}

// publish rebuilds the snapshot from the endpoints served now.
func (c *Controller) publish() {
	c.mu.Lock()
	var eps []dnszone.Endpoint
	private := map[string]dnszone.EndpointSets{}
	for _, e := range c.eps {
		spec := e.spec
		if len(e.enis) == 0 || spec.ID == "" {
			continue
		}
		for _, n := range spec.Names {
			eps = append(eps, dnsEndpoint(fqdn(n.Name), spec.Region, spec.VPCID, n.Addrs))
		}
		var all []netip.Addr
		if len(spec.Names) > 0 {
			all = spec.Names[0].Addrs
		}
		for _, name := range spec.PrivateDNS {
			private[spec.VPCID] = append(private[spec.VPCID], privateSet(name, spec.Region, spec.VPCID, all))
		}
	}
	c.mu.Unlock()
	c.dns.Store(&snapshot{names: dnszone.NewEndpointSet(Domain, eps), private: private})
}

// privateSet is a private DNS name as a set of its own: the name itself
// ("sts.us-east-1.amazonaws.com") or, for "*.s3.us-east-1.amazonaws.com",
// its parent and every name below it.
func privateSet(name, region, vpcID string, addrs []netip.Addr) *dnszone.EndpointSet {
	wild := strings.HasPrefix(name, "*.")
	domain := fqdn(strings.TrimPrefix(name, "*."))
	set := dnszone.NewEndpointSet(domain, nil)
	e := dnsEndpoint(domain, region, vpcID, addrs)
	set.Names[domain] = e
	if wild {
		set.Wildcards = map[string]dnszone.Endpoint{domain: e}
	}
	return set
}

func dnsEndpoint(name, region, vpcID string, addrs []netip.Addr) dnszone.Endpoint {
	return dnszone.Endpoint{Name: name, Region: region, VPC: vpcID, PrivateIPs: slices.Clone(addrs), TTL: TTL}
}

func fqdn(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) + "." }

// Names is the source of the endpoint-specific names, for every DNS
// server.
func (c *Controller) Names() dnszone.EndpointSource { return names{c} }

type names struct{ c *Controller }

func (n names) Endpoints() *dnszone.EndpointSet { return n.c.dns.Load().names }

// PrivateDNS is the sets of vpcID's private DNS names, for its resolver
// (netctl EnableVPCEndpoints).
func (c *Controller) PrivateDNS(vpcID string) dnszone.EndpointSets {
	return c.dns.Load().private[vpcID]
}
