package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minicloud/minicloud/internal/agentport"
	"github.com/minicloud/minicloud/internal/workload"
)

// The runtime's side of agentport.Executor: each running instance's init
// serves processes on its agent socket (agentguest.go has its side and
// the protocol).

var _ agentport.Agent = (*Runtime)(nil)

// execRequest is a process the runtime asks the init for.
type execRequest struct {
	Argv []string
	Env  []string `json:",omitempty"`
	Dir  string   `json:",omitempty"`
	User string   `json:",omitempty"`
	TTY  *agentport.WindowSize
}

// execMessage is one message on a process's socket: the init's answer
// (PID with the streams, or Error), a signal from the runtime, the exit
// status from the init.
type execMessage struct {
	PID    int    `json:",omitempty"`
	Error  string `json:",omitempty"`
	NoUser bool   `json:",omitempty"`
	Signal int    `json:",omitempty"`
	Exit   *int   `json:",omitempty"`
}

// maxAgentMessage bounds a message on the agent's sockets (a request's
// argv and environment).
const maxAgentMessage = 256 << 10

// agentSocketPair is a connected pair of SOCK_SEQPACKET sockets: each
// message arrives whole, with its descriptors.
func agentSocketPair() (*os.File, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "agent-child"), os.NewFile(uintptr(fds[1]), "agent-parent"), nil
}

// fdConn makes a connection of a socket descriptor it takes over.
func fdConn(fd int) (*net.UnixConn, error) {
	f := os.NewFile(uintptr(fd), "agent-socket")
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("agent socket: %w", err)
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, errors.New("agent socket: not a Unix socket")
	}
	return uc, nil
}

// sendMessage writes v as one message, with fds.
func sendMessage(c *net.UnixConn, v any, fds ...int) (int, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return 0, err
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	n, _, err := c.WriteMsgUnix(b, oob, nil)
	return n, err
}

// recvMessage reads one message into v and returns the descriptors it
// carried (close-on-exec: Go receives them with MSG_CMSG_CLOEXEC). An
// empty message is the peer's end: io.EOF.
func recvMessage(c *net.UnixConn, v any) ([]int, error) {
	buf := make([]byte, maxAgentMessage)
	oob := make([]byte, unix.CmsgSpace(4*4))
	n, oobn, flags, _, err := c.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, err
	}
	var fds []int
	if oobn > 0 {
		msgs, perr := unix.ParseSocketControlMessage(oob[:oobn])
		if perr == nil {
			for _, m := range msgs {
				if got, err := unix.ParseUnixRights(&m); err == nil {
					fds = append(fds, got...)
				}
			}
		}
	}
	if n == 0 && len(fds) == 0 {
		return nil, io.EOF
	}
	if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
		closeFDs(fds)
		return nil, errors.New("agent message truncated")
	}
	if err := json.Unmarshal(buf[:n], v); err != nil {
		closeFDs(fds)
		return nil, fmt.Errorf("agent message: %w", err)
	}
	return fds, nil
}

func closeFDs(fds []int) {
	for _, fd := range fds {
		_ = unix.Close(fd)
	}
}

// agentConn is the runtime's end of a running instance's agent socket.
type agentConn struct {
	c  *net.UnixConn
	ns string // the instance's network namespace
	// resolver is the instance's DNS server (its VPC's, base+2): names
	// are looked up as the instance would.
	resolver netip.Addr
}

func (a *agentConn) close() { a.c.Close() }

// Serves reports whether the instance runs here with its init serving
// processes (what Exec and Dial need).
func (r *Runtime) Serves(t agentport.Target) bool {
	_, ok := r.agents.Load(instKey{t.Account, t.Region, t.InstanceID})
	return ok
}

// Dial connects from inside a running instance's network namespace
// (agentport.Dialer).
func (r *Runtime) Dial(ctx context.Context, t agentport.Target, network, address string) (net.Conn, error) {
	v, ok := r.agents.Load(instKey{t.Account, t.Region, t.InstanceID})
	if !ok {
		return nil, fmt.Errorf("%w: %s", agentport.ErrNotRunning, t.InstanceID)
	}
	a := v.(*agentConn)
	timeout := 10 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	// A name is the instance's to resolve, with its VPC's resolver (an
	// RDS endpoint, an EC2 private name), not the host's; localhost is the
	// instance's own loopback, 127.0.0.1 (never looked up: see DialIn).
	if strings.EqualFold(host, "localhost") {
		address = net.JoinHostPort("127.0.0.1", port)
	} else if _, err := netip.ParseAddr(host); err != nil && a.resolver.IsValid() {
		r := &net.Resolver{PreferGo: true, Dial: func(_ context.Context, network, _ string) (net.Conn, error) {
			return workload.DialIn(a.ns, network, netip.AddrPortFrom(a.resolver, 53).String(), timeout)
		}}
		addrs, err := r.LookupNetIP(ctx, "ip4", host)
		if err != nil || len(addrs) == 0 {
			return nil, fmt.Errorf("resolve %s in %s: %v", host, t.InstanceID, err)
		}
		address = net.JoinHostPort(addrs[0].String(), port)
	}
	c, err := workload.DialIn(a.ns, network, address, timeout)
	if err != nil {
		return nil, fmt.Errorf("dial %s from %s: %w", address, t.InstanceID, err)
	}
	return c, nil
}

// execAnswerTimeout bounds how long Exec waits for the init to start the
// process and answer.
const execAnswerTimeout = 30 * time.Second

