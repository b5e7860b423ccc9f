package ec2_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// TestManagedENICallsRefuseOtherInterfaces checks that the calls RDS makes on
// the interfaces it created act on those only: a user's own interface is
// refused with OperationNotPermitted and left as it was.
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
	svc := env.srv.EC2()
	const account, region = "000000000000", "us-east-1"
	managed, err := svc.CreateManagedENI(env.ctx, account, region, subnetID, nil, "RDSNetworkInterface")
	if err != nil {
		t.Fatal(err)
	}
	calls := []struct {
		name string
		call func(ctx context.Context, id string) error
	}{
		{"AssignManagedPublicIP", func(ctx context.Context, id string) error {
			_, err := svc.AssignManagedPublicIP(ctx, account, region, id)
			return err
		}},
		{"ReleaseManagedPublicIP", func(ctx context.Context, id string) error {
			return svc.ReleaseManagedPublicIP(ctx, account, region, id)
		}},
		{"ModifyManagedENIGroups", func(ctx context.Context, id string) error {
			return svc.ModifyManagedENIGroups(ctx, account, region, id, []string{aws.ToString(sg.GroupId)})
		}},
		{"DeleteManagedENI", func(ctx context.Context, id string) error { return svc.DeleteManagedENI(ctx, account, region, id) }},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			var coded interface{ ErrorCode() string }
			if err := c.call(env.ctx, userENI); !errors.As(err, &coded) || coded.ErrorCode() != "OperationNotPermitted" {
				t.Errorf("%s on the user's interface: %v, want OperationNotPermitted", c.name, err)
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
