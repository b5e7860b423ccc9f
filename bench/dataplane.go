//go:build bench

package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/vishvananda/netlink"

	"github.com/minicloud/minicloud/internal/vpcnet"
)

// The data-plane scenarios. moto has no data plane (its instances are
// records only), so they run minicloud alone, with --data-plane on, as
// root:
//
//   - dataplane-boot: RunInstances of one instance whose user data starts
//     python3's http.server on port 80, then GET http://<public IP>/index.html
//     from the host until it answers; the time from sending RunInstances to
//     the first 200, repeated, each instance terminated (and waited for)
//     before the next.
//   - dataplane-fleet: 50 such instances launched in one call: time until
//     all run and all answer, then the memory of minicloud and of the
//     instances' processes; then terminate them all, stop minicloud and
//     check it left nothing on the host.
//
// The harness talks to 127.0.0.1 and, over HTTP, only to the instances'
// public IPs: an address of the public pool whose host route goes through a
// link of this minicloud (its prefix). Before that route exists, no packet
// is sent (the address would otherwise follow the default route).

const (
	targetBootHTTP = 300 * time.Millisecond
	motoNoDP       = "n/a — moto does not run instances"
	// dpUserData starts a web server from the instance's user data. The
	// guest runs the host's userland read-only underneath (python3 is the
	// host's /usr/bin/python3).
	dpUserData = "#!/bin/sh\ncd /var/tmp && echo ok > index.html && nohup python3 -m http.server 80 >/dev/null 2>&1 &\n"
	dpBody     = "ok\n"
)

// dpPublicPool is minicloud's default public pool (--public-cidr is not
// passed): the only non-loopback addresses the harness contacts.
var dpPublicPool = netip.MustParsePrefix("198.18.0.0/15")

type dpOptions struct {
	runs, warm   int
	httpEvery    time.Duration // between GET tries
	httpTry      time.Duration // per-try timeout
	httpMax      time.Duration // give up on one instance's answer
	fleet        int
	fleetEvery   time.Duration // between GET tries per fleet instance
	fleetMax     time.Duration
	idleWait     time.Duration
	logLevel     string
	keepConsole  bool
	userData     string // the standard web server script, or -dp-user-data's
	userDataFile string // diagnostics: -dp-user-data (it must still serve index.html = "ok")
}

// bootRun is one RunInstances → first HTTP answer, every time from just
// before RunInstances was sent.
type bootRun struct {
	ID, IP string
	T0     time.Time     // RunInstances sent
	API    time.Duration // RunInstances answered
	IPSeen time.Duration // public IP known (in the answer, or by DescribeInstances)
	Route  time.Duration // host route to the public IP through this minicloud's link
	Tries  int           // GET tries, successful one included
	// Timeouts counts tries that hit the per-try timeout: the SYN was
	// neither answered nor refused (sent before the instance's side was
	// there).
	Timeouts int
	HTTP     time.Duration // first 200 with the expected body
	// From minicloud's log (wall clock, ms resolution) and the console
	// (relative to the init's start, µs for the init's lines, 10 ms for
	// cloud-init's "Up" figures); -1 when not found.
	InitStart   time.Duration // the runtime starts the init (log "instance booted" minus the console's init-up offset)
	InitUp      time.Duration // log "instance booted": root mounted, init reported up
	Running     time.Duration // log "instance state reported" state=running
	SGApplied   time.Duration // log "security groups applied" for the instance's ENI
	CloudInitUp float64       // console: cloud-init 'init-local' banner, seconds after init start
	FinalUp     float64       // console: cloud-init final message, seconds after init start
	Terminated  time.Duration // TerminateInstances → state terminated
	Console     string
}

type dpBootResult struct {
	Warm     []bootRun
	Runs     []bootRun
	Prefix   string
	Cleanup  cleanupCheck
	ExitTime time.Duration
}

type dpFleetResult struct {
	N                    int
	API                  time.Duration // RunInstances (N) answered
	AllRunning           time.Duration // DescribeInstances shows all running
	AllAnswering         time.Duration // every instance answered HTTP
	Answers              []time.Duration
	Failed               int
	MiniRSS              memInfo // minicloud with N instances idle
	MiniRSSBefore        memInfo // minicloud before the launch
	Procs                int     // processes in the instances' PID namespaces
	SumRSS, SumAnon      int64   // KiB, over those processes
	SumPss               int64   // KiB
	CgroupBytes          int64   // sum of the instances' memory cgroups' usage
	CgroupRSSBytes       int64   // sum of memory.stat rss (v1) / anon (v2)
	Cgroups              int
	InitRSS, PythonRSS   []int64 // KiB, per process kind
	InitAnon, PythonAnon []int64
	Warm                 bootRun // one instance first, to build the VPC's network (unmeasured)
	Routes               []time.Duration
	LastBooted           time.Duration // log: last "instance booted"
	LastRunning          time.Duration // log: last state=running report
	LastSG               time.Duration // log: last "security groups applied" of the fleet's ENIs
	Retries              int           // log: "launch failed; retrying" of the fleet
	FirstBooted          time.Duration // log: first "instance booted"
	// CPU from sending RunInstances until every instance answered:
	// minicloud's own process, the harness, and the rest of the machine
	// (the instances' inits, shells and pythons, plus anything else).
	CPUMini, CPUHarness, CPUMachine time.Duration
	Terminated                      time.Duration
	ExitTime                        time.Duration
	Cleanup                         cleanupCheck
	Prefix                          string
	MachineAvailBefore              int64 // MemAvailable KiB before launch
	MachineAvailWithMany            int64 // and with the fleet idle
}

