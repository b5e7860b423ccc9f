package ec2

import (
	"context"
	"fmt"
	"testing"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// BenchmarkDescribeInstances is the handler's share of the bench's
// ec2-describe scenario: 1,000 instances launched 100 at a time, each
// batch tagged Team=team-<batch mod 10>, then DescribeInstances filtered
// on tag:Team=team-3 (100 matches), without the codec or the network.
func BenchmarkDescribeInstances(b *testing.B) {
	s := New(state.NewMemory())
	ctx := api.WithRequest(context.Background(), &api.RequestInfo{Account: "000000000000", Region: "us-east-1"})
	for batch := range 10 {
		_, err := s.RunInstances(ctx, &ec2api.RunInstancesRequest{
			ImageId: new(benchImage(b, s, ctx)), InstanceType: new("t3.micro"),
			MinCount: new(int32(100)), MaxCount: new(int32(100)),
			TagSpecifications: []ec2api.TagSpecification{{ResourceType: new("instance"),
				Tags: []ec2api.Tag{{Key: new("Team"), Value: new(fmt.Sprintf("team-%d", batch))}}}},
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	cases := []struct {
		name string
		in   *ec2api.DescribeInstancesRequest
		want int
	}{
		{"tag 100 of 1000", &ec2api.DescribeInstancesRequest{Filters: []ec2api.Filter{{Name: new("tag:Team"), Values: []string{"team-3"}}}}, 100},
		{"all 1000", &ec2api.DescribeInstancesRequest{}, 1000},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				out, err := s.DescribeInstances(ctx, tc.in)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for _, r := range out.Reservations {
					n += len(r.Instances)
				}
				if n != tc.want {
					b.Fatalf("%d instances, want %d", n, tc.want)
				}
			}
		})
	}
}

// benchImage is the newest Amazon Linux 2023 x86_64 image, as the bench
// picks it.
func benchImage(b testing.TB, s *Service, ctx context.Context) string {
	b.Helper()
	out, err := s.DescribeImages(ctx, &ec2api.DescribeImagesRequest{Owners: []string{"amazon"},
		Filters: []ec2api.Filter{{Name: new("name"), Values: []string{"al2023-ami-2023*-x86_64"}}}})
	if err != nil || len(out.Images) == 0 {
		b.Fatalf("no al2023 image: %v", err)
	}
	return deref(out.Images[len(out.Images)-1].ImageId)
}
