package cloudwatch

import (
	"context"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/minicloud/minicloud/internal/api/cloudwatchapi"
	"github.com/minicloud/minicloud/internal/lazyregexp"
	"github.com/minicloud/minicloud/internal/metrics"
)

// maxStatPoints is GetMetricStatistics' limit on datapoints per call.
const maxStatPoints = 1440

// stat reads one statistic from a period's aggregate; ok is false when the
// period has no such value (a percentile of statistic sets).
type stat func(a *metrics.Agg) (v float64, ok bool)

var basicStats = map[string]stat{
	"SampleCount": func(a *metrics.Agg) (float64, bool) { return a.Count, true },
	"Average":     func(a *metrics.Agg) (float64, bool) { return a.Average(), true },
	"Sum":         func(a *metrics.Agg) (float64, bool) { return a.Sum, true },
	"Minimum":     func(a *metrics.Agg) (float64, bool) { return a.Min, true },
	"Maximum":     func(a *metrics.Agg) (float64, bool) { return a.Max, true },
}

// percentileRE is an extended statistic minicloud computes: pNN or
// pNN.NN (two decimals at most), p0 to p100.
var percentileRE = lazyregexp.New(`^p(\d{1,2}(\.\d{1,2})?|100(\.0{1,2})?)$`)

// parsePercentile is the percentile a pNN statistic names.
func parsePercentile(name string) (stat, bool) {
	if !percentileRE.MatchString(name) {
		return nil, false
	}
	p, err := strconv.ParseFloat(name[1:], 64)
	if err != nil {
		return nil, false
	}
	return func(a *metrics.Agg) (float64, bool) { return a.Percentile(p) }, true
}

// parseStat is a statistic of GetMetricData's Stat and SEARCH: a basic
// one, a percentile or another extended statistic (pctstats.go).
func parseStat(name string) (stat, bool) {
	if f := basicStats[name]; f != nil {
		return f, true
	}
	return parseExtendedStat(name)
}

// parseExtendedStat is an ExtendedStatistic: pNN or another (pctstats.go).
func parseExtendedStat(name string) (stat, bool) {
	if f, ok := parsePercentile(name); ok {
		return f, true
	}
	return parseExtended(name)
}

// checkPeriod applies AWS's rule: 1, 5, 10, 20, 30 or a multiple of 60.
func checkPeriod(p int32, param string) error {
	switch {
	case p < 1:
		return errValue("The parameter %s must be greater than 0.", param)
	case p >= 60 && p%60 != 0:
		return errValue("The parameter %s must be a multiple of 60.", param)
	case p < 60 && p != 1 && p != 5 && p != 10 && p != 20 && p != 30:
		return errValue("The parameter %s must be 1, 5, 10, 20, 30, 60 or a multiple of 60.", param)
	}
	return nil
}

// checkRange checks StartTime < EndTime.
func checkRange(start, end time.Time) error {
	switch {
	case start.Equal(end):
		return errValue("The parameter StartTime must not equal parameter EndTime.")
	case start.After(end):
		return errValue("The parameter StartTime must be less than the parameter EndTime.")
	}
	return nil
}

