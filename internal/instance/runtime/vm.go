package runtime

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minicloud/minicloud/internal/service/ec2"
	"github.com/minicloud/minicloud/internal/workload"
	"github.com/minicloud/minicloud/internal/workload/sandbox"
)

// consoleCap is how much console output is kept unreported (GetConsoleOutput
// keeps the last 64 KiB too).
const consoleCap = 64 << 10

// vm is one boot of an instance: its init process and what reads from it.
type vm struct {
	w        *worker
	proc     *workload.Process
	userns   *os.File // the init's user namespace, for idmapped mounts
	pid      int
	agent    *agentConn // the init's agent socket (agent.go)
	launched time.Time
	bootTime time.Time
	poweroff atomic.Bool
	status   chan string
	con      console
	flushed  chan struct{} // closed when the console is drained and reported
}

// console buffers output not yet reported.
type console struct {
	mu  sync.Mutex
	buf []byte
}

func (c *console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = append(c.buf, p...)
	if len(c.buf) > consoleCap {
		c.buf = append(c.buf[:0], c.buf[len(c.buf)-consoleCap:]...)
	}
	return len(p), nil
}

func (c *console) take() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := string(c.buf)
	c.buf = c.buf[:0]
	return s
}

func (v *vm) exited() bool { return v.proc.Exited() }

// instancePids caps the processes and threads of one instance: a fork bomb
// in a guest takes its own instance down, not the host.
const instancePids = 4096

