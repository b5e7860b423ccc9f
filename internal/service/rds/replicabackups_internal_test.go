package rds

import (
	"context"
	"testing"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// Automated backups stay on while an instance has read replicas: their
// replication reads its WAL or binary logs.
func TestBackupsOffWithReplicas(t *testing.T) {
	t.Parallel()
	store := state.NewMemory()
	s := New(store, Config{})
	ctx := api.WithRequest(context.Background(), &api.RequestInfo{Account: "000000000000", Region: "us-east-1"})
	sc := scopeOf(ctx)
	recs := map[string]records.Instance{
		"src":  {DBInstance: rdsapi.DBInstance{DBInstanceIdentifier: ptr("src"), DBInstanceStatus: ptr("available"), Engine: ptr("postgres"), BackupRetentionPeriod: ptr(int32(1)), ReadReplicaDBInstanceIdentifiers: []string{"rep"}}},
		"rep":  {DBInstance: rdsapi.DBInstance{DBInstanceIdentifier: ptr("rep"), DBInstanceStatus: ptr("available"), Engine: ptr("postgres"), BackupRetentionPeriod: ptr(int32(1)), ReadReplicaSourceDBInstanceIdentifier: ptr("src"), ReadReplicaDBInstanceIdentifiers: []string{"rep2"}}},
		"rep2": {DBInstance: rdsapi.DBInstance{DBInstanceIdentifier: ptr("rep2"), DBInstanceStatus: ptr("available"), Engine: ptr("postgres"), BackupRetentionPeriod: ptr(int32(0)), ReadReplicaSourceDBInstanceIdentifier: ptr("rep")}},
		"solo": {DBInstance: rdsapi.DBInstance{DBInstanceIdentifier: ptr("solo"), DBInstanceStatus: ptr("available"), Engine: ptr("postgres"), BackupRetentionPeriod: ptr(int32(1))}},
	}
	if err := store.Update(ctx, func(tx state.Tx) error {
		for id, r := range recs {
			if err := records.Instances.Put(tx, sc, id, r); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	zero := ptr(int32(0))
	for _, tc := range []struct {
		name string
		call func() error
		code string
	}{
		{"modify a source", func() error {
			_, err := s.ModifyDBInstance(ctx, &rdsapi.ModifyDBInstanceMessage{DBInstanceIdentifier: ptr("src"), BackupRetentionPeriod: zero, ApplyImmediately: ptr(true)})
			return err
		}, "InvalidParameterCombination"},
		{"modify a source, deferred", func() error {
			_, err := s.ModifyDBInstance(ctx, &rdsapi.ModifyDBInstanceMessage{DBInstanceIdentifier: ptr("src"), BackupRetentionPeriod: zero})
			return err
		}, "InvalidParameterCombination"},
		{"promote a replica that has replicas", func() error {
			_, err := s.PromoteReadReplica(ctx, &rdsapi.PromoteReadReplicaMessage{DBInstanceIdentifier: ptr("rep"), BackupRetentionPeriod: zero})
			return err
		}, "InvalidParameterCombination"},
		{"promote a replica without replicas", func() error {
			_, err := s.PromoteReadReplica(ctx, &rdsapi.PromoteReadReplicaMessage{DBInstanceIdentifier: ptr("rep2"), BackupRetentionPeriod: zero})
			return err
		}, ""},
		{"modify an instance without replicas", func() error {
			_, err := s.ModifyDBInstance(ctx, &rdsapi.ModifyDBInstanceMessage{DBInstanceIdentifier: ptr("solo"), BackupRetentionPeriod: zero, ApplyImmediately: ptr(true)})
			return err
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !hasCode(err, tc.code) {
				t.Fatalf("want %s, got %v", tc.code, err)
			}
		})
	}
}
