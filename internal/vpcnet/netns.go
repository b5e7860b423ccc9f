package vpcnet

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// nsfsMagic is the statfs type of a namespace file (NSFS_MAGIC).
const nsfsMagic = 0x6e736673

// onFreshThread runs fn on a goroutine locked to its own OS thread and never
// unlocks it, so the thread is discarded when fn returns. fn may therefore
// change the thread's network namespace without any risk of it leaking to
// other goroutines.
func onFreshThread(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer func() {
			if r := recover(); r != nil {
				errc <- fmt.Errorf("vpcnet: panic in namespace: %v", r)
			}
		}()
		errc <- fn()
	}()
	return <-errc
}

// InNamespace runs fn with the calling OS thread inside the network namespace
// at path (a NamespaceDir file or /proc/<pid>/ns/net). Sockets created by fn
// stay in that namespace after it returns; fn must not start goroutines that
// expect to be in it. The thread is discarded afterwards.
func InNamespace(path string, fn func() error) error {
	return onFreshThread(func() error {
		ns, err := netns.GetFromPath(path)
		if err != nil {
			return fmt.Errorf("vpcnet: open namespace %s: %w", path, err)
		}
		defer ns.Close()
		if err := netns.Set(ns); err != nil {
			return fmt.Errorf("vpcnet: enter namespace %s: %w", path, err)
		}
		return fn()
	})
}

// namedPath resolves a namespace name or path to a path.
func namedPath(nameOrPath string) string {
	if strings.ContainsRune(nameOrPath, '/') {
		return nameOrPath
	}
	return NamespacePath(nameOrPath)
}

// NamespaceID identifies the network namespace mounted at path (its device
// and inode), "" when none is: a namespace deleted and made again under the
// same name has another, so holders of sockets or rules inside it can tell
// theirs are gone.
func NamespaceID(path string) string {
	if !isNamespace(path) {
		return ""
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return ""
	}
	return fmt.Sprintf("%d:%d", st.Dev, st.Ino)
}

// isNamespace reports whether path is a mounted namespace file.
func isNamespace(path string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false
	}
	return st.Type == nsfsMagic
}

// ensureNamedNS creates the named namespace unless it exists, then runs setup
// inside it (also when it already existed, so setup must be idempotent).
func ensureNamedNS(name string, setup func() error) (created bool, err error) {
	path := NamespacePath(name)
	if !isNamespace(path) {
		// A stale file (crash between create and mount) is ours to remove.
		if err := namespaces.deleteNamed(name); err != nil {
			return false, fmt.Errorf("vpcnet: remove stale %s: %w", path, err)
		}
		err := onFreshThread(func() error {
			if err := namespaces.createNamed(name); err != nil {
				return err
			}
			return setup()
		})
		return true, err
	}
	return false, InNamespace(path, setup)
}

// deleteNamedNS removes the named namespace; see nsDir.deleteNamed.
func deleteNamedNS(name string) error { return namespaces.deleteNamed(name) }

// emptyNamespace deletes the veths of the namespace at path.
func emptyNamespace(path string) error {
	return withNS(path, func(h *netlink.Handle, _ netns.NsHandle) error {
		links, err := RetryDump(h.LinkList)
		if err != nil {
			return err
		}
		for _, l := range links {
			if l.Type() == "veth" {
				if err := h.LinkDel(l); err != nil && !isNotFound(err) {
					return fmt.Errorf("delete %s: %w", l.Attrs().Name, err)
				}
			}
		}
		return nil
	})
}

// withNS opens a netlink handle inside the namespace at path.
func withNS(path string, fn func(h *netlink.Handle, ns netns.NsHandle) error) error {
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return err
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	return fn(h, ns)
}

// writeSysctl writes a /proc/sys value for the calling thread's namespace.
func writeSysctl(key, value string) error {
	p := "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
	return os.WriteFile(p, []byte(value), 0o644)
}

func isNotFound(err error) bool {
	var lnf netlink.LinkNotFoundError
	return errors.As(err, &lnf) || errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH)
}

func isExist(err error) bool { return errors.Is(err, unix.EEXIST) }
