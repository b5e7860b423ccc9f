package workload_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/vpcnet"
	"github.com/minicloud/minicloud/internal/workload"
)

// The main thread must never be one vpcnet leaves in a namespace.
func init() { runtime.LockOSThread() }

// env is a VPC (10.0.0.0/16, subnet 10.0.1.0/24) on a vpcnet.Network with a
// prefix of its own and a workload Runtime on it; everything is removed
// when the test ends.
type env struct {
	t      *testing.T
	ctx    context.Context
	net    *vpcnet.Network
	rt     *workload.Runtime
	prefix string
	syncs  atomic.Int32
}

func newEnv(t *testing.T) *env {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("workload tests need root (network namespaces, cgroups); run them as root")
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	prefix := "w" + hex.EncodeToString(b)[:5]
	n, err := vpcnet.New(vpcnet.Config{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	e := &env{t: t, ctx: ctx, net: n, prefix: prefix}
	e.rt = workload.New(workload.Config{Net: n, CgroupPrefix: prefix, Sync: func(context.Context) error {
		e.syncs.Add(1)
		return nil
	}})
	t.Cleanup(func() {
		defer cancel()
		if err := n.Cleanup(context.Background()); err != nil {
			t.Errorf("Cleanup: %v", err)
		}
		_ = n.Close()
		if left, _ := vpcnet.Namespaces(prefix + "-"); len(left) > 0 {
			t.Errorf("namespaces left: %v", left)
		}
	})
	if err := n.EnsureVPC(ctx, vpcnet.VPC{ID: "vpc-1", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}}); err != nil {
		t.Fatal(err)
	}
	if err := n.EnsureSubnet(ctx, vpcnet.Subnet{VPCID: "vpc-1", ID: "subnet-1", CIDR: netip.MustParsePrefix("10.0.1.0/24")}); err != nil {
		t.Fatal(err)
	}
	return e
}

func eni(id, ip string, dev int) vpcnet.ENI {
	return vpcnet.ENI{ID: id, VPCID: "vpc-1", SubnetID: "subnet-1", IP: netip.MustParseAddr(ip), DeviceIndex: dev}
}

// addrs lists the IPv4 addresses inside the namespace at ns, by device.
func addrs(t *testing.T, ns string) string {
	t.Helper()
	out, err := exec.Command("nsenter", "--net="+ns, "ip", "-4", "-o", "addr").CombinedOutput()
	if err != nil {
		t.Fatalf("ip addr in %s: %v: %s", ns, err, out)
	}
	return string(out)
}

// Place puts a workload on its ENIs after the network controller's pass;
// placing it again with another set swaps the interfaces; Unplace removes
// everything.
func TestPlaceAndUnplace(t *testing.T) {
	e := newEnv(t)
	pl, err := e.rt.Place(e.ctx, "wl-1", []vpcnet.ENI{eni("eni-a", "10.0.1.10", 0)})
	if err != nil {
		t.Fatal(err)
	}
	if e.syncs.Load() == 0 {
		t.Error("Place returned before any network controller pass")
	}
	if got := addrs(t, pl.NS); !strings.Contains(got, "eth0") || !strings.Contains(got, "10.0.1.10/24") {
		t.Errorf("eth0 10.0.1.10/24 missing:\n%s", got)
	}
	pl, err = e.rt.Place(e.ctx, "wl-1", []vpcnet.ENI{eni("eni-b", "10.0.1.11", 1)})
	if err != nil {
		t.Fatal(err)
	}
	if got := addrs(t, pl.NS); strings.Contains(got, "10.0.1.10") || !strings.Contains(got, "eth1") {
		t.Errorf("want only eth1 10.0.1.11:\n%s", got)
	}
	if p := pl.Primary(); p.ID != "eni-b" {
		t.Errorf("Primary = %s", p.ID)
	}
	if err := e.rt.Unplace(e.ctx, "wl-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(pl.NS); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("namespace %s still there: %v", pl.NS, err)
	}
}

// An ENI in a subnet the network does not have fails after one pass of the
// controller, naming the cause.
func TestPlaceUnknownSubnet(t *testing.T) {
	e := newEnv(t)
	bad := eni("eni-x", "10.0.2.10", 0)
	bad.SubnetID = "subnet-missing"
	_, err := e.rt.Place(e.ctx, "wl-2", []vpcnet.ENI{bad})
	if !errors.Is(err, vpcnet.ErrSubnetNotFound) {
		t.Fatalf("Place = %v, want ErrSubnetNotFound", err)
	}
	if e.syncs.Load() != 1 {
		t.Errorf("%d passes waited for, want 1", e.syncs.Load())
	}
	if err := e.rt.Unplace(e.ctx, "wl-2"); err != nil {
		t.Fatal(err)
	}
}

// A process starts inside the placement's namespace, in its cgroups; it
// is stopped step by step (a SIGTERM it ignores, then SIGKILL); OnExit
// reports an exit of its own, not a stop.
func TestProcess(t *testing.T) {
	e := newEnv(t)
	pl, err := e.rt.Place(e.ctx, "wl-3", []vpcnet.ENI{eni("eni-c", "10.0.1.12", 0)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = e.rt.Unplace(e.ctx, "wl-3") }()

	cmd := exec.Command("/bin/sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done")
	out, _ := cmd.StdoutPipe()
	var exits atomic.Int32
	p, err := e.rt.Start(workload.ProcessSpec{
		Workload: "wl-3", Cmd: cmd, NS: pl.NS,
		Limits: workload.Limits{VCPUs: 1, MemoryMiB: 64},
		Stop:   []workload.StopStep{{Signal: syscall.SIGTERM, Wait: 300 * time.Millisecond}, {Signal: syscall.SIGKILL}},
		OnExit: func(error) { exits.Add(1) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		t.Fatalf("process said %q", line)
	}
	if got, want := nsInode(t, fmt.Sprintf("/proc/%d/ns/net", p.Pid())), nsInode(t, pl.NS); got != want {
		t.Errorf("process in namespace %d, want the placement's %d", got, want)
	}
	if e.rt.Cgroups() != 0 {
		for _, d := range e.rt.CgroupDirs("wl-3") {
			procs, err := os.ReadFile(filepath.Join(d, "cgroup.procs"))
			if err != nil || !strings.Contains(string(procs), strconv.Itoa(p.Pid())) {
				t.Errorf("pid %d not in %s: %q %v", p.Pid(), d, procs, err)
			}
		}
	}
	start := time.Now()
	p.Stop()
	if el := time.Since(start); el < 300*time.Millisecond || el > 5*time.Second {
		t.Errorf("Stop took %s: the ignored SIGTERM's wait, then SIGKILL", el)
	}
	if !p.Exited() || !strings.Contains(fmt.Sprint(p.Err()), "killed") {
		t.Errorf("exited %v with %v, want killed", p.Exited(), p.Err())
	}
	for _, d := range e.rt.CgroupDirs("wl-3") {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("cgroup %s left: %v", d, err)
		}
	}
	p.Stop() // idempotent

	// An exit of its own is reported once.
	p2, err := e.rt.Start(workload.ProcessSpec{Workload: "wl-3", Cmd: exec.Command("/bin/sh", "-c", "exit 3"), NS: pl.NS,
		OnExit: func(error) { exits.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	<-p2.Done()
	deadline := time.Now().Add(2 * time.Second)
	for exits.Load() != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if exits.Load() != 1 {
		t.Errorf("OnExit called %d times, want once (for the exit, not for the stop)", exits.Load())
	}
	if !strings.Contains(fmt.Sprint(p2.Err()), "exit status 3") {
		t.Errorf("Err = %v", p2.Err())
	}
}

func nsInode(t *testing.T, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// Forward relays a loopback port of the host to a server inside the
// workload's namespace, and Close cuts the connections in flight.
func TestForward(t *testing.T) {
	e := newEnv(t)
	pl, err := e.rt.Place(e.ctx, "wl-4", []vpcnet.ENI{eni("eni-d", "10.0.1.13", 0)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = e.rt.Unplace(e.ctx, "wl-4") }()
	ln, err := workload.ListenIn(pl.NS, "tcp", "10.0.1.13:7000")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	port, err := e.rt.Ports().Reserve(t.Name(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer e.rt.Ports().Release(t.Name())
	fw, err := workload.Forward(port, pl.NS, netip.MustParseAddrPort("10.0.1.13:7000"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(c).ReadString('\n'); line != "hello\n" {
		t.Fatalf("echo through the forward: %q %v", line, err)
	}
	fw.Close()
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("the connection survived Close")
	}
	// Nothing listens on the host's side any more.
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
		c.Close()
		t.Error("the forward still accepts after Close")
	}
}

// Ports never hands one port to two owners, even when they ask at once,
// and gives an owner back the port it asks for again.
func TestPorts(t *testing.T) {
	ports := workload.New(workload.Config{}).Ports()
	var mu sync.Mutex
	seen := map[int]string{}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			owner := fmt.Sprintf("%s-%d", t.Name(), i)
			p, err := ports.Reserve(owner, 0)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if o, dup := seen[p]; dup {
				t.Errorf("port %d handed to %s and %s", p, o, owner)
			}
			seen[p] = owner
		})
	}
	wg.Wait()
	for p, owner := range seen {
		if again, err := ports.Reserve(owner, p); err != nil || again != p {
			t.Errorf("%s asked again for %d: got %d %v", owner, p, again, err)
		}
		if other, err := ports.Reserve(owner+"-other", p); err != nil || other == p {
			t.Errorf("another owner asking for %d got %d %v", p, other, err)
		}
		ports.Release(owner + "-other")
		ports.Release(owner)
		if o := ports.Owner(p); o != "" {
			t.Errorf("port %d still held by %q after Release", p, o)
		}
	}
}

// Usage counts a workload's CPU time (its cgroup's) and the traffic of its
// namespace's interfaces: a process that burns a CPU for half a second and
// sends packets shows both.
func TestUsage(t *testing.T) {
	e := newEnv(t)
	if e.rt.Cgroups() == 0 {
		t.Skip("no cgroups")
	}
	pl, err := e.rt.Place(e.ctx, "wl-u", []vpcnet.ENI{eni("eni-u", "10.0.1.14", 0)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = e.rt.Unplace(e.ctx, "wl-u") }()
	// Burn half a second of CPU time — the shell's own, read from
	// /proc/self/stat (utime + stime in 1/100 s), so a busy host only makes
	// it take longer — then send UDP to the subnet's router (its packets
	// count whether anyone answers or not).
	cmd := exec.Command("/bin/bash", "-c", `while read -ra s < /proc/$$/stat; (( s[13] + s[14] < 50 )); do :; done
for i in 1 2 3 4 5; do echo x > /dev/udp/10.0.1.1/9 2>/dev/null || true; done; echo done`)
	out, _ := cmd.StdoutPipe()
	p, err := e.rt.Start(workload.ProcessSpec{Workload: "wl-u", Cmd: cmd, NS: pl.NS, Limits: workload.Limits{VCPUs: 1, MemoryMiB: 64}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "done\n" {
		t.Fatalf("process said %q", line)
	}
	u, err := e.rt.Usage("wl-u")
	if err != nil {
		t.Fatal(err)
	}
	if u.CPU < 300*time.Millisecond || u.CPU > 5*time.Second {
		t.Errorf("CPU time %s, want about 0.5 s", u.CPU)
	}
	if u.Net.TxPackets < 5 || u.Net.TxBytes < 5*28 {
		t.Errorf("sent %d packets, %d bytes: want at least 5 UDP datagrams", u.Net.TxPackets, u.Net.TxBytes)
	}
	if _, err := e.rt.Usage("nothing-here"); err == nil {
		t.Error("usage of a workload that never ran: no error")
	}
}

// A Measured process without limits gets a cgroup all the same, whose
// usage (CPU time, the memory it holds) can be read.
func TestUsageMeasured(t *testing.T) {
	e := newEnv(t)
	if e.rt.Cgroups() == 0 {
		t.Skip("no cgroups")
	}
	// 16 MiB of anonymous memory held while it sleeps.
	cmd := exec.Command("/bin/bash", "-c", `x=$(head -c 16777216 /dev/zero | tr '\0' a); echo held; sleep 30; echo ${#x}`)
	out, _ := cmd.StdoutPipe()
	p, err := e.rt.Start(workload.ProcessSpec{Workload: "wl-m", Cmd: cmd, Measured: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "held\n" {
		t.Fatalf("process said %q", line)
	}
	u, err := e.rt.Usage("wl-m")
	if err != nil {
		t.Fatal(err)
	}
	if u.CPU <= 0 {
		t.Errorf("CPU time %s, want some", u.CPU)
	}
	if u.Memory < 14<<20 {
		t.Errorf("memory %d bytes, want at least 14 MiB", u.Memory)
	}
}

// TestStopEndsWhatTheProcessLeft: a workload whose process started a
// background child is gone whole after Stop — the child too, and its
// cgroups — as a VM's power-off leaves nothing running; and stopping an
// old process does not touch a newer one started under the same name.
func TestStopEndsWhatTheProcessLeft(t *testing.T) {
	e := newEnv(t)
	if e.rt.Cgroups() == 0 {
		t.Skip("no cgroups")
	}
	// The shell prints its background child's PID and exits at SIGTERM
	// (DefaultStop) while the child, in another process group, lives on.
	start := func(name string) (*workload.Process, int) {
		t.Helper()
		cmd := exec.Command("/bin/bash", "-c", `setsid sleep 60 & echo $!; exec sleep 60`)
		out, _ := cmd.StdoutPipe()
		p, err := e.rt.Start(workload.ProcessSpec{Workload: name, Cmd: cmd, Measured: true})
		if err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(out).ReadString('\n')
		child, err := strconv.Atoi(strings.TrimSpace(line))
		if err != nil {
			p.Stop()
			t.Fatalf("child PID %q: %v", line, err)
		}
		return p, child
	}
	alive := func(pid int) bool { return syscall.Kill(pid, 0) == nil }

	p, child := start("wl-left")
	p.Stop()
	deadline := time.Now().Add(5 * time.Second)
	for alive(child) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if alive(child) {
		_ = syscall.Kill(child, syscall.SIGKILL)
		t.Errorf("the background child %d outlived its workload's Stop", child)
	}
	for _, d := range e.rt.CgroupDirs("wl-left") {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("cgroup %s left after Stop", d)
		}
	}

	old, oldChild := start("wl-same")
	newer, newerChild := start("wl-same")
	defer newer.Stop()
	old.Stop()
	if !alive(newerChild) || newer.Exited() {
		t.Errorf("stopping the old process of wl-same ended the newer one's processes")
	}
	if !alive(oldChild) {
		t.Errorf("the old process's child %d ended though its cgroup is the newer process's now", oldChild)
	}
	newer.Stop()
	for _, pid := range []int{oldChild, newerChild} {
		for alive(pid) && time.Now().Before(deadline.Add(5*time.Second)) {
			time.Sleep(20 * time.Millisecond)
		}
		if alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("process %d outlived the last Stop of wl-same", pid)
		}
	}
}

// SetLimits changes a running workload's CPU and memory limits in its
// cgroup, and lifts them.
func TestSetLimits(t *testing.T) {
	e := newEnv(t)
	if e.rt.Cgroups() == 0 {
		t.Skip("no cgroups")
	}
	cmd := exec.Command("/bin/sleep", "30")
	p, err := e.rt.Start(workload.ProcessSpec{Workload: "wl-s", Cmd: cmd, Measured: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	dirs := e.rt.CgroupDirs("wl-s")
	cpuFile, memFile := filepath.Join(dirs[0], "cpu.max"), filepath.Join(dirs[0], "memory.max")
	if e.rt.Cgroups() == 1 {
		cpuFile, memFile = filepath.Join(dirs[0], "cpu.cfs_quota_us"), filepath.Join(dirs[1], "memory.limit_in_bytes")
	}
	read := func(f string) string {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	for _, tc := range []struct {
		lim          workload.Limits
		cpuV1, cpuV2 string
		memV1, memV2 string
	}{
		{workload.Limits{MilliCPUs: 500, MemoryMiB: 256}, "50000", "50000 100000", "268435456", "268435456"},
		{workload.Limits{VCPUs: 1, MemoryMiB: 128}, "100000", "100000 100000", "134217728", "134217728"},
		{workload.Limits{}, "-1", "max 100000", "", "max"},
	} {
		if err := e.rt.SetLimits("wl-s", tc.lim); err != nil {
			t.Fatalf("SetLimits(%+v): %v", tc.lim, err)
		}
		cpu, mem := tc.cpuV2, tc.memV2
		if e.rt.Cgroups() == 1 {
			cpu, mem = tc.cpuV1, tc.memV1
		}
		if got := read(cpuFile); got != cpu {
			t.Errorf("after %+v: CPU %q, want %q", tc.lim, got, cpu)
		}
		// v1 shows "no limit" as the largest page-aligned value.
		if got := read(memFile); mem != "" && got != mem {
			t.Errorf("after %+v: memory %q, want %q", tc.lim, got, mem)
		} else if mem == "" && len(got) < 15 {
			t.Errorf("after %+v: memory %q, want unlimited", tc.lim, got)
		}
	}
	if err := e.rt.SetLimits("wl-none", workload.Limits{VCPUs: 1}); err == nil {
		t.Error("SetLimits of a workload without a cgroup succeeded")
	}
}

// DialIn takes an address only: a name would be resolved on the host, and
// one with several addresses raced from threads in the host's namespace.
func TestDialInNeedsAnAddress(t *testing.T) {
	for _, addr := range []string{"localhost:80", "example.internal:443", "80"} {
		if c, err := workload.DialIn("", "tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("DialIn(%q) dialled a name", addr)
		}
	}
}
