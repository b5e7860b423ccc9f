//go:build bench

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	awsv1 "github.com/aws/aws-sdk-go/aws"
	credv1 "github.com/aws/aws-sdk-go/aws/credentials"
	"github.com/aws/aws-sdk-go/aws/session"
	cwv1 "github.com/aws/aws-sdk-go/service/cloudwatch"
)

// cwScenarios compare CloudWatch metrics with moto's; "all" leaves them
// out (they write a durable store).
var cwScenarios = []string{"cloudwatch"}

// cwOptions bound the cloudwatch scenario.
type cwOptions struct {
	clients int
	batches []int
	warmup  time.Duration
	dur     time.Duration
	maxReq  int64
	calls   int
	warm    int
	callMax time.Duration
}

func cwFlags(o *cwOptions, batches *string) {
	flag.IntVar(&o.clients, "cw-c", 8, "cloudwatch: concurrent PutMetricData clients")
	flag.StringVar(batches, "cw-batches", "20,1000", "cloudwatch: datums per PutMetricData call, one phase each (AWS allows 1000)")
	flag.DurationVar(&o.warmup, "cw-warmup", time.Second, "cloudwatch: uncounted warm-up before each put phase")
	flag.DurationVar(&o.dur, "cw-duration", 5*time.Second, "cloudwatch: length of each put phase")
	flag.Int64Var(&o.maxReq, "cw-max", 100_000, "cloudwatch: hard cap on PutMetricData calls per phase")
	flag.IntVar(&o.calls, "cw-calls", 50, "cloudwatch: measured calls per query (sequential)")
	flag.IntVar(&o.warm, "cw-warmup-calls", 5, "cloudwatch: uncounted calls per query first")
	flag.DurationVar(&o.callMax, "cw-query-max", 2*time.Minute, "cloudwatch: time limit per query's calls")
}

func (o *cwOptions) check(batches string) error {
	o.batches = nil
	for _, f := range strings.Split(batches, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 1000 {
			return fmt.Errorf("-cw-batches: %q is not 1..1000", f)
		}
		o.batches = append(o.batches, n)
	}
	switch {
	case len(o.batches) == 0 || len(o.batches) > 5:
		return errors.New("-cw-batches: 1 to 5 sizes")
	case o.clients < 1 || o.clients > 64:
		return errors.New("-cw-c must be 1..64")
	case o.dur <= 0 || o.dur > time.Minute, o.warmup < 0 || o.warmup > 30*time.Second:
		return errors.New("-cw-duration must be in (0, 1m] and -cw-warmup in [0, 30s]")
	case o.maxReq < 1 || o.maxReq > 1_000_000:
		return errors.New("-cw-max must be 1..1000000")
	case o.calls < 1 || o.calls > 10_000, o.warm < 0 || o.warm > 1000, o.callMax <= 0 || o.callMax > 10*time.Minute:
		return errors.New("-cw-calls must be 1..10000, -cw-warmup-calls 0..1000 and -cw-query-max in (0, 10m]")
	}
	return nil
}

// cwPut is one PutMetricData phase.
type cwPut struct {
	batch       int
	calls, errs int64
	elapsed     time.Duration
	p50, p99    time.Duration
	capped      bool
	firstErr    string
}

// cwQuery is one query's latency.
type cwQuery struct {
	name     string
	calls    int
	points   int // datapoints of one answer
	p50, p99 time.Duration
}

type cwResult struct {
	name    string
	puts    []cwPut
	seed    time.Duration
	queries []cwQuery
}

// Week of data the queries read: one metric, one datum a minute.
const (
	cwNamespace = "Bench/CW"
	cwWeek      = 7 * 24 * 60
)

// newCWv1 is a CloudWatch client of aws-sdk-go (v1), which speaks the
// query protocol: moto serves CloudWatch only in it (aws-sdk-go-v2 sends
// CBOR to a path moto does not route), so both servers get the same
// requests. Retries off; one keep-alive connection per worker.
func newCWv1(endpoint string, workers int) *cwv1.CloudWatch {
	tr := &http.Transport{Proxy: nil, MaxIdleConns: workers * 2, MaxIdleConnsPerHost: workers * 2}
	sess := session.Must(session.NewSession(&awsv1.Config{
		Region:      awsv1.String(region),
		Endpoint:    awsv1.String(endpoint),
		Credentials: credv1.NewStaticCredentials("test", "test", ""),
		HTTPClient:  &http.Client{Transport: tr, Timeout: 60 * time.Second},
		MaxRetries:  awsv1.Int(0),
	}))
	return cwv1.New(sess)
}

