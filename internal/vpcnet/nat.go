package vpcnet

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// NAT lives in one nftables table (family ip, Names.NATTable) per router
// namespace, rewritten whole in one transaction on every change (conntrack
// keeps established translations). Each rule's comment records what it is
// for, which is how a restarted process recovers mappings and NAT gateways.
//
//	chain prerouting  (nat, prerouting, dstnat):
//	    iifname <uplink> ip daddr <public> dnat to <private>      # eip
//	chain postrouting (nat, postrouting, srcnat):
//	    oifname <uplink> ip saddr <subnet> [ip daddr <dest>] snat to <nat public>  # nat, longest dest first
//	    oifname <uplink> ip saddr <private> snat to <public>      # eip
//	chain igw-egress  (filter, postrouting, 300):
//	    oifname <uplink> ip saddr != 169.254.64.0/18 ct status & (snat|dnat) == 0 drop
//
// The egress rule is the internet gateway's nature, not a security group:
// an address without a public IP (or NAT) cannot leave the VPC.

const (
	chainPre    = "prerouting"
	chainPost   = "postrouting"
	chainEgress = "igw-egress"

	ctStatusSrcNAT = 1 << 4 // IPS_SRC_NAT
	ctStatusDstNAT = 1 << 5 // IPS_DST_NAT
)

func (n *Network) natTable() *nftables.Table {
	return &nftables.Table{Family: nftables.TableFamilyIPv4, Name: n.names.NATTable()}
}

// syncNAT rewrites the VPC's NAT table from vs and records in vs.natDirty
// whether that failed.
func (n *Network) syncNAT(ns netns.NsHandle, vpcID string, vs *vpcState) error {
	err := n.writeNAT(ns, vpcID, vs)
	vs.natDirty = err != nil
	return err
}

func (n *Network) writeNAT(ns netns.NsHandle, vpcID string, vs *vpcState) error {
	c, err := nftables.New(nftables.WithNetNSFd(int(ns)))
	if err != nil {
		return fmt.Errorf("vpcnet: nftables: %w", err)
	}
	up := n.names.Uplink(vpcID)
	t := n.natTable()
	c.AddTable(t)
	c.DelTable(t)
	c.AddTable(t)
	accept := nftables.ChainPolicyAccept
	pre := c.AddChain(&nftables.Chain{Name: chainPre, Table: t, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityNATDest, Policy: &accept})
	post := c.AddChain(&nftables.Chain{Name: chainPost, Table: t, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource, Policy: &accept})
	egress := c.AddChain(&nftables.Chain{Name: chainEgress, Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityRef(300), Policy: &accept})

	// NAT gateway sources first: a subnet routed to a NAT gateway leaves
	// through it even if an instance in it has a public IP.
	var nats []natRoute
	for _, rs := range vs.natSrc {
		nats = append(nats, rs...)
	}
	slices.SortFunc(nats, func(a, b natRoute) int {
		if c := cmp.Compare(b.dest.Bits(), a.dest.Bits()); c != 0 {
			return c
		}
		return strings.Compare(a.subnetID, b.subnetID)
	})
	for _, r := range nats {
		e := matchIf(expr.MetaKeyOIFNAME, up)
		e = append(e, matchAddr(12, r.source, false)...)
		if r.dest.Bits() > 0 {
			e = append(e, matchAddr(16, r.dest, false)...)
		}
		e = append(e, natTo(expr.NATTypeSourceNAT, r.public)...)
		c.AddRule(&nftables.Rule{Table: t, Chain: post, Exprs: e,
			UserData: comment("nat", r.subnetID, r.source.String(), r.dest.String(), r.natID, r.public.String())})
	}
	pubs := make([]netip.Addr, 0, len(vs.mappings))
	for p := range vs.mappings {
		pubs = append(pubs, p)
	}
	slices.SortFunc(pubs, netip.Addr.Compare)
	for _, pub := range pubs {
		priv := vs.mappings[pub]
		ud := comment("eip", pub.String(), priv.String())
		e := matchIf(expr.MetaKeyIIFNAME, up)
		e = append(e, matchAddr(16, netip.PrefixFrom(pub, 32), false)...)
		e = append(e, natTo(expr.NATTypeDestNAT, priv)...)
		c.AddRule(&nftables.Rule{Table: t, Chain: pre, Exprs: e, UserData: ud})
		e = matchIf(expr.MetaKeyOIFNAME, up)
		e = append(e, matchAddr(12, netip.PrefixFrom(priv, 32), false)...)
		e = append(e, natTo(expr.NATTypeSourceNAT, pub)...)
		c.AddRule(&nftables.Rule{Table: t, Chain: post, Exprs: e, UserData: ud})
	}
	e := matchIf(expr.MetaKeyOIFNAME, up)
	e = append(e, matchAddr(12, LinkNetwork, true)...)
	e = append(e,
		&expr.Ct{Register: 1, Key: expr.CtKeySTATUS},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(ctStatusSrcNAT | ctStatusDstNAT), Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: make([]byte, 4)},
		&expr.Verdict{Kind: expr.VerdictDrop},
	)
	c.AddRule(&nftables.Rule{Table: t, Chain: egress, Exprs: e, UserData: comment("igw-egress")})
	if err := c.Flush(); err != nil {
		return fmt.Errorf("vpcnet: write NAT table for %s: %w", vpcID, err)
	}
	return nil
}

