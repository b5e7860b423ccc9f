package ec2_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestRunInstancesChecks pins RunInstances' errors, messages included, and
// the order of its checks where a request breaks two rules: the request's
// own checks first, then key pair, image, network, zone and capacity.
func TestRunInstancesChecks(t *testing.T) {
	env := newEnvWithRuntime(t, "", nil)
	img := instImage(t, env, "x86_64")
	armImg := instImage(t, env, "arm64")
	_, subnetA := instVPC(t, env, "10.1.0.0/16", "10.1.1.0/24", false)
	vpcB, subnetB := instVPC(t, env, "10.2.0.0/16", "10.2.1.0/24", false)
	subnetB2, err := env.ec2.CreateSubnet(env.ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpcB), CidrBlock: aws.String("10.2.2.0/24"), AvailabilityZone: aws.String("us-east-1b")})
	if err != nil {
		t.Fatal(err)
	}
	eni, err := env.ec2.CreateNetworkInterface(env.ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(subnetA)})
	if err != nil {
		t.Fatal(err)
	}
	eniID := aws.ToString(eni.NetworkInterface.NetworkInterfaceId)
	busy := instRun(t, env, &ec2.RunInstancesInput{SubnetId: aws.String(subnetA)})
	busyENI := aws.ToString(busy.NetworkInterfaces[0].NetworkInterfaceId)
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
			"InvalidParameterValue", "Launch templates are not supported by minicloud yet."},
		{"no image", ec2.RunInstancesInput{ImageId: aws.String("")},
			"MissingParameter", "The request must contain the parameter ImageId"},
		{"user data before type", ec2.RunInstancesInput{UserData: aws.String("not base64!"), InstanceType: "t9.huge"},
			"InvalidUserData.Malformed", "Invalid BASE64 encoding of user data."},
		{"user data too long", ec2.RunInstancesInput{UserData: aws.String(base64.StdEncoding.EncodeToString(make([]byte, 16*1024+1)))},
			"InvalidParameterValue", "User data is limited to 16384 bytes"},
		{"type before shutdown behavior", ec2.RunInstancesInput{InstanceType: "t9.huge", InstanceInitiatedShutdownBehavior: "hibernate"},
			"InvalidParameterValue", "Invalid value 't9.huge' for InstanceType."},
		{"shutdown behavior", ec2.RunInstancesInput{InstanceInitiatedShutdownBehavior: "hibernate"},
			"InvalidParameterValue", "Value (hibernate) for parameter instanceInitiatedShutdownBehavior is invalid. Valid values are 'stop' and 'terminate'."},
		{"interfaces and subnet", ec2.RunInstancesInput{SubnetId: aws.String(subnetA), NetworkInterfaces: ni(types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0)})},
			"InvalidParameterCombination", "Network interfaces and an instance-level subnet ID may not be specified on the same request"},
		{"interfaces and groups", ec2.RunInstancesInput{SecurityGroups: []string{"default"}, NetworkInterfaces: ni(types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0)})},
			"InvalidParameterCombination", "Network interfaces and an instance-level security groups may not be specified on the same request"},
		{"interfaces and address", ec2.RunInstancesInput{PrivateIpAddress: aws.String("10.1.1.9"), NetworkInterfaces: ni(types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0)})},
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
		{"key pair before image", ec2.RunInstancesInput{KeyName: aws.String("nope"), ImageId: aws.String("ami-0123456789abcdef0")},
			"InvalidKeyPair.NotFound", "The key pair 'nope' does not exist"},
		{"image before network", ec2.RunInstancesInput{ImageId: aws.String("ami-0123456789abcdef0"), SubnetId: aws.String("subnet-0123456789abcdef0")},
			"InvalidAMIID.NotFound", "The image id '[ami-0123456789abcdef0]' does not exist"},
		{"architecture before network", ec2.RunInstancesInput{ImageId: aws.String(armImg), InstanceType: types.InstanceTypeT3Micro, SubnetId: aws.String("subnet-0123456789abcdef0")},
			"InvalidParameterValue", "The architecture 'x86_64' of the specified instance type does not match the architecture 'arm64' of the specified AMI. Specify an instance type and an AMI that have matching architectures, and try again. You can use 'describe-instance-types' or 'describe-images' to discover the architecture of the instance type or AMI."},
		{"unknown zone", ec2.RunInstancesInput{Placement: &types.Placement{AvailabilityZone: aws.String("us-east-1z")}},
			"InvalidParameterValue", "Invalid availability zone: [us-east-1z]"},
		{"unknown subnet", ec2.RunInstancesInput{SubnetId: aws.String("subnet-0123456789abcdef0")},
			"InvalidSubnetID.NotFound", "The subnet ID 'subnet-0123456789abcdef0' does not exist"},
		{"no device index", ec2.RunInstancesInput{NetworkInterfaces: ni(types.InstanceNetworkInterfaceSpecification{SubnetId: aws.String(subnetA)})},
			"MissingParameter", "The request must contain the parameter NetworkInterface.DeviceIndex"},
		{"device index twice", ec2.RunInstancesInput{NetworkInterfaces: ni(
			types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0), SubnetId: aws.String(subnetA)},
			types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0), SubnetId: aws.String(subnetA)})},
			"InvalidParameterValue", "Each network interface requires a unique device index."},
		{"no device 0", ec2.RunInstancesInput{NetworkInterfaces: ni(types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(1), SubnetId: aws.String(subnetA)})},
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
		{"fixed address for two", ec2.RunInstancesInput{SubnetId: aws.String(subnetA), PrivateIpAddress: aws.String("10.1.1.50"), MinCount: aws.Int32(2), MaxCount: aws.Int32(2)},
			"InvalidParameterCombination", "Specifying a private IP address or an existing network interface is only supported when launching a single instance."},
		{"not enough addresses", ec2.RunInstancesInput{SubnetId: aws.String(subnetA), MinCount: aws.Int32(300), MaxCount: aws.Int32(300)},
			"InsufficientFreeAddressesInSubnet", "There are not enough free addresses in subnet '" + subnetA + "' to satisfy the requested number of instances."},
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
}

