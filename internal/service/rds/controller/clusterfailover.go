package controller

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// A DB cluster's failover runs in its writer's pass, before the writer's
// server would be started again, as a Multi-AZ instance's does: asked by
// FailoverDBCluster (the cluster's Failover), or by itself when the
// writer's server exited unexpectedly while a reader runs. The writer's
// server is stopped (a clean shutdown first sends every streaming reader
// all it committed); the reader to promote is chosen among the available
// ones (the target asked, else by PromotionTier) that received the most
// of the writer's log: with the quorum (syncReaders) one reader has every
// acknowledged commit, so choosing among those loses none when the
// writer crashed. One write swaps the roles in DBClusterMembers, so the
// cluster endpoint's relay and DNS name follow the new writer, and marks
// the old writer to be made anew as a reader from the new writer's data.
// The new writer's own pass then promotes it where it runs (its server,
// loopback port and ENI stay; promoteMember), as it does for a reader the
// API made the writer (the writer deleted); the other readers restart
// pointed at it.

// errFailedOver ends the old writer's pass after its failover: the record
// changed, and the next pass makes it a reader.
var errFailedOver = fmt.Errorf("%w: the cluster failed over", errWaitSource)

// failoverCluster carries out the failover of the cluster whose writer is
// rec (as read, a member), if one is asked or the writer's server died.
func (c *Controller) failoverCluster(ctx context.Context, key string, sc state.Scope, id string, rec *records.Instance, eng engine.Engine) error {
	if !rec.IsMember() || rec.IsReplica() || !rec.Initialized {
		return nil
	}
	q, ok := eng.(engine.QuorumCommit)
	if !ok {
		return nil
	}
	clID := deref(rec.DBClusterIdentifier)
	var cl records.Cluster
	if err := c.store.View(ctx, func(tx state.Tx) error {
		var err error
		cl, _, err = records.Clusters.Get(tx, sc, clID)
		return err
	}); err != nil {
		return err
	}
	if cl.Writer() != id {
		return nil
	}
	target := ""
	if cl.Failover != nil {
		target = cl.Failover.Target
	} else if !c.crashed(key, rec) {
		return nil
	}
	readers := c.failoverCandidates(sc, &cl, id)
	if len(readers) == 0 {
		if cl.Failover != nil && c.readersStarting(sc, &cl, id) {
			// Just restarted: the readers' own passes start them.
			return fmt.Errorf("%w: the cluster's readers to start before its failover", errWaitSource)
		}
		if cl.Failover != nil {
			// No reader can take over: the writer stays (AWS answers such
			// a request with a reboot of the writer).
			c.log.Warn("rds: cluster failover without a reader to promote", "cluster", clID)
			c.updateCluster(sc, clID, func(x *records.Cluster) { x.Failover = nil })
		}
		return nil
	}
	start := time.Now()
	c.log.Info("rds: cluster failover started", "cluster", clID, "writer", id, "asked", cl.Failover != nil)
	// A clean shutdown sends the streaming readers everything committed.
	c.stopServer(key)
	if err := c.failoverStep("stopped"); err != nil {
		return err
	}
	to, err := c.chooseTarget(ctx, sc, q, rec, readers, target)
	if err != nil {
		return err
	}
	if err := c.swapWriter(sc, clID, id, deref(to.DBInstanceIdentifier), rec.Replica.ReplPassword); err != nil {
		return err
	}
	c.log.Info("rds: cluster failover: new writer chosen", "cluster", clID, "writer", deref(to.DBInstanceIdentifier), "took", time.Since(start))
	if err := c.failoverStep("swapped"); err != nil {
		return err
	}
	return errFailedOver
}

// promoteMember runs in the pass of a cluster's writer whose running
// server p was started as a reader, or whose promotion is still recorded
// (records.MemberPromotions: a failover chose it, or the API gave it the
// role when the writer was deleted, and minicloud may have restarted
// since): p is promoted where it runs, the cluster's other members get
// their holds on it and restart pointed at it (their source's socket
// directory is inherited at start), and then the record goes. Each step
// can be repeated.
func (c *Controller) promoteMember(ctx context.Context, sc state.Scope, id, dir string, rec *records.Instance, p *server, eng engine.Engine) error {
	rep, ok := eng.(engine.Replication)
	if !ok || !rec.IsMember() || rec.IsReplica() {
		return nil
	}
	pending, err := c.promotionPending(sc, id)
	if err != nil {
		return err
	}
	if !p.replica && !pending {
		return nil
	}
	pw := ""
	if rec.Replica != nil {
		pw = rec.Replica.ReplPassword
	}
	me := replicaOf(sc, rec)
	me.ReplPassword = pw
	var others []engine.Replica
	for _, rid := range rec.ReadReplicaDBInstanceIdentifiers {
		if r, found, err := c.get(sc, rid); err == nil && found {
			others = append(others, replicaOf(sc, &r))
		}
	}
	// The holds first, while p still replays: made after the promotion,
	// they would not keep the log the readers need from the switch on,
	// which a checkpoint (a restart's, a base backup's for the old writer)
	// could remove before the readers come back.
	if q, ok := eng.(engine.QuorumCommit); ok {
		if err := q.Adopt(ctx, p.Server, pw, others); err != nil {
			return fmt.Errorf("the readers' holds on the new writer: %w", err)
		}
	}
	if err := rep.Promote(ctx, p.Server, dir, me, engine.Source{}); err != nil {
		return fmt.Errorf("promote the new writer: %w", err)
	}
	p.replica = false
	if err := c.failoverStep("promoted"); err != nil {
		return err
	}
	for _, r := range others {
		k := records.Instances.Key(sc, r.ID)
		c.stopServer(k)
		c.enqueue(k)
	}
	if err := c.promotionDone(sc, id); err != nil {
		return err
	}
	c.log.Info("rds: cluster writer promoted", "cluster", deref(rec.DBClusterIdentifier), "writer", id)
	c.noteFailoverDone(sc, deref(rec.DBClusterIdentifier), id)
	return nil
}

