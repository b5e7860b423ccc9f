package ec2

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

const instanceTimeFormat = "2006-01-02T15:04:05.000Z"

// instanceFilterValues lists DescribeInstances' filters for one instance:
// every name, with the instance's values for it.
func instanceFilterValues(owner string, rec *instanceRecord, v *ec2api.Instance) map[string][]string {
	a := &instanceFilterArgs{owner: owner, rec: rec, v: v}
	m := make(map[string][]string, len(instanceFilters))
	for name, f := range instanceFilters {
		if f != nil {
			m[name] = f(a)
		} else {
			m[name] = nil
		}
	}
	return m
}

// instanceFilterArgs is what a DescribeInstances filter reads: the
// caller's account, the record and its view.
type instanceFilterArgs struct {
	owner string
	rec   *instanceRecord
	v     *ec2api.Instance
}

// instanceFilter gives an instance's values for one filter.
type instanceFilter func(a *instanceFilterArgs) []string

// instanceFilters are DescribeInstances' filters by name. A nil filter is
// one EC2 accepts that nothing in minicloud has a value for (IPv6, ENA
// Express, requester IDs…): it matches no instance.
var instanceFilters = map[string]instanceFilter{
	"instance-id":             instanceString(func(v *ec2api.Instance) *string { return v.InstanceId }),
	"instance-type":           instanceString(func(v *ec2api.Instance) *string { return v.InstanceType }),
	"image-id":                instanceString(func(v *ec2api.Instance) *string { return v.ImageId }),
	"vpc-id":                  instanceString(func(v *ec2api.Instance) *string { return v.VpcId }),
	"subnet-id":               instanceString(func(v *ec2api.Instance) *string { return v.SubnetId }),
	"private-ip-address":      instanceString(func(v *ec2api.Instance) *string { return v.PrivateIpAddress }),
	"ip-address":              instanceString(func(v *ec2api.Instance) *string { return v.PublicIpAddress }),
	"private-dns-name":        instanceString(func(v *ec2api.Instance) *string { return v.PrivateDnsName }),
	"dns-name":                instanceString(func(v *ec2api.Instance) *string { return v.PublicDnsName }),
	"key-name":                instanceString(func(v *ec2api.Instance) *string { return v.KeyName }),
	"architecture":            instanceString(func(v *ec2api.Instance) *string { return v.Architecture }),
	"root-device-type":        instanceString(func(v *ec2api.Instance) *string { return v.RootDeviceType }),
	"root-device-name":        instanceString(func(v *ec2api.Instance) *string { return v.RootDeviceName }),
	"hypervisor":              instanceString(func(v *ec2api.Instance) *string { return v.Hypervisor }),
	"virtualization-type":     instanceString(func(v *ec2api.Instance) *string { return v.VirtualizationType }),
	"client-token":            instanceString(func(v *ec2api.Instance) *string { return v.ClientToken }),
	"platform":                instanceString(func(v *ec2api.Instance) *string { return v.Platform }),
	"platform-details":        instanceString(func(v *ec2api.Instance) *string { return v.PlatformDetails }),
	"usage-operation":         instanceString(func(v *ec2api.Instance) *string { return v.UsageOperation }),
	"kernel-id":               instanceString(func(v *ec2api.Instance) *string { return v.KernelId }),
	"ramdisk-id":              instanceString(func(v *ec2api.Instance) *string { return v.RamdiskId }),
	"state-transition-reason": instanceString(func(v *ec2api.Instance) *string { return v.StateTransitionReason }),
	"source-dest-check":       func(a *instanceFilterArgs) []string { return boolValue(a.v.SourceDestCheck) },
	"ebs-optimized":           func(a *instanceFilterArgs) []string { return boolValue(a.v.EbsOptimized) },
	"ena-support":             func(a *instanceFilterArgs) []string { return boolValue(a.v.EnaSupport) },
	"reservation-id":          func(a *instanceFilterArgs) []string { return one(a.rec.ReservationID) },
	"owner-id":                func(a *instanceFilterArgs) []string { return one(a.owner) },
	"ami-launch-index":        func(a *instanceFilterArgs) []string { return []string{strconv.Itoa(int(deref(a.v.AmiLaunchIndex)))} },
	"launch-time":             func(a *instanceFilterArgs) []string { return instanceTimes(a.v.LaunchTime) },

	"instance-state-name": func(a *instanceFilterArgs) []string {
		return partString(a.v.State, func(s *ec2api.InstanceState) *string { return s.Name })
	},
	"instance-state-code": func(a *instanceFilterArgs) []string {
		if a.v.State == nil {
			return nil
		}
		return []string{strconv.Itoa(int(deref(a.v.State.Code)))}
	},
	"availability-zone": func(a *instanceFilterArgs) []string {
		return partString(a.v.Placement, func(p *ec2api.Placement) *string { return p.AvailabilityZone })
	},
	"placement-group-name": func(a *instanceFilterArgs) []string {
		return partString(a.v.Placement, func(p *ec2api.Placement) *string { return p.GroupName })
	},
	"tenancy": func(a *instanceFilterArgs) []string {
		return partString(a.v.Placement, func(p *ec2api.Placement) *string { return p.Tenancy })
	},
	"monitoring-state": func(a *instanceFilterArgs) []string {
		return partString(a.v.Monitoring, func(m *ec2api.Monitoring) *string { return m.State })
	},
	"state-reason-code": func(a *instanceFilterArgs) []string {
		return partString(a.v.StateReason, func(r *ec2api.StateReason) *string { return r.Code })
	},
	"state-reason-message": func(a *instanceFilterArgs) []string {
		return partString(a.v.StateReason, func(r *ec2api.StateReason) *string { return r.Message })
	},
	"iam-instance-profile.arn": func(a *instanceFilterArgs) []string {
		return partString(a.v.IamInstanceProfile, func(p *ec2api.IamInstanceProfile) *string { return p.Arn })
	},
	"metadata-options.http-tokens": func(a *instanceFilterArgs) []string {
		return partString(a.v.MetadataOptions, func(m *ec2api.InstanceMetadataOptionsResponse) *string { return m.HttpTokens })
	},
	"metadata-options.http-endpoint": func(a *instanceFilterArgs) []string {
		return partString(a.v.MetadataOptions, func(m *ec2api.InstanceMetadataOptionsResponse) *string { return m.HttpEndpoint })
	},

	"instance.group-id":   instanceGroups(func(g ec2api.GroupIdentifier) *string { return g.GroupId }),
	"instance.group-name": instanceGroups(func(g ec2api.GroupIdentifier) *string { return g.GroupName }),
	"group-id":            instanceGroups(func(g ec2api.GroupIdentifier) *string { return g.GroupId }),
	"group-name":          instanceGroups(func(g ec2api.GroupIdentifier) *string { return g.GroupName }),

	"block-device-mapping.device-name": func(a *instanceFilterArgs) []string {
		var out []string
		for _, b := range a.v.BlockDeviceMappings {
			out = append(out, deref(b.DeviceName))
		}
		return out
	},
	"block-device-mapping.volume-id": instanceEBS(func(e *ec2api.EbsInstanceBlockDevice) []string { return []string{deref(e.VolumeId)} }),
	"block-device-mapping.status":    instanceEBS(func(e *ec2api.EbsInstanceBlockDevice) []string { return []string{deref(e.Status)} }),
	"block-device-mapping.delete-on-termination": instanceEBS(func(e *ec2api.EbsInstanceBlockDevice) []string {
		return []string{strconv.FormatBool(deref(e.DeleteOnTermination))}
	}),
	"block-device-mapping.attach-time": instanceEBS(func(e *ec2api.EbsInstanceBlockDevice) []string { return instanceTimes(e.AttachTime) }),

	"network-interface.network-interface-id": instanceENI(func(_ *instanceFilterArgs, n *ec2api.InstanceNetworkInterface) []string {
		return ptrValues(n.NetworkInterfaceId)
	}),
	"network-interface.subnet-id": instanceENI(func(_ *instanceFilterArgs, n *ec2api.InstanceNetworkInterface) []string { return ptrValues(n.SubnetId) }),
	"network-interface.vpc-id":    instanceENI(func(_ *instanceFilterArgs, n *ec2api.InstanceNetworkInterface) []string { return ptrValues(n.VpcId) }),
	"network-interface.mac-address": instanceENI(func(_ *instanceFilterArgs, n *ec2api.InstanceNetworkInterface) []string {
		return ptrValues(n.MacAddress)
	}),
	"network-interface.private-dns-name": instanceENI(func(_ *instanceFilterArgs, n *ec2api.InstanceNetworkInterface) []string {
		return ptrValues(n.PrivateDnsName)
	}),
	"network-interface.private-ip-address": instanceENI(func(_ *instanceFilterArgs, n *ec2api.InstanceNetworkInterface) []string {
		return ptrValues(n.PrivateIpAddress)
	}),
	"network-interface.status": instanceENI(func(_ *instanceFilterArgs, n *ec2api.InstanceNetworkInterface) []string { return ptrValues(n.Status) }),
	"network-interface.description": instanceENI(func(_ *instanceFilterArgs, n *ec2api.InstanceNetworkInterface) []string {
		return ptrValues(n.Description)
	}),
	"network-interface.owner-id": instanceENI(func(_ *instanceFilterArgs, n *ec2api.InstanceNetworkInterface) []string { return ptrValues(n.OwnerId) }),
	"network-interface.interface-type": instanceENI(func(_ *instanceFilterArgs, n *ec2api.InstanceNetworkInterface) []string {
		return ptrValues(n.InterfaceType)
	}),
	"network-interface.source-dest-check": instanceENI(func(_ *instanceFilterArgs, n *ec2api.InstanceNetworkInterface) []string {
		return []string{strconv.FormatBool(deref(n.SourceDestCheck))}
	}),
	"network-interface.requester-managed": instanceENI(func(*instanceFilterArgs, *ec2api.InstanceNetworkInterface) []string { return []string{"false"} }),
	"network-interface.group-id": instanceENI(func(_ *instanceFilterArgs, n *ec2api.InstanceNetworkInterface) []string {
		return groupValues(n.Groups, func(g ec2api.GroupIdentifier) *string { return g.GroupId })
	}),
	"network-interface.group-name": instanceENI(func(_ *instanceFilterArgs, n *ec2api.InstanceNetworkInterface) []string {
		return groupValues(n.Groups, func(g ec2api.GroupIdentifier) *string { return g.GroupName })
	}),

	"network-interface.attachment.attachment-id": eniAttachment(func(_ *instanceFilterArgs, x *ec2api.InstanceNetworkInterfaceAttachment) []string {
		return ptrValues(x.AttachmentId)
	}),
	"network-interface.attachment.device-index": eniAttachment(func(_ *instanceFilterArgs, x *ec2api.InstanceNetworkInterfaceAttachment) []string {
		return []string{strconv.Itoa(int(deref(x.DeviceIndex)))}
	}),
	"network-interface.attachment.status": eniAttachment(func(_ *instanceFilterArgs, x *ec2api.InstanceNetworkInterfaceAttachment) []string {
		return ptrValues(x.Status)
	}),
	"network-interface.attachment.delete-on-termination": eniAttachment(func(_ *instanceFilterArgs, x *ec2api.InstanceNetworkInterfaceAttachment) []string {
		return []string{strconv.FormatBool(deref(x.DeleteOnTermination))}
	}),
	"network-interface.attachment.instance-id": eniAttachment(func(a *instanceFilterArgs, _ *ec2api.InstanceNetworkInterfaceAttachment) []string {
		return ptrValues(a.v.InstanceId)
	}),
	"network-interface.attachment.instance-owner-id": eniAttachment(func(a *instanceFilterArgs, _ *ec2api.InstanceNetworkInterfaceAttachment) []string {
		return one(a.owner)
	}),
	"network-interface.attachment.network-card-index": eniAttachment(func(_ *instanceFilterArgs, x *ec2api.InstanceNetworkInterfaceAttachment) []string {
		return []string{strconv.Itoa(int(deref(x.NetworkCardIndex)))}
	}),
	"network-interface.attachment.attach-time": eniAttachment(func(_ *instanceFilterArgs, x *ec2api.InstanceNetworkInterfaceAttachment) []string {
		return instanceTimes(x.AttachTime)
	}),

	"network-interface.association.public-ip":       eniAssociation(func(x *ec2api.InstanceNetworkInterfaceAssociation) *string { return x.PublicIp }),
	"network-interface.association.ip-owner-id":     eniAssociation(func(x *ec2api.InstanceNetworkInterfaceAssociation) *string { return x.IpOwnerId }),
	"network-interface.association.public-dns-name": eniAssociation(func(x *ec2api.InstanceNetworkInterfaceAssociation) *string { return x.PublicDnsName }),

	"network-interface.addresses.private-ip-address": eniAddresses(func(pa ec2api.InstancePrivateIpAddress) *string { return pa.PrivateIpAddress }),
	"network-interface.addresses.private-dns-name":   eniAddresses(func(pa ec2api.InstancePrivateIpAddress) *string { return pa.PrivateDnsName }),
	"network-interface.addresses.primary": eniAddresses(func(pa ec2api.InstancePrivateIpAddress) *string {
		return new(strconv.FormatBool(deref(pa.Primary)))
	}),
	"network-interface.addresses.association.public-ip": eniAddresses(func(pa ec2api.InstancePrivateIpAddress) *string {
		return partPtr(pa.Association, func(x *ec2api.InstanceNetworkInterfaceAssociation) *string { return x.PublicIp })
	}),
	"network-interface.addresses.association.ip-owner-id": eniAddresses(func(pa ec2api.InstancePrivateIpAddress) *string {
		return partPtr(pa.Association, func(x *ec2api.InstanceNetworkInterfaceAssociation) *string { return x.IpOwnerId })
	}),
	"network-interface.addresses.association.public-dns-name": eniAddresses(func(pa ec2api.InstancePrivateIpAddress) *string {
		return partPtr(pa.Association, func(x *ec2api.InstanceNetworkInterfaceAssociation) *string { return x.PublicDnsName })
	}),

	"network-interface.association.allocation-id":                nil,
	"network-interface.association.association-id":               nil,
	"network-interface.requester-id":                             nil,
	"network-interface.availability-zone":                        nil,
	"network-interface.ipv6-addresses.ipv6-address":              nil,
	"network-interface.ipv6-address":                             nil,
	"network-interface.attachment.ena-srd-enabled":               nil,
	"network-interface.attachment.network-card-index.deprecated": nil,
}

