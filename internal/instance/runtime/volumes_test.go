package runtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minicloud/minicloud/internal/service/ec2"
	"github.com/minicloud/minicloud/internal/state"
	"github.com/minicloud/minicloud/internal/vpcnet"
)

// TestDataVolumes attaches an EBS volume at boot, detaches it from the
// running instance, attaches it to another running one (its data follows),
// and terminates both: a root volume that is not DeleteOnTermination keeps
// its data, a data volume that is goes, and so does a deleted volume's.
func TestDataVolumes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	base := t.TempDir()
	dir, volumes := filepath.Join(base, "instances"), filepath.Join(base, "volumes")
	ctl := newFakeCtl()
	rt, n := testRuntime(t, "v", base, Config{StopGrace: 2 * time.Second})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	if rt.cfg.VolumesDir != volumes {
		t.Fatalf("VolumesDir = %s, want %s", rt.cfg.VolumesDir, volumes)
	}
	must(n.EnsureVPC(ctx, vpcnet.VPC{ID: "vpc-1", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}}))
	must(n.EnsureSubnet(ctx, vpcnet.Subnet{VPCID: "vpc-1", ID: "subnet-1", CIDR: netip.MustParsePrefix("10.0.1.0/24")}))
	putVolume := func(id string, present bool) {
		must(ctl.store.Update(ctx, func(tx state.Tx) error {
			if !present {
				return tx.Delete(volTable.Key(scope, id))
			}
			return tx.Put(volTable.Key(scope, id), []byte("{}"))
		}))
	}
	for _, v := range []string{"vol-root1", "vol-root2", "vol-data"} {
		putVolume(v, true)
	}
	root := func(id string, dot bool) ec2.VolumeSpec {
		return ec2.VolumeSpec{VolumeID: id, DeviceName: "/dev/xvda", SizeGiB: 8, Root: true, DeleteOnTermination: dot}
	}
	data := func(dev string, dot bool) ec2.VolumeSpec {
		return ec2.VolumeSpec{VolumeID: "vol-data", DeviceName: dev, SizeGiB: 1, DeleteOnTermination: dot, AttachState: "attached"}
	}
	const a, bID = "i-0aaaaaaaaaaaaaaa1", "i-0bbbbbbbbbbbbbbb2"
	launch := func(id string, n int, userData string, vols ...ec2.VolumeSpec) {
		ctl.set(t, id, func(s *ec2.InstanceSpec) {
			s.State = "pending"
			s.InstanceType, s.VCPUs, s.MemoryMiB = "t3.micro", 1, 256
			s.UserData = []byte(userData)
			s.NetworkInterfaces = []ec2.InterfaceSpec{{NetworkInterfaceID: fmt.Sprintf("eni-%d", n), MacAddress: fmt.Sprintf("0a:00:00:00:02:%02x", n),
				SubnetID: "subnet-1", VpcID: "vpc-1", SubnetCIDR: "10.0.1.0/24", PrivateIPs: []string{fmt.Sprintf("10.0.1.%d", 40+n)}}}
			s.Volumes = vols
		})
	}
	launch(a, 1, "#!/bin/sh\necho persisted > /mnt/ebs/sdf/data.txt\necho root-data > /var/tmp/root.txt\ntouch /var/tmp/done\n",
		root("vol-root1", false), data("/dev/sdf", false))
	launch(bID, 2, "#!/bin/sh\ntouch /var/tmp/done\n", root("vol-root2", true))
	must(rt.Start(ctl))
	for _, id := range []string{a, bID} {
		waitFor(t, 15*time.Second, id+" running", func() bool { return ctl.state(id) == "running" })
		waitFor(t, 15*time.Second, id+" user data", func() bool { return exists(filepath.Join(dir, id, "upper/var/tmp/done")) })
	}
	pidA, pidB := rt.initPID(a), rt.initPID(bID)
	inside := func(pid int, p string) string { return fmt.Sprintf("/proc/%d/root%s", pid, p) }
	mountedIn := func(pid int, mp string) bool {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
		return strings.Contains(string(b), " "+mp+" ")
	}

	// Attached at boot: the user data wrote to it; the data is the volume's.
	if got, _ := os.ReadFile(filepath.Join(volumes, "vol-data", "data.txt")); string(got) != "persisted\n" {
		t.Fatalf("volume data = %q", got)
	}
	if exists(filepath.Join(dir, a, "upper/mnt/ebs/sdf/data.txt")) {
		t.Error("the volume's file landed in the root volume")
	}
	waitFor(t, 5*time.Second, "the console line", func() bool {
		return strings.Contains(ctl.console(a), "EBS vol-data attached at /mnt/ebs/sdf")
	})
	// Neither the instances' nor the volumes' directories are visible.
	for _, p := range []string{dir, volumes} {
		if ents, err := os.ReadDir(inside(pidB, p)); len(ents) != 0 {
			t.Errorf("%s is visible inside the instance: %v %v", p, ents, err)
		}
	}

	// Hot detach: the mount goes from the running instance.
	ctl.set(t, a, func(s *ec2.InstanceSpec) { s.Volumes = s.Volumes[:1]; s.Generation-- })
	waitFor(t, 5*time.Second, "the detach inside the instance", func() bool {
		return !mountedIn(pidA, "/mnt/ebs/sdf") && !exists(inside(pidA, "/mnt/ebs/sdf"))
	})
	// Hot attach to the other running instance: the data is there.
	ctl.set(t, bID, func(s *ec2.InstanceSpec) { s.Volumes = append(s.Volumes, data("/dev/sdg", true)); s.Generation-- })
	waitFor(t, 5*time.Second, "the attach inside the other instance", func() bool {
		got, _ := os.ReadFile(inside(pidB, "/mnt/ebs/sdg/data.txt"))
		return string(got) == "persisted\n" && mountedIn(pidB, "/mnt/ebs/sdg")
	})
	waitFor(t, 5*time.Second, "the console line", func() bool {
		return strings.Contains(ctl.console(bID), "EBS vol-data attached at /mnt/ebs/sdg")
	})
	// As the guest's root: the host's root is no one in the instance's idmapped
	// mounts.
	asGuest := func(pid int, script string) error {
		out, err := exec.Command("nsenter", "-t", strconv.Itoa(pid), "-U", "-m", "--", "/bin/sh", "-c", script).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	}
	must(asGuest(pidB, "echo more > /mnt/ebs/sdg/more.txt"))
	if err := asGuest(pidB, "touch /mnt/ebs/planted"); err == nil {
		t.Error("/mnt/ebs itself is writable inside the instance")
	}
	if !exists(filepath.Join(volumes, "vol-data", "more.txt")) {
		t.Error("a write inside the instance did not reach the volume")
	}

	// Terminate: A's root volume (not DeleteOnTermination) keeps its data;
	// B's data volume (DeleteOnTermination) goes.
	for _, id := range []string{a, bID} {
		ctl.set(t, id, func(s *ec2.InstanceSpec) { s.State = "shutting-down" })
	}
	for _, id := range []string{a, bID} {
		waitFor(t, 10*time.Second, id+" terminated", func() bool { return ctl.state(id) == "terminated" })
		waitFor(t, 5*time.Second, id+"'s directory to go", func() bool { return !exists(filepath.Join(dir, id)) })
	}
	if got, _ := os.ReadFile(filepath.Join(volumes, "vol-root1", "var/tmp/root.txt")); string(got) != "root-data\n" {
		t.Errorf("kept root volume: root.txt = %q", got)
	}
	if exists(filepath.Join(volumes, "vol-data")) || exists(filepath.Join(volumes, "vol-root2")) {
		t.Error("a DeleteOnTermination volume's data is left")
	}
	// Deleting the kept volume's record deletes its data.
	putVolume("vol-root1", false)
	waitFor(t, 5*time.Second, "the deleted volume's data to go", func() bool { return !exists(filepath.Join(volumes, "vol-root1")) })
	if mps, _ := mountPoints(base); len(mps) > 0 {
		t.Errorf("mounts left: %v", mps)
	}
}

