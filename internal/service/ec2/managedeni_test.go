package ec2_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/minicloud/minicloud/internal/ec2port"
)

// TestManagedENICallsRefuseOtherInterfaces checks that the calls a service
// makes through its port on the interfaces it created act on those only: a
// user's own interface, and another service's, are refused with
// OperationNotPermitted and left as they were.
func TestManagedENICallsRefuseOtherInterfaces(t *testing.T) {
	env := newEnv(t, "")
	vpcID, subnetID := instVPC(t, env, "10.9.0.0/16", "10.9.1.0/24", true)
	sg, err := env.ec2.CreateSecurityGroup(env.ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("db"), Description: aws.String("db"), VpcId: aws.String(vpcID)})
	if err != nil {
		t.Fatal(err)
	}
	created, err := env.ec2.CreateNetworkInterface(env.ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(subnetID)})
	if err != nil {
		t.Fatal(err)
	}
	userENI := aws.ToString(created.NetworkInterface.NetworkInterfaceId)
	svc := env.srv.EC2().Port(ec2port.RequesterRDS)
	const account, region = "000000000000", "us-east-1"
	managed, err := svc.CreateENI(env.ctx, account, region, ec2port.ENIRequest{SubnetID: subnetID, Description: "RDSNetworkInterface"})
	if err != nil {
		t.Fatal(err)
	}
	elb := env.srv.EC2().Port(ec2port.RequesterELB)
	elbENI, err := elb.CreateENI(env.ctx, account, region, ec2port.ENIRequest{SubnetID: subnetID, Description: "ELB app/lb/1"})
	if err != nil {
		t.Fatal(err)
	}
	calls := []struct {
		name string
		call func(ctx context.Context, id string) error
	}{
		{"AssignPublicIP", func(ctx context.Context, id string) error {
			_, err := svc.AssignPublicIP(ctx, account, region, id)
			return err
		}},
		{"ReleasePublicIP", func(ctx context.Context, id string) error {
			return svc.ReleasePublicIP(ctx, account, region, id)
		}},
		{"SetENIGroups", func(ctx context.Context, id string) error {
			return svc.SetENIGroups(ctx, account, region, id, []string{aws.ToString(sg.GroupId)})
		}},
		{"DeleteENI", func(ctx context.Context, id string) error { return svc.DeleteENI(ctx, account, region, id) }},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			var coded interface{ ErrorCode() string }
			if err := c.call(env.ctx, userENI); !errors.As(err, &coded) || coded.ErrorCode() != "OperationNotPermitted" {
				t.Errorf("%s on the user's interface: %v, want OperationNotPermitted", c.name, err)
			}
			if err := c.call(env.ctx, elbENI.ID); !errors.As(err, &coded) || coded.ErrorCode() != "OperationNotPermitted" {
				t.Errorf("%s on another service's interface: %v, want OperationNotPermitted", c.name, err)
			}
			if err := c.call(env.ctx, managed.ID); err != nil {
				t.Errorf("%s on the managed interface: %v", c.name, err)
			}
		})
	}
	out, err := env.ec2.DescribeNetworkInterfaces(env.ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{userENI}})
	if err != nil {
		t.Fatalf("the user's interface: %v", err)
	}
	e := out.NetworkInterfaces[0]
	if e.Association != nil || len(e.Groups) != 1 || aws.ToString(e.Groups[0].GroupName) != "default" {
		t.Errorf("the refused calls changed the user's interface: association %+v, groups %+v", e.Association, e.Groups)
	}
}

// The port's lookups see the caller's records, answer not found for IDs
// that do not exist (malformed ones included), and report what a service
// checks of a VPC.
func TestPortLookups(t *testing.T) {
	env := newEnv(t, "")
	vpcID, subnetID := instVPC(t, env, "10.8.0.0/16", "10.8.1.0/24", false)
	sg, err := env.ec2.CreateSecurityGroup(env.ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("app"), Description: aws.String("app"), VpcId: aws.String(vpcID)})
	if err != nil {
		t.Fatal(err)
	}
	p := env.srv.EC2().Port(ec2port.RequesterRDS)
	const account, region = "000000000000", "us-east-1"
	sn, found, err := p.Subnet(env.ctx, account, region, subnetID)
	if err != nil || !found || sn.VPCID != vpcID || sn.CIDR.String() != "10.8.1.0/24" || sn.AvailabilityZone == "" || sn.AvailabilityZoneID == "" {
		t.Errorf("Subnet = %+v %v %v", sn, found, err)
	}
	for _, id := range []string{"subnet-0000000000000000f", "nonsense"} {
		if _, found, err := p.Subnet(env.ctx, account, region, id); found || err != nil {
			t.Errorf("Subnet(%s) found %v, err %v", id, found, err)
		}
	}
	if _, found, err := p.Subnet(env.ctx, "111111111111", region, subnetID); found || err != nil {
		t.Errorf("another account's subnet: found %v, err %v", found, err)
	}
	if v, found, err := p.SecurityGroupVPC(env.ctx, account, region, aws.ToString(sg.GroupId)); v != vpcID || !found || err != nil {
		t.Errorf("SecurityGroupVPC = %s %v %v", v, found, err)
	}
	v, found, err := p.VPC(env.ctx, account, region, vpcID)
	if err != nil || !found || v.ID != vpcID || !v.DNSSupport || v.InternetGateway {
		t.Errorf("VPC = %+v %v %v, want DNS support and no internet gateway", v, found, err)
	}
	igw, err := env.ec2.CreateInternetGateway(env.ctx, &ec2.CreateInternetGatewayInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.ec2.AttachInternetGateway(env.ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: aws.String(vpcID)}); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := p.VPC(env.ctx, account, region, vpcID); !v.InternetGateway {
		t.Error("VPC with an attached internet gateway reports none")
	}
	if _, found, err := p.VPC(env.ctx, account, region, "vpc-0000000000000000f"); found || err != nil {
		t.Errorf("missing VPC: found %v, err %v", found, err)
	}
}

