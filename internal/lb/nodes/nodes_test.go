package nodes

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/service/elbv2/controller"
	"github.com/minicloud/minicloud/internal/workload"
)

// blockingWorkloads is a workload runtime whose placements wait until
// released, as a real one waits for a network pass.
type blockingWorkloads struct {
	entered chan struct{}
	release chan struct{}
}

func (w *blockingWorkloads) Place(ctx context.Context, name string, _ []workload.ENI) (*workload.Placement, error) {
	w.entered <- struct{}{}
	select {
	case <-w.release:
	case <-ctx.Done():
	}
	return nil, errors.New("placement refused by the test")
}

func (w *blockingWorkloads) Unplace(context.Context, string, ...workload.ENI) error { return nil }

// TestReadersDoNotWaitForPlacements checks that what the ELBv2 service
// reads of the data plane (target health, counters, health) answers while
// an Apply waits for a placement. The service reads target health inside
// a store transaction, and a placement waits for a network pass that
// needs the store: readers that waited for Apply deadlocked minicloud.
func TestReadersDoNotWaitForPlacements(t *testing.T) {
	w := &blockingWorkloads{entered: make(chan struct{}, 1), release: make(chan struct{})}
	d := New(Config{Workloads: w})
	view := controller.View{Account: "000000000000", Region: "us-east-1", ARN: "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/lb/1",
		Name: "lb", VPCID: "vpc-1", TargetGroups: []controller.TargetGroup{{ARN: "tg"}},
		Nodes: []controller.Node{{SubnetID: "subnet-1", ENIID: "eni-1", MAC: "02:00:00:00:00:01", PrivateIP: netip.MustParseAddr("10.0.0.5")}}}
	applied := make(chan error, 1)
	go func() { applied <- d.Apply(context.Background(), view) }()
	<-w.entered

	for _, tc := range []struct {
		name string
		read func()
	}{
		{"TargetHealth", func() { d.TargetHealth(view.Account, view.Region, "tg") }},
		{"Counters", func() { d.Counters(view.ARN) }},
		{"Health", func() { d.Health() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan struct{})
			go func() { tc.read(); close(done) }()
			select {
			case <-done:
			case <-time.After(2 * time.Second):
				t.Fatalf("%s waited for a placement in progress", tc.name)
			}
		})
	}
	close(w.release)
	if err := <-applied; err == nil {
		t.Error("Apply succeeded with its placement refused")
	}
}
