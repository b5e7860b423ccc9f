package rds

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// DB cluster snapshots (records/clustersnapshot.go is the contract with the
// controller): a manual one is a copy of the cluster's writer's data, taken
// online by the controller as a DB snapshot is; the automated ones are the
// writer's automated backups, shown under the cluster's name.

func errClusterSnapshotNotFound(id string) error {
	return api.Errorf(http.StatusNotFound, "DBClusterSnapshotNotFoundFault", "DBClusterSnapshot %s not found.", id)
}

func errClusterSnapshotExists(id string) error {
	return api.Errorf(http.StatusBadRequest, "DBClusterSnapshotAlreadyExistsFault", "Cannot create the cluster snapshot because one with the identifier %s already exists.", id)
}

func errClusterSnapshotState(format string, args ...any) error {
	return api.Errorf(http.StatusBadRequest, "InvalidDBClusterSnapshotStateFault", format, args...)
}

// clusterSnapshotID resolves a cluster snapshot identifier or ARN in sc.
func clusterSnapshotID(sc state.Scope, raw string) string {
	if a, err := state.ParseARN(raw); err == nil && a.Service == "rds" && strings.HasPrefix(a.Resource, "cluster-snapshot:") &&
		a.Account == sc.Account && a.Region == sc.Region {
		return strings.ToLower(strings.TrimPrefix(a.Resource, "cluster-snapshot:"))
	}
	return strings.ToLower(raw)
}

