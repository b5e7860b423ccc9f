// Package hostimage builds the root filesystem of minicloud's built-in AMIs
// from the host's own installed Debian packages: an operating system image
// with a shell, coreutils, Python, curl and the rest of a small server
// distribution, and nothing of the host that is not a package's file — no
// home directories, no /root, no accounts' passwords, no keys, no state.
//
// Why this and not the host's / (what instances booted on before) nor an
// image downloaded from a Debian mirror: an instance is untrusted, so it
// must see an operating system, not the machine it runs on; the host's
// packages are already here (no network, no download, the same versions
// the host runs, built in about a second), and a package's files are what
// its maintainers meant every machine to have. Files are hard links to the
// host's when the cache is on the same filesystem (no space taken; dpkg
// replaces files by renaming, so an upgrade of the host leaves the image's
// inodes as they were), else copies. The image is only ever a read-only
// lower layer of an overlay: nothing writes through those links.
//
// What an image holds: the host's Essential packages and the packages of
// Packages that are installed, with their dependencies (first installed
// alternative), minus documentation, manuals and translations; the
// symlinks of a merged /usr; /etc/alternatives and the links to it; the CA
// certificates; the linker cache (ldconfig); system accounts only (UIDs
// and GIDs below 1000, and nobody), every password locked; PAM's common
// configuration as pam-auth-update writes it (so sudo and su work); dpkg's status
// for the packages it holds; and the usual empty directories. Images are
// kept under the cache directory, named by a hash of the packages and
// versions they hold and of this builder's version, built once per machine
// (an exclusive lock serializes builders across processes) and published
// by a rename, so a reader never sees half an image.
package hostimage

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Packages are the packages a built-in AMI holds besides the host's
// Essential set, when the host has them installed: what a small server
// and cloud-init style user data expect.
var Packages = []string{
	"base-files", "base-passwd", "bash", "ca-certificates", "coreutils", "curl", "dash", "debianutils",
	"diffutils", "findutils", "gawk", "grep", "gzip", "hostname", "iproute2", "iputils-ping", "less",
	"libc-bin", "login", "mawk", "mount", "ncurses-base", "ncurses-bin", "netbase", "netcat-openbsd",
	"openssl", "passwd", "procps", "python3", "sed", "sudo", "tar", "tzdata", "util-linux", "xz-utils",
	"busybox-static", "busybox", "wget", "nano", "vim-tiny", "file", "psmisc", "iptables", "dnsutils",
	// The AWS CLI, for calling AWS from an instance (package vpcapi).
	"awscli",
	"postgresql-client", "mariadb-client", "socat", "jq", "unzip", "zstd", "nftables",
}

// builderVersion changes when what Build makes changes, so that images of
// an earlier builder are not reused.
const builderVersion = "3"

// skipped are the trees of a package's files an image leaves out, as
// Debian's minimal images do.
var skipped = []string{"/usr/share/doc/", "/usr/share/man/", "/usr/share/info/", "/usr/share/locale/", "/usr/share/lintian/", "/usr/share/linda/"}

// DpkgDir is where dpkg keeps its database (tests point elsewhere).
var DpkgDir = "/var/lib/dpkg"

// ErrNoDpkg is returned on a host without dpkg's database.
var ErrNoDpkg = errors.New("minicloud builds its built-in AMIs from the host's Debian packages, and this host has no dpkg database (" + DpkgDir + "/status): register an AMI from a root filesystem instead (RegisterImage with a directory or tarball as ImageLocation)")

// pkg is one installed package of dpkg's status.
type pkg struct {
	name, arch, version string
	essential           bool
	depends             [][]string // each alternative list, names only
	provides            []string
	stanza              string // as in dpkg's status
}

