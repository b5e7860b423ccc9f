package cloudwatch

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/cloudwatchapi"
	"github.com/minicloud/minicloud/internal/lazyregexp"
	"github.com/minicloud/minicloud/internal/metrics"
)

// AWS's limits on GetMetricData.
const (
	maxQueries       = 500
	defaultMaxPoints = 100800
)

// idRE is a query id: a lowercase letter, then letters, digits and _.
var idRE = lazyregexp.New(`^[a-z][a-zA-Z0-9_]*$`)

// dataQuery is a checked MetricDataQuery.
type dataQuery struct {
	in     *cloudwatchapi.MetricDataQuery
	param  string
	q      metrics.Query // for a MetricStat
	stat   stat
	expr   node // for an Expression
	period int64
	scope  metrics.Scope
}

// GetMetricData evaluates the queries (MetricStat and metric math) and
// answers the series of those with ReturnData, paged by time: a page holds
// every result's values at the timestamps it covers, at most MaxDatapoints
// values in all; results continued on a later page have StatusCode
// PartialData and the page a NextToken.
func (s *Service) GetMetricData(ctx context.Context, in *cloudwatchapi.GetMetricDataInput) (*cloudwatchapi.GetMetricDataOutput, error) {
	qs, err := s.dataQueries(ctx, in)
	if err != nil {
		return nil, err
	}
	scan := deref(in.ScanBy)
	if scan == "" {
		scan = "TimestampDescending"
	}
	if scan != "TimestampDescending" && scan != "TimestampAscending" {
		return nil, errValue("The value %s for parameter ScanBy is invalid. Valid values are TimestampDescending and TimestampAscending.", scan)
	}
	maxPoints := int(deref(in.MaxDatapoints))
	if in.MaxDatapoints != nil && maxPoints <= 0 {
		return nil, errValue("The parameter MaxDatapoints must be greater than 0.")
	}
	if maxPoints == 0 {
		maxPoints = defaultMaxPoints
	}
	from := 0
	if in.NextToken != nil {
		v, ok := api.ParsePageToken("GetMetricData", in.NextToken)
		n, err := strconv.Atoi(v)
		if !ok || err != nil || n < 0 {
			return nil, api.Errorf(http.StatusBadRequest, "InvalidNextToken", "The value for parameter NextToken is invalid.")
		}
		from = n
	}
	results, err := s.evaluate(qs, deref(in.StartTime).UTC(), deref(in.EndTime).UTC())
	if err != nil {
		return nil, err
	}
	return page(results, scan == "TimestampDescending", from, maxPoints), nil
}

// dataQueries checks the request in AWS's order.
func (s *Service) dataQueries(ctx context.Context, in *cloudwatchapi.GetMetricDataInput) ([]*dataQuery, error) {
	if len(in.MetricDataQueries) == 0 {
		return nil, errMissing("The parameter MetricDataQueries is required.")
	}
	if len(in.MetricDataQueries) > maxQueries {
		return nil, errTooMany("MetricDataQueries", maxQueries)
	}
	start, end := deref(in.StartTime).UTC(), deref(in.EndTime).UTC()
	if err := checkRange(start, end); err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	var qs []*dataQuery
	for i := range in.MetricDataQueries {
		mq := &in.MetricDataQueries[i]
		dq := &dataQuery{in: mq, param: fmt.Sprintf("MetricDataQueries.member.%d", i+1), scope: scopeOf(ctx)}
		id := deref(mq.Id)
		if !idRE.MatchString(id) {
			return nil, errValue("The value %s for parameter %s.Id is invalid. An id must start with a lowercase letter and hold only letters, digits and underscores.", id, dq.param)
		}
		if ids[id] {
			return nil, errValue("The values for parameter id in MetricDataQueries are not unique: %s.", id)
		}
		ids[id] = true
		if mq.Period != nil {
			if err := checkPeriod(*mq.Period, dq.param+".Period"); err != nil {
				return nil, err
			}
			dq.period = int64(*mq.Period)
		}
		switch {
		case mq.MetricStat != nil && mq.Expression != nil:
			return nil, errCombination("The parameters %[1]s.MetricStat and %[1]s.Expression are mutually exclusive and you have specified both.", dq.param)
		case mq.MetricStat != nil:
			if err := dq.metricStat(ctx, start, end); err != nil {
				return nil, err
			}
		case mq.Expression != nil:
			if err := checkLen(mq.Expression, dq.param+".Expression", 1, 2048); err != nil {
				return nil, err
			}
			n, err := parseExpr(*mq.Expression)
			if err != nil {
				return nil, errValidation("Error in expression %s: %v", id, err)
			}
			dq.expr = n
		default:
			return nil, errValidation("The parameter %s.MetricStat is required.", dq.param)
		}
		qs = append(qs, dq)
	}
	return qs, nil
}

