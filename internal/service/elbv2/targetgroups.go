package elbv2

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/minicloud/minicloud/internal/api/elbv2api"
	"github.com/minicloud/minicloud/internal/lazyregexp"
	"github.com/minicloud/minicloud/internal/service/elbv2/records"
	"github.com/minicloud/minicloud/internal/state"
)

// Target groups of type instance and ip, protocol HTTP or HTTPS:
// CreateTargetGroup, DeleteTargetGroup, DescribeTargetGroups and
// ModifyTargetGroup, with an Application Load Balancer's health check
// defaults (HTTP, "/", traffic-port, every 30 s, timeout 5 s, healthy
// after 5, unhealthy after 2, success code 200). ProtocolVersion HTTP2 and
// GRPC are recorded and handed to the data plane as they are.

const (
	targetInstance = "instance"
	targetIP       = "ip"
	trafficPort    = "traffic-port"
)

// maxTargetGroups is AWS's default quota of target groups per region.
const maxTargetGroups = 3000

var targetTypes = []string{targetInstance, targetIP, "lambda", "alb"}

var tgProtocols = []string{protoHTTP, protoHTTPS, "TCP", "TLS", "UDP", "TCP_UDP", "GENEVE", "QUIC", "TCP_QUIC"}

var (
	// httpMatcher is a list of codes and ranges: 200, 200,202, 200-299.
	httpMatcher = lazyregexp.New(`^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$`)
	grpcMatcher = lazyregexp.New(`^\d{1,2}(-\d{1,2})?(,\d{1,2}(-\d{1,2})?)*$`)
)

// checkTGName applies AWS's rules for a target group's name.
func checkTGName(name string) error {
	switch {
	case name == "":
		return errValidation("A target group name must be specified")
	case len(name) > 32:
		return errValidation("Target group name '%s' cannot be longer than '32' characters", name)
	case !lbNameChars.MatchString(name):
		return errValidation("Target group name '%s' can only contain characters that are alphanumeric characters or hyphens(-)", name)
	case strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-"):
		return errValidation("Target group name '%s' cannot begin or end with '-'", name)
	}
	return nil
}

// healthCheck is a target group's health check settings, defaults filled.
type healthCheck struct {
	protocol, port, path string
	enabled              bool
	interval, timeout    int32
	healthy, unhealthy   int32
	httpCode, grpcCode   string
}

// defaultHealthCheck is an ALB target group's, by protocol version.
func defaultHealthCheck(version string) healthCheck {
	hc := healthCheck{protocol: protoHTTP, port: trafficPort, path: "/", enabled: true, interval: 30, timeout: 5, healthy: 5, unhealthy: 2, httpCode: "200"}
	if version == "GRPC" {
		hc.path, hc.httpCode, hc.grpcCode = "/AWS.ALB/healthcheck", "", "12"
	}
	return hc
}

// healthCheckOf reads a record's settings.
func healthCheckOf(tg *elbv2api.TargetGroup) healthCheck {
	hc := healthCheck{protocol: deref(tg.HealthCheckProtocol), port: deref(tg.HealthCheckPort), path: deref(tg.HealthCheckPath),
		enabled: deref(tg.HealthCheckEnabled), interval: deref(tg.HealthCheckIntervalSeconds), timeout: deref(tg.HealthCheckTimeoutSeconds),
		healthy: deref(tg.HealthyThresholdCount), unhealthy: deref(tg.UnhealthyThresholdCount)}
	if tg.Matcher != nil {
		hc.httpCode, hc.grpcCode = deref(tg.Matcher.HttpCode), deref(tg.Matcher.GrpcCode)
	}
	return hc
}

