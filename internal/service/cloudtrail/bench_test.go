package cloudtrail

import (
	"context"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/ec2api"
)

// describeVpcsCall is a cheap read-only call as the gateway hands it over.
func describeVpcsCall() *api.Call {
	return &api.Call{Info: api.RequestInfo{RequestID: "r-1", Service: "ec2", Operation: "DescribeVpcs", Region: "us-east-1",
		AccessKey: "test", Account: "000000000000", Caller: "arn:aws:iam::000000000000:root", CallerUserID: "000000000000"},
		Time: time.Now(), SourceIP: "127.0.0.1", UserAgent: "aws-sdk-go-v2/1.0", Service: ec2api.Info,
		Op: ec2api.Info.Model().Operations["DescribeVpcs"], Protocol: "ec2", Input: &ec2api.DescribeVpcsRequest{},
		Output: &ec2api.DescribeVpcsResult{Vpcs: []ec2api.Vpc{{VpcId: new("vpc-1"), CidrBlock: new("172.31.0.0/16")}}}}
}

// BenchmarkNewEntry is the writer's work per event, off the request path.
func BenchmarkNewEntry(b *testing.B) {
	c := describeVpcsCall()
	b.ReportAllocs()
	for b.Loop() {
		newEntry(c)
	}
}

// BenchmarkRecordDurable is Record plus the writer's share, sequential
// calls each waiting for its event to be durable.
func BenchmarkRecordDurable(b *testing.B) {
	s, err := New(Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	_ = s.Start(context.Background())
	defer s.Stop(context.Background())
	c := describeVpcsCall()
	for b.Loop() {
		s.Record(c)
	}
	s.Flush(context.Background())
}
