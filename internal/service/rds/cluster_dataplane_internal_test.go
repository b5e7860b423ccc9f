package rds

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// clusterScene is an Aurora DB cluster driven through its records (as the
// API writes them) on a running RDS service: the controller's side alone.
type clusterScene struct {
	s   *Service
	sc  state.Scope
	ctx context.Context
}

const clusterPassword = "secret-password-1"

// newClusterScene starts the service and records cluster id with members
// (the first the writer), all creating.
func newClusterScene(t *testing.T, id string, members ...string) *clusterScene {
	t.Helper()
	return newEngineClusterScene(t, "postgres", 5432, id, members...)
}

// newEngineClusterScene is newClusterScene with members of engine eng on
// port.
func newEngineClusterScene(t *testing.T, eng string, port int32, id string, members ...string) *clusterScene {
	t.Helper()
	return newSceneWith(t, Config{StateDir: t.TempDir()}, nil, eng, port, id, members...)
}

// newSceneWith is newEngineClusterScene on a service of cfg; edit, if
// set, changes the records before they are written.
func newSceneWith(t *testing.T, cfg Config, edit func(*records.Cluster, []records.Instance), eng string, port int32, id string, members ...string) *clusterScene {
	t.Helper()
	x := startSceneWith(t, state.NewMemory(), cfg)
	x.recordClusterWith(t, edit, eng, port, id, members...)
	return x
}

// startClusterScene starts the service on store with its data in dir.
func startClusterScene(t *testing.T, store state.Store, dir string) *clusterScene {
	t.Helper()
	return startSceneWith(t, store, Config{StateDir: dir})
}

// startSceneWith starts a service of cfg on store.
func startSceneWith(t *testing.T, store state.Store, cfg Config) *clusterScene {
	t.Helper()
	s := New(store, cfg)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	return &clusterScene{s: s, sc: state.Scope{Account: "000000000000", Region: "us-east-1"}, ctx: context.Background()}
}

// recordCluster records cluster id with members of engine eng on port
// (the first the writer), all creating.
func (x *clusterScene) recordCluster(t *testing.T, eng string, port int32, id string, members ...string) {
	t.Helper()
	x.recordClusterWith(t, nil, eng, port, id, members...)
}

