package controller

import (
	"context"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minicloud/minicloud/internal/metricport"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
	"github.com/minicloud/minicloud/internal/workload"
)

// The AWS/RDS metrics of the running DB instances, as RDS publishes them:
// every interval (a minute), for every instance whose server runs and
// whose status is one in which AWS's instance serves (publishing), with
// dimension DBInstanceIdentifier, and again with DatabaseClass and with
// EngineName alone (AWS's aggregate dimensions: CloudWatch's statistics
// over one series of several instances' datapoints are the aggregate):
//
//   - CPUUtilization (Percent): the server's workload's CPU time over the
//     interval, in percent of the class's vCPUs;
//   - DatabaseConnections (Count): the engine's client connections;
//   - FreeableMemory (Bytes): the class's memory less the anonymous memory
//     the server's workload holds (its page cache counts as freeable);
//   - FreeStorageSpace (Bytes): AllocatedStorage less the instance
//     directory's size (data, logs, WAL archive);
//   - ReplicaLag (Seconds): read replicas only, the controller's last lag
//     measurement (watchReplicas) when it succeeded; a cluster's readers
//     publish it as AuroraReplicaLag (Milliseconds), and the cluster's
//     metrics come from its members' readings (clustermetrics.go);
//   - Read/WriteIOPS (Count/Second), Read/WriteThroughput (Bytes/Second):
//     from the workload's block I/O when the host accounts it (cgroup v2);
//   - NetworkReceive/TransmitThroughput (Bytes/Second): the traffic of the
//     server's namespace's interfaces, for instances placed in a VPC.
//
// Rates and CPU need two readings: an instance's first interval has the
// gauges only. Datapoints are stamped at the interval's start, as EC2's.

// publishing are the statuses in which an instance's metrics are
// published: its server runs and serves.
var publishing = map[string]bool{"available": true, "backing-up": true, "modifying": true}

// rdsMeter is what the metrics loop keeps between readings.
type rdsMeter struct {
	loop metricport.Loop
	mu   sync.Mutex
	last map[string]usageSample // by record key
}

// usageSample is a workload's usage and when it was read.
type usageSample struct {
	at time.Time
	u  workload.Usage
}

// startMetrics starts publishing, when the controller has a publisher.
func (c *Controller) startMetrics() {
	if c.cfg.Metrics == nil {
		return
	}
	interval := metricport.Interval(c.cfg.MetricsInterval)
	c.meter.loop.Start(interval, func(ctx context.Context, now time.Time) { c.publishMetrics(ctx, now, interval) })
}

// publishMetrics takes a reading of every running instance and publishes
// it.
func (c *Controller) publishMetrics(ctx context.Context, now time.Time, interval time.Duration) {
	running := c.runningServers()
	c.meter.mu.Lock()
	if c.meter.last == nil {
		c.meter.last = map[string]usageSample{}
	}
	for k := range c.meter.last {
		if running[k] == nil {
			delete(c.meter.last, k)
		}
	}
	c.meter.mu.Unlock()
	stamp := now.Add(-interval).Truncate(interval)
	// Every instance is read first (each usage with its own read time),
	// then one Publish (one log fsync) per account and region.
	batches := metricport.Batches{}
	for key, p := range running {
		if ctx.Err() != nil {
			return
		}
		sc, id, ok := records.Instances.ParseKey(key)
		if !ok {
			continue
		}
		rec, found, err := c.get(sc, id)
		if err != nil || !found || !publishing[deref(rec.DBInstanceStatus)] {
			continue
		}
		r, ok := c.readInstance(ctx, key, sc, id, &rec, p)
		if !ok {
			continue
		}
		batches.Add(sc.Account, sc.Region, rdsData(r, stamp)...)
	}
	batches.Publish(ctx, c.cfg.Metrics, c.log, "rds metrics")
}

