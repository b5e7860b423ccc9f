package controller

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
	"github.com/minicloud/minicloud/internal/workload"
)

// Aurora DB clusters (records.Cluster). A cluster runs nothing of its own:
// its members are DB instances, each converged as any instance is, in the
// role the cluster's DBClusterMembers give it. The writer is a primary;
// every reader is a read replica of the writer, made, started, watched and
// measured by the read replicas' code (replicas.go): asMember makes a
// member look to that code like what it is built as, since the records do
// not say it (AWS shows no ReadReplicaSourceDBInstanceIdentifier on a
// member). On top of that:
//
//   - the writer's commits wait for any one reader that streams
//     (engine.QuorumCommit; syncReaders: PostgreSQL's quorum
//     synchronous_standby_names, MariaDB's semi-synchronous replication),
//     standing in for Aurora's shared storage: an acknowledged commit is
//     on two servers;
//   - the cluster's status follows its writer's (reconcileCluster);
//   - the cluster endpoint's loopback port (WriterPort) relays to the
//     writer's, the reader endpoint's (ReaderPort) spreads new connections
//     round-robin over the available readers' (the writer's when there are
//     none), both workload.Relays over the members' own loopback ports;
//   - a failover (FailoverDBCluster, or the writer's server dying) runs in
//     the writer's pass (clusterfailover.go).

// asMember gives member rec, as read in tx, its role in its cluster: a
// reader's source is the cluster's writer, whose replication login it
// shares; the writer's replicas are the other members, and its database
// the cluster's DatabaseName. Only the controller's copy changes: the
// record keeps what the API wrote.
func asMember(tx state.Tx, sc state.Scope, rec *records.Instance) error {
	if !rec.IsMember() {
		return nil
	}
	cl, found, err := records.Clusters.Get(tx, sc, deref(rec.DBClusterIdentifier))
	if err != nil || !found {
		return err
	}
	id := deref(rec.DBInstanceIdentifier)
	writer := cl.Writer()
	if writer == "" || writer == id {
		rec.ReadReplicaSourceDBInstanceIdentifier = nil
		rec.ReadReplicaDBInstanceIdentifiers = nil
		for _, m := range cl.DBClusterMembers {
			if mid := deref(m.DBInstanceIdentifier); mid != id {
				rec.ReadReplicaDBInstanceIdentifiers = append(rec.ReadReplicaDBInstanceIdentifiers, mid)
			}
		}
		if deref(rec.DBName) == "" {
			rec.DBName = cl.DatabaseName
		}
		return nil
	}
	rec.ReadReplicaSourceDBInstanceIdentifier = &writer
	rec.ReadReplicaDBInstanceIdentifiers = nil
	if rec.Replica == nil || rec.Replica.ReplPassword == "" {
		w, found, err := records.Instances.Get(tx, sc, writer)
		if err != nil {
			return err
		}
		if found && w.Replica != nil && w.Replica.ReplPassword != "" {
			var r records.ReplicaState
			if rec.Replica != nil {
				r = *rec.Replica
			}
			r.ReplPassword = w.Replica.ReplPassword
			rec.Replica = &r
		}
	}
	return nil
}

func isClusterKey(key string) bool {
	_, _, ok := records.Clusters.ParseKey(key)
	return ok
}

// clusterKeyOf is the key of member rec's cluster, "" for an instance of
// none.
func clusterKeyOf(sc state.Scope, rec *records.Instance) string {
	if !rec.IsMember() {
		return ""
	}
	return records.Clusters.Key(sc, deref(rec.DBClusterIdentifier))
}

// clusterKeys maps an event on a cluster record to its key and its
// members': a change of roles (a failover) or of members reconciles each.
func (c *Controller) clusterKeys(sc state.Scope, id string) []string {
	keys := []string{records.Clusters.Key(sc, id)}
	_ = c.store.View(c.ctx, func(tx state.Tx) error {
		cl, found, err := records.Clusters.Get(tx, sc, id)
		if err != nil || !found {
			return err
		}
		for _, m := range cl.DBClusterMembers {
			keys = append(keys, records.Instances.Key(sc, deref(m.DBInstanceIdentifier)))
		}
		return nil
	})
	return keys
}

