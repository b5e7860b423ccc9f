package firewall

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Chain names inside the tables.
const (
	chainIngress  = "ingress"  // SG: traffic entering the ENI
	chainEgress   = "egress"   // SG: traffic leaving the ENI
	chainInbound  = "inbound"  // NACL: traffic entering the subnet
	chainOutbound = "outbound" // NACL: traffic leaving the subnet
)

// ndpTypes are the ICMPv6 neighbour-discovery types (router/neighbour
// solicitation and advertisement) an ENI always exchanges: AWS's VPC
// fabric answers them outside security groups, here the peers must.
var ndpTypes = []int{133, 134, 135, 136}

// ENITable is the name of the table holding the security groups of iface.
func (f *Firewall) ENITable(iface string) string { return f.prefix + "sg-" + iface }

// ACLTable is the name of the table holding the network ACL of a bridge.
func (f *Firewall) ACLTable(bridge string) string { return f.prefix + "acl-" + bridge }

// CompileENI compiles the union of groups into the table enforcing them on
// iface. It has no side effects.
//
// Layout: base chains input (iifname iface → ingress), output (oifname
// iface → egress) and forward (both, for an ENI that routes); the regular
// chains ingress/egress start with "ct state established,related", then
// the exemptions, then one rule per (SG rule, address family) looking the
// remote address up in a named interval set; they end with "counter drop".
// Allowing verdicts are "return" rather than "accept": the base chains have
// policy accept, so for input and output return is accept, while a packet
// the instance forwards in and out of the same ENI still meets the egress
// rules after passing the ingress ones.
func (f *Firewall) CompileENI(iface string, groups []SecurityGroup) (*Ruleset, error) {
	if err := checkIfName(iface); err != nil {
		return nil, err
	}
	rs := &Ruleset{Table: f.ENITable(iface)}
	x4, x6 := splitFamilies(f.Exempt, nil)
	rs.Sets = append(rs.Sets, Set{Name: "x_4", Elems: x4}, Set{Name: "x_6", IPv6: true, Elems: x6})
	for _, egress := range []bool{false, true} {
		name, letter := chainIngress, "i"
		if egress {
			name, letter = chainEgress, "e"
		}
		c := Chain{Name: name}
		est := NewRule(Return)
		est.CtEstRel = true
		est.Comment = "stateful: replies and related traffic"
		c.Rules = append(c.Rules, est)
		for _, fam := range []int{4, 6} {
			r := NewRule(Return)
			r.Family = fam
			setRemote(&r, egress, fmt.Sprintf("x_%d", fam))
			r.Comment = "exempt: AWS services SGs do not filter"
			c.Rules = append(c.Rules, r)
		}
		for _, t := range ndpTypes {
			r := NewRule(Return)
			r.Family, r.Proto, r.ICMPType = 6, 58, t
			r.Comment = "neighbour discovery"
			c.Rules = append(c.Rules, r)
		}
		k := 0
		for _, g := range groups {
			rules := g.Ingress
			if egress {
				rules = g.Egress
			}
			for i, sr := range rules {
				m, fams, err := sgMatch(sr)
				if err != nil {
					return nil, fmt.Errorf("firewall: %s %s rule %d: %w", g.ID, name, i, err)
				}
				v4, v6, err := sgAddrs(sr)
				if err != nil {
					return nil, fmt.Errorf("firewall: %s %s rule %d: %w", g.ID, name, i, err)
				}
				for _, fam := range fams {
					set := Set{Name: fmt.Sprintf("%s%d_%d", letter, k, fam), IPv6: fam == 6, Elems: v4}
					if fam == 6 {
						set.Elems = v6
					}
					rs.Sets = append(rs.Sets, set)
					r := m
					r.Family = fam
					setRemote(&r, egress, set.Name)
					r.Comment = comment(fmt.Sprintf("%s %s #%d %s", g.ID, name, i, sr.Description))
					c.Rules = append(c.Rules, r)
				}
				k++
			}
		}
		def := NewRule(Drop)
		def.Counter = true
		def.Comment = "default deny"
		c.Rules = append(c.Rules, def)
		rs.Chains = append(rs.Chains, c)
	}
	jin, jout := NewRule(Jump), NewRule(Jump)
	jin.IIF, jin.Target = iface, chainIngress
	jout.OIF, jout.Target = iface, chainEgress
	rs.Chains = append(rs.Chains,
		Chain{Name: "input", Hook: HookInput, Rules: []Rule{jin}},
		Chain{Name: "forward", Hook: HookForward, Rules: []Rule{jin, jout}},
		Chain{Name: "output", Hook: HookOutput, Rules: []Rule{jout}},
	)
	return rs, nil
}

