// Command minicloud is a local, offline AWS: one binary that the real AWS
// clients talk to on one port, whose resources really run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	instruntime "github.com/minicloud/minicloud/internal/instance/runtime"
	"github.com/minicloud/minicloud/internal/server"
	"github.com/minicloud/minicloud/internal/state"
	"github.com/minicloud/minicloud/internal/vpcnet"
	"github.com/minicloud/minicloud/internal/workload"
)

// version is set at link time (-ldflags "-X main.version=…"); otherwise the
// module's build information supplies it.
var version = ""

const usage = `minicloud — a local, offline AWS whose resources really run.

Usage:
  minicloud [serve] [flags]   serve every AWS service on one port (the default)
  minicloud cleanup [flags]   remove what a crashed minicloud left on the host (namespaces,
                              links, routes, cgroups, EBS mounts) for its --state-dir (and --public-cidr,
                              if it served another range); touches nothing else, and refuses
                              while a minicloud serves that directory

  Every command below that talks to the running server finds it the same way: --endpoint URL or ADDR,
  else $MINICLOUD_LISTEN (as serve reads it), else 127.0.0.1:4566; and says so when none answers there.

  minicloud diagram [flags]   print the architecture of an account, drawn by the running minicloud
                              from live state, as Mermaid (--endpoint URL or ADDR, default
                              $MINICLOUD_LISTEN or 127.0.0.1:4566; --account ID; --region R, default
                              $AWS_REGION or us-east-1)
  minicloud databases [--endpoint URL or ADDR]
                              list the running server's DB instances and the loopback
                              address where each is reachable from this machine (same default)
  minicloud dashboard-png --name NAME [--out DIR] [--endpoint URL or ADDR] [--region R] [--cell PIXELS]
                              render each metric widget of a CloudWatch dashboard of the running
                              server (same default) with GetMetricWidgetImage to DIR/<index>-<title>.png
                              (default DIR .), at the widget's grid size × PIXELS (default 50: a 6×6
                              widget is 300×300); text, log, alarm and explorer widgets are skipped
  minicloud ca [--endpoint URL or ADDR | --state-dir DIR]
                              print the root certificate (PEM) of minicloud's certificate authority,
                              which signs the certificates ACM issues, to trust it (curl --cacert,
                              SSL_CERT_FILE): the running server's (same default), or the CA of
                              state directory DIR without a server (made there if missing)
  minicloud oidc token --sub SUBJECT [--aud AUDIENCE]... [--ttl DURATION] [--claim KEY=VALUE]...
                     [--endpoint URL or ADDR | --state-dir DIR]
                              print an OpenID Connect ID token of minicloud's own issuer
                              (https://oidc.minicloud.localhost), signed with its key, for
                              sts assume-role-with-web-identity: the running server's key (same
                              default), or the key of state directory DIR without a server (made
                              there if missing); --aud defaults to sts.amazonaws.com, --ttl to 1h
  minicloud status [--wait D] say where the running server (same default) serves its API and DNS and
                              whether its data plane runs; --wait D waits up to D for it to answer
  minicloud endpoint          print the running server's URL (same default), e.g. for --endpoint-url
  minicloud resolve NAME      print the addresses the running server's DNS gives NAME (wherever that
                              DNS listens: port 53 or 8053), e.g.
                              curl --resolve app.example.test:80:$(minicloud resolve app.example.test) …
  minicloud aws ARGS…         run the AWS CLI against the running server (same default): always with
                              --endpoint-url, which every AWS CLI honours (AWS_ENDPOINT_URL and
                              endpoint_url are ignored by AWS CLI v2 before 2.13, Debian 12's 2.9, and
                              by v1 for rds, sqs and emr: those go to the real AWS); credentials
                              test/test and region us-east-1 unless the environment sets them
  minicloud profile [--name N]
                              print a ~/.aws/config profile with endpoint_url for the running server,
                              for clients that read it
  minicloud version           print the version
  minicloud help              show this help

Serve flags (each also read from the environment variable shown):
  --listen ADDR        address to listen on (MINICLOUD_LISTEN, default 127.0.0.1:4566)
  --state-dir DIR      durable state directory (MINICLOUD_STATE_DIR, default %s)
  --ephemeral          keep state in memory only (MINICLOUD_EPHEMERAL=1)
  --accounts MAP       access key → account ID, e.g. AKIAEXAMPLE1=111111111111,AKIAEXAMPLE2=222222222222
                       (MINICLOUD_ACCOUNTS); a 12-digit access key is its own account; any other key
                       is account 000000000000. With a secret, AKIAEXAMPLE1=111111111111:SECRET, the
                       key's requests can be verified (and are by default, see below)
  --verify-signatures  check every request's SigV4 signature, date and presigned expiry as AWS does
                       (MINICLOUD_VERIFY_SIGNATURES=1; default: on when --accounts gives secrets);
                       unsigned requests and keys without a secret are then refused
  --iam MODE           enforce or off (MINICLOUD_IAM, default off): with enforce every request is
                       evaluated against its caller's IAM policies and AssumeRole against the
                       role's trust policy, as AWS does; signatures are then verified too
  --max-connections N  HTTP connections served at once; past it requests get 503
                       ServiceUnavailable (MINICLOUD_MAX_CONNECTIONS, default %d)
  --log-level LEVEL    debug, info, warn or error (MINICLOUD_LOG_LEVEL, default info);
                       debug logs one line per request
  --data-plane MODE    auto, on or off (MINICLOUD_DATA_PLANE, default auto): VPCs as real networks
                       and instances as real processes; needs root on Linux (auto: off otherwise,
                       with the reason in /_minicloud/health). Off is API-only mode: lifecycles
                       complete (instances reach running) with nothing running
  --public-cidr CIDR   public IPs on the host (MINICLOUD_PUBLIC_CIDR, default 198.18.0.0/15)
  --dns-listen ADDR    DNS for Route 53's public zones (MINICLOUD_DNS_LISTEN, default auto:
                       127.0.0.1:53 when free and permitted, else 127.0.0.1:8053; off for none)
  --allow-host NAMES   further names the Host header may carry, comma-separated, "*.name" for the
                       names under name (MINICLOUD_ALLOW_HOST); IP addresses, localhost and AWS
                       endpoint names always work; any other name is refused (DNS rebinding)
  --metrics-interval D how often instances, load balancers and databases publish their CloudWatch metrics
                       (MINICLOUD_METRICS_INTERVAL, default 1m as AWS; basic monitoring every five
                       intervals); shorter, e.g. 5s, for tests and demos
  --cloudtrail MODE    on or off (MINICLOUD_CLOUDTRAIL, default on): record every call for CloudTrail's
                       LookupEvents; off is for measuring what recording costs

Examples:
  minicloud
  minicloud serve --listen 127.0.0.1:4566 --ephemeral
  minicloud aws sts get-caller-identity
  aws --endpoint-url http://localhost:4566 ec2 describe-availability-zones --region eu-west-1
  curl -s localhost:4566/_minicloud/health
`

