package vpcnet

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"
	"sync"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// LinkNetwork is where internet-gateway link networks are carved from, one
// /30 per VPC: base+1 on the host end, base+2 on the router end. It is
// link-local space, which AWS does not allow as a VPC CIDR, and avoids
// 169.254.169.0/24 (IMDS, DNS) and 169.254.170.0/24 (ECS metadata).
var LinkNetwork = netip.MustParsePrefix("169.254.64.0/18")

// allocMu serialises link-network allocation between Networks of this
// process (tests run several).
var allocMu sync.Mutex

func isNotFoundVPC(err error) bool { return errors.Is(err, ErrVPCNotFound) }

// uplinkInfo returns the router end of the VPC's internet gateway and the
// addresses of both ends.
func (n *Network) uplinkInfo(h *netlink.Handle, vpcID string) (netlink.Link, netip.Addr, netip.Addr, error) {
	up, err := ownedLink(h, n.names.Uplink(vpcID), vpcID)
	if err != nil {
		if isNotFound(err) {
			return nil, netip.Addr{}, netip.Addr{}, fmt.Errorf("%w: %s", ErrNoInternetGateway, vpcID)
		}
		return nil, netip.Addr{}, netip.Addr{}, err
	}
	_, p, err := linkPrefix(h, up)
	if err != nil || p.Bits() != 30 {
		return nil, netip.Addr{}, netip.Addr{}, fmt.Errorf("%w: %s (uplink unconfigured)", ErrNoInternetGateway, vpcID)
	}
	return up, nthAddr(p, 2), nthAddr(p, 1), nil
}

// HostAddress returns the host's address on the VPC's internet-gateway link:
// the source address instances see for connections from the host, and an
// address on which host services are reachable from the VPC.
func (n *Network) HostAddress(vpcID string) (netip.Addr, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var addr netip.Addr
	err := n.router(vpcID, func(h *netlink.Handle, _ netns.NsHandle) error {
		_, _, host, err := n.uplinkInfo(h, vpcID)
		addr = host
		return err
	})
	return addr, err
}

// EnsureInternetGateway creates the VPC's internet gateway: a veth pair
// between the host and the router namespace on a /30 of LinkNetwork. Routes
// targeting it start working, and host routes of known public IPs are
// restored.
func (n *Network) EnsureInternetGateway(ctx context.Context, vpcID string) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if err := n.guardForwardingOnce(); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	host, err := n.hostHandle()
	if err != nil {
		return err
	}
	return n.router(vpcID, func(h *netlink.Handle, ns netns.NsHandle) error {
		gwName, upName := n.names.Gateway(vpcID), n.names.Uplink(vpcID)
		gw, gerr := ownedLink(host, gwName, vpcID)
		_, _, _, uerr := n.uplinkInfo(h, vpcID)
		ok := gerr == nil && uerr == nil
		if ok {
			_, gp, err := linkPrefix(host, gw)
			_, routerAddr, _, _ := n.uplinkInfo(h, vpcID)
			ok = err == nil && gp.Bits() == 30 && nthAddr(gp, 2) == routerAddr
		}
		if !ok {
			if gerr != nil && !isNotFound(gerr) {
				return gerr // a foreign link with our name: do not touch it
			}
			if gerr == nil {
				if err := host.LinkDel(gw); err != nil && !isNotFound(err) {
					return err
				}
			}
			if up, err := h.LinkByName(upName); err == nil {
				if err := h.LinkDel(up); err != nil && !isNotFound(err) {
					return err
				}
			}
			if err := n.createGateway(host, h, ns, vpcID); err != nil {
				return err
			}
			n.log.Info("created internet gateway link", "vpc", vpcID, "host_link", gwName)
		}
		gw, err := ownedLink(host, gwName, vpcID)
		if err != nil {
			return err
		}
		if err := host.LinkSetUp(gw); err != nil {
			return err
		}
		up, routerAddr, _, err := n.uplinkInfo(h, vpcID)
		if err != nil {
			return err
		}
		if err := h.LinkSetUp(up); err != nil {
			return err
		}
		vs := n.state(vpcID, ns)
		for pub := range vs.mappings {
			if err := n.hostRoute(host, gw, pub, routerAddr); err != nil {
				n.log.Warn("restore public IP route", "vpc", vpcID, "ip", pub, "err", err)
			}
		}
		for _, pub := range vs.nats {
			if err := n.hostRoute(host, gw, pub, routerAddr); err != nil {
				n.log.Warn("restore NAT gateway route", "vpc", vpcID, "ip", pub, "err", err)
			}
		}
		return n.reapplyAll(h, ns, vpcID, vs)
	})
}

