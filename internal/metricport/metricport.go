// Package metricport is CloudWatch as the data planes see it: where the
// metrics minicloud publishes itself on AWS's namespaces (AWS/EC2,
// AWS/ApplicationELB…) go. CloudWatch implements Publisher
// (cloudwatch.Service.Publisher), writing to its store directly — past the
// API's refusal of the AWS/ namespaces, which is for clients; the server
// hands each data plane the publisher at construction, so no data plane
// imports CloudWatch or its store.
//
// The package also holds what every publisher shares: the interval they
// publish at (Interval), the differences of cumulative counters (Deltas)
// and the ticker (Loop).
package metricport

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Publisher takes datapoints of built-in metrics.
type Publisher interface {
	// Publish stores data as the account's in region; it returns once
	// they are stored.
	Publish(ctx context.Context, account, region string, data []Datum) error
}

// Datum is one datapoint: one value, at standard resolution, as AWS's
// services publish theirs.
type Datum struct {
	Namespace, Name string
	// Dims in any order.
	Dims  []Dim
	Unit  string // CloudWatch's unit name: Percent, Bytes, Count, Seconds…
	Time  time.Time
	Value float64
}

// Dim is a dimension.
type Dim struct{ Name, Value string }

// DefaultInterval is how often AWS's services publish: every minute
// (detailed monitoring; basic monitoring is every BasicPeriods intervals).
const DefaultInterval = time.Minute

// BasicPeriods is how many intervals make a period of basic monitoring:
// five minutes at the default interval.
const BasicPeriods = 5

// Interval is d, or DefaultInterval when d is not positive. A shorter
// interval is a test hook (server.Config.MetricsInterval,
// `serve --metrics-interval`): the data are stamped and stored as ever,
// only more often.
func Interval(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultInterval
	}
	return d
}

// Deltas turns cumulative counters into what a period adds: the
// difference from the previous reading of the same key, or the reading
// itself when the counter went back (its source restarted). Counters are
// taken to start at zero: a key's first reading is all increase, so what
// came before a source was first read is not lost (sources that leave
// zero counters out of a reading need no baseline either).
type Deltas[K comparable] struct{ last map[K]float64 }

// Delta records v for k and returns the increase since the last reading.
func (d *Deltas[K]) Delta(k K, v float64) float64 {
	if d.last == nil {
		d.last = map[K]float64{}
	}
	prev := d.last[k]
	d.last[k] = v
	if v < prev {
		return v
	}
	return v - prev
}

// Forget drops the keys keep rejects (resources that are gone).
func (d *Deltas[K]) Forget(keep func(K) bool) {
	for k := range d.last {
		if !keep(k) {
			delete(d.last, k)
		}
	}
}

// Loop runs a publisher's readings on a ticker in a goroutine of its own.
// The zero Loop is stopped; Start and Stop may be called in any order,
// and more than once.
type Loop struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// Start calls read every interval (with the tick's time) until Stop; a
// running loop is left as it is.
func (l *Loop) Start(interval time.Duration, read func(ctx context.Context, now time.Time)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel, l.done = cancel, make(chan struct{})
	go func(done chan struct{}) {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				read(ctx, now)
			}
		}
	}(l.done)
}

// Stop stops the loop and waits for a reading in progress.
func (l *Loop) Stop() {
	l.mu.Lock()
	cancel, done := l.cancel, l.done
	l.cancel, l.done = nil, nil
	l.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// Batches gathers a publisher's datapoints of one reading by account and
// region, so that it publishes them in one Publish (one write of the
// store's log) per scope rather than one per resource.
type Batches map[[2]string][]Datum

// Add appends data to the account's batch in region.
func (b Batches) Add(account, region string, data ...Datum) {
	k := [2]string{account, region}
	b[k] = append(b[k], data...)
}

// Publish publishes every non-empty batch through p; a failure is logged
// with what (e.g. "instance metrics"): the next reading publishes anew.
func (b Batches) Publish(ctx context.Context, p Publisher, log *slog.Logger, what string) {
	for k, data := range b {
		if len(data) == 0 {
			continue
		}
		if err := p.Publish(ctx, k[0], k[1], data); err != nil {
			log.Warn("publish "+what, "account", k[0], "region", k[1], "err", err)
		}
	}
}
