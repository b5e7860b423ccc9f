package cloudwatch

import (
	"slices"
	"strings"
	"testing"
)

func TestParseRule(t *testing.T) {
	states := map[string]string{"a": stateAlarm, "b": stateOK, "c": stateInsufficient, "my alarm": stateAlarm}
	const arn = "arn:aws:cloudwatch:us-east-1:000000000000:alarm:"
	for _, tc := range []struct {
		rule     string
		want     bool
		children []string
		err      string
	}{
		{rule: `ALARM("a")`, want: true, children: []string{"a"}},
		{rule: `ALARM(a)`, want: true, children: []string{"a"}},
		{rule: `ALARM( "my alarm" )`, want: true, children: []string{"my alarm"}},
		{rule: `ALARM(my alarm)`, want: true, children: []string{"my alarm"}},
		{rule: `ALARM("` + arn + `a")`, want: true, children: []string{"a"}},
		{rule: `OK(b) AND INSUFFICIENT_DATA(c)`, want: true, children: []string{"b", "c"}},
		{rule: `ALARM(a) AND ALARM(b)`, want: false, children: []string{"a", "b"}},
		{rule: `ALARM(b) OR ALARM(a)`, want: true, children: []string{"b", "a"}},
		// NOT binds tighter than AND, AND tighter than OR.
		{rule: `NOT ALARM(a) AND ALARM(a)`, want: false, children: []string{"a"}},
		{rule: `ALARM(a) OR ALARM(b) AND ALARM(b)`, want: true, children: []string{"a", "b"}},
		{rule: `(ALARM(a) OR ALARM(b)) AND ALARM(b)`, want: false, children: []string{"a", "b"}},
		{rule: `NOT (ALARM(b) OR OK(a))`, want: true, children: []string{"b", "a"}},
		{rule: `TRUE`, want: true},
		{rule: `false`, want: false},
		{rule: `TRUE AND NOT FALSE`, want: true},
		{rule: `ALARM(x)`, want: false, children: []string{"x"}},
		{rule: ``, err: "unexpected end"},
		{rule: `ALARM`, err: "must be followed by ("},
		{rule: `ALARM("a"`, err: "missing )"},
		{rule: `ALARM(a) AND`, err: "unexpected end"},
		{rule: `ALARM(a) ALARM(b)`, err: "unexpected"},
		{rule: `(ALARM(a)`, err: "missing )"},
		{rule: `ALARM("")`, err: "empty alarm name"},
		{rule: `MAYBE(a)`, err: "unexpected"},
		{rule: strings.Repeat("TRUE OR ", 300) + "TRUE", err: "elements"},
		// One child named 101 times is one child.
		{rule: strings.Repeat("ALARM(x) OR ", 101) + "FALSE", want: false, children: []string{"x"}},
	} {
		r, err := parseRule(tc.rule, arn)
		if tc.err != "" || err != nil {
			if err == nil || !strings.Contains(err.Error(), tc.err) || tc.err == "" {
				t.Errorf("%.40q: error %v, want %q", tc.rule, err, tc.err)
			}
			continue
		}
		if got := r.root.eval(states); got != tc.want {
			t.Errorf("%q = %v, want %v", tc.rule, got, tc.want)
		}
		if !slices.Equal(r.children, tc.children) {
			t.Errorf("%q: children %q, want %q", tc.rule, r.children, tc.children)
		}
	}
	var many []string
	for i := range 101 {
		many = append(many, "ALARM(x"+strings.Repeat("y", i)+")")
	}
	if _, err := parseRule(strings.Join(many, " OR "), arn); err == nil || !strings.Contains(err.Error(), "at most 100") {
		t.Errorf("101 children: %v", err)
	}
}

func TestInCycle(t *testing.T) {
	comp := func(children ...string) alarmRecord { return alarmRecord{Composite: &compositeDef{Children: children}} }
	all := map[string]alarmRecord{"m": {}, "a": comp("b", "m"), "b": comp("c"), "c": comp("a"), "d": comp("a"), "e": comp("m")}
	for name, want := range map[string]bool{"a": true, "b": true, "c": true, "d": false, "e": false, "m": false} {
		if got := inCycle(all, name); got != want {
			t.Errorf("inCycle(%s) = %v, want %v", name, got, want)
		}
	}
}
