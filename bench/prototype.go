//go:build bench

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/miekg/dns"
)

// The prototype scenario (root, minicloud only, not part of "all") times
// examples/01-prototype end to end on a fresh minicloud with its data plane
// and DNS: the provisioning script (boto3 by default, or the AWS CLI),
// then the checks a person makes — app.example.test resolves through
// minicloud's DNS to the Elastic IP, a GET shows the page, a second GET
// shows the count incremented (the row went through RDS) — then the
// teardown script and a check that the account holds nothing of it. Each
// run is timed as a whole and by phase; the first run is a warm-up (it also
// fills the Go build cache for the app the script builds).
//
// Contacted: 127.0.0.1 (the API and the DNS server) and the Elastic IP,
// only once the host routes it through a link of this minicloud.

type protoOptions struct {
	runs, warm int
	client     string // boto3 or cli
	max        time.Duration
}

type protoRun struct {
	provision, firstAnswer, teardown, total time.Duration
	visits                                  [2]int
}

var visitsRE = regexp.MustCompile(`<p id="count">([0-9]+) visits</p>`)

func runPrototype(o protoOptions, bin, tmp string) ([]protoRun, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(root, "examples", "01-prototype")
	// The scripts build the app into the directory of the AMI they
	// register.
	imgRoot, err := os.MkdirTemp("", "minicloud-bench-image-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(imgRoot)
	s := dpServer(bin, "info")
	inner := s.args
	s.args = func(port int) []string { return append(inner(port), "--dns-listen", "127.0.0.1:0") }
	var out []protoRun
	for i := 0; i < o.warm+o.runs; i++ {
		r, err := protoOnce(s, o, dir, filepath.Join(imgRoot, "image"), tmp)
		if err != nil {
			return nil, fmt.Errorf("run %d: %w", i+1, err)
		}
		if i >= o.warm {
			out = append(out, r)
		}
		fmt.Fprintf(os.Stderr, "prototype run %d: %v (provision %v, first answer %v, teardown %v)\n", i+1,
			r.total.Round(time.Millisecond), r.provision.Round(time.Millisecond), r.firstAnswer.Round(time.Millisecond), r.teardown.Round(time.Millisecond))
	}
	return out, nil
}

func protoOnce(s *server, o protoOptions, dir, imageDir, tmp string) (r protoRun, err error) {
	p, prefix, err := dpStart(s, tmp)
	if err != nil {
		return r, err
	}
	defer p.stop()
	dnsAddr, err := dnsAddrOf(p.url())
	if err != nil {
		return r, err
	}
	script := func(name string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), o.max)
		defer cancel()
		var cmd *exec.Cmd
		if o.client == "cli" {
			cmd = exec.CommandContext(ctx, "bash", name+".sh")
		} else {
			cmd = exec.CommandContext(ctx, "python3", name+".py")
		}
		cmd.Dir = dir
		cmd.Env = append(scriptEnv(os.Environ()),
			"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION="+region, "ENDPOINT="+p.url(), "IMAGE_DIR="+imageDir)
		b, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, b)
		}
		return string(b), nil
	}

	t0 := time.Now()
	prov, err := script("provision")
	if err != nil {
		return r, err
	}
	r.provision = time.Since(t0)
	var eip string
	for _, l := range strings.Split(prov, "\n") {
		if v, ok := strings.CutPrefix(l, "output EIP="); ok {
			eip = v
		}
	}
	resolved, err := lookupA(dnsAddr, "app.example.test")
	if err != nil || resolved != eip {
		return r, fmt.Errorf("app.example.test resolves to %q (%v), want the Elastic IP %q", resolved, err, eip)
	}
	ip, err := netip.ParseAddr(resolved)
	if err != nil || !dpPublicPool.Contains(ip) {
		return r, fmt.Errorf("Elastic IP %q outside %s: not contacting it", resolved, dpPublicPool)
	}
	pr := newProber(prefix, time.Second)
	deadline := time.Now().Add(o.max)
	for i := 0; i < 2; i++ {
		for {
			n, err := visitOnce(pr, ip)
			if err == nil {
				r.visits[i] = n
				break
			}
			if i == 1 || time.Now().After(deadline) {
				return r, fmt.Errorf("GET http://app.example.test/ (%s): %w", ip, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if i == 0 {
			r.firstAnswer = time.Since(t0) - r.provision
		}
	}
	if r.visits[1] != r.visits[0]+1 {
		return r, fmt.Errorf("visit counts %d then %d: the second GET did not see the first's row", r.visits[0], r.visits[1])
	}
	t1 := time.Now()
	if _, err := script("teardown"); err != nil {
		return r, err
	}
	r.teardown = time.Since(t1)
	r.total = time.Since(t0)
	return r, checkEmpty(p.url())
}

// dnsAddrOf reads where minicloud's DNS server listens from its health.
func dnsAddrOf(base string) (string, error) {
	var h struct {
		DNS struct{ State, Listen string } `json:"dns"`
	}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil}}
	resp, err := c.Get(base + "/_minicloud/health")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&h); err != nil {
		return "", err
	}
	if h.DNS.Listen == "" {
		return "", fmt.Errorf("minicloud serves no DNS: %s", h.DNS.State)
	}
	return h.DNS.Listen, nil
}

