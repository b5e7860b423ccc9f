package ssmsession

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/minicloud/minicloud/internal/agentport"
	"github.com/minicloud/minicloud/internal/termtest"
)

// hostAgent plays agentport.Agent for these tests on the host itself: the
// protocol is under test here, not the instance (the instance runtime's
// TestExec and the data-plane tests cover that).
type hostAgent struct {
	mu    sync.Mutex
	execs []agentport.Spec
}

func (a *hostAgent) Exec(ctx context.Context, _ agentport.Target, spec agentport.Spec) (agentport.Process, error) {
	a.mu.Lock()
	a.execs = append(a.execs, spec)
	a.mu.Unlock()
	if spec.TTY == nil {
		return nil, errors.New("hostAgent: terminals only")
	}
	cmd := exec.Command(spec.Argv[0], spec.Argv[1:]...)
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "HOME=/tmp", "PS1=$ "}, spec.Env...)
	cmd.Dir = os.TempDir()
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: spec.TTY.Rows, Cols: spec.TTY.Cols})
	if err != nil {
		return nil, err
	}
	p := &hostProcess{cmd: cmd, tty: f, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		p.code = cmd.ProcessState.ExitCode()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			p.code = 128 + int(ws.Signal())
		}
		_ = err
		close(p.done)
	}()
	context.AfterFunc(ctx, func() { _ = p.Close() })
	return p, nil
}

func (a *hostAgent) Dial(ctx context.Context, _ agentport.Target, network, address string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, address)
}

type hostProcess struct {
	cmd  *exec.Cmd
	tty  *os.File
	done chan struct{}
	code int
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

func (p *hostProcess) Stdin() io.WriteCloser { return nopCloser{p.tty} }
func (p *hostProcess) Stdout() io.Reader     { return agentport.TerminalReader(p.tty) }
func (p *hostProcess) Stderr() io.Reader     { return nil }
func (p *hostProcess) Resize(ws agentport.WindowSize) error {
	return pty.Setsize(p.tty, &pty.Winsize{Rows: ws.Rows, Cols: ws.Cols})
}
func (p *hostProcess) Signal(sig syscall.Signal) error { return p.cmd.Process.Signal(sig) }
func (p *hostProcess) Wait() (int, error)              { <-p.done; return p.code, nil }
func (p *hostProcess) Close() error {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Kill()
	}
	return p.tty.Close()
}

// pluginPath is the session-manager-plugin the tests drive.
func pluginPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("session-manager-plugin")
	if err != nil {
		t.Fatalf("these tests drive the real session-manager-plugin: build and install it with scripts/session-manager-plugin.sh (%v)", err)
	}
	return p
}

// startPlugin runs the plugin on a terminal of its own as the AWS CLI
// does: StartSession's response, the region, the operation, the profile,
// the request and the endpoint as its arguments.
func startPlugin(t *testing.T, srv *httptest.Server, sessionID, token string, size pty.Winsize) (*os.File, *exec.Cmd) {
	t.Helper()
	resp, _ := json.Marshal(map[string]string{"SessionId": sessionID, "TokenValue": token,
		"StreamUrl": "ws" + strings.TrimPrefix(srv.URL, "http") + PathPrefix + sessionID + "?role=publish_subscribe&cell-number=AAEAAQ"})
	cmd := exec.Command(pluginPath(t), string(resp), "us-east-1", "StartSession", "", `{"Target": "i-0123456789abcdef0"}`, srv.URL)
	home := t.TempDir()
	// Credentials as the CLI would have them: the plugin signs the
	// websocket's request with them.
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + home, "TERM=xterm", "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
		"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS_EC2_METADATA_DISABLED=true"}
	return termtest.Start(t, cmd, size.Rows, size.Cols), cmd
}

