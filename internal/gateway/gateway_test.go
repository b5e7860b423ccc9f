package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/minicloud/minicloud/internal/server"
)

const (
	scopeEC2 = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + sig
	scopeSTS = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + sig
	sig      = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

func newServer(t *testing.T) string {
	t.Helper()
	srv, err := server.New(server.Config{Ephemeral: true, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		_ = srv.Close(context.Background())
	})
	return hs.URL
}

type rawReq struct {
	method, path string
	header       map[string]string
	body         string
}

func do(t *testing.T, base string, r rawReq) (int, http.Header, string) {
	t.Helper()
	if r.method == "" {
		r.method = "POST"
	}
	req, err := http.NewRequest(r.method, base+r.path, strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range r.header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

const form = "application/x-www-form-urlencoded; charset=utf-8"

// TestErrorsAreAWSShaped sends requests a client could send wrongly and checks
// each answer is the AWS error a client parses: right status, code and shape,
// and a request ID.
func TestErrorsAreAWSShaped(t *testing.T) {
	base := newServer(t)
	tests := []struct {
		name   string
		req    rawReq
		status int
		want   []string // substrings of the body
	}{
		{"ec2 filter without a name",
			rawReq{path: "/", header: map[string]string{"Authorization": scopeEC2, "Content-Type": form}, body: "Action=DescribeRegions&Version=2016-11-15&Filter.1.Value.1=x"},
			400, []string{"<Response><Errors><Error><Code>InvalidParameterValue</Code>", "<RequestID>"}},
		{"ec2 unknown action",
			rawReq{path: "/", header: map[string]string{"Authorization": scopeEC2, "Content-Type": form}, body: "Action=LaunchRocket&Version=2016-11-15"},
			400, []string{"<Code>InvalidAction</Code>", "LaunchRocket"}},
		{"ec2 bad integer",
			rawReq{path: "/", header: map[string]string{"Authorization": scopeEC2, "Content-Type": form}, body: "Action=DescribeRegions&Version=2016-11-15&DryRun=maybe"},
			400, []string{"<Code>InvalidParameterValue</Code>"}},
		{"sts missing required parameter",
			rawReq{path: "/", header: map[string]string{"Authorization": scopeSTS, "Content-Type": form}, body: "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::000000000000:role/abcdefgh"},
			400, []string{"<ErrorResponse", "<Type>Sender</Type><Code>ValidationError</Code>", "Value null at &#39;roleSessionName&#39;", "<RequestId>"}},
		{"malformed form body",
			rawReq{path: "/", header: map[string]string{"Authorization": scopeSTS, "Content-Type": form}, body: "Action=GetCallerIdentity&%zz"},
			400, []string{"MalformedQueryString"}},
		{"truncated signature",
			rawReq{path: "/", header: map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=abc", "Content-Type": form}, body: "Action=GetCallerIdentity&Version=2011-06-15"},
			400, []string{"<Code>IncompleteSignature</Code>"}},
		{"garbage authorization",
			rawReq{path: "/", header: map[string]string{"Authorization": "Bearer xyz", "Content-Type": form}, body: "Action=GetCallerIdentity&Version=2011-06-15"},
			400, []string{"IncompleteSignature"}},
		{"scope without terminator",
			rawReq{path: "/", header: map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sts/x, SignedHeaders=host, Signature=" + sig, "Content-Type": form}, body: "Action=GetCallerIdentity&Version=2011-06-15"},
			400, []string{"IncompleteSignature", "aws4_request"}},
		{"unknown service in scope",
			rawReq{path: "/", header: map[string]string{"Authorization": strings.Replace(scopeSTS, "/sts/", "/quantum/", 1), "Content-Type": form}, body: "Action=Entangle"},
			400, []string{"UnknownService", "quantum"}},
		{"json protocol: an unimplemented operation answers before the body is parsed",
			rawReq{path: "/", header: map[string]string{"X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListClusters", "Content-Type": "application/x-amz-json-1.1"}, body: "{not json"},
			501, []string{"NotImplemented"}},
		{"json protocol unknown operation",
			rawReq{path: "/", header: map[string]string{"X-Amz-Target": "AmazonEC2ContainerServiceV20141113.FlyAway", "Content-Type": "application/x-amz-json-1.1"}, body: "{}"},
			400, []string{`"__type":"UnknownOperationException"`}},
		{"json protocol unknown target prefix",
			rawReq{path: "/", header: map[string]string{"X-Amz-Target": "Nope_2020.Do", "Content-Type": "application/x-amz-json-1.0"}, body: "{}"},
			400, []string{"UnknownOperationException"}},
		{"cbor garbage path",
			rawReq{path: "/service/GraniteServiceVersion20100801/nope", header: map[string]string{"Smithy-Protocol": "rpc-v2-cbor", "Content-Type": "application/cbor"}, body: "\xff\x00"},
			404, []string{"UnknownOperationException"}},
		{"rest path no operation matches",
			rawReq{method: "DELETE", path: "/2013-04-01/nothing/here", header: map[string]string{"Authorization": strings.Replace(scopeSTS, "/sts/", "/route53/", 1)}},
			404, []string{"<ErrorResponse>", "UnknownOperationException"}},
		{"unsigned with no other clue routes as S3 path-style",
			rawReq{method: "GET", path: "/favicon.ico"},
			501, []string{"NotImplemented", "s3 ListObjects"}},
		{"oversized body",
			rawReq{path: "/", header: map[string]string{"Authorization": scopeSTS, "Content-Type": form}, body: "Action=GetCallerIdentity&x=" + strings.Repeat("a", 17<<20)},
			413, []string{"<ErrorResponse", "RequestEntityTooLarge"}},
		// EC2's errors are in EC2's shape, also those of the gateway itself.
		{"ec2 oversized body, signed",
			rawReq{path: "/", header: map[string]string{"Authorization": scopeEC2, "Content-Type": form}, body: "Action=DescribeVpcs&Version=2016-11-15&x=" + strings.Repeat("a", 17<<20)},
			413, []string{"<Response><Errors><Error><Code>RequestEntityTooLarge</Code>", "<RequestID>"}},
		{"ec2 oversized body, unsigned: the Action read so far routes",
			rawReq{path: "/", header: map[string]string{"Content-Type": form}, body: "Action=DescribeVpcs&Version=2016-11-15&x=" + strings.Repeat("a", 17<<20)},
			413, []string{"<Response><Errors><Error><Code>RequestEntityTooLarge</Code>"}},
		{"ec2 malformed form",
			rawReq{path: "/", header: map[string]string{"Authorization": scopeEC2, "Content-Type": form}, body: "Action=DescribeVpcs&Version=2016-11-15&%zz"},
			400, []string{"<Response><Errors><Error><Code>MalformedQueryString</Code>"}},
		{"ec2 cross-site form post",
			rawReq{path: "/", header: map[string]string{"Content-Type": form, "Origin": "http://evil.example"}, body: "Action=CreateVpc&Version=2016-11-15&CidrBlock=10.0.0.0/16"},
			403, []string{"<Response><Errors><Error><Code>AccessDenied</Code>"}},
		{"ec2 unknown parameter: VpcIds.1 is not DescribeVpcs' VpcId.1",
			rawReq{path: "/", header: map[string]string{"Authorization": scopeEC2, "Content-Type": form}, body: "Action=DescribeVpcs&Version=2016-11-15&VpcIds.1=vpc-12345678"},
			400, []string{"<Response><Errors><Error><Code>UnknownParameter</Code><Message>The parameter VpcIds is not recognized</Message>"}},
		{"ec2 list indexed from 0",
			rawReq{path: "/", header: map[string]string{"Authorization": scopeEC2, "Content-Type": form}, body: "Action=DescribeVpcs&Version=2016-11-15&VpcId.0=vpc-12345678"},
			400, []string{"<Code>UnknownParameter</Code><Message>The parameter VpcId.0 is not recognized</Message>"}},
		{"ec2 too many parameters",
			rawReq{path: "/", header: map[string]string{"Authorization": scopeEC2, "Content-Type": form}, body: "Action=DescribeVpcs&Version=2016-11-15" + manyParams("VpcId", 10001)},
			400, []string{"<Response><Errors><Error><Code>InvalidQueryParameter</Code>"}},
		{"sts ignores an unknown parameter, as AWS's query services do",
			rawReq{path: "/", header: map[string]string{"Authorization": scopeSTS, "Content-Type": form}, body: "Action=GetCallerIdentity&Version=2011-06-15&Foo=bar"},
			200, []string{"<GetCallerIdentityResult>"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := do(t, base, tc.req)
			if status != tc.status {
				t.Errorf("HTTP %d, want %d; body %s", status, tc.status, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("body %s does not contain %q", body, w)
				}
			}
			if h.Get("X-Amzn-Requestid") == "" {
				t.Errorf("no request ID header")
			}
		})
	}
}

// TestRoutingWithoutSignature checks the other routing clues AWS front ends
// use: the Host name's service label, and Action with Version.
func TestRoutingWithoutSignature(t *testing.T) {
	base := newServer(t)
	status, _, body := do(t, base, rawReq{path: "/", header: map[string]string{"Content-Type": form}, body: "Action=GetCallerIdentity&Version=2011-06-15"})
	if status != 200 || !strings.Contains(body, "<Account>000000000000</Account>") || !strings.Contains(body, "<GetCallerIdentityResult>") {
		t.Fatalf("unsigned GetCallerIdentity: HTTP %d %s", status, body)
	}
	status, _, body = do(t, base, rawReq{method: "GET", path: "/?Action=DescribeRegions&Version=2016-11-15&RegionName.1=eu-west-1"})
	if status != 200 || !strings.Contains(body, "<regionName>eu-west-1</regionName>") || !strings.Contains(body, `xmlns="http://ec2.amazonaws.com/doc/2016-11-15`) {
		t.Fatalf("GET DescribeRegions: HTTP %d %s", status, body)
	}
}

func TestHealthAndReset(t *testing.T) {
	base := newServer(t)
	status, h, body := do(t, base, rawReq{method: "GET", path: "/_minicloud/health"})
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Fatalf("health: HTTP %d %s", status, body)
	}
	var health struct {
		Version  string
		Uptime   string
		Services map[string]struct {
			State      string
			Operations []string
		}
	}
	if err := json.Unmarshal([]byte(body), &health); err != nil {
		t.Fatal(err)
	}
	if health.Version != "test" || health.Uptime == "" || health.Services["sts"].State != "available" || health.Services["s3"].State != "not implemented" {
		t.Fatalf("health %+v", health)
	}
	got := strings.Join(health.Services["ec2"].Operations, ",")
	for _, op := range []string{"DescribeAvailabilityZones", "DescribeRegions", "RunInstances", "CreateVpc"} {
		if !strings.Contains(","+got+",", ","+op+",") {
			t.Fatalf("ec2 operations %s lack %s", got, op)
		}
	}
	if status, _, _ := do(t, base, rawReq{path: "/_minicloud/reset", header: map[string]string{"Origin": "https://evil.example"}}); status != http.StatusForbidden {
		t.Fatalf("reset from a foreign web page: HTTP %d, want 403", status)
	}
	if status, _, _ := do(t, base, rawReq{path: "/_minicloud/reset", header: map[string]string{"Origin": "http://localhost:3000"}}); status != http.StatusOK {
		t.Fatalf("reset from a local web page: HTTP %d, want 200", status)
	}
	for _, path := range []string{"/_minicloud/reset", "/moto-api/reset"} {
		if status, _, body := do(t, base, rawReq{path: path}); status != 200 || !strings.Contains(body, `"reset": true`) {
			t.Fatalf("%s: HTTP %d %s", path, status, body)
		}
		if status, _, _ := do(t, base, rawReq{method: "GET", path: path}); status != http.StatusMethodNotAllowed {
			t.Fatalf("GET %s: HTTP %d", path, status)
		}
	}
}

// manyParams is n parameters "&name.1=x&name.2=x…".
func manyParams(name string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "&%s.%d=x", name, i+1)
	}
	return b.String()
}
