package workload

import (
	"errors"
	"net"
	"strconv"
	"sync"
)

// Ports hands out loopback TCP ports to workloads (an RDS server's port
// for developers' clients, say). Ports are a resource of the host, so there
// is one allocator per process: controllers, and tests running several
// minicloud services side by side, never pick the same port twice. A port
// is checked free on 127.0.0.1 when handed out; another process can still
// take it before the workload binds it, and the caller then asks again.
type Ports struct {
	mu    sync.Mutex
	owner map[int]string
}

var hostPorts = &Ports{owner: map[int]string{}}

// Reserve returns a port for owner: want when nobody else holds it and it
// can be bound now, else a free one the kernel picks. Owner's other ports
// stay reserved until Release.
func (p *Ports) Reserve(owner string, want int) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if want > 0 && (p.owner[want] == owner || p.owner[want] == "") && bindable(want) {
		p.owner[want] = owner
		return want, nil
	}
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		if p.owner[port] == "" {
			p.owner[port] = owner
			return port, nil
		}
	}
	return 0, errors.New("workload: no free port on 127.0.0.1")
}

// Release gives back every port of owner.
func (p *Ports) Release(owner string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for port, o := range p.owner {
		if o == owner {
			delete(p.owner, port)
		}
	}
}

// Owner is who holds port ("" for nobody).
func (p *Ports) Owner(port int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.owner[port]
}

// bindable reports whether port can be bound on 127.0.0.1 now.
func bindable(port int) bool {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	_ = ln.Close()
	return true
}
