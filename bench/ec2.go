//go:build bench

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// The EC2 control-plane scenarios:
//
//   - ec2-describe: seed a fresh server with N instances tagged Team=team-0…9
//     (RunInstances in batches), then time sequential DescribeInstances calls
//     filtered on tag:Team=team-3 and check each answer holds exactly the
//     instances tagged so.
//   - ec2-run: on another fresh server, concurrent workers each launch one
//     instance per RunInstances call, for a bounded time and count.

const (
	targetDescribeP50 = 5 * time.Millisecond
	benchInstanceType = types.InstanceTypeT3Micro
	teamKey           = "Team"
	teams             = 10
	describeTeam      = "team-3"
	// motoFallbackAMI is an image moto 5 always loads (ami-760aaa0f,
	// amzn-ami-hvm-2017.09.1.20171103-x86_64-gp2), used only if the name
	// filter finds nothing.
	motoFallbackAMI = "ami-760aaa0f"
)

type ec2Options struct {
	instances, batch int
	calls, warmCalls int
	describeMax      time.Duration
	runWorkers       int
	runDur           time.Duration
	runMax           int64
}

// describeResult is the ec2-describe scenario for one server.
type describeResult struct {
	AMI           string
	Seeded        int
	SeedTime      time.Duration
	Expect        int
	OK, Errors    int
	Lats          []time.Duration // successful measured calls, sorted
	P50, P90, P99 time.Duration
	Mean          time.Duration
	// TTFB: from the request written to the first byte of the answer.
	// TTLB: to its last byte, read whole before the SDK decodes it: the
	// server's time to produce and send the whole answer, without the
	// client's decoding. The two were the same while minicloud built the
	// whole answer before sending it; now that it streams an answer in
	// 64 KiB pieces, only TTLB covers its work.
	TTFB             []time.Duration
	TP50, TP90, TP99 time.Duration
	TTLB             []time.Duration
	LP50, LP90, LP99 time.Duration
	ServerCPU        time.Duration // server CPU during the measured calls
	ClientCPU        time.Duration // harness (SDK) CPU during the measured calls
	RespBytes        int64         // body size of the last answer
	Elapsed          time.Duration
	ErrorsByKey      map[string]int64
	TimedOut         bool
}

// runResult is the ec2-run scenario for one server.
type runResult struct {
	AMI         string
	OK, Errors  int64
	Elapsed     time.Duration
	PerSec      float64
	FirstSec    float64 // launches/s in the first second
	LastSec     float64 // launches/s in the last second
	P50, P99    time.Duration
	ServerCPU   time.Duration
	ClientCPU   time.Duration
	MachineCPU  time.Duration
	ErrorsByKey map[string]int64
	Capped      bool
}

// findAMI picks the Amazon Linux 2023 x86_64 image the server lists for
// owner amazon (the newest by name, if there are several). moto falls back
// to an image it always loads.
func findAMI(ctx context.Context, c *ec2.Client, srv string) (string, error) {
	out, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{
		Owners:  []string{"amazon"},
		Filters: []types.Filter{{Name: aws.String("name"), Values: []string{"al2023-ami-2023*-x86_64"}}},
	})
	if err != nil {
		return "", fmt.Errorf("%s: DescribeImages: %w", srv, err)
	}
	imgs := out.Images
	slices.SortFunc(imgs, func(a, b types.Image) int {
		switch {
		case aws.ToString(a.Name) < aws.ToString(b.Name):
			return -1
		case aws.ToString(a.Name) > aws.ToString(b.Name):
			return 1
		}
		return 0
	})
	if len(imgs) > 0 {
		return aws.ToString(imgs[len(imgs)-1].ImageId), nil
	}
	if srv == "moto" {
		return motoFallbackAMI, nil
	}
	return "", fmt.Errorf("%s: no al2023-ami-2023*-x86_64 image for owner amazon", srv)
}

func teamOf(batch int) string { return fmt.Sprintf("team-%d", batch%teams) }

func runInput(ami string, n int32, team string) *ec2.RunInstancesInput {
	in := &ec2.RunInstancesInput{
		ImageId:      aws.String(ami),
		InstanceType: benchInstanceType,
		MinCount:     aws.Int32(n),
		MaxCount:     aws.Int32(n),
	}
	if team != "" {
		in.TagSpecifications = []types.TagSpecification{{
			ResourceType: types.ResourceTypeInstance,
			Tags: []types.Tag{
				{Key: aws.String(teamKey), Value: aws.String(team)},
				{Key: aws.String("Bench"), Value: aws.String("minicloud-bench")},
			},
		}}
	}
	return in
}

