package ec2_test

import (
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func imgDescribe(t *testing.T, c *ec2.Client, e *testEnv, in *ec2.DescribeImagesInput) []types.Image {
	t.Helper()
	out, err := c.DescribeImages(e.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return out.Images
}

func imgNames(imgs []types.Image) []string {
	var out []string
	for _, i := range imgs {
		out = append(out, aws.ToString(i.Name))
	}
	sort.Strings(out)
	return out
}

func imgFilter(name string, values ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: values}
}

func TestBuiltinImageCatalogue(t *testing.T) {
	e := newEnv(t, "")
	al := imgDescribe(t, e.ec2, e, &ec2.DescribeImagesInput{Owners: []string{"amazon"},
		Filters: []types.Filter{imgFilter("name", "al2023-ami-2023*-x86_64")}})
	if got := imgNames(al); !slices.Equal(got, []string{"al2023-ami-2023.6.20250101.0-kernel-6.1-x86_64"}) {
		t.Fatalf("al2023 x86_64: %v", got)
	}
	img := al[0]
	if aws.ToString(img.OwnerId) != "137112412989" || aws.ToString(img.ImageOwnerAlias) != "amazon" || aws.ToString(img.RootDeviceName) != "/dev/xvda" ||
		img.RootDeviceType != types.DeviceTypeEbs || img.VirtualizationType != types.VirtualizationTypeHvm || !aws.ToBool(img.EnaSupport) ||
		img.State != types.ImageStateAvailable || !aws.ToBool(img.Public) || aws.ToString(img.PlatformDetails) != "Linux/UNIX" ||
		aws.ToString(img.UsageOperation) != "RunInstances" || img.Hypervisor != types.HypervisorTypeXen || img.Architecture != types.ArchitectureValuesX8664 ||
		aws.ToString(img.CreationDate) == "" || !strings.HasPrefix(aws.ToString(img.ImageLocation), "amazon/") {
		t.Errorf("al2023: %+v", img)
	}
	if len(img.BlockDeviceMappings) != 1 || aws.ToInt32(img.BlockDeviceMappings[0].Ebs.VolumeSize) != 8 || img.BlockDeviceMappings[0].Ebs.VolumeType != types.VolumeTypeGp3 ||
		!strings.HasPrefix(aws.ToString(img.BlockDeviceMappings[0].Ebs.SnapshotId), "snap-") {
		t.Errorf("al2023 mappings: %+v", img.BlockDeviceMappings)
	}
	id := aws.ToString(img.ImageId)
	if len(id) != len("ami-")+17 {
		t.Errorf("image id %s", id)
	}

	// The IDs are stable: another minicloud finds the same, another region a
	// different one.
	e2 := newEnv(t, "")
	if again := imgDescribe(t, e2.ec2, e2, &ec2.DescribeImagesInput{ImageIds: []string{id}}); len(again) != 1 || aws.ToString(again[0].Name) != aws.ToString(img.Name) {
		t.Fatalf("same id in another server: %v", imgNames(again))
	}
	west := ec2Client(e.url, "us-west-2", "test")
	w := imgDescribe(t, west, e, &ec2.DescribeImagesInput{Filters: []types.Filter{imgFilter("name", aws.ToString(img.Name))}})
	if len(w) != 1 || aws.ToString(w[0].ImageId) == id {
		t.Fatalf("us-west-2: %+v", w)
	}

	cases := []struct {
		name string
		in   *ec2.DescribeImagesInput
		want int
	}{
		{"amazon owns only Amazon Linux", &ec2.DescribeImagesInput{Owners: []string{"amazon"}}, 2},
		{"canonical", &ec2.DescribeImagesInput{Owners: []string{"099720109477"}}, 4},
		{"debian", &ec2.DescribeImagesInput{Owners: []string{"136693071363"}}, 2},
		{"ubuntu noble arm64", &ec2.DescribeImagesInput{Owners: []string{"099720109477"}, Filters: []types.Filter{
			imgFilter("name", "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-*"), imgFilter("architecture", "arm64")}}, 1},
		{"owner-alias", &ec2.DescribeImagesInput{Filters: []types.Filter{imgFilter("owner-alias", "amazon")}}, 2},
		{"arm64", &ec2.DescribeImagesInput{Filters: []types.Filter{imgFilter("architecture", "arm64")}}, 4},
		{"public ebs hvm", &ec2.DescribeImagesInput{Filters: []types.Filter{imgFilter("is-public", "true"), imgFilter("root-device-type", "ebs"),
			imgFilter("virtualization-type", "hvm"), imgFilter("state", "available"), imgFilter("image-type", "machine"), imgFilter("platform-details", "Linux/UNIX")}}, 8},
		{"executable by all", &ec2.DescribeImagesInput{ExecutableUsers: []string{"all"}}, 8},
		{"self owns none", &ec2.DescribeImagesInput{Owners: []string{"self"}}, 0},
		{"marketplace", &ec2.DescribeImagesInput{Owners: []string{"aws-marketplace"}}, 0},
		{"image-id", &ec2.DescribeImagesInput{Filters: []types.Filter{imgFilter("image-id", id)}}, 1},
		{"tag", &ec2.DescribeImagesInput{Filters: []types.Filter{imgFilter("tag:Name", "x")}}, 0},
		{"include deprecated", &ec2.DescribeImagesInput{IncludeDeprecated: aws.Bool(true)}, 8},
	}
	for _, tc := range cases {
		if got := imgDescribe(t, e.ec2, e, tc.in); len(got) != tc.want {
			t.Errorf("%s: %d images %v, want %d", tc.name, len(got), imgNames(got), tc.want)
		}
	}
	for _, i := range imgDescribe(t, e.ec2, e, &ec2.DescribeImagesInput{Owners: []string{"099720109477", "136693071363"}}) {
		if i.ImageOwnerAlias != nil {
			t.Errorf("%s has alias %s", aws.ToString(i.Name), aws.ToString(i.ImageOwnerAlias))
		}
	}

	_, err := e.ec2.DescribeImages(e.ctx, &ec2.DescribeImagesInput{ImageIds: []string{"ami-0123456789abcdef0"}})
	wantCode(t, err, "InvalidAMIID.NotFound")
	_, err = e.ec2.DescribeImages(e.ctx, &ec2.DescribeImagesInput{ImageIds: []string{"image-1"}})
	wantCode(t, err, "InvalidAMIID.Malformed")
	_, err = e.ec2.DescribeImages(e.ctx, &ec2.DescribeImagesInput{Filters: []types.Filter{imgFilter("flavour", "x")}})
	wantCode(t, err, "InvalidParameterValue")
	_, err = e.ec2.DeregisterImage(e.ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)})
	wantCode(t, err, "AuthFailure")

	// Pagination walks the whole catalogue.
	var seen []string
	p := ec2.NewDescribeImagesPaginator(e.ec2, &ec2.DescribeImagesInput{MaxResults: aws.Int32(5)})
	for p.HasMorePages() {
		out, err := p.NextPage(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, imgNames(out.Images)...)
	}
	if len(seen) != 8 {
		t.Errorf("paged %d images", len(seen))
	}
}

