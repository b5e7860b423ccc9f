package vpcnet

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/minicloud/minicloud/internal/mountinfo"
)

// NamespaceDir is where minicloud keeps its named network namespaces: one
// file per namespace, each a bind mount of the namespace (as iproute2 keeps
// them in /run/netns). Enter one with
// `nsenter --net=/run/minicloud/netns/<name>`.
//
// It is minicloud's own directory rather than iproute2's /run/netns because
// of how iproute2 prepares that directory: the first `ip netns add` on a
// machine where /run/netns is not yet a mount point bind-mounts it
// recursively onto itself. Namespaces another process had mounted there
// before are copied into the new mount, but the originals stay beneath it,
// unreachable by path: unmounting the name removes only the copy, the
// original keeps the namespace alive, and removing the file fails with
// EBUSY. Nothing outside minicloud prepares this directory, and minicloud
// prepares it before it mounts anything there, under a lock every
// minicloud process takes (see nsDir).
const NamespaceDir = "/run/minicloud/netns"

// legacyNamespaceDir is where minicloud kept its namespaces before
// NamespaceDir; Cleanup still removes its own names found there.
const legacyNamespaceDir = "/run/netns"

// NamespacePath is the path of the named namespace name (a name from
// Names: RouterNamespace, InstanceNamespace).
func NamespacePath(name string) string { return filepath.Join(NamespaceDir, name) }

// nsDir is a directory of named network namespaces, made safe to share
// between processes:
//
//   - Prepared once, like iproute2 does: the directory becomes a shared bind
//     mount of itself, so that a namespace's mount, copied into the mount
//     namespaces created later (an instance's, a database server's), goes
//     away there too when it is unmounted here, and the namespace is freed.
//   - Preparing takes an exclusive flock on the directory, mounting a name
//     takes a shared one, so no process ever prepares the directory while
//     another is mounting a namespace in it.
//   - Preparing never hides a mount: when the directory holds mounts already
//     (someone unmounted the preparation, or the directory is iproute2's),
//     or is covered by another mount of itself, flatten moves every
//     namespace onto one top mount.
//   - Removing a name whose file is busy because a mount is hidden under a
//     cover flattens the directory and tries again.
type nsDir struct {
	path string

	mu       sync.Mutex // guards prepared
	prepared bool
}

// namespaces is NamespaceDir, shared by every Network of this process.
var namespaces = &nsDir{path: NamespaceDir}

// legacyNamespaces is legacyNamespaceDir, only ever cleaned.
var legacyNamespaces = &nsDir{path: legacyNamespaceDir}

func (d *nsDir) file(name string) string { return filepath.Join(d.path, name) }

// lock takes a flock (unix.LOCK_SH or unix.LOCK_EX) on the directory itself:
// every mount of the directory is the same inode, so the lock holds whatever
// is mounted on the path, and it leaves no lock file behind.
func (d *nsDir) lock(how int) (unlock func(), err error) {
	f, err := os.Open(d.path)
	if err != nil {
		return nil, fmt.Errorf("vpcnet: open %s: %w", d.path, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("vpcnet: lock %s: %w", d.path, err)
	}
	return func() { f.Close() }, nil
}

// prepare makes the directory a shared mount of itself holding every
// namespace mounted in it, once per process.
func (d *nsDir) prepare() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.prepared {
		return nil
	}
	if err := os.MkdirAll(d.path, 0o755); err != nil {
		return fmt.Errorf("vpcnet: create %s: %w", d.path, err)
	}
	unlock, err := d.lock(unix.LOCK_EX)
	if err != nil {
		return err
	}
	defer unlock()
	if err := d.flatten(); err != nil {
		return err
	}
	d.prepared = true
	return nil
}

// isMountRoot reports whether path is the root of a mount.
func isMountRoot(path string) (bool, error) {
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, path, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BASIC_STATS, &stx); err != nil {
		return false, fmt.Errorf("vpcnet: statx %s: %w", path, err)
	}
	if stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT == 0 {
		return false, fmt.Errorf("vpcnet: statx %s: the kernel does not report mount roots (Linux 5.8 or later needed)", path)
	}
	return stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0, nil
}

