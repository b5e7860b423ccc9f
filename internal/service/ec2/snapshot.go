package ec2

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// EBS snapshots: the caller's own (stored) and the root snapshots of the
// built-in AMIs (generated, owned by the AMIs' owners, public). A snapshot is
// "pending" for snapshotDelay after StartTime, then "completed".

const snapshotDelay = 2 * time.Second

// snapshotSettle advances a snapshot's state and progress by the clock.
func snapshotSettle(s *snapshotRecord, now time.Time) {
	if deref(s.State) != "pending" || s.StartTime == nil {
		return
	}
	elapsed := now.Sub(*s.StartTime)
	if elapsed >= snapshotDelay {
		s.State, s.Progress = new("completed"), new("100%")
		return
	}
	s.Progress = new(fmt.Sprintf("%d%%", int(99*elapsed/snapshotDelay)))
}

// snapshotGet finds a snapshot the caller can use: its own or a built-in.
func snapshotGet(t *rtx, id string) (*snapshotRecord, error) {
	if !snapshots.validID(id) {
		return nil, snapshots.malformedErr(id)
	}
	if b, ok := amiBuiltinSnapshot(t.scope.Region, id); ok {
		return b, nil
	}
	s, err := snapshots.get(t, id)
	if err != nil {
		return nil, err
	}
	snapshotSettle(s, t.now)
	return s, nil
}

// volumeSnapshotOf finds a snapshot of an image: owner is the image's
// account, as launching (or copying) an image shared with the caller needs
// no permission on its snapshots.
func volumeSnapshotOf(t *rtx, owner, id string) (*snapshotRecord, error) {
	if owner != "" && owner != t.scope.Account {
		if _, ok := amiBuiltinSnapshot(t.scope.Region, id); !ok {
			o := *t
			o.scope.Account = owner
			t = &o
		}
	}
	return snapshotUsable(t, id)
}

// volumeSnapshotSize is the size of a snapshot a volume is created from,
// of an image of owner (volumeSnapshotOf) when owner is not "".
func volumeSnapshotSize(t *rtx, owner, id string) (int32, error) {
	s, err := volumeSnapshotOf(t, owner, id)
	if err != nil {
		return 0, err
	}
	return deref(s.VolumeSize), nil
}

// snapshotNew stores a pending snapshot of v, owned by the caller.
func snapshotNew(t *rtx, v *volumeRecord, description string, tags []ec2api.Tag) (*snapshotRecord, error) {
	s := &snapshotRecord{Snapshot: ec2api.Snapshot{
		Description: new(description),
		Encrypted:   new(deref(v.Encrypted)),
		KmsKeyId:    v.KmsKeyId,
		OwnerId:     new(t.scope.Account),
		Progress:    new(""),
		SnapshotId:  new(state.NewID("snap")),
		StartTime:   new(t.now),
		State:       new("pending"),
		VolumeId:    v.VolumeId,
		VolumeSize:  v.Size,
		StorageTier: new("standard"),
		Tags:        tags,
	}}
	if s.Tags == nil {
		s.Tags = []ec2api.Tag{}
	}
	return s, snapshots.put(t, s)
}

// CreateSnapshot snapshots a volume.
func (s *Service) CreateSnapshot(ctx context.Context, in *ec2api.CreateSnapshotRequest) (*ec2api.Snapshot, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	tags, err := tagsFor(in.TagSpecifications, "snapshot")
	if err != nil {
		return nil, err
	}
	var out *ec2api.Snapshot
	err = s.update(ctx, func(t *rtx) error {
		v, err := volumeGet(t, deref(in.VolumeId))
		if err != nil {
			return err
		}
		snap, err := snapshotNew(t, v, deref(in.Description), tags)
		if err != nil {
			return err
		}
		out = &snap.Snapshot
		return nil
	})
	return out, err
}

// snapshotFilterValues gives DescribeSnapshots' filters for one snapshot.
func snapshotFilterValues(s *snapshotRecord) map[string][]string {
	return map[string][]string{
		"description":  one(deref(s.Description)),
		"encrypted":    boolValue(s.Encrypted),
		"owner-alias":  one(deref(s.OwnerAlias)),
		"owner-id":     one(deref(s.OwnerId)),
		"progress":     one(deref(s.Progress)),
		"snapshot-id":  one(deref(s.SnapshotId)),
		"start-time":   volumeTimeValues(s.StartTime),
		"status":       one(deref(s.State)),
		"storage-tier": one(deref(s.StorageTier)),
		"volume-id":    one(deref(s.VolumeId)),
		"volume-size":  one(strconv.Itoa(int(deref(s.VolumeSize)))),
	}
}

