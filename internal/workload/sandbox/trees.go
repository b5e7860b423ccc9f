package sandbox

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// IDMapped returns a detached copy of the mount at path (with the mounts
// below it when recursive), idmapped for the user namespace userns (an open
// /proc/<pid>/ns/user): inside that namespace, files the host has owned by
// IDs 0…n appear owned by the namespace's 0…n, and files it creates are
// stored with the host's. The workload's init receives it (SendTrees) and
// moves it into place. Needs Linux 5.12 and a filesystem that supports
// idmapped mounts (ext4, xfs, btrfs; tmpfs from 6.3).
func IDMapped(path string, userns *os.File, recursive bool) (*os.File, error) {
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
	var attrFlags uint
	if recursive {
		flags |= unix.AT_RECURSIVE
		attrFlags = unix.AT_RECURSIVE
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, path, flags)
	if err != nil {
		return nil, fmt.Errorf("sandbox: clone the mount of %s: %w", path, err)
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns.Fd())}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH|attrFlags, &attr); err != nil {
		unix.Close(fd)
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
			return nil, fmt.Errorf("sandbox: idmap the mount of %s: %w (the filesystem or the kernel cannot idmap mounts: Linux 5.12 or later and ext4, xfs or btrfs are needed)", path, err)
		}
		return nil, fmt.Errorf("sandbox: idmap the mount of %s: %w", path, err)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// Clone returns a detached copy of the mount at path (with the mounts below
// it when recursive), not idmapped: for a tree whose own files the workload
// needs not own (a directory of mount points whose mounts are idmapped
// already). A copy of a shared mount keeps receiving what is mounted below
// the original once the init has it in its namespace.
func Clone(path string, recursive bool) (*os.File, error) {
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
	if recursive {
		flags |= unix.AT_RECURSIVE
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, path, flags)
	if err != nil {
		return nil, fmt.Errorf("sandbox: clone the mount of %s: %w", path, err)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// SendTrees hands a root's trees to the init over sock (a Unix socket),
// in the order ReceiveTrees expects.
func SendTrees(sock *os.File, lowers []*os.File, instance *os.File, binds []*os.File) error {
	var fds []int
	for _, f := range lowers {
		fds = append(fds, int(f.Fd()))
	}
	fds = append(fds, int(instance.Fd()))
	for _, f := range binds {
		fds = append(fds, int(f.Fd()))
	}
	if err := unix.Sendmsg(int(sock.Fd()), []byte{byte(len(fds))}, unix.UnixRights(fds...), nil, 0); err != nil {
		return fmt.Errorf("sandbox: send the root's trees: %w", err)
	}
	return nil
}

// ReceiveTrees is the init's side of SendTrees, for a root of cfg.
func ReceiveTrees(sock *os.File, cfg Root) (Trees, error) {
	n := cfg.Layers + 1 + len(cfg.Binds)
	buf, oob := make([]byte, 1), make([]byte, unix.CmsgSpace(4*n))
	_, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return Trees{}, fmt.Errorf("sandbox: receive the root's trees: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return Trees{}, fmt.Errorf("sandbox: receive the root's trees: %d messages, %v", len(msgs), err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != n {
		return Trees{}, fmt.Errorf("sandbox: %d trees received, want %d (%v)", len(fds), n, err)
	}
	return Trees{Lowers: fds[:cfg.Layers], Instance: fds[cfg.Layers], Binds: fds[cfg.Layers+1:]}, nil
}
