// Package cli_test is an end-to-end smoke test of the real minicloud binary
// driven by the real AWS clients: AWS CLI v1 (pip, via pyenv), AWS CLI v2
// (Debian's awscli package, /usr/bin/aws), boto3, and the binary's own
// command line (version, --help, SIGTERM, --state-dir persistence).
//
// Every client is required: a missing one fails the test with a message
// saying what to install; nothing is skipped silently.
package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	cmdTimeout     = 60 * time.Second // per external command
	startTimeout   = 20 * time.Second // process start → health OK
	stopTimeout    = 10 * time.Second // SIGTERM → exit
	defaultAccount = "000000000000"
	v2Path         = "/usr/bin/aws"
)

// binPath is the minicloud binary built once by TestMain.
var binPath string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "minicloud-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkdtemp:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binPath = filepath.Join(dir, "minicloud")
	if runtime.GOOS == "windows" {
		binPath += ".exe"
	}
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

// ---------------------------------------------------------------------------
// minicloud processes

// syncBuffer is an io.Writer safe for the exec copy goroutine and readers.
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

type server struct {
	URL    string // http://127.0.0.1:PORT
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{} // closed when the process has exited
	err    error         // Wait's result, valid after done
}

var listeningRE = regexp.MustCompile(`minicloud \S+ listening on (http://127\.0\.0\.1:[0-9]+)`)

// publicCIDREnv keeps this package's minicloud's Elastic IPs in the half of
// the public range that no other test package claims: the data-plane tests
// give each server of theirs its own /24 of 198.19.0.0/16, and two servers
// that route one address would take each other's traffic.
const publicCIDREnv = "MINICLOUD_PUBLIC_CIDR=198.18.0.0/16"

// startServer starts minicloud as a real process on a free loopback port and
// waits until its health endpoint answers. The port is chosen by the kernel
// (--listen 127.0.0.1:0) and read back from the "listening on" line, which
// avoids the race of picking a free port first and also checks that the
// printed address is the real one. The process is killed (by PID) on cleanup
// if it is still running.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	s := &server{stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(binPath, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	s.cmd.Env = append(cleanEnv(), publicCIDREnv)
	s.cmd.WaitDelay = 5 * time.Second
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start minicloud: %v", err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		// SIGTERM first: a clean stop removes an ephemeral minicloud's data
		// plane (namespaces, links, routes); SIGKILL only if it hangs.
		select {
		case <-s.done:
		default:
			_ = s.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-s.done:
			case <-time.After(stopTimeout):
				_ = s.cmd.Process.Kill()
				select {
				case <-s.done:
				case <-time.After(stopTimeout):
					t.Errorf("minicloud pid %d did not exit after SIGKILL", s.cmd.Process.Pid)
				}
			}
		}
		// A durable minicloud keeps its networks for its next start; the
		// test has none, so it removes them as a user would after a crash.
		public := []string{}
		for i, a := range args {
			if a == "--public-cidr" && i+1 < len(args) {
				public = []string{"--public-cidr", args[i+1]} // over the environment's
			}
		}
		for i, a := range args {
			if a == "--state-dir" && i+1 < len(args) {
				cleanup := exec.Command(binPath, append([]string{"cleanup", "--state-dir", args[i+1]}, public...)...)
				cleanup.Env = append(cleanEnv(), publicCIDREnv)
				if out, err := cleanup.CombinedOutput(); err != nil {
					t.Errorf("minicloud cleanup: %v\n%s", err, out)
				}
			}
		}
		if t.Failed() {
			t.Logf("minicloud pid %d stderr:\n%s", s.cmd.Process.Pid, s.stderr.String())
		}
	})

	deadline := time.Now().Add(startTimeout)
	for s.URL == "" {
		if m := listeningRE.FindStringSubmatch(s.stdout.String()); m != nil {
			s.URL = m[1]
			break
		}
		select {
		case <-s.done:
			t.Fatalf("minicloud exited before listening (%v)\nstdout:\n%s\nstderr:\n%s", s.err, s.stdout, s.stderr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("minicloud printed no \"listening on\" line within %v\nstdout:\n%s\nstderr:\n%s", startTimeout, s.stdout, s.stderr)
		}
	}
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(s.URL + "/_minicloud/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s/_minicloud/health not OK within %v: err=%v", s.URL, startTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and requires a clean exit (code 0) within stopTimeout.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM pid %d: %v", s.cmd.Process.Pid, err)
	}
	select {
	case <-s.done:
	case <-time.After(stopTimeout):
		t.Fatalf("minicloud pid %d still running %v after SIGTERM", s.cmd.Process.Pid, stopTimeout)
	}
	if s.err != nil {
		t.Fatalf("minicloud exited uncleanly after SIGTERM: %v (exit code %d)\nstderr:\n%s", s.err, s.cmd.ProcessState.ExitCode(), s.stderr)
	}
}

