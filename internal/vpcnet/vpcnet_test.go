package vpcnet

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// 1. Two subnets of one VPC: the router's local route connects them; a
// second instance in the first subnet is reached over the bridge.
func TestLocalRoute(t *testing.T) {
	e := newEnv(t)
	e.vpc("vpc-1", "10.0.0.0/16")
	e.subnet("vpc-1", "subnet-a", "10.0.1.0/24")
	e.subnet("vpc-1", "subnet-b", "10.0.2.0/24")
	a := e.instance("vpc-1", "subnet-a", "i-a", "10.0.1.10")
	b := e.instance("vpc-1", "subnet-b", "i-b", "10.0.2.20")
	c := e.instance("vpc-1", "subnet-a", "i-c", "10.0.1.11")
	serve(t, b, "10.0.2.20:80", "B")
	serve(t, c, "10.0.1.11:80", "C")
	serve(t, a, "10.0.1.10:80", "A")
	for _, tc := range []struct {
		name, from, to, identity, client string
	}{
		{"across subnets", a, "10.0.2.20:80", "B", "10.0.1.10"},
		{"back", b, "10.0.1.10:80", "A", "10.0.2.20"},
		{"same subnet", a, "10.0.1.11:80", "C", "10.0.1.10"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantBody(t, from(tc.from), tc.to, tc.identity, tc.client) })
	}
	// Idempotence: everything again changes nothing and still works.
	e.vpc("vpc-1", "10.0.0.0/16")
	e.subnet("vpc-1", "subnet-a", "10.0.1.0/24")
	e.instance("vpc-1", "subnet-a", "i-a", "10.0.1.10")
	wantBody(t, from(a), "10.0.2.20:80", "B", "10.0.1.10")
	// Inside the VPC CIDR but in no subnet: unreachable, not sent anywhere.
	wantFail(t, from(a), "10.0.99.1:80")
	// The instance's view: eth0 with the MAC, /24 and default via .1.
	out := ipIn(t, e.n.Names().InstanceNamespace("i-a"), "-4", "route")
	if !strings.Contains(out, "default via 10.0.1.1 dev eth0") {
		t.Errorf("instance routes:\n%s", out)
	}
	// The router knows the ENI's MAC without asking (no ARP wait for an
	// instance whose interface comes up after the first packet).
	eniC := testENI("vpc-1", "subnet-a", "i-c", "10.0.1.11")
	router := e.n.Names().RouterNamespace("vpc-1")
	if out := ipIn(t, router, "neigh", "show", "10.0.1.11"); !strings.Contains(out, "lladdr "+eniC.MAC.String()+" PERMANENT") {
		t.Errorf("router's neighbour entry for 10.0.1.11 = %q, want lladdr %s PERMANENT", out, eniC.MAC)
	}
	// Detach: the ENI's both ends and the router's entry disappear.
	e.must(e.n.DetachENI(e.ctx, eniC))
	if out := ipIn(t, e.n.Names().InstanceNamespace("i-c"), "link"); strings.Contains(out, "eth0") {
		t.Errorf("eth0 still in i-c after DetachENI:\n%s", out)
	}
	if out := ipIn(t, router, "neigh", "show", "10.0.1.11"); strings.TrimSpace(out) != "" {
		t.Errorf("router still has a neighbour entry for 10.0.1.11 after DetachENI: %q", out)
	}
	// The address again, on another ENI (another MAC): reached at once.
	e.must(e.n.DeleteInstanceNamespace(e.ctx, "i-c"))
	d := e.instance("vpc-1", "subnet-a", "i-d", "10.0.1.11")
	serve(t, d, "10.0.1.11:80", "D")
	wantBody(t, from(a), "10.0.1.11:80", "D", "10.0.1.10")
}

