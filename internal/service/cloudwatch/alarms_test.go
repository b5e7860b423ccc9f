package cloudwatch_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/minicloud/minicloud/internal/server"
)

// fastClient is a client of an ephemeral minicloud that evaluates alarms
// every 200 ms.
func fastClient(t *testing.T) *cloudwatch.Client {
	t.Helper()
	cw, _ := startClientWith(t, server.Config{Ephemeral: true, MetricsInterval: 200 * time.Millisecond})
	return cw
}

// putCPU puts value at each of the given minutes ago, counted from the
// current minute, which it answers (so that a test's expectations use the
// minutes the data went to, even when a new minute began meanwhile).
func putCPU(t *testing.T, cw *cloudwatch.Client, host string, value float64, ago ...int) time.Time {
	t.Helper()
	now := minute(0)
	var data []cwtypes.MetricDatum
	for _, a := range ago {
		data = append(data, cwtypes.MetricDatum{MetricName: aws.String("CPU"), Dimensions: []cwtypes.Dimension{dim("Host", host)},
			Timestamp: aws.Time(now.Add(-time.Duration(a)*time.Minute + 10*time.Second)), Value: aws.Float64(value), Unit: cwtypes.StandardUnitPercent})
	}
	if _, err := cw.PutMetricData(context.Background(), &cloudwatch.PutMetricDataInput{Namespace: aws.String("App"), MetricData: data}); err != nil {
		t.Fatal(err)
	}
	return now
}

func cpuAlarm(name, host string) *cloudwatch.PutMetricAlarmInput {
	return &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(name), Namespace: aws.String("App"), MetricName: aws.String("CPU"),
		Dimensions: []cwtypes.Dimension{dim("Host", host)}, Statistic: cwtypes.StatisticAverage, Period: aws.Int32(60),
		EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(80), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold}
}

func alarmNamed(t *testing.T, cw *cloudwatch.Client, name string) cwtypes.MetricAlarm {
	t.Helper()
	out, err := cw.DescribeAlarms(context.Background(), &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.MetricAlarms) != 1 {
		t.Fatalf("DescribeAlarms %s: %d alarms", name, len(out.MetricAlarms))
	}
	return out.MetricAlarms[0]
}

// waitState waits for the evaluator to move the alarm to want.
func waitState(t *testing.T, cw *cloudwatch.Client, name string, want cwtypes.StateValue) cwtypes.MetricAlarm {
	t.Helper()
	return waitFor(t, name, want, func() (cwtypes.MetricAlarm, cwtypes.StateValue, *string) {
		a := alarmNamed(t, cw, name)
		return a, a.StateValue, a.StateReason
	})
}

