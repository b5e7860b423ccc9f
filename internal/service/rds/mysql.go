package rds

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
)

// RDS for MariaDB runs on the host's MariaDB server (Debian's
// mariadb-server: mariadbd and mariadb-install-db), one mariadbd per DB
// instance with its data, socket and pid file in the instance directory;
// the system's MariaDB service, if any, is neither needed nor touched.
//
// mariadbd runs unprivileged: as root, minicloud runs it as the system user
// "minicloud-db" (created on first use), never as Debian's "mysql" (the
// owner of the system's /var/lib/mysql) nor as the "postgres" user
// PostgreSQL instances may run as; LOAD DATA, SELECT … INTO OUTFILE and
// LOAD_FILE are confined to the instance's tmp directory (secure_file_priv).
// Unlike postgres, it resolves its data directory to a real
// path and opens files by that path, so the inherited-descriptor trick of
// engine.go is not enough when the instance directory's ancestors (such as
// /root) are closed to that user: as root, minicloud starts it through
// util-linux's unshare in a private mount namespace where a tmpfs hides /tmp
// and the instance directory is bind-mounted at /tmp/rds, then drops to the
// server user with setpriv. Nothing of that is visible on the host. Its
// mounts are slaves of the host's rather than private copies, so that the
// host's unmounts reach it: a network namespace minicloud deletes while the
// server runs is not kept alive by the server's copy of its mount.
//
// Each server has an administrative account, rdsadmin@localhost (as on
// AWS), reachable only through the instance's Unix socket, whose random
// password is kept in the instance directory readable by minicloud alone:
// it creates DBName and resets the master's password (and privileges) even
// after the master changed them with SQL, as ModifyDBInstance does on AWS.
//
// RDS for MySQL is not served: MariaDB is MySQL-compatible but is not MySQL
// (versions 10.x/11.x, not 8.x; different defaults, authentication plugins
// and features), and reporting a MariaDB server as MySQL 8.0 would lie to
// every client that checks. Debian does not package MySQL Community Server.

// mariadbInstallHint is what CreateDBInstance says when the host cannot run
// MariaDB.
const mariadbInstallHint = "minicloud runs RDS for MariaDB on the host's MariaDB server, and none was found (mariadbd and mariadb-install-db): install it (apt-get install mariadb-server) and restart minicloud. minicloud starts its own servers; the system's MariaDB service is not needed."

// mysqlHint is what CreateDBInstance says for Engine mysql.
const mysqlHint = "minicloud does not run RDS for MySQL: that needs MySQL Community Server, which Debian does not package and minicloud does not drive. MariaDB is MySQL-compatible but not MySQL, so minicloud does not pass it off as MySQL: create the instance with Engine mariadb (the host's MariaDB server; apt-get install mariadb-server)."

// mountDir is where a server started through the mount namespace sees its
// instance directory.
const mountDir = "/tmp/rds"

// adminUser is the engine's administrative account.
const adminUser = "rdsadmin"

// mariaEngine is the host's MariaDB installation.
type mariaEngine struct {
	mariadbd, installDB string // "" when missing
	// unshare, mount, setpriv: util-linux, needed when minicloud is root.
	unshare, mount, setpriv string
	missing                 string // why the engine cannot run, "" if it can

	once    sync.Once
	version string // e.g. 10.11.19
	err     error
	known   atomic.Bool
}

// findMariaDB locates mariadbd and mariadb-install-db in binDir if set,
// else on the usual paths.
func findMariaDB(binDir string) *mariaEngine {
	m := &mariaEngine{}
	look := func(name string, dirs ...string) string {
		for _, d := range dirs {
			if p := filepath.Join(d, name); isExec(p) {
				return p
			}
		}
		return ""
	}
	sys := []string{"/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"}
	dirs := sys
	if binDir != "" {
		dirs = []string{binDir}
	}
	m.mariadbd, m.installDB = look("mariadbd", dirs...), look("mariadb-install-db", dirs...)
	if m.mariadbd == "" || m.installDB == "" {
		m.missing = mariadbInstallHint
		return m
	}
	if os.Geteuid() == 0 {
		m.unshare, m.mount, m.setpriv = look("unshare", sys...), look("mount", sys...), look("setpriv", sys...)
		if m.unshare == "" || m.mount == "" || m.setpriv == "" {
			m.missing = "minicloud runs MariaDB servers through util-linux's unshare, mount and setpriv, and did not find them: install them (apt-get install util-linux mount) and restart minicloud."
		}
	}
	return m
}

