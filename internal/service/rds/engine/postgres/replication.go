package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/minicloud/minicloud/internal/service/rds/engine"
)

// Read replicas: streaming replication over the source's Unix socket (see
// the package comment).

const replUser = engine.ReplUser

// slotName is a replica's replication slot on its source, named as AWS
// names them: rds_<region>_db_<resource id>.
func slotName(r engine.Replica) string {
	id := strings.ToLower(strings.TrimPrefix(r.ResourceID, "db-"))
	return "rds_" + strings.ReplaceAll(r.Region, "-", "_") + "_db_" + id
}

// Clone makes dir/data a standby of the running source: the replication
// role on the source (a cascading source got it with its data), the
// replica's slot there (an earlier attempt's dropped first), and a base
// backup streamed from the source's socket.
func (e *Engine) Clone(ctx context.Context, dir string, r engine.Replica, src engine.Source) error {
	pw := r.ReplPassword
	if !src.Replica {
		if err := ensureReplRole(ctx, src.Dir, src.Server.Port, src.User, src.Password, pw); err != nil {
			return fmt.Errorf("replication role on %s: %w", src.ID, err)
		}
	}
	slot := slotName(r)
	if err := dropSlot(ctx, src.Server.Port, pw, slot); err != nil { // an earlier attempt's
		return fmt.Errorf("replication slot on %s: %w", src.ID, err)
	}
	f, err := os.Open(sockDir(src.Dir))
	if err != nil {
		return err
	}
	defer f.Close()
	return e.replicaBaseBackup(dir, f, src.Port, pw, slot, r.ID)
}

// replicaBaseBackup makes dir/data a standby of the server whose Unix
// socket directory is srcSock and whose port is srcPort: pg_basebackup
// with -R (standby.signal, primary_conninfo), streaming the WAL it needs
// and creating the replica's replication slot on the source. It runs as
// the server user with dir as fd 3 and srcSock as fd 4, so neither path's
// ancestors need be searchable by that user.
func (e *Engine) replicaBaseBackup(dir string, srcSock *os.File, srcPort int, password, slot, appName string) error {
	u, err := serverUser()
	if err != nil {
		return err
	}
	if err := engine.PrepareDir(dir, u); err != nil {
		return err
	}
	if err := os.RemoveAll(filepath.Join(dir, "data")); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	cmd := e.command(u, d, "pg_basebackup",
		"-d", fmt.Sprintf("host=/proc/self/fd/4 port=%d user=%s application_name=%s", srcPort, replUser, appName),
		"-D", fdDir+"/data", "-X", "stream", "-c", "fast", "-R", "-C", "-S", slot, "-w", "--no-sync")
	cmd.ExtraFiles = append(cmd.ExtraFiles, srcSock)
	cmd.Env = append(cmd.Env, "PGPASSWORD="+password, "PGCONNECT_TIMEOUT=10")
	out, err := engine.OnOwnThread(cmd.CombinedOutput)
	if err != nil {
		return fmt.Errorf("pg_basebackup from port %s: %v: %s", strconv.Itoa(srcPort), err, engine.LastLines(string(out), 5))
	}
	return nil
}

// ensureReplRole creates (or resets) the replication role on a primary,
// lets it in over the Unix socket and lets it read replication statistics.
func ensureReplRole(ctx context.Context, srcDir string, port int, master, masterPassword, password string) error {
	hba := filepath.Join(srcDir, "data", "pg_hba.conf")
	raw, err := os.ReadFile(hba)
	if err != nil {
		return err
	}
	const line = "local replication " + replUser + " scram-sha-256"
	if !strings.Contains(string(raw), line) {
		// First match wins in pg_hba.conf: the entry goes first.
		out := "# minicloud: read replicas stream over the unix socket\n" + line + "\n" + string(raw)
		if err := os.WriteFile(hba, []byte(out), 0o600); err != nil {
			return err
		}
	}
	pw := quoteLiteral(password)
	return execSQL(ctx, port, master, masterPassword,
		"DO $$BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = '"+replUser+"') THEN ALTER ROLE "+replUser+
			" WITH LOGIN REPLICATION PASSWORD "+pw+"; ELSE CREATE ROLE "+replUser+" WITH LOGIN REPLICATION PASSWORD "+pw+"; END IF; END$$",
		"GRANT pg_read_all_stats TO "+replUser,
		"SELECT pg_reload_conf()")
}

