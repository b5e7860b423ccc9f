package ssm_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/minicloud/minicloud/internal/sdktest"
	"github.com/minicloud/minicloud/internal/server"
)

// testEnv is a minicloud in process with an SSM client.
type testEnv struct {
	srv *server.Server
	url string
	ssm *ssm.Client
	ctx context.Context
}

// newEnv serves a minicloud over dir ("" = memory only).
func newEnv(t *testing.T, dir string) *testEnv {
	t.Helper()
	srv, err := server.New(server.Config{Ephemeral: dir == "", StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		_ = srv.Close(context.Background())
	})
	return &testEnv{srv: srv, url: hs.URL, ssm: ssm.NewFromConfig(clientConfig(hs.URL, "test", "us-east-1")), ctx: context.Background()}
}

// clientConfig is an SDK configuration for the minicloud at url, with an
// access key (a 12-digit key is that account) and a region.
func clientConfig(url, key, region string) aws.Config {
	return aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(key, "test", ""),
		BaseEndpoint:     aws.String(url),
		RetryMaxAttempts: 1,
		HTTPClient:       sdktest.HTTPClient(),
	}
}

// ssmIn is an SSM client of another account or region.
func (e *testEnv) ssmIn(account, region string) *ssm.Client {
	return ssm.NewFromConfig(clientConfig(e.url, account, region))
}

// wantError checks an API error's code and that its message contains msg.
func wantError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want error %s, got %v", code, err)
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("want error %s (%q), got %s: %s", code, msg, ae.ErrorCode(), ae.ErrorMessage())
	}
}
