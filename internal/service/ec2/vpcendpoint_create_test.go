package ec2_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestCreateVpcEndpointChecks pins CreateVpcEndpoint's errors with their
// messages and order (the request's own checks, then the VPC, the service
// and what the endpoint's type allows), and its idempotency token.
func TestCreateVpcEndpointChecks(t *testing.T) {
	e := newEnv(t, "")
	c, ctx := e.ec2, e.ctx
	vpcID := vpcTCreate(t, c, "10.0.0.0/16")
	sub := vpcTSubnet(t, c, vpcID, "10.0.1.0/24", "us-east-1a")
	rtb := aws.ToString(vpcTMust(c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: &vpcID})).RouteTable.RouteTableId)
	s3, ssm, dynamo := aws.String("com.amazonaws.us-east-1.s3"), aws.String("com.amazonaws.us-east-1.ssm"), aws.String("com.amazonaws.us-east-1.dynamodb")
	unknownVPC := aws.String("vpc-0123456789abcdef0")
	tests := []struct {
		name      string
		in        ec2.CreateVpcEndpointInput
		code, msg string
	}{
		{"no service", ec2.CreateVpcEndpointInput{VpcId: &vpcID},
			"MissingParameter", "The request must contain the parameter ServiceName"},
		{"load balancer type", ec2.CreateVpcEndpointInput{VpcId: &vpcID, ServiceName: s3, VpcEndpointType: types.VpcEndpointTypeGatewayLoadBalancer},
			"InvalidServiceName", "The Vpc Endpoint Service 'com.amazonaws.us-east-1.s3' does not exist"},
		{"unknown type", ec2.CreateVpcEndpointInput{VpcId: &vpcID, ServiceName: s3, VpcEndpointType: "Tunnel"},
			"InvalidParameterValue", "Value (Tunnel) for parameter vpcEndpointType is invalid."},
		{"dual stack", ec2.CreateVpcEndpointInput{VpcId: &vpcID, ServiceName: s3, IpAddressType: types.IpAddressTypeDualstack},
			"InvalidParameterValue", "IpAddressType dualstack is not supported by minicloud; use ipv4."},
		{"tags of another type", ec2.CreateVpcEndpointInput{VpcId: &vpcID, ServiceName: s3,
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVpc, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}}}},
			"InvalidParameterValue", "'vpc' is not a valid taggable resource type for this operation."},
		{"unknown VPC before the type's rules", ec2.CreateVpcEndpointInput{VpcId: unknownVPC, ServiceName: s3, SubnetIds: []string{sub}},
			"InvalidVpcID.NotFound", "The vpc ID 'vpc-0123456789abcdef0' does not exist"},
		{"unknown service", ec2.CreateVpcEndpointInput{VpcId: &vpcID, ServiceName: aws.String("com.amazonaws.us-east-1.nope")},
			"InvalidServiceName", "The Vpc Endpoint Service 'com.amazonaws.us-east-1.nope' does not exist"},
		{"service without the type", ec2.CreateVpcEndpointInput{VpcId: &vpcID, ServiceName: dynamo, VpcEndpointType: types.VpcEndpointTypeInterface},
			"InvalidParameter", "The VPC endpoint service com.amazonaws.us-east-1.dynamodb does not support the VPC endpoint type Interface."},
		{"gateway with subnets", ec2.CreateVpcEndpointInput{VpcId: &vpcID, ServiceName: s3, SubnetIds: []string{sub}},
			"InvalidParameter", "Subnets and security groups are not supported for Gateway VPC endpoints."},
		{"gateway with private DNS", ec2.CreateVpcEndpointInput{VpcId: &vpcID, ServiceName: s3, PrivateDnsEnabled: aws.Bool(true)},
			"InvalidParameter", "PrivateDnsEnabled is not supported for Gateway VPC endpoints."},
		{"gateway with an unknown route table", ec2.CreateVpcEndpointInput{VpcId: &vpcID, ServiceName: s3, RouteTableIds: []string{"rtb-0123456789abcdef0"}},
			"InvalidRouteTableID.NotFound", "The routeTable ID 'rtb-0123456789abcdef0' does not exist"},
		{"interface with route tables", ec2.CreateVpcEndpointInput{VpcId: &vpcID, ServiceName: ssm, VpcEndpointType: types.VpcEndpointTypeInterface, RouteTableIds: []string{rtb}},
			"InvalidParameter", "Route tables are not supported for Interface VPC endpoints."},
		{"private DNS without DNS hostnames", ec2.CreateVpcEndpointInput{VpcId: &vpcID, ServiceName: ssm, VpcEndpointType: types.VpcEndpointTypeInterface, SubnetIds: []string{sub}},
			"InvalidParameter", "Enabling private DNS requires both enableDnsSupport and enableDnsHostnames VPC attributes set to true for " + vpcID},
		{"unknown group", ec2.CreateVpcEndpointInput{VpcId: &vpcID, ServiceName: ssm, VpcEndpointType: types.VpcEndpointTypeInterface, PrivateDnsEnabled: aws.Bool(false),
			SecurityGroupIds: []string{"sg-0123456789abcdef0"}},
			"InvalidGroup.NotFound", "The security group 'sg-0123456789abcdef0' does not exist"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreateVpcEndpoint(ctx, &tc.in)
			wantError(t, err, tc.code, tc.msg)
		})
	}

	// A retry with the same token gets the same endpoint, answered as
	// when it was new; another request with that token is refused.
	in := ec2.CreateVpcEndpointInput{VpcId: &vpcID, ServiceName: ssm, VpcEndpointType: types.VpcEndpointTypeInterface, PrivateDnsEnabled: aws.Bool(false),
		SubnetIds: []string{sub}, ClientToken: aws.String("vpce-token")}
	first, err := c.CreateVpcEndpoint(ctx, &in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.CreateVpcEndpoint(ctx, &in)
	if err != nil {
		t.Fatal(err)
	}
	if id := aws.ToString(first.VpcEndpoint.VpcEndpointId); aws.ToString(again.VpcEndpoint.VpcEndpointId) != id ||
		aws.ToString(again.ClientToken) != "vpce-token" || again.VpcEndpoint.State != "pending" || aws.ToBool(again.VpcEndpoint.PrivateDnsEnabled) {
		t.Errorf("retry: %+v (token %q), first %s", again.VpcEndpoint, aws.ToString(again.ClientToken), id)
	}
	in.SubnetIds = nil
	_, err = c.CreateVpcEndpoint(ctx, &in)
	wantCode(t, err, "IdempotentParameterMismatch")
	// Without a token the answer has none.
	g, err := c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: &vpcID, ServiceName: s3, RouteTableIds: []string{rtb}})
	if err != nil {
		t.Fatal(err)
	}
	if g.ClientToken != nil || g.VpcEndpoint.State != "available" {
		t.Errorf("gateway endpoint: %+v (token %v)", g.VpcEndpoint, g.ClientToken)
	}
}
