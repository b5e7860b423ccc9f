package cli_test

import (
	"bytes"
	"fmt"
	"image/png"
	"math"
	"strings"
	"testing"
	"time"
)

type datapoint struct {
	Timestamp          any // v1 prints the number the JSON protocol sent, v2 a date
	SampleCount, Sum   float64
	Minimum, Maximum   float64
	Average            float64
	Unit               string
	ExtendedStatistics map[string]float64
}

// TestCloudWatchCLI puts metrics with each AWS CLI (v1 speaks JSON 1.0,
// v2 query) and reads them back with list-metrics, get-metric-statistics
// and get-metric-data, checked against values computed by hand.
func TestCloudWatchCLI(t *testing.T) {
	for _, cli := range requireCLIs(t) {
		t.Run(cli.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, "--ephemeral", "--data-plane", "off", "--dns-listen", "off")
			env := awsEnv(t)
			t0 := time.Now().UTC().Truncate(time.Minute).Add(-10 * time.Minute)
			ts := func(d time.Duration) string { return t0.Add(d).Format(time.RFC3339) }
			must := func(r result) result {
				t.Helper()
				if r.code != 0 {
					t.Fatalf("%s", r)
				}
				return r
			}
			for i, v := range []string{"10", "20", "30"} {
				must(cli.aws(t, s, env, "cloudwatch", "put-metric-data", "--namespace", "CLI/App", "--metric-name", "Latency",
					"--value", v, "--unit", "Milliseconds", "--dimensions", "Host=web1,Role=web", "--timestamp", ts(time.Duration(i)*time.Minute)))
			}
			must(cli.aws(t, s, env, "cloudwatch", "put-metric-data", "--namespace", "CLI/App", "--metric-data",
				fmt.Sprintf(`[{"MetricName":"Latency","Dimensions":[{"Name":"Host","Value":"web1"},{"Name":"Role","Value":"web"}],"Values":[1,2,3],"Counts":[2,1,1],"Unit":"Milliseconds","Timestamp":%q},`+
					`{"MetricName":"Requests","StatisticValues":{"SampleCount":4,"Sum":40,"Minimum":5,"Maximum":15},"Timestamp":%q}]`, ts(3*time.Minute), ts(3*time.Minute))))

			metrics := decode[struct {
				Metrics []struct {
					Namespace, MetricName string
					Dimensions            []struct{ Name, Value string }
				}
			}](t, must(cli.aws(t, s, env, "cloudwatch", "list-metrics", "--namespace", "CLI/App", "--dimensions", "Name=Role"))).Metrics
			if len(metrics) != 1 || metrics[0].MetricName != "Latency" || len(metrics[0].Dimensions) != 2 {
				t.Fatalf("list-metrics --dimensions Name=Role: %+v", metrics)
			}

			// Latency over 5 minutes: 10, 20, 30, 1, 1, 2, 3 → n 7, sum 67,
			// p50 (nearest rank: the 4th of 7) = 3.
			dps := decode[struct{ Datapoints []datapoint }](t, must(cli.aws(t, s, env, "cloudwatch", "get-metric-statistics",
				"--namespace", "CLI/App", "--metric-name", "Latency", "--dimensions", "Name=Role,Value=web", "Name=Host,Value=web1",
				"--start-time", ts(0), "--end-time", ts(5*time.Minute), "--period", "300",
				"--statistics", "SampleCount", "Sum", "Minimum", "Maximum"))).Datapoints
			if len(dps) != 1 || dps[0].SampleCount != 7 || dps[0].Sum != 67 || dps[0].Minimum != 1 || dps[0].Maximum != 30 || dps[0].Unit != "Milliseconds" {
				t.Fatalf("get-metric-statistics: %+v", dps)
			}
			dps = decode[struct{ Datapoints []datapoint }](t, must(cli.aws(t, s, env, "cloudwatch", "get-metric-statistics",
				"--namespace", "CLI/App", "--metric-name", "Latency", "--dimensions", "Name=Host,Value=web1", "Name=Role,Value=web",
				"--start-time", ts(0), "--end-time", ts(5*time.Minute), "--period", "300", "--extended-statistics", "p50", "p99"))).Datapoints
			if len(dps) != 1 || dps[0].ExtendedStatistics["p50"] != 3 || dps[0].ExtendedStatistics["p99"] != 30 {
				t.Fatalf("get-metric-statistics p50/p99: %+v", dps)
			}

			queries := `[{"Id":"r","MetricStat":{"Metric":{"Namespace":"CLI/App","MetricName":"Requests"},"Period":60,"Stat":"Sum"},"ReturnData":false},` +
				`{"Id":"half","Expression":"r / 2","Label":"half of requests"}]`
			got := decode[struct {
				MetricDataResults []struct {
					Id, Label, StatusCode string
					Timestamps            []any
					Values                []float64
				}
			}](t, must(cli.aws(t, s, env, "cloudwatch", "get-metric-data", "--metric-data-queries", queries,
				"--start-time", ts(0), "--end-time", ts(5*time.Minute)))).MetricDataResults
			if len(got) != 1 || got[0].Id != "half" || got[0].Label != "half of requests" || got[0].StatusCode != "Complete" ||
				fmt.Sprint(got[0].Values) != "[20]" || len(got[0].Timestamps) != 1 {
				t.Fatalf("get-metric-data: %+v", got)
			}

			r := cli.aws(t, s, env, "cloudwatch", "put-metric-data", "--namespace", "AWS/EC2", "--metric-name", "x", "--value", "1")
			if r.code == 0 || !strings.Contains(r.stderr, "InvalidParameterValue") {
				t.Fatalf("put-metric-data into AWS/EC2: %s", r)
			}
		})
	}
}

