package ec2

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// sgProtocolNames maps the protocol numbers AWS shows by name.
var sgProtocolNames = map[string]string{"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}

// sgNormProtocol returns the protocol as AWS stores it: "-1" for all, the
// names tcp/udp/icmp/icmpv6 (also for their numbers), else the number.
func sgNormProtocol(p *string) (string, error) {
	if p == nil {
		return "", errInvalidParam("Invalid value 'null' for protocol. VPC security group rules must specify protocols explicitly.")
	}
	s := strings.ToLower(strings.TrimSpace(*p))
	switch s {
	case "-1", "all":
		return "-1", nil
	case "tcp", "udp", "icmp", "icmpv6":
		return s, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < -1 || n > 255 {
		return "", errInvalidParam("Invalid value '%s' for IP protocol. Unknown protocol.", *p)
	}
	if n == -1 {
		return "-1", nil
	}
	s = strconv.Itoa(n)
	if name, ok := sgProtocolNames[s]; ok {
		return name, nil
	}
	return s, nil
}

// sgHasPorts reports whether rules of the protocol carry a port range
// (or ICMP type and code) that Describe shows.
func sgHasPorts(proto string) bool {
	switch proto {
	case "tcp", "udp", "icmp", "icmpv6":
		return true
	}
	return false
}

// sgPorts validates and normalises a permission's port range.
func sgPorts(proto string, from, to *int32) (int32, int32, error) {
	switch proto {
	case "tcp", "udp":
		if from == nil || to == nil {
			return 0, 0, errInvalidParam("Invalid value for portRange. Must specify both from and to ports with TCP/UDP.")
		}
		f, t := *from, *to
		if f < 0 || f > 65535 {
			return 0, 0, errInvalidParam("Invalid value '%d' for fromPort. It must be between 0 and 65535.", f)
		}
		if t < 0 || t > 65535 {
			return 0, 0, errInvalidParam("Invalid value '%d' for toPort. It must be between 0 and 65535.", t)
		}
		if f > t {
			return 0, 0, errInvalidParam("Invalid TCP/UDP port range %d-%d: the from port must not be greater than the to port.", f, t)
		}
		return f, t, nil
	case "icmp", "icmpv6":
		f, t := int32(-1), int32(-1)
		if from != nil {
			f = *from
		}
		if to != nil {
			t = *to
		}
		if f < -1 || f > 255 {
			return 0, 0, errInvalidParam("Invalid value '%d' for ICMP type. It must be between -1 and 255.", f)
		}
		if t < -1 || t > 255 {
			return 0, 0, errInvalidParam("Invalid value '%d' for ICMP code. It must be between -1 and 255.", t)
		}
		if f == -1 && t != -1 {
			return 0, 0, errInvalidParam("Invalid ICMP code %d: an ICMP code can only be given with an ICMP type.", t)
		}
		return f, t, nil
	}
	return -1, -1, nil
}

// sgPermsFrom expands API permissions into one normalised sgPerm per peer,
// resolving and checking referenced groups against the group g's VPC.
func sgPermsFrom(t *rtx, g *securityGroupRecord, perms []ec2api.IpPermission, forRevoke bool) ([]sgPerm, error) {
	var out []sgPerm
	for _, p := range perms {
		proto, err := sgNormProtocol(p.IpProtocol)
		if err != nil {
			return nil, err
		}
		from, to, err := sgPorts(proto, p.FromPort, p.ToPort)
		if err != nil {
			return nil, err
		}
		base := sgPerm{proto: proto, from: from, to: to}
		for _, r := range p.IpRanges {
			c, err := sgCIDR(deref(r.CidrIp), false)
			if err != nil {
				return nil, err
			}
			x := base
			x.cidr4, x.desc = c, r.Description
			out = append(out, x)
		}
		for _, r := range p.Ipv6Ranges {
			c, err := sgCIDR(deref(r.CidrIpv6), true)
			if err != nil {
				return nil, err
			}
			x := base
			x.cidr6, x.desc = c, r.Description
			out = append(out, x)
		}
		for _, r := range p.PrefixListIds {
			id := deref(r.PrefixListId)
			if !state.ValidID("pl", id) {
				return nil, apiErr("InvalidPrefixListId.Malformed", "The prefix list ID '%s' is malformed", id)
			}
			x := base
			x.prefix, x.desc = id, r.Description
			out = append(out, x)
		}
		for _, r := range p.UserIdGroupPairs {
			ref, err := sgResolvePeer(t, g, r.GroupId, r.GroupName, forRevoke)
			if err != nil {
				return nil, err
			}
			x := base
			x.group, x.desc = ref, r.Description
			out = append(out, x)
		}
	}
	return out, nil
}

// sgCIDR validates a rule's CIDR and canonicalises it as AWS does: a rule
// for 10.8.10.0/16 is listed as 10.8.0.0/16.
func sgCIDR(s string, v6 bool) (string, error) {
	param := "cidrIp"
	if v6 {
		param = "cidrIpv6"
	}
	bad := errInvalidParam("Value (%s) for parameter %s is invalid. This is not a valid CIDR block.", s, param)
	if !v6 {
		p, ok := parseIPv4CIDR(s)
		if !ok {
			return "", bad
		}
		return p.String(), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is6() || p.Addr().Is4In6() || p.Addr().Zone() != "" {
		return "", bad
	}
	return p.Masked().String(), nil
}

// sgResolvePeer finds a referenced group by ID, or by name in g's VPC, and
// checks it is in the same VPC.
func sgResolvePeer(t *rtx, g *securityGroupRecord, id, name *string, forRevoke bool) (*ec2api.ReferencedSecurityGroup, error) {
	var peer *securityGroupRecord
	switch {
	case deref(id) != "":
		p, ok, err := securityGroups.find(t, *id)
		if err != nil {
			return nil, err
		}
		if !ok {
			if forRevoke {
				// Unknown peers just make the permission unknown.
				return &ec2api.ReferencedSecurityGroup{GroupId: new(*id), UserId: new(t.scope.Account)}, nil
			}
			return nil, securityGroups.notFoundErr(*id)
		}
		peer = p
	case deref(name) != "":
		p, err := sgByName(t, deref(g.VpcId), *name)
		if err != nil {
			return nil, err
		}
		if p == nil {
			return nil, apiErr("InvalidGroup.NotFound", "The security group '%s' does not exist in VPC '%s'", *name, deref(g.VpcId))
		}
		peer = p
	default:
		return nil, errMissingParam("groupId")
	}
	if deref(peer.VpcId) != deref(g.VpcId) {
		return nil, apiErr("InvalidGroup.NotFound", "You have specified two resources that belong to different networks.")
	}
	return &ec2api.ReferencedSecurityGroup{GroupId: peer.GroupId, UserId: peer.OwnerId}, nil
}

// sgByName returns the group named name in vpcID, or nil.
func sgByName(t *rtx, vpcID, name string) (*securityGroupRecord, error) {
	var found *securityGroupRecord
	err := securityGroups.table.ForEach(t.tx, t.scope, func(_ string, g securityGroupRecord) error {
		if found == nil && deref(g.VpcId) == vpcID && deref(g.GroupName) == name {
			found = &g
		}
		return nil
	})
	return found, err
}

// sgPeerKey identifies a rule's peer.
func sgPeerKey(r *ec2api.SecurityGroupRule) string {
	switch {
	case r.CidrIpv4 != nil:
		return *r.CidrIpv4
	case r.CidrIpv6 != nil:
		return *r.CidrIpv6
	case r.PrefixListId != nil:
		return *r.PrefixListId
	case r.ReferencedGroupInfo != nil:
		return deref(r.ReferencedGroupInfo.GroupId)
	}
	return ""
}

func (p sgPerm) peerKey() string {
	switch {
	case p.cidr4 != "":
		return p.cidr4
	case p.cidr6 != "":
		return p.cidr6
	case p.prefix != "":
		return p.prefix
	case p.group != nil:
		return deref(p.group.GroupId)
	}
	return ""
}

// sgSame reports whether rule r is the permission p (description aside).
func sgSame(r *ec2api.SecurityGroupRule, egress bool, p sgPerm) bool {
	return deref(r.IsEgress) == egress && deref(r.IpProtocol) == p.proto &&
		deref(r.FromPort) == p.from && deref(r.ToPort) == p.to && sgPeerKey(r) == p.peerKey()
}

// sgDescribePerm is AWS's rendering of a rule in InvalidPermission.Duplicate.
func sgDescribePerm(p sgPerm) string {
	var b strings.Builder
	fmt.Fprintf(&b, "peer: %s, ", p.peerKey())
	switch p.proto {
	case "-1":
		b.WriteString("ALL, ")
	case "tcp", "udp":
		fmt.Fprintf(&b, "%s, from port: %d, to port: %d, ", strings.ToUpper(p.proto), p.from, p.to)
	case "icmp", "icmpv6":
		fmt.Fprintf(&b, "%s, type: %d, code: %d, ", strings.ToUpper(p.proto), p.from, p.to)
	default:
		fmt.Fprintf(&b, "%s, ", p.proto)
	}
	b.WriteString("ALLOW")
	return b.String()
}

// sgPermissions derives the IpPermissions of one direction from the rules,
// grouped by protocol and ports in the order of their first rule, as AWS
// presents them.
func sgPermissions(rules []ec2api.SecurityGroupRule, egress bool) []ec2api.IpPermission {
	out := []ec2api.IpPermission{}
	type key struct {
		proto    string
		from, to int32
	}
	index := map[key]int{}
	for _, r := range rules {
		if deref(r.IsEgress) != egress {
			continue
		}
		k := key{deref(r.IpProtocol), deref(r.FromPort), deref(r.ToPort)}
		i, ok := index[k]
		if !ok {
			p := ec2api.IpPermission{IpProtocol: new(k.proto), IpRanges: []ec2api.IpRange{}, Ipv6Ranges: []ec2api.Ipv6Range{},
				PrefixListIds: []ec2api.PrefixListId{}, UserIdGroupPairs: []ec2api.UserIdGroupPair{}}
			if sgHasPorts(k.proto) {
				p.FromPort, p.ToPort = new(k.from), new(k.to)
			}
			out = append(out, p)
			i = len(out) - 1
			index[k] = i
		}
		p := &out[i]
		switch {
		case r.CidrIpv4 != nil:
			p.IpRanges = append(p.IpRanges, ec2api.IpRange{CidrIp: r.CidrIpv4, Description: r.Description})
		case r.CidrIpv6 != nil:
			p.Ipv6Ranges = append(p.Ipv6Ranges, ec2api.Ipv6Range{CidrIpv6: r.CidrIpv6, Description: r.Description})
		case r.PrefixListId != nil:
			p.PrefixListIds = append(p.PrefixListIds, ec2api.PrefixListId{PrefixListId: r.PrefixListId, Description: r.Description})
		case r.ReferencedGroupInfo != nil:
			p.UserIdGroupPairs = append(p.UserIdGroupPairs, ec2api.UserIdGroupPair{GroupId: r.ReferencedGroupInfo.GroupId,
				UserId: r.ReferencedGroupInfo.UserId, Description: r.Description})
		}
	}
	return out
}

// sgPermToAPI renders one sgPerm as an IpPermission (UnknownIpPermissions).
func sgPermToAPI(p sgPerm) ec2api.IpPermission {
	out := ec2api.IpPermission{IpProtocol: new(p.proto)}
	if sgHasPorts(p.proto) {
		out.FromPort, out.ToPort = new(p.from), new(p.to)
	}
	switch {
	case p.cidr4 != "":
		out.IpRanges = []ec2api.IpRange{{CidrIp: new(p.cidr4), Description: p.desc}}
	case p.cidr6 != "":
		out.Ipv6Ranges = []ec2api.Ipv6Range{{CidrIpv6: new(p.cidr6), Description: p.desc}}
	case p.prefix != "":
		out.PrefixListIds = []ec2api.PrefixListId{{PrefixListId: new(p.prefix), Description: p.desc}}
	case p.group != nil:
		out.UserIdGroupPairs = []ec2api.UserIdGroupPair{{GroupId: p.group.GroupId, UserId: p.group.UserId, Description: p.desc}}
	}
	return out
}

// sgView returns the group as Describe shows it: permissions derived from
// the rules.
func sgView(g *securityGroupRecord) ec2api.SecurityGroup {
	out := g.SecurityGroup
	out.IpPermissions = sgPermissions(g.Rules, false)
	out.IpPermissionsEgress = sgPermissions(g.Rules, true)
	out.Tags = slices.Clone(g.Tags)
	if out.Tags == nil {
		out.Tags = []ec2api.Tag{}
	}
	return out
}
