package postgres

import (
	"context"
	"fmt"

	"github.com/minicloud/minicloud/internal/service/rds/engine"
)

var (
	_ engine.Monitoring = (*Engine)(nil)
	_ engine.LogExports = (*Engine)(nil)
)

// Connections counts pg_stat_activity's client backends but the asking
// one (background workers, WAL senders and the like are not clients).
func (e *Engine) Connections(ctx context.Context, p *engine.Server, a engine.Access) (int, error) {
	c, err := connect(ctx, p.Port, a.User, a.Password)
	if err != nil {
		return 0, fmt.Errorf("count connections: %w", err)
	}
	defer c.Close(ctx)
	var n int
	err = c.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()").Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count connections: %w", err)
	}
	return n, nil
}

// LogFile: the server's log (postgresql) is its stderr's file; minicloud
// never runs pg_upgrade, so "upgrade" has none.
func (e *Engine) LogFile(dir, t string) string {
	if t == "postgresql" {
		return e.LogPath(dir)
	}
	return ""
}