// Root returns the directory of the built-in image for the host's packages
// now, under cache, building it first if needed (progress lines go to
// progress, which may be nil).
func Root(ctx context.Context, cache string, progress io.Writer) (string, error) {
	if progress == nil {
		progress = io.Discard
	}
	installed, err := readStatus(filepath.Join(DpkgDir, "status"))
	if err != nil {
		return "", err
	}
	set := closure(installed)
	key := imageKey(set)
	dir := filepath.Join(cache, "debian-"+key)
	root := filepath.Join(dir, "rootfs")
	if fi, err := os.Stat(root); err == nil && fi.IsDir() {
		return root, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", fmt.Errorf("hostimage: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(cache, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", fmt.Errorf("hostimage: %w", err)
	}
	defer lock.Close()
	if err := flock(ctx, lock); err != nil {
		return "", err
	}
	if fi, err := os.Stat(root); err == nil && fi.IsDir() {
		return root, nil // built by another process meanwhile
	}
	start := time.Now()
	fmt.Fprintf(progress, "minicloud: building the built-in AMI's root filesystem from this host's %d Debian packages (once per machine)\n", len(set))
	tmp, err := os.MkdirTemp(cache, ".build-")
	if err != nil {
		return "", fmt.Errorf("hostimage: %w", err)
	}
	defer os.RemoveAll(tmp)
	n, err := build(ctx, filepath.Join(tmp, "rootfs"), set, progress)
	if err != nil {
		return "", fmt.Errorf("hostimage: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("hostimage: %w", err)
	}
	if err := os.Rename(filepath.Join(tmp, "rootfs"), root); err != nil {
		return "", fmt.Errorf("hostimage: publish: %w", err)
	}
	fmt.Fprintf(progress, "minicloud: built-in AMI ready: %d files in %s\n", n, time.Since(start).Round(10*time.Millisecond))
	return root, nil
}

// flock takes an exclusive lock on f, giving up when ctx ends.
func flock(ctx context.Context, f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("hostimage: lock: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// readStatus parses dpkg's status file: the installed packages by name.
func readStatus(path string) (map[string]*pkg, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoDpkg
	}
	if err != nil {
		return nil, fmt.Errorf("hostimage: %w", err)
	}
	out := map[string]*pkg{}
	for _, stanza := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n\n") {
		p, ok := parseStanza(stanza)
		if ok {
			out[p.name] = p
		}
	}
	return out, nil
}

// parseStanza reads one package of the status file; ok is false unless it
// is installed.
func parseStanza(stanza string) (*pkg, bool) {
	p := &pkg{stanza: strings.TrimSpace(stanza)}
	installed := false
	for _, line := range strings.Split(stanza, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.HasPrefix(line, " ") {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "Package":
			p.name = v
		case "Architecture":
			p.arch = v
		case "Version":
			p.version = v
		case "Essential":
			p.essential = v == "yes"
		case "Status":
			installed = strings.HasSuffix(v, " installed")
		case "Depends", "Pre-Depends":
			p.depends = append(p.depends, parseDepends(v)...)
		case "Provides":
			for _, alts := range parseDepends(v) {
				p.provides = append(p.provides, alts...)
			}
		}
	}
	return p, installed && p.name != ""
}

// parseDepends turns "a (>= 1) | b, c:any" into [[a b] [c]].
func parseDepends(v string) [][]string {
	var out [][]string
	for _, clause := range strings.Split(v, ",") {
		var alts []string
		for _, alt := range strings.Split(clause, "|") {
			name := strings.TrimSpace(alt)
			if i := strings.IndexAny(name, " (["); i >= 0 {
				name = name[:i]
			}
			name, _, _ = strings.Cut(name, ":")
			if name != "" {
				alts = append(alts, name)
			}
		}
		if len(alts) > 0 {
			out = append(out, alts)
		}
	}
	return out
}

// closure is the packages of an image: the Essential ones and Packages that
// are installed, and everything they depend on (the first installed
// alternative of each clause), sorted by name.
func closure(installed map[string]*pkg) []*pkg {
	seen := map[string]bool{}
	var queue []string
	add := func(name string) {
		if !seen[name] && installed[name] != nil {
			seen[name] = true
			queue = append(queue, name)
		}
	}
	for name, p := range installed {
		if p.essential {
			add(name)
		}
	}
	for _, name := range Packages {
		add(name)
	}
	providers := map[string][]string{} // virtual package → installed packages providing it
	for name, p := range installed {
		for _, v := range p.provides {
			providers[v] = append(providers[v], name)
		}
	}
	for v := range providers {
		slices.Sort(providers[v])
	}
	for len(queue) > 0 {
		p := installed[queue[0]]
		queue = queue[1:]
	clauses:
		for _, alts := range p.depends {
			for _, a := range alts {
				if installed[a] != nil {
					add(a)
					continue clauses
				}
			}
			for _, a := range alts {
				if prov := providers[a]; len(prov) > 0 {
					add(prov[0])
					continue clauses
				}
			}
		}
	}
	out := make([]*pkg, 0, len(seen))
	for name := range seen {
		out = append(out, installed[name])
	}
	slices.SortFunc(out, func(a, b *pkg) int { return strings.Compare(a.name, b.name) })
	return out
}

// imageKey names an image by what it holds and by the builder.
func imageKey(set []*pkg) string {
	h := sha256.New()
	io.WriteString(h, "hostimage "+builderVersion+"\n")
	for _, p := range set {
		fmt.Fprintf(h, "%s:%s=%s\n", p.name, p.arch, p.version)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// build makes the image's tree at root; it returns the number of files.
func build(ctx context.Context, root string, set []*pkg, progress io.Writer) (int, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return 0, err
	}
	// A merged /usr: /bin → usr/bin and the others, as on the host.
	for _, top := range []string{"bin", "sbin", "lib", "lib32", "lib64", "libx32"} {
		if target, err := os.Readlink("/" + top); err == nil && !strings.HasPrefix(target, "/") {
			if err := os.Symlink(target, filepath.Join(root, top)); err != nil {
				return 0, err
			}
		}
	}
	files := 0
	for i, p := range set {
		if err := ctx.Err(); err != nil {
			return files, err
		}
		n, err := addPackage(root, p)
		if err != nil {
			return files, fmt.Errorf("package %s: %w", p.name, err)
		}
		files += n
		if (i+1)%50 == 0 {
			fmt.Fprintf(progress, "minicloud: … %d of %d packages\n", i+1, len(set))
		}
	}
	steps := []func(string, []*pkg) error{addAlternatives, addCertificates, addBytecode, writeAccounts, writePAM, writeDpkgStatus, addSkeleton, runLdconfig}
	for _, step := range steps {
		if err := step(root, set); err != nil {
			return files, err
		}
	}
	return files, nil
}

// listFile is dpkg's list of a package's files.
func listFile(p *pkg) string {
	for _, name := range []string{p.name + ":" + p.arch + ".list", p.name + ".list"} {
		path := filepath.Join(DpkgDir, "info", name)
		if _, err := os.Stat(path); err == nil {
			return path
		}
	}
	return ""
}

// addPackage puts p's files into root; it returns how many.
func addPackage(root string, p *pkg) (int, error) {
	lf := listFile(p)
	if lf == "" {
		return 0, nil // a package without files (metapackages)
	}
	f, err := os.Open(lf)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	s := bufio.NewScanner(f)
	for s.Scan() {
		path := s.Text()
		if path == "" || path == "/." || skip(path) {
			continue
		}
		ok, err := addPath(root, path)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, s.Err()
}

func skip(path string) bool {
	for _, s := range skipped {
		if strings.HasPrefix(path, s) {
			return true
		}
	}
	return false
}

// addPath mirrors one host path into root: a directory, a symlink, or a
// regular file (hard link, else copy); other kinds and missing paths are
// left out. It reports whether a file was added.
func addPath(root, path string) (bool, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return false, nil // removed or diverted on the host
	}
	dst := filepath.Join(root, path)
	if err := ensureParents(root, filepath.Dir(path)); err != nil {
		return false, err
	}
	switch {
	case fi.IsDir():
		if err := os.Mkdir(dst, fi.Mode().Perm()); err != nil && !errors.Is(err, fs.ErrExist) {
			return false, err
		}
		return false, nil
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(path)
		if err != nil {
			return false, err
		}
		if err := os.Symlink(target, dst); err != nil && !errors.Is(err, fs.ErrExist) {
			return false, err
		}
		return true, nil
	case fi.Mode().IsRegular():
		if _, err := os.Lstat(dst); err == nil {
			return false, nil // listed by two packages
		}
		if err := os.Link(path, dst); err == nil {
			return true, nil
		}
		return true, copyFile(path, dst, fi)
	}
	return false, nil
}

// ensureParents makes the directories of dir inside root, with the host's
// modes; a symlink on the way (a merged /usr's /lib64 → usr/lib64) is made
// as on the host, with the directory it leads to.
func ensureParents(root, dir string) error {
	if dir == "/" || dir == "." {
		return nil
	}
	dst := filepath.Join(root, dir)
	if fi, err := os.Stat(dst); err == nil && fi.IsDir() {
		return nil
	}
	if err := ensureParents(root, filepath.Dir(dir)); err != nil {
		return err
	}
	fi, err := os.Lstat(dir)
	if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		target, err := os.Readlink(dir)
		if err != nil {
			return err
		}
		if err := os.Symlink(target, dst); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(dir), target)
		}
		return ensureDir(root, filepath.Clean(target))
	}
	return ensureDir(root, dir)
}

