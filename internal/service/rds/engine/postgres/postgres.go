package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/minicloud/minicloud/internal/service/rds/engine"
)

// installHint is what CreateDBInstance says when this host cannot run the
// engine.
const installHint = "minicloud runs RDS for PostgreSQL on the host's PostgreSQL server binaries, and none were found under /usr/lib/postgresql/*/bin: install them (apt-get install postgresql) and restart minicloud."

// Engine is the host's PostgreSQL installation. The zero Engine is one
// whose binaries are missing.
type Engine struct {
	// run starts the servers.
	run    engine.Runner
	binDir string // "" when there is none
	major  string

	once    sync.Once
	version string // e.g. 15.18
	err     error
	// known is set once version/err are, so health can read them without
	// running postgres --version itself.
	known atomic.Bool

	paramsOnce sync.Once
	params     []engine.Param
	paramsErr  error
}

var (
	_ engine.Replication = (*Engine)(nil)
	_ engine.Standbys    = (*Engine)(nil)
	_ engine.PointInTime = (*Engine)(nil)
	_ engine.Parameters  = (*Engine)(nil)
)

// New returns the engine of the newest /usr/lib/postgresql/<major>/bin
// holding both postgres and initdb, or of binDir when set; its servers run
// through run.
func New(binDir string, run engine.Runner) *Engine {
	if binDir != "" {
		return &Engine{binDir: binDir, major: filepath.Base(filepath.Dir(binDir)), run: run}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	best, bestMajor := "", -1
	for _, d := range dirs {
		m, err := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		if err != nil || m <= bestMajor {
			continue
		}
		if !engine.IsExec(filepath.Join(d, "postgres")) || !engine.IsExec(filepath.Join(d, "initdb")) {
			continue
		}
		best, bestMajor = d, m
	}
	if best == "" {
		return &Engine{run: run}
	}
	return &Engine{binDir: best, major: strconv.Itoa(bestMajor), run: run}
}

// serverUser is who runs the servers (engine.ServerUser), looked up once.
var serverUser = sync.OnceValues(func() (engine.OSUser, error) { return engine.ServerUser("postgres") })

// Name is "postgres".
func (e *Engine) Name() string { return "postgres" }

// Available is nil when the host has PostgreSQL's binaries.
func (e *Engine) Available() error {
	if e.binDir == "" {
		return errors.New(installHint)
	}
	return nil
}

// Version is the full version of the host's server, e.g. "15.18".
func (e *Engine) Version() (string, error) {
	if e.binDir == "" {
		return "", errors.New(installHint)
	}
	e.once.Do(func() {
		out, err := exec.Command(filepath.Join(e.binDir, "postgres"), "--version").Output()
		if err != nil {
			e.err = fmt.Errorf("%s --version: %w", filepath.Join(e.binDir, "postgres"), err)
			return
		}
		// postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)
		f := strings.Fields(string(out))
		if len(f) < 3 {
			e.err = fmt.Errorf("unexpected postgres --version output %q", out)
			return
		}
		e.version = f[2]
	})
	e.known.Store(true)
	return e.version, e.err
}

// Major is the major version, the name of the binaries' directory's parent.
func (e *Engine) Major() string { return e.major }

// KnownVersion is the full version if Version already ran, else the major
// version from the binaries' directory.
func (e *Engine) KnownVersion() string {
	if e.known.Load() && e.err == nil {
		return e.version
	}
	return e.major
}

// Defaults are RDS for PostgreSQL's.
func (e *Engine) Defaults() engine.Defaults {
	return engine.Defaults{
		Port: 5432, LicenseModel: "postgresql-license",
		Family: "postgres" + e.major, OptionGroup: "default:postgres-" + e.major,
		ParameterGroup: "default.postgres" + e.major,
		MaxMaster:      63, MaxPassword: 128, MaxDBName: 63,
		Reserved: []string{"rdsadmin", "rdsrepladmin", "rdstopmgr"},
		Title:    "PostgreSQL", Description: "PostgreSQL", LogTypes: []string{"postgresql", "upgrade"},
	}
}

// LogPath is postgresql.log in the instance directory.
func (e *Engine) LogPath(dir string) string { return filepath.Join(dir, "postgresql.log") }

// Settings: WAL archiving for automated backups (backup.go) and
// shared_buffers by the class (memory.go).
func (e *Engine) Settings(dir string, in engine.Instance) ([]string, error) {
	out, err := archiveSettings(dir, in.BackupRetention)
	if err != nil {
		return nil, err
	}
	// RDS for PostgreSQL's default group: {DBInstanceClassMemory/32768}
	// buffers of 8 kB, a quarter of the memory.
	return out, ClassBuffers(dir, in.ClassMemory/32768)
}

// command runs bin as the server user with dir (the instance directory)
// inherited as fd 3, so that /proc/self/fd/3/... reaches it whatever the
// permissions of its ancestors.
func (e *Engine) command(u engine.OSUser, dir *os.File, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(e.binDir, name), args...)
	cmd.ExtraFiles = []*os.File{dir}
	cmd.Dir = "/"
	cmd.Env = []string{"LANG=C.UTF-8", "PATH=/usr/bin:/bin"}
	attr := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGINT}
	if u.AsRoot {
		attr.Credential = &syscall.Credential{Uid: u.UID, Gid: u.GID, NoSetGroups: false, Groups: []uint32{}}
	}
	cmd.SysProcAttr = attr
	return cmd
}

