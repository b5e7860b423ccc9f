package postgres

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ClassBuffers: the class's default in the class file postgresql.conf
// includes, unless the group sets shared_buffers or no class is known.
func TestClassBuffers(t *testing.T) {
	t.Parallel()
	if _, err := serverUser(); err != nil {
		t.Skip("no server user:", err)
	}
	for _, tc := range []struct {
		name, params string
		n            int64
		want         string // the class file's setting, "" for none
	}{
		{"class default", "", 32768, "shared_buffers = '32768'"},
		{"other parameters in the group", "work_mem = '8MB'\nshared_preload_libraries = 'x'\n", 32768, "shared_buffers = '32768'"},
		{"the group sets it", "work_mem = '8MB'\nshared_buffers = '65536'\n", 32768, ""},
		{"no class", "", 0, ""},
		{"under the minimum", "", 15, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			data := filepath.Join(dir, "data")
			if err := os.MkdirAll(data, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(data, "postgresql.conf"), []byte("shared_buffers = 128MB\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(data, paramsFile), []byte(tc.params), 0o600); err != nil {
				t.Fatal(err)
			}
			for range 2 { // idempotent: one include line
				if err := ClassBuffers(dir, tc.n); err != nil {
					t.Fatal(err)
				}
			}
			raw, _ := os.ReadFile(filepath.Join(data, classFile))
			if got := strings.Contains(string(raw), "shared_buffers"); got != (tc.want != "") || (tc.want != "" && !strings.Contains(string(raw), tc.want)) {
				t.Errorf("class file %q, want %q", raw, tc.want)
			}
			conf, _ := os.ReadFile(filepath.Join(data, "postgresql.conf"))
			if n := strings.Count(string(conf), "include_if_exists = '"+classFile+"'"); n != 1 {
				t.Errorf("postgresql.conf includes the class file %d times:\n%s", n, conf)
			}
		})
	}
	if err := ClassBuffers(t.TempDir(), 32768); err != nil {
		t.Errorf("without data: %v", err)
	}
}