// ensureDir makes directory dir (and its parents) in root with the host's
// mode.
func ensureDir(root, dir string) error {
	if err := ensureParents(root, filepath.Dir(dir)); err != nil {
		return err
	}
	mode := fs.FileMode(0o755)
	if fi, err := os.Stat(dir); err == nil {
		mode = fi.Mode().Perm()
	}
	if err := os.Mkdir(filepath.Join(root, dir), mode); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}

// copyFile copies a regular file with its mode (the image's own: never
// through a link to the host's).
func copyFile(src, dst string, fi fs.FileInfo) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(dst, fi.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky))
}

// addAlternatives copies /etc/alternatives and the links into it whose
// targets the image holds (update-alternatives makes them, not dpkg).
func addAlternatives(root string, _ []*pkg) error {
	ents, err := os.ReadDir("/etc/alternatives")
	if err != nil {
		return nil
	}
	if err := ensureParents(root, "/etc/alternatives/x"); err != nil {
		return err
	}
	for _, e := range ents {
		alt := filepath.Join("/etc/alternatives", e.Name())
		target, err := os.Readlink(alt)
		if err != nil {
			continue
		}
		if _, err := os.Lstat(filepath.Join(root, target)); err != nil {
			continue // its target is not in the image
		}
		_ = os.Symlink(target, filepath.Join(root, alt))
	}
	for _, dir := range []string{"/usr/bin", "/usr/sbin", "/usr/share/man"} {
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			p := filepath.Join(dir, e.Name())
			target, err := os.Readlink(p)
			if err != nil || !strings.HasPrefix(target, "/etc/alternatives/") {
				continue
			}
			if _, err := os.Lstat(filepath.Join(root, target)); err != nil {
				continue
			}
			if _, err := os.Lstat(filepath.Join(root, p)); err == nil {
				continue
			}
			_ = os.Symlink(target, filepath.Join(root, p))
		}
	}
	return nil
}

