package cloudwatch

import (
	"math"
	"testing"

	"github.com/minicloud/minicloud/internal/metrics"
)

// TestExtendedStatistics: the trimmed, winsorized and ranked statistics of
// the samples 1…20, each worked out by hand in its comment.
func TestExtendedStatistics(t *testing.T) {
	var a metrics.Agg
	for v := 1; v <= 20; v++ {
		a.AddValue(float64(v), 1)
	}
	tests := []struct {
		stat string
		want float64
		none bool // no datapoint
	}{
		{stat: "tm90", want: 9.5},         // ranks (0,18]: 1…18
		{stat: "IQM", want: 10.5},         // ranks (5,15]: 6…15
		{stat: "TM(10%:90%)", want: 10.5}, // 3…18
		{stat: "TM(:10%)", want: 1.5},     // 1, 2
		{stat: "TM(0%:12.5%)", want: 1.8}, // 1, 2 and half of 3: 4.5/2.5
		{stat: "tc90", want: 18},
		{stat: "ts90", want: 171},         // 1+…+18
		{stat: "TC(5:10)", want: 5},       // 6…10
		{stat: "TS(5:10)", want: 40},      // 6+…+10
		{stat: "TM(5:10)", want: 8},       // 40/5
		{stat: "TM(15:)", want: 18},       // 16…20
		{stat: "PR(:10)", want: 50},       // 10 of 20
		{stat: "PR(5:10)", want: 25},      // 5 of 20
		{stat: "wm90", want: 10.35},       // (171 + 19→18 + 20→18)/20
		{stat: "WM(10%:90%)", want: 10.5}, // (1,2→3; 3…18 = 168; 19,20→18)/20 = 210/20
		{stat: "WM(5:10)", want: 8.25},    // (1…4→5: 20; 5…10: 45; 11…20→10: 100)/20
		{stat: "TM(100:200)", none: true},
		{stat: "tm0", none: true},
		{stat: "TC(100:200)", want: 0},
	}
	for _, tc := range tests {
		f, ok := parseExtendedStat(tc.stat)
		if !ok {
			t.Errorf("%s: not parsed", tc.stat)
			continue
		}
		got, ok := f(&a)
		switch {
		case tc.none && ok:
			t.Errorf("%s = %v, want no value", tc.stat, got)
		case !tc.none && (!ok || math.Abs(got-tc.want) > 1e-9):
			t.Errorf("%s = %v (%v), want %v", tc.stat, got, ok, tc.want)
		}
	}
	for _, bad := range []string{"tm101", "PR(10%:20%)", "TM(90%:10%)", "TM(:)", "TM(a:b)", "XX(1:2)", "TM(10%:20)", "tm", "TM(1:2:3)"} {
		if _, ok := parseExtendedStat(bad); ok {
			t.Errorf("%s parsed", bad)
		}
	}
}
