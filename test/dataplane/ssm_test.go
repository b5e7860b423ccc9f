package dataplane_test

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/minicloud/minicloud/internal/server"
)

// newSSMEnv is a minicloud with the data plane (public range
// 198.19.231.0/24), an SSM client, and the instance profile ssm-core whose
// role has AmazonSSMManagedInstanceCore.
func newSSMEnv(t *testing.T) (*env, *ssm.Client) {
	t.Helper()
	e, _ := newEnvDNSWith(t, func(c *server.Config) {
		c.PublicCIDR = netip.MustParsePrefix("198.19.231.0/24")
		c.SSMConnectionLostAfter = 3 * time.Second
	})
	ac := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String("http://" + e.srv.Addr())}
	iamc := iam.NewFromConfig(ac)
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
	return e, ssm.NewFromConfig(ac)
}

// TestManagedInstances: Systems Manager's managed instances are those
// whose agent would register: an instance with a role that allows the
// SSM core actions, in a public subnet (it reaches
// ssm.us-east-1.amazonaws.com through the internet gateway, from inside
// its namespace), is Online with what the agent reports; one without an
// instance profile, and one with the role in a private subnet with no
// route out, are not listed, and StartSession's target check says they
// are not connected; a stopped one becomes ConnectionLost; a NAT gateway
// gives the private one its way to the endpoint.
func TestManagedInstances(t *testing.T) {
	e, ssmc := newSSMEnv(t)

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
			SubnetId: aws.String(subnet), SecurityGroupIds: []string{sg}, TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance,
				Tags: []types.Tag{{Key: aws.String("Role"), Value: aws.String("web")}}}}}
		if profile {
			in.IamInstanceProfile = &types.IamInstanceProfileSpecification{Name: aws.String("ssm-core")}
		}
		out, err := e.ec2.RunInstances(e.ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Instances[0].InstanceId)
	}
	managed, noProfile, private, second := run(v.subnets[0], true), run(v.subnets[0], false), run(v.subnets[1], true), run(v.subnets[0], true)
	for _, id := range []string{managed, noProfile, private, second} {
		e.waitState(id, types.InstanceStateNameRunning)
	}
	// Public addresses for those in the public subnet: the internet
	// gateway maps them.
	e.eip(managed)
	e.eip(noProfile)
	e.eip(second)
	if err := e.srv.SSM().CheckInstances(e.ctx); err != nil {
		t.Fatal(err)
	}

	out, err := ssmc.DescribeInstanceInformation(e.ctx, &ssm.DescribeInstanceInformationInput{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, i := range out.InstanceInformationList {
		got = append(got, aws.ToString(i.InstanceId))
	}
	if want := []string{managed, second}; !sameSet(got, want) {
		t.Fatalf("managed instances %v, want %v", got, want)
	}
	info := out.InstanceInformationList[0]
	if aws.ToString(info.InstanceId) != managed {
		info = out.InstanceInformationList[1]
	}
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
	filtered, err = ssmc.DescribeInstanceInformation(e.ctx, &ssm.DescribeInstanceInformationInput{Filters: []ssmtypes.InstanceInformationStringFilter{
		{Key: aws.String("InstanceIds"), Values: []string{second}}}})
	if err != nil || len(filtered.InstanceInformationList) != 1 {
		t.Fatalf("InstanceIds filter: %+v %v", filtered, err)
	}
	if err := e.srv.SSM().TargetConnected(e.ctx, "000000000000", "us-east-1", managed); err != nil {
		t.Errorf("target %s: %v", managed, err)
	}
	defer func() {
		// A NAT gateway gives the private subnet its way out: the
		// instance there registers.
		natEIP, err := e.ec2.AllocateAddress(e.ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
		if err != nil {
			t.Fatal(err)
		}
		nat, err := e.ec2.CreateNatGateway(e.ctx, &ec2.CreateNatGatewayInput{SubnetId: aws.String(v.subnets[0]), AllocationId: natEIP.AllocationId})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.ec2.CreateRoute(e.ctx, &ec2.CreateRouteInput{RouteTableId: rtb.RouteTable.RouteTableId,
			DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: nat.NatGateway.NatGatewayId}); err != nil {
			t.Fatal(err)
		}
		if err := eventually(60*time.Second, func() error {
			return e.srv.SSM().TargetConnected(e.ctx, "000000000000", "us-east-1", private)
		}); err != nil {
			t.Fatalf("behind a NAT gateway: %v", err)
		}
	}()
	// Stopped, the agent goes silent: ConnectionLost once the window
	// (3 s here) has passed, and no longer a target.
	if _, err := e.ec2.StopInstances(e.ctx, &ec2.StopInstancesInput{InstanceIds: []string{second}}); err != nil {
		t.Fatal(err)
	}
	e.waitState(second, types.InstanceStateNameStopped)
	if err := eventually(20*time.Second, func() error {
		out, err := ssmc.DescribeInstanceInformation(e.ctx, &ssm.DescribeInstanceInformationInput{Filters: []ssmtypes.InstanceInformationStringFilter{
			{Key: aws.String("PingStatus"), Values: []string{"ConnectionLost"}}}})
		if err == nil && (len(out.InstanceInformationList) != 1 || aws.ToString(out.InstanceInformationList[0].InstanceId) != second) {
			err = fmt.Errorf("ConnectionLost: %+v", out.InstanceInformationList)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var lost interface{ ErrorCode() string }
	if err := e.srv.SSM().TargetConnected(e.ctx, "000000000000", "us-east-1", second); !errors.As(err, &lost) || lost.ErrorCode() != "TargetNotConnected" {
		t.Errorf("stopped target: %v", err)
	}
	for _, id := range []string{noProfile, private} {
		var ce interface{ ErrorCode() string }
		if err := e.srv.SSM().TargetConnected(e.ctx, "000000000000", "us-east-1", id); !errors.As(err, &ce) || ce.ErrorCode() != "TargetNotConnected" ||
			err.Error() == "" {
			t.Errorf("target %s: %v, want TargetNotConnected", id, err)
		}
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

// TestRunCommand: SendCommand runs AWS-RunShellScript on the two managed
// instances a tag selects, inside them, as root; their outputs, exit codes
// and statuses come back through GetCommandInvocation and
// ListCommandInvocations; an execution timeout kills the script; a
// SecureString is read inside an instance with its role, by the AWS CLI
// through the VPC's own endpoint names.
func TestRunCommand(t *testing.T) {
	e, ssmc := newSSMEnv(t)
	v := e.newVPC("10.63.0.0/16", "10.63.1.0/24")
	sg := e.newSG(v.id, "ssm")
	img := e.image()
	var ids []string
	for _, role := range []string{"web", "web", "db"} {
		out, err := e.ec2.RunInstances(e.ctx, &ec2.RunInstancesInput{ImageId: img, InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			SubnetId: aws.String(v.subnets[0]), SecurityGroupIds: []string{sg}, IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("ssm-core")},
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("Role"), Value: aws.String(role)}}}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(out.Instances[0].InstanceId))
	}
	for _, id := range ids {
		e.waitState(id, types.InstanceStateNameRunning)
		e.eip(id)
	}
	if err := e.srv.SSM().CheckInstances(e.ctx); err != nil {
		t.Fatal(err)
	}
	send := func(in *ssm.SendCommandInput) string {
		t.Helper()
		out, err := ssmc.SendCommand(e.ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Command.CommandId)
	}
	// wait waits for a command to finish and returns its status.
	wait := func(id string) ssmtypes.CommandStatus {
		t.Helper()
		var status ssmtypes.CommandStatus
		err := eventually(60*time.Second, func() error {
			out, err := ssmc.ListCommands(e.ctx, &ssm.ListCommandsInput{CommandId: aws.String(id)})
			if err != nil {
				return err
			}
			status = out.Commands[0].Status
			switch status {
			case ssmtypes.CommandStatusPending, ssmtypes.CommandStatusInProgress, ssmtypes.CommandStatusCancelling:
				return fmt.Errorf("command %s is %s", id, status)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return status
	}

	id := send(&ssm.SendCommandInput{DocumentName: aws.String("AWS-RunShellScript"), Targets: []ssmtypes.Target{{Key: aws.String("tag:Role"), Values: []string{"web"}}},
		Parameters: map[string][]string{"commands": {"hostname", "id -u", "echo to-stderr >&2"}}})
	if st := wait(id); st != ssmtypes.CommandStatusSuccess {
		t.Fatalf("command %s: %s", id, st)
	}
	invs, err := ssmc.ListCommandInvocations(e.ctx, &ssm.ListCommandInvocationsInput{CommandId: aws.String(id), Details: true})
	if err != nil || len(invs.CommandInvocations) != 2 {
		t.Fatalf("invocations: %+v %v", invs, err)
	}
	for _, inv := range invs.CommandInvocations {
		iid := aws.ToString(inv.InstanceId)
		if iid == ids[2] {
			t.Errorf("the db instance ran a command for web")
		}
		got, err := ssmc.GetCommandInvocation(e.ctx, &ssm.GetCommandInvocationInput{CommandId: aws.String(id), InstanceId: aws.String(iid)})
		if err != nil {
			t.Fatal(err)
		}
		host := aws.ToString(e.instance(iid).PrivateDnsName)
		if got.Status != ssmtypes.CommandInvocationStatusSuccess || got.ResponseCode != 0 ||
			aws.ToString(got.StandardOutputContent) != strings.SplitN(host, ".", 2)[0]+"\n0\n" && aws.ToString(got.StandardOutputContent) != host+"\n0\n" ||
			aws.ToString(got.StandardErrorContent) != "to-stderr\n" || aws.ToString(got.PluginName) != "aws:runShellScript" {
			t.Errorf("invocation on %s: %s %d stdout %q stderr %q plugin %s", iid, got.Status, got.ResponseCode,
				aws.ToString(got.StandardOutputContent), aws.ToString(got.StandardErrorContent), aws.ToString(got.PluginName))
		}
		if len(inv.CommandPlugins) != 1 || !strings.Contains(aws.ToString(inv.CommandPlugins[0].Output), "----------ERROR-------\nto-stderr") {
			t.Errorf("details of %s: %+v", iid, inv.CommandPlugins)
		}
	}

	// An exit code, and an execution timeout.
	failed := send(&ssm.SendCommandInput{DocumentName: aws.String("AWS-RunShellScript"), InstanceIds: []string{ids[2]},
		Parameters: map[string][]string{"commands": {"echo bye", "exit 3"}}})
	slow := send(&ssm.SendCommandInput{DocumentName: aws.String("AWS-RunShellScript"), InstanceIds: []string{ids[2]},
		Parameters: map[string][]string{"commands": {"sleep 30"}, "executionTimeout": {"2"}}})
	if st := wait(failed); st != ssmtypes.CommandStatusFailed {
		t.Errorf("exit 3: command %s", st)
	}
	got, err := ssmc.GetCommandInvocation(e.ctx, &ssm.GetCommandInvocationInput{CommandId: aws.String(failed), InstanceId: aws.String(ids[2])})
	if err != nil || got.ResponseCode != 3 || got.Status != ssmtypes.CommandInvocationStatusFailed || aws.ToString(got.StandardOutputContent) != "bye\n" {
		t.Errorf("exit 3: %+v %v", got, err)
	}
	if st := wait(slow); st != ssmtypes.CommandStatusTimedOut && st != ssmtypes.CommandStatusFailed {
		t.Errorf("timeout: command %s", st)
	}
	got, err = ssmc.GetCommandInvocation(e.ctx, &ssm.GetCommandInvocationInput{CommandId: aws.String(slow), InstanceId: aws.String(ids[2])})
	if err != nil || got.Status != ssmtypes.CommandInvocationStatusTimedOut || aws.ToString(got.StatusDetails) != "ExecutionTimedOut" {
		t.Errorf("timeout: %+v %v", got, err)
	}

	// A command to an instance that is not managed is refused.
	_, err = ssmc.SendCommand(e.ctx, &ssm.SendCommandInput{DocumentName: aws.String("AWS-RunShellScript"), InstanceIds: []string{"i-0123456789abcdef0"},
		Parameters: map[string][]string{"commands": {"true"}}})
	var ae interface{ ErrorCode() string }
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidInstanceId" {
		t.Errorf("unmanaged target: %v", err)
	}

	// The instance reads a SecureString with its role's credentials
	// (AmazonSSMManagedInstanceCore allows ssm:GetParameter), by the
	// region's endpoint name as the AWS CLI finds it.
	if _, err := ssmc.PutParameter(e.ctx, &ssm.PutParameterInput{Name: aws.String("/app/secret"), Value: aws.String("s3cr3t-value"),
		Type: ssmtypes.ParameterTypeSecureString}); err != nil {
		t.Fatal(err)
	}
	read := send(&ssm.SendCommandInput{DocumentName: aws.String("AWS-RunShellScript"), InstanceIds: []string{ids[0]},
		Parameters: map[string][]string{"commands": {"aws ssm get-parameter --region us-east-1 --name /app/secret --with-decryption --query Parameter.Value --output text"}}})
	wait(read)
	got, err = ssmc.GetCommandInvocation(e.ctx, &ssm.GetCommandInvocationInput{CommandId: aws.String(read), InstanceId: aws.String(ids[0])})
	if err != nil || aws.ToString(got.StandardOutputContent) != "s3cr3t-value\n" {
		t.Errorf("SecureString read in the instance: %+v %v (stderr %q)", got, err, aws.ToString(got.StandardErrorContent))
	}
}
