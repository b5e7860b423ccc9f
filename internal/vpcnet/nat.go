package vpcnet

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
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
// namespace. Each NAT rule's comment records what it is for, and the public
// IP mappings are the elements of two maps, which is how a restarted
// process recovers mappings and NAT gateways.
//
//	map eip-dnat { ipv4_addr : ipv4_addr }   # public → private
//	map eip-snat { ipv4_addr : ipv4_addr }   # private → public
//	chain prerouting  (nat, prerouting, dstnat):
//	    iifname <uplink> dnat to ip daddr map @eip-dnat
//	chain postrouting (nat, postrouting, srcnat):
//	    oifname <uplink> ip saddr <subnet> [ip daddr <dest>] snat to <nat public>  # nat, longest dest first
//	    oifname <uplink> snat to ip saddr map @eip-snat
//	chain igw-egress  (filter, postrouting, 300):
//	    oifname <uplink> ip saddr != 169.254.64.0/18 ct status & (snat|dnat) == 0 drop
//
// The egress rule is the internet gateway's nature, not a security group:
// an address without a public IP (or NAT) cannot leave the VPC.
//
// A public IP mapped or unmapped changes only the maps' elements; the table
// is rebuilt (in one transaction, conntrack keeping established
// translations) only when the NAT gateways' rules change, on the first
// write of a process, or to repair it. That matters for time: an nftables
// transaction that deletes anything (a rule, an element, a table) waits for
// an RCU grace period, 10–20 ms on this kind of machine, and rebuilding
// meant one for every instance launched. Adding elements does not wait, and
// the deletions of a release are off a new instance's path.

const (
	chainPre    = "prerouting"
	chainPost   = "postrouting"
	chainEgress = "igw-egress"
	mapDNAT     = "eip-dnat"
	mapSNAT     = "eip-snat"

	ctStatusSrcNAT = 1 << 4 // IPS_SRC_NAT
	ctStatusDstNAT = 1 << 5 // IPS_DST_NAT
)

func (n *Network) natTable() *nftables.Table {
	return &nftables.Table{Family: nftables.TableFamilyIPv4, Name: n.names.NATTable()}
}

func eipMap(t *nftables.Table, name string) *nftables.Set {
	return &nftables.Set{Table: t, Name: name, KeyType: nftables.TypeIPAddr, DataType: nftables.TypeIPAddr, IsMap: true}
}

// syncNAT makes the VPC's NAT table match vs — by element updates when the
// table this process built is there with the same rules, else by
// rebuilding it — and records in vs.natDirty whether that failed.
func (n *Network) syncNAT(ns netns.NsHandle, vpcID string, vs *vpcState) error {
	rules := natRulesKey(n.names.Uplink(vpcID), vs)
	err := errNATRebuild
	if vs.natApplied != nil && !vs.natDirty && vs.natRules == rules {
		err = n.updateNATMaps(ns, vs)
	}
	if err != nil {
		err = n.writeNAT(ns, vpcID, vs)
		if err == nil {
			vs.natRules = rules
		}
	}
	vs.natDirty = err != nil
	if err != nil {
		vs.natApplied = nil
	}
	return err
}

// errNATRebuild asks syncNAT to rebuild the table.
var errNATRebuild = errors.New("vpcnet: NAT table to rebuild")

// natRulesKey is what the table's rules depend on besides the maps.
func natRulesKey(uplink string, vs *vpcState) string {
	var b strings.Builder
	b.WriteString(uplink)
	for _, r := range sortedNATRoutes(vs) {
		fmt.Fprintf(&b, "|%s %s %s %s %s", r.subnetID, r.source, r.dest, r.natID, r.public)
	}
	return b.String()
}

// sortedNATRoutes are the NAT-gateway sources, longest destination first
// (a subnet routed to a NAT gateway leaves through it even if an instance
// in it has a public IP: these rules come before the map's).
func sortedNATRoutes(vs *vpcState) []natRoute {
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
	return nats
}

// updateNATMaps brings the maps from vs.natApplied to vs.mappings in one
// transaction; with nothing to change it checks that the table is still
// there (errNATRebuild if not).
func (n *Network) updateNATMaps(ns netns.NsHandle, vs *vpcState) error {
	c, err := nftables.New(nftables.WithNetNSFd(int(ns)))
	if err != nil {
		return fmt.Errorf("vpcnet: nftables: %w", err)
	}
	t := n.natTable()
	changed := false
	for _, m := range []struct {
		set       *nftables.Set
		was, want map[netip.Addr]netip.Addr
	}{
		{eipMap(t, mapDNAT), vs.natApplied, vs.mappings},
		{eipMap(t, mapSNAT), snatOf(vs.natApplied), snatOf(vs.mappings)},
	} {
		var del, add []nftables.SetElement
		for k, v := range m.was {
			if now, ok := m.want[k]; !ok || now != v {
				del = append(del, nftables.SetElement{Key: k.AsSlice()})
			}
		}
		for k, v := range m.want {
			if was, ok := m.was[k]; !ok || was != v {
				add = append(add, nftables.SetElement{Key: k.AsSlice(), Val: v.AsSlice()})
			}
		}
		if len(del) > 0 {
			if err := c.SetDeleteElements(m.set, del); err != nil {
				return err
			}
		}
		if len(add) > 0 {
			if err := c.SetAddElements(m.set, add); err != nil {
				return err
			}
		}
		changed = changed || len(del)+len(add) > 0
	}
	if !changed {
		if _, err := c.ListTableOfFamily(t.Name, t.Family); err != nil {
			return errNATRebuild
		}
		return nil
	}
	if err := c.Flush(); err != nil {
		return err
	}
	vs.natApplied = maps.Clone(vs.mappings)
	return nil
}

