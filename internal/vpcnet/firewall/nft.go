package firewall

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"
)

// nftTable returns the netlink table of a ruleset name.
func nftTable(name string) *nftables.Table {
	return &nftables.Table{Name: name, Family: nftables.TableFamilyINet}
}

func nftSet(t *nftables.Table, s *Set) *nftables.Set {
	typ := nftables.TypeIPAddr
	if s.IPv6 {
		typ = nftables.TypeIP6Addr
	}
	return &nftables.Set{Table: t, Name: s.Name, KeyType: typ, Interval: true}
}

// queueRebuild queues, on c, the replacement of the whole table by rs:
// "add table; delete table; add table; sets; chains; rules". Flushed as one
// batch, the kernel applies it as one transaction: packets see either the
// old or the new ruleset, never a mix, and conntrack entries (established
// flows) are untouched. When the table does not exist (exists false: a new
// ENI's namespace) the delete is left out: a transaction that deletes
// anything waits for an RCU grace period (10–20 ms here), which is most of
// an instance's wait for its security groups.
func queueRebuild(c *nftables.Conn, rs *Ruleset, exists bool) error {
	t := nftTable(rs.Table)
	if exists {
		c.AddTable(t)
		c.DelTable(t)
	}
	c.AddTable(t)
	sets := map[string]*nftables.Set{}
	for i := range rs.Sets {
		s := nftSet(t, &rs.Sets[i])
		if err := c.AddSet(s, setElements(rs.Sets[i].Elems)); err != nil {
			return err
		}
		sets[s.Name] = s
	}
	chains := map[string]*nftables.Chain{}
	for _, ch := range rs.Chains {
		nc := &nftables.Chain{Name: ch.Name, Table: t}
		if ch.Hook != HookNone {
			accept := nftables.ChainPolicyAccept
			nc.Type = nftables.ChainTypeFilter
			nc.Priority = nftables.ChainPriorityFilter
			nc.Policy = &accept
			switch ch.Hook {
			case HookInput:
				nc.Hooknum = nftables.ChainHookInput
			case HookForward:
				nc.Hooknum = nftables.ChainHookForward
			case HookOutput:
				nc.Hooknum = nftables.ChainHookOutput
			default:
				return fmt.Errorf("firewall: unknown hook %q", ch.Hook)
			}
		}
		chains[ch.Name] = c.AddChain(nc)
	}
	for _, ch := range rs.Chains {
		for _, rl := range ch.Rules {
			ex, err := ruleExprs(&rl, sets)
			if err != nil {
				return err
			}
			r := &nftables.Rule{Table: t, Chain: chains[ch.Name], Exprs: ex}
			if rl.Comment != "" {
				r.UserData = userdata.AppendString(nil, userdata.TypeComment, rl.Comment)
			}
			c.AddRule(r)
		}
	}
	return nil
}

// queueElements queues, on c, the replacement of the contents of every set
// of rs whose elements differ from old (same shape): flush set, add
// elements. One batch, one transaction.
func queueElements(c *nftables.Conn, old, rs *Ruleset) (int, error) {
	t := nftTable(rs.Table)
	n := 0
	for i := range rs.Sets {
		s := &rs.Sets[i]
		if o := old.set(s.Name); o != nil && equalPrefixes(o.Elems, s.Elems) {
			continue
		}
		ns := nftSet(t, s)
		c.FlushSet(ns)
		if len(s.Elems) > 0 {
			if err := c.SetAddElements(ns, setElements(s.Elems)); err != nil {
				return 0, err
			}
		}
		n++
	}
	return n, nil
}

func equalPrefixes(a, b []netip.Prefix) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// addrRange is an inclusive address range.
type addrRange struct{ lo, hi netip.Addr }

// mergeRanges turns prefixes of one family into sorted, disjoint,
// non-adjacent ranges: the kernel rejects overlapping interval elements
// (nft merges them in user space; we must too).
func mergeRanges(ps []netip.Prefix) []addrRange {
	var rs []addrRange
	for _, p := range ps {
		p = p.Masked()
		rs = append(rs, addrRange{p.Addr(), lastAddr(p)})
	}
	for i := 1; i < len(rs); i++ { // insertion sort by lo; sets are small
		for j := i; j > 0 && rs[j].lo.Less(rs[j-1].lo); j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
	var out []addrRange
	for _, r := range rs {
		if n := len(out); n > 0 {
			cur := &out[n-1]
			next := cur.hi.Next()
			if !next.IsValid() || r.lo.Compare(next) <= 0 {
				if r.hi.Compare(cur.hi) > 0 {
					cur.hi = r.hi
				}
				continue
			}
		}
		out = append(out, r)
	}
	return out
}

// lastAddr is the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr()
	b := a.AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	out, _ := netip.AddrFromSlice(b)
	return out
}

// setElements encodes prefixes as interval-set elements: for each merged
// range its start, and the address after its end flagged interval-end
// (omitted when the range runs to the top of the address space).
func setElements(ps []netip.Prefix) []nftables.SetElement {
	var els []nftables.SetElement
	for _, r := range mergeRanges(ps) {
		els = append(els, nftables.SetElement{Key: r.lo.AsSlice()})
		if end := r.hi.Next(); end.IsValid() {
			els = append(els, nftables.SetElement{Key: end.AsSlice(), IntervalEnd: true})
		}
	}
	return els
}

