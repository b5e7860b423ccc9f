package elbv2

import (
	"context"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api/elbv2api"
	"github.com/minicloud/minicloud/internal/ec2port"
	"github.com/minicloud/minicloud/internal/service/elbv2/controller"
	"github.com/minicloud/minicloud/internal/service/elbv2/records"
	"github.com/minicloud/minicloud/internal/state"
)

// Targets: RegisterTargets, DeregisterTargets and DescribeTargetHealth.
//
// An instance target must exist, be in the target group's VPC and be
// pending or running (AWS wants running; minicloud also takes pending,
// where an instance stays without its data plane). An ip target is an
// IPv4 address in the VPC's CIDR blocks, or, outside the VPC, in the
// RFC 1918 or RFC 6598 ranges a peered network may use, registered with
// AvailabilityZone "all" as AWS requires for an Application Load
// Balancer. A target may be registered on several ports; each (ID, port)
// is one registration.
//
// Deregistering drains: the registration stays, draining, for the target
// group's deregistration_delay.timeout_seconds when a load balancer uses
// the group, and the controller removes it after; otherwise (or with a
// delay of 0) it goes at once.
//
// DescribeTargetHealth answers from the records what they know — draining,
// not registered, the group not used by any listener or rule, an instance
// that is not running or is in a zone the load balancer does not enable —
// and for the others the data plane's health checks
// (controller.Dataplane.TargetHealth). Without a data plane no health
// check runs: such a target is "unavailable" with reason
// Target.HealthCheckDisabled, the reason AWS gives for the state of a
// target nothing checks, and a description that says why. AnomalyDetection
// is never included: minicloud does not compute it.

const (
	maxTargetsPerGroup    = 1000
	maxRegistrationsPerID = 100
	descDraining          = "Target deregistration is in progress"
	descNotRegistered     = "Target is not registered to the target group"
	descGroupNotInUse     = "Target group is not configured to receive traffic from the load balancer"
	descZoneNotEnabled    = "Target is in an Availability Zone that is not enabled for the load balancer"
	descNoDataplane       = "Health checks are not running: minicloud runs no load balancer nodes without its data plane"
	descRegistering       = "Target registration is in progress"
	descInitialChecks     = "Initial health checks in progress"
	reasonNotRegistered   = "Target.NotRegistered"
	reasonNotInUse        = "Target.NotInUse"
	reasonInvalidState    = "Target.InvalidState"
	reasonDraining        = "Target.DeregistrationInProgress"
	reasonHealthCheckOff  = "Target.HealthCheckDisabled"
	reasonRegistering     = "Elb.RegistrationInProgress"
	reasonInitialChecking = "Elb.InitialHealthChecking"
)

// outsideVPCRanges are the ranges AWS allows for ip targets outside the
// target group's VPC (a peered VPC, on premises).
var outsideVPCRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("100.64.0.0/10"),
}

func errInvalidTarget() error {
	return errCode("InvalidTarget", "The specified target does not exist, is not in the same VPC as the target group, or has an unsupported instance type.")
}

// quoted is targets as AWS lists them in messages: 'a', 'b'.
func quoted(ids []string) string { return "'" + strings.Join(ids, "', '") + "'" }

