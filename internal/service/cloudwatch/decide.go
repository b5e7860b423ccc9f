package cloudwatch

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Alarm states.
const (
	stateOK           = "OK"
	stateAlarm        = "ALARM"
	stateInsufficient = "INSUFFICIENT_DATA"
)

// extraPeriods is how many periods more than EvaluationPeriods the
// evaluator reads (the "evaluation range"): AWS reads "a higher number of
// data points" and its examples read 5 for 3 evaluation periods.
const extraPeriods = 2

// point is one period of the evaluation range; missing when the metric had
// no datapoint in it.
type point struct {
	t       time.Time
	v       float64
	missing bool
}

// rule is what an alarm compares and how.
type rule struct {
	n, m      int // EvaluationPeriods, DatapointsToAlarm
	op        string
	threshold float64
	treat     string // TreatMissingData, "" = missing
}

func (r rule) breaches(v float64) bool {
	switch r.op {
	case "GreaterThanOrEqualToThreshold":
		return v >= r.threshold
	case "GreaterThanThreshold":
		return v > r.threshold
	case "LessThanThreshold":
		return v < r.threshold
	case "LessThanOrEqualToThreshold":
		return v <= r.threshold
	}
	return false
}

// verdict is an evaluation's outcome.
type verdict struct {
	state string // "" = keep the current state (TreatMissingData ignore)
	// evaluated are the real datapoints the decision read, newest first;
	// filled is how many missing ones were counted in their place.
	evaluated []point
	filled    int
	breaching int
}

// decide applies AWS's rules ("How alarm state is evaluated when data is
// missing", CloudWatch User Guide) to the evaluation range, oldest first:
//
//   - at least N real datapoints: the newest N decide, TreatMissingData is
//     not consulted; M or more breaching is ALARM, otherwise OK;
//   - none: missing → INSUFFICIENT_DATA, ignore → the state stays,
//     breaching → ALARM, notBreaching → OK;
//   - some: every real datapoint counts, and N minus their number are
//     filled. breaching and notBreaching fill with their kind. With missing
//     and ignore, M breaching real ones are ALARM, one not breaching is
//     OK; otherwise (all breaching, fewer than M) missing is
//     INSUFFICIENT_DATA while a real datapoint is among the newest N
//     periods and ALARM once the metric has stopped (the last datapoints
//     are re-evaluated, the guide's sixth example), and ignore keeps the
//     state.
//
// The guide's two tables are decide's table test.
func decide(r rule, pts []point) verdict {
	var real []point
	for _, p := range pts {
		if !p.missing {
			real = append(real, p)
		}
	}
	if len(real) > r.n {
		real = real[len(real)-r.n:]
	}
	v := verdict{}
	for i := len(real) - 1; i >= 0; i-- {
		v.evaluated = append(v.evaluated, real[i])
		if r.breaches(real[i].v) {
			v.breaching++
		}
	}
	v.filled = r.n - len(real)
	treat := r.treat
	if treat == "" {
		treat = "missing"
	}
	switch {
	case v.filled == 0 || treat == "notBreaching":
		v.state = okOrAlarm(v.breaching >= r.m)
	case treat == "breaching":
		v.state = okOrAlarm(v.breaching+v.filled >= r.m)
	case len(real) == 0:
		if treat == "missing" {
			v.state = stateInsufficient
		}
	case v.breaching >= r.m:
		v.state = stateAlarm
	case v.breaching < len(real):
		v.state = stateOK
	case treat == "missing":
		v.state = stateInsufficient
		if recent := pts[max(0, len(pts)-r.n):]; !hasReal(recent) {
			v.state = stateAlarm
		}
	}
	return v
}

func okOrAlarm(alarm bool) string {
	if alarm {
		return stateAlarm
	}
	return stateOK
}

func hasReal(pts []point) bool {
	for _, p := range pts {
		if !p.missing {
			return true
		}
	}
	return false
}

// opWords are the comparison operators as AWS's state reasons say them.
var opWords = map[string]string{
	"GreaterThanOrEqualToThreshold": "greater than or equal to",
	"GreaterThanThreshold":          "greater than",
	"LessThanThreshold":             "less than",
	"LessThanOrEqualToThreshold":    "less than or equal to",
}

// staticOps are the comparison operators of a static threshold.
func staticOp(op string) bool { _, ok := opWords[op]; return ok }

// reason is AWS's StateReason for a verdict:
//
//	Threshold Crossed: 1 datapoint [95.2 (07/12/26 16:01:00)] was greater than the threshold (80.0).
//	Threshold Crossed: 2 out of the last 3 datapoints [91.0 (…), 85.0 (…)] were greater than the threshold (80.0) (minimum 2 datapoints for OK -> ALARM transition).
//	Insufficient Data: 3 datapoints were unknown.
//
// from is the state the alarm leaves, named in the M-of-N form.
func reason(r rule, v verdict, from string) string {
	if v.state == stateInsufficient {
		return fmt.Sprintf("Insufficient Data: %s unknown.", plural(v.filled, "datapoint was", "datapoints were"))
	}
	if len(v.evaluated) == 0 {
		kind := "Breaching"
		if r.treat == "notBreaching" {
			kind = "NonBreaching"
		}
		return fmt.Sprintf("Threshold Crossed: no datapoints were received for %s and %s treated as [%s].",
			plural(r.n, "period", "periods"), plural(v.filled, "missing datapoint was", "missing datapoints were"), kind)
	}
	alarm := v.state == stateAlarm
	var shown []point
	for _, p := range v.evaluated {
		if r.breaches(p.v) == alarm {
			shown = append(shown, p)
		}
	}
	count := v.breaching
	if alarm && r.treat == "breaching" {
		count += v.filled
	}
	if !alarm {
		count = r.n - count
		if r.treat == "breaching" {
			count -= v.filled
		}
	}
	words := opWords[r.op]
	if !alarm {
		words = "not " + words
	}
	list := formatPoints(shown)
	if count == r.n {
		return fmt.Sprintf("Threshold Crossed: %s [%s] %s %s the threshold (%s).",
			plural(count, "datapoint", "datapoints"), list, plural2(count, "was", "were"), words, formatValue(r.threshold))
	}
	need, to := r.m, stateAlarm
	if !alarm {
		need, to = r.n-r.m+1, stateOK
	}
	if from == "" || from == to {
		from = stateInsufficient
	}
	return fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints [%s] %s %s the threshold (%s) (minimum %s for %s -> %s transition).",
		count, r.n, list, plural2(count, "was", "were"), words, formatValue(r.threshold), plural(need, "datapoint", "datapoints"), from, to)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func plural2(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func formatPoints(pts []point) string {
	parts := make([]string, len(pts))
	for i, p := range pts {
		parts[i] = fmt.Sprintf("%s (%s)", formatValue(p.v), p.t.UTC().Format("02/01/06 15:04:05"))
	}
	return strings.Join(parts, ", ")
}

// formatValue writes a number as AWS's reasons do (Java's double: 80.0,
// 95.2).
func formatValue(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eEN") {
		s += ".0"
	}
	return s
}
