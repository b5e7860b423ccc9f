package cloudwatch_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// TestStatistics puts values, counts and statistic sets and checks every
// statistic and percentile against values computed by hand.
func TestStatistics(t *testing.T) {
	cw := newClient(t, "")
	ctx := context.Background()
	t0 := minute(10)
	put := func(name string, d cwtypes.MetricDatum) {
		t.Helper()
		d.MetricName = aws.String(name)
		if d.Timestamp == nil {
			d.Timestamp = aws.Time(t0.Add(10 * time.Second))
		}
		if _, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("Test"), MetricData: []cwtypes.MetricDatum{d}}); err != nil {
			t.Fatal(err)
		}
	}
	// 1..10 as single values: sum 55, p50 = 5 (nearest rank), p90 = 9.
	for v := 1; v <= 10; v++ {
		put("single", cwtypes.MetricDatum{Value: aws.Float64(float64(v)), Unit: cwtypes.StandardUnitMilliseconds})
	}
	// Values with counts: 1×3, 2×1, 10×1 → count 5, sum 15, p50 = 1, p80 = 2.
	put("counts", cwtypes.MetricDatum{Values: []float64{1, 2, 10}, Counts: []float64{3, 1, 1}})
	// Statistic sets: percentiles only where Minimum = Maximum.
	put("set", cwtypes.MetricDatum{StatisticValues: &cwtypes.StatisticSet{SampleCount: aws.Float64(4), Sum: aws.Float64(10), Minimum: aws.Float64(1), Maximum: aws.Float64(4)}})
	put("flatset", cwtypes.MetricDatum{StatisticValues: &cwtypes.StatisticSet{SampleCount: aws.Float64(3), Sum: aws.Float64(21), Minimum: aws.Float64(7), Maximum: aws.Float64(7)}})

	type want struct {
		n, sum, min, max float64
		ext              map[string]float64
	}
	tests := []struct {
		metric string
		want   want
	}{
		{"single", want{10, 55, 1, 10, map[string]float64{"p50": 5, "p90": 9, "p99.9": 10, "p0": 1, "p100": 10}}},
		{"counts", want{5, 15, 1, 10, map[string]float64{"p50": 1, "p80": 2, "p90": 10}}},
		{"set", want{4, 10, 1, 4, map[string]float64{}}},
		{"flatset", want{3, 21, 7, 7, map[string]float64{"p50": 7}}},
	}
	for _, tc := range tests {
		t.Run(tc.metric, func(t *testing.T) {
			in := &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("Test"), MetricName: aws.String(tc.metric),
				StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(5 * time.Minute)), Period: aws.Int32(300),
				Statistics: []cwtypes.Statistic{"SampleCount", "Sum", "Average", "Minimum", "Maximum"}}
			out, err := cw.GetMetricStatistics(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Datapoints) != 1 {
				t.Fatalf("%d datapoints, want 1: %+v", len(out.Datapoints), out.Datapoints)
			}
			dp := out.Datapoints[0]
			w := tc.want
			if *dp.SampleCount != w.n || *dp.Sum != w.sum || *dp.Minimum != w.min || *dp.Maximum != w.max || *dp.Average != w.sum/w.n {
				t.Errorf("got n=%v sum=%v min=%v max=%v avg=%v, want %+v", *dp.SampleCount, *dp.Sum, *dp.Minimum, *dp.Maximum, *dp.Average, w)
			}
			if !dp.Timestamp.Equal(t0) || aws.ToString(out.Label) != tc.metric {
				t.Errorf("timestamp %v label %q", dp.Timestamp, aws.ToString(out.Label))
			}
			in.Statistics = nil
			in.ExtendedStatistics = []string{"p0", "p50", "p80", "p90", "p99.9", "p100"}
			out, err = cw.GetMetricStatistics(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			got := out.Datapoints[0].ExtendedStatistics
			for k, v := range w.ext {
				if got[k] != v {
					t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
				}
			}
			if len(w.ext) == 0 && len(got) != 0 {
				t.Errorf("percentiles of a statistic set: %v", got)
			}
		})
	}
}

