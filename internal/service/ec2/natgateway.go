package ec2

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// NAT gateway lifecycle. AWS takes a minute or more to move a NAT gateway
// from "pending" to "available" and from "deleting" to "deleted"; minicloud
// takes natTransition, so waiters (which poll every 15 s) see "available" on
// their first poll while clients that look right after Create still see the
// states AWS shows. The state is computed from CreateTime/DeleteTime when
// read, so no background work is needed. Deleted gateways stay listed for
// natDeletedTTL, as in AWS (about an hour), then disappear.
const (
	natTransition = time.Second
	natDeletedTTL = time.Hour
)

// natState is the gateway's state at now.
func natState(n *natGatewayRecord, now time.Time) string {
	st := deref(n.State)
	switch st {
	case "pending":
		if n.CreateTime != nil && now.Sub(*n.CreateTime) >= natTransition {
			return "available"
		}
	case "deleting":
		if n.DeleteTime != nil && now.Sub(*n.DeleteTime) >= natTransition {
			return "deleted"
		}
	}
	return st
}

// natExpired reports whether a deleted gateway has left the listings.
func natExpired(n *natGatewayRecord, now time.Time) bool {
	return natState(n, now) == "deleted" && n.DeleteTime != nil && now.Sub(*n.DeleteTime) >= natDeletedTTL+natTransition
}

func natNotFound(id string) error {
	return apiErr("NatGatewayNotFound", "NAT gateway %s was not found", id)
}

// vpcRandomMAC returns a locally administered unicast MAC address, as the
// 02:… / 0e:… / 12:… addresses of AWS ENIs are.
func vpcRandomMAC() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	b[0] = (b[0] | 0x02) &^ 0x01
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5])
}

// vpcPrivateDNSName is the ip-a-b-c-d host name of a private address.
func vpcPrivateDNSName(region, ip string) string {
	host := "ip-" + strings.ReplaceAll(ip, ".", "-")
	if region == "us-east-1" {
		return host + ".ec2.internal"
	}
	return host + "." + region + ".compute.internal"
}

// vpcManagedENI stores a requester-managed network interface in subnet
// (for NAT gateways and interface endpoints) with a private IP from the
// subnet (requested, or the lowest free).
func vpcManagedENI(t *rtx, sn *subnetRecord, interfaceType, description, requestedIP string, groups []ec2api.GroupIdentifier) (*networkInterfaceRecord, error) {
	ip, err := allocatePrivateIP(t, sn, requestedIP)
	if err != nil {
		return nil, err
	}
	if groups == nil {
		groups = []ec2api.GroupIdentifier{}
	}
	dns := vpcPrivateDNSName(t.scope.Region, ip.String())
	e := &networkInterfaceRecord{NetworkInterface: ec2api.NetworkInterface{
		NetworkInterfaceId: new(state.NewID("eni")),
		SubnetId:           sn.SubnetId,
		VpcId:              sn.VpcId,
		AvailabilityZone:   sn.AvailabilityZone,
		Description:        new(description),
		Groups:             groups,
		InterfaceType:      new(interfaceType),
		Ipv6Addresses:      []ec2api.NetworkInterfaceIpv6Address{},
		MacAddress:         new(vpcRandomMAC()),
		OwnerId:            new(t.scope.Account),
		PrivateDnsName:     new(dns),
		PrivateIpAddress:   new(ip.String()),
		PrivateIpAddresses: []ec2api.NetworkInterfacePrivateIpAddress{{
			Primary: new(true), PrivateIpAddress: new(ip.String()), PrivateDnsName: new(dns),
		}},
		RequesterId:       new("AWS"),
		RequesterManaged:  new(true),
		SourceDestCheck:   new(false),
		Status:            new("in-use"),
		TagSet:            []ec2api.Tag{},
		DenyAllIgwTraffic: new(false),
		Ipv6Native:        new(false),
	}}
	switch interfaceType {
	case "nat_gateway":
		e.RequesterId = new("AWS")
	case "vpc_endpoint":
		e.RequesterId = new("AWS")
		e.SourceDestCheck = new(true)
	}
	return e, networkInterfaces.put(t, e)
}

// CreateNatGateway creates a NAT gateway in a subnet: public ones take an
// Elastic IP, which is associated with the gateway's network interface.
func (s *Service) CreateNatGateway(ctx context.Context, in *ec2api.CreateNatGatewayRequest) (*ec2api.CreateNatGatewayResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	r, err := natCheckCreate(in)
	if err != nil {
		return nil, err
	}
	var out natGatewayRecord
	err = s.update(ctx, func(t *rtx) error {
		if _, err := s.ensureDefaultVPC(t); err != nil {
			return err
		}
		n, err := createOnce(t, natGateways, "CreateNatGateway", r.token, r.hash, func() (*natGatewayRecord, error) { return natCreate(t, r) })
		if err != nil {
			return err
		}
		out = *n
		return nil
	})
	if err != nil {
		return nil, err
	}
	res := &ec2api.CreateNatGatewayResult{NatGateway: &out.NatGateway}
	if r.token != "" {
		res.ClientToken = new(r.token)
	}
	return res, nil
}

