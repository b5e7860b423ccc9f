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

// The controller's side of DB cluster snapshots and restored clusters
// (records/clustersnapshot.go is the contract). A cluster snapshot is its
// writer's data, copied as a DB snapshot is (copyInstanceData): online from
// the running server, or from a stopped server's files. A restored
// cluster's first writer gets its data from its records.ClusterRestore
// (initializeMember) instead of an empty database; its readers then clone
// the writer as in any cluster.

func isClusterSnapshotKey(key string) bool {
	_, _, ok := records.ClusterSnapshots.ParseKey(key)
	return ok
}

// reconcileClusterSnapshot converges one cluster snapshot's data to its
// record.
func (c *Controller) reconcileClusterSnapshot(sc state.Scope, id string) (retry bool) {
	var (
		rec   records.ClusterSnapshot
		found bool
	)
	err := c.store.View(c.ctx, func(tx state.Tx) error {
		var err error
		rec, found, err = records.ClusterSnapshots.Get(tx, sc, id)
		return err
	})
	if err != nil {
		return false
	}
	dir, err := c.dirs.ClusterSnapshot(sc, id)
	if err != nil {
		return true
	}
	return c.convergeSnapshotData(snapshotData{
		kind: "cluster snapshot", id: id, dir: dir, found: found, status: deref(rec.Status),
		take: func() error { return c.takeClusterSnapshot(sc, dir, &rec) },
		finish: func(err error) {
			c.updateClusterSnapshot(sc, id, "creating", func(r *records.ClusterSnapshot) bool {
				now := time.Now().UTC().Truncate(time.Millisecond)
				if err != nil {
					r.Status, r.Error = ptr("failed"), err.Error()
					return false
				}
				r.Status, r.PercentProgress = ptr("available"), ptr(int32(100))
				r.SnapshotCreateTime, r.BackupEnd = &now, &now
				return false
			})
		},
		drop: func() {
			c.updateClusterSnapshot(sc, id, records.SnapshotDeleting, func(*records.ClusterSnapshot) bool { return true })
		},
	})
}

// takeClusterSnapshot copies the snapshot's source into dir/data: another
// cluster snapshot's data (or an automated one's backup) for a copy, else
// its writer's.
func (c *Controller) takeClusterSnapshot(sc state.Scope, dir string, rec *records.ClusterSnapshot) error {
	if res := records.VolumeOf(rec.SourceSnapshot); res != "" {
		// A final snapshot: once the last writer's data is in the volume.
		if err := c.volumeReady(sc, res); err != nil {
			return err
		}
	}
	if rec.SourceSnapshot != "" || rec.SourceBackup != "" {
		src, err := c.dirs.ClusterSnapshot(sc, rec.SourceSnapshot)
		if rec.SourceBackup != "" {
			src, err = c.dirs.Snapshot(sc, rec.SourceBackup)
		}
		if err != nil {
			return err
		}
		return engine.CopySnapshot(src, dir)
	}
	id := deref(rec.DBClusterSnapshotIdentifier)
	var last time.Time
	progress := func(p int32) {
		if time.Since(last) < time.Second {
			return
		}
		last = time.Now()
		c.updateClusterSnapshot(sc, id, "creating", func(r *records.ClusterSnapshot) bool {
			r.PercentProgress = ptr(p)
			return false
		})
	}
	return c.copyInstanceData(sc, rec.Writer, rec.WriterResource, dir, progress)
}

// updateClusterSnapshot applies fn to the cluster snapshot if it still has
// status want.
func (c *Controller) updateClusterSnapshot(sc state.Scope, id, want string, fn func(r *records.ClusterSnapshot) (del bool)) {
	err := c.store.Update(context.Background(), func(tx state.Tx) error {
		r, found, err := records.ClusterSnapshots.Get(tx, sc, id)
		if err != nil || !found || deref(r.Status) != want {
			return err
		}
		if fn(&r) {
			return records.ClusterSnapshots.Delete(tx, sc, id)
		}
		return records.PutClusterSnapshot(tx, sc, id, r)
	})
	if err != nil && !errors.Is(err, state.ErrClosed) {
		c.log.Warn("rds: record cluster snapshot state", "snapshot", id, "err", err)
	}
}

