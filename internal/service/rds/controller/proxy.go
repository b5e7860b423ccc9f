package controller

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/vpcnet"
)

// The loopback proxy: 127.0.0.1:<loopback port> on the host forwards to a
// server placed in its VPC's namespace, so that every DB instance is
// reachable from this host (rds.Service.Loopback, minicloud databases). The
// shared workload runtime's loopback port is to replace this file.

// server is a running instance's server with what the controller put
// around it: the proxy from its loopback port and its network interface,
// when placed.
type server struct {
	*engine.Server
	proxy *proxy
	eni   *records.PlacedENI
}

// startServer starts eng's server on dir for clients on 127.0.0.1:port,
// inside vpc's namespace behind a proxy when vpc is set.
func startServer(eng engine.Engine, dir string, port int, vpc *engine.Listen, settings []string, extra []*os.File) (*server, error) {
	sp, err := eng.Start(dir, port, vpc, settings, extra...)
	if err != nil {
		return nil, err
	}
	p := &server{Server: sp}
	if vpc != nil {
		if p.proxy, err = startProxy(port, vpc); err != nil {
			sp.Stop()
			return nil, fmt.Errorf("loopback proxy: %w", err)
		}
	}
	return p, nil
}

func (p *server) running() bool { return p.Server.Running() }

// stop closes the proxy and shuts the server down; a nil server is none.
func (p *server) stop() {
	if p == nil {
		return
	}
	p.proxy.close()
	p.Server.Stop()
}

// proxy forwards 127.0.0.1:port on the host to the server in its namespace.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func startProxy(port int, to *engine.Listen) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return nil, err
	}
	px := &proxy{ln: ln, conns: map[net.Conn]struct{}{}}
	target := netip.AddrPortFrom(to.IP, uint16(to.Port)).String()
	px.wg.Go(func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			px.wg.Go(func() { px.serve(in, to.NS, target) })
		}
	})
	return px, nil
}

func (px *proxy) track(c net.Conn, add bool) bool {
	px.mu.Lock()
	defer px.mu.Unlock()
	if add {
		if px.conns == nil {
			return false
		}
		px.conns[c] = struct{}{}
	} else {
		delete(px.conns, c)
	}
	return true
}

func (px *proxy) serve(in net.Conn, ns, target string) {
	defer in.Close()
	var out net.Conn
	err := vpcnet.InNamespace(ns, func() error {
		var err error
		out, err = net.DialTimeout("tcp", target, 5*time.Second)
		return err
	})
	if err != nil {
		return
	}
	defer out.Close()
	if !px.track(in, true) {
		return
	}
	px.track(out, true)
	defer px.track(in, false)
	defer px.track(out, false)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(out, in)
	go pipe(in, out)
	<-done
	<-done
}

// close stops accepting and cuts every connection.
func (px *proxy) close() {
	if px == nil {
		return
	}
	_ = px.ln.Close()
	px.mu.Lock()
	for c := range px.conns {
		_ = c.Close()
	}
	px.conns = nil
	px.mu.Unlock()
	px.wg.Wait()
}