// createGateway creates and addresses the veth pair.
func (n *Network) createGateway(host, h *netlink.Handle, ns netns.NsHandle, vpcID string) error {
	allocMu.Lock()
	defer allocMu.Unlock()
	gwName, upName := n.names.Gateway(vpcID), n.names.Uplink(vpcID)
	tried := map[netip.Prefix]bool{}
	for attempt := 0; attempt < 4; attempt++ {
		p, err := freeLinkNet(host, tried, linkNetStart(n.names.Prefix+"/"+vpcID))
		if err != nil {
			return err
		}
		tried[p] = true
		la := netlink.NewLinkAttrs()
		la.Name = gwName
		la.MTU = GatewayMTU
		veth := &netlink.Veth{LinkAttrs: la, PeerName: upName, PeerMTU: GatewayMTU, PeerTxQLen: -1, PeerNamespace: netlink.NsFd(int(ns))}
		if err := host.LinkAdd(veth); err != nil {
			return fmt.Errorf("vpcnet: add internet gateway veth %s: %w", gwName, err)
		}
		gw, err := host.LinkByName(gwName)
		if err != nil {
			return err
		}
		// Before anything else: the host must never forward what comes in
		// from a VPC, and IPv6 is not modelled.
		if err := writeSysctl("net.ipv4.conf."+gwName+".forwarding", "0"); err != nil {
			_ = host.LinkDel(gw)
			return fmt.Errorf("vpcnet: disable forwarding on %s: %w", gwName, err)
		}
		_ = writeSysctl("net.ipv6.conf."+gwName+".disable_ipv6", "1")
		up, err := h.LinkByName(upName)
		if err != nil {
			_ = host.LinkDel(gw)
			return err
		}
		steps := []func() error{
			func() error { return host.LinkSetAlias(gw, vpcID) },
			func() error { return h.LinkSetAlias(up, vpcID) },
			func() error { return host.AddrAdd(gw, &netlink.Addr{IPNet: addrToIPNet(nthAddr(p, 1), 30)}) },
			func() error { return h.AddrAdd(up, &netlink.Addr{IPNet: addrToIPNet(nthAddr(p, 2), 30)}) },
		}
		for _, step := range steps {
			if err := step(); err != nil {
				_ = host.LinkDel(gw)
				return fmt.Errorf("vpcnet: configure internet gateway %s: %w", gwName, err)
			}
		}
		// Another process may have raced us to the same /30.
		if clash, err := linkNetInUse(host, p, gw.Attrs().Index); err != nil || clash {
			_ = host.LinkDel(gw)
			if err != nil {
				return err
			}
			continue
		}
		return nil
	}
	return fmt.Errorf("vpcnet: no free link network in %s", LinkNetwork)
}

// linkNetStart spreads the search for a free /30 by VPC and minicloud
// prefix, so that two minicloud processes creating gateways at the same
// moment (parallel tests) rarely race for the same /30.
func linkNetStart(key string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return h.Sum32()
}

