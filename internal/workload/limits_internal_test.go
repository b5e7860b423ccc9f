package workload

import (
	"os"
	"path/filepath"
	"testing"
)

// limitFiles' writes, for both cgroup versions, into directories that
// stand for the cgroups: what SetLimits and a start write.
func TestLimitFiles(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version int
		lim     Limits
		lift    bool
		want    map[string]string // file (relative to the temp dir) → content
		absent  []string
	}{
		{"v2 fraction of a CPU", 2, Limits{MilliCPUs: 125, MemoryMiB: 1024}, true,
			map[string]string{"g/cpu.max": "12500 100000", "g/memory.max": "1073741824"}, nil},
		{"v2 whole CPUs", 2, Limits{VCPUs: 2, MemoryMiB: 512}, true,
			map[string]string{"g/cpu.max": "200000 100000", "g/memory.max": "536870912"}, nil},
		{"v2 MilliCPUs wins over VCPUs", 2, Limits{VCPUs: 4, MilliCPUs: 1500}, true,
			map[string]string{"g/cpu.max": "150000 100000", "g/memory.max": "max"}, nil},
		{"v2 lifted", 2, Limits{}, true,
			map[string]string{"g/cpu.max": "max 100000", "g/memory.max": "max"}, nil},
		{"v2 new cgroup without memory limit", 2, Limits{VCPUs: 1}, false,
			map[string]string{"g/cpu.max": "100000 100000"}, []string{"g/memory.max"}},
		{"v2 quota floor of 1 ms", 2, Limits{MilliCPUs: 1}, false,
			map[string]string{"g/cpu.max": "1000 100000"}, nil},
		{"v1 fraction", 1, Limits{MilliCPUs: 250, MemoryMiB: 2048}, true,
			map[string]string{"cpu/cpu.cfs_period_us": "100000", "cpu/cpu.cfs_quota_us": "25000", "mem/memory.limit_in_bytes": "2147483648"}, nil},
		{"v1 lifted", 1, Limits{}, true,
			map[string]string{"cpu/cpu.cfs_quota_us": "-1", "mem/memory.limit_in_bytes": "-1"}, nil},
		{"v1 new cgroup without memory limit", 1, Limits{VCPUs: 2}, false,
			map[string]string{"cpu/cpu.cfs_quota_us": "200000"}, []string{"mem/memory.limit_in_bytes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dirs := []string{filepath.Join(root, "g")}
			if tc.version == 1 {
				dirs = []string{filepath.Join(root, "cpu"), filepath.Join(root, "mem")}
			}
			for _, d := range dirs {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := writeFiles(limitFiles(tc.version, dirs, tc.lim, tc.lift)); err != nil {
				t.Fatal(err)
			}
			for f, want := range tc.want {
				got, err := os.ReadFile(filepath.Join(root, f))
				if err != nil || string(got) != want {
					t.Errorf("%s = %q (%v), want %q", f, got, err, want)
				}
			}
			for _, f := range tc.absent {
				if _, err := os.Stat(filepath.Join(root, f)); err == nil {
					t.Errorf("%s written, want none", f)
				}
			}
		})
	}
}
