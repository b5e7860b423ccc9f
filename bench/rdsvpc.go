//go:build bench

package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// rdsVPCTargets are the DB instance reached from inside its VPC: from an
// EC2 instance in its subnet (an application's path: the client's and the
// DB's security groups, two veth pairs and the subnet's bridge), and from
// the DB instance's own namespace (no network but lo: what the server
// itself costs, the ceiling of every other path).
type rdsVPCTargets struct {
	db, client pgTarget
	instance   string
}

// rdsInVPC launches an EC2 instance in the subnet of DB instance id's
// network interface (the VPC's default security group: all egress) and
// returns the pgbench targets inside the VPC. The bench runs pgbench in the
// namespaces minicloud keeps under /run/minicloud/netns.
func rdsInVPC(ctx context.Context, ec *ec2.Client, endpoint, id string) (*rdsVPCTargets, error) {
	eni, addr, err := rdsENI(endpoint, id)
	if err != nil {
		return nil, err
	}
	dbNS, err := waitNamespace(eni)
	if err != nil {
		return nil, err
	}
	ifs, err := ec.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eni}})
	if err != nil || len(ifs.NetworkInterfaces) != 1 {
		return nil, fmt.Errorf("DescribeNetworkInterfaces %s: %v", eni, err)
	}
	ami, err := findAMI(ctx, ec, "minicloud")
	if err != nil {
		return nil, err
	}
	out, err := ec.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(ami), InstanceType: benchInstanceType,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: ifs.NetworkInterfaces[0].SubnetId})
	if err != nil {
		return nil, fmt.Errorf("RunInstances: %w", err)
	}
	t := &rdsVPCTargets{instance: aws.ToString(out.Instances[0].InstanceId), db: pgTarget{addr: addr + ":5432", ns: dbNS}}
	if err := waitState(ec, []string{t.instance}, types.InstanceStateNameRunning, 50*time.Millisecond, time.Minute); err != nil {
		return nil, err
	}
	ns, err := waitNamespace(t.instance)
	if err != nil {
		return nil, err
	}
	t.client = pgTarget{addr: t.db.addr, ns: ns}
	return t, nil
}

func (t *rdsVPCTargets) close(ec *ec2.Client) { _, _ = terminate(ec, []string{t.instance}) }

// waitNamespace finds the namespace minicloud made for workload name.
func waitNamespace(name string) (string, error) {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if m, _ := filepath.Glob("/run/minicloud/netns/*-i-" + name); len(m) == 1 {
			return m[0], nil
		}
	}
	return "", fmt.Errorf("no namespace of %s under /run/minicloud/netns", name)
}

// rdsENI reads DB instance id's network interface and private address
// from health.
func rdsENI(endpoint, id string) (eni, addr string, err error) {
	in, err := rdsHealth(endpoint, id)
	if err != nil {
		return "", "", err
	}
	if in.VPC.NetworkInterface == "" {
		return "", "", fmt.Errorf("health lists no network interface for %s", id)
	}
	return in.VPC.NetworkInterface, in.VPC.Address, nil
}
