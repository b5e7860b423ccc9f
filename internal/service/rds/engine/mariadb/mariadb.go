package mariadb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/minicloud/minicloud/internal/service/rds/engine"
)

// mariadbInstallHint is what CreateDBInstance says when the host cannot run
// MariaDB.
const mariadbInstallHint = "minicloud runs RDS for MariaDB on the host's MariaDB server, and none was found (mariadbd and mariadb-install-db): install it (apt-get install mariadb-server) and restart minicloud. minicloud starts its own servers; the system's MariaDB service is not needed."

// mountDir is where a server started through the mount namespace sees its
// instance directory.
const mountDir = "/tmp/rds"

// adminUser is the engine's administrative account.
const adminUser = "rdsadmin"

// Engine is the host's MariaDB installation.
// Engine is the host's MariaDB installation.
type Engine struct {
	// run starts the servers.
	run                 engine.Runner
	mariadbd, installDB string // "" when missing
	// unshare, mount, setpriv: util-linux, needed when minicloud is root.
	unshare, mount, setpriv string
	missing                 string // why the engine cannot run, "" if it can

	once    sync.Once
	version string // e.g. 10.11.19
	err     error
	known   atomic.Bool

	// relays are the running replicas' relays to their sources, by
	// server: a replica is pointed at its source once per server process.
	relays sync.Map // *engine.Server → *relay
	// dirs are the running servers' instance directories, by server: the
	// quorum calls (quorum.go) name a server, not its directory.
	dirs sync.Map // *engine.Server → string
}

var (
	_ engine.Replication = (*Engine)(nil)
	_ engine.PointInTime = (*Engine)(nil)
)

