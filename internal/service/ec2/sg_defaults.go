package ec2

import (
	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// newDefaultSecurityGroup builds and stores the default security group of a
// new VPC as AWS does: named "default", ingress from members of the group
// itself on every protocol, egress to anywhere on every protocol (also to
// ::/0 when the VPC already has an IPv6 block).
func newDefaultSecurityGroup(t *rtx, vpcID string) (*securityGroupRecord, error) {
	id := state.NewID("sg")
	owner := t.scope.Account
	rec := &securityGroupRecord{SecurityGroup: ec2api.SecurityGroup{
		GroupId:     new(id),
		GroupName:   new(sgDefaultName),
		Description: new("default VPC security group"),
		OwnerId:     new(owner),
		VpcId:       new(vpcID),
		Tags:        []ec2api.Tag{},
	}}
	rec.Rules = []ec2api.SecurityGroupRule{
		sgNewRule(t, id, false, sgPerm{proto: "-1", from: -1, to: -1, group: &ec2api.ReferencedSecurityGroup{GroupId: new(id), UserId: new(owner)}}),
		sgNewRule(t, id, true, sgPerm{proto: "-1", from: -1, to: -1, cidr4: "0.0.0.0/0"}),
	}
	if aclVPCHasIPv6(t, vpcID) {
		rec.Rules = append(rec.Rules, sgNewRule(t, id, true, sgPerm{proto: "-1", from: -1, to: -1, cidr6: "::/0"}))
	}
	if err := securityGroups.put(t, rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// sgDefaultName is the reserved name of every VPC's default group.
const sgDefaultName = "default"

// sgPerm is one normalised permission: a protocol, a port range and exactly
// one peer (IPv4 CIDR, IPv6 CIDR, prefix list or security group).
type sgPerm struct {
	proto    string // "-1", "tcp", "udp", "icmp", "icmpv6" or a protocol number
	from, to int32  // -1 when the protocol has no ports
	cidr4    string
	cidr6    string
	prefix   string
	group    *ec2api.ReferencedSecurityGroup
	desc     *string
}

// sgNewRule makes a stored rule of group groupID from p, with a new sgr- ID.
func sgNewRule(t *rtx, groupID string, egress bool, p sgPerm) ec2api.SecurityGroupRule {
	r := ec2api.SecurityGroupRule{
		SecurityGroupRuleId: new(state.NewID("sgr")),
		GroupId:             new(groupID),
		GroupOwnerId:        new(t.scope.Account),
		IsEgress:            new(egress),
		IpProtocol:          new(p.proto),
		FromPort:            new(p.from),
		ToPort:              new(p.to),
		Description:         p.desc,
		Tags:                []ec2api.Tag{},
	}
	switch {
	case p.cidr4 != "":
		r.CidrIpv4 = new(p.cidr4)
	case p.cidr6 != "":
		r.CidrIpv6 = new(p.cidr6)
	case p.prefix != "":
		r.PrefixListId = new(p.prefix)
	case p.group != nil:
		g := *p.group
		r.ReferencedGroupInfo = &g
	}
	return r
}

// sgInUseBy reports whether anything depends on the group: a network
// interface that uses it, or a rule of another group that references it.
func sgInUseBy(t *rtx, groupID string) (bool, error) {
	used := false
	err := networkInterfaces.table.ForEach(t.tx, t.scope, func(_ string, e networkInterfaceRecord) error {
		for _, g := range e.Groups {
			if deref(g.GroupId) == groupID {
				used = true
			}
		}
		return nil
	})
	if err != nil || used {
		return used, err
	}
	err = securityGroups.table.ForEach(t.tx, t.scope, func(id string, g securityGroupRecord) error {
		if id == groupID {
			return nil
		}
		for _, r := range g.Rules {
			if r.ReferencedGroupInfo != nil && deref(r.ReferencedGroupInfo.GroupId) == groupID {
				used = true
			}
		}
		return nil
	})
	return used, err
}
