package mariadb

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/workload"
)

// Read replicas of MariaDB DB instances: MariaDB's own GTID replication
// (see the package comment for the path the replication traffic takes).

// masterPrivileges are the global privileges AWS gives the master user
// of an RDS for MariaDB instance. Neither SUPER nor READ_ONLY ADMIN is
// among them, so read_only holds for the master on a read replica, as on
// AWS.
const masterPrivileges = "SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, PROCESS, REFERENCES, INDEX, ALTER, SHOW DATABASES, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, REPLICATION CLIENT, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, CREATE USER, EVENT, TRIGGER, REPLICATION SLAVE"

// seedFile is, in a new replica's directory, the dump of its source
// that is loaded once the replica's server first runs.
const seedFile = "replica-seed.sql"

// serverID is the server_id of the instance with resource ID res:
// replication needs one unique per server, and a hash of the resource ID
// (never reused) is, for the few servers of one replication topology, as
// good as unique.
func serverID(res string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(res))
	if id := h.Sum32(); id != 0 {
		return id
	}
	return 1
}

// Clone makes dir a new server holding a consistent dump of the running
// source (loaded by Replicate once it runs): the source must keep binary
// logs, and gets the replication user unless it is itself a replica (the
// user came with its data).
func (m *Engine) Clone(ctx context.Context, dir string, r engine.Replica, src engine.Source) error {
	var logBin int
	if err := m.queryRow(ctx, src.Dir, "SELECT @@log_bin", &logBin); err != nil {
		return fmt.Errorf("the source %s: %w", src.ID, err)
	}
	if logBin == 0 {
		return fmt.Errorf("the source %s runs without binary logging: it started with BackupRetentionPeriod 0; reboot it to turn binary logging on", src.ID)
	}
	if !src.Replica {
		user := "'" + engine.ReplUser + "'@'%'"
		pw := mysqlString(r.ReplPassword)
		if err := m.exec(ctx, src.Dir,
			"CREATE USER IF NOT EXISTS "+user+" IDENTIFIED BY "+pw,
			"ALTER USER "+user+" IDENTIFIED BY "+pw,
			"GRANT REPLICATION SLAVE ON *.* TO "+user); err != nil {
			return fmt.Errorf("replication user on %s: %w", src.ID, err)
		}
	}
	// The accounts come with the dump: Init's are replaced.
	if err := m.Init(ctx, dir, r.Master, r.Password); err != nil {
		return err
	}
	if err := m.dumpTo(ctx, src.Dir, filepath.Join(dir, seedFile)); err != nil {
		return fmt.Errorf("dump %s: %w", src.ID, err)
	}
	return nil
}

// client runs a MariaDB client program (ended with ctx) as rdsadmin on
// dir's socket, which it reaches through an inherited descriptor of dir
// (fd 3): socket paths are limited to 108 bytes.
func (m *Engine) client(ctx context.Context, dir, bin string, args ...string) (*exec.Cmd, func(), error) {
	secret, d, err := openAdmin(dir)
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
func (m *Engine) dumpTo(ctx context.Context, srcDir, file string) error {
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
	_, err = engine.OnOwnThread(func() ([]byte, error) { return nil, cmd.Run() })
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(file)
		return fmt.Errorf("mariadb-dump: %v: %s", err, engine.LastLines(stderr.String(), 5))
	}
	return nil
}

// loadSeed loads a new replica's dump, without writing it to the
// replica's binary log (those transactions are its source's, and their
// GTIDs come with replication), and takes over the source's administrative
// password, which the dump's accounts carry.
func (m *Engine) loadSeed(ctx context.Context, dir, srcDir string) error {
	seed := filepath.Join(dir, seedFile)
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
	out, err := engine.OnOwnThread(cmd.CombinedOutput)
	if err != nil {
		return fmt.Errorf("load the source's dump: %v: %s", err, engine.LastLines(string(out), 5))
	}
	secret, err := os.ReadFile(filepath.Join(srcDir, secretFile))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, secretFile), secret, 0o600); err != nil {
		return err
	}
	return os.Remove(seed)
}

func (m *Engine) queryRow(ctx context.Context, dir, q string, dest ...any) error {
	db, done, err := m.admin(dir)
	if err != nil {
		return err
	}
	defer done()
	return db.QueryRowContext(ctx, q).Scan(dest...)
}

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
	*workload.Relay
	src *os.File // the source's instance directory
}

func startRelay(ns, srcDir string) (*relay, error) {
	src, err := os.Open(srcDir)
	if err != nil {
		return nil, err
	}
	ln, err := workload.ListenIn(ns, "tcp4", "127.0.0.1:0")
	if err != nil {
		src.Close()
		return nil, err
	}
	sock := fmt.Sprintf("/proc/self/fd/%d/mysqld.sock", src.Fd())
	return &relay{src: src, Relay: workload.NewRelay(ln, func() (net.Conn, error) {
		// The source down: the replica retries.
		return net.DialTimeout("unix", sock, 5*time.Second)
	})}, nil
}

func (r *relay) port() int { return r.Port() }

func (r *relay) close() {
	r.Relay.Close()
	_ = r.src.Close()
}

// PrepareReplica has nothing to prepare: a replica's server starts with
// replication stopped (Settings) and needs no inherited files.
func (m *Engine) PrepareReplica(string, engine.Replica, engine.Source) ([]*os.File, error) {
	return nil, nil
}