// readInstance reads what the instance's datapoints are made of.
func (c *Controller) readInstance(ctx context.Context, key string, sc state.Scope, id string, rec *records.Instance, p *server) (instanceReading, bool) {
	dir, err := c.dir(sc, id)
	if err != nil {
		return instanceReading{}, false
	}
	eng := c.engineFor(deref(rec.Engine))
	vcpus, mem := classShape(deref(rec.DBInstanceClass))
	r := instanceReading{
		ID: id, Class: deref(rec.DBInstanceClass), Engine: deref(rec.Engine),
		VCPUs: vcpus, Memory: mem, Allocated: int64(deref(rec.AllocatedStorage)) << 30,
		Connections: -1, Used: dirSize(dir), Placed: p.eni != nil,
	}
	u, err := c.cfg.Workloads.Usage(engine.WorkloadName(dir))
	if err != nil {
		c.log.Debug("rds: instance usage", "id", id, "err", err)
	} else {
		// The read's own time: the readings before it (connection
		// counts of other instances) take seconds.
		r.Cur = &usageSample{at: time.Now(), u: u}
		c.meter.mu.Lock()
		if prev, ok := c.meter.last[key]; ok {
			r.Prev = &prev
		}
		c.meter.last[key] = *r.Cur
		c.meter.mu.Unlock()
	}
	if m, ok := eng.(engine.Monitoring); ok {
		user, password := readyLogin(rec)
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		n, err := m.Connections(qctx, p.Server, engine.Access{Dir: dir, User: user, Password: password})
		cancel()
		if err != nil {
			c.log.Debug("rds: count connections", "id", id, "err", err)
		} else {
			r.Connections = n
		}
	}
	if rec.IsReplica() || rec.IsMember() { // a cluster's reader is measured as a replica
		if s, ok := c.LastLag(key); ok && s.Err == "" {
			r.Lag = &s.Lag
		}
	}
	if rec.IsMember() {
		c.readMember(sc, id, rec, &r)
		r.Capacity, r.MaxACU, _ = c.Capacity(key)
	}
	return r, true
}

// instanceReading is one reading of a DB instance.
type instanceReading struct {
	ID, Class, Engine string
	VCPUs             int
	Memory            int64 // the class's, bytes
	Allocated         int64 // AllocatedStorage, bytes
	// Prev and Cur are the workload's last and current usage; Cur nil
	// when it could not be read, Prev nil on the first reading.
	Prev, Cur *usageSample
	// Connections is -1 when unknown; Used the instance directory's size,
	// -1 when unknown.
	Connections int
	Used        int64
	// Lag is a read replica's or a cluster reader's, nil for none.
	Lag *time.Duration
	// Cluster is a member's DB cluster, Role its role there (WRITER or
	// READER); ReaderLags, on the writer, its readers' lags measured.
	Cluster, Role string
	ReaderLags    []time.Duration
	// Placed: the server runs in its VPC, whose interfaces are its own.
	Placed bool
	// Capacity is a Serverless v2 member's capacity (ACUs), MaxACU its
	// cluster's MaxCapacity; 0 for a class (capacity.go).
	Capacity, MaxACU float64
}

// rdsData is reading r's AWS/RDS datapoints, stamped at, under its
// instance's dimension and the aggregate ones; a cluster member's also
// under its cluster's (clusterData).
func rdsData(r instanceReading, at time.Time) []metricport.Datum {
	vals := instanceValues(r, at)
	var out []metricport.Datum
	for _, dims := range [][]metricport.Dim{
		{{Name: "DBInstanceIdentifier", Value: r.ID}},
		{{Name: "DatabaseClass", Value: r.Class}},
		{{Name: "EngineName", Value: r.Engine}},
	} {
		if dims[0].Value == "" {
			continue
		}
		for _, d := range vals {
			d.Dims = dims
			out = append(out, d)
		}
	}
	out = append(out, serverlessData(r, at)...)
	return append(out, clusterData(r, vals, at)...)
}