func lookupA(dnsAddr, name string) (string, error) {
	ips, err := lookupAll(dnsAddr, name)
	if err != nil {
		return "", err
	}
	return ips[0], nil
}

// lookupAll is every A record of name, asked of dnsAddr.
func lookupAll(dnsAddr, name string) ([]string, error) {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), dns.TypeA)
	m, _, err := (&dns.Client{Timeout: time.Second}).Exchange(q, dnsAddr)
	if err != nil {
		return nil, err
	}
	var ips []string
	for _, rr := range m.Answer {
		if a, ok := rr.(*dns.A); ok {
			ips = append(ips, a.A.String())
		}
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("%s: no A record (%s)", name, dns.RcodeToString[m.Rcode])
	}
	return ips, nil
}

// visitOnce GETs the site on its Elastic IP with the Host a browser sends,
// once the host routes that address into this minicloud.
func visitOnce(pr *prober, ip netip.Addr) (int, error) {
	if !pr.routed(ip) {
		return 0, errors.New("no host route through minicloud yet")
	}
	req, err := http.NewRequest(http.MethodGet, "http://"+net.JoinHostPort(ip.String(), "80")+"/", nil)
	if err != nil {
		return 0, err
	}
	req.Host = "app.example.test"
	resp, err := pr.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	m := visitsRE.FindSubmatch(b)
	if m == nil {
		return 0, errors.New("no visit count in the page")
	}
	return strconv.Atoi(string(m[1]))
}

// checkEmpty asks the API that nothing of the prototype is left: no
// instance, database or hosted zone (the VPC check is the teardown
// script's own last step).
func checkEmpty(base string) error {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil}}
	resp, err := c.Get(base + "/_minicloud/diagram")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if d := strings.TrimSpace(string(b)); d != "graph TD" {
		return fmt.Errorf("after the teardown the account still shows:\n%s", b)
	}
	return nil
}

func reportPrototype(w io.Writer, o protoOptions, rs []protoRun) {
	med := func(f func(protoRun) time.Duration) time.Duration {
		v := make([]time.Duration, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	fmt.Fprintf(w, "\nprototype (%s scripts; %d measured runs after %d warm-up; median):\n", o.client, len(rs), o.warm)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "phase\tmedian\truns")
	row := func(name string, f func(protoRun) time.Duration) {
		var each []string
		for _, r := range rs {
			each = append(each, f(r).Round(10*time.Millisecond).String())
		}
		fmt.Fprintf(tw, "%s\t%v\t%s\n", name, med(f).Round(10*time.Millisecond), strings.Join(each, " "))
	}
	row("provision (script, incl. app build)", func(r protoRun) time.Duration { return r.provision })
	row("resolve + first page", func(r protoRun) time.Duration { return r.firstAnswer })
	row("teardown (script)", func(r protoRun) time.Duration { return r.teardown })
	row("whole run (target < 10s)", func(r protoRun) time.Duration { return r.total })
	tw.Flush()
}

// scriptEnv is env without what would point the example's scripts elsewhere
// than the benchmark's minicloud: AWS_* (endpoint, profile, credentials,
// region) and MINICLOUD_*, as test/prototype runs them.
func scriptEnv(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		return strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "MINICLOUD_")
	})
}
