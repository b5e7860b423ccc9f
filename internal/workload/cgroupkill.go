package workload

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procs lists the PIDs in name's cgroups (every hierarchy's, merged): the
// workload's process and whatever it started that has not exited.
func (c *cgroups) procs(name string) ([]int, error) {
	seen := map[int]bool{}
	var out []int
	for _, d := range c.dirs(name) {
		f, err := os.Open(filepath.Join(d, "cgroup.procs"))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			pid, err := strconv.Atoi(strings.TrimSpace(sc.Text()))
			if err == nil && !seen[pid] {
				seen[pid] = true
				out = append(out, pid)
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// killAll ends every process left in name's cgroups, as a VM's power-off
// ends everything in it: a workload's main process exiting leaves its
// children (a shell's background job, a daemon that double-forked), which
// would keep the cgroup busy and outlive the workload. It waits up to
// timeout for them to go.
func (c *cgroups) killAll(name string, timeout time.Duration) error {
	if c.version == 2 {
		// cgroup.kill (Linux 5.14) kills the whole tree atomically, so
		// nothing forks past it; older kernels fall back to the loop.
		_ = os.WriteFile(filepath.Join(cgroupRoot, name, "cgroup.kill"), []byte("1"), 0o644)
	}
	deadline := time.Now().Add(timeout)
	for {
		pids, err := c.procs(name)
		if err != nil {
			return fmt.Errorf("list the processes of cgroup %s: %w", name, err)
		}
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroup %s: processes %v still running after SIGKILL", name, pids)
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// CleanupCgroups ends the processes left in, and removes, every cgroup
// whose name starts with prefix+"-" (a runtime's Config.CgroupPrefix):
// what a minicloud that did not stop cleanly left behind.
func CleanupCgroups(prefix string) error {
	c := detectCgroups()
	if c.version == 0 || prefix == "" {
		return nil
	}
	names := map[string]bool{}
	for _, d := range c.dirs("") {
		entries, err := os.ReadDir(d)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("workload: list cgroups in %s: %w", d, err)
		}
		for _, e := range entries {
			if e.IsDir() && strings.HasPrefix(e.Name(), prefix+"-") {
				names[e.Name()] = true
			}
		}
	}
	var errs []error
	for name := range names {
		if err := c.killAll(name, 5*time.Second); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := c.remove(name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// forkInto makes the next fork of the calling thread (locked to it) start
// inside name's cgroups, so nothing the workload runs first — a shell's
// first background job — is forked before its process is moved in and
// escapes the limits. cgroup v2 forks straight into the cgroup
// (CLONE_INTO_CGROUP, through cmd's SysProcAttr); v1 cannot, so the
// thread itself joins the cgroups for the fork. The returned func undoes
// it: it must run on the same thread once the fork is done, and if it
// fails the thread must never run Go code again (stay locked, to end with
// its goroutine).
func (c *cgroups) forkInto(name string, attr *syscall.SysProcAttr) (undo func() error, err error) {
	switch c.version {
	case 2:
		fd, err := syscall.Open(c.dirs(name)[0], syscall.O_DIRECTORY|syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			return noUndo, err
		}
		attr.UseCgroupFD, attr.CgroupFD = true, fd
		return func() error { return syscall.Close(fd) }, nil
	case 1:
		tid := strconv.Itoa(syscall.Gettid())
		home, err := threadCgroupsV1()
		if err != nil {
			return noUndo, err
		}
		var moved []string // hierarchies the thread joined
		undo = func() error {
			var errs []error
			for _, h := range moved {
				if err := os.WriteFile(filepath.Join(cgroupRoot, h, home[h], "tasks"), []byte(tid), 0o644); err != nil {
					errs = append(errs, fmt.Errorf("move thread %s back to its %s cgroup: %w", tid, h, err))
				}
			}
			return errors.Join(errs...)
		}
		for _, d := range c.dirs(name) {
			h := filepath.Base(filepath.Dir(d))
			if _, ok := home[h]; !ok {
				_ = undo()
				return noUndo, fmt.Errorf("no %s hierarchy in /proc/thread-self/cgroup", h)
			}
			if err := os.WriteFile(filepath.Join(d, "tasks"), []byte(tid), 0o644); err != nil {
				return noUndo, errors.Join(err, undo())
			}
			moved = append(moved, h)
		}
		return undo, nil
	}
	return noUndo, nil
}

// noUndo is forkInto's undo when there is nothing to undo.
func noUndo() error { return nil }

// threadCgroupsV1 maps each v1 hierarchy's directory name under
// /sys/fs/cgroup (cpu, memory, pids, cpuacct) to the calling thread's
// cgroup path in it.
func threadCgroupsV1() (map[string]string, error) {
	b, err := os.ReadFile("/proc/thread-self/cgroup")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, ctl := range strings.Split(parts[1], ",") {
			out[ctl] = parts[2]
		}
	}
	return out, nil
}