// dropSlot drops an inactive replication slot if it exists.
func dropSlot(ctx context.Context, port int, password, slot string) error {
	c, err := connect(ctx, port, replUser, password)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	var active bool
	err = c.QueryRow(ctx, "SELECT active FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&active)
	if err != nil {
		if strings.Contains(err.Error(), "no rows") {
			return nil
		}
		return err
	}
	if active {
		return fmt.Errorf("replication slot %s is still in use", slot)
	}
	_, err = c.Exec(ctx, "SELECT pg_drop_replication_slot($1)", slot)
	return err
}

// standbyKeys are the settings writeStandbyConf owns in
// postgresql.auto.conf.
var standbyKeys = []string{"primary_conninfo", "primary_slot_name", "hot_standby", "wal_retrieve_retry_interval"}

// writeStandbyConf makes dir/data a standby of the server whose socket
// directory it inherits as fd 4 (a read replica's source, a Multi-AZ
// standby's primary), on that server's current port, streaming from slot as
// appName (pg_basebackup -R made its standby.signal). hotStandby: whether
// it serves reads (a read replica) or not (a Multi-AZ standby, as on AWS).
// It reports whether the settings changed.
func writeStandbyConf(dir, appName, slot, password string, port int, hotStandby bool) (bool, error) {
	conninfo := fmt.Sprintf("user=%s password=%s host=/proc/self/fd/4 port=%d application_name=%s sslmode=disable", replUser, password, port, appName)
	hot := "off"
	if hotStandby {
		hot = "on"
	}
	return setAutoConf(dir, standbyKeys, []string{
		"primary_conninfo = '" + conninfo + "'",
		"primary_slot_name = '" + slot + "'",
		"hot_standby = " + hot,
		// Catch up quickly after the source restarts (default 5 s).
		"wal_retrieve_retry_interval = '1s'",
	})
}

// stripAutoConf removes the settings named keys from dir/data's
// postgresql.auto.conf.
func stripAutoConf(dir string, keys ...string) error {
	_, err := setAutoConf(dir, keys, nil)
	return err
}

// setAutoConf replaces the settings named keys in dir/data's
// postgresql.auto.conf by lines; it reports whether the file changed.
func setAutoConf(dir string, keys, lines []string) (bool, error) {
	p := filepath.Join(dir, "data", "postgresql.auto.conf")
	raw, err := os.ReadFile(p)
	if err != nil {
		return false, err
	}
	var out []string
	for _, l := range strings.Split(strings.TrimRight(string(raw), "\n"), "\n") {
		key := strings.TrimSpace(strings.SplitN(l, "=", 2)[0])
		if !slices.Contains(keys, key) {
			out = append(out, l)
		}
	}
	out = append(out, lines...)
	text := strings.Join(out, "\n") + "\n"
	if text == string(raw) {
		return false, nil
	}
	return true, os.WriteFile(p, []byte(text), 0o600)
}

// ensureStandbySignal makes dir/data's standby.signal (pg_basebackup -R
// made it) again if it is gone. Read replicas do not: a replica's
// standby.signal only goes with its promotion.
func ensureStandbySignal(dir string) error {
	sig := filepath.Join(dir, "data", "standby.signal")
	if _, err := os.Stat(sig); !os.IsNotExist(err) {
		return err
	}
	return writeSignal(sig)
}

// writeSignal creates an empty signal file for the server (standby.signal,
// promote, recovery.signal), owned by the server user.
func writeSignal(path string) error {
	u, err := serverUser()
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		return err
	}
	return u.Chown(path)
}