const fdDir = "/proc/self/fd/3"

// sockDir is where an instance's server puts its Unix socket.
func sockDir(dir string) string { return filepath.Join(dir, "sock") }

// Init creates dir/data with initdb: the master user and password
// (scram-sha-256 for every connection), removing any half-made attempt
// first.
func (e *Engine) Init(ctx context.Context, dir, master, password string) error {
	u, err := serverUser()
	if err != nil {
		return err
	}
	if err := engine.PrepareDir(dir, u); err != nil {
		return err
	}
	_ = os.RemoveAll(filepath.Join(dir, "data"))
	pw := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pw, []byte(password+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(pw)
	if err := u.Chown(pw); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	cmd := e.command(u, d, "initdb", "-D", fdDir+"/data", "-U", master, "--auth=scram-sha-256",
		"--pwfile="+fdDir+"/pwfile", "-E", "UTF8", "--locale=C", "--no-sync")
	out, err := engine.OnOwnThread(cmd.CombinedOutput)
	if err != nil {
		return fmt.Errorf("initdb: %v: %s", err, engine.LastLines(string(out), 5))
	}
	return nil
}

// killStale stops a postgres left running on dir/data by an earlier
// minicloud (its postmaster.pid names it).
func killStale(dir string) {
	engine.KillStale(filepath.Join(dir, "data", "postmaster.pid"), func(comm string) bool { return strings.HasPrefix(comm, "postgres") },
		syscall.SIGINT, 10*time.Second)
}

// Start runs postgres on dir/data listening on 127.0.0.1:port, or, with
// vpc, inside vpc's namespace on its address and port; also on a Unix
// socket in dir/sock, for read replicas.
func (e *Engine) Start(dir string, port int, vpc *engine.Listen, settings []string, extra ...*os.File) (*engine.Server, error) {
	listen, pgPort := "127.0.0.1", port
	if vpc != nil {
		if err := allowVPCClients(dir); err != nil {
			return nil, err
		}
		listen, pgPort = vpc.IP.String(), vpc.Port
	}
	p, err := e.launch(dir, pgPort, vpc, append([]string{"listen_addresses=" + listen}, settings...), extra)
	if err != nil {
		return nil, err
	}
	p.Port = port // clients on the host reach it through the caller's proxy
	return p, nil
}

// launch runs postgres on dir/data as the server user: on pgPort, its Unix
// socket in dir/sock, with settings (name=value; later ones win) and the
// extra files from fd 4 on, inside vpc's namespace when vpc is set.
func (e *Engine) launch(dir string, pgPort int, vpc *engine.Listen, settings []string, extra []*os.File) (*engine.Server, error) {
	u, err := serverUser()
	if err != nil {
		return nil, err
	}
	killStale(dir)
	if err := os.MkdirAll(sockDir(dir), 0o700); err != nil {
		return nil, err
	}
	if err := u.Chown(sockDir(dir)); err != nil {
		return nil, err
	}
	d, logf, err := engine.OpenInstance(dir, e.LogPath(dir))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	defer logf.Close()
	cmd := e.command(u, d, "postgres", "-D", fdDir+"/data", "-p", strconv.Itoa(pgPort),
		"-c", "unix_socket_directories="+fdDir+"/sock", "-c", "fsync=on")
	for _, s := range settings {
		cmd.Args = append(cmd.Args, "-c", s)
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, extra...)
	cmd.Stdout, cmd.Stderr = logf, logf
	ns := ""
	if vpc != nil {
		ns = vpc.NS
	}
	p, err := e.run.Run(engine.WorkloadName(dir), cmd, pgPort, ns, syscall.SIGINT)
	if err != nil {
		if vpc != nil {
			return nil, fmt.Errorf("start postgres in %s: %w", vpc.NS, err)
		}
		return nil, err
	}
	return p, nil
}

// allowVPCClients lets clients from any address authenticate (security
// groups decide who reaches the server, as on AWS).
func allowVPCClients(dir string) error {
	_, err := appendHBA(dir, "host all all 0.0.0.0/0 scram-sha-256", "clients in the VPC")
	return err
}

// appendHBA adds line to dir/data/pg_hba.conf, after a comment saying why,
// unless it is there; it reports whether it added it (the server must then
// reload its configuration).
func appendHBA(dir, line, why string) (bool, error) {
	p := filepath.Join(dir, "data", "pg_hba.conf")
	raw, err := os.ReadFile(p)
	if err != nil {
		return false, err
	}
	if strings.Contains(string(raw), line) {
		return false, nil
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return false, err
	}
	_, err = f.WriteString("\n# minicloud: " + why + "\n" + line + "\n")
	return true, errors.Join(err, f.Close())
}

// WaitReady waits until the server accepts a's connections.
func (e *Engine) WaitReady(ctx context.Context, p *engine.Server, a engine.Access) error {
	return engine.WaitUntil(ctx, p, "postgres", e.LogPath(a.Dir), func() error {
		c, err := connect(ctx, p.Port, a.User, a.Password)
		if err == nil {
			_ = c.Close(ctx)
		}
		return err
	})
}

// CreateDatabase creates database name unless it exists.
func (e *Engine) CreateDatabase(ctx context.Context, p *engine.Server, a engine.Access, name string) error {
	ok, err := databaseExists(ctx, p.Port, a.User, a.Password, name)
	if err != nil || ok {
		return err
	}
	return execSQL(ctx, p.Port, a.User, a.Password, "CREATE DATABASE "+quoteIdent(name))
}

// SetPassword gives the master user password.
func (e *Engine) SetPassword(ctx context.Context, p *engine.Server, a engine.Access, password string) error {
	if err := execSQL(ctx, p.Port, a.User, a.Password, "ALTER ROLE "+quoteIdent(a.User)+" PASSWORD "+quoteLiteral(password)); err != nil {
		return fmt.Errorf("set the master password: %w", err)
	}
	return nil
}

// connect connects to database postgres of the server on 127.0.0.1:port.
func connect(ctx context.Context, port int, user, password string) (*pgx.Conn, error) {
	return connectAt(ctx, "127.0.0.1", port, user, password)
}

// connectAt connects to database postgres of the server on host (an
// address, or the directory of its Unix socket) and port.
func connectAt(ctx context.Context, host string, port int, user, password string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig("")
	if err != nil {
		return nil, err
	}
	cfg.Host, cfg.Port, cfg.User, cfg.Password, cfg.Database = host, uint16(port), user, password, "postgres"
	cfg.ConnectTimeout = 2 * time.Second
	cfg.TLSConfig, cfg.Fallbacks = nil, nil
	return pgx.ConnectConfig(ctx, cfg)
}

// execSQL runs statements as user.
func execSQL(ctx context.Context, port int, user, password string, stmts ...string) error {
	c, err := connect(ctx, port, user, password)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	for _, s := range stmts {
		if _, err := c.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", strings.SplitN(s, " ", 3)[:2], err)
		}
	}
	return nil
}

// databaseExists reports whether db exists.
func databaseExists(ctx context.Context, port int, user, password, db string) (bool, error) {
	c, err := connect(ctx, port, user, password)
	if err != nil {
		return false, err
	}
	defer c.Close(ctx)
	var n int
	err = c.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", db).Scan(&n)
	return n > 0, err
}

func quoteIdent(s string) string { return pgx.Identifier{s}.Sanitize() }

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
