package firewall

import "net/netip"

// SecurityGroup is one security group as the data plane sees it: its rules
// with every referenced group already resolved to member addresses.
type SecurityGroup struct {
	ID      string
	Ingress []SGRule
	Egress  []SGRule
}

// SGRule is one allow rule of a security group. A packet matches when its
// protocol and port (or ICMP type/code) match and its remote address (the
// source for ingress, the destination for egress) is inside one of CIDRs or
// equal to one of Peers.
type SGRule struct {
	// Protocol is "-1" (all), "tcp", "udp", "icmp", "icmpv6" or an IP
	// protocol number ("6", "17", "1" and "58" mean the named ones).
	Protocol string
	// FromPort and ToPort are the inclusive destination-port range for tcp
	// and udp (-1 or 0..65535 both mean all ports); for icmp and icmpv6
	// FromPort is the type and ToPort the code (-1 = any). Other protocols
	// ignore them, as AWS does.
	FromPort, ToPort int
	// CIDRs are the IPv4 and IPv6 ranges the rule admits.
	CIDRs []netip.Prefix
	// Peers are the current private addresses of the members of a
	// referenced security group, resolved by the caller. Changing only
	// Peers (or CIDRs) is applied as a set-element update.
	Peers []netip.Addr
	// Description is carried into the rule's comment only.
	Description string
}

// NetworkACL is one network ACL: the entries of both directions.
type NetworkACL struct {
	ID      string
	Entries []ACLEntry
}

// ACLEntry is one numbered network ACL entry.
//
// The "*" rule (32767 deny all) need not be given: every compiled direction
// ends with an implicit drop. Entries numbered 32767/32768 that the control
// plane stores as data are accepted and compile like any other entry.
type ACLEntry struct {
	RuleNumber int
	Egress     bool
	// Protocol is the IP protocol number, -1 for all.
	Protocol int
	// PortFrom and PortTo are the inclusive destination-port range for
	// protocols 6 and 17; PortFrom -1 means all ports.
	PortFrom, PortTo int
	// ICMPType and ICMPCode restrict protocols 1 and 58; -1 means any.
	// The code is only checked when the type is not -1.
	ICMPType, ICMPCode int
	// CIDR is the remote range: the source of inbound traffic and the
	// destination of outbound traffic. An IPv4 CIDR never matches IPv6
	// packets and vice versa.
	CIDR  netip.Prefix
	Allow bool
}
