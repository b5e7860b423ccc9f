package firewall

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Ruleset is one compiled nftables table in a neutral, printable form. The
// same value is turned into netlink messages (Apply*) and into nft syntax
// (String), and can be evaluated against a Packet without a kernel (Eval).
type Ruleset struct {
	// Table is the inet-family table name; it starts with the prefix.
	Table  string
	Sets   []Set
	Chains []Chain
}

// Set is a named interval set of addresses of one family.
type Set struct {
	Name  string
	IPv6  bool
	Elems []netip.Prefix // masked, sorted, without duplicates
}

// Hook names a base chain's netfilter hook.
type Hook string

// The hooks used; a chain without a hook is a regular (jump target) chain.
const (
	HookNone    Hook = ""
	HookInput   Hook = "input"
	HookForward Hook = "forward"
	HookOutput  Hook = "output"
)

// Chain is an nftables chain. Base chains have type filter, priority
// filter (0) and policy accept.
type Chain struct {
	Name  string
	Hook  Hook
	Rules []Rule
}

// Verdict kinds.
const (
	Accept = "accept"
	Drop   = "drop"
	Return = "return"
	Jump   = "jump"
)

// Rule is one nftables rule: a conjunction of matches and a verdict. Zero
// values of the match fields mean "any"; numeric "any" is -1, which
// NewRule sets.
type Rule struct {
	IIF, OIF string // meta iifname / oifname ==
	// CtEstRel matches ct state established,related.
	CtEstRel bool
	// Family is 4 or 6 (meta nfproto ipv4/ipv6), 0 for any.
	Family int
	// Proto is the meta l4proto, -1 for any.
	Proto int
	// Src and Dst are single-prefix matches (used by network ACLs).
	Src, Dst netip.Prefix
	// SrcSet and DstSet are named-set lookups (used by security groups).
	SrcSet, DstSet string
	// DPortFrom..DPortTo is the th dport range, -1 for any.
	DPortFrom, DPortTo int
	// ICMPType and ICMPCode match the ICMP/ICMPv6 header, -1 for any.
	ICMPType, ICMPCode int
	Counter            bool
	Verdict            string // Accept, Drop, Return or Jump
	Target             string // chain for Jump
	Comment            string
}

// NewRule returns a rule matching everything with the given verdict.
func NewRule(verdict string) Rule {
	return Rule{Proto: -1, DPortFrom: -1, DPortTo: -1, ICMPType: -1, ICMPCode: -1, Verdict: verdict}
}

// Chain returns the chain called name, or nil.
func (r *Ruleset) Chain(name string) *Chain {
	for i := range r.Chains {
		if r.Chains[i].Name == name {
			return &r.Chains[i]
		}
	}
	return nil
}

func (r *Ruleset) set(name string) *Set {
	for i := range r.Sets {
		if r.Sets[i].Name == name {
			return &r.Sets[i]
		}
	}
	return nil
}

// String renders the ruleset in nft syntax (as `nft list table` would,
// modulo formatting), for logs, debugging and tests.
func (r *Ruleset) String() string { return r.render(true) }

// shape is the ruleset without set contents: two rulesets of the same shape
// differ only in set elements, which can be updated in place.
func (r *Ruleset) shape() string { return r.render(false) }

func (r *Ruleset) render(elems bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "table inet %s {\n", r.Table)
	for _, s := range r.Sets {
		typ := "ipv4_addr"
		if s.IPv6 {
			typ = "ipv6_addr"
		}
		fmt.Fprintf(&b, "\tset %s {\n\t\ttype %s\n\t\tflags interval\n", s.Name, typ)
		if elems && len(s.Elems) > 0 {
			el := make([]string, len(s.Elems))
			for i, p := range s.Elems {
				el[i] = p.String()
				if p.IsSingleIP() {
					el[i] = p.Addr().String()
				}
			}
			fmt.Fprintf(&b, "\t\telements = { %s }\n", strings.Join(el, ", "))
		}
		b.WriteString("\t}\n")
	}
	for _, c := range r.Chains {
		fmt.Fprintf(&b, "\tchain %s {\n", c.Name)
		if c.Hook != HookNone {
			fmt.Fprintf(&b, "\t\ttype filter hook %s priority filter; policy accept;\n", c.Hook)
		}
		for _, rl := range c.Rules {
			fmt.Fprintf(&b, "\t\t%s\n", rl.String())
		}
		b.WriteString("\t}\n")
	}
	b.WriteString("}\n")
	return b.String()
}

var protoNames = map[int]string{1: "icmp", 6: "tcp", 17: "udp", 58: "ipv6-icmp"}

