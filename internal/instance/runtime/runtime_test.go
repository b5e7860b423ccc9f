package runtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/service/ec2"
	"github.com/minicloud/minicloud/internal/state"
	"github.com/minicloud/minicloud/internal/vpcnet"
)

// TestMain lets the test binary be an instance's init: the runtime
// re-executes os.Executable(), as it re-executes minicloud in production.
func TestMain(m *testing.M) {
	if InitMain() {
		return
	}
	os.Exit(m.Run())
}

// fakeCtl is the EC2 control plane reduced to one map of specs, with the
// report state machine of ec2.Service.
type fakeCtl struct {
	store  state.Store
	mu     sync.Mutex
	specs  map[string]*ec2.InstanceSpec
	con    map[string]*strings.Builder
	reach  map[string]bool
	reason string // the last transition's ReasonCode
}

var instTable = state.Table[struct{}]{Service: "ec2", Kind: "instance"}

// volTable is where EC2 keeps its volume records (the fake control plane
// plays EC2 with bare records).
var volTable = state.Table[struct{}]{Service: "ec2", Kind: "volume"}
var scope = state.Scope{Account: "123456789012", Region: "us-east-1"}

func newFakeCtl() *fakeCtl {
	return &fakeCtl{store: state.NewMemory(), specs: map[string]*ec2.InstanceSpec{}, con: map[string]*strings.Builder{}, reach: map[string]bool{}}
}

func (f *fakeCtl) Store() state.Store { return f.store }

// VolumeExists looks for the volume's record among the store's keys, as
// EC2 does.
func (f *fakeCtl) VolumeExists(ctx context.Context, id string) (bool, error) {
	found := false
	err := f.store.View(ctx, func(tx state.Tx) error {
		return tx.Scan("", func(key string, _ []byte) error {
			if vid, ok := ec2.VolumeKey(key); ok && vid == id {
				found = true
				return state.ErrStop
			}
			return nil
		})
	})
	return found, err
}

func (f *fakeCtl) Instance(_ context.Context, account, region, id string) (ec2.InstanceSpec, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.specs[id]
	if !ok || account != scope.Account || region != scope.Region {
		return ec2.InstanceSpec{}, false, nil
	}
	return *s, true, nil
}

func (f *fakeCtl) Instances(context.Context) ([]ec2.InstanceSpec, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []ec2.InstanceSpec
	for _, s := range f.specs {
		out = append(out, *s)
	}
	return out, nil
}

func (f *fakeCtl) ReportInstance(_ context.Context, account, region, id string, r ec2.InstanceReport) error {
	f.mu.Lock()
	s, ok := f.specs[id]
	if !ok {
		f.mu.Unlock()
		return ec2.ErrUnknownInstance
	}
	if f.con[id] == nil {
		f.con[id] = &strings.Builder{}
	}
	f.con[id].WriteString(r.ConsoleOutput)
	if r.Reachable != nil {
		f.reach[id] = *r.Reachable
	}
	if r.State == "" || r.State == s.State {
		f.mu.Unlock()
		return nil
	}
	allowed := map[string]string{"pending>running": "", "stopping>stopped": "", "shutting-down>terminated": "",
		"running>stopped": "", "pending>terminated": "", "pending>stopped": ""}
	if _, ok := allowed[s.State+">"+r.State]; !ok || r.Generation != s.Generation {
		f.mu.Unlock()
		return fmt.Errorf("%w: %s→%s gen %d/%d", ec2.ErrStaleReport, s.State, r.State, r.Generation, s.Generation)
	}
	s.State = r.State
	s.Generation++
	f.reason = r.ReasonCode
	if r.State != "running" {
		f.reach[id] = false
	}
	f.mu.Unlock()
	return f.touch(id)
}

// set changes the desired state as an API call would, and emits the event.
func (f *fakeCtl) set(t *testing.T, id string, fn func(*ec2.InstanceSpec)) {
	t.Helper()
	f.mu.Lock()
	s := f.specs[id]
	if s == nil {
		s = &ec2.InstanceSpec{Account: scope.Account, Region: scope.Region, InstanceID: id}
		f.specs[id] = s
	}
	fn(s)
	s.Generation++
	f.mu.Unlock()
	if err := f.touch(id); err != nil {
		t.Fatal(err)
	}
}

