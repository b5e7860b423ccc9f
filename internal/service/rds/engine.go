package rds

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/vishvananda/netns"
)

// installHint is what CreateDBInstance says when this host cannot run the
// engine.
const installHint = "minicloud runs RDS for PostgreSQL on the host's PostgreSQL server binaries, and none were found under /usr/lib/postgresql/*/bin: install them (apt-get install postgresql) and restart minicloud."

// engine is the host's PostgreSQL installation.
type engine struct {
	binDir string // "" when there is none
	major  string

	once    sync.Once
	version string // e.g. 15.18
	err     error
	// known is set once version/err are, so health can read them without
	// running postgres --version itself.
	known atomic.Bool
}

// findEngine picks the newest /usr/lib/postgresql/<major>/bin holding both
// postgres and initdb (or binDir when set).
func findEngine(binDir string) *engine {
	if binDir != "" {
		return &engine{binDir: binDir, major: filepath.Base(filepath.Dir(binDir))}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	best, bestMajor := "", -1
	for _, d := range dirs {
		m, err := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		if err != nil || m <= bestMajor {
			continue
		}
		if !isExec(filepath.Join(d, "postgres")) || !isExec(filepath.Join(d, "initdb")) {
			continue
		}
		best, bestMajor = d, m
	}
	if best == "" {
		return &engine{}
	}
	return &engine{binDir: best, major: strconv.Itoa(bestMajor)}
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// Version is the full version of the host's server, e.g. "15.18".
func (e *engine) Version() (string, error) {
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

// knownVersion is the full version if Version already ran, else the major
// version from the binaries' directory: cheap enough for every health check.
func (e *engine) knownVersion() string {
	if e.known.Load() && e.err == nil {
		return e.version
	}
	return e.major
}

// osUser is who runs the servers.
type osUser struct {
	name     string
	uid, gid uint32
	asRoot   bool // minicloud is root and switches to uid/gid
}

var (
	dbUserOnce sync.Once
	dbUser     osUser
	dbUserErr  error
)

// serverUser returns the unprivileged user the servers run as: minicloud's
// own user when it is not root; else the Debian "postgres" user, else the
// system user "minicloud-db", created on first use.
func serverUser() (osUser, error) {
	dbUserOnce.Do(func() {
		if os.Geteuid() != 0 {
			dbUser = osUser{name: "(minicloud's user)", uid: uint32(os.Geteuid()), gid: uint32(os.Getegid())}
			return
		}
		u, err := user.Lookup("postgres")
		if err != nil {
			u, err = user.Lookup("minicloud-db")
		}
		if err != nil {
			if out, cerr := exec.Command("useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", "minicloud-db").CombinedOutput(); cerr != nil {
				dbUserErr = fmt.Errorf("create the system user minicloud-db: %v: %s", cerr, strings.TrimSpace(string(out)))
				return
			}
			u, err = user.Lookup("minicloud-db")
		}
		if err != nil {
			dbUserErr = err
			return
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		dbUser = osUser{name: u.Username, uid: uint32(uid), gid: uint32(gid), asRoot: true}
	})
	return dbUser, dbUserErr
}

// command runs bin as the server user with dir (the instance directory)
// inherited as fd 3, so that /proc/self/fd/3/... reaches it whatever the
// permissions of its ancestors.
func (e *engine) command(u osUser, dir *os.File, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(e.binDir, name), args...)
	cmd.ExtraFiles = []*os.File{dir}
	cmd.Dir = "/"
	cmd.Env = []string{"LANG=C.UTF-8", "PATH=/usr/bin:/bin"}
	attr := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGINT}
	if u.asRoot {
		attr.Credential = &syscall.Credential{Uid: u.uid, Gid: u.gid, NoSetGroups: false, Groups: []uint32{}}
	}
	cmd.SysProcAttr = attr
	return cmd
}

const fdDir = "/proc/self/fd/3"

// prepareDir creates the instance directory owned by the server user.
func prepareDir(dir string, u osUser) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.Chown(dir, int(u.uid), int(u.gid))
}

// initdb creates dir/data with the master user and password (scram-sha-256
// for every connection), removing any half-made attempt first.
func (e *engine) initdb(ctx context.Context, dir, master, password string) error {
	u, err := serverUser()
	if err != nil {
		return err
	}
	if err := prepareDir(dir, u); err != nil {
		return err
	}
	_ = os.RemoveAll(filepath.Join(dir, "data"))
	pw := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pw, []byte(password+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(pw)
	if err := os.Chown(pw, int(u.uid), int(u.gid)); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	cmd := e.command(u, d, "initdb", "-D", fdDir+"/data", "-U", master, "--auth=scram-sha-256",
		"--pwfile="+fdDir+"/pwfile", "-E", "UTF8", "--locale=C", "--no-sync")
	out, err := onOwnThread(cmd.CombinedOutput)
	if err != nil {
		return fmt.Errorf("initdb: %v: %s", err, lastLines(string(out), 5))
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// server is one running postgres.
type server struct {
	cmd   *exec.Cmd
	port  int
	proxy *proxy     // to the server in its VPC namespace, if placed
	eni   *PlacedENI // its network interface, if placed
	done  chan struct{}
	err   error
	// stopSig asks for a clean shutdown; zero is postgres's SIGINT (fast
	// shutdown). mariadbd ignores SIGINT and shuts down on SIGTERM.
	stopSig syscall.Signal
}

func (p *server) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// stop shuts the server down (fast shutdown, then immediate, then kill).
func (p *server) stop() {
	if p == nil {
		return
	}
	p.proxy.close()
	if !p.running() {
		return
	}
	sig := p.stopSig
	if sig == 0 {
		sig = syscall.SIGINT
	}
	_ = p.cmd.Process.Signal(sig)
	for _, next := range []syscall.Signal{syscall.SIGQUIT, syscall.SIGKILL} {
		select {
		case <-p.done:
			return
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, next)
		}
	}
	<-p.done
}

// killStale stops a postgres left running on dir/data by an earlier
// minicloud (its postmaster.pid names it).
func killStale(dir string) {
	raw, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(raw), "\n", 2)[0]))
	if err != nil || pid <= 1 {
		return
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil || !strings.HasPrefix(strings.TrimSpace(string(comm)), "postgres") {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGINT)
	for range 100 {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// start runs postgres on dir/data listening on 127.0.0.1:port, or, with
// vpc, inside vpc's namespace on its address and port with a proxy from
// 127.0.0.1:port; also on a unix socket in dir/sock, for read replicas.
// settings are more name=value server settings (later ones win); extra are
// inherited from fd 4 on (a replica's source socket directory).
func (e *engine) start(dir string, port int, vpc *vpcListen, settings []string, extra ...*os.File) (*server, error) {
	listen, pgPort := "127.0.0.1", port
	if vpc != nil {
		if err := allowVPCClients(dir); err != nil {
			return nil, err
		}
		listen, pgPort = vpc.ip.String(), vpc.port
	}
	p, err := e.launch(dir, pgPort, vpc, append([]string{"listen_addresses=" + listen}, settings...), extra)
	if err != nil || vpc == nil {
		return p, err
	}
	p.port = port // clients on the host reach it through the proxy
	px, err := startProxy(port, vpc)
	if err != nil {
		p.stop()
		return nil, fmt.Errorf("loopback proxy: %w", err)
	}
	p.proxy = px
	return p, nil
}

// launch runs postgres on dir/data as the server user: on pgPort, its unix
// socket in dir/sock, with settings (name=value; later ones win) and the
// extra files from fd 4 on, inside vpc's namespace when vpc is set.
func (e *engine) launch(dir string, pgPort int, vpc *vpcListen, settings []string, extra []*os.File) (*server, error) {
	u, err := serverUser()
	if err != nil {
		return nil, err
	}
	killStale(dir)
	if err := os.MkdirAll(sockDir(dir), 0o700); err != nil {
		return nil, err
	}
	if err := os.Chown(sockDir(dir), int(u.uid), int(u.gid)); err != nil {
		return nil, err
	}
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	logf, err := os.OpenFile(filepath.Join(dir, "postgresql.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := e.command(u, d, "postgres", "-D", fdDir+"/data", "-p", strconv.Itoa(pgPort),
		"-c", "unix_socket_directories="+fdDir+"/sock", "-c", "fsync=on")
	for _, s := range settings {
		cmd.Args = append(cmd.Args, "-c", s)
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, extra...)
	cmd.Stdout, cmd.Stderr = logf, logf
	p := &server{cmd: cmd, port: pgPort, done: make(chan struct{})}
	ns := ""
	if vpc != nil {
		ns = vpc.ns
	}
	if err := startLocked(p, ns); err != nil {
		if vpc != nil {
			return nil, fmt.Errorf("start postgres in %s: %w", vpc.ns, err)
		}
		return nil, err
	}
	return p, nil
}

// startLocked starts p.cmd from a thread that stays until the server
// exits: the child inherits the namespace of the thread that forks it, and
// its parent-death signal (Pdeathsig) follows that thread, not the process,
// so Go must not end the thread (it does for threads vpcnet leaves in a
// namespace) and SIGINT the server at random. With ns, the thread enters
// the namespace first and is discarded afterwards. Every engine's servers
// start through here.
func startLocked(p *server, ns string) error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if ns == "" {
			defer runtime.UnlockOSThread()
		}
		var err error
		if ns != "" {
			var h netns.NsHandle
			if h, err = netns.GetFromPath(ns); err == nil {
				err = netns.Set(h)
				h.Close()
			}
		}
		if err == nil {
			err = p.cmd.Start()
		}
		started <- err
		if err != nil {
			return
		}
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return <-started
}

// waitReady waits until the server accepts the master's connections.
func waitReady(ctx context.Context, p *server, user, password string, logPath string) error {
	deadline := time.Now().Add(60 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		if !p.running() {
			raw, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres exited (%v): %s", p.err, lastLines(string(raw), 5))
		}
		c, err := connect(ctx, p.port, user, password, "postgres")
		if err == nil {
			_ = c.Close(ctx)
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("postgres did not accept connections within 60s: %v", last)
}

func connect(ctx context.Context, port int, user, password, db string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig("")
	if err != nil {
		return nil, err
	}
	cfg.Host, cfg.Port, cfg.User, cfg.Password, cfg.Database = "127.0.0.1", uint16(port), user, password, db
	cfg.ConnectTimeout = 2 * time.Second
	cfg.TLSConfig = nil
	cfg.Fallbacks = nil
	return pgx.ConnectConfig(ctx, cfg)
}

// exec runs statements as the master user.
func execSQL(ctx context.Context, port int, user, password string, stmts ...string) error {
	c, err := connect(ctx, port, user, password, "postgres")
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
	c, err := connect(ctx, port, user, password, "postgres")
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

// freePort returns a port free on 127.0.0.1 now, avoiding those in use.
func freePort(avoid []int) (int, error) {
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		if !slices.Contains(avoid, port) {
			return port, nil
		}
	}
	return 0, errors.New("no free port on 127.0.0.1")
}

// portFree reports whether port can be bound on 127.0.0.1.
func portFree(port int) bool {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	_ = ln.Close()
	return true
}

// onOwnThread runs fn on a thread locked for its duration: a child forked in
// fn keeps its parent-death signal's thread alive until fn returns.
func onOwnThread(fn func() ([]byte, error)) ([]byte, error) {
	type result struct {
		out []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		out, err := fn()
		ch <- result{out, err}
	}()
	r := <-ch
	return r.out, r.err
}