// startVM starts the instance's init in the instance's network namespace,
// as root of its own user namespace (a range of the host's IDs that is no
// one on the host) with new mount, PID, UTS, IPC and cgroup namespaces;
// puts it in its cgroups; hands it its root's trees — the image's layers,
// the instance directory (the root volume) and the ebs mount, idmapped for
// its user namespace — mounts the volumes attached at boot and hands it its
// configuration; and waits until its root filesystem is up. layers names
// the image's layers for the console; prep are console lines of what was
// prepared for the boot (the image's first build).
func (r *Runtime) startVM(w *worker, spec *ec2.InstanceSpec, nsPath string, lowers []string, layers string, prep []string) (*vm, error) {
	bin, err := r.binary()
	if err != nil {
		return nil, err
	}
	dir := r.instanceDir(spec.InstanceID)
	bootTime := time.Now()
	ids, err := r.wl.IDs().Reserve(spec.InstanceID)
	if err != nil {
		return nil, err
	}
	icfg := initConfig{
		InstanceID: spec.InstanceID,
		Hostname:   shortHostname(spec),
		UserData:   spec.UserData,
		Root:       sandbox.Root{Layers: len(lowers), Binds: []sandbox.Bind{{Target: ebsMountRoot, ReadOnlyTop: true}}},
		Layers:     layers,
		BootTime:   bootTime,
		Grace:      r.cfg.StopGrace / 2,
	}
	var files []*os.File
	pipe := func() (*os.File, *os.File) {
		pr, pw, perr := os.Pipe()
		if perr != nil && err == nil {
			err = perr
		}
		files = append(files, pr, pw)
		return pr, pw
	}
	ctlR, ctlW := pipe()
	stR, stW := pipe()
	conR, conW := pipe()
	treesR, treesW, serr := socketPair()
	if serr != nil && err == nil {
		err = serr
	}
	files = append(files, treesR, treesW)
	agentR, agentW, aerr := agentSocketPair()
	if aerr != nil && err == nil {
		err = aerr
	}
	files = append(files, agentR, agentW)
	if err != nil {
		closeAll(files)
		r.wl.IDs().Release(spec.InstanceID)
		return nil, err
	}
	// The init runs as no one on the host, who may not be able to reach
	// minicloud's binary by its path (under /root, say): it executes the
	// file minicloud opened for it, fd 6.
	binFile, err := os.Open(bin)
	if err != nil {
		closeAll(files)
		r.wl.IDs().Release(spec.InstanceID)
		return nil, fmt.Errorf("open %s: %w", bin, err)
	}
	defer binFile.Close()
	cmd := exec.Command("/proc/self/fd/6", initArg, spec.InstanceID)
	cmd.Args[0] = bin
	// The init's environment is its own: nothing of minicloud's leaks in.
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "TERM=linux", "LANG=C.UTF-8"}
	if r.cfg.CACert != nil {
		cmd.Env = append(cmd.Env, CAEnvironment)
	}
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = conW, conW
	cmd.ExtraFiles = []*os.File{ctlR, stW, treesR, binFile, agentR} // fds 3, 4, 5, 6 and 7
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC,
		Setsid:     true,
		// If minicloud dies without Stop, its instances die with it (the
		// next Start boots them again).
		Pdeathsig: syscall.SIGKILL,
	}
	v := &vm{w: w, bootTime: bootTime, status: make(chan string, 8), flushed: make(chan struct{})}
	v.banner(spec)
	for _, l := range prep {
		fmt.Fprintf(&v.con, "[%12.6f] %s\n", time.Since(bootTime).Seconds(), l)
	}
	proc, err := r.wl.Start(workload.ProcessSpec{
		Workload: spec.InstanceID,
		Cmd:      cmd,
		NS:       nsPath,
		Users:    &ids,
		// The init waits for its configuration (below) before it mounts
		// anything, so no process of the guest runs outside these limits.
		Limits: workload.Limits{VCPUs: spec.VCPUs, MemoryMiB: spec.MemoryMiB, Pids: instancePids},
		// SIGTERM: the init stops every process of the instance, then
		// exits; SIGKILL to PID 1 kills the whole PID namespace.
		Stop: []workload.StopStep{{Signal: syscall.SIGTERM, Wait: r.cfg.StopGrace}, {Signal: syscall.SIGKILL}},
		// An init that exits on its own (a guest reboot or power-off, a
		// crash) is the worker's to handle.
		OnExit: func(error) { r.kick(w.key) },
	})
	ctlR.Close()
	stW.Close()
	conW.Close()
	treesR.Close()
	agentR.Close()
	if err != nil {
		ctlW.Close()
		stR.Close()
		conR.Close()
		treesW.Close()
		agentW.Close()
		r.wl.IDs().Release(spec.InstanceID)
		return nil, fmt.Errorf("start instance init: %w", err)
	}
	v.proc = proc
	v.pid = proc.Pid()
	conDone := make(chan struct{})
	go func() { // console
		defer close(conDone)
		buf := make([]byte, 8192)
		for {
			n, err := conR.Read(buf)
			if n > 0 {
				_, _ = v.con.Write(buf[:n])
			}
			if err != nil {
				conR.Close()
				return
			}
		}
	}()
	go v.flusher(conDone)
	go v.readStatus(stR)

	// A guest that fails to boot leaves no cgroup behind.
	agent, err := fdConn(int(agentW.Fd()))
	agentW.Close()
	if err != nil {
		treesW.Close()
		ctlW.Close()
		v.stop()
		return nil, err
	}
	v.agent = &agentConn{c: agent, ns: nsPath}
	fail := func(err error) (*vm, error) {
		treesW.Close()
		ctlW.Close()
		v.stop()
		return nil, err
	}
	if v.userns, err = os.Open(fmt.Sprintf("/proc/%d/ns/user", v.pid)); err != nil {
		return fail(fmt.Errorf("the instance's user namespace: %w", err))
	}
	// Volumes attached at boot are there before the user data runs: they
	// are mounted below the ebs mount before its tree is cloned; later
	// ones propagate into the instance.
	icfg.EBSLines = w.ebsSync(spec, v)
	if err := sendTrees(treesW, v.userns, lowers, dir); err != nil {
		return fail(err)
	}
	treesW.Close()
	cfgJSON, _ := json.Marshal(icfg)
	_, werr := ctlW.Write(cfgJSON)
	ctlW.Close()
	if werr != nil {
		return fail(fmt.Errorf("configure instance init: %w", werr))
	}
	timer := time.NewTimer(r.cfg.BootTimeout)
	defer timer.Stop()
	select {
	case s := <-v.status:
		if s != "up" {
			return fail(fmt.Errorf("instance init: %s", strings.TrimPrefix(s, "error ")))
		}
	case <-proc.Done():
		return fail(fmt.Errorf("instance init exited while booting: %v", proc.Err()))
	case <-timer.C:
		return fail(fmt.Errorf("instance init did not come up within %s", r.cfg.BootTimeout))
	}
	v.launched = time.Now().UTC().Truncate(time.Second)
	w.log.Info("instance booted", "pid", v.pid)
	return v, nil
}

