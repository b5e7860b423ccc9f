package ec2

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/lazyregexp"
	"github.com/minicloud/minicloud/internal/state"
)

// EBS volumes. The records are the desired state; the data plane will later
// hold their bytes. Transitional states are not advanced by goroutines but
// computed from timestamps whenever a volume is read (volumeSettle).

const (
	volumeCreateDelay = time.Second // creating → available
	volumeAttachDelay = time.Second // attaching → attached
)

// volumeTypes lists the EBS volume types with AWS's size limits in GiB.
// io2 Block Express allows 65536 GiB; minicloud keeps the classic 16384.
var volumeTypes = map[string]struct{ min, max int32 }{
	"gp2": {1, 16384}, "gp3": {1, 16384}, "io1": {4, 16384}, "io2": {4, 16384},
	"st1": {125, 16384}, "sc1": {125, 16384}, "standard": {1, 1024},
}

// volumeSpec is a requested volume before validation.
type volumeSpec struct {
	typ                    string
	size, iops, throughput *int32
	encrypted              bool
	snapshotID             string
}

// volumeValidate applies AWS's rules for a volume type: size limits, the
// IOPS and throughput each type accepts, their defaults and ratios. It
// returns the size, IOPS and throughput the volume gets.
func volumeValidate(s volumeSpec) (int32, *int32, *int32, error) {
	lim, ok := volumeTypes[s.typ]
	if !ok {
		return 0, nil, nil, errInvalidParam("Value (%s) for parameter volumeType is invalid. Expected: 'standard', 'io1', 'io2', 'gp2', 'sc1', 'st1', 'gp3'.", s.typ)
	}
	if s.size == nil {
		return 0, nil, nil, errMissingParam("size or snapshotId")
	}
	size := *s.size
	if size < lim.min {
		return 0, nil, nil, errInvalidParam("The volume size is invalid for %s volumes: %d GiB. %s volumes must be at least %d GiB in size. Please specify a volume size above the minimum limit.", s.typ, size, s.typ, lim.min)
	}
	if size > lim.max {
		return 0, nil, nil, errInvalidParam("The volume size is invalid for %s volumes: %d GiB. %s volumes must be at most %d GiB in size. Please specify a volume size below the maximum limit.", s.typ, size, s.typ, lim.max)
	}
	if s.throughput != nil && s.typ != "gp3" {
		return 0, nil, nil, errCombination("The parameter throughput is not supported for %s volumes.", s.typ)
	}
	switch s.typ {
	case "gp2", "st1", "sc1", "standard":
		if s.iops != nil {
			return 0, nil, nil, errCombination("The parameter iops is not supported for %s volumes.", s.typ)
		}
		if s.typ == "gp2" {
			return size, new(min(max(3*size, 100), 16000)), nil, nil
		}
		return size, nil, nil, nil
	case "gp3":
		iops := int32(3000)
		if s.iops != nil {
			iops = *s.iops
		}
		if err := volumeCheckIOPS(iops, size, 3000, 16000, 500); err != nil {
			return 0, nil, nil, err
		}
		tp := int32(125)
		if s.throughput != nil {
			tp = *s.throughput
		}
		switch {
		case tp < 125:
			return 0, nil, nil, errInvalidParam("Volume throughput of %d MiB/s is too low; minimum is 125 MiB/s.", tp)
		case tp > 1000:
			return 0, nil, nil, errInvalidParam("Volume throughput of %d MiB/s is too high; maximum is 1000 MiB/s.", tp)
		case float64(tp) > 0.25*float64(iops):
			return 0, nil, nil, errInvalidParam("Throughput (MiBps) to iops ratio of %.6f is too high; maximum is 0.250000 MiBps per iops.", float64(tp)/float64(iops))
		}
		return size, new(iops), new(tp), nil
	default: // io1, io2
		if s.iops == nil {
			return 0, nil, nil, errCombination("The parameter iops must be specified for %s volumes.", s.typ)
		}
		ratio := int32(50)
		if s.typ == "io2" {
			ratio = 500
		}
		if err := volumeCheckIOPS(*s.iops, size, 100, 64000, ratio); err != nil {
			return 0, nil, nil, err
		}
		return size, new(*s.iops), nil, nil
	}
}

