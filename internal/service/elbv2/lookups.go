package elbv2

import (
	"context"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/service/elbv2/records"
	"github.com/minicloud/minicloud/internal/state"
)

// The record tables, by their short names.
var (
	lbTable       = records.LoadBalancers
	listenerTable = records.Listeners
	ruleTable     = records.Rules
	tgTable       = records.TargetGroups
)

// The not-found errors: AWS answers a list of ARNs with one message
// whatever their number.
func errLBNotFound() error {
	return errCode("LoadBalancerNotFound", "One or more load balancers not found")
}

func errListenerNotFound() error {
	return errCode("ListenerNotFound", "One or more listeners not found")
}

func errRuleNotFound() error { return errCode("RuleNotFound", "One or more rules not found") }

func errTGNotFound() error {
	return errCode("TargetGroupNotFound", "One or more target groups not found")
}

// kindNouns are what an ARN of each kind is called in "is not a valid …
// ARN".
var kindNouns = map[arnKind]string{kindLoadBalancer: "load balancer", kindListener: "listener",
	kindRule: "listener rule", kindTargetGroup: "target group"}

func errBadARN(arn string, k arnKind) error {
	return errValidation("'%s' is not a valid %s ARN", arn, kindNouns[k])
}

// update runs fn in a write transaction.
func (s *Service) update(ctx context.Context, fn func(tx state.Tx) error) error {
	return s.store.Update(context.WithoutCancel(ctx), fn)
}

// view runs fn in a read transaction.
func (s *Service) view(ctx context.Context, fn func(tx state.Tx) error) error {
	return s.store.View(context.WithoutCancel(ctx), fn)
}

// getByARN reads the record of table t that arn (of kind k) names, with
// AWS's errors: ValidationError for a malformed ARN, notFound for one that
// names nothing here.
func getByARN[T any](tx state.Tx, sc state.Scope, t state.Table[T], arn string, k arnKind, arnOf func(*T) string, notFound func() error) (T, error) {
	var zero T
	p, mine, ok := parseARN(sc, arn, k)
	if !ok {
		return zero, errBadARN(arn, k)
	}
	if !mine {
		return zero, notFound()
	}
	v, found, err := t.Get(tx, sc, p.key)
	if err != nil {
		return zero, err
	}
	if !found || arnOf(&v) != arn {
		return zero, notFound()
	}
	return v, nil
}

func getLB(tx state.Tx, sc state.Scope, arn string) (records.LoadBalancer, error) {
	return getByARN(tx, sc, lbTable, arn, kindLoadBalancer, func(r *records.LoadBalancer) string { return deref(r.LoadBalancerArn) }, errLBNotFound)
}

func getListener(tx state.Tx, sc state.Scope, arn string) (records.Listener, error) {
	return getByARN(tx, sc, listenerTable, arn, kindListener, func(r *records.Listener) string { return deref(r.ListenerArn) }, errListenerNotFound)
}

func getTG(tx state.Tx, sc state.Scope, arn string) (records.TargetGroup, error) {
	return getByARN(tx, sc, tgTable, arn, kindTargetGroup, func(r *records.TargetGroup) string { return deref(r.TargetGroupArn) }, errTGNotFound)
}

// ruleRef is a rule found by ARN: a rule record, or a listener's default
// rule (listener set, rule nil).
type ruleRef struct {
	key      string // the rule's table ID
	rule     *records.Rule
	listener records.Listener // the rule's listener
}

// getRule finds a rule by ARN, the default rules included.
func getRule(tx state.Tx, sc state.Scope, arn string) (ruleRef, error) {
	p, mine, ok := parseARN(sc, arn, kindRule)
	if !ok {
		return ruleRef{}, errBadARN(arn, kindRule)
	}
	if !mine {
		return ruleRef{}, errRuleNotFound()
	}
	lbID, rest, _ := strings.Cut(p.key, "/")
	listenerID, ruleID, _ := strings.Cut(rest, "/")
	l, found, err := listenerTable.Get(tx, sc, records.ListenerKey(lbID, listenerID))
	if err != nil {
		return ruleRef{}, err
	}
	if !found {
		return ruleRef{}, errRuleNotFound()
	}
	if l.DefaultRuleID == ruleID {
		if defaultRuleARN(sc, &l) != arn {
			return ruleRef{}, errRuleNotFound()
		}
		return ruleRef{key: p.key, listener: l}, nil
	}
	r, found, err := ruleTable.Get(tx, sc, p.key)
	if err != nil {
		return ruleRef{}, err
	}
	if !found || deref(r.RuleArn) != arn {
		return ruleRef{}, errRuleNotFound()
	}
	return ruleRef{key: p.key, rule: &r, listener: l}, nil
}

// lbByName finds a load balancer by name.
func lbByName(tx state.Tx, sc state.Scope, name string) (*records.LoadBalancer, error) {
	var out *records.LoadBalancer
	err := lbTable.ForEachShared(tx, sc, func(_ string, lb *records.LoadBalancer) error {
		if deref(lb.LoadBalancerName) == name {
			out = state.Clone(lb)
			return state.ErrStop
		}
		return nil
	})
	return out, err
}

// tgByName finds a target group by name.
func tgByName(tx state.Tx, sc state.Scope, name string) (*records.TargetGroup, error) {
	var out *records.TargetGroup
	err := tgTable.ForEachShared(tx, sc, func(_ string, tg *records.TargetGroup) error {
		if deref(tg.TargetGroupName) == name {
			out = state.Clone(tg)
			return state.ErrStop
		}
		return nil
	})
	return out, err
}

// lbUsing are the ARNs of the load balancers a listener's default action
// or a rule of forwards to target group arn (at most one: AWS allows a
// target group behind one load balancer).
func lbsUsing(tx state.Tx, sc state.Scope, tgARN string) ([]string, error) {
	used := map[string]bool{}
	err := listenerTable.ForEachShared(tx, sc, func(_ string, l *records.Listener) error {
		if slices.Contains(forwardedGroups(l.DefaultActions), tgARN) {
			used[deref(l.LoadBalancerArn)] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = ruleTable.ForEachShared(tx, sc, func(id string, r *records.Rule) error {
		if slices.Contains(forwardedGroups(r.Actions), tgARN) {
			lb, found, err := lbTable.Get(tx, sc, records.LoadBalancerOf(id))
			if err != nil || !found {
				return err
			}
			used[deref(lb.LoadBalancerArn)] = true
		}
		return nil
	})
	out := make([]string, 0, len(used))
	for a := range used {
		out = append(out, a)
	}
	slices.Sort(out)
	return out, err
}
