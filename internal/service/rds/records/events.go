package records

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/state"
)

// RDS events (DescribeEvents): what RDS says happened to a resource,
// recorded in the same write transaction as the transition itself, so an
// event exists exactly when its transition was committed, and survives a
// restart as any record does.
//
// Who writes which: the controller, for what it achieves (an instance
// created, restarted, stopped, started, deleted, backed up, restored; a
// snapshot taken; a cluster's failover started and completed; a parameter
// group applied), writing those records through PutInstance,
// DeleteInstance, PutSnapshot, DeleteSnapshot and PutClusterSnapshot,
// which add the events of the change, and Note for the rest; the API, for
// what takes effect in the request itself (a DB parameter group's
// parameters updated, a DB cluster created, a manual snapshot started).
// The API's DescribeEvents only reads; its sweep deletes events older
// than EventRetention.

// Events is the table of RDS events, keyed by EventKey: in time order.
var Events = state.Table[Event]{Service: "rds", Kind: "event"}

// EventRetention is how long RDS keeps events (AWS: 14 days).
const EventRetention = 14 * 24 * time.Hour

// Event is one RDS event: the API shape plus the RDS event ID, which
// DescribeEvents does not show (EventBridge does).
type Event struct {
	rdsapi.Event
	ID string `json:"id"`
}

// EventKind is one row of AWS's table of RDS event messages: its ID,
// source type, category and message (a format for the row's names).
type EventKind struct {
	ID, SourceType, Category, Message string
}

// The events minicloud records, with AWS's IDs, categories and messages
// ("Amazon RDS event categories and event messages" and its Aurora twin).
var (
	EvBackingUp        = EventKind{"RDS-EVENT-0001", "db-instance", "backup", "Backing up DB instance."}
	EvBackupDone       = EventKind{"RDS-EVENT-0002", "db-instance", "backup", "Finished DB instance backup."}
	EvInstanceDeleted  = EventKind{"RDS-EVENT-0003", "db-instance", "deletion", "DB instance deleted."}
	EvShutdown         = EventKind{"RDS-EVENT-0004", "db-instance", "availability", "DB instance shutdown."}
	EvInstanceCreated  = EventKind{"RDS-EVENT-0005", "db-instance", "creation", "DB instance created."}
	EvRestarted        = EventKind{"RDS-EVENT-0006", "db-instance", "availability", "DB instance restarted."}
	EvMultiAZStarted   = EventKind{"RDS-EVENT-0013", "db-instance", "failover", "Multi-AZ instance failover started."}
	EvCredentialsReset = EventKind{"RDS-EVENT-0016", "db-instance", "configuration change", "Reset master credentials."}
	EvRestoredPITR     = EventKind{"RDS-EVENT-0019", "db-instance", "restoration", "Restored from DB instance %s to %s."}
	EvIncompatible     = EventKind{"RDS-EVENT-0035", "db-instance", "failure", "Database instance put into %s. %s."}
	EvRestoredSnapshot = EventKind{"RDS-EVENT-0043", "db-instance", "restoration", "Restored from snapshot %s"}
	EvMultiAZDone      = EventKind{"RDS-EVENT-0049", "db-instance", "failover", "Multi-AZ instance failover completed."}
	EvInstanceStopped  = EventKind{"RDS-EVENT-0087", "db-instance", "notification", "DB instance stopped."}
	EvInstanceStarted  = EventKind{"RDS-EVENT-0088", "db-instance", "notification", "DB instance started."}
	EvParamsApplied    = EventKind{"RDS-EVENT-0092", "db-instance", "configuration change", "Finished updating DB parameter group."}

	EvParamUpdated = EventKind{"RDS-EVENT-0037", "db-parameter-group", "configuration change", "Updated parameter %s to %s with apply method %s."}

	EvManualSnapshotStarted    = EventKind{"RDS-EVENT-0040", "db-snapshot", "creation", "Creating manual snapshot."}
	EvSnapshotDeleted          = EventKind{"RDS-EVENT-0041", "db-snapshot", "deletion", "Deleted user snapshot."}
	EvManualSnapshotCreated    = EventKind{"RDS-EVENT-0042", "db-snapshot", "creation", "Manual snapshot created."}
	EvAutomatedSnapshotStarted = EventKind{"RDS-EVENT-0090", "db-snapshot", "creation", "Creating automated snapshot."}
	EvAutomatedSnapshotCreated = EventKind{"RDS-EVENT-0091", "db-snapshot", "creation", "Automated snapshot created."}

	EvClusterFailoverDone    = EventKind{"RDS-EVENT-0071", "db-cluster", "failover", "Completed failover to DB instance: %s."}
	EvClusterFailoverSameAZ  = EventKind{"RDS-EVENT-0072", "db-cluster", "failover", "Started same AZ failover to DB instance: %s."}
	EvClusterFailoverCrossAZ = EventKind{"RDS-EVENT-0073", "db-cluster", "failover", "Started cross AZ failover to DB instance: %s."}
	EvClusterCreated         = EventKind{"RDS-EVENT-0170", "db-cluster", "creation", "DB cluster created."}

	EvClusterSnapshotStarted = EventKind{"RDS-EVENT-0074", "db-cluster-snapshot", "backup", "Creating manual cluster snapshot."}
	EvClusterSnapshotCreated = EventKind{"RDS-EVENT-0075", "db-cluster-snapshot", "backup", "Manual cluster snapshot created."}
)

