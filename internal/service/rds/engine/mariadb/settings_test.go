package mariadb

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/minicloud/minicloud/internal/service/rds/engine"
)

// A MariaDB source without automated backups keeps its binary logs while
// it has read replicas.
func TestMariaSettingsKeepBinlogsForReplicas(t *testing.T) {
	if _, err := serverUser(); err != nil {
		t.Fatalf("no mysql user (apt-get install mariadb-server): %v", err)
	}
	for _, tc := range []struct {
		name        string
		hasReplicas bool
		kept        bool
	}{
		{"no replicas", false, false},
		{"replicas", true, true},
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
			in := engine.Instance{ResourceID: "db-X", HasReplicas: tc.hasReplicas}
			if _, err := New("", engine.Runner{}).Settings(dir, in); err != nil {
				t.Fatal(err)
			}
			_, err := os.Stat(filepath.Join(logs, binlogBase+".000001"))
			if kept := err == nil; kept != tc.kept {
				t.Fatalf("binary log kept %v, want %v (%v)", kept, tc.kept, err)
			}
		})
	}
}