// ---------------------------------------------------------------------------
// External commands

// cleanEnv is the test process environment without any AWS_* or MINICLOUD_*
// variable, so the developer's AWS profile, region or endpoint can't leak in.
// PATH, HOME and PYENV_* are kept: pyenv shims need them.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "MINICLOUD_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// awsEnv is an isolated AWS client environment: fixed static credentials
// and region, empty config and credentials files of its own, no pager, no
// instance-metadata lookups. extra entries (KEY=VALUE) override.
func awsEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	dir := t.TempDir()
	cfg, creds := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	for _, f := range []string{cfg, creds} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := append(cleanEnv(),
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE="+cfg,
		"AWS_SHARED_CREDENTIALS_FILE="+creds,
		"AWS_PAGER=",
		"AWS_EC2_METADATA_DISABLED=true",
	)
	return append(env, extra...) // later duplicates win in os/exec
}

type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// run runs one external command with a cmdTimeout bound. A command that can't
// be started or times out fails the test; a non-zero exit is returned.
func run(t *testing.T, env []string, name string, args ...string) result {
	t.Helper()
	return runFor(t, cmdTimeout, env, name, args...)
}

// runFor is run with its own bound, for scripts of many commands.
func runFor(t *testing.T, timeout time.Duration, env []string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s %s: timed out after %v\n%s", name, strings.Join(args, " "), timeout, r)
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return r
}

// ---------------------------------------------------------------------------
// Locating the AWS CLIs

type awsCLI struct {
	name string // "v1" or "v2"
	path string
	// endpointViaEnv selects AWS_ENDPOINT_URL instead of --endpoint-url.
	// CLI v1.45 honours AWS_ENDPOINT_URL; v2.9 predates it (added in v2.13)
	// and would silently talk to the real AWS, so v2 uses --endpoint-url.
	endpointViaEnv bool
}

var (
	cliOnce sync.Once
	cliV1   awsCLI
	cliV2   awsCLI
	cliErr  []string
)

func awsVersion(path string) string {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "--version")
	cmd.Env = cleanEnv()
	cmd.WaitDelay = 5 * time.Second
	out, _ := cmd.CombinedOutput() // old v1 releases print the version on stderr
	return strings.TrimSpace(string(out))
}

