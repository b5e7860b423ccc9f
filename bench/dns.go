//go:build bench

package main

// Scenario "dns": queries/s of minicloud's authoritative DNS for a Route 53
// public hosted zone of -dns-records A records, next to CoreDNS serving the
// same records from a zone file with its file plugin, in the same run.
// CoreDNS is a point of comparison only, never a dependency of minicloud: it
// is built from the Go module proxy into a directory outside the repository
// (cached between runs), or given with -coredns PATH.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/miekg/dns"
)

const (
	dnsZone = "bench.test."
	// defaultCoreDNS is the CoreDNS release built when -coredns is not given.
	defaultCoreDNS = "v1.12.4"
	// dnsEDNSSize is the EDNS(0) buffer size of every query, as resolvers
	// send today (DNS flag day 2020).
	dnsEDNSSize = 1232
)

type dnsOptions struct {
	coredns    string // executable; "" builds corednsVer
	corednsVer string
	records    int
	batch      int
	workers    int
	warmup     time.Duration
	dur        time.Duration
	maxQ       int64
	nxPct      int
	timeout    time.Duration
	rounds     int
}

// dnsName is the owner name of record i; dnsAddr its address.
func dnsName(i int) string { return fmt.Sprintf("host-%05d.%s", i, dnsZone) }
func dnsAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)})
}

// dnsNXName is a name under the zone that does not exist.
func dnsNXName(i int) string { return fmt.Sprintf("nx-%05d.%s", i, dnsZone) }

// dnsLoad is the measured figures of one server over all rounds.
type dnsLoad struct {
	OK, Errors, Timeouts int64
	NX                   int64 // of OK, verified NXDOMAIN answers
	Stale                int64 // late answers to an earlier (timed-out) query, discarded
	Elapsed              time.Duration
	QPS                  float64
	RoundQPS             []float64
	Lats                 []time.Duration
	P50, P99             time.Duration
	ServerCPU, ClientCPU time.Duration
	MachineCPU, Steal    time.Duration
	ErrorsByKey          map[string]int64
	Capped               bool
	AnswerBytes          int // size of the answer to host-00000 A
}

type dnsResult struct {
	name     string
	version  string
	setup    string // how the zone got there
	setupDur time.Duration
	loaded   memInfo // zone loaded and one query answered, before load
	after    memInfo
	load     dnsLoad
}

// dnsTarget is one server under load.
type dnsTarget struct {
	name string
	addr string // host:port, UDP
	pid  int
}

// corednsBinary returns o.coredns, or builds CoreDNS o.corednsVer with
// `go install` into a directory under os.TempDir() (outside the
// repository; reused when already built).
func corednsBinary(o dnsOptions) (string, error) {
	if o.coredns != "" {
		if _, err := os.Stat(o.coredns); err != nil {
			return "", fmt.Errorf("-coredns: %w", err)
		}
		return o.coredns, nil
	}
	dir := filepath.Join(os.TempDir(), "minicloud-bench-coredns-"+o.corednsVer)
	bin := filepath.Join(dir, "coredns")
	if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "building CoreDNS %s into %s (once; not timed)…\n", o.corednsVer, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "install", "github.com/coredns/coredns@"+o.corednsVer)
	// Run outside the repository so that its go.mod is neither read nor
	// touched; -mod=mod because CoreDNS's own module is built as a
	// dependency-free main package.
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-mod=mod", "GOWORK=off")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go install coredns %s (or pass -coredns PATH): %w", o.corednsVer, err)
	}
	return bin, nil
}

func corednsVersion(bin string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-version").Output()
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(line)
}

// freeDNSPort is a loopback port free for both UDP and TCP.
func freeDNSPort() (int, error) {
	var last error
	for try := 0; try < 50; try++ {
		pc, err := net.ListenPacket("udp", net.JoinHostPort(host, "0"))
		if err != nil {
			return 0, err
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		ln, err := net.Listen("tcp", net.JoinHostPort(host, fmt.Sprint(port)))
		pc.Close()
		if err != nil {
			last = err
			continue
		}
		ln.Close()
		return port, nil
	}
	return 0, fmt.Errorf("no port free for UDP and TCP: %v", last)
}

func newRoute53(endpoint string) *route53.Client {
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) { t.Proxy = nil }).WithTimeout(60 * time.Second)
	return route53.New(route53.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:   hc,
		Retryer:      aws.NopRetryer{},
	})
}

