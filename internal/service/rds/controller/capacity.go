package controller

import (
	"context"
	"math"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minicloud/minicloud/internal/metricport"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
	"github.com/minicloud/minicloud/internal/workload"
)

// What a DB server may use, through its workload's cgroup:
//
//   - A server of a DB instance class gets the class's vCPUs and memory
//     (classShape) as CPU quota and memory limit, capped at the host's
//     CPUs and memory: a db.r6g.16xlarge on a 2-core host has 2 CPUs.
//   - A Serverless v2 member (class db.serverless) gets its capacity in
//     ACUs: 1 ACU is 2 GiB of memory and a quarter of a vCPU (the share of
//     a memory-optimized class of that memory: db.r6g has 8 GiB per vCPU),
//     capped at the host likewise. It starts at the cluster's MinCapacity
//     and follows the server's measured CPU and memory every second, in
//     0.5-ACU steps within [MinCapacity, MaxCapacity] (nextCapacity): up
//     fast, once two readings in a row use three quarters of the CPU quota
//     or memory limit (by enough steps to bring the use to half, at least
//     double when the CPU is throttled, since a throttled demand cannot be
//     measured); down gradually, one step once three readings in a row
//     were under 30 % CPU and 50 % memory, and never below 1.25 × the
//     memory the server holds (lowering a memory limit under the usage
//     fails on cgroup v1 and OOM-kills on v2). The range is read at every
//     reading, so a ModifyDBCluster applies within a second. As on AWS,
//     readers in promotion tiers 0 and 1 never have less capacity than
//     the writer (a provisioned writer's class counts by its memory), so
//     that a failover to them finds the writer's capacity; other readers
//     scale on their own load only.
//
// The capacity is the controller's, not the records': AWS shows it only
// through CloudWatch (ServerlessDatabaseCapacity, ACUUtilization; see
// serverlessData), and a restarted minicloud starts again at MinCapacity.

const (
	serverlessClass = "db.serverless"
	acuMemMiB       = 2048
	acuMilliCPUs    = 250
	scaleInterval   = time.Second
)

// sizing is what the controller keeps of a server's limits.
type sizing struct {
	pid     int             // the server process the limits were applied to
	applied workload.Limits // what its cgroup has
	// Serverless v2: the capacity now (ACU), the range's maximum when it
	// was last read, and the readings' history.
	acu, max   float64
	prevCPU    time.Duration
	prevAt     time.Time
	busy, idle int // consecutive readings above / under the thresholds
}

// capacities are the servers' sizings, by record key.
type capacities struct {
	mu sync.Mutex
	by map[string]*sizing
}

// Capacity is the Serverless v2 capacity (ACUs) of the server of record
// key and its cluster's MaxCapacity; ok false for a server that is not
// Serverless v2 or not running.
func (c *Controller) Capacity(key string) (acu, maxACU float64, ok bool) {
	c.sizes.mu.Lock()
	defer c.sizes.mu.Unlock()
	s := c.sizes.by[key]
	if s == nil || s.acu == 0 {
		return 0, 0, false
	}
	return s.acu, s.max, true
}

// hostShape is the host's CPUs and memory (MiB), which no server's limits
// exceed.
var hostShape = sync.OnceValues(func() (int64, int64) {
	var si unix.Sysinfo_t
	mem := int64(math.MaxInt64 >> 20)
	if unix.Sysinfo(&si) == nil {
		mem = int64(si.Totalram) * int64(si.Unit) >> 20
	}
	return int64(runtime.NumCPU()), mem
})

// classLimits are class's limits, capped at the host.
func classLimits(class string) workload.Limits {
	vcpus, mem := classShape(class)
	cpus, hostMiB := hostShape()
	return workload.Limits{VCPUs: int32(min(int64(vcpus), cpus)), MemoryMiB: min(mem>>20, hostMiB)}
}

// acuLimits are the limits of a Serverless v2 capacity of acu, capped at
// the host.
func acuLimits(acu float64) workload.Limits {
	cpus, hostMiB := hostShape()
	return workload.Limits{
		MilliCPUs: min(int64(acu*acuMilliCPUs), cpus*1000),
		MemoryMiB: min(int64(acu*acuMemMiB), hostMiB),
	}
}

// scaling is a Serverless v2 cluster's range, 0s when it has none.
func scaling(cl *records.Cluster) (lo, hi float64) {
	if cl == nil || cl.ServerlessV2ScalingConfiguration == nil {
		return 0, 0
	}
	v := cl.ServerlessV2ScalingConfiguration
	return deref(v.MinCapacity), deref(v.MaxCapacity)
}

