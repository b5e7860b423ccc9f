package guestlimit

import (
	"net"
	"net/netip"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// MaxBudget caps the budget Process derives from RLIMIT_NOFILE: a few
// thousand connections serve every guest of an emulator, and more would
// only let a flood hold more.
const MaxBudget = 4096

// minBudget is the budget under a tiny RLIMIT_NOFILE, so that guests can
// still reach their services at all.
const minBudget = 16

// Budget is a number of file descriptors that guests may hold at once. It
// is safe for concurrent use.
type Budget struct {
	limit   int64
	nofile  uint64
	inUse   atomic.Int64
	refused atomic.Uint64
}

// NewBudget returns a budget of limit descriptors.
func NewBudget(limit int) *Budget { return &Budget{limit: int64(limit)} }

// Process is the budget of this process, shared by every guest-facing
// server in it (several minicloud servers in one test binary share it too,
// as they share the process's descriptors): a quarter of RLIMIT_NOFILE's
// soft limit as read on first use (Go raises it to the hard limit at
// start), at least 16 and at most MaxBudget.
func Process() *Budget { return process() }

var process = sync.OnceValue(func() *Budget {
	var rl unix.Rlimit
	nofile := uint64(1024) // the usual default, should the limit be unreadable
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err == nil {
		nofile = rl.Cur
	}
	b := NewBudget(budgetFor(nofile))
	b.nofile = nofile
	return b
})

// budgetFor is the budget under a descriptor limit of nofile.
func budgetFor(nofile uint64) int {
	return int(min(max(nofile/4, minBudget), MaxBudget))
}

// Acquire takes one descriptor, reporting false when the budget is spent.
func (b *Budget) Acquire() bool {
	for {
		n := b.inUse.Load()
		if n >= b.limit {
			b.refused.Add(1)
			return false
		}
		if b.inUse.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// Release returns a descriptor Acquire took.
func (b *Budget) Release() { b.inUse.Add(-1) }

// BudgetStats is a budget as /_minicloud/health shows it.
type BudgetStats struct {
	// NoFile is RLIMIT_NOFILE when the budget was derived from it.
	NoFile  uint64 `json:"nofile,omitempty"`
	Limit   int    `json:"limit"`
	InUse   int    `json:"inUse"`
	Refused uint64 `json:"refused"`
}

// Stats reports the budget and its use.
func (b *Budget) Stats() BudgetStats {
	return BudgetStats{NoFile: b.nofile, Limit: int(b.limit), InUse: int(b.inUse.Load()), Refused: b.refused.Load()}
}

// Slots counts concurrent holders per key, with a cap per key and a cap in
// all; every holder also takes one descriptor of the budget. It is safe
// for concurrent use; the table holds only keys that hold something, so
// it never exceeds the total cap.
type Slots[K comparable] struct {
	perKey, total int
	budget        *Budget
	mu            sync.Mutex
	held          map[K]int
	n             int
}

// NewSlots returns slots with perKey holders per key and total in all,
// drawing from budget (nil: no budget).
func NewSlots[K comparable](perKey, total int, budget *Budget) *Slots[K] {
	return &Slots[K]{perKey: perKey, total: total, budget: budget, held: map[K]int{}}
}

// Acquire takes a slot for k, reporting false when k holds its share, all
// slots are taken, or the budget is spent.
func (s *Slots[K]) Acquire(k K) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held[k] >= s.perKey || s.n >= s.total {
		return false
	}
	if s.budget != nil && !s.budget.Acquire() {
		return false
	}
	s.held[k]++
	s.n++
	return true
}

// Release returns a slot Acquire took for k.
func (s *Slots[K]) Release(k K) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held[k] <= 1 {
		delete(s.held, k)
	} else {
		s.held[k]--
	}
	s.n--
	if s.budget != nil {
		s.budget.Release()
	}
}

// Held is the number of slots taken, in all and by k.
func (s *Slots[K]) Held(k K) (total, byKey int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n, s.held[k]
}

// Rate is a token bucket per key: each key may take perSecond tokens a
// second on average and burst at once. It is safe for concurrent use.
type Rate[K comparable] struct {
	perSecond, burst float64
	maxKeys          int
	now              func() time.Time
	mu               sync.Mutex
	buckets          map[K]*bucket
	overflow         bucket
	lastSweep        time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// NewRate returns a limiter of perSecond tokens a second and burst at once
// per key, for up to maxKeys keys at a time (keys beyond share one
// bucket), reading the time from now (nil: time.Now).
func NewRate[K comparable](perSecond float64, burst, maxKeys int, now func() time.Time) *Rate[K] {
	if now == nil {
		now = time.Now
	}
	return &Rate[K]{perSecond: perSecond, burst: float64(burst), maxKeys: maxKeys, now: now,
		buckets: map[K]*bucket{}, overflow: bucket{tokens: float64(burst)}}
}

// Allow takes a token for k, reporting false when k has none left.
func (r *Rate[K]) Allow(k K) bool {
	t := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.buckets[k]
	if b == nil {
		if len(r.buckets) >= r.maxKeys {
			r.sweep(t)
		}
		if len(r.buckets) >= r.maxKeys {
			b = &r.overflow
		} else {
			b = &bucket{tokens: r.burst, last: t}
			r.buckets[k] = b
		}
	}
	r.refill(b, t)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (r *Rate[K]) refill(b *bucket, t time.Time) {
	if d := t.Sub(b.last); d > 0 {
		b.tokens = min(r.burst, b.tokens+d.Seconds()*r.perSecond)
		b.last = t
	}
}

// sweep forgets the keys whose bucket is full again: a new bucket would be
// the same. At most once a second, so that a table full of busy keys costs
// a scan per second, not one per call.
func (r *Rate[K]) sweep(t time.Time) {
	if t.Sub(r.lastSweep) < time.Second {
		return
	}
	r.lastSweep = t
	for k, b := range r.buckets {
		if r.refill(b, t); b.tokens >= r.burst {
			delete(r.buckets, k)
		}
	}
}

// Listen returns a listener over ln that gives each accepted connection a
// slot for key(the connection's remote address) and closes a connection
// that gets none at once, with a reset, counting it in refused (nil: not
// counted): it never reaches the server. A connection's slot is released
// when it is closed.
func Listen[K comparable](ln net.Listener, slots *Slots[K], key func(netip.Addr) K, refused *atomic.Uint64) net.Listener {
	return &listener[K]{Listener: ln, slots: slots, key: key, refused: refused}
}

type listener[K comparable] struct {
	net.Listener
	slots   *Slots[K]
	key     func(netip.Addr) K
	refused *atomic.Uint64
}

func (l *listener[K]) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		k := l.key(RemoteIP(c.RemoteAddr()))
		if l.slots.Acquire(k) {
			return &conn[K]{Conn: c, slots: l.slots, key: k}, nil
		}
		if l.refused != nil {
			l.refused.Add(1)
		}
		// A reset frees the socket at once (no FIN handshake, no
		// TIME_WAIT) and tells the guest plainly.
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = c.Close()
	}
}

// conn releases its slot once, on its first Close.
type conn[K comparable] struct {
	net.Conn
	slots *Slots[K]
	key   K
	once  sync.Once
}

func (c *conn[K]) Close() error {
	c.once.Do(func() { c.slots.Release(c.key) })
	return c.Conn.Close()
}

// WithDefaults returns limits with each field that is not positive (a
// number or a duration) taken from defaults: callers' limits of zero mean
// their default. Fields of other kinds are kept.
func WithDefaults[T any](limits, defaults T) T {
	v, d := reflect.ValueOf(&limits).Elem(), reflect.ValueOf(defaults)
	for i := range v.NumField() {
		f := v.Field(i)
		switch {
		case !f.CanSet():
		case f.CanInt() && f.Int() <= 0, f.CanFloat() && f.Float() <= 0:
			f.Set(d.Field(i))
		}
	}
	return limits
}

// RemoteIP is the IP address of a remote net.Addr (TCP, UDP or a parsable
// string), unmapped; the zero Addr when there is none.
func RemoteIP(a net.Addr) netip.Addr {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.AddrPort().Addr().Unmap()
	case *net.UDPAddr:
		return a.AddrPort().Addr().Unmap()
	case nil:
		return netip.Addr{}
	}
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}
