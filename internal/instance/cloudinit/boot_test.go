package cloudinit

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// hostExec is the tests' stand-in for the runtime's Exec. The runtime runs
// commands inside the instance, chrooted to its root; the tests run
// unprivileged, so they run commands on the host instead, with the working
// directory at the instance's root and the instance paths cloud-init
// passes as arguments (/var/lib/cloud/…, /run/cloud-init/…) mapped to
// their host paths. Test scripts therefore work relative to $PWD, which is
// the instance's "/". /bin/sh is the host's.
func hostExec(root string) ExecFunc {
	return func(ctx context.Context, argv, env []string, dir string, out io.Writer) (int, error) {
		args := slices.Clone(argv)
		for i, a := range args {
			if strings.HasPrefix(a, "/var/lib/cloud/") || strings.HasPrefix(a, "/run/cloud-init/") {
				args[i] = filepath.Join(root, a)
			}
		}
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Env = env
		cmd.Dir = filepath.Join(root, dir)
		cmd.Stdout, cmd.Stderr = out, out
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), nil
		}
		if err != nil {
			return -1, err
		}
		return 0, nil
	}
}

// clock starts at a fixed time and advances 250ms per reading, so banner
// uptimes are deterministic.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t
	c.t = c.t.Add(250 * time.Millisecond)
	return t
}

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// boot runs one boot of iid with ud over root and returns the console.
func boot(t *testing.T, root, iid string, ud []byte) string {
	t.Helper()
	var console bytes.Buffer
	c := &clock{t: t0}
	b := &Boot{Root: root, InstanceID: iid, UserData: ud, Console: &console, Exec: hostExec(root), Now: c.now, BootTime: t0.Add(-5 * time.Second)}
	if err := b.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v\nconsole:\n%s", err, console.String())
	}
	return console.String()
}

func read(t *testing.T, root, p string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, p))
	if err != nil {
		t.Fatalf("read %s: %v", p, err)
	}
	return string(b)
}

