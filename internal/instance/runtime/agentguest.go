package runtime

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minicloud/minicloud/internal/agentport"
	"github.com/minicloud/minicloud/internal/workload/sandbox"
)

// The init's side of agentport.Executor (the runtime's side is agent.go).
// The runtime sends each request on the agent socket (fd 7) with a socket
// of the process's own; the init resolves the user in the guest's
// /etc/passwd (making ssm-user on first use), makes the terminal on the
// guest's devpts or the pipes, forks the process from the hardened thread
// (sandbox.Reaper.Start) and sends the PID and the host's ends of the
// streams back. Everything the process gets is made inside the instance:
// the runtime hands the guest nothing of the host. Then the process's
// socket carries signals one way and the exit status the other; the
// runtime closing it before the exit kills the process group.

// guestAgent serves exec requests in the init.
type guestAgent struct {
	rp      *sandbox.Reaper
	usersMu sync.Mutex // making ssm-user
	logf    func(format string, args ...any)
}

// serve reads requests from the agent socket until the runtime closes it.
func (a *guestAgent) serve(ctl *net.UnixConn) {
	defer ctl.Close()
	for {
		var req execRequest
		fds, err := recvMessage(ctl, &req)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				a.logf("minicloud-init: agent socket: %v", err)
			}
			return
		}
		if len(fds) != 1 {
			closeFDs(fds)
			continue
		}
		conn, err := fdConn(fds[0])
		if err != nil {
			a.logf("minicloud-init: agent: %v", err)
			continue
		}
		go a.run(conn, req)
	}
}

// run starts one process and follows it until it exits or the runtime
// gives it up.
func (a *guestAgent) run(conn *net.UnixConn, req execRequest) {
	defer conn.Close()
	pid, wait, err := a.start(req, conn)
	if err != nil {
		_, _ = sendMessage(conn, execMessage{Error: err.Error(), NoUser: errors.Is(err, agentport.ErrNoUser)})
		return
	}
	exited := make(chan struct{})
	go func() {
		for {
			var m execMessage
			if _, err := recvMessage(conn, &m); err != nil {
				break
			}
			if m.Signal > 0 && m.Signal < 65 {
				_ = unix.Kill(-pid, unix.Signal(m.Signal))
			}
		}
		select {
		case <-exited:
		default: // given up: the whole process group goes
			_ = unix.Kill(-pid, unix.SIGKILL)
		}
	}()
	ws := <-wait
	close(exited)
	code := ws.ExitStatus()
	if ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	_, _ = sendMessage(conn, execMessage{Exit: &code})
}

// start forks the process and sends the runtime its PID and streams.
func (a *guestAgent) start(req execRequest, conn *net.UnixConn) (int, <-chan syscall.WaitStatus, error) {
	if len(req.Argv) == 0 {
		return 0, nil, errors.New("empty command")
	}
	u, err := a.user(req.User)
	if err != nil {
		return 0, nil, err
	}
	env := mergeEnv([]string{"HOME=" + u.home, "USER=" + u.name, "LOGNAME=" + u.name, "SHELL=" + u.shell,
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, req.Env)
	path, err := sandbox.LookPath(req.Argv[0], env)
	if err != nil {
		return 0, nil, err
	}
	dir := req.Dir
	if dir == "" {
		dir = "/"
		if fi, err := os.Stat(u.home); err == nil && fi.IsDir() {
			dir = u.home
		}
	}
	var child, back []*os.File
	defer func() { closeAll(child); closeAll(back) }()
	sys := &syscall.SysProcAttr{Setsid: true, Credential: &syscall.Credential{Uid: u.uid, Gid: u.gid, Groups: u.groups}}
	if req.TTY != nil {
		master, slave, err := openPTY(*req.TTY, u.uid)
		if err != nil {
			return 0, nil, err
		}
		child, back = []*os.File{slave, slave, slave}, []*os.File{master}
		sys.Setctty, sys.Ctty = true, 0
	} else {
		for i := range 3 {
			r, w, err := os.Pipe()
			if err != nil {
				closeAll([]*os.File{r, w})
				return 0, nil, err
			}
			if i == 0 {
				child, back = append(child, r), append(back, w)
			} else {
				child, back = append(child, w), append(back, r)
			}
		}
	}
	fds := make([]uintptr, len(child))
	for i, f := range child {
		fds[i] = f.Fd()
	}
	pid, wait, err := a.rp.Start(path, req.Argv, &syscall.ProcAttr{Dir: dir, Env: env, Files: fds, Sys: sys})
	if err != nil {
		return 0, nil, fmt.Errorf("start %s: %w", req.Argv[0], err)
	}
	backFDs := make([]int, len(back))
	for i, f := range back {
		backFDs[i] = int(f.Fd())
	}
	if _, err := sendMessage(conn, execMessage{PID: pid}, backFDs...); err != nil {
		_ = unix.Kill(-pid, unix.SIGKILL)
		return pid, wait, nil // the exit is sent to no one
	}
	return pid, wait, nil
}

// openPTY makes a terminal on the guest's devpts: its master for the
// runtime, its slave (owned by the user, as login does) for the process.
func openPTY(ws agentport.WindowSize, uid uint32) (master, slave *os.File, err error) {
	m, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open /dev/ptmx: %w", err)
	}
	master = os.NewFile(uintptr(m), "pty-master")
	if err := unix.IoctlSetPointerInt(m, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("unlock the terminal: %w", err)
	}
	// The slave through the master itself, not a path the guest could
	// have replaced.
	s, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(m), unix.TIOCGPTPEER, uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
	if errno != 0 {
		master.Close()
		return nil, nil, fmt.Errorf("open the terminal's slave: %w", errno)
	}
	slave = os.NewFile(s, "pty-slave")
	_ = unix.IoctlSetWinsize(m, unix.TIOCSWINSZ, &unix.Winsize{Row: ws.Rows, Col: ws.Cols})
	gid := -1
	if g, ok := lookupGroup("tty"); ok {
		gid = int(g)
	}
	_ = unix.Fchown(int(s), int(uid), gid)
	_ = unix.Fchmod(int(s), 0o620)
	return master, slave, nil
}