// nextCapacity is the capacity after a reading of s at acu: cores of CPU
// used on average since the last reading, mem bytes held. The range is
// applied last, so a new one takes effect at once.
func (s *sizing) nextCapacity(cores float64, mem uint64, lo, hi float64) float64 {
	lim := acuLimits(s.acu)
	cpuUse := cores / (float64(lim.MilliCPUs) / 1000)
	memUse := float64(mem) / float64(lim.MemoryMiB<<20)
	acu := s.acu
	switch {
	case cpuUse >= 0.75 || memUse >= 0.75:
		s.idle = 0
		if s.busy++; s.busy < 2 {
			break
		}
		s.busy = 0
		need := acu * max(cpuUse, memUse) / 0.5
		if cpuUse >= 0.9 {
			need = max(need, 2*acu)
		}
		acu = max(math.Ceil(need*2)/2, acu+0.5)
	case cpuUse < 0.3 && memUse < 0.5:
		s.busy = 0
		if s.idle++; s.idle < 3 {
			break
		}
		s.idle = 0
		if down := acu - 0.5; float64(mem)*1.25 <= down*acuMemMiB*(1<<20) {
			acu = down
		}
	default:
		s.busy, s.idle = 0, 0
	}
	return min(max(acu, lo, 0.5), max(hi, lo))
}

// scaleServers applies every running server's limits once a second: a
// class's once per server process, a Serverless v2 member's as its
// capacity follows its load.
func (c *Controller) scaleServers() {
	if c.cfg.Workloads == nil || c.cfg.Workloads.Cgroups() == 0 {
		return
	}
	c.every(scaleInterval, c.scalePass)
}

// runningServers are the servers that run now, by record key.
func (c *Controller) runningServers() map[string]*server {
	c.mu.Lock()
	defer c.mu.Unlock()
	running := make(map[string]*server, len(c.servers))
	for k, p := range c.servers {
		if p.running() {
			running[k] = p
		}
	}
	return running
}

// member is a running server with its records, for a scaling pass.
type member struct {
	key string
	sc  state.Scope
	id  string
	p   *server
	rec records.Instance
	cl  *records.Cluster
}

// scalePass reads every running server's records and load and applies
// its limits: writers before readers, whose floor may be their writer's.
func (c *Controller) scalePass() {
	running := c.runningServers()
	if len(running) == 0 {
		return
	}
	var ms []member
	_ = c.store.View(c.ctx, func(tx state.Tx) error {
		clusters := map[string]*records.Cluster{}
		for key, p := range running {
			sc, id, ok := records.Instances.ParseKey(key)
			if !ok {
				continue
			}
			rec, found, err := records.Instances.Get(tx, sc, id)
			if err != nil || !found {
				continue
			}
			m := member{key: key, sc: sc, id: id, p: p, rec: rec}
			if cid := deref(rec.DBClusterIdentifier); cid != "" {
				ck := records.Clusters.Key(sc, cid)
				if _, seen := clusters[ck]; !seen {
					cl, found, _ := records.Clusters.Get(tx, sc, cid)
					clusters[ck] = nil
					if found {
						clusters[ck] = &cl
					}
				}
				m.cl = clusters[ck]
			}
			ms = append(ms, m)
		}
		return nil
	})
	c.sizes.mu.Lock()
	for k := range c.sizes.by {
		if running[k] == nil {
			delete(c.sizes.by, k)
		}
	}
	c.sizes.mu.Unlock()
	writers := map[string]float64{} // cluster key → the writer's capacity (ACU)
	isWriter := func(m member) bool { return m.cl != nil && m.cl.Writer() == m.id }
	for _, pass := range []bool{true, false} {
		for _, m := range ms {
			if isWriter(m) != pass {
				continue
			}
			acu := c.fit(m, writers)
			if pass && m.cl != nil {
				writers[records.Clusters.Key(m.sc, deref(m.cl.DBClusterIdentifier))] = acu
			}
		}
	}
}

// fit applies m's limits and returns its capacity in ACUs (a class's by
// its memory), writers holding the capacity of the writers fitted before.
func (c *Controller) fit(m member, writers map[string]float64) float64 {
	dir, err := c.dir(m.sc, m.id)
	if err != nil {
		return 0
	}
	name := engine.WorkloadName(dir)
	class := deref(m.rec.DBInstanceClass)
	c.sizes.mu.Lock()
	if c.sizes.by == nil {
		c.sizes.by = map[string]*sizing{}
	}
	s := c.sizes.by[m.key]
	if s == nil || s.pid != m.p.Pid() {
		s = &sizing{}
		c.sizes.by[m.key] = s
	}
	c.sizes.mu.Unlock()
	var lim workload.Limits
	var acu float64
	lo, hi := scaling(m.cl)
	if class != serverlessClass || hi == 0 {
		lim = classLimits(class)
		_, mem := classShape(class)
		acu = float64(mem>>20) / acuMemMiB
	} else {
		acu = c.serverlessCapacity(m, s, name, lo, hi, writers)
		lim = acuLimits(acu)
	}
	if s.pid == m.p.Pid() && s.applied == lim {
		return acu
	}
	if err := c.cfg.Workloads.SetLimits(name, lim); err != nil {
		c.log.Warn("rds: server limits", "id", m.id, "class", class, "err", err)
		c.sizes.mu.Lock()
		if s.acu != 0 && s.applied.MemoryMiB > 0 {
			// The capacity shown stays the one the server has (a memory
			// limit under what it holds is refused on cgroup v1).
			s.acu = float64(s.applied.MemoryMiB) / acuMemMiB
		}
		c.sizes.mu.Unlock()
		return acu
	}
	c.sizes.mu.Lock()
	s.pid, s.applied = m.p.Pid(), lim
	c.sizes.mu.Unlock()
	return acu
}

