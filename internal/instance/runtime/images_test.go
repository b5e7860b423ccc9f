package runtime

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/service/ec2"
	"github.com/minicloud/minicloud/internal/vpcnet"
)

// tinyRootfs makes a minimal root filesystem in dir: a static busybox as
// /bin/busybox with its applets as symlinks, and /etc/marker. No
// /etc/os-release: nothing of the host's tree.
func tinyRootfs(t *testing.T, dir, marker string) {
	t.Helper()
	const bb = "/bin/busybox"
	if _, err := os.Stat(bb); err != nil {
		t.Fatalf("this test needs a static busybox at %s (scripts/deps.sh installs busybox-static): %v", bb, err)
	}
	for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin", "etc", "var/tmp", "tmp", "root"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin/busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bb, "--list-full").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, app := range strings.Fields(string(out)) {
		if app == "bin/busybox" {
			continue
		}
		rel, _ := filepath.Rel(filepath.Dir("/"+app), "/bin/busybox")
		_ = os.Symlink(rel, filepath.Join(dir, app))
	}
	if err := os.WriteFile(filepath.Join(dir, "etc/marker"), []byte(marker+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestImageRoots boots instances from a directory image, a tarball image,
// an image without /bin/sh (a layer: it goes over the built-in image), and a
// CreateImage image of the first instance.
func TestImageRoots(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	base := t.TempDir()
	dir, imagesDir := filepath.Join(base, "instances"), filepath.Join(base, "images")
	ctl := newFakeCtl()
	rt, n := testRuntime(t, "m", base, Config{StopGrace: 2 * time.Second})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	if rt.cfg.ImagesDir != imagesDir {
		t.Fatalf("ImagesDir = %s, want %s", rt.cfg.ImagesDir, imagesDir)
	}
	must(n.EnsureVPC(ctx, vpcnet.VPC{ID: "vpc-1", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}}))
	must(n.EnsureSubnet(ctx, vpcnet.Subnet{VPCID: "vpc-1", ID: "subnet-1", CIDR: netip.MustParsePrefix("10.0.1.0/24")}))

	src := filepath.Join(base, "src")
	rootfs := filepath.Join(src, "rootfs")
	tinyRootfs(t, rootfs, "tiny-dir")
	tarRoot := filepath.Join(src, "tarroot")
	tinyRootfs(t, tarRoot, "tiny-tar")
	tarball := filepath.Join(src, "root.tar.gz")
	if out, err := exec.Command("tar", "-czf", tarball, "-C", tarRoot, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	// An application's layer: a file, no operating system.
	noSh := filepath.Join(src, "nosh")
	must(os.MkdirAll(filepath.Join(noSh, "etc"), 0o755))
	must(os.WriteFile(filepath.Join(noSh, "etc/marker"), []byte("app-layer\n"), 0o644))

	const ud = "#!/bin/sh\ncat /etc/marker > /var/tmp/seen\n[ -e /etc/os-release ] && echo host-tree >> /var/tmp/seen\n" +
		"[ -e /var/tmp/from-source ] && cat /var/tmp/from-source >> /var/tmp/seen\necho written-by-source > /var/tmp/from-source\ntouch /var/tmp/done\n"
	dirImg := ec2.ImageRoot{Kind: ec2.ImageRootDir, ImageID: "ami-0d1700000000000001", Path: rootfs}
	launch := func(id string, n int, img ec2.ImageRoot) {
		ctl.set(t, id, func(s *ec2.InstanceSpec) {
			s.State = "pending"
			s.InstanceType, s.VCPUs, s.MemoryMiB = "t3.micro", 1, 256
			s.ImageID, s.Image = img.ImageID, img
			s.UserData = []byte(ud)
			s.NetworkInterfaces = []ec2.InterfaceSpec{{NetworkInterfaceID: fmt.Sprintf("eni-%d", n), MacAddress: fmt.Sprintf("0a:00:00:00:03:%02x", n),
				SubnetID: "subnet-1", VpcID: "vpc-1", SubnetCIDR: "10.0.1.0/24", PrivateIPs: []string{fmt.Sprintf("10.0.1.%d", 60+n)}}}
			s.Volumes = []ec2.VolumeSpec{{VolumeID: fmt.Sprintf("vol-r%d", n), DeviceName: "/dev/xvda", SizeGiB: 8, Root: true, DeleteOnTermination: true}}
		})
	}
	const a, bID, c, d = "i-0aaaaaaaaaaaaaaa1", "i-0bbbbbbbbbbbbbbb2", "i-0ccccccccccccccc3", "i-0ddddddddddddddd4"
	launch(a, 1, dirImg)
	launch(bID, 2, ec2.ImageRoot{Kind: ec2.ImageRootTar, ImageID: "ami-0a1700000000000002", Path: tarball})
	launch(d, 4, ec2.ImageRoot{Kind: ec2.ImageRootDir, ImageID: "ami-0b1700000000000004", Path: noSh})
	must(rt.Start(ctl))
	seen := func(id string) string {
		got, _ := os.ReadFile(filepath.Join(dir, id, "upper/var/tmp/seen"))
		return string(got)
	}
	for id, want := range map[string]string{a: "tiny-dir\n", bID: "tiny-tar\n"} {
		waitFor(t, 15*time.Second, id+" user data", func() bool { return exists(filepath.Join(dir, id, "upper/var/tmp/done")) })
		if got := seen(id); got != want {
			t.Errorf("%s saw %q, want %q (the image's tree, not the host's)", id, got, want)
		}
	}
	if !exists(filepath.Join(imagesDir, "ami-0a1700000000000002", "rootfs", "bin", "busybox")) {
		t.Error("the tarball was not extracted into ImagesDir/<ami>/rootfs")
	}
	// The layer over the built-in image: its file, and the built-in
	// image's Debian (which has /etc/os-release) to run the user data.
	waitFor(t, 15*time.Second, d+" user data", func() bool { return exists(filepath.Join(dir, d, "upper/var/tmp/done")) })
	if got := seen(d); got != "app-layer\nhost-tree\n" {
		t.Errorf("the layer's instance saw %q, want its marker over the built-in image", got)
	}

	// CreateImage of A, then boot C from it: C sees A's file over A's image.
	launch(c, 3, ec2.ImageRoot{Kind: ec2.ImageRootSnapshot, ImageID: "ami-0c1700000000000003", SourceInstanceID: a,
		SourceVolumeID: "vol-r1", Base: &dirImg})
	waitFor(t, 15*time.Second, c+" user data", func() bool { return exists(filepath.Join(dir, c, "upper/var/tmp/done")) })
	if got := seen(c); got != "tiny-dir\nwritten-by-source\n" {
		t.Errorf("the instance of A's image saw %q, want A's marker and A's file", got)
	}

	for _, id := range []string{a, bID, c, d} {
		ctl.set(t, id, func(s *ec2.InstanceSpec) { s.State = "shutting-down" })
	}
	for _, id := range []string{a, bID, c, d} {
		waitFor(t, 10*time.Second, id+" terminated", func() bool { return ctl.state(id) == "terminated" })
	}
}
