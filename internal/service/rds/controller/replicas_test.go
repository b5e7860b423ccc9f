package controller

import (
	"context"
	"slices"
	"testing"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// A replica deleted while its postgres source does not run leaves its slot
// to drop on the source, which drops it once it runs; the source no longer
// lists the replica.
func TestForgetReplicaPendsSlotDrop(t *testing.T) {
	store := state.NewMemory()
	c := newTestController(store, t.TempDir())
	sc := state.Scope{Account: "000000000000", Region: "us-east-1"}
	src := records.Instance{DBInstance: rdsapi.DBInstance{DBInstanceIdentifier: ptr("src"), Engine: ptr("postgres"), ReadReplicaDBInstanceIdentifiers: []string{"rep", "other"}}, Replica: &records.ReplicaState{ReplPassword: "pw"}}
	rep := records.Instance{DBInstance: rdsapi.DBInstance{DBInstanceIdentifier: ptr("rep"), Engine: ptr("postgres"), DbiResourceId: ptr("db-ABC"), ReadReplicaSourceDBInstanceIdentifier: ptr("src")}, Replica: &records.ReplicaState{ReplPassword: "pw"}}
	if err := store.Update(context.Background(), func(tx state.Tx) error { return records.Instances.Put(tx, sc, "src", src) }); err != nil {
		t.Fatal(err)
	}
	c.forgetReplica(sc, "rep", &rep)
	c.forgetReplica(sc, "rep", &rep) // again after a crash: recorded once
	_ = store.View(context.Background(), func(tx state.Tx) error {
		got, _, _ := records.Instances.Get(tx, sc, "src")
		hold := c.engineFor("postgres").(engine.Replication).Hold(engine.Replica{Region: sc.Region, ResourceID: "db-ABC"})
		if want := []string{hold}; got.Replica == nil || !slices.Equal(got.Replica.DropSlots, want) {
			t.Errorf("DropSlots %+v, want %v", got.Replica, want)
		}
		if !slices.Equal(got.ReadReplicaDBInstanceIdentifiers, []string{"other"}) {
			t.Errorf("replicas %v", got.ReadReplicaDBInstanceIdentifiers)
		}
		return nil
	})
}
