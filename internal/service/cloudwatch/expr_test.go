package cloudwatch

import (
	"strings"
	"testing"
)

func TestParseExprErrors(t *testing.T) {
	tests := []struct{ expr, ok string }{
		{"m1 + m2 * 3", ""},
		{"SUM(METRICS('cpu'))", ""},
		{"FILL(m1, 0) / 1e3", ""},
		{"-(a)^2", ""},
		{"m1 +", "unexpected end"},
		{"(m1", "missing )"},
		{"m1 m2", "unexpected"},
		{"SUM(m1,", "unexpected end"},
		{"'abc", "unterminated"},
		{"1..2", "invalid number"},
		// Depth counts what is open, not every group seen: 65 groups
		// side by side parse, 65 nested ones do not.
		{strings.Repeat("(m1)+", 64) + "(m1)", ""},
		{strings.Repeat("ABS(", 64) + "m1" + strings.Repeat(")", 64), ""},
		{strings.Repeat("[", 65) + "m1" + strings.Repeat("]", 65), "nested too deeply"},
	}
	for _, tc := range tests {
		_, err := parseExpr(tc.expr)
		switch {
		case tc.ok == "" && err != nil:
			t.Errorf("%q: %v", tc.expr, err)
		case tc.ok != "" && (err == nil || !strings.Contains(err.Error(), tc.ok)):
			t.Errorf("%q: error %v, want %q", tc.expr, err, tc.ok)
		}
	}
}

// FuzzExpr checks that no expression panics the parser or the evaluator.
func FuzzExpr(f *testing.F) {
	for _, s := range []string{"m1 + m2", "SUM(METRICS())", "FILL(m1, 0)", "-(m1 ^ 2) / [m1, m2]", "MAX([m1, m2 * 2])", "((((1))))", "AVG(METRICS('m'))"} {
		f.Add(s)
	}
	one := &series{ts: []int64{0, 60, 120}, vs: []float64{1, 2, 3}}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseExpr(s)
		if err != nil {
			return
		}
		env := &evalEnv{grid: []int64{0, 60, 120}, statIDs: []string{"m1", "m2"}}
		env.lookup = func(id string) (value, error) {
			if id == "m1" || id == "m2" {
				return value{one: one}, nil
			}
			return value{}, errUnknown
		}
		_, _ = env.eval(n)
	})
}
