package dataplane_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/minicloud/minicloud/internal/server"
)

// TestManagedInstances: Systems Manager's managed instances are those
// whose agent would register: an instance with a role that allows the
// SSM core actions, in a public subnet (it reaches
// ssm.us-east-1.amazonaws.com through the internet gateway, from inside
// its namespace), is Online with what the agent reports; one without an
// instance profile, and one with the role in a private subnet with no
// route out, are not listed, and StartSession's target check says they
// are not connected.
func TestManagedInstances(t *testing.T) {
	e, _ := newEnvDNSWith(t, func(c *server.Config) { c.PublicCIDR = netip.MustParsePrefix("198.19.231.0/24") })
	ac := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String("http://" + e.srv.Addr())}
	iamc, ssmc := iam.NewFromConfig(ac), ssm.NewFromConfig(ac)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	if _, err := iamc.CreateRole(e.ctx, &iam.CreateRoleInput{RoleName: aws.String("ssm-core"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamc.AttachRolePolicy(e.ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("ssm-core"),
		PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamc.CreateInstanceProfile(e.ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("ssm-core")}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamc.AddRoleToInstanceProfile(e.ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("ssm-core"), RoleName: aws.String("ssm-core")}); err != nil {
		t.Fatal(err)
	}

	v := e.newVPC("10.62.0.0/16", "10.62.1.0/24", "10.62.2.0/24")
	// The second subnet is private: a route table of its own, with the
	// local route only.
	rtb, err := e.ec2.CreateRouteTable(e.ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(v.id)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ec2.AssociateRouteTable(e.ctx, &ec2.AssociateRouteTableInput{RouteTableId: rtb.RouteTable.RouteTableId, SubnetId: aws.String(v.subnets[1])}); err != nil {
		t.Fatal(err)
	}
	// No inbound rule at all: the agent only connects out.
	sg := e.newSG(v.id, "ssm")
	img := e.image()
	run := func(subnet string, profile bool) string {
		in := &ec2.RunInstancesInput{ImageId: img, InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			SubnetId: aws.String(subnet), SecurityGroupIds: []string{sg}}
		if profile {
			in.IamInstanceProfile = &types.IamInstanceProfileSpecification{Name: aws.String("ssm-core")}
		}
		out, err := e.ec2.RunInstances(e.ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Instances[0].InstanceId)
	}
	managed, noProfile, private := run(v.subnets[0], true), run(v.subnets[0], false), run(v.subnets[1], true)
	for _, id := range []string{managed, noProfile, private} {
		e.waitState(id, types.InstanceStateNameRunning)
	}
	// Public addresses for the two in the public subnet: the internet
	// gateway maps them.
	e.eip(managed)
	e.eip(noProfile)
	if err := e.srv.SSM().CheckInstances(e.ctx); err != nil {
		t.Fatal(err)
	}

	out, err := ssmc.DescribeInstanceInformation(e.ctx, &ssm.DescribeInstanceInformationInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.InstanceInformationList) != 1 {
		t.Fatalf("managed instances %+v, want %s only", out.InstanceInformationList, managed)
	}
	info := out.InstanceInformationList[0]
	inst := e.instance(managed)
	if aws.ToString(info.InstanceId) != managed || info.PingStatus != ssmtypes.PingStatusOnline || info.PlatformType != ssmtypes.PlatformTypeLinux ||
		aws.ToString(info.IamRole) != "ssm-core" || aws.ToString(info.IPAddress) != aws.ToString(inst.PrivateIpAddress) ||
		aws.ToString(info.ComputerName) != aws.ToString(inst.PrivateDnsName) || aws.ToString(info.AgentVersion) == "" ||
		info.ResourceType != ssmtypes.ResourceTypeEc2Instance || info.LastPingDateTime == nil {
		t.Fatalf("instance information %+v", info)
	}
	filtered, err := ssmc.DescribeInstanceInformation(e.ctx, &ssm.DescribeInstanceInformationInput{Filters: []ssmtypes.InstanceInformationStringFilter{
		{Key: aws.String("PingStatus"), Values: []string{"ConnectionLost"}}}})
	if err != nil || len(filtered.InstanceInformationList) != 0 {
		t.Fatalf("ConnectionLost filter: %+v %v", filtered, err)
	}
	if err := e.srv.SSM().TargetConnected(e.ctx, "000000000000", "us-east-1", managed); err != nil {
		t.Errorf("target %s: %v", managed, err)
	}
	for _, id := range []string{noProfile, private} {
		var ce interface{ ErrorCode() string }
		if err := e.srv.SSM().TargetConnected(e.ctx, "000000000000", "us-east-1", id); !errors.As(err, &ce) || ce.ErrorCode() != "TargetNotConnected" ||
			err.Error() == "" {
			t.Errorf("target %s: %v, want TargetNotConnected", id, err)
		}
	}
}
