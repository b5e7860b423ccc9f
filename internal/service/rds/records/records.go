package records

import (
	"slices"
	"time"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/state"
)

// The tables of the records.
var (
	Instances    = state.Table[Instance]{Service: "rds", Kind: "dbinstance"}
	SubnetGroups = state.Table[SubnetGroup]{Service: "rds", Kind: "dbsubnetgroup"}
	Snapshots    = state.Table[Snapshot]{Service: "rds", Kind: "dbsnapshot"}
	ParamGroups  = state.Table[ParamGroup]{Service: "rds", Kind: "dbparametergroup"}
	// DefaultGroupTags holds the tags of the implicit default parameter
	// groups, which have no record of their own.
	DefaultGroupTags = state.Table[DefaultTags]{Service: "rds", Kind: "defaultpgtags"}
)

// Instance is a DB instance: the API shape Describe returns plus what AWS
// keeps but does not show.
type Instance struct {
	rdsapi.DBInstance
	// Password is the master password the engine is to have.
	Password string `json:"password"`
	// AppliedPassword is the password the running engine has.
	AppliedPassword string `json:"appliedPassword,omitempty"`
	// Passwords are the master passwords the controller applied, oldest
	// first, with when (PasswordAt): a point-in-time restore's data has the
	// one in effect at its target time. Records from before it have none.
	Passwords []AppliedPassword `json:"passwords,omitempty"`
	// RebootSeq counts RebootDBInstance calls; the controller restarts the
	// server when it has applied fewer.
	RebootSeq int `json:"rebootSeq,omitempty"`
	// LoopbackPort is where the real server listens on 127.0.0.1.
	LoopbackPort int `json:"loopbackPort,omitempty"`
	// Initialized is set once the engine's first setup succeeded.
	Initialized bool `json:"initialized,omitempty"`
	// ENI is the instance's network interface in its VPC while it has one.
	ENI *PlacedENI `json:"eni,omitempty"`
	// Applied is the parameter group the server runs with.
	Applied *AppliedParams `json:"appliedParams,omitempty"`
	// EngineError is the last failure of the engine, if any.
	EngineError string `json:"engineError,omitempty"`
	// Replica is what read replication keeps.
	Replica *ReplicaState `json:"replica,omitempty"`
	// Restore is where a restored instance's first data comes from; nil:
	// the engine's Init.
	Restore *RestoreSource `json:"restore,omitempty"`
	// FinalSnapshot and KeepAutomatedBackups are DeleteDBInstance's
	// FinalDBSnapshotIdentifier and DeleteAutomatedBackups=false.
	FinalSnapshot        string `json:"finalSnapshot,omitempty"`
	KeepAutomatedBackups bool   `json:"keepAutomatedBackups,omitempty"`
	// Standby is a Multi-AZ instance's standby.
	Standby *StandbyState `json:"standby,omitempty"`
}

// PlacedENI is a DB instance's (or its standby's) network interface.
type PlacedENI struct {
	ID       string `json:"id"`
	VPCID    string `json:"vpcId"`
	SubnetID string `json:"subnetId"`
	MAC      string `json:"mac,omitempty"`
	IP       string `json:"ip"`
	// PublicIP is the interface's public IP while the instance is
	// publicly accessible.
	PublicIP string `json:"publicIp,omitempty"`
}

// AppliedPassword is a master password and since when the engine has it.
type AppliedPassword struct {
	Password string    `json:"password"`
	Since    time.Time `json:"since"`
}

// MaxPasswords bounds an instance's password history: enough for the
// restore window (at most 35 days of changes) in practice.
const MaxPasswords = 20

// RecordPassword appends pw, in effect since at, to history and drops the
// oldest entries beyond MaxPasswords or the longest restore window (the
// entry in effect at its start stays).
func RecordPassword(history []AppliedPassword, pw string, at time.Time) []AppliedPassword {
	history = append(history, AppliedPassword{Password: pw, Since: at})
	cutoff := at.Add(-35 * 24 * time.Hour)
	for len(history) > 1 && (len(history) > MaxPasswords || !history[1].Since.After(cutoff)) {
		history = history[1:]
	}
	return slices.Clone(history)
}

// PasswordAt is r's master password at t: the one applied last before t
// (the first one for an earlier t); the current one for a record without
// a history.
func (r *Instance) PasswordAt(t time.Time) string {
	pw := r.AppliedPassword
	for i, h := range r.Passwords {
		if i == 0 || !h.Since.After(t) {
			pw = h.Password
		}
	}
	return pw
}

