package route53_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"

	"github.com/minicloud/minicloud/internal/sdktest"
	"github.com/minicloud/minicloud/internal/server"
)

type testEnv struct {
	srv *server.Server
	cfg aws.Config
	r53 *route53.Client
	ctx context.Context
}

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
	cfg := aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint:     aws.String(hs.URL),
		RetryMaxAttempts: 1,
		HTTPClient:       sdktest.HTTPClient(),
	}
	return &testEnv{srv: srv, cfg: cfg, r53: route53.NewFromConfig(cfg), ctx: context.Background()}
}

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

func wantMessage(t *testing.T, err error, code, msg string) {
	t.Helper()
	wantCode(t, err, code)
	var ae smithy.APIError
	errors.As(err, &ae)
	if ae.ErrorMessage() != msg {
		t.Fatalf("message = %q, want %q", ae.ErrorMessage(), msg)
	}
}

func (e *testEnv) zone(t *testing.T, name string) string {
	t.Helper()
	out, err := e.r53.CreateHostedZone(e.ctx, &route53.CreateHostedZoneInput{Name: aws.String(name), CallerReference: aws.String("ref-" + name)})
	if err != nil {
		t.Fatal(err)
	}
	return *out.HostedZone.Id
}

func rr(action types.ChangeAction, name string, typ types.RRType, ttl int64, values ...string) types.Change {
	set := &types.ResourceRecordSet{Name: aws.String(name), Type: typ, TTL: aws.Int64(ttl)}
	for _, v := range values {
		set.ResourceRecords = append(set.ResourceRecords, types.ResourceRecord{Value: aws.String(v)})
	}
	return types.Change{Action: action, ResourceRecordSet: set}
}

func (e *testEnv) change(zone string, changes ...types.Change) error {
	_, err := e.r53.ChangeResourceRecordSets(e.ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zone), ChangeBatch: &types.ChangeBatch{Changes: changes}})
	return err
}
