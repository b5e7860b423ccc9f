package ec2_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestNatGateways(t *testing.T) {
	e := newEnv(t, "")
	c, ctx := e.ec2, e.ctx
	vpcID := vpcTCreate(t, c, "10.0.0.0/16")
	sub := vpcTSubnet(t, c, vpcID, "10.0.1.0/24", "")

	out := vpcTMust(c.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: &sub, ConnectivityType: types.ConnectivityTypePrivate,
		ClientToken:       aws.String("nat-token"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeNatgateway, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("n")}}}}}))
	n := out.NatGateway
	id := aws.ToString(n.NatGatewayId)
	if !strings.HasPrefix(id, "nat-") || n.State != types.NatGatewayStatePending || aws.ToString(n.VpcId) != vpcID || aws.ToString(n.SubnetId) != sub ||
		n.ConnectivityType != types.ConnectivityTypePrivate || len(n.NatGatewayAddresses) != 1 || aws.ToString(n.NatGatewayAddresses[0].PrivateIp) != "10.0.1.4" ||
		n.CreateTime == nil || len(n.Tags) != 1 || aws.ToString(out.ClientToken) != "nat-token" {
		t.Fatalf("CreateNatGateway: %+v", n)
	}
	again := vpcTMust(c.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: &sub, ConnectivityType: types.ConnectivityTypePrivate, ClientToken: aws.String("nat-token"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeNatgateway, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("n")}}}}}))
	if aws.ToString(again.NatGateway.NatGatewayId) != id {
		t.Fatal("client token did not make CreateNatGateway idempotent")
	}
	// Its network interface.
	if enis, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{aws.ToString(n.NatGatewayAddresses[0].NetworkInterfaceId)}}); err == nil {
		if len(enis.NetworkInterfaces) != 1 || enis.NetworkInterfaces[0].InterfaceType != "nat_gateway" || !aws.ToBool(enis.NetworkInterfaces[0].RequesterManaged) {
			t.Fatalf("NAT ENI: %+v", enis.NetworkInterfaces)
		}
	} else if !vpcTNotImplemented(err) {
		t.Fatal(err)
	}

	time.Sleep(1100 * time.Millisecond)
	got := vpcTMust(c.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{id}})).NatGateways
	if len(got) != 1 || got[0].State != types.NatGatewayStateAvailable {
		t.Fatalf("after a second: %+v", got)
	}
	for _, tc := range []struct {
		f    types.Filter
		want int
	}{
		{vpcTFilter("state", "available"), 1},
		{vpcTFilter("state", "pending"), 0},
		{vpcTFilter("subnet-id", sub), 1},
		{vpcTFilter("vpc-id", vpcID), 1},
		{vpcTFilter("nat-gateway-id", id), 1},
		{vpcTFilter("tag:Name", "n"), 1},
	} {
		if got := vpcTMust(c.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{Filter: []types.Filter{tc.f}})).NatGateways; len(got) != tc.want {
			t.Errorf("filter %s: got %d, want %d", aws.ToString(tc.f.Name), len(got), tc.want)
		}
	}

	for _, tc := range []struct {
		name string
		in   ec2.CreateNatGatewayInput
		code string
	}{
		{"public without EIP", ec2.CreateNatGatewayInput{SubnetId: &sub}, "MissingParameter"},
		{"private with EIP", ec2.CreateNatGatewayInput{SubnetId: &sub, ConnectivityType: types.ConnectivityTypePrivate, AllocationId: aws.String("eipalloc-0123456789abcdef0")}, "InvalidParameterCombination"},
		{"unknown EIP", ec2.CreateNatGatewayInput{SubnetId: &sub, AllocationId: aws.String("eipalloc-0123456789abcdef0")}, "InvalidAllocationID.NotFound"},
		{"unknown subnet", ec2.CreateNatGatewayInput{SubnetId: aws.String("subnet-0123456789abcdef0"), ConnectivityType: types.ConnectivityTypePrivate}, "InvalidSubnetID.NotFound"},
		{"IP in use", ec2.CreateNatGatewayInput{SubnetId: &sub, ConnectivityType: types.ConnectivityTypePrivate, PrivateIpAddress: aws.String("10.0.1.4")}, "InvalidIPAddress.InUse"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreateNatGateway(ctx, &tc.in)
			wantCode(t, err, tc.code)
		})
	}
	_, err := c.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{"nat-0123456789abcdef0"}})
	wantCode(t, err, "NatGatewayNotFound")
	_, err = c.DeleteNatGateway(ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: aws.String("nat-0123456789abcdef0")})
	wantCode(t, err, "NatGatewayNotFound")
	_, err = c.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{Filter: []types.Filter{vpcTFilter("bogus", "x")}})
	wantCode(t, err, "InvalidParameterValue")

	del := vpcTMust(c.DeleteNatGateway(ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: &id}))
	if aws.ToString(del.NatGatewayId) != id {
		t.Fatalf("DeleteNatGateway: %+v", del)
	}
	if got := vpcTMust(c.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{id}})).NatGateways; got[0].State != types.NatGatewayStateDeleting || got[0].DeleteTime == nil {
		t.Fatalf("after delete: %+v", got[0])
	}
	time.Sleep(1100 * time.Millisecond)
	if got := vpcTMust(c.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{id}})).NatGateways; got[0].State != types.NatGatewayStateDeleted {
		t.Fatalf("later: %+v", got[0])
	}
	// Deleting again is accepted while it is still listed.
	vpcTMust(c.DeleteNatGateway(ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: &id}))

	// Public NAT gateways take an EIP (when Elastic IPs are available).
	alloc, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	if vpcTNotImplemented(err) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	pub := vpcTMust(c.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: &sub, AllocationId: alloc.AllocationId})).NatGateway
	if a := pub.NatGatewayAddresses[0]; aws.ToString(a.PublicIp) != aws.ToString(alloc.PublicIp) || aws.ToString(a.AllocationId) != aws.ToString(alloc.AllocationId) || a.AssociationId == nil {
		t.Fatalf("public NAT address: %+v", a)
	}
	_, err = c.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: &sub, AllocationId: alloc.AllocationId})
	wantCode(t, err, "Resource.AlreadyAssociated")
	addrs := vpcTMust(c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{aws.ToString(alloc.AllocationId)}})).Addresses
	if len(addrs) != 1 || aws.ToString(addrs[0].NetworkInterfaceId) != aws.ToString(pub.NatGatewayAddresses[0].NetworkInterfaceId) {
		t.Fatalf("EIP after NAT: %+v", addrs)
	}
	vpcTMust(c.DeleteNatGateway(ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: pub.NatGatewayId}))
	addrs = vpcTMust(c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{aws.ToString(alloc.AllocationId)}})).Addresses
	if addrs[0].AssociationId != nil {
		t.Fatalf("EIP after NAT delete: %+v", addrs[0])
	}
}
