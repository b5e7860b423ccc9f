package cloudwatch

import (
	"strings"
	"testing"
	"time"
)

// pointsOf reads the guide's notation, oldest first: 0 not breaching (a
// value of 10), X breaching (90), - missing; one period a minute.
func pointsOf(s string) []point {
	t0 := time.Date(2026, 7, 12, 16, 0, 0, 0, time.UTC)
	var pts []point
	for i, f := range strings.Fields(s) {
		p := point{t: t0.Add(time.Duration(i) * time.Minute)}
		switch f {
		case "0":
			p.v = 10
		case "X":
			p.v = 90
		default:
			p.missing = true
		}
		pts = append(pts, p)
	}
	return pts
}

// TestDecideGuideTables is the CloudWatch User Guide's two tables ("How
// alarm state is evaluated when data is missing"): 3 of 3 and 2 of 3, five
// datapoints read, each row under the four TreatMissingData settings
// ("" = the current state is kept).
func TestDecideGuideTables(t *testing.T) {
	const ins = stateInsufficient
	tests := []struct {
		m, n                                     int
		points                                   string
		missing, ignore, breaching, notBreaching string
	}{
		{3, 3, "0 - X - X", stateOK, stateOK, stateOK, stateOK},
		{3, 3, "0 - - - -", stateOK, stateOK, stateOK, stateOK},
		{3, 3, "- - - - -", ins, "", stateAlarm, stateOK},
		{3, 3, "0 X X - X", stateAlarm, stateAlarm, stateAlarm, stateAlarm},
		{3, 3, "- - - - X", ins, "", stateAlarm, stateOK},
		{3, 3, "X - - - -", stateAlarm, "", stateAlarm, stateOK},
		{2, 3, "0 - X - X", stateAlarm, stateAlarm, stateAlarm, stateAlarm},
		{2, 3, "0 0 X 0 X", stateAlarm, stateAlarm, stateAlarm, stateAlarm},
		{2, 3, "0 - X - -", stateOK, stateOK, stateAlarm, stateOK},
		{2, 3, "- - - - 0", stateOK, stateOK, stateAlarm, stateOK},
		{2, 3, "- - - - X", ins, "", stateAlarm, stateOK},
		// Beyond the guide: M breaching real datapoints among fewer than N
		// are ALARM whatever fills the rest.
		{2, 3, "X - X - -", stateAlarm, stateAlarm, stateAlarm, stateAlarm},
		// More than N real ones: the newest N decide.
		{1, 1, "X X X X 0", stateOK, stateOK, stateOK, stateOK},
	}
	for _, tc := range tests {
		for treat, want := range map[string]string{"missing": tc.missing, "ignore": tc.ignore, "breaching": tc.breaching, "notBreaching": tc.notBreaching} {
			r := rule{n: tc.n, m: tc.m, op: "GreaterThanThreshold", threshold: 50, treat: treat}
			if got := decide(r, pointsOf(tc.points)).state; got != want {
				t.Errorf("%d of %d, %q, %s: state %q, want %q", tc.m, tc.n, tc.points, treat, got, want)
			}
		}
	}
}

func TestDecideOperators(t *testing.T) {
	tests := []struct {
		op   string
		v    float64
		want bool
	}{
		{"GreaterThanThreshold", 80, false},
		{"GreaterThanThreshold", 80.1, true},
		{"GreaterThanOrEqualToThreshold", 80, true},
		{"LessThanThreshold", 80, false},
		{"LessThanThreshold", 79, true},
		{"LessThanOrEqualToThreshold", 80, true},
		{"LessThanOrEqualToThreshold", 81, false},
	}
	for _, tc := range tests {
		if got := (rule{op: tc.op, threshold: 80}).breaches(tc.v); got != tc.want {
			t.Errorf("%s %v: %v, want %v", tc.op, tc.v, got, tc.want)
		}
	}
}

func TestReason(t *testing.T) {
	tests := []struct {
		name   string
		r      rule
		points string
		from   string
		want   string
	}{
		{"one of one", rule{n: 1, m: 1, op: "GreaterThanThreshold", threshold: 80}, "- - X", stateOK,
			"Threshold Crossed: 1 datapoint [90.0 (12/07/26 16:02:00)] was greater than the threshold (80.0)."},
		{"back to OK", rule{n: 1, m: 1, op: "GreaterThanThreshold", threshold: 80}, "X - 0", stateAlarm,
			"Threshold Crossed: 1 datapoint [10.0 (12/07/26 16:02:00)] was not greater than the threshold (80.0)."},
		{"M of N", rule{n: 3, m: 2, op: "GreaterThanOrEqualToThreshold", threshold: 80}, "0 0 X 0 X", stateOK,
			"Threshold Crossed: 2 out of the last 3 datapoints [90.0 (12/07/26 16:04:00), 90.0 (12/07/26 16:02:00)] were greater than or equal to the threshold (80.0) (minimum 2 datapoints for OK -> ALARM transition)."},
		{"unknown", rule{n: 3, m: 3, op: "GreaterThanThreshold", threshold: 80}, "- - - - -", stateOK,
			"Insufficient Data: 3 datapoints were unknown."},
		{"treated as breaching", rule{n: 2, m: 2, op: "LessThanThreshold", threshold: 1.5, treat: "breaching"}, "- - -", stateOK,
			"Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints were treated as [Breaching]."},
	}
	for _, tc := range tests {
		v := decide(tc.r, pointsOf(tc.points))
		if got := reason(tc.r, v, tc.from); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

func TestMinSamples(t *testing.T) {
	for p, want := range map[float64]float64{99: 1000, 90: 100, 50: 20, 75: 40, 10: 100, 1: 1000, 99.9: 10000, 0: 1, 100: 1} {
		if got := minSamples(p); got != want {
			t.Errorf("minSamples(%v) = %v, want %v", p, got, want)
		}
	}
}
