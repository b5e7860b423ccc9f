package prototype_test

// Helpers: the minicloud binary as a real process (started, restarted and
// stopped like a user would), the example's scripts, AWS SDK clients, and
// what the host sees of minicloud (namespaces, links, routes, processes).

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/google/nftables"
	"github.com/miekg/dns"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/minicloud/minicloud/internal/server"
	"github.com/minicloud/minicloud/internal/vpcnet"
)

// binPath is the minicloud binary TestMain builds.
var binPath string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "minicloud-prototype-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkdtemp:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binPath = filepath.Join(dir, "minicloud")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", binPath, "github.com/minicloud/minicloud/cmd/minicloud")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "go build ./cmd/minicloud:", err)
		return 1
	}
	return m.Run()
}

// syncBuffer is an io.Writer safe for exec's copy goroutine and readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// minicloud is one run of the binary on a state directory.
type minicloud struct {
	URL     string // http://127.0.0.1:PORT
	DNS     string // 127.0.0.1:PORT, udp and tcp
	cmd     *exec.Cmd
	stdout  *syncBuffer
	stderr  *syncBuffer
	done    chan struct{}
	waitErr error
}

var (
	listeningRE = regexp.MustCompile(`listening on (http://127\.0\.0\.1:[0-9]+)`)
	dnsRE       = regexp.MustCompile(`DNS for Route 53 zones on (127\.0\.0\.1:[0-9]+)`)
)

// publicCIDR is this package's own public range: other packages' data-plane
// tests run at the same time with minicloud's of their own, and two that
// hand out Elastic IPs from one range would route the same addresses.
const publicCIDR = "198.19.235.0/24"

// startMinicloud starts the binary with the data plane on, durable state in
// stateDir, and kernel-chosen ports it reads back from what minicloud prints.
func startMinicloud(t *testing.T, stateDir string) *minicloud {
	t.Helper()
	m := &minicloud{stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	m.cmd = exec.Command(binPath, "serve", "--listen", "127.0.0.1:0", "--dns-listen", "127.0.0.1:0",
		"--state-dir", stateDir, "--data-plane", "on", "--public-cidr", publicCIDR)
	m.cmd.Stdout, m.cmd.Stderr = m.stdout, m.stderr
	m.cmd.Env = scriptEnv(nil)
	m.cmd.WaitDelay = 5 * time.Second
	if err := m.cmd.Start(); err != nil {
		t.Fatalf("start minicloud: %v", err)
	}
	go func() { m.waitErr = m.cmd.Wait(); close(m.done) }()
	// Whatever the test's outcome, once the process is gone remove what it
	// leaves on the host for its next start (VPC routers, the guard) as a
	// user would, so a failing test leaves no host networking behind.
	t.Cleanup(func() {
		select {
		case <-m.done:
		default:
			_ = m.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-m.done:
			case <-time.After(30 * time.Second):
				_ = m.cmd.Process.Kill()
				<-m.done
			}
			if t.Failed() {
				t.Logf("minicloud pid %d stderr (tail):\n%s", m.cmd.Process.Pid, tail(m.stderr.String(), 60))
			}
		}
		if out, err := execOut(binPath, "cleanup", "--state-dir", stateDir, "--public-cidr", publicCIDR); err != nil {
			t.Errorf("minicloud cleanup --state-dir %s: %v\n%s", stateDir, err, out)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := m.stdout.String()
		if u, d := listeningRE.FindStringSubmatch(out), dnsRE.FindStringSubmatch(out); u != nil && d != nil {
			m.URL, m.DNS = u[1], d[1]
			break
		}
		select {
		case <-m.done:
			t.Fatalf("minicloud exited at start (%v)\nstdout:\n%s\nstderr:\n%s", m.waitErr, m.stdout, m.stderr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("minicloud printed no address within 30 s\nstdout:\n%s\nstderr:\n%s", m.stdout, m.stderr)
		}
	}
	return m
}

// stop sends SIGTERM and requires a clean exit.
func (m *minicloud) stop(t *testing.T) {
	t.Helper()
	if err := m.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM minicloud pid %d: %v", m.cmd.Process.Pid, err)
	}
	select {
	case <-m.done:
	case <-time.After(40 * time.Second):
		t.Fatalf("minicloud pid %d still running 40 s after SIGTERM", m.cmd.Process.Pid)
	}
	if m.waitErr != nil {
		t.Fatalf("minicloud exited uncleanly: %v\nstderr:\n%s", m.waitErr, tail(m.stderr.String(), 60))
	}
}

func tail(s string, lines int) string {
	l := strings.Split(s, "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

// clients are AWS SDK clients of one minicloud run.
type clients struct {
	ec2 *ec2.Client
	rds *rds.Client
	r53 *route53.Client
}

func (m *minicloud) clients() clients {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(m.URL)}
	return clients{ec2: ec2.NewFromConfig(cfg), rds: rds.NewFromConfig(cfg), r53: route53.NewFromConfig(cfg)}
}

// scriptEnv is the test's environment without the developer's AWS_* or
// MINICLOUD_* settings, plus extra.
func scriptEnv(extra []string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "MINICLOUD_") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, extra...)
}

// runScript runs one of the example's scripts against m and returns its
// output; it fails the test when the script fails.
func runScript(t *testing.T, m *minicloud, imageDir string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = exampleDir
	cmd.Env = scriptEnv([]string{"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1",
		"ENDPOINT=" + m.URL, "AWS=" + cliV2, "IMAGE_DIR=" + imageDir})
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	t.Logf("%s %s: %v", name, strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("%s failed: %v\n%s", name, err, out.String())
	}
	return out.String()
}

// outputs parses the "output KEY=VALUE" lines of a provisioning script.
func outputs(t *testing.T, out string) map[string]string {
	t.Helper()
	o := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if kv, ok := strings.CutPrefix(line, "output "); ok {
			k, v, _ := strings.Cut(kv, "=")
			o[k] = v
		}
	}
	for _, k := range []string{"VPC", "INSTANCE", "EIP", "DB_ENDPOINT", "WEB_SG", "DB_SG", "NACL", "SUBNETS", "ZONE"} {
		if o[k] == "" {
			t.Fatalf("the provisioning output has no %s:\n%s", k, out)
		}
	}
	return o
}

