package firewall

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Test topology helpers. Everything is built inside anonymous network
// namespaces owned by the test process (referenced as /proc/PID/fd/N): no
// interface, address, route or nftables object is ever created in the
// host namespace, no bind mount is made, and the namespaces vanish with
// their last reference, which t.Cleanup drops.

const dialTimeout = 300 * time.Millisecond

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("this test needs root (CAP_NET_ADMIN) to build network namespaces; CI runs it as root")
	}
}

// testPrefix returns a unique, short name prefix ("mf" + 4 hex + "-").
func testPrefix(t *testing.T) string {
	b := make([]byte, 2)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "mf" + hex.EncodeToString(b) + "-"
}

type testNS struct {
	h    netns.NsHandle
	path string
}

// inThread runs fn on an OS thread switched into ns (or, for ns None, on
// a thread fn itself may move). The thread's namespace is restored
// afterwards; if that fails the thread stays locked, so the runtime
// discards it rather than reusing it in a foreign namespace.
func inThread(ns netns.NsHandle, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		if ns.IsOpen() {
			if err := netns.Set(ns); err != nil {
				errc <- err
				return
			}
		}
		err = fn()
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

// newNS creates an anonymous network namespace with lo up.
func newNS(t *testing.T) *testNS {
	t.Helper()
	var h netns.NsHandle
	err := inThread(netns.None(), func() error {
		var err error
		h, err = netns.New() // unshares this thread; inThread moves it back
		return err
	})
	if err != nil {
		t.Fatalf("new netns: %v", err)
	}
	ns := &testNS{h: h, path: fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), int(h))}
	t.Cleanup(func() { h.Close() })
	ns.do(t, func(nl *netlink.Handle) error {
		lo, err := nl.LinkByName("lo")
		if err != nil {
			return err
		}
		return nl.LinkSetUp(lo)
	})
	return ns
}

// do runs fn with a netlink handle bound to the namespace.
func (ns *testNS) do(t *testing.T, fn func(nl *netlink.Handle) error) {
	t.Helper()
	nl, err := netlink.NewHandleAt(ns.h)
	if err != nil {
		t.Fatalf("netlink handle: %v", err)
	}
	defer nl.Close()
	if err := fn(nl); err != nil {
		t.Fatal(err)
	}
}

// veth creates a veth pair nameA (in a) – nameB (in b), both up.
func veth(t *testing.T, a *testNS, nameA string, b *testNS, nameB string) {
	t.Helper()
	a.do(t, func(nl *netlink.Handle) error {
		v := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: nameA}, PeerName: nameB, PeerNamespace: netlink.NsFd(int(b.h))}
		if err := nl.LinkAdd(v); err != nil {
			return fmt.Errorf("veth %s/%s: %w", nameA, nameB, err)
		}
		l, err := nl.LinkByName(nameA)
		if err != nil {
			return err
		}
		return nl.LinkSetUp(l)
	})
	b.do(t, func(nl *netlink.Handle) error {
		l, err := nl.LinkByName(nameB)
		if err != nil {
			return err
		}
		return nl.LinkSetUp(l)
	})
}

// bridge creates a bridge, up, and enslaves ports to it.
func (ns *testNS) bridge(t *testing.T, name string, ports ...string) {
	t.Helper()
	ns.do(t, func(nl *netlink.Handle) error {
		if err := nl.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}); err != nil {
			return fmt.Errorf("bridge %s: %w", name, err)
		}
		br, err := nl.LinkByName(name)
		if err != nil {
			return err
		}
		for _, p := range ports {
			l, err := nl.LinkByName(p)
			if err != nil {
				return err
			}
			if err := nl.LinkSetMaster(l, br); err != nil {
				return err
			}
		}
		return nl.LinkSetUp(br)
	})
}

// addr assigns addresses (CIDR notation) to an interface.
func (ns *testNS) addr(t *testing.T, ifname string, cidrs ...string) {
	t.Helper()
	ns.do(t, func(nl *netlink.Handle) error {
		l, err := nl.LinkByName(ifname)
		if err != nil {
			return err
		}
		for _, c := range cidrs {
			a, err := netlink.ParseAddr(c)
			if err != nil {
				return err
			}
			a.Flags |= unix.IFA_F_NODAD // usable at once, no DAD delay
			if err := nl.AddrAdd(l, a); err != nil {
				return fmt.Errorf("addr %s on %s: %w", c, ifname, err)
			}
		}
		return nil
	})
}

// defaultRoute points the namespace's default route at gw.
func (ns *testNS) defaultRoute(t *testing.T, gw string) {
	t.Helper()
	ns.do(t, func(nl *netlink.Handle) error {
		return nl.RouteAdd(&netlink.Route{Gw: net.ParseIP(gw)})
	})
}

// forwarding enables IPv4 forwarding in the namespace (the sysctl is per
// namespace and resolved against the opening thread's namespace).
func (ns *testNS) forwarding(t *testing.T) {
	t.Helper()
	if err := inThread(ns.h, func() error {
		return os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1"), 0o644)
	}); err != nil {
		t.Fatalf("ip_forward: %v", err)
	}
}

// serve starts a TCP line-echo server on addr inside the namespace.
func (ns *testNS) serve(t *testing.T, addr string) {
	t.Helper()
	var ln net.Listener
	if err := inThread(ns.h, func() error {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err
	}); err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
}

// dial connects from the namespace (from local, if not empty) to remote
// with the short test timeout.
func (ns *testNS) dial(local, remote string) (net.Conn, error) {
	var c net.Conn
	err := inThread(ns.h, func() error {
		d := net.Dialer{Timeout: dialTimeout}
		if local != "" {
			d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
		}
		var err error
		c, err = d.Dial("tcp", remote)
		return err
	})
	return c, err
}

// canConnect reports whether a TCP connection (and one echo) succeeds.
func (ns *testNS) canConnect(t *testing.T, local, remote string) bool {
	t.Helper()
	c, err := ns.dial(local, remote)
	if err != nil {
		return false
	}
	defer c.Close()
	return echo(c)
}

// echo sends a line on c and reports whether it comes back in time.
func echo(c net.Conn) bool {
	_ = c.SetDeadline(time.Now().Add(dialTimeout))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.TrimSpace(line) == "ping"
}

// within polls cond until it holds or d passes.
func within(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func ip(s string) netip.Addr    { return netip.MustParseAddr(s) }

// checkNoTables verifies no table with the firewall's prefix is left in
// the namespaces.
func checkNoTables(t *testing.T, fw *Firewall, nss ...*testNS) {
	t.Helper()
	for _, ns := range nss {
		names, err := fw.Tables(ns.path)
		if err != nil {
			t.Fatalf("list tables: %v", err)
		}
		if len(names) > 0 {
			t.Errorf("tables left in %s: %v", ns.path, names)
		}
	}
}

// checkHostUntouched verifies nothing named with the prefix appeared in the
// host namespace (links) — the tests must never create anything there.
func checkHostUntouched(t *testing.T, prefix string) {
	t.Helper()
	links, err := netlink.LinkList()
	if err != nil {
		t.Fatalf("list host links: %v", err)
	}
	for _, l := range links {
		if strings.HasPrefix(l.Attrs().Name, prefix) {
			t.Errorf("host link %s carries the test prefix", l.Attrs().Name)
		}
	}
}
