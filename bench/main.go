//go:build bench

// Command bench measures minicloud against moto's server, side by side in one
// run: start time, idle RSS, EC2 throughput through the real aws-sdk-go-v2,
// and memory after that load. It only ever talks to 127.0.0.1, bounds every
// loop in count and time, and ends only the processes it started, by PID.
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
	skipMoto         bool
	idleWait         time.Duration
	idleSamples      int
	keepLogs         bool
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
	flag.DurationVar(&o.idleWait, "idle-wait", time.Second, "wait after start and one health request before sampling idle RSS")
	flag.IntVar(&o.idleSamples, "idle-samples", 5, "idle RSS samples (200 ms apart); the median is reported")
	flag.BoolVar(&o.keepLogs, "keep-logs", false, "keep the servers' logs (their directory is printed)")
	flag.Parse()

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
	servers := []*server{{
		name: "minicloud",
		bin:  mini,
		args: func(port int) []string {
			return []string{"serve", "--listen", fmt.Sprintf("%s:%d", host, port), "--ephemeral"}
		},
		readyPath: "/_minicloud/health",
		readyMax:  10 * time.Second,
	}}
	motoVer := "-"
	if !o.skipMoto {
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
	reps := map[string]int{"minicloud": o.nMini, "moto": o.nMoto}

	fmt.Printf("machine: %d CPUs (nproc), %s %s/%s; moto %s\n", runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, motoVer)
	la, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("date: %s; load average at start: %s\n", time.Now().Format(time.RFC3339), strings.Join(strings.Fields(string(la))[:min(3, len(strings.Fields(string(la))))], " "))
	fmt.Printf("load: %s, %d workers, %v warm-up + %v measured, cap %d requests/phase, aws-sdk-go-v2 (SigV4, test/test, %s, no retries)\n",
		o.op, o.workers, o.warmup, o.dur, o.maxReq, region)

	results := map[string]*result{}
	for _, s := range servers {
		results[s.name] = &result{name: s.name}
	}

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

	report(os.Stdout, servers, results)
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

func report(w io.Writer, servers []*server, rs map[string]*result) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "figure\ttarget")
	for _, s := range servers {
		fmt.Fprintf(tw, "\t%s", s.name)
	}
	fmt.Fprintln(tw, "\tminicloud vs target")
	mini := rs["minicloud"]
	row := func(name, target string, f func(r *result) string, verdict string) {
		fmt.Fprintf(tw, "%s\t%s", name, target)
		for _, s := range servers {
			fmt.Fprintf(tw, "\t%s", f(rs[s.name]))
		}
		fmt.Fprintf(tw, "\t%s\n", verdict)
	}
	row("start, median (n)", "≤ 20 ms", func(r *result) string { return fmt.Sprintf("%s (%d)", ms(median(r.starts)), len(r.starts)) },
		mark(median(mini.starts) <= targetStart))
	row("start, p90", "≤ 20 ms", func(r *result) string { return ms(pctOf(r.starts, 90)) }, mark(pctOf(mini.starts, 90) <= targetStart))
	row("start, min / max", "", func(r *result) string { return ms(slices.Min(r.starts)) + " / " + ms(slices.Max(r.starts)) }, "")
	row("idle RSS (VmRSS)", "≤ 15 MiB", func(r *result) string { return mib(r.idle.RSS) }, mark(mini.idle.RSS <= targetIdleKiB))
	row("  of which anon / file", "", func(r *result) string { return mib(r.idle.Anon) + " / " + mib(r.idle.File) }, "")
	var motoRPS float64
	if m, ok := rs["moto"]; ok {
		motoRPS = m.load.ReqPerSec
	}
	verdict := "-"
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
	tw.Flush()

	for _, s := range servers {
		for k, n := range rs[s.name].load.ErrorsByKey {
			fmt.Fprintf(w, "errors %s: %d × %s\n", s.name, n, k)
		}
	}
	if m, ok := rs["moto"]; ok {
		fmt.Fprintf(w, "\nratio minicloud vs moto: start %.0f× faster (median), idle RSS %.1f× smaller, throughput %.1f× (target ≥ %.0f×: %s), server CPU per request %.1f× less\n",
			float64(median(m.starts))/float64(max(median(mini.starts), 1)),
			float64(m.idle.RSS)/float64(max(mini.idle.RSS, 1)),
			mini.load.ReqPerSec/max(m.load.ReqPerSec, 1e-9), targetRPSRatio, verdict,
			cpuPerReq(m.load)/max(cpuPerReq(mini.load), 1e-9))
	}
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
