package cloudwatch

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/cloudwatchapi"
	"github.com/minicloud/minicloud/internal/ec2port"
	"github.com/minicloud/minicloud/internal/reconcile"
	"github.com/minicloud/minicloud/internal/state"
)

// DefaultEvaluationInterval is how often AWS evaluates an alarm.
const DefaultEvaluationInterval = time.Minute

// highResInterval is how often an alarm of a 10 or 30 second period is
// evaluated.
const highResInterval = 10 * time.Second

// Evaluator evaluates every alarm on a clock, as CloudWatch does: each
// alarm once an interval (Config.EvaluationInterval, a minute; 10 seconds
// at most for a high-resolution alarm), and a new or changed definition at
// once. It runs on internal/reconcile, one key per alarm: an alarm's
// writes enqueue it, but only a new definition or a due evaluation
// evaluates it, so a state SetAlarmState gave lasts until the next
// evaluation. A change of state is one transaction (state and history),
// then the new state's actions run. It is a part of its own: the server
// starts it after EC2, whose instances its actions stop.
type Evaluator struct {
	s   *Service
	ctl *reconcile.Controller[reconcile.Key]

	mu   sync.Mutex
	seen map[reconcile.Key]evaluated

	// The history pruner's loop.
	stopPrune chan struct{}
	pruned    sync.WaitGroup
}

// pruneInterval is how often history older than two weeks is deleted.
const pruneInterval = time.Hour

// evaluated is when an alarm's definition of a generation was evaluated
// and is due again.
type evaluated struct {
	generation int64
	next       time.Time
}

func newEvaluator(s *Service) *Evaluator {
	e := &Evaluator{s: s, seen: map[reconcile.Key]evaluated{}}
	e.ctl = reconcile.New("cloudwatch alarms", reconcile.Func[reconcile.Key](e.reconcile), reconcile.Options[reconcile.Key]{
		Logger:  s.cfg.Logger,
		Store:   s.state,
		Sources: []reconcile.Source[reconcile.Key]{reconcile.Objects(alarms.Service, alarms.Kind)},
		List:    e.list,
	})
	return e
}

// Evaluator is the alarm evaluator, a part the server starts.
func (s *Service) Evaluator() *Evaluator { return s.evaluator }

// Start starts evaluating, and pruning the history of two weeks ago
// (now, then every pruneInterval).
func (e *Evaluator) Start(ctx context.Context) error {
	if err := e.ctl.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	e.stopPrune = make(chan struct{})
	e.pruned.Add(1)
	go e.pruneLoop(context.WithoutCancel(ctx), e.stopPrune)
	return nil
}

// Stop stops evaluating, waiting for evaluations in flight.
func (e *Evaluator) Stop(ctx context.Context) error {
	if e.stopPrune != nil {
		close(e.stopPrune)
		e.pruned.Wait()
		e.stopPrune = nil
	}
	return e.ctl.Stop(ctx)
}

