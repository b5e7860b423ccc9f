package ec2_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

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
	instWaitState(t, env, id, "terminated")
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
