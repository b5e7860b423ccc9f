package ec2_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestNetworkInterfaces(t *testing.T) {
	env := newEnvWithRuntime(t, "", instNewTestRuntime())
	vpcID, subnetID := instVPC(t, env, "10.7.0.0/16", "10.7.1.0/24", false)
	sg, err := env.ec2.CreateSecurityGroup(env.ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("app"), Description: aws.String("app"), VpcId: aws.String(vpcID)})
	if err != nil {
		t.Fatal(err)
	}
	created, err := env.ec2.CreateNetworkInterface(env.ctx, &ec2.CreateNetworkInterfaceInput{
		SubnetId: aws.String(subnetID), Description: aws.String("second"), PrivateIpAddress: aws.String("10.7.1.50"), SecondaryPrivateIpAddressCount: aws.Int32(2),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeNetworkInterface, Tags: []types.Tag{{Key: aws.String("role"), Value: aws.String("db")}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	eni := created.NetworkInterface
	eniID := aws.ToString(eni.NetworkInterfaceId)
	if !strings.HasPrefix(eniID, "eni-") || aws.ToString(eni.PrivateIpAddress) != "10.7.1.50" || len(eni.PrivateIpAddresses) != 3 ||
		len(eni.Groups) != 1 || aws.ToString(eni.Groups[0].GroupName) != "default" || eni.InterfaceType != types.NetworkInterfaceTypeInterface ||
		!aws.ToBool(eni.SourceDestCheck) || aws.ToBool(eni.RequesterManaged) || aws.ToString(eni.AvailabilityZone) != "us-east-1a" || len(eni.TagSet) != 1 ||
		aws.ToString(eni.PrivateDnsName) != "ip-10-7-1-50.ec2.internal" {
		t.Fatalf("created %+v", eni)
	}
	_, err = env.ec2.CreateNetworkInterface(env.ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(subnetID), PrivateIpAddress: aws.String("10.7.1.50")})
	wantCode(t, err, "InvalidIPAddress.InUse")
	_, err = env.ec2.CreateNetworkInterface(env.ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String("subnet-0123456789abcdef0")})
	wantCode(t, err, "InvalidSubnetID.NotFound")
	_, err = env.ec2.CreateNetworkInterface(env.ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(subnetID), Groups: []string{"sg-0123456789abcdef0"}})
	wantCode(t, err, "InvalidGroup.NotFound")

	inst := instRun(t, env, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro, SubnetId: aws.String(subnetID)})
	instID := aws.ToString(inst.InstanceId)
	// A pending instance cannot take interfaces yet.
	_, err = env.ec2.AttachNetworkInterface(env.ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: aws.String(eniID), InstanceId: aws.String(instID), DeviceIndex: aws.Int32(1)})
	if err != nil {
		wantCode(t, err, "IncorrectInstanceState")
	} else {
		t.Log("instance was already running")
		if _, err := env.ec2.DetachNetworkInterface(env.ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: aws.String(attachmentOf(t, env, eniID))}); err != nil {
			t.Fatal(err)
		}
	}
	instWaitState(t, env, instID, "running")
	_, err = env.ec2.AttachNetworkInterface(env.ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: aws.String(eniID), InstanceId: aws.String(instID), DeviceIndex: aws.Int32(0)})
	wantCode(t, err, "InvalidParameterValue")
	att, err := env.ec2.AttachNetworkInterface(env.ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: aws.String(eniID), InstanceId: aws.String(instID), DeviceIndex: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(aws.ToString(att.AttachmentId), "eni-attach-") {
		t.Errorf("attachment %q", aws.ToString(att.AttachmentId))
	}
	got := instDescribe(t, env, instID)
	if len(got.NetworkInterfaces) != 2 || aws.ToInt32(got.NetworkInterfaces[1].Attachment.DeviceIndex) != 1 {
		t.Errorf("instance interfaces %+v", got.NetworkInterfaces)
	}
	_, err = env.ec2.DeleteNetworkInterface(env.ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(eniID)})
	wantCode(t, err, "InvalidNetworkInterface.InUse")
	_, err = env.ec2.DetachNetworkInterface(env.ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: got.NetworkInterfaces[0].Attachment.AttachmentId})
	wantCode(t, err, "OperationNotPermitted")
	_, err = env.ec2.DetachNetworkInterface(env.ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: aws.String("eni-attach-0123456789abcdef0")})
	wantCode(t, err, "InvalidAttachmentID.NotFound")
	// With two interfaces, instance-level network attributes are ambiguous.
	_, err = env.ec2.ModifyInstanceAttribute(env.ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(instID), SourceDestCheck: &types.AttributeBooleanValue{Value: aws.Bool(false)}})
	wantCode(t, err, "InvalidInstanceID")

	f := func(name string, values ...string) []types.Filter {
		return []types.Filter{{Name: aws.String(name), Values: values}}
	}
	for _, tc := range []struct {
		filters []types.Filter
		want    int
	}{
		{f("attachment.instance-id", instID), 2},
		{f("attachment.status", "attached"), 2},
		{f("subnet-id", subnetID), 2},
		{f("vpc-id", vpcID), 2},
		{f("private-ip-address", "10.7.1.50"), 1},
		{f("addresses.private-ip-address", "10.7.1.5*"), 1},
		{f("group-name", "default"), 2},
		{f("status", "in-use"), 2},
		{f("interface-type", "interface"), 2},
		{f("requester-managed", "false"), 2},
		{f("tag:role", "db"), 1},
		{f("attachment.device-index", "1"), 1},
	} {
		out, err := env.ec2.DescribeNetworkInterfaces(env.ctx, &ec2.DescribeNetworkInterfacesInput{Filters: tc.filters})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.NetworkInterfaces) != tc.want {
			t.Errorf("filter %s=%v: %d, want %d", aws.ToString(tc.filters[0].Name), tc.filters[0].Values, len(out.NetworkInterfaces), tc.want)
		}
	}
	_, err = env.ec2.DescribeNetworkInterfaces(env.ctx, &ec2.DescribeNetworkInterfacesInput{Filters: f("colour", "red")})
	wantCode(t, err, "InvalidParameterValue")
	_, err = env.ec2.DescribeNetworkInterfaces(env.ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{"eni-0123456789abcdef0"}})
	wantCode(t, err, "InvalidNetworkInterfaceID.NotFound")

	// Attributes.
	mods := []ec2.ModifyNetworkInterfaceAttributeInput{
		{Description: &types.AttributeValue{Value: aws.String("changed")}},
		{SourceDestCheck: &types.AttributeBooleanValue{Value: aws.Bool(false)}},
		{Groups: []string{aws.ToString(sg.GroupId)}},
		{Attachment: &types.NetworkInterfaceAttachmentChanges{AttachmentId: att.AttachmentId, DeleteOnTermination: aws.Bool(true)}},
	}
	for _, m := range mods {
		m.NetworkInterfaceId = aws.String(eniID)
		if _, err := env.ec2.ModifyNetworkInterfaceAttribute(env.ctx, &m); err != nil {
			t.Fatal(err)
		}
	}
	out, err := env.ec2.DescribeNetworkInterfaces(env.ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eniID}})
	if err != nil {
		t.Fatal(err)
	}
	e := out.NetworkInterfaces[0]
	if aws.ToString(e.Description) != "changed" || aws.ToBool(e.SourceDestCheck) || len(e.Groups) != 1 || aws.ToString(e.Groups[0].GroupId) != aws.ToString(sg.GroupId) || !aws.ToBool(e.Attachment.DeleteOnTermination) {
		t.Errorf("modified %+v", e)
	}
	if got := instDescribe(t, env, instID); len(got.SecurityGroups) != 2 {
		t.Errorf("instance groups %+v", got.SecurityGroups)
	}
	_, err = env.ec2.ModifyNetworkInterfaceAttribute(env.ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(eniID),
		Description: &types.AttributeValue{Value: aws.String("x")}, SourceDestCheck: &types.AttributeBooleanValue{Value: aws.Bool(true)}})
	wantCode(t, err, "InvalidParameterCombination")
	if _, err := env.ec2.DetachNetworkInterface(env.ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: att.AttachmentId}); err != nil {
		t.Fatal(err)
	}
	if got := instDescribe(t, env, instID); len(got.NetworkInterfaces) != 1 {
		t.Errorf("after detach %+v", got.NetworkInterfaces)
	}
	if _, err := env.ec2.DeleteNetworkInterface(env.ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(eniID)}); err != nil {
		t.Fatal(err)
	}
	_, err = env.ec2.DeleteNetworkInterface(env.ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(eniID)})
	wantCode(t, err, "InvalidNetworkInterfaceID.NotFound")
}

