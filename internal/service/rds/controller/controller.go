package controller

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/ec2port"
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
	// standbys are Multi-AZ instances' standby servers, by record key.
	standbys map[string]*server

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	repl replMonitor // read replicas' last measurements
}

// New returns a controller; Start runs it.
func New(cfg Config) *Controller {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Controller{cfg: cfg, store: cfg.Store, log: cfg.Logger, engines: cfg.Engines, dirs: cfg.Dirs,
		servers: map[string]*server{}, reboots: map[string]int{}}
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
}

// Stop stops every server (their data stays) and the controller.
func (c *Controller) Stop() {
	c.cancel()
	_ = c.q.Stop(context.Background()) // waits for the passes in flight
	c.wg.Wait()
	c.mu.Lock()
	servers := c.servers
	c.servers = map[string]*server{}
	c.mu.Unlock()
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
			return records.Instances.Delete(tx, sc, id)
		}
		// An unchanged record is not written: every write is an event that
		// would reconcile the instance again, for ever.
		if after, _ := json.Marshal(r); bytes.Equal(before, after) {
			return nil
		}
		return records.Instances.Put(tx, sc, id, r)
	})
	if err != nil && !errors.Is(err, state.ErrClosed) {
		c.log.Warn("rds: record instance state", "id", id, "err", err)
	}
	return applied && err == nil
}

// reconcile converges one instance; it reports whether to retry later.
func (c *Controller) reconcile(key string) (retry bool) {
	if sc, id, ok := records.Snapshots.ParseKey(key); ok {
		return c.reconcileSnapshot(sc, id)
	}
	sc, id, _ := records.Instances.ParseKey(key)
	var (
		rec   records.Instance
		found bool
	)
	err := c.store.View(c.ctx, func(tx state.Tx) error {
		var err error
		rec, found, err = records.Instances.Get(tx, sc, id)
		return err
	})
	if err != nil {
		return false
	}
	dir, err := c.dir(sc, id)
	if err != nil {
		return true
	}
	status := deref(rec.DBInstanceStatus)
	switch {
	case !found:
		c.stopStandby(key, sc, id, "", nil)
		if p := c.stopServer(key); p != nil && p.eni != nil {
			if err := c.unplug(sc, p.eni); err != nil {
				c.log.Warn("rds: remove the network interface", "id", id, "err", err)
			}
		}
		_ = os.RemoveAll(dir)
		c.cfg.Workloads.Ports().Release(key)
		return false
	case status == "deleting":
		if c.beforeDelete(sc, &rec) {
			return false // its snapshots finish first, then enqueue it
		}
		c.stopServer(key)
		if !c.stopStandby(key, sc, id, status, &rec) || !c.teardown(sc, id, status, rec.ENI) {
			return true
		}
		if err := os.RemoveAll(dir); err != nil {
			c.log.Warn("rds: remove data", "dir", dir, "err", err)
		}
		c.forgetReplica(sc, id, &rec)
		c.update(sc, id, status, func(*records.Instance) bool { return true })
		c.cfg.Workloads.Ports().Release(key)
		return false
	case status == "stopping" || status == "stopped" || status == "failed" || status == "incompatible-parameters":
		if status == "stopping" && c.waitSnapshots(sc, &rec) {
			return false // StopDBInstance's snapshot first, then enqueue it
		}
		c.stopServer(key)
		if !c.stopStandby(key, sc, id, status, &rec) || !c.teardown(sc, id, status, rec.ENI) {
			return true
		}
		if status == "stopping" {
			c.update(sc, id, status, func(r *records.Instance) bool { r.DBInstanceStatus = ptr("stopped"); return false })
		}
		return false
	}
	if err := c.converge(key, sc, id, dir, rec); err != nil {
		if c.ctx.Err() != nil {
			return false
		}
		if errors.Is(err, errWaitSource) {
			return true
		}
		if c.failoverOnPrimaryLoss(key, sc, id, &rec, err) {
			return false
		}
		c.log.Warn("rds: engine", "id", id, "err", err)
		pe, ok := c.engineFor(deref(rec.Engine)).(engine.Parameters)
		refused := ok && pe.RefusedParams(err)
		c.update(sc, id, status, func(r *records.Instance) bool {
			r.EngineError = err.Error()
			if status == "creating" {
				r.DBInstanceStatus = ptr("failed")
			}
			if refused {
				r.DBInstanceStatus = ptr("incompatible-parameters")
			}
			return false
		})
		return status != "creating" && !refused
	}
	c.afterConverge(sc, id)
	return false
}

