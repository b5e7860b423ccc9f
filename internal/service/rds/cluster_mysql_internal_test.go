package rds

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// openPort is a MariaDB client pool as the master on a loopback port.
func openPort(port int) *sql.DB {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = "master", clusterPassword, "tcp", fmt.Sprintf("127.0.0.1:%d", port), "app"
	cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = 2*time.Second, 5*time.Second, 5*time.Second
	conn, _ := mysql.NewConnector(cfg)
	db := sql.OpenDB(conn)
	db.SetConnMaxLifetime(0)
	return db
}

// mysqlWriteLoop is writeLoop for MariaDB: rows inserted through port
// until stop closes, the acknowledged ids and when writes came back
// (calling onRecover each time).
func mysqlWriteLoop(ctx context.Context, port int, stop <-chan struct{}, onRecover func()) (acked []int, recovered []time.Duration) {
	db := openPort(port)
	defer db.Close()
	var failedAt time.Time
	for id := 1; ; id++ {
		select {
		case <-stop:
			return acked, recovered
		default:
		}
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := db.ExecContext(c, "INSERT INTO ledger VALUES (?)", id)
		cancel()
		if err != nil {
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

// isReadOnly reports whether err is MariaDB's ER_OPTION_PREVENTS_STATEMENT
// (1290): the server runs with read_only.
func isReadOnly(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1290
}

// An aurora-mysql cluster of a writer and two readers: the writer's
// commits wait for a reader (semi-synchronous, AFTER_SYNC); a write
// through the reader port fails with ERROR 1290; killing the writer's
// server promotes the reader that received the most, a client writing
// through the cluster port succeeds again, no acknowledged write is lost,
// the old writer rejoins as a read-only reader. A FailoverDBCluster to a
// named reader moves the writer back the same way.
func TestClusterFailoverMySQL(t *testing.T) {
	if _, err := os.Stat("/usr/sbin/mariadbd"); err != nil {
		t.Skip("no MariaDB server on this host")
	}
	x := newEngineClusterScene(t, "aurora-mysql", 3306, "shop", "shop-1", "shop-2", "shop-3")
	cl := x.waitAvailable(t, "shop")
	ctx, cancel := context.WithTimeout(x.ctx, 4*time.Minute)
	defer cancel()
	w := openPort(cl.WriterPort)
	defer w.Close()
	if _, err := w.ExecContext(ctx, "CREATE TABLE ledger (id int primary key)"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var name, on string
		err := w.QueryRowContext(ctx, "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_status'").Scan(&name, &on)
		var point string
		_ = w.QueryRowContext(ctx, "SELECT @@rpl_semi_sync_master_wait_point").Scan(&point)
		if err == nil && on == "ON" && point == "AFTER_SYNC" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the writer's semi-synchronous replication: %q wait point %q (%v)", on, point, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	r := openPort(cl.ReaderPort)
	defer r.Close()
	if _, err := r.ExecContext(ctx, "INSERT INTO ledger VALUES (0)"); !isReadOnly(err) {
		t.Fatalf("write through the reader port: %v, want ERROR 1290", err)
	}
	for _, tc := range []struct {
		desc string
		fail func(t *testing.T, writer string)
		want string // the new writer, "" for any reader
	}{
		{"the writer's server killed", func(t *testing.T, writer string) { x.killServer(t, writer, "mysqld.pid") }, ""},
		{"FailoverDBCluster to shop-1", func(t *testing.T, _ string) { x.askFailover(t, "shop", "shop-1") }, "shop-1"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			old, acked := x.failOver(t, "shop", func(stop <-chan struct{}, onRecover func()) ([]int, []time.Duration) {
				return mysqlWriteLoop(ctx, cl.WriterPort, stop, onRecover)
			}, tc.fail, tc.want)
			nw := openPort(cl.WriterPort)
			defer nw.Close()
			var ro int
			if err := nw.QueryRowContext(ctx, "SELECT @@read_only").Scan(&ro); err != nil || ro != 0 {
				t.Fatalf("the cluster port reaches a read-only server (%d, %v)", ro, err)
			}
			have := map[int]bool{}
			rows, err := nw.QueryContext(ctx, "SELECT id FROM ledger")
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id int
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				have[id] = true
			}
			rows.Close()
			var missing []int
			for _, id := range acked {
				if !have[id] {
					missing = append(missing, id)
				}
			}
			if len(missing) > 0 {
				t.Fatalf("%d of %d acknowledged writes lost: %v", len(missing), len(acked), missing)
			}
			if _, err := nw.ExecContext(ctx, "DELETE FROM ledger"); err != nil {
				t.Fatal(err)
			}
			// The old writer rejoins as a reader.
			x.waitAvailable(t, "shop")
			o := openPort(x.memberPort(t, old))
			defer o.Close()
			if _, err := o.ExecContext(ctx, "INSERT INTO ledger VALUES (0)"); !isReadOnly(err) {
				t.Fatalf("write on the old writer %s: %v, want ERROR 1290", old, err)
			}
		})
	}
}
