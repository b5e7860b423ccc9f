package rds

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/state"
)

// errWaitSource: a replica cannot be made yet because its source's server
// is not running; the controller retries rather than failing the replica.
var errWaitSource = errors.New("waiting for the source DB instance")

// replicaCheckEvery is how often the controller checks each replica's
// replication and measures its lag.
const replicaCheckEvery = 2 * time.Second

// replicaErrorAfter is how long replication may be down (a source's
// restart, say) before the replica's status says so.
const replicaErrorAfter = 6 * time.Second

// replMonitor holds what the controller last measured of each replica.
type replMonitor struct {
	mu      sync.Mutex
	samples map[string]lagSample // by record key
	down    map[string]time.Time // since when replication is not streaming
}

type lagSample struct {
	lag time.Duration
	at  time.Time
	err string
}

func (c *controller) running(key string) *server {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.servers[key]; p != nil && p.running() {
		return p
	}
	return nil
}

func (c *controller) get(sc state.Scope, id string) (rec instanceRecord, found bool, err error) {
	err = c.s.store.View(context.Background(), func(tx state.Tx) error {
		rec, found, err = instances.Get(tx, sc, id)
		return err
	})
	return rec, found, err
}

// pgPort is the port a running instance's postgres listens on, which also
// names its unix socket (.s.PGSQL.<port>): the instance's Port in its VPC,
// else its loopback port.
func (s *Service) pgPort(r *instanceRecord) int {
	if s.wantsVPC(r) {
		if r.Endpoint != nil && deref(r.Endpoint.Port) != 0 {
			return int(*r.Endpoint.Port)
		}
		return 5432
	}
	return r.LoopbackPort
}

// readyLogin is who waitReady logs in as: a replica's master password
// follows its source's, so a replica is checked with the replication
// role, whose password never changes.
func readyLogin(r *instanceRecord) (user, password string) {
	if isReplica(r) && r.Replica != nil && r.Replica.ReplPassword != "" {
		return replUser, r.Replica.ReplPassword
	}
	return deref(r.MasterUsername), r.AppliedPassword
}

// sockDir is where an instance's server puts its unix socket.
func sockDir(dir string) string { return filepath.Join(dir, "sock") }

// cloneFromSource makes dir/data a standby of the replica's source.
func (c *controller) cloneFromSource(ctx context.Context, sc state.Scope, id, dir string, rec *instanceRecord) error {
	if deref(rec.Engine) == "mariadb" {
		return c.mariaClone(ctx, sc, id, dir, rec)
	}
	srcID := deref(rec.ReadReplicaSourceDBInstanceIdentifier)
	src, found, err := c.get(sc, srcID)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("the source DB instance %s no longer exists", srcID)
	}
	sp := c.running(instances.Key(sc, srcID))
	if sp == nil {
		return fmt.Errorf("%w %s (%s)", errWaitSource, srcID, deref(src.DBInstanceStatus))
	}
	if rec.Replica == nil || rec.Replica.ReplPassword == "" {
		return errors.New("the replica has no replication password")
	}
	pw := rec.Replica.ReplPassword
	srcDir, err := c.dir(sc, srcID)
	if err != nil {
		return err
	}
	if !isReplica(&src) {
		// A cascading source is a standby: the role came to it with the data.
		if err := ensureReplRole(ctx, srcDir, sp.port, deref(src.MasterUsername), src.AppliedPassword, pw); err != nil {
			return fmt.Errorf("replication role on %s: %w", srcID, err)
		}
	}
	slot := slotName(sc.Region, deref(rec.DbiResourceId))
	if err := dropSlot(ctx, sp.port, pw, slot); err != nil { // an earlier attempt's
		return fmt.Errorf("replication slot on %s: %w", srcID, err)
	}
	f, err := os.Open(sockDir(srcDir))
	if err != nil {
		return err
	}
	defer f.Close()
	if err := c.s.engine.replicaBaseBackup(dir, f, c.s.pgPort(&src), pw, slot, id); err != nil {
		return err
	}
	var top instanceRecord
	err = c.s.store.View(ctx, func(tx state.Tx) error {
		var err error
		top, err = primaryOf(tx, sc, src)
		return err
	})
	if err != nil {
		return err
	}
	rec.Password, rec.AppliedPassword = top.AppliedPassword, top.AppliedPassword
	return nil
}