// TestPeriodsAndUnits checks per-period aggregation, the unit filter and
// a datapoint per unit, and high-resolution periods.
func TestPeriodsAndUnits(t *testing.T) {
	cw := newClient(t, "")
	ctx := context.Background()
	t0 := minute(30)
	var data []cwtypes.MetricDatum
	for i := 0; i < 20; i++ { // one value a minute, i
		data = append(data, cwtypes.MetricDatum{MetricName: aws.String("m"), Value: aws.Float64(float64(i)), Timestamp: aws.Time(t0.Add(time.Duration(i)*time.Minute + 5*time.Second)), Unit: cwtypes.StandardUnitCount})
	}
	data = append(data, cwtypes.MetricDatum{MetricName: aws.String("m"), Value: aws.Float64(100), Timestamp: aws.Time(t0.Add(30 * time.Second)), Unit: cwtypes.StandardUnitSeconds})
	// High resolution: 1..6 over six seconds of one minute.
	for i := 1; i <= 6; i++ {
		data = append(data, cwtypes.MetricDatum{MetricName: aws.String("hr"), Value: aws.Float64(float64(i)), StorageResolution: aws.Int32(1), Timestamp: aws.Time(t0.Add(time.Duration(i-1) * 5 * time.Second))})
	}
	if _, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("P"), MetricData: data}); err != nil {
		t.Fatal(err)
	}
	get := func(name string, period int32, unit cwtypes.StandardUnit, end time.Duration) []cwtypes.Datapoint {
		t.Helper()
		out, err := cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("P"), MetricName: aws.String(name),
			StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(end)), Period: aws.Int32(period), Unit: unit,
			Statistics: []cwtypes.Statistic{"Sum", "SampleCount"}})
		if err != nil {
			t.Fatal(err)
		}
		sortPoints(out.Datapoints)
		return out.Datapoints
	}
	// Five-minute periods of Count: 0+1+2+3+4 = 10, 5..9 = 35, 10..14 = 60, 15..19 = 85.
	dps := get("m", 300, cwtypes.StandardUnitCount, 20*time.Minute)
	wantSums := []float64{10, 35, 60, 85}
	if len(dps) != len(wantSums) {
		t.Fatalf("%d datapoints, want %d", len(dps), len(wantSums))
	}
	for i, dp := range dps {
		if *dp.Sum != wantSums[i] || !dp.Timestamp.Equal(t0.Add(time.Duration(i)*5*time.Minute)) || dp.Unit != cwtypes.StandardUnitCount {
			t.Errorf("period %d: sum %v at %v unit %s, want %v at %v", i, *dp.Sum, dp.Timestamp, dp.Unit, wantSums[i], t0.Add(time.Duration(i)*5*time.Minute))
		}
	}
	// Without a unit: a datapoint per unit in the first period.
	dps = get("m", 300, "", 5*time.Minute)
	if len(dps) != 2 {
		t.Fatalf("%d datapoints without a unit filter, want one per unit: %+v", len(dps), dps)
	}
	// EndTime is exclusive: the minute that starts at EndTime is not in.
	dps = get("m", 60, cwtypes.StandardUnitCount, 3*time.Minute)
	if len(dps) != 3 {
		t.Errorf("%d one-minute datapoints in [t0, t0+3m), want 3", len(dps))
	}
	// High resolution: 10-second periods hold 2 values each.
	dps = get("hr", 10, "", time.Minute)
	if len(dps) != 3 || *dps[0].Sum != 3 || *dps[1].Sum != 7 || *dps[2].Sum != 11 {
		t.Errorf("10-second periods: %+v", dps)
	}
}

