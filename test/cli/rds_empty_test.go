package cli_test

import (
	"strings"
	"testing"
)

// TestRDSEmptyListsCLI: an answer with no DB instances still carries its
// (empty) DBInstances list, as AWS's does, so that the CLIs'
// db-instance-deleted waiter, whose acceptor is length(DBInstances[]) == 0,
// succeeds once a filter matches nothing (on an answer without the list it
// fails with a JMESPath type error). Found by the Aurora tests, whose
// cleanup waits for a cluster's members this way.
func TestRDSEmptyListsCLI(t *testing.T) {
	for _, cli := range requireCLIs(t) {
		t.Run(cli.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, "--ephemeral", "--data-plane", "off", "--dns-listen", "off")
			env := awsEnv(t)
			// --endpoint-url always: CLI v1 ignores AWS_ENDPOINT_URL for rds.
			aws := func(args ...string) result {
				return run(t, env, cli.path, append([]string{"--endpoint-url", s.URL, "--output", "json"}, args...)...)
			}
			r := aws("rds", "describe-db-instances", "--filters", "Name=db-instance-id,Values=none", "--query", "length(DBInstances)")
			if r.code != 0 || strings.TrimSpace(r.stdout) != "0" {
				t.Errorf("describe-db-instances matching nothing: %s", r)
			}
			if r := aws("rds", "wait", "db-instance-deleted", "--filters", "Name=db-instance-id,Values=none"); r.code != 0 {
				t.Errorf("wait db-instance-deleted: %s", r)
			}
		})
	}
}
