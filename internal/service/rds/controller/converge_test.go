package controller

import (
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// The status a converged instance reaches, and when it was created: the
// first time it ran.
func TestReached(t *testing.T) {
	t.Parallel()
	c := newTestController(state.NewMemory(), t.TempDir())
	if !c.canBackup(&records.Instance{DBInstance: rdsapi.DBInstance{Engine: ptr("postgres")}}) {
		t.Fatal("needs PostgreSQL installed")
	}
	earlier := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name, from string
		retention  int32
		created    *time.Time
		want       string
		// wantCreated: nil none, &earlier kept, else set now.
		wantCreated *time.Time
	}{
		{"created, its first backup due", "creating", 1, nil, "backing-up", &time.Time{}},
		{"created without backups", "creating", 0, nil, "available", &time.Time{}},
		{"backing up until its backups are taken", "backing-up", 1, &earlier, "backing-up", &earlier},
		{"rebooted", "rebooting", 1, &earlier, "available", &earlier},
		{"started again", "starting", 1, &earlier, "available", &earlier},
		{"modified", "modifying", 1, nil, "available", nil},
		{"available", "available", 1, &earlier, "available", &earlier},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &records.Instance{DBInstance: rdsapi.DBInstance{Engine: ptr("postgres"), DBInstanceStatus: ptr(tc.from),
				BackupRetentionPeriod: ptr(tc.retention), InstanceCreateTime: tc.created}}
			before := time.Now().Add(-time.Second)
			c.reached(r, tc.from)
			if got := deref(r.DBInstanceStatus); got != tc.want {
				t.Fatalf("status %q, want %q", got, tc.want)
			}
			switch got := r.InstanceCreateTime; {
			case tc.wantCreated == nil:
				if got != nil {
					t.Fatalf("InstanceCreateTime %v, want none", got)
				}
			case tc.wantCreated.IsZero():
				if got == nil || got.Before(before) {
					t.Fatalf("InstanceCreateTime %v, want now", got)
				}
			case got == nil || !got.Equal(*tc.wantCreated):
				t.Fatalf("InstanceCreateTime %v, want %v", got, tc.wantCreated)
			}
		})
	}
}
