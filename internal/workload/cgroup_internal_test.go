package workload

import (
	"testing"
)

func TestParseIOStat(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     IOCounters
	}{
		{"empty", "", IOCounters{}},
		{"one device", "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n", IOCounters{4096, 8192, 1, 2}},
		{"two devices summed", "8:0 rbytes=1 wbytes=2 rios=3 wios=4\n259:0 rbytes=10 wbytes=20 rios=30 wios=40\n", IOCounters{11, 22, 33, 44}},
		{"unknown keys and junk skipped", "8:0 rbytes=x wbytes=5 cost.usage=9\n", IOCounters{WriteBytes: 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := *parseIOStat(tc.in); got != tc.want {
				t.Errorf("parseIOStat(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}