// checkLaunch checks a RunInstances answer: n instances, each pending.
func checkLaunch(out *ec2.RunInstancesOutput, n int) error {
	if len(out.Instances) != n {
		return fmt.Errorf("launched %d instances, want %d", len(out.Instances), n)
	}
	for _, in := range out.Instances {
		if in.State == nil || in.State.Name != types.InstanceStateNamePending {
			st := "nil"
			if in.State != nil {
				st = string(in.State.Name)
			}
			return fmt.Errorf("instance state %s, want pending", st)
		}
	}
	return nil
}

// runDescribe seeds a fresh server and times DescribeInstances with a tag filter.
func runDescribe(p *proc, o ec2Options) (describeResult, error) {
	var r describeResult
	c, tr := newEC2Timeout(p.url(), 1, 60*time.Second)
	defer tr.CloseIdleConnections()
	name := p.srv.name
	var respBytes atomic.Int64
	var last time.Time // the answer's last byte (calls are sequential)
	cc := ec2.New(c.Options(), func(o *ec2.Options) {
		o.HTTPClient = &countingClient{inner: o.HTTPClient, n: &respBytes, last: &last}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	ami, err := findAMI(ctx, c, name)
	cancel()
	if err != nil {
		return r, err
	}
	r.AMI = ami

	// Seed: batches of at most o.batch, each batch one team, round-robin.
	t0 := time.Now()
	for b := 0; r.Seeded < o.instances; b++ {
		n := min(o.batch, o.instances-r.Seeded)
		team := teamOf(b)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		out, err := c.RunInstances(ctx, runInput(ami, int32(n), team))
		cancel()
		if err != nil {
			return r, fmt.Errorf("%s: seeding RunInstances (batch %d): %w", name, b, err)
		}
		if err := checkLaunch(out, n); err != nil {
			return r, fmt.Errorf("%s: seeding RunInstances (batch %d): %w", name, b, err)
		}
		r.Seeded += n
		if team == describeTeam {
			r.Expect += n
		}
	}
	r.SeedTime = time.Since(t0)
	if r.Expect == 0 {
		return r, fmt.Errorf("no instance is tagged %s=%s: raise -ec2-instances or lower -ec2-batch", teamKey, describeTeam)
	}
	fmt.Fprintf(os.Stderr, "%s: seeded %d instances (%s) in %v\n", name, r.Seeded, ami, r.SeedTime.Round(time.Millisecond))

	in := &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("tag:" + teamKey), Values: []string{describeTeam}}}}
	var wrote, first time.Time
	trace := &httptrace.ClientTrace{
		WroteRequest:         func(httptrace.WroteRequestInfo) { wrote = time.Now() },
		GotFirstResponseByte: func() { first = time.Now() },
	}
	call := func() error {
		ctx, cancel := context.WithTimeout(httptrace.WithClientTrace(context.Background(), trace), 60*time.Second)
		defer cancel()
		wrote, first, last = time.Time{}, time.Time{}, time.Time{}
		out, err := cc.DescribeInstances(ctx, in)
		if err != nil {
			return err
		}
		if out.NextToken != nil {
			return errors.New("unexpected NextToken (answer paged)")
		}
		got := 0
		for _, res := range out.Reservations {
			for _, inst := range res.Instances {
				got++
				ok := false
				for _, t := range inst.Tags {
					ok = ok || (aws.ToString(t.Key) == teamKey && aws.ToString(t.Value) == describeTeam)
				}
				if !ok {
					return fmt.Errorf("instance %s lacks tag %s=%s", aws.ToString(inst.InstanceId), teamKey, describeTeam)
				}
			}
		}
		if got != r.Expect {
			return fmt.Errorf("wrong count: %d instances", got)
		}
		return nil
	}
	r.ErrorsByKey = map[string]int64{}
	deadline := time.Now().Add(o.describeMax)
	for i := 0; i < o.warmCalls && time.Now().Before(deadline); i++ {
		if err := call(); err != nil {
			r.ErrorsByKey["warm-up: "+errKey(err)]++
		}
	}
	cpu0, _ := cpuTime(p.pid)
	var ru0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	t1 := time.Now()
	for i := 0; i < o.calls; i++ {
		if time.Now().After(deadline) {
			r.TimedOut = true
			break
		}
		s := time.Now()
		err := call()
		l := time.Since(s)
		if err != nil {
			r.Errors++
			r.ErrorsByKey[errKey(err)]++
			continue
		}
		r.OK++
		r.Lats = append(r.Lats, l)
		if !wrote.IsZero() && first.After(wrote) {
			r.TTFB = append(r.TTFB, first.Sub(wrote))
		}
		if !wrote.IsZero() && last.After(wrote) {
			r.TTLB = append(r.TTLB, last.Sub(wrote))
		}
	}
	r.Elapsed = time.Since(t1)
	cpu1, _ := cpuTime(p.pid)
	var ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	r.ServerCPU, r.ClientCPU = cpu1-cpu0, rusageCPU(ru1)-rusageCPU(ru0)
	r.RespBytes = respBytes.Load()
	slices.Sort(r.Lats)
	r.P50, r.P90, r.P99 = pct(r.Lats, 50), pct(r.Lats, 90), pct(r.Lats, 99)
	slices.Sort(r.TTFB)
	r.TP50, r.TP90, r.TP99 = pct(r.TTFB, 50), pct(r.TTFB, 90), pct(r.TTFB, 99)
	slices.Sort(r.TTLB)
	r.LP50, r.LP90, r.LP99 = pct(r.TTLB, 50), pct(r.TTLB, 90), pct(r.TTLB, 99)
	var sum time.Duration
	for _, l := range r.Lats {
		sum += l
	}
	if len(r.Lats) > 0 {
		r.Mean = sum / time.Duration(len(r.Lats))
	}
	return r, nil
}