// quorumSet remembers, per writer's record key, the readers its running
// server was last told to wait for, so that an unchanged set costs nothing.
type quorumSet struct {
	mu  sync.Mutex // serializes the writers' changes (a pass and the periodic check)
	set map[string]appliedQuorum
}

type appliedQuorum struct {
	server *server
	names  string
}

// syncReaders runs on every pass over a cluster's running writer p, and
// every replicaCheckEvery (checkQuorums): its commits wait for any one of
// its readers that has been built and streams now (engine.QuorumCommit),
// or for none when none streams.
//
// The trade-off (Aurora keeps writing while four of its six storage copies
// answer; minicloud has the writer and its readers): with every reader down
// the writer would stop committing, so it commits alone until a reader
// streams again, at most a check period later. A commit acknowledged then
// is on the writer only, and a failover in that window could lose it. A
// reader still being made (its base backup streams WAL under its name)
// does not count: it acknowledges nothing.
func (c *Controller) syncReaders(ctx context.Context, key string, sc state.Scope, id, dir string, rec *records.Instance, p *server, eng engine.Engine) error {
	q, ok := eng.(engine.QuorumCommit)
	if !ok || !rec.IsMember() || rec.IsReplica() || len(rec.ReadReplicaDBInstanceIdentifiers) == 0 && !c.hasQuorum(key) {
		return nil
	}
	if rec.Replica == nil || rec.Replica.ReplPassword == "" {
		// The readers' replication login, which they wait for.
		if _, err := c.replPassword(sc, id, deref(rec.DBInstanceStatus), rec); err != nil {
			return err
		}
		for _, rid := range rec.ReadReplicaDBInstanceIdentifiers {
			c.enqueue(records.Instances.Key(sc, rid))
		}
	}
	pw := rec.Replica.ReplPassword
	var built []engine.Replica
	for _, rid := range rec.ReadReplicaDBInstanceIdentifiers {
		r, found, err := c.get(sc, rid)
		if err != nil {
			return err
		}
		if found && r.Initialized {
			built = append(built, replicaOf(sc, &r))
		}
	}
	c.quorum.mu.Lock()
	defer c.quorum.mu.Unlock()
	last, had := c.quorum.set[key]
	if len(built) == 0 && (!had || last.server != p) {
		return nil // no reader was ever built: no quorum, no replication login yet
	}
	on, err := q.Streaming(ctx, p.Server, pw, built)
	if err != nil {
		return fmt.Errorf("the readers streaming from the writer: %w", err)
	}
	want := slices.DeleteFunc(built, func(r engine.Replica) bool { return !slices.Contains(on, r.ID) })
	names := fmt.Sprint(replicaIDs(want))
	if had && last.server == p && last.names == names {
		return nil
	}
	if err := q.SyncReplicas(ctx, p.Server, dir, pw, want); err != nil {
		return fmt.Errorf("the writer's synchronous readers: %w", err)
	}
	if c.quorum.set == nil {
		c.quorum.set = map[string]appliedQuorum{}
	}
	c.quorum.set[key] = appliedQuorum{server: p, names: names}
	c.log.Info("rds: cluster writer's synchronous readers", "id", id, "readers", names)
	return nil
}

// hasQuorum reports whether the writer key's server was given synchronous
// readers.
func (c *Controller) hasQuorum(key string) bool {
	c.quorum.mu.Lock()
	defer c.quorum.mu.Unlock()
	_, ok := c.quorum.set[key]
	return ok
}

func replicaIDs(rs []engine.Replica) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.ID)
	}
	slices.Sort(out)
	return out
}