func TestListMetrics(t *testing.T) {
	cw := newClient(t, "")
	ctx := context.Background()
	var data []cwtypes.MetricDatum
	for i := 0; i < 600; i++ {
		data = append(data, cwtypes.MetricDatum{MetricName: aws.String("Load"), Value: aws.Float64(1),
			Dimensions: []cwtypes.Dimension{dim("Host", fmt.Sprintf("h%03d", i)), dim("Role", []string{"web", "db"}[i%2])}})
	}
	data = append(data, cwtypes.MetricDatum{MetricName: aws.String("Other"), Value: aws.Float64(1)})
	if _, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("App"), MetricData: data}); err != nil {
		t.Fatal(err)
	}
	if _, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("Else"), MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("Load"), Value: aws.Float64(1)}}}); err != nil {
		t.Fatal(err)
	}
	count := func(in *cloudwatch.ListMetricsInput) (n, pages int) {
		t.Helper()
		p := cloudwatch.NewListMetricsPaginator(cw, in)
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Metrics) > 500 {
				t.Fatalf("page of %d", len(out.Metrics))
			}
			n += len(out.Metrics)
			pages++
		}
		return n, pages
	}
	tests := []struct {
		name     string
		in       cloudwatch.ListMetricsInput
		n, pages int
	}{
		{"all", cloudwatch.ListMetricsInput{}, 602, 2},
		{"namespace", cloudwatch.ListMetricsInput{Namespace: aws.String("App")}, 601, 2},
		{"name", cloudwatch.ListMetricsInput{MetricName: aws.String("Load")}, 601, 2},
		{"dimension value", cloudwatch.ListMetricsInput{Dimensions: []cwtypes.DimensionFilter{{Name: aws.String("Role"), Value: aws.String("db")}}}, 300, 1},
		{"dimension name only", cloudwatch.ListMetricsInput{Dimensions: []cwtypes.DimensionFilter{{Name: aws.String("Host")}}}, 600, 2},
		{"two dimensions", cloudwatch.ListMetricsInput{Dimensions: []cwtypes.DimensionFilter{{Name: aws.String("Host"), Value: aws.String("h007")}, {Name: aws.String("Role")}}}, 1, 1},
		{"recently active", cloudwatch.ListMetricsInput{Namespace: aws.String("Else"), RecentlyActive: cwtypes.RecentlyActivePt3h}, 1, 1},
		{"none", cloudwatch.ListMetricsInput{Namespace: aws.String("Nope")}, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, pages := count(&tc.in)
			if n != tc.n || pages != tc.pages {
				t.Errorf("%d metrics in %d pages, want %d in %d", n, pages, tc.n, tc.pages)
			}
		})
	}
	_, err := cw.ListMetrics(ctx, &cloudwatch.ListMetricsInput{NextToken: aws.String("garbage!")})
	wantCode(t, err, "InvalidParameterValue", "NextToken")
}

