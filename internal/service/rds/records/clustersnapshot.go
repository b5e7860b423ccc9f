package records

import (
	"path/filepath"
	"time"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/state"
)

// Aurora DB cluster snapshots and restored clusters: the records the API
// and the controller share, and who writes which field.
//
// A cluster's storage is its writer's data (cluster.go), so a cluster
// snapshot is a copy of the writer's data, taken online as a DB snapshot
// is, and kept under DataDirs.ClusterSnapshot.
//
// ClusterSnapshot (table ClusterSnapshots, id DBClusterSnapshotIdentifier):
//
//   - API: everything at creation (status creating, the cluster's settings,
//     Writer/WriterResource: the member whose data is copied, or
//     SourceSnapshot/SourceBackup for a copy); status deleting on
//     DeleteDBClusterSnapshot; TagList.
//   - Controller: PercentProgress, then status available with
//     SnapshotCreateTime and BackupEnd, or failed with Error; the record's
//     removal once its data is removed (deleting).
//
// Automated cluster snapshots have no record: DescribeDBClusterSnapshots
// shows the writer's automated backups (records.Snapshot, type automated)
// as the cluster's.
//
// ClusterRestore (table ClusterRestores, id the cluster's
// DbClusterResourceId, which a rename keeps and a new cluster of the same
// name does not share): where a restored cluster's data comes from,
// written by the API with the cluster (RestoreDBClusterFromSnapshot,
// RestoreDBClusterToPointInTime). The controller makes the cluster's first
// writer's data from it instead of an empty database, and then sets Done:
// a later writer of the cluster (after every member was deleted) starts
// empty, as any member that finds no data.

// The cluster snapshot and restore tables.
var (
	ClusterSnapshots = state.Table[ClusterSnapshot]{Service: "rds", Kind: "dbclustersnapshot"}
	ClusterRestores  = state.Table[ClusterRestore]{Service: "rds", Kind: "dbclusterrestore"}
)

// ClusterSnapshot is a manual DB cluster snapshot: the API shape plus what
// a restore needs and AWS does not show.
type ClusterSnapshot struct {
	rdsapi.DBClusterSnapshot
	// Password is the master password in the copied data; a restored
	// cluster starts with it, as on AWS.
	Password     string `json:"password"`
	DatabaseName string `json:"databaseName,omitempty"`
	// Writer and WriterResource are the member whose data is copied (its
	// identifier and DbiResourceId): the cluster's writer when taken.
	Writer         string `json:"writer,omitempty"`
	WriterResource string `json:"writerResource,omitempty"`
	// SourceSnapshot is, for a copy, the cluster snapshot whose data is
	// copied.
	SourceSnapshot string `json:"sourceSnapshot,omitempty"`
	// SourceBackup is, for a copy of an automated cluster snapshot, the
	// writer's automated backup (a records.Snapshot) whose data is copied.
	SourceBackup string `json:"sourceBackup,omitempty"`
	// BackupEnd is when the copy became consistent.
	BackupEnd *time.Time `json:"backupEnd,omitempty"`
	// Error is why the snapshot failed.
	Error string `json:"error,omitempty"`
}

// ClusterRestore is where a restored cluster's first writer gets its data:
// exactly one of ClusterSnapshot, Backup or CloneOf.
type ClusterRestore struct {
	// ClusterSnapshot is the cluster snapshot copied.
	ClusterSnapshot string `json:"clusterSnapshot,omitempty"`
	// Backup is the source writer's automated backup (a records.Snapshot)
	// copied; with PITR, the logs of instance ArchiveOf are replayed on it
	// up to Target (RestoreSource's meaning).
	Backup    string     `json:"backup,omitempty"`
	ArchiveOf string     `json:"archiveOf,omitempty"`
	PITR      bool       `json:"pitr,omitempty"`
	Target    *time.Time `json:"target,omitempty"`
	// CloneOf and CloneResource are, for a clone (RestoreType
	// copy-on-write), the source cluster's writer (identifier and
	// DbiResourceId), whose running server's data is copied when the
	// clone's writer is made.
	CloneOf       string `json:"cloneOf,omitempty"`
	CloneResource string `json:"cloneResource,omitempty"`
	// Done: the cluster's writer has been made from it.
	Done bool `json:"done,omitempty"`
}

// ClusterSnapshot is cluster snapshot id's directory. Cluster snapshots
// have their own directory beside the DB snapshots' as they have their own
// identifiers: a DB snapshot and a cluster snapshot may share a name.
func (d *DataDirs) ClusterSnapshot(sc state.Scope, id string) (string, error) {
	root, err := d.Root()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, sc.Account, sc.Region, "_clustersnapshots", id), nil
}
