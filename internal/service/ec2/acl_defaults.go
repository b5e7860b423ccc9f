package ec2

import (
	"cmp"
	"slices"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// aclDenyRule is the number AWS reports for the "*" rule that ends every
// network ACL's list in each direction; aclDenyRule6 is its IPv6 twin.
const (
	aclDenyRule  = 32767
	aclDenyRule6 = 32768
	aclMaxRule   = 32766
)

// newDefaultNetworkACL builds and stores the default network ACL of a new
// VPC: in each direction rule 100 allows all traffic and the "*" rule denies
// the rest (plus 101 / ::/0 twins when the VPC already has an IPv6 block).
func newDefaultNetworkACL(t *rtx, vpcID string) (*networkACLRecord, error) {
	rec := aclNew(t, vpcID, true)
	ipv6 := aclVPCHasIPv6(t, vpcID)
	for _, egress := range []bool{true, false} {
		rec.Entries = append(rec.Entries, aclEntry(egress, 100, "-1", "allow", "0.0.0.0/0", ""))
		if ipv6 {
			rec.Entries = append(rec.Entries, aclEntry(egress, 101, "-1", "allow", "", "::/0"))
		}
	}
	aclSortEntries(rec)
	if err := networkACLs.put(t, rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// aclNew returns a network ACL of vpcID holding only the "*" deny rules.
func aclNew(t *rtx, vpcID string, isDefault bool) *networkACLRecord {
	rec := &networkACLRecord{NetworkAcl: ec2api.NetworkAcl{
		NetworkAclId: new(state.NewID("acl")),
		VpcId:        new(vpcID),
		OwnerId:      new(t.scope.Account),
		IsDefault:    new(isDefault),
		Associations: []ec2api.NetworkAclAssociation{},
		Tags:         []ec2api.Tag{},
	}}
	ipv6 := aclVPCHasIPv6(t, vpcID)
	for _, egress := range []bool{true, false} {
		rec.Entries = append(rec.Entries, aclEntry(egress, aclDenyRule, "-1", "deny", "0.0.0.0/0", ""))
		if ipv6 {
			rec.Entries = append(rec.Entries, aclEntry(egress, aclDenyRule6, "-1", "deny", "", "::/0"))
		}
	}
	aclSortEntries(rec)
	return rec
}

// aclVPCHasIPv6 reports whether the VPC has an IPv6 CIDR block associated.
func aclVPCHasIPv6(t *rtx, vpcID string) bool {
	v, ok, err := vpcs.find(t, vpcID)
	if err != nil || !ok {
		return false
	}
	for _, a := range v.Ipv6CidrBlockAssociationSet {
		if a.Ipv6CidrBlockState == nil || deref(a.Ipv6CidrBlockState.State) == "associated" {
			return true
		}
	}
	return false
}

func aclEntry(egress bool, number int32, proto, action, cidr, cidr6 string) ec2api.NetworkAclEntry {
	e := ec2api.NetworkAclEntry{Egress: new(egress), RuleNumber: new(number), Protocol: new(proto), RuleAction: new(action)}
	if cidr != "" {
		e.CidrBlock = new(cidr)
	}
	if cidr6 != "" {
		e.Ipv6CidrBlock = new(cidr6)
	}
	return e
}

// aclSortEntries orders entries as DescribeNetworkAcls shows them: egress
// first, then ingress, each by ascending rule number.
func aclSortEntries(rec *networkACLRecord) {
	slices.SortStableFunc(rec.Entries, func(a, b ec2api.NetworkAclEntry) int {
		ea, eb := deref(a.Egress), deref(b.Egress)
		if ea != eb {
			if ea {
				return -1
			}
			return 1
		}
		return cmp.Compare(deref(a.RuleNumber), deref(b.RuleNumber))
	})
}

// aclDefaultOf returns the default network ACL of vpcID.
func aclDefaultOf(t *rtx, vpcID string) (*networkACLRecord, error) {
	var found *networkACLRecord
	err := networkACLs.table.ForEach(t.tx, t.scope, func(_ string, a networkACLRecord) error {
		if found == nil && deref(a.VpcId) == vpcID && deref(a.IsDefault) {
			found = &a
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, apiErr("InvalidNetworkAclID.NotFound", "The default network ACL of VPC '%s' does not exist", vpcID)
	}
	return found, nil
}

// aclAssociateSubnet associates a new subnet with its VPC's default network
// ACL (CreateSubnet).
func aclAssociateSubnet(t *rtx, vpcID, subnetID string) error {
	acl, err := aclDefaultOf(t, vpcID)
	if err != nil {
		return err
	}
	acl.Associations = append(acl.Associations, ec2api.NetworkAclAssociation{
		NetworkAclAssociationId: new(state.NewID("aclassoc")),
		NetworkAclId:            acl.NetworkAclId,
		SubnetId:                new(subnetID),
	})
	return networkACLs.put(t, acl)
}

// aclDisassociateSubnet removes the subnet's association, whichever network
// ACL holds it (DeleteSubnet). No association is not an error.
func aclDisassociateSubnet(t *rtx, subnetID string) error {
	acl, i, err := aclBySubnet(t, subnetID)
	if err != nil || acl == nil {
		return err
	}
	acl.Associations = slices.Delete(acl.Associations, i, i+1)
	return networkACLs.put(t, acl)
}

// aclBySubnet finds the network ACL associated with subnetID and the
// association's index, or nil.
func aclBySubnet(t *rtx, subnetID string) (*networkACLRecord, int, error) {
	var found *networkACLRecord
	idx := -1
	err := networkACLs.table.ForEach(t.tx, t.scope, func(_ string, a networkACLRecord) error {
		for i, as := range a.Associations {
			if found == nil && deref(as.SubnetId) == subnetID {
				found, idx = &a, i
			}
		}
		return nil
	})
	return found, idx, err
}