// findCLIs locates both AWS CLIs once.
//
// v2 must be Debian's awscli package at /usr/bin/aws.
//
// v1 is pip-installed into a pyenv Python, so it is reached through a pyenv
// shim. PATH order varies (it may put /usr/bin, i.e. v2, before the shims),
// so "aws" on PATH alone is not enough: candidates, in order, are
// $PYENV_ROOT/shims/aws, $(pyenv root)/shims/aws, ~/.pyenv/shims/aws, and
// then every "aws" on PATH (like `which -a aws`). The first one whose
// `aws --version` says aws-cli/1. is v1.
func findCLIs() {
	if fi, err := os.Stat(v2Path); err != nil || fi.IsDir() {
		cliErr = append(cliErr, fmt.Sprintf("AWS CLI v2 not found at %s: install the Debian package awscli (apt-get update && apt-get install -y awscli)", v2Path))
	} else if v := awsVersion(v2Path); !strings.HasPrefix(v, "aws-cli/2.") {
		cliErr = append(cliErr, fmt.Sprintf("%s is not AWS CLI v2 (`--version`: %q): install the Debian package awscli (apt-get install -y awscli)", v2Path, v))
	} else {
		cliV2 = awsCLI{name: "v2", path: v2Path}
	}

	var candidates []string
	if root := os.Getenv("PYENV_ROOT"); root != "" {
		candidates = append(candidates, filepath.Join(root, "shims", "aws"))
	}
	if pyenv, err := exec.LookPath("pyenv"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
		if out, err := exec.CommandContext(ctx, pyenv, "root").Output(); err == nil {
			candidates = append(candidates, filepath.Join(strings.TrimSpace(string(out)), "shims", "aws"))
		}
		cancel()
	}
	if home, err := os.UserHomeDir(); err == nil {
		candidates = append(candidates, filepath.Join(home, ".pyenv", "shims", "aws"))
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir != "" {
			candidates = append(candidates, filepath.Join(dir, "aws"))
		}
	}
	seen := map[string]bool{}
	var tried []string
	for _, c := range candidates {
		if !isExecutable(c) {
			continue
		}
		if real, err := filepath.EvalSymlinks(c); err == nil {
			if seen[real] { // e.g. /bin/aws and /usr/bin/aws on usrmerge systems
				continue
			}
			seen[real] = true
		}
		v := awsVersion(c)
		tried = append(tried, fmt.Sprintf("%s → %q", c, v))
		if strings.HasPrefix(v, "aws-cli/1.") {
			cliV1 = awsCLI{name: "v1", path: c, endpointViaEnv: true}
			break
		}
	}
	if cliV1.path == "" {
		cliErr = append(cliErr, fmt.Sprintf("AWS CLI v1 not found (tried pyenv shims and PATH: %v): install it with pip into the pyenv Python (pip install 'awscli<2'); Debian's awscli package provides only v2", tried))
	}
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

func requireCLIs(t *testing.T) []awsCLI {
	t.Helper()
	cliOnce.Do(findCLIs)
	if len(cliErr) > 0 {
		t.Fatal(strings.Join(cliErr, "\n"))
	}
	return []awsCLI{cliV1, cliV2}
}

// aws runs one AWS CLI command against s with env (from awsEnv), always
// asking for JSON output.
func (c awsCLI) aws(t *testing.T, s *server, env []string, args ...string) result {
	t.Helper()
	full := append([]string{"--output", "json"}, args...)
	if c.endpointViaEnv {
		env = append(append([]string(nil), env...), "AWS_ENDPOINT_URL="+s.URL)
	} else {
		full = append([]string{"--endpoint-url", s.URL}, full...)
	}
	return run(t, env, c.path, full...)
}

func decode[T any](t *testing.T, r result) T {
	t.Helper()
	var v T
	if r.code != 0 {
		t.Fatalf("command failed: %s", r)
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("decode JSON: %v\n%s", err, r)
	}
	return v
}

type callerIdentity struct{ UserId, Account, Arn string }

type credentials struct {
	AccessKeyId, SecretAccessKey, SessionToken, Expiration string
}

type assumeRoleOut struct {
	Credentials     credentials
	AssumedRoleUser struct{ AssumedRoleId, Arn string }
}

type regionsOut struct {
	Regions []struct{ RegionName, Endpoint, OptInStatus string }
}

type zonesOut struct {
	AvailabilityZones []struct{ ZoneName, ZoneId, RegionName, State string }
}

func (c credentials) env() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + c.AccessKeyId,
		"AWS_SECRET_ACCESS_KEY=" + c.SecretAccessKey,
		"AWS_SESSION_TOKEN=" + c.SessionToken,
	}
}

// ensureRole creates a role the account may assume, unless it exists:
// AWS refuses to assume a role that does not.
func (c awsCLI) ensureRole(t *testing.T, s *server, env []string, account, role string) {
	t.Helper()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + account + `"},"Action":"sts:AssumeRole"}]}`
	if r := c.aws(t, s, env, "iam", "create-role", "--role-name", role, "--assume-role-policy-document", trust); r.code != 0 && !strings.Contains(r.stderr, "EntityAlreadyExists") {
		t.Fatalf("create-role %s: %s", role, r)
	}
}

// assumeRole creates the role if need be, runs sts assume-role and checks
// the answer's shape.
func (c awsCLI) assumeRole(t *testing.T, s *server, env []string, role, session string) credentials {
	t.Helper()
	c.ensureRole(t, s, env, defaultAccount, role)
	roleARN := "arn:aws:iam::" + defaultAccount + ":role/" + role
	out := decode[assumeRoleOut](t, c.aws(t, s, env, "sts", "assume-role", "--role-arn", roleARN, "--role-session-name", session))
	if k := out.Credentials; !strings.HasPrefix(k.AccessKeyId, "ASIA") || k.SecretAccessKey == "" || k.SessionToken == "" || k.Expiration == "" {
		t.Fatalf("assume-role credentials incomplete: %+v", k)
	}
	if want := "arn:aws:sts::" + defaultAccount + ":assumed-role/" + role + "/" + session; out.AssumedRoleUser.Arn != want {
		t.Fatalf("AssumedRoleUser.Arn = %q, want %q", out.AssumedRoleUser.Arn, want)
	}
	return out.Credentials
}

