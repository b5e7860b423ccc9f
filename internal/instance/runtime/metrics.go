package runtime

import (
	"context"
	"sync"
	"time"

	"github.com/minicloud/minicloud/internal/metricport"
	"github.com/minicloud/minicloud/internal/service/ec2"
	"github.com/minicloud/minicloud/internal/workload"
)

// The AWS/EC2 metrics of running instances, as EC2's monitoring publishes
// them: every period, with dimension InstanceId, CPUUtilization (the CPU
// time of the instance's cgroup over the period, in percent of its vCPUs),
// NetworkIn/NetworkOut (bytes over its interfaces in the period) and
// NetworkPacketsIn/Out, stamped at the period's start. The period is five
// intervals (five minutes) under basic monitoring and one (a minute) under
// detailed monitoring. StatusCheckFailed, _Instance and _System are
// published every interval whatever the monitoring, as AWS's status checks
// are: 0 while the instance's init runs (a guest that died is not
// running, and is restarted or reported by the worker).

// meter follows the running instances' usage.
type meter struct {
	loop metricport.Loop
	mu   sync.Mutex
	vms  map[instKey]*metered
}

// metered is one running instance's measuring.
type metered struct {
	vcpus    int32
	detailed bool
	// since is when the usage base was read (zero until the first
	// reading), and mark the start of the period the reading fell in,
	// by the tick's time: the datapoints of the period are stamped at
	// mark, on the period's boundaries as AWS's.
	since, mark time.Time
	base        workload.Usage
}

// running starts, or updates, measuring the instance spec describes.
func (m *meter) running(k instKey, spec *ec2.InstanceSpec) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.vms == nil {
		m.vms = map[instKey]*metered{}
	}
	v := m.vms[k]
	if v == nil {
		v = &metered{}
		m.vms[k] = v
	}
	v.vcpus, v.detailed = max(spec.VCPUs, 1), spec.DetailedMonitoring
}

// stopped ends measuring the instance.
func (m *meter) stopped(k instKey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.vms, k)
}

// startMetrics starts publishing, when the runtime has a publisher.
func (r *Runtime) startMetrics() {
	if r.cfg.Metrics == nil {
		return
	}
	interval := metricport.Interval(r.cfg.MetricsInterval)
	r.meter.loop.Start(interval, func(ctx context.Context, now time.Time) { r.publish(ctx, now, interval) })
}

// publish takes a reading of every running instance, and then publishes
// the datapoints of those whose period ended, one Publish (one log fsync)
// per account and region rather than one per instance.
func (r *Runtime) publish(ctx context.Context, now time.Time, interval time.Duration) {
	m := &r.meter
	m.mu.Lock()
	vms := make(map[instKey]metered, len(m.vms))
	for k, v := range m.vms {
		vms[k] = *v
	}
	m.mu.Unlock()
	batches := metricport.Batches{}
	for k, v := range vms {
		data, next := reading(k, v, now, interval, r.usage)
		m.mu.Lock()
		if cur := m.vms[k]; cur != nil {
			cur.since, cur.mark, cur.base = next.since, next.mark, next.base
		}
		m.mu.Unlock()
		batches.Add(k.account, k.region, data...)
	}
	batches.Publish(ctx, r.cfg.Metrics, r.log, "instance metrics")
}

// usage reads an instance's usage and when it was read.
func (r *Runtime) usage(id string) (workload.Usage, time.Time, error) {
	u, err := r.wl.Usage(id)
	if err != nil {
		r.log.Debug("instance usage", "instance", id, "err", err)
	}
	return u, time.Now(), err
}

// reading is one tick (at now) of an instance: its datapoints and its
// measuring after. The usage is read (through usage, which tells when)
// at the first tick and at the first tick of each period (five intervals
// under basic monitoring, one under detailed, aligned as time.Truncate
// aligns, so on :00/:05 for five minutes); the period's CPU is the CPU
// time between two readings over the time between them, and its
// datapoints are stamped at the start of the period the earlier reading
// fell in.
func reading(k instKey, v metered, now time.Time, interval time.Duration, usage func(id string) (workload.Usage, time.Time, error)) ([]metricport.Datum, metered) {
	dims := []metricport.Dim{{Name: "InstanceId", Value: k.id}}
	stamp := now.Add(-interval).Truncate(interval)
	var data []metricport.Datum
	for _, name := range []string{"StatusCheckFailed", "StatusCheckFailed_Instance", "StatusCheckFailed_System"} {
		data = append(data, metricport.Datum{Namespace: "AWS/EC2", Name: name, Dims: dims, Unit: "Count", Time: stamp, Value: 0})
	}
	period := interval * metricport.BasicPeriods
	if v.detailed {
		period = interval
	}
	mark := now.Truncate(period)
	if !v.since.IsZero() && mark.Equal(v.mark) {
		return data, v // the period goes on
	}
	u, at, err := usage(k.id)
	if err != nil {
		return data, v
	}
	if !v.since.IsZero() && at.After(v.since) {
		data = append(data, ec2Usage(dims, v.mark, at.Sub(v.since), v.vcpus, v.base, u)...)
	}
	return data, metered{vcpus: v.vcpus, detailed: v.detailed, since: at, mark: mark, base: u}
}

// ec2Usage is the AWS/EC2 datapoints of what an instance with vcpus used
// from base to u, over elapsed, stamped at.
func ec2Usage(dims []metricport.Dim, at time.Time, elapsed time.Duration, vcpus int32, base, u workload.Usage) []metricport.Datum {
	cpu := 100 * float64(u.CPU-base.CPU) / (float64(elapsed) * float64(vcpus))
	counter := func(now, then uint64) float64 {
		if now < then { // the interfaces were made again
			return float64(now)
		}
		return float64(now - then)
	}
	d := func(name, unit string, v float64) metricport.Datum {
		return metricport.Datum{Namespace: "AWS/EC2", Name: name, Dims: dims, Unit: unit, Time: at, Value: v}
	}
	return []metricport.Datum{
		d("CPUUtilization", "Percent", min(max(cpu, 0), 100)),
		d("NetworkIn", "Bytes", counter(u.Net.RxBytes, base.Net.RxBytes)),
		d("NetworkOut", "Bytes", counter(u.Net.TxBytes, base.Net.TxBytes)),
		d("NetworkPacketsIn", "Count", counter(u.Net.RxPackets, base.Net.RxPackets)),
		d("NetworkPacketsOut", "Count", counter(u.Net.TxPackets, base.Net.TxPackets)),
	}
}