// cloudwatchBoto3Script puts and reads metrics with boto3 once per
// protocol botocore offers CloudWatch (CBOR first, as botocore chooses by
// default), with a put large enough (over 10 KiB) that botocore gzips it.
const cloudwatchBoto3Script = `
import json, sys, datetime
import boto3, botocore.exceptions, botocore.model

ep = sys.argv[1]
t0 = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0) - datetime.timedelta(minutes=10)
out = {}
for proto in ("smithy-rpc-v2-cbor", "json", "query"):
    botocore.model.PRIORITY_ORDERED_SUPPORTED_PROTOCOLS = (proto,)
    cw = boto3.session.Session().client("cloudwatch", endpoint_url=ep)
    ns = "Boto/" + proto
    data = [{"MetricName": "m%d" % i, "Dimensions": [{"Name": "Shard", "Value": "s%d" % i}], "Timestamp": t0,
             "Values": [float(v) for v in range(1, 101)], "StorageResolution": 1} for i in range(20)]
    cw.put_metric_data(Namespace=ns, MetricData=data)
    names = []
    for page in cw.get_paginator("list_metrics").paginate(Namespace=ns):
        names += [m["MetricName"] for m in page["Metrics"]]
    st = cw.get_metric_statistics(Namespace=ns, MetricName="m3", Dimensions=[{"Name": "Shard", "Value": "s3"}],
                                  StartTime=t0, EndTime=t0 + datetime.timedelta(minutes=1), Period=60,
                                  ExtendedStatistics=["p50", "p90", "p99.9"])
    md = cw.get_metric_data(StartTime=t0, EndTime=t0 + datetime.timedelta(minutes=1), MetricDataQueries=[
        {"Id": "total", "Expression": "SUM(METRICS())"}] + [
        {"Id": "m%d" % i, "ReturnData": False, "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "m%d" % i,
         "Dimensions": [{"Name": "Shard", "Value": "s%d" % i}]}, "Period": 60, "Stat": "Sum"}} for i in range(20)])
    r = md["MetricDataResults"][0]
    out[proto] = {"protocol": cw.meta.service_model.resolved_protocol, "metrics": len(names),
                  "ext": st["Datapoints"][0]["ExtendedStatistics"] if st["Datapoints"] else None,
                  "total": r["Values"], "status": r["StatusCode"]}
    # Dashboards: a put, a get, an invalid body and a missing one (botocore
    # names a query-compatible service's exceptions by their query codes).
    name = "boto-" + proto
    cw.put_dashboard(DashboardName=name, DashboardBody=json.dumps({"widgets": [{"type": "text", "properties": {"markdown": proto}}]}))
    d = out[proto]["dashboard"] = {"body": cw.get_dashboard(DashboardName=name)["DashboardBody"]}
    try:
        cw.put_dashboard(DashboardName=name, DashboardBody='{"widgets":[{"type":"text","properties":{}}]}')
    except botocore.exceptions.ClientError as e:
        d["invalid"] = [e.response["Error"]["Code"], e.response.get("dashboardValidationMessages") or e.response["Error"].get("dashboardValidationMessages")]
    cw.delete_dashboards(DashboardNames=[name])
    try:
        cw.get_dashboard(DashboardName=name)
    except botocore.exceptions.ClientError as e:
        d["missing"] = [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
print(json.dumps(out))
`

// TestCloudWatchBoto3 checks boto3 in each of CloudWatch's protocols:
// its gzipped put, ListMetrics' pages, percentiles and metric math.
func TestCloudWatchBoto3(t *testing.T) {
	t.Parallel()
	py := findBoto3Python(t)
	s := startServer(t, "--ephemeral", "--data-plane", "off", "--dns-listen", "off")
	got := decode[map[string]struct {
		Protocol string
		Metrics  int
		Ext      map[string]float64
		Total    []float64
		Status   string
		// Dashboard is the body read back, the invalid put's code and
		// validation messages, the missing get's code and status.
		Dashboard struct {
			Body    string
			Invalid []any
			Missing []any
		}
	}](t, run(t, awsEnv(t), py, "-c", cloudwatchBoto3Script, s.URL))
	for _, proto := range []string{"smithy-rpc-v2-cbor", "json", "query"} {
		r, ok := got[proto]
		// 1..100: p50 = 50, p90 = 90, p99.9 = 100; 20 metrics of sum 5050.
		// 100 distinct values: read from the sketch, within 1%.
		if !ok || r.Protocol != proto || r.Metrics != 20 || !near(r.Ext["p50"], 50) || !near(r.Ext["p90"], 90) || r.Ext["p99.9"] != 100 ||
			fmt.Sprint(r.Total) != "[101000]" || r.Status != "Complete" {
			t.Errorf("%s: %+v", proto, r)
		}
		d := r.Dashboard
		if !strings.Contains(d.Body, `"markdown": "`+proto+`"`) || fmt.Sprint(d.Missing) != "[ResourceNotFound 404]" || len(d.Invalid) != 2 || d.Invalid[0] != "InvalidParameterInput" || !strings.Contains(fmt.Sprint(d.Invalid[1]), "Should have required property 'markdown'") {
			t.Errorf("%s dashboards: %+v", proto, d)
		}
	}
}

