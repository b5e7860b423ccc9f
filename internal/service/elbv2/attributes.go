package elbv2

import (
	"context"

	"strconv"
	"strings"

	"github.com/minicloud/minicloud/internal/api/elbv2api"
	"github.com/minicloud/minicloud/internal/service/elbv2/records"
	"github.com/minicloud/minicloud/internal/state"
)

// Attributes of load balancers and target groups: AWS's keys for an
// Application Load Balancer and its target groups, their defaults
// (records.LBAttributes, records.TGAttributes, which the controller hands
// to the data plane too) and their allowed values (lbChecks, tgChecks).
// A record stores only what was set; Describe shows every key, the
// defaults filled in. Access and connection logs are accepted and stored
// but nothing is written: minicloud has no S3 yet.

// checker checks one attribute's value.
type checker func(key, v string) error

func boolean(key, v string) error { return oneOf(key, v, "true", "false") }

func oneOf(key, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return errValidation("'%s' value '%s' must be one of [%s]", key, v, join(allowed))
}

// between checks an integer in [lo, hi].
func between(lo, hi int) checker {
	return func(key, v string) error {
		if n, err := strconv.Atoi(v); err != nil || n < lo || n > hi {
			return errValidation("'%s' value '%s' must be between '%d-%d' inclusive", key, v, lo, hi)
		}
		return nil
	}
}

func anyString(string, string) error { return nil }

// offOr accepts "off" or an integer in [lo, hi].
func offOr(lo, hi int) checker {
	return func(key, v string) error {
		if v == "off" {
			return nil
		}
		if n, err := strconv.Atoi(v); err != nil || n < lo || n > hi {
			return errValidation("'%s' value '%s' must be 'off' or an integer between '%d-%d' inclusive", key, v, lo, hi)
		}
		return nil
	}
}

func enum(allowed ...string) checker {
	return func(key, v string) error { return oneOf(key, v, allowed...) }
}

// lbChecks are the checks of an Application Load Balancer's attributes
// (records.LBAttributes has their order and defaults).
var lbChecks = map[string]checker{
	"access_logs.s3.enabled":                          boolean,
	"access_logs.s3.bucket":                           anyString,
	"access_logs.s3.prefix":                           anyString,
	"idle_timeout.timeout_seconds":                    between(1, 4000),
	"deletion_protection.enabled":                     boolean,
	"routing.http2.enabled":                           boolean,
	"routing.http.drop_invalid_header_fields.enabled": boolean,
	"routing.http.xff_client_port.enabled":            boolean,
	"routing.http.preserve_host_header.enabled":       boolean,
	"routing.http.xff_header_processing.mode":         enum("append", "preserve", "remove"),
	"load_balancing.cross_zone.enabled": func(key, v string) error {
		if v != "true" {
			return errConfig("Cross-zone load balancing is always on for Application Load Balancers and cannot be turned off")
		}
		return nil
	},
	"routing.http.desync_mitigation_mode":                      enum("monitor", "defensive", "strictest"),
	"client_keep_alive.seconds":                                between(60, 604800),
	"waf.fail_open.enabled":                                    boolean,
	"routing.http.x_amzn_tls_version_and_cipher_suite.enabled": boolean,
	"zonal_shift.config.enabled":                               boolean,
	"connection_logs.s3.enabled":                               boolean,
	"connection_logs.s3.bucket":                                anyString,
	"connection_logs.s3.prefix":                                anyString,
	"health_check_logs.s3.enabled":                             boolean,
	"health_check_logs.s3.bucket":                              anyString,
	"health_check_logs.s3.prefix":                              anyString,
}

