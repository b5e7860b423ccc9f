package ec2

import (
	"context"
	"net/netip"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// The default VPC. AWS gives every account, in every region, a VPC
// 172.31.0.0/16 with one /20 default subnet per Availability Zone, an
// attached internet gateway, a main route table routing 0.0.0.0/0 to it, the
// default security group and the default network ACL. minicloud creates it
// lazily, the first time an account uses the VPC area of a region
// (ensureDefaultVPC); a marker record remembers that it was done, so a
// default VPC the user deleted stays deleted, as in AWS, until
// CreateDefaultVpc.

// defaultVPCCIDR is the default VPC's block; its subnets are /20s of it.
const (
	defaultVPCCIDR       = "172.31.0.0/16"
	defaultSubnetBits    = 20
	defaultVPCMarkerID   = "created"
	defaultVPCMarkerKind = "defaultvpc"
)

// defaultVPCMarker records that the scope's default VPC was created once.
type defaultVPCMarker struct {
	VpcID string `json:"vpcId"`
}

var defaultVPCMarkers = state.Table[defaultVPCMarker]{Service: "ec2", Kind: defaultVPCMarkerKind}

// ensureDefaultVPC creates, the first time it is called for t.scope, the
// default VPC as AWS lays it out, and returns the scope's default VPC. It
// returns (nil, nil) when the default VPC was deleted since (AWS does not
// recreate it; only CreateDefaultVpc does). It writes, so t must be an
// update transaction.
func (s *Service) ensureDefaultVPC(t *rtx) (*vpcRecord, error) {
	_, done, err := defaultVPCMarkers.Get(t.tx, t.scope, defaultVPCMarkerID)
	if err != nil {
		return nil, err
	}
	if done {
		return vpcFindDefault(t)
	}
	v, err := defaultVPCCreate(t)
	if err != nil {
		return nil, err
	}
	if err := defaultVPCMarkers.Put(t.tx, t.scope, defaultVPCMarkerID, defaultVPCMarker{VpcID: deref(v.VpcId)}); err != nil {
		return nil, err
	}
	return v, nil
}

type noDefaultVPCKey struct{}

// WithoutDefaultVPC marks ctx for a read that must not create the default VPC:
// Describe calls made with it show only what the account already has. The
// diagram reads so, since looking at a region is not using it.
func WithoutDefaultVPC(ctx context.Context) context.Context {
	return context.WithValue(ctx, noDefaultVPCKey{}, true)
}

// ensureDefaultVPCExists creates the default VPC the first time an account
// looks at the VPC area of a region, as it always exists in AWS. It commits
// only when there is something to create, so Describe calls stay read-only
// transactions: no write lock, no fsync.
func (s *Service) ensureDefaultVPCExists(ctx context.Context) error {
	if ctx.Value(noDefaultVPCKey{}) != nil {
		return nil
	}
	done := false
	err := s.view(ctx, func(t *rtx) error {
		_, ok, err := defaultVPCMarkers.Get(t.tx, t.scope, defaultVPCMarkerID)
		done = ok
		return err
	})
	if err != nil || done {
		return err
	}
	return s.update(ctx, func(t *rtx) error {
		_, err := s.ensureDefaultVPC(t)
		return err
	})
}

// vpcFindDefault returns the scope's default VPC, or nil.
func vpcFindDefault(t *rtx) (*vpcRecord, error) {
	var found *vpcRecord
	err := vpcs.table.ForEach(t.tx, t.scope, func(_ string, v vpcRecord) error {
		if found == nil && deref(v.IsDefault) {
			found = &v
		}
		return nil
	})
	return found, err
}

// vpcDefaultSubnet returns the default subnet of the default VPC in zone
// (a zone name such as "us-east-1a"), or, with zone "", the first default
// subnet in zone order. It returns nil when there is none (no default VPC,
// or its default subnet of that zone was deleted). Call ensureDefaultVPC
// first.
func vpcDefaultSubnet(t *rtx, zone string) (*subnetRecord, error) {
	v, err := vpcFindDefault(t)
	if err != nil || v == nil {
		return nil, err
	}
	var best *subnetRecord
	err = subnets.table.ForEach(t.tx, t.scope, func(_ string, sn subnetRecord) error {
		if deref(sn.VpcId) != deref(v.VpcId) || !deref(sn.DefaultForAz) {
			return nil
		}
		if zone != "" && deref(sn.AvailabilityZone) != zone {
			return nil
		}
		if best == nil || deref(sn.AvailabilityZone) < deref(best.AvailabilityZone) {
			best = &sn
		}
		return nil
	})
	return best, err
}

// defaultVPCCreate builds the whole default VPC layout.
func defaultVPCCreate(t *rtx) (*vpcRecord, error) {
	v, rtb, err := vpcNew(t, defaultVPCCIDR, "default", true, nil)
	if err != nil {
		return nil, err
	}
	region := regionOrSynthetic(t.scope.Region)
	base := netip.MustParsePrefix(defaultVPCCIDR)
	for i, z := range region.Zones {
		cidr := netip.PrefixFrom(addrAdd(base.Addr(), i<<(32-defaultSubnetBits)), defaultSubnetBits)
		if !base.Contains(cidr.Addr()) {
			break
		}
		if _, err := subnetNew(t, v, cidr.String(), region.Name+z.Letter, z.ID, true, nil); err != nil {
			return nil, err
		}
	}
	igw := igwNew(t, nil)
	igw.Attachments = []ec2api.InternetGatewayAttachment{{State: new("available"), VpcId: v.VpcId}}
	if err := internetGateways.put(t, igw); err != nil {
		return nil, err
	}
	rtb.Routes = append(rtb.Routes, ec2api.Route{
		DestinationCidrBlock: new("0.0.0.0/0"),
		GatewayId:            igw.InternetGatewayId,
		Origin:               new("CreateRoute"),
		State:                new("active"),
	})
	if err := routeTables.put(t, rtb); err != nil {
		return nil, err
	}
	return v, nil
}

// defaultSubnetCIDR returns the next free /20 of the default VPC's
// 172.31.0.0/16 for CreateDefaultSubnet.
func defaultSubnetCIDR(t *rtx, v *vpcRecord) (string, error) {
	base := netip.MustParsePrefix(defaultVPCCIDR)
	taken, err := subnetPrefixesOf(t, deref(v.VpcId))
	if err != nil {
		return "", err
	}
	for i := 0; i < 1<<(defaultSubnetBits-16); i++ {
		cidr := netip.PrefixFrom(addrAdd(base.Addr(), i<<(32-defaultSubnetBits)), defaultSubnetBits)
		free := true
		for _, p := range taken {
			if p.Overlaps(cidr) {
				free = false
				break
			}
		}
		if free {
			return cidr.String(), nil
		}
	}
	return "", apiErr("InsufficientCidrBlocks", "The specified subnet cannot be created as there are insufficient free CIDR blocks in the default VPC.")
}

// CreateDefaultVpc creates a default VPC when the region has none.
func (s *Service) CreateDefaultVpc(ctx context.Context, in *ec2api.CreateDefaultVpcRequest) (*ec2api.CreateDefaultVpcResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	var out *vpcRecord
	err := s.update(ctx, func(t *rtx) error {
		v, err := s.ensureDefaultVPC(t)
		if err != nil {
			return err
		}
		if v != nil {
			return apiErr("DefaultVpcAlreadyExists", "A Default VPC already exists for this account in this region.")
		}
		if v, err = defaultVPCCreate(t); err != nil {
			return err
		}
		out = v
		return defaultVPCMarkers.Put(t.tx, t.scope, defaultVPCMarkerID, defaultVPCMarker{VpcID: deref(v.VpcId)})
	})
	if err != nil {
		return nil, err
	}
	res := out.Vpc
	res.State = new("pending")
	return &ec2api.CreateDefaultVpcResult{Vpc: &res}, nil
}

// CreateDefaultSubnet creates the default subnet of a zone of the default
// VPC, with the next free /20 of 172.31.0.0/16.
func (s *Service) CreateDefaultSubnet(ctx context.Context, in *ec2api.CreateDefaultSubnetRequest) (*ec2api.CreateDefaultSubnetResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	zone := deref(in.AvailabilityZone)
	if zone == "" {
		return nil, errMissingParam("AvailabilityZone")
	}
	var out *subnetRecord
	err := s.update(ctx, func(t *rtx) error {
		v, err := s.ensureDefaultVPC(t)
		if err != nil {
			return err
		}
		if v == nil {
			return apiErr("DefaultVpcDoesNotExist", "No default VPC exists for this account in this region.")
		}
		region := regionOrSynthetic(t.scope.Region)
		z, ok := subnetZone(region, zone, "")
		if !ok {
			return errInvalidParam("Value (%s) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: %s.", zone, subnetZoneList(region))
		}
		existing, err := vpcDefaultSubnet(t, zone)
		if err != nil {
			return err
		}
		if existing != nil {
			return apiErr("DefaultSubnetAlreadyExistsInAvailabilityZone", "'%s' is already the default subnet in %s.", deref(existing.SubnetId), zone)
		}
		cidr, err := defaultSubnetCIDR(t, v)
		if err != nil {
			return err
		}
		out, err = subnetNew(t, v, cidr, zone, z.ID, true, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateDefaultSubnetResult{Subnet: &out.Subnet}, nil
}

// subnetZone finds a zone of region by name or by ID.
func subnetZone(region regionInfo, name, id string) (zoneInfo, bool) {
	for _, z := range region.Zones {
		if (name != "" && region.Name+z.Letter == name) || (name == "" && z.ID == id) {
			return z, true
		}
	}
	return zoneInfo{}, false
}

// subnetZoneList is the "us-east-1a, us-east-1b, …" of AWS's messages.
func subnetZoneList(region regionInfo) string {
	s := ""
	for i, z := range region.Zones {
		if i > 0 {
			s += ", "
		}
		s += region.Name + z.Letter
	}
	return s
}
