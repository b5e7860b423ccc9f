package cloudwatch

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/cloudwatchapi"
	"github.com/minicloud/minicloud/internal/reconcile"
	"github.com/minicloud/minicloud/internal/state"
)

// alarmRecord is a metric alarm in the state store: its definition as
// PutMetricAlarm gave it (tags apart) and its state.
type alarmRecord struct {
	Def           cloudwatchapi.PutMetricAlarmInput
	ARN           string
	Tags          []state.Tag `json:",omitempty"`
	ConfigUpdated time.Time
	// Generation counts the definition's versions: the evaluator
	// evaluates a new one at once, and never writes a state computed from
	// an older one.
	Generation int64

	State, StateReason, StateReasonData string
	StateUpdated, StateTransitioned     time.Time
	// LeftAlarm is when the alarm last left ALARM (a composite alarm's
	// actions suppressor counts its extension period from it).
	LeftAlarm time.Time `json:",omitempty"`

	// Composite makes the record a composite alarm (Def then holds only
	// the name, description and actions).
	Composite *compositeDef `json:",omitempty"`
	// SuppressedBy and SuppressedReason say why a composite alarm's
	// actions were last not run (ActionsSuppressedBy/Reason).
	SuppressedBy, SuppressedReason string `json:",omitempty"`
	// ActionsDue is when a composite alarm's WaitPeriod ends and the
	// actions of its state run (unless suppressed by then).
	ActionsDue time.Time `json:",omitempty"`
}

// History of alarms: kept apart from the alarms (a deleted alarm's history
// stays, as AWS's does), two weeks.
type historyRecord struct {
	Name, Type, Summary, Data string
	Time                      time.Time
	// Composite: the item is a composite alarm's (AlarmType).
	Composite bool `json:",omitempty"`
}

func (h *historyRecord) alarmType() string {
	if h.Composite {
		return "CompositeAlarm"
	}
	return "MetricAlarm"
}

const historyRetention = 14 * 24 * time.Hour

var (
	alarms  = state.Table[alarmRecord]{Service: "cloudwatch", Kind: "alarm"}
	history = state.Table[historyRecord]{Service: "cloudwatch", Kind: "alarmhistory"}
)

func stateScope(ctx context.Context) state.Scope {
	r := api.Request(ctx)
	return state.Scope{Account: r.Account, Region: r.Region}
}

func alarmARN(sc state.Scope, name string) string {
	return fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", sc.Region, sc.Account, name)
}

func errNotFound(format string, args ...any) error {
	return api.Errorf(http.StatusNotFound, "ResourceNotFound", format, args...)
}

// addHistory writes one history item; seq orders items of the same
// instant.
func addHistory(tx state.Tx, sc state.Scope, h historyRecord) error {
	id := fmt.Sprintf("%020d", h.Time.UnixNano())
	for i := 0; ; i++ {
		k := fmt.Sprintf("%s-%04d", id, i)
		if _, ok := tx.Get(history.Key(sc, k)); !ok {
			return history.Put(tx, sc, k, h)
		}
	}
}

// PutMetricAlarm creates or replaces a metric alarm. A new alarm is
// INSUFFICIENT_DATA ("Unchecked: Initial alarm creation") until its first
// evaluation; a replaced one keeps its state. Either writes a
// ConfigurationUpdate history item.
func (s *Service) PutMetricAlarm(ctx context.Context, in *cloudwatchapi.PutMetricAlarmInput) (*cloudwatchapi.Empty, error) {
	if err := s.checkAlarm(ctx, in); err != nil {
		return nil, err
	}
	tags, err := apiTags(in.Tags)
	if err != nil {
		return nil, err
	}
	sc, name, now := stateScope(ctx), *in.AlarmName, s.now()
	def := *in
	def.Tags = nil
	if def.ActionsEnabled == nil {
		def.ActionsEnabled = ptr(true)
	}
	err = s.state.Update(ctx, func(tx state.Tx) error { return saveAlarm(tx, sc, now, def, nil, tags) })
	if err != nil {
		return nil, fmt.Errorf("put alarm %s: %w", name, err)
	}
	return &cloudwatchapi.Empty{}, nil
}