// checkQuorums re-applies every running cluster writer's synchronous
// readers: a reader that stopped streaming no longer holds commits up for
// longer than a check period.
func (c *Controller) checkQuorums() {
	type item struct {
		key, id string
		sc      state.Scope
		rec     records.Instance
	}
	var items []item
	c.mu.Lock()
	keys := make([]string, 0, len(c.servers))
	for k := range c.servers {
		keys = append(keys, k)
	}
	c.mu.Unlock()
	_ = c.store.View(c.ctx, func(tx state.Tx) error {
		for _, key := range keys {
			sc, id, _ := records.Instances.ParseKey(key)
			r, found, err := records.Instances.Get(tx, sc, id)
			if err != nil {
				return err
			}
			if !found || !r.IsMember() {
				continue
			}
			if err := asMember(tx, sc, &r); err != nil {
				return err
			}
			if !r.IsReplica() {
				items = append(items, item{key, id, sc, r})
			}
		}
		return nil
	})
	for _, it := range items {
		p := c.running(it.key)
		eng := c.engineFor(deref(it.rec.Engine))
		dir, err := c.dir(it.sc, it.id)
		if p == nil || eng == nil || err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
		if err := c.syncReaders(ctx, it.key, it.sc, it.id, dir, &it.rec, p, eng); err != nil && c.ctx.Err() == nil {
			c.log.Warn("rds: cluster writer's readers", "id", it.id, "err", err)
		}
		cancel()
	}
}

// clusterRelays are a cluster's loopback ports: the cluster endpoint's
// (to the writer), the reader endpoint's (round-robin over the readers)
// and each custom endpoint's, by endpoint identifier. Only the cluster's
// pass (one at a time) and Stop, after the passes, touch custom.
type clusterRelays struct {
	writer, reader *workload.Relay
	targets        atomic.Pointer[clusterTargets]
	next           atomic.Uint64
	custom         map[string]*customRelay
}

// customRelay is a custom endpoint's loopback port: round-robin over the
// available members it selects.
type customRelay struct {
	relay   *workload.Relay
	targets atomic.Pointer[[]int]
	next    atomic.Uint64
}

func (r *customRelay) dial() (net.Conn, error) {
	t := r.targets.Load()
	if t == nil || len(*t) == 0 {
		return nil, errors.New("the custom endpoint has no available member")
	}
	return dialInTurn(*t, &r.next)
}

// clusterTargets are the members' loopback ports the relays reach: the
// writer's (0: none runs) and the available readers'.
type clusterTargets struct {
	writer  int
	readers []int
}

// dialWriter reaches the writer.
func (cr *clusterRelays) dialWriter() (net.Conn, error) {
	t := cr.targets.Load()
	if t == nil || t.writer == 0 {
		return nil, errors.New("the cluster has no writer running")
	}
	return dialLoopback(t.writer)
}

// dialReader reaches the next reader in turn (the writer when there are
// none); a reader that does not answer passes the connection to the next.
func (cr *clusterRelays) dialReader() (net.Conn, error) {
	t := cr.targets.Load()
	if t == nil || len(t.readers) == 0 {
		return cr.dialWriter()
	}
	return dialInTurn(t.readers, &cr.next)
}

// dialInTurn reaches the next of ports in turn, counted by next; a port
// that does not answer passes the connection to the next.
func dialInTurn(ports []int, next *atomic.Uint64) (net.Conn, error) {
	start := next.Add(1)
	var err error
	for i := range uint64(len(ports)) {
		var conn net.Conn
		if conn, err = dialLoopback(ports[(start+i)%uint64(len(ports))]); err == nil {
			return conn, nil
		}
	}
	return nil, err
}

func dialLoopback(port int) (net.Conn, error) {
	return net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 5*time.Second)
}

func (cr *clusterRelays) close() {
	if cr == nil {
		return
	}
	cr.writer.Close()
	cr.reader.Close()
	for _, r := range cr.custom {
		r.relay.Close()
	}
}

// customPortKey is the port reservation of cluster key's custom endpoint id.
func customPortKey(key, id string) string { return key + "/custom/" + id }

// syncCustomRelays keeps cluster key's custom endpoints' loopback ports:
// one per endpoint in eps, listening on its recorded Port (0: any free
// port) and reaching the loopback ports of the available, running members
// it selects (ports, by member); a gone endpoint's relay closes and its
// port is freed. It returns each endpoint's port.
func (c *Controller) syncCustomRelays(key string, cr *clusterRelays, eps []records.ClusterEndpoint, writer string, ports map[string]int) (map[string]int, error) {
	out := map[string]int{}
	var errs []error
	for _, ep := range eps {
		r := cr.custom[ep.ID]
		if r == nil {
			p, err := c.cfg.Workloads.Ports().Reserve(customPortKey(key, ep.ID), ep.Port)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			r = &customRelay{}
			if r.relay, err = listenRelay(p, r.dial); err != nil {
				errs = append(errs, err)
				continue
			}
			if cr.custom == nil {
				cr.custom = map[string]*customRelay{}
			}
			cr.custom[ep.ID] = r
		}
		var t []int
		for _, mid := range slices.Sorted(maps.Keys(ports)) {
			if ep.Selects(mid, writer) {
				t = append(t, ports[mid])
			}
		}
		r.targets.Store(&t)
		out[ep.ID] = r.relay.Port()
	}
	for id, r := range cr.custom {
		if !slices.ContainsFunc(eps, func(e records.ClusterEndpoint) bool { return e.ID == id }) {
			r.relay.Close()
			delete(cr.custom, id)
			c.cfg.Workloads.Ports().Release(customPortKey(key, id))
		}
	}
	return out, errors.Join(errs...)
}

