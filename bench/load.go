//go:build bench

package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
	"github.com/minicloud/minicloud/internal/sdktest"
)

const region = "us-east-1"

// loadResult is one throughput phase against one server.
type loadResult struct {
	OK, Errors  int64
	Elapsed     time.Duration
	ReqPerSec   float64
	P50, P99    time.Duration
	ServerCPU   time.Duration // server user+sys CPU during the phase
	ClientCPU   time.Duration // harness (SDK client) user+sys CPU during the phase
	MachineCPU  time.Duration // all CPUs' busy time during the phase (from /proc/stat)
	Steal       time.Duration // time the hypervisor took from this VM during the phase
	ErrorsByKey map[string]int64
	Capped      bool // stopped by the request cap, not the clock
}

// newEC2 builds a real aws-sdk-go-v2 EC2 client: static creds test/test,
// us-east-1, BaseEndpoint at the server, SigV4-signed. Retries are off so
// every failure is seen and counted, and the connection pool holds one
// keep-alive connection per worker.
func newEC2(endpoint string, workers int) (*ec2.Client, *http.Transport) {
	return newEC2Timeout(endpoint, workers, 10*time.Second)
}

// newEC2Timeout is newEC2 with another HTTP client timeout (seeding moto
// with 100 instances per call can take seconds).
func newEC2Timeout(endpoint string, workers int, timeout time.Duration) (*ec2.Client, *http.Transport) {
	var tr *http.Transport
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.Proxy = nil // loopback only, never via a proxy
		t.MaxIdleConns = workers * 2
		t.MaxIdleConnsPerHost = workers * 2
		tr = t
	}).WithTimeout(timeout)
	c := ec2.New(ec2.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:   sdktest.BufferBodies(hc),
		Retryer:      aws.NopRetryer{},
	})
	return c, tr
}

// callOnce issues one request and checks the answer is a real, non-empty
// result. Any error response, or an empty or malformed result, is an error.
func callOnce(ctx context.Context, c *ec2.Client, op string) error {
	switch op {
	case "DescribeRegions":
		out, err := c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
		if err != nil {
			return err
		}
		if len(out.Regions) == 0 {
			return errors.New("empty region list")
		}
		found := false
		for _, r := range out.Regions {
			if aws.ToString(r.RegionName) == "" {
				return errors.New("region without name")
			}
			found = found || aws.ToString(r.RegionName) == region
		}
		if !found {
			return fmt.Errorf("%s missing from regions", region)
		}
		return nil
	default: // DescribeAvailabilityZones
		out, err := c.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{})
		if err != nil {
			return err
		}
		if len(out.AvailabilityZones) == 0 {
			return errors.New("empty availability-zone list")
		}
		for _, z := range out.AvailabilityZones {
			if !strings.HasPrefix(aws.ToString(z.ZoneName), region) {
				return fmt.Errorf("zone %q not in %s", aws.ToString(z.ZoneName), region)
			}
		}
		return nil
	}
}

func errKey(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return "api:" + ae.ErrorCode()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	s := err.Error()
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}

// runLoad drives `workers` concurrent callers for at most `dur` and at most
// `maxReq` requests in total. It first checks one request is correct, then
// warms up (uncounted), then measures.
func runLoad(p *proc, op string, workers int, warmup, dur time.Duration, maxReq int64) (loadResult, error) {
	c, tr := newEC2(p.url(), workers)
	defer tr.CloseIdleConnections()

	ctx0, cancel0 := context.WithTimeout(context.Background(), 10*time.Second)
	err := callOnce(ctx0, c, op)
	cancel0()
	if err != nil {
		return loadResult{}, fmt.Errorf("%s: first %s failed: %w", p.srv.name, op, err)
	}

	phase := func(d time.Duration, limit int64, record bool) loadResult {
		var issued, ok, bad atomic.Int64
		var mu sync.Mutex
		errs := map[string]int64{}
		lats := make([][]time.Duration, workers)
		deadline := time.Now().Add(d)
		cpu0, _ := cpuTime(p.pid)
		busy0, steal0 := machineCPU()
		var ru0 syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
		t0 := time.Now()
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for time.Now().Before(deadline) && issued.Add(1) <= limit {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					s := time.Now()
					err := callOnce(ctx, c, op)
					l := time.Since(s)
					cancel()
					if err != nil {
						bad.Add(1)
						mu.Lock()
						errs[errKey(err)]++
						mu.Unlock()
						continue
					}
					ok.Add(1)
					if record {
						lats[w] = append(lats[w], l)
					}
				}
			}(w)
		}
		wg.Wait()
		el := time.Since(t0)
		cpu1, _ := cpuTime(p.pid)
		busy1, steal1 := machineCPU()
		var ru1 syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
		r := loadResult{OK: ok.Load(), Errors: bad.Load(), Elapsed: el, ErrorsByKey: errs,
			ServerCPU: cpu1 - cpu0, ClientCPU: rusageCPU(ru1) - rusageCPU(ru0), Capped: issued.Load() > limit,
			MachineCPU: busy1 - busy0, Steal: steal1 - steal0}
		r.ReqPerSec = float64(r.OK) / el.Seconds()
		var all []time.Duration
		for _, l := range lats {
			all = append(all, l...)
		}
		slices.Sort(all)
		r.P50, r.P99 = pct(all, 50), pct(all, 99)
		return r
	}
	if warmup > 0 {
		phase(warmup, maxReq, false)
	}
	return phase(dur, maxReq, true), nil
}

// machineCPU is the machine-wide busy (not idle, not iowait) and steal time
// so far, summed over all CPUs, from the first line of /proc/stat.
func machineCPU() (busy, steal time.Duration) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0
	}
	var total int64
	v := make([]int64, len(f))
	for i := 1; i < len(f) && i <= 8; i++ { // user nice system idle iowait irq softirq steal
		v[i], _ = strconv.ParseInt(f[i], 10, 64)
		total += v[i]
	}
	const hz = 100
	tick := func(n int64) time.Duration { return time.Duration(n) * time.Second / hz }
	return tick(total - v[4] - v[5] - v[8]), tick(v[8])
}

func rusageCPU(ru syscall.Rusage) time.Duration {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pct is the nearest-rank percentile of a sorted slice.
func pct(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q/100+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}
