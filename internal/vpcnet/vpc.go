package vpcnet

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

const (
	// subnetRulePriority is the priority of the "from <subnet> lookup <table>"
	// rules in the router namespace, ahead of the main table (32766).
	subnetRulePriority = 1000
	// tableBase + the bridge's ifindex is the subnet's routing table.
	tableBase = 10000
)

// routerSysctls runs inside a new or existing router namespace.
func routerSysctls() error {
	for _, kv := range [][2]string{
		{"net.ipv4.ip_forward", "1"},
		{"net.ipv4.conf.all.rp_filter", "0"},
		{"net.ipv4.conf.default.rp_filter", "0"},
		{"net.ipv4.conf.all.send_redirects", "0"},
		{"net.ipv4.conf.default.send_redirects", "0"},
	} {
		if err := writeSysctl(kv[0], kv[1]); err != nil {
			return fmt.Errorf("vpcnet: sysctl %s: %w", kv[0], err)
		}
	}
	// IPv6 is not modelled yet; keep the router quiet. Best effort.
	_ = writeSysctl("net.ipv6.conf.all.disable_ipv6", "1")
	_ = writeSysctl("net.ipv6.conf.default.disable_ipv6", "1")
	return nil
}

// EnsureVPC creates the VPC's router namespace, or brings an existing one in
// line with v (CIDR blocks; destinations inside them but outside every subnet
// are unreachable, like AWS's local route).
func (n *Network) EnsureVPC(ctx context.Context, v VPC) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if err := validID("VPC", v.ID); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	// Before any VPC can be reachable on a public IP, the rest of the public
	// range must be unreachable from the host (guard.go).
	if err := n.GuardPublicRange(ctx); err != nil {
		return err
	}
	var cidrs []netip.Prefix
	for _, c := range v.CIDRs {
		if c.IsValid() && c.Addr().Is4() {
			cidrs = append(cidrs, c.Masked())
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.dropLegacy()
	created, err := ensureNamedNS(n.names.RouterNamespace(v.ID), routerSysctls)
	if err != nil {
		return err
	}
	if created {
		n.log.Info("created VPC router namespace", "vpc", v.ID, "netns", n.names.RouterNamespace(v.ID))
	}
	return n.router(v.ID, func(h *netlink.Handle, ns netns.NsHandle) error {
		lo, err := h.LinkByName("lo")
		if err != nil {
			return err
		}
		if err := h.LinkSetUp(lo); err != nil {
			return err
		}
		changed, err := syncUnreachables(h, cidrs)
		if err != nil {
			return fmt.Errorf("vpcnet: VPC CIDRs: %w", err)
		}
		vs := n.state(v.ID, ns)
		if changed {
			bridges, err := n.bridges(h)
			if err != nil {
				return err
			}
			for _, id := range bridges {
				if err := n.applySubnet(h, v.ID, vs, id); err != nil {
					return err
				}
			}
		}
		return n.syncNAT(ns, v.ID, vs)
	})
}

// DeleteVPC removes the VPC's router namespace with its subnets, gateways
// and the ENI veths attached to it (the instance namespaces stay).
func (n *Network) DeleteVPC(ctx context.Context, vpcID string) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if err := validID("VPC", vpcID); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.vpcs, vpcID)
	return deleteNamedNS(n.names.RouterNamespace(vpcID))
}

// syncUnreachables makes the main table's unreachable routes equal cidrs.
func syncUnreachables(h *netlink.Handle, cidrs []netip.Prefix) (bool, error) {
	cur, err := vpcCIDRs(h)
	if err != nil {
		return false, err
	}
	changed := false
	for _, c := range cur {
		if !slices.Contains(cidrs, c) {
			if err := h.RouteDel(&netlink.Route{Dst: prefixToIPNet(c), Type: unix.RTN_UNREACHABLE, Table: unix.RT_TABLE_MAIN}); err != nil {
				return false, err
			}
			changed = true
		}
	}
	for _, c := range cidrs {
		if !slices.Contains(cur, c) {
			if err := h.RouteReplace(&netlink.Route{Dst: prefixToIPNet(c), Type: unix.RTN_UNREACHABLE, Table: unix.RT_TABLE_MAIN}); err != nil {
				return false, err
			}
			changed = true
		}
	}
	return changed, nil
}

// vpcCIDRs reads the VPC's CIDR blocks back from the router's main table.
func vpcCIDRs(h *netlink.Handle) ([]netip.Prefix, error) {
	rs, err := RetryDump(func() ([]netlink.Route, error) {
		return h.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: unix.RT_TABLE_MAIN, Type: unix.RTN_UNREACHABLE}, netlink.RT_FILTER_TABLE|netlink.RT_FILTER_TYPE)
	})
	if err != nil {
		return nil, err
	}
	var out []netip.Prefix
	for _, r := range rs {
		if p, ok := ipNetToPrefix(r.Dst); ok {
			out = append(out, p)
		}
	}
	return out, nil
}