// saveAlarm writes an alarm's definition (composite nil: a metric alarm)
// in tx: it replaces an existing alarm's of the same kind, keeping its
// state and tags (tags given to an existing alarm are ignored, as AWS does;
// TagResource changes them), or makes a new INSUFFICIENT_DATA alarm
// ("Unchecked: Initial alarm creation"); either way a ConfigurationUpdate
// history item.
func saveAlarm(tx state.Tx, sc state.Scope, now time.Time, def cloudwatchapi.PutMetricAlarmInput, composite *compositeDef, tags []state.Tag) error {
	name := *def.AlarmName
	rec, found, err := alarms.Get(tx, sc, name)
	switch {
	case err != nil:
		return err
	case found && rec.Composite != nil && composite == nil:
		return errValue("The alarm %s is a composite alarm: a metric alarm cannot replace it.", name)
	case found && rec.Composite == nil && composite != nil:
		return errValue("The alarm %s is a metric alarm: a composite alarm cannot replace it.", name)
	}
	h := historyRecord{Name: name, Type: "ConfigurationUpdate", Time: now, Composite: composite != nil}
	if found {
		old := rec.view()
		rec.Def, rec.Composite, rec.ConfigUpdated = def, composite, now
		h.Summary = fmt.Sprintf("Alarm %q updated", name)
		h.Data = historyJSON(map[string]any{"version": "1.0", "type": "Update", "updatedAlarm": rec.view(), "originalUpdatedFields": old})
	} else {
		rec = alarmRecord{Def: def, Composite: composite, ARN: alarmARN(sc, name), Tags: tags, ConfigUpdated: now,
			State: stateInsufficient, StateReason: "Unchecked: Initial alarm creation", StateUpdated: now, StateTransitioned: now}
		h.Summary = fmt.Sprintf("Alarm %q created", name)
		h.Data = historyJSON(map[string]any{"version": "1.0", "type": "Create", "createdAlarm": rec.view()})
	}
	rec.Generation++
	if err := alarms.Put(tx, sc, name, rec); err != nil {
		return err
	}
	return addHistory(tx, sc, h)
}

// view is the alarm as DescribeAlarms answers it, of its kind.
func (r *alarmRecord) view() any {
	if r.Composite != nil {
		return r.compositeAlarm()
	}
	return r.metricAlarm()
}

// checkAlarm checks a PutMetricAlarm request in AWS's order.
func (s *Service) checkAlarm(ctx context.Context, in *cloudwatchapi.PutMetricAlarmInput) error {
	if err := checkLen(in.AlarmName, "AlarmName", 1, 255); err != nil {
		return err
	}
	if err := checkLen(in.AlarmDescription, "AlarmDescription", 0, 1024); err != nil {
		return err
	}
	if err := checkActions(in.OKActions, in.AlarmActions, in.InsufficientDataActions); err != nil {
		return err
	}
	op := deref(in.ComparisonOperator)
	switch {
	case op == "LessThanLowerOrGreaterThanUpperThreshold", op == "LessThanLowerThreshold", op == "GreaterThanUpperThreshold":
		return errValue("The value %s for parameter ComparisonOperator is not supported by minicloud yet: anomaly detection bands are not built.", op)
	case !staticOp(op):
		return errValue("The value %s for parameter ComparisonOperator is invalid.", op)
	case in.ThresholdMetricId != nil:
		return errCombination("ThresholdMetricId is only valid with the anomaly detection ComparisonOperators.")
	case in.Threshold == nil:
		return errValue("Threshold is required for a static threshold alarm.")
	}
	n := deref(in.EvaluationPeriods)
	if n < 1 {
		return errValue("The parameter EvaluationPeriods must be greater than or equal to 1.")
	}
	if in.DatapointsToAlarm != nil && (*in.DatapointsToAlarm < 1 || *in.DatapointsToAlarm > n) {
		return errValue("DatapointsToAlarm must be between 1 and EvaluationPeriods (%d).", n)
	}
	if t := deref(in.TreatMissingData); in.TreatMissingData != nil && !slices.Contains([]string{"missing", "ignore", "breaching", "notBreaching"}, t) {
		return errValue("The value %s for parameter TreatMissingData is invalid. Valid values are breaching, notBreaching, ignore, missing.", t)
	}
	if e := deref(in.EvaluateLowSampleCountPercentile); in.EvaluateLowSampleCountPercentile != nil && e != "evaluate" && e != "ignore" {
		return errValue("The value %s for parameter EvaluateLowSampleCountPercentile is invalid. Valid values are evaluate, ignore.", e)
	}
	if err := checkUnit(in.Unit, "Unit"); err != nil {
		return err
	}
	period, err := s.checkAlarmMetric(ctx, in)
	if err != nil {
		return err
	}
	// The quotas page: a day at most, seven days for periods of an hour
	// or more.
	switch total := int64(period) * int64(n); {
	case period < 3600 && total > 24*3600:
		return errValue("The evaluation period of the alarm (Period × EvaluationPeriods) must not exceed 1 day for a period under an hour.")
	case total > 7*24*3600:
		return errValue("The evaluation period of the alarm (Period × EvaluationPeriods) must not exceed 7 days.")
	}
	return s.checkEC2Actions(ctx, in)
}