// ifname encodes an interface name as meta iifname/oifname compares it.
func ifname(n string) []byte {
	b := make([]byte, 16)
	copy(b, n)
	return b
}

func be16(v int) []byte {
	b := make([]byte, 2)
	binary.BigEndian.PutUint16(b, uint16(v))
	return b
}

// ruleExprs translates one IR rule into nftables expressions, in the order
// Rule.String prints its matches.
func ruleExprs(rl *Rule, sets map[string]*nftables.Set) ([]expr.Any, error) {
	var ex []expr.Any
	cmpEq := func(data []byte) expr.Any { return &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: data} }
	if rl.IIF != "" {
		ex = append(ex, &expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1}, cmpEq(ifname(rl.IIF)))
	}
	if rl.OIF != "" {
		ex = append(ex, &expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1}, cmpEq(ifname(rl.OIF)))
	}
	if rl.CtEstRel {
		ex = append(ex,
			&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
				Mask: binaryutil.NativeEndian.PutUint32(expr.CtStateBitESTABLISHED | expr.CtStateBitRELATED),
				Xor:  binaryutil.NativeEndian.PutUint32(0)},
			&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(0)})
	}
	// Address offsets in the network header: IPv4 saddr 12 / daddr 16,
	// IPv6 saddr 8 / daddr 24.
	var srcOff, dstOff, alen uint32
	switch rl.Family {
	case 4:
		ex = append(ex, &expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1}, cmpEq([]byte{unix.NFPROTO_IPV4}))
		srcOff, dstOff, alen = 12, 16, 4
	case 6:
		ex = append(ex, &expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1}, cmpEq([]byte{unix.NFPROTO_IPV6}))
		srcOff, dstOff, alen = 8, 24, 16
	}
	needFam := rl.Src.IsValid() || rl.Dst.IsValid() || rl.SrcSet != "" || rl.DstSet != ""
	if needFam && rl.Family == 0 {
		return nil, fmt.Errorf("firewall: address match without family in %q", rl.String())
	}
	if rl.Proto >= 0 {
		ex = append(ex, &expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1}, cmpEq([]byte{byte(rl.Proto)}))
	}
	prefix := func(p netip.Prefix, off uint32) error {
		if !p.IsValid() || p.Bits() == 0 {
			return nil
		}
		if int(alen) != p.Addr().BitLen()/8 {
			return fmt.Errorf("firewall: prefix %v does not match family %d", p, rl.Family)
		}
		ex = append(ex, &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: alen})
		if p.Bits() < p.Addr().BitLen() {
			mask := make([]byte, alen)
			for i := 0; i < p.Bits(); i++ {
				mask[i/8] |= 0x80 >> (i % 8)
			}
			ex = append(ex, &expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: alen, Mask: mask, Xor: make([]byte, alen)})
		}
		ex = append(ex, cmpEq(p.Masked().Addr().AsSlice()))
		return nil
	}
	if err := prefix(rl.Src, srcOff); err != nil {
		return nil, err
	}
	if err := prefix(rl.Dst, dstOff); err != nil {
		return nil, err
	}
	lookup := func(name string, off uint32) error {
		if name == "" {
			return nil
		}
		s, ok := sets[name]
		if !ok {
			return fmt.Errorf("firewall: unknown set %q", name)
		}
		ex = append(ex,
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: alen},
			&expr.Lookup{SourceRegister: 1, SetName: s.Name, SetID: s.ID})
		return nil
	}
	if err := lookup(rl.SrcSet, srcOff); err != nil {
		return nil, err
	}
	if err := lookup(rl.DstSet, dstOff); err != nil {
		return nil, err
	}
	if rl.DPortFrom >= 0 {
		ex = append(ex, &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2})
		if rl.DPortFrom == rl.DPortTo {
			ex = append(ex, cmpEq(be16(rl.DPortFrom)))
		} else {
			ex = append(ex,
				&expr.Cmp{Op: expr.CmpOpGte, Register: 1, Data: be16(rl.DPortFrom)},
				&expr.Cmp{Op: expr.CmpOpLte, Register: 1, Data: be16(rl.DPortTo)})
		}
	}
	if rl.ICMPType >= 0 {
		ex = append(ex, &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 1}, cmpEq([]byte{byte(rl.ICMPType)}))
	}
	if rl.ICMPCode >= 0 {
		ex = append(ex, &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 1, Len: 1}, cmpEq([]byte{byte(rl.ICMPCode)}))
	}
	if rl.Counter {
		ex = append(ex, &expr.Counter{})
	}
	switch rl.Verdict {
	case Accept:
		ex = append(ex, &expr.Verdict{Kind: expr.VerdictAccept})
	case Drop:
		ex = append(ex, &expr.Verdict{Kind: expr.VerdictDrop})
	case Return:
		ex = append(ex, &expr.Verdict{Kind: expr.VerdictReturn})
	case Jump:
		ex = append(ex, &expr.Verdict{Kind: expr.VerdictJump, Chain: rl.Target})
	default:
		return nil, fmt.Errorf("firewall: unknown verdict %q", rl.Verdict)
	}
	return ex, nil
}
