package controller

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

func TestBackupDue(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		name      string
		window    string
		last, now string
		due       bool
	}{
		{"window begun since the last", "03:00-03:30", "2026-01-01T03:05:00Z", "2026-01-02T03:01:00Z", true},
		{"before today's window", "03:00-03:30", "2026-01-01T03:05:00Z", "2026-01-02T02:59:00Z", false},
		{"already taken in this window", "03:00-03:30", "2026-01-02T03:00:30Z", "2026-01-02T03:10:00Z", false},
		{"after midnight, yesterday's window", "23:30-00:00", "2026-01-01T12:00:00Z", "2026-01-02T00:10:00Z", true},
		{"missed window made up", "03:00-03:30", "2026-01-01T02:00:00Z", "2026-01-02T10:00:00Z", true},
		{"bad window, a day old", "3am", "2026-01-01T10:00:00Z", "2026-01-02T10:01:00Z", true},
		{"created after today's window", "03:00-03:30", "2026-01-02T10:00:00Z", "2026-01-02T20:00:00Z", false},
		{"bad window, recent backup", "3am", "2026-01-02T10:00:00Z", "2026-01-02T20:00:00Z", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := backupDue(tc.window, at(tc.last), at(tc.now)); got != tc.due {
				t.Fatalf("backupDue = %v, want %v", got, tc.due)
			}
		})
	}
}

// A schedule pass deletes automated backups past the retention period but
// keeps the newest, and records a new one that is due.
func TestBackupPass(t *testing.T) {
	store := state.NewMemory()
	c := newTestController(store, t.TempDir())
	sc, now, inst := backupScene()
	// db2's retention was set to 0: its automated backups go.
	off := inst
	off.DBInstance.DBInstanceIdentifier, off.DBInstance.DbiResourceId, off.DBInstance.BackupRetentionPeriod = ptr("db2"), ptr("db-Y"), ptr(int32(0))
	backup := func(id string, ended time.Time, resource ...string) records.Snapshot {
		r := records.SnapshotOf(sc, &inst, id, "automated", nil)
		r.Status, r.BackupEnd = ptr("available"), &ended
		if len(resource) > 0 {
			r.DbiResourceId = ptr(resource[0])
		}
		return r
	}
	orphan := func(r records.Snapshot) records.Snapshot {
		r.DbiResourceId = ptr("db-GONE")
		return r
	}
	err := store.Update(context.Background(), func(tx state.Tx) error {
		return errorsJoin(
			records.Instances.Put(tx, sc, "db1", inst),
			records.Instances.Put(tx, sc, "db2", off),
			records.Snapshots.Put(tx, sc, "rds:db2-x", backup("rds:db2-x", now.Add(-time.Hour), "db-Y")),
			records.Snapshots.Put(tx, sc, "rds:db1-old", backup("rds:db1-old", now.Add(-72*time.Hour))),
			records.Snapshots.Put(tx, sc, "rds:db1-newer", backup("rds:db1-newer", now.Add(-48*time.Hour))),
			// Left by deleted instances (DeleteAutomatedBackups=false).
			records.Snapshots.Put(tx, sc, "rds:gone-expired", orphan(backup("rds:gone-expired", now.Add(-30*time.Hour)))),
			records.Snapshots.Put(tx, sc, "rds:gone-kept", orphan(backup("rds:gone-kept", now.Add(-20*time.Hour)))),
		)
	})
	if err != nil {
		t.Fatal(err)
	}
	keys := c.backupPass(now)
	slices.Sort(keys)
	want := []string{records.Snapshots.Key(sc, "rds:db1-2026-03-10-12-00"), records.Snapshots.Key(sc, "rds:db1-old"), records.Snapshots.Key(sc, "rds:db2-x"), records.Snapshots.Key(sc, "rds:gone-expired")}
	if !slices.Equal(keys, want) {
		t.Fatalf("keys %v, want %v", keys, want)
	}
	_ = store.View(context.Background(), func(tx state.Tx) error {
		for id, st := range map[string]string{"rds:db1-old": records.SnapshotDeleting, "rds:db1-newer": "available", "rds:db1-2026-03-10-12-00": "creating", "rds:gone-expired": records.SnapshotDeleting, "rds:gone-kept": "available", "rds:db2-x": records.SnapshotDeleting} {
			r, _, _ := records.Snapshots.Get(tx, sc, id)
			if deref(r.Status) != st {
				t.Errorf("%s: status %q, want %q", id, deref(r.Status), st)
			}
		}
		r, _, _ := records.Instances.Get(tx, sc, "db1")
		if deref(r.DBInstanceStatus) != "backing-up" {
			t.Errorf("instance status %q", deref(r.DBInstanceStatus))
		}
		return nil
	})
	// Nothing more is due while that backup is being taken.
	if keys := c.backupPass(now.Add(time.Minute)); len(keys) != 0 {
		t.Fatalf("second pass: %v", keys)
	}
}