// setHealthCheck writes hc into a record.
func setHealthCheck(tg *elbv2api.TargetGroup, hc healthCheck) {
	tg.HealthCheckProtocol, tg.HealthCheckPort, tg.HealthCheckPath = ptr(hc.protocol), ptr(hc.port), ptr(hc.path)
	tg.HealthCheckEnabled = ptr(hc.enabled)
	tg.HealthCheckIntervalSeconds, tg.HealthCheckTimeoutSeconds = ptr(hc.interval), ptr(hc.timeout)
	tg.HealthyThresholdCount, tg.UnhealthyThresholdCount = ptr(hc.healthy), ptr(hc.unhealthy)
	tg.Matcher = &elbv2api.Matcher{}
	if hc.httpCode != "" {
		tg.Matcher.HttpCode = ptr(hc.httpCode)
	}
	if hc.grpcCode != "" {
		tg.Matcher.GrpcCode = ptr(hc.grpcCode)
	}
}

// healthCheckChange is the health check fields of a create or modify
// request.
type healthCheckChange struct {
	protocol, port, path *string
	enabled              *bool
	interval, timeout    *int32
	healthy, unhealthy   *int32
	matcher              *elbv2api.Matcher
}

// apply checks a change against hc and returns the settings it leaves.
func (c healthCheckChange) apply(hc healthCheck, targetType, version string) (healthCheck, error) {
	if c.protocol != nil {
		if *c.protocol != protoHTTP && *c.protocol != protoHTTPS {
			if slices.Contains(tgProtocols, *c.protocol) {
				return hc, errValidation("Health check protocol '%s' is not supported for target groups with the HTTP or HTTPS protocol", *c.protocol)
			}
			return hc, errEnum(*c.protocol, "healthCheckProtocol", tgProtocols...)
		}
		hc.protocol = *c.protocol
	}
	if c.port != nil {
		if n, err := strconv.Atoi(*c.port); *c.port != trafficPort && (err != nil || n < 1 || n > 65535) {
			return hc, errValidation("Health check port '%s' must be '%s' or a port between 1 and 65535", *c.port, trafficPort)
		}
		hc.port = *c.port
	}
	if c.path != nil {
		switch {
		case !strings.HasPrefix(*c.path, "/"):
			return hc, errValidation("Health check path must begin with a '/' character")
		case len(*c.path) > 1024:
			return hc, errValidation("1 validation error detected: Value at 'healthCheckPath' failed to satisfy constraint: Member must have length less than or equal to 1024")
		}
		hc.path = *c.path
	}
	if c.enabled != nil {
		if !*c.enabled {
			return hc, errConfig("Health checks cannot be disabled for target groups with target type '%s'", targetType)
		}
		hc.enabled = true
	}
	for _, r := range []struct {
		v      *int32
		to     *int32
		member string
		lo, hi int64
	}{
		{c.interval, &hc.interval, "healthCheckIntervalSeconds", 5, 300},
		{c.timeout, &hc.timeout, "healthCheckTimeoutSeconds", 2, 120},
		{c.healthy, &hc.healthy, "healthyThresholdCount", 2, 10},
		{c.unhealthy, &hc.unhealthy, "unhealthyThresholdCount", 2, 10},
	} {
		if r.v == nil {
			continue
		}
		if n := int64(*r.v); n < r.lo || n > r.hi {
			return hc, errRange(n, r.member, r.lo, r.hi)
		}
		*r.to = *r.v
	}
	if hc.timeout >= hc.interval {
		return hc, errValidation("Health check timeout '%d' must be smaller than the interval '%d'", hc.timeout, hc.interval)
	}
	if c.matcher != nil {
		if err := checkMatcher(c.matcher, version); err != nil {
			return hc, err
		}
		hc.httpCode, hc.grpcCode = deref(c.matcher.HttpCode), deref(c.matcher.GrpcCode)
	}
	return hc, nil
}

