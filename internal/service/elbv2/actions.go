package elbv2

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/minicloud/minicloud/internal/api/elbv2api"
	"github.com/minicloud/minicloud/internal/lazyregexp"
	"github.com/minicloud/minicloud/internal/service/elbv2/records"
	"github.com/minicloud/minicloud/internal/state"
)

// Actions of rules and of listeners' default rules: forward (one target
// group, or ForwardConfig with up to five weighted groups and group
// stickiness), redirect and fixed-response, each rule ending with exactly
// one of them. The authenticate-oidc and authenticate-cognito actions are
// refused: minicloud has no identity provider to send a user to.
// Describe shows an action as AWS does: Order set, a forward's
// TargetGroupArn and ForwardConfig both, a redirect's defaults filled in.

const (
	actionForward  = "forward"
	actionRedirect = "redirect"
	actionFixed    = "fixed-response"
)

var actionTypes = []string{actionForward, "authenticate-oidc", "authenticate-cognito", actionRedirect, actionFixed}

const (
	maxForwardGroups = 5
	maxWeight        = 999
	maxStickiness    = 604800
	maxFixedBody     = 1024
	maxOrder         = 50000
)

var fixedStatus = lazyregexp.New(`^(2|4|5)\d\d$`)

var fixedContentTypes = []string{"text/plain", "text/css", "text/html", "application/javascript", "application/json"}

