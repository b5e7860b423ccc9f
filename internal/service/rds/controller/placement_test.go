package controller

import (
	"context"
	"slices"
	"testing"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/ec2port"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/engine/mariadb"
	"github.com/minicloud/minicloud/internal/service/rds/engine/postgres"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
	"github.com/minicloud/minicloud/internal/vpcnet"
	"github.com/minicloud/minicloud/internal/workload"
)

// recordingENIs records the groups each ENI was given; its other methods
// are not used (the embedded nil Port would panic).
type recordingENIs struct {
	ec2port.Port
	groups map[string][]string
}

func (r *recordingENIs) SetENIGroups(_ context.Context, _, _, id string, groupIDs []string) error {
	r.groups[id] = groupIDs
	return nil
}

// noNetwork is a data plane that places nothing, for tests that need a
// controller that believes it places.
type noNetwork struct{}

func (noNetwork) CreateInstanceNamespace(context.Context, string) (string, error) { return "", nil }
func (noNetwork) DeleteInstanceNamespace(context.Context, string) error           { return nil }
func (noNetwork) AttachENI(context.Context, vpcnet.ENI, string) error             { return nil }
func (noNetwork) DetachENI(context.Context, vpcnet.ENI) error                     { return nil }

// New security groups reach a Multi-AZ instance's standby ENI too: after a
// failover its ENI is the primary's.
func TestAfterStartGroupsStandbyENI(t *testing.T) {
	enis := &recordingENIs{groups: map[string][]string{}}
	c := newTestController(state.NewMemory(), t.TempDir())
	c.cfg.EC2, c.cfg.Workloads = enis, workload.New(workload.Config{Net: noNetwork{}})
	sc := state.Scope{Account: "000000000000", Region: "us-east-1"}
	for _, tc := range []struct {
		name    string
		standby *records.StandbyState
		want    []string
	}{
		{"single-AZ", nil, []string{"eni-primary"}},
		{"standby without ENI", &records.StandbyState{}, []string{"eni-primary"}},
		{"Multi-AZ", &records.StandbyState{ENI: &records.PlacedENI{ID: "eni-standby"}}, []string{"eni-primary", "eni-standby"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clear(enis.groups)
			rec := &records.Instance{DBInstance: rdsapi.DBInstance{Engine: ptr("mariadb"), VpcSecurityGroups: []rdsapi.VpcSecurityGroupMembership{{VpcSecurityGroupId: ptr("sg-new"), Status: ptr("adding")}}},
				ENI: &records.PlacedENI{ID: "eni-primary"}, Standby: tc.standby}
			if _, err := c.afterStart(context.Background(), sc, t.TempDir(), rec, nil, c.engineFor("mariadb")); err != nil {
				t.Fatal(err)
			}
			got := slices.Sorted(func(yield func(string) bool) {
				for id, g := range enis.groups {
					if !slices.Equal(g, []string{"sg-new"}) || !yield(id) {
						return
					}
				}
			})
			if !slices.Equal(got, tc.want) {
				t.Fatalf("ENIs given sg-new: %v, want %v", got, tc.want)
			}
		})
	}
}

// An engine without parameter groups is in sync after a start.
func TestAfterStartWithoutParams(t *testing.T) {
	c := newTestController(state.NewMemory(), t.TempDir())
	sc := state.Scope{Account: "000000000000", Region: "us-east-1"}
	st, err := c.afterStart(context.Background(), sc, t.TempDir(), &records.Instance{DBInstance: rdsapi.DBInstance{Engine: ptr("mariadb")}}, nil, c.engineFor("mariadb"))
	if err != nil || st != "in-sync" {
		t.Fatalf("afterStart of a mariadb instance: %q, %v", st, err)
	}
}

// newTestController is a controller of the host's engines over store, its
// data under stateDir, not started.
func newTestController(store state.Store, stateDir string) *Controller {
	return New(Config{Store: store, Dirs: records.NewDataDirs(stateDir), Engines: engine.NewRegistry(postgres.New("", engine.Runner{}), mariadb.New("", engine.Runner{})), Workloads: workload.New(workload.Config{})})
}
