// Package ec2port is EC2 as the other services see it: what RDS, and next
// load balancers, ECS tasks and caches, need of EC2's VPC records — subnets
// and their zones, security groups, VPC attributes, the requester-managed
// network interfaces their nodes and servers sit on, and public IPs for
// those. EC2 implements Port (ec2.Service.Port, one per requester); the
// server hands each service its port at construction, so no service imports
// EC2's package, calls its API handlers or type-asserts it.
package ec2port

import (
	"context"
	"net/netip"
)

// Requesters: the RequesterId AWS shows on each service's interfaces.
const (
	RequesterRDS = "amazon-rds"
	RequesterELB = "amazon-elb"
)

// Subnet is a subnet as other services see it.
type Subnet struct {
	ID, VPCID string
	// AvailabilityZone is the zone's name (us-east-1a), AvailabilityZoneID
	// its ID (use1-az1).
	AvailabilityZone, AvailabilityZoneID string
	CIDR                                 netip.Prefix
}

// VPC is what another service checks of a VPC.
type VPC struct {
	ID string
	// InternetGateway is set when an internet gateway is attached.
	InternetGateway bool
	// DNSSupport and DNSHostnames are the attributes enableDnsSupport and
	// enableDnsHostnames.
	DNSSupport, DNSHostnames bool
	// CIDRs are its IPv4 CIDR blocks, the primary one first.
	CIDRs []netip.Prefix
	// DefaultSecurityGroup is the ID of its default security group.
	DefaultSecurityGroup string
}

// Instance is an EC2 instance as a load balancer's target group sees it.
type Instance struct {
	ID, VPCID, SubnetID string
	// AvailabilityZone is the zone's name (us-east-1a).
	AvailabilityZone string
	// PrivateIP is the primary private IPv4 address of its primary network
	// interface, where a load balancer sends an instance target's traffic.
	PrivateIP netip.Addr
	// State is EC2's state name: pending, running, stopping, stopped,
	// shutting-down or terminated.
	State string
}

// ENIRequest asks for a requester-managed network interface.
type ENIRequest struct {
	SubnetID string
	// SecurityGroupIDs are the interface's groups; none means the VPC's
	// default group.
	SecurityGroupIDs []string
	// Description as AWS writes it ("RDSNetworkInterface", "ELB app/…").
	Description string
}

// ENI is a requester-managed network interface.
type ENI struct {
	ID, VPCID, SubnetID string
	MAC                 string
	IP                  netip.Addr
}

// Port is EC2 for one requesting service. Lookups answer found=false for
// an ID that does not exist in the account and region; the managed-ENI
// calls act only on interfaces this port's requester made, and refuse
// others with EC2's OperationNotPermitted.
type Port interface {
	// Subnet looks a subnet up.
	Subnet(ctx context.Context, account, region, id string) (s Subnet, found bool, err error)
	// SecurityGroupVPC is the VPC of a security group.
	SecurityGroupVPC(ctx context.Context, account, region, id string) (vpcID string, found bool, err error)
	// VPC looks a VPC up.
	VPC(ctx context.Context, account, region, id string) (v VPC, found bool, err error)
	// Instance looks an instance up; a terminated instance EC2 still
	// shows is found, with State terminated.
	Instance(ctx context.Context, account, region, id string) (i Instance, found bool, err error)
	// CreateENI makes a requester-managed interface (in use, type
	// "interface") in the request's subnet.
	CreateENI(ctx context.Context, account, region string, req ENIRequest) (ENI, error)
	// DeleteENI deletes one; a missing one is not an error.
	DeleteENI(ctx context.Context, account, region, id string) error
	// SetENIGroups replaces its security groups (the VPC's default group
	// when none).
	SetENIGroups(ctx context.Context, account, region, id string, groupIDs []string) error
	// AssignPublicIP gives it an Amazon-owned public IP, or returns the one
	// it has.
	AssignPublicIP(ctx context.Context, account, region, eniID string) (netip.Addr, error)
	// ReleasePublicIP releases it; a missing interface or address is not an
	// error.
	ReleasePublicIP(ctx context.Context, account, region, eniID string) error
}
