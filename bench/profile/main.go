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
package main

import (
	"context"
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

	"github.com/minicloud/minicloud/internal/server"
)

func main() {
	out := flag.String("o", "/tmp/minicloud-profile", "output prefix: PREFIX.cpu.pprof and PREFIX.heap.pprof")
	dur := flag.Duration("duration", 5*time.Second, "load duration (max 2m)")
	workers := flag.Int("c", 16, "concurrent workers (1..256)")
	maxReq := flag.Int64("max-requests", 500_000, "hard cap on requests")
	flag.Parse()
	if *dur <= 0 || *dur > 2*time.Minute || *workers < 1 || *workers > 256 || *maxReq < 1 {
		fmt.Fprintln(os.Stderr, "profile: bad flags")
		os.Exit(2)
	}
	srv, err := server.New(server.Config{Listen: "127.0.0.1:0", Ephemeral: true, Version: "profile"})
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
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), HTTPClient: hc, Retryer: aws.NopRetryer{}})

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
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				r, err := c.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{})
				cancel()
				if err != nil || len(r.AvailabilityZones) == 0 {
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
	fmt.Printf("ok %d, errors %d, %.0f req/s (client and server in one process)\n", ok.Load(), bad.Load(), float64(ok.Load())/dur.Seconds())
}
