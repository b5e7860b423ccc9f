package controller

import (
	"context"
	"errors"
	"fmt"

	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// Multi-AZ DB instance deployments (engine.Standbys): a second,
// hidden server of the instance's engine (engine.Standbys), synchronous
// and not readable, in the instance directory. With the data plane on it
// runs in the namespace of its own ENI, in a subnet of
// SecondaryAvailabilityZone, with the instance's security groups.
//
// A failover stops the primary (a clean shutdown first sends the standby
// everything committed), promotes the standby, stops it and swaps the data
// directories (the primary's is always the instance's own); the record
// swaps the ENIs and the Availability Zones, so the endpoint's DNS answer
// becomes the new primary's private IP; the primary then starts on its
// loopback port from the promoted data, and a new standby is built from it
// on the old primary's ENI.

// standby returns the key's running standby server, if any.
func (c *Controller) standby(key string) *server {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.standbys[key]; p != nil && p.running() {
		return p
	}
	return nil
}

// stopStandbyServer stops the key's standby server, if one runs, and
// returns it.
func (c *Controller) stopStandbyServer(key string) *server { return c.takeStopped(key, true) }

// stopAllStandbys stops every standby server (minicloud stops).
func (c *Controller) stopAllStandbys() {
	c.mu.Lock()
	all := c.standbys
	c.standbys = nil
	c.mu.Unlock()
	for _, p := range all {
		p.stop()
	}
}

// stopStandby stops a stopped, failed, deleted or deleting instance's
// standby and removes its network interface; the standby's data stays
// with the instance's. It reports false when the interface could not be
// removed (to retry).
func (c *Controller) stopStandby(key string, sc state.Scope, id, status string, rec *records.Instance) bool {
	p := c.stopStandbyServer(key)
	var e *records.PlacedENI
	switch {
	case rec != nil && rec.Standby != nil:
		e = rec.Standby.ENI
	case p != nil:
		e = p.eni
	}
	if e == nil {
		return true
	}
	if err := c.unplug(sc, e); err != nil {
		c.log.Warn("rds: remove the standby's network interface", "id", id, "eni", e.ID, "err", err)
		return false
	}
	if rec != nil {
		c.update(sc, id, status, func(r *records.Instance) bool {
			if r.Standby != nil && r.Standby.ENI != nil && r.Standby.ENI.ID == e.ID {
				r.Standby.ENI = nil
			}
			return false
		})
	}
	return true
}

// syncStandby runs in converge once the primary p runs: it builds, starts
// or removes the standby as the record asks, and makes replication
// synchronous once the standby streams.
func (c *Controller) syncStandby(ctx context.Context, key string, sc state.Scope, id, dir string, rec *records.Instance, p *server, eng engine.Engine) error {
	status := deref(rec.DBInstanceStatus)
	sbe, ok := eng.(engine.Standbys)
	if !ok || !c.wantsStandby(rec) {
		if rec.Standby == nil && c.standby(key) == nil {
			return nil
		}
		return c.removeStandby(ctx, key, sc, id, dir, rec, p, sbe)
	}
	pw, err := c.replPassword(sc, id, status, rec)
	if err != nil {
		return err
	}
	port := c.listenPort(rec)
	if sb := c.standby(key); sb != nil {
		// Follow a primary that restarted on another port.
		if err := sbe.RetargetStandby(sb.Server, dir, port, pw); err != nil {
			return err
		}
		return sbe.SyncStandby(ctx, p.Server, dir, pw, true)
	}
	if !rec.Standby.Built {
		if err := sbe.BuildStandby(ctx, p.Server, engine.Access{Dir: dir, User: deref(rec.MasterUsername), Password: rec.AppliedPassword}, pw, port); err != nil {
			return err
		}
		c.update(sc, id, status, func(r *records.Instance) bool {
			if r.Standby != nil {
				r.Standby.Built = true
			}
			return false
		})
		rec.Standby.Built = true
	}
	sb, err := c.startStandby(ctx, sc, id, dir, rec, sbe, pw)
	if err != nil {
		return err
	}
	if err := sbe.WaitStandby(ctx, sb.Server, p.Server, dir, pw); err != nil {
		sb.stop()
		// A primary waiting for a standby that does not come would hang
		// every commit.
		_ = sbe.SyncStandby(context.Background(), p.Server, dir, pw, false)
		// The next pass builds a new standby from a fresh base backup.
		c.update(sc, id, status, func(r *records.Instance) bool {
			if r.Standby != nil {
				r.Standby.Built = false
			}
			return false
		})
		return err
	}
	c.setStandby(key, sb)
	c.enqueueOnExit(key, sb, true)
	return sbe.SyncStandby(ctx, p.Server, dir, pw, true)
}

// startStandby starts the built standby of the instance in dir, placed on
// its own ENI when the instance is.
func (c *Controller) startStandby(ctx context.Context, sc state.Scope, id, dir string, rec *records.Instance, sbe engine.Standbys, pw string) (*server, error) {
	var vpc *engine.Listen
	if c.wantsVPC(rec) {
		var err error
		if vpc, err = c.plugStandby(ctx, sc, id, deref(rec.DBInstanceStatus), rec); err != nil {
			return nil, err
		}
	}
	sp, err := sbe.StartStandby(dir, c.listenPort(rec), vpc, pw)
	if err != nil {
		return nil, err
	}
	return &server{Server: sp, eni: rec.Standby.ENI}, nil
}

// setStandby records sb as the key's running standby.
func (c *Controller) setStandby(key string, sb *server) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.standbys == nil {
		c.standbys = map[string]*server{}
	}
	c.standbys[key] = sb
}

