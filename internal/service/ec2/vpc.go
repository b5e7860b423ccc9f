package ec2

import (
	"context"
	"net/netip"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// vpcDhcpOptionsID is the DhcpOptionsId of every VPC. AWS gives each
// account a default DHCP options set (dopt-…, AmazonProvidedDNS) and
// associates it with new VPCs; minicloud does not model DHCP options sets,
// so VPCs report "default", which is what AWS shows for a VPC associated
// with no DHCP options set ("AssociateDhcpOptions default"): an ID that
// never dangles.
const vpcDhcpOptionsID = "default"

// vpcMaxCIDRs is AWS's default quota of IPv4 CIDR blocks per VPC.
const vpcMaxCIDRs = 5

// vpcParseCIDR parses an IPv4 CIDR for a VPC or subnet the way AWS reads
// it: the block is canonicalised (10.250.1.0/16 is 10.250.0.0/16,
// 172.30.00.0/24 is 172.30.0.0/24), only what is no IPv4 CIDR at all is
// refused.
func vpcParseCIDR(cidr, param string) (netip.Prefix, error) {
	p, ok := parseIPv4CIDR(cidr)
	if !ok {
		return netip.Prefix{}, errInvalidParam("Value (%s) for parameter %s is invalid. This is not a valid CIDR block.", cidr, param)
	}
	return p, nil
}

// parseIPv4CIDR reads a.b.c.d/n, each octet decimal (leading zeros allowed,
// as AWS allows them), and returns the block with its host bits cleared.
func parseIPv4CIDR(s string) (netip.Prefix, bool) {
	addr, bits, ok := strings.Cut(s, "/")
	if !ok {
		return netip.Prefix{}, false
	}
	n, ok := decimal(bits, 32)
	if !ok {
		return netip.Prefix{}, false
	}
	var b [4]byte
	parts := strings.Split(addr, ".")
	if len(parts) != 4 {
		return netip.Prefix{}, false
	}
	for i, part := range parts {
		v, ok := decimal(part, 255)
		if !ok {
			return netip.Prefix{}, false
		}
		b[i] = byte(v)
	}
	return netip.PrefixFrom(netip.AddrFrom4(b), n).Masked(), true
}

// decimal reads 1 to 3 decimal digits no greater than max.
func decimal(s string, max int) (int, bool) {
	if s == "" || len(s) > 3 {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, v <= max
}

// vpcCIDRs returns the VPC's associated IPv4 CIDR blocks, primary first.
func vpcCIDRs(v *vpcRecord) []netip.Prefix {
	var out []netip.Prefix
	for _, a := range v.CidrBlockAssociationSet {
		if a.CidrBlockState != nil && deref(a.CidrBlockState.State) != "associated" {
			continue
		}
		if p, err := netip.ParsePrefix(deref(a.CidrBlock)); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// vpcNew stores a new VPC with its main route table (local route only),
// default network ACL and default security group, and returns the VPC and
// the main route table.
func vpcNew(t *rtx, cidr, tenancy string, isDefault bool, tags []ec2api.Tag) (*vpcRecord, *routeTableRecord, error) {
	if tags == nil {
		tags = []ec2api.Tag{}
	}
	id := state.NewID("vpc")
	v := &vpcRecord{Vpc: ec2api.Vpc{
		VpcId:           new(id),
		CidrBlock:       new(cidr),
		DhcpOptionsId:   new(vpcDhcpOptionsID),
		State:           new("available"),
		OwnerId:         new(t.scope.Account),
		InstanceTenancy: new(tenancy),
		IsDefault:       new(isDefault),
		CidrBlockAssociationSet: []ec2api.VpcCidrBlockAssociation{{
			AssociationId:  new(state.NewID("vpc-cidr-assoc")),
			CidrBlock:      new(cidr),
			CidrBlockState: &ec2api.VpcCidrBlockState{State: new("associated")},
		}},
		Ipv6CidrBlockAssociationSet: []ec2api.VpcIpv6CidrBlockAssociation{},
		Tags:                        tags,
	}, EnableDNSSupport: true, EnableDNSHostnames: isDefault}
	if err := vpcs.put(t, v); err != nil {
		return nil, nil, err
	}
	rtb, err := rtbNew(t, v, true, nil)
	if err != nil {
		return nil, nil, err
	}
	if _, err := newDefaultNetworkACL(t, id); err != nil {
		return nil, nil, err
	}
	if _, err := newDefaultSecurityGroup(t, id); err != nil {
		return nil, nil, err
	}
	return v, rtb, nil
}

// vpcRestricted returns the ranges a secondary CIDR may not come from given
// the VPC's primary CIDR (VPC user guide, "IPv4 CIDR block association
// restrictions").
func vpcRestricted(primary netip.Prefix) []netip.Prefix {
	p := func(s string) netip.Prefix { return netip.MustParsePrefix(s) }
	ten, oneSeven, oneNine, bench := p("10.0.0.0/8"), p("172.16.0.0/12"), p("192.168.0.0/16"), p("198.19.0.0/16")
	a := primary.Addr()
	switch {
	case ten.Contains(a):
		return []netip.Prefix{oneSeven, oneNine}
	case oneSeven.Contains(a):
		return []netip.Prefix{ten, oneNine}
	case oneNine.Contains(a):
		return []netip.Prefix{ten, oneSeven}
	case bench.Contains(a):
		return []netip.Prefix{ten, oneSeven, oneNine}
	default:
		return []netip.Prefix{ten, oneSeven, oneNine, bench}
	}
}

// vpcCheckPrefixLen enforces the /16–/28 rule of VPC CIDR blocks.
func vpcCheckPrefixLen(p netip.Prefix, cidr string) error {
	if p.Bits() < 16 || p.Bits() > 28 {
		return apiErr("InvalidVpc.Range", "The CIDR '%s' is invalid.", cidr)
	}
	return nil
}

// CreateVpc creates a VPC with its main route table, default network ACL
// and default security group.
func (s *Service) CreateVpc(ctx context.Context, in *ec2api.CreateVpcRequest) (*ec2api.CreateVpcResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	cidr := deref(in.CidrBlock)
	if cidr == "" {
		if in.Ipv4IpamPoolId != nil {
			return nil, errInvalidParam("IPAM pools are not supported by minicloud.")
		}
		return nil, errMissingParam("CidrBlock")
	}
	p, err := vpcParseCIDR(cidr, "cidrBlock")
	if err != nil {
		return nil, err
	}
	if err := vpcCheckPrefixLen(p, cidr); err != nil {
		return nil, err
	}
	tenancy := deref(in.InstanceTenancy)
	switch tenancy {
	case "":
		tenancy = "default"
	case "default", "dedicated":
	case "host":
		return nil, apiErr("InvalidParameterValue", "The tenancy value host is not supported.")
	default:
		return nil, errInvalidParam("Value (%s) for parameter instanceTenancy is invalid.", tenancy)
	}
	tags, err := tagsFor(in.TagSpecifications, "vpc", "vpc")
	if err != nil {
		return nil, err
	}
	var out *vpcRecord
	err = s.update(ctx, func(t *rtx) error {
		if _, err := s.ensureDefaultVPC(t); err != nil {
			return err
		}
		out, _, err = vpcNew(t, p.String(), tenancy, false, tags)
		return err
	})
	if err != nil {
		return nil, err
	}
	// AWS answers CreateVpc with "pending"; DescribeVpcs shows "available"
	// at once, as minicloud's VPCs need no provisioning.
	res := out.Vpc
	res.State = new("pending")
	return &ec2api.CreateVpcResult{Vpc: &res}, nil
}

// DescribeVpcs lists VPCs.
func (s *Service) DescribeVpcs(ctx context.Context, in *ec2api.DescribeVpcsRequest) (*ec2api.DescribeVpcsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	fs := toFilters(in.Filters)
	if err := state.CheckFilterNames(fs, "vpc-id", "cidr", "cidr-block", "cidr-block-association.cidr-block",
		"cidr-block-association.association-id", "cidr-block-association.state", "dhcp-options-id", "is-default",
		"owner-id", "state", "instance-tenancy", "ipv6-cidr-block-association.ipv6-cidr-block",
		"ipv6-cidr-block-association.association-id", "ipv6-cidr-block-association.state",
		"ipv6-cidr-block-association.ipv6-pool"); err != nil {
		return nil, err
	}
	var recs []*vpcRecord
	if err := s.ensureDefaultVPCExists(ctx); err != nil {
		return nil, err
	}
	err := s.view(ctx, func(t *rtx) error {
		var err error
		recs, err = vpcs.describe(t, in.VpcIds, in.Filters, vpcFilterValues)
		return err
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(recs, in.MaxResults, in.NextToken, func(v *vpcRecord) string { return deref(v.VpcId) }, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeVpcsResult{Vpcs: []ec2api.Vpc{}, NextToken: next}
	for _, v := range pg {
		out.Vpcs = append(out.Vpcs, v.Vpc)
	}
	return out, nil
}

func vpcFilterValues(v *vpcRecord) map[string][]string {
	var cidrs, assocIDs, states, v6, v6IDs, v6States, v6Pools []string
	for _, a := range v.CidrBlockAssociationSet {
		cidrs = append(cidrs, deref(a.CidrBlock))
		assocIDs = append(assocIDs, deref(a.AssociationId))
		if a.CidrBlockState != nil {
			states = append(states, deref(a.CidrBlockState.State))
		}
	}
	for _, a := range v.Ipv6CidrBlockAssociationSet {
		v6 = append(v6, deref(a.Ipv6CidrBlock))
		v6IDs = append(v6IDs, deref(a.AssociationId))
		v6Pools = append(v6Pools, deref(a.Ipv6Pool))
		if a.Ipv6CidrBlockState != nil {
			v6States = append(v6States, deref(a.Ipv6CidrBlockState.State))
		}
	}
	return map[string][]string{
		"vpc-id":                                one(deref(v.VpcId)),
		"cidr":                                  one(deref(v.CidrBlock)),
		"cidr-block":                            one(deref(v.CidrBlock)),
		"cidr-block-association.cidr-block":     cidrs,
		"cidr-block-association.association-id": assocIDs,
		"cidr-block-association.state":          states,
		"dhcp-options-id":                       one(deref(v.DhcpOptionsId)),
		"is-default":                            boolValue(v.IsDefault),
		"owner-id":                              one(deref(v.OwnerId)),
		"state":                                 one(deref(v.State)),
		"instance-tenancy":                      one(deref(v.InstanceTenancy)),
		"ipv6-cidr-block-association.ipv6-cidr-block": v6,
		"ipv6-cidr-block-association.association-id":  v6IDs,
		"ipv6-cidr-block-association.state":           v6States,
		"ipv6-cidr-block-association.ipv6-pool":       v6Pools,
	}
}

// DeleteVpc deletes a VPC that has nothing left in it but its main route
// table, default network ACL and default security group, which go with it.
func (s *Service) DeleteVpc(ctx context.Context, in *ec2api.DeleteVpcRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	id := deref(in.VpcId)
	if id == "" {
		return nil, errMissingParam("VpcId")
	}
	err := s.update(ctx, func(t *rtx) error {
		if _, err := vpcs.get(t, id); err != nil {
			return err
		}
		dep := func() error {
			return errDependency("The vpc '%s' has dependencies and cannot be deleted.", id)
		}
		busy := false
		check := func(b bool) {
			if b {
				busy = true
			}
		}
		if err := subnets.table.ForEach(t.tx, t.scope, func(_ string, r subnetRecord) error {
			check(deref(r.VpcId) == id)
			return nil
		}); err != nil {
			return err
		}
		if err := internetGateways.table.ForEach(t.tx, t.scope, func(_ string, r igwRecord) error {
			for _, a := range r.Attachments {
				check(deref(a.VpcId) == id)
			}
			return nil
		}); err != nil {
			return err
		}
		if err := securityGroups.table.ForEach(t.tx, t.scope, func(_ string, r securityGroupRecord) error {
			check(deref(r.VpcId) == id && deref(r.GroupName) != "default")
			return nil
		}); err != nil {
			return err
		}
		if err := routeTables.table.ForEach(t.tx, t.scope, func(_ string, r routeTableRecord) error {
			check(deref(r.VpcId) == id && !rtbIsMain(&r))
			return nil
		}); err != nil {
			return err
		}
		if err := networkACLs.table.ForEach(t.tx, t.scope, func(_ string, r networkACLRecord) error {
			check(deref(r.VpcId) == id && !deref(r.IsDefault))
			return nil
		}); err != nil {
			return err
		}
		if err := vpcEndpoints.table.ForEach(t.tx, t.scope, func(_ string, r vpcEndpointRecord) error {
			check(deref(r.VpcId) == id && deref(r.State) != "deleted")
			return nil
		}); err != nil {
			return err
		}
		if err := networkInterfaces.table.ForEach(t.tx, t.scope, func(_ string, r networkInterfaceRecord) error {
			check(deref(r.VpcId) == id)
			return nil
		}); err != nil {
			return err
		}
		if busy {
			return dep()
		}
		// Nothing else is left: remove the VPC's own parts (main route table,
		// default network ACL, default security group). NAT gateways in
		// "deleted" state still name the VPC; they stay listed until they
		// expire, as in AWS.
		if err := routeTables.deleteWhere(t, func(r *routeTableRecord) bool { return deref(r.VpcId) == id }); err != nil {
			return err
		}
		if err := networkACLs.deleteWhere(t, func(r *networkACLRecord) bool { return deref(r.VpcId) == id }); err != nil {
			return err
		}
		if err := securityGroups.deleteWhere(t, func(r *securityGroupRecord) bool { return deref(r.VpcId) == id }); err != nil {
			return err
		}
		return vpcs.del(t, id)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

// ModifyVpcAttribute sets enableDnsSupport or enableDnsHostnames (one per
// call, as AWS requires).
func (s *Service) ModifyVpcAttribute(ctx context.Context, in *ec2api.ModifyVpcAttributeRequest) (*ec2api.Empty, error) {
	id := deref(in.VpcId)
	if id == "" {
		return nil, errMissingParam("VpcId")
	}
	n := 0
	for _, a := range []*ec2api.AttributeBooleanValue{in.EnableDnsSupport, in.EnableDnsHostnames, in.EnableNetworkAddressUsageMetrics} {
		if a != nil {
			n++
		}
	}
	if n == 0 {
		return nil, errMissingParam("EnableDnsSupport, EnableDnsHostnames or EnableNetworkAddressUsageMetrics")
	}
	if n > 1 {
		return nil, errCombination("Fields for multiple attribute types specified: enableDnsSupport, enableDnsHostnames, enableNetworkAddressUsageMetrics")
	}
	err := s.update(ctx, func(t *rtx) error {
		v, err := vpcs.get(t, id)
		if err != nil {
			return err
		}
		switch {
		case in.EnableDnsSupport != nil:
			if in.EnableDnsSupport.Value == nil {
				return errMissingParam("EnableDnsSupport.Value")
			}
			v.EnableDNSSupport = *in.EnableDnsSupport.Value
		case in.EnableDnsHostnames != nil:
			if in.EnableDnsHostnames.Value == nil {
				return errMissingParam("EnableDnsHostnames.Value")
			}
			v.EnableDNSHostnames = *in.EnableDnsHostnames.Value
		case in.EnableNetworkAddressUsageMetrics != nil:
			if in.EnableNetworkAddressUsageMetrics.Value == nil {
				return errMissingParam("EnableNetworkAddressUsageMetrics.Value")
			}
			// Network Address Usage metrics are a billing feature with
			// nothing to measure in minicloud; the setting is accepted and
			// reported as false.
		}
		return vpcs.put(t, v)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

// DescribeVpcAttribute answers one attribute of a VPC.
func (s *Service) DescribeVpcAttribute(ctx context.Context, in *ec2api.DescribeVpcAttributeRequest) (*ec2api.DescribeVpcAttributeResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	id, attr := deref(in.VpcId), deref(in.Attribute)
	if id == "" {
		return nil, errMissingParam("VpcId")
	}
	if attr == "" {
		return nil, errMissingParam("Attribute")
	}
	if !slices.Contains([]string{"enableDnsSupport", "enableDnsHostnames", "enableNetworkAddressUsageMetrics"}, attr) {
		return nil, errInvalidParam("Value (%s) for parameter attribute is invalid. Unknown attribute.", attr)
	}
	out := &ec2api.DescribeVpcAttributeResult{VpcId: new(id)}
	if err := s.ensureDefaultVPCExists(ctx); err != nil {
		return nil, err
	}
	err := s.view(ctx, func(t *rtx) error {
		v, err := vpcs.get(t, id)
		if err != nil {
			return err
		}
		switch attr {
		case "enableDnsSupport":
			out.EnableDnsSupport = &ec2api.AttributeBooleanValue{Value: new(v.EnableDNSSupport)}
		case "enableDnsHostnames":
			out.EnableDnsHostnames = &ec2api.AttributeBooleanValue{Value: new(v.EnableDNSHostnames)}
		default:
			out.EnableNetworkAddressUsageMetrics = &ec2api.AttributeBooleanValue{Value: new(false)}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AssociateVpcCidrBlock adds a secondary IPv4 CIDR block to a VPC and a
// local route for it to each of the VPC's route tables.
func (s *Service) AssociateVpcCidrBlock(ctx context.Context, in *ec2api.AssociateVpcCidrBlockRequest) (*ec2api.AssociateVpcCidrBlockResult, error) {
	id := deref(in.VpcId)
	if id == "" {
		return nil, errMissingParam("VpcId")
	}
	if deref(in.AmazonProvidedIpv6CidrBlock) || in.Ipv6CidrBlock != nil || in.Ipv6IpamPoolId != nil {
		return nil, errInvalidParam("IPv6 CIDR blocks are not supported by minicloud.")
	}
	cidr := deref(in.CidrBlock)
	if cidr == "" {
		return nil, errMissingParam("CidrBlock")
	}
	p, err := vpcParseCIDR(cidr, "cidrBlock")
	if err != nil {
		return nil, err
	}
	if err := vpcCheckPrefixLen(p, cidr); err != nil {
		return nil, err
	}
	var assoc ec2api.VpcCidrBlockAssociation
	err = s.update(ctx, func(t *rtx) error {
		v, err := vpcs.get(t, id)
		if err != nil {
			return err
		}
		have := vpcCIDRs(v)
		if len(have) >= vpcMaxCIDRs {
			return apiErr("CidrLimitExceeded", "This network '%s' has met its maximum number of allowed CIDRs: %d", id, vpcMaxCIDRs)
		}
		for _, r := range vpcRestricted(have[0]) {
			if r.Overlaps(p) {
				return apiErr("InvalidVpc.Range", "The CIDR '%s' is restricted. Use a CIDR from the same private address range as the current VPC CIDR, or use a publicly-routable CIDR. For additional restrictions, see https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html", cidr)
			}
		}
		for _, h := range have {
			if h.Overlaps(p) {
				return apiErr("InvalidVpc.Range", "The CIDR '%s' conflicts with another CIDR block in the VPC.", cidr)
			}
		}
		assoc = ec2api.VpcCidrBlockAssociation{
			AssociationId:  new(state.NewID("vpc-cidr-assoc")),
			CidrBlock:      new(p.String()),
			CidrBlockState: &ec2api.VpcCidrBlockState{State: new("associated")},
		}
		v.CidrBlockAssociationSet = append(v.CidrBlockAssociationSet, assoc)
		if err := vpcs.put(t, v); err != nil {
			return err
		}
		return rtbEachOfVPC(t, id, func(r *routeTableRecord) bool {
			r.Routes = append(r.Routes, rtbLocalRoute(p.String()))
			return true
		})
	})
	if err != nil {
		return nil, err
	}
	assoc.CidrBlockState = &ec2api.VpcCidrBlockState{State: new("associating")}
	return &ec2api.AssociateVpcCidrBlockResult{VpcId: new(id), CidrBlockAssociation: &assoc}, nil
}

// DisassociateVpcCidrBlock removes a secondary IPv4 CIDR block that no
// subnet uses, with its local routes.
func (s *Service) DisassociateVpcCidrBlock(ctx context.Context, in *ec2api.DisassociateVpcCidrBlockRequest) (*ec2api.DisassociateVpcCidrBlockResult, error) {
	aid := deref(in.AssociationId)
	if aid == "" {
		return nil, errMissingParam("AssociationId")
	}
	var out ec2api.DisassociateVpcCidrBlockResult
	err := s.update(ctx, func(t *rtx) error {
		var v *vpcRecord
		idx := -1
		err := vpcs.table.ForEach(t.tx, t.scope, func(_ string, r vpcRecord) error {
			for i, a := range r.CidrBlockAssociationSet {
				if deref(a.AssociationId) == aid {
					v, idx = &r, i
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if v == nil {
			return apiErr("InvalidVpcCidrBlockAssociationID.NotFound", "The vpc CIDR block association ID '%s' does not exist", aid)
		}
		if idx == 0 {
			return apiErr("OperationNotPermitted", "The vpc CIDR block with association ID %s may not be disassociated. It is the primary IPv4 CIDR block of the VPC", aid)
		}
		a := v.CidrBlockAssociationSet[idx]
		cidr := deref(a.CidrBlock)
		p, _ := netip.ParsePrefix(cidr)
		used, err := subnetPrefixesOf(t, deref(v.VpcId))
		if err != nil {
			return err
		}
		for _, sp := range used {
			if p.Overlaps(sp) {
				return errDependency("The vpc CIDR block with association ID %s has dependencies and cannot be disassociated.", aid)
			}
		}
		v.CidrBlockAssociationSet = slices.Delete(v.CidrBlockAssociationSet, idx, idx+1)
		if err := vpcs.put(t, v); err != nil {
			return err
		}
		if err := rtbEachOfVPC(t, deref(v.VpcId), func(r *routeTableRecord) bool {
			n := len(r.Routes)
			r.Routes = slices.DeleteFunc(r.Routes, func(rt ec2api.Route) bool {
				return deref(rt.GatewayId) == "local" && deref(rt.DestinationCidrBlock) == cidr
			})
			return len(r.Routes) != n
		}); err != nil {
			return err
		}
		a.CidrBlockState = &ec2api.VpcCidrBlockState{State: new("disassociating")}
		out = ec2api.DisassociateVpcCidrBlockResult{VpcId: v.VpcId, CidrBlockAssociation: &a}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
