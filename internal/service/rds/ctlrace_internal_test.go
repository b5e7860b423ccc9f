package rds

import (
	"context"
	"sync"
	"testing"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// ReplicaLag and the health page read the controller from HTTP handlers
// while Start and Stop set it: under -race this fails if that is unguarded.
func TestControllerStartStopWhileRead(t *testing.T) {
	t.Parallel()
	s := New(state.NewMemory(), Config{StateDir: t.TempDir()})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			_, _ = s.ReplicaLag(context.Background(), "000000000000", "us-east-1", "rep")
			_ = s.replicationHealth("k", &records.Instance{DBInstance: rdsapi.DBInstance{ReadReplicaSourceDBInstanceIdentifier: ptr("src")}})
		}
	})
	for range 3 {
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := s.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
}
