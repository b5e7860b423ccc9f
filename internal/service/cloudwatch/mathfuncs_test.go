package cloudwatch

import (
	"math"
	"strings"
	"testing"
)

// TestMathFunctions evaluates each function over two series with gaps and
// compares with values computed by hand. Periods of 60 s; the request's
// grid is 0…300. m1 = 1 3 _ 9 4 _, m2 = 2 2 5 1 _ _.
func TestMathFunctions(t *testing.T) {
	m1 := &series{label: "m1", ts: []int64{0, 60, 180, 240}, vs: []float64{1, 3, 9, 4}}
	m2 := &series{label: "m2", ts: []int64{0, 60, 120, 180}, vs: []float64{2, 2, 5, 1}}
	type pts map[int64]float64
	tests := []struct {
		expr    string
		want    pts      // one series
		labels  []string // an array: its series' labels
		scalar  *float64
		err     string
		dropped bool
	}{
		{expr: "ABS(m1 - m2 * 3)", want: pts{0: 5, 60: 3, 180: 6}},
		{expr: "DIFF(m1)", want: pts{60: 2, 180: 6, 240: -5}},
		{expr: "DIFF_TIME(m1)", want: pts{60: 60, 180: 120, 240: 60}},
		{expr: "RATE(m1)", want: pts{60: 2.0 / 60, 180: 6.0 / 120, 240: -5.0 / 60}},
		{expr: "RATE([m1, m2])", labels: []string{"m1", "m2"}},
		{expr: "FILL(m1, REPEAT)", want: pts{0: 1, 60: 3, 120: 3, 180: 9, 240: 4, 300: 4}},
		{expr: "FILL(m1, LINEAR)", want: pts{0: 1, 60: 3, 120: 6, 180: 9, 240: 4, 300: 4}},
		{expr: "FILL(m2, LINEAR)", want: pts{0: 2, 60: 2, 120: 5, 180: 1, 240: 1, 300: 1}},
		{expr: "FILL(m1, 0)", want: pts{0: 1, 60: 3, 120: 0, 180: 9, 240: 4, 300: 0}},
		// Population standard deviation: mean 4.25, squared deviations
		// 10.5625 + 1.5625 + 22.5625 + 0.0625 = 34.75.
		{expr: "STDDEV(m1)", scalar: ptr(math.Sqrt(34.75 / 4))},
		{expr: "STDDEV([m1, m2])", want: pts{0: 0.5, 60: 0.5, 120: 0, 180: 4, 240: 0}},
		{expr: "IF(m1 > 2, m1, 0)", want: pts{0: 0, 60: 3, 180: 9, 240: 4}},
		{expr: "IF(m1 > m2, 1)", want: pts{60: 1, 180: 1}},
		{expr: "IF(m2 >= 2 AND m2 != 5, m2, -1)", want: pts{0: 2, 60: 2, 120: -1, 180: -1}},
		{expr: "IF(m2 < 2 || m2 == 5, m2)", want: pts{120: 5, 180: 1}},
		{expr: "IF(NOT (m2 <= 2), 10, m1)", want: pts{0: 1, 60: 3, 120: 10, 180: 9}},
		{expr: "IF(!(m1 > 2) && m1 != 0, m1 * 100)", want: pts{0: 100}},
		{expr: "IF(1, m1)", want: pts{0: 1, 60: 3, 180: 9, 240: 4}},
		{expr: "IF(0, m1)", want: pts{}},
		{expr: "PERIOD(m1)", want: pts{0: 60, 60: 60, 180: 60, 240: 60}},
		{expr: "SUM(m1) / PERIOD(m1)", want: pts{0: 17.0 / 60, 60: 17.0 / 60, 180: 17.0 / 60, 240: 17.0 / 60}},
		{expr: "SORT([m2, m1], MAX, DESC)", labels: []string{"m1", "m2"}},
		{expr: "SORT([m1, m2], SUM, ASC, 1)", labels: []string{"m2"}},
		{expr: "FIRST(SORT([m1, m2], AVG, ASC))", want: pts{0: 2, 60: 2, 120: 5, 180: 1}},
		{expr: "LAST(SORT([m1, m2], AVG, ASC))", want: pts{0: 1, 60: 3, 180: 9, 240: 4}},
		{expr: "SLICE([m1, m2, m1 * 2], 1, 2)", labels: []string{"m2"}},
		{expr: "SLICE([m1, m2], 1)", labels: []string{"m2"}},
		{expr: "SLICE([m1, m2], 5, 9)", labels: []string{}},
		// 1/0 and 3/0 are dropped, and the result says so.
		{expr: "m1 / (m2 - 2)", want: pts{180: -9}, dropped: true},
		{expr: "DIFF(m1 / (m2 - 2))", want: pts{}, dropped: true},
		{expr: "2 > 1 AND 3 <= 2", scalar: ptr(0.0)},
		{expr: "DIFF(3)", err: "takes a time series"},
		{expr: "PERIOD(m1 + 1)", err: "PERIOD takes the id of one metric"},
		{expr: "PERIOD(e1)", err: "must be a metric"},
		{expr: "SORT([m1, m2], MEDIAN, ASC)", err: "second argument of SORT"},
		{expr: "SORT([m1, m2], AVG, UP)", err: "third argument of SORT"},
		{expr: "SLICE([m1], -1)", err: "not negative"},
		{expr: "IF([m1, m2], 1)", err: "not arrays"},
		{expr: "IF(m1)", err: "two or three"},
		{expr: "FIRST(3)", err: "array"},
		{expr: "SEARCH('x', 'Average')", err: "three arguments"},
	}
	for _, tc := range tests {
		n, err := parseExpr(tc.expr)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		env := &evalEnv{grid: []int64{0, 60, 120, 180, 240, 300}, statIDs: []string{"m1", "m2"}}
		env.lookup = func(id string) (value, error) {
			switch id {
			case "m1":
				return value{one: m1}, nil
			case "m2":
				return value{one: m2}, nil
			case "e1":
				return value{one: m1}, nil
			}
			return value{}, errUnknown
		}
		env.periodOf = func(id string) (int64, bool) { return 60, id == "m1" || id == "m2" }
		v, err := env.eval(n)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.expr, err, tc.err)
			}
			continue
		case err != nil:
			t.Errorf("%s: %v", tc.expr, err)
			continue
		case tc.scalar != nil:
			if v.scalar == nil || math.Abs(*v.scalar-*tc.scalar) > 1e-12 {
				t.Errorf("%s = %+v, want %v", tc.expr, v, *tc.scalar)
			}
			continue
		case tc.labels != nil:
			var got []string
			for _, s := range v.many {
				got = append(got, s.label)
			}
			if strings.Join(got, ",") != strings.Join(tc.labels, ",") || v.many == nil {
				t.Errorf("%s: series %q, want %q", tc.expr, got, tc.labels)
			}
			continue
		case v.one == nil:
			t.Errorf("%s = %+v, want one series", tc.expr, v)
			continue
		}
		got := pts{}
		for i, ts := range v.one.ts {
			got[ts] = v.one.vs[i]
		}
		ok := len(got) == len(tc.want)
		for ts, w := range tc.want {
			if g, found := got[ts]; !found || math.Abs(g-w) > 1e-12 {
				ok = false
			}
		}
		if !ok || v.one.dropped != tc.dropped {
			t.Errorf("%s = %v (dropped %v), want %v (dropped %v)", tc.expr, got, v.one.dropped, tc.want, tc.dropped)
		}
	}
}

func TestParseSearch(t *testing.T) {
	q, err := parseSearch(`{AWS/EC2,InstanceId} MetricName="CPUUtilization" web "a b"`)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(q.schema, ",") != "AWS/EC2,InstanceId" || len(q.terms) != 3 ||
		q.terms[0] != (searchTerm{"MetricName", "CPUUtilization"}) || q.terms[1] != (searchTerm{"", "web"}) || q.terms[2] != (searchTerm{"", "a b"}) {
		t.Errorf("parsed %+v", q)
	}
	for _, bad := range []string{"", "{AWS/EC2", "{a,,b}", `MetricName="x`} {
		if _, err := parseSearch(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
