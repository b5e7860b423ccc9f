package dataplane_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/minicloud/minicloud/internal/server"
)

// escapeUserData tries, as root inside the instance, every way out the
// isolation issue lists, and writes one line per attempt: "name: refused:
// <error>" or "name: ESCAPED <output>". Then it does what an instance's
// root must still do — install a file, bind port 80 — and serves the
// results there.
const escapeUserData = `#!/bin/sh
mkdir -p /var/tmp/www
out=/var/tmp/www/escape.txt
try() {
  name=$1; shift
  if res=$("$@" 2>&1); then echo "$name: ESCAPED $res" | tr '\n' ' ' >> $out; else echo "$name: refused: $res" | tr '\n' ' ' >> $out; fi
  echo >> $out
}
sys() { python3 -c "import ctypes, os, sys; r = ctypes.CDLL(None, use_errno=True).syscall(*[int(a, 0) for a in sys.argv[1:]]); e = ctypes.get_errno(); print(os.strerror(e) if r < 0 else r); sys.exit(1 if r < 0 else 0)" "$@"; }
mkdir -p /tmp/cg /tmp/cg2 /tmp/p
try release_agent sh -c 'mount -t cgroup -o memory cg /tmp/cg && echo /tmp/x > /tmp/cg/release_agent'
try cgroup2 mount -t cgroup2 none /tmp/cg2
try core_pattern sh -c "echo '|/tmp/x' > /proc/sys/kernel/core_pattern"
try sysrq sh -c 'echo b > /proc/sysrq-trigger'
try proc mount -t proc proc /tmp/p
try host_root_file cat ROOT_MARKER
try state_dir ls STATE_DIR
try shadow_hash sh -c "cut -d: -f2 /etc/shadow | grep -v '^[*!]'"
try other_process sh -c 'ps -eo args | grep other-instance-marker | grep -v grep'
try other_file sh -c 'find / -xdev -name other-instance-file 2>/dev/null | grep .'
try memory_limit sh -c 'echo max > /sys/fs/cgroup/memory.max'
try sg_rules nft flush ruleset
try net_admin ip link set lo mtu 1280
try module sys 175 0 0 0
try time date -s 2001-01-01
try reboot sys 169 0xfee1dead 672274793 0x1234567
try user_namespace unshare -U true
id -u > /var/tmp/www/uid
mkdir -p /usr/local/share/app && echo installed > /usr/local/share/app/installed && cp /usr/local/share/app/installed /var/tmp/www/installed
cd /var/tmp/www && nohup python3 -m http.server 80 >/dev/null 2>&1 &
`

