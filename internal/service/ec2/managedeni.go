package ec2

import (
	"context"
	"net/http"
	"net/netip"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/state"
)

// ManagedENI is a requester-managed interface another service (RDS) made.
type ManagedENI struct {
	ID, VPCID, SubnetID, MAC string
	IP                       netip.Addr
}

// managedRequester is the RequesterId of the interfaces CreateManagedENI
// makes; the other managed-ENI calls act on those only.
const managedRequester = "amazon-rds"

// checkManaged refuses an interface CreateManagedENI did not make: a user's
// own, an instance's, a NAT gateway's or an endpoint's.
func checkManaged(e *networkInterfaceRecord) error {
	if !deref(e.RequesterManaged) || deref(e.RequesterId) != managedRequester {
		return api.Errorf(http.StatusBadRequest, "OperationNotPermitted",
			"network interface %s is not managed by RDS", deref(e.NetworkInterfaceId))
	}
	return nil
}

// CreateManagedENI creates a requester-managed interface (in-use, type
// "interface") in a subnet of account/region with the given security groups
// (the VPC's default group when none), as RDS does for a DB instance.
func (s *Service) CreateManagedENI(ctx context.Context, account, region, subnetID string, groupIDs []string, description string) (ManagedENI, error) {
	ctx = api.WithRequest(ctx, &api.RequestInfo{Account: account, Region: region, Service: "ec2", Operation: "CreateNetworkInterface"})
	var out ManagedENI
	err := s.update(ctx, func(t *rtx) error {
		sn, v, err := eniSubnet(t, subnetID)
		if err != nil {
			return err
		}
		groups, err := instanceResolveGroups(t, v, subnetID, groupIDs, nil)
		if err != nil {
			return err
		}
		e, err := vpcManagedENI(t, sn, "interface", description, "", groups)
		if err != nil {
			return err
		}
		e.RequesterId = new(managedRequester)
		e.SourceDestCheck = new(true)
		if err := networkInterfaces.put(t, e); err != nil {
			return err
		}
		ip, _ := netip.ParseAddr(deref(e.PrivateIpAddress))
		out = ManagedENI{ID: deref(e.NetworkInterfaceId), VPCID: deref(e.VpcId), SubnetID: subnetID, MAC: deref(e.MacAddress), IP: ip}
		return nil
	})
	return out, err
}

// DeleteManagedENI deletes an interface CreateManagedENI made; a missing
// one is not an error.
func (s *Service) DeleteManagedENI(ctx context.Context, account, region, id string) error {
	ctx = api.WithRequest(ctx, &api.RequestInfo{Account: account, Region: region, Service: "ec2", Operation: "DeleteNetworkInterface"})
	return s.update(ctx, func(t *rtx) error {
		e, err := networkInterfaces.get(t, id)
		if err != nil {
			if state.IsCode(err, "InvalidNetworkInterfaceID.NotFound") {
				return nil
			}
			return err
		}
		if err := checkManaged(e); err != nil {
			return err
		}
		return eniDelete(t, e)
	})
}

// ModifyManagedENIGroups replaces the security groups of an interface
// CreateManagedENI made (the VPC's default group when none), as RDS does
// when a DB instance's VPC security groups change.
func (s *Service) ModifyManagedENIGroups(ctx context.Context, account, region, id string, groupIDs []string) error {
	ctx = api.WithRequest(ctx, &api.RequestInfo{Account: account, Region: region, Service: "ec2", Operation: "ModifyNetworkInterfaceAttribute"})
	return s.update(ctx, func(t *rtx) error {
		e, err := networkInterfaces.get(t, id)
		if err != nil {
			return err
		}
		if err := checkManaged(e); err != nil {
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