// recordClusterWith is recordCluster with edit, if set, changing the
// records before they are written.
func (x *clusterScene) recordClusterWith(t *testing.T, edit func(*records.Cluster, []records.Instance), eng string, port int32, id string, members ...string) {
	t.Helper()
	s := x.s
	cl := records.Cluster{DBCluster: rdsapi.DBCluster{DBClusterIdentifier: ptr(id), Status: ptr("creating"),
		Engine: ptr(eng), DatabaseName: ptr("app"), MasterUsername: ptr("master"), Port: ptr(port)}, Password: clusterPassword}
	var insts []records.Instance
	for i, m := range members {
		cl.DBClusterMembers = append(cl.DBClusterMembers, rdsapi.DBClusterMember{DBInstanceIdentifier: ptr(m), IsClusterWriter: ptr(i == 0), PromotionTier: ptr(int32(1))})
		db := newDBInstance(x.sc, m, port)
		db.Engine, db.MasterUsername, db.DBClusterIdentifier = ptr(eng), ptr("master"), ptr(id)
		db.BackupRetentionPeriod = ptr(int32(0))
		db.DBInstanceClass = ptr("db.r6g.large")
		db.DBParameterGroups = []rdsapi.DBParameterGroupStatus{{DBParameterGroupName: ptr(s.engines.Get(eng).Defaults().ParameterGroup), ParameterApplyStatus: ptr("in-sync")}}
		insts = append(insts, records.Instance{DBInstance: db, Password: clusterPassword})
	}
	if edit != nil {
		edit(&cl, insts)
	}
	err := s.store.Update(x.ctx, func(tx state.Tx) error {
		if err := records.Clusters.Put(tx, x.sc, id, cl); err != nil {
			return err
		}
		for _, r := range insts {
			if err := records.Instances.Put(tx, x.sc, *r.DBInstanceIdentifier, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// waitFor polls the records until ok holds, for up to 90 s.
func (x *clusterScene) waitFor(t *testing.T, what string, ok func(tx state.Tx) (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		var done bool
		err := x.s.store.View(x.ctx, func(tx state.Tx) error {
			var err error
			done, err = ok(tx)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 90s; health %v", what, x.s.Health())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (x *clusterScene) cluster(t *testing.T, id string) records.Cluster {
	t.Helper()
	var cl records.Cluster
	_ = x.s.store.View(x.ctx, func(tx state.Tx) error { cl, _, _ = records.Clusters.Get(tx, x.sc, id); return nil })
	return cl
}

// waitAvailable waits until the cluster and every member are available.
func (x *clusterScene) waitAvailable(t *testing.T, id string) records.Cluster {
	t.Helper()
	x.waitFor(t, "cluster "+id+" available", func(tx state.Tx) (bool, error) {
		cl, _, err := records.Clusters.Get(tx, x.sc, id)
		if err != nil || deref(cl.Status) != "available" {
			return false, err
		}
		for _, m := range cl.DBClusterMembers {
			r, _, err := records.Instances.Get(tx, x.sc, deref(m.DBInstanceIdentifier))
			if err != nil || deref(r.DBInstanceStatus) != "available" {
				return false, err
			}
		}
		return true, nil
	})
	return x.cluster(t, id)
}

func connectPort(ctx context.Context, port int) (*pgx.Conn, error) {
	return pgx.Connect(ctx, fmt.Sprintf("postgres://master:%s@127.0.0.1:%d/app?sslmode=disable&connect_timeout=5", clusterPassword, port))
}

// A cluster of a writer and two readers: its status follows the writer's;
// a row written through the cluster endpoint's loopback port is read
// through the reader endpoint's within a second; a write there fails as a
// read-only server fails it (25006); new connections to the reader
// endpoint reach both readers, read-only; the writer's commits wait for a
// quorum of one of its readers.
func TestClusterDataPlane(t *testing.T) {
	if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb"); len(m) == 0 {
		t.Skip("no PostgreSQL server binaries on this host")
	}
	x := newClusterScene(t, "orders", "orders-1", "orders-2", "orders-3")
	cl := x.waitAvailable(t, "orders")
	if cl.WriterPort == 0 || cl.ReaderPort == 0 {
		t.Fatalf("loopback ports: writer %d, reader %d", cl.WriterPort, cl.ReaderPort)
	}
	// /_minicloud/health (and minicloud databases) show both.
	h := x.s.Health()["clusters"].([]map[string]any)
	if len(h) != 1 || h[0]["loopback"] != fmt.Sprintf("127.0.0.1:%d", cl.WriterPort) || h[0]["readerLoopback"] != fmt.Sprintf("127.0.0.1:%d", cl.ReaderPort) || h[0]["writer"] != "orders-1" {
		t.Fatalf("health clusters %v", h)
	}
	ctx, cancel := context.WithTimeout(x.ctx, 60*time.Second)
	defer cancel()
	w, err := connectPort(ctx, cl.WriterPort)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(ctx)
	var inRecovery bool
	if err := w.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&inRecovery); err != nil || inRecovery {
		t.Fatalf("the cluster endpoint reaches a server in recovery (%v, %v): not the writer", inRecovery, err)
	}
	// The quorum names both readers once both stream.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var names string
		if err := w.QueryRow(ctx, "SHOW synchronous_standby_names").Scan(&names); err != nil {
			t.Fatal(err)
		}
		if names == `ANY 1 ("orders-2", "orders-3")` {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("synchronous_standby_names = %q, want a quorum of one of both readers", names)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := w.Exec(ctx, "CREATE TABLE orders (id int primary key, item text)"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := w.Exec(ctx, "INSERT INTO orders VALUES (1, 'book')"); err != nil {
		t.Fatal(err)
	}
	// Read it back through the reader endpoint within a second.
	var item string
	for {
		r, err := connectPort(ctx, cl.ReaderPort)
		if err == nil {
			err = r.QueryRow(ctx, "SELECT item FROM orders WHERE id = 1").Scan(&item)
			_ = r.Close(ctx)
		}
		if err == nil && item == "book" {
			break
		}
		if time.Since(start) > time.Second {
			t.Fatalf("the row is not readable through the reader endpoint within 1s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A write through the reader endpoint fails as a read-only server
	// fails it.
	r, err := connectPort(ctx, cl.ReaderPort)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Exec(ctx, "INSERT INTO orders VALUES (2, 'pen')")
	_ = r.Close(ctx)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "25006" {
		t.Fatalf("write through the reader endpoint: %v, want SQLSTATE 25006", err)
	}
	// New connections spread over both readers, each read-only.
	seen := map[int]int{}
	for range 20 {
		r, err := connectPort(ctx, cl.ReaderPort)
		if err != nil {
			t.Fatal(err)
		}
		var port int
		err = r.QueryRow(ctx, "SELECT pg_is_in_recovery(), current_setting('port')::int").Scan(&inRecovery, &port)
		_ = r.Close(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !inRecovery {
			t.Fatalf("the reader endpoint reached the writer (port %d) while readers are available", port)
		}
		seen[port]++
	}
	if len(seen) != 2 {
		t.Fatalf("20 connections reached the readers %v, want both", seen)
	}
}

// writeLoop inserts rows through port until stop closes, reconnecting
// after errors, and returns the ids whose commit was acknowledged and
// when the first write after a failure succeeded again (calling onRecover
// each time).
func writeLoop(ctx context.Context, port int, stop <-chan struct{}, onRecover func()) (acked []int, recovered []time.Duration) {
	var conn *pgx.Conn
	var failedAt time.Time
	for id := 1; ; id++ {
		select {
		case <-stop:
			if conn != nil {
				_ = conn.Close(ctx)
			}
			return acked, recovered
		default:
		}
		var err error
		if conn == nil {
			conn, err = connectPort(ctx, port)
		}
		if err == nil {
			_, err = conn.Exec(ctx, "INSERT INTO ledger VALUES ($1)", id)
		}
		if err != nil {
			if conn != nil {
				_ = conn.Close(ctx)
				conn = nil
			}
			if failedAt.IsZero() {
				failedAt = time.Now()
			}
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if !failedAt.IsZero() {
			recovered = append(recovered, time.Since(failedAt))
			failedAt = time.Time{}
			onRecover()
		}
		acked = append(acked, id)
		time.Sleep(5 * time.Millisecond)
	}
}

// A cluster fails over when asked (to a named reader) and when its
// writer's server is killed: a reader is promoted, the cluster endpoint's
// loopback port reaches it, a client writing through it succeeds again,
// no acknowledged write is lost, and the old writer rejoins as a reader.
func TestClusterFailover(t *testing.T) {
	if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb"); len(m) == 0 {
		t.Skip("no PostgreSQL server binaries on this host")
	}
	x := newClusterScene(t, "pay", "pay-1", "pay-2", "pay-3")
	cl := x.waitAvailable(t, "pay")
	ctx, cancel := context.WithTimeout(x.ctx, 3*time.Minute)
	defer cancel()
	createLedger(t, ctx, cl.WriterPort)
	for _, tc := range []struct {
		desc string
		fail func(t *testing.T, writer string)
		want string // the new writer, "" for any reader
	}{
		{"FailoverDBCluster to pay-3", func(t *testing.T, _ string) { x.askFailover(t, "pay", "pay-3") }, "pay-3"},
		{"the writer's server killed", func(t *testing.T, writer string) { x.killServer(t, writer, "data/postmaster.pid") }, ""},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			old, res := x.failOver(t, "pay", func(stop <-chan struct{}, onRecover func()) ([]int, []time.Duration) {
				return writeLoop(ctx, cl.WriterPort, stop, onRecover)
			}, tc.fail, tc.want)
			// Every acknowledged write is on the new writer.
			w := checkLedger(t, ctx, cl.WriterPort, res)
			defer w.Close(ctx)
			var inRecovery bool
			// The old writer rejoins as a reader.
			x.waitAvailable(t, "pay")
			r, err := connectPort(ctx, x.memberPort(t, old))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close(ctx)
			if err := r.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&inRecovery); err != nil || !inRecovery {
				t.Fatalf("the old writer %s: in recovery %v (%v), want a reader", old, inRecovery, err)
			}
		})
	}
}

// createLedger creates table ledger through the cluster port.
func createLedger(t *testing.T, ctx context.Context, port int) {
	t.Helper()
	w, err := connectPort(ctx, port)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(ctx)
	if _, err := w.Exec(ctx, "CREATE TABLE ledger (id int primary key)"); err != nil {
		t.Fatal(err)
	}
}

// checkLedger connects through the cluster port and fails unless it
// reaches a writer (not in recovery) whose ledger has every id of acked;
// it returns the connection.
func checkLedger(t *testing.T, ctx context.Context, port int, acked []int) *pgx.Conn {
	t.Helper()
	w, err := connectPort(ctx, port)
	if err != nil {
		t.Fatal(err)
	}
	var inRecovery bool
	if err := w.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&inRecovery); err != nil || inRecovery {
		t.Fatalf("the cluster endpoint reaches a server in recovery (%v, %v)", inRecovery, err)
	}
	var missing int
	if err := w.QueryRow(ctx, "SELECT count(*) FROM unnest($1::int[]) a(id) WHERE NOT EXISTS (SELECT FROM ledger l WHERE l.id = a.id)", acked).Scan(&missing); err != nil {
		t.Fatal(err)
	}
	if missing > 0 || len(acked) == 0 {
		t.Fatalf("%d of %d acknowledged writes lost", missing, len(acked))
	}
	return w
}

// askFailover records a FailoverDBCluster of cluster id to target, as the
// API does.
func (x *clusterScene) askFailover(t *testing.T, id, target string) {
	t.Helper()
	err := x.s.store.Update(x.ctx, func(tx state.Tx) error {
		c, _, err := records.Clusters.Get(tx, x.sc, id)
		if err != nil {
			return err
		}
		c.Failover, c.Status = &records.ClusterFailover{Target: target}, ptr("failing-over")
		return records.Clusters.Put(tx, x.sc, id, c)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// killServer sends SIGKILL to the server of member id, whose PID is the
// first word of pidFile in its instance directory.
func (x *clusterScene) killServer(t *testing.T, id, pidFile string) {
	t.Helper()
	dir, err := x.s.dirs.Instance(x.sc, id)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, pidFile))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(raw)), "\n")
	pid, err := strconv.Atoi(first)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
}

// memberPort is member id's own loopback port.
func (x *clusterScene) memberPort(t *testing.T, id string) int {
	t.Helper()
	var port int
	_ = x.s.store.View(x.ctx, func(tx state.Tx) error {
		r, _, err := records.Instances.Get(tx, x.sc, id)
		port = r.LoopbackPort
		return err
	})
	return port
}

// failOver runs loop, a client writing through cluster id's cluster port
// until its stop closes, while fail moves the writer (to want, if not
// ""), and returns the old writer and the ids whose commit loop saw
// acknowledged; it fails unless a write failed and then succeeded again.
func (x *clusterScene) failOver(t *testing.T, id string, loop func(stop <-chan struct{}, onRecover func()) ([]int, []time.Duration), fail func(t *testing.T, writer string), want string) (string, []int) {
	t.Helper()
	before := x.cluster(t, id)
	old := before.Writer()
	stop := make(chan struct{})
	type result struct {
		acked     []int
		recovered []time.Duration
	}
	done := make(chan result)
	back := make(chan struct{}, 1)
	onRecover := func() {
		select {
		case back <- struct{}{}:
		default:
		}
	}
	go func() { a, r := loop(stop, onRecover); done <- result{a, r} }()
	time.Sleep(300 * time.Millisecond)
	fail(t, old)
	x.waitFor(t, "a new writer", func(tx state.Tx) (bool, error) {
		c, _, err := records.Clusters.Get(tx, x.sc, id)
		return c.Writer() != old && (want == "" || c.Writer() == want) && deref(c.Status) == "available", err
	})
	// The writes come back (a client's connection attempt made while the
	// old writer was going can take its whole timeout first), then go on
	// through the new writer for a while.
	select {
	case <-back:
	case <-time.After(30 * time.Second):
		close(stop)
		<-done
		t.Fatal("no write failed and succeeded again within 30 s of the new writer: the writer did not move")
	}
	time.Sleep(time.Second)
	close(stop)
	res := <-done
	t.Logf("writes succeeded again after %v (%d acknowledged)", res.recovered, len(res.acked))
	return old, res.acked
}

// Custom endpoints route only to the members they select: a READER
// endpoint with one static member reaches only it, an ANY endpoint with an
// excluded member reaches the others and never it; each is available
// once its relay is up, listed in /_minicloud/health; a modified one
// follows its new members; a deleted one's loopback port closes.
func TestCustomEndpointRelays(t *testing.T) {
	if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb"); len(m) == 0 {
		t.Skip("no PostgreSQL server binaries on this host")
	}
	x := newClusterScene(t, "shop", "shop-1", "shop-2", "shop-3")
	x.waitAvailable(t, "shop")
	actx := api.WithRequest(context.Background(), &api.RequestInfo{Account: x.sc.Account, Region: x.sc.Region})
	ctx, cancel := context.WithTimeout(x.ctx, 2*time.Minute)
	defer cancel()
	create := []*rdsapi.CreateDBClusterEndpointMessage{
		{DBClusterIdentifier: ptr("shop"), DBClusterEndpointIdentifier: ptr("one"), EndpointType: ptr("READER"), StaticMembers: []string{"shop-2"}},
		{DBClusterIdentifier: ptr("shop"), DBClusterEndpointIdentifier: ptr("most"), EndpointType: ptr("ANY"), ExcludedMembers: []string{"shop-3"}},
	}
	for _, in := range create {
		if _, err := x.s.CreateDBClusterEndpoint(actx, in); err != nil {
			t.Fatal(err)
		}
	}
	// Which member a connection reached: its server's port.
	servers := map[string]string{}
	for _, m := range []string{"shop-1", "shop-2", "shop-3"} {
		var r records.Instance
		_ = x.s.store.View(ctx, func(tx state.Tx) error { r, _, _ = records.Instances.Get(tx, x.sc, m); return nil })
		conn, err := connectPort(ctx, r.LoopbackPort)
		if err != nil {
			t.Fatal(err)
		}
		var server string
		err = conn.QueryRow(ctx, "SELECT current_setting('port')").Scan(&server)
		_ = conn.Close(ctx)
		if err != nil {
			t.Fatal(err)
		}
		servers[server] = m
	}
	reached := func(id string) map[string]int {
		t.Helper()
		port := x.endpointPort(t, id)
		seen := map[string]int{}
		for range 20 {
			conn, err := connectPort(ctx, port)
			if err != nil {
				t.Fatalf("through %s: %v", id, err)
			}
			var server string
			err = conn.QueryRow(ctx, "SELECT current_setting('port')").Scan(&server)
			_ = conn.Close(ctx)
			if err != nil {
				t.Fatal(err)
			}
			seen[servers[server]]++
		}
		return seen
	}
	if seen := reached("one"); len(seen) != 1 || seen["shop-2"] != 20 {
		t.Fatalf("20 connections through READER endpoint one (static shop-2) reached %v", seen)
	}
	if seen := reached("most"); len(seen) != 2 || seen["shop-3"] != 0 || seen["shop-1"] == 0 || seen["shop-2"] == 0 {
		t.Fatalf("20 connections through ANY endpoint most (shop-3 excluded) reached %v, want shop-1 and shop-2", seen)
	}
	h := x.s.Health()["clusters"].([]map[string]any)
	if eps, _ := h[0]["customEndpoints"].([]map[string]any); len(eps) != 2 || eps[0]["loopback"] != fmt.Sprintf("127.0.0.1:%d", x.endpointPort(t, eps[0]["id"].(string))) {
		t.Fatalf("health's custom endpoints %v", h[0]["customEndpoints"])
	}
	if _, err := x.s.ModifyDBClusterEndpoint(actx, &rdsapi.ModifyDBClusterEndpointMessage{DBClusterEndpointIdentifier: ptr("one"), StaticMembers: []string{"shop-3"}}); err != nil {
		t.Fatal(err)
	}
	if seen := reached("one"); len(seen) != 1 || seen["shop-3"] != 20 {
		t.Fatalf("after modifying one to static shop-3, 20 connections reached %v", seen)
	}
	port := x.endpointPort(t, "most")
	if _, err := x.s.DeleteDBClusterEndpoint(actx, &rdsapi.DeleteDBClusterEndpointMessage{DBClusterEndpointIdentifier: ptr("most")}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err != nil {
			break
		}
		_ = conn.Close()
		if time.Now().After(deadline) {
			t.Fatalf("the deleted endpoint's loopback port %d still accepts", port)
		}
	}
}

// endpointPort waits until custom endpoint id is available with its
// loopback port and returns the port.
func (x *clusterScene) endpointPort(t *testing.T, id string) int {
	t.Helper()
	var port int
	x.waitFor(t, "custom endpoint "+id+" available", func(tx state.Tx) (bool, error) {
		ep, _, err := records.ClusterEndpoints.Get(tx, x.sc, id)
		port = ep.Port
		return ep.Status == "available" && ep.Port != 0, err
	})
	return port
}