// checkTargets checks the targets of a RegisterTargets request against
// EC2 and returns the registrations, defaults filled.
func (s *Service) checkTargets(ctx context.Context, sc state.Scope, tg *records.TargetGroup, targets []elbv2api.TargetDescription) ([]records.Target, error) {
	if len(targets) == 0 {
		return nil, errValidation("At least one target must be specified")
	}
	vpcID := deref(tg.VpcId)
	var vpc ec2port.VPC
	if deref(tg.TargetType) == targetIP {
		v, _, err := s.vpc(ctx, sc, vpcID)
		if err != nil {
			return nil, err
		}
		vpc = v
	}
	var out []records.Target
	var elsewhere, notRunning []string
	for _, t := range targets {
		id, az := deref(t.Id), deref(t.AvailabilityZone)
		port := deref(tg.Port)
		if t.Port != nil {
			if *t.Port < 1 || *t.Port > 65535 {
				return nil, errRange(int64(*t.Port), "targets.member.port", 1, 65535)
			}
			port = *t.Port
		}
		switch deref(tg.TargetType) {
		case targetInstance:
			if !state.ValidID("i", id) {
				return nil, errValidation("Instance ID '%s' is not valid", id)
			}
			if az != "" {
				return nil, errValidation("The Availability Zone parameter is not supported for targets of type 'instance'")
			}
			inst, found, err := s.instance(ctx, sc, id)
			if err != nil {
				return nil, err
			}
			switch {
			case !found:
				return nil, errInvalidTarget()
			case inst.VPCID != vpcID:
				elsewhere = append(elsewhere, id)
			case inst.State != "running" && inst.State != "pending":
				notRunning = append(notRunning, id)
			}
		case targetIP:
			ip, err := netip.ParseAddr(id)
			if err != nil || !ip.Is4() {
				return nil, errValidation("The IP address '%s' is not a valid IPv4 address", id)
			}
			if !inPrefixes(vpc.CIDRs, ip) {
				switch {
				case !inPrefixes(outsideVPCRanges, ip):
					return nil, errValidation("The IP address '%s' is not within the VPC's CIDR blocks nor the RFC 1918 or RFC 6598 ranges", id)
				case az == "":
					return nil, errValidation("The Availability Zone is required for IP address '%s' because it is not in the VPC", id)
				case az != "all":
					return nil, errValidation("The Availability Zone for IP address '%s' must be 'all' for Application Load Balancer target groups, when not within the VPC", id)
				}
			}
		}
		out = append(out, records.Target{ID: id, Port: port, AvailabilityZone: az})
	}
	if len(elsewhere) > 0 {
		return nil, errCode("InvalidTarget", "The following targets are not in the target group VPC '%s': %s", vpcID, quoted(elsewhere))
	}
	if len(notRunning) > 0 {
		return nil, errCode("InvalidTarget", "The following targets are not in a running state and cannot be registered: %s", quoted(notRunning))
	}
	return out, nil
}

func inPrefixes(ps []netip.Prefix, ip netip.Addr) bool {
	return slices.ContainsFunc(ps, func(p netip.Prefix) bool { return p.Contains(ip) })
}

func (s *Service) instance(ctx context.Context, sc state.Scope, id string) (ec2port.Instance, bool, error) {
	return lookup(ctx, s, sc, "instance", id, ec2port.Port.Instance)
}

