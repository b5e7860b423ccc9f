package insights

import (
	"math"
	"slices"
	"time"
)

// aggSpec describes an aggregate function of stats.
type aggSpec struct {
	min, max int  // arguments
	star     bool // accepts * (count)
	newAcc   func() accumulator
}

// aggCall is one aggregate call of a stats command, with its arguments.
type aggCall struct {
	spec *aggSpec
	args []node // args[0] nil for count(*) and count()
}

// accumulator folds a group's records into one aggregate result.
type accumulator interface {
	add(v value, ts time.Time, extra []value)
	result() value
}

var aggregates = map[string]*aggSpec{
	"count":          {0, 1, true, func() accumulator { return &countAcc{} }},
	"count_distinct": {1, 1, false, func() accumulator { return &distinctAcc{seen: map[string]bool{}} }},
	"sum":            {1, 1, false, func() accumulator { return &sumAcc{} }},
	"avg":            {1, 1, false, func() accumulator { return &sumAcc{avg: true} }},
	"stddev":         {1, 1, false, func() accumulator { return &sumAcc{stddev: true} }},
	"min":            {1, 1, false, func() accumulator { return &pickAcc{better: func(v, b value) bool { return compareValues(v, b) < 0 }} }},
	"max":            {1, 1, false, func() accumulator { return &pickAcc{better: func(v, b value) bool { return compareValues(v, b) > 0 }} }},
	"sortsfirst":     {1, 1, false, func() accumulator { return &pickAcc{better: func(v, b value) bool { return sortCompare(v, b) < 0 }} }},
	"sortslast":      {1, 1, false, func() accumulator { return &pickAcc{better: func(v, b value) bool { return sortCompare(v, b) > 0 }} }},
	"earliest":       {1, 1, false, func() accumulator { return &timeAcc{} }},
	"latest":         {1, 1, false, func() accumulator { return &timeAcc{latest: true} }},
	"pct":            {2, 2, false, func() accumulator { return &pctAcc{} }},
}

// aggregate parses an aggregate call (name and ( read) inside stats.
func (p *parser) aggregate(name token, spec *aggSpec) (node, error) {
	if p.stats == nil {
		return nil, p.errorf(name, "aggregate function %s can be used only in stats", name.text)
	}
	c := &aggCall{spec: spec}
	star := false
	if spec.star {
		if t, err := p.peek(); err != nil {
			return nil, err
		} else if isPunct(t, "*") {
			p.next()
			star = true
			if err := p.expectPunct(")"); err != nil {
				return nil, err
			}
		}
	}
	if !star {
		saved := p.stats
		p.stats = nil // no aggregate inside an aggregate
		args, err := p.args()
		p.stats = saved
		if err != nil {
			return nil, err
		}
		if len(args) < spec.min || len(args) > spec.max {
			return nil, p.errorf(name, "wrong number of arguments for %s: %d", name.text, len(args))
		}
		c.args = args
	}
	if len(c.args) == 0 {
		c.args = []node{nil}
	}
	*p.stats = append(*p.stats, c)
	return aggRef{len(*p.stats) - 1}, nil
}

type countAcc struct{ n int64 }

func (a *countAcc) add(v value, _ time.Time, _ []value) {
	if v.k != kNull {
		a.n++
	}
}
func (a *countAcc) result() value { return num(float64(a.n)) }

type distinctAcc struct{ seen map[string]bool }

func (a *distinctAcc) add(v value, _ time.Time, _ []value) {
	if v.k != kNull {
		a.seen[v.String()] = true
	}
}
func (a *distinctAcc) result() value { return num(float64(len(a.seen))) }

// sumAcc is sum, avg and the sample standard deviation over the values
// that read as numbers.
type sumAcc struct {
	avg, stddev bool
	n           int64
	sum, sumSq  float64
}

func (a *sumAcc) add(v value, _ time.Time, _ []value) {
	if x, ok := v.number(); ok && v.k != kNull {
		a.n++
		a.sum += x
		a.sumSq += x * x
	}
}

func (a *sumAcc) result() value {
	switch {
	case a.n == 0:
		return null
	case a.avg:
		return num(a.sum / float64(a.n))
	case a.stddev:
		if a.n < 2 {
			return num(0)
		}
		mean := a.sum / float64(a.n)
		v := (a.sumSq - float64(a.n)*mean*mean) / float64(a.n-1)
		return num(math.Sqrt(math.Max(v, 0)))
	}
	return num(a.sum)
}

// pickAcc keeps the best value: min, max, sortsFirst, sortsLast. Of
// equal values it keeps the newest record's (the first one newest-first
// order reads, as stats saw records before it streamed them).
type pickAcc struct {
	better func(v, best value) bool
	best   value
	ts     time.Time
}

func (a *pickAcc) add(v value, ts time.Time, _ []value) {
	if v.k == kNull {
		return
	}
	if a.best.k == kNull || a.better(v, a.best) || !a.better(a.best, v) && ts.After(a.ts) {
		a.best, a.ts = v, ts
	}
}
func (a *pickAcc) result() value { return a.best }

// timeAcc is earliest and latest: the value of the record with the
// lowest or highest @timestamp.
type timeAcc struct {
	latest bool
	ts     time.Time
	v      value
}

func (a *timeAcc) add(v value, ts time.Time, _ []value) {
	if v.k == kNull {
		return
	}
	if a.v.k == kNull || a.latest && ts.After(a.ts) || !a.latest && ts.Before(a.ts) {
		a.v, a.ts = v, ts
	}
}
func (a *timeAcc) result() value { return a.v }

// pctAcc is pct(field, n): the nearest-rank percentile of the values
// that read as numbers.
type pctAcc struct {
	xs []float64
	p  float64
}

func (a *pctAcc) add(v value, _ time.Time, extra []value) {
	if len(extra) > 0 {
		if p, ok := extra[0].number(); ok {
			a.p = p
		}
	}
	if x, ok := v.number(); ok && v.k != kNull {
		a.xs = append(a.xs, x)
	}
}

func (a *pctAcc) result() value {
	if len(a.xs) == 0 {
		return null
	}
	slices.Sort(a.xs)
	i := int(math.Ceil(a.p/100*float64(len(a.xs)))) - 1
	return num(a.xs[clamp(i, len(a.xs)-1)])
}
