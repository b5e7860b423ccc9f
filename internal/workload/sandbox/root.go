package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// HostRoot stands for the host's / in Root.Lowers.
const HostRoot = "/"

// Root is a workload's root filesystem: read-only layers under a writable
// one, assembled in the workload's own mount namespace.
type Root struct {
	// Lowers are the read-only layers (host directories), top first;
	// HostRoot is the host's /; empty means the host's / alone.
	Lowers []string
	// Upper and Work are the overlay's upper (the workload's writable data,
	// its root volume) and work directories on the host.
	Upper, Work string
	// Stage is an empty host directory the root is assembled on.
	Stage string
	// Hide lists host directories the workload must not see through a
	// lower layer; each is covered by an empty read-only tmpfs.
	Hide []string
	// Binds are host directories mounted into the root.
	Binds []Bind
}

// Bind mounts a host directory, and the mounts below it, into the root.
type Bind struct {
	// Source is the host directory; a shared mount of it keeps propagating
	// into the workload (mounts made on the host later appear inside).
	Source string
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

// Setup runs in the workload's init, in its new mount namespace: it
// assembles the root filesystem and pivots into it. Nothing propagates to
// the host: every mount is made a slave first (mounts made here are
// private, and only binds of shared host mounts keep receiving the host's
// mounts), and the host's / is only ever a read-only lower layer. A bind
// that fails is not fatal: it is returned in bindErrs.
func (cfg Root) Setup() (bindErrs []error, err error) {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_SLAVE, ""); err != nil {
		return nil, fmt.Errorf("make mounts slaves: %w", err)
	}
	stage := cfg.Stage
	// A small tmpfs holds the mount points (so nothing is created on the
	// host's disk) and the empty second lower layer below.
	if err := unix.Mount("minicloud-stage", stage, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755,size=64k"); err != nil {
		return nil, fmt.Errorf("mount stage: %w", err)
	}
	empty, host, root := filepath.Join(stage, "empty"), filepath.Join(stage, "host"), filepath.Join(stage, "root")
	for _, d := range []string{empty, host, root} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return nil, err
		}
	}
	// Preferred: a read-only overlay view of / (its own superblock), then
	// the workload's overlay on top of it, so the upper and work
	// directories — which live on the host's / — never overlap a layer of
	// the overlay that uses them. Fallback (a host / that is itself an
	// overlay exceeds the stacking depth): / directly as the lower layer.
	// An image's own layers (directories outside Dir) stack above it:
	// lowerdir=layer:…:host-view, or the image's rootfs alone.
	lowers := cfg.Lowers
	if len(lowers) == 0 {
		lowers = []string{HostRoot}
	}
	lowerdir := func(hostPath string) string {
		l := make([]string, len(lowers))
		for i, x := range lowers {
			l[i] = x
			if x == HostRoot {
				l[i] = hostPath
			}
		}
		return strings.Join(l, ":")
	}
	usesHost := slices.Contains(lowers, HostRoot)
	err = nil
	if usesHost {
		err = unix.Mount("minicloud-host", host, "overlay", unix.MS_RDONLY, "lowerdir=/:"+empty)
	}
	if err == nil {
		err = unix.Mount("minicloud-root", root, "overlay", 0,
			fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", lowerdir(host), cfg.Upper, cfg.Work))
		if err != nil && usesHost {
			_ = unix.Unmount(host, unix.MNT_DETACH)
		}
	}
	if err != nil && usesHost {
		if err2 := unix.Mount("minicloud-root", root, "overlay", 0,
			fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", lowerdir("/"), cfg.Upper, cfg.Work)); err2 != nil {
			return nil, fmt.Errorf("mount overlay: %v; %w", err, err2)
		}
		err = nil
	}
	if err != nil {
		return nil, fmt.Errorf("mount overlay: %w", err)
	}
	// Host paths the guest must not see through the lower layer.
	for _, h := range cfg.Hide {
		p := filepath.Join(root, filepath.Clean("/"+h))
		if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
			continue
		}
		if err := unix.Mount("minicloud-hidden", p, "tmpfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0755,size=4k"); err != nil {
			return nil, fmt.Errorf("hide %s: %w", h, err)
		}
	}
	for _, b := range cfg.Binds {
		if err := b.mount(root); err != nil {
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
		{"sysfs", "sys", "sysfs", nsx | unix.MS_RDONLY, ""},
		{"tmpfs", "dev", "tmpfs", unix.MS_NOSUID | unix.MS_STRICTATIME, "mode=0755,size=64k"},
		{"tmpfs", "tmp", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=1777"},
		{"tmpfs", "run", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=0755"},
	} {
		dst := filepath.Join(root, m.dst)
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return nil, err
		}
		if err := unix.Mount(m.src, dst, m.fstype, m.flags, m.data); err != nil {
			return nil, fmt.Errorf("mount /%s: %w", m.dst, err)
		}
	}
	if err := setupDev(filepath.Join(root, "dev")); err != nil {
		return nil, fmt.Errorf("/dev: %w", err)
	}
	_ = os.MkdirAll(filepath.Join(root, "run", "lock"), 0o1777)
	// pivot_root(".", ".") stacks the old root under the new one; detaching
	// it leaves the workload nothing of the host but the lower layer.
	if err := unix.Chdir(root); err != nil {
		return nil, err
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return nil, fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return nil, fmt.Errorf("detach the old root: %w", err)
	}
	return bindErrs, unix.Chdir("/")
}

// mount binds b.Source at b.Target of the new root. A bind of a slave is a
// slave of the same master, so what the host mounts or unmounts below the
// source later appears and disappears inside.
func (b Bind) mount(root string) error {
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
	if err := unix.Mount(b.Source, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	if !b.ReadOnlyTop {
		return nil
	}
	return unix.Mount("", dst, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, "")
}

// setupDev fills the workload's /dev tmpfs: a few host devices bind-mounted,
// a private devpts, /dev/shm, and /dev/console leading to the init's
// standard output (the workload's console).
func setupDev(dev string) error {
	for _, name := range []string{"null", "zero", "full", "random", "urandom", "tty"} {
		dst := filepath.Join(dev, name)
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o666)
		if err != nil {
			return err
		}
		f.Close()
		if err := unix.Mount("/dev/"+name, dst, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind %s: %w", name, err)
		}
	}
	for name, target := range map[string]string{
		"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
		"stderr": "/proc/self/fd/2", "console": "/proc/1/fd/1", "ptmx": "pts/ptmx",
	} {
		if err := os.Symlink(target, filepath.Join(dev, name)); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	}
	pts, shm := filepath.Join(dev, "pts"), filepath.Join(dev, "shm")
	if err := os.Mkdir(pts, 0o755); err != nil {
		return err
	}
	if err := unix.Mount("devpts", pts, "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620"); err != nil {
		return fmt.Errorf("devpts: %w", err)
	}
	if err := os.Mkdir(shm, 0o1777); err != nil {
		return err
	}
	if err := os.Chmod(shm, 0o1777); err != nil {
		return err
	}
	if err := unix.Mount("shm", shm, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777"); err != nil {
		return fmt.Errorf("shm: %w", err)
	}
	return nil
}