// vpcnet does namespace work on goroutines locked to threads it then lets
// die; the main thread cannot die, so Go would park it inside a VPC's
// namespace, and /proc/self (the main thread) would then name that
// namespace. Keeping the main goroutine on the main thread prevents it.
func init() { goruntime.LockOSThread() }

func main() {
	// An instance's init is this binary re-executed inside the instance.
	if instruntime.InitMain() {
		return
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(args, stdout, stderr)
	case "cleanup":
		return cleanup(args, stdout, stderr)
	case "diagram":
		return diagram(args, stdout, stderr)
	case "databases":
		return databases(args, stdout, stderr)
	case "ca":
		return ca(args, stdout, stderr)
	case "dashboard-png":
		return dashboardPNG(args, stdout, stderr)
	case "oidc":
		return oidcCommand(args, stdout, stderr)
	case "status":
		return status(args, stdout, stderr)
	case "endpoint":
		return endpointCmd(args, stdout, stderr)
	case "resolve":
		return resolve(args, stdout, stderr)
	case "aws":
		return awsCLI(args, stderr)
	case "profile":
		return profile(args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "minicloud", buildVersion())
		return 0
	case "help":
		fmt.Fprintf(stdout, usage, server.DefaultStateDir(), server.DefaultMaxConnections)
		return 0
	}
	fmt.Fprintf(stderr, "minicloud: unknown command %q\n\n", cmd)
	fmt.Fprintf(stderr, usage, server.DefaultStateDir(), server.DefaultMaxConnections)
	return 2
}

