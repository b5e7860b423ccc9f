package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/minicloud/minicloud/internal/mountinfo"
	"github.com/minicloud/minicloud/internal/state"
)

// TestCleanupRefusesLiveServer: while a store is open on the state
// directory (what a serving minicloud holds), cleanup exits 1 naming the
// process and removes nothing; the leftover mount it would remove stays.
func TestCleanupRefusesLiveServer(t *testing.T) {
	dir := t.TempDir()
	st, err := state.OpenBolt(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"cleanup", "--state-dir", dir}, &stdout, &stderr); code != 1 {
		t.Fatalf("cleanup beside a live store: exit %d, want 1 (stdout %q, stderr %q)", code, stdout.String(), stderr.String())
	}
	if want := fmt.Sprintf("(pid %d) serves the state directory", os.Getpid()); !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr = %q, want it to contain %q", stderr.String(), want)
	}
}

// TestCleanupRemovesEBSMounts (root): the bind mounts a crashed
// minicloud leaves under <state-dir>/instances/<id>/ebs are gone after
// cleanup, the volume's data stays.
func TestCleanupRemovesEBSMounts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (mounts, netlink)")
	}
	dir := t.TempDir()
	t.Cleanup(func() { unmountUnder(t, dir) })
	vol := filepath.Join(dir, "volumes", "vol-1")
	eb := filepath.Join(dir, "instances", "i-1", "ebs")
	for _, d := range []string{vol, filepath.Join(eb, "sdf")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range [][2]string{{eb, eb}, {vol, filepath.Join(eb, "sdf")}} {
		if err := unix.Mount(m[0], m[1], "", unix.MS_BIND, ""); err != nil {
			t.Fatal(err)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"cleanup", "--state-dir", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("cleanup: exit %d, stderr %q", code, stderr.String())
	}
	if left := mountsUnder(t, dir); len(left) > 0 {
		t.Fatalf("mounts left after cleanup: %v", left)
	}
	if _, err := os.Stat(vol); err != nil {
		t.Fatalf("the volume's directory went: %v", err)
	}
}

func mountsUnder(t *testing.T, dir string) []string {
	t.Helper()
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := mountinfo.Read()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		if m.Point == real || strings.HasPrefix(m.Point, real+"/") {
			out = append(out, m.Point)
		}
	}
	return out
}

func unmountUnder(t *testing.T, dir string) {
	for range 4 {
		for _, mp := range mountsUnder(t, dir) {
			_ = unix.Unmount(mp, unix.MNT_DETACH)
		}
	}
}
