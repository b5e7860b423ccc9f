package ec2

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strconv"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// Network interfaces (ENIs). An instance's network view — its private and
// public addresses, DNS names, groups, NetworkInterfaces — is derived from
// the ENIs attached to it (eniSyncInstance), so the ENI records are the one
// truth and the instance record is rewritten whenever they change.

// eniMAC returns a locally administered unicast MAC address, 02:xx:…, as
// EC2's are.
func eniMAC() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("02:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4])
}

// eniNew stores a new available interface in subnet sn: primary address
// primaryIP (or the lowest free), then secondary addresses (given, then
// secondaryCount more).
func eniNew(t *rtx, sn *subnetRecord, groups []ec2api.GroupIdentifier, primaryIP string, secondary []string, secondaryCount int, description string, tags []ec2api.Tag) (*networkInterfaceRecord, error) {
	if tags == nil {
		tags = []ec2api.Tag{}
	}
	if groups == nil {
		groups = []ec2api.GroupIdentifier{}
	}
	e := &networkInterfaceRecord{ec2api.NetworkInterface{
		NetworkInterfaceId: new(state.NewID("eni")),
		AvailabilityZone:   sn.AvailabilityZone,
		Description:        new(description),
		Groups:             groups,
		InterfaceType:      new("interface"),
		Ipv6Addresses:      []ec2api.NetworkInterfaceIpv6Address{},
		MacAddress:         new(eniMAC()),
		OwnerId:            new(t.scope.Account),
		RequesterManaged:   new(false),
		SourceDestCheck:    new(true),
		Status:             new("available"),
		SubnetId:           sn.SubnetId,
		VpcId:              sn.VpcId,
		TagSet:             tags,
		PrivateIpAddresses: []ec2api.NetworkInterfacePrivateIpAddress{},
	}}
	if err := eniAddIPs(t, sn, e, append([]string{primaryIP}, secondary...), secondaryCount); err != nil {
		return nil, err
	}
	return e, nil
}

// eniAddIPs allocates addresses to e (the first ever is its primary) and
// stores it after each, so the next allocation sees the previous.
func eniAddIPs(t *rtx, sn *subnetRecord, e *networkInterfaceRecord, requested []string, count int) error {
	add := func(want string) error {
		a, err := allocatePrivateIP(t, sn, want)
		if err != nil {
			return err
		}
		ip := a.String()
		primary := len(e.PrivateIpAddresses) == 0
		e.PrivateIpAddresses = append(e.PrivateIpAddresses, ec2api.NetworkInterfacePrivateIpAddress{
			Primary:          new(primary),
			PrivateIpAddress: new(ip),
			PrivateDnsName:   new(instancePrivateDNS(t.scope.Region, ip)),
		})
		if primary {
			e.PrivateIpAddress = new(ip)
			e.PrivateDnsName = new(instancePrivateDNS(t.scope.Region, ip))
		}
		return networkInterfaces.put(t, e)
	}
	for i, want := range requested {
		if want == "" && i > 0 {
			continue
		}
		if err := add(want); err != nil {
			return err
		}
	}
	for range count {
		if err := add(""); err != nil {
			return err
		}
	}
	return nil
}

// eniAttach attaches e to an instance at deviceIndex (not stored).
func eniAttach(t *rtx, e *networkInterfaceRecord, instanceID string, deviceIndex int32, deleteOnTermination bool) {
	e.Attachment = &ec2api.NetworkInterfaceAttachment{
		AttachTime:          new(t.now),
		AttachmentId:        new(state.NewID("eni-attach")),
		DeleteOnTermination: new(deleteOnTermination),
		DeviceIndex:         new(deviceIndex),
		NetworkCardIndex:    new(int32(0)),
		InstanceId:          new(instanceID),
		InstanceOwnerId:     new(t.scope.Account),
		Status:              new("attached"),
	}
	e.Status = new("in-use")
}

// eniSetAssociation sets (or, with nil, clears) the public address of one
// private address of e; the primary's is also the interface's Association.
func eniSetAssociation(e *networkInterfaceRecord, privateIP string, a *ec2api.NetworkInterfaceAssociation) {
	for i := range e.PrivateIpAddresses {
		pa := &e.PrivateIpAddresses[i]
		if deref(pa.PrivateIpAddress) != privateIP {
			continue
		}
		if a == nil {
			pa.Association = nil
		} else {
			c := *a
			pa.Association = &c
		}
		if deref(pa.Primary) {
			if a == nil {
				e.Association = nil
			} else {
				c := *a
				e.Association = &c
			}
		}
	}
}