// volumeCheckIOPS checks provisioned IOPS against a type's range and its
// IOPS-per-GiB ratio; gp3's 3000 IOPS baseline is allowed at any size.
func volumeCheckIOPS(iops, size, lo, hi, ratio int32) error {
	switch {
	case iops < lo:
		return errInvalidParam("Volume iops of %d is too low; minimum is %d.", iops, lo)
	case iops > hi:
		return errInvalidParam("Volume iops of %d is too high; maximum is %d.", iops, hi)
	case int64(iops) > int64(size)*int64(ratio) && (lo < 3000 || iops > 3000):
		return errInvalidParam("Iops to volume size ratio of %.6f is too high; maximum is %d.000000", float64(iops)/float64(size), ratio)
	}
	return nil
}

// volumeSettle advances a volume's transitional states by the clock.
func volumeSettle(v *volumeRecord, now time.Time) {
	if deref(v.State) == "creating" && v.CreateTime != nil && !now.Before(v.CreateTime.Add(volumeCreateDelay)) {
		v.State = new("available")
	}
	for i := range v.Attachments {
		a := &v.Attachments[i]
		if deref(a.State) == "attaching" && a.AttachTime != nil && !now.Before(a.AttachTime.Add(volumeAttachDelay)) {
			a.State = new("attached")
		}
	}
}

// volumeGet returns a volume, settled, or AWS's not-found error.
func volumeGet(t *rtx, id string) (*volumeRecord, error) {
	v, err := volumes.get(t, id)
	if err != nil {
		return nil, err
	}
	volumeSettle(v, t.now)
	return v, nil
}

// volumeZone checks that zone is an Availability Zone of the region.
func volumeZone(t *rtx, zone string) error {
	region := regionOrSynthetic(t.scope.Region)
	for _, z := range region.Zones {
		if region.Name+z.Letter == zone {
			return nil
		}
	}
	return apiErr("InvalidZone.NotFound", "The zone '%s' does not exist.", zone)
}

// CreateVolume creates an EBS volume, empty or from a snapshot.
func (s *Service) CreateVolume(ctx context.Context, in *ec2api.CreateVolumeRequest) (*ec2api.Volume, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if deref(in.AvailabilityZone) == "" {
		return nil, errMissingParam("AvailabilityZone")
	}
	if deref(in.MultiAttachEnabled) && deref(in.VolumeType) != "io1" && deref(in.VolumeType) != "io2" {
		return nil, errCombination("The parameter multiAttachEnabled is only supported for io1 and io2 volumes.")
	}
	tags, err := tagsFor(in.TagSpecifications, "volume")
	if err != nil {
		return nil, err
	}
	var out *ec2api.Volume
	err = s.update(ctx, func(t *rtx) error {
		if err := volumeZone(t, *in.AvailabilityZone); err != nil {
			return err
		}
		spec := volumeSpec{typ: deref(in.VolumeType), size: in.Size, iops: in.Iops, throughput: in.Throughput,
			encrypted: deref(in.Encrypted), snapshotID: deref(in.SnapshotId)}
		if spec.typ == "" {
			spec.typ = "gp2"
		}
		inheritedKey := ""
		if spec.snapshotID != "" {
			snap, err := snapshotUsable(t, spec.snapshotID)
			if err != nil {
				return err
			}
			snapSize := deref(snap.VolumeSize)
			if spec.size == nil {
				spec.size = new(snapSize)
			} else if *spec.size < snapSize {
				return errInvalidParam("Volume of %dGiB is smaller than snapshot '%s', expect size >= %dGiB", *spec.size, spec.snapshotID, snapSize)
			}
			if deref(snap.Encrypted) {
				spec.encrypted, inheritedKey = true, deref(snap.KmsKeyId)
			}
		}
		encrypted, key, err := ebsEncryption(t, in.Encrypted, deref(in.KmsKeyId), spec.encrypted, inheritedKey)
		if err != nil {
			return err
		}
		size, iops, throughput, err := volumeValidate(spec)
		if err != nil {
			return err
		}
		v := &volumeRecord{Volume: ec2api.Volume{
			VolumeId:           new(state.NewID("vol")),
			AvailabilityZone:   in.AvailabilityZone,
			CreateTime:         new(t.now),
			Encrypted:          new(encrypted),
			KmsKeyId:           key,
			Size:               new(size),
			SnapshotId:         new(spec.snapshotID),
			State:              new("creating"),
			Iops:               iops,
			Throughput:         throughput,
			VolumeType:         new(spec.typ),
			MultiAttachEnabled: new(deref(in.MultiAttachEnabled)),
			Tags:               tags,
			Attachments:        []ec2api.VolumeAttachment{},
		}}
		if err := volumes.put(t, v); err != nil {
			return err
		}
		out = &v.Volume
		return nil
	})
	return out, err
}

