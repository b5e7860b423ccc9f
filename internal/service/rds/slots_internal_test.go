package rds

import (
	"context"
	"slices"
	"testing"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/state"
)

// A replica deleted while its postgres source does not run leaves its slot
// to drop on the source, which drops it once it runs; the source no longer
// lists the replica.
func TestForgetReplicaPendsSlotDrop(t *testing.T) {
	store := state.NewMemory()
	s := New(store, Config{StateDir: t.TempDir()})
	c := &controller{s: s, servers: map[string]*server{}}
	c.ctx = context.Background()
	sc := state.Scope{Account: "000000000000", Region: "us-east-1"}
	src := instanceRecord{DBInstance: rdsapi.DBInstance{DBInstanceIdentifier: ptr("src"), Engine: ptr("postgres"), ReadReplicaDBInstanceIdentifiers: []string{"rep", "other"}}, Replica: &replicaState{ReplPassword: "pw"}}
	rep := instanceRecord{DBInstance: rdsapi.DBInstance{DBInstanceIdentifier: ptr("rep"), Engine: ptr("postgres"), DbiResourceId: ptr("db-ABC"), ReadReplicaSourceDBInstanceIdentifier: ptr("src")}, Replica: &replicaState{ReplPassword: "pw"}}
	if err := store.Update(context.Background(), func(tx state.Tx) error { return instances.Put(tx, sc, "src", src) }); err != nil {
		t.Fatal(err)
	}
	c.forgetReplica(sc, "rep", &rep)
	c.forgetReplica(sc, "rep", &rep) // again after a crash: recorded once
	_ = store.View(context.Background(), func(tx state.Tx) error {
		got, _, _ := instances.Get(tx, sc, "src")
		if want := []string{slotName(sc.Region, "db-ABC")}; got.Replica == nil || !slices.Equal(got.Replica.DropSlots, want) {
			t.Errorf("DropSlots %+v, want %v", got.Replica, want)
		}
		if !slices.Equal(got.ReadReplicaDBInstanceIdentifiers, []string{"other"}) {
			t.Errorf("replicas %v", got.ReadReplicaDBInstanceIdentifiers)
		}
		return nil
	})
}
