package ec2_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// vpcTCreate creates a VPC with cidr and returns its ID.
func vpcTCreate(t *testing.T, c *ec2.Client, cidr string) string {
	t.Helper()
	out, err := c.CreateVpc(context.Background(), &ec2.CreateVpcInput{CidrBlock: aws.String(cidr)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Vpc.VpcId)
}

// vpcTSubnet creates a subnet and returns its ID.
func vpcTSubnet(t *testing.T, c *ec2.Client, vpcID, cidr, az string) string {
	t.Helper()
	in := &ec2.CreateSubnetInput{VpcId: &vpcID, CidrBlock: &cidr}
	if az != "" {
		in.AvailabilityZone = &az
	}
	out, err := c.CreateSubnet(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Subnet.SubnetId)
}

func TestCreateVpc(t *testing.T) {
	e := newEnv(t, "")
	c, ctx := e.ec2, e.ctx
	out := vpcTMust(c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVpc, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("main")}}}}}))
	v := out.Vpc
	id := aws.ToString(v.VpcId)
	if !strings.HasPrefix(id, "vpc-") || len(id) != 21 || v.State != types.VpcStatePending || aws.ToBool(v.IsDefault) ||
		aws.ToString(v.DhcpOptionsId) != "default" || aws.ToString(v.OwnerId) != "000000000000" || v.InstanceTenancy != types.TenancyDefault ||
		len(v.Tags) != 1 || len(v.CidrBlockAssociationSet) != 1 || !strings.HasPrefix(aws.ToString(v.CidrBlockAssociationSet[0].AssociationId), "vpc-cidr-assoc-") {
		t.Fatalf("CreateVpc: %+v", v)
	}
	got := vpcTMust(c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{id}})).Vpcs
	if len(got) != 1 || got[0].State != types.VpcStateAvailable {
		t.Fatalf("DescribeVpcs: %+v", got)
	}
	// DNS: support on, hostnames off for a non-default VPC.
	a := vpcTMust(c.DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: &id, Attribute: types.VpcAttributeNameEnableDnsSupport}))
	if !aws.ToBool(a.EnableDnsSupport.Value) {
		t.Fatal("enableDnsSupport should be true")
	}
	a = vpcTMust(c.DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: &id, Attribute: types.VpcAttributeNameEnableDnsHostnames}))
	if aws.ToBool(a.EnableDnsHostnames.Value) {
		t.Fatal("enableDnsHostnames should be false")
	}
	vpcTMust(c.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: &id, EnableDnsHostnames: &types.AttributeBooleanValue{Value: aws.Bool(true)}}))
	a = vpcTMust(c.DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: &id, Attribute: types.VpcAttributeNameEnableDnsHostnames}))
	if !aws.ToBool(a.EnableDnsHostnames.Value) {
		t.Fatal("enableDnsHostnames should now be true")
	}
	// Its main route table has the local route; default SG and NACL exist.
	rtbs := vpcTMust(c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{vpcTFilter("vpc-id", id)}})).RouteTables
	if len(rtbs) != 1 || len(rtbs[0].Routes) != 1 || aws.ToString(rtbs[0].Routes[0].GatewayId) != "local" ||
		len(rtbs[0].Associations) != 1 || !aws.ToBool(rtbs[0].Associations[0].Main) {
		t.Fatalf("main route table: %+v", rtbs)
	}
	if sgs, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{vpcTFilter("vpc-id", id)}}); err == nil {
		if len(sgs.SecurityGroups) != 1 || aws.ToString(sgs.SecurityGroups[0].GroupName) != "default" {
			t.Fatalf("security groups: %+v", sgs.SecurityGroups)
		}
	}
	// Delete takes the main route table, default SG and NACL with it.
	vpcTMust(c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: &id}))
	_, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{id}})
	wantCode(t, err, "InvalidVpcID.NotFound")
	if rtbs := vpcTMust(c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{vpcTFilter("vpc-id", id)}})).RouteTables; len(rtbs) != 0 {
		t.Fatalf("route tables left: %+v", rtbs)
	}
}

