package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// A workload's root filesystem is assembled by its init, inside the
// workload's own user and mount namespaces, from mount trees the runtime
// makes on the host and hands over as file descriptors (Trees): the image's
// read-only layers, the workload's own directory (the overlay's upper and
// work directories: its root volume) and directories bound into it (an
// instance's volumes). Each tree is an idmapped mount (IDMapped) for the
// workload's user namespace: files the host keeps owned by root (0) are
// owned by the workload's root inside, and what the workload writes lands
// on the host owned by root again — so data stays the same whichever
// workload, with whichever range of host IDs, mounts it next (a root
// volume attached to another instance, an image shared by many). Paths of
// the host play no part: the init cannot even look them up (its root is
// not root on the host), and after pivot_root nothing of the host's tree
// is left in its mount namespace.

// Root is what a workload's root filesystem is made of besides its trees.
type Root struct {
	// Layers is the number of read-only layers (Trees.Lowers), top first.
	Layers int
	// Binds say where each of Trees.Binds goes.
	Binds []Bind
}

// Bind puts a tree into the root.
type Bind struct {
	// Target is the absolute path inside the root; every directory on the
	// way is created and must be a real directory (a symlink the guest
	// left would lead the mount astray).
	Target string
	// ReadOnlyTop makes Target itself read-only (the mounts below it keep
	// their own flags): the guest cannot plant files or symlinks where the
	// host makes mount points.
	ReadOnlyTop bool
}

// BindError is a bind that failed; Setup goes on without it.
type BindError struct {
	Bind Bind
	Err  error
}

func (e *BindError) Error() string { return e.Bind.Target + ": " + e.Err.Error() }
func (e *BindError) Unwrap() error { return e.Err }

// Trees are the mount trees of a root, as descriptors of detached mounts
// (open_tree) the init received.
type Trees struct {
	// Lowers are the read-only layers, top first.
	Lowers []int
	// Instance holds the directories "upper" and "work" of the overlay.
	Instance int
	// Binds are the trees of Root.Binds, in order.
	Binds []int
}

// stageDir is where the init assembles the root: a tmpfs of its own
// mounted over the host's /tmp (every host has one, and anyone may reach
// it), in the init's mount namespace only.
const stageDir = "/tmp"

