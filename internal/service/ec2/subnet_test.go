package ec2_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

func TestCreateSubnet(t *testing.T) {
	e := newEnv(t, "")
	c, ctx := e.ec2, e.ctx
	vpcID := vpcTCreate(t, c, "10.0.0.0/16")
	out := vpcTMust(c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: &vpcID, CidrBlock: aws.String("10.0.1.0/24"), AvailabilityZone: aws.String("us-east-1c"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSubnet, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("a")}}}}}))
	s := out.Subnet
	id := aws.ToString(s.SubnetId)
	if !strings.HasPrefix(id, "subnet-") || aws.ToString(s.VpcId) != vpcID || aws.ToString(s.AvailabilityZone) != "us-east-1c" ||
		aws.ToString(s.AvailabilityZoneId) == "" || aws.ToInt32(s.AvailableIpAddressCount) != 251 || s.State != types.SubnetStateAvailable ||
		aws.ToBool(s.DefaultForAz) || aws.ToBool(s.MapPublicIpOnLaunch) || len(s.Tags) != 1 ||
		aws.ToString(s.SubnetArn) != "arn:aws:ec2:us-east-1:000000000000:subnet/"+id {
		t.Fatalf("CreateSubnet: %+v", s)
	}
	// By zone ID, and with no zone at all (AWS picks one).
	azs := vpcTMust(c.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{})).AvailabilityZones
	byID := vpcTMust(c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: &vpcID, CidrBlock: aws.String("10.0.2.0/24"), AvailabilityZoneId: azs[1].ZoneId})).Subnet
	if aws.ToString(byID.AvailabilityZone) != aws.ToString(azs[1].ZoneName) {
		t.Fatalf("by zone ID: %+v", byID)
	}
	picked := vpcTMust(c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: &vpcID, CidrBlock: aws.String("10.0.3.0/28")})).Subnet
	if aws.ToString(picked.AvailabilityZone) == "" || aws.ToInt32(picked.AvailableIpAddressCount) != 11 {
		t.Fatalf("picked zone: %+v", picked)
	}

	for _, tc := range []struct {
		name    string
		in      ec2.CreateSubnetInput
		code    string
		message string
	}{
		{"outside VPC", ec2.CreateSubnetInput{VpcId: &vpcID, CidrBlock: aws.String("10.1.0.0/24")}, "InvalidSubnet.Range", "The CIDR '10.1.0.0/24' is invalid."},
		{"larger than VPC", ec2.CreateSubnetInput{VpcId: &vpcID, CidrBlock: aws.String("10.0.0.0/15")}, "InvalidSubnet.Range", ""},
		{"too small", ec2.CreateSubnetInput{VpcId: &vpcID, CidrBlock: aws.String("10.0.9.0/29")}, "InvalidSubnet.Range", ""},
		{"overlap", ec2.CreateSubnetInput{VpcId: &vpcID, CidrBlock: aws.String("10.0.1.128/25")}, "InvalidSubnet.Conflict", "The CIDR '10.0.1.128/25' conflicts with another subnet"},
		{"bad cidr", ec2.CreateSubnetInput{VpcId: &vpcID, CidrBlock: aws.String("nope")}, "InvalidParameterValue", ""},
		{"bad zone", ec2.CreateSubnetInput{VpcId: &vpcID, CidrBlock: aws.String("10.0.9.0/24"), AvailabilityZone: aws.String("us-east-1z")}, "InvalidParameterValue",
			"Value (us-east-1z) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: us-east-1a, "},
		{"other region zone", ec2.CreateSubnetInput{VpcId: &vpcID, CidrBlock: aws.String("10.0.9.0/24"), AvailabilityZone: aws.String("eu-west-1a")}, "InvalidParameterValue", ""},
		{"bad zone ID", ec2.CreateSubnetInput{VpcId: &vpcID, CidrBlock: aws.String("10.0.9.0/24"), AvailabilityZoneId: aws.String("use1-az99")}, "InvalidParameterValue", ""},
		{"no VPC", ec2.CreateSubnetInput{VpcId: aws.String("vpc-0123456789abcdef0"), CidrBlock: aws.String("10.0.9.0/24")}, "InvalidVpcID.NotFound", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreateSubnet(ctx, &tc.in)
			wantCode(t, err, tc.code)
			var ae smithy.APIError
			if tc.message != "" && errors.As(err, &ae) && !strings.HasPrefix(ae.ErrorMessage(), tc.message) {
				t.Fatalf("message %q, want prefix %q", ae.ErrorMessage(), tc.message)
			}
		})
	}

	// Filters.
	for _, tc := range []struct {
		f    types.Filter
		want int
	}{
		{vpcTFilter("vpc-id", vpcID), 3},
		{vpcTFilter("availability-zone", "us-east-1c"), 2}, // mine and the default subnet there
		{vpcTFilter("cidr-block", "10.0.1.0/24"), 1},
		{vpcTFilter("cidr", "10.0.2.0/24"), 1},
		{vpcTFilter("subnet-id", id), 1},
		{vpcTFilter("subnet-arn", aws.ToString(s.SubnetArn)), 1},
		{vpcTFilter("tag:Name", "a"), 1},
		{vpcTFilter("available-ip-address-count", "251"), 2},
		{vpcTFilter("availability-zone-id", aws.ToString(azs[1].ZoneId)), 2},
	} {
		got := vpcTMust(c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{tc.f}})).Subnets
		if len(got) != tc.want {
			t.Errorf("filter %s=%v: got %d, want %d", aws.ToString(tc.f.Name), tc.f.Values, len(got), tc.want)
		}
	}
	_, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{vpcTFilter("nope", "x")}})
	wantCode(t, err, "InvalidParameterValue")
	_, err = c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{"subnet-0123456789abcdef0"}})
	wantCode(t, err, "InvalidSubnetID.NotFound")
	_, err = c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{"subnet-zz"}})
	wantCode(t, err, "InvalidSubnetID.Malformed")

	// ModifySubnetAttribute.
	vpcTMust(c.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: &id, MapPublicIpOnLaunch: &types.AttributeBooleanValue{Value: aws.Bool(true)}}))
	got := vpcTMust(c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{vpcTFilter("map-public-ip-on-launch", "true"), vpcTFilter("vpc-id", vpcID)}})).Subnets
	if len(got) != 1 || aws.ToString(got[0].SubnetId) != id {
		t.Fatalf("after ModifySubnetAttribute: %+v", got)
	}
	vpcTMust(c.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: &id, PrivateDnsHostnameTypeOnLaunch: types.HostnameTypeResourceName}))
	got = vpcTMust(c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{id}})).Subnets
	if got[0].PrivateDnsNameOptionsOnLaunch.HostnameType != types.HostnameTypeResourceName {
		t.Fatalf("hostname type: %+v", got[0].PrivateDnsNameOptionsOnLaunch)
	}
	_, err = c.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: &id, AssignIpv6AddressOnCreation: &types.AttributeBooleanValue{Value: aws.Bool(true)}})
	wantCode(t, err, "InvalidParameterValue")
	_, err = c.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: aws.String("subnet-0123456789abcdef0"), MapPublicIpOnLaunch: &types.AttributeBooleanValue{Value: aws.Bool(true)}})
	wantCode(t, err, "InvalidSubnetID.NotFound")

	// The subnet is associated with the VPC's default network ACL.
	if acls, err := c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{vpcTFilter("association.subnet-id", id)}}); err == nil {
		if len(acls.NetworkAcls) != 1 || !aws.ToBool(acls.NetworkAcls[0].IsDefault) {
			t.Fatalf("subnet's network ACL: %+v", acls.NetworkAcls)
		}
	}

	// Delete: a network interface in it (here a NAT gateway's) blocks it.
	nat := vpcTMust(c.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: &id, ConnectivityType: types.ConnectivityTypePrivate})).NatGateway
	if n := aws.ToInt32(vpcTMust(c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{id}})).Subnets[0].AvailableIpAddressCount); n != 250 {
		t.Fatalf("available IPs with a NAT gateway: %d", n)
	}
	_, err = c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: &id})
	wantCode(t, err, "DependencyViolation")
	vpcTMust(c.DeleteNatGateway(ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: nat.NatGatewayId}))
	// As in AWS, the subnet is busy until the NAT gateway is "deleted".
	_, err = c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: &id})
	wantCode(t, err, "DependencyViolation")
	time.Sleep(1100 * time.Millisecond)
	vpcTMust(c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: &id}))
	_, err = c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: &id})
	wantCode(t, err, "InvalidSubnetID.NotFound")
}
