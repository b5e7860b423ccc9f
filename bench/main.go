//go:build bench

// Command bench measures minicloud against moto's server, side by side in one
// run: start time, idle RSS, EC2 throughput through the real aws-sdk-go-v2,
// and memory after that load. It only ever talks to 127.0.0.1, bounds every
// loop in count and time, and ends only the processes it started, by PID.
//
// The data-plane scenarios (-scenarios dataplane, root only, not part of
// "all") boot real instances with minicloud's --data-plane on and time them
// until their user-data web server answers on their public IP; moto runs no
// instances, so its column there is "n/a". They also contact those public
// IPs (198.18.0.0/15, routed on this host), and only through a host route of
// the minicloud they started. So does -scenarios alb (root, not in "all"),
// which puts wrk against an Application Load Balancer, HAProxy and one
// backend directly, in one VPC (see alb.go).
//
// Run from the repository root (see docs/benchmarks.md):
//
//	go run -tags bench ./bench
//
// The build tag keeps it (and the EC2 SDK it compiles) out of `go build ./...`
// and `go test ./...`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// Targets shown next to the figures.
const (
	targetStart    = 20 * time.Millisecond
	targetIdleKiB  = 15 * 1024
	targetRPSRatio = 20.0
)

type options struct {
	nMini, nMoto     int
	workers          int
	warmup, dur      time.Duration
	maxReq           int64
	op               string
	motoBin, miniBin string
	baselineBin      string
	skipMoto         bool
	idleWait         time.Duration
	idleSamples      int
	keepLogs         bool
	scenarios        map[string]bool
	ec2              ec2Options
	dp               dpOptions
	dns              dnsOptions
	proto            protoOptions
	rds              rdsOptions
	aurora           auroraOptions
	alb              albOptions
	cw               cwOptions
	ct               ctOptions
}

// allScenarios in the order they run. "ec2" is short for both EC2 ones,
// "all" for every one.
var allScenarios = []string{"start", "rss", "describe-azs", "ec2-describe", "ec2-run"}

// dpScenarios need root and boot real instances, so "all" leaves them out;
// "dataplane" is short for both.
var dpScenarios = []string{"dataplane-boot", "dataplane-fleet"}

// dnsScenarios compare with CoreDNS, not moto (built from the Go module
// proxy on first use), so "all" leaves them out too.
var dnsScenarios = []string{"dns"}

// protoScenarios run examples/01-prototype end to end (root, data plane),
// so "all" leaves them out.
var protoScenarios = []string{"prototype"}

func parseScenarios(list string) (map[string]bool, error) {
	m := map[string]bool{}
	for _, f := range strings.Split(list, ",") {
		switch f = strings.TrimSpace(f); f {
		case "":
		case "all":
			for _, n := range allScenarios {
				m[n] = true
			}
		case "ec2":
			m["ec2-describe"], m["ec2-run"] = true, true
		case "dataplane":
			m["dataplane-boot"], m["dataplane-fleet"] = true, true
		default:
			if !slices.Contains(slices.Concat(allScenarios, dpScenarios, dnsScenarios, protoScenarios, rdsScenarios, auroraScenarios, albScenarios, cwScenarios, ctScenarios, iamScenarios), f) {
				return nil, fmt.Errorf("-scenarios: unknown %q (want all, ec2, dataplane or some of %s)", f, strings.Join(slices.Concat(allScenarios, dpScenarios, dnsScenarios, protoScenarios, rdsScenarios, auroraScenarios, albScenarios, cwScenarios, ctScenarios, iamScenarios), ","))
			}
			m[f] = true
		}
	}
	if len(m) == 0 {
		return nil, errors.New("-scenarios: none chosen")
	}
	return m, nil
}