// eniAssignAutoPublicIP gives e's primary address an auto-assigned public
// IP (owner "amazon") unless it already has a public address.
func eniAssignAutoPublicIP(t *rtx, e *networkInterfaceRecord) error {
	if e.Association != nil {
		return nil
	}
	a, err := allocatePublicIP(t, deref(e.NetworkInterfaceId))
	if err != nil {
		return err
	}
	ip := a.String()
	eniSetAssociation(e, deref(e.PrivateIpAddress), &ec2api.NetworkInterfaceAssociation{
		IpOwnerId:     new("amazon"),
		PublicIp:      new(ip),
		PublicDnsName: new(instancePublicDNS(t, deref(e.VpcId), ip)),
	})
	return nil
}

// eniReleaseAutoPublicIP releases e's auto-assigned public IP, if any
// (an Elastic IP stays).
func eniReleaseAutoPublicIP(t *rtx, e *networkInterfaceRecord) error {
	if e.Association == nil || deref(e.Association.AllocationId) != "" {
		return nil
	}
	if err := releasePublicIP(t, deref(e.Association.PublicIp)); err != nil {
		return err
	}
	eniSetAssociation(e, deref(e.PrivateIpAddress), nil)
	return nil
}

// instanceENIs returns the interfaces attached to an instance, by device
// index.
func instanceENIs(t *rtx, instanceID string) ([]*networkInterfaceRecord, error) {
	ids, err := networkInterfaces.table.Lookup(t.tx, t.scope, eniByInstance, instanceID)
	if err != nil {
		return nil, err
	}
	var out []*networkInterfaceRecord
	for _, id := range ids {
		e, ok, err := networkInterfaces.find(t, id)
		if err != nil {
			return nil, err
		}
		if ok && e.Attachment != nil && deref(e.Attachment.InstanceId) == instanceID {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b *networkInterfaceRecord) int {
		return int(deref(a.Attachment.DeviceIndex) - deref(b.Attachment.DeviceIndex))
	})
	return out, err
}

// instancePrimaryENI returns the interface at device index 0, or nil.
func instancePrimaryENI(t *rtx, instanceID string) (*networkInterfaceRecord, error) {
	enis, err := instanceENIs(t, instanceID)
	if err != nil {
		return nil, err
	}
	for _, e := range enis {
		if deref(e.Attachment.DeviceIndex) == 0 {
			return e, nil
		}
	}
	return nil, nil
}

// eniView is the NetworkInterface shape Describe returns, with the public
// DNS names of the VPC's current DNS settings.
func eniView(t *rtx, e *networkInterfaceRecord) ec2api.NetworkInterface {
	out := e.NetworkInterface
	fix := func(a *ec2api.NetworkInterfaceAssociation) *ec2api.NetworkInterfaceAssociation {
		if a == nil {
			return nil
		}
		c := *a
		c.PublicDnsName = new(instancePublicDNS(t, deref(e.VpcId), deref(a.PublicIp)))
		return &c
	}
	out.Association = fix(e.Association)
	out.PrivateIpAddresses = slices.Clone(e.PrivateIpAddresses)
	for i := range out.PrivateIpAddresses {
		out.PrivateIpAddresses[i].Association = fix(out.PrivateIpAddresses[i].Association)
	}
	if out.TagSet == nil {
		out.TagSet = []ec2api.Tag{}
	}
	return out
}