// resetRole makes dir/data a standalone primary's: a copy of another
// server's data (a snapshot's, a base backup's) or a promoted standby's
// keeps that server's role in postgresql.auto.conf and its signal files
// (a standby's settings and standby.signal; a Multi-AZ primary's
// synchronous_standby_names, with which every commit would wait for a
// standby that does not exist).
func resetRole(dir string) error {
	if _, err := setAutoConf(dir, append(slices.Clone(standbyKeys), "synchronous_standby_names"), nil); err != nil {
		return err
	}
	for _, f := range []string{"standby.signal", "recovery.signal"} {
		if err := os.Remove(filepath.Join(dir, "data", f)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

// PrepareReplica points the replica's standby settings at its source's
// current port and returns the source's socket directory, which the
// replica's server inherits as fd 4.
func (e *Engine) PrepareReplica(dir string, r engine.Replica, src engine.Source) ([]*os.File, error) {
	if _, err := writeStandbyConf(dir, r.ID, slotName(r), r.ReplPassword, src.Port, true); err != nil {
		return nil, err
	}
	f, err := os.Open(sockDir(src.Dir))
	if err != nil {
		return nil, fmt.Errorf("the socket directory of the source %s: %w", src.ID, err)
	}
	return []*os.File{f}, nil
}

// Replicate does nothing: a replica's server streams from its source by
// its settings (PrepareReplica) and reconnects by itself.
func (e *Engine) Replicate(context.Context, *engine.Server, string, engine.Replica, engine.Source) error {
	return nil
}

// Retarget rewrites the replica's primary_conninfo for its source's
// current port and has the server reload it (it is reloadable).
func (e *Engine) Retarget(p *engine.Server, dir string, r engine.Replica, src engine.Source) error {
	changed, err := writeStandbyConf(dir, r.ID, slotName(r), r.ReplPassword, src.Port, true)
	if err == nil && changed {
		err = p.Signal(syscall.SIGHUP)
	}
	return err
}

// Promote promotes the replica (as pg_ctl promote does: the file "promote"
// and SIGUSR1 to the postmaster), waits until it accepts writes and drops
// what it kept of its source's role.
func (e *Engine) Promote(ctx context.Context, p *engine.Server, dir string, r engine.Replica, _ engine.Source) error {
	pw := r.ReplPassword
	rec, err := inRecovery(ctx, "127.0.0.1", p.Port, pw)
	if err != nil {
		return err
	}
	if rec {
		// PROMOTE_SIGNAL_FILE of PostgreSQL is "promote" (pg_ctl promote writes it).
		if err := writeSignal(filepath.Join(dir, "data", "promote")); err != nil {
			return err
		}
		if err := p.Signal(syscall.SIGUSR1); err != nil {
			return err
		}
		deadline := time.Now().Add(60 * time.Second)
		for rec {
			if time.Now().After(deadline) {
				return errors.New("the replica did not leave recovery within 60s of its promotion")
			}
			time.Sleep(50 * time.Millisecond)
			if rec, err = inRecovery(ctx, "127.0.0.1", p.Port, pw); err != nil {
				return err
			}
		}
	}
	// The running server read its source's synchronous_standby_names (a
	// Multi-AZ source's names its standby) from the copied data: without
	// it again, now, before its first commit as a primary waits forever.
	if err := setSyncStandby(ctx, dir, p, pw, ""); err != nil {
		return err
	}
	return resetRole(dir)
}

// inRecovery asks the server on host (127.0.0.1, or a Unix socket's
// directory) and port, as the replication role, whether it is in recovery.
func inRecovery(ctx context.Context, host string, port int, password string) (bool, error) {
	c, err := connectAt(ctx, host, port, replUser, password)
	if err != nil {
		return false, err
	}
	defer c.Close(ctx)
	var in bool
	err = c.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&in)
	return in, err
}

// Hold is the replica's replication slot on its source.
func (e *Engine) Hold(r engine.Replica) string { return slotName(r) }

// Release drops the slot hold on the running source.
func (e *Engine) Release(ctx context.Context, src *engine.Server, password, hold string) error {
	return dropSlot(ctx, src.Port, password, hold)
}

// ReplicationError is the last error the replica's server logged about
// reaching its source (its WAL receiver's), if any.
func (e *Engine) ReplicationError(dir string) string { return walReceiverError(dir) }

func walReceiverError(dir string) string {
	f, err := os.Open(filepath.Join(dir, "postgresql.log"))
	if err != nil {
		return ""
	}
	defer f.Close()
	const tail = 16 << 10
	if fi, err := f.Stat(); err == nil && fi.Size() > tail {
		_, _ = f.Seek(fi.Size()-tail, 0)
	}
	buf := make([]byte, tail)
	n, _ := f.Read(buf)
	lines := strings.Split(string(buf[:n]), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		if j := strings.Index(l, "FATAL:"); j >= 0 && (strings.Contains(l, "primary") || strings.Contains(l, "replication")) {
			return strings.TrimSpace(l[j+len("FATAL:"):])
		}
	}
	return ""
}

// Lag measures how far a replica is behind its source: the time it takes
// to replay what the source had written when asked (a few milliseconds
// when it keeps up), or, when it has not caught up within 2 s, the age of
// the last transaction it replayed. streaming reports whether the
// replica's WAL receiver streams from its source.
func (e *Engine) Lag(ctx context.Context, p *engine.Server, _ string, r engine.Replica, src *engine.Server) (lag time.Duration, streaming bool, err error) {
	rc, err := connect(ctx, p.Port, replUser, r.ReplPassword)
	if err != nil {
		return 0, false, fmt.Errorf("connect to the replica: %w", err)
	}
	defer rc.Close(ctx)
	var status string
	if err := rc.QueryRow(ctx, "SELECT coalesce((SELECT status FROM pg_stat_wal_receiver), '')").Scan(&status); err != nil {
		return 0, false, err
	}
	streaming = status == "streaming"
	if src != nil {
		sc, err := connect(ctx, src.Port, replUser, r.ReplPassword)
		if err != nil {
			return 0, streaming, fmt.Errorf("connect to the source: %w", err)
		}
		var lsn string
		err = sc.QueryRow(ctx, "SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text").Scan(&lsn)
		_ = sc.Close(ctx)
		if err != nil {
			return 0, streaming, err
		}
		start := time.Now()
		for time.Since(start) < 2*time.Second {
			var behind float64
			if err := rc.QueryRow(ctx, "SELECT coalesce(pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn()), 1)::float8", lsn).Scan(&behind); err != nil {
				return 0, streaming, err
			}
			if behind <= 0 {
				return time.Since(start), streaming, nil
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	var age *float64
	if err := rc.QueryRow(ctx, "SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8").Scan(&age); err != nil {
		return 0, streaming, err
	}
	if age == nil {
		return 0, streaming, errors.New("the replica is behind its source and has replayed no transaction yet")
	}
	return max(time.Duration(*age*float64(time.Second)), 2*time.Second), streaming, nil
}
