package postgres

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/minicloud/minicloud/internal/service/rds/engine"
)

// Multi-AZ standbys: a second, hidden postgres server in <instance
// dir>/standby, a physical standby of the primary streaming over the
// primary's Unix socket like a read replica, but synchronous (the
// primary's synchronous_standby_names names it, so a commit acknowledged
// to a client is flushed on the standby too) and not readable (hot_standby
// off). It listens on no TCP address at all: clients can neither resolve
// nor reach it.
//
// The primary's data is always <instance dir>/data, so everything else
// (read replicas, the loopback port, the controller) keeps finding it
// there: a failover stops the primary (a clean shutdown first sends the
// standby every WAL record), promotes the standby, stops it and swaps the
// data directories (SwapStandby).

// standbyApp is the standby's application_name on the primary, the name
// synchronous_standby_names gives.
const standbyApp = "rds_multi_az_standby"

// standbySlot is the standby's physical replication slot on the primary.
const standbySlot = "rds_multi_az_standby"

// standbyDir is the standby server's instance directory inside dir.
func standbyDir(dir string) string { return filepath.Join(dir, "standby") }

// BuildStandby makes dir/standby/data a base backup of the running primary
// p, streamed from its socket with the standby's slot (an earlier one
// dropped first) as the replication role, which it creates; until the
// standby streams, the primary does not wait for it.
func (e *Engine) BuildStandby(ctx context.Context, p *engine.Server, primary engine.Access, password string, port int) error {
	dir := primary.Dir
	if err := ensureReplRole(ctx, dir, p.Port, primary.User, primary.Password, password); err != nil {
		return fmt.Errorf("replication role: %w", err)
	}
	if err := setSyncStandby(ctx, dir, p, password, ""); err != nil {
		return err
	}
	if err := dropSlot(ctx, p.Port, password, standbySlot); err != nil {
		return fmt.Errorf("the standby's replication slot: %w", err)
	}
	f, err := os.Open(sockDir(dir))
	if err != nil {
		return err
	}
	sdir := standbyDir(dir)
	err = e.replicaBaseBackup(sdir, f, port, password, standbySlot, standbyApp)
	_ = f.Close()
	if err != nil {
		return fmt.Errorf("the standby's base backup: %w", err)
	}
	return stripAutoConf(sdir, "synchronous_standby_names")
}

// StartStandby points the standby at the primary's port and runs its
// postgres on dir/standby/data: on its Unix socket only (listen_addresses
// is empty: no client reaches a standby), inheriting the primary's socket
// directory as fd 4, inside vpc's namespace when placed.
func (e *Engine) StartStandby(dir string, port int, vpc *engine.Listen, password string) (*engine.Server, error) {
	sdir := standbyDir(dir)
	if _, err := writeStandbyConf(sdir, standbyApp, standbySlot, password, port, false); err != nil {
		return nil, err
	}
	if err := ensureStandbySignal(sdir); err != nil {
		return nil, err
	}
	src, err := os.Open(sockDir(dir))
	if err != nil {
		return nil, err
	}
	defer src.Close()
	p, err := e.launch(sdir, port, vpc, []string{"listen_addresses="}, []*os.File{src})
	if err != nil {
		return nil, fmt.Errorf("start the standby's postgres: %w", err)
	}
	return p, nil
}

// RetargetStandby follows a primary that restarted on another port.
func (e *Engine) RetargetStandby(sb *engine.Server, dir string, port int, password string) error {
	changed, err := writeStandbyConf(standbyDir(dir), standbyApp, standbySlot, password, port, false)
	if err != nil {
		return err
	}
	if changed {
		_ = sb.Signal(syscall.SIGHUP)
	}
	return nil
}

// SyncStandby sets the primary's synchronous_standby_names to the
// standby's name (on) or none, and waits until the reloaded server has it.
func (e *Engine) SyncStandby(ctx context.Context, p *engine.Server, dir, password string, on bool) error {
	name := ""
	if on {
		name = standbyApp
	}
	return setSyncStandby(ctx, dir, p, password, name)
}

// setSyncStandby sets the primary's synchronous_standby_names to name
// ("" for none) and waits until the reloaded server has it.
func setSyncStandby(ctx context.Context, dir string, p *engine.Server, password, name string) error {
	want := ""
	if name != "" {
		want = `"` + name + `"`
	}
	return setSyncNames(ctx, dir, p, password, want)
}

