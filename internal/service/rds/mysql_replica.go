package rds

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/minicloud/minicloud/internal/state"
	"github.com/minicloud/minicloud/internal/vpcnet"
)

// Read replicas of MariaDB DB instances: MariaDB's own GTID replication
// (see the package comment for the path the replication traffic takes).

// mariaMasterPrivileges are the global privileges AWS gives the master user
// of an RDS for MariaDB instance. Neither SUPER nor READ_ONLY ADMIN is
// among them, so read_only holds for the master on a read replica, as on
// AWS.
const mariaMasterPrivileges = "SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, PROCESS, REFERENCES, INDEX, ALTER, SHOW DATABASES, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, REPLICATION CLIENT, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, CREATE USER, EVENT, TRIGGER, REPLICATION SLAVE"

// mariaSeedFile is, in a new replica's directory, the dump of its source
// that is loaded once the replica's server first runs.
const mariaSeedFile = "replica-seed.sql"

// mariaServerID is the instance's server_id: replication needs one unique
// per server, and a hash of the resource ID (never reused) is, for the few
// servers of one replication topology, as good as unique.
func mariaServerID(r *instanceRecord) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(deref(r.DbiResourceId)))
	if id := h.Sum32(); id != 0 {
		return id
	}
	return 1
}

// mariaClone makes dir a new server holding a consistent dump of the
// replica's source (loaded by mariaReplicaAfterStart once it runs).
func (c *controller) mariaClone(ctx context.Context, sc state.Scope, id, dir string, rec *instanceRecord) error {
	m := c.s.maria
	srcID := deref(rec.ReadReplicaSourceDBInstanceIdentifier)
	src, found, err := c.get(sc, srcID)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("the source DB instance %s no longer exists", srcID)
	}
	if c.running(instances.Key(sc, srcID)) == nil {
		return fmt.Errorf("%w %s (%s)", errWaitSource, srcID, deref(src.DBInstanceStatus))
	}
	if rec.Replica == nil || rec.Replica.ReplPassword == "" {
		return errors.New("the replica has no replication password")
	}
	srcDir, err := c.dir(sc, srcID)
	if err != nil {
		return err
	}
	var logBin int
	if err := m.queryRow(ctx, srcDir, "SELECT @@log_bin", &logBin); err != nil {
		return fmt.Errorf("the source %s: %w", srcID, err)
	}
	if logBin == 0 {
		return fmt.Errorf("the source %s runs without binary logging: it started with BackupRetentionPeriod 0; reboot it to turn binary logging on", srcID)
	}
	if !isReplica(&src) {
		// A cascading source got the user with its data.
		user := "'" + replUser + "'@'%'"
		pw := mysqlString(rec.Replica.ReplPassword)
		if err := m.exec(ctx, srcDir,
			"CREATE USER IF NOT EXISTS "+user+" IDENTIFIED BY "+pw,
			"ALTER USER "+user+" IDENTIFIED BY "+pw,
			"GRANT REPLICATION SLAVE ON *.* TO "+user); err != nil {
			return fmt.Errorf("replication user on %s: %w", srcID, err)
		}
	}
	// The accounts come with the dump: Init's are replaced.
	if err := m.Init(ctx, dir, deref(rec.MasterUsername), rec.Password); err != nil {
		return err
	}
	if err := m.dumpTo(ctx, srcDir, filepath.Join(dir, mariaSeedFile)); err != nil {
		return fmt.Errorf("dump %s: %w", srcID, err)
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

// client runs a MariaDB client program (ended with ctx) as rdsadmin on
// dir's socket, which it reaches through an inherited descriptor of dir
// (fd 3): socket paths are limited to 108 bytes.
func (m *mariaEngine) client(ctx context.Context, dir, bin string, args ...string) (*exec.Cmd, func(), error) {
	secret, err := os.ReadFile(filepath.Join(dir, "rdsadmin.secret"))
	if err != nil {
		return nil, nil, fmt.Errorf("read the administrative password: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return nil, nil, err
	}
	p, err := exec.LookPath(bin)
	if err != nil {
		d.Close()
		return nil, nil, fmt.Errorf("%s (apt-get install mariadb-client): %w", bin, err)
	}
	cmd := exec.CommandContext(ctx, p, append([]string{"--no-defaults", "--socket=/proc/self/fd/3/mysqld.sock", "--user=" + adminUser}, args...)...)
	cmd.ExtraFiles = []*os.File{d}
	// MYSQL_PWD keeps the password off the command line (ps).
	cmd.Env = []string{"LANG=C.UTF-8", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "MYSQL_PWD=" + string(secret)}
	return cmd, func() { d.Close() }, nil
}

// dumpTo writes a consistent dump of the server on srcDir to file: every
// database with the accounts, routines, events and triggers, in one
// transaction, with the GTID position it is consistent with
// (SET GLOBAL gtid_slave_pos, at its end). mysql.gtid_slave_pos is left
// out: it would overwrite that position with the source's own.
func (m *mariaEngine) dumpTo(ctx context.Context, srcDir, file string) error {
	cmd, done, err := m.client(ctx, srcDir, "mariadb-dump", "--all-databases", "--single-transaction", "--master-data=1", "--gtid",
		"--routines", "--events", "--triggers", "--flush-privileges", "--ignore-table=mysql.gtid_slave_pos")
	if err != nil {
		return err
	}
	defer done()
	// The dump holds the accounts' password hashes: minicloud's alone.
	f, err := os.OpenFile(file, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = f, &stderr
	_, err = onOwnThread(func() ([]byte, error) { return nil, cmd.Run() })
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(file)
		return fmt.Errorf("mariadb-dump: %v: %s", err, lastLines(stderr.String(), 5))
	}
	return nil
}

// loadSeed loads a new replica's dump, without writing it to the
// replica's binary log (those transactions are its source's, and their
// GTIDs come with replication), and takes over the source's administrative
// password, which the dump's accounts carry.
func (m *mariaEngine) loadSeed(ctx context.Context, dir, srcDir string) error {
	seed := filepath.Join(dir, mariaSeedFile)
	f, err := os.Open(seed)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	cmd, done, err := m.client(ctx, dir, "mariadb", "--init-command=SET SESSION sql_log_bin=0", "--batch")
	if err != nil {
		return err
	}
	defer done()
	cmd.Stdin = f
	out, err := onOwnThread(cmd.CombinedOutput)
	if err != nil {
		return fmt.Errorf("load the source's dump: %v: %s", err, lastLines(string(out), 5))
	}
	secret, err := os.ReadFile(filepath.Join(srcDir, "rdsadmin.secret"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "rdsadmin.secret"), secret, 0o600); err != nil {
		return err
	}
	return os.Remove(seed)
}

func (m *mariaEngine) queryRow(ctx context.Context, dir, q string, dest ...any) error {
	db, done, err := m.admin(dir)
	if err != nil {
		return err
	}
	defer done()
	return db.QueryRowContext(ctx, q).Scan(dest...)
}

// mariaRelays are the running replicas' relays to their sources, by
// server: a replica is pointed at its source once per server process.
var mariaRelays sync.Map // *server → *relay

// relay is a replica's way to its source. MariaDB replicates over TCP
// only, and with the data plane on, source and replica are in different
// network namespaces behind the customer's security groups, which AWS's
// replication traffic is not subject to. The relay listens on 127.0.0.1
// inside the replica's own namespace (on the host without the data plane)
// and forwards each connection to the source's Unix socket, a filesystem
// object reachable from any namespace: replication crosses no VPC network
// and no security group, as with postgres, and with the data plane nothing
// outside the replica's namespace can reach the relay.
type relay struct {
	ln  net.Listener
	src *os.File // the source's instance directory
	wg  sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func startRelay(ns, srcDir string) (*relay, error) {
	src, err := os.Open(srcDir)
	if err != nil {
		return nil, err
	}
	var ln net.Listener
	listen := func() (err error) { ln, err = net.Listen("tcp4", "127.0.0.1:0"); return err }
	if ns != "" {
		// A socket stays in the namespace it was made in.
		err = vpcnet.InNamespace(ns, listen)
	} else {
		err = listen()
	}
	if err != nil {
		src.Close()
		return nil, err
	}
	r := &relay{ln: ln, src: src, conns: map[net.Conn]struct{}{}}
	r.wg.Go(func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			r.wg.Go(func() { r.serve(in) })
		}
	})
	return r, nil
}

func (r *relay) port() int { return r.ln.Addr().(*net.TCPAddr).Port }

func (r *relay) track(c net.Conn, add bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !add {
		delete(r.conns, c)
		return true
	}
	if r.conns == nil {
		return false
	}
	r.conns[c] = struct{}{}
	return true
}

func (r *relay) serve(in net.Conn) {
	defer in.Close()
	out, err := net.DialTimeout("unix", fmt.Sprintf("/proc/self/fd/%d/mysqld.sock", r.src.Fd()), 5*time.Second)
	if err != nil {
		return // the source is down: the replica retries
	}
	defer out.Close()
	if !r.track(in, true) || !r.track(out, true) {
		return
	}
	defer r.track(in, false)
	defer r.track(out, false)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(out, in)
	go pipe(in, out)
	<-done
	<-done
}

func (r *relay) close() {
	_ = r.ln.Close()
	r.mu.Lock()
	for c := range r.conns {
		_ = c.Close()
	}
	r.conns = nil
	r.mu.Unlock()
	r.wg.Wait()
	_ = r.src.Close()
}

// mariaReplicaAfterStart runs on every pass over a running MariaDB
// replica: a new replica loads its source's dump; a server that has just
// started is pointed at its source (through a new relay) and replicates
// from its GTID position; a replica whose promotion was asked is promoted.
func (c *controller) mariaReplicaAfterStart(ctx context.Context, sc state.Scope, id, dir string, rec *instanceRecord, p *server) error {
	if !isReplica(rec) || rec.Replica == nil {
		return nil
	}
	m := c.s.maria
	srcID := deref(rec.ReadReplicaSourceDBInstanceIdentifier)
	srcDir, err := c.dir(sc, srcID)
	if err != nil {
		return err
	}
	if err := m.loadSeed(ctx, dir, srcDir); err != nil {
		return err
	}
	if rec.Replica.Promote {
		return c.mariaPromote(ctx, sc, id, dir, rec, p)
	}
	if _, ok := mariaRelays.Load(p); ok {
		return nil
	}
	ns := ""
	if p.eni != nil && c.s.placing() {
		if ns, err = c.s.cfg.Net.CreateInstanceNamespace(ctx, p.eni.ID); err != nil {
			return err
		}
	}
	r, err := startRelay(ns, srcDir)
	if err != nil {
		return fmt.Errorf("relay to the source %s: %w", srcID, err)
	}
	err = m.exec(ctx, dir,
		"STOP SLAVE",
		fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER='%s', MASTER_PASSWORD=%s, MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1",
			r.port(), replUser, mysqlString(rec.Replica.ReplPassword)),
		"START SLAVE")
	if err != nil {
		r.close()
		return err
	}
	mariaRelays.Store(p, r)
	go func() {
		<-p.done
		mariaRelays.Delete(p)
		r.close()
	}()
	return nil
}

