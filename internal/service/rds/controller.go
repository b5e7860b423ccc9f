package rds

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// controller converges the real PostgreSQL servers to the instance records,
// level-triggered: every event on an instance key re-reads that record; each
// instance is reconciled by at most one goroutine at a time.
type controller struct {
	s *Service

	mu      sync.Mutex
	servers map[string]*server // by record key
	reboots map[string]int     // RebootSeq applied, by key
	busy    map[string]bool
	dirty   map[string]bool

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	unsub  func()
	done   chan struct{}

	repl replMonitor // read replicas' last measurements

	// standbys are Multi-AZ instances' standby servers, by record key.
	standbys map[string]*server
}

// Start runs the engine controller.
func (s *Service) Start(ctx context.Context) error {
	c := &controller{s: s, servers: map[string]*server{}, reboots: map[string]int{}, busy: map[string]bool{}, dirty: map[string]bool{}}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	ch, unsub := s.store.Subscribe("")
	c.unsub, c.done = unsub, make(chan struct{})
	s.ctl.Store(c)
	c.wg.Go(c.watchReplicas)
	go func() {
		defer close(c.done)
		for ev := range ch {
			switch {
			case ev.Reset || ev.Resync:
				c.enqueueAll()
			default:
				if _, _, ok := records.Instances.ParseKey(ev.Key); ok || isSnapshotKey(ev.Key) {
					c.enqueue(ev.Key)
				} else if _, _, ok := records.ParamGroups.ParseKey(ev.Key); ok {
					c.enqueueAll() // the instances of the group apply it
				}
			}
		}
	}()
	s.startEndpoints()
	c.enqueueAll()
	c.wg.Go(c.backupSchedule)
	return nil
}

// Stop stops every server (their data stays) and the controller. It
// returns once all have stopped: ctx is not consulted, as each server's stop
// bounds its own wait.
func (s *Service) Stop(context.Context) error {
	c := s.ctl.Load()
	if c == nil {
		return nil
	}
	c.unsub()
	<-c.done
	s.stopEndpoints()
	c.cancel()
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
	s.ctl.Store(nil)
	s.dirs.RemoveTemp()
	return nil
}

// enqueueAll schedules every instance record and every running server.
func (c *controller) enqueueAll() {
	var keys []string
	_ = c.s.store.View(c.ctx, func(tx state.Tx) error {
		return tx.Scan("", func(key string, _ []byte) error {
			if _, _, ok := records.Instances.ParseKey(key); ok || isSnapshotKey(key) {
				keys = append(keys, key)
			}
			return nil
		})
	})
	c.mu.Lock()
	for k := range c.servers {
		keys = append(keys, k)
	}
	c.mu.Unlock()
	for _, k := range keys {
		c.enqueue(k)
	}
}

func (c *controller) enqueue(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx.Err() != nil {
		return
	}
	if c.busy[key] {
		c.dirty[key] = true
		return
	}
	c.busy[key] = true
	c.wg.Go(func() {
		for {
			retry := c.reconcile(key)
			c.mu.Lock()
			if c.dirty[key] && c.ctx.Err() == nil {
				delete(c.dirty, key)
				c.mu.Unlock()
				continue
			}
			delete(c.busy, key)
			c.mu.Unlock()
			if retry && c.ctx.Err() == nil {
				time.AfterFunc(5*time.Second, func() { c.enqueue(key) })
			}
			return
		}
	})
}

func (c *controller) dir(sc state.Scope, id string) (string, error) { return c.s.dirs.Instance(sc, id) }

// stopServer stops the key's server and returns it (nil: none ran).
func (c *controller) stopServer(key string) *server {
	c.mu.Lock()
	p := c.servers[key]
	delete(c.servers, key)
	c.mu.Unlock()
	p.stop()
	return p
}

// teardown removes the network interface of a stopped, failed or deleted
// instance and forgets it in the record (if it still has status want).
func (c *controller) teardown(sc state.Scope, id, want string, e *PlacedENI) bool {
	if e == nil {
		return true
	}
	if err := c.unplug(sc, e); err != nil {
		c.s.log.Warn("rds: remove the network interface", "id", id, "eni", e.ID, "err", err)
		return false
	}
	c.update(sc, id, want, func(r *records.Instance) bool { r.ENI = nil; return false })
	return true
}

// update applies fn to the record if it still exists with status want,
// and reports whether it did.
func (c *controller) update(sc state.Scope, id, want string, fn func(r *records.Instance) (del bool)) (applied bool) {
	err := c.s.store.Update(context.Background(), func(tx state.Tx) error {
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
		c.s.log.Warn("rds: record instance state", "id", id, "err", err)
	}
	return applied && err == nil
}

// reconcile converges one instance; it reports whether to retry later.
func (c *controller) reconcile(key string) (retry bool) {
	if sc, id, ok := records.Snapshots.ParseKey(key); ok {
		return c.reconcileSnapshot(sc, id)
	}
	sc, id, _ := records.Instances.ParseKey(key)
	var (
		rec   records.Instance
		found bool
	)
	err := c.s.store.View(c.ctx, func(tx state.Tx) error {
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
				c.s.log.Warn("rds: remove the network interface", "id", id, "err", err)
			}
		}
		_ = os.RemoveAll(dir)
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
			c.s.log.Warn("rds: remove data", "dir", dir, "err", err)
		}
		c.forgetReplica(sc, id, &rec)
		c.update(sc, id, status, func(*records.Instance) bool { return true })
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
		c.s.log.Warn("rds: engine", "id", id, "err", err)
		pe, ok := c.s.engineFor(deref(rec.Engine)).(engine.Parameters)
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
func (c *controller) converge(key string, sc state.Scope, id, dir string, rec records.Instance) error {
	ctx := c.ctx
	master := deref(rec.MasterUsername)
	status := deref(rec.DBInstanceStatus)
	eng := c.s.engineFor(deref(rec.Engine))
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
		if rec.LoopbackPort == 0 || !portFree(rec.LoopbackPort) {
			port, err := freePort(c.usedPorts())
			if err != nil {
				return err
			}
			rec.LoopbackPort = port
		}
		var vpc *engine.Listen
		if c.s.wantsVPC(&rec) {
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
		case status == "creating" && deref(r.BackupRetentionPeriod) > 0 && c.s.errNoBackups(r) == nil:
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

func pendingAfter(r *records.Instance) *rdsPending {
	p := rdsPending{}
	if r.PendingModifiedValues != nil {
		p = *r.PendingModifiedValues
	}
	if r.Password == r.AppliedPassword {
		p.MasterUserPassword = nil
	}
	return &p
}

func (c *controller) usedPorts() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []int
	for _, p := range c.servers {
		out = append(out, p.Port)
	}
	return out
}
