package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minicloud/minicloud/internal/instance/cloudinit"
)

// initArg is argv[1] of a re-executed minicloud that is an instance's init.
const initArg = "__minicloud-instance-init"

// initConfig is what the runtime hands the init on fd 3.
type initConfig struct {
	InstanceID string
	Hostname   string
	UserData   []byte
	// Lowers are the image's read-only layers (host paths), top first;
	// "/" is the host's root; empty means the host's root alone.
	Lowers   []string
	Upper    string // overlay upper and work directories (host paths)
	Work     string
	Stage    string // an empty host directory to assemble the root on
	Hide     []string
	EBS      string   // host directory whose (shared) mount becomes /mnt/ebs
	EBSLines []string // console lines of the volumes attached at boot
	BootTime time.Time
	Grace    time.Duration // for the instance's processes after SIGTERM
}

// InitMain runs an instance's init when this process was started as one
// (argv[1] is the init marker): it never returns then, and exits with the
// init's status. Otherwise it returns false at once. Call it first thing in
// main (and in TestMain of tests that boot instances):
//
//	if runtime.InitMain() { return }
func InitMain() (handled bool) {
	if len(os.Args) < 2 || os.Args[1] != initArg {
		return false
	}
	os.Exit(runInit())
	return true
}

// initProc is PID 1 of an instance.
type initProc struct {
	cfg    initConfig
	status *os.File
	out    io.Writer
}

func (p *initProc) logf(format string, args ...any) {
	el := time.Since(p.cfg.BootTime).Seconds()
	fmt.Fprintf(p.out, "[%12.6f] %s\n", el, fmt.Sprintf(format, args...))
}

func (p *initProc) report(s string) { _, _ = io.WriteString(p.status, s+"\n") }

func runInit() int {
	// fds 3 (configuration) and 4 (status) must not leak into the guest.
	syscall.CloseOnExec(3)
	syscall.CloseOnExec(4)
	ctl, status := os.NewFile(3, "init-config"), os.NewFile(4, "init-status")
	p := &initProc{status: status, out: os.Stdout, cfg: initConfig{BootTime: time.Now()}}
	// Subscribe before anything can send them.
	sigc := make(chan os.Signal, 4)
	signal.Notify(sigc, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGPWR)
	chld := make(chan os.Signal, 1)
	signal.Notify(chld, syscall.SIGCHLD)

	// The runtime writes the configuration once the init is in its
	// cgroups, so nothing of the guest runs outside them.
	data, err := io.ReadAll(ctl)
	ctl.Close()
	if err == nil {
		err = json.Unmarshal(data, &p.cfg)
	}
	if err != nil {
		p.report("error read init configuration: " + err.Error())
		return 1
	}
	ebsErr, err := setupRoot(p.cfg)
	if err != nil {
		p.logf("minicloud-init: cannot mount the root filesystem: %v", err)
		p.report("error mount root: " + err.Error())
		return 1
	}
	if len(p.cfg.Lowers) == 0 || (len(p.cfg.Lowers) == 1 && p.cfg.Lowers[0] == hostLower) {
		p.logf("VFS: Mounted root (overlay filesystem): the host image read-only, the root volume as upper layer.")
	} else {
		p.logf("VFS: Mounted root (overlay filesystem): the image's %d layer(s) read-only, the root volume as upper layer.", len(p.cfg.Lowers))
	}
	_, shErr := os.Stat("/bin/sh")
	if shErr != nil {
		p.logf("minicloud-init: no /bin/sh in the image: cloud-init and the user data cannot run (%v)", shErr)
	}
	if ebsErr != nil {
		p.logf("minicloud-init: EBS volumes will not be visible: %v", ebsErr)
	}
	for _, l := range p.cfg.EBSLines {
		p.logf("%s", l)
	}
	if p.cfg.Hostname != "" {
		if err := unix.Sethostname([]byte(p.cfg.Hostname)); err != nil {
			p.logf("minicloud-init: sethostname: %v", err)
		}
	}
	p.logf("Run minicloud-init as init process")
	p.report("up")

	rp := &reaper{waiters: map[int]chan syscall.WaitStatus{}}
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-chld:
			case <-t.C:
			}
			rp.reap()
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		if shErr != nil {
			return // never "booted": the instance's status checks fail
		}
		b := cloudinit.Boot{Root: "/", InstanceID: p.cfg.InstanceID, UserData: p.cfg.UserData,
			Console: p.out, Exec: rp.exec, BootTime: p.cfg.BootTime}
		if err := b.Run(ctx); err != nil && ctx.Err() == nil {
			p.logf("minicloud-init: cloud-init: %v", err)
		}
		if ctx.Err() == nil {
			p.report("booted")
		}
	}()

	sig := <-sigc
	cancel()
	poweroff := sig != syscall.SIGTERM && sig != syscall.SIGINT
	p.logf("minicloud-init: received %s; stopping all processes", sig)
	stopAll(p.cfg.Grace, rp)
	rp.reap()
	if poweroff {
		p.report("poweroff")
		p.logf("reboot: Power down")
	} else {
		p.logf("reboot: Restarting system")
	}
	return 0
}

