package lb

import (
	"context"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// group is a target group's runtime on a node: its targets with their
// health and counters, its pooled transport, its balancing state. It
// outlives Config snapshots: Update hands it the group's new settings, and
// targets that stay keep their health.
type group struct {
	node     *Node
	arn      string
	counters counterSet
	// transport is the group's pool of keep-alive connections to its
	// targets; replaced when the idle timeout changes.
	transport atomic.Pointer[targetTransport]

	mu      sync.Mutex
	cfg     TargetGroup
	hc      HealthCheck // with defaults
	matcher codeMatcher
	inUse   bool
	idle    time.Duration
	targets map[TargetKey]*target
	order   []*target // registered targets in the config's order (not draining)
	rr      uint64
}

// target is one registered (or draining) target.
type target struct {
	g        *group
	key      TargetKey
	counters counterSet
	inflight atomic.Int64
	// ctx lives until the target has drained (or the node closes);
	// requests to the target end with it.
	ctx    context.Context
	cancel context.CancelFunc

	// Guarded by g.mu.
	cfg          Target
	addr         string       // host:port for traffic
	health       TargetHealth // State, Reason, Description from checks
	okRun        int
	failRun      int
	healthySince time.Time
	draining     bool
	drainTimer   *time.Timer
	stopChecks   context.CancelFunc
	checkGen     int
	cur          int64 // smooth weighted round robin
}

func newGroup(n *Node, arn string) *group {
	return &group{node: n, arn: arn, targets: map[TargetKey]*target{}}
}

func targetKeyOf(t Target, groupPort int) TargetKey {
	port := t.Port
	if port == 0 {
		port = groupPort
	}
	return TargetKey{ID: t.ID, Port: port}
}

// update applies a group's new settings. Targets that stay keep their
// health; new ones start in initial; missing ones drain.
func (g *group) update(tg TargetGroup, matcher codeMatcher, inUse bool, idle time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if idle != g.idle {
		old := g.transport.Swap(newTargetTransport(g.node.dial, idle))
		if old != nil {
			old.retire()
		}
		g.idle = idle
	}
	hc := tg.HealthCheck.withDefaults(tg.Protocol)
	checksChanged := hc != g.hc || inUse != g.inUse || tg.Protocol != g.cfg.Protocol
	g.cfg, g.hc, g.matcher, g.inUse = tg, hc, matcher, inUse

	seen := make(map[TargetKey]bool, len(tg.Targets))
	order := make([]*target, 0, len(tg.Targets))
	for _, tc := range tg.Targets {
		key := targetKeyOf(tc, tg.Port)
		if seen[key] {
			continue
		}
		seen[key] = true
		t := g.targets[key]
		switch {
		case t == nil:
			t = g.newTarget(key, tc)
			g.targets[key] = t
			g.restartChecks(t)
		case t.draining:
			// Registered again while draining: AWS starts it over.
			t.draining = false
			if t.drainTimer != nil {
				t.drainTimer.Stop()
			}
			t.cfg = tc
			t.addr = net.JoinHostPort(tc.Address, strconv.Itoa(key.Port))
			g.resetHealth(t)
			g.restartChecks(t)
		default:
			changed := t.cfg.Address != tc.Address || t.cfg.Stopped != tc.Stopped
			t.cfg = tc
			t.addr = net.JoinHostPort(tc.Address, strconv.Itoa(key.Port))
			if changed {
				g.resetHealth(t)
				g.restartChecks(t)
			} else if checksChanged {
				g.restartChecks(t)
			}
		}
		order = append(order, t)
	}
	g.order = order
	for key, t := range g.targets {
		if !seen[key] && !t.draining {
			g.startDrain(t)
		}
	}
}

// remove drains every target: the group left the configuration.
func (g *group) remove() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.order = nil
	for _, t := range g.targets {
		if !t.draining {
			g.startDrain(t)
		}
	}
}

func (g *group) newTarget(key TargetKey, tc Target) *target {
	ctx, cancel := context.WithCancel(g.node.ctx)
	t := &target{
		g: g, key: key, cfg: tc, ctx: ctx, cancel: cancel,
		addr: net.JoinHostPort(tc.Address, strconv.Itoa(key.Port)),
	}
	g.resetHealth(t)
	return t
}

// resetHealth puts a target back in initial, as a new registration is.
func (g *group) resetHealth(t *target) {
	t.health = TargetHealth{State: StateInitial, Reason: ReasonRegistrationInProgress, Description: descRegistrationInProgress}
	t.okRun, t.failRun = 0, 0
	t.healthySince = time.Time{}
	if g.hc.Disabled {
		// No checks to wait for: the target serves from now on, slow start
		// counting from its registration.
		t.healthySince = time.Now()
	}
}

