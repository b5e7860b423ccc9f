package ec2_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestPrefixLists(t *testing.T) {
	e := newEnv(t, "")
	c, ctx := e.ec2, e.ctx
	pls := vpcTMust(c.DescribePrefixLists(ctx, &ec2.DescribePrefixListsInput{})).PrefixLists
	if len(pls) != 2 {
		t.Fatalf("prefix lists: %+v", pls)
	}
	names := map[string]types.PrefixList{}
	for _, p := range pls {
		names[aws.ToString(p.PrefixListName)] = p
		if !strings.HasPrefix(aws.ToString(p.PrefixListId), "pl-") || len(aws.ToString(p.PrefixListId)) != 11 || len(p.Cidrs) == 0 {
			t.Fatalf("prefix list: %+v", p)
		}
	}
	s3 := names["com.amazonaws.us-east-1.s3"]
	if s3.PrefixListId == nil || names["com.amazonaws.us-east-1.dynamodb"].PrefixListId == nil {
		t.Fatalf("names: %v", names)
	}
	// IDs are stable, and differ per region.
	again := vpcTMust(newEnv(t, "").ec2.DescribePrefixLists(ctx, &ec2.DescribePrefixListsInput{PrefixListIds: []string{aws.ToString(s3.PrefixListId)}})).PrefixLists
	if len(again) != 1 || aws.ToString(again[0].PrefixListName) != "com.amazonaws.us-east-1.s3" {
		t.Fatalf("stable ID: %+v", again)
	}
	west := vpcTMust(ec2Client(e.url, "us-west-2", "test").DescribePrefixLists(ctx, &ec2.DescribePrefixListsInput{
		Filters: []types.Filter{vpcTFilter("prefix-list-name", "com.amazonaws.us-west-2.s3")}})).PrefixLists
	if len(west) != 1 || aws.ToString(west[0].PrefixListId) == aws.ToString(s3.PrefixListId) {
		t.Fatalf("us-west-2: %+v", west)
	}
	m := vpcTMust(c.DescribeManagedPrefixLists(ctx, &ec2.DescribeManagedPrefixListsInput{PrefixListIds: []string{aws.ToString(s3.PrefixListId)}})).PrefixLists
	if len(m) != 1 || aws.ToString(m[0].OwnerId) != "AWS" || aws.ToString(m[0].AddressFamily) != "IPv4" || m[0].State != types.PrefixListStateCreateComplete ||
		aws.ToString(m[0].PrefixListArn) != "arn:aws:ec2:us-east-1:aws:prefix-list/"+aws.ToString(s3.PrefixListId) {
		t.Fatalf("managed: %+v", m)
	}
	entries := vpcTMust(c.GetManagedPrefixListEntries(ctx, &ec2.GetManagedPrefixListEntriesInput{PrefixListId: s3.PrefixListId})).Entries
	if len(entries) != len(s3.Cidrs) || aws.ToString(entries[0].Cidr) != s3.Cidrs[0] {
		t.Fatalf("entries: %+v", entries)
	}
	_, err := c.GetManagedPrefixListEntries(ctx, &ec2.GetManagedPrefixListEntriesInput{PrefixListId: aws.String("pl-00000000")})
	wantCode(t, err, "InvalidPrefixListID.NotFound")
	_, err = c.DescribePrefixLists(ctx, &ec2.DescribePrefixListsInput{PrefixListIds: []string{"pl-00000000"}})
	wantCode(t, err, "InvalidPrefixListID.NotFound")
	_, err = c.DescribeManagedPrefixLists(ctx, &ec2.DescribeManagedPrefixListsInput{Filters: []types.Filter{vpcTFilter("nope", "x")}})
	wantCode(t, err, "InvalidParameterValue")
}

