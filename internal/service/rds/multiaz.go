package rds

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/state"
	"github.com/minicloud/minicloud/internal/vpcnet"
)

// Multi-AZ DB instance deployments (see the package comment): a second,
// hidden postgres server in <instance dir>/standby, a physical standby of
// the primary streaming over the primary's unix socket like a read replica,
// but synchronous (the primary's synchronous_standby_names names it, so a
// commit acknowledged to a client is flushed on the standby too) and not
// readable (hot_standby off). It listens on no TCP address at all: clients
// can neither resolve nor reach it. With the data plane on it runs in the
// namespace of its own ENI, in a subnet of SecondaryAvailabilityZone, with
// the instance's security groups.
//
// The primary's data is always <instance dir>/data, so everything else
// (read replicas, the loopback port, the controller) keeps finding it
// there: a failover stops the primary (a clean shutdown first sends the
// standby every WAL record), promotes the standby, stops it and swaps the
// data directories; the record swaps the ENIs and the Availability Zones,
// so the endpoint's DNS answer becomes the new primary's private IP; the
// primary then starts on its loopback port from the promoted data, and a
// new standby is built from it (pg_basebackup) on the old primary's ENI.

// standbyApp is the standby's application_name on the primary, the name
// synchronous_standby_names gives.
const standbyApp = "rds_multi_az_standby"

// standbySlot is the standby's physical replication slot on the primary.
const standbySlot = "rds_multi_az_standby"

// standbyState is what a Multi-AZ DB instance keeps about its standby.
type standbyState struct {
	// ENI is the standby's network interface, in a subnet of
	// SecondaryAvailabilityZone, while it has one.
	ENI *PlacedENI `json:"eni,omitempty"`
	// Built is set once <dir>/standby/data is a base backup of the primary.
	Built bool `json:"built,omitempty"`
	// Failover asks the controller for a failover (RebootDBInstance with
	// ForceFailover).
	Failover bool `json:"failover,omitempty"`
	// Swapping is set once the standby has been promoted and stopped,
	// until the data directories and the record are swapped: a restart of
	// minicloud in between finishes the swap.
	Swapping bool `json:"swapping,omitempty"`
}

// standbyDir is the standby server's instance directory inside dir.
func standbyDir(dir string) string { return filepath.Join(dir, "standby") }

// checkCreateMultiAZ applies AWS's and minicloud's rules to
// CreateDBInstance's MultiAZ.
func checkCreateMultiAZ(in *rdsapi.CreateDBInstanceMessage, engineName string) error {
	if !deref(in.MultiAZ) {
		return nil
	}
	if deref(in.AvailabilityZone) != "" {
		return errCombination("Requesting a specific availability zone is not valid for Multi-AZ instances.")
	}
	if engineName != "postgres" {
		return errCombination("minicloud runs Multi-AZ DB instance deployments for postgres only so far, not %s.", engineName)
	}
	return nil
}

// initStandby gives a new Multi-AZ record its standby's Availability Zone.
func initStandby(r *instanceRecord, sc state.Scope) {
	if !deref(r.MultiAZ) {
		return
	}
	r.SecondaryAvailabilityZone = ptr(secondaryAZ(r, sc))
	r.Standby = &standbyState{}
}

// secondaryAZ picks the standby's zone: the first zone of the DB subnet
// group other than the primary's (the group covers at least two), else,
// without a group, another zone of the Region.
func secondaryAZ(r *instanceRecord, sc state.Scope) string {
	primary := deref(r.AvailabilityZone)
	if r.DBSubnetGroup != nil {
		for _, s := range r.DBSubnetGroup.Subnets {
			if az := deref(s.SubnetAvailabilityZone.Name); az != "" && az != primary {
				return az
			}
		}
	}
	if primary == sc.Region+"a" {
		return sc.Region + "b"
	}
	return sc.Region + "a"
}

