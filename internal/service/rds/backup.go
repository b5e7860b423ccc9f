package rds

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Physical copies of a server's data, shared by snapshots, automated backups
// and point-in-time restore (and meant for read replicas too):
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

// archiveSettings are the server settings (-c name=value) for WAL archiving:
// each completed segment is copied into ../wal-archive with its timestamps,
// so a segment's mtime tells when its last write happened.
func archiveSettings() []string {
	const dst = "../" + archiveDirName + "/%f"
	return []string{
		"archive_mode=on",
		"archive_command=cp --preserve=timestamps %p " + dst + ".part && mv " + dst + ".part " + dst,
		"archive_timeout=" + strconv.Itoa(int(archiveTimeout/time.Second)),
	}
}

// replicationHBA lets the master user open replication connections from the
// server's own addresses: on loopback, and from its VPC address when the
// loopback port is the proxy into its namespace.
const replicationHBA = "host replication all samehost scram-sha-256"

// allowLocalReplication adds replicationHBA to dir/data/pg_hba.conf and
// reports whether it had to (the server must then reload its configuration).
func allowLocalReplication(dir string) (bool, error) {
	p := filepath.Join(dir, "data", "pg_hba.conf")
	raw, err := os.ReadFile(p)
	if err != nil {
		return false, err
	}
	if strings.Contains(string(raw), replicationHBA) {
		return false, nil
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return false, err
	}
	_, err = f.WriteString("\n# minicloud: base backups (snapshots, automated backups)\n" + replicationHBA + "\n")
	return true, errors.Join(err, f.Close())
}

// baseBackup copies the server listening on 127.0.0.1:port into
// target/data with pg_basebackup, as user (a superuser) with password.
// target is created owned by the server user; whatever it held is replaced.
// progress, if set, receives the percentage copied as pg_basebackup
// reports it.
func (e *engine) baseBackup(ctx context.Context, port int, user, password, target string, progress func(int32)) error {
	u, err := serverUser()
	if err != nil {
		return err
	}
	if err := os.RemoveAll(target); err != nil {
		return fmt.Errorf("clear %s: %w", target, err)
	}
	if err := prepareDir(target, u); err != nil {
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
	out, err := runKillable(ctx, cmd, &progressWriter{report: progress})
	if err != nil {
		return fmt.Errorf("pg_basebackup: %v: %s", err, lastLines(string(out), 5))
	}
	return nil
}

// progressWriter reads pg_basebackup --progress lines ("… kB (42%), …",
// separated by carriage returns) and reports each new percentage.
type progressWriter struct {
	report func(int32)
	last   int32
}

var percentRE = regexp.MustCompile(`\((\d{1,3})%\)`)

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

// runKillable runs cmd to completion on a locked thread (its parent-death
// signal follows that thread) and kills its process group if ctx ends; the
// output also goes to tee, if any.
func runKillable(ctx context.Context, cmd *exec.Cmd, tee io.Writer) ([]byte, error) {
	stop := make(chan struct{})
	defer close(stop)
	started := make(chan struct{})
	go func() {
		select {
		case <-stop:
		case <-ctx.Done():
			<-started
			if cmd.Process != nil {
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			}
		}
	}()
	out, err := onOwnThread(func() ([]byte, error) {
		var buf strings.Builder
		var w io.Writer = &buf
		if tee != nil {
			w = io.MultiWriter(&buf, tee)
		}
		cmd.Stdout, cmd.Stderr = w, w
		err := cmd.Start()
		close(started)
		if err == nil {
			err = cmd.Wait()
		}
		return []byte(buf.String()), err
	})
	if ctx.Err() != nil {
		return out, ctx.Err()
	}
	return out, err
}

// copyData copies the data directory src into dst (removed first), keeping
// modes and owners, leaving out the files of a running server
// (postmaster.pid and postmaster.opts, as pg_basebackup does).
func copyData(src, dst string) error {
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("source data: %w", err)
	}
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	return filepath.WalkDir(src, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if rel == "postmaster.pid" || rel == "postmaster.opts" {
			return nil
		}
		to := filepath.Join(dst, rel)
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st, _ := info.Sys().(*syscall.Stat_t)
		switch {
		case info.IsDir():
			if err := os.Mkdir(to, info.Mode().Perm()); err != nil {
				return err
			}
		case info.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := os.Symlink(link, to); err != nil {
				return err
			}
		case info.Mode().IsRegular():
			if err := copyFile(p, to, info.Mode().Perm()); err != nil {
				return err
			}
		default:
			return nil // sockets and the like are not data
		}
		if st != nil {
			if err := os.Lchown(to, int(st.Uid), int(st.Gid)); err != nil {
				return err
			}
		}
		return nil
	})
}

func copyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
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

// latestArchived is the last write time of the newest WAL segment in the
// archive: every transaction committed before it is in the archive. ok is
// false when nothing has been archived.
func latestArchived(dir string) (t time.Time, ok bool) {
	ents, err := archivedSegments(dir)
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

// errTargetNotReached is PostgreSQL's refusal to finish a recovery whose
// target time lies after the last commit in the WAL it was given.
var errTargetNotReached = errors.New("recovery ended before the target was reached")

// recoverTo turns dir/data (a base backup) into the state at target (nil:
// the end of the WAL) by replaying the WAL files in dir/restore-wal, then
// promotes it and shuts it down cleanly. The server listens on no network
// address while it recovers.
func (e *engine) recoverTo(ctx context.Context, dir string, target *time.Time) error {
	u, err := serverUser()
	if err != nil {
		return err
	}
	signal := filepath.Join(dir, "data", "recovery.signal")
	if err := os.WriteFile(signal, nil, 0o600); err != nil {
		return err
	}
	if err := os.Chown(signal, int(u.uid), int(u.gid)); err != nil {
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
	p := &server{cmd: cmd, done: make(chan struct{})}
	if err := startLocked(p, ""); err != nil {
		return fmt.Errorf("start recovery: %w", err)
	}
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-p.done:
		case <-time.After(60 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	}
	deadline := time.After(15 * time.Minute)
	for {
		select {
		case <-p.done:
			raw, _ := os.ReadFile(logPath)
			if strings.Contains(string(raw), "recovery ended before configured recovery target was reached") {
				return errTargetNotReached
			}
			return fmt.Errorf("recovery exited (%v): %s", p.err, lastLines(string(raw), 5))
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
