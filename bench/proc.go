//go:build bench

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// host is the only address the harness ever talks to or binds servers on.
const host = "127.0.0.1"

// server describes how to start one emulator and how to tell it is ready.
type server struct {
	name      string
	bin       string                  // executable to exec (not a shell, not a shim)
	args      func(port int) []string // command-line arguments for a port
	readyPath string                  // GET path that answers 200 once the server serves
	readyMax  time.Duration           // give up on readiness after this long
	stopGrace time.Duration           // SIGTERM → SIGKILL; 0 means 3 s
	minicloud bool                    // a minicloud binary (this tree's or the -baseline one)
}

// proc is one running server process started by the harness.
type proc struct {
	srv     *server
	cmd     *exec.Cmd
	port    int
	pid     int
	started time.Time
	exited  chan struct{} // closed when the process has been reaped
	waitErr error
	logPath string
}

func (p *proc) url() string { return fmt.Sprintf("http://%s:%d", host, p.port) }

// registry holds every process this harness started, so that they (and only
// they) are ended by PID on normal exit, on error and on Ctrl-C.
var registry = struct {
	sync.Mutex
	procs map[int]*proc
}{procs: map[int]*proc{}}

func register(p *proc) {
	registry.Lock()
	registry.procs[p.pid] = p
	registry.Unlock()
}

func unregister(p *proc) {
	registry.Lock()
	delete(registry.procs, p.pid)
	registry.Unlock()
}

// stopAll ends every process still registered. Safe to call more than once.
func stopAll() {
	registry.Lock()
	ps := make([]*proc, 0, len(registry.procs))
	for _, p := range registry.procs {
		ps = append(ps, p)
	}
	registry.Unlock()
	for _, p := range ps {
		p.stop()
	}
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start execs the server on a fresh loopback port. The clock for start time
// starts immediately before the exec.
func start(srv *server, logDir string) (*proc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logf, err := os.CreateTemp(logDir, srv.name+"-*.log")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(srv.bin, srv.args(port)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Stdin = nil
	// If the harness itself dies without cleaning up, the kernel kills the child.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p := &proc{srv: srv, cmd: cmd, port: port, exited: make(chan struct{}), logPath: logf.Name()}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", srv.name, err)
	}
	p.pid = cmd.Process.Pid
	register(p)
	go func() {
		p.waitErr = cmd.Wait()
		logf.Close()
		close(p.exited)
	}()
	return p, nil
}

// waitReady polls the readiness path until it answers 200 and returns the
// time from exec to that answer. Bounded by srv.readyMax and by the process
// exiting.
func (p *proc) waitReady() (time.Duration, error) {
	c := &http.Client{
		Timeout:   time.Second,
		Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
	}
	defer c.CloseIdleConnections()
	deadline := p.started.Add(p.srv.readyMax)
	u := p.url() + p.srv.readyPath
	for attempt := 0; attempt < 1_000_000; attempt++ {
		select {
		case <-p.exited:
			return 0, fmt.Errorf("%s exited before ready (%v); log: %s", p.srv.name, p.waitErr, tail(p.logPath))
		default:
		}
		resp, err := c.Get(u)
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<20))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(p.started), nil
			}
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%s not ready after %v (last error %v)", p.srv.name, p.srv.readyMax, err)
		}
		time.Sleep(200 * time.Microsecond)
	}
	return 0, errors.New("readiness poll: attempt bound reached")
}

// stop ends the process by PID: SIGTERM, then SIGKILL after a grace period.
func (p *proc) stop() {
	select {
	case <-p.exited:
		unregister(p)
		return
	default:
	}
	_ = syscall.Kill(p.pid, syscall.SIGTERM)
	grace := p.srv.stopGrace
	if grace <= 0 {
		grace = 3 * time.Second
	}
	select {
	case <-p.exited:
	case <-time.After(grace):
		_ = syscall.Kill(p.pid, syscall.SIGKILL)
		select {
		case <-p.exited:
		case <-time.After(3 * time.Second):
		}
	}
	unregister(p)
}

// memInfo is what /proc/PID/status says about a process's memory, in KiB.
type memInfo struct {
	RSS, HWM, Anon, File int64
}

func readMem(pid int) (memInfo, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memInfo{}, err
	}
	var m memInfo
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			m.RSS = n
		case "VmHWM":
			m.HWM = n
		case "RssAnon":
			m.Anon = n
		case "RssFile":
			m.File = n
		}
	}
	if m.RSS == 0 {
		return m, fmt.Errorf("no VmRSS for pid %d", pid)
	}
	return m, nil
}

// cpuTime is the user+system CPU time the process has used so far.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // comm may contain spaces
	if i < 0 {
		return 0, errors.New("bad stat")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, errors.New("short stat")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const hz = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / hz, nil
}

// tail returns the last lines of a log file, for error messages.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log)"
	}
	if len(b) > 800 {
		b = b[len(b)-800:]
	}
	return strings.TrimSpace(string(b))
}

// resolveMoto finds the real moto_server script. A pyenv shim is a bash
// script that runs `pyenv exec`, which adds tens of milliseconds to every
// start; timing that would be unfair to moto, so the shim is resolved.
func resolveMoto(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", err
	}
	if strings.Contains(filepath.ToSlash(p), "/shims/") {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "pyenv", "which", filepath.Base(p)).Output()
		if err == nil && len(strings.TrimSpace(string(out))) > 0 {
			return strings.TrimSpace(string(out)), nil
		}
	}
	return p, nil
}

// motoVersion runs the script's own interpreter (its #! line) to ask moto for
// its version; "unknown" if that fails.
func motoVersion(script string) string {
	b, err := os.ReadFile(script)
	if err != nil {
		return "unknown"
	}
	first, _, _ := strings.Cut(string(b), "\n")
	if !strings.HasPrefix(first, "#!") {
		return "unknown"
	}
	f := strings.Fields(strings.TrimPrefix(first, "#!"))
	if len(f) == 0 {
		return "unknown"
	}
	args := append(f[1:], "-c", "import sys, moto; print(moto.__version__, 'python', sys.version.split()[0])")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, f[0], args...).Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}