// GetMetricStatistics answers the statistics of one metric per period,
// one datapoint per period and unit that has data, in no particular
// order, as AWS (clients sort them by Timestamp).
func (s *Service) GetMetricStatistics(ctx context.Context, in *cloudwatchapi.GetMetricStatisticsInput) (*cloudwatchapi.GetMetricStatisticsOutput, error) {
	q, stats, ext, err := s.statisticsQuery(ctx, in)
	if err != nil {
		return nil, err
	}
	out := &cloudwatchapi.GetMetricStatisticsOutput{Label: in.MetricName, Datapoints: []cloudwatchapi.Datapoint{}}
	for _, p := range s.store.Query(q) {
		dp := cloudwatchapi.Datapoint{Timestamp: ptr(p.Time), Unit: ptr(p.Unit)}
		for _, name := range stats {
			v, _ := basicStats[name](&p.Agg)
			switch name {
			case "SampleCount":
				dp.SampleCount = ptr(v)
			case "Average":
				dp.Average = ptr(v)
			case "Sum":
				dp.Sum = ptr(v)
			case "Minimum":
				dp.Minimum = ptr(v)
			case "Maximum":
				dp.Maximum = ptr(v)
			}
		}
		for _, e := range ext {
			if v, ok := e.fn(&p.Agg); ok {
				if dp.ExtendedStatistics == nil {
					dp.ExtendedStatistics = map[string]float64{}
				}
				dp.ExtendedStatistics[e.name] = v
			}
		}
		out.Datapoints = append(out.Datapoints, dp)
	}
	// AWS answers datapoints in no order; so does minicloud, so that a
	// client relying on one fails here as it would there.
	rand.Shuffle(len(out.Datapoints), func(i, j int) { out.Datapoints[i], out.Datapoints[j] = out.Datapoints[j], out.Datapoints[i] })
	return out, nil
}

type namedStat struct {
	name string
	fn   stat
}

// statisticsQuery checks a GetMetricStatistics request in AWS's order and
// makes it a store query.
func (s *Service) statisticsQuery(ctx context.Context, in *cloudwatchapi.GetMetricStatisticsInput) (metrics.Query, []string, []namedStat, error) {
	var q metrics.Query
	ns, name := deref(in.Namespace), deref(in.MetricName)
	if err := checkLen(&ns, "Namespace", 1, 255); err != nil {
		return q, nil, nil, err
	}
	if err := checkLen(&name, "MetricName", 1, 255); err != nil {
		return q, nil, nil, err
	}
	ds, err := dims(in.Dimensions, "Dimensions")
	if err != nil {
		return q, nil, nil, err
	}
	switch {
	case len(in.Statistics) == 0 && len(in.ExtendedStatistics) == 0:
		return q, nil, nil, errMissing("Must specify either Statistics or ExtendedStatistics.")
	case len(in.Statistics) > 0 && len(in.ExtendedStatistics) > 0:
		return q, nil, nil, errCombination("The parameters Statistics and ExtendedStatistics are mutually exclusive and you have specified both.")
	case len(in.Statistics) > 5:
		return q, nil, nil, errTooMany("Statistics", 5)
	case len(in.ExtendedStatistics) > 10:
		return q, nil, nil, errTooMany("ExtendedStatistics", 10)
	}
	for i, st := range in.Statistics {
		if basicStats[st] == nil {
			return q, nil, nil, errValue("The value %s for parameter Statistics.member.%d is invalid.", st, i+1)
		}
	}
	var ext []namedStat
	for i, e := range in.ExtendedStatistics {
		fn, ok := parsePercentile(e)
		if !ok {
			return q, nil, nil, errValue("The value %s for parameter ExtendedStatistics.member.%d is invalid.", e, i+1)
		}
		ext = append(ext, namedStat{e, fn})
	}
	if err := checkUnit(in.Unit, "Unit"); err != nil {
		return q, nil, nil, err
	}
	period := deref(in.Period)
	if err := checkPeriod(period, "Period"); err != nil {
		return q, nil, nil, err
	}
	start, end := deref(in.StartTime).UTC(), deref(in.EndTime).UTC()
	if err := checkRange(start, end); err != nil {
		return q, nil, nil, err
	}
	if n := (end.Sub(start) + time.Duration(period)*time.Second - 1) / (time.Duration(period) * time.Second); n > maxStatPoints {
		return q, nil, nil, errCombination("You have requested up to %d datapoints, which exceeds the limit of %s. You may reduce the datapoints requested by increasing Period, or decreasing the time range.", n, "1,440")
	}
	q = metrics.Query{Scope: scopeOf(ctx), Metric: metrics.Metric{Namespace: ns, Name: name, Dims: ds},
		Unit: deref(in.Unit), SplitUnits: true, Start: start, End: end, Period: int64(period)}
	return q, in.Statistics, ext, nil
}