func buildVersion() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "dev"
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += "+" + s.Value[:12]
		}
	}
	return v
}

func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

func serve(args []string, stdout, stderr io.Writer) int {
	closeInheritedOnExec()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	// Help the user asked for goes to stdout, so `minicloud --help | less` works.
	fs.Usage = func() { fmt.Fprintf(stdout, usage, server.DefaultStateDir(), server.DefaultMaxConnections) }
	listen := fs.String("listen", envOr("MINICLOUD_LISTEN", defaultListen), "")
	stateDir := fs.String("state-dir", envOr("MINICLOUD_STATE_DIR", ""), "")
	ephemeral := fs.Bool("ephemeral", envOr("MINICLOUD_EPHEMERAL", "") == "1" || envOr("MINICLOUD_EPHEMERAL", "") == "true", "")
	accounts := fs.String("accounts", envOr("MINICLOUD_ACCOUNTS", ""), "")
	logLevel := fs.String("log-level", envOr("MINICLOUD_LOG_LEVEL", "info"), "")
	dataPlane := fs.String("data-plane", envOr("MINICLOUD_DATA_PLANE", server.DataPlaneAuto), "")
	dnsListen := fs.String("dns-listen", envOr("MINICLOUD_DNS_LISTEN", server.DNSListenAuto), "")
	publicCIDR := fs.String("public-cidr", envOr("MINICLOUD_PUBLIC_CIDR", vpcnet.DefaultPublicCIDR.String()), "")
	allowHost := fs.String("allow-host", envOr("MINICLOUD_ALLOW_HOST", ""), "")
	verify := fs.Bool("verify-signatures", false, "")
	trail := fs.String("cloudtrail", envOr("MINICLOUD_CLOUDTRAIL", "on"), "")
	iamMode := fs.String("iam", envOr("MINICLOUD_IAM", "off"), "")
	maxConns := fs.Int("max-connections", 0, "")
	metricsInterval := fs.Duration("metrics-interval", 0, "")
	if v := os.Getenv("MINICLOUD_METRICS_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			fmt.Fprintf(stderr, "minicloud: MINICLOUD_METRICS_INTERVAL: %v\n", err)
			return 2
		}
		*metricsInterval = d
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *metricsInterval < 0 {
		fmt.Fprintf(stderr, "minicloud: --metrics-interval: %s is negative\n", *metricsInterval)
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "minicloud: --log-level: %v\n", err)
		return 2
	}
	acct, secrets, err := parseAccounts(*accounts)
	if err != nil {
		fmt.Fprintf(stderr, "minicloud: --accounts: %v\n", err)
		return 2
	}
	verifySigs, err := verifySignatures(fs, *verify, len(secrets) > 0)
	if err != nil {
		fmt.Fprintf(stderr, "minicloud: %v\n", err)
		return 2
	}
	if *iamMode != "enforce" && *iamMode != "off" {
		fmt.Fprintf(stderr, "minicloud: --iam: %q is not enforce or off\n", *iamMode)
		return 2
	}
	enforce := *iamMode == "enforce"
	if enforce && !verifySigs && (flagSet(fs, "verify-signatures") || os.Getenv("MINICLOUD_VERIFY_SIGNATURES") != "") {
		fmt.Fprintln(stderr, "minicloud: --iam enforce verifies signatures: it cannot be combined with signature verification turned off")
		return 2
	}
	if enforce {
		// Without verification anyone could sign with any access key and
		// be its user.
		verifySigs = true
	}
	if verifySigs && len(secrets) == 0 {
		what := "--verify-signatures needs"
		if enforce {
			what = "--iam enforce verifies signatures: it needs"
		}
		fmt.Fprintf(stderr, "minicloud: %s at least one key with a secret: --accounts ACCESS_KEY=ACCOUNT_ID:SECRET\n", what)
		return 2
	}
	connLimit, err := maxConnections(fs, *maxConns)
	if err != nil {
		fmt.Fprintf(stderr, "minicloud: %v\n", err)
		return 2
	}
	switch *dataPlane {
	case server.DataPlaneAuto, server.DataPlaneOn, server.DataPlaneOff:
	default:
		fmt.Fprintf(stderr, "minicloud: --data-plane: %q is not auto, on or off\n", *dataPlane)
		return 2
	}
	if *trail != "on" && *trail != "off" {
		fmt.Fprintf(stderr, "minicloud: --cloudtrail: %q is not on or off\n", *trail)
		return 2
	}
	pub, err := netip.ParsePrefix(*publicCIDR)
	if err != nil || !pub.Addr().Is4() {
		fmt.Fprintf(stderr, "minicloud: --public-cidr: %q is not an IPv4 CIDR\n", *publicCIDR)
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	// Signals are caught before anything is set up: a SIGTERM that arrives
	// while the data plane starts must still lead to a clean stop that
	// removes what was created, not to the default immediate exit.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	srv, err := server.New(server.Config{Listen: *listen, StateDir: *stateDir, Ephemeral: *ephemeral, Accounts: acct, Logger: logger,
		Version: buildVersion(), DataPlane: *dataPlane, PublicCIDR: pub.Masked(), DNSListen: *dnsListen,
		AllowedHosts: splitList(*allowHost), Secrets: secrets, VerifySignatures: verifySigs, MaxConnections: connLimit,
		MetricsInterval: *metricsInterval, CloudTrailOff: *trail == "off", IAMEnforce: enforce})
	if err != nil {
		logger.Error("start failed", "error", err)
		return 1
	}
	if err := srv.Start(); err != nil {
		logger.Error("start failed", "error", err)
		_ = srv.Close(context.Background())
		return 1
	}
	logger.Info("minicloud listening", "addr", srv.Addr(), "version", buildVersion(), "state", stateDesc(*ephemeral, *stateDir))
	fmt.Fprintf(stdout, "minicloud %s listening on http://%s\n", buildVersion(), srv.Addr())
	if a := srv.DNSAddr(); a != "" {
		fmt.Fprintf(stdout, "DNS for Route 53 zones on %s (udp and tcp)\n", a)
		fmt.Fprint(stdout, reachHint(a))
	}
	fmt.Fprint(stdout, guardHint)
	if srv.Addr() != defaultListen {
		// The client commands find a server elsewhere only when told.
		fmt.Fprintf(stdout, "Client commands (minicloud status, aws, resolve, databases…) find this server with: export MINICLOUD_LISTEN=%s\n", srv.Addr())
	}

	select {
	case sig := <-sigs:
		logger.Info("shutting down", "signal", sig.String())
	case err := <-srv.Done():
		if err != nil {
			logger.Error("serve failed", "error", err)
			return 1
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		logger.Error("shutdown", "error", err)
		return 1
	}
	logger.Info("stopped")
	return 0
}

