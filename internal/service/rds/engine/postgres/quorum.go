package postgres

import (
	"context"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/service/rds/engine"
)

// Quorum commit (engine.QuorumCommit): the primary's
// synchronous_standby_names is 'ANY 1 ("<replica>", …)', each replica
// named by its application_name (its DBInstanceIdentifier, as
// PrepareReplica gives it), so a commit is acknowledged once any one
// replica has flushed its WAL — PostgreSQL's quorum-based synchronous
// replication, as a Multi-AZ primary waits for its standby.

// The engine offers quorum commit to Aurora readers.
var _ engine.QuorumCommit = (*Engine)(nil)

// quorumNames is synchronous_standby_names for replicas ("" for none), in a
// stable order so that an unchanged set rewrites nothing.
func quorumNames(replicas []engine.Replica) string {
	if len(replicas) == 0 {
		return ""
	}
	names := make([]string, 0, len(replicas))
	for _, r := range replicas {
		names = append(names, `"`+r.ID+`"`)
	}
	slices.Sort(names)
	return "ANY 1 (" + strings.Join(slices.Compact(names), ", ") + ")"
}

// SyncReplicas sets the primary's synchronous_standby_names to a quorum
// of one of replicas (none: no wait) and waits until the reloaded server
// has it.
func (e *Engine) SyncReplicas(ctx context.Context, p *engine.Server, dir, password string, replicas []engine.Replica) error {
	return setSyncNames(ctx, dir, p, password, quorumNames(replicas))
}

// Streaming lists the replicas whose WAL sender on the primary streams.
func (e *Engine) Streaming(ctx context.Context, p *engine.Server, password string, replicas []engine.Replica) ([]string, error) {
	c, err := connect(ctx, p.Port, replUser, password)
	if err != nil {
		return nil, err
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var on []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		if slices.ContainsFunc(replicas, func(r engine.Replica) bool { return r.ID == name }) {
			on = append(on, name)
		}
	}
	return on, rows.Err()
}

// Received is the replica's last WAL position received (or replayed, for a
// replica that receives nothing now), in bytes.
func (e *Engine) Received(ctx context.Context, p *engine.Server, password string) (uint64, error) {
	c, err := connect(ctx, p.Port, replUser, password)
	if err != nil {
		return 0, err
	}
	defer c.Close(ctx)
	var pos int64
	err = c.QueryRow(ctx, "SELECT pg_wal_lsn_diff(coalesce(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn(), '0/0'), '0/0')::bigint").Scan(&pos)
	return uint64(max(pos, 0)), err
}

// Adopt gives the promoted replica p the other replicas' replication
// slots, as a promoted Multi-AZ standby gets its instance's read replicas'.
func (e *Engine) Adopt(ctx context.Context, p *engine.Server, password string, replicas []engine.Replica) error {
	return carryReplicaSlots(ctx, "127.0.0.1", p.Port, password, replicas)
}