// loadNAT recovers mappings and NAT-gateway sources from an existing table.
func (n *Network) loadNAT(ns netns.NsHandle, vs *vpcState) error {
	c, err := nftables.New(nftables.WithNetNSFd(int(ns)))
	if err != nil {
		return err
	}
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return err
	}
	t := n.natTable()
	if !slices.ContainsFunc(tables, func(x *nftables.Table) bool { return x.Name == t.Name }) {
		return nil
	}
	rules, err := c.GetRules(t, &nftables.Chain{Name: chainPost, Table: t})
	if err != nil {
		return err
	}
	for _, r := range rules {
		s, _ := userdata.GetString(r.UserData, userdata.TypeComment)
		f := strings.Fields(s)
		switch {
		case len(f) == 3 && f[0] == "eip":
			pub, e1 := netip.ParseAddr(f[1])
			priv, e2 := netip.ParseAddr(f[2])
			if e1 == nil && e2 == nil {
				vs.mappings[pub] = priv
			}
		case len(f) == 6 && f[0] == "nat":
			src, e1 := netip.ParsePrefix(f[2])
			dst, e2 := netip.ParsePrefix(f[3])
			pub, e3 := netip.ParseAddr(f[5])
			if e1 == nil && e2 == nil && e3 == nil {
				vs.natSrc[f[1]] = append(vs.natSrc[f[1]], natRoute{subnetID: f[1], source: src, dest: dst, natID: f[4], public: pub})
				vs.nats[f[4]] = pub
			}
		}
	}
	return nil
}

func comment(fields ...string) []byte {
	return userdata.AppendString(nil, userdata.TypeComment, strings.Join(fields, " "))
}

func ifname(s string) []byte {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, s)
	return b
}

func matchIf(key expr.MetaKey, name string) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: key, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ifname(name)},
	}
}

// matchAddr matches the IPv4 address at offset (12 source, 16 destination)
// against p, or its complement.
func matchAddr(offset uint32, p netip.Prefix, negate bool) []expr.Any {
	p = p.Masked()
	a := p.Addr().As4()
	e := []expr.Any{&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 4}}
	if p.Bits() < 32 {
		m := netip.PrefixFrom(netip.IPv4Unspecified(), 0).Addr().As4()
		for i := 0; i < p.Bits(); i++ {
			m[i/8] |= 0x80 >> (i % 8)
		}
		e = append(e, &expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: m[:], Xor: make([]byte, 4)})
	}
	op := expr.CmpOpEq
	if negate {
		op = expr.CmpOpNeq
	}
	return append(e, &expr.Cmp{Op: op, Register: 1, Data: a[:]})
}

func natTo(typ expr.NATType, a netip.Addr) []expr.Any {
	b := a.As4()
	return []expr.Any{
		&expr.Immediate{Register: 1, Data: b[:]},
		&expr.NAT{Type: typ, Family: unix.NFPROTO_IPV4, RegAddrMin: 1},
	}
}
