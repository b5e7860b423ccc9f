package cloudwatch_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// TestErrors pins AWS's codes (and the gist of the messages) for
// malformed requests.
func TestErrors(t *testing.T) {
	cw := newClient(t, "")
	ctx := context.Background()
	now := time.Now().UTC()
	datum := func(mod func(*cwtypes.MetricDatum)) *cloudwatch.PutMetricDataInput {
		d := cwtypes.MetricDatum{MetricName: aws.String("m"), Value: aws.Float64(1)}
		mod(&d)
		return &cloudwatch.PutMetricDataInput{Namespace: aws.String("N"), MetricData: []cwtypes.MetricDatum{d}}
	}
	many := make([]cwtypes.MetricDatum, 1001)
	for i := range many {
		many[i] = cwtypes.MetricDatum{MetricName: aws.String("m"), Value: aws.Float64(1)}
	}
	var dims []cwtypes.Dimension
	for i := 0; i < 31; i++ {
		dims = append(dims, dim(strings.Repeat("d", i+1), "v"))
	}
	stats := func(mod func(*cloudwatch.GetMetricStatisticsInput)) *cloudwatch.GetMetricStatisticsInput {
		in := &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("N"), MetricName: aws.String("m"), StartTime: aws.Time(now.Add(-time.Hour)),
			EndTime: aws.Time(now), Period: aws.Int32(60), Statistics: []cwtypes.Statistic{"Sum"}}
		mod(in)
		return in
	}
	tests := []struct {
		name      string
		call      func() error
		code, msg string
	}{
		{"reserved namespace", func() error {
			in := datum(func(*cwtypes.MetricDatum) {})
			in.Namespace = aws.String("AWS/EC2")
			_, err := cw.PutMetricData(ctx, in)
			return err
		}, "InvalidParameterValue", "Namespace"},
		{"1,001 metrics", func() error {
			_, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("N"), MetricData: many})
			return err
		}, "InvalidParameterValue", "The collection MetricData must not have a size greater than 1000."},
		{"31 dimensions", func() error {
			_, err := cw.PutMetricData(ctx, datum(func(d *cwtypes.MetricDatum) { d.Dimensions = dims }))
			return err
		}, "InvalidParameterValue", "MetricData.member.1.Dimensions must not have a size greater than 30"},
		{"151 values", func() error {
			_, err := cw.PutMetricData(ctx, datum(func(d *cwtypes.MetricDatum) { d.Value = nil; d.Values = make([]float64, 151) }))
			return err
		}, "InvalidParameterValue", "Values must not have a size greater than 150"},
		{"value and values", func() error {
			_, err := cw.PutMetricData(ctx, datum(func(d *cwtypes.MetricDatum) { d.Values = []float64{1} }))
			return err
		}, "InvalidParameterCombination", "mutually exclusive"},
		{"value and statistic set", func() error {
			_, err := cw.PutMetricData(ctx, datum(func(d *cwtypes.MetricDatum) {
				d.StatisticValues = &cwtypes.StatisticSet{SampleCount: aws.Float64(1), Sum: aws.Float64(1), Minimum: aws.Float64(1), Maximum: aws.Float64(1)}
			}))
			return err
		}, "InvalidParameterCombination", "MetricData.member.1.Value and MetricData.member.1.StatisticValues"},
		{"counts of another size", func() error {
			_, err := cw.PutMetricData(ctx, datum(func(d *cwtypes.MetricDatum) { d.Value = nil; d.Values = []float64{1, 2}; d.Counts = []float64{1} }))
			return err
		}, "InvalidParameterValue", "must be of the same size"},
		{"infinite value", func() error {
			_, err := cw.PutMetricData(ctx, datum(func(d *cwtypes.MetricDatum) { d.Value = aws.Float64(math.Inf(1)) }))
			return err
		}, "InvalidParameterValue", "MetricData.member.1.Value is invalid"},
		{"storage resolution 30", func() error {
			_, err := cw.PutMetricData(ctx, datum(func(d *cwtypes.MetricDatum) { d.StorageResolution = aws.Int32(30) }))
			return err
		}, "InvalidParameterValue", "StorageResolution"},
		{"timestamp three weeks ago", func() error {
			_, err := cw.PutMetricData(ctx, datum(func(d *cwtypes.MetricDatum) { d.Timestamp = aws.Time(now.Add(-21 * 24 * time.Hour)) }))
			return err
		}, "InvalidParameterValue", "The parameter MetricData.member.1.Timestamp must specify a time within the past two weeks."},
		{"timestamp three hours ahead", func() error {
			_, err := cw.PutMetricData(ctx, datum(func(d *cwtypes.MetricDatum) { d.Timestamp = aws.Time(now.Add(3 * time.Hour)) }))
			return err
		}, "InvalidParameterValue", "Timestamp"},
		{"no statistics", func() error {
			_, err := cw.GetMetricStatistics(ctx, stats(func(in *cloudwatch.GetMetricStatisticsInput) { in.Statistics = nil }))
			return err
		}, "MissingParameter", "Statistics or ExtendedStatistics"},
		{"both kinds of statistics", func() error {
			_, err := cw.GetMetricStatistics(ctx, stats(func(in *cloudwatch.GetMetricStatisticsInput) { in.ExtendedStatistics = []string{"p50"} }))
			return err
		}, "InvalidParameterCombination", "mutually exclusive"},
		{"bad percentile", func() error {
			_, err := cw.GetMetricStatistics(ctx, stats(func(in *cloudwatch.GetMetricStatisticsInput) {
				in.Statistics = nil
				in.ExtendedStatistics = []string{"p101"}
			}))
			return err
		}, "InvalidParameterValue", "p101"},
		{"period 90", func() error {
			_, err := cw.GetMetricStatistics(ctx, stats(func(in *cloudwatch.GetMetricStatisticsInput) { in.Period = aws.Int32(90) }))
			return err
		}, "InvalidParameterValue", "multiple of 60"},
		{"start equals end", func() error {
			_, err := cw.GetMetricStatistics(ctx, stats(func(in *cloudwatch.GetMetricStatisticsInput) { in.StartTime = in.EndTime }))
			return err
		}, "InvalidParameterValue", "The parameter StartTime must not equal parameter EndTime."},
		{"too many datapoints", func() error {
			_, err := cw.GetMetricStatistics(ctx, stats(func(in *cloudwatch.GetMetricStatisticsInput) { in.StartTime = aws.Time(now.Add(-48 * time.Hour)) }))
			return err
		}, "InvalidParameterCombination", "You have requested up to 2880 datapoints, which exceeds the limit of 1,440."},
		{"bad expression", func() error {
			_, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now),
				MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("e"), Expression: aws.String("1 +")}}})
			return err
		}, "ValidationError", "Error in expression e"},
		{"unknown id in expression", func() error {
			_, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now),
				MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("e"), Expression: aws.String("m9 * 2")}}})
			return err
		}, "ValidationError", "m9"},
		{"query without metric or expression", func() error {
			_, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now),
				MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("e")}}})
			return err
		}, "ValidationError", "The parameter MetricDataQueries.member.1.MetricStat is required."},
		{"bad next token", func() error {
			_, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now), NextToken: aws.String("x"),
				MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("e"), Expression: aws.String("1")}}})
			return err
		}, "InvalidNextToken", "NextToken"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.call(), tc.code, tc.msg) })
	}
}
