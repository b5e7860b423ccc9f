package ec2

import (
	"testing"

	"github.com/minicloud/minicloud/internal/api/ec2api"
)

// TestInstanceModification checks how ModifyInstanceAttribute's two forms
// become one attribute, without a store: the request is not changed, and
// the Attribute form fills the attribute's own field.
func TestInstanceModification(t *testing.T) {
	tests := []struct {
		name string
		in   modifyRequest
		want string // the attribute, or the error code
		// field reads the attribute's own field back from the result.
		field func(*modifyRequest) string
		value string
	}{
		{name: "string attribute", in: modifyRequest{Attribute: new("kernel"), Value: new("aki-1")}, want: "kernel",
			field: func(r *modifyRequest) string { return deref(r.Kernel.Value) }, value: "aki-1"},
		{name: "string attribute without a value", in: modifyRequest{Attribute: new("ramdisk")}, want: "ramdisk",
			field: func(r *modifyRequest) string { return deref(r.Ramdisk.Value) + "<nil>" }, value: "<nil>"},
		{name: "user data from Value", in: modifyRequest{Attribute: new("userData"), Value: new("#!/bin/sh")}, want: "userData",
			field: func(r *modifyRequest) string { return string(r.UserData.Value) }, value: "#!/bin/sh"},
		{name: "boolean from Value", in: modifyRequest{Attribute: new("enaSupport"), Value: new("false")}, want: "enaSupport",
			field: func(r *modifyRequest) string {
				return map[bool]string{true: "true", false: "false"}[deref(r.EnaSupport.Value)]
			}, value: "false"},
		{name: "own field wins", in: modifyRequest{Attribute: new("instanceType"), Value: new("t3.micro"), InstanceType: &ec2api.AttributeValue{Value: new("t3.small")}},
			want: "instanceType", field: func(r *modifyRequest) string { return deref(r.InstanceType.Value) }, value: "t3.small"},
		{name: "typed field", in: modifyRequest{SourceDestCheck: &ec2api.AttributeBooleanValue{Value: new(false)}}, want: "sourceDestCheck"},
		{name: "groups", in: modifyRequest{Groups: []string{"sg-1"}}, want: "groupSet"},
		{name: "groups attribute with groups", in: modifyRequest{Attribute: new("groupSet"), Groups: []string{"sg-1"}}, want: "groupSet"},
		{name: "block devices", in: modifyRequest{BlockDeviceMappings: []ec2api.InstanceBlockDeviceMappingSpecification{{DeviceName: new("/dev/xvda")}}}, want: "blockDeviceMapping"},
		{name: "unknown", in: modifyRequest{Attribute: new("colour")}, want: "InvalidParameterValue"},
		{name: "read-only", in: modifyRequest{Attribute: new("rootDeviceName"), Value: new("/dev/sda1")}, want: "InvalidParameterValue"},
		{name: "not a boolean", in: modifyRequest{Attribute: new("sourceDestCheck"), Value: new("yes please")}, want: "InvalidParameterValue"},
		{name: "boolean without a value", in: modifyRequest{Attribute: new("disableApiStop")}, want: "MissingParameter"},
		{name: "nothing", in: modifyRequest{}, want: "MissingParameter"},
		{name: "two", in: modifyRequest{Groups: []string{"sg-1"}, Kernel: &ec2api.AttributeValue{}}, want: "InvalidParameterCombination"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.in
			name, req, err := instanceModification(&tc.in)
			got := name
			if err != nil {
				got = errCodeOf(err)
			}
			if got != tc.want {
				t.Fatalf("got %q (%v), want %q", got, err, tc.want)
			}
			if tc.in.Kernel != before.Kernel || tc.in.UserData != before.UserData || tc.in.EnaSupport != before.EnaSupport || tc.in.InstanceType != before.InstanceType {
				t.Errorf("the request was changed")
			}
			if tc.field != nil {
				if v := tc.field(req); v != tc.value {
					t.Errorf("field %q, want %q", v, tc.value)
				}
			}
		})
	}
}

// TestInstanceAttributeCheckOrder checks which of two errors a change
// breaking both gets: boolean attributes check their value before the
// instance's state, the others the state first.
func TestInstanceAttributeCheckOrder(t *testing.T) {
	tests := []struct {
		attr string
		in   modifyRequest
		want string
	}{
		{"ebsOptimized", modifyRequest{EbsOptimized: &ec2api.AttributeBooleanValue{}}, "MissingParameter"},
		{"enaSupport", modifyRequest{EnaSupport: &ec2api.AttributeBooleanValue{}}, "MissingParameter"},
		{"instanceType", modifyRequest{InstanceType: &ec2api.AttributeValue{Value: new("t9.huge")}}, "IncorrectInstanceState"},
		{"userData", modifyRequest{UserData: &ec2api.BlobAttributeValue{Value: make([]byte, instanceUserDataMax+1)}}, "IncorrectInstanceState"},
		{"sriovNetSupport", modifyRequest{SriovNetSupport: &ec2api.AttributeValue{Value: new("complex")}}, "IncorrectInstanceState"},
	}
	for _, tc := range tests {
		t.Run(tc.attr, func(t *testing.T) {
			c := &attrChange{in: &tc.in, rec: &instanceRecord{}, id: "i-1", stopped: false}
			err := instanceAttributes[tc.attr].modify(c)
			if err == nil {
				t.Fatal("no error")
			}
			if got := errCodeOf(err); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}