func main() {
	var o options
	flag.IntVar(&o.nMini, "n-minicloud", 20, "start-time repetitions for minicloud")
	flag.IntVar(&o.nMoto, "n-moto", 5, "start-time repetitions for moto")
	flag.IntVar(&o.workers, "c", 16, "concurrent SDK workers in the throughput phase")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "uncounted warm-up before each throughput phase")
	flag.DurationVar(&o.dur, "duration", 5*time.Second, "length of each throughput phase")
	flag.Int64Var(&o.maxReq, "max-requests", 500_000, "hard cap on requests per throughput phase (warm-up and measured each)")
	flag.StringVar(&o.op, "op", "DescribeAvailabilityZones", "EC2 operation: DescribeAvailabilityZones or DescribeRegions")
	flag.StringVar(&o.motoBin, "moto", "moto_server", "moto_server executable (a pyenv shim is resolved to the real script)")
	flag.StringVar(&o.miniBin, "minicloud", "", "use this minicloud binary instead of building ./cmd/minicloud")
	flag.BoolVar(&o.skipMoto, "skip-moto", false, "measure minicloud only")
	flag.StringVar(&o.baselineBin, "baseline", "", "also measure this minicloud binary (say, built from main) in the same run, as the column \"baseline\" (control-plane scenarios)")
	flag.DurationVar(&o.idleWait, "idle-wait", time.Second, "wait after start and one health request before sampling idle RSS")
	flag.IntVar(&o.idleSamples, "idle-samples", 5, "idle RSS samples (200 ms apart); the median is reported")
	flag.BoolVar(&o.keepLogs, "keep-logs", false, "keep the servers' logs (their directory is printed)")
	scen := flag.String("scenarios", "all", "comma-separated: start,rss,describe-azs,ec2-describe,ec2-run,dataplane-boot,dataplane-fleet,dns; ec2 = both EC2 ones; dataplane = both data-plane ones (root; not in all); dns = Route 53 DNS vs CoreDNS (not in all); prototype = examples/01-prototype end to end (root; not in all); rds = RDS for PostgreSQL create time and pgbench vs plain postgres (not in all); aurora = Aurora PostgreSQL cluster create time and failover time (not in all); alb = an ALB vs direct and HAProxy under wrk (root; not in all); cloudwatch = PutMetricData throughput and week-query latency vs moto (not in all); cloudtrail = DescribeVpcs latency with CloudTrail recording on vs off (not in all); iam = DescribeVpcs latency with --iam enforce vs off (not in all); all")
	rdsFlags(&o.rds)
	auroraFlags(&o.aurora)
	albFlags(&o.alb)
	cwBatches := ""
	cwFlags(&o.cw, &cwBatches)
	ctFlags(&o.ct)
	flag.IntVar(&o.ec2.instances, "ec2-instances", 1000, "ec2-describe: instances to seed")
	flag.IntVar(&o.ec2.batch, "ec2-batch", 100, "ec2-describe: instances per seeding RunInstances call (each call one team)")
	flag.IntVar(&o.ec2.calls, "ec2-calls", 200, "ec2-describe: measured DescribeInstances calls (sequential)")
	flag.IntVar(&o.ec2.warmCalls, "ec2-warmup-calls", 20, "ec2-describe: uncounted calls first")
	flag.DurationVar(&o.ec2.describeMax, "ec2-describe-max", 5*time.Minute, "ec2-describe: time limit for warm-up plus measured calls")
	flag.IntVar(&o.ec2.runWorkers, "ec2-run-c", 8, "ec2-run: concurrent RunInstances workers")
	flag.DurationVar(&o.ec2.runDur, "ec2-run-duration", 5*time.Second, "ec2-run: measured time")
	flag.Int64Var(&o.ec2.runMax, "ec2-run-max", 3000, "ec2-run: hard cap on launches")
	flag.IntVar(&o.dp.runs, "dp-runs", 20, "dataplane-boot: measured launches (one instance each, terminated before the next)")
	flag.IntVar(&o.dp.warm, "dp-warmup", 1, "dataplane-boot: unmeasured launches first")
	flag.DurationVar(&o.dp.httpEvery, "dp-poll", 5*time.Millisecond, "dataplane-boot: pause between GET tries")
	flag.DurationVar(&o.dp.httpTry, "dp-try-timeout", 200*time.Millisecond, "data plane: timeout of one GET try")
	flag.DurationVar(&o.dp.httpMax, "dp-max", 10*time.Second, "dataplane-boot: give up on an instance's answer after this long")
	flag.IntVar(&o.dp.fleet, "dp-fleet", 50, "dataplane-fleet: instances launched in one RunInstances call")
	flag.DurationVar(&o.dp.fleetEvery, "dp-fleet-poll", 20*time.Millisecond, "dataplane-fleet: pause between GET tries, per instance")
	flag.DurationVar(&o.dp.fleetMax, "dp-fleet-max", 2*time.Minute, "dataplane-fleet: give up on all running / answering after this long")
	flag.DurationVar(&o.dp.idleWait, "dp-idle-wait", 2*time.Second, "dataplane-fleet: wait after all answer before measuring memory")
	flag.StringVar(&o.dp.logLevel, "dp-log-level", "debug", "data plane: minicloud's --log-level (the breakdown reads its log)")
	flag.BoolVar(&o.dp.keepConsole, "dp-console", false, "dataplane-boot: print the first measured instance's console")
	flag.StringVar(&o.dns.coredns, "coredns", "", "dns: CoreDNS executable (default: go install github.com/coredns/coredns@-coredns-version into $TMPDIR/minicloud-bench-coredns-VERSION, once)")
	flag.StringVar(&o.dns.corednsVer, "coredns-version", defaultCoreDNS, "dns: CoreDNS version to build when -coredns is not given")
	flag.IntVar(&o.dns.records, "dns-records", 10000, "dns: A records in the zone bench.test.")
	flag.IntVar(&o.dns.batch, "dns-batch", 500, "dns: changes per ChangeResourceRecordSets call (AWS allows 1000)")
	flag.IntVar(&o.dns.workers, "dns-c", 32, "dns: concurrent UDP clients, one query in flight each")
	flag.DurationVar(&o.dns.warmup, "dns-warmup", time.Second, "dns: uncounted warm-up before each measured phase")
	flag.DurationVar(&o.dns.dur, "dns-duration", 5*time.Second, "dns: length of each measured phase")
	flag.Int64Var(&o.dns.maxQ, "dns-max", 2_000_000, "dns: hard cap on queries per phase")
	flag.IntVar(&o.dns.nxPct, "dns-nx", 10, "dns: percentage of queries for names that do not exist (NXDOMAIN)")
	flag.DurationVar(&o.dns.timeout, "dns-timeout", time.Second, "dns: timeout of one query")
	flag.IntVar(&o.dns.rounds, "dns-rounds", 2, "dns: measured phases per server, alternating which server goes first")
	flag.IntVar(&o.proto.runs, "prototype-runs", 3, "prototype: measured runs, each on a fresh minicloud")
	flag.IntVar(&o.proto.warm, "prototype-warmup", 1, "prototype: unmeasured runs first")
	flag.StringVar(&o.proto.client, "prototype-client", "boto3", "prototype: boto3 (provision.py, teardown.py) or cli (provision.sh, teardown.sh)")
	flag.DurationVar(&o.proto.max, "prototype-max", 5*time.Minute, "prototype: limit per script and for the first page")
	dpUD := flag.String("dp-user-data", "", "data plane, diagnostics: a file of user data to use instead (it must still serve /var/tmp/index.html = \"ok\" on port 80)")
	flag.Parse()
	var err error
	if o.scenarios, err = parseScenarios(*scen); err != nil {
		fatal(err)
	}
	o.dp.userData = dpUserData
	if *dpUD != "" {
		b, err := os.ReadFile(*dpUD)
		if err != nil {
			fatal(err)
		}
		o.dp.userData, o.dp.userDataFile = string(b), *dpUD
	}

	// Bounds: refuse settings that would make an unbounded or absurd run.
	switch {
	case o.nMini < 1 || o.nMini > 1000, o.nMoto < 1 || o.nMoto > 100:
		fatal(errors.New("-n-minicloud must be 1..1000 and -n-moto 1..100"))
	case o.workers < 1 || o.workers > 256:
		fatal(errors.New("-c must be 1..256"))
	case o.dur <= 0 || o.dur > 5*time.Minute, o.warmup < 0 || o.warmup > time.Minute:
		fatal(errors.New("-duration must be in (0, 5m] and -warmup in [0, 1m]"))
	case o.maxReq < 1 || o.maxReq > 10_000_000:
		fatal(errors.New("-max-requests must be 1..10000000"))
	case o.op != "DescribeAvailabilityZones" && o.op != "DescribeRegions":
		fatal(fmt.Errorf("-op %q: want DescribeAvailabilityZones or DescribeRegions", o.op))
	case o.idleSamples < 1 || o.idleSamples > 50:
		fatal(errors.New("-idle-samples must be 1..50"))
	case o.ec2.instances < teams || o.ec2.instances > 5000, o.ec2.batch < 1 || o.ec2.batch > 100:
		fatal(errors.New("-ec2-instances must be 10..5000 and -ec2-batch 1..100"))
	case o.ec2.calls < 1 || o.ec2.calls > 10000, o.ec2.warmCalls < 0 || o.ec2.warmCalls > 1000:
		fatal(errors.New("-ec2-calls must be 1..10000 and -ec2-warmup-calls 0..1000"))
	case o.ec2.describeMax <= 0 || o.ec2.describeMax > 10*time.Minute:
		fatal(errors.New("-ec2-describe-max must be in (0, 10m]"))
	case o.ec2.runWorkers < 1 || o.ec2.runWorkers > 64, o.ec2.runDur <= 0 || o.ec2.runDur > time.Minute:
		fatal(errors.New("-ec2-run-c must be 1..64 and -ec2-run-duration in (0, 1m]"))
	case o.ec2.runMax < 1 || o.ec2.runMax > 4000:
		fatal(errors.New("-ec2-run-max must be 1..4000 (one default subnet is a /20)"))
	case o.dp.runs < 1 || o.dp.runs > 500, o.dp.warm < 0 || o.dp.warm > 10:
		fatal(errors.New("-dp-runs must be 1..500 and -dp-warmup 0..10"))
	case o.dp.httpEvery < time.Millisecond || o.dp.httpEvery > time.Second, o.dp.httpTry < 10*time.Millisecond || o.dp.httpTry > 10*time.Second:
		fatal(errors.New("-dp-poll must be in [1ms, 1s] and -dp-try-timeout in [10ms, 10s]"))
	case o.dp.httpMax <= 0 || o.dp.httpMax > 2*time.Minute, o.dp.fleetMax <= 0 || o.dp.fleetMax > 10*time.Minute:
		fatal(errors.New("-dp-max must be in (0, 2m] and -dp-fleet-max in (0, 10m]"))
	case o.dp.fleet < 1 || o.dp.fleet > 200, o.dp.fleetEvery < time.Millisecond || o.dp.fleetEvery > 5*time.Second:
		fatal(errors.New("-dp-fleet must be 1..200 and -dp-fleet-poll in [1ms, 5s]"))
	case o.dp.idleWait < 0 || o.dp.idleWait > time.Minute:
		fatal(errors.New("-dp-idle-wait must be in [0, 1m]"))
	case o.dns.records < 1 || o.dns.records > 65536, o.dns.batch < 1 || o.dns.batch > 1000:
		fatal(errors.New("-dns-records must be 1..65536 and -dns-batch 1..1000"))
	case o.dns.workers < 1 || o.dns.workers > 256, o.dns.rounds < 1 || o.dns.rounds > 10:
		fatal(errors.New("-dns-c must be 1..256 and -dns-rounds 1..10"))
	case o.dns.dur <= 0 || o.dns.dur > time.Minute, o.dns.warmup < 0 || o.dns.warmup > 30*time.Second:
		fatal(errors.New("-dns-duration must be in (0, 1m] and -dns-warmup in [0, 30s]"))
	case o.dns.maxQ < 1 || o.dns.maxQ > 50_000_000, o.dns.nxPct < 0 || o.dns.nxPct > 100:
		fatal(errors.New("-dns-max must be 1..50000000 and -dns-nx 0..100"))
	case o.dns.timeout < time.Millisecond || o.dns.timeout > 10*time.Second:
		fatal(errors.New("-dns-timeout must be in [1ms, 10s]"))
	case o.proto.runs < 1 || o.proto.runs > 50, o.proto.warm < 0 || o.proto.warm > 5, o.proto.max <= 0 || o.proto.max > 15*time.Minute:
		fatal(errors.New("-prototype-runs must be 1..50, -prototype-warmup 0..5 and -prototype-max in (0, 15m]"))
	case o.proto.client != "boto3" && o.proto.client != "cli":
		fatal(errors.New("-prototype-client must be boto3 or cli"))
	}

	if err := o.aurora.check(); err != nil {
		fatal(err)
	}
	if err := o.rds.check(); err != nil {
		fatal(err)
	}
	if err := o.alb.check(); err != nil {
		fatal(err)
	}
	if err := o.cw.check(cwBatches); err != nil {
		fatal(err)
	}
	if err := o.ct.check(); err != nil {
		fatal(err)
	}

	// End our children on Ctrl-C / SIGTERM, then exit.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-sigs
		fmt.Fprintf(os.Stderr, "\nbench: %v: stopping servers\n", s)
		stopAll()
		os.Exit(130)
	}()

	code := 0
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		code = 1
	}
	stopAll()
	os.Exit(code)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	stopAll()
	os.Exit(2)
}

