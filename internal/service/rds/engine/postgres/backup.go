package postgres

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/minicloud/minicloud/internal/lazyregexp"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
)

// Physical copies of a server's data, shared by snapshots, automated backups
// and point-in-time restore:
//
//   - a running server is copied with pg_basebackup (-X stream), PostgreSQL's
//     own online backup: the copy is consistent as of the backup's end, and
//     starting a server on it replays the streamed WAL it carries, so no
//     write has to stop while it is taken;
//   - a stopped server's data directory is copied file by file, which is
//     consistent because nothing writes to it;
//   - a copy of a copy is a file-by-file copy too.
//
// Restoring one is copying its data directory back; a point-in-time restore
// then replays archived WAL up to the requested time (recoverTo).

// archiveDirName is where an instance with automated backups archives its
// WAL, inside its instance directory (next to data/, so that the server
// reaches it as ../wal-archive from its working directory, whatever the
// permissions of the state directory's ancestors).
const archiveDirName = "wal-archive"

// archiveTimeout bounds how old the newest archived WAL can be on an active
// server, and so how far LatestRestorableTime lags behind the last commit
// (AWS keeps it within about five minutes).
const archiveTimeout = 15 * time.Second

// archiveSettings are the server settings (-c name=value) of an instance
// with automated backups (retention > 0): WAL archiving into its
// wal-archive directory, each completed segment copied with its
// timestamps, so a segment's mtime tells when its last write happened.
func archiveSettings(dir string, retention int32) ([]string, error) {
	if retention == 0 {
		return nil, nil
	}
	u, err := serverUser()
	if err != nil {
		return nil, err
	}
	if err := engine.PrepareDir(filepath.Join(dir, archiveDirName), u); err != nil {
		return nil, fmt.Errorf("WAL archive directory: %w", err)
	}
	const dst = "../" + archiveDirName + "/%f"
	return []string{
		"archive_mode=on",
		"archive_command=cp --preserve=timestamps %p " + dst + ".part && mv " + dst + ".part " + dst,
		"archive_timeout=" + strconv.Itoa(int(archiveTimeout/time.Second)),
	}, nil
}

// CanBackup is nil: pg_basebackup comes with the server.
func (e *Engine) CanBackup() error { return nil }

// Backup copies the running server with pg_basebackup, as the master,
// after letting replication connections in from the server's own
// addresses.
func (e *Engine) Backup(ctx context.Context, p *engine.Server, a engine.Access, dst string, progress func(int32)) error {
	// The master opens the replication connection from the server's own
	// addresses: on loopback, and from its VPC address when the loopback
	// port is the proxy into its namespace.
	added, err := appendHBA(a.Dir, "host replication all samehost scram-sha-256", "base backups (snapshots, automated backups)")
	if err != nil {
		return fmt.Errorf("allow replication connections: %w", err)
	}
	if added {
		if err := execSQL(ctx, p.Port, a.User, a.Password, "SELECT pg_reload_conf()"); err != nil {
			return err
		}
		time.Sleep(500 * time.Millisecond) // the postmaster reloads asynchronously
	}
	return e.baseBackup(ctx, p.Port, a.User, a.Password, dst, progress)
}

// baseBackup copies the server listening on 127.0.0.1:port into
// target/data with pg_basebackup, as user (a superuser) with password.
// target is created owned by the server user; whatever it held is replaced.
// progress, if set, receives the percentage copied as pg_basebackup
// reports it.
func (e *Engine) baseBackup(ctx context.Context, port int, user, password, target string, progress func(int32)) error {
	u, err := serverUser()
	if err != nil {
		return err
	}
	if err := os.RemoveAll(target); err != nil {
		return fmt.Errorf("clear %s: %w", target, err)
	}
	if err := engine.PrepareDir(target, u); err != nil {
		return fmt.Errorf("backup directory: %w", err)
	}
	d, err := os.Open(target)
	if err != nil {
		return err
	}
	defer d.Close()
	cmd := e.command(u, d, "pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-U", user,
		"-D", fdDir+"/data", "--wal-method=stream", "--checkpoint=fast", "--no-password", "--progress")
	cmd.Env = append(cmd.Env, "PGPASSWORD="+password, "PGCONNECT_TIMEOUT=10")
	out, err := engine.RunKillable(ctx, cmd, &progressWriter{report: progress})
	if err != nil {
		return fmt.Errorf("pg_basebackup: %v: %s", err, engine.LastLines(string(out), 5))
	}
	return nil
}

