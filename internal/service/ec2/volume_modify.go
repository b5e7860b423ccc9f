package ec2

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// Elastic Volumes: ModifyVolume changes a volume's size, type, IOPS or
// throughput in place. The volume's record takes the target values at once
// (a directory's data needs no resizing); the modification goes modifying →
// optimizing → completed by the clock, and a new modification waits until
// the previous one completed (AWS also makes callers wait six hours, which
// minicloud does not).

const (
	volumeModifyingFor  = time.Second     // modifying → optimizing
	volumeOptimizingFor = 2 * time.Second // optimizing → completed
)

// volumeModificationSettle advances m's state and progress by the clock.
func volumeModificationSettle(m *ec2api.VolumeModification, now time.Time) {
	if m == nil || m.StartTime == nil || deref(m.ModificationState) == "completed" || deref(m.ModificationState) == "failed" {
		return
	}
	elapsed := now.Sub(*m.StartTime)
	switch {
	case elapsed >= volumeModifyingFor+volumeOptimizingFor:
		m.ModificationState, m.Progress, m.EndTime = new("completed"), new(int64(100)), new(m.StartTime.Add(volumeModifyingFor+volumeOptimizingFor))
	case elapsed >= volumeModifyingFor:
		m.ModificationState = new("optimizing")
		m.Progress = new(int64(50 + 49*(elapsed-volumeModifyingFor)/volumeOptimizingFor))
	default:
		m.ModificationState = new("modifying")
		m.Progress = new(int64(50 * elapsed / volumeModifyingFor))
	}
}

// volumeModifySpec is the volume ModifyVolume asks for: the given values,
// else the volume's own where the target type keeps them.
func volumeModifySpec(v *volumeRecord, in *ec2api.ModifyVolumeRequest) volumeSpec {
	spec := volumeSpec{typ: deref(v.VolumeType), size: v.Size, iops: in.Iops, throughput: in.Throughput}
	if in.VolumeType != nil {
		spec.typ = *in.VolumeType
	}
	if in.Size != nil {
		spec.size = in.Size
	}
	sameType := spec.typ == deref(v.VolumeType)
	switch spec.typ {
	case "gp3":
		if spec.iops == nil && sameType {
			spec.iops = v.Iops
		}
		if spec.throughput == nil && sameType {
			spec.throughput = v.Throughput
		}
	case "io1", "io2":
		// io1 ↔ io2 keeps the provisioned IOPS; from another type AWS asks
		// for them.
		if spec.iops == nil && (deref(v.VolumeType) == "io1" || deref(v.VolumeType) == "io2") {
			spec.iops = v.Iops
		}
	}
	return spec
}