// checkActionsAlone validates actions without the records (types, orders,
// the configs' values) and returns them normalized, as stored.
func checkActionsAlone(actions []elbv2api.Action) ([]elbv2api.Action, error) {
	if len(actions) == 0 {
		return nil, errValidation("An action must be specified")
	}
	out := make([]elbv2api.Action, 0, len(actions))
	orders := map[int32]bool{}
	for i, a := range actions {
		typ := deref(a.Type)
		if !slices.Contains(actionTypes, typ) {
			return nil, errValidation("1 validation error detected: Value '%s' at 'actions.%d.member.type' failed to satisfy constraint: Member must satisfy enum value set: [%s]", typ, i+1, join(actionTypes))
		}
		if strings.HasPrefix(typ, "authenticate-") {
			return nil, errCode("InvalidLoadBalancerAction", "minicloud does not support %s actions: it has no identity provider to authenticate users with", typ)
		}
		order := int32(i + 1)
		if a.Order != nil {
			order = *a.Order
			if order < 1 || order > maxOrder {
				return nil, errRange(int64(order), "actions."+strconv.Itoa(i+1)+".member.order", 1, maxOrder)
			}
		}
		if orders[order] {
			return nil, errCode("InvalidLoadBalancerAction", "The action order '%d' is used more than once", order)
		}
		orders[order] = true
		n := elbv2api.Action{Type: ptr(typ), Order: ptr(order)}
		var err error
		switch typ {
		case actionForward:
			n.TargetGroupArn, n.ForwardConfig, err = checkForward(&a)
		case actionRedirect:
			n.RedirectConfig, err = checkRedirect(a.RedirectConfig)
		case actionFixed:
			n.FixedResponseConfig, err = checkFixed(a.FixedResponseConfig, i+1)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	slices.SortStableFunc(out, func(a, b elbv2api.Action) int { return cmp.Compare(*a.Order, *b.Order) })
	for i, a := range out {
		terminal := deref(a.Type) == actionForward || deref(a.Type) == actionRedirect || deref(a.Type) == actionFixed
		if terminal != (i == len(out)-1) {
			return nil, errCode("InvalidLoadBalancerAction", "The last action must be a forward, redirect or fixed-response action, and only the last")
		}
	}
	return out, nil
}

// checkForward validates a forward action and returns its TargetGroupArn
// (set when it forwards to one group) and ForwardConfig, defaults filled.
func checkForward(a *elbv2api.Action) (*string, *elbv2api.ForwardActionConfig, error) {
	if a.ForwardConfig == nil {
		if deref(a.TargetGroupArn) == "" {
			return nil, nil, errValidation("A target group ARN must be specified for forward actions")
		}
		return a.TargetGroupArn, &elbv2api.ForwardActionConfig{
			TargetGroups:                []elbv2api.TargetGroupTuple{{TargetGroupArn: a.TargetGroupArn, Weight: ptr(int32(1))}},
			TargetGroupStickinessConfig: &elbv2api.TargetGroupStickinessConfig{Enabled: ptr(false)},
		}, nil
	}
	fc := a.ForwardConfig
	switch {
	case len(fc.TargetGroups) == 0:
		return nil, nil, errValidation("A target group ARN must be specified for forward actions")
	case len(fc.TargetGroups) > maxForwardGroups:
		return nil, nil, errCode("TooManyTargetGroups", "A forward action can have at most '%d' target groups", maxForwardGroups)
	case a.TargetGroupArn != nil && (len(fc.TargetGroups) != 1 || deref(fc.TargetGroups[0].TargetGroupArn) != *a.TargetGroupArn):
		return nil, nil, errValidation("You cannot specify a target group ARN in both the action and its forward configuration unless it is the only target group of both")
	}
	out := &elbv2api.ForwardActionConfig{}
	seen := map[string]bool{}
	for _, t := range fc.TargetGroups {
		arn := deref(t.TargetGroupArn)
		if arn == "" {
			return nil, nil, errValidation("A target group ARN must be specified for forward actions")
		}
		if seen[arn] {
			return nil, nil, errValidation("Target group '%s' is specified more than once in the forward configuration", arn)
		}
		seen[arn] = true
		w := int32(1)
		if t.Weight != nil {
			w = *t.Weight
			if w < 0 || w > maxWeight {
				return nil, nil, errRange(int64(w), "actions.member.forwardConfig.targetGroups.member.weight", 0, maxWeight)
			}
		}
		out.TargetGroups = append(out.TargetGroups, elbv2api.TargetGroupTuple{TargetGroupArn: ptr(arn), Weight: ptr(w)})
	}
	st := &elbv2api.TargetGroupStickinessConfig{Enabled: ptr(false)}
	if sc := fc.TargetGroupStickinessConfig; sc != nil && deref(sc.Enabled) {
		d := deref(sc.DurationSeconds)
		if d < 1 || d > maxStickiness {
			return nil, nil, errValidation("The target group stickiness duration must be between 1 and %d seconds", maxStickiness)
		}
		st = &elbv2api.TargetGroupStickinessConfig{Enabled: ptr(true), DurationSeconds: ptr(d)}
	}
	out.TargetGroupStickinessConfig = st
	var single *string
	if len(out.TargetGroups) == 1 {
		single = out.TargetGroups[0].TargetGroupArn
	}
	return single, out, nil
}

// checkRedirect validates a redirect and fills in its defaults.
func checkRedirect(rc *elbv2api.RedirectActionConfig) (*elbv2api.RedirectActionConfig, error) {
	if rc == nil {
		return nil, errValidation("A redirect configuration must be specified for redirect actions")
	}
	code := deref(rc.StatusCode)
	if code != "HTTP_301" && code != "HTTP_302" {
		return nil, errEnum(code, "actions.member.redirectConfig.statusCode", "HTTP_301", "HTTP_302")
	}
	out := &elbv2api.RedirectActionConfig{
		Protocol:   ptr(cmp.Or(deref(rc.Protocol), "#{protocol}")),
		Port:       ptr(cmp.Or(deref(rc.Port), "#{port}")),
		Host:       ptr(cmp.Or(deref(rc.Host), "#{host}")),
		Path:       ptr(cmp.Or(deref(rc.Path), "/#{path}")),
		Query:      ptr(deref(rc.Query)),
		StatusCode: ptr(code),
	}
	if rc.Query == nil {
		out.Query = ptr("#{query}")
	}
	switch p := *out.Protocol; {
	case p != "HTTP" && p != "HTTPS" && p != "#{protocol}":
		return nil, errCode("InvalidLoadBalancerAction", "The redirect protocol must be 'HTTP', 'HTTPS' or '#{protocol}'")
	}
	if p := *out.Port; p != "#{port}" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, errCode("InvalidLoadBalancerAction", "The redirect port must be '#{port}' or a number between 1 and 65535")
		}
	}
	switch {
	case len(*out.Host) > 128:
		return nil, errValidation("The redirect host is too long; the limit is '128'")
	case !strings.HasPrefix(*out.Path, "/"):
		return nil, errCode("InvalidLoadBalancerAction", "The redirect path must start with a '/' character")
	case len(*out.Path) > 128:
		return nil, errValidation("The redirect path is too long; the limit is '128'")
	case strings.HasPrefix(*out.Query, "?"):
		return nil, errCode("InvalidLoadBalancerAction", "The redirect query must not start with a '?' character")
	case len(*out.Query) > 128:
		return nil, errValidation("The redirect query is too long; the limit is '128'")
	}
	if *out.Protocol == "#{protocol}" && *out.Port == "#{port}" && *out.Host == "#{host}" && *out.Path == "/#{path}" && *out.Query == "#{query}" {
		return nil, errCode("InvalidLoadBalancerAction", "The redirect configuration is not valid because it creates a loop.")
	}
	return out, nil
}

