package rds

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

func errSnapshotNotFound(id string) error {
	return api.Errorf(http.StatusNotFound, "DBSnapshotNotFound", "DBSnapshot %s not found.", id)
}

func errSnapshotExists(id string) error {
	return api.Errorf(http.StatusBadRequest, "DBSnapshotAlreadyExists", "Cannot create the snapshot because a snapshot with the identifier %s already exists.", id)
}

func errSnapshotState(format string, args ...any) error {
	return api.Errorf(http.StatusBadRequest, "InvalidDBSnapshotState", format, args...)
}

// validSnapshotID: 1 to 255 letters, digits or hyphens, a letter first, no
// two consecutive hyphens and no hyphen last.
func validSnapshotID(id string) bool {
	if id == "" || len(id) > 255 || strings.Contains(id, "--") || strings.HasSuffix(id, "-") {
		return false
	}
	for i, c := range id {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if i == 0 && !letter || !letter && !(c >= '0' && c <= '9') && c != '-' {
			return false
		}
	}
	return true
}

func errBadSnapshotID(param string) error {
	return errInvalidParam("The parameter %s is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.", param)
}

// snapshotID resolves a snapshot identifier or ARN in scope sc.
func snapshotID(sc state.Scope, raw string) string {
	if a, err := state.ParseARN(raw); err == nil && a.Service == "rds" && strings.HasPrefix(a.Resource, "snapshot:") {
		if a.Account == sc.Account && a.Region == sc.Region {
			return strings.ToLower(strings.TrimPrefix(a.Resource, "snapshot:"))
		}
	}
	return strings.ToLower(raw)
}