// relaysFor returns the cluster key's relays, listening on writerPort and
// readerPort (0: any free port), made if it has none.
func (c *Controller) relaysFor(key string, writerPort, readerPort int) (*clusterRelays, error) {
	c.mu.Lock()
	cr := c.clusters[key]
	c.mu.Unlock()
	if cr != nil {
		return cr, nil
	}
	ports := c.cfg.Workloads.Ports()
	wp, err := ports.Reserve(key+"/writer", writerPort)
	if err != nil {
		return nil, err
	}
	rp, err := ports.Reserve(key+"/reader", readerPort)
	if err != nil {
		return nil, err
	}
	cr = &clusterRelays{}
	if cr.writer, err = listenRelay(wp, cr.dialWriter); err != nil {
		return nil, err
	}
	if cr.reader, err = listenRelay(rp, cr.dialReader); err != nil {
		cr.writer.Close()
		return nil, err
	}
	c.mu.Lock()
	if c.clusters == nil {
		c.clusters = map[string]*clusterRelays{}
	}
	c.clusters[key] = cr
	c.mu.Unlock()
	return cr, nil
}

func listenRelay(port int, dial func() (net.Conn, error)) (*workload.Relay, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return nil, fmt.Errorf("the cluster's loopback port %d: %w", port, err)
	}
	return workload.NewRelay(ln, dial), nil
}

// dropRelays closes a gone cluster's relays and frees their ports.
func (c *Controller) dropRelays(key string) {
	c.mu.Lock()
	cr := c.clusters[key]
	delete(c.clusters, key)
	c.mu.Unlock()
	cr.close()
	c.cfg.Workloads.Ports().Release(key + "/writer")
	c.cfg.Workloads.Ports().Release(key + "/reader")
	if cr != nil {
		for id := range cr.custom {
			c.cfg.Workloads.Ports().Release(customPortKey(key, id))
		}
	}
}

// settledStatuses are the cluster statuses a request sets that end once
// its writer is available again.
var settledStatuses = []string{"creating", "starting", "modifying", "rebooting", "failing-over", "resetting-master-credentials", "backing-up", "upgrading", "renaming"}

