package cloudwatch_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// TestMathThroughAPI: SEARCH over the stored metrics, a function of its
// array, and the ArithmeticError message, through GetMetricData.
func TestMathThroughAPI(t *testing.T) {
	cw := newClient(t, "")
	ctx := context.Background()
	putCPU(t, cw, "a", 10, 3, 2)
	putCPU(t, cw, "b", 30, 3, 2)
	putCPU(t, cw, "c", 0, 3, 2)
	// Another dimension set and another name: not matched by the schema.
	if _, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []cwtypes.MetricDatum{
		{MetricName: aws.String("CPU"), Dimensions: []cwtypes.Dimension{dim("Host", "a"), dim("Zone", "z")}, Timestamp: aws.Time(minute(2)), Value: aws.Float64(99)},
		{MetricName: aws.String("Mem"), Dimensions: []cwtypes.Dimension{dim("Host", "a")}, Timestamp: aws.Time(minute(2)), Value: aws.Float64(99)},
	}}); err != nil {
		t.Fatal(err)
	}
	t0 := minute(3)
	out, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(2 * time.Minute)),
		ScanBy: cwtypes.ScanByTimestampAscending,
		MetricDataQueries: []cwtypes.MetricDataQuery{
			{Id: aws.String("s"), Expression: aws.String(`SEARCH('{App,Host} MetricName="CPU"', 'Average', 60)`)},
			{Id: aws.String("top"), Expression: aws.String(`FIRST(SORT(s, MAX, DESC))`), Label: aws.String("busiest")},
			{Id: aws.String("ratio"), Expression: aws.String(`s / FIRST(SORT(s, MAX, ASC))`), ReturnData: aws.Bool(false)},
			{Id: aws.String("bad"), Expression: aws.String(`SUM(s) / (SUM(s) - 40)`)},
		}})
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, r := range out.MetricDataResults {
		labels = append(labels, aws.ToString(r.Id)+":"+aws.ToString(r.Label))
	}
	want := []string{"s:a CPU", "s:b CPU", "s:c CPU", "top:busiest", "bad:bad"}
	if !slices.Equal(labels, want) {
		t.Fatalf("results %q, want %q", labels, want)
	}
	if v := out.MetricDataResults[3].Values; !slices.Equal(v, []float64{30, 30}) {
		t.Errorf("busiest %v", v)
	}
	// SUM(s) is 40 at both minutes: 40/0 is dropped, with AWS's message.
	bad := out.MetricDataResults[4]
	if len(bad.Values) != 0 || len(bad.Messages) != 1 || aws.ToString(bad.Messages[0].Code) != "ArithmeticError" {
		t.Errorf("bad: values %v messages %+v", bad.Values, bad.Messages)
	}
	if len(out.MetricDataResults[0].Messages) != 0 {
		t.Errorf("messages of a good result: %+v", out.MetricDataResults[0].Messages)
	}
	// Extended statistics through GetMetricData: 1…20 in one minute.
	values := make([]float64, 20)
	for i := range values {
		values[i] = float64(i + 1)
	}
	if _, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []cwtypes.MetricDatum{
		{MetricName: aws.String("Latency"), Timestamp: aws.Time(minute(2)), Values: values}}}); err != nil {
		t.Fatal(err)
	}
	var qs []cwtypes.MetricDataQuery
	for i, st := range []string{"tm90", "IQM", "PR(:10)", "WM(5:10)"} {
		qs = append(qs, cwtypes.MetricDataQuery{Id: aws.String(fmt.Sprintf("x%d", i)), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String("App"), MetricName: aws.String("Latency")}, Period: aws.Int32(60), Stat: aws.String(st)}})
	}
	ext, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(2 * time.Minute)), MetricDataQueries: qs})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{9.5, 10.5, 50, 8.25} {
		if v := ext.MetricDataResults[i].Values; len(v) != 1 || v[0] != want {
			t.Errorf("%s: %v, want %v", aws.ToString(qs[i].MetricStat.Stat), v, want)
		}
	}
	for _, expr := range []string{`SEARCH('{App', 'Average', 60)`, `SEARCH('CPU', 'Median', 60)`, `SEARCH('CPU', 'Average', 7)`} {
		_, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(2 * time.Minute)),
			MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("s"), Expression: aws.String(expr)}}})
		wantCode(t, err, "ValidationError", "Error in expression s")
	}
}