func stateDesc(ephemeral bool, dir string) string {
	if ephemeral {
		return "memory"
	}
	if dir == "" {
		dir = server.DefaultStateDir()
	}
	return dir
}

// parseAccounts parses "AKID=123456789012,AKID2=210987654321:secret": each
// access key's account and, when given, its secret access key (which may
// itself hold any character but a comma).
func parseAccounts(s string) (accounts, secrets map[string]string, err error) {
	accounts, secrets = map[string]string{}, map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		acct, secret, hasSecret := strings.Cut(v, ":")
		if !ok || k == "" || len(acct) != 12 || strings.Trim(acct, "0123456789") != "" || hasSecret && secret == "" {
			return nil, nil, fmt.Errorf("%q is not ACCESS_KEY=12-digit-account-id or ACCESS_KEY=12-digit-account-id:SECRET", pair)
		}
		accounts[k] = acct
		if hasSecret {
			secrets[k] = secret
		}
	}
	return accounts, secrets, nil
}

// verifySignatures is --verify-signatures if given, else
// MINICLOUD_VERIFY_SIGNATURES if set, else on exactly when secrets are
// known.
func verifySignatures(fs *flag.FlagSet, flagValue, haveSecrets bool) (bool, error) {
	if flagSet(fs, "verify-signatures") {
		return flagValue, nil
	}
	if v, ok := os.LookupEnv("MINICLOUD_VERIFY_SIGNATURES"); ok && v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("MINICLOUD_VERIFY_SIGNATURES: %q is not a boolean", v)
		}
		return b, nil
	}
	return haveSecrets, nil
}