func (f *fakeCtl) touch(id string) error {
	return f.store.Update(context.Background(), func(tx state.Tx) error {
		return tx.Put(instTable.Key(scope, id), []byte(strconv.FormatInt(time.Now().UnixNano(), 10)))
	})
}

func (f *fakeCtl) state(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.specs[id]; s != nil {
		return s.State
	}
	return ""
}

func (f *fakeCtl) console(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if b := f.con[id]; b != nil {
		return b.String()
	}
	return ""
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

const userData = `#!/bin/sh
echo hello > /var/tmp/hello
echo "hello from user data on $(hostname)"
date >> /var/tmp/userdata-runs
mkdir -p /var/lib/cloud/scripts/per-boot
printf '#!/bin/sh\necho boot >> /var/tmp/boots\n' > /var/lib/cloud/scripts/per-boot/count.sh
chmod +x /var/lib/cloud/scripts/per-boot/count.sh
TOKEN=$(curl -s -m 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token)
curl -s -m 5 -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/instance-id > /var/tmp/iid.tmp
mv /var/tmp/iid.tmp /var/tmp/iid
cat /etc/resolv.conf > /var/tmp/resolv
tr '\0' ' ' < /proc/1/cmdline > /var/tmp/pid1
ls /proc | grep -c '^[0-9]' > /var/tmp/nproc
python3 -m http.server 8080 --bind 0.0.0.0 >/dev/null 2>&1 &
touch /var/tmp/done
`

// TestInstanceLifecycle boots a real instance (namespaces, overlay root,
// cloud-init, IMDS, cgroups), then stops, starts, reboots and terminates it.
func TestInstanceLifecycle(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("the instance runtime tests need root (namespaces, mounts, cgroups); run them as root")
	}
	for _, tool := range []string{"/usr/bin/python3", "/usr/bin/curl"} {
		if _, err := os.Stat(tool); err != nil {
			t.Fatalf("this test needs %s on the host (instances use the host's binaries): %v", tool, err)
		}
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	prefix := "t" + hex.EncodeToString(b)[:5]
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))

	n, err := vpcnet.New(vpcnet.Config{Prefix: prefix, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "instances")
	ctl := newFakeCtl()
	var triggers atomic.Int32
	cfg := Config{Net: n, Dir: dir, Prefix: prefix, Logger: logger, StopGrace: 5 * time.Second,
		Trigger: func() { triggers.Add(1) }}
	rt := New(cfg)
	const id = "i-0123456789abcdef0"
	pidsSeen := map[int]bool{}
	var nsInode string
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer scancel()
		if err := rt.Stop(sctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
		if err := n.Cleanup(sctx); err != nil {
			t.Errorf("vpcnet Cleanup: %v", err)
		}
		_ = n.Close()
		for pid := range pidsSeen {
			if syscall.Kill(pid, 0) == nil {
				t.Errorf("init pid %d still alive", pid)
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if nsInode != "" {
			if pids := pidsInNamespace(nsInode); len(pids) > 0 {
				t.Errorf("processes of the instance's PID namespace left: %v", pids)
			}
		}
		if left, err := vpcnet.Namespaces(prefix + "-"); err != nil || len(left) > 0 {
			t.Errorf("namespaces left: %v %v", left, err)
		}
		for _, d := range rt.wl.CgroupDirs(id) {
			if exists(d) {
				t.Errorf("cgroup %s left", d)
			}
		}
	})
	if ok, why := rt.Available(); !ok {
		t.Fatalf("runtime not available: %s", why)
	}

	// The network controller's part, done by hand.
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(n.EnsureVPC(ctx, vpcnet.VPC{ID: "vpc-1", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}}))
	must(n.EnsureSubnet(ctx, vpcnet.Subnet{VPCID: "vpc-1", ID: "subnet-1", CIDR: netip.MustParsePrefix("10.0.1.0/24")}))
	must(n.EnsureInternetGateway(ctx, "vpc-1"))
	must(n.SetRoutes(ctx, "vpc-1", "subnet-1", []vpcnet.Route{{Destination: netip.MustParsePrefix("0.0.0.0/0"), Target: vpcnet.TargetInternetGateway}}))
	public := netip.AddrFrom4([4]byte{198, 19, b[0], b[1]%200 + 10})
	must(n.MapPublicIP(ctx, "vpc-1", public, netip.MustParseAddr("10.0.1.23")))

	ctl.set(t, id, func(s *ec2.InstanceSpec) {
		s.State = "pending"
		s.InstanceType, s.VCPUs, s.MemoryMiB = "t3.small", 2, 512
		s.ImageID, s.Architecture, s.AvailabilityZone = "ami-12345678", "x86_64", "us-east-1a"
		s.Hostname = "ip-10-0-1-23.ec2.internal"
		s.UserData = []byte(userData)
		s.MetadataHTTPEndpoint, s.MetadataHTTPTokens = true, "required"
		s.NetworkInterfaces = []ec2.InterfaceSpec{{NetworkInterfaceID: "eni-1", DeviceIndex: 0, MacAddress: "0a:00:00:00:01:23",
			SubnetID: "subnet-1", VpcID: "vpc-1", SubnetCIDR: "10.0.1.0/24", PrivateIPs: []string{"10.0.1.23"}, PublicIP: public.String()}}
		s.Volumes = []ec2.VolumeSpec{{VolumeID: "vol-1", DeviceName: "/dev/xvda", SizeGiB: 8, Root: true}}
	})
	start := time.Now()
	must(rt.Start(ctl))

	// 1. Boot.
	waitFor(t, 20*time.Second, "running", func() bool { return ctl.state(id) == "running" })
	t.Logf("running after %s", time.Since(start))
	pid1 := rt.initPID(id)
	if pid1 == 0 {
		t.Fatal("no init pid")
	}
	pidsSeen[pid1] = true
	nsInode, _ = os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid1))
	upper := filepath.Join(dir, id, "upper")
	readUpper := func(p string) string { b, _ := os.ReadFile(filepath.Join(upper, p)); return string(b) }
	waitFor(t, 20*time.Second, "user data to finish", func() bool { return exists(filepath.Join(upper, "var/tmp/done")) })
	if got := readUpper("var/tmp/iid"); got != id {
		t.Errorf("IMDSv2 instance-id from inside the instance = %q, want %q", got, id)
	}
	if got := readUpper("var/tmp/hello"); got != "hello\n" {
		t.Errorf("/var/tmp/hello = %q", got)
	}
	if got := readUpper("var/tmp/resolv"); !strings.Contains(got, "nameserver 10.0.0.2") {
		t.Errorf("resolv.conf = %q", got)
	}
	if got := readUpper("var/tmp/pid1"); !strings.Contains(got, initArg) {
		t.Errorf("PID 1 inside the instance is %q, want the instance init", got)
	}
	if got := readUpper("var/tmp/nproc"); got == "" || len(got) > 3 {
		t.Errorf("the instance sees %q processes in /proc: not its own PID namespace?", got)
	}
	if triggers.Load() == 0 {
		t.Error("the network controller was never triggered")
	}
	if got := readUpper("etc/hostname"); got != "ip-10-0-1-23\n" {
		t.Errorf("/etc/hostname = %q", got)
	}
	waitFor(t, 10*time.Second, "console output and reachability", func() bool {
		c := ctl.console(id)
		ctl.mu.Lock()
		defer ctl.mu.Unlock()
		return strings.Contains(c, "Cloud-init v.") && strings.Contains(c, "finished at") && ctl.reach[id]
	})
	con := ctl.console(id)
	if os.Getenv("RUNTIME_TEST_CONSOLE") != "" {
		t.Logf("console:\n%s", con)
	}
	for _, want := range []string{"Linux version", "DMI: Amazon EC2 t3.small", "Cloud-init v. ", "modules:final",
		"hello from user data on ip-10-0-1-23"} {
		if !strings.Contains(con, want) {
			t.Errorf("console lacks %q:\n%s", want, con)
		}
	}
	// The guest's web server, from the host through the public IP.
	client := &http.Client{Timeout: 2 * time.Second}
	var resp *http.Response
	waitFor(t, 10*time.Second, "the instance's HTTP server on "+public.String(), func() bool {
		resp, err = client.Get("http://" + public.String() + ":8080/")
		return err == nil
	})
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Directory listing") {
		t.Errorf("GET / from the instance: %d %.200s", resp.StatusCode, body)
	}

	// 3. cgroup limits.
	checkCgroups(t, rt, id, pid1, 2, 512)

	// The host's root is untouched.
	if _, err := os.Stat("/var/tmp/iid"); err == nil {
		b, _ := os.ReadFile("/var/tmp/iid")
		if string(b) == id {
			t.Fatal("the instance wrote into the host's /var/tmp")
		}
	}

	// 2. Stop: processes gone, root volume kept.
	ctl.set(t, id, func(s *ec2.InstanceSpec) { s.State = "stopping" })
	waitFor(t, 15*time.Second, "stopped", func() bool { return ctl.state(id) == "stopped" })
	waitFor(t, 3*time.Second, "init to be reaped", func() bool { return syscall.Kill(pid1, 0) != nil })
	if pids := pidsInNamespace(nsInode); len(pids) > 0 {
		t.Errorf("processes left in the stopped instance's PID namespace: %v", pids)
	}
	if readUpper("var/tmp/hello") != "hello\n" {
		t.Error("root volume lost /var/tmp/hello across stop")
	}
	if _, err := os.Stat(vpcnet.NamespacePath(n.Names().InstanceNamespace(id))); err == nil {
		t.Error("the stopped instance's network namespace is still there")
	}
	if c, _ := client.Get("http://" + public.String() + ":8080/"); c != nil {
		c.Body.Close()
		t.Error("the stopped instance still answers")
	}

	// Start again: user data does not run again; per-boot scripts do.
	ctl.set(t, id, func(s *ec2.InstanceSpec) { s.State = "pending" })
	waitFor(t, 20*time.Second, "running again", func() bool { return ctl.state(id) == "running" })
	pid2 := rt.initPID(id)
	pidsSeen[pid2] = true
	waitFor(t, 15*time.Second, "the per-boot script", func() bool { return readUpper("var/tmp/boots") == "boot\n" })
	if runs := strings.Count(readUpper("var/tmp/userdata-runs"), "\n"); runs != 1 {
		t.Errorf("user data ran %d times, want once", runs)
	}

	// Reboot: a new init, same namespace, the per-boot script again.
	ctl.set(t, id, func(s *ec2.InstanceSpec) { s.RebootRequests++; s.Generation-- }) // a reboot is no state change
	waitFor(t, 20*time.Second, "the per-boot script after reboot", func() bool { return readUpper("var/tmp/boots") == "boot\nboot\n" })
	pid3 := rt.initPID(id)
	pidsSeen[pid3] = true
	if pid3 == pid2 || syscall.Kill(pid2, 0) == nil {
		t.Errorf("reboot: init %d → %d, old one alive: %v", pid2, pid3, syscall.Kill(pid2, 0) == nil)
	}
	if ctl.state(id) != "running" {
		t.Errorf("state after reboot = %s", ctl.state(id))
	}

	// minicloud restarts: Stop takes the instance down without reporting
	// anything; the next runtime boots it again, without its user data.
	sctx, scancel := context.WithTimeout(ctx, 15*time.Second)
	must(rt.Stop(sctx))
	scancel()
	if syscall.Kill(pid3, 0) == nil {
		t.Error("init alive after the runtime stopped")
	}
	if ctl.state(id) != "running" {
		t.Errorf("state after a runtime shutdown = %s, want running", ctl.state(id))
	}
	rt = New(cfg)
	must(rt.Start(ctl))
	waitFor(t, 20*time.Second, "the per-boot script after a runtime restart", func() bool { return readUpper("var/tmp/boots") == "boot\nboot\nboot\n" })
	if runs := strings.Count(readUpper("var/tmp/userdata-runs"), "\n"); runs != 1 {
		t.Errorf("user data ran %d times, want once", runs)
	}
	pid4 := rt.initPID(id)
	pidsSeen[pid4] = true

	// The guest powers itself off (busybox poweroff signals PID 1 with
	// SIGUSR2; from the host here): reported stopped by the instance.
	must(syscall.Kill(pid4, syscall.SIGUSR2))
	waitFor(t, 15*time.Second, "stopped by the guest", func() bool { return ctl.state(id) == "stopped" })
	ctl.mu.Lock()
	reason := ctl.reason
	ctl.mu.Unlock()
	if reason != "Client.InstanceInitiatedShutdown" {
		t.Errorf("reason of a guest poweroff = %q", reason)
	}
	if !strings.Contains(ctl.console(id), "reboot: Power down") {
		t.Error("console lacks the power-down line")
	}

	// Terminate: everything goes, the root volume too.
	ctl.set(t, id, func(s *ec2.InstanceSpec) { s.State = "shutting-down" })
	waitFor(t, 15*time.Second, "terminated", func() bool { return ctl.state(id) == "terminated" })
	waitFor(t, 5*time.Second, "the instance directory to go", func() bool { return !exists(filepath.Join(dir, id)) })
	if syscall.Kill(pid4, 0) == nil {
		t.Error("init still alive after terminate")
	}
	t.Logf("whole lifecycle took %s", time.Since(start))
}

