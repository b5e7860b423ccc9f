package controller

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/minicloud/minicloud/internal/certport"
	"github.com/minicloud/minicloud/internal/ec2port"
	"github.com/minicloud/minicloud/internal/reconcile"
	"github.com/minicloud/minicloud/internal/service/elbv2/records"
	"github.com/minicloud/minicloud/internal/state"
)

// Config is what the controller works with.
type Config struct {
	Store  state.Store
	Logger *slog.Logger
	// EC2 makes the nodes' network interfaces and public IPs and answers
	// for instance targets. Nil: no nodes are made.
	EC2 ec2port.Port
	// Certs is ACM: the controller marks the certificates of every
	// listener in use again on each change (certport.Use is idempotent),
	// and releases those of a deleted load balancer. Nil: nothing to mark.
	Certs certport.Port
	// Dataplane runs the nodes; nil: API only.
	Dataplane Dataplane
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Resync is how often every key is listed again (default 30 s).
	Resync time.Duration
}

// Controller converges load balancers and draining registrations.
type Controller struct {
	cfg Config
	log *slog.Logger
	q   *reconcile.Controller[key]

	mu      sync.Mutex
	applied map[key]*View // the View the data plane runs, by load balancer key
}

// key is a load balancer (kindLB, its ID) or a target group (kindTG).
type key struct {
	state.Scope
	kind byte
	id   string
}

const (
	kindLB byte = 'l'
	kindTG byte = 't'
)

// retryAfter is when a pass that could not finish runs again, besides the
// queue's backoff on errors.
const retryAfter = 5 * time.Second

// New returns a controller; Start runs it.
func New(cfg Config) *Controller {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Resync == 0 {
		cfg.Resync = 30 * time.Second
	}
	c := &Controller{cfg: cfg, log: cfg.Logger, applied: map[key]*View{}}
	lbKey := func(o reconcile.Object) []key {
		return []key{{Scope: o.Scope, kind: kindLB, id: records.LoadBalancerOf(o.ID)}}
	}
	c.q = reconcile.New("elbv2", reconcile.Func[key](c.reconcile), reconcile.Options[key]{
		Logger: c.log,
		Store:  cfg.Store,
		Sources: []reconcile.Source[key]{
			reconcile.Map(records.LoadBalancers.Service, records.LoadBalancers.Kind, lbKey),
			reconcile.Map(records.Listeners.Service, records.Listeners.Kind, lbKey),
			reconcile.Map(records.Rules.Service, records.Rules.Kind, lbKey),
			reconcile.Map(records.Retired.Service, records.Retired.Kind, lbKey),
			reconcile.Map(records.TargetGroups.Service, records.TargetGroups.Kind, func(o reconcile.Object) []key {
				return []key{{Scope: o.Scope, kind: kindTG, id: o.ID}}
			}),
			// A target group's registrations, health check or attributes,
			// and the instances behind them, change the Views of the load
			// balancers that forward to it: every View is built again and
			// applied only if it changed.
			reconcile.All[key](records.TargetGroups.Service, records.TargetGroups.Kind),
			reconcile.All[key]("ec2", "instance"),
		},
		List:     c.listKeys,
		Resync:   cfg.Resync,
		Debounce: 20 * time.Millisecond,
	})
	return c
}

// Start runs the controller: every key is reconciled now and on every
// change.
func (c *Controller) Start() error { return c.q.Start(context.Background()) }

// Stop stops the controller within ctx. The nodes stay: a stop of
// minicloud is not a deletion, and the next start applies every load
// balancer again.
func (c *Controller) Stop(ctx context.Context) error { return c.q.Stop(ctx) }

// Status is the controller's counters for /_minicloud/health.
func (c *Controller) Status() map[string]any { return c.q.Status().Map() }

// Sync reconciles load balancer lbID at once and waits for it (tests).
func (c *Controller) Sync(ctx context.Context, sc state.Scope, lbID string) error {
	return c.q.Sync(ctx, key{Scope: sc, kind: kindLB, id: lbID})
}

// listKeys lists every load balancer, retired load balancer and target
// group, and every load balancer the data plane runs (whose records may
// be gone: a reset).
func (c *Controller) listKeys(ctx context.Context) ([]key, error) {
	var keys []key
	err := c.cfg.Store.View(ctx, func(tx state.Tx) error {
		return tx.Scan("", func(k string, _ []byte) error {
			if sc, id, ok := records.LoadBalancers.ParseKey(k); ok {
				keys = append(keys, key{Scope: sc, kind: kindLB, id: id})
			} else if sc, id, ok := records.Retired.ParseKey(k); ok {
				keys = append(keys, key{Scope: sc, kind: kindLB, id: id})
			} else if sc, id, ok := records.TargetGroups.ParseKey(k); ok {
				keys = append(keys, key{Scope: sc, kind: kindTG, id: id})
			}
			return nil
		})
	})
	c.mu.Lock()
	for k := range c.applied {
		keys = append(keys, k)
	}
	c.mu.Unlock()
	return keys, err
}

func (c *Controller) reconcile(ctx context.Context, k key) (reconcile.Result, error) {
	if k.kind == kindTG {
		return c.reconcileTG(ctx, k)
	}
	return c.reconcileLB(ctx, k)
}

// updateLB applies fn to load balancer id's record if it still exists and
// writes it if fn changed it; applied is false when the record is gone.
func (c *Controller) updateLB(sc state.Scope, id string, fn func(lb *records.LoadBalancer)) (applied bool, err error) {
	err = c.cfg.Store.Update(context.Background(), func(tx state.Tx) error {
		lb, found, err := records.LoadBalancers.Get(tx, sc, id)
		if err != nil || !found {
			return err
		}
		applied = true
		before, _ := json.Marshal(lb)
		fn(&lb)
		// An unchanged record is not written: every write is an event
		// that would reconcile the load balancer again.
		if after, _ := json.Marshal(lb); bytes.Equal(before, after) {
			return nil
		}
		return records.LoadBalancers.Put(tx, sc, id, lb)
	})
	if errors.Is(err, state.ErrClosed) {
		err = nil
	}
	return applied, err
}

// reconcileTG removes the registrations whose draining has ended and asks
// to run again when the next one ends.
func (c *Controller) reconcileTG(ctx context.Context, k key) (reconcile.Result, error) {
	now := c.cfg.Now()
	var next time.Time
	err := c.cfg.Store.Update(ctx, func(tx state.Tx) error {
		tg, found, err := records.TargetGroups.Get(tx, k.Scope, k.id)
		if err != nil || !found {
			return err
		}
		kept := tg.Targets[:0:0]
		for _, t := range tg.Targets {
			switch {
			case t.DrainingUntil == nil:
			case !t.DrainingUntil.After(now):
				continue
			case next.IsZero() || t.DrainingUntil.Before(next):
				next = *t.DrainingUntil
			}
			kept = append(kept, t)
		}
		if len(kept) == len(tg.Targets) {
			return nil
		}
		tg.Targets = kept
		return records.TargetGroups.Put(tx, k.Scope, k.id, tg)
	})
	if err != nil {
		return reconcile.Result{}, err
	}
	if !next.IsZero() {
		return reconcile.Requeue(next.Sub(now)), nil
	}
	return reconcile.Result{}, nil
}