// instanceString is the filter of one string field of the instance.
func instanceString(field func(v *ec2api.Instance) *string) instanceFilter {
	return func(a *instanceFilterArgs) []string { return ptrValues(field(a.v)) }
}

// partPtr is a field of an optional part of a shape, nil without the part.
func partPtr[P any](part *P, field func(*P) *string) *string {
	if part == nil {
		return nil
	}
	return field(part)
}

// partString is the filter values of a field of an optional part.
func partString[P any](part *P, field func(*P) *string) []string {
	return ptrValues(partPtr(part, field))
}

// instanceTimes is the filter value of a time, as EC2 formats it.
func instanceTimes(t *time.Time) []string {
	if t == nil {
		return nil
	}
	return []string{t.UTC().Format(instanceTimeFormat)}
}

// groupValues lists one field of every group, empty ones included.
func groupValues(groups []ec2api.GroupIdentifier, field func(ec2api.GroupIdentifier) *string) []string {
	var out []string
	for _, g := range groups {
		out = append(out, deref(field(g)))
	}
	return out
}

// instanceGroups is the filter of a field of the instance's groups.
func instanceGroups(field func(ec2api.GroupIdentifier) *string) instanceFilter {
	return func(a *instanceFilterArgs) []string { return groupValues(a.v.SecurityGroups, field) }
}

