package cli_test

import (
	"testing"
)

// TestRDSEmptyListsCLI: an answer with no DB instances still carries its
// (empty) DBInstances list, as AWS's does, so that the CLI's
// db-instance-deleted waiter, whose acceptor is length(DBInstances[]) == 0,
// succeeds once a filter matches nothing (it fails with a JMESPath type
// error on an answer without the list).
func TestRDSEmptyListsCLI(t *testing.T) {
	for _, cli := range requireCLIs(t) {
		t.Run(cli.name, func(t *testing.T) {
			t.Parallel()
			s, env := serverWithFastWaiters(t, cli)
			for _, args := range [][]string{
				{"rds", "describe-db-instances", "--filters", "Name=db-cluster-id,Values=none", "--query", "length(DBInstances)"},
				{"rds", "wait", "db-instance-deleted", "--filters", "Name=db-cluster-id,Values=none"},
			} {
				// --endpoint-url: CLI v1 ignores AWS_ENDPOINT_URL for rds.
				r := run(t, env, cli.path, append([]string{"--endpoint-url", s.URL, "--output", "json"}, args...)...)
				if r.code != 0 {
					t.Errorf("aws %v: %s", args, r)
				}
			}
		})
	}
}
