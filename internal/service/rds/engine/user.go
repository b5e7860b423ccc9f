package engine

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
)

// OSUser is who runs the servers.
type OSUser struct {
	Name     string
	UID, GID uint32
	AsRoot   bool // minicloud is root and switches to UID/GID
}

// systemUser is the user minicloud creates to run servers as when it is
// root and none of an engine's own users exists.
const systemUser = "minicloud-db"

// ServerUser returns the unprivileged user servers run as: minicloud's own
// user when it is not root; else the first of names that exists, else the
// system user minicloud-db, created on first use (useradd --system). The
// servers refuse to run as root (PostgreSQL) or should not (MariaDB).
func ServerUser(names ...string) (OSUser, error) {
	if os.Geteuid() != 0 {
		return OSUser{Name: "(minicloud's user)", UID: uint32(os.Geteuid()), GID: uint32(os.Getegid())}, nil
	}
	var (
		u   *user.User
		err error
	)
	for _, n := range append(names, systemUser) {
		if u, err = user.Lookup(n); err == nil {
			break
		}
	}
	if err != nil {
		out, cerr := exec.Command("useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", systemUser).CombinedOutput()
		// useradd fails if another engine created the user meanwhile.
		if u, err = user.Lookup(systemUser); err != nil {
			return OSUser{}, fmt.Errorf("create the system user %s: %v: %s", systemUser, cerr, strings.TrimSpace(string(out)))
		}
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return OSUser{Name: u.Username, UID: uint32(uid), GID: uint32(gid), AsRoot: true}, nil
}

// Chown gives path to the user.
func (u OSUser) Chown(path string) error { return os.Chown(path, int(u.UID), int(u.GID)) }

// PrepareDir creates dir (and its parents, private to minicloud) owned by
// the user.
func PrepareDir(dir string, u OSUser) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return u.Chown(dir)
}
