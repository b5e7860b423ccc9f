package runtime

import (
	"math"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/workload"
)

// TestReading checks reading's periods and first reading with a fake
// usage: when the usage is read, at which time each period's CPU is
// stamped (the period's boundary, :00/:05 for basic monitoring, whatever
// the first reading's minute), and that the CPU is the CPU time over the
// time between the readings, not between the ticks (a reading may come
// seconds after its tick).
func TestReading(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(min, sec int) time.Time {
		return t0.Add(time.Duration(min)*time.Minute + time.Duration(sec)*time.Second)
	}
	type tick struct {
		now      time.Time
		readLate time.Duration // how long after the tick the usage is read
		cpu      time.Duration // the instance's CPU time then
		// want is the CPU datapoint expected ("" stamp = none).
		wantStamp time.Time
		wantCPU   float64
	}
	tests := []struct {
		name     string
		detailed bool
		ticks    []tick
	}{
		{"detailed: a datapoint a minute, stamped at its minute", true, []tick{
			{now: at(0, 30), cpu: 0},
			{now: at(1, 30), cpu: 30 * time.Second, wantStamp: at(0, 0), wantCPU: 50},
			{now: at(2, 30), cpu: 90 * time.Second, wantStamp: at(1, 0), wantCPU: 100},
		}},
		{"basic: five-minute periods on :00/:05 from a first reading at :02", false, []tick{
			{now: at(2, 10), cpu: 0},
			{now: at(3, 10), cpu: 10 * time.Second},
			{now: at(4, 10), cpu: 20 * time.Second},
			{now: at(5, 10), cpu: 90 * time.Second, wantStamp: at(0, 0), wantCPU: 50},
			{now: at(6, 10), cpu: 100 * time.Second},
			{now: at(9, 10), cpu: 100 * time.Second},
			{now: at(10, 10), cpu: 90*time.Second + 150*time.Second, wantStamp: at(5, 0), wantCPU: 50},
		}},
		{"a late read: the elapsed time is the readings'", true, []tick{
			{now: at(0, 0), readLate: 0, cpu: 0},
			{now: at(1, 0), readLate: 20 * time.Second, cpu: 40 * time.Second, wantStamp: at(0, 0), wantCPU: 50},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := instKey{account: "a", region: "r", id: "i-1"}
			v := metered{vcpus: 1, detailed: tc.detailed}
			for i, tk := range tc.ticks {
				usage := func(string) (workload.Usage, time.Time, error) {
					return workload.Usage{CPU: tk.cpu}, tk.now.Add(tk.readLate), nil
				}
				data, next := reading(k, v, tk.now, time.Minute, usage)
				v = next
				var stamp time.Time
				cpu := math.NaN()
				for _, d := range data {
					if d.Name == "CPUUtilization" {
						stamp, cpu = d.Time, d.Value
					}
				}
				if !stamp.Equal(tk.wantStamp) || (!tk.wantStamp.IsZero() && math.Abs(cpu-tk.wantCPU) > 1e-9) {
					t.Fatalf("tick %d (%v): CPUUtilization %v at %v, want %v at %v", i, tk.now.Format("15:04:05"), cpu, stamp, tk.wantCPU, tk.wantStamp)
				}
			}
		})
	}
}