// EventCategories are the categories of each source type, as
// DescribeEventCategories lists them: those of AWS's tables of event
// messages (RDS's and Aurora's), sorted.
var EventCategories = []rdsapi.EventCategoriesMap{
	{SourceType: ptr("db-instance"), EventCategories: []string{"availability", "backtrack", "backup", "configuration change", "creation", "deletion", "failover", "failure", "low storage", "maintenance", "notification", "read replica", "recovery", "restoration", "security", "security patching", "serverless"}},
	{SourceType: ptr("db-parameter-group"), EventCategories: []string{"configuration change"}},
	{SourceType: ptr("db-security-group"), EventCategories: []string{"configuration change", "failure"}},
	{SourceType: ptr("db-snapshot"), EventCategories: []string{"creation", "deletion", "notification", "restoration"}},
	{SourceType: ptr("db-cluster"), EventCategories: []string{"configuration change", "creation", "deletion", "failover", "failure", "global failover", "maintenance", "notification"}},
	{SourceType: ptr("db-cluster-snapshot"), EventCategories: []string{"backup", "failure", "notification"}},
	{SourceType: ptr("custom-engine-version"), EventCategories: []string{"failure"}},
	{SourceType: ptr("db-proxy"), EventCategories: []string{"configuration change", "creation", "deletion", "failure"}},
	{SourceType: ptr("blue-green-deployment"), EventCategories: []string{"creation", "deletion", "failure", "notification"}},
}

// EventKey is the id of an event at: its time in nanoseconds, zero-padded
// so that the table's order is the events' order, and a random suffix
// for two events of the same instant.
func EventKey(at time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%020d-%s", at.UnixNano(), hex.EncodeToString(b[:]))
}

// lastEvent is the last event's time in nanoseconds: events noted one
// after the other (two of one transition) keep their order even within
// one tick of the clock.
var lastEvent atomic.Int64

// eventTime is now, after every event noted before.
func eventTime() time.Time {
	for {
		last, now := lastEvent.Load(), time.Now().UnixNano()
		if now <= last {
			now = last + 1
		}
		if lastEvent.CompareAndSwap(last, now) {
			return time.Unix(0, now).UTC()
		}
	}
}

// Note records one event of kind k for the source id (ARN arn), now; args
// fill k's message.
func Note(tx state.Tx, sc state.Scope, k EventKind, id, arn string, args ...any) error {
	now := eventTime()
	at := now.Truncate(time.Millisecond)
	msg := k.Message
	if len(args) > 0 {
		msg = fmt.Sprintf(k.Message, args...)
	}
	ev := Event{ID: k.ID, Event: rdsapi.Event{
		SourceIdentifier: ptr(id), SourceType: ptr(k.SourceType), Message: ptr(msg),
		EventCategories: []string{k.Category}, Date: &at,
	}}
	if arn != "" {
		ev.SourceArn = ptr(arn)
	}
	if err := Events.Put(tx, sc, EventKey(now), ev); err != nil {
		return fmt.Errorf("record event %s of %s: %w", k.ID, id, err)
	}
	return nil
}

// PutInstance writes instance id as r, with the events of the change.
func PutInstance(tx state.Tx, sc state.Scope, id string, r Instance) error {
	if err := noteInstance(tx, sc, id, &r); err != nil {
		return err
	}
	return Instances.Put(tx, sc, id, r)
}

// DeleteInstance deletes instance id's record, with its deletion's event.
func DeleteInstance(tx state.Tx, sc state.Scope, id string) error {
	if err := noteInstance(tx, sc, id, nil); err != nil {
		return err
	}
	return Instances.Delete(tx, sc, id)
}

// PutSnapshot writes DB snapshot id as r, with the events of the change.
func PutSnapshot(tx state.Tx, sc state.Scope, id string, r Snapshot) error {
	if err := noteSnapshot(tx, sc, id, &r); err != nil {
		return err
	}
	return Snapshots.Put(tx, sc, id, r)
}

// DeleteSnapshot deletes DB snapshot id's record, with its deletion's
// event.
func DeleteSnapshot(tx state.Tx, sc state.Scope, id string) error {
	if err := noteSnapshot(tx, sc, id, nil); err != nil {
		return err
	}
	return Snapshots.Delete(tx, sc, id)
}

// PutClusterSnapshot writes DB cluster snapshot id as r, with the events
// of the change.
func PutClusterSnapshot(tx state.Tx, sc state.Scope, id string, r ClusterSnapshot) error {
	if err := noteClusterSnapshot(tx, sc, id, &r); err != nil {
		return err
	}
	return ClusterSnapshots.Put(tx, sc, id, r)
}

