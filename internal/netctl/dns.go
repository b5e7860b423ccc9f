package netctl

import (
	"net/netip"
	"slices"
	"sync/atomic"

	"github.com/minicloud/minicloud/internal/dnszone"
	"github.com/minicloud/minicloud/internal/service/ec2"
	"github.com/minicloud/minicloud/internal/vpcdns"
)

// Each VPC's Amazon-provided DNS resolver (internal/vpcdns) runs in its
// router namespace on the VPC's base + 2 and on 169.254.169.253, both
// exempt from security groups. It follows the VPC's DNS attributes and
// answers for the VPC's current addresses, which every pass refreshes.

// vpcDNS is one VPC's running resolver.
type vpcDNS struct {
	srv   *vpcdns.Server
	nsID  string // the router namespace it listens in
	addr  netip.Addr
	hosts atomic.Pointer[[]vpcdns.Host]
}

// EnableDNS makes the controller run each VPC's resolver, forwarding names
// the VPC does not own to upstreams (none: such names get SERVFAIL) and
// answering the Route 53 private hosted zones of zones (nil: none)
// associated with the VPC. Call it before Start.
func (c *Controller) EnableDNS(upstreams []netip.AddrPort, zones dnszone.Source) {
	c.dnsOn = true
	c.dnsUpstreams = upstreams
	c.dnsZones = zones
}

// EnableEndpoints makes the VPC resolvers answer the service endpoint
// names of srcs (RDS DB instances…): the private IP inside the endpoint's
// own VPC, the public DNS answer elsewhere. Call it before Start.
func (c *Controller) EnableEndpoints(srcs ...dnszone.EndpointSource) {
	c.dnsEndpoints = append(c.dnsEndpoints, srcs...)
}

// EnableVPCEndpoints makes each VPC's resolver answer sets(vpcID) too (per
// query): the private DNS names of the VPC's interface endpoints, which
// win over the names of EnableEndpoints. Call it before Start.
func (c *Controller) EnableVPCEndpoints(sets func(vpcID string) dnszone.EndpointSets) {
	c.dnsVPCEndpoints = sets
}

// privateZones returns the private hosted zones associated with a VPC, as
// the snapshot shares them (the resolver compiles each version once).
func (c *Controller) privateZones(region, vpcID string) []*dnszone.Zone {
	if c.dnsZones == nil {
		return nil
	}
	var out []*dnszone.Zone
	for _, z := range c.dnsZones.Snapshot().Zones {
		if z.Private && slices.Contains(z.VPCs, dnszone.VPC{Region: region, ID: vpcID}) {
			out = append(out, z)
		}
	}
	return out
}

// reconcileDNS starts, updates or restarts the resolver of v, whose router
// namespace exists.
func (c *Controller) reconcileDNS(v *ec2.VPCSpec) error {
	if !c.dnsOn || !v.Resolver.IsValid() {
		return nil
	}
	info := vpcdns.VPCInfo{ID: v.ID, Region: v.Region, CIDRs: v.CIDRs, EnableDNSSupport: v.DNSSupport, EnableDNSHostnames: v.DNSHostnames}
	hosts := dnsHosts(v)
	ns := nsID(c.routerPath(v.ID))
	d := c.dns[v.ID]
	if d != nil && (d.nsID != ns || d.addr != v.Resolver) {
		// The router namespace was rebuilt, or the primary CIDR changed.
		c.stopDNS(v.ID)
		d = nil
	}
	if d == nil {
		d = &vpcDNS{nsID: ns, addr: v.Resolver}
		d.hosts.Store(&hosts)
		region, id := v.Region, v.ID
		d.srv = vpcdns.New(vpcdns.Config{VPC: info, Upstreams: c.dnsUpstreams, ManageAddresses: true, Logger: c.log, Stats: &c.dnsStats,
			Hosts:     func() []vpcdns.Host { return *d.hosts.Load() },
			Zones:     func() []*dnszone.Zone { return c.privateZones(region, id) },
			Endpoints: c.dnsEndpoints, VPCEndpoints: c.vpcEndpointSets(id)})
		if err := d.srv.Start(c.routerPath(v.ID), []netip.Addr{v.Resolver, vpcdns.LinkLocalResolver}); err != nil {
			return err
		}
		c.dns[v.ID] = d
		return nil
	}
	d.hosts.Store(&hosts)
	return d.srv.Update(info)
}

// vpcEndpointSets is the resolver's VPCEndpoints for vpcID, nil without
// EnableVPCEndpoints.
func (c *Controller) vpcEndpointSets(vpcID string) func() dnszone.EndpointSets {
	if c.dnsVPCEndpoints == nil {
		return nil
	}
	return func() dnszone.EndpointSets { return c.dnsVPCEndpoints(vpcID) }
}

// stopDNS stops a VPC's resolver; an open socket would keep its router
// namespace alive.
func (c *Controller) stopDNS(vpcID string) {
	if d := c.dns[vpcID]; d != nil {
		d.srv.Stop()
		delete(c.dns, vpcID)
	}
}

// dnsHosts lists every private address of v's ENIs with its public IP.
func dnsHosts(v *ec2.VPCSpec) []vpcdns.Host {
	public := map[netip.Addr]netip.Addr{}
	for _, p := range v.PublicIPs {
		public[p.Private] = p.Public
	}
	var out []vpcdns.Host
	for _, e := range v.ENIs {
		for _, ip := range append([]netip.Addr{e.IP}, e.SecondaryIPs...) {
			if ip.IsValid() {
				out = append(out, vpcdns.Host{PrivateIP: ip, PublicIP: public[ip]})
			}
		}
	}
	return out
}