type cleanupCheck struct {
	Namespaces, Cgroups, Links, Procs []string
	Done                              bool
}

func (c cleanupCheck) clean() bool {
	return c.Done && len(c.Namespaces)+len(c.Cgroups)+len(c.Links)+len(c.Procs) == 0
}

func (c cleanupCheck) String() string {
	if !c.Done {
		return "not checked"
	}
	return fmt.Sprintf("%d netns, %d cgroups, %d links, %d processes left", len(c.Namespaces), len(c.Cgroups), len(c.Links), len(c.Procs))
}

// dpServer is minicloud with its data plane on.
func dpServer(bin, logLevel string) *server {
	return &server{
		name: "minicloud",
		bin:  bin,
		args: func(port int) []string {
			return []string{"serve", "--listen", fmt.Sprintf("%s:%d", host, port), "--ephemeral", "--data-plane", "on", "--log-level", logLevel}
		},
		readyPath: "/_minicloud/health",
		readyMax:  20 * time.Second,
		// A clean stop terminates every instance and removes the data
		// plane; give it time before SIGKILL.
		stopGrace: 60 * time.Second,
	}
}

// dpStart starts minicloud with its data plane and returns its host prefix.
func dpStart(s *server, tmp string) (*proc, string, error) {
	if os.Geteuid() != 0 {
		return nil, "", errors.New("the dataplane scenarios need root (minicloud's data plane: namespaces, overlayfs, cgroups, nftables)")
	}
	p, err := start(s, tmp)
	if err != nil {
		return nil, "", err
	}
	if _, err := p.waitReady(); err != nil {
		p.stop()
		return nil, "", err
	}
	var h struct {
		DataPlane struct {
			State, Prefix, Reason string
		} `json:"dataPlane"`
		Instances map[string]any `json:"instances"`
	}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := c.Get(p.url() + "/_minicloud/health")
	if err == nil {
		err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&h)
		resp.Body.Close()
	}
	if err != nil {
		p.stop()
		return nil, "", fmt.Errorf("health: %w", err)
	}
	if h.DataPlane.State != "on" || !regexp.MustCompile(`^mc[0-9a-f]{5}$`).MatchString(h.DataPlane.Prefix) {
		p.stop()
		return nil, "", fmt.Errorf("data plane not on (state %q, prefix %q, %s); instances: %v", h.DataPlane.State, h.DataPlane.Prefix, h.DataPlane.Reason, h.Instances)
	}
	fmt.Fprintf(os.Stderr, "minicloud pid %d, data plane prefix %s, log %s\n", p.pid, h.DataPlane.Prefix, p.logPath)
	return p, h.DataPlane.Prefix, nil
}

// dpSetup finds the AMI and makes a security group of the default VPC that
// lets tcp 80 in from anywhere.
func dpSetup(c *ec2.Client, name string) (ami, sg string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if ami, err = findAMI(ctx, c, "minicloud"); err != nil {
		return "", "", err
	}
	out, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String("bench: http from anywhere")})
	if err != nil {
		return "", "", fmt.Errorf("CreateSecurityGroup: %w", err)
	}
	_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: out.GroupId,
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80),
			IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
	if err != nil {
		return "", "", fmt.Errorf("AuthorizeSecurityGroupIngress: %w", err)
	}
	return ami, aws.ToString(out.GroupId), nil
}

func dpRunInput(ami, sg string, n int32, userData string) *ec2.RunInstancesInput {
	return &ec2.RunInstancesInput{
		ImageId:          aws.String(ami),
		InstanceType:     benchInstanceType,
		MinCount:         aws.Int32(n),
		MaxCount:         aws.Int32(n),
		SecurityGroupIds: []string{sg},
		UserData:         aws.String(base64.StdEncoding.EncodeToString([]byte(userData))),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance,
			Tags: []types.Tag{{Key: aws.String("Bench"), Value: aws.String("minicloud-bench-dataplane")}}}},
	}
}

// prober GETs http://<public ip>/index.html, but only once the host's
// route to that address goes through a link of this minicloud.
type prober struct {
	prefix string
	client *http.Client
	mu     sync.Mutex
	links  map[int]string // link index → name (cache; names of our links do not change)
}

func newProber(prefix string, tryTimeout time.Duration) *prober {
	tr := &http.Transport{Proxy: nil, DisableKeepAlives: true, DialContext: (&net.Dialer{Timeout: tryTimeout}).DialContext}
	return &prober{prefix: prefix, client: &http.Client{Timeout: tryTimeout, Transport: tr}, links: map[int]string{}}
}

// routed reports whether the host routes ip through one of this minicloud's
// links (its internet-gateway veth).
func (pr *prober) routed(ip netip.Addr) bool {
	rs, err := netlink.RouteGet(ip.AsSlice())
	if err != nil || len(rs) == 0 || rs[0].LinkIndex == 0 {
		return false
	}
	idx := rs[0].LinkIndex
	pr.mu.Lock()
	name, ok := pr.links[idx]
	pr.mu.Unlock()
	if !ok {
		l, err := netlink.LinkByIndex(idx)
		if err != nil {
			return false
		}
		name = l.Attrs().Name
		if strings.HasPrefix(name, pr.prefix+"-") {
			pr.mu.Lock()
			pr.links[idx] = name
			pr.mu.Unlock()
		}
	}
	return strings.HasPrefix(name, pr.prefix+"-")
}

// get is one try: true on 200 with the expected body; timedOut when the
// try ran into its timeout (a SYN nobody answered, not even with a reset).
func (pr *prober) get(ip netip.Addr) (ok, timedOut bool) {
	resp, err := pr.client.Get("http://" + ip.String() + "/index.html")
	if err != nil {
		var ne net.Error
		return false, errors.As(err, &ne) && ne.Timeout()
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK && string(b) == dpBody, false
}

// waitHTTP polls ip until it answers, every `every`, for at most max; it
// returns the times (since t0) the route appeared and the answer came, and
// the tries made (and how many of them timed out, in pr.timeouts).
func (pr *prober) waitHTTP(t0 time.Time, ip netip.Addr, every, max time.Duration) (route, answer time.Duration, tries int, err error) {
	return pr.waitHTTPCounting(t0, ip, every, max, nil)
}

func (pr *prober) waitHTTPCounting(t0 time.Time, ip netip.Addr, every, max time.Duration, timeouts *int) (route, answer time.Duration, tries int, err error) {
	if !dpPublicPool.Contains(ip) {
		return 0, 0, 0, fmt.Errorf("public IP %s is outside %s: not contacting it", ip, dpPublicPool)
	}
	deadline := time.Now().Add(max)
	route = -1
	for i := 0; i < 1_000_000; i++ {
		if route < 0 && pr.routed(ip) {
			route = time.Since(t0)
		}
		if route >= 0 {
			tries++
			ok, to := pr.get(ip)
			if ok {
				return route, time.Since(t0), tries, nil
			}
			if to && timeouts != nil {
				*timeouts++
			}
		}
		if time.Now().After(deadline) {
			if route < 0 {
				return route, 0, tries, fmt.Errorf("no host route to %s through %s-* after %v", ip, pr.prefix, max)
			}
			return route, 0, tries, fmt.Errorf("%s did not answer within %v (%d tries)", ip, max, tries)
		}
		time.Sleep(every)
	}
	return route, 0, tries, errors.New("GET poll: attempt bound reached")
}

// describe returns the instances by ID.
func describe(c *ec2.Client, ids []string) (map[string]types.Instance, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids})
	if err != nil {
		return nil, err
	}
	m := map[string]types.Instance{}
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			m[aws.ToString(in.InstanceId)] = in
		}
	}
	return m, nil
}

// waitState polls DescribeInstances every `every` until every instance is in
// state want, for at most max.
func waitState(c *ec2.Client, ids []string, want types.InstanceStateName, every, max time.Duration) error {
	deadline := time.Now().Add(max)
	for i := 0; i < 100_000; i++ {
		m, err := describe(c, ids)
		if err == nil {
			n := 0
			for _, id := range ids {
				if in, ok := m[id]; ok && in.State != nil && in.State.Name == want {
					n++
				}
			}
			if n == len(ids) {
				return nil
			}
			err = fmt.Errorf("%d of %d %s", n, len(ids), want)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waiting for %s: %w after %v", want, err, max)
		}
		time.Sleep(every)
	}
	return errors.New("state poll: attempt bound reached")
}

func terminate(c *ec2.Client, ids []string) (time.Duration, error) {
	t0 := time.Now()
	for i := 0; i < len(ids); i += 100 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids[i:min(i+100, len(ids))]})
		cancel()
		if err != nil {
			return 0, fmt.Errorf("TerminateInstances: %w", err)
		}
	}
	if err := waitState(c, ids, types.InstanceStateNameTerminated, 20*time.Millisecond, 60*time.Second); err != nil {
		return 0, err
	}
	return time.Since(t0), nil
}

// runDPBoot is the dataplane-boot scenario on a fresh minicloud.
func runDPBoot(s *server, o dpOptions, tmp string) (dpBootResult, error) {
	var res dpBootResult
	p, prefix, err := dpStart(s, tmp)
	if err != nil {
		return res, err
	}
	res.Prefix = prefix
	defer p.stop()
	c, tr := newEC2Timeout(p.url(), 4, 30*time.Second)
	defer tr.CloseIdleConnections()
	ami, sg, err := dpSetup(c, "bench-web")
	if err != nil {
		return res, err
	}
	pr := newProber(prefix, o.httpTry)
	for i := 0; i < o.warm+o.runs; i++ {
		r, err := bootOnce(c, pr, p, ami, sg, o)
		if err != nil {
			return res, fmt.Errorf("run %d: %w", i, err)
		}
		label := "run"
		if i < o.warm {
			label = "warm-up"
			res.Warm = append(res.Warm, r)
		} else {
			res.Runs = append(res.Runs, r)
		}
		fmt.Fprintf(os.Stderr, "%s %d: %s %s: API %s, route %s, init started %s, running %s, HTTP %s (%d tries, %d timed out), terminated in %s\n",
			label, i, r.ID, r.IP, ms(r.API), ms(r.Route), msOr(r.InitStart), msOr(r.Running), ms(r.HTTP), r.Tries, r.Timeouts, ms(r.Terminated))
	}
	if o.keepConsole && len(res.Runs) > 0 {
		r := res.Runs[0]
		fmt.Fprintf(os.Stderr, "console of %s (RunInstances sent at %.6f, HTTP 200 at +%s):\n%s\n", r.ID,
			float64(r.T0.UnixNano())/1e9, ms(r.HTTP), r.Console)
	}
	tr.CloseIdleConnections()
	t := time.Now()
	p.stop()
	res.ExitTime = time.Since(t)
	res.Cleanup = checkCleanup(prefix, nil)
	return res, nil
}

func bootOnce(c *ec2.Client, pr *prober, p *proc, ami, sg string, o dpOptions) (r bootRun, err error) {
	t0 := time.Now()
	r.T0 = t0
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	out, err := c.RunInstances(ctx, dpRunInput(ami, sg, 1, o.userData))
	cancel()
	if err == nil {
		err = checkLaunch(out, 1)
	}
	if err != nil {
		return r, fmt.Errorf("RunInstances: %w", err)
	}
	r.API = time.Since(t0)
	r.Running, r.InitUp, r.SGApplied, r.InitStart = -1, -1, -1, -1
	in := out.Instances[0]
	r.ID, r.IP = aws.ToString(in.InstanceId), aws.ToString(in.PublicIpAddress)
	// Whatever happens next, the instance goes (and is waited for).
	defer func() {
		d, terr := terminate(c, []string{r.ID})
		r.Terminated = d
		if terr != nil && err == nil {
			err = terr
		}
	}()
	for i := 0; r.IP == "" && time.Since(t0) < o.httpMax && i < 10_000; i++ {
		time.Sleep(o.httpEvery)
		m, err := describe(c, []string{r.ID})
		if err == nil {
			r.IP = aws.ToString(m[r.ID].PublicIpAddress)
		}
	}
	if r.IP == "" {
		return r, fmt.Errorf("%s: no public IP within %v", r.ID, o.httpMax)
	}
	r.IPSeen = time.Since(t0)
	ip, err := netip.ParseAddr(r.IP)
	if err != nil {
		return r, err
	}
	r.Route, r.HTTP, r.Tries, err = pr.waitHTTPCounting(t0, ip, o.httpEvery, o.httpMax, &r.Timeouts)
	if err != nil {
		return r, fmt.Errorf("%s: %w; console: %s", r.ID, err, lastLines(consoleOf(c, r.ID), 15))
	}
	// The breakdown, from the log and the console (not timed).
	r.Console = waitConsole(c, r.ID, 3*time.Second)
	ev := logEvents(p.logPath, r.ID, eniOf(in))
	rel := func(t time.Time) time.Duration {
		if t.IsZero() {
			return -1
		}
		return t.Sub(t0)
	}
	r.InitUp, r.Running, r.SGApplied = rel(ev.booted), rel(ev.running), rel(ev.sg)
	cons := parseConsole(r.Console)
	r.CloudInitUp, r.FinalUp = cons.cloudInit, cons.final
	r.InitStart = -1
	if r.InitUp >= 0 && cons.initUp >= 0 {
		r.InitStart = r.InitUp - time.Duration(cons.initUp*float64(time.Second))
	}
	return r, nil
}

func eniOf(in types.Instance) string {
	for _, n := range in.NetworkInterfaces {
		if n.Attachment != nil && aws.ToInt32(n.Attachment.DeviceIndex) == 0 {
			return aws.ToString(n.NetworkInterfaceId)
		}
	}
	return ""
}

func consoleOf(c *ec2.Client, id string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := c.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String(id)})
	if err != nil || out.Output == nil {
		return ""
	}
	b, err := base64.StdEncoding.DecodeString(aws.ToString(out.Output))
	if err != nil {
		return ""
	}
	return string(b)
}

// waitConsole fetches the console until it holds cloud-init's final message
// (the runtime reports output every 250 ms), for at most max.
func waitConsole(c *ec2.Client, id string, max time.Duration) string {
	deadline := time.Now().Add(max)
	for i := 0; i < 1000; i++ {
		s := consoleOf(c, id)
		if strings.Contains(s, " finished at ") || time.Now().After(deadline) {
			return s
		}
		time.Sleep(100 * time.Millisecond)
	}
	return ""
}

func lastLines(s string, n int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(ls[max(0, len(ls)-n):], " | ")
}

type consoleTimes struct{ initUp, cloudInit, final float64 }

var (
	reInitLine = regexp.MustCompile(`^\[\s*([0-9.]+)\] Run minicloud-init as init process`)
	reUp       = regexp.MustCompile(`Up ([0-9.]+) seconds`)
)

// parseConsole finds the init's "up" line (seconds since the init was
// started, µs resolution) and cloud-init's first banner and final message
// (10 ms resolution); -1 when missing.
func parseConsole(s string) consoleTimes {
	t := consoleTimes{-1, -1, -1}
	for _, line := range strings.Split(s, "\n") {
		if m := reInitLine.FindStringSubmatch(line); m != nil {
			t.initUp, _ = strconv.ParseFloat(m[1], 64)
		}
		if strings.Contains(line, "running 'init-local'") {
			if m := reUp.FindStringSubmatch(line); m != nil {
				t.cloudInit, _ = strconv.ParseFloat(m[1], 64)
			}
		}
		if strings.Contains(line, " finished at ") {
			if m := reUp.FindStringSubmatch(line); m != nil {
				t.final, _ = strconv.ParseFloat(m[1], 64)
			}
		}
	}
	return t
}

type instEvents struct{ booted, running, sg time.Time }

// logEvents reads minicloud's log (slog text) for the instance's events.
func logEvents(path, id, eni string) instEvents {
	var ev instEvents
	f, err := os.Open(path)
	if err != nil {
		return ev
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, id) && (eni == "" || !strings.Contains(line, eni)) {
			continue
		}
		kv := logfmt(line)
		t, err := time.Parse(time.RFC3339Nano, kv["time"])
		if err != nil {
			continue
		}
		switch {
		case kv["msg"] == "instance booted" && kv["instance"] == id && ev.booted.IsZero():
			ev.booted = t
		case kv["msg"] == "instance state reported" && kv["instance"] == id && kv["state"] == "running" && ev.running.IsZero():
			ev.running = t
		case kv["msg"] == "security groups applied" && eni != "" && kv["eni"] == eni && ev.sg.IsZero():
			ev.sg = t
		}
	}
	return ev
}

// fleetLog finds in minicloud's log when the last of the fleet's instances
// booted, was reported running and had its security groups applied, and
// how many launch retries there were.
func fleetLog(res *dpFleetResult, path string, t0 time.Time, ids, enis []string) {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	for _, e := range enis {
		if e != "" {
			want[e] = true
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	res.LastBooted, res.LastRunning, res.LastSG, res.FirstBooted = -1, -1, -1, -1
	for sc.Scan() {
		kv := logfmt(sc.Text())
		if !want[kv["instance"]] && !want[kv["eni"]] {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, kv["time"])
		if err != nil || t.Before(t0) {
			continue
		}
		d := t.Sub(t0)
		switch {
		case kv["msg"] == "instance booted":
			res.LastBooted = max(res.LastBooted, d)
			if res.FirstBooted < 0 || d < res.FirstBooted {
				res.FirstBooted = d
			}
		case kv["msg"] == "instance state reported" && kv["state"] == "running":
			res.LastRunning = max(res.LastRunning, d)
		case kv["msg"] == "security groups applied":
			res.LastSG = max(res.LastSG, d)
		case kv["msg"] == "launch failed; retrying":
			res.Retries++
		}
	}
}

// logfmt splits one slog text line into its keys and values.
func logfmt(line string) map[string]string {
	m := map[string]string{}
	for i := 0; i < len(line); {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		eq := strings.IndexByte(line[i:], '=')
		if eq < 0 {
			break
		}
		k := line[i : i+eq]
		i += eq + 1
		var v string
		if i < len(line) && line[i] == '"' {
			j := i + 1
			for j < len(line) && line[j] != '"' {
				if line[j] == '\\' {
					j++
				}
				j++
			}
			v, _ = strconv.Unquote(line[i:min(j+1, len(line))])
			i = j + 1
		} else {
			j := strings.IndexByte(line[i:], ' ')
			if j < 0 {
				j = len(line) - i
			}
			v = line[i : i+j]
			i += j
		}
		m[k] = v
	}
	return m
}

// runDPFleet is the dataplane-fleet scenario on a fresh minicloud.
func runDPFleet(s *server, o dpOptions, tmp string) (dpFleetResult, error) {
	res := dpFleetResult{N: o.fleet}
	p, prefix, err := dpStart(s, tmp)
	if err != nil {
		return res, err
	}
	res.Prefix = prefix
	defer p.stop()
	c, tr := newEC2Timeout(p.url(), 4, 60*time.Second)
	defer tr.CloseIdleConnections()
	ami, sg, err := dpSetup(c, "bench-fleet")
	if err != nil {
		return res, err
	}
	pr := newProber(prefix, o.httpTry)
	// One instance first (launched, answered, terminated), so that the
	// default VPC's network exists and the fleet measures instances only.
	if res.Warm, err = bootOnce(c, pr, p, ami, sg, o); err != nil {
		return res, fmt.Errorf("warm-up instance: %w", err)
	}
	fmt.Fprintf(os.Stderr, "fleet warm-up: %s answered at %s\n", res.Warm.ID, ms(res.Warm.HTTP))
	time.Sleep(time.Second)
	res.MiniRSSBefore, _ = readMem(p.pid)
	res.MachineAvailBefore = memAvailable()

	cpu0, _ := cpuTime(p.pid)
	busy0, _ := machineCPU()
	var ru0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	out, err := c.RunInstances(ctx, dpRunInput(ami, sg, int32(o.fleet), o.userData))
	cancel()
	if err == nil {
		err = checkLaunch(out, o.fleet)
	}
	if err != nil {
		return res, fmt.Errorf("RunInstances ×%d: %w", o.fleet, err)
	}
	res.API = time.Since(t0)
	ids := make([]string, len(out.Instances))
	ips := make([]string, len(out.Instances))
	enis := make([]string, len(out.Instances))
	for i, in := range out.Instances {
		ids[i], ips[i], enis[i] = aws.ToString(in.InstanceId), aws.ToString(in.PublicIpAddress), eniOf(in)
	}
	defer func() {
		if res.Terminated == 0 {
			if _, err := terminate(c, ids); err != nil {
				fmt.Fprintf(os.Stderr, "terminate: %v\n", err)
			}
		}
	}()
	if slices.Contains(ips, "") {
		m, err := describe(c, ids)
		if err != nil {
			return res, err
		}
		for i, id := range ids {
			ips[i] = aws.ToString(m[id].PublicIpAddress)
		}
	}

	// Every instance is polled on its own; all-running is watched meanwhile.
	answers := make([]time.Duration, len(ids))
	routes := make([]time.Duration, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i := range ids {
		ip, err := netip.ParseAddr(ips[i])
		if err != nil {
			errs[i] = fmt.Errorf("%s: public IP %q", ids[i], ips[i])
			continue
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			routes[i], answers[i], _, errs[i] = pr.waitHTTP(t0, ip, o.fleetEvery, o.fleetMax)
		}(i)
	}
	runErr := waitState(c, ids, types.InstanceStateNameRunning, 50*time.Millisecond, o.fleetMax)
	res.AllRunning = time.Since(t0)
	wg.Wait()
	cpu1, _ := cpuTime(p.pid)
	busy1, _ := machineCPU()
	var ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	res.CPUMini, res.CPUHarness, res.CPUMachine = cpu1-cpu0, rusageCPU(ru1)-rusageCPU(ru0), busy1-busy0
	if runErr != nil {
		return res, runErr
	}
	for i, err := range errs {
		if err != nil {
			res.Failed++
			fmt.Fprintf(os.Stderr, "%s: %v\n", ids[i], err)
			continue
		}
		res.Answers = append(res.Answers, answers[i])
		res.Routes = append(res.Routes, routes[i])
		res.AllAnswering = max(res.AllAnswering, answers[i])
	}
	slices.Sort(res.Answers)
	slices.Sort(res.Routes)
	fmt.Fprintf(os.Stderr, "fleet: %d launched, all running at %s, %d answering, last at %s\n",
		len(ids), ms(res.AllRunning), len(res.Answers), ms(res.AllAnswering))

	// Idle memory.
	time.Sleep(o.idleWait)
	res.MiniRSS, _ = medianMem(p.pid, 5)
	res.MachineAvailWithMany = memAvailable()
	measureInstances(&res, p.pid, prefix, ids)
	// After the idle wait, so that the network pass that applies the
	// fleet's security groups has finished (it may end after the answers).
	fleetLog(&res, p.logPath, t0, ids, enis)

	if res.Terminated, err = terminate(c, ids); err != nil {
		return res, err
	}
	inits := initPIDs(p.pid)
	tr.CloseIdleConnections()
	t := time.Now()
	p.stop()
	res.ExitTime = time.Since(t)
	res.Cleanup = checkCleanup(prefix, inits)
	if res.Failed > 0 {
		return res, fmt.Errorf("%d of %d instances never answered HTTP", res.Failed, len(ids))
	}
	return res, nil
}

// initPIDs are minicloud's children that are instance inits.
func initPIDs(parent int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(st)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 || f[1] != strconv.Itoa(parent) {
			continue
		}
		cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if strings.Contains(string(cmd), "__minicloud-instance-init") {
			out = append(out, pid)
		}
	}
	return out
}

// measureInstances sums the memory of every process in the PID namespaces
// of minicloud's instance inits, and of the instances' memory cgroups.
func measureInstances(res *dpFleetResult, parent int, prefix string, ids []string) {
	nss := map[string]bool{}
	for _, pid := range initPIDs(parent) {
		if ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid)); err == nil {
			nss[ns] = true
		}
	}
	host, _ := os.Readlink("/proc/self/ns/pid")
	delete(nss, host)
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
		if err != nil || !nss[ns] {
			continue
		}
		m, err := readMem(pid)
		if err != nil {
			continue
		}
		res.Procs++
		res.SumRSS += m.RSS
		res.SumAnon += m.Anon
		res.SumPss += pss(pid)
		cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		switch {
		case strings.Contains(string(cmd), "__minicloud-instance-init"):
			res.InitRSS = append(res.InitRSS, m.RSS)
			res.InitAnon = append(res.InitAnon, m.Anon)
		case strings.Contains(string(cmd), "http.server"):
			res.PythonRSS = append(res.PythonRSS, m.RSS)
			res.PythonAnon = append(res.PythonAnon, m.Anon)
		}
	}
	for _, id := range ids {
		name := prefix + "-" + id
		if b, err := os.ReadFile(filepath.Join(cgroupRoot, "memory", name, "memory.usage_in_bytes")); err == nil { // v1
			n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
			res.CgroupBytes += n
			res.CgroupRSSBytes += statField(filepath.Join(cgroupRoot, "memory", name, "memory.stat"), "total_rss")
			res.Cgroups++
		} else if b, err := os.ReadFile(filepath.Join(cgroupRoot, name, "memory.current")); err == nil { // v2
			n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
			res.CgroupBytes += n
			res.CgroupRSSBytes += statField(filepath.Join(cgroupRoot, name, "memory.stat"), "anon")
			res.Cgroups++
		}
	}
}

const cgroupRoot = "/sys/fs/cgroup"

func statField(path, key string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && k == key {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// pss is the process's proportional set size in KiB (smaps_rollup).
func pss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Pss:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

func memAvailable() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "MemAvailable:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

// checkCleanup lists what of prefix is left on the host after minicloud
// exited: network namespaces (in vpcnet.NamespaceDir), cgroups, links and the
// given init processes.
func checkCleanup(prefix string, inits []int) cleanupCheck {
	c := cleanupCheck{Done: true}
	ns, err := vpcnet.Namespaces(prefix + "-")
	if err != nil {
		c.Namespaces = append(c.Namespaces, "(listing namespaces failed: "+err.Error()+")")
	}
	c.Namespaces = append(c.Namespaces, ns...)
	for _, pat := range []string{filepath.Join(cgroupRoot, "*", prefix+"-*"), filepath.Join(cgroupRoot, prefix+"-*")} {
		m, _ := filepath.Glob(pat)
		c.Cgroups = append(c.Cgroups, m...)
	}
	if ls, err := netlink.LinkList(); err == nil {
		for _, l := range ls {
			if strings.HasPrefix(l.Attrs().Name, prefix+"-") {
				c.Links = append(c.Links, l.Attrs().Name)
			}
		}
	}
	for _, pid := range inits {
		if syscall.Kill(pid, 0) == nil {
			if cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); strings.Contains(string(cmd), "__minicloud-instance-init") {
				c.Procs = append(c.Procs, strconv.Itoa(pid))
			}
		}
	}
	return c
}

func msOr(d time.Duration) string {
	if d < 0 {
		return "-"
	}
	return ms(d)
}

// medOf is the median of the values f gives (skipping negatives: unknown).
func medOf(rs []bootRun, q float64, f func(bootRun) time.Duration) time.Duration {
	var ds []time.Duration
	for _, r := range rs {
		if d := f(r); d >= 0 {
			ds = append(ds, d)
		}
	}
	if len(ds) == 0 {
		return -1
	}
	return pctOf(ds, q)
}

func secs(rs []bootRun, f func(bootRun) float64) time.Duration {
	var ds []time.Duration
	for _, r := range rs {
		if v := f(r); v >= 0 {
			ds = append(ds, time.Duration(v*float64(time.Second)))
		}
	}
	if len(ds) == 0 {
		return -1
	}
	return median(ds)
}

// reportDP prints the data-plane table: minicloud's figures, moto's column
// kept and marked not applicable.
func reportDP(w io.Writer, o dpOptions, boot *dpBootResult, fleet *dpFleetResult) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "data plane: moto has no data plane (its instances are records; nothing boots), so its column is n/a")
	tw := newTab(w)
	fmt.Fprintln(tw, "figure\ttarget\tminicloud\tmoto\tminicloud vs target")
	row := func(name, target, v, verdict string) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", name, target, v, motoNoDP, verdict)
	}
	if boot != nil {
		rs := boot.Runs
		httpT := func(r bootRun) time.Duration { return r.HTTP }
		med, p90 := medOf(rs, 50, httpT), medOf(rs, 90, httpT)
		row(fmt.Sprintf("RunInstances → HTTP 200 on public IP, median (n=%d)", len(rs)), "≤ 300 ms", ms(med), mark(len(rs) > 0 && med <= targetBootHTTP))
		row("  p90", "", ms(p90), "")
		var all []time.Duration
		for _, r := range rs {
			all = append(all, r.HTTP)
		}
		if len(all) > 0 {
			row("  min / max", "", ms(slices.Min(all))+" / "+ms(slices.Max(all)), "")
		}
		b := func(name string, f func(bootRun) time.Duration) {
			row("  median: "+name, "", msOr(medOf(rs, 50, f)), "")
		}
		b("RunInstances answered", func(r bootRun) time.Duration { return r.API })
		b("host route to the public IP", func(r bootRun) time.Duration { return r.Route })
		b("security groups applied (log)", func(r bootRun) time.Duration { return r.SGApplied })
		b("init started (log − console)", func(r bootRun) time.Duration { return r.InitStart })
		b("init up, root mounted (log)", func(r bootRun) time.Duration { return r.InitUp })
		b("running reported (log)", func(r bootRun) time.Duration { return r.Running })
		row("  median: cloud-init start / final, after init start (console)", "",
			msOr(secs(rs, func(r bootRun) float64 { return r.CloudInitUp }))+" / "+msOr(secs(rs, func(r bootRun) float64 { return r.FinalUp })), "")
		b("first HTTP 200", httpT)
		b("python3 http.server start-up (HTTP − init start − cloud-init final)", func(r bootRun) time.Duration {
			if r.InitStart < 0 || r.FinalUp < 0 {
				return -1
			}
			return r.HTTP - r.InitStart - time.Duration(r.FinalUp*float64(time.Second))
		})
		row("  median GET tries", "", fmt.Sprint(medOf(rs, 50, func(r bootRun) time.Duration { return time.Duration(r.Tries) }).Nanoseconds()), "")
		var stalled, clean []time.Duration
		for _, r := range rs {
			if r.Timeouts > 0 {
				stalled = append(stalled, r.HTTP)
			} else {
				clean = append(clean, r.HTTP)
			}
		}
		row("  runs with a GET try timed out (SYN unanswered): n, their times", "", fmt.Sprintf("%d: %s", len(stalled), msList(stalled)), "")
		if len(clean) > 0 {
			row("  median of the other runs", "", fmt.Sprintf("%s (n=%d)", ms(median(clean)), len(clean)), "")
		}
		for i, r := range boot.Warm {
			row(fmt.Sprintf("  first launch on the fresh server #%d (unmeasured)", i+1), "", fmt.Sprintf("%s (route %s, init started %s)", ms(r.HTTP), ms(r.Route), msOr(r.InitStart)), "")
		}
		row("  terminate → terminated, median", "", msOr(medOf(rs, 50, func(r bootRun) time.Duration { return r.Terminated })), "")
		row("  minicloud exit after SIGTERM", "", ms(boot.ExitTime), "")
		row("  left on the host after exit", "nothing", boot.Cleanup.String(), mark(boot.Cleanup.clean()))
	}
	if fleet != nil {
		f := fleet
		n := f.N
		row("fleet warm-up: 1 instance on the fresh server (unmeasured)", "", ms(f.Warm.HTTP)+" to HTTP 200", "")
		row(fmt.Sprintf("%d instances: RunInstances answered", n), "", ms(f.API), "")
		row("  log: first / last init up (booted)", "", msOr(f.FirstBooted)+" / "+msOr(f.LastBooted), "")
		row("  log: last running reported / last SGs applied", "", msOr(f.LastRunning)+" / "+msOr(f.LastSG), "")
		row("  launch retries (log)", "", fmt.Sprint(f.Retries), "")
		row("  host routes: first / p50 / last", "", ms(pct(f.Routes, 0))+" / "+ms(pct(f.Routes, 50))+" / "+ms(pct(f.Routes, 100)), "")
		row("  all running (DescribeInstances)", "", ms(f.AllRunning), "")
		row("  all answering HTTP", "", fmt.Sprintf("%s (%d/%d)", ms(f.AllAnswering), len(f.Answers), n), mark(f.Failed == 0 && len(f.Answers) == n))
		row("  answer first / p50 / p90", "", ms(pct(f.Answers, 0))+" / "+ms(pct(f.Answers, 50))+" / "+ms(pct(f.Answers, 90)), "")
		row("  CPU until all answer: minicloud / harness / rest (instances, other)", "", fmt.Sprintf("%.2f / %.2f / %.2f s",
			f.CPUMini.Seconds(), f.CPUHarness.Seconds(), max(f.CPUMachine-f.CPUMini-f.CPUHarness, 0).Seconds()), "")
		row("  minicloud RSS: before / with the instances", "", mib(f.MiniRSSBefore.RSS)+" / "+mib(f.MiniRSS.RSS), "")
		row("  instance processes (init + python)", "", fmt.Sprintf("%d in %d PID namespaces", f.Procs, len(f.InitRSS)), "")
		row("  their VmRSS sum / per instance", "", mib(f.SumRSS)+" / "+mib(f.SumRSS/int64(max(n, 1))), "")
		row("  their RssAnon sum / per instance", "", mib(f.SumAnon)+" / "+mib(f.SumAnon/int64(max(n, 1))), "")
		row("  their Pss sum / per instance", "", mib(f.SumPss)+" / "+mib(f.SumPss/int64(max(n, 1))), "")
		row("  VmRSS (anon) median: init / python", "", fmt.Sprintf("%s (%s) / %s (%s)", mib(medInt(f.InitRSS)), mib(medInt(f.InitAnon)),
			mib(medInt(f.PythonRSS)), mib(medInt(f.PythonAnon))), "")
		row(fmt.Sprintf("  memory cgroups (%d): usage / rss", f.Cgroups), "", mib(f.CgroupBytes>>10)+" / "+mib(f.CgroupRSSBytes>>10), "")
		row("  host MemAvailable drop", "", mib(f.MachineAvailBefore-f.MachineAvailWithMany), "")
		row("  terminate all → all terminated", "", ms(f.Terminated), "")
		row("  minicloud exit after SIGTERM", "", ms(f.ExitTime), "")
		row("  left on the host after exit", "nothing", f.Cleanup.String(), mark(f.Cleanup.clean()))
	}
	tw.Flush()
	for _, c := range []*cleanupCheck{cleanupOf(boot), cleanupOfFleet(fleet)} {
		if c != nil && !c.clean() && c.Done {
			fmt.Fprintf(w, "left: netns %v cgroups %v links %v procs %v\n", c.Namespaces, c.Cgroups, c.Links, c.Procs)
		}
	}
}

func cleanupOf(b *dpBootResult) *cleanupCheck {
	if b == nil {
		return nil
	}
	return &b.Cleanup
}

func cleanupOfFleet(f *dpFleetResult) *cleanupCheck {
	if f == nil {
		return nil
	}
	return &f.Cleanup
}

func medInt(xs []int64) int64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func newTab(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

func msList(ds []time.Duration) string {
	if len(ds) == 0 {
		return "-"
	}
	var parts []string
	for _, d := range ds {
		parts = append(parts, fmt.Sprintf("%.0f", float64(d.Microseconds())/1000))
	}
	return strings.Join(parts, ", ") + " ms"
}
