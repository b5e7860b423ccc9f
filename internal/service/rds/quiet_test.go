package rds

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/state"
)

// TestConvergedInstanceIsQuiet: once an instance is available, the
// controller stops writing its record (each write is an event that
// reconciles it again, so a write per pass would loop forever).
func TestConvergedInstanceIsQuiet(t *testing.T) {
	t.Parallel()
	if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb"); len(m) == 0 {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
	}
	st := state.NewMemory()
	s := New(st, Config{StateDir: t.TempDir()})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	ctx := api.WithRequest(context.Background(), &api.RequestInfo{Account: "000000000000", Region: "us-east-1"})
	if _, err := s.CreateDBInstance(ctx, &rdsapi.CreateDBInstanceMessage{
		DBInstanceIdentifier: ptr("quiet"), DBInstanceClass: ptr("db.t3.micro"), Engine: ptr("postgres"),
		AllocatedStorage: ptr(int32(20)), MasterUsername: ptr("master"), MasterUserPassword: ptr("password1"),
		BackupRetentionPeriod: ptr(int32(0)),
	}); err != nil {
		t.Fatal(err)
	}
	ch, unsub := st.Subscribe("")
	defer unsub()
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := s.DescribeDBInstances(ctx, &rdsapi.DescribeDBInstancesMessage{DBInstanceIdentifier: ptr("quiet")})
		if err != nil {
			t.Fatal(err)
		}
		if deref(out.DBInstances[0].DBInstanceStatus) == "available" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not available after 60s: %v", s.Health())
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // the pass that wrote "available" settles
	for len(ch) > 0 {
		<-ch
	}
	n := 0
	quiet := time.After(2 * time.Second)
	for {
		select {
		case <-ch:
			n++
			continue
		case <-quiet:
		}
		break
	}
	if n > 0 {
		t.Fatalf("%d store events in 2 s from an available instance nobody touched", n)
	}
}