// Exec runs a process in a running instance (agentport.Executor): its
// init forks it, inside the instance.
func (r *Runtime) Exec(ctx context.Context, t agentport.Target, spec agentport.Spec) (agentport.Process, error) {
	if len(spec.Argv) == 0 {
		return nil, errors.New("exec: empty command")
	}
	v, ok := r.agents.Load(instKey{t.Account, t.Region, t.InstanceID})
	if !ok {
		return nil, fmt.Errorf("%w: %s", agentport.ErrNotRunning, t.InstanceID)
	}
	agent := v.(*agentConn)
	mine, theirs, err := agentSocketPair()
	if err != nil {
		return nil, err
	}
	conn, err := fdConn(int(mine.Fd()))
	mine.Close()
	if err != nil {
		theirs.Close()
		return nil, err
	}
	req := execRequest{Argv: spec.Argv, Env: spec.Env, Dir: spec.Dir, User: spec.User, TTY: spec.TTY}
	_, err = sendMessage(agent.c, req, int(theirs.Fd()))
	theirs.Close()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("%w: %s: %v", agentport.ErrNotRunning, t.InstanceID, err)
	}
	// The answer, or ctx's end, or execAnswerTimeout: the guest can hold
	// its init up (a FIFO for /etc/passwd), and a caller whose ctx lives as
	// long as the process (a session's shell) must not wait for ever.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	late := time.AfterFunc(execAnswerTimeout, func() { conn.Close() })
	var m execMessage
	fds, err := recvMessage(conn, &m)
	inTime := late.Stop()
	if !stop() || !inTime || err != nil {
		closeFDs(fds)
		conn.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !inTime {
			return nil, fmt.Errorf("exec in %s: the agent did not answer within %s", t.InstanceID, execAnswerTimeout)
		}
		return nil, fmt.Errorf("%w: %s: the agent did not answer: %v", agentport.ErrNotRunning, t.InstanceID, err)
	}
	if m.Error != "" {
		closeFDs(fds)
		conn.Close()
		if m.NoUser {
			return nil, fmt.Errorf("%w: %s", agentport.ErrNoUser, spec.User)
		}
		return nil, fmt.Errorf("exec in %s: %s", t.InstanceID, m.Error)
	}
	want := 3
	if spec.TTY != nil {
		want = 1
	}
	if len(fds) != want {
		closeFDs(fds)
		conn.Close()
		return nil, fmt.Errorf("exec in %s: the agent sent %d streams, want %d", t.InstanceID, len(fds), want)
	}
	p := &guestProcess{conn: conn, done: make(chan struct{})}
	for _, fd := range fds {
		// Non-blocking, so that Go's poller serves them and Close ends a
		// blocked Read.
		_ = unix.SetNonblock(fd, true)
	}
	if spec.TTY != nil {
		p.tty = os.NewFile(uintptr(fds[0]), "pty")
	} else {
		p.stdin = os.NewFile(uintptr(fds[0]), "stdin")
		p.stdout = os.NewFile(uintptr(fds[1]), "stdout")
		p.stderr = os.NewFile(uintptr(fds[2]), "stderr")
	}
	go p.follow()
	go func() {
		select {
		case <-ctx.Done():
			_ = p.Close()
		case <-p.done:
		}
	}()
	return p, nil
}

// guestProcess is a process of an instance, seen from the runtime.
type guestProcess struct {
	conn                  *net.UnixConn
	tty                   *os.File // the terminal's master
	stdin, stdout, stderr *os.File

	done chan struct{} // closed with code and err set
	code int
	err  error

	sendMu    sync.Mutex
	closeOnce sync.Once
}

// follow waits for the init's exit message (or the socket's end).
func (p *guestProcess) follow() {
	defer close(p.done)
	for {
		var m execMessage
		fds, err := recvMessage(p.conn, &m)
		closeFDs(fds)
		if err != nil {
			p.code, p.err = -1, fmt.Errorf("exec: lost the process (the instance stopped?): %w", err)
			return
		}
		if m.Exit != nil {
			p.code = *m.Exit
			return
		}
	}
}

func (p *guestProcess) Stdin() io.WriteCloser {
	if p.tty != nil {
		return ttyWriter{p.tty}
	}
	return p.stdin
}

func (p *guestProcess) Stdout() io.Reader {
	if p.tty != nil {
		return agentport.TerminalReader(p.tty)
	}
	return p.stdout
}

func (p *guestProcess) Stderr() io.Reader {
	if p.tty != nil {
		return nil
	}
	return p.stderr
}

func (p *guestProcess) Resize(ws agentport.WindowSize) error {
	if p.tty == nil {
		return errors.New("exec: the process has no terminal")
	}
	rc, err := p.tty.SyscallConn()
	if err != nil {
		return err
	}
	var ierr error
	if err := rc.Control(func(fd uintptr) {
		ierr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: ws.Rows, Col: ws.Cols})
	}); err != nil {
		return err
	}
	return ierr
}

func (p *guestProcess) Signal(sig syscall.Signal) error {
	select {
	case <-p.done:
		return errors.New("exec: the process has exited")
	default:
	}
	p.sendMu.Lock()
	defer p.sendMu.Unlock()
	_, err := sendMessage(p.conn, execMessage{Signal: int(sig)})
	return err
}

func (p *guestProcess) Wait() (int, error) {
	<-p.done
	return p.code, p.err
}

// Close gives the process up: closing its socket makes the init kill its
// process group unless it has exited.
func (p *guestProcess) Close() error {
	p.closeOnce.Do(func() {
		p.conn.Close()
		closeAll([]*os.File{p.tty, p.stdin, p.stdout, p.stderr})
	})
	return nil
}

// ttyWriter writes to a terminal's master; closing it is the process's
// Close, not the terminal's.
type ttyWriter struct{ f *os.File }

func (w ttyWriter) Write(b []byte) (int, error) { return w.f.Write(b) }
func (w ttyWriter) Close() error                { return nil }