func requireNotImplemented(t *testing.T, r result, service, op string) {
	t.Helper()
	if r.code == 0 {
		t.Fatalf("want non-zero exit for unimplemented %s %s, got %s", service, op, r)
	}
	if !strings.Contains(r.stderr, "NotImplemented") || !strings.Contains(r.stderr, service+" "+op) {
		t.Fatalf("want stderr naming NotImplemented and %q, got %s", service+" "+op, r)
	}
}

// ---------------------------------------------------------------------------
// Tests

func TestAWSCLI(t *testing.T) {
	t.Parallel()
	clis := requireCLIs(t)
	s := startServer(t, "--ephemeral")

	type tcase struct {
		name string
		test func(t *testing.T, c awsCLI, env []string)
	}
	cases := []tcase{
		{"sts get-caller-identity", func(t *testing.T, c awsCLI, env []string) {
			id := decode[callerIdentity](t, c.aws(t, s, env, "sts", "get-caller-identity"))
			if id.Account != defaultAccount || id.Arn != "arn:aws:iam::"+defaultAccount+":root" {
				t.Fatalf("get-caller-identity = %+v, want account %s root", id, defaultAccount)
			}
		}},
		{"sts assume-role then get-caller-identity", func(t *testing.T, c awsCLI, env []string) {
			session := "smoke-" + c.name
			creds := c.assumeRole(t, s, env, "smoke-role", session)
			id := decode[callerIdentity](t, c.aws(t, s, append(env, creds.env()...), "sts", "get-caller-identity"))
			want := "arn:aws:sts::" + defaultAccount + ":assumed-role/smoke-role/" + session
			if id.Arn != want || id.Account != defaultAccount || !strings.HasSuffix(id.UserId, ":"+session) {
				t.Fatalf("get-caller-identity with assumed creds = %+v, want Arn %s", id, want)
			}
		}},
		{"ec2 describe-regions", func(t *testing.T, c awsCLI, env []string) {
			out := decode[regionsOut](t, c.aws(t, s, env, "ec2", "describe-regions"))
			if len(out.Regions) != 17 {
				t.Fatalf("describe-regions: %d regions, want 17", len(out.Regions))
			}
			for _, r := range out.Regions {
				if r.OptInStatus == "not-opted-in" || r.Endpoint != "ec2."+r.RegionName+".amazonaws.com" {
					t.Fatalf("describe-regions: unexpected region %+v", r)
				}
			}
		}},
		{"ec2 describe-regions --all-regions", func(t *testing.T, c awsCLI, env []string) {
			out := decode[regionsOut](t, c.aws(t, s, env, "ec2", "describe-regions", "--all-regions"))
			notOpted := 0
			for _, r := range out.Regions {
				if r.OptInStatus == "not-opted-in" {
					notOpted++
				}
			}
			if len(out.Regions) != 34 || notOpted != 17 {
				t.Fatalf("describe-regions --all-regions: %d regions (%d not-opted-in), want 34 (17)", len(out.Regions), notOpted)
			}
		}},
		{"ec2 describe-availability-zones eu-west-1", func(t *testing.T, c awsCLI, env []string) {
			out := decode[zonesOut](t, c.aws(t, s, env, "ec2", "describe-availability-zones", "--region", "eu-west-1"))
			if len(out.AvailabilityZones) != 3 {
				t.Fatalf("describe-availability-zones eu-west-1: %d zones, want 3: %+v", len(out.AvailabilityZones), out.AvailabilityZones)
			}
			for i, z := range out.AvailabilityZones {
				if z.ZoneName != "eu-west-1"+string(rune('a'+i)) || !strings.HasPrefix(z.ZoneId, "euw1-az") || z.RegionName != "eu-west-1" {
					t.Fatalf("describe-availability-zones eu-west-1: unexpected zone %d %+v", i, z)
				}
			}
		}},
		{"ec2 create-fleet is NotImplemented", func(t *testing.T, c awsCLI, env []string) {
			requireNotImplemented(t, c.aws(t, s, env, "ec2", "create-fleet", "--target-capacity-specification", "TotalTargetCapacity=1", "--launch-template-configs", "[]"), "ec2", "CreateFleet")
		}},
		// CloudWatch offers CBOR, JSON and query; the CLI picks one (v1.45:
		// awsJson1.0, v2.9: query); boto3 below forces each explicitly.
		{"cloudwatch list-metric-streams is NotImplemented", func(t *testing.T, c awsCLI, env []string) {
			requireNotImplemented(t, c.aws(t, s, env, "cloudwatch", "list-metric-streams"), "cloudwatch", "ListMetricStreams")
		}},
	}
	for _, c := range clis {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			env := awsEnv(t)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) { tc.test(t, c, env) })
			}
		})
	}
}

