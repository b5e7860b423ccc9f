package ec2

import (
	"context"
	"fmt"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/ec2port"
)

// InstanceActor is EC2 as CloudWatch's alarm actions see it.
func (s *Service) InstanceActor() ec2port.InstanceActor { return actor{s} }

type actor struct{ s *Service }

// InstanceAction implements ec2port.InstanceActor through the API
// operations themselves, so that an alarm's stop is a user's stop.
func (a actor) InstanceAction(ctx context.Context, account, region, id, action string) error {
	ids := []string{id}
	var err error
	switch action {
	case ec2port.ActionStop:
		_, err = a.s.StopInstances(scoped(ctx, account, region, "StopInstances"), &ec2api.StopInstancesRequest{InstanceIds: ids})
	case ec2port.ActionTerminate:
		_, err = a.s.TerminateInstances(scoped(ctx, account, region, "TerminateInstances"), &ec2api.TerminateInstancesRequest{InstanceIds: ids})
	case ec2port.ActionReboot, ec2port.ActionRecover:
		// Recover is AWS moving the instance to a healthy host, same ID,
		// addresses and volumes, memory lost: here, a restart of its
		// workload, which is what a reboot does.
		_, err = a.s.RebootInstances(scoped(ctx, account, region, "RebootInstances"), &ec2api.RebootInstancesRequest{InstanceIds: ids})
	default:
		return fmt.Errorf("ec2: unknown instance action %q", action)
	}
	return err
}
