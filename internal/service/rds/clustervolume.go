package rds

import (
	"strings"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// A DB cluster's volume (records/clustervolume.go is the contract): as on
// Aurora, a cluster keeps its data when its last member is deleted, so
// DeleteDBCluster can take a final snapshot of it, and a new writer of the
// cluster starts from it.

// keepVolume records, in tx, that cluster c keeps the data of r, its
// writer being deleted as its last member, as its volume; r's automated
// backups stay with it as the cluster's. A writer that never had data
// leaves nothing to keep.
func keepVolume(tx state.Tx, sc state.Scope, c *records.Cluster, r *records.Instance) error {
	res := deref(c.DbClusterResourceId)
	if res == "" || !r.Initialized {
		return nil
	}
	r.KeepAutomatedBackups = true
	return records.ClusterVolumes.Put(tx, sc, res, records.ClusterVolume{
		Cluster: deref(c.DBClusterIdentifier), From: deref(r.DBInstanceIdentifier), FromResource: deref(r.DbiResourceId),
	})
}

// volumeOf is cluster c's volume, if it has one.
func volumeOf(tx state.Tx, sc state.Scope, c *records.Cluster) (records.ClusterVolume, bool, error) {
	res := deref(c.DbClusterResourceId)
	if res == "" {
		return records.ClusterVolume{}, false, nil
	}
	return records.ClusterVolumes.Get(tx, sc, res)
}

// checkFinalSnapshot checks DeleteDBCluster's FinalDBSnapshotIdentifier
// before anything is read.
func checkFinalSnapshot(in *rdsapi.DeleteDBClusterMessage) error {
	final := deref(in.FinalDBSnapshotIdentifier)
	if final == "" || deref(in.SkipFinalSnapshot) {
		return nil
	}
	if !validSnapshotID(final) {
		return errBadSnapshotID("FinalDBSnapshotIdentifier")
	}
	return nil
}

// deleteVolume carries DeleteDBCluster out on cluster c's volume in tx:
// its final snapshot final ("" when skipped), a copy of the volume taken
// by the controller as a cluster snapshot is copied; the volume then goes;
// the automated backups of the writer it keeps go too unless keepBackups
// (DeleteAutomatedBackups false: they are retained as a deleted DB
// instance's are).
func (s *Service) deleteVolume(tx state.Tx, sc state.Scope, c *records.Cluster, final string, keepBackups bool) error {
	vol, found, err := volumeOf(tx, sc, c)
	if err != nil {
		return err
	}
	if final != "" {
		id := strings.ToLower(final)
		if _, exists, err := records.ClusterSnapshots.Get(tx, sc, id); err != nil {
			return err
		} else if exists {
			return errClusterSnapshotExists(id)
		}
		if !found {
			return errClusterState("minicloud has no data of DB cluster %s (it never had a writer with data), so it cannot take the final snapshot %s: delete it with SkipFinalSnapshot.", deref(c.DBClusterIdentifier), id)
		}
		snap := s.clusterSnapshotOf(tx, sc, c, &records.Instance{}, id, nil)
		snap.SourceSnapshot = records.VolumeSnapshotID(deref(c.DbClusterResourceId))
		if err := records.ClusterSnapshots.Put(tx, sc, id, snap); err != nil {
			return err
		}
		c.FinalSnapshot = id
	}
	if !found {
		return nil
	}
	vol.Deleting, vol.FinalSnapshot = true, strings.ToLower(final)
	if err := records.ClusterVolumes.Put(tx, sc, deref(c.DbClusterResourceId), vol); err != nil {
		return err
	}
	if keepBackups {
		return nil
	}
	return records.Snapshots.ForEach(tx, sc, func(sid string, b records.Snapshot) error {
		if deref(b.SnapshotType) != "automated" || deref(b.DbiResourceId) != vol.FromResource || deref(b.Status) == records.SnapshotDeleting {
			return nil
		}
		b.Status = ptr(records.SnapshotDeleting)
		return records.Snapshots.Put(tx, sc, sid, b)
	})
}
