package rds

import (
	"context"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// ModifyDBInstance, as AWS's table of modifications documents
// ("Settings for DB instances"):
//
//   - applied at once whatever ApplyImmediately says: MasterUserPassword
//     (status resetting-master-credentials while ALTER ROLE runs),
//     VpcSecurityGroupIds (the running instance's ENI gets the new groups
//     live; memberships are "adding" until it has), DeletionProtection,
//     PubliclyAccessible, a BackupRetentionPeriod that stays non-zero, and
//     the DB parameter group's association (its parameters then wait for
//     a reboot: ParameterApplyStatus applying, then pending-reboot);
//   - deferred unless ApplyImmediately: DBInstanceClass, AllocatedStorage
//     and a BackupRetentionPeriod turned on or off. Deferred values wait
//     in PendingModifiedValues for the maintenance window, which minicloud
//     does not simulate: they stay pending until a later ModifyDBInstance
//     with ApplyImmediately=true, which applies them together with its own
//     (status modifying, then available; a new class restarts the server,
//     as the instance is moved on AWS).
func (s *Service) ModifyDBInstance(ctx context.Context, in *rdsapi.ModifyDBInstanceMessage) (*rdsapi.ModifyDBInstanceResult, error) {
	sc := scopeOf(ctx)
	if err := s.checkModifyPublic(ctx, in); err != nil {
		return nil, err
	}
	if in.MasterUserPassword != nil {
		if err := checkPassword(in.MasterUserPassword); err != nil {
			return nil, err
		}
	}
	if in.BackupRetentionPeriod != nil && (*in.BackupRetentionPeriod < 0 || *in.BackupRetentionPeriod > 35) {
		return nil, errInvalidParam("Invalid backup retention period: %d. Valid values are 0-35.", *in.BackupRetentionPeriod)
	}
	if len(in.DBSecurityGroups) > 0 {
		return nil, errCombination("DB Security Groups are not supported in a VPC: use VpcSecurityGroupIds.")
	}
	if err := unsupportedModification(in); err != nil {
		return nil, err
	}
	now := deref(in.ApplyImmediately)
	if in.DBParameterGroupName != nil {
		err := s.store.View(ctx, func(tx state.Tx) error {
			r, found, err := records.Instances.Get(tx, sc, strings.ToLower(deref(in.DBInstanceIdentifier)))
			if err != nil || !found {
				return err // not found: mutate answers
			}
			return s.checkInstanceParamGroup(tx, sc, *in.DBParameterGroupName, deref(r.Engine))
		})
		if err != nil {
			return nil, err
		}
	}
	if len(in.VpcSecurityGroupIds) > 0 {
		var vpc string
		err := s.store.View(ctx, func(tx state.Tx) error {
			r, found, err := records.Instances.Get(tx, sc, strings.ToLower(deref(in.DBInstanceIdentifier)))
			if err == nil && found {
				vpc = instanceVPC(&r)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		if err := s.checkGroups(ctx, sc, vpc, in.VpcSecurityGroupIds); err != nil {
			return nil, err
		}
	}
	db, err := s.mutate(ctx, in.DBInstanceIdentifier, func(r *records.Instance) error {
		if st := deref(r.DBInstanceStatus); st != "available" {
			return errInstanceState("Database instance is not in available state.")
		}
		eng := s.engineFor(deref(r.Engine))
		if eng == nil {
			return errCombination("minicloud has no engine %s.", deref(r.Engine))
		}
		if in.EngineVersion != nil {
			if _, err := checkEngineVersion(eng, *in.EngineVersion); err != nil {
				return err
			}
		}
		if c := in.DBInstanceClass; c != nil {
			if err := classKnown(r, *c); err != nil {
				return err
			}
		}
		if p := in.MasterUserPassword; p != nil {
			if max := eng.Defaults().MaxPassword; len(*p) > max {
				return errInvalidParam("The parameter MasterUserPassword is not a valid password because it is longer than %d characters.", max)
			}
			if r.IsReplica() {
				return errCombination("The master user password of a read replica cannot be modified: it is its source's.")
			}
		}
		pend := rdsPending{}
		if r.PendingModifiedValues != nil {
			pend = *r.PendingModifiedValues
		}
		if in.AllocatedStorage != nil {
			if err := checkStorageChange(r, *in.AllocatedStorage); err != nil {
				return err
			}
		}

		// Always at once.
		if in.DeletionProtection != nil {
			r.DeletionProtection = in.DeletionProtection
		}
		if in.PubliclyAccessible != nil {
			r.PubliclyAccessible = in.PubliclyAccessible
		}
		if err := s.modifyMultiAZ(r, sc, in); err != nil { // at once: no maintenance window
			return err
		}
		if in.CopyTagsToSnapshot != nil {
			r.CopyTagsToSnapshot = in.CopyTagsToSnapshot
		}
		if in.AutoMinorVersionUpgrade != nil {
			r.AutoMinorVersionUpgrade = in.AutoMinorVersionUpgrade
		}
		if in.PreferredBackupWindow != nil {
			r.PreferredBackupWindow = in.PreferredBackupWindow
		}
		if in.PreferredMaintenanceWindow != nil {
			r.PreferredMaintenanceWindow = ptr(strings.ToLower(*in.PreferredMaintenanceWindow))
		}
		if in.StorageType != nil && *in.StorageType != deref(r.StorageType) {
			return errCombination("minicloud does not support changing StorageType yet.")
		}
		if in.DBSubnetGroupName != nil && r.DBSubnetGroup != nil && !strings.EqualFold(*in.DBSubnetGroupName, deref(r.DBSubnetGroup.DBSubnetGroupName)) {
			return errCombination("minicloud does not support moving a DB instance to another DB subnet group yet.")
		}
		if in.VpcSecurityGroupIds != nil {
			r.VpcSecurityGroups = newMemberships(r.VpcSecurityGroups, in.VpcSecurityGroupIds)
		}
		if in.DBParameterGroupName != nil {
			name := strings.ToLower(*in.DBParameterGroupName)
			if name != r.ParamGroupName() {
				r.DBParameterGroups = []rdsapi.DBParameterGroupStatus{{DBParameterGroupName: ptr(name), ParameterApplyStatus: ptr("applying")}}
			}
		}
		if b := in.BackupRetentionPeriod; b != nil {
			if *b == 0 && len(r.ReadReplicaDBInstanceIdentifiers) > 0 {
				return errReplicasNeedBackups(r)
			}
			if cur := deref(r.BackupRetentionPeriod); now || (cur > 0) == (*b > 0) {
				r.BackupRetentionPeriod = b
				pend.BackupRetentionPeriod = nil
			} else {
				pend.BackupRetentionPeriod = b
			}
		}

		// Deferred unless ApplyImmediately.
		if c := in.DBInstanceClass; c != nil {
			pend.DBInstanceClass = c
			if *c == deref(r.DBInstanceClass) {
				pend.DBInstanceClass = nil
			}
		}
		if n := in.AllocatedStorage; n != nil {
			pend.AllocatedStorage = n
			if *n == deref(r.AllocatedStorage) {
				pend.AllocatedStorage = nil
			}
		}
		modifying := false
		if now {
			if pend.DBInstanceClass != nil {
				r.DBInstanceClass = pend.DBInstanceClass
				r.RebootSeq++ // a new class means a new host: the server restarts
				modifying = true
			}
			if pend.AllocatedStorage != nil {
				r.AllocatedStorage = pend.AllocatedStorage
				modifying = true
			}
			if pend.BackupRetentionPeriod != nil {
				r.BackupRetentionPeriod = pend.BackupRetentionPeriod
				modifying = true
			}
			pend.DBInstanceClass, pend.AllocatedStorage, pend.BackupRetentionPeriod = nil, nil, nil
		}
		if in.MasterUserPassword != nil {
			r.Password = *in.MasterUserPassword
			pend.MasterUserPassword = ptr("****")
			r.DBInstanceStatus = ptr("resetting-master-credentials")
		}
		if modifying {
			r.DBInstanceStatus = ptr("modifying")
		}
		r.PendingModifiedValues = &pend
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.ModifyDBInstanceResult{DBInstance: db}, nil
}

// unsupportedModification refuses the changes minicloud cannot make real
// yet, rather than accept them and do nothing.
func unsupportedModification(in *rdsapi.ModifyDBInstanceMessage) error {
	for _, c := range []struct {
		set  bool
		name string
	}{
		{in.NewDBInstanceIdentifier != nil, "NewDBInstanceIdentifier"},
		{in.DBPortNumber != nil, "DBPortNumber"},
		{in.Iops != nil, "Iops"},
		{in.StorageThroughput != nil, "StorageThroughput"},
		{in.OptionGroupName != nil, "OptionGroupName"},
		{deref(in.EnableIAMDatabaseAuthentication), "EnableIAMDatabaseAuthentication"},
		{deref(in.ManageMasterUserPassword) || deref(in.RotateMasterUserPassword), "ManageMasterUserPassword"},
		{in.Domain != nil, "Domain"},
		{in.CACertificateIdentifier != nil, "CACertificateIdentifier"},
	} {
		if c.set {
			return errCombination("minicloud does not support changing %s yet.", c.name)
		}
	}
	return nil
}

// checkStorageChange enforces AWS's rules for a new AllocatedStorage: it
// can only grow, by at least 10 %, up to 65536 GiB.
func checkStorageChange(r *records.Instance, n int32) error {
	cur := deref(r.AllocatedStorage)
	if p := r.PendingModifiedValues; p != nil && p.AllocatedStorage != nil {
		cur = max(cur, *p.AllocatedStorage)
	}
	st := deref(r.StorageType)
	switch {
	case n == deref(r.AllocatedStorage):
		return nil
	case n > 65536:
		return errInvalidParam("Invalid storage size for engine name %s and storage type %s: %d", deref(r.Engine), st, n)
	case n < deref(r.AllocatedStorage):
		return errCombination("Invalid storage size: %d. The allocated storage of a DB instance can't be decreased (it is %d GiB).", n, deref(r.AllocatedStorage))
	case int64(n)*10 < int64(cur)*11:
		return errCombination("The allocated storage must be increased by at least 10 percent (from %d GiB to at least %d GiB).", cur, (int64(cur)*11+9)/10)
	}
	return nil
}

// newMemberships is the instance's security groups after a change: groups
// it keeps keep their status, new ones are "adding" until the controller
// has applied them.
func newMemberships(old []rdsapi.VpcSecurityGroupMembership, ids []string) []rdsapi.VpcSecurityGroupMembership {
	var out []rdsapi.VpcSecurityGroupMembership
	for _, g := range slices.Compact(slices.Sorted(slices.Values(ids))) {
		st := "adding"
		for _, o := range old {
			if deref(o.VpcSecurityGroupId) == g {
				st = deref(o.Status)
			}
		}
		out = append(out, rdsapi.VpcSecurityGroupMembership{VpcSecurityGroupId: ptr(g), Status: ptr(st)})
	}
	return out
}
