package runtime

import (
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/metricport"
	"github.com/minicloud/minicloud/internal/vpcnet"
	"github.com/minicloud/minicloud/internal/workload"
)

// TestEC2Usage checks the AWS/EC2 datapoints made of two readings of an
// instance's usage: CPU time as a percentage of its vCPUs over the period,
// network counters as differences.
func TestEC2Usage(t *testing.T) {
	base := workload.Usage{CPU: 10 * time.Second, Net: vpcnet.InterfaceCounters{RxBytes: 1000, TxBytes: 500, RxPackets: 10, TxPackets: 5}}
	tests := []struct {
		name    string
		elapsed time.Duration
		vcpus   int32
		u       workload.Usage
		want    map[string]float64
	}{
		{"one vCPU busy for the minute", time.Minute, 1, workload.Usage{CPU: 70 * time.Second, Net: base.Net},
			map[string]float64{"CPUUtilization": 100, "NetworkIn": 0, "NetworkOut": 0}},
		{"one of two vCPUs busy", time.Minute, 2, workload.Usage{CPU: 70 * time.Second, Net: vpcnet.InterfaceCounters{RxBytes: 4000, TxBytes: 600, RxPackets: 13, TxPackets: 6}},
			map[string]float64{"CPUUtilization": 50, "NetworkIn": 3000, "NetworkOut": 100, "NetworkPacketsIn": 3, "NetworkPacketsOut": 1}},
		{"idle for five minutes", 5 * time.Minute, 2, workload.Usage{CPU: 13 * time.Second, Net: base.Net},
			map[string]float64{"CPUUtilization": 0.5}},
		{"more CPU than the period (a late tick): capped", time.Second, 1, workload.Usage{CPU: 12 * time.Second, Net: base.Net},
			map[string]float64{"CPUUtilization": 100}},
		{"interfaces made again: counters restart", time.Minute, 1, workload.Usage{CPU: 10 * time.Second, Net: vpcnet.InterfaceCounters{RxBytes: 300}},
			map[string]float64{"NetworkIn": 300, "CPUUtilization": 0}},
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := ec2Usage([]metricport.Dim{{Name: "InstanceId", Value: "i-1"}}, at, tc.elapsed, tc.vcpus, base, tc.u)
			got := map[string]metricport.Datum{}
			for _, d := range data {
				got[d.Name] = d
				if d.Namespace != "AWS/EC2" || !d.Time.Equal(at) || len(d.Dims) != 1 || d.Dims[0].Value != "i-1" {
					t.Errorf("datum %+v", d)
				}
			}
			for name, v := range tc.want {
				if d := got[name]; d.Value < v-1e-9 || d.Value > v+1e-9 {
					t.Errorf("%s = %v, want %v", name, d.Value, v)
				}
			}
			if got["CPUUtilization"].Unit != "Percent" || got["NetworkIn"].Unit != "Bytes" || got["NetworkPacketsIn"].Unit != "Count" {
				t.Errorf("units: %+v", data)
			}
		})
	}
}
