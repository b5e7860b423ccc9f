package controller

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// The controller's side of snapshots and automated backups. A snapshot
// record in status creating is taken by a controller pass, through the
// engine's Backups capability: from the instance's running server, from
// its stopped data directory, or, for a copy, from another snapshot's data. A snapshot still
// creating when minicloud stopped is taken again from the start when the
// controller next runs; one that cannot be taken ends failed.

// errNotYet: the snapshot's instance has no running server yet (minicloud
// just started); its pass is retried.
var errNotYet = errors.New("the DB instance's server is not running yet")

func isSnapshotKey(key string) bool {
	_, _, ok := records.Snapshots.ParseKey(key)
	return ok
}

// reconcileSnapshot converges one snapshot's data to its record.
func (c *Controller) reconcileSnapshot(sc state.Scope, id string) (retry bool) {
	var (
		rec   records.Snapshot
		found bool
	)
	err := c.store.View(c.ctx, func(tx state.Tx) error {
		var err error
		rec, found, err = records.Snapshots.Get(tx, sc, id)
		return err
	})
	if err != nil {
		return false
	}
	dir, err := c.dirs.Snapshot(sc, id)
	if err != nil {
		return true
	}
	return c.convergeSnapshotData(snapshotData{
		kind: "snapshot", id: id, dir: dir, found: found, status: deref(rec.Status),
		take:   func() error { return c.takeSnapshot(sc, dir, &rec) },
		finish: func(err error) { c.finishSnapshot(sc, id, err) },
		drop: func() {
			c.updateSnapshot(sc, id, records.SnapshotDeleting, func(*records.Snapshot) bool { return true })
		},
	})
}

// snapshotData is what convergeSnapshotData needs of a DB snapshot or a DB
// cluster snapshot.
type snapshotData struct {
	kind, id, dir string // dir: where its data is
	found         bool   // its record exists
	status        string
	take          func() error    // copies its source into dir
	finish        func(err error) // records the outcome of take
	drop          func()          // deletes its record once its data is gone
}

// convergeSnapshotData converges a snapshot's data to its record: a
// creating one is taken, a deleting or gone one's data removed. It reports
// whether to retry later.
func (c *Controller) convergeSnapshotData(d snapshotData) (retry bool) {
	switch {
	case !d.found:
		_ = os.RemoveAll(d.dir)
	case d.status == records.SnapshotDeleting:
		if err := os.RemoveAll(d.dir); err != nil {
			c.log.Warn("rds: remove "+d.kind+" data", "id", d.id, "err", err)
			return true
		}
		d.drop()
	case d.status == "creating":
		err := d.take()
		if errors.Is(err, errNotYet) {
			return true
		}
		if c.ctx.Err() != nil {
			return false // taken again after the restart
		}
		if err != nil {
			c.log.Warn("rds: "+d.kind, "id", d.id, "err", err)
			_ = os.RemoveAll(d.dir)
		}
		d.finish(err)
	}
	return false
}

// takeSnapshot copies the snapshot's source into dir/data.
func (c *Controller) takeSnapshot(sc state.Scope, dir string, rec *records.Snapshot) error {
	if rec.SourceSnapshot != "" {
		src, err := c.dirs.Snapshot(sc, rec.SourceSnapshot)
		if err != nil {
			return err
		}
		return engine.CopySnapshot(src, dir)
	}
	return c.copyInstanceData(sc, deref(rec.DBInstanceIdentifier), deref(rec.DbiResourceId), dir, c.progress(sc, deref(rec.DBSnapshotIdentifier)))
}

// copyInstanceData copies the data of instance dbID, whose DbiResourceId is
// resource, into dir/data: online from its running server, else from its
// stopped server's files (DB snapshots, and DB cluster snapshots of a
// cluster's writer). progress receives the percentage done.
func (c *Controller) copyInstanceData(sc state.Scope, dbID, resource, dir string, progress func(int32)) error {
	var (
		inst  records.Instance
		found bool
	)
	err := c.store.View(c.ctx, func(tx state.Tx) error {
		var err error
		inst, found, err = records.Instances.Get(tx, sc, dbID)
		return err
	})
	if err != nil {
		return err
	}
	if !found || deref(inst.DbiResourceId) != resource {
		return fmt.Errorf("DB instance %s no longer exists", dbID)
	}
	if !inst.Initialized {
		return fmt.Errorf("DB instance %s has no data yet", dbID)
	}
	instDir, err := c.dir(sc, dbID)
	if err != nil {
		return err
	}
	be, ok := c.engineFor(deref(inst.Engine)).(engine.Backups)
	if !ok {
		return fmt.Errorf("minicloud takes no snapshots of %s DB instances", deref(inst.Engine))
	}
	c.mu.Lock()
	p := c.servers[records.Instances.Key(sc, dbID)]
	c.mu.Unlock()
	if p != nil && p.running() {
		a := engine.Access{Dir: instDir, User: deref(inst.MasterUsername), Password: inst.AppliedPassword}
		return be.Backup(c.ctx, p.Server, a, dir, progress)
	}
	switch st := deref(inst.DBInstanceStatus); st {
	case "failed", "incompatible-restore", "incompatible-parameters":
		return fmt.Errorf("DB instance %s is %s", dbID, st)
	case "deleting", "stopped", "stopping":
		// Nothing writes to a stopped server's data: a file copy is
		// consistent.
		return be.CopyStopped(instDir, dir)
	}
	return errNotYet
}