// TestCloudWatchDashboardsCLI puts, gets, lists and deletes dashboards
// with each AWS CLI, and checks the errors they print for an invalid body,
// a bad name and a missing dashboard (AWS's query codes in every protocol);
// and gets a metric widget's image.
func TestCloudWatchDashboardsCLI(t *testing.T) {
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
			body := `{"widgets":[{"type":"metric","x":0,"y":0,"width":12,"height":6,"properties":{"metrics":[["AWS/EC2","CPUUtilization","InstanceId","i-1"]],"period":300,"stat":"Average","region":"us-east-1"}}]}`
			for _, n := range []string{"ops-a", "ops-b", "dev"} {
				must(cli.aws(t, s, env, "cloudwatch", "put-dashboard", "--dashboard-name", n, "--dashboard-body", body))
			}
			got := decode[struct{ DashboardName, DashboardArn, DashboardBody string }](t,
				must(cli.aws(t, s, env, "cloudwatch", "get-dashboard", "--dashboard-name", "ops-a")))
			if got.DashboardBody != body || got.DashboardArn != "arn:aws:cloudwatch::"+defaultAccount+":dashboard/ops-a" {
				t.Errorf("get-dashboard: %+v", got)
			}
			list := decode[struct {
				DashboardEntries []struct {
					DashboardName string
					Size          int
				}
			}](t, must(cli.aws(t, s, env, "cloudwatch", "list-dashboards", "--dashboard-name-prefix", "ops")))
			if len(list.DashboardEntries) != 2 || list.DashboardEntries[0].DashboardName != "ops-a" || list.DashboardEntries[1].Size != len(body) {
				t.Errorf("list-dashboards --dashboard-name-prefix ops: %+v", list)
			}

			errs := []struct {
				args []string
				want []string
			}{
				{[]string{"put-dashboard", "--dashboard-name", "x", "--dashboard-body", `{"widgets":[{"type":"text","properties":{}}]}`},
					[]string{"InvalidParameterInput", "there are 1 validation errors", `"dataPath": "/widgets/0/properties"`, "Should have required property 'markdown'"}},
				{[]string{"put-dashboard", "--dashboard-name", "a b", "--dashboard-body", `{"widgets":[]}`},
					[]string{"InvalidParameterValue", "contains invalid characters"}},
				{[]string{"delete-dashboards", "--dashboard-names", "ops-a", "nope"}, []string{"ResourceNotFound"}},
			}
			for _, e := range errs {
				r := cli.aws(t, s, env, append([]string{"cloudwatch"}, e.args...)...)
				for _, w := range e.want {
					if r.code == 0 || !strings.Contains(r.stderr, w) {
						t.Errorf("%v: want an error containing %q: %s", e.args, w, r)
					}
				}
			}

			// A widget's picture: base64 in the CLI's JSON, a PNG of the
			// widget's size once decoded.
			must(cli.aws(t, s, env, "cloudwatch", "put-metric-data", "--namespace", "CLI/Img", "--metric-name", "m", "--value", "5"))
			img := decode[struct{ MetricWidgetImage []byte }](t, must(cli.aws(t, s, env, "cloudwatch", "get-metric-widget-image",
				"--metric-widget", `{"metrics":[["CLI/Img","m"]],"width":320,"height":200,"start":"-PT1H","period":60}`)))
			if cfg, err := png.DecodeConfig(bytes.NewReader(img.MetricWidgetImage)); err != nil || cfg.Width != 320 || cfg.Height != 200 {
				t.Errorf("get-metric-widget-image: %v, %+v", err, cfg)
			}

			must(cli.aws(t, s, env, "cloudwatch", "delete-dashboards", "--dashboard-names", "ops-a", "ops-b"))
			r := cli.aws(t, s, env, "cloudwatch", "get-dashboard", "--dashboard-name", "ops-a")
			if r.code == 0 || !strings.Contains(r.stderr, "ResourceNotFound") || !strings.Contains(r.stderr, "Dashboard ops-a does not exist") {
				t.Errorf("get-dashboard of a deleted dashboard: %s", r)
			}
		})
	}
}

// near is within the metric store's 1% percentile accuracy.
func near(got, want float64) bool { return math.Abs(got-want) <= want/100 }
