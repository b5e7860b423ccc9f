package vpcnet

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/packet"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// instanceSysctls are set in every instance namespace. The namespace is
// minicloud's, not the guest's (a guest's root is root of its own user
// namespace only, so it cannot touch the namespace's interfaces, routes or
// the security groups' nftables tables): binding a port below 1024 and
// ping's ICMP sockets must not need the capabilities it lacks there.
func instanceSysctls() error {
	for _, kv := range [][2]string{
		{"net.ipv4.ip_unprivileged_port_start", "0"},
		{"net.ipv4.ping_group_range", "0 2147483647"},
	} {
		if err := writeSysctl(kv[0], kv[1]); err != nil {
			return fmt.Errorf("sysctl %s: %w", kv[0], err)
		}
	}
	return nil
}

// CreateInstanceNamespace creates (or finds) the instance's named network
// namespace, Names.InstanceNamespace(id), with loopback up, and returns its
// path under NamespaceDir.
func (n *Network) CreateInstanceNamespace(ctx context.Context, id string) (string, error) {
	if err := checkCtx(ctx); err != nil {
		return "", err
	}
	if err := validID("instance", id); err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	name := n.names.InstanceNamespace(id)
	n.dropLegacy()
	if _, err := ensureNamedNS(name, instanceSysctls); err != nil {
		return "", err
	}
	path := namedPath(name)
	err := withNS(path, func(h *netlink.Handle, _ netns.NsHandle) error {
		lo, err := h.LinkByName("lo")
		if err != nil {
			return err
		}
		return h.LinkSetUp(lo)
	})
	if err != nil {
		return "", fmt.Errorf("vpcnet: instance namespace %s: %w", name, err)
	}
	return path, nil
}

// DeleteInstanceNamespace removes the instance's namespace name and its ENI
// veths. Processes still inside keep the namespace itself alive.
func (n *Network) DeleteInstanceNamespace(ctx context.Context, id string) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if err := validID("instance", id); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return deleteNamedNS(n.names.InstanceNamespace(id))
}

// AttachENI plugs the ENI into the instance namespace (a path, or a name
// under NamespaceDir): a veth pair whose instance end is eth<DeviceIndex> with
// the ENI's MAC and IP (subnet prefix length; device 0 also gets the default
// route via the VPC router, base+1), and whose router end, Names.ENIPort, is a
// port of the subnet's bridge. Re-attaching to another namespace moves it.
func (n *Network) AttachENI(ctx context.Context, e ENI, instanceNetns string) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if err := validID("ENI", e.ID); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if e.DeviceIndex < 0 || e.DeviceIndex > 31 {
		return fmt.Errorf("%w: device index %d", ErrInvalid, e.DeviceIndex)
	}
	if !e.IP.Is4() {
		return fmt.Errorf("%w: ENI IP %s", ErrInvalid, e.IP)
	}
	if e.MAC != nil && len(e.MAC) != 6 {
		return fmt.Errorf("%w: MAC %s", ErrInvalid, e.MAC)
	}
	instPath := namedPath(instanceNetns)
	if !isNamespace(instPath) {
		return fmt.Errorf("%w: %s is not a network namespace", ErrInvalid, instPath)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.router(e.VPCID, func(h *netlink.Handle, _ netns.NsHandle) error {
		br, err := ownedLink(h, n.names.Bridge(e.SubnetID), e.SubnetID)
		if err != nil {
			if isNotFound(err) {
				return fmt.Errorf("%w: %s", ErrSubnetNotFound, e.SubnetID)
			}
			return err
		}
		_, cidr, err := linkPrefix(h, br)
		if err != nil {
			return err
		}
		last := nthAddr(cidr, 1<<(32-cidr.Bits())-1)
		if !cidr.Contains(e.IP) || e.IP.Compare(nthAddr(cidr, 4)) < 0 || e.IP == last {
			return fmt.Errorf("%w: %s is not a usable address of %s", ErrInvalid, e.IP, cidr)
		}
		var mac net.HardwareAddr
		err = withNS(instPath, func(ih *netlink.Handle, ins netns.NsHandle) (err error) {
			mac, err = n.attach(h, ih, ins, br, cidr, e)
			return err
		})
		if err != nil {
			return err
		}
		// Once the port forwards: packets the router holds for the address
		// (a SYN that came before the ENI) go out when the entry is set, and
		// are not lost on a port still down.
		forwarding(h, n.names.ENIPort(e.ID))
		// The router knows the ENI's MAC from the start, as a VPC's mapping
		// service does (AWS answers ARP itself): a packet that reaches the
		// router before the instance is up is not parked behind an ARP
		// request whose retry comes a second later, and a guest claiming
		// another address by ARP does not move the router's traffic.
		if err := h.NeighSet(routerNeigh(br, e.IP, mac)); err != nil {
			return fmt.Errorf("vpcnet: router's neighbour entry for %s: %w", e.IP, err)
		}
		dev := n.names.InstanceDevice(e.DeviceIndex)
		if err := InNamespace(instPath, func() error { return announce(dev, e.IP) }); err != nil {
			return fmt.Errorf("vpcnet: announce %s on %s: %w", e.IP, dev, err)
		}
		return nil
	})
}