func errValidation(format string, args ...any) error {
	return api.Errorf(http.StatusBadRequest, "ValidationError", format, args...)
}

func (dq *dataQuery) metricStat(ctx context.Context, start, end time.Time) error {
	ms, p := dq.in.MetricStat, dq.param+".MetricStat"
	if ms.Metric == nil {
		return errMissing("The parameter %s.Metric is required.", p)
	}
	ns, name := deref(ms.Metric.Namespace), deref(ms.Metric.MetricName)
	if err := checkLen(&ns, p+".Metric.Namespace", 1, 255); err != nil {
		return err
	}
	if err := checkLen(&name, p+".Metric.MetricName", 1, 255); err != nil {
		return err
	}
	ds, err := dims(ms.Metric.Dimensions, p+".Metric.Dimensions")
	if err != nil {
		return err
	}
	if err := checkPeriod(deref(ms.Period), p+".Period"); err != nil {
		return err
	}
	if err := checkUnit(ms.Unit, p+".Unit"); err != nil {
		return err
	}
	st := deref(ms.Stat)
	var ok bool
	if dq.stat, ok = parseStat(st); !ok {
		return errValue("The value %s for parameter %s.Stat is invalid.", st, p)
	}
	dq.period = int64(deref(ms.Period))
	dq.q = metrics.Query{Scope: scopeOf(ctx), Metric: metrics.Metric{Namespace: ns, Name: name, Dims: ds},
		Unit: deref(ms.Unit), Start: start, End: end, Period: dq.period}
	return nil
}

// result is one series to answer.
type result struct {
	id, label string
	s         *series
}

// evaluate runs every query that is returned or referenced, each once.
func (s *Service) evaluate(qs []*dataQuery, start, end time.Time) ([]result, error) {
	byID := map[string]*dataQuery{}
	var statIDs []string
	gridPeriod := int64(0)
	for _, dq := range qs {
		byID[deref(dq.in.Id)] = dq
		if dq.expr == nil {
			statIDs = append(statIDs, deref(dq.in.Id))
			if gridPeriod == 0 {
				gridPeriod = dq.period
			}
		}
	}
	// done keeps each query's value: a metric's once, an expression's per
	// grid (returned queries may ask for different periods, and FILL or a
	// scalar answer on the grid they are evaluated on).
	done := map[string]value{}
	var gridKey string
	busy := map[string]bool{}
	env := &evalEnv{statIDs: statIDs}
	env.periodOf = func(id string) (int64, bool) {
		dq := byID[id]
		return deref(dq).period, dq != nil && dq.expr == nil
	}
	if len(qs) > 0 {
		env.search = func(expr, st string, period int64) ([]*series, error) {
			return s.search(qs[0].scope, expr, st, period, start, end)
		}
	}
	env.lookup = func(id string) (value, error) {
		dq := byID[id]
		if dq == nil {
			return value{}, fmt.Errorf("unknown metric or expression id %s", id)
		}
		key := id
		if dq.expr != nil {
			key += "@" + gridKey
		}
		if v, ok := done[key]; ok {
			return v, nil
		}
		if busy[id] {
			return value{}, fmt.Errorf("circular reference to %s", id)
		}
		busy[id] = true
		defer delete(busy, id)
		var v value
		if dq.expr == nil {
			v = value{one: s.statSeries(dq)}
		} else {
			var err error
			if v, err = env.eval(dq.expr); err != nil {
				return value{}, err
			}
		}
		done[key] = v
		return v, nil
	}
	var out []result
	for _, dq := range qs {
		if dq.in.ReturnData != nil && !*dq.in.ReturnData {
			continue
		}
		id := deref(dq.in.Id)
		period := cmpOr(dq.period, gridPeriod, 60)
		env.grid, gridKey = s.grid(start, end, period), strconv.FormatInt(period, 10)
		v, err := env.lookup(id)
		if err != nil {
			return nil, errValidation("Error in expression %s: %v", id, err)
		}
		label := deref(dq.in.Label)
		if label == "" {
			label = id
			if dq.expr == nil {
				label = dq.q.Metric.Name
			}
		}
		switch {
		case v.one != nil:
			out = append(out, result{id, label, v.one})
		case v.many != nil:
			for _, sr := range v.many {
				l := label
				if dq.in.Label == nil && sr.label != "" {
					l = sr.label
				}
				out = append(out, result{id, l, sr})
			}
		default:
			// A scalar: AWS answers it at every period of the request.
			sr := &series{ts: env.grid, vs: make([]float64, len(env.grid))}
			for i := range sr.vs {
				sr.vs[i] = *v.scalar
			}
			out = append(out, result{id, label, sr})
		}
	}
	return out, nil
}

