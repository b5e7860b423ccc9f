package rds

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// A MariaDB automated backup taken before its server logged transactions
// restores only its own end.
func TestBinlogsFrom(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := New(state.NewMemory(), Config{StateDir: dir})
	sc := state.Scope{Account: "000000000000", Region: "us-east-1"}
	end := time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		info     string // xtrabackup_binlog_info, "" for none
		target   time.Time
		wantPITR bool
		wantCode string
	}{
		{"logged", "mysql-bin.000002\t342\t0-1-7\n", end.Add(time.Hour), true, ""},
		{"unlogged, to its end", "", end, false, ""},
		{"unlogged, later", "", end.Add(time.Minute), false, "InvalidRestoreFault"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "rds:db1-" + strings.ReplaceAll(tc.name, " ", "")
			data := filepath.Join(dir, "rds", sc.Account, sc.Region, "_snapshots", id, "data")
			if err := os.MkdirAll(data, 0o700); err != nil {
				t.Fatal(err)
			}
			if tc.info != "" {
				if err := os.WriteFile(filepath.Join(data, "xtrabackup_binlog_info"), []byte(tc.info), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			base := &records.Snapshot{DBSnapshot: rdsapi.DBSnapshot{DBSnapshotIdentifier: ptr(id)}, BackupEnd: &end}
			pitr, err := s.replaysLogs(sc, s.engineFor("mariadb").(engine.PointInTime), base, tc.target)
			if tc.wantCode != "" {
				var ae interface{ ErrorCode() string }
				if !errors.As(err, &ae) || ae.ErrorCode() != tc.wantCode {
					t.Fatalf("err = %v, want %s", err, tc.wantCode)
				}
				return
			}
			if err != nil || pitr != tc.wantPITR {
				t.Fatalf("binlogsFrom = %v, %v; want %v", pitr, err, tc.wantPITR)
			}
		})
	}
}
