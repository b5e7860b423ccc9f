package controller

import (
	"context"
	"errors"

	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// Events (records/events.go): the controller records most of them in the
// same write as the transition they tell of (records.PutInstance,
// PutSnapshot, PutClusterSnapshot… for each write of those records; the
// failover's start in swapWriter). What happens outside any record's
// write (a server shut down for a reboot, a new writer promoted) is
// recorded by note in a write of its own, once it has happened.

// note records one event in a write of its own.
func (c *Controller) note(sc state.Scope, k records.EventKind, id, arn string, args ...any) {
	err := c.store.Update(context.Background(), func(tx state.Tx) error {
		return records.Note(tx, sc, k, id, arn, args...)
	})
	if err != nil && !errors.Is(err, state.ErrClosed) {
		c.log.Warn("rds: record event", "event", k.ID, "source", id, "err", err)
	}
}

// noteFailoverDone records that cluster clID's failover to writer has
// completed: its server now takes writes.
func (c *Controller) noteFailoverDone(sc state.Scope, clID, writer string) {
	err := c.store.Update(context.Background(), func(tx state.Tx) error {
		cl, found, err := records.Clusters.Get(tx, sc, clID)
		if err != nil || !found {
			return err
		}
		return records.Note(tx, sc, records.EvClusterFailoverDone, clID, deref(cl.DBClusterArn), writer)
	})
	if err != nil && !errors.Is(err, state.ErrClosed) {
		c.log.Warn("rds: record event", "event", records.EvClusterFailoverDone.ID, "source", clID, "err", err)
	}
}

// noteShutdown records a running server's shutdown for a reboot.
func (c *Controller) noteShutdown(sc state.Scope, status string, rec *records.Instance, running bool) {
	if running && status == "rebooting" {
		c.note(sc, records.EvShutdown, deref(rec.DBInstanceIdentifier), deref(rec.DBInstanceArn))
	}
}

// noteFailoverStarted records, in swapWriter's write, the start of cluster
// cl's failover from writer from to reader to: same-AZ or cross-AZ as
// their zones are.
func noteFailoverStarted(tx state.Tx, sc state.Scope, cl *records.Cluster, from, to string) error {
	a, _, err := records.Instances.Get(tx, sc, from)
	if err != nil {
		return err
	}
	b, _, err := records.Instances.Get(tx, sc, to)
	if err != nil {
		return err
	}
	k := records.EvClusterFailoverCrossAZ
	if deref(a.AvailabilityZone) == deref(b.AvailabilityZone) {
		k = records.EvClusterFailoverSameAZ
	}
	return records.Note(tx, sc, k, deref(cl.DBClusterIdentifier), deref(cl.DBClusterArn), to)
}
