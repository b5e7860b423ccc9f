package nodes

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/lb"
	"github.com/minicloud/minicloud/internal/metricport"
)

// The AWS/ApplicationELB metrics: every interval the nodes' counters are
// summed per load balancer (and per zone, and per target group), and what
// they grew by since the last reading is published with AWS's dimensions
// — LoadBalancer "app/<name>/<id>", TargetGroup "targetgroup/<name>/<id>",
// AvailabilityZone — stamped at the start of the interval. As AWS's, a
// count is published only when it is not zero (no requests, no
// datapoints); gauges (ActiveConnectionCount, HealthyHostCount,
// UnHealthyHostCount) are the current value, the host counts always.
// TargetResponseTime is the interval's average in seconds, and
// RequestCountPerTarget a target group's requests over its healthy targets
// (or all its targets when none is healthy).

const namespaceALB = "AWS/ApplicationELB"

// gauges are the counters that are a current value, not a total.
var gauges = map[string]bool{
	"ActiveConnectionCount":     true,
	lb.MetricHealthyHostCount:   true,
	lb.MetricUnHealthyHostCount: true,
}

// Start starts publishing the load balancers' metrics, when the data plane
// has a publisher.
func (d *Dataplane) Start(context.Context) error {
	if d == nil || d.cfg.Metrics == nil {
		return nil
	}
	interval := metricport.Interval(d.cfg.MetricsInterval)
	d.pub.Start(interval, func(ctx context.Context, now time.Time) { d.publish(ctx, now.Add(-interval)) })
	return nil
}

// publish reads every load balancer's counters and publishes what they
// grew by, stamped at.
func (d *Dataplane) publish(ctx context.Context, at time.Time) {
	type lbNodes struct {
		account, region string
		nodes           []nodeCounters
	}
	d.mu.Lock()
	all := make(map[string]lbNodes, len(d.lbs))
	for arn, b := range d.lbs {
		var ns []nodeCounters
		for _, n := range b.nodes {
			ns = append(ns, nodeCounters{id: n.eni.ID, az: n.az, c: n.lb})
		}
		all[arn] = lbNodes{b.account, b.region, ns}
	}
	d.mu.Unlock()
	seen := map[string]bool{}
	// Every load balancer is read first, then one Publish (one log
	// fsync) per account and region.
	batches := metricport.Batches{}
	for arn, b := range all {
		batches.Add(b.account, b.region, albData(&d.deltas, seen, arn, at, b.nodes)...)
	}
	d.deltas.Forget(func(k string) bool { return seen[k] })
	batches.Publish(ctx, d.cfg.Metrics, d.log, "load balancer metrics")
}

// nodeCounters is a node as the metrics read it.
type nodeCounters struct {
	id string // its ENI
	az string
	c  interface{ Counters() lb.Counters }
}

// albData is one load balancer's datapoints: what each node's counters
// grew by since the last reading, or since the node started (through
// deltas, keyed by node, so a node that restarts or goes away does not
// skew the others; every key used is added to seen), summed per dimension
// set.
func albData(deltas *metricport.Deltas[string], seen map[string]bool, arn string, at time.Time, nodes []nodeCounters) []metricport.Datum {
	lbDim := metricport.Dim{Name: "LoadBalancer", Value: lbDimension(arn)}
	sums := map[string]*sum{} // by dimension key
	// A node's counters are cumulative from zero since it started (and a
	// reading leaves zero counters out): a counter first seen counts from
	// zero, so requests before a node's first reading are not lost.
	delta := func(node, k, name string, v float64) float64 {
		key := node + "\x00" + k + "\x00" + name
		seen[key] = true
		return deltas.Delta(key, v)
	}
	add := func(node string, dims []metricport.Dim, s lb.Stats) {
		k := dimKey(dims)
		t := sums[k]
		if t == nil {
			t = &sum{dims: dims, counts: map[string]float64{}}
			sums[k] = t
		}
		for name, v := range s.Counts {
			if gauges[name] {
				// Every node checks every target: the same hosts.
				t.counts[name] = max(t.counts[name], float64(v))
			} else {
				t.counts[name] += delta(node, k, name, float64(v))
			}
		}
		t.rtSum += delta(node, k, "rtSum", s.TargetResponseTime.Sum.Seconds())
		t.rtCount += delta(node, k, "rtCount", float64(s.TargetResponseTime.Count))
	}
	for _, n := range nodes {
		c := n.c.Counters()
		add(n.id, []metricport.Dim{lbDim}, c.LoadBalancer)
		if n.az != "" {
			add(n.id, []metricport.Dim{lbDim, {Name: "AvailabilityZone", Value: n.az}}, c.LoadBalancer)
		}
		for tg, s := range c.TargetGroups {
			add(n.id, []metricport.Dim{lbDim, {Name: "TargetGroup", Value: tgDimension(tg)}}, s)
		}
	}
	var out []metricport.Datum
	datum := func(dims []metricport.Dim, name, unit string, v float64) {
		out = append(out, metricport.Datum{Namespace: namespaceALB, Name: name, Dims: dims, Unit: unit, Time: at, Value: v})
	}
	for _, k := range slices.Sorted(maps.Keys(sums)) {
		t := sums[k]
		for _, name := range slices.Sorted(maps.Keys(t.counts)) {
			switch v := t.counts[name]; {
			case name == "ActiveConnectionCount" && v == 0:
			case gauges[name]:
				datum(t.dims, name, "Count", v)
			case v > 0:
				datum(t.dims, name, unitOf(name), v)
			}
		}
		if t.rtCount > 0 {
			datum(t.dims, lb.MetricTargetResponseTime, "Seconds", t.rtSum/t.rtCount)
		}
		if tg := dimValue(t.dims, "TargetGroup"); tg != "" && t.counts["RequestCount"] > 0 {
			hosts := t.counts[lb.MetricHealthyHostCount]
			if hosts == 0 { // none healthy: over every registered target
				hosts = t.counts[lb.MetricUnHealthyHostCount]
			}
			if hosts > 0 {
				per := t.counts["RequestCount"] / hosts
				datum(t.dims, "RequestCountPerTarget", "Count", per)
				datum([]metricport.Dim{{Name: "TargetGroup", Value: tg}}, "RequestCountPerTarget", "Count", per)
			}
		}
	}
	return out
}

// sum is one dimension set's counters summed over nodes.
type sum struct {
	dims           []metricport.Dim
	counts         map[string]float64
	rtSum, rtCount float64
}

// unitOf is a count metric's unit.
func unitOf(name string) string {
	if name == "ProcessedBytes" {
		return "Bytes"
	}
	return "Count"
}

func dimKey(dims []metricport.Dim) string {
	var b strings.Builder
	for _, d := range dims {
		b.WriteString(d.Name + "=" + d.Value + ";")
	}
	return b.String()
}

func dimValue(dims []metricport.Dim, name string) string {
	for _, d := range dims {
		if d.Name == name {
			return d.Value
		}
	}
	return ""
}

// lbDimension is CloudWatch's LoadBalancer dimension of an ARN:
// "app/<name>/<id>".
func lbDimension(arn string) string {
	_, after, ok := strings.Cut(arn, ":loadbalancer/")
	if !ok {
		return arn
	}
	return after
}

// tgDimension is CloudWatch's TargetGroup dimension of an ARN:
// "targetgroup/<name>/<id>".
func tgDimension(arn string) string {
	if i := strings.Index(arn, ":targetgroup/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}