// reconcileCluster keeps a cluster's loopback ports relaying to its
// members and its status following its writer's: available once the
// writer is, stopped once every member is. It reports whether to retry.
func (c *Controller) reconcileCluster(sc state.Scope, id string) (retry bool) {
	key := records.Clusters.Key(sc, id)
	var (
		cl      records.Cluster
		found   bool
		members = map[string]records.Instance{}
		eps     []records.ClusterEndpoint
	)
	err := c.store.View(c.ctx, func(tx state.Tx) error {
		var err error
		if cl, found, err = records.Clusters.Get(tx, sc, id); err != nil || !found {
			return err
		}
		for _, m := range cl.DBClusterMembers {
			mid := deref(m.DBInstanceIdentifier)
			r, ok, err := records.Instances.Get(tx, sc, mid)
			if err != nil {
				return err
			}
			if ok {
				members[mid] = r
			}
		}
		for _, addr := range cl.CustomEndpoints {
			ep, ok, err := records.ClusterEndpoints.Get(tx, sc, records.EndpointID(addr))
			if err != nil {
				return err
			}
			if ok {
				eps = append(eps, ep)
			}
		}
		return nil
	})
	if err != nil {
		return false
	}
	if !found {
		c.dropRelays(key)
		return false
	}
	cr, err := c.relaysFor(key, cl.WriterPort, cl.ReaderPort)
	if err != nil {
		c.log.Warn("rds: cluster loopback ports", "id", id, "err", err)
		return true
	}
	writerID := cl.Writer()
	t := &clusterTargets{}
	if w, ok := members[writerID]; ok && c.running(records.Instances.Key(sc, writerID)) != nil {
		t.writer = w.LoopbackPort
	}
	for _, mid := range memberIDs(&cl) {
		r := members[mid]
		if mid != writerID && deref(r.DBInstanceStatus) == "available" && c.running(records.Instances.Key(sc, mid)) != nil {
			t.readers = append(t.readers, r.LoopbackPort)
		}
	}
	cr.targets.Store(t)
	available := map[string]int{}
	for mid, r := range members {
		if deref(r.DBInstanceStatus) == "available" && c.running(records.Instances.Key(sc, mid)) != nil {
			available[mid] = r.LoopbackPort
		}
	}
	customPorts, err := c.syncCustomRelays(key, cr, eps, writerID, available)
	if err != nil {
		c.log.Warn("rds: custom endpoints' loopback ports", "id", id, "err", err)
		retry = true
	}
	c.settleEndpoints(sc, customPorts)
	writerStatus := deref(members[writerID].DBInstanceStatus)
	stopped := len(members) > 0
	for _, r := range members {
		stopped = stopped && deref(r.DBInstanceStatus) == "stopped"
	}
	c.updateCluster(sc, id, func(x *records.Cluster) {
		x.WriterPort, x.ReaderPort = cr.writer.Port(), cr.reader.Port()
		st := deref(x.Status)
		switch {
		case x.Failover != nil:
		case slices.Contains(settledStatuses, st) && writerStatus == "available" && x.Writer() == writerID:
			x.Status = ptr("available")
		case st == "stopping" && stopped:
			x.Status = ptr("stopped")
		}
	})
	return retry
}

// settleEndpoints records each custom endpoint's loopback port (ports, by
// identifier) and makes a creating or modifying one available: its relay
// and targets are in place, and the API's DNS names follow the records.
func (c *Controller) settleEndpoints(sc state.Scope, ports map[string]int) {
	for id, port := range ports {
		err := c.store.Update(context.Background(), func(tx state.Tx) error {
			ep, found, err := records.ClusterEndpoints.Get(tx, sc, id)
			if err != nil || !found {
				return err
			}
			if ep.Port == port && ep.Status != "creating" && ep.Status != "modifying" {
				return nil
			}
			ep.Port = port
			if ep.Status == "creating" || ep.Status == "modifying" {
				ep.Status = "available"
			}
			return records.ClusterEndpoints.Put(tx, sc, id, ep)
		})
		if err != nil {
			c.log.Warn("rds: custom endpoint's status", "id", id, "err", err)
		}
	}
}

// memberIDs are the cluster's members in DBClusterMembers' order.
func memberIDs(cl *records.Cluster) []string {
	var out []string
	for _, m := range cl.DBClusterMembers {
		out = append(out, deref(m.DBInstanceIdentifier))
	}
	return out
}

// updateCluster applies fn to the cluster record, if it exists, and
// writes it when fn changed it.
func (c *Controller) updateCluster(sc state.Scope, id string, fn func(x *records.Cluster)) {
	err := c.store.Update(context.Background(), func(tx state.Tx) error {
		x, found, err := records.Clusters.Get(tx, sc, id)
		if err != nil || !found {
			return err
		}
		before, _ := json.Marshal(x)
		fn(&x)
		if after, _ := json.Marshal(x); bytes.Equal(before, after) {
			return nil
		}
		return records.Clusters.Put(tx, sc, id, x)
	})
	if err != nil && !errors.Is(err, state.ErrClosed) {
		c.log.Warn("rds: record cluster state", "id", id, "err", err)
	}
}

// ClusterPorts are where a cluster's endpoints listen on 127.0.0.1 now
// (0: not yet).
func (c *Controller) ClusterPorts(sc state.Scope, id string) (writer, reader int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cr := c.clusters[records.Clusters.Key(sc, id)]; cr != nil {
		return cr.writer.Port(), cr.reader.Port()
	}
	return 0, 0
}