// runLaunches drives concurrent single-instance RunInstances calls on a
// fresh server, bounded by o.runDur and o.runMax.
func runLaunches(p *proc, o ec2Options) (runResult, error) {
	var r runResult
	c, tr := newEC2Timeout(p.url(), o.runWorkers, 30*time.Second)
	defer tr.CloseIdleConnections()
	name := p.srv.name

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	ami, err := findAMI(ctx, c, name)
	cancel()
	if err != nil {
		return r, err
	}
	r.AMI = ami
	// One unmeasured launch: checks the call works and loads the service.
	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
	out, err := c.RunInstances(ctx, runInput(ami, 1, ""))
	cancel()
	if err == nil {
		err = checkLaunch(out, 1)
	}
	if err != nil {
		return r, fmt.Errorf("%s: first RunInstances: %w", name, err)
	}

	var issued, ok, bad atomic.Int64
	var mu sync.Mutex
	errs := map[string]int64{}
	lats := make([][]time.Duration, o.runWorkers)
	ends := make([][]time.Duration, o.runWorkers) // completion offsets from t0
	cpu0, _ := cpuTime(p.pid)
	busy0, _ := machineCPU()
	var ru0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	t0 := time.Now()
	deadline := t0.Add(o.runDur)
	var wg sync.WaitGroup
	for w := 0; w < o.runWorkers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for time.Now().Before(deadline) && issued.Add(1) <= o.runMax {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				s := time.Now()
				out, err := c.RunInstances(ctx, runInput(ami, 1, ""))
				if err == nil {
					err = checkLaunch(out, 1)
				}
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
				lats[w] = append(lats[w], l)
				ends[w] = append(ends[w], time.Since(t0))
			}
		}(w)
	}
	wg.Wait()
	r.Elapsed = time.Since(t0)
	cpu1, _ := cpuTime(p.pid)
	busy1, _ := machineCPU()
	var ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	r.OK, r.Errors, r.ErrorsByKey = ok.Load(), bad.Load(), errs
	r.Capped = issued.Load() > o.runMax
	r.ServerCPU, r.ClientCPU, r.MachineCPU = cpu1-cpu0, rusageCPU(ru1)-rusageCPU(ru0), busy1-busy0
	r.PerSec = float64(r.OK) / r.Elapsed.Seconds()
	var all, fin []time.Duration
	for w := range lats {
		all = append(all, lats[w]...)
		fin = append(fin, ends[w]...)
	}
	slices.Sort(all)
	r.P50, r.P99 = pct(all, 50), pct(all, 99)
	if r.Elapsed >= 2*time.Second {
		var first, last int
		for _, e := range fin {
			if e < time.Second {
				first++
			}
			if e >= r.Elapsed-time.Second {
				last++
			}
		}
		r.FirstSec, r.LastSec = float64(first), float64(last)
	}
	return r, nil
}

// countingClient reads each answer whole before the SDK decodes it from
// memory, recording its size and the time its last byte arrived (the
// last answer's win: calls are sequential).
type countingClient struct {
	inner ec2.HTTPClient
	n     *atomic.Int64
	last  *time.Time
}

func (c *countingClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.inner.Do(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	*c.last = time.Now()
	c.n.Store(int64(len(body)))
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}