// stopAll signals every other process of the PID namespace (kill(-1) from
// its init), gives them grace to exit, then kills what is left.
func stopAll(grace time.Duration, rp *reaper) {
	if grace <= 0 {
		grace = 5 * time.Second
	}
	_ = unix.Kill(-1, unix.SIGTERM)
	_ = unix.Kill(-1, unix.SIGCONT)
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if rp.reap(); unix.Kill(-1, 0) == unix.ESRCH {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = unix.Kill(-1, unix.SIGKILL)
	for range 100 {
		if rp.reap(); unix.Kill(-1, 0) == unix.ESRCH {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// reaper is PID 1's child handling: it reaps every child (orphans adopted
// from the guest's background processes included) and hands the exit
// status of the commands it started to their waiters. Starting a command
// and registering its waiter happen under the lock the reaper holds while
// reaping, so no exit is missed.
type reaper struct {
	mu      sync.Mutex
	waiters map[int]chan syscall.WaitStatus
}

func (rp *reaper) reap() {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
		if ch := rp.waiters[pid]; ch != nil {
			ch <- ws
			delete(rp.waiters, pid)
		}
	}
}

// exec is cloudinit.ExecFunc inside the instance: the init already is in
// the instance's namespaces and root, so it forks and executes directly.
// The command's output goes to out through a pipe; background processes
// that keep the pipe open do not hold the boot up (cloud-init would hang).
func (rp *reaper) exec(ctx context.Context, argv []string, env []string, dir string, out io.Writer) (int, error) {
	if len(argv) == 0 {
		return -1, errors.New("empty command")
	}
	path, err := lookPath(argv[0], env)
	if err != nil {
		return -1, err
	}
	devnull, err := os.Open("/dev/null")
	if err != nil {
		return -1, err
	}
	defer devnull.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		return -1, err
	}
	ch := make(chan syscall.WaitStatus, 1)
	rp.mu.Lock()
	pid, err := syscall.ForkExec(path, argv, &syscall.ProcAttr{Dir: dir, Env: env,
		Files: []uintptr{devnull.Fd(), pw.Fd(), pw.Fd()}, Sys: &syscall.SysProcAttr{Setpgid: true}})
	if err == nil {
		rp.waiters[pid] = ch
	}
	rp.mu.Unlock()
	pw.Close()
	if err != nil {
		pr.Close()
		return -1, err
	}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		defer pr.Close()
		buf := make([]byte, 4096)
		for {
			n, err := pr.Read(buf)
			if n > 0 {
				_, _ = out.Write(buf[:n]) // keep draining even if out fails
			}
			if err != nil {
				return
			}
		}
	}()
	var ws syscall.WaitStatus
	select {
	case ws = <-ch:
	case <-ctx.Done():
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		ws = <-ch
	}
	select {
	case <-copied:
	case <-time.After(200 * time.Millisecond):
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ws.ExitStatus(), nil
}

func lookPath(file string, env []string) (string, error) {
	if strings.Contains(file, "/") {
		return file, nil
	}
	pathEnv := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathEnv = v
		}
	}
	for _, d := range filepath.SplitList(pathEnv) {
		p := filepath.Join(d, file)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: command not found", file)
}
