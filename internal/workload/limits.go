package workload

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// Changing a running workload's limits (SetLimits): the cgroup files its
// start wrote are written again, so a workload's CPU and memory can follow
// a decision made while it runs (Aurora Serverless v2's capacity). Both
// cgroup versions take new values live; only lowering memory below what
// the processes hold differs: v1 refuses the write (EBUSY) after trying to
// reclaim, v2 reclaims and, failing that, OOM-kills. Callers that shrink
// memory keep the limit above the usage they read (Usage.Memory).

// cpuQuotaUS is lim's CPU time per cpuPeriodUS in µs, -1 for unlimited.
func (l Limits) cpuQuotaUS() int64 {
	switch {
	case l.MilliCPUs > 0:
		// The kernel refuses quotas under 1 ms.
		return max(l.MilliCPUs*cpuPeriodUS/1000, 1000)
	case l.VCPUs > 0:
		return int64(l.VCPUs) * cpuPeriodUS
	}
	return -1
}

// limitFiles are the files and values that give a cgroup lim's CPU and
// memory limits: for v1, dirs are the cpu and memory hierarchies'
// directories; for v2, the one directory. Without a memory limit, lift
// writes the unlimited value (to lift one set before); a new cgroup,
// unlimited already, skips the file.
func limitFiles(version int, dirs []string, lim Limits, lift bool) [][2]string {
	quota := lim.cpuQuotaUS()
	var files [][2]string
	memFile, mem := filepath.Join(dirs[0], "memory.max"), "max"
	switch version {
	case 1:
		memFile, mem = filepath.Join(dirs[1], "memory.limit_in_bytes"), "-1"
		files = [][2]string{
			{filepath.Join(dirs[0], "cpu.cfs_period_us"), strconv.Itoa(cpuPeriodUS)},
			{filepath.Join(dirs[0], "cpu.cfs_quota_us"), strconv.FormatInt(quota, 10)},
		}
	case 2:
		cpuMax := "max " + strconv.Itoa(cpuPeriodUS)
		if quota > 0 {
			cpuMax = fmt.Sprintf("%d %d", quota, cpuPeriodUS)
		}
		files = [][2]string{{filepath.Join(dirs[0], "cpu.max"), cpuMax}}
	default:
		return nil
	}
	if lim.MemoryMiB > 0 {
		mem = strconv.FormatInt(lim.MemoryMiB<<20, 10)
	} else if !lift {
		return files
	}
	return append(files, [2]string{memFile, mem})
}

// writeFiles writes each file's value, going on past failures.
func writeFiles(files [][2]string) error {
	var errs []error
	for _, f := range files {
		if err := os.WriteFile(f[0], []byte(f[1]), 0o644); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// SetLimits gives the running workload name new CPU and memory limits
// (lim.Pids is left as it was started). The workload must have been
// started with a cgroup (Limits or Measured). A memory limit below what
// its processes hold fails on cgroup v1 and may OOM-kill them on v2.
func (r *Runtime) SetLimits(name string, lim Limits) error {
	if r.cg.version == 0 {
		return errors.New("workload: no usable cgroup hierarchy to limit " + name)
	}
	dirs := r.cg.dirs(r.cgroupName(name))
	if _, err := os.Stat(dirs[0]); err != nil {
		return fmt.Errorf("workload %s has no cgroup: %w", name, err)
	}
	if err := writeFiles(limitFiles(r.cg.version, dirs, lim, true)); err != nil {
		return fmt.Errorf("workload %s: set limits: %w", name, err)
	}
	return nil
}
