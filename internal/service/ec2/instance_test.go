package ec2_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	svc "github.com/minicloud/minicloud/internal/service/ec2"
)

// instImage returns the built-in Amazon Linux 2023 image of the env's region.
func instImage(t *testing.T, env *testEnv, arch string) string {
	t.Helper()
	out, err := env.ec2.DescribeImages(env.ctx, &ec2.DescribeImagesInput{Filters: []types.Filter{
		{Name: aws.String("name"), Values: []string{"al2023-ami-*-" + arch}},
	}})
	if err != nil || len(out.Images) == 0 {
		t.Fatalf("no AL2023 %s image: %v", arch, err)
	}
	return aws.ToString(out.Images[0].ImageId)
}

// instRun launches one instance (default VPC unless in says otherwise).
func instRun(t *testing.T, env *testEnv, in *ec2.RunInstancesInput) types.Instance {
	t.Helper()
	if in.ImageId == nil {
		in.ImageId = aws.String(instImage(t, env, "x86_64"))
	}
	if in.MinCount == nil {
		in.MinCount, in.MaxCount = aws.Int32(1), aws.Int32(1)
	}
	out, err := env.ec2.RunInstances(env.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return out.Instances[0]
}

// instVPC creates a VPC with one subnet; igw attaches an internet gateway.
func instVPC(t *testing.T, env *testEnv, cidr, subnetCIDR string, igw bool) (vpcID, subnetID string) {
	t.Helper()
	v, err := env.ec2.CreateVpc(env.ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(cidr)})
	if err != nil {
		t.Fatal(err)
	}
	vpcID = aws.ToString(v.Vpc.VpcId)
	sn, err := env.ec2.CreateSubnet(env.ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpcID), CidrBlock: aws.String(subnetCIDR), AvailabilityZone: aws.String("us-east-1a")})
	if err != nil {
		t.Fatal(err)
	}
	if igw {
		g, err := env.ec2.CreateInternetGateway(env.ctx, &ec2.CreateInternetGatewayInput{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.ec2.AttachInternetGateway(env.ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: g.InternetGateway.InternetGatewayId, VpcId: aws.String(vpcID)}); err != nil {
			t.Fatal(err)
		}
	}
	return vpcID, aws.ToString(sn.Subnet.SubnetId)
}

