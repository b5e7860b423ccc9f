package lb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Target health states, reason codes and descriptions as
// DescribeTargetHealth shows them (ELBv2 API reference, TargetHealth; the
// descriptions are those AWS's console and CLI print).
const (
	StateInitial     = "initial"
	StateHealthy     = "healthy"
	StateUnhealthy   = "unhealthy"
	StateUnused      = "unused"
	StateDraining    = "draining"
	StateUnavailable = "unavailable"

	ReasonRegistrationInProgress   = "Elb.RegistrationInProgress"
	ReasonInitialHealthChecking    = "Elb.InitialHealthChecking"
	ReasonResponseCodeMismatch     = "Target.ResponseCodeMismatch"
	ReasonTimeout                  = "Target.Timeout"
	ReasonFailedHealthChecks       = "Target.FailedHealthChecks"
	ReasonNotInUse                 = "Target.NotInUse"
	ReasonInvalidState             = "Target.InvalidState"
	ReasonDeregistrationInProgress = "Target.DeregistrationInProgress"
	ReasonHealthCheckDisabled      = "Target.HealthCheckDisabled"

	descRegistrationInProgress   = "Target registration is in progress"
	descInitialHealthChecking    = "Initial health checks in progress"
	descTimeout                  = "Request timed out"
	descFailedHealthChecks       = "Health checks failed"
	descNotInUse                 = "Target group is not configured to receive traffic from the load balancer"
	descInvalidState             = "Target is in the stopped state"
	descDeregistrationInProgress = "Target deregistration is in progress"
	descHealthCheckDisabled      = "Health checks are not enabled for this target"
)

// healthCheckUserAgent is the User-Agent of ALB's health checks.
const healthCheckUserAgent = "ELB-HealthChecker/2.0"

// TargetHealth is one target's health as this node sees it.
type TargetHealth struct {
	TargetGroup string // ARN
	Target      TargetKey
	// State, Reason and Description as DescribeTargetHealth shows them;
	// Reason and Description are empty when healthy.
	State, Reason, Description string
}

// codeMatcher is a compiled health check matcher ("200", "200,202",
// "200-299").
type codeMatcher []struct{ lo, hi int }

func parseMatcher(s string) (codeMatcher, error) {
	var m codeMatcher
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("matcher %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return nil, fmt.Errorf("matcher %q: %w", s, err)
			}
		}
		if a > b {
			return nil, fmt.Errorf("matcher %q: range %d-%d is empty", s, a, b)
		}
		m = append(m, struct{ lo, hi int }{a, b})
	}
	return m, nil
}

func (m codeMatcher) match(code int) bool {
	for _, r := range m {
		if r.lo <= code && code <= r.hi {
			return true
		}
	}
	return false
}

// stopChecksLocked ends a target's check loop; results still in flight are
// dropped by their generation.
func (g *group) stopChecksLocked(t *target) {
	if t.stopChecks != nil {
		t.stopChecks()
		t.stopChecks = nil
	}
	t.checkGen++
}

// restartChecks (re)starts a target's checks with the group's settings,
// when it is checked at all.
func (g *group) restartChecks(t *target) {
	g.stopChecksLocked(t)
	if !g.inUse || g.hc.Disabled || t.cfg.Stopped || t.draining {
		return
	}
	ctx, cancel := context.WithCancel(t.ctx)
	t.stopChecks = cancel
	go g.checkLoop(ctx, t, t.checkGen, g.hc, g.matcher)
}

func (g *group) checkLoop(ctx context.Context, t *target, gen int, hc HealthCheck, m codeMatcher) {
	// Spread the first checks of many targets over part of an interval.
	first := time.Duration(rand.Int64N(int64(min(hc.Interval, 2*time.Second)/4) + 1))
	timer := time.NewTimer(first)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		g.mu.Lock()
		if t.checkGen == gen && t.health.Reason == ReasonRegistrationInProgress {
			t.health.Reason, t.health.Description = ReasonInitialHealthChecking, descInitialHealthChecking
		}
		g.mu.Unlock()
		ok, reason, desc := g.node.checkOnce(ctx, t, hc, m)
		if ctx.Err() != nil {
			return
		}
		g.record(t, gen, hc, ok, reason, desc)
		timer.Reset(hc.Interval)
	}
}

