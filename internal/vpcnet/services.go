package vpcnet

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// AWS's public service addresses. On AWS an instance reaches the regional
// API endpoints (sts.us-east-1.amazonaws.com…) on public addresses, through
// its internet or NAT gateway like any other internet host. minicloud keeps
// the last /28 of its public range for them (ServiceRange): EC2 never hands
// those out, and the host holds them as its own addresses on a link
// of the prefix (Names.ServiceLink, one end of a veth pair whose other end is the host's too), so a packet an instance sends them
// arrives, through the gateway link and the host's /32 route back to its
// public IP, at a listener of the host — delivered locally, never forwarded.
// A subnet with neither gateway cannot reach them, as on AWS.

// Service address roles within ServiceRange: the range's first address is
// skipped (some tools treat it as a network address), then the API of
// every service, then the addresses S3's and DynamoDB's names resolve to,
// kept apart so that their gateway endpoints' prefix lists (part 2) hold
// only them.
const (
	ServiceAPI      = "api"
	ServiceS3       = "s3"
	ServiceDynamoDB = "dynamodb"
)

var serviceOffsets = map[string]uint32{ServiceAPI: 1, ServiceS3: 2, ServiceDynamoDB: 3}

// ServiceRangeBits is the size of the reserved block at the end of the
// public range.
const ServiceRangeBits = 28

// MinServiceRangeBits is the smallest public range that keeps service
// addresses: a /24. A smaller one (tests' tiny pools) keeps none, so that
// EC2 keeps every address of it.
const MinServiceRangeBits = 24

// ServiceRange is the block of the public range reserved for AWS's public
// service addresses: its last /28; the zero Prefix (no service addresses)
// when the range is smaller than MinServiceRangeBits.
func ServiceRange(public netip.Prefix) netip.Prefix {
	public = public.Masked()
	if !public.Addr().Is4() || public.Bits() > MinServiceRangeBits {
		return netip.Prefix{}
	}
	last := nthAddr(public, uint32(1)<<(32-public.Bits())-1)
	return netip.PrefixFrom(last, ServiceRangeBits).Masked()
}

// ServiceAddress is the public address the names of service (ServiceS3,
// ServiceDynamoDB; anything else is ServiceAPI) resolve to and minicloud
// serves its API on; invalid when the range keeps none.
func ServiceAddress(public netip.Prefix, service string) netip.Addr {
	r := ServiceRange(public)
	if !r.IsValid() {
		return netip.Addr{}
	}
	off, ok := serviceOffsets[service]
	if !ok {
		off = serviceOffsets[ServiceAPI]
	}
	return nthAddr(r, off)
}

// ServiceAddresses are every address of ServiceAddress, the API's first;
// none when the range keeps none.
func ServiceAddresses(public netip.Prefix) []netip.Addr {
	if !ServiceRange(public).IsValid() {
		return nil
	}
	return []netip.Addr{
		ServiceAddress(public, ServiceAPI),
		ServiceAddress(public, ServiceS3),
		ServiceAddress(public, ServiceDynamoDB),
	}
}

// ServiceLink is the host link holding the service addresses (a veth
// end; its peer, the same name with another hash, is on the host too).
func (n Names) ServiceLink() string { return n.link(kindService, "aws-services") }

// EnsureServiceAddresses puts the service addresses of the public range on
// the host (the link ServiceLink, up, each address as /32), so that
// listeners may bind them (idempotent). Cleanup removes the link with the
// prefix's other host links; RemoveServiceAddresses removes it alone.
func (n *Network) EnsureServiceAddresses(ctx context.Context) ([]netip.Addr, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	host, err := n.hostHandle()
	if err != nil {
		return nil, err
	}
	addrs := ServiceAddresses(n.public)
	if len(addrs) == 0 {
		return nil, nil
	}
	name := n.names.ServiceLink()
	l, err := host.LinkByName(name)
	if err != nil {
		if !isNotFound(err) {
			return nil, fmt.Errorf("vpcnet: find %s: %w", name, err)
		}
		// A veth pair with both ends on the host, not a dummy link:
		// the dummy driver is not in every kernel, veth is (gateways
		// need it). The peer only gives the link its carrier.
		d := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name}, PeerName: n.names.link(kindService, "aws-services-peer")}
		if err := host.LinkAdd(d); err != nil && !isExist(err) {
			return nil, fmt.Errorf("vpcnet: create the service link %s: %w", name, err)
		}
		if l, err = host.LinkByName(name); err != nil {
			return nil, fmt.Errorf("vpcnet: find %s: %w", name, err)
		}
		_ = host.LinkSetAlias(l, "aws-services")
	}
	for _, a := range addrs {
		if err := host.AddrAdd(l, &netlink.Addr{IPNet: addrToIPNet(a, 32)}); err != nil && !isExist(err) {
			return nil, fmt.Errorf("vpcnet: add service address %s: %w", a, err)
		}
	}
	if err := host.LinkSetUp(l); err != nil {
		return nil, fmt.Errorf("vpcnet: set %s up: %w", name, err)
	}
	if peer, err := host.LinkByName(n.names.link(kindService, "aws-services-peer")); err == nil {
		if err := host.LinkSetUp(peer); err != nil {
			return nil, fmt.Errorf("vpcnet: set %s up: %w", peer.Attrs().Name, err)
		}
	}
	return addrs, nil
}

// RemoveServiceAddresses deletes the service link and its addresses, if
// present.
func (n *Network) RemoveServiceAddresses(ctx context.Context) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	host, err := n.hostHandle()
	if err != nil {
		return err
	}
	l, err := host.LinkByName(n.names.ServiceLink())
	if err != nil {
		if isNotFound(err) {
			return nil
		}
		return fmt.Errorf("vpcnet: find the service link: %w", err)
	}
	if err := host.LinkDel(l); err != nil && !isNotFound(err) {
		return fmt.Errorf("vpcnet: delete the service link: %w", err)
	}
	return nil
}