func TestRunInstancesWithoutRuntime(t *testing.T) {
	env := newEnvWithRuntime(t, "", nil)
	img := instImage(t, env, "x86_64")
	iamProfile(t, env, "web-role", "")
	out, err := env.ec2.RunInstances(env.ctx, &ec2.RunInstancesInput{
		ImageId: aws.String(img), InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(2), MaxCount: aws.Int32(2),
		UserData: aws.String(base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\necho hi\n"))),
		TagSpecifications: []types.TagSpecification{
			{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}}},
			{ResourceType: types.ResourceTypeVolume, Tags: []types.Tag{{Key: aws.String("disk"), Value: aws.String("root")}}},
		},
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("web-role")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(aws.ToString(out.ReservationId), "r-") || aws.ToString(out.OwnerId) != "000000000000" && aws.ToString(out.OwnerId) == "" || len(out.Instances) != 2 {
		t.Fatalf("reservation %+v", out)
	}
	for i, inst := range out.Instances {
		if inst.State.Name != types.InstanceStateNamePending || aws.ToInt32(inst.State.Code) != 0 || aws.ToInt32(inst.AmiLaunchIndex) != int32(i) {
			t.Errorf("instance %d state %+v index %d", i, inst.State, aws.ToInt32(inst.AmiLaunchIndex))
		}
		if inst.PublicIpAddress != nil {
			t.Errorf("RunInstances answered with a public IP %s", aws.ToString(inst.PublicIpAddress))
		}
		if inst.Architecture != types.ArchitectureValuesX8664 || aws.ToString(inst.RootDeviceName) != "/dev/xvda" || inst.RootDeviceType != types.DeviceTypeEbs ||
			inst.Hypervisor != types.HypervisorTypeXen || inst.VirtualizationType != types.VirtualizationTypeHvm || !aws.ToBool(inst.EnaSupport) ||
			aws.ToBool(inst.EbsOptimized) || !aws.ToBool(inst.SourceDestCheck) {
			t.Errorf("instance %d: %+v", i, inst)
		}
		if inst.CpuOptions == nil || aws.ToInt32(inst.CpuOptions.CoreCount) != 1 || aws.ToInt32(inst.CpuOptions.ThreadsPerCore) != 2 {
			t.Errorf("cpu options %+v", inst.CpuOptions)
		}
		if m := inst.MetadataOptions; m == nil || m.HttpTokens != types.HttpTokensStateRequired || aws.ToInt32(m.HttpPutResponseHopLimit) != 2 || m.HttpEndpoint != types.InstanceMetadataEndpointStateEnabled {
			t.Errorf("metadata options %+v", inst.MetadataOptions)
		}
		if len(inst.NetworkInterfaces) != 1 || len(inst.SecurityGroups) != 1 || aws.ToString(inst.SecurityGroups[0].GroupName) != "default" {
			t.Errorf("network %+v groups %+v", inst.NetworkInterfaces, inst.SecurityGroups)
		}
		if !strings.HasPrefix(aws.ToString(inst.PrivateDnsName), "ip-172-31-") || !strings.HasSuffix(aws.ToString(inst.PrivateDnsName), ".ec2.internal") {
			t.Errorf("private DNS name %q", aws.ToString(inst.PrivateDnsName))
		}
		if len(inst.BlockDeviceMappings) != 1 || !aws.ToBool(inst.BlockDeviceMappings[0].Ebs.DeleteOnTermination) {
			t.Errorf("block devices %+v", inst.BlockDeviceMappings)
		}
		if inst.IamInstanceProfile == nil || aws.ToString(inst.IamInstanceProfile.Arn) != "arn:aws:iam::000000000000:instance-profile/web-role" {
			t.Errorf("instance profile %+v", inst.IamInstanceProfile)
		}
	}
	id := aws.ToString(out.Instances[0].InstanceId)
	inst := instDescribe(t, env, id)
	if inst.StateReason == nil || aws.ToString(inst.StateReason.Code) != "minicloud.NoRuntime" || !strings.Contains(aws.ToString(inst.StateReason.Message), "runtime") {
		t.Errorf("state reason %+v", inst.StateReason)
	}
	// The default subnet maps public IPs, and the default VPC has DNS hostnames.
	pub := aws.ToString(inst.PublicIpAddress)
	if !strings.HasPrefix(pub, "198.1") || aws.ToString(inst.PublicDnsName) != "ec2-"+strings.ReplaceAll(pub, ".", "-")+".compute-1.amazonaws.com" {
		t.Errorf("public address %q %q", pub, aws.ToString(inst.PublicDnsName))
	}
	eni := inst.NetworkInterfaces[0]
	if a := eni.Attachment; a == nil || aws.ToInt32(a.DeviceIndex) != 0 || !aws.ToBool(a.DeleteOnTermination) || !strings.HasPrefix(aws.ToString(a.AttachmentId), "eni-attach-") {
		t.Errorf("attachment %+v", eni.Attachment)
	}
	if !strings.HasPrefix(aws.ToString(eni.MacAddress), "02:") || aws.ToString(eni.Association.IpOwnerId) != "amazon" {
		t.Errorf("eni %+v", eni)
	}
	vols, err := env.ec2.DescribeVolumes(env.ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{aws.ToString(inst.BlockDeviceMappings[0].Ebs.VolumeId)}})
	if err != nil {
		t.Fatal(err)
	}
	if v := vols.Volumes[0]; aws.ToInt32(v.Size) != 8 || len(v.Tags) != 1 || aws.ToString(v.Attachments[0].InstanceId) != id {
		t.Errorf("root volume %+v", v)
	}
	// Health says no runtime runs instances.
	if h, body := instHealth(t, env); h.Runtime != "unavailable" || h.Available || h.Reason == "" {
		t.Errorf("health %s", body)
	}
	// Without a runtime, a pending instance cannot be stopped; terminating
	// completes at once and releases everything.
	_, err = env.ec2.StopInstances(env.ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})
	wantCode(t, err, "IncorrectInstanceState")
	_, err = env.ec2.RebootInstances(env.ctx, &ec2.RebootInstancesInput{InstanceIds: []string{id}})
	wantCode(t, err, "IncorrectInstanceState")
	term, err := env.ec2.TerminateInstances(env.ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if c := term.TerminatingInstances[0]; c.CurrentState.Name != types.InstanceStateNameShuttingDown || c.PreviousState.Name != types.InstanceStateNamePending {
		t.Errorf("terminate %+v", c)
	}
	inst = instDescribe(t, env, id)
	if inst.State.Name != types.InstanceStateNameTerminated || aws.ToInt32(inst.State.Code) != 48 || len(inst.NetworkInterfaces) != 0 || inst.PublicIpAddress != nil || inst.VpcId != nil {
		t.Errorf("terminated instance %+v", inst)
	}
	enis, err := env.ec2.DescribeNetworkInterfaces(env.ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{{Name: aws.String("attachment.instance-id"), Values: []string{id}}}})
	if err != nil || len(enis.NetworkInterfaces) != 0 {
		t.Errorf("interfaces of a terminated instance: %v %v", enis, err)
	}
	_, err = env.ec2.DescribeVolumes(env.ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{aws.ToString(out.Instances[0].BlockDeviceMappings[0].Ebs.VolumeId)}})
	wantCode(t, err, "InvalidVolume.NotFound")
}