// converge makes a running instance's server run with the recorded
// password, database and reboot count, then reports its status.
func (c *Controller) converge(key string, sc state.Scope, id, dir string, rec records.Instance) error {
	ctx := c.ctx
	master := deref(rec.MasterUsername)
	status := deref(rec.DBInstanceStatus)
	eng := c.engineFor(deref(rec.Engine))
	if eng == nil {
		return fmt.Errorf("minicloud has no engine %q", deref(rec.Engine))
	}
	if !rec.Initialized && rec.IsReplica() {
		c.stopServer(key)
		if err := c.cloneFromSource(ctx, sc, id, dir, &rec, eng); err != nil {
			return err
		}
	} else if !rec.Initialized {
		c.stopServer(key)
		if err := c.initialize(ctx, sc, dir, &rec, eng); err != nil {
			return err
		}
		rec.AppliedPassword = rec.Password
	}
	if err := c.failoverIfAsked(ctx, key, sc, id, dir, &rec, eng); err != nil {
		return err
	}
	c.mu.Lock()
	p := c.servers[key]
	applied := c.reboots[key]
	c.mu.Unlock()
	if p != nil && (!p.running() || applied < rec.RebootSeq) {
		c.stopServer(key)
		p = nil
	}
	if p == nil {
		port, err := c.cfg.Workloads.Ports().Reserve(key, rec.LoopbackPort)
		if err != nil {
			return err
		}
		rec.LoopbackPort = port
		var vpc *engine.Listen
		if c.wantsVPC(&rec) {
			var err error
			if vpc, err = c.plug(ctx, sc, id, status, &rec); err != nil {
				return err
			}
		}
		if pe, ok := eng.(engine.Parameters); ok {
			if err := c.bootParams(sc, dir, &rec, pe); err != nil {
				return err
			}
		}
		extra, err := c.replicaFiles(sc, dir, &rec, eng)
		if err != nil {
			return err
		}
		settings, err := eng.Settings(dir, engine.Instance{
			ResourceID: deref(rec.DbiResourceId), BackupRetention: deref(rec.BackupRetentionPeriod),
			Replica: rec.IsReplica(), HasReplicas: len(rec.ReadReplicaDBInstanceIdentifiers) > 0,
		})
		if err != nil {
			return err
		}
		p, err = startServer(eng, dir, rec.LoopbackPort, vpc, settings, extra)
		for _, f := range extra {
			_ = f.Close()
		}
		if err != nil {
			return err
		}
		p.eni = rec.ENI
		user, password := readyLogin(&rec)
		if err := eng.WaitReady(ctx, p.Server, engine.Access{Dir: dir, User: user, Password: password}); err != nil {
			p.stop()
			return err
		}
		c.mu.Lock()
		c.servers[key] = p
		c.reboots[key] = rec.RebootSeq
		c.mu.Unlock()
		go func() {
			<-p.Done()
			c.mu.Lock()
			mine := c.servers[key] == p
			c.mu.Unlock()
			if mine {
				c.enqueue(key) // an unexpected exit: restart it
			}
		}()
	}
	if err := c.syncPublicIP(ctx, sc, id, status, &rec); err != nil {
		return err
	}
	// A replica's databases come with its source's data.
	if !rec.Initialized && deref(rec.DBName) != "" && !rec.IsReplica() {
		if err := eng.CreateDatabase(ctx, p.Server, engine.Access{Dir: dir, User: master, Password: rec.AppliedPassword}, *rec.DBName); err != nil {
			return err
		}
	}
	if err := c.replicate(ctx, sc, id, dir, &rec, p, eng); err != nil {
		return err
	}
	c.releaseHolds(ctx, sc, id, &rec, p, eng)
	if err := c.syncStandby(ctx, key, sc, id, dir, &rec, p, eng); err != nil {
		return err
	}
	// When the current password took effect: at the latest now, before
	// the update records it.
	pwSince := time.Now().UTC()
	if rec.Password != rec.AppliedPassword {
		if err := eng.SetPassword(ctx, p.Server, engine.Access{Dir: dir, User: master, Password: rec.AppliedPassword}, rec.Password); err != nil {
			return err
		}
		rec.AppliedPassword = rec.Password
	}
	paramStatus, err := c.afterStart(ctx, sc, dir, &rec, p, eng)
	if err != nil {
		return err
	}
	c.update(sc, id, status, func(r *records.Instance) bool {
		finishConverge(r, &rec, paramStatus)
		r.Initialized = true
		r.LoopbackPort = p.Port
		if r.AppliedPassword != rec.AppliedPassword {
			if len(r.Passwords) == 0 && r.AppliedPassword != "" {
				// A record from before the history: its password so far.
				r.Passwords = []records.AppliedPassword{{Password: r.AppliedPassword}}
			}
			r.Passwords = records.RecordPassword(r.Passwords, rec.AppliedPassword, pwSince)
		}
		r.AppliedPassword = rec.AppliedPassword
		r.EngineError = ""
		r.PendingModifiedValues = pendingAfter(r)
		switch {
		case status == "creating" && deref(r.BackupRetentionPeriod) > 0 && c.canBackup(r):
			r.DBInstanceStatus = ptr("backing-up")
		case status == "backing-up":
			// until its backups are taken (afterConverge, finishSnapshot)
		case status != "available":
			r.DBInstanceStatus = ptr("available")
		}
		if status == "creating" || status == "starting" || status == "rebooting" {
			r.InstanceCreateTime = records.FirstTime(r.InstanceCreateTime)
		}
		return false
	})
	return nil
}

