// Package readme_test runs the README's command blocks as a newcomer types
// them, in order, in one shell, against the minicloud they start, so that
// the README cannot drift from what works.
//
// A block runs when the line before its opening fence is the marker
// "<!-- readme-test -->" (invisible on a rendered page); the others are
// prose: fragments, sample output, commands for another setup. The
// commands run as root in a network namespace of their own, as on a fresh
// machine: port 4566 and port 53 free, the default public range unrouted,
// so they run exactly as written without meeting the other tests' servers,
// and a clean stop of the minicloud they start leaves nothing behind. HOME
// and GOPATH are fresh directories (Go's build and module caches stay
// shared, so nothing is fetched and little is rebuilt); no AWS_* or
// MINICLOUD_* variable of the caller's is passed on.
package readme_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// marker is the comment that makes the next fenced sh block runnable.
const marker = "<!-- readme-test -->"

// timeout bounds the whole README: the prototype's provisioning and
// teardown are most of it (with AWS CLI v1, two minutes and a half alone on
// the machine; twice that with the rest of the suite running).
const timeout = 10 * time.Minute

// block is a runnable block of the README: its commands and the line of
// its opening fence.
type block struct {
	line int
	text string
}

// blocks extracts the runnable blocks of a Markdown document.
func blocks(md []byte) ([]block, error) {
	var (
		out    []block
		cur    *block
		marked bool
	)
	sc := bufio.NewScanner(bytes.NewReader(md))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur != nil && strings.TrimSpace(line) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		case marked && line == "```sh":
			cur = &block{line: n}
			marked = false
		case marked:
			return nil, fmt.Errorf("line %d: %s is not followed by a ```sh block", n-1, marker)
		case strings.TrimSpace(line) == marker:
			marked = true
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("line %d: the block never ends", cur.line)
	}
	return out, sc.Err()
}

