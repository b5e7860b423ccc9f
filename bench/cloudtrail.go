//go:build bench

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// ctScenarios measure what CloudTrail's recording adds to a call: the same
// binary twice, --cloudtrail on and off; "all" leaves it out (it writes
// durable stores).
var ctScenarios = []string{"cloudtrail"}

// ctOptions bound the cloudtrail scenario.
type ctOptions struct {
	calls  int
	warm   int
	rounds int
	max    time.Duration
}

func ctFlags(o *ctOptions) {
	flag.IntVar(&o.calls, "ct-calls", 2000, "cloudtrail: measured sequential DescribeVpcs calls per server and round")
	flag.IntVar(&o.warm, "ct-warmup-calls", 200, "cloudtrail: uncounted calls per server first")
	flag.IntVar(&o.rounds, "ct-rounds", 3, "cloudtrail: rounds, alternating which server goes first")
	flag.DurationVar(&o.max, "ct-max", 3*time.Minute, "cloudtrail: time limit for all calls")
}

func (o *ctOptions) check() error {
	switch {
	case o.calls < 1 || o.calls > 100_000, o.warm < 0 || o.warm > 10_000:
		return errors.New("-ct-calls must be 1..100000 and -ct-warmup-calls 0..10000")
	case o.rounds < 1 || o.rounds > 20, o.max <= 0 || o.max > 15*time.Minute:
		return errors.New("-ct-rounds must be 1..20 and -ct-max in (0, 15m]")
	}
	return nil
}

// ctResult is one server's latencies over every round.
type ctResult struct {
	name     string
	lat      []time.Duration // sorted
	events   int64           // bytes of event files written
	firstErr error
}

// runCloudTrail starts both servers (durable state, as a user's, so the
// recording one fsyncs its events), then times sequential DescribeVpcs
// calls against each in turn, round by round.
func runCloudTrail(o ctOptions, bin, tmp string) ([]*ctResult, error) {
	mk := func(name, mode string) *server {
		dir := filepath.Join(tmp, "ct-state-"+name)
		return &server{
			name: name, bin: bin, readyPath: "/_minicloud/health", readyMax: 10 * time.Second, minicloud: true,
			args: func(port int) []string {
				return []string{"serve", "--listen", fmt.Sprintf("%s:%d", host, port), "--state-dir", dir,
					"--data-plane", "off", "--dns-listen", "off", "--cloudtrail", mode}
			},
		}
	}
	servers := []*server{mk("recording on", "on"), mk("recording off", "off")}
	var clients []*ec2.Client
	for _, s := range servers {
		p, err := start(s, tmp)
		if err != nil {
			return nil, err
		}
		defer p.stop()
		if _, err := p.waitReady(); err != nil {
			return nil, err
		}
		c, _ := newEC2(p.url(), 1)
		clients = append(clients, c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.max)
	defer cancel()
	call := func(c *ec2.Client) error {
		out, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
		if err == nil && len(out.Vpcs) == 0 {
			err = errors.New("no VPC (the default VPC is missing)")
		}
		return err
	}
	rs := make([]*ctResult, len(servers))
	for i, s := range servers {
		rs[i] = &ctResult{name: s.name}
		for range o.warm {
			if err := call(clients[i]); err != nil {
				return nil, fmt.Errorf("%s: warm-up: %w", s.name, err)
			}
		}
	}
	for round := range o.rounds {
		for k := range servers {
			i := (k + round) % len(servers)
			for range o.calls {
				t := time.Now()
				err := call(clients[i])
				d := time.Since(t)
				if err != nil {
					if ctx.Err() != nil {
						return nil, fmt.Errorf("-ct-max %v reached", o.max)
					}
					if rs[i].firstErr == nil {
						rs[i].firstErr = err
					}
					continue
				}
				rs[i].lat = append(rs[i].lat, d)
			}
		}
	}
	for i, s := range servers {
		slices.Sort(rs[i].lat)
		_ = filepath.WalkDir(filepath.Join(tmp, "ct-state-"+s.name, "cloudtrail"), func(_ string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if fi, err := d.Info(); err == nil {
					rs[i].events += fi.Size()
				}
			}
			return nil
		})
	}
	return rs, nil
}

func reportCloudTrail(w io.Writer, o ctOptions, rs []*ctResult) {
	fmt.Fprintf(w, "\ncloudtrail: the same binary twice, serve --state-dir --data-plane off --cloudtrail on|off; aws-sdk-go-v2 EC2 client (SigV4, no retries), one connection\n")
	fmt.Fprintf(w, "cloudtrail: %d warm-up + %d rounds × %d sequential DescribeVpcs per server, alternating which server goes first\n", o.warm, o.rounds, o.calls)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tcalls\tp50\tp90\tp99\tevent files\terrors\t")
	for _, r := range rs {
		errs := "0"
		if r.firstErr != nil {
			errs = fmt.Sprintf("%d (%v)", o.rounds*o.calls-len(r.lat), r.firstErr)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d KiB\t%s\t\n", r.name, len(r.lat), us(pct(r.lat, 50)), us(pct(r.lat, 90)), us(pct(r.lat, 99)), r.events/1024, errs)
	}
	_ = tw.Flush()
	if len(rs) == 2 {
		fmt.Fprintf(w, "cloudtrail: recording adds %s at p50, %s at p99\n", us(pct(rs[0].lat, 50)-pct(rs[1].lat, 50)), us(pct(rs[0].lat, 99)-pct(rs[1].lat, 99)))
	}
}

func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d.Nanoseconds())/1000) }