// volumeKMSKey is the key ARN of an encrypted volume: the one given, else
// the account's default key (ebs_encryption.go; no KMS yet).
func volumeKMSKey(t *rtx, given string) (string, error) {
	if given != "" {
		return given, nil
	}
	return ebsDefaultKey(t)
}

// volumeFilterValues gives DescribeVolumes' filters for one volume.
func volumeFilterValues(v *volumeRecord) map[string][]string {
	m := map[string][]string{
		"availability-zone":    one(deref(v.AvailabilityZone)),
		"create-time":          volumeTimeValues(v.CreateTime),
		"encrypted":            boolValue(v.Encrypted),
		"multi-attach-enabled": boolValue(v.MultiAttachEnabled),
		"fast-restored":        {"false"},
		"size":                 one(strconv.Itoa(int(deref(v.Size)))),
		"snapshot-id":          one(deref(v.SnapshotId)),
		"status":               one(deref(v.State)),
		"volume-id":            one(deref(v.VolumeId)),
		"volume-type":          one(deref(v.VolumeType)),
		"iops":                 nil,
		"throughput":           nil,
	}
	if v.Iops != nil {
		m["iops"] = []string{strconv.Itoa(int(*v.Iops))}
	}
	if v.Throughput != nil {
		m["throughput"] = []string{strconv.Itoa(int(*v.Throughput))}
	}
	for _, name := range []string{"attachment.attach-time", "attachment.delete-on-termination", "attachment.device", "attachment.instance-id", "attachment.status"} {
		m[name] = nil
	}
	for _, a := range v.Attachments {
		m["attachment.attach-time"] = append(m["attachment.attach-time"], volumeTimeValues(a.AttachTime)...)
		m["attachment.delete-on-termination"] = append(m["attachment.delete-on-termination"], boolValue(a.DeleteOnTermination)...)
		m["attachment.device"] = append(m["attachment.device"], ptrValues(a.Device)...)
		m["attachment.instance-id"] = append(m["attachment.instance-id"], ptrValues(a.InstanceId)...)
		m["attachment.status"] = append(m["attachment.status"], ptrValues(a.State)...)
	}
	return m
}

// volumeTimeValues renders a timestamp as EC2 filters compare it.
func volumeTimeValues(t *time.Time) []string {
	if t == nil {
		return nil
	}
	return []string{t.UTC().Format("2006-01-02T15:04:05.000Z")}
}

