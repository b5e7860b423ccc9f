package ec2_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func snapDescribe(t *testing.T, e *testEnv, in *ec2.DescribeSnapshotsInput) []types.Snapshot {
	t.Helper()
	out, err := e.ec2.DescribeSnapshots(e.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return out.Snapshots
}

func TestSnapshotLifecycle(t *testing.T) {
	e := newEnv(t, "")
	v := ebsCreate(t, e, &ec2.CreateVolumeInput{Size: aws.Int32(12), VolumeType: types.VolumeTypeGp3})
	snap, err := e.ec2.CreateSnapshot(e.ctx, &ec2.CreateSnapshotInput{VolumeId: v.VolumeId, Description: aws.String("nightly"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSnapshot, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(snap.SnapshotId)
	if snap.State != types.SnapshotStatePending || aws.ToInt32(snap.VolumeSize) != 12 || aws.ToString(snap.VolumeId) != aws.ToString(v.VolumeId) ||
		aws.ToString(snap.OwnerId) == "" || snap.StartTime == nil || aws.ToString(snap.Description) != "nightly" || len(snap.Tags) != 1 {
		t.Fatalf("created %+v", snap)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		s := snapDescribe(t, e, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{id}})[0]
		if s.State == types.SnapshotStateCompleted {
			if aws.ToString(s.Progress) != "100%" {
				t.Fatalf("completed at %s", aws.ToString(s.Progress))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("snapshot still %s", s.State)
		}
		time.Sleep(100 * time.Millisecond)
	}

	for name, tc := range map[string]struct {
		in   *ec2.DescribeSnapshotsInput
		want int
	}{
		"self":            {&ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}}, 1},
		"amazon":          {&ec2.DescribeSnapshotsInput{OwnerIds: []string{"amazon"}}, 2},
		"canonical":       {&ec2.DescribeSnapshotsInput{OwnerIds: []string{"099720109477"}}, 4},
		"all visible":     {&ec2.DescribeSnapshotsInput{}, 9},
		"restorable all":  {&ec2.DescribeSnapshotsInput{RestorableByUserIds: []string{"all"}}, 8},
		"restorable self": {&ec2.DescribeSnapshotsInput{RestorableByUserIds: []string{"self"}, OwnerIds: []string{"self"}}, 1},
		"volume-id":       {&ec2.DescribeSnapshotsInput{Filters: []types.Filter{imgFilter("volume-id", aws.ToString(v.VolumeId))}}, 1},
		"status":          {&ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: []types.Filter{imgFilter("status", "completed")}}, 1},
		"description":     {&ec2.DescribeSnapshotsInput{Filters: []types.Filter{imgFilter("description", "night*")}}, 1},
		"tag":             {&ec2.DescribeSnapshotsInput{Filters: []types.Filter{imgFilter("tag:k", "v")}}, 1},
		"volume-size":     {&ec2.DescribeSnapshotsInput{Filters: []types.Filter{imgFilter("volume-size", "8")}}, 8},
	} {
		if got := snapDescribe(t, e, tc.in); len(got) != tc.want {
			t.Errorf("%s: %d snapshots, want %d", name, len(got), tc.want)
		}
	}
	_, err = e.ec2.DescribeSnapshots(e.ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{"snap-0123456789abcdef0"}})
	wantCode(t, err, "InvalidSnapshot.NotFound")
	_, err = e.ec2.DescribeSnapshots(e.ctx, &ec2.DescribeSnapshotsInput{Filters: []types.Filter{imgFilter("bogus", "x")}})
	wantCode(t, err, "InvalidParameterValue")
	_, err = e.ec2.CreateSnapshot(e.ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String("vol-0123456789abcdef0")})
	wantCode(t, err, "InvalidVolume.NotFound")

	// Volumes from snapshots: the size defaults to the snapshot's and may
	// not be smaller.
	fromSnap := ebsCreate(t, e, &ec2.CreateVolumeInput{SnapshotId: aws.String(id)})
	if aws.ToInt32(fromSnap.Size) != 12 || aws.ToString(fromSnap.SnapshotId) != id {
		t.Errorf("volume from snapshot: %+v", fromSnap)
	}
	_, err = e.ec2.CreateVolume(e.ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), SnapshotId: aws.String(id), Size: aws.Int32(11)})
	wantCode(t, err, "InvalidParameterValue")
	amazon := snapDescribe(t, e, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"amazon"}})
	if !strings.HasPrefix(aws.ToString(amazon[0].Description), "Auto-created snapshot for AMI ami-") || amazon[0].State != types.SnapshotStateCompleted {
		t.Errorf("built-in snapshot %+v", amazon[0])
	}
	fromAMI := ebsCreate(t, e, &ec2.CreateVolumeInput{SnapshotId: amazon[0].SnapshotId, VolumeType: types.VolumeTypeGp3})
	if aws.ToInt32(fromAMI.Size) != 8 {
		t.Errorf("volume from built-in snapshot: %d GiB", aws.ToInt32(fromAMI.Size))
	}
	_, err = e.ec2.DeleteSnapshot(e.ctx, &ec2.DeleteSnapshotInput{SnapshotId: amazon[0].SnapshotId})
	wantCode(t, err, "UnauthorizedOperation")

	if _, err := e.ec2.DeleteSnapshot(e.ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.ec2.DeleteSnapshot(e.ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id)})
	wantCode(t, err, "InvalidSnapshot.NotFound")
	_, err = e.ec2.DeleteSnapshot(e.ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String("snapshot-1")})
	wantCode(t, err, "InvalidSnapshotID.Malformed")
}
