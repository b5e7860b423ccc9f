package mariadb

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/minicloud/minicloud/internal/service/rds/engine"
)

var (
	_ engine.Monitoring = (*Engine)(nil)
	_ engine.LogExports = (*Engine)(nil)
)

// The general and slow query logs' files in the instance directory (Start
// names them to the server; it writes them once general_log or
// slow_query_log is on).
const (
	generalLogName = "general.log"
	slowLogName    = "slowquery.log"
)

// Connections is Threads_connected but the asking (administrative)
// connection.
func (m *Engine) Connections(ctx context.Context, _ *engine.Server, a engine.Access) (int, error) {
	var name string
	var n int
	if err := m.queryRow(ctx, a.Dir, "SHOW GLOBAL STATUS LIKE 'Threads_connected'", &name, &n); err != nil {
		return 0, fmt.Errorf("count connections: %w", err)
	}
	return max(n-1, 0), nil
}

// LogFile: error is the server's stderr's file, general and slowquery the
// files Start names; minicloud's servers have no audit plugin.
func (m *Engine) LogFile(dir, t string) string {
	switch t {
	case "error":
		return m.LogPath(dir)
	case "general":
		return filepath.Join(dir, generalLogName)
	case "slowquery":
		return filepath.Join(dir, slowLogName)
	}
	return ""
}
