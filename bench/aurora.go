//go:build bench

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/jackc/pgx/v5"
)

// The "aurora" scenario (minicloud only; needs PostgreSQL under
// /usr/lib/postgresql): how long an Aurora PostgreSQL cluster with a writer
// and a reader takes from CreateDBCluster to every member and the cluster
// "available", and how long a failover takes: from the writer's server
// killed (SIGKILL of its postmaster: automatic failover) or from
// FailoverDBCluster's answer, to the first successful write of a client
// that writes through the cluster endpoint's loopback address every 10 ms
// on one connection, reconnecting after each error (the reconnect logic
// Aurora users test). Measured on the loopback address, data plane off:
// the host's view, without the VPC's DNS (its TTL is 1 s).

var auroraScenarios = []string{"aurora"}

// auroraFailoverTarget is the issue's: writer gone → first successful write
// (AWS advertises about 30 s).
const auroraFailoverTarget = 3 * time.Second

type auroraOptions struct {
	creates   int
	failovers int
}

func auroraFlags(o *auroraOptions) {
	flag.IntVar(&o.creates, "aurora-creates", 2, "aurora: measured cluster + writer + reader creations (each deleted but the last)")
	flag.IntVar(&o.failovers, "aurora-failovers", 3, "aurora: measured failovers of each kind (writer killed; FailoverDBCluster)")
}

func (o auroraOptions) check() error {
	if o.creates < 1 || o.creates > 10 || o.failovers < 1 || o.failovers > 10 {
		return errors.New("-aurora-creates and -aurora-failovers must be 1..10")
	}
	return nil
}

type auroraResult struct {
	version string
	creates []time.Duration
	killed  []time.Duration
	asked   []time.Duration
	askErr  string // FailoverDBCluster's error, when it has none to measure
}

func runAurora(o auroraOptions, bin, tmp string) (*auroraResult, error) {
	if _, err := pgBin(); err != nil {
		return nil, err
	}
	p, err := startRDSMinicloud(bin, tmp, "off", "off")
	if err != nil {
		return nil, err
	}
	defer p.stop()
	ctx := context.Background()
	rc, _ := newRDS(p.url())
	res := &auroraResult{}

	var id string
	for i := range o.creates + 1 { // the first is an unmeasured warm-up
		if id != "" {
			if err := auroraDelete(ctx, rc, id); err != nil {
				return nil, err
			}
		}
		id = fmt.Sprintf("bench-%d", i)
		t0 := time.Now()
		if _, err := rc.CreateDBCluster(ctx, &rds.CreateDBClusterInput{DBClusterIdentifier: aws.String(id), Engine: aws.String("aurora-postgresql"),
			MasterUsername: aws.String("bench"), MasterUserPassword: aws.String(rdsPassword), DatabaseName: aws.String("app")}); err != nil {
			return nil, err
		}
		for _, m := range []string{id + "-1", id + "-2"} {
			if _, err := rc.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String(m), DBClusterIdentifier: aws.String(id),
				Engine: aws.String("aurora-postgresql"), DBInstanceClass: aws.String("db.r6g.large")}); err != nil {
				return nil, err
			}
		}
		for _, m := range []string{id + "-1", id + "-2"} {
			if err := rdsWait(ctx, rc, m, "available", 2*time.Minute); err != nil {
				return nil, err
			}
		}
		if err := auroraWaitWriter(ctx, rc, id, "", time.Minute); err != nil {
			return nil, err
		}
		if i > 0 {
			res.creates = append(res.creates, time.Since(t0))
		}
		fmt.Fprintf(os.Stderr, "aurora: %s (writer + reader) available after %v\n", id, time.Since(t0).Round(time.Millisecond))
	}
	cl, err := rc.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String(id)})
	if err != nil {
		return nil, err
	}
	res.version = aws.ToString(cl.DBClusters[0].EngineVersion)
	addr, err := healthLoopback(p.url(), "clusters", id)
	if err != nil {
		return nil, err
	}
	if err := auroraExec(ctx, addr, "CREATE TABLE ledger (id bigint PRIMARY KEY)"); err != nil {
		return nil, err
	}

	kill := func(writer string) error { return auroraKillWriter(ctx, p.url(), writer) }
	ask := func(string) error {
		_, err := rc.FailoverDBCluster(ctx, &rds.FailoverDBClusterInput{DBClusterIdentifier: aws.String(id)})
		return err
	}
	for _, kind := range []struct {
		name string
		fail func(writer string) error
		out  *[]time.Duration
	}{{"writer killed", kill, &res.killed}, {"FailoverDBCluster", ask, &res.asked}} {
		for range o.failovers {
			writer, err := auroraWriter(ctx, rc, id)
			if err != nil {
				return nil, err
			}
			d, err := auroraFailover(ctx, addr, func() error { return kind.fail(writer) })
			if err != nil {
				if kind.out == &res.asked {
					res.askErr = err.Error()
					break
				}
				return nil, fmt.Errorf("%s: %w", kind.name, err)
			}
			// A figure only when the writer moved (not the old one restarted).
			now, err := auroraMoved(ctx, rc, id, writer)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", kind.name, err)
			}
			*kind.out = append(*kind.out, d)
			fmt.Fprintf(os.Stderr, "aurora: %s (%s → %s): first write after %v\n", kind.name, writer, now, d.Round(time.Millisecond))
			// The old writer rejoins as a reader before the next round.
			if err := auroraWaitWriter(ctx, rc, id, "", 2*time.Minute); err != nil {
				return nil, err
			}
			if err := rdsWait(ctx, rc, writer, "available", 2*time.Minute); err != nil {
				return nil, err
			}
		}
	}
	return res, auroraDelete(ctx, rc, id)
}

