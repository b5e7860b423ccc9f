package controller

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// reconcile converges one instance, or one snapshot (snapshots.go); it
// reports whether to retry later. What it does follows the record's
// status: an instance that is gone, being deleted, or not to run is taken
// down; any other is converged to a running server.
func (c *Controller) reconcile(key string) (retry bool) {
	if sc, id, ok := records.Snapshots.ParseKey(key); ok {
		return c.reconcileSnapshot(sc, id)
	}
	if sc, id, ok := records.Clusters.ParseKey(key); ok {
		return c.reconcileCluster(sc, id)
	}
	if sc, id, ok := records.ClusterSnapshots.ParseKey(key); ok {
		return c.reconcileClusterSnapshot(sc, id)
	}
	if sc, id, ok := records.ClusterVolumes.ParseKey(key); ok {
		return c.reconcileVolume(sc, id)
	}
	sc, id, _ := records.Instances.ParseKey(key)
	var (
		rec   records.Instance
		found bool
	)
	err := c.store.View(c.ctx, func(tx state.Tx) error {
		var err error
		if rec, found, err = records.Instances.Get(tx, sc, id); err != nil || !found {
			return err
		}
		return asMember(tx, sc, &rec)
	})
	if err != nil {
		return false
	}
	if ck := clusterKeyOf(sc, &rec); ck != "" {
		// The cluster's status and loopback ports follow its members.
		defer c.enqueue(ck)
	}
	dir, err := c.dir(sc, id)
	if err != nil {
		return true
	}
	switch status := deref(rec.DBInstanceStatus); {
	case !found:
		c.removeGone(key, sc, id, dir)
		return false
	case status == "deleting":
		return c.deleteInstance(key, sc, id, dir, &rec)
	case status == "stopping" || status == "stopped" || status == "failed" || status == "incompatible-parameters":
		return c.stopInstance(key, sc, id, &rec)
	}
	if err := c.converge(key, sc, id, dir, rec); err != nil {
		return c.convergeFailed(key, sc, id, &rec, err)
	}
	c.createdOrGone(key)
	c.afterConverge(sc, id)
	return false
}

// removeGone stops what still runs for an instance whose record is gone,
// and removes its data.
func (c *Controller) removeGone(key string, sc state.Scope, id, dir string) {
	c.createdOrGone(key)
	c.stopStandby(key, sc, id, "", nil)
	if p := c.stopServer(key); p != nil && p.eni != nil {
		if err := c.unplug(sc, p.eni); err != nil {
			c.log.Warn("rds: remove the network interface", "id", id, "err", err)
		}
	}
	_ = os.RemoveAll(dir)
	c.cfg.Workloads.Ports().Release(key)
}

// deleteInstance carries DeleteDBInstance out once the instance's
// snapshots are taken: its servers stop, its network interfaces and data
// go, its replicas and source forget it, and its record is deleted.
func (c *Controller) deleteInstance(key string, sc state.Scope, id, dir string, rec *records.Instance) (retry bool) {
	status := deref(rec.DBInstanceStatus)
	if c.beforeDelete(sc, rec) {
		return false // its snapshots finish first, then enqueue it
	}
	c.stopServer(key)
	if !c.stopStandby(key, sc, id, status, rec) || !c.teardown(sc, id, status, rec.ENI) || !c.keepVolume(sc, id, dir, rec) {
		return true
	}
	if err := os.RemoveAll(dir); err != nil {
		c.log.Warn("rds: remove data", "dir", dir, "err", err)
	}
	c.forgetReplica(sc, id, rec)
	c.update(sc, id, status, func(*records.Instance) bool { return true })
	c.cfg.Workloads.Ports().Release(key)
	return false
}

// stopInstance keeps an instance that is not to run (stopping, stopped,
// failed, incompatible-parameters) down: its servers stop and its network
// interfaces go, its data stays; a stopping one takes StopDBInstance's
// snapshot first and is then stopped.
func (c *Controller) stopInstance(key string, sc state.Scope, id string, rec *records.Instance) (retry bool) {
	status := deref(rec.DBInstanceStatus)
	if status == "stopping" && c.waitSnapshots(sc, rec) {
		return false // StopDBInstance's snapshot first, then enqueue it
	}
	c.stopServer(key)
	if !c.stopStandby(key, sc, id, status, rec) || !c.teardown(sc, id, status, rec.ENI) {
		return true
	}
	if status == "stopping" {
		c.update(sc, id, status, func(r *records.Instance) bool { r.DBInstanceStatus = ptr("stopped"); return false })
	}
	return false
}