// instanceApplyNetwork derives rec's network fields from its interfaces.
func instanceApplyNetwork(t *rtx, rec *instanceRecord, enis []*networkInterfaceRecord) {
	rec.NetworkInterfaces = []ec2api.InstanceNetworkInterface{}
	rec.SecurityGroups = []ec2api.GroupIdentifier{}
	rec.PrivateIpAddress, rec.PublicIpAddress = nil, nil
	rec.SubnetId, rec.VpcId, rec.SourceDestCheck = nil, nil, nil
	rec.PrivateDnsName, rec.PublicDnsName = new(""), new("")
	seen := map[string]bool{}
	for _, raw := range enis {
		e := eniView(t, raw)
		ie := ec2api.InstanceNetworkInterface{
			Description:        e.Description,
			Groups:             e.Groups,
			Ipv6Addresses:      []ec2api.InstanceIpv6Address{},
			MacAddress:         e.MacAddress,
			NetworkInterfaceId: e.NetworkInterfaceId,
			OwnerId:            e.OwnerId,
			PrivateDnsName:     e.PrivateDnsName,
			PrivateIpAddress:   e.PrivateIpAddress,
			SourceDestCheck:    e.SourceDestCheck,
			Status:             e.Status,
			SubnetId:           e.SubnetId,
			VpcId:              e.VpcId,
			InterfaceType:      e.InterfaceType,
		}
		if a := e.Association; a != nil {
			ie.Association = &ec2api.InstanceNetworkInterfaceAssociation{IpOwnerId: a.IpOwnerId, PublicDnsName: a.PublicDnsName, PublicIp: a.PublicIp}
		}
		if a := e.Attachment; a != nil {
			ie.Attachment = &ec2api.InstanceNetworkInterfaceAttachment{
				AttachTime: a.AttachTime, AttachmentId: a.AttachmentId, DeleteOnTermination: a.DeleteOnTermination,
				DeviceIndex: a.DeviceIndex, Status: a.Status, NetworkCardIndex: a.NetworkCardIndex,
			}
		}
		for _, pa := range e.PrivateIpAddresses {
			ip := ec2api.InstancePrivateIpAddress{Primary: pa.Primary, PrivateDnsName: pa.PrivateDnsName, PrivateIpAddress: pa.PrivateIpAddress}
			if a := pa.Association; a != nil {
				ip.Association = &ec2api.InstanceNetworkInterfaceAssociation{IpOwnerId: a.IpOwnerId, PublicDnsName: a.PublicDnsName, PublicIp: a.PublicIp}
			}
			ie.PrivateIpAddresses = append(ie.PrivateIpAddresses, ip)
		}
		rec.NetworkInterfaces = append(rec.NetworkInterfaces, ie)
		for _, g := range e.Groups {
			if !seen[deref(g.GroupId)] {
				seen[deref(g.GroupId)] = true
				rec.SecurityGroups = append(rec.SecurityGroups, g)
			}
		}
		if e.Attachment != nil && deref(e.Attachment.DeviceIndex) == 0 {
			rec.PrivateIpAddress = e.PrivateIpAddress
			rec.PrivateDnsName = e.PrivateDnsName
			rec.SubnetId, rec.VpcId = e.SubnetId, e.VpcId
			rec.SourceDestCheck = e.SourceDestCheck
			if e.Association != nil {
				rec.PublicIpAddress = e.Association.PublicIp
				rec.PublicDnsName = e.Association.PublicDnsName
			}
		}
	}
}

// eniSyncInstance rewrites an instance's record from its interfaces (the
// runtime watches instance records).
func eniSyncInstance(t *rtx, instanceID string) error {
	if instanceID == "" {
		return nil
	}
	rec, ok, err := instances.find(t, instanceID)
	if err != nil || !ok {
		return err
	}
	enis, err := instanceENIs(t, instanceID)
	if err != nil {
		return err
	}
	instanceApplyNetwork(t, rec, enis)
	return instances.put(t, rec)
}

// eniInstanceOf returns the ID of the instance e is attached to, or "".
func eniInstanceOf(e *networkInterfaceRecord) string {
	if e.Attachment == nil {
		return ""
	}
	return deref(e.Attachment.InstanceId)
}

// eniSubnet returns the subnet and VPC of an operation's SubnetId.
func eniSubnet(t *rtx, id string) (*subnetRecord, *vpcRecord, error) {
	if id == "" {
		return nil, nil, errMissingParam("subnetId")
	}
	sn, err := subnets.get(t, id)
	if err != nil {
		return nil, nil, err
	}
	v, err := vpcs.get(t, deref(sn.VpcId))
	if err != nil {
		return nil, nil, err
	}
	return sn, v, nil
}

