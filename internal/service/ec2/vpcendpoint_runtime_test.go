package ec2_test

import (
	"context"
	"net/netip"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestVpcEndpointPolicyChecked: an endpoint policy must be a valid
// resource policy, on CreateVpcEndpoint and ModifyVpcEndpoint alike.
func TestVpcEndpointPolicyChecked(t *testing.T) {
	e := newEnv(t, "")
	c, ctx := e.ec2, e.ctx
	vpcID := vpcTCreate(t, c, "10.0.0.0/16")
	s3 := aws.String("com.amazonaws.us-east-1.s3")
	for _, doc := range []string{`not json`, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`} {
		_, err := c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: &vpcID, ServiceName: s3, PolicyDocument: aws.String(doc)})
		wantCode(t, err, "InvalidPolicyDocument")
	}
	ok := `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`
	out := vpcTMust(c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: &vpcID, ServiceName: s3, PolicyDocument: aws.String(ok)}))
	id := out.VpcEndpoint.VpcEndpointId
	if got := aws.ToString(out.VpcEndpoint.PolicyDocument); got != ok {
		t.Errorf("policy %s, want %s", got, ok)
	}
	_, err := c.ModifyVpcEndpoint(ctx, &ec2.ModifyVpcEndpointInput{VpcEndpointId: id, PolicyDocument: aws.String(`{"Statement":[]}`)})
	wantCode(t, err, "InvalidPolicyDocument")
}

// TestDesiredEndpoints: what the endpoint controller is given — an
// interface endpoint's interfaces, names (regional with every address, per
// zone with the zone's) and private DNS name; a gateway endpoint's
// addresses (its prefix list's).
func TestDesiredEndpoints(t *testing.T) {
	e := newEnv(t, "")
	c, ctx := e.ec2, e.ctx
	vpcID := vpcTCreate(t, c, "10.0.0.0/16")
	vpcTMust(c.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: &vpcID, EnableDnsHostnames: &types.AttributeBooleanValue{Value: aws.Bool(true)}}))
	subA := vpcTSubnet(t, c, vpcID, "10.0.1.0/24", "us-east-1a")
	subB := vpcTSubnet(t, c, vpcID, "10.0.2.0/24", "us-east-1b")
	ifc := vpcTMust(c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: &vpcID, VpcEndpointType: types.VpcEndpointTypeInterface,
		ServiceName: aws.String("com.amazonaws.us-east-1.sts"), SubnetIds: []string{subA, subB}})).VpcEndpoint
	gw := vpcTMust(c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: &vpcID, ServiceName: aws.String("com.amazonaws.us-east-1.dynamodb")})).VpcEndpoint
	// Without an endpoint controller interface endpoints are available at
	// once, as before.
	d := vpcTMust(c.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{aws.ToString(ifc.VpcEndpointId)}}))
	if st := string(d.VpcEndpoints[0].State); st != "available" {
		t.Errorf("state %s without a controller, want available", st)
	}
	specs, err := e.srv.EC2().DesiredEndpoints(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]int{}
	for i, s := range specs {
		byID[s.ID] = i
	}
	is := specs[byID[aws.ToString(ifc.VpcEndpointId)]]
	if is.Type != "Interface" || is.Service != "sts" || is.VPCID != vpcID || len(is.ENIs) != 2 {
		t.Fatalf("interface endpoint spec %+v", is)
	}
	if !slices.Equal(is.PrivateDNS, []string{"sts.us-east-1.amazonaws.com"}) {
		t.Errorf("private DNS %v", is.PrivateDNS)
	}
	if len(is.Names) != 3 || is.Names[0].Name != aws.ToString(ifc.DnsEntries[0].DnsName) || len(is.Names[0].Addrs) != 2 ||
		len(is.Names[1].Addrs) != 1 || len(is.Names[2].Addrs) != 1 || is.Names[1].Addrs[0] == is.Names[2].Addrs[0] {
		t.Errorf("names %+v, DnsEntries %+v", is.Names, ifc.DnsEntries)
	}
	gs := specs[byID[aws.ToString(gw.VpcEndpointId)]]
	// The default public pool's DynamoDB service address.
	if gs.Type != "Gateway" || !slices.Equal(gs.Addrs, []netip.Addr{netip.MustParseAddr("198.19.255.243")}) {
		t.Errorf("gateway endpoint spec %+v", gs)
	}
}
