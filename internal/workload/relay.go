package workload

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minicloud/minicloud/internal/vpcnet"
)

// Relay accepts connections on a listener and pipes each one to a
// connection it dials: a loopback port of the host into a workload's
// namespace (Forward), or a port inside a namespace to a Unix socket of the
// host. Closing it cuts every connection.
type Relay struct {
	ln   net.Listener
	dial func() (net.Conn, error)
	// kernel: hand each TCP connection to the kernel's sockmap (splice.go)
	// when it can; the userspace copy then carries only what the kernel
	// passes up.
	kernel bool
	// copied counts the bytes the userspace copy carried on connections
	// handed to the kernel (tests: the kernel carries the rest).
	copied atomic.Int64

	mu    sync.Mutex
	conns map[net.Conn]struct{} // nil once closed
	wg    sync.WaitGroup
}

// NewRelay relays every connection ln accepts to one dial makes (a failed
// dial closes the accepted connection: the client sees the target down).
func NewRelay(ln net.Listener, dial func() (net.Conn, error)) *Relay {
	return newRelay(ln, dial, false)
}

func newRelay(ln net.Listener, dial func() (net.Conn, error), kernel bool) *Relay {
	r := &Relay{ln: ln, dial: dial, kernel: kernel, conns: map[net.Conn]struct{}{}}
	r.wg.Go(func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			r.wg.Go(func() { r.serve(in) })
		}
	})
	return r
}

// Forward relays 127.0.0.1:port on the host to target inside the network
// namespace at ns ("" is minicloud's own). Once a connection is made, its
// bytes go from socket to socket in the kernel where BPF sockmap is
// available (splice.go), else through the relay's copy.
func Forward(port int, ns string, target netip.AddrPort) (*Relay, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return nil, fmt.Errorf("workload: forward port %d: %w", port, err)
	}
	return newRelay(ln, func() (net.Conn, error) {
		return DialIn(ns, "tcp", target.String(), 5*time.Second)
	}, true), nil
}

// ListenIn listens on address inside the network namespace at ns ("" is
// minicloud's own): a socket stays in the namespace it was made in.
func ListenIn(ns, network, address string) (net.Listener, error) {
	var ln net.Listener
	listen := func() (err error) { ln, err = net.Listen(network, address); return err }
	var err error
	if ns == "" {
		err = listen()
	} else {
		err = vpcnet.InNamespace(ns, listen)
	}
	return ln, err
}

// DialIn dials address from inside the network namespace at ns ("" is
// minicloud's own).
func DialIn(ns, network, address string, timeout time.Duration) (net.Conn, error) {
	var c net.Conn
	dial := func() (err error) { c, err = net.DialTimeout(network, address, timeout); return err }
	var err error
	if ns == "" {
		err = dial()
	} else {
		err = vpcnet.InNamespace(ns, dial)
	}
	return c, err
}

// Addr is the address the relay accepts on.
func (r *Relay) Addr() net.Addr { return r.ln.Addr() }

// Port is the TCP port the relay accepts on (0 for other listeners).
func (r *Relay) Port() int {
	if a, ok := r.ln.Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}

func (r *Relay) track(c net.Conn, add bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !add {
		delete(r.conns, c)
		return true
	}
	if r.conns == nil {
		return false
	}
	r.conns[c] = struct{}{}
	return true
}

func (r *Relay) serve(in net.Conn) {
	defer in.Close()
	out, err := r.dial()
	if err != nil {
		return
	}
	defer out.Close()
	if !r.track(in, true) || !r.track(out, true) {
		return
	}
	defer r.track(in, false)
	defer r.track(out, false)
	spliced := r.kernel && r.splice(in, out)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		if spliced {
			// A socket in the sockmap delivers what it passes up to
			// read(2) only (splice(2) would miss it): copy with plain
			// reads and writes.
			n := copySpliced(dst, src)
			r.copied.Add(n)
			// The kernel sends what it redirected from a worker: the end
			// of the stream must not overtake it.
			drained(dst, src)
		} else {
			_, _ = io.Copy(dst, src)
		}
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(out, in)
	go pipe(in, out)
	<-done
	<-done
}

// splice hands in ↔ out to the kernel; false leaves them to the copy.
func (r *Relay) splice(in, out net.Conn) bool {
	a, ok1 := in.(*net.TCPConn)
	b, ok2 := out.(*net.TCPConn)
	if !ok1 || !ok2 {
		return false
	}
	s, err := kernelSplicer()
	if err != nil {
		spliceUnavailable(err)
		return false
	}
	if err := s.splice(a, b); err != nil {
		slog.Warn("workload: relay connection copied in userspace", "err", err)
		// A socket may be in the map already: its reader must use read(2).
		return true
	}
	return true
}

var spliceWarn sync.Once

func spliceUnavailable(err error) {
	spliceWarn.Do(func() { slog.Info("workload: loopback ports copy in userspace", "reason", err) })
}

// Close stops accepting, cuts every connection and waits for the relay's
// goroutines. A nil Relay is closed.
func (r *Relay) Close() {
	if r == nil {
		return
	}
	_ = r.ln.Close()
	r.mu.Lock()
	for c := range r.conns {
		_ = c.Close()
	}
	r.conns = nil
	r.mu.Unlock()
	r.wg.Wait()
}