// instanceEBS is the filter of the instance's EBS mappings, in order.
func instanceEBS(values func(e *ec2api.EbsInstanceBlockDevice) []string) instanceFilter {
	return func(a *instanceFilterArgs) []string {
		var out []string
		for _, b := range a.v.BlockDeviceMappings {
			if b.Ebs != nil {
				out = append(out, values(b.Ebs)...)
			}
		}
		return out
	}
}

// instanceENI is a network-interface.* filter: the values of every
// interface, in order, with empty ones left out.
func instanceENI(values func(a *instanceFilterArgs, n *ec2api.InstanceNetworkInterface) []string) instanceFilter {
	return func(a *instanceFilterArgs) []string {
		var out []string
		for i := range a.v.NetworkInterfaces {
			for _, s := range values(a, &a.v.NetworkInterfaces[i]) {
				if s != "" {
					out = append(out, s)
				}
			}
		}
		return out
	}
}

// eniAttachment is the filter of the interfaces' attachments.
func eniAttachment(values func(a *instanceFilterArgs, x *ec2api.InstanceNetworkInterfaceAttachment) []string) instanceFilter {
	return instanceENI(func(a *instanceFilterArgs, n *ec2api.InstanceNetworkInterface) []string {
		if n.Attachment == nil {
			return nil
		}
		return values(a, n.Attachment)
	})
}