// runCloudWatch measures each server on a fresh process: put phases, then
// a week of one-minute data seeded and queried. minicloud keeps a durable
// store (--state-dir, so every put is fsynced), as a user's would.
func runCloudWatch(o cwOptions, mini, baseline, motoBin, tmp string) ([]cwResult, error) {
	cwMini := func(name, bin string) *server {
		dir := filepath.Join(tmp, "cw-state-"+name)
		return &server{
			name: name, bin: bin, readyPath: "/_minicloud/health", readyMax: 10 * time.Second, minicloud: true,
			args: func(port int) []string {
				_ = os.RemoveAll(dir)
				return []string{"serve", "--listen", fmt.Sprintf("%s:%d", host, port), "--state-dir", dir, "--data-plane", "off", "--dns-listen", "off"}
			},
		}
	}
	servers := []*server{cwMini("minicloud", mini)}
	if baseline != "" {
		servers = append(servers, cwMini("baseline", baseline))
	}
	if motoBin != "" {
		servers = append(servers, &server{name: "moto", bin: motoBin, readyPath: "/moto-api/", readyMax: 60 * time.Second,
			args: func(port int) []string { return []string{"-H", host, "-p", fmt.Sprint(port)} }})
	}
	var out []cwResult
	for _, s := range servers {
		r := cwResult{name: s.name}
		// The puts and the queries each on a fresh process, so that the
		// queries read the week and not the puts' datums as well.
		for _, measure := range []func(*cwResult, string) error{
			func(r *cwResult, url string) error { return cwPuts(o, r, url) },
			func(r *cwResult, url string) error { return cwQueries(o, r, url) },
		} {
			p, err := start(s, tmp)
			if err != nil {
				return nil, err
			}
			if _, err := p.waitReady(); err != nil {
				p.stop()
				return nil, err
			}
			err = measure(&r, p.url())
			p.stop()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.name, err)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// cwPuts runs a put phase per batch size.
func cwPuts(o cwOptions, r *cwResult, url string) error {
	name := r.name
	for _, b := range o.batches {
		fmt.Fprintf(os.Stderr, "%s: cloudwatch PutMetricData × %d…\n", name, b)
		c := newCWv1(url, o.clients)
		if o.warmup > 0 {
			cwPutPhase(c, o, b, o.warmup)
		}
		ph := cwPutPhase(c, o, b, o.dur)
		if ph.calls == 0 {
			return fmt.Errorf("PutMetricData × %d: no call succeeded: %s", b, ph.firstErr)
		}
		r.puts = append(r.puts, ph)
	}
	return nil
}

// cwQueries seeds a week of one-minute data of one metric and times
// each query over it.
func cwQueries(o cwOptions, r *cwResult, url string) error {
	name := r.name

	fmt.Fprintf(os.Stderr, "%s: cloudwatch seeding a week…\n", name)
	c := newCWv1(url, 1)
	ctx := context.Background()
	end := time.Now().UTC().Truncate(time.Minute)
	start := end.Add(-cwWeek * time.Minute)
	t0 := time.Now()
	for i := 0; i < cwWeek; i += 1000 {
		var data []*cwv1.MetricDatum
		for j := i; j < min(i+1000, cwWeek); j++ {
			data = append(data, &cwv1.MetricDatum{MetricName: awsv1.String("week"), Value: awsv1.Float64(float64(j % 100)),
				Timestamp: awsv1.Time(start.Add(time.Duration(j) * time.Minute)), Unit: awsv1.String("Count")})
		}
		if _, err := c.PutMetricDataWithContext(ctx, &cwv1.PutMetricDataInput{Namespace: awsv1.String(cwNamespace), MetricData: data}); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	r.seed = time.Since(t0)

	metric := &cwv1.Metric{Namespace: awsv1.String(cwNamespace), MetricName: awsv1.String("week")}
	data := func(period int64) func() (int, error) {
		return func() (int, error) {
			out, err := c.GetMetricDataWithContext(ctx, &cwv1.GetMetricDataInput{StartTime: &start, EndTime: &end,
				MetricDataQueries: []*cwv1.MetricDataQuery{{Id: awsv1.String("m1"),
					MetricStat: &cwv1.MetricStat{Metric: metric, Period: awsv1.Int64(period), Stat: awsv1.String("Average")}}}})
			if err != nil {
				return 0, err
			}
			if len(out.MetricDataResults) != 1 {
				return 0, fmt.Errorf("%d results", len(out.MetricDataResults))
			}
			return len(out.MetricDataResults[0].Values), nil
		}
	}
	for _, q := range []struct {
		name string
		want int // datapoints expected, at least
		call func() (int, error)
	}{
		{"GetMetricStatistics, 1 h periods, 5 statistics", 160, func() (int, error) {
			out, err := c.GetMetricStatisticsWithContext(ctx, &cwv1.GetMetricStatisticsInput{Namespace: metric.Namespace, MetricName: metric.MetricName,
				StartTime: &start, EndTime: &end, Period: awsv1.Int64(3600),
				Statistics: awsv1.StringSlice([]string{"Average", "Minimum", "Maximum", "Sum", "SampleCount"})})
			if err != nil {
				return 0, err
			}
			return len(out.Datapoints), nil
		}},
		{"GetMetricData, 1 h periods, Average", 160, data(3600)},
		{"GetMetricData, 1 min periods, Average", cwWeek - 10, data(60)},
	} {
		fmt.Fprintf(os.Stderr, "%s: cloudwatch %s…\n", name, q.name)
		res := cwQuery{name: q.name}
		var lats []time.Duration
		deadline := time.Now().Add(o.callMax)
		for i := 0; i < o.warm+o.calls && time.Now().Before(deadline); i++ {
			t := time.Now()
			n, err := q.call()
			d := time.Since(t)
			if err != nil {
				return fmt.Errorf("%s: %w", q.name, err)
			}
			if n < q.want {
				return fmt.Errorf("%s: %d datapoints, want %d or more", q.name, n, q.want)
			}
			res.points = n
			if i >= o.warm {
				lats = append(lats, d)
			}
		}
		res.calls = len(lats)
		res.p50, res.p99 = pctOf(lats, 50), pctOf(lats, 99)
		r.queries = append(r.queries, res)
	}
	return nil
}

// cwPutPhase runs o.clients workers putting batches of b datums (each
// worker its own metric, timestamps within the last hour) for dur or
// o.maxReq calls.
func cwPutPhase(c *cwv1.CloudWatch, o cwOptions, b int, dur time.Duration) cwPut {
	ph := cwPut{batch: b}
	var calls, errs atomic.Int64
	var mu sync.Mutex
	var lats []time.Duration
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	t0 := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < o.clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), uint64(b)))
			dims := []*cwv1.Dimension{{Name: awsv1.String("Worker"), Value: awsv1.String(strconv.Itoa(w))}}
			var mine []time.Duration
			for ctx.Err() == nil {
				if calls.Load()+errs.Load() >= o.maxReq {
					mu.Lock()
					ph.capped = true
					mu.Unlock()
					break
				}
				now := time.Now()
				data := make([]*cwv1.MetricDatum, b)
				for i := range data {
					data[i] = &cwv1.MetricDatum{MetricName: awsv1.String("put" + strconv.Itoa(i%10)), Dimensions: dims,
						Value: awsv1.Float64(rng.Float64() * 100), Timestamp: awsv1.Time(now.Add(-time.Duration(rng.IntN(3600)) * time.Second))}
				}
				t := time.Now()
				// Not ctx: a call cut by the phase's end is not an error.
				_, err := c.PutMetricDataWithContext(context.Background(), &cwv1.PutMetricDataInput{Namespace: awsv1.String(cwNamespace), MetricData: data})
				if err != nil {
					if errs.Add(1) == 1 {
						mu.Lock()
						ph.firstErr = err.Error()
						mu.Unlock()
					}
					continue
				}
				calls.Add(1)
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lats = append(lats, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	ph.elapsed = time.Since(t0)
	ph.calls, ph.errs = calls.Load(), errs.Load()
	ph.p50, ph.p99 = pctOf(lats, 50), pctOf(lats, 99)
	return ph
}

func reportCloudWatch(w io.Writer, o cwOptions, rs []cwResult, motoVer string) {
	fmt.Fprintf(w, "\ncloudwatch: moto %s\n", motoVer)
	fmt.Fprintf(w, "cloudwatch: aws-sdk-go (v1, query protocol, SigV4, no retries) for every server; minicloud with --state-dir on %s (each put fsynced), --data-plane off\n", "the bench's temporary directory")
	fmt.Fprintf(w, "cloudwatch: PutMetricData: %d clients, each its own dimension, 10 metric names, timestamps in the last hour; %v warm-up + %v measured per batch size, cap %d calls\n", o.clients, o.warmup, o.dur, o.maxReq)
	fmt.Fprintf(w, "cloudwatch: queries: one metric with a week of one-minute datums (%d, seeded in calls of 1000); %d warm-up + %d sequential calls each over the whole week, on a fresh process (puts on another)\n", cwWeek, o.warm, o.calls)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	head := "\t"
	for _, r := range rs {
		head += r.name + "\t"
	}
	fmt.Fprintln(tw, head)
	row := func(label string, f func(r cwResult) string) {
		line := label + "\t"
		for _, r := range rs {
			line += f(r) + "\t"
		}
		fmt.Fprintln(tw, line)
	}
	for i, b := range o.batches {
		put := func(r cwResult) cwPut { return r.puts[i] }
		row(fmt.Sprintf("PutMetricData ×%d: calls/s", b), func(r cwResult) string {
			p := put(r)
			return rate(float64(p.calls) / p.elapsed.Seconds())
		})
		row(fmt.Sprintf("PutMetricData ×%d: datums/s", b), func(r cwResult) string {
			p := put(r)
			return rate(float64(p.calls) * float64(b) / p.elapsed.Seconds())
		})
		row(fmt.Sprintf("PutMetricData ×%d: p50 / p99", b), func(r cwResult) string {
			p := put(r)
			s := ms(p.p50) + " / " + ms(p.p99)
			if p.errs > 0 {
				s += fmt.Sprintf(" (%d errors)", p.errs)
			}
			return s
		})
	}
	row("seed a week (11 calls)", func(r cwResult) string { return ms(r.seed) })
	for i := range rs[0].queries {
		row(rs[0].queries[i].name+": p50 / p99", func(r cwResult) string {
			q := r.queries[i]
			return fmt.Sprintf("%s / %s (%d points)", ms(q.p50), ms(q.p99), q.points)
		})
	}
	_ = tw.Flush()
}

// rate writes a per-second figure, with a decimal when it is small.
func rate(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}
