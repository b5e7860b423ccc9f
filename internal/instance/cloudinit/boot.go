package cloudinit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// Version is the cloud-init version minicloud reports in the banner lines.
// Tools that wait for boot match "Cloud-init v. <anything> finished", so it
// only has to be one word; it says whose cloud-init this is.
const Version = "24.4-minicloud1"

// Datasource is the datasource name cloud-init reports on EC2 (the local
// IMDS datasource that current Ubuntu and Amazon Linux images use).
const Datasource = "DataSourceEc2Local"

// Paths inside the instance, as cloud-init lays them out.
const (
	cloudDir    = "/var/lib/cloud"
	outputLog   = "/var/log/cloud-init-output.log"
	bootTmpDir  = "/run/cloud-init/tmp"
	defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// ExecFunc runs argv inside the instance with env as its whole environment
// and dir (a path inside the instance) as its working directory, writing
// stdout and stderr to out. exitCode is the command's exit status; err is
// set only when it could not be run at all (not found, not executable).
type ExecFunc func(ctx context.Context, argv []string, env []string, dir string, out io.Writer) (exitCode int, err error)

// Boot is one boot of one instance, as cloud-init sees it. The runtime
// fills it and calls Run on every boot, first boot or not: Run itself
// decides what runs once per instance, once ever or every boot, from the
// semaphores it keeps under Root.
type Boot struct {
	// Root is the host path of the instance's root filesystem.
	Root string
	// InstanceID is the EC2 instance ID (i-…).
	InstanceID string
	// UserData is the instance's user data, already base64-decoded
	// (InstanceSpec.UserData); it may be gzip-compressed.
	UserData []byte
	// Console receives everything cloud-init would print on the serial
	// console; the runtime turns it into GetConsoleOutput. Nil discards.
	Console io.Writer
	// Exec runs a command inside the instance. Required.
	Exec ExecFunc
	// Now is the clock for banner and log timestamps; nil is time.Now.
	Now func() time.Time
	// BootTime is when the instance started booting, for "Up N seconds";
	// zero means when Run was called.
	BootTime time.Time
	// Fetch reads an #include URL other than file://. Nil means the
	// instance has no network path to it, which is what minicloud's
	// offline instances have unless the runtime provides one (for example
	// to minicloud's own S3).
	Fetch func(ctx context.Context, url string) ([]byte, error)
}

// frequency is how often a module runs, in cloud-init's terms.
type frequency int

const (
	always      frequency = iota // every boot
	perInstance                  // once per instance ID
	perOnce                      // once ever, whatever the instance ID
)

// run is the state of one Boot.Run.
type run struct {
	b     *Boot
	ctx   context.Context
	root  *os.Root
	out   *lockedWriter
	now   func() time.Time
	start time.Time
	iid   string
	idir  string // instance-absolute /var/lib/cloud/instances/<id>
	cfg   map[string]any
	parts int // user data parts attached so far, for part-NNN names
}

// Run performs the boot: the four cloud-init stages, then the final
// message. Failures of user data, modules and commands are logged to the
// console and do not stop the boot, as in cloud-init; Run returns an error
// only when it cannot work at all (no root, no instance ID, no Exec) or
// ctx ends.
func (b *Boot) Run(ctx context.Context) error {
	if b.Exec == nil {
		return errors.New("cloudinit: Boot.Exec is nil")
	}
	if !validInstanceID(b.InstanceID) {
		return fmt.Errorf("cloudinit: invalid instance ID %q", b.InstanceID)
	}
	root, err := os.OpenRoot(b.Root)
	if err != nil {
		return fmt.Errorf("cloudinit: open instance root: %w", err)
	}
	defer root.Close()
	r := &run{b: b, ctx: ctx, root: root, now: b.Now, iid: b.InstanceID, cfg: map[string]any{}}
	if r.now == nil {
		r.now = time.Now
	}
	r.start = b.BootTime
	if r.start.IsZero() {
		r.start = r.now()
	}
	r.idir = path.Join(cloudDir, "instances", r.iid)
	console := b.Console
	if console == nil {
		console = io.Discard
	}
	r.out = &lockedWriter{w: console}
	// cloud-init's default output config tees everything to this log.
	if err := root.MkdirAll(rel("/var/log"), 0o755); err == nil {
		if f, err := root.OpenFile(rel(outputLog), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640); err == nil {
			defer f.Close()
			r.out.w = io.MultiWriter(console, f)
		}
	}

	r.banner("init-local")
	if err := r.initLocal(); err != nil {
		r.warn("main.py", "Failed to set up %s: %v", cloudDir, err)
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	r.banner("init")
	r.consumeUserData()
	r.module("bootcmd", always, []string{"bootcmd"}, r.bootcmd)
	r.module("write_files", perInstance, []string{"write_files"}, func() error { return r.writeFiles(false) })
	if err := ctx.Err(); err != nil {
		return err
	}

	r.banner("modules:config")
	r.module("runcmd", perInstance, []string{"runcmd"}, r.runcmd)
	if err := ctx.Err(); err != nil {
		return err
	}

	r.banner("modules:final")
	r.module("package_update_upgrade_install", perInstance, packageKeys, r.packages)
	r.module("write_files_deferred", perInstance, []string{"write_files"}, func() error { return r.writeFiles(true) })
	r.module("scripts_per_once", perOnce, nil, func() error {
		return r.runparts("scripts_per_once", path.Join(cloudDir, "scripts", "per-once"), "per-once")
	})
	r.module("scripts_per_boot", always, nil, func() error {
		return r.runparts("scripts_per_boot", path.Join(cloudDir, "scripts", "per-boot"), "per-boot")
	})
	r.module("scripts_per_instance", perInstance, nil, func() error {
		return r.runparts("scripts_per_instance", path.Join(cloudDir, "scripts", "per-instance"), "per-instance")
	})
	// cloud-init runs the user scripts through the instance symlink; the
	// path shows in its messages.
	r.module("scripts_user", perInstance, nil, func() error { return r.runparts("scripts_user", path.Join(cloudDir, "instance", "scripts"), "scripts") })
	if err := ctx.Err(); err != nil {
		return err
	}
	r.finalMessage()
	return nil
}

// initLocal lays out /var/lib/cloud for this instance, as cloud-init's
// init stage does before consuming any data.
func (r *run) initLocal() error {
	dirs := []string{
		path.Join(cloudDir, "data"),
		path.Join(cloudDir, "handlers"),
		path.Join(cloudDir, "scripts", "per-boot"),
		path.Join(cloudDir, "scripts", "per-instance"),
		path.Join(cloudDir, "scripts", "per-once"),
		path.Join(cloudDir, "scripts", "vendor"),
		path.Join(cloudDir, "seed"),
		path.Join(cloudDir, "sem"),
		path.Join(r.idir, "boothooks"),
		path.Join(r.idir, "data"),
		path.Join(r.idir, "handlers"),
		path.Join(r.idir, "scripts"),
		path.Join(r.idir, "sem"),
	}
	for _, d := range dirs {
		if err := r.root.MkdirAll(rel(d), 0o755); err != nil {
			return err
		}
	}
	link := rel(path.Join(cloudDir, "instance"))
	target := path.Join("instances", r.iid)
	if cur, err := r.root.Readlink(link); err != nil || cur != target {
		if err := r.root.Remove(link); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := r.root.Symlink(target, link); err != nil {
			return err
		}
	}
	idFile := rel(path.Join(cloudDir, "data", "instance-id"))
	prev, err := r.root.ReadFile(idFile)
	if err != nil {
		prev = []byte(r.iid + "\n")
	}
	if err := r.root.WriteFile(rel(path.Join(cloudDir, "data", "previous-instance-id")), prev, 0o644); err != nil {
		return err
	}
	if err := r.root.WriteFile(idFile, []byte(r.iid+"\n"), 0o644); err != nil {
		return err
	}
	ds := Datasource + ": " + Datasource + "\n"
	if err := r.root.WriteFile(rel(path.Join(r.idir, "datasource")), []byte(ds), 0o644); err != nil {
		return err
	}
	return r.root.WriteFile(rel(path.Join(cloudDir, "data", "previous-datasource")), []byte(ds), 0o644)
}

// packageKeys are the keys that activate package_update_upgrade_install.
var packageKeys = []string{"packages", "package_update", "package_upgrade", "apt_update", "apt_upgrade"}

// module runs one cloud-init module at its frequency. A module with keys
// runs only when the config has one of them; since cloud-init 22.1 an
// inactive module is skipped without writing its semaphore
// (activate_by_schema_keys). The semaphore is written before fn runs, as
// cloud-init's FileSemaphores does, so a module that fails is not retried
// on the next boot.
func (r *run) module(name string, freq frequency, keys []string, fn func() error) {
	if r.ctx.Err() != nil {
		return
	}
	if len(keys) > 0 && !r.active(keys...) {
		return
	}
	var sem string
	switch freq {
	case perInstance:
		sem = path.Join(r.idir, "sem", "config_"+name)
	case perOnce:
		sem = path.Join(cloudDir, "sem", "config_"+name+".once")
	}
	if sem != "" {
		if _, err := r.root.Lstat(rel(sem)); err == nil {
			return
		}
		body := fmt.Sprintf("%d: %.6f\n", os.Getpid(), float64(r.now().UnixNano())/1e9)
		if err := r.root.WriteFile(rel(sem), []byte(body), 0o644); err != nil {
			r.warn("helpers.py", "Failed to write semaphore %s: %v", sem, err)
		}
	}
	if err := fn(); err != nil {
		r.warn("util.py", "Running module %s (<module 'cloudinit.config.cc_%s' from '/usr/lib/python3/dist-packages/cloudinit/config/cc_%s.py'>) failed", name, name, name)
	}
}

// runparts runs the executable regular files of dir (inside the instance)
// in lexical order, as cloud-init's subp.runparts does; a failing script
// does not stop the others. module and sub name the caller in its
// warning.
func (r *run) runparts(module, dir, sub string) error {
	f, err := r.root.Open(rel(dir))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		r.warn("cc_"+module+".py", "Failed to run module %s (%s in %s)", module, sub, dir)
		return err
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return err
	}
	slices.Sort(names)
	var failed []string
	attempted := 0
	for _, name := range names {
		if r.ctx.Err() != nil {
			return r.ctx.Err()
		}
		p := path.Join(dir, name)
		fi, err := r.root.Stat(rel(p))
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if fi.Mode().Perm()&0o111 == 0 {
			r.warn("subp.py", "skipping %s as its not executable or the underlying file system is mounted without executable permissions.", p)
			continue
		}
		attempted++
		if !r.exec([]string{p}, nil) {
			failed = append(failed, name)
		}
	}
	if len(failed) > 0 {
		r.warn("cc_"+module+".py", "Failed to run module %s (%s in %s)", module, sub, dir)
		return fmt.Errorf("Runparts: %d failures (%s) in %d attempted commands", len(failed), strings.Join(failed, ","), attempted)
	}
	return nil
}

// exec runs argv in the instance with cloud-init's environment plus extra,
// logging a failure as cloud-init did ("Failed running <cmd> [<code>]");
// it reports whether the command succeeded.
func (r *run) exec(argv []string, extra []string) bool {
	env := append([]string{defaultPath}, extra...)
	if v, ok := os.LookupEnv("AWS_CA_BUNDLE"); ok {
		// minicloud's CA for the AWS SDKs (set by the instance
		// runtime in the init's environment): user data calling AWS
		// trusts the endpoints minicloud serves in the VPC.
		env = append(env, "AWS_CA_BUNDLE="+v)
	}
	code, err := r.b.Exec(r.ctx, argv, env, "/", r.out)
	switch {
	case err != nil:
		r.warn("util.py", "Failed running %s [-]: %v", strings.Join(argv, " "), err)
		return false
	case code != 0:
		r.warn("util.py", "Failed running %s [%d]", strings.Join(argv, " "), code)
		return false
	}
	return true
}

// banner prints the line cloud-init prints when a stage starts.
func (r *run) banner(stage string) {
	now := r.now()
	fmt.Fprintf(r.out, "Cloud-init v. %s running '%s' at %s. Up %s seconds.\n", Version, stage, rfc2822(now), r.uptime(now))
}

// finalMessage prints cloud-init's default final message and writes
// boot-finished, which is what `cloud-init status --wait` and the runtime's
// reachability check can look for.
func (r *run) finalMessage() {
	now := r.now()
	up := r.uptime(now)
	fmt.Fprintf(r.out, "Cloud-init v. %s finished at %s. Datasource %s.  Up %s seconds\n", Version, rfc2822(now), Datasource, up)
	body := fmt.Sprintf("%s - %s - v. %s\n", up, rfc2822(now), Version)
	if err := r.root.WriteFile(rel(path.Join(r.idir, "boot-finished")), []byte(body), 0o644); err != nil {
		r.warn("cc_final_message.py", "Failed to write boot finished file %s", path.Join(r.idir, "boot-finished"))
	}
}

func (r *run) uptime(now time.Time) string {
	d := now.Sub(r.start)
	if d < 0 {
		d = 0
	}
	return fmt.Sprintf("%.2f", d.Seconds())
}

// warn writes one WARNING line in cloud-init's log format
// ("2006-01-02 15:04:05,000 - file.py[WARNING]: message").
func (r *run) warn(file, format string, args ...any) {
	ts := r.now().UTC().Format("2006-01-02 15:04:05.000")
	ts = strings.Replace(ts, ".", ",", 1)
	fmt.Fprintf(r.out, "%s - %s[WARNING]: %s\n", ts, file, fmt.Sprintf(format, args...))
}

// note writes a minicloud explanation in the same format, for the places
// where minicloud differs from a cloud host and the user should know why.
func (r *run) note(format string, args ...any) {
	r.warn("minicloud", format, args...)
}

func rfc2822(t time.Time) string { return t.UTC().Format("Mon, 02 Jan 2006 15:04:05 -0700") }

// rel turns an instance-absolute path into a name for os.Root.
func rel(p string) string {
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	if p == "" {
		return "."
	}
	return p
}

// validInstanceID keeps the ID usable as one path element.
func validInstanceID(id string) bool {
	if id == "" || id == "." || id == ".." || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// lockedWriter serialises writes: commands' stdout and stderr may be
// copied from different goroutines, and log lines interleave with them.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
