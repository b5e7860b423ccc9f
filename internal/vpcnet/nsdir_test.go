package vpcnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Environment of a re-executed test binary: nsRoleEnv selects what it does
// (see TestMain), nsNamesEnv lists the namespace names it works on, and
// privateEnv marks a test running again in its own mount namespace.
const (
	nsRoleEnv  = "MINICLOUD_VPCNET_TEST_ROLE"
	nsNamesEnv = "MINICLOUD_VPCNET_TEST_NAMES"
	privateEnv = "MINICLOUD_VPCNET_TEST_PRIVATE_MOUNTS"
)

// probeLink is the bridge a creator's setup adds inside each namespace,
// so the test can tell the namespace behind a name is the one made for it.
const probeLink = "probe0"

func TestMain(m *testing.M) {
	switch os.Getenv(nsRoleEnv) {
	case "":
		os.Exit(m.Run())
	case "create", "delete":
		os.Exit(nsWorker(os.Getenv(nsRoleEnv), strings.Split(os.Getenv(nsNamesEnv), ",")))
	default:
		fmt.Fprintf(os.Stderr, "unknown %s %q\n", nsRoleEnv, os.Getenv(nsRoleEnv))
		os.Exit(2)
	}
}

// nsWorker is another process creating or deleting namespaces, as a second
// minicloud would. It starts when its stdin closes, so that the test can
// release every worker at once.
func nsWorker(role string, names []string) int {
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, name := range names {
		var err error
		if role == "create" {
			_, err = ensureNamedNS(name, addProbe)
		} else {
			err = deleteNamedNS(name)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s %s: %v\n", role, name, err)
			return 1
		}
	}
	return 0
}

func addProbe() error {
	err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: probeLink}})
	if isExist(err) {
		return nil
	}
	return err
}

// inPrivateMounts runs the calling test again, in a child process with a
// mount namespace of its own (private: nothing it mounts reaches the host)
// and a fresh tmpfs on /run, the state of a machine on which neither
// /run/netns nor NamespaceDir was ever prepared. It reports whether the
// caller is that child and should go on; the parent fails when the child
// does. Namespaces the child leaves mounted die with its mount namespace,
// so a failing child leaves nothing on the host.
func inPrivateMounts(t *testing.T) bool {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("this test needs root (mount and network namespaces); run it as root")
	}
	if os.Getenv(privateEnv) == "1" {
		if err := unix.Mount("minicloud-test-run", "/run", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755,size=16m"); err != nil {
			t.Fatalf("mount a fresh /run: %v", err)
		}
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), privateEnv+"=1")
	// Unshareflags CLONE_NEWNS also makes every mount of the child private.
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("in a private mount namespace: %v\n%s", err, out)
	}
	return false
}