func setRemote(r *Rule, egress bool, set string) {
	if egress {
		r.DstSet = set
	} else {
		r.SrcSet = set
	}
}

func comment(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

// sgMatch returns the protocol/port part of an SG rule (verdict return)
// and the address families it applies to.
func sgMatch(sr SGRule) (Rule, []int, error) {
	r := NewRule(Return)
	proto, err := parseSGProto(sr.Protocol)
	if err != nil {
		return r, nil, err
	}
	both := []int{4, 6}
	switch proto {
	case -1:
		return r, both, nil
	case 6, 17:
		r.Proto = proto
		from, to := sr.FromPort, sr.ToPort
		if from == -1 || (from == 0 && to == 65535) {
			return r, both, nil
		}
		if from < 0 || to > 65535 || from > to {
			return r, nil, fmt.Errorf("invalid port range %d-%d", from, to)
		}
		r.DPortFrom, r.DPortTo = from, to
		return r, both, nil
	case 1, 58:
		r.Proto = proto
		typ, code := sr.FromPort, sr.ToPort
		if typ < -1 || typ > 255 || code < -1 || code > 255 {
			return r, nil, fmt.Errorf("invalid ICMP type/code %d/%d", typ, code)
		}
		if typ >= 0 {
			r.ICMPType = typ
			if code >= 0 {
				r.ICMPCode = code
			}
		}
		if proto == 1 {
			return r, []int{4}, nil
		}
		return r, []int{6}, nil
	}
	r.Proto = proto
	return r, both, nil
}

// parseSGProto accepts the protocol forms AWS stores for SG rules.
func parseSGProto(s string) (int, error) {
	switch p := strings.ToLower(strings.TrimSpace(s)); p {
	case "-1", "all":
		return -1, nil
	case "tcp":
		return 6, nil
	case "udp":
		return 17, nil
	case "icmp":
		return 1, nil
	case "icmpv6":
		return 58, nil
	default:
		n, err := strconv.Atoi(p)
		if err != nil || n < -1 || n > 255 {
			return 0, fmt.Errorf("invalid protocol %q", s)
		}
		return n, nil
	}
}

// sgAddrs returns the rule's remote addresses per family as set elements.
func sgAddrs(sr SGRule) (v4, v6 []netip.Prefix, err error) {
	for _, p := range sr.CIDRs {
		if !p.IsValid() || p.Addr().Zone() != "" {
			return nil, nil, fmt.Errorf("invalid CIDR %v", p)
		}
	}
	for _, a := range sr.Peers {
		if !a.IsValid() || a.Zone() != "" {
			return nil, nil, fmt.Errorf("invalid peer address %v", a)
		}
	}
	v4, v6 = splitFamilies(sr.CIDRs, sr.Peers)
	return v4, v6, nil
}

// splitFamilies normalises prefixes and addresses into sorted, deduplicated
// masked prefixes per family.
func splitFamilies(cidrs []netip.Prefix, addrs []netip.Addr) (v4, v6 []netip.Prefix) {
	add := func(p netip.Prefix) {
		if p.Addr().Is4() {
			v4 = append(v4, p)
		} else {
			v6 = append(v6, p)
		}
	}
	for _, p := range cidrs {
		if p.IsValid() {
			a := p.Addr().Unmap()
			bits := p.Bits()
			if p.Addr().Is4In6() {
				bits -= 96
				if bits < 0 {
					bits = 0
				}
			}
			add(netip.PrefixFrom(a, bits).Masked())
		}
	}
	for _, a := range addrs {
		if a.IsValid() {
			a = a.Unmap()
			add(netip.PrefixFrom(a, a.BitLen()))
		}
	}
	norm := func(ps []netip.Prefix) []netip.Prefix {
		slices.SortFunc(ps, func(a, b netip.Prefix) int {
			return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
		})
		return slices.Compact(ps)
	}
	return norm(v4), norm(v6)
}

// CompileACL compiles a network ACL into the table enforcing it on the
// subnet's bridge in the VPC router namespace. It has no side effects.
//
// Layout: one base chain forward with
//
//	iifname B oifname B return   (traffic within the subnet is not filtered)
//	oifname B jump inbound       (routed into the subnet)
//	iifname B jump outbound      (routed out of the subnet)
//
// and the regular chains inbound/outbound holding that direction's entries
// in ascending rule number (stable for equal numbers), each accept or drop,
// and finally the "*" rule as "counter drop". There is no conntrack match:
// network ACLs are stateless, so replies need their own allow entries.
func (f *Firewall) CompileACL(bridge string, acl NetworkACL) (*Ruleset, error) {
	if err := checkIfName(bridge); err != nil {
		return nil, err
	}
	rs := &Ruleset{Table: f.ACLTable(bridge)}
	for _, egress := range []bool{false, true} {
		name := chainInbound
		if egress {
			name = chainOutbound
		}
		var entries []ACLEntry
		for _, e := range acl.Entries {
			if e.Egress == egress {
				entries = append(entries, e)
			}
		}
		slices.SortStableFunc(entries, func(a, b ACLEntry) int { return cmp.Compare(a.RuleNumber, b.RuleNumber) })
		c := Chain{Name: name}
		for _, e := range entries {
			r, err := aclRule(e)
			if err != nil {
				return nil, fmt.Errorf("firewall: %s %s entry %d: %w", acl.ID, name, e.RuleNumber, err)
			}
			c.Rules = append(c.Rules, r)
		}
		def := NewRule(Drop)
		def.Counter = true
		def.Comment = "rule * deny"
		c.Rules = append(c.Rules, def)
		rs.Chains = append(rs.Chains, c)
	}
	local, in, out := NewRule(Return), NewRule(Jump), NewRule(Jump)
	local.IIF, local.OIF = bridge, bridge
	local.Comment = "within the subnet"
	in.OIF, in.Target = bridge, chainInbound
	out.IIF, out.Target = bridge, chainOutbound
	rs.Chains = append(rs.Chains, Chain{Name: "forward", Hook: HookForward, Rules: []Rule{local, in, out}})
	return rs, nil
}

// aclRule compiles one entry.
func aclRule(e ACLEntry) (Rule, error) {
	r := NewRule(Drop)
	if e.Allow {
		r.Verdict = Accept
	}
	r.Comment = fmt.Sprintf("rule %d", e.RuleNumber)
	if e.RuleNumber < 1 || e.RuleNumber > 32768 {
		return r, fmt.Errorf("invalid rule number")
	}
	if !e.CIDR.IsValid() || e.CIDR.Addr().Zone() != "" {
		return r, fmt.Errorf("invalid CIDR %v", e.CIDR)
	}
	cidr := e.CIDR.Masked()
	if cidr.Addr().Is4In6() {
		cidr = netip.PrefixFrom(cidr.Addr().Unmap(), max(cidr.Bits()-96, 0))
	}
	r.Family = 6
	if cidr.Addr().Is4() {
		r.Family = 4
	}
	if e.Egress {
		r.Dst = cidr
	} else {
		r.Src = cidr
	}
	if e.Protocol < -1 || e.Protocol > 255 {
		return r, fmt.Errorf("invalid protocol %d", e.Protocol)
	}
	r.Proto = e.Protocol
	switch e.Protocol {
	case 6, 17:
		if e.PortFrom != -1 {
			if e.PortFrom < 0 || e.PortTo > 65535 || e.PortFrom > e.PortTo {
				return r, fmt.Errorf("invalid port range %d-%d", e.PortFrom, e.PortTo)
			}
			if e.PortFrom != 0 || e.PortTo != 65535 {
				r.DPortFrom, r.DPortTo = e.PortFrom, e.PortTo
			}
		}
	case 1, 58:
		if e.ICMPType < -1 || e.ICMPType > 255 || e.ICMPCode < -1 || e.ICMPCode > 255 {
			return r, fmt.Errorf("invalid ICMP type/code %d/%d", e.ICMPType, e.ICMPCode)
		}
		if e.ICMPType >= 0 {
			r.ICMPType = e.ICMPType
			if e.ICMPCode >= 0 {
				r.ICMPCode = e.ICMPCode
			}
		}
	}
	return r, nil
}

// checkIfName validates a Linux interface name.
func checkIfName(s string) error {
	if s == "" || len(s) > 15 || strings.ContainsAny(s, "/ \t\n\"\x00") {
		return fmt.Errorf("firewall: invalid interface name %q", s)
	}
	return nil
}