// TestPluginShell drives the real plugin through a terminal: the handshake,
// a shell with the plugin's terminal size and its resize, input, ^C to the
// foreground job, a multi-line command, and exit with its status.
func TestPluginShell(t *testing.T) {
	agent := &hostAgent{}
	m := NewManager(Config{Agent: agent})
	defer m.Close()
	srv := httptest.NewServer(m)
	defer srv.Close()
	ended := make(chan Result, 1)
	must(t, m.Start(Spec{ID: "alice-0a1b2c3d4e5f6a7b8", Token: "token-1", Target: agentport.Target{InstanceID: "i-0123456789abcdef0"},
		Type: SessionShell, User: agentport.SSMUser, Shell: []string{"/bin/sh"}, ShellProfile: "export GREETING=hello-from-profile",
		OnEnd: func(r Result) { ended <- r }}))

	f, cmd := startPlugin(t, srv, "alice-0a1b2c3d4e5f6a7b8", "token-1", pty.Winsize{Rows: 30, Cols: 100})
	term := termtest.Read(f)
	term.Expect(t, "Starting session with SessionId: alice-0a1b2c3d4e5f6a7b8")
	send := func(s string) {
		t.Helper()
		if _, err := io.WriteString(f, s); err != nil {
			t.Fatal(err)
		}
	}
	send("echo $GREETING\r")
	term.Expect(t, "hello-from-profile")
	termtest.Shell(t, f, term, 30, 100, termtest.Resize(f))
	send("exit 3\r")
	term.Expect(t, "Exiting session with sessionId: alice-0a1b2c3d4e5f6a7b8")
	select {
	case r := <-ended:
		if r.ExitCode == nil || *r.ExitCode != 3 || r.Reason != "exited" {
			t.Errorf("the session ended with %+v, want exit status 3", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the session did not end")
	}
	termtest.WaitExit(t, cmd, 10*time.Second)
	agent.mu.Lock()
	defer agent.mu.Unlock()
	if len(agent.execs) != 1 || agent.execs[0].User != agentport.SSMUser || agent.execs[0].TTY == nil {
		t.Errorf("the agent ran %+v, want one shell as ssm-user on a terminal", agent.execs)
	}
}

// TestPluginTerminate: TerminateSession ends the plugin with channel_closed;
// a wrong token gets no channel.
func TestPluginTerminate(t *testing.T) {
	m := NewManager(Config{Agent: &hostAgent{}})
	defer m.Close()
	srv := httptest.NewServer(m)
	defer srv.Close()
	must(t, m.Start(Spec{ID: "s-1", Token: "right", Type: SessionShell, Shell: []string{"/bin/sh"}}))

	f, cmd := startPlugin(t, srv, "s-1", "wrong", pty.Winsize{Rows: 24, Cols: 80})
	term := termtest.Read(f)
	term.Expect(t, "Starting session with SessionId: s-1")
	time.Sleep(500 * time.Millisecond)
	if strings.Contains(term.All(), "$ ") {
		t.Fatalf("a wrong token got a shell:\n%s", term.All())
	}
	_ = cmd.Process.Kill()

	f, cmd = startPlugin(t, srv, "s-1", "right", pty.Winsize{Rows: 24, Cols: 80})
	term = termtest.Read(f)
	_, _ = io.WriteString(f, "echo ready-$((1+1))\r")
	term.Expect(t, "ready-2")
	if !m.Terminate("s-1") {
		t.Fatal("Terminate: no such session")
	}
	term.Expect(t, "Exiting session with sessionId: s-1")
	termtest.WaitExit(t, cmd, 10*time.Second)
	if m.Terminate("s-1") {
		t.Error("the terminated session is still there")
	}
}

// TestPluginPortForwarding forwards the plugin's local port to a TCP server
// the agent connects to, twice (a client going and the next coming).
func TestPluginPortForwarding(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { // greets first, then echoes upper-cased
				defer c.Close()
				_, _ = io.WriteString(c, "HELLO\n")
				b := make([]byte, 1024)
				for {
					n, err := c.Read(b)
					if err != nil {
						return
					}
					_, _ = c.Write(bytes.ToUpper(b[:n]))
				}
			}()
		}
	}()
	m := NewManager(Config{Agent: &hostAgent{}})
	defer m.Close()
	srv := httptest.NewServer(m)
	defer srv.Close()
	local := freePort(t)
	must(t, m.Start(Spec{ID: "pf-1", Token: "tok", Type: SessionPort, Address: ln.Addr().String(),
		Properties: map[string]string{"portNumber": "5432", "type": "LocalPortForwarding", "localPortNumber": local}}))
	f, _ := startPlugin(t, srv, "pf-1", "tok", pty.Winsize{Rows: 24, Cols: 80})
	term := termtest.Read(f)
	term.Expect(t, "Port "+local+" opened for sessionId pf-1")
	for i := range 2 {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+local, 5*time.Second)
		must(t, err)
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		got := make([]byte, 6)
		if _, err := io.ReadFull(c, got); err != nil || string(got) != "HELLO\n" {
			t.Fatalf("connection %d: greeting %q, %v", i, got, err)
		}
		_, _ = io.WriteString(c, "ping")
		got = make([]byte, 4)
		if _, err := io.ReadFull(c, got); err != nil || string(got) != "PING" {
			t.Fatalf("connection %d: echo %q, %v", i, got, err)
		}
		c.Close()
		time.Sleep(300 * time.Millisecond)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestPluginResume: the plugin's websocket drops; the plugin calls
// ResumeSession (answered here as the ssm service would, with a new token
// set through SetToken), connects again, and the session goes on where it
// was: the same shell, nothing lost or repeated.
func TestPluginResume(t *testing.T) {
	m := NewManager(Config{Agent: &hostAgent{}})
	defer m.Close()
	var resumes atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, PathPrefix) {
			m.ServeHTTP(w, r)
			return
		}
		if r.Header.Get("X-Amz-Target") != "AmazonSSM.ResumeSession" {
			http.Error(w, "unexpected "+r.Header.Get("X-Amz-Target"), http.StatusBadRequest)
			return
		}
		var in struct{ SessionId string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		token := fmt.Sprintf("token-%d", resumes.Add(1)+1)
		if !m.SetToken(in.SessionId, token) {
			http.Error(w, `{"__type":"DoesNotExistException"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(map[string]string{"SessionId": in.SessionId, "TokenValue": token,
			"StreamUrl": "ws" + strings.TrimPrefix(srv.URL, "http") + PathPrefix + in.SessionId + "?role=publish_subscribe"})
	}))
	defer srv.Close()
	must(t, m.Start(Spec{ID: "r-1", Token: "token-1", Type: SessionShell, Shell: []string{"/bin/sh"}}))
	f, cmd := startPlugin(t, srv, "r-1", "token-1", pty.Winsize{Rows: 24, Cols: 80})
	term := termtest.Read(f)
	send := func(s string) {
		t.Helper()
		if _, err := io.WriteString(f, s); err != nil {
			t.Fatal(err)
		}
	}
	send("X=before-$((1+1)); echo $X\r")
	term.Expect(t, "before-2")

	s := m.get("r-1")
	s.mu.Lock()
	ws := s.conn
	s.mu.Unlock()
	_ = ws.CloseNow() // the network drops
	// The plugin gives up a session whose keystrokes cannot be sent (as
	// with AWS): type once it is back.
	deadline := time.Now().Add(20 * time.Second)
	for {
		s.mu.Lock()
		back := s.conn != nil && s.conn != ws
		s.mu.Unlock()
		if back {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the plugin did not come back:\n%s", term.All())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if resumes.Load() == 0 {
		t.Error("the plugin came back without ResumeSession")
	}
	send("echo after-$X\r")
	term.Expect(t, "after-before-2")
	send("exit\r")
	term.Expect(t, "Exiting session with sessionId: r-1")
	termtest.WaitExit(t, cmd, 10*time.Second)
}