func TestVpcEndpoints(t *testing.T) {
	e := newEnv(t, "")
	c, ctx := e.ec2, e.ctx
	vpcID := vpcTCreate(t, c, "10.0.0.0/16")
	subA := vpcTSubnet(t, c, vpcID, "10.0.1.0/24", "us-east-1a")
	subA2 := vpcTSubnet(t, c, vpcID, "10.0.3.0/24", "us-east-1a")
	subB := vpcTSubnet(t, c, vpcID, "10.0.2.0/24", "us-east-1b")
	rtb := aws.ToString(vpcTMust(c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: &vpcID})).RouteTable.RouteTableId)
	rtb2 := aws.ToString(vpcTMust(c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: &vpcID})).RouteTable.RouteTableId)
	s3pl := aws.ToString(vpcTMust(c.DescribePrefixLists(ctx, &ec2.DescribePrefixListsInput{Filters: []types.Filter{vpcTFilter("prefix-list-name", "com.amazonaws.us-east-1.s3")}})).PrefixLists[0].PrefixListId)

	svcs := vpcTMust(c.DescribeVpcEndpointServices(ctx, &ec2.DescribeVpcEndpointServicesInput{}))
	for _, want := range []string{"com.amazonaws.us-east-1.s3", "com.amazonaws.us-east-1.dynamodb", "com.amazonaws.us-east-1.ssm", "com.amazonaws.us-east-1.ecr.dkr", "com.amazonaws.us-east-1.execute-api"} {
		if !slices.Contains(svcs.ServiceNames, want) {
			t.Errorf("service %s missing", want)
		}
	}
	gw := vpcTMust(c.DescribeVpcEndpointServices(ctx, &ec2.DescribeVpcEndpointServicesInput{Filters: []types.Filter{vpcTFilter("service-type", "Gateway")}})).ServiceDetails
	if len(gw) != 2 {
		t.Fatalf("gateway services: %+v", gw)
	}
	_, err := c.DescribeVpcEndpointServices(ctx, &ec2.DescribeVpcEndpointServicesInput{ServiceNames: []string{"com.amazonaws.us-east-1.nope"}})
	wantCode(t, err, "InvalidServiceName")

	// Gateway endpoint: a prefix-list route in each route table.
	g := vpcTMust(c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: &vpcID, ServiceName: aws.String("com.amazonaws.us-east-1.s3"), RouteTableIds: []string{rtb}})).VpcEndpoint
	gid := aws.ToString(g.VpcEndpointId)
	if !strings.HasPrefix(gid, "vpce-") || g.VpcEndpointType != types.VpcEndpointTypeGateway || g.State != "available" || len(g.RouteTableIds) != 1 || aws.ToString(g.PolicyDocument) == "" {
		t.Fatalf("gateway endpoint: %+v", g)
	}
	r := vpcTRoutes(t, c, rtb)[s3pl]
	if aws.ToString(r.GatewayId) != gid || r.State != types.RouteStateActive {
		t.Fatalf("endpoint route: %+v", r)
	}
	vpcTMust(c.ModifyVpcEndpoint(ctx, &ec2.ModifyVpcEndpointInput{VpcEndpointId: &gid, AddRouteTableIds: []string{rtb2}, RemoveRouteTableIds: []string{rtb}}))
	if _, ok := vpcTRoutes(t, c, rtb)[s3pl]; ok {
		t.Fatal("route left in removed route table")
	}
	if r := vpcTRoutes(t, c, rtb2)[s3pl]; aws.ToString(r.GatewayId) != gid {
		t.Fatalf("route in added table: %+v", r)
	}
	_, err = c.DeleteRoute(ctx, &ec2.DeleteRouteInput{RouteTableId: &rtb2, DestinationPrefixListId: &s3pl})
	wantCode(t, err, "InvalidParameterValue")
	_, err = c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &rtb, DestinationCidrBlock: aws.String("1.0.0.0/8"), VpcEndpointId: &gid})
	wantCode(t, err, "RouteNotSupported")

	// Interface endpoint: private DNS needs DNS hostnames on the VPC.
	_, err = c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: &vpcID, VpcEndpointType: types.VpcEndpointTypeInterface,
		ServiceName: aws.String("com.amazonaws.us-east-1.ssm"), SubnetIds: []string{subA}})
	wantCode(t, err, "InvalidParameter")
	vpcTMust(c.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: &vpcID, EnableDnsHostnames: &types.AttributeBooleanValue{Value: aws.Bool(true)}}))
	_, err = c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: &vpcID, VpcEndpointType: types.VpcEndpointTypeInterface,
		ServiceName: aws.String("com.amazonaws.us-east-1.ssm"), SubnetIds: []string{subA, subA2}})
	wantCode(t, err, "DuplicateSubnetsInSameZone")
	iface := vpcTMust(c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: &vpcID, VpcEndpointType: types.VpcEndpointTypeInterface,
		ServiceName: aws.String("com.amazonaws.us-east-1.ssm"), SubnetIds: []string{subA},
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVpcEndpoint, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("ssm")}}}}})).VpcEndpoint
	iid := aws.ToString(iface.VpcEndpointId)
	if iface.State != "pending" || !aws.ToBool(iface.PrivateDnsEnabled) || len(iface.NetworkInterfaceIds) != 1 || len(iface.Groups) != 1 ||
		aws.ToString(iface.Groups[0].GroupName) != "default" || len(iface.Tags) != 1 {
		t.Fatalf("interface endpoint: %+v", iface)
	}
	var dns []string
	for _, d := range iface.DnsEntries {
		dns = append(dns, aws.ToString(d.DnsName))
	}
	if len(dns) != 3 || !strings.HasPrefix(dns[0], iid+"-") || !strings.HasSuffix(dns[0], ".ssm.us-east-1.vpce.amazonaws.com") ||
		!strings.Contains(dns[1], "-us-east-1a.ssm.") || dns[2] != "ssm.us-east-1.amazonaws.com" {
		t.Fatalf("DNS entries: %v", dns)
	}
	// Its network interface occupies the subnet.
	_, err = c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: &subA})
	wantCode(t, err, "DependencyViolation")
	vpcTMust(c.ModifyVpcEndpoint(ctx, &ec2.ModifyVpcEndpointInput{VpcEndpointId: &iid, AddSubnetIds: []string{subB}, RemoveSubnetIds: []string{subA}, PrivateDnsEnabled: aws.Bool(false)}))
	got := vpcTMust(c.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{iid}})).VpcEndpoints[0]
	if got.State != "available" || len(got.SubnetIds) != 1 || got.SubnetIds[0] != subB || aws.ToBool(got.PrivateDnsEnabled) || len(got.DnsEntries) != 2 {
		t.Fatalf("after modify: %+v", got)
	}
	vpcTMust(c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: &subA}))

	for _, tc := range []struct {
		f    types.Filter
		want int
	}{
		{vpcTFilter("vpc-endpoint-type", "Interface"), 1},
		{vpcTFilter("service-name", "com.amazonaws.us-east-1.s3"), 1},
		{vpcTFilter("vpc-id", vpcID), 2},
		{vpcTFilter("vpc-endpoint-state", "available"), 2},
		{vpcTFilter("tag:Name", "ssm"), 1},
	} {
		if got := vpcTMust(c.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{Filters: []types.Filter{tc.f}})).VpcEndpoints; len(got) != tc.want {
			t.Errorf("filter %s: got %d, want %d", aws.ToString(tc.f.Name), len(got), tc.want)
		}
	}

	for _, tc := range []struct {
		name string
		in   ec2.CreateVpcEndpointInput
		code string
	}{
		{"unknown service", ec2.CreateVpcEndpointInput{VpcId: &vpcID, ServiceName: aws.String("com.amazonaws.us-east-1.nope")}, "InvalidServiceName"},
		{"gateway type for interface service", ec2.CreateVpcEndpointInput{VpcId: &vpcID, ServiceName: aws.String("com.amazonaws.us-east-1.ssm")}, "InvalidParameter"},
		{"unknown VPC", ec2.CreateVpcEndpointInput{VpcId: aws.String("vpc-0123456789abcdef0"), ServiceName: aws.String("com.amazonaws.us-east-1.s3")}, "InvalidVpcID.NotFound"},
		{"route exists", ec2.CreateVpcEndpointInput{VpcId: &vpcID, ServiceName: aws.String("com.amazonaws.us-east-1.s3"), RouteTableIds: []string{rtb2}}, "RouteAlreadyExists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreateVpcEndpoint(ctx, &tc.in)
			wantCode(t, err, tc.code)
		})
	}
	_, err = c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: &vpcID})
	wantCode(t, err, "DependencyViolation")

	del := vpcTMust(c.DeleteVpcEndpoints(ctx, &ec2.DeleteVpcEndpointsInput{VpcEndpointIds: []string{gid, iid, "vpce-0123456789abcdef0"}}))
	if len(del.Unsuccessful) != 1 || aws.ToString(del.Unsuccessful[0].ResourceId) != "vpce-0123456789abcdef0" || aws.ToString(del.Unsuccessful[0].Error.Code) != "InvalidVpcEndpoint.NotFound" {
		t.Fatalf("DeleteVpcEndpoints: %+v", del.Unsuccessful)
	}
	if _, ok := vpcTRoutes(t, c, rtb2)[s3pl]; ok {
		t.Fatal("endpoint route left after delete")
	}
	vpcTMust(c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: &subB}))
	_, err = c.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{gid}})
	wantCode(t, err, "InvalidVpcEndpointId.NotFound")
}
