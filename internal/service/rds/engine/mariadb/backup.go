package mariadb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/minicloud/minicloud/internal/service/rds/engine"
)

// Snapshots and automated backups of MariaDB instances (engine.Backups).
//
// A running MariaDB is copied with mariadb-backup (Debian's mariadb-backup,
// the same version as the server, as it must be): --backup copies the
// InnoDB files while the server keeps writing, together with the redo log
// written meanwhile, and takes the server's backup locks for the short
// final copy of the non-transactional tables; --prepare then applies that
// redo log, leaving a data directory consistent as of the backup's end
// that a new mariadbd starts on as after a clean shutdown. Both run as the
// server's user, through the same private mount namespace as the server
// (mariadb.go's command), so they see the data directory at the path the
// server reports and leave files the server user owns. A stopped instance's
// data directory is copied file by file, as postgres's is.
//
// A snapshot directory holds data/ and rdsadmin.secret: the password of
// the administrative account inside the copied data, without which a
// restored instance could not be managed (CreateDatabase, SetPassword).

// mariaBackupHint is why a MariaDB instance cannot be backed up.
const mariaBackupHint = "minicloud takes snapshots and backups of MariaDB DB instances with mariadb-backup, and did not find it: install it (apt-get install mariadb-backup, the same version as mariadb-server) and restart minicloud."

// secretFile is the administrative password in an instance directory and in
// a MariaDB snapshot directory.
const secretFile = "rdsadmin.secret"

// lookMariaBackup finds mariadb-backup in dirs, else on the usual paths.
func lookMariaBackup(dirs ...string) (string, error) {
	dirs = append(dirs, "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin", "/bin", "/sbin")
	if p := engine.LookExec("mariadb-backup", dirs...); p != "" {
		return p, nil
	}
	return "", errors.New(mariaBackupHint)
}

// CanBackup is nil when the host has mariadb-backup.
func (m *Engine) CanBackup() error {
	_, err := lookMariaBackup()
	return err
}

// backupBin is the mariadb-backup beside this engine's mariadb-install-db
// (they must be of one version), else the system's.
func (m *Engine) backupBin() (string, error) {
	var dirs []string
	if m.installDB != "" {
		dirs = append(dirs, filepath.Dir(m.installDB))
	}
	return lookMariaBackup(dirs...)
}

// Backup runs mariadb-backup --backup over the server's socket as rdsadmin
// into a working directory inside the instance directory (the only place
// the namespace shows), prepares it and moves it to dst/data. It reports no
// progress.
func (m *Engine) Backup(ctx context.Context, p *engine.Server, a engine.Access, dst string, _ func(int32)) error {
	bin, err := m.backupBin()
	if err != nil {
		return err
	}
	u, err := serverUser()
	if err != nil {
		return err
	}
	secret, err := os.ReadFile(filepath.Join(a.Dir, secretFile))
	if err != nil {
		return fmt.Errorf("read the administrative password: %w", err)
	}
	// One working directory per snapshot: an instance's final snapshot may
	// be taken while its automated backup still runs.
	name := "backup-" + filepath.Base(dst)
	work := filepath.Join(a.Dir, name)
	cnf := work + ".cnf"
	defer os.RemoveAll(work)
	defer os.Remove(cnf)
	if err := os.RemoveAll(work); err != nil {
		return err
	}
	// The password goes in an option file readable by the server user
	// alone, not on a command line every local user can read.
	if err := os.WriteFile(cnf, []byte("[mariadb-backup]\npassword="+string(secret)+"\n"), 0o600); err != nil {
		return err
	}
	if err := u.Chown(cnf); err != nil {
		return err
	}
	d, err := os.Open(a.Dir)
	if err != nil {
		return err
	}
	defer d.Close()
	at, sock := m.seen(a.Dir, u), m.socket(u)
	// --defaults-file must come first; it also keeps the host's
	// /etc/mysql configuration (another datadir) out.
	cmd := m.command(u, d, bin, "--defaults-file="+at+"/"+name+".cnf", "--backup",
		"--target-dir="+at+"/"+name, "--datadir="+at+"/data", "--tmpdir="+at+"/tmp",
		"--socket="+sock, "--user="+adminUser)
	if out, err := engine.RunKillable(ctx, cmd, nil); err != nil {
		return fmt.Errorf("mariadb-backup --backup: %v: %s", err, engine.LastLines(string(out), 5))
	}
	cmd = m.command(u, d, bin, "--no-defaults", "--prepare", "--target-dir="+at+"/"+name, "--tmpdir="+at+"/tmp")
	if out, err := engine.RunKillable(ctx, cmd, nil); err != nil {
		return fmt.Errorf("mariadb-backup --prepare: %v: %s", err, engine.LastLines(string(out), 5))
	}
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return err
	}
	if err := os.Rename(work, filepath.Join(dst, "data")); err != nil {
		// Another file system under the state directory: copy instead.
		if !errors.Is(err, syscall.EXDEV) {
			return err
		}
		if err := engine.CopyData(work, filepath.Join(dst, "data")); err != nil {
			return err
		}
	}
	return engine.CopyFile(filepath.Join(a.Dir, secretFile), filepath.Join(dst, secretFile), 0o600)
}

// CopyStopped copies the data directory of a stopped server (one an
// earlier minicloud left running is stopped first) and its administrative
// password.
func (m *Engine) CopyStopped(dir, dst string) error {
	killStale(dir)
	if err := engine.CopyDataDir(dir, dst); err != nil {
		return err
	}
	return engine.CopyFile(filepath.Join(dir, secretFile), filepath.Join(dst, secretFile), 0o600)
}

// Restore makes a new instance directory from a snapshot: its data (owners
// kept: the server user's), the administrative password that goes with it
// and an empty tmp directory, as Init leaves them.
func (m *Engine) Restore(ctx context.Context, snap, dir string) error {
	if err := m.Available(); err != nil {
		return err
	}
	u, err := serverUser()
	if err != nil {
		return err
	}
	if err := engine.PrepareDir(dir, u); err != nil {
		return err
	}
	for _, sub := range []string{"data", "tmp", secretFile} {
		if err := os.RemoveAll(filepath.Join(dir, sub)); err != nil {
			return err
		}
	}
	if err := engine.CopyData(filepath.Join(snap, "data"), filepath.Join(dir, "data")); err != nil {
		return fmt.Errorf("restore snapshot %s: %w", filepath.Base(snap), err)
	}
	if err := engine.CopyFile(filepath.Join(snap, secretFile), filepath.Join(dir, secretFile), 0o600); err != nil {
		return fmt.Errorf("restore snapshot %s: %w", filepath.Base(snap), err)
	}
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return err
	}
	return u.Chown(tmp)
}