// checkMatcher checks success codes: HTTP codes 200-499, or for GRPC
// target groups gRPC codes 0-99.
func checkMatcher(m *elbv2api.Matcher, version string) error {
	if version == "GRPC" {
		if m.GrpcCode == nil || m.HttpCode != nil || !grpcMatcher.MatchString(*m.GrpcCode) {
			return errValidation("Health check matcher for gRPC target groups must be a gRPC code, list or range between 0 and 99 (12, 0,12, 0-99)")
		}
		return nil
	}
	if m.HttpCode == nil || m.GrpcCode != nil || !httpMatcher.MatchString(*m.HttpCode) {
		return errValidation("Health check matcher HTTP code must be a code, list or range between 200 and 499 (200, 200,202, 200-299)")
	}
	for _, part := range strings.Split(strings.ReplaceAll(*m.HttpCode, "-", ","), ",") {
		if n, _ := strconv.Atoi(part); n < 200 || n > 499 {
			return errValidation("Health check matcher HTTP code '%s' must be between 200 and 499", *m.HttpCode)
		}
	}
	return nil
}

// CreateTargetGroup implements elbv2api.Server. As on AWS it is
// idempotent: a target group of the same name and settings is returned as
// it is.
func (s *Service) CreateTargetGroup(ctx context.Context, in *elbv2api.CreateTargetGroupInput) (*elbv2api.CreateTargetGroupOutput, error) {
	sc := scopeOf(ctx)
	name := deref(in.Name)
	if err := checkTGName(name); err != nil {
		return nil, err
	}
	targetType := cmp.Or(deref(in.TargetType), targetInstance)
	switch {
	case !slices.Contains(targetTypes, targetType):
		return nil, errEnum(targetType, "targetType", targetTypes...)
	case targetType == "lambda" || targetType == "alb":
		return nil, errValidation("minicloud does not support target groups of target type '%s' yet: use 'instance' or 'ip'", targetType)
	case in.Protocol == nil:
		return nil, errValidation("A protocol must be specified")
	case in.Port == nil:
		return nil, errValidation("A port must be specified")
	case in.VpcId == nil:
		return nil, errValidation("A VPC ID must be specified")
	}
	protocol := *in.Protocol
	switch {
	case !slices.Contains(tgProtocols, protocol):
		return nil, errEnum(protocol, "protocol", tgProtocols...)
	case protocol != protoHTTP && protocol != protoHTTPS:
		return nil, errValidation("minicloud runs Application Load Balancers only: a target group's protocol must be 'HTTP' or 'HTTPS', not '%s'", protocol)
	case *in.Port < 1 || *in.Port > 65535:
		return nil, errRange(int64(*in.Port), "port", 1, 65535)
	}
	version := strings.ToUpper(cmp.Or(deref(in.ProtocolVersion), "HTTP1"))
	if !slices.Contains([]string{"HTTP1", "HTTP2", "GRPC"}, version) {
		return nil, errValidation("Protocol version '%s' is not valid: it must be one of [HTTP1, HTTP2, GRPC]", deref(in.ProtocolVersion))
	}
	if t := cmp.Or(deref(in.IpAddressType), ipv4); t != ipv4 {
		if t == "ipv6" {
			return nil, errConfig("IP address type 'ipv6' needs IPv6, which minicloud's VPCs do not have yet: use 'ipv4'")
		}
		return nil, errEnum(t, "ipAddressType", ipv4, "ipv6")
	}
	hc, err := healthCheckChange{protocol: in.HealthCheckProtocol, port: in.HealthCheckPort, path: in.HealthCheckPath, enabled: in.HealthCheckEnabled,
		interval: in.HealthCheckIntervalSeconds, timeout: in.HealthCheckTimeoutSeconds, healthy: in.HealthyThresholdCount,
		unhealthy: in.UnhealthyThresholdCount, matcher: in.Matcher}.apply(defaultHealthCheck(version), targetType, version)
	if err != nil {
		return nil, err
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	if _, found, err := s.vpc(ctx, sc, *in.VpcId); err != nil || !found {
		return nil, firstErr(err, errValidation("The VPC ID '%s' is not found", *in.VpcId))
	}
	shape := elbv2api.TargetGroup{TargetGroupName: ptr(name), Protocol: ptr(protocol), Port: in.Port, VpcId: in.VpcId,
		TargetType: ptr(targetType), ProtocolVersion: ptr(version), IpAddressType: ptr(ipv4)}
	setHealthCheck(&shape, hc)
	var out records.TargetGroup
	err = s.update(ctx, func(tx state.Tx) error {
		existing, err := tgByName(tx, sc, name)
		if err != nil {
			return err
		}
		if existing != nil {
			mine := existing.TargetGroup
			mine.TargetGroupArn = nil
			if !sameTG(mine, shape) {
				return errCode("DuplicateTargetGroupName", "A target group with the same name '%s' exists, but with different settings", name)
			}
			out = *existing
			return nil
		}
		if n, err := count(tx, sc, tgTable); err != nil || n >= maxTargetGroups {
			return firstErr(err, errCode("TooManyTargetGroups", "You've reached the limit on the number of target groups for your AWS account"))
		}
		id := newID()
		out = records.TargetGroup{ID: id, TargetGroup: shape, Tags: tags, Attributes: map[string]string{}}
		out.TargetGroupArn = ptr(tgARN(sc, name, id))
		return tgTable.Put(tx, sc, id, out)
	})
	if err != nil {
		return nil, err
	}
	tg, err := s.describeTG(ctx, sc, &out)
	if err != nil {
		return nil, err
	}
	return &elbv2api.CreateTargetGroupOutput{TargetGroups: []elbv2api.TargetGroup{tg}}, nil
}

// sameTG compares the settings of two target groups.
func sameTG(a, b elbv2api.TargetGroup) bool {
	a.LoadBalancerArns, b.LoadBalancerArns = nil, nil
	return deref(a.Protocol) == deref(b.Protocol) && deref(a.Port) == deref(b.Port) && deref(a.VpcId) == deref(b.VpcId) &&
		deref(a.TargetType) == deref(b.TargetType) && deref(a.ProtocolVersion) == deref(b.ProtocolVersion) &&
		healthCheckOf(&a) == healthCheckOf(&b)
}

// describeTG is a record's TargetGroup shape with its load balancers.
func (s *Service) describeTG(ctx context.Context, sc state.Scope, r *records.TargetGroup) (elbv2api.TargetGroup, error) {
	var out elbv2api.TargetGroup
	err := s.view(ctx, func(tx state.Tx) error {
		var err error
		out, err = describeTGIn(tx, sc, r)
		return err
	})
	return out, err
}

func describeTGIn(tx state.Tx, sc state.Scope, r *records.TargetGroup) (elbv2api.TargetGroup, error) {
	out := r.TargetGroup
	lbs, err := lbsUsing(tx, sc, deref(r.TargetGroupArn))
	out.LoadBalancerArns = nonNil(lbs)
	return out, err
}

// DeleteTargetGroup implements elbv2api.Server: refused while an action
// forwards to it; one already gone is not an error.
func (s *Service) DeleteTargetGroup(ctx context.Context, in *elbv2api.DeleteTargetGroupInput) (*elbv2api.DeleteTargetGroupOutput, error) {
	sc := scopeOf(ctx)
	arn := deref(in.TargetGroupArn)
	err := s.update(ctx, func(tx state.Tx) error {
		tg, err := getTG(tx, sc, arn)
		if state.IsCode(err, "TargetGroupNotFound") {
			return nil
		}
		if err != nil {
			return err
		}
		users, err := lbsUsing(tx, sc, arn)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return errCode("ResourceInUse", "Target group '%s' is currently in use by a listener or a rule", arn)
		}
		return tgTable.Delete(tx, sc, tg.ID)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.DeleteTargetGroupOutput{}, nil
}

// DescribeTargetGroups implements elbv2api.Server: every target group, or
// those of a load balancer, or by ARN or name, ordered by name.
func (s *Service) DescribeTargetGroups(ctx context.Context, in *elbv2api.DescribeTargetGroupsInput) (*elbv2api.DescribeTargetGroupsOutput, error) {
	sc := scopeOf(ctx)
	given := 0
	for _, set := range []bool{in.LoadBalancerArn != nil, len(in.TargetGroupArns) > 0, len(in.Names) > 0} {
		if set {
			given++
		}
	}
	if given > 1 {
		return nil, errValidation("Target group names, target group ARNs, and a load balancer ARN cannot be specified at the same time")
	}
	var list []elbv2api.TargetGroup
	err := s.view(ctx, func(tx state.Tx) error {
		add := func(r *records.TargetGroup) error {
			tg, err := describeTGIn(tx, sc, r)
			list = append(list, tg)
			return err
		}
		switch {
		case len(in.TargetGroupArns) > 0:
			for _, arn := range in.TargetGroupArns {
				tg, err := getTG(tx, sc, arn)
				if err != nil {
					return err
				}
				if err := add(&tg); err != nil {
					return err
				}
			}
		case len(in.Names) > 0:
			var missing []string
			for _, name := range in.Names {
				tg, err := tgByName(tx, sc, name)
				if err != nil {
					return err
				}
				if tg == nil {
					missing = append(missing, name)
					continue
				}
				if err := add(tg); err != nil {
					return err
				}
			}
			if len(missing) > 0 {
				return errCode("TargetGroupNotFound", "Target groups '[%s]' not found", join(missing))
			}
		default:
			var lbARN string
			if in.LoadBalancerArn != nil {
				lb, err := getLB(tx, sc, *in.LoadBalancerArn)
				if err != nil {
					return err
				}
				lbARN = deref(lb.LoadBalancerArn)
			}
			return tgTable.ForEachShared(tx, sc, func(_ string, r *records.TargetGroup) error {
				tg, err := describeTGIn(tx, sc, r)
				if err == nil && (lbARN == "" || slices.Contains(tg.LoadBalancerArns, lbARN)) {
					list = append(list, tg)
				}
				return err
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	page, next, err := paginate(dedupe(list, func(tg elbv2api.TargetGroup) string { return deref(tg.TargetGroupArn) }), in.PageSize, in.Marker,
		func(tg elbv2api.TargetGroup) string { return deref(tg.TargetGroupName) })
	if err != nil {
		return nil, err
	}
	return &elbv2api.DescribeTargetGroupsOutput{TargetGroups: nonNil(page), NextMarker: next}, nil
}

// ModifyTargetGroup implements elbv2api.Server: its health check.
func (s *Service) ModifyTargetGroup(ctx context.Context, in *elbv2api.ModifyTargetGroupInput) (*elbv2api.ModifyTargetGroupOutput, error) {
	sc := scopeOf(ctx)
	var tg records.TargetGroup
	err := s.update(ctx, func(tx state.Tx) error {
		var err error
		if tg, err = getTG(tx, sc, deref(in.TargetGroupArn)); err != nil {
			return err
		}
		hc, err := healthCheckChange{protocol: in.HealthCheckProtocol, port: in.HealthCheckPort, path: in.HealthCheckPath, enabled: in.HealthCheckEnabled,
			interval: in.HealthCheckIntervalSeconds, timeout: in.HealthCheckTimeoutSeconds, healthy: in.HealthyThresholdCount,
			unhealthy: in.UnhealthyThresholdCount, matcher: in.Matcher}.apply(healthCheckOf(&tg.TargetGroup), deref(tg.TargetType), deref(tg.ProtocolVersion))
		if err != nil {
			return err
		}
		setHealthCheck(&tg.TargetGroup, hc)
		return tgTable.Put(tx, sc, tg.ID, tg)
	})
	if err != nil {
		return nil, err
	}
	out, err := s.describeTG(ctx, sc, &tg)
	if err != nil {
		return nil, err
	}
	return &elbv2api.ModifyTargetGroupOutput{TargetGroups: []elbv2api.TargetGroup{out}}, nil
}