func cmpOr(vs ...int64) int64 {
	for _, v := range vs {
		if v != 0 {
			return v
		}
	}
	return 0
}

// statSeries is a MetricStat's series.
func (s *Service) statSeries(dq *dataQuery) *series {
	sr := &series{label: dq.q.Metric.Name}
	for _, p := range s.store.Query(dq.q) {
		if v, ok := dq.stat(&p.Agg); ok {
			sr.ts = append(sr.ts, p.Time.Unix())
			sr.vs = append(sr.vs, v)
		}
	}
	return sr
}

// maxSearchResults is how many series a SEARCH answers at most (AWS: 500).
const maxSearchResults = 500

// search answers SEARCH(expr, st, period): the matching metrics with data
// in [start, end), each a series labelled by its dimension values and
// name, in the store's order.
func (s *Service) search(sc metrics.Scope, expr, st string, period int64, start, end time.Time) ([]*series, error) {
	q, err := parseSearch(expr)
	if err != nil {
		return nil, err
	}
	f, ok := parseStat(st)
	if !ok {
		return nil, fmt.Errorf("invalid statistic %s in SEARCH", st)
	}
	if err := checkPeriod(int32(min(period, math.MaxInt32)), "SEARCH period"); err != nil {
		return nil, fmt.Errorf("invalid period %d in SEARCH", period)
	}
	var out []*series
	for _, mi := range s.store.Metrics(sc) {
		if !q.matches(mi.Metric) || mi.LastPut.Before(start) {
			continue
		}
		sr := s.statSeries(&dataQuery{stat: f, q: metrics.Query{Scope: sc, Metric: mi.Metric, Start: start, End: end, Period: period}})
		if len(sr.ts) == 0 {
			continue
		}
		if len(out) == maxSearchResults {
			break
		}
		sr.label = searchLabel(mi.Metric)
		out = append(out, sr)
	}
	return out, nil
}

// grid is every period start of [start, end), aligned as the store
// aligns a query's periods.
func (s *Service) grid(start, end time.Time, period int64) []int64 {
	t0, _, ok := metrics.PeriodStart(s.now(), start, period)
	if !ok {
		return nil
	}
	var g []int64
	for t := t0.Unix(); t < end.Unix() && len(g) < defaultMaxPoints; t += period {
		g = append(g, t)
	}
	return g
}

// page cuts the results to the timestamps from the from-th (in scan
// order) on, at most maxPoints values in all.
func page(results []result, desc bool, from, maxPoints int) *cloudwatchapi.GetMetricDataOutput {
	var all []int64
	for _, r := range results {
		all = append(all, r.s.ts...)
	}
	slices.Sort(all)
	all = slices.Compact(all)
	if desc {
		slices.Reverse(all)
	}
	count := map[int64]int{}
	for _, r := range results {
		for _, t := range r.s.ts {
			count[t]++
		}
	}
	to, n := from, 0
	for to < len(all) && (to == from || n+count[all[to]] <= maxPoints) {
		n += count[all[to]]
		to++
	}
	in := map[int64]bool{}
	for _, t := range all[min(from, len(all)):min(to, len(all))] {
		in[t] = true
	}
	out := &cloudwatchapi.GetMetricDataOutput{MetricDataResults: []cloudwatchapi.MetricDataResult{}, Messages: []cloudwatchapi.MessageData{}}
	more := to < len(all)
	if more {
		out.NextToken = api.PageToken("GetMetricData", strconv.Itoa(to))
	}
	for _, r := range results {
		res := cloudwatchapi.MetricDataResult{Id: ptr(r.id), Label: ptr(r.label), Timestamps: []time.Time{}, Values: []float64{}, StatusCode: ptr("Complete"), Messages: []cloudwatchapi.MessageData{}}
		if r.s.dropped {
			res.Messages = append(res.Messages, cloudwatchapi.MessageData{Code: ptr("ArithmeticError"),
				Value: ptr("One or more data points have been dropped due to non-numeric values (NaN, -Infinite, +Infinite)")})
		}
		if more {
			res.StatusCode = ptr("PartialData")
		}
		for i, t := range r.s.ts {
			if in[t] {
				res.Timestamps = append(res.Timestamps, time.Unix(t, 0).UTC())
				res.Values = append(res.Values, r.s.vs[i])
			}
		}
		if desc {
			slices.Reverse(res.Timestamps)
			slices.Reverse(res.Values)
		}
		out.MetricDataResults = append(out.MetricDataResults, res)
	}
	return out
}
