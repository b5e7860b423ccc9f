package workload

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

const cgroupRoot = "/sys/fs/cgroup"

// cgroups applies a workload's CPU and memory limits: cgroup v2 (one
// directory with cpu.max and memory.max) or v1 (cpu and memory
// hierarchies), whichever the host has; none when neither is usable.
type cgroups struct {
	version int  // 0: unavailable, 1, 2
	pidsV1  bool // v1 with a pids hierarchy
	// acctV1 is the v1 hierarchy with cpuacct (CPU time, for CloudWatch):
	// "cpu" when mounted with cpu, "cpuacct" on its own, "" without.
	acctV1 string
}

func detectCgroups() *cgroups {
	var st unix.Statfs_t
	if unix.Statfs(cgroupRoot, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return &cgroups{version: 2}
	}
	if exists(filepath.Join(cgroupRoot, "cpu", "cpu.cfs_quota_us")) && exists(filepath.Join(cgroupRoot, "memory", "memory.limit_in_bytes")) {
		c := &cgroups{version: 1, pidsV1: exists(filepath.Join(cgroupRoot, "pids", "cgroup.procs"))}
		for _, h := range []string{"cpu", "cpuacct"} {
			if exists(filepath.Join(cgroupRoot, h, "cpuacct.usage")) {
				c.acctV1 = h
				break
			}
		}
		return c
	}
	return &cgroups{}
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// dirs are the cgroup directories of name.
func (c *cgroups) dirs(name string) []string {
	switch c.version {
	case 1:
		dirs := []string{filepath.Join(cgroupRoot, "cpu", name), filepath.Join(cgroupRoot, "memory", name)}
		if c.pidsV1 {
			dirs = append(dirs, filepath.Join(cgroupRoot, "pids", name))
		}
		if c.acctV1 == "cpuacct" {
			dirs = append(dirs, filepath.Join(cgroupRoot, "cpuacct", name))
		}
		return dirs
	case 2:
		return []string{filepath.Join(cgroupRoot, name)}
	}
	return nil
}

const cpuPeriodUS = 100000 // 100 ms

// setup creates name's cgroups with lim and moves pid into them (no pid
// when pid is 0: the cgroups are made ready for a process forked into them).
func (c *cgroups) setup(name string, lim Limits, pid int) error {
	if c.version == 0 {
		return errors.New("no usable cgroup hierarchy (neither cgroup v2 nor v1 cpu and memory)")
	}
	dirs := c.dirs(name)
	files := limitFiles(c.version, dirs, lim, false)
	switch c.version {
	case 1:
		files = append(files, [2]string{filepath.Join(dirs[0], "cgroup.procs"), strconv.Itoa(pid)},
			[2]string{filepath.Join(dirs[1], "cgroup.procs"), strconv.Itoa(pid)})
		if c.pidsV1 {
			if lim.Pids > 0 {
				files = append(files, [2]string{filepath.Join(dirs[2], "pids.max"), strconv.Itoa(lim.Pids)})
			}
			files = append(files, [2]string{filepath.Join(dirs[2], "cgroup.procs"), strconv.Itoa(pid)})
		}
		if c.acctV1 == "cpuacct" {
			files = append(files, [2]string{filepath.Join(cgroupRoot, "cpuacct", name, "cgroup.procs"), strconv.Itoa(pid)})
		}
	case 2:
		// Best effort: the controllers must be enabled for children.
		_ = os.WriteFile(filepath.Join(cgroupRoot, "cgroup.subtree_control"), []byte("+cpu +memory +pids"), 0o644)
		if lim.Pids > 0 {
			files = append(files, [2]string{filepath.Join(dirs[0], "pids.max"), strconv.Itoa(lim.Pids)})
		}
		files = append(files, [2]string{filepath.Join(dirs[0], "cgroup.procs"), strconv.Itoa(pid)})
	}
	for _, d := range c.dirs(name) {
		if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	if pid <= 0 {
		files = slices.DeleteFunc(files, func(f [2]string) bool { return filepath.Base(f[0]) == "cgroup.procs" })
	}
	return writeFiles(files)
}

// remove deletes name's cgroups once their processes are gone.
func (c *cgroups) remove(name string) error {
	var errs []error
	for _, d := range c.dirs(name) {
		var err error
		for range 100 {
			err = unix.Rmdir(d)
			if err == nil || errors.Is(err, unix.ENOENT) {
				err = nil
				break
			}
			if !errors.Is(err, unix.EBUSY) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("rmdir %s: %w", d, err))
		}
	}
	return errors.Join(errs...)
}

// cpuTime is the CPU time name's processes have used since its cgroup was
// made: cpu.stat's usage_usec (v2) or cpuacct.usage (v1).
func (c *cgroups) cpuTime(name string) (time.Duration, error) {
	switch {
	case c.version == 2:
		b, err := os.ReadFile(filepath.Join(cgroupRoot, name, "cpu.stat"))
		if err != nil {
			return 0, err
		}
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "usage_usec "); ok {
				us, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				return time.Duration(us) * time.Microsecond, err
			}
		}
		return 0, errors.New("cpu.stat has no usage_usec")
	case c.version == 1 && c.acctV1 != "":
		b, err := os.ReadFile(filepath.Join(cgroupRoot, c.acctV1, name, "cpuacct.usage"))
		if err != nil {
			return 0, err
		}
		ns, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		return time.Duration(ns), err
	}
	return 0, errors.New("no cgroup accounts CPU time (neither cgroup v2 nor v1 cpuacct)")
}

// memory is the anonymous memory name's processes hold: memory.stat's
// anon (v2) or total_rss (v1); 0 when unreadable.
func (c *cgroups) memory(name string) uint64 {
	file, key := filepath.Join(cgroupRoot, name, "memory.stat"), "anon"
	if c.version == 1 {
		file, key = filepath.Join(cgroupRoot, "memory", name, "memory.stat"), "total_rss"
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), " "); ok && k == key {
			n, _ := strconv.ParseUint(v, 10, 64)
			return n
		}
	}
	return 0
}

// io is name's block I/O from cgroup v2's io.stat; nil on v1, whose blkio
// hierarchy workloads do not join, or when unreadable.
func (c *cgroups) io(name string) *IOCounters {
	if c.version != 2 {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(cgroupRoot, name, "io.stat"))
	if err != nil {
		return nil
	}
	return parseIOStat(string(b))
}

// parseIOStat sums io.stat's lines ("8:0 rbytes=… wbytes=… rios=… wios=…
// dbytes=… dios=…") over the devices.
func parseIOStat(s string) *IOCounters {
	var io IOCounters
	for line := range strings.Lines(s) {
		for _, f := range strings.Fields(line) { // the device ("8:0") has no "="
			k, v, _ := strings.Cut(f, "=")
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				continue
			}
			switch k {
			case "rbytes":
				io.ReadBytes += n
			case "wbytes":
				io.WriteBytes += n
			case "rios":
				io.ReadOps += n
			case "wios":
				io.WriteOps += n
			}
		}
	}
	return &io
}
