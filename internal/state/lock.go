package state

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// A running minicloud holds bbolt's exclusive flock on its state.db for as
// long as it runs (OpenBolt). Tools that must not run beside a live server
// on the same state directory, such as `minicloud cleanup`, take the same
// lock with LockBolt: they fail at once while a server holds it, and a
// server started while they run fails to open the store instead of racing
// them.

// LockedError is returned by LockBolt when another process holds the file.
type LockedError struct {
	Path string
	// PID is the process holding the lock, 0 when /proc/locks does not
	// say (a lock taken in another PID namespace).
	PID int
}

func (e *LockedError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("%s is held by a running minicloud (pid %d)", e.Path, e.PID)
	}
	return fmt.Sprintf("%s is held by a running minicloud", e.Path)
}

// LockBolt takes the exclusive lock a serving minicloud holds on the bbolt
// file at path, without opening the database, and returns its release.
// A missing file is not an error: no server has used that state directory
// (release is then a no-op). A held lock is a *LockedError naming the
// holder.
func LockBolt(path string) (release func(), err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return func() {}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state: open %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, &LockedError{Path: path, PID: flockHolder(f)}
		}
		return nil, fmt.Errorf("state: lock %s: %w", path, err)
	}
	return func() { _ = f.Close() }, nil // closing the last descriptor releases the flock
}

// flockHolder finds the process holding a flock on f in /proc/locks
// ("1: FLOCK ADVISORY WRITE 1234 08:01:5678 0 EOF"), 0 if none is listed.
func flockHolder(f *os.File) int {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return 0
	}
	locks, err := os.Open("/proc/locks")
	if err != nil {
		return 0
	}
	defer locks.Close()
	return parseLocks(locks, unix.Major(uint64(st.Dev)), unix.Minor(uint64(st.Dev)), st.Ino)
}

// parseLocks returns the PID of the first FLOCK in a /proc/locks listing on
// the inode ino of device major:minor (hexadecimal in the listing), 0 if none.
func parseLocks(r io.Reader, major, minor uint32, ino uint64) int {
	want := fmt.Sprintf("%02x:%02x:%d", major, minor, ino)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// Blocked waiters are listed as "1: -> FLOCK …": skip them.
		if len(f) < 6 || f[1] != "FLOCK" || !sameDevIno(f[5], want) {
			continue
		}
		if pid, err := strconv.Atoi(f[4]); err == nil {
			return pid
		}
	}
	return 0
}

// sameDevIno compares /proc/locks' "MAJ:MIN:INODE" fields, whose
// hexadecimal device numbers may be printed with or without padding.
func sameDevIno(got, want string) bool {
	g, w := strings.Split(got, ":"), strings.Split(want, ":")
	if len(g) != 3 || len(w) != 3 {
		return false
	}
	for i := range 2 {
		a, err1 := strconv.ParseUint(g[i], 16, 32)
		b, err2 := strconv.ParseUint(w[i], 16, 32)
		if err1 != nil || err2 != nil || a != b {
			return false
		}
	}
	return g[2] == w[2]
}