// startDrain takes a deregistered target out of rotation. It completes
// after the deregistration delay, or as soon as no request is in flight:
// "If a deregistering target has no in-flight requests and no active
// connections, Elastic Load Balancing immediately completes the
// deregistration process, without waiting for the deregistration delay to
// elapse" (ALB user guide, "Deregistration delay").
func (g *group) startDrain(t *target) {
	t.draining = true
	g.stopChecksLocked(t)
	if t.inflight.Load() == 0 {
		g.finishDrainLocked(t)
		return
	}
	t.drainTimer = time.AfterFunc(g.cfg.DeregistrationDelay, func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if t.draining {
			g.finishDrainLocked(t)
		}
	})
}

func (g *group) finishDrainLocked(t *target) {
	if g.targets[t.key] == t {
		delete(g.targets, t.key)
	}
	t.draining = false
	// Requests still in flight after the delay end here, as on AWS.
	t.cancel()
}

// release ends a request to t.
func (g *group) release(t *target) {
	if t.inflight.Add(-1) != 0 {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if t.draining {
		if t.drainTimer != nil {
			t.drainTimer.Stop()
		}
		g.finishDrainLocked(t)
	}
}

// servesHealthy reports whether t is in rotation on its own health (not
// only by fail-open).
func (g *group) servesHealthy(t *target) bool {
	return g.hc.Disabled || t.health.State == StateHealthy
}

// pick chooses a target for a request and counts it in flight; prefer is
// a sticky cookie's target (nil: none). It returns nil when the group has
// no target to send to (503), else the target and its address now.
func (g *group) pick(prefer *TargetKey) (*target, string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	// On the stack for groups of up to 16 targets: no allocation per
	// request.
	var hbuf, obuf [16]*target
	healthy, others := hbuf[:0], obuf[:0]
	for _, t := range g.order {
		if t.cfg.Stopped {
			continue
		}
		if g.servesHealthy(t) {
			healthy = append(healthy, t)
		} else {
			others = append(others, t)
		}
	}
	cands := healthy
	if len(cands) == 0 {
		// Fail open: "If a target group contains only unhealthy registered
		// targets, the load balancer routes requests to all those targets,
		// regardless of their health status" (ALB user guide, "Health
		// checks for your target groups").
		cands = others
	}
	if len(cands) == 0 {
		return nil, ""
	}
	var chosen *target
	if prefer != nil {
		for _, t := range cands {
			if t.key == *prefer {
				chosen = t
				break
			}
		}
	}
	if chosen == nil {
		chosen = g.choose(cands, time.Now())
	}
	chosen.inflight.Add(1)
	return chosen, chosen.addr
}

// slowStartWeight is a target's share in thousandths: it grows linearly
// from 1 to 1000 over the slow start duration after the target turned
// healthy.
func (g *group) slowStartWeight(t *target, now time.Time) int64 {
	d := g.cfg.SlowStart
	if d <= 0 || t.healthySince.IsZero() {
		return 1000
	}
	el := now.Sub(t.healthySince)
	if el >= d {
		return 1000
	}
	return max(1, int64(1000*el/d))
}

func (g *group) choose(cands []*target, now time.Time) *target {
	if len(cands) == 1 {
		return cands[0]
	}
	switch g.cfg.Algorithm {
	case LeastOutstandingRequests:
		g.rr++
		start := int(g.rr % uint64(len(cands)))
		best := cands[start]
		for i := 1; i < len(cands); i++ {
			t := cands[(start+i)%len(cands)]
			if t.inflight.Load() < best.inflight.Load() {
				best = t
			}
		}
		return best
	case WeightedRandom:
		var total int64
		for _, t := range cands {
			total += g.slowStartWeight(t, now)
		}
		x := rand.Int64N(total)
		for _, t := range cands {
			x -= g.slowStartWeight(t, now)
			if x < 0 {
				return t
			}
		}
		return cands[len(cands)-1]
	default:
		// Smooth weighted round robin: even when slow start weights
		// differ, the sequence interleaves instead of bursting.
		var total int64
		var best *target
		for _, t := range cands {
			w := g.slowStartWeight(t, now)
			t.cur += w
			total += w
			if best == nil || t.cur > best.cur {
				best = t
			}
		}
		best.cur -= total
		return best
	}
}
