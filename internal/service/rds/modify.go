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
//
// The request is checked on its own (modifyCheck) and EC2 is asked what
// the checks need of it (sgcheck.go); then, in one write transaction, it
// is checked against the instance as stored (modifyCheckStored) and
// applied (modifyApply). The checks run in AWS's order, which
// errors_test.go pins.
func (s *Service) ModifyDBInstance(ctx context.Context, in *rdsapi.ModifyDBInstanceMessage) (*rdsapi.ModifyDBInstanceResult, error) {
	db, err := retryChanged(ctx, func() (*rdsapi.DBInstance, error) { return s.modifyInstance(ctx, in) })
	if err != nil {
		return nil, err
	}
	return &rdsapi.ModifyDBInstanceResult{DBInstance: db}, nil
}

// modifyInstance is one attempt at ModifyDBInstance.
func (s *Service) modifyInstance(ctx context.Context, in *rdsapi.ModifyDBInstanceMessage) (*rdsapi.DBInstance, error) {
	sc := scopeOf(ctx)
	// Public access is checked first: the order errors_test.go pins.
	public, err := s.checkModifyPublic(ctx, sc, in)
	if err != nil {
		return nil, err
	}
	if err := modifyCheck(in); err != nil {
		return nil, err
	}
	groups, err := s.lookupGroups(ctx, sc, in.VpcSecurityGroupIds)
	if err != nil {
		return nil, err
	}
	id := strings.ToLower(deref(in.DBInstanceIdentifier))
	var out *rdsapi.DBInstance
	err = s.store.Update(ctx, func(tx state.Tx) error {
		r, found, err := records.Instances.Get(tx, sc, lookupID(id))
		if err != nil {
			return err
		}
		if err := s.modifyCheckStored(tx, sc, in, found, &r, public, groups); err != nil {
			return err
		}
		modifyApply(&r, sc, in)
		if err := setPromotionTier(tx, sc, &r, in.PromotionTier); err != nil {
			return err
		}
		out = show(&r)
		return records.Instances.Put(tx, sc, id, r)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// modifyCheck checks a ModifyDBInstance request without reading the store,
// in AWS's order.
func modifyCheck(in *rdsapi.ModifyDBInstanceMessage) error {
	if in.MasterUserPassword != nil {
		if err := checkPassword(in.MasterUserPassword); err != nil {
			return err
		}
	}
	if b := in.BackupRetentionPeriod; b != nil {
		if err := checkRetention(*b); err != nil {
			return err
		}
	}
	if len(in.DBSecurityGroups) > 0 {
		return errNoDBSecurityGroups()
	}
	if err := checkPromotionTier(in.PromotionTier); err != nil {
		return err
	}
	return unsupportedModification(in)
}

// modifyCheckStored checks the request against instance r as stored
// (found false: there is none), in AWS's order: the parameter group (of
// an instance that exists), the security groups (EC2's answers, groups)
// in its VPC, then the instance itself (modifyCheckInstance).
func (s *Service) modifyCheckStored(tx state.Tx, sc state.Scope, in *rdsapi.ModifyDBInstanceMessage, found bool, r *records.Instance, public publicCheck, groups groupVPCs) error {
	vpc := ""
	if found {
		vpc = instanceVPC(r)
	}
	if err := public.confirm(vpc); err != nil {
		return err
	}
	if in.DBParameterGroupName != nil && found {
		if err := s.checkInstanceParamGroup(tx, sc, *in.DBParameterGroupName, deref(r.Engine)); err != nil {
			return err
		}
	}
	if err := groups.check(vpc); err != nil {
		return err
	}
	if !found {
		return errInstanceNotFound(deref(in.DBInstanceIdentifier))
	}
	if err := memberModifyCheck(r, in); err != nil {
		return err
	}
	return s.modifyCheckInstance(r, in)
}

// modifyCheckInstance checks the request against the instance's state,
// engine and settings, in AWS's order.
func (s *Service) modifyCheckInstance(r *records.Instance, in *rdsapi.ModifyDBInstanceMessage) error {
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
		if err := checkEnginePassword(eng.Defaults(), *p); err != nil {
			return err
		}
		if r.IsReplica() {
			return errCombination("The master user password of a read replica cannot be modified: it is its source's.")
		}
	}
	if in.AllocatedStorage != nil {
		if err := checkStorageChange(r, *in.AllocatedStorage); err != nil {
			return err
		}
	}
	if err := s.checkModifyMultiAZ(r, in); err != nil {
		return err
	}
	if err := modifyCheckLogExports(eng, r, in.CloudwatchLogsExportConfiguration); err != nil {
		return err
	}
	if in.StorageType != nil && *in.StorageType != deref(r.StorageType) {
		return errCombination("minicloud does not support changing StorageType yet.")
	}
	if in.DBSubnetGroupName != nil && r.DBSubnetGroup != nil && !strings.EqualFold(*in.DBSubnetGroupName, deref(r.DBSubnetGroup.DBSubnetGroupName)) {
		return errCombination("minicloud does not support moving a DB instance to another DB subnet group yet.")
	}
	if b := in.BackupRetentionPeriod; b != nil && *b == 0 && len(r.ReadReplicaDBInstanceIdentifiers) > 0 {
		return errReplicasNeedBackups(r)
	}
	return nil
}

// modifyApply makes a checked modification of r: what applies at once,
// what waits in PendingModifiedValues, and with ApplyImmediately what
// waited; the status tells the controller what to do.
func modifyApply(r *records.Instance, sc state.Scope, in *rdsapi.ModifyDBInstanceMessage) {
	pend := rdsPending{}
	if r.PendingModifiedValues != nil {
		pend = *r.PendingModifiedValues
	}
	modifyAtOnce(r, sc, in, &pend)
	modifyDeferred(r, in, &pend)
	modifying := false
	if deref(in.ApplyImmediately) {
		modifying = applyPending(r, &pend)
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
}

// modifyAtOnce applies what AWS applies at once whatever ApplyImmediately
// says.
func modifyAtOnce(r *records.Instance, sc state.Scope, in *rdsapi.ModifyDBInstanceMessage, pend *rdsPending) {
	set(&r.DeletionProtection, in.DeletionProtection)
	set(&r.PubliclyAccessible, in.PubliclyAccessible)
	applyModifyMultiAZ(r, sc, in, pend) // at once: no maintenance window
	set(&r.CopyTagsToSnapshot, in.CopyTagsToSnapshot)
	set(&r.AutoMinorVersionUpgrade, in.AutoMinorVersionUpgrade)
	set(&r.PreferredBackupWindow, in.PreferredBackupWindow)
	if w := in.PreferredMaintenanceWindow; w != nil {
		r.PreferredMaintenanceWindow = ptr(strings.ToLower(*w))
	}
	if c := in.CloudwatchLogsExportConfiguration; c != nil {
		r.EnabledCloudwatchLogsExports = exportsAfter(r.EnabledCloudwatchLogsExports, c)
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
	// A retention that stays on (or off) applies at once; turning backups
	// on or off waits unless ApplyImmediately.
	if b := in.BackupRetentionPeriod; b != nil {
		if cur := deref(r.BackupRetentionPeriod); deref(in.ApplyImmediately) || (cur > 0) == (*b > 0) {
			r.BackupRetentionPeriod = b
			pend.BackupRetentionPeriod = nil
		} else {
			pend.BackupRetentionPeriod = b
		}
	}
}

// modifyDeferred records what waits for the maintenance window: a new
// class or storage size (none when it is the current one).
func modifyDeferred(r *records.Instance, in *rdsapi.ModifyDBInstanceMessage, pend *rdsPending) {
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
}

// applyPending applies the deferred values (ApplyImmediately) and reports
// whether any was: the instance is then modifying.
func applyPending(r *records.Instance, pend *rdsPending) (modifying bool) {
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
	return modifying
}

// set replaces *field with v when the request gives v.
func set[T any](field **T, v *T) {
	if v != nil {
		*field = v
	}
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
