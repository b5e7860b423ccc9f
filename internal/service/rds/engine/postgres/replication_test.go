package postgres

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minicloud/minicloud/internal/service/rds/engine"
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

// A quorum of one names every replica once, in a stable order, quoted as
// their application_name; no replicas is no synchronous standby.
func TestQuorumNames(t *testing.T) {
	r := func(ids ...string) []engine.Replica {
		var out []engine.Replica
		for _, id := range ids {
			out = append(out, engine.Replica{ID: id})
		}
		return out
	}
	for _, tc := range []struct {
		in   []engine.Replica
		want string
	}{
		{nil, ""},
		{r("reader-1"), `ANY 1 ("reader-1")`},
		{r("b", "a", "b"), `ANY 1 ("a", "b")`},
	} {
		if got := quorumNames(tc.in); got != tc.want {
			t.Errorf("quorumNames(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
