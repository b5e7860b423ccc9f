package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/reconcile"
	"github.com/minicloud/minicloud/internal/state"
)

// recorder is a Reconciler that records every call and asks do what to
// answer (nil: done).
type recorder struct {
	do func(ctx context.Context, key string, n int) (reconcile.Result, error)

	mu        sync.Mutex
	starts    map[string][]time.Time
	active    map[string]int
	maxActive map[string]int
	total     int
	maxTotal  int
	started   chan string // each call's key, when it starts
}

func newRecorder(do func(ctx context.Context, key string, n int) (reconcile.Result, error)) *recorder {
	return &recorder{do: do, starts: map[string][]time.Time{}, active: map[string]int{}, maxActive: map[string]int{},
		started: make(chan string, 10000)}
}

func (r *recorder) Reconcile(ctx context.Context, key string) (reconcile.Result, error) {
	r.mu.Lock()
	r.starts[key] = append(r.starts[key], time.Now())
	n := len(r.starts[key])
	r.active[key]++
	r.maxActive[key] = max(r.maxActive[key], r.active[key])
	r.total++
	r.maxTotal = max(r.maxTotal, r.total)
	r.mu.Unlock()
	r.started <- key
	defer func() {
		r.mu.Lock()
		r.active[key]--
		r.total--
		r.mu.Unlock()
	}()
	if r.do == nil {
		return reconcile.Result{}, nil
	}
	return r.do(ctx, key, n)
}

func (r *recorder) calls(key string) []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.starts[key])
}

// max is the most reconciles of key at once; of any key for "".
func (r *recorder) max(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if key == "" {
		return r.maxTotal
	}
	return r.maxActive[key]
}

// wait returns the key of the next call to start, failing after d.
func (r *recorder) wait(t *testing.T, d time.Duration) string {
	t.Helper()
	select {
	case k := <-r.started:
		return k
	case <-time.After(d):
		t.Fatalf("no reconcile within %s", d)
		return ""
	}
}

// quiet fails if a call starts within d.
func (r *recorder) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case k := <-r.started:
		t.Fatalf("unexpected reconcile of %q", k)
	case <-time.After(d):
	}
}

