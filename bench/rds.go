//go:build bench

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
)

// The "rds" scenario (minicloud only; needs PostgreSQL under
// /usr/lib/postgresql): how long CreateDBInstance takes to reach
// "available", and pgbench's TPS through a DB instance's loopback address
// against an equivalent plain postgres (same binaries, same initdb options,
// same command-line settings, as root the CPU cgroup quota of a 2-vCPU DB
// instance, started by this harness), alternating which goes first. As root the DB instance is placed in a VPC (data plane on), so
// its loopback address is minicloud's proxy into the instance's namespace;
// the same instance, made publicly accessible, is then also measured at its
// endpoint name's address as minicloud's DNS answers it from the host: its
// public IP, through the VPC's internet gateway (kernel NAT and the
// instance's security group, no userspace hop); and at its private IP from
// an EC2 instance in its subnet and from its own namespace (rdsvpc.go).

var rdsScenarios = []string{"rds"}

type rdsOptions struct {
	creates  int
	vpc      bool
	clients  int
	dur      time.Duration
	rounds   int
	scale    int
	selectOn bool
	script   string
}

func rdsFlags(o *rdsOptions) {
	flag.IntVar(&o.creates, "rds-creates", 3, "rds: measured CreateDBInstance → available runs (each instance deleted before the next)")
	flag.BoolVar(&o.vpc, "rds-vpc", os.Geteuid() == 0, "rds: place the DB instance in a VPC (data plane on; root)")
	flag.IntVar(&o.clients, "rds-clients", 8, "rds: pgbench clients (-c; -j 2)")
	flag.DurationVar(&o.dur, "rds-duration", 10*time.Second, "rds: length of one pgbench run (-T)")
	flag.IntVar(&o.rounds, "rds-rounds", 2, "rds: pgbench runs per server, alternating which goes first")
	flag.IntVar(&o.scale, "rds-scale", 10, "rds: pgbench -i scale factor")
	flag.BoolVar(&o.selectOn, "rds-select-only", true, "rds: pgbench -S (select-only); false runs the default TPC-B-like script")
	flag.StringVar(&o.script, "rds-script", "", "rds: pgbench's built-in script option, S (select-only) or N (simple update), overriding -rds-select-only")
}

func (o rdsOptions) check() error {
	switch {
	case o.creates < 1 || o.creates > 20:
		return errors.New("-rds-creates must be 1..20")
	case o.clients < 1 || o.clients > 64, o.scale < 1 || o.scale > 100:
		return errors.New("-rds-clients must be 1..64 and -rds-scale 1..100")
	case o.dur < time.Second || o.dur > time.Minute, o.rounds < 1 || o.rounds > 5:
		return errors.New("-rds-duration must be in [1s, 1m] and -rds-rounds 1..5")
	case o.script != "" && o.script != "S" && o.script != "N":
		return errors.New("-rds-script must be S or N")
	}
	return nil
}

type rdsResult struct {
	creates   []time.Duration
	placed    bool
	version   string
	tps       map[string][]float64 // per target, TPS per run
	targets   []string             // in the first round's order
	epName    string
	epAddr    string
	privAddr  string // the DB instance's private address (in a VPC only)
	order     []string
	pgbenchOp string
}

// pgbenchFlag is pgbench's built-in script option ("S", "N"), "" for
// TPC-B-like.
func (o rdsOptions) pgbenchFlag() string {
	switch {
	case o.script != "":
		return o.script
	case o.selectOn:
		return "S"
	}
	return ""
}

const rdsPassword = "bench-pass-1"

func newRDS(endpoint string) (*rds.Client, *ec2.Client) {
	cfg := aws.Config{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
	return rds.NewFromConfig(cfg), ec2.NewFromConfig(cfg)
}

// pgBin finds the newest PostgreSQL's binaries, as minicloud does.
func pgBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	best, bestMajor := "", -1
	for _, d := range dirs {
		m, err := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		if err == nil && m > bestMajor {
			if _, err := os.Stat(filepath.Join(d, "pgbench")); err == nil {
				best, bestMajor = d, m
			}
		}
	}
	if best == "" {
		return "", errors.New("no /usr/lib/postgresql/*/bin with pgbench: install postgresql")
	}
	return best, nil
}

