package engine

import (
	"crypto/rand"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Copies of a server's data directory and the directories around it, the
// same for every engine: snapshots, copies of snapshots and restores are
// file copies that keep modes and owners.

// CopyData copies the data directory src into dst (removed first), keeping
// modes and owners, leaving out the files of a running server
// (postmaster.pid and postmaster.opts, as pg_basebackup does) and anything
// that is not a directory, a regular file or a symbolic link.
func CopyData(src, dst string) error {
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("source data: %w", err)
	}
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	return filepath.WalkDir(src, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if rel == "postmaster.pid" || rel == "postmaster.opts" {
			return nil
		}
		to := filepath.Join(dst, rel)
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st, _ := info.Sys().(*syscall.Stat_t)
		switch {
		case info.IsDir():
			if err := os.Mkdir(to, info.Mode().Perm()); err != nil {
				return err
			}
		case info.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := os.Symlink(link, to); err != nil {
				return err
			}
		case info.Mode().IsRegular():
			if err := CopyFile(p, to, info.Mode().Perm()); err != nil {
				return err
			}
		default:
			return nil // sockets and the like are not data
		}
		if st != nil {
			if err := os.Lchown(to, int(st.Uid), int(st.Gid)); err != nil {
				return err
			}
		}
		return nil
	})
}

// CopyFile copies the file src to the new file dst with mode, synced.
func CopyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}

// CopyDataDir makes dst (removed first) a directory holding a copy of
// src/data as dst/data.
func CopyDataDir(src, dst string) error {
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return err
	}
	return CopyData(filepath.Join(src, "data"), filepath.Join(dst, "data"))
}

// CopySnapshot copies snapshot directory src into dst (a copy of the
// snapshot): its data and the regular files beside it, which an engine
// keeps with its snapshots (MariaDB's administrative password).
func CopySnapshot(src, dst string) error {
	if err := CopyDataDir(src, dst); err != nil {
		return err
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		if err := CopyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name()), 0o600); err != nil {
			return err
		}
	}
	return nil
}

const lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"

// RandomString is n random lower-case letters and digits: passwords,
// resource IDs.
func RandomString(n int) string {
	b := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(b) < n {
		_, _ = rand.Read(buf)
		for _, c := range buf {
			if int(c) < 252 && len(b) < n {
				b = append(b, lowerAlnum[int(c)%len(lowerAlnum)])
			}
		}
	}
	return string(b)
}