// TestVolumeGC: the data of volumes without a record goes at Start
// (deleted while minicloud was down) and after a store Reset; the data of
// a recorded volume stays.
func TestVolumeGC(t *testing.T) {
	base := t.TempDir()
	volumes := filepath.Join(base, "volumes")
	ctl := newFakeCtl()
	rt, _ := testRuntime(t, "g", base, Config{})
	for _, id := range []string{"vol-kept", "vol-gone"} {
		if err := os.MkdirAll(filepath.Join(volumes, id), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	if err := ctl.store.Update(ctx, func(tx state.Tx) error {
		return tx.Put(volTable.Key(scope, "vol-kept"), []byte("{}"))
	}); err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctl); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the unrecorded volume's data to go", func() bool { return !exists(filepath.Join(volumes, "vol-gone")) })
	if !exists(filepath.Join(volumes, "vol-kept")) {
		t.Fatal("a recorded volume's data was removed")
	}
	if err := ctl.store.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "every volume's data to go after Reset", func() bool { return !exists(filepath.Join(volumes, "vol-kept")) })
	// Each volume was reconciled at least once; vol-kept's pass at Start
	// and its pass after Reset may coalesce into one (the queue dedups
	// keys), so no more than two passes are certain.
	st := rt.Status()
	if gc, _ := st["volumeGC"].(map[string]any); gc == nil || gc["passes"].(int) < 2 || gc["running"] != true {
		t.Errorf("Status = %v", st)
	}
}