func TestVpcErrors(t *testing.T) {
	e := newEnv(t, "")
	c, ctx := e.ec2, e.ctx
	vpcID := vpcTCreate(t, c, "10.0.0.0/16")
	busy := vpcTCreate(t, c, "10.1.0.0/16")
	vpcTSubnet(t, c, busy, "10.1.0.0/24", "")
	for _, tc := range []struct {
		name string
		call func() error
		code string
	}{
		{"prefix too short", func() error {
			_, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/15")})
			return err
		}, "InvalidVpc.Range"},
		{"prefix too long", func() error {
			_, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/29")})
			return err
		}, "InvalidVpc.Range"},
		{"bad cidr", func() error {
			_, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.300/16")})
			return err
		}, "InvalidParameterValue"},
		{"not a cidr", func() error {
			_, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.1")})
			return err
		}, "InvalidParameterValue"},
		{"no cidr", func() error {
			_, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{})
			return err
		}, "MissingParameter"},
		{"bad tenancy", func() error {
			_, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16"), InstanceTenancy: "weird"})
			return err
		}, "InvalidParameterValue"},
		{"wrong tag resource type", func() error {
			_, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16"),
				TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSubnet, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}}}})
			return err
		}, "InvalidParameterValue"},
		{"dry run", func() error {
			_, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16"), DryRun: aws.Bool(true)})
			return err
		}, "DryRunOperation"},
		{"describe malformed", func() error {
			_, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{"vpc-xyz"}})
			return err
		}, "InvalidVpcID.Malformed"},
		{"describe missing", func() error {
			_, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{"vpc-0123456789abcdef0"}})
			return err
		}, "InvalidVpcID.NotFound"},
		{"describe bad filter", func() error {
			_, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{vpcTFilter("bogus", "x")}})
			return err
		}, "InvalidParameterValue"},
		{"describe page size", func() error {
			_, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{MaxResults: aws.Int32(4)})
			return err
		}, "InvalidParameterValue"},
		{"delete with subnet", func() error {
			_, err := c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: &busy})
			return err
		}, "DependencyViolation"},
		{"delete missing", func() error {
			_, err := c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String("vpc-0123456789abcdef0")})
			return err
		}, "InvalidVpcID.NotFound"},
		{"modify two attributes", func() error {
			_, err := c.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: &vpcID,
				EnableDnsSupport: &types.AttributeBooleanValue{Value: aws.Bool(true)}, EnableDnsHostnames: &types.AttributeBooleanValue{Value: aws.Bool(true)}})
			return err
		}, "InvalidParameterCombination"},
		{"describe attribute unknown", func() error {
			_, err := c.DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: &vpcID, Attribute: "bogus"})
			return err
		}, "InvalidParameterValue"},
		{"secondary restricted range", func() error {
			_, err := c.AssociateVpcCidrBlock(ctx, &ec2.AssociateVpcCidrBlockInput{VpcId: &vpcID, CidrBlock: aws.String("192.168.0.0/16")})
			return err
		}, "InvalidVpc.Range"},
		{"secondary overlaps", func() error {
			_, err := c.AssociateVpcCidrBlock(ctx, &ec2.AssociateVpcCidrBlockInput{VpcId: &vpcID, CidrBlock: aws.String("10.0.128.0/17")})
			return err
		}, "InvalidVpc.Range"},
		{"secondary too large", func() error {
			_, err := c.AssociateVpcCidrBlock(ctx, &ec2.AssociateVpcCidrBlockInput{VpcId: &vpcID, CidrBlock: aws.String("10.128.0.0/9")})
			return err
		}, "InvalidVpc.Range"},
		{"disassociate unknown", func() error {
			_, err := c.DisassociateVpcCidrBlock(ctx, &ec2.DisassociateVpcCidrBlockInput{AssociationId: aws.String("vpc-cidr-assoc-0123456789abcdef0")})
			return err
		}, "InvalidVpcCidrBlockAssociationID.NotFound"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.call(), tc.code) })
	}
}

