package vpcnet

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Gateway VPC endpoints. On AWS a gateway endpoint (S3, DynamoDB) is a
// route target: the route tables associated with it get a route to the
// service's prefix list through it, and traffic to those addresses goes
// there with no internet or NAT gateway. Here each gateway endpoint is a
// namespace of its own (Names.InstanceNamespace of the endpoint's ID)
// joined to the VPC's router namespace by a veth pair (Names.Endpoint in
// the router, eth0 in the endpoint's namespace) and holding the service's
// addresses, where minicloud serves them in-process (internal/vpce). A
// subnet whose route table has a TargetGatewayEndpoint route sends the
// route's destination down that link: a device route (the endpoint's
// namespace answers ARP for its addresses; the router answers ARP for the
// VPC's addresses by proxy), so no address is spent on the link and the
// source — the instance's private IP — reaches the service unchanged, as
// AWS's does. The return path is the router's main table, which knows
// every subnet. Without the route a subnet's traffic to those addresses
// follows its other routes (the internet gateway, a NAT gateway, or none).

// EnsureGatewayEndpoint makes (or finds) the gateway endpoint id of VPC
// vpcID with addrs as its addresses, and returns the path of its
// namespace. Subnets whose routes target it start sending there.
func (n *Network) EnsureGatewayEndpoint(ctx context.Context, vpcID, id string, addrs []netip.Addr) (string, error) {
	if err := checkCtx(ctx); err != nil {
		return "", err
	}
	if err := validID("endpoint", id); err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	for _, a := range addrs {
		if !a.Is4() {
			return "", fmt.Errorf("%w: endpoint address %s", ErrInvalid, a)
		}
	}
	nsName := n.names.InstanceNamespace(id)
	if _, err := ensureNamedNS(nsName, func() error { return nil }); err != nil {
		return "", err
	}
	path := namedPath(nsName)
	n.mu.Lock()
	defer n.mu.Unlock()
	err := n.router(vpcID, func(h *netlink.Handle, ns netns.NsHandle) error {
		return withNS(path, func(eh *netlink.Handle, ens netns.NsHandle) error {
			if err := n.endpointLink(h, eh, ens, namedPath(n.names.RouterNamespace(vpcID)), id, addrs); err != nil {
				return err
			}
			return n.reapplyAll(h, ns, vpcID, n.state(vpcID, ns))
		})
	})
	if err != nil {
		return "", fmt.Errorf("vpcnet: gateway endpoint %s: %w", id, err)
	}
	return path, nil
}

// endpointLink makes the veth pair and the endpoint namespace's addresses
// and route, idempotently.
func (n *Network) endpointLink(h, eh *netlink.Handle, ens netns.NsHandle, routerPath, id string, addrs []netip.Addr) error {
	name := n.names.Endpoint(id)
	link, err := ownedLink(h, name, id)
	if isNotFound(err) {
		la := netlink.NewLinkAttrs()
		la.Name = name
		veth := &netlink.Veth{LinkAttrs: la, PeerName: "eth0", PeerNamespace: netlink.NsFd(int(ens))}
		if err := h.LinkAdd(veth); err != nil && !isExist(err) {
			return fmt.Errorf("add veth %s: %w", name, err)
		}
		if link, err = h.LinkByName(name); err != nil {
			return err
		}
		if err := h.LinkSetAlias(link, id); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	// The router answers, by proxy, the endpoint's ARP questions for the
	// VPC's addresses; and the endpoint's addresses are not the router's
	// to check the path of.
	if err := InNamespace(routerPath, func() error {
		for _, kv := range [][2]string{{"proxy_arp", "1"}, {"rp_filter", "0"}} {
			if err := writeSysctl("net.ipv4.conf."+name+"."+kv[0], kv[1]); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("sysctls of %s: %w", name, err)
	}
	if err := h.LinkSetUp(link); err != nil {
		return err
	}
	eth, err := eh.LinkByName("eth0")
	if err != nil {
		return err
	}
	lo, err := eh.LinkByName("lo")
	if err != nil {
		return err
	}
	for _, l := range []netlink.Link{lo, eth} {
		if err := eh.LinkSetUp(l); err != nil {
			return err
		}
	}
	for _, a := range addrs {
		if err := eh.AddrReplace(eth, &netlink.Addr{IPNet: addrToIPNet(a, 32)}); err != nil {
			return fmt.Errorf("address %s: %w", a, err)
		}
	}
	def := &netlink.Route{Dst: prefixToIPNet(netip.MustParsePrefix("0.0.0.0/0")), LinkIndex: eth.Attrs().Index, Scope: netlink.SCOPE_LINK}
	if err := eh.RouteReplace(def); err != nil {
		return fmt.Errorf("default route: %w", err)
	}
	return nil
}

// DeleteGatewayEndpoint removes the gateway endpoint id of VPC vpcID:
// routes to it become blackholes.
func (n *Network) DeleteGatewayEndpoint(ctx context.Context, vpcID, id string) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if err := validID("endpoint", id); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	n.mu.Lock()
	err := n.router(vpcID, func(h *netlink.Handle, ns netns.NsHandle) error {
		link, err := ownedLink(h, n.names.Endpoint(id), id)
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := h.LinkDel(link); err != nil && !isNotFound(err) {
			return err
		}
		return n.reapplyAll(h, ns, vpcID, n.state(vpcID, ns))
	})
	n.mu.Unlock()
	if err != nil && !isNotFoundVPC(err) {
		return fmt.Errorf("vpcnet: gateway endpoint %s: %w", id, err)
	}
	return deleteNamedNS(n.names.InstanceNamespace(id))
}

// endpointRoute is a subnet table's route of d to gateway endpoint id:
// down its link, or a blackhole when it does not exist.
func (n *Network) endpointRoute(h *netlink.Handle, table int, d netip.Prefix, id string) netlink.Route {
	link, err := ownedLink(h, n.names.Endpoint(id), id)
	if err != nil {
		return netlink.Route{Dst: prefixToIPNet(d), Table: table, Type: unix.RTN_BLACKHOLE}
	}
	return netlink.Route{Dst: prefixToIPNet(d), Table: table, Type: unix.RTN_UNICAST, LinkIndex: link.Attrs().Index, Scope: netlink.SCOPE_LINK}
}
