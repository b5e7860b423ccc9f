package logs_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	lt "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"

	"github.com/minicloud/minicloud/internal/sdktest"
	"github.com/minicloud/minicloud/internal/server"
)

// clock is a test's movable clock (server.Config.Now).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a minicloud in process with clients of it.
type env struct {
	url    string
	awsCfg aws.Config
	logs   *cloudwatchlogs.Client
	cw     *cloudwatch.Client
	stop   func()
}

// start runs a minicloud from cfg (ephemeral when no StateDir).
func start(t *testing.T, cfg server.Config) env {
	t.Helper()
	cfg.Ephemeral = cfg.StateDir == ""
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
	awsCfg := aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint:     aws.String(hs.URL),
		RetryMaxAttempts: 1,
		HTTPClient:       sdktest.HTTPClient(),
	}
	return env{url: hs.URL, awsCfg: awsCfg, logs: cloudwatchlogs.NewFromConfig(awsCfg), cw: cloudwatch.NewFromConfig(awsCfg), stop: stop}
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

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// events builds chronological input events: one per message, a second
// apart, from at.
func events(at time.Time, msgs ...string) []lt.InputLogEvent {
	out := make([]lt.InputLogEvent, len(msgs))
	for i, m := range msgs {
		out[i] = lt.InputLogEvent{Timestamp: aws.Int64(at.Add(time.Duration(i) * time.Second).UnixMilli()), Message: aws.String(m)}
	}
	return out
}

func messages[E any](evs []E, msg func(E) *string) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = aws.ToString(msg(e))
	}
	return out
}

func outMsg(e lt.OutputLogEvent) *string    { return e.Message }
func filtMsg(e lt.FilteredLogEvent) *string { return e.Message }

// group creates a group and a stream in it.
func group(t *testing.T, c *cloudwatchlogs.Client, name, stream string) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if stream != "" {
		if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(name), LogStreamName: aws.String(stream)}); err != nil {
			t.Fatal(err)
		}
	}
}
