package ec2port

import "context"

// Instance actions CloudWatch alarms run (arn:aws:automate:<region>:ec2:…).
const (
	ActionStop      = "stop"
	ActionTerminate = "terminate"
	ActionReboot    = "reboot"
	// ActionRecover moves an instance to new hardware keeping its ID, IP
	// addresses and volumes; on minicloud's one host that is its workload
	// restarted, as a reboot.
	ActionRecover = "recover"
)

// InstanceActor is what CloudWatch's alarm actions need of EC2: stop,
// terminate, reboot or recover one instance, as StopInstances,
// TerminateInstances and RebootInstances would, with their errors (an instance not found, not
// in a state that allows it). EC2 implements it (ec2.Service.InstanceActor);
// the server hands it to CloudWatch.
type InstanceActor interface {
	InstanceAction(ctx context.Context, account, region, instanceID, action string) error
}
