package cloudwatch

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api/cloudwatchapi"
	"github.com/minicloud/minicloud/internal/reconcile"
	"github.com/minicloud/minicloud/internal/state"
)

// compositeDef is what makes an alarm record a composite alarm: its rule,
// the children the rule names (kept so that a child's change finds its
// parents without parsing every rule) and its actions suppressor.
type compositeDef struct {
	Rule     string
	Children []string
	// Suppressor is the alarm whose ALARM state suppresses this alarm's
	// actions; the periods are seconds.
	Suppressor                  string `json:",omitempty"`
	WaitPeriod, ExtensionPeriod int32  `json:",omitempty"`
}

func alarmARNPrefix(sc state.Scope) string { return alarmARN(sc, "") }

// PutCompositeAlarm creates or replaces a composite alarm: a rule over
// other alarms' states. Every alarm the rule names must exist. A new one is
// INSUFFICIENT_DATA until the evaluator first reads its rule (at once); it
// is then ALARM while the rule is true and OK otherwise.
func (s *Service) PutCompositeAlarm(ctx context.Context, in *cloudwatchapi.PutCompositeAlarmInput) (*cloudwatchapi.Empty, error) {
	if err := checkLen(in.AlarmName, "AlarmName", 1, 255); err != nil {
		return nil, err
	}
	if err := checkLen(in.AlarmDescription, "AlarmDescription", 0, 1024); err != nil {
		return nil, err
	}
	if err := checkActions(in.OKActions, in.AlarmActions, in.InsufficientDataActions); err != nil {
		return nil, err
	}
	if err := checkLen(in.AlarmRule, "AlarmRule", 1, maxRuleLen); err != nil {
		return nil, err
	}
	sc, name, now := stateScope(ctx), *in.AlarmName, s.now()
	if in.AlarmRule == nil {
		return nil, errMissing("The parameter AlarmRule is required.")
	}
	rule, err := parseRule(*in.AlarmRule, alarmARNPrefix(sc))
	if err != nil {
		return nil, errValue("The value for parameter AlarmRule is invalid: %v.", err)
	}
	def := compositeDef{Rule: *in.AlarmRule, Children: rule.children}
	if in.ActionsSuppressor != nil {
		def.Suppressor = strings.TrimPrefix(*in.ActionsSuppressor, alarmARNPrefix(sc))
		switch {
		case in.ActionsSuppressorWaitPeriod == nil || in.ActionsSuppressorExtensionPeriod == nil:
			return nil, errMissing("ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod are required when ActionsSuppressor is specified.")
		case *in.ActionsSuppressorWaitPeriod < 0 || *in.ActionsSuppressorExtensionPeriod < 0:
			return nil, errValue("ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod must not be negative.")
		}
		def.WaitPeriod, def.ExtensionPeriod = *in.ActionsSuppressorWaitPeriod, *in.ActionsSuppressorExtensionPeriod
	} else if in.ActionsSuppressorWaitPeriod != nil || in.ActionsSuppressorExtensionPeriod != nil {
		return nil, errCombination("ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod are only valid with ActionsSuppressor.")
	}
	tags, err := apiTags(in.Tags)
	if err != nil {
		return nil, err
	}
	common := cloudwatchapi.PutMetricAlarmInput{AlarmName: in.AlarmName, AlarmDescription: in.AlarmDescription,
		ActionsEnabled: in.ActionsEnabled, OKActions: in.OKActions, AlarmActions: in.AlarmActions, InsufficientDataActions: in.InsufficientDataActions}
	if common.ActionsEnabled == nil {
		common.ActionsEnabled = ptr(true)
	}
	err = s.state.Update(ctx, func(tx state.Tx) error {
		var missing []string
		for _, c := range append(slices.Clone(def.Children), def.Suppressor) {
			if c == "" {
				continue
			}
			if _, ok, err := alarms.Get(tx, sc, c); err != nil {
				return err
			} else if !ok && !slices.Contains(missing, c) {
				missing = append(missing, c)
			}
		}
		if len(missing) > 0 {
			return errValidation("Could not save the composite alarm as alarms [%s] in the alarm rule do not exist", strings.Join(missing, ", "))
		}
		return saveAlarm(tx, sc, now, common, &def, tags)
	})
	if err != nil {
		return nil, fmt.Errorf("put composite alarm %s: %w", name, err)
	}
	return &cloudwatchapi.Empty{}, nil
}

