package ec2_test

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// ebsCreate creates a volume in us-east-1a unless in says otherwise.
func ebsCreate(t *testing.T, e *testEnv, in *ec2.CreateVolumeInput) *ec2.CreateVolumeOutput {
	t.Helper()
	if in.AvailabilityZone == nil {
		in.AvailabilityZone = aws.String("us-east-1a")
	}
	out, err := e.ec2.CreateVolume(e.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ebsVolume describes one volume.
func ebsVolume(t *testing.T, e *testEnv, id string) types.Volume {
	t.Helper()
	out, err := e.ec2.DescribeVolumes(e.ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Volumes[0]
}

// ebsWait polls until cond holds for the volume, for up to 5 s.
func ebsWait(t *testing.T, e *testEnv, id string, what string, cond func(types.Volume) bool) types.Volume {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		v := ebsVolume(t, e, id)
		if cond(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("volume %s never became %s: %+v", id, what, v)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ebsRunInstance launches a t3.micro in us-east-1a from the built-in AL2023
// image and waits for it to run; it skips the test while RunInstances is not
// available.
func ebsRunInstance(t *testing.T, e *testEnv) types.Instance {
	t.Helper()
	imgs := imgDescribe(t, e.ec2, e, &ec2.DescribeImagesInput{Owners: []string{"amazon"},
		Filters: []types.Filter{imgFilter("name", "al2023-ami-2023*-x86_64")}})
	out, err := e.ec2.RunInstances(e.ctx, &ec2.RunInstancesInput{ImageId: imgs[0].ImageId, InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), Placement: &types.Placement{AvailabilityZone: aws.String("us-east-1a")}})
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "NotImplemented" {
		t.Fatal("RunInstances answered NotImplemented")
	}
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.Instances[0].InstanceId)
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, err := e.ec2.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		if err != nil {
			t.Fatal(err)
		}
		inst := d.Reservations[0].Instances[0]
		if inst.State != nil && inst.State.Name == types.InstanceStateNameRunning {
			return inst
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance %s did not reach running (state %v)", id, inst.State)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestCreateVolumeValidation(t *testing.T) {
	e := newEnv(t, "")
	i32 := aws.Int32
	cases := []struct {
		name       string
		in         ec2.CreateVolumeInput
		wantErr    string
		iops, tput int32 // expected; 0 = absent
	}{
		{name: "gp2 default type", in: ec2.CreateVolumeInput{Size: i32(10)}, iops: 100},
		{name: "gp2 3 IOPS per GiB", in: ec2.CreateVolumeInput{Size: i32(1000), VolumeType: types.VolumeTypeGp2}, iops: 3000},
		{name: "gp2 capped", in: ec2.CreateVolumeInput{Size: i32(16384), VolumeType: types.VolumeTypeGp2}, iops: 16000},
		{name: "gp2 iops not settable", in: ec2.CreateVolumeInput{Size: i32(10), VolumeType: types.VolumeTypeGp2, Iops: i32(300)}, wantErr: "InvalidParameterCombination"},
		{name: "gp2 too big", in: ec2.CreateVolumeInput{Size: i32(16385), VolumeType: types.VolumeTypeGp2}, wantErr: "InvalidParameterValue"},
		{name: "gp2 zero", in: ec2.CreateVolumeInput{Size: i32(0), VolumeType: types.VolumeTypeGp2}, wantErr: "InvalidParameterValue"},
		{name: "gp3 defaults", in: ec2.CreateVolumeInput{Size: i32(1), VolumeType: types.VolumeTypeGp3}, iops: 3000, tput: 125},
		{name: "gp3 max", in: ec2.CreateVolumeInput{Size: i32(32), VolumeType: types.VolumeTypeGp3, Iops: i32(16000), Throughput: i32(1000)}, iops: 16000, tput: 1000},
		{name: "gp3 iops too low", in: ec2.CreateVolumeInput{Size: i32(100), VolumeType: types.VolumeTypeGp3, Iops: i32(2999)}, wantErr: "InvalidParameterValue"},
		{name: "gp3 iops too high", in: ec2.CreateVolumeInput{Size: i32(100), VolumeType: types.VolumeTypeGp3, Iops: i32(16001)}, wantErr: "InvalidParameterValue"},
		{name: "gp3 500 per GiB", in: ec2.CreateVolumeInput{Size: i32(10), VolumeType: types.VolumeTypeGp3, Iops: i32(5001)}, wantErr: "InvalidParameterValue"},
		{name: "gp3 throughput too high", in: ec2.CreateVolumeInput{Size: i32(100), VolumeType: types.VolumeTypeGp3, Iops: i32(16000), Throughput: i32(1001)}, wantErr: "InvalidParameterValue"},
		{name: "gp3 throughput too low", in: ec2.CreateVolumeInput{Size: i32(100), VolumeType: types.VolumeTypeGp3, Throughput: i32(124)}, wantErr: "InvalidParameterValue"},
		{name: "gp3 throughput per IOPS", in: ec2.CreateVolumeInput{Size: i32(100), VolumeType: types.VolumeTypeGp3, Throughput: i32(751)}, wantErr: "InvalidParameterValue"},
		{name: "io1", in: ec2.CreateVolumeInput{Size: i32(100), VolumeType: types.VolumeTypeIo1, Iops: i32(5000)}, iops: 5000},
		{name: "io1 needs iops", in: ec2.CreateVolumeInput{Size: i32(100), VolumeType: types.VolumeTypeIo1}, wantErr: "InvalidParameterCombination"},
		{name: "io1 50 per GiB", in: ec2.CreateVolumeInput{Size: i32(100), VolumeType: types.VolumeTypeIo1, Iops: i32(5001)}, wantErr: "InvalidParameterValue"},
		{name: "io1 too small", in: ec2.CreateVolumeInput{Size: i32(3), VolumeType: types.VolumeTypeIo1, Iops: i32(100)}, wantErr: "InvalidParameterValue"},
		{name: "io1 iops too low", in: ec2.CreateVolumeInput{Size: i32(100), VolumeType: types.VolumeTypeIo1, Iops: i32(99)}, wantErr: "InvalidParameterValue"},
		{name: "io2 500 per GiB", in: ec2.CreateVolumeInput{Size: i32(100), VolumeType: types.VolumeTypeIo2, Iops: i32(50000)}, iops: 50000},
		{name: "io2 over 64000", in: ec2.CreateVolumeInput{Size: i32(1000), VolumeType: types.VolumeTypeIo2, Iops: i32(64001)}, wantErr: "InvalidParameterValue"},
		{name: "st1", in: ec2.CreateVolumeInput{Size: i32(125), VolumeType: types.VolumeTypeSt1}},
		{name: "st1 too small", in: ec2.CreateVolumeInput{Size: i32(124), VolumeType: types.VolumeTypeSt1}, wantErr: "InvalidParameterValue"},
		{name: "sc1 no iops", in: ec2.CreateVolumeInput{Size: i32(500), VolumeType: types.VolumeTypeSc1, Iops: i32(100)}, wantErr: "InvalidParameterCombination"},
		{name: "standard", in: ec2.CreateVolumeInput{Size: i32(1024), VolumeType: types.VolumeTypeStandard}},
		{name: "standard too big", in: ec2.CreateVolumeInput{Size: i32(1025), VolumeType: types.VolumeTypeStandard}, wantErr: "InvalidParameterValue"},
		{name: "throughput only gp3", in: ec2.CreateVolumeInput{Size: i32(100), VolumeType: types.VolumeTypeIo1, Iops: i32(100), Throughput: i32(200)}, wantErr: "InvalidParameterCombination"},
		{name: "unknown type", in: ec2.CreateVolumeInput{Size: i32(10), VolumeType: "gp9"}, wantErr: "InvalidParameterValue"},
		{name: "no size", in: ec2.CreateVolumeInput{}, wantErr: "MissingParameter"},
		{name: "unknown zone", in: ec2.CreateVolumeInput{Size: i32(10), AvailabilityZone: aws.String("us-east-1z")}, wantErr: "InvalidZone.NotFound"},
		{name: "unknown snapshot", in: ec2.CreateVolumeInput{SnapshotId: aws.String("snap-0123456789abcdef0")}, wantErr: "InvalidSnapshot.NotFound"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.AvailabilityZone == nil {
				in.AvailabilityZone = aws.String("us-east-1a")
			}
			out, err := e.ec2.CreateVolume(e.ctx, &in)
			if tc.wantErr != "" {
				wantCode(t, err, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToInt32(out.Iops) != tc.iops || aws.ToInt32(out.Throughput) != tc.tput {
				t.Errorf("iops %d throughput %d, want %d %d", aws.ToInt32(out.Iops), aws.ToInt32(out.Throughput), tc.iops, tc.tput)
			}
			if out.State != types.VolumeStateCreating || aws.ToInt32(out.Size) != aws.ToInt32(in.Size) {
				t.Errorf("volume %+v", out)
			}
		})
	}
}

func TestVolumeLifecycleAndDescribe(t *testing.T) {
	e := newEnv(t, "")
	v := ebsCreate(t, e, &ec2.CreateVolumeInput{Size: aws.Int32(20), VolumeType: types.VolumeTypeGp3, Encrypted: aws.Bool(true),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVolume, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("data")}}}}})
	id := aws.ToString(v.VolumeId)
	if v.State != types.VolumeStateCreating || !aws.ToBool(v.Encrypted) || aws.ToString(v.KmsKeyId) == "" || len(v.Tags) != 1 {
		t.Fatalf("created %+v", v)
	}
	ebsWait(t, e, id, "available", func(v types.Volume) bool { return v.State == types.VolumeStateAvailable })
	ebsCreate(t, e, &ec2.CreateVolumeInput{Size: aws.Int32(5), AvailabilityZone: aws.String("us-east-1b")})
	ebsCreate(t, e, &ec2.CreateVolumeInput{Size: aws.Int32(5), AvailabilityZone: aws.String("us-east-1b")})

	count := func(fs ...types.Filter) int {
		t.Helper()
		out, err := e.ec2.DescribeVolumes(e.ctx, &ec2.DescribeVolumesInput{Filters: fs})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Volumes)
	}
	for name, tc := range map[string]struct {
		f    []types.Filter
		want int
	}{
		"all":        {nil, 3},
		"zone":       {[]types.Filter{imgFilter("availability-zone", "us-east-1b")}, 2},
		"size":       {[]types.Filter{imgFilter("size", "20")}, 1},
		"type":       {[]types.Filter{imgFilter("volume-type", "gp3")}, 1},
		"encrypted":  {[]types.Filter{imgFilter("encrypted", "false")}, 2},
		"tag":        {[]types.Filter{imgFilter("tag:Name", "data")}, 1},
		"status":     {[]types.Filter{imgFilter("status", "available")}, 1},
		"volume-id":  {[]types.Filter{imgFilter("volume-id", id)}, 1},
		"attachment": {[]types.Filter{imgFilter("attachment.instance-id", "i-*")}, 0},
		"create":     {[]types.Filter{imgFilter("create-time", "20*")}, 3},
	} {
		if got := count(tc.f...); got != tc.want {
			t.Errorf("%s: %d volumes, want %d", name, got, tc.want)
		}
	}
	_, err := e.ec2.DescribeVolumes(e.ctx, &ec2.DescribeVolumesInput{Filters: []types.Filter{imgFilter("colour", "red")}})
	wantCode(t, err, "InvalidParameterValue")
	_, err = e.ec2.DescribeVolumes(e.ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{"vol-0123456789abcdef0"}})
	wantCode(t, err, "InvalidVolume.NotFound")
	_, err = e.ec2.DescribeVolumes(e.ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{"volume-1"}})
	wantCode(t, err, "InvalidVolumeID.Malformed")

	// Pages of at least 5.
	for i := 0; i < 4; i++ {
		ebsCreate(t, e, &ec2.CreateVolumeInput{Size: aws.Int32(1)})
	}
	var n int
	p := ec2.NewDescribeVolumesPaginator(e.ec2, &ec2.DescribeVolumesInput{MaxResults: aws.Int32(5)})
	for p.HasMorePages() {
		out, err := p.NextPage(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(out.Volumes)
	}
	if n != 7 {
		t.Errorf("paged %d volumes, want 7", n)
	}
	_, err = e.ec2.DescribeVolumes(e.ctx, &ec2.DescribeVolumesInput{MaxResults: aws.Int32(4)})
	wantCode(t, err, "InvalidParameterValue")

	if _, err := e.ec2.DeleteVolume(e.ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.ec2.DeleteVolume(e.ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(id)})
	wantCode(t, err, "InvalidVolume.NotFound")
}