func (m *mariaEngine) Name() string { return "mariadb" }

func (m *mariaEngine) Available() error {
	if m.missing != "" {
		return errors.New(m.missing)
	}
	return nil
}

// Version is the server's version without the distribution's suffix.
func (m *mariaEngine) Version() (string, error) {
	if err := m.Available(); err != nil {
		return "", err
	}
	m.once.Do(func() {
		out, err := exec.Command(m.mariadbd, "--version").Output()
		if err != nil {
			m.err = fmt.Errorf("%s --version: %w", m.mariadbd, err)
			return
		}
		// mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64 (Debian 12)
		f := strings.Fields(string(out))
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "Ver" {
				m.version = strings.SplitN(f[i+1], "-", 2)[0]
			}
		}
		if strings.Count(m.version, ".") != 2 {
			m.err = fmt.Errorf("unexpected mariadbd --version output %q", out)
		}
	})
	m.known.Store(true)
	return m.version, m.err
}

// Major is RDS's major version: the first two components (10.11).
func (m *mariaEngine) Major() string {
	v, err := m.Version()
	if err != nil {
		return ""
	}
	parts := strings.Split(v, ".")
	return parts[0] + "." + parts[1]
}

func (m *mariaEngine) knownVersion() string {
	if m.known.Load() && m.err == nil {
		return m.version
	}
	return ""
}

func (m *mariaEngine) Defaults() engineDefaults {
	major := m.Major()
	return engineDefaults{
		Port: 3306, LicenseModel: "general-public-license",
		Family: "mariadb" + major, OptionGroup: "default:mariadb-" + strings.ReplaceAll(major, ".", "-"),
		ParameterGroup: "default.mariadb" + major,
		MaxMaster:      16, MaxPassword: 41, MaxDBName: 64,
		Reserved:    []string{"rdsadmin", "rdsrepladmin"},
		Description: "MariaDb Community Edition", LogTypes: []string{"audit", "error", "general", "slowquery"},
	}
}

func (m *mariaEngine) LogPath(dir string) string { return filepath.Join(dir, "mariadb.log") }

// Settings: binary logs, server id and replication (mariaSettings).
func (m *mariaEngine) Settings(dir string, rec *instanceRecord) ([]string, error) {
	return mariaSettings(dir, rec)
}

// seen is where the server sees dir.
func (m *mariaEngine) seen(dir string, u osUser) string {
	if u.asRoot {
		return mountDir
	}
	return dir
}