// result gathers every figure for one server.
type result struct {
	name      string
	starts    []time.Duration
	idle      memInfo
	load      loadResult
	afterLoad memInfo
	settled   memInfo
	desc      describeResult
	descMem   memInfo // after the describe calls, 1000 instances held
	launch    runResult
	launchMem memInfo // after the launches
	dpBoot    *dpBootResult
	dpFleet   *dpFleetResult
}

func run(o options) error {
	tmp, err := os.MkdirTemp("", "minicloud-bench-")
	if err != nil {
		return err
	}
	if o.keepLogs {
		fmt.Println("logs:", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	mini := o.miniBin
	if mini == "" {
		root, err := moduleRoot()
		if err != nil {
			return err
		}
		mini = filepath.Join(tmp, "minicloud")
		fmt.Fprintf(os.Stderr, "building ./cmd/minicloud (not timed)…\n")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		b := exec.CommandContext(ctx, "go", "build", "-o", mini, "./cmd/minicloud")
		b.Dir, b.Stdout, b.Stderr = root, os.Stderr, os.Stderr
		err = b.Run()
		cancel()
		if err != nil {
			return fmt.Errorf("go build ./cmd/minicloud: %w", err)
		}
	}
	miniServer := func(name, bin string) *server {
		return &server{
			name: name,
			bin:  bin,
			args: func(port int) []string {
				return []string{"serve", "--listen", fmt.Sprintf("%s:%d", host, port), "--ephemeral"}
			},
			readyPath: "/_minicloud/health",
			readyMax:  10 * time.Second,
			minicloud: true,
		}
	}
	servers := []*server{miniServer("minicloud", mini)}
	if o.baselineBin != "" && controlPlane(o) {
		servers = append(servers, miniServer("baseline", o.baselineBin))
	}
	motoVer := "-"
	if !o.skipMoto && controlPlane(o) {
		mb, err := resolveMoto(o.motoBin)
		if err != nil {
			return fmt.Errorf("moto_server not found (use -skip-moto to measure minicloud alone): %w", err)
		}
		motoVer = motoVersion(mb)
		servers = append(servers, &server{
			name:      "moto",
			bin:       mb,
			args:      func(port int) []string { return []string{"-H", host, "-p", fmt.Sprint(port)} },
			readyPath: "/moto-api/",
			readyMax:  60 * time.Second,
		})
	}
	reps := map[string]int{"minicloud": o.nMini, "baseline": o.nMini, "moto": o.nMoto}

	fmt.Printf("machine: %d CPUs (nproc), %s %s/%s; moto %s\n", runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, motoVer)
	la, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("date: %s; load average at start: %s\n", time.Now().Format(time.RFC3339), strings.Join(strings.Fields(string(la))[:min(3, len(strings.Fields(string(la))))], " "))
	fmt.Printf("scenarios: %s\n", strings.Join(slices.DeleteFunc(slices.Concat(allScenarios, dpScenarios, dnsScenarios, protoScenarios, rdsScenarios, auroraScenarios, albScenarios, cwScenarios, ctScenarios, iamScenarios), func(n string) bool { return !o.scenarios[n] }), ","))
	if o.scenarios["dns"] {
		fmt.Printf("dns: zone %s of %d A records (minicloud via the Route 53 API, CoreDNS from the same records as a zone file); %d UDP clients × 1 query in flight, %d%% NXDOMAIN names, EDNS %d, RD clear; %v warm-up + %v measured × %d rounds (alternating order), cap %d queries/phase, %v timeout; the load generator runs in this process, on the same cores\n",
			dnsZone, o.dns.records, o.dns.workers, o.dns.nxPct, dnsEDNSSize, o.dns.warmup, o.dns.dur, o.dns.rounds, o.dns.maxQ, o.dns.timeout)
	}
	if o.scenarios["describe-azs"] {
		fmt.Printf("load: %s, %d workers, %v warm-up + %v measured, cap %d requests/phase, aws-sdk-go-v2 (SigV4, test/test, %s, no retries)\n",
			o.op, o.workers, o.warmup, o.dur, o.maxReq, region)
	}
	if o.scenarios["ec2-describe"] {
		fmt.Printf("ec2-describe: %d instances (%s, batches of %d, tag %s=team-0..%d), then %d warm-up + %d sequential DescribeInstances tag:%s=%s\n",
			o.ec2.instances, benchInstanceType, o.ec2.batch, teamKey, teams-1, o.ec2.warmCalls, o.ec2.calls, teamKey, describeTeam)
	}
	if o.scenarios["dataplane-boot"] || o.scenarios["dataplane-fleet"] {
		fmt.Printf("dataplane: minicloud only, serve --ephemeral --data-plane on --log-level %s (moto has no data plane: nothing of it boots)\n", o.dp.logLevel)
		if o.dp.userDataFile != "" {
			fmt.Printf("dataplane: user data from %s (diagnostics), not the standard web server script\n", o.dp.userDataFile)
		}
	}
	if o.scenarios["dataplane-boot"] {
		fmt.Printf("dataplane-boot: %d unmeasured + %d launches of 1 %s in the default VPC, SG tcp/80 from 0.0.0.0/0, user data python3 -m http.server 80; GET http://<public IP>/index.html every %v (%v per try, %v max); each terminated before the next\n",
			o.dp.warm, o.dp.runs, benchInstanceType, o.dp.httpEvery, o.dp.httpTry, o.dp.httpMax)
	}
	if o.scenarios["dataplane-fleet"] {
		fmt.Printf("dataplane-fleet: RunInstances MinCount=MaxCount=%d (same user data), GET each every %v, memory %v after all answer, then terminate all and stop\n",
			o.dp.fleet, o.dp.fleetEvery, o.dp.idleWait)
	}
	if o.scenarios["ec2-run"] {
		fmt.Printf("ec2-run: %d workers × RunInstances MinCount=MaxCount=1 (%s), %v, cap %d launches, fresh server\n",
			o.ec2.runWorkers, benchInstanceType, o.ec2.runDur, o.ec2.runMax)
	}

	results := map[string]*result{}
	for _, s := range servers {
		results[s.name] = &result{name: s.name}
	}

	if err := runScenarios(o, servers, results, reps, tmp); err != nil {
		return err
	}
	if controlPlane(o) {
		report(os.Stdout, o, servers, results)
	}
	if err := runDataPlane(o, mini, results["minicloud"], tmp); err != nil {
		return err
	}
	if r := results["minicloud"]; r.dpBoot != nil || r.dpFleet != nil {
		reportDP(os.Stdout, o.dp, r.dpBoot, r.dpFleet)
	}
	if o.scenarios["dns"] {
		rs, err := runDNS(o.dns, mini, tmp)
		if err != nil {
			return fmt.Errorf("dns: %w", err)
		}
		reportDNS(os.Stdout, o.dns, rs)
	}
	if o.scenarios["prototype"] {
		fmt.Fprintln(os.Stderr, "minicloud: prototype…")
		rs, err := runPrototype(o.proto, mini, tmp)
		if err != nil {
			return fmt.Errorf("prototype: %w", err)
		}
		reportPrototype(os.Stdout, o.proto, rs)
	}
	if o.scenarios["rds"] {
		r, err := runRDS(o.rds, mini, tmp)
		if err != nil {
			return fmt.Errorf("rds: %w", err)
		}
		reportRDS(os.Stdout, o.rds, r)
	}
	if o.scenarios["aurora"] {
		r, err := runAurora(o.aurora, mini, tmp)
		if err != nil {
			return fmt.Errorf("aurora: %w", err)
		}
		reportAurora(os.Stdout, r)
	}
	if o.scenarios["cloudwatch"] {
		motoBin, motoVer := "", "-"
		if !o.skipMoto {
			if motoBin, err = resolveMoto(o.motoBin); err != nil {
				return fmt.Errorf("moto_server not found (use -skip-moto to measure minicloud alone): %w", err)
			}
			motoVer = motoVersion(motoBin)
		}
		rs, err := runCloudWatch(o.cw, mini, o.baselineBin, motoBin, tmp)
		if err != nil {
			return fmt.Errorf("cloudwatch: %w", err)
		}
		reportCloudWatch(os.Stdout, o.cw, rs, motoVer)
	}
	if o.scenarios["cloudtrail"] {
		fmt.Fprintln(os.Stderr, "minicloud: cloudtrail…")
		rs, err := runCloudTrail(o.ct, mini, tmp)
		if err != nil {
			return fmt.Errorf("cloudtrail: %w", err)
		}
		reportCloudTrail(os.Stdout, o.ct, rs)
	}
	if o.scenarios["iam"] {
		fmt.Fprintln(os.Stderr, "minicloud: iam…")
		rs, err := runIAM(o.ct, mini, tmp)
		if err != nil {
			return fmt.Errorf("iam: %w", err)
		}
		reportIAM(os.Stdout, o.ct, rs)
	}
	if o.scenarios["alb"] {
		fmt.Fprintln(os.Stderr, "minicloud: alb…")
		r, err := runALB(o.alb, mini, tmp)
		if err != nil {
			return fmt.Errorf("alb: %w", err)
		}
		reportALB(os.Stdout, o.alb, r)
	}
	return nil
}

// controlPlane reports whether a scenario other than the data-plane ones
// was chosen (those compare with moto).
func controlPlane(o options) bool {
	for _, n := range allScenarios {
		if o.scenarios[n] {
			return true
		}
	}
	return false
}

// runDataPlane runs the data-plane scenarios, minicloud only, each on a
// fresh server.
func runDataPlane(o options, bin string, r *result, tmp string) error {
	s := dpServer(bin, o.dp.logLevel)
	if o.scenarios["dataplane-boot"] {
		fmt.Fprintln(os.Stderr, "minicloud: dataplane-boot…")
		b, err := runDPBoot(s, o.dp, tmp)
		if err != nil {
			return fmt.Errorf("dataplane-boot: %w", err)
		}
		r.dpBoot = &b
	}
	if o.scenarios["dataplane-fleet"] {
		fmt.Fprintln(os.Stderr, "minicloud: dataplane-fleet…")
		f, err := runDPFleet(s, o.dp, tmp)
		if err != nil {
			return fmt.Errorf("dataplane-fleet: %w", err)
		}
		r.dpFleet = &f
	}
	return nil
}

func runScenarios(o options, servers []*server, results map[string]*result, reps map[string]int, tmp string) error {
	if o.scenarios["start"] {
		if err := runStarts(o, servers, results, reps, tmp); err != nil {
			return err
		}
	}
	if o.scenarios["rss"] || o.scenarios["describe-azs"] {
		if err := runIdleAndLoad(o, servers, results, tmp); err != nil {
			return err
		}
	}
	for _, sc := range []string{"ec2-describe", "ec2-run"} {
		if !o.scenarios[sc] {
			continue
		}
		for _, s := range servers {
			r := results[s.name]
			p, err := start(controlPlaneOnly(s), tmp)
			if err != nil {
				return err
			}
			if _, err := p.waitReady(); err != nil {
				p.stop()
				return err
			}
			fmt.Fprintf(os.Stderr, "%s: %s…\n", s.name, sc)
			if sc == "ec2-describe" {
				r.desc, err = runDescribe(p, o.ec2)
				r.descMem, _ = readMem(p.pid)
			} else {
				r.launch, err = runLaunches(p, o.ec2)
				r.launchMem, _ = readMem(p.pid)
			}
			p.stop()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func runStarts(o options, servers []*server, results map[string]*result, reps map[string]int, tmp string) error {
	// 1. Start time. One unmeasured start each (warms the page cache and
	// Python's bytecode cache), then the repetitions, interleaved so that
	// machine noise hits both servers alike.
	for _, s := range servers {
		if _, err := startReadyStop(s, tmp); err != nil {
			return err
		}
	}
	for i := 0; i < max(o.nMini, o.nMoto); i++ {
		for _, s := range servers {
			if i >= reps[s.name] {
				continue
			}
			d, err := startReadyStop(s, tmp)
			if err != nil {
				return err
			}
			results[s.name].starts = append(results[s.name].starts, d)
		}
	}
	fmt.Fprintln(os.Stderr, "start times done")
	return nil
}

func runIdleAndLoad(o options, servers []*server, results map[string]*result, tmp string) error {
	// 2–4. One fresh instance each: idle RSS, throughput, memory after load.
	for _, s := range servers {
		r := results[s.name]
		p, err := start(s, tmp)
		if err != nil {
			return err
		}
		if _, err := p.waitReady(); err != nil {
			p.stop()
			return err
		}
		if err := getOnce(p.url() + s.readyPath); err != nil { // the one health request
			p.stop()
			return err
		}
		time.Sleep(o.idleWait)
		r.idle, err = medianMem(p.pid, o.idleSamples)
		if err != nil {
			p.stop()
			return err
		}
		if !o.scenarios["describe-azs"] {
			p.stop()
			continue
		}
		fmt.Fprintf(os.Stderr, "%s: load…\n", s.name)
		r.load, err = runLoad(p, o.op, o.workers, o.warmup, o.dur, o.maxReq)
		if err != nil {
			p.stop()
			return err
		}
		r.afterLoad, _ = readMem(p.pid)
		time.Sleep(o.idleWait)
		r.settled, _ = medianMem(p.pid, o.idleSamples)
		p.stop()
	}
	return nil
}

func startReadyStop(s *server, tmp string) (time.Duration, error) {
	p, err := start(s, tmp)
	if err != nil {
		return 0, err
	}
	defer p.stop()
	return p.waitReady()
}

func getOnce(u string) error {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return nil
}

// medianMem samples /proc/PID/status n times, 200 ms apart, and returns the
// sample with the median VmRSS.
func medianMem(pid, n int) (memInfo, error) {
	var ms []memInfo
	for i := 0; i < n; i++ {
		if i > 0 {
			time.Sleep(200 * time.Millisecond)
		}
		m, err := readMem(pid)
		if err != nil {
			return memInfo{}, err
		}
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b memInfo) int { return int(a.RSS - b.RSS) })
	return ms[len(ms)/2], nil
}

func moduleRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for i := 0; i < 64; i++ {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/minicloud/minicloud") {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	return "", errors.New("run from inside the minicloud repository (or pass -minicloud PATH)")
}

func median(ds []time.Duration) time.Duration { return pctOf(ds, 50) }

func pctOf(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return pct(s, q)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
func mib(kib int64) string      { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }
func mark(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

func report(w io.Writer, o options, servers []*server, rs map[string]*result) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "figure\ttarget")
	for _, s := range servers {
		fmt.Fprintf(tw, "\t%s", s.name)
	}
	fmt.Fprintln(tw, "\tminicloud vs target")
	mini := rs["minicloud"]
	moto, haveMoto := rs["moto"]
	row := func(name, target string, f func(r *result) string, verdict string) {
		fmt.Fprintf(tw, "%s\t%s", name, target)
		for _, s := range servers {
			fmt.Fprintf(tw, "\t%s", f(rs[s.name]))
		}
		fmt.Fprintf(tw, "\t%s\n", verdict)
	}
	if o.scenarios["start"] {
		row("start, median (n)", "≤ 20 ms", func(r *result) string { return fmt.Sprintf("%s (%d)", ms(median(r.starts)), len(r.starts)) },
			mark(median(mini.starts) <= targetStart))
		row("start, p90", "≤ 20 ms", func(r *result) string { return ms(pctOf(r.starts, 90)) }, mark(pctOf(mini.starts, 90) <= targetStart))
		row("start, min / max", "", func(r *result) string { return ms(slices.Min(r.starts)) + " / " + ms(slices.Max(r.starts)) }, "")
	}
	if o.scenarios["rss"] {
		row("idle RSS (VmRSS)", "≤ 15 MiB", func(r *result) string { return mib(r.idle.RSS) }, mark(mini.idle.RSS <= targetIdleKiB))
		row("  of which anon / file", "", func(r *result) string { return mib(r.idle.Anon) + " / " + mib(r.idle.File) }, "")
	}
	verdict := "-"
	if o.scenarios["describe-azs"] {
		var motoRPS float64
		if haveMoto {
			motoRPS = moto.load.ReqPerSec
		}
		if motoRPS > 0 {
			verdict = mark(mini.load.ReqPerSec >= targetRPSRatio*motoRPS)
		}
		row("throughput, ok req/s", "≥ 20× moto", func(r *result) string { return fmt.Sprintf("%.0f", r.load.ReqPerSec) }, verdict)
		row("  ok / errors", "0 errors", func(r *result) string {
			s := fmt.Sprintf("%d / %d", r.load.OK, r.load.Errors)
			if r.load.Capped {
				s += " (capped)"
			}
			return s
		}, mark(mini.load.Errors == 0))
		row("  latency p50 / p99", "", func(r *result) string { return ms(r.load.P50) + " / " + ms(r.load.P99) }, "")
		row("  server CPU per ok req", "", func(r *result) string { return perReq(r.load.ServerCPU, r.load.OK) }, "")
		row("  client CPU per ok req", "", func(r *result) string { return perReq(r.load.ClientCPU, r.load.OK) }, "")
		row("  CPU use in cores: server / client / other", "", func(r *result) string {
			l := r.load
			other := l.MachineCPU - l.ServerCPU - l.ClientCPU
			c := func(d time.Duration) string { return fmt.Sprintf("%.2f", max(d, 0).Seconds()/l.Elapsed.Seconds()) }
			s := c(l.ServerCPU) + " / " + c(l.ClientCPU) + " / " + c(other)
			if l.Steal > 0 {
				s += " (steal " + c(l.Steal) + ")"
			}
			return s
		}, "")
		row("RSS right after load", "", func(r *result) string { return mib(r.afterLoad.RSS) }, "")
		row("RSS peak (VmHWM)", "", func(r *result) string { return mib(r.afterLoad.HWM) }, "")
		row("RSS 1 s after load", "", func(r *result) string { return mib(r.settled.RSS) }, "")
	}
	if o.scenarios["ec2-describe"] {
		d := mini.desc
		row("seed: instances (AMI)", "", func(r *result) string { return fmt.Sprintf("%d (%s)", r.desc.Seeded, r.desc.AMI) }, "")
		row("seed: time, launches/s", "", func(r *result) string {
			return fmt.Sprintf("%s, %.0f/s", ms(r.desc.SeedTime), float64(r.desc.Seeded)/max(r.desc.SeedTime.Seconds(), 1e-9))
		}, "")
		row("DescribeInstances tag filter p50", "≤ 5 ms", func(r *result) string { return ms(r.desc.P50) }, mark(d.OK > 0 && d.P50 <= targetDescribeP50))
		row("  p90 / p99", "", func(r *result) string { return ms(r.desc.P90) + " / " + ms(r.desc.P99) }, "")
		row("  mean, min / max", "", func(r *result) string {
			if len(r.desc.Lats) == 0 {
				return "-"
			}
			return ms(r.desc.Mean) + ", " + ms(r.desc.Lats[0]) + " / " + ms(r.desc.Lats[len(r.desc.Lats)-1])
		}, "")
		row("  ok / errors (want n instances)", "0 errors", func(r *result) string {
			s := fmt.Sprintf("%d / %d (%d)", r.desc.OK, r.desc.Errors, r.desc.Expect)
			if r.desc.TimedOut {
				s += " (time limit)"
			}
			return s
		}, mark(d.Errors == 0 && !d.TimedOut))
		row("  server time (to 1st byte) p50 / p90 / p99", "", func(r *result) string {
			return ms(r.desc.TP50) + " / " + ms(r.desc.TP90) + " / " + ms(r.desc.TP99)
		}, "")
		row("  server time (to last byte) p50 / p90 / p99", "", func(r *result) string {
			return ms(r.desc.LP50) + " / " + ms(r.desc.LP90) + " / " + ms(r.desc.LP99)
		}, "")
		row("  server / client CPU per call", "", func(r *result) string {
			n := int64(r.desc.OK + r.desc.Errors)
			return perReq(r.desc.ServerCPU, n) + " / " + perReq(r.desc.ClientCPU, n)
		}, "")
		row("  answer size", "", func(r *result) string { return fmt.Sprintf("%.0f KB", float64(r.desc.RespBytes)/1000) }, "")
		row("  RSS with the instances, peak (VmHWM)", "", func(r *result) string { return mib(r.descMem.RSS) + ", " + mib(r.descMem.HWM) }, "")
	}
	if o.scenarios["ec2-run"] {
		l := mini.launch
		row("RunInstances (1 each), launches/s", "", func(r *result) string { return fmt.Sprintf("%.0f", r.launch.PerSec) }, "")
		row("  ok / errors", "0 errors", func(r *result) string {
			s := fmt.Sprintf("%d / %d", r.launch.OK, r.launch.Errors)
			if r.launch.Capped {
				s += " (capped)"
			}
			return s
		}, mark(l.Errors == 0))
		row("  launches in first / last second", "", func(r *result) string {
			return fmt.Sprintf("%.0f / %.0f", r.launch.FirstSec, r.launch.LastSec)
		}, "")
		row("  latency p50 / p99", "", func(r *result) string { return ms(r.launch.P50) + " / " + ms(r.launch.P99) }, "")
		row("  server / client CPU per launch", "", func(r *result) string {
			return perReq(r.launch.ServerCPU, r.launch.OK) + " / " + perReq(r.launch.ClientCPU, r.launch.OK)
		}, "")
		row("  CPU use in cores: server / client / other", "", func(r *result) string {
			x := r.launch
			c := func(d time.Duration) string {
				return fmt.Sprintf("%.2f", max(d, 0).Seconds()/max(x.Elapsed.Seconds(), 1e-9))
			}
			return c(x.ServerCPU) + " / " + c(x.ClientCPU) + " / " + c(x.MachineCPU-x.ServerCPU-x.ClientCPU)
		}, "")
		row("  RSS after the launches", "", func(r *result) string { return mib(r.launchMem.RSS) }, "")
	}
	tw.Flush()

	for _, s := range servers {
		r := rs[s.name]
		for k, n := range r.load.ErrorsByKey {
			fmt.Fprintf(w, "errors %s describe-azs: %d × %s\n", s.name, n, k)
		}
		for k, n := range r.desc.ErrorsByKey {
			fmt.Fprintf(w, "errors %s ec2-describe: %d × %s\n", s.name, n, k)
		}
		for k, n := range r.launch.ErrorsByKey {
			fmt.Fprintf(w, "errors %s ec2-run: %d × %s\n", s.name, n, k)
		}
	}
	if !haveMoto {
		return
	}
	var parts []string
	if o.scenarios["start"] {
		parts = append(parts, fmt.Sprintf("start %.0f× faster (median)", float64(median(moto.starts))/float64(max(median(mini.starts), 1))))
	}
	if o.scenarios["rss"] {
		parts = append(parts, fmt.Sprintf("idle RSS %.1f× smaller", float64(moto.idle.RSS)/float64(max(mini.idle.RSS, 1))))
	}
	if o.scenarios["describe-azs"] {
		parts = append(parts, fmt.Sprintf("throughput %.1f× (target ≥ %.0f×: %s), server CPU per request %.1f× less",
			mini.load.ReqPerSec/max(moto.load.ReqPerSec, 1e-9), targetRPSRatio, verdict,
			cpuPerReq(moto.load)/max(cpuPerReq(mini.load), 1e-9)))
	}
	if o.scenarios["ec2-describe"] {
		parts = append(parts, fmt.Sprintf("DescribeInstances p50 %.1f× faster", float64(moto.desc.P50)/float64(max(mini.desc.P50, 1))))
	}
	if o.scenarios["ec2-run"] {
		parts = append(parts, fmt.Sprintf("RunInstances/s %.1f×", mini.launch.PerSec/max(moto.launch.PerSec, 1e-9)))
	}
	fmt.Fprintf(w, "\nratio minicloud vs moto: %s\n", strings.Join(parts, ", "))
}

func cpuPerReq(l loadResult) float64 {
	if l.OK == 0 {
		return 0
	}
	return float64(l.ServerCPU) / float64(l.OK)
}

func perReq(d time.Duration, n int64) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f µs", float64(d.Microseconds())/float64(n))
}

// controlPlaneOnly returns minicloud's server with --data-plane off, for the
// EC2 scenarios: they measure the API (moto has no data plane), and as root
// the default (auto) would boot every instance launched, on the same two
// cores. Booting hundreds also outlasts the stop's grace period, so the
// SIGKILL left their namespaces on the host.
func controlPlaneOnly(s *server) *server {
	if !s.minicloud {
		return s
	}
	c := *s
	c.args = func(port int) []string { return append(s.args(port), "--data-plane", "off") }
	return &c
}
