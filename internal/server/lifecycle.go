package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/lb/nodes"
	"github.com/minicloud/minicloud/internal/service/acm"
	"github.com/minicloud/minicloud/internal/service/cloudtrail"
	"github.com/minicloud/minicloud/internal/service/cloudwatch"
	"github.com/minicloud/minicloud/internal/service/ec2"
	"github.com/minicloud/minicloud/internal/service/elbv2"
	"github.com/minicloud/minicloud/internal/service/iam"
	"github.com/minicloud/minicloud/internal/service/logs"
	"github.com/minicloud/minicloud/internal/service/rds"
	"github.com/minicloud/minicloud/internal/service/route53"
	"github.com/minicloud/minicloud/internal/service/ssm"
	"github.com/minicloud/minicloud/internal/service/sts"
	"github.com/minicloud/minicloud/internal/state"
	"github.com/minicloud/minicloud/internal/vpce"
)

// The lifecycle of everything the server runs is one ordered list of parts
// (Server.parts, written out in New): the state store, the data plane, the
// AWS services and the listeners. New starts the parts in order, Start then
// starts the listeners, and Close stops whatever runs in reverse order. A
// start that fails stops what it had started, in reverse, by the same path.
// Each part implements what it needs of the small interfaces below; a part
// that implements none of them only serves (or only holds a name in the list).

// Service is an AWS service minicloud serves: its generated description and
// the handlers of its operations, which the gateway routes to.
type Service interface {
	Info() *api.ServiceInfo
	Handlers() map[string]api.Handler
}

// Starter is a part that runs something: Start returns once it runs, and on
// error leaves nothing running. ctx bounds the start only; what started
// runs until Stop.
type Starter interface {
	Start(ctx context.Context) error
}

// Stopper is a part that holds something until it stops: Stop stops what
// Start started and releases what the part holds, waiting no longer than
// ctx allows where the wait is its own.
type Stopper interface {
	Stop(ctx context.Context) error
}

// HealthReporter is a part with an entry in /_minicloud/health. Health
// must stay cheap and never exec: tools poll it to learn that minicloud is
// up.
type HealthReporter interface {
	Health() map[string]any
}

// What each part implements, checked by the compiler: a method whose
// signature drifted would otherwise fail the type assertion and quietly
// never run.
var (
	_ = []Service{(*sts.Service)(nil), (*iam.Service)(nil), (*ec2.Service)(nil), (*route53.Service)(nil), (*acm.Service)(nil), (*rds.Service)(nil), (*elbv2.Service)(nil), (*cloudwatch.Service)(nil), (*logs.Service)(nil), (*cloudtrail.Service)(nil), (*ssm.Service)(nil)}
	_ = []Starter{(*logs.Service)(nil), (*cloudtrail.Service)(nil), (*dataPlane)(nil), instanceRuntime{}, (*nodes.Dataplane)(nil), (*route53.Service)(nil), (*acm.Service)(nil), (*rds.Service)(nil), (*elbv2.Service)(nil), (*ssm.Service)(nil), (*cloudwatch.Evaluator)(nil), (*dnsServer)(nil), (*httpServer)(nil), (*vpce.Controller)(nil), sessionManager{}}
	_ = []Stopper{stateStore{}, (*logs.Service)(nil), (*cloudtrail.Service)(nil), (*dataPlane)(nil), instanceRuntime{}, (*nodes.Dataplane)(nil), (*route53.Service)(nil), (*acm.Service)(nil), (*rds.Service)(nil), (*elbv2.Service)(nil), (*ssm.Service)(nil), (*cloudwatch.Service)(nil), (*cloudwatch.Evaluator)(nil), (*dnsServer)(nil), (*httpServer)(nil), (*vpce.Controller)(nil), sessionManager{}}
	_ = []HealthReporter{stateStore{}, (*cloudtrail.Service)(nil), (*dataPlane)(nil), instanceRuntime{}, (*nodes.Dataplane)(nil), (*acm.Service)(nil), (*rds.Service)(nil), (*elbv2.Service)(nil), (*ssm.Service)(nil), (*cloudwatch.Evaluator)(nil), (*dnsServer)(nil), (*vpce.Controller)(nil)}
)