// freeLinkNet finds a /30 of LinkNetwork no host address is in, searching
// from the start-th one.
func freeLinkNet(host *netlink.Handle, skip map[netip.Prefix]bool, start uint32) (netip.Prefix, error) {
	addrs, err := RetryDump(func() ([]netlink.Addr, error) { return host.AddrList(nil, netlink.FAMILY_V4) })
	if err != nil {
		return netip.Prefix{}, err
	}
	used := map[netip.Prefix]bool{}
	for _, a := range addrs {
		if ip := ipToAddr(a.IP); ip.Is4() && LinkNetwork.Contains(ip) {
			used[netip.PrefixFrom(ip, 30).Masked()] = true
		}
	}
	count := uint32(1) << (32 - LinkNetwork.Bits()) / 4
	for j := uint32(0); j < count; j++ {
		i := (start + j) % count
		p := netip.PrefixFrom(nthAddr(LinkNetwork, i*4), 30)
		if !used[p] && !skip[p] {
			return p, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("vpcnet: no free link network in %s", LinkNetwork)
}

func linkNetInUse(host *netlink.Handle, p netip.Prefix, except int) (bool, error) {
	addrs, err := RetryDump(func() ([]netlink.Addr, error) { return host.AddrList(nil, netlink.FAMILY_V4) })
	if err != nil {
		return false, err
	}
	for _, a := range addrs {
		if a.LinkIndex != except && p.Contains(ipToAddr(a.IP)) {
			return true, nil
		}
	}
	return false, nil
}

// DeleteInternetGateway removes the VPC's internet gateway; routes to it
// become blackholes and the host routes of its public IPs go with the link.
func (n *Network) DeleteInternetGateway(ctx context.Context, vpcID string) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	host, err := n.hostHandle()
	if err != nil {
		return err
	}
	if err := validID("VPC", vpcID); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	gw, err := ownedLink(host, n.names.Gateway(vpcID), vpcID)
	if err == nil {
		if err := host.LinkDel(gw); err != nil && !isNotFound(err) {
			return err
		}
	} else if !isNotFound(err) {
		return err
	}
	err = n.router(vpcID, func(h *netlink.Handle, ns netns.NsHandle) error {
		if up, err := h.LinkByName(n.names.Uplink(vpcID)); err == nil {
			if err := h.LinkDel(up); err != nil && !isNotFound(err) {
				return err
			}
		}
		return n.reapplyAll(h, ns, vpcID, n.state(vpcID, ns))
	})
	if isNotFoundVPC(err) {
		return nil
	}
	return err
}

// hostRoute installs public/32 via the router end of gw, refusing to take
// over a route that is not on gw.
func (n *Network) hostRoute(host *netlink.Handle, gw netlink.Link, public, routerAddr netip.Addr) error {
	if err := hostRouteFree(host, gw, public); err != nil {
		return err
	}
	return host.RouteReplace(&netlink.Route{Dst: addrToIPNet(public, 32), Gw: net.IP(routerAddr.AsSlice()), LinkIndex: gw.Attrs().Index, Table: unix.RT_TABLE_MAIN})
}

// hostRouteFree reports a conflict if the host routes public/32 through
// anything but gw.
func hostRouteFree(host *netlink.Handle, gw netlink.Link, public netip.Addr) error {
	rs, err := RetryDump(func() ([]netlink.Route, error) {
		return host.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Dst: addrToIPNet(public, 32), Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_DST|netlink.RT_FILTER_TABLE)
	})
	if err != nil {
		return err
	}
	for _, r := range rs {
		if r.LinkIndex != gw.Attrs().Index {
			return fmt.Errorf("%w: host already routes %s elsewhere", ErrConflict, public)
		}
	}
	return nil
}

// delHostRoute removes public/32 if it is on gw.
func (n *Network) delHostRoute(host *netlink.Handle, gwName string, public netip.Addr) error {
	gw, err := host.LinkByName(gwName)
	if err != nil {
		if isNotFound(err) {
			return nil
		}
		return err
	}
	dst := addrToIPNet(public, 32)
	rs, err := RetryDump(func() ([]netlink.Route, error) {
		return host.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Dst: dst, Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_DST|netlink.RT_FILTER_TABLE)
	})
	if err != nil {
		return err
	}
	for _, r := range rs {
		if r.LinkIndex == gw.Attrs().Index {
			if err := host.RouteDel(&r); err != nil && !isNotFound(err) {
				return err
			}
		}
	}
	return nil
}

