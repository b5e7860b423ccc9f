package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/agentport"
	"github.com/minicloud/minicloud/internal/service/ec2"
	"github.com/minicloud/minicloud/internal/termtest"
	"github.com/minicloud/minicloud/internal/vpcnet"
)

// TestExec runs processes in a running instance through the runtime's
// agentport.Executor: as root and as ssm-user (made on first use, with
// its sudoers entry), with pipes and with a terminal (size, resize, ^C to
// the foreground job, exit status), killed when given up — and contained
// as the instance's own processes are.
func TestExec(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := t.TempDir()
	ctl := newFakeCtl()
	rt, n := testRuntime(t, "x", base, Config{StopGrace: 2 * time.Second})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(n.EnsureVPC(ctx, vpcnet.VPC{ID: "vpc-1", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}}))
	must(n.EnsureSubnet(ctx, vpcnet.Subnet{VPCID: "vpc-1", ID: "subnet-1", CIDR: netip.MustParsePrefix("10.0.1.0/24")}))
	const id = "i-0e0e0e0e0e0e0e0e1"
	ctl.set(t, id, func(s *ec2.InstanceSpec) {
		s.State = "pending"
		s.InstanceType, s.VCPUs, s.MemoryMiB = "t3.micro", 1, 256
		s.Hostname = "ip-10-0-1-5.ec2.internal"
		s.UserData = []byte("#!/bin/sh\ntouch /var/tmp/done\n")
		s.NetworkInterfaces = []ec2.InterfaceSpec{{NetworkInterfaceID: "eni-1", MacAddress: "0a:00:00:00:03:01",
			SubnetID: "subnet-1", VpcID: "vpc-1", SubnetCIDR: "10.0.1.0/24", PrivateIPs: []string{"10.0.1.5"}}}
		s.Volumes = []ec2.VolumeSpec{{VolumeID: "vol-1", DeviceName: "/dev/xvda", SizeGiB: 8, Root: true, DeleteOnTermination: true}}
	})
	target := agentport.Target{Account: scope.Account, Region: scope.Region, InstanceID: id}
	if _, err := rt.Exec(ctx, target, agentport.Spec{Argv: []string{"true"}}); !errors.Is(err, agentport.ErrNotRunning) {
		t.Fatalf("Exec before the instance runs: %v, want ErrNotRunning", err)
	}
	must(rt.Start(ctl))
	waitFor(t, 20*time.Second, "running", func() bool { return ctl.state(id) == "running" })
	pid1 := rt.initPID(id)

	// run runs spec with pipes and returns its output and exit status.
	run := func(spec agentport.Spec, stdin string) (string, string, int, error) {
		p, err := rt.Exec(ctx, target, spec)
		if err != nil {
			return "", "", -1, err
		}
		defer p.Close()
		var out, errOut bytes.Buffer
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); _, _ = io.Copy(&out, p.Stdout()) }()
		go func() { defer wg.Done(); _, _ = io.Copy(&errOut, p.Stderr()) }()
		_, _ = io.WriteString(p.Stdin(), stdin)
		p.Stdin().Close()
		code, err := p.Wait()
		wg.Wait()
		return out.String(), errOut.String(), code, err
	}
	hostPIDNS, _ := os.Readlink("/proc/self/ns/pid")
	for _, tc := range []struct {
		name       string
		spec       agentport.Spec
		stdin      string
		want       string // stdout, trimmed
		wantErrOut string
		code       int
	}{
		{name: "root by default", spec: agentport.Spec{Argv: []string{"id", "-un"}}, want: "root"},
		{name: "ssm-user made on first use", spec: agentport.Spec{Argv: []string{"id"}, User: agentport.SSMUser},
			want: "uid=1000(ssm-user) gid=1000(ssm-user) groups=1000(ssm-user)"},
		{name: "its sudoers entry", spec: agentport.Spec{Argv: []string{"cat", ssmSudoers}},
			want: "# User rules for ssm-user\nssm-user ALL=(ALL) NOPASSWD:ALL"},
		{name: "its sudo", spec: agentport.Spec{Argv: []string{"sudo", "id"}, User: agentport.SSMUser},
			want: "uid=0(root) gid=0(root) groups=0(root)"},
		{name: "its home and environment", spec: agentport.Spec{Argv: []string{"sh", "-c", `echo "$PWD $HOME $USER $FOO"`},
			User: agentport.SSMUser, Env: []string{"FOO=bar"}}, want: "/home/ssm-user /home/ssm-user ssm-user bar"},
		{name: "a guest's user", spec: agentport.Spec{Argv: []string{"useradd", "-m", "-G", "adm,users", "alice"}}},
		{name: "with its supplementary groups", spec: agentport.Spec{Argv: []string{"id", "-Gn"}, User: "alice"}, want: "alice adm users"},
		{name: "working directory", spec: agentport.Spec{Argv: []string{"pwd"}, Dir: "/var/tmp"}, want: "/var/tmp"},
		{name: "the instance's hostname", spec: agentport.Spec{Argv: []string{"hostname"}}, want: "ip-10-0-1-5"},
		{name: "the guest's root", spec: agentport.Spec{Argv: []string{"cat", "/etc/hostname", "/var/tmp/done"}}, want: "ip-10-0-1-5"},
		{name: "PID 1 is the instance's init", spec: agentport.Spec{Argv: []string{"sh", "-c", `tr '\0' '\n' </proc/1/cmdline | tail -n +2`}}, want: initArg + "\n" + id},
		{name: "its own PID namespace", spec: agentport.Spec{Argv: []string{"sh", "-c", `[ "$(readlink /proc/self/ns/pid)" != "` + hostPIDNS + `" ] && echo own`}}, want: "own"},
		{name: "no cgroup filesystem", spec: agentport.Spec{Argv: []string{"sh", "-c", `grep -cv ':/$' /proc/self/cgroup; ls /sys/fs/cgroup 2>&1 | head -1`}}, want: "0\nls: cannot access '/sys/fs/cgroup': No such file or directory"},
		{name: "nothing but its streams (3: ls's own listing)", spec: agentport.Spec{Argv: []string{"ls", "/proc/self/fd"}}, want: "0\n1\n2\n3"},
		{name: "stdin", spec: agentport.Spec{Argv: []string{"cat"}}, stdin: "hello\n", want: "hello"},
		{name: "stderr", spec: agentport.Spec{Argv: []string{"sh", "-c", "echo oops >&2"}}, wantErrOut: "oops"},
		{name: "exit status", spec: agentport.Spec{Argv: []string{"sh", "-c", "exit 7"}}, code: 7},
		{name: "killed by a signal", spec: agentport.Spec{Argv: []string{"sh", "-c", "kill -9 $$"}}, code: 137},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code, err := run(tc.spec, tc.stdin)
			if err != nil {
				t.Fatal(err)
			}
			if strings.TrimSpace(out) != tc.want || strings.TrimSpace(errOut) != tc.wantErrOut || code != tc.code {
				t.Errorf("got stdout %q stderr %q exit %d; want %q, %q, %d", out, errOut, code, tc.want, tc.wantErrOut, tc.code)
			}
		})
	}
	if _, _, _, err := run(agentport.Spec{Argv: []string{"id"}, User: "no-such-user"}, ""); !errors.Is(err, agentport.ErrNoUser) {
		t.Errorf("an unknown user: %v, want ErrNoUser", err)
	}
	if _, _, _, err := run(agentport.Spec{Argv: []string{"no-such-command"}}, ""); err == nil {
		t.Error("an unknown command started")
	}

	t.Run("in the instance's cgroups, killed when given up", func(t *testing.T) {
		pctx, pcancel := context.WithCancel(ctx)
		p, err := rt.Exec(pctx, target, agentport.Spec{Argv: []string{"sleep", "1234"}, User: agentport.SSMUser})
		must(err)
		defer p.Close()
		var host int
		waitFor(t, 5*time.Second, "the process in the instance's cgroup", func() bool {
			host = findInCgroups(rt, id, "sleep\x001234\x00")
			return host != 0
		})
		initNS, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid1))
		if ns, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", host)); ns != initNS {
			t.Errorf("the process's PID namespace is %s, the instance's %s", ns, initNS)
		}
		if ppid := parentOf(host); ppid != pid1 {
			t.Errorf("the process's parent is %d, not the instance's init %d", ppid, pid1)
		}
		pcancel()
		done := make(chan struct{})
		go func() { _, _ = p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("the process outlived its context")
		}
		waitFor(t, 3*time.Second, "the process gone", func() bool { return syscall.Kill(host, 0) != nil })
	})

	t.Run("dial from inside", func(t *testing.T) {
		srv, err := rt.Exec(ctx, target, agentport.Spec{Argv: []string{"python3", "-m", "http.server", "7777", "--bind", "127.0.0.1"}, Dir: "/etc"})
		must(err)
		defer srv.Close()
		var c net.Conn
		waitFor(t, 10*time.Second, "the instance's own loopback server", func() bool {
			c, err = rt.Dial(ctx, target, "tcp", "localhost:7777")
			return err == nil
		})
		defer c.Close()
		_, _ = io.WriteString(c, "GET /hostname HTTP/1.0\r\n\r\n")
		b, _ := io.ReadAll(c)
		if !strings.Contains(string(b), "200 OK") || !strings.Contains(string(b), "ip-10-0-1-5") {
			t.Errorf("GET /hostname from the instance's loopback: %q", b)
		}
		if _, err := rt.Dial(ctx, agentport.Target{Account: scope.Account, Region: scope.Region, InstanceID: "i-00000000000000000"}, "tcp", "localhost:7777"); !errors.Is(err, agentport.ErrNotRunning) {
			t.Errorf("Dial from no instance: %v", err)
		}
	})

	t.Run("terminal", func(t *testing.T) {
		p, err := rt.Exec(ctx, target, agentport.Spec{Argv: []string{"/bin/sh"}, User: agentport.SSMUser,
			Env: []string{"TERM=xterm", "PS1=$ "}, TTY: &agentport.WindowSize{Rows: 24, Cols: 80}})
		must(err)
		defer p.Close()
		if p.Stderr() != nil {
			t.Error("a terminal process has a stderr pipe")
		}
		term := termtest.Read(p.Stdout())
		send := func(s string) {
			t.Helper()
			if _, err := io.WriteString(p.Stdin(), s); err != nil {
				t.Fatal(err)
			}
		}
		send("tty\n")
		term.Expect(t, "/dev/pts/")
		termtest.Shell(t, p.Stdin(), term, 24, 80, func(rows, cols uint16) error {
			return p.Resize(agentport.WindowSize{Rows: rows, Cols: cols})
		})
		send("exit 3\n")
		code, err := p.Wait()
		if err != nil || code != 3 {
			t.Errorf("exit: %d %v, want 3", code, err)
		}
	})

	// Stopping the instance ends its processes as the others: SIGTERM
	// (or the instance's end, an error).
	p, err := rt.Exec(ctx, target, agentport.Spec{Argv: []string{"sleep", "1000"}})
	must(err)
	defer p.Close()
	ctl.set(t, id, func(s *ec2.InstanceSpec) { s.State = "stopping" })
	if code, err := p.Wait(); err == nil && code != 128+int(syscall.SIGTERM) {
		t.Errorf("Wait of a process of a stopping instance: %d, want 143 or an error", code)
	}
	waitFor(t, 15*time.Second, "stopped", func() bool { return ctl.state(id) == "stopped" })
	if _, err := rt.Exec(ctx, target, agentport.Spec{Argv: []string{"true"}}); !errors.Is(err, agentport.ErrNotRunning) {
		t.Errorf("Exec in a stopped instance: %v, want ErrNotRunning", err)
	}
}

// findInCgroups is the host PID of the instance's process with that
// command line, 0 if its cgroups have none.
func findInCgroups(rt *Runtime, id, cmdline string) int {
	for _, d := range rt.wl.CgroupDirs(id) {
		b, _ := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		for _, f := range strings.Fields(string(b)) {
			pid, _ := strconv.Atoi(f)
			if c, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); string(c) == cmdline {
				return pid
			}
		}
	}
	return 0
}

// parentOf is a process's parent PID (host view).
func parentOf(pid int) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		if f := strings.Fields(s[i+1:]); len(f) > 1 {
			ppid, _ := strconv.Atoi(f[1])
			return ppid
		}
	}
	return 0
}
