package rds

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// automatedBackupsARN is the ARN of an instance's automated backups,
// derived from its resource ID so that it stays the same after the
// instance is deleted.
func automatedBackupsARN(sc state.Scope, dbiResourceID string) string {
	return state.NewARN(sc, "rds", "auto-backup:ab-"+strings.ToLower(strings.TrimPrefix(dbiResourceID, "db-"))).String()
}

var automatedBackupFilters = []string{"status", "db-instance-id", "dbi-resource-id"}

// DescribeDBInstanceAutomatedBackups lists the automated backups of the
// instances that keep them (status active, or creating until the first is
// taken) and those kept after their instance was deleted
// (DeleteAutomatedBackups=false, status retained), with the window a
// point-in-time restore can reach.
func (s *Service) DescribeDBInstanceAutomatedBackups(ctx context.Context, in *rdsapi.DescribeDBInstanceAutomatedBackupsMessage) (*rdsapi.DBInstanceAutomatedBackupMessage, error) {
	sc := scopeOf(ctx)
	for _, f := range in.Filters {
		if !slices.Contains(automatedBackupFilters, deref(f.Name)) {
			return nil, errInvalidParam("Unrecognized filter name: %s", deref(f.Name))
		}
	}
	byResource := map[string][]records.Snapshot{}
	living := map[string]records.Instance{}
	err := s.store.View(ctx, func(tx state.Tx) error {
		err := records.Instances.ForEach(tx, sc, func(_ string, r records.Instance) error {
			living[deref(r.DbiResourceId)] = r
			return nil
		})
		if err != nil {
			return err
		}
		return records.Snapshots.ForEach(tx, sc, func(_ string, b records.Snapshot) error {
			if deref(b.SnapshotType) == "automated" && (deref(b.Status) == "available" || deref(b.Status) == "creating") {
				byResource[deref(b.DbiResourceId)] = append(byResource[deref(b.DbiResourceId)], b)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	var all []rdsapi.DBInstanceAutomatedBackup
	for res, r := range living {
		if deref(r.BackupRetentionPeriod) > 0 || len(byResource[res]) > 0 {
			all = append(all, s.automatedBackup(sc, res, &r, byResource[res]))
		}
	}
	for res, bs := range byResource {
		if _, ok := living[res]; !ok {
			all = append(all, s.automatedBackup(sc, res, nil, bs))
		}
	}
	var out []rdsapi.DBInstanceAutomatedBackup
	for _, a := range all {
		switch {
		case in.DBInstanceIdentifier != nil && !strings.EqualFold(deref(a.DBInstanceIdentifier), *in.DBInstanceIdentifier),
			in.DbiResourceId != nil && deref(a.DbiResourceId) != *in.DbiResourceId,
			in.DBInstanceAutomatedBackupsArn != nil && deref(a.DBInstanceAutomatedBackupsArn) != *in.DBInstanceAutomatedBackupsArn,
			!matchAutomatedFilters(in.Filters, &a):
			continue
		}
		out = append(out, a)
	}
	if len(out) == 0 && (in.DBInstanceIdentifier != nil || in.DbiResourceId != nil || in.DBInstanceAutomatedBackupsArn != nil) {
		return nil, api.Errorf(http.StatusNotFound, "DBInstanceAutomatedBackupNotFound", "No automated backup for this DB instance was found.")
	}
	slices.SortFunc(out, func(a, b rdsapi.DBInstanceAutomatedBackup) int {
		return strings.Compare(deref(a.DBInstanceAutomatedBackupsArn), deref(b.DBInstanceAutomatedBackupsArn))
	})
	page, next, err := state.Paginate(out, in.MaxRecords, deref(in.Marker), pageOpts, func(a rdsapi.DBInstanceAutomatedBackup) string { return deref(a.DBInstanceAutomatedBackupsArn) })
	if err != nil {
		return nil, err
	}
	res := &rdsapi.DBInstanceAutomatedBackupMessage{DBInstanceAutomatedBackups: page}
	if next != "" {
		res.Marker = ptr(next)
	}
	return res, nil
}

func matchAutomatedFilters(fs []rdsapi.Filter, a *rdsapi.DBInstanceAutomatedBackup) bool {
	for _, f := range fs {
		var have []string
		switch deref(f.Name) {
		case "status":
			have = []string{deref(a.Status)}
		case "db-instance-id":
			have = []string{deref(a.DBInstanceIdentifier), deref(a.DBInstanceArn)}
		case "dbi-resource-id":
			have = []string{deref(a.DbiResourceId)}
		}
		if !slices.ContainsFunc(f.Values, func(v string) bool { return slices.Contains(have, v) }) {
			return false
		}
	}
	return true
}

// automatedBackup describes the automated backups bs of resource res, whose
// instance is r (nil once deleted).
func (s *Service) automatedBackup(sc state.Scope, res string, r *records.Instance, bs []records.Snapshot) rdsapi.DBInstanceAutomatedBackup {
	var done []records.Snapshot
	for _, b := range bs {
		if deref(b.Status) == "available" && b.BackupEnd != nil {
			done = append(done, b)
		}
	}
	a := rdsapi.DBInstanceAutomatedBackup{
		DbiResourceId:                 ptr(res),
		Region:                        ptr(sc.Region),
		DBInstanceAutomatedBackupsArn: ptr(automatedBackupsARN(sc, res)),
		RestoreWindow:                 &rdsapi.RestoreWindow{},
		Encrypted:                     ptr(false),
		BackupTarget:                  ptr("region"),
		DedicatedLogVolume:            ptr(false),
		MultiTenant:                   ptr(false),
	}
	if r != nil {
		a.Status = ptr("active")
		if len(done) == 0 {
			a.Status = ptr("creating")
		} else if earliest, latest, ok := s.restoreWindow(sc, r, done); ok {
			a.RestoreWindow = &rdsapi.RestoreWindow{EarliestTime: ptr(earliest.Truncate(time.Millisecond)), LatestTime: ptr(latest.Truncate(time.Millisecond))}
		}
		snap := records.SnapshotOf(sc, r, "", "automated", nil)
		fillAutomated(&a, &snap)
		a.DBInstanceArn, a.BackupRetentionPeriod = r.DBInstanceArn, r.BackupRetentionPeriod
		return a
	}
	// Retained: the archive went with the instance, so the window is what
	// the base backups alone restore.
	a.Status = ptr("retained")
	newest := bs[0]
	for _, b := range bs {
		if b.BackupEnd != nil && (newest.BackupEnd == nil || b.BackupEnd.After(*newest.BackupEnd)) {
			newest = b
		}
	}
	if len(done) > 0 {
		earliest := *done[0].BackupEnd
		for _, b := range done {
			if b.BackupEnd.Before(earliest) {
				earliest = *b.BackupEnd
			}
		}
		a.RestoreWindow = &rdsapi.RestoreWindow{EarliestTime: ptr(earliest), LatestTime: ptr(records.NewestBackup(done))}
	}
	fillAutomated(&a, &newest)
	a.DBInstanceArn = ptr(state.NewARN(sc, "rds", "db:"+deref(newest.DBInstanceIdentifier)).String())
	a.BackupRetentionPeriod = ptr(newest.Retention)
	return a
}

func fillAutomated(a *rdsapi.DBInstanceAutomatedBackup, s *records.Snapshot) {
	a.DBInstanceIdentifier = s.DBInstanceIdentifier
	a.AllocatedStorage = s.AllocatedStorage
	a.Port = s.Port
	a.AvailabilityZone = s.AvailabilityZone
	a.VpcId = s.VpcId
	a.InstanceCreateTime = s.InstanceCreateTime
	a.MasterUsername = s.MasterUsername
	a.Engine = s.Engine
	a.EngineVersion = s.EngineVersion
	a.LicenseModel = s.LicenseModel
	a.Iops = s.Iops
	a.OptionGroupName = s.OptionGroupName
	a.StorageType = s.StorageType
	a.IAMDatabaseAuthenticationEnabled = s.IAMDatabaseAuthenticationEnabled
}