// guestUser is a user of the guest's /etc/passwd.
type guestUser struct {
	name, home, shell string
	uid, gid          uint32
	groups            []uint32
}

// user resolves name (root when empty), making ssm-user first if the
// guest lacks it.
func (a *guestAgent) user(name string) (guestUser, error) {
	if name == "" {
		name = agentport.Root
	}
	u, err := lookupUser(name)
	if errors.Is(err, agentport.ErrNoUser) && name == agentport.SSMUser {
		if err := a.makeSSMUser(); err != nil {
			return guestUser{}, err
		}
		u, err = lookupUser(name)
	}
	return u, err
}

// ssmSudoers is the file the agent gives ssm-user's sudo rights in.
const ssmSudoers = "/etc/sudoers.d/ssm-agent-users"

// makeSSMUser does what the agent does the first time it needs ssm-user:
// useradd -m, then a sudoers entry (kept if the guest has one).
func (a *guestAgent) makeSSMUser() error {
	a.usersMu.Lock()
	defer a.usersMu.Unlock()
	if _, err := lookupUser(agentport.SSMUser); err == nil {
		return nil
	}
	argv := []string{"useradd", "-m", agentport.SSMUser}
	if _, err := os.Stat("/bin/bash"); err == nil {
		argv = []string{"useradd", "-m", "-s", "/bin/bash", agentport.SSMUser}
	}
	var out strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, err := a.rp.Exec(ctx, argv, []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, "/", &out)
	if err == nil && code != 0 {
		err = fmt.Errorf("exit status %d: %s", code, strings.TrimSpace(out.String()))
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", agentport.SSMUser, err)
	}
	a.logf("minicloud-init: agent: created %s", agentport.SSMUser)
	if err := os.MkdirAll("/etc/sudoers.d", 0o750); err != nil {
		return fmt.Errorf("sudoers for %s: %w", agentport.SSMUser, err)
	}
	f, err := os.OpenFile(ssmSudoers, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o440)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sudoers for %s: %w", agentport.SSMUser, err)
	}
	_, err = fmt.Fprintf(f, "# User rules for %s\n%s ALL=(ALL) NOPASSWD:ALL\n", agentport.SSMUser, agentport.SSMUser)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// lookupUser reads name from the guest's /etc/passwd, and its
// supplementary groups from /etc/group.
func lookupUser(name string) (guestUser, error) {
	var u guestUser
	found := false
	err := scanColonFile("/etc/passwd", func(f []string) bool {
		if len(f) < 7 || f[0] != name {
			return true
		}
		uid, err1 := strconv.ParseUint(f[2], 10, 32)
		gid, err2 := strconv.ParseUint(f[3], 10, 32)
		if err1 != nil || err2 != nil {
			return true
		}
		u = guestUser{name: name, uid: uint32(uid), gid: uint32(gid), home: f[5], shell: f[6]}
		found = true
		return false
	})
	if err != nil {
		return u, fmt.Errorf("read /etc/passwd: %w", err)
	}
	if !found {
		return u, fmt.Errorf("%w: %s", agentport.ErrNoUser, name)
	}
	if u.home == "" {
		u.home = "/"
	}
	if u.shell == "" {
		u.shell = "/bin/sh"
	}
	u.groups = []uint32{u.gid}
	_ = scanColonFile("/etc/group", func(f []string) bool {
		if len(f) < 4 {
			return true
		}
		gid, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil || uint32(gid) == u.gid {
			return true
		}
		for _, m := range strings.Split(f[3], ",") {
			if strings.TrimSpace(m) == name {
				u.groups = append(u.groups, uint32(gid))
				break
			}
		}
		return true
	})
	return u, nil
}

// lookupGroup is the GID of a group of the guest's /etc/group.
func lookupGroup(name string) (uint32, bool) {
	var gid uint32
	found := false
	_ = scanColonFile("/etc/group", func(f []string) bool {
		if len(f) >= 3 && f[0] == name {
			if g, err := strconv.ParseUint(f[2], 10, 32); err == nil {
				gid, found = uint32(g), true
				return false
			}
		}
		return true
	})
	return gid, found
}

// scanColonFile calls fn with the fields of each line of a passwd-like
// file until fn returns false.
func scanColonFile(path string, fn func([]string) bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		if !fn(strings.Split(line, ":")) {
			return nil
		}
	}
	return s.Err()
}

// mergeEnv is base with over's variables added or replacing base's.
func mergeEnv(base, over []string) []string {
	out := append([]string(nil), base...)
	for _, kv := range over {
		k, _, _ := strings.Cut(kv, "=")
		replaced := false
		for i, b := range out {
			if bk, _, _ := strings.Cut(b, "="); bk == k {
				out[i], replaced = kv, true
				break
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return out
}
