package controller

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// The controller's side of read replicas: it makes, starts, watches,
// promotes and forgets them through the engine's Replication capability.

// errWaitSource: a replica cannot be made yet because its source's server
// is not running; the controller retries rather than failing the replica.
var errWaitSource = errors.New("waiting for the source DB instance")

// replicaCheckEvery is how often the controller checks each replica's
// replication and measures its lag.
const replicaCheckEvery = 2 * time.Second

// replicaErrorAfter is how long replication may be down (a source's
// restart, say) before the replica's status says so.
const replicaErrorAfter = 6 * time.Second

// replMonitor holds what the controller last measured of each replica.
type replMonitor struct {
	mu      sync.Mutex
	samples map[string]LagSample // by record key
	down    map[string]time.Time // since when replication is not streaming
}

func (c *Controller) running(key string) *server {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.servers[key]; p != nil && p.running() {
		return p
	}
	return nil
}

func (c *Controller) get(sc state.Scope, id string) (rec records.Instance, found bool, err error) {
	err = c.store.View(context.Background(), func(tx state.Tx) error {
		if rec, found, err = records.Instances.Get(tx, sc, id); err != nil || !found {
			return err
		}
		return asMember(tx, sc, &rec)
	})
	return rec, found, err
}

// readyLogin is who WaitReady logs in as: a replica's master password
// follows its source's, so a replica is checked with the replication
// login, whose password never changes.
func readyLogin(r *records.Instance) (user, password string) {
	if r.IsReplica() && r.Replica != nil && r.Replica.ReplPassword != "" {
		return engine.ReplUser, r.Replica.ReplPassword
	}
	return deref(r.MasterUsername), r.AppliedPassword
}

// replicaOf is replica rec of scope sc as its engine sees it.
func replicaOf(sc state.Scope, rec *records.Instance) engine.Replica {
	r := engine.Replica{ID: deref(rec.DBInstanceIdentifier), ResourceID: deref(rec.DbiResourceId), Region: sc.Region,
		Master: deref(rec.MasterUsername), Password: rec.Password}
	if rec.Replica != nil {
		r.ReplPassword = rec.Replica.ReplPassword
	}
	return r
}

// sourceOf is read replica rec's source as the replica's engine sees it:
// src is its record (nil: it is gone).
func (c *Controller) sourceOf(sc state.Scope, rec, src *records.Instance) (engine.Source, error) {
	srcID := deref(rec.ReadReplicaSourceDBInstanceIdentifier)
	dir, err := c.dir(sc, srcID)
	if err != nil {
		return engine.Source{}, err
	}
	out := engine.Source{ID: srcID, Access: engine.Access{Dir: dir}}
	if p := c.running(records.Instances.Key(sc, srcID)); p != nil {
		out.Server = p.Server
	}
	if src != nil {
		out.User, out.Password = deref(src.MasterUsername), src.AppliedPassword
		out.Port = c.listenPort(src)
		out.Replica = src.IsReplica()
	}
	return out, nil
}

// cloneFromSource makes dir a new replica's server from its running source.
func (c *Controller) cloneFromSource(ctx context.Context, sc state.Scope, id, dir string, rec *records.Instance, eng engine.Engine) error {
	rep, ok := eng.(engine.Replication)
	if !ok {
		return fmt.Errorf("minicloud has no read replicas of %s DB instances", eng.Name())
	}
	srcID := deref(rec.ReadReplicaSourceDBInstanceIdentifier)
	src, found, err := c.get(sc, srcID)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("the source DB instance %s no longer exists", srcID)
	}
	// A cluster's reader may be created with its writer: it waits until
	// the writer's data and password are made.
	if c.running(records.Instances.Key(sc, srcID)) == nil || !src.Initialized {
		return fmt.Errorf("%w %s (%s)", errWaitSource, srcID, deref(src.DBInstanceStatus))
	}
	if rec.Replica == nil || rec.Replica.ReplPassword == "" {
		if rec.IsMember() { // the writer makes it once it runs (syncReaders)
			return fmt.Errorf("%w %s: its replication login is not made yet", errWaitSource, srcID)
		}
		return errors.New("the replica has no replication password")
	}
	from, err := c.sourceOf(sc, rec, &src)
	if err != nil {
		return err
	}
	// One clone of a source at a time: each sets up the source's
	// replication login, which concurrent ones (a cluster's readers made
	// together) would race to create.
	mu, _ := c.cloning.LoadOrStore(records.Instances.Key(sc, srcID), &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	err = rep.Clone(ctx, dir, replicaOf(sc, rec), from)
	mu.(*sync.Mutex).Unlock()
	if err != nil {
		return err
	}
	var top records.Instance
	err = c.store.View(ctx, func(tx state.Tx) error {
		var err error
		top, err = records.PrimaryOf(tx, sc, src)
		return err
	})
	if err != nil {
		return err
	}
	rec.Password, rec.AppliedPassword = top.AppliedPassword, top.AppliedPassword
	return nil
}