// Replicate, on every pass over a running replica: a new replica loads
// its source's dump; a server that has just started is pointed at its
// source (through a new relay) and replicates from its GTID position.
func (m *Engine) Replicate(ctx context.Context, p *engine.Server, dir string, r engine.Replica, src engine.Source) error {
	if err := m.loadSeed(ctx, dir, src.Dir); err != nil {
		return err
	}
	if _, ok := m.relays.Load(p); ok {
		return nil
	}
	rl, err := startRelay(p.NS, src.Dir)
	if err != nil {
		return fmt.Errorf("relay to the source %s: %w", src.ID, err)
	}
	// Semi-synchronous on the replica's side is inert unless its source
	// asks for acknowledgements (an Aurora MySQL writer: quorum.go).
	err = m.exec(ctx, dir,
		"STOP SLAVE",
		"SET GLOBAL rpl_semi_sync_slave_enabled=ON",
		fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER='%s', MASTER_PASSWORD=%s, MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1",
			rl.port(), engine.ReplUser, mysqlString(r.ReplPassword)),
		"START SLAVE")
	if err != nil {
		rl.close()
		return err
	}
	m.relays.Store(p, rl)
	go func() {
		<-p.Done()
		m.relays.Delete(p)
		rl.close()
	}()
	return nil
}

// Retarget has nothing to do: the relay follows the source's socket
// wherever the source listens.
func (m *Engine) Retarget(*engine.Server, string, engine.Replica, engine.Source) error { return nil }

// Promote makes a replica a standalone, writable server (its source's dump
// loaded first, if it was not yet): replication stops and is forgotten,
// read_only goes off (and stays off at its next start, which no longer
// sees a replica).
func (m *Engine) Promote(ctx context.Context, p *engine.Server, dir string, _ engine.Replica, src engine.Source) error {
	if err := m.loadSeed(ctx, dir, src.Dir); err != nil {
		return err
	}
	if err := m.applyReceived(ctx, dir); err != nil {
		return err
	}
	if err := m.exec(ctx, dir, "STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only=OFF"); err != nil {
		return err
	}
	if v, ok := m.relays.LoadAndDelete(p); ok {
		v.(*relay).close()
	}
	return nil
}

// applyWait bounds how long a promotion waits for the replica to apply what
// it received.
const applyWait = 30

// applyReceived stops the replica's receiving and waits until it has
// applied every transaction in its relay log: what a semi-synchronous
// replica acknowledged is received, not yet applied, and STOP SLAVE alone
// would leave it unapplied for good once RESET SLAVE ALL drops the relay
// log. A replica whose applier stopped on an error is promoted as it is.
func (m *Engine) applyReceived(ctx context.Context, dir string) error {
	if err := m.exec(ctx, dir, "STOP SLAVE IO_THREAD"); err != nil {
		return err
	}
	rows, err := m.queryMaps(ctx, dir, "SHOW SLAVE STATUS")
	if err != nil || len(rows) == 0 || rows[0]["Slave_SQL_Running"] != "Yes" || rows[0]["Gtid_IO_Pos"] == "" {
		return err
	}
	var res sql.NullInt64
	if err := m.queryRow(ctx, dir, fmt.Sprintf("SELECT MASTER_GTID_WAIT(%s, %d)", mysqlString(rows[0]["Gtid_IO_Pos"]), applyWait), &res); err != nil {
		return fmt.Errorf("apply the received transactions: %w", err)
	}
	if res.Int64 != 0 {
		return fmt.Errorf("the replica did not apply its received transactions (%s) within %d s", rows[0]["Gtid_IO_Pos"], applyWait)
	}
	return nil
}

// Hold is nothing: MariaDB has no replication slots (binary logs are not
// purged for replicas).
func (m *Engine) Hold(engine.Replica) string { return "" }

// Release has nothing to release.
func (m *Engine) Release(context.Context, *engine.Server, string, string) error { return nil }

// ReplicationError is "": Lag's error says why a replica does not
// replicate (SHOW SLAVE STATUS's last errors).
func (m *Engine) ReplicationError(string) string { return "" }

// Lag reads the replica's SHOW SLAVE STATUS: streaming when both
// replication threads run, the lag its Seconds_Behind_Master.
func (m *Engine) Lag(ctx context.Context, _ *engine.Server, dir string, _ engine.Replica, _ *engine.Server) (lag time.Duration, streaming bool, err error) {
	rows, err := m.queryMaps(ctx, dir, "SHOW SLAVE STATUS")
	if err != nil {
		return 0, false, fmt.Errorf("the replica's status: %w", err)
	}
	if len(rows) == 0 {
		return 0, false, errors.New("replication is not configured")
	}
	st := rows[0]
	streaming = st["Slave_IO_Running"] == "Yes" && st["Slave_SQL_Running"] == "Yes"
	for _, k := range []string{"Last_IO_Error", "Last_SQL_Error"} {
		if e := st[k]; e != "" && !streaming {
			return 0, false, errors.New(e)
		}
	}
	sbm, ok := st["Seconds_Behind_Master"]
	if !ok {
		return 0, streaming, errors.New("Seconds_Behind_Master is NULL: the replica is not replicating")
	}
	secs, err := strconv.ParseInt(sbm, 10, 64)
	if err != nil {
		return 0, streaming, err
	}
	return time.Duration(secs) * time.Second, streaming, nil
}