// ensureReplRole creates (or resets) the replication role on a primary,
// lets it in over the unix socket and lets it read replication statistics.
func ensureReplRole(ctx context.Context, srcDir string, port int, master, masterPassword, password string) error {
	hba := filepath.Join(srcDir, "data", "pg_hba.conf")
	raw, err := os.ReadFile(hba)
	if err != nil {
		return err
	}
	const line = "local replication " + replUser + " scram-sha-256"
	if !strings.Contains(string(raw), line) {
		// First match wins in pg_hba.conf: the entry goes first.
		out := "# minicloud: read replicas stream over the unix socket\n" + line + "\n" + string(raw)
		if err := os.WriteFile(hba, []byte(out), 0o600); err != nil {
			return err
		}
	}
	pw := quoteLiteral(password)
	return execSQL(ctx, port, master, masterPassword,
		"DO $$BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = '"+replUser+"') THEN ALTER ROLE "+replUser+
			" WITH LOGIN REPLICATION PASSWORD "+pw+"; ELSE CREATE ROLE "+replUser+" WITH LOGIN REPLICATION PASSWORD "+pw+"; END IF; END$$",
		"GRANT pg_read_all_stats TO "+replUser,
		"SELECT pg_reload_conf()")
}

// dropSlot drops an inactive replication slot if it exists.
func dropSlot(ctx context.Context, port int, password, slot string) error {
	c, err := connect(ctx, port, replUser, password, "postgres")
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	var active bool
	err = c.QueryRow(ctx, "SELECT active FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&active)
	if err != nil {
		if strings.Contains(err.Error(), "no rows") {
			return nil
		}
		return err
	}
	if active {
		return fmt.Errorf("replication slot %s is still in use", slot)
	}
	_, err = c.Exec(ctx, "SELECT pg_drop_replication_slot($1)", slot)
	return err
}

// standbyKeys are the settings writeStandbyConf owns in
// postgresql.auto.conf.
var standbyKeys = []string{"primary_conninfo", "primary_slot_name", "hot_standby", "wal_retrieve_retry_interval"}

// writeStandbyConf makes dir/data a standby of the server whose socket
// directory it inherits as fd 4 (a read replica's source, a Multi-AZ
// standby's primary), on that server's current port, streaming from slot as
// appName (pg_basebackup -R made its standby.signal). hotStandby: whether
// it serves reads (a read replica) or not (a Multi-AZ standby, as on AWS).
// It reports whether the settings changed.
func writeStandbyConf(dir, appName, slot, password string, port int, hotStandby bool) (bool, error) {
	conninfo := fmt.Sprintf("user=%s password=%s host=/proc/self/fd/4 port=%d application_name=%s sslmode=disable", replUser, password, port, appName)
	hot := "off"
	if hotStandby {
		hot = "on"
	}
	return setAutoConf(dir, standbyKeys, []string{
		"primary_conninfo = '" + conninfo + "'",
		"primary_slot_name = '" + slot + "'",
		"hot_standby = " + hot,
		// Catch up quickly after the source restarts (default 5 s).
		"wal_retrieve_retry_interval = '1s'",
	})
}

// ensureStandbySignal makes dir/data's standby.signal (pg_basebackup -R
// made it) again if it is gone. Read replicas do not: a replica's
// standby.signal only goes with its promotion.
func ensureStandbySignal(dir string) error {
	sig := filepath.Join(dir, "data", "standby.signal")
	if _, err := os.Stat(sig); !os.IsNotExist(err) {
		return err
	}
	u, err := serverUser()
	if err != nil {
		return err
	}
	if err := os.WriteFile(sig, nil, 0o600); err != nil {
		return err
	}
	return os.Chown(sig, int(u.uid), int(u.gid))
}

// resetRole makes dir/data a standalone primary's: a copy of another
// server's data (a snapshot's, a base backup's) or a promoted standby's
// keeps that server's role in postgresql.auto.conf and its signal files
// (a standby's settings and standby.signal; a Multi-AZ primary's
// synchronous_standby_names, with which every commit would wait for a
// standby that does not exist).
func resetRole(dir string) error {
	if _, err := setAutoConf(dir, append(slices.Clone(standbyKeys), "synchronous_standby_names"), nil); err != nil {
		return err
	}
	for _, f := range []string{"standby.signal", "recovery.signal"} {
		if err := os.Remove(filepath.Join(dir, "data", f)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

// replicaFiles prepares a replica's server to start: its standby settings,
// and its source's socket directory as an extra descriptor (fd 4). The
// caller closes the files once the server has started.
func (c *controller) replicaFiles(sc state.Scope, dir string, rec *instanceRecord) ([]*os.File, error) {
	if !isReplica(rec) || rec.Replica == nil || deref(rec.Engine) == "mariadb" {
		return nil, nil
	}
	srcID := deref(rec.ReadReplicaSourceDBInstanceIdentifier)
	src, found, err := c.get(sc, srcID)
	if err != nil {
		return nil, err
	}
	if !found { // being promoted: its source was deleted
		return nil, nil
	}
	if _, err := writeStandbyConf(dir, deref(rec.DBInstanceIdentifier), slotName(sc.Region, deref(rec.DbiResourceId)), rec.Replica.ReplPassword, c.s.pgPort(&src), true); err != nil {
		return nil, err
	}
	srcDir, err := c.dir(sc, srcID)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(sockDir(srcDir))
	if err != nil {
		return nil, fmt.Errorf("the socket directory of the source %s: %w", srcID, err)
	}
	return []*os.File{f}, nil
}

func inRecovery(ctx context.Context, port int, password string) (bool, error) {
	c, err := connect(ctx, port, replUser, password, "postgres")
	if err != nil {
		return false, err
	}
	defer c.Close(ctx)
	var in bool
	err = c.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&in)
	return in, err
}

// promoteIfAsked promotes a replica whose promotion was asked for (as
// pg_ctl promote does: the file "promote" and SIGUSR1 to the postmaster), waits
// until it accepts writes, drops its slot on the source and records it as
// a standalone instance.
func (c *controller) promoteIfAsked(ctx context.Context, sc state.Scope, id, dir string, rec *instanceRecord, p *server) error {
	if deref(rec.Engine) == "mariadb" {
		return c.mariaReplicaAfterStart(ctx, sc, id, dir, rec, p)
	}
	if rec.Replica == nil || !rec.Replica.Promote {
		return nil
	}
	pw := rec.Replica.ReplPassword
	rec2, err := inRecovery(ctx, p.port, pw)
	if err != nil {
		return err
	}
	if rec2 {
		u, err := serverUser()
		if err != nil {
			return err
		}
		// PROMOTE_SIGNAL_FILE of PostgreSQL is "promote" (pg_ctl promote writes it).
		sig := filepath.Join(dir, "data", "promote")
		if err := os.WriteFile(sig, nil, 0o600); err != nil {
			return err
		}
		if err := os.Chown(sig, int(u.uid), int(u.gid)); err != nil {
			return err
		}
		if err := p.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
			return err
		}
		deadline := time.Now().Add(60 * time.Second)
		for rec2 {
			if time.Now().After(deadline) {
				return errors.New("the replica did not leave recovery within 60s of its promotion")
			}
			time.Sleep(50 * time.Millisecond)
			if rec2, err = inRecovery(ctx, p.port, pw); err != nil {
				return err
			}
		}
	}
	// The running server read its source's synchronous_standby_names (a
	// Multi-AZ source's names its standby) from the copied data: without
	// it again, now, before its first commit as a primary waits forever.
	if err := setSyncStandby(ctx, dir, p, pw, ""); err != nil {
		return err
	}
	if err := resetRole(dir); err != nil {
		return err
	}
	srcID := deref(rec.ReadReplicaSourceDBInstanceIdentifier)
	slot := slotName(sc.Region, deref(rec.DbiResourceId))
	dropped := false
	if sp := c.running(instances.Key(sc, srcID)); sp != nil {
		// The walsender of the slot ends shortly after the promotion.
		for range 50 {
			if err = dropSlot(ctx, sp.port, pw, slot); err == nil {
				dropped = true
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			c.s.log.Warn("rds: drop the promoted replica's slot", "id", id, "source", srcID, "err", err)
		}
	}
	if !dropped {
		if err := c.pendSlotDrop(sc, srcID, slot); err != nil {
			return err
		}
	}
	return c.recordPromotion(sc, id, srcID)
}

// pendSlotDrop records on source srcID that it is to drop slot once it
// runs (dropPendingSlots).
func (c *controller) pendSlotDrop(sc state.Scope, srcID, slot string) error {
	return c.s.store.Update(context.Background(), func(tx state.Tx) error {
		src, found, err := instances.Get(tx, sc, srcID)
		if err != nil || !found {
			return err
		}
		if src.Replica == nil {
			src.Replica = &replicaState{}
		}
		if slices.Contains(src.Replica.DropSlots, slot) {
			return nil
		}
		src.Replica.DropSlots = append(src.Replica.DropSlots, slot)
		return instances.Put(tx, sc, srcID, src)
	})
}

// dropPendingSlots drops, on postgres instance id whose server p runs, the
// slots of replicas that went while it was not running.
func (c *controller) dropPendingSlots(ctx context.Context, sc state.Scope, id string, rec *instanceRecord, p *server) {
	if deref(rec.Engine) != "postgres" || rec.Replica == nil || len(rec.Replica.DropSlots) == 0 {
		return
	}
	var done []string
	for _, slot := range rec.Replica.DropSlots {
		if err := dropSlot(ctx, p.port, rec.Replica.ReplPassword, slot); err != nil {
			c.s.log.Warn("rds: drop a gone replica's slot", "id", id, "slot", slot, "err", err)
			continue
		}
		done = append(done, slot)
	}
	if len(done) == 0 {
		return
	}
	err := c.s.store.Update(context.Background(), func(tx state.Tx) error {
		r, found, err := instances.Get(tx, sc, id)
		if err != nil || !found || r.Replica == nil {
			return err
		}
		r.Replica.DropSlots = slices.DeleteFunc(r.Replica.DropSlots, func(s string) bool { return slices.Contains(done, s) })
		return instances.Put(tx, sc, id, r)
	})
	if err != nil && !errors.Is(err, state.ErrClosed) {
		c.s.log.Warn("rds: record dropped slots", "id", id, "err", err)
	}
}

// recordPromotion records a promoted replica as a standalone instance.
func (c *controller) recordPromotion(sc state.Scope, id, srcID string) error {
	c.forgetSamples(instances.Key(sc, id))
	return c.s.store.Update(context.Background(), func(tx state.Tx) error {
		r, found, err := instances.Get(tx, sc, id)
		if err != nil || !found {
			return err
		}
		// Its master password is its primary's, as the promoted data has it.
		root, err := primaryOf(tx, sc, r)
		if err != nil {
			return err
		}
		if !isReplica(&root) {
			r.Password, r.AppliedPassword = root.AppliedPassword, root.AppliedPassword
		}
		r.ReadReplicaSourceDBInstanceIdentifier = nil
		r.StatusInfos = nil
		r.BackupRetentionPeriod = ptr(int32(1)) // PromoteReadReplica's default
		if r.Replica.PromoteBackup != nil {
			r.BackupRetentionPeriod = r.Replica.PromoteBackup
		}
		if r.Replica.PromoteWindow != "" {
			r.PreferredBackupWindow = ptr(r.Replica.PromoteWindow)
		}
		r.Replica.Promote, r.Replica.PromoteBackup, r.Replica.PromoteWindow = false, nil, ""
		if err := instances.Put(tx, sc, id, r); err != nil {
			return err
		}
		return removeFromSource(tx, sc, srcID, id)
	})
}

// forgetSamples drops what watchReplicas measured of the replica key (deleted
// or promoted).
func (c *controller) forgetSamples(key string) {
	c.repl.mu.Lock()
	delete(c.repl.samples, key)
	delete(c.repl.down, key)
	c.repl.mu.Unlock()
}

func removeFromSource(tx state.Tx, sc state.Scope, srcID, id string) error {
	src, found, err := instances.Get(tx, sc, srcID)
	if err != nil || !found {
		return err
	}
	src.ReadReplicaDBInstanceIdentifiers = slices.DeleteFunc(src.ReadReplicaDBInstanceIdentifiers, func(s string) bool { return s == id })
	return instances.Put(tx, sc, srcID, src)
}

// forgetReplica runs when a deleted replica's server has stopped: its
// source no longer lists it nor keeps WAL for it.
func (c *controller) forgetReplica(sc state.Scope, id string, rec *instanceRecord) {
	if !isReplica(rec) {
		return
	}
	c.forgetSamples(instances.Key(sc, id))
	srcID := deref(rec.ReadReplicaSourceDBInstanceIdentifier)
	if rec.Replica != nil && deref(rec.Engine) != "mariadb" {
		slot := slotName(sc.Region, deref(rec.DbiResourceId))
		err := errors.New("the source is not running")
		if sp := c.running(instances.Key(sc, srcID)); sp != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err = dropSlot(ctx, sp.port, rec.Replica.ReplPassword, slot)
			cancel()
		}
		if err != nil {
			// Its source drops it once it runs.
			if err := c.pendSlotDrop(sc, srcID, slot); err != nil && !errors.Is(err, state.ErrClosed) {
				c.s.log.Warn("rds: drop the deleted replica's slot", "id", id, "source", srcID, "err", err)
			}
		}
	}
	err := c.s.store.Update(context.Background(), func(tx state.Tx) error { return removeFromSource(tx, sc, srcID, id) })
	if err != nil && !errors.Is(err, state.ErrClosed) {
		c.s.log.Warn("rds: forget the deleted replica", "id", id, "err", err)
	}
}

// watchReplicas checks every running replica's replication periodically:
// it follows a source that moved to another port, records the replica's
// StatusInfos and measures its lag.
func (c *controller) watchReplicas() {
	t := time.NewTicker(replicaCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		c.checkReplicas()
	}
}

func (c *controller) checkReplicas() {
	type item struct {
		key string
		sc  state.Scope
		id  string
		rec instanceRecord
	}
	// Only running servers can replicate: look at those, not the store.
	c.mu.Lock()
	keys := make([]string, 0, len(c.servers))
	for k := range c.servers {
		keys = append(keys, k)
	}
	c.mu.Unlock()
	var items []item
	_ = c.s.store.View(c.ctx, func(tx state.Tx) error {
		for _, key := range keys {
			sc, id, _ := instances.ParseKey(key)
			r, found, err := instances.Get(tx, sc, id)
			if err != nil {
				return err
			}
			if found && isReplica(&r) && r.Replica != nil && !r.Replica.Promote {
				items = append(items, item{key, sc, id, r})
			}
		}
		return nil
	})
	for _, it := range items {
		if c.ctx.Err() != nil {
			return
		}
		c.checkReplica(it.key, it.sc, it.id, &it.rec)
	}
}

func (c *controller) checkReplica(key string, sc state.Scope, id string, rec *instanceRecord) {
	p := c.running(key)
	if p == nil {
		return
	}
	srcID := deref(rec.ReadReplicaSourceDBInstanceIdentifier)
	src, found, err := c.get(sc, srcID)
	if err != nil || !found {
		return
	}
	sp := c.running(instances.Key(sc, srcID))
	dir, err := c.dir(sc, id)
	if err != nil {
		return
	}
	if sp != nil && deref(rec.Engine) != "mariadb" {
		changed, err := writeStandbyConf(dir, id, slotName(sc.Region, deref(rec.DbiResourceId)), rec.Replica.ReplPassword, c.s.pgPort(&src), true)
		if err == nil && changed {
			_ = p.cmd.Process.Signal(syscall.SIGHUP) // primary_conninfo is reloadable
		}
	}
	srcPort := 0
	if sp != nil {
		srcPort = sp.port
	}
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	lag, streaming, err := c.measureReplicaLag(ctx, rec, dir, p.port, srcPort)
	cancel()
	if c.ctx.Err() != nil {
		return
	}
	sample := lagSample{lag: lag, at: time.Now()}
	if err != nil {
		sample.err = err.Error()
	}
	m := &c.repl
	m.mu.Lock()
	if m.samples == nil {
		m.samples, m.down = map[string]lagSample{}, map[string]time.Time{}
	}
	m.samples[key] = sample
	var since time.Time
	if streaming {
		delete(m.down, key)
	} else {
		if _, ok := m.down[key]; !ok {
			m.down[key] = time.Now()
		}
		since = m.down[key]
	}
	m.mu.Unlock()

	var info rdsapi.DBInstanceStatusInfo
	switch {
	case streaming:
		info = rdsapi.DBInstanceStatusInfo{StatusType: ptr("read replication"), Status: ptr("replicating"), Normal: ptr(true)}
	case time.Since(since) < replicaErrorAfter:
		return // a source's restart, say: not worth reporting yet
	case sp == nil:
		info = rdsapi.DBInstanceStatusInfo{StatusType: ptr("read replication"), Status: ptr("stopped"), Normal: ptr(false),
			Message: ptr(fmt.Sprintf("Replication stopped: the source DB instance %s is %s.", srcID, deref(src.DBInstanceStatus)))}
	default:
		msg := "Replication from " + srcID + " is not streaming"
		if why := walReceiverError(dir); why != "" {
			msg += ": " + why
		} else if err != nil {
			msg += ": " + err.Error()
		}
		info = rdsapi.DBInstanceStatusInfo{StatusType: ptr("read replication"), Status: ptr("error"), Normal: ptr(false), Message: ptr(msg)}
	}
	want := []rdsapi.DBInstanceStatusInfo{info}
	if reflect.DeepEqual(rec.StatusInfos, want) {
		return
	}
	err = c.s.store.Update(context.Background(), func(tx state.Tx) error {
		r, found, err := instances.Get(tx, sc, id)
		if err != nil || !found || !isReplica(&r) {
			return err
		}
		r.StatusInfos = want
		return instances.Put(tx, sc, id, r)
	})
	if err != nil && !errors.Is(err, state.ErrClosed) {
		c.s.log.Warn("rds: record the replication status", "id", id, "err", err)
	}
}

// walReceiverError is the last error the replica's server logged about
// reaching its source, if any.
func walReceiverError(dir string) string {
	f, err := os.Open(filepath.Join(dir, "postgresql.log"))
	if err != nil {
		return ""
	}
	defer f.Close()
	const tail = 16 << 10
	if fi, err := f.Stat(); err == nil && fi.Size() > tail {
		_, _ = f.Seek(fi.Size()-tail, 0)
	}
	buf := make([]byte, tail)
	n, _ := f.Read(buf)
	lines := strings.Split(string(buf[:n]), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		if j := strings.Index(l, "FATAL:"); j >= 0 && (strings.Contains(l, "primary") || strings.Contains(l, "replication")) {
			return strings.TrimSpace(l[j+len("FATAL:"):])
		}
	}
	return ""
}

// measureLag measures how far a replica is behind its source: the time it
// takes to replay what the source had written when asked (a few
// milliseconds when it keeps up), or, when it has not caught up within 2 s,
// the age of the last transaction it replayed. srcPort 0 means the source
// is not running. streaming reports whether the replica's WAL receiver
// streams from its source.
func measureLag(ctx context.Context, replicaPort, srcPort int, password string) (lag time.Duration, streaming bool, err error) {
	rc, err := connect(ctx, replicaPort, replUser, password, "postgres")
	if err != nil {
		return 0, false, fmt.Errorf("connect to the replica: %w", err)
	}
	defer rc.Close(ctx)
	var status string
	if err := rc.QueryRow(ctx, "SELECT coalesce((SELECT status FROM pg_stat_wal_receiver), '')").Scan(&status); err != nil {
		return 0, false, err
	}
	streaming = status == "streaming"
	if srcPort != 0 {
		sc, err := connect(ctx, srcPort, replUser, password, "postgres")
		if err != nil {
			return 0, streaming, fmt.Errorf("connect to the source: %w", err)
		}
		var lsn string
		err = sc.QueryRow(ctx, "SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text").Scan(&lsn)
		_ = sc.Close(ctx)
		if err != nil {
			return 0, streaming, err
		}
		start := time.Now()
		for time.Since(start) < 2*time.Second {
			var behind float64
			if err := rc.QueryRow(ctx, "SELECT coalesce(pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn()), 1)::float8", lsn).Scan(&behind); err != nil {
				return 0, streaming, err
			}
			if behind <= 0 {
				return time.Since(start), streaming, nil
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	var age *float64
	if err := rc.QueryRow(ctx, "SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8").Scan(&age); err != nil {
		return 0, streaming, err
	}
	if age == nil {
		return 0, streaming, errors.New("the replica is behind its source and has replayed no transaction yet")
	}
	return max(time.Duration(*age*float64(time.Second)), 2*time.Second), streaming, nil
}

// ReplicaLag measures now how far read replica id is behind its source
// (AWS reports it as the CloudWatch metric ReplicaLag).
func (s *Service) ReplicaLag(ctx context.Context, account, region, id string) (time.Duration, error) {
	sc := state.Scope{Account: account, Region: region}
	id = strings.ToLower(id)
	c := s.ctl.Load()
	if c == nil {
		return 0, errors.New("the RDS engine controller is not running")
	}
	rec, found, err := c.get(sc, id)
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, errInstanceNotFound(id)
	}
	if !isReplica(&rec) || rec.Replica == nil {
		return 0, fmt.Errorf("DB instance %s is not a read replica", id)
	}
	p := c.running(instances.Key(sc, id))
	if p == nil {
		return 0, fmt.Errorf("DB instance %s is %s: its server is not running", id, deref(rec.DBInstanceStatus))
	}
	srcPort := 0
	if sp := c.running(instances.Key(sc, deref(rec.ReadReplicaSourceDBInstanceIdentifier))); sp != nil {
		srcPort = sp.port
	}
	dir, err := c.dir(sc, id)
	if err != nil {
		return 0, err
	}
	lag, _, err := c.measureReplicaLag(ctx, &rec, dir, p.port, srcPort)
	return lag, err
}

// replicationHealth is a replica's entry in /_minicloud/health: its source,
// replication status and the lag last measured.
func (s *Service) replicationHealth(key string, r *instanceRecord) map[string]any {
	if !isReplica(r) {
		return nil
	}
	out := map[string]any{"source": deref(r.ReadReplicaSourceDBInstanceIdentifier)}
	for _, si := range r.StatusInfos {
		if deref(si.StatusType) == "read replication" {
			out["status"] = deref(si.Status)
		}
	}
	if c := s.ctl.Load(); c != nil {
		c.repl.mu.Lock()
		sample, ok := c.repl.samples[key]
		c.repl.mu.Unlock()
		if ok {
			out["lagSeconds"] = sample.lag.Seconds()
			out["measuredAt"] = sample.at.UTC().Format(time.RFC3339)
			if sample.err != "" {
				out["lagError"] = sample.err
			}
		}
	}
	return out
}
