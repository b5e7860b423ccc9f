package codec

import (
	"io"
	"sync"
)

// flushAt is how much of an answer an encoder holds before it hands it to
// the connection: an answer of any size costs the server one such buffer,
// not its whole size again.
const flushAt = 64 << 10

// bufWriter is the buffer every encoder writes into. Streaming (w set), it
// passes its bytes on each time it holds flushAt of them, calling start
// first (to send the status and headers); otherwise it keeps the whole
// body.
type bufWriter struct {
	b       []byte
	w       io.Writer
	start   func()
	flushed bool
	err     error
}

var bufPool = sync.Pool{New: func() any { return &bufWriter{b: make([]byte, 0, flushAt+4096)} }}

// streamTo returns a pooled writer streaming to w; release it with put.
func streamTo(w io.Writer, start func()) *bufWriter {
	b := bufPool.Get().(*bufWriter)
	b.w, b.start = w, start
	return b
}

func (b *bufWriter) put() {
	if cap(b.b) > 4*flushAt {
		return // grown by an unusual write: let it go
	}
	b.b, b.w, b.start, b.flushed, b.err = b.b[:0], nil, nil, false, nil
	bufPool.Put(b)
}

func (b *bufWriter) check() {
	if b.w != nil && len(b.b) >= flushAt {
		b.flush()
	}
}

func (b *bufWriter) flush() {
	if !b.flushed && b.start != nil {
		b.start()
	}
	b.flushed = true
	if b.err == nil && len(b.b) > 0 {
		_, b.err = b.w.Write(b.b)
	}
	b.b = b.b[:0]
}

func (b *bufWriter) WriteString(s string) {
	b.b = append(b.b, s...)
	b.check()
}

func (b *bufWriter) WriteByte(c byte) error {
	b.b = append(b.b, c)
	b.check()
	return nil
}

// Write lets encoding/xml, encoding/json and base64 write into b.
func (b *bufWriter) Write(p []byte) (int, error) {
	b.b = append(b.b, p...)
	b.check()
	return len(p), nil
}