// attach makes and plugs the veth pair and returns the instance end's MAC.
func (n *Network) attach(h, ih *netlink.Handle, ins netns.NsHandle, br netlink.Link, cidr netip.Prefix, e ENI) (net.HardwareAddr, error) {
	portName, devName := n.names.ENIPort(e.ID), n.names.InstanceDevice(e.DeviceIndex)
	port, perr := h.LinkByName(portName)
	if perr != nil && !isNotFound(perr) {
		return nil, perr
	}
	if perr == nil && port.Attrs().Alias != e.ID {
		return nil, fmt.Errorf("%w: link %s belongs to %q, not %q", ErrConflict, portName, port.Attrs().Alias, e.ID)
	}
	dev, derr := ih.LinkByName(devName)
	if derr != nil && !isNotFound(derr) {
		return nil, derr
	}
	if derr == nil && dev.Attrs().Alias != e.ID {
		return nil, fmt.Errorf("%w: %s in %s is another interface (%q)", ErrConflict, devName, ins, dev.Attrs().Alias)
	}
	paired := perr == nil && derr == nil && dev.Attrs().ParentIndex == port.Attrs().Index
	if !paired {
		// Stale halves: the port went to another namespace, or the device
		// index changed. Remove and re-create.
		if perr == nil {
			if err := h.LinkDel(port); err != nil && !isNotFound(err) {
				return nil, err
			}
		}
		if derr == nil {
			if err := ih.LinkDel(dev); err != nil && !isNotFound(err) {
				return nil, err
			}
		}
		// An ENI keeps one device: drop any other eth carrying its ID.
		if links, err := RetryDump(ih.LinkList); err == nil {
			for _, l := range links {
				if l.Attrs().Alias == e.ID {
					_ = ih.LinkDel(l)
				}
			}
		}
		la := netlink.NewLinkAttrs()
		la.Name = portName
		la.MTU = ENIMTU
		v := &netlink.Veth{LinkAttrs: la, PeerName: devName, PeerMTU: ENIMTU, PeerTxQLen: -1,
			PeerHardwareAddr: e.MAC, PeerNamespace: netlink.NsFd(int(ins))}
		if err := h.LinkAdd(v); err != nil {
			return nil, fmt.Errorf("vpcnet: add ENI veth %s: %w", portName, err)
		}
		var err error
		if port, err = h.LinkByName(portName); err != nil {
			return nil, err
		}
		if err := h.LinkSetAlias(port, e.ID); err != nil {
			_ = h.LinkDel(port)
			return nil, err
		}
		if dev, err = ih.LinkByName(devName); err != nil {
			_ = h.LinkDel(port)
			return nil, err
		}
		if err := ih.LinkSetAlias(dev, e.ID); err != nil {
			_ = h.LinkDel(port)
			return nil, err
		}
	}
	if port.Attrs().MasterIndex != br.Attrs().Index {
		if err := h.LinkSetMaster(port, br); err != nil {
			return nil, err
		}
	}
	if err := h.LinkSetUp(port); err != nil {
		return nil, err
	}
	if e.MAC != nil && !bytes.Equal(dev.Attrs().HardwareAddr, e.MAC) {
		if err := ih.LinkSetHardwareAddr(dev, e.MAC); err != nil {
			return nil, err
		}
	}
	if err := setOnlyAddr(ih, dev, netip.PrefixFrom(e.IP, cidr.Bits())); err != nil {
		return nil, fmt.Errorf("vpcnet: address %s: %w", devName, err)
	}
	if err := ih.LinkSetUp(dev); err != nil {
		return nil, err
	}
	if e.DeviceIndex == 0 {
		gw := nthAddr(cidr, 1)
		if err := ih.RouteReplace(&netlink.Route{LinkIndex: dev.Attrs().Index, Gw: net.IP(gw.AsSlice()),
			Dst: prefixToIPNet(netip.MustParsePrefix("0.0.0.0/0"))}); err != nil {
			return nil, fmt.Errorf("vpcnet: default route in instance: %w", err)
		}
	}
	if e.MAC != nil {
		return e.MAC, nil
	}
	return dev.Attrs().HardwareAddr, nil
}