// noLeaks fails the test if a goroutine of the package outlives it (the
// controllers' cleanups, registered later, run first).
func noLeaks(t *testing.T) {
	t.Cleanup(func() {
		deadline := time.Now().Add(2 * time.Second)
		for {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			var leaked []string
			for g := range strings.SplitSeq(string(buf), "\n\n") {
				if strings.Contains(g, "internal/reconcile.(*Controller") {
					leaked = append(leaked, g)
				}
			}
			if len(leaked) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("%d goroutines leaked:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// start starts c and stops it when the test ends.
func start[K comparable](t *testing.T, c *reconcile.Controller[K]) {
	t.Helper()
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
}

func gaps(ts []time.Time) []time.Duration {
	var out []time.Duration
	for i := 1; i < len(ts); i++ {
		out = append(out, ts[i].Sub(ts[i-1]))
	}
	return out
}

func TestDeduplicates(t *testing.T) {
	tests := []struct {
		name     string
		debounce time.Duration
		before   bool // enqueue before Start
	}{
		{"before Start", 0, true},
		{"while debouncing", 50 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noLeaks(t)
			r := newRecorder(nil)
			c := reconcile.New[string]("test", r, reconcile.Options[string]{Debounce: tt.debounce})
			if !tt.before {
				start(t, c)
			}
			for range 50 {
				c.Enqueue("a")
			}
			if tt.before {
				start(t, c)
			}
			r.wait(t, time.Second)
			r.quiet(t, 100*time.Millisecond)
			if st := c.Status(); st.Passes != 1 || st.Queued != 0 || st.InFlight != 0 {
				t.Errorf("Status = %+v", st)
			}
		})
	}
}

// TestOneAtATimePerKey hammers a few keys from many goroutines: no key is
// ever reconciled twice at once, and every key's last reconcile starts
// after its last Enqueue.
func TestOneAtATimePerKey(t *testing.T) {
	noLeaks(t)
	r := newRecorder(func(ctx context.Context, key string, n int) (reconcile.Result, error) {
		time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
		return reconcile.Result{}, nil
	})
	c := reconcile.New[string]("test", r, reconcile.Options[string]{})
	start(t, c)
	keys := []string{"a", "b", "c", "d"}
	var mu sync.Mutex
	last := map[string]time.Time{}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 200 {
				k := keys[rand.IntN(len(keys))]
				mu.Lock()
				last[k] = time.Now()
				mu.Unlock()
				c.Enqueue(k)
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for st := c.Status(); st.Queued+st.InFlight > 0; st = c.Status() {
		if time.Now().After(deadline) {
			t.Fatalf("queue not drained: %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, k := range keys {
		if m := r.max(k); m != 1 {
			t.Errorf("key %s reconciled %d times at once", k, m)
		}
		calls := r.calls(k)
		if len(calls) == 0 || calls[len(calls)-1].Before(last[k]) {
			t.Errorf("key %s: last reconcile does not follow its last Enqueue (%d calls)", k, len(calls))
		}
	}
}

// TestDirtyRunsOnceMore: events during a reconcile make exactly one more.
func TestDirtyRunsOnceMore(t *testing.T) {
	noLeaks(t)
	release := make(chan struct{})
	r := newRecorder(func(ctx context.Context, key string, n int) (reconcile.Result, error) {
		if n == 1 {
			<-release
		}
		return reconcile.Result{}, nil
	})
	c := reconcile.New[string]("test", r, reconcile.Options[string]{})
	start(t, c)
	c.Enqueue("a")
	r.wait(t, time.Second)
	for range 5 {
		c.Enqueue("a")
	}
	r.quiet(t, 50*time.Millisecond) // not beside the running one
	if st := c.Status(); st.Queued != 1 || st.InFlight != 1 {
		t.Errorf("Status while dirty = %+v, want 1 queued and 1 in flight", st)
	}
	close(release)
	r.wait(t, time.Second)
	r.quiet(t, 100*time.Millisecond)
	if n := len(r.calls("a")); n != 2 {
		t.Errorf("%d reconciles, want 2", n)
	}
}

var errBoom = errors.New("boom")

// TestResults checks the delays between reconciles that errors (per-key
// backoff, capped, reset by a success) and requeues ask for.
func TestResults(t *testing.T) {
	const ms = time.Millisecond
	fail := func() (reconcile.Result, error) { return reconcile.Result{}, errBoom }
	tests := []struct {
		name    string
		answers []func() (reconcile.Result, error) // the n-th call's answer; done after them
		want    []time.Duration                    // gaps between the calls' starts
	}{
		{"backoff doubles up to its cap", []func() (reconcile.Result, error){fail, fail, fail, fail, fail},
			[]time.Duration{20 * ms, 40 * ms, 80 * ms, 80 * ms, 80 * ms}},
		{"a success resets the backoff", []func() (reconcile.Result, error){fail, fail,
			func() (reconcile.Result, error) { return reconcile.Requeue(10 * ms), nil }, fail},
			[]time.Duration{20 * ms, 40 * ms, 10 * ms, 20 * ms}},
		{"requeue", []func() (reconcile.Result, error){
			func() (reconcile.Result, error) { return reconcile.Requeue(30 * ms), nil },
			func() (reconcile.Result, error) { return reconcile.Requeue(60 * ms), nil }},
			[]time.Duration{30 * ms, 60 * ms}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noLeaks(t)
			r := newRecorder(func(ctx context.Context, key string, n int) (reconcile.Result, error) {
				if n <= len(tt.answers) {
					return tt.answers[n-1]()
				}
				return reconcile.Result{}, nil
			})
			c := reconcile.New[string]("test", r, reconcile.Options[string]{MinBackoff: 20 * ms, MaxBackoff: 80 * ms})
			start(t, c)
			c.Enqueue("a")
			for range len(tt.want) + 1 {
				r.wait(t, 2*time.Second)
			}
			r.quiet(t, 150*ms)
			got := gaps(r.calls("a"))
			if len(got) != len(tt.want) {
				t.Fatalf("gaps %v, want %v", got, tt.want)
			}
			for i := range got {
				// Timers never fire early; a loaded machine may make
				// them late.
				if got[i] < tt.want[i] || got[i] > tt.want[i]+250*ms {
					t.Errorf("gap %d = %v, want %v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// TestEventBringsRequeueForward: a key waiting out a requeue or a backoff
// runs at once when an event comes.
func TestEventBringsRequeueForward(t *testing.T) {
	for _, answer := range []error{nil, errBoom} {
		t.Run(fmt.Sprint(answer), func(t *testing.T) {
			noLeaks(t)
			r := newRecorder(func(ctx context.Context, key string, n int) (reconcile.Result, error) {
				return reconcile.Requeue(time.Hour), answer
			})
			c := reconcile.New[string]("test", r, reconcile.Options[string]{MinBackoff: time.Hour})
			start(t, c)
			c.Enqueue("a")
			r.wait(t, time.Second)
			r.quiet(t, 50*time.Millisecond)
			if st := c.Status(); st.Queued != 1 {
				t.Errorf("Status = %+v, want the key queued for later", st)
			}
			c.Enqueue("a")
			r.wait(t, time.Second)
		})
	}
}

func TestResyncLists(t *testing.T) {
	noLeaks(t)
	r := newRecorder(nil)
	var mu sync.Mutex
	keys := []string{"a", "b"}
	c := reconcile.New[string]("test", r, reconcile.Options[string]{
		Resync: 40 * time.Millisecond,
		List: func(context.Context) ([]string, error) {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(keys), nil
		},
	})
	start(t, c)
	// At Start, then every period.
	waitUntil(t, 2*time.Second, "three reconciles of each listed key", func() bool {
		return len(r.calls("a")) >= 3 && len(r.calls("b")) >= 3
	})
	mu.Lock()
	keys = []string{"c"}
	mu.Unlock()
	waitUntil(t, 2*time.Second, "a newly listed key", func() bool { return len(r.calls("c")) > 0 })
}

func TestFailedListIsRetried(t *testing.T) {
	noLeaks(t)
	r := newRecorder(nil)
	var mu sync.Mutex
	lists := 0
	c := reconcile.New[string]("test", r, reconcile.Options[string]{
		MinBackoff: 10 * time.Millisecond,
		List: func(context.Context) ([]string, error) {
			mu.Lock()
			defer mu.Unlock()
			if lists++; lists < 3 {
				return nil, errBoom
			}
			return []string{"a"}, nil
		},
	})
	start(t, c)
	if k := r.wait(t, 2*time.Second); k != "a" {
		t.Fatalf("reconciled %q", k)
	}
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSources maps store events to keys: an object's own key, a custom
// mapping (deletions only), a fan-out to every listed key, and Reset.
func TestSources(t *testing.T) {
	sc := state.Scope{Account: "111111111111", Region: "us-east-1"}
	inst := func(id string) reconcile.Key { return reconcile.Key{Scope: sc, ID: id} }
	vol := reconcile.Key{Scope: sc, ID: "vol-gc"} // what the custom source enqueues
	listed := []reconcile.Key{inst("i-1"), inst("i-2")}
	tests := []struct {
		name   string
		change func(ctx context.Context, s state.Store) error
		want   []reconcile.Key
		lost   bool // EventsLost is called
	}{
		{"an object's own key", put(state.Key(sc.Account, sc.Region, "ec2", "instance", "i-9")), []reconcile.Key{inst("i-9")}, false},
		{"a deletion it maps", del(state.Key(sc.Account, sc.Region, "ec2", "volume", "vol-1")), []reconcile.Key{vol}, false},
		{"a change it does not map", put(state.Key(sc.Account, sc.Region, "ec2", "volume", "vol-1")), nil, false},
		{"another kind", put(state.Key(sc.Account, sc.Region, "ec2", "subnet", "subnet-1")), nil, false},
		{"another service", put(state.Key(sc.Account, sc.Region, "rds", "instance", "i-9")), nil, false},
		{"a fan-out", put(state.Key(sc.Account, sc.Region, "rds", "db-parameter-group", "pg")), listed, false},
		{"a reset", func(ctx context.Context, s state.Store) error { return s.Reset(ctx) }, listed, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noLeaks(t)
			ctx := context.Background()
			store := state.NewMemory()
			defer store.Close()
			var (
				mu   sync.Mutex
				got  []reconcile.Key
				lost bool
			)
			seen := make(chan struct{}, 100)
			c := reconcile.New[reconcile.Key]("test", reconcile.Func[reconcile.Key](func(ctx context.Context, k reconcile.Key) (reconcile.Result, error) {
				mu.Lock()
				got = append(got, k)
				mu.Unlock()
				seen <- struct{}{}
				return reconcile.Result{}, nil
			}), reconcile.Options[reconcile.Key]{
				Store: store,
				Sources: []reconcile.Source[reconcile.Key]{
					reconcile.Objects("ec2", "instance"),
					reconcile.Map("ec2", "volume", func(o reconcile.Object) []reconcile.Key {
						if o.Deleted {
							return []reconcile.Key{vol}
						}
						return nil
					}),
					reconcile.All[reconcile.Key]("rds", "db-parameter-group"),
				},
				List:       func(context.Context) ([]reconcile.Key, error) { return listed, nil },
				EventsLost: func() { mu.Lock(); lost = true; mu.Unlock() },
			})
			start(t, c)
			for range listed { // the list at Start
				<-seen
			}
			mu.Lock()
			got = nil
			mu.Unlock()
			if err := tt.change(ctx, store); err != nil {
				t.Fatal(err)
			}
			for range tt.want {
				select {
				case <-seen:
				case <-time.After(2 * time.Second):
					t.Fatal("timed out")
				}
			}
			time.Sleep(50 * time.Millisecond)
			mu.Lock()
			defer mu.Unlock()
			slices.SortFunc(got, func(a, b reconcile.Key) int { return strings.Compare(a.String(), b.String()) })
			if !slices.Equal(got, tt.want) {
				t.Errorf("reconciled %v, want %v", got, tt.want)
			}
			if lost != tt.lost {
				t.Errorf("EventsLost called: %v, want %v", lost, tt.lost)
			}
		})
	}
}

func put(key string) func(context.Context, state.Store) error {
	return func(ctx context.Context, s state.Store) error {
		return s.Update(ctx, func(tx state.Tx) error { return tx.Put(key, []byte("{}")) })
	}
}

func del(key string) func(context.Context, state.Store) error {
	return func(ctx context.Context, s state.Store) error {
		if err := put(key)(ctx, s); err != nil {
			return err
		}
		return s.Update(ctx, func(tx state.Tx) error { return tx.Delete(key) })
	}
}

// TestSync checks what Sync waits for and returns.
func TestSync(t *testing.T) {
	t.Run("before Start", func(t *testing.T) {
		c := reconcile.New[string]("test", newRecorder(nil), reconcile.Options[string]{})
		if err := c.Sync(context.Background(), "a"); !errors.Is(err, reconcile.ErrNotStarted) {
			t.Errorf("Sync = %v, want ErrNotStarted", err)
		}
	})
	t.Run("returns the reconcile's error", func(t *testing.T) {
		noLeaks(t)
		c := reconcile.New[string]("test", newRecorder(func(context.Context, string, int) (reconcile.Result, error) {
			return reconcile.Result{}, errBoom
		}), reconcile.Options[string]{})
		start(t, c)
		if err := c.Sync(context.Background(), "a"); !errors.Is(err, errBoom) {
			t.Errorf("Sync = %v, want %v", err, errBoom)
		}
	})
	t.Run("skips debounce and backoff", func(t *testing.T) {
		noLeaks(t)
		r := newRecorder(func(_ context.Context, _ string, n int) (reconcile.Result, error) {
			if n == 1 {
				return reconcile.Result{}, errBoom
			}
			return reconcile.Result{}, nil
		})
		c := reconcile.New[string]("test", r, reconcile.Options[string]{Debounce: time.Hour, MinBackoff: time.Hour})
		start(t, c)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		c.Enqueue("a") // due in an hour
		if err := c.Sync(ctx, "a"); !errors.Is(err, errBoom) {
			t.Fatalf("first Sync = %v", err)
		}
		if err := c.Sync(ctx, "a"); err != nil { // in backoff for an hour
			t.Fatalf("second Sync = %v", err)
		}
	})
	t.Run("waits for a reconcile that starts after the call", func(t *testing.T) {
		noLeaks(t)
		release := make(chan struct{})
		r := newRecorder(func(_ context.Context, _ string, n int) (reconcile.Result, error) {
			if n == 1 {
				<-release
				return reconcile.Result{}, errBoom
			}
			return reconcile.Result{}, nil
		})
		c := reconcile.New[string]("test", r, reconcile.Options[string]{})
		start(t, c)
		var once sync.Once
		t.Cleanup(func() { once.Do(func() { close(release) }) })
		c.Enqueue("a")
		r.wait(t, time.Second)
		done := make(chan error, 1)
		go func() { done <- c.Sync(context.Background(), "a") }()
		waitUntil(t, time.Second, "Sync to queue the key", func() bool { return c.Status().Queued == 1 })
		once.Do(func() { close(release) })
		if err := <-done; err != nil {
			t.Errorf("Sync = %v: it returned the reconcile in flight at the call", err)
		}
		if n := len(r.calls("a")); n != 2 {
			t.Errorf("%d reconciles, want 2", n)
		}
	})
	t.Run("its context ends", func(t *testing.T) {
		noLeaks(t)
		block := make(chan struct{})
		defer close(block)
		c := reconcile.New[string]("test", newRecorder(func(context.Context, string, int) (reconcile.Result, error) {
			<-block
			return reconcile.Result{}, nil
		}), reconcile.Options[string]{Workers: 1})
		start(t, c)
		c.Enqueue("busy")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		if err := c.Sync(ctx, "a"); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Sync = %v, want the deadline", err)
		}
	})
	t.Run("the controller stops", func(t *testing.T) {
		noLeaks(t)
		block := make(chan struct{})
		c := reconcile.New[string]("test", newRecorder(func(ctx context.Context, _ string, _ int) (reconcile.Result, error) {
			<-block
			return reconcile.Result{}, nil
		}), reconcile.Options[string]{Workers: 1})
		if err := c.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		c.Enqueue("busy")
		done := make(chan error, 1)
		go func() { done <- c.Sync(context.Background(), "a") }() // behind busy
		waitUntil(t, time.Second, "Sync to queue the key", func() bool { return c.Status().Queued == 1 })
		stopped := make(chan error, 1)
		go func() { stopped <- c.Stop(context.Background()) }()
		if err := <-done; !errors.Is(err, reconcile.ErrStopped) {
			t.Errorf("Sync = %v, want ErrStopped", err)
		}
		close(block)
		if err := <-stopped; err != nil {
			t.Errorf("Stop: %v", err)
		}
		if err := c.Sync(context.Background(), "a"); !errors.Is(err, reconcile.ErrStopped) {
			t.Errorf("Sync after Stop = %v, want ErrStopped", err)
		}
	})
}

// TestStop: Stop cancels the reconciles' context, waits for them and then
// for OnStop; a reconcile that ignores the context outlives Stop's
// deadline, and the stop completes when it returns.
func TestStop(t *testing.T) {
	tests := []struct {
		name        string
		honoursCtx  bool
		wantStopErr error
	}{
		{"reconcile honours its context", true, nil},
		{"reconcile outlives the deadline", false, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noLeaks(t)
			release := make(chan struct{})
			var mu sync.Mutex
			var order []string
			r := newRecorder(func(ctx context.Context, _ string, _ int) (reconcile.Result, error) {
				if tt.honoursCtx {
					<-ctx.Done()
				} else {
					<-release
				}
				time.Sleep(20 * time.Millisecond)
				mu.Lock()
				order = append(order, "reconcile returned")
				mu.Unlock()
				return reconcile.Result{}, ctx.Err()
			})
			onStop := make(chan struct{})
			c := reconcile.New[string]("test", r, reconcile.Options[string]{OnStop: func() {
				mu.Lock()
				order = append(order, "OnStop")
				mu.Unlock()
				close(onStop)
			}})
			if err := c.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			c.Enqueue("a")
			r.wait(t, time.Second)
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			err := c.Stop(ctx)
			if !errors.Is(err, tt.wantStopErr) || (tt.wantStopErr == nil && err != nil) {
				t.Errorf("Stop = %v, want %v", err, tt.wantStopErr)
			}
			if st := c.Status(); st.Running {
				t.Errorf("Status().Running after Stop")
			}
			c.Enqueue("b") // ignored
			close(release)
			select {
			case <-onStop:
			case <-time.After(2 * time.Second):
				t.Fatal("OnStop not called")
			}
			mu.Lock()
			defer mu.Unlock()
			if want := []string{"reconcile returned", "OnStop"}; !slices.Equal(order, want) {
				t.Errorf("order %v, want %v", order, want)
			}
			if n := len(r.calls("b")); n != 0 {
				t.Errorf("a key enqueued after Stop was reconciled")
			}
			if err := c.Stop(context.Background()); err != nil {
				t.Errorf("second Stop: %v", err)
			}
		})
	}
}

func TestStartTwiceAndStopBeforeStart(t *testing.T) {
	noLeaks(t)
	c := reconcile.New[string]("test", newRecorder(nil), reconcile.Options[string]{})
	if err := c.Stop(context.Background()); err != nil {
		t.Errorf("Stop before Start: %v", err)
	}
	start(t, c)
	if err := c.Start(context.Background()); err == nil {
		t.Error("a second Start succeeded")
	}
}

// TestStartContextEnds: the end of Start's context stops the controller
// as Stop does.
func TestStartContextEnds(t *testing.T) {
	noLeaks(t)
	stopped := make(chan struct{})
	c := reconcile.New[string]("test", newRecorder(nil), reconcile.Options[string]{OnStop: func() { close(stopped) }})
	ctx, cancel := context.WithCancel(context.Background())
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-stopped:
	case <-time.After(2 * time.Second):
		t.Fatal("not stopped")
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Errorf("Stop: %v", err)
	}
}

func TestConcurrencyBound(t *testing.T) {
	tests := []struct {
		workers, keys, want int
	}{
		{0, 8, 8}, // unbounded: every key at once
		{1, 8, 1},
		{3, 8, 3},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("workers=%d", tt.workers), func(t *testing.T) {
			noLeaks(t)
			release := make(chan struct{})
			r := newRecorder(func(context.Context, string, int) (reconcile.Result, error) {
				<-release
				return reconcile.Result{}, nil
			})
			c := reconcile.New[string]("test", r, reconcile.Options[string]{Workers: tt.workers})
			start(t, c)
			for i := range tt.keys {
				c.Enqueue(fmt.Sprint(i))
			}
			for range tt.want {
				r.wait(t, time.Second)
			}
			r.quiet(t, 50*time.Millisecond)
			if st := c.Status(); st.InFlight != tt.want || st.Queued != tt.keys-tt.want {
				t.Errorf("Status = %+v, want %d in flight and %d queued", st, tt.want, tt.keys-tt.want)
			}
			close(release)
			for range tt.keys - tt.want {
				r.wait(t, time.Second)
			}
			if m := r.max(""); m != tt.want {
				t.Errorf("%d at once, want %d", m, tt.want)
			}
		})
	}
}

// TestDebounce: a burst costs one reconcile, and a steady stream of events
// does not postpone it.
func TestDebounce(t *testing.T) {
	noLeaks(t)
	const debounce = 40 * time.Millisecond
	r := newRecorder(nil)
	c := reconcile.New[string]("test", r, reconcile.Options[string]{Debounce: debounce})
	start(t, c)
	begin := time.Now()
	for time.Since(begin) < 5*debounce {
		c.Enqueue("a")
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(2 * debounce) // the last event's reconcile
	calls := r.calls("a")
	if len(calls) < 2 || len(calls) > 6 {
		t.Fatalf("%d reconciles of a stream lasting 5 debounces", len(calls))
	}
	if first := calls[0].Sub(begin); first < debounce {
		t.Errorf("first reconcile after %v, before the debounce", first)
	}
}

func TestStatusCounts(t *testing.T) {
	noLeaks(t)
	r := newRecorder(func(_ context.Context, key string, _ int) (reconcile.Result, error) {
		if key == "bad" {
			return reconcile.Result{}, errBoom
		}
		return reconcile.Result{}, nil
	})
	c := reconcile.New[string]("test", r, reconcile.Options[string]{MinBackoff: time.Hour})
	start(t, c)
	_ = c.Sync(context.Background(), "good")
	_ = c.Sync(context.Background(), "bad")
	st := c.Status()
	if !st.Running || st.Passes != 2 || st.Failures != 1 || st.Failing != 1 || st.Queued != 1 ||
		!errors.Is(st.LastError, errBoom) || st.LastErrorKey != "bad" || st.LastPass.IsZero() {
		t.Errorf("Status = %+v", st)
	}
	m := st.Map()
	if m["lastError"] != "boom" || m["lastErrorKey"] != "bad" || m["passes"] != 2 {
		t.Errorf("Map = %v", m)
	}
}
