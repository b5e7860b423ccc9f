package rds

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// Read replicas (see the package comment for how replication really runs).

func errNotAvailableSource() error {
	return errInstanceState("DB instance is not in the available state")
}

// errReplicasNeedBackups refuses to turn automated backups off on r, the
// source of read replicas (their replication needs its WAL or binary logs).
func errReplicasNeedBackups(r *records.Instance) error {
	return errCombination("Automated backups can't be turned off for DB instance %s because it has read replicas (%s). Delete or promote them first.",
		deref(r.DBInstanceIdentifier), strings.Join(r.ReadReplicaDBInstanceIdentifiers, ", "))
}

func errBackupsDisabled() error {
	return errInstanceState("Automated backups are not enabled for this database instance. To enable automated backups, use ModifyDBInstance to set the backup retention period to a non-zero value.")
}

// replicaSourceID resolves SourceDBInstanceIdentifier, an identifier or the
// ARN of an instance of this account and region.
func replicaSourceID(sc state.Scope, raw string) (string, error) {
	if !strings.HasPrefix(raw, "arn:") {
		if !validIdentifier(raw) {
			return "", errInvalidParam("The parameter SourceDBInstanceIdentifier is not a valid identifier.")
		}
		return strings.ToLower(raw), nil
	}
	a, err := state.ParseARN(raw)
	if err != nil || a.Service != "rds" || !strings.HasPrefix(a.Resource, "db:") {
		return "", errInvalidParam("Invalid source DB instance ARN: %s", raw)
	}
	if a.Region != sc.Region || a.Account != sc.Account {
		return "", errInvalidParam("minicloud makes read replicas only of DB instances in the same account and Region, not of %s.", raw)
	}
	return strings.ToLower(strings.TrimPrefix(a.Resource, "db:")), nil
}

// chainDepth is how many read replicas lie between r and its primary,
// r included.
func chainDepth(tx state.Tx, sc state.Scope, r records.Instance) (int, error) {
	n := 0
	for r.IsReplica() && n <= records.MaxReplicaChain {
		n++
		up, found, err := records.Instances.Get(tx, sc, *r.ReadReplicaSourceDBInstanceIdentifier)
		if err != nil || !found {
			return n, err
		}
		r = up
	}
	return n, nil
}

