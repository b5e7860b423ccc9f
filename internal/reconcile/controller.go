package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/minicloud/minicloud/internal/state"
)

var (
	// ErrNotStarted is what Sync returns before Start.
	ErrNotStarted = errors.New("controller not started")
	// ErrStopped is what Sync returns once Stop was called, unless the
	// reconcile it waited for had already started.
	ErrStopped = errors.New("controller stopped")
)

// Result is what a successful reconcile asks for next.
type Result struct {
	// RequeueAfter, when positive, reconciles the key again after this
	// long, or earlier if something enqueues it meanwhile; either way the
	// next reconcile's Result decides again.
	RequeueAfter time.Duration
}

// Requeue returns a Result that reconciles the key again after d.
func Requeue(d time.Duration) Result { return Result{RequeueAfter: d} }

// Reconciler converges one key towards its desired state. It must be
// idempotent: it is called again after errors, duplicate events and
// restarts, and is told nothing but the key.
type Reconciler[K comparable] interface {
	Reconcile(ctx context.Context, key K) (Result, error)
}

// Func adapts a function to a Reconciler.
type Func[K comparable] func(ctx context.Context, key K) (Result, error)

// Reconcile calls f.
func (f Func[K]) Reconcile(ctx context.Context, key K) (Result, error) { return f(ctx, key) }

// Options configure a Controller. Every field is optional.
type Options[K comparable] struct {
	// Logger; nil discards. Each line carries the controller's name and
	// the key.
	Logger *slog.Logger
	// Store is subscribed to at Start; its events go through Sources. Nil:
	// keys come only from List, Enqueue and Sync.
	Store state.Store
	// Sources map store events to keys.
	Sources []Source[K]
	// List returns every key the controller must look at: the keys of the
	// desired state and those the reconciler still holds something for
	// (a process running for a record that is gone). It is called at
	// Start, after Reset and Resync events, for All sources, and every
	// Resync; a failed list is retried with the backoff.
	List func(ctx context.Context) ([]K, error)
	// Resync is the period of the full re-list; zero: none.
	Resync time.Duration
	// Workers bounds the keys reconciled at once; zero: no bound, one
	// goroutine per busy key.
	Workers int
	// Debounce is how long Enqueue (and so every store event) waits before
	// the key runs; later enqueues do not extend it.
	Debounce time.Duration
	// MinBackoff and MaxBackoff bound the retry delay after an error: the
	// n-th consecutive failure of a key waits MinBackoff·2ⁿ⁻¹, at most
	// MaxBackoff. Defaults 100 ms and 30 s.
	MinBackoff, MaxBackoff time.Duration
	// EventsLost, if set, is called on a Reset or Resync event, before the
	// re-list: the store may have changed in any way, and a controller
	// that keeps what it applied may want to check everything again.
	EventsLost func()
	// OnStop, if set, is called once when the controller stops, after the
	// last reconcile returned: the controller's own shutdown.
	OnStop func()
}

// Controller runs a Reconciler over a queue of keys; see the package doc.
type Controller[K comparable] struct {
	name string
	rec  Reconciler[K]
	opt  Options[K]
	log  *slog.Logger

	mu       sync.Mutex // guards the fields below
	started  bool
	stopping bool
	ctx      context.Context
	cancel   context.CancelFunc
	done     chan struct{} // closed when stopped and OnStop returned
	unsub    func()
	items    map[K]*item
	ready    []K // due keys, in order
	inFlight int
	stats    stats

	relist chan struct{} // a re-list is wanted (buffered, coalescing)
	bg     sync.WaitGroup
	runs   sync.WaitGroup
}

// item is one key's place in the queue; it exists while the key is
// wanted, running, failing or waited for.
type item struct {
	wanted   bool // to be reconciled (again), not before at
	at       time.Time
	timer    *time.Timer
	queued   bool // in ready
	running  bool
	failures int            // consecutive failed reconciles
	waiters  []chan<- error // Sync calls waiting for the next reconcile to start
}

