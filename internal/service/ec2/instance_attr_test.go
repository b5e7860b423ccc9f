package ec2_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestModifyInstanceAttribute goes through every attribute in both of the
// request's forms (Attribute+Value, or the attribute's own field), with
// AWS's exact errors, in the order EC2 checks them, and reads each change
// back with DescribeInstanceAttribute.
func TestModifyInstanceAttribute(t *testing.T) {
	env := newEnvWithRuntime(t, "", instNewTestRuntime())
	running := aws.ToString(instRun(t, env, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro}).InstanceId)
	stopped := aws.ToString(instRun(t, env, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro}).InstanceId)
	gone := aws.ToString(instRun(t, env, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro}).InstanceId)
	multi := aws.ToString(instRun(t, env, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro,
		NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{{DeviceIndex: aws.Int32(0)}, {DeviceIndex: aws.Int32(1)}}}).InstanceId)
	for _, id := range []string{running, stopped, multi} {
		instWaitState(t, env, id, "running")
	}
	if _, err := env.ec2.StopInstances(env.ctx, &ec2.StopInstancesInput{InstanceIds: []string{stopped}}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.ec2.TerminateInstances(env.ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{gone}}); err != nil {
		t.Fatal(err)
	}
	instWaitState(t, env, stopped, "stopped")
	instWaitState(t, env, gone, "terminated")
	defaultGroup := aws.ToString(instDescribe(t, env, running).SecurityGroups[0].GroupId)
	rootVolume := aws.ToString(instDescribe(t, env, running).BlockDeviceMappings[0].Ebs.VolumeId)
	ids := map[string]string{"running": running, "stopped": stopped, "gone": gone, "multi": multi}

	str := func(v *types.AttributeValue) string {
		if v == nil {
			return "<nil>"
		}
		return aws.ToString(v.Value)
	}
	boolean := func(v *types.AttributeBooleanValue) string {
		if v == nil || v.Value == nil {
			return "<nil>"
		}
		return map[bool]string{true: "true", false: "false"}[*v.Value]
	}
	tests := []struct {
		name string
		inst string // running, stopped, gone (terminated), multi (two interfaces)
		in   ec2.ModifyInstanceAttributeInput
		code string
		msg  string // {id} is the instance's ID
		// attr is read back after a change; got renders it.
		attr types.InstanceAttributeName
		got  func(*ec2.DescribeInstanceAttributeOutput) string
		want string
	}{
		// Validation of the request, before the instance is read.
		{name: "unknown attribute", inst: "running", in: ec2.ModifyInstanceAttributeInput{Attribute: "colour", Value: aws.String("red")},
			code: "InvalidParameterValue", msg: "Value (colour) for parameter attribute is invalid. Unknown attribute."},
		{name: "unknown attribute of an unknown instance", inst: "i-0123456789abcdef0", in: ec2.ModifyInstanceAttributeInput{Attribute: "colour"},
			code: "InvalidParameterValue", msg: "Value (colour) for parameter attribute is invalid. Unknown attribute."},
		{name: "root device name", inst: "running", in: ec2.ModifyInstanceAttributeInput{Attribute: types.InstanceAttributeNameRootDeviceName, Value: aws.String("/dev/sda1")},
			code: "InvalidParameterValue", msg: "Value (rootDeviceName) for parameter attribute is invalid. This attribute cannot be modified."},
		{name: "product codes", inst: "running", in: ec2.ModifyInstanceAttributeInput{Attribute: types.InstanceAttributeNameProductCodes},
			code: "InvalidParameterValue", msg: "Value (productCodes) for parameter attribute is invalid. This attribute cannot be modified."},
		{name: "enclave options", inst: "running", in: ec2.ModifyInstanceAttributeInput{Attribute: types.InstanceAttributeNameEnclaveOptions, Value: aws.String("true")},
			code: "InvalidParameterValue", msg: "Value (enclaveOptions) for parameter attribute is invalid. This attribute cannot be modified."},
		{name: "not a boolean", inst: "running", in: ec2.ModifyInstanceAttributeInput{Attribute: types.InstanceAttributeNameEbsOptimized, Value: aws.String("maybe")},
			code: "InvalidParameterValue", msg: "Value (maybe) for parameter value is invalid. Expected: 'true' or 'false'."},
		{name: "two fields", inst: "running", in: ec2.ModifyInstanceAttributeInput{Kernel: &types.AttributeValue{Value: aws.String("aki-1")}, EbsOptimized: &types.AttributeBooleanValue{Value: aws.Bool(true)}},
			code: "InvalidParameterCombination", msg: "Fields for multiple attribute types specified: ebsOptimized, kernel"},
		{name: "attribute and another field", inst: "running", in: ec2.ModifyInstanceAttributeInput{Attribute: types.InstanceAttributeNameKernel, Value: aws.String("aki-1"), Ramdisk: &types.AttributeValue{Value: aws.String("ari-1")}},
			code: "InvalidParameterCombination", msg: "Fields for multiple attribute types specified: kernel, ramdisk"},
		{name: "attribute and its own field", inst: "running", in: ec2.ModifyInstanceAttributeInput{Attribute: types.InstanceAttributeNameDisableApiTermination, Value: aws.String("maybe"), DisableApiTermination: &types.AttributeBooleanValue{Value: aws.Bool(true)}},
			code: "InvalidParameterValue", msg: "Value (maybe) for parameter value is invalid. Expected: 'true' or 'false'."},
		{name: "groups and block devices", inst: "running", in: ec2.ModifyInstanceAttributeInput{Groups: []string{defaultGroup},
			BlockDeviceMappings: []types.InstanceBlockDeviceMappingSpecification{{DeviceName: aws.String("/dev/xvda")}}},
			code: "InvalidParameterCombination", msg: "Fields for multiple attribute types specified: blockDeviceMapping, groupSet"},
		{name: "nothing", inst: "running", code: "MissingParameter", msg: "The request must contain the parameter attribute"},
		{name: "boolean attribute without a value", inst: "running", in: ec2.ModifyInstanceAttributeInput{Attribute: types.InstanceAttributeNameDisableApiTermination},
			code: "MissingParameter", msg: "The request must contain the parameter attribute"},
		{name: "user data attribute without a value", inst: "running", in: ec2.ModifyInstanceAttributeInput{Attribute: types.InstanceAttributeNameUserData},
			code: "MissingParameter", msg: "The request must contain the parameter attribute"},
		{name: "groups attribute without groups", inst: "running", in: ec2.ModifyInstanceAttributeInput{Attribute: types.InstanceAttributeNameGroupSet},
			code: "MissingParameter", msg: "The request must contain the parameter attribute"},

		// The instance and its state.
		{name: "unknown instance", inst: "i-0123456789abcdef0", in: ec2.ModifyInstanceAttributeInput{Kernel: &types.AttributeValue{Value: aws.String("aki-1")}},
			code: "InvalidInstanceID.NotFound", msg: "The instance ID 'i-0123456789abcdef0' does not exist"},
		{name: "terminated", inst: "gone", in: ec2.ModifyInstanceAttributeInput{DisableApiTermination: &types.AttributeBooleanValue{Value: aws.Bool(true)}},
			code: "IncorrectInstanceState", msg: "The instance '{id}' is not in a state from which it can be modified."},
		{name: "type while running", inst: "running", in: ec2.ModifyInstanceAttributeInput{InstanceType: &types.AttributeValue{Value: aws.String("t9.huge")}},
			code: "IncorrectInstanceState", msg: "The instance '{id}' is not in the 'stopped' state."},
		{name: "user data while running", inst: "running", in: ec2.ModifyInstanceAttributeInput{UserData: &types.SecureBlobAttributeValue{Value: []byte("x")}},
			code: "IncorrectInstanceState", msg: "The instance '{id}' is not in the 'stopped' state."},
		{name: "kernel while running", inst: "running", in: ec2.ModifyInstanceAttributeInput{Attribute: types.InstanceAttributeNameKernel},
			code: "IncorrectInstanceState", msg: "The instance '{id}' is not in the 'stopped' state."},
		{name: "ramdisk while running", inst: "running", in: ec2.ModifyInstanceAttributeInput{Ramdisk: &types.AttributeValue{Value: aws.String("ari-1")}},
			code: "IncorrectInstanceState", msg: "The instance '{id}' is not in the 'stopped' state."},
		{name: "SR-IOV while running", inst: "running", in: ec2.ModifyInstanceAttributeInput{SriovNetSupport: &types.AttributeValue{Value: aws.String("bogus")}},
			code: "IncorrectInstanceState", msg: "The instance '{id}' is not in the 'stopped' state."},
		{name: "EBS optimization while running", inst: "running", in: ec2.ModifyInstanceAttributeInput{EbsOptimized: &types.AttributeBooleanValue{Value: aws.Bool(true)}},
			code: "IncorrectInstanceState", msg: "The instance '{id}' is not in the 'stopped' state."},
		{name: "ENA while running", inst: "running", in: ec2.ModifyInstanceAttributeInput{Attribute: types.InstanceAttributeNameEnaSupport, Value: aws.String("false")},
			code: "IncorrectInstanceState", msg: "The instance '{id}' is not in the 'stopped' state."},

		// Each attribute's own checks.
		{name: "unknown type", inst: "stopped", in: ec2.ModifyInstanceAttributeInput{InstanceType: &types.AttributeValue{Value: aws.String("t9.huge")}},
			code: "InvalidParameterValue", msg: "Invalid value 't9.huge' for InstanceType."},
		{name: "type of another architecture", inst: "stopped", in: ec2.ModifyInstanceAttributeInput{Attribute: types.InstanceAttributeNameInstanceType, Value: aws.String("m7g.medium")},
			code: "InvalidParameterValue", msg: "The instance type 'm7g.medium' does not support the architecture 'x86_64' of the instance's AMI."},
		{name: "user data too long", inst: "stopped", in: ec2.ModifyInstanceAttributeInput{UserData: &types.SecureBlobAttributeValue{Value: make([]byte, 16*1024+1)}},
			code: "InvalidParameterValue", msg: "User data is limited to 16384 bytes"},
		{name: "SR-IOV value", inst: "stopped", in: ec2.ModifyInstanceAttributeInput{SriovNetSupport: &types.AttributeValue{Value: aws.String("complex")}},
			code: "InvalidParameterValue", msg: "Value (complex) for parameter sriovNetSupport is invalid. Valid values: simple."},
		{name: "shutdown behavior", inst: "running", in: ec2.ModifyInstanceAttributeInput{InstanceInitiatedShutdownBehavior: &types.AttributeValue{Value: aws.String("explode")}},
			code: "InvalidParameterValue", msg: "Value (explode) for parameter instanceInitiatedShutdownBehavior is invalid. Valid values are 'stop' and 'terminate'."},
		{name: "unknown group", inst: "running", in: ec2.ModifyInstanceAttributeInput{Groups: []string{"sg-0123456789abcdef0"}},
			code: "InvalidGroup.NotFound", msg: "The security group 'sg-0123456789abcdef0' does not exist"},
		{name: "source/dest check of two interfaces", inst: "multi", in: ec2.ModifyInstanceAttributeInput{SourceDestCheck: &types.AttributeBooleanValue{Value: aws.Bool(false)}},
			code: "InvalidInstanceID", msg: "There are multiple interfaces attached to instance '{id}'. Please specify an interface ID for the operation instead."},
		{name: "groups of two interfaces", inst: "multi", in: ec2.ModifyInstanceAttributeInput{Groups: []string{defaultGroup}},
			code: "InvalidInstanceID", msg: "There are multiple interfaces attached to instance '{id}'. Please specify an interface ID for the operation instead."},
		{name: "unmapped device", inst: "running", in: ec2.ModifyInstanceAttributeInput{BlockDeviceMappings: []types.InstanceBlockDeviceMappingSpecification{
			{DeviceName: aws.String("/dev/sdz"), Ebs: &types.EbsInstanceBlockDeviceSpecification{DeleteOnTermination: aws.Bool(false)}}}},
			code: "InvalidParameterValue", msg: "The device '/dev/sdz' is not mapped to instance '{id}'."},
		{name: "volume of another device", inst: "running", in: ec2.ModifyInstanceAttributeInput{BlockDeviceMappings: []types.InstanceBlockDeviceMappingSpecification{
			{DeviceName: aws.String("/dev/xvda"), Ebs: &types.EbsInstanceBlockDeviceSpecification{VolumeId: aws.String("vol-0123456789abcdef0"), DeleteOnTermination: aws.Bool(false)}}}},
			code: "InvalidParameterValue", msg: "Volume vol-0123456789abcdef0 is not attached to instance {id} as device /dev/xvda."},

		// Changes, read back.
		{name: "termination protection", inst: "running", in: ec2.ModifyInstanceAttributeInput{DisableApiTermination: &types.AttributeBooleanValue{Value: aws.Bool(true)}},
			attr: types.InstanceAttributeNameDisableApiTermination, got: func(o *ec2.DescribeInstanceAttributeOutput) string { return boolean(o.DisableApiTermination) }, want: "true"},
		{name: "termination protection off", inst: "running", in: ec2.ModifyInstanceAttributeInput{Attribute: types.InstanceAttributeNameDisableApiTermination, Value: aws.String("false")},
			attr: types.InstanceAttributeNameDisableApiTermination, got: func(o *ec2.DescribeInstanceAttributeOutput) string { return boolean(o.DisableApiTermination) }, want: "false"},
		{name: "stop protection", inst: "running", in: ec2.ModifyInstanceAttributeInput{Attribute: types.InstanceAttributeNameDisableApiStop, Value: aws.String("true")},
			attr: types.InstanceAttributeNameDisableApiStop, got: func(o *ec2.DescribeInstanceAttributeOutput) string { return boolean(o.DisableApiStop) }, want: "true"},
		{name: "stop protection off", inst: "running", in: ec2.ModifyInstanceAttributeInput{DisableApiStop: &types.AttributeBooleanValue{Value: aws.Bool(false)}},
			attr: types.InstanceAttributeNameDisableApiStop, got: func(o *ec2.DescribeInstanceAttributeOutput) string { return boolean(o.DisableApiStop) }, want: "false"},
		{name: "shutdown behavior terminate", inst: "running", in: ec2.ModifyInstanceAttributeInput{Attribute: types.InstanceAttributeNameInstanceInitiatedShutdownBehavior, Value: aws.String("terminate")},
			attr: types.InstanceAttributeNameInstanceInitiatedShutdownBehavior, got: func(o *ec2.DescribeInstanceAttributeOutput) string { return str(o.InstanceInitiatedShutdownBehavior) }, want: "terminate"},
		{name: "source/dest check", inst: "running", in: ec2.ModifyInstanceAttributeInput{Attribute: types.InstanceAttributeNameSourceDestCheck, Value: aws.String("false")},
			attr: types.InstanceAttributeNameSourceDestCheck, got: func(o *ec2.DescribeInstanceAttributeOutput) string { return boolean(o.SourceDestCheck) }, want: "false"},
		{name: "groups", inst: "running", in: ec2.ModifyInstanceAttributeInput{Groups: []string{defaultGroup}},
			attr: types.InstanceAttributeNameGroupSet, got: func(o *ec2.DescribeInstanceAttributeOutput) string {
				var ids []string
				for _, g := range o.Groups {
					ids = append(ids, aws.ToString(g.GroupId))
				}
				return strings.Join(ids, ",")
			}, want: defaultGroup},
		{name: "delete on termination", inst: "running", in: ec2.ModifyInstanceAttributeInput{BlockDeviceMappings: []types.InstanceBlockDeviceMappingSpecification{
			{DeviceName: aws.String("/dev/xvda"), Ebs: &types.EbsInstanceBlockDeviceSpecification{VolumeId: aws.String(rootVolume), DeleteOnTermination: aws.Bool(false)}}}},
			attr: types.InstanceAttributeNameBlockDeviceMapping, got: func(o *ec2.DescribeInstanceAttributeOutput) string {
				return aws.ToString(o.BlockDeviceMappings[0].DeviceName) + " " + boolean(&types.AttributeBooleanValue{Value: o.BlockDeviceMappings[0].Ebs.DeleteOnTermination})
			}, want: "/dev/xvda false"},
		{name: "type", inst: "stopped", in: ec2.ModifyInstanceAttributeInput{InstanceType: &types.AttributeValue{Value: aws.String("t3.small")}},
			attr: types.InstanceAttributeNameInstanceType, got: func(o *ec2.DescribeInstanceAttributeOutput) string { return str(o.InstanceType) }, want: "t3.small"},
		{name: "user data", inst: "stopped", in: ec2.ModifyInstanceAttributeInput{Attribute: types.InstanceAttributeNameUserData, Value: aws.String("hello")},
			attr: types.InstanceAttributeNameUserData, got: func(o *ec2.DescribeInstanceAttributeOutput) string { return str(o.UserData) }, want: "aGVsbG8="},
		{name: "kernel", inst: "stopped", in: ec2.ModifyInstanceAttributeInput{Attribute: types.InstanceAttributeNameKernel, Value: aws.String("aki-12345678")},
			attr: types.InstanceAttributeNameKernel, got: func(o *ec2.DescribeInstanceAttributeOutput) string { return str(o.KernelId) }, want: "aki-12345678"},
		{name: "ramdisk", inst: "stopped", in: ec2.ModifyInstanceAttributeInput{Ramdisk: &types.AttributeValue{Value: aws.String("ari-12345678")}},
			attr: types.InstanceAttributeNameRamdisk, got: func(o *ec2.DescribeInstanceAttributeOutput) string { return str(o.RamdiskId) }, want: "ari-12345678"},
		{name: "SR-IOV", inst: "stopped", in: ec2.ModifyInstanceAttributeInput{Attribute: types.InstanceAttributeNameSriovNetSupport, Value: aws.String("simple")},
			attr: types.InstanceAttributeNameSriovNetSupport, got: func(o *ec2.DescribeInstanceAttributeOutput) string { return str(o.SriovNetSupport) }, want: "simple"},
		{name: "EBS optimization", inst: "stopped", in: ec2.ModifyInstanceAttributeInput{Attribute: types.InstanceAttributeNameEbsOptimized, Value: aws.String("true")},
			attr: types.InstanceAttributeNameEbsOptimized, got: func(o *ec2.DescribeInstanceAttributeOutput) string { return boolean(o.EbsOptimized) }, want: "true"},
		{name: "ENA", inst: "stopped", in: ec2.ModifyInstanceAttributeInput{EnaSupport: &types.AttributeBooleanValue{Value: aws.Bool(false)}},
			attr: types.InstanceAttributeNameEnaSupport, got: func(o *ec2.DescribeInstanceAttributeOutput) string { return boolean(o.EnaSupport) }, want: "false"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, ok := ids[tc.inst]
			if !ok {
				id = tc.inst
			}
			in := tc.in
			in.InstanceId = aws.String(id)
			_, err := env.ec2.ModifyInstanceAttribute(env.ctx, &in)
			if tc.code != "" {
				wantError(t, err, tc.code, strings.ReplaceAll(tc.msg, "{id}", id))
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			out, err := env.ec2.DescribeInstanceAttribute(env.ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id), Attribute: tc.attr})
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.got(out); got != tc.want {
				t.Errorf("%s after the change: %q, want %q", tc.attr, got, tc.want)
			}
		})
	}
	// A new type brings its default CPU options.
	if c := instDescribe(t, env, stopped).CpuOptions; aws.ToInt32(c.CoreCount) != 1 || aws.ToInt32(c.ThreadsPerCore) != 2 {
		t.Errorf("CPU options of a t3.small: %+v", c)
	}
	// DeleteOnTermination changes on the volume's attachment too.
	if v := ebsVolume(t, env, rootVolume); aws.ToBool(v.Attachments[0].DeleteOnTermination) {
		t.Errorf("root volume still deleted on termination: %+v", v.Attachments[0])
	}
}

