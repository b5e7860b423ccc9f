package cli_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/jackc/pgx/v5"
)

// rdsClient is a Go SDK RDS client of minicloud s.
func rdsClient(s *server) *rds.Client {
	return rds.NewFromConfig(aws.Config{
		Region: "us-east-1", Credentials: awscreds.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1,
	})
}

// waitClusterSettled waits until cluster id and every member are available
// and the cluster has exactly one writer, which it returns.
func waitClusterSettled(t *testing.T, c *rds.Client, id string) string {
	t.Helper()
	ctx := context.Background()
	last := ""
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		out, err := c.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String(id)})
		if err != nil {
			last = err.Error()
			continue
		}
		cl := out.DBClusters[0]
		var writers []string
		settled := aws.ToString(cl.Status) == "available"
		for _, m := range cl.DBClusterMembers {
			if aws.ToBool(m.IsClusterWriter) {
				writers = append(writers, aws.ToString(m.DBInstanceIdentifier))
			}
			in, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: m.DBInstanceIdentifier})
			settled = settled && err == nil && aws.ToString(in.DBInstances[0].DBInstanceStatus) == "available"
		}
		last = fmt.Sprintf("status %s, writers %v", aws.ToString(cl.Status), writers)
		if settled && len(writers) == 1 {
			return writers[0]
		}
	}
	t.Fatalf("cluster %s never settled: %s", id, last)
	return ""
}

// TestAuroraFailoverKill9 kills minicloud (SIGKILL) right after a
// FailoverDBCluster, at two points of the failover, and starts it again on
// the same --state-dir: the cluster settles with exactly one writer,
// reached through the cluster endpoint's loopback address and writable;
// every write acknowledged before the kill is there; every other member
// is a reader that receives a new write.
func TestAuroraFailoverKill9(t *testing.T) {
	if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres"); len(m) == 0 {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql/*/bin: install postgresql (scripts/test.sh does)")
	}
	dir := t.TempDir()
	s := startServer(t, "--state-dir", dir)
	c := rdsClient(s)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	if _, err := c.CreateDBCluster(ctx, &rds.CreateDBClusterInput{
		DBClusterIdentifier: aws.String("kc"), Engine: aws.String("aurora-postgresql"), DatabaseName: aws.String("app"),
		MasterUsername: aws.String("master"), MasterUserPassword: aws.String("secret-password-1"),
	}); err != nil {
		t.Fatal(err)
	}
	members := []string{"kc-1", "kc-2", "kc-3"}
	var writer string
	for i, id := range members {
		if _, err := c.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
			DBInstanceIdentifier: aws.String(id), DBClusterIdentifier: aws.String("kc"),
			Engine: aws.String("aurora-postgresql"), DBInstanceClass: aws.String("db.r6g.large"),
		}); err != nil {
			t.Fatal(err)
		}
		if i == 0 || i == len(members)-1 {
			// The readers once the writer is up (a reader cloned while its
			// writer is still being made can fail: docs/aurora-notes.md).
			writer = waitClusterSettled(t, c, "kc")
		}
	}
	connect := func(addr string) (*pgx.Conn, error) {
		return pgx.Connect(ctx, "postgres://master:secret-password-1@"+addr+"/app?sslmode=disable&connect_timeout=5")
	}
	loopback := func(s *server, id string) string {
		for _, in := range rdsHealth(context.Background(), t, s).RDS.Instances {
			if in.ID == id {
				return in.Loopback
			}
		}
		t.Fatalf("health lists no instance %s", id)
		return ""
	}
	clusterAddr := rdsHealth(context.Background(), t, s).RDS.Clusters[0].Loopback
	w, err := connect(clusterAddr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Exec(ctx, "CREATE TABLE ledger (id int PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	_ = w.Close(ctx)
	var acked []int
	next := 1
	for round, delay := range []time.Duration{0, 150 * time.Millisecond} {
		// Writes acknowledged before the failover.
		w, err := connect(rdsHealth(context.Background(), t, s).RDS.Clusters[0].Loopback)
		if err != nil {
			t.Fatal(err)
		}
		for range 20 {
			if _, err := w.Exec(ctx, "INSERT INTO ledger VALUES ($1)", next); err != nil {
				t.Fatal(err)
			}
			acked = append(acked, next)
			next++
		}
		_ = w.Close(ctx)
		target := members[(round+2)%len(members)]
		if target == writer {
			target = members[(round+1)%len(members)]
		}
		if _, err := c.FailoverDBCluster(ctx, &rds.FailoverDBClusterInput{DBClusterIdentifier: aws.String("kc"), TargetDBInstanceIdentifier: aws.String(target)}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		if err := s.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-s.done
		s = startServer(t, "--state-dir", dir)
		c = rdsClient(s)
		writer = waitClusterSettled(t, c, "kc")
		t.Logf("round %d (kill %v after FailoverDBCluster to %s): writer %s", round, delay, target, writer)

		w, err = connect(rdsHealth(context.Background(), t, s).RDS.Clusters[0].Loopback)
		if err != nil {
			t.Fatal(err)
		}
		var inRecovery bool
		if err := w.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&inRecovery); err != nil || inRecovery {
			t.Fatalf("the cluster endpoint reaches a server in recovery (%v, %v)", inRecovery, err)
		}
		var missing int
		if err := w.QueryRow(ctx, "SELECT count(*) FROM unnest($1::int[]) a(id) WHERE NOT EXISTS (SELECT FROM ledger l WHERE l.id = a.id)", acked).Scan(&missing); err != nil || missing > 0 {
			t.Fatalf("%d of %d acknowledged writes lost (%v)", missing, len(acked), err)
		}
		marker := -1 - round
		if _, err := w.Exec(ctx, "INSERT INTO ledger VALUES ($1)", marker); err != nil {
			t.Fatal(err)
		}
		_ = w.Close(ctx)
		for _, id := range members {
			if id == writer {
				continue
			}
			r, err := connect(loopback(s, id))
			if err != nil {
				t.Fatal(err)
			}
			var n int
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				err = r.QueryRow(ctx, "SELECT count(*) FROM ledger WHERE id = $1", marker).Scan(&n)
				if err == nil && n == 1 || time.Now().After(deadline) {
					break
				}
			}
			if err := r.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&inRecovery); err != nil || !inRecovery || n != 1 {
				t.Fatalf("member %s: in recovery %v (%v), new row seen %d times; want a reader following %s", id, inRecovery, err, n, writer)
			}
			_ = r.Close(ctx)
		}
	}
}
