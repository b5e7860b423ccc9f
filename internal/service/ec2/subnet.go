package ec2

import (
	"context"
	"net/netip"
	"strconv"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// subnetNew stores a new subnet of v, associated with the VPC's default
// network ACL. Default subnets (defaultForAz) map public IPs on launch, as
// AWS's do.
func subnetNew(t *rtx, v *vpcRecord, cidr, zone, zoneID string, defaultForAz bool, tags []ec2api.Tag) (*subnetRecord, error) {
	if tags == nil {
		tags = []ec2api.Tag{}
	}
	id := state.NewID("subnet")
	sn := &subnetRecord{Subnet: ec2api.Subnet{
		SubnetId:                    new(id),
		VpcId:                       v.VpcId,
		CidrBlock:                   new(cidr),
		AvailabilityZone:            new(zone),
		AvailabilityZoneId:          new(zoneID),
		DefaultForAz:                new(defaultForAz),
		MapPublicIpOnLaunch:         new(defaultForAz),
		MapCustomerOwnedIpOnLaunch:  new(false),
		State:                       new("available"),
		OwnerId:                     new(t.scope.Account),
		AssignIpv6AddressOnCreation: new(false),
		Ipv6CidrBlockAssociationSet: []ec2api.SubnetIpv6CidrBlockAssociation{},
		Tags:                        tags,
		SubnetArn:                   new(state.NewARN(t.scope, "ec2", "subnet/"+id).String()),
		EnableDns64:                 new(false),
		Ipv6Native:                  new(false),
		PrivateDnsNameOptionsOnLaunch: &ec2api.PrivateDnsNameOptionsOnLaunch{
			HostnameType:                    new("ip-name"),
			EnableResourceNameDnsARecord:    new(false),
			EnableResourceNameDnsAAAARecord: new(false),
		},
	}}
	p := netip.MustParsePrefix(cidr)
	sn.AvailableIpAddressCount = new(int32(prefixSize(p) - 5))
	if err := subnets.put(t, sn); err != nil {
		return nil, err
	}
	if err := aclAssociateSubnet(t, deref(v.VpcId), id); err != nil {
		return nil, err
	}
	return sn, nil
}

// subnetPrefixesOf returns the CIDR blocks of the VPC's subnets.
func subnetPrefixesOf(t *rtx, vpcID string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	err := subnets.table.ForEach(t.tx, t.scope, func(_ string, sn subnetRecord) error {
		if deref(sn.VpcId) == vpcID {
			if p, err := netip.ParsePrefix(deref(sn.CidrBlock)); err == nil {
				out = append(out, p)
			}
		}
		return nil
	})
	return out, err
}

// subnetPickZone chooses the zone AWS would when CreateSubnet names none:
// the region's zone holding the fewest of the VPC's subnets, first in zone
// order on a tie.
func subnetPickZone(t *rtx, region regionInfo, vpcID string) (zoneInfo, error) {
	count := map[string]int{}
	err := subnets.table.ForEach(t.tx, t.scope, func(_ string, sn subnetRecord) error {
		if deref(sn.VpcId) == vpcID {
			count[deref(sn.AvailabilityZoneId)]++
		}
		return nil
	})
	if err != nil {
		return zoneInfo{}, err
	}
	best := region.Zones[0]
	for _, z := range region.Zones[1:] {
		if count[z.ID] < count[best.ID] {
			best = z
		}
	}
	return best, nil
}

// CreateSubnet creates a subnet in a VPC.
func (s *Service) CreateSubnet(ctx context.Context, in *ec2api.CreateSubnetRequest) (*ec2api.CreateSubnetResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	vpcID := deref(in.VpcId)
	if vpcID == "" {
		return nil, errMissingParam("VpcId")
	}
	if in.Ipv6CidrBlock != nil || deref(in.Ipv6Native) {
		return nil, errInvalidParam("IPv6 subnets are not supported by minicloud.")
	}
	cidr := deref(in.CidrBlock)
	if cidr == "" {
		return nil, errMissingParam("CidrBlock")
	}
	p, err := vpcParseCIDR(cidr, "cidrBlock")
	if err != nil {
		return nil, err
	}
	if in.AvailabilityZone != nil && in.AvailabilityZoneId != nil {
		return nil, errCombination("Only one of availabilityZone or availabilityZoneId may be specified.")
	}
	tags, err := tagsFor(in.TagSpecifications, "subnet", "subnet")
	if err != nil {
		return nil, err
	}
	var out *subnetRecord
	err = s.update(ctx, func(t *rtx) error {
		if _, err := s.ensureDefaultVPC(t); err != nil {
			return err
		}
		v, err := vpcs.get(t, vpcID)
		if err != nil {
			return err
		}
		region := regionOrSynthetic(t.scope.Region)
		var z zoneInfo
		switch {
		case in.AvailabilityZone != nil:
			var ok bool
			if z, ok = subnetZone(region, *in.AvailabilityZone, ""); !ok {
				return errInvalidParam("Value (%s) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: %s.", *in.AvailabilityZone, subnetZoneList(region))
			}
		case in.AvailabilityZoneId != nil:
			var ok bool
			if z, ok = subnetZone(region, "", *in.AvailabilityZoneId); !ok {
				ids := ""
				for i, z := range region.Zones {
					if i > 0 {
						ids += ", "
					}
					ids += z.ID
				}
				return errInvalidParam("Value (%s) for parameter availabilityZoneId is invalid. Subnets can currently only be created in the following availability zones: %s.", *in.AvailabilityZoneId, ids)
			}
		default:
			if z, err = subnetPickZone(t, region, vpcID); err != nil {
				return err
			}
		}
		inside := false
		for _, vp := range vpcCIDRs(v) {
			if vp.Bits() <= p.Bits() && vp.Contains(p.Addr()) {
				inside = true
			}
		}
		if !inside || p.Bits() < 16 || p.Bits() > 28 {
			return apiErr("InvalidSubnet.Range", "The CIDR '%s' is invalid.", cidr)
		}
		taken, err := subnetPrefixesOf(t, vpcID)
		if err != nil {
			return err
		}
		for _, tp := range taken {
			if tp.Overlaps(p) {
				return apiErr("InvalidSubnet.Conflict", "The CIDR '%s' conflicts with another subnet", cidr)
			}
		}
		out, err = subnetNew(t, v, p.String(), region.Name+z.Letter, z.ID, false, tags)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateSubnetResult{Subnet: &out.Subnet}, nil
}

// DescribeSubnets lists subnets, with AvailableIpAddressCount as of now.
func (s *Service) DescribeSubnets(ctx context.Context, in *ec2api.DescribeSubnetsRequest) (*ec2api.DescribeSubnetsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	fs := toFilters(in.Filters)
	if err := state.CheckFilterNames(fs, subnetFilterNames...); err != nil {
		return nil, err
	}
	var out []ec2api.Subnet
	var next *string
	if err := s.ensureDefaultVPCExists(ctx); err != nil {
		return nil, err
	}
	err := s.view(ctx, func(t *rtx) error {
		recs, err := subnets.describe(t, in.SubnetIds, nil, nil)
		if err != nil {
			return err
		}
		// The count changes with the ENIs in the subnet, so it is filled
		// before filtering on it.
		for _, r := range recs {
			n, err := availableIPCount(t, r)
			if err != nil {
				return err
			}
			r.AvailableIpAddressCount = new(n)
		}
		var kept []*subnetRecord
		for _, r := range recs {
			vals := subnetFilterValues(r)
			ok, err := state.MatchWithTags(fs, fromAPITags(r.Tags), func(name string) ([]string, bool) {
				v, ok := vals[name]
				return v, ok
			})
			if err != nil {
				return err
			}
			if ok {
				kept = append(kept, r)
			}
		}
		pg, nt, err := page(kept, in.MaxResults, in.NextToken, func(r *subnetRecord) string { return deref(r.SubnetId) }, 5, 1000)
		if err != nil {
			return err
		}
		next = nt
		for _, r := range pg {
			out = append(out, r.Subnet)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []ec2api.Subnet{}
	}
	return &ec2api.DescribeSubnetsResult{Subnets: out, NextToken: next}, nil
}

var subnetFilterNames = []string{"availability-zone", "availabilityZone", "availability-zone-id", "availabilityZoneId",
	"available-ip-address-count", "cidr-block", "cidr", "cidrBlock", "default-for-az", "defaultForAz",
	"map-public-ip-on-launch", "state", "subnet-id", "vpc-id", "owner-id", "subnet-arn", "ipv6-native",
	"ipv6-cidr-block-association.ipv6-cidr-block", "ipv6-cidr-block-association.association-id",
	"ipv6-cidr-block-association.state", "outpost-arn", "enable-dns64", "customer-owned-ipv4-pool",
	"map-customer-owned-ip-on-launch", "private-dns-name-options-on-launch.hostname-type",
	"private-dns-name-options-on-launch.enable-resource-name-dns-a-record",
	"private-dns-name-options-on-launch.enable-resource-name-dns-aaaa-record"}

func subnetFilterValues(r *subnetRecord) map[string][]string {
	var hn, a, aaaa []string
	if o := r.PrivateDnsNameOptionsOnLaunch; o != nil {
		hn, a, aaaa = ptrValues(o.HostnameType), boolValue(o.EnableResourceNameDnsARecord), boolValue(o.EnableResourceNameDnsAAAARecord)
	}
	return map[string][]string{
		"availability-zone":          ptrValues(r.AvailabilityZone),
		"availabilityZone":           ptrValues(r.AvailabilityZone),
		"availability-zone-id":       ptrValues(r.AvailabilityZoneId),
		"availabilityZoneId":         ptrValues(r.AvailabilityZoneId),
		"available-ip-address-count": {strconv.Itoa(int(deref(r.AvailableIpAddressCount)))},
		"cidr-block":                 ptrValues(r.CidrBlock),
		"cidr":                       ptrValues(r.CidrBlock),
		"cidrBlock":                  ptrValues(r.CidrBlock),
		"default-for-az":             boolValue(r.DefaultForAz),
		"defaultForAz":               boolValue(r.DefaultForAz),
		"map-public-ip-on-launch":    boolValue(r.MapPublicIpOnLaunch),
		"state":                      ptrValues(r.State),
		"subnet-id":                  ptrValues(r.SubnetId),
		"vpc-id":                     ptrValues(r.VpcId),
		"owner-id":                   ptrValues(r.OwnerId),
		"subnet-arn":                 ptrValues(r.SubnetArn),
		"ipv6-native":                boolValue(r.Ipv6Native),
		"ipv6-cidr-block-association.ipv6-cidr-block":                             nil,
		"ipv6-cidr-block-association.association-id":                              nil,
		"ipv6-cidr-block-association.state":                                       nil,
		"outpost-arn":                                                             ptrValues(r.OutpostArn),
		"enable-dns64":                                                            boolValue(r.EnableDns64),
		"customer-owned-ipv4-pool":                                                ptrValues(r.CustomerOwnedIpv4Pool),
		"map-customer-owned-ip-on-launch":                                         boolValue(r.MapCustomerOwnedIpOnLaunch),
		"private-dns-name-options-on-launch.hostname-type":                        hn,
		"private-dns-name-options-on-launch.enable-resource-name-dns-a-record":    a,
		"private-dns-name-options-on-launch.enable-resource-name-dns-aaaa-record": aaaa,
	}
}

// DeleteSubnet deletes a subnet no network interface uses; its route table
// and network ACL associations go with it.
func (s *Service) DeleteSubnet(ctx context.Context, in *ec2api.DeleteSubnetRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	id := deref(in.SubnetId)
	if id == "" {
		return nil, errMissingParam("SubnetId")
	}
	err := s.update(ctx, func(t *rtx) error {
		if _, err := subnets.get(t, id); err != nil {
			return err
		}
		busy := false
		if err := networkInterfaces.table.ForEach(t.tx, t.scope, func(_ string, e networkInterfaceRecord) error {
			if deref(e.SubnetId) == id {
				busy = true
			}
			return nil
		}); err != nil {
			return err
		}
		if !busy {
			if err := natGateways.table.ForEach(t.tx, t.scope, func(_ string, n natGatewayRecord) error {
				if deref(n.SubnetId) == id && natState(&n, t.now) != "deleted" {
					busy = true
				}
				return nil
			}); err != nil {
				return err
			}
		}
		if busy {
			return errDependency("The subnet '%s' has dependencies and cannot be deleted.", id)
		}
		if err := rtbEach(t, func(r *routeTableRecord) bool {
			n := len(r.Associations)
			r.Associations = rtbDropAssoc(r.Associations, func(a ec2api.RouteTableAssociation) bool { return deref(a.SubnetId) == id })
			return n != len(r.Associations)
		}); err != nil {
			return err
		}
		if err := aclDisassociateSubnet(t, id); err != nil {
			return err
		}
		if err := vpcEndpointsDropSubnet(t, id); err != nil {
			return err
		}
		return subnets.del(t, id)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

// ModifySubnetAttribute changes one attribute of a subnet.
func (s *Service) ModifySubnetAttribute(ctx context.Context, in *ec2api.ModifySubnetAttributeRequest) (*ec2api.Empty, error) {
	id := deref(in.SubnetId)
	if id == "" {
		return nil, errMissingParam("SubnetId")
	}
	err := s.update(ctx, func(t *rtx) error {
		sn, err := subnets.get(t, id)
		if err != nil {
			return err
		}
		set := func(dst **bool, a *ec2api.AttributeBooleanValue) {
			if a != nil && a.Value != nil {
				*dst = new(*a.Value)
			}
		}
		if in.AssignIpv6AddressOnCreation != nil && deref(in.AssignIpv6AddressOnCreation.Value) {
			return errInvalidParam("Invalid value 'true' for assignIpv6AddressOnCreation. Cannot set assignIpv6AddressOnCreation to true unless the subnet (%s) has an IPv6 CIDR block associated with it.", id)
		}
		if in.MapCustomerOwnedIpOnLaunch != nil && deref(in.MapCustomerOwnedIpOnLaunch.Value) {
			return errInvalidParam("Customer-owned IP pools are not supported by minicloud.")
		}
		set(&sn.MapPublicIpOnLaunch, in.MapPublicIpOnLaunch)
		set(&sn.AssignIpv6AddressOnCreation, in.AssignIpv6AddressOnCreation)
		set(&sn.MapCustomerOwnedIpOnLaunch, in.MapCustomerOwnedIpOnLaunch)
		set(&sn.EnableDns64, in.EnableDns64)
		if sn.PrivateDnsNameOptionsOnLaunch == nil {
			sn.PrivateDnsNameOptionsOnLaunch = &ec2api.PrivateDnsNameOptionsOnLaunch{HostnameType: new("ip-name"), EnableResourceNameDnsARecord: new(false), EnableResourceNameDnsAAAARecord: new(false)}
		}
		o := sn.PrivateDnsNameOptionsOnLaunch
		if h := in.PrivateDnsHostnameTypeOnLaunch; h != nil {
			if *h != "ip-name" && *h != "resource-name" {
				return errInvalidParam("Value (%s) for parameter privateDnsHostnameTypeOnLaunch is invalid.", *h)
			}
			o.HostnameType = new(*h)
		}
		set(&o.EnableResourceNameDnsARecord, in.EnableResourceNameDnsARecordOnLaunch)
		set(&o.EnableResourceNameDnsAAAARecord, in.EnableResourceNameDnsAAAARecordOnLaunch)
		if in.EnableLniAtDeviceIndex != nil {
			sn.EnableLniAtDeviceIndex = new(*in.EnableLniAtDeviceIndex)
		}
		if in.DisableLniAtDeviceIndex != nil && deref(in.DisableLniAtDeviceIndex.Value) {
			sn.EnableLniAtDeviceIndex = nil
		}
		return subnets.put(t, sn)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}