// CreateNetworkInterface creates an available interface in a subnet.
func (s *Service) CreateNetworkInterface(ctx context.Context, in *ec2api.CreateNetworkInterfaceRequest) (*ec2api.CreateNetworkInterfaceResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	tags, err := tagsFor(in.TagSpecifications, "network-interface", "network-interface")
	if err != nil {
		return nil, err
	}
	if it := deref(in.InterfaceType); it != "" && it != "interface" && it != "efa" && it != "trunk" {
		return nil, errInvalidParam("Value (%s) for parameter interfaceType is invalid.", it)
	}
	count := int(deref(in.SecondaryPrivateIpAddressCount))
	if count < 0 {
		return nil, errInvalidParam("Value (%d) for parameter secondaryPrivateIpAddressCount is invalid.", count)
	}
	primary := deref(in.PrivateIpAddress)
	var secondary []string
	for _, p := range in.PrivateIpAddresses {
		if deref(p.Primary) {
			if primary != "" && primary != deref(p.PrivateIpAddress) {
				return nil, errCombination("Only one primary private IP address may be specified.")
			}
			primary = deref(p.PrivateIpAddress)
			continue
		}
		secondary = append(secondary, deref(p.PrivateIpAddress))
	}
	token := deref(in.ClientToken)
	hash := state.HashParams(struct {
		R *ec2api.CreateNetworkInterfaceRequest
	}{&ec2api.CreateNetworkInterfaceRequest{SubnetId: in.SubnetId, Description: in.Description, Groups: in.Groups,
		PrivateIpAddress: in.PrivateIpAddress, PrivateIpAddresses: in.PrivateIpAddresses, SecondaryPrivateIpAddressCount: in.SecondaryPrivateIpAddressCount,
		InterfaceType: in.InterfaceType, TagSpecifications: in.TagSpecifications}})
	var out ec2api.NetworkInterface
	err = s.update(ctx, func(t *rtx) error {
		e, err := createOnce(t, networkInterfaces, "CreateNetworkInterface", token, hash, func() (*networkInterfaceRecord, error) {
			sn, v, err := eniSubnet(t, deref(in.SubnetId))
			if err != nil {
				return nil, err
			}
			groups, err := instanceResolveGroups(t, v, deref(sn.SubnetId), in.Groups, nil)
			if err != nil {
				return nil, err
			}
			e, err := eniNew(t, sn, groups, primary, secondary, count, deref(in.Description), tags)
			if err != nil {
				return nil, err
			}
			if it := deref(in.InterfaceType); it != "" {
				e.InterfaceType = new(it)
				if err := networkInterfaces.put(t, e); err != nil {
					return nil, err
				}
			}
			return e, nil
		})
		if err != nil {
			return err
		}
		out = eniView(t, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	res := &ec2api.CreateNetworkInterfaceResult{NetworkInterface: &out}
	if token != "" {
		res.ClientToken = new(token)
	}
	// A new interface is "pending" in CreateNetworkInterface's answer.
	out.Status = new("pending")
	return res, nil
}

// DeleteNetworkInterface deletes an interface that is not attached.
func (s *Service) DeleteNetworkInterface(ctx context.Context, in *ec2api.DeleteNetworkInterfaceRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	err := s.update(ctx, func(t *rtx) error {
		id := deref(in.NetworkInterfaceId)
		if id == "" {
			return errMissingParam("networkInterfaceId")
		}
		e, err := networkInterfaces.get(t, id)
		if err != nil {
			return err
		}
		if e.Attachment != nil || deref(e.RequesterManaged) {
			return apiErr("InvalidNetworkInterface.InUse", "Interface: [%s] in use.", id)
		}
		return eniDelete(t, e)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

// eniDelete deletes an interface, freeing its public addresses: an
// auto-assigned one is released, an Elastic IP disassociated.
func eniDelete(t *rtx, e *networkInterfaceRecord) error {
	if err := eniReleaseAutoPublicIP(t, e); err != nil {
		return err
	}
	if err := addressDisassociateENI(t, deref(e.NetworkInterfaceId)); err != nil {
		return err
	}
	return networkInterfaces.del(t, deref(e.NetworkInterfaceId))
}

// eniFilterValues lists DescribeNetworkInterfaces' filters for e.
func eniFilterValues(e *ec2api.NetworkInterface) map[string][]string {
	v := map[string][]string{
		"network-interface-id":             ptrValues(e.NetworkInterfaceId),
		"subnet-id":                        ptrValues(e.SubnetId),
		"vpc-id":                           ptrValues(e.VpcId),
		"availability-zone":                ptrValues(e.AvailabilityZone),
		"description":                      ptrValues(e.Description),
		"mac-address":                      ptrValues(e.MacAddress),
		"owner-id":                         ptrValues(e.OwnerId),
		"private-dns-name":                 ptrValues(e.PrivateDnsName),
		"private-ip-address":               ptrValues(e.PrivateIpAddress),
		"status":                           ptrValues(e.Status),
		"interface-type":                   ptrValues(e.InterfaceType),
		"requester-managed":                boolValue(e.RequesterManaged),
		"requester-id":                     ptrValues(e.RequesterId),
		"source-dest-check":                boolValue(e.SourceDestCheck),
		"attachment.instance-id":           nil,
		"attachment.instance-owner-id":     nil,
		"attachment.attachment-id":         nil,
		"attachment.status":                nil,
		"attachment.device-index":          nil,
		"attachment.delete-on-termination": nil,
		"attachment.attach-time":           nil,
		"association.public-ip":            nil,
		"association.allocation-id":        nil,
		"association.association-id":       nil,
		"association.ip-owner-id":          nil,
		"association.public-dns-name":      nil,
		"addresses.private-ip-address":     nil,
		"addresses.primary":                nil,
		"addresses.association.public-ip":  nil,
		"addresses.association.owner-id":   nil,
		"group-id":                         nil,
		"group-name":                       nil,
	}
	if a := e.Attachment; a != nil {
		v["attachment.instance-id"] = ptrValues(a.InstanceId)
		v["attachment.instance-owner-id"] = ptrValues(a.InstanceOwnerId)
		v["attachment.attachment-id"] = ptrValues(a.AttachmentId)
		v["attachment.status"] = ptrValues(a.Status)
		v["attachment.device-index"] = []string{strconv.Itoa(int(deref(a.DeviceIndex)))}
		v["attachment.delete-on-termination"] = boolValue(a.DeleteOnTermination)
		if a.AttachTime != nil {
			v["attachment.attach-time"] = []string{a.AttachTime.UTC().Format("2006-01-02T15:04:05.000Z")}
		}
	}
	if a := e.Association; a != nil {
		v["association.public-ip"] = ptrValues(a.PublicIp)
		v["association.allocation-id"] = ptrValues(a.AllocationId)
		v["association.association-id"] = ptrValues(a.AssociationId)
		v["association.ip-owner-id"] = ptrValues(a.IpOwnerId)
		v["association.public-dns-name"] = ptrValues(a.PublicDnsName)
	}
	for _, pa := range e.PrivateIpAddresses {
		v["addresses.private-ip-address"] = append(v["addresses.private-ip-address"], deref(pa.PrivateIpAddress))
		v["addresses.primary"] = append(v["addresses.primary"], strconv.FormatBool(deref(pa.Primary)))
		if pa.Association != nil {
			v["addresses.association.public-ip"] = append(v["addresses.association.public-ip"], deref(pa.Association.PublicIp))
			v["addresses.association.owner-id"] = append(v["addresses.association.owner-id"], deref(pa.Association.IpOwnerId))
		}
	}
	for _, g := range e.Groups {
		v["group-id"] = append(v["group-id"], deref(g.GroupId))
		v["group-name"] = append(v["group-name"], deref(g.GroupName))
	}
	return v
}

// DescribeNetworkInterfaces lists interfaces by ID and filters.
func (s *Service) DescribeNetworkInterfaces(ctx context.Context, in *ec2api.DescribeNetworkInterfacesRequest) (*ec2api.DescribeNetworkInterfacesResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if in.MaxResults != nil && len(in.NetworkInterfaceIds) > 0 {
		return nil, errCombination("The parameter networkInterfaceIdSet cannot be used with the parameter maxResults")
	}
	fs := toFilters(in.Filters)
	if err := state.CheckFilterNames(fs, sortedIDs(eniFilterValues(&ec2api.NetworkInterface{}))...); err != nil {
		return nil, err
	}
	var all []*ec2api.NetworkInterface
	err := s.view(ctx, func(t *rtx) error {
		recs, err := networkInterfaces.describe(t, in.NetworkInterfaceIds, nil, nil)
		if err != nil {
			return err
		}
		for _, r := range recs {
			v := eniView(t, r)
			ok, err := state.MatchWithTags(fs, fromAPITags(v.TagSet), func(name string) ([]string, bool) {
				vals, ok := eniFilterValues(&v)[name]
				return vals, ok
			})
			if err != nil {
				return err
			}
			if ok {
				all = append(all, &v)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(all, in.MaxResults, in.NextToken, func(e *ec2api.NetworkInterface) string { return deref(e.NetworkInterfaceId) }, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeNetworkInterfacesResult{NetworkInterfaces: []ec2api.NetworkInterface{}, NextToken: next}
	for _, e := range pg {
		out.NetworkInterfaces = append(out.NetworkInterfaces, *e)
	}
	return out, nil
}

// AttachNetworkInterface attaches an available interface to a running or
// stopped instance in the same zone and VPC.
func (s *Service) AttachNetworkInterface(ctx context.Context, in *ec2api.AttachNetworkInterfaceRequest) (*ec2api.AttachNetworkInterfaceResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if in.DeviceIndex == nil {
		return nil, errMissingParam("deviceIndex")
	}
	idx := *in.DeviceIndex
	if idx < 0 {
		return nil, errInvalidParam("Value (%d) for parameter deviceIndex is invalid.", idx)
	}
	if nc := deref(in.NetworkCardIndex); nc != 0 {
		return nil, errInvalidParam("Value (%d) for parameter networkCardIndex is invalid. The instance type supports 1 network card.", nc)
	}
	var out ec2api.AttachNetworkInterfaceResult
	err := s.update(ctx, func(t *rtx) error {
		e, err := networkInterfaces.get(t, deref(in.NetworkInterfaceId))
		if err != nil {
			return err
		}
		inst, err := instanceGet(t, deref(in.InstanceId))
		if err != nil {
			return err
		}
		instID := deref(inst.InstanceId)
		if st := instanceStateName(inst); st != stateRunning && st != stateStopped {
			return apiErr("IncorrectInstanceState", "The instance '%s' is not in a valid state for this operation.", instID)
		}
		if e.Attachment != nil {
			return apiErr("InvalidNetworkInterface.InUse", "Interface: [%s] in use.", deref(e.NetworkInterfaceId))
		}
		if inst.Placement == nil || deref(inst.Placement.AvailabilityZone) != deref(e.AvailabilityZone) {
			return errInvalidParam("Invalid value '%s' for networkInterfaceId. The network interface and the instance must be in the same availability zone.", deref(e.NetworkInterfaceId))
		}
		if deref(inst.VpcId) != deref(e.VpcId) {
			return errInvalidParam("Invalid value '%s' for networkInterfaceId. The network interface and the instance must be in the same VPC.", deref(e.NetworkInterfaceId))
		}
		enis, err := instanceENIs(t, instID)
		if err != nil {
			return err
		}
		for _, o := range enis {
			if deref(o.Attachment.DeviceIndex) == idx {
				return errInvalidParam("Instance '%s' already has an interface attached at device index '%d'.", instID, idx)
			}
		}
		if info, ok := instanceTypeLookup(deref(inst.InstanceType)); ok && info.NetworkInfo != nil {
			if max := deref(info.NetworkInfo.MaximumNetworkInterfaces); max > 0 && int32(len(enis)) >= max {
				return apiErr("AttachmentLimitExceeded", "Interface count %d exceeds the limit for %s", len(enis)+1, deref(inst.InstanceType))
			}
		}
		eniAttach(t, e, instID, idx, false)
		if err := networkInterfaces.put(t, e); err != nil {
			return err
		}
		out = ec2api.AttachNetworkInterfaceResult{AttachmentId: e.Attachment.AttachmentId, NetworkCardIndex: new(int32(0))}
		if err := addressSyncENI(t, e); err != nil {
			return err
		}
		return eniSyncInstance(t, instID)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// eniByAttachment finds the interface of an attachment ID.
func eniByAttachment(t *rtx, attachmentID string) (*networkInterfaceRecord, error) {
	if attachmentID == "" {
		return nil, errMissingParam("attachmentId")
	}
	var found *networkInterfaceRecord
	err := networkInterfaces.table.ForEach(t.tx, t.scope, func(_ string, e networkInterfaceRecord) error {
		if found == nil && e.Attachment != nil && deref(e.Attachment.AttachmentId) == attachmentID {
			found = &e
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		if !state.ValidID("eni-attach", attachmentID) {
			return nil, apiErr("InvalidAttachmentID.Malformed", "Invalid id: \"%s\"", attachmentID)
		}
		return nil, apiErr("InvalidAttachmentID.NotFound", "The attachment ID '%s' does not exist", attachmentID)
	}
	return found, nil
}

// DetachNetworkInterface detaches a secondary interface.
func (s *Service) DetachNetworkInterface(ctx context.Context, in *ec2api.DetachNetworkInterfaceRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	err := s.update(ctx, func(t *rtx) error {
		e, err := eniByAttachment(t, deref(in.AttachmentId))
		if err != nil {
			return err
		}
		if deref(e.Attachment.DeviceIndex) == 0 {
			return apiErr("OperationNotPermitted", "The network interface at device index 0 cannot be detached.")
		}
		instID := eniInstanceOf(e)
		e.Attachment = nil
		e.Status = new("available")
		if err := networkInterfaces.put(t, e); err != nil {
			return err
		}
		if err := addressSyncENI(t, e); err != nil {
			return err
		}
		return eniSyncInstance(t, instID)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

// ModifyNetworkInterfaceAttribute changes one attribute of an interface.
func (s *Service) ModifyNetworkInterfaceAttribute(ctx context.Context, in *ec2api.ModifyNetworkInterfaceAttributeRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	n := 0
	for _, set := range []bool{in.Description != nil, in.SourceDestCheck != nil, len(in.Groups) > 0, in.Attachment != nil, in.AssociatePublicIpAddress != nil} {
		if set {
			n++
		}
	}
	if n == 0 {
		return nil, errMissingParam("attribute")
	}
	if n > 1 {
		return nil, errCombination("Only one attribute may be modified at a time.")
	}
	err := s.update(ctx, func(t *rtx) error {
		e, err := networkInterfaces.get(t, deref(in.NetworkInterfaceId))
		if err != nil {
			return err
		}
		switch {
		case in.Description != nil:
			e.Description = new(deref(in.Description.Value))
		case in.SourceDestCheck != nil:
			if in.SourceDestCheck.Value == nil {
				return errMissingParam("sourceDestCheck.value")
			}
			e.SourceDestCheck = new(*in.SourceDestCheck.Value)
		case len(in.Groups) > 0:
			v, err := vpcs.get(t, deref(e.VpcId))
			if err != nil {
				return err
			}
			groups, err := instanceResolveGroups(t, v, deref(e.SubnetId), in.Groups, nil)
			if err != nil {
				return err
			}
			e.Groups = groups
		case in.Attachment != nil:
			if e.Attachment == nil || deref(e.Attachment.AttachmentId) != deref(in.Attachment.AttachmentId) {
				return apiErr("InvalidAttachmentID.NotFound", "The attachment ID '%s' does not exist", deref(in.Attachment.AttachmentId))
			}
			if in.Attachment.DeleteOnTermination != nil {
				e.Attachment.DeleteOnTermination = new(*in.Attachment.DeleteOnTermination)
			}
		case in.AssociatePublicIpAddress != nil:
			if id := eniInstanceOf(e); id != "" && deref(e.Attachment.DeviceIndex) == 0 {
				ext, err := instanceExtGet(t, id)
				if err != nil {
					return err
				}
				ext.AutoPublicIP = *in.AssociatePublicIpAddress
				if err := instanceExtPut(t, id, ext); err != nil {
					return err
				}
			}
			if *in.AssociatePublicIpAddress {
				if err := eniAssignAutoPublicIP(t, e); err != nil {
					return err
				}
			} else if err := eniReleaseAutoPublicIP(t, e); err != nil {
				return err
			}
		}
		if err := networkInterfaces.put(t, e); err != nil {
			return err
		}
		return eniSyncInstance(t, eniInstanceOf(e))
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}
