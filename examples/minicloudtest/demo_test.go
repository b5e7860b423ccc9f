// Package demo shows minicloudtest used from another module, as a project
// of yours would: go get github.com/minicloud/minicloud, then import
// github.com/minicloud/minicloud/minicloudtest in a test. (This module
// replaces it with the repository it sits in.)
package demo

import (
	"context"
	"fmt"
	"net"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/minicloud/minicloud/minicloudtest"
)

// TestParallelClouds runs subtests at once, each with a minicloud of its
// own that builds the same names: the same VPC CIDR and the same hosted
// zone, each pointing app.example.test elsewhere. None sees another's.
func TestParallelClouds(t *testing.T) {
	for i, address := range []string{"192.0.2.10", "192.0.2.20", "192.0.2.30"} {
		t.Run(fmt.Sprint("cloud", i), func(t *testing.T) {
			t.Parallel()
			mc := minicloudtest.New(t)
			ctx := t.Context()

			client := ec2.NewFromConfig(mc.Config)
			if _, err := client.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")}); err != nil {
				t.Fatal(err)
			}
			vpcs, err := client.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{
				{Name: aws.String("cidr-block-association.cidr-block"), Values: []string{"10.0.0.0/16"}}}})
			if err != nil {
				t.Fatal(err)
			}
			if len(vpcs.Vpcs) != 1 {
				t.Errorf("%d VPCs of 10.0.0.0/16, want this cloud's one", len(vpcs.Vpcs))
			}

			r53 := route53.NewFromConfig(mc.Config)
			zone, err := r53.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("example.test"),
				CallerReference: aws.String(t.Name())})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: zone.HostedZone.Id,
				ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{Action: r53types.ChangeActionUpsert,
					ResourceRecordSet: &r53types.ResourceRecordSet{Name: aws.String("app.example.test"), Type: r53types.RRTypeA,
						TTL: aws.Int64(60), ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(address)}}}}}}}); err != nil {
				t.Fatal(err)
			}
			got, err := resolver(mc.DNSAddr).LookupHost(ctx, "app.example.test")
			if err != nil || len(got) != 1 || got[0] != address {
				t.Errorf("app.example.test on this cloud's DNS: %v, %v; want %s", got, err, address)
			}
		})
	}
}

// resolver asks only the DNS server at addr.
func resolver(addr string) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}
