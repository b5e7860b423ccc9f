package mariadb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/minicloud/minicloud/internal/service/rds/engine"
)

// Quorum commit (engine.QuorumCommit) is MariaDB's semi-synchronous
// replication, built into the server since 10.3: the writer's
// rpl_semi_sync_master_enabled makes each commit wait until one replica
// whose rpl_semi_sync_slave_enabled is on (every replica's: Replicate
// sets it before START SLAVE) has the transaction in its relay log. The
// wait point is AFTER_SYNC: the writer's binary log is synced, then the
// commit waits for the acknowledgement before it becomes visible, so no
// client ever reads (or is told of) a commit that only the writer has.
//
// MariaDB waits for one acknowledgement from whichever semi-synchronous
// replica answers first: it has no named quorum as PostgreSQL has, so the
// replicas the controller lists only decide whether the writer waits at
// all. The trade-off is the PostgreSQL side's (controller/cluster.go,
// syncReaders): with no replica acknowledging, the writer commits alone
// after semiSyncTimeout (MariaDB then falls back to asynchronous
// replication by itself, and back to semi-synchronous once a replica has
// caught up), and the controller's periodic check turns the wait off when
// no replica streams. A commit acknowledged in that window is on the
// writer only, and a failover then could lose it.

// The engine offers quorum commit to Aurora MySQL readers.
var _ engine.QuorumCommit = (*Engine)(nil)

// semiSyncTimeout (ms) is how long a commit waits for a replica's
// acknowledgement before the writer commits alone: the controller's check
// period, as the PostgreSQL side's commits may stall that long.
const semiSyncTimeout = 2000

// serverDir is the instance directory of the running server p.
func (m *Engine) serverDir(p *engine.Server) (string, error) {
	if d, ok := m.dirs.Load(p); ok {
		return d.(string), nil
	}
	return "", errors.New("the server does not run")
}

// SyncReplicas turns the writer's semi-synchronous wait on when replicas
// is not empty (a commit waits for any one replica), off when it is.
func (m *Engine) SyncReplicas(ctx context.Context, _ *engine.Server, dir, _ string, replicas []engine.Replica) error {
	if len(replicas) == 0 {
		return m.exec(ctx, dir, "SET GLOBAL rpl_semi_sync_master_enabled=OFF")
	}
	return m.exec(ctx, dir,
		"SET GLOBAL rpl_semi_sync_master_wait_point='AFTER_SYNC'",
		"SET GLOBAL rpl_semi_sync_master_timeout="+strconv.Itoa(semiSyncTimeout),
		"SET GLOBAL rpl_semi_sync_master_enabled=ON")
}

// Streaming lists the replicas connected to the writer p for its binary
// log (SHOW SLAVE HOSTS, by server_id).
func (m *Engine) Streaming(ctx context.Context, p *engine.Server, _ string, replicas []engine.Replica) ([]string, error) {
	dir, err := m.serverDir(p)
	if err != nil {
		return nil, err
	}
	rows, err := m.queryMaps(ctx, dir, "SHOW SLAVE HOSTS")
	if err != nil {
		return nil, err
	}
	var on []string
	for _, r := range replicas {
		id := strconv.FormatUint(uint64(serverID(r.ResourceID)), 10)
		if slices.ContainsFunc(rows, func(row map[string]string) bool { return row["Server_id"] == id }) {
			on = append(on, r.ID)
		}
	}
	return on, nil
}

// Received is the highest GTID sequence number the replica p has received
// (Gtid_IO_Pos: in its relay log, which is what a semi-synchronous
// acknowledgement promises) or applied: sequence numbers grow across a
// replication topology's writers, so of two replicas the larger has more.
func (m *Engine) Received(ctx context.Context, p *engine.Server, _ string) (uint64, error) {
	dir, err := m.serverDir(p)
	if err != nil {
		return 0, err
	}
	var applied string
	if err := m.queryRow(ctx, dir, "SELECT @@gtid_slave_pos", &applied); err != nil {
		return 0, err
	}
	rows, err := m.queryMaps(ctx, dir, "SHOW SLAVE STATUS")
	if err != nil {
		return 0, err
	}
	n := gtidSeq(applied)
	if len(rows) > 0 {
		n = max(n, gtidSeq(rows[0]["Gtid_IO_Pos"]))
	}
	return n, nil
}

// gtidSeq is the highest sequence number in a GTID position
// ("domain-server-seq", comma separated).
func gtidSeq(pos string) uint64 {
	var most uint64
	for g := range strings.SplitSeq(pos, ",") {
		parts := strings.Split(strings.TrimSpace(g), "-")
		if len(parts) != 3 {
			continue
		}
		if n, err := strconv.ParseUint(parts[2], 10, 64); err == nil {
			most = max(most, n)
		}
	}
	return most
}

// Adopt has nothing to give: MariaDB has no replication slots; the other
// replicas follow the new writer from their GTID position (Replicate).
func (m *Engine) Adopt(context.Context, *engine.Server, string, []engine.Replica) error { return nil }

// queryMaps runs q on dir's server and returns its rows as column → value;
// a NULL column is left out.
func (m *Engine) queryMaps(ctx context.Context, dir, q string) ([]map[string]string, error) {
	db, done, err := m.admin(dir)
	if err != nil {
		return nil, err
	}
	defer done()
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []map[string]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make(map[string]string, len(cols))
		for i, c := range cols {
			if vals[i].Valid {
				row[c] = vals[i].String
			}
		}
		out = append(out, row)
	}
	return out, rows.Err()
}
