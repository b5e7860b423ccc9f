//go:build bench

// Command profile runs minicloud in-process on 127.0.0.1 and drives it with
// the same aws-sdk-go-v2 EC2 load as the benchmark, writing a CPU profile and
// a heap profile, for investigating the benchmark's figures:
//
//	go run -tags bench ./bench/profile -o /tmp/mc
//	go tool pprof -top -focus 'net/http.\(\*conn\).serve' /tmp/mc.cpu.pprof
//
// Client and server share the process; -focus on the server's connection
// goroutine separates the server's share.
//
// -scenario picks the load:
//
//	describe-azs        DescribeAvailabilityZones, -c workers (default)
//	describe-instances  seeds -instances instances tagged Team=team-0..9
//	                    (not profiled), then sequential DescribeInstances
//	                    with Filters tag:Team=team-3 (one worker)
//	run-instances       -c workers, RunInstances MinCount=MaxCount=1
//	dns                 seeds a public hosted zone bench.test. of -records
//	                    A records through the Route 53 API (not profiled),
//	                    then -c workers send UDP queries (10% NXDOMAIN) to
//	                    the DNS server (internal/dns53) on 127.0.0.1:0
//
//	go run -tags bench ./bench/profile -scenario dns -c 32 -o /tmp/dns
//	go tool pprof -top -cum -focus 'dns.\(\*Server\).serveUDP' /tmp/dns.cpu.pprof
//
// For example:
//
//	go run -tags bench ./bench/profile -scenario describe-instances -o /tmp/di
//	go tool pprof -top -cum -focus 'net/http.\(\*conn\).serve' /tmp/di.cpu.pprof
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/minicloud/minicloud/internal/sdktest"
	"github.com/minicloud/minicloud/internal/server"
)

func main() {
	out := flag.String("o", "/tmp/minicloud-profile", "output prefix: PREFIX.cpu.pprof and PREFIX.heap.pprof")
	dur := flag.Duration("duration", 5*time.Second, "load duration (max 2m)")
	workers := flag.Int("c", 16, "concurrent workers (1..256)")
	maxReq := flag.Int64("max-requests", 500_000, "hard cap on requests (run-instances: at most 4000)")
	scenario := flag.String("scenario", "describe-azs", "describe-azs, describe-instances, run-instances or dns")
	nInst := flag.Int("instances", 1000, "describe-instances: instances to seed (10..5000)")
	nRec := flag.Int("records", 10000, "dns: A records in the zone (1..65536)")
	flag.Parse()
	if *scenario == "run-instances" {
		*maxReq = min(*maxReq, 4000) // one default subnet is a /20
	}
	if *dur <= 0 || *dur > 2*time.Minute || *workers < 1 || *workers > 256 || *maxReq < 1 || *nInst < 10 || *nInst > 5000 || *nRec < 1 || *nRec > 65536 {
		fmt.Fprintln(os.Stderr, "profile: bad flags")
		os.Exit(2)
	}
	cfg := server.Config{Listen: "127.0.0.1:0", Ephemeral: true, Version: "profile"}
	if *scenario == "dns" {
		cfg.DNSListen = "127.0.0.1:0"
	}
	srv, err := server.New(cfg)
	if err == nil {
		err = srv.Start()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		os.Exit(1)
	}
	defer srv.Close(context.Background())

	hc := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.Proxy = nil
		t.MaxIdleConnsPerHost = *workers * 2
	})
	c := ec2.New(ec2.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://" + srv.Addr()),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), HTTPClient: sdktest.BufferBodies(hc), Retryer: aws.NopRetryer{}})

	var call func(ctx context.Context) error
	switch *scenario {
	case "describe-azs":
		call = func(ctx context.Context) error {
			r, err := c.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{})
			if err == nil && len(r.AvailabilityZones) == 0 {
				err = errors.New("no zones")
			}
			return err
		}
	case "describe-instances":
		ami, err := al2023(c)
		if err != nil {
			fmt.Fprintln(os.Stderr, "profile:", err)
			os.Exit(1)
		}
		want := 0
		for b, seeded := 0, 0; seeded < *nInst; b++ {
			n := min(100, *nInst-seeded)
			team := fmt.Sprintf("team-%d", b%10)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			_, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(ami), InstanceType: types.InstanceTypeT3Micro,
				MinCount: aws.Int32(int32(n)), MaxCount: aws.Int32(int32(n)),
				TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance,
					Tags: []types.Tag{{Key: aws.String("Team"), Value: aws.String(team)}}}}})
			cancel()
			if err != nil {
				fmt.Fprintln(os.Stderr, "profile: seeding:", err)
				os.Exit(1)
			}
			seeded += n
			if team == "team-3" {
				want += n
			}
		}
		*workers = 1
		in := &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("tag:Team"), Values: []string{"team-3"}}}}
		call = func(ctx context.Context) error {
			r, err := c.DescribeInstances(ctx, in)
			if err != nil {
				return err
			}
			got := 0
			for _, res := range r.Reservations {
				got += len(res.Instances)
			}
			if got != want {
				return fmt.Errorf("%d instances, want %d", got, want)
			}
			return nil
		}
	case "dns":
		call, err = dnsLoad(srv, hc, *nRec, *workers)
		if err != nil {
			fmt.Fprintln(os.Stderr, "profile:", err)
			os.Exit(1)
		}
	case "run-instances":
		ami, err := al2023(c)
		if err != nil {
			fmt.Fprintln(os.Stderr, "profile:", err)
			os.Exit(1)
		}
		call = func(ctx context.Context) error {
			r, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(ami), InstanceType: types.InstanceTypeT3Micro,
				MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
			if err == nil && (len(r.Instances) != 1 || r.Instances[0].State == nil || r.Instances[0].State.Name != types.InstanceStateNamePending) {
				err = errors.New("not one pending instance")
			}
			return err
		}
	default:
		fmt.Fprintln(os.Stderr, "profile: -scenario: want describe-azs, describe-instances, run-instances or dns")
		os.Exit(2)
	}

	f, err := os.Create(*out + ".cpu.pprof")
	if err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		os.Exit(1)
	}
	_ = pprof.StartCPUProfile(f)
	var issued, ok, bad atomic.Int64
	deadline := time.Now().Add(*dur)
	var wg sync.WaitGroup
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && issued.Add(1) <= *maxReq {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				err := call(ctx)
				cancel()
				if err != nil {
					bad.Add(1)
					continue
				}
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	pprof.StopCPUProfile()
	f.Close()
	runtime.GC()
	h, err := os.Create(*out + ".heap.pprof")
	if err == nil {
		_ = pprof.WriteHeapProfile(h)
		h.Close()
	}
	fmt.Printf("%s: ok %d, errors %d, %.0f req/s (client and server in one process)\n", *scenario, ok.Load(), bad.Load(), float64(ok.Load())/dur.Seconds())
}

// al2023 is the id of the Amazon Linux 2023 x86_64 image.
func al2023(c *ec2.Client) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"},
		Filters: []types.Filter{{Name: aws.String("name"), Values: []string{"al2023-ami-2023*-x86_64"}}}})
	if err != nil {
		return "", err
	}
	if len(r.Images) == 0 {
		return "", errors.New("no al2023 x86_64 image")
	}
	return aws.ToString(r.Images[0].ImageId), nil
}
