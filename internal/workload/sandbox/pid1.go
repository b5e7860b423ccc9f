package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// NewReaper returns the child handling of a workload's PID 1; call Reap on
// every SIGCHLD (and now and then: signals coalesce). Exec forks through
// spawner, the hardened thread, when it is not nil.
func NewReaper(spawner *Spawner) *Reaper {
	return &Reaper{waiters: map[int]chan syscall.WaitStatus{}, spawner: spawner}
}

// StopAll signals every other process of the PID namespace (kill(-1) from
// its init), gives them grace to exit, then kills what is left.
func StopAll(grace time.Duration, rp *Reaper) {
	if grace <= 0 {
		grace = 5 * time.Second
	}
	_ = unix.Kill(-1, unix.SIGTERM)
	_ = unix.Kill(-1, unix.SIGCONT)
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if rp.Reap(); unix.Kill(-1, 0) == unix.ESRCH {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = unix.Kill(-1, unix.SIGKILL)
	for range 100 {
		if rp.Reap(); unix.Kill(-1, 0) == unix.ESRCH {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Reaper is PID 1's child handling: it reaps every child (orphans adopted
// from the guest's background processes included) and hands the exit
// status of the commands it started to their waiters. Starting a command
// and registering its waiter happen under the lock the reaper holds while
// reaping, so no exit is missed.
type Reaper struct {
	mu      sync.Mutex
	waiters map[int]chan syscall.WaitStatus
	spawner *Spawner
}

// Reap reaps every child that has exited, without waiting.
func (rp *Reaper) Reap() {
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

// Start forks and executes path through the hardened thread (when the
// reaper has one) with attr, and returns its PID and the channel its wait
// status arrives on once Reap has reaped it. The waiter is registered
// under the reaper's lock, so an exit is never reaped before it is.
// Descriptors the caller does not list in attr.Files must be close-on-exec:
// nothing else of the init may reach the guest.
func (rp *Reaper) Start(path string, argv []string, attr *syscall.ProcAttr) (int, <-chan syscall.WaitStatus, error) {
	ch := make(chan syscall.WaitStatus, 1)
	rp.mu.Lock()
	defer rp.mu.Unlock()
	var pid int
	var err error
	fork := func() { pid, err = syscall.ForkExec(path, argv, attr) }
	if rp.spawner != nil {
		rp.spawner.Do(fork)
	} else {
		fork()
	}
	if err != nil {
		return 0, nil, err
	}
	rp.waiters[pid] = ch
	return pid, ch, nil
}

// LookPath finds file in env's PATH (the usual system directories without
// one), as a shell would.
func LookPath(file string, env []string) (string, error) { return lookPath(file, env) }

// Exec runs a command and returns its exit status (128+signal when a
// signal ended it); it is cloudinit.ExecFunc inside a workload: the init
// already is in the workload's namespaces and root, so it forks and
// executes directly. ctx ending kills the command's process group.
// The command's output goes to out through a pipe; background processes
// that keep the pipe open do not hold the boot up (cloud-init would hang).
func (rp *Reaper) Exec(ctx context.Context, argv []string, env []string, dir string, out io.Writer) (int, error) {
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
	pid, ch, err := rp.Start(path, argv, &syscall.ProcAttr{Dir: dir, Env: env,
		Files: []uintptr{devnull.Fd(), pw.Fd(), pw.Fd()}, Sys: &syscall.SysProcAttr{Setpgid: true}})
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