// bridges lists the subnet IDs (from the bridges' aliases) in a router.
func (n *Network) bridges(h *netlink.Handle) ([]string, error) {
	links, err := RetryDump(h.LinkList)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, l := range links {
		a := l.Attrs()
		if l.Type() == "bridge" && n.names.owns(a.Name) && a.Alias != "" && n.names.Bridge(a.Alias) == a.Name {
			ids = append(ids, a.Alias)
		}
	}
	return ids, nil
}

// ownedLink finds a link by name and checks its alias names id.
func ownedLink(h *netlink.Handle, name, id string) (netlink.Link, error) {
	l, err := h.LinkByName(name)
	if err != nil {
		return nil, err
	}
	if l.Attrs().Alias != id {
		return nil, fmt.Errorf("%w: link %s belongs to %q, not %q (name hash collision)", ErrConflict, name, l.Attrs().Alias, id)
	}
	return l, nil
}

// linkPrefix returns the link's single IPv4 address as a prefix.
func linkPrefix(h *netlink.Handle, l netlink.Link) (netip.Addr, netip.Prefix, error) {
	addrs, err := RetryDump(func() ([]netlink.Addr, error) { return h.AddrList(l, netlink.FAMILY_V4) })
	if err != nil {
		return netip.Addr{}, netip.Prefix{}, err
	}
	for _, a := range addrs {
		if p, ok := ipNetToPrefix(a.IPNet); ok {
			return p.Addr(), p.Masked(), nil
		}
	}
	return netip.Addr{}, netip.Prefix{}, fmt.Errorf("vpcnet: %s has no IPv4 address", l.Attrs().Name)
}

// setOnlyAddr makes want the link's only IPv4 address.
func setOnlyAddr(h *netlink.Handle, l netlink.Link, want netip.Prefix) error {
	addrs, err := RetryDump(func() ([]netlink.Addr, error) { return h.AddrList(l, netlink.FAMILY_V4) })
	if err != nil {
		return err
	}
	have := false
	for _, a := range addrs {
		if p, ok := ipNetToPrefix(a.IPNet); ok && p == want {
			have = true
			continue
		}
		if err := h.AddrDel(l, &a); err != nil && !isNotFound(err) {
			return err
		}
	}
	if !have {
		if err := h.AddrAdd(l, &netlink.Addr{IPNet: addrToIPNet(want.Addr(), want.Bits())}); err != nil && !isExist(err) {
			return err
		}
	}
	return nil
}

// bridgeMAC is a stable locally administered MAC for a subnet's router
// port, so instances' ARP entries for the router never go stale.
func bridgeMAC(subnetID string) net.HardwareAddr {
	sum := sha256.Sum256([]byte("vpcnet-bridge/" + subnetID))
	return net.HardwareAddr{0x02, sum[0], sum[1], sum[2], sum[3], sum[4]}
}

// EnsureSubnet creates the subnet's bridge in the VPC's router namespace with
// the VPC router address (CIDR base + 1), and its routing table. Until
// SetRoutes is called the subnet reaches only its VPC (the local route).
func (n *Network) EnsureSubnet(ctx context.Context, s Subnet) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if err := validID("subnet", s.ID); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if !s.CIDR.IsValid() || !s.CIDR.Addr().Is4() || s.CIDR.Bits() > 28 || s.CIDR.Bits() < 8 {
		return fmt.Errorf("%w: subnet CIDR %s must be IPv4 /8 to /28", ErrInvalid, s.CIDR)
	}
	cidr := s.CIDR.Masked()
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.router(s.VPCID, func(h *netlink.Handle, ns netns.NsHandle) error {
		name := n.names.Bridge(s.ID)
		br, err := ownedLink(h, name, s.ID)
		if isNotFound(err) {
			la := netlink.NewLinkAttrs()
			la.Name = name
			la.MTU = ENIMTU
			la.HardwareAddr = bridgeMAC(s.ID)
			if err := h.LinkAdd(&netlink.Bridge{LinkAttrs: la}); err != nil {
				return fmt.Errorf("vpcnet: add bridge %s: %w", name, err)
			}
			if br, err = h.LinkByName(name); err != nil {
				return err
			}
			if err := h.LinkSetAlias(br, s.ID); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if err := setOnlyAddr(h, br, netip.PrefixFrom(nthAddr(cidr, 1), cidr.Bits())); err != nil {
			return fmt.Errorf("vpcnet: bridge %s address: %w", name, err)
		}
		if err := h.LinkSetUp(br); err != nil {
			return err
		}
		return n.applySubnet(h, s.VPCID, n.state(s.VPCID, ns), s.ID)
	})
}