// boto3Script prints one JSON object that TestBoto3 asserts. CloudWatch is
// called once per wire protocol botocore supports for it (CBOR, JSON, query),
// forcing the choice through botocore's protocol priority list.
const boto3Script = `
import json, sys
import boto3, botocore, botocore.model
from botocore.exceptions import ClientError

ep = sys.argv[1]
out = {"botocore": botocore.__version__}
sess = boto3.session.Session()
out["identity"] = sess.client("sts", endpoint_url=ep).get_caller_identity()
out["identity"].pop("ResponseMetadata", None)
for region in ("us-east-1", "eu-west-1"):
    zs = sess.client("ec2", endpoint_url=ep, region_name=region).describe_availability_zones()["AvailabilityZones"]
    out["zones_" + region] = [[z["ZoneName"], z["ZoneId"]] for z in zs]

out["cloudwatch"] = {}
for proto in ("smithy-rpc-v2-cbor", "json", "query"):
    botocore.model.PRIORITY_ORDERED_SUPPORTED_PROTOCOLS = (proto,)
    cw = boto3.session.Session().client("cloudwatch", endpoint_url=ep)
    sent = {}
    cw.meta.events.register("before-send", lambda request, **kw: sent.update(ct=request.headers.get("Content-Type")))
    r = {"protocol": cw.meta.service_model.resolved_protocol}
    try:
        cw.list_metric_streams()
        r["error"] = None
    except ClientError as e:
        r["error"] = {"Code": e.response["Error"]["Code"], "Message": e.response["Error"]["Message"],
                      "HTTPStatusCode": e.response["ResponseMetadata"]["HTTPStatusCode"]}
    ct = sent.get("ct")
    r["content_type"] = ct.decode() if isinstance(ct, bytes) else ct
    out["cloudwatch"][proto] = r
print(json.dumps(out))
`