// resolveA asks minicloud's DNS server for name's A records.
func resolveA(dnsAddr, name string) ([]string, error) {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), dns.TypeA)
	c := &dns.Client{Timeout: time.Second}
	r, _, err := c.Exchange(q, dnsAddr)
	if err != nil {
		return nil, err
	}
	if r.Rcode != dns.RcodeSuccess {
		return nil, fmt.Errorf("%s: %s", name, dns.RcodeToString[r.Rcode])
	}
	var out []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	return out, nil
}

// siteClient reaches http://app.example.test/ as a person on this machine
// does with minicloud's DNS as their resolver: names resolve through
// dnsAddr, never through the host's resolvers. No proxy; no keep-alive, so
// each GET is a new connection through the Elastic IP.
func siteClient(dnsAddr string) *http.Client {
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, dnsAddr)
	}}
	d := &net.Dialer{Resolver: r, Timeout: time.Second}
	return &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true, DialContext: d.DialContext}}
}

var countRE = regexp.MustCompile(`<p id="count">([0-9]+) visits</p>`)

// visit GETs the site once and returns the visit count the page shows.
func visit(c *http.Client, url string) (int, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: HTTP %d: %s", url, resp.StatusCode, strings.TrimSpace(b.String()))
	}
	m := countRE.FindStringSubmatch(b.String())
	if m == nil {
		return 0, fmt.Errorf("GET %s: no visit count in the page:\n%s", url, b.String())
	}
	var n int
	_, err = fmt.Sscan(m[1], &n)
	return n, err
}

// waitVisit retries visit until the site answers or d passes.
func waitVisit(c *http.Client, url string, d time.Duration) (int, error) {
	var n int
	err := eventually(d, func() (err error) { n, err = visit(c, url); return err })
	return n, err
}

// eventually retries f every 100 ms until it succeeds or d passes.
func eventually(d time.Duration, f func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// hostObjects lists what minicloud of stateDir has on the host: network
// namespaces and links carrying its prefix, routes through those links, and
// its guard of the public range: the unreachable route with its metric, the
// host nftables table "<prefix>-guard", and the rule sending the range to
// the main table when no process's guard route is left to need it (the
// rule is shared by every minicloud guarding the range).
func hostObjects(stateDir string) (namespaces, links, routes, guards []string, err error) {
	prefix := server.Prefix(stateDir)
	names := vpcnet.Names{Prefix: prefix}
	if namespaces, err = vpcnet.Namespaces(prefix + "-"); err != nil {
		return nil, nil, nil, nil, err
	}
	ls, err := netlink.LinkList()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	mine := map[int]bool{}
	for _, l := range ls {
		if strings.HasPrefix(l.Attrs().Name, prefix) {
			links = append(links, l.Attrs().Name)
			mine[l.Attrs().Index] = true
		}
	}
	rs, err := netlink.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	public := publicCIDR
	guardRoutes := 0
	for _, r := range rs {
		if mine[r.LinkIndex] {
			routes = append(routes, r.String())
		}
		if r.Type == unix.RTN_UNREACHABLE && r.Dst != nil && r.Dst.String() == public {
			guardRoutes++
			if r.Priority == names.GuardMetric() {
				guards = append(guards, "guard route "+r.String())
			}
		}
	}
	rules, err := netlink.RuleList(netlink.FAMILY_V4)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	for _, r := range rules {
		if guardRoutes == 0 && r.Priority == vpcnet.GuardRulePriority && r.Dst != nil && r.Dst.String() == public {
			guards = append(guards, fmt.Sprintf("rule %d: to %s lookup %d, with no guard route left", r.Priority, r.Dst, r.Table))
		}
	}
	c, err := nftables.New()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	for _, tb := range tables {
		if tb.Name == names.GuardTable() {
			guards = append(guards, "nftables table inet "+tb.Name)
		}
	}
	return namespaces, links, routes, guards, nil
}

// processesOf lists the processes whose command line names path (the
// test's minicloud binary, so its instances' inits, or its state directory,
// so its PostgreSQL servers).
func processesOf(paths ...string) []string {
	ents, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		cmd := strings.ReplaceAll(string(b), "\x00", " ")
		for _, p := range paths {
			if strings.Contains(cmd, p) {
				out = append(out, e.Name()+": "+cmd)
				break
			}
		}
	}
	return out
}

// execOut runs a command and returns its combined output.
func execOut(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}
