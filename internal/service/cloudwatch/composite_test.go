package cloudwatch_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

func compositeNamed(t *testing.T, cw *cloudwatch.Client, name string) cwtypes.CompositeAlarm {
	t.Helper()
	out, err := cw.DescribeAlarms(context.Background(), &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name},
		AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeCompositeAlarm}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.CompositeAlarms) != 1 {
		t.Fatalf("DescribeAlarms %s: %d composite alarms", name, len(out.CompositeAlarms))
	}
	return out.CompositeAlarms[0]
}

func waitComposite(t *testing.T, cw *cloudwatch.Client, name string, want cwtypes.StateValue) cwtypes.CompositeAlarm {
	t.Helper()
	return waitFor(t, name, want, func() (cwtypes.CompositeAlarm, cwtypes.StateValue, *string) {
		a := compositeNamed(t, cw, name)
		return a, a.StateValue, a.StateReason
	})
}

func names[T any](list []T, name func(T) *string) []string {
	var out []string
	for _, v := range list {
		out = append(out, aws.ToString(name(v)))
	}
	return out
}

func TestCompositeAlarms(t *testing.T) {
	cw := fastClient(t)
	ctx := context.Background()
	const arn = "arn:aws:cloudwatch:us-east-1:000000000000:alarm:"
	putCPU(t, cw, "a", 95, 3, 2, 1)
	putCPU(t, cw, "b", 10, 3, 2, 1)
	for _, in := range []*cloudwatch.PutMetricAlarmInput{cpuAlarm("cpu-a", "a"), cpuAlarm("cpu-b", "b")} {
		if _, err := cw.PutMetricAlarm(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	waitState(t, cw, "cpu-a", cwtypes.StateValueAlarm)
	waitState(t, cw, "cpu-b", cwtypes.StateValueOk)

	rules := []struct {
		name, rule string
		want       cwtypes.StateValue // with cpu-a ALARM, cpu-b OK
		then       cwtypes.StateValue // and once cpu-b is ALARM too
	}{
		{"c-and", `ALARM("cpu-a") AND OK(cpu-b)`, cwtypes.StateValueAlarm, cwtypes.StateValueOk},
		{"c-both", `ALARM(cpu-a) AND ALARM("` + arn + `cpu-b")`, cwtypes.StateValueOk, cwtypes.StateValueAlarm},
		{"c-not", `NOT (ALARM(cpu-a) OR INSUFFICIENT_DATA(cpu-b))`, cwtypes.StateValueOk, cwtypes.StateValueOk},
	}
	for _, r := range rules {
		in := &cloudwatch.PutCompositeAlarmInput{AlarmName: aws.String(r.name), AlarmRule: aws.String(r.rule),
			AlarmActions: []string{"arn:aws:sns:us-east-1:000000000000:ops"}}
		if _, err := cw.PutCompositeAlarm(ctx, in); err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
	}
	for _, r := range rules {
		waitComposite(t, cw, r.name, r.want)
	}
	a := compositeNamed(t, cw, "c-and")
	if got := aws.ToString(a.StateReason); !strings.HasPrefix(got, arn+"cpu-") || !strings.Contains(got, " transitioned to ") || !strings.HasSuffix(got, " UTC") {
		t.Errorf("reason %q", got)
	}
	var data struct {
		TriggeringAlarms []struct {
			Arn   string
			State struct{ Value, Timestamp string }
		}
	}
	if err := json.Unmarshal([]byte(aws.ToString(a.StateReasonData)), &data); err != nil || len(data.TriggeringAlarms) != 1 || data.TriggeringAlarms[0].State.Value == "" {
		t.Errorf("reason data %s: %v", aws.ToString(a.StateReasonData), err)
	}
	if aws.ToString(a.AlarmRule) != rules[0].rule || !aws.ToBool(a.ActionsEnabled) || aws.ToString(a.AlarmArn) != arn+"c-and" {
		t.Errorf("composite alarm %+v", a)
	}

	// cpu-b goes to ALARM: its parents are evaluated again.
	in := cpuAlarm("cpu-b", "b")
	in.Threshold = aws.Float64(5)
	if _, err := cw.PutMetricAlarm(ctx, in); err != nil {
		t.Fatal(err)
	}
	waitState(t, cw, "cpu-b", cwtypes.StateValueAlarm)
	for _, r := range rules {
		waitComposite(t, cw, r.name, r.then)
	}
	if got := aws.ToString(compositeNamed(t, cw, "c-both").StateReason); !strings.HasPrefix(got, arn+"cpu-b transitioned to ALARM at ") {
		t.Errorf("c-both reason %q", got)
	}

	// Describe: metric alarms by default, composite ones when asked;
	// children and parents.
	out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
	if err != nil || len(out.MetricAlarms) != 2 || len(out.CompositeAlarms) != 0 {
		t.Fatalf("default DescribeAlarms: %v, %d metric, %d composite", err, len(out.MetricAlarms), len(out.CompositeAlarms))
	}
	out, err = cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeCompositeAlarm, cwtypes.AlarmTypeMetricAlarm}, MaxRecords: aws.Int32(4)})
	if err != nil || len(out.MetricAlarms)+len(out.CompositeAlarms) != 4 || out.NextToken == nil {
		t.Fatalf("both types, first page: %v, %d metric, %d composite", err, len(out.MetricAlarms), len(out.CompositeAlarms))
	}
	out, err = cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeCompositeAlarm, cwtypes.AlarmTypeMetricAlarm}, NextToken: out.NextToken})
	if err != nil || len(out.MetricAlarms)+len(out.CompositeAlarms) != 1 || out.NextToken != nil {
		t.Fatalf("both types, second page: %v, %d metric, %d composite", err, len(out.MetricAlarms), len(out.CompositeAlarms))
	}
	out, err = cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{ChildrenOfAlarmName: aws.String("c-both")})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(out.MetricAlarms, func(m cwtypes.MetricAlarm) *string { return m.AlarmName }); !slices.Equal(got, []string{"cpu-a", "cpu-b"}) ||
		out.MetricAlarms[1].StateValue != cwtypes.StateValueAlarm || out.MetricAlarms[1].StateUpdatedTimestamp == nil || out.MetricAlarms[1].MetricName != nil {
		t.Errorf("children of c-both: %q %+v", got, out.MetricAlarms)
	}
	out, err = cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{ParentsOfAlarmName: aws.String("cpu-a")})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(out.CompositeAlarms, func(c cwtypes.CompositeAlarm) *string { return c.AlarmName }); !slices.Equal(got, []string{"c-and", "c-both", "c-not"}) ||
		aws.ToString(out.CompositeAlarms[0].AlarmArn) != arn+"c-and" || out.CompositeAlarms[0].AlarmRule != nil {
		t.Errorf("parents of cpu-a: %q", got)
	}
	_, err = cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{ParentsOfAlarmName: aws.String("cpu-a"), StateValue: cwtypes.StateValueOk})
	wantCode(t, err, "ValidationError", "except for MaxRecords and NextToken")

	// History: the composite alarm's items are CompositeAlarm ones, left
	// out unless asked for.
	hist, err := cw.DescribeAlarmHistory(ctx, &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String("c-both")})
	if err != nil || len(hist.AlarmHistoryItems) != 0 {
		t.Fatalf("c-both history without AlarmTypes: %v %d", err, len(hist.AlarmHistoryItems))
	}
	hist, err = cw.DescribeAlarmHistory(ctx, &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String("c-both"),
		AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeCompositeAlarm}, ScanBy: cwtypes.ScanByTimestampAscending})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, h := range hist.AlarmHistoryItems {
		if h.AlarmType != cwtypes.AlarmTypeCompositeAlarm {
			t.Errorf("history item type %s", h.AlarmType)
		}
		kinds = append(kinds, string(h.HistoryItemType)+": "+aws.ToString(h.HistorySummary))
	}
	want := []string{`ConfigurationUpdate: Alarm "c-both" created`, "StateUpdate: Alarm updated from INSUFFICIENT_DATA to OK",
		"StateUpdate: Alarm updated from OK to ALARM", "Action: Failed to execute action arn:aws:sns:us-east-1:000000000000:ops."}
	if len(kinds) != len(want) {
		t.Fatalf("history %q", kinds)
	}
	for i := range want {
		if !strings.HasPrefix(kinds[i], strings.TrimSuffix(want[i], ".")) {
			t.Errorf("history %d: %q, want %q", i, kinds[i], want[i])
		}
	}

	// Deleting a child that a composite alarm names is refused, as is
	// deleting two composite alarms at once; nothing is deleted.
	_, err = cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"cpu-b", "cpu-a"}})
	wantCode(t, err, "ValidationError", "referenced by the composite alarm(s) [c-and, c-both, c-not]")
	_, err = cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"c-and", "c-both"}})
	wantCode(t, err, "ValidationError", "at most one composite alarm")
	for _, n := range []string{"c-and", "c-both", "c-not", "cpu-a"} {
		if _, err := cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{n}}); err != nil {
			t.Fatalf("delete %s: %v", n, err)
		}
	}
	out, err = cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeCompositeAlarm, cwtypes.AlarmTypeMetricAlarm}})
	if err != nil || len(out.MetricAlarms) != 1 || len(out.CompositeAlarms) != 0 {
		t.Fatalf("after deletes: %v, %d metric, %d composite", err, len(out.MetricAlarms), len(out.CompositeAlarms))
	}
}

// TestCompositeSuppressor: a composite alarm whose suppressor is in ALARM
// changes state but runs no action, and says why.
func TestCompositeSuppressor(t *testing.T) {
	cw := fastClient(t)
	ctx := context.Background()
	putCPU(t, cw, "a", 95, 3, 2, 1)
	if _, err := cw.PutMetricAlarm(ctx, cpuAlarm("maintenance", "a")); err != nil {
		t.Fatal(err)
	}
	waitState(t, cw, "maintenance", cwtypes.StateValueAlarm)
	if _, err := cw.PutCompositeAlarm(ctx, &cloudwatch.PutCompositeAlarmInput{AlarmName: aws.String("always"), AlarmRule: aws.String("TRUE"),
		AlarmActions: []string{"arn:aws:sns:us-east-1:000000000000:ops"}, ActionsSuppressor: aws.String("maintenance"),
		ActionsSuppressorWaitPeriod: aws.Int32(60), ActionsSuppressorExtensionPeriod: aws.Int32(60)}); err != nil {
		t.Fatal(err)
	}
	a := waitComposite(t, cw, "always", cwtypes.StateValueAlarm)
	if a.ActionsSuppressedBy != cwtypes.ActionsSuppressedByAlarm || !strings.Contains(aws.ToString(a.ActionsSuppressedReason), "maintenance") ||
		aws.ToString(a.ActionsSuppressor) != "maintenance" || aws.ToInt32(a.ActionsSuppressorWaitPeriod) != 60 {
		t.Errorf("suppressed: %+v", a)
	}
	if got := aws.ToString(a.StateReason); got != "The alarm rule evaluated to TRUE." {
		t.Errorf("reason %q", got)
	}
	actions := func(name string) int {
		t.Helper()
		hist, err := cw.DescribeAlarmHistory(ctx, &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String(name),
			AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeCompositeAlarm}, HistoryItemType: cwtypes.HistoryItemTypeAction})
		if err != nil {
			t.Fatal(err)
		}
		return len(hist.AlarmHistoryItems)
	}
	if n := actions("always"); n != 0 {
		t.Errorf("actions of a suppressed alarm: %d", n)
	}

	// A suppressor that stays OK: the actions wait WaitPeriod for it,
	// then run.
	putCPU(t, cw, "b", 10, 3, 2, 1)
	if _, err := cw.PutMetricAlarm(ctx, cpuAlarm("quiet", "b")); err != nil {
		t.Fatal(err)
	}
	waitState(t, cw, "quiet", cwtypes.StateValueOk)
	if _, err := cw.PutCompositeAlarm(ctx, &cloudwatch.PutCompositeAlarmInput{AlarmName: aws.String("waiting"), AlarmRule: aws.String("TRUE"),
		AlarmActions: []string{"arn:aws:sns:us-east-1:000000000000:ops"}, ActionsSuppressor: aws.String("quiet"),
		ActionsSuppressorWaitPeriod: aws.Int32(2), ActionsSuppressorExtensionPeriod: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	a = waitComposite(t, cw, "waiting", cwtypes.StateValueAlarm)
	if a.ActionsSuppressedBy != cwtypes.ActionsSuppressedByWaitPeriod || actions("waiting") != 0 {
		t.Errorf("waiting: suppressed by %q, %d actions", a.ActionsSuppressedBy, actions("waiting"))
	}
	deadline := time.Now().Add(10 * time.Second)
	for actions("waiting") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the actions did not run after the WaitPeriod")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if a := compositeNamed(t, cw, "waiting"); a.ActionsSuppressedBy != "" {
		t.Errorf("after the WaitPeriod: suppressed by %q", a.ActionsSuppressedBy)
	}
}