// waitFor waits for get to answer an alarm in state want.
func waitFor[T any](t *testing.T, name string, want cwtypes.StateValue, get func() (T, cwtypes.StateValue, *string)) T {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		a, state, reason := get()
		if state == want {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("alarm %s: state %s (%s), want %s", name, state, aws.ToString(reason), want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestAlarmEvaluates(t *testing.T) {
	cw := fastClient(t)
	ctx := context.Background()
	m1 := putCPU(t, cw, "a", 95, 3, 2, 1).Add(-time.Minute)
	in := cpuAlarm("high-cpu", "a")
	in.AlarmActions = []string{"arn:aws:sns:us-east-1:000000000000:ops"}
	in.Tags = []cwtypes.Tag{{Key: aws.String("team"), Value: aws.String("web")}}
	if _, err := cw.PutMetricAlarm(ctx, in); err != nil {
		t.Fatal(err)
	}
	a := waitState(t, cw, "high-cpu", cwtypes.StateValueAlarm)
	wantReason := "Threshold Crossed: 1 datapoint [95.0 (" + m1.Format("02/01/06 15:04:05") + ")] was greater than the threshold (80.0)."
	if aws.ToString(a.StateReason) != wantReason {
		t.Errorf("reason %q, want %q", aws.ToString(a.StateReason), wantReason)
	}
	var data struct {
		Version             string    `json:"version"`
		Statistic           string    `json:"statistic"`
		Period              int       `json:"period"`
		Threshold           float64   `json:"threshold"`
		RecentDatapoints    []float64 `json:"recentDatapoints"`
		EvaluatedDatapoints []struct {
			Timestamp string  `json:"timestamp"`
			Value     float64 `json:"value"`
		} `json:"evaluatedDatapoints"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(a.StateReasonData)), &data); err != nil {
		t.Fatalf("StateReasonData %q: %v", aws.ToString(a.StateReasonData), err)
	}
	if data.Version != "1.0" || data.Statistic != "Average" || data.Period != 60 || data.Threshold != 80 ||
		len(data.RecentDatapoints) != 3 || len(data.EvaluatedDatapoints) != 1 || data.EvaluatedDatapoints[0].Value != 95 ||
		!strings.HasPrefix(data.EvaluatedDatapoints[0].Timestamp, m1.Format("2006-01-02T15:04:05.000")) {
		t.Errorf("StateReasonData %s", aws.ToString(a.StateReasonData))
	}
	if a.AlarmArn == nil || *a.AlarmArn != "arn:aws:cloudwatch:us-east-1:000000000000:alarm:high-cpu" || !aws.ToBool(a.ActionsEnabled) {
		t.Errorf("alarm %+v", a)
	}

	// History: created, the transition, and the SNS action minicloud does
	// not run yet.
	h, err := cw.DescribeAlarmHistory(ctx, &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String("high-cpu")})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[cwtypes.HistoryItemType]string{}
	for _, it := range h.AlarmHistoryItems {
		kinds[it.HistoryItemType] = aws.ToString(it.HistorySummary)
		if !json.Valid([]byte(aws.ToString(it.HistoryData))) {
			t.Errorf("history data %q is not JSON", aws.ToString(it.HistoryData))
		}
	}
	if kinds[cwtypes.HistoryItemTypeConfigurationUpdate] != `Alarm "high-cpu" created` ||
		kinds[cwtypes.HistoryItemTypeStateUpdate] != "Alarm updated from INSUFFICIENT_DATA to ALARM" ||
		!strings.HasPrefix(kinds[cwtypes.HistoryItemTypeAction], "Failed to execute action arn:aws:sns:") {
		t.Errorf("history %v", kinds)
	}

	// Data falls back under the threshold: OK at the next evaluation.
	putCPU(t, cw, "a", 10, 1)
	waitState(t, cw, "high-cpu", cwtypes.StateValueOk)

	tags, err := cw.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: a.AlarmArn})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" {
		t.Fatalf("tags %+v, %v", tags, err)
	}
}

// TestAlarmMetricMath alarms on an expression over a metric.
func TestAlarmMetricMath(t *testing.T) {
	cw := fastClient(t)
	putCPU(t, cw, "b", 95, 2, 1)
	_, err := cw.PutMetricAlarm(context.Background(), &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("double"), EvaluationPeriods: aws.Int32(2),
		Threshold: aws.Float64(150), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
		Metrics: []cwtypes.MetricDataQuery{
			{Id: aws.String("m1"), ReturnData: aws.Bool(false), MetricStat: &cwtypes.MetricStat{Period: aws.Int32(60), Stat: aws.String("Maximum"),
				Metric: &cwtypes.Metric{Namespace: aws.String("App"), MetricName: aws.String("CPU"), Dimensions: []cwtypes.Dimension{dim("Host", "b")}}}},
			{Id: aws.String("e1"), Expression: aws.String("m1 * 2")},
		}})
	if err != nil {
		t.Fatal(err)
	}
	a := waitState(t, cw, "double", cwtypes.StateValueAlarm)
	if !strings.Contains(aws.ToString(a.StateReason), "2 datapoints [190.0 (") {
		t.Errorf("reason %q", aws.ToString(a.StateReason))
	}
}

func TestAlarmOperations(t *testing.T) {
	cw := fastClient(t)
	ctx := context.Background()
	for _, name := range []string{"web-1", "web-2", "db-1"} {
		in := cpuAlarm(name, name)
		in.TreatMissingData = aws.String("ignore") // no data: the state stays
		if name == "db-1" {
			// An EC2 action needs an alarm on one instance.
			in.OKActions = []string{"arn:aws:automate:us-east-1:ec2:reboot"}
			in.Dimensions = append(in.Dimensions, dim("InstanceId", "i-0123456789abcdef0"))
		}
		if _, err := cw.PutMetricAlarm(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	names := func(out *cloudwatch.DescribeAlarmsOutput, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, a := range out.MetricAlarms {
			s = append(s, aws.ToString(a.AlarmName))
		}
		return strings.Join(s, ",")
	}
	if got := names(cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})); got != "db-1,web-1,web-2" {
		t.Errorf("all: %s", got)
	}
	if got := names(cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("web")})); got != "web-1,web-2" {
		t.Errorf("prefix: %s", got)
	}
	if got := names(cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{ActionPrefix: aws.String("arn:aws:automate:")})); got != "db-1" {
		t.Errorf("action prefix: %s", got)
	}
	if got := names(cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeCompositeAlarm}})); got != "" {
		t.Errorf("composite: %s", got)
	}
	// Pages of one.
	var paged []string
	p := cloudwatch.NewDescribeAlarmsPaginator(cw, &cloudwatch.DescribeAlarmsInput{MaxRecords: aws.Int32(1)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		paged = append(paged, names(out, err))
	}
	if strings.Join(paged, "|") != "db-1|web-1|web-2" {
		t.Errorf("pages: %v", paged)
	}

	// SetAlarmState lasts: with no data and ignore, evaluations keep it.
	if _, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("web-1"), StateValue: cwtypes.StateValueAlarm,
		StateReason: aws.String("testing"), StateReasonData: aws.String(`{"a":1}`)}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if a := alarmNamed(t, cw, "web-1"); a.StateValue != cwtypes.StateValueAlarm || aws.ToString(a.StateReason) != "testing" {
		t.Errorf("after SetAlarmState: %s %q", a.StateValue, aws.ToString(a.StateReason))
	}
	if got := names(cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{StateValue: cwtypes.StateValueAlarm})); got != "web-1" {
		t.Errorf("state: %s", got)
	}
	// An EC2 action on an instance that does not exist fails, in history
	// (one without an InstanceId dimension is refused by PutMetricAlarm).
	if _, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("db-1"), StateValue: cwtypes.StateValueOk, StateReason: aws.String("t")}); err != nil {
		t.Fatal(err)
	}
	h, err := cw.DescribeAlarmHistory(ctx, &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String("db-1"), HistoryItemType: cwtypes.HistoryItemTypeAction})
	if err != nil || len(h.AlarmHistoryItems) != 1 || !strings.HasPrefix(aws.ToString(h.AlarmHistoryItems[0].HistorySummary), "Failed to execute action arn:aws:automate:us-east-1:ec2:reboot.") {
		t.Errorf("action history %+v, %v", h, err)
	}
	// History pages, newest first.
	all, err := cw.DescribeAlarmHistory(ctx, &cloudwatch.DescribeAlarmHistoryInput{})
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	hp := cloudwatch.NewDescribeAlarmHistoryPaginator(cw, &cloudwatch.DescribeAlarmHistoryInput{MaxRecords: aws.Int32(2)})
	for hp.HasMorePages() {
		out, err := hp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range out.AlarmHistoryItems {
			seen = append(seen, aws.ToString(it.HistorySummary)+it.Timestamp.String())
		}
	}
	if len(seen) != len(all.AlarmHistoryItems) || len(seen) < 6 {
		t.Errorf("paged history %d items, all %d", len(seen), len(all.AlarmHistoryItems))
	}
	for i := 1; i < len(all.AlarmHistoryItems); i++ {
		if all.AlarmHistoryItems[i].Timestamp.After(*all.AlarmHistoryItems[i-1].Timestamp) {
			t.Errorf("history not newest first at %d", i)
		}
	}

	if _, err := cw.DisableAlarmActions(ctx, &cloudwatch.DisableAlarmActionsInput{AlarmNames: []string{"web-2"}}); err != nil {
		t.Fatal(err)
	}
	if a := alarmNamed(t, cw, "web-2"); aws.ToBool(a.ActionsEnabled) {
		t.Error("actions still enabled")
	}
	if _, err := cw.EnableAlarmActions(ctx, &cloudwatch.EnableAlarmActionsInput{AlarmNames: []string{"web-2"}}); err != nil {
		t.Fatal(err)
	}
	if a := alarmNamed(t, cw, "web-2"); !aws.ToBool(a.ActionsEnabled) {
		t.Error("actions not enabled")
	}

	fm, err := cw.DescribeAlarmsForMetric(ctx, &cloudwatch.DescribeAlarmsForMetricInput{Namespace: aws.String("App"), MetricName: aws.String("CPU"),
		Dimensions: []cwtypes.Dimension{dim("Host", "web-2")}})
	if err != nil || len(fm.MetricAlarms) != 1 || aws.ToString(fm.MetricAlarms[0].AlarmName) != "web-2" {
		t.Errorf("for metric: %+v, %v", fm, err)
	}

	arn := "arn:aws:cloudwatch:us-east-1:000000000000:alarm:web-2"
	if _, err := cw.TagResource(ctx, &cloudwatch.TagResourceInput{ResourceARN: &arn, Tags: []cwtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cw.UntagResource(ctx, &cloudwatch.UntagResourceInput{ResourceARN: &arn, TagKeys: []string{"k"}}); err != nil {
		t.Fatal(err)
	}
	if tags, err := cw.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: &arn}); err != nil || len(tags.Tags) != 0 {
		t.Errorf("tags after untag %+v, %v", tags, err)
	}
	_, err = cw.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: aws.String(arn + "x")})
	wantCode(t, err, "ResourceNotFoundException", "") // the model's shape has no message member

	_, err = cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"web-1", "nope"}})
	wantCode(t, err, "ResourceNotFound", "nope")
	if _, err := cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"web-1", "web-2"}}); err != nil {
		t.Fatal(err)
	}
	if got := names(cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})); got != "db-1" {
		t.Errorf("after delete: %s", got)
	}
}

func TestPutMetricAlarmErrors(t *testing.T) {
	cw := newClient(t, "")
	tests := []struct {
		name      string
		edit      func(*cloudwatch.PutMetricAlarmInput)
		code, msg string
	}{
		{"period", func(in *cloudwatch.PutMetricAlarmInput) { in.Period = aws.Int32(45) }, "InvalidParameterValue", "Period must be 10, 20, 30 or a multiple of 60"},
		{"M > N", func(in *cloudwatch.PutMetricAlarmInput) { in.DatapointsToAlarm = aws.Int32(2) }, "InvalidParameterValue", "DatapointsToAlarm"},
		{"anomaly band", func(in *cloudwatch.PutMetricAlarmInput) {
			in.ComparisonOperator = cwtypes.ComparisonOperatorLessThanLowerOrGreaterThanUpperThreshold
		}, "InvalidParameterValue", "anomaly detection"},
		{"both statistics", func(in *cloudwatch.PutMetricAlarmInput) { in.ExtendedStatistic = aws.String("p99") }, "InvalidParameterCombination", "mutually exclusive"},
		{"metric and Metrics", func(in *cloudwatch.PutMetricAlarmInput) {
			in.Metrics = []cwtypes.MetricDataQuery{{Id: aws.String("e1"), Expression: aws.String("1")}}
		}, "InvalidParameterCombination", "mutually exclusive"},
		{"treat missing", func(in *cloudwatch.PutMetricAlarmInput) { in.TreatMissingData = aws.String("zero") }, "InvalidParameterValue", "TreatMissingData"},
		{"seven days", func(in *cloudwatch.PutMetricAlarmInput) {
			in.Period = aws.Int32(86400)
			in.EvaluationPeriods = aws.Int32(8)
		}, "InvalidParameterValue", "7 days"},
		{"one day under an hour", func(in *cloudwatch.PutMetricAlarmInput) {
			in.Period = aws.Int32(60)
			in.EvaluationPeriods = aws.Int32(1441)
		}, "InvalidParameterValue", "1 day"},
		{"EC2 action without InstanceId", func(in *cloudwatch.PutMetricAlarmInput) {
			in.AlarmActions = []string{"arn:aws:automate:us-east-1:ec2:stop"}
		}, "ValidationError", "Invalid use of EC2 action. An EC2 action can only be used if the alarm is monitoring an EC2 instance."},
		{"EC2 recover on metric math", func(in *cloudwatch.PutMetricAlarmInput) {
			in.MetricName, in.Namespace, in.Statistic, in.Dimensions, in.Period = nil, nil, "", nil, nil
			in.Metrics = []cwtypes.MetricDataQuery{
				{Id: aws.String("m1"), ReturnData: aws.Bool(false), MetricStat: &cwtypes.MetricStat{Period: aws.Int32(60), Stat: aws.String("Average"),
					Metric: &cwtypes.Metric{Namespace: aws.String("AWS/EC2"), MetricName: aws.String("CPUUtilization"), Dimensions: []cwtypes.Dimension{dim("InstanceId", "i-1")}}}},
				{Id: aws.String("e1"), Expression: aws.String("m1 * 2")}}
			in.OKActions = []string{"arn:aws:automate:us-east-1:ec2:recover"}
		}, "ValidationError", "Invalid use of EC2 action"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := cpuAlarm("x", "a")
			tc.edit(in)
			_, err := cw.PutMetricAlarm(context.Background(), in)
			wantCode(t, err, tc.code, tc.msg)
		})
	}
}

// TestAlarmsSurviveRestart: alarms, their state and history are in
// state.db.
func TestAlarmsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	cw, stop := startClient(t, dir)
	ctx := context.Background()
	if _, err := cw.PutMetricAlarm(ctx, cpuAlarm("kept", "a")); err != nil {
		t.Fatal(err)
	}
	if _, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("kept"), StateValue: cwtypes.StateValueOk, StateReason: aws.String("r")}); err != nil {
		t.Fatal(err)
	}
	stop()
	cw, _ = startClient(t, dir)
	a := alarmNamed(t, cw, "kept")
	if aws.ToFloat64(a.Threshold) != 80 || a.StateValue == "" {
		t.Errorf("after restart %+v", a)
	}
	h, err := cw.DescribeAlarmHistory(ctx, &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String("kept")})
	if err != nil || len(h.AlarmHistoryItems) < 2 {
		t.Errorf("history after restart %+v, %v", h, err)
	}
}

// TestLowSampleCountPercentile: a percentile alarm with
// EvaluateLowSampleCountPercentile ignore keeps its state while its
// periods have fewer samples than the percentile needs (p90: 100), and
// evaluates once they have enough; with evaluate it always evaluates.
func TestLowSampleCountPercentile(t *testing.T) {
	cw := fastClient(t)
	ctx := context.Background()
	// One timestamp for both puts: the 100 samples that let the alarm
	// evaluate must land in one period even if a minute begins between the
	// puts.
	ts := minute(1).Add(5 * time.Second)
	put := func(n int) {
		values := make([]float64, n)
		for i := range values {
			values[i] = 95
		}
		if _, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []cwtypes.MetricDatum{{
			MetricName: aws.String("CPU"), Dimensions: []cwtypes.Dimension{dim("Host", "p")}, Timestamp: aws.Time(ts), Values: values}}}); err != nil {
			t.Fatal(err)
		}
	}
	put(5)
	for _, mode := range []string{"ignore", "evaluate"} {
		in := cpuAlarm("p90-"+mode, "p")
		in.Statistic, in.ExtendedStatistic = "", aws.String("p90")
		in.EvaluateLowSampleCountPercentile = aws.String(mode)
		if _, err := cw.PutMetricAlarm(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	waitState(t, cw, "p90-evaluate", cwtypes.StateValueAlarm)
	time.Sleep(time.Second) // several evaluations
	if a := alarmNamed(t, cw, "p90-ignore"); a.StateValue != cwtypes.StateValueInsufficientData || aws.ToString(a.StateReason) != "Unchecked: Initial alarm creation" {
		t.Fatalf("p90-ignore with 5 samples: %s %q", a.StateValue, aws.ToString(a.StateReason))
	}
	put(95)
	waitState(t, cw, "p90-ignore", cwtypes.StateValueAlarm)
}