// CreateDBClusterSnapshot records a manual snapshot of an available
// cluster's writer; the controller copies the writer's running server's
// data. The cluster stays available meanwhile, as on AWS.
func (s *Service) CreateDBClusterSnapshot(ctx context.Context, in *rdsapi.CreateDBClusterSnapshotMessage) (*rdsapi.CreateDBClusterSnapshotResult, error) {
	sc := scopeOf(ctx)
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	raw := deref(in.DBClusterSnapshotIdentifier)
	if !validSnapshotID(raw) {
		return nil, errBadSnapshotID("DBClusterSnapshotIdentifier")
	}
	id := strings.ToLower(raw)
	var out records.ClusterSnapshot
	err := s.store.Update(ctx, func(tx state.Tx) error {
		c, err := getCluster(tx, sc, deref(in.DBClusterIdentifier))
		if err != nil {
			return err
		}
		if _, found, err := records.ClusterSnapshots.Get(tx, sc, id); err != nil {
			return err
		} else if found {
			return errClusterSnapshotExists(id)
		}
		if st := deref(c.Status); st != "available" {
			return errClusterState("Cannot create a snapshot because the DB cluster %s is not currently in the available state (it is %s).", deref(c.DBClusterIdentifier), st)
		}
		if _, ok := s.engineFor(deref(c.Engine)).(engine.Backups); !ok {
			return errCombination("minicloud takes no snapshots of %s DB clusters.", deref(c.Engine))
		}
		w, found, err := records.Instances.Get(tx, sc, lookupID(c.Writer()))
		if err != nil {
			return err
		}
		if !found || !w.Initialized {
			return errClusterState("DB cluster %s has no writer with data yet: minicloud keeps a cluster's storage in its writer, so a cluster snapshot needs one.", deref(c.DBClusterIdentifier))
		}
		out = s.clusterSnapshotOf(tx, sc, &c, &w, id, in.Tags)
		return records.PutClusterSnapshot(tx, sc, id, out)
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.CreateDBClusterSnapshotResult{DBClusterSnapshot: &out.DBClusterSnapshot}, nil
}

// clusterSnapshotOf is a new manual snapshot record of cluster c, whose
// writer is w, in status creating.
func (s *Service) clusterSnapshotOf(tx state.Tx, sc state.Scope, c *records.Cluster, w *records.Instance, id string, tags []rdsapi.Tag) records.ClusterSnapshot {
	if tags == nil && deref(c.CopyTagsToSnapshot) {
		tags = slices.Clone(c.TagList)
	}
	if tags == nil {
		tags = []rdsapi.Tag{}
	}
	var vpc *string
	if v := s.clusterVPC(tx, sc, c); v != "" {
		vpc = ptr(v)
	}
	return records.ClusterSnapshot{
		DBClusterSnapshot: rdsapi.DBClusterSnapshot{
			AvailabilityZones:                slices.Clone(c.AvailabilityZones),
			DBClusterSnapshotIdentifier:      ptr(id),
			DBClusterIdentifier:              c.DBClusterIdentifier,
			Engine:                           c.Engine,
			EngineMode:                       c.EngineMode,
			AllocatedStorage:                 ptr(int32(0)),
			Status:                           ptr("creating"),
			Port:                             ptr(int32(0)),
			VpcId:                            vpc,
			ClusterCreateTime:                c.ClusterCreateTime,
			MasterUsername:                   c.MasterUsername,
			EngineVersion:                    c.EngineVersion,
			LicenseModel:                     w.LicenseModel,
			SnapshotType:                     ptr("manual"),
			PercentProgress:                  ptr(int32(0)),
			StorageEncrypted:                 c.StorageEncrypted,
			KmsKeyId:                         c.KmsKeyId,
			DBClusterSnapshotArn:             ptr(state.NewARN(sc, "rds", "cluster-snapshot:"+id).String()),
			IAMDatabaseAuthenticationEnabled: c.IAMDatabaseAuthenticationEnabled,
			TagList:                          tags,
			StorageType:                      c.StorageType,
			DbClusterResourceId:              c.DbClusterResourceId,
		},
		Password:       c.Password,
		DatabaseName:   deref(c.DatabaseName),
		Writer:         deref(w.DBInstanceIdentifier),
		WriterResource: deref(w.DbiResourceId),
	}
}

// automatedClusterSnapshot is a cluster's automated snapshot: one of its
// writer's automated backups, named as AWS names a cluster's
// (rds:<cluster>-YYYY-MM-DD-HH-MM).
type automatedClusterSnapshot struct {
	records.ClusterSnapshot
	// backup is the writer's automated backup (a records.Snapshot).
	backup string
}

// automatedClusterSnapshots lists every cluster's automated snapshots in
// sc, available ones only.
func automatedClusterSnapshots(tx state.Tx, sc state.Scope) ([]automatedClusterSnapshot, error) {
	writers := map[string]*records.Cluster{} // the writers' DbiResourceIds
	err := records.Clusters.ForEach(tx, sc, func(_ string, c records.Cluster) error {
		w, found, err := records.Instances.Get(tx, sc, lookupID(c.Writer()))
		if err != nil {
			return err
		}
		if found {
			writers[deref(w.DbiResourceId)] = &c
			return nil
		}
		// Without members, its volume's writer's backups.
		vol, found, err := volumeOf(tx, sc, &c)
		if found {
			writers[vol.FromResource] = &c
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	var out []automatedClusterSnapshot
	seen := map[string]bool{}
	err = records.Snapshots.ForEach(tx, sc, func(bid string, b records.Snapshot) error {
		c := writers[deref(b.DbiResourceId)]
		if c == nil || deref(b.SnapshotType) != "automated" || deref(b.Status) != "available" {
			return nil
		}
		// rds:<writer>-<time> becomes rds:<cluster>-<time>.
		when := strings.TrimPrefix(bid, "rds:"+deref(b.DBInstanceIdentifier)+"-")
		id := "rds:" + deref(c.DBClusterIdentifier) + "-" + when
		if seen[id] {
			return nil
		}
		seen[id] = true
		a := automatedClusterSnapshot{backup: bid, ClusterSnapshot: records.ClusterSnapshot{
			DBClusterSnapshot: rdsapi.DBClusterSnapshot{
				AvailabilityZones:                slices.Clone(c.AvailabilityZones),
				DBClusterSnapshotIdentifier:      ptr(id),
				DBClusterIdentifier:              c.DBClusterIdentifier,
				SnapshotCreateTime:               b.SnapshotCreateTime,
				Engine:                           c.Engine,
				EngineMode:                       c.EngineMode,
				AllocatedStorage:                 ptr(int32(0)),
				Status:                           ptr("available"),
				Port:                             ptr(int32(0)),
				VpcId:                            b.VpcId,
				ClusterCreateTime:                c.ClusterCreateTime,
				MasterUsername:                   c.MasterUsername,
				EngineVersion:                    c.EngineVersion,
				LicenseModel:                     b.LicenseModel,
				SnapshotType:                     ptr("automated"),
				PercentProgress:                  ptr(int32(100)),
				StorageEncrypted:                 c.StorageEncrypted,
				KmsKeyId:                         c.KmsKeyId,
				DBClusterSnapshotArn:             ptr(state.NewARN(sc, "rds", "cluster-snapshot:"+id).String()),
				IAMDatabaseAuthenticationEnabled: c.IAMDatabaseAuthenticationEnabled,
				TagList:                          []rdsapi.Tag{},
				StorageType:                      c.StorageType,
				DbClusterResourceId:              c.DbClusterResourceId,
			},
			Password:     b.Password,
			DatabaseName: deref(c.DatabaseName),
			BackupEnd:    b.BackupEnd,
		}}
		out = append(out, a)
		return nil
	})
	return out, err
}

// clusterSnapshotAny reads cluster snapshot id, manual or automated, with
// the automated backup behind an automated one ("" for a manual one).
func clusterSnapshotAny(tx state.Tx, sc state.Scope, id string) (snap records.ClusterSnapshot, backup string, found bool, err error) {
	if strings.HasPrefix(id, "rds:") {
		autos, err := automatedClusterSnapshots(tx, sc)
		if err != nil {
			return snap, "", false, err
		}
		for _, a := range autos {
			if deref(a.DBClusterSnapshotIdentifier) == id {
				return a.ClusterSnapshot, a.backup, true, nil
			}
		}
		return snap, "", false, nil
	}
	snap, found, err = records.ClusterSnapshots.Get(tx, sc, lookupID(id))
	if found && deref(snap.Status) == records.SnapshotDeleting {
		found = false
	}
	return snap, "", found, err
}

var clusterSnapshotFilters = []string{"db-cluster-id", "db-cluster-snapshot-id", "snapshot-type", "engine"}

// DescribeDBClusterSnapshots lists cluster snapshots, manual and automated
// unless SnapshotType says which, by identifier, cluster or filters.
func (s *Service) DescribeDBClusterSnapshots(ctx context.Context, in *rdsapi.DescribeDBClusterSnapshotsMessage) (*rdsapi.DBClusterSnapshotMessage, error) {
	sc := scopeOf(ctx)
	for _, f := range in.Filters {
		if !slices.Contains(clusterSnapshotFilters, deref(f.Name)) {
			return nil, errInvalidParam("Unrecognized filter name: %s", deref(f.Name))
		}
	}
	typ := deref(in.SnapshotType)
	switch typ {
	case "", "manual", "automated", "shared", "public", "awsbackup":
	default:
		return nil, errInvalidParam("Invalid snapshot type: %s", typ)
	}
	var all []rdsapi.DBClusterSnapshot
	err := s.store.View(ctx, func(tx state.Tx) error {
		match := func(r *rdsapi.DBClusterSnapshot) bool {
			if in.DBClusterIdentifier != nil && !strings.EqualFold(deref(r.DBClusterIdentifier), clusterIDOf(*in.DBClusterIdentifier)) {
				return false
			}
			if in.DbClusterResourceId != nil && deref(r.DbClusterResourceId) != *in.DbClusterResourceId {
				return false
			}
			if typ != "" && deref(r.SnapshotType) != typ {
				return false
			}
			return matchClusterSnapshotFilters(sc, in.Filters, r)
		}
		if in.DBClusterSnapshotIdentifier != nil {
			r, _, found, err := clusterSnapshotAny(tx, sc, clusterSnapshotID(sc, *in.DBClusterSnapshotIdentifier))
			if err != nil {
				return err
			}
			if !found {
				return errClusterSnapshotNotFound(*in.DBClusterSnapshotIdentifier)
			}
			if match(&r.DBClusterSnapshot) {
				all = append(all, r.DBClusterSnapshot)
			}
			return nil
		}
		err := records.ClusterSnapshots.ForEach(tx, sc, func(_ string, r records.ClusterSnapshot) error {
			if deref(r.Status) != records.SnapshotDeleting && match(&r.DBClusterSnapshot) {
				all = append(all, r.DBClusterSnapshot)
			}
			return nil
		})
		if err != nil {
			return err
		}
		autos, err := automatedClusterSnapshots(tx, sc)
		for _, a := range autos {
			if match(&a.DBClusterSnapshot) {
				all = append(all, a.DBClusterSnapshot)
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b rdsapi.DBClusterSnapshot) int {
		return strings.Compare(deref(a.DBClusterSnapshotIdentifier), deref(b.DBClusterSnapshotIdentifier))
	})
	page, next, err := state.Paginate(all, in.MaxRecords, deref(in.Marker), pageOpts, func(d rdsapi.DBClusterSnapshot) string { return deref(d.DBClusterSnapshotIdentifier) })
	if err != nil {
		return nil, err
	}
	out := &rdsapi.DBClusterSnapshotMessage{DBClusterSnapshots: page}
	if next != "" {
		out.Marker = ptr(next)
	}
	return out, nil
}

// clusterIDOf is the cluster identifier of raw, an identifier or ARN.
func clusterIDOf(raw string) string {
	if a, err := state.ParseARN(raw); err == nil {
		if typ, name, ok := strings.Cut(a.Resource, ":"); ok && typ == "cluster" {
			return strings.ToLower(name)
		}
	}
	return strings.ToLower(raw)
}

func matchClusterSnapshotFilters(sc state.Scope, fs []rdsapi.Filter, r *rdsapi.DBClusterSnapshot) bool {
	for _, f := range fs {
		var have []string
		switch deref(f.Name) {
		case "db-cluster-id":
			c := deref(r.DBClusterIdentifier)
			have = []string{c, state.NewARN(sc, "rds", "cluster:"+c).String()}
		case "db-cluster-snapshot-id":
			have = []string{deref(r.DBClusterSnapshotIdentifier), deref(r.DBClusterSnapshotArn)}
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

// DeleteDBClusterSnapshot deletes a manual cluster snapshot that is not
// being created; the controller removes its data.
func (s *Service) DeleteDBClusterSnapshot(ctx context.Context, in *rdsapi.DeleteDBClusterSnapshotMessage) (*rdsapi.DeleteDBClusterSnapshotResult, error) {
	sc := scopeOf(ctx)
	raw := deref(in.DBClusterSnapshotIdentifier)
	id := clusterSnapshotID(sc, raw)
	var out rdsapi.DBClusterSnapshot
	err := s.store.Update(ctx, func(tx state.Tx) error {
		r, backup, found, err := clusterSnapshotAny(tx, sc, id)
		if err != nil {
			return err
		}
		if !found {
			return errClusterSnapshotNotFound(raw)
		}
		if backup != "" {
			return errClusterSnapshotState("Only manual snapshots may be deleted.")
		}
		if st := deref(r.Status); st != "available" && st != "failed" {
			return errClusterSnapshotState("Cannot delete the cluster snapshot %s because it is in the %s state.", id, st)
		}
		// A restored cluster whose writer is not made yet still copies it.
		err = records.ClusterRestores.ForEach(tx, sc, func(_ string, rs records.ClusterRestore) error {
			if !rs.Done && rs.ClusterSnapshot == id {
				return errClusterSnapshotState("Cannot delete the cluster snapshot %s yet: a cluster restored from it has no writer with its data yet.", id)
			}
			return nil
		})
		if err != nil {
			return err
		}
		r.Status = ptr(records.SnapshotDeleting)
		out = r.DBClusterSnapshot
		out.Status = ptr("deleted")
		return records.ClusterSnapshots.Put(tx, sc, id, r)
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.DeleteDBClusterSnapshotResult{DBClusterSnapshot: &out}, nil
}

// CopyDBClusterSnapshot copies an available cluster snapshot, manual or
// automated, within the region into a new manual one with its own copy of
// the data.
func (s *Service) CopyDBClusterSnapshot(ctx context.Context, in *rdsapi.CopyDBClusterSnapshotMessage) (*rdsapi.CopyDBClusterSnapshotResult, error) {
	sc := scopeOf(ctx)
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	rawSrc := deref(in.SourceDBClusterSnapshotIdentifier)
	if a, err := state.ParseARN(rawSrc); err == nil && (a.Region != sc.Region || a.Account != sc.Account) {
		return nil, errInvalidParam("minicloud copies DB cluster snapshots within one account and region only: %s is in %s/%s.", rawSrc, a.Account, a.Region)
	}
	src := clusterSnapshotID(sc, rawSrc)
	rawDst := deref(in.TargetDBClusterSnapshotIdentifier)
	if !validSnapshotID(rawDst) {
		return nil, errBadSnapshotID("TargetDBClusterSnapshotIdentifier")
	}
	dst := strings.ToLower(rawDst)
	var out records.ClusterSnapshot
	err := s.store.Update(ctx, func(tx state.Tx) error {
		r, backup, found, err := clusterSnapshotAny(tx, sc, src)
		if err != nil {
			return err
		}
		if !found {
			return errClusterSnapshotNotFound(rawSrc)
		}
		if _, found, err := records.ClusterSnapshots.Get(tx, sc, dst); err != nil {
			return err
		} else if found {
			return errClusterSnapshotExists(dst)
		}
		if deref(r.Status) != "available" {
			return errClusterSnapshotState("Snapshot %s is not in available state.", src)
		}
		out = r
		out.DBClusterSnapshotIdentifier = ptr(dst)
		out.DBClusterSnapshotArn = ptr(state.NewARN(sc, "rds", "cluster-snapshot:"+dst).String())
		out.SourceDBClusterSnapshotArn = r.DBClusterSnapshotArn
		out.SnapshotType = ptr("manual")
		out.Status = ptr("creating")
		out.PercentProgress = ptr(int32(0))
		out.SnapshotCreateTime = nil
		out.SourceSnapshot, out.SourceBackup = src, backup
		if backup != "" {
			out.SourceSnapshot = ""
		}
		out.Writer, out.WriterResource, out.Error = "", "", ""
		out.TagList = copiedTags(in.Tags, in.CopyTags, r.TagList)
		if out.TagList == nil {
			out.TagList = []rdsapi.Tag{}
		}
		return records.ClusterSnapshots.Put(tx, sc, dst, out)
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.CopyDBClusterSnapshotResult{DBClusterSnapshot: &out.DBClusterSnapshot}, nil
}

// clusterSnapshotTags is the tag target of cluster snapshot id (name as
// given) for the tagging operations.
func clusterSnapshotTags(tx state.Tx, sc state.Scope, id, name string) (tagTarget, error) {
	r, found, err := records.ClusterSnapshots.Get(tx, sc, id)
	if err != nil || !found || deref(r.Status) == records.SnapshotDeleting {
		return tagTarget{}, orNotFound(err, errClusterSnapshotNotFound(name))
	}
	return tagTarget{tags: r.TagList, put: func(t []rdsapi.Tag) error {
		r.TagList = t
		return records.ClusterSnapshots.Put(tx, sc, id, r)
	}}, nil
}
