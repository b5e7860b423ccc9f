package rds

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/logport"
	"github.com/minicloud/minicloud/internal/state"
)

// logSink is logport.Writer's stand-in: it keeps every event by group and
// stream.
type logSink struct {
	mu     sync.Mutex
	events map[string][]string // "account region group stream" → messages
}

func (w *logSink) Write(_ context.Context, account, region, group, stream string, events []logport.Event) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := strings.Join([]string{account, region, group, stream}, " ")
	for _, e := range events {
		w.events[k] = append(w.events[k], e.Message)
	}
	return nil
}

func (w *logSink) find(k, text string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range w.events[k] {
		if strings.Contains(m, text) {
			return true
		}
	}
	return false
}

// A PostgreSQL instance created with its postgresql log exported: a
// failing statement's ERROR entry reaches the Writer in group
// /aws/rds/instance/<id>/postgresql, stream <id>.
func TestLogExportsWrite(t *testing.T) {
	t.Parallel()
	sink := &logSink{events: map[string][]string{}}
	s := New(state.NewMemory(), Config{StateDir: t.TempDir(), Logs: sink})
	if err := s.engineFor("postgres").Available(); err != nil {
		t.Skip(err)
	}
	ctx := api.WithRequest(context.Background(), &api.RequestInfo{Account: "000000000000", Region: "us-east-1"})
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	if _, err := s.CreateDBInstance(ctx, &rdsapi.CreateDBInstanceMessage{
		DBInstanceIdentifier: ptr("logged"), DBInstanceClass: ptr("db.t3.micro"), Engine: ptr("postgres"),
		AllocatedStorage: ptr(int32(20)), MasterUsername: ptr("master"), MasterUserPassword: ptr("password1"),
		EnableCloudwatchLogsExports: []string{"postgresql"},
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, func() error {
		out, err := s.DescribeDBInstances(ctx, &rdsapi.DescribeDBInstancesMessage{DBInstanceIdentifier: ptr("logged")})
		if err != nil {
			return err
		}
		if st := deref(out.DBInstances[0].DBInstanceStatus); st != "available" {
			return fmt.Errorf("status %s", st)
		}
		return nil
	})
	addr, err := s.Loopback(ctx, "000000000000", "us-east-1", "logged")
	if err != nil {
		t.Fatal(err)
	}
	c, err := pgx.Connect(ctx, "postgres://master:password1@"+addr+"/postgres?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "SELECT * FROM no_such_table_for_logs"); err == nil {
		t.Fatal("the failing statement did not fail")
	}
	k := "000000000000 us-east-1 /aws/rds/instance/logged/postgresql logged"
	waitFor(t, 10*time.Second, func() error {
		if !sink.find(k, `ERROR:  relation "no_such_table_for_logs" does not exist`) {
			return fmt.Errorf("no ERROR entry in %q", k)
		}
		return nil
	})
}

func waitFor(t *testing.T, d time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
