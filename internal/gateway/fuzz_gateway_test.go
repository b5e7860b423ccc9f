package gateway_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/minicloud/minicloud/internal/server"
)

// FuzzGateway sends arbitrary requests through the whole gateway: every
// answer must be an AWS-shaped response with a request ID, never a panic or a
// 500 (no operation minicloud implements fails on bad input with a 500).
func FuzzGateway(f *testing.F) {
	seeds := []struct{ method, path, target, ctype, auth, body string }{
		{"POST", "/", "", "application/x-www-form-urlencoded", "", "Action=DescribeRegions&Version=2016-11-15&Filter.1.Name=region-name&Filter.1.Value.1=eu-*"},
		{"POST", "/", "", "application/x-www-form-urlencoded", "AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "Action=AssumeRole&RoleArn=arn:aws:iam::000000000000:role/abcdefgh&RoleSessionName=s1&DurationSeconds=900"},
		{"POST", "/", "", "application/x-www-form-urlencoded", "", "Action=DescribeAvailabilityZones&ZoneName.1=us-east-1a&Filter.1.Name=zone-id&Filter.1.Value.1=*"},
		{"POST", "/", "AmazonEC2ContainerServiceV20141113.ListClusters", "application/x-amz-json-1.1", "", "{}"},
		{"POST", "/service/GraniteServiceVersion20100801/operation/ListMetrics", "", "application/cbor", "", "\xbf\xff"},
		{"GET", "/2013-04-01/hostedzone", "", "", "AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/route53/aws4_request, SignedHeaders=host, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.target, s.ctype, s.auth, []byte(s.body))
	}
	srv, err := server.New(server.Config{Ephemeral: true})
	if err != nil {
		f.Fatal(err)
	}
	g := srv.Handler()
	f.Fuzz(func(t *testing.T, method, path, target, ctype, auth string, body []byte) {
		if method == "" || strings.ContainsAny(method, " \t\r\n()<>@,;:\\\"/[]?={}") {
			method = "POST"
		}
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \t\r\n#") {
			path = "/" + strings.NewReplacer(" ", "", "\t", "", "\r", "", "\n", "", "#", "").Replace(path)
		}
		req, err := http.NewRequest(method, "http://localhost"+path, bytes.NewReader(body))
		if err != nil {
			return
		}
		for k, v := range map[string]string{"X-Amz-Target": target, "Content-Type": ctype, "Authorization": auth} {
			if v != "" && !strings.ContainsAny(v, "\r\n\x00") {
				req.Header.Set(k, v)
			}
		}
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, req)
		if strings.HasPrefix(path, "/_minicloud/") || path == "/moto-api/reset" {
			return
		}
		if rec.Code >= 500 && rec.Code != http.StatusNotImplemented {
			t.Fatalf("HTTP %d for %s %s: %s", rec.Code, method, path, rec.Body.String())
		}
		if rec.Header().Get("X-Amzn-Requestid") == "" {
			t.Fatalf("no request ID for %s %s", method, path)
		}
	})
}
