package mariadb

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/lazyregexp"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
)

// Point-in-time restore of MariaDB instances, from binary logs, as RDS for
// MariaDB does it. An instance with BackupRetentionPeriod > 0 runs with
// binary logging (row format, synced at every commit) into
// <instance>/binlog; each mariadb-backup of it records the binary log
// position its copy is consistent at (xtrabackup_binlog_info). A restore
// to time T copies the newest automated backup from before T, starts a
// server on it with no network, replays the source's binary logs from that
// position with mariadb-binlog --stop-datetime into it through the mariadb
// client, and shuts it down cleanly. Binary log events carry whole seconds:
// a restore to T replays the transactions of the seconds before T, and of
// T's own second unless T is a whole second (stopAt). The server itself
// purges binary logs a day older than the retention period
// (binlog_expire_logs_seconds), so the oldest kept backup always finds its
// position.

// binlogDirName is where an instance's binary logs are, in its instance
// directory (the server names it ../binlog from its data directory).
const binlogDirName = "binlog"

// binlogBase is the binary logs' base name: mysql-bin.000001, …
const binlogBase = "mysql-bin"

var binlogRE = lazyregexp.New(`^` + binlogBase + `\.\d{6,}$`)

// Settings are the server options (name=value) of instance in in dir. Every server has its own server_id and strict GTIDs. As on RDS,
// binary logging (format MIXED, RDS's default) follows automated backups:
// point-in-time restore replays the logs (mysql_pitr.go), and a source's
// replicas read them. Read replicas always log (log_slave_updates), so that
// they can be promoted or be the source of a cascading replica without a
// restart; they start read-only with replication stopped, the controller
// pointing them at their source's current address before START SLAVE. An
// instance that no longer logs loses its binary logs (its server is not
// running: Start follows); one with read replicas keeps logging whatever
// its retention, since they read the logs.
func (m *Engine) Settings(dir string, in engine.Instance) ([]string, error) {
	out := []string{"server-id=" + strconv.FormatUint(uint64(serverID(in.ResourceID)), 10), "gtid-strict-mode=ON", "relay-log=relay-bin"}
	if in.ClassMemory > 0 {
		// RDS's default group (MariaDB and Aurora MySQL alike):
		// {DBInstanceClassMemory*3/4}.
		out = append(out, "innodb-buffer-pool-size="+strconv.FormatInt(in.ClassMemory*3/4, 10))
	}
	retention := in.BackupRetention
	logs := filepath.Join(dir, binlogDirName)
	if retention == 0 && !in.Replica && !in.HasReplicas {
		return out, os.RemoveAll(logs)
	}
	u, err := serverUser()
	if err != nil {
		return nil, err
	}
	if err := engine.PrepareDir(logs, u); err != nil {
		return nil, fmt.Errorf("binary log directory: %w", err)
	}
	out = append(out,
		"log-bin=../"+binlogDirName+"/"+binlogBase,
		"binlog-format=MIXED",
		"log-slave-updates=ON",
		"sync-binlog=1",
	)
	if retention > 0 {
		out = append(out, "binlog-expire-logs-seconds="+strconv.Itoa(int(retention+1)*86400))
	}
	if in.Replica {
		out = append(out, "read-only=ON", "skip-slave-start")
	}
	return out, nil
}

// binlogs lists the binary logs in dir in order.
func binlogs(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if binlogRE.MatchString(e.Name()) && e.Type().IsRegular() {
			out = append(out, e.Name())
		}
	}
	// Same width until 999999; beyond, the longer name is the later one.
	slices.SortFunc(out, func(a, b string) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return strings.Compare(a, b)
	})
	return out, nil
}

// LatestLogged is the last write to the instance's binary logs: every
// transaction committed before it can be restored.
func (m *Engine) LatestLogged(dir string) (t time.Time, ok bool) {
	names, _ := binlogs(filepath.Join(dir, binlogDirName))
	for _, n := range names {
		info, err := os.Stat(filepath.Join(dir, binlogDirName, n))
		if err == nil && (!ok || info.ModTime().After(t)) {
			t, ok = info.ModTime().UTC(), true
		}
	}
	return t, ok
}

// PruneLogs leaves the binary logs to the server, which purges them a day
// after the retention period (binlog_expire_logs_seconds).
func (m *Engine) PruneLogs(string, string) error { return nil }

// DropLogs leaves the binary logs to the server's next start, which
// removes them without automated backups (Settings).
func (m *Engine) DropLogs(string) error { return nil }

// binlogPosition reads the binary log file and position a prepared
// mariadb-backup is consistent at.
func binlogPosition(data string) (file string, pos int64, err error) {
	raw, err := os.ReadFile(filepath.Join(data, "xtrabackup_binlog_info"))
	if errors.Is(err, os.ErrNotExist) {
		return "", 0, errors.New("the backup has no binary log position: it was taken before the instance's server logged its transactions (binary logging starts with BackupRetentionPeriod > 0 at the server's next start)")
	}
	if err != nil {
		return "", 0, err
	}
	f := strings.Fields(string(raw))
	if len(f) < 2 {
		return "", 0, fmt.Errorf("xtrabackup_binlog_info: unexpected %q", raw)
	}
	pos, err = strconv.ParseInt(f[1], 10, 64)
	if err != nil || !binlogRE.MatchString(f[0]) {
		return "", 0, fmt.Errorf("xtrabackup_binlog_info: unexpected %q", raw)
	}
	return f[0], pos, nil
}

