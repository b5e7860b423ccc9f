package rds

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/metricport"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
	"github.com/minicloud/minicloud/internal/workload"
)

// metricSink keeps what the RDS controller publishes.
type metricSink struct {
	mu   sync.Mutex
	data []metricport.Datum
}

func (m *metricSink) Publish(_ context.Context, _, _ string, data []metricport.Datum) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data = append(m.data, data...)
	return nil
}

// last is the newest value of metric name under dimension dim=value.
func (m *metricSink) last(name, dim, value string) (float64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.data) - 1; i >= 0; i-- {
		d := m.data[i]
		if d.Name == name && len(d.Dims) == 1 && d.Dims[0].Name == dim && d.Dims[0].Value == value {
			return d.Value, true
		}
	}
	return 0, false
}

// cgroupLimits reads member id's server's CPU quota (µs per 100 ms, -1
// for none) and memory limit (bytes) from its cgroup.
func (x *clusterScene) cgroupLimits(t *testing.T, id string) (quota, mem int64) {
	t.Helper()
	dir, err := x.s.dirs.Instance(x.sc, id)
	if err != nil {
		t.Fatal(err)
	}
	wl := x.s.cfg.Workloads
	dirs := wl.CgroupDirs(engine.WorkloadName(dir))
	read := func(f string) string {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		return strings.TrimSpace(string(b))
	}
	var q, m string
	switch wl.Cgroups() {
	case 1:
		q, m = read(filepath.Join(dirs[0], "cpu.cfs_quota_us")), read(filepath.Join(dirs[1], "memory.limit_in_bytes"))
	case 2:
		q, m = strings.Fields(read(filepath.Join(dirs[0], "cpu.max")))[0], read(filepath.Join(dirs[0], "memory.max"))
		if q == "max" {
			q = "-1"
		}
	}
	quota, _ = strconv.ParseInt(q, 10, 64)
	mem, _ = strconv.ParseInt(m, 10, 64)
	return quota, mem
}

// eventually polls ok every 250 ms for up to limit.
func eventually(t *testing.T, limit time.Duration, what string, ok func() (bool, string)) {
	t.Helper()
	var last string
	start := time.Now()
	for deadline := start.Add(limit); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		var done bool
		if done, last = ok(); done {
			t.Logf("%s after %s: %s", what, time.Since(start).Round(100*time.Millisecond), last)
			return
		}
	}
	t.Fatalf("%s: not within %s (last: %s)", what, limit, last)
}