// CreateDBSnapshot records a manual snapshot of an available instance; the
// controller copies the running server's data (backup.go) while the
// instance shows backing-up.
func (s *Service) CreateDBSnapshot(ctx context.Context, in *rdsapi.CreateDBSnapshotMessage) (*rdsapi.CreateDBSnapshotResult, error) {
	sc := scopeOf(ctx)
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	raw := deref(in.DBSnapshotIdentifier)
	if !validSnapshotID(raw) {
		return nil, errBadSnapshotID("DBSnapshotIdentifier")
	}
	id := strings.ToLower(raw)
	dbID := strings.ToLower(deref(in.DBInstanceIdentifier))
	var out records.Snapshot
	err := s.store.Update(ctx, func(tx state.Tx) error {
		r, found, err := records.Instances.Get(tx, sc, lookupID(dbID))
		if err != nil {
			return err
		}
		if !found {
			return errInstanceNotFound(deref(in.DBInstanceIdentifier))
		}
		if r.IsMember() {
			return errInvalidParam("The specified instance is a member of a cluster and a snapshot cannot be created directly. Please use the CreateDBClusterSnapshot API instead.")
		}
		if _, found, err := records.Snapshots.Get(tx, sc, id); err != nil {
			return err
		} else if found {
			return errSnapshotExists(id)
		}
		if st := deref(r.DBInstanceStatus); st != "available" {
			return errInstanceState("Cannot create a snapshot because the database instance %s is not currently in the available state.", dbID)
		}
		if err := s.errNoBackups(&r); err != nil {
			return err
		}
		out = records.SnapshotOf(sc, &r, id, "manual", in.Tags)
		r.DBInstanceStatus = ptr("backing-up")
		if err := records.PutInstance(tx, sc, dbID, r); err != nil {
			return err
		}
		return records.PutSnapshot(tx, sc, id, out)
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.CreateDBSnapshotResult{DBSnapshot: &out.DBSnapshot}, nil
}

var snapshotFilters = []string{"db-instance-id", "db-snapshot-id", "dbi-resource-id", "snapshot-type", "engine"}

// DescribeDBSnapshots lists snapshots by identifier, instance, type or
// filters.
func (s *Service) DescribeDBSnapshots(ctx context.Context, in *rdsapi.DescribeDBSnapshotsMessage) (*rdsapi.DBSnapshotMessage, error) {
	sc := scopeOf(ctx)
	for _, f := range in.Filters {
		if !slices.Contains(snapshotFilters, deref(f.Name)) {
			return nil, errInvalidParam("Unrecognized filter name: %s", deref(f.Name))
		}
	}
	typ := deref(in.SnapshotType)
	switch typ {
	case "", "manual", "automated", "shared", "public", "awsbackup":
	default:
		return nil, errInvalidParam("Invalid snapshot type: %s", typ)
	}
	var all []rdsapi.DBSnapshot
	err := s.store.View(ctx, func(tx state.Tx) error {
		match := func(r *records.Snapshot) bool {
			if deref(r.Status) == records.SnapshotDeleting {
				return false
			}
			if in.DBInstanceIdentifier != nil && !strings.EqualFold(deref(r.DBInstanceIdentifier), *in.DBInstanceIdentifier) {
				return false
			}
			if in.DbiResourceId != nil && deref(r.DbiResourceId) != *in.DbiResourceId {
				return false
			}
			if typ != "" && deref(r.SnapshotType) != typ {
				return false
			}
			return matchSnapshotFilters(sc, in.Filters, r)
		}
		if in.DBSnapshotIdentifier != nil {
			r, found, err := records.Snapshots.Get(tx, sc, lookupID(snapshotID(sc, *in.DBSnapshotIdentifier)))
			if err != nil {
				return err
			}
			if !found || deref(r.Status) == records.SnapshotDeleting {
				return errSnapshotNotFound(*in.DBSnapshotIdentifier)
			}
			if match(&r) {
				all = append(all, r.DBSnapshot)
			}
			return nil
		}
		return records.Snapshots.ForEach(tx, sc, func(_ string, r records.Snapshot) error {
			if match(&r) {
				all = append(all, r.DBSnapshot)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	page, next, err := state.Paginate(all, in.MaxRecords, deref(in.Marker), pageOpts, func(d rdsapi.DBSnapshot) string { return deref(d.DBSnapshotIdentifier) })
	if err != nil {
		return nil, err
	}
	out := &rdsapi.DBSnapshotMessage{DBSnapshots: page}
	if next != "" {
		out.Marker = ptr(next)
	}
	return out, nil
}

func matchSnapshotFilters(sc state.Scope, fs []rdsapi.Filter, r *records.Snapshot) bool {
	for _, f := range fs {
		var have []string
		switch deref(f.Name) {
		case "db-instance-id":
			db := deref(r.DBInstanceIdentifier)
			have = []string{db, state.NewARN(sc, "rds", "db:"+db).String()}
		case "db-snapshot-id":
			have = []string{deref(r.DBSnapshotIdentifier), deref(r.DBSnapshotArn)}
		case "dbi-resource-id":
			have = []string{deref(r.DbiResourceId)}
		case "snapshot-type":
			have = []string{deref(r.SnapshotType)}
		case "engine":
			have = []string{deref(r.Engine)}
		}
		if !slices.ContainsFunc(f.Values, func(v string) bool { return slices.Contains(have, v) }) {
			return false
		}
	}
	return true
}

// DeleteDBSnapshot deletes a manual snapshot that is not being created;
// the controller removes its data.
func (s *Service) DeleteDBSnapshot(ctx context.Context, in *rdsapi.DeleteDBSnapshotMessage) (*rdsapi.DeleteDBSnapshotResult, error) {
	sc := scopeOf(ctx)
	raw := deref(in.DBSnapshotIdentifier)
	id := snapshotID(sc, raw)
	var out rdsapi.DBSnapshot
	err := s.store.Update(ctx, func(tx state.Tx) error {
		r, found, err := records.Snapshots.Get(tx, sc, lookupID(id))
		if err != nil {
			return err
		}
		if !found || deref(r.Status) == records.SnapshotDeleting {
			return errSnapshotNotFound(raw)
		}
		if deref(r.SnapshotType) == "automated" {
			return errSnapshotState("Only manual snapshots may be deleted.")
		}
		if st := deref(r.Status); st != "available" && st != "failed" {
			return errSnapshotState("Cannot delete the snapshot %s because it is in the %s state.", id, st)
		}
		r.Status = ptr(records.SnapshotDeleting)
		out = r.DBSnapshot
		out.Status = ptr("deleted")
		return records.Snapshots.Put(tx, sc, id, r)
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.DeleteDBSnapshotResult{DBSnapshot: &out}, nil
}

// CopyDBSnapshot copies an available snapshot within the region into a new
// manual snapshot with its own copy of the data.
func (s *Service) CopyDBSnapshot(ctx context.Context, in *rdsapi.CopyDBSnapshotMessage) (*rdsapi.CopyDBSnapshotResult, error) {
	sc := scopeOf(ctx)
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	rawSrc := deref(in.SourceDBSnapshotIdentifier)
	if a, err := state.ParseARN(rawSrc); err == nil && (a.Region != sc.Region || a.Account != sc.Account) {
		return nil, errInvalidParam("minicloud copies DB snapshots within one account and region only: %s is in %s/%s.", rawSrc, a.Account, a.Region)
	}
	src := snapshotID(sc, rawSrc)
	rawDst := deref(in.TargetDBSnapshotIdentifier)
	if !validSnapshotID(rawDst) {
		return nil, errBadSnapshotID("TargetDBSnapshotIdentifier")
	}
	dst := strings.ToLower(rawDst)
	var out records.Snapshot
	err := s.store.Update(ctx, func(tx state.Tx) error {
		r, found, err := records.Snapshots.Get(tx, sc, lookupID(src))
		if err != nil {
			return err
		}
		if !found || deref(r.Status) == records.SnapshotDeleting {
			return errSnapshotNotFound(rawSrc)
		}
		if _, found, err := records.Snapshots.Get(tx, sc, dst); err != nil {
			return err
		} else if found {
			return errSnapshotExists(dst)
		}
		if deref(r.Status) != "available" {
			return errSnapshotState("Snapshot %s is not in available state.", src)
		}
		out = r
		out.DBSnapshotIdentifier = ptr(dst)
		out.DBSnapshotArn = ptr(state.NewARN(sc, "rds", "snapshot:"+dst).String())
		out.SnapshotType = ptr("manual")
		out.Status = ptr("creating")
		out.PercentProgress = ptr(int32(0))
		out.OriginalSnapshotCreateTime = records.FirstTime(r.OriginalSnapshotCreateTime)
		out.SnapshotCreateTime = nil
		out.SourceSnapshot = src
		out.Error = ""
		out.TagList = copiedTags(in.Tags, in.CopyTags, r.TagList)
		return records.Snapshots.Put(tx, sc, dst, out)
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.CopyDBSnapshotResult{DBSnapshot: &out.DBSnapshot}, nil
}

// copiedTags are a snapshot copy's tags: those asked for, else with
// CopyTags the source's, else none.
func copiedTags(tags []rdsapi.Tag, copyTags *bool, source []rdsapi.Tag) []rdsapi.Tag {
	switch {
	case len(tags) > 0:
		return tags
	case deref(copyTags):
		return slices.Clone(source)
	}
	return nil
}

// restore is where a restored instance's data comes from, for
// createInstance: its source, and the snapshot the request was made from
// before the write transaction, which the transaction confirms unchanged
// (sgcheck.go), so that a restore is checked, defaulted and recorded
// exactly as a create, from what is stored when it is written.
type restore struct {
	from records.RestoreSource
	// snapshot is the snapshot or automated backup copied, as read.
	snapshot records.Snapshot
	// resource is, for a point-in-time restore, the DbiResourceId of the
	// instance whose logs are replayed (from.ArchiveOf).
	resource string
}

// source is the new record's Restore: nil for a new, empty instance.
func (r *restore) source() *records.RestoreSource {
	if r == nil {
		return nil
	}
	src := r.from
	return &src
}

// confirm fails with errChanged unless the snapshot, and the instance whose
// logs a point-in-time restore replays, are as the restore read them.
func (r *restore) confirm(tx state.Tx, sc state.Scope) error {
	if r == nil {
		return nil
	}
	snap, found, err := records.Snapshots.Get(tx, sc, r.from.Snapshot)
	if err != nil {
		return err
	}
	if !found || !sameJSON(snap, r.snapshot) {
		return errChanged
	}
	if r.from.ArchiveOf == "" {
		return nil
	}
	src, found, err := records.Instances.Get(tx, sc, r.from.ArchiveOf)
	if err != nil {
		return err
	}
	if !found || deref(src.DbiResourceId) != r.resource {
		return errChanged
	}
	return nil
}

// sameJSON reports whether two records are stored alike.
func sameJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

// lookupID is an identifier to look up: the store refuses an empty key, and
// an empty identifier names nothing ("-" never is an identifier).
func lookupID(id string) string {
	if id == "" {
		return "-"
	}
	return id
}

// RestoreDBInstanceFromDBSnapshot creates an instance whose data is the
// snapshot's: engine, version, master user and password, database name and
// storage come from the snapshot; the rest from the request, as for
// CreateDBInstance, which checks and records it (createInstance).
func (s *Service) RestoreDBInstanceFromDBSnapshot(ctx context.Context, in *rdsapi.RestoreDBInstanceFromDBSnapshotMessage) (*rdsapi.RestoreDBInstanceFromDBSnapshotResult, error) {
	sc := scopeOf(ctx)
	if in.DBClusterSnapshotIdentifier != nil {
		return nil, errCombination("minicloud restores DB instances from DB snapshots only, not from DB cluster snapshots.")
	}
	raw := deref(in.DBSnapshotIdentifier)
	id := snapshotID(sc, raw)
	db, err := retryChanged(ctx, func() (*rdsapi.DBInstance, error) {
		snap, err := s.availableSnapshot(ctx, sc, raw, id)
		if err != nil {
			return nil, err
		}
		if e := deref(in.Engine); e != "" && !strings.EqualFold(e, deref(snap.Engine)) {
			return nil, errCombination("Cannot restore a %s snapshot as engine %s.", deref(snap.Engine), e)
		}
		create := restoreCreate(&snap, in.DBInstanceIdentifier, in.DBInstanceClass, in.Port, in.AvailabilityZone, in.DBSubnetGroupName,
			in.PubliclyAccessible, in.VpcSecurityGroupIds, in.Tags, in.StorageType, in.AllocatedStorage, in.DeletionProtection, in.CopyTagsToSnapshot)
		create.DBParameterGroupName = in.DBParameterGroupName
		if in.DBName != nil {
			create.DBName = in.DBName
		}
		return s.createInstance(ctx, create, &restore{from: records.RestoreSource{Snapshot: id}, snapshot: snap})
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.RestoreDBInstanceFromDBSnapshotResult{DBInstance: db}, nil
}

// availableSnapshot reads snapshot id (raw as given), which a restore
// needs available.
func (s *Service) availableSnapshot(ctx context.Context, sc state.Scope, raw, id string) (records.Snapshot, error) {
	var snap records.Snapshot
	err := s.store.View(ctx, func(tx state.Tx) error {
		r, found, err := records.Snapshots.Get(tx, sc, lookupID(id))
		if err != nil {
			return err
		}
		if !found || deref(r.Status) == records.SnapshotDeleting {
			return errSnapshotNotFound(raw)
		}
		if deref(r.Status) != "available" {
			return errSnapshotState("Snapshot %s is not in available state.", id)
		}
		snap = r
		return nil
	})
	return snap, err
}

// restoreCreate is the CreateDBInstance request a restore amounts to.
func restoreCreate(snap *records.Snapshot, id, class *string, port *int32, az, subnets *string, public *bool, sgs []string, tags []rdsapi.Tag, storageType *string, storage *int32, protect, copyTags *bool) *rdsapi.CreateDBInstanceMessage {
	in := &rdsapi.CreateDBInstanceMessage{
		DBInstanceIdentifier: id,
		DBInstanceClass:      ptr(orDefault(class, orDefault(&snap.DBInstanceClass, "db.t3.micro"))),
		Engine:               snap.Engine,
		EngineVersion:        snap.EngineVersion,
		AllocatedStorage:     snap.AllocatedStorage,
		StorageType:          snap.StorageType,
		MasterUsername:       snap.MasterUsername,
		MasterUserPassword:   ptr(snap.Password),
		Port:                 snap.Port,
		AvailabilityZone:     az,
		DBSubnetGroupName:    subnets,
		PubliclyAccessible:   public,
		VpcSecurityGroupIds:  sgs,
		Tags:                 tags,
		DeletionProtection:   protect,
		CopyTagsToSnapshot:   copyTags,
	}
	if snap.DBName != "" {
		in.DBName = ptr(snap.DBName)
	}
	if port != nil {
		in.Port = port
	}
	if storageType != nil {
		in.StorageType = storageType
	}
	if storage != nil {
		in.AllocatedStorage = storage
	}
	return in
}

// RestoreDBInstanceToPointInTime creates an instance with the source's data
// as of RestoreTime (or its latest restorable time): its newest automated
// backup from before that time plus its archived WAL up to it.
//
// The request is checked on its own (pointInTimeCheck), then against the
// source and its automated backups (pointInTimePlan), which make the
// CreateDBInstance request that createInstance checks and records.
func (s *Service) RestoreDBInstanceToPointInTime(ctx context.Context, in *rdsapi.RestoreDBInstanceToPointInTimeMessage) (*rdsapi.RestoreDBInstanceToPointInTimeResult, error) {
	sc := scopeOf(ctx)
	if err := pointInTimeCheck(in); err != nil {
		return nil, err
	}
	db, err := retryChanged(ctx, func() (*rdsapi.DBInstance, error) {
		snap, from, err := s.pointInTimePlan(ctx, sc, in)
		if err != nil {
			return nil, err
		}
		create := restoreCreate(&snap, in.TargetDBInstanceIdentifier, in.DBInstanceClass, in.Port, in.AvailabilityZone, in.DBSubnetGroupName,
			in.PubliclyAccessible, in.VpcSecurityGroupIds, in.Tags, in.StorageType, in.AllocatedStorage, in.DeletionProtection, in.CopyTagsToSnapshot)
		create.DBParameterGroupName = in.DBParameterGroupName
		if in.DBName != nil {
			create.DBName = in.DBName
		}
		return s.createInstance(ctx, create, from)
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.RestoreDBInstanceToPointInTimeResult{DBInstance: db}, nil
}

// pointInTimeCheck checks a RestoreDBInstanceToPointInTime request without
// reading the store.
func pointInTimeCheck(in *rdsapi.RestoreDBInstanceToPointInTimeMessage) error {
	if in.SourceDbiResourceId != nil || in.SourceDBInstanceAutomatedBackupsArn != nil {
		return errCombination("minicloud restores from a SourceDBInstanceIdentifier only.")
	}
	switch latest := deref(in.UseLatestRestorableTime); {
	case latest && in.RestoreTime != nil:
		return errCombination("Cannot specify both RestoreTime and UseLatestRestorableTime.")
	case !latest && in.RestoreTime == nil:
		return errCombination("Either RestoreTime or UseLatestRestorableTime must be specified.")
	}
	return nil
}

// pointInTimePlan plans a point-in-time restore against the source and
// its automated backups, in AWS's order: the snapshot it amounts to (the
// newest automated backup before the target, with the source's password
// then, class and port) and where its data comes from.
func (s *Service) pointInTimePlan(ctx context.Context, sc state.Scope, in *rdsapi.RestoreDBInstanceToPointInTimeMessage) (records.Snapshot, *restore, error) {
	rawSrc := deref(in.SourceDBInstanceIdentifier)
	srcID := strings.ToLower(rawSrc)
	src, backups, err := s.pointInTimeSource(ctx, sc, rawSrc)
	if err != nil {
		return records.Snapshot{}, nil, err
	}
	if err := s.errNoBackups(&src); err != nil {
		return records.Snapshot{}, nil, err
	}
	pit, ok := s.engineFor(deref(src.Engine)).(engine.PointInTime)
	if !ok {
		return records.Snapshot{}, nil, errCombination("minicloud restores %s DB instances to a point in time only; %s is a %s DB instance.",
			s.engines.Names(engine.Is[engine.PointInTime]), srcID, deref(src.Engine))
	}
	if deref(src.BackupRetentionPeriod) == 0 {
		return records.Snapshot{}, nil, api.Errorf(http.StatusBadRequest, "PointInTimeRestoreNotEnabled", "Point-in-time restore is not enabled for DB instance %s: its BackupRetentionPeriod is 0.", srcID)
	}
	target, base, err := s.pointInTimeBase(sc, in, srcID, &src, backups)
	if err != nil {
		return records.Snapshot{}, nil, err
	}
	snap := *base
	// The restored data has the password in effect at the target time.
	snap.Password = src.PasswordAt(target)
	snap.DBInstanceClass = deref(src.DBInstanceClass)
	if src.Endpoint != nil && src.Endpoint.Port != nil {
		snap.Port = src.Endpoint.Port
	}
	// UseLatestRestorableTime is the latest restorable time when asked,
	// not whatever the archive holds once the restore runs.
	from := &restore{from: records.RestoreSource{Snapshot: deref(base.DBSnapshotIdentifier), ArchiveOf: srcID, Target: &target},
		snapshot: *base, resource: deref(src.DbiResourceId)}
	if from.from.PITR, err = s.replaysLogs(sc, pit, base, target); err != nil {
		return records.Snapshot{}, nil, err
	}
	return snap, from, nil
}

// pointInTimeSource reads the source instance of a point-in-time restore
// (rawSrc as given) and its available automated backups.
func (s *Service) pointInTimeSource(ctx context.Context, sc state.Scope, rawSrc string) (src records.Instance, backups []records.Snapshot, err error) {
	err = s.store.View(ctx, func(tx state.Tx) error {
		r, found, err := records.Instances.Get(tx, sc, lookupID(strings.ToLower(rawSrc)))
		if err != nil {
			return err
		}
		if !found {
			return errInstanceNotFound(rawSrc)
		}
		src = r
		return records.Snapshots.ForEach(tx, sc, func(_ string, b records.Snapshot) error {
			if deref(b.SnapshotType) == "automated" && deref(b.Status) == "available" && deref(b.DbiResourceId) == deref(r.DbiResourceId) && b.BackupEnd != nil {
				backups = append(backups, b)
			}
			return nil
		})
	})
	return src, backups, err
}

// pointInTimeBase is a point-in-time restore's target time and the
// automated backup it starts from: the newest that was consistent by then.
func (s *Service) pointInTimeBase(sc state.Scope, in *rdsapi.RestoreDBInstanceToPointInTimeMessage, srcID string, src *records.Instance, backups []records.Snapshot) (time.Time, *records.Snapshot, error) {
	earliest, latest, ok := s.restoreWindow(sc, src, backups)
	if !ok {
		return time.Time{}, nil, api.Errorf(http.StatusBadRequest, "InvalidRestoreFault", "DB instance %s has no automated backup to restore from yet.", srcID)
	}
	target := latest
	if !deref(in.UseLatestRestorableTime) {
		target = in.RestoreTime.UTC()
		if target.Before(earliest) || target.After(latest) {
			return time.Time{}, nil, api.Errorf(http.StatusBadRequest, "InvalidRestoreFault", "The restore time %s is outside the restorable window of DB instance %s: %s to %s.",
				target.Format(time.RFC3339), srcID, earliest.Format(time.RFC3339), latest.Format(time.RFC3339))
		}
	}
	var base *records.Snapshot
	for i := range backups {
		b := &backups[i]
		if !b.BackupEnd.After(target) && (base == nil || b.BackupEnd.After(*base.BackupEnd)) {
			base = b
		}
	}
	if base == nil {
		return time.Time{}, nil, api.Errorf(http.StatusBadRequest, "InvalidRestoreFault", "No automated backup of DB instance %s is older than %s.", srcID, target.Format(time.RFC3339))
	}
	return target, base, nil
}

// restoreWindow is the span a point-in-time restore of instance r can
// reach: from its oldest automated backup to the last write to its logs.
func (s *Service) restoreWindow(sc state.Scope, r *records.Instance, backups []records.Snapshot) (earliest, latest time.Time, ok bool) {
	if len(backups) == 0 {
		return earliest, latest, false
	}
	earliest = *backups[0].BackupEnd
	for _, b := range backups {
		if b.BackupEnd.Before(earliest) {
			earliest = *b.BackupEnd
		}
	}
	latest = records.NewestBackup(backups)
	if t, ok := s.latestLogged(sc, &r.DBInstance); ok && t.After(latest) {
		latest = t
	}
	return earliest, latest, true
}

// latestLogged is the last write to the logs of instance r (its engine's
// PointInTime.LatestLogged).
func (s *Service) latestLogged(sc state.Scope, r *rdsapi.DBInstance) (time.Time, bool) {
	pit, ok := s.engineFor(deref(r.Engine)).(engine.PointInTime)
	if !ok {
		return time.Time{}, false
	}
	dir, err := s.dirs.Instance(sc, deref(r.DBInstanceIdentifier))
	if err != nil {
		return time.Time{}, false
	}
	return pit.LatestLogged(dir)
}

// replaysLogs reports whether a point-in-time restore from automated
// backup base to target replays the logs; AWS's InvalidRestoreFault when
// base cannot be brought forward to target.
func (s *Service) replaysLogs(sc state.Scope, pit engine.PointInTime, base *records.Snapshot, target time.Time) (bool, error) {
	dir, err := s.dirs.Snapshot(sc, deref(base.DBSnapshotIdentifier))
	if err != nil {
		return false, err
	}
	replay, err := pit.Replays(dir, base.BackupEnd, target)
	if err != nil {
		return false, api.Errorf(http.StatusBadRequest, "InvalidRestoreFault", "Automated backup %s cannot be brought forward to %s: %v.",
			deref(base.DBSnapshotIdentifier), target.Format(time.RFC3339), err)
	}
	return replay, nil
}

// latestRestorable sets LatestRestorableTime on the instances that have an
// automated backup: the newer of that backup's end and the newest archived
// WAL.
func (s *Service) latestRestorable(ctx context.Context, sc state.Scope, dbs []rdsapi.DBInstance) {
	backups := map[string][]records.Snapshot{}
	_ = s.store.View(ctx, func(tx state.Tx) error {
		return records.Snapshots.ForEach(tx, sc, func(_ string, b records.Snapshot) error {
			if deref(b.SnapshotType) == "automated" && deref(b.Status) == "available" && b.BackupEnd != nil {
				backups[deref(b.DbiResourceId)] = append(backups[deref(b.DbiResourceId)], b)
			}
			return nil
		})
	})
	for i := range dbs {
		bs := backups[deref(dbs[i].DbiResourceId)]
		if deref(dbs[i].BackupRetentionPeriod) == 0 || len(bs) == 0 {
			continue
		}
		t := records.NewestBackup(bs)
		if a, ok := s.latestLogged(sc, &dbs[i]); ok && a.After(t) {
			t = a
		}
		t = t.Truncate(time.Millisecond)
		dbs[i].LatestRestorableTime = &t
	}
}

// checkNewSnapshot fails with DBSnapshotAlreadyExists if snapshot id exists.
func (s *Service) checkNewSnapshot(ctx context.Context, id string) error {
	sc := scopeOf(ctx)
	return s.store.View(ctx, func(tx state.Tx) error {
		if _, found, err := records.Snapshots.Get(tx, sc, id); err != nil {
			return err
		} else if found {
			return errSnapshotExists(id)
		}
		return nil
	})
}

// stopWithSnapshot is StopDBInstance with DBSnapshotIdentifier: the
// snapshot is taken from the running server before it stops.
func (s *Service) stopWithSnapshot(ctx context.Context, in *rdsapi.StopDBInstanceMessage) (*rdsapi.StopDBInstanceResult, error) {
	sc := scopeOf(ctx)
	raw := deref(in.DBSnapshotIdentifier)
	if !validSnapshotID(raw) {
		return nil, errBadSnapshotID("DBSnapshotIdentifier")
	}
	id := strings.ToLower(raw)
	dbID := strings.ToLower(deref(in.DBInstanceIdentifier))
	var out *rdsapi.DBInstance
	err := s.store.Update(ctx, func(tx state.Tx) error {
		r, found, err := records.Instances.Get(tx, sc, lookupID(dbID))
		if err != nil {
			return err
		}
		if !found {
			return errInstanceNotFound(deref(in.DBInstanceIdentifier))
		}
		if deref(r.DBInstanceStatus) != "available" {
			return errInstanceState("Instance %s is not in available state.", dbID)
		}
		if err := s.errNoBackups(&r); err != nil {
			return err
		}
		if _, found, err := records.Snapshots.Get(tx, sc, id); err != nil {
			return err
		} else if found {
			return errSnapshotExists(id)
		}
		if err := records.Snapshots.Put(tx, sc, id, records.SnapshotOf(sc, &r, id, "manual", nil)); err != nil {
			return err
		}
		r.DBInstanceStatus = ptr("stopping")
		out = show(&r)
		return records.Instances.Put(tx, sc, dbID, r)
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.StopDBInstanceResult{DBInstance: out}, nil
}
