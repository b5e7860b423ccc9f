package ec2_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestAssociateAddressChecks pins AssociateAddress' errors with their
// messages, then the ways an association replaces another: the same
// target again, a second Elastic IP on one private address, and moving an
// address with AllowReassociation.
func TestAssociateAddressChecks(t *testing.T) {
	env := newEnvWithRuntime(t, "", instNewTestRuntime())
	_, subnetA := instVPC(t, env, "10.6.0.0/16", "10.6.1.0/24", true)
	vpcB, subnetB := instVPC(t, env, "10.7.0.0/16", "10.7.1.0/24", false)
	newENI := func(subnet string) string {
		t.Helper()
		out, err := env.ec2.CreateNetworkInterface(env.ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(subnet)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.NetworkInterface.NetworkInterfaceId)
	}
	alloc := func() (string, string) {
		t.Helper()
		out, err := env.ec2.AllocateAddress(env.ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.AllocationId), aws.ToString(out.PublicIp)
	}
	free, isolated := newENI(subnetA), newENI(subnetB)
	one := aws.ToString(instRun(t, env, &ec2.RunInstancesInput{SubnetId: aws.String(subnetA)}).InstanceId)
	multi := aws.ToString(instRun(t, env, &ec2.RunInstancesInput{NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{
		{DeviceIndex: aws.Int32(0), SubnetId: aws.String(subnetA)}, {DeviceIndex: aws.Int32(1), SubnetId: aws.String(subnetA)}}}).InstanceId)
	gone := aws.ToString(instRun(t, env, &ec2.RunInstancesInput{SubnetId: aws.String(subnetA)}).InstanceId)
	for _, id := range []string{one, multi, gone} {
		instWaitState(t, env, id, "running")
	}
	if _, err := env.ec2.TerminateInstances(env.ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{gone}}); err != nil {
		t.Fatal(err)
	}
	instWaitState(t, env, gone, "terminated")
	eip1, ip1 := alloc()
	eip2, _ := alloc()

	tests := []struct {
		name      string
		in        ec2.AssociateAddressInput
		code, msg string
	}{
		{"no address", ec2.AssociateAddressInput{InstanceId: aws.String(one)},
			"MissingParameter", "The request must contain the parameter AllocationId"},
		{"unknown address", ec2.AssociateAddressInput{AllocationId: aws.String("eipalloc-0123456789abcdef0"), InstanceId: aws.String(one)},
			"InvalidAllocationID.NotFound", "The allocation ID 'eipalloc-0123456789abcdef0' does not exist"},
		{"no target", ec2.AssociateAddressInput{AllocationId: aws.String(eip1)},
			"MissingParameter", "The request must contain the parameter instanceId or networkInterfaceId"},
		{"interface of another instance", ec2.AssociateAddressInput{AllocationId: aws.String(eip1), NetworkInterfaceId: aws.String(free), InstanceId: aws.String(one)},
			"InvalidParameterCombination", "The network interface '" + free + "' is not attached to instance '" + one + "'."},
		{"unknown interface", ec2.AssociateAddressInput{AllocationId: aws.String(eip1), NetworkInterfaceId: aws.String("eni-0123456789abcdef0")},
			"InvalidNetworkInterfaceID.NotFound", "The networkInterface ID 'eni-0123456789abcdef0' does not exist"},
		{"terminated instance", ec2.AssociateAddressInput{AllocationId: aws.String(eip1), InstanceId: aws.String(gone)},
			"IncorrectInstanceState", "The terminated instance '" + gone + "' is not in a valid state for this operation."},
		{"two interfaces", ec2.AssociateAddressInput{AllocationId: aws.String(eip1), InstanceId: aws.String(multi)},
			"InvalidInstanceID", "There are multiple interfaces attached to instance '" + multi + "'. Please specify an interface ID for the operation instead."},
		{"address of another interface", ec2.AssociateAddressInput{AllocationId: aws.String(eip1), NetworkInterfaceId: aws.String(free), PrivateIpAddress: aws.String("10.6.1.200")},
			"InvalidParameterValue", "The private IP address 10.6.1.200 is not assigned to the network interface " + free + "."},
		{"no internet gateway", ec2.AssociateAddressInput{AllocationId: aws.String(eip1), NetworkInterfaceId: aws.String(isolated)},
			"Gateway.NotAttached", "Network " + vpcB + " is not attached to any internet gateway"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := env.ec2.AssociateAddress(env.ctx, &tc.in)
			wantError(t, err, tc.code, tc.msg)
		})
	}

	associate := func(in ec2.AssociateAddressInput) string {
		t.Helper()
		out, err := env.ec2.AssociateAddress(env.ctx, &in)
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.AssociationId)
	}
	address := func(id string) types.Address {
		t.Helper()
		out, err := env.ec2.DescribeAddresses(env.ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{id}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Addresses[0]
	}
	eniAssociation := func(id string) *types.NetworkInterfaceAssociation {
		t.Helper()
		out, err := env.ec2.DescribeNetworkInterfaces(env.ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{id}})
		if err != nil {
			t.Fatal(err)
		}
		return out.NetworkInterfaces[0].Association
	}
	// An interface that no instance has takes an address; the same
	// request again answers with the same association.
	first := associate(ec2.AssociateAddressInput{AllocationId: aws.String(eip1), NetworkInterfaceId: aws.String(free)})
	if again := associate(ec2.AssociateAddressInput{AllocationId: aws.String(eip1), NetworkInterfaceId: aws.String(free)}); again != first {
		t.Errorf("same association again: %s, first %s", again, first)
	}
	if a := address(eip1); aws.ToString(a.NetworkInterfaceId) != free || a.InstanceId != nil || aws.ToString(a.AssociationId) != first {
		t.Errorf("address on a free interface: %+v", a)
	}
	// Elsewhere only with AllowReassociation.
	_, err := env.ec2.AssociateAddress(env.ctx, &ec2.AssociateAddressInput{AllocationId: aws.String(eip1), InstanceId: aws.String(one)})
	wantError(t, err, "Resource.AlreadyAssociated", "resource "+eip1+" is already associated with associate-id "+first)
	// A second Elastic IP on the same private address takes its place.
	second := associate(ec2.AssociateAddressInput{AllocationId: aws.String(eip2), NetworkInterfaceId: aws.String(free)})
	if a := address(eip1); a.AssociationId != nil || a.NetworkInterfaceId != nil {
		t.Errorf("replaced address still associated: %+v", a)
	}
	if a := eniAssociation(free); aws.ToString(a.AllocationId) != eip2 || aws.ToString(a.AssociationId) != second {
		t.Errorf("interface association %+v", a)
	}
	// Moving eip2 to an instance frees the interface and replaces the
	// instance's own public address.
	moved := associate(ec2.AssociateAddressInput{AllocationId: aws.String(eip2), InstanceId: aws.String(one), AllowReassociation: aws.Bool(true)})
	if a := eniAssociation(free); a != nil {
		t.Errorf("interface still associated after the move: %+v", a)
	}
	if a := address(eip2); aws.ToString(a.InstanceId) != one || aws.ToString(a.AssociationId) != moved {
		t.Errorf("moved address %+v", a)
	}
	// eip1 on the instance's private address replaces eip2 there.
	associate(ec2.AssociateAddressInput{AllocationId: aws.String(eip1), InstanceId: aws.String(one)})
	if a := address(eip2); a.AssociationId != nil {
		t.Errorf("eip2 still associated: %+v", a)
	}
	if got := instDescribe(t, env, one); aws.ToString(got.PublicIpAddress) != ip1 {
		t.Errorf("instance public IP %q, want %s", aws.ToString(got.PublicIpAddress), ip1)
	}
}
