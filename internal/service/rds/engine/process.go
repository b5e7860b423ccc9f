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
	"syscall"
	"time"

	"github.com/vishvananda/netns"
)

// Starting and supervising the servers' processes. The shared workload
// runtime (namespaces, supervised processes) is to replace this file.

// Server is one running server process an engine started.
type Server struct {
	// Port is where clients on this host reach the server on 127.0.0.1
	// (through the caller's proxy when it runs in a VPC's namespace); for
	// a server without a TCP address, the port that names its socket.
	Port int
	// NS is the network namespace it runs in, "" for the host's.
	NS string

	cmd     *exec.Cmd
	stopSig syscall.Signal
	done    chan struct{}
	err     error
}

// Run starts cmd from a thread that stays until the server exits: the
// child inherits the namespace of the thread that forks it, and its
// parent-death signal (Pdeathsig) follows that thread, not the process, so
// Go must not end the thread (it does for threads vpcnet leaves in a
// namespace) and signal the server at random. With ns, the thread enters
// the namespace first and is discarded afterwards. stop is the signal that
// asks the server for a clean shutdown (zero: SIGINT, postgres's fast
// shutdown; mariadbd ignores SIGINT and wants SIGTERM). Every server the
// engines fork starts through here.
func Run(cmd *exec.Cmd, port int, ns string, stop syscall.Signal) (*Server, error) {
	p := &Server{Port: port, NS: ns, cmd: cmd, stopSig: stop, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if ns == "" {
			defer runtime.UnlockOSThread()
		}
		var err error
		if ns != "" {
			var h netns.NsHandle
			if h, err = netns.GetFromPath(ns); err == nil {
				err = netns.Set(h)
				h.Close()
			}
		}
		if err == nil {
			err = p.cmd.Start()
		}
		started <- err
		if err != nil {
			return
		}
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// Running reports whether the server has not exited.
func (p *Server) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Done is closed when the server has exited.
func (p *Server) Done() <-chan struct{} { return p.done }

// Err is how the server exited, once Done is closed.
func (p *Server) Err() error { return p.err }

// Signal sends sig to the server.
func (p *Server) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Stop shuts the server down: a clean shutdown, then an immediate one
// (SIGQUIT), then SIGKILL, 10 s apart. A nil Server is none.
func (p *Server) Stop() {
	if p == nil || !p.Running() {
		return
	}
	sig := p.stopSig
	if sig == 0 {
		sig = syscall.SIGINT
	}
	_ = p.cmd.Process.Signal(sig)
	for _, next := range []syscall.Signal{syscall.SIGQUIT, syscall.SIGKILL} {
		select {
		case <-p.done:
			return
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, next)
		}
	}
	<-p.done
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