// imgWaitState polls an image until it reaches state.
func imgWaitState(t *testing.T, e *testEnv, id string, state types.ImageState) types.Image {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		imgs := imgDescribe(t, e.ec2, e, &ec2.DescribeImagesInput{ImageIds: []string{id}})
		if imgs[0].State == state || time.Now().After(deadline) {
			if imgs[0].State != state {
				t.Fatalf("image %s is %s, want %s", id, imgs[0].State, state)
			}
			return imgs[0]
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestRegisterAndDeregisterImage(t *testing.T) {
	e := newEnv(t, "")
	vol := ebsCreate(t, e, &ec2.CreateVolumeInput{Size: aws.Int32(10)})
	snap, err := e.ec2.CreateSnapshot(e.ctx, &ec2.CreateSnapshotInput{VolumeId: vol.VolumeId})
	if err != nil {
		t.Fatal(err)
	}
	reg := func(name string, snapID *string) (*ec2.RegisterImageOutput, error) {
		return e.ec2.RegisterImage(e.ctx, &ec2.RegisterImageInput{
			Name: aws.String(name), RootDeviceName: aws.String("/dev/xvda"), Architecture: types.ArchitectureValuesArm64,
			VirtualizationType: aws.String("hvm"), EnaSupport: aws.Bool(true),
			BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: &types.EbsBlockDevice{SnapshotId: snapID}}},
			TagSpecifications:   []types.TagSpecification{{ResourceType: types.ResourceTypeImage, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("x")}}}},
		})
	}
	out, err := reg("my-image", snap.SnapshotId)
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.ImageId)
	img := imgWaitState(t, e, id, types.ImageStateAvailable)
	if img.Architecture != types.ArchitectureValuesArm64 || aws.ToBool(img.Public) || aws.ToInt32(img.BlockDeviceMappings[0].Ebs.VolumeSize) != 10 ||
		aws.ToString(img.OwnerId) == "" || len(img.Tags) != 1 {
		t.Errorf("registered: %+v", img)
	}
	if got := imgDescribe(t, e.ec2, e, &ec2.DescribeImagesInput{Owners: []string{"self"}}); len(got) != 1 || aws.ToString(got[0].ImageId) != id {
		t.Errorf("self: %v", imgNames(got))
	}
	if got := imgDescribe(t, e.ec2, e, &ec2.DescribeImagesInput{Filters: []types.Filter{imgFilter("tag:team", "x")}}); len(got) != 1 {
		t.Errorf("tag filter: %v", imgNames(got))
	}

	_, err = reg("my-image", snap.SnapshotId)
	wantCode(t, err, "InvalidAMIName.Duplicate")
	_, err = reg("other", aws.String("snap-0123456789abcdef0"))
	wantCode(t, err, "InvalidSnapshot.NotFound")
	_, err = reg("x", snap.SnapshotId)
	wantCode(t, err, "InvalidAMIName.Malformed")
	_, err = e.ec2.DeleteSnapshot(e.ctx, &ec2.DeleteSnapshotInput{SnapshotId: snap.SnapshotId})
	wantCode(t, err, "InvalidSnapshot.InUse")

	// minicloud's extension: a local directory as the root filesystem.
	dir := t.TempDir()
	local, err := e.ec2.RegisterImage(e.ctx, &ec2.RegisterImageInput{Name: aws.String("from-dir"), ImageLocation: aws.String(dir)})
	if err != nil {
		t.Fatal(err)
	}
	li := imgDescribe(t, e.ec2, e, &ec2.DescribeImagesInput{ImageIds: []string{aws.ToString(local.ImageId)}})[0]
	if aws.ToString(li.ImageLocation) != dir || len(li.BlockDeviceMappings) != 1 || li.BlockDeviceMappings[0].Ebs.SnapshotId == nil {
		t.Errorf("local image: %+v", li)
	}
	_, err = e.ec2.RegisterImage(e.ctx, &ec2.RegisterImageInput{Name: aws.String("from-nowhere"), ImageLocation: aws.String(dir + "/missing")})
	wantCode(t, err, "InvalidParameterValue")

	if _, err := e.ec2.DeregisterImage(e.ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.ec2.DescribeImages(e.ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	wantCode(t, err, "InvalidAMIID.NotFound")
	_, err = e.ec2.DeregisterImage(e.ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)})
	wantCode(t, err, "InvalidAMIID.NotFound")
	if _, err := e.ec2.DeleteSnapshot(e.ctx, &ec2.DeleteSnapshotInput{SnapshotId: snap.SnapshotId}); err != nil {
		t.Fatal(err)
	}
}

