package cloudwatch

import (
	"context"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/cloudwatchapi"
	"github.com/minicloud/minicloud/internal/metrics"
)

const (
	listPage = 500
	// ListMetrics shows metrics that received data in the past two
	// weeks; RecentlyActive=PT3H, in the past three hours.
	listWindow   = 14 * 24 * time.Hour
	recentWindow = 3 * time.Hour
)

// ListMetrics lists the caller's metrics in a stable order (namespace,
// name, dimensions), 500 a page.
func (s *Service) ListMetrics(ctx context.Context, in *cloudwatchapi.ListMetricsInput) (*cloudwatchapi.ListMetricsOutput, error) {
	if len(in.Dimensions) > 10 {
		return nil, errTooMany("Dimensions", 10)
	}
	for i, f := range in.Dimensions {
		if f.Name == nil {
			return nil, errMissing("The parameter Dimensions.member.%d.Name is required.", i+1)
		}
	}
	window := listWindow
	if in.RecentlyActive != nil {
		if *in.RecentlyActive != "PT3H" {
			return nil, errValue("The value %s for parameter RecentlyActive is invalid. The only valid value is PT3H.", *in.RecentlyActive)
		}
		window = recentWindow
	}
	after, ok := api.ParsePageToken("ListMetrics", in.NextToken)
	if !ok {
		return nil, errValue("The value for parameter NextToken is invalid.")
	}
	since := s.now().Add(-window)
	out := &cloudwatchapi.ListMetricsOutput{Metrics: []cloudwatchapi.Metric{}}
	lastKey := ""
	for _, mi := range s.store.Metrics(scopeOf(ctx)) {
		m := mi.Metric
		if mi.LastPut.Before(since) || !matches(m, in) || (after != "" && m.Key() <= after) {
			continue
		}
		if len(out.Metrics) == listPage {
			out.NextToken = api.PageToken("ListMetrics", lastKey)
			break
		}
		out.Metrics = append(out.Metrics, cloudwatchapi.Metric{Namespace: ptr(m.Namespace), MetricName: ptr(m.Name), Dimensions: apiDims(m.Dims)})
		lastKey = m.Key()
	}
	return out, nil
}

// matches applies ListMetrics' filters: a dimension filter without a
// value matches any value of that name.
func matches(m metrics.Metric, in *cloudwatchapi.ListMetricsInput) bool {
	if in.Namespace != nil && m.Namespace != *in.Namespace || in.MetricName != nil && m.Name != *in.MetricName {
		return false
	}
	for _, f := range in.Dimensions {
		found := false
		for _, d := range m.Dims {
			if d.Name == *f.Name && (f.Value == nil || d.Value == *f.Value) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