// DescribeSnapshots lists the snapshots the caller can restore: its own and
// the public ones, narrowed by IDs, owners, restorable-by and filters.
func (s *Service) DescribeSnapshots(ctx context.Context, in *ec2api.DescribeSnapshotsRequest) (*ec2api.DescribeSnapshotsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if len(in.SnapshotIds) > 0 && in.MaxResults != nil {
		return nil, errCombination("The parameter snapshotSet cannot be used with the parameter maxResults")
	}
	fs := toFilters(in.Filters)
	names := make([]string, 0, 16)
	for n := range snapshotFilterValues(&snapshotRecord{}) {
		names = append(names, n)
	}
	if err := state.CheckFilterNames(fs, names...); err != nil {
		return nil, err
	}
	var recs []*snapshotRecord
	err := s.view(ctx, func(t *rtx) error {
		own, err := snapshots.all(t)
		if err != nil {
			return err
		}
		all := own
		shared, err := sharedWithCaller(t, sharedSnapshots)
		if err != nil {
			return err
		}
		for _, id := range sortedIDs(shared) {
			if sn, ok, err := snapshots.find(shared[id], id); err != nil {
				return err
			} else if ok {
				all = append(all, sn)
			}
		}
		for _, b := range amiCatalogFor(t.scope.Region).snapshots {
			c := b
			all = append(all, &c)
		}
		byID := map[string]*snapshotRecord{}
		for _, sn := range all {
			snapshotSettle(sn, t.now)
			byID[deref(sn.SnapshotId)] = sn
		}
		if len(in.SnapshotIds) > 0 {
			var missing []string
			all = nil
			for _, id := range in.SnapshotIds {
				if !snapshots.validID(id) {
					return snapshots.malformedErr(id)
				}
				if sn, ok := byID[id]; ok {
					if !slices.Contains(all, sn) {
						all = append(all, sn)
					}
				} else {
					missing = append(missing, id)
				}
			}
			if len(missing) > 0 {
				return snapshots.notFoundErr(missing...)
			}
		}
		for _, sn := range all {
			if !snapshotOwnedBy(t, sn, in.OwnerIds) || !snapshotRestorableBy(t, sn, in.RestorableByUserIds) {
				continue
			}
			vals := snapshotFilterValues(sn)
			ok, err := state.MatchWithTags(fs, fromAPITags(sn.Tags), func(n string) ([]string, bool) { x, ok := vals[n]; return x, ok })
			if err != nil {
				return err
			}
			if ok {
				recs = append(recs, sn)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(recs, in.MaxResults, in.NextToken, func(s *snapshotRecord) string { return deref(s.SnapshotId) }, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeSnapshotsResult{Snapshots: []ec2api.Snapshot{}, NextToken: next}
	for _, sn := range pg {
		out.Snapshots = append(out.Snapshots, sn.Snapshot)
	}
	return out, nil
}

// snapshotOwnedBy applies OwnerIds: self, amazon (the alias) or account IDs.
func snapshotOwnedBy(t *rtx, s *snapshotRecord, owners []string) bool {
	if len(owners) == 0 {
		return true
	}
	for _, o := range owners {
		switch {
		case o == "self" && deref(s.OwnerId) == t.scope.Account:
			return true
		case o == deref(s.OwnerId), o != "" && o == deref(s.OwnerAlias):
			return true
		}
	}
	return false
}

// snapshotRestorableBy applies RestorableByUserIds: "all" matches public
// snapshots (the built-ins and those shared with "all"); self or an account
// matches what that account can restore: its own, those shared with it and
// the public ones.
func snapshotRestorableBy(t *rtx, s *snapshotRecord, users []string) bool {
	if len(users) == 0 {
		return true
	}
	e := snapshotShareEntry(s)
	_, builtin := amiBuiltinSnapshot(t.scope.Region, deref(s.SnapshotId))
	public := e.Public || builtin
	for _, u := range users {
		if u == "self" {
			u = t.scope.Account
		}
		switch {
		case public:
			return true
		case u != "all" && (u == deref(s.OwnerId) || e.allows(u)):
			return true
		}
	}
	return false
}

// DeleteSnapshot deletes one of the caller's snapshots unless a registered
// image uses it.
func (s *Service) DeleteSnapshot(ctx context.Context, in *ec2api.DeleteSnapshotRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	id := deref(in.SnapshotId)
	err := s.update(ctx, func(t *rtx) error {
		sn, err := snapshotGet(t, id)
		if err != nil {
			return err
		}
		if deref(sn.OwnerId) != t.scope.Account {
			return apiErr("UnauthorizedOperation", "You are not authorized to perform this operation on snapshot '%s'.", id)
		}
		imgs, err := images.all(t)
		if err != nil {
			return err
		}
		for _, img := range imgs {
			if imageUsesSnapshot(img, id) {
				return apiErr("InvalidSnapshot.InUse", "The snapshot %s is currently in use by %s", id, deref(img.ImageId))
			}
		}
		if err := shareSync(t, sharedSnapshots, id, shareEntry{}); err != nil {
			return err
		}
		return snapshots.del(t, id)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

// imageUsesSnapshot reports whether an image's block devices name snapshot id.
func imageUsesSnapshot(img *imageRecord, id string) bool {
	if img.RootSnapshotID == id {
		return true
	}
	for _, m := range img.BlockDeviceMappings {
		if m.Ebs != nil && deref(m.Ebs.SnapshotId) == id {
			return true
		}
	}
	return false
}