// checkEC2Actions refuses EC2 actions on an alarm that does not watch one
// instance: a metric without an InstanceId dimension, or metric math. The
// message is AWS's.
func (s *Service) checkEC2Actions(ctx context.Context, in *cloudwatchapi.PutMetricAlarmInput) error {
	region := api.Request(ctx).Region
	for _, arn := range slices.Concat(in.OKActions, in.AlarmActions, in.InsufficientDataActions) {
		if ec2Action(region, arn) == "" {
			continue
		}
		if len(in.Metrics) > 0 || !slices.ContainsFunc(in.Dimensions, func(d cloudwatchapi.Dimension) bool { return deref(d.Name) == "InstanceId" }) {
			return errValidation("Invalid use of EC2 action. An EC2 action can only be used if the alarm is monitoring an EC2 instance.")
		}
	}
	return nil
}

// checkActions checks an alarm's three action lists: at most 5 ARNs each.
func checkActions(ok, alarm, insufficient []string) error {
	for _, acts := range []struct {
		name string
		arns []string
	}{{"OKActions", ok}, {"AlarmActions", alarm}, {"InsufficientDataActions", insufficient}} {
		if len(acts.arns) > 5 {
			return errTooMany(acts.name, 5)
		}
		for i, a := range acts.arns {
			if !strings.HasPrefix(a, "arn:") {
				return errValue("The value %s for parameter %s.member.%d is invalid.", a, acts.name, i+1)
			}
		}
	}
	return nil
}

// checkAlarmPeriod is the rule of an alarm's period: 10, 20, 30 or a multiple
// of 60.
func checkAlarmPeriod(p int32, param string) error {
	if p == 10 || p == 20 || p == 30 || (p >= 60 && p%60 == 0) {
		return nil
	}
	return errValue("The parameter %s must be 10, 20, 30 or a multiple of 60.", param)
}

// checkAlarmMetric checks the metric (MetricName…) or the metric math
// (Metrics) an alarm watches, and answers the alarm's period.
func (s *Service) checkAlarmMetric(ctx context.Context, in *cloudwatchapi.PutMetricAlarmInput) (int32, error) {
	single := in.MetricName != nil || in.Namespace != nil || in.Statistic != nil || in.ExtendedStatistic != nil || len(in.Dimensions) > 0 || in.Period != nil
	switch {
	case single && len(in.Metrics) > 0:
		return 0, errCombination("The parameters MetricName/Namespace/Statistic/ExtendedStatistic/Dimensions/Period and Metrics are mutually exclusive and you have specified both.")
	case len(in.Metrics) > 0:
		return s.checkAlarmMath(ctx, in.Metrics)
	}
	if in.MetricName == nil {
		return 0, errMissing("The parameter MetricName is required.")
	}
	if in.Namespace == nil {
		return 0, errMissing("The parameter Namespace is required.")
	}
	switch {
	case in.Statistic == nil && in.ExtendedStatistic == nil:
		return 0, errMissing("Must specify either Statistic or ExtendedStatistic.")
	case in.Statistic != nil && in.ExtendedStatistic != nil:
		return 0, errCombination("The parameters Statistic and ExtendedStatistic are mutually exclusive and you have specified both.")
	case in.Statistic != nil && basicStats[*in.Statistic] == nil:
		return 0, errValue("The value %s for parameter Statistic is invalid.", *in.Statistic)
	case in.ExtendedStatistic != nil:
		if _, ok := parseExtendedStat(*in.ExtendedStatistic); !ok {
			return 0, errValue("The value %s for parameter ExtendedStatistic is invalid.", *in.ExtendedStatistic)
		}
	}
	if _, err := dims(in.Dimensions, "Dimensions"); err != nil {
		return 0, err
	}
	if in.Period == nil {
		return 0, errMissing("The parameter Period is required.")
	}
	return *in.Period, checkAlarmPeriod(*in.Period, "Period")
}

