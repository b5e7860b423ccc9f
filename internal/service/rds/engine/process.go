package engine

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/minicloud/minicloud/internal/workload"
)

// Starting and supervising the servers' processes: each server is a
// process of the workload runtime (internal/workload), started in its
// namespace from a thread that lives as long as it does, and stopped step
// by step.

// Runner starts servers as processes of a workload runtime; engines hold
// the one they were made with.
type Runner struct {
	// Workloads supervises the processes; nil makes a runtime of its own
	// (loopback only, no limits) on first use.
	Workloads *workload.Runtime
}

var defaultWorkloads = sync.OnceValue(func() *workload.Runtime { return workload.New(workload.Config{}) })

func (r Runner) workloads() *workload.Runtime {
	if r.Workloads != nil {
		return r.Workloads
	}
	return defaultWorkloads()
}

// Server is one running server process an engine started.
type Server struct {
	// Port is where clients on this host reach the server on 127.0.0.1
	// (through the caller's proxy when it runs in a VPC's namespace); for
	// a server without a TCP address, the port that names its socket.
	Port int
	// NS is the network namespace it runs in, "" for the host's.
	NS string

	proc *workload.Process
}

// Run starts cmd, the server of workload name, in namespace ns ("" for
// the host's). stop is the signal that asks the server for a clean
// shutdown (zero: SIGINT, postgres's fast shutdown; mariadbd ignores
// SIGINT and wants SIGTERM); Stop follows it with an immediate shutdown
// (SIGQUIT to the server's process group) and SIGKILL, 10 s apart. The
// command needs a process group of its own (Setpgid). Every server the
// engines fork starts through here.
func (r Runner) Run(name string, cmd *exec.Cmd, port int, ns string, stop syscall.Signal) (*Server, error) {
	if stop == 0 {
		stop = syscall.SIGINT
	}
	proc, err := r.workloads().Start(workload.ProcessSpec{
		Workload: name,
		Cmd:      cmd,
		NS:       ns,
		// Its usage is CloudWatch's AWS/RDS CPUUtilization and
		// FreeableMemory (the controller's metrics.go).
		Measured: true,
		Stop: []workload.StopStep{
			{Signal: stop, Wait: 10 * time.Second},
			{Signal: syscall.SIGQUIT, Group: true, Wait: 10 * time.Second},
			{Signal: syscall.SIGKILL, Group: true},
		},
	})
	if err != nil {
		return nil, err
	}
	return &Server{Port: port, NS: ns, proc: proc}, nil
}

// WorkloadName names the workload of the server in instance directory dir
// (<…>/<id>, or <…>/<id>/standby for a Multi-AZ standby).
func WorkloadName(dir string) string {
	base := filepath.Base(dir)
	if base == "standby" {
		return "rds-" + filepath.Base(filepath.Dir(dir)) + "-standby"
	}
	return "rds-" + base
}

// Running reports whether the server has not exited.
func (p *Server) Running() bool { return !p.proc.Exited() }

// Done is closed when the server has exited.
func (p *Server) Done() <-chan struct{} { return p.proc.Done() }

// Err is how the server exited, once Done is closed.
func (p *Server) Err() error { return p.proc.Err() }

// Pid is the server's process ID.
func (p *Server) Pid() int { return p.proc.Pid() }

// Signal sends sig to the server.
func (p *Server) Signal(sig syscall.Signal) error { return p.proc.Signal(sig) }

// Stop shuts the server down (see Run) and waits for it. A nil Server is
// none.
func (p *Server) Stop() {
	if p == nil {
		return
	}
	p.proc.Stop()
}

// OpenInstance opens instance directory dir, for a server to inherit, and
// its log file logPath for appending, for its output; the caller closes
// both once the server started.
func OpenInstance(dir, logPath string) (d, log *os.File, err error) {
	if d, err = os.Open(dir); err != nil {
		return nil, nil, err
	}
	if log, err = os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
		d.Close()
		return nil, nil, err
	}
	return d, log, nil
}

// WaitUntil polls ready every 100 ms until it succeeds, for at most 60 s,
// while the server p runs; name is the server program in the errors
// ("postgres exited (…): <the end of logPath>", "… did not accept
// connections within 60s: <ready's last error>").
func WaitUntil(ctx context.Context, p *Server, name, logPath string, ready func() error) error {
	deadline := time.Now().Add(60 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		if !p.Running() {
			raw, _ := os.ReadFile(logPath)
			return fmt.Errorf("%s exited (%v): %s", name, p.Err(), LastLines(string(raw), 5))
		}
		if last = ready(); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s did not accept connections within 60s: %v", name, last)
}

// KillStale stops a server an earlier minicloud left running, which its
// pid file names (the first line) if the process is one (isServer, given
// the process's command name): sig first, SIGKILL once wait has passed.
func KillStale(pidFile string, isServer func(comm string) bool, sig syscall.Signal, wait time.Duration) {
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(raw), "\n", 2)[0]))
	if err != nil || pid <= 1 {
		return
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil || !isServer(strings.TrimSpace(string(comm))) {
		return
	}
	_ = syscall.Kill(pid, sig)
	for range int(wait / (100 * time.Millisecond)) {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// OnOwnThread runs fn on a thread locked for its duration: a child forked
// in fn keeps its parent-death signal's thread alive until fn returns.
func OnOwnThread(fn func() ([]byte, error)) ([]byte, error) {
	type result struct {
		out []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		out, err := fn()
		ch <- result{out, err}
	}()
	r := <-ch
	return r.out, r.err
}

// RunKillable runs cmd to completion on a locked thread (its parent-death
// signal follows that thread) and kills its process group if ctx ends; the
// output also goes to tee, if any.
func RunKillable(ctx context.Context, cmd *exec.Cmd, tee io.Writer) ([]byte, error) {
	stop := make(chan struct{})
	defer close(stop)
	started := make(chan struct{})
	go func() {
		select {
		case <-stop:
		case <-ctx.Done():
			<-started
			if cmd.Process != nil {
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			}
		}
	}()
	out, err := OnOwnThread(func() ([]byte, error) {
		var buf strings.Builder
		var w io.Writer = &buf
		if tee != nil {
			w = io.MultiWriter(&buf, tee)
		}
		cmd.Stdout, cmd.Stderr = w, w
		err := cmd.Start()
		close(started)
		if err == nil {
			err = cmd.Wait()
		}
		return []byte(buf.String()), err
	})
	if ctx.Err() != nil {
		return out, ctx.Err()
	}
	return out, err
}

// IsExec reports whether p is an executable file.
func IsExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// LookExec is the first executable name in dirs, "" when there is none.
func LookExec(name string, dirs ...string) string {
	for _, d := range dirs {
		if p := filepath.Join(d, name); IsExec(p) {
			return p
		}
	}
	return ""
}

// LastLines is the end of a program's output, n lines at most, on one line.
func LastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