func (e *Evaluator) pruneLoop(ctx context.Context, stop <-chan struct{}) {
	defer e.pruned.Done()
	t := time.NewTicker(pruneInterval)
	defer t.Stop()
	for {
		if n, err := e.s.pruneHistory(ctx, e.s.now()); err != nil {
			e.s.cfg.Logger.Warn("cloudwatch: prune alarm history", "err", err)
		} else if n > 0 {
			e.s.cfg.Logger.Debug("cloudwatch: pruned alarm history", "items", n)
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// pruneHistory deletes the history items of every account and region
// older than historyRetention (AWS keeps two weeks); DescribeAlarmHistory
// already leaves them out, this frees the space.
func (s *Service) pruneHistory(ctx context.Context, now time.Time) (int, error) {
	oldest := now.Add(-historyRetention).UnixNano()
	type item struct {
		sc state.Scope
		id string
	}
	var old []item
	err := s.state.View(ctx, func(tx state.Tx) error {
		return tx.Scan("", func(key string, _ []byte) error {
			sc, id, ok := history.ParseKey(key)
			if !ok {
				return nil
			}
			// Ids start with the item's time in nanoseconds (addHistory).
			nanos, _, _ := strings.Cut(id, "-")
			if n, err := strconv.ParseInt(nanos, 10, 64); err == nil && n < oldest {
				old = append(old, item{sc, id})
			}
			return nil
		})
	})
	if err != nil || len(old) == 0 {
		return 0, err
	}
	err = s.state.Update(ctx, func(tx state.Tx) error {
		for _, it := range old {
			if err := history.Delete(tx, it.sc, it.id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(old), nil
}

// Health is the controller's counters.
func (e *Evaluator) Health() map[string]any { return e.ctl.Status().Map() }

func (e *Evaluator) list(ctx context.Context) ([]reconcile.Key, error) {
	var keys []reconcile.Key
	err := e.s.state.View(ctx, func(tx state.Tx) error {
		return tx.Scan("", func(key string, _ []byte) error {
			if sc, id, ok := alarms.ParseKey(key); ok {
				keys = append(keys, reconcile.Key{Scope: sc, ID: id})
			}
			return nil
		})
	})
	return keys, err
}

func (e *Evaluator) reconcile(ctx context.Context, k reconcile.Key) (reconcile.Result, error) {
	s := e.s
	var (
		r     alarmRecord
		found bool
	)
	err := s.state.View(ctx, func(tx state.Tx) error {
		var err error
		r, found, err = alarms.Get(tx, k.Scope, k.ID)
		return err
	})
	if err != nil {
		return reconcile.Result{}, err
	}
	e.mu.Lock()
	if !found {
		delete(e.seen, k)
		e.mu.Unlock()
		return reconcile.Result{}, nil
	}
	now := s.now()
	last, ok := e.seen[k]
	e.mu.Unlock()
	if r.Composite != nil {
		return e.reconcileComposite(ctx, k, &r)
	}
	if ok && last.generation == r.Generation && now.Before(last.next) {
		return reconcile.Requeue(last.next.Sub(now)), nil
	}
	interval := s.cfg.EvaluationInterval
	if alarmPeriod(&r) < 60 {
		interval = min(interval, highResInterval)
	}
	e.mu.Lock()
	e.seen[k] = evaluated{r.Generation, now.Add(interval)}
	e.mu.Unlock()

	ru, v, data, err := s.evaluateAlarm(ctx, k.Scope, &r, now)
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("evaluate alarm %s: %w", k.ID, err)
	}
	if v.state != "" && v.state != r.State {
		moved, err := s.transition(ctx, k.Scope, k.ID, r.Generation, v.state, reason(ru, v, r.State), data)
		if err != nil {
			return reconcile.Result{}, err
		}
		if moved != nil {
			s.runActions(ctx, k.Scope, moved)
		}
	}
	return reconcile.Requeue(interval), nil
}

// alarmPeriod is the period of the alarm's metric or metric math.
func alarmPeriod(r *alarmRecord) int32 {
	if r.Def.Period != nil {
		return *r.Def.Period
	}
	for _, q := range r.Def.Metrics {
		if q.MetricStat != nil {
			return deref(q.MetricStat.Period)
		}
	}
	return 60
}

// evaluateAlarm reads the alarm's evaluation range (EvaluationPeriods +
// extraPeriods whole periods before now) through GetMetricData's code,
// so that metric math alarms evaluate as GetMetricData answers, and
// decides; it answers AWS's StateReasonData too.
func (s *Service) evaluateAlarm(ctx context.Context, sc state.Scope, r *alarmRecord, now time.Time) (rule, verdict, string, error) {
	d := r.Def
	n := int(deref(d.EvaluationPeriods))
	ru := rule{n: n, m: int(deref(d.DatapointsToAlarm)), op: deref(d.ComparisonOperator), threshold: deref(d.Threshold), treat: deref(d.TreatMissingData)}
	if ru.m == 0 {
		ru.m = n
	}
	period := int64(alarmPeriod(r))
	end := time.Unix(now.Unix()/period*period, 0).UTC()
	start := end.Add(-time.Duration(int64(n+extraPeriods)*period) * time.Second)
	queries := d.Metrics
	stat := deref(d.Statistic)
	if len(queries) == 0 {
		stat = cmpOrString(stat, deref(d.ExtendedStatistic))
		queries = []cloudwatchapi.MetricDataQuery{{Id: ptr("m1"), MetricStat: &cloudwatchapi.MetricStat{
			Metric: &cloudwatchapi.Metric{Namespace: d.Namespace, MetricName: d.MetricName, Dimensions: d.Dimensions},
			Period: ptr(int32(period)), Stat: ptr(stat), Unit: d.Unit}}}
	}
	qctx := api.WithRequest(ctx, &api.RequestInfo{Account: sc.Account, Region: sc.Region, Service: "monitoring", Operation: "GetMetricData"})
	qs, err := s.dataQueries(qctx, &cloudwatchapi.GetMetricDataInput{MetricDataQueries: queries, StartTime: &start, EndTime: &end})
	if err != nil {
		return ru, verdict{}, "", err
	}
	results, err := s.evaluate(qs, start, end)
	if err != nil {
		return ru, verdict{}, "", err
	}
	values := map[int64]float64{}
	if len(results) > 0 {
		for i, t := range results[0].s.ts {
			values[t] = results[0].s.vs[i]
		}
	}
	var pts []point
	for t := start.Unix(); t < end.Unix(); t += period {
		v, ok := values[t]
		pts = append(pts, point{t: time.Unix(t, 0).UTC(), v: v, missing: !ok})
	}
	v := decide(ru, pts)
	if deref(d.EvaluateLowSampleCountPercentile) == "ignore" && v.state != "" {
		low, err := s.lowSamples(qctx, queries[0], d.ExtendedStatistic, v.evaluated, start, end)
		if err != nil {
			return ru, verdict{}, "", err
		}
		if low {
			// Too few samples for the percentile to mean much: the
			// state stays.
			v.state = ""
		}
	}
	return ru, v, reasonData(ru, v, pts, now, stat, period, len(d.Metrics) == 0), nil
}

// minSamples is how many samples a period needs for its pth percentile
// to be statistically significant, for EvaluateLowSampleCountPercentile
// ignore. AWS does not publish its rule; minicloud asks for ten samples
// beyond the percentile: 10/(1-p), or 10/p under the median (p90: 100,
// p99: 1,000, p50: 20). p0 and p100 (the minimum, the maximum) need one.
func minSamples(p float64) float64 {
	q := p / 100
	// Rounded up, less a relative epsilon: 10/(1-0.999) is 10000.000…1.
	up := func(x float64) float64 { return math.Ceil(x * (1 - 1e-9)) }
	switch {
	case q <= 0 || q >= 1:
		return 1
	case q >= 0.5:
		return up(10 / (1 - q))
	}
	return up(10 / q)
}

// lowSamples answers whether any of the evaluated datapoints of a
// percentile alarm had fewer samples than minSamples.
func (s *Service) lowSamples(ctx context.Context, q cloudwatchapi.MetricDataQuery, ext *string, evaluated []point, start, end time.Time) (bool, error) {
	if ext == nil || q.MetricStat == nil {
		return false, nil
	}
	p, err := strconv.ParseFloat(strings.TrimPrefix(*ext, "p"), 64)
	if err != nil {
		return false, nil
	}
	ms := *q.MetricStat
	ms.Stat = ptr("SampleCount")
	qs, err := s.dataQueries(ctx, &cloudwatchapi.GetMetricDataInput{StartTime: &start, EndTime: &end,
		MetricDataQueries: []cloudwatchapi.MetricDataQuery{{Id: ptr("n"), MetricStat: &ms}}})
	if err != nil {
		return false, err
	}
	counts := s.statSeries(qs[0])
	need := minSamples(p)
	for _, pt := range evaluated {
		i, found := slices.BinarySearch(counts.ts, pt.t.Unix())
		if found && counts.vs[i] < need {
			return true, nil
		}
	}
	return false, nil
}

func cmpOrString(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// awsTime is the time format of AWS's StateReasonData.
const awsTime = "2006-01-02T15:04:05.000-0700"

// reasonData is AWS's StateReasonData JSON: the query's time, the range's
// start, the recent datapoints (oldest first), the threshold and the
// evaluated datapoints (newest first).
func reasonData(ru rule, v verdict, pts []point, now time.Time, stat string, period int64, single bool) string {
	type evaluatedPoint struct {
		Timestamp string  `json:"timestamp"`
		Value     float64 `json:"value"`
	}
	recent := []float64{}
	for _, p := range pts {
		if !p.missing {
			recent = append(recent, p.v)
		}
	}
	ev := []evaluatedPoint{}
	for _, p := range v.evaluated {
		ev = append(ev, evaluatedPoint{p.t.Format(awsTime), p.v})
	}
	data := map[string]any{"version": "1.0", "queryDate": now.UTC().Format(awsTime), "recentDatapoints": recent,
		"threshold": ru.threshold, "evaluatedDatapoints": ev}
	if len(pts) > 0 {
		data["startDate"] = pts[len(pts)-min(len(pts), ru.n)].t.Format(awsTime)
	}
	if single {
		data["statistic"], data["period"] = stat, period
	}
	return historyJSON(data)
}

// runActions runs the actions of the state the alarm has just entered,
// when its actions are enabled, each an Action history item.
func (s *Service) runActions(ctx context.Context, sc state.Scope, r *alarmRecord) {
	if !deref(r.Def.ActionsEnabled) || r.SuppressedBy != "" {
		return
	}
	var arns []string
	switch r.State {
	case stateOK:
		arns = r.Def.OKActions
	case stateAlarm:
		arns = r.Def.AlarmActions
	case stateInsufficient:
		arns = r.Def.InsufficientDataActions
	}
	name := deref(r.Def.AlarmName)
	for _, arn := range arns {
		err := s.act(ctx, sc, r, arn)
		h := historyRecord{Name: name, Type: "Action", Time: s.now(), Composite: r.Composite != nil}
		data := map[string]any{"actionState": "Succeeded", "stateUpdateTimestamp": r.StateUpdated.UnixMilli(), "notificationResource": arn}
		if err != nil {
			s.cfg.Logger.Warn("cloudwatch: alarm action failed", "alarm", name, "action", arn, "err", err)
			h.Summary = fmt.Sprintf("Failed to execute action %s. Received error: %q", arn, err.Error())
			data["actionState"], data["error"] = "Failed", err.Error()
		} else {
			h.Summary = "Successfully executed action " + arn
		}
		h.Data = historyJSON(data)
		if err := s.state.Update(ctx, func(tx state.Tx) error { return addHistory(tx, sc, h) }); err != nil {
			s.cfg.Logger.Warn("cloudwatch: alarm action history", "alarm", name, "err", err)
		}
	}
}

// errUnsupportedAction is an action minicloud does not run yet (SNS,
// Auto Scaling, Systems Manager, EC2 recover…): recorded as failed.
var errUnsupportedAction = errors.New("minicloud does not run this kind of alarm action yet")

// ec2Action answers the EC2 action an action ARN names
// (arn:aws:automate:<region>:ec2:stop|terminate|reboot|recover), "" when
// it names none.
func ec2Action(region, arn string) string {
	op, ok := strings.CutPrefix(arn, "arn:aws:automate:"+region+":ec2:")
	if ok && slices.Contains([]string{ec2port.ActionStop, ec2port.ActionTerminate, ec2port.ActionReboot, ec2port.ActionRecover}, op) {
		return op
	}
	return ""
}

// act runs one action: an EC2 action (ec2Action) on the alarm's
// InstanceId dimension, through EC2's port.
func (s *Service) act(ctx context.Context, sc state.Scope, r *alarmRecord, arn string) error {
	op := ec2Action(sc.Region, arn)
	if op == "" {
		return errUnsupportedAction
	}
	instance := ""
	for _, d := range r.Def.Dimensions {
		if deref(d.Name) == "InstanceId" {
			instance = deref(d.Value)
		}
	}
	switch {
	case instance == "":
		return errors.New("an EC2 action needs the alarm's metric to have an InstanceId dimension")
	case s.instances == nil:
		return errors.New("EC2 is not available to CloudWatch")
	}
	return s.instances.InstanceAction(ctx, sc.Account, sc.Region, instance, op)
}

// forget drops every alarm's last evaluation.
func (e *Evaluator) forget() {
	e.mu.Lock()
	clear(e.seen)
	e.mu.Unlock()
}