func TestPutCompositeAlarmErrors(t *testing.T) {
	cw := newClient(t, "")
	ctx := context.Background()
	if _, err := cw.PutMetricAlarm(ctx, cpuAlarm("cpu", "a")); err != nil {
		t.Fatal(err)
	}
	if _, err := cw.PutCompositeAlarm(ctx, &cloudwatch.PutCompositeAlarmInput{AlarmName: aws.String("comp"), AlarmRule: aws.String("ALARM(cpu)")}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, rule string
		in         func(*cloudwatch.PutCompositeAlarmInput)
		code, msg  string
	}{
		{name: "x", rule: "ALARM(cpu) OR OK(nope) OR ALARM(gone)", code: "ValidationError", msg: "alarms [nope, gone] in the alarm rule do not exist"},
		{name: "x", rule: "ALARM(cpu) AND", code: "InvalidParameterValue", msg: "AlarmRule is invalid"},
		{name: "x", rule: "SOMETIMES", code: "InvalidParameterValue", msg: "AlarmRule is invalid"},
		{name: "cpu", rule: "TRUE", code: "InvalidParameterValue", msg: "is a metric alarm"},
		{name: "x", rule: "TRUE", in: func(in *cloudwatch.PutCompositeAlarmInput) { in.ActionsSuppressor = aws.String("cpu") },
			code: "MissingParameter", msg: "ActionsSuppressorWaitPeriod"},
		{name: "x", rule: "TRUE", in: func(in *cloudwatch.PutCompositeAlarmInput) { in.ActionsSuppressorWaitPeriod = aws.Int32(5) },
			code: "InvalidParameterCombination", msg: "only valid with ActionsSuppressor"},
		{name: "x", rule: "TRUE", in: func(in *cloudwatch.PutCompositeAlarmInput) {
			in.AlarmActions = []string{"a:1", "arn:2", "arn:3", "arn:4", "arn:5", "arn:6"}
		}, code: "InvalidParameterValue", msg: "AlarmActions"},
	} {
		in := &cloudwatch.PutCompositeAlarmInput{AlarmName: aws.String(tc.name), AlarmRule: aws.String(tc.rule)}
		if tc.in != nil {
			tc.in(in)
		}
		_, err := cw.PutCompositeAlarm(ctx, in)
		wantCode(t, err, tc.code, tc.msg)
	}
	in := cpuAlarm("comp", "a")
	_, err := cw.PutMetricAlarm(ctx, in)
	wantCode(t, err, "InvalidParameterValue", "is a composite alarm")
}
