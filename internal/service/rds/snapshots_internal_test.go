package rds

import (
	"context"
	"testing"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// Without a running controller a snapshot stays creating: what the API
// allows meanwhile is checked deterministically.
func TestSnapshotWhileCreating(t *testing.T) {
	t.Parallel()
	store := state.NewMemory()
	s := New(store, Config{})
	ctx := api.WithRequest(context.Background(), &api.RequestInfo{Account: "000000000000", Region: "us-east-1"})
	sc := scopeOf(ctx)
	rec := records.Instance{DBInstance: rdsapi.DBInstance{DBInstanceIdentifier: ptr("db1"), DBInstanceStatus: ptr("available"), Engine: ptr("postgres"), DbiResourceId: ptr("db-ABC")}}
	if err := store.Update(ctx, func(tx state.Tx) error { return records.Instances.Put(tx, sc, "db1", rec) }); err != nil {
		t.Fatal(err)
	}
	out, err := s.CreateDBSnapshot(ctx, &rdsapi.CreateDBSnapshotMessage{DBInstanceIdentifier: ptr("db1"), DBSnapshotIdentifier: ptr("s1")})
	if err != nil {
		t.Fatal(err)
	}
	if deref(out.DBSnapshot.Status) != "creating" {
		t.Fatalf("status %q", deref(out.DBSnapshot.Status))
	}
	db, err := s.DescribeDBInstances(ctx, &rdsapi.DescribeDBInstancesMessage{DBInstanceIdentifier: ptr("db1")})
	if err != nil {
		t.Fatal(err)
	}
	if st := deref(db.DBInstances[0].DBInstanceStatus); st != "backing-up" {
		t.Fatalf("instance status while its snapshot is taken: %q", st)
	}
	for _, tc := range []struct {
		name string
		call func() error
		code string
	}{
		{"delete creating snapshot", func() error {
			_, err := s.DeleteDBSnapshot(ctx, &rdsapi.DeleteDBSnapshotMessage{DBSnapshotIdentifier: ptr("s1")})
			return err
		}, "InvalidDBSnapshotState"},
		{"second snapshot while backing up", func() error {
			_, err := s.CreateDBSnapshot(ctx, &rdsapi.CreateDBSnapshotMessage{DBInstanceIdentifier: ptr("db1"), DBSnapshotIdentifier: ptr("s2")})
			return err
		}, "InvalidDBInstanceState"},
		{"copy creating snapshot", func() error {
			_, err := s.CopyDBSnapshot(ctx, &rdsapi.CopyDBSnapshotMessage{SourceDBSnapshotIdentifier: ptr("s1"), TargetDBSnapshotIdentifier: ptr("s3")})
			return err
		}, "InvalidDBSnapshotState"},
		{"restore creating snapshot", func() error {
			_, err := s.RestoreDBInstanceFromDBSnapshot(ctx, &rdsapi.RestoreDBInstanceFromDBSnapshotMessage{DBInstanceIdentifier: ptr("db2"), DBSnapshotIdentifier: ptr("s1")})
			return err
		}, "InvalidDBSnapshotState"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !state.IsCode(err, tc.code) && !hasCode(err, tc.code) {
				t.Fatalf("want %s, got %v", tc.code, err)
			}
		})
	}
}

func hasCode(err error, code string) bool {
	e, ok := err.(interface{ ErrorCode() string })
	return ok && e.ErrorCode() == code
}

func TestSnapshotIdentifiers(t *testing.T) {
	t.Parallel()
	for id, ok := range map[string]bool{
		"a": true, "snap-1": true, "Ab9": true,
		"": false, "1a": false, "a-": false, "a--b": false, "a_b": false, "rds:x": false,
	} {
		if validSnapshotID(id) != ok {
			t.Errorf("validSnapshotID(%q) = %v", id, !ok)
		}
	}
	long := "a"
	for len(long) < 255 {
		long += "b"
	}
	if !validSnapshotID(long) || validSnapshotID(long+"c") {
		t.Error("the 255-character limit")
	}
	if validSnapshotID(long[:100] + "--" + long[:10]) {
		t.Error("a double hyphen past the 63rd character")
	}
}
