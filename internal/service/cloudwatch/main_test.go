package cloudwatch_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"

	"github.com/minicloud/minicloud/internal/sdktest"
	"github.com/minicloud/minicloud/internal/server"
)

// newClient starts a minicloud in process (ephemeral when dir is "") and
// returns a CloudWatch client of it, which speaks smithy-rpc-v2-cbor.
func newClient(t *testing.T, dir string) *cloudwatch.Client {
	cw, _ := startClient(t, dir)
	return cw
}

// startClient is newClient with a function that stops that minicloud
// (also called on cleanup).
func startClient(t *testing.T, dir string) (*cloudwatch.Client, func()) {
	t.Helper()
	return startClientWith(t, server.Config{Ephemeral: dir == "", StateDir: dir})
}

// startClientWith is startClient of a minicloud built from cfg.
func startClientWith(t *testing.T, cfg server.Config) (*cloudwatch.Client, func()) {
	t.Helper()
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	var once sync.Once
	stop := func() {
		once.Do(func() {
			hs.Close()
			if err := srv.Close(context.Background()); err != nil {
				t.Errorf("close: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return cloudwatch.NewFromConfig(aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint:     aws.String(hs.URL),
		RetryMaxAttempts: 1,
		HTTPClient:       sdktest.HTTPClient(),
	}), stop
}

func wantCode(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want error %s, got %v", code, err)
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("want %s containing %q, got %s: %s", code, msg, ae.ErrorCode(), ae.ErrorMessage())
	}
}

// minute is the start of a whole minute a little in the past, so that a
// test's datapoints fall in periods it can name.
func minute(ago int) time.Time {
	return time.Now().UTC().Truncate(time.Minute).Add(-time.Duration(ago) * time.Minute)
}

func dim(name, value string) cwtypes.Dimension {
	return cwtypes.Dimension{Name: aws.String(name), Value: aws.String(value)}
}

func sortPoints(dps []cwtypes.Datapoint) {
	sort.Slice(dps, func(i, j int) bool { return dps[i].Timestamp.Before(*dps[j].Timestamp) })
}