// DeleteSubnet removes the subnet's bridge, the ENI veths on it, its rule and
// routing table.
func (n *Network) DeleteSubnet(ctx context.Context, vpcID, subnetID string) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	err := n.router(vpcID, func(h *netlink.Handle, ns netns.NsHandle) error {
		vs := n.state(vpcID, ns)
		delete(vs.routes, subnetID)
		hadNAT := len(vs.natSrc[subnetID]) > 0
		delete(vs.natSrc, subnetID)
		br, err := ownedLink(h, n.names.Bridge(subnetID), subnetID)
		if isNotFound(err) {
			return nil
		} else if err != nil {
			return err
		}
		table := tableBase + br.Attrs().Index
		if err := delRules(h, func(r netlink.Rule) bool { return r.Table == table }); err != nil {
			return err
		}
		if err := syncTable(h, table, nil); err != nil {
			return err
		}
		links, err := RetryDump(h.LinkList)
		if err != nil {
			return err
		}
		for _, l := range links {
			if l.Attrs().MasterIndex == br.Attrs().Index {
				if err := h.LinkDel(l); err != nil && !isNotFound(err) {
					return err
				}
			}
		}
		if err := h.LinkDel(br); err != nil && !isNotFound(err) {
			return err
		}
		if hadNAT || vs.natDirty {
			return n.syncNAT(ns, vpcID, vs)
		}
		return nil
	})
	if isNotFoundVPC(err) {
		return nil
	}
	return err
}

// SetRoutes makes routes the subnet's route table (its association). The
// local route is implicit. A route to a gateway that does not exist (yet) is
// installed as a blackhole, like AWS shows it, and is re-resolved when the
// gateway is ensured.
func (n *Network) SetRoutes(ctx context.Context, vpcID, subnetID string, routes []Route) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	for _, r := range routes {
		if !r.Destination.IsValid() {
			return fmt.Errorf("%w: route without destination", ErrInvalid)
		}
		if r.Target == TargetNATGateway && r.NATGatewayID == "" {
			return fmt.Errorf("%w: NAT route to %s without NAT gateway ID", ErrInvalid, r.Destination)
		}
		if r.Target == TargetGatewayEndpoint && r.EndpointID == "" {
			return fmt.Errorf("%w: endpoint route to %s without endpoint ID", ErrInvalid, r.Destination)
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.router(vpcID, func(h *netlink.Handle, ns netns.NsHandle) error {
		vs := n.state(vpcID, ns)
		if _, err := ownedLink(h, n.names.Bridge(subnetID), subnetID); err != nil {
			if isNotFound(err) {
				return fmt.Errorf("%w: %s", ErrSubnetNotFound, subnetID)
			}
			return err
		}
		vs.routes[subnetID] = slices.Clone(routes)
		if vs.routes[subnetID] == nil {
			vs.routes[subnetID] = []Route{}
		}
		if err := n.applySubnet(h, vpcID, vs, subnetID); err != nil {
			return err
		}
		return n.syncNAT(ns, vpcID, vs)
	})
}

// reapplyAll re-resolves every subnet's routes after a gateway change.
func (n *Network) reapplyAll(h *netlink.Handle, ns netns.NsHandle, vpcID string, vs *vpcState) error {
	ids, err := n.bridges(h)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := n.applySubnet(h, vpcID, vs, id); err != nil {
			return err
		}
	}
	return n.syncNAT(ns, vpcID, vs)
}

