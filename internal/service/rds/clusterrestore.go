package rds

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// Restored DB clusters: RestoreDBClusterFromSnapshot and
// RestoreDBClusterToPointInTime (a full copy, or a clone with RestoreType
// copy-on-write). As on AWS the new cluster has no members: its first DB
// instance (CreateDBInstance with DBClusterIdentifier) is its writer, whose
// data the controller makes from the cluster's records.ClusterRestore
// instead of an empty database; its readers clone the writer as in any
// cluster.
//
// The cluster itself is made by CreateDBCluster from what the source gives
// (engine, version, master user and password, database name) and the
// request; its restore record is written right after it, before the
// answer, so no member can be created before it.

// RestoreDBClusterFromSnapshot creates a cluster whose data starts as the
// cluster snapshot's (manual or automated).
func (s *Service) RestoreDBClusterFromSnapshot(ctx context.Context, in *rdsapi.RestoreDBClusterFromSnapshotMessage) (*rdsapi.RestoreDBClusterFromSnapshotResult, error) {
	sc := scopeOf(ctx)
	raw := deref(in.SnapshotIdentifier)
	if a, err := state.ParseARN(raw); err == nil && strings.HasPrefix(a.Resource, "snapshot:") {
		return nil, errCombination("minicloud restores DB clusters from DB cluster snapshots only, not from DB snapshots (%s).", raw)
	}
	id := clusterSnapshotID(sc, raw)
	var (
		snap   records.ClusterSnapshot
		backup string
	)
	err := s.store.View(ctx, func(tx state.Tx) error {
		var found bool
		var err error
		snap, backup, found, err = clusterSnapshotAny(tx, sc, id)
		if err != nil {
			return err
		}
		if !found {
			return errClusterSnapshotNotFound(raw)
		}
		if deref(snap.Status) != "available" {
			return errClusterSnapshotState("Cluster snapshot %s is not in available state.", id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if e := deref(in.Engine); !strings.EqualFold(e, deref(snap.Engine)) {
		return nil, errCombination("Cannot restore a %s cluster snapshot as engine %s.", deref(snap.Engine), e)
	}
	if v := deref(in.EngineVersion); v != "" && v != deref(snap.EngineVersion) {
		return nil, errCombination("minicloud restores a cluster snapshot at its own engine version %s, not %s.", deref(snap.EngineVersion), v)
	}
	create, err := restoreCreateCluster(in)
	if err != nil {
		return nil, err
	}
	create.Engine, create.EngineVersion, create.StorageEncrypted = snap.Engine, snap.EngineVersion, snap.StorageEncrypted
	create.MasterUsername, create.MasterUserPassword = snap.MasterUsername, ptr(snap.Password)
	if create.DatabaseName == nil && snap.DatabaseName != "" {
		create.DatabaseName = ptr(snap.DatabaseName)
	}
	if in.BacktrackWindow != nil || in.ScalingConfiguration != nil || in.Domain != nil {
		return nil, errCombination("minicloud does not restore DB clusters with BacktrackWindow, ScalingConfiguration or Domain.")
	}
	from := records.ClusterRestore{ClusterSnapshot: id}
	if backup != "" {
		from = records.ClusterRestore{Backup: backup}
	}
	c, err := s.createRestoredCluster(ctx, create, from)
	if err != nil {
		return nil, err
	}
	return &rdsapi.RestoreDBClusterFromSnapshotResult{DBCluster: c}, nil
}

// restoreCreateCluster is the CreateDBCluster request a restore request in
// amounts to, before what its source gives (engine, version, master user
// and password, database, encryption): the restore requests name what they
// share with CreateDBCluster as it does, so the fields are carried over by
// name.
func restoreCreateCluster(in any) (*rdsapi.CreateDBClusterMessage, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("restore request: %w", err)
	}
	var create rdsapi.CreateDBClusterMessage
	if err := json.Unmarshal(b, &create); err != nil {
		return nil, fmt.Errorf("restore request: %w", err)
	}
	return &create, nil
}

// createRestoredCluster creates the cluster create asks for and records
// where its data comes from; a restore record that cannot be written takes
// the new cluster away again.
func (s *Service) createRestoredCluster(ctx context.Context, create *rdsapi.CreateDBClusterMessage, from records.ClusterRestore) (*rdsapi.DBCluster, error) {
	res, err := s.CreateDBCluster(ctx, create)
	if err != nil {
		return nil, err
	}
	c := res.DBCluster
	id := deref(c.DBClusterIdentifier)
	sc := scopeOf(ctx)
	err = s.store.Update(ctx, func(tx state.Tx) error {
		return records.ClusterRestores.Put(tx, sc, deref(c.DbClusterResourceId), from)
	})
	if err != nil {
		_ = s.store.Update(context.WithoutCancel(ctx), func(tx state.Tx) error {
			return records.Clusters.Delete(tx, sc, id)
		})
		return nil, err
	}
	return c, nil
}

// RestoreDBClusterToPointInTime creates a cluster with the source cluster's
// data as of RestoreToTime (or its latest restorable time): its writer's
// newest automated backup from before that time plus the writer's archived
// logs up to it, as RestoreDBInstanceToPointInTime. With RestoreType
// copy-on-write it is a clone: the source writer's data as it is when the
// clone's writer is made, copied from its running server.
func (s *Service) RestoreDBClusterToPointInTime(ctx context.Context, in *rdsapi.RestoreDBClusterToPointInTimeMessage) (*rdsapi.RestoreDBClusterToPointInTimeResult, error) {
	sc := scopeOf(ctx)
	if in.SourceDbClusterResourceId != nil || in.SourceDBClusterIdentifier == nil {
		return nil, errCombination("minicloud restores from a SourceDBClusterIdentifier only.")
	}
	restoreType := orDefault(in.RestoreType, "full-copy")
	switch restoreType {
	case "full-copy", "copy-on-write":
	default:
		return nil, errInvalidParam("Invalid RestoreType: %s. Valid values are full-copy and copy-on-write.", restoreType)
	}
	switch latest := deref(in.UseLatestRestorableTime); {
	case latest && in.RestoreToTime != nil:
		return nil, errCombination("Cannot specify both RestoreToTime and UseLatestRestorableTime.")
	case !latest && in.RestoreToTime == nil:
		return nil, errCombination("Either RestoreToTime or UseLatestRestorableTime must be specified.")
	case restoreType == "copy-on-write" && in.RestoreToTime != nil:
		return nil, errCombination("minicloud clones a DB cluster as it is now only: give UseLatestRestorableTime with RestoreType copy-on-write.")
	}
	if in.BacktrackWindow != nil || in.ScalingConfiguration != nil || in.Domain != nil {
		return nil, errCombination("minicloud does not restore DB clusters with BacktrackWindow, ScalingConfiguration or Domain.")
	}
	rawSrc := deref(in.SourceDBClusterIdentifier)
	var (
		src    records.Cluster
		writer records.Instance
	)
	err := s.store.View(ctx, func(tx state.Tx) error {
		var err error
		if src, err = getCluster(tx, sc, rawSrc); err != nil {
			return err
		}
		w, found, err := records.Instances.Get(tx, sc, lookupID(src.Writer()))
		if err != nil {
			return err
		}
		if !found || !w.Initialized {
			return errClusterState("DB cluster %s has no writer with data yet: minicloud keeps a cluster's storage in its writer.", deref(src.DBClusterIdentifier))
		}
		writer = w
		return nil
	})
	if err != nil {
		return nil, err
	}
	from := records.ClusterRestore{CloneOf: deref(writer.DBInstanceIdentifier), CloneResource: deref(writer.DbiResourceId)}
	password := src.Password
	if restoreType == "full-copy" {
		if from, password, err = s.clusterPointInTime(ctx, sc, in, &writer); err != nil {
			return nil, err
		}
	}
	create, err := restoreCreateCluster(in)
	if err != nil {
		return nil, err
	}
	create.Engine, create.EngineVersion, create.StorageEncrypted = src.Engine, src.EngineVersion, src.StorageEncrypted
	create.MasterUsername, create.MasterUserPassword, create.DatabaseName = src.MasterUsername, ptr(password), src.DatabaseName
	c, err := s.createRestoredCluster(ctx, create, from)
	if err != nil {
		return nil, err
	}
	return &rdsapi.RestoreDBClusterToPointInTimeResult{DBCluster: c}, nil
}

// clusterPointInTime plans a full-copy point-in-time restore over the
// source cluster's writer w, as pointInTimePlan does for an instance: the
// automated backup it starts from, whether the logs are replayed, and the
// master password in effect at the target time.
func (s *Service) clusterPointInTime(ctx context.Context, sc state.Scope, in *rdsapi.RestoreDBClusterToPointInTimeMessage, w *records.Instance) (records.ClusterRestore, string, error) {
	wID := deref(w.DBInstanceIdentifier)
	pit, ok := s.engineFor(deref(w.Engine)).(engine.PointInTime)
	if !ok {
		return records.ClusterRestore{}, "", errCombination("minicloud restores no %s DB clusters to a point in time.", deref(w.Engine))
	}
	cur, backups, err := s.pointInTimeSource(ctx, sc, wID)
	if err != nil {
		return records.ClusterRestore{}, "", err
	}
	if deref(cur.DbiResourceId) != deref(w.DbiResourceId) {
		return records.ClusterRestore{}, "", errClusterState("The writer of DB cluster %s changed meanwhile; try again.", deref(in.SourceDBClusterIdentifier))
	}
	asInstance := &rdsapi.RestoreDBInstanceToPointInTimeMessage{UseLatestRestorableTime: in.UseLatestRestorableTime, RestoreTime: in.RestoreToTime}
	target, base, err := s.pointInTimeBase(sc, asInstance, deref(in.SourceDBClusterIdentifier), &cur, backups)
	if err != nil {
		return records.ClusterRestore{}, "", err
	}
	replay, err := s.replaysLogs(sc, pit, base, target)
	if err != nil {
		return records.ClusterRestore{}, "", err
	}
	from := records.ClusterRestore{Backup: deref(base.DBSnapshotIdentifier), ArchiveOf: wID, PITR: replay, Target: &target}
	return from, cur.PasswordAt(target), nil
}

// clusterRestorable sets EarliestRestorableTime and LatestRestorableTime on
// the clusters whose writer has an automated backup: its restore window.
func (s *Service) clusterRestorable(ctx context.Context, sc state.Scope, clusters []rdsapi.DBCluster) {
	for i := range clusters {
		w := ""
		for _, m := range clusters[i].DBClusterMembers {
			if deref(m.IsClusterWriter) {
				w = deref(m.DBInstanceIdentifier)
			}
		}
		if w == "" {
			continue
		}
		src, backups, err := s.pointInTimeSource(ctx, sc, w)
		if err != nil {
			continue
		}
		if earliest, latest, ok := s.restoreWindow(sc, &src, backups); ok {
			clusters[i].EarliestRestorableTime = ptr(earliest.Truncate(time.Millisecond))
			clusters[i].LatestRestorableTime = ptr(latest.Truncate(time.Millisecond))
		}
	}
}