// A Serverless v2 writer at 0.5-4 ACUs scales up within seconds under a
// CPU-bound query load, as ServerlessDatabaseCapacity shows and its
// cgroup's CPU quota says, with its tier-0 Serverless v2 reader never
// under it; it scales back down to 0.5 once the load stops; a new range
// applies at once; a classed member's cgroup has its class's limits,
// capped at the host.
func TestServerlessCapacity(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (cgroups)")
	}
	var tag [4]byte
	_, _ = rand.Read(tag[:])
	rt := workload.New(workload.Config{CgroupPrefix: "mcsv2-" + hex.EncodeToString(tag[:])})
	if rt.Cgroups() == 0 {
		t.Skip("no cgroups")
	}
	sink := &metricSink{}
	cfg := Config{StateDir: t.TempDir(), Workloads: rt, Metrics: sink, MetricsInterval: time.Second}
	x := newSceneWith(t, cfg, func(cl *records.Cluster, insts []records.Instance) {
		cl.ServerlessV2ScalingConfiguration = &rdsapi.ServerlessV2ScalingConfigurationInfo{MinCapacity: ptr(0.5), MaxCapacity: ptr(4.0)}
		insts[0].DBInstanceClass, insts[1].DBInstanceClass = ptr("db.serverless"), ptr("db.serverless")
		cl.DBClusterMembers[1].PromotionTier, insts[1].PromotionTier = ptr(int32(0)), ptr(int32(0))
		insts[2].DBInstanceClass = ptr("db.r5.24xlarge") // larger than any test host
		cl.DBClusterMembers[2].PromotionTier, insts[2].PromotionTier = ptr(int32(15)), ptr(int32(15))
	}, "postgres", 5432, "sv2", "sv2-w", "sv2-r0", "sv2-big")
	cl := x.waitAvailable(t, "sv2")

	capacity := func(id string) float64 {
		v, _ := sink.last("ServerlessDatabaseCapacity", "DBInstanceIdentifier", id)
		return v
	}
	eventually(t, 30*time.Second, "writer at its minimum", func() (bool, string) {
		q, m := x.cgroupLimits(t, "sv2-w")
		return capacity("sv2-w") == 0.5 && q == 12500 && m == 1<<30, strconv.FormatFloat(capacity("sv2-w"), 'f', 1, 64) + " ACU, quota " + strconv.FormatInt(q, 10)
	})
	if u, ok := sink.last("ACUUtilization", "DBInstanceIdentifier", "sv2-w"); !ok || u != 12.5 {
		t.Errorf("ACUUtilization %v (%v), want 12.5", u, ok)
	}
	if _, ok := sink.last("ServerlessDatabaseCapacity", "DBClusterIdentifier", "sv2"); !ok {
		t.Error("no ServerlessDatabaseCapacity by DBClusterIdentifier")
	}
	if _, ok := sink.last("ServerlessDatabaseCapacity", "DBInstanceIdentifier", "sv2-big"); ok {
		t.Error("a classed member published ServerlessDatabaseCapacity")
	}
	cpus, memMiB := int64(2), int64(0) // the class's 96 vCPUs and 768 GiB, capped
	q, m := x.cgroupLimits(t, "sv2-big")
	if hostCPUs := int64(runtimeCPUs()); hostCPUs < 96 {
		cpus = hostCPUs
	}
	memMiB = min(768<<10, hostMemMiB(t))
	if q != cpus*100000 || m != memMiB<<20 {
		t.Errorf("db.r5.24xlarge on this host: quota %d, memory %d MiB; want %d, %d MiB", q, m>>20, cpus*100000, memMiB)
	}

	// shared_buffers follows the class as RDS's default group's
	// {DBInstanceClassMemory/32768}: a Serverless v2 member's by
	// MaxCapacity (4 ACUs, 8 GiB).
	conn, err := connectPort(x.ctx, cl.WriterPort)
	if err != nil {
		t.Fatal(err)
	}
	var buffers string
	err = conn.QueryRow(x.ctx, "SELECT setting FROM pg_settings WHERE name = 'shared_buffers'").Scan(&buffers)
	_ = conn.Close(x.ctx)
	if err != nil || buffers != strconv.Itoa(8<<30/32768) {
		t.Errorf("writer's shared_buffers %q (%v), want %d buffers", buffers, err, 8<<30/32768)
	}

	// The load: one connection running a CPU-bound query after another.
	ctx, stop := context.WithCancel(x.ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for ctx.Err() == nil {
			conn, err := connectPort(ctx, cl.WriterPort)
			if err != nil {
				time.Sleep(200 * time.Millisecond)
				continue
			}
			for ctx.Err() == nil {
				if _, err := conn.Exec(ctx, "SELECT count(*) FROM generate_series(1, 3000000) g WHERE g % 7 = 3"); err != nil {
					break
				}
			}
			_ = conn.Close(context.Background())
		}
	})
	eventually(t, 90*time.Second, "writer scaled up under load", func() (bool, string) {
		q, _ := x.cgroupLimits(t, "sv2-w")
		c := capacity("sv2-w")
		return c >= 2 && q >= int64(c*25000), strconv.FormatFloat(c, 'f', 1, 64) + " ACU, quota " + strconv.FormatInt(q, 10)
	})
	// The tier-0 reader follows the writer up, though it is idle.
	eventually(t, 30*time.Second, "tier-0 reader at the writer's capacity", func() (bool, string) {
		return capacity("sv2-r0") >= 2, strconv.FormatFloat(capacity("sv2-r0"), 'f', 1, 64) + " ACU"
	})
	stop()
	wg.Wait()
	eventually(t, 120*time.Second, "writer back at its minimum", func() (bool, string) {
		q, _ := x.cgroupLimits(t, "sv2-w")
		return capacity("sv2-w") == 0.5 && q == 12500, strconv.FormatFloat(capacity("sv2-w"), 'f', 1, 64) + " ACU, quota " + strconv.FormatInt(q, 10)
	})

	// A new range applies at once (the API's ModifyDBCluster writes it so).
	err = x.s.store.Update(x.ctx, func(tx state.Tx) error {
		c, _, err := records.Clusters.Get(tx, x.sc, "sv2")
		if err != nil {
			return err
		}
		c.ServerlessV2ScalingConfiguration.MinCapacity = ptr(1.5)
		return records.Clusters.Put(tx, x.sc, "sv2", c)
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "writer at the new minimum", func() (bool, string) {
		q, m := x.cgroupLimits(t, "sv2-w")
		return q == 37500 && m == 3<<30, "quota " + strconv.FormatInt(q, 10)
	})
}

func runtimeCPUs() int { return runtime.NumCPU() }

// hostMemMiB is the host's memory.
func hostMemMiB(t *testing.T) int64 {
	t.Helper()
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		t.Fatal(err)
	}
	return int64(si.Totalram) * int64(si.Unit) >> 20
}