// mariaPromote makes a replica a standalone, writable server: replication
// stops and is forgotten, read_only goes off (and stays off at its next
// start, which no longer sees a replica).
func (c *controller) mariaPromote(ctx context.Context, sc state.Scope, id, dir string, rec *instanceRecord, p *server) error {
	if err := c.s.maria.exec(ctx, dir, "STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only=OFF"); err != nil {
		return err
	}
	if v, ok := mariaRelays.LoadAndDelete(p); ok {
		v.(*relay).close()
	}
	return c.recordPromotion(sc, id, deref(rec.ReadReplicaSourceDBInstanceIdentifier))
}

// replicaLag reads the replica's SHOW SLAVE STATUS: streaming when both
// replication threads run, the lag its Seconds_Behind_Master.
func (m *mariaEngine) replicaLag(ctx context.Context, dir string) (lag time.Duration, streaming bool, err error) {
	db, done, err := m.admin(dir)
	if err != nil {
		return 0, false, fmt.Errorf("connect to the replica: %w", err)
	}
	defer done()
	rows, err := db.QueryContext(ctx, "SHOW SLAVE STATUS")
	if err != nil {
		return 0, false, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, false, err
	}
	if !rows.Next() {
		return 0, false, errors.Join(rows.Err(), errors.New("replication is not configured"))
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return 0, false, err
	}
	st := map[string]sql.NullString{}
	for i, c := range cols {
		st[c] = vals[i]
	}
	streaming = st["Slave_IO_Running"].String == "Yes" && st["Slave_SQL_Running"].String == "Yes"
	for _, k := range []string{"Last_IO_Error", "Last_SQL_Error"} {
		if e := st[k].String; e != "" && !streaming {
			return 0, false, errors.New(e)
		}
	}
	sbm := st["Seconds_Behind_Master"]
	if !sbm.Valid {
		return 0, streaming, errors.New("Seconds_Behind_Master is NULL: the replica is not replicating")
	}
	secs, err := strconv.ParseInt(sbm.String, 10, 64)
	if err != nil {
		return 0, streaming, err
	}
	return time.Duration(secs) * time.Second, streaming, nil
}

// measureReplicaLag measures a running replica's lag and whether it
// replicates, per engine.
func (c *controller) measureReplicaLag(ctx context.Context, rec *instanceRecord, dir string, replicaPort, srcPort int) (time.Duration, bool, error) {
	if deref(rec.Engine) == "mariadb" {
		return c.s.maria.replicaLag(ctx, dir)
	}
	return measureLag(ctx, replicaPort, srcPort, rec.Replica.ReplPassword)
}