// TestRunInstancesNetworkInterfaces launches with interfaces given one by
// one: a new one with chosen addresses and an existing one, listed out of
// order.
func TestRunInstancesNetworkInterfaces(t *testing.T) {
	env := newEnvWithRuntime(t, "", nil)
	vpcID, subnetID := instVPC(t, env, "10.3.0.0/16", "10.3.1.0/24", true)
	sg := sgCreate(t, env, vpcID, "web")
	eni, err := env.ec2.CreateNetworkInterface(env.ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(subnetID), Description: aws.String("existing")})
	if err != nil {
		t.Fatal(err)
	}
	eniID := aws.ToString(eni.NetworkInterface.NetworkInterfaceId)
	out, err := env.ec2.RunInstances(env.ctx, &ec2.RunInstancesInput{
		ImageId: aws.String(instImage(t, env, "x86_64")), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		Placement:  &types.Placement{AvailabilityZone: aws.String("us-east-1a"), Tenancy: types.TenancyDefault},
		Monitoring: &types.RunInstancesMonitoringEnabled{Enabled: aws.Bool(true)},
		NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{
			{DeviceIndex: aws.Int32(1), NetworkInterfaceId: aws.String(eniID)},
			{DeviceIndex: aws.Int32(0), SubnetId: aws.String(subnetID), Groups: []string{sg}, Description: aws.String("primary"),
				SecondaryPrivateIpAddressCount: aws.Int32(1),
				PrivateIpAddresses: []types.PrivateIpAddressSpecification{
					{PrivateIpAddress: aws.String("10.3.1.21")},
					{PrivateIpAddress: aws.String("10.3.1.20"), Primary: aws.Bool(true)},
				}},
		},
		TagSpecifications: []types.TagSpecification{
			{ResourceType: types.ResourceTypeNetworkInterface, Tags: []types.Tag{{Key: aws.String("role"), Value: aws.String("nic")}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	inst := out.Instances[0]
	// The answer comes before the public address and monitoring are set up.
	if inst.PublicIpAddress != nil || aws.ToString(inst.PublicDnsName) != "" || inst.Monitoring.State != types.MonitoringStatePending ||
		inst.MetadataOptions.State != types.InstanceMetadataOptionsStatePending {
		t.Errorf("RunInstances answer: public %v %q, monitoring %+v, metadata %+v", inst.PublicIpAddress, aws.ToString(inst.PublicDnsName), inst.Monitoring, inst.MetadataOptions)
	}
	for _, n := range inst.NetworkInterfaces {
		if n.Association != nil {
			t.Errorf("interface %s answered with an association", aws.ToString(n.NetworkInterfaceId))
		}
	}
	id := aws.ToString(inst.InstanceId)
	got := instDescribe(t, env, id)
	if len(got.NetworkInterfaces) != 2 {
		t.Fatalf("interfaces %+v", got.NetworkInterfaces)
	}
	primary, second := got.NetworkInterfaces[0], got.NetworkInterfaces[1]
	if aws.ToInt32(primary.Attachment.DeviceIndex) != 0 || aws.ToString(primary.PrivateIpAddress) != "10.3.1.20" || len(primary.PrivateIpAddresses) != 3 ||
		aws.ToString(primary.Description) != "primary" || !aws.ToBool(primary.Attachment.DeleteOnTermination) ||
		len(primary.Groups) != 1 || aws.ToString(primary.Groups[0].GroupId) != sg {
		t.Errorf("primary interface %+v", primary)
	}
	if aws.ToString(second.NetworkInterfaceId) != eniID || aws.ToInt32(second.Attachment.DeviceIndex) != 1 || aws.ToBool(second.Attachment.DeleteOnTermination) {
		t.Errorf("second interface %+v", second)
	}
	if got.PublicIpAddress != nil || got.Monitoring.State != types.MonitoringStateEnabled ||
		got.MetadataOptions.State != types.InstanceMetadataOptionsStateApplied || aws.ToString(got.PrivateIpAddress) != "10.3.1.20" {
		t.Errorf("instance: public %q, monitoring %+v, metadata %+v, private %q", aws.ToString(got.PublicIpAddress), got.Monitoring, got.MetadataOptions, aws.ToString(got.PrivateIpAddress))
	}
	// Only the new interface gets the request's interface tags.
	enis, err := env.ec2.DescribeNetworkInterfaces(env.ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{aws.ToString(primary.NetworkInterfaceId), eniID}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range enis.NetworkInterfaces {
		want := 0
		if aws.ToString(e.NetworkInterfaceId) != eniID {
			want = 1
		}
		if len(e.TagSet) != want {
			t.Errorf("tags of %s: %+v", aws.ToString(e.NetworkInterfaceId), e.TagSet)
		}
	}
	// Terminating deletes the new interface and detaches the existing one.
	if _, err := env.ec2.TerminateInstances(env.ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	left, err := env.ec2.DescribeNetworkInterfaces(env.ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{{Name: aws.String("subnet-id"), Values: []string{subnetID}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(left.NetworkInterfaces) != 1 || aws.ToString(left.NetworkInterfaces[0].NetworkInterfaceId) != eniID || left.NetworkInterfaces[0].Attachment != nil {
		t.Errorf("interfaces after termination %+v", left.NetworkInterfaces)
	}
	// AssociatePublicIpAddress wins over the subnet, which maps none.
	pub := instRun(t, env, &ec2.RunInstancesInput{NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{
		{DeviceIndex: aws.Int32(0), SubnetId: aws.String(subnetID), AssociatePublicIpAddress: aws.Bool(true)}}})
	if got := instDescribe(t, env, aws.ToString(pub.InstanceId)); !strings.HasPrefix(aws.ToString(got.PublicIpAddress), "198.1") {
		t.Errorf("public address %q", aws.ToString(got.PublicIpAddress))
	}
}