// maxConnections is --max-connections if given, else
// MINICLOUD_MAX_CONNECTIONS, else the default (0).
func maxConnections(fs *flag.FlagSet, flagValue int) (int, error) {
	v := strconv.Itoa(flagValue)
	if !flagSet(fs, "max-connections") {
		v = envOr("MINICLOUD_MAX_CONNECTIONS", "0")
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("--max-connections: %q is not a number of connections", v)
	}
	return n, nil
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// cleanup removes the host objects (namespaces, links, routes, nftables
// tables) and the EBS bind mounts of the minicloud whose state directory is
// --state-dir, after a crash. Everything minicloud creates carries that
// directory's prefix or lives under it, so nothing else is touched. It
// refuses while a minicloud serves that directory (it would pull the
// network from under running instances): the server holds the state
// store's lock, and cleanup holds it too while it works, so a server
// started meanwhile fails to open the store rather than race it.
func cleanup(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cleanup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stateDir := fs.String("state-dir", envOr("MINICLOUD_STATE_DIR", server.DefaultStateDir()), "")
	// The guard route of the public range is keyed by the range itself, so
	// cleanup must be told the range the crashed minicloud served.
	publicCIDR := fs.String("public-cidr", envOr("MINICLOUD_PUBLIC_CIDR", vpcnet.DefaultPublicCIDR.String()), "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	pub, err := netip.ParsePrefix(*publicCIDR)
	if err != nil || !pub.Addr().Is4() {
		fmt.Fprintf(stderr, "minicloud cleanup: --public-cidr: %q is not an IPv4 CIDR\n", *publicCIDR)
		return 2
	}
	release, err := state.LockBolt(filepath.Join(*stateDir, "state.db"))
	if err != nil {
		var le *state.LockedError
		if errors.As(err, &le) {
			who := "a running minicloud"
			if le.PID > 0 {
				who += fmt.Sprintf(" (pid %d)", le.PID)
			}
			fmt.Fprintf(stderr, "minicloud cleanup: %s serves the state directory %s; stop it first (a clean stop removes what it made)\n", who, *stateDir)
			return 1
		}
		fmt.Fprintf(stderr, "minicloud cleanup: %v\n", err)
		return 1
	}
	defer release()
	// Mounts first: the namespaces' removal must not be blocked by, or
	// leave behind, volumes still bound into instances' directories.
	if err := instruntime.CleanupMounts(filepath.Join(*stateDir, "instances")); err != nil {
		fmt.Fprintf(stderr, "minicloud cleanup: %v\n", err)
		return 1
	}
	prefix := server.Prefix(*stateDir)
	n, err := vpcnet.New(vpcnet.Config{Prefix: prefix, PublicCIDR: pub})
	if err != nil {
		fmt.Fprintf(stderr, "minicloud cleanup: %v\n", err)
		return 1
	}
	defer n.Close()
	if err := n.Cleanup(context.Background()); err != nil {
		fmt.Fprintf(stderr, "minicloud cleanup: %v\n", err)
		return 1
	}
	// The workload runtime names its cgroups after the same prefix.
	if err := workload.CleanupCgroups(prefix); err != nil {
		fmt.Fprintf(stderr, "minicloud cleanup: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "removed the host objects with prefix %s and the EBS mounts of state dir %s\n", prefix, *stateDir)
	return 0
}

// closeInheritedOnExec marks every descriptor minicloud inherited beyond
// the standard three close-on-exec (a shell's or a supervisor's leftovers:
// Go opens its own so already), so that none reaches a process minicloud
// starts — a database server, a load balancer node, an instance.
func closeInheritedOnExec() {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return // not Linux, or no /proc: nothing to do that we could
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}