// flatten leaves the directory a single shared bind mount of itself with
// every namespace visible in it mounted on top, and nothing hidden: when
// that is already so (the common case) it only reads the mount table.
// Otherwise it holds a descriptor of each namespace a name shows (the
// topmost mount wins, as path lookup sees it), takes every cover and entry
// mount away — hidden originals come to light as their covers go — then
// mounts the directory on itself again and each held namespace on its name.
// Namespaces stay alive throughout (the descriptors hold them) but are
// briefly not mounted. The caller holds the exclusive lock.
func (d *nsDir) flatten() error {
	if l, err := d.layout(); err != nil || l.flat() {
		return err
	}
	held := map[string]*os.File{}
	defer func() {
		for _, f := range held {
			f.Close()
		}
	}()
	for layer := 0; ; layer++ {
		if layer > 64 {
			return fmt.Errorf("vpcnet: %s: more than 64 mounts stacked on it", d.path)
		}
		covered, err := isMountRoot(d.path)
		if err != nil {
			return err
		}
		entries, err := os.ReadDir(d.path)
		if err != nil {
			return fmt.Errorf("vpcnet: read %s: %w", d.path, err)
		}
		for _, e := range entries {
			p := d.file(e.Name())
			for stacked := 0; isNamespace(p) && stacked < 64; stacked++ {
				if held[e.Name()] == nil {
					f, err := os.Open(p)
					if err != nil {
						return fmt.Errorf("vpcnet: open namespace %s: %w", p, err)
					}
					held[e.Name()] = f
				}
				if covered {
					break // goes with the cover
				}
				if err := unix.Unmount(p, unix.MNT_DETACH); err != nil {
					return fmt.Errorf("vpcnet: unmount %s: %w", p, err)
				}
			}
		}
		if !covered {
			break
		}
		if err := unix.Unmount(d.path, unix.MNT_DETACH); err != nil {
			return fmt.Errorf("vpcnet: unmount %s: %w", d.path, err)
		}
	}
	if err := unix.Mount(d.path, d.path, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("vpcnet: bind %s onto itself: %w", d.path, err)
	}
	// Shared in a peer group of its own: a bind mount of a shared parent
	// (/ on systemd hosts) joins the parent's group, and the namespaces
	// mounted on it would be copied onto the parent beneath it.
	for _, fl := range []uintptr{unix.MS_PRIVATE, unix.MS_SHARED} {
		if err := unix.Mount("", d.path, "", fl, ""); err != nil {
			return fmt.Errorf("vpcnet: set the propagation of %s: %w", d.path, err)
		}
	}
	var errs []error
	for name, f := range held {
		p := d.file(name)
		// A cover that was another directory (not the directory itself)
		// showed names the directory lacks.
		if nf, err := os.OpenFile(p, os.O_RDONLY|os.O_CREATE, 0o444); err == nil {
			nf.Close()
		}
		if err := unix.Mount("/proc/self/fd/"+strconv.Itoa(int(f.Fd())), p, "", unix.MS_BIND, ""); err != nil {
			errs = append(errs, fmt.Errorf("vpcnet: mount namespace %s again: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// nsLayout is how the directory is mounted, as its path resolves now.
type nsLayout struct {
	// covers are the mounts on the directory's path, topmost first: after
	// preparation, its one bind mount of itself.
	covers []mountinfo.Mount
	// entries are the mounts on its entries, on a cover or on the mount
	// holding the directory; those not on the topmost cover are hidden.
	entries []mountinfo.Mount
}

// flat reports whether the layout is prepared with nothing hidden.
func (l nsLayout) flat() bool {
	if len(l.covers) != 1 || !l.covers[0].Shared {
		return false
	}
	for _, m := range l.entries {
		if m.Parent != l.covers[0].ID {
			return false
		}
	}
	return true
}

// layout reads the directory's mounts. Mounts with the same paths that an
// ancestor's mount hides (a tmpfs on /run, say) are not the directory's and
// are left out: it follows parents from the mount the path resolves to.
func (d *nsDir) layout() (nsLayout, error) {
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, d.path, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_MNT_ID, &stx); err != nil {
		return nsLayout{}, fmt.Errorf("vpcnet: statx %s: %w", d.path, err)
	}
	if stx.Mask&unix.STATX_MNT_ID == 0 {
		return nsLayout{}, fmt.Errorf("vpcnet: statx %s: the kernel does not report mount IDs (Linux 5.8 or later needed)", d.path)
	}
	mounts, err := mountinfo.Read()
	if err != nil {
		return nsLayout{}, err
	}
	byID := make(map[int]mountinfo.Mount, len(mounts))
	for _, m := range mounts {
		byID[m.ID] = m
	}
	var l nsLayout
	holders := map[int]bool{}
	for id := int(stx.Mnt_id); ; {
		m, ok := byID[id]
		if !ok {
			return nsLayout{}, fmt.Errorf("vpcnet: %s: mount %d not in mountinfo", d.path, id)
		}
		holders[id] = true
		if m.Point != d.path || len(l.covers) > 64 {
			break
		}
		l.covers = append(l.covers, m)
		id = m.Parent
	}
	for _, m := range mounts {
		if filepath.Dir(m.Point) == d.path && holders[m.Parent] {
			l.entries = append(l.entries, m)
		}
	}
	return l, nil
}

// deleteNamed removes the named namespace: the veths inside first (so their
// peers elsewhere go away now, not when the kernel gets round to destroying
// the namespace), then its mounts and its file. Missing is not an error. A
// file that stays busy (a mount of it hidden under a cover of the
// directory) makes it flatten the directory and try once more.
func (d *nsDir) deleteNamed(name string) error {
	err := d.deleteOnce(name)
	if !errors.Is(err, unix.EBUSY) {
		return err
	}
	unlock, lerr := d.lock(unix.LOCK_EX)
	if lerr != nil {
		return errors.Join(err, lerr)
	}
	ferr := d.flatten()
	unlock()
	if ferr != nil {
		return errors.Join(err, ferr)
	}
	return d.deleteOnce(name)
}

func (d *nsDir) deleteOnce(name string) error {
	path := d.file(name)
	for stacked := 0; isNamespace(path) && stacked < 64; stacked++ {
		if err := emptyNamespace(path); err != nil {
			return fmt.Errorf("vpcnet: empty namespace %s: %w", name, err)
		}
		if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("vpcnet: unmount %s: %w", path, err)
		}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("vpcnet: remove %s: %w", path, err)
	}
	return nil
}

// createNamed creates a network namespace mounted at the name, with the
// calling thread inside it (the caller runs on a thread of its own).
func (d *nsDir) createNamed(name string) error {
	if err := d.prepare(); err != nil {
		return err
	}
	unlock, err := d.lock(unix.LOCK_SH)
	if err != nil {
		return err
	}
	defer unlock()
	path := d.file(name)
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("vpcnet: new network namespace: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return fmt.Errorf("vpcnet: create %s: %w", path, err)
	}
	f.Close()
	self := "/proc/self/task/" + strconv.Itoa(unix.Gettid()) + "/ns/net"
	if err := unix.Mount(self, path, "", unix.MS_BIND, ""); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("vpcnet: mount namespace at %s: %w", path, err)
	}
	return nil
}

// dropLegacy removes, once, the namespaces of this prefix that a minicloud
// before NamespaceDir left in /run/netns: their veths would hold the host
// links the new ones need. It runs before the first namespace is made, not
// at start-up; a failure is logged, and minicloud cleanup tries again.
func (n *Network) dropLegacy() {
	n.legacyOnce.Do(func() {
		entries, _ := os.ReadDir(legacyNamespaceDir)
		for _, e := range entries {
			if !n.names.owns(e.Name()) {
				continue
			}
			if err := legacyNamespaces.deleteNamed(e.Name()); err != nil {
				n.log.Warn("remove a namespace an earlier minicloud left", "path", legacyNamespaces.file(e.Name()), "err", err)
			} else {
				n.log.Info("removed a namespace an earlier minicloud left", "path", legacyNamespaces.file(e.Name()))
			}
		}
	})
}

// Namespaces lists the names in NamespaceDir that start with prefix (a
// Names.Prefix followed by "-", or a longer start such as
// Names.RouterNamespace("")). A missing directory lists nothing.
func Namespaces(prefix string) ([]string, error) {
	entries, err := os.ReadDir(NamespaceDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("vpcnet: list namespaces: %w", err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}