func (it *item) idle() bool {
	return !it.wanted && !it.running && it.failures == 0 && len(it.waiters) == 0
}

type stats struct {
	passes, failures int
	lastPass         time.Time
	lastErr          error
	lastErrKey       any
	lastErrAt        time.Time
}

// New returns a controller named name (in logs, errors and Status) that
// reconciles keys with r; nothing happens until Start.
func New[K comparable](name string, r Reconciler[K], opt Options[K]) *Controller[K] {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.MinBackoff <= 0 {
		opt.MinBackoff = 100 * time.Millisecond
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = 30 * time.Second
	}
	opt.MaxBackoff = max(opt.MaxBackoff, opt.MinBackoff)
	return &Controller[K]{
		name: name, rec: r, opt: opt,
		log:    opt.Logger.With("controller", name),
		items:  map[K]*item{},
		relist: make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
}

// Start subscribes to the store, lists every key and reconciles until Stop
// or ctx ends. It returns at once.
func (c *Controller[K]) Start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started {
		return fmt.Errorf("%s: already started", c.name)
	}
	c.started = true
	c.ctx, c.cancel = context.WithCancel(ctx)
	if c.opt.Store != nil {
		events, unsub := c.opt.Store.Subscribe("")
		c.unsub = unsub
		c.bg.Go(func() { c.watch(events) })
	}
	if c.opt.List != nil {
		c.relist <- struct{}{}
		c.bg.Go(c.resync)
	}
	context.AfterFunc(c.ctx, c.halt)
	c.dispatchLocked() // keys enqueued before Start
	return nil
}

// Stop ends reconciling: it cancels the reconciles' context and waits,
// within ctx, for those in flight and then for Options.OnStop. After a
// deadline the stop goes on in the background. Stop before Start does
// nothing.
func (c *Controller[K]) Stop(ctx context.Context) error {
	c.mu.Lock()
	started, cancel := c.started, c.cancel
	c.mu.Unlock()
	if !started {
		return nil
	}
	cancel()
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: stop: %w", c.name, ctx.Err())
	}
}

// halt runs once the controller's context ends (Stop, or Start's context).
func (c *Controller[K]) halt() {
	c.mu.Lock()
	c.stopping = true
	for _, it := range c.items {
		if it.timer != nil {
			it.timer.Stop()
			it.timer = nil
		}
		for _, w := range it.waiters {
			w <- fmt.Errorf("%s: %w", c.name, ErrStopped)
		}
		it.waiters = nil
		it.queued = false
	}
	c.ready = nil
	unsub := c.unsub
	c.mu.Unlock()
	if unsub != nil {
		unsub()
	}
	c.bg.Wait()
	c.runs.Wait()
	if c.opt.OnStop != nil {
		c.opt.OnStop()
	}
	close(c.done)
}

// Enqueue asks for a reconcile of key after Options.Debounce (or earlier,
// if it was already due). It never blocks.
func (c *Controller[K]) Enqueue(key K) { c.add(key, c.opt.Debounce) }

// EnqueueAfter asks for a reconcile of key after d (or earlier, if it was
// already due).
func (c *Controller[K]) EnqueueAfter(key K, d time.Duration) { c.add(key, d) }

func (c *Controller[K]) add(key K, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.addLocked(key, time.Now().Add(d))
}

// Sync asks for a reconcile of key at once and waits for a reconcile that
// starts after the call; it returns that reconcile's error (also when it
// asked for a requeue: nil). A reconcile in flight when Sync is called does
// not count.
func (c *Controller[K]) Sync(ctx context.Context, key K) error {
	ch := make(chan error, 1)
	c.mu.Lock()
	switch {
	case !c.started:
		c.mu.Unlock()
		return fmt.Errorf("%s: %w", c.name, ErrNotStarted)
	case c.stopping:
		c.mu.Unlock()
		return fmt.Errorf("%s: %w", c.name, ErrStopped)
	}
	it := c.item(key)
	it.waiters = append(it.waiters, ch)
	c.addLocked(key, time.Now())
	c.mu.Unlock()
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		c.mu.Lock()
		if it := c.items[key]; it != nil {
			it.waiters = slices.DeleteFunc(it.waiters, func(w chan<- error) bool { return w == ch })
			c.forgetIfIdle(key, it)
		}
		c.mu.Unlock()
		return ctx.Err()
	}
}

