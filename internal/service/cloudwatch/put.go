package cloudwatch

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api/cloudwatchapi"
	"github.com/minicloud/minicloud/internal/metrics"
)

// AWS's limits on PutMetricData.
const (
	maxMetricData = 1000
	maxValues     = 150
	maxPast       = 14 * 24 * time.Hour
	maxFuture     = 2 * time.Hour
	// Magnitudes past 2^360 are refused; under 8.515920e-109 they are
	// stored as 0 (AWS's documented range).
	maxMagnitude = 0x1p360
	minMagnitude = 8.515920e-109
)

// PutMetricData checks every datum, then adds them all in one durable
// write: a request is stored whole or refused. EntityMetricData and
// StrictEntityValidation (newer than minicloud's model) are accepted and
// ignored: the codec drops members the model does not know.
func (s *Service) PutMetricData(ctx context.Context, in *cloudwatchapi.PutMetricDataInput) (*cloudwatchapi.Empty, error) {
	ns := deref(in.Namespace)
	if err := checkNamespace(ns); err != nil {
		return nil, err
	}
	if len(in.MetricData) > maxMetricData {
		return nil, errTooMany("MetricData", maxMetricData)
	}
	now := s.now()
	samples := make([]metrics.Sample, 0, len(in.MetricData))
	var timeErrs []string
	for i := range in.MetricData {
		smp, terr, err := sample(ns, &in.MetricData[i], fmt.Sprintf("MetricData.member.%d", i+1), now)
		if err != nil {
			return nil, err
		}
		if terr != "" {
			timeErrs = append(timeErrs, terr)
			continue
		}
		samples = append(samples, smp)
	}
	// AWS names every datum whose timestamp is out of range, one per line.
	if len(timeErrs) > 0 {
		return nil, errValue("%s", strings.Join(timeErrs, "\n"))
	}
	if err := s.store.Put(ctx, scopeOf(ctx), samples); err != nil {
		return nil, err
	}
	return &cloudwatchapi.Empty{}, nil
}

func checkNamespace(ns string) error {
	if err := checkLen(&ns, "Namespace", 1, 255); err != nil {
		return err
	}
	if strings.HasPrefix(ns, ":") {
		return errValue("The value %s for parameter Namespace is invalid.", ns)
	}
	// AWS reserves the AWS/ namespaces for its services' metrics.
	if strings.HasPrefix(ns, "AWS/") {
		return errValue("The value %s for parameter Namespace is invalid.", ns)
	}
	return nil
}

// sample checks one datum named p and converts it; a timestamp out of
// AWS's window is reported apart (terr), as AWS lists them all.
func sample(ns string, d *cloudwatchapi.MetricDatum, p string, now time.Time) (smp metrics.Sample, terr string, err error) {
	if err := checkLen(d.MetricName, p+".MetricName", 1, 255); err != nil {
		return smp, "", err
	}
	ds, err := dims(d.Dimensions, p+".Dimensions")
	if err != nil {
		return smp, "", err
	}
	if err := checkUnit(d.Unit, p+".Unit"); err != nil {
		return smp, "", err
	}
	smp = metrics.Sample{Metric: metrics.Metric{Namespace: ns, Name: deref(d.MetricName), Dims: ds}, Unit: deref(d.Unit), Time: now}
	switch r := deref(d.StorageResolution); {
	case d.StorageResolution == nil || r == 60:
	case r == 1:
		smp.HighRes = true
	default:
		return smp, "", errValue("The value %d for parameter %s.StorageResolution is invalid. Valid values are 1 and 60.", r, p)
	}
	switch {
	case d.Value != nil && d.StatisticValues != nil:
		return smp, "", errCombination("The parameters %[1]s.Value and %[1]s.StatisticValues are mutually exclusive and you have specified both.", p)
	case d.Values != nil && d.StatisticValues != nil:
		return smp, "", errCombination("The parameters %[1]s.Values and %[1]s.StatisticValues are mutually exclusive and you have specified both.", p)
	case d.Value != nil && d.Values != nil:
		return smp, "", errCombination("The parameters %[1]s.Value and %[1]s.Values are mutually exclusive and you have specified both.", p)
	case d.Value != nil:
		v, err := checkValue(*d.Value, p+".Value")
		if err != nil {
			return smp, "", err
		}
		smp.Values = []float64{v}
	case d.StatisticValues != nil:
		set, err := statSet(d.StatisticValues, p+".StatisticValues")
		if err != nil {
			return smp, "", err
		}
		smp.Set = set
	case d.Values != nil:
		if err := valuesCounts(&smp, d, p); err != nil {
			return smp, "", err
		}
	default:
		return smp, "", errCombination("At least one of the parameters %[1]s.Value, %[1]s.Values or %[1]s.StatisticValues must be specified.", p)
	}
	if d.Timestamp != nil {
		t := d.Timestamp.UTC()
		switch {
		case t.Before(now.Add(-maxPast)):
			return smp, fmt.Sprintf("The parameter %s.Timestamp must specify a time within the past two weeks.", p), nil
		case t.After(now.Add(maxFuture)):
			return smp, fmt.Sprintf("The parameter %s.Timestamp must specify a time no more than two hours in the future.", p), nil
		}
		smp.Time = t
	}
	return smp, "", nil
}

func valuesCounts(smp *metrics.Sample, d *cloudwatchapi.MetricDatum, p string) error {
	if len(d.Values) > maxValues {
		return errTooMany(p+".Values", maxValues)
	}
	if d.Counts != nil && len(d.Counts) != len(d.Values) {
		return errValue("The parameters %[1]s.Values and %[1]s.Counts must be of the same size.", p)
	}
	smp.Values = make([]float64, len(d.Values))
	for i, v := range d.Values {
		var err error
		if smp.Values[i], err = checkValue(v, p+".Values"); err != nil {
			return err
		}
	}
	for _, c := range d.Counts {
		if math.IsNaN(c) || math.IsInf(c, 0) || c < 0 {
			return errValue("The value %s for parameter %s.Counts is invalid.", fmtFloat(c), p)
		}
	}
	smp.Counts = d.Counts
	return nil
}

func statSet(in *cloudwatchapi.StatisticSet, p string) (*metrics.StatSet, error) {
	var set metrics.StatSet
	fields := []struct {
		name string
		src  *float64
		dst  *float64
	}{{"SampleCount", in.SampleCount, &set.Count}, {"Sum", in.Sum, &set.Sum}, {"Minimum", in.Minimum, &set.Min}, {"Maximum", in.Maximum, &set.Max}}
	for _, f := range fields {
		if f.src == nil {
			return nil, errMissing("The parameter %s.%s is required.", p, f.name)
		}
		v, err := checkValue(*f.src, p+"."+f.name)
		if err != nil {
			return nil, err
		}
		*f.dst = v
	}
	if set.Count <= 0 {
		return nil, errValue("The value %s for parameter %s.SampleCount is invalid.", fmtFloat(set.Count), p)
	}
	if set.Min > set.Max {
		return nil, errValue("The parameter %[1]s.Minimum must be less than or equal to the parameter %[1]s.Maximum.", p)
	}
	return &set, nil
}

// checkValue checks one datapoint value against AWS's range.
func checkValue(v float64, param string) (float64, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > maxMagnitude {
		return 0, errValue("The value %s for parameter %s is invalid.", fmtFloat(v), param)
	}
	if math.Abs(v) < minMagnitude {
		return 0, nil
	}
	return v, nil
}

func fmtFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	}
	return fmt.Sprint(v)
}