// findBoto3Python returns a python3 that can import boto3: python3 on PATH,
// else the pyenv shims (boto3 lives in the pyenv Python 3.11).
func findBoto3Python(t *testing.T) string {
	t.Helper()
	var candidates []string
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	if root := os.Getenv("PYENV_ROOT"); root != "" {
		candidates = append(candidates, filepath.Join(root, "shims", "python3"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		candidates = append(candidates, filepath.Join(home, ".pyenv", "shims", "python3"))
	}
	for _, p := range candidates {
		if !isExecutable(p) {
			continue
		}
		if r := run(t, cleanEnv(), p, "-c", "import boto3"); r.code == 0 {
			return p
		}
	}
	t.Fatalf("no python3 with boto3 found (tried %v): pip install boto3 into the pyenv Python 3.11 (or apt-get install -y python3-boto3)", candidates)
	return ""
}

func TestBoto3(t *testing.T) {
	t.Parallel()
	py := findBoto3Python(t)
	s := startServer(t, "--ephemeral")
	r := run(t, awsEnv(t), py, "-c", boto3Script, s.URL)
	type cwResult struct {
		Protocol    string `json:"protocol"`
		ContentType string `json:"content_type"`
		Error       *struct {
			Code, Message  string
			HTTPStatusCode int
		} `json:"error"`
	}
	out := decode[struct {
		Botocore   string              `json:"botocore"`
		Identity   callerIdentity      `json:"identity"`
		ZonesUSE1  [][2]string         `json:"zones_us-east-1"`
		ZonesEUW1  [][2]string         `json:"zones_eu-west-1"`
		CloudWatch map[string]cwResult `json:"cloudwatch"`
	}](t, r)
	t.Logf("botocore %s", out.Botocore)

	if out.Identity.Account != defaultAccount || out.Identity.Arn != "arn:aws:iam::"+defaultAccount+":root" {
		t.Errorf("get_caller_identity = %+v", out.Identity)
	}
	wantUSE1 := [][2]string{
		{"us-east-1a", "use1-az6"}, {"us-east-1b", "use1-az1"}, {"us-east-1c", "use1-az2"},
		{"us-east-1d", "use1-az4"}, {"us-east-1e", "use1-az3"}, {"us-east-1f", "use1-az5"},
	}
	if fmt.Sprint(out.ZonesUSE1) != fmt.Sprint(wantUSE1) {
		t.Errorf("describe_availability_zones us-east-1 = %v, want %v", out.ZonesUSE1, wantUSE1)
	}
	if len(out.ZonesEUW1) != 3 {
		t.Errorf("describe_availability_zones eu-west-1 = %v, want 3 zones", out.ZonesEUW1)
	}
	wantCT := map[string]string{
		"smithy-rpc-v2-cbor": "application/cbor",
		"json":               "application/x-amz-json-1.0",
		"query":              "application/x-www-form-urlencoded",
	}
	for proto, ct := range wantCT {
		cw, ok := out.CloudWatch[proto]
		switch {
		case !ok:
			t.Errorf("cloudwatch %s: no result", proto)
		case cw.Protocol != proto || !strings.HasPrefix(cw.ContentType, ct):
			t.Errorf("cloudwatch %s: botocore used protocol %q content-type %q, want %q", proto, cw.Protocol, cw.ContentType, ct)
		case cw.Error == nil:
			t.Errorf("cloudwatch %s: list_metric_streams succeeded, want ClientError NotImplemented", proto)
		case cw.Error.Code != "NotImplemented" || !strings.Contains(cw.Error.Message, "cloudwatch ListMetricStreams") || cw.Error.HTTPStatusCode != http.StatusNotImplemented:
			t.Errorf("cloudwatch %s: error = %+v, want NotImplemented/501 naming \"cloudwatch ListMetricStreams\"", proto, *cw.Error)
		}
	}
}

func TestBinaryCommands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want []string // substrings of stdout+stderr
	}{
		{[]string{"version"}, []string{"minicloud "}},
		{[]string{"--help"}, []string{"--listen", "--state-dir", "--ephemeral", "Examples:", "minicloud serve --listen"}},
		{[]string{"help"}, []string{"--listen", "Examples:"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := run(t, cleanEnv(), binPath, tc.args...)
			if r.code != 0 {
				t.Fatalf("minicloud %v: %s", tc.args, r)
			}
			all := r.stdout + r.stderr
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("minicloud %v output lacks %q:\n%s", tc.args, w, r)
				}
			}
			if tc.args[0] == "version" && !strings.HasPrefix(r.stdout, "minicloud ") {
				t.Errorf("version stdout = %q, want \"minicloud …\"", r.stdout)
			}
		})
	}
	t.Run("unknown command exits 2", func(t *testing.T) {
		if r := run(t, cleanEnv(), binPath, "no-such-command"); r.code != 2 {
			t.Fatalf("want exit 2: %s", r)
		}
	})
	t.Run("SIGTERM stops cleanly", func(t *testing.T) {
		s := startServer(t, "--ephemeral")
		start := time.Now()
		s.stop(t)
		t.Logf("stopped in %v", time.Since(start).Round(time.Millisecond))
	})
}

// TestStateDirPersistence: credentials from AssumeRole survive a SIGTERM
// restart on the same --state-dir.
func TestStateDirPersistence(t *testing.T) {
	t.Parallel()
	clis := requireCLIs(t)
	c := clis[1] // v2: the faster of the two to start; v1 is covered by TestAWSCLI
	dir := t.TempDir()
	env := awsEnv(t)

	s1 := startServer(t, "--state-dir", dir)
	creds := c.assumeRole(t, s1, env, "persist-role", "persist-session")
	want := "arn:aws:sts::" + defaultAccount + ":assumed-role/persist-role/persist-session"
	if id := decode[callerIdentity](t, c.aws(t, s1, append(env, creds.env()...), "sts", "get-caller-identity")); id.Arn != want {
		t.Fatalf("before restart: Arn = %q, want %q", id.Arn, want)
	}
	s1.stop(t)

	s2 := startServer(t, "--state-dir", dir)
	if id := decode[callerIdentity](t, c.aws(t, s2, append(env, creds.env()...), "sts", "get-caller-identity")); id.Arn != want {
		t.Fatalf("after restart on the same --state-dir: Arn = %q, want %q", id.Arn, want)
	}
	s2.stop(t)
}