// auroraFailover starts a client writing through addr every 10 ms, makes
// the writer go with fail, and returns how long after fail returned the
// first write succeeded that began after it.
func auroraFailover(ctx context.Context, addr string, fail func() error) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			_ = conn.Close(context.Background())
		}
	}()
	write := func(n int64) error {
		if conn == nil {
			c, err := pgx.Connect(ctx, "postgres://bench:"+rdsPassword+"@"+addr+"/app?sslmode=disable&connect_timeout=1")
			if err != nil {
				return err
			}
			conn = c
		}
		wctx, wcancel := context.WithTimeout(ctx, time.Second)
		defer wcancel()
		if _, err := conn.Exec(wctx, "INSERT INTO ledger VALUES ($1)", n); err != nil {
			_ = conn.Close(context.Background())
			conn = nil
			return err
		}
		return nil
	}
	n := time.Now().UnixNano()
	if err := write(n); err != nil {
		return 0, fmt.Errorf("a write before the failover: %w", err)
	}
	if err := fail(); err != nil {
		return 0, err
	}
	gone := time.Now()
	failed := false
	for ctx.Err() == nil {
		n++
		if err := write(n); err == nil {
			if failed || time.Since(gone) > 5*time.Second {
				return time.Since(gone), nil
			}
		} else {
			failed = true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 0, errors.New("no write succeeded within a minute")
}

// auroraKillWriter SIGKILLs the postmaster of the writer: the parent of
// the backend serving a connection to its own loopback address.
func auroraKillWriter(ctx context.Context, endpoint, writer string) error {
	addr, err := rdsLoopback(endpoint, writer)
	if err != nil {
		return err
	}
	c, err := pgx.Connect(ctx, "postgres://bench:"+rdsPassword+"@"+addr+"/app?sslmode=disable&connect_timeout=2")
	if err != nil {
		return err
	}
	var backend int
	err = c.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&backend)
	_ = c.Close(ctx)
	if err != nil {
		return err
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", backend))
	if err != nil {
		return err
	}
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	pm, err := strconv.Atoi(f[1])
	if err != nil {
		return fmt.Errorf("/proc/%d/stat: %q", backend, stat)
	}
	return syscall.Kill(pm, syscall.SIGKILL)
}

func auroraExec(ctx context.Context, addr, sql string) error {
	c, err := pgx.Connect(ctx, "postgres://bench:"+rdsPassword+"@"+addr+"/app?sslmode=disable&connect_timeout=2")
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, sql)
	return err
}

// auroraWriter is the cluster's writer now.
func auroraWriter(ctx context.Context, rc *rds.Client, id string) (string, error) {
	out, err := rc.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String(id)})
	if err != nil {
		return "", err
	}
	for _, m := range out.DBClusters[0].DBClusterMembers {
		if aws.ToBool(m.IsClusterWriter) {
			return aws.ToString(m.DBInstanceIdentifier), nil
		}
	}
	return "", fmt.Errorf("cluster %s has no writer", id)
}

// auroraMoved waits until the cluster's writer is another than old and
// returns it.
func auroraMoved(ctx context.Context, rc *rds.Client, id, old string) (string, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		w, err := auroraWriter(ctx, rc, id)
		if err == nil && w != old {
			return w, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("the writer is still %s after 30 s (%v)", old, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// auroraWaitWriter waits until the cluster is available with a writer
// (writer, unless "").
func auroraWaitWriter(ctx context.Context, rc *rds.Client, id, writer string, max time.Duration) error {
	deadline := time.Now().Add(max)
	for {
		out, err := rc.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String(id)})
		if err != nil {
			return err
		}
		w, _ := auroraWriter(ctx, rc, id)
		if aws.ToString(out.DBClusters[0].Status) == "available" && w != "" && (writer == "" || w == writer) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster %s: %s, writer %q after %v", id, aws.ToString(out.DBClusters[0].Status), w, max)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// auroraDelete deletes the cluster's members, then the cluster.
func auroraDelete(ctx context.Context, rc *rds.Client, id string) error {
	for _, m := range []string{id + "-2", id + "-1"} {
		if err := rdsDelete(ctx, rc, m); err != nil {
			return err
		}
	}
	_, err := rc.DeleteDBCluster(ctx, &rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String(id), SkipFinalSnapshot: aws.Bool(true)})
	return err
}

func reportAurora(w io.Writer, r *auroraResult) {
	fmt.Fprintf(w, "\n## aurora (minicloud only; aurora-postgresql %s, data plane off, measured on the cluster endpoint's loopback address)\n\n", r.version)
	fmt.Fprintf(w, "| measurement | runs | median | min | max | target |\n|---|---|---|---|---|---|\n")
	row := func(name string, ds []time.Duration, target time.Duration) {
		if len(ds) == 0 {
			return
		}
		lo, hi := ds[0], ds[0]
		for _, d := range ds {
			lo, hi = min(lo, d), max(hi, d)
		}
		goal := "-"
		if target > 0 {
			goal = fmt.Sprintf("≤ %v (max: %s)", target, mark(hi <= target))
		}
		fmt.Fprintf(w, "| %s | %d | %v | %v | %v | %s |\n", name, len(ds), median(ds).Round(time.Millisecond), lo.Round(time.Millisecond), hi.Round(time.Millisecond), goal)
	}
	row("CreateDBCluster + writer + reader → available", r.creates, 0)
	row("failover, writer's server killed → first write", r.killed, auroraFailoverTarget)
	row("failover, FailoverDBCluster → first write", r.asked, auroraFailoverTarget)
	if r.askErr != "" {
		fmt.Fprintf(w, "\nFailoverDBCluster: %s\n", r.askErr)
	}
}
