package apionly

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/minicloud/minicloud/internal/reconcile"
	"github.com/minicloud/minicloud/internal/service/ec2"
)

// DefaultDelay is how long each transition takes unless Config.Delay says
// otherwise: long enough for a Describe right after RunInstances to see
// pending, short enough that a waiter's first poll (an AWS CLI `wait`
// starts a new process) sees the state it waits for.
const DefaultDelay = 200 * time.Millisecond

// Name is the runtime's name in /_minicloud/health.
const Name = "api-only"

// Config configures a Runtime.
type Config struct {
	// Reason says why the data plane is off ("the data plane is off
	// (--data-plane=off)"); health and the console quote it.
	Reason string
	// Delay is how long each transition takes (DefaultDelay when zero;
	// negative: none).
	Delay time.Duration
	// Logger; nil discards.
	Logger *slog.Logger
}

// Runtime completes instances' state machine without running anything;
// it implements ec2.Runtime.
type Runtime struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	ctl     ec2.Controller
	insts   *reconcile.Controller[reconcile.Key]
	seen    map[reconcile.Key]*seen
	started bool
}

// seen is what the runtime remembers of one instance between reconciles.
type seen struct {
	generation int64
	since      time.Time // when this generation was first seen
	reboots    int       // RebootRequests handled
}

var _ ec2.Runtime = (*Runtime)(nil)

// New returns a Runtime; it does nothing until Start.
func New(cfg Config) *Runtime {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case cfg.Delay == 0:
		cfg.Delay = DefaultDelay
	case cfg.Delay < 0:
		cfg.Delay = 0
	}
	if cfg.Reason == "" {
		cfg.Reason = "the data plane is off"
	}
	return &Runtime{cfg: cfg, log: cfg.Logger.With("component", "instance-runtime", "runtime", Name), seen: map[reconcile.Key]*seen{}}
}

// Name is the runtime's name in /_minicloud/health.
func (r *Runtime) Name() string { return Name }

// Available is always true: recording states needs nothing of the host.
func (r *Runtime) Available() (bool, string) { return true, "" }

// Reason is why the data plane is off.
func (r *Runtime) Reason() string { return r.cfg.Reason }

// Health is what /_minicloud/health's "instances" entry adds for this
// runtime (ec2.RuntimeHealthReporter): that nothing runs, and why.
func (r *Runtime) Health() map[string]any {
	h := map[string]any{
		"reason": r.cfg.Reason,
		"note":   "API-only mode: instances move through AWS's states (pending → running, stopping → stopped, shutting-down → terminated) but nothing runs them",
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.insts != nil {
		h["controller"] = r.insts.Status().Map()
	}
	return h
}

// Console is the notice a running instance's console output carries.
func (r *Runtime) Console() string {
	return "minicloud API-only mode: this instance is recorded as running, but nothing runs it (" + r.cfg.Reason + ").\n" +
		"No operating system boots, its user data does not run, no metadata service answers and nothing listens on its addresses.\n"
}

// Start begins reconciling; it returns at once.
func (r *Runtime) Start(c ec2.Controller) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return errors.New("api-only instance runtime: already started")
	}
	r.started, r.ctl = true, c
	r.insts = reconcile.New("instances", reconcile.Func[reconcile.Key](r.reconcile), reconcile.Options[reconcile.Key]{
		Logger: r.cfg.Logger,
		Store:  c.Store(),
		Sources: []reconcile.Source[reconcile.Key]{reconcile.Map("ec2", "", func(o reconcile.Object) []reconcile.Key {
			if _, _, _, ok := ec2.InstanceKey(o.StoreKey()); ok {
				return []reconcile.Key{o.Key()}
			}
			return nil
		})},
		List: r.list,
		// Reading or reporting failed: the store is busy or closing.
		MinBackoff: 100 * time.Millisecond,
		MaxBackoff: 5 * time.Second,
	})
	return r.insts.Start(context.Background())
}

// Stop ends reconciling. It reports nothing: the records keep their states.
func (r *Runtime) Stop(ctx context.Context) error {
	r.mu.Lock()
	c := r.insts
	r.mu.Unlock()
	if c == nil {
		return nil
	}
	if err := c.Stop(ctx); err != nil {
		return fmt.Errorf("api-only instance runtime: %w", err)
	}
	return nil
}

// list is every instance of the control plane.
func (r *Runtime) list(ctx context.Context) ([]reconcile.Key, error) {
	specs, err := r.ctl.Instances(ctx)
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	keys := make([]reconcile.Key, 0, len(specs))
	for _, s := range specs {
		keys = append(keys, key(s))
	}
	return keys, nil
}

