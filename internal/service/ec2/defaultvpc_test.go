package ec2_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// vpcTFilter builds one Describe filter.
func vpcTFilter(name string, values ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: values}
}

// vpcTMust returns v, or fails the running test (by panicking, which the
// testing package reports with the stack) on err.
func vpcTMust[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// vpcTNotImplemented reports whether err is minicloud's NotImplemented
// answer (an operation another part of EC2 has not landed yet).
func vpcTNotImplemented(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "NotImplemented"
}

func TestDefaultVPCLayout(t *testing.T) {
	e := newEnv(t, "")
	c, ctx := e.ec2, e.ctx

	vpcs := vpcTMust(c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})).Vpcs
	if len(vpcs) != 1 {
		t.Fatalf("want 1 default VPC, got %d", len(vpcs))
	}
	v := vpcs[0]
	if !aws.ToBool(v.IsDefault) || aws.ToString(v.CidrBlock) != "172.31.0.0/16" || v.State != types.VpcStateAvailable ||
		aws.ToString(v.OwnerId) != "000000000000" && aws.ToString(v.OwnerId) == "" || v.InstanceTenancy != types.TenancyDefault {
		t.Fatalf("default VPC: %+v", v)
	}
	if len(v.CidrBlockAssociationSet) != 1 || v.CidrBlockAssociationSet[0].CidrBlockState.State != types.VpcCidrBlockStateCodeAssociated {
		t.Fatalf("cidr associations: %+v", v.CidrBlockAssociationSet)
	}
	vpcID := aws.ToString(v.VpcId)

	for _, attr := range []types.VpcAttributeName{types.VpcAttributeNameEnableDnsSupport, types.VpcAttributeNameEnableDnsHostnames} {
		a := vpcTMust(c.DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: v.VpcId, Attribute: attr}))
		if a.EnableDnsSupport != nil && !aws.ToBool(a.EnableDnsSupport.Value) || a.EnableDnsHostnames != nil && !aws.ToBool(a.EnableDnsHostnames.Value) {
			t.Fatalf("%s: want true", attr)
		}
	}

	subs := vpcTMust(c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{vpcTFilter("default-for-az", "true")}})).Subnets
	azs := vpcTMust(c.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{})).AvailabilityZones
	if len(subs) != len(azs) {
		t.Fatalf("want one default subnet per AZ (%d), got %d", len(azs), len(subs))
	}
	byAZ := map[string]types.Subnet{}
	for _, s := range subs {
		byAZ[aws.ToString(s.AvailabilityZone)] = s
	}
	for i, az := range azs {
		s, ok := byAZ[aws.ToString(az.ZoneName)]
		if !ok {
			t.Fatalf("no default subnet in %s", aws.ToString(az.ZoneName))
		}
		want := fmt.Sprintf("172.31.%d.0/20", 16*i)
		if aws.ToString(s.CidrBlock) != want || !aws.ToBool(s.MapPublicIpOnLaunch) || aws.ToString(s.AvailabilityZoneId) != aws.ToString(az.ZoneId) ||
			aws.ToInt32(s.AvailableIpAddressCount) != 4091 || aws.ToString(s.VpcId) != vpcID {
			t.Fatalf("subnet %d: want %s, got %+v", i, want, s)
		}
	}

	igws := vpcTMust(c.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{
		Filters: []types.Filter{vpcTFilter("attachment.vpc-id", vpcID)}})).InternetGateways
	if len(igws) != 1 || len(igws[0].Attachments) != 1 || igws[0].Attachments[0].State != types.AttachmentStatus("available") {
		t.Fatalf("igw: %+v", igws)
	}
	igwID := aws.ToString(igws[0].InternetGatewayId)

	rtbs := vpcTMust(c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{
		Filters: []types.Filter{vpcTFilter("vpc-id", vpcID), vpcTFilter("association.main", "true")}})).RouteTables
	if len(rtbs) != 1 {
		t.Fatalf("main route tables: %d", len(rtbs))
	}
	routes := map[string]types.Route{}
	for _, r := range rtbs[0].Routes {
		routes[aws.ToString(r.DestinationCidrBlock)] = r
	}
	if r := routes["172.31.0.0/16"]; aws.ToString(r.GatewayId) != "local" || r.State != types.RouteStateActive || r.Origin != types.RouteOriginCreateRouteTable {
		t.Fatalf("local route: %+v", r)
	}
	if r := routes["0.0.0.0/0"]; aws.ToString(r.GatewayId) != igwID || r.State != types.RouteStateActive {
		t.Fatalf("default route: %+v", r)
	}

	sgs, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{vpcTFilter("vpc-id", vpcID)}})
	if err == nil {
		if len(sgs.SecurityGroups) != 1 || aws.ToString(sgs.SecurityGroups[0].GroupName) != "default" {
			t.Fatalf("security groups: %+v", sgs.SecurityGroups)
		}
	} else if !vpcTNotImplemented(err) {
		t.Fatal(err)
	}
	acls, err := c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{vpcTFilter("vpc-id", vpcID)}})
	if err == nil {
		if len(acls.NetworkAcls) != 1 || !aws.ToBool(acls.NetworkAcls[0].IsDefault) || len(acls.NetworkAcls[0].Associations) != len(azs) {
			t.Fatalf("network ACLs: %+v", acls.NetworkAcls)
		}
	} else if !vpcTNotImplemented(err) {
		t.Fatal(err)
	}

	// A second look does not create a second default VPC.
	if n := len(vpcTMust(c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})).Vpcs); n != 1 {
		t.Fatalf("VPCs after second describe: %d", n)
	}
	_, err = c.CreateDefaultVpc(ctx, &ec2.CreateDefaultVpcInput{})
	wantCode(t, err, "DefaultVpcAlreadyExists")
	_, err = c.CreateDefaultSubnet(ctx, &ec2.CreateDefaultSubnetInput{AvailabilityZone: azs[0].ZoneName})
	wantCode(t, err, "DefaultSubnetAlreadyExistsInAvailabilityZone")
	_, err = c.CreateDefaultSubnet(ctx, &ec2.CreateDefaultSubnetInput{AvailabilityZone: aws.String("us-east-1z")})
	wantCode(t, err, "InvalidParameterValue")

	// Tear the default VPC down as a user would; it stays gone.
	_, err = c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: v.VpcId})
	wantCode(t, err, "DependencyViolation")
	// CreateDefaultSubnet refills a zone whose default subnet was deleted.
	vpcTMust(c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: subs[0].SubnetId}))
	ns := vpcTMust(c.CreateDefaultSubnet(ctx, &ec2.CreateDefaultSubnetInput{AvailabilityZone: subs[0].AvailabilityZone})).Subnet
	if aws.ToString(ns.CidrBlock) != aws.ToString(subs[0].CidrBlock) || !aws.ToBool(ns.DefaultForAz) {
		t.Fatalf("recreated default subnet: %+v", ns)
	}
	subs[0] = *ns
	for _, s := range subs {
		vpcTMust(c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: s.SubnetId}))
	}
	vpcTMust(c.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: &igwID, VpcId: &vpcID}))
	vpcTMust(c.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: &igwID}))
	vpcTMust(c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: &vpcID}))
	if n := len(vpcTMust(c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})).Vpcs); n != 0 {
		t.Fatalf("deleted default VPC came back: %d VPCs", n)
	}
	if n := len(vpcTMust(c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{})).RouteTables); n != 0 {
		t.Fatalf("route tables left after DeleteVpc: %d", n)
	}
	_, err = c.CreateDefaultSubnet(ctx, &ec2.CreateDefaultSubnetInput{AvailabilityZone: azs[0].ZoneName})
	wantCode(t, err, "DefaultVpcDoesNotExist")

	nv := vpcTMust(c.CreateDefaultVpc(ctx, &ec2.CreateDefaultVpcInput{})).Vpc
	if !aws.ToBool(nv.IsDefault) || aws.ToString(nv.CidrBlock) != "172.31.0.0/16" {
		t.Fatalf("CreateDefaultVpc: %+v", nv)
	}
	subs = vpcTMust(c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{vpcTFilter("vpc-id", aws.ToString(nv.VpcId))}})).Subnets
	if len(subs) != len(azs) {
		t.Fatalf("CreateDefaultVpc subnets: %d", len(subs))
	}
}

