package ec2

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/ec2port"
	"github.com/minicloud/minicloud/internal/state"
)

// Port is EC2 as the service whose requester-managed interfaces carry
// RequesterId requester (ec2port.RequesterRDS, ec2port.RequesterELB) sees
// it; the server hands it to that service at construction.
func (s *Service) Port(requester string) ec2port.Port { return &port{s: s, requester: requester} }

// port implements ec2port.Port for one requester.
type port struct {
	s         *Service
	requester string
}

var _ ec2port.Port = (*port)(nil)

// scoped is ctx as a request of operation in account and region: EC2's
// records are read and written in the caller's scope.
func scoped(ctx context.Context, account, region, operation string) context.Context {
	return api.WithRequest(ctx, &api.RequestInfo{Account: account, Region: region, Service: "ec2", Operation: operation})
}

// checkManaged refuses an interface the port's requester did not make: a
// user's own, an instance's, a NAT gateway's, an endpoint's or another
// service's.
func (p *port) checkManaged(e *networkInterfaceRecord) error {
	if !deref(e.RequesterManaged) || deref(e.RequesterId) != p.requester {
		return api.Errorf(http.StatusBadRequest, "OperationNotPermitted",
			"network interface %s is not managed by %s", deref(e.NetworkInterfaceId), p.requester)
	}
	return nil
}

// Subnet implements ec2port.Port.
func (p *port) Subnet(ctx context.Context, account, region, id string) (out ec2port.Subnet, found bool, err error) {
	err = p.s.view(scoped(ctx, account, region, "DescribeSubnets"), func(t *rtx) error {
		sn, ok, err := subnets.find(t, id)
		if err != nil || !ok {
			return err
		}
		cidr, err := netip.ParsePrefix(deref(sn.CidrBlock))
		if err != nil {
			return fmt.Errorf("subnet %s: %w", id, err)
		}
		found = true
		out = ec2port.Subnet{ID: id, VPCID: deref(sn.VpcId), AvailabilityZone: deref(sn.AvailabilityZone),
			AvailabilityZoneID: deref(sn.AvailabilityZoneId), CIDR: cidr}
		return nil
	})
	return out, found, err
}

// SecurityGroupVPC implements ec2port.Port.
func (p *port) SecurityGroupVPC(ctx context.Context, account, region, id string) (vpcID string, found bool, err error) {
	err = p.s.view(scoped(ctx, account, region, "DescribeSecurityGroups"), func(t *rtx) error {
		g, ok, err := securityGroups.find(t, id)
		if err != nil || !ok {
			return err
		}
		vpcID, found = deref(g.VpcId), true
		return nil
	})
	return vpcID, found, err
}

// VPC implements ec2port.Port.
func (p *port) VPC(ctx context.Context, account, region, id string) (out ec2port.VPC, found bool, err error) {
	err = p.s.view(scoped(ctx, account, region, "DescribeVpcs"), func(t *rtx) error {
		v, ok, err := vpcs.find(t, id)
		if err != nil || !ok {
			return err
		}
		found = true
		out = ec2port.VPC{ID: id, DNSSupport: v.EnableDNSSupport, DNSHostnames: v.EnableDNSHostnames}
		for _, a := range v.CidrBlockAssociationSet {
			if p, err := netip.ParsePrefix(deref(a.CidrBlock)); err == nil && a.CidrBlockState != nil && deref(a.CidrBlockState.State) == "associated" {
				out.CIDRs = append(out.CIDRs, p)
			}
		}
		def, err := sgByName(t, id, sgDefaultName)
		if err != nil {
			return err
		}
		if def != nil {
			out.DefaultSecurityGroup = deref(def.GroupId)
		}
		gws, err := internetGateways.all(t)
		if err != nil {
			return err
		}
		for _, g := range gws {
			if igwAttachedVPC(g) == id {
				out.InternetGateway = true
			}
		}
		return nil
	})
	return out, found, err
}

// CreateENI implements ec2port.Port: a requester-managed interface (in
// use, type "interface") with the given security groups, the VPC's default
// group when none.
func (p *port) CreateENI(ctx context.Context, account, region string, req ec2port.ENIRequest) (ec2port.ENI, error) {
	var out ec2port.ENI
	err := p.s.update(scoped(ctx, account, region, "CreateNetworkInterface"), func(t *rtx) error {
		sn, v, err := eniSubnet(t, req.SubnetID)
		if err != nil {
			return err
		}
		groups, err := instanceResolveGroups(t, v, req.SubnetID, req.SecurityGroupIDs, nil)
		if err != nil {
			return err
		}
		e, err := vpcManagedENI(t, sn, "interface", req.Description, "", groups)
		if err != nil {
			return err
		}
		e.RequesterId = new(p.requester)
		e.SourceDestCheck = new(true)
		if err := networkInterfaces.put(t, e); err != nil {
			return err
		}
		ip, _ := netip.ParseAddr(deref(e.PrivateIpAddress))
		out = ec2port.ENI{ID: deref(e.NetworkInterfaceId), VPCID: deref(e.VpcId), SubnetID: req.SubnetID, MAC: deref(e.MacAddress), IP: ip}
		return nil
	})
	return out, err
}

// DeleteENI implements ec2port.Port.
func (p *port) DeleteENI(ctx context.Context, account, region, id string) error {
	return p.s.update(scoped(ctx, account, region, "DeleteNetworkInterface"), func(t *rtx) error {
		e, err := networkInterfaces.get(t, id)
		if err != nil {
			if state.IsCode(err, "InvalidNetworkInterfaceID.NotFound") {
				return nil
			}
			return err
		}
		if err := p.checkManaged(e); err != nil {
			return err
		}
		return eniDelete(t, e)
	})
}

// SetENIGroups implements ec2port.Port, as RDS does when a DB instance's
// VPC security groups change.
func (p *port) SetENIGroups(ctx context.Context, account, region, id string, groupIDs []string) error {
	return p.s.update(scoped(ctx, account, region, "ModifyNetworkInterfaceAttribute"), func(t *rtx) error {
		e, err := networkInterfaces.get(t, id)
		if err != nil {
			return err
		}
		if err := p.checkManaged(e); err != nil {
			return err
		}
		v, err := vpcs.get(t, deref(e.VpcId))
		if err != nil {
			return err
		}
		groups, err := instanceResolveGroups(t, v, deref(e.SubnetId), groupIDs, nil)
		if err != nil {
			return err
		}
		e.Groups = groups
		return networkInterfaces.put(t, e)
	})
}

// Instance implements ec2port.Port: what a load balancer needs of an
// instance target (its VPC, zone, state and the address to send to). A
// malformed ID is not found, as a missing one.
func (p *port) Instance(ctx context.Context, account, region, id string) (out ec2port.Instance, found bool, err error) {
	if !instances.validID(id) {
		return out, false, nil
	}
	err = p.s.view(scoped(ctx, account, region, "DescribeInstances"), func(t *rtx) error {
		r, ok, err := instances.find(t, id)
		if err != nil || !ok {
			return err
		}
		found = true
		out = ec2port.Instance{ID: id, VPCID: deref(r.VpcId), SubnetID: deref(r.SubnetId)}
		if r.Placement != nil {
			out.AvailabilityZone = deref(r.Placement.AvailabilityZone)
		}
		if r.State != nil {
			out.State = deref(r.State.Name)
		}
		out.PrivateIP, _ = netip.ParseAddr(deref(r.PrivateIpAddress))
		return nil
	})
	return out, found, err
}