func TestBlocks(t *testing.T) {
	for _, tc := range []struct {
		name string
		md   string
		want []block
		err  bool
	}{
		{name: "marked and unmarked", md: "text\n```sh\nnot run\n```\n" + marker + "\n```sh\na\nb\n```\n```go\nx\n```\n",
			want: []block{{line: 6, text: "a\nb\n"}}},
		{name: "a marker on a block of another language", md: marker + "\n```go\nx\n```\n", err: true},
		{name: "an unterminated block", md: marker + "\n```sh\nx\n", err: true},
		{name: "none", md: "# title\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := blocks([]byte(tc.md))
			if (err != nil) != tc.err {
				t.Fatalf("error %v, want error %v", err, tc.err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("blocks %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestREADME runs the README's runnable blocks twice at once, with port 53
// free (minicloud's DNS takes it) and taken (minicloud falls back to 8053),
// and checks what a newcomer would look at: the server's data plane and
// DNS, the account, the prototype's page, its diagram.
func TestREADME(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the README's commands run as root, in a network namespace of their own (CI runs them as root)")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	bs, err := blocks(md)
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	if len(bs) < 4 {
		t.Fatalf("README.md has %d runnable blocks; the quickstart, the first five minutes and the CLI's at least", len(bs))
	}
	var script strings.Builder
	// The README's shell: stop on the first failing command, as a reader
	// would; at the end stop the minicloud it started, cleanly (SIGTERM),
	// so that it removes what it made.
	fmt.Fprintf(&script, "set -euo pipefail\ncd %q\ntrap 'kill -TERM $(jobs -p) 2>/dev/null; wait' EXIT\n", root)
	for _, b := range bs {
		fmt.Fprintf(&script, "echo '### README.md:%d'\n%s", b.line, b.text)
	}
	for _, tc := range []struct {
		name string
		// setup runs in the namespace before the README.
		setup string
		dns   string
		// debianCLI puts Debian's AWS CLI v2 (2.9, the one that ignores
		// AWS_ENDPOINT_URL) first on the PATH; else the PATH's own (CI:
		// AWS CLI v1).
		debianCLI bool
	}{
		{name: "port 53 free", dns: "127.0.0.1:53", debianCLI: true},
		// Another DNS server holds port 53 (UDP and TCP), as dnsmasq
		// or a local unbound would; at most as long as the test may run.
		{name: "port 53 taken", dns: "127.0.0.1:8053", setup: `python3 -c '
import socket, sys, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 53))
s = socket.socket(); s.bind(("127.0.0.1", 53)); s.listen()
open(sys.argv[1], "w").close(); time.sleep(600)' "$0.held" & holder=$!
until [ -e "$0.held" ]; do sleep 0.1; done
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := runREADME(t, script.String(), tc.setup, tc.debianCLI)
			for _, want := range []*regexp.Regexp{
				regexp.MustCompile(`data plane on`),                                         // minicloud status, as root
				regexp.MustCompile(`DNS for Route 53 zones on ` + regexp.QuoteMeta(tc.dns)), // where its DNS went
				regexp.MustCompile(`"Account": "000000000000"`),                             // minicloud aws sts get-caller-identity
				regexp.MustCompile(`<p id="count">[0-9]+ visits</p>`),                       // the prototype's page, through minicloud resolve
				regexp.MustCompile(`graph TD\s+User -- Request --> Route53`),                // minicloud diagram
				regexp.MustCompile(`arn:aws:sts::000000000000:assumed-role/deployer/me`),    // the CLI's block
				regexp.MustCompile(`torn down`),                                             // teardown.sh
			} {
				if !want.MatchString(out) {
					t.Errorf("the README's output lacks %s:\n%s", want, out)
				}
			}
		})
	}
}

// runREADME runs script in a network namespace of its own after setup
// (shell lines that may start a background process whose PID they put in
// $holder, stopped at the end) and returns its output.
func runREADME(t *testing.T, script, setup string, debianCLI bool) string {
	t.Helper()
	tmp := t.TempDir()
	path := filepath.Join(tmp, "readme.sh")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	env, err := shellEnv(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if debianCLI {
		const debian = "/usr/bin/aws"
		if _, err := os.Stat(debian); err != nil {
			t.Fatalf("Debian's AWS CLI (apt-get install awscli; scripts/deps.sh installs it): %v", err)
		}
		bin := filepath.Join(tmp, "bin")
		if err := os.MkdirAll(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(debian, filepath.Join(bin, "aws")); err != nil {
			t.Fatal(err)
		}
		env = append(env, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	}
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	outer := "set -e\nip link set lo up\nholder=\n" + setup + "status=0\nbash \"$0\" || status=$?\n" +
		"[ -z \"$holder\" ] || kill \"$holder\"\nexit $status\n"
	cmd := exec.CommandContext(ctx, "unshare", "--net", "--", "bash", "-c", outer, path)
	cmd.Env = env
	// On timeout every process of the run gets SIGTERM, the minicloud
	// among them, which then removes what it made.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 30 * time.Second
	start := time.Now()
	err = cmd.Run()
	t.Logf("the README's blocks: %v", time.Since(start).Round(time.Second))
	if err != nil {
		t.Fatalf("the README's commands failed: %v\n%s", err, out.String())
	}
	return out.String()
}

// shellEnv is the environment of the README's shell: the caller's, without
// its AWS and minicloud settings, in fresh HOME and GOPATH directories
// under dir, with the caller's Go caches and, for a pyenv-installed AWS
// CLI, its pyenv.
func shellEnv(dir string) ([]string, error) {
	goEnv, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE").Output()
	if err != nil {
		return nil, fmt.Errorf("go env: %w", err)
	}
	caches := strings.Fields(string(goEnv))
	if len(caches) != 2 {
		return nil, fmt.Errorf("go env GOCACHE GOMODCACHE: %q", goEnv)
	}
	realHome, _ := os.UserHomeDir()
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "MINICLOUD_") ||
			k == "HOME" || k == "GOPATH" || k == "GOBIN" || k == "GOCACHE" || k == "GOMODCACHE" || k == "XDG_CACHE_HOME" || k == "XDG_DATA_HOME" {
			continue
		}
		env = append(env, kv)
	}
	home, gopath := filepath.Join(dir, "home"), filepath.Join(dir, "gopath")
	for _, d := range []string{home, gopath} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	env = append(env, "HOME="+home, "GOPATH="+gopath, "GOCACHE="+caches[0], "GOMODCACHE="+caches[1], "GOPROXY=off")
	if os.Getenv("PYENV_ROOT") == "" && realHome != "" {
		if _, err := os.Stat(filepath.Join(realHome, ".pyenv")); err == nil {
			env = append(env, "PYENV_ROOT="+filepath.Join(realHome, ".pyenv"))
		}
	}
	return env, nil
}
