package ec2_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// vpcTRoutes returns the routes of a route table by destination.
func vpcTRoutes(t *testing.T, c *ec2.Client, rtbID string) map[string]types.Route {
	t.Helper()
	out := vpcTMust(c.DescribeRouteTables(t.Context(), &ec2.DescribeRouteTablesInput{RouteTableIds: []string{rtbID}}))
	m := map[string]types.Route{}
	for _, r := range out.RouteTables[0].Routes {
		k := aws.ToString(r.DestinationCidrBlock)
		if k == "" {
			k = aws.ToString(r.DestinationPrefixListId)
		}
		m[k] = r
	}
	return m
}

func TestRouteTables(t *testing.T) {
	e := newEnv(t, "")
	c, ctx := e.ec2, e.ctx
	vpcID := vpcTCreate(t, c, "10.0.0.0/16")
	other := vpcTCreate(t, c, "10.1.0.0/16")
	subA := vpcTSubnet(t, c, vpcID, "10.0.1.0/24", "")
	subB := vpcTSubnet(t, c, vpcID, "10.0.2.0/24", "")
	subOther := vpcTSubnet(t, c, other, "10.1.1.0/24", "")
	igw := aws.ToString(vpcTMust(c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})).InternetGateway.InternetGatewayId)
	loose := aws.ToString(vpcTMust(c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})).InternetGateway.InternetGatewayId)
	vpcTMust(c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &vpcID}))

	rt := vpcTMust(c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: &vpcID,
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeRouteTable, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("public")}}}}})).RouteTable
	rtb := aws.ToString(rt.RouteTableId)
	if !strings.HasPrefix(rtb, "rtb-") || len(rt.Routes) != 1 || aws.ToString(rt.Routes[0].GatewayId) != "local" || len(rt.Associations) != 0 || len(rt.Tags) != 1 {
		t.Fatalf("CreateRouteTable: %+v", rt)
	}
	mainRtb := vpcTMust(c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{vpcTFilter("vpc-id", vpcID), vpcTFilter("association.main", "true")}})).RouteTables[0]
	mainID := aws.ToString(mainRtb.RouteTableId)
	mainAssoc := aws.ToString(mainRtb.Associations[0].RouteTableAssociationId)

	vpcTMust(c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &rtb, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: &igw}))
	r := vpcTRoutes(t, c, rtb)["0.0.0.0/0"]
	if aws.ToString(r.GatewayId) != igw || r.State != types.RouteStateActive || r.Origin != types.RouteOriginCreateRoute {
		t.Fatalf("igw route: %+v", r)
	}
	assoc := vpcTMust(c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: &rtb, SubnetId: &subA}))
	assocID := aws.ToString(assoc.AssociationId)
	if !strings.HasPrefix(assocID, "rtbassoc-") || assoc.AssociationState.State != types.RouteTableAssociationStateCodeAssociated {
		t.Fatalf("AssociateRouteTable: %+v", assoc)
	}

	for _, tc := range []struct {
		name string
		call func() error
		code string
	}{
		{"route exists", func() error {
			_, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &rtb, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: &igw})
			return err
		}, "RouteAlreadyExists"},
		{"route to detached gateway", func() error {
			_, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &rtb, DestinationCidrBlock: aws.String("1.0.0.0/8"), GatewayId: &loose})
			return err
		}, "InvalidParameterValue"},
		{"route to unknown gateway", func() error {
			_, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &rtb, DestinationCidrBlock: aws.String("1.0.0.0/8"), GatewayId: aws.String("igw-0123456789abcdef0")})
			return err
		}, "InvalidInternetGatewayID.NotFound"},
		{"route inside VPC to gateway", func() error {
			_, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &rtb, DestinationCidrBlock: aws.String("10.0.5.0/24"), GatewayId: &igw})
			return err
		}, "InvalidParameterValue"},
		{"route with no target", func() error {
			_, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &rtb, DestinationCidrBlock: aws.String("1.0.0.0/8")})
			return err
		}, "MissingParameter"},
		{"route to unknown NAT", func() error {
			_, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &rtb, DestinationCidrBlock: aws.String("1.0.0.0/8"), NatGatewayId: aws.String("nat-0123456789abcdef0")})
			return err
		}, "NatGatewayNotFound"},
		{"route to unknown ENI", func() error {
			_, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &rtb, DestinationCidrBlock: aws.String("1.0.0.0/8"), NetworkInterfaceId: aws.String("eni-0123456789abcdef0")})
			return err
		}, "InvalidNetworkInterfaceID.NotFound"},
		{"route to peering", func() error {
			_, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &rtb, DestinationCidrBlock: aws.String("1.0.0.0/8"), VpcPeeringConnectionId: aws.String("pcx-0123456789abcdef0")})
			return err
		}, "InvalidVpcPeeringConnectionID.NotFound"},
		{"route bad destination", func() error {
			_, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &rtb, DestinationCidrBlock: aws.String("1.0.0/8"), GatewayId: &igw})
			return err
		}, "InvalidParameterValue"},
		{"route unknown table", func() error {
			_, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String("rtb-0123456789abcdef0"), DestinationCidrBlock: aws.String("1.0.0.0/8"), GatewayId: &igw})
			return err
		}, "InvalidRouteTableID.NotFound"},
		{"delete missing route", func() error {
			_, err := c.DeleteRoute(ctx, &ec2.DeleteRouteInput{RouteTableId: &rtb, DestinationCidrBlock: aws.String("8.8.8.0/24")})
			return err
		}, "InvalidRoute.NotFound"},
		{"delete local route", func() error {
			_, err := c.DeleteRoute(ctx, &ec2.DeleteRouteInput{RouteTableId: &rtb, DestinationCidrBlock: aws.String("10.0.0.0/16")})
			return err
		}, "InvalidParameterValue"},
		{"replace missing route", func() error {
			_, err := c.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: &rtb, DestinationCidrBlock: aws.String("8.8.8.0/24"), GatewayId: &igw})
			return err
		}, "InvalidParameterValue"},
		{"associate subnet twice", func() error {
			_, err := c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: &mainID, SubnetId: &subA})
			return err
		}, "Resource.AlreadyAssociated"},
		{"associate subnet of another VPC", func() error {
			_, err := c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: &rtb, SubnetId: &subOther})
			return err
		}, "InvalidParameterValue"},
		{"delete associated table", func() error {
			_, err := c.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: &rtb})
			return err
		}, "DependencyViolation"},
		{"delete main table", func() error {
			_, err := c.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: &mainID})
			return err
		}, "DependencyViolation"},
		{"disassociate main", func() error {
			_, err := c.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: &mainAssoc})
			return err
		}, "InvalidParameterValue"},
		{"disassociate unknown", func() error {
			_, err := c.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: aws.String("rtbassoc-0123456789abcdef0")})
			return err
		}, "InvalidAssociationID.NotFound"},
		{"delete VPC with extra table", func() error {
			_, err := c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: &vpcID})
			return err
		}, "DependencyViolation"},
		{"describe malformed", func() error {
			_, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{"rtb-1"}})
			return err
		}, "InvalidRouteTableID.Malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.call(), tc.code) })
	}

	// Filters.
	for _, tc := range []struct {
		f    []types.Filter
		want int
	}{
		{[]types.Filter{vpcTFilter("vpc-id", vpcID)}, 2},
		{[]types.Filter{vpcTFilter("association.subnet-id", subA)}, 1},
		{[]types.Filter{vpcTFilter("association.route-table-association-id", assocID)}, 1},
		{[]types.Filter{vpcTFilter("association.main", "false")}, 1},
		{[]types.Filter{vpcTFilter("route.gateway-id", igw)}, 1},
		{[]types.Filter{vpcTFilter("route.destination-cidr-block", "0.0.0.0/0"), vpcTFilter("vpc-id", vpcID)}, 1},
		{[]types.Filter{vpcTFilter("route.state", "blackhole")}, 0},
		{[]types.Filter{vpcTFilter("route.origin", "CreateRoute"), vpcTFilter("vpc-id", vpcID)}, 1},
		{[]types.Filter{vpcTFilter("tag:Name", "public")}, 1},
		{[]types.Filter{vpcTFilter("route-table-id", rtb)}, 1},
	} {
		if got := vpcTMust(c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: tc.f})).RouteTables; len(got) != tc.want {
			t.Errorf("filter %s=%v: got %d, want %d", aws.ToString(tc.f[0].Name), tc.f[0].Values, len(got), tc.want)
		}
	}

	// Detaching the gateway turns its routes into blackholes; reattaching
	// revives them.
	vpcTMust(c.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &vpcID}))
	if r := vpcTRoutes(t, c, rtb)["0.0.0.0/0"]; r.State != types.RouteStateBlackhole {
		t.Fatalf("route after detach: %+v", r)
	}
	vpcTMust(c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &vpcID}))
	if r := vpcTRoutes(t, c, rtb)["0.0.0.0/0"]; r.State != types.RouteStateActive {
		t.Fatalf("route after reattach: %+v", r)
	}

	// NAT gateway routes: replace the default route, then delete the NAT.
	nat := vpcTMust(c.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: &subB, ConnectivityType: types.ConnectivityTypePrivate})).NatGateway
	vpcTMust(c.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: &rtb, DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: nat.NatGatewayId}))
	if r := vpcTRoutes(t, c, rtb)["0.0.0.0/0"]; aws.ToString(r.NatGatewayId) != aws.ToString(nat.NatGatewayId) || r.GatewayId != nil || r.State != types.RouteStateActive {
		t.Fatalf("NAT route: %+v", r)
	}
	if got := vpcTMust(c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{vpcTFilter("route.nat-gateway-id", aws.ToString(nat.NatGatewayId))}})).RouteTables; len(got) != 1 {
		t.Fatalf("route.nat-gateway-id: %d", len(got))
	}
	// More specific routes inside the VPC may target an interface.
	eni := vpcTMust(c.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{aws.ToString(nat.NatGatewayId)}})).NatGateways[0].NatGatewayAddresses[0].NetworkInterfaceId
	vpcTMust(c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &rtb, DestinationCidrBlock: aws.String("10.0.9.0/24"), NetworkInterfaceId: eni}))
	vpcTMust(c.DeleteNatGateway(ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: nat.NatGatewayId}))
	routes := vpcTRoutes(t, c, rtb)
	if routes["0.0.0.0/0"].State != types.RouteStateBlackhole || routes["10.0.9.0/24"].State != types.RouteStateBlackhole {
		t.Fatalf("routes after NAT delete: %+v", routes)
	}
	if got := vpcTMust(c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{vpcTFilter("route.state", "blackhole")}})).RouteTables; len(got) != 1 {
		t.Fatalf("route.state=blackhole: %d", len(got))
	}
	vpcTMust(c.DeleteRoute(ctx, &ec2.DeleteRouteInput{RouteTableId: &rtb, DestinationCidrBlock: aws.String("10.0.9.0/24")}))
	vpcTMust(c.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: &rtb, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: &igw}))
	if r := vpcTRoutes(t, c, rtb)["0.0.0.0/0"]; r.State != types.RouteStateActive || r.NatGatewayId != nil {
		t.Fatalf("route after replace: %+v", r)
	}

	// Moving associations: subnet A to main, then make rtb the main table.
	moved := vpcTMust(c.ReplaceRouteTableAssociation(ctx, &ec2.ReplaceRouteTableAssociationInput{AssociationId: &assocID, RouteTableId: &mainID}))
	if aws.ToString(moved.NewAssociationId) == assocID {
		t.Fatal("ReplaceRouteTableAssociation kept the association ID")
	}
	vpcTMust(c.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: moved.NewAssociationId}))
	newMain := vpcTMust(c.ReplaceRouteTableAssociation(ctx, &ec2.ReplaceRouteTableAssociationInput{AssociationId: &mainAssoc, RouteTableId: &rtb}))
	mains := vpcTMust(c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{vpcTFilter("vpc-id", vpcID), vpcTFilter("association.main", "true")}})).RouteTables
	if len(mains) != 1 || aws.ToString(mains[0].RouteTableId) != rtb || aws.ToString(mains[0].Associations[0].RouteTableAssociationId) != aws.ToString(newMain.NewAssociationId) {
		t.Fatalf("main after replace: %+v", mains)
	}
	// The old main table is now an ordinary one and can go.
	vpcTMust(c.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: &mainID}))

	// Gateway (edge) association.
	vpcTMust(c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: &rtb, GatewayId: &igw}))
	_, err := c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: &rtb, GatewayId: &igw})
	wantCode(t, err, "Resource.AlreadyAssociated")
	if got := vpcTMust(c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{vpcTFilter("association.gateway-id", igw)}})).RouteTables; len(got) != 1 {
		t.Fatalf("association.gateway-id: %d", len(got))
	}

	// Idempotent create with a client token.
	a := vpcTMust(c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: &other, ClientToken: aws.String("tok-1")}))
	b := vpcTMust(c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: &other, ClientToken: aws.String("tok-1")}))
	if aws.ToString(a.RouteTable.RouteTableId) != aws.ToString(b.RouteTable.RouteTableId) || aws.ToString(b.ClientToken) != "tok-1" {
		t.Fatalf("client token: %s vs %s", aws.ToString(a.RouteTable.RouteTableId), aws.ToString(b.RouteTable.RouteTableId))
	}
	_, err = c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: &vpcID, ClientToken: aws.String("tok-1")})
	wantCode(t, err, "IdempotentParameterMismatch")
	_ = time.Second
}
