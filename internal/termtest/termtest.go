// Package termtest is test support only: what a terminal shows, read in
// the background, for tests that drive programs through one (the
// session-manager-plugin, the AWS CLIs, shells in instances) and wait for
// what they print.
package termtest

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// Output accumulates what a terminal (or any reader) shows.
type Output struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	seen int // where the next Expect looks from
}

// Read reads r in the background until it fails.
func Read(r io.Reader) *Output {
	o := &Output{}
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := r.Read(b)
			o.mu.Lock()
			o.buf.Write(b[:n])
			o.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return o
}

// All is everything read so far.
func (o *Output) All() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// WaitFor reports whether s shows, after what the last match ended at,
// within d; it moves past it.
func (o *Output) WaitFor(s string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		o.mu.Lock()
		i := strings.Index(o.buf.String()[o.seen:], s)
		if i >= 0 {
			o.seen += i + len(s)
		}
		o.mu.Unlock()
		if i >= 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Expect is WaitFor that fails the test (with the output) after 20 s.
func (o *Output) Expect(t testing.TB, s string) {
	t.Helper()
	if !o.WaitFor(s, 20*time.Second) {
		t.Fatalf("no %q in the terminal's output:\n%s", s, o.All())
	}
}

// Line is the rest of the current line, once it is complete.
func (o *Output) Line(t testing.TB) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		o.mu.Lock()
		rest := o.buf.String()[o.seen:]
		i := strings.IndexAny(rest, "\r\n")
		if i >= 0 {
			o.seen += i
		}
		o.mu.Unlock()
		if i >= 0 {
			return rest[:i]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no end of line in %q", rest)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