// record applies one check's result. A target in initial needs one
// success ("Your target is not in service until it passes one health
// check", ALB troubleshooting guide); an unhealthy one HealthyThreshold
// in a row; UnhealthyThreshold failures in a row make it unhealthy.
func (g *group) record(t *target, gen int, hc HealthCheck, ok bool, reason, desc string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if t.checkGen != gen || t.draining {
		return
	}
	prev := t.health.State
	if ok {
		t.failRun = 0
		t.okRun++
		need := hc.HealthyThreshold
		if prev == StateInitial {
			need = 1
		}
		if prev != StateHealthy && t.okRun >= need {
			t.health = TargetHealth{State: StateHealthy}
			t.healthySince = time.Now()
		}
	} else {
		t.okRun = 0
		t.failRun++
		if prev == StateUnhealthy || t.failRun >= hc.UnhealthyThreshold {
			t.health = TargetHealth{State: StateUnhealthy, Reason: reason, Description: desc}
		}
	}
	if t.health.State != prev {
		g.node.log.Info("target health changed", "target_group", g.arn, "target", t.key.ID, "port", t.key.Port,
			"from", prev, "to", t.health.State, "reason", t.health.Reason, "description", t.health.Description)
	}
}

// checkOnce sends one health check.
func (n *Node) checkOnce(ctx context.Context, t *target, hc HealthCheck, m codeMatcher) (ok bool, reason, desc string) {
	port := t.key.Port
	if hc.Port != 0 {
		port = hc.Port
	}
	t.g.mu.Lock()
	addr := t.cfg.Address
	t.g.mu.Unlock()
	u := strings.ToLower(hc.Protocol) + "://" + net.JoinHostPort(addr, strconv.Itoa(port)) + hc.Path
	ctx, cancel := context.WithTimeout(ctx, hc.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, ReasonFailedHealthChecks, descFailedHealthChecks
	}
	req.Header.Set("User-Agent", healthCheckUserAgent)
	resp, err := n.checkClient.Do(req)
	if err != nil {
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
			return false, ReasonTimeout, descTimeout
		}
		return false, ReasonFailedHealthChecks, descFailedHealthChecks
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if !m.match(resp.StatusCode) {
		return false, ReasonResponseCodeMismatch, fmt.Sprintf("Health checks failed with these codes: [%d]", resp.StatusCode)
	}
	return true, "", ""
}

// describe is a target's health as DescribeTargetHealth shows it: what
// the checks found, unless the target's situation overrides it.
func (g *group) describe(t *target) TargetHealth {
	h := t.health
	switch {
	case t.draining:
		h = TargetHealth{State: StateDraining, Reason: ReasonDeregistrationInProgress, Description: descDeregistrationInProgress}
	case t.cfg.Stopped:
		h = TargetHealth{State: StateUnused, Reason: ReasonInvalidState, Description: descInvalidState}
	case !g.inUse:
		h = TargetHealth{State: StateUnused, Reason: ReasonNotInUse, Description: descNotInUse}
	case g.hc.Disabled:
		h = TargetHealth{State: StateUnavailable, Reason: ReasonHealthCheckDisabled, Description: descHealthCheckDisabled}
	}
	h.TargetGroup = g.arn
	h.Target = t.key
	return h
}

// health describes every target of the group, registered ones in the
// config's order, then draining ones.
func (g *group) health() []TargetHealth {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]TargetHealth, 0, len(g.targets))
	listed := make(map[*target]bool, len(g.order))
	for _, t := range g.order {
		listed[t] = true
		out = append(out, g.describe(t))
	}
	var draining []TargetHealth
	for _, t := range g.targets {
		if !listed[t] {
			draining = append(draining, g.describe(t))
		}
	}
	sort.Slice(draining, func(i, j int) bool {
		a, b := draining[i].Target, draining[j].Target
		return a.ID < b.ID || a.ID == b.ID && a.Port < b.Port
	})
	return append(out, draining...)
}