// seedRoute53 creates the zone and its records through the Route 53 API.
func seedRoute53(p *proc, o dnsOptions) (string, error) {
	c := newRoute53(p.url())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	hz, err := c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{
		Name:            aws.String(dnsZone),
		CallerReference: aws.String(fmt.Sprintf("bench-%d", time.Now().UnixNano())),
	})
	if err != nil {
		return "", fmt.Errorf("CreateHostedZone: %w", err)
	}
	id := aws.ToString(hz.HostedZone.Id)
	calls := 0
	var first, last time.Duration
	for lo := 0; lo < o.records; lo += o.batch {
		hi := min(lo+o.batch, o.records)
		changes := make([]r53types.Change, 0, hi-lo)
		for i := lo; i < hi; i++ {
			changes = append(changes, r53types.Change{
				Action: r53types.ChangeActionCreate,
				ResourceRecordSet: &r53types.ResourceRecordSet{
					Name:            aws.String(dnsName(i)),
					Type:            r53types.RRTypeA,
					TTL:             aws.Int64(300),
					ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(dnsAddr(i).String())}},
				},
			})
		}
		t0 := time.Now()
		if _, err := c.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
			HostedZoneId: aws.String(id),
			ChangeBatch:  &r53types.ChangeBatch{Changes: changes},
		}); err != nil {
			return "", fmt.Errorf("ChangeResourceRecordSets %d..%d: %w", lo, hi-1, err)
		}
		last = time.Since(t0)
		if calls == 0 {
			first = last
		}
		calls++
	}
	return fmt.Sprintf("Route 53 API: CreateHostedZone + %d ChangeResourceRecordSets of ≤ %d (first %s, last %s)", calls, o.batch, ms(first), ms(last)), nil
}

// exchange1 is one UDP query, bounded.
func exchange1(addr, name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg).SetQuestion(name, qtype)
	m.RecursionDesired = false
	m.SetEdns0(dnsEDNSSize, false)
	c := &dns.Client{Net: "udp", Timeout: time.Second, UDPSize: dnsEDNSSize}
	r, _, err := c.Exchange(m, addr)
	return r, err
}

