package ec2

import (
	"time"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// Records are the durable desired state of EC2 resources. Each embeds the
// resource's API shape, so Describe returns what was stored, plus the fields
// AWS keeps but does not show in that shape. The data planes (VPC network,
// instance runtime) read these records; they are the contract with them.

type vpcRecord struct {
	ec2api.Vpc
	EnableDNSSupport   bool `json:"enableDnsSupport"`
	EnableDNSHostnames bool `json:"enableDnsHostnames"`
}

type subnetRecord struct{ ec2api.Subnet }

type igwRecord struct{ ec2api.InternetGateway }

type routeTableRecord struct{ ec2api.RouteTable }

type natGatewayRecord struct{ ec2api.NatGateway }

type securityGroupRecord struct {
	ec2api.SecurityGroup
	// Rules are the group's rules with their sgr- IDs; IpPermissions and
	// IpPermissionsEgress are derived from them for Describe.
	Rules []ec2api.SecurityGroupRule `json:"rules"`
}

type networkACLRecord struct{ ec2api.NetworkAcl }

type addressRecord struct{ ec2api.Address }

type networkInterfaceRecord struct{ ec2api.NetworkInterface }

type vpcEndpointRecord struct{ ec2api.VpcEndpoint }

type keyPairRecord struct{ ec2api.KeyPairInfo }

type imageRecord struct {
	ec2api.Image
	// RootSnapshotID is the snapshot holding the image's root filesystem
	// (CreateImage); empty for the built-in catalogue.
	RootSnapshotID string `json:"rootSnapshotId,omitempty"`
	// LaunchPermissions are the accounts and groups ("all") the owner
	// shared the image with (ModifyImageAttribute); Public mirrors "all".
	LaunchPermissions []ec2api.LaunchPermission `json:"launchPermissions,omitempty"`
	// SourceImageID and SourceRegion are the image CopyImage copied: the
	// copy's root filesystem is the source's (imageRootOf).
	SourceImageID string `json:"sourceImageId,omitempty"`
	SourceRegion  string `json:"sourceRegion,omitempty"`
}

type instanceRecord struct {
	ec2api.Instance
	ReservationID         string    `json:"reservationId"`
	RequesterID           string    `json:"requesterId,omitempty"`
	UserData              string    `json:"userData,omitempty"` // base64, as sent
	DisableAPITermination bool      `json:"disableApiTermination,omitempty"`
	ShutdownBehavior      string    `json:"shutdownBehavior,omitempty"` // stop | terminate
	TerminatedAt          time.Time `json:"terminatedAt,omitzero"`
	ConsoleOutput         string    `json:"consoleOutput,omitempty"` // filled by the runtime
}

type volumeRecord struct {
	ec2api.Volume
	// Modification is the volume's latest ModifyVolume; its state is
	// computed from StartTime (volumeModificationSettle).
	Modification *ec2api.VolumeModification `json:"modification,omitempty"`
	// AutoEnableIO is the volume's autoEnableIO attribute.
	AutoEnableIO bool `json:"autoEnableIO,omitempty"`
}

type snapshotRecord struct {
	ec2api.Snapshot
	// CreateVolumePermissions are the accounts (UserId) and groups ("all")
	// the owner shared the snapshot with (ModifySnapshotAttribute).
	CreateVolumePermissions []ec2api.CreateVolumePermission `json:"createVolumePermissions,omitempty"`
	// SourceSnapshotID is the snapshot CopySnapshot copied (its data is
	// the source's).
	SourceSnapshotID string `json:"sourceSnapshotId,omitempty"`
}

// The kinds of EC2 resource, with their IDs, tag types and error codes.
var (
	vpcs = register(&kind[vpcRecord]{prefix: "vpc", table: state.Table[vpcRecord]{Service: "ec2", Kind: "vpc"},
		resourceType: "vpc", noun: "vpc ID", notFound: "InvalidVpcID.NotFound", malformed: "InvalidVpcID.Malformed",
		id: func(r *vpcRecord) string { return deref(r.VpcId) }, tags: func(r *vpcRecord) *[]ec2api.Tag { return &r.Tags }})
	subnets = register(&kind[subnetRecord]{prefix: "subnet", table: state.Table[subnetRecord]{Service: "ec2", Kind: "subnet"},
		resourceType: "subnet", noun: "subnet ID", notFound: "InvalidSubnetID.NotFound", malformed: "InvalidSubnetID.Malformed",
		id: func(r *subnetRecord) string { return deref(r.SubnetId) }, tags: func(r *subnetRecord) *[]ec2api.Tag { return &r.Tags }})
	internetGateways = register(&kind[igwRecord]{prefix: "igw", table: state.Table[igwRecord]{Service: "ec2", Kind: "igw"},
		resourceType: "internet-gateway", noun: "internetGateway ID", notFound: "InvalidInternetGatewayID.NotFound", malformed: "InvalidInternetGatewayID.Malformed",
		id: func(r *igwRecord) string { return deref(r.InternetGatewayId) }, tags: func(r *igwRecord) *[]ec2api.Tag { return &r.Tags }})
	routeTables = register(&kind[routeTableRecord]{prefix: "rtb", table: state.Table[routeTableRecord]{Service: "ec2", Kind: "rtb"},
		resourceType: "route-table", noun: "routeTable ID", notFound: "InvalidRouteTableID.NotFound", malformed: "InvalidRouteTableID.Malformed",
		id: func(r *routeTableRecord) string { return deref(r.RouteTableId) }, tags: func(r *routeTableRecord) *[]ec2api.Tag { return &r.Tags }})
	natGateways = register(&kind[natGatewayRecord]{prefix: "nat", table: state.Table[natGatewayRecord]{Service: "ec2", Kind: "natgw"},
		resourceType: "natgateway", noun: "NAT gateway ID", notFound: "NatGatewayNotFound", malformed: "InvalidNatGatewayID.Malformed",
		id: func(r *natGatewayRecord) string { return deref(r.NatGatewayId) }, tags: func(r *natGatewayRecord) *[]ec2api.Tag { return &r.Tags }})
	securityGroups = register(&kind[securityGroupRecord]{prefix: "sg", table: state.Table[securityGroupRecord]{Service: "ec2", Kind: "sg"},
		resourceType: "security-group", noun: "security group", notFound: "InvalidGroup.NotFound", malformed: "InvalidGroupId.Malformed",
		id: func(r *securityGroupRecord) string { return deref(r.GroupId) }, tags: func(r *securityGroupRecord) *[]ec2api.Tag { return &r.Tags }})
	networkACLs = register(&kind[networkACLRecord]{prefix: "acl", table: state.Table[networkACLRecord]{Service: "ec2", Kind: "acl"},
		resourceType: "network-acl", noun: "networkAcl ID", notFound: "InvalidNetworkAclID.NotFound", malformed: "InvalidNetworkAclID.Malformed",
		id: func(r *networkACLRecord) string { return deref(r.NetworkAclId) }, tags: func(r *networkACLRecord) *[]ec2api.Tag { return &r.Tags }})
	addresses = register(&kind[addressRecord]{prefix: "eipalloc", table: state.Table[addressRecord]{Service: "ec2", Kind: "eip"},
		resourceType: "elastic-ip", noun: "allocation ID", notFound: "InvalidAllocationID.NotFound", malformed: "InvalidAllocationID.Malformed",
		id: func(r *addressRecord) string { return deref(r.AllocationId) }, tags: func(r *addressRecord) *[]ec2api.Tag { return &r.Tags }})
	networkInterfaces = register(&kind[networkInterfaceRecord]{prefix: "eni", table: state.Table[networkInterfaceRecord]{Service: "ec2", Kind: "eni", Indexes: eniIndexes},
		resourceType: "network-interface", noun: "networkInterface ID", notFound: "InvalidNetworkInterfaceID.NotFound", malformed: "InvalidNetworkInterfaceID.Malformed",
		id: func(r *networkInterfaceRecord) string { return deref(r.NetworkInterfaceId) }, tags: func(r *networkInterfaceRecord) *[]ec2api.Tag { return &r.TagSet }})
	vpcEndpoints = register(&kind[vpcEndpointRecord]{prefix: "vpce", table: state.Table[vpcEndpointRecord]{Service: "ec2", Kind: "vpce"},
		resourceType: "vpc-endpoint", noun: "Vpc Endpoint Id", notFound: "InvalidVpcEndpointId.NotFound", malformed: "InvalidVpcEndpointId.Malformed",
		id: func(r *vpcEndpointRecord) string { return deref(r.VpcEndpointId) }, tags: func(r *vpcEndpointRecord) *[]ec2api.Tag { return &r.Tags }})
	keyPairs = register(&kind[keyPairRecord]{prefix: "key", table: state.Table[keyPairRecord]{Service: "ec2", Kind: "keypair"},
		resourceType: "key-pair", noun: "key pair ID", notFound: "InvalidKeyPair.NotFound", malformed: "InvalidKeyPair.Malformed",
		id: func(r *keyPairRecord) string { return deref(r.KeyPairId) }, tags: func(r *keyPairRecord) *[]ec2api.Tag { return &r.Tags }})
	images = register(&kind[imageRecord]{prefix: "ami", table: state.Table[imageRecord]{Service: "ec2", Kind: "image"},
		resourceType: "image", noun: "image id", notFound: "InvalidAMIID.NotFound", malformed: "InvalidAMIID.Malformed",
		id: func(r *imageRecord) string { return deref(r.ImageId) }, tags: func(r *imageRecord) *[]ec2api.Tag { return &r.Tags }})
	instances = register(&kind[instanceRecord]{prefix: "i", table: state.Table[instanceRecord]{Service: "ec2", Kind: "instance", Indexes: instanceIndexes},
		resourceType: "instance", noun: "instance ID", notFound: "InvalidInstanceID.NotFound", malformed: "InvalidInstanceID.Malformed",
		id: func(r *instanceRecord) string { return deref(r.InstanceId) }, tags: func(r *instanceRecord) *[]ec2api.Tag { return &r.Tags }})
	volumes = register(&kind[volumeRecord]{prefix: "vol", table: state.Table[volumeRecord]{Service: "ec2", Kind: "volume"},
		resourceType: "volume", noun: "volume", notFound: "InvalidVolume.NotFound", malformed: "InvalidVolumeID.Malformed",
		id: func(r *volumeRecord) string { return deref(r.VolumeId) }, tags: func(r *volumeRecord) *[]ec2api.Tag { return &r.Tags }})
	snapshots = register(&kind[snapshotRecord]{prefix: "snap", table: state.Table[snapshotRecord]{Service: "ec2", Kind: "snapshot"},
		resourceType: "snapshot", noun: "snapshot", notFound: "InvalidSnapshot.NotFound", malformed: "InvalidSnapshotID.Malformed",
		id: func(r *snapshotRecord) string { return deref(r.SnapshotId) }, tags: func(r *snapshotRecord) *[]ec2api.Tag { return &r.Tags }})
)