// addCertificates copies the CA certificates' directory, which
// update-ca-certificates makes: public certificates only.
func addCertificates(root string, _ []*pkg) error {
	const dir = "/etc/ssl/certs"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	if err := ensureParents(root, dir+"/x"); err != nil {
		return err
	}
	for _, e := range ents {
		if _, err := addPath(root, filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// addBytecode copies the host's compiled Python modules (__pycache__,
// which Debian's py3compile makes at install time, not dpkg) into the
// directories of the image that hold Python: without them every start of
// python3 in an instance would compile its standard library again, a third
// of a second, and write the bytecode into the instance's root volume.
func addBytecode(root string, _ []*pkg) error {
	dirs, _ := filepath.Glob("/usr/lib/python3*")
	for _, top := range dirs {
		err := filepath.WalkDir(top, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() || d.Name() != "__pycache__" {
				return nil
			}
			parent := filepath.Join(root, filepath.Dir(path))
			if fi, err := os.Stat(parent); err != nil || !fi.IsDir() {
				return fs.SkipDir // its package is not in the image
			}
			ents, err := os.ReadDir(path)
			if err != nil {
				return fs.SkipDir
			}
			for _, e := range ents {
				// A module's bytecode only when the image has the module.
				mod, _, _ := strings.Cut(e.Name(), ".")
				if _, err := os.Lstat(filepath.Join(filepath.Dir(path), mod+".py")); err == nil {
					if _, err := os.Lstat(filepath.Join(parent, mod+".py")); err != nil {
						continue
					}
				}
				if _, err := addPath(root, filepath.Join(path, e.Name())); err != nil {
					return err
				}
			}
			return fs.SkipDir
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// writeAccounts writes the system accounts of the host (IDs below 1000, and
// nobody/nogroup) with every password locked: no user of the host, no
// password hash.
func writeAccounts(root string, _ []*pkg) error {
	system := func(id string) bool {
		n, err := strconv.Atoi(id)
		return err == nil && (n < 1000 || n == 65534)
	}
	read := func(path string, idField int) []string {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		var out []string
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Split(line, ":")
			if len(f) > idField && system(f[idField]) {
				out = append(out, line)
			}
		}
		return out
	}
	passwd := read("/etc/passwd", 2)
	group := read("/etc/group", 2)
	if len(passwd) == 0 {
		passwd = []string{"root:x:0:0:root:/root:/bin/bash", "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin"}
	}
	if len(group) == 0 {
		group = []string{"root:x:0:", "nogroup:x:65534:"}
	}
	var shadow, gshadow []string
	for _, l := range passwd {
		shadow = append(shadow, strings.SplitN(l, ":", 2)[0]+":*:19000:0:99999:7:::")
	}
	for _, l := range group {
		f := strings.Split(l, ":")
		gshadow = append(gshadow, f[0]+":*::"+f[len(f)-1])
	}
	for _, f := range []struct {
		name  string
		lines []string
		mode  fs.FileMode
	}{{"passwd", passwd, 0o644}, {"group", group, 0o644}, {"shadow", shadow, 0o640}, {"gshadow", gshadow, 0o640}} {
		p := filepath.Join(root, "etc", f.name)
		_ = os.Remove(p) // a package's copy (base-passwd's templates live in /usr)
		if err := os.WriteFile(p, []byte(strings.Join(f.lines, "\n")+"\n"), f.mode); err != nil {
			return err
		}
	}
	return nil
}

// pamCommon is what Debian's pam-auth-update writes into /etc/pam.d with
// the one profile every image has (libpam-runtime's unix): the files are
// made at install, not shipped by a package, and sudo, su and login
// include them.
var pamCommon = map[string]string{
	"common-auth": "auth\t[success=1 default=ignore]\tpam_unix.so nullok\nauth\trequisite\t\t\tpam_deny.so\nauth\trequired\t\t\tpam_permit.so\n",
	"common-account": "account\t[success=1 new_authtok_reqd=done default=ignore]\tpam_unix.so\naccount\trequisite\t\t\tpam_deny.so\n" +
		"account\trequired\t\t\tpam_permit.so\n",
	"common-password": "password\t[success=1 default=ignore]\tpam_unix.so obscure yescrypt\npassword\trequisite\t\t\tpam_deny.so\n" +
		"password\trequired\t\t\tpam_permit.so\n",
	"common-session": "session\t[default=1]\t\t\tpam_permit.so\nsession\trequisite\t\t\tpam_deny.so\nsession\trequired\t\t\tpam_permit.so\n" +
		"session\trequired\tpam_unix.so\n",
	"common-session-noninteractive": "session\t[default=1]\t\t\tpam_permit.so\nsession\trequisite\t\t\tpam_deny.so\n" +
		"session\trequired\t\t\tpam_permit.so\nsession\trequired\tpam_unix.so\n",
}

// writePAM writes PAM's common configuration (pamCommon) into an image
// with PAM's unix profile, as installing libpam-runtime does.
func writePAM(root string, _ []*pkg) error {
	if _, err := os.Stat(filepath.Join(root, "usr/share/pam-configs/unix")); err != nil {
		return nil // no PAM in the image
	}
	dir := filepath.Join(root, "etc/pam.d")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, content := range pamCommon {
		p := filepath.Join(dir, name)
		_ = os.Remove(p) // never write through a link to the host's file
		if err := os.WriteFile(p, []byte("# Written as pam-auth-update does (profile: unix).\n"+content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// writeDpkgStatus records the image's packages, so dpkg -l lists them.
func writeDpkgStatus(root string, set []*pkg) error {
	dir := filepath.Join(root, DpkgDir)
	if err := os.MkdirAll(filepath.Join(dir, "info"), 0o755); err != nil {
		return err
	}
	var b bytes.Buffer
	for _, p := range set {
		b.WriteString(p.stanza)
		b.WriteString("\n\n")
	}
	for _, f := range []string{"available", "diversions", "statoverride"} {
		_ = os.WriteFile(filepath.Join(dir, f), nil, 0o644)
	}
	return os.WriteFile(filepath.Join(dir, "status"), b.Bytes(), 0o644)
}

// addSkeleton makes the directories an operating system expects.
func addSkeleton(root string, _ []*pkg) error {
	for _, d := range []struct {
		path string
		mode fs.FileMode
	}{
		{"root", 0o700}, {"home", 0o755}, {"tmp", 0o1777}, {"var/tmp", 0o1777}, {"var/log", 0o755},
		{"var/cache", 0o755}, {"var/lib", 0o755}, {"var/spool", 0o755}, {"run", 0o755}, {"mnt", 0o755},
		{"proc", 0o555}, {"sys", 0o555}, {"dev", 0o755}, {"srv", 0o755}, {"opt", 0o755}, {"media", 0o755},
		{"usr/local/bin", 0o755}, {"usr/local/sbin", 0o755}, {"usr/local/lib", 0o755}, {"usr/local/share", 0o755}, {"etc", 0o755},
	} {
		p := filepath.Join(root, d.path)
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
		if err := os.Chmod(p, d.mode); err != nil {
			return err
		}
	}
	_ = os.Symlink("/run", filepath.Join(root, "var/run"))
	return nil
}

// runLdconfig builds the image's linker cache.
func runLdconfig(root string, _ []*pkg) error {
	ldconfig := "/sbin/ldconfig"
	if _, err := os.Stat(ldconfig); err != nil {
		return nil
	}
	if out, err := exec.Command(ldconfig, "-r", root).CombinedOutput(); err != nil {
		return fmt.Errorf("ldconfig: %v: %s", err, out)
	}
	return nil
}