// initializeMember makes the data of rec, a new writer of a restored
// cluster, from the cluster's restore record, and reports whether it did;
// false for a cluster made empty (or whose restore is done), whose writer
// is initialized as any instance.
func (c *Controller) initializeMember(ctx context.Context, sc state.Scope, dir string, rec *records.Instance, eng engine.Engine) (bool, error) {
	clusterID := deref(rec.DBClusterIdentifier)
	var (
		rs    records.ClusterRestore
		key   string // the cluster's DbClusterResourceId
		found bool
	)
	err := c.store.View(ctx, func(tx state.Tx) error {
		cl, ok, err := records.Clusters.Get(tx, sc, clusterID)
		if err != nil || !ok {
			return err
		}
		if key = deref(cl.DbClusterResourceId); key == "" {
			return nil // recorded without one (not by the API): not restored
		}
		rs, found, err = records.ClusterRestores.Get(tx, sc, key)
		found = found && !rs.Done
		return err
	})
	if err != nil || !found {
		return false, err
	}
	be, ok := eng.(engine.Backups)
	if !ok {
		return true, fmt.Errorf("minicloud restores no %s DB clusters", eng.Name())
	}
	switch {
	case rs.ClusterSnapshot != "":
		snapDir, err := c.dirs.ClusterSnapshot(sc, rs.ClusterSnapshot)
		if err != nil {
			return true, err
		}
		err = be.Restore(ctx, snapDir, dir)
		if err != nil {
			return true, fmt.Errorf("restore cluster snapshot %s: %w", rs.ClusterSnapshot, err)
		}
	case rs.CloneOf != "":
		if err := c.cloneData(ctx, sc, clusterID, dir, &rs, be); err != nil {
			return true, err
		}
	default:
		// An automated backup, and for a point in time the source
		// writer's logs, exactly as RestoreDBInstanceToPointInTime.
		src := records.RestoreSource{Snapshot: rs.Backup, ArchiveOf: rs.ArchiveOf, PITR: rs.PITR, Target: rs.Target}
		cp := *rec
		cp.Restore = &src
		if err := c.initialize(ctx, sc, dir, &cp, eng); err != nil {
			return true, err
		}
	}
	err = c.store.Update(context.Background(), func(tx state.Tx) error {
		r, ok, err := records.ClusterRestores.Get(tx, sc, key)
		if err != nil || !ok {
			return err
		}
		r.Done = true
		return records.ClusterRestores.Put(tx, sc, key, r)
	})
	return true, err
}

// cloneData gives a clone's writer (instance directory dir) the source
// writer's data as it is now: an online copy of the running server (as a
// snapshot is taken) into a staging directory beside the cluster
// snapshots, restored into dir. Both copies go through
// engine.CopyFile's copy_file_range, which shares the blocks on a
// file system that can (XFS, btrfs) and copies them elsewhere (ext4).
func (c *Controller) cloneData(ctx context.Context, sc state.Scope, clusterID, dir string, rs *records.ClusterRestore, be engine.Backups) error {
	// "_" is in no cluster snapshot identifier.
	staging, err := c.dirs.ClusterSnapshot(sc, "_clone-"+clusterID)
	if err != nil {
		return err
	}
	defer os.RemoveAll(staging)
	err = c.copyInstanceData(sc, rs.CloneOf, rs.CloneResource, staging, func(int32) {})
	if errors.Is(err, errNotYet) {
		return fmt.Errorf("clone source %s: %w", rs.CloneOf, errWaitSource)
	}
	if err != nil {
		return fmt.Errorf("clone source %s: %w", rs.CloneOf, err)
	}
	if err := be.Restore(ctx, staging, dir); err != nil {
		return fmt.Errorf("restore clone of %s: %w", rs.CloneOf, err)
	}
	return nil
}
