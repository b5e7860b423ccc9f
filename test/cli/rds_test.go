package cli_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// waiterDataPath returns an AWS_DATA_PATH holding the CLI's own RDS
// waiters with their delay cut from 30 s to 1 s, so that `aws rds wait`
// really polls minicloud (same acceptors, same operations) within the
// test's time. The CLI's data directory is where --debug says it loads
// the RDS model from.
func waiterDataPath(t *testing.T, cli awsCLI, s *server, env []string) string {
	t.Helper()
	r := run(t, env, cli.path, "--debug", "--endpoint-url", s.URL, "rds", "describe-db-engine-versions", "--engine", "postgres")
	if r.code != 0 {
		t.Fatalf("describe-db-engine-versions: %s", r)
	}
	m := regexp.MustCompile(`Loading JSON file: (\S+)/rds/2014-10-31/service-2\.json`).FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("CLI %s: no RDS model path in its --debug output", cli.name)
	}
	src := filepath.Join(m[1], "rds", "2014-10-31", "waiters-2.json")
	raw, err := os.ReadFile(src)
	if os.IsNotExist(err) {
		var gz []byte
		if gz, err = os.ReadFile(src + ".gz"); err == nil {
			var zr *gzip.Reader
			if zr, err = gzip.NewReader(bytes.NewReader(gz)); err == nil {
				raw, err = io.ReadAll(zr)
			}
		}
	}
	if err != nil {
		t.Fatalf("the CLI's RDS waiters: %v", err)
	}
	var w struct {
		Version int                       `json:"version"`
		Waiters map[string]map[string]any `json:"waiters"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	for _, name := range []string{"DBInstanceAvailable", "DBInstanceDeleted"} {
		if w.Waiters[name] == nil {
			t.Fatalf("%s has no waiter %s", src, name)
		}
	}
	for _, wt := range w.Waiters {
		wt["delay"] = 1
	}
	out, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dst := filepath.Join(dir, "rds", "2014-10-31")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "waiters-2.json"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestRDSPostgresCLI runs testdata/rds-postgres.sh with each AWS CLI: the
// whole life of a PostgreSQL DB instance, its subnet group and a parameter
// group, checked from the API and with psql.
func TestRDSPostgresCLI(t *testing.T) {
	psqls, _ := filepath.Glob("/usr/lib/postgresql/*/bin/psql")
	if len(psqls) == 0 {
		t.Fatal("no psql under /usr/lib/postgresql/*/bin: install postgresql (scripts/test.sh does)")
	}
	for _, cli := range requireCLIs(t) {
		t.Run(cli.name, func(t *testing.T) {
			t.Parallel()
			// The script checks the API and the database; the VPC placement
			// has its own tests (test/dataplane), so no data plane here.
			s := startServer(t, "--ephemeral", "--data-plane", "off", "--dns-listen", "off")
			env := awsEnv(t)
			env = append(env, "AWS_DATA_PATH="+waiterDataPath(t, cli, s, env), "AWS="+cli.path, "ENDPOINT="+s.URL, "PSQL="+psqls[len(psqls)-1])
			start := time.Now()
			r := runFor(t, 3*time.Minute, env, "bash", "testdata/rds-postgres.sh")
			if r.code != 0 {
				t.Fatalf("rds-postgres.sh with CLI %s failed:\n%s", cli.name, r)
			}
			t.Logf("CLI %s: the script took %v", cli.name, time.Since(start).Round(100*time.Millisecond))
			for _, want := range []string{
				"created: creating",
				"described: available\tdb.t3.micro\t20\t5432\tapp-subnets\tdefault.postgres",
				"refused as expected: DBSubnetGroupDoesNotCoverEnoughAZs",
				"refused as expected: InvalidParameterCombination",
				"modifying: modifying",
				"modified: available\tdb.t3.small\t25\tapp-params\tpending-reboot max_connections=100",
				"after reboot: in-sync max_connections=42 work_mem=8MB items=3",
				"stop: stopped",
				"start: items=3",
				"torn down",
			} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, r.stdout)
				}
			}
		})
	}
}

// TestRDSAuroraCLI runs testdata/rds-aurora.sh with each AWS CLI (boto3
// adds the reader): an Aurora PostgreSQL cluster with a writer and a
// reader, through the CLI's own waiters, then its deletion.
func TestRDSAuroraCLI(t *testing.T) {
	if psqls, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres"); len(psqls) == 0 {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql/*/bin: install postgresql (scripts/test.sh does)")
	}
	py := findBoto3Python(t)
	for _, cli := range requireCLIs(t) {
		t.Run(cli.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, "--ephemeral", "--data-plane", "off", "--dns-listen", "off")
			env := awsEnv(t)
			env = append(env, "AWS_DATA_PATH="+waiterDataPath(t, cli, s, env), "AWS="+cli.path, "ENDPOINT="+s.URL, "PY="+py)
			r := runFor(t, 3*time.Minute, env, "bash", "testdata/rds-aurora.sh")
			if r.code != 0 {
				t.Fatalf("rds-aurora.sh with CLI %s failed:\n%s", cli.name, r)
			}
			for _, want := range []string{
				"cluster: available\t5432\tprovisioned",
				"refused as expected: InvalidParameterCombination",
				"boto3 reader: shop",
				"members: shop-1,True,1 shop-2,False,0 ",
				"refused as expected: InvalidDBClusterStateFault",
				"writer after deleting shop-1: shop-2",
				"refused as expected: DBClusterNotFoundFault",
				"torn down",
			} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, r.stdout)
				}
			}
			if !regexp.MustCompile(`endpoints: shop\.cluster-[a-z0-9]{12}\.us-east-1\.rds\.amazonaws\.com\tshop\.cluster-ro-[a-z0-9]{12}\.us-east-1\.rds\.amazonaws\.com\tTrue`).MatchString(r.stdout) {
				t.Errorf("endpoints not AWS's:\n%s", r.stdout)
			}
		})
	}
}