func (c *Controller[K]) item(key K) *item {
	it := c.items[key]
	if it == nil {
		it = &item{}
		c.items[key] = it
	}
	return it
}

func (c *Controller[K]) forgetIfIdle(key K, it *item) {
	if it.idle() && c.items[key] == it {
		delete(c.items, key)
	}
}

// addLocked wants key reconciled not before at; an earlier wish stands.
func (c *Controller[K]) addLocked(key K, at time.Time) {
	if c.stopping {
		return
	}
	it := c.item(key)
	if it.wanted && !at.Before(it.at) {
		return
	}
	it.wanted, it.at = true, at
	if !it.running {
		c.scheduleLocked(key, it)
	}
}

// scheduleLocked puts a wanted, idle key in the ready queue when it is
// due, or sets its timer.
func (c *Controller[K]) scheduleLocked(key K, it *item) {
	if it.queued || c.stopping {
		return
	}
	if it.timer != nil {
		it.timer.Stop()
		it.timer = nil
	}
	if d := time.Until(it.at); d > 0 {
		it.timer = time.AfterFunc(d, func() { c.fire(key, it) })
		return
	}
	it.queued = true
	c.ready = append(c.ready, key)
	c.dispatchLocked()
}

// fire is a key's timer.
func (c *Controller[K]) fire(key K, it *item) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// A timer stopped too late may still fire: act only for the item's
	// current wish.
	if c.items[key] == it && it.wanted && !it.running {
		c.scheduleLocked(key, it)
	}
}

// dispatchLocked starts due keys while the concurrency bound allows.
func (c *Controller[K]) dispatchLocked() {
	for c.started && !c.stopping && len(c.ready) > 0 && (c.opt.Workers <= 0 || c.inFlight < c.opt.Workers) {
		key := c.ready[0]
		c.ready = c.ready[1:]
		it := c.items[key]
		it.queued, it.wanted, it.at, it.running = false, false, time.Time{}, true
		if it.timer != nil {
			it.timer.Stop()
			it.timer = nil
		}
		waiters := it.waiters
		it.waiters = nil
		c.inFlight++
		c.runs.Go(func() { c.run(key, it, waiters) })
	}
}

// run reconciles key once and schedules what comes next.
func (c *Controller[K]) run(key K, it *item, waiters []chan<- error) {
	start := time.Now()
	res, err := c.rec.Reconcile(c.ctx, key)
	now := time.Now()

	c.mu.Lock()
	defer c.mu.Unlock()
	it.running = false
	c.inFlight--
	c.stats.passes++
	c.stats.lastPass = now
	switch {
	case c.ctx.Err() != nil:
		// Stopping: an error now says nothing about the key.
	case err != nil:
		it.failures++
		delay := c.backoff(it.failures)
		c.stats.failures++
		c.stats.lastErr, c.stats.lastErrKey, c.stats.lastErrAt = err, key, now
		c.log.Warn("reconcile failed", "key", key, "err", err, "failures", it.failures, "retry", delay)
		c.addLocked(key, now.Add(delay))
	default:
		it.failures = 0
		c.log.Debug("reconciled", "key", key, "took", now.Sub(start))
		if res.RequeueAfter > 0 {
			c.addLocked(key, now.Add(res.RequeueAfter))
		}
	}
	for _, w := range waiters {
		w <- err
	}
	if it.wanted {
		c.scheduleLocked(key, it) // dirty, failed or requeued
	}
	c.forgetIfIdle(key, it)
	c.dispatchLocked()
}

// backoff is the delay after the n-th consecutive failure.
func (c *Controller[K]) backoff(n int) time.Duration {
	d := c.opt.MinBackoff
	for i := 1; i < n && d < c.opt.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, c.opt.MaxBackoff)
}
