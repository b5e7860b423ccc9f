package ec2

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"

	"github.com/minicloud/minicloud/internal/api/ec2api"
)

// aclEvaluate decides a packet as AWS evaluates a network ACL: the entries
// of the packet's direction in ascending rule number, the first that matches
// wins; when none matches (the "*" rule) the packet is denied.
//
// proto is the IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, …);
// port is the destination port for TCP and UDP and the ICMP type for ICMP
// and ICMPv6 (an entry's ICMP code is not checked); ip is the remote address
// (the source for ingress, the destination for egress).
func aclEvaluate(acl *networkACLRecord, egress bool, proto int, port int, ip netip.Addr) (allow bool) {
	ip = ip.Unmap()
	entries := make([]ec2api.NetworkAclEntry, 0, len(acl.Entries))
	for _, e := range acl.Entries {
		if deref(e.Egress) == egress {
			entries = append(entries, e)
		}
	}
	slices.SortStableFunc(entries, func(a, b ec2api.NetworkAclEntry) int {
		return cmp.Compare(deref(a.RuleNumber), deref(b.RuleNumber))
	})
	for _, e := range entries {
		if aclEntryMatches(&e, proto, port, ip) {
			return deref(e.RuleAction) == "allow"
		}
	}
	return false
}

// aclEntryMatches reports whether one entry covers the packet.
func aclEntryMatches(e *ec2api.NetworkAclEntry, proto, port int, ip netip.Addr) bool {
	cidr := deref(e.CidrBlock)
	if cidr == "" {
		cidr = deref(e.Ipv6CidrBlock)
	}
	p, err := netip.ParsePrefix(cidr)
	if err != nil || !p.Contains(ip) {
		return false
	}
	ep := deref(e.Protocol)
	if ep == "-1" {
		return true
	}
	n, err := strconv.Atoi(ep)
	if err != nil || n != proto {
		return false
	}
	switch n {
	case 6, 17:
		if e.PortRange == nil {
			return true
		}
		return port >= int(deref(e.PortRange.From)) && port <= int(deref(e.PortRange.To))
	case 1, 58:
		if e.IcmpTypeCode == nil || e.IcmpTypeCode.Type == nil || *e.IcmpTypeCode.Type == -1 {
			return true
		}
		return port == int(*e.IcmpTypeCode.Type)
	}
	return true
}
