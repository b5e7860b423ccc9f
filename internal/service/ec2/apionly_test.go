package ec2_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// apiOnlyWait bounds the SDK waiters below; their first poll is at once,
// then every 50 ms here (AWS's default is 15 s).
const apiOnlyWait = 10 * time.Second

// TestAPIOnlyInstanceLifecycle: with the data plane off (newEnv's default)
// the API-only runtime completes AWS's state machine, so the SDK's own
// waiters return, and says that nothing runs.
func TestAPIOnlyInstanceLifecycle(t *testing.T) {
	env := newEnv(t, "")
	inst := instRun(t, env, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro})
	id := aws.ToString(inst.InstanceId)
	if inst.State.Name != types.InstanceStateNamePending {
		t.Errorf("RunInstances answered %s, want pending", inst.State.Name)
	}
	// A pending instance that a runtime will start has AWS's StateReason,
	// not minicloud.NoRuntime.
	if got := instDescribe(t, env, id); got.StateReason != nil && aws.ToString(got.StateReason.Code) == "minicloud.NoRuntime" {
		t.Errorf("pending instance's state reason %+v", got.StateReason)
	}
	ids := &ec2.DescribeInstancesInput{InstanceIds: []string{id}}
	running := ec2.NewInstanceRunningWaiter(env.ec2, func(o *ec2.InstanceRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	})
	if err := running.Wait(env.ctx, ids, apiOnlyWait); err != nil {
		t.Fatalf("InstanceRunning waiter: %v", err)
	}
	got := instDescribe(t, env, id)
	if got.StateReason != nil || aws.ToString(got.StateTransitionReason) != "" || got.LaunchTime == nil {
		t.Errorf("running instance: reason %+v, transition %q, launch %v", got.StateReason, aws.ToString(got.StateTransitionReason), got.LaunchTime)
	}
	// The console says unmistakably that nothing runs.
	con, err := env.ec2.GetConsoleOutput(env.ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	text, _ := base64.StdEncoding.DecodeString(aws.ToString(con.Output))
	if !strings.Contains(string(text), "minicloud API-only mode: this instance is recorded as running, but nothing runs it (the data plane is off (--data-plane=off))") {
		t.Errorf("console output %q", text)
	}
	// Status checks as AWS shows them for a running instance: initializing,
	// then ok.
	statusOK := ec2.NewInstanceStatusOkWaiter(env.ec2, func(o *ec2.InstanceStatusOkWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	})
	if err := statusOK.Wait(env.ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: []string{id}}, apiOnlyWait); err != nil {
		t.Fatalf("InstanceStatusOk waiter: %v", err)
	}
	st, err := env.ec2.DescribeInstanceStatus(env.ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: []string{id}})
	if err != nil || len(st.InstanceStatuses) != 1 || st.InstanceStatuses[0].SystemStatus.Status != types.SummaryStatusOk ||
		st.InstanceStatuses[0].InstanceStatus.Details[0].Status != types.StatusTypePassed {
		t.Errorf("status %+v %v", st, err)
	}
	// A reboot keeps it running and is noted on the console.
	if _, err := env.ec2.RebootInstances(env.ctx, &ec2.RebootInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(apiOnlyWait)
	for {
		con, err := env.ec2.GetConsoleOutput(env.ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		text, _ := base64.StdEncoding.DecodeString(aws.ToString(con.Output))
		if strings.Contains(string(text), "reboot recorded") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reboot on the console: %q", text)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := instDescribe(t, env, id); got.State.Name != types.InstanceStateNameRunning {
		t.Errorf("after a reboot: %s", got.State.Name)
	}

	stop, err := env.ec2.StopInstances(env.ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})
	if err != nil || stop.StoppingInstances[0].CurrentState.Name != types.InstanceStateNameStopping {
		t.Fatalf("StopInstances %+v %v", stop, err)
	}
	stopped := ec2.NewInstanceStoppedWaiter(env.ec2, func(o *ec2.InstanceStoppedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	})
	if err := stopped.Wait(env.ctx, ids, apiOnlyWait); err != nil {
		t.Fatalf("InstanceStopped waiter: %v", err)
	}
	if got := instDescribe(t, env, id); got.PublicIpAddress != nil || aws.ToString(got.StateReason.Code) != "Client.UserInitiatedShutdown" {
		t.Errorf("stopped instance: public IP %v, reason %+v", aws.ToString(got.PublicIpAddress), got.StateReason)
	}
	if _, err := env.ec2.StartInstances(env.ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	if err := running.Wait(env.ctx, ids, apiOnlyWait); err != nil {
		t.Fatalf("InstanceRunning waiter after StartInstances: %v", err)
	}
	if _, err := env.ec2.TerminateInstances(env.ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	terminated := ec2.NewInstanceTerminatedWaiter(env.ec2, func(o *ec2.InstanceTerminatedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	})
	if err := terminated.Wait(env.ctx, ids, apiOnlyWait); err != nil {
		t.Fatalf("InstanceTerminated waiter: %v", err)
	}
	// Terminated releases what the instance held, as on AWS.
	enis, err := env.ec2.DescribeNetworkInterfaces(env.ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{{Name: aws.String("attachment.instance-id"), Values: []string{id}}}})
	if err != nil || len(enis.NetworkInterfaces) != 0 {
		t.Errorf("interfaces of a terminated instance: %+v %v", enis, err)
	}

	// Health names the mode and why.
	if h, body := instHealth(t, env); h.Runtime != "api-only" || !h.Available || h.Reason != "the data plane is off (--data-plane=off)" {
		t.Errorf("health %s", body)
	}
}

// TestAPIOnlyStorageLifecycle: volumes, snapshots and images of an
// API-only instance reach their steady states, as the SDK's waiters see
// them.
func TestAPIOnlyStorageLifecycle(t *testing.T) {
	env := newEnv(t, "")
	inst := instRun(t, env, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro})
	id := aws.ToString(inst.InstanceId)
	running := ec2.NewInstanceRunningWaiter(env.ec2, func(o *ec2.InstanceRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	})
	if err := running.Wait(env.ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, apiOnlyWait); err != nil {
		t.Fatal(err)
	}
	vol, err := env.ec2.CreateVolume(env.ctx, &ec2.CreateVolumeInput{AvailabilityZone: inst.Placement.AvailabilityZone, Size: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	vids := &ec2.DescribeVolumesInput{VolumeIds: []string{aws.ToString(vol.VolumeId)}}
	available := ec2.NewVolumeAvailableWaiter(env.ec2, func(o *ec2.VolumeAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	})
	if err := available.Wait(env.ctx, vids, apiOnlyWait); err != nil {
		t.Fatalf("VolumeAvailable waiter: %v", err)
	}
	// Attaching needs a running instance: API-only instances are.
	if _, err := env.ec2.AttachVolume(env.ctx, &ec2.AttachVolumeInput{VolumeId: vol.VolumeId, InstanceId: aws.String(id), Device: aws.String("/dev/sdf")}); err != nil {
		t.Fatal(err)
	}
	inUse := ec2.NewVolumeInUseWaiter(env.ec2, func(o *ec2.VolumeInUseWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	})
	if err := inUse.Wait(env.ctx, vids, apiOnlyWait); err != nil {
		t.Fatalf("VolumeInUse waiter: %v", err)
	}
	snap, err := env.ec2.CreateSnapshot(env.ctx, &ec2.CreateSnapshotInput{VolumeId: vol.VolumeId})
	if err != nil {
		t.Fatal(err)
	}
	completed := ec2.NewSnapshotCompletedWaiter(env.ec2, func(o *ec2.SnapshotCompletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	})
	if err := completed.Wait(env.ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{aws.ToString(snap.SnapshotId)}}, apiOnlyWait); err != nil {
		t.Fatalf("SnapshotCompleted waiter: %v", err)
	}
	img, err := env.ec2.CreateImage(env.ctx, &ec2.CreateImageInput{InstanceId: aws.String(id), Name: aws.String("api-only")})
	if err != nil {
		t.Fatal(err)
	}
	imgAvailable := ec2.NewImageAvailableWaiter(env.ec2, func(o *ec2.ImageAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	})
	if err := imgAvailable.Wait(env.ctx, &ec2.DescribeImagesInput{ImageIds: []string{aws.ToString(img.ImageId)}}, apiOnlyWait); err != nil {
		t.Fatalf("ImageAvailable waiter: %v", err)
	}
	// An instance of that image runs (API-only) too.
	inst2 := instRun(t, env, &ec2.RunInstancesInput{ImageId: img.ImageId, InstanceType: types.InstanceTypeT3Micro})
	if err := running.Wait(env.ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{aws.ToString(inst2.InstanceId)}}, apiOnlyWait); err != nil {
		t.Fatal(err)
	}
	if _, err := env.ec2.DetachVolume(env.ctx, &ec2.DetachVolumeInput{VolumeId: vol.VolumeId}); err != nil {
		t.Fatal(err)
	}
	if err := available.Wait(env.ctx, vids, apiOnlyWait); err != nil {
		t.Fatalf("VolumeAvailable waiter after detach: %v", err)
	}
	if _, err := env.ec2.DeleteVolume(env.ctx, &ec2.DeleteVolumeInput{VolumeId: vol.VolumeId}); err != nil {
		t.Fatal(err)
	}
	deleted := ec2.NewVolumeDeletedWaiter(env.ec2, func(o *ec2.VolumeDeletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	})
	if err := deleted.Wait(env.ctx, vids, apiOnlyWait); err != nil {
		t.Fatalf("VolumeDeleted waiter: %v", err)
	}
}