// command runs bin as the server user with the instance directory d
// reachable at m.seen(dir): as root through a private mount namespace.
func (m *mariaEngine) command(u osUser, d *os.File, bin string, args ...string) *exec.Cmd {
	var cmd *exec.Cmd
	attr := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if u.asRoot {
		// The bind mount's source is the working directory, set to the
		// instance directory before unshare: unshare moves it into the new
		// namespace (an inherited descriptor would stay in the old one,
		// which bind refuses), and it stays reachable after the tmpfs hides
		// /tmp, where the instance directory may be; mount must not
		// canonicalize it into a path. The parent-death signal is cleared
		// when setpriv changes the credentials: setpriv sets it again.
		script := `set -e; "$1" -t tmpfs -o mode=0755,size=64k minicloud-rds /tmp; mkdir ` + mountDir + `; "$1" --no-canonicalize --bind . ` + mountDir + `; shift; cd /; exec 3<&-; exec "$@"`
		full := append([]string{"--mount", "--propagation", "slave", "--", "/bin/sh", "-c", script, "sh", m.mount,
			m.setpriv, "--reuid=" + strconv.Itoa(int(u.uid)), "--regid=" + strconv.Itoa(int(u.gid)), "--clear-groups", "--pdeathsig=TERM", "--", bin}, args...)
		cmd = exec.Command(m.unshare, full...)
		cmd.Dir = d.Name()
	} else {
		cmd = exec.Command(bin, args...)
		cmd.Dir = "/"
	}
	cmd.ExtraFiles = []*os.File{d}
	cmd.Env = []string{"LANG=C.UTF-8", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	cmd.SysProcAttr = attr
	return cmd
}

var (
	mariaUserOnce sync.Once
	mariaOSUser   osUser
	mariaUserErr  error
)

// mariaUser is who runs the MariaDB servers: minicloud's own user when it
// is not root, else the system user minicloud-db, created on first use.
func mariaUser() (osUser, error) {
	if os.Geteuid() != 0 {
		return serverUser()
	}
	mariaUserOnce.Do(func() {
		const name = "minicloud-db"
		u, err := user.Lookup(name)
		if err != nil {
			out, cerr := exec.Command("useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name).CombinedOutput()
			// useradd fails if serverUser created the user meanwhile.
			if u, err = user.Lookup(name); err != nil {
				mariaUserErr = fmt.Errorf("create the system user %s: %v: %s", name, cerr, strings.TrimSpace(string(out)))
				return
			}
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		mariaOSUser = osUser{name: u.Username, uid: uint32(uid), gid: uint32(gid), asRoot: true}
	})
	return mariaOSUser, mariaUserErr
}

// mysqlString quotes s as a MariaDB string literal (backslash escapes on,
// the server's default).
func mysqlString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func mysqlIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// Init creates dir/data with mariadb-install-db: the system tables, no
// anonymous or root accounts, the administrative account and the master
// with AWS's privileges (mariaMasterPrivileges) WITH GRANT OPTION from any host.
func (m *mariaEngine) Init(ctx context.Context, dir, master, password string) error {
	if err := m.Available(); err != nil {
		return err
	}
	u, err := mariaUser()
	if err != nil {
		return err
	}
	if err := prepareDir(dir, u); err != nil {
		return err
	}
	for _, sub := range []string{"data", "tmp"} {
		p := filepath.Join(dir, sub)
		if err := os.RemoveAll(p); err != nil {
			return err
		}
		if err := os.Mkdir(p, 0o700); err != nil {
			return err
		}
		if err := os.Chown(p, int(u.uid), int(u.gid)); err != nil {
			return err
		}
	}
	admin := randomLower(32)
	if err := os.WriteFile(filepath.Join(dir, "rdsadmin.secret"), []byte(admin), 0o600); err != nil {
		return fmt.Errorf("write the administrative password: %w", err)
	}
	// FLUSH PRIVILEGES loads the grant tables, without which a bootstrap
	// refuses account statements.
	sqlText := strings.Join([]string{
		"DELETE FROM mysql.global_priv WHERE User <> 'mariadb.sys';",
		"DELETE FROM mysql.proxies_priv;",
		"FLUSH PRIVILEGES;",
		"CREATE USER '" + adminUser + "'@'localhost' IDENTIFIED BY " + mysqlString(admin) + ";",
		"GRANT ALL PRIVILEGES ON *.* TO '" + adminUser + "'@'localhost' WITH GRANT OPTION;",
		"CREATE USER " + mysqlString(master) + "@'%' IDENTIFIED BY " + mysqlString(password) + ";",
		"GRANT " + mariaMasterPrivileges + " ON *.* TO " + mysqlString(master) + "@'%' WITH GRANT OPTION;",
	}, "\n") + "\n"
	initFile := filepath.Join(dir, "init.sql")
	if err := os.WriteFile(initFile, []byte(sqlText), 0o600); err != nil {
		return err
	}
	defer os.Remove(initFile)
	if err := os.Chown(initFile, int(u.uid), int(u.gid)); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	at := m.seen(dir, u)
	cmd := m.command(u, d, m.installDB, "--no-defaults", "--datadir="+at+"/data", "--tmpdir="+at+"/tmp",
		"--force", "--cross-bootstrap", "--skip-test-db", "--auth-root-authentication-method=normal",
		"--extra-file="+at+"/init.sql")
	out, err := onOwnThread(cmd.CombinedOutput)
	if err != nil {
		return fmt.Errorf("mariadb-install-db: %v: %s", err, lastLines(string(out), 8))
	}
	return nil
}

// killStaleMaria stops a mariadbd left running on dir by an earlier
// minicloud (its pid file names it).
func killStaleMaria(dir string) {
	raw, err := os.ReadFile(filepath.Join(dir, "mysqld.pid"))
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || pid <= 1 {
		return
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if c := strings.TrimSpace(string(comm)); err != nil || c != "mariadbd" && c != "mysqld" {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for range 300 {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// Start runs mariadbd on dir/data with settings (mariaSettings) as
// options; it ignores extra: MariaDB replicas need no inherited files.
func (m *mariaEngine) Start(dir string, port int, vpc *vpcListen, settings []string, _ ...*os.File) (*server, error) {
	if err := m.Available(); err != nil {
		return nil, err
	}
	u, err := mariaUser()
	if err != nil {
		return nil, err
	}
	killStaleMaria(dir)
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	logf, err := os.OpenFile(m.LogPath(dir), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	listen, myPort, ns := "127.0.0.1", port, ""
	if vpc != nil {
		listen, myPort, ns = vpc.ip.String(), vpc.port, vpc.ns
	}
	at := m.seen(dir, u)
	// mariadbd binds its socket from its data directory: a relative path
	// keeps within the 107 bytes a Unix socket path may have, however deep
	// the state directory is.
	cmd := m.command(u, d, m.mariadbd, "--no-defaults",
		"--datadir="+at+"/data", "--tmpdir="+at+"/tmp",
		"--socket=../mysqld.sock", "--pid-file="+at+"/mysqld.pid",
		"--bind-address="+listen, "--port="+strconv.Itoa(myPort),
		"--skip-name-resolve", "--innodb-flush-log-at-trx-commit=1",
		"--secure-file-priv="+at+"/tmp")
	for _, s := range settings { // the server's own arguments come last
		cmd.Args = append(cmd.Args, "--"+s)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	p := &server{cmd: cmd, port: port, done: make(chan struct{}), stopSig: syscall.SIGTERM}
	if err := startLocked(p, ns); err != nil {
		return nil, fmt.Errorf("start mariadbd: %w", err)
	}
	if vpc != nil {
		px, err := startProxy(port, vpc)
		if err != nil {
			p.stop()
			return nil, fmt.Errorf("loopback proxy: %w", err)
		}
		p.proxy = px
	}
	return p, nil
}

// admin opens the administrative connection through dir's socket. The
// socket is reached through a descriptor of dir, which keeps the path short
// (Unix socket paths are limited to 108 bytes) whatever dir is.
func (m *mariaEngine) admin(dir string) (*sql.DB, func(), error) {
	secret, err := os.ReadFile(filepath.Join(dir, "rdsadmin.secret"))
	if err != nil {
		return nil, nil, fmt.Errorf("read the administrative password: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return nil, nil, err
	}
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd = adminUser, string(secret)
	cfg.Net, cfg.Addr = "unix", fmt.Sprintf("/proc/self/fd/%d/mysqld.sock", d.Fd())
	cfg.Timeout = 2 * time.Second
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(1)
	return db, func() { db.Close(); d.Close() }, nil
}

func (m *mariaEngine) exec(ctx context.Context, dir string, stmts ...string) error {
	db, done, err := m.admin(dir)
	if err != nil {
		return err
	}
	defer done()
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", strings.Join(strings.Fields(s)[:2], " "), err)
		}
	}
	return nil
}

// WaitReady waits until the server answers on its socket and its TCP port
// (the loopback proxy's, when placed) accepts connections.
func (m *mariaEngine) WaitReady(ctx context.Context, p *server, a access) error {
	deadline := time.Now().Add(60 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		if !p.running() {
			raw, _ := os.ReadFile(m.LogPath(a.dir))
			return fmt.Errorf("mariadbd exited (%v): %s", p.err, lastLines(string(raw), 5))
		}
		last = func() error {
			db, done, err := m.admin(a.dir)
			if err != nil {
				return err
			}
			defer done()
			pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			if err := db.PingContext(pctx); err != nil {
				return err
			}
			c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(p.port), 2*time.Second)
			if err != nil {
				return err
			}
			return c.Close()
		}()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("mariadbd did not accept connections within 60s: %v", last)
}

func (m *mariaEngine) CreateDatabase(ctx context.Context, p *server, a access, name string) error {
	return m.exec(ctx, a.dir, "CREATE DATABASE IF NOT EXISTS "+mysqlIdent(name))
}

// SetPassword gives the master the password and, as AWS's reset does, its
// account and privileges back if they were dropped or revoked.
func (m *mariaEngine) SetPassword(ctx context.Context, p *server, a access, password string) error {
	user := mysqlString(a.master) + "@'%'"
	return m.exec(ctx, a.dir,
		"CREATE USER IF NOT EXISTS "+user+" IDENTIFIED BY "+mysqlString(password),
		"ALTER USER "+user+" IDENTIFIED BY "+mysqlString(password)+" ACCOUNT UNLOCK",
		"GRANT "+mariaMasterPrivileges+" ON *.* TO "+user+" WITH GRANT OPTION")
}