// replPassword is the replication role's password, shared with read
// replicas (the role is one), made and recorded if the instance has none.
func (c *Controller) replPassword(sc state.Scope, id, status string, rec *records.Instance) (string, error) {
	if rec.Replica != nil && rec.Replica.ReplPassword != "" {
		return rec.Replica.ReplPassword, nil
	}
	pw := engine.RandomString(32)
	ok := c.update(sc, id, status, func(r *records.Instance) bool {
		if r.Replica == nil {
			r.Replica = &records.ReplicaState{}
		}
		if r.Replica.ReplPassword == "" {
			r.Replica.ReplPassword = pw
		}
		pw = r.Replica.ReplPassword
		return false
	})
	if !ok {
		return "", errors.New("the instance changed while its replication password was made")
	}
	if rec.Replica == nil {
		rec.Replica = &records.ReplicaState{}
	}
	rec.Replica.ReplPassword = pw
	return pw, nil
}

// removeStandby makes a Multi-AZ instance single-AZ: the primary stops
// waiting for the standby, which is stopped and removed with its hold on
// the primary, its data and its network interface.
func (c *Controller) removeStandby(ctx context.Context, key string, sc state.Scope, id, dir string, rec *records.Instance, p *server, sbe engine.Standbys) error {
	status := deref(rec.DBInstanceStatus)
	pw := ""
	if rec.Replica != nil {
		pw = rec.Replica.ReplPassword
	}
	if pw != "" && sbe != nil {
		if err := sbe.SyncStandby(ctx, p.Server, dir, pw, false); err != nil {
			return err
		}
	}
	if !c.stopStandby(key, sc, id, status, rec) {
		return errors.New("the standby's network interface could not be removed")
	}
	if sbe != nil {
		if err := sbe.RemoveStandby(ctx, p.Server, dir, pw); err != nil {
			return err
		}
	}
	c.update(sc, id, status, func(r *records.Instance) bool {
		if !deref(r.MultiAZ) {
			r.Standby = nil
			r.SecondaryAvailabilityZone = nil
		}
		return false
	})
	rec.Standby, rec.SecondaryAvailabilityZone = nil, nil
	return nil
}

// failoverIfAsked fails a Multi-AZ instance over to its standby when the
// record asks for it (before converge starts the primary again): the
// standby is promoted (promoteStandby), then the two swap roles
// (swapRoles). A failover interrupted between the two (Swapping) resumes
// with the swap.
func (c *Controller) failoverIfAsked(ctx context.Context, key string, sc state.Scope, id, dir string, rec *records.Instance, eng engine.Engine) error {
	if rec.Standby == nil || !rec.Standby.Failover {
		return nil
	}
	sbe, ok := eng.(engine.Standbys)
	if !ok {
		return fmt.Errorf("minicloud has no Multi-AZ standbys of %s DB instances", eng.Name())
	}
	status := deref(rec.DBInstanceStatus)
	if !rec.Standby.Swapping {
		if !rec.Standby.Built {
			// No standby can take over (it is being rebuilt): the reboot
			// goes on without a failover rather than waiting forever.
			c.log.Warn("rds: reboot without failover: the standby is not ready", "id", id)
			c.update(sc, id, status, func(r *records.Instance) bool {
				if r.Standby != nil {
					r.Standby.Failover = false
				}
				return false
			})
			rec.Standby.Failover = false
			return nil
		}
		if err := c.promoteStandby(ctx, key, sc, id, dir, status, rec, sbe); err != nil {
			return err
		}
	}
	return c.swapRoles(ctx, sc, id, dir, status, rec, sbe)
}

