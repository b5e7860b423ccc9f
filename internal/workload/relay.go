package workload

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
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

	mu    sync.Mutex
	conns map[net.Conn]struct{} // nil once closed
	wg    sync.WaitGroup
}

// NewRelay relays every connection ln accepts to one dial makes (a failed
// dial closes the accepted connection: the client sees the target down).
func NewRelay(ln net.Listener, dial func() (net.Conn, error)) *Relay {
	r := &Relay{ln: ln, dial: dial, conns: map[net.Conn]struct{}{}}
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
// namespace at ns ("" is minicloud's own).
func Forward(port int, ns string, target netip.AddrPort) (*Relay, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return nil, fmt.Errorf("workload: forward port %d: %w", port, err)
	}
	return NewRelay(ln, func() (net.Conn, error) {
		return DialIn(ns, "tcp", target.String(), 5*time.Second)
	}), nil
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

// DialIn dials address, an IP address and port, from inside the network
// namespace at ns ("" is minicloud's own). Only an address: a name would be
// looked up in the host's /etc/hosts, and a name with several addresses
// (localhost: 127.0.0.1 and ::1) makes Go race them from goroutines of its
// own, on threads that are in the host's namespace — a connection to the
// host's loopback in the name of a workload.
func DialIn(ns, network, address string, timeout time.Duration) (net.Conn, error) {
	if _, err := netip.ParseAddrPort(address); err != nil {
		return nil, fmt.Errorf("dial %s in a workload's namespace: an IP address and port are needed: %w", address, err)
	}
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
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
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