func pendingAfter(r *records.Instance) *rdsapi.PendingModifiedValues {
	p := rdsapi.PendingModifiedValues{}
	if r.PendingModifiedValues != nil {
		p = *r.PendingModifiedValues
	}
	if r.Password == r.AppliedPassword {
		p.MasterUserPassword = nil
	}
	return &p
}

func groupIDs(r *records.Instance) []string {
	var out []string
	for _, g := range r.VpcSecurityGroups {
		out = append(out, deref(g.VpcSecurityGroupId))
	}
	return out
}

// afterStart runs once the instance's server is up: the security groups
// to its ENI and its Multi-AZ standby's (which is the primary's after a
// failover), then the parameter group; it returns the
// ParameterApplyStatus. The memberships become active (finishConverge)
// only once both ENIs have the groups.
func (c *Controller) afterStart(ctx context.Context, sc state.Scope, dir string, rec *records.Instance, p *server, eng engine.Engine) (string, error) {
	if rec.ENI != nil && c.placing() && slices.ContainsFunc(rec.VpcSecurityGroups, func(g rdsapi.VpcSecurityGroupMembership) bool {
		return deref(g.Status) != "active"
	}) {
		enis := []string{rec.ENI.ID}
		if rec.Standby != nil && rec.Standby.ENI != nil {
			enis = append(enis, rec.Standby.ENI.ID)
		}
		for _, eni := range enis {
			if err := c.cfg.EC2.SetENIGroups(ctx, sc.Account, sc.Region, eni, groupIDs(rec)); err != nil {
				return "", fmt.Errorf("security groups of %s: %w", eni, err)
			}
		}
		// Active only once the kernel has them.
		if err := c.cfg.Workloads.SyncNetwork(ctx); err != nil {
			return "", err
		}
	}
	pe, ok := eng.(engine.Parameters)
	if !ok { // only its empty default group
		return "in-sync", nil
	}
	return c.liveParams(ctx, sc, dir, rec, p, pe)
}

// finishConverge records in r (the record as it is now) what converge
// applied from rec (the record as it was read), unless r changed since.
func finishConverge(r, rec *records.Instance, paramStatus string) {
	r.Applied = rec.Applied
	if paramStatus != "" && len(r.DBParameterGroups) > 0 && r.ParamGroupName() == rec.ParamGroupName() {
		r.DBParameterGroups[0].ParameterApplyStatus = ptr(paramStatus)
	}
	if slices.Equal(groupIDs(r), groupIDs(rec)) {
		for i := range r.VpcSecurityGroups {
			r.VpcSecurityGroups[i].Status = ptr("active")
		}
	}
}

func deref[T any](p *T) T {
	if p == nil {
		var z T
		return z
	}
	return *p
}

func ptr[T any](v T) *T { return &v }
