package controller

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minicloud/minicloud/internal/ec2port"
	"github.com/minicloud/minicloud/internal/logport"
	"github.com/minicloud/minicloud/internal/metricport"
	"github.com/minicloud/minicloud/internal/reconcile"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
	"github.com/minicloud/minicloud/internal/workload"
)

// Config is what the controller works with.
type Config struct {
	Store   state.Store
	Logger  *slog.Logger
	Engines *engine.Registry
	Dirs    *records.DataDirs
	// EC2 makes the DB instances' network interfaces and public IPs.
	EC2 ec2port.Port
	// Workloads runs the servers (engine.Runner has it too), and places
	// DB instances that have a DB subnet group in their VPC when it can
	// (placement.go). Otherwise every server listens on loopback only.
	Workloads *workload.Runtime
	// Metrics, when set, takes the instances' AWS/RDS metrics every
	// MetricsInterval (metricport.Interval: a minute unless a test
	// shortens it); metrics.go.
	Metrics         metricport.Publisher
	MetricsInterval time.Duration
	// Logs, when set, takes the exported logs (EnabledCloudwatchLogsExports);
	// logexports.go.
	Logs logport.Writer
}

// Controller converges the real servers to the instance and snapshot
// records, level-triggered: every event on a record's key re-reads that
// record (queue.go); each key is reconciled by at most one goroutine at a
// time.
type Controller struct {
	cfg     Config
	store   state.Store
	log     *slog.Logger
	engines *engine.Registry
	dirs    *records.DataDirs

	q *reconcile.Controller[string] // the work queue (queue.go)

	mu      sync.Mutex
	servers map[string]*server // by record key
	reboots map[string]int     // RebootSeq applied, by key
	// createTries counts the failed creations of new replicas and
	// cluster members, by key (createretry.go).
	createTries map[string]int
	// standbys are Multi-AZ instances' standby servers, by record key.
	standbys map[string]*server
	// clusters are the DB clusters' loopback ports, by record key
	// (cluster.go).
	clusters map[string]*clusterRelays

	quorum quorumSet // the cluster writers' synchronous readers (cluster.go)
	// failoverHook runs at a cluster failover's step boundaries (tests;
	// failoverrecovery.go).
	failoverHook atomic.Pointer[func(context.Context, string)]
	// created bounds how long after a restart a failover waits for the
	// readers to start (failoverrecovery.go).
	created time.Time
	// cloning holds a *sync.Mutex per source key: one replica is cloned
	// from a source at a time (replicas.go).
	cloning sync.Map

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	repl  replMonitor // read replicas' last measurements
	meter rdsMeter    // the AWS/RDS metrics' readings (metrics.go)
	sizes capacities  // the servers' limits and Serverless v2 capacities (capacity.go)
	logs  logExporter // the exported logs' tailers (logexports.go)
}

// New returns a controller; Start runs it.
func New(cfg Config) *Controller {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Controller{cfg: cfg, store: cfg.Store, log: cfg.Logger, engines: cfg.Engines, dirs: cfg.Dirs,
		servers: map[string]*server{}, reboots: map[string]int{}, created: time.Now()}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.q = c.newQueue()
	return c
}

// Start runs the controller: it reconciles every record now and on every
// change, checks the read replicas and takes the automated backups.
func (c *Controller) Start() {
	_ = c.q.Start(c.ctx) // lists every key at once
	c.wg.Go(c.watchReplicas)
	c.wg.Go(c.backupSchedule)
	c.wg.Go(c.scaleServers)
	c.startMetrics()
	c.startLogExports()
}

// Stop stops every server (their data stays) and the controller.
func (c *Controller) Stop() {
	c.cancel()
	c.meter.loop.Stop()
	_ = c.q.Stop(context.Background()) // waits for the passes in flight
	c.wg.Wait()
	c.mu.Lock()
	servers := c.servers
	c.servers = map[string]*server{}
	clusters := c.clusters
	c.clusters = nil
	c.mu.Unlock()
	for _, cr := range clusters {
		cr.close()
	}
	var wg sync.WaitGroup
	for _, p := range servers {
		wg.Go(p.stop)
	}
	wg.Go(c.stopAllStandbys)
	wg.Wait()
}

// engineFor is the engine named name, nil for none.
func (c *Controller) engineFor(name string) engine.Engine { return c.engines.Get(name) }

// wantsStandby reports whether the controller is to keep a standby for r:
// a Multi-AZ instance of an engine with standbys.
func (c *Controller) wantsStandby(r *records.Instance) bool {
	return deref(r.MultiAZ) && r.Standby != nil && engine.Is[engine.Standbys](c.engineFor(deref(r.Engine)))
}

// canBackup reports whether r's engine has backups and this host the tools
// they need.
func (c *Controller) canBackup(r *records.Instance) bool {
	b, ok := c.engineFor(deref(r.Engine)).(engine.Backups)
	return ok && b.CanBackup() == nil
}

func (c *Controller) dir(sc state.Scope, id string) (string, error) { return c.dirs.Instance(sc, id) }

// stopServer stops the key's server and returns it (nil: none ran).
func (c *Controller) stopServer(key string) *server { return c.takeStopped(key, false) }

// takeStopped forgets the key's server, or with standby its standby's,
// stops it and returns it (nil: none ran).
func (c *Controller) takeStopped(key string, standby bool) *server {
	c.mu.Lock()
	m := c.servers
	if standby {
		m = c.standbys
	}
	p := m[key]
	delete(m, key)
	c.mu.Unlock()
	p.stop()
	return p
}

// teardown removes the network interface of a stopped, failed or deleted
// instance and forgets it in the record (if it still has status want).
func (c *Controller) teardown(sc state.Scope, id, want string, e *records.PlacedENI) bool {
	if e == nil {
		return true
	}
	if err := c.unplug(sc, e); err != nil {
		c.log.Warn("rds: remove the network interface", "id", id, "eni", e.ID, "err", err)
		return false
	}
	c.update(sc, id, want, func(r *records.Instance) bool { r.ENI = nil; return false })
	return true
}

// update applies fn to the record if it still exists with status want,
// and reports whether it did.
func (c *Controller) update(sc state.Scope, id, want string, fn func(r *records.Instance) (del bool)) (applied bool) {
	err := c.store.Update(context.Background(), func(tx state.Tx) error {
		r, found, err := records.Instances.Get(tx, sc, id)
		if err != nil || !found || deref(r.DBInstanceStatus) != want {
			return err
		}
		applied = true
		before, _ := json.Marshal(r)
		if fn(&r) {
			return records.DeleteInstance(tx, sc, id)
		}
		// An unchanged record is not written: every write is an event that
		// would reconcile the instance again, for ever.
		if after, _ := json.Marshal(r); bytes.Equal(before, after) {
			return nil
		}
		return records.PutInstance(tx, sc, id, r)
	})
	if err != nil && !errors.Is(err, state.ErrClosed) {
		c.log.Warn("rds: record instance state", "id", id, "err", err)
	}
	return applied && err == nil
}

func deref[T any](p *T) T {
	if p == nil {
		var z T
		return z
	}
	return *p
}

func ptr[T any](v T) *T { return &v }