// compositeAlarm is the record as DescribeAlarms answers a composite alarm.
func (r *alarmRecord) compositeAlarm() cloudwatchapi.CompositeAlarm {
	d, c := r.Def, r.Composite
	out := cloudwatchapi.CompositeAlarm{
		AlarmName: d.AlarmName, AlarmArn: ptr(r.ARN), AlarmDescription: d.AlarmDescription, AlarmRule: ptr(c.Rule),
		AlarmConfigurationUpdatedTimestamp: ptr(r.ConfigUpdated), ActionsEnabled: d.ActionsEnabled,
		OKActions: nonNil(d.OKActions), AlarmActions: nonNil(d.AlarmActions), InsufficientDataActions: nonNil(d.InsufficientDataActions),
		StateValue: ptr(r.State), StateReason: ptr(r.StateReason), StateReasonData: optional(r.StateReasonData),
		StateUpdatedTimestamp: ptr(r.StateUpdated), StateTransitionedTimestamp: ptr(r.StateTransitioned),
		ActionsSuppressedBy: optional(r.SuppressedBy), ActionsSuppressedReason: optional(r.SuppressedReason),
	}
	if c.Suppressor != "" {
		out.ActionsSuppressor = ptr(c.Suppressor)
		out.ActionsSuppressorWaitPeriod, out.ActionsSuppressorExtensionPeriod = ptr(c.WaitPeriod), ptr(c.ExtensionPeriod)
	}
	return out
}

// compositeReasonTime is how AWS writes the time a child moved in a
// composite alarm's StateReason ("Monday 07 December, 2026 17:00:00 UTC").
const compositeReasonTime = "Monday 02 January, 2006 15:04:05 MST"

// evaluateComposite answers a composite alarm's state, reason and reason
// data from its children's states as they are now; "" when it cannot be
// evaluated: a child is missing (deleted while… cannot happen through the
// API, but a restore might) or the alarm is part of a cycle of composite
// alarms, whose evaluation AWS stops.
func (s *Service) evaluateComposite(ctx context.Context, sc state.Scope, name string, r *alarmRecord) (string, string, string, error) {
	all := map[string]alarmRecord{}
	err := s.state.View(ctx, func(tx state.Tx) error {
		return alarms.ForEach(tx, sc, func(n string, a alarmRecord) error {
			all[n] = a
			return nil
		})
	})
	if err != nil {
		return "", "", "", err
	}
	if inCycle(all, name) {
		return "", "", "", nil
	}
	rule, err := parseRule(r.Composite.Rule, alarmARNPrefix(sc))
	if err != nil {
		return "", "", "", fmt.Errorf("alarm rule: %w", err)
	}
	states := map[string]string{}
	var trigger *alarmRecord
	for _, c := range rule.children {
		a, ok := all[c]
		if !ok {
			return "", "", "", nil
		}
		states[c] = a.State
		if trigger == nil || a.StateTransitioned.After(trigger.StateTransitioned) {
			trigger = &a
		}
	}
	to := okOrAlarm(rule.root.eval(states))
	if trigger == nil {
		// TRUE, FALSE or a rule of them alone: no child to name.
		return to, fmt.Sprintf("The alarm rule evaluated to %s.", strings.ToUpper(fmt.Sprint(to == stateAlarm))), "", nil
	}
	why := fmt.Sprintf("%s transitioned to %s at %s", trigger.ARN, trigger.State, trigger.StateTransitioned.UTC().Format(compositeReasonTime))
	data := historyJSON(map[string]any{"triggeringAlarms": []any{map[string]any{"arn": trigger.ARN,
		"state": map[string]any{"value": trigger.State, "timestamp": trigger.StateTransitioned.UTC().Format(awsTime)}}}})
	return to, why, data, nil
}

// inCycle reports whether the composite alarm name is its own descendant.
func inCycle(all map[string]alarmRecord, name string) bool {
	seen := map[string]bool{}
	var walk func(n string) bool
	walk = func(n string) bool {
		r, ok := all[n]
		if !ok || r.Composite == nil || seen[n] {
			return false
		}
		seen[n] = true
		for _, c := range r.Composite.Children {
			if c == name || walk(c) {
				return true
			}
		}
		return false
	}
	return walk(name)
}

