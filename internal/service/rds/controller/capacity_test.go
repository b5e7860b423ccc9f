package controller

import (
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/metricport"
)

// nextCapacity over a sequence of readings: up fast when busy (twice in a
// row), down one step after three quiet readings, never under the memory
// held, always inside the range (a new range at once).
func TestNextCapacity(t *testing.T) {
	t.Parallel()
	const mib = 1 << 20
	type reading struct {
		cores  float64 // CPU used, in cores
		mem    uint64
		lo, hi float64
		want   float64
	}
	for _, tc := range []struct {
		name  string
		start float64
		reads []reading
	}{
		{"throttled CPU doubles after two readings", 0.5, []reading{
			{0.125, 0, 0.5, 4, 0.5}, {0.125, 0, 0.5, 4, 1}, {0.25, 0, 0.5, 4, 1}, {0.25, 0, 0.5, 4, 2},
			{0.5, 0, 0.5, 4, 2}, {0.5, 0, 0.5, 4, 4}, {1, 0, 0.5, 4, 4},
		}},
		{"one busy reading is not enough", 1, []reading{
			{0.25, 0, 0.5, 4, 1}, {0.05, 0, 0.5, 4, 1}, {0.25, 0, 0.5, 4, 1},
		}},
		{"memory pressure scales to bring use to half", 1, []reading{
			{0, 1843 * mib, 0.5, 8, 1}, {0, 1843 * mib, 0.5, 8, 2},
		}},
		{"down one step per three quiet readings", 2, []reading{
			{0, 0, 0.5, 4, 2}, {0, 0, 0.5, 4, 2}, {0, 0, 0.5, 4, 1.5},
			{0, 0, 0.5, 4, 1.5}, {0, 0, 0.5, 4, 1.5}, {0, 0, 0.5, 4, 1},
		}},
		{"not below the memory held", 1, []reading{
			{0, 922 * mib, 0.5, 4, 1}, {0, 922 * mib, 0.5, 4, 1}, {0, 922 * mib, 0.5, 4, 1},
		}},
		{"a new range applies at once", 4, []reading{
			{1, 0, 0.5, 2, 2}, {0, 0, 3, 8, 3},
		}},
		{"never under 0.5", 0.5, []reading{
			{0, 0, 0.5, 1, 0.5}, {0, 0, 0.5, 1, 0.5}, {0, 0, 0.5, 1, 0.5},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &sizing{acu: tc.start}
			for i, r := range tc.reads {
				s.acu = s.nextCapacity(r.cores, r.mem, r.lo, r.hi)
				if s.acu != r.want {
					t.Fatalf("reading %d (%.3f cores, %d MiB, range %.1f-%.1f): %.1f ACU, want %.1f", i, r.cores, r.mem>>20, r.lo, r.hi, s.acu, r.want)
				}
			}
		})
	}
}

// A class's limits are its shape capped at the host; a capacity's are 2
// GiB and a quarter of a CPU per ACU, capped likewise.
func TestLimits(t *testing.T) {
	t.Parallel()
	cpus, mem := hostShape()
	if l := classLimits("db.t3.micro"); l.VCPUs != int32(min(2, cpus)) || l.MemoryMiB != min(1024, mem) {
		t.Errorf("db.t3.micro: %+v", l)
	}
	if l := classLimits("db.r5.24xlarge"); int64(l.VCPUs) != min(96, cpus) || l.MemoryMiB != min(768<<10, mem) {
		t.Errorf("db.r5.24xlarge: %+v, want the host's %d CPUs, %d MiB at most", l, cpus, mem)
	}
	if l := acuLimits(0.5); l.MilliCPUs != 125 || l.MemoryMiB != min(1024, mem) {
		t.Errorf("0.5 ACU: %+v", l)
	}
	if l := acuLimits(256); l.MilliCPUs != min(64000, cpus*1000) || l.MemoryMiB != min(512<<10, mem) {
		t.Errorf("256 ACU: %+v", l)
	}
}

// serverlessData: capacity and its share of the maximum, per instance and
// per cluster; nothing for a class.
func TestServerlessData(t *testing.T) {
	t.Parallel()
	at := time.Unix(1700000000, 0)
	if d := serverlessData(instanceReading{ID: "db1", Cluster: "c1"}, at); d != nil {
		t.Errorf("a class's reading gave %v", d)
	}
	got := map[string]float64{}
	for _, d := range serverlessData(instanceReading{ID: "db1", Cluster: "c1", Capacity: 1.5, MaxACU: 4}, at) {
		if d.Namespace != "AWS/RDS" || !d.Time.Equal(at) || len(d.Dims) != 1 {
			t.Errorf("datum %+v", d)
		}
		got[d.Name+" "+d.Unit+" "+dimString(d.Dims)] = d.Value
	}
	want := map[string]float64{
		"ServerlessDatabaseCapacity Count DBInstanceIdentifier=db1": 1.5,
		"ACUUtilization Percent DBInstanceIdentifier=db1":           37.5,
		"ServerlessDatabaseCapacity Count DBClusterIdentifier=c1":   1.5,
		"ACUUtilization Percent DBClusterIdentifier=c1":             37.5,
	}
	if len(got) != len(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

func dimString(ds []metricport.Dim) string {
	s := ""
	for _, d := range ds {
		s += d.Name + "=" + d.Value
	}
	return s
}