func TestVpcCidrBlocks(t *testing.T) {
	e := newEnv(t, "")
	c, ctx := e.ec2, e.ctx
	id := vpcTCreate(t, c, "10.0.0.0/16")
	v := vpcTMust(c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{id}})).Vpcs[0]
	primary := aws.ToString(v.CidrBlockAssociationSet[0].AssociationId)
	_, err := c.DisassociateVpcCidrBlock(ctx, &ec2.DisassociateVpcCidrBlockInput{AssociationId: &primary})
	wantCode(t, err, "OperationNotPermitted")

	// A publicly routable block and 100.64/10 are allowed with a 10/8 primary.
	var assocs []string
	for _, cidr := range []string{"10.1.0.0/16", "100.64.0.0/16", "203.0.113.0/24", "10.2.0.0/16"} {
		out := vpcTMust(c.AssociateVpcCidrBlock(ctx, &ec2.AssociateVpcCidrBlockInput{VpcId: &id, CidrBlock: aws.String(cidr)}))
		if aws.ToString(out.CidrBlockAssociation.CidrBlock) != cidr || out.CidrBlockAssociation.CidrBlockState.State != types.VpcCidrBlockStateCodeAssociating {
			t.Fatalf("associate %s: %+v", cidr, out.CidrBlockAssociation)
		}
		assocs = append(assocs, aws.ToString(out.CidrBlockAssociation.AssociationId))
	}
	_, err = c.AssociateVpcCidrBlock(ctx, &ec2.AssociateVpcCidrBlockInput{VpcId: &id, CidrBlock: aws.String("10.3.0.0/16")})
	wantCode(t, err, "CidrLimitExceeded")

	// Each block gets a local route; subnets may use it.
	rtb := vpcTMust(c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{vpcTFilter("vpc-id", id)}})).RouteTables[0]
	if len(rtb.Routes) != 5 {
		t.Fatalf("routes: %+v", rtb.Routes)
	}
	sub := vpcTSubnet(t, c, id, "10.1.1.0/24", "")
	found := vpcTMust(c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{vpcTFilter("cidr-block-association.cidr-block", "100.64.0.0/16")}})).Vpcs
	if len(found) != 1 || aws.ToString(found[0].VpcId) != id {
		t.Fatalf("filter cidr-block-association.cidr-block: %+v", found)
	}

	// A block in use by a subnet cannot go; a free one can.
	_, err = c.DisassociateVpcCidrBlock(ctx, &ec2.DisassociateVpcCidrBlockInput{AssociationId: &assocs[0]})
	wantCode(t, err, "DependencyViolation")
	vpcTMust(c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: &sub}))
	out := vpcTMust(c.DisassociateVpcCidrBlock(ctx, &ec2.DisassociateVpcCidrBlockInput{AssociationId: &assocs[0]}))
	if out.CidrBlockAssociation.CidrBlockState.State != types.VpcCidrBlockStateCodeDisassociating || aws.ToString(out.VpcId) != id {
		t.Fatalf("disassociate: %+v", out)
	}
	rtb = vpcTMust(c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{vpcTFilter("vpc-id", id)}})).RouteTables[0]
	if len(rtb.Routes) != 4 {
		t.Fatalf("routes after disassociate: %+v", rtb.Routes)
	}
	_, err = c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: &id, CidrBlock: aws.String("10.1.1.0/24")})
	wantCode(t, err, "InvalidSubnet.Range")
}

func TestDescribeVpcsFiltersAndPages(t *testing.T) {
	e := newEnv(t, "")
	c, ctx := e.ec2, e.ctx
	var ids []string
	for i := range 6 {
		ids = append(ids, vpcTCreate(t, c, []string{"10.0.0.0/16", "10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/24", "192.168.0.0/16", "172.16.0.0/16"}[i]))
	}
	vpcTMust(c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids[:2], Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}))
	for _, tc := range []struct {
		filters []types.Filter
		want    int
	}{
		{[]types.Filter{vpcTFilter("is-default", "true")}, 1},
		{[]types.Filter{vpcTFilter("is-default", "false")}, 6},
		{[]types.Filter{vpcTFilter("cidr", "10.*")}, 4},
		{[]types.Filter{vpcTFilter("cidr-block", "192.168.0.0/16")}, 1},
		{[]types.Filter{vpcTFilter("tag:env", "prod")}, 2},
		{[]types.Filter{vpcTFilter("tag-key", "env")}, 2},
		{[]types.Filter{vpcTFilter("state", "available"), vpcTFilter("owner-id", "000000000000")}, 7},
		{[]types.Filter{vpcTFilter("dhcp-options-id", "default")}, 7},
		{[]types.Filter{vpcTFilter("vpc-id", ids[3])}, 1},
		{[]types.Filter{vpcTFilter("cidr-block-association.state", "associated")}, 7},
	} {
		got := vpcTMust(c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: tc.filters})).Vpcs
		if len(got) != tc.want {
			t.Errorf("%s=%v: got %d, want %d", aws.ToString(tc.filters[0].Name), tc.filters[0].Values, len(got), tc.want)
		}
	}
	var seen []string
	p := ec2.NewDescribeVpcsPaginator(c, &ec2.DescribeVpcsInput{MaxResults: aws.Int32(5)})
	pages := 0
	for p.HasMorePages() {
		out := vpcTMust(p.NextPage(ctx))
		pages++
		for _, v := range out.Vpcs {
			seen = append(seen, aws.ToString(v.VpcId))
		}
	}
	if pages != 2 || len(seen) != 7 || !slices.IsSorted(seen) {
		t.Fatalf("pagination: %d pages, %v", pages, seen)
	}
}

