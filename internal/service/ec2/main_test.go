package ec2_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"

	"github.com/minicloud/minicloud/internal/sdktest"
	"github.com/minicloud/minicloud/internal/server"
)

// testEnv is an in-process minicloud and an EC2 client of the real SDK.
type testEnv struct {
	srv *server.Server
	url string
	ec2 *ec2.Client
	ctx context.Context
}

// newEnv starts an in-memory minicloud; dir, when set, makes it durable there.
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
	return &testEnv{srv: srv, url: hs.URL, ec2: ec2Client(hs.URL, "us-east-1", "test"), ctx: context.Background()}
}

// ec2Client is the real SDK's EC2 client for url. Retries are off so each
// test sees the first answer.
func ec2Client(url, region, key string) *ec2.Client {
	return ec2.NewFromConfig(aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(key, "test", ""),
		BaseEndpoint:     aws.String(url),
		RetryMaxAttempts: 1,
		HTTPClient:       sdktest.HTTPClient(),
	})
}

// wantCode fails the test unless err is an AWS API error with code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want error %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want error %s, got %s: %s", code, ae.ErrorCode(), ae.ErrorMessage())
	}
}

// wantError fails the test unless err is an AWS API error with code and,
// when msg is not empty, exactly msg: third-party suites compare both.
func wantError(t *testing.T, err error, code, msg string) {
	t.Helper()
	wantCode(t, err, code)
	var ae smithy.APIError
	errors.As(err, &ae)
	if msg != "" && ae.ErrorMessage() != msg {
		t.Fatalf("error %s: want message %q, got %q", code, msg, ae.ErrorMessage())
	}
}
