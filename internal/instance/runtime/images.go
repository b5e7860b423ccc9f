package runtime

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minicloud/minicloud/internal/instance/hostimage"
	"github.com/minicloud/minicloud/internal/lazyregexp"
	"github.com/minicloud/minicloud/internal/service/ec2"
)

// imageError is a boot failure that retrying cannot fix: the image's root
// filesystem cannot be prepared.
type imageError struct{ err error }

func (e *imageError) Error() string { return "image root filesystem: " + e.err.Error() }
func (e *imageError) Unwrap() error { return e.err }

var amiIDRE = lazyregexp.New(`^ami-[0-9a-zA-Z]{1,32}$`)

// imageDir is ImagesDir/<ami-id>, or "" for an ID that is not one.
func (r *Runtime) imageDir(id string) string {
	if r.cfg.ImagesDir == "" || !amiIDRE.MatchString(id) {
		return ""
	}
	return filepath.Join(r.cfg.ImagesDir, id)
}

// builtinRoot is the built-in AMIs' root filesystem (package hostimage),
// built from the host's packages the first time, saying so on progress.
func (r *Runtime) builtinRoot(progress io.Writer) (string, error) {
	ctx, cancel := context.WithTimeout(r.ctx, 5*time.Minute)
	defer cancel()
	return hostimage.Root(ctx, r.cfg.OSImageCache, progress)
}

// imageLowers prepares an image's read-only layers (the built-in image,
// extracting a tarball, copying a CreateImage source's root volume, the
// first time) and returns them top first; progress gets lines for the
// console about a long preparation. Preparations of one image are
// serialized; what they produce is kept (see doc.go).
func (r *Runtime) imageLowers(img ec2.ImageRoot, depth int, progress io.Writer) ([]string, error) {
	if depth > 16 {
		return nil, errors.New("image chain too deep")
	}
	dir := r.imageDir(img.ImageID)
	if img.Kind == "" {
		// The image is no longer known: use what an earlier boot kept.
		b, err := os.ReadFile(filepath.Join(dir, "source.json"))
		if dir == "" || err != nil {
			r.log.Warn("unknown image and nothing kept of it: booting the built-in image", "image", img.ImageID)
			root, err := r.builtinRoot(progress)
			return []string{root}, err
		}
		if err := json.Unmarshal(b, &img); err != nil || img.Kind == "" {
			return nil, fmt.Errorf("%s: bad source.json: %v", img.ImageID, err)
		}
	}
	if img.Kind == ec2.ImageRootHost {
		root, err := r.builtinRoot(progress)
		return []string{root}, err
	}
	if dir == "" {
		return nil, fmt.Errorf("invalid image ID %q", img.ImageID)
	}
	mu := r.imageLock(img.ImageID)
	mu.Lock()
	defer mu.Unlock()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if b, err := json.Marshal(img); err == nil {
		_ = os.WriteFile(filepath.Join(dir, "source.json"), b, 0o600)
	}
	var lowers []string
	switch img.Kind {
	case ec2.ImageRootDir:
		fi, err := os.Stat(img.Path)
		if err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("%s: the image's directory %s is gone", img.ImageID, img.Path)
		}
		lowers = []string{filepath.Clean(img.Path)}
	case ec2.ImageRootTar:
		rootfs := filepath.Join(dir, "rootfs")
		err := r.once(rootfs, func(tmp string) error { return extractTar(img.Path, tmp) })
		if err != nil {
			return nil, fmt.Errorf("%s: extract %s: %w", img.ImageID, img.Path, err)
		}
		lowers = []string{rootfs}
	case ec2.ImageRootSnapshot:
		layer := filepath.Join(dir, "layer")
		err := r.once(layer, func(tmp string) error {
			src := upperDir(r.instanceDir(img.SourceInstanceID))
			if _, err := os.Stat(src); err != nil {
				src = r.volumeDir(img.SourceVolumeID)
			}
			if _, err := os.Stat(src); src == "" || err != nil {
				return fmt.Errorf("the root volume of %s, the image's source instance, is gone", img.SourceInstanceID)
			}
			return copyTree(src, tmp)
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", img.ImageID, err)
		}
		base := ec2.ImageRoot{Kind: ec2.ImageRootHost}
		if img.Base != nil {
			base = *img.Base
		}
		mu.Unlock()
		below, err := r.imageLowers(base, depth+1, progress)
		mu.Lock()
		if err != nil {
			return nil, err
		}
		lowers = append([]string{layer}, below...)
	default:
		return nil, fmt.Errorf("%s: unknown image root kind %q", img.ImageID, img.Kind)
	}
	if img.Kind == ec2.ImageRootDir || img.Kind == ec2.ImageRootTar {
		if !hasShell(lowers[0]) {
			// Not a whole operating system: a layer over the built-in one
			// (an application and its files, as a baked AMI holds them).
			root, err := r.builtinRoot(progress)
			if err != nil {
				return nil, err
			}
			lowers = append(lowers, root)
		}
	}
	for _, l := range lowers {
		if strings.ContainsAny(l, ":,\\") {
			return nil, fmt.Errorf("layer path %q has a character overlayfs options cannot hold", l)
		}
	}
	return lowers, nil
}

// hasShell reports whether a layer holds /bin/sh, following its symlinks
// inside the layer only.
func hasShell(layer string) bool {
	root, err := os.OpenRoot(layer)
	if err != nil {
		return false
	}
	defer root.Close()
	fi, err := root.Stat("bin/sh")
	return err == nil && !fi.IsDir()
}

func (r *Runtime) imageLock(id string) *sync.Mutex {
	r.imgMu.Lock()
	defer r.imgMu.Unlock()
	if r.imgLocks == nil {
		r.imgLocks = map[string]*sync.Mutex{}
	}
	l := r.imgLocks[id]
	if l == nil {
		l = &sync.Mutex{}
		r.imgLocks[id] = l
	}
	return l
}

