package rds_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/smithy-go"

	"github.com/minicloud/minicloud/internal/sdktest"
	"github.com/minicloud/minicloud/internal/server"
)

type testEnv struct {
	srv   *server.Server
	rds   *rds.Client
	ec2   *ec2.Client
	dir   string
	ctx   context.Context
	close func()
}

func newEnv(t *testing.T) *testEnv { t.Helper(); return newEnvIn(t, t.TempDir()) }

// newEnvIn starts minicloud with its state in dir.
func newEnvIn(t *testing.T, dir string) *testEnv {
	t.Helper()
	srv, err := server.New(server.Config{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	var closed bool
	e := &testEnv{srv: srv, dir: dir, ctx: context.Background()}
	e.close = func() {
		if !closed {
			closed = true
			hs.Close()
			_ = srv.Close(context.Background())
		}
	}
	t.Cleanup(e.close)
	cfg := aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint:     aws.String(hs.URL),
		RetryMaxAttempts: 1,
		HTTPClient:       sdktest.HTTPClient(),
	}
	e.rds, e.ec2 = rds.NewFromConfig(cfg), ec2.NewFromConfig(cfg)
	return e
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

// vpc creates a VPC with one subnet per zone given; it returns the subnets.
func (e *testEnv) vpc(t *testing.T, cidr string, zones ...string) []string {
	t.Helper()
	v, err := e.ec2.CreateVpc(e.ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(cidr + ".0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, z := range zones {
		sn, err := e.ec2.CreateSubnet(e.ctx, &ec2.CreateSubnetInput{VpcId: v.Vpc.VpcId, AvailabilityZone: aws.String(z), CidrBlock: aws.String(cidr + "." + string(rune('1'+i)) + ".0/24")})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, *sn.Subnet.SubnetId)
	}
	return ids
}

// waitStatus polls until the instance has status want (or is gone, for
// want ""), for up to 60 s.
func (e *testEnv) waitStatus(t *testing.T, id, want string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		out, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
		if want == "" {
			var ae smithy.APIError
			if errors.As(err, &ae) && ae.ErrorCode() == "DBInstanceNotFound" {
				return
			}
		}
		if err != nil && want != "" {
			t.Fatal(err)
		}
		if err == nil {
			last = aws.ToString(out.DBInstances[0].DBInstanceStatus)
			if last == want {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	h := e.srv.RDS().Health()
	t.Fatalf("instance %s: status %q, want %q after 60s; health %v", id, last, want, h)
}
