package ec2

import (
	"context"

	"github.com/minicloud/minicloud/internal/api/ec2api"
)

// The instance state machine's API side. The handlers move an instance to
// the state the user asked for (pending, stopping, shutting-down) and the
// runtime reports the state it reached (running, stopped, terminated;
// ReportInstance). With no runtime, stopping and shutting-down complete at
// once: nothing runs that would have to be stopped.

func instanceChange(id, prev, cur string) ec2api.InstanceStateChange {
	return ec2api.InstanceStateChange{InstanceId: new(id), PreviousState: instanceState(prev), CurrentState: instanceState(cur)}
}

// instanceRefreshNetwork re-derives rec's network fields from its
// interfaces, in memory; the caller stores rec.
func instanceRefreshNetwork(t *rtx, rec *instanceRecord) error {
	enis, err := instanceENIs(t, deref(rec.InstanceId))
	if err != nil {
		return err
	}
	instanceApplyNetwork(t, rec, enis)
	return nil
}

// instanceFinishStop makes rec stopped: the auto-assigned public IP is
// released (an Elastic IP stays). The caller stores rec and ext.
func instanceFinishStop(t *rtx, rec *instanceRecord, ext *instanceExt) error {
	instanceSetState(rec, stateStopped)
	ext.Reachable = false
	enis, err := instanceENIs(t, deref(rec.InstanceId))
	if err != nil {
		return err
	}
	for _, e := range enis {
		if e.Association == nil || deref(e.Association.AllocationId) != "" {
			continue
		}
		if err := eniReleaseAutoPublicIP(t, e); err != nil {
			return err
		}
		if err := networkInterfaces.put(t, e); err != nil {
			return err
		}
	}
	return instanceRefreshNetwork(t, rec)
}

// instanceFinishTerminate makes rec terminated: its interfaces are deleted
// (DeleteOnTermination) or detached, their public addresses released or
// disassociated, its volumes deleted (DeleteOnTermination) or detached. The
// caller stores rec.
func (s *Service) instanceFinishTerminate(t *rtx, rec *instanceRecord) error {
	id := deref(rec.InstanceId)
	instanceSetState(rec, stateTerminated)
	rec.TerminatedAt = t.now
	enis, err := instanceENIs(t, id)
	if err != nil {
		return err
	}
	for _, e := range enis {
		if deref(e.Attachment.DeleteOnTermination) {
			if err := eniDelete(t, e); err != nil {
				return err
			}
			continue
		}
		if err := eniReleaseAutoPublicIP(t, e); err != nil {
			return err
		}
		e.Attachment = nil
		e.Status = new("available")
		if err := networkInterfaces.put(t, e); err != nil {
			return err
		}
		// An Elastic IP stays associated with a surviving interface, but
		// no longer with the instance.
		if err := addressSyncENI(t, e); err != nil {
			return err
		}
	}
	if err := volumeReleaseForTermination(t, rec); err != nil {
		return err
	}
	rec.BlockDeviceMappings = []ec2api.InstanceBlockDeviceMapping{}
	ext, err := instanceExtGet(t, id)
	if err != nil {
		return err
	}
	ext.Reachable = false
	if err := instanceExtPut(t, id, ext); err != nil {
		return err
	}
	return instanceRefreshNetwork(t, rec)
}