// promoteStandby stops the primary and promotes its standby, which its
// read replicas then follow, and records that the roles are to be swapped
// (Swapping).
func (c *Controller) promoteStandby(ctx context.Context, key string, sc state.Scope, id, dir, status string, rec *records.Instance, sbe engine.Standbys) error {
	pw := ""
	if rec.Replica != nil {
		pw = rec.Replica.ReplPassword
	}
	// A clean shutdown of the primary sends the standby everything
	// committed first: nothing is lost.
	c.stopServer(key)
	sb := c.standby(key)
	if sb == nil {
		// The standby replays what it has received, then promotes.
		var err error
		if sb, err = c.startStandby(ctx, sc, id, dir, rec, sbe, pw); err != nil {
			return err
		}
		c.setStandby(key, sb)
	}
	var replicas []engine.Replica
	for _, rid := range rec.ReadReplicaDBInstanceIdentifiers {
		r, found, err := c.get(sc, rid)
		if err != nil {
			return err
		}
		if found {
			replicas = append(replicas, replicaOf(sc, &r))
		}
	}
	if err := sbe.PromoteStandby(ctx, sb.Server, dir, pw, replicas); err != nil {
		return err
	}
	c.stopStandbyServer(key)
	if !c.update(sc, id, status, func(r *records.Instance) bool {
		if r.Standby != nil {
			r.Standby.Swapping = true
		}
		return false
	}) {
		return errors.New("the instance changed during its failover")
	}
	rec.Standby.Swapping = true
	return nil
}

// swapRoles makes the promoted standby's data the primary's (SwapStandby)
// and swaps the two's network interfaces and zones in the record, so that
// the endpoint name answers the new primary; the old primary's data and
// interface become the new standby's, which converge builds again.
func (c *Controller) swapRoles(ctx context.Context, sc state.Scope, id, dir, status string, rec *records.Instance, sbe engine.Standbys) error {
	if err := sbe.SwapStandby(dir); err != nil {
		return fmt.Errorf("swap the data directories: %w", err)
	}
	// The old primary's interface becomes the new standby's; it keeps no
	// public IP (the new primary's interface gets one if it is to).
	old := rec.ENI
	if old != nil && old.PublicIP != "" {
		if c.placing() {
			if err := c.cfg.EC2.ReleasePublicIP(ctx, sc.Account, sc.Region, old.ID); err != nil {
				return fmt.Errorf("release the public IP of %s: %w", old.ID, err)
			}
		}
		old.PublicIP = ""
	}
	swap := func(r *records.Instance) {
		r.ENI, r.Standby.ENI = r.Standby.ENI, r.ENI
		if r.Standby.ENI != nil {
			r.Standby.ENI.PublicIP = ""
		}
		r.AvailabilityZone, r.SecondaryAvailabilityZone = r.SecondaryAvailabilityZone, r.AvailabilityZone
		r.Standby.Failover, r.Standby.Swapping, r.Standby.Built = false, false, false
	}
	if !c.update(sc, id, status, func(r *records.Instance) bool {
		if r.Standby != nil && r.Standby.Swapping {
			swap(r)
		}
		return false
	}) {
		return errors.New("the instance changed during its failover")
	}
	swap(rec)
	c.log.Info("rds: Multi-AZ instance failover completed", "id", id, "availabilityZone", deref(rec.AvailabilityZone))
	return nil
}

// failoverOnPrimaryLoss starts a failover, as RDS does when a Multi-AZ
// instance's primary fails, when the primary's server could not be started
// again (converge failed with cause and left none running) while the
// standby runs. It reports whether it did.
func (c *Controller) failoverOnPrimaryLoss(key string, sc state.Scope, id string, rec *records.Instance, cause error) bool {
	if deref(rec.DBInstanceStatus) != "available" || !c.wantsStandby(rec) || !rec.Standby.Built || rec.Standby.Failover ||
		c.running(key) != nil || c.standby(key) == nil {
		return false
	}
	c.log.Warn("rds: Multi-AZ instance failover started: the primary did not come back", "id", id, "err", cause)
	return c.update(sc, id, "available", func(r *records.Instance) bool {
		if r.Standby != nil {
			r.Standby.Failover = true
			r.DBInstanceStatus = ptr("rebooting")
		}
		return false
	})
}
