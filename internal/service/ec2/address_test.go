package ec2_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestElasticIPs(t *testing.T) {
	env := newEnvWithRuntime(t, "", instNewTestRuntime())
	alloc, err := env.ec2.AllocateAddress(env.ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc,
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeElasticIp, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("eip")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	allocID, eip := aws.ToString(alloc.AllocationId), aws.ToString(alloc.PublicIp)
	if !strings.HasPrefix(allocID, "eipalloc-") || !strings.HasPrefix(eip, "198.1") || alloc.Domain != types.DomainTypeVpc ||
		aws.ToString(alloc.PublicIpv4Pool) != "amazon" || aws.ToString(alloc.NetworkBorderGroup) != "us-east-1" {
		t.Fatalf("allocate %+v", alloc)
	}
	// An instance of a VPC without an internet gateway cannot have one.
	_, privSubnet := instVPC(t, env, "10.5.0.0/16", "10.5.0.0/24", false)
	priv := instRun(t, env, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro, SubnetId: aws.String(privSubnet)})
	instWaitState(t, env, aws.ToString(priv.InstanceId), "running")
	_, err = env.ec2.AssociateAddress(env.ctx, &ec2.AssociateAddressInput{AllocationId: aws.String(allocID), InstanceId: priv.InstanceId})
	wantCode(t, err, "Gateway.NotAttached")

	inst := instRun(t, env, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro})
	id := aws.ToString(inst.InstanceId)
	// A pending instance is not in a state to be associated.
	_, err = env.ec2.AssociateAddress(env.ctx, &ec2.AssociateAddressInput{AllocationId: aws.String(allocID), InstanceId: aws.String(id)})
	if err != nil {
		wantCode(t, err, "IncorrectInstanceState")
	}
	running := instWaitState(t, env, id, "running")
	autoIP := aws.ToString(running.PublicIpAddress)
	assoc, err := env.ec2.AssociateAddress(env.ctx, &ec2.AssociateAddressInput{AllocationId: aws.String(allocID), InstanceId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	assocID := aws.ToString(assoc.AssociationId)
	if !strings.HasPrefix(assocID, "eipassoc-") {
		t.Fatalf("association %q", assocID)
	}
	got := instDescribe(t, env, id)
	if aws.ToString(got.PublicIpAddress) != eip || aws.ToString(got.NetworkInterfaces[0].Association.IpOwnerId) != "000000000000" {
		t.Errorf("instance with EIP: %s (auto was %s) %+v", aws.ToString(got.PublicIpAddress), autoIP, got.NetworkInterfaces[0].Association)
	}
	enis, err := env.ec2.DescribeNetworkInterfaces(env.ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{aws.ToString(got.NetworkInterfaces[0].NetworkInterfaceId)}})
	if err != nil {
		t.Fatal(err)
	}
	if a := enis.NetworkInterfaces[0].Association; a == nil || aws.ToString(a.AllocationId) != allocID || aws.ToString(a.AssociationId) != assocID || aws.ToString(a.PublicIp) != eip ||
		aws.ToString(a.PublicDnsName) != "ec2-"+strings.ReplaceAll(eip, ".", "-")+".compute-1.amazonaws.com" {
		t.Errorf("eni association %+v", enis.NetworkInterfaces[0].Association)
	}
	addrs, err := env.ec2.DescribeAddresses(env.ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{allocID}})
	if err != nil {
		t.Fatal(err)
	}
	if a := addrs.Addresses[0]; aws.ToString(a.InstanceId) != id || aws.ToString(a.AssociationId) != assocID || aws.ToString(a.PrivateIpAddress) != aws.ToString(got.PrivateIpAddress) || len(a.Tags) != 1 {
		t.Errorf("address %+v", a)
	}
	// Already associated: refused unless AllowReassociation.
	other := instRun(t, env, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro})
	instWaitState(t, env, aws.ToString(other.InstanceId), "running")
	_, err = env.ec2.AssociateAddress(env.ctx, &ec2.AssociateAddressInput{AllocationId: aws.String(allocID), InstanceId: other.InstanceId})
	wantCode(t, err, "Resource.AlreadyAssociated")
	_, err = env.ec2.ReleaseAddress(env.ctx, &ec2.ReleaseAddressInput{AllocationId: aws.String(allocID)})
	wantCode(t, err, "InvalidIPAddress.InUse")
	// The EIP survives stop/start.
	if _, err := env.ec2.StopInstances(env.ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	if s := instWaitState(t, env, id, "stopped"); aws.ToString(s.PublicIpAddress) != eip {
		t.Errorf("stopped instance lost its EIP: %q", aws.ToString(s.PublicIpAddress))
	}
	if _, err := env.ec2.StartInstances(env.ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	if s := instWaitState(t, env, id, "running"); aws.ToString(s.PublicIpAddress) != eip {
		t.Errorf("restarted instance has %q, want EIP %s", aws.ToString(s.PublicIpAddress), eip)
	}
	// Reassociation moves it; the first instance gets an auto-assigned IP back.
	re, err := env.ec2.AssociateAddress(env.ctx, &ec2.AssociateAddressInput{AllocationId: aws.String(allocID), InstanceId: other.InstanceId, AllowReassociation: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if ip := aws.ToString(instDescribe(t, env, id).PublicIpAddress); ip == "" || ip == eip {
		t.Errorf("first instance after reassociation: %q", ip)
	}
	if ip := aws.ToString(instDescribe(t, env, aws.ToString(other.InstanceId)).PublicIpAddress); ip != eip {
		t.Errorf("second instance after reassociation: %q", ip)
	}
	_, err = env.ec2.DisassociateAddress(env.ctx, &ec2.DisassociateAddressInput{AssociationId: aws.String(assocID)})
	wantCode(t, err, "InvalidAssociationID.NotFound")
	if _, err := env.ec2.DisassociateAddress(env.ctx, &ec2.DisassociateAddressInput{AssociationId: re.AssociationId}); err != nil {
		t.Fatal(err)
	}
	if ip := aws.ToString(instDescribe(t, env, aws.ToString(other.InstanceId)).PublicIpAddress); ip == "" || ip == eip {
		t.Errorf("after disassociation: %q", ip)
	}
	// Filters.
	f := func(name string, values ...string) []types.Filter {
		return []types.Filter{{Name: aws.String(name), Values: values}}
	}
	for _, tc := range []struct {
		filters []types.Filter
		want    int
	}{
		{f("domain", "vpc"), 1}, {f("public-ip", eip), 1}, {f("tag:Name", "eip"), 1}, {f("instance-id", id), 0}, {f("association-id", "*"), 0},
	} {
		out, err := env.ec2.DescribeAddresses(env.ctx, &ec2.DescribeAddressesInput{Filters: tc.filters})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Addresses) != tc.want {
			t.Errorf("filter %s: %d addresses, want %d", aws.ToString(tc.filters[0].Name), len(out.Addresses), tc.want)
		}
	}
	_, err = env.ec2.DescribeAddresses(env.ctx, &ec2.DescribeAddressesInput{PublicIps: []string{"198.51.100.1"}})
	wantCode(t, err, "InvalidAddress.NotFound")
	_, err = env.ec2.DescribeAddresses(env.ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{"eipalloc-0123456789abcdef0"}})
	wantCode(t, err, "InvalidAllocationID.NotFound")
	if _, err := env.ec2.ReleaseAddress(env.ctx, &ec2.ReleaseAddressInput{AllocationId: aws.String(allocID)}); err != nil {
		t.Fatal(err)
	}
	_, err = env.ec2.ReleaseAddress(env.ctx, &ec2.ReleaseAddressInput{AllocationId: aws.String(allocID)})
	wantCode(t, err, "InvalidAllocationID.NotFound")
	// Five per region.
	for range 5 {
		if _, err := env.ec2.AllocateAddress(env.ctx, &ec2.AllocateAddressInput{}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = env.ec2.AllocateAddress(env.ctx, &ec2.AllocateAddressInput{})
	wantCode(t, err, "AddressLimitExceeded")
}

func TestElasticIPOnTermination(t *testing.T) {
	env := newEnvWithRuntime(t, "", instNewTestRuntime())
	alloc, err := env.ec2.AllocateAddress(env.ctx, &ec2.AllocateAddressInput{})
	if err != nil {
		t.Fatal(err)
	}
	inst := instRun(t, env, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro})
	id := aws.ToString(inst.InstanceId)
	instWaitState(t, env, id, "running")
	if _, err := env.ec2.AssociateAddress(env.ctx, &ec2.AssociateAddressInput{AllocationId: alloc.AllocationId, InstanceId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.ec2.TerminateInstances(env.ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	instWaitState(t, env, id, "terminated")
	out, err := env.ec2.DescribeAddresses(env.ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{aws.ToString(alloc.AllocationId)}})
	if err != nil {
		t.Fatal(err)
	}
	if a := out.Addresses[0]; a.AssociationId != nil || a.InstanceId != nil || a.NetworkInterfaceId != nil {
		t.Errorf("EIP of a terminated instance still associated: %+v", a)
	}
	if _, err := env.ec2.ReleaseAddress(env.ctx, &ec2.ReleaseAddressInput{AllocationId: alloc.AllocationId}); err != nil {
		t.Fatal(err)
	}
}
