package ec2

import (
	"context"
	"net/netip"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/state"
)

// AssignManagedPublicIP gives a requester-managed interface an
// Amazon-owned public IPv4 address (owner "amazon", as an instance's
// auto-assigned one) from the public pool; the network controller maps it
// 1:1 through the VPC's internet gateway like any other. An interface that
// has a public address keeps it. eniDelete releases it.
func (s *Service) AssignManagedPublicIP(ctx context.Context, account, region, eniID string) (netip.Addr, error) {
	ctx = api.WithRequest(ctx, &api.RequestInfo{Account: account, Region: region, Service: "ec2", Operation: "AssociateAddress"})
	var out netip.Addr
	err := s.update(ctx, func(t *rtx) error {
		e, err := networkInterfaces.get(t, eniID)
		if err != nil {
			return err
		}
		if err := checkManaged(e); err != nil {
			return err
		}
		if err := eniAssignAutoPublicIP(t, e); err != nil {
			return err
		}
		out, _ = netip.ParseAddr(deref(e.Association.PublicIp))
		return networkInterfaces.put(t, e)
	})
	return out, err
}

// ReleaseManagedPublicIP releases the Amazon-owned public IP of a
// requester-managed interface; a missing interface or address is not an
// error.
func (s *Service) ReleaseManagedPublicIP(ctx context.Context, account, region, eniID string) error {
	ctx = api.WithRequest(ctx, &api.RequestInfo{Account: account, Region: region, Service: "ec2", Operation: "DisassociateAddress"})
	return s.update(ctx, func(t *rtx) error {
		e, err := networkInterfaces.get(t, eniID)
		if err != nil {
			if state.IsCode(err, "InvalidNetworkInterfaceID.NotFound") {
				return nil
			}
			return err
		}
		if err := checkManaged(e); err != nil {
			return err
		}
		if err := eniReleaseAutoPublicIP(t, e); err != nil {
			return err
		}
		return networkInterfaces.put(t, e)
	})
}

// VPCPublicAccess reports what a publicly accessible resource (an RDS DB
// instance) needs of its VPC: an attached internet gateway, and the DNS
// attributes enableDnsSupport and enableDnsHostnames. ok is false when the
// VPC does not exist.
func (s *Service) VPCPublicAccess(ctx context.Context, account, region, vpcID string) (igw, dnsSupport, dnsHostnames, ok bool, err error) {
	ctx = api.WithRequest(ctx, &api.RequestInfo{Account: account, Region: region, Service: "ec2", Operation: "DescribeVpcs"})
	err = s.view(ctx, func(t *rtx) error {
		v, found, err := vpcs.find(t, vpcID)
		if err != nil || !found {
			return err
		}
		ok, dnsSupport, dnsHostnames = true, v.EnableDNSSupport, v.EnableDNSHostnames
		gws, err := internetGateways.all(t)
		if err != nil {
			return err
		}
		for _, g := range gws {
			if igwAttachedVPC(g) == vpcID {
				igw = true
			}
		}
		return nil
	})
	return igw, dnsSupport, dnsHostnames, ok, err
}