func TestAttachDetachVolume(t *testing.T) {
	// The test runtime (runtime_test.go) makes instances run.
	e := newEnvWithRuntime(t, "", instNewTestRuntime())
	inst := ebsRunInstance(t, e)
	instID := aws.ToString(inst.InstanceId)
	if len(inst.BlockDeviceMappings) == 0 {
		t.Fatalf("instance has no root volume: %+v", inst)
	}
	rootVol := aws.ToString(inst.BlockDeviceMappings[0].Ebs.VolumeId)

	v := ebsCreate(t, e, &ec2.CreateVolumeInput{Size: aws.Int32(10)})
	id := aws.ToString(v.VolumeId)
	_, err := e.ec2.AttachVolume(e.ctx, &ec2.AttachVolumeInput{VolumeId: v.VolumeId, InstanceId: inst.InstanceId, Device: aws.String("/dev/sdf")})
	wantCode(t, err, "IncorrectState") // still creating
	ebsWait(t, e, id, "available", func(v types.Volume) bool { return v.State == types.VolumeStateAvailable })

	other := ebsCreate(t, e, &ec2.CreateVolumeInput{Size: aws.Int32(10), AvailabilityZone: aws.String("us-east-1b")})
	ebsWait(t, e, aws.ToString(other.VolumeId), "available", func(v types.Volume) bool { return v.State == types.VolumeStateAvailable })
	_, err = e.ec2.AttachVolume(e.ctx, &ec2.AttachVolumeInput{VolumeId: other.VolumeId, InstanceId: inst.InstanceId, Device: aws.String("/dev/sdg")})
	wantCode(t, err, "InvalidVolume.ZoneMismatch")
	_, err = e.ec2.AttachVolume(e.ctx, &ec2.AttachVolumeInput{VolumeId: v.VolumeId, InstanceId: inst.InstanceId, Device: inst.RootDeviceName})
	wantCode(t, err, "InvalidParameterValue")

	att, err := e.ec2.AttachVolume(e.ctx, &ec2.AttachVolumeInput{VolumeId: v.VolumeId, InstanceId: inst.InstanceId, Device: aws.String("/dev/sdf")})
	if err != nil {
		t.Fatal(err)
	}
	if att.State != types.VolumeAttachmentStateAttaching || aws.ToString(att.Device) != "/dev/sdf" || aws.ToString(att.InstanceId) != instID {
		t.Errorf("attachment %+v", att)
	}
	ebsWait(t, e, id, "attached", func(v types.Volume) bool {
		return v.State == types.VolumeStateInUse && len(v.Attachments) == 1 && v.Attachments[0].State == types.VolumeAttachmentStateAttached
	})
	out, err := e.ec2.DescribeVolumes(e.ctx, &ec2.DescribeVolumesInput{Filters: []types.Filter{imgFilter("attachment.instance-id", instID)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Volumes) != 2 { // the root volume and this one
		t.Errorf("%d volumes attached to %s, want 2", len(out.Volumes), instID)
	}
	_, err = e.ec2.AttachVolume(e.ctx, &ec2.AttachVolumeInput{VolumeId: v.VolumeId, InstanceId: inst.InstanceId, Device: aws.String("/dev/sdh")})
	wantCode(t, err, "VolumeInUse")
	_, err = e.ec2.DeleteVolume(e.ctx, &ec2.DeleteVolumeInput{VolumeId: v.VolumeId})
	wantCode(t, err, "VolumeInUse")
	_, err = e.ec2.DetachVolume(e.ctx, &ec2.DetachVolumeInput{VolumeId: aws.String(rootVol)})
	wantCode(t, err, "IncorrectState")
	_, err = e.ec2.DetachVolume(e.ctx, &ec2.DetachVolumeInput{VolumeId: v.VolumeId, InstanceId: aws.String("i-0123456789abcdef0")})
	wantCode(t, err, "InvalidAttachment.NotFound")

	det, err := e.ec2.DetachVolume(e.ctx, &ec2.DetachVolumeInput{VolumeId: v.VolumeId, Force: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if det.State != types.VolumeAttachmentStateDetaching {
		t.Errorf("detach %+v", det)
	}
	ebsWait(t, e, id, "available again", func(v types.Volume) bool { return v.State == types.VolumeStateAvailable && len(v.Attachments) == 0 })
	_, err = e.ec2.DetachVolume(e.ctx, &ec2.DetachVolumeInput{VolumeId: v.VolumeId})
	wantCode(t, err, "IncorrectState")
	if _, err := e.ec2.DeleteVolume(e.ctx, &ec2.DeleteVolumeInput{VolumeId: v.VolumeId}); err != nil {
		t.Fatal(err)
	}
}