// progressWriter reads pg_basebackup --progress lines ("… kB (42%), …",
// separated by carriage returns) and reports each new percentage.
type progressWriter struct {
	report func(int32)
	last   int32
}

var percentRE = lazyregexp.New(`\((\d{1,3})%\)`)

func (w *progressWriter) Write(p []byte) (int, error) {
	if w.report == nil {
		return len(p), nil
	}
	for _, m := range percentRE.FindAllSubmatch(p, -1) {
		n, _ := strconv.Atoi(string(m[1]))
		// 100% is reported once the snapshot is recorded available.
		if v := int32(min(n, 99)); v > w.last {
			w.last = v
			w.report(v)
		}
	}
	return len(p), nil
}

// CopyStopped copies the data directory of a stopped server (nothing
// writes to it: a file copy is consistent); a server an earlier minicloud
// left running on it is stopped first.
func (e *Engine) CopyStopped(dir, dst string) error {
	killStale(dir)
	return engine.CopyDataDir(dir, dst)
}

// Restore makes instance directory dir's data a copy of the snapshot's,
// no longer a replica's or a Multi-AZ primary's.
func (e *Engine) Restore(_ context.Context, snap, dir string) error {
	if _, err := prepareRestore(dir); err != nil {
		return err
	}
	return restoreData(snap, dir)
}

func prepareRestore(dir string) (engine.OSUser, error) {
	u, err := serverUser()
	if err != nil {
		return u, err
	}
	return u, engine.PrepareDir(dir, u)
}

// restoreData copies the snapshot's data into dir: the snapshot's source
// may have been a replica or a Multi-AZ primary; the restored instance is
// neither.
func restoreData(snap, dir string) error {
	if err := engine.CopyData(filepath.Join(snap, "data"), filepath.Join(dir, "data")); err != nil {
		return fmt.Errorf("restore snapshot %s: %w", filepath.Base(snap), err)
	}
	return resetRole(dir)
}

// RestoreToTime restores the automated backup snap and replays the WAL the
// source in srcDir archived up to target; when the archive holds no
// transaction ending after target, all of it is the state at target.
func (e *Engine) RestoreToTime(ctx context.Context, snap, dir, srcDir string, target *time.Time) error {
	u, err := prepareRestore(dir)
	if err != nil {
		return err
	}
	restore := func(target *time.Time) error {
		if err := restoreData(snap, dir); err != nil {
			return err
		}
		wal := filepath.Join(dir, "restore-wal")
		defer os.RemoveAll(wal)
		if err := copyArchive(filepath.Join(srcDir, archiveDirName), wal, u); err != nil {
			return fmt.Errorf("WAL archive of %s: %w", filepath.Base(srcDir), err)
		}
		return e.recoverTo(ctx, dir, target)
	}
	err = restore(target)
	if errors.Is(err, errTargetNotReached) {
		err = restore(nil)
	}
	return err
}

// Replays is always true: the archive reaches forward from any automated
// backup.
func (e *Engine) Replays(string, *time.Time, time.Time) (bool, error) { return true, nil }

// copyArchive copies the archived WAL files into dst, owned by u, so that
// the recovering server reads them from its own directory.
func copyArchive(src, dst string, u engine.OSUser) error {
	ents, err := archivedSegments(src)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	if err := engine.PrepareDir(dst, u); err != nil {
		return err
	}
	for _, e := range ents {
		to := filepath.Join(dst, e.Name())
		if err := engine.CopyFile(filepath.Join(src, e.Name()), to, 0o600); err != nil {
			return err
		}
		if err := u.Chown(to); err != nil {
			return err
		}
	}
	return nil
}

// archivedSegments lists the WAL files (segments and timeline histories) in
// an archive directory, leaving out half-copied ones.
func archivedSegments(dir string) ([]os.DirEntry, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []os.DirEntry
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".part") && e.Type().IsRegular() {
			out = append(out, e)
		}
	}
	return out, nil
}

// LatestLogged is the last write time of the newest WAL segment in the
// instance's archive: every transaction committed before it is in the
// archive. ok is false when nothing has been archived.
func (e *Engine) LatestLogged(dir string) (t time.Time, ok bool) {
	ents, err := archivedSegments(filepath.Join(dir, archiveDirName))
	if err != nil {
		return t, false
	}
	for _, e := range ents {
		// Segment names are 24 hex digits; .history and .backup files are
		// not WAL positions.
		if len(e.Name()) != 24 {
			continue
		}
		info, err := e.Info()
		if err == nil && info.ModTime().After(t) {
			t, ok = info.ModTime(), true
		}
	}
	return t.UTC(), ok
}