// checkFixed validates a fixed response (action number i, from 1).
func checkFixed(fc *elbv2api.FixedResponseActionConfig, i int) (*elbv2api.FixedResponseActionConfig, error) {
	if fc == nil || fc.StatusCode == nil {
		return nil, errValidation("A fixed response configuration with a status code must be specified for fixed-response actions")
	}
	if !fixedStatus.MatchString(*fc.StatusCode) {
		return nil, errValidation("1 validation error detected: Value '%s' at 'actions.%d.member.fixedResponseConfig.statusCode' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(2|4|5)\\d\\d$", *fc.StatusCode, i)
	}
	if ct := deref(fc.ContentType); ct != "" && !slices.Contains(fixedContentTypes, ct) {
		return nil, errCode("InvalidLoadBalancerAction", "The ContentType must be one of:'text/html', 'application/json', 'application/javascript', 'text/css', 'text/plain'")
	}
	if len(deref(fc.MessageBody)) > maxFixedBody {
		return nil, errValidation("1 validation error detected: Value at 'actions.%d.member.fixedResponseConfig.messageBody' failed to satisfy constraint: Member must have length less than or equal to %d", i, maxFixedBody)
	}
	return &elbv2api.FixedResponseActionConfig{StatusCode: fc.StatusCode, ContentType: fc.ContentType, MessageBody: fc.MessageBody}, nil
}

// forwardedGroups are the target group ARNs actions forward to.
func forwardedGroups(actions []elbv2api.Action) []string {
	var out []string
	for _, a := range actions {
		if deref(a.Type) != actionForward {
			continue
		}
		if a.ForwardConfig != nil {
			for _, t := range a.ForwardConfig.TargetGroups {
				out = append(out, deref(t.TargetGroupArn))
			}
		} else if a.TargetGroupArn != nil {
			out = append(out, *a.TargetGroupArn)
		}
	}
	return out
}

// checkActionGroups checks, against the records, the target groups
// actions of load balancer lb forward to: they exist, are in its VPC and
// are used by no other load balancer (AWS's one load balancer per target
// group).
func checkActionGroups(tx state.Tx, sc state.Scope, lb *records.LoadBalancer, actions []elbv2api.Action) error {
	arns := forwardedGroups(actions)
	var missing []string
	for _, arn := range arns {
		p, mine, ok := parseARN(sc, arn, kindTargetGroup)
		if !ok {
			return errBadARN(arn, kindTargetGroup)
		}
		tg, found, err := tgTable.Get(tx, sc, p.key)
		if err != nil {
			return err
		}
		if !mine || !found || deref(tg.TargetGroupArn) != arn {
			missing = append(missing, arn)
			continue
		}
		if deref(tg.VpcId) != deref(lb.VpcId) {
			return errConfig("Target group '%s' is in a different VPC than load balancer '%s'", arn, deref(lb.LoadBalancerArn))
		}
		users, err := lbsUsing(tx, sc, arn)
		if err != nil {
			return err
		}
		if len(users) > 0 && !slices.Contains(users, deref(lb.LoadBalancerArn)) {
			return errCode("TargetGroupAssociationLimit", "The following target groups cannot be associated with more than one load balancer: %s", arn)
		}
	}
	if len(missing) > 0 {
		return errCode("TargetGroupNotFound", "Target groups '%s' not found", strings.Join(missing, "', '"))
	}
	return nil
}
