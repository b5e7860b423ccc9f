package ec2

import (
	"context"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// CreateNetworkAcl creates a custom network ACL: until entries are added it
// holds only the "*" rules, which deny all traffic.
func (s *Service) CreateNetworkAcl(ctx context.Context, in *ec2api.CreateNetworkAclRequest) (*ec2api.CreateNetworkAclResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if deref(in.VpcId) == "" {
		return nil, errMissingParam("vpcId")
	}
	tags, err := tagsFor(in.TagSpecifications, "network-acl", "network-acl")
	if err != nil {
		return nil, err
	}
	token := deref(in.ClientToken)
	hash := state.HashParams(struct {
		VpcID string
		Tags  []ec2api.TagSpecification
	}{deref(in.VpcId), in.TagSpecifications})
	var rec *networkACLRecord
	err = s.update(ctx, func(t *rtx) error {
		rec, err = createOnce(t, networkACLs, "CreateNetworkAcl", token, hash, func() (*networkACLRecord, error) {
			if _, err := vpcs.get(t, deref(in.VpcId)); err != nil {
				return nil, err
			}
			rec := aclNew(t, deref(in.VpcId), false)
			rec.Tags = tags
			return rec, networkACLs.put(t, rec)
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	acl := rec.NetworkAcl
	return &ec2api.CreateNetworkAclResult{NetworkAcl: &acl, ClientToken: in.ClientToken}, nil
}

// DeleteNetworkAcl deletes a custom network ACL with no subnets.
func (s *Service) DeleteNetworkAcl(ctx context.Context, in *ec2api.DeleteNetworkAclRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	err := s.update(ctx, func(t *rtx) error {
		acl, err := networkACLs.get(t, deref(in.NetworkAclId))
		if err != nil {
			return err
		}
		id := deref(acl.NetworkAclId)
		if deref(acl.IsDefault) {
			return errInvalidParam("cannot delete default network ACL %s", id)
		}
		if len(acl.Associations) > 0 {
			return errDependency("The network ACL '%s' has dependencies and cannot be deleted.", id)
		}
		return networkACLs.del(t, id)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

var aclFilterNames = []string{
	"association.association-id", "association.network-acl-id", "association.subnet-id", "default",
	"entry.cidr", "entry.egress", "entry.icmp.code", "entry.icmp.type", "entry.ipv6-cidr",
	"entry.port-range.from", "entry.port-range.to", "entry.protocol", "entry.rule-action", "entry.rule-number",
	"network-acl-id", "owner-id", "vpc-id",
}

// DescribeNetworkAcls lists network ACLs by ID or all, with filters.
func (s *Service) DescribeNetworkAcls(ctx context.Context, in *ec2api.DescribeNetworkAclsRequest) (*ec2api.DescribeNetworkAclsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if err := state.CheckFilterNames(toFilters(in.Filters), aclFilterNames...); err != nil {
		return nil, err
	}
	if err := s.ensureDefaultVPCExists(ctx); err != nil {
		return nil, err
	}
	var recs []*networkACLRecord
	err := s.view(ctx, func(t *rtx) error {
		var err error
		recs, err = networkACLs.describe(t, in.NetworkAclIds, in.Filters, aclFilterValues)
		return err
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(recs, in.MaxResults, in.NextToken, func(a *networkACLRecord) string { return deref(a.NetworkAclId) }, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeNetworkAclsResult{NetworkAcls: []ec2api.NetworkAcl{}, NextToken: next}
	for _, a := range pg {
		acl := a.NetworkAcl
		if acl.Associations == nil {
			acl.Associations = []ec2api.NetworkAclAssociation{}
		}
		if acl.Tags == nil {
			acl.Tags = []ec2api.Tag{}
		}
		out.NetworkAcls = append(out.NetworkAcls, acl)
	}
	return out, nil
}

func aclFilterValues(a *networkACLRecord) map[string][]string {
	v := map[string][]string{
		"default":        boolValue(a.IsDefault),
		"network-acl-id": one(deref(a.NetworkAclId)),
		"owner-id":       one(deref(a.OwnerId)),
		"vpc-id":         one(deref(a.VpcId)),
	}
	for _, n := range aclFilterNames {
		if _, ok := v[n]; !ok {
			v[n] = nil
		}
	}
	add := func(name, val string) {
		if val != "" {
			v[name] = append(v[name], val)
		}
	}
	for _, as := range a.Associations {
		add("association.association-id", deref(as.NetworkAclAssociationId))
		add("association.network-acl-id", deref(as.NetworkAclId))
		add("association.subnet-id", deref(as.SubnetId))
	}
	for _, e := range a.Entries {
		add("entry.cidr", deref(e.CidrBlock))
		add("entry.ipv6-cidr", deref(e.Ipv6CidrBlock))
		add("entry.egress", strconv.FormatBool(deref(e.Egress)))
		add("entry.protocol", deref(e.Protocol))
		add("entry.rule-action", deref(e.RuleAction))
		add("entry.rule-number", sgItoa32(deref(e.RuleNumber)))
		if e.IcmpTypeCode != nil {
			add("entry.icmp.type", sgItoa32(deref(e.IcmpTypeCode.Type)))
			add("entry.icmp.code", sgItoa32(deref(e.IcmpTypeCode.Code)))
		}
		if e.PortRange != nil {
			add("entry.port-range.from", sgItoa32(deref(e.PortRange.From)))
			add("entry.port-range.to", sgItoa32(deref(e.PortRange.To)))
		}
	}
	return v
}

// aclEntryInput is what CreateNetworkAclEntry and ReplaceNetworkAclEntry
// share.
type aclEntryInput struct {
	aclID, cidr, cidr6, proto, action *string
	egress                            *bool
	number                            *int32
	icmp                              *ec2api.IcmpTypeCode
	ports                             *ec2api.PortRange
}

// aclProtocolNumbers maps the names AWS accepts to the numbers it stores.
var aclProtocolNumbers = map[string]string{"tcp": "6", "udp": "17", "icmp": "1", "icmpv6": "58", "all": "-1"}

// aclBuildEntry validates an entry as AWS does and returns it normalised.
func aclBuildEntry(in aclEntryInput) (ec2api.NetworkAclEntry, error) {
	var e ec2api.NetworkAclEntry
	if in.number == nil {
		return e, errMissingParam("ruleNumber")
	}
	n := *in.number
	if n < 1 || n > aclMaxRule {
		return e, errInvalidParam("Invalid value '%d' for ruleNumber. Rule numbers must be between 1 and 32766.", n)
	}
	if in.proto == nil {
		return e, errMissingParam("protocol")
	}
	proto := strings.ToLower(strings.TrimSpace(*in.proto))
	if num, ok := aclProtocolNumbers[proto]; ok {
		proto = num
	}
	pn, err := strconv.Atoi(proto)
	if err != nil || pn < -1 || pn > 255 {
		return e, errInvalidParam("Invalid value '%s' for protocol. Must be -1 or a protocol number between 0 and 255.", *in.proto)
	}
	proto = strconv.Itoa(pn)
	action := strings.ToLower(deref(in.action))
	if in.action == nil {
		return e, errMissingParam("ruleAction")
	}
	if action != "allow" && action != "deny" {
		return e, errInvalidParam("Invalid value '%s' for ruleAction. Valid values are allow and deny.", *in.action)
	}
	cidr, cidr6 := deref(in.cidr), deref(in.cidr6)
	switch {
	case cidr == "" && cidr6 == "":
		return e, errMissingParam("cidrBlock or ipv6CidrBlock")
	case cidr != "" && cidr6 != "":
		return e, errCombination("You may specify either an IPv4 CIDR block or an IPv6 CIDR block, but not both.")
	case cidr != "":
		p, ok := parseIPv4CIDR(cidr)
		if !ok {
			return e, errInvalidParam("Value (%s) for parameter cidrBlock is invalid. This is not a valid CIDR block.", cidr)
		}
		e.CidrBlock = new(p.String())
	default:
		p, err := netip.ParsePrefix(cidr6)
		if err != nil || !p.Addr().Is6() || p.Addr().Is4In6() {
			return e, errInvalidParam("Value (%s) for parameter ipv6CidrBlock is invalid. This is not a valid CIDR block.", cidr6)
		}
		e.Ipv6CidrBlock = new(p.Masked().String())
	}
	switch pn {
	case 6, 17:
		if in.ports == nil || in.ports.From == nil || in.ports.To == nil {
			return e, errMissingParam("portRange")
		}
		f, t := *in.ports.From, *in.ports.To
		if f < 0 || f > 65535 || t < 0 || t > 65535 {
			return e, errInvalidParam("Invalid value for portRange. Ports must be between 0 and 65535.")
		}
		if f > t {
			return e, errInvalidParam("Invalid value for portRange. The from port (%d) must not be greater than the to port (%d).", f, t)
		}
		e.PortRange = &ec2api.PortRange{From: new(f), To: new(t)}
	case 1, 58:
		if in.icmp == nil {
			return e, errMissingParam("icmpTypeCode")
		}
		ty, code := int32(-1), int32(-1)
		if in.icmp.Type != nil {
			ty = *in.icmp.Type
		}
		if in.icmp.Code != nil {
			code = *in.icmp.Code
		}
		if ty < -1 || ty > 255 || code < -1 || code > 255 {
			return e, errInvalidParam("Invalid value for icmpTypeCode. Type and code must be between -1 and 255.")
		}
		e.IcmpTypeCode = &ec2api.IcmpTypeCode{Type: new(ty), Code: new(code)}
	}
	e.RuleNumber, e.Protocol, e.RuleAction, e.Egress = new(n), new(proto), new(action), new(deref(in.egress))
	return e, nil
}

// aclFindEntry returns the index of the entry with number and direction.
func aclFindEntry(acl *networkACLRecord, egress bool, number int32) int {
	return slices.IndexFunc(acl.Entries, func(e ec2api.NetworkAclEntry) bool {
		return deref(e.Egress) == egress && deref(e.RuleNumber) == number
	})
}

// CreateNetworkAclEntry adds a numbered rule to a network ACL.
func (s *Service) CreateNetworkAclEntry(ctx context.Context, in *ec2api.CreateNetworkAclEntryRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	e, err := aclBuildEntry(aclEntryInput{aclID: in.NetworkAclId, cidr: in.CidrBlock, cidr6: in.Ipv6CidrBlock, proto: in.Protocol,
		action: in.RuleAction, egress: in.Egress, number: in.RuleNumber, icmp: in.IcmpTypeCode, ports: in.PortRange})
	if err != nil {
		return nil, err
	}
	err = s.update(ctx, func(t *rtx) error {
		acl, err := networkACLs.get(t, deref(in.NetworkAclId))
		if err != nil {
			return err
		}
		if aclFindEntry(acl, deref(e.Egress), deref(e.RuleNumber)) >= 0 {
			return apiErr("NetworkAclEntryAlreadyExists", "The network acl entry identified by %d already exists.", deref(e.RuleNumber))
		}
		acl.Entries = append(acl.Entries, e)
		aclSortEntries(acl)
		return networkACLs.put(t, acl)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

// ReplaceNetworkAclEntry replaces an existing numbered rule.
func (s *Service) ReplaceNetworkAclEntry(ctx context.Context, in *ec2api.ReplaceNetworkAclEntryRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	e, err := aclBuildEntry(aclEntryInput{aclID: in.NetworkAclId, cidr: in.CidrBlock, cidr6: in.Ipv6CidrBlock, proto: in.Protocol,
		action: in.RuleAction, egress: in.Egress, number: in.RuleNumber, icmp: in.IcmpTypeCode, ports: in.PortRange})
	if err != nil {
		return nil, err
	}
	err = s.update(ctx, func(t *rtx) error {
		acl, err := networkACLs.get(t, deref(in.NetworkAclId))
		if err != nil {
			return err
		}
		i := aclFindEntry(acl, deref(e.Egress), deref(e.RuleNumber))
		if i < 0 {
			return aclEntryNotFound(acl, deref(e.Egress), deref(e.RuleNumber))
		}
		acl.Entries[i] = e
		return networkACLs.put(t, acl)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

func aclEntryNotFound(acl *networkACLRecord, egress bool, number int32) error {
	dir := "ingress"
	if egress {
		dir = "egress"
	}
	return apiErr("InvalidNetworkAclEntry.NotFound", "The network acl entry identified by %d (%s) does not exist in network acl '%s'.", number, dir, deref(acl.NetworkAclId))
}

// DeleteNetworkAclEntry removes a numbered rule.
func (s *Service) DeleteNetworkAclEntry(ctx context.Context, in *ec2api.DeleteNetworkAclEntryRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	n := deref(in.RuleNumber)
	if n < 1 || n > aclMaxRule {
		return nil, errInvalidParam("Invalid value '%d' for ruleNumber. Rule numbers must be between 1 and 32766.", n)
	}
	err := s.update(ctx, func(t *rtx) error {
		acl, err := networkACLs.get(t, deref(in.NetworkAclId))
		if err != nil {
			return err
		}
		i := aclFindEntry(acl, deref(in.Egress), n)
		if i < 0 {
			return aclEntryNotFound(acl, deref(in.Egress), n)
		}
		acl.Entries = slices.Delete(acl.Entries, i, i+1)
		return networkACLs.put(t, acl)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

// ReplaceNetworkAclAssociation moves a subnet to another network ACL of its
// VPC; the association gets a new ID.
func (s *Service) ReplaceNetworkAclAssociation(ctx context.Context, in *ec2api.ReplaceNetworkAclAssociationRequest) (*ec2api.ReplaceNetworkAclAssociationResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	assocID := deref(in.AssociationId)
	if assocID == "" {
		return nil, errMissingParam("associationId")
	}
	newID := state.NewID("aclassoc")
	err := s.update(ctx, func(t *rtx) error {
		if !state.ValidID("aclassoc", assocID) {
			return apiErr("InvalidAssociationID.NotFound", "The association ID '%s' does not exist", assocID)
		}
		target, err := networkACLs.get(t, deref(in.NetworkAclId))
		if err != nil {
			return err
		}
		var from *networkACLRecord
		idx := -1
		err = networkACLs.table.ForEach(t.tx, t.scope, func(_ string, a networkACLRecord) error {
			for i, as := range a.Associations {
				if deref(as.NetworkAclAssociationId) == assocID {
					from, idx = &a, i
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if from == nil {
			return apiErr("InvalidAssociationID.NotFound", "The association ID '%s' does not exist", assocID)
		}
		subnetID := deref(from.Associations[idx].SubnetId)
		if deref(from.VpcId) != deref(target.VpcId) {
			return errInvalidParam("Network ACL %s and subnet %s belong to different networks.", deref(target.NetworkAclId), subnetID)
		}
		from.Associations = slices.Delete(from.Associations, idx, idx+1)
		if err := networkACLs.put(t, from); err != nil {
			return err
		}
		if deref(from.NetworkAclId) == deref(target.NetworkAclId) {
			target = from
		}
		target.Associations = append(target.Associations, ec2api.NetworkAclAssociation{
			NetworkAclAssociationId: new(newID), NetworkAclId: target.NetworkAclId, SubnetId: new(subnetID),
		})
		return networkACLs.put(t, target)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ReplaceNetworkAclAssociationResult{NewAssociationId: new(newID)}, nil
}