// tgChecks are the checks of a target group's attributes
// (records.TGAttributes has their order and defaults).
var tgChecks = map[string]checker{
	"target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": offOr(1, 100),
	"target_group_health.dns_failover.minimum_healthy_targets.count":                 offOr(1, 1000),
	"stickiness.enabled":                   boolean,
	"deregistration_delay.timeout_seconds": between(0, 3600),
	"stickiness.app_cookie.cookie_name": func(key, v string) error {
		for _, p := range []string{"AWSALB", "AWSALBAPP", "AWSALBTG"} {
			if strings.HasPrefix(v, p) {
				return errValidation("'%s' value '%s' cannot begin with '%s': the prefixes AWSALB, AWSALBAPP and AWSALBTG are reserved for the load balancer", key, v, p)
			}
		}
		return nil
	},
	"stickiness.type": func(key, v string) error {
		if v == "source_ip" || v == "source_ip_dest_ip" || v == "source_ip_dest_ip_proto" {
			return errConfig("Stickiness type '%s' is not supported for target groups with the HTTP protocol", v)
		}
		return oneOf(key, v, "lb_cookie", "app_cookie")
	},
	"stickiness.lb_cookie.duration_seconds":                               between(1, 604800),
	"target_group_health.dns_failover.minimum_healthy_targets.percentage": offOr(1, 100),
	"slow_start.duration_seconds": func(key, v string) error {
		if v == "0" {
			return nil
		}
		return between(30, 900)(key, v)
	},
	"stickiness.app_cookie.duration_seconds":                                    between(1, 604800),
	"load_balancing.cross_zone.enabled":                                         enum("true", "false", "use_load_balancer_configuration"),
	"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count": between(1, 1000),
	"load_balancing.algorithm.type":                                             enum("round_robin", "least_outstanding_requests", "weighted_random"),
	"load_balancing.algorithm.anomaly_mitigation":                               enum("on", "off"),
}

func lbAttributes(lb *records.LoadBalancer) map[string]string {
	return records.WithDefaults(records.LBAttributes, lb.Attributes)
}

func tgAttributes(tg *records.TargetGroup) map[string]string {
	return records.WithDefaults(records.TGAttributes, tg.Attributes)
}

// listed is the attributes in table order as key/value pairs.
func listed[T any](table []records.Attribute, values map[string]string, pair func(k, v string) T) []T {
	out := make([]T, 0, len(table))
	for _, a := range table {
		out = append(out, pair(a.Key, values[a.Key]))
	}
	return out
}

// maxAttributesPerCall is how many attributes one Modify call may carry.
const maxAttributesPerCall = 20

// applyAttributes checks changes (keys and values) against checks and what
// the record has, and returns the record's new attributes. what names the
// owner in the unknown-key message ("Load balancer", "Target group").
func applyAttributes(checks map[string]checker, what string, have map[string]string, keys, values []string) (map[string]string, error) {
	if len(keys) == 0 {
		return nil, errValidation("At least one attribute must be specified")
	}
	if len(keys) > maxAttributesPerCall {
		return nil, errValidation("1 validation error detected: Value at 'attributes' failed to satisfy constraint: Member must have length less than or equal to %d", maxAttributesPerCall)
	}
	out := map[string]string{}
	for k, v := range have {
		out[k] = v
	}
	for i, k := range keys {
		check, ok := checks[k]
		if !ok {
			return nil, errValidation("%s attribute key '%s' is not recognized", what, k)
		}
		if err := check(k, values[i]); err != nil {
			return nil, err
		}
		out[k] = values[i]
	}
	return out, nil
}

// checkLBAttributes applies the rules between a load balancer's attributes.
func checkLBAttributes(all map[string]string) error {
	for _, logs := range []string{"access_logs", "connection_logs", "health_check_logs"} {
		if all[logs+".s3.enabled"] == "true" && all[logs+".s3.bucket"] == "" {
			return errConfig("The value of '%s.s3.bucket' cannot be empty when %s are enabled", logs, strings.ReplaceAll(logs, "_", " "))
		}
	}
	return nil
}

// checkTGAttributes applies the rules between a target group's attributes.
func checkTGAttributes(all map[string]string) error {
	if all["stickiness.type"] == "app_cookie" && all["stickiness.enabled"] == "true" && all["stickiness.app_cookie.cookie_name"] == "" {
		return errConfig("You must set an application cookie name to enable stickiness of type 'app_cookie'")
	}
	if all["load_balancing.algorithm.anomaly_mitigation"] == "on" && all["load_balancing.algorithm.type"] != "weighted_random" {
		return errConfig("Anomaly mitigation can only be enabled when the load balancing algorithm type is 'weighted_random'")
	}
	if all["slow_start.duration_seconds"] != "0" && all["load_balancing.algorithm.type"] == "weighted_random" {
		return errConfig("Slow start mode cannot be enabled with the load balancing algorithm type 'weighted_random'")
	}
	return nil
}

