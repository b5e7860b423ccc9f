package cloudwatch

import (
	"math"
	"strconv"
	"strings"

	"github.com/minicloud/minicloud/internal/lazyregexp"
	"github.com/minicloud/minicloud/internal/metrics"
)

// The extended statistics beyond pNN (the User Guide's "CloudWatch
// statistics definitions"), read from a period's whole distribution
// (metrics.Agg.Values: exact while a bucket keeps its values, else within
// the sketch's 1%):
//
//   - TM(a:b) trimmed mean, WM(a:b) winsorized mean, TC(a:b) trimmed count,
//     TS(a:b) trimmed sum, over the samples between two bounds, each side
//     optional: percentages (TM(10%:90%): the samples ranked above the
//     10th percentile and up to the 90th, a sample that straddles a bound
//     counted in part) or values (TM(150:1000): the samples above 150 and
//     up to 1000). The winsorized mean counts the samples beyond the
//     bounds at the bound (for percentages the nearest sample inside).
//   - PR(a:b) percentile rank: the percentage of samples above a and up to
//     b, values only.
//   - tmNN, wmNN, tcNN, tsNN: the same from 0% to NN%; IQM: TM(25%:75%).
//
// A period whose bounds hold no sample has no TM, WM or PR value (no
// datapoint); TC and TS are then 0.

var (
	shortStatRE = lazyregexp.New(`^(tm|wm|tc|ts)(\d{1,2}(\.\d{1,2})?|100)$`)
	rangeStatRE = lazyregexp.New(`^(TM|WM|TC|TS|PR)\(([^:()]*):([^:()]*)\)$`)
)

// bound is one side of a range: a percentage or a value; none when open.
type bound struct {
	v       float64
	pct, on bool
}

// statRange is a parsed TM/WM/TC/TS/PR.
type statRange struct {
	kind   string
	lo, hi bound
}

// parseExtended is an extended statistic other than pNN.
func parseExtended(name string) (stat, bool) {
	var r statRange
	switch {
	case strings.EqualFold(name, "IQM"):
		r = statRange{kind: "TM", lo: bound{25, true, true}, hi: bound{75, true, true}}
	case shortStatRE.MatchString(name):
		p, _ := strconv.ParseFloat(name[2:], 64)
		r = statRange{kind: strings.ToUpper(name[:2]), hi: bound{p, true, true}}
	default:
		m := rangeStatRE.FindStringSubmatch(name)
		if m == nil {
			return nil, false
		}
		r.kind = m[1]
		var ok1, ok2 bool
		r.lo, ok1 = parseBound(m[2])
		r.hi, ok2 = parseBound(m[3])
		switch {
		case !ok1 || !ok2,
			r.lo.on && r.hi.on && (r.lo.pct != r.hi.pct || r.lo.v > r.hi.v),
			r.kind == "PR" && (r.lo.pct || r.hi.pct),
			!r.lo.on && !r.hi.on:
			return nil, false
		}
	}
	return r.read, true
}

func parseBound(s string) (bound, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return bound{}, true
	}
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || pct && (v < 0 || v > 100) {
		return bound{}, false
	}
	return bound{v, pct, true}, true
}

// read computes the statistic of one period.
func (r statRange) read(a *metrics.Agg) (float64, bool) {
	vals, ok := a.Values()
	if !ok {
		return 0, false
	}
	n := a.Count
	// in is the weight of each sample group inside the range.
	in := make([]float64, len(vals))
	var inW, inSum float64
	var lowVal, highVal float64 // the winsorizing values
	if r.lo.pct || r.hi.pct {
		lo, hi := 0.0, n
		if r.lo.on {
			lo = r.lo.v / 100 * n
		}
		if r.hi.on {
			hi = r.hi.v / 100 * n
		}
		first := true
		var cum float64
		for i, v := range vals {
			// This group holds ranks (cum, cum+W].
			w := math.Max(0, math.Min(cum+v.W, hi)-math.Max(cum, lo))
			cum += v.W
			if w <= 0 {
				continue
			}
			in[i] = w
			if first {
				lowVal, first = v.V, false
			}
			highVal = v.V
		}
	} else {
		lowVal, highVal = math.Inf(-1), math.Inf(1)
		if r.lo.on {
			lowVal = r.lo.v
		}
		if r.hi.on {
			highVal = r.hi.v
		}
		for i, v := range vals {
			if (!r.lo.on || v.V > r.lo.v) && (!r.hi.on || v.V <= r.hi.v) {
				in[i] = v.W
			}
		}
	}
	for i, v := range vals {
		inW += in[i]
		inSum += in[i] * v.V
	}
	switch r.kind {
	case "TC":
		return inW, true
	case "TS":
		return inSum, true
	case "PR":
		return 100 * inW / n, true
	}
	if inW == 0 {
		return 0, false
	}
	if r.kind == "TM" {
		return inSum / inW, true
	}
	// WM: every sample counts, those outside at the bound they are
	// beyond (sorted: below the range means at most lowVal).
	var sum float64
	for i, v := range vals {
		switch out := v.W - in[i]; {
		case out <= 0:
		case v.V <= lowVal:
			sum += out * lowVal
		default:
			sum += out * highVal
		}
	}
	return (sum + inSum) / n, true
}