// instanceValues are reading r's datapoints, stamped at, without
// dimensions.
func instanceValues(r instanceReading, at time.Time) []metricport.Datum {
	var vals []metricport.Datum
	add := func(name, unit string, v float64) {
		vals = append(vals, metricport.Datum{Namespace: "AWS/RDS", Name: name, Unit: unit, Time: at, Value: v})
	}
	if r.Connections >= 0 {
		add("DatabaseConnections", "Count", float64(r.Connections))
	}
	if r.Used >= 0 && r.Allocated > 0 {
		add("FreeStorageSpace", "Bytes", float64(max(r.Allocated-r.Used, 0)))
	}
	if r.Cur != nil && r.Memory > 0 {
		add("FreeableMemory", "Bytes", float64(max(r.Memory-int64(r.Cur.u.Memory), 0)))
	}
	switch {
	case r.Lag != nil && r.Cluster != "":
		add("AuroraReplicaLag", "Milliseconds", float64(r.Lag.Microseconds())/1000)
	case r.Lag != nil:
		add("ReplicaLag", "Seconds", r.Lag.Seconds())
	}
	if r.Cur != nil && r.Prev != nil && r.Cur.at.After(r.Prev.at) {
		elapsed := r.Cur.at.Sub(r.Prev.at)
		cur, prev := r.Cur.u, r.Prev.u
		cpu := 100 * float64(cur.CPU-prev.CPU) / (float64(elapsed) * float64(max(r.VCPUs, 1)))
		add("CPUUtilization", "Percent", min(max(cpu, 0), 100))
		rate := func(now, then uint64) float64 {
			if now < then { // the counters started again
				return float64(now) / elapsed.Seconds()
			}
			return float64(now-then) / elapsed.Seconds()
		}
		if cur.IO != nil && prev.IO != nil {
			add("ReadIOPS", "Count/Second", rate(cur.IO.ReadOps, prev.IO.ReadOps))
			add("WriteIOPS", "Count/Second", rate(cur.IO.WriteOps, prev.IO.WriteOps))
			add("ReadThroughput", "Bytes/Second", rate(cur.IO.ReadBytes, prev.IO.ReadBytes))
			add("WriteThroughput", "Bytes/Second", rate(cur.IO.WriteBytes, prev.IO.WriteBytes))
		}
		if r.Placed {
			add("NetworkReceiveThroughput", "Bytes/Second", rate(cur.Net.RxBytes, prev.Net.RxBytes))
			add("NetworkTransmitThroughput", "Bytes/Second", rate(cur.Net.TxBytes, prev.Net.TxBytes))
		}
	}
	return vals
}

// classShape is a DB instance class's vCPUs and memory (bytes), by AWS's
// sizes: micro to large have 2 vCPUs, xlarge 4, Nxlarge 4N; burstable
// (db.t*) classes have 1, 2, 4, 8 GiB from micro to large and 4 GiB per
// vCPU above, memory-optimized db.r* 8 GiB per vCPU and db.x* 16, the
// others 4. The servers' limits are these (capacity.go).
func classShape(class string) (vcpus int, memory int64) {
	parts := strings.Split(class, ".")
	if len(parts) != 3 {
		return 2, 4 << 30
	}
	fam, size := parts[1], parts[2]
	switch size {
	case "micro", "small", "medium", "large":
		vcpus = 2
	case "xlarge":
		vcpus = 4
	default:
		n, err := strconv.Atoi(strings.TrimSuffix(size, "xlarge"))
		if err != nil || n <= 0 {
			return 2, 4 << 30
		}
		vcpus = 4 * n
	}
	perVCPU := int64(4 << 30)
	switch {
	case strings.HasPrefix(fam, "t"):
		if gib, ok := map[string]int64{"micro": 1, "small": 2, "medium": 4, "large": 8}[size]; ok {
			return vcpus, gib << 30
		}
	case strings.HasPrefix(fam, "x"):
		perVCPU = 16 << 30
	case strings.HasPrefix(fam, "r"):
		perVCPU = 8 << 30
	}
	return vcpus, int64(vcpus) * perVCPU
}

// dirSize is the size of the files under dir, -1 when it cannot be read.
func dirSize(dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // a file removed meanwhile, or unreadable: skipped
		}
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	if err != nil {
		return -1
	}
	return n
}