// routerNeigh is the router's permanent neighbour entry for an ENI's address.
func routerNeigh(br netlink.Link, ip netip.Addr, mac net.HardwareAddr) *netlink.Neigh {
	return &netlink.Neigh{LinkIndex: br.Attrs().Index, Family: netlink.FAMILY_V4, State: netlink.NUD_PERMANENT,
		IP: net.IP(ip.AsSlice()), HardwareAddr: mac}
}

// forwarding waits, briefly, for the bridge port named port to carry
// traffic: the kernel enables it (with its operational state) on the carrier
// event the veth's second end coming up queues. The wait is bounded, and
// its outcome only decides whether an announcement is heard.
func forwarding(h *netlink.Handle, port string) {
	for i := 0; i < 100; i++ {
		l, err := h.LinkByName(port)
		if err != nil || l.Attrs().OperState == netlink.OperUp {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// announce sends a gratuitous ARP for ip from the device named dev of the
// current thread's namespace: the neighbours in the subnet that still cache
// the MAC of the ENI that had the address before (EC2 hands out the lowest
// free one, so that is common) learn the new one now, not after their cache
// entry has gone stale and failed its probes — in a VPC, delivery follows
// the address. The kernel's own (arp_notify) would go out before the bridge
// port forwards, and be lost.
func announce(dev string, ip netip.Addr) error {
	ifi, err := net.InterfaceByName(dev)
	if err != nil {
		return err
	}
	p, err := arp.NewPacket(arp.OperationRequest, ifi.HardwareAddr, ip, ethernet.Broadcast, ip)
	if err != nil {
		return err
	}
	pb, err := p.MarshalBinary()
	if err != nil {
		return err
	}
	f, err := (&ethernet.Frame{Destination: ethernet.Broadcast, Source: ifi.HardwareAddr,
		EtherType: ethernet.EtherTypeARP, Payload: pb}).MarshalBinary()
	if err != nil {
		return err
	}
	c, err := packet.Listen(ifi, packet.Raw, int(ethernet.EtherTypeARP), nil)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.WriteTo(f, &packet.Addr{HardwareAddr: ethernet.Broadcast})
	return err
}

// DetachENI removes the ENI's veth pair (both ends) and the router's
// neighbour entry for its address (only while it still names the ENI's MAC:
// the address may already be another ENI's). e needs VPCID and ID; SubnetID,
// IP and MAC find the neighbour entry.
func (n *Network) DetachENI(ctx context.Context, e ENI) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	err := n.router(e.VPCID, func(h *netlink.Handle, _ netns.NsHandle) error {
		if err := forgetNeigh(h, n.names.Bridge(e.SubnetID), e); err != nil {
			return err
		}
		port, err := ownedLink(h, n.names.ENIPort(e.ID), e.ID)
		if isNotFound(err) {
			return nil
		} else if err != nil {
			return err
		}
		if err := h.LinkDel(port); err != nil && !isNotFound(err) {
			return err
		}
		return nil
	})
	if isNotFoundVPC(err) {
		return nil
	}
	return err
}

// forgetNeigh deletes the router's entry for e's address on the bridge
// named brName if it carries e's MAC (any MAC when e's is unknown).
func forgetNeigh(h *netlink.Handle, brName string, e ENI) error {
	if e.SubnetID == "" || !e.IP.Is4() {
		return nil
	}
	br, err := h.LinkByName(brName)
	if isNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	ns, err := RetryDump(func() ([]netlink.Neigh, error) { return h.NeighList(br.Attrs().Index, netlink.FAMILY_V4) })
	if err != nil {
		return fmt.Errorf("vpcnet: neighbours of %s: %w", brName, err)
	}
	for _, nb := range ns {
		ip, ok := netip.AddrFromSlice(nb.IP)
		if !ok || ip.Unmap() != e.IP || (e.MAC != nil && !bytes.Equal(nb.HardwareAddr, e.MAC)) {
			continue
		}
		if err := h.NeighDel(&nb); err != nil && !isNotFound(err) {
			return fmt.Errorf("vpcnet: forget neighbour %s: %w", e.IP, err)
		}
	}
	return nil
}