// privateNetwork is inPrivateMounts, then (in the child) a Network with a
// prefix of its own; nil in the parent.
func privateNetwork(t *testing.T) *Network {
	t.Helper()
	if !inPrivateMounts(t) {
		return nil
	}
	n, err := New(Config{Prefix: testPrefix()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// startWorkers starts one process per group of names, all waiting on their
// stdin; release starts them together and wait collects their failures.
func startWorkers(t *testing.T, role string, groups [][]string) (release func(), wait func() []error) {
	t.Helper()
	var cmds []*exec.Cmd
	var gates []io.WriteCloser
	var outs []*strings.Builder
	for _, g := range groups {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), nsRoleEnv+"="+role, nsNamesEnv+"="+strings.Join(g, ","))
		gate, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		out := &strings.Builder{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, gates, outs = append(cmds, cmd), append(gates, gate), append(outs, out)
	}
	release = func() {
		for _, g := range gates {
			g.Close()
		}
	}
	wait = func() []error {
		var errs []error
		for i, cmd := range cmds {
			if err := cmd.Wait(); err != nil {
				errs = append(errs, fmt.Errorf("%s worker %v: %v: %s", role, groups[i], err, outs[i]))
			}
		}
		return errs
	}
	return release, wait
}

func layoutOf(t *testing.T, d *nsDir) nsLayout {
	t.Helper()
	l, err := d.layout()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// assertFlat checks that dir is one shared mount with every entry mount on
// it (nothing hidden) and that exactly want are mounted namespaces there,
// each holding the probe link its creator's setup added.
func assertFlat(t *testing.T, d *nsDir, want []string) {
	t.Helper()
	l := layoutOf(t, d)
	if len(l.covers) != 1 || !l.covers[0].Shared {
		t.Fatalf("%s: want one shared mount of the directory, got %+v", d.path, l.covers)
	}
	var got []string
	for _, m := range l.entries {
		if m.Parent != l.covers[0].ID {
			t.Errorf("%s: mount %d hidden under another mount of the directory", m.Point, m.ID)
		}
		got = append(got, filepath.Base(m.Point))
	}
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("%s: mounted %v, want %v", d.path, got, want)
	}
	for _, name := range want {
		err := withNS(d.file(name), func(h *netlink.Handle, _ netns.NsHandle) error {
			_, err := h.LinkByName(probeLink)
			return err
		})
		if err != nil {
			t.Errorf("namespace %s: no %s inside: %v", name, probeLink, err)
		}
	}
}

// Several processes (and iproute2 alongside, preparing /run/netns its own
// way) create namespaces at once on a machine where nothing was prepared:
// every namespace ends up mounted on the one shared mount of NamespaceDir,
// nothing is hidden, and deleting them all at once leaves no file and no
// mount.
func TestNamespaceDirFirstUseConcurrent(t *testing.T) {
	if !inPrivateMounts(t) {
		return
	}
	const workers, each = 4, 5
	var groups [][]string
	var all []string
	for w := range workers {
		var g []string
		for i := range each {
			g = append(g, fmt.Sprintf("tc-i-w%d-%d", w, i))
		}
		groups = append(groups, g)
		all = append(all, g...)
	}
	ipNames := []string{"iproute2-a", "iproute2-b", "iproute2-c"}

	release, wait := startWorkers(t, "create", groups)
	var wg sync.WaitGroup
	ipErrs := make(chan error, len(ipNames))
	for _, name := range ipNames {
		wg.Go(func() {
			if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
				ipErrs <- fmt.Errorf("ip netns add %s: %v: %s", name, err, out)
			}
		})
	}
	release()
	errs := wait()
	wg.Wait()
	close(ipErrs)
	for err := range ipErrs {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	assertFlat(t, namespaces, all)
	out, _ := exec.Command("ip", "netns", "list").CombinedOutput()
	for _, name := range ipNames {
		if !strings.Contains(string(out), name) {
			t.Errorf("iproute2's namespace %s is gone: %s", name, out)
		}
	}

	release, wait = startWorkers(t, "delete", groups)
	release()
	if err := errors.Join(wait()...); err != nil {
		t.Fatal(err)
	}
	if left, err := Namespaces("tc-"); err != nil || len(left) > 0 {
		t.Errorf("left in %s: %v %v", NamespaceDir, left, err)
	}
	if l := layoutOf(t, namespaces); len(l.entries) > 0 {
		t.Errorf("mounts left in %s: %+v", NamespaceDir, l.entries)
	}
	for _, name := range ipNames {
		if out, err := exec.Command("ip", "netns", "exec", name, "true").CombinedOutput(); err != nil {
			t.Errorf("iproute2's namespace %s unusable after ours went: %v: %s", name, err, out)
		}
	}
}

// Preparing waits for a process that is mounting a namespace in the
// unprepared directory, and then lifts that namespace onto the new mount
// instead of hiding it.
func TestNamespaceDirPrepareWaitsAndKeeps(t *testing.T) {
	if !inPrivateMounts(t) {
		return
	}
	if err := os.MkdirAll(NamespaceDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// This process is mid-creation: it holds the shared lock and mounts a
	// namespace in the directory, which nobody prepared.
	unlock, err := namespaces.lock(unix.LOCK_SH)
	if err != nil {
		t.Fatal(err)
	}
	const early, late = "tw-i-early", "tw-i-late"
	release, wait := startWorkers(t, "create", [][]string{{late}})
	release()
	err = onFreshThread(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return err
		}
		if err := addProbe(); err != nil {
			return err
		}
		f, err := os.OpenFile(namespaces.file(early), os.O_CREATE|os.O_EXCL, 0o444)
		if err != nil {
			return err
		}
		f.Close()
		return unix.Mount(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()), namespaces.file(early), "", unix.MS_BIND, "")
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if l := layoutOf(t, namespaces); len(l.covers) != 0 || len(l.entries) != 1 {
		t.Errorf("the other process prepared or created while a creation was under way: %+v", l)
	}
	unlock()
	if err := errors.Join(wait()...); err != nil {
		t.Fatal(err)
	}
	assertFlat(t, namespaces, []string{early, late})
	for _, name := range []string{early, late} {
		if err := deleteNamedNS(name); err != nil {
			t.Error(err)
		}
	}
	if l := layoutOf(t, namespaces); len(l.entries) > 0 {
		t.Errorf("mounts left: %+v", l.entries)
	}
}

// The state the fresh-machine failure left: namespaces an earlier minicloud
// made in /run/netns, then iproute2's recursive bind of the directory onto
// itself hiding the originals (removing a name says busy), and the same done
// to NamespaceDir. Cleanup removes every namespace of its prefix in both,
// and the namespaces of others stay usable.
func TestCleanupLayered(t *testing.T) {
	n := privateNetwork(t)
	if n == nil {
		return
	}
	ours := []string{n.names.RouterNamespace("vpc-1"), n.names.InstanceNamespace("i-1")}
	for _, name := range ours {
		legacyNamed(t, name)
	}
	if out, err := exec.Command("ip", "netns", "add", "other").CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	if l := layoutOf(t, legacyNamespaces); l.flat() {
		t.Fatalf("/run/netns not layered by iproute2 (%+v); the test proves nothing", l)
	}
	// A name stays busy: the failure the fresh machine showed.
	p := legacyNamespaces.file(ours[1])
	if err := unix.Unmount(p, unix.MNT_DETACH); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(p); !errors.Is(err, unix.EBUSY) {
		t.Fatalf("remove %s under iproute2's cover: %v, want busy", p, err)
	}

	mine, theirs := n.names.InstanceNamespace("i-2"), "other-i-1"
	for _, name := range []string{mine, theirs} {
		if _, err := ensureNamedNS(name, addProbe); err != nil {
			t.Fatal(err)
		}
	}
	// A recursive bind of its own onto NamespaceDir, out of its peer group
	// so that unmounting a copy on it does not unmount the original.
	for _, fl := range []uintptr{unix.MS_BIND | unix.MS_REC, unix.MS_PRIVATE} {
		if err := unix.Mount(NamespaceDir, NamespaceDir, "", fl, ""); err != nil {
			t.Fatal(err)
		}
	}
	if l := layoutOf(t, namespaces); l.flat() {
		t.Fatalf("%s not layered (%+v); the test proves nothing", NamespaceDir, l)
	}

	if err := n.Cleanup(context.Background()); err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	for _, d := range []*nsDir{namespaces, legacyNamespaces} {
		for _, m := range layoutOf(t, d).entries {
			if n.names.owns(filepath.Base(m.Point)) {
				t.Errorf("%s still mounted (mount %d)", m.Point, m.ID)
			}
		}
		ents, _ := os.ReadDir(d.path)
		for _, e := range ents {
			if n.names.owns(e.Name()) {
				t.Errorf("%s left", d.file(e.Name()))
			}
		}
	}
	if out, err := exec.Command("ip", "netns", "exec", "other", "true").CombinedOutput(); err != nil {
		t.Errorf("iproute2's namespace unusable after Cleanup: %v: %s", err, out)
	}
	assertFlat(t, namespaces, []string{theirs})
	if err := deleteNamedNS(theirs); err != nil {
		t.Error(err)
	}
}

// legacyNamed makes a namespace in /run/netns the way minicloud did before
// NamespaceDir.
func legacyNamed(t *testing.T, name string) {
	t.Helper()
	err := onFreshThread(func() error {
		ns, err := netns.NewNamed(name)
		if err == nil {
			ns.Close()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A minicloud started over the namespaces an earlier version left in
// /run/netns removes those of its prefix before it makes its first one, and
// no other.
func TestLegacyNamespacesDropped(t *testing.T) {
	n := privateNetwork(t)
	if n == nil {
		return
	}
	old, other := n.names.RouterNamespace("vpc-1"), "zz-r-vpc-1"
	legacyNamed(t, old)
	legacyNamed(t, other)
	ctx := context.Background()
	if _, err := n.CreateInstanceNamespace(ctx, "i-1"); err != nil {
		t.Fatal(err)
	}
	if isNamespace(legacyNamespaces.file(old)) {
		t.Errorf("%s still in /run/netns", old)
	}
	if !isNamespace(legacyNamespaces.file(other)) {
		t.Errorf("%s, not of this prefix, removed from /run/netns", other)
	}
	if err := n.DeleteInstanceNamespace(ctx, "i-1"); err != nil {
		t.Error(err)
	}
}
