package ec2_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Accounts of the sharing tests: a 12-digit access key is its account.
const (
	ebsOwner = "111111111111"
	ebsPeer  = "222222222222"
)

func TestModifyVolume(t *testing.T) {
	e := newEnv(t, "")
	i32 := aws.Int32
	cases := []struct {
		name    string
		create  ec2.CreateVolumeInput
		modify  ec2.ModifyVolumeInput
		wantErr string
		want    func(types.Volume) bool
	}{
		{name: "grow gp2", create: ec2.CreateVolumeInput{Size: i32(10)}, modify: ec2.ModifyVolumeInput{Size: i32(20)},
			want: func(v types.Volume) bool { return *v.Size == 20 && *v.Iops == 100 }},
		{name: "shrink", create: ec2.CreateVolumeInput{Size: i32(10)}, modify: ec2.ModifyVolumeInput{Size: i32(5)}, wantErr: "InvalidParameterValue"},
		{name: "gp2 to gp3 defaults", create: ec2.CreateVolumeInput{Size: i32(10)}, modify: ec2.ModifyVolumeInput{VolumeType: types.VolumeTypeGp3},
			want: func(v types.Volume) bool {
				return v.VolumeType == types.VolumeTypeGp3 && *v.Iops == 3000 && *v.Throughput == 125
			}},
		{name: "throughput on gp2", create: ec2.CreateVolumeInput{Size: i32(10)}, modify: ec2.ModifyVolumeInput{Throughput: i32(200)}, wantErr: "InvalidParameterCombination"},
		{name: "iops on gp2", create: ec2.CreateVolumeInput{Size: i32(10)}, modify: ec2.ModifyVolumeInput{Iops: i32(500)}, wantErr: "InvalidParameterCombination"},
		{name: "gp3 throughput", create: ec2.CreateVolumeInput{Size: i32(100), VolumeType: types.VolumeTypeGp3}, modify: ec2.ModifyVolumeInput{Throughput: i32(500), Iops: i32(4000)},
			want: func(v types.Volume) bool { return *v.Throughput == 500 && *v.Iops == 4000 }},
		{name: "gp3 throughput per IOPS", create: ec2.CreateVolumeInput{Size: i32(100), VolumeType: types.VolumeTypeGp3}, modify: ec2.ModifyVolumeInput{Throughput: i32(1000)}, wantErr: "InvalidParameterValue"},
		{name: "to io1 needs iops", create: ec2.CreateVolumeInput{Size: i32(100)}, modify: ec2.ModifyVolumeInput{VolumeType: types.VolumeTypeIo1}, wantErr: "InvalidParameterCombination"},
		{name: "io1 to io2 keeps iops", create: ec2.CreateVolumeInput{Size: i32(100), VolumeType: types.VolumeTypeIo1, Iops: i32(1000)}, modify: ec2.ModifyVolumeInput{VolumeType: types.VolumeTypeIo2},
			want: func(v types.Volume) bool { return v.VolumeType == types.VolumeTypeIo2 && *v.Iops == 1000 }},
		{name: "st1 too small", create: ec2.CreateVolumeInput{Size: i32(100)}, modify: ec2.ModifyVolumeInput{VolumeType: types.VolumeTypeSt1}, wantErr: "InvalidParameterValue"},
		{name: "multi-attach on gp3", create: ec2.CreateVolumeInput{Size: i32(10), VolumeType: types.VolumeTypeGp3}, modify: ec2.ModifyVolumeInput{MultiAttachEnabled: aws.Bool(true)}, wantErr: "InvalidParameterCombination"},
		{name: "no change", create: ec2.CreateVolumeInput{Size: i32(10)}, modify: ec2.ModifyVolumeInput{Size: i32(10)}, wantErr: "InvalidParameterValue"},
		{name: "nothing asked", create: ec2.CreateVolumeInput{Size: i32(10)}, modify: ec2.ModifyVolumeInput{}, wantErr: "MissingParameter"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vol := ebsCreate(t, e, &c.create)
			ebsWait(t, e, *vol.VolumeId, "available", func(v types.Volume) bool { return v.State == types.VolumeStateAvailable })
			c.modify.VolumeId = vol.VolumeId
			out, err := e.ec2.ModifyVolume(e.ctx, &c.modify)
			if c.wantErr != "" {
				wantCode(t, err, c.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m := out.VolumeModification
			if m.ModificationState != types.VolumeModificationStateModifying || aws.ToInt32(m.OriginalSize) != aws.ToInt32(vol.Size) {
				t.Fatalf("modification %+v", m)
			}
			if v := ebsVolume(t, e, *vol.VolumeId); !c.want(v) {
				t.Fatalf("volume after modification: %+v", v)
			}
		})
	}

	t.Run("states and DescribeVolumesModifications", func(t *testing.T) {
		vol := ebsCreate(t, e, &ec2.CreateVolumeInput{Size: i32(8), VolumeType: types.VolumeTypeGp3})
		ebsWait(t, e, *vol.VolumeId, "available", func(v types.Volume) bool { return v.State == types.VolumeStateAvailable })
		if _, err := e.ec2.ModifyVolume(e.ctx, &ec2.ModifyVolumeInput{VolumeId: vol.VolumeId, Size: i32(16)}); err != nil {
			t.Fatal(err)
		}
		_, err := e.ec2.ModifyVolume(e.ctx, &ec2.ModifyVolumeInput{VolumeId: vol.VolumeId, Size: i32(32)})
		wantError(t, err, "IncorrectModificationState", "Volume "+*vol.VolumeId+" cannot be modified in modification state MODIFYING")
		seen := map[types.VolumeModificationState]bool{}
		deadline := time.Now().Add(8 * time.Second)
		for !seen[types.VolumeModificationStateCompleted] {
			out, err := e.ec2.DescribeVolumesModifications(e.ctx, &ec2.DescribeVolumesModificationsInput{VolumeIds: []string{*vol.VolumeId}})
			if err != nil {
				t.Fatal(err)
			}
			m := out.VolumesModifications[0]
			seen[m.ModificationState] = true
			if aws.ToInt32(m.TargetSize) != 16 || aws.ToInt32(m.OriginalSize) != 8 {
				t.Fatalf("modification %+v", m)
			}
			if time.Now().After(deadline) {
				t.Fatalf("modification never completed; saw %v", seen)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if !seen[types.VolumeModificationStateOptimizing] {
			t.Fatalf("no optimizing state seen: %v", seen)
		}
		out, err := e.ec2.DescribeVolumesModifications(e.ctx, &ec2.DescribeVolumesModificationsInput{
			Filters: []types.Filter{{Name: aws.String("modification-state"), Values: []string{"completed"}}}})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(out.VolumesModifications, func(m types.VolumeModification) bool { return *m.VolumeId == *vol.VolumeId }) {
			t.Fatal("completed modification not listed by filter")
		}
		other := ebsCreate(t, e, &ec2.CreateVolumeInput{Size: i32(8)})
		_, err = e.ec2.DescribeVolumesModifications(e.ctx, &ec2.DescribeVolumesModificationsInput{VolumeIds: []string{*other.VolumeId}})
		wantCode(t, err, "InvalidVolumeModification.NotFound")
	})
}

func TestVolumeStatusAndAttribute(t *testing.T) {
	e := newEnv(t, "")
	vol := ebsCreate(t, e, &ec2.CreateVolumeInput{Size: aws.Int32(4)})
	st, err := e.ec2.DescribeVolumeStatus(e.ctx, &ec2.DescribeVolumeStatusInput{VolumeIds: []string{*vol.VolumeId}})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.VolumeStatuses) != 1 || st.VolumeStatuses[0].VolumeStatus.Status != types.VolumeStatusInfoStatusOk ||
		aws.ToString(st.VolumeStatuses[0].AvailabilityZone) != "us-east-1a" {
		t.Fatalf("status %+v", st.VolumeStatuses)
	}
	st, err = e.ec2.DescribeVolumeStatus(e.ctx, &ec2.DescribeVolumeStatusInput{
		Filters: []types.Filter{{Name: aws.String("volume-status.status"), Values: []string{"impaired"}}}})
	if err != nil || len(st.VolumeStatuses) != 0 {
		t.Fatalf("impaired filter: %v %+v", err, st)
	}
	_, err = e.ec2.DescribeVolumeStatus(e.ctx, &ec2.DescribeVolumeStatusInput{VolumeIds: []string{"vol-0123456789abcdef0"}})
	wantCode(t, err, "InvalidVolume.NotFound")

	attr := func() bool {
		t.Helper()
		out, err := e.ec2.DescribeVolumeAttribute(e.ctx, &ec2.DescribeVolumeAttributeInput{VolumeId: vol.VolumeId, Attribute: types.VolumeAttributeNameAutoEnableIO})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToBool(out.AutoEnableIO.Value)
	}
	if attr() {
		t.Fatal("autoEnableIO defaults to true")
	}
	if _, err := e.ec2.ModifyVolumeAttribute(e.ctx, &ec2.ModifyVolumeAttributeInput{VolumeId: vol.VolumeId, AutoEnableIO: &types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	if !attr() {
		t.Fatal("autoEnableIO not set")
	}
	_, err = e.ec2.ModifyVolumeAttribute(e.ctx, &ec2.ModifyVolumeAttributeInput{VolumeId: vol.VolumeId})
	wantCode(t, err, "MissingParameter")
	if _, err := e.ec2.EnableVolumeIO(e.ctx, &ec2.EnableVolumeIOInput{VolumeId: vol.VolumeId}); err != nil {
		t.Fatal(err)
	}
}

func TestEbsEncryptionByDefault(t *testing.T) {
	e := newEnv(t, "")
	alias := "arn:aws:kms:us-east-1:000000000000:alias/aws/ebs"
	get, err := e.ec2.GetEbsEncryptionByDefault(e.ctx, &ec2.GetEbsEncryptionByDefaultInput{})
	if err != nil || aws.ToBool(get.EbsEncryptionByDefault) {
		t.Fatalf("default: %v %+v", err, get)
	}
	key, err := e.ec2.GetEbsDefaultKmsKeyId(e.ctx, &ec2.GetEbsDefaultKmsKeyIdInput{})
	if err != nil || aws.ToString(key.KmsKeyId) != alias {
		t.Fatalf("default key: %v %+v", err, key)
	}

	cases := []struct {
		name      string
		in        ec2.CreateVolumeInput
		wantErr   string
		encrypted bool
		key       string
	}{
		{name: "plain", in: ec2.CreateVolumeInput{}},
		{name: "encrypted default key", in: ec2.CreateVolumeInput{Encrypted: aws.Bool(true)}, encrypted: true, key: alias},
		{name: "key without Encrypted", in: ec2.CreateVolumeInput{KmsKeyId: aws.String("alias/mine")}, wantErr: "InvalidParameterDependency"},
		{name: "key with Encrypted false", in: ec2.CreateVolumeInput{Encrypted: aws.Bool(false), KmsKeyId: aws.String("alias/mine")}, wantErr: "InvalidParameterDependency"},
		{name: "own key", in: ec2.CreateVolumeInput{Encrypted: aws.Bool(true), KmsKeyId: aws.String("alias/mine")}, encrypted: true, key: "arn:aws:kms:us-east-1:000000000000:alias/mine"},
		{name: "malformed key", in: ec2.CreateVolumeInput{Encrypted: aws.Bool(true), KmsKeyId: aws.String("not a key")}, wantErr: "InvalidParameterValue"},
	}
	check := func(t *testing.T, in ec2.CreateVolumeInput, wantErr string, encrypted bool, key string) {
		t.Helper()
		in.AvailabilityZone, in.Size = aws.String("us-east-1a"), aws.Int32(1)
		v, err := e.ec2.CreateVolume(e.ctx, &in)
		if wantErr != "" {
			wantCode(t, err, wantErr)
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToBool(v.Encrypted) != encrypted || aws.ToString(v.KmsKeyId) != key {
			t.Fatalf("encrypted %v key %q, want %v %q", aws.ToBool(v.Encrypted), aws.ToString(v.KmsKeyId), encrypted, key)
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { check(t, c.in, c.wantErr, c.encrypted, c.key) })
	}

	t.Run("enabled", func(t *testing.T) {
		en, err := e.ec2.EnableEbsEncryptionByDefault(e.ctx, &ec2.EnableEbsEncryptionByDefaultInput{})
		if err != nil || !aws.ToBool(en.EbsEncryptionByDefault) {
			t.Fatalf("enable: %v %+v", err, en)
		}
		mod, err := e.ec2.ModifyEbsDefaultKmsKeyId(e.ctx, &ec2.ModifyEbsDefaultKmsKeyIdInput{KmsKeyId: aws.String("1234abcd-12ab-34cd-56ef-1234567890ab")})
		mine := "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab"
		if err != nil || aws.ToString(mod.KmsKeyId) != mine {
			t.Fatalf("modify key: %v %+v", err, mod)
		}
		check(t, ec2.CreateVolumeInput{}, "", true, mine)
		check(t, ec2.CreateVolumeInput{Encrypted: aws.Bool(false)}, "", true, mine)
		// Another region and another account keep their own settings.
		west := ec2Client(e.url, "us-west-2", "test")
		if g, err := west.GetEbsEncryptionByDefault(e.ctx, &ec2.GetEbsEncryptionByDefaultInput{}); err != nil || aws.ToBool(g.EbsEncryptionByDefault) {
			t.Fatalf("us-west-2: %v %+v", err, g)
		}
		other := ec2Client(e.url, "us-east-1", ebsPeer)
		if g, err := other.GetEbsEncryptionByDefault(e.ctx, &ec2.GetEbsEncryptionByDefaultInput{}); err != nil || aws.ToBool(g.EbsEncryptionByDefault) {
			t.Fatalf("other account: %v %+v", err, g)
		}
		reset, err := e.ec2.ResetEbsDefaultKmsKeyId(e.ctx, &ec2.ResetEbsDefaultKmsKeyIdInput{})
		if err != nil || aws.ToString(reset.KmsKeyId) != alias {
			t.Fatalf("reset: %v %+v", err, reset)
		}
		dis, err := e.ec2.DisableEbsEncryptionByDefault(e.ctx, &ec2.DisableEbsEncryptionByDefaultInput{})
		if err != nil || aws.ToBool(dis.EbsEncryptionByDefault) {
			t.Fatalf("disable: %v %+v", err, dis)
		}
		check(t, ec2.CreateVolumeInput{}, "", false, "")
	})
}

// ebsSnapshotDone creates a snapshot of a new volume and waits for it.
func ebsSnapshotDone(t *testing.T, e *testEnv, c *ec2.Client) string {
	t.Helper()
	vol, err := c.CreateVolume(e.ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(3)})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := c.CreateSnapshot(e.ctx, &ec2.CreateSnapshotInput{VolumeId: vol.VolumeId})
	if err != nil {
		t.Fatal(err)
	}
	waitSnapshot(t, e, c, *snap.SnapshotId)
	return *snap.SnapshotId
}

func waitSnapshot(t *testing.T, e *testEnv, c *ec2.Client, id string) types.Snapshot {
	t.Helper()
	deadline := time.Now().Add(6 * time.Second)
	for {
		out, err := c.DescribeSnapshots(e.ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{id}})
		if err != nil {
			t.Fatal(err)
		}
		if out.Snapshots[0].State == types.SnapshotStateCompleted {
			return out.Snapshots[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("snapshot %s never completed", id)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestSnapshotSharing(t *testing.T) {
	e := newEnv(t, "")
	owner := ec2Client(e.url, "us-east-1", ebsOwner)
	peer := ec2Client(e.url, "us-east-1", ebsPeer)
	third := ec2Client(e.url, "us-east-1", "333333333333")
	snap := ebsSnapshotDone(t, e, owner)

	restore := func(c *ec2.Client) error {
		_, err := c.CreateVolume(e.ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), SnapshotId: aws.String(snap)})
		return err
	}
	visible := func(c *ec2.Client, in *ec2.DescribeSnapshotsInput) bool {
		out, err := c.DescribeSnapshots(e.ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(out.Snapshots, func(s types.Snapshot) bool { return *s.SnapshotId == snap })
	}
	perms := func() []types.CreateVolumePermission {
		out, err := owner.DescribeSnapshotAttribute(e.ctx, &ec2.DescribeSnapshotAttributeInput{SnapshotId: aws.String(snap), Attribute: types.SnapshotAttributeNameCreateVolumePermission})
		if err != nil {
			t.Fatal(err)
		}
		return out.CreateVolumePermissions
	}
	modify := func(in ec2.ModifySnapshotAttributeInput) error {
		in.SnapshotId = aws.String(snap)
		_, err := owner.ModifySnapshotAttribute(e.ctx, &in)
		return err
	}

	wantCode(t, restore(peer), "InvalidSnapshot.NotFound")
	if visible(peer, &ec2.DescribeSnapshotsInput{}) || len(perms()) != 0 {
		t.Fatal("snapshot visible before sharing")
	}
	_, err := peer.ModifySnapshotAttribute(e.ctx, &ec2.ModifySnapshotAttributeInput{SnapshotId: aws.String(snap),
		CreateVolumePermission: &types.CreateVolumePermissionModifications{Add: []types.CreateVolumePermission{{UserId: aws.String(ebsPeer)}}}})
	wantCode(t, err, "InvalidSnapshot.NotFound")

	errCases := []struct {
		name string
		in   ec2.ModifySnapshotAttributeInput
		want string
	}{
		{"bad account", ec2.ModifySnapshotAttributeInput{Attribute: types.SnapshotAttributeNameCreateVolumePermission, OperationType: types.OperationTypeAdd, UserIds: []string{"12"}}, "InvalidUserID.Malformed"},
		{"bad group", ec2.ModifySnapshotAttributeInput{Attribute: types.SnapshotAttributeNameCreateVolumePermission, OperationType: types.OperationTypeAdd, GroupNames: []string{"friends"}}, "InvalidParameterValue"},
		{"no operation", ec2.ModifySnapshotAttributeInput{UserIds: []string{ebsPeer}}, "MissingParameter"},
		{"product codes", ec2.ModifySnapshotAttributeInput{Attribute: types.SnapshotAttributeNameProductCodes}, "InvalidParameterValue"},
	}
	for _, c := range errCases {
		t.Run(c.name, func(t *testing.T) { wantCode(t, modify(c.in), c.want) })
	}

	if err := modify(ec2.ModifySnapshotAttributeInput{Attribute: types.SnapshotAttributeNameCreateVolumePermission, OperationType: types.OperationTypeAdd, UserIds: []string{ebsPeer}}); err != nil {
		t.Fatal(err)
	}
	if p := perms(); len(p) != 1 || aws.ToString(p[0].UserId) != ebsPeer {
		t.Fatalf("permissions %+v", p)
	}
	if err := restore(peer); err != nil {
		t.Fatalf("shared snapshot: %v", err)
	}
	wantCode(t, restore(third), "InvalidSnapshot.NotFound")
	if !visible(peer, &ec2.DescribeSnapshotsInput{RestorableByUserIds: []string{"self"}}) || !visible(peer, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{snap}}) {
		t.Fatal("shared snapshot not listed for the peer")
	}
	if visible(peer, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}}) {
		t.Fatal("shared snapshot listed as the peer's own")
	}
	_, err = peer.DescribeSnapshotAttribute(e.ctx, &ec2.DescribeSnapshotAttributeInput{SnapshotId: aws.String(snap), Attribute: types.SnapshotAttributeNameCreateVolumePermission})
	wantCode(t, err, "UnauthorizedOperation")

	if err := modify(ec2.ModifySnapshotAttributeInput{CreateVolumePermission: &types.CreateVolumePermissionModifications{Add: []types.CreateVolumePermission{{Group: types.PermissionGroupAll}}}}); err != nil {
		t.Fatal(err)
	}
	if err := restore(third); err != nil {
		t.Fatalf("public snapshot: %v", err)
	}
	if !visible(third, &ec2.DescribeSnapshotsInput{RestorableByUserIds: []string{"all"}}) {
		t.Fatal("public snapshot not listed for restorable-by all")
	}
	if _, err := owner.ResetSnapshotAttribute(e.ctx, &ec2.ResetSnapshotAttributeInput{SnapshotId: aws.String(snap), Attribute: types.SnapshotAttributeNameCreateVolumePermission}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, restore(peer), "InvalidSnapshot.NotFound")
	wantCode(t, restore(third), "InvalidSnapshot.NotFound")
	if len(perms()) != 0 {
		t.Fatal("permissions left after reset")
	}
}

func TestCopySnapshot(t *testing.T) {
	e := newEnv(t, "")
	snap := ebsSnapshotDone(t, e, e.ec2)
	west := ec2Client(e.url, "us-west-2", "test")
	cases := []struct {
		name      string
		client    *ec2.Client
		in        ec2.CopySnapshotInput
		wantErr   string
		encrypted bool
		desc      string
	}{
		{name: "same region", client: e.ec2, in: ec2.CopySnapshotInput{SourceRegion: aws.String("us-east-1"), SourceSnapshotId: aws.String(snap)},
			desc: "[Copied " + snap + " from us-east-1]"},
		{name: "other region", client: west, in: ec2.CopySnapshotInput{SourceRegion: aws.String("us-east-1"), SourceSnapshotId: aws.String(snap), Description: aws.String("west copy")},
			desc: "west copy"},
		{name: "encrypted copy", client: e.ec2, in: ec2.CopySnapshotInput{SourceRegion: aws.String("us-east-1"), SourceSnapshotId: aws.String(snap), Encrypted: aws.Bool(true)},
			encrypted: true, desc: "[Copied " + snap + " from us-east-1]"},
		{name: "key without Encrypted", client: e.ec2, in: ec2.CopySnapshotInput{SourceRegion: aws.String("us-east-1"), SourceSnapshotId: aws.String(snap), KmsKeyId: aws.String("alias/k")},
			wantErr: "InvalidParameterDependency"},
		{name: "wrong source region", client: e.ec2, in: ec2.CopySnapshotInput{SourceRegion: aws.String("eu-west-1"), SourceSnapshotId: aws.String(snap)},
			wantErr: "InvalidSnapshot.NotFound"},
		{name: "unknown snapshot", client: e.ec2, in: ec2.CopySnapshotInput{SourceRegion: aws.String("us-east-1"), SourceSnapshotId: aws.String("snap-0123456789abcdef0")},
			wantErr: "InvalidSnapshot.NotFound"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := c.client.CopySnapshot(e.ctx, &c.in)
			if c.wantErr != "" {
				wantCode(t, err, c.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			cp := waitSnapshot(t, e, c.client, *out.SnapshotId)
			if *cp.SnapshotId == snap || aws.ToBool(cp.Encrypted) != c.encrypted || aws.ToString(cp.Description) != c.desc ||
				aws.ToInt32(cp.VolumeSize) != 3 || aws.ToString(cp.VolumeId) != "vol-ffffffff" {
				t.Fatalf("copy %+v", cp)
			}
		})
	}
}

func TestCreateSnapshots(t *testing.T) {
	e := newEnv(t, "")
	inst := ebsRunInstance(t, e)
	data := ebsCreate(t, e, &ec2.CreateVolumeInput{Size: aws.Int32(2), TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVolume, Tags: []types.Tag{{Key: aws.String("role"), Value: aws.String("data")}}}}})
	ebsWait(t, e, *data.VolumeId, "available", func(v types.Volume) bool { return v.State == types.VolumeStateAvailable })
	if _, err := e.ec2.AttachVolume(e.ctx, &ec2.AttachVolumeInput{VolumeId: data.VolumeId, InstanceId: inst.InstanceId, Device: aws.String("/dev/sdf")}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		spec    types.InstanceSpecification
		copy    types.CopyTagsFromSource
		want    int
		tagged  bool
		wantErr string
	}{
		{name: "all volumes", spec: types.InstanceSpecification{InstanceId: inst.InstanceId}, want: 2},
		{name: "without boot", spec: types.InstanceSpecification{InstanceId: inst.InstanceId, ExcludeBootVolume: aws.Bool(true)}, want: 1, copy: types.CopyTagsFromSourceVolume, tagged: true},
		{name: "boot only", spec: types.InstanceSpecification{InstanceId: inst.InstanceId, ExcludeDataVolumeIds: []string{*data.VolumeId}}, want: 1},
		{name: "nothing left", spec: types.InstanceSpecification{InstanceId: inst.InstanceId, ExcludeBootVolume: aws.Bool(true), ExcludeDataVolumeIds: []string{*data.VolumeId}}, wantErr: "InvalidParameterValue"},
		{name: "unknown instance", spec: types.InstanceSpecification{InstanceId: aws.String("i-0123456789abcdef0")}, wantErr: "InvalidInstanceID.NotFound"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := e.ec2.CreateSnapshots(e.ctx, &ec2.CreateSnapshotsInput{InstanceSpecification: &c.spec, CopyTagsFromSource: c.copy, Description: aws.String("multi")})
			if c.wantErr != "" {
				wantCode(t, err, c.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Snapshots) != c.want {
				t.Fatalf("%d snapshots, want %d", len(out.Snapshots), c.want)
			}
			for _, s := range out.Snapshots {
				if aws.ToString(s.Description) != "multi" || s.State != types.SnapshotStatePending {
					t.Fatalf("snapshot %+v", s)
				}
				if c.tagged != slices.ContainsFunc(s.Tags, func(tg types.Tag) bool { return aws.ToString(tg.Key) == "role" }) {
					t.Fatalf("tags %+v", s.Tags)
				}
			}
		})
	}
}

// ebsOwnImage copies the built-in AL2023 image into c's account and waits
// for the copy to be available.
func ebsOwnImage(t *testing.T, e *testEnv, c *ec2.Client) string {
	t.Helper()
	imgs := imgDescribe(t, c, e, &ec2.DescribeImagesInput{Owners: []string{"amazon"}, Filters: []types.Filter{imgFilter("name", "al2023-ami-2023*-x86_64")}})
	out, err := c.CopyImage(e.ctx, &ec2.CopyImageInput{SourceImageId: imgs[0].ImageId, SourceRegion: aws.String("us-east-1"), Name: aws.String("copied-al2023"), Description: aws.String("mine")})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(6 * time.Second)
	for {
		d, err := c.DescribeImages(e.ctx, &ec2.DescribeImagesInput{ImageIds: []string{*out.ImageId}})
		if err != nil {
			t.Fatal(err)
		}
		img := d.Images[0]
		if img.State == types.ImageStateAvailable {
			if aws.ToString(img.OwnerId) == aws.ToString(imgs[0].OwnerId) || aws.ToString(img.Description) != "mine" || len(img.BlockDeviceMappings) == 0 ||
				aws.ToString(img.BlockDeviceMappings[0].Ebs.SnapshotId) == aws.ToString(imgs[0].BlockDeviceMappings[0].Ebs.SnapshotId) {
				t.Fatalf("copy %+v", img)
			}
			return *out.ImageId
		}
		if time.Now().After(deadline) {
			t.Fatalf("image %s never available", *out.ImageId)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestImageSharing(t *testing.T) {
	e := newEnv(t, "")
	owner := ec2Client(e.url, "us-east-1", ebsOwner)
	peer := ec2Client(e.url, "us-east-1", ebsPeer)
	img := ebsOwnImage(t, e, owner)

	launch := func(c *ec2.Client) error {
		_, err := c.RunInstances(e.ctx, &ec2.RunInstancesInput{ImageId: aws.String(img), InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
		return err
	}
	listed := func(c *ec2.Client, in *ec2.DescribeImagesInput) bool {
		out, err := c.DescribeImages(e.ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(out.Images, func(i types.Image) bool { return *i.ImageId == img })
	}
	modify := func(in ec2.ModifyImageAttributeInput) error {
		in.ImageId = aws.String(img)
		_, err := owner.ModifyImageAttribute(e.ctx, &in)
		return err
	}
	perms := func() []types.LaunchPermission {
		out, err := owner.DescribeImageAttribute(e.ctx, &ec2.DescribeImageAttributeInput{ImageId: aws.String(img), Attribute: types.ImageAttributeNameLaunchPermission})
		if err != nil {
			t.Fatal(err)
		}
		return out.LaunchPermissions
	}

	wantCode(t, launch(peer), "InvalidAMIID.NotFound")
	if listed(peer, &ec2.DescribeImagesInput{}) {
		t.Fatal("image listed for the peer before sharing")
	}
	errCases := []struct {
		name string
		in   ec2.ModifyImageAttributeInput
		want string
	}{
		{"bad account", ec2.ModifyImageAttributeInput{LaunchPermission: &types.LaunchPermissionModifications{Add: []types.LaunchPermission{{UserId: aws.String("abc")}}}}, "InvalidAMIAttributeItemValue"},
		{"bad group", ec2.ModifyImageAttributeInput{Attribute: aws.String("launchPermission"), OperationType: types.OperationTypeAdd, UserGroups: []string{"everyone"}}, "InvalidAMIAttributeItemValue"},
		{"nothing", ec2.ModifyImageAttributeInput{}, "MissingParameter"},
	}
	for _, c := range errCases {
		t.Run(c.name, func(t *testing.T) { wantCode(t, modify(c.in), c.want) })
	}
	if err := modify(ec2.ModifyImageAttributeInput{Attribute: aws.String("launchPermission"), OperationType: types.OperationTypeAdd, UserIds: []string{ebsPeer}}); err != nil {
		t.Fatal(err)
	}
	if p := perms(); len(p) != 1 || aws.ToString(p[0].UserId) != ebsPeer {
		t.Fatalf("launch permissions %+v", p)
	}
	if err := launch(peer); err != nil {
		t.Fatalf("shared image: %v", err)
	}
	for _, in := range []*ec2.DescribeImagesInput{{}, {ExecutableUsers: []string{"self"}}, {ImageIds: []string{img}}, {Owners: []string{ebsOwner}}} {
		if !listed(peer, in) {
			t.Fatalf("shared image not listed for the peer with %+v", in)
		}
	}
	if !listed(owner, &ec2.DescribeImagesInput{ExecutableUsers: []string{ebsPeer}}) || listed(owner, &ec2.DescribeImagesInput{ExecutableUsers: []string{"all"}}) {
		t.Fatal("ExecutableUsers of the owner")
	}
	_, err := peer.DescribeImageAttribute(e.ctx, &ec2.DescribeImageAttributeInput{ImageId: aws.String(img), Attribute: types.ImageAttributeNameLaunchPermission})
	wantCode(t, err, "AuthFailure")
	_, err = peer.ModifyImageAttribute(e.ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(img), Description: &types.AttributeValue{Value: aws.String("theirs")}})
	wantCode(t, err, "AuthFailure")

	if err := modify(ec2.ModifyImageAttributeInput{Description: &types.AttributeValue{Value: aws.String("shared image")}}); err != nil {
		t.Fatal(err)
	}
	d, err := peer.DescribeImageAttribute(e.ctx, &ec2.DescribeImageAttributeInput{ImageId: aws.String(img), Attribute: types.ImageAttributeNameDescription})
	if err != nil || aws.ToString(d.Description.Value) != "shared image" {
		t.Fatalf("description: %v %+v", err, d)
	}

	if err := modify(ec2.ModifyImageAttributeInput{LaunchPermission: &types.LaunchPermissionModifications{Add: []types.LaunchPermission{{Group: types.PermissionGroupAll}}, Remove: []types.LaunchPermission{{UserId: aws.String(ebsPeer)}}}}); err != nil {
		t.Fatal(err)
	}
	third := ec2Client(e.url, "us-east-1", "333333333333")
	if !listed(third, &ec2.DescribeImagesInput{ExecutableUsers: []string{"all"}}) || launch(third) != nil {
		t.Fatal("public image not usable by a third account")
	}
	if listed(peer, &ec2.DescribeImagesInput{ExecutableUsers: []string{"self"}}) {
		t.Fatal("removed permission still listed")
	}
	_, err = owner.ResetImageAttribute(e.ctx, &ec2.ResetImageAttributeInput{ImageId: aws.String(img), Attribute: types.ResetImageAttributeNameLaunchPermission})
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, launch(third), "InvalidAMIID.NotFound")
	if p := perms(); len(p) != 0 {
		t.Fatalf("permissions after reset: %+v", p)
	}
	if !strings.HasPrefix(img, "ami-") {
		t.Fatal(img)
	}
}
