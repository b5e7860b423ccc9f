package ec2

import (
	"context"
	"fmt"
	"slices"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// Snapshot copies, multi-volume snapshots and createVolumePermission
// (share.go has the index other accounts find shared snapshots by).

// snapshotUsable finds a snapshot the caller may create a volume from: its
// own, a built-in, or one another account shared with it (explicitly or
// publicly). A snapshot that is not shared with the caller does not exist
// for it, as on AWS.
func snapshotUsable(t *rtx, id string) (*snapshotRecord, error) {
	sn, err := snapshotGet(t, id)
	if err == nil || !imageIsCode(err, snapshots.notFound) {
		return sn, err
	}
	owner, ok, ferr := shareOwner(t, sharedSnapshots, id)
	if ferr != nil {
		return nil, ferr
	}
	if !ok {
		return nil, err
	}
	return snapshotGet(owner, id)
}

// snapshotShareEntry is the index entry of a snapshot's permissions.
func snapshotShareEntry(sn *snapshotRecord) shareEntry {
	e := shareEntry{Owner: deref(sn.OwnerId)}
	for _, p := range sn.CreateVolumePermissions {
		switch {
		case deref(p.Group) == "all":
			e.Public = true
		case p.UserId != nil:
			e.Users = append(e.Users, *p.UserId)
		}
	}
	return e
}

// snapshotOwned finds one of the caller's own snapshots for a change only
// its owner may make.
func snapshotOwned(t *rtx, id string) (*snapshotRecord, error) {
	sn, err := snapshotUsable(t, id)
	if err != nil {
		return nil, err
	}
	if deref(sn.OwnerId) != t.scope.Account {
		return nil, apiErr("UnauthorizedOperation", "You are not authorized to perform this operation on snapshot '%s'.", id)
	}
	return sn, nil
}

// snapshotAttributeName checks a snapshot attribute's name.
func snapshotAttributeName(attr *string) (string, error) {
	switch a := deref(attr); a {
	case "":
		return "", errMissingParam("attribute")
	case "createVolumePermission", "productCodes":
		return a, nil
	default:
		return "", errInvalidParam("Value (%s) for parameter attribute is invalid. Unknown attribute.", a)
	}
}

// DescribeSnapshotAttribute gives a snapshot's createVolumePermission or
// productCodes; only its owner may see who it is shared with.
func (s *Service) DescribeSnapshotAttribute(ctx context.Context, in *ec2api.DescribeSnapshotAttributeRequest) (*ec2api.DescribeSnapshotAttributeResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	attr, err := snapshotAttributeName(in.Attribute)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeSnapshotAttributeResult{SnapshotId: in.SnapshotId}
	err = s.view(ctx, func(t *rtx) error {
		sn, err := snapshotOwned(t, deref(in.SnapshotId))
		if err != nil {
			return err
		}
		if attr == "productCodes" {
			out.ProductCodes = []ec2api.ProductCode{}
			return nil
		}
		out.CreateVolumePermissions = append([]ec2api.CreateVolumePermission{}, sn.CreateVolumePermissions...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// snapshotGrants are the grants of CreateVolumePermission entries.
func snapshotGrants(ps []ec2api.CreateVolumePermission) []grant {
	out := make([]grant, 0, len(ps))
	for _, p := range ps {
		out = append(out, grant{user: deref(p.UserId), group: deref(p.Group)})
	}
	return out
}

// snapshotPermissionChanges gathers ModifySnapshotAttribute's changes
// (grantChanges).
func snapshotPermissionChanges(in *ec2api.ModifySnapshotAttributeRequest) (add, remove []grant, err error) {
	if in.CreateVolumePermission != nil {
		add, remove = snapshotGrants(in.CreateVolumePermission.Add), snapshotGrants(in.CreateVolumePermission.Remove)
	}
	add, remove, err = grantChanges(add, remove, in.UserIds, in.GroupNames, deref(in.OperationType),
		func(u string) error { return apiErr("InvalidUserID.Malformed", "User ID '%s' is not valid", u) },
		func(g string) error {
			return errInvalidParam("Value (%s) for parameter group is invalid. Only 'all' is supported.", g)
		})
	if err == nil && len(add) == 0 && len(remove) == 0 {
		err = errMissingParam("createVolumePermission")
	}
	return add, remove, err
}

// snapshotSave stores a snapshot whose permissions changed, and its entry
// in the sharing index.
func snapshotSave(t *rtx, sn *snapshotRecord) error {
	if err := snapshots.put(t, sn); err != nil {
		return err
	}
	return shareSync(t, sharedSnapshots, deref(sn.SnapshotId), snapshotShareEntry(sn))
}

// ModifySnapshotAttribute shares a snapshot with accounts or publicly, or
// stops sharing it. An encrypted snapshot cannot be made public.
func (s *Service) ModifySnapshotAttribute(ctx context.Context, in *ec2api.ModifySnapshotAttributeRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if in.Attribute != nil && *in.Attribute != "createVolumePermission" {
		return nil, errInvalidParam("Value (%s) for parameter attribute is invalid. Only createVolumePermission can be modified.", *in.Attribute)
	}
	add, remove, err := snapshotPermissionChanges(in)
	if err != nil {
		return nil, err
	}
	err = s.update(ctx, func(t *rtx) error {
		sn, err := snapshotOwned(t, deref(in.SnapshotId))
		if err != nil {
			return err
		}
		perms := snapshotGrants(sn.CreateVolumePermissions)
		for _, g := range add {
			if g.group == "all" && deref(sn.Encrypted) {
				return apiErr("OperationNotPermitted", "Encrypted snapshots with EBS default key cannot be shared publicly")
			}
			if !slices.Contains(perms, g) {
				perms = append(perms, g)
			}
		}
		for _, g := range remove {
			perms = slices.DeleteFunc(perms, func(q grant) bool { return q == g })
		}
		sn.CreateVolumePermissions = nil
		for _, g := range perms {
			p := ec2api.CreateVolumePermission{}
			if g.group != "" {
				p.Group = new(g.group)
			} else {
				p.UserId = new(g.user)
			}
			sn.CreateVolumePermissions = append(sn.CreateVolumePermissions, p)
		}
		return snapshotSave(t, sn)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

// ResetSnapshotAttribute makes a snapshot private again.
func (s *Service) ResetSnapshotAttribute(ctx context.Context, in *ec2api.ResetSnapshotAttributeRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	attr, err := snapshotAttributeName(in.Attribute)
	if err != nil {
		return nil, err
	}
	if attr != "createVolumePermission" {
		return nil, errInvalidParam("Value (%s) for parameter attribute is invalid. Only createVolumePermission can be reset.", attr)
	}
	err = s.update(ctx, func(t *rtx) error {
		sn, err := snapshotOwned(t, deref(in.SnapshotId))
		if err != nil {
			return err
		}
		sn.CreateVolumePermissions = nil
		return snapshotSave(t, sn)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

// snapshotCopy stores a copy of src in t's scope: a new pending snapshot
// owned by the caller, with src's size and encryption (or the encryption
// asked for), recording src as the source of its data.
func snapshotCopy(t *rtx, src *snapshotRecord, srcRegion, description string, encrypted *bool, key string, tags []ec2api.Tag) (*snapshotRecord, error) {
	enc, kms, err := ebsEncryption(t, encrypted, key, deref(src.Encrypted), deref(src.KmsKeyId))
	if err != nil {
		return nil, err
	}
	if description == "" {
		description = fmt.Sprintf("[Copied %s from %s]", deref(src.SnapshotId), srcRegion)
	}
	if tags == nil {
		tags = []ec2api.Tag{}
	}
	cp := &snapshotRecord{
		Snapshot: ec2api.Snapshot{
			Description: new(description),
			Encrypted:   new(enc),
			KmsKeyId:    kms,
			OwnerId:     new(t.scope.Account),
			Progress:    new(""),
			SnapshotId:  new(state.NewID("snap")),
			StartTime:   new(t.now),
			State:       new("pending"),
			// AWS shows this placeholder as the volume of a copy.
			VolumeId:    new("vol-ffffffff"),
			VolumeSize:  src.VolumeSize,
			StorageTier: new("standard"),
			Tags:        tags,
		},
		SourceSnapshotID: deref(src.SnapshotId),
	}
	return cp, snapshots.put(t, cp)
}

// CopySnapshot copies a completed snapshot of SourceRegion (the caller's
// own, a built-in or one shared with it) into the region the request is
// sent to.
func (s *Service) CopySnapshot(ctx context.Context, in *ec2api.CopySnapshotRequest) (*ec2api.CopySnapshotResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	switch {
	case deref(in.SourceSnapshotId) == "":
		return nil, errMissingParam("SourceSnapshotId")
	case deref(in.SourceRegion) == "":
		return nil, errMissingParam("SourceRegion")
	}
	tags, err := tagsFor(in.TagSpecifications, "snapshot")
	if err != nil {
		return nil, err
	}
	var out *snapshotRecord
	err = s.update(ctx, func(t *rtx) error {
		srcRegion := *in.SourceRegion
		if _, ok := regionByName(srcRegion); !ok {
			return errInvalidParam("Value (%s) for parameter SourceRegion is invalid.", srcRegion)
		}
		src := *t
		src.scope.Region = srcRegion
		sn, err := snapshotUsable(&src, *in.SourceSnapshotId)
		if err != nil {
			return err
		}
		if deref(sn.State) != "completed" {
			return apiErr("IncorrectState", "Snapshot '%s' is not 'completed'.", *in.SourceSnapshotId)
		}
		out, err = snapshotCopy(t, sn, srcRegion, deref(in.Description), in.Encrypted, deref(in.KmsKeyId), tags)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CopySnapshotResult{SnapshotId: out.SnapshotId, Tags: out.Tags}, nil
}

// CreateSnapshots snapshots the EBS volumes of an instance at one point in
// time: its boot volume unless excluded, and its data volumes but those
// excluded.
func (s *Service) CreateSnapshots(ctx context.Context, in *ec2api.CreateSnapshotsRequest) (*ec2api.CreateSnapshotsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	spec := in.InstanceSpecification
	if spec == nil || deref(spec.InstanceId) == "" {
		return nil, errMissingParam("InstanceSpecification.InstanceId")
	}
	if c := deref(in.CopyTagsFromSource); c != "" && c != "volume" {
		return nil, errInvalidParam("Value (%s) for parameter CopyTagsFromSource is invalid. Expected: 'volume'.", c)
	}
	tags, err := tagsFor(in.TagSpecifications, "snapshot")
	if err != nil {
		return nil, err
	}
	out := &ec2api.CreateSnapshotsResult{Snapshots: []ec2api.SnapshotInfo{}}
	err = s.update(ctx, func(t *rtx) error {
		inst, err := instances.get(t, *spec.InstanceId)
		if err != nil {
			return err
		}
		if st := volumeInstanceState(inst); st == "terminated" || st == "shutting-down" {
			return apiErr("IncorrectState", "Instance '%s' is in the '%s' state.", *spec.InstanceId, st)
		}
		for _, ex := range spec.ExcludeDataVolumeIds {
			if !slices.ContainsFunc(inst.BlockDeviceMappings, func(m ec2api.InstanceBlockDeviceMapping) bool {
				return m.Ebs != nil && deref(m.Ebs.VolumeId) == ex
			}) {
				return errInvalidParam("The volume %s is not attached to instance %s.", ex, *spec.InstanceId)
			}
		}
		for _, m := range inst.BlockDeviceMappings {
			if m.Ebs == nil {
				continue
			}
			root := deref(m.DeviceName) == deref(inst.RootDeviceName)
			if (root && deref(spec.ExcludeBootVolume)) || (!root && slices.Contains(spec.ExcludeDataVolumeIds, deref(m.Ebs.VolumeId))) {
				continue
			}
			v, err := volumeGet(t, deref(m.Ebs.VolumeId))
			if err != nil {
				return err
			}
			snapTags := slices.Clone(tags)
			if deref(in.CopyTagsFromSource) == "volume" {
				snapTags = append(slices.Clone(v.Tags), snapTags...)
			}
			sn, err := snapshotNew(t, v, deref(in.Description), snapTags)
			if err != nil {
				return err
			}
			out.Snapshots = append(out.Snapshots, ec2api.SnapshotInfo{
				Description: sn.Description, Tags: sn.Tags, Encrypted: sn.Encrypted, VolumeId: sn.VolumeId,
				State: sn.State, VolumeSize: sn.VolumeSize, StartTime: sn.StartTime, Progress: sn.Progress,
				OwnerId: sn.OwnerId, SnapshotId: sn.SnapshotId, SseType: new("sse-ebs"),
			})
		}
		if len(out.Snapshots) == 0 {
			return errInvalidParam("The instance %s has no volumes to snapshot.", *spec.InstanceId)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