// ModifyVolume changes a volume's size, type, IOPS, throughput or
// multi-attach.
func (s *Service) ModifyVolume(ctx context.Context, in *ec2api.ModifyVolumeRequest) (*ec2api.ModifyVolumeResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if deref(in.VolumeId) == "" {
		return nil, errMissingParam("volumeId")
	}
	if in.Size == nil && in.VolumeType == nil && in.Iops == nil && in.Throughput == nil && in.MultiAttachEnabled == nil {
		return nil, errMissingParam("size, volumeType, iops, throughput or multiAttachEnabled")
	}
	var out *ec2api.VolumeModification
	err := s.update(ctx, func(t *rtx) error {
		v, err := volumeGet(t, deref(in.VolumeId))
		if err != nil {
			return err
		}
		id := deref(v.VolumeId)
		if st := deref(v.State); st != "available" && st != "in-use" {
			return apiErr("IncorrectState", "Volume '%s' is in the '%s' state.", id, st)
		}
		volumeModificationSettle(v.Modification, t.now)
		if m := v.Modification; m != nil && deref(m.ModificationState) != "completed" && deref(m.ModificationState) != "failed" {
			return apiErr("IncorrectModificationState", "Volume %s cannot be modified in modification state %s", id, strings.ToUpper(deref(m.ModificationState)))
		}
		if in.Size != nil && *in.Size < deref(v.Size) {
			return errInvalidParam("New size cannot be smaller than existing size")
		}
		spec := volumeModifySpec(v, in)
		multi := deref(v.MultiAttachEnabled)
		if in.MultiAttachEnabled != nil {
			multi = *in.MultiAttachEnabled
		}
		if multi && spec.typ != "io1" && spec.typ != "io2" {
			return errCombination("The parameter multiAttachEnabled is only supported for io1 and io2 volumes.")
		}
		if multi != deref(v.MultiAttachEnabled) && len(v.Attachments) > 0 {
			return apiErr("IncorrectState", "Multi-Attach can be changed only while volume '%s' is detached.", id)
		}
		size, iops, throughput, err := volumeValidate(spec)
		if err != nil {
			return err
		}
		if size == deref(v.Size) && spec.typ == deref(v.VolumeType) && deref(iops) == deref(v.Iops) &&
			deref(throughput) == deref(v.Throughput) && multi == deref(v.MultiAttachEnabled) {
			return errInvalidParam("Invalid modification request: the volume %s already has the requested configuration.", id)
		}
		m := &ec2api.VolumeModification{
			VolumeId:                   v.VolumeId,
			ModificationState:          new("modifying"),
			Progress:                   new(int64(0)),
			StartTime:                  new(t.now),
			TargetSize:                 new(size),
			TargetVolumeType:           new(spec.typ),
			TargetIops:                 iops,
			TargetThroughput:           throughput,
			TargetMultiAttachEnabled:   new(multi),
			OriginalSize:               v.Size,
			OriginalVolumeType:         v.VolumeType,
			OriginalIops:               v.Iops,
			OriginalThroughput:         v.Throughput,
			OriginalMultiAttachEnabled: new(deref(v.MultiAttachEnabled)),
		}
		v.Modification = m
		v.Size, v.VolumeType, v.Iops, v.Throughput, v.MultiAttachEnabled = new(size), new(spec.typ), iops, throughput, new(multi)
		if err := volumes.put(t, v); err != nil {
			return err
		}
		out = m
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ModifyVolumeResult{VolumeModification: out}, nil
}

// volumeModificationFilterValues gives DescribeVolumesModifications'
// filters for one modification.
func volumeModificationFilterValues(m *ec2api.VolumeModification) map[string][]string {
	vals := map[string][]string{
		"modification-state":            one(deref(m.ModificationState)),
		"volume-id":                     one(deref(m.VolumeId)),
		"start-time":                    volumeTimeValues(m.StartTime),
		"target-volume-type":            one(deref(m.TargetVolumeType)),
		"original-volume-type":          one(deref(m.OriginalVolumeType)),
		"target-size":                   intValues(m.TargetSize),
		"original-size":                 intValues(m.OriginalSize),
		"target-iops":                   intValues(m.TargetIops),
		"original-iops":                 intValues(m.OriginalIops),
		"target-multi-attach-enabled":   boolValue(m.TargetMultiAttachEnabled),
		"original-multi-attach-enabled": boolValue(m.OriginalMultiAttachEnabled),
	}
	return vals
}

// DescribeVolumesModifications lists the latest modification of the
// volumes named (or of all the caller's modified volumes).
func (s *Service) DescribeVolumesModifications(ctx context.Context, in *ec2api.DescribeVolumesModificationsRequest) (*ec2api.DescribeVolumesModificationsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	var mods []*ec2api.VolumeModification
	err := s.view(ctx, func(t *rtx) error {
		recs, err := volumes.describe(t, in.VolumeIds, nil, nil)
		if err != nil {
			return err
		}
		for _, v := range recs {
			if v.Modification == nil {
				if len(in.VolumeIds) > 0 {
					return apiErr("InvalidVolumeModification.NotFound", "Modification for volume '%s' does not exist.", deref(v.VolumeId))
				}
				continue
			}
			volumeModificationSettle(v.Modification, t.now)
			mods = append(mods, v.Modification)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	mods, err = filterBy(mods, in.Filters, volumeModificationFilterValues)
	if err != nil {
		return nil, err
	}
	pg, next, err := page(mods, in.MaxResults, in.NextToken, func(m *ec2api.VolumeModification) string { return deref(m.VolumeId) }, 5, 500)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeVolumesModificationsResult{VolumesModifications: []ec2api.VolumeModification{}, NextToken: next}
	for _, m := range pg {
		out.VolumesModifications = append(out.VolumesModifications, *m)
	}
	return out, nil
}

// volumeStatusOf is a volume's status: minicloud's volumes are never
// impaired, so I/O is enabled and there are no events or actions.
func volumeStatusOf(v *volumeRecord) *ec2api.VolumeStatusItem {
	item := &ec2api.VolumeStatusItem{
		VolumeId:         v.VolumeId,
		AvailabilityZone: v.AvailabilityZone,
		Actions:          []ec2api.VolumeStatusAction{},
		Events:           []ec2api.VolumeStatusEvent{},
		VolumeStatus: &ec2api.VolumeStatusInfo{Status: new("ok"), Details: []ec2api.VolumeStatusDetails{
			{Name: new("io-enabled"), Status: new("passed")},
			{Name: new("io-performance"), Status: new("not-applicable")},
		}},
		AttachmentStatuses: []ec2api.VolumeStatusAttachmentStatus{},
	}
	for _, a := range v.Attachments {
		item.AttachmentStatuses = append(item.AttachmentStatuses, ec2api.VolumeStatusAttachmentStatus{InstanceId: a.InstanceId})
	}
	return item
}

// volumeStatusFilterValues gives DescribeVolumeStatus' filters.
func volumeStatusFilterValues(it *ec2api.VolumeStatusItem) map[string][]string {
	st := it.VolumeStatus
	if st == nil {
		st = &ec2api.VolumeStatusInfo{}
	}
	vals := map[string][]string{
		"availability-zone":            one(deref(it.AvailabilityZone)),
		"volume-status.status":         one(deref(st.Status)),
		"volume-status.details-name":   nil,
		"volume-status.details-status": nil,
		"event.description":            nil, "event.event-id": nil, "event.event-type": nil,
		"event.not-after": nil, "event.not-before": nil,
		"action.code": nil, "action.description": nil, "action.event-id": nil,
	}
	for _, d := range st.Details {
		vals["volume-status.details-name"] = append(vals["volume-status.details-name"], deref(d.Name))
		vals["volume-status.details-status"] = append(vals["volume-status.details-status"], deref(d.Status))
	}
	return vals
}

// DescribeVolumeStatus gives the status checks of the caller's volumes.
func (s *Service) DescribeVolumeStatus(ctx context.Context, in *ec2api.DescribeVolumeStatusRequest) (*ec2api.DescribeVolumeStatusResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if len(in.VolumeIds) > 0 && in.MaxResults != nil {
		return nil, errCombination("The parameter volumeSet cannot be used with the parameter maxResults")
	}
	var items []*ec2api.VolumeStatusItem
	err := s.view(ctx, func(t *rtx) error {
		recs, err := volumes.describe(t, in.VolumeIds, nil, nil)
		if err != nil {
			return err
		}
		for _, v := range recs {
			items = append(items, volumeStatusOf(v))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if items, err = filterBy(items, in.Filters, volumeStatusFilterValues); err != nil {
		return nil, err
	}
	pg, next, err := page(items, in.MaxResults, in.NextToken, func(it *ec2api.VolumeStatusItem) string { return deref(it.VolumeId) }, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeVolumeStatusResult{VolumeStatuses: []ec2api.VolumeStatusItem{}, NextToken: next}
	for _, it := range pg {
		out.VolumeStatuses = append(out.VolumeStatuses, *it)
	}
	return out, nil
}

// DescribeVolumeAttribute gives a volume's autoEnableIO or productCodes.
func (s *Service) DescribeVolumeAttribute(ctx context.Context, in *ec2api.DescribeVolumeAttributeRequest) (*ec2api.DescribeVolumeAttributeResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	attr := deref(in.Attribute)
	if attr == "" {
		return nil, errMissingParam("attribute")
	}
	if attr != "autoEnableIO" && attr != "productCodes" {
		return nil, errInvalidParam("Value (%s) for parameter attribute is invalid. Unknown attribute.", attr)
	}
	out := &ec2api.DescribeVolumeAttributeResult{}
	err := s.view(ctx, func(t *rtx) error {
		v, err := volumeGet(t, deref(in.VolumeId))
		if err != nil {
			return err
		}
		out.VolumeId = v.VolumeId
		if attr == "autoEnableIO" {
			out.AutoEnableIO = &ec2api.AttributeBooleanValue{Value: new(v.AutoEnableIO)}
		} else {
			out.ProductCodes = []ec2api.ProductCode{}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ModifyVolumeAttribute sets a volume's autoEnableIO.
func (s *Service) ModifyVolumeAttribute(ctx context.Context, in *ec2api.ModifyVolumeAttributeRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if in.AutoEnableIO == nil || in.AutoEnableIO.Value == nil {
		return nil, errMissingParam("autoEnableIO")
	}
	err := s.update(ctx, func(t *rtx) error {
		v, err := volumeGet(t, deref(in.VolumeId))
		if err != nil {
			return err
		}
		v.AutoEnableIO = *in.AutoEnableIO.Value
		return volumes.put(t, v)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

// EnableVolumeIO re-enables I/O on a volume; minicloud never disables it,
// so only the volume's existence is checked.
func (s *Service) EnableVolumeIO(ctx context.Context, in *ec2api.EnableVolumeIORequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	err := s.view(ctx, func(t *rtx) error {
		_, err := volumeGet(t, deref(in.VolumeId))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

// filterBy keeps the items matching EC2 filters over values; an unknown
// filter name is an error even when there is nothing to match.
func filterBy[T any](items []*T, filters []ec2api.Filter, values func(*T) map[string][]string) ([]*T, error) {
	fs := toFilters(filters)
	if len(fs) == 0 {
		return items, nil
	}
	var zero T
	names := make([]string, 0, 16)
	for n := range values(&zero) {
		names = append(names, n)
	}
	if err := state.CheckFilterNames(fs, names...); err != nil {
		return nil, err
	}
	var out []*T
	for _, it := range items {
		vals := values(it)
		ok, err := state.Match(fs, func(n string) ([]string, bool) { x, ok := vals[n]; return x, ok })
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, it)
		}
	}
	return out, nil
}

// intValues renders an optional number as a filter value.
func intValues(n *int32) []string {
	if n == nil {
		return nil
	}
	return []string{strconv.Itoa(int(*n))}
}