// PruneLogs removes from the instance's WAL archive the segments that
// precede the start of automated backup snap, the oldest kept: no restore
// can use them any more. Timeline history files stay.
func (e *Engine) PruneLogs(dir, snap string) error {
	first, err := backupStartSegment(filepath.Join(snap, "data", "backup_label"))
	if err != nil {
		return err
	}
	return removeSegmentsBefore(filepath.Join(dir, archiveDirName), first)
}

// DropLogs empties the WAL archive of an instance without automated
// backups: no point-in-time restore can use it.
func (e *Engine) DropLogs(dir string) error {
	return removeSegmentsBefore(filepath.Join(dir, archiveDirName), "FFFFFFFFFFFFFFFFFFFFFFFF")
}

var labelRE = lazyregexp.New(`START WAL LOCATION: \S+ \(file ([0-9A-F]{24})\)`)

// backupStartSegment reads the first WAL segment a base backup needs from
// its backup_label.
func backupStartSegment(label string) (string, error) {
	raw, err := os.ReadFile(label)
	if err != nil {
		return "", err
	}
	m := labelRE.FindSubmatch(raw)
	if m == nil {
		return "", fmt.Errorf("%s: no START WAL LOCATION", label)
	}
	return string(m[1]), nil
}

// removeSegmentsBefore removes the WAL segments in dir that come before
// segment first, whatever their timeline (as pg_archivecleanup does).
func removeSegmentsBefore(dir, first string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	var errs []error
	for _, e := range ents {
		n := e.Name()
		if len(n) != 24 || strings.Trim(n, "0123456789ABCDEF") != "" || n[8:] >= first[8:] {
			continue
		}
		if err := os.Remove(filepath.Join(dir, n)); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// errTargetNotReached is PostgreSQL's refusal to finish a recovery whose
// target time lies after the last commit in the WAL it was given.
var errTargetNotReached = errors.New("recovery ended before the target was reached")

// recoverTo turns dir/data (a base backup) into the state at target (nil:
// the end of the WAL) by replaying the WAL files in dir/restore-wal, then
// promotes it and shuts it down cleanly. The server listens on no network
// address while it recovers.
func (e *Engine) recoverTo(ctx context.Context, dir string, target *time.Time) error {
	u, err := serverUser()
	if err != nil {
		return err
	}
	signal := filepath.Join(dir, "data", "recovery.signal")
	if err := writeSignal(signal); err != nil {
		return err
	}
	logPath := filepath.Join(dir, "restore.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	// PostgreSQL needs one socket: a Unix socket in its own data directory
	// (mode 0700), which no one else can reach.
	args := []string{"-D", fdDir + "/data", "-p", "5432", "-c", "listen_addresses=", "-c", "unix_socket_directories=.",
		"-c", "archive_mode=off", "-c", "restore_command=cp ../restore-wal/%f %p",
		"-c", "recovery_target_action=promote", "-c", "recovery_target_timeline=latest"}
	if target != nil {
		args = append(args, "-c", "recovery_target_time="+target.UTC().Format("2006-01-02 15:04:05.999999")+"+00",
			"-c", "recovery_target_inclusive=on")
	}
	cmd := e.command(u, d, "postgres", args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	p, err := e.run.Run(engine.WorkloadName(dir)+"-recovery", cmd, 0, "", syscall.SIGINT)
	if err != nil {
		return fmt.Errorf("start recovery: %w", err)
	}
	stop := func() {
		_ = p.Signal(syscall.SIGINT)
		select {
		case <-p.Done():
		case <-time.After(60 * time.Second):
			_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
			<-p.Done()
		}
	}
	deadline := time.After(15 * time.Minute)
	for {
		select {
		case <-p.Done():
			raw, _ := os.ReadFile(logPath)
			if strings.Contains(string(raw), "recovery ended before configured recovery target was reached") {
				return errTargetNotReached
			}
			return fmt.Errorf("recovery exited (%v): %s", p.Err(), engine.LastLines(string(raw), 5))
		case <-ctx.Done():
			stop()
			return ctx.Err()
		case <-deadline:
			stop()
			return errors.New("recovery did not finish within 15 minutes")
		case <-time.After(200 * time.Millisecond):
		}
		if logSays(logPath, "database system is ready to accept connections") {
			stop()
			if _, err := os.Stat(signal); err == nil {
				return errors.New("recovery ended without promotion")
			}
			return nil
		}
	}
}

func logSays(path, text string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.Contains(sc.Text(), text) {
			return true
		}
	}
	return false
}
