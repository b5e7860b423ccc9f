package ec2

import (
	"fmt"
	"slices"
	"testing"

	"github.com/minicloud/minicloud/internal/api/ec2api"
)

// TestImageOverrideMappings checks how CreateImage's mappings change the
// instance's, one rule a case.
func TestImageOverrideMappings(t *testing.T) {
	ebs := func(dev string, size int32, typ string) ec2api.BlockDeviceMapping {
		return ec2api.BlockDeviceMapping{DeviceName: new(dev), Ebs: &ec2api.EbsBlockDevice{VolumeSize: new(size), VolumeType: new(typ), DeleteOnTermination: new(true)}}
	}
	show := func(bdms []ec2api.BlockDeviceMapping) []string {
		var out []string
		for _, b := range bdms {
			if b.Ebs == nil {
				out = append(out, deref(b.DeviceName)+" "+deref(b.VirtualName))
				continue
			}
			out = append(out, fmt.Sprintf("%s %s %d %t", deref(b.DeviceName), deref(b.Ebs.VolumeType), deref(b.Ebs.VolumeSize), deref(b.Ebs.DeleteOnTermination)))
		}
		return out
	}
	instance := func() []ec2api.BlockDeviceMapping {
		return []ec2api.BlockDeviceMapping{ebs("/dev/xvda", 8, "gp3"), ebs("/dev/sdf", 4, "gp2")}
	}
	tests := []struct {
		name string
		req  []ec2api.BlockDeviceMapping
		want []string
	}{
		{"none", nil, []string{"/dev/xvda gp3 8 true", "/dev/sdf gp2 4 true"}},
		{"size only", []ec2api.BlockDeviceMapping{{DeviceName: new("/dev/sdf"), Ebs: &ec2api.EbsBlockDevice{VolumeSize: new(int32(9))}}},
			[]string{"/dev/xvda gp3 8 true", "/dev/sdf gp2 9 true"}},
		{"type and deletion", []ec2api.BlockDeviceMapping{{DeviceName: new("/dev/xvda"), Ebs: &ec2api.EbsBlockDevice{VolumeType: new("io2"), DeleteOnTermination: new(false)}}},
			[]string{"/dev/xvda io2 8 false", "/dev/sdf gp2 4 true"}},
		{"removed", []ec2api.BlockDeviceMapping{{DeviceName: new("/dev/sdf"), NoDevice: new("")}}, []string{"/dev/xvda gp3 8 true"}},
		{"removing what is not there", []ec2api.BlockDeviceMapping{{DeviceName: new("/dev/sdz"), NoDevice: new("")}},
			[]string{"/dev/xvda gp3 8 true", "/dev/sdf gp2 4 true"}},
		{"added", []ec2api.BlockDeviceMapping{{DeviceName: new("/dev/sdb"), VirtualName: new("ephemeral0")}, ebs("/dev/sdc", 1, "st1")},
			[]string{"/dev/xvda gp3 8 true", "/dev/sdf gp2 4 true", "/dev/sdb ephemeral0", "/dev/sdc st1 1 true"}},
		{"a mapping without EBS for an existing device", []ec2api.BlockDeviceMapping{{DeviceName: new("/dev/sdf"), VirtualName: new("ephemeral1")}},
			[]string{"/dev/xvda gp3 8 true", "/dev/sdf gp2 4 true"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := show(imageOverrideMappings(instance(), tc.req)); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestImageCheckRegister(t *testing.T) {
	tests := []struct {
		arch, virt         string
		wantArch, wantVirt string
		code               string
	}{
		{"", "", "x86_64", "paravirtual", ""},
		{"arm64", "hvm", "arm64", "hvm", ""},
		{"x86_64_mac", "", "x86_64_mac", "paravirtual", ""},
		{"sparc", "hvm", "", "", "InvalidParameterValue"},
		{"i386", "xen", "", "", "InvalidParameterValue"},
	}
	for _, tc := range tests {
		t.Run(tc.arch+"/"+tc.virt, func(t *testing.T) {
			in := &ec2api.RegisterImageRequest{}
			if tc.arch != "" {
				in.Architecture = new(tc.arch)
			}
			if tc.virt != "" {
				in.VirtualizationType = new(tc.virt)
			}
			arch, virt, err := imageCheckRegister(in)
			if tc.code != "" {
				if err == nil || errCodeOf(err) != tc.code {
					t.Fatalf("got %v, want %s", err, tc.code)
				}
				return
			}
			if err != nil || arch != tc.wantArch || virt != tc.wantVirt {
				t.Errorf("got %s %s %v, want %s %s", arch, virt, err, tc.wantArch, tc.wantVirt)
			}
		})
	}
}
