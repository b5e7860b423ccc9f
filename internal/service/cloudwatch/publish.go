package cloudwatch

import (
	"context"
	"fmt"

	"github.com/minicloud/minicloud/internal/metricport"
	"github.com/minicloud/minicloud/internal/metrics"
)

// Publisher is where the data planes publish the built-in metrics
// (AWS/EC2, AWS/ApplicationELB…): straight to the store, as AWS's
// services do — the API refuses AWS/ namespaces to clients only.
func (s *Service) Publisher() metricport.Publisher { return publisher{s.store} }

type publisher struct{ store *metrics.Store }

func (p publisher) Publish(ctx context.Context, account, region string, data []metricport.Datum) error {
	samples := make([]metrics.Sample, len(data))
	for i, d := range data {
		dims := make([]metrics.Dim, len(d.Dims))
		for j, dm := range d.Dims {
			dims[j] = metrics.Dim{Name: dm.Name, Value: dm.Value}
		}
		metrics.SortDims(dims)
		samples[i] = metrics.Sample{Metric: metrics.Metric{Namespace: d.Namespace, Name: d.Name, Dims: dims},
			Unit: d.Unit, Time: d.Time, Values: []float64{d.Value}}
	}
	if err := p.store.Put(ctx, metrics.Scope{Account: account, Region: region}, samples); err != nil {
		return fmt.Errorf("cloudwatch: publish %d datapoints: %w", len(data), err)
	}
	return nil
}
