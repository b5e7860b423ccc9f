package reconcile

import (
	"context"
	"time"

	"github.com/minicloud/minicloud/internal/state"
)

// Key names one object of a kind: its account, region and ID.
type Key struct {
	state.Scope
	ID string
}

// String is account/region/id, as logs show it.
func (k Key) String() string { return k.Account + "/" + k.Region + "/" + k.ID }

// Object is a changed store key split into its parts, as Sources see it.
type Object struct {
	state.Scope
	Service, Kind, ID string
	// Deleted is true when the last change removed the key. Like every
	// event field it is a hint: a reconciler re-reads the store.
	Deleted bool
}

// Key is the object's Key.
func (o Object) Key() Key { return Key{Scope: o.Scope, ID: o.ID} }

// StoreKey is the object's key in the store.
func (o Object) StoreKey() string {
	return state.Key(o.Account, o.Region, o.Service, o.Kind, o.ID)
}

// Source says which store events concern a controller and which keys each
// enqueues.
type Source[K comparable] struct {
	// Service and Kind select the store keys <account>/<region>/<service>/
	// <kind>/<id> whose events count; "" matches any.
	Service, Kind string
	// Map returns the keys an event concerns. Nil: every key (a re-list,
	// which needs Options.List).
	Map func(Object) []K
}

func (s Source[K]) matches(o Object) bool {
	return (s.Service == "" || s.Service == o.Service) && (s.Kind == "" || s.Kind == o.Kind)
}

// Objects is the usual source: every event of service's kind enqueues that
// object's own Key.
func Objects(service, kind string) Source[Key] {
	return Source[Key]{Service: service, Kind: kind, Map: func(o Object) []Key { return []Key{o.Key()} }}
}

// Map is a source whose events enqueue fn's keys (none, one or several).
func Map[K comparable](service, kind string, fn func(Object) []K) Source[K] {
	return Source[K]{Service: service, Kind: kind, Map: fn}
}

// All is a source whose every event concerns every key: it re-lists, for
// changes that fan out (a parameter group and all its instances).
func All[K comparable](service, kind string) Source[K] {
	return Source[K]{Service: service, Kind: kind}
}

// watch turns store events into keys until the subscription ends.
func (c *Controller[K]) watch(events <-chan state.Event) {
	for {
		select {
		case <-c.ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return // the store closed
			}
			c.handle(ev)
		}
	}
}

func (c *Controller[K]) handle(ev state.Event) {
	if ev.Reset || ev.Resync {
		if c.opt.EventsLost != nil {
			c.opt.EventsLost()
		}
		c.requestRelist()
		return
	}
	sc, service, kind, id, ok := state.SplitKey(ev.Key)
	if !ok {
		return
	}
	o := Object{Scope: sc, Service: service, Kind: kind, ID: id, Deleted: ev.Deleted}
	for _, s := range c.opt.Sources {
		if !s.matches(o) {
			continue
		}
		if s.Map == nil {
			c.requestRelist()
			continue
		}
		for _, k := range s.Map(o) {
			c.Enqueue(k)
		}
	}
}

func (c *Controller[K]) requestRelist() {
	if c.opt.List == nil {
		c.log.Warn("a source asks for a re-list but the controller has no List")
		return
	}
	select {
	case c.relist <- struct{}{}:
	default: // one is pending already
	}
}

// resync runs List when asked, every Options.Resync, and after a failed
// list with the backoff.
func (c *Controller[K]) resync() {
	var tick <-chan time.Time
	if c.opt.Resync > 0 {
		t := time.NewTicker(c.opt.Resync)
		defer t.Stop()
		tick = t.C
	}
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	failures := 0
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.relist:
		case <-tick:
		case <-retry.C:
		}
		if err := c.list(c.ctx); err != nil {
			if c.ctx.Err() != nil {
				return
			}
			failures++
			d := c.backoff(failures)
			c.log.Warn("list failed", "err", err, "retry", d)
			retry.Reset(d)
			continue
		}
		failures = 0
		retry.Stop()
	}
}

// list enqueues every listed key, due at once.
func (c *Controller[K]) list(ctx context.Context) error {
	keys, err := c.opt.List(ctx)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	for _, k := range keys {
		c.addLocked(k, now)
	}
	return nil
}