// TestPortInstance checks the port's instance lookup: an instance's VPC,
// subnet, zone, primary private IP and state, its state following a
// termination (without a runtime it completes at once), and IDs that are
// missing, malformed or of another region not found.
func TestPortInstance(t *testing.T) {
	env := newEnv(t, "")
	vpcID, subnetID := instVPC(t, env, "10.8.0.0/16", "10.8.1.0/24", false)
	inst := instRun(t, env, &ec2.RunInstancesInput{SubnetId: aws.String(subnetID)})
	id := aws.ToString(inst.InstanceId)
	port := env.srv.EC2().Port(ec2port.RequesterELB)
	const account = "000000000000"
	got, found, err := port.Instance(env.ctx, account, "us-east-1", id)
	if err != nil || !found {
		t.Fatalf("Instance(%s): found %v, %v", id, found, err)
	}
	want := ec2port.Instance{ID: id, VPCID: vpcID, SubnetID: subnetID, AvailabilityZone: "us-east-1a",
		PrivateIP: netip.MustParseAddr(aws.ToString(inst.PrivateIpAddress)), State: "pending"}
	if got.State == "running" {
		want.State = got.State // the API-only runtime was quicker than the call
	}
	if got != want {
		t.Errorf("Instance(%s) = %+v, want %+v", id, got, want)
	}
	if _, err := env.ec2.TerminateInstances(env.ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	instWaitState(t, env, id, "terminated")
	if got, _, _ := port.Instance(env.ctx, account, "us-east-1", id); got.State != "terminated" {
		t.Errorf("after TerminateInstances: state %q, want terminated", got.State)
	}
	for _, c := range []struct{ region, id string }{
		{"us-east-1", "i-0123456789abcdef0"}, {"us-east-1", "not-an-id"}, {"eu-west-1", id},
	} {
		if _, found, err := port.Instance(env.ctx, account, c.region, c.id); found || err != nil {
			t.Errorf("Instance(%s in %s): found %v, err %v; want not found", c.id, c.region, found, err)
		}
	}
}

// TestPortVPC checks the port's VPC lookup: its CIDR blocks (an associated
// secondary one included), its default security group and its internet
// gateway.
func TestPortVPC(t *testing.T) {
	env := newEnv(t, "")
	vpcID, _ := instVPC(t, env, "10.7.0.0/16", "10.7.1.0/24", true)
	if _, err := env.ec2.AssociateVpcCidrBlock(env.ctx, &ec2.AssociateVpcCidrBlockInput{VpcId: aws.String(vpcID), CidrBlock: aws.String("10.70.0.0/16")}); err != nil {
		t.Fatal(err)
	}
	sgs, err := env.ec2.DescribeSecurityGroups(env.ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{vpcID}}, {Name: aws.String("group-name"), Values: []string{"default"}}}})
	if err != nil || len(sgs.SecurityGroups) != 1 {
		t.Fatalf("the VPC's default group: %v %v", sgs, err)
	}
	v, found, err := env.srv.EC2().Port(ec2port.RequesterELB).VPC(env.ctx, "000000000000", "us-east-1", vpcID)
	if err != nil || !found {
		t.Fatalf("VPC(%s): found %v, %v", vpcID, found, err)
	}
	wantCIDRs := []netip.Prefix{netip.MustParsePrefix("10.7.0.0/16"), netip.MustParsePrefix("10.70.0.0/16")}
	if !slices.Equal(v.CIDRs, wantCIDRs) || v.DefaultSecurityGroup != aws.ToString(sgs.SecurityGroups[0].GroupId) || !v.InternetGateway {
		t.Errorf("VPC(%s) = %+v, want CIDRs %v, default group %s and an internet gateway", vpcID, v, wantCIDRs, aws.ToString(sgs.SecurityGroups[0].GroupId))
	}
}
