package server

import (
	"context"

	"github.com/minicloud/minicloud/internal/agentport"
	"github.com/minicloud/minicloud/internal/reconcile"
	"github.com/minicloud/minicloud/internal/service/ec2"
	"github.com/minicloud/minicloud/internal/service/ssm"
	"github.com/minicloud/minicloud/internal/state"
)

// ssmInstances is EC2's instances as Systems Manager's agents controller
// sees them (ssm.Instances).
type ssmInstances struct{ ec2 *ec2.Service }

func (i ssmInstances) Instance(ctx context.Context, account, region, id string) (ssm.Instance, bool, error) {
	spec, found, err := i.ec2.Instance(ctx, account, region, id)
	if err != nil || !found {
		return ssm.Instance{}, found, err
	}
	name, version := ec2.Platform(spec.ImageName)
	inst := ssm.Instance{Account: account, Region: region, ID: id, State: spec.State, ProfileARN: spec.IamInstanceProfile,
		Hostname: spec.Hostname, PlatformName: name, PlatformVersion: version, Tags: spec.Tags}
	if len(spec.NetworkInterfaces) > 0 && len(spec.NetworkInterfaces[0].PrivateIPs) > 0 {
		inst.PrivateIP = spec.NetworkInterfaces[0].PrivateIPs[0]
	}
	return inst, true, nil
}

func (i ssmInstances) InstanceKeys(ctx context.Context) ([]reconcile.Key, error) {
	specs, err := i.ec2.Instances(ctx)
	if err != nil {
		return nil, err
	}
	keys := make([]reconcile.Key, 0, len(specs))
	for _, s := range specs {
		keys = append(keys, reconcile.Key{Scope: state.Scope{Account: s.Account, Region: s.Region}, ID: s.InstanceID})
	}
	return keys, nil
}

// ssmAgent is the instance runtime as Systems Manager's agent (exec and
// dial in instances); nil without the data plane.
func ssmAgent(dp *dataPlane) agentport.Agent {
	if dp.rt == nil {
		return nil
	}
	return dp.rt
}