// instanceTransitions are the events of an instance's status changes:
// from the status it had to the one written.
var instanceTransitions = map[[2]string][]EventKind{
	{"creating", "available"}:                     {EvInstanceCreated},
	{"creating", "backing-up"}:                    {EvInstanceCreated, EvBackingUp},
	{"rebooting", "available"}:                    {EvRestarted},
	{"stopping", "stopped"}:                       {EvInstanceStopped},
	{"starting", "available"}:                     {EvInstanceStarted},
	{"available", "backing-up"}:                   {EvBackingUp},
	{"backing-up", "available"}:                   {EvBackupDone},
	{"resetting-master-credentials", "available"}: {EvCredentialsReset},
}

// noteInstance records the events of writing instance id as after (nil:
// deleting the record), from the record tx still holds. Call it before the
// write.
func noteInstance(tx state.Tx, sc state.Scope, id string, after *Instance) error {
	before, found, err := Instances.Get(tx, sc, id)
	if err != nil || !found {
		return err
	}
	arn := value(before.DBInstanceArn)
	from := value(before.DBInstanceStatus)
	if after == nil {
		if from == "deleting" {
			return Note(tx, sc, EvInstanceDeleted, id, arn)
		}
		return nil
	}
	to := value(after.DBInstanceStatus)
	if to == "incompatible-parameters" && from != to {
		return Note(tx, sc, EvIncompatible, id, arn, to, orText(after.EngineError, "The DB instance could not start with its parameter group"))
	}
	for _, k := range instanceTransitions[[2]string{from, to}] {
		if err := Note(tx, sc, k, id, arn); err != nil {
			return err
		}
		if k == EvInstanceCreated && after.Restore != nil {
			if err := noteRestore(tx, sc, after); err != nil {
				return err
			}
		}
	}
	// A Multi-AZ failover starts once the standby is promoted (Swapping)
	// and completes once the record has swapped the two.
	if b, a := swapping(&before), swapping(after); b != a {
		if err := Note(tx, sc, pick(a, EvMultiAZStarted, EvMultiAZDone), id, arn); err != nil {
			return err
		}
	}
	if b, a := paramStatus(&before), paramStatus(after); a == "in-sync" && b != "" && b != "in-sync" {
		return Note(tx, sc, EvParamsApplied, id, arn)
	}
	return nil
}

// noteRestore records where a restored instance's data came from.
func noteRestore(tx state.Tx, sc state.Scope, r *Instance) error {
	id, arn := value(r.DBInstanceIdentifier), value(r.DBInstanceArn)
	if r.Restore.PITR && r.Restore.ArchiveOf != "" {
		return Note(tx, sc, EvRestoredPITR, id, arn, r.Restore.ArchiveOf, id)
	}
	if r.Restore.Snapshot != "" {
		return Note(tx, sc, EvRestoredSnapshot, id, arn, r.Restore.Snapshot)
	}
	return nil
}

func swapping(r *Instance) bool { return r.Standby != nil && r.Standby.Swapping }

func paramStatus(r *Instance) string {
	if len(r.DBParameterGroups) == 0 {
		return ""
	}
	return value(r.DBParameterGroups[0].ParameterApplyStatus)
}

// noteSnapshot records the events of writing DB snapshot id as after
// (nil: deleting the record), from the record tx still holds (none: a new
// snapshot). Call it before the write.
func noteSnapshot(tx state.Tx, sc state.Scope, id string, after *Snapshot) error {
	before, found, err := Snapshots.Get(tx, sc, id)
	if err != nil {
		return err
	}
	s := after
	if s == nil {
		s = &before
	}
	arn, from := value(s.DBSnapshotArn), value(before.Status)
	auto := value(s.SnapshotType) == "automated"
	switch {
	case after == nil:
		if found && !auto && from == SnapshotDeleting {
			return Note(tx, sc, EvSnapshotDeleted, id, arn)
		}
	case !found && value(after.Status) == "creating" && after.SourceSnapshot == "":
		return Note(tx, sc, pick(auto, EvAutomatedSnapshotStarted, EvManualSnapshotStarted), id, arn)
	case found && from == "creating" && value(after.Status) == "available" && after.SourceSnapshot == "":
		return Note(tx, sc, pick(auto, EvAutomatedSnapshotCreated, EvManualSnapshotCreated), id, arn)
	}
	return nil
}

// noteClusterSnapshot records the events of writing DB cluster snapshot id
// as after, from the record tx still holds (none: a new snapshot). Call it
// before the write.
func noteClusterSnapshot(tx state.Tx, sc state.Scope, id string, after *ClusterSnapshot) error {
	before, found, err := ClusterSnapshots.Get(tx, sc, id)
	if err != nil || after == nil || after.SourceSnapshot != "" || after.SourceBackup != "" {
		return err
	}
	arn := value(after.DBClusterSnapshotArn)
	switch {
	case !found && value(after.Status) == "creating":
		return Note(tx, sc, EvClusterSnapshotStarted, id, arn)
	case found && value(before.Status) == "creating" && value(after.Status) == "available":
		return Note(tx, sc, EvClusterSnapshotCreated, id, arn)
	}
	return nil
}

func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func pick(cond bool, yes, no EventKind) EventKind {
	if cond {
		return yes
	}
	return no
}

func ptr[T any](v T) *T { return &v }
