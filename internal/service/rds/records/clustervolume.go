package records

import (
	"strings"

	"github.com/minicloud/minicloud/internal/state"
)

// A DB cluster's volume: on Aurora a cluster's storage outlives its DB
// instances, so a cluster whose members were all deleted still has its
// data, which DeleteDBCluster's final snapshot copies and a new writer
// starts from. In minicloud the storage is the writer's data (cluster.go):
// when the last member, the writer, is deleted, its data is kept as the
// cluster's volume, a stopped server's copy in the cluster snapshots'
// format (so a final snapshot is a copy of it, as CopyDBClusterSnapshot
// copies, and a new writer restores it as a restored cluster's writer
// restores its snapshot), in DataDirs.ClusterVolume.
//
// ClusterVolume (table ClusterVolumes, id the cluster's DbClusterResourceId,
// which a rename keeps):
//
//   - API: the record, when the writer leaves a cluster it was the last
//     member of (DeleteDBInstance; the writer's automated backups stay
//     with it, as the cluster's); Deleting and FinalSnapshot on
//     DeleteDBCluster (the final snapshot is a ClusterSnapshot whose
//     SourceSnapshot is VolumeSnapshotID).
//   - Controller: Ready and Password once the deleted writer's data is
//     copied into the volume (before that data is removed); the record's
//     removal when a new writer of the cluster has restored the volume, or
//     once a deleted cluster's volume is removed (after its final snapshot
//     is taken).

// ClusterVolumes is the cluster volume table.
var ClusterVolumes = state.Table[ClusterVolume]{Service: "rds", Kind: "dbclustervolume"}

// ClusterVolume is a cluster's data kept without members.
type ClusterVolume struct {
	// Cluster is the DBClusterIdentifier when the volume was recorded.
	Cluster string `json:"cluster"`
	// From and FromResource are the writer whose data it keeps (its
	// identifier and DbiResourceId); its automated backups are the
	// cluster's automated snapshots meanwhile.
	From         string `json:"from"`
	FromResource string `json:"fromResource"`
	// Ready: the data is in the volume's directory.
	Ready bool `json:"ready,omitempty"`
	// Password is the master password in the kept data.
	Password string `json:"password,omitempty"`
	// Deleting: the cluster was deleted; FinalSnapshot is its final
	// snapshot, "" for none (SkipFinalSnapshot).
	Deleting      bool   `json:"deleting,omitempty"`
	FinalSnapshot string `json:"finalSnapshot,omitempty"`
}

// volumePrefix starts a volume's name among the cluster snapshots' ("_" is
// in no cluster snapshot identifier).
const volumePrefix = "_volume-"

// VolumeSnapshotID is the name among the cluster snapshots' directories of
// the volume of the cluster whose DbClusterResourceId is resource: a
// ClusterSnapshot with it as SourceSnapshot copies the volume.
func VolumeSnapshotID(resource string) string { return volumePrefix + resource }

// VolumeOf is the DbClusterResourceId whose volume id names (a
// VolumeSnapshotID), "" when id names no volume.
func VolumeOf(id string) string {
	res, ok := strings.CutPrefix(id, volumePrefix)
	if !ok {
		return ""
	}
	return res
}

// ClusterVolume is the directory of the volume of the cluster whose
// DbClusterResourceId is resource.
func (d *DataDirs) ClusterVolume(sc state.Scope, resource string) (string, error) {
	return d.ClusterSnapshot(sc, VolumeSnapshotID(resource))
}