// convergeFailed deals with converge's failure err on rec (as read before
// converge): a replica waits for its source, a primary that cannot start
// fails over to its standby, a new replica or cluster member is made
// again a few times (createretry.go), else the error is recorded (a new
// instance fails, one whose parameters the engine refuses is
// incompatible-parameters) and the others are retried.
func (c *Controller) convergeFailed(key string, sc state.Scope, id string, rec *records.Instance, err error) (retry bool) {
	if c.ctx.Err() != nil {
		return false
	}
	if errors.Is(err, errWaitSource) {
		return true
	}
	if c.failoverOnPrimaryLoss(key, sc, id, rec, err) {
		return false
	}
	status := deref(rec.DBInstanceStatus)
	if status == "creating" && copiesFromSource(rec) && c.retryCreation(key) {
		c.log.Warn("rds: a new replica's copy from its source failed; copying again", "id", id, "err", err)
		return true
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

// converge makes a running instance's server run with the recorded
// password, database and reboot count, then reports its status. Its steps
// are the instance's life: its data made (initialized, restored or cloned
// from its source), a failover if one is asked, its server (re)started, its
// public IP, its database, replication, its standby, its password, security
// groups and parameters, and what was applied recorded.
func (c *Controller) converge(key string, sc state.Scope, id, dir string, rec records.Instance) error {
	ctx := c.ctx
	status := deref(rec.DBInstanceStatus)
	eng := c.engineFor(deref(rec.Engine))
	if eng == nil {
		return fmt.Errorf("minicloud has no engine %q", deref(rec.Engine))
	}
	if err := c.makeData(ctx, key, sc, id, dir, &rec, eng); err != nil {
		return err
	}
	if err := c.failoverIfAsked(ctx, key, sc, id, dir, &rec, eng); err != nil {
		return err
	}
	if err := c.failoverCluster(ctx, key, sc, id, &rec, eng); err != nil {
		return err
	}
	p, err := c.runningServer(ctx, key, sc, id, dir, status, &rec, eng)
	if err != nil {
		return err
	}
	if err := c.promoteMember(ctx, sc, id, dir, &rec, p, eng); err != nil {
		return err
	}
	if err := c.syncPublicIP(ctx, sc, id, status, &rec); err != nil {
		return err
	}
	if err := createDatabase(ctx, dir, &rec, p, eng); err != nil {
		return err
	}
	if err := c.replicate(ctx, sc, id, dir, &rec, p, eng); err != nil {
		return err
	}
	c.releaseHolds(ctx, sc, id, &rec, p, eng)
	if err := c.syncReaders(ctx, key, sc, id, dir, &rec, p, eng); err != nil {
		// The periodic check tries again; the writer serves meanwhile.
		c.log.Warn("rds: cluster writer's readers", "id", id, "err", err)
	}
	if err := c.syncStandby(ctx, key, sc, id, dir, &rec, p, eng); err != nil {
		return err
	}
	pwSince, err := setPassword(ctx, dir, &rec, p, eng)
	if err != nil {
		return err
	}
	paramStatus, err := c.afterStart(ctx, sc, dir, &rec, p, eng)
	if err != nil {
		return err
	}
	c.recordConverged(sc, id, status, &rec, p, paramStatus, pwSince)
	return nil
}

// makeData gives an instance that has none yet its data: a copy of its
// source's for a read replica (cloneFromSource), else a new one or a
// restore's (initialize). No server of it may run meanwhile.
func (c *Controller) makeData(ctx context.Context, key string, sc state.Scope, id, dir string, rec *records.Instance, eng engine.Engine) error {
	if rec.Initialized {
		return nil
	}
	c.stopServer(key)
	if rec.IsReplica() {
		return c.cloneFromSource(ctx, sc, id, dir, rec, eng)
	}
	if adopted, err := c.adoptVolume(ctx, sc, dir, rec, eng); adopted || err != nil {
		return err // the volume's master password is rec's AppliedPassword
	}
	if err := c.initialize(ctx, sc, dir, rec, eng); err != nil {
		return err
	}
	rec.AppliedPassword = rec.Password
	return nil
}

// runningServer returns the instance's running server, started anew when
// it has none, it exited, or a reboot was asked since it started
// (RebootSeq).
func (c *Controller) runningServer(ctx context.Context, key string, sc state.Scope, id, dir, status string, rec *records.Instance, eng engine.Engine) (*server, error) {
	c.mu.Lock()
	p := c.servers[key]
	applied := c.reboots[key]
	c.mu.Unlock()
	stale := p != nil && rec.IsReplica() && p.source != deref(rec.ReadReplicaSourceDBInstanceIdentifier)
	if stale && rec.IsMember() {
		// While the new writer is still to be promoted, its promotion
		// restarts its readers (promoteMember); restarting one here first
		// would have it stream from a standby about to change timeline.
		// The periodic replica check comes back once it is promoted.
		if pending, err := c.promotionPending(sc, deref(rec.ReadReplicaSourceDBInstanceIdentifier)); err != nil || pending {
			stale = false
		}
	}
	if p != nil && p.running() && applied >= rec.RebootSeq && !stale {
		return p, nil
	}
	if stale && p.running() {
		// A cluster's reader started before its writer changed (a failover
		// resumed after a restart, whose readers' passes ran alongside it)
		// would stream from the old writer for good.
		c.log.Info("rds: reader restarted to follow its source", "id", id, "was", p.source, "source", deref(rec.ReadReplicaSourceDBInstanceIdentifier))
	}
	if p != nil {
		c.noteShutdown(sc, status, rec, p.running())
		c.stopServer(key)
	}
	return c.startInstance(ctx, key, sc, id, dir, status, rec, eng)
}

// startInstance starts the instance's server on its loopback port, in its
// VPC when it is placed, with its parameter group's values and, for a read
// replica, what it replicates with; once the server is ready, the
// controller watches it.
func (c *Controller) startInstance(ctx context.Context, key string, sc state.Scope, id, dir, status string, rec *records.Instance, eng engine.Engine) (*server, error) {
	port, err := c.cfg.Workloads.Ports().Reserve(key, rec.LoopbackPort)
	if err != nil {
		return nil, err
	}
	rec.LoopbackPort = port
	var vpc *engine.Listen
	if c.wantsVPC(rec) {
		if vpc, err = c.plug(ctx, sc, id, status, rec); err != nil {
			return nil, err
		}
	}
	if pe, ok := eng.(engine.Parameters); ok {
		if err := c.bootParams(sc, dir, rec, pe); err != nil {
			return nil, err
		}
	}
	extra, err := c.replicaFiles(sc, dir, rec, eng)
	if err != nil {
		return nil, err
	}
	settings, err := eng.Settings(dir, engine.Instance{
		ResourceID: deref(rec.DbiResourceId), BackupRetention: deref(rec.BackupRetentionPeriod),
		Replica: rec.IsReplica(), HasReplicas: len(rec.ReadReplicaDBInstanceIdentifiers) > 0,
		ClassMemory: c.classMemory(sc, rec),
	})
	var p *server
	if err == nil {
		p, err = startServer(eng, dir, rec.LoopbackPort, vpc, settings, extra)
	}
	for _, f := range extra {
		_ = f.Close()
	}
	if err != nil {
		return nil, err
	}
	p.eni, p.replica = rec.ENI, rec.IsReplica()
	if p.replica {
		p.source = deref(rec.ReadReplicaSourceDBInstanceIdentifier)
	}
	c.limitNew(ctx, key, sc, id, p)
	user, password := readyLogin(rec)
	if err := eng.WaitReady(ctx, p.Server, engine.Access{Dir: dir, User: user, Password: password}); err != nil {
		p.stop()
		return nil, err
	}
	if rec.IsMember() && p.replica {
		if err := c.failoverStep("reader " + id + " started"); err != nil {
			p.stop()
			return nil, err
		}
	}
	c.watchServer(key, p, rec.RebootSeq)
	return p, nil
}

// watchServer makes p the key's server, started for reboot count seq, and
// reconciles the key again when p exits while it still is.
func (c *Controller) watchServer(key string, p *server, seq int) {
	c.mu.Lock()
	c.servers[key] = p
	c.reboots[key] = seq
	c.mu.Unlock()
	c.enqueueOnExit(key, p, false)
}

// enqueueOnExit reconciles the key again when p, its server (with standby,
// its standby's), exits while it still is: an unexpected exit, after which
// the server is started again.
func (c *Controller) enqueueOnExit(key string, p *server, standby bool) {
	go func() {
		<-p.Done()
		c.mu.Lock()
		m := c.servers
		if standby {
			m = c.standbys
		}
		mine := m[key] == p
		c.mu.Unlock()
		if mine {
			c.enqueue(key)
		}
	}()
}

// createDatabase creates the instance's database (DBName) when its data is
// new; a read replica's databases come with its source's data.
func createDatabase(ctx context.Context, dir string, rec *records.Instance, p *server, eng engine.Engine) error {
	if rec.Initialized || deref(rec.DBName) == "" || rec.IsReplica() {
		return nil
	}
	return eng.CreateDatabase(ctx, p.Server, engine.Access{Dir: dir, User: deref(rec.MasterUsername), Password: rec.AppliedPassword}, *rec.DBName)
}

// setPassword gives the master user the recorded password when it is not
// the one applied; since is when the current password took effect: at the
// latest now, before the record says so.
func setPassword(ctx context.Context, dir string, rec *records.Instance, p *server, eng engine.Engine) (since time.Time, err error) {
	since = time.Now().UTC()
	if rec.Password == rec.AppliedPassword {
		return since, nil
	}
	if err := eng.SetPassword(ctx, p.Server, engine.Access{Dir: dir, User: deref(rec.MasterUsername), Password: rec.AppliedPassword}, rec.Password); err != nil {
		return since, err
	}
	rec.AppliedPassword = rec.Password
	return since, nil
}

// recordConverged records what converge applied from rec (the record as it
// read it, and changed) in the record, if it still has status: the data
// made, the loopback port, the password and since when, the parameters
// and security groups applied, and the status reached.
func (c *Controller) recordConverged(sc state.Scope, id, status string, rec *records.Instance, p *server, paramStatus string, pwSince time.Time) {
	c.update(sc, id, status, func(r *records.Instance) bool {
		finishConverge(r, rec, paramStatus)
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
		if rec.IsMember() && rec.Replica != nil && rec.Replica.ReplPassword != "" && (r.Replica == nil || r.Replica.ReplPassword == "") {
			// A cluster's members share the replication login: whichever
			// becomes the writer has it.
			if r.Replica == nil {
				r.Replica = &records.ReplicaState{}
			}
			r.Replica.ReplPassword = rec.Replica.ReplPassword
		}
		r.EngineError = ""
		r.PendingModifiedValues = pendingAfter(r)
		c.reached(r, status)
		return false
	})
}

// reached sets the status a converged instance has reached from status:
// available, or backing-up for a new instance whose first automated backup
// is due; a backing-up one stays so until its backups are taken
// (afterConverge, finishSnapshot).
func (c *Controller) reached(r *records.Instance, status string) {
	switch {
	case status == "creating" && deref(r.BackupRetentionPeriod) > 0 && c.canBackup(r):
		r.DBInstanceStatus = ptr("backing-up")
	case status == "backing-up":
	case status != "available":
		r.DBInstanceStatus = ptr("available")
	}
	if status == "creating" || status == "starting" || status == "rebooting" {
		r.InstanceCreateTime = records.FirstTime(r.InstanceCreateTime)
	}
}

func pendingAfter(r *records.Instance) *rdsapi.PendingModifiedValues {
	p := rdsapi.PendingModifiedValues{}
	if r.PendingModifiedValues != nil {
		p = *r.PendingModifiedValues
	}
	if r.Password == r.AppliedPassword {
		p.MasterUserPassword = nil
	}
	p.MultiAZ = nil // converge made or removed the standby
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