// natRequest is a CreateNatGateway request checked on its own.
type natRequest struct {
	in       *ec2api.CreateNatGatewayRequest
	subnetID string
	conn     string // public | private
	allocID  string
	tags     []ec2api.Tag
	// token and hash are the idempotency token and the request's hash
	// without it.
	token, hash string
}

// natCheckCreate checks a CreateNatGateway request without reading any
// state.
func natCheckCreate(in *ec2api.CreateNatGatewayRequest) (*natRequest, error) {
	r := &natRequest{in: in, subnetID: deref(in.SubnetId), conn: deref(in.ConnectivityType), allocID: deref(in.AllocationId)}
	if r.subnetID == "" {
		return nil, errMissingParam("SubnetId")
	}
	switch r.conn {
	case "":
		r.conn = "public"
	case "public", "private":
	default:
		return nil, errInvalidParam("Value (%s) for parameter connectivityType is invalid. Valid values are: public, private.", r.conn)
	}
	if r.conn == "public" && r.allocID == "" {
		return nil, errMissingParam("AllocationId")
	}
	if r.conn == "private" && r.allocID != "" {
		return nil, errCombination("AllocationId cannot be specified for a private NAT gateway.")
	}
	if len(in.SecondaryAllocationIds) > 0 || len(in.SecondaryPrivateIpAddresses) > 0 || in.SecondaryPrivateIpAddressCount != nil {
		return nil, errInvalidParam("Secondary addresses of NAT gateways are not supported by minicloud.")
	}
	tags, err := tagsFor(in.TagSpecifications, "natgateway", "natgateway")
	if err != nil {
		return nil, err
	}
	if r.tags = tags; r.tags == nil {
		r.tags = []ec2api.Tag{}
	}
	r.token = deref(in.ClientToken)
	hashIn := *in
	hashIn.ClientToken = nil
	r.hash = state.HashParams(hashIn)
	return r, nil
}

// natCreate checks a new gateway against its subnet and Elastic IP and
// stores it with its network interface, the Elastic IP associated.
func natCreate(t *rtx, r *natRequest) (*natGatewayRecord, error) {
	sn, err := subnets.get(t, r.subnetID)
	if err != nil {
		return nil, err
	}
	var eip *addressRecord
	if r.allocID != "" {
		if eip, err = addresses.get(t, r.allocID); err != nil {
			return nil, err
		}
		if eip.AssociationId != nil || eip.NetworkInterfaceId != nil || eip.InstanceId != nil {
			return nil, apiErr("Resource.AlreadyAssociated", "Elastic IP address [%s] is already associated", r.allocID)
		}
	}
	id := state.NewID("nat")
	eni, err := vpcManagedENI(t, sn, "nat_gateway", "Interface for NAT Gateway "+id, deref(r.in.PrivateIpAddress), nil)
	if err != nil {
		return nil, err
	}
	addr := ec2api.NatGatewayAddress{
		NetworkInterfaceId: eni.NetworkInterfaceId,
		PrivateIp:          eni.PrivateIpAddress,
		IsPrimary:          new(true),
		Status:             new("succeeded"),
	}
	if eip != nil {
		if err := natAssociate(t, eip, eni, &addr); err != nil {
			return nil, err
		}
	}
	now := t.now
	n := &natGatewayRecord{NatGateway: ec2api.NatGateway{
		NatGatewayId:        new(id),
		SubnetId:            sn.SubnetId,
		VpcId:               sn.VpcId,
		State:               new("pending"),
		CreateTime:          &now,
		ConnectivityType:    new(r.conn),
		NatGatewayAddresses: []ec2api.NatGatewayAddress{addr},
		Tags:                r.tags,
	}}
	if err := natGateways.put(t, n); err != nil {
		return nil, err
	}
	return n, nil
}

// natAssociate associates a public gateway's Elastic IP with its network
// interface, on both sides, and records it in the gateway's address.
func natAssociate(t *rtx, eip *addressRecord, eni *networkInterfaceRecord, addr *ec2api.NatGatewayAddress) error {
	allocID, assocID := deref(eip.AllocationId), state.NewID("eipassoc")
	eip.AssociationId = new(assocID)
	eip.NetworkInterfaceId = eni.NetworkInterfaceId
	eip.NetworkInterfaceOwnerId = new(t.scope.Account)
	eip.PrivateIpAddress = eni.PrivateIpAddress
	if err := addresses.put(t, eip); err != nil {
		return err
	}
	assoc := &ec2api.NetworkInterfaceAssociation{AllocationId: new(allocID), AssociationId: new(assocID),
		IpOwnerId: new(t.scope.Account), PublicIp: eip.PublicIp, PublicDnsName: new("")}
	eni.Association = assoc
	a2 := *assoc
	eni.PrivateIpAddresses[0].Association = &a2
	if err := networkInterfaces.put(t, eni); err != nil {
		return err
	}
	addr.AllocationId = new(allocID)
	addr.AssociationId = new(assocID)
	addr.PublicIp = eip.PublicIp
	return nil
}