func TestVpcRestart(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir)
	vpcID := vpcTCreate(t, e.ec2, "10.9.0.0/16")
	subID := vpcTSubnet(t, e.ec2, vpcID, "10.9.1.0/24", "us-east-1b")
	defaults := vpcTMust(e.ec2.DescribeVpcs(e.ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{vpcTFilter("is-default", "true")}})).Vpcs
	if err := e.srv.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	e2 := newEnv(t, dir)
	v := vpcTMust(e2.ec2.DescribeVpcs(e2.ctx, &ec2.DescribeVpcsInput{VpcIds: []string{vpcID}})).Vpcs
	if len(v) != 1 || aws.ToString(v[0].CidrBlock) != "10.9.0.0/16" {
		t.Fatalf("VPC after restart: %+v", v)
	}
	s := vpcTMust(e2.ec2.DescribeSubnets(e2.ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{subID}})).Subnets
	if len(s) != 1 || aws.ToString(s[0].AvailabilityZone) != "us-east-1b" || aws.ToString(s[0].VpcId) != vpcID {
		t.Fatalf("subnet after restart: %+v", s)
	}
	// The default VPC is the same one, not a second.
	d := vpcTMust(e2.ec2.DescribeVpcs(e2.ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{vpcTFilter("is-default", "true")}})).Vpcs
	if len(d) != 1 || aws.ToString(d[0].VpcId) != aws.ToString(defaults[0].VpcId) {
		t.Fatalf("default VPC after restart: %+v", d)
	}
}

// AWS reads a CIDR with host bits or leading zeros as its block: the VPC,
// the subnet and the security group rule are listed canonical.
func TestCIDRsCanonicalised(t *testing.T) {
	e := newEnv(t, "")
	c, ctx := e.ec2, e.ctx
	for _, tc := range []struct{ in, want string }{
		{"10.250.1.0/16", "10.250.0.0/16"},
		{"10.01.0.0/16", "10.1.0.0/16"},
		{"172.16.5.9/20", "172.16.0.0/20"},
	} {
		v, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(tc.in)})
		if err != nil {
			t.Fatalf("CreateVpc %s: %v", tc.in, err)
		}
		if got := aws.ToString(v.Vpc.CidrBlock); got != tc.want {
			t.Errorf("CreateVpc %s: CidrBlock %s, want %s", tc.in, got, tc.want)
		}
	}
	vpcID := vpcTCreate(t, c, "10.60.0.0/16")
	sub, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: &vpcID, CidrBlock: aws.String("10.60.001.7/24")})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(sub.Subnet.CidrBlock); got != "10.60.1.0/24" {
		t.Errorf("subnet CidrBlock %s, want 10.60.1.0/24", got)
	}
	sg, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: &vpcID, GroupName: aws.String("canon"), Description: aws.String("canon")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId,
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80),
			IpRanges: []types.IpRange{{CidrIp: aws.String("10.8.10.0/16")}}}}}); err != nil {
		t.Fatal(err)
	}
	g, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{aws.ToString(sg.GroupId)}})
	if err != nil {
		t.Fatal(err)
	}
	if r := g.SecurityGroups[0].IpPermissions; len(r) != 1 || len(r[0].IpRanges) != 1 || aws.ToString(r[0].IpRanges[0].CidrIp) != "10.8.0.0/16" {
		t.Errorf("rule %+v, want its range listed as 10.8.0.0/16", r)
	}
}