// String renders the rule in nft syntax.
func (rl Rule) String() string {
	var p []string
	if rl.IIF != "" {
		p = append(p, fmt.Sprintf("iifname %q", rl.IIF))
	}
	if rl.OIF != "" {
		p = append(p, fmt.Sprintf("oifname %q", rl.OIF))
	}
	if rl.CtEstRel {
		p = append(p, "ct state established,related")
	}
	ipk := "ip"
	switch rl.Family {
	case 4:
		p = append(p, "meta nfproto ipv4")
	case 6:
		p = append(p, "meta nfproto ipv6")
		ipk = "ip6"
	}
	if rl.Proto >= 0 {
		name, ok := protoNames[rl.Proto]
		if !ok {
			name = fmt.Sprint(rl.Proto)
		}
		p = append(p, "meta l4proto "+name)
	}
	if rl.Src.IsValid() && rl.Src.Bits() > 0 {
		p = append(p, fmt.Sprintf("%s saddr %s", ipk, rl.Src))
	}
	if rl.Dst.IsValid() && rl.Dst.Bits() > 0 {
		p = append(p, fmt.Sprintf("%s daddr %s", ipk, rl.Dst))
	}
	if rl.SrcSet != "" {
		p = append(p, fmt.Sprintf("%s saddr @%s", ipk, rl.SrcSet))
	}
	if rl.DstSet != "" {
		p = append(p, fmt.Sprintf("%s daddr @%s", ipk, rl.DstSet))
	}
	if rl.DPortFrom >= 0 {
		if rl.DPortFrom == rl.DPortTo {
			p = append(p, fmt.Sprintf("th dport %d", rl.DPortFrom))
		} else {
			p = append(p, fmt.Sprintf("th dport %d-%d", rl.DPortFrom, rl.DPortTo))
		}
	}
	icmpk := "icmp"
	if rl.Proto == 58 {
		icmpk = "icmpv6"
	}
	if rl.ICMPType >= 0 {
		p = append(p, fmt.Sprintf("%s type %d", icmpk, rl.ICMPType))
	}
	if rl.ICMPCode >= 0 {
		p = append(p, fmt.Sprintf("%s code %d", icmpk, rl.ICMPCode))
	}
	if rl.Counter {
		p = append(p, "counter")
	}
	if rl.Verdict == Jump {
		p = append(p, "jump "+rl.Target)
	} else {
		p = append(p, rl.Verdict)
	}
	if rl.Comment != "" {
		p = append(p, fmt.Sprintf("comment %q", rl.Comment))
	}
	return strings.Join(p, " ")
}

// Packet is what the interpreter (Eval) needs to know about a packet.
type Packet struct {
	IIF, OIF string
	// Established marks a packet conntrack has seen as part of a flow
	// (ct state established or related).
	Established bool
	Proto       int // IP protocol number
	Src, Dst    netip.Addr
	// DPort is the destination port (tcp, udp, …).
	DPort int
	// ICMPType and ICMPCode for ICMP/ICMPv6.
	ICMPType, ICMPCode int
}

// Eval runs the packet through the base chain attached to hook, as the
// kernel would, and reports whether this table accepts it (policy accept
// when no rule decides).
func (r *Ruleset) Eval(hook Hook, pkt Packet) bool {
	for _, c := range r.Chains {
		if c.Hook == hook {
			v := r.evalChain(&c, pkt, 0)
			return v != Drop
		}
	}
	return true
}

// evalChain returns Accept, Drop, or "" when the chain ran off its end or
// returned.
func (r *Ruleset) evalChain(c *Chain, pkt Packet, depth int) string {
	if depth > 16 {
		panic("firewall: jump loop in " + r.Table)
	}
	for _, rl := range c.Rules {
		if !r.matches(&rl, pkt) {
			continue
		}
		switch rl.Verdict {
		case Accept, Drop:
			return rl.Verdict
		case Return:
			return ""
		case Jump:
			if v := r.evalChain(r.Chain(rl.Target), pkt, depth+1); v != "" {
				return v
			}
		}
	}
	return ""
}

func (r *Ruleset) matches(rl *Rule, pkt Packet) bool {
	v6 := pkt.Src.Is6() && !pkt.Src.Is4In6()
	src, dst := pkt.Src.Unmap(), pkt.Dst.Unmap()
	switch {
	case rl.IIF != "" && rl.IIF != pkt.IIF,
		rl.OIF != "" && rl.OIF != pkt.OIF,
		rl.CtEstRel && !pkt.Established,
		rl.Family == 4 && v6, rl.Family == 6 && !v6,
		rl.Proto >= 0 && rl.Proto != pkt.Proto,
		rl.Src.IsValid() && !rl.Src.Contains(src),
		rl.Dst.IsValid() && !rl.Dst.Contains(dst),
		rl.SrcSet != "" && !r.inSet(rl.SrcSet, src),
		rl.DstSet != "" && !r.inSet(rl.DstSet, dst),
		rl.DPortFrom >= 0 && (pkt.DPort < rl.DPortFrom || pkt.DPort > rl.DPortTo),
		rl.ICMPType >= 0 && pkt.ICMPType != rl.ICMPType,
		rl.ICMPCode >= 0 && pkt.ICMPCode != rl.ICMPCode:
		return false
	}
	return true
}

func (r *Ruleset) inSet(name string, a netip.Addr) bool {
	s := r.set(name)
	return s != nil && slices.ContainsFunc(s.Elems, func(p netip.Prefix) bool { return p.Contains(a) })
}