// attachmentOf returns an interface's attachment ID.
func attachmentOf(t *testing.T, env *testEnv, eniID string) string {
	t.Helper()
	out, err := env.ec2.DescribeNetworkInterfaces(env.ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eniID}})
	if err != nil || out.NetworkInterfaces[0].Attachment == nil {
		t.Fatalf("attachment of %s: %v", eniID, err)
	}
	return aws.ToString(out.NetworkInterfaces[0].Attachment.AttachmentId)
}

func TestInstanceAttributes(t *testing.T) {
	env := newEnvWithRuntime(t, "", instNewTestRuntime())
	inst := instRun(t, env, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro, UserData: aws.String("aGVsbG8=")})
	id := aws.ToString(inst.InstanceId)
	instWaitState(t, env, id, "running")
	desc := func(attr types.InstanceAttributeName) *ec2.DescribeInstanceAttributeOutput {
		t.Helper()
		out, err := env.ec2.DescribeInstanceAttribute(env.ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id), Attribute: attr})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if v := desc(types.InstanceAttributeNameUserData).UserData; v == nil || aws.ToString(v.Value) != "aGVsbG8=" {
		t.Errorf("user data %+v", v)
	}
	if v := desc(types.InstanceAttributeNameInstanceType).InstanceType; aws.ToString(v.Value) != "t3.micro" {
		t.Errorf("type %+v", v)
	}
	if v := desc(types.InstanceAttributeNameDisableApiTermination).DisableApiTermination; aws.ToBool(v.Value) {
		t.Errorf("disableApiTermination %+v", v)
	}
	if v := desc(types.InstanceAttributeNameInstanceInitiatedShutdownBehavior).InstanceInitiatedShutdownBehavior; aws.ToString(v.Value) != "stop" {
		t.Errorf("shutdown behavior %+v", v)
	}
	if v := desc(types.InstanceAttributeNameGroupSet).Groups; len(v) != 1 {
		t.Errorf("groups %+v", v)
	}
	if v := desc(types.InstanceAttributeNameBlockDeviceMapping).BlockDeviceMappings; len(v) != 1 {
		t.Errorf("block devices %+v", v)
	}
	if v := desc(types.InstanceAttributeNameRootDeviceName).RootDeviceName; aws.ToString(v.Value) != "/dev/xvda" {
		t.Errorf("root device %+v", v)
	}
	_, err := env.ec2.DescribeInstanceAttribute(env.ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id), Attribute: "colour"})
	wantCode(t, err, "InvalidParameterValue")

	modify := func(in ec2.ModifyInstanceAttributeInput) error {
		in.InstanceId = aws.String(id)
		_, err := env.ec2.ModifyInstanceAttribute(env.ctx, &in)
		return err
	}
	// Type and user data change only when stopped.
	wantCode(t, modify(ec2.ModifyInstanceAttributeInput{InstanceType: &types.AttributeValue{Value: aws.String("t3.small")}}), "IncorrectInstanceState")
	wantCode(t, modify(ec2.ModifyInstanceAttributeInput{UserData: &types.SecureBlobAttributeValue{Value: []byte("x")}}), "IncorrectInstanceState")
	for _, in := range []ec2.ModifyInstanceAttributeInput{
		{SourceDestCheck: &types.AttributeBooleanValue{Value: aws.Bool(false)}},
		{InstanceInitiatedShutdownBehavior: &types.AttributeValue{Value: aws.String("terminate")}},
		{Attribute: types.InstanceAttributeNameDisableApiTermination, Value: aws.String("true")},
	} {
		if err := modify(in); err != nil {
			t.Fatal(err)
		}
	}
	if v := desc(types.InstanceAttributeNameSourceDestCheck).SourceDestCheck; aws.ToBool(v.Value) {
		t.Errorf("sourceDestCheck %+v", v)
	}
	if v := desc(types.InstanceAttributeNameDisableApiTermination).DisableApiTermination; !aws.ToBool(v.Value) {
		t.Errorf("disableApiTermination %+v", v)
	}
	wantCode(t, modify(ec2.ModifyInstanceAttributeInput{InstanceInitiatedShutdownBehavior: &types.AttributeValue{Value: aws.String("explode")}}), "InvalidParameterValue")
	wantCode(t, modify(ec2.ModifyInstanceAttributeInput{Groups: []string{"sg-0123456789abcdef0"}}), "InvalidGroup.NotFound")
	wantCode(t, modify(ec2.ModifyInstanceAttributeInput{}), "MissingParameter")

	if _, err := env.ec2.StopInstances(env.ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	instWaitState(t, env, id, "stopped")
	wantCode(t, modify(ec2.ModifyInstanceAttributeInput{InstanceType: &types.AttributeValue{Value: aws.String("t9.huge")}}), "InvalidParameterValue")
	if err := modify(ec2.ModifyInstanceAttributeInput{InstanceType: &types.AttributeValue{Value: aws.String("t3.small")}}); err != nil {
		t.Fatal(err)
	}
	if err := modify(ec2.ModifyInstanceAttributeInput{UserData: &types.SecureBlobAttributeValue{Value: []byte("#!/bin/sh\n")}}); err != nil {
		t.Fatal(err)
	}
	got := instDescribe(t, env, id)
	if got.InstanceType != types.InstanceTypeT3Small || aws.ToBool(got.SourceDestCheck) {
		t.Errorf("after modify %+v", got)
	}
	if v := desc(types.InstanceAttributeNameUserData).UserData; aws.ToString(v.Value) != "IyEvYmluL3NoCg==" {
		t.Errorf("user data %q", aws.ToString(v.Value))
	}
	// No console output for an unknown instance.
	_, err = env.ec2.GetConsoleOutput(env.ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String("i-0123456789abcdef0")})
	wantCode(t, err, "InvalidInstanceID.NotFound")
}
