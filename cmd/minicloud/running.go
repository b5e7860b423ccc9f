package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// The commands in this file work with the running minicloud, found as
// every client command finds it (defaultServer: --endpoint, else
// $MINICLOUD_LISTEN, else 127.0.0.1:4566), and say so plainly when none
// answers there (notRunning).

// notRunning is the error of a client command that found no minicloud at
// addr: what to do about it first, the network error after.
func notRunning(addr string, err error) error {
	return fmt.Errorf("no minicloud answers at %s: start one with `minicloud serve`, or, if it listens elsewhere, "+
		"set MINICLOUD_LISTEN to its --listen address (or pass --endpoint) (%w)", serverURL(addr), err)
}

// health is the part of /_minicloud/health the commands below read.
type health struct {
	Version string `json:"version"`
	DNS     struct {
		State  string `json:"state"`
		Listen string `json:"listen"`
	} `json:"dns"`
	DataPlane struct {
		State  string `json:"state"`
		Reason string `json:"reason"`
	} `json:"dataPlane"`
}

// fetchHealth reads the running minicloud's health at addr, waiting up to
// wait for it to answer (0: asking once).
func fetchHealth(ctx context.Context, addr string, wait time.Duration) (health, error) {
	deadline := time.Now().Add(wait)
	for {
		b, err := getFromServer(ctx, addr, "/_minicloud/health")
		if err == nil {
			var h health
			if err := json.Unmarshal(b, &h); err != nil {
				return h, fmt.Errorf("decode %s/_minicloud/health: %w", serverURL(addr), err)
			}
			return h, nil
		}
		if time.Now().After(deadline) {
			return health{}, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// status says where the running minicloud serves its API and DNS and
// whether its data plane runs; with --wait it first waits for one to
// answer (after `minicloud serve &`).
func status(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", defaultServer(), "")
	wait := fs.Duration("wait", 0, "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	h, err := fetchHealth(context.Background(), *endpoint, *wait)
	if err != nil {
		fmt.Fprintf(stderr, "minicloud status: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "minicloud %s: API on %s\n", h.Version, serverURL(*endpoint))
	if h.DNS.Listen != "" {
		fmt.Fprintf(stdout, "DNS for Route 53 zones on %s (minicloud resolve NAME asks it)\n", h.DNS.Listen)
	} else {
		fmt.Fprintf(stdout, "no DNS server: %s\n", h.DNS.State)
	}
	if h.DataPlane.State == "on" {
		fmt.Fprintln(stdout, "data plane on: VPCs are real networks, instances real processes")
	} else {
		fmt.Fprintf(stdout, "data plane off (API only): %s\n", h.DataPlane.Reason)
	}
	return 0
}

// endpointCmd prints the running minicloud's URL, for tools that take an
// endpoint (ENDPOINT=$(minicloud endpoint) …, --endpoint-url).
func endpointCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("endpoint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", defaultServer(), "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if _, err := fetchHealth(context.Background(), *endpoint, 0); err != nil {
		fmt.Fprintf(stderr, "minicloud endpoint: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, serverURL(*endpoint))
	return 0
}

// resolve prints the IPv4 addresses the running minicloud's DNS server
// gives a name, one a line, wherever that server listens (port 53 or
// another): what curl --resolve and /etc/hosts need.
func resolve(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("resolve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", defaultServer(), "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: minicloud resolve [--endpoint URL or ADDR] NAME")
		return 2
	}
	name := fs.Arg(0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h, err := fetchHealth(ctx, *endpoint, 0)
	if err != nil {
		fmt.Fprintf(stderr, "minicloud resolve: %v\n", err)
		return 1
	}
	if h.DNS.Listen == "" {
		fmt.Fprintf(stderr, "minicloud resolve: the minicloud at %s serves no DNS: %s\n", serverURL(*endpoint), h.DNS.State)
		return 1
	}
	addrs, err := lookupA(ctx, h.DNS.Listen, name)
	if err != nil {
		fmt.Fprintf(stderr, "minicloud resolve: %v\n", err)
		return 1
	}
	for _, a := range addrs {
		fmt.Fprintln(stdout, a)
	}
	return 0
}

// lookupA asks the DNS server at server for name's A records (following
// the CNAMEs it answers with).
func lookupA(ctx context.Context, server, name string) ([]string, error) {
	q := new(dns.Msg).SetQuestion(dns.Fqdn(name), dns.TypeA)
	c := &dns.Client{Timeout: 5 * time.Second}
	in, _, err := c.ExchangeContext(ctx, q, server)
	if err != nil {
		return nil, fmt.Errorf("ask minicloud's DNS at %s for %s: %w", server, name, err)
	}
	var out []string
	for _, rr := range in.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no address on minicloud's DNS at %s (%s): is it a record of a public hosted zone?",
			name, server, dns.RcodeToString[in.Rcode])
	}
	return out, nil
}

// awsCLI runs the AWS CLI against the running minicloud, always with
// --endpoint-url: AWS_ENDPOINT_URL and the config file's endpoint_url are
// ignored by Debian 12's AWS CLI v2 (2.9; they came in 2.13) and, for rds,
// sqs and emr in us-east-1, by AWS CLI v1, which then send the command to
// the real AWS. The wrapper cannot: it refuses an --endpoint-url of the
// caller's, and gives the CLI test credentials and us-east-1 when the
// environment names none, so no real key is used by accident either.
func awsCLI(args []string, stderr io.Writer) int {
	for _, a := range args {
		if a == "--endpoint-url" || strings.HasPrefix(a, "--endpoint-url=") {
			fmt.Fprintln(stderr, "minicloud aws: the endpoint is the running minicloud's (set MINICLOUD_LISTEN to choose it); use aws itself for another")
			return 2
		}
	}
	addr := defaultServer()
	if _, err := fetchHealth(context.Background(), addr, 0); err != nil {
		fmt.Fprintf(stderr, "minicloud aws: %v\n", err)
		return 1
	}
	cli := envOr("MINICLOUD_AWS_CLI", "aws")
	path, err := exec.LookPath(cli)
	if err != nil {
		fmt.Fprintf(stderr, "minicloud aws: the AWS CLI (%s) is not installed: apt-get install awscli, or pip install awscli (%v)\n", cli, err)
		return 1
	}
	env := awsEnv(os.Environ())
	argv := append([]string{cli, "--endpoint-url", serverURL(addr)}, args...)
	err = syscall.Exec(path, argv, env)
	fmt.Fprintf(stderr, "minicloud aws: run %s: %v\n", path, err)
	return 1
}

// awsEnv is env with credentials and a region for minicloud when it names
// none (neither an access key nor a profile, no region), and no pager
// unless it asks for one.
func awsEnv(env []string) []string {
	has, set := map[string]bool{}, map[string]bool{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		has[k], set[k] = v != "", true
	}
	var add []string
	if !set["AWS_PAGER"] {
		// AWS CLI v2 pages its output through less by default; a pasted
		// command should just print.
		add = append(add, "AWS_PAGER=")
	}
	if !has["AWS_ACCESS_KEY_ID"] && !has["AWS_PROFILE"] {
		add = append(add, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
	}
	if !has["AWS_REGION"] && !has["AWS_DEFAULT_REGION"] && !has["AWS_PROFILE"] {
		add = append(add, "AWS_DEFAULT_REGION=us-east-1")
	}
	// An empty variable of the same name goes: which of two a process
	// sees depends on its C library.
	out := slices.DeleteFunc(env, func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return slices.ContainsFunc(add, func(a string) bool { return strings.HasPrefix(a, k+"=") })
	})
	return append(out, add...)
}

// profile prints a profile for ~/.aws/config that points the clients
// which read endpoint_url (AWS CLI v2 2.13 and later, recent AWS CLI v1
// except for rds, sqs and emr in us-east-1, recent boto3, the Go SDK v2's
// config loader) at the running minicloud.
func profile(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("profile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", defaultServer(), "")
	name := fs.String("name", "minicloud", "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fmt.Fprint(stdout, profileSnippet(*name, serverURL(*endpoint)))
	return 0
}

func profileSnippet(name, url string) string {
	return fmt.Sprintf(`# For ~/.aws/config: aws --profile %[1]s …, AWS_PROFILE=%[1]s. Only clients that read endpoint_url
# honour it (AWS CLI v2 2.13 and later, recent v1 but not for rds, sqs and emr in us-east-1, recent
# boto3); others (Debian 12's AWS CLI 2.9) go to the real AWS with these test keys, which it refuses.
# minicloud aws … always passes --endpoint-url.
[profile %[1]s]
endpoint_url = %[2]s
region = us-east-1
aws_access_key_id = test
aws_secret_access_key = test
`, name, url)
}
