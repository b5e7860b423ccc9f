package controller

import (
	"context"
	"errors"
	"time"

	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// A failover survives a restart of minicloud at any step (SIGTERM, or
// kill -9: the servers then get SIGINT, a fast shutdown, from the kernel).
// The durable records and the servers disagree in three windows, and a
// pass after the restart converges from each:
//
//   - "stopped": the writer's server is stopped, the roles are not yet
//     swapped. The cluster's Failover is still recorded, so the writer's
//     first pass fails over again; it waits (errWaitSource) until the
//     readers the records call available run again rather than giving up
//     for want of a running reader.
//   - "swapped": the roles are swapped (one write), the new writer is not
//     yet promoted. The new writer's server starts from data that is still
//     a reader's; the same write recorded records.MemberPromotions for it,
//     so its pass promotes it where it runs.
//   - "promoted": the new writer accepts writes, the other readers do not
//     yet follow it. The promotion is still recorded, and promoting again
//     is a no-op, so the pass repeats the step: their holds on the writer
//     (made before the promotion, so that the log they need from the
//     timeline switch on is kept across the restart; idempotent) and their
//     restart pointed at it; only then is the record removed.
//
// The old writer in the last two is marked to be made anew as a reader
// (Initialized false) by the same write that swapped the roles.
//
// After a restart every member's pass runs at once, so a reader's server
// may be started pointed at the old writer (its pass read the records
// before the swap) and registered only after promoteMember restarted the
// readers, which then missed it. A replica's server follows the source it
// was started with (it inherits that source's socket directory), so
// runningServer restarts any whose recorded source differs (server.source),
// and checkReplicas enqueues such a reader should no event do it: whatever
// the window, every reader ends up following the current writer.

// OnFailoverStep sets fn to run at each step boundary of a cluster
// failover ("stopped", "swapped", "promoted"), in the pass, with the
// controller's context: a crash point for tests, which stop the controller
// while fn waits for the context to end. It also runs as "reader <id>
// started" once a cluster reader's new server is ready and before the
// controller registers it, so that a test can make that pass outlast a
// failover. Nil removes it.
func (c *Controller) OnFailoverStep(fn func(ctx context.Context, step string)) {
	if fn == nil {
		c.failoverHook.Store(nil)
		return
	}
	c.failoverHook.Store(&fn)
}

// failoverStep runs the step hook, if any; after it, a stopped controller
// ends the pass where it is.
func (c *Controller) failoverStep(step string) error {
	fn := c.failoverHook.Load()
	if fn == nil {
		return nil
	}
	(*fn)(c.ctx, step)
	return c.ctx.Err()
}

// promotionPending reports whether member id of scope sc is still to be
// promoted as its cluster's writer.
func (c *Controller) promotionPending(sc state.Scope, id string) (bool, error) {
	var found bool
	err := c.store.View(c.ctx, func(tx state.Tx) error {
		var err error
		_, found, err = records.MemberPromotions.Get(tx, sc, id)
		return err
	})
	return found, err
}

// promotionDone removes member id's pending promotion.
func (c *Controller) promotionDone(sc state.Scope, id string) error {
	err := c.store.Update(context.Background(), func(tx state.Tx) error {
		return records.MemberPromotions.Delete(tx, sc, id)
	})
	if errors.Is(err, state.ErrClosed) {
		return nil
	}
	return err
}

// restartGrace is how long after the controller's start a failover waits
// for readers to start: one whose server cannot start does not hold the
// cluster up for good.
const restartGrace = 2 * time.Minute

// readersStarting reports whether, shortly after the controller started,
// a reader of cl other than writer is recorded as built and available but
// has no server running in this process yet (before its first pass).
func (c *Controller) readersStarting(sc state.Scope, cl *records.Cluster, writer string) bool {
	if time.Since(c.created) > restartGrace {
		return false
	}
	for _, mid := range memberIDs(cl) {
		if mid == writer {
			continue
		}
		r, found, err := c.get(sc, mid)
		if err == nil && found && r.Initialized && deref(r.DBInstanceStatus) == "available" &&
			c.running(records.Instances.Key(sc, mid)) == nil {
			return true
		}
	}
	return false
}