// checkAlarmMath checks an alarm's Metrics: GetMetricData's rules, at most
// 10 metrics, exactly one result, every metric of one valid alarm period.
func (s *Service) checkAlarmMath(ctx context.Context, qs []cloudwatchapi.MetricDataQuery) (int32, error) {
	now := s.now()
	if _, err := s.dataQueries(ctx, &cloudwatchapi.GetMetricDataInput{MetricDataQueries: qs, StartTime: ptr(now.Add(-time.Hour)), EndTime: ptr(now)}); err != nil {
		return 0, err
	}
	returned, stats := 0, 0
	var period int32
	for i, q := range qs {
		if q.ReturnData == nil || *q.ReturnData {
			returned++
		}
		if q.MetricStat == nil {
			continue
		}
		stats++
		p := deref(q.MetricStat.Period)
		if err := checkAlarmPeriod(p, fmt.Sprintf("Metrics.member.%d.MetricStat.Period", i+1)); err != nil {
			return 0, err
		}
		if period != 0 && p != period {
			return 0, errValue("All metrics in an alarm's Metrics must have the same period.")
		}
		period = p
	}
	switch {
	case returned != 1:
		return 0, errValue("Exactly one element of the metrics list should return data.")
	case stats == 0:
		return 0, errValue("The Metrics list must contain at least one MetricStat.")
	case stats > 10:
		return 0, errTooMany("Metrics (MetricStat)", 10)
	}
	return period, nil
}

// metricAlarm is the record as DescribeAlarms answers it.
func (r *alarmRecord) metricAlarm() cloudwatchapi.MetricAlarm {
	d := r.Def
	return cloudwatchapi.MetricAlarm{
		AlarmName: d.AlarmName, AlarmArn: ptr(r.ARN), AlarmDescription: d.AlarmDescription,
		AlarmConfigurationUpdatedTimestamp: ptr(r.ConfigUpdated), ActionsEnabled: d.ActionsEnabled,
		OKActions: nonNil(d.OKActions), AlarmActions: nonNil(d.AlarmActions),
		InsufficientDataActions: nonNil(d.InsufficientDataActions),
		StateValue:              ptr(r.State), StateReason: ptr(r.StateReason), StateReasonData: optional(r.StateReasonData),
		StateUpdatedTimestamp: ptr(r.StateUpdated), StateTransitionedTimestamp: ptr(r.StateTransitioned),
		MetricName: d.MetricName, Namespace: d.Namespace, Statistic: d.Statistic, ExtendedStatistic: d.ExtendedStatistic,
		Dimensions: nonNil(d.Dimensions), Period: d.Period, Unit: d.Unit,
		EvaluationPeriods: d.EvaluationPeriods, DatapointsToAlarm: d.DatapointsToAlarm, Threshold: d.Threshold,
		ComparisonOperator: d.ComparisonOperator, TreatMissingData: d.TreatMissingData,
		EvaluateLowSampleCountPercentile: d.EvaluateLowSampleCountPercentile, Metrics: d.Metrics, ThresholdMetricId: d.ThresholdMetricId,
	}
}

// nonNil answers an empty list for none: clients see [] rather than a
// missing member.
func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func historyJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(b)
}

func apiTags(in []cloudwatchapi.Tag) ([]state.Tag, error) {
	if len(in) > 50 {
		return nil, errTooMany("Tags", 50)
	}
	out := make([]state.Tag, 0, len(in))
	for i, t := range in {
		if err := checkLen(t.Key, fmt.Sprintf("Tags.member.%d.Key", i+1), 1, 128); err != nil {
			return nil, err
		}
		if t.Key == nil {
			return nil, errMissing("The parameter Tags.member.%d.Key is required.", i+1)
		}
		out = append(out, state.Tag{Key: *t.Key, Value: deref(t.Value)})
	}
	return out, nil
}