func TestGetMetricData(t *testing.T) {
	cw := newClient(t, "")
	ctx := context.Background()
	t0 := minute(10)
	var data []cwtypes.MetricDatum
	for i := 0; i < 5; i++ {
		ts := aws.Time(t0.Add(time.Duration(i) * time.Minute))
		data = append(data,
			cwtypes.MetricDatum{MetricName: aws.String("a"), Value: aws.Float64(float64(i)), Timestamp: ts},
			cwtypes.MetricDatum{MetricName: aws.String("b"), Value: aws.Float64(10), Timestamp: ts})
	}
	// c has no datapoint in the third minute.
	for _, i := range []int{0, 1, 3, 4} {
		data = append(data, cwtypes.MetricDatum{MetricName: aws.String("c"), Value: aws.Float64(1), Timestamp: aws.Time(t0.Add(time.Duration(i) * time.Minute))})
	}
	if _, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("D"), MetricData: data}); err != nil {
		t.Fatal(err)
	}
	stat := func(id, name, st string) cwtypes.MetricDataQuery {
		return cwtypes.MetricDataQuery{Id: aws.String(id), ReturnData: aws.Bool(false), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String("D"), MetricName: aws.String(name)}, Period: aws.Int32(60), Stat: aws.String(st)}}
	}
	expr := func(id, e string) cwtypes.MetricDataQuery {
		return cwtypes.MetricDataQuery{Id: aws.String(id), Expression: aws.String(e)}
	}
	base := []cwtypes.MetricDataQuery{stat("ma", "a", "Sum"), stat("mb", "b", "Average"), stat("mc", "c", "Sum")}
	tests := []struct {
		name string
		q    cwtypes.MetricDataQuery
		want []float64 // ascending time
	}{
		{"metric", func() cwtypes.MetricDataQuery { q := stat("x", "a", "Maximum"); q.ReturnData = nil; return q }(), []float64{0, 1, 2, 3, 4}},
		{"arithmetic", expr("e", "(ma + mb) * 2 - 1"), []float64{19, 21, 23, 25, 27}},
		{"division", expr("e", "mb / ma"), []float64{10, 5, 10.0 / 3, 2.5}}, // the first minute divides by zero: no point
		{"power and minus", expr("e", "-ma ^ 2"), []float64{0, -1, -4, -9, -16}},
		{"missing points", expr("e", "ma + mc"), []float64{1, 2, 4, 5}},
		{"fill", expr("e", "ma + FILL(mc, 100)"), []float64{1, 2, 102, 4, 5}},
		{"sum of array", expr("e", "SUM([ma, mb])"), []float64{10, 11, 12, 13, 14}},
		{"max of metrics", expr("e", "MAX(METRICS())"), []float64{10, 10, 10, 10, 10}},
		{"avg of filtered metrics", expr("e", "AVG(METRICS('a'))"), []float64{0, 1, 2, 3, 4}},
		{"scalar of a series", expr("e", "ma - AVG(ma)"), []float64{-2, -1, 0, 1, 2}},
		{"min", expr("e", "MIN([ma, mc])"), []float64{0, 1, 2, 1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(5 * time.Minute)),
				MetricDataQueries: append(append([]cwtypes.MetricDataQuery{}, base...), tc.q), ScanBy: cwtypes.ScanByTimestampAscending})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.MetricDataResults) != 1 {
				t.Fatalf("%d results, want 1", len(out.MetricDataResults))
			}
			r := out.MetricDataResults[0]
			if r.StatusCode != cwtypes.StatusCodeComplete || len(r.Values) != len(tc.want) {
				t.Fatalf("status %s, values %v, want %v", r.StatusCode, r.Values, tc.want)
			}
			for i, v := range tc.want {
				if math.Abs(r.Values[i]-v) > 1e-9 {
					t.Errorf("values %v, want %v", r.Values, tc.want)
					break
				}
			}
		})
	}

	// One expression returned at two periods is answered on each one's
	// grid: a FILL (which fills the grid it is evaluated on) referenced by
	// a result at 60 s and another at 120 s.
	fill := cwtypes.MetricDataQuery{Id: aws.String("f"), Expression: aws.String("FILL(mc, 100)"), ReturnData: aws.Bool(false)}
	at := func(id string, period int32) cwtypes.MetricDataQuery {
		q := expr(id, "f")
		if period != 0 {
			q.Period = aws.Int32(period)
		}
		return q
	}
	out, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(6 * time.Minute)),
		MetricDataQueries: append(append([]cwtypes.MetricDataQuery{}, base...), fill, at("r60", 0), at("r120", 120)), ScanBy: cwtypes.ScanByTimestampAscending})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"r60": "[1 1 100 1 1 100] every 60 s", "r120": "[1 100 1] every 120 s"}
	for _, r := range out.MetricDataResults {
		step := "none"
		if len(r.Timestamps) > 1 {
			step = fmt.Sprintf("every %v s", r.Timestamps[1].Sub(r.Timestamps[0]).Seconds())
		}
		if got := fmt.Sprint(r.Values) + " " + step; got != want[aws.ToString(r.Id)] {
			t.Errorf("%s: %s, want %s", aws.ToString(r.Id), got, want[aws.ToString(r.Id)])
		}
		delete(want, aws.ToString(r.Id))
	}
	if len(want) != 0 {
		t.Errorf("missing results %v", want)
	}

	// Paging: two results of five points, three points a page, newest first.
	in := &cloudwatch.GetMetricDataInput{StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(5 * time.Minute)), MaxDatapoints: aws.Int32(3),
		MetricDataQueries: []cwtypes.MetricDataQuery{stat("ma", "a", "Sum"), stat("mb", "b", "Sum")}}
	in.MetricDataQueries[0].ReturnData, in.MetricDataQueries[1].ReturnData = nil, nil
	var got []float64
	var pages int
	for {
		out, err := cw.GetMetricData(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		wantStatus := cwtypes.StatusCodePartialData
		if out.NextToken == nil {
			wantStatus = cwtypes.StatusCodeComplete
		}
		if out.MetricDataResults[0].StatusCode != wantStatus {
			t.Errorf("page %d: status %s, want %s", pages, out.MetricDataResults[0].StatusCode, wantStatus)
		}
		got = append(got, out.MetricDataResults[0].Values...)
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	if pages != 5 || fmt.Sprint(got) != "[4 3 2 1 0]" {
		t.Errorf("%d pages, values of a %v; want 5 pages of one timestamp each, newest first", pages, got)
	}
}

// TestDurable checks that metrics survive a restart on a state directory.
func TestDurable(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	t0 := minute(5)
	cw, stop := startClient(t, dir)
	if _, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("Dur"), MetricData: []cwtypes.MetricDatum{
		{MetricName: aws.String("m"), Values: []float64{1, 2, 3}, Timestamp: aws.Time(t0)}}}); err != nil {
		t.Fatal(err)
	}
	stop()
	cw2 := newClient(t, dir)
	out, err := cw2.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("Dur"), MetricName: aws.String("m"),
		StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(time.Minute)), Period: aws.Int32(60), ExtendedStatistics: []string{"p50"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Datapoints) != 1 || out.Datapoints[0].ExtendedStatistics["p50"] != 2 {
		t.Fatalf("after restart: %+v", out.Datapoints)
	}
}