// waitDNS polls until the server answers the zone's last record correctly
// (bounded by max and by the process exiting).
func waitDNS(p *proc, addr string, o dnsOptions, max time.Duration) error {
	deadline := time.Now().Add(max)
	last := o.records - 1
	var err error
	for try := 0; try < 100_000; try++ {
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited (%v); log: %s", p.srv.name, p.waitErr, tail(p.logPath))
		default:
		}
		var r *dns.Msg
		if r, err = exchange1(addr, dnsName(last), dns.TypeA); err == nil {
			if err = checkAnswer(r, dnsName(last), last); err == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %s not answered after %v: %v", p.srv.name, dnsName(last), max, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("DNS poll: attempt bound reached")
}

// writeZoneFile writes the RFC 1035 zone file for CoreDNS: the SOA and NS
// sets minicloud serves for the zone, then the same A records.
func writeZoneFile(path, miniAddr string, o dnsOptions) error {
	var b strings.Builder
	fmt.Fprintf(&b, "$ORIGIN %s\n", dnsZone)
	for _, t := range []uint16{dns.TypeSOA, dns.TypeNS} {
		r, err := exchange1(miniAddr, dnsZone, t)
		if err != nil {
			return fmt.Errorf("minicloud %s %s: %w", dnsZone, dns.TypeToString[t], err)
		}
		n := 0
		for _, rr := range r.Answer {
			if rr.Header().Rrtype == t {
				b.WriteString(rr.String() + "\n")
				n++
			}
		}
		if n == 0 {
			return fmt.Errorf("minicloud has no %s at %s", dns.TypeToString[t], dnsZone)
		}
	}
	for i := 0; i < o.records; i++ {
		fmt.Fprintf(&b, "%s\t300\tIN\tA\t%s\n", dnsName(i), dnsAddr(i))
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// runDNS runs the scenario: minicloud (zone through the Route 53 API) and
// CoreDNS (same zone from a file), then -dns-rounds load rounds on each,
// alternating which goes first.
func runDNS(o dnsOptions, mini, tmp string) (map[string]*dnsResult, error) {
	core, err := corednsBinary(o)
	if err != nil {
		return nil, err
	}
	res := map[string]*dnsResult{
		"minicloud": {name: "minicloud", version: "this tree"},
		"CoreDNS":   {name: "CoreDNS", version: corednsVersion(core)},
	}

	miniDNS, err := freeDNSPort()
	if err != nil {
		return nil, err
	}
	ms := &server{
		name: "minicloud",
		bin:  mini,
		args: func(port int) []string {
			return []string{"serve", "--listen", fmt.Sprintf("%s:%d", host, port), "--ephemeral",
				"--data-plane", "off", "--dns-listen", fmt.Sprintf("%s:%d", host, miniDNS)}
		},
		readyPath: "/_minicloud/health",
		readyMax:  10 * time.Second,
	}
	mp, err := start(ms, tmp)
	if err != nil {
		return nil, err
	}
	defer mp.stop()
	if _, err := mp.waitReady(); err != nil {
		return nil, err
	}
	miniAddr := fmt.Sprintf("%s:%d", host, miniDNS)
	fmt.Fprintf(os.Stderr, "minicloud: seeding %d records…\n", o.records)
	t0 := time.Now()
	if res["minicloud"].setup, err = seedRoute53(mp, o); err != nil {
		return nil, err
	}
	if err := waitDNS(mp, miniAddr, o, 30*time.Second); err != nil {
		return nil, err
	}
	res["minicloud"].setupDur = time.Since(t0)

	zf := filepath.Join(tmp, "db.bench.test")
	if err := writeZoneFile(zf, miniAddr, o); err != nil {
		return nil, err
	}
	fi, _ := os.Stat(zf)
	corePort, err := freeDNSPort()
	if err != nil {
		return nil, err
	}
	corefile := filepath.Join(tmp, "Corefile")
	cs := &server{
		name: "CoreDNS",
		bin:  core,
		// The HTTP port is the ready plugin's, which answers 200 on /ready
		// once the server block serves. No log plugin: no per-query logging.
		args: func(port int) []string {
			cf := fmt.Sprintf("%s:%d {\n\tbind %s\n\tfile %s\n\tready %s:%d\n}\n", strings.TrimSuffix(dnsZone, "."), corePort, host, zf, host, port)
			_ = os.WriteFile(corefile, []byte(cf), 0o644)
			return []string{"-conf", corefile}
		},
		readyPath: "/ready",
		readyMax:  30 * time.Second,
	}
	t0 = time.Now()
	cp, err := start(cs, tmp)
	if err != nil {
		return nil, err
	}
	defer cp.stop()
	if _, err := cp.waitReady(); err != nil {
		return nil, err
	}
	coreAddr := fmt.Sprintf("%s:%d", host, corePort)
	if err := waitDNS(cp, coreAddr, o, 30*time.Second); err != nil {
		return nil, err
	}
	res["CoreDNS"].setupDur = time.Since(t0)
	res["CoreDNS"].setup = fmt.Sprintf("zone file %.0f KB, file plugin (start to first answer)", float64(fi.Size())/1000)

	targets := []dnsTarget{{"minicloud", miniAddr, mp.pid}, {"CoreDNS", coreAddr, cp.pid}}
	for _, t := range targets {
		r := res[t.name]
		if m, err := exchange1(t.addr, dnsName(0), dns.TypeA); err == nil {
			b, _ := m.Pack()
			r.load.AnswerBytes = len(b)
		}
		r.loaded, _ = readMem(t.pid)
		r.load.ErrorsByKey = map[string]int64{}
	}
	qs, err := buildQueries(o)
	if err != nil {
		return nil, err
	}
	for round := 0; round < o.rounds; round++ {
		order := slices.Clone(targets)
		if round%2 == 1 {
			slices.Reverse(order)
		}
		for _, t := range order {
			fmt.Fprintf(os.Stderr, "%s: dns round %d…\n", t.name, round+1)
			if o.warmup > 0 {
				dnsPhase(t, qs, o, o.warmup, false)
			}
			ph := dnsPhase(t, qs, o, o.dur, true)
			res[t.name].load.add(ph)
		}
	}
	for _, t := range targets {
		r := res[t.name]
		r.after, _ = readMem(t.pid)
		slices.Sort(r.load.Lats)
		r.load.P50, r.load.P99 = pct(r.load.Lats, 50), pct(r.load.Lats, 99)
		r.load.QPS = float64(r.load.OK) / max(r.load.Elapsed.Seconds(), 1e-9)
	}
	return res, nil
}

func (l *dnsLoad) add(p dnsLoad) {
	l.OK += p.OK
	l.Errors += p.Errors
	l.Timeouts += p.Timeouts
	l.NX += p.NX
	l.Stale += p.Stale
	l.Elapsed += p.Elapsed
	l.ServerCPU += p.ServerCPU
	l.ClientCPU += p.ClientCPU
	l.MachineCPU += p.MachineCPU
	l.Steal += p.Steal
	l.Capped = l.Capped || p.Capped
	l.Lats = append(l.Lats, p.Lats...)
	l.RoundQPS = append(l.RoundQPS, float64(p.OK)/max(p.Elapsed.Seconds(), 1e-9))
	for k, n := range p.ErrorsByKey {
		l.ErrorsByKey[k] += n
	}
}

// query is one prepared question: its wire form (ID patched per send)
// and the record it asks for (-1: a name that does not exist).
type query struct {
	wire []byte
	name string
	rec  int
}

type querySet struct {
	hit, nx []query
}

func buildQueries(o dnsOptions) (querySet, error) {
	var qs querySet
	mk := func(name string, rec int) (query, error) {
		m := new(dns.Msg).SetQuestion(name, dns.TypeA)
		m.RecursionDesired = false // as a resolver asks an authoritative server
		m.SetEdns0(dnsEDNSSize, false)
		w, err := m.Pack()
		return query{wire: w, name: name, rec: rec}, err
	}
	for i := 0; i < o.records; i++ {
		q, err := mk(dnsName(i), i)
		if err != nil {
			return qs, err
		}
		qs.hit = append(qs.hit, q)
	}
	for i := 0; i < 1000; i++ {
		q, err := mk(dnsNXName(i), -1)
		if err != nil {
			return qs, err
		}
		qs.nx = append(qs.nx, q)
	}
	return qs, nil
}

// checkAnswer verifies an answer to "name A": for rec ≥ 0 NOERROR, AA and
// an A record of name with rec's address; for rec < 0 NXDOMAIN with AA.
func checkAnswer(r *dns.Msg, name string, rec int) error {
	if !r.Response || !r.Authoritative {
		return errors.New("not an authoritative response")
	}
	if len(r.Question) != 1 || !strings.EqualFold(r.Question[0].Name, name) {
		return errors.New("wrong question")
	}
	if rec < 0 {
		if r.Rcode != dns.RcodeNameError {
			return fmt.Errorf("rcode %s, want NXDOMAIN", dns.RcodeToString[r.Rcode])
		}
		if len(r.Answer) != 0 {
			return errors.New("NXDOMAIN with answers")
		}
		return nil
	}
	if r.Rcode != dns.RcodeSuccess {
		return fmt.Errorf("rcode %s, want NOERROR", dns.RcodeToString[r.Rcode])
	}
	want := dnsAddr(rec)
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok && strings.EqualFold(a.Hdr.Name, name) {
			if got, ok := netip.AddrFromSlice(a.A.To4()); ok && got == want {
				return nil
			}
			return fmt.Errorf("wrong address %v", a.A)
		}
	}
	return errors.New("no A record in answer")
}

// dnsPhase runs o.workers closed-loop UDP clients against t for d (and at
// most o.maxQ queries): each has one connected socket and one query in
// flight, waits o.timeout for its answer, and verifies it.
func dnsPhase(t dnsTarget, qs querySet, o dnsOptions, d time.Duration, record bool) dnsLoad {
	var issued, ok, bad, tmo, nx, stale atomic.Int64
	var mu sync.Mutex
	errs := map[string]int64{}
	lats := make([][]time.Duration, o.workers)
	note := func(k string) {
		mu.Lock()
		errs[k]++
		mu.Unlock()
	}
	deadline := time.Now().Add(d)
	cpu0, _ := cpuTime(t.pid)
	busy0, steal0 := machineCPU()
	var ru0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	t0 := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < o.workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			conn, err := net.Dial("udp", t.addr)
			if err != nil {
				bad.Add(1)
				note("dial: " + err.Error())
				return
			}
			defer conn.Close()
			rng := rand.New(rand.NewPCG(uint64(w)+1, uint64(time.Now().UnixNano())))
			out := make([]byte, 512)
			in := make([]byte, 4096)
			if record {
				lats[w] = make([]time.Duration, 0, 1<<16)
			}
			for time.Now().Before(deadline) && issued.Add(1) <= o.maxQ {
				var q *query
				if rng.IntN(100) < o.nxPct {
					q = &qs.nx[rng.IntN(len(qs.nx))]
				} else {
					q = &qs.hit[rng.IntN(len(qs.hit))]
				}
				id := uint16(rng.Uint32())
				msg := out[:len(q.wire)]
				copy(msg, q.wire)
				binary.BigEndian.PutUint16(msg, id)
				s := time.Now()
				_ = conn.SetDeadline(s.Add(o.timeout))
				if _, err := conn.Write(msg); err != nil {
					bad.Add(1)
					note("write: " + errKeyDNS(err))
					continue
				}
				for {
					n, err := conn.Read(in)
					if err != nil {
						var ne net.Error
						if errors.As(err, &ne) && ne.Timeout() {
							tmo.Add(1)
						} else {
							bad.Add(1)
							note("read: " + errKeyDNS(err))
						}
						break
					}
					if n >= 2 && binary.BigEndian.Uint16(in) != id {
						stale.Add(1) // a late answer to an earlier query
						continue
					}
					l := time.Since(s)
					r := new(dns.Msg)
					if err := r.Unpack(in[:n]); err != nil {
						bad.Add(1)
						note("unpack: " + errKeyDNS(err))
						break
					}
					if err := checkAnswer(r, q.name, q.rec); err != nil {
						bad.Add(1)
						note(errKeyDNS(err))
						break
					}
					ok.Add(1)
					if q.rec < 0 {
						nx.Add(1)
					}
					if record {
						lats[w] = append(lats[w], l)
					}
					break
				}
			}
		}(w)
	}
	wg.Wait()
	el := time.Since(t0)
	cpu1, _ := cpuTime(t.pid)
	busy1, steal1 := machineCPU()
	var ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	r := dnsLoad{OK: ok.Load(), Errors: bad.Load(), Timeouts: tmo.Load(), NX: nx.Load(), Stale: stale.Load(),
		Elapsed: el, ServerCPU: cpu1 - cpu0, ClientCPU: rusageCPU(ru1) - rusageCPU(ru0),
		MachineCPU: busy1 - busy0, Steal: steal1 - steal0, ErrorsByKey: errs, Capped: issued.Load() > o.maxQ}
	for _, l := range lats {
		r.Lats = append(r.Lats, l...)
	}
	return r
}