// DescribeAlarms lists alarms by name, name prefix, state and action
// prefix, in name order, 50 a page by default (MaxRecords 1–100): metric
// alarms unless AlarmTypes asks for composite ones. ChildrenOfAlarmName
// answers the alarms a composite alarm's rule names (name, ARN, state and
// its time), ParentsOfAlarmName the composite alarms that name an alarm
// (name and ARN), as the API reference says; either allows only
// MaxRecords and NextToken besides.
func (s *Service) DescribeAlarms(ctx context.Context, in *cloudwatchapi.DescribeAlarmsInput) (*cloudwatchapi.DescribeAlarmsOutput, error) {
	related := in.ChildrenOfAlarmName != nil || in.ParentsOfAlarmName != nil
	switch {
	case len(in.AlarmNames) > 100:
		return nil, errTooMany("AlarmNames", 100)
	case len(in.AlarmNames) > 0 && in.AlarmNamePrefix != nil:
		return nil, errCombination("The parameters AlarmNames and AlarmNamePrefix are mutually exclusive and you have specified both.")
	case related && (in.ChildrenOfAlarmName != nil && in.ParentsOfAlarmName != nil || len(in.AlarmNames) > 0 || in.AlarmNamePrefix != nil ||
		len(in.AlarmTypes) > 0 || in.StateValue != nil || in.ActionPrefix != nil):
		return nil, errValidation("If you specify ChildrenOfAlarmName or ParentsOfAlarmName, you cannot specify any other parameters in the request except for MaxRecords and NextToken.")
	}
	if v := deref(in.StateValue); in.StateValue != nil && v != stateOK && v != stateAlarm && v != stateInsufficient {
		return nil, errValue("The value %s for parameter StateValue is invalid.", v)
	}
	for i, t := range in.AlarmTypes {
		if t != "MetricAlarm" && t != "CompositeAlarm" {
			return nil, errValue("The value %s for parameter AlarmTypes.member.%d is invalid.", t, i+1)
		}
	}
	size, err := pageSize(in.MaxRecords, 50)
	if err != nil {
		return nil, err
	}
	after, ok := api.ParsePageToken("DescribeAlarms", in.NextToken)
	if !ok {
		return nil, api.Errorf(http.StatusBadRequest, "InvalidNextToken", "The value for parameter NextToken is invalid.")
	}
	wantMetric := len(in.AlarmTypes) == 0 || slices.Contains(in.AlarmTypes, "MetricAlarm")
	wantComposite := slices.Contains(in.AlarmTypes, "CompositeAlarm")
	out := &cloudwatchapi.DescribeAlarmsOutput{MetricAlarms: []cloudwatchapi.MetricAlarm{}, CompositeAlarms: []cloudwatchapi.CompositeAlarm{}}
	sc := stateScope(ctx)
	err = s.state.View(ctx, func(tx state.Tx) error {
		var family []string // the children or parents asked for
		switch {
		case in.ChildrenOfAlarmName != nil:
			p, found, err := alarms.Get(tx, sc, *in.ChildrenOfAlarmName)
			if err != nil {
				return err
			}
			if found && p.Composite != nil {
				family = p.Composite.Children
			}
		case in.ParentsOfAlarmName != nil:
			var err error
			if family, err = parentsOf(tx, sc, *in.ParentsOfAlarmName); err != nil {
				return err
			}
		}
		n, last := 0, ""
		return alarms.ForEachShared(tx, sc, func(name string, r *alarmRecord) error {
			switch {
			case in.NextToken != nil && name <= after,
				related && !slices.Contains(family, name),
				!related && (r.Composite == nil && !wantMetric || r.Composite != nil && !wantComposite),
				len(in.AlarmNames) > 0 && !slices.Contains(in.AlarmNames, name),
				!strings.HasPrefix(name, deref(in.AlarmNamePrefix)),
				in.StateValue != nil && r.State != *in.StateValue,
				in.ActionPrefix != nil && !hasActionPrefix(r, *in.ActionPrefix):
				return nil
			}
			if n == size {
				out.NextToken = api.PageToken("DescribeAlarms", last)
				return state.ErrStop
			}
			n, last = n+1, name
			switch {
			case r.Composite != nil && !related:
				out.CompositeAlarms = append(out.CompositeAlarms, r.compositeAlarm())
			case r.Composite != nil:
				out.CompositeAlarms = append(out.CompositeAlarms, cloudwatchapi.CompositeAlarm{AlarmName: ptr(name), AlarmArn: ptr(r.ARN)})
			case !related:
				out.MetricAlarms = append(out.MetricAlarms, r.metricAlarm())
			default:
				out.MetricAlarms = append(out.MetricAlarms, cloudwatchapi.MetricAlarm{AlarmName: ptr(name), AlarmArn: ptr(r.ARN)})
			}
			if in.ChildrenOfAlarmName != nil {
				// Children also say their state and its time.
				if r.Composite != nil {
					c := &out.CompositeAlarms[len(out.CompositeAlarms)-1]
					c.StateValue, c.StateUpdatedTimestamp = ptr(r.State), ptr(r.StateUpdated)
				} else {
					m := &out.MetricAlarms[len(out.MetricAlarms)-1]
					m.StateValue, m.StateUpdatedTimestamp = ptr(r.State), ptr(r.StateUpdated)
				}
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("describe alarms: %w", err)
	}
	return out, nil
}

func hasActionPrefix(r *alarmRecord, prefix string) bool {
	for _, acts := range [][]string{r.Def.OKActions, r.Def.AlarmActions, r.Def.InsufficientDataActions} {
		for _, a := range acts {
			if strings.HasPrefix(a, prefix) {
				return true
			}
		}
	}
	return false
}

func pageSize(max *int32, def int) (int, error) {
	if max == nil {
		return def, nil
	}
	if *max < 1 || *max > 100 {
		return 0, errValue("The parameter MaxRecords must be between 1 and 100.")
	}
	return int(*max), nil
}

// DescribeAlarmsForMetric lists the metric alarms on one metric; the
// statistic, dimensions, period and unit narrow it when given.
func (s *Service) DescribeAlarmsForMetric(ctx context.Context, in *cloudwatchapi.DescribeAlarmsForMetricInput) (*cloudwatchapi.DescribeAlarmsForMetricOutput, error) {
	want, err := dims(in.Dimensions, "Dimensions")
	if err != nil {
		return nil, err
	}
	out := &cloudwatchapi.DescribeAlarmsForMetricOutput{MetricAlarms: []cloudwatchapi.MetricAlarm{}}
	err = s.state.View(ctx, func(tx state.Tx) error {
		return alarms.ForEachShared(tx, stateScope(ctx), func(_ string, r *alarmRecord) error {
			d := r.Def
			have, _ := dims(d.Dimensions, "Dimensions")
			switch {
			case r.Composite != nil, deref(d.MetricName) != deref(in.MetricName), deref(d.Namespace) != deref(in.Namespace),
				in.Statistic != nil && deref(d.Statistic) != *in.Statistic,
				in.ExtendedStatistic != nil && deref(d.ExtendedStatistic) != *in.ExtendedStatistic,
				len(in.Dimensions) > 0 && !slices.Equal(have, want),
				in.Period != nil && deref(d.Period) != *in.Period,
				in.Unit != nil && deref(d.Unit) != *in.Unit:
				return nil
			}
			out.MetricAlarms = append(out.MetricAlarms, r.metricAlarm())
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("describe alarms for metric: %w", err)
	}
	return out, nil
}

// DeleteAlarms deletes alarms, all or none (the API reference: "If you
// specify an incorrect alarm name or make any other error in the
// operation, no alarms are deleted"): at most one composite alarm a call,
// and no alarm that a composite alarm left standing still names.
func (s *Service) DeleteAlarms(ctx context.Context, in *cloudwatchapi.DeleteAlarmsInput) (*cloudwatchapi.Empty, error) {
	if len(in.AlarmNames) > 100 {
		return nil, errTooMany("AlarmNames", 100)
	}
	sc, now := stateScope(ctx), s.now()
	err := s.state.Update(ctx, func(tx state.Tx) error {
		composites := 0
		for _, name := range in.AlarmNames {
			r, found, err := alarms.Get(tx, sc, name)
			if err != nil {
				return err
			}
			if !found {
				return errNotFound("The following alarms were not found: %s", name)
			}
			if r.Composite != nil {
				if composites++; composites > 1 {
					return errValidation("You can delete at most one composite alarm in one operation.")
				}
			}
			parents, err := parentsOf(tx, sc, name)
			if err != nil {
				return err
			}
			parents = slices.DeleteFunc(parents, func(p string) bool { return slices.Contains(in.AlarmNames, p) })
			if len(parents) > 0 {
				return errValidation("Could not delete alarm %s: it is referenced by the composite alarm(s) [%s].", name, strings.Join(parents, ", "))
			}
		}
		for _, name := range in.AlarmNames {
			r, found, err := alarms.Get(tx, sc, name)
			if err != nil || !found {
				// Named twice: deleted already.
				continue
			}
			if err := alarms.Delete(tx, sc, name); err != nil {
				return err
			}
			h := historyRecord{Name: name, Type: "ConfigurationUpdate", Time: now, Composite: r.Composite != nil,
				Summary: fmt.Sprintf("Alarm %q deleted", name),
				Data:    historyJSON(map[string]any{"version": "1.0", "type": "Delete", "deletedAlarm": r.view()})}
			if err := addHistory(tx, sc, h); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &cloudwatchapi.Empty{}, nil
}

// EnableAlarmActions turns the alarms' actions on; unknown names are
// skipped.
func (s *Service) EnableAlarmActions(ctx context.Context, in *cloudwatchapi.EnableAlarmActionsInput) (*cloudwatchapi.Empty, error) {
	return s.setActionsEnabled(ctx, in.AlarmNames, true)
}

// DisableAlarmActions turns them off: the alarm still changes state.
func (s *Service) DisableAlarmActions(ctx context.Context, in *cloudwatchapi.DisableAlarmActionsInput) (*cloudwatchapi.Empty, error) {
	return s.setActionsEnabled(ctx, in.AlarmNames, false)
}

func (s *Service) setActionsEnabled(ctx context.Context, names []string, on bool) (*cloudwatchapi.Empty, error) {
	if len(names) > 100 {
		return nil, errTooMany("AlarmNames", 100)
	}
	sc := stateScope(ctx)
	err := s.state.Update(ctx, func(tx state.Tx) error {
		for _, name := range names {
			r, found, err := alarms.Get(tx, sc, name)
			if err != nil || !found {
				return err
			}
			r.Def.ActionsEnabled = ptr(on)
			if err := alarms.Put(tx, sc, name, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("alarm actions: %w", err)
	}
	return &cloudwatchapi.Empty{}, nil
}

// SetAlarmState sets an alarm's state until its next evaluation, and runs
// the new state's actions as a transition does.
func (s *Service) SetAlarmState(ctx context.Context, in *cloudwatchapi.SetAlarmStateInput) (*cloudwatchapi.Empty, error) {
	v := deref(in.StateValue)
	if v != stateOK && v != stateAlarm && v != stateInsufficient {
		return nil, errValue("The value %s for parameter StateValue is invalid.", v)
	}
	if err := checkLen(in.StateReason, "StateReason", 0, 1023); err != nil {
		return nil, err
	}
	if d := in.StateReasonData; d != nil && !json.Valid([]byte(*d)) {
		return nil, api.Errorf(http.StatusBadRequest, "InvalidFormat", "The StateReasonData is not valid JSON.")
	}
	sc, name := stateScope(ctx), deref(in.AlarmName)
	tr, err := s.transition(ctx, sc, name, -1, v, deref(in.StateReason), deref(in.StateReasonData))
	if err != nil {
		return nil, err
	}
	if tr == nil {
		// Not an error when the state is the same: AWS answers success.
		return &cloudwatchapi.Empty{}, nil
	}
	s.runActions(ctx, sc, tr)
	return &cloudwatchapi.Empty{}, nil
}

// transition moves an alarm to state (a no-op when it is in it already)
// with a StateUpdate history item, in one transaction; generation, unless
// negative, must still be the alarm's (the definition the state was
// computed from). It answers the alarm as it now is when it moved.
func (s *Service) transition(ctx context.Context, sc state.Scope, name string, generation int64, to, why, data string) (*alarmRecord, error) {
	var (
		moved   *alarmRecord
		parents []string
	)
	now := s.now()
	err := s.state.Update(ctx, func(tx state.Tx) error {
		r, found, err := alarms.Get(tx, sc, name)
		if err != nil {
			return err
		}
		if !found {
			if generation < 0 {
				return errNotFound("The alarm %s does not exist.", name)
			}
			return nil
		}
		if (generation >= 0 && r.Generation != generation) || r.State == to {
			return nil
		}
		oldState := map[string]any{"stateValue": r.State, "stateReason": r.StateReason}
		if r.StateReasonData != "" {
			oldState["stateReasonData"] = json.RawMessage(r.StateReasonData)
		}
		newState := map[string]any{"stateValue": to, "stateReason": why}
		if data != "" {
			newState["stateReasonData"] = json.RawMessage(data)
		}
		h := historyRecord{Name: name, Type: "StateUpdate", Time: now, Composite: r.Composite != nil,
			Summary: fmt.Sprintf("Alarm updated from %s to %s", r.State, to),
			Data:    historyJSON(map[string]any{"version": "1.0", "oldState": oldState, "newState": newState})}
		if r.State == stateAlarm {
			r.LeftAlarm = now
		}
		r.State, r.StateReason, r.StateReasonData = to, why, data
		r.StateUpdated, r.StateTransitioned = now, now
		if r.SuppressedBy, r.SuppressedReason, err = suppressed(tx, sc, &r, now, true); err != nil {
			return err
		}
		r.ActionsDue = time.Time{}
		if r.SuppressedBy == "WaitPeriod" {
			r.ActionsDue = now.Add(time.Duration(r.Composite.WaitPeriod) * time.Second)
		}
		if err := alarms.Put(tx, sc, name, r); err != nil {
			return err
		}
		moved = &r
		if parents, err = parentsOf(tx, sc, name); err != nil {
			return err
		}
		return addHistory(tx, sc, h)
	})
	if err != nil {
		return nil, err
	}
	// The composite alarms that name it are evaluated at once, as AWS
	// evaluates them when a child changes state.
	for _, p := range parents {
		s.evaluator.ctl.Enqueue(reconcile.Key{Scope: sc, ID: p})
	}
	return moved, nil
}

// DescribeAlarmHistory answers the history items of two weeks, newest
// first unless ScanBy says otherwise, 100 a page by default.
func (s *Service) DescribeAlarmHistory(ctx context.Context, in *cloudwatchapi.DescribeAlarmHistoryInput) (*cloudwatchapi.DescribeAlarmHistoryOutput, error) {
	if t := deref(in.HistoryItemType); in.HistoryItemType != nil && !slices.Contains([]string{"ConfigurationUpdate", "StateUpdate", "Action", "AlarmContributorStateUpdate", "AlarmContributorAction"}, t) {
		return nil, errValue("The value %s for parameter HistoryItemType is invalid.", t)
	}
	scan := cmp.Or(deref(in.ScanBy), "TimestampDescending")
	if scan != "TimestampDescending" && scan != "TimestampAscending" {
		return nil, errValue("The value %s for parameter ScanBy is invalid.", scan)
	}
	size, err := pageSize(in.MaxRecords, 100)
	if err != nil {
		return nil, err
	}
	after, ok := api.ParsePageToken("DescribeAlarmHistory", in.NextToken)
	if !ok {
		return nil, api.Errorf(http.StatusBadRequest, "InvalidNextToken", "The value for parameter NextToken is invalid.")
	}
	// As DescribeAlarms: metric alarms' items unless AlarmTypes says.
	types := in.AlarmTypes
	if len(types) == 0 {
		types = []string{"MetricAlarm"}
	}
	type item struct {
		id string
		h  historyRecord
	}
	var items []item
	oldest := s.now().Add(-historyRetention)
	err = s.state.View(ctx, func(tx state.Tx) error {
		return history.ForEach(tx, stateScope(ctx), func(id string, h historyRecord) error {
			switch {
			case h.Time.Before(oldest),
				in.AlarmName != nil && h.Name != *in.AlarmName,
				!slices.Contains(types, h.alarmType()),
				in.HistoryItemType != nil && h.Type != *in.HistoryItemType,
				in.StartDate != nil && h.Time.Before(*in.StartDate),
				in.EndDate != nil && !h.Time.Before(*in.EndDate):
				return nil
			}
			items = append(items, item{id, h})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("describe alarm history: %w", err)
	}
	if scan == "TimestampDescending" {
		slices.Reverse(items)
	}
	out := &cloudwatchapi.DescribeAlarmHistoryOutput{AlarmHistoryItems: []cloudwatchapi.AlarmHistoryItem{}}
	last := ""
	for _, it := range items {
		if in.NextToken != nil && (scan == "TimestampDescending" && it.id >= after || scan == "TimestampAscending" && it.id <= after) {
			continue
		}
		if len(out.AlarmHistoryItems) == size {
			// The token names the last item answered: the next page
			// starts after it.
			out.NextToken = api.PageToken("DescribeAlarmHistory", last)
			break
		}
		h := it.h
		last = it.id
		out.AlarmHistoryItems = append(out.AlarmHistoryItems, cloudwatchapi.AlarmHistoryItem{AlarmName: ptr(h.Name), AlarmType: ptr(h.alarmType()),
			Timestamp: ptr(h.Time), HistoryItemType: ptr(h.Type), HistorySummary: ptr(h.Summary), HistoryData: ptr(h.Data)})
	}
	return out, nil
}