// ReplicaState is what a DB instance keeps about read replication that AWS
// does not show.
type ReplicaState struct {
	// ReplPassword is the password of the replication login. A source gets
	// it with its first replica (or its standby); replicas copy it, since
	// the login travels with the data to every level of a cascade.
	ReplPassword string `json:"replPassword,omitempty"`
	// Promote asks the controller to promote this replica
	// (PromoteReadReplica, or its source being deleted).
	Promote bool `json:"promote,omitempty"`
	// PromoteBackup is the BackupRetentionPeriod the promoted instance gets.
	PromoteBackup *int32 `json:"promoteBackup,omitempty"`
	// PromoteWindow is the PreferredBackupWindow it gets, if given.
	PromoteWindow string `json:"promoteWindow,omitempty"`
	// DropSlots are, on a source, what replicas deleted or promoted while
	// it was not running held on it (engine.Replication's Hold: postgres's
	// replication slots): the controller releases them once it runs, so
	// that they do not keep logs forever.
	DropSlots []string `json:"dropSlots,omitempty"`
}

// MaxReplicaChain is how many read replicas a chain may hold below its
// primary (RDS for PostgreSQL's cascading limit).
const MaxReplicaChain = 3

// IsReplica reports whether r is a read replica.
func (r *Instance) IsReplica() bool { return value(r.ReadReplicaSourceDBInstanceIdentifier) != "" }

// PrimaryOf is the instance at the top of r's chain of replicas (r itself
// when it is no replica), as far as it still exists. Its master password is
// every replica's: replication copies the logins.
func PrimaryOf(tx state.Tx, sc state.Scope, r Instance) (Instance, error) {
	for hops := 0; r.IsReplica() && hops <= MaxReplicaChain; hops++ {
		up, found, err := Instances.Get(tx, sc, *r.ReadReplicaSourceDBInstanceIdentifier)
		if err != nil || !found {
			return r, err
		}
		r = up
	}
	return r, nil
}

// StandbyState is what a Multi-AZ DB instance keeps about its standby.
type StandbyState struct {
	// ENI is the standby's network interface, in a subnet of
	// SecondaryAvailabilityZone, while it has one.
	ENI *PlacedENI `json:"eni,omitempty"`
	// Built is set once the standby's data is a copy of the primary's.
	Built bool `json:"built,omitempty"`
	// Failover asks the controller for a failover (RebootDBInstance with
	// ForceFailover).
	Failover bool `json:"failover,omitempty"`
	// Swapping is set once the standby has been promoted and stopped,
	// until the data directories and the record are swapped: a restart of
	// minicloud in between finishes the swap.
	Swapping bool `json:"swapping,omitempty"`
}

// AppliedParams is the parameter group the running server was given.
type AppliedParams struct {
	Group string            `json:"group"`
	Boot  map[string]string `json:"boot,omitempty"` // given at the last start
	Live  map[string]string `json:"live,omitempty"` // given since
}

// ParamGroupName is the name of the instance's parameter group.
func (r *Instance) ParamGroupName() string {
	if len(r.DBParameterGroups) == 0 {
		return ""
	}
	return value(r.DBParameterGroups[0].DBParameterGroupName)
}

// RestoreSource is where a restored instance's first data comes from
// instead of the engine's Init: a snapshot's copy and, for a point-in-time
// restore, the source instance's logs replayed up to Target.
type RestoreSource struct {
	Snapshot string `json:"snapshot"`
	// PITR: the logs of instance ArchiveOf are replayed up to Target.
	ArchiveOf string     `json:"archiveOf,omitempty"`
	PITR      bool       `json:"pitr,omitempty"`
	Target    *time.Time `json:"target,omitempty"`
}

// SubnetGroup is a DB subnet group.
type SubnetGroup struct {
	rdsapi.DBSubnetGroup
	Tags []rdsapi.Tag `json:"tags,omitempty"`
}

// ParamGroup is a DB parameter group a user made.
type ParamGroup struct {
	rdsapi.DBParameterGroup
	Params map[string]ParamSetting `json:"params,omitempty"`
	Tags   []rdsapi.Tag            `json:"tags,omitempty"`
}

// ParamSetting is one user-set parameter of a group.
type ParamSetting struct {
	Value  string `json:"value"`
	Method string `json:"method"` // immediate | pending-reboot
	// Reset marks a parameter reset to its default, kept until it has
	// been applied (ApplyMethod says when).
	Reset bool `json:"reset,omitempty"`
}

// DefaultTags holds the tags of an implicit default parameter group.
type DefaultTags struct {
	Tags []rdsapi.Tag `json:"tags,omitempty"`
}

// FirstTime is t, or now for a t not yet set.
func FirstTime(t *time.Time) *time.Time {
	if t != nil {
		return t
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	return &now
}