// testRuntime is a runtime for a test, on a vpcnet.Network of its own
// (prefix: letter and five random hex digits), with Dir base/instances
// and cfg's other fields. When the test ends it is stopped, the network
// cleaned up, and no mount may be left under base.
func testRuntime(t *testing.T, letter, base string, cfg Config) (*Runtime, *vpcnet.Network) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the instance runtime tests need root (namespaces, mounts, cgroups); run them as root")
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	prefix := letter + hex.EncodeToString(b)[:5]
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	n, err := vpcnet.New(vpcnet.Config{Prefix: prefix, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Net, cfg.Dir, cfg.Prefix, cfg.Logger = n, filepath.Join(base, "instances"), prefix, logger
	rt := New(cfg)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := rt.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
		if err := n.Cleanup(ctx); err != nil {
			t.Errorf("vpcnet Cleanup: %v", err)
		}
		_ = n.Close()
		if mps, _ := mountPoints(base); len(mps) > 0 {
			t.Errorf("mounts left: %v", mps)
			_ = unmountAll(base)
		}
	})
	return rt, n
}

// TestCleanupMounts: the EBS mounts a crashed runtime leaves (an
// instance's shared ebs mount and a volume bound below it) are all
// unmounted by CleanupMounts, and the volume's data stays.
func TestCleanupMounts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("TestCleanupMounts needs root (mounts); run it as root")
	}
	base := t.TempDir()
	t.Cleanup(func() { _ = unmountAll(base) })
	instances := filepath.Join(base, "instances")
	vol := filepath.Join(base, "volumes", "vol-0123")
	eb := ebsDir(filepath.Join(instances, "i-0abc"))
	for _, d := range []string{vol, filepath.Join(eb, "sdf"), filepath.Join(instances, "i-0def")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(vol, "data"), []byte("kept"), 0o600); err != nil {
		t.Fatal(err)
	}
	// What ebsPrepare and ebsSync leave mounted while an instance runs.
	for _, m := range []struct {
		src, dst string
		flags    uintptr
	}{
		{eb, eb, unix.MS_BIND},
		{"", eb, unix.MS_PRIVATE},
		{"", eb, unix.MS_SHARED},
		{vol, filepath.Join(eb, "sdf"), unix.MS_BIND},
	} {
		if err := unix.Mount(m.src, m.dst, "", m.flags, ""); err != nil {
			t.Fatalf("mount %s on %s: %v", m.src, m.dst, err)
		}
	}
	if mps, _ := mountPoints(base); len(mps) != 2 {
		t.Fatalf("mounts before cleanup = %v, want 2", mps)
	}
	if err := CleanupMounts(instances); err != nil {
		t.Fatalf("CleanupMounts: %v", err)
	}
	if mps, _ := mountPoints(base); len(mps) != 0 {
		t.Fatalf("mounts left after CleanupMounts: %v", mps)
	}
	if b, err := os.ReadFile(filepath.Join(vol, "data")); err != nil || string(b) != "kept" {
		t.Fatalf("volume data after cleanup = %q, %v", b, err)
	}
	if exists(filepath.Join(eb, "sdf")) {
		t.Error("the empty mount point of the volume is still there")
	}
	if err := CleanupMounts(filepath.Join(base, "missing")); err != nil {
		t.Errorf("CleanupMounts of a missing directory: %v", err)
	}
}
