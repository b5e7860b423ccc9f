package ec2_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestCreateNatGatewayChecks pins CreateNatGateway's errors with their
// messages and order: the request's own checks, then the subnet, then the
// Elastic IP.
func TestCreateNatGatewayChecks(t *testing.T) {
	e := newEnv(t, "")
	c, ctx := e.ec2, e.ctx
	vpcID := vpcTCreate(t, c, "10.0.0.0/16")
	sub := aws.String(vpcTSubnet(t, c, vpcID, "10.0.1.0/24", ""))
	unknownSubnet, unknownEIP := aws.String("subnet-0123456789abcdef0"), aws.String("eipalloc-0123456789abcdef0")
	alloc, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		in        ec2.CreateNatGatewayInput
		code, msg string
	}{
		{"connectivity type", ec2.CreateNatGatewayInput{SubnetId: sub, ConnectivityType: "carrier"},
			"InvalidParameterValue", "Value (carrier) for parameter connectivityType is invalid. Valid values are: public, private."},
		{"public without an Elastic IP", ec2.CreateNatGatewayInput{SubnetId: unknownSubnet},
			"MissingParameter", "The request must contain the parameter AllocationId"},
		{"private with an Elastic IP", ec2.CreateNatGatewayInput{SubnetId: sub, ConnectivityType: types.ConnectivityTypePrivate, AllocationId: alloc.AllocationId},
			"InvalidParameterCombination", "AllocationId cannot be specified for a private NAT gateway."},
		{"secondary addresses", ec2.CreateNatGatewayInput{SubnetId: sub, ConnectivityType: types.ConnectivityTypePrivate, SecondaryPrivateIpAddressCount: aws.Int32(2)},
			"InvalidParameterValue", "Secondary addresses of NAT gateways are not supported by minicloud."},
		{"tags of another type", ec2.CreateNatGatewayInput{SubnetId: unknownSubnet, AllocationId: unknownEIP,
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVpc, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}}}},
			"InvalidParameterValue", "'vpc' is not a valid taggable resource type for this operation."},
		{"subnet before Elastic IP", ec2.CreateNatGatewayInput{SubnetId: unknownSubnet, AllocationId: unknownEIP},
			"InvalidSubnetID.NotFound", "The subnet ID 'subnet-0123456789abcdef0' does not exist"},
		{"unknown Elastic IP", ec2.CreateNatGatewayInput{SubnetId: sub, AllocationId: unknownEIP},
			"InvalidAllocationID.NotFound", "The allocation ID 'eipalloc-0123456789abcdef0' does not exist"},
		{"address outside the subnet", ec2.CreateNatGatewayInput{SubnetId: sub, ConnectivityType: types.ConnectivityTypePrivate, PrivateIpAddress: aws.String("10.0.9.9")},
			"InvalidParameterValue", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreateNatGateway(ctx, &tc.in)
			wantError(t, err, tc.code, tc.msg)
		})
	}
	// The Elastic IP goes to the gateway's interface, and the token makes
	// a retry answer the same gateway.
	in := ec2.CreateNatGatewayInput{SubnetId: sub, AllocationId: alloc.AllocationId, ClientToken: aws.String("nat-1")}
	n, err := c.CreateNatGateway(ctx, &in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.CreateNatGateway(ctx, &in)
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(n.NatGateway.NatGatewayId)
	if aws.ToString(again.NatGateway.NatGatewayId) != id || aws.ToString(again.ClientToken) != "nat-1" || len(again.NatGateway.Tags) != 0 {
		t.Errorf("retry %+v, first %s", again.NatGateway, id)
	}
	a := n.NatGateway.NatGatewayAddresses[0]
	addr := vpcTMust(c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{aws.ToString(alloc.AllocationId)}})).Addresses[0]
	if aws.ToString(addr.AssociationId) != aws.ToString(a.AssociationId) || aws.ToString(addr.PrivateIpAddress) != aws.ToString(a.PrivateIp) ||
		aws.ToString(addr.NetworkInterfaceId) != aws.ToString(a.NetworkInterfaceId) || addr.InstanceId != nil {
		t.Errorf("address %+v, gateway address %+v", addr, a)
	}
	eni := vpcTMust(c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{aws.ToString(a.NetworkInterfaceId)}})).NetworkInterfaces[0]
	if eni.Association == nil || aws.ToString(eni.Association.PublicIp) != aws.ToString(alloc.PublicIp) || aws.ToString(eni.Description) != "Interface for NAT Gateway "+id ||
		eni.PrivateIpAddresses[0].Association == nil {
		t.Errorf("gateway interface %+v", eni)
	}
	in.ClientToken = aws.String("nat-1")
	in.ConnectivityType = types.ConnectivityTypePrivate
	in.AllocationId = nil
	_, err = c.CreateNatGateway(ctx, &in)
	wantCode(t, err, "IdempotentParameterMismatch")
}