// clientBin finds a MariaDB client program (mariadb, mariadb-binlog) beside
// mariadb-install-db, else on the usual paths.
func (m *Engine) clientBin(name string) (string, error) {
	dirs := []string{"/usr/bin", "/usr/local/bin", "/bin"}
	if m.installDB != "" {
		dirs = append([]string{filepath.Dir(m.installDB)}, dirs...)
	}
	if p := engine.LookExec(name, dirs...); p != "" {
		return p, nil
	}
	return "", fmt.Errorf("minicloud restores MariaDB DB instances to a point in time with %s and did not find it: install it (apt-get install mariadb-client)", name)
}

// RestoreToTime makes instance directory dir from snapshot directory snap
// (an automated backup of the instance in srcDir) and the source's binary
// logs replayed from the backup's position up to target (nil: all).
func (m *Engine) RestoreToTime(ctx context.Context, snap, dir, srcDir string, target *time.Time) error {
	binlogBin, err := m.clientBin("mariadb-binlog")
	if err != nil {
		return err
	}
	client, err := m.clientBin("mariadb")
	if err != nil {
		return err
	}
	if err := m.Restore(ctx, snap, dir); err != nil {
		return err
	}
	first, pos, err := binlogPosition(filepath.Join(dir, "data"))
	if err != nil {
		return err
	}
	logDir := filepath.Join(srcDir, binlogDirName)
	names, err := binlogs(logDir)
	if err != nil {
		return fmt.Errorf("binary logs of the source: %w", err)
	}
	i := slices.Index(names, first)
	if i < 0 {
		return fmt.Errorf("binary log %s, where the backup ends, is no longer kept", first)
	}
	u, err := serverUser()
	if err != nil {
		return err
	}
	// mariadb-binlog reads the source's logs as minicloud (they are not
	// in the restored server's namespace) and writes the SQL to replay
	// into the new instance directory, where the client reads it.
	sqlPath := filepath.Join(dir, "restore.sql")
	cnf := filepath.Join(dir, "restore.cnf")
	defer os.Remove(sqlPath)
	defer os.Remove(cnf)
	out, err := os.OpenFile(sqlPath, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	args := []string{"--no-defaults", "--start-position=" + strconv.FormatInt(pos, 10)}
	if target != nil {
		args = append(args, "--stop-datetime="+stopAt(*target).Format(time.DateTime))
	}
	for _, n := range names[i:] {
		args = append(args, filepath.Join(logDir, n))
	}
	cmd := exec.CommandContext(ctx, binlogBin, args...)
	cmd.Env = []string{"TZ=UTC", "LANG=C.UTF-8"} // --stop-datetime is local time
	var stderr strings.Builder
	w := bufio.NewWriter(out)
	cmd.Stdout, cmd.Stderr = w, &stderr
	err = cmd.Run()
	err = errors.Join(err, w.Flush(), out.Close())
	if err != nil {
		return fmt.Errorf("mariadb-binlog: %v: %s", err, engine.LastLines(stderr.String(), 5))
	}
	if err := os.Chown(sqlPath, int(u.UID), int(u.GID)); err != nil {
		return err
	}
	secret, err := os.ReadFile(filepath.Join(dir, secretFile))
	if err != nil {
		return err
	}
	if err := os.WriteFile(cnf, []byte("[client]\npassword="+string(secret)+"\n"), 0o600); err != nil {
		return err
	}
	if err := os.Chown(cnf, int(u.UID), int(u.GID)); err != nil {
		return err
	}

	// A server on the restored data that listens on its socket alone.
	p, err := m.Start(dir, 0, nil, []string{"skip-networking"})
	if err != nil {
		return err
	}
	defer p.Stop()
	if err := m.waitSocket(ctx, p, dir); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	at, sock := m.seen(dir, u), m.socket(u)
	in, err := os.Open(sqlPath)
	if err != nil {
		return err
	}
	defer in.Close()
	rc := m.command(u, d, client, "--defaults-file="+at+"/restore.cnf", "--socket="+sock, "--user="+adminUser, "--binary-mode")
	rc.Stdin = in
	if out, err := engine.RunKillable(ctx, rc, nil); err != nil {
		return fmt.Errorf("replay the binary logs: %v: %s", err, engine.LastLines(string(out), 5))
	}
	p.Stop() // a clean shutdown: the next start needs no crash recovery
	return nil
}

// stopAt is mariadb-binlog's --stop-datetime for a restore to t. Events
// carry whole seconds and the stop time excludes its own second: a whole
// second t replays what was committed before it; any other t replays its
// second too (LatestRestorableTime is the last write's exact time, which
// must include that write).
func stopAt(t time.Time) time.Time {
	s := t.UTC().Truncate(time.Second)
	if !s.Equal(t.UTC()) {
		s = s.Add(time.Second)
	}
	return s
}

// Replays reports whether a restore of automated backup snap to target
// replays binary logs: not when snap has no binary log position (taken
// before the server logged) and target is its end; an error when it has
// none and target is later.
func (m *Engine) Replays(snap string, end *time.Time, target time.Time) (bool, error) {
	_, _, err := binlogPosition(filepath.Join(snap, "data"))
	switch {
	case err == nil:
		return true, nil
	case end != nil && !target.After(*end):
		return false, nil
	}
	return false, err
}

// waitSocket waits until the server answers on its socket.
func (m *Engine) waitSocket(ctx context.Context, p *engine.Server, dir string) error {
	return engine.WaitUntil(ctx, p, "mariadbd", m.LogPath(dir), func() error { return m.ping(ctx, dir) })
}
