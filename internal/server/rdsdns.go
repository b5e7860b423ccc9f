package server

import (
	"context"
)

// The RDS side of the EC2 adapters for public DB instances (rds.PublicIPs,
// rds.VPCAccess) and the endpoint names for the DNS servers.

// AssignPublicIP implements rds.PublicIPs with an Amazon-owned public IP.
func (a ec2ENIs) AssignPublicIP(ctx context.Context, account, region, eniID string) (string, error) {
	ip, err := a.ec2.AssignManagedPublicIP(ctx, account, region, eniID)
	if err != nil {
		return "", err
	}
	return ip.String(), nil
}

// ReleasePublicIP implements rds.PublicIPs.
func (a ec2ENIs) ReleasePublicIP(ctx context.Context, account, region, eniID string) error {
	return a.ec2.ReleaseManagedPublicIP(ctx, account, region, eniID)
}

// VPCPublicAccess implements rds.VPCAccess.
func (a ec2Subnets) VPCPublicAccess(ctx context.Context, account, region, vpcID string) (igw, dnsSupport, dnsHostnames, ok bool, err error) {
	return a.ec2.VPCPublicAccess(ctx, account, region, vpcID)
}