// DeleteNatGateway starts deleting a NAT gateway: its network interface is
// removed and its Elastic IP disassociated at once (AWS does so when the
// deletion completes, moments later in minicloud).
func (s *Service) DeleteNatGateway(ctx context.Context, in *ec2api.DeleteNatGatewayRequest) (*ec2api.DeleteNatGatewayResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	id := deref(in.NatGatewayId)
	if id == "" {
		return nil, errMissingParam("NatGatewayId")
	}
	err := s.update(ctx, func(t *rtx) error {
		if !natGateways.validID(id) {
			return natGateways.malformedErr(id)
		}
		n, ok, err := natGateways.find(t, id)
		if err != nil {
			return err
		}
		if !ok || natExpired(n, t.now) {
			return natNotFound(id)
		}
		if st := natState(n, t.now); st == "deleting" || st == "deleted" {
			return nil
		}
		for i, a := range n.NatGatewayAddresses {
			if eniID := deref(a.NetworkInterfaceId); eniID != "" {
				if err := networkInterfaces.del(t, eniID); err != nil {
					return err
				}
			}
			if allocID := deref(a.AllocationId); allocID != "" {
				if eip, ok, err := addresses.find(t, allocID); err != nil {
					return err
				} else if ok && deref(eip.NetworkInterfaceId) == deref(a.NetworkInterfaceId) {
					eip.AssociationId, eip.NetworkInterfaceId, eip.NetworkInterfaceOwnerId, eip.PrivateIpAddress = nil, nil, nil, nil
					if err := addresses.put(t, eip); err != nil {
						return err
					}
				}
			}
			n.NatGatewayAddresses[i].Status = new("disassociating")
		}
		now := t.now
		n.State = new("deleting")
		n.DeleteTime = &now
		return natGateways.put(t, n)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteNatGatewayResult{NatGatewayId: new(id)}, nil
}

// DescribeNatGateways lists NAT gateways in their current state.
func (s *Service) DescribeNatGateways(ctx context.Context, in *ec2api.DescribeNatGatewaysRequest) (*ec2api.DescribeNatGatewaysResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	fs := toFilters(in.Filter)
	if err := state.CheckFilterNames(fs, "nat-gateway-id", "state", "subnet-id", "vpc-id"); err != nil {
		return nil, err
	}
	var views []*natGatewayRecord
	if err := s.ensureDefaultVPCExists(ctx); err != nil {
		return nil, err
	}
	err := s.view(ctx, func(t *rtx) error {
		all, err := natGateways.all(t)
		if err != nil {
			return err
		}
		byID := map[string]*natGatewayRecord{}
		for _, n := range all {
			if natExpired(n, t.now) {
				if err := natGateways.del(t, deref(n.NatGatewayId)); err != nil {
					return err
				}
				continue
			}
			n.State = new(natState(n, t.now))
			if deref(n.State) == "deleted" {
				for i := range n.NatGatewayAddresses {
					n.NatGatewayAddresses[i].Status = new("succeeded")
				}
			}
			byID[deref(n.NatGatewayId)] = n
		}
		var recs []*natGatewayRecord
		if len(in.NatGatewayIds) > 0 {
			var missing []string
			for _, id := range in.NatGatewayIds {
				if n, ok := byID[id]; ok {
					recs = append(recs, n)
				} else {
					missing = append(missing, id)
				}
			}
			if len(missing) > 0 {
				return natNotFound(strings.Join(missing, ", "))
			}
		} else {
			for _, n := range all {
				if byID[deref(n.NatGatewayId)] != nil {
					recs = append(recs, n)
				}
			}
		}
		for _, n := range recs {
			vals := map[string][]string{"nat-gateway-id": ptrValues(n.NatGatewayId), "state": ptrValues(n.State),
				"subnet-id": ptrValues(n.SubnetId), "vpc-id": ptrValues(n.VpcId)}
			ok, err := state.MatchWithTags(fs, fromAPITags(n.Tags), func(name string) ([]string, bool) { v, ok := vals[name]; return v, ok })
			if err != nil {
				return err
			}
			if ok {
				views = append(views, n)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(views, in.MaxResults, in.NextToken, func(n *natGatewayRecord) string { return deref(n.NatGatewayId) }, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeNatGatewaysResult{NatGateways: []ec2api.NatGateway{}, NextToken: next}
	for _, n := range pg {
		out.NatGateways = append(out.NatGateways, n.NatGateway)
	}
	return out, nil
}