func (n *Network) checkPublic(public netip.Addr) error {
	if !public.Is4() || !n.public.Contains(public) {
		return fmt.Errorf("%w: public IP %s outside %s", ErrInvalid, public, n.public)
	}
	return nil
}

// MapPublicIP maps public 1:1 to private (an EIP or auto-assigned public
// IP): the host routes public to the VPC's internet gateway, the router
// DNATs it to private, and traffic from private leaving through the gateway
// is SNATed to public. Needs the VPC's internet gateway.
func (n *Network) MapPublicIP(ctx context.Context, vpcID string, public, private netip.Addr) error {
	failed, err := n.MapPublicIPs(ctx, vpcID, []PublicIPMapping{{Public: public, Private: private}})
	if err != nil {
		return err
	}
	return failed[public]
}

// PublicIPMapping is one 1:1 mapping of MapPublicIPs.
type PublicIPMapping struct{ Public, Private netip.Addr }

// MapPublicIPs is MapPublicIP for many addresses of one VPC at once: a host
// route for each, and one nftables transaction on the VPC's NAT maps for all
// of them (one transaction each instead of fifty, under the lock every other
// VPC operation needs). A mapping
// that cannot be made (a bad address, one that is a NAT gateway's, a host
// route elsewhere) is reported in failed, by public IP, and the others are
// made; err is for what fails them all.
func (n *Network) MapPublicIPs(ctx context.Context, vpcID string, ms []PublicIPMapping) (failed map[netip.Addr]error, err error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	failed = map[netip.Addr]error{}
	valid := make([]PublicIPMapping, 0, len(ms))
	for _, m := range ms {
		if err := n.checkPublic(m.Public); err != nil {
			failed[m.Public] = err
			continue
		}
		if !m.Private.Is4() {
			failed[m.Public] = fmt.Errorf("%w: private IP %s", ErrInvalid, m.Private)
			continue
		}
		valid = append(valid, m)
	}
	if len(valid) == 0 {
		return failed, nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	host, err := n.hostHandle()
	if err != nil {
		return nil, err
	}
	err = n.router(vpcID, func(h *netlink.Handle, ns netns.NsHandle) error {
		vs := n.state(vpcID, ns)
		todo := valid[:0]
	next:
		for _, m := range valid {
			for id, pub := range vs.nats {
				if pub == m.Public {
					failed[m.Public] = fmt.Errorf("%w: %s is NAT gateway %s's address", ErrConflict, m.Public, id)
					continue next
				}
			}
			todo = append(todo, m)
		}
		if len(todo) == 0 {
			return nil
		}
		_, routerAddr, _, err := n.uplinkInfo(h, vpcID)
		if err != nil {
			return err
		}
		gw, err := ownedLink(host, n.names.Gateway(vpcID), vpcID)
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrNoInternetGateway, vpcID, err)
		}
		// The translation goes in before the host routes: a SYN that came
		// in between would be routed untranslated, and its connection
		// tracked that way (the client's first try lost).
		changed, routable := false, todo[:0]
		for _, m := range todo {
			if err := hostRouteFree(host, gw, m.Public); err != nil {
				failed[m.Public] = err
				continue
			}
			routable = append(routable, m)
			if priv, ok := vs.mappings[m.Public]; !ok || priv != m.Private {
				vs.mappings[m.Public] = m.Private
				changed = true
			}
		}
		// One mapping alone rewrites the table even when it is unchanged, as
		// MapPublicIP always has: that repairs a table changed behind its back.
		if changed || vs.natDirty || (len(ms) == 1 && len(failed) == 0) {
			if err := n.syncNAT(ns, vpcID, vs); err != nil {
				return err
			}
		}
		for _, m := range routable {
			if err := n.hostRoute(host, gw, m.Public, routerAddr); err != nil {
				failed[m.Public] = err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return failed, nil
}

// UnmapPublicIP removes a mapping made by MapPublicIP.
func (n *Network) UnmapPublicIP(ctx context.Context, vpcID string, public netip.Addr) error {
	return n.UnmapPublicIPs(ctx, vpcID, []netip.Addr{public})
}

// UnmapPublicIPs removes mappings made by MapPublicIP(s), with one write of
// the VPC's NAT table.
func (n *Network) UnmapPublicIPs(ctx context.Context, vpcID string, publics []netip.Addr) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	host, err := n.hostHandle()
	if err != nil {
		return err
	}
	err = n.router(vpcID, func(h *netlink.Handle, ns netns.NsHandle) error {
		vs := n.state(vpcID, ns)
		changed := false
		for _, public := range publics {
			if _, ok := vs.mappings[public]; ok {
				delete(vs.mappings, public)
				changed = true
			}
		}
		if changed || vs.natDirty {
			if err := n.syncNAT(ns, vpcID, vs); err != nil {
				return err
			}
		}
		var errs []error
		for _, public := range publics {
			if err := n.delHostRoute(host, n.names.Gateway(vpcID), public); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	})
	if isNotFoundVPC(err) {
		return nil
	}
	return err
}

// EnsureNATGateway makes a public NAT gateway: subnets whose routes target
// it are masqueraded to its public IP on their way out of the internet
// gateway; nothing is let in. Needs the VPC's internet gateway, as on AWS.
// (Its subnet and private IP are not modelled: the router does the NAT.)
func (n *Network) EnsureNATGateway(ctx context.Context, g NATGateway) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if err := validID("NAT gateway", g.ID); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := n.checkPublic(g.PublicIP); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	host, err := n.hostHandle()
	if err != nil {
		return err
	}
	return n.router(g.VPCID, func(h *netlink.Handle, ns netns.NsHandle) error {
		vs := n.state(g.VPCID, ns)
		if _, ok := vs.mappings[g.PublicIP]; ok {
			return fmt.Errorf("%w: %s is mapped to an instance", ErrConflict, g.PublicIP)
		}
		for id, pub := range vs.nats {
			if pub == g.PublicIP && id != g.ID {
				return fmt.Errorf("%w: %s is NAT gateway %s's address", ErrConflict, pub, id)
			}
		}
		_, routerAddr, _, err := n.uplinkInfo(h, g.VPCID)
		if err != nil {
			return err
		}
		gw, err := ownedLink(host, n.names.Gateway(g.VPCID), g.VPCID)
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrNoInternetGateway, g.VPCID, err)
		}
		if old, ok := vs.nats[g.ID]; ok && old != g.PublicIP {
			if err := n.delHostRoute(host, gw.Attrs().Name, old); err != nil {
				return err
			}
		}
		if err := n.hostRoute(host, gw, g.PublicIP, routerAddr); err != nil {
			return err
		}
		vs.nats[g.ID] = g.PublicIP
		return n.reapplyAll(h, ns, g.VPCID, vs)
	})
}

// DeleteNATGateway removes a NAT gateway; routes to it become blackholes.
func (n *Network) DeleteNATGateway(ctx context.Context, vpcID, natID string) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	host, err := n.hostHandle()
	if err != nil {
		return err
	}
	err = n.router(vpcID, func(h *netlink.Handle, ns netns.NsHandle) error {
		vs := n.state(vpcID, ns)
		pub, ok := vs.nats[natID]
		if !ok {
			return nil
		}
		delete(vs.nats, natID)
		if err := n.reapplyAll(h, ns, vpcID, vs); err != nil {
			return err
		}
		return n.delHostRoute(host, n.names.Gateway(vpcID), pub)
	})
	if isNotFoundVPC(err) {
		return nil
	}
	return err
}
