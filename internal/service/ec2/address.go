package ec2

import (
	"context"
	"net/netip"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// Elastic IP addresses. An address record keeps its association (ENI,
// private address, instance); the ENI's Association mirrors it, and the
// instance's PublicIpAddress derives from its primary ENI, so an EIP shows
// everywhere AWS shows it and survives stop/start.

// addressLimit is EC2's default quota of Elastic IPs per region.
const addressLimit = 5

// addressByPublicIP finds an address of the scope by its public IP.
func addressByPublicIP(t *rtx, ip string) (*addressRecord, error) {
	var found *addressRecord
	err := addresses.table.ForEach(t.tx, t.scope, func(_ string, a addressRecord) error {
		if found == nil && deref(a.PublicIp) == ip {
			found = &a
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, apiErr("InvalidAddress.NotFound", "Address '%s' not found.", ip)
	}
	return found, nil
}

// addressLookup resolves an operation's AllocationId or PublicIp.
func addressLookup(t *rtx, allocationID, publicIP *string) (*addressRecord, error) {
	switch {
	case deref(allocationID) != "":
		return addresses.get(t, *allocationID)
	case deref(publicIP) != "":
		return addressByPublicIP(t, *publicIP)
	}
	return nil, errMissingParam("AllocationId")
}

// addressAssociated lists the addresses associated with an interface.
func addressAssociated(t *rtx, eniID string) ([]*addressRecord, error) {
	var out []*addressRecord
	err := addresses.table.ForEach(t.tx, t.scope, func(_ string, a addressRecord) error {
		if deref(a.NetworkInterfaceId) == eniID && eniID != "" {
			out = append(out, &a)
		}
		return nil
	})
	return out, err
}

// addressClear forgets an address's association (the record only).
func addressClear(a *addressRecord) {
	a.AssociationId, a.InstanceId, a.NetworkInterfaceId, a.NetworkInterfaceOwnerId, a.PrivateIpAddress = nil, nil, nil, nil, nil
}

// addressDisassociateENI forgets every association with an interface that
// is being deleted.
func addressDisassociateENI(t *rtx, eniID string) error {
	list, err := addressAssociated(t, eniID)
	if err != nil {
		return err
	}
	for _, a := range list {
		addressClear(a)
		if err := addresses.put(t, a); err != nil {
			return err
		}
	}
	return nil
}

// addressSyncENI updates the InstanceId of the addresses associated with e
// after e was attached or detached.
func addressSyncENI(t *rtx, e *networkInterfaceRecord) error {
	list, err := addressAssociated(t, deref(e.NetworkInterfaceId))
	if err != nil {
		return err
	}
	for _, a := range list {
		a.InstanceId = nil
		if id := eniInstanceOf(e); id != "" {
			a.InstanceId = new(id)
		}
		if err := addresses.put(t, a); err != nil {
			return err
		}
	}
	return nil
}

// addressDetach undoes a's association on its interface: the interface's
// private address loses its public address and, if it is the primary of an
// instance launched with a public IP that is pending or running, gets a
// new auto-assigned one, as AWS does. a is cleared but not stored.
func addressDetach(t *rtx, a *addressRecord) error {
	eniID := deref(a.NetworkInterfaceId)
	if eniID == "" {
		return nil
	}
	e, ok, err := networkInterfaces.find(t, eniID)
	if err != nil {
		return err
	}
	addressClear(a)
	if !ok {
		return nil
	}
	for _, pa := range e.PrivateIpAddresses {
		if pa.Association != nil && deref(pa.Association.AllocationId) == deref(a.AllocationId) {
			eniSetAssociation(e, deref(pa.PrivateIpAddress), nil)
		}
	}
	instID := eniInstanceOf(e)
	if instID != "" && deref(e.Attachment.DeviceIndex) == 0 && e.Association == nil {
		inst, ok, err := instances.find(t, instID)
		if err != nil {
			return err
		}
		if ok {
			ext, err := instanceExtGet(t, instID)
			if err != nil {
				return err
			}
			if st := instanceStateName(inst); ext.AutoPublicIP && (st == stateRunning || st == statePending) {
				if err := eniAssignAutoPublicIP(t, e); err != nil {
					return err
				}
			}
		}
	}
	if err := networkInterfaces.put(t, e); err != nil {
		return err
	}
	return eniSyncInstance(t, instID)
}

// AllocateAddress allocates an Elastic IP from minicloud's public pool.
func (s *Service) AllocateAddress(ctx context.Context, in *ec2api.AllocateAddressRequest) (*ec2api.AllocateAddressResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if d := deref(in.Domain); d != "" && d != "vpc" && d != "standard" {
		return nil, errInvalidParam("Invalid value '%s' for domain.", d)
	}
	if p := deref(in.PublicIpv4Pool); p != "" && p != "amazon" {
		return nil, errInvalidParam("Invalid value '%s' for PublicIpv4Pool. The pool does not exist.", p)
	}
	if in.CustomerOwnedIpv4Pool != nil {
		return nil, errInvalidParam("Invalid value '%s' for CustomerOwnedIpv4Pool.", *in.CustomerOwnedIpv4Pool)
	}
	tags, err := tagsFor(in.TagSpecifications, "elastic-ip", "elastic-ip")
	if err != nil {
		return nil, err
	}
	var out ec2api.AllocateAddressResult
	err = s.update(ctx, func(t *rtx) error {
		if g := deref(in.NetworkBorderGroup); g != "" && g != t.scope.Region {
			return errInvalidParam("Invalid value '%s' for NetworkBorderGroup. The network border group does not exist.", g)
		}
		n := 0
		if err := addresses.table.ForEach(t.tx, t.scope, func(string, addressRecord) error { n++; return nil }); err != nil {
			return err
		}
		if n >= addressLimit {
			return apiErr("AddressLimitExceeded", "The maximum number of addresses has been reached.")
		}
		id := state.NewID("eipalloc")
		var ip string
		if want := deref(in.Address); want != "" {
			a, err := netip.ParseAddr(want)
			if err != nil || !t.publicPool.Contains(a) {
				return errInvalidParam("Invalid value '%s' for Address. Addresses must come from %s.", want, t.publicPool)
			}
			if _, used, err := publicIPs.Get(t.tx, publicIPScope, a.String()); err != nil {
				return err
			} else if used {
				return apiErr("InvalidAddress.InUse", "Address %s is in use.", want)
			}
			if err := publicIPs.Put(t.tx, publicIPScope, a.String(), publicIPOwner{Account: t.scope.Account, Region: t.scope.Region, Owner: id}); err != nil {
				return err
			}
			ip = a.String()
		} else {
			a, err := allocatePublicIP(t, id)
			if err != nil {
				return err
			}
			ip = a.String()
		}
		rec := &addressRecord{ec2api.Address{
			AllocationId:       new(id),
			PublicIp:           new(ip),
			Domain:             new("vpc"),
			PublicIpv4Pool:     new("amazon"),
			NetworkBorderGroup: new(t.scope.Region),
			Tags:               tags,
		}}
		if rec.Tags == nil {
			rec.Tags = []ec2api.Tag{}
		}
		out = ec2api.AllocateAddressResult{PublicIp: rec.PublicIp, AllocationId: rec.AllocationId, PublicIpv4Pool: rec.PublicIpv4Pool,
			NetworkBorderGroup: rec.NetworkBorderGroup, Domain: rec.Domain}
		return addresses.put(t, rec)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// AssociateAddress associates an Elastic IP with an instance's primary
// interface or with an interface's private address. Every check reads the
// state the association is written to, in one transaction: the address,
// the target interface and private address, the VPC's internet gateway,
// then what the address or the private address is associated with now.
func (s *Service) AssociateAddress(ctx context.Context, in *ec2api.AssociateAddressRequest) (*ec2api.AssociateAddressResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	var assocID string
	err := s.update(ctx, func(t *rtx) error {
		a, err := addressLookup(t, in.AllocationId, in.PublicIp)
		if err != nil {
			return err
		}
		e, err := addressTarget(t, in)
		if err != nil {
			return err
		}
		eniID := deref(e.NetworkInterfaceId)
		privateIP, err := addressPrivateIP(e, deref(in.PrivateIpAddress))
		if err != nil {
			return err
		}
		if igw, err := igwOfVPC(t, deref(e.VpcId)); err != nil {
			return err
		} else if igw == nil {
			return apiErr("Gateway.NotAttached", "Network %s is not attached to any internet gateway", deref(e.VpcId))
		}
		if cur := deref(a.AssociationId); cur != "" {
			if deref(a.NetworkInterfaceId) == eniID && deref(a.PrivateIpAddress) == privateIP {
				assocID = cur
				return nil
			}
			if e, err = addressMove(t, a, eniID, deref(in.AllowReassociation)); err != nil {
				return err
			}
		}
		if err := addressFreePrivateIP(t, e, privateIP); err != nil {
			return err
		}
		assocID, err = addressAssociate(t, a, e, privateIP)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.AssociateAddressResult{AssociationId: new(assocID)}, nil
}

// addressTarget is the interface AssociateAddress associates with: the
// given one (which must be the given instance's, if both are given), or
// the only interface of the given instance.
func addressTarget(t *rtx, in *ec2api.AssociateAddressRequest) (*networkInterfaceRecord, error) {
	switch {
	case deref(in.NetworkInterfaceId) != "":
		e, err := networkInterfaces.get(t, *in.NetworkInterfaceId)
		if err != nil {
			return nil, err
		}
		if id := deref(in.InstanceId); id != "" && eniInstanceOf(e) != id {
			return nil, errCombination("The network interface '%s' is not attached to instance '%s'.", deref(e.NetworkInterfaceId), id)
		}
		return e, nil
	case deref(in.InstanceId) != "":
		inst, err := instanceGet(t, *in.InstanceId)
		if err != nil {
			return nil, err
		}
		id := deref(inst.InstanceId)
		if st := instanceStateName(inst); st != stateRunning && st != stateStopped && st != stateStopping {
			return nil, apiErr("IncorrectInstanceState", "The %s instance '%s' is not in a valid state for this operation.", st, id)
		}
		enis, err := instanceENIs(t, id)
		if err != nil {
			return nil, err
		}
		if len(enis) > 1 {
			return nil, apiErr("InvalidInstanceID", "There are multiple interfaces attached to instance '%s'. Please specify an interface ID for the operation instead.", id)
		}
		if len(enis) == 0 {
			return nil, apiErr("InvalidInstanceID", "The instance '%s' has no network interface.", id)
		}
		return enis[0], nil
	}
	return nil, errMissingParam("instanceId or networkInterfaceId")
}

// addressPrivateIP is the private address of e an association is for: the
// requested one, which e must have, else e's primary address.
func addressPrivateIP(e *networkInterfaceRecord, requested string) (string, error) {
	privateIP := orDefault(requested, deref(e.PrivateIpAddress))
	for _, pa := range e.PrivateIpAddresses {
		if deref(pa.PrivateIpAddress) == privateIP {
			return privateIP, nil
		}
	}
	return "", errInvalidParam("The private IP address %s is not assigned to the network interface %s.", privateIP, deref(e.NetworkInterfaceId))
}

// addressMove takes an associated address off its interface so it can go
// to another, if the request allows reassociation, and returns the target
// interface eniID as it is afterwards (it may be the one the address
// left).
func addressMove(t *rtx, a *addressRecord, eniID string, allow bool) (*networkInterfaceRecord, error) {
	if !allow {
		return nil, apiErr("Resource.AlreadyAssociated", "resource %s is already associated with associate-id %s", deref(a.AllocationId), deref(a.AssociationId))
	}
	if err := addressDetach(t, a); err != nil {
		return nil, err
	}
	return networkInterfaces.get(t, eniID)
}

// addressFreePrivateIP makes the private address's current public address
// give way: an auto-assigned one is released, another Elastic IP
// disassociated.
func addressFreePrivateIP(t *rtx, e *networkInterfaceRecord, privateIP string) error {
	for _, pa := range e.PrivateIpAddresses {
		if deref(pa.PrivateIpAddress) != privateIP || pa.Association == nil {
			continue
		}
		if other := deref(pa.Association.AllocationId); other != "" {
			o, err := addresses.get(t, other)
			if err != nil {
				return err
			}
			addressClear(o)
			if err := addresses.put(t, o); err != nil {
				return err
			}
		} else if err := releasePublicIP(t, deref(pa.Association.PublicIp)); err != nil {
			return err
		}
	}
	return nil
}

// addressAssociate writes a new association of a with e's private
// address, on both sides, and returns its ID.
func addressAssociate(t *rtx, a *addressRecord, e *networkInterfaceRecord, privateIP string) (string, error) {
	assocID := state.NewID("eipassoc")
	eniSetAssociation(e, privateIP, &ec2api.NetworkInterfaceAssociation{
		AllocationId:  a.AllocationId,
		AssociationId: new(assocID),
		IpOwnerId:     new(t.scope.Account),
		PublicIp:      a.PublicIp,
		PublicDnsName: new(instancePublicDNS(t, deref(e.VpcId), deref(a.PublicIp))),
	})
	if err := networkInterfaces.put(t, e); err != nil {
		return "", err
	}
	a.AssociationId = new(assocID)
	a.NetworkInterfaceId = new(deref(e.NetworkInterfaceId))
	a.NetworkInterfaceOwnerId = new(t.scope.Account)
	a.PrivateIpAddress = new(privateIP)
	a.InstanceId = nil
	if id := eniInstanceOf(e); id != "" {
		a.InstanceId = new(id)
	}
	if err := addresses.put(t, a); err != nil {
		return "", err
	}
	return assocID, eniSyncInstance(t, eniInstanceOf(e))
}

// DisassociateAddress ends an Elastic IP's association.
func (s *Service) DisassociateAddress(ctx context.Context, in *ec2api.DisassociateAddressRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	err := s.update(ctx, func(t *rtx) error {
		var a *addressRecord
		switch {
		case deref(in.AssociationId) != "":
			id := *in.AssociationId
			if !state.ValidID("eipassoc", id) {
				return apiErr("InvalidAssociationID.Malformed", "Invalid id: \"%s\"", id)
			}
			err := addresses.table.ForEach(t.tx, t.scope, func(_ string, r addressRecord) error {
				if a == nil && deref(r.AssociationId) == id {
					a = &r
				}
				return nil
			})
			if err != nil {
				return err
			}
			if a == nil {
				return apiErr("InvalidAssociationID.NotFound", "The association ID '%s' does not exist", id)
			}
		case deref(in.PublicIp) != "":
			var err error
			if a, err = addressByPublicIP(t, *in.PublicIp); err != nil {
				return err
			}
			if deref(a.AssociationId) == "" {
				return nil
			}
		default:
			return errMissingParam("associationId")
		}
		if err := addressDetach(t, a); err != nil {
			return err
		}
		return addresses.put(t, a)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

// ReleaseAddress returns an unassociated Elastic IP to the pool.
func (s *Service) ReleaseAddress(ctx context.Context, in *ec2api.ReleaseAddressRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	err := s.update(ctx, func(t *rtx) error {
		a, err := addressLookup(t, in.AllocationId, in.PublicIp)
		if err != nil {
			return err
		}
		if g := deref(in.NetworkBorderGroup); g != "" && g != deref(a.NetworkBorderGroup) {
			return errInvalidParam("Invalid value '%s' for NetworkBorderGroup.", g)
		}
		if deref(a.AssociationId) != "" {
			return apiErr("InvalidIPAddress.InUse", "Address %s is in use.", deref(a.PublicIp))
		}
		if err := releasePublicIP(t, deref(a.PublicIp)); err != nil {
			return err
		}
		return addresses.del(t, deref(a.AllocationId))
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

func addressFilterValues(a *addressRecord) map[string][]string {
	return map[string][]string{
		"allocation-id":              ptrValues(a.AllocationId),
		"association-id":             ptrValues(a.AssociationId),
		"domain":                     ptrValues(a.Domain),
		"instance-id":                ptrValues(a.InstanceId),
		"network-interface-id":       ptrValues(a.NetworkInterfaceId),
		"network-interface-owner-id": ptrValues(a.NetworkInterfaceOwnerId),
		"private-ip-address":         ptrValues(a.PrivateIpAddress),
		"public-ip":                  ptrValues(a.PublicIp),
		"public-ipv4-pool":           ptrValues(a.PublicIpv4Pool),
		"network-border-group":       ptrValues(a.NetworkBorderGroup),
	}
}

// DescribeAddresses lists Elastic IPs by allocation ID, public IP and
// filters.
func (s *Service) DescribeAddresses(ctx context.Context, in *ec2api.DescribeAddressesRequest) (*ec2api.DescribeAddressesResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	fs := toFilters(in.Filters)
	if err := state.CheckFilterNames(fs, sortedIDs(addressFilterValues(&addressRecord{}))...); err != nil {
		return nil, err
	}
	out := &ec2api.DescribeAddressesResult{Addresses: []ec2api.Address{}}
	err := s.view(ctx, func(t *rtx) error {
		recs, err := addresses.describe(t, in.AllocationIds, in.Filters, addressFilterValues)
		if err != nil {
			return err
		}
		if len(in.PublicIps) > 0 {
			want := map[string]bool{}
			for _, ip := range in.PublicIps {
				if _, err := addressByPublicIP(t, ip); err != nil {
					return err
				}
				want[ip] = true
			}
			kept := recs[:0]
			for _, r := range recs {
				if want[deref(r.PublicIp)] {
					kept = append(kept, r)
				}
			}
			recs = kept
		}
		for _, r := range recs {
			a := r.Address
			if a.Tags == nil {
				a.Tags = []ec2api.Tag{}
			}
			out.Addresses = append(out.Addresses, a)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
