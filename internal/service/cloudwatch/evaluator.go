package cloudwatch

import (
	"context"
	"errors"
	"fmt"
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
}

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

// Start starts evaluating.
func (e *Evaluator) Start(ctx context.Context) error { return e.ctl.Start(context.WithoutCancel(ctx)) }

// Stop stops evaluating, waiting for evaluations in flight.
func (e *Evaluator) Stop(ctx context.Context) error { return e.ctl.Stop(ctx) }

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
	return ru, v, reasonData(ru, v, pts, now, stat, period, len(d.Metrics) == 0), nil
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

// act runs one action: arn:aws:automate:<region>:ec2:stop|terminate|reboot
// on the alarm's InstanceId dimension, through EC2's port.
func (s *Service) act(ctx context.Context, sc state.Scope, r *alarmRecord, arn string) error {
	op, ok := strings.CutPrefix(arn, "arn:aws:automate:"+sc.Region+":ec2:")
	if !ok || (op != ec2port.ActionStop && op != ec2port.ActionTerminate && op != ec2port.ActionReboot) {
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
