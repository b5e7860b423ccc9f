package elbv2_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"github.com/minicloud/minicloud/internal/sdktest"
	"github.com/minicloud/minicloud/internal/server"
)

// testEnv is a minicloud with the SDK's ELB and EC2 clients.
type testEnv struct {
	srv *server.Server
	elb *elb.Client
	ec2 *ec2.Client
	ctx context.Context
	url string
}

// newEnv starts an in-memory minicloud (cfg's other fields as given).
func newEnv(t *testing.T, cfg server.Config) *testEnv {
	t.Helper()
	if cfg.StateDir == "" {
		cfg.Ephemeral = true
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return envFor(srv, serve(t, srv))
}

// serve serves srv's API until the test ends (when srv closes too) and
// returns its URL.
func serve(t *testing.T, srv *server.Server) string {
	t.Helper()
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		_ = srv.Close(context.Background())
	})
	return hs.URL
}

func envFor(srv *server.Server, url string) *testEnv {
	c := aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint:     aws.String(url),
		RetryMaxAttempts: 1,
		HTTPClient:       sdktest.HTTPClient(),
	}
	return &testEnv{srv: srv, elb: elb.NewFromConfig(c), ec2: ec2.NewFromConfig(c), ctx: context.Background(), url: url}
}

// wantError fails unless err is AWS's error code with exactly message msg
// (msg "" checks the code only).
func wantError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s %q, got %v", code, msg, err)
	}
	if ae.ErrorCode() != code || (msg != "" && ae.ErrorMessage() != msg) {
		t.Fatalf("want %s %q,\n got %s %q", code, msg, ae.ErrorCode(), ae.ErrorMessage())
	}
}

// network is a VPC with an internet gateway and a subnet in each of two
// zones (and a third subnet in the first zone).
type network struct {
	vpc              string
	subnetA, subnetB string
	subnetA2         string
	defaultSG, sg    string
	cidr             string
}

var cidrSeq atomic.Int32

// newNetwork makes a network in a fresh 10.x.0.0/16.
func (e *testEnv) newNetwork(t *testing.T, igw bool) network {
	t.Helper()
	n := network{cidr: fmt.Sprintf("10.%d", 100+cidrSeq.Add(1))}
	v, err := e.ec2.CreateVpc(e.ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(n.cidr + ".0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	n.vpc = aws.ToString(v.Vpc.VpcId)
	sub := func(third, zone string) string {
		s, err := e.ec2.CreateSubnet(e.ctx, &ec2.CreateSubnetInput{VpcId: aws.String(n.vpc), CidrBlock: aws.String(n.cidr + "." + third + ".0/24"), AvailabilityZone: aws.String(zone)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(s.Subnet.SubnetId)
	}
	n.subnetA, n.subnetB, n.subnetA2 = sub("1", "us-east-1a"), sub("2", "us-east-1b"), sub("3", "us-east-1a")
	if igw {
		g, err := e.ec2.CreateInternetGateway(e.ctx, &ec2.CreateInternetGatewayInput{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.ec2.AttachInternetGateway(e.ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: g.InternetGateway.InternetGatewayId, VpcId: aws.String(n.vpc)}); err != nil {
			t.Fatal(err)
		}
	}
	sgs, err := e.ec2.DescribeSecurityGroups(e.ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{n.vpc}}, {Name: aws.String("group-name"), Values: []string{"default"}}}})
	if err != nil {
		t.Fatal(err)
	}
	n.defaultSG = aws.ToString(sgs.SecurityGroups[0].GroupId)
	sg, err := e.ec2.CreateSecurityGroup(e.ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("lb"), Description: aws.String("lb"), VpcId: aws.String(n.vpc)})
	if err != nil {
		t.Fatal(err)
	}
	n.sg = aws.ToString(sg.GroupId)
	return n
}

// newLB creates an internet-facing load balancer in n's two zones.
func (e *testEnv) newLB(t *testing.T, n network, name string) types.LoadBalancer {
	t.Helper()
	out, err := e.elb.CreateLoadBalancer(e.ctx, &elb.CreateLoadBalancerInput{Name: aws.String(name), Subnets: []string{n.subnetA, n.subnetB}})
	if err != nil {
		t.Fatal(err)
	}
	return out.LoadBalancers[0]
}

// newTG creates an HTTP target group of type instance on port 80 in n.
func (e *testEnv) newTG(t *testing.T, n network, name string) types.TargetGroup {
	t.Helper()
	out, err := e.elb.CreateTargetGroup(e.ctx, &elb.CreateTargetGroupInput{Name: aws.String(name), Protocol: types.ProtocolEnumHttp,
		Port: aws.Int32(80), VpcId: aws.String(n.vpc)})
	if err != nil {
		t.Fatal(err)
	}
	return out.TargetGroups[0]
}

// newListener creates an HTTP listener on port that forwards to tg.
func (e *testEnv) newListener(t *testing.T, lb, tg string, port int32) types.Listener {
	t.Helper()
	out, err := e.elb.CreateListener(e.ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(lb), Protocol: types.ProtocolEnumHttp,
		Port: aws.Int32(port), DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Listeners[0]
}

// runInstance launches an instance in subnet.
func (e *testEnv) runInstance(t *testing.T, subnet string) string {
	t.Helper()
	imgs, err := e.ec2.DescribeImages(e.ctx, &ec2.DescribeImagesInput{Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"al2023-ami-*-x86_64"}}}})
	if err != nil || len(imgs.Images) == 0 {
		t.Fatalf("no image: %v", err)
	}
	out, err := e.ec2.RunInstances(e.ctx, &ec2.RunInstancesInput{ImageId: imgs.Images[0].ImageId, MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(subnet)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Instances[0].InstanceId)
}

// waitState polls until load balancer arn's state is want, for up to 10 s.
func (e *testEnv) waitState(t *testing.T, arn, want string) types.LoadBalancer {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var last types.LoadBalancer
	for time.Now().Before(deadline) {
		out, err := e.elb.DescribeLoadBalancers(e.ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{arn}})
		if err != nil {
			t.Fatal(err)
		}
		last = out.LoadBalancers[0]
		if string(last.State.Code) == want {
			return last
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("load balancer %s: state %s, want %s; health %v", arn, last.State.Code, want, e.srv.ELB().Health())
	return last
}