// eniAssociation is the filter of the interfaces' public addresses.
func eniAssociation(field func(x *ec2api.InstanceNetworkInterfaceAssociation) *string) instanceFilter {
	return instanceENI(func(_ *instanceFilterArgs, n *ec2api.InstanceNetworkInterface) []string {
		return ptrValues(partPtr(n.Association, field))
	})
}

// eniAddresses is the filter of the interfaces' private addresses.
func eniAddresses(field func(pa ec2api.InstancePrivateIpAddress) *string) instanceFilter {
	return instanceENI(func(_ *instanceFilterArgs, n *ec2api.InstanceNetworkInterface) []string {
		var out []string
		for _, pa := range n.PrivateIpAddresses {
			out = append(out, deref(field(pa)))
		}
		return out
	})
}

// instanceDescribeSet resolves DescribeInstances' and
// DescribeInstanceStatus' IDs: all must exist (a terminated instance EC2
// has forgotten does not).
func instanceDescribeSet(t *rtx, ids []string) ([]*instanceRecord, error) {
	if len(ids) > 0 {
		return instanceGetAll(t, ids)
	}
	var out []*instanceRecord
	err := instanceEach(t, func(rec *instanceRecord) error {
		out = append(out, rec)
		return nil
	})
	return out, err
}

// instanceItem is a DescribeInstances match: its record (possibly shared
// with the store's decode cache, so only read) and its sort key.
type instanceItem struct {
	key string
	rec *instanceRecord
}

