package dataplane_test

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestRegisteredDirectoryImage registers an AMI whose ImageLocation is a
// local root filesystem directory (minicloud's extension), a tiny busybox
// tree, runs an instance of it, and fetches a file only that tree has from
// the busybox httpd the user data starts, on the instance's public IP.
func TestRegisteredDirectoryImage(t *testing.T) {
	const bb = "/bin/busybox"
	data, err := os.ReadFile(bb)
	if err != nil {
		t.Fatalf("this test needs a static busybox at %s (scripts/deps.sh installs busybox-static): %v", bb, err)
	}
	// Made before the server, so it is removed after the server is closed.
	rootfs := filepath.Join(t.TempDir(), "rootfs")
	for _, d := range []string{"bin", "etc", "var/tmp", "tmp"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	marker := fmt.Sprintf("tiny image %d\n", time.Now().UnixNano())
	if err := os.WriteFile(filepath.Join(rootfs, "bin/busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("busybox", filepath.Join(rootfs, "bin/sh")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "etc/marker"), []byte(marker), 0o644); err != nil {
		t.Fatal(err)
	}

	e := newEnv(t)
	reg, err := e.ec2.RegisterImage(e.ctx, &ec2.RegisterImageInput{Name: aws.String("tiny-busybox"),
		ImageLocation: aws.String(rootfs), Architecture: types.ArchitectureValuesX8664, VirtualizationType: aws.String("hvm")})
	if err != nil {
		t.Fatal(err)
	}
	v := e.defaultVPC()
	sg := e.newSG(v.id, "web", tcpFrom(80, "0.0.0.0/0"))
	ud := "#!/bin/sh\nbusybox mkdir -p /www\nbusybox cp /etc/marker /www/marker.txt\n" +
		"[ -e /etc/os-release ] && echo host-tree > /www/marker.txt\nbusybox httpd -p 80 -h /www\n"
	run, err := e.ec2.RunInstances(e.ctx, &ec2.RunInstancesInput{ImageId: reg.ImageId, InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(v.subnets[0]), SecurityGroupIds: []string{sg},
		UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(ud)))})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	inst := e.waitState(id, types.InstanceStateNameRunning)
	ip := aws.ToString(inst.PublicIpAddress)
	if ip == "" {
		t.Fatal("no public IP")
	}
	var got string
	err = eventually(10*time.Second, func() error {
		got, err = get("http://" + ip + "/marker.txt")
		return err
	})
	if err != nil {
		con, _ := e.ec2.GetConsoleOutput(e.ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String(id)})
		out, _ := base64.StdEncoding.DecodeString(aws.ToString(con.Output))
		t.Fatalf("GET http://%s/marker.txt: %v\nconsole:\n%s", ip, err, out)
	}
	if got != marker {
		t.Errorf("the instance served %q, want %q (the image's tree, not the host's)", strings.TrimSpace(got), strings.TrimSpace(marker))
	}
	if _, err := e.ec2.TerminateInstances(e.ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	e.waitState(id, types.InstanceStateNameTerminated)
}