// reconcileComposite evaluates a composite alarm: at every reconcile (a
// child's change enqueues it, see transition) and on the clock.
func (e *Evaluator) reconcileComposite(ctx context.Context, k reconcile.Key, r *alarmRecord) (reconcile.Result, error) {
	s := e.s
	to, why, data, err := s.evaluateComposite(ctx, k.Scope, k.ID, r)
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("evaluate composite alarm %s: %w", k.ID, err)
	}
	due := r.ActionsDue
	if to != "" && to != r.State {
		moved, err := s.transition(ctx, k.Scope, k.ID, r.Generation, to, why, data)
		if err != nil {
			return reconcile.Result{}, err
		}
		if moved != nil {
			s.runActions(ctx, k.Scope, moved)
			due = moved.ActionsDue
		}
	}
	next := s.cfg.EvaluationInterval
	if !due.IsZero() {
		if wait := due.Sub(s.now()); wait > 0 {
			next = min(next, wait)
		} else if err := s.dueActions(ctx, k.Scope, k.ID, due); err != nil {
			return reconcile.Result{}, err
		}
	}
	return reconcile.Requeue(next), nil
}

// parentsOf answers the composite alarms whose rule names the alarm.
func parentsOf(tx state.Tx, sc state.Scope, name string) ([]string, error) {
	var out []string
	err := alarms.ForEach(tx, sc, func(n string, r alarmRecord) error {
		if r.Composite != nil && slices.Contains(r.Composite.Children, name) {
			out = append(out, n)
		}
		return nil
	})
	return out, err
}

// suppressed answers why a composite alarm's actions are not run now, ""
// when they are: its suppressor is in ALARM (AWS's ActionsSuppressedBy
// Alarm), or left ALARM less than ExtensionPeriod ago (ExtensionPeriod),
// or — wait, on a move into ALARM — the alarm waits up to WaitPeriod for
// its suppressor to go into ALARM (WaitPeriod; the evaluator runs the
// actions then, see dueActions).
func suppressed(tx state.Tx, sc state.Scope, r *alarmRecord, now time.Time, wait bool) (by, why string, err error) {
	if r.Composite == nil || r.Composite.Suppressor == "" {
		return "", "", nil
	}
	sup, found, err := alarms.Get(tx, sc, r.Composite.Suppressor)
	if err != nil || !found {
		return "", "", err
	}
	switch {
	case sup.State == stateAlarm:
		return "Alarm", fmt.Sprintf("Alarm %s is in ALARM state.", r.Composite.Suppressor), nil
	case sup.LeftAlarm.After(now.Add(-time.Duration(r.Composite.ExtensionPeriod) * time.Second)):
		return "ExtensionPeriod", fmt.Sprintf("Alarm %s left the ALARM state less than %d seconds ago.", r.Composite.Suppressor, r.Composite.ExtensionPeriod), nil
	case wait && r.State == stateAlarm && r.Composite.WaitPeriod > 0:
		return "WaitPeriod", fmt.Sprintf("Waiting up to %d seconds for alarm %s to go into ALARM state.", r.Composite.WaitPeriod, r.Composite.Suppressor), nil
	}
	return "", "", nil
}

// dueActions ends a composite alarm's WaitPeriod once it is over: the
// actions of the state it is still in run, unless its suppressor went into
// ALARM meanwhile (then they are suppressed by Alarm).
func (s *Service) dueActions(ctx context.Context, sc state.Scope, name string, due time.Time) error {
	var run *alarmRecord
	now := s.now()
	err := s.state.Update(ctx, func(tx state.Tx) error {
		r, found, err := alarms.Get(tx, sc, name)
		if err != nil || !found || !r.ActionsDue.Equal(due) {
			return err
		}
		r.ActionsDue = time.Time{}
		if r.SuppressedBy, r.SuppressedReason, err = suppressed(tx, sc, &r, now, false); err != nil {
			return err
		}
		if r.SuppressedBy == "" {
			run = &r
		}
		return alarms.Put(tx, sc, name, r)
	})
	if err == nil && run != nil {
		s.runActions(ctx, sc, run)
	}
	return err
}