// instanceFilterNames are the filter names DescribeInstances accepts
// besides the tag filters.
var instanceFilterNames = sortedIDs(instanceFilters)

// instanceMatches reports whether rec passes every filter (their names
// already checked). It is state.MatchWithTags without its allocations:
// tag filters read rec's tags in place, and the instance's view is built
// only for the first other filter, which computes just its own values.
func (s *Service) instanceMatches(fs []state.Filter, owner string, rec *instanceRecord) bool {
	var args *instanceFilterArgs
	for _, f := range fs {
		var ok bool
		switch {
		case strings.HasPrefix(f.Name, "tag:"):
			k := f.Name[len("tag:"):]
			for _, t := range rec.Tags {
				if deref(t.Key) == k {
					ok = matchesAny(f.Values, deref(t.Value))
					break
				}
			}
		case f.Name == "tag-key" || f.Name == "tag-value":
			for _, t := range rec.Tags {
				v := t.Key
				if f.Name == "tag-value" {
					v = t.Value
				}
				if ok = matchesAny(f.Values, deref(v)); ok {
					break
				}
			}
		default:
			filter := instanceFilters[f.Name]
			if filter == nil {
				return false // a filter nothing has a value for
			}
			if args == nil {
				v := s.instanceView(rec)
				args = &instanceFilterArgs{owner: owner, rec: rec, v: &v}
			}
			for _, have := range filter(args) {
				if ok = matchesAny(f.Values, have); ok {
					break
				}
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// matchesAny reports whether any of EC2's filter patterns matches v.
func matchesAny(patterns []string, v string) bool {
	for _, p := range patterns {
		if state.Wildcard(p, v) {
			return true
		}
	}
	return false
}

// DescribeInstances lists instances, grouped into their reservations.
func (s *Service) DescribeInstances(ctx context.Context, in *ec2api.DescribeInstancesRequest) (*ec2api.DescribeInstancesResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if in.MaxResults != nil && len(in.InstanceIds) > 0 {
		return nil, errCombination("The parameter instancesSet cannot be used with the parameter maxResults")
	}
	fs := toFilters(in.Filters)
	if err := state.CheckFilterNames(fs, instanceFilterNames...); err != nil {
		return nil, err
	}
	var items []*instanceItem
	err := s.view(ctx, func(t *rtx) error {
		// match reads rec without changing it: records come shared from the
		// store's decode cache when no IDs are given.
		match := func(rec *instanceRecord) {
			if s.instanceMatches(fs, t.scope.Account, rec) {
				key := instanceLaunchKey(rec) + "/" + rec.ReservationID + "/" + deref(rec.InstanceId)
				items = append(items, &instanceItem{key: key, rec: rec})
			}
		}
		if len(in.InstanceIds) == 0 {
			ids, indexed, err := instanceTagCandidates(t, fs)
			if err != nil {
				return err
			}
			if indexed {
				for _, id := range ids {
					rec, ok, err := instances.table.GetShared(t.tx, t.scope, id)
					if err != nil {
						return err
					}
					if ok && !instanceExpired(t, rec) {
						match(rec)
					}
				}
				return nil
			}
			return instances.table.ForEachShared(t.tx, t.scope, func(_ string, rec *instanceRecord) error {
				if !instanceExpired(t, rec) {
					match(rec)
				}
				return nil
			})
		}
		recs, err := instanceDescribeSet(t, in.InstanceIds)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			match(rec)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(items, in.MaxResults, in.NextToken, func(i *instanceItem) string { return i.key }, 5, 1000)
	if err != nil {
		return nil, err
	}
	return s.instanceReservations(api.Request(ctx).Account, pg, next), nil
}

// instanceTagCandidates narrows DescribeInstances to the instances that
// can pass its first tag:<key> filter without a wildcard: those with the
// tag at one of the filter's values, from the tag index (instanceByTag).
// indexed is false when no filter qualifies or the index is not complete;
// every filter still has to be matched.
func instanceTagCandidates(t *rtx, fs []state.Filter) (ids []string, indexed bool, err error) {
	f := slices.IndexFunc(fs, func(f state.Filter) bool {
		return strings.HasPrefix(f.Name, "tag:") && !slices.ContainsFunc(f.Values, func(v string) bool { return strings.ContainsAny(v, `*?\`) })
	})
	if f < 0 {
		return nil, false, nil
	}
	if ok, err := instances.table.EnsureIndex(t.tx, t.scope, instanceByTag); err != nil || !ok {
		return nil, false, err
	}
	key := fs[f].Name[len("tag:"):]
	seen := map[string]bool{}
	for _, v := range fs[f].Values {
		// An instance has one value per key, so distinct values find
		// distinct instances; a value given twice is read once.
		val := tagIndexValue(key, v)
		if seen[val] {
			continue
		}
		seen[val] = true
		got, err := instances.table.Lookup(t.tx, t.scope, instanceByTag, val)
		if err != nil {
			return nil, false, err
		}
		ids = append(ids, got...)
	}
	return ids, true, nil
}

// instanceReservations groups a page of matches into their reservations,
// in the page's order, each reservation's instances allocated once.
func (s *Service) instanceReservations(owner string, pg []*instanceItem, next *string) *ec2api.DescribeInstancesResult {
	out := &ec2api.DescribeInstancesResult{Reservations: []ec2api.Reservation{}, NextToken: next}
	idx := map[string]int{}
	var counts []int
	for _, it := range pg {
		if i, ok := idx[it.rec.ReservationID]; ok {
			counts[i]++
			continue
		}
		idx[it.rec.ReservationID] = len(counts)
		counts = append(counts, 1)
	}
	out.Reservations = make([]ec2api.Reservation, 0, len(counts))
	ownerID := &owner
	for _, it := range pg {
		i := idx[it.rec.ReservationID]
		if i == len(out.Reservations) {
			out.Reservations = append(out.Reservations, ec2api.Reservation{
				ReservationId: new(it.rec.ReservationID), OwnerId: ownerID, Groups: []ec2api.GroupIdentifier{},
				Instances: make([]ec2api.Instance, 0, counts[i]),
			})
		}
		out.Reservations[i].Instances = append(out.Reservations[i].Instances, s.instanceView(it.rec))
	}
	return out
}

// instanceLaunchKey orders instances as DescribeInstances lists them: by
// their first launch (reservations in creation order).
func instanceLaunchKey(r *instanceRecord) string {
	if r.UsageOperationUpdateTime != nil {
		return r.UsageOperationUpdateTime.UTC().Format(instanceTimeFormat)
	}
	return ""
}

// instanceStatusOf computes DescribeInstanceStatus' checks: a running
// instance is "initializing" until the runtime reports it reachable, "ok"
// after; with no runtime its status is "insufficient-data"; other states
// are "not-applicable".
func (s *Service) instanceStatusOf(t *rtx, rec *instanceRecord) (ec2api.InstanceStatus, error) {
	st := instanceStateName(rec)
	out := ec2api.InstanceStatus{
		AvailabilityZone: rec.Placement.AvailabilityZone,
		InstanceId:       rec.InstanceId,
		InstanceState:    instanceState(st),
		Events:           []ec2api.InstanceStatusEvent{},
	}
	summary := func(status, detail string) *ec2api.InstanceStatusSummary {
		sum := &ec2api.InstanceStatusSummary{Status: new(status), Details: []ec2api.InstanceStatusDetails{}}
		if detail != "" {
			sum.Details = append(sum.Details, ec2api.InstanceStatusDetails{Name: new("reachability"), Status: new(detail)})
		}
		return sum
	}
	if st != stateRunning {
		out.InstanceStatus, out.SystemStatus = summary("not-applicable", ""), summary("not-applicable", "")
		return out, nil
	}
	if ok, _ := s.runtimeAvailable(); !ok {
		out.InstanceStatus, out.SystemStatus = summary("insufficient-data", "insufficient-data"), summary("insufficient-data", "insufficient-data")
		return out, nil
	}
	ext, err := instanceExtGet(t, deref(rec.InstanceId))
	if err != nil {
		return out, err
	}
	if ext.Reachable {
		out.InstanceStatus, out.SystemStatus = summary("ok", "passed"), summary("ok", "passed")
	} else {
		out.InstanceStatus, out.SystemStatus = summary("initializing", "initializing"), summary("initializing", "initializing")
	}
	return out, nil
}

func instanceStatusFilterValues(st *ec2api.InstanceStatus) map[string][]string {
	m := map[string][]string{
		"availability-zone":            ptrValues(st.AvailabilityZone),
		"instance-state-name":          ptrValues(st.InstanceState.Name),
		"instance-state-code":          {strconv.Itoa(int(deref(st.InstanceState.Code)))},
		"instance-status.status":       ptrValues(st.InstanceStatus.Status),
		"system-status.status":         ptrValues(st.SystemStatus.Status),
		"instance-status.reachability": nil,
		"system-status.reachability":   nil,
		"event.code":                   nil,
		"event.description":            nil,
		"event.instance-event-id":      nil,
		"event.not-after":              nil,
		"event.not-before":             nil,
		"event.not-before-deadline":    nil,
	}
	for _, d := range st.InstanceStatus.Details {
		m["instance-status.reachability"] = append(m["instance-status.reachability"], deref(d.Status))
	}
	for _, d := range st.SystemStatus.Details {
		m["system-status.reachability"] = append(m["system-status.reachability"], deref(d.Status))
	}
	return m
}

// DescribeInstanceStatus reports the status checks of running instances
// (of every visible instance with IncludeAllInstances).
func (s *Service) DescribeInstanceStatus(ctx context.Context, in *ec2api.DescribeInstanceStatusRequest) (*ec2api.DescribeInstanceStatusResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if in.MaxResults != nil && len(in.InstanceIds) > 0 {
		return nil, errCombination("The parameter instancesSet cannot be used with the parameter maxResults")
	}
	fs := toFilters(in.Filters)
	probe := ec2api.InstanceStatus{InstanceState: &ec2api.InstanceState{}, InstanceStatus: &ec2api.InstanceStatusSummary{}, SystemStatus: &ec2api.InstanceStatusSummary{}}
	names := sortedIDs(instanceStatusFilterValues(&probe))
	for _, f := range fs {
		if !slices.Contains(names, f.Name) {
			return nil, errInvalidParam("The filter '%s' is invalid", f.Name)
		}
	}
	var all []*ec2api.InstanceStatus
	err := s.view(ctx, func(t *rtx) error {
		recs, err := instanceDescribeSet(t, in.InstanceIds)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			if !deref(in.IncludeAllInstances) && instanceStateName(rec) != stateRunning {
				continue
			}
			st, err := s.instanceStatusOf(t, rec)
			if err != nil {
				return err
			}
			vals := instanceStatusFilterValues(&st)
			ok, err := state.Match(fs, func(name string) ([]string, bool) { v, ok := vals[name]; return v, ok })
			if err != nil {
				return err
			}
			if ok {
				all = append(all, &st)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(all, in.MaxResults, in.NextToken, func(st *ec2api.InstanceStatus) string { return deref(st.InstanceId) }, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeInstanceStatusResult{InstanceStatuses: []ec2api.InstanceStatus{}, NextToken: next}
	for _, st := range pg {
		out.InstanceStatuses = append(out.InstanceStatuses, *st)
	}
	return out, nil
}