// dataPlaneStopBudget is how long stopping the data plane's parts may take,
// whatever is left of Close's deadline: a slow HTTP shutdown must not leave
// namespaces and routes behind.
const dataPlaneStopBudget = 30 * time.Second

// part is one entry of the server's list.
type part struct {
	name string // in errors ("start <name>: …") and, by default, health
	// health is the part's key in /_minicloud/health when it is a
	// HealthReporter and its key is not its name.
	health string
	it     any // a Service, Starter, Stopper, HealthReporter, any of them
	// listener: Start starts it, not New (it serves the outside world).
	// Listeners come last in the list, so they stop first.
	listener bool
	// dataPlane: Close stops it within dataPlaneStopBudget of its own.
	dataPlane bool
	running   bool
}

// service makes an AWS service a part, named as the gateway names it.
func service(s Service) *part { return &part{name: s.Info().Name, it: s} }

// healthKey is where the part's health goes in /_minicloud/health.
func (p *part) healthKey() string {
	if p.health != "" {
		return p.health
	}
	return p.name
}

// startParts starts, in order, the parts that are (or are not) listeners.
// When one fails it stops those it started, in reverse, and returns the
// failure wrapped with the part's name, with any failure to stop.
func startParts(ctx context.Context, parts []*part, listeners bool) error {
	var started []*part
	for _, p := range parts {
		if p.listener != listeners {
			continue
		}
		if st, ok := p.it.(Starter); ok {
			if err := st.Start(ctx); err != nil {
				return errors.Join(fmt.Errorf("start %s: %w", p.name, err), stopParts(ctx, started))
			}
		}
		p.running = true
		started = append(started, p)
	}
	return nil
}

// stopParts stops the running parts in reverse order, each once, and
// returns every failure wrapped with its part's name. The data plane's parts
// share one budget of their own, started when the first of them stops.
func stopParts(ctx context.Context, parts []*part) error {
	var (
		errs  []error
		dpCtx context.Context
	)
	for i := len(parts) - 1; i >= 0; i-- {
		p := parts[i]
		if !p.running {
			continue
		}
		p.running = false
		sp, ok := p.it.(Stopper)
		if !ok {
			continue
		}
		sctx := ctx
		if p.dataPlane {
			if dpCtx == nil {
				var cancel context.CancelFunc
				dpCtx, cancel = context.WithTimeout(context.WithoutCancel(ctx), dataPlaneStopBudget)
				defer cancel()
			}
			sctx = dpCtx
		}
		if err := sp.Stop(sctx); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", p.name, err))
		}
	}
	return errors.Join(errs...)
}

// partsHealth assembles /_minicloud/health's entries from the parts that
// report one.
func partsHealth(parts []*part) map[string]any {
	h := map[string]any{}
	for _, p := range parts {
		if r, ok := p.it.(HealthReporter); ok {
			h[p.healthKey()] = r.Health()
		}
	}
	return h
}

// stateStore is the store as a part: opened before anything is built, and
// closed last.
type stateStore struct {
	store state.Store
	cfg   Config
}

// Stop closes the store.
func (s stateStore) Stop(context.Context) error { return s.store.Close() }

// Health is where state is kept.
func (s stateStore) Health() map[string]any {
	if s.cfg.Ephemeral {
		return map[string]any{"backend": "memory"}
	}
	return map[string]any{"backend": "bolt", "dir": s.cfg.StateDir}
}

// instanceRuntime is EC2's instance runtime (the data plane's, or
// Config.EC2Runtime) as a part. EC2 starts and stops it, as the runtime
// reports to EC2's controller.
type instanceRuntime struct{ ec2 *ec2.Service }

// Start hands the runtime EC2's controller.
func (r instanceRuntime) Start(context.Context) error { return r.ec2.StartRuntime() }

// Stop stops the runtime and the instances it runs, within ctx's deadline.
func (r instanceRuntime) Stop(ctx context.Context) error { return r.ec2.StopRuntime(ctx) }

// Health says which runtime runs instances, or why none does.
func (r instanceRuntime) Health() map[string]any { return r.ec2.RuntimeHealth() }