// TestDefaultVPCPerRegionAndAccount checks each account and region gets
// its own default VPC, with the region's zones.
func TestDefaultVPCPerRegionAndAccount(t *testing.T) {
	e := newEnv(t, "")
	seen := map[string]bool{}
	for _, tc := range []struct{ region, key string }{{"us-east-1", "test"}, {"eu-west-1", "test"}, {"us-east-1", "111111111111"}, {"xx-north-9", "test"}} {
		c := ec2Client(e.url, tc.region, tc.key)
		vpcs := vpcTMust(c.DescribeVpcs(e.ctx, &ec2.DescribeVpcsInput{})).Vpcs
		if len(vpcs) != 1 {
			t.Fatalf("%v: %d VPCs", tc, len(vpcs))
		}
		id := aws.ToString(vpcs[0].VpcId)
		if seen[id] {
			t.Fatalf("%v: VPC %s shared", tc, id)
		}
		seen[id] = true
		subs := vpcTMust(c.DescribeSubnets(e.ctx, &ec2.DescribeSubnetsInput{})).Subnets
		azs := vpcTMust(c.DescribeAvailabilityZones(e.ctx, &ec2.DescribeAvailabilityZonesInput{})).AvailabilityZones
		if len(subs) != len(azs) {
			t.Fatalf("%v: %d subnets for %d zones", tc, len(subs), len(azs))
		}
		for _, s := range subs {
			if want := fmt.Sprintf("arn:aws:ec2:%s:", tc.region); len(aws.ToString(s.SubnetArn)) < len(want) || aws.ToString(s.SubnetArn)[:len(want)] != want {
				t.Fatalf("subnet ARN %s", aws.ToString(s.SubnetArn))
			}
		}
	}
}
