package ec2

import (
	"testing"

	"github.com/minicloud/minicloud/internal/api/ec2api"
)

// TestRunCheck checks RunInstances' request on its own: the defaults it
// fills, the errors only a raw request can reach, and that the hash
// behind ClientToken ignores the token and DryRun.
func TestRunCheck(t *testing.T) {
	base := func() *ec2api.RunInstancesRequest {
		return &ec2api.RunInstancesRequest{ImageId: new("ami-1"), MinCount: new(int32(1)), MaxCount: new(int32(3))}
	}
	tests := []struct {
		name string
		edit func(in *ec2api.RunInstancesRequest)
		code string
		// check looks at the result when code is "".
		check func(t *testing.T, r *runRequest)
	}{
		{name: "defaults", check: func(t *testing.T, r *runRequest) {
			if r.instType != "m1.small" || r.typeInfo == nil || r.shutdown != "stop" || r.minCount != 1 || r.maxCount != 3 || r.imageID != "ami-1" {
				t.Errorf("%+v", r)
			}
		}},
		{name: "tags by type", edit: func(in *ec2api.RunInstancesRequest) {
			in.TagSpecifications = []ec2api.TagSpecification{
				{ResourceType: new("volume"), Tags: []ec2api.Tag{{Key: new("disk"), Value: new("d")}}},
				{ResourceType: new("instance"), Tags: []ec2api.Tag{{Key: new("Name"), Value: new("web")}}},
			}
		}, check: func(t *testing.T, r *runRequest) {
			if len(r.instTags) != 1 || deref(r.instTags[0].Key) != "Name" || len(r.volTags) != 1 || deref(r.volTags[0].Key) != "disk" || len(r.eniTags) != 0 {
				t.Errorf("tags %v %v %v", r.instTags, r.volTags, r.eniTags)
			}
		}},
		{name: "terminate on shutdown", edit: func(in *ec2api.RunInstancesRequest) { in.InstanceInitiatedShutdownBehavior = new("terminate") },
			check: func(t *testing.T, r *runRequest) {
				if r.shutdown != "terminate" {
					t.Errorf("shutdown %q", r.shutdown)
				}
			}},
		{name: "hash without token", edit: func(in *ec2api.RunInstancesRequest) { in.ClientToken, in.DryRun = new("tok"), new(false) },
			check: func(t *testing.T, r *runRequest) {
				plain, err := runCheck(base())
				if err != nil {
					t.Fatal(err)
				}
				if r.token != "tok" || r.hash != plain.hash {
					t.Errorf("token %q, hash %s, without token %s", r.token, r.hash, plain.hash)
				}
			}},
		{name: "no MinCount", edit: func(in *ec2api.RunInstancesRequest) { in.MinCount = nil }, code: "MissingParameter"},
		{name: "no MaxCount", edit: func(in *ec2api.RunInstancesRequest) { in.MaxCount = nil }, code: "MissingParameter"},
		{name: "no image", edit: func(in *ec2api.RunInstancesRequest) { in.ImageId = nil }, code: "MissingParameter"},
		{name: "negative max", edit: func(in *ec2api.RunInstancesRequest) { in.MaxCount = new(int32(-1)) }, code: "InvalidParameterValue"},
		{name: "unknown type", edit: func(in *ec2api.RunInstancesRequest) { in.InstanceType = new("t9.huge") }, code: "InvalidParameterValue"},
		{name: "interfaces and subnet", edit: func(in *ec2api.RunInstancesRequest) {
			in.SubnetId = new("subnet-1")
			in.NetworkInterfaces = []ec2api.InstanceNetworkInterfaceSpecification{{DeviceIndex: new(int32(0))}}
		}, code: "InvalidParameterCombination"},
		{name: "tag type twice", edit: func(in *ec2api.RunInstancesRequest) {
			in.TagSpecifications = []ec2api.TagSpecification{{ResourceType: new("instance")}, {ResourceType: new("instance")}}
		}, code: "InvalidParameterValue"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := base()
			if tc.edit != nil {
				tc.edit(in)
			}
			r, err := runCheck(in)
			if tc.code != "" {
				if err == nil || errCodeOf(err) != tc.code {
					t.Fatalf("got %v, want %s", err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, r)
		})
	}
}

// TestRunView checks what RunInstances hides of a new instance, and that
// the stored instance it is made from keeps it.
func TestRunView(t *testing.T) {
	assoc := &ec2api.InstanceNetworkInterfaceAssociation{PublicIp: new("198.18.0.1")}
	v := ec2api.Instance{
		PublicIpAddress: new("198.18.0.1"), PublicDnsName: new("ec2-198-18-0-1.compute-1.amazonaws.com"),
		Monitoring:      &ec2api.Monitoring{State: new("enabled")},
		MetadataOptions: &ec2api.InstanceMetadataOptionsResponse{State: new("applied"), HttpTokens: new("required")},
		NetworkInterfaces: []ec2api.InstanceNetworkInterface{{Association: assoc,
			PrivateIpAddresses: []ec2api.InstancePrivateIpAddress{{Association: assoc}}}},
	}
	got := runView(v)
	if got.PublicIpAddress != nil || deref(got.PublicDnsName) != "" || got.NetworkInterfaces[0].Association != nil ||
		got.NetworkInterfaces[0].PrivateIpAddresses[0].Association != nil {
		t.Errorf("public address shown: %+v", got)
	}
	if deref(got.Monitoring.State) != "pending" || deref(got.MetadataOptions.State) != "pending" || deref(got.MetadataOptions.HttpTokens) != "required" {
		t.Errorf("monitoring %+v, metadata %+v", got.Monitoring, got.MetadataOptions)
	}
	if v.NetworkInterfaces[0].Association == nil || v.NetworkInterfaces[0].PrivateIpAddresses[0].Association == nil ||
		deref(v.Monitoring.State) != "enabled" || deref(v.MetadataOptions.State) != "applied" {
		t.Errorf("the stored instance changed: %+v", v)
	}
	// Monitoring that is off stays off.
	if got := runView(ec2api.Instance{Monitoring: &ec2api.Monitoring{State: new("disabled")}}); deref(got.Monitoring.State) != "disabled" {
		t.Errorf("monitoring %+v", got.Monitoring)
	}
}

func TestInstanceBootMode(t *testing.T) {
	uefiType := &ec2api.InstanceTypeInfo{SupportedBootModes: []string{"legacy-bios", "uefi"}}
	biosType := &ec2api.InstanceTypeInfo{SupportedBootModes: []string{"legacy-bios"}}
	tests := []struct {
		name, imageMode, arch string
		info                  *ec2api.InstanceTypeInfo
		want                  string
	}{
		{"no mode", "", "x86_64", uefiType, "legacy-bios"},
		{"legacy", "legacy-bios", "x86_64", uefiType, "legacy-bios"},
		{"uefi", "uefi", "x86_64", biosType, "uefi"},
		{"uefi preferred, type has it", "uefi-preferred", "x86_64", uefiType, "uefi"},
		{"uefi preferred, type lacks it", "uefi-preferred", "x86_64", biosType, "legacy-bios"},
		{"arm64", "", "arm64", biosType, "uefi"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := &imageRecord{Image: ec2api.Image{Architecture: new(tc.arch)}}
			if tc.imageMode != "" {
				img.BootMode = new(tc.imageMode)
			}
			if got := instanceBootMode(img, tc.info); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestInstanceCPUOptions(t *testing.T) {
	vcpu := func(vcpus, cores, threads int32) *ec2api.InstanceTypeInfo {
		return &ec2api.InstanceTypeInfo{VCpuInfo: &ec2api.VCpuInfo{DefaultVCpus: new(vcpus), DefaultCores: new(cores), DefaultThreadsPerCore: new(threads)}}
	}
	tests := []struct {
		name                string
		info                *ec2api.InstanceTypeInfo
		req                 *ec2api.CpuOptionsRequest
		wantCores, wantThds int32
	}{
		{"type defaults", vcpu(2, 1, 2), nil, 1, 2},
		{"no cores given: the vCPUs", vcpu(4, 0, 0), nil, 4, 1},
		{"request overrides", vcpu(8, 4, 2), &ec2api.CpuOptionsRequest{CoreCount: new(int32(2)), ThreadsPerCore: new(int32(1))}, 2, 1},
		{"request overrides one", vcpu(8, 4, 2), &ec2api.CpuOptionsRequest{ThreadsPerCore: new(int32(1))}, 4, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := instanceCPUOptions(tc.info, tc.req)
			if deref(got.CoreCount) != tc.wantCores || deref(got.ThreadsPerCore) != tc.wantThds {
				t.Errorf("cores %d threads %d, want %d %d", deref(got.CoreCount), deref(got.ThreadsPerCore), tc.wantCores, tc.wantThds)
			}
		})
	}
	if got := instanceCPUOptions(&ec2api.InstanceTypeInfo{}, nil); got.CoreCount != nil || got.ThreadsPerCore != nil {
		t.Errorf("a type without vCPU information: %+v", got)
	}
}
