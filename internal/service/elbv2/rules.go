package elbv2

import (
	"context"
	"fmt"
	"strconv"

	"github.com/minicloud/minicloud/internal/api/elbv2api"
	"github.com/minicloud/minicloud/internal/service/elbv2/records"
	"github.com/minicloud/minicloud/internal/state"
)

// Listener rules: CreateRule, DeleteRule, DescribeRules, ModifyRule and
// SetRulePriorities. Priorities are 1 to 50000, unique per listener; the
// default rule (the listener's default actions) has priority "default"
// and IsDefault, cannot be deleted nor given conditions or a priority.

const (
	maxPriority      = 50000
	maxRulesPerLB    = 100
	defaultPriority  = "default"
	defaultRuleOrder = maxPriority + 1 // sorts the default rule last
)

func errPriorityInUse(p int32) error {
	return errCode("PriorityInUse", "Priority '%d' is currently in use", p)
}

// priorityOf is a rule record's priority.
func priorityOf(r *records.Rule) int {
	n, _ := strconv.Atoi(deref(r.Priority))
	return n
}

// describeDefaultRule is a listener's default rule as DescribeRules shows
// it.
func describeDefaultRule(sc state.Scope, l *records.Listener) elbv2api.Rule {
	return elbv2api.Rule{RuleArn: ptr(defaultRuleARN(sc, l)), Priority: ptr(defaultPriority),
		Conditions: []elbv2api.RuleCondition{}, Actions: l.DefaultActions, IsDefault: ptr(true)}
}

// rulesOfLB counts the rules of a load balancer's listeners.
func rulesOfLB(tx state.Tx, sc state.Scope, lbID string) (int, error) {
	n := 0
	err := ruleTable.ForEachShared(tx, sc, func(id string, _ *records.Rule) error {
		if records.LoadBalancerOf(id) == lbID {
			n++
		}
		return nil
	})
	return n, err
}