// subnetInAZ is the DB subnet group's first subnet in zone az, else its
// first subnet.
func subnetInAZ(g *rdsapi.DBSubnetGroup, az string) string {
	for _, s := range g.Subnets {
		if s.SubnetAvailabilityZone != nil && deref(s.SubnetAvailabilityZone.Name) == az {
			return deref(s.SubnetIdentifier)
		}
	}
	return deref(g.Subnets[0].SubnetIdentifier)
}

// modifyMultiAZ applies ModifyDBInstance's MultiAZ to r (within its
// transaction): the controller builds or removes the standby while the
// instance is modifying. minicloud has no maintenance window, so the
// change is made at once whatever ApplyImmediately says.
func modifyMultiAZ(r *instanceRecord, sc state.Scope, in *rdsapi.ModifyDBInstanceMessage) error {
	if in.MultiAZ == nil || *in.MultiAZ == deref(r.MultiAZ) {
		return nil
	}
	if *in.MultiAZ {
		if e := deref(r.Engine); e != "postgres" {
			return errCombination("minicloud runs Multi-AZ DB instance deployments for postgres only so far, not %s.", e)
		}
		if isReplica(r) {
			return errCombination("minicloud does not make read replicas Multi-AZ yet.")
		}
		r.MultiAZ = ptr(true)
		r.SecondaryAvailabilityZone = ptr(secondaryAZ(r, sc))
		r.Standby = &standbyState{}
	} else {
		r.MultiAZ = ptr(false)
	}
	if r.PendingModifiedValues == nil {
		r.PendingModifiedValues = &rdsPending{}
	}
	r.PendingModifiedValues.MultiAZ = ptr(*in.MultiAZ)
	r.DBInstanceStatus = ptr("modifying")
	return nil
}

// wantsStandby reports whether the controller is to keep a standby for r.
func wantsStandby(r *instanceRecord) bool {
	return deref(r.MultiAZ) && r.Standby != nil && deref(r.Engine) == "postgres"
}

// standby returns the key's running standby server, if any.
func (c *controller) standby(key string) *server {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.standbys[key]; p != nil && p.running() {
		return p
	}
	return nil
}

// stopStandbyServer stops the key's standby server, if one runs, and
// returns it.
func (c *controller) stopStandbyServer(key string) *server {
	c.mu.Lock()
	p := c.standbys[key]
	delete(c.standbys, key)
	c.mu.Unlock()
	p.stop()
	return p
}

