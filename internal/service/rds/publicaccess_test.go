package rds_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
)

// TestPubliclyAccessibleNeedsAPublicVPC: AWS refuses a publicly accessible
// DB instance (create or modify) in a VPC without an internet gateway, or
// without DNS support and hostnames, with InvalidVPCNetworkStateFault.
func TestPubliclyAccessibleNeedsAPublicVPC(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i, tc := range []struct {
		desc           string
		igw, hostnames bool
		wantErr        string // "" for success
	}{
		{"no internet gateway", false, true, "no internet gateway attached"},
		{"no DNS hostnames", true, false, "does not support DNS resolution, DNS hostnames, or both"},
		{"public VPC", true, true, ""},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			subnets := e.vpc(t, "10."+string(rune('1'+i)), "us-east-1a", "us-east-1b")
			sn, err := e.ec2.DescribeSubnets(e.ctx, &ec2.DescribeSubnetsInput{SubnetIds: subnets[:1]})
			if err != nil {
				t.Fatal(err)
			}
			vpcID := sn.Subnets[0].VpcId
			if tc.igw {
				g, err := e.ec2.CreateInternetGateway(e.ctx, &ec2.CreateInternetGatewayInput{})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := e.ec2.AttachInternetGateway(e.ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: g.InternetGateway.InternetGatewayId, VpcId: vpcID}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.hostnames {
				if _, err := e.ec2.ModifyVpcAttribute(e.ctx, &ec2.ModifyVpcAttributeInput{VpcId: vpcID, EnableDnsHostnames: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
					t.Fatal(err)
				}
			}
			group := "group-" + string(rune('a'+i))
			if _, err := e.rds.CreateDBSubnetGroup(e.ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String(group),
				DBSubnetGroupDescription: aws.String(tc.desc), SubnetIds: subnets}); err != nil {
				t.Fatal(err)
			}
			id := "db-" + string(rune('a'+i))
			_, err = e.rds.CreateDBInstance(e.ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String(id),
				Engine: aws.String("postgres"), DBInstanceClass: aws.String("db.t3.micro"), AllocatedStorage: aws.Int32(20),
				MasterUsername: aws.String("master"), MasterUserPassword: aws.String("secret-password"),
				DBSubnetGroupName: aws.String(group), PubliclyAccessible: aws.Bool(true)})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantCode(t, err, "InvalidVPCNetworkStateFault")
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
			// A private instance there is fine; making it public is not.
			if _, err := e.rds.CreateDBInstance(e.ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String(id),
				Engine: aws.String("postgres"), DBInstanceClass: aws.String("db.t3.micro"), AllocatedStorage: aws.Int32(20),
				MasterUsername: aws.String("master"), MasterUserPassword: aws.String("secret-password"),
				DBSubnetGroupName: aws.String(group)}); err != nil {
				t.Fatal(err)
			}
			_, err = e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String(id), PubliclyAccessible: aws.Bool(true)})
			wantCode(t, err, "InvalidVPCNetworkStateFault")
		})
	}
}
