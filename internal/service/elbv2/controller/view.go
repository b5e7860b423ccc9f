package controller

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api/elbv2api"
	"github.com/minicloud/minicloud/internal/service/elbv2/records"
	"github.com/minicloud/minicloud/internal/state"
)

// buildView resolves load balancer lb (its Nodes as the pass made them)
// into the View the data plane runs: the records read in one transaction,
// then the instances of instance targets asked of EC2 (whose port opens
// transactions of its own).
func (c *Controller) buildView(ctx context.Context, sc state.Scope, lb *records.LoadBalancer) (View, error) {
	v := View{Account: sc.Account, Region: sc.Region, ARN: deref(lb.LoadBalancerArn), Name: deref(lb.LoadBalancerName),
		DNSName: deref(lb.DNSName), Scheme: deref(lb.Scheme), IPAddressType: deref(lb.IpAddressType), VPCID: deref(lb.VpcId),
		SecurityGroups: slices.Clone(lb.SecurityGroups), Attributes: records.WithDefaults(records.LBAttributes, lb.Attributes)}
	v.Nodes = nodesView(lb.Nodes)
	groups := map[string]records.TargetGroup{}
	err := c.cfg.Store.View(ctx, func(tx state.Tx) error {
		listeners, err := records.ListenersOf(tx, sc, lb.ID)
		if err != nil {
			return err
		}
		for _, l := range listeners {
			vl, err := listenerView(tx, sc, lb.ID, &l)
			if err != nil {
				return err
			}
			v.Listeners = append(v.Listeners, vl)
			for _, r := range vl.Rules {
				for _, a := range r.Actions {
					if a.Forward == nil {
						continue
					}
					for _, t := range a.Forward.TargetGroups {
						if _, ok := groups[t.ARN]; ok {
							continue
						}
						tg, found, err := targetGroupByARN(tx, sc, t.ARN)
						if err != nil {
							return err
						}
						if found {
							groups[t.ARN] = tg
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return View{}, err
	}
	slices.SortFunc(v.Listeners, func(a, b Listener) int { return cmp.Compare(a.Port, b.Port) })
	for _, tg := range groups {
		vt, err := c.targetGroupView(ctx, sc, &tg)
		if err != nil {
			return View{}, err
		}
		v.TargetGroups = append(v.TargetGroups, vt)
	}
	slices.SortFunc(v.TargetGroups, func(a, b TargetGroup) int { return strings.Compare(a.ARN, b.ARN) })
	return v, nil
}

// nodesView is recorded nodes as the data plane sees them.
func nodesView(nodes []records.Node) []Node {
	var out []Node
	for _, n := range nodes {
		node := Node{VPCID: n.VPCID, SubnetID: n.SubnetID, AvailabilityZone: n.AvailabilityZone, ENIID: n.ENIID, MAC: n.MAC}
		node.PrivateIP, _ = netip.ParseAddr(n.PrivateIP)
		node.PublicIP, _ = netip.ParseAddr(n.PublicIP)
		out = append(out, node)
	}
	return out
}

// targetGroupByARN reads the target group an ARN names.
func targetGroupByARN(tx state.Tx, sc state.Scope, arn string) (records.TargetGroup, bool, error) {
	id := arn[strings.LastIndex(arn, "/")+1:]
	tg, found, err := records.TargetGroups.Get(tx, sc, id)
	if err != nil || !found || deref(tg.TargetGroupArn) != arn {
		return records.TargetGroup{}, false, err
	}
	return tg, true, nil
}

// listenerView is a listener with its rules in priority order, the
// default rule last.
func listenerView(tx state.Tx, sc state.Scope, lbID string, l *records.Listener) (Listener, error) {
	arn := deref(l.ListenerArn)
	vl := Listener{ARN: arn, Port: deref(l.Port), Protocol: deref(l.Protocol), SSLPolicy: deref(l.SslPolicy),
		Certificates: l.CertificateARNs(), ALPNPolicy: slices.Clone(l.AlpnPolicy)}
	listenerID := arn[strings.LastIndex(arn, "/")+1:]
	rules, err := records.RulesOf(tx, sc, records.ListenerKey(lbID, listenerID))
	if err != nil {
		return Listener{}, err
	}
	for _, r := range rules {
		p, _ := strconv.Atoi(deref(r.Priority))
		vl.Rules = append(vl.Rules, Rule{ARN: deref(r.RuleArn), Priority: p, Conditions: conditionsView(r.Conditions), Actions: actionsView(r.Actions)})
	}
	slices.SortFunc(vl.Rules, func(a, b Rule) int { return cmp.Compare(a.Priority, b.Priority) })
	defaultARN := strings.Replace(arn, ":listener/", ":listener-rule/", 1) + "/" + l.DefaultRuleID
	vl.Rules = append(vl.Rules, Rule{ARN: defaultARN, IsDefault: true, Actions: actionsView(l.DefaultActions)})
	return vl, nil
}

// conditionsView is a rule's conditions, whichever form they were given
// in (the records hold the config blocks).
func conditionsView(conds []elbv2api.RuleCondition) []Condition {
	var out []Condition
	for _, c := range conds {
		vc := Condition{Field: deref(c.Field)}
		switch {
		case c.HostHeaderConfig != nil:
			vc.Values = slices.Clone(c.HostHeaderConfig.Values)
		case c.PathPatternConfig != nil:
			vc.Values = slices.Clone(c.PathPatternConfig.Values)
		case c.HttpHeaderConfig != nil:
			vc.HeaderName, vc.Values = deref(c.HttpHeaderConfig.HttpHeaderName), slices.Clone(c.HttpHeaderConfig.Values)
		case c.HttpRequestMethodConfig != nil:
			vc.Values = slices.Clone(c.HttpRequestMethodConfig.Values)
		case c.SourceIpConfig != nil:
			vc.Values = slices.Clone(c.SourceIpConfig.Values)
		case c.QueryStringConfig != nil:
			for _, kv := range c.QueryStringConfig.Values {
				vc.QueryStrings = append(vc.QueryStrings, KeyValue{Key: deref(kv.Key), Value: deref(kv.Value)})
			}
		default:
			vc.Values = slices.Clone(c.Values)
		}
		out = append(out, vc)
	}
	return out
}

// actionsView is a rule's actions in their order.
func actionsView(actions []elbv2api.Action) []Action {
	var out []Action
	for _, a := range actions {
		va := Action{Type: deref(a.Type), Order: deref(a.Order)}
		switch va.Type {
		case "forward":
			f := &Forward{}
			if a.ForwardConfig != nil {
				for _, t := range a.ForwardConfig.TargetGroups {
					f.TargetGroups = append(f.TargetGroups, WeightedTargetGroup{ARN: deref(t.TargetGroupArn), Weight: cmp.Or(deref(t.Weight), 0)})
				}
				if st := a.ForwardConfig.TargetGroupStickinessConfig; st != nil && deref(st.Enabled) {
					f.Stickiness = time.Duration(deref(st.DurationSeconds)) * time.Second
				}
			} else if a.TargetGroupArn != nil {
				f.TargetGroups = []WeightedTargetGroup{{ARN: *a.TargetGroupArn, Weight: 1}}
			}
			va.Forward = f
		case "redirect":
			if rc := a.RedirectConfig; rc != nil {
				code := 301
				if deref(rc.StatusCode) == "HTTP_302" {
					code = 302
				}
				va.Redirect = &Redirect{Protocol: deref(rc.Protocol), Port: deref(rc.Port), Host: deref(rc.Host),
					Path: deref(rc.Path), Query: deref(rc.Query), StatusCode: code}
			}
		case "fixed-response":
			if fc := a.FixedResponseConfig; fc != nil {
				code, _ := strconv.Atoi(deref(fc.StatusCode))
				va.FixedResponse = &FixedResponse{StatusCode: code, ContentType: deref(fc.ContentType), Body: deref(fc.MessageBody)}
			}
		}
		out = append(out, va)
	}
	slices.SortStableFunc(out, func(a, b Action) int { return cmp.Compare(a.Order, b.Order) })
	return out
}

// targetGroupView is a target group with its targets resolved: an
// instance target's zone and primary private IP from EC2, and its state.
func (c *Controller) targetGroupView(ctx context.Context, sc state.Scope, tg *records.TargetGroup) (TargetGroup, error) {
	hc := tg.TargetGroup
	vt := TargetGroup{ARN: deref(tg.TargetGroupArn), Name: deref(tg.TargetGroupName), Protocol: deref(tg.Protocol),
		ProtocolVersion: deref(tg.ProtocolVersion), Port: deref(tg.Port), TargetType: deref(tg.TargetType), VPCID: deref(tg.VpcId),
		Attributes: records.WithDefaults(records.TGAttributes, tg.Attributes),
		HealthCheck: HealthCheck{Enabled: deref(hc.HealthCheckEnabled), Protocol: deref(hc.HealthCheckProtocol), Port: deref(hc.HealthCheckPort),
			Path: deref(hc.HealthCheckPath), Interval: time.Duration(deref(hc.HealthCheckIntervalSeconds)) * time.Second,
			Timeout:          time.Duration(deref(hc.HealthCheckTimeoutSeconds)) * time.Second,
			HealthyThreshold: deref(hc.HealthyThresholdCount), UnhealthyThreshold: deref(hc.UnhealthyThresholdCount)}}
	if hc.Matcher != nil {
		vt.HealthCheck.Matcher = cmp.Or(deref(hc.Matcher.HttpCode), deref(hc.Matcher.GrpcCode))
	}
	for _, t := range tg.Targets {
		target := Target{ID: t.ID, Port: t.Port, AvailabilityZone: t.AvailabilityZone, State: Serving}
		if t.DrainingUntil != nil {
			target.State, target.DrainingUntil = Draining, *t.DrainingUntil
		}
		if vt.TargetType == "ip" {
			target.IP, _ = netip.ParseAddr(t.ID)
		} else if c.cfg.EC2 != nil {
			inst, found, err := c.cfg.EC2.Instance(ctx, sc.Account, sc.Region, t.ID)
			if err != nil {
				return TargetGroup{}, fmt.Errorf("look up instance %s: %w", t.ID, err)
			}
			target.AvailabilityZone, target.IP = inst.AvailabilityZone, inst.PrivateIP
			if !found || inst.State != "running" || !inst.PrivateIP.IsValid() {
				if target.State == Serving {
					target.State = Invalid
				}
			}
		} else {
			target.State = Invalid
		}
		vt.Targets = append(vt.Targets, target)
	}
	slices.SortFunc(vt.Targets, func(a, b Target) int {
		return cmp.Or(strings.Compare(a.ID, b.ID), cmp.Compare(a.Port, b.Port))
	})
	return vt, nil
}
