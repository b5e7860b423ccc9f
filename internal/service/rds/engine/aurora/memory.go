package aurora

import (
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/engine/postgres"
)

// Settings are PostgreSQL's with Aurora PostgreSQL's default
// shared_buffers: SUM({DBInstanceClassMemory/12038},-50003) buffers of
// 8 kB (about two thirds of the memory: Aurora has no file system cache to
// leave room for).
func (e *PostgreSQL) Settings(dir string, in engine.Instance) ([]string, error) {
	mem := in.ClassMemory
	in.ClassMemory = 0 // not PostgreSQL's quarter
	out, err := e.Engine.Settings(dir, in)
	if err != nil {
		return nil, err
	}
	return out, postgres.ClassBuffers(dir, mem/12038-50003)
}
