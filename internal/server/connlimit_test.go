package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"

	"github.com/minicloud/minicloud/internal/sdktest"
)

// startLimited starts minicloud on a loopback port with cfg's limits.
func startLimited(t *testing.T, cfg Config) string {
	t.Helper()
	cfg.Ephemeral, cfg.Listen, cfg.Version = true, "127.0.0.1:0", "test"
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
	})
	return srv.Addr()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestConnectionLimit: with MaxConnections open (idle, sending nothing), the
// next client is answered at once with EC2's 503 ServiceUnavailable, in
// EC2's error shape, instead of hanging; once a connection closes, the
// client is served again.
func TestConnectionLimit(t *testing.T) {
	const limit = 3
	addr := startLimited(t, Config{MaxConnections: limit})
	held := make([]net.Conn, limit)
	for i := range held {
		held[i] = dial(t, addr)
	}
	// The held connections are accepted before the client's: make sure
	// the server has taken them, by a request on the last one.
	if _, err := held[limit-1].Write([]byte("GET /_minicloud/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.ReadResponse(bufio.NewReader(held[limit-1]), nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("health on a held connection: %v %v", resp, err)
	}
	client := ec2.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String("http://" + addr), HTTPClient: sdktest.HTTPClient(), RetryMaxAttempts: 1})
	start := time.Now()
	_, err := client.DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{})
	var ae smithy.APIError
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &ae) || ae.ErrorCode() != "ServiceUnavailable" || !errors.As(err, &re) || re.HTTPStatusCode() != 503 {
		t.Fatalf("DescribeVpcs over the limit: %v, want 503 ServiceUnavailable", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the refusal took %v", d)
	}
	// The raw answer is EC2's shape.
	c := dial(t, addr)
	body := "Action=DescribeVpcs&Version=2016-11-15"
	_, _ = c.Write([]byte("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 38\r\n\r\n" + body))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 503 || !strings.Contains(string(b), "<Response><Errors><Error><Code>ServiceUnavailable</Code>") {
		t.Fatalf("raw request over the limit: HTTP %d %s", resp.StatusCode, b)
	}
	_ = held[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := client.DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("DescribeVpcs after a connection closed: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestStalledBody: a body that stops arriving is answered 400
// RequestTimeout (in EC2's shape for EC2) once it has stalled for
// BodyIdleTimeout, while a body that keeps arriving slowly is served
// however long it takes; headers that never end are cut after
// ReadHeaderTimeout.
func TestStalledBody(t *testing.T) {
	addr := startLimited(t, Config{BodyIdleTimeout: 300 * time.Millisecond, ReadHeaderTimeout: 300 * time.Millisecond})
	const head = "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
		"Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n"
	body := "Action=DescribeVpcs&Version=2016-11-15"

	t.Run("stalled", func(t *testing.T) {
		c := dial(t, addr)
		_, _ = c.Write([]byte(head + "Content-Length: 100\r\n\r\n" + body))
		start := time.Now()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 400 || !strings.Contains(string(b), "<Response><Errors><Error><Code>RequestTimeout</Code>") {
			t.Fatalf("stalled body: HTTP %d %s", resp.StatusCode, b)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("answered after %v", d)
		}
	})
	t.Run("slow but progressing", func(t *testing.T) {
		c := dial(t, addr)
		_, _ = c.Write([]byte(head + "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"))
		for i := 0; i < len(body); i += 8 { // ~1 s in all, each pause under the timeout
			time.Sleep(200 * time.Millisecond)
			_, _ = c.Write([]byte(body[i:min(i+8, len(body))]))
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(string(b), "DescribeVpcsResponse") {
			t.Fatalf("slow body: HTTP %d %s", resp.StatusCode, b)
		}
	})
	t.Run("headers that never end", func(t *testing.T) {
		c := dial(t, addr)
		_, _ = c.Write([]byte("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"))
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		start := time.Now()
		_, err := io.ReadAll(c) // the server closes the connection
		if err != nil {
			t.Fatalf("read: %v (the server kept the connection %v)", err, time.Since(start))
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("closed after %v", d)
		}
	})
}