// RegisterTargets implements elbv2api.Server. A target registered again on
// its port is left as it is, or stops draining.
func (s *Service) RegisterTargets(ctx context.Context, in *elbv2api.RegisterTargetsInput) (*elbv2api.RegisterTargetsOutput, error) {
	sc := scopeOf(ctx)
	arn := deref(in.TargetGroupArn)
	var tg records.TargetGroup
	if err := s.view(ctx, func(tx state.Tx) (err error) { tg, err = getTG(tx, sc, arn); return err }); err != nil {
		return nil, err
	}
	add, err := s.checkTargets(ctx, sc, &tg, in.Targets)
	if err != nil {
		return nil, err
	}
	now := s.now()
	err = s.update(ctx, func(tx state.Tx) error {
		if tg, err = getTG(tx, sc, arn); err != nil {
			return err
		}
		for _, t := range add {
			i := slices.IndexFunc(tg.Targets, func(r records.Target) bool { return r.ID == t.ID && r.Port == t.Port })
			if i >= 0 {
				tg.Targets[i].DrainingUntil = nil
				continue
			}
			n, err := registrationsOf(tx, sc, t.ID)
			if err != nil {
				return err
			}
			if n >= maxRegistrationsPerID {
				return errCode("TooManyRegistrationsForTargetId", "You've reached the limit on the number of times target '%s' can be registered", t.ID)
			}
			t.RegisteredAt = now
			tg.Targets = append(tg.Targets, t)
		}
		if len(tg.Targets) > maxTargetsPerGroup {
			return errCode("TooManyTargets", "You've reached the limit on the number of targets per target group")
		}
		return tgTable.Put(tx, sc, tg.ID, tg)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.RegisterTargetsOutput{}, nil
}

// registrationsOf counts the registrations of target id in every target
// group.
func registrationsOf(tx state.Tx, sc state.Scope, id string) (int, error) {
	n := 0
	err := tgTable.ForEachShared(tx, sc, func(_ string, tg *records.TargetGroup) error {
		for _, t := range tg.Targets {
			if t.ID == id {
				n++
			}
		}
		return nil
	})
	return n, err
}

// DeregisterTargets implements elbv2api.Server. A target that is not
// registered is left alone; a nonexistent instance is InvalidTarget.
func (s *Service) DeregisterTargets(ctx context.Context, in *elbv2api.DeregisterTargetsInput) (*elbv2api.DeregisterTargetsOutput, error) {
	sc := scopeOf(ctx)
	arn := deref(in.TargetGroupArn)
	if len(in.Targets) == 0 {
		return nil, errValidation("At least one target must be specified")
	}
	var tg records.TargetGroup
	if err := s.view(ctx, func(tx state.Tx) (err error) { tg, err = getTG(tx, sc, arn); return err }); err != nil {
		return nil, err
	}
	for _, t := range in.Targets {
		if deref(tg.TargetType) != targetInstance {
			continue
		}
		id := deref(t.Id)
		if !state.ValidID("i", id) {
			return nil, errValidation("Instance ID '%s' is not valid", id)
		}
		if registered(&tg, id) {
			continue
		}
		if _, found, err := s.instance(ctx, sc, id); err != nil || !found {
			return nil, firstErr(err, errInvalidTarget())
		}
	}
	now := s.now()
	err := s.update(ctx, func(tx state.Tx) error {
		var err error
		if tg, err = getTG(tx, sc, arn); err != nil {
			return err
		}
		users, err := lbsUsing(tx, sc, arn)
		if err != nil {
			return err
		}
		delay, _ := strconv.Atoi(tgAttributes(&tg)["deregistration_delay.timeout_seconds"])
		for _, t := range in.Targets {
			port := deref(tg.Port)
			if t.Port != nil {
				port = *t.Port
			}
			i := slices.IndexFunc(tg.Targets, func(r records.Target) bool { return r.ID == deref(t.Id) && r.Port == port })
			switch {
			case i < 0 || tg.Targets[i].DrainingUntil != nil:
			case len(users) == 0 || delay == 0:
				tg.Targets = slices.Delete(tg.Targets, i, i+1)
			default:
				until := now.Add(time.Duration(delay) * time.Second)
				tg.Targets[i].DrainingUntil = &until
			}
		}
		return tgTable.Put(tx, sc, tg.ID, tg)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.DeregisterTargetsOutput{}, nil
}

func registered(tg *records.TargetGroup, id string) bool {
	return slices.ContainsFunc(tg.Targets, func(r records.Target) bool { return r.ID == id })
}

// DescribeTargetHealth implements elbv2api.Server.
func (s *Service) DescribeTargetHealth(ctx context.Context, in *elbv2api.DescribeTargetHealthInput) (*elbv2api.DescribeTargetHealthOutput, error) {
	sc := scopeOf(ctx)
	arn := deref(in.TargetGroupArn)
	for _, inc := range in.Include {
		if inc != "AnomalyDetection" && inc != "All" {
			return nil, errEnum(inc, "include.member", "AnomalyDetection", "All")
		}
	}
	var tg records.TargetGroup
	var lb *records.LoadBalancer
	err := s.view(ctx, func(tx state.Tx) error {
		var err error
		if tg, err = getTG(tx, sc, arn); err != nil {
			return err
		}
		users, err := lbsUsing(tx, sc, arn)
		if err != nil || len(users) == 0 {
			return err
		}
		l, err := getLB(tx, sc, users[0])
		lb = &l
		return err
	})
	if err != nil {
		return nil, err
	}
	asked := tg.Targets
	if len(in.Targets) > 0 {
		if asked, err = s.askedTargets(ctx, sc, &tg, in.Targets); err != nil {
			return nil, err
		}
	}
	var health map[controller.TargetKey]controller.Health
	if s.cfg.Dataplane != nil {
		health = s.cfg.Dataplane.TargetHealth(sc.Account, sc.Region, arn)
	}
	out := &elbv2api.DescribeTargetHealthOutput{TargetHealthDescriptions: []elbv2api.TargetHealthDescription{}}
	for _, t := range asked {
		th, err := s.targetHealth(ctx, sc, &tg, lb, t, health)
		if err != nil {
			return nil, err
		}
		d := elbv2api.TargetHealthDescription{Target: &elbv2api.TargetDescription{Id: ptr(t.ID), Port: ptr(t.Port)},
			HealthCheckPort: ptr(healthCheckPortOf(&tg, t.Port)), TargetHealth: th}
		if t.AvailabilityZone != "" {
			d.Target.AvailabilityZone = ptr(t.AvailabilityZone)
		}
		out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, d)
	}
	return out, nil
}

// askedTargets are the registrations the targets of a DescribeTargetHealth
// request name (all the ports of a target given without one); a target
// registered on none is returned without RegisteredAt, to be described as
// not registered. An instance that does not exist is InvalidTarget.
func (s *Service) askedTargets(ctx context.Context, sc state.Scope, tg *records.TargetGroup, targets []elbv2api.TargetDescription) ([]records.Target, error) {
	var out []records.Target
	for _, t := range targets {
		id := deref(t.Id)
		var found []records.Target
		for _, r := range tg.Targets {
			if r.ID == id && (t.Port == nil || r.Port == *t.Port) {
				found = append(found, r)
			}
		}
		if len(found) > 0 {
			out = append(out, found...)
			continue
		}
		if deref(tg.TargetType) == targetInstance {
			if !state.ValidID("i", id) {
				return nil, errValidation("Instance ID '%s' is not valid", id)
			}
			if _, ok, err := s.instance(ctx, sc, id); err != nil || !ok {
				return nil, firstErr(err, errInvalidTarget())
			}
		}
		port := deref(tg.Port)
		if t.Port != nil {
			port = *t.Port
		}
		out = append(out, records.Target{ID: id, Port: port, AvailabilityZone: deref(t.AvailabilityZone)})
	}
	return out, nil
}

// healthCheckPortOf is the port a target's health checks go to.
func healthCheckPortOf(tg *records.TargetGroup, port int32) string {
	if p := deref(tg.HealthCheckPort); p != trafficPort && p != "" {
		return p
	}
	return strconv.Itoa(int(port))
}

// targetHealth is one registration's TargetHealth: what the records say,
// else the data plane's.
func (s *Service) targetHealth(ctx context.Context, sc state.Scope, tg *records.TargetGroup, lb *records.LoadBalancer, t records.Target, health map[controller.TargetKey]controller.Health) (*elbv2api.TargetHealth, error) {
	state3 := func(st, reason, desc string) *elbv2api.TargetHealth {
		return &elbv2api.TargetHealth{State: ptr(st), Reason: ptr(reason), Description: ptr(desc)}
	}
	switch {
	case t.RegisteredAt.IsZero():
		return state3("unused", reasonNotRegistered, descNotRegistered), nil
	case t.DrainingUntil != nil:
		return state3("draining", reasonDraining, descDraining), nil
	case lb == nil:
		return state3("unused", reasonNotInUse, descGroupNotInUse), nil
	}
	if deref(tg.TargetType) == targetInstance {
		inst, found, err := s.instance(ctx, sc, t.ID)
		if err != nil {
			return nil, err
		}
		// Without a data plane an instance may stay pending (no instance
		// runtime) or be pending for a moment (API-only): that is no
		// reason of the target's, the missing health checks are.
		pendingAPIOnly := s.cfg.Dataplane == nil && inst.State == "pending"
		if reason := instanceStateDescription(inst, found); reason != "" && !pendingAPIOnly {
			return state3("unused", reasonInvalidState, reason), nil
		}
		if !slices.ContainsFunc(lb.AvailabilityZones, func(z elbv2api.AvailabilityZone) bool { return deref(z.ZoneName) == inst.AvailabilityZone }) {
			return state3("unused", reasonNotInUse, descZoneNotEnabled), nil
		}
	}
	if s.cfg.Dataplane == nil {
		return state3("unavailable", reasonHealthCheckOff, descNoDataplane), nil
	}
	h, ok := health[controller.TargetKey{ID: t.ID, Port: t.Port}]
	switch {
	case !ok && deref(lb.State.Code) != "active":
		return state3("initial", reasonRegistering, descRegistering), nil
	case !ok:
		return state3("initial", reasonInitialChecking, descInitialChecks), nil
	case h.State == "healthy":
		return &elbv2api.TargetHealth{State: ptr("healthy")}, nil
	}
	return state3(h.State, h.Reason, h.Description), nil
}

// instanceStateDescription is AWS's Target.InvalidState description for an
// instance that is not running, "" for a running one.
func instanceStateDescription(inst ec2port.Instance, found bool) string {
	switch {
	case !found || inst.State == "terminated" || inst.State == "shutting-down":
		return "Target is in the terminated state"
	case inst.State == "stopped":
		return "Target is in the stopped state"
	case inst.State != "running":
		return "Target is in an invalid state"
	}
	return ""
}