func checkCgroups(t *testing.T, rt *Runtime, id string, pid int, vcpus, memMiB int64) {
	t.Helper()
	dirs := rt.wl.CgroupDirs(id)
	read := func(p string) string { b, _ := os.ReadFile(p); return strings.TrimSpace(string(b)) }
	switch rt.wl.Cgroups() {
	case 1:
		if got := read(filepath.Join(dirs[0], "cpu.cfs_quota_us")); got != strconv.FormatInt(vcpus*100000, 10) {
			t.Errorf("cpu.cfs_quota_us = %s", got)
		}
		if got := read(filepath.Join(dirs[0], "cpu.cfs_period_us")); got != "100000" {
			t.Errorf("cpu.cfs_period_us = %s", got)
		}
		if got := read(filepath.Join(dirs[1], "memory.limit_in_bytes")); got != strconv.FormatInt(memMiB<<20, 10) {
			t.Errorf("memory.limit_in_bytes = %s", got)
		}
	case 2:
		if got := read(filepath.Join(dirs[0], "cpu.max")); got != fmt.Sprintf("%d 100000", vcpus*100000) {
			t.Errorf("cpu.max = %s", got)
		}
		if got := read(filepath.Join(dirs[0], "memory.max")); got != strconv.FormatInt(memMiB<<20, 10) {
			t.Errorf("memory.max = %s", got)
		}
	default:
		t.Fatal("no usable cgroups on this host")
	}
	for _, d := range dirs {
		procs := strings.Fields(read(filepath.Join(d, "cgroup.procs")))
		if !containsStr(procs, strconv.Itoa(pid)) || len(procs) < 2 {
			t.Errorf("%s/cgroup.procs = %v, want the init %d and its guest processes", d, procs, pid)
		}
	}
}

func containsStr(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// pidsInNamespace lists host processes whose PID namespace is ns.
func pidsInNamespace(ns string) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid)); err == nil && l == ns {
			out = append(out, pid)
		}
	}
	return out
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func TestAvailableReasons(t *testing.T) {
	if ok, why := New(Config{Dir: t.TempDir(), Prefix: "t"}).Available(); ok || !strings.Contains(why, "vpcnet") && !strings.Contains(why, "root") {
		t.Errorf("without a network: ok=%v why=%q", ok, why)
	}
	if !hasFilesystem("nodev\tproc\nnodev\toverlay\n", "overlay") || hasFilesystem("nodev\tproc\n", "overlay") {
		t.Error("hasFilesystem")
	}
	if got := resolverFor([]netip.Prefix{netip.MustParsePrefix("172.31.0.0/16")}, netip.MustParseAddr("172.31.5.6")); got.String() != "172.31.0.2" {
		t.Errorf("resolver = %s", got)
	}
	if got := resolverFor(nil, netip.Addr{}); got.String() != "169.254.169.253" {
		t.Errorf("resolver without CIDRs = %s", got)
	}
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }
