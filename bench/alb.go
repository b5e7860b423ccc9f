//go:build bench

package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// The alb scenario (root, minicloud only, not part of "all") measures
// minicloud's Application Load Balancer against the same backends reached
// directly and through HAProxy, in one VPC and one run:
//
//   - an AMI registered from a directory (RegisterImage's local
//     ImageLocation) that holds a static Go HTTP server (bench/albbackend)
//     and the host's HAProxy with its shared libraries, as a layer over
//     the built-in image;
//   - two backend instances of it, in us-east-1a and us-east-1b of the
//     default VPC, each running the server on port 8080;
//   - an internet-facing ALB over both (target group on 8080, round robin,
//     listener HTTP 80), measured at its node in us-east-1a;
//   - a third instance, in us-east-1a, running HAProxy over the same two
//     backends (round robin, keep-alive to them, X-Forwarded-For/Proto/Port
//     added as the ALB adds them, HTTP health checks);
//   - the load generator, wrk on the host, against: one backend's public IP
//     directly ("direct"), the ALB node's public IP ("alb") and HAProxy's
//     ("haproxy"): the same connections, threads, duration and request in
//     every leg, keep-alive on, legs interleaved in rotating order for
//     several rounds; the medians are reported, with the CPU each process
//     used per request.
//
// Every leg enters the VPC the same way (the host's route to the public
// IP, the internet gateway's NAT, the security groups), and both proxies
// are one hop in the VPC between wrk and the backends. Everything shares
// this machine's CPUs, wrk included.
//
// Contacted: 127.0.0.1 (the API and the DNS server) and the public IPs of
// the nodes and instances it made, only once the host routes them through
// a link of this minicloud.

var albScenarios = []string{"alb"}

type albOptions struct {
	conns, threads int
	dur, warmup    time.Duration
	rounds         int
	body           int
	max            time.Duration // setup: instances answering, targets healthy
}

func albFlags(o *albOptions) {
	flag.IntVar(&o.conns, "alb-c", 64, "alb: wrk connections (-c), the same in every leg")
	flag.IntVar(&o.threads, "alb-threads", 2, "alb: wrk threads (-t)")
	flag.DurationVar(&o.dur, "alb-duration", 5*time.Second, "alb: measured length of each leg")
	flag.DurationVar(&o.warmup, "alb-warmup", 2*time.Second, "alb: unmeasured wrk run per leg before the rounds")
	flag.IntVar(&o.rounds, "alb-rounds", 3, "alb: rounds of the three legs (rotating order); medians are reported")
	flag.IntVar(&o.body, "alb-body", 64, "alb: the backends' response body in bytes")
	flag.DurationVar(&o.max, "alb-max", 2*time.Minute, "alb: limit for the setup (instances answering, targets healthy)")
}

func (o albOptions) check() error {
	switch {
	case o.conns < 1 || o.conns > 256, o.threads < 1 || o.threads > 16 || o.threads > o.conns:
		return errors.New("-alb-c must be 1..256 and -alb-threads 1..16 (and at most -alb-c)")
	case o.dur < time.Second || o.dur > time.Minute, o.warmup < 0 || o.warmup > 30*time.Second:
		return errors.New("-alb-duration must be in [1s, 1m] and -alb-warmup in [0, 30s]")
	case o.rounds < 1 || o.rounds > 10, o.body < 1 || o.body > 1<<20:
		return errors.New("-alb-rounds must be 1..10 and -alb-body 1..1048576")
	case o.max < 10*time.Second || o.max > 10*time.Minute:
		return errors.New("-alb-max must be in [10s, 10m]")
	case o.dur%time.Second != 0 || o.warmup%time.Second != 0:
		return errors.New("-alb-duration and -alb-warmup must be whole seconds (wrk's -d)")
	}
	return nil
}

// The legs, in the order of the first round.
var albLegs = []string{"direct", "alb", "haproxy"}

// albTarget is an ALB figure's target, as a ratio of another leg's.
const (
	targetALBvsDirect  = 0.8
	targetALBvsHAProxy = 1.0
)

// wrkRun is one wrk run's figures (from the script's done()).
type wrkRun struct {
	Requests, Errors int64
	Elapsed          time.Duration
	RPS              float64
	P50, P90, P99    time.Duration
	Max              time.Duration
	// CPU used during the run: the proxy (minicloud's process for the ALB,
	// HAProxy's for haproxy, none direct), the backends, wrk, and the whole
	// machine (all CPUs' busy time).
	ProxyCPU, BackendCPU, WrkCPU, MachineCPU time.Duration
}

type albResult struct {
	runs           map[string][]wrkRun
	order          [][]string
	urls           map[string]string
	wrkVer, hapVer string
	nodeIPs        []string
	cleanup        cleanupCheck
}

// albDone is wrk's script: one line of figures at the end, latencies in µs.
const albDone = `done = function(s, lat, req)
  local e = s.errors
  io.write(string.format("ALBBENCH requests=%d duration_us=%d errors=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    s.requests, s.duration, e.connect + e.read + e.write + e.status + e.timeout,
    lat:percentile(50), lat:percentile(90), lat:percentile(99), lat.max))
end
`

// haproxyBin is where Debian's haproxy package installs HAProxy.
const haproxyBin = "/usr/sbin/haproxy"

func runALB(o albOptions, bin, tmp string) (*albResult, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("the alb scenario needs root (minicloud's data plane)")
	}
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		return nil, errors.New("wrk not found: apt-get install wrk")
	}
	if _, err := os.Stat(haproxyBin); err != nil {
		return nil, errors.New(haproxyBin + " not found: apt-get install haproxy (only its files are used: the harness runs it inside an instance)")
	}
	res := &albResult{runs: map[string][]wrkRun{}, urls: map[string]string{}}
	res.wrkVer = firstLine(exec.Command(wrk, "--version"))
	res.hapVer = firstLine(exec.Command(haproxyBin, "-v"))

	tagB := make([]byte, 6)
	_, _ = rand.Read(tagB)
	tag := "albbench-" + hex.EncodeToString(tagB)
	imageDir := filepath.Join(tmp, "ami")
	if err := albImage(imageDir); err != nil {
		return nil, fmt.Errorf("the bench AMI's directory: %w", err)
	}
	script := filepath.Join(tmp, "albbench.lua")
	if err := os.WriteFile(script, []byte(albDone), 0o644); err != nil {
		return nil, err
	}

	s := dpServer(bin, "info")
	inner := s.args
	s.args = func(port int) []string { return append(inner(port), "--dns-listen", "127.0.0.1:0") }
	p, prefix, err := dpStart(s, tmp)
	if err != nil {
		return nil, err
	}
	defer p.stop()
	dnsAddr, err := dnsAddrOf(p.url())
	if err != nil {
		return nil, err
	}
	cfg := aws.Config{Region: region, BaseEndpoint: aws.String(p.url()),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), Retryer: func() aws.Retryer { return aws.NopRetryer{} }}
	ec, lbc := ec2.NewFromConfig(cfg), elb.NewFromConfig(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), o.max+2*time.Minute)
	defer cancel()

	top, err := albTopology(ctx, ec, lbc, o, imageDir, tag, dnsAddr)
	if top != nil {
		// Whatever happened, what was made goes before minicloud stops.
		defer func() { top.teardown(ec, lbc) }()
	}
	if err != nil {
		return nil, err
	}
	res.nodeIPs = top.nodeIPs
	pr := newProber(prefix, 2*time.Second)
	res.urls = map[string]string{
		"direct":  "http://" + top.backendIPs[0] + ":8080/",
		"alb":     "http://" + top.nodeIP + "/",
		"haproxy": "http://" + top.haproxyIP + "/",
	}
	for _, ip := range []string{top.backendIPs[0], top.nodeIP, top.haproxyIP} {
		a, err := netip.ParseAddr(ip)
		if err != nil || !dpPublicPool.Contains(a) || !pr.routed(a) {
			return nil, fmt.Errorf("%s is not a public IP the host routes into this minicloud (%s): not contacting it", ip, prefix)
		}
	}
	// Both proxies answer and alternate over both backends before anything
	// is measured.
	if err := albWaitServing(res.urls["direct"], 1, o.max); err != nil {
		return nil, fmt.Errorf("direct: %w", err)
	}
	if err := albWaitHealthy(ctx, lbc, top.tgARN, top.backendIDs, o.max); err != nil {
		return nil, err
	}
	for _, leg := range []string{"alb", "haproxy"} {
		if err := albWaitServing(res.urls[leg], 2, o.max); err != nil {
			return nil, fmt.Errorf("%s: %w; console of the HAProxy instance: %s", leg, err, lastLines(consoleOf(ec, top.haproxyID), 10))
		}
	}

	cpuOf := map[string]func() time.Duration{
		"direct":  func() time.Duration { return 0 },
		"alb":     func() time.Duration { d, _ := cpuTime(p.pid); return d },
		"haproxy": func() time.Duration { return cmdlineCPU("haproxy-" + tag) },
	}
	backends := func() time.Duration { return cmdlineCPU("-tag=" + tag) }
	leg := func(name string, d time.Duration) (wrkRun, error) {
		return wrkLeg(wrk, script, res.urls[name], o, d, cpuOf[name], backends)
	}
	if o.warmup > 0 {
		for _, name := range albLegs {
			fmt.Fprintf(os.Stderr, "alb: warm-up %s…\n", name)
			if _, err := leg(name, o.warmup); err != nil {
				return nil, fmt.Errorf("warm-up %s: %w", name, err)
			}
		}
	}
	for r := range o.rounds {
		order := slices.Concat(albLegs[r%len(albLegs):], albLegs[:r%len(albLegs)])
		res.order = append(res.order, order)
		for _, name := range order {
			w, err := leg(name, o.dur)
			if err != nil {
				return nil, fmt.Errorf("round %d, %s: %w", r+1, name, err)
			}
			res.runs[name] = append(res.runs[name], w)
			fmt.Fprintf(os.Stderr, "alb: round %d %-7s %8.0f req/s  p50 %s  p99 %s  errors %d\n", r+1, name, w.RPS, ms(w.P50), ms(w.P99), w.Errors)
		}
	}
	top.teardown(ec, lbc)
	top = nil
	p.stop()
	res.cleanup = checkCleanup(prefix, nil)
	return res, nil
}

// albImage makes the bench AMI's root filesystem layer: the backend
// (built static from bench/albbackend) and HAProxy with the shared
// libraries it links (ldd's list, into /opt/haproxy/lib, which the user
// data puts in LD_LIBRARY_PATH): the built-in image holds only a fixed
// set of packages, and haproxy is not one of them. The layer has no
// /bin/sh, so minicloud puts it over the built-in image.
func albImage(dir string) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	b := exec.CommandContext(ctx, "go", "build", "-tags", "bench", "-o", filepath.Join(dir, "usr/local/bin/albbench-backend"), "./bench/albbackend")
	b.Dir, b.Env, b.Stdout, b.Stderr = root, append(os.Environ(), "CGO_ENABLED=0"), os.Stderr, os.Stderr
	if err := b.Run(); err != nil {
		return fmt.Errorf("go build ./bench/albbackend: %w", err)
	}
	if err := copyFile(haproxyBin, filepath.Join(dir, "opt/haproxy/bin/haproxy"), 0o755); err != nil {
		return err
	}
	out, err := exec.CommandContext(ctx, "ldd", haproxyBin).Output()
	if err != nil {
		return fmt.Errorf("ldd %s: %w", haproxyBin, err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		// "\tlibssl.so.3 => /lib/x86_64-linux-gnu/libssl.so.3 (0x…)"; the
		// vDSO and the loader (which the built-in image has) have no "=>".
		name, rest, ok := strings.Cut(strings.TrimSpace(sc.Text()), " => ")
		if !ok {
			continue
		}
		path, _, _ := strings.Cut(rest, " ")
		if !filepath.IsAbs(path) {
			return fmt.Errorf("ldd %s: %s not found", haproxyBin, name)
		}
		if err := copyFile(path, filepath.Join(dir, "opt/haproxy/lib", name), 0o644); err != nil {
			return err
		}
	}
	return sc.Err()
}

// copyFile copies src's contents (following symlinks) to dst, making dst's
// directory.
func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// albTop is what albTopology made.
type albTop struct {
	lbARN, tgARN string
	backendIDs   []string
	backendIPs   []string // public
	haproxyID    string
	haproxyIP    string
	nodeIP       string   // the ALB node's public IP in us-east-1a
	nodeIPs      []string // every node's, as the DNS name resolves
}

// albTopology builds the VPC side: image, security groups, backends,
// HAProxy's instance, target group, load balancer and listener. It
// returns what it made so far with any error.
func albTopology(ctx context.Context, ec *ec2.Client, lbc *elb.Client, o albOptions, imageDir, tag, dnsAddr string) (*albTop, error) {
	top := &albTop{}
	subnets, vpcID, err := defaultSubnets(ctx, ec, "a", "b")
	if err != nil {
		return nil, err
	}
	img, err := ec.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("albbench"), ImageLocation: aws.String(imageDir),
		Architecture: types.ArchitectureValuesX8664, VirtualizationType: aws.String("hvm")})
	if err != nil {
		return nil, fmt.Errorf("RegisterImage: %w", err)
	}
	// The backends admit port 8080 from anywhere: the proxies' groups and
	// the host (the direct leg).
	webSG, err := albSG(ctx, ec, vpcID, "albbench-web", 8080)
	if err != nil {
		return nil, err
	}
	albSGID, err := albSG(ctx, ec, vpcID, "albbench-alb", 80)
	if err != nil {
		return nil, err
	}
	hapSG, err := albSG(ctx, ec, vpcID, "albbench-haproxy", 80)
	if err != nil {
		return nil, err
	}
	run := func(subnet, sg, userData string) (types.Instance, error) {
		out, err := ec.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: img.ImageId, InstanceType: benchInstanceType,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(subnet), SecurityGroupIds: []string{sg},
			UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(userData)))})
		if err == nil {
			err = checkLaunch(out, 1)
		}
		if err != nil {
			return types.Instance{}, fmt.Errorf("RunInstances: %w", err)
		}
		return out.Instances[0], nil
	}
	var privIPs []string
	for i, sn := range subnets {
		ud := fmt.Sprintf("#!/bin/sh\nnohup /usr/local/bin/albbench-backend -addr :8080 -name backend-%d -body %d -tag=%s >/var/tmp/backend.log 2>&1 &\n", i+1, o.body, tag)
		in, err := run(sn, webSG, ud)
		if err != nil {
			return top, err
		}
		top.backendIDs = append(top.backendIDs, aws.ToString(in.InstanceId))
		privIPs = append(privIPs, aws.ToString(in.PrivateIpAddress))
	}
	in, err := run(subnets[0], hapSG, haproxyUserData(tag, privIPs))
	if err != nil {
		return top, err
	}
	top.haproxyID = aws.ToString(in.InstanceId)

	tg, err := lbc.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("albbench"), Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(8080), VpcId: aws.String(vpcID), HealthCheckPath: aws.String("/"),
		HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2), HealthyThresholdCount: aws.Int32(2)})
	if err != nil {
		return top, fmt.Errorf("CreateTargetGroup: %w", err)
	}
	top.tgARN = aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	var targets []elbtypes.TargetDescription
	for _, id := range top.backendIDs {
		targets = append(targets, elbtypes.TargetDescription{Id: aws.String(id)})
	}
	if _, err := lbc.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(top.tgARN), Targets: targets}); err != nil {
		return top, fmt.Errorf("RegisterTargets: %w", err)
	}
	lbOut, err := lbc.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("albbench"), Subnets: subnets,
		SecurityGroups: []string{albSGID}, Scheme: elbtypes.LoadBalancerSchemeEnumInternetFacing})
	if err != nil {
		return top, fmt.Errorf("CreateLoadBalancer: %w", err)
	}
	lb := lbOut.LoadBalancers[0]
	top.lbARN = aws.ToString(lb.LoadBalancerArn)
	if _, err := lbc.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Port: aws.Int32(80), Protocol: elbtypes.ProtocolEnumHttp,
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(top.tgARN)}}}); err != nil {
		return top, fmt.Errorf("CreateListener: %w", err)
	}

	// Public IPs: the instances' once they run, the nodes' from their
	// interfaces once the load balancer is active, checked against what
	// its DNS name resolves to.
	ids := append(slices.Clone(top.backendIDs), top.haproxyID)
	if err := waitState(ec, ids, types.InstanceStateNameRunning, 100*time.Millisecond, o.max); err != nil {
		return top, err
	}
	m, err := describe(ec, ids)
	if err != nil {
		return top, err
	}
	for _, id := range top.backendIDs {
		top.backendIPs = append(top.backendIPs, aws.ToString(m[id].PublicIpAddress))
	}
	top.haproxyIP = aws.ToString(m[top.haproxyID].PublicIpAddress)
	if err := albWaitActive(ctx, lbc, top.lbARN, o.max); err != nil {
		return top, err
	}
	if top.nodeIPs, err = lookupAs(dnsAddr, aws.ToString(lb.DNSName)); err != nil {
		return top, err
	}
	enis, err := ec.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{})
	if err != nil {
		return top, err
	}
	for _, n := range enis.NetworkInterfaces {
		if strings.HasPrefix(aws.ToString(n.Description), "ELB app/albbench/") && aws.ToString(n.SubnetId) == subnets[0] && n.Association != nil {
			top.nodeIP = aws.ToString(n.Association.PublicIp)
		}
	}
	if top.nodeIP == "" || !slices.Contains(top.nodeIPs, top.nodeIP) {
		return top, fmt.Errorf("the load balancer's node in %s has public IP %q; its DNS name resolves to %v", subnets[0], top.nodeIP, top.nodeIPs)
	}
	return top, nil
}

// haproxyUserData starts HAProxy over the backends: round robin,
// keep-alive to them (HAProxy's default http-reuse safe), HTTP health
// checks, and the X-Forwarded-* headers an ALB adds, so that it does the
// ALB's work per request. Its configuration's name carries the tag, which
// finds its process for the CPU figures.
func haproxyUserData(tag string, backends []string) string {
	var servers strings.Builder
	for i, ip := range backends {
		fmt.Fprintf(&servers, "  server backend-%d %s:8080 check inter 5s\n", i+1, ip)
	}
	cfg := `global
  maxconn 1024
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
frontend web
  bind :80
  option forwardfor
  http-request set-header X-Forwarded-Proto http
  http-request set-header X-Forwarded-Port 80
  default_backend backends
backend backends
  balance roundrobin
  option httpchk GET /
` + servers.String()
	path := "/var/tmp/haproxy-" + tag + ".cfg"
	return "#!/bin/sh\ncat > " + path + " <<'EOF'\n" + cfg + "EOF\n" +
		"LD_LIBRARY_PATH=/opt/haproxy/lib nohup /opt/haproxy/bin/haproxy -db -f " + path + " >/var/tmp/haproxy.log 2>&1 &\n"
}

// defaultSubnets are the default VPC's default subnets in the zones
// (region + letter), in that order.
func defaultSubnets(ctx context.Context, ec *ec2.Client, zones ...string) ([]string, string, error) {
	out, err := ec.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{{Name: aws.String("default-for-az"), Values: []string{"true"}}}})
	if err != nil {
		return nil, "", fmt.Errorf("DescribeSubnets: %w", err)
	}
	var ids []string
	var vpc string
	for _, z := range zones {
		i := slices.IndexFunc(out.Subnets, func(s types.Subnet) bool { return aws.ToString(s.AvailabilityZone) == region+z })
		if i < 0 {
			return nil, "", fmt.Errorf("no default subnet in %s%s", region, z)
		}
		ids = append(ids, aws.ToString(out.Subnets[i].SubnetId))
		vpc = aws.ToString(out.Subnets[i].VpcId)
	}
	return ids, vpc, nil
}

// albSG makes a security group admitting tcp port from anywhere.
func albSG(ctx context.Context, ec *ec2.Client, vpcID, name string, port int32) (string, error) {
	out, err := ec.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String("bench: " + name), VpcId: aws.String(vpcID)})
	if err != nil {
		return "", fmt.Errorf("CreateSecurityGroup %s: %w", name, err)
	}
	if _, err := ec.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: out.GroupId,
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(port), ToPort: aws.Int32(port),
			IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}}); err != nil {
		return "", fmt.Errorf("AuthorizeSecurityGroupIngress %s: %w", name, err)
	}
	return aws.ToString(out.GroupId), nil
}

func albWaitActive(ctx context.Context, lbc *elb.Client, arn string, max time.Duration) error {
	return pollUntil(max, 100*time.Millisecond, func() error {
		out, err := lbc.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{arn}})
		if err != nil {
			return err
		}
		if st := out.LoadBalancers[0].State; st == nil || st.Code != elbtypes.LoadBalancerStateEnumActive {
			return fmt.Errorf("load balancer not active: %+v", st)
		}
		return nil
	})
}

func albWaitHealthy(ctx context.Context, lbc *elb.Client, tg string, ids []string, max time.Duration) error {
	return pollUntil(max, 200*time.Millisecond, func() error {
		out, err := lbc.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
		if err != nil {
			return err
		}
		healthy := 0
		for _, d := range out.TargetHealthDescriptions {
			if d.TargetHealth != nil && d.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
				healthy++
			}
		}
		if healthy != len(ids) {
			return fmt.Errorf("%d of %d targets healthy", healthy, len(ids))
		}
		return nil
	})
}

// albWaitServing GETs u until answers come from `backends` distinct
// backends (X-Backend) within 20 requests in a row, over keep-alive.
func albWaitServing(u string, backends int, max time.Duration) error {
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil}}
	defer c.CloseIdleConnections()
	return pollUntil(max, 100*time.Millisecond, func() error {
		seen := map[string]bool{}
		for range 20 {
			resp, err := c.Get(u)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 2<<20))
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("GET %s: %s", u, resp.Status)
			}
			seen[resp.Header.Get("X-Backend")] = true
			if len(seen) >= backends {
				return nil
			}
		}
		return fmt.Errorf("GET %s: answers from %v, want %d backends", u, seen, backends)
	})
}

// pollUntil calls f every `every` until it succeeds, for at most max.
func pollUntil(max, every time.Duration, f func() error) error {
	deadline := time.Now().Add(max)
	for i := 0; i < 100_000; i++ {
		err := f()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %v: %w", max, err)
		}
		time.Sleep(every)
	}
	return errors.New("poll: attempt bound reached")
}

// teardown deletes the load balancer (its nodes and interfaces go) and
// terminates the instances, so that minicloud's stop finds nothing of them.
func (t *albTop) teardown(ec *ec2.Client, lbc *elb.Client) {
	if t == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if t.lbARN != "" {
		if _, err := lbc.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(t.lbARN)}); err != nil {
			fmt.Fprintf(os.Stderr, "alb: DeleteLoadBalancer: %v\n", err)
		}
		t.lbARN = ""
	}
	ids := slices.DeleteFunc(append(slices.Clone(t.backendIDs), t.haproxyID), func(s string) bool { return s == "" })
	if len(ids) > 0 {
		if _, err := terminate(ec, ids); err != nil {
			fmt.Fprintf(os.Stderr, "alb: %v\n", err)
		}
	}
	t.backendIDs, t.haproxyID = nil, ""
}

// wrkLeg runs wrk once against u for d and reads its figures and the CPU
// the processes used meanwhile.
func wrkLeg(wrk, script, u string, o albOptions, d time.Duration, proxyCPU, backendCPU func() time.Duration) (wrkRun, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, wrk, "-t", strconv.Itoa(o.threads), "-c", strconv.Itoa(o.conns),
		"-d", fmt.Sprintf("%ds", int(d/time.Second)), "--timeout", "5s", "-s", script, u)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p0, b0 := proxyCPU(), backendCPU()
	m0, _ := machineCPU()
	out, err := cmd.Output()
	p1, b1 := proxyCPU(), backendCPU()
	m1, _ := machineCPU()
	if err != nil {
		return wrkRun{}, fmt.Errorf("wrk %s: %w\n%s", u, err, out)
	}
	var w wrkRun
	for _, line := range strings.Split(string(out), "\n") {
		rest, ok := strings.CutPrefix(line, "ALBBENCH ")
		if !ok {
			continue
		}
		v := map[string]int64{}
		for _, kv := range strings.Fields(rest) {
			k, val, _ := strings.Cut(kv, "=")
			v[k], _ = strconv.ParseInt(val, 10, 64)
		}
		us := func(k string) time.Duration { return time.Duration(v[k]) * time.Microsecond }
		w = wrkRun{Requests: v["requests"], Errors: v["errors"], Elapsed: us("duration_us"),
			P50: us("p50_us"), P90: us("p90_us"), P99: us("p99_us"), Max: us("max_us")}
	}
	if w.Elapsed <= 0 {
		return w, fmt.Errorf("wrk %s: no figures in its output:\n%s", u, out)
	}
	w.RPS = float64(w.Requests-w.Errors) / w.Elapsed.Seconds()
	w.ProxyCPU, w.BackendCPU, w.MachineCPU = p1-p0, b1-b0, m1-m0
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			w.WrkCPU = rusageCPU(*ru)
		}
	}
	return w, nil
}

// cmdlineCPU sums the CPU time of every process whose command line holds
// marker (instances' processes are visible in the host's /proc).
func cmdlineCPU(marker string) time.Duration {
	var sum time.Duration
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !strings.Contains(string(cmd), marker) {
			continue
		}
		if d, err := cpuTime(pid); err == nil {
			sum += d
		}
	}
	return sum
}

func firstLine(cmd *exec.Cmd) string {
	out, _ := cmd.CombinedOutput()
	l, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return l
}

// albMedian is the median run of a leg by requests/s (its latencies and
// CPU figures are that run's).
func albMedian(rs []wrkRun) wrkRun {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b wrkRun) int {
		switch {
		case a.RPS < b.RPS:
			return -1
		case a.RPS > b.RPS:
			return 1
		}
		return 0
	})
	return s[len(s)/2]
}

func reportALB(w io.Writer, o albOptions, r *albResult) {
	fmt.Fprintln(w)
	fmt.Fprintf(w, "alb: %s; %s\n", r.wrkVer, r.hapVer)
	fmt.Fprintf(w, "alb: wrk -t%d -c%d, %v per leg after a %v warm-up each, %d rounds (orders %v), GET / → %d-byte body; legs: %s\n",
		o.threads, o.conns, o.dur, o.warmup, o.rounds, r.order, o.body, albURLs(r.urls))
	fmt.Fprintf(w, "alb: the load balancer's DNS name resolves to %v\n", r.nodeIPs)
	tw := newTab(w)
	fmt.Fprintln(tw, "leg\treq/s (median; each round)\tp50\tp90\tp99\terrors\tCPU µs/req: proxy / backends / wrk / machine")
	med := map[string]wrkRun{}
	for _, name := range albLegs {
		rs := r.runs[name]
		if len(rs) == 0 {
			continue
		}
		m := albMedian(rs)
		med[name] = m
		var each []string
		var errs int64
		for _, x := range rs {
			each = append(each, fmt.Sprintf("%.0f", x.RPS))
			errs += x.Errors
		}
		per := func(d time.Duration) string {
			return fmt.Sprintf("%.0f", float64(d.Microseconds())/float64(max(m.Requests, 1)))
		}
		fmt.Fprintf(tw, "%s\t%.0f (%s)\t%s\t%s\t%s\t%d\t%s / %s / %s / %s\n", name, m.RPS, strings.Join(each, ", "),
			ms(m.P50), ms(m.P90), ms(m.P99), errs, per(m.ProxyCPU), per(m.BackendCPU), per(m.WrkCPU), per(m.MachineCPU))
	}
	tw.Flush()
	a, d, h := med["alb"], med["direct"], med["haproxy"]
	ratio := func(x, y float64) float64 {
		if y == 0 {
			return 0
		}
		return x / y
	}
	tw = newTab(w)
	fmt.Fprintln(tw, "ratio\ttarget\treq/s\tp50 (lower is better)\tp99\tverdict (req/s)")
	fmt.Fprintf(tw, "ALB ÷ direct\t≥ %.1f\t%.2f\t%.2f\t%.2f\t%s\n", targetALBvsDirect, ratio(a.RPS, d.RPS),
		ratio(float64(a.P50), float64(d.P50)), ratio(float64(a.P99), float64(d.P99)), mark(ratio(a.RPS, d.RPS) >= targetALBvsDirect))
	fmt.Fprintf(tw, "ALB ÷ HAProxy\t≥ %.1f\t%.2f\t%.2f\t%.2f\t%s\n", targetALBvsHAProxy, ratio(a.RPS, h.RPS),
		ratio(float64(a.P50), float64(h.P50)), ratio(float64(a.P99), float64(h.P99)), mark(ratio(a.RPS, h.RPS) >= targetALBvsHAProxy))
	fmt.Fprintf(tw, "left on the host after exit\tnothing\t%s\t\t\t%s\n", r.cleanup, mark(r.cleanup.clean()))
	tw.Flush()
}

func albURLs(urls map[string]string) string {
	var parts []string
	for _, name := range albLegs {
		parts = append(parts, name+" "+urls[name])
	}
	return strings.Join(parts, ", ")
}

// lookupAs is every A record of name on minicloud's DNS server.
func lookupAs(dnsAddr, name string) ([]string, error) {
	var ips []string
	err := pollUntil(10*time.Second, 100*time.Millisecond, func() error {
		var err error
		ips, err = lookupAll(dnsAddr, name)
		return err
	})
	return ips, err
}