// replicaFiles prepares a replica's server to start (PrepareReplica) and
// returns the files it is to inherit; the caller closes them once the
// server has started.
func (c *Controller) replicaFiles(sc state.Scope, dir string, rec *records.Instance, eng engine.Engine) ([]*os.File, error) {
	rep, ok := eng.(engine.Replication)
	if !ok || !rec.IsReplica() || rec.Replica == nil {
		return nil, nil
	}
	src, found, err := c.get(sc, deref(rec.ReadReplicaSourceDBInstanceIdentifier))
	if err != nil {
		return nil, err
	}
	if !found { // being promoted: its source was deleted
		return nil, nil
	}
	from, err := c.sourceOf(sc, rec, &src)
	if err != nil {
		return nil, err
	}
	return rep.PrepareReplica(dir, replicaOf(sc, rec), from)
}

// replicate runs on every pass over a running replica: it replicates
// (Replicate), or, when its promotion was asked for, is promoted, its hold
// on its source released (or left to the source to release once it runs)
// and recorded as a standalone instance.
func (c *Controller) replicate(ctx context.Context, sc state.Scope, id, dir string, rec *records.Instance, p *server, eng engine.Engine) error {
	rep, ok := eng.(engine.Replication)
	if !ok || !rec.IsReplica() || rec.Replica == nil {
		return nil
	}
	srcID := deref(rec.ReadReplicaSourceDBInstanceIdentifier)
	src, found, err := c.get(sc, srcID)
	if err != nil {
		return err
	}
	srcRec := &src
	if !found {
		srcRec = nil
	}
	from, err := c.sourceOf(sc, rec, srcRec)
	if err != nil {
		return err
	}
	r := replicaOf(sc, rec)
	if !rec.Replica.Promote {
		return rep.Replicate(ctx, p.Server, dir, r, from)
	}
	if err := rep.Promote(ctx, p.Server, dir, r, from); err != nil {
		return err
	}
	if hold := rep.Hold(r); hold != "" {
		released := false
		if from.Server != nil {
			// What the replica held may stay busy a moment after its
			// promotion (a walsender ending).
			for range 50 {
				if err = rep.Release(ctx, from.Server, r.ReplPassword, hold); err == nil {
					released = true
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err != nil {
				c.log.Warn("rds: release the promoted replica's hold on its source", "id", id, "source", srcID, "hold", hold, "err", err)
			}
		}
		if !released {
			if err := c.pendRelease(sc, srcID, hold); err != nil {
				return err
			}
		}
	}
	return c.recordPromotion(sc, id, srcID)
}

// pendRelease records on source srcID that it is to release hold once it
// runs (releaseHolds).
func (c *Controller) pendRelease(sc state.Scope, srcID, hold string) error {
	return c.store.Update(context.Background(), func(tx state.Tx) error {
		src, found, err := records.Instances.Get(tx, sc, srcID)
		if err != nil || !found {
			return err
		}
		if src.Replica == nil {
			src.Replica = &records.ReplicaState{}
		}
		if slices.Contains(src.Replica.DropSlots, hold) {
			return nil
		}
		src.Replica.DropSlots = append(src.Replica.DropSlots, hold)
		return records.Instances.Put(tx, sc, srcID, src)
	})
}

// releaseHolds releases, on instance id whose server p runs, what replicas
// that went while it was not running held on it.
func (c *Controller) releaseHolds(ctx context.Context, sc state.Scope, id string, rec *records.Instance, p *server, eng engine.Engine) {
	rep, ok := eng.(engine.Replication)
	if !ok || rec.Replica == nil || len(rec.Replica.DropSlots) == 0 {
		return
	}
	var done []string
	for _, hold := range rec.Replica.DropSlots {
		if err := rep.Release(ctx, p.Server, rec.Replica.ReplPassword, hold); err != nil {
			c.log.Warn("rds: release a gone replica's hold", "id", id, "hold", hold, "err", err)
			continue
		}
		done = append(done, hold)
	}
	if len(done) == 0 {
		return
	}
	err := c.store.Update(context.Background(), func(tx state.Tx) error {
		r, found, err := records.Instances.Get(tx, sc, id)
		if err != nil || !found || r.Replica == nil {
			return err
		}
		r.Replica.DropSlots = slices.DeleteFunc(r.Replica.DropSlots, func(s string) bool { return slices.Contains(done, s) })
		return records.Instances.Put(tx, sc, id, r)
	})
	if err != nil && !errors.Is(err, state.ErrClosed) {
		c.log.Warn("rds: record released holds", "id", id, "err", err)
	}
}

// recordPromotion records a promoted replica as a standalone instance.
func (c *Controller) recordPromotion(sc state.Scope, id, srcID string) error {
	c.forgetSamples(records.Instances.Key(sc, id))
	return c.store.Update(context.Background(), func(tx state.Tx) error {
		r, found, err := records.Instances.Get(tx, sc, id)
		if err != nil || !found {
			return err
		}
		// Its master password is its primary's, as the promoted data has it.
		root, err := records.PrimaryOf(tx, sc, r)
		if err != nil {
			return err
		}
		if !root.IsReplica() {
			r.Password, r.AppliedPassword = root.AppliedPassword, root.AppliedPassword
		}
		r.ReadReplicaSourceDBInstanceIdentifier = nil
		r.StatusInfos = nil
		r.BackupRetentionPeriod = ptr(int32(1)) // PromoteReadReplica's default
		if r.Replica.PromoteBackup != nil {
			r.BackupRetentionPeriod = r.Replica.PromoteBackup
		}
		if r.Replica.PromoteWindow != "" {
			r.PreferredBackupWindow = ptr(r.Replica.PromoteWindow)
		}
		r.Replica.Promote, r.Replica.PromoteBackup, r.Replica.PromoteWindow = false, nil, ""
		if err := records.Instances.Put(tx, sc, id, r); err != nil {
			return err
		}
		return removeFromSource(tx, sc, srcID, id)
	})
}

// forgetSamples drops what watchReplicas measured of the replica key (deleted
// or promoted).
func (c *Controller) forgetSamples(key string) {
	c.repl.mu.Lock()
	delete(c.repl.samples, key)
	delete(c.repl.down, key)
	c.repl.mu.Unlock()
}

func removeFromSource(tx state.Tx, sc state.Scope, srcID, id string) error {
	src, found, err := records.Instances.Get(tx, sc, srcID)
	if err != nil || !found {
		return err
	}
	src.ReadReplicaDBInstanceIdentifiers = slices.DeleteFunc(src.ReadReplicaDBInstanceIdentifiers, func(s string) bool { return s == id })
	return records.Instances.Put(tx, sc, srcID, src)
}

// forgetReplica runs when a deleted replica's server has stopped: its
// source no longer lists it nor keeps logs for it.
func (c *Controller) forgetReplica(sc state.Scope, id string, rec *records.Instance) {
	if !rec.IsReplica() {
		return
	}
	c.forgetSamples(records.Instances.Key(sc, id))
	srcID := deref(rec.ReadReplicaSourceDBInstanceIdentifier)
	rep, ok := c.engineFor(deref(rec.Engine)).(engine.Replication)
	if hold := ""; ok && rec.Replica != nil {
		r := replicaOf(sc, rec)
		if hold = rep.Hold(r); hold != "" {
			err := errors.New("the source is not running")
			if sp := c.running(records.Instances.Key(sc, srcID)); sp != nil {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				err = rep.Release(ctx, sp.Server, r.ReplPassword, hold)
				cancel()
			}
			if err != nil {
				// Its source releases it once it runs.
				if err := c.pendRelease(sc, srcID, hold); err != nil && !errors.Is(err, state.ErrClosed) {
					c.log.Warn("rds: release the deleted replica's hold", "id", id, "source", srcID, "err", err)
				}
			}
		}
	}
	err := c.store.Update(context.Background(), func(tx state.Tx) error { return removeFromSource(tx, sc, srcID, id) })
	if err != nil && !errors.Is(err, state.ErrClosed) {
		c.log.Warn("rds: forget the deleted replica", "id", id, "err", err)
	}
}

// watchReplicas checks every running replica's replication periodically:
// it follows a source that moved to another port, records the replica's
// StatusInfos and measures its lag.
func (c *Controller) watchReplicas() {
	c.every(replicaCheckEvery, func() { c.checkReplicas(); c.checkQuorums() })
}

// every runs fn every d until the controller stops.
func (c *Controller) every(d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		fn()
	}
}

func (c *Controller) checkReplicas() {
	type item struct {
		key string
		sc  state.Scope
		id  string
		rec records.Instance
	}
	// Only running servers can replicate: look at those, not the store.
	c.mu.Lock()
	keys := make([]string, 0, len(c.servers))
	for k := range c.servers {
		keys = append(keys, k)
	}
	c.mu.Unlock()
	var items []item
	_ = c.store.View(c.ctx, func(tx state.Tx) error {
		for _, key := range keys {
			sc, id, _ := records.Instances.ParseKey(key)
			r, found, err := records.Instances.Get(tx, sc, id)
			if err == nil && found {
				err = asMember(tx, sc, &r)
			}
			if err != nil {
				return err
			}
			if found && r.IsReplica() && r.Replica != nil && !r.Replica.Promote {
				items = append(items, item{key, sc, id, r})
			}
		}
		return nil
	})
	for _, it := range items {
		if c.ctx.Err() != nil {
			return
		}
		c.checkReplica(it.key, it.sc, it.id, &it.rec)
	}
}

// checkReplica measures running read replica rec's lag behind its source
// (kept for /_minicloud/health and LastLag) and records in StatusInfos
// whether it replicates, once replication has been down for
// replicaErrorAfter.
func (c *Controller) checkReplica(key string, sc state.Scope, id string, rec *records.Instance) {
	p := c.running(key)
	if p == nil {
		return
	}
	rep, ok := c.engineFor(deref(rec.Engine)).(engine.Replication)
	if !ok {
		return
	}
	srcID := deref(rec.ReadReplicaSourceDBInstanceIdentifier)
	if p.source != srcID {
		// Started to follow another source (its cluster failed over): its
		// pass restarts it, should no event have asked for one.
		c.enqueue(key)
		return
	}
	src, found, err := c.get(sc, srcID)
	if err != nil || !found {
		return
	}
	dir, err := c.dir(sc, id)
	if err != nil {
		return
	}
	from, err := c.sourceOf(sc, rec, &src)
	if err != nil {
		return
	}
	r := replicaOf(sc, rec)
	if from.Server != nil {
		_ = rep.Retarget(p.Server, dir, r, from)
	}
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	lag, streaming, err := rep.Lag(ctx, p.Server, dir, r, from.Server)
	cancel()
	if c.ctx.Err() != nil {
		return
	}
	sample := LagSample{Lag: lag, At: time.Now()}
	if err != nil {
		sample.Err = err.Error()
	}
	since := c.repl.record(key, sample, streaming)
	var info rdsapi.DBInstanceStatusInfo
	switch {
	case streaming:
		info = rdsapi.DBInstanceStatusInfo{StatusType: ptr("read replication"), Status: ptr("replicating"), Normal: ptr(true)}
	case time.Since(since) < replicaErrorAfter:
		return // a source's restart, say: not worth reporting yet
	case from.Server == nil:
		info = rdsapi.DBInstanceStatusInfo{StatusType: ptr("read replication"), Status: ptr("stopped"), Normal: ptr(false),
			Message: ptr(fmt.Sprintf("Replication stopped: the source DB instance %s is %s.", srcID, deref(src.DBInstanceStatus)))}
	default:
		msg := "Replication from " + srcID + " is not streaming"
		if why := rep.ReplicationError(dir); why != "" {
			msg += ": " + why
		} else if err != nil {
			msg += ": " + err.Error()
		}
		info = rdsapi.DBInstanceStatusInfo{StatusType: ptr("read replication"), Status: ptr("error"), Normal: ptr(false), Message: ptr(msg)}
	}
	c.recordStatusInfos(sc, id, rec, []rdsapi.DBInstanceStatusInfo{info})
}

// record keeps the key's latest sample and returns since when its
// replication has not been streaming (zero: it streams).
func (m *replMonitor) record(key string, sample LagSample, streaming bool) (since time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.samples == nil {
		m.samples, m.down = map[string]LagSample{}, map[string]time.Time{}
	}
	m.samples[key] = sample
	if streaming {
		delete(m.down, key)
		return time.Time{}
	}
	if _, ok := m.down[key]; !ok {
		m.down[key] = time.Now()
	}
	return m.down[key]
}

// recordStatusInfos records a replica's StatusInfos, unless rec (as read)
// already has them.
func (c *Controller) recordStatusInfos(sc state.Scope, id string, rec *records.Instance, want []rdsapi.DBInstanceStatusInfo) {
	if reflect.DeepEqual(rec.StatusInfos, want) {
		return
	}
	err := c.store.Update(context.Background(), func(tx state.Tx) error {
		r, found, err := records.Instances.Get(tx, sc, id)
		if err != nil || !found || !r.IsReplica() && !r.IsMember() {
			return err
		}
		r.StatusInfos = want
		return records.Instances.Put(tx, sc, id, r)
	})
	if err != nil && !errors.Is(err, state.ErrClosed) {
		c.log.Warn("rds: record the replication status", "id", id, "err", err)
	}
}

// ReplicaLag measures now how far read replica rec (of scope sc) is behind
// its source.
func (c *Controller) ReplicaLag(ctx context.Context, sc state.Scope, rec *records.Instance) (time.Duration, error) {
	id := deref(rec.DBInstanceIdentifier)
	if rec.IsMember() { // a cluster's reader replicates from its writer
		r, found, err := c.get(sc, id)
		if err != nil {
			return 0, err
		}
		if !found {
			return 0, fmt.Errorf("DB instance %s not found", id)
		}
		rec = &r
	}
	rep, ok := c.engineFor(deref(rec.Engine)).(engine.Replication)
	if !ok || !rec.IsReplica() || rec.Replica == nil {
		return 0, fmt.Errorf("DB instance %s is not a read replica", id)
	}
	p := c.running(records.Instances.Key(sc, id))
	if p == nil {
		return 0, fmt.Errorf("DB instance %s is %s: its server is not running", id, deref(rec.DBInstanceStatus))
	}
	var src *engine.Server
	if sp := c.running(records.Instances.Key(sc, deref(rec.ReadReplicaSourceDBInstanceIdentifier))); sp != nil {
		src = sp.Server
	}
	dir, err := c.dir(sc, id)
	if err != nil {
		return 0, err
	}
	lag, _, err := rep.Lag(ctx, p.Server, dir, replicaOf(sc, rec), src)
	return lag, err
}

// LagSample is what the controller last measured of a read replica's lag.
type LagSample struct {
	Lag time.Duration
	At  time.Time
	// Err is why the measurement failed, "" if it did not.
	Err string
}

// LastLag is what the controller last measured of replica key (a record
// key); ok is false when it measured nothing yet.
func (c *Controller) LastLag(key string) (s LagSample, ok bool) {
	c.repl.mu.Lock()
	defer c.repl.mu.Unlock()
	s, ok = c.repl.samples[key]
	return s, ok
}