// snatOf is the source-NAT map of mappings (public → private): private →
// public, the lowest public address winning should two share a private one.
func snatOf(mappings map[netip.Addr]netip.Addr) map[netip.Addr]netip.Addr {
	out := make(map[netip.Addr]netip.Addr, len(mappings))
	for pub, priv := range mappings {
		if cur, ok := out[priv]; !ok || pub.Less(cur) {
			out[priv] = pub
		}
	}
	return out
}

// writeNAT replaces the whole table (the delete is left out when there is
// no table: it would cost a grace period for nothing).
func (n *Network) writeNAT(ns netns.NsHandle, vpcID string, vs *vpcState) error {
	c, err := nftables.New(nftables.WithNetNSFd(int(ns)))
	if err != nil {
		return fmt.Errorf("vpcnet: nftables: %w", err)
	}
	up := n.names.Uplink(vpcID)
	t := n.natTable()
	if _, err := c.ListTableOfFamily(t.Name, t.Family); !errors.Is(err, unix.ENOENT) {
		c.AddTable(t)
		c.DelTable(t)
	}
	c.AddTable(t)
	var dElems, sElems []nftables.SetElement
	for pub, priv := range vs.mappings {
		dElems = append(dElems, nftables.SetElement{Key: pub.AsSlice(), Val: priv.AsSlice()})
	}
	for priv, pub := range snatOf(vs.mappings) {
		sElems = append(sElems, nftables.SetElement{Key: priv.AsSlice(), Val: pub.AsSlice()})
	}
	dnat, snat := eipMap(t, mapDNAT), eipMap(t, mapSNAT)
	if err := c.AddSet(dnat, dElems); err != nil {
		return fmt.Errorf("vpcnet: NAT map: %w", err)
	}
	if err := c.AddSet(snat, sElems); err != nil {
		return fmt.Errorf("vpcnet: NAT map: %w", err)
	}
	accept := nftables.ChainPolicyAccept
	pre := c.AddChain(&nftables.Chain{Name: chainPre, Table: t, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityNATDest, Policy: &accept})
	post := c.AddChain(&nftables.Chain{Name: chainPost, Table: t, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource, Policy: &accept})
	egress := c.AddChain(&nftables.Chain{Name: chainEgress, Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityRef(300), Policy: &accept})

	for _, r := range sortedNATRoutes(vs) {
		e := matchIf(expr.MetaKeyOIFNAME, up)
		e = append(e, matchAddr(12, r.source, false)...)
		if r.dest.Bits() > 0 {
			e = append(e, matchAddr(16, r.dest, false)...)
		}
		e = append(e, natTo(expr.NATTypeSourceNAT, r.public)...)
		c.AddRule(&nftables.Rule{Table: t, Chain: post, Exprs: e,
			UserData: comment("nat", r.subnetID, r.source.String(), r.dest.String(), r.natID, r.public.String())})
	}
	c.AddRule(&nftables.Rule{Table: t, Chain: pre, UserData: comment("eip-map"),
		Exprs: append(matchIf(expr.MetaKeyIIFNAME, up), natByMap(expr.NATTypeDestNAT, 16, dnat)...)})
	c.AddRule(&nftables.Rule{Table: t, Chain: post, UserData: comment("eip-map"),
		Exprs: append(matchIf(expr.MetaKeyOIFNAME, up), natByMap(expr.NATTypeSourceNAT, 12, snat)...)})
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
	vs.natApplied = maps.Clone(vs.mappings)
	return nil
}

// natByMap translates the address at offset (16 destination, 12 source)
// through map m; an address not in it leaves the rule unmatched.
func natByMap(typ expr.NATType, offset uint32, m *nftables.Set) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 4},
		&expr.Lookup{SourceRegister: 1, DestRegister: 1, IsDestRegSet: true, SetName: m.Name, SetID: m.ID},
		&expr.NAT{Type: typ, Family: unix.NFPROTO_IPV4, RegAddrMin: 1},
	}
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
	if elems, err := c.GetSetElements(eipMap(t, mapDNAT)); err == nil {
		for _, el := range elems {
			pub, ok1 := netip.AddrFromSlice(el.Key)
			priv, ok2 := netip.AddrFromSlice(el.Val)
			if ok1 && ok2 {
				vs.mappings[pub.Unmap()] = priv.Unmap()
			}
		}
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