// setSyncNames sets the primary's synchronous_standby_names to want ("" for
// none) and waits until the reloaded server has it.
func setSyncNames(ctx context.Context, dir string, p *engine.Server, password, want string) error {
	var lines []string
	if want != "" {
		lines = []string{"synchronous_standby_names = '" + want + "'"}
	}
	changed, err := setAutoConf(dir, []string{"synchronous_standby_names"}, lines)
	if err != nil {
		return err
	}
	if changed {
		if err := p.Signal(syscall.SIGHUP); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := showSetting(ctx, p.Port, password, "synchronous_standby_names")
		if err == nil && got == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("synchronous_standby_names is %q (%v), want %q", got, err, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func showSetting(ctx context.Context, port int, password, name string) (string, error) {
	c, err := connect(ctx, port, replUser, password)
	if err != nil {
		return "", err
	}
	defer c.Close(ctx)
	var v string
	err = c.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v)
	return v, err
}

// WaitStandby waits until the primary streams to the standby.
func (e *Engine) WaitStandby(ctx context.Context, sb, p *engine.Server, dir, password string) error {
	sdir := standbyDir(dir)
	deadline := time.Now().Add(60 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		if !sb.Running() {
			raw, _ := os.ReadFile(e.LogPath(sdir))
			return fmt.Errorf("the standby's postgres exited (%v): %s", sb.Err(), engine.LastLines(string(raw), 5))
		}
		state, err := replicationStateOf(ctx, p.Port, password)
		if err == nil && state == "streaming" {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("the standby did not stream from the primary within 60s (%v): %s", last, walReceiverError(sdir))
}

// replicationStateOf is the standby's replication state on the primary
// (pg_stat_replication's state), "" when it is not connected.
func replicationStateOf(ctx context.Context, port int, password string) (string, error) {
	c, err := connect(ctx, port, replUser, password)
	if err != nil {
		return "", err
	}
	defer c.Close(ctx)
	var st string
	err = c.QueryRow(ctx, "SELECT coalesce((SELECT state FROM pg_stat_replication WHERE application_name = $1 LIMIT 1), '')", standbyApp).Scan(&st)
	return st, err
}

// PromoteStandby promotes the running standby and gives it the
// replication slots of the instance's read replicas.
func (e *Engine) PromoteStandby(ctx context.Context, sb *engine.Server, dir, password string, replicas []engine.Replica) error {
	sdir := standbyDir(dir)
	if err := promoteStandby(ctx, sb, sdir, password); err != nil {
		return fmt.Errorf("promote the standby: %w", err)
	}
	return carryReplicaSlots(ctx, sockDir(sdir), sb.Port, password, replicas)
}

// promoteStandby promotes the running standby (as pg_ctl promote does: the
// file "promote" and SIGUSR1 to the postmaster) and waits until it has left
// recovery.
func promoteStandby(ctx context.Context, sb *engine.Server, sdir, password string) error {
	if err := writeSignal(filepath.Join(sdir, "data", "promote")); err != nil {
		return err
	}
	deadline := time.Now().Add(60 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		if !sb.Running() {
			raw, _ := os.ReadFile(filepath.Join(sdir, "postgresql.log"))
			return fmt.Errorf("the standby's postgres exited (%v): %s", sb.Err(), engine.LastLines(string(raw), 5))
		}
		// The postmaster may not have been ready for the signal yet:
		// repeat it until the promotion shows.
		_ = sb.Signal(syscall.SIGUSR1)
		// On its socket: a standby with hot_standby off listens nowhere
		// else.
		in, err := inRecovery(ctx, sockDir(sdir), sb.Port, password)
		if err == nil && !in {
			return nil
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("the standby did not leave recovery within 60s: %v", last)
}

// carryReplicaSlots gives the promoted server on host (a socket directory
// or an address) and port — a Multi-AZ standby, an Aurora reader — the
// replication slots of the replicas that are to follow it (physical slots
// stay with the server that made them), so the replicas, which reach the primary through its socket
// directory, follow the new primary onto its timeline. Each slot reserves
// WAL at once, from the promoted server's last restartpoint: a replica
// resumes from before the promotion, and the new standby's base backup
// would otherwise let that WAL be recycled first.
func carryReplicaSlots(ctx context.Context, host string, port int, password string, replicas []engine.Replica) error {
	if len(replicas) == 0 {
		return nil
	}
	conn, err := connectAt(ctx, host, port, replUser, password)
	if err != nil {
		return fmt.Errorf("connect to the promoted standby: %w", err)
	}
	defer conn.Close(ctx)
	for _, r := range replicas {
		slot := slotName(r)
		if _, err := conn.Exec(ctx, "SELECT pg_create_physical_replication_slot($1, true) WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = $1)", slot); err != nil {
			return fmt.Errorf("replication slot of the read replica %s: %w", r.ID, err)
		}
	}
	return nil
}

// SwapStandby makes the promoted standby's data the primary's (dir/data),
// discarding the old primary's; it can be repeated after a crash at any
// point.
func (e *Engine) SwapStandby(dir string) error {
	sdata, data, old := filepath.Join(standbyDir(dir), "data"), filepath.Join(dir, "data"), filepath.Join(dir, "data.old")
	if _, err := os.Stat(sdata); err == nil {
		if err := os.RemoveAll(old); err != nil {
			return err
		}
		if _, err := os.Stat(data); err == nil {
			if err := os.Rename(data, old); err != nil {
				return err
			}
		}
		if err := os.Rename(sdata, data); err != nil {
			return err
		}
	} else if !os.IsNotExist(err) {
		return err
	}
	if err := os.RemoveAll(old); err != nil {
		return err
	}
	// The promoted server is a primary without a standby for now.
	return resetRole(dir)
}

// RemoveStandby drops the standby's slot on the running primary p (with
// the replication role's password, if it has one) and removes the
// standby's data.
func (e *Engine) RemoveStandby(ctx context.Context, p *engine.Server, dir, password string) error {
	if password != "" {
		if err := dropSlot(ctx, p.Port, password, standbySlot); err != nil {
			return fmt.Errorf("the standby's replication slot: %w", err)
		}
	}
	return os.RemoveAll(standbyDir(dir))
}
