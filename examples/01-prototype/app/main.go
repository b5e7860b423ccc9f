// Command visits is the prototype architecture's web application: every GET /
// records a visit in PostgreSQL (the RDS instance) and answers a page with the
// number of visits so far and the latest ones. It runs on the EC2 instance,
// started by the instance's user data.
//
// Configuration comes from the environment, as the user data writes it:
//
//	LISTEN       address to serve on (default :80)
//	DB_HOST      the RDS endpoint's address (a DNS name)
//	DB_PORT      its port (default 5432)
//	DB_USER, DB_PASSWORD, DB_NAME
package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

const schema = `CREATE TABLE IF NOT EXISTS visits (
	id      bigserial PRIMARY KEY,
	at      timestamptz NOT NULL DEFAULT now(),
	client  text NOT NULL,
	served  text NOT NULL
)`

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(log); err != nil {
		log.Error("visits stopped", "error", err)
		os.Exit(1)
	}
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func run(log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	host := os.Getenv("DB_HOST")
	if host == "" {
		return errors.New("DB_HOST is not set")
	}
	cc, err := pgx.ParseConfig("")
	if err != nil {
		return fmt.Errorf("database config: %w", err)
	}
	cc.Host, cc.User, cc.Password, cc.Database = host, env("DB_USER", "postgres"), os.Getenv("DB_PASSWORD"), env("DB_NAME", "postgres")
	if _, err := fmt.Sscan(env("DB_PORT", "5432"), &cc.Port); err != nil {
		return fmt.Errorf("DB_PORT: %w", err)
	}
	cc.ConnectTimeout = 2 * time.Second
	// The instance's only database is inside the VPC; no TLS is offered.
	cc.TLSConfig = nil
	hostname, _ := os.Hostname()
	a := &app{cfg: cc, log: log, hostname: hostname}
	defer a.close()
	srv := &http.Server{Addr: env("LISTEN", ":80"), Handler: a, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("visits serving", "addr", srv.Addr, "db", host)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// app holds one database connection, opened on first use and again after
// any failure: the database may be unreachable when the instance boots, or
// restart under the app (a stop/start of the DB instance).
type app struct {
	cfg      *pgx.ConnConfig
	log      *slog.Logger
	hostname string

	mu   sync.Mutex // serializes requests on the one connection
	conn *pgx.Conn
}

func (a *app) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.conn != nil {
		_ = a.conn.Close(context.Background())
	}
}

// ServeHTTP answers GET / by recording the visit first: the count shown
// includes it, so two GETs show two consecutive numbers only when both rows
// reached the database.
func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	client, _, _ := net.SplitHostPort(r.RemoteAddr)
	count, recent, err := a.visit(ctx, client)
	if err != nil {
		a.log.Error("visit", "error", err)
		http.Error(w, "database unavailable: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<!doctype html>\n<title>visits</title>\n<h1>Prototype: Route 53 → Elastic IP → EC2 → RDS</h1>\n")
	fmt.Fprintf(&b, "<p id=\"count\">%d visits</p>\n<p>served by %s</p>\n<ol>\n", count, html.EscapeString(a.hostname))
	for _, v := range recent {
		fmt.Fprintf(&b, "<li>#%d at %s from %s</li>\n", v.id, v.at.UTC().Format(time.RFC3339), html.EscapeString(v.client))
	}
	b.WriteString("</ol>\n")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}

type visit struct {
	id     int64
	at     time.Time
	client string
}

// visit records one visit and returns the count and the latest visits, in one
// transaction so the count matches the list.
func (a *app) visit(ctx context.Context, client string) (int64, []visit, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.conn == nil || a.conn.IsClosed() {
		conn, err := pgx.ConnectConfig(ctx, a.cfg)
		if err != nil {
			return 0, nil, fmt.Errorf("connect to %s: %w", a.cfg.Host, err)
		}
		// The schema is ensured per connection rather than at start-up, so
		// the app starts even while the database is still unreachable.
		if _, err := conn.Exec(ctx, schema); err != nil {
			_ = conn.Close(ctx)
			return 0, nil, fmt.Errorf("schema: %w", err)
		}
		a.conn = conn
	}
	var count int64
	var recent []visit
	err := pgx.BeginFunc(ctx, a.conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO visits (client, served) VALUES ($1, $2)", client, a.hostname); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM visits").Scan(&count); err != nil {
			return fmt.Errorf("count: %w", err)
		}
		rows, err := tx.Query(ctx, "SELECT id, at, client FROM visits ORDER BY id DESC LIMIT 5")
		if err != nil {
			return fmt.Errorf("recent: %w", err)
		}
		recent, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (visit, error) {
			var v visit
			return v, r.Scan(&v.id, &v.at, &v.client)
		})
		return err
	})
	if err != nil {
		// A failed connection is replaced on the next request.
		_ = a.conn.Close(ctx)
		a.conn = nil
	}
	return count, recent, err
}