// Setup runs in the workload's init, in its new user and mount namespaces:
// it assembles the root filesystem from the trees and pivots into it.
// Nothing propagates to the host: every mount is made a slave first
// (mounts made here stay private; a shared tree bound in keeps receiving
// the host's mounts below it: the volumes attached later). A bind that
// fails is not fatal: it is returned in bindErrs. console is the master of
// the guest's /dev/console: the caller copies what it reads to the
// workload's console.
func (cfg Root) Setup(t Trees) (console *os.File, bindErrs []error, err error) {
	if len(t.Lowers) != cfg.Layers || len(t.Binds) != len(cfg.Binds) {
		return nil, nil, fmt.Errorf("%d lower trees and %d binds for %d layers and %d binds", len(t.Lowers), len(t.Binds), cfg.Layers, len(cfg.Binds))
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_SLAVE, ""); err != nil {
		return nil, nil, fmt.Errorf("make mounts slaves: %w", err)
	}
	if err := unix.Mount("minicloud-stage", stageDir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755,size=64k"); err != nil {
		return nil, nil, fmt.Errorf("mount stage: %w", err)
	}
	place := func(fd int, name string) (string, error) {
		dst := filepath.Join(stageDir, name)
		if err := os.Mkdir(dst, 0o755); err != nil {
			return "", err
		}
		if err := unix.MoveMount(fd, "", unix.AT_FDCWD, dst, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return "", fmt.Errorf("move the %s tree: %w", name, err)
		}
		return dst, nil
	}
	var lowers []string
	for i, fd := range t.Lowers {
		l, err := place(fd, "lower"+strconv.Itoa(i))
		if err != nil {
			return nil, nil, err
		}
		lowers = append(lowers, l)
	}
	inst, err := place(t.Instance, "instance")
	if err != nil {
		return nil, nil, err
	}
	root := filepath.Join(stageDir, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		return nil, nil, err
	}
	if err := unix.Mount("minicloud-root", root, "overlay", 0, fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s",
		strings.Join(lowers, ":"), filepath.Join(inst, "upper"), filepath.Join(inst, "work"))); err != nil {
		return nil, nil, fmt.Errorf("mount overlay: %w", err)
	}
	for i, b := range cfg.Binds {
		if err := b.mount(root, t.Binds[i]); err != nil {
			bindErrs = append(bindErrs, &BindError{Bind: b, Err: err})
		}
	}
	type mnt struct {
		src, dst, fstype string
		flags            uintptr
		data             string
	}
	const nsx = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	for _, m := range []mnt{
		{"proc", "proc", "proc", nsx, ""},
		// The network namespace is minicloud's (its security groups live
		// there), not the workload's, so sysfs cannot be mounted: an empty,
		// read-only /sys, as a container without network sysfs has.
		{"sysfs", "sys", "tmpfs", nsx | unix.MS_RDONLY, "mode=0555,size=4k"},
		{"tmpfs", "dev", "tmpfs", unix.MS_NOSUID | unix.MS_STRICTATIME, "mode=0755,size=64k"},
		{"tmpfs", "tmp", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=1777"},
		{"tmpfs", "run", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=0755"},
	} {
		dst := filepath.Join(root, m.dst)
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return nil, nil, err
		}
		if err := unix.Mount(m.src, dst, m.fstype, m.flags, m.data); err != nil {
			return nil, nil, fmt.Errorf("mount /%s: %w", m.dst, err)
		}
	}
	if err := maskProc(filepath.Join(root, "proc")); err != nil {
		return nil, nil, fmt.Errorf("/proc: %w", err)
	}
	if console, err = setupDev(filepath.Join(root, "dev")); err != nil {
		return nil, nil, fmt.Errorf("/dev: %w", err)
	}
	_ = os.MkdirAll(filepath.Join(root, "run", "lock"), 0o1777)
	// pivot_root(".", ".") stacks the old root under the new one; detaching
	// it leaves the workload nothing of the host.
	if err := unix.Chdir(root); err != nil {
		return nil, nil, err
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return nil, nil, fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return nil, nil, fmt.Errorf("detach the old root: %w", err)
	}
	return console, bindErrs, unix.Chdir("/")
}

// mount moves tree fd to b.Target of the new root.
func (b Bind) mount(root string, fd int) error {
	dst := root
	for _, part := range strings.Split(strings.Trim(b.Target, "/"), "/") {
		dst = filepath.Join(dst, part)
		fi, err := os.Lstat(dst)
		if errors.Is(err, os.ErrNotExist) {
			err = os.Mkdir(dst, 0o755)
			if err == nil {
				fi, err = os.Lstat(dst)
			}
		}
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", strings.TrimPrefix(dst, root))
		}
	}
	if err := unix.MoveMount(fd, "", unix.AT_FDCWD, dst, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return err
	}
	if !b.ReadOnlyTop {
		return nil
	}
	return unix.Mount("", dst, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, "")
}

// maskedProc are files of /proc a workload must not read (the host's
// memory, keys and timers), as container runtimes mask them; readOnlyProc
// are those it must not write (the host's sysctls, sysrq, IRQs, buses).
// The kernel already refuses a workload most of these — it is not root on
// the host — but a mask does not depend on every file's own checks.
var (
	maskedProc   = []string{"kcore", "keys", "timer_list", "sched_debug", "latency_stats", "acpi", "scsi"}
	readOnlyProc = []string{"sys", "sysrq-trigger", "irq", "bus", "fs"}
)

