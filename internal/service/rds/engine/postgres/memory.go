package postgres

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// classFile is the include file of the settings RDS's default parameter
// group computes from the class (DBInstanceClassMemory).
const classFile = "minicloud-class.conf"

// minBuffers is the smallest shared_buffers PostgreSQL takes (16 buffers
// of 8 kB).
const minBuffers = 16

// ClassBuffers gives the server in dir n buffers of 8 kB as
// shared_buffers, the default an RDS parameter group computes from
// DBInstanceClassMemory, unless the instance's own group sets
// shared_buffers (the params file WriteParams wrote before the start) or n
// is under PostgreSQL's minimum (no class known). It goes into a file
// postgresql.conf includes, not on the command line: a command-line value
// would override the group's and leave the file's value pending a restart
// forever (pg_settings.pending_restart). Without data yet it does nothing.
func ClassBuffers(dir string, n int64) error {
	if _, err := os.Stat(filepath.Join(dir, "data", "postgresql.conf")); err != nil {
		return nil
	}
	vals := map[string]string{}
	if n >= minBuffers && !groupSets(dir, "shared_buffers") {
		vals["shared_buffers"] = strconv.FormatInt(n, 10)
	}
	return writeInclude(dir, classFile, "the DB instance class (RDS's default group)", vals)
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
