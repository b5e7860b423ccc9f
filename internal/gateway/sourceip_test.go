package gateway_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/stsapi"
	"github.com/minicloud/minicloud/internal/codec"
	"github.com/minicloud/minicloud/internal/gateway"
)

// The handler's RequestInfo carries the caller's address as the gateway
// sees it (aws:SourceIp, CloudTrail's sourceIPAddress): an instance's
// public IP when it calls through the in-VPC listener.
func TestRequestInfoSourceIP(t *testing.T) {
	var got string
	g := gateway.New(gateway.Config{Backends: []gateway.Backend{{Info: stsapi.Info, Handlers: map[string]api.Handler{
		"GetCallerIdentity": func(ctx context.Context, decode func(codec.Message) error) (codec.Marshaler, error) {
			if err := decode(&stsapi.GetCallerIdentityRequest{}); err != nil {
				return nil, err
			}
			got = api.Request(ctx).SourceIP
			return &stsapi.GetCallerIdentityResponse{}, nil
		}}}}})
	for _, remote := range []string{"198.19.233.49:40000", "127.0.0.1:1234"} {
		r := httptest.NewRequest("POST", "http://sts.us-east-1.amazonaws.com/", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
		r.Header.Set("Content-Type", form)
		r.Header.Set("Authorization", scopeSTS)
		r.Header.Set("X-Amz-Date", "20260101T000000Z")
		r.RemoteAddr = remote
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", remote, w.Code, w.Body)
		}
		if want, _, _ := strings.Cut(remote, ":"); got != want {
			t.Errorf("SourceIP %q, want %q", got, want)
		}
	}
}