func TestCreateImageFromInstance(t *testing.T) {
	// The test runtime (runtime_test.go) makes instances run.
	e := newEnvWithRuntime(t, "", instNewTestRuntime())
	inst := ebsRunInstance(t, e)
	instID := aws.ToString(inst.InstanceId)
	out, err := e.ec2.CreateImage(e.ctx, &ec2.CreateImageInput{InstanceId: inst.InstanceId, Name: aws.String("snapshot-of-" + instID), NoReboot: aws.Bool(true),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSnapshot, Tags: []types.Tag{{Key: aws.String("from"), Value: aws.String("ci")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.ImageId)
	img := imgDescribe(t, e.ec2, e, &ec2.DescribeImagesInput{ImageIds: []string{id}})[0]
	if img.State != types.ImageStatePending || aws.ToString(img.SourceInstanceId) != instID {
		t.Errorf("new image: %+v", img)
	}
	img = imgWaitState(t, e, id, types.ImageStateAvailable)
	snapID := aws.ToString(img.BlockDeviceMappings[0].Ebs.SnapshotId)
	snaps, err := e.ec2.DescribeSnapshots(e.ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{snapID}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(snaps.Snapshots[0].Description), "Created by CreateImage("+instID+") for "+id; got != want || len(snaps.Snapshots[0].Tags) != 1 {
		t.Errorf("snapshot description %q, want %q (tags %v)", got, want, snaps.Snapshots[0].Tags)
	}
	_, err = e.ec2.CreateImage(e.ctx, &ec2.CreateImageInput{InstanceId: inst.InstanceId, Name: aws.String("snapshot-of-" + instID)})
	wantCode(t, err, "InvalidAMIName.Duplicate")
	_, err = e.ec2.CreateImage(e.ctx, &ec2.CreateImageInput{InstanceId: aws.String("i-0123456789abcdef0"), Name: aws.String("nope")})
	wantCode(t, err, "InvalidInstanceID.NotFound")
}