// 2. The host reaches an instance on its public IP once mapped; without a
// mapping it cannot. The instance sees the host's address on the gateway
// link; the host sees the instance's public IP.
func TestPublicIP(t *testing.T) {
	e := newEnv(t)
	e.vpc("vpc-1", "10.0.0.0/16")
	e.subnet("vpc-1", "subnet-pub", "10.0.0.0/24")
	e.must(e.n.EnsureInternetGateway(e.ctx, "vpc-1"))
	e.must(e.n.SetRoutes(e.ctx, "vpc-1", "subnet-pub", []Route{localRoute, igwDefault}))
	a := e.instance("vpc-1", "subnet-pub", "i-a", "10.0.0.10")
	b := e.instance("vpc-1", "subnet-pub", "i-b", "10.0.0.11") // no public IP
	serve(t, a, ":80", "A")
	serve(t, b, ":80", "B")
	hostAddr, err := e.n.HostAddress("vpc-1")
	e.must(err)
	if !LinkNetwork.Contains(hostAddr) {
		t.Fatalf("host address %s outside %s", hostAddr, LinkNetwork)
	}
	hostSrv := serve(t, "", net.JoinHostPort(hostAddr.String(), "0"), "HOST").String()
	pubA := netip.MustParseAddr("198.18.0.10")
	host := e.fromHost("vpc-1")

	wantFail(t, host, "198.18.0.10:80") // not mapped yet
	e.must(e.n.MapPublicIP(e.ctx, "vpc-1", pubA, netip.MustParseAddr("10.0.0.10")))
	e.must(e.n.MapPublicIP(e.ctx, "vpc-1", pubA, netip.MustParseAddr("10.0.0.10"))) // idempotent
	wantBody(t, host, "198.18.0.10:80", "A", hostAddr.String())
	// Plain net/http from the host, following the host route like curl.
	wantBody(t, dialer{}, "198.18.0.10:80", "A", hostAddr.String())
	// Outbound: the host's server sees the public IP.
	wantBody(t, from(a), hostSrv, "HOST", "198.18.0.10")
	// A restarted process recovers the mapping from the kernel (the NAT
	// table's maps) and keeps it working.
	n2, err := New(Config{Prefix: e.n.Names().Prefix})
	e.must(err)
	defer n2.Close()
	e.must(n2.EnsureVPC(e.ctx, VPC{ID: "vpc-1", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}}))
	wantBody(t, host, "198.18.0.10:80", "A", hostAddr.String())
	wantBody(t, from(a), hostSrv, "HOST", "198.18.0.10")
	// A NAT table removed behind minicloud's back is rebuilt by the next
	// mapping of the address.
	nsenterNft(t, e.n.Names().RouterNamespace("vpc-1"), "delete", "table", "ip", e.n.Names().NATTable())
	wantFail(t, host, "198.18.0.10:80")
	e.must(e.n.MapPublicIP(e.ctx, "vpc-1", pubA, netip.MustParseAddr("10.0.0.10")))
	wantBody(t, host, "198.18.0.10:80", "A", hostAddr.String())
	// No public IP: no way out, no way in (even if the host had a route).
	wantFail(t, from(b), hostSrv)
	gw, err := netlink.LinkByName(e.n.Names().Gateway("vpc-1"))
	e.must(err)
	routerAddr := hostAddr.Next()
	e.must(netlink.RouteAdd(&netlink.Route{Dst: addrToIPNet(netip.MustParseAddr("198.18.0.11"), 32),
		Gw: net.IP(routerAddr.AsSlice()), LinkIndex: gw.Attrs().Index}))
	wantFail(t, host, "198.18.0.11:80")
	wantFail(t, host, "10.0.0.11:80")

	// A public IP owned by another VPC's gateway is refused.
	e.vpc("vpc-2", "10.0.0.0/16")
	e.must(e.n.EnsureInternetGateway(e.ctx, "vpc-2"))
	if err := e.n.MapPublicIP(e.ctx, "vpc-2", pubA, netip.MustParseAddr("10.0.0.10")); err == nil {
		t.Error("mapping vpc-1's public IP in vpc-2 succeeded")
	}

	e.must(e.n.UnmapPublicIP(e.ctx, "vpc-1", pubA))
	if out := ipCmd(t, "-4", "route", "show", "198.18.0.10/32"); strings.TrimSpace(out) != "" {
		t.Errorf("host route left after unmap: %s", out)
	}
	wantFail(t, host, "198.18.0.10:80")
	wantFail(t, from(a), hostSrv)
}