// New returns the engine of the mariadbd and mariadb-install-db in binDir
// if set, else on the usual paths; its servers run through run.
func New(binDir string, run engine.Runner) *Engine {
	m := &Engine{run: run}
	look := engine.LookExec
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

// Name is "mariadb".
func (m *Engine) Name() string { return "mariadb" }

// Available is nil when the host has MariaDB's server (and, as root,
// util-linux's tools to start it).
func (m *Engine) Available() error {
	if m.missing != "" {
		return errors.New(m.missing)
	}
	return nil
}

// Version is the server's version without the distribution's suffix.
func (m *Engine) Version() (string, error) {
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
func (m *Engine) Major() string {
	v, err := m.Version()
	if err != nil {
		return ""
	}
	parts := strings.Split(v, ".")
	return parts[0] + "." + parts[1]
}

// KnownVersion is the version if Version already ran, else "".
func (m *Engine) KnownVersion() string {
	if m.known.Load() && m.err == nil {
		return m.version
	}
	return ""
}

// Defaults are RDS for MariaDB's.
func (m *Engine) Defaults() engine.Defaults {
	major := m.Major()
	return engine.Defaults{
		Port: 3306, LicenseModel: "general-public-license",
		Family: "mariadb" + major, OptionGroup: "default:mariadb-" + strings.ReplaceAll(major, ".", "-"),
		ParameterGroup: "default.mariadb" + major,
		MaxMaster:      16, MaxPassword: 41, MaxDBName: 64,
		Reserved: []string{"rdsadmin", "rdsrepladmin"},
		Title:    "MariaDB", Description: "MariaDb Community Edition", LogTypes: []string{"audit", "error", "general", "slowquery"},
	}
}

// LogPath is mariadb.log in the instance directory.
func (m *Engine) LogPath(dir string) string { return filepath.Join(dir, "mariadb.log") }

// seen is where the server sees dir.
func (m *Engine) seen(dir string, u engine.OSUser) string {
	if u.AsRoot {
		return mountDir
	}
	return dir
}

// socket is the server's socket for a client command runs: where the
// mount namespace shows it, else through the inherited descriptor of the
// instance directory (fd 3), as a socket path is limited to 107 bytes and
// the state directory is not.
func (m *Engine) socket(u engine.OSUser) string {
	if u.AsRoot {
		return mountDir + "/mysqld.sock"
	}
	return "/proc/self/fd/3/mysqld.sock"
}

// command runs bin as the server user with the instance directory d
// reachable at m.seen(dir): as root through a private mount namespace.
func (m *Engine) command(u engine.OSUser, d *os.File, bin string, args ...string) *exec.Cmd {
	var cmd *exec.Cmd
	attr := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if u.AsRoot {
		// The bind mount's source is the working directory, set to the
		// instance directory before unshare: unshare moves it into the new
		// namespace (an inherited descriptor would stay in the old one,
		// which bind refuses), and it stays reachable after the tmpfs hides
		// /tmp, where the instance directory may be; mount must not
		// canonicalize it into a path. The parent-death signal is cleared
		// when setpriv changes the credentials: setpriv sets it again.
		script := `set -e; "$1" -t tmpfs -o mode=0755,size=64k minicloud-rds /tmp; mkdir ` + mountDir + `; "$1" --no-canonicalize --bind . ` + mountDir + `; shift; cd /; exec 3<&-; exec "$@"`
		full := append([]string{"--mount", "--propagation", "slave", "--", "/bin/sh", "-c", script, "sh", m.mount,
			m.setpriv, "--reuid=" + strconv.Itoa(int(u.UID)), "--regid=" + strconv.Itoa(int(u.GID)), "--clear-groups", "--pdeathsig=TERM", "--", bin}, args...)
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

// serverUser is who runs the MariaDB servers: minicloud's own user when it
// is not root, else the system user minicloud-db, created on first use;
// never Debian's "mysql" (the owner of the system's /var/lib/mysql) nor
// the "postgres" user PostgreSQL's servers may run as.
var serverUser = sync.OnceValues(func() (engine.OSUser, error) { return engine.ServerUser() })

// mysqlString quotes s as a MariaDB string literal (backslash escapes on,
// the server's default).
func mysqlString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func mysqlIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// Init creates dir/data with mariadb-install-db: the system tables, no
// anonymous or root accounts, the administrative account and the master
// with AWS's privileges (masterPrivileges) WITH GRANT OPTION from any host.
func (m *Engine) Init(ctx context.Context, dir, master, password string) error {
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
	for _, sub := range []string{"data", "tmp"} {
		p := filepath.Join(dir, sub)
		if err := os.RemoveAll(p); err != nil {
			return err
		}
		if err := os.Mkdir(p, 0o700); err != nil {
			return err
		}
		if err := os.Chown(p, int(u.UID), int(u.GID)); err != nil {
			return err
		}
	}
	admin := engine.RandomString(32)
	if err := os.WriteFile(filepath.Join(dir, secretFile), []byte(admin), 0o600); err != nil {
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
		"GRANT " + masterPrivileges + " ON *.* TO " + mysqlString(master) + "@'%' WITH GRANT OPTION;",
	}, "\n") + "\n"
	initFile := filepath.Join(dir, "init.sql")
	if err := os.WriteFile(initFile, []byte(sqlText), 0o600); err != nil {
		return err
	}
	defer os.Remove(initFile)
	if err := os.Chown(initFile, int(u.UID), int(u.GID)); err != nil {
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
	out, err := engine.OnOwnThread(cmd.CombinedOutput)
	if err != nil {
		return fmt.Errorf("mariadb-install-db: %v: %s", err, engine.LastLines(string(out), 8))
	}
	return nil
}

// killStale stops a mariadbd left running on dir by an earlier minicloud
// (its pid file names it).
func killStale(dir string) {
	engine.KillStale(filepath.Join(dir, "mysqld.pid"), func(comm string) bool { return comm == "mariadbd" || comm == "mysqld" },
		syscall.SIGTERM, 30*time.Second)
}

// Start runs mariadbd on dir/data with settings (Settings) as options; it
// ignores extra: MariaDB replicas need no inherited files.
func (m *Engine) Start(dir string, port int, vpc *engine.Listen, settings []string, _ ...*os.File) (*engine.Server, error) {
	if err := m.Available(); err != nil {
		return nil, err
	}
	u, err := serverUser()
	if err != nil {
		return nil, err
	}
	killStale(dir)
	d, logf, err := engine.OpenInstance(dir, m.LogPath(dir))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	defer logf.Close()
	listen, myPort, ns := "127.0.0.1", port, ""
	if vpc != nil {
		listen, myPort, ns = vpc.IP.String(), vpc.Port, vpc.NS
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
		"--secure-file-priv="+at+"/tmp",
		// Relative to the data directory: the instance directory's, for
		// log exports (LogFile).
		"--general-log-file=../"+generalLogName, "--slow-query-log-file=../"+slowLogName)
	for _, s := range settings { // the server's own arguments come last
		cmd.Args = append(cmd.Args, "--"+s)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	p, err := m.run.Run(engine.WorkloadName(dir), cmd, port, ns, syscall.SIGTERM)
	if err != nil {
		return nil, fmt.Errorf("start mariadbd: %w", err)
	}
	m.dirs.Store(p, dir)
	go func() {
		<-p.Done()
		m.dirs.Delete(p)
	}()
	return p, nil
}

// openAdmin reads the administrative password of instance directory dir
// and opens dir, whose descriptor reaches its socket.
func openAdmin(dir string) (secret []byte, d *os.File, err error) {
	if secret, err = os.ReadFile(filepath.Join(dir, secretFile)); err != nil {
		return nil, nil, fmt.Errorf("read the administrative password: %w", err)
	}
	if d, err = os.Open(dir); err != nil {
		return nil, nil, err
	}
	return secret, d, nil
}

// admin opens the administrative connection through dir's socket. The
// socket is reached through a descriptor of dir, which keeps the path short
// (Unix socket paths are limited to 108 bytes) whatever dir is.
func (m *Engine) admin(dir string) (*sql.DB, func(), error) {
	secret, d, err := openAdmin(dir)
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

func (m *Engine) exec(ctx context.Context, dir string, stmts ...string) error {
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
func (m *Engine) WaitReady(ctx context.Context, p *engine.Server, a engine.Access) error {
	return engine.WaitUntil(ctx, p, "mariadbd", m.LogPath(a.Dir), func() error {
		if err := m.ping(ctx, a.Dir); err != nil {
			return err
		}
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(p.Port), 2*time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	})
}

// ping reaches the server of dir on its socket.
func (m *Engine) ping(ctx context.Context, dir string) error {
	db, done, err := m.admin(dir)
	if err != nil {
		return err
	}
	defer done()
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return db.PingContext(pctx)
}

// CreateDatabase creates database name unless it exists.
func (m *Engine) CreateDatabase(ctx context.Context, p *engine.Server, a engine.Access, name string) error {
	return m.exec(ctx, a.Dir, "CREATE DATABASE IF NOT EXISTS "+mysqlIdent(name))
}

// SetPassword gives the master the password and, as AWS's reset does, its
// account and privileges back if they were dropped or revoked.
func (m *Engine) SetPassword(ctx context.Context, p *engine.Server, a engine.Access, password string) error {
	user := mysqlString(a.User) + "@'%'"
	return m.exec(ctx, a.Dir,
		"CREATE USER IF NOT EXISTS "+user+" IDENTIFIED BY "+mysqlString(password),
		"ALTER USER "+user+" IDENTIFIED BY "+mysqlString(password)+" ACCOUNT UNLOCK",
		"GRANT "+masterPrivileges+" ON *.* TO "+user+" WITH GRANT OPTION")
}
