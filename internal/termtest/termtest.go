// Package termtest is test support only: what a terminal shows, read in
// the background, for tests that drive programs through one (the
// session-manager-plugin, the AWS CLIs, shells in instances) and wait for
// what they print.
package termtest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
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

// Shell checks an interactive shell on a terminal, as a user at it would:
// `stty size` says rows×cols; after resize (the test's way of resizing
// the terminal the program under test watches) it says the new size
// within a few seconds; ^C interrupts a foreground job (the terminal
// echoes it, the shell takes input again); a command spread over lines
// runs. in is the terminal's input, out its output.
func Shell(t testing.TB, in io.Writer, out *Output, rows, cols uint16, resize func(rows, cols uint16) error) {
	t.Helper()
	send := func(s string) {
		t.Helper()
		if _, err := io.WriteString(in, s); err != nil {
			t.Fatal(err)
		}
	}
	send("stty size\r")
	out.Expect(t, fmt.Sprintf("%d %d", rows, cols))
	rows, cols = rows+21, cols+37
	if err := resize(rows, cols); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ { // a program may look at the size now and then
		send("stty size\r")
		if out.WaitFor(fmt.Sprintf("%d %d", rows, cols), 700*time.Millisecond) {
			break
		}
		if i == 10 {
			t.Fatalf("the resize to %d×%d never showed:\n%s", rows, cols, out.All())
		}
	}
	send("sleep 1000\r")
	time.Sleep(300 * time.Millisecond)
	send("\x03")
	// The terminal flushes what was typed ahead when ^C interrupts, as
	// any terminal does: wait for the interrupt before typing on.
	out.Expect(t, "^C")
	send("for i in 1 2 3; do\r echo count-$((i*7))\r done\r")
	out.Expect(t, "count-21")
}

// WaitExit waits for a program driven through a terminal to exit 0
// within d (what follows the end of its session).
func WaitExit(t testing.TB, cmd *exec.Cmd, d time.Duration) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("%s exited with %v, want 0", cmd.Path, err)
		}
	case <-time.After(d):
		t.Fatalf("%s did not exit within %s", cmd.Path, d)
	}
}

// Start runs cmd on a terminal of its own of rows×cols and returns the
// terminal (its input and output); the test's end kills cmd.
func Start(t testing.TB, cmd *exec.Cmd, rows, cols uint16) *os.File {
	t.Helper()
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: rows, Cols: cols})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = f.Close()
	})
	return f
}

// Resize is a resize function for Shell of a terminal Start made.
func Resize(f *os.File) func(rows, cols uint16) error {
	return func(rows, cols uint16) error { return pty.Setsize(f, &pty.Winsize{Rows: rows, Cols: cols}) }
}