// 3. Two VPCs with the same CIDR and the same private IP, each on its own
// public IP.
func TestOverlappingVPCs(t *testing.T) {
	e := newEnv(t)
	for i, id := range []string{"vpc-a", "vpc-b"} {
		e.vpc(id, "10.0.0.0/16")
		e.subnet(id, "subnet-1", "10.0.1.0/24")
		e.must(e.n.EnsureInternetGateway(e.ctx, id))
		e.must(e.n.SetRoutes(e.ctx, id, "subnet-1", []Route{igwDefault}))
		ns := e.instance(id, "subnet-1", "i-"+id, "10.0.1.10")
		serve(t, ns, "10.0.1.10:80", id)
		pub := netip.AddrFrom4([4]byte{198, 18, byte(i + 1), 1})
		e.must(e.n.MapPublicIP(e.ctx, id, pub, netip.MustParseAddr("10.0.1.10")))
	}
	for i, id := range []string{"vpc-a", "vpc-b"} {
		hostAddr, err := e.n.HostAddress(id)
		e.must(err)
		pub := netip.AddrFrom4([4]byte{198, 18, byte(i + 1), 1})
		wantBody(t, e.fromHost(id), pub.String()+":80", id, hostAddr.String())
		wantBody(t, dialer{}, pub.String()+":80", id, hostAddr.String())
	}
}

// 4. A private subnet reaches the host through a NAT gateway, seen as the
// NAT's public IP; nothing comes in. A route to a NAT gateway that does not
// exist yet is a blackhole until it does.
func TestNATGateway(t *testing.T) {
	e := newEnv(t)
	e.vpc("vpc-1", "10.0.0.0/16")
	e.subnet("vpc-1", "subnet-pub", "10.0.0.0/24")
	e.subnet("vpc-1", "subnet-priv", "10.0.1.0/24")
	e.must(e.n.EnsureInternetGateway(e.ctx, "vpc-1"))
	e.must(e.n.SetRoutes(e.ctx, "vpc-1", "subnet-pub", []Route{igwDefault}))
	e.must(e.n.SetRoutes(e.ctx, "vpc-1", "subnet-priv", []Route{localRoute, natDefault("nat-1")}))
	p := e.instance("vpc-1", "subnet-priv", "i-p", "10.0.1.10")
	serve(t, p, ":80", "P")
	hostAddr, err := e.n.HostAddress("vpc-1")
	e.must(err)
	hostSrv := serve(t, "", net.JoinHostPort(hostAddr.String(), "0"), "HOST").String()

	wantFail(t, from(p), hostSrv) // NAT gateway unknown: blackhole
	natIP := netip.MustParseAddr("198.18.3.1")
	e.must(e.n.EnsureNATGateway(e.ctx, NATGateway{ID: "nat-1", VPCID: "vpc-1", PublicIP: natIP}))
	wantBody(t, from(p), hostSrv, "HOST", natIP.String())
	// Even with a public IP, the private subnet leaves through the NAT.
	e.must(e.n.MapPublicIP(e.ctx, "vpc-1", netip.MustParseAddr("198.18.3.2"), netip.MustParseAddr("10.0.1.10")))
	wantBody(t, from(p), hostSrv, "HOST", natIP.String())
	e.must(e.n.UnmapPublicIP(e.ctx, "vpc-1", netip.MustParseAddr("198.18.3.2")))
	// Nothing in through the NAT gateway's address.
	wantFail(t, e.fromHost("vpc-1"), natIP.String()+":80")
	wantFail(t, dialer{}, natIP.String()+":80")

	// A restarted process recovers the NAT from the kernel.
	n2, err := New(Config{Prefix: e.n.Names().Prefix})
	e.must(err)
	defer n2.Close()
	e.must(n2.EnsureVPC(e.ctx, VPC{ID: "vpc-1", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}}))
	wantBody(t, from(p), hostSrv, "HOST", natIP.String())

	e.must(e.n.DeleteNATGateway(e.ctx, "vpc-1", "nat-1"))
	wantFail(t, from(p), hostSrv)
	if out := ipCmd(t, "-4", "route", "show", natIP.String()+"/32"); strings.TrimSpace(out) != "" {
		t.Errorf("host route left after DeleteNATGateway: %s", out)
	}
}