func errorsJoin(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func TestSweepSnapshots(t *testing.T) {
	store := state.NewMemory()
	dir := t.TempDir()
	c := newTestController(store, dir)
	sc := state.Scope{Account: "000000000000", Region: "us-east-1"}
	base := filepath.Join(dir, "rds", sc.Account, sc.Region, "_snapshots")
	for _, id := range []string{"kept", "orphan"} {
		if err := os.MkdirAll(filepath.Join(base, id, "data"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Update(context.Background(), func(tx state.Tx) error {
		return records.Snapshots.Put(tx, sc, "kept", records.Snapshot{DBSnapshot: rdsapi.DBSnapshot{Status: ptr("available")}})
	}); err != nil {
		t.Fatal(err)
	}
	c.sweepSnapshots()
	if _, err := os.Stat(filepath.Join(base, "kept", "data")); err != nil {
		t.Fatalf("kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(base, "orphan")); !os.IsNotExist(err) {
		t.Fatalf("orphan: %v", err)
	}
}

// A failed automated backup is retried after backupRetryAfter, not every
// minute; only the newest failed one is kept.
func TestBackupPassAfterFailure(t *testing.T) {
	store := state.NewMemory()
	c := newTestController(store, t.TempDir())
	sc, now, inst := backupScene()
	fail := func(at time.Time, withTime bool) records.Snapshot {
		id := automatedID("db1", at)
		r := records.SnapshotOf(sc, &inst, id, "automated", nil)
		r.Status, r.Error = ptr("failed"), "disk full"
		if withTime {
			r.FailedAt = &at
		}
		return r
	}
	older, newer := fail(now.Add(-3*time.Hour), false), fail(now.Add(-10*time.Minute), true)
	err := store.Update(context.Background(), func(tx state.Tx) error {
		return errorsJoin(
			records.Instances.Put(tx, sc, "db1", inst),
			records.Snapshots.Put(tx, sc, deref(older.DBSnapshotIdentifier), older),
			records.Snapshots.Put(tx, sc, deref(newer.DBSnapshotIdentifier), newer),
		)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		at   time.Time
		want []string
	}{
		// No backup ever succeeded, so one is due; the failure is recent.
		{"within the backoff", now, []string{records.Snapshots.Key(sc, deref(older.DBSnapshotIdentifier))}},
		{"still within", now.Add(40 * time.Minute), nil},
		{"after the backoff", now.Add(51 * time.Minute), []string{records.Snapshots.Key(sc, automatedID("db1", now.Add(51*time.Minute)))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys := c.backupPass(tc.at)
			if !slices.Equal(keys, tc.want) {
				t.Fatalf("keys %v, want %v", keys, tc.want)
			}
		})
	}
	_ = store.View(context.Background(), func(tx state.Tx) error {
		for _, b := range []struct {
			r    records.Snapshot
			want string
		}{{older, records.SnapshotDeleting}, {newer, "failed"}} {
			got, _, _ := records.Snapshots.Get(tx, sc, deref(b.r.DBSnapshotIdentifier))
			if deref(got.Status) != b.want {
				t.Errorf("%s: status %q, want %q", deref(b.r.DBSnapshotIdentifier), deref(got.Status), b.want)
			}
		}
		return nil
	})
}

// backupScene is the schedule tests' scope, time and instance db1: a
// postgres instance with one day of automated backups, its window at
// 03:00 UTC.
func backupScene() (state.Scope, time.Time, records.Instance) {
	return state.Scope{Account: "000000000000", Region: "us-east-1"}, time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC),
		records.Instance{Initialized: true, DBInstance: rdsapi.DBInstance{
			DBInstanceIdentifier: ptr("db1"), DBInstanceStatus: ptr("available"), DbiResourceId: ptr("db-X"), Engine: ptr("postgres"),
			BackupRetentionPeriod: ptr(int32(1)), PreferredBackupWindow: ptr("03:00-03:30"),
		}}
}
