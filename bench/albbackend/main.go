//go:build bench

// Command albbackend is the HTTP server the bench's alb scenario bakes
// into its AMI and runs on both backend instances: every GET answers 200
// with a fixed body, over HTTP/1.1 keep-alive, naming the backend in an
// X-Backend header so the harness can see both proxies alternate. It is
// Go's net/http with nothing per request but one write of prepared
// headers and body, so that the backends cost the same in every leg and a
// proxy in front of them is what the legs compare.
//
// The harness builds it (CGO_ENABLED=0, a static binary, which runs in
// any image) with:
//
//	go build -tags bench -o DIR/usr/local/bin/albbench-backend ./bench/albbackend
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	name := flag.String("name", "", "X-Backend header value")
	size := flag.Int("body", 64, "body size in bytes (1..1048576)")
	// -tag marks the process for the harness's CPU accounting (it finds its
	// backends by this argument in /proc/PID/cmdline).
	flag.String("tag", "", "ignored; identifies the process")
	flag.Parse()
	if *size < 1 || *size > 1<<20 {
		fmt.Fprintln(os.Stderr, "albbackend: -body must be 1..1048576")
		os.Exit(2)
	}
	body := append(bytes.Repeat([]byte("x"), *size-1), '\n')
	ct, cl, be := []string{"text/plain"}, []string{strconv.Itoa(len(body))}, []string{*name}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		// Assigned, not Set: no canonicalization and no allocation per request.
		hdr["Content-Type"], hdr["Content-Length"], hdr["X-Backend"] = ct, cl, be
		_, _ = w.Write(body)
	})
	// Keep-alives outlast the proxies' (ALB's idle timeout is 60 s; AWS
	// advises targets to keep connections longer than that, so the load
	// balancer, not the target, closes them).
	srv := &http.Server{Addr: *addr, Handler: h, IdleTimeout: 120 * time.Second, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
