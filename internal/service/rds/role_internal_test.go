package rds

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/state"
)

// A copy of another server's data (a snapshot, a promoted standby) loses
// that server's role: its standby settings, its synchronous standby and its
// signal files; the rest of postgresql.auto.conf stays.
func TestResetRole(t *testing.T) {
	for _, tc := range []struct {
		name  string
		conf  string
		files []string
	}{
		{"multi-az primary", "work_mem = '8MB'\nsynchronous_standby_names = '\"standby\"'\n", nil},
		{"read replica", "work_mem = '8MB'\nprimary_conninfo = 'host=/proc/self/fd/4'\nprimary_slot_name = 's'\nhot_standby = on\nwal_retrieve_retry_interval = '1s'\n", []string{"standby.signal"}},
		{"multi-az standby", "work_mem = '8MB'\nprimary_conninfo = 'x'\nhot_standby = off\n", []string{"standby.signal", "recovery.signal"}},
		{"plain", "work_mem = '8MB'\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			data := filepath.Join(dir, "data")
			if err := os.Mkdir(data, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(data, "postgresql.auto.conf"), []byte(tc.conf), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, f := range tc.files {
				if err := os.WriteFile(filepath.Join(data, f), nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := resetRole(dir); err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(filepath.Join(data, "postgresql.auto.conf"))
			if err != nil {
				t.Fatal(err)
			}
			if got := string(raw); got != "work_mem = '8MB'\n" {
				t.Errorf("postgresql.auto.conf = %q", got)
			}
			for _, f := range []string{"standby.signal", "recovery.signal"} {
				if _, err := os.Stat(filepath.Join(data, f)); !os.IsNotExist(err) {
					t.Errorf("%s: %v, want gone", f, err)
				}
			}
			if strings.Contains(string(raw), "synchronous_standby_names") {
				t.Error("synchronous_standby_names kept")
			}
		})
	}
}

// A read replica's endpoint name is like every instance's: the account's
// and region's hash, so that the name resolves (dnszone serves them).
func TestReplicaEndpointName(t *testing.T) {
	sc := state.Scope{Account: "000000000000", Region: "us-east-1"}
	src := instanceRecord{DBInstance: rdsapi.DBInstance{DBInstanceIdentifier: ptr("src"), Engine: ptr("postgres"), Endpoint: &rdsapi.Endpoint{Address: ptr(endpointAddress(sc, "src")), Port: ptr(int32(5432))}}, Replica: &replicaState{}}
	r := newReplicaRecord(sc, "rep", &src, &rdsapi.CreateDBInstanceReadReplicaMessage{DBInstanceIdentifier: ptr("rep")})
	if got, want := deref(r.Endpoint.Address), endpointAddress(sc, "rep"); got != want {
		t.Fatalf("replica endpoint %q, want %q", got, want)
	}
}

// The storage size error names the instance's own engine.
func TestStorageErrorEngine(t *testing.T) {
	for _, engine := range []string{"postgres", "mariadb"} {
		r := &instanceRecord{DBInstance: rdsapi.DBInstance{Engine: ptr(engine), StorageType: ptr("gp2"), AllocatedStorage: ptr(int32(20))}}
		err := checkStorageChange(r, 70000)
		if err == nil || !strings.Contains(err.Error(), "engine name "+engine+" and storage type gp2") {
			t.Errorf("%s: %v", engine, err)
		}
	}
}