func key(s ec2.InstanceSpec) reconcile.Key {
	k := reconcile.Key{ID: s.InstanceID}
	k.Account, k.Region = s.Account, s.Region
	return k
}

// reconcile re-reads one instance and reports the state its desired state
// leads to, once Delay has passed since this generation was first seen.
func (r *Runtime) reconcile(ctx context.Context, k reconcile.Key) (reconcile.Result, error) {
	// A stale report means the user moved the instance meanwhile: re-read.
	for range 8 {
		spec, found, err := r.ctl.Instance(ctx, k.Account, k.Region, k.ID)
		if err != nil {
			return reconcile.Result{}, fmt.Errorf("read instance: %w", err)
		}
		if !found {
			r.forget(k)
			return reconcile.Result{}, nil
		}
		rep, wait, done := r.step(k, &spec, time.Now())
		if done {
			r.forget(k)
		}
		if rep == nil {
			return reconcile.Requeue(wait), nil
		}
		rep.Generation = spec.Generation
		err = r.ctl.ReportInstance(ctx, k.Account, k.Region, k.ID, *rep)
		switch {
		case err == nil && rep.State == "":
			// Console output or reachability: re-read for what is next
			// only after a reboot notice (reachability is the last step).
			if rep.ConsoleOutput == "" {
				return reconcile.Result{}, nil
			}
		case err == nil:
			// A new generation: re-read, and wait Delay for the next step.
			r.log.Info("instance state reported", "instance", k.ID, "state", rep.State)
		case errors.Is(err, ec2.ErrStaleReport):
		case errors.Is(err, ec2.ErrUnknownInstance):
			r.forget(k)
			return reconcile.Result{}, nil
		default:
			return reconcile.Result{}, fmt.Errorf("report instance %s: %w", k.ID, err)
		}
	}
	return reconcile.Requeue(100 * time.Millisecond), nil
}

// step decides what to report of spec at now: a report, or nil and how
// long until one is due (0: nothing to wait for); done means the runtime
// may forget the instance.
func (r *Runtime) step(k reconcile.Key, spec *ec2.InstanceSpec, now time.Time) (rep *ec2.InstanceReport, wait time.Duration, done bool) {
	r.mu.Lock()
	s := r.seen[k]
	if s == nil {
		// Reboots asked before this runtime saw the instance (a restart)
		// were handled by the runtime of then.
		s = &seen{generation: spec.Generation, since: now, reboots: spec.RebootRequests}
		r.seen[k] = s
	} else if s.generation != spec.Generation {
		s.generation, s.since = spec.Generation, now
	}
	due := s.since.Add(r.cfg.Delay)
	reboot := spec.RebootRequests > s.reboots
	if spec.State != ec2StateRunning {
		s.reboots = max(s.reboots, spec.RebootRequests)
	}
	r.mu.Unlock()

	var next *ec2.InstanceReport
	switch spec.State {
	case ec2StatePending:
		next = &ec2.InstanceReport{State: ec2StateRunning, ConsoleOutput: r.Console()}
	case ec2StateRunning:
		if reboot {
			r.mu.Lock()
			s.reboots = spec.RebootRequests
			r.mu.Unlock()
			// A reboot is recorded at once: on AWS the instance stays
			// running through it.
			return &ec2.InstanceReport{ConsoleOutput: "minicloud API-only mode: reboot recorded; nothing runs this instance (" + r.cfg.Reason + ").\n"}, 0, false
		}
		next = &ec2.InstanceReport{Reachable: new(true)}
	case ec2StateStopping:
		next = &ec2.InstanceReport{State: ec2StateStopped}
	case ec2StateShuttingDown:
		next = &ec2.InstanceReport{State: ec2StateTerminated}
	default: // stopped, terminated: nothing runs, nothing to report
		return nil, 0, true
	}
	if wait := due.Sub(now); wait > 0 {
		return nil, wait, false
	}
	return next, 0, false
}

// forget drops what the runtime remembers of an instance.
func (r *Runtime) forget(k reconcile.Key) {
	r.mu.Lock()
	delete(r.seen, k)
	r.mu.Unlock()
}

// Instance states, as ec2.InstanceSpec.State names them.
const (
	ec2StatePending      = "pending"
	ec2StateRunning      = "running"
	ec2StateStopping     = "stopping"
	ec2StateStopped      = "stopped"
	ec2StateShuttingDown = "shutting-down"
	ec2StateTerminated   = "terminated"
)
