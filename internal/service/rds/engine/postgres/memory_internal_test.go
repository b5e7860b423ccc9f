package postgres

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// SharedBuffers: the class's default unless the group sets shared_buffers
// or no class is known.
func TestSharedBuffers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, params string
		n            int64
		want         []string
	}{
		{"class default", "", 32768, []string{"shared_buffers=32768"}},
		{"other parameters in the group", "work_mem = '8MB'\nshared_preload_libraries = 'x'\n", 32768, []string{"shared_buffers=32768"}},
		{"the group sets it", "work_mem = '8MB'\nshared_buffers = '65536'\n", 32768, nil},
		{"no class", "", 0, nil},
		{"under the minimum", "", 15, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.params != "" {
				if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "data", paramsFile), []byte(tc.params), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if got := SharedBuffers(dir, tc.n); !slices.Equal(got, tc.want) {
				t.Errorf("SharedBuffers = %q, want %q", got, tc.want)
			}
		})
	}
}
