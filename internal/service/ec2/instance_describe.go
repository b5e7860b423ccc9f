package ec2

import (
	"context"
	"strconv"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

const instanceTimeFormat = "2006-01-02T15:04:05.000Z"

// instanceFilterValues lists DescribeInstances' filters for one instance.
func instanceFilterValues(owner string, rec *instanceRecord, v *ec2api.Instance) map[string][]string {
	m := map[string][]string{
		"instance-id":                      ptrValues(v.InstanceId),
		"instance-type":                    ptrValues(v.InstanceType),
		"image-id":                         ptrValues(v.ImageId),
		"vpc-id":                           ptrValues(v.VpcId),
		"subnet-id":                        ptrValues(v.SubnetId),
		"private-ip-address":               ptrValues(v.PrivateIpAddress),
		"ip-address":                       ptrValues(v.PublicIpAddress),
		"private-dns-name":                 ptrValues(v.PrivateDnsName),
		"dns-name":                         ptrValues(v.PublicDnsName),
		"key-name":                         ptrValues(v.KeyName),
		"reservation-id":                   one(rec.ReservationID),
		"architecture":                     ptrValues(v.Architecture),
		"owner-id":                         one(owner),
		"root-device-type":                 ptrValues(v.RootDeviceType),
		"root-device-name":                 ptrValues(v.RootDeviceName),
		"hypervisor":                       ptrValues(v.Hypervisor),
		"virtualization-type":              ptrValues(v.VirtualizationType),
		"client-token":                     ptrValues(v.ClientToken),
		"platform":                         ptrValues(v.Platform),
		"platform-details":                 ptrValues(v.PlatformDetails),
		"usage-operation":                  ptrValues(v.UsageOperation),
		"kernel-id":                        ptrValues(v.KernelId),
		"ramdisk-id":                       ptrValues(v.RamdiskId),
		"source-dest-check":                boolValue(v.SourceDestCheck),
		"ebs-optimized":                    boolValue(v.EbsOptimized),
		"ena-support":                      boolValue(v.EnaSupport),
		"state-transition-reason":          ptrValues(v.StateTransitionReason),
		"ami-launch-index":                 nil,
		"instance-state-name":              nil,
		"instance-state-code":              nil,
		"launch-time":                      nil,
		"availability-zone":                nil,
		"placement-group-name":             nil,
		"tenancy":                          nil,
		"monitoring-state":                 nil,
		"state-reason-code":                nil,
		"state-reason-message":             nil,
		"iam-instance-profile.arn":         nil,
		"metadata-options.http-tokens":     nil,
		"metadata-options.http-endpoint":   nil,
		"instance.group-id":                nil,
		"instance.group-name":              nil,
		"group-id":                         nil,
		"group-name":                       nil,
		"block-device-mapping.volume-id":   nil,
		"block-device-mapping.device-name": nil,
		"block-device-mapping.status":      nil,
		"block-device-mapping.attach-time": nil,
		"block-device-mapping.delete-on-termination":                 nil,
		"network-interface.network-interface-id":                     nil,
		"network-interface.subnet-id":                                nil,
		"network-interface.vpc-id":                                   nil,
		"network-interface.mac-address":                              nil,
		"network-interface.private-dns-name":                         nil,
		"network-interface.status":                                   nil,
		"network-interface.source-dest-check":                        nil,
		"network-interface.group-id":                                 nil,
		"network-interface.group-name":                               nil,
		"network-interface.attachment.attachment-id":                 nil,
		"network-interface.attachment.device-index":                  nil,
		"network-interface.attachment.status":                        nil,
		"network-interface.addresses.private-ip-address":             nil,
		"network-interface.addresses.primary":                        nil,
		"network-interface.addresses.association.public-ip":          nil,
		"network-interface.association.public-ip":                    nil,
		"network-interface.association.ip-owner-id":                  nil,
		"network-interface.attachment.delete-on-termination":         nil,
		"network-interface.requester-managed":                        nil,
		"network-interface.description":                              nil,
		"network-interface.owner-id":                                 nil,
		"network-interface.attachment.attach-time":                   nil,
		"network-interface.addresses.association.ip-owner-id":        nil,
		"network-interface.association.allocation-id":                nil,
		"network-interface.association.association-id":               nil,
		"network-interface.private-ip-address":                       nil,
		"network-interface.interface-type":                           nil,
		"network-interface.attachment.network-card-index":            nil,
		"network-interface.addresses.association.public-dns-name":    nil,
		"network-interface.association.public-dns-name":              nil,
		"network-interface.attachment.instance-owner-id":             nil,
		"network-interface.attachment.instance-id":                   nil,
		"network-interface.requester-id":                             nil,
		"network-interface.availability-zone":                        nil,
		"network-interface.addresses.private-dns-name":               nil,
		"network-interface.ipv6-addresses.ipv6-address":              nil,
		"network-interface.ipv6-address":                             nil,
		"network-interface.attachment.ena-srd-enabled":               nil,
		"network-interface.attachment.network-card-index.deprecated": nil,
	}
	m["ami-launch-index"] = []string{strconv.Itoa(int(deref(v.AmiLaunchIndex)))}
	if v.State != nil {
		m["instance-state-name"] = ptrValues(v.State.Name)
		m["instance-state-code"] = []string{strconv.Itoa(int(deref(v.State.Code)))}
	}
	if v.LaunchTime != nil {
		m["launch-time"] = []string{v.LaunchTime.UTC().Format(instanceTimeFormat)}
	}
	if p := v.Placement; p != nil {
		m["availability-zone"] = ptrValues(p.AvailabilityZone)
		m["placement-group-name"] = ptrValues(p.GroupName)
		m["tenancy"] = ptrValues(p.Tenancy)
	}
	if v.Monitoring != nil {
		m["monitoring-state"] = ptrValues(v.Monitoring.State)
	}
	if v.StateReason != nil {
		m["state-reason-code"] = ptrValues(v.StateReason.Code)
		m["state-reason-message"] = ptrValues(v.StateReason.Message)
	}
	if v.IamInstanceProfile != nil {
		m["iam-instance-profile.arn"] = ptrValues(v.IamInstanceProfile.Arn)
	}
	if md := v.MetadataOptions; md != nil {
		m["metadata-options.http-tokens"] = ptrValues(md.HttpTokens)
		m["metadata-options.http-endpoint"] = ptrValues(md.HttpEndpoint)
	}
	for _, g := range v.SecurityGroups {
		for _, k := range []string{"instance.group-id", "group-id"} {
			m[k] = append(m[k], deref(g.GroupId))
		}
		for _, k := range []string{"instance.group-name", "group-name"} {
			m[k] = append(m[k], deref(g.GroupName))
		}
	}
	for _, b := range v.BlockDeviceMappings {
		m["block-device-mapping.device-name"] = append(m["block-device-mapping.device-name"], deref(b.DeviceName))
		if b.Ebs != nil {
			m["block-device-mapping.volume-id"] = append(m["block-device-mapping.volume-id"], deref(b.Ebs.VolumeId))
			m["block-device-mapping.status"] = append(m["block-device-mapping.status"], deref(b.Ebs.Status))
			m["block-device-mapping.delete-on-termination"] = append(m["block-device-mapping.delete-on-termination"], strconv.FormatBool(deref(b.Ebs.DeleteOnTermination)))
			if b.Ebs.AttachTime != nil {
				m["block-device-mapping.attach-time"] = append(m["block-device-mapping.attach-time"], b.Ebs.AttachTime.UTC().Format(instanceTimeFormat))
			}
		}
	}
	add := func(k string, vals ...string) {
		for _, s := range vals {
			if s != "" {
				m[k] = append(m[k], s)
			}
		}
	}
	for _, n := range v.NetworkInterfaces {
		p := "network-interface."
		add(p+"network-interface-id", deref(n.NetworkInterfaceId))
		add(p+"subnet-id", deref(n.SubnetId))
		add(p+"vpc-id", deref(n.VpcId))
		add(p+"mac-address", deref(n.MacAddress))
		add(p+"private-dns-name", deref(n.PrivateDnsName))
		add(p+"private-ip-address", deref(n.PrivateIpAddress))
		add(p+"status", deref(n.Status))
		add(p+"description", deref(n.Description))
		add(p+"owner-id", deref(n.OwnerId))
		add(p+"interface-type", deref(n.InterfaceType))
		add(p+"source-dest-check", strconv.FormatBool(deref(n.SourceDestCheck)))
		add(p+"requester-managed", "false")
		for _, g := range n.Groups {
			add(p+"group-id", deref(g.GroupId))
			add(p+"group-name", deref(g.GroupName))
		}
		if a := n.Attachment; a != nil {
			add(p+"attachment.attachment-id", deref(a.AttachmentId))
			add(p+"attachment.device-index", strconv.Itoa(int(deref(a.DeviceIndex))))
			add(p+"attachment.status", deref(a.Status))
			add(p+"attachment.delete-on-termination", strconv.FormatBool(deref(a.DeleteOnTermination)))
			add(p+"attachment.instance-id", deref(v.InstanceId))
			add(p+"attachment.instance-owner-id", owner)
			add(p+"attachment.network-card-index", strconv.Itoa(int(deref(a.NetworkCardIndex))))
			if a.AttachTime != nil {
				add(p+"attachment.attach-time", a.AttachTime.UTC().Format(instanceTimeFormat))
			}
		}
		if a := n.Association; a != nil {
			add(p+"association.public-ip", deref(a.PublicIp))
			add(p+"association.ip-owner-id", deref(a.IpOwnerId))
			add(p+"association.public-dns-name", deref(a.PublicDnsName))
		}
		for _, pa := range n.PrivateIpAddresses {
			add(p+"addresses.private-ip-address", deref(pa.PrivateIpAddress))
			add(p+"addresses.private-dns-name", deref(pa.PrivateDnsName))
			add(p+"addresses.primary", strconv.FormatBool(deref(pa.Primary)))
			if a := pa.Association; a != nil {
				add(p+"addresses.association.public-ip", deref(a.PublicIp))
				add(p+"addresses.association.ip-owner-id", deref(a.IpOwnerId))
				add(p+"addresses.association.public-dns-name", deref(a.PublicDnsName))
			}
		}
	}
	return m
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

type instanceItem struct {
	key  string
	resv string
	view ec2api.Instance
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
	if err := state.CheckFilterNames(fs, sortedIDs(instanceFilterValues("", &instanceRecord{}, &ec2api.Instance{}))...); err != nil {
		return nil, err
	}
	var items []*instanceItem
	err := s.view(ctx, func(t *rtx) error {
		// match reads rec without changing it: records come shared from the
		// store's decode cache when no IDs are given.
		match := func(rec *instanceRecord) error {
			var (
				v    ec2api.Instance
				vals map[string][]string
			)
			ok, err := state.MatchWithTags(fs, fromAPITags(rec.Tags), func(name string) ([]string, bool) {
				if vals == nil {
					v = s.instanceView(rec)
					vals = instanceFilterValues(t.scope.Account, rec, &v)
				}
				x, ok := vals[name]
				return x, ok
			})
			if err != nil || !ok {
				return err
			}
			key := instanceLaunchKey(rec) + "/" + rec.ReservationID + "/" + deref(rec.InstanceId)
			items = append(items, &instanceItem{key: key, resv: rec.ReservationID, view: s.instanceView(rec)})
			return nil
		}
		if len(in.InstanceIds) == 0 {
			return instances.table.ForEachShared(t.tx, t.scope, func(_ string, rec *instanceRecord) error {
				if instanceExpired(t, rec) {
					return nil
				}
				return match(rec)
			})
		}
		recs, err := instanceDescribeSet(t, in.InstanceIds)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			if err := match(rec); err != nil {
				return err
			}
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
	out := &ec2api.DescribeInstancesResult{Reservations: []ec2api.Reservation{}, NextToken: next}
	owner := api.Request(ctx).Account
	idx := map[string]int{}
	for _, it := range pg {
		i, ok := idx[it.resv]
		if !ok {
			i = len(out.Reservations)
			idx[it.resv] = i
			out.Reservations = append(out.Reservations, ec2api.Reservation{
				ReservationId: new(it.resv), OwnerId: new(owner), Groups: []ec2api.GroupIdentifier{}, Instances: []ec2api.Instance{},
			})
		}
		out.Reservations[i].Instances = append(out.Reservations[i].Instances, it.view)
	}
	return out, nil
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
		if !slicesContains(names, f.Name) {
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
