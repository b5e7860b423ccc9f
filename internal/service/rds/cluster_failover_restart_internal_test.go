package rds

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// A minicloud stopped in the middle of a failover finishes it on its next
// start, from each window where the records and the servers disagree
// (failoverrecovery.go): the service stops while the failover's pass
// waits at the step (as SIGTERM stops it; kill -9 stops the servers the
// same way, by their parent-death signal), and a new service on the same
// state file and data starts. The cluster then has exactly one writer, the
// target asked, reached through the cluster endpoint's port and not in
// recovery, with every write acknowledged before the failover; the other
// members are readers that receive a new write; no promotion is left
// pending.
func TestClusterFailoverRestart(t *testing.T) {
	if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb"); len(m) == 0 {
		t.Skip("no PostgreSQL server binaries on this host")
	}
	for _, tt := range []struct {
		name, step string
		// hold, if set, is a reader whose server the new service starts
		// pointed at the old writer but registers only once the new
		// writer's promotion is done: its pass outlasted the failover's
		// restart of the readers.
		hold string
	}{
		{name: "stopped", step: "stopped"},
		{name: "swapped", step: "swapped"},
		{name: "promoted", step: "promoted"},
		{name: "stopped, a reader's start outlasting the promotion", step: "stopped", hold: "fo-2"},
	} {
		step := tt.step
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			file := filepath.Join(dir, "state.db")
			store, err := state.OpenBolt(file)
			if err != nil {
				t.Fatal(err)
			}
			x := startClusterScene(t, store, dir)
			x.recordCluster(t, "postgres", 5432, "fo", "fo-1", "fo-2", "fo-3")
			cl := x.waitAvailable(t, "fo")
			ctx, cancel := context.WithTimeout(x.ctx, 4*time.Minute)
			defer cancel()
			createLedger(t, ctx, cl.WriterPort)
			stop := make(chan struct{})
			done := make(chan []int)
			go func() { a, _ := writeLoop(ctx, cl.WriterPort, stop, func() {}); done <- a }()

			reached := make(chan struct{})
			var once sync.Once
			x.s.ctl.Load().OnFailoverStep(func(ctx context.Context, s string) {
				if s == step {
					once.Do(func() { close(reached) })
					<-ctx.Done()
				}
			})
			// The loop's first writes are acknowledged before the failover
			// (on a loaded machine the first commit, waiting for a reader,
			// can take a while).
			waitLedgerRows(t, ctx, cl.WriterPort)
			x.askFailover(t, "fo", "fo-3")
			select {
			case <-reached:
			case <-time.After(90 * time.Second):
				t.Fatalf("the failover never reached step %s", step)
			}
			_ = x.s.Stop(ctx)
			close(stop)
			acked := <-done
			if err := store.Close(); err != nil {
				t.Fatal(err)
			}

			store, err = state.OpenBolt(file)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = store.Close() })
			x = startClusterScene(t, store, dir)
			if tt.hold != "" {
				// Set right after the start: a reader's server takes far
				// longer to start and be ready than that.
				s := x.s
				x.s.ctl.Load().OnFailoverStep(func(ctx context.Context, step string) {
					if step != "reader "+tt.hold+" started" {
						return
					}
					for ctx.Err() == nil {
						var pending bool
						_ = s.store.View(ctx, func(tx state.Tx) error {
							_, found, err := records.MemberPromotions.Get(tx, x.sc, "fo-3")
							pending = found
							return err
						})
						if !pending && writerIs(ctx, s.store, x.sc, "fo", "fo-3") {
							return
						}
						time.Sleep(50 * time.Millisecond)
					}
				})
			}
			cl = x.waitAvailable(t, "fo")
			writers := 0
			for _, m := range cl.DBClusterMembers {
				if deref(m.IsClusterWriter) {
					writers++
				}
			}
			if writers != 1 || cl.Writer() != "fo-3" || cl.Failover != nil {
				t.Fatalf("after the restart: %d writers, writer %q, failover %v; want fo-3 alone", writers, cl.Writer(), cl.Failover)
			}
			x.waitFor(t, "no promotion pending", func(tx state.Tx) (bool, error) {
				_, found, err := records.MemberPromotions.Get(tx, x.sc, "fo-3")
				return !found, err
			})
			w := checkLedger(t, ctx, cl.WriterPort, acked)
			defer w.Close(ctx)
			var inRecovery bool
			if _, err := w.Exec(ctx, "INSERT INTO ledger VALUES (-1)"); err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"fo-1", "fo-2"} {
				r, err := connectPort(ctx, x.memberPort(t, id))
				if err != nil {
					t.Fatal(err)
				}
				var n int
				for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
					err = r.QueryRow(ctx, "SELECT count(*) FROM ledger WHERE id = -1").Scan(&n)
					if err == nil && n == 1 || time.Now().After(deadline) {
						break
					}
				}
				if err := r.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&inRecovery); err != nil || !inRecovery || n != 1 {
					dir, _ := x.s.dirs.Instance(x.sc, id)
					log, _ := os.ReadFile(filepath.Join(dir, "postgresql.log"))
					if len(log) > 4000 {
						log = log[len(log)-4000:]
					}
					t.Fatalf("member %s: in recovery %v (%v), new row seen %d times; want a reader following fo-3; its log:\n%s", id, inRecovery, err, n, log)
				}
				_ = r.Close(ctx)
			}
			t.Logf("%d acknowledged writes kept across a restart at %q", len(acked), step)
		})
	}
}

// waitLedgerRows waits, up to a minute, until the ledger of the server on
// port holds a row.
func waitLedgerRows(t *testing.T, ctx context.Context, port int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		n := 0
		if c, err := connectPort(ctx, port); err == nil {
			_ = c.QueryRow(ctx, "SELECT count(*) FROM ledger").Scan(&n)
			_ = c.Close(ctx)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no write acknowledged in a minute")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// writerIs reports whether cluster id's recorded writer is want.
func writerIs(ctx context.Context, store state.Store, sc state.Scope, id, want string) bool {
	var w string
	_ = store.View(ctx, func(tx state.Tx) error {
		cl, _, err := records.Clusters.Get(tx, sc, id)
		w = cl.Writer()
		return err
	})
	return w == want
}
