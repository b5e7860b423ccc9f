package controller

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/minicloud/minicloud/internal/lazyregexp"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// Daily automated backups and retention. Once a minute the controller takes
// an automated backup of every available instance with
// BackupRetentionPeriod > 0 whose PreferredBackupWindow (UTC) has begun
// since its last one. That includes a window missed while minicloud was not
// running (often, on a developer's machine): the day's backup is made up at
// once rather than skipped, so the logs a point-in-time restore replays
// never hold more than about a day beyond the retention period. Automated
// backups older than the retention period are deleted, always keeping the
// newest, and the logs older than the oldest kept backup go with them
// (engine.PointInTime's PruneLogs). The automated
// backups an instance deleted with DeleteAutomatedBackups=false leaves
// behind are deleted once older than the retention period they had. An
// instance whose period ModifyDBInstance sets to 0 loses its automated
// backups; one whose period becomes positive gets its first at the next
// pass (its server keeps logs from its next start).

// scheduleEvery is how often the schedule is checked.
const scheduleEvery = time.Minute

// backupSchedule runs the schedule until the controller stops.
func (c *Controller) backupSchedule() {
	t := time.NewTicker(scheduleEvery)
	defer t.Stop()
	for {
		for _, k := range c.backupPass(time.Now().UTC()) {
			c.enqueue(k)
		}
		c.sweepSnapshots()
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// backupPass records the backups that are due and deletes those the
// retention period no longer covers; it returns the keys to reconcile.
func (c *Controller) backupPass(now time.Time) (keys []string) {
	for _, k := range c.instanceKeys() {
		sc, id, _ := records.Instances.ParseKey(k)
		keys = append(keys, c.backupInstance(sc, id, now)...)
	}
	return append(keys, c.expireRetained(now)...)
}

// instanceKeys lists the keys of every instance record.
func (c *Controller) instanceKeys() (keys []string) {
	_ = c.store.View(c.ctx, func(tx state.Tx) error {
		return tx.Scan("", func(key string, _ []byte) error {
			if _, _, ok := records.Instances.ParseKey(key); ok {
				keys = append(keys, key)
			}
			return nil
		})
	})
	return keys
}

// backupWork is what the schedule did for one instance in its
// transaction, and what is left to do after it.
type backupWork struct {
	keys []string // the snapshots to reconcile
	eng  engine.Engine
	// disabled: backups are off, and all the logs go; else the logs before
	// automated backup oldestKept (the oldest kept) go, if there is one.
	disabled   bool
	oldestKept string
}

// backupInstance runs the schedule for instance id at now, in one write
// transaction: its failed automated backups and those past the retention
// period are deleted, and one is recorded if due; then the logs no backup
// needs are pruned. It returns the keys to reconcile.
func (c *Controller) backupInstance(sc state.Scope, id string, now time.Time) []string {
	var w backupWork
	err := c.store.Update(c.ctx, func(tx state.Tx) error {
		w = backupWork{}
		r, found, err := records.Instances.Get(tx, sc, id)
		if err != nil || !found || !r.Initialized {
			return err
		}
		w.eng = c.engineFor(deref(r.Engine))
		bs, err := scheduleView(tx, sc, &r)
		if err != nil {
			return err
		}
		lastFailure, err := w.dropFailures(tx, sc, &r, bs.failed)
		if err != nil {
			return err
		}
		newest := records.NewestBackup(bs.autos)
		if err := w.expire(tx, sc, &r, bs.autos, newest, now); err != nil {
			return err
		}
		if w.disabled || bs.pending || !c.canBackup(&r) || deref(r.DBInstanceStatus) != "available" ||
			!backupDue(deref(r.PreferredBackupWindow), newest, now) || now.Sub(lastFailure) < backupRetryAfter {
			return nil
		}
		return w.takeAutomated(tx, sc, id, &r, now)
	})
	if err != nil {
		if !errors.Is(err, state.ErrClosed) && c.ctx.Err() == nil {
			c.log.Warn("rds: backup schedule", "id", id, "err", err)
		}
		return nil
	}
	if pit, ok := w.eng.(engine.PointInTime); ok && (w.disabled || w.oldestKept != "") {
		if err := c.pruneLogs(pit, sc, id, w.disabled, w.oldestKept); err != nil {
			c.log.Warn("rds: clean the logs of automated backups", "id", id, "err", err)
		}
	}
	return w.keys
}

// scheduled is an instance's own snapshots as the schedule sees them.
type scheduled struct {
	autos   []records.Snapshot // available automated backups
	failed  []records.Snapshot // failed automated backups
	pending bool               // a snapshot is being taken
}

// scheduleView reads instance r's own snapshots (not copies of them).
func scheduleView(tx state.Tx, sc state.Scope, r *records.Instance) (scheduled, error) {
	var out scheduled
	err := records.Snapshots.ForEach(tx, sc, func(_ string, b records.Snapshot) error {
		if deref(b.DbiResourceId) != deref(r.DbiResourceId) || b.SourceSnapshot != "" {
			return nil
		}
		if deref(b.Status) == "creating" {
			out.pending = true
		}
		if deref(b.SnapshotType) == "automated" && deref(b.Status) == "available" && b.BackupEnd != nil {
			out.autos = append(out.autos, b)
		}
		if deref(b.SnapshotType) == "automated" && deref(b.Status) == "failed" {
			out.failed = append(out.failed, b)
		}
		return nil
	})
	return out, err
}

// dropFailures deletes failed automated backups: the newest one stays (to
// show why, and to wait backupRetryAfter before the next attempt), older
// ones go; all go once backups are off. It returns when the one kept was
// tried (zero: none).
func (w *backupWork) dropFailures(tx state.Tx, sc state.Scope, r *records.Instance, failed []records.Snapshot) (lastFailure time.Time, err error) {
	slices.SortFunc(failed, func(a, b records.Snapshot) int { return attemptTime(b).Compare(attemptTime(a)) })
	for i, b := range failed {
		if i == 0 && deref(r.BackupRetentionPeriod) > 0 {
			lastFailure = attemptTime(b)
			continue
		}
		if err := w.delete(tx, sc, b); err != nil {
			return lastFailure, err
		}
	}
	return lastFailure, nil
}

// expire applies the retention period to automated backups autos, newest
// the end of the newest: those older than the period go, but never the
// newest; a period of 0 disables automated backups and deletes them all,
// as on AWS.
func (w *backupWork) expire(tx state.Tx, sc state.Scope, r *records.Instance, autos []records.Snapshot, newest, now time.Time) error {
	retention := deref(r.BackupRetentionPeriod)
	w.disabled = retention == 0
	cutoff := now.Add(-time.Duration(retention) * 24 * time.Hour)
	var oldest *records.Snapshot
	for i := range autos {
		b := &autos[i]
		if retention == 0 || b.BackupEnd.Before(cutoff) && !b.BackupEnd.Equal(newest) {
			if err := w.delete(tx, sc, *b); err != nil {
				return err
			}
			continue
		}
		if oldest == nil || b.BackupEnd.Before(*oldest.BackupEnd) {
			oldest = b
		}
	}
	if oldest != nil {
		w.oldestKept = deref(oldest.DBSnapshotIdentifier)
	}
	return nil
}

// takeAutomated records a new automated backup of instance id, r, which
// shows backing-up until the controller has taken it.
func (w *backupWork) takeAutomated(tx state.Tx, sc state.Scope, id string, r *records.Instance, now time.Time) error {
	sid := automatedID(id, now)
	if _, exists, err := records.Snapshots.Get(tx, sc, sid); err != nil || exists {
		return err
	}
	if err := records.PutSnapshot(tx, sc, sid, records.SnapshotOf(sc, r, sid, "automated", nil)); err != nil {
		return err
	}
	r.DBInstanceStatus = ptr("backing-up")
	w.keys = append(w.keys, records.Snapshots.Key(sc, sid))
	return records.PutInstance(tx, sc, id, *r)
}

// delete marks snapshot b deleting, for the controller to remove.
func (w *backupWork) delete(tx state.Tx, sc state.Scope, b records.Snapshot) error {
	b.Status = ptr(records.SnapshotDeleting)
	if err := records.Snapshots.Put(tx, sc, deref(b.DBSnapshotIdentifier), b); err != nil {
		return err
	}
	w.keys = append(w.keys, records.Snapshots.Key(sc, deref(b.DBSnapshotIdentifier)))
	return nil
}

// expireRetained deletes the automated backups of deleted instances that
// are older than their retention period.
func (c *Controller) expireRetained(now time.Time) (keys []string) {
	err := c.store.Update(c.ctx, func(tx state.Tx) error {
		keys = nil
		living := map[string]bool{} // scope/DbiResourceId
		var expired []string
		err := tx.Scan("", func(key string, _ []byte) error {
			if sc, id, ok := records.Instances.ParseKey(key); ok {
				r, _, err := records.Instances.Get(tx, sc, id)
				if err != nil {
					return err
				}
				living[sc.Account+"/"+sc.Region+"/"+deref(r.DbiResourceId)] = true
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Scan("", func(key string, _ []byte) error {
			if _, _, ok := records.Snapshots.ParseKey(key); ok {
				expired = append(expired, key)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, key := range expired {
			sc, id, _ := records.Snapshots.ParseKey(key)
			r, found, err := records.Snapshots.Get(tx, sc, id)
			if err != nil || !found {
				return err
			}
			if deref(r.SnapshotType) != "automated" || deref(r.Status) != "available" || r.BackupEnd == nil ||
				living[sc.Account+"/"+sc.Region+"/"+deref(r.DbiResourceId)] ||
				!r.BackupEnd.Before(now.Add(-time.Duration(max(r.Retention, 1))*24*time.Hour)) {
				continue
			}
			r.Status = ptr(records.SnapshotDeleting)
			if err := records.Snapshots.Put(tx, sc, id, r); err != nil {
				return err
			}
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil && !errors.Is(err, state.ErrClosed) && c.ctx.Err() == nil {
		c.log.Warn("rds: expire retained automated backups", "err", err)
		return nil
	}
	return keys
}

// sweepSnapshots removes snapshot directories that have no record, such as
// those a reset of minicloud's state left.
func (c *Controller) sweepSnapshots() {
	root, err := c.dirs.Root()
	if err != nil {
		return
	}
	// Directories first: a record is written before its directory, so one
	// listed here without a record afterwards is an orphan.
	dirs, _ := filepath.Glob(filepath.Join(root, "*", "*", "_snapshots", "*"))
	if len(dirs) == 0 {
		return
	}
	var orphans []string
	_ = c.store.View(c.ctx, func(tx state.Tx) error {
		for _, d := range dirs {
			region := filepath.Dir(filepath.Dir(d))
			sc := state.Scope{Account: filepath.Base(filepath.Dir(region)), Region: filepath.Base(region)}
			if _, found, err := records.Snapshots.Get(tx, sc, filepath.Base(d)); err == nil && !found {
				orphans = append(orphans, d)
			}
		}
		return nil
	})
	for _, d := range orphans {
		if err := os.RemoveAll(d); err != nil {
			c.log.Warn("rds: remove orphaned snapshot data", "dir", d, "err", err)
		}
	}
}

var windowRE = lazyregexp.New(`^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$`)

// backupRetryAfter is how long the schedule waits after a failed
// automated backup before it tries again.
const backupRetryAfter = time.Hour

// attemptTime is when automated backup b was tried: when it failed, or for
// a record from before FailedAt the time in its identifier (automatedID).
func attemptTime(b records.Snapshot) time.Time {
	if b.FailedAt != nil {
		return *b.FailedAt
	}
	id := deref(b.DBSnapshotIdentifier)
	const layout = "2006-01-02-15-04"
	if len(id) >= len(layout) {
		if t, err := time.Parse(layout, id[len(id)-len(layout):]); err == nil {
			return t
		}
	}
	return time.Time{}
}

// backupDue reports whether an automated backup is due at now, the last
// one having ended at last: the backup window (hh:mm-hh:mm UTC) has begun
// since then. A window that cannot be read counts as a day.
func backupDue(window string, last, now time.Time) bool {
	if now.Sub(last) > 24*time.Hour {
		return true
	}
	m := windowRE.FindStringSubmatch(window)
	if m == nil {
		return false
	}
	h, _ := strconv.Atoi(m[1])
	mm, _ := strconv.Atoi(m[2])
	start := time.Date(now.Year(), now.Month(), now.Day(), h, mm, 0, 0, time.UTC)
	if start.After(now) {
		start = start.Add(-24 * time.Hour)
	}
	return last.Before(start)
}

// pruneLogs removes the logs of instance id that no restore can use any
// more: all of them when its automated backups are disabled, else those
// before automated backup oldest, the oldest kept.
func (c *Controller) pruneLogs(pit engine.PointInTime, sc state.Scope, id string, disabled bool, oldest string) error {
	dir, err := c.dir(sc, id)
	if err != nil {
		return err
	}
	if disabled {
		return pit.DropLogs(dir)
	}
	snapDir, err := c.dirs.Snapshot(sc, oldest)
	if err != nil {
		return err
	}
	return pit.PruneLogs(dir, snapDir)
}