// CreateRule implements elbv2api.Server.
func (s *Service) CreateRule(ctx context.Context, in *elbv2api.CreateRuleInput) (*elbv2api.CreateRuleOutput, error) {
	sc := scopeOf(ctx)
	if in.Priority == nil {
		return nil, errValidation("A rule priority must be specified")
	}
	prio := *in.Priority
	if prio < 1 || prio > maxPriority {
		return nil, errRange(int64(prio), "priority", 1, maxPriority)
	}
	conds, err := checkConditions(in.Conditions)
	if err != nil {
		return nil, err
	}
	acts, err := checkActionsAlone(in.Actions)
	if err != nil {
		return nil, err
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	var out records.Rule
	err = s.update(ctx, func(tx state.Tx) error {
		l, err := getListener(tx, sc, deref(in.ListenerArn))
		if err != nil {
			return err
		}
		lb, err := getLB(tx, sc, deref(l.LoadBalancerArn))
		if err != nil {
			return err
		}
		if err := checkActionGroups(tx, sc, &lb, acts); err != nil {
			return err
		}
		lkey := listenerKeyOf(sc, &l)
		rules, err := records.RulesOf(tx, sc, lkey)
		if err != nil {
			return err
		}
		for _, r := range rules {
			if priorityOf(&r) == int(prio) {
				return errPriorityInUse(prio)
			}
		}
		if n, err := rulesOfLB(tx, sc, lb.ID); err != nil || n >= maxRulesPerLB {
			return firstErr(err, errCode("TooManyRules", "You've reached the limit on the number of rules per load balancer"))
		}
		id := newID()
		_, listenerID, _ := cutKey(lkey)
		out = records.Rule{Tags: tags}
		out.Rule = elbv2api.Rule{RuleArn: ptr(ruleARN(sc, deref(lb.LoadBalancerName), lb.ID, listenerID, id)),
			Priority: ptr(strconv.Itoa(int(prio))), Conditions: conds, Actions: acts, IsDefault: ptr(false)}
		return ruleTable.Put(tx, sc, records.RuleKey(lb.ID, listenerID, id), out)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.CreateRuleOutput{Rules: []elbv2api.Rule{out.Rule}}, nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// cutKey splits a listener's table ID into load balancer and listener IDs.
func cutKey(key string) (lbID, listenerID string, ok bool) {
	for i := 0; i < len(key); i++ {
		if key[i] == '/' {
			return key[:i], key[i+1:], true
		}
	}
	return key, "", false
}

// DeleteRule implements elbv2api.Server.
func (s *Service) DeleteRule(ctx context.Context, in *elbv2api.DeleteRuleInput) (*elbv2api.DeleteRuleOutput, error) {
	sc := scopeOf(ctx)
	err := s.update(ctx, func(tx state.Tx) error {
		ref, err := getRule(tx, sc, deref(in.RuleArn))
		if err != nil {
			return err
		}
		if ref.rule == nil {
			return errCode("OperationNotPermitted", "You cannot delete the default rule of a listener")
		}
		return ruleTable.Delete(tx, sc, ref.key)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.DeleteRuleOutput{}, nil
}

// ruleEntry is a described rule with its sort key (listener, priority).
type ruleEntry struct {
	key  string
	rule elbv2api.Rule
}

func entryOf(listenerARN string, prio int, r elbv2api.Rule) ruleEntry {
	return ruleEntry{key: fmt.Sprintf("%s/%05d", listenerARN, prio), rule: r}
}

// DescribeRules implements elbv2api.Server: a listener's rules in priority
// order, the default rule last, or rules by ARN.
func (s *Service) DescribeRules(ctx context.Context, in *elbv2api.DescribeRulesInput) (*elbv2api.DescribeRulesOutput, error) {
	sc := scopeOf(ctx)
	switch {
	case in.ListenerArn == nil && len(in.RuleArns) == 0:
		return nil, errValidation("You must specify either listener rule ARNs or a listener ARN")
	case in.ListenerArn != nil && len(in.RuleArns) > 0:
		return nil, errValidation("Listener rule ARNs and a listener ARN cannot be specified at the same time")
	}
	var list []ruleEntry
	err := s.view(ctx, func(tx state.Tx) error {
		if in.ListenerArn != nil {
			l, err := getListener(tx, sc, *in.ListenerArn)
			if err != nil {
				return err
			}
			rules, err := records.RulesOf(tx, sc, listenerKeyOf(sc, &l))
			if err != nil {
				return err
			}
			for _, r := range rules {
				list = append(list, entryOf(*in.ListenerArn, priorityOf(&r), r.Rule))
			}
			list = append(list, entryOf(*in.ListenerArn, defaultRuleOrder, describeDefaultRule(sc, &l)))
			return nil
		}
		for _, arn := range in.RuleArns {
			ref, err := getRule(tx, sc, arn)
			if err != nil {
				return err
			}
			if ref.rule == nil {
				list = append(list, entryOf(deref(ref.listener.ListenerArn), defaultRuleOrder, describeDefaultRule(sc, &ref.listener)))
			} else {
				list = append(list, entryOf(deref(ref.listener.ListenerArn), priorityOf(ref.rule), ref.rule.Rule))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	page, next, err := paginate(dedupe(list, func(e ruleEntry) string { return deref(e.rule.RuleArn) }), in.PageSize, in.Marker,
		func(e ruleEntry) string { return e.key })
	if err != nil {
		return nil, err
	}
	out := &elbv2api.DescribeRulesOutput{Rules: []elbv2api.Rule{}, NextMarker: next}
	for _, e := range page {
		out.Rules = append(out.Rules, e.rule)
	}
	return out, nil
}

// ModifyRule implements elbv2api.Server: the conditions and actions given
// replace the rule's; a default rule takes actions only.
func (s *Service) ModifyRule(ctx context.Context, in *elbv2api.ModifyRuleInput) (*elbv2api.ModifyRuleOutput, error) {
	sc := scopeOf(ctx)
	var conds []elbv2api.RuleCondition
	var acts []elbv2api.Action
	var err error
	if len(in.Conditions) > 0 {
		if conds, err = checkConditions(in.Conditions); err != nil {
			return nil, err
		}
	}
	if len(in.Actions) > 0 {
		if acts, err = checkActionsAlone(in.Actions); err != nil {
			return nil, err
		}
	}
	var out elbv2api.Rule
	err = s.update(ctx, func(tx state.Tx) error {
		ref, err := getRule(tx, sc, deref(in.RuleArn))
		if err != nil {
			return err
		}
		lb, err := getLB(tx, sc, deref(ref.listener.LoadBalancerArn))
		if err != nil {
			return err
		}
		if acts != nil {
			if err := checkActionGroups(tx, sc, &lb, acts); err != nil {
				return err
			}
		}
		if ref.rule == nil {
			if conds != nil {
				return errCode("OperationNotPermitted", "You cannot add conditions to the default rule of a listener")
			}
			l := ref.listener
			if acts != nil {
				l.DefaultActions = acts
			}
			out = describeDefaultRule(sc, &l)
			return putListener(tx, sc, &l)
		}
		r := *ref.rule
		if conds != nil {
			r.Conditions = conds
		}
		if acts != nil {
			r.Actions = acts
		}
		out = r.Rule
		return ruleTable.Put(tx, sc, ref.key, r)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.ModifyRuleOutput{Rules: []elbv2api.Rule{out}}, nil
}

// SetRulePriorities implements elbv2api.Server: all the rules move at
// once, so priorities may be swapped within one call.
func (s *Service) SetRulePriorities(ctx context.Context, in *elbv2api.SetRulePrioritiesInput) (*elbv2api.SetRulePrioritiesOutput, error) {
	sc := scopeOf(ctx)
	if len(in.RulePriorities) == 0 {
		return nil, errValidation("At least one rule priority must be specified")
	}
	seen := map[int32]bool{}
	for _, rp := range in.RulePriorities {
		p := deref(rp.Priority)
		if p < 1 || p > maxPriority {
			return nil, errRange(int64(p), "rulePriorities.member.priority", 1, maxPriority)
		}
		if seen[p] {
			return nil, errValidation("Priority '%d' was provided multiple times", p)
		}
		seen[p] = true
	}
	var out []elbv2api.Rule
	err := s.update(ctx, func(tx state.Tx) error {
		moved := map[string]records.Rule{} // by table key
		listeners := map[string]bool{}
		for _, rp := range in.RulePriorities {
			ref, err := getRule(tx, sc, deref(rp.RuleArn))
			if err != nil {
				return err
			}
			if ref.rule == nil {
				return errCode("OperationNotPermitted", "You cannot change the priority of the default rule of a listener")
			}
			r := *ref.rule
			r.Priority = ptr(strconv.Itoa(int(deref(rp.Priority))))
			moved[ref.key] = r
			listeners[listenerKeyOf(sc, &ref.listener)] = true
		}
		for lkey := range listeners {
			rules, err := records.RulesOf(tx, sc, lkey)
			if err != nil {
				return err
			}
			used := map[int]bool{}
			for _, r := range rules {
				p, _, _ := parseARN(sc, deref(r.RuleArn), kindRule)
				if m, ok := moved[p.key]; ok {
					r = m
				}
				if used[priorityOf(&r)] {
					return errPriorityInUse(int32(priorityOf(&r)))
				}
				used[priorityOf(&r)] = true
			}
		}
		for _, rp := range in.RulePriorities {
			p, _, _ := parseARN(sc, deref(rp.RuleArn), kindRule)
			r := moved[p.key]
			if err := ruleTable.Put(tx, sc, p.key, r); err != nil {
				return err
			}
			out = append(out, r.Rule)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.SetRulePrioritiesOutput{Rules: out}, nil
}
