package gateway_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/minicloud/minicloud/internal/sdktest"
	"github.com/minicloud/minicloud/internal/server"
)

// A web page must not drive minicloud: a cross-site form POST (a CORS
// "simple request" any page can send) and requests whose Host a
// DNS-rebinding page would send are refused with 403 and change nothing,
// on the AWS APIs and on /_minicloud/* alike; local pages, AWS endpoint
// names and the real clients keep working.
func TestWebPagesRefused(t *testing.T) {
	srv, err := server.New(server.Config{Ephemeral: true, Version: "test", AllowedHosts: []string{"minicloud", "*.dev.internal"}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		_ = srv.Close(context.Background())
	})
	base := hs.URL
	const form = "application/x-www-form-urlencoded"
	createVpc := "Action=CreateVpc&Version=2016-11-15&CidrBlock=10.66.0.0/16"
	jsonTarget := map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AmazonSSM.DescribeParameters"}
	tests := []struct {
		name   string
		req    rawReq
		status int
		want   string // in the body
	}{
		{"cross-site form POST", rawReq{path: "/", body: createVpc, header: map[string]string{"Content-Type": form, "Origin": "http://evil.example"}}, 403, "<Code>AccessDenied</Code>"},
		{"Origin null", rawReq{path: "/", body: createVpc, header: map[string]string{"Content-Type": form, "Origin": "null"}}, 403, "AccessDenied"},
		{"Sec-Fetch-Site cross-site", rawReq{path: "/", body: createVpc, header: map[string]string{"Content-Type": form, "Sec-Fetch-Site": "cross-site"}}, 403, "AccessDenied"},
		{"rebinding Host", rawReq{path: "/", body: createVpc, header: map[string]string{"Content-Type": form, "Host": "attacker.example:4566"}}, 403, "DNS rebinding"},
		{"rebinding Host, JSON protocol", rawReq{path: "/", body: "{}", header: merge(jsonTarget, map[string]string{"Host": "attacker.example"})}, 403, `"__type":"AccessDeniedException"`},
		{"rebinding Host on health", rawReq{method: "GET", path: "/_minicloud/health", header: map[string]string{"Host": "attacker.example"}}, 403, "DNS rebinding"},
		{"cross-site reset", rawReq{path: "/_minicloud/reset", header: map[string]string{"Origin": "https://evil.example"}}, 403, "web pages"},
		{"cross-site reset through moto's path", rawReq{path: "/moto-api/reset", header: map[string]string{"Sec-Fetch-Site": "cross-site"}}, 403, "cross-site"},
		{"health from localhost", rawReq{method: "GET", path: "/_minicloud/health", header: map[string]string{"Host": "localhost:4566"}}, 200, `"version"`},
		{"a local page", rawReq{method: "GET", path: "/_minicloud/health", header: map[string]string{"Origin": "http://localhost:3000", "Sec-Fetch-Site": "same-site"}}, 200, `"version"`},
		{"the console's own page", rawReq{method: "GET", path: "/_minicloud/health", header: map[string]string{"Origin": "http://127.0.0.1:4566", "Sec-Fetch-Site": "same-origin"}}, 200, `"version"`},
		{"an AWS endpoint name", rawReq{path: "/", body: "Action=DescribeVpcs&Version=2016-11-15", header: map[string]string{"Content-Type": form, "Host": "ec2.us-east-1.amazonaws.com"}}, 200, "DescribeVpcsResponse"},
		{"a name under localhost", rawReq{method: "GET", path: "/_minicloud/health", header: map[string]string{"Host": "bucket.s3.localhost:4566"}}, 200, `"version"`},
		{"IPv6 loopback", rawReq{method: "GET", path: "/_minicloud/health", header: map[string]string{"Host": "[::1]:4566"}}, 200, `"version"`},
		{"a configured name", rawReq{method: "GET", path: "/_minicloud/health", header: map[string]string{"Host": "minicloud:4566"}}, 200, `"version"`},
		{"under a configured wildcard", rawReq{method: "GET", path: "/_minicloud/health", header: map[string]string{"Host": "mc.dev.internal"}}, 200, `"version"`},
		{"not the wildcard's apex", rawReq{method: "GET", path: "/_minicloud/health", header: map[string]string{"Host": "dev.internal"}}, 403, "DNS rebinding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := do(t, base, tt.req)
			if status != tt.status || !strings.Contains(body, tt.want) {
				t.Errorf("HTTP %d %s, want %d with %q", status, body, tt.status, tt.want)
			}
		})
	}

	// Nothing the refused requests asked for happened, and the SDK works.
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(base), HTTPClient: sdktest.HTTPClient()}
	out, err := ec2.NewFromConfig(cfg).DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range out.Vpcs {
		if aws.ToString(v.CidrBlock) == "10.66.0.0/16" {
			t.Errorf("a refused request created %s", aws.ToString(v.VpcId))
		}
	}
	var h map[string]any
	_, _, body := do(t, base, rawReq{method: "GET", path: "/_minicloud/health"})
	if err := json.Unmarshal([]byte(body), &h); err != nil || h["version"] != "test" {
		t.Errorf("health after the refusals: %v %s", err, body)
	}
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
