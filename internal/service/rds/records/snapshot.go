package records

import (
	"slices"
	"time"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/state"
)

// Snapshot is a DB snapshot, manual or automated: the API shape plus what
// a restore needs and AWS does not show.
type Snapshot struct {
	rdsapi.DBSnapshot
	// Password is the master password in the copied data; a restored
	// instance starts with it, as on AWS.
	Password        string `json:"password"`
	DBName          string `json:"dbName,omitempty"`
	DBInstanceClass string `json:"dbInstanceClass,omitempty"`
	// SourceSnapshot is, for a copy, the snapshot whose data is copied.
	SourceSnapshot string `json:"sourceSnapshot,omitempty"`
	// BackupEnd is when the copy became consistent: a point-in-time restore
	// can start from it for any later time.
	BackupEnd *time.Time `json:"backupEnd,omitempty"`
	// Error is why the snapshot failed, FailedAt when.
	Error    string     `json:"error,omitempty"`
	FailedAt *time.Time `json:"failedAt,omitempty"`
	// Retention is, for an automated backup, its instance's
	// BackupRetentionPeriod when taken: how long it is kept once the
	// instance is deleted with DeleteAutomatedBackups=false.
	Retention int32 `json:"retention,omitempty"`
}

// SnapshotDeleting is the status, besides AWS's creating, available and
// failed, of a deleted snapshot whose data the controller is removing;
// Describe no longer shows it.
const SnapshotDeleting = "deleting"

// SnapshotOf is a new snapshot record of instance r in status creating.
func SnapshotOf(sc state.Scope, r *Instance, id, typ string, tags []rdsapi.Tag) Snapshot {
	var vpc *string
	if r.DBSubnetGroup != nil {
		vpc = r.DBSubnetGroup.VpcId
	}
	port := int32(5432)
	if r.Endpoint != nil && r.Endpoint.Port != nil {
		port = *r.Endpoint.Port
	}
	if tags == nil && r.CopyTagsToSnapshot != nil && *r.CopyTagsToSnapshot {
		tags = slices.Clone(r.TagList)
	}
	opt := ""
	if len(r.OptionGroupMemberships) > 0 && r.OptionGroupMemberships[0].OptionGroupName != nil {
		opt = *r.OptionGroupMemberships[0].OptionGroupName
	}
	return Snapshot{
		DBSnapshot: rdsapi.DBSnapshot{
			DBSnapshotIdentifier:             new(id),
			DBInstanceIdentifier:             r.DBInstanceIdentifier,
			Engine:                           r.Engine,
			EngineVersion:                    r.EngineVersion,
			AllocatedStorage:                 r.AllocatedStorage,
			Status:                           new("creating"),
			Port:                             new(port),
			AvailabilityZone:                 r.AvailabilityZone,
			VpcId:                            vpc,
			InstanceCreateTime:               r.InstanceCreateTime,
			MasterUsername:                   r.MasterUsername,
			LicenseModel:                     r.LicenseModel,
			SnapshotType:                     new(typ),
			Iops:                             r.Iops,
			OptionGroupName:                  new(opt),
			PercentProgress:                  new(int32(0)),
			StorageType:                      r.StorageType,
			Encrypted:                        new(false),
			DBSnapshotArn:                    new(state.NewARN(sc, "rds", "snapshot:"+id).String()),
			IAMDatabaseAuthenticationEnabled: r.IAMDatabaseAuthenticationEnabled,
			ProcessorFeatures:                []rdsapi.ProcessorFeature{},
			DbiResourceId:                    r.DbiResourceId,
			TagList:                          tags,
			SnapshotTarget:                   new("region"),
			DedicatedLogVolume:               new(false),
			MultiTenant:                      new(false),
		},
		Password:        r.AppliedPassword,
		DBName:          value(r.DBName),
		DBInstanceClass: value(r.DBInstanceClass),
		Retention:       value(r.BackupRetentionPeriod),
	}
}

// NewestBackup is the latest BackupEnd of backups: the backup alone
// restores that state, even before any later log is kept.
func NewestBackup(backups []Snapshot) time.Time {
	var t time.Time
	for _, b := range backups {
		if b.BackupEnd != nil && b.BackupEnd.After(t) {
			t = *b.BackupEnd
		}
	}
	return t
}

// value is *p, or the zero value for nil.
func value[T any](p *T) T {
	var z T
	if p != nil {
		z = *p
	}
	return z
}