// progress records a creating snapshot's PercentProgress, at most once a
// second.
func (c *Controller) progress(sc state.Scope, id string) func(int32) {
	var last time.Time
	return func(p int32) {
		if time.Since(last) < time.Second {
			return
		}
		last = time.Now()
		c.updateSnapshot(sc, id, "creating", func(r *records.Snapshot) bool {
			r.PercentProgress = ptr(p)
			return false
		})
	}
}

// finishSnapshot records the outcome of a creating snapshot and, when its
// instance has no other backup in progress, ends the instance's
// backing-up.
func (c *Controller) finishSnapshot(sc state.Scope, id string, failure error) {
	var dbID string
	err := c.store.Update(context.Background(), func(tx state.Tx) error {
		r, found, err := records.Snapshots.Get(tx, sc, id)
		if err != nil || !found || deref(r.Status) != "creating" {
			return err
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		if failure != nil {
			r.Status, r.Error, r.FailedAt = ptr("failed"), failure.Error(), &now
		} else {
			r.Status, r.PercentProgress = ptr("available"), ptr(int32(100))
			r.SnapshotCreateTime, r.BackupEnd = &now, &now
			r.OriginalSnapshotCreateTime = records.FirstTime(r.OriginalSnapshotCreateTime)
			r.SnapshotDatabaseTime = &now
		}
		if err := records.PutSnapshot(tx, sc, id, r); err != nil {
			return err
		}
		if r.SourceSnapshot != "" {
			return nil
		}
		dbID = deref(r.DBInstanceIdentifier)
		inst, found, err := records.Instances.Get(tx, sc, dbID)
		if err != nil || !found || deref(inst.DbiResourceId) != deref(r.DbiResourceId) || deref(inst.DBInstanceStatus) != "backing-up" {
			return err
		}
		pending, hasAuto, err := backupsOf(tx, sc, &inst)
		if err != nil || len(pending) > 0 || (deref(inst.BackupRetentionPeriod) > 0 && !hasAuto) {
			return err
		}
		inst.DBInstanceStatus = ptr("available")
		return records.PutInstance(tx, sc, dbID, inst)
	})
	if err != nil && !errors.Is(err, state.ErrClosed) {
		c.log.Warn("rds: record snapshot state", "snapshot", id, "err", err)
	}
	if dbID != "" {
		c.enqueue(records.Instances.Key(sc, dbID)) // a deletion may wait for it
	}
}

// backupsOf lists the instance's snapshots in progress and whether it has
// an automated backup (in any state but deleting).
func backupsOf(tx state.Tx, sc state.Scope, inst *records.Instance) (pending []string, hasAuto bool, err error) {
	err = records.Snapshots.ForEach(tx, sc, func(id string, r records.Snapshot) error {
		if r.SourceSnapshot != "" || deref(r.DbiResourceId) != deref(inst.DbiResourceId) {
			return nil
		}
		switch deref(r.Status) {
		case "creating":
			pending = append(pending, id)
		case records.SnapshotDeleting:
			return nil
		}
		if deref(r.SnapshotType) == "automated" {
			hasAuto = true
		}
		return nil
	})
	return pending, hasAuto, err
}

// updateSnapshot applies fn to the snapshot if it still has status want.
func (c *Controller) updateSnapshot(sc state.Scope, id, want string, fn func(r *records.Snapshot) (del bool)) {
	err := c.store.Update(context.Background(), func(tx state.Tx) error {
		r, found, err := records.Snapshots.Get(tx, sc, id)
		if err != nil || !found || deref(r.Status) != want {
			return err
		}
		if fn(&r) {
			return records.DeleteSnapshot(tx, sc, id)
		}
		return records.PutSnapshot(tx, sc, id, r)
	})
	if err != nil && !errors.Is(err, state.ErrClosed) {
		c.log.Warn("rds: record snapshot state", "snapshot", id, "err", err)
	}
}

// automatedID is AWS's name for an automated backup: rds:<db>-YYYY-MM-DD-HH-MM.
func automatedID(db string, t time.Time) string {
	return "rds:" + db + "-" + t.UTC().Format("2006-01-02-15-04")
}

// afterConverge runs once an instance's server runs: an instance
// backing-up gets its first automated backup (BackupRetentionPeriod > 0)
// or, with no backup left in progress, becomes available; snapshots that
// waited for the server are scheduled.
func (c *Controller) afterConverge(sc state.Scope, id string) {
	var pending []string
	err := c.store.Update(context.Background(), func(tx state.Tx) error {
		inst, found, err := records.Instances.Get(tx, sc, id)
		if err != nil || !found {
			return err
		}
		var hasAuto bool
		pending, hasAuto, err = backupsOf(tx, sc, &inst)
		if err != nil || deref(inst.DBInstanceStatus) != "backing-up" {
			return err
		}
		if deref(inst.BackupRetentionPeriod) > 0 && !hasAuto {
			sid := automatedID(id, time.Now())
			if _, exists, err := records.Snapshots.Get(tx, sc, sid); err != nil || exists {
				return err
			}
			snap := records.SnapshotOf(sc, &inst, sid, "automated", nil)
			pending = append(pending, sid)
			return records.PutSnapshot(tx, sc, sid, snap)
		}
		if len(pending) == 0 {
			inst.DBInstanceStatus = ptr("available")
			return records.PutInstance(tx, sc, id, inst)
		}
		return nil
	})
	if err != nil && !errors.Is(err, state.ErrClosed) {
		c.log.Warn("rds: automated backup", "id", id, "err", err)
	}
	for _, sid := range pending {
		c.enqueue(records.Snapshots.Key(sc, sid))
	}
}

// beforeDelete readies a deleting instance's removal and reports whether it
// must wait: its final snapshot (FinalDBSnapshotIdentifier) is recorded and
// taken first, as is any snapshot in progress; then its automated backups
// are deleted unless DeleteAutomatedBackups was false.
func (c *Controller) beforeDelete(sc state.Scope, rec *records.Instance) (wait bool) {
	id := deref(rec.DBInstanceIdentifier)
	var pending []string
	err := c.store.Update(context.Background(), func(tx state.Tx) error {
		inst, found, err := records.Instances.Get(tx, sc, id)
		if err != nil || !found || deref(inst.DBInstanceStatus) != "deleting" {
			return err
		}
		if f := inst.FinalSnapshot; f != "" {
			s, exists, err := records.Snapshots.Get(tx, sc, f)
			if err != nil {
				return err
			}
			if !exists {
				snap := records.SnapshotOf(sc, &inst, f, "manual", nil)
				if err := records.Snapshots.Put(tx, sc, f, snap); err != nil {
					return err
				}
			} else if deref(s.DbiResourceId) != deref(inst.DbiResourceId) {
				c.log.Warn("rds: final snapshot identifier taken meanwhile; deleting without it", "id", id, "snapshot", f)
			}
		}
		pending, _, err = backupsOf(tx, sc, &inst)
		if err != nil || len(pending) > 0 || inst.KeepAutomatedBackups {
			return err
		}
		return records.Snapshots.ForEach(tx, sc, func(sid string, r records.Snapshot) error {
			if deref(r.SnapshotType) != "automated" || deref(r.DbiResourceId) != deref(inst.DbiResourceId) || deref(r.Status) == records.SnapshotDeleting {
				return nil
			}
			r.Status = ptr(records.SnapshotDeleting)
			return records.Snapshots.Put(tx, sc, sid, r)
		})
	})
	if err != nil {
		c.log.Warn("rds: prepare deletion", "id", id, "err", err)
		return true
	}
	for _, sid := range pending {
		c.enqueue(records.Snapshots.Key(sc, sid))
	}
	return len(pending) > 0
}

// waitSnapshots reports whether the instance has snapshots in progress,
// scheduling them; their completion schedules the instance again.
func (c *Controller) waitSnapshots(sc state.Scope, rec *records.Instance) bool {
	var pending []string
	err := c.store.View(c.ctx, func(tx state.Tx) error {
		var err error
		pending, _, err = backupsOf(tx, sc, rec)
		return err
	})
	if err != nil {
		return true
	}
	for _, sid := range pending {
		c.enqueue(records.Snapshots.Key(sc, sid))
	}
	return len(pending) > 0
}

// initialize makes a new instance's data: Init, or a restore's copy of a
// snapshot, brought to the requested time for a point-in-time restore.
func (c *Controller) initialize(ctx context.Context, sc state.Scope, dir string, rec *records.Instance, eng engine.Engine) error {
	rs := rec.Restore
	if rs == nil && rec.IsMember() {
		if done, err := c.initializeMember(ctx, sc, dir, rec, eng); done || err != nil {
			return err
		}
	}
	if rs == nil {
		return eng.Init(ctx, dir, deref(rec.MasterUsername), rec.Password)
	}
	snapDir, err := c.dirs.Snapshot(sc, rs.Snapshot)
	if err != nil {
		return err
	}
	if !rs.PITR {
		be, ok := eng.(engine.Backups)
		if !ok {
			return fmt.Errorf("minicloud restores no snapshots of %s DB instances", eng.Name())
		}
		return be.Restore(ctx, snapDir, dir)
	}
	pit, ok := eng.(engine.PointInTime)
	if !ok {
		return fmt.Errorf("minicloud restores no %s DB instances to a point in time", eng.Name())
	}
	srcDir, err := c.dir(sc, rs.ArchiveOf)
	if err != nil {
		return err
	}
	return pit.RestoreToTime(ctx, snapDir, dir, srcDir, rs.Target)
}
