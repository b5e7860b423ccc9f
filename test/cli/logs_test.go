package cli_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestLogsCLI writes and reads CloudWatch Logs with each AWS CLI (both
// speak JSON 1.1 to it): groups, streams, put-log-events, get-log-events,
// filter-log-events, a metric filter; and `aws logs tail` with v2 (v1 has
// no tail).
func TestLogsCLI(t *testing.T) {
	for _, cli := range requireCLIs(t) {
		t.Run(cli.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, "--ephemeral", "--data-plane", "off", "--dns-listen", "off")
			env := awsEnv(t)
			must := func(r result) result {
				t.Helper()
				if r.code != 0 {
					t.Fatalf("%s", r)
				}
				return r
			}
			must(cli.aws(t, s, env, "logs", "create-log-group", "--log-group-name", "/cli/app", "--tags", "team=a"))
			must(cli.aws(t, s, env, "logs", "put-retention-policy", "--log-group-name", "/cli/app", "--retention-in-days", "7"))
			must(cli.aws(t, s, env, "logs", "create-log-stream", "--log-group-name", "/cli/app", "--log-stream-name", "web-1"))
			if r := cli.aws(t, s, env, "logs", "create-log-group", "--log-group-name", "/cli/app"); r.code == 0 || !strings.Contains(r.stderr, "ResourceAlreadyExistsException") {
				t.Fatalf("second create-log-group: %s", r)
			}
			must(cli.aws(t, s, env, "logs", "put-metric-filter", "--log-group-name", "/cli/app", "--filter-name", "errors",
				"--filter-pattern", "ERROR", "--metric-transformations", "metricName=Errors,metricNamespace=CLI/App,metricValue=1"))

			t0 := time.Now().Add(-time.Minute).UnixMilli()
			var evs []string
			for i, m := range []string{"GET / 200", "ERROR db down", "GET /x 404", "ERROR timeout"} {
				evs = append(evs, fmt.Sprintf(`{"timestamp":%d,"message":%q}`, t0+int64(i)*1000, m))
			}
			put := decode[struct{ NextSequenceToken string }](t, must(cli.aws(t, s, env, "logs", "put-log-events", "--log-group-name", "/cli/app",
				"--log-stream-name", "web-1", "--log-events", "["+strings.Join(evs, ",")+"]")))
			if put.NextSequenceToken == "" {
				t.Fatalf("put-log-events: %+v", put)
			}

			type event struct {
				Timestamp, IngestionTime int64
				Message, LogStreamName   string
			}
			got := decode[struct {
				Events                              []event
				NextForwardToken, NextBackwardToken string
			}](t, must(cli.aws(t, s, env, "logs", "get-log-events", "--log-group-name", "/cli/app", "--log-stream-name", "web-1", "--start-from-head")))
			if len(got.Events) != 4 || got.Events[0].Message != "GET / 200" || got.Events[3].Timestamp != t0+3000 ||
				!strings.HasPrefix(got.NextForwardToken, "f/") || !strings.HasPrefix(got.NextBackwardToken, "b/") {
				t.Fatalf("get-log-events: %+v", got)
			}
			filtered := decode[struct{ Events []event }](t, must(cli.aws(t, s, env, "logs", "filter-log-events", "--log-group-name", "/cli/app",
				"--filter-pattern", "ERROR", "--start-time", fmt.Sprint(t0))))
			if len(filtered.Events) != 2 || filtered.Events[1].Message != "ERROR timeout" || filtered.Events[0].LogStreamName != "web-1" {
				t.Fatalf("filter-log-events: %+v", filtered)
			}
			groups := decode[struct {
				LogGroups []struct {
					LogGroupName, Arn string
					RetentionInDays   int
					MetricFilterCount int
					StoredBytes       int64
				}
			}](t, must(cli.aws(t, s, env, "logs", "describe-log-groups", "--log-group-name-prefix", "/cli")))
			if g := groups.LogGroups; len(g) != 1 || g[0].RetentionInDays != 7 || g[0].MetricFilterCount != 1 || g[0].StoredBytes == 0 ||
				!strings.HasSuffix(g[0].Arn, ":log-group:/cli/app:*") {
				t.Fatalf("describe-log-groups: %+v", groups)
			}
			if r := cli.aws(t, s, env, "logs", "get-log-events", "--log-group-name", "/cli/app", "--log-stream-name", "nope"); r.code == 0 || !strings.Contains(r.stderr, "ResourceNotFoundException") {
				t.Fatalf("get-log-events of a missing stream: %s", r)
			}
			if cli.name == "v2" {
				tail := must(cli.aws(t, s, env, "logs", "tail", "/cli/app", "--since", "1h", "--format", "short"))
				if lines := strings.Split(strings.TrimSpace(tail.stdout), "\n"); len(lines) != 4 || !strings.HasSuffix(lines[1], "ERROR db down") {
					t.Fatalf("logs tail: %s", tail)
				}
			}
		})
	}
}

// logsBoto3Script does the same with boto3, with its paginators.
const logsBoto3Script = `
import json, sys, time
import boto3, botocore.exceptions

logs = boto3.client("logs", endpoint_url=sys.argv[1], region_name="us-east-1")
logs.create_log_group(logGroupName="/boto/app")
for s in ("a", "b"):
    logs.create_log_stream(logGroupName="/boto/app", logStreamName=s)
now = int(time.time() * 1000) - 60000
for s in ("a", "b"):
    logs.put_log_events(logGroupName="/boto/app", logStreamName=s,
                        logEvents=[{"timestamp": now + i, "message": "%s %d" % (s, i)} for i in range(30)])
out = {}
out["filtered"] = sum(len(p["events"]) for p in logs.get_paginator("filter_log_events").paginate(
    logGroupName="/boto/app", filterPattern="a", PaginationConfig={"PageSize": 7}))
out["streams"] = [s["logStreamName"] for p in logs.get_paginator("describe_log_streams").paginate(
    logGroupName="/boto/app", PaginationConfig={"PageSize": 1}) for s in p["logStreams"]]
r = logs.get_log_events(logGroupName="/boto/app", logStreamName="b", limit=5)
out["newest"] = [e["message"] for e in r["events"]]
try:
    logs.put_log_events(logGroupName="/boto/app", logStreamName="a",
                        logEvents=[{"timestamp": now + 5, "message": "x"}, {"timestamp": now, "message": "y"}])
except botocore.exceptions.ClientError as e:
    out["unordered"] = [e.response["Error"]["Code"], e.response["Error"]["Message"]]
try:
    logs.delete_log_group(logGroupName="/boto/none")
except logs.exceptions.ResourceNotFoundException as e:
    out["missing"] = e.response["Error"]["Code"]
print(json.dumps(out))
`

// TestLogsBoto3 checks boto3: paginators, the newest page, modelled
// exceptions.
func TestLogsBoto3(t *testing.T) {
	t.Parallel()
	py := findBoto3Python(t)
	s := startServer(t, "--ephemeral", "--data-plane", "off", "--dns-listen", "off")
	got := decode[struct {
		Filtered  int
		Streams   []string
		Newest    []string
		Unordered []string
		Missing   string
	}](t, run(t, awsEnv(t), py, "-c", logsBoto3Script, s.URL))
	if got.Filtered != 30 || fmt.Sprint(got.Streams) != "[a b]" || fmt.Sprint(got.Newest) != "[b 25 b 26 b 27 b 28 b 29]" ||
		len(got.Unordered) != 2 || got.Unordered[0] != "InvalidParameterException" || got.Missing != "ResourceNotFoundException" {
		t.Fatalf("boto3: %+v", got)
	}
}