// CreateDBInstanceReadReplica records a read replica of a postgres or
// mariadb DB instance in status creating; the controller makes it from a
// copy of the source (a base backup, a dump) and keeps it replicating.
//
// The request is checked on its own (replicaCheck) and EC2 is asked about
// its security groups (sgcheck.go); then, in one write transaction, the
// replica is checked and planned against its source as stored
// (planReplica) and written with the source, which lists it. The checks
// run in AWS's order, which errors_test.go pins.
func (s *Service) CreateDBInstanceReadReplica(ctx context.Context, in *rdsapi.CreateDBInstanceReadReplicaMessage) (*rdsapi.CreateDBInstanceReadReplicaResult, error) {
	sc := scopeOf(ctx)
	r, err := replicaCheck(sc, in)
	if err != nil {
		return nil, err
	}
	groups, err := s.lookupGroups(ctx, sc, in.VpcSecurityGroupIds)
	if err != nil {
		return nil, err
	}
	var rec records.Instance
	err = s.store.Update(ctx, func(tx state.Tx) error {
		p, err := s.planReplica(tx, sc, r, groups)
		if err != nil {
			return err
		}
		rec = p.replica
		if err := records.Instances.Put(tx, sc, r.srcID, p.src); err != nil {
			return err
		}
		return records.Instances.Put(tx, sc, r.id, rec)
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.CreateDBInstanceReadReplicaResult{DBInstance: show(&rec)}, nil
}

// replicaRequest is a CreateDBInstanceReadReplica request checked on its
// own.
type replicaRequest struct {
	in *rdsapi.CreateDBInstanceReadReplicaMessage
	id string // lower case
	// srcID is the source's identifier (from an ARN too), srcRaw as given.
	srcID, srcRaw string
}

// replicaCheck checks a CreateDBInstanceReadReplica request without
// reading the store, in AWS's order.
func replicaCheck(sc state.Scope, in *rdsapi.CreateDBInstanceReadReplicaMessage) (*replicaRequest, error) {
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	raw := deref(in.DBInstanceIdentifier)
	if !validIdentifier(raw) {
		return nil, errBadIdentifier()
	}
	if in.SourceDBClusterIdentifier != nil {
		return nil, errCombination("minicloud has no DB clusters yet: give SourceDBInstanceIdentifier.")
	}
	r := &replicaRequest{in: in, id: strings.ToLower(raw), srcRaw: deref(in.SourceDBInstanceIdentifier)}
	if r.srcRaw == "" {
		return nil, errInvalidParam("The parameter SourceDBInstanceIdentifier must be provided and must not be blank.")
	}
	var err error
	if r.srcID, err = replicaSourceID(sc, r.srcRaw); err != nil {
		return nil, err
	}
	if c := deref(in.DBInstanceClass); c != "" && !validClassName(c) {
		return nil, errInvalidParam("Invalid DB Instance class: %s", c)
	}
	if in.Port != nil && (*in.Port < 1150 || *in.Port > 65535) {
		return nil, errInvalidParam("Invalid port number: %d. Valid values are 1150-65535.", *in.Port)
	}
	if deref(in.MultiAZ) {
		return nil, errCombination("minicloud does not make Multi-AZ read replicas yet.")
	}
	return r, nil
}

// replicaPlan is a read replica planned inside the transaction that
// writes it: the replica's record, and its source's, which lists it.
type replicaPlan struct {
	src, replica records.Instance
}

// planReplica checks the request against what is stored, in AWS's
// order (the security groups in the replica's VPC, the identifier free,
// the source: available, of an engine that replicates, with automated
// backups, not too deep a chain), and plans the replica.
func (s *Service) planReplica(tx state.Tx, sc state.Scope, r *replicaRequest, groups groupVPCs) (*replicaPlan, error) {
	in := r.in
	group, err := subnetGroupOf(tx, sc, in.DBSubnetGroupName)
	if err != nil {
		return nil, err
	}
	src, found, err := records.Instances.Get(tx, sc, r.srcID)
	if err != nil {
		return nil, err
	}
	// The groups must be in the replica's VPC: its subnet group's, else
	// its source's.
	vpc := ""
	switch {
	case group != nil:
		vpc = deref(group.VpcId)
	case in.DBSubnetGroupName == nil && found:
		vpc = instanceVPC(&src)
	}
	if err := groups.check(vpc); err != nil {
		return nil, err
	}
	if err := checkFree(tx, sc, r.id); err != nil {
		return nil, err
	}
	if !found {
		return nil, errInstanceNotFound(r.srcRaw)
	}
	if err := errMemberOp(&src, "Add a reader to the DB Cluster with CreateDBInstance and DBClusterIdentifier instead."); err != nil {
		return nil, err
	}
	if err := s.checkReplicaSource(tx, sc, r, &src); err != nil {
		return nil, err
	}
	rec, err := replicaRecord(tx, sc, r, &src, group)
	if err != nil {
		return nil, err
	}
	src.ReadReplicaDBInstanceIdentifiers = append(src.ReadReplicaDBInstanceIdentifiers, r.id)
	return &replicaPlan{src: src, replica: rec}, nil
}

// replicaRecord is the record of a replica of src (which it gives the
// replication login's password if it has none yet), in DB subnet group
// group (nil: the source's, unless one was named, which is missing).
func replicaRecord(tx state.Tx, sc state.Scope, r *replicaRequest, src *records.Instance, group *records.SubnetGroup) (records.Instance, error) {
	in := r.in
	if src.Replica == nil {
		src.Replica = &records.ReplicaState{}
	}
	if src.Replica.ReplPassword == "" {
		src.Replica.ReplPassword = engine.RandomString(32)
	}
	top, err := records.PrimaryOf(tx, sc, *src)
	if err != nil {
		return records.Instance{}, err
	}
	rec := newReplicaRecord(sc, r.id, src, in)
	if in.DBParameterGroupName != nil {
		rec.DBParameterGroups = []rdsapi.DBParameterGroupStatus{{DBParameterGroupName: ptr(strings.ToLower(*in.DBParameterGroupName)), ParameterApplyStatus: ptr("in-sync")}}
	}
	rec.Password, rec.AppliedPassword = top.AppliedPassword, top.AppliedPassword
	switch {
	case group != nil:
		rec.DBSubnetGroup = &group.DBSubnetGroup
	case in.DBSubnetGroupName != nil:
		return records.Instance{}, errSubnetGroupNotFound(*in.DBSubnetGroupName)
	}
	az := deref(in.AvailabilityZone)
	if rec.DBSubnetGroup != nil { // the source's, unless one was named
		az = zoneIn(rec.DBSubnetGroup, az)
	}
	if az == "" {
		az = sc.Region + "a"
	}
	rec.AvailabilityZone = ptr(az)
	return rec, nil
}

// checkReplicaSource checks that src can have another read replica, in
// AWS's order.
func (s *Service) checkReplicaSource(tx state.Tx, sc state.Scope, r *replicaRequest, src *records.Instance) error {
	if deref(src.DBInstanceStatus) != "available" {
		return errNotAvailableSource()
	}
	e := deref(src.Engine)
	if !engine.Is[engine.Replication](s.engineFor(e)) {
		return errCombination("minicloud supports read replicas of %s DB instances only; %s is a %s DB instance.", s.engines.Names(engine.Is[engine.Replication]), r.srcID, e)
	}
	if deref(r.in.ReplicaMode) != "" {
		return errInvalidParam("ReplicaMode is supported only for Oracle and SQL Server DB instances, not %s.", e)
	}
	if err := s.engineFor(e).Available(); err != nil {
		return errCombination("%s", err.Error())
	}
	if name := r.in.DBParameterGroupName; name != nil {
		if err := s.checkInstanceParamGroup(tx, sc, *name, e); err != nil {
			return err
		}
	}
	if deref(src.BackupRetentionPeriod) == 0 {
		return errBackupsDisabled()
	}
	depth, err := chainDepth(tx, sc, *src)
	if err != nil {
		return err
	}
	if depth >= records.MaxReplicaChain {
		return errCombination("Cannot create a read replica of %s: a chain of cascading read replicas holds at most %d read replicas.", r.srcID, records.MaxReplicaChain)
	}
	return nil
}

// newReplicaRecord is a replica of src: engine, version, master user and
// password, database and storage come from the source, as on AWS; backups
// are off unless the replica is later modified.
func newReplicaRecord(sc state.Scope, id string, src *records.Instance, in *rdsapi.CreateDBInstanceReadReplicaMessage) records.Instance {
	port := int32(5432)
	if src.Endpoint != nil && src.Endpoint.Port != nil {
		port = *src.Endpoint.Port
	}
	if in.Port != nil {
		port = *in.Port
	}
	db := newDBInstance(sc, id, port)
	db.DBInstanceClass = ptr(orDefault(in.DBInstanceClass, deref(src.DBInstanceClass)))
	db.Engine, db.EngineVersion, db.LicenseModel = src.Engine, src.EngineVersion, src.LicenseModel
	db.MasterUsername, db.DBName = src.MasterUsername, src.DBName
	db.AllocatedStorage, db.StorageType = src.AllocatedStorage, src.StorageType
	set(&db.AllocatedStorage, in.AllocatedStorage)
	set(&db.StorageType, in.StorageType)
	db.Iops, db.StorageEncrypted = src.Iops, src.StorageEncrypted
	db.PreferredBackupWindow, db.PreferredMaintenanceWindow = src.PreferredBackupWindow, src.PreferredMaintenanceWindow
	db.BackupRetentionPeriod = ptr(int32(0))
	db.PendingModifiedValues = &rdsPending{}
	db.VpcSecurityGroups = src.VpcSecurityGroups
	if in.VpcSecurityGroupIds != nil {
		db.VpcSecurityGroups = activeMemberships(in.VpcSecurityGroupIds)
	}
	db.DBParameterGroups, db.OptionGroupMemberships = src.DBParameterGroups, src.OptionGroupMemberships
	db.DBSubnetGroup = src.DBSubnetGroup
	db.MultiAZ = ptr(deref(in.MultiAZ))
	db.PubliclyAccessible = ptr(deref(src.PubliclyAccessible))
	set(&db.PubliclyAccessible, in.PubliclyAccessible)
	db.AutoMinorVersionUpgrade = ptr(in.AutoMinorVersionUpgrade == nil && deref(src.AutoMinorVersionUpgrade) || deref(in.AutoMinorVersionUpgrade))
	db.ReadReplicaSourceDBInstanceIdentifier = src.DBInstanceIdentifier
	db.CACertificateIdentifier, db.EngineLifecycleSupport = src.CACertificateIdentifier, src.EngineLifecycleSupport
	db.CopyTagsToSnapshot = ptr(deref(in.CopyTagsToSnapshot))
	db.IAMDatabaseAuthenticationEnabled = ptr(deref(in.EnableIAMDatabaseAuthentication))
	db.PerformanceInsightsEnabled = ptr(deref(in.EnablePerformanceInsights))
	db.DeletionProtection = ptr(deref(in.DeletionProtection))
	db.TagList = in.Tags
	return records.Instance{DBInstance: db, Replica: &records.ReplicaState{ReplPassword: src.Replica.ReplPassword}}
}

// PromoteReadReplica turns a read replica into a standalone, writable DB
// instance: status modifying until the controller has promoted the server.
func (s *Service) PromoteReadReplica(ctx context.Context, in *rdsapi.PromoteReadReplicaMessage) (*rdsapi.PromoteReadReplicaResult, error) {
	if b := in.BackupRetentionPeriod; b != nil {
		if err := checkRetention(*b); err != nil {
			return nil, err
		}
	}
	db, err := s.mutate(ctx, in.DBInstanceIdentifier, func(r *records.Instance) error {
		if !r.IsReplica() {
			return errInstanceState("DB Instance is not a read replica.")
		}
		if deref(r.DBInstanceStatus) != "available" {
			return errInstanceState("DB instance is not in the available state")
		}
		if b := in.BackupRetentionPeriod; b != nil && *b == 0 && len(r.ReadReplicaDBInstanceIdentifiers) > 0 {
			return errReplicasNeedBackups(r)
		}
		if r.Replica == nil {
			r.Replica = &records.ReplicaState{}
		}
		r.Replica.Promote = true
		r.Replica.PromoteBackup = in.BackupRetentionPeriod
		r.Replica.PromoteWindow = deref(in.PreferredBackupWindow)
		r.DBInstanceStatus = ptr("modifying")
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.PromoteReadReplicaResult{DBInstance: db}, nil
}

// checkStop refuses to stop a read replica or an instance that has read
// replicas, as AWS does.
func checkStop(r *records.Instance) error {
	if r.IsReplica() {
		return errInstanceState("Cannot stop or start a Read-Replica instance")
	}
	if len(r.ReadReplicaDBInstanceIdentifiers) > 0 {
		return errInstanceState("Cannot stop or start an instance with Read-Replicas")
	}
	return nil
}

// promoteReplicasOf marks the read replicas of source id, which is being
// deleted, for promotion: on AWS, deleting a source DB instance promotes its
// same-Region replicas to standalone instances.
func (s *Service) promoteReplicasOf(ctx context.Context, id string) error {
	sc := scopeOf(ctx)
	return s.store.Update(ctx, func(tx state.Tx) error {
		src, found, err := records.Instances.Get(tx, sc, id)
		if err != nil || !found {
			return err
		}
		for _, rid := range src.ReadReplicaDBInstanceIdentifiers {
			r, found, err := records.Instances.Get(tx, sc, rid)
			if err != nil {
				return err
			}
			if !found {
				continue
			}
			if r.Replica == nil {
				r.Replica = &records.ReplicaState{}
			}
			r.Replica.Promote = true
			// The replica's master password is its primary's, whatever it
			// was changed to since the replica was made.
			top, err := records.PrimaryOf(tx, sc, src)
			if err != nil {
				return err
			}
			r.Password, r.AppliedPassword = top.AppliedPassword, top.AppliedPassword
			if deref(r.DBInstanceStatus) == "available" {
				r.DBInstanceStatus = ptr("modifying")
			}
			if err := records.Instances.Put(tx, sc, rid, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// ReplicaLag measures now how far read replica id is behind its source
// (AWS reports it as the CloudWatch metric ReplicaLag).
func (s *Service) ReplicaLag(ctx context.Context, account, region, id string) (time.Duration, error) {
	sc := state.Scope{Account: account, Region: region}
	id = strings.ToLower(id)
	c := s.ctl.Load()
	if c == nil {
		return 0, errors.New("the RDS engine controller is not running")
	}
	var (
		rec   records.Instance
		found bool
	)
	err := s.store.View(ctx, func(tx state.Tx) error {
		var err error
		rec, found, err = records.Instances.Get(tx, sc, id)
		return err
	})
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, errInstanceNotFound(id)
	}
	return c.ReplicaLag(ctx, sc, &rec)
}

// replicationHealth is a replica's entry in /_minicloud/health: its source,
// replication status and the lag last measured.
func (s *Service) replicationHealth(key string, r *records.Instance) map[string]any {
	if !r.IsReplica() {
		return nil
	}
	out := map[string]any{"source": deref(r.ReadReplicaSourceDBInstanceIdentifier)}
	for _, si := range r.StatusInfos {
		if deref(si.StatusType) == "read replication" {
			out["status"] = deref(si.Status)
		}
	}
	if c := s.ctl.Load(); c != nil {
		if sample, ok := c.LastLag(key); ok {
			out["lagSeconds"] = sample.Lag.Seconds()
			out["measuredAt"] = sample.At.UTC().Format(time.RFC3339)
			if sample.Err != "" {
				out["lagError"] = sample.Err
			}
		}
	}
	return out
}