// TestDescribeInstanceAttribute reads every attribute of a new instance.
func TestDescribeInstanceAttribute(t *testing.T) {
	env := newEnvWithRuntime(t, "", nil)
	inst := instRun(t, env, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro})
	id := aws.ToString(inst.InstanceId)
	tests := []struct {
		attr types.InstanceAttributeName
		got  func(*ec2.DescribeInstanceAttributeOutput) any
		want any
	}{
		{types.InstanceAttributeNameInstanceType, func(o *ec2.DescribeInstanceAttributeOutput) any { return aws.ToString(o.InstanceType.Value) }, "t3.micro"},
		{types.InstanceAttributeNameKernel, func(o *ec2.DescribeInstanceAttributeOutput) any { return o.KernelId != nil && o.KernelId.Value == nil }, true},
		{types.InstanceAttributeNameRamdisk, func(o *ec2.DescribeInstanceAttributeOutput) any {
			return o.RamdiskId != nil && o.RamdiskId.Value == nil
		}, true},
		{types.InstanceAttributeNameUserData, func(o *ec2.DescribeInstanceAttributeOutput) any { return o.UserData != nil && o.UserData.Value == nil }, true},
		{types.InstanceAttributeNameDisableApiTermination, func(o *ec2.DescribeInstanceAttributeOutput) any { return aws.ToBool(o.DisableApiTermination.Value) }, false},
		{types.InstanceAttributeNameDisableApiStop, func(o *ec2.DescribeInstanceAttributeOutput) any { return aws.ToBool(o.DisableApiStop.Value) }, false},
		{types.InstanceAttributeNameInstanceInitiatedShutdownBehavior, func(o *ec2.DescribeInstanceAttributeOutput) any {
			return aws.ToString(o.InstanceInitiatedShutdownBehavior.Value)
		}, "stop"},
		{types.InstanceAttributeNameRootDeviceName, func(o *ec2.DescribeInstanceAttributeOutput) any { return aws.ToString(o.RootDeviceName.Value) }, "/dev/xvda"},
		{types.InstanceAttributeNameBlockDeviceMapping, func(o *ec2.DescribeInstanceAttributeOutput) any { return len(o.BlockDeviceMappings) }, 1},
		{types.InstanceAttributeNameProductCodes, func(o *ec2.DescribeInstanceAttributeOutput) any { return len(o.ProductCodes) }, 0},
		{types.InstanceAttributeNameSourceDestCheck, func(o *ec2.DescribeInstanceAttributeOutput) any { return aws.ToBool(o.SourceDestCheck.Value) }, true},
		{types.InstanceAttributeNameGroupSet, func(o *ec2.DescribeInstanceAttributeOutput) any { return aws.ToString(o.Groups[0].GroupName) }, "default"},
		{types.InstanceAttributeNameEbsOptimized, func(o *ec2.DescribeInstanceAttributeOutput) any { return aws.ToBool(o.EbsOptimized.Value) }, false},
		{types.InstanceAttributeNameSriovNetSupport, func(o *ec2.DescribeInstanceAttributeOutput) any {
			return o.SriovNetSupport != nil && o.SriovNetSupport.Value == nil
		}, true},
		{types.InstanceAttributeNameEnaSupport, func(o *ec2.DescribeInstanceAttributeOutput) any { return aws.ToBool(o.EnaSupport.Value) }, true},
		{types.InstanceAttributeNameEnclaveOptions, func(o *ec2.DescribeInstanceAttributeOutput) any { return aws.ToBool(o.EnclaveOptions.Enabled) }, false},
	}
	for _, tc := range tests {
		t.Run(string(tc.attr), func(t *testing.T) {
			out, err := env.ec2.DescribeInstanceAttribute(env.ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id), Attribute: tc.attr})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.InstanceId) != id {
				t.Errorf("instance ID %q", aws.ToString(out.InstanceId))
			}
			if got := tc.got(out); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	_, err := env.ec2.DescribeInstanceAttribute(env.ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id), Attribute: "colour"})
	wantError(t, err, "InvalidParameterValue", "Value (colour) for parameter attribute is invalid. Unknown attribute.")
}
