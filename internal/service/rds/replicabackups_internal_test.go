package rds

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/state"
)

// Automated backups stay on while an instance has read replicas: their
// replication reads its WAL or binary logs.
func TestBackupsOffWithReplicas(t *testing.T) {
	store := state.NewMemory()
	s := New(store, Config{})
	ctx := api.WithRequest(context.Background(), &api.RequestInfo{Account: "000000000000", Region: "us-east-1"})
	sc := scopeOf(ctx)
	recs := map[string]instanceRecord{
		"src":  {DBInstance: rdsapi.DBInstance{DBInstanceIdentifier: ptr("src"), DBInstanceStatus: ptr("available"), Engine: ptr("postgres"), BackupRetentionPeriod: ptr(int32(1)), ReadReplicaDBInstanceIdentifiers: []string{"rep"}}},
		"rep":  {DBInstance: rdsapi.DBInstance{DBInstanceIdentifier: ptr("rep"), DBInstanceStatus: ptr("available"), Engine: ptr("postgres"), BackupRetentionPeriod: ptr(int32(1)), ReadReplicaSourceDBInstanceIdentifier: ptr("src"), ReadReplicaDBInstanceIdentifiers: []string{"rep2"}}},
		"rep2": {DBInstance: rdsapi.DBInstance{DBInstanceIdentifier: ptr("rep2"), DBInstanceStatus: ptr("available"), Engine: ptr("postgres"), BackupRetentionPeriod: ptr(int32(0)), ReadReplicaSourceDBInstanceIdentifier: ptr("rep")}},
		"solo": {DBInstance: rdsapi.DBInstance{DBInstanceIdentifier: ptr("solo"), DBInstanceStatus: ptr("available"), Engine: ptr("postgres"), BackupRetentionPeriod: ptr(int32(1))}},
	}
	if err := store.Update(ctx, func(tx state.Tx) error {
		for id, r := range recs {
			if err := instances.Put(tx, sc, id, r); err != nil {
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

// A MariaDB source without automated backups keeps its binary logs while
// it has read replicas.
func TestMariaSettingsKeepBinlogsForReplicas(t *testing.T) {
	if _, err := mariaUser(); err != nil {
		t.Fatalf("no mysql user (apt-get install mariadb-server): %v", err)
	}
	for _, tc := range []struct {
		name     string
		replicas []string
		kept     bool
	}{
		{"no replicas", nil, false},
		{"replicas", []string{"rep"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			logs := filepath.Join(dir, binlogDirName)
			if err := os.Mkdir(logs, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(logs, binlogBase+".000001"), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			rec := &instanceRecord{DBInstance: rdsapi.DBInstance{DBInstanceIdentifier: ptr("src"), Engine: ptr("mariadb"), DbiResourceId: ptr("db-X"), BackupRetentionPeriod: ptr(int32(0)), ReadReplicaDBInstanceIdentifiers: tc.replicas}}
			if _, err := mariaSettings(dir, rec); err != nil {
				t.Fatal(err)
			}
			_, err := os.Stat(filepath.Join(logs, binlogBase+".000001"))
			if kept := err == nil; kept != tc.kept {
				t.Fatalf("binary log kept %v, want %v (%v)", kept, tc.kept, err)
			}
		})
	}
}