// TestRunInstancesErrors pins RunInstances' errors, messages included, and
// the order of its checks where a request breaks two rules: the request's
// own checks first, then key pair, image, network, zone and capacity.
func TestRunInstancesErrors(t *testing.T) {
	env := newEnvWithRuntime(t, "", nil)
	img := instImage(t, env, "x86_64")
	armImg := instImage(t, env, "arm64")
	vpcA, subnetA := instVPC(t, env, "10.1.0.0/16", "10.1.1.0/28", false)
	vpcB, subnetB := instVPC(t, env, "10.2.0.0/16", "10.2.1.0/24", false)
	sg, err := env.ec2.CreateSecurityGroup(env.ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("a"), Description: aws.String("a"), VpcId: aws.String(vpcA)})
	if err != nil {
		t.Fatal(err)
	}
	subnetB2, err := env.ec2.CreateSubnet(env.ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpcB), CidrBlock: aws.String("10.2.2.0/24"), AvailabilityZone: aws.String("us-east-1b")})
	if err != nil {
		t.Fatal(err)
	}
	eni, err := env.ec2.CreateNetworkInterface(env.ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(subnetB)})
	if err != nil {
		t.Fatal(err)
	}
	eniID := aws.ToString(eni.NetworkInterface.NetworkInterfaceId)
	busyENI := aws.ToString(instRun(t, env, &ec2.RunInstancesInput{SubnetId: aws.String(subnetB)}).NetworkInterfaces[0].NetworkInterfaceId)
	vpcs, err := env.ec2.DescribeVpcs(env.ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{{Name: aws.String("is-default"), Values: []string{"true"}}}})
	if err != nil || len(vpcs.Vpcs) != 1 {
		t.Fatalf("default VPC: %v %v", vpcs, err)
	}
	defaultVPC := aws.ToString(vpcs.Vpcs[0].VpcId)
	ni := func(specs ...types.InstanceNetworkInterfaceSpecification) []types.InstanceNetworkInterfaceSpecification {
		return specs
	}
	tests := []struct {
		name      string
		in        ec2.RunInstancesInput
		code, msg string
	}{
		// The request alone.
		{"zero min", ec2.RunInstancesInput{MinCount: aws.Int32(0), MaxCount: aws.Int32(2)},
			"InvalidParameterValue", "Value (0) for parameter minCount is invalid. Expected a positive number."},
		{"zero max", ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(0)},
			"InvalidParameterValue", "Value (0) for parameter maxCount is invalid. Expected a positive number."},
		{"min above max", ec2.RunInstancesInput{MinCount: aws.Int32(3), MaxCount: aws.Int32(2)},
			"InvalidParameterValue", "Invalid value '3' for MinCount. MinCount must be less than or equal to MaxCount."},
		{"launch template before image", ec2.RunInstancesInput{ImageId: aws.String(""), LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("lt")}},
			"InvalidLaunchTemplateName.NotFoundException", "The specified launch template, with template name lt, does not exist."},
		{"no image", ec2.RunInstancesInput{ImageId: aws.String("")},
			"MissingParameter", "The request must contain the parameter ImageId"},
		{"bad user data before type", ec2.RunInstancesInput{UserData: aws.String("not base64!"), InstanceType: "t9.huge"},
			"InvalidUserData.Malformed", "Invalid BASE64 encoding of user data."},
		{"user data too long", ec2.RunInstancesInput{UserData: aws.String(base64.StdEncoding.EncodeToString(make([]byte, 16*1024+1)))},
			"InvalidParameterValue", "User data is limited to 16384 bytes"},
		{"unknown type before shutdown behavior", ec2.RunInstancesInput{InstanceType: "t9.huge", InstanceInitiatedShutdownBehavior: "hibernate"},
			"InvalidParameterValue", "Invalid value 't9.huge' for InstanceType."},
		{"bad shutdown behavior", ec2.RunInstancesInput{InstanceInitiatedShutdownBehavior: "hibernate"},
			"InvalidParameterValue", "Value (hibernate) for parameter instanceInitiatedShutdownBehavior is invalid. Valid values are 'stop' and 'terminate'."},
		{"subnet and interfaces", ec2.RunInstancesInput{SubnetId: aws.String(subnetA), NetworkInterfaces: ni(types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0), SubnetId: aws.String(subnetA)})},
			"InvalidParameterCombination", "Network interfaces and an instance-level subnet ID may not be specified on the same request"},
		{"groups and interfaces", ec2.RunInstancesInput{SecurityGroups: []string{"default"}, NetworkInterfaces: ni(types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0)})},
			"InvalidParameterCombination", "Network interfaces and an instance-level security groups may not be specified on the same request"},
		{"address and interfaces", ec2.RunInstancesInput{PrivateIpAddress: aws.String("10.1.1.9"), NetworkInterfaces: ni(types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0)})},
			"InvalidParameterCombination", "Network interfaces and an instance-level private IP address should not be specified on the same request"},
		{"public address with two interfaces", ec2.RunInstancesInput{NetworkInterfaces: ni(
			types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0), AssociatePublicIpAddress: aws.Bool(true)},
			types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(1)})},
			"InvalidParameterCombination", "The associatePublicIPAddress parameter cannot be specified when launching with multiple network interfaces."},
		{"public address on device 1", ec2.RunInstancesInput{NetworkInterfaces: ni(types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(1), AssociatePublicIpAddress: aws.Bool(true)})},
			"InvalidParameterCombination", "The associatePublicIPAddress parameter can only be specified for the network interface with DeviceIndex 0."},
		{"interfaces before tags", ec2.RunInstancesInput{SubnetId: aws.String(subnetA), NetworkInterfaces: ni(types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0)}),
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVpc}}},
			"InvalidParameterCombination", "Network interfaces and an instance-level subnet ID may not be specified on the same request"},
		{"tags of another type", ec2.RunInstancesInput{TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVpc, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}}}},
			"InvalidParameterValue", "'vpc' is not a valid taggable resource type for this operation."},

		// Against what is stored, in order.
		{"unknown key before image", ec2.RunInstancesInput{KeyName: aws.String("nope"), ImageId: aws.String("ami-0123456789abcdef0")},
			"InvalidKeyPair.NotFound", "The key pair 'nope' does not exist"},
		{"malformed image", ec2.RunInstancesInput{ImageId: aws.String("ami-xyz")},
			"InvalidAMIID.Malformed", `Invalid id: "ami-xyz" (expecting "ami-...")`},
		{"unknown image before network", ec2.RunInstancesInput{ImageId: aws.String("ami-0123456789abcdef0"), SubnetId: aws.String("subnet-0123456789abcdef0")},
			"InvalidAMIID.NotFound", "The image id '[ami-0123456789abcdef0]' does not exist"},
		{"architecture before network", ec2.RunInstancesInput{ImageId: aws.String(armImg), InstanceType: types.InstanceTypeT3Micro, SubnetId: aws.String("subnet-0123456789abcdef0")},
			"InvalidParameterValue", "The architecture 'x86_64' of the specified instance type does not match the architecture 'arm64' of the specified AMI. Specify an instance type and an AMI that have matching architectures, and try again. You can use 'describe-instance-types' or 'describe-images' to discover the architecture of the instance type or AMI."},
		{"unknown zone", ec2.RunInstancesInput{Placement: &types.Placement{AvailabilityZone: aws.String("us-east-1z")}},
			"InvalidParameterValue", "Invalid availability zone: [us-east-1z]"},
		{"unknown subnet", ec2.RunInstancesInput{SubnetId: aws.String("subnet-0123456789abcdef0")},
			"InvalidSubnetID.NotFound", "The subnet ID 'subnet-0123456789abcdef0' does not exist"},
		{"group of another network", ec2.RunInstancesInput{SubnetId: aws.String(subnetB), SecurityGroupIds: []string{aws.ToString(sg.GroupId)}},
			"InvalidParameter", "Security group " + aws.ToString(sg.GroupId) + " and subnet " + subnetB + " belong to different networks."},
		{"unknown group", ec2.RunInstancesInput{SubnetId: aws.String(subnetA), SecurityGroupIds: []string{"sg-0123456789abcdef0"}},
			"InvalidGroup.NotFound", "The security group 'sg-0123456789abcdef0' does not exist"},
		{"group name outside the default VPC", ec2.RunInstancesInput{SubnetId: aws.String(subnetA), SecurityGroups: []string{"a"}},
			"InvalidParameterCombination", "The parameter groupName cannot be used with the parameter subnet"},
		{"group name not in the default VPC", ec2.RunInstancesInput{SecurityGroups: []string{"nope"}},
			"InvalidGroup.NotFound", "The security group 'nope' does not exist in default VPC '" + defaultVPC + "'"},
		{"no device index", ec2.RunInstancesInput{NetworkInterfaces: ni(types.InstanceNetworkInterfaceSpecification{SubnetId: aws.String(subnetB)})},
			"MissingParameter", "The request must contain the parameter NetworkInterface.DeviceIndex"},
		{"device index twice", ec2.RunInstancesInput{NetworkInterfaces: ni(
			types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0), SubnetId: aws.String(subnetB)},
			types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0), SubnetId: aws.String(subnetB)})},
			"InvalidParameterValue", "Each network interface requires a unique device index."},
		{"no device 0", ec2.RunInstancesInput{NetworkInterfaces: ni(types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(1), SubnetId: aws.String(subnetB)})},
			"InvalidParameterValue", "When specifying network interfaces, you must include a device at index 0."},
		{"interface in use", ec2.RunInstancesInput{NetworkInterfaces: ni(types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0), NetworkInterfaceId: aws.String(busyENI)})},
			"InvalidNetworkInterface.InUse", "Interface: [" + busyENI + "] in use."},
		{"unknown interface", ec2.RunInstancesInput{NetworkInterfaces: ni(types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0), NetworkInterfaceId: aws.String("eni-0123456789abcdef0")})},
			"InvalidNetworkInterfaceID.NotFound", "The networkInterface ID 'eni-0123456789abcdef0' does not exist"},
		{"existing interface for two", ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(2),
			NetworkInterfaces: ni(types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0), NetworkInterfaceId: aws.String(eniID)})},
			"InvalidParameterValue", "You may specify an existing network interface only when launching one instance."},
		{"interfaces in two zones", ec2.RunInstancesInput{NetworkInterfaces: ni(
			types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0), SubnetId: aws.String(subnetB)},
			types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(1), SubnetId: subnetB2.Subnet.SubnetId})},
			"InvalidParameterValue", "The network interfaces must all be in the same availability zone."},
		{"zone of another subnet", ec2.RunInstancesInput{SubnetId: aws.String(subnetA), Placement: &types.Placement{AvailabilityZone: aws.String("us-east-1b")}},
			"InvalidParameterValue", "Invalid value 'us-east-1b' for availabilityZone. Subnet " + subnetA + " is in availability zone us-east-1a."},
		{"fixed address for two", ec2.RunInstancesInput{SubnetId: aws.String(subnetB), PrivateIpAddress: aws.String("10.2.1.50"), MinCount: aws.Int32(2), MaxCount: aws.Int32(2)},
			"InvalidParameterCombination", "Specifying a private IP address or an existing network interface is only supported when launching a single instance."},
		{"too many for the subnet", ec2.RunInstancesInput{SubnetId: aws.String(subnetA), MinCount: aws.Int32(12), MaxCount: aws.Int32(12)},
			"InsufficientFreeAddressesInSubnet", "There are not enough free addresses in subnet '" + subnetA + "' to satisfy the requested number of instances."},
		{"address outside the subnet", ec2.RunInstancesInput{SubnetId: aws.String(subnetA), PrivateIpAddress: aws.String("10.1.2.5")},
			"InvalidParameterValue", "Address 10.1.2.5 does not fall within the subnet's address range"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.ImageId == nil {
				in.ImageId = aws.String(img)
			}
			if in.MinCount == nil {
				in.MinCount, in.MaxCount = aws.Int32(1), aws.Int32(1)
			}
			_, err := env.ec2.RunInstances(env.ctx, &in)
			wantError(t, err, tc.code, tc.msg)
		})
	}
	// Capacity: MaxCount if the subnet's addresses allow, else as many as fit.
	out, err := env.ec2.RunInstances(env.ctx, &ec2.RunInstancesInput{ImageId: aws.String(img), SubnetId: aws.String(subnetA), MinCount: aws.Int32(1), MaxCount: aws.Int32(20)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Instances) != 11 { // a /28 has 16 addresses, 5 reserved
		t.Fatalf("launched %d instances in a /28, want 11", len(out.Instances))
	}
	if aws.ToString(out.Instances[0].PrivateIpAddress) != "10.1.1.4" || out.Instances[0].PublicDnsName == nil {
		t.Errorf("first address %s", aws.ToString(out.Instances[0].PrivateIpAddress))
	}
	// The address of a running instance is taken.
	_, err = env.ec2.RunInstances(env.ctx, &ec2.RunInstancesInput{ImageId: aws.String(img), SubnetId: aws.String(subnetB), PrivateIpAddress: aws.String("10.2.1.10"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = env.ec2.RunInstances(env.ctx, &ec2.RunInstancesInput{ImageId: aws.String(img), SubnetId: aws.String(subnetB), PrivateIpAddress: aws.String("10.2.1.10"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	wantCode(t, err, "InvalidIPAddress.InUse")
	// No InstanceType: m1.small, AWS's default.
	inst := instRun(t, env, &ec2.RunInstancesInput{SubnetId: aws.String(subnetB)})
	if inst.InstanceType != types.InstanceTypeM1Small {
		t.Errorf("default type %s", inst.InstanceType)
	}
	// A non-default VPC without DNS hostnames has no public DNS names, and
	// its subnets do not map public IPs.
	if got := instDescribe(t, env, aws.ToString(inst.InstanceId)); got.PublicIpAddress != nil || aws.ToString(got.PublicDnsName) != "" {
		t.Errorf("public address in a private subnet: %+v", got)
	}
}

func TestInstanceStateMachine(t *testing.T) {
	env := newEnvWithRuntime(t, "", instNewTestRuntime())
	inst := instRun(t, env, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro})
	id := aws.ToString(inst.InstanceId)
	if inst.State.Name != types.InstanceStateNamePending || aws.ToString(inst.StateReason.Code) != "pending" {
		t.Fatalf("RunInstances state %+v reason %+v", inst.State, inst.StateReason)
	}
	resp, err := http.Get(env.url + "/_minicloud/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var health struct {
		Instances struct {
			Runtime   string `json:"runtime"`
			Available bool   `json:"available"`
		} `json:"instances"`
	}
	if err := json.Unmarshal(body, &health); err != nil || health.Instances.Runtime != "test" || !health.Instances.Available {
		t.Errorf("health %s", body)
	}
	running := instWaitState(t, env, id, "running")
	if aws.ToInt32(running.State.Code) != 16 || running.StateReason != nil {
		t.Errorf("running %+v reason %+v", running.State, running.StateReason)
	}
	firstIP := aws.ToString(running.PublicIpAddress)
	if firstIP == "" {
		t.Fatal("no public IP while running")
	}
	// Start on running: success, running/running.
	start, err := env.ec2.StartInstances(env.ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if c := start.StartingInstances[0]; c.CurrentState.Name != "running" || c.PreviousState.Name != "running" {
		t.Errorf("start running %+v", c)
	}
	if _, err := env.ec2.RebootInstances(env.ctx, &ec2.RebootInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	stop, err := env.ec2.StopInstances(env.ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if c := stop.StoppingInstances[0]; c.CurrentState.Name != "stopping" || aws.ToInt32(c.CurrentState.Code) != 64 || c.PreviousState.Name != "running" {
		t.Errorf("stop %+v", c)
	}
	stopped := instWaitState(t, env, id, "stopped")
	if aws.ToInt32(stopped.State.Code) != 80 || stopped.PublicIpAddress != nil || aws.ToString(stopped.StateReason.Code) != "Client.UserInitiatedShutdown" ||
		!strings.HasPrefix(aws.ToString(stopped.StateTransitionReason), "User initiated (") {
		t.Errorf("stopped %+v", stopped)
	}
	// Stop on stopped: no-op success. Reboot on stopped: refused.
	stop, err = env.ec2.StopInstances(env.ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})
	if err != nil || stop.StoppingInstances[0].CurrentState.Name != "stopped" {
		t.Errorf("stop stopped: %v %+v", err, stop)
	}
	_, err = env.ec2.RebootInstances(env.ctx, &ec2.RebootInstancesInput{InstanceIds: []string{id}})
	wantCode(t, err, "IncorrectInstanceState")
	start, err = env.ec2.StartInstances(env.ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if c := start.StartingInstances[0]; c.CurrentState.Name != "pending" || c.PreviousState.Name != "stopped" {
		t.Errorf("start %+v", c)
	}
	running = instWaitState(t, env, id, "running")
	if ip := aws.ToString(running.PublicIpAddress); ip == "" || ip == firstIP {
		t.Errorf("public IP after start %q (before stop %q)", ip, firstIP)
	}
	// Console output and status checks come from the runtime.
	con, err := env.ec2.GetConsoleOutput(env.ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(aws.ToString(con.Output))
	if !strings.Contains(string(raw), "booted "+id) || !strings.Contains(string(raw), "Power down") || con.Timestamp == nil {
		t.Errorf("console %q", raw)
	}
	st, err := env.ec2.DescribeInstanceStatus(env.ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.InstanceStatuses) != 1 || st.InstanceStatuses[0].InstanceStatus.Status != types.SummaryStatusOk || st.InstanceStatuses[0].SystemStatus.Status != types.SummaryStatusOk {
		t.Errorf("status %+v", st.InstanceStatuses)
	}
	// DisableApiTermination protects it.
	if _, err := env.ec2.ModifyInstanceAttribute(env.ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id), DisableApiTermination: &types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	_, err = env.ec2.TerminateInstances(env.ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	wantCode(t, err, "OperationNotPermitted")
	if _, err := env.ec2.ModifyInstanceAttribute(env.ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id), DisableApiTermination: &types.AttributeBooleanValue{Value: aws.Bool(false)}}); err != nil {
		t.Fatal(err)
	}
	volID := aws.ToString(running.BlockDeviceMappings[0].Ebs.VolumeId)
	term, err := env.ec2.TerminateInstances(env.ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if c := term.TerminatingInstances[0]; c.CurrentState.Name != "shutting-down" || aws.ToInt32(c.CurrentState.Code) != 32 || c.PreviousState.Name != "running" {
		t.Errorf("terminate %+v", c)
	}
	gone := instWaitState(t, env, id, "terminated")
	if len(gone.NetworkInterfaces) != 0 || gone.PublicIpAddress != nil || len(gone.BlockDeviceMappings) != 0 {
		t.Errorf("terminated %+v", gone)
	}
	_, err = env.ec2.DescribeVolumes(env.ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{volID}})
	wantCode(t, err, "InvalidVolume.NotFound")
	// Terminated: terminating again is a no-op; starting or stopping is not.
	term, err = env.ec2.TerminateInstances(env.ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	if err != nil || term.TerminatingInstances[0].CurrentState.Name != "terminated" {
		t.Errorf("terminate terminated: %v %+v", err, term)
	}
	_, err = env.ec2.StartInstances(env.ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}})
	wantCode(t, err, "IncorrectInstanceState")
	_, err = env.ec2.StopInstances(env.ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})
	wantCode(t, err, "IncorrectInstanceState")
	_, err = env.ec2.StopInstances(env.ctx, &ec2.StopInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}})
	wantCode(t, err, "InvalidInstanceID.NotFound")
	_, err = env.ec2.StopInstances(env.ctx, &ec2.StopInstancesInput{InstanceIds: []string{"i-nope"}})
	wantCode(t, err, "InvalidInstanceID.Malformed")
}

func TestInstanceInitiatedShutdown(t *testing.T) {
	rt := instNewTestRuntime()
	env := newEnvWithRuntime(t, "", rt)
	inst := instRun(t, env, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro, InstanceInitiatedShutdownBehavior: types.ShutdownBehaviorTerminate})
	id := aws.ToString(inst.InstanceId)
	instWaitState(t, env, id, "running")
	// The guest powers off: the runtime reports stopped, and the shutdown
	// behavior makes it terminated.
	if err := instReport(rt, id, "stopped", "Client.InstanceInitiatedShutdown", "Client.InstanceInitiatedShutdown: Instance initiated shutdown"); err != nil {
		t.Fatal(err)
	}
	got := instDescribe(t, env, id)
	if got.State.Name != "terminated" || aws.ToString(got.StateReason.Code) != "Client.InstanceInitiatedShutdown" {
		t.Errorf("after guest shutdown %+v %+v", got.State, got.StateReason)
	}
	// A stale report (terminated instance reported running) is refused.
	if err := instReport(rt, id, "running", "", ""); !errors.Is(err, svc.ErrStaleReport) {
		t.Errorf("stale report: %v", err)
	}
}

func TestRunInstancesClientToken(t *testing.T) {
	env := newEnvWithRuntime(t, "", nil)
	img := instImage(t, env, "x86_64")
	in := &ec2.RunInstancesInput{ImageId: aws.String(img), MinCount: aws.Int32(2), MaxCount: aws.Int32(2), ClientToken: aws.String("token-1")}
	a, err := env.ec2.RunInstances(env.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := env.ec2.RunInstances(env.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(a.ReservationId) != aws.ToString(b.ReservationId) || len(b.Instances) != 2 || aws.ToString(a.Instances[1].InstanceId) != aws.ToString(b.Instances[1].InstanceId) {
		t.Errorf("retry gave %s, first %s", aws.ToString(b.ReservationId), aws.ToString(a.ReservationId))
	}
	if aws.ToString(b.Instances[0].ClientToken) != "token-1" {
		t.Errorf("client token %q", aws.ToString(b.Instances[0].ClientToken))
	}
	all, err := env.ec2.DescribeInstances(env.ctx, &ec2.DescribeInstancesInput{})
	if err != nil || len(all.Reservations) != 1 {
		t.Fatalf("reservations after a retry: %v %v", all, err)
	}
	in.InstanceType = types.InstanceTypeT3Small
	_, err = env.ec2.RunInstances(env.ctx, in)
	wantCode(t, err, "IdempotentParameterMismatch")
}

func TestDescribeInstancesFiltersAndPages(t *testing.T) {
	env := newEnvWithRuntime(t, "", nil)
	img := instImage(t, env, "x86_64")
	tag := func(v string) []types.TagSpecification {
		return []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String(v)}}}}
	}
	web, err := env.ec2.RunInstances(env.ctx, &ec2.RunInstancesInput{ImageId: aws.String(img), MinCount: aws.Int32(3), MaxCount: aws.Int32(3), InstanceType: types.InstanceTypeT3Micro, TagSpecifications: tag("web")})
	if err != nil {
		t.Fatal(err)
	}
	db, err := env.ec2.RunInstances(env.ctx, &ec2.RunInstancesInput{ImageId: aws.String(img), MinCount: aws.Int32(4), MaxCount: aws.Int32(4), InstanceType: types.InstanceTypeT3Small, TagSpecifications: tag("db"),
		Placement: &types.Placement{AvailabilityZone: aws.String("us-east-1b")}})
	if err != nil {
		t.Fatal(err)
	}
	webID := aws.ToString(web.Instances[0].InstanceId)
	count := func(out *ec2.DescribeInstancesOutput) (n int) {
		for _, r := range out.Reservations {
			n += len(r.Instances)
		}
		return n
	}
	f := func(name string, values ...string) types.Filter {
		return types.Filter{Name: aws.String(name), Values: values}
	}
	tests := []struct {
		name    string
		filters []types.Filter
		want    int
	}{
		{"tag", []types.Filter{f("tag:Name", "web")}, 3},
		{"tag wildcard", []types.Filter{f("tag:Name", "d*")}, 4},
		{"tag-key", []types.Filter{f("tag-key", "Name")}, 7},
		{"tag-value", []types.Filter{f("tag-value", "db", "web")}, 7},
		{"instance-type", []types.Filter{f("instance-type", "t3.small")}, 4},
		{"state", []types.Filter{f("instance-state-name", "pending")}, 7},
		{"state code", []types.Filter{f("instance-state-code", "16")}, 0},
		{"zone", []types.Filter{f("availability-zone", "us-east-1b")}, 4},
		{"reservation", []types.Filter{f("reservation-id", aws.ToString(db.ReservationId))}, 4},
		{"instance-id", []types.Filter{f("instance-id", webID)}, 1},
		{"image-id", []types.Filter{f("image-id", img)}, 7},
		{"private ip", []types.Filter{f("private-ip-address", aws.ToString(web.Instances[0].PrivateIpAddress))}, 1},
		{"group-name", []types.Filter{f("instance.group-name", "default")}, 7},
		{"eni", []types.Filter{f("network-interface.network-interface-id", aws.ToString(web.Instances[0].NetworkInterfaces[0].NetworkInterfaceId))}, 1},
		{"owner", []types.Filter{f("owner-id", "000000000000")}, 7},
		{"architecture", []types.Filter{f("architecture", "x86_64")}, 7},
		{"launch-time", []types.Filter{f("launch-time", "20*")}, 7},
		{"and", []types.Filter{f("tag:Name", "web"), f("instance-type", "t3.small")}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := env.ec2.DescribeInstances(env.ctx, &ec2.DescribeInstancesInput{Filters: tc.filters})
			if err != nil {
				t.Fatal(err)
			}
			if n := count(out); n != tc.want {
				t.Errorf("%d instances, want %d", n, tc.want)
			}
		})
	}
	_, err = env.ec2.DescribeInstances(env.ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{f("colour", "red")}})
	wantCode(t, err, "InvalidParameterValue")
	_, err = env.ec2.DescribeInstances(env.ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{webID}, MaxResults: aws.Int32(5)})
	wantCode(t, err, "InvalidParameterCombination")
	_, err = env.ec2.DescribeInstances(env.ctx, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(4)})
	wantCode(t, err, "InvalidParameterValue")
	_, err = env.ec2.DescribeInstances(env.ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{webID, "i-0123456789abcdef0"}})
	wantCode(t, err, "InvalidInstanceID.NotFound")
	_, err = env.ec2.DescribeInstances(env.ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-123"}})
	wantCode(t, err, "InvalidInstanceID.Malformed")
	// Pages of 5 instances, grouped by reservation.
	seen := map[string]bool{}
	pages := 0
	p := ec2.NewDescribeInstancesPaginator(env.ec2, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5)})
	for p.HasMorePages() {
		out, err := p.NextPage(env.ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range out.Reservations {
			for _, i := range r.Instances {
				seen[aws.ToString(i.InstanceId)] = true
			}
		}
	}
	if pages != 2 || len(seen) != 7 {
		t.Errorf("%d pages, %d instances", pages, len(seen))
	}
	// Instance status: running only, unless IncludeAllInstances.
	st, err := env.ec2.DescribeInstanceStatus(env.ctx, &ec2.DescribeInstanceStatusInput{})
	if err != nil || len(st.InstanceStatuses) != 0 {
		t.Errorf("status of pending instances: %v %v", st, err)
	}
	st, err = env.ec2.DescribeInstanceStatus(env.ctx, &ec2.DescribeInstanceStatusInput{IncludeAllInstances: aws.Bool(true), Filters: []types.Filter{f("availability-zone", "us-east-1b")}})
	if err != nil || len(st.InstanceStatuses) != 4 || st.InstanceStatuses[0].InstanceStatus.Status != types.SummaryStatusNotApplicable {
		t.Errorf("status of all: %+v %v", st, err)
	}
	_, err = env.ec2.DescribeInstanceStatus(env.ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: []string{webID}, MaxResults: aws.Int32(5)})
	wantCode(t, err, "InvalidParameterCombination")
}

func TestInstancesSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	env := newEnvWithRuntime(t, dir, instNewTestRuntime())
	inst := instRun(t, env, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro,
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}}})
	id := aws.ToString(inst.InstanceId)
	before := instWaitState(t, env, id, "running")
	instCloseEnv(env)

	env = newEnvWithRuntime(t, dir, nil)
	after := instDescribe(t, env, id)
	if after.State.Name != "running" || aws.ToString(after.PublicIpAddress) != aws.ToString(before.PublicIpAddress) ||
		aws.ToString(after.PrivateIpAddress) != aws.ToString(before.PrivateIpAddress) || len(after.Tags) != 1 {
		t.Errorf("after restart %+v, before %+v", after, before)
	}
	// Without a runtime the status checks have no data.
	st, err := env.ec2.DescribeInstanceStatus(env.ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: []string{id}})
	if err != nil || len(st.InstanceStatuses) != 1 || st.InstanceStatuses[0].InstanceStatus.Status != types.SummaryStatusInsufficientData {
		t.Errorf("status without runtime %+v %v", st, err)
	}
	instCloseEnv(env)

	env = newEnvWithRuntime(t, dir, instNewTestRuntime())
	if _, err := env.ec2.StopInstances(env.ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	instWaitState(t, env, id, "stopped")
}
