package ec2_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestInternetGateways(t *testing.T) {
	e := newEnv(t, "")
	c, ctx := e.ec2, e.ctx
	vpcA := vpcTCreate(t, c, "10.0.0.0/16")
	vpcB := vpcTCreate(t, c, "10.1.0.0/16")
	g := vpcTMust(c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInternetGateway, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("gw")}}}}})).InternetGateway
	id := aws.ToString(g.InternetGatewayId)
	if !strings.HasPrefix(id, "igw-") || len(g.Attachments) != 0 || aws.ToString(g.OwnerId) != "000000000000" || len(g.Tags) != 1 {
		t.Fatalf("CreateInternetGateway: %+v", g)
	}
	g2 := aws.ToString(vpcTMust(c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})).InternetGateway.InternetGatewayId)

	vpcTMust(c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: &id, VpcId: &vpcA}))
	got := vpcTMust(c.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{InternetGatewayIds: []string{id}})).InternetGateways
	if len(got) != 1 || len(got[0].Attachments) != 1 || aws.ToString(got[0].Attachments[0].VpcId) != vpcA || got[0].Attachments[0].State != "available" {
		t.Fatalf("after attach: %+v", got)
	}

	for _, tc := range []struct {
		name string
		call func() error
		code string
	}{
		{"attach twice", func() error {
			_, err := c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: &id, VpcId: &vpcB})
			return err
		}, "Resource.AlreadyAssociated"},
		{"VPC has a gateway", func() error {
			_, err := c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: &g2, VpcId: &vpcA})
			return err
		}, "Resource.AlreadyAssociated"},
		{"attach unknown VPC", func() error {
			_, err := c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: &g2, VpcId: aws.String("vpc-0123456789abcdef0")})
			return err
		}, "InvalidVpcID.NotFound"},
		{"attach unknown gateway", func() error {
			_, err := c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: aws.String("igw-0123456789abcdef0"), VpcId: &vpcB})
			return err
		}, "InvalidInternetGatewayID.NotFound"},
		{"detach from wrong VPC", func() error {
			_, err := c.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: &id, VpcId: &vpcB})
			return err
		}, "Gateway.NotAttached"},
		{"detach unattached", func() error {
			_, err := c.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: &g2, VpcId: &vpcB})
			return err
		}, "Gateway.NotAttached"},
		{"delete attached", func() error {
			_, err := c.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: &id})
			return err
		}, "DependencyViolation"},
		{"delete VPC with gateway", func() error {
			_, err := c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: &vpcA})
			return err
		}, "DependencyViolation"},
		{"describe malformed", func() error {
			_, err := c.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{InternetGatewayIds: []string{"igw-nope"}})
			return err
		}, "InvalidInternetGatewayID.Malformed"},
		{"describe bad filter", func() error {
			_, err := c.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: []types.Filter{vpcTFilter("attachment.nope", "x")}})
			return err
		}, "InvalidParameterValue"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.call(), tc.code) })
	}

	for _, tc := range []struct {
		f    types.Filter
		want int
	}{
		{vpcTFilter("attachment.vpc-id", vpcA), 1},
		{vpcTFilter("attachment.state", "available"), 2}, // with the default VPC's
		{vpcTFilter("internet-gateway-id", g2), 1},
		{vpcTFilter("owner-id", "000000000000"), 3},
		{vpcTFilter("tag:Name", "gw"), 1},
	} {
		if got := vpcTMust(c.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: []types.Filter{tc.f}})).InternetGateways; len(got) != tc.want {
			t.Errorf("filter %s: got %d, want %d", aws.ToString(tc.f.Name), len(got), tc.want)
		}
	}

	// A public address mapped in the VPC blocks detaching (needs EIPs).
	sub := vpcTSubnet(t, c, vpcA, "10.0.1.0/24", "")
	alloc, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	if err == nil {
		nat := vpcTMust(c.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: &sub, AllocationId: alloc.AllocationId})).NatGateway
		_, err = c.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: &id, VpcId: &vpcA})
		wantCode(t, err, "DependencyViolation")
		vpcTMust(c.DeleteNatGateway(ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: nat.NatGatewayId}))
	} else if !vpcTNotImplemented(err) {
		t.Fatal(err)
	}

	vpcTMust(c.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: &id, VpcId: &vpcA}))
	vpcTMust(c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: &g2, VpcId: &vpcA}))
	vpcTMust(c.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: &id}))
	_, err = c.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{InternetGatewayIds: []string{id}})
	wantCode(t, err, "InvalidInternetGatewayID.NotFound")
	// Tags work on gateways.
	vpcTMust(c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{g2}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}))
	if got := vpcTMust(c.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: []types.Filter{vpcTFilter("tag:k", "v")}})).InternetGateways; len(got) != 1 {
		t.Fatalf("tagged gateways: %+v", got)
	}
}
