package ec2

import (
	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// newRootVolume creates the root EBS volume of an instance that RunInstances
// is launching, attached to it at the image's root device name.
//
// Contract for RunInstances (instances are D's; volumes are this file's):
//   - img is the launched image (imageByID finds built-ins and registered
//     ones); its root block device mapping gives the snapshot, size, type and
//     DeleteOnTermination (default true).
//   - override is the RunInstances BlockDeviceMapping entry whose DeviceName
//     equals the image's root device name (nil when there is none); its
//     VolumeSize, VolumeType, Iops, Throughput, Encrypted and
//     DeleteOnTermination override the image's. A size below the snapshot's
//     is InvalidBlockDeviceMapping, as in RunInstances.
//   - inst must already have InstanceId and Placement.AvailabilityZone.
//
// It stores the volume (state "in-use", attachment "attached" at inst's
// launch) and appends the matching InstanceBlockDeviceMapping to
// inst.BlockDeviceMappings and sets inst.RootDeviceName/RootDeviceType; the
// caller stores inst. On termination call volumeReleaseForTermination.
func (s *Service) newRootVolume(t *rtx, inst *instanceRecord, img *imageRecord, override *ec2api.EbsBlockDevice) (*volumeRecord, error) {
	rootName := deref(img.RootDeviceName)
	var base ec2api.EbsBlockDevice
	for _, m := range img.BlockDeviceMappings {
		if deref(m.DeviceName) == rootName && m.Ebs != nil {
			base = *m.Ebs
		}
	}
	spec := volumeSpec{
		typ:        deref(base.VolumeType),
		size:       base.VolumeSize,
		iops:       base.Iops,
		throughput: base.Throughput,
		encrypted:  deref(base.Encrypted),
		snapshotID: deref(base.SnapshotId),
	}
	deleteOnTermination := base.DeleteOnTermination == nil || *base.DeleteOnTermination
	if override != nil {
		if override.VolumeType != nil {
			// A new type resets the type-specific performance settings.
			spec.typ, spec.iops, spec.throughput = *override.VolumeType, nil, nil
		}
		if override.VolumeSize != nil {
			spec.size = override.VolumeSize
		}
		if override.Iops != nil {
			spec.iops = override.Iops
		}
		if override.Throughput != nil {
			spec.throughput = override.Throughput
		}
		if override.Encrypted != nil {
			spec.encrypted = *override.Encrypted
		}
		if override.DeleteOnTermination != nil {
			deleteOnTermination = *override.DeleteOnTermination
		}
	}
	if spec.typ == "" {
		spec.typ = "gp2"
	}
	if spec.typ == "gp2" || spec.typ == "st1" || spec.typ == "sc1" || spec.typ == "standard" {
		spec.iops = nil
	}
	if spec.typ != "gp3" {
		spec.throughput = nil
	}
	if spec.snapshotID != "" {
		snapSize, err := volumeSnapshotSize(t, deref(img.OwnerId), spec.snapshotID)
		if err != nil {
			return nil, err
		}
		if spec.size != nil && *spec.size < snapSize {
			return nil, apiErr("InvalidBlockDeviceMapping", "Volume of size %dGB is smaller than snapshot '%s', expect size >= %dGB", *spec.size, spec.snapshotID, snapSize)
		}
		if spec.size == nil {
			spec.size = new(snapSize)
		}
	}
	size, iops, throughput, err := volumeValidate(spec)
	if err != nil {
		return nil, err
	}
	zone := ""
	if inst.Placement != nil {
		zone = deref(inst.Placement.AvailabilityZone)
	}
	attachTime := t.now
	if inst.LaunchTime != nil {
		attachTime = *inst.LaunchTime
	}
	v := &volumeRecord{Volume: ec2api.Volume{
		VolumeId:           new(state.NewID("vol")),
		AvailabilityZone:   new(zone),
		CreateTime:         new(attachTime),
		Encrypted:          new(spec.encrypted),
		Size:               new(size),
		SnapshotId:         new(spec.snapshotID),
		State:              new("in-use"),
		Iops:               iops,
		Throughput:         throughput,
		VolumeType:         new(spec.typ),
		MultiAttachEnabled: new(false),
		Tags:               []ec2api.Tag{},
		Attachments: []ec2api.VolumeAttachment{{
			AttachTime:          new(attachTime),
			Device:              new(rootName),
			InstanceId:          inst.InstanceId,
			State:               new("attached"),
			DeleteOnTermination: new(deleteOnTermination),
		}},
	}}
	v.Attachments[0].VolumeId = v.VolumeId
	byDefault, err := ebsEncryptedByDefault(t)
	if err != nil {
		return nil, err
	}
	if spec.encrypted || byDefault {
		kms := deref(base.KmsKeyId)
		if override != nil && override.KmsKeyId != nil {
			kms = *override.KmsKeyId
		}
		key, err := volumeKMSKey(t, kms)
		if err != nil {
			return nil, err
		}
		v.Encrypted, v.KmsKeyId = new(true), new(key)
	}
	if err := volumes.put(t, v); err != nil {
		return nil, err
	}
	inst.BlockDeviceMappings = append(inst.BlockDeviceMappings, ec2api.InstanceBlockDeviceMapping{
		DeviceName: new(rootName),
		Ebs: &ec2api.EbsInstanceBlockDevice{
			AttachTime:          new(attachTime),
			DeleteOnTermination: new(deleteOnTermination),
			Status:              new("attached"),
			VolumeId:            v.VolumeId,
		},
	})
	inst.RootDeviceName = new(rootName)
	inst.RootDeviceType = new("ebs")
	return v, nil
}

// volumeReleaseForTermination is what TerminateInstances does to an
// instance's volumes: those attached with DeleteOnTermination are deleted,
// the others detached (state available). inst.BlockDeviceMappings is left
// as it was (AWS keeps showing them on the terminated instance for a while);
// the caller stores inst.
func volumeReleaseForTermination(t *rtx, inst *instanceRecord) error {
	id := deref(inst.InstanceId)
	all, err := volumes.all(t)
	if err != nil {
		return err
	}
	for _, v := range all {
		var keep []ec2api.VolumeAttachment
		del := false
		for _, a := range v.Attachments {
			if deref(a.InstanceId) != id {
				keep = append(keep, a)
				continue
			}
			if deref(a.DeleteOnTermination) {
				del = true
			}
		}
		if len(keep) == len(v.Attachments) {
			continue
		}
		if del {
			if err := volumes.del(t, deref(v.VolumeId)); err != nil {
				return err
			}
			continue
		}
		v.Attachments = keep
		if len(keep) == 0 {
			v.State = new("available")
		}
		if err := volumes.put(t, v); err != nil {
			return err
		}
	}
	return nil
}