// DescribeLoadBalancerAttributes implements elbv2api.Server.
func (s *Service) DescribeLoadBalancerAttributes(ctx context.Context, in *elbv2api.DescribeLoadBalancerAttributesInput) (*elbv2api.DescribeLoadBalancerAttributesOutput, error) {
	sc := scopeOf(ctx)
	var lb records.LoadBalancer
	if err := s.view(ctx, func(tx state.Tx) (err error) { lb, err = getLB(tx, sc, deref(in.LoadBalancerArn)); return err }); err != nil {
		return nil, err
	}
	return &elbv2api.DescribeLoadBalancerAttributesOutput{Attributes: lbAttributeList(&lb)}, nil
}

func lbAttributeList(lb *records.LoadBalancer) []elbv2api.LoadBalancerAttribute {
	return listed(records.LBAttributes, lbAttributes(lb), func(k, v string) elbv2api.LoadBalancerAttribute {
		return elbv2api.LoadBalancerAttribute{Key: ptr(k), Value: ptr(v)}
	})
}

// ModifyLoadBalancerAttributes implements elbv2api.Server; it answers with
// every attribute, as AWS does.
func (s *Service) ModifyLoadBalancerAttributes(ctx context.Context, in *elbv2api.ModifyLoadBalancerAttributesInput) (*elbv2api.ModifyLoadBalancerAttributesOutput, error) {
	sc := scopeOf(ctx)
	var keys, values []string
	for _, a := range in.Attributes {
		keys, values = append(keys, deref(a.Key)), append(values, deref(a.Value))
	}
	var lb records.LoadBalancer
	err := s.update(ctx, func(tx state.Tx) error {
		var err error
		lb, err = getLB(tx, sc, deref(in.LoadBalancerArn))
		if err != nil {
			return err
		}
		attrs, err := applyAttributes(lbChecks, "Load balancer", lb.Attributes, keys, values)
		if err != nil {
			return err
		}
		if err := checkLBAttributes(records.WithDefaults(records.LBAttributes, attrs)); err != nil {
			return err
		}
		lb.Attributes = attrs
		return lbTable.Put(tx, sc, lb.ID, lb)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.ModifyLoadBalancerAttributesOutput{Attributes: lbAttributeList(&lb)}, nil
}

// DescribeTargetGroupAttributes implements elbv2api.Server.
func (s *Service) DescribeTargetGroupAttributes(ctx context.Context, in *elbv2api.DescribeTargetGroupAttributesInput) (*elbv2api.DescribeTargetGroupAttributesOutput, error) {
	sc := scopeOf(ctx)
	var tg records.TargetGroup
	if err := s.view(ctx, func(tx state.Tx) (err error) { tg, err = getTG(tx, sc, deref(in.TargetGroupArn)); return err }); err != nil {
		return nil, err
	}
	return &elbv2api.DescribeTargetGroupAttributesOutput{Attributes: tgAttributeList(&tg)}, nil
}

func tgAttributeList(tg *records.TargetGroup) []elbv2api.TargetGroupAttribute {
	return listed(records.TGAttributes, tgAttributes(tg), func(k, v string) elbv2api.TargetGroupAttribute {
		return elbv2api.TargetGroupAttribute{Key: ptr(k), Value: ptr(v)}
	})
}

// ModifyTargetGroupAttributes implements elbv2api.Server; it answers with
// every attribute.
func (s *Service) ModifyTargetGroupAttributes(ctx context.Context, in *elbv2api.ModifyTargetGroupAttributesInput) (*elbv2api.ModifyTargetGroupAttributesOutput, error) {
	sc := scopeOf(ctx)
	var keys, values []string
	for _, a := range in.Attributes {
		keys, values = append(keys, deref(a.Key)), append(values, deref(a.Value))
	}
	var tg records.TargetGroup
	err := s.update(ctx, func(tx state.Tx) error {
		var err error
		tg, err = getTG(tx, sc, deref(in.TargetGroupArn))
		if err != nil {
			return err
		}
		attrs, err := applyAttributes(tgChecks, "Target group", tg.Attributes, keys, values)
		if err != nil {
			return err
		}
		if err := checkTGAttributes(records.WithDefaults(records.TGAttributes, attrs)); err != nil {
			return err
		}
		tg.Attributes = attrs
		return tgTable.Put(tx, sc, tg.ID, tg)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.ModifyTargetGroupAttributesOutput{Attributes: tgAttributeList(&tg)}, nil
}