func maskProc(proc string) error {
	for _, name := range maskedProc {
		p := filepath.Join(proc, name)
		fi, err := os.Lstat(p)
		if err != nil {
			continue // not on this kernel
		}
		if fi.IsDir() {
			err = unix.Mount("minicloud-masked", p, "tmpfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0555,size=4k")
		} else {
			err = unix.Mount("/dev/null", p, "", unix.MS_BIND, "")
		}
		if err != nil {
			return fmt.Errorf("mask %s: %w", name, err)
		}
	}
	for _, name := range readOnlyProc {
		p := filepath.Join(proc, name)
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		if err := unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind %s: %w", name, err)
		}
		if err := unix.Mount("", p, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
			return fmt.Errorf("make %s read-only: %w", name, err)
		}
	}
	return nil
}

// setupDev fills the workload's /dev tmpfs: a few host devices bind-mounted,
// a private devpts, /dev/shm, and /dev/console: a pty of that devpts whose
// master it returns (the caller copies it to the workload's console). A
// pty, not a link to the init's standard output: the init is not dumpable,
// so its /proc/1/fd is closed to the guest, and a pipe cannot be mounted.
func setupDev(dev string) (*os.File, error) {
	for _, name := range []string{"null", "zero", "full", "random", "urandom", "tty"} {
		dst := filepath.Join(dev, name)
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o666)
		if err != nil {
			return nil, err
		}
		f.Close()
		if err := unix.Mount("/dev/"+name, dst, "", unix.MS_BIND, ""); err != nil {
			return nil, fmt.Errorf("bind %s: %w", name, err)
		}
	}
	for name, target := range map[string]string{
		"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
		"stderr": "/proc/self/fd/2", "ptmx": "pts/ptmx",
	} {
		if err := os.Symlink(target, filepath.Join(dev, name)); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, err
		}
	}
	pts, shm := filepath.Join(dev, "pts"), filepath.Join(dev, "shm")
	if err := os.Mkdir(pts, 0o755); err != nil {
		return nil, err
	}
	if err := unix.Mount("devpts", pts, "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620"); err != nil {
		return nil, fmt.Errorf("devpts: %w", err)
	}
	if err := os.Mkdir(shm, 0o1777); err != nil {
		return nil, err
	}
	if err := os.Chmod(shm, 0o1777); err != nil {
		return nil, err
	}
	if err := unix.Mount("shm", shm, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777"); err != nil {
		return nil, fmt.Errorf("shm: %w", err)
	}
	console, err := consolePty(pts, filepath.Join(dev, "console"))
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	return console, nil
}

// consolePty opens a pty of the devpts at pts, binds its slave onto the
// file console and returns the master. The slave passes output unchanged
// (no "\n" → "\r\n"), and one descriptor of it stays open for the init's
// life (inherited by no one): with none, reading the master fails.
func consolePty(pts, console string) (*os.File, error) {
	mfd, err := unix.Open(filepath.Join(pts, "ptmx"), unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	master := os.NewFile(uintptr(mfd), "console-master")
	fail := func(err error) (*os.File, error) {
		master.Close()
		return nil, err
	}
	if err := unix.IoctlSetPointerInt(mfd, unix.TIOCSPTLCK, 0); err != nil {
		return fail(fmt.Errorf("unlock pty: %w", err))
	}
	n, err := unix.IoctlGetUint32(mfd, unix.TIOCGPTN)
	if err != nil {
		return fail(fmt.Errorf("pty number: %w", err))
	}
	slave := filepath.Join(pts, fmt.Sprint(n))
	sfd, err := unix.Open(slave, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fail(err)
	}
	tio, err := unix.IoctlGetTermios(sfd, unix.TCGETS)
	if err == nil {
		tio.Oflag &^= unix.OPOST
		tio.Lflag &^= unix.ECHO
		err = unix.IoctlSetTermios(sfd, unix.TCSETS, tio)
	}
	if err != nil {
		unix.Close(sfd)
		return fail(fmt.Errorf("console modes: %w", err))
	}
	f, err := os.OpenFile(console, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		unix.Close(sfd)
		return fail(err)
	}
	f.Close()
	if err := unix.Mount(slave, console, "", unix.MS_BIND, ""); err != nil {
		unix.Close(sfd)
		return fail(fmt.Errorf("bind %s: %w", slave, err))
	}
	return master, nil // sfd stays open: see above
}
