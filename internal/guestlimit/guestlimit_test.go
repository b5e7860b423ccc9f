package guestlimit

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestBudgetFor(t *testing.T) {
	cases := []struct {
		nofile uint64
		want   int
	}{
		{0, minBudget},
		{32, minBudget},
		{1024, 256},
		{20000, 4096},
		{1 << 20, MaxBudget},
		{^uint64(0), MaxBudget}, // RLIM_INFINITY
	}
	for _, c := range cases {
		if got := budgetFor(c.nofile); got != c.want {
			t.Errorf("budgetFor(%d) = %d, want %d", c.nofile, got, c.want)
		}
	}
}

func TestProcessBudgetBelowLimit(t *testing.T) {
	st := Process().Stats()
	if st.NoFile == 0 || st.Limit != budgetFor(st.NoFile) || uint64(st.Limit) > max(st.NoFile/4, minBudget) {
		t.Fatalf("process budget %+v: want a positive limit well below RLIMIT_NOFILE", st)
	}
}

func TestBudget(t *testing.T) {
	b := NewBudget(2)
	steps := []struct {
		acquire bool // else release
		want    bool
		inUse   int
	}{
		{true, true, 1},
		{true, true, 2},
		{true, false, 2},
		{false, true, 1},
		{true, true, 2},
	}
	for i, s := range steps {
		got := true
		if s.acquire {
			got = b.Acquire()
		} else {
			b.Release()
		}
		if got != s.want || b.Stats().InUse != s.inUse {
			t.Fatalf("step %d: got %v, in use %d; want %v, %d", i, got, b.Stats().InUse, s.want, s.inUse)
		}
	}
	if r := b.Stats().Refused; r != 1 {
		t.Errorf("refused = %d, want 1", r)
	}
}

func TestSlots(t *testing.T) {
	type op struct {
		key     string
		release bool
		want    bool
	}
	cases := []struct {
		name          string
		perKey, total int
		budget        int // 0: none
		ops           []op
	}{
		{"per key cap", 2, 10, 0, []op{{"a", false, true}, {"a", false, true}, {"a", false, false}, {"b", false, true}}},
		{"release frees the key's slot", 1, 10, 0, []op{{"a", false, true}, {"a", false, false}, {"a", true, true}, {"a", false, true}}},
		{"total cap", 5, 3, 0, []op{{"a", false, true}, {"b", false, true}, {"c", false, true}, {"d", false, false}, {"b", true, true}, {"d", false, true}}},
		{"budget", 5, 10, 2, []op{{"a", false, true}, {"b", false, true}, {"c", false, false}, {"a", true, true}, {"c", false, true}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b *Budget
			if c.budget > 0 {
				b = NewBudget(c.budget)
			}
			s := NewSlots[string](c.perKey, c.total, b)
			for i, o := range c.ops {
				got := true
				if o.release {
					s.Release(o.key)
				} else {
					got = s.Acquire(o.key)
				}
				if got != o.want {
					t.Fatalf("op %d %+v: got %v", i, o, got)
				}
			}
			n, _ := s.Held("")
			if b != nil && b.Stats().InUse != n {
				t.Errorf("budget in use %d, slots held %d", b.Stats().InUse, n)
			}
		})
	}
}

// clock is a manual clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestRate(t *testing.T) {
	type step struct {
		advance time.Duration
		key     string
		n       int // calls
		allowed int // of which allowed
	}
	cases := []struct {
		name    string
		rate    float64
		burst   int
		maxKeys int
		steps   []step
	}{
		{"burst then nothing", 10, 5, 10, []step{{0, "a", 8, 5}, {0, "a", 1, 0}}},
		{"refills at the rate", 10, 5, 10, []step{{0, "a", 5, 5}, {200 * time.Millisecond, "a", 5, 2}, {time.Hour, "a", 9, 5}}},
		{"keys are independent", 10, 2, 10, []step{{0, "a", 3, 2}, {0, "b", 3, 2}}},
		{"keys past the table share the overflow bucket", 10, 2, 1, []step{{0, "a", 2, 2}, {0, "b", 1, 1}, {0, "c", 3, 1}}},
		{"idle keys are swept for new ones", 10, 2, 1, []step{{0, "a", 1, 1}, {2 * time.Second, "b", 2, 2}, {0, "c", 3, 2}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := &clock{t: time.Unix(1000, 0)}
			r := NewRate[string](c.rate, c.burst, c.maxKeys, clk.now)
			for i, s := range c.steps {
				clk.t = clk.t.Add(s.advance)
				got := 0
				for range s.n {
					if r.Allow(s.key) {
						got++
					}
				}
				if got != s.allowed {
					t.Fatalf("step %d %+v: %d allowed", i, s, got)
				}
			}
		})
	}
}

func TestListen(t *testing.T) {
	inner, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	slots := NewSlots[netip.Addr](2, 10, NewBudget(10))
	var refused atomic.Uint64
	ln := Listen(inner, slots, func(a netip.Addr) netip.Addr { return a }, &refused)
	defer ln.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp4", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// Two connections reach the server; the third is reset at accept.
	var server []net.Conn
	for range 2 {
		dial()
		server = append(server, <-accepted)
	}
	// The reset may reach the dial itself.
	if third, err := net.Dial("tcp4", inner.Addr().String()); !errors.Is(err, syscall.ECONNRESET) {
		if err != nil {
			t.Fatal(err)
		}
		defer third.Close()
		_ = third.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := third.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, io.EOF) {
			t.Fatalf("third connection over the cap: read %v, want a reset", err)
		}
	}
	if refused.Load() != 1 {
		t.Errorf("refused = %d, want 1", refused.Load())
	}
	// Closing a served connection (twice: released once) frees its slot.
	server[0].Close()
	server[0].Close()
	if n, _ := slots.Held(netip.Addr{}); n != 1 {
		t.Fatalf("held after close = %d, want 1", n)
	}
	dial()
	select {
	case <-accepted:
	case <-time.After(2 * time.Second):
		t.Fatal("a connection within the cap after a close was not accepted")
	}
}

func TestWithDefaults(t *testing.T) {
	type limits struct {
		N    int
		Rate float64
		D    time.Duration
		Name string
	}
	def := limits{N: 3, Rate: 1.5, D: time.Second, Name: "default"}
	cases := []struct{ in, want limits }{
		{limits{}, limits{N: 3, Rate: 1.5, D: time.Second}},
		{limits{N: 7, D: time.Minute, Name: "x"}, limits{N: 7, Rate: 1.5, D: time.Minute, Name: "x"}},
		{limits{N: -1, Rate: -2, D: -time.Second}, limits{N: 3, Rate: 1.5, D: time.Second}},
		{limits{Rate: 0.25}, limits{N: 3, Rate: 0.25, D: time.Second}},
	}
	for _, c := range cases {
		if got := WithDefaults(c.in, def); got != c.want {
			t.Errorf("WithDefaults(%+v) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestRemoteIP(t *testing.T) {
	cases := []struct {
		in   net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.ParseIP("10.0.1.5"), Port: 80}, "10.0.1.5"},
		{&net.UDPAddr{IP: net.ParseIP("::ffff:10.0.1.6"), Port: 53}, "10.0.1.6"},
		{nil, "invalid IP"},
		{&net.UnixAddr{Name: "/x", Net: "unix"}, "invalid IP"},
	}
	for _, c := range cases {
		if got := RemoteIP(c.in).String(); got != c.want {
			t.Errorf("RemoteIP(%v) = %s, want %s", c.in, got, c.want)
		}
	}
}