// sendTrees makes the trees of the instance's root — each image layer and
// the instance directory (upper and work), idmapped for its user namespace,
// and the ebs mount with the volumes below it (each already idmapped:
// ebsSync) — and sends them.
func sendTrees(sock, userns *os.File, lowers []string, dir string) error {
	var all []*os.File
	defer func() {
		for _, f := range all {
			f.Close()
		}
	}()
	mapped := func(path string, recursive bool) (*os.File, error) {
		f, err := sandbox.IDMapped(path, userns, recursive)
		if err == nil {
			all = append(all, f)
		}
		return f, err
	}
	var layers []*os.File
	for _, l := range lowers {
		f, err := mapped(l, false)
		if err != nil {
			return err
		}
		layers = append(layers, f)
	}
	inst, err := mapped(dir, false)
	if err != nil {
		return err
	}
	ebs, err := sandbox.Clone(ebsDir(dir), true)
	if err != nil {
		return err
	}
	all = append(all, ebs)
	return sandbox.SendTrees(sock, layers, inst, []*os.File{ebs})
}

// socketPair is a connected pair of Unix stream sockets.
func socketPair() (*os.File, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "trees-child"), os.NewFile(uintptr(fds[1]), "trees-parent"), nil
}

// banner is the kernel-like start of the console.
func (v *vm) banner(spec *ec2.InstanceSpec) {
	release := "6"
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		release = unix.ByteSliceToString(u.Release[:])
	}
	fmt.Fprintf(&v.con, "[    0.000000] Linux version %s (minicloud@netns) #1 SMP minicloud instance runtime\n", release)
	fmt.Fprintf(&v.con, "[    0.000000] Command line: console=ttyS0 root=overlay ro init=minicloud-init instance_id=%s\n", spec.InstanceID)
	fmt.Fprintf(&v.con, "[    0.000000] DMI: Amazon EC2 %s/, BIOS 1.0 10/16/2017\n", spec.InstanceType)
}

// readStatus follows the init's status pipe: "up", "booted", "poweroff",
// "error <why>".
func (v *vm) readStatus(f *os.File) {
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		switch {
		case line == "booted":
			if !v.proc.Stopping() {
				v.report(ec2.InstanceReport{Reachable: new(true)})
			}
		case line == "poweroff":
			v.poweroff.Store(true)
		default:
			select {
			case v.status <- line:
			default:
			}
		}
	}
}

// flusher reports console output as it comes, until the console closes.
func (v *vm) flusher(conDone <-chan struct{}) {
	defer close(v.flushed)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-conDone:
			if s := v.con.take(); s != "" {
				v.report(ec2.InstanceReport{ConsoleOutput: s})
			}
			return
		case <-t.C:
			if s := v.con.take(); s != "" {
				v.report(ec2.InstanceReport{ConsoleOutput: s})
			}
		}
	}
}

// report sends r (console, reachability) unless the runtime is stopping.
func (v *vm) report(rep ec2.InstanceReport) {
	r := v.w.r
	if r.ctx.Err() != nil {
		return
	}
	ctx, cancel := context.WithTimeout(r.ctx, 5*time.Second)
	defer cancel()
	k := v.w.key
	if err := r.ctl.ReportInstance(ctx, k.account, k.region, k.id, rep); err != nil &&
		!errors.Is(err, ec2.ErrUnknownInstance) && ctx.Err() == nil {
		v.w.log.Warn("report console output", "err", err)
	}
}

// stop shuts the init down (the process's stop steps: SIGTERM, then
// SIGKILL after the grace) and waits for the console to be reported.
func (v *vm) stop() {
	if v.agent != nil {
		v.w.r.agents.CompareAndDelete(v.w.key, v.agent)
		v.agent.close()
	}
	v.proc.Stop()
	if v.userns != nil {
		v.userns.Close()
	}
	v.w.r.wl.IDs().Release(v.w.key.id)
	select {
	case <-v.flushed:
	case <-time.After(2 * time.Second):
	}
}

func closeAll(fs []*os.File) {
	for _, f := range fs {
		if f != nil {
			f.Close()
		}
	}
}

var _ io.Writer = (*console)(nil)