// serverlessCapacity is Serverless v2 member m's capacity after a reading
// of its load; a reader in promotion tier 0 or 1 keeps at least its
// writer's.
func (c *Controller) serverlessCapacity(m member, s *sizing, name string, lo, hi float64, writers map[string]float64) float64 {
	u, err := c.cfg.Workloads.Usage(name)
	now := time.Now()
	c.sizes.mu.Lock()
	defer c.sizes.mu.Unlock()
	if s.acu == 0 {
		s.acu = max(lo, 0.5)
	} else if err == nil && now.After(s.prevAt) {
		cores := float64(u.CPU-s.prevCPU) / float64(now.Sub(s.prevAt))
		s.acu = s.nextCapacity(cores, u.Memory, lo, hi)
	}
	if err == nil {
		s.prevCPU, s.prevAt = u.CPU, now
	}
	if mb := m.cl.Member(m.id); mb != nil && !deref(mb.IsClusterWriter) && deref(mb.PromotionTier) <= 1 {
		if w := writers[records.Clusters.Key(m.sc, deref(m.cl.DBClusterIdentifier))]; w > s.acu {
			s.acu = min(math.Ceil(w*2)/2, hi)
		}
	}
	s.max = hi
	return s.acu
}

// limitNew applies the limits of a server just started, before it serves:
// a Serverless v2 member starts at its cluster's MinCapacity.
func (c *Controller) limitNew(ctx context.Context, key string, sc state.Scope, id string, p *server) {
	if c.cfg.Workloads == nil || c.cfg.Workloads.Cgroups() == 0 {
		return
	}
	m := member{key: key, sc: sc, id: id, p: p}
	_ = c.store.View(ctx, func(tx state.Tx) error {
		rec, _, err := records.Instances.Get(tx, sc, id)
		m.rec = rec
		if cid := deref(rec.DBClusterIdentifier); err == nil && cid != "" {
			if cl, found, _ := records.Clusters.Get(tx, sc, cid); found {
				m.cl = &cl
			}
		}
		return err
	})
	c.fit(m, nil)
}

// serverlessData is a Serverless v2 member's capacity datapoints, as AWS
// publishes them: ServerlessDatabaseCapacity (Count, ACUs) and
// ACUUtilization (Percent of the cluster's MaxCapacity), under
// DBInstanceIdentifier and under DBClusterIdentifier (CloudWatch's average
// over the members' datapoints is the cluster's, as AWS computes it). The
// value is the capacity at the reading. None for a class.
func serverlessData(r instanceReading, at time.Time) []metricport.Datum {
	if r.Capacity == 0 || r.MaxACU == 0 {
		return nil
	}
	var out []metricport.Datum
	for _, dims := range [][]metricport.Dim{
		{{Name: "DBInstanceIdentifier", Value: r.ID}},
		{{Name: "DBClusterIdentifier", Value: r.Cluster}},
	} {
		if dims[0].Value == "" {
			continue
		}
		out = append(out,
			metricport.Datum{Namespace: "AWS/RDS", Name: "ServerlessDatabaseCapacity", Unit: "Count", Time: at, Value: r.Capacity, Dims: dims},
			metricport.Datum{Namespace: "AWS/RDS", Name: "ACUUtilization", Unit: "Percent", Time: at, Value: 100 * r.Capacity / r.MaxACU, Dims: dims})
	}
	return out
}

// classMemory is instance rec's DBInstanceClassMemory (engine.Instance):
// its class's memory as its server is limited to; a Serverless v2
// member's at its cluster's MaxCapacity, by which AWS sizes its
// parameters.
func (c *Controller) classMemory(sc state.Scope, rec *records.Instance) int64 {
	class := deref(rec.DBInstanceClass)
	if class != serverlessClass {
		return classLimits(class).MemoryMiB << 20
	}
	var hi float64
	_ = c.store.View(c.ctx, func(tx state.Tx) error {
		cl, found, err := records.Clusters.Get(tx, sc, deref(rec.DBClusterIdentifier))
		if found {
			_, hi = scaling(&cl)
		}
		return err
	})
	if hi == 0 {
		return 0
	}
	return acuLimits(hi).MemoryMiB << 20
}