// once makes dst with fill (into a temporary directory renamed to dst when
// complete) unless dst exists.
func (r *Runtime) once(dst string, fill func(tmp string) error) error {
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	tmp := fmt.Sprintf("%s.tmp-%d", dst, time.Now().UnixNano())
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return err
	}
	if err := fill(tmp); err != nil {
		_ = os.RemoveAll(tmp)
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		_ = os.RemoveAll(tmp)
		return err
	}
	return nil
}

// extractTar extracts a .tar, .tar.gz or .tgz (compression recognised by
// content) into dst through os.Root: no entry can land outside dst, be it
// by "..", an absolute name or a symlink planted by an earlier entry.
// Modes (setuid bits included), owners, symlinks and hard links are kept;
// device nodes, FIFOs and sockets are skipped (the instance's /dev is its
// own).
func extractTar(path, dst string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var in io.Reader = br
	magic, _ := br.Peek(6)
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		gz, err := gzip.NewReader(br)
		if err != nil {
			return err
		}
		defer gz.Close()
		in = gz
	case len(magic) >= 6 && string(magic) == "\xfd7zXZ\x00", len(magic) >= 4 && string(magic[:4]) == "\x28\xb5\x2f\xfd":
		return errors.New("xz and zstd tarballs are not supported: use .tar or .tar.gz")
	}
	root, err := os.OpenRoot(dst)
	if err != nil {
		return err
	}
	defer root.Close()
	type dirTime struct {
		name string
		t    time.Time
	}
	var dirs []dirTime
	tr := tar.NewReader(in)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		name := filepath.Clean(strings.TrimLeft(h.Name, "/"))
		if name == "." || name == ".." || strings.HasPrefix(name, "../") {
			continue
		}
		if dir := filepath.Dir(name); dir != "." {
			if err := root.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("%s: %w", h.Name, err)
			}
		}
		mode := h.FileInfo().Mode()
		switch h.Typeflag {
		case tar.TypeDir:
			if err := root.Mkdir(name, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("%s: %w", h.Name, err)
			}
			dirs = append(dirs, dirTime{name, h.ModTime})
		case tar.TypeReg:
			_ = root.Remove(name)
			w, err := root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				return fmt.Errorf("%s: %w", h.Name, err)
			}
			_, err = io.Copy(w, tr)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("%s: %w", h.Name, err)
			}
		case tar.TypeSymlink:
			_ = root.Remove(name)
			if err := root.Symlink(h.Linkname, name); err != nil {
				return fmt.Errorf("%s: %w", h.Name, err)
			}
			_ = root.Lchown(name, h.Uid, h.Gid)
			continue
		case tar.TypeLink:
			_ = root.Remove(name)
			target := filepath.Clean(strings.TrimLeft(h.Linkname, "/"))
			if err := root.Link(target, name); err != nil {
				return fmt.Errorf("%s: hard link to %s: %w", h.Name, h.Linkname, err)
			}
			continue
		default: // devices, FIFOs, sockets, PAX/GNU specials already handled by the reader
			continue
		}
		if err := root.Lchown(name, h.Uid, h.Gid); err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
		if err := root.Chmod(name, mode&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
		if h.Typeflag == tar.TypeReg {
			_ = root.Chtimes(name, h.ModTime, h.ModTime)
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		_ = root.Chtimes(dirs[i].name, dirs[i].t, dirs[i].t)
	}
	return nil
}

// copyTree copies an overlay upper directory (a root volume) into dst, a
// new empty directory: files, directories, symlinks, owners, modes, times,
// extended attributes (trusted.overlay.opaque marks opaque directories)
// and whiteouts (0/0 character devices), so that dst works as a lower
// layer showing what the source showed. Symlinks are copied, never
// followed; other device nodes, FIFOs and sockets are skipped; hard links
// become separate copies.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		perm := uint32(st.Mode) & 0o7777
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			if rel != "." {
				if err := unix.Mkdir(target, 0o700); err != nil {
					return err
				}
			}
		case unix.S_IFREG:
			if err := copyFile(p, target); err != nil {
				return err
			}
		case unix.S_IFLNK:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := os.Symlink(l, target); err != nil {
				return err
			}
		case unix.S_IFCHR:
			if st.Rdev != 0 {
				return nil
			}
			if err := unix.Mknod(target, unix.S_IFCHR|perm, 0); err != nil {
				return err
			}
		default:
			return nil
		}
		copyXattrs(p, target)
		if err := unix.Lchown(target, int(st.Uid), int(st.Gid)); err != nil {
			return err
		}
		if st.Mode&unix.S_IFMT != unix.S_IFLNK {
			if err := unix.Chmod(target, perm); err != nil {
				return err
			}
		}
		ts := []unix.Timespec{st.Atim, st.Mtim}
		_ = unix.UtimesNanoAt(unix.AT_FDCWD, target, ts, unix.AT_SYMLINK_NOFOLLOW)
		return nil
	})
}

func copyFile(src, dst string) error {
	in, err := os.OpenFile(src, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// copyXattrs copies what extended attributes it can (best effort).
func copyXattrs(src, dst string) {
	buf := make([]byte, 4096)
	n, err := unix.Llistxattr(src, buf)
	if err != nil || n <= 0 {
		return
	}
	for _, name := range strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00") {
		if name == "" {
			continue
		}
		val := make([]byte, 4096)
		m, err := unix.Lgetxattr(src, name, val)
		if err != nil {
			continue
		}
		_ = unix.Lsetxattr(dst, name, val[:m], 0)
	}
}
