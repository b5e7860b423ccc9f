package cli_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestDatabasesCommand: `minicloud databases` lists a DB instance created
// with the AWS CLI together with the loopback address where a developer on
// this machine reaches it, and that address really is the database.
func TestDatabasesCommand(t *testing.T) {
	t.Parallel()
	cli := requireCLIs(t)[0]
	s := startServer(t, "--ephemeral", "--data-plane", "off", "--dns-listen", "off")
	env := awsEnv(t)

	r := run(t, cleanEnv(), binPath, "databases", "--endpoint", s.URL)
	if r.code != 0 || !strings.Contains(r.stdout, "no DB instances") {
		t.Fatalf("minicloud databases with none: %s", r)
	}
	// AWS CLI v1 ignores AWS_ENDPOINT_URL for rds in us-east-1 (its
	// overridesslcommonname customization pins https://rds.amazonaws.com
	// unless --endpoint-url is given), so the flag is passed explicitly.
	rdsCLI := func(args ...string) result {
		return run(t, env, cli.path, append([]string{"--endpoint-url", s.URL, "--output", "json", "rds"}, args...)...)
	}
	if r := rdsCLI("create-db-instance", "--db-instance-identifier", "listed-db",
		"--engine", "postgres", "--db-instance-class", "db.t3.micro", "--allocated-storage", "20",
		"--master-username", "dbadmin", "--master-user-password", "listed-secret-1", "--db-name", "app"); r.code != 0 {
		t.Fatalf("create-db-instance: %s", r)
	}
	t.Cleanup(func() {
		rdsCLI("delete-db-instance", "--db-instance-identifier", "listed-db", "--skip-final-snapshot")
	})
	// Not `aws rds wait`: its waiter polls every 30 s.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		r := rdsCLI("describe-db-instances", "--db-instance-identifier", "listed-db", "--query", "DBInstances[0].DBInstanceStatus")
		if strings.Contains(r.stdout, `"available"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("listed-db not available within 2 min: %s", r)
		}
		time.Sleep(300 * time.Millisecond)
	}

	r = run(t, cleanEnv(), binPath, "databases", "--endpoint", s.URL)
	if r.code != 0 {
		t.Fatalf("minicloud databases: %s", r)
	}
	var loopback string
	for _, line := range strings.Split(r.stdout, "\n") {
		f := strings.Fields(line)
		if len(f) >= 7 && f[2] == "listed-db" {
			if f[3] != "available" {
				t.Errorf("status column %q, want available:\n%s", f[3], r.stdout)
			}
			if !strings.Contains(f[6], ".rds.amazonaws.com:5432") {
				t.Errorf("endpoint column %q:\n%s", f[6], r.stdout)
			}
			loopback = f[4]
		}
	}
	if !strings.HasPrefix(loopback, "127.0.0.1:") {
		t.Fatalf("no loopback address for listed-db in:\n%s", r.stdout)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://dbadmin:listed-secret-1@%s/app?sslmode=disable", loopback))
	if err != nil {
		t.Fatalf("connect to the listed loopback address %s: %v", loopback, err)
	}
	defer conn.Close(ctx)
	var db string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil || db != "app" {
		t.Fatalf("current_database() = %q, %v; want app", db, err)
	}

	if r := run(t, cleanEnv(), binPath, "databases", "--endpoint", "127.0.0.1:1"); r.code != 1 || !strings.Contains(r.stderr, "no minicloud answers at http://127.0.0.1:1: start one with `minicloud serve`") {
		t.Errorf("databases against nothing: want exit 1 with a hint, got %s", r)
	}
}