// DescribeVolumes lists volumes by ID and filters.
func (s *Service) DescribeVolumes(ctx context.Context, in *ec2api.DescribeVolumesRequest) (*ec2api.DescribeVolumesResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if len(in.VolumeIds) > 0 && in.MaxResults != nil {
		return nil, errCombination("The parameter volumeSet cannot be used with the parameter maxResults")
	}
	var recs []*volumeRecord
	err := s.view(ctx, func(t *rtx) error {
		all, err := volumes.describe(t, in.VolumeIds, nil, nil)
		if err != nil {
			return err
		}
		for _, v := range all {
			volumeSettle(v, t.now)
		}
		recs, err = volumeFilter(all, in.Filters)
		return err
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(recs, in.MaxResults, in.NextToken, func(v *volumeRecord) string { return deref(v.VolumeId) }, 5, 500)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeVolumesResult{Volumes: []ec2api.Volume{}, NextToken: next}
	for _, v := range pg {
		out.Volumes = append(out.Volumes, v.Volume)
	}
	return out, nil
}

// volumeFilter applies filters after the states are settled (the shared
// describe would match the stored, unsettled state).
func volumeFilter(recs []*volumeRecord, filters []ec2api.Filter) ([]*volumeRecord, error) {
	fs := toFilters(filters)
	var out []*volumeRecord
	for _, v := range recs {
		vals := volumeFilterValues(v)
		ok, err := state.MatchWithTags(fs, fromAPITags(v.Tags), func(n string) ([]string, bool) { x, ok := vals[n]; return x, ok })
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, v)
		}
	}
	if len(recs) == 0 {
		names := make([]string, 0, 32)
		for n := range volumeFilterValues(&volumeRecord{}) {
			names = append(names, n)
		}
		if err := state.CheckFilterNames(fs, names...); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// DeleteVolume deletes a volume that is not attached.
func (s *Service) DeleteVolume(ctx context.Context, in *ec2api.DeleteVolumeRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	err := s.update(ctx, func(t *rtx) error {
		v, err := volumeGet(t, deref(in.VolumeId))
		if err != nil {
			return err
		}
		if len(v.Attachments) > 0 {
			return apiErr("VolumeInUse", "Volume %s is currently attached to %s", deref(v.VolumeId), deref(v.Attachments[0].InstanceId))
		}
		return volumes.del(t, deref(v.VolumeId))
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

// volumeDeviceRE matches the device names EC2 accepts for EBS attachments.
var volumeDeviceRE = lazyregexp.New(`^(/dev/(sd[a-z]{1,2}[0-9]{0,2}|xvd[a-z]{1,2}[0-9]{0,2}|hd[a-z])|xvd[a-z]{1,2})$`)

// volumeInstanceStates are the states an instance accepts attachments in.
var volumeInstanceStates = []string{"running", "stopped"}

func volumeInstanceState(inst *instanceRecord) string {
	if inst.State == nil {
		return ""
	}
	return deref(inst.State.Name)
}

// AttachVolume attaches an available volume to an instance in its zone.
func (s *Service) AttachVolume(ctx context.Context, in *ec2api.AttachVolumeRequest) (*ec2api.VolumeAttachment, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	device := deref(in.Device)
	if device == "" {
		return nil, errMissingParam("device")
	}
	if !volumeDeviceRE.MatchString(device) {
		return nil, errInvalidParam("Value (%s) for parameter device is invalid. %s is not a valid EBS device name.", device, device)
	}
	var out *ec2api.VolumeAttachment
	err := s.update(ctx, func(t *rtx) error {
		v, err := volumeGet(t, deref(in.VolumeId))
		if err != nil {
			return err
		}
		inst, err := instances.get(t, deref(in.InstanceId))
		if err != nil {
			return err
		}
		instZone := ""
		if inst.Placement != nil {
			instZone = deref(inst.Placement.AvailabilityZone)
		}
		if instZone != deref(v.AvailabilityZone) {
			return apiErr("InvalidVolume.ZoneMismatch", "The volume '%s' is not in the same availability zone as instance '%s'", deref(v.VolumeId), deref(inst.InstanceId))
		}
		volumeModificationSettle(v.Modification, t.now)
		if m := v.Modification; m != nil && deref(m.ModificationState) == "modifying" {
			return apiErr("OperationNotPermitted", "Cannot attach volume %s when it is in modification state: MODIFYING", deref(v.VolumeId))
		}
		switch deref(v.State) {
		case "available":
		case "in-use":
			return apiErr("VolumeInUse", "%s is already attached to an instance", deref(v.VolumeId))
		default:
			return apiErr("IncorrectState", "%s is not 'available'.", deref(v.VolumeId))
		}
		if st := volumeInstanceState(inst); !slices.Contains(volumeInstanceStates, st) {
			return apiErr("IncorrectInstanceState", "Instance '%s' is not 'running'.", deref(inst.InstanceId))
		}
		for _, m := range inst.BlockDeviceMappings {
			if deref(m.DeviceName) == device {
				return errInvalidParam("Attachment point %s is already in use", device)
			}
		}
		att := ec2api.VolumeAttachment{
			AttachTime:          new(t.now),
			Device:              new(device),
			InstanceId:          inst.InstanceId,
			State:               new("attaching"),
			VolumeId:            v.VolumeId,
			DeleteOnTermination: new(false),
		}
		v.Attachments = []ec2api.VolumeAttachment{att}
		v.State = new("in-use")
		if err := volumes.put(t, v); err != nil {
			return err
		}
		inst.BlockDeviceMappings = append(inst.BlockDeviceMappings, ec2api.InstanceBlockDeviceMapping{
			DeviceName: new(device),
			Ebs: &ec2api.EbsInstanceBlockDevice{
				AttachTime:          new(t.now),
				DeleteOnTermination: new(false),
				Status:              new("attached"),
				VolumeId:            v.VolumeId,
			},
		})
		if err := instances.put(t, inst); err != nil {
			return err
		}
		out = &att
		return nil
	})
	return out, err
}

// DetachVolume detaches a volume; the root volume of a running instance
// cannot be detached.
func (s *Service) DetachVolume(ctx context.Context, in *ec2api.DetachVolumeRequest) (*ec2api.VolumeAttachment, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	var out *ec2api.VolumeAttachment
	err := s.update(ctx, func(t *rtx) error {
		v, err := volumeGet(t, deref(in.VolumeId))
		if err != nil {
			return err
		}
		id := deref(v.VolumeId)
		if len(v.Attachments) == 0 {
			return apiErr("IncorrectState", "Volume '%s' is in the '%s' state.", id, deref(v.State))
		}
		att := v.Attachments[0]
		instID := deref(att.InstanceId)
		if in.InstanceId != nil && *in.InstanceId != instID {
			return apiErr("InvalidAttachment.NotFound", "Volume %s can not be detached from %s because it is not attached", id, *in.InstanceId)
		}
		if in.Device != nil && *in.Device != deref(att.Device) {
			return apiErr("InvalidAttachment.NotFound", "The volume %s is not attached to instance %s as device %s", id, instID, *in.Device)
		}
		inst, found, err := instances.find(t, instID)
		if err != nil {
			return err
		}
		if found {
			st := volumeInstanceState(inst)
			if deref(inst.RootDeviceName) == deref(att.Device) && st != "stopped" && st != "terminated" {
				return apiErr("IncorrectState", "Unable to detach root volume '%s' from instance '%s'", id, instID)
			}
			inst.BlockDeviceMappings = slices.DeleteFunc(inst.BlockDeviceMappings, func(m ec2api.InstanceBlockDeviceMapping) bool {
				return m.Ebs != nil && deref(m.Ebs.VolumeId) == id
			})
			if err := instances.put(t, inst); err != nil {
				return err
			}
		}
		v.Attachments = []ec2api.VolumeAttachment{}
		v.State = new("available")
		if err := volumes.put(t, v); err != nil {
			return err
		}
		att.State = new("detaching")
		out = &att
		return nil
	})
	return out, err
}
