package ec2_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// TestRegisterImageChecks pins RegisterImage's errors with their messages
// and the defaults a mapping gets from its snapshot.
func TestRegisterImageChecks(t *testing.T) {
	e := newEnv(t, "")
	vol := ebsCreate(t, e, &ec2.CreateVolumeInput{Size: aws.Int32(12), Encrypted: aws.Bool(true)})
	snap, err := e.ec2.CreateSnapshot(e.ctx, &ec2.CreateSnapshotInput{VolumeId: vol.VolumeId})
	if err != nil {
		t.Fatal(err)
	}
	root := func(snapID *string) []types.BlockDeviceMapping {
		return []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: &types.EbsBlockDevice{SnapshotId: snapID}}}
	}
	tests := []struct {
		name      string
		in        ec2.RegisterImageInput
		code, msg string
	}{
		{"tags before architecture", ec2.RegisterImageInput{Name: aws.String("a-1"), Architecture: "sparc",
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSnapshot, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}}}},
			"InvalidParameterValue", "'snapshot' is not a valid taggable resource type for this operation."},
		{"architecture", ec2.RegisterImageInput{Name: aws.String("a-1"), Architecture: "sparc"},
			"InvalidParameterValue", "Value (sparc) for parameter architecture is invalid."},
		{"virtualization", ec2.RegisterImageInput{Name: aws.String("a-1"), VirtualizationType: aws.String("xen")},
			"InvalidParameterValue", "Value (xen) for parameter virtualizationType is invalid."},
		{"no name", ec2.RegisterImageInput{Name: aws.String(""), RootDeviceName: aws.String("/dev/xvda")},
			"MissingParameter", "The request must contain the parameter name"},
		{"no root device", ec2.RegisterImageInput{Name: aws.String("a-1")},
			"MissingParameter", "The request must contain the parameter rootDeviceName"},
		{"root without a snapshot", ec2.RegisterImageInput{Name: aws.String("a-1"), RootDeviceName: aws.String("/dev/xvda"),
			BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/sdf"), Ebs: &types.EbsBlockDevice{SnapshotId: snap.SnapshotId}}}},
			"InvalidBlockDeviceMapping", "The device name /dev/xvda must be given a snapshot in the block device mappings, as the root device of an EBS-backed image."},
		{"unknown snapshot", ec2.RegisterImageInput{Name: aws.String("a-1"), RootDeviceName: aws.String("/dev/xvda"), BlockDeviceMappings: root(aws.String("snap-0123456789abcdef0"))},
			"InvalidSnapshot.NotFound", "The snapshot 'snap-0123456789abcdef0' does not exist"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.ec2.RegisterImage(e.ctx, &tc.in)
			wantError(t, err, tc.code, tc.msg)
		})
	}
	out, err := e.ec2.RegisterImage(e.ctx, &ec2.RegisterImageInput{Name: aws.String("defaults"), RootDeviceName: aws.String("/dev/xvda"),
		BlockDeviceMappings: append(root(snap.SnapshotId), types.BlockDeviceMapping{DeviceName: aws.String("/dev/sdb"), VirtualName: aws.String("ephemeral0")})})
	if err != nil {
		t.Fatal(err)
	}
	img := imgDescribe(t, e.ec2, e, &ec2.DescribeImagesInput{ImageIds: []string{aws.ToString(out.ImageId)}})[0]
	if img.Architecture != types.ArchitectureValuesX8664 || img.VirtualizationType != types.VirtualizationTypeParavirtual ||
		aws.ToString(img.ImageLocation) != "000000000000/defaults" || img.State != types.ImageStateAvailable || len(img.BlockDeviceMappings) != 2 {
		t.Fatalf("image %+v", img)
	}
	if b := img.BlockDeviceMappings[0].Ebs; aws.ToInt32(b.VolumeSize) != 12 || !aws.ToBool(b.Encrypted) || b.VolumeType != types.VolumeTypeGp2 || !aws.ToBool(b.DeleteOnTermination) {
		t.Errorf("root mapping %+v", b)
	}
	if b := img.BlockDeviceMappings[1]; b.Ebs != nil || aws.ToString(b.VirtualName) != "ephemeral0" {
		t.Errorf("instance-store mapping %+v", b)
	}
}