// crashed reports whether the writer key's server exited by itself (not
// stopped for a reboot, nor never started since minicloud started).
func (c *Controller) crashed(key string, rec *records.Instance) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.servers[key]
	return p != nil && !p.running() && c.reboots[key] >= rec.RebootSeq
}

// failoverCandidates are the cluster's readers that can be promoted: available
// with their server running.
func (c *Controller) failoverCandidates(sc state.Scope, cl *records.Cluster, writer string) []*records.Instance {
	var out []*records.Instance
	for _, mid := range memberIDs(cl) {
		if mid == writer {
			continue
		}
		r, found, err := c.get(sc, mid)
		if err != nil || !found || deref(r.DBInstanceStatus) != "available" || !r.Initialized || r.Replica == nil ||
			c.running(records.Instances.Key(sc, mid)) == nil {
			continue
		}
		out = append(out, &r)
	}
	return out
}

// chooseTarget is the reader to promote: target when asked (and it can
// be), else of the readers that received the most of the writer's log, the
// one with the lowest PromotionTier (then the first member).
func (c *Controller) chooseTarget(ctx context.Context, sc state.Scope, q engine.QuorumCommit, writer *records.Instance, readers []*records.Instance, target string) (*records.Instance, error) {
	if i := slices.IndexFunc(readers, func(r *records.Instance) bool { return deref(r.DBInstanceIdentifier) == target }); i >= 0 {
		return readers[i], nil
	}
	pos := map[*records.Instance]uint64{}
	var most uint64
	for _, r := range readers {
		sp := c.running(records.Instances.Key(sc, deref(r.DBInstanceIdentifier)))
		if sp == nil {
			continue
		}
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		n, err := q.Received(qctx, sp.Server, writer.Replica.ReplPassword)
		cancel()
		if err != nil {
			c.log.Warn("rds: a reader's log position", "id", deref(r.DBInstanceIdentifier), "err", err)
			continue
		}
		pos[r] = n
		most = max(most, n)
	}
	best := slices.DeleteFunc(slices.Clone(readers), func(r *records.Instance) bool { n, ok := pos[r]; return !ok || n < most })
	if len(best) == 0 {
		return nil, errors.New("no reader answers")
	}
	slices.SortStableFunc(best, func(a, b *records.Instance) int { return cmp.Compare(deref(a.PromotionTier), deref(b.PromotionTier)) })
	return best[0], nil
}

// swapWriter records the failover: to becomes the cluster's writer and
// from a reader, the request is done; to gets the replication login the
// readers share, and from is made anew as a reader.
func (c *Controller) swapWriter(sc state.Scope, clID, from, to, replPassword string) error {
	return c.store.Update(context.Background(), func(tx state.Tx) error {
		cl, found, err := records.Clusters.Get(tx, sc, clID)
		if err != nil || !found {
			return err
		}
		for i := range cl.DBClusterMembers {
			m := &cl.DBClusterMembers[i]
			m.IsClusterWriter = ptr(deref(m.DBInstanceIdentifier) == to)
		}
		cl.Failover = nil
		if err := noteFailoverStarted(tx, sc, &cl, from, to); err != nil {
			return err
		}
		if err := records.Clusters.Put(tx, sc, clID, cl); err != nil {
			return err
		}
		if err := records.MemberPromotions.Put(tx, sc, to, records.MemberPromotion{Cluster: clID}); err != nil {
			return err
		}
		for _, id := range []string{to, from} {
			r, found, err := records.Instances.Get(tx, sc, id)
			if err != nil || !found {
				return err
			}
			if r.Replica == nil {
				r.Replica = &records.ReplicaState{}
			}
			r.Replica.ReplPassword = replPassword
			if id == from {
				r.Initialized = false
				if deref(r.DBInstanceStatus) == "available" {
					r.DBInstanceStatus = ptr("rebooting") // until it serves as a reader
				}
			}
			if err := records.Instances.Put(tx, sc, id, r); err != nil {
				return err
			}
		}
		return nil
	})
}