// 5. Route tables: blackhole routes drop, the most specific route wins, no
// route means no way out.
func TestRouteTables(t *testing.T) {
	e := newEnv(t)
	e.vpc("vpc-1", "10.0.0.0/16")
	e.subnet("vpc-1", "subnet-1", "10.0.0.0/24")
	e.subnet("vpc-1", "subnet-2", "10.0.1.0/24")
	e.must(e.n.EnsureInternetGateway(e.ctx, "vpc-1"))
	a := e.instance("vpc-1", "subnet-1", "i-a", "10.0.0.10")
	b := e.instance("vpc-1", "subnet-2", "i-b", "10.0.1.10")
	serve(t, b, ":80", "B")
	e.must(e.n.MapPublicIP(e.ctx, "vpc-1", netip.MustParseAddr("198.18.5.10"), netip.MustParseAddr("10.0.0.10")))
	hostAddr, err := e.n.HostAddress("vpc-1")
	e.must(err)
	hostSrv := serve(t, "", net.JoinHostPort(hostAddr.String(), "0"), "HOST").String()
	host32 := netip.PrefixFrom(hostAddr, 32)
	for _, tc := range []struct {
		name   string
		routes []Route
		host   bool // instance a reaches the host
	}{
		{"igw", []Route{localRoute, igwDefault}, true},
		{"blackhole host", []Route{localRoute, igwDefault, {Destination: host32, Target: TargetBlackhole}}, false},
		{"blackhole default", []Route{{Destination: netip.MustParsePrefix("0.0.0.0/0"), Target: TargetBlackhole}, {Destination: host32, Target: TargetInternetGateway}}, true},
		{"no route", []Route{localRoute}, false},
		{"none at all", nil, false},
		{"igw again", []Route{igwDefault}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.must(e.n.SetRoutes(e.ctx, "vpc-1", "subnet-1", tc.routes))
			if tc.host {
				wantBody(t, from(a), hostSrv, "HOST", "198.18.5.10")
			} else {
				wantFail(t, from(a), hostSrv)
			}
			// The local route is unaffected by any of it.
			wantBody(t, from(a), "10.0.1.10:80", "B", "10.0.0.10")
		})
	}
	e.must(e.n.SetRoutes(e.ctx, "vpc-1", "subnet-1", []Route{igwDefault, {Destination: host32, Target: TargetBlackhole}}))
	rt := ipIn(t, e.n.Names().RouterNamespace("vpc-1"), "-4", "route", "show", "table", "all")
	if !strings.Contains(rt, "blackhole "+hostAddr.String()) {
		t.Errorf("no kernel blackhole route:\n%s", rt)
	}
	// Without the gateway, its routes are blackholes; with it back, they work.
	e.must(e.n.SetRoutes(e.ctx, "vpc-1", "subnet-1", []Route{igwDefault}))
	e.must(e.n.DeleteInternetGateway(e.ctx, "vpc-1"))
	wantFail(t, from(a), hostSrv)
	e.must(e.n.EnsureInternetGateway(e.ctx, "vpc-1"))
	hostAddr2, err := e.n.HostAddress("vpc-1")
	e.must(err)
	if hostAddr2 == hostAddr {
		// Same /30 again: the old listener is still bound to it.
		wantBody(t, from(a), hostSrv, "HOST", "198.18.5.10")
	}
}

