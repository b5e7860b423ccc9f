package cli_test

import (
	"strings"
	"testing"
	"time"
)

// TestRDSEventsCLI: with each AWS CLI, describe-events names a new DB
// instance's creation once its server runs, a parameter group's update,
// and refuses a source identifier without its type;
// describe-event-categories lists a source type's categories; event
// subscriptions (which need SNS) answer NotImplemented.
func TestRDSEventsCLI(t *testing.T) {
	for _, cli := range requireCLIs(t) {
		t.Run(cli.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, "--ephemeral", "--data-plane", "off", "--dns-listen", "off")
			env := awsEnv(t)
			aws := func(args ...string) result {
				return run(t, env, cli.path, append([]string{"--endpoint-url", s.URL, "--output", "text"}, args...)...)
			}
			if r := aws("rds", "create-db-instance", "--db-instance-identifier", "ev-db", "--engine", "postgres", "--db-instance-class", "db.t3.micro",
				"--allocated-storage", "20", "--master-username", "master", "--master-user-password", "s3cret-pass", "--backup-retention-period", "0"); r.code != 0 {
				t.Fatalf("create-db-instance: %s", r)
			}
			var r result
			for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
				r = aws("rds", "describe-events", "--source-type", "db-instance", "--source-identifier", "ev-db", "--query", "Events[].[SourceIdentifier,Message]")
				if r.code != 0 || strings.Contains(r.stdout, "DB instance created.") {
					break
				}
			}
			if r.code != 0 || strings.TrimSpace(r.stdout) != "ev-db\tDB instance created." {
				t.Fatalf("describe-events of ev-db: %s", r)
			}
			if r := aws("rds", "create-db-parameter-group", "--db-parameter-group-name", "app-params", "--db-parameter-group-family", "postgres"+pgMajor(t, aws), "--description", "app"); r.code != 0 {
				t.Fatalf("create-db-parameter-group: %s", r)
			}
			if r := aws("rds", "modify-db-parameter-group", "--db-parameter-group-name", "app-params", "--parameters", "ParameterName=work_mem,ParameterValue=8192,ApplyMethod=immediate"); r.code != 0 {
				t.Fatalf("modify-db-parameter-group: %s", r)
			}
			r = aws("rds", "describe-events", "--source-type", "db-parameter-group", "--duration", "30", "--query", "Events[].Message")
			if r.code != 0 || strings.TrimSpace(r.stdout) != "Updated parameter work_mem to 8192 with apply method immediate." {
				t.Errorf("describe-events of app-params: %s", r)
			}
			if r := aws("rds", "describe-events", "--source-identifier", "ev-db"); r.code == 0 || !strings.Contains(r.stderr, "InvalidParameterValue") {
				t.Errorf("describe-events without a source type: %s", r)
			}
			r = aws("rds", "describe-event-categories", "--source-type", "db-cluster", "--query", "EventCategoriesMapList[0].EventCategories")
			if r.code != 0 || !strings.Contains(r.stdout, "failover") {
				t.Errorf("describe-event-categories: %s", r)
			}
			if r := aws("rds", "create-event-subscription", "--subscription-name", "s", "--sns-topic-arn", "arn:aws:sns:us-east-1:000000000000:t"); r.code == 0 || !strings.Contains(r.stderr, "NotImplemented") {
				t.Errorf("create-event-subscription: %s", r)
			}
		})
	}
}

// pgMajor is the major version of the host's PostgreSQL, as the engine
// versions list it.
func pgMajor(t *testing.T, aws func(args ...string) result) string {
	t.Helper()
	r := aws("rds", "describe-db-engine-versions", "--engine", "postgres", "--query", "DBEngineVersions[0].DBParameterGroupFamily")
	if r.code != 0 {
		t.Fatalf("describe-db-engine-versions: %s", r)
	}
	return strings.TrimPrefix(strings.TrimSpace(r.stdout), "postgres")
}