// applySubnet writes the subnet's routing table and rule from vs.routes (or,
// when this process has not been told the routes, keeps the table's
// non-local routes) and recomputes its NAT-gateway sources. syncNAT must
// follow.
func (n *Network) applySubnet(h *netlink.Handle, vpcID string, vs *vpcState, subnetID string) error {
	br, err := ownedLink(h, n.names.Bridge(subnetID), subnetID)
	if err != nil {
		if isNotFound(err) {
			return fmt.Errorf("%w: %s", ErrSubnetNotFound, subnetID)
		}
		return err
	}
	_, cidr, err := linkPrefix(h, br)
	if err != nil {
		return err
	}
	table := tableBase + br.Attrs().Index
	local, err := vpcCIDRs(h)
	if err != nil {
		return err
	}
	up, _, hostAddr, upErr := n.uplinkInfo(h, vpcID)
	hasUplink := upErr == nil

	desired := map[netip.Prefix]netlink.Route{}
	for _, c := range local {
		desired[c] = netlink.Route{Dst: prefixToIPNet(c), Table: table, Type: unix.RTN_THROW}
	}
	blackhole := func(d netip.Prefix) netlink.Route {
		return netlink.Route{Dst: prefixToIPNet(d), Table: table, Type: unix.RTN_BLACKHOLE}
	}
	via := func(d netip.Prefix) netlink.Route {
		return netlink.Route{Dst: prefixToIPNet(d), Table: table, Type: unix.RTN_UNICAST,
			Gw: net.IP(hostAddr.AsSlice()), LinkIndex: up.Attrs().Index}
	}
	routes, known := vs.routes[subnetID]
	if known {
		var natSrc []natRoute
		for _, r := range routes {
			d := r.Destination.Masked()
			if !d.Addr().Is4() {
				continue
			}
			switch r.Target {
			case TargetLocal:
				continue
			case TargetInternetGateway:
				if hasUplink {
					desired[d] = via(d)
				} else {
					desired[d] = blackhole(d)
				}
			case TargetNATGateway:
				pub, ok := vs.nats[r.NATGatewayID]
				if hasUplink && ok {
					desired[d] = via(d)
					natSrc = append(natSrc, natRoute{subnetID: subnetID, source: cidr, dest: d, natID: r.NATGatewayID, public: pub})
				} else {
					desired[d] = blackhole(d)
				}
			case TargetGatewayEndpoint:
				desired[d] = n.endpointRoute(h, table, d, r.EndpointID)
			default:
				desired[d] = blackhole(d)
			}
		}
		vs.natSrc[subnetID] = natSrc
	} else {
		cur, err := RetryDump(func() ([]netlink.Route, error) {
			return h.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: table}, netlink.RT_FILTER_TABLE)
		})
		if err != nil {
			return err
		}
		for _, r := range cur {
			if p, ok := ipNetToPrefix(r.Dst); ok && r.Type != unix.RTN_THROW {
				desired[p] = netlink.Route{Dst: r.Dst, Table: table, Type: r.Type, Gw: r.Gw, LinkIndex: r.LinkIndex}
			}
		}
	}
	def := netip.MustParsePrefix("0.0.0.0/0")
	if _, ok := desired[def]; !ok {
		// No default route: nothing may fall through to the main table
		// (which knows the gateway link), and, as on AWS, what has no route
		// is dropped silently — a client times out rather than being told
		// the network is unreachable.
		desired[def] = blackhole(def)
	}
	if err := syncTable(h, table, desired); err != nil {
		return fmt.Errorf("vpcnet: subnet %s routes: %w", subnetID, err)
	}
	// The rule: from <subnet> lookup <table>.
	rules, err := RetryDump(func() ([]netlink.Rule, error) { return h.RuleList(netlink.FAMILY_V4) })
	if err != nil {
		return err
	}
	found := false
	for _, r := range rules {
		src, _ := ipNetToPrefix(r.Src)
		mine := r.Table == table || (r.Priority == subnetRulePriority && src == cidr)
		if !mine {
			continue
		}
		if r.Table == table && r.Priority == subnetRulePriority && src == cidr && !found {
			found = true
			continue
		}
		if err := h.RuleDel(&r); err != nil && !isNotFound(err) {
			return err
		}
	}
	if !found {
		r := netlink.NewRule()
		r.Family = netlink.FAMILY_V4
		r.Priority = subnetRulePriority
		r.Src = prefixToIPNet(cidr)
		r.Table = table
		if err := h.RuleAdd(r); err != nil && !isExist(err) {
			return err
		}
	}
	return nil
}

// syncTable makes the routing table's IPv4 routes equal desired.
func syncTable(h *netlink.Handle, table int, desired map[netip.Prefix]netlink.Route) error {
	cur, err := RetryDump(func() ([]netlink.Route, error) {
		return h.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: table}, netlink.RT_FILTER_TABLE)
	})
	if err != nil {
		return err
	}
	have := map[netip.Prefix]bool{}
	for _, r := range cur {
		p, ok := ipNetToPrefix(r.Dst)
		if !ok {
			p = netip.MustParsePrefix("0.0.0.0/0")
		}
		w, want := desired[p]
		if want && w.Type == r.Type && w.LinkIndex == r.LinkIndex && w.Gw.Equal(r.Gw) {
			have[p] = true
			continue
		}
		if err := h.RouteDel(&r); err != nil && !isNotFound(err) {
			return err
		}
	}
	for p, r := range desired {
		if have[p] {
			continue
		}
		if err := h.RouteReplace(&r); err != nil {
			return fmt.Errorf("route %s: %w", p, err)
		}
	}
	return nil
}

func delRules(h *netlink.Handle, match func(netlink.Rule) bool) error {
	rules, err := RetryDump(func() ([]netlink.Rule, error) { return h.RuleList(netlink.FAMILY_V4) })
	if err != nil {
		return err
	}
	for _, r := range rules {
		if match(r) {
			if err := h.RuleDel(&r); err != nil && !isNotFound(err) {
				return err
			}
		}
	}
	return nil
}
