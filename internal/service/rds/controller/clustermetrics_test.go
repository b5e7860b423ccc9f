package controller

import (
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/metricport"
	"github.com/minicloud/minicloud/internal/workload"
)

// A cluster member's reading: a reader's lag as AuroraReplicaLag in
// milliseconds (not ReplicaLag), the writer's AuroraReplicaLagMaximum and
// Minimum over its readers' lags under its instance and its cluster, and
// CPU and connections under the cluster with and without the role.
func TestClusterData(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 7, 12, 16, 0, 0, 0, time.UTC)
	at := t0.Add(-time.Minute)
	prev := usageSample{at: t0, u: workload.Usage{CPU: 10 * time.Second}}
	cur := usageSample{at: t0.Add(time.Minute), u: workload.Usage{CPU: 40 * time.Second}}
	lag := 1500 * time.Microsecond
	member := func(id, role string, f func(r *instanceReading)) instanceReading {
		r := instanceReading{ID: id, Class: "db.r6g.large", Engine: "aurora-postgresql", VCPUs: 2, Connections: 3, Used: -1,
			Prev: &prev, Cur: &cur, Cluster: "orders", Role: role}
		if f != nil {
			f(&r)
		}
		return r
	}
	for _, tc := range []struct {
		name string
		r    instanceReading
		want map[string]float64 // by metric name and dimensions
	}{
		{"reader", member("orders-2", "READER", func(r *instanceReading) { r.Lag = &lag }), map[string]float64{
			"AuroraReplicaLag DBInstanceIdentifier=orders-2":             1.5,
			"CPUUtilization DBClusterIdentifier=orders,Role=READER":      25,
			"DatabaseConnections DBClusterIdentifier=orders,Role=READER": 3,
			"CPUUtilization DBClusterIdentifier=orders":                  25,
			"DatabaseConnections DBClusterIdentifier=orders":             3,
		}},
		{"writer with two readers measured", member("orders-1", "WRITER", func(r *instanceReading) {
			r.ReaderLags = []time.Duration{4 * time.Millisecond, 250 * time.Microsecond}
		}), map[string]float64{
			"AuroraReplicaLagMaximum DBInstanceIdentifier=orders-1":      4,
			"AuroraReplicaLagMinimum DBInstanceIdentifier=orders-1":      0.25,
			"AuroraReplicaLagMaximum DBClusterIdentifier=orders":         4,
			"AuroraReplicaLagMinimum DBClusterIdentifier=orders":         0.25,
			"CPUUtilization DBClusterIdentifier=orders,Role=WRITER":      25,
			"DatabaseConnections DBClusterIdentifier=orders,Role=WRITER": 3,
			"CPUUtilization DBClusterIdentifier=orders":                  25,
			"DatabaseConnections DBClusterIdentifier=orders":             3,
		}},
		{"writer, no reader measured, first reading", member("orders-1", "WRITER", func(r *instanceReading) { r.Prev = nil }), map[string]float64{
			"DatabaseConnections DBClusterIdentifier=orders,Role=WRITER": 3,
			"DatabaseConnections DBClusterIdentifier=orders":             3,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]metricport.Datum{}
			for _, d := range rdsData(tc.r, at) {
				var dims []string
				for _, dim := range d.Dims {
					dims = append(dims, dim.Name+"="+dim.Value)
				}
				// The instance's other datapoints and the aggregate ones
				// are TestRDSData's.
				if key := strings.Join(dims, ","); !strings.HasPrefix(key, "DBClusterIdentifier=") &&
					!(strings.HasPrefix(d.Name, "Aurora") && strings.HasPrefix(key, "DBInstanceIdentifier=")) {
					continue
				}
				if d.Name == "ReplicaLag" {
					t.Errorf("a cluster member published ReplicaLag: %+v", d)
				}
				got[d.Name+" "+strings.Join(dims, ",")] = d
			}
			if g, w := slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(tc.want)); !slices.Equal(g, w) {
				t.Fatalf("datapoints %v, want %v", g, w)
			}
			for k, v := range tc.want {
				d := got[k]
				if math.Abs(d.Value-v) > 1e-9 || !d.Time.Equal(at) || d.Namespace != "AWS/RDS" {
					t.Errorf("%s = %v at %s in %s, want %v at %s", k, d.Value, d.Time, d.Namespace, v, at)
				}
				if strings.HasPrefix(k, "Aurora") && d.Unit != "Milliseconds" {
					t.Errorf("%s: unit %q, want Milliseconds", k, d.Unit)
				}
			}
		})
	}
}
