package controller

import (
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/metricport"
	"github.com/minicloud/minicloud/internal/vpcnet"
	"github.com/minicloud/minicloud/internal/workload"
)

func TestClassShape(t *testing.T) {
	t.Parallel()
	const gib = 1 << 30
	for _, tc := range []struct {
		class string
		vcpus int
		mem   int64
	}{
		{"db.t3.micro", 2, 1 * gib},
		{"db.t4g.medium", 2, 4 * gib},
		{"db.t3.xlarge", 4, 16 * gib},
		{"db.t3.2xlarge", 8, 32 * gib},
		{"db.m5.large", 2, 8 * gib},
		{"db.m6i.4xlarge", 16, 64 * gib},
		{"db.r6g.large", 2, 16 * gib},
		{"db.r5.24xlarge", 96, 768 * gib},
		{"db.x2g.large", 2, 32 * gib},
		{"nonsense", 2, 4 * gib},
		{"db.m5.hugexlarge", 2, 4 * gib},
	} {
		if v, m := classShape(tc.class); v != tc.vcpus || m != tc.mem {
			t.Errorf("classShape(%q) = %d vCPUs, %d GiB; want %d, %d GiB", tc.class, v, m>>30, tc.vcpus, tc.mem>>30)
		}
	}
}

// rdsData: the gauges from one reading, CPU and rates from two, each
// under the instance's dimension and the two aggregate ones.
func TestRDSData(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 7, 12, 16, 0, 0, 0, time.UTC)
	at := t0.Add(-time.Minute)
	lag := 1500 * time.Millisecond
	base := usageSample{at: t0, u: workload.Usage{CPU: 10 * time.Second, Memory: 100 << 20,
		Net: vpcnet.InterfaceCounters{RxBytes: 1000, TxBytes: 2000},
		IO:  &workload.IOCounters{ReadBytes: 4096, WriteBytes: 8192, ReadOps: 1, WriteOps: 2}}}
	// A minute later: 30 s of CPU (a quarter of 2 vCPUs), 200 MiB held,
	// 60 KB in and 120 KB out, 60 reads and 120 writes of 4 KiB.
	next := usageSample{at: t0.Add(time.Minute), u: workload.Usage{CPU: 40 * time.Second, Memory: 200 << 20,
		Net: vpcnet.InterfaceCounters{RxBytes: 61000, TxBytes: 122000},
		IO:  &workload.IOCounters{ReadBytes: 4096 + 60*4096, WriteBytes: 8192 + 120*4096, ReadOps: 61, WriteOps: 122}}}
	reading := func(f func(r *instanceReading)) instanceReading {
		r := instanceReading{ID: "db1", Class: "db.t3.micro", Engine: "postgres", VCPUs: 2, Memory: 1 << 30,
			Allocated: 20 << 30, Connections: 5, Used: 1 << 30, Cur: &next, Prev: &base, Placed: true}
		if f != nil {
			f(&r)
		}
		return r
	}
	for _, tc := range []struct {
		name string
		r    instanceReading
		want map[string]float64 // by metric name
	}{
		{"two readings", reading(nil), map[string]float64{
			"DatabaseConnections": 5, "FreeStorageSpace": 19 << 30, "FreeableMemory": (1 << 30) - (200 << 20),
			"CPUUtilization": 25, "ReadIOPS": 1, "WriteIOPS": 2, "ReadThroughput": 4096, "WriteThroughput": 8192,
			"NetworkReceiveThroughput": 1000, "NetworkTransmitThroughput": 2000}},
		{"first reading: gauges only", reading(func(r *instanceReading) { r.Prev = nil }), map[string]float64{
			"DatabaseConnections": 5, "FreeStorageSpace": 19 << 30, "FreeableMemory": (1 << 30) - (200 << 20)}},
		{"replica", reading(func(r *instanceReading) { r.Prev, r.Lag = nil, &lag }), map[string]float64{
			"DatabaseConnections": 5, "FreeStorageSpace": 19 << 30, "FreeableMemory": (1 << 30) - (200 << 20), "ReplicaLag": 1.5}},
		{"unknowns left out", reading(func(r *instanceReading) { r.Connections, r.Used, r.Cur = -1, -1, nil }), map[string]float64{}},
		{"no block I/O accounting, not placed", reading(func(r *instanceReading) {
			r.Placed = false
			cur, prev := *r.Cur, *r.Prev
			cur.u.IO, prev.u.IO = nil, nil
			r.Cur, r.Prev = &cur, &prev
		}), map[string]float64{"DatabaseConnections": 5, "FreeStorageSpace": 19 << 30, "FreeableMemory": (1 << 30) - (200 << 20), "CPUUtilization": 25}},
		{"bounds: no vCPUs count as one, no negative free space or memory", reading(func(r *instanceReading) {
			r.VCPUs, r.Used, r.Allocated, r.Memory = 0, 30<<30, 20<<30, 100<<20
		}), map[string]float64{
			"DatabaseConnections": 5, "FreeStorageSpace": 0, "FreeableMemory": 0, "CPUUtilization": 50,
			"ReadIOPS": 1, "WriteIOPS": 2, "ReadThroughput": 4096, "WriteThroughput": 8192,
			"NetworkReceiveThroughput": 1000, "NetworkTransmitThroughput": 2000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := rdsData(tc.r, at)
			byDims := map[string]map[string]metricport.Datum{}
			for _, d := range data {
				if d.Namespace != "AWS/RDS" || !d.Time.Equal(at) || len(d.Dims) != 1 {
					t.Fatalf("datum %+v: want AWS/RDS at %s with one dimension", d, at)
				}
				k := d.Dims[0].Name + "=" + d.Dims[0].Value
				if byDims[k] == nil {
					byDims[k] = map[string]metricport.Datum{}
				}
				byDims[k][d.Name] = d
			}
			if len(tc.want) == 0 {
				if len(data) != 0 {
					t.Fatalf("got %d datapoints, want none", len(data))
				}
				return
			}
			dims := slices.Sorted(maps.Keys(byDims))
			if want := []string{"DBInstanceIdentifier=db1", "DatabaseClass=db.t3.micro", "EngineName=postgres"}; !slices.Equal(dims, want) {
				t.Fatalf("dimensions %v, want %v", dims, want)
			}
			for k, got := range byDims {
				if names, want := slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(tc.want)); !slices.Equal(names, want) {
					t.Fatalf("%s: metrics %v, want %v", k, names, want)
				}
				for name, v := range tc.want {
					if d := got[name]; math.Abs(d.Value-v) > 1e-6 {
						t.Errorf("%s %s = %v, want %v", k, name, d.Value, v)
					}
				}
			}
			units := map[string]string{"CPUUtilization": "Percent", "DatabaseConnections": "Count", "FreeableMemory": "Bytes",
				"FreeStorageSpace": "Bytes", "ReplicaLag": "Seconds", "ReadIOPS": "Count/Second", "WriteIOPS": "Count/Second",
				"ReadThroughput": "Bytes/Second", "WriteThroughput": "Bytes/Second",
				"NetworkReceiveThroughput": "Bytes/Second", "NetworkTransmitThroughput": "Bytes/Second"}
			for _, d := range data {
				if d.Unit != units[d.Name] {
					t.Errorf("%s: unit %q, want %q", d.Name, d.Unit, units[d.Name])
				}
			}
		})
	}
}

func TestDirSize(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "data", "base"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, n := range map[string]int{"postgresql.log": 100, "data/base/1": 4096, "data/base/2": 8192} {
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, n), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if got := dirSize(dir); got != 100+4096+8192 {
		t.Errorf("dirSize = %d, want %d", got, 100+4096+8192)
	}
}