// StartInstances starts stopped instances: they become pending, and the
// runtime boots them.
func (s *Service) StartInstances(ctx context.Context, in *ec2api.StartInstancesRequest) (*ec2api.StartInstancesResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	out := &ec2api.StartInstancesResult{StartingInstances: []ec2api.InstanceStateChange{}}
	err := s.update(ctx, func(t *rtx) error {
		recs, err := instanceGetAll(t, in.InstanceIds)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			id := deref(rec.InstanceId)
			cur := instanceStateName(rec)
			switch cur {
			case statePending, stateRunning:
				out.StartingInstances = append(out.StartingInstances, instanceChange(id, cur, cur))
				continue
			case stateStopped:
			default:
				return apiErr("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be started.", id)
			}
			ext, err := instanceExtGet(t, id)
			if err != nil {
				return err
			}
			ext.Generation++
			if err := instanceExtPut(t, id, ext); err != nil {
				return err
			}
			instanceSetState(rec, statePending)
			rec.StateTransitionReason = new("")
			rec.StateReason = &ec2api.StateReason{Code: new("pending"), Message: new("pending")}
			launch := t.now.Truncate(1e9)
			rec.LaunchTime = &launch
			if ext.AutoPublicIP {
				e, err := instancePrimaryENI(t, id)
				if err != nil {
					return err
				}
				if e != nil && e.Association == nil {
					if err := eniAssignAutoPublicIP(t, e); err != nil {
						return err
					}
					if err := networkInterfaces.put(t, e); err != nil {
						return err
					}
				}
			}
			if err := instanceRefreshNetwork(t, rec); err != nil {
				return err
			}
			if err := instances.put(t, rec); err != nil {
				return err
			}
			out.StartingInstances = append(out.StartingInstances, instanceChange(id, cur, statePending))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// StopInstances stops running instances: they become stopping, and the
// runtime shuts them down and reports stopped.
func (s *Service) StopInstances(ctx context.Context, in *ec2api.StopInstancesRequest) (*ec2api.StopInstancesResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	available, _ := s.runtimeAvailable()
	out := &ec2api.StopInstancesResult{StoppingInstances: []ec2api.InstanceStateChange{}}
	err := s.update(ctx, func(t *rtx) error {
		recs, err := instanceGetAll(t, in.InstanceIds)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			id := deref(rec.InstanceId)
			cur := instanceStateName(rec)
			switch cur {
			case stateStopping, stateStopped:
				out.StoppingInstances = append(out.StoppingInstances, instanceChange(id, cur, cur))
				continue
			case stateRunning:
			default:
				return apiErr("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be stopped.", id)
			}
			ext, err := instanceExtGet(t, id)
			if err != nil {
				return err
			}
			if ext.DisableAPIStop {
				return apiErr("OperationNotPermitted", "The instance '%s' may not be stopped. Modify its 'disableApiStop' instance attribute and try again.", id)
			}
			if deref(in.Hibernate) {
				return apiErr("UnsupportedHibernationConfiguration", "The instance '%s' does not have hibernation configured", id)
			}
			ext.Generation++
			instanceSetState(rec, stateStopping)
			rec.StateTransitionReason = new(instanceUserTime(t.now))
			rec.StateReason = userShutdownReason()
			if !available {
				if err := instanceFinishStop(t, rec, ext); err != nil {
					return err
				}
			}
			if err := instanceExtPut(t, id, ext); err != nil {
				return err
			}
			if err := instances.put(t, rec); err != nil {
				return err
			}
			out.StoppingInstances = append(out.StoppingInstances, instanceChange(id, cur, stateStopping))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// TerminateInstances terminates instances: they become shutting-down, and
// the runtime tears them down and reports terminated, which releases their
// interfaces, addresses and volumes.
func (s *Service) TerminateInstances(ctx context.Context, in *ec2api.TerminateInstancesRequest) (*ec2api.TerminateInstancesResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	available, _ := s.runtimeAvailable()
	out := &ec2api.TerminateInstancesResult{TerminatingInstances: []ec2api.InstanceStateChange{}}
	err := s.update(ctx, func(t *rtx) error {
		recs, err := instanceGetAll(t, in.InstanceIds)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			if rec.DisableAPITermination {
				return apiErr("OperationNotPermitted", "The instance '%s' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.", deref(rec.InstanceId))
			}
		}
		for _, rec := range recs {
			id := deref(rec.InstanceId)
			cur := instanceStateName(rec)
			if cur == stateTerminated || cur == stateShuttingDown {
				out.TerminatingInstances = append(out.TerminatingInstances, instanceChange(id, cur, cur))
				continue
			}
			ext, err := instanceExtGet(t, id)
			if err != nil {
				return err
			}
			ext.Generation++
			if err := instanceExtPut(t, id, ext); err != nil {
				return err
			}
			instanceSetState(rec, stateShuttingDown)
			rec.StateTransitionReason = new(instanceUserTime(t.now))
			rec.StateReason = userShutdownReason()
			if !available {
				if err := s.instanceFinishTerminate(t, rec); err != nil {
					return err
				}
			}
			if err := instances.put(t, rec); err != nil {
				return err
			}
			out.TerminatingInstances = append(out.TerminatingInstances, instanceChange(id, cur, stateShuttingDown))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RebootInstances asks the runtime to reboot running instances; they stay
// running.
func (s *Service) RebootInstances(ctx context.Context, in *ec2api.RebootInstancesRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	err := s.update(ctx, func(t *rtx) error {
		recs, err := instanceGetAll(t, in.InstanceIds)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			id := deref(rec.InstanceId)
			if instanceStateName(rec) != stateRunning {
				return apiErr("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be rebooted.", id)
			}
			ext, err := instanceExtGet(t, id)
			if err != nil {
				return err
			}
			ext.RebootRequests++
			if err := instanceExtPut(t, id, ext); err != nil {
				return err
			}
			// Rewrite the record: the runtime watches instance keys.
			if err := instances.put(t, rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}
