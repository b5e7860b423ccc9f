package controller

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// The controller's side of DB cluster volumes (records/clustervolume.go is
// the contract). When a cluster's last member, its writer, is deleted, its
// stopped server's data is copied into the volume (keepVolume) before the
// instance's directory goes; a new writer of the cluster restores it
// (adoptVolume), as a restored cluster's writer restores its snapshot; a
// deleted cluster's final snapshot copies it as a cluster snapshot copy
// does (takeClusterSnapshot waits until it is ready), and then it goes
// (reconcileVolume). Each step can be repeated after a restart.

func isVolumeKey(key string) bool {
	_, _, ok := records.ClusterVolumes.ParseKey(key)
	return ok
}

// keepVolume copies the data of rec, the deleted last writer of a cluster
// whose volume is to keep it, into the volume, and reports whether the
// instance's own data may go (false: retry).
func (c *Controller) keepVolume(sc state.Scope, id, dir string, rec *records.Instance) bool {
	var (
		res   string
		vol   records.ClusterVolume
		found bool
	)
	err := c.store.View(c.ctx, func(tx state.Tx) error {
		return records.ClusterVolumes.ForEach(tx, sc, func(k string, v records.ClusterVolume) error {
			if v.From == id && v.FromResource == deref(rec.DbiResourceId) {
				res, vol, found = k, v, true
			}
			return nil
		})
	})
	if err != nil {
		return false
	}
	if !found || vol.Ready || vol.Deleting && vol.FinalSnapshot == "" {
		return true // nothing to keep, kept, or no longer wanted
	}
	volDir, err := c.dirs.ClusterVolume(sc, res)
	if err != nil {
		return false
	}
	be, ok := c.engineFor(deref(rec.Engine)).(engine.Backups)
	if ok && rec.Initialized {
		_ = os.RemoveAll(volDir) // a copy a restart interrupted
		if err := be.CopyStopped(dir, volDir); err != nil {
			c.log.Warn("rds: keep the cluster's volume", "cluster", vol.Cluster, "writer", id, "err", err)
			return false
		}
	}
	err = c.store.Update(context.Background(), func(tx state.Tx) error {
		v, found, err := records.ClusterVolumes.Get(tx, sc, res)
		if err != nil || !found {
			return err
		}
		if !ok || !rec.Initialized {
			// No data to keep: the volume is gone as if never made.
			return records.ClusterVolumes.Delete(tx, sc, res)
		}
		v.Ready, v.Password = true, rec.AppliedPassword
		return records.ClusterVolumes.Put(tx, sc, res, v)
	})
	if err != nil {
		return false
	}
	c.log.Info("rds: cluster volume kept", "cluster", vol.Cluster, "writer", id)
	return true
}

// adoptVolume gives rec, a new writer without data, its cluster's volume
// if the cluster has one, and reports whether it did; it waits for a
// volume still being kept.
func (c *Controller) adoptVolume(ctx context.Context, sc state.Scope, dir string, rec *records.Instance, eng engine.Engine) (bool, error) {
	if !rec.IsMember() || rec.IsReplica() || rec.Restore != nil {
		return false, nil
	}
	var (
		res   string
		vol   records.ClusterVolume
		found bool
	)
	err := c.store.View(ctx, func(tx state.Tx) error {
		cl, ok, err := records.Clusters.Get(tx, sc, deref(rec.DBClusterIdentifier))
		if err != nil || !ok || deref(cl.DbClusterResourceId) == "" {
			return err
		}
		res = deref(cl.DbClusterResourceId)
		vol, found, err = records.ClusterVolumes.Get(tx, sc, res)
		return err
	})
	if err != nil || !found || vol.Deleting {
		return false, err
	}
	if !vol.Ready {
		return false, fmt.Errorf("%w: the cluster's volume is being kept from its last writer %s", errWaitSource, vol.From)
	}
	be, ok := eng.(engine.Backups)
	if !ok {
		return false, fmt.Errorf("minicloud keeps no %s cluster volumes", eng.Name())
	}
	volDir, err := c.dirs.ClusterVolume(sc, res)
	if err != nil {
		return false, err
	}
	if err := be.Restore(ctx, volDir, dir); err != nil {
		return false, fmt.Errorf("the cluster's volume: %w", err)
	}
	err = c.store.Update(context.Background(), func(tx state.Tx) error {
		return records.ClusterVolumes.Delete(tx, sc, res)
	})
	if err != nil {
		return false, err
	}
	_ = os.RemoveAll(volDir)
	rec.AppliedPassword = vol.Password
	c.log.Info("rds: cluster writer made from the cluster's volume", "cluster", deref(rec.DBClusterIdentifier), "writer", deref(rec.DBInstanceIdentifier))
	return true, nil
}

// volumeReady is nil when the volume of the cluster whose
// DbClusterResourceId is res has its data, errNotYet while it is being
// kept.
func (c *Controller) volumeReady(sc state.Scope, res string) error {
	var (
		vol   records.ClusterVolume
		found bool
	)
	err := c.store.View(c.ctx, func(tx state.Tx) error {
		var err error
		vol, found, err = records.ClusterVolumes.Get(tx, sc, res)
		return err
	})
	switch {
	case err != nil:
		return err
	case !found:
		return errors.New("the DB cluster's volume is gone: its last writer had no data")
	case !vol.Ready:
		return errNotYet
	}
	return nil
}

// reconcileVolume removes a deleted cluster's volume once its final
// snapshot, if any, is no longer being taken, and the data of a volume
// whose record is gone (a new writer restored it).
func (c *Controller) reconcileVolume(sc state.Scope, res string) (retry bool) {
	var (
		vol           records.ClusterVolume
		found, taking bool
	)
	err := c.store.View(c.ctx, func(tx state.Tx) error {
		var err error
		if vol, found, err = records.ClusterVolumes.Get(tx, sc, res); err != nil || !found || vol.FinalSnapshot == "" {
			return err
		}
		snap, ok, err := records.ClusterSnapshots.Get(tx, sc, vol.FinalSnapshot)
		taking = ok && deref(snap.Status) == "creating"
		return err
	})
	if err != nil {
		return false
	}
	if found && (!vol.Deleting || taking) {
		return taking
	}
	dir, err := c.dirs.ClusterVolume(sc, res)
	if err != nil {
		return true
	}
	if err := os.RemoveAll(dir); err != nil {
		c.log.Warn("rds: remove the cluster's volume", "cluster", vol.Cluster, "err", err)
		return true
	}
	if !found {
		return false
	}
	err = c.store.Update(context.Background(), func(tx state.Tx) error {
		return records.ClusterVolumes.Delete(tx, sc, res)
	})
	return err != nil && !errors.Is(err, state.ErrClosed)
}