// TestInstanceCannotEscape: the instance boots, runs its user data as root
// inside, installs files, binds port 80 and answers — and every way out of
// it fails, with the error the kernel gives: the host's cgroups, proc and
// sysctls, its files (a file under /root, the state directory), another
// instance's files and processes, its own limits and security groups,
// kernel modules, the clock, a reboot, a new user namespace. On the host,
// the instance's processes run as no one: not root.
func TestInstanceCannotEscape(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("the data-plane tests need root; CI runs them as root")
	}
	stateDir := t.TempDir()
	srv, err := server.New(server.Config{StateDir: stateDir, DataPlane: server.DataPlaneOn, PublicCIDR: sharedPublicCIDR})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
		cleanupStateDir(ctx, t, stateDir, sharedPublicCIDR)
	})
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), BaseEndpoint: aws.String(hs.URL)}
	e := &env{t: t, ctx: context.Background(), ec2: ec2.NewFromConfig(cfg), srv: srv}

	b := make([]byte, 6)
	_, _ = rand.Read(b)
	rootMarker := "/root/.minicloud-escape-" + hex.EncodeToString(b)
	if err := os.WriteFile(rootMarker, []byte("host secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(rootMarker) })
	if err := os.WriteFile(filepath.Join(stateDir, "marker"), []byte("state\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	v := e.defaultVPC()
	sg := e.newSG(v.id, "web", tcpFrom(80, "0.0.0.0/0"))
	other := `#!/bin/sh
echo x > /var/tmp/other-instance-file
nohup python3 -c "import time; time.sleep(600)" other-instance-marker >/dev/null 2>&1 &
`
	ud := strings.NewReplacer("ROOT_MARKER", rootMarker, "STATE_DIR", stateDir).Replace(escapeUserData)
	insts := e.runAll(e.image(), launch{subnet: v.subnets[0], groups: []string{sg}, userData: other},
		launch{subnet: v.subnets[0], groups: []string{sg}, userData: ud})
	pub := aws.ToString(insts[1].PublicIpAddress)
	var report string
	if err := eventually(30*time.Second, func() error {
		var err error
		report, err = fetch("http://" + pub + "/escape.txt")
		if err == nil && !strings.Contains(report, "user_namespace:") {
			err = fmt.Errorf("the report is not complete yet: %q", report)
		}
		return err
	}); err != nil {
		t.Fatalf("the instance's results: %v (console:\n%s)", err, e.console(aws.ToString(insts[1].InstanceId)))
	}
	lines := map[string]string{}
	for _, l := range strings.Split(report, "\n") {
		if name, rest, ok := strings.Cut(l, ": "); ok {
			lines[name] = rest
		}
	}
	for _, tc := range []struct{ name, err string }{
		// Read-only where the kernel has the file (some kernels have no
		// sysrq-trigger at all: then it is not there to write).
		{"release_agent", "ermission denied"}, // mount: permission denied (no CAP_SYS_ADMIN)
		{"cgroup2", "ermission denied"},
		{"core_pattern", "Read-only file system"},
		{"sysrq", sysrqRefusal()},
		{"proc", "ermission denied"},
		{"host_root_file", "No such file or directory"},
		{"state_dir", "No such file or directory"},
		{"shadow_hash", "refused: "}, // no password hash: grep finds nothing
		{"other_process", "refused: "},
		{"other_file", "refused: "},
		{"memory_limit", "nonexistent"}, // no cgroup filesystem to find it in
		{"sg_rules", "Operation not permitted"},
		{"net_admin", "Operation not permitted"},
		{"module", "Operation not permitted"},
		{"time", "Operation not permitted"},
		{"reboot", "Operation not permitted"},
		{"user_namespace", "Operation not permitted"},
	} {
		got, ok := lines[tc.name]
		if !ok || !strings.HasPrefix(got, "refused: ") || !strings.Contains(got, tc.err) {
			t.Errorf("%s: %q, want refused with %q", tc.name, got, tc.err)
		}
	}
	for path, want := range map[string]string{"/uid": "0", "/installed": "installed"} {
		if got, err := fetch("http://" + pub + path); err != nil || got != want {
			t.Errorf("%s inside the instance: %q (%v), want %q", path, got, err, want)
		}
	}
	// On the host, the guest's root is no one.
	for _, in := range insts {
		pid := initPID(t, aws.ToString(in.InstanceId))
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(status), "\n") {
			if f := strings.Fields(l); len(f) > 1 && f[0] == "Uid:" {
				if uid, _ := strconv.Atoi(f[1]); uid < 1<<30 {
					t.Errorf("instance %s's init runs as host UID %d, want one of a range from 2^30", aws.ToString(in.InstanceId), uid)
				}
			}
		}
	}
}

// sysrqRefusal is the error writing /proc/sysrq-trigger meets in an
// instance on this kernel.
func sysrqRefusal() string {
	if _, err := os.Stat("/proc/sysrq-trigger"); err != nil {
		return "nonexistent"
	}
	return "Read-only file system"
}

// initPID finds the host PID of an instance's init.
func initPID(t *testing.T, instanceID string) int {
	t.Helper()
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		args := bytes.Split(cmd, []byte{0})
		if len(args) >= 3 && string(args[1]) == "__minicloud-instance-init" && string(args[2]) == instanceID {
			return pid
		}
	}
	t.Fatalf("no init process for %s", instanceID)
	return 0
}
