package mariadb

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestStopAt(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"2026-11-28T01:02:03Z", "2026-11-28T01:02:03Z"},
		{"2026-11-28T01:02:03.001Z", "2026-11-28T01:02:04Z"},
		{"2026-11-28T01:02:59.999999999Z", "2026-11-28T01:03:00Z"},
		{"2026-11-28T02:02:03.5+01:00", "2026-11-28T01:02:04Z"},
	} {
		in, _ := time.Parse(time.RFC3339Nano, tc.in)
		want, _ := time.Parse(time.RFC3339, tc.want)
		if got := stopAt(in); !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("stopAt(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestBinlogs(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"mysql-bin.000002", "mysql-bin.1000000", "mysql-bin.000010", "mysql-bin.index", "mysql-bin.000001", "other.000001"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, err := binlogs(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"mysql-bin.000001", "mysql-bin.000002", "mysql-bin.000010", "mysql-bin.1000000"}
	if len(got) != len(want) {
		t.Fatalf("binlogs = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("binlogs = %v, want %v", got, want)
		}
	}
}