// TestCreateImageMappings checks the order of CreateImage's checks and how
// the request's mappings change the instance's: a size, a type, removal
// with NoDevice, and a new device.
func TestCreateImageMappings(t *testing.T) {
	e := newEnvWithRuntime(t, "", instNewTestRuntime())
	inst := instRun(t, e, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro, BlockDeviceMappings: []types.BlockDeviceMapping{
		{DeviceName: aws.String("/dev/sdf"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(4), VolumeType: types.VolumeTypeGp3}},
		{DeviceName: aws.String("/dev/sdg"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(2)}},
	}})
	id := aws.ToString(inst.InstanceId)
	// A pending instance cannot be imaged, whatever its name. The test
	// runtime boots fast: an instance already running answers for its name
	// (then it must be running after the call too).
	_, err := e.ec2.CreateImage(e.ctx, &ec2.CreateImageInput{InstanceId: aws.String(id), Name: aws.String("x")})
	if ae := (smithy.APIError)(nil); errors.As(err, &ae) && ae.ErrorCode() == "InvalidAMIName.Malformed" {
		if st := instDescribe(t, e, id).State.Name; st != types.InstanceStateNameRunning {
			t.Fatalf("a %s instance answered for its image's name, want IncorrectInstanceState first", st)
		}
	} else {
		wantError(t, err, "IncorrectInstanceState", "The instance '"+id+"' is not in a state from which it can be imaged.")
	}
	instWaitState(t, e, id, "running")
	_, err = e.ec2.CreateImage(e.ctx, &ec2.CreateImageInput{InstanceId: aws.String(id), Name: aws.String("x")})
	wantError(t, err, "InvalidAMIName.Malformed", "AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/' and '_'")
	_, err = e.ec2.CreateImage(e.ctx, &ec2.CreateImageInput{InstanceId: aws.String(id), Name: aws.String("tagged"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVolume}}})
	wantError(t, err, "InvalidParameterValue", "'volume' is not a valid taggable resource type for this operation.")
	out, err := e.ec2.CreateImage(e.ctx, &ec2.CreateImageInput{InstanceId: aws.String(id), Name: aws.String("mapped"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeImage, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}},
		BlockDeviceMappings: []types.BlockDeviceMapping{
			{DeviceName: aws.String("/dev/sdf"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(6), VolumeType: types.VolumeTypeIo1, DeleteOnTermination: aws.Bool(false)}},
			{DeviceName: aws.String("/dev/sdg"), NoDevice: aws.String("")},
			{DeviceName: aws.String("/dev/sdh"), VirtualName: aws.String("ephemeral0")},
			{DeviceName: aws.String("/dev/sdz"), NoDevice: aws.String("")},
		}})
	if err != nil {
		t.Fatal(err)
	}
	img := imgDescribe(t, e.ec2, e, &ec2.DescribeImagesInput{ImageIds: []string{aws.ToString(out.ImageId)}})[0]
	var got []string
	for _, b := range img.BlockDeviceMappings {
		s := aws.ToString(b.DeviceName)
		if b.Ebs != nil {
			s += fmt.Sprintf(" %s %dG delete=%t", b.Ebs.VolumeType, aws.ToInt32(b.Ebs.VolumeSize), aws.ToBool(b.Ebs.DeleteOnTermination))
			if b.Ebs.SnapshotId == nil {
				s += " no-snapshot"
			}
		} else {
			s += " " + aws.ToString(b.VirtualName)
		}
		got = append(got, s)
	}
	want := []string{"/dev/xvda gp3 8G delete=true", "/dev/sdf io1 6G delete=false", "/dev/sdh ephemeral0"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("mappings\n got %q\nwant %q", got, want)
	}
	if img.State != types.ImageStatePending || aws.ToString(img.SourceInstanceId) != id || img.Architecture != types.ArchitectureValuesX8664 ||
		aws.ToString(img.RootDeviceName) != "/dev/xvda" || img.BootMode == "" || aws.ToString(img.ImageLocation) != "000000000000/mapped" || len(img.Tags) != 1 {
		t.Errorf("image %+v", img)
	}
}