// stopAllStandbys stops every standby server (minicloud stops).
func (c *controller) stopAllStandbys() {
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
func (c *controller) stopStandby(key string, sc state.Scope, id, status string, rec *instanceRecord) bool {
	p := c.stopStandbyServer(key)
	var e *PlacedENI
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
		c.s.log.Warn("rds: remove the standby's network interface", "id", id, "eni", e.ID, "err", err)
		return false
	}
	if rec != nil {
		c.update(sc, id, status, func(r *instanceRecord) bool {
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
func (c *controller) syncStandby(ctx context.Context, key string, sc state.Scope, id, dir string, rec *instanceRecord, p *server) error {
	status := deref(rec.DBInstanceStatus)
	if !wantsStandby(rec) {
		if rec.Standby == nil && c.standby(key) == nil {
			return nil
		}
		return c.removeStandby(ctx, key, sc, id, dir, rec, p)
	}
	pw, err := c.replPassword(sc, id, status, rec)
	if err != nil {
		return err
	}
	sdir := standbyDir(dir)
	port := c.s.pgPort(rec)
	if sb := c.standby(key); sb != nil {
		// Follow a primary that restarted on another port.
		if changed, err := writeStandbyConf(sdir, standbyApp, standbySlot, pw, port, false); err != nil {
			return err
		} else if changed {
			_ = sb.cmd.Process.Signal(syscall.SIGHUP)
		}
		return setSyncStandby(ctx, dir, p, pw, standbyApp)
	}
	if !rec.Standby.Built {
		if err := ensureReplRole(ctx, dir, p.port, deref(rec.MasterUsername), rec.AppliedPassword, pw); err != nil {
			return fmt.Errorf("replication role: %w", err)
		}
		// Until the new standby streams, the primary must not wait for it.
		if err := setSyncStandby(ctx, dir, p, pw, ""); err != nil {
			return err
		}
		if err := dropSlot(ctx, p.port, pw, standbySlot); err != nil {
			return fmt.Errorf("the standby's replication slot: %w", err)
		}
		f, err := os.Open(sockDir(dir))
		if err != nil {
			return err
		}
		err = c.s.engine.replicaBaseBackup(sdir, f, port, pw, standbySlot, standbyApp)
		_ = f.Close()
		if err != nil {
			return fmt.Errorf("the standby's base backup: %w", err)
		}
		if err := stripAutoConf(sdir, "synchronous_standby_names"); err != nil {
			return err
		}
		c.update(sc, id, status, func(r *instanceRecord) bool {
			if r.Standby != nil {
				r.Standby.Built = true
			}
			return false
		})
		rec.Standby.Built = true
	}
	if _, err := writeStandbyConf(sdir, standbyApp, standbySlot, pw, port, false); err != nil {
		return err
	}
	if err := ensureStandbySignal(sdir); err != nil {
		return err
	}
	var vpc *vpcListen
	if c.s.wantsVPC(rec) {
		if vpc, err = c.plugStandby(ctx, sc, id, status, rec); err != nil {
			return err
		}
	}
	sb, err := c.startStandby(dir, port, vpc)
	if err != nil {
		return err
	}
	sb.eni = rec.Standby.ENI
	if err := waitStreaming(ctx, sb, p.port, pw, sdir); err != nil {
		sb.stop()
		// A primary waiting for a standby that does not come would hang
		// every commit.
		_ = setSyncStandby(context.Background(), dir, p, pw, "")
		// The next pass builds a new standby from a fresh base backup.
		c.update(sc, id, status, func(r *instanceRecord) bool {
			if r.Standby != nil {
				r.Standby.Built = false
			}
			return false
		})
		return err
	}
	c.mu.Lock()
	if c.standbys == nil {
		c.standbys = map[string]*server{}
	}
	c.standbys[key] = sb
	c.mu.Unlock()
	go func() {
		<-sb.done
		c.mu.Lock()
		mine := c.standbys[key] == sb
		c.mu.Unlock()
		if mine {
			c.enqueue(key) // an unexpected exit: start it again
		}
	}()
	return setSyncStandby(ctx, dir, p, pw, standbyApp)
}

// replPassword is the replication role's password, shared with read
// replicas (the role is one), made and recorded if the instance has none.
func (c *controller) replPassword(sc state.Scope, id, status string, rec *instanceRecord) (string, error) {
	if rec.Replica != nil && rec.Replica.ReplPassword != "" {
		return rec.Replica.ReplPassword, nil
	}
	pw := randomLower(32)
	ok := c.update(sc, id, status, func(r *instanceRecord) bool {
		if r.Replica == nil {
			r.Replica = &replicaState{}
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
		rec.Replica = &replicaState{}
	}
	rec.Replica.ReplPassword = pw
	return pw, nil
}

// removeStandby makes a Multi-AZ instance single-AZ: the primary stops
// waiting for the standby, which is stopped and removed with its slot,
// data and network interface.
func (c *controller) removeStandby(ctx context.Context, key string, sc state.Scope, id, dir string, rec *instanceRecord, p *server) error {
	status := deref(rec.DBInstanceStatus)
	pw := ""
	if rec.Replica != nil {
		pw = rec.Replica.ReplPassword
	}
	if pw != "" {
		if err := setSyncStandby(ctx, dir, p, pw, ""); err != nil {
			return err
		}
	}
	if !c.stopStandby(key, sc, id, status, rec) {
		return errors.New("the standby's network interface could not be removed")
	}
	if pw != "" {
		if err := dropSlot(ctx, p.port, pw, standbySlot); err != nil {
			return fmt.Errorf("the standby's replication slot: %w", err)
		}
	}
	if err := os.RemoveAll(standbyDir(dir)); err != nil {
		return err
	}
	c.update(sc, id, status, func(r *instanceRecord) bool {
		if !deref(r.MultiAZ) {
			r.Standby = nil
			r.SecondaryAvailabilityZone = nil
		}
		return false
	})
	rec.Standby, rec.SecondaryAvailabilityZone = nil, nil
	return nil
}

// plugStandby gives the standby its ENI in a subnet of the secondary zone
// (recorded before use, so it is never leaked) and its namespace.
func (c *controller) plugStandby(ctx context.Context, sc state.Scope, id, status string, rec *instanceRecord) (*vpcListen, error) {
	s := c.s
	if rec.Standby.ENI == nil {
		var groups []string
		for _, g := range rec.VpcSecurityGroups {
			groups = append(groups, deref(g.VpcSecurityGroupId))
		}
		subnet := subnetInAZ(rec.DBSubnetGroup, deref(rec.SecondaryAvailabilityZone))
		eni, err := s.cfg.ENIs.CreateENI(ctx, sc.Account, sc.Region, subnet, groups, eniDescription)
		if err != nil {
			return nil, fmt.Errorf("create the standby's network interface: %w", err)
		}
		if !c.update(sc, id, status, func(r *instanceRecord) bool {
			if r.Standby == nil {
				return false
			}
			r.Standby.ENI = &eni
			return false
		}) {
			_ = s.cfg.ENIs.DeleteENI(context.Background(), sc.Account, sc.Region, eni.ID)
			return nil, errors.New("the instance changed while its standby's network interface was made")
		}
		rec.Standby.ENI = &eni
	}
	return c.attachENI(ctx, rec.Standby.ENI)
}

// attachENI makes e's namespace with e plugged in and the security groups
// applied.
func (c *controller) attachENI(ctx context.Context, e *PlacedENI) (*vpcListen, error) {
	s := c.s
	ip, err := netip.ParseAddr(e.IP)
	if err != nil {
		return nil, fmt.Errorf("network interface %s: %w", e.ID, err)
	}
	mac, _ := net.ParseMAC(e.MAC)
	if s.cfg.Sync != nil {
		if err := s.cfg.Sync(ctx); err != nil {
			return nil, err
		}
	}
	ns, err := s.cfg.Net.CreateInstanceNamespace(ctx, e.ID)
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Net.AttachENI(ctx, vpcnet.ENI{ID: e.ID, VPCID: e.VPCID, SubnetID: e.SubnetID, MAC: mac, IP: ip}, ns); err != nil {
		return nil, err
	}
	if s.cfg.Sync != nil {
		if err := s.cfg.Sync(ctx); err != nil {
			return nil, err
		}
	}
	return &vpcListen{ns: ns, ip: ip}, nil
}

// stripAutoConf removes the settings named keys from dir/data's
// postgresql.auto.conf.
func stripAutoConf(dir string, keys ...string) error {
	_, err := setAutoConf(dir, keys, nil)
	return err
}

// setAutoConf replaces the settings named keys in dir/data's
// postgresql.auto.conf by lines; it reports whether the file changed.
func setAutoConf(dir string, keys, lines []string) (bool, error) {
	p := filepath.Join(dir, "data", "postgresql.auto.conf")
	raw, err := os.ReadFile(p)
	if err != nil {
		return false, err
	}
	var out []string
	for _, l := range strings.Split(strings.TrimRight(string(raw), "\n"), "\n") {
		key := strings.TrimSpace(strings.SplitN(l, "=", 2)[0])
		if !slices.Contains(keys, key) {
			out = append(out, l)
		}
	}
	out = append(out, lines...)
	text := strings.Join(out, "\n") + "\n"
	if text == string(raw) {
		return false, nil
	}
	return true, os.WriteFile(p, []byte(text), 0o600)
}

// setSyncStandby sets the primary's synchronous_standby_names to name
// ("" for none) and waits until the reloaded server has it.
func setSyncStandby(ctx context.Context, dir string, p *server, password, name string) error {
	var lines []string
	if name != "" {
		lines = []string{"synchronous_standby_names = '\"" + name + "\"'"}
	}
	changed, err := setAutoConf(dir, []string{"synchronous_standby_names"}, lines)
	if err != nil {
		return err
	}
	if changed {
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			return err
		}
	}
	want := ""
	if name != "" {
		want = `"` + name + `"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := showSetting(ctx, p.port, password, "synchronous_standby_names")
		if err == nil && got == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("synchronous_standby_names is %q (%v), want %q", got, err, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func showSetting(ctx context.Context, port int, password, name string) (string, error) {
	c, err := connect(ctx, port, replUser, password, "postgres")
	if err != nil {
		return "", err
	}
	defer c.Close(ctx)
	var v string
	err = c.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v)
	return v, err
}

// waitStreaming waits until the primary (on port) streams to the standby.
func waitStreaming(ctx context.Context, sb *server, port int, password, sdir string) error {
	deadline := time.Now().Add(60 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		if !sb.running() {
			raw, _ := os.ReadFile(filepath.Join(sdir, "postgresql.log"))
			return fmt.Errorf("the standby's postgres exited (%v): %s", sb.err, lastLines(string(raw), 5))
		}
		state, err := replicationStateOf(ctx, port, password)
		if err == nil && state == "streaming" {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("the standby did not stream from the primary within 60s (%v): %s", last, walReceiverError(sdir))
}

// replicationStateOf is the standby's replication state on the primary
// (pg_stat_replication's state), "" when it is not connected.
func replicationStateOf(ctx context.Context, port int, password string) (string, error) {
	c, err := connect(ctx, port, replUser, password, "postgres")
	if err != nil {
		return "", err
	}
	defer c.Close(ctx)
	var st string
	err = c.QueryRow(ctx, "SELECT coalesce((SELECT state FROM pg_stat_replication WHERE application_name = $1 LIMIT 1), '')", standbyApp).Scan(&st)
	return st, err
}

// startStandby runs the standby's postgres on dir/standby/data: on its
// unix socket only (listen_addresses is empty: no client reaches a
// standby), inheriting the primary's socket directory as fd 4, inside
// vpc's namespace when placed.
func (c *controller) startStandby(dir string, port int, vpc *vpcListen) (*server, error) {
	src, err := os.Open(sockDir(dir))
	if err != nil {
		return nil, err
	}
	defer src.Close()
	p, err := c.s.engine.launch(standbyDir(dir), port, vpc, []string{"listen_addresses="}, []*os.File{src})
	if err != nil {
		return nil, fmt.Errorf("start the standby's postgres: %w", err)
	}
	return p, nil
}

// failoverIfAsked fails a Multi-AZ instance over to its standby when the
// record asks for it (before converge starts the primary again).
func (c *controller) failoverIfAsked(ctx context.Context, key string, sc state.Scope, id, dir string, rec *instanceRecord) error {
	if rec.Standby == nil || !rec.Standby.Failover {
		return nil
	}
	status := deref(rec.DBInstanceStatus)
	sdir := standbyDir(dir)
	if !rec.Standby.Swapping {
		if !rec.Standby.Built {
			// No standby can take over (it is being rebuilt): the reboot
			// goes on without a failover rather than waiting forever.
			c.s.log.Warn("rds: reboot without failover: the standby is not ready", "id", id)
			c.update(sc, id, status, func(r *instanceRecord) bool {
				if r.Standby != nil {
					r.Standby.Failover = false
				}
				return false
			})
			rec.Standby.Failover = false
			return nil
		}
		pw := ""
		if rec.Replica != nil {
			pw = rec.Replica.ReplPassword
		}
		// A clean shutdown of the primary sends the standby every WAL
		// record first: nothing committed is lost.
		c.stopServer(key)
		sb := c.standby(key)
		if sb == nil {
			// The standby replays what it has received, then promotes.
			port := c.s.pgPort(rec)
			if _, err := writeStandbyConf(sdir, standbyApp, standbySlot, pw, port, false); err != nil {
				return err
			}
			if err := ensureStandbySignal(sdir); err != nil {
				return err
			}
			var vpc *vpcListen
			if c.s.wantsVPC(rec) {
				var err error
				if vpc, err = c.plugStandby(ctx, sc, id, status, rec); err != nil {
					return err
				}
			}
			var err error
			if sb, err = c.startStandby(dir, port, vpc); err != nil {
				return err
			}
			c.mu.Lock()
			if c.standbys == nil {
				c.standbys = map[string]*server{}
			}
			c.standbys[key] = sb
			c.mu.Unlock()
		}
		if err := promoteStandby(ctx, sb, sdir, pw); err != nil {
			return fmt.Errorf("promote the standby: %w", err)
		}
		if err := c.carryReplicaSlots(ctx, sc, sdir, sb.port, pw, rec); err != nil {
			return err
		}
		c.stopStandbyServer(key)
		if !c.update(sc, id, status, func(r *instanceRecord) bool {
			if r.Standby != nil {
				r.Standby.Swapping = true
			}
			return false
		}) {
			return errors.New("the instance changed during its failover")
		}
		rec.Standby.Swapping = true
	}
	if err := swapData(dir); err != nil {
		return fmt.Errorf("swap the data directories: %w", err)
	}
	// The old primary's interface becomes the new standby's; it keeps no
	// public IP (the new primary's interface gets one if it is to).
	old := rec.ENI
	if old != nil && old.PublicIP != "" {
		if pub, ok := c.s.cfg.ENIs.(PublicIPs); ok {
			if err := pub.ReleasePublicIP(ctx, sc.Account, sc.Region, old.ID); err != nil {
				return fmt.Errorf("release the public IP of %s: %w", old.ID, err)
			}
		}
		old.PublicIP = ""
	}
	swap := func(r *instanceRecord) {
		r.ENI, r.Standby.ENI = r.Standby.ENI, r.ENI
		if r.Standby.ENI != nil {
			r.Standby.ENI.PublicIP = ""
		}
		r.AvailabilityZone, r.SecondaryAvailabilityZone = r.SecondaryAvailabilityZone, r.AvailabilityZone
		r.Standby.Failover, r.Standby.Swapping, r.Standby.Built = false, false, false
	}
	if !c.update(sc, id, status, func(r *instanceRecord) bool {
		if r.Standby != nil && r.Standby.Swapping {
			swap(r)
		}
		return false
	}) {
		return errors.New("the instance changed during its failover")
	}
	swap(rec)
	c.s.log.Info("rds: Multi-AZ instance failover completed", "id", id, "availabilityZone", deref(rec.AvailabilityZone))
	return nil
}

// failoverOnPrimaryLoss starts a failover, as RDS does when a Multi-AZ
// instance's primary fails, when the primary's server could not be started
// again (converge failed with cause and left none running) while the
// standby runs. It reports whether it did.
func (c *controller) failoverOnPrimaryLoss(key string, sc state.Scope, id string, rec *instanceRecord, cause error) bool {
	if deref(rec.DBInstanceStatus) != "available" || !wantsStandby(rec) || !rec.Standby.Built || rec.Standby.Failover ||
		c.running(key) != nil || c.standby(key) == nil {
		return false
	}
	c.s.log.Warn("rds: Multi-AZ instance failover started: the primary did not come back", "id", id, "err", cause)
	return c.update(sc, id, "available", func(r *instanceRecord) bool {
		if r.Standby != nil {
			r.Standby.Failover = true
			r.DBInstanceStatus = ptr("rebooting")
		}
		return false
	})
}

// carryReplicaSlots gives the promoted standby the replication slots of
// the instance's read replicas (physical slots stay with the server that
// made them), so the replicas, which reach the primary through its socket
// directory, follow the new primary onto its timeline. Each slot reserves
// WAL at once, from the promoted server's last restartpoint: a replica
// resumes from before the promotion, and the new standby's base backup
// would otherwise let that WAL be recycled first.
func (c *controller) carryReplicaSlots(ctx context.Context, sc state.Scope, sdir string, port int, password string, rec *instanceRecord) error {
	if len(rec.ReadReplicaDBInstanceIdentifiers) == 0 {
		return nil
	}
	conn, err := socketConnect(ctx, sockDir(sdir), port, password)
	if err != nil {
		return fmt.Errorf("connect to the promoted standby: %w", err)
	}
	defer conn.Close(ctx)
	for _, rid := range rec.ReadReplicaDBInstanceIdentifiers {
		r, found, err := c.get(sc, rid)
		if err != nil {
			return err
		}
		if !found {
			continue
		}
		slot := slotName(sc.Region, deref(r.DbiResourceId))
		if _, err := conn.Exec(ctx, "SELECT pg_create_physical_replication_slot($1, true) WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = $1)", slot); err != nil {
			return fmt.Errorf("replication slot of the read replica %s: %w", rid, err)
		}
	}
	return nil
}

// promoteStandby promotes the running standby (as pg_ctl promote does: the
// file "promote" and SIGUSR1 to the postmaster) and waits until it has left
// recovery.
func promoteStandby(ctx context.Context, sb *server, sdir, password string) error {
	u, err := serverUser()
	if err != nil {
		return err
	}
	sig := filepath.Join(sdir, "data", "promote")
	if err := os.WriteFile(sig, nil, 0o600); err != nil {
		return err
	}
	if err := os.Chown(sig, int(u.uid), int(u.gid)); err != nil {
		return err
	}
	deadline := time.Now().Add(60 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		if !sb.running() {
			raw, _ := os.ReadFile(filepath.Join(sdir, "postgresql.log"))
			return fmt.Errorf("the standby's postgres exited (%v): %s", sb.err, lastLines(string(raw), 5))
		}
		// The postmaster may not have been ready for the signal yet:
		// repeat it until the promotion shows.
		_ = sb.cmd.Process.Signal(syscall.SIGUSR1)
		in, err := socketInRecovery(ctx, sockDir(sdir), sb.port, password)
		if err == nil && !in {
			return nil
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("the standby did not leave recovery within 60s: %v", last)
}

// socketInRecovery asks a server on its unix socket whether it is in
// recovery (a standby with hot_standby off refuses until promoted).
func socketInRecovery(ctx context.Context, sock string, port int, password string) (bool, error) {
	c, err := socketConnect(ctx, sock, port, password)
	if err != nil {
		return false, err
	}
	defer c.Close(ctx)
	var in bool
	err = c.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&in)
	return in, err
}

// socketConnect connects as the replication role over the unix socket in
// directory sock.
func socketConnect(ctx context.Context, sock string, port int, password string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig("")
	if err != nil {
		return nil, err
	}
	cfg.Host, cfg.Port, cfg.User, cfg.Password, cfg.Database = sock, uint16(port), replUser, password, "postgres"
	cfg.ConnectTimeout = 2 * time.Second
	cfg.TLSConfig, cfg.Fallbacks = nil, nil
	return pgx.ConnectConfig(ctx, cfg)
}

// swapData makes the promoted standby's data the primary's (dir/data),
// discarding the old primary's; it can be repeated after a crash at any
// point.
func swapData(dir string) error {
	sdata, data, old := filepath.Join(standbyDir(dir), "data"), filepath.Join(dir, "data"), filepath.Join(dir, "data.old")
	if _, err := os.Stat(sdata); err == nil {
		if err := os.RemoveAll(old); err != nil {
			return err
		}
		if _, err := os.Stat(data); err == nil {
			if err := os.Rename(data, old); err != nil {
				return err
			}
		}
		if err := os.Rename(sdata, data); err != nil {
			return err
		}
	} else if !os.IsNotExist(err) {
		return err
	}
	if err := os.RemoveAll(old); err != nil {
		return err
	}
	// The promoted server is a primary without a standby for now.
	return resetRole(dir)
}

// standbyHealth is a Multi-AZ instance's "standby" entry in
// /_minicloud/health: where the standby is (no address to connect to).
func standbyHealth(r *instanceRecord) map[string]any {
	if r.Standby == nil {
		return nil
	}
	out := map[string]any{"availabilityZone": deref(r.SecondaryAvailabilityZone), "built": r.Standby.Built}
	if r.Standby.ENI != nil {
		out["networkInterface"] = r.Standby.ENI.ID
	}
	return out
}