func errKeyDNS(err error) string {
	s := err.Error()
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}

func reportDNS(w io.Writer, o dnsOptions, rs map[string]*dnsResult) {
	names := []string{"minicloud", "CoreDNS"}
	mini, core := rs["minicloud"], rs["CoreDNS"]
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "dns figure\ttarget\tminicloud\tCoreDNS\tminicloud vs target")
	row := func(name, target string, f func(r *dnsResult) string, verdict string) {
		fmt.Fprintf(tw, "%s\t%s", name, target)
		for _, n := range names {
			fmt.Fprintf(tw, "\t%s", f(rs[n]))
		}
		fmt.Fprintf(tw, "\t%s\n", verdict)
	}
	row("version", "", func(r *dnsResult) string { return r.version }, "")
	row("zone set-up", "", func(r *dnsResult) string { return r.setup }, "")
	row("  set-up time", "", func(r *dnsResult) string { return ms(r.setupDur) }, "")
	row("queries/s (ok)", "≥ CoreDNS", func(r *dnsResult) string { return fmt.Sprintf("%.0f", r.load.QPS) },
		mark(mini.load.QPS >= core.load.QPS && mini.load.OK > 0))
	row("  per round", "", func(r *dnsResult) string {
		var s []string
		for _, q := range r.load.RoundQPS {
			s = append(s, fmt.Sprintf("%.0f", q))
		}
		return strings.Join(s, " / ")
	}, "")
	row("  ok (of which NXDOMAIN) / errors / timeouts", "0 / 0", func(r *dnsResult) string {
		s := fmt.Sprintf("%d (%d) / %d / %d", r.load.OK, r.load.NX, r.load.Errors, r.load.Timeouts)
		if r.load.Stale > 0 {
			s += fmt.Sprintf(", %d late", r.load.Stale)
		}
		if r.load.Capped {
			s += " (capped)"
		}
		return s
	}, mark(mini.load.Errors == 0 && mini.load.Timeouts == 0))
	row("  latency p50 / p99", "", func(r *dnsResult) string {
		us := func(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d.Nanoseconds())/1000) }
		return us(r.load.P50) + " / " + us(r.load.P99)
	}, "")
	per := func(d time.Duration, n int64) string {
		if n == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f µs", float64(d.Nanoseconds())/1000/float64(n))
	}
	row("  server CPU per query", "", func(r *dnsResult) string { return per(r.load.ServerCPU, r.load.OK) }, "")
	row("  client CPU per query", "", func(r *dnsResult) string { return per(r.load.ClientCPU, r.load.OK) }, "")
	row("  CPU use in cores: server / client / other", "", func(r *dnsResult) string {
		l := r.load
		c := func(d time.Duration) string {
			return fmt.Sprintf("%.2f", max(d, 0).Seconds()/max(l.Elapsed.Seconds(), 1e-9))
		}
		s := c(l.ServerCPU) + " / " + c(l.ClientCPU) + " / " + c(l.MachineCPU-l.ServerCPU-l.ClientCPU)
		if l.Steal > 0 {
			s += " (steal " + c(l.Steal) + ")"
		}
		return s
	}, "")
	row("  answer size (host-00000 A)", "", func(r *dnsResult) string { return fmt.Sprintf("%d B", r.load.AnswerBytes) }, "")
	row("RSS after set-up, before load", "", func(r *dnsResult) string { return mib(r.loaded.RSS) }, "")
	row("RSS after load / peak (VmHWM)", "", func(r *dnsResult) string { return mib(r.after.RSS) + " / " + mib(r.after.HWM) }, "")
	tw.Flush()
	for _, n := range names {
		for k, c := range rs[n].load.ErrorsByKey {
			fmt.Fprintf(w, "errors %s dns: %d × %s\n", n, c, k)
		}
	}
	fmt.Fprintf(w, "\nratio minicloud vs CoreDNS: queries/s %.2f× (target ≥ 1: %s), server CPU per query %.2f× CoreDNS's\n",
		mini.load.QPS/max(core.load.QPS, 1e-9), mark(mini.load.QPS >= core.load.QPS),
		(float64(mini.load.ServerCPU)/float64(max(mini.load.OK, 1)))/max(float64(core.load.ServerCPU)/float64(max(core.load.OK, 1)), 1e-9))
}