func lines(t *testing.T, root, p string) []string {
	t.Helper()
	s := strings.TrimSpace(read(t, root, p))
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func exists(root, p string) bool {
	_, err := os.Lstat(filepath.Join(root, p))
	return err == nil
}

func mustContain(t *testing.T, console string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(console, w) {
			t.Errorf("console lacks %q\nconsole:\n%s", w, console)
		}
	}
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestBannerLines(t *testing.T) {
	root := t.TempDir()
	var buf bytes.Buffer
	b := &Boot{Root: root, InstanceID: "i-0123456789abcdef0", Console: &buf, Exec: hostExec(root),
		Now: func() time.Time { return t0 }, BootTime: t0.Add(-5250 * time.Millisecond)}
	if err := b.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	console := buf.String()
	want := []string{
		"Cloud-init v. " + Version + " running 'init-local' at Wed, 01 May 2024 12:00:00 +0000. Up 5.25 seconds.",
		"Cloud-init v. " + Version + " running 'init' at Wed, 01 May 2024 12:00:00 +0000. Up 5.25 seconds.",
		"Cloud-init v. " + Version + " running 'modules:config' at Wed, 01 May 2024 12:00:00 +0000. Up 5.25 seconds.",
		"Cloud-init v. " + Version + " running 'modules:final' at Wed, 01 May 2024 12:00:00 +0000. Up 5.25 seconds.",
		"Cloud-init v. " + Version + " finished at Wed, 01 May 2024 12:00:00 +0000. Datasource DataSourceEc2Local.  Up 5.25 seconds",
	}
	if got := strings.Split(strings.TrimSpace(console), "\n"); !slices.Equal(got, want) {
		t.Errorf("console:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The same output is in the instance's cloud-init-output.log.
	if got := read(t, root, "var/log/cloud-init-output.log"); got != console {
		t.Errorf("cloud-init-output.log = %q, want the console", got)
	}
	if got := read(t, root, "var/lib/cloud/instances/i-0123456789abcdef0/boot-finished"); got != "5.25 - Wed, 01 May 2024 12:00:00 +0000 - v. "+Version+"\n" {
		t.Errorf("boot-finished = %q", got)
	}
}

func TestLayout(t *testing.T) {
	root := t.TempDir()
	boot(t, root, "i-aaa", []byte("#!/bin/sh\necho hi\n"))
	if l, err := os.Readlink(filepath.Join(root, "var/lib/cloud/instance")); err != nil || l != "instances/i-aaa" {
		t.Errorf("instance link = %q, %v", l, err)
	}
	if got := read(t, root, "var/lib/cloud/data/instance-id"); got != "i-aaa\n" {
		t.Errorf("instance-id = %q", got)
	}
	if got := read(t, root, "var/lib/cloud/instance/user-data.txt"); got != "#!/bin/sh\necho hi\n" {
		t.Errorf("user-data.txt = %q", got)
	}
	fi, err := os.Stat(filepath.Join(root, "var/lib/cloud/instance/scripts/part-001"))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("part-001: %v %v", fi, err)
	}
	for _, sem := range []string{"config_scripts_user", "config_scripts_per_instance"} {
		if !exists(root, "var/lib/cloud/instances/i-aaa/sem/"+sem) {
			t.Errorf("semaphore %s missing", sem)
		}
	}
	// Modules whose keys are absent write no semaphore.
	if exists(root, "var/lib/cloud/instances/i-aaa/sem/config_runcmd") {
		t.Error("config_runcmd written without runcmd")
	}
	boot(t, root, "i-bbb", nil)
	if l, _ := os.Readlink(filepath.Join(root, "var/lib/cloud/instance")); l != "instances/i-bbb" {
		t.Errorf("instance link after new ID = %q", l)
	}
	if got := read(t, root, "var/lib/cloud/data/previous-instance-id"); got != "i-aaa\n" {
		t.Errorf("previous-instance-id = %q", got)
	}
}

func TestScriptRunsOncePerInstance(t *testing.T) {
	root := t.TempDir()
	ud := []byte("#!/bin/sh\necho \"user script $0\"\necho ran >> ran.log\n")
	c1 := boot(t, root, "i-1", ud)
	c2 := boot(t, root, "i-1", ud)
	if got := lines(t, root, "ran.log"); len(got) != 1 {
		t.Errorf("after two boots ran %d times", len(got))
	}
	mustContain(t, c1, "user script ")
	if strings.Contains(c2, "user script") {
		t.Errorf("second boot ran the script:\n%s", c2)
	}
	// A new instance ID over the same root (an AMI made from this one) is
	// a new instance: per-instance work runs again.
	boot(t, root, "i-2", ud)
	if got := lines(t, root, "ran.log"); len(got) != 2 {
		t.Errorf("new instance: ran %d times in total, want 2", len(got))
	}
}

func TestScriptDirectories(t *testing.T) {
	root := t.TempDir()
	script := func(dir, name, body string, mode os.FileMode) {
		p := filepath.Join(root, "var/lib/cloud/scripts", dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	script("per-boot", "20-second", "#!/bin/sh\necho boot-20 >> order.log\n", 0o755)
	script("per-boot", "10-first", "#!/bin/sh\necho boot-10 >> order.log\n", 0o755)
	script("per-boot", "30-notexec", "#!/bin/sh\necho notexec >> order.log\n", 0o644)
	script("per-instance", "a", "#!/bin/sh\necho instance >> order.log\n", 0o755)
	script("per-once", "a", "#!/bin/sh\necho once >> order.log\n", 0o755)

	c := boot(t, root, "i-1", nil)
	mustContain(t, c, "subp.py[WARNING]: skipping /var/lib/cloud/scripts/per-boot/30-notexec as its not executable")
	want := []string{"once", "boot-10", "boot-20", "instance"}
	if got := lines(t, root, "order.log"); !slices.Equal(got, want) {
		t.Errorf("first boot order %q, want %q", got, want)
	}
	boot(t, root, "i-1", nil)
	want = append(want, "boot-10", "boot-20")
	if got := lines(t, root, "order.log"); !slices.Equal(got, want) {
		t.Errorf("second boot order %q, want %q", got, want)
	}
	boot(t, root, "i-2", nil)
	want = append(want, "boot-10", "boot-20", "instance")
	if got := lines(t, root, "order.log"); !slices.Equal(got, want) {
		t.Errorf("new instance order %q, want %q", got, want)
	}
}

func TestBootcmdEveryBoot(t *testing.T) {
	root := t.TempDir()
	ud := []byte(`#cloud-config
bootcmd:
  - echo "boot $INSTANCE_ID" >> boot.log
  - [sh, -c, "echo argv >> boot.log"]
runcmd:
  - test -f boot.log && echo "runcmd saw bootcmd" >> boot.log
`)
	boot(t, root, "i-1", ud)
	boot(t, root, "i-1", ud)
	want := []string{"boot i-1", "argv", "runcmd saw bootcmd", "boot i-1", "argv"}
	if got := lines(t, root, "boot.log"); !slices.Equal(got, want) {
		t.Errorf("boot.log %q, want %q", got, want)
	}
	ents, _ := os.ReadDir(filepath.Join(root, "run/cloud-init/tmp"))
	if len(ents) != 0 {
		t.Errorf("bootcmd temp files left: %v", ents)
	}
}

func TestRuncmd(t *testing.T) {
	root := t.TempDir()
	ud := []byte(`#cloud-config
runcmd:
  - echo "string form" > a.txt
  - [sh, -c, "echo \"argv form, it's quoted\" > b.txt"]
  - [touch, 42]
`)
	boot(t, root, "i-1", ud)
	if got := read(t, root, "a.txt"); got != "string form\n" {
		t.Errorf("a.txt = %q", got)
	}
	if got := read(t, root, "b.txt"); got != "argv form, it's quoted\n" {
		t.Errorf("b.txt = %q", got)
	}
	if !exists(root, "42") {
		t.Error("numeric argv word not passed")
	}
	want := "#!/bin/sh\n" +
		"echo \"string form\" > a.txt\n" +
		`'sh' '-c' 'echo "argv form, it'\''s quoted" > b.txt'` + "\n" +
		"'touch' '42'\n"
	if got := read(t, root, "var/lib/cloud/instances/i-1/scripts/runcmd"); got != want {
		t.Errorf("runcmd script:\n%s\nwant:\n%s", got, want)
	}
	// Once per instance.
	os.Remove(filepath.Join(root, "a.txt"))
	boot(t, root, "i-1", ud)
	if exists(root, "a.txt") {
		t.Error("runcmd ran again on the second boot")
	}
}

func TestWriteFiles(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString([]byte("decoded\n"))
	gzb64 := base64.StdEncoding.EncodeToString(gz(t, []byte("unzipped\n")))
	cases := []struct {
		name    string
		entry   string // one write_files item, indented by 2
		path    string
		want    string
		mode    os.FileMode
		console string // a line the console must show
		absent  bool   // the file must not exist
	}{
		{name: "plain default mode", entry: "path: /etc/plain.conf\n    content: hello\n", path: "etc/plain.conf", want: "hello", mode: 0o644},
		{name: "string permissions", entry: "path: /etc/secret\n    content: s3cret\n    permissions: '0600'\n", path: "etc/secret", want: "s3cret", mode: 0o600},
		{name: "yaml octal permissions", entry: "path: /usr/local/bin/tool\n    content: \"#!/bin/sh\\n\"\n    permissions: 0755\n", path: "usr/local/bin/tool", want: "#!/bin/sh\n", mode: 0o755},
		{name: "base64", entry: "path: /b64\n    encoding: b64\n    content: " + b64 + "\n", path: "b64", want: "decoded\n", mode: 0o644},
		{name: "base64 long name", entry: "path: /base64\n    encoding: base64\n    content: |\n      " + b64[:8] + "\n      " + b64[8:] + "\n", path: "base64", want: "decoded\n", mode: 0o644},
		{name: "gzip+base64", entry: "path: /gz\n    encoding: gz+b64\n    content: " + gzb64 + "\n", path: "gz", want: "unzipped\n", mode: 0o644},
		{name: "relative path is under /", entry: "path: rel/file\n    content: x\n", path: "rel/file", want: "x", mode: 0o644},
		{name: "bad permissions fall back", entry: "path: /badperm\n    content: x\n    permissions: rwx\n", path: "badperm", want: "x", mode: 0o644,
			console: "util.py[WARNING]: Undecodable permissions 'rwx', returning default 644"},
		{name: "unknown encoding is text", entry: "path: /enc\n    content: x\n    encoding: rot13\n", path: "enc", want: "x", mode: 0o644,
			console: "util.py[WARNING]: Unknown encoding type rot13, assuming text/plain"},
		{name: "dotdot rejected", entry: "path: /../../../outside\n    content: x\n", path: "outside", absent: true,
			console: "minicloud[WARNING]: refusing to write /../../../outside (write_files entry 1)"},
		{name: "no path", entry: "content: x\n", absent: true,
			console: "cc_write_files.py[WARNING]: No path provided to write for entry 1 in module write_files"},
		{name: "unknown owner", entry: "path: /owned\n    content: x\n    owner: nobody:nogroup\n", path: "owned", want: "x", mode: 0o644,
			console: "Failed to change ownership of /owned to nobody:nogroup: getpwnam(): name not found: 'nobody'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			root := filepath.Join(parent, "root")
			if err := os.Mkdir(root, 0o755); err != nil {
				t.Fatal(err)
			}
			console := boot(t, root, "i-1", []byte("#cloud-config\nwrite_files:\n  - "+tc.entry))
			if tc.console != "" {
				mustContain(t, console, tc.console)
			}
			if tc.absent {
				if tc.path != "" && (exists(root, tc.path) || exists(parent, tc.path)) {
					t.Errorf("%s was written", tc.path)
				}
				return
			}
			if got := read(t, root, tc.path); got != tc.want {
				t.Errorf("content %q, want %q", got, tc.want)
			}
			fi, err := os.Stat(filepath.Join(root, tc.path))
			if err != nil || fi.Mode().Perm() != tc.mode {
				t.Errorf("mode %v (%v), want %v", fi.Mode().Perm(), err, tc.mode)
			}
		})
	}
}

func TestWriteFilesAppendDeferAndOrder(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/hosts"), []byte("127.0.0.1 localhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ud := []byte(`#cloud-config
write_files:
  - path: /etc/hosts
    content: "10.0.0.5 db\n"
    append: true
  - path: /opt/app/run.sh
    permissions: '0755'
    content: |
      #!/bin/sh
      echo from-written-file >> order.log
  - path: /late
    content: deferred
    defer: true
runcmd:
  - test -f late && echo "late exists" >> order.log || echo "late missing" >> order.log
  - [./opt/app/run.sh]
`)
	boot(t, root, "i-1", ud)
	if got := read(t, root, "etc/hosts"); got != "127.0.0.1 localhost\n10.0.0.5 db\n" {
		t.Errorf("appended hosts = %q", got)
	}
	// write_files runs before runcmd; deferred files are written in the
	// final stage, before the user scripts.
	if got := lines(t, root, "order.log"); !slices.Equal(got, []string{"late exists", "from-written-file"}) {
		t.Errorf("order.log = %q", got)
	}
	// Once per instance: a second boot does not append again.
	boot(t, root, "i-1", ud)
	if got := read(t, root, "etc/hosts"); got != "127.0.0.1 localhost\n10.0.0.5 db\n" {
		t.Errorf("hosts after second boot = %q", got)
	}
}

// A symlink in the image that points outside the root must not let
// write_files write on the host.
func TestWriteFilesSymlinkEscape(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "root")
	outside := filepath.Join(parent, "outside")
	for _, d := range []string{root, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(root, "etc")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../outside", filepath.Join(root, "opt")); err != nil {
		t.Fatal(err)
	}
	console := boot(t, root, "i-1", []byte("#cloud-config\nwrite_files:\n  - path: /etc/x\n    content: x\n  - path: /opt/y\n    content: y\n"))
	ents, _ := os.ReadDir(outside)
	if len(ents) != 0 {
		t.Errorf("files written outside the root: %v", ents)
	}
	mustContain(t, console, "cc_write_files.py[WARNING]: Failed to write /etc/x", "cc_write_files.py[WARNING]: Failed to write /opt/y",
		"util.py[WARNING]: Running module write_files")
}

func TestMultipart(t *testing.T) {
	root := t.TempDir()
	script := "#!/bin/sh\necho \"script part\" >> order.log\n"
	ud := "Content-Type: multipart/mixed; boundary=\"==BOUNDARY==\"\n" +
		"MIME-Version: 1.0\n\n" +
		"--==BOUNDARY==\n" +
		"Content-Type: text/cloud-config; charset=\"us-ascii\"\n\n" +
		"#cloud-config\nruncmd:\n  - echo runcmd >> order.log\n" +
		"write_files:\n  - path: /from-config\n    content: cfg\n" +
		"\n--==BOUNDARY==\n" +
		"Content-Type: text/x-shellscript; charset=\"us-ascii\"\n" +
		"Content-Transfer-Encoding: base64\n\n" +
		base64.StdEncoding.EncodeToString([]byte(script)) + "\n" +
		"--==BOUNDARY==\n" +
		"Content-Type: text/x-shellscript-per-boot\n" +
		"Content-Disposition: attachment; filename=\"every-boot.sh\"\n\n" +
		"#!/bin/sh\necho per-boot >> order.log\n" +
		"\n--==BOUNDARY==--\n"
	boot(t, root, "i-1", []byte(ud))
	if got := read(t, root, "from-config"); got != "cfg" {
		t.Errorf("from-config = %q", got)
	}
	// Parts are numbered in order (the cloud-config part is part-001), and
	// scripts_user runs part-002 before runcmd (lexical order).
	if !exists(root, "var/lib/cloud/instances/i-1/scripts/part-002") {
		t.Error("script part not saved as part-002")
	}
	want := []string{"per-boot", "script part", "runcmd"}
	if got := lines(t, root, "order.log"); !slices.Equal(got, want) {
		t.Errorf("order.log = %q, want %q", got, want)
	}
	if !exists(root, "var/lib/cloud/scripts/per-boot/every-boot.sh") {
		t.Error("per-boot part not saved under its filename")
	}
	if got := read(t, root, "var/lib/cloud/instance/cloud-config.txt"); !strings.HasPrefix(got, "#cloud-config\n") || !strings.Contains(got, "runcmd") {
		t.Errorf("cloud-config.txt = %q", got)
	}
}

func TestMultipartConfigMerge(t *testing.T) {
	root := t.TempDir()
	ud := "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n\n" +
		"--XX\nContent-Type: text/cloud-config\n\n#cloud-config\nruncmd: [echo first >> r.log]\nwrite_files: [{path: /one, content: '1'}]\n" +
		"--XX\nContent-Type: text/cloud-config\n\n#cloud-config\nruncmd: [echo second >> r.log]\n" +
		"--XX--\n"
	boot(t, root, "i-1", []byte(ud))
	// A later part's key replaces the earlier one's (cloud-init's default
	// merge); keys only in the earlier part stay.
	if got := lines(t, root, "r.log"); !slices.Equal(got, []string{"second"}) {
		t.Errorf("r.log = %q", got)
	}
	if !exists(root, "one") {
		t.Error("write_files of the first part lost")
	}
}

func TestGzipUserData(t *testing.T) {
	for _, tc := range []struct{ name, ud string }{
		{"script", "#!/bin/sh\necho gz >> gz.log\n"},
		{"cloud-config", "#cloud-config\nruncmd:\n  - echo gz >> gz.log\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			boot(t, root, "i-1", gz(t, []byte(tc.ud)))
			if got := lines(t, root, "gz.log"); !slices.Equal(got, []string{"gz"}) {
				t.Errorf("gz.log = %q", got)
			}
		})
	}
}

func TestInclude(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "inc.sh"), []byte("#!/bin/sh\necho included >> inc.log\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	console := boot(t, root, "i-1", []byte("#include\n# a comment\nfile:///inc.sh\nhttp://example.com/ud.sh\n"))
	if got := lines(t, root, "inc.log"); !slices.Equal(got, []string{"included"}) {
		t.Errorf("inc.log = %q", got)
	}
	mustContain(t, console, "user_data.py[WARNING]: Fetching from http://example.com/ud.sh resulted in [Errno 101] Network is unreachable")
}

func TestUnknownFormat(t *testing.T) {
	root := t.TempDir()
	console := boot(t, root, "i-1", []byte("hello world, this is not a script\nsecond line\n"))
	mustContain(t, console, "__init__.py[WARNING]: Unhandled non-multipart (text/x-not-multipart) userdata: 'b'hello world, this is not'...'")
	ents, _ := os.ReadDir(filepath.Join(root, "var/lib/cloud/instances/i-1/scripts"))
	if len(ents) != 0 {
		t.Errorf("scripts saved for unknown data: %v", ents)
	}
	mustContain(t, console, "finished at")
}

func TestFailuresAreLoggedAndBootContinues(t *testing.T) {
	root := t.TempDir()
	ud := "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n\n" +
		"--XX\nContent-Type: text/x-shellscript\n\n#!/bin/sh\necho failing; exit 3\n" +
		"--XX\nContent-Type: text/cloud-config\n\n#cloud-config\nbootcmd: [exit 7]\nruncmd: [echo still-ran > ok]\n" +
		"--XX--\n"
	console := boot(t, root, "i-1", []byte(ud))
	if got := read(t, root, "ok"); got != "still-ran\n" {
		t.Errorf("runcmd after a failing script: %q", got)
	}
	mustContain(t, console,
		"util.py[WARNING]: Failed running /bin/sh /run/cloud-init/tmp/tmp",
		".sh [7]\n",
		"cc_bootcmd.py[WARNING]: Failed to run bootcmd module bootcmd",
		"util.py[WARNING]: Running module bootcmd (<module 'cloudinit.config.cc_bootcmd' from '/usr/lib/python3/dist-packages/cloudinit/config/cc_bootcmd.py'>) failed",
		"failing\n",
		"util.py[WARNING]: Failed running /var/lib/cloud/instance/scripts/part-001 [3]",
		"cc_scripts_user.py[WARNING]: Failed to run module scripts_user (scripts in /var/lib/cloud/instance/scripts)",
		"util.py[WARNING]: Running module scripts_user (<module 'cloudinit.config.cc_scripts_user' from '/usr/lib/python3/dist-packages/cloudinit/config/cc_scripts_user.py'>) failed",
		"Datasource DataSourceEc2Local.  Up ",
	)
	// Log lines carry cloud-init's timestamp format.
	mustContain(t, console, "2024-05-01 12:00:0")
	// The failed module is not retried on the next boot (its semaphore was
	// written before it ran).
	c2 := boot(t, root, "i-1", []byte(ud))
	if strings.Contains(c2, "failing") {
		t.Error("failed user script ran again on the second boot")
	}
}

func TestPackagesOffline(t *testing.T) {
	root := t.TempDir()
	console := boot(t, root, "i-1", []byte("#cloud-config\npackage_update: true\npackages:\n  - nginx\n  - [git, '1:2.34']\nruncmd: [touch after]\n"))
	mustContain(t, console,
		"minicloud[WARNING]: packages cannot be installed or updated: minicloud instances are offline",
		"cc_package_update_upgrade_install.py[WARNING]: Package update failed",
		"cc_package_update_upgrade_install.py[WARNING]: Failed to install packages: ['nginx', ['git', '1:2.34']]",
		"cc_package_update_upgrade_install.py[WARNING]: 2 failed with exceptions, re-raising",
		"util.py[WARNING]: Running module package_update_upgrade_install",
	)
	if !exists(root, "after") {
		t.Error("boot stopped after the packages failure")
	}
}

func TestBoothook(t *testing.T) {
	root := t.TempDir()
	ud := []byte("#cloud-boothook\n#!/bin/sh\necho \"hook $INSTANCE_ID\" >> hook.log\n")
	boot(t, root, "i-1", ud)
	boot(t, root, "i-1", ud)
	if got := lines(t, root, "hook.log"); !slices.Equal(got, []string{"hook i-1", "hook i-1"}) {
		t.Errorf("hook.log = %q", got)
	}
}

func TestRunErrors(t *testing.T) {
	root := t.TempDir()
	ex := hostExec(root)
	for _, b := range []*Boot{
		{Root: root, InstanceID: "i-1"},
		{Root: root, InstanceID: "../x", Exec: ex},
		{Root: filepath.Join(root, "missing"), InstanceID: "i-1", Exec: ex},
	} {
		if err := b.Run(context.Background()); err == nil {
			t.Errorf("Run(%+v) succeeded", b)
		}
	}
}

func TestPyEscapedRepr(t *testing.T) {
	for in, want := range map[string]string{
		"hello":     `b'hello'`,
		"it's":      `b"it's"`,
		`"it's"`:    `b'"it\'s"'`,
		`back\s`:    `b'back\\\\s'`,
		"caf\u00e9": `b'caf\\xe9'`,
		"tab\there": `b'tab\\there'`,
	} {
		if got := pyEscapedRepr(in); got != want {
			t.Errorf("pyEscapedRepr(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestWriteFilesOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown needs root; the owner is still resolved (see TestWriteFiles)")
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\napp:x:1001:1001::/home/app:/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\nweb:x:1500:\n"), 0o644)
	boot(t, root, "i-1", []byte("#cloud-config\nwrite_files:\n  - {path: /home/app/a, content: x, owner: 'app:web'}\n  - {path: /home/app/b, content: x, owner: app}\n"))
	for p, want := range map[string][2]uint32{"home/app/a": {1001, 1500}, "home/app/b": {1001, 0}} {
		fi, err := os.Stat(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != want[0] || st.Gid != want[1] {
			t.Errorf("%s owned by %d:%d, want %d:%d", p, st.Uid, st.Gid, want[0], want[1])
		}
	}
}