// startRDSMinicloud starts an ephemeral minicloud with its data plane dp
// ("on", "off") and DNS server at dnsListen ("off": none) and waits until
// it is ready.
func startRDSMinicloud(bin, tmp, dp, dnsListen string) (*proc, error) {
	s := &server{name: "minicloud", bin: bin, readyPath: "/_minicloud/health", readyMax: 10 * time.Second, stopGrace: 30 * time.Second,
		args: func(port int) []string {
			return []string{"serve", "--listen", fmt.Sprintf("%s:%d", host, port), "--ephemeral", "--data-plane", dp, "--dns-listen", dnsListen}
		}}
	p, err := start(s, tmp)
	if err != nil {
		return nil, err
	}
	if _, err := p.waitReady(); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

func runRDS(o rdsOptions, bin, tmp string) (*rdsResult, error) {
	binDir, err := pgBin()
	if err != nil {
		return nil, err
	}
	res := &rdsResult{placed: o.vpc, pgbenchOp: map[string]string{"": "TPC-B-like", "S": "select-only (-S)", "N": "simple update (-N)"}[o.pgbenchFlag()]}
	dp, dnsListen := "off", "off"
	if o.vpc {
		dp = "on"
		// minicloud's DNS answers the endpoint name from the host.
		dnsPort, err := freePort()
		if err != nil {
			return nil, err
		}
		dnsListen = fmt.Sprintf("%s:%d", host, dnsPort)
	}
	p, err := startRDSMinicloud(bin, tmp, dp, dnsListen)
	if err != nil {
		return nil, err
	}
	defer p.stop()
	ctx := context.Background()
	rc, ec := newRDS(p.url())
	var subnetGroup, publicSG *string
	if o.vpc {
		v, err := ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.77.0.0/16")})
		if err != nil {
			return nil, err
		}
		if publicSG, err = rdsPublicNetwork(ctx, ec, v.Vpc.VpcId); err != nil {
			return nil, err
		}
		var subnets []string
		for i, az := range []string{"a", "b"} {
			sn, err := ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: v.Vpc.VpcId, AvailabilityZone: aws.String(region + az), CidrBlock: aws.String(fmt.Sprintf("10.77.%d.0/24", i+1))})
			if err != nil {
				return nil, err
			}
			subnets = append(subnets, aws.ToString(sn.Subnet.SubnetId))
		}
		if _, err := rc.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("bench"), DBSubnetGroupDescription: aws.String("bench"), SubnetIds: subnets}); err != nil {
			return nil, err
		}
		subnetGroup = aws.String("bench")
	}

	// CreateDBInstance → available; the last instance stays for pgbench.
	var id string
	for i := range o.creates + 1 { // the first is an unmeasured warm-up
		if id != "" {
			if err := rdsDelete(ctx, rc, id); err != nil {
				return nil, err
			}
		}
		id = fmt.Sprintf("bench-%d", i)
		t0 := time.Now()
		if _, err := rc.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String(id), Engine: aws.String("postgres"),
			DBInstanceClass: aws.String("db.t3.micro"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("bench"),
			MasterUserPassword: aws.String(rdsPassword), BackupRetentionPeriod: aws.Int32(0), DBSubnetGroupName: subnetGroup}); err != nil {
			return nil, err
		}
		if err := rdsWait(ctx, rc, id, "available", 2*time.Minute); err != nil {
			return nil, err
		}
		if i > 0 {
			res.creates = append(res.creates, time.Since(t0))
		}
		fmt.Fprintf(os.Stderr, "rds: %s available after %v\n", id, time.Since(t0).Round(time.Millisecond))
	}
	miniAddr, err := rdsLoopback(p.url(), id)
	if err != nil {
		return nil, err
	}
	d, err := rc.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
	if err != nil {
		return nil, err
	}
	res.version = aws.ToString(d.DBInstances[0].EngineVersion)

	plain, err := startPlainPostgres(binDir, tmp)
	if err != nil {
		return nil, err
	}
	defer plain.stop()

	for _, addr := range []string{miniAddr, plain.addr} {
		if out, err := pgbench(binDir, pgTarget{addr: addr}, "-i", "-q", "-s", strconv.Itoa(o.scale)); err != nil {
			return nil, fmt.Errorf("pgbench -i on %s: %v: %s", addr, err, out)
		}
	}
	targets := map[string]pgTarget{"minicloud": {addr: miniAddr}, "plain": {addr: plain.addr}}
	order := []string{"minicloud", "plain"}
	if o.vpc {
		// The same instance, publicly accessible, at its endpoint name's
		// address. pgbench cannot be pointed at minicloud's DNS, so the
		// bench resolves the name with it and gives pgbench the address.
		if res.epName, res.epAddr, err = rdsPublicEndpoint(ctx, rc, id, publicSG, dnsListen); err != nil {
			return nil, err
		}
		targets["endpoint"] = pgTarget{addr: res.epAddr}
		fmt.Fprintf(os.Stderr, "rds: %s is %s from the host\n", res.epName, res.epAddr)
		in, err := rdsInVPC(ctx, ec, p.url(), id)
		if err != nil {
			return nil, err
		}
		defer in.close(ec)
		res.privAddr = in.db.addr
		targets["in-namespace"], targets["vpc-client"] = in.db, in.client
		order = []string{"minicloud", "endpoint", "vpc-client", "in-namespace", "plain"}
	}
	args := []string{"-n", "-c", strconv.Itoa(o.clients), "-j", "2", "-T", strconv.Itoa(int(o.dur.Seconds()))}
	if f := o.pgbenchFlag(); f != "" {
		args = append(args, "-"+f)
	}
	res.tps = map[string][]float64{}
	res.targets = slices.Clone(order)
	for r := range o.rounds {
		if r > 0 {
			slices.Reverse(order)
		}
		for _, who := range order {
			t := targets[who]
			tps, err := pgbenchTPS(binDir, t, args...)
			if err != nil {
				return nil, fmt.Errorf("pgbench on %s (%s): %w", who, t.addr, err)
			}
			fmt.Fprintf(os.Stderr, "rds: pgbench %s: %.0f TPS\n", who, tps)
			res.order = append(res.order, who)
			res.tps[who] = append(res.tps[who], tps)
		}
	}
	if err := rdsDelete(ctx, rc, id); err != nil {
		return nil, err
	}
	return res, nil
}

