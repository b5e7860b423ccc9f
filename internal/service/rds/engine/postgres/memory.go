package postgres

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// minBuffers is the smallest shared_buffers PostgreSQL takes (16 buffers
// of 8 kB).
const minBuffers = 16

// SharedBuffers is the shared_buffers setting of n buffers of 8 kB, the
// default an RDS parameter group computes from DBInstanceClassMemory: none
// when the instance's own group sets shared_buffers (the params file
// WriteParams wrote in dir before the start: command-line settings would
// override it) or n is below PostgreSQL's minimum (no class known).
func SharedBuffers(dir string, n int64) []string {
	if n < minBuffers || groupSets(dir, "shared_buffers") {
		return nil
	}
	return []string{"shared_buffers=" + strconv.FormatInt(n, 10)}
}

// groupSets reports whether the params file in dir sets name.
func groupSets(dir, name string) bool {
	raw, err := os.ReadFile(filepath.Join(dir, "data", paramsFile))
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(raw)) {
		if k, _, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == name {
			return true
		}
	}
	return false
}