// 6. Cleanup removes everything with the prefix and nothing else.
func TestCleanup(t *testing.T) {
	e := newEnv(t)
	e.vpc("vpc-1", "10.0.0.0/16")
	e.subnet("vpc-1", "subnet-1", "10.0.0.0/24")
	e.must(e.n.EnsureInternetGateway(e.ctx, "vpc-1"))
	e.instance("vpc-1", "subnet-1", "i-a", "10.0.0.10")
	e.must(e.n.MapPublicIP(e.ctx, "vpc-1", netip.MustParseAddr("198.18.6.10"), netip.MustParseAddr("10.0.0.10")))
	e.must(e.n.EnsureNATGateway(e.ctx, NATGateway{ID: "nat-1", VPCID: "vpc-1", PublicIP: netip.MustParseAddr("198.18.6.11")}))

	// A namespace of another minicloud whose prefix extends ours.
	other, err := New(Config{Prefix: e.n.Names().Prefix + "x"})
	e.must(err)
	t.Cleanup(func() {
		if err := other.Cleanup(context.Background()); err != nil {
			t.Errorf("Cleanup of %s: %v", other.Names().Prefix, err)
		}
		_ = other.Close()
	})
	e.must(other.EnsureVPC(e.ctx, VPC{ID: "vpc-keep", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16")}}))
	keep := other.Names().RouterNamespace("vpc-keep")

	prefix := e.n.Names().Prefix
	if out := ipCmd(t, "-o", "link"); !strings.Contains(out, prefix+"-g") {
		t.Fatalf("no gateway link before cleanup:\n%s", out)
	}
	e.must(e.n.Cleanup(e.ctx))
	assertNothingLeft(t, prefix)
	for _, ip := range []string{"198.18.6.10/32", "198.18.6.11/32"} {
		if out := ipCmd(t, "-4", "route", "show", ip); strings.TrimSpace(out) != "" {
			t.Errorf("host route %s left: %s", ip, out)
		}
	}
	if !isNamespace(NamespacePath(keep)) {
		t.Errorf("Cleanup removed %s, which is not ours", keep)
	}
	e.must(e.n.Cleanup(e.ctx)) // idempotent
}

// MapPublicIPs maps many addresses with one NAT table write: each good
// mapping works as MapPublicIP's does, a bad one is reported alone, and
// UnmapPublicIPs takes them all away again.
func TestMapPublicIPsBatch(t *testing.T) {
	e := newEnv(t)
	e.vpc("vpc-1", "10.0.0.0/16")
	e.subnet("vpc-1", "subnet-pub", "10.0.0.0/24")
	e.must(e.n.EnsureInternetGateway(e.ctx, "vpc-1"))
	e.must(e.n.SetRoutes(e.ctx, "vpc-1", "subnet-pub", []Route{localRoute, igwDefault}))
	hostAddr, err := e.n.HostAddress("vpc-1")
	e.must(err)
	host := e.fromHost("vpc-1")
	type inst struct{ id, private, public string }
	insts := []inst{{"i-a", "10.0.0.10", "198.18.7.10"}, {"i-b", "10.0.0.11", "198.18.7.11"}, {"i-c", "10.0.0.12", "198.18.7.12"}}
	var ms []PublicIPMapping
	for _, in := range insts {
		serve(t, e.instance("vpc-1", "subnet-pub", in.id, in.private), ":80", in.id)
		ms = append(ms, PublicIPMapping{Public: netip.MustParseAddr(in.public), Private: netip.MustParseAddr(in.private)})
	}
	// Outside the public range: refused before anything is routed.
	bad := netip.MustParseAddr("203.0.113.5")
	ms = append(ms, PublicIPMapping{Public: bad, Private: netip.MustParseAddr("10.0.0.13")})

	for round := range 2 { // the second round changes nothing
		failed, err := e.n.MapPublicIPs(e.ctx, "vpc-1", ms)
		e.must(err)
		if len(failed) != 1 || !errors.Is(failed[bad], ErrInvalid) {
			t.Fatalf("round %d: failed = %v, want only %s (ErrInvalid)", round, failed, bad)
		}
		for _, in := range insts {
			wantBody(t, host, in.public+":80", in.id, hostAddr.String())
		}
	}
	if _, err := e.n.MapPublicIPs(e.ctx, "vpc-9", ms[:1]); !errors.Is(err, ErrVPCNotFound) {
		t.Errorf("MapPublicIPs in a missing VPC: %v, want ErrVPCNotFound", err)
	}

	e.must(e.n.UnmapPublicIPs(e.ctx, "vpc-1", []netip.Addr{ms[0].Public, ms[1].Public}))
	for i, in := range insts {
		out := ipCmd(t, "-4", "route", "show", in.public+"/32")
		if i < 2 {
			if strings.TrimSpace(out) != "" {
				t.Errorf("host route to %s left after unmap: %s", in.public, out)
			}
			wantFail(t, host, in.public+":80")
			continue
		}
		wantBody(t, host, in.public+":80", in.id, hostAddr.String())
	}
}

// BenchmarkMapPublicIPs maps and unmaps 50 public IPs in one VPC, one call
// per address (as netctl did) or in one batch, side by side:
// go test -run '^$' -bench MapPublicIPs ./internal/vpcnet/ (root).
func BenchmarkMapPublicIPs(b *testing.B) {
	e := newEnv(b)
	e.ctx = context.Background() // newEnv's is for tests: 20 s in all
	e.vpc("vpc-1", "10.0.0.0/16")
	e.subnet("vpc-1", "subnet-pub", "10.0.0.0/24")
	e.must(e.n.EnsureInternetGateway(e.ctx, "vpc-1"))
	var ms []PublicIPMapping
	var pubs []netip.Addr
	for i := range 50 {
		m := PublicIPMapping{Public: netip.AddrFrom4([4]byte{198, 18, 9, byte(10 + i)}), Private: netip.AddrFrom4([4]byte{10, 0, 0, byte(10 + i)})}
		ms, pubs = append(ms, m), append(pubs, m.Public)
	}
	b.Run("one-by-one", func(b *testing.B) {
		for b.Loop() {
			for _, m := range ms {
				e.must(e.n.MapPublicIP(e.ctx, "vpc-1", m.Public, m.Private))
			}
			for _, p := range pubs {
				e.must(e.n.UnmapPublicIP(e.ctx, "vpc-1", p))
			}
		}
	})
	b.Run("batch", func(b *testing.B) {
		for b.Loop() {
			failed, err := e.n.MapPublicIPs(e.ctx, "vpc-1", ms)
			e.must(err)
			if len(failed) > 0 {
				b.Fatal(failed)
			}
			e.must(e.n.UnmapPublicIPs(e.ctx, "vpc-1", pubs))
		}
	})
}

// A NAT table write that fails after the mappings were recorded leaves the
// VPC dirty: the retry of the same batch, which changes nothing in vpcnet's
// own state, still writes the table, so the retried mapping works.
func TestMapPublicIPsRetryAfterFailedNATWrite(t *testing.T) {
	e := newEnv(t)
	e.vpc("vpc-1", "10.0.0.0/16")
	e.subnet("vpc-1", "subnet-pub", "10.0.0.0/24")
	e.must(e.n.EnsureInternetGateway(e.ctx, "vpc-1"))
	e.must(e.n.SetRoutes(e.ctx, "vpc-1", "subnet-pub", []Route{localRoute, igwDefault}))
	hostAddr, err := e.n.HostAddress("vpc-1")
	e.must(err)
	host := e.fromHost("vpc-1")
	a := PublicIPMapping{Public: netip.MustParseAddr("198.18.7.20"), Private: netip.MustParseAddr("10.0.0.20")}
	b := PublicIPMapping{Public: netip.MustParseAddr("198.18.7.21"), Private: netip.MustParseAddr("10.0.0.21")}
	serve(t, e.instance("vpc-1", "subnet-pub", "i-a", a.Private.String()), ":80", "i-a")
	serve(t, e.instance("vpc-1", "subnet-pub", "i-b", b.Private.String()), ":80", "i-b")
	_, err = e.n.MapPublicIPs(e.ctx, "vpc-1", []PublicIPMapping{a})
	e.must(err)

	// What MapPublicIPs([a b]) leaves when its NAT write fails: b recorded,
	// the kernel's table without it. The write fails for real, on a
	// namespace handle that is not one.
	e.n.mu.Lock()
	vs := e.n.vpcs["vpc-1"]
	vs.mappings[b.Public] = b.Private
	err = e.n.syncNAT(netns.NsHandle(-1), "vpc-1", vs)
	e.n.mu.Unlock()
	if err == nil {
		t.Fatal("syncNAT on an invalid namespace succeeded")
	}
	if !vs.natDirty {
		t.Fatal("a failed NAT write left the VPC clean")
	}

	failed, err := e.n.MapPublicIPs(e.ctx, "vpc-1", []PublicIPMapping{a, b})
	if err != nil || len(failed) != 0 {
		t.Fatalf("retry: failed %v, err %v", failed, err)
	}
	if vs.natDirty {
		t.Error("the VPC is still dirty after a successful write")
	}
	wantBody(t, host, a.Public.String()+":80", "i-a", hostAddr.String())
	wantBody(t, host, b.Public.String()+":80", "i-b", hostAddr.String())
}