func rdsWait(ctx context.Context, rc *rds.Client, id, want string, max time.Duration) error {
	deadline := time.Now().Add(max)
	last := ""
	for time.Now().Before(deadline) {
		out, err := rc.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
		if err != nil {
			if want == "" && strings.Contains(err.Error(), "DBInstanceNotFound") {
				return nil
			}
			return err
		}
		last = aws.ToString(out.DBInstances[0].DBInstanceStatus)
		if last == want {
			return nil
		}
		if last == "failed" {
			return fmt.Errorf("DB instance %s failed", id)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("DB instance %s is %q after %v, want %q", id, last, max, want)
}

func rdsDelete(ctx context.Context, rc *rds.Client, id string) error {
	if _, err := rc.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String(id), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
		return err
	}
	return rdsWait(ctx, rc, id, "", time.Minute)
}

// rdsHealthInstance is a DB instance (or cluster) as /_minicloud/health
// lists it.
type rdsHealthInstance struct {
	ID, Loopback string
	VPC          struct{ NetworkInterface, Address string } `json:"vpc"`
}

// rdsHealth reads DB instance id from health.
func rdsHealth(endpoint, id string) (rdsHealthInstance, error) {
	return healthEntry(endpoint, "instances", id)
}

// healthEntry is id in the list ("instances" or "clusters") of health's
// rds entry.
func healthEntry(endpoint, list, id string) (rdsHealthInstance, error) {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil}}
	resp, err := c.Get(endpoint + "/_minicloud/health")
	if err != nil {
		return rdsHealthInstance{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return rdsHealthInstance{}, err
	}
	var h struct {
		RDS map[string]json.RawMessage `json:"rds"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return rdsHealthInstance{}, err
	}
	var entries []rdsHealthInstance
	if err := json.Unmarshal(h.RDS[list], &entries); err != nil {
		return rdsHealthInstance{}, fmt.Errorf("health's rds %s: %w", list, err)
	}
	for _, e := range entries {
		if e.ID == id {
			return e, nil
		}
	}
	return rdsHealthInstance{}, fmt.Errorf("health lists no %s entry %s", list, id)
}

// rdsLoopback reads the DB instance's loopback address from health.
func rdsLoopback(endpoint, id string) (string, error) {
	return healthLoopback(endpoint, "instances", id)
}

// healthLoopback is the loopback address health lists for id in its rds
// entry's list ("instances" or "clusters").
func healthLoopback(endpoint, list, id string) (string, error) {
	e, err := healthEntry(endpoint, list, id)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(e.Loopback, host+":") {
		return "", fmt.Errorf("health lists no loopback address for %s %s", list, id)
	}
	return e.Loopback, nil
}

// plainPG is a postgres the harness runs itself.
type plainPG struct {
	cmd    *exec.Cmd
	dir    string
	addr   string
	done   chan struct{}
	cgroup string // its CPU cgroup, removed by stop ("" for none)
}

// ownCPUCgroup moves pid (postgres, before it forks anything) into a CPU
// cgroup of its own with the quota minicloud gives a DB instance of 2
// vCPUs (workload's cgroups). On cgroup v1 the scheduler shares CPU
// between groups first: a DB instance's backends, all in one group, share
// one group's weight while processes left in the root group each count
// alone, so on a loaded machine the comparison measured the grouping, not
// the database path. Not root: no cgroup, and the comparison says so.
func ownCPUCgroup(pid int) (string, error) {
	if os.Geteuid() != 0 {
		return "", nil
	}
	name := fmt.Sprintf("minicloud-bench-plain-%d", pid)
	files := [][2]string{}
	dir := filepath.Join("/sys/fs/cgroup/cpu", name)
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		dir = filepath.Join("/sys/fs/cgroup", name)
		files = append(files, [2]string{"cpu.max", "200000 100000"})
	} else {
		files = append(files, [2]string{"cpu.cfs_period_us", "100000"}, [2]string{"cpu.cfs_quota_us", "200000"})
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", fmt.Errorf("plain postgres's cgroup: %w", err)
	}
	for _, f := range append(files, [2]string{"cgroup.procs", strconv.Itoa(pid)}) {
		if err := os.WriteFile(filepath.Join(dir, f[0]), []byte(f[1]), 0o644); err != nil {
			_ = os.Remove(dir)
			return "", fmt.Errorf("plain postgres's cgroup: %w", err)
		}
	}
	return dir, nil
}

// startPlainPostgres runs initdb and postgres as minicloud does for a DB
// instance (same user, initdb options and command-line settings).
func startPlainPostgres(binDir, tmp string) (*plainPG, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		u, err = user.Lookup("minicloud-db")
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		if err != nil {
			return nil, fmt.Errorf("no postgres or minicloud-db user to run postgres as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
	}
	// Its own directory outside tmp (0700, root's), owned by that user.
	dir, err := os.MkdirTemp("", "minicloud-bench-pg-")
	if err != nil {
		return nil, err
	}
	pg := &plainPG{dir: dir, done: make(chan struct{})}
	fail := func(err error) (*plainPG, error) { _ = os.RemoveAll(dir); return nil, err }
	pw := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pw, []byte(rdsPassword+"\n"), 0o600); err != nil {
		return fail(err)
	}
	if cred != nil {
		for _, p := range []string{dir, pw} {
			if err := os.Chown(p, int(cred.Uid), int(cred.Gid)); err != nil {
				return fail(err)
			}
		}
	}
	cmd := func(name string, args ...string) *exec.Cmd {
		c := exec.Command(filepath.Join(binDir, name), args...)
		c.Dir = "/"
		c.Env = []string{"LANG=C.UTF-8", "PATH=/usr/bin:/bin"}
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: cred}
		return c
	}
	data := filepath.Join(dir, "data")
	if out, err := cmd("initdb", "-D", data, "-U", "bench", "--auth=scram-sha-256", "--pwfile="+pw, "-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %v: %s", err, out))
	}
	port, err := freePort()
	if err != nil {
		return fail(err)
	}
	pg.addr = fmt.Sprintf("%s:%d", host, port)
	logf, err := os.Create(filepath.Join(tmp, "plain-postgres.log"))
	if err != nil {
		return fail(err)
	}
	pg.cmd = cmd("postgres", "-D", data, "-p", strconv.Itoa(port), "-c", "listen_addresses="+host, "-c", "unix_socket_directories=", "-c", "fsync=on")
	pg.cmd.Stdout, pg.cmd.Stderr = logf, logf
	if err := pg.cmd.Start(); err != nil {
		logf.Close()
		return fail(err)
	}
	go func() { _ = pg.cmd.Wait(); logf.Close(); close(pg.done) }()
	if pg.cgroup, err = ownCPUCgroup(pg.cmd.Process.Pid); err != nil {
		pg.stop()
		return nil, err
	}
	for range 300 {
		select {
		case <-pg.done:
			return fail(errors.New("plain postgres exited; see plain-postgres.log"))
		default:
		}
		if exec.Command(filepath.Join(binDir, "pg_isready"), "-q", "-h", host, "-p", strconv.Itoa(port)).Run() == nil {
			return pg, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	pg.stop()
	return nil, errors.New("plain postgres did not become ready in 30 s")
}

// stop ends the harness's postgres by PID (fast shutdown, then kill) and
// removes its directory.
func (pg *plainPG) stop() {
	if pg == nil || pg.cmd == nil || pg.cmd.Process == nil {
		return
	}
	_ = pg.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-pg.done:
	case <-time.After(15 * time.Second):
		_ = pg.cmd.Process.Kill()
		<-pg.done
	}
	_ = os.RemoveAll(pg.dir)
	if pg.cgroup != "" {
		_ = os.Remove(pg.cgroup) // empty now: its processes have exited
	}
	pg.cmd = nil
}

// pgTarget is where pgbench connects: addr (host:port) from the network
// namespace at ns ("" is the bench's own).
type pgTarget struct{ addr, ns string }

func pgbench(binDir string, t pgTarget, args ...string) (string, error) {
	i := strings.LastIndex(t.addr, ":")
	full := append(append([]string{"-h", t.addr[:i], "-p", t.addr[i+1:], "-U", "bench"}, args...), "postgres")
	name := filepath.Join(binDir, "pgbench")
	if t.ns != "" {
		// Only the network namespace changes: pgbench is the host's.
		full = append([]string{"--net=" + t.ns, "--", name}, full...)
		name = "nsenter"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, name, full...)
	c.Env = []string{"PGPASSWORD=" + rdsPassword, "PGCONNECT_TIMEOUT=10", "PATH=/usr/bin:/bin"}
	out, err := c.CombinedOutput()
	return string(out), err
}

var tpsRe = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

func pgbenchTPS(binDir string, t pgTarget, args ...string) (float64, error) {
	out, err := pgbench(binDir, t, args...)
	if err != nil {
		return 0, fmt.Errorf("%v: %s", err, lastLines(out, 5))
	}
	m := tpsRe.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no TPS in pgbench's output: %s", lastLines(out, 5))
	}
	return strconv.ParseFloat(m[1], 64)
}

func meanF(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(max(1, len(xs)))
}

// rdsTargetNames describes each pgbench target in the report.
var rdsTargetNames = map[string]string{
	"minicloud":    "DB instance at its loopback port",
	"endpoint":     "at its endpoint's public IP from the host (%s, internet gateway)",
	"vpc-client":   "at its private IP from an EC2 instance in its subnet (%s)",
	"in-namespace": "at its private IP from its own namespace (%s; no network but lo)",
	"plain":        "plain postgres started by the bench",
}

func reportRDS(w io.Writer, o rdsOptions, r *rdsResult) {
	where := "loopback only (data plane off)"
	if r.placed {
		where = "in a VPC (data plane on): the loopback port leads into the instance's namespace"
	}
	fmt.Fprintf(w, "\nrds: PostgreSQL %s, DB instance %s\n", r.version, where)
	tw := newTab(w)
	fmt.Fprintf(tw, "figure\tminicloud\ttarget\n")
	fmt.Fprintf(tw, "CreateDBInstance → available, median of %d\t%s (runs %s)\t≤ 3 s\n", len(r.creates), ms(median(r.creates)), msList(r.creates))
	fmt.Fprintf(tw, "pgbench %s, %d clients, %v × %d rounds:\t\t\n", r.pgbenchOp, o.clients, o.dur, o.rounds)
	for _, t := range r.targets {
		name := rdsTargetNames[t]
		switch t {
		case "endpoint":
			name = fmt.Sprintf(name, r.epAddr)
		case "vpc-client", "in-namespace":
			name = fmt.Sprintf(name, r.privAddr)
		}
		fmt.Fprintf(tw, "  %s\t%.0f TPS (%s)\t\n", name, meanF(r.tps[t]), tpsList(r.tps[t]))
	}
	plain := meanF(r.tps["plain"])
	for _, t := range r.targets {
		if t != "plain" {
			target := "≥ 0.95"
			if t == "in-namespace" {
				target = "(the server's own ceiling)"
			}
			fmt.Fprintf(tw, "ratio %s / plain\t%.3f\t%s\n", t, meanF(r.tps[t])/plain, target)
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "run order: %s\n", strings.Join(r.order, ", "))
}

func tpsList(xs []float64) string {
	var s []string
	for _, x := range xs {
		s = append(s, fmt.Sprintf("%.0f", x))
	}
	return strings.Join(s, ", ")
}

// rdsPublicNetwork gives the bench's VPC what a publicly accessible DB
// instance needs (DNS hostnames, an internet gateway and the default route
// to it) and returns a security group open on 5432, for the endpoint
// measurement. The DB instances are created without it, so that the create
// times stay comparable with runs before it existed.
func rdsPublicNetwork(ctx context.Context, ec *ec2.Client, vpc *string) (*string, error) {
	if _, err := ec.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: vpc, EnableDnsHostnames: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
		return nil, err
	}
	igw, err := ec.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	if err != nil {
		return nil, err
	}
	if _, err := ec.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: vpc}); err != nil {
		return nil, err
	}
	rtbs, err := ec.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{aws.ToString(vpc)}}, {Name: aws.String("association.main"), Values: []string{"true"}}}})
	if err != nil {
		return nil, err
	}
	if len(rtbs.RouteTables) != 1 {
		return nil, fmt.Errorf("%d main route tables", len(rtbs.RouteTables))
	}
	if _, err := ec.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rtbs.RouteTables[0].RouteTableId,
		DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: igw.InternetGateway.InternetGatewayId}); err != nil {
		return nil, err
	}
	sg, err := ec.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("bench-public"), Description: aws.String("bench"), VpcId: vpc})
	if err != nil {
		return nil, err
	}
	if _, err := ec.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: []ec2types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(5432), ToPort: aws.Int32(5432), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}}); err != nil {
		return nil, err
	}
	return sg.GroupId, nil
}

// rdsPublicEndpoint makes DB instance id publicly accessible in security
// group sg (both applied at once, as on AWS) and waits until minicloud's DNS
// at dnsAddr answers its endpoint name with a public IP that accepts
// connections; it returns the name and host:port.
func rdsPublicEndpoint(ctx context.Context, rc *rds.Client, id string, sg *string, dnsAddr string) (string, string, error) {
	out, err := rc.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String(id), PubliclyAccessible: aws.Bool(true),
		VpcSecurityGroupIds: []string{aws.ToString(sg)}, ApplyImmediately: aws.Bool(true)})
	if err != nil {
		return "", "", err
	}
	ep := out.DBInstance.Endpoint
	if ep == nil {
		return "", "", fmt.Errorf("DB instance %s has no endpoint", id)
	}
	name, port := aws.ToString(ep.Address), int(aws.ToInt32(ep.Port))
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, dnsAddr)
	}}
	public := netip.MustParsePrefix("198.18.0.0/15")
	var last error
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		ips, err := resolver.LookupHost(ctx, name)
		if err != nil || len(ips) != 1 {
			last = fmt.Errorf("%s: %v %v", name, ips, err)
			continue
		}
		ip, err := netip.ParseAddr(ips[0])
		if err != nil || !public.Contains(ip) {
			last = fmt.Errorf("%s is %s, not yet a public IP", name, ips[0])
			continue
		}
		addr := net.JoinHostPort(ips[0], strconv.Itoa(port))
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			last = err
			continue
		}
		c.Close()
		return name, addr, nil
	}
	return "", "", fmt.Errorf("the endpoint of %s did not become reachable from the host: %v", id, last)
}
