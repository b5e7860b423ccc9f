package firewall

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/google/nftables"
	"golang.org/x/sys/unix"
)

// Integration tests: real packets between network namespaces. They need
// root and fail (never skip) without it. Addresses live only inside the
// test namespaces.

// sgTopo is a server namespace and a client namespace joined by a veth
// pair: server <prefix>s0 10.213.0.1/24, client <prefix>c0 10.213.0.2-4/24.
type sgTopo struct {
	fw       *Firewall
	srv, cli *testNS
	eni      string // the server's interface, where its SGs apply
}

func newSGTopo(t *testing.T) *sgTopo {
	requireRoot(t)
	prefix := testPrefix(t)
	tp := &sgTopo{fw: New(prefix), srv: newNS(t), cli: newNS(t), eni: prefix + "s0"}
	veth(t, tp.srv, tp.eni, tp.cli, prefix+"c0")
	tp.srv.addr(t, tp.eni, "10.213.0.1/24")
	tp.cli.addr(t, prefix+"c0", "10.213.0.2/24", "10.213.0.3/24", "10.213.0.4/24")
	tp.srv.serve(t, "10.213.0.1:80")
	t.Cleanup(func() {
		if err := tp.fw.RemoveENI(tp.srv.path, tp.eni); err != nil {
			t.Errorf("RemoveENI: %v", err)
		}
		checkNoTables(t, tp.fw, tp.srv, tp.cli)
		checkHostUntouched(t, prefix)
	})
	if !tp.cli.canConnect(t, "", "10.213.0.1:80") {
		t.Fatal("topology broken: no connectivity without a firewall")
	}
	return tp
}

func (tp *sgTopo) apply(t *testing.T, groups ...SecurityGroup) {
	t.Helper()
	if err := tp.fw.ApplyENI(tp.srv.path, tp.eni, groups); err != nil {
		t.Fatalf("ApplyENI: %v", err)
	}
}

var allEgress = []SGRule{{Protocol: "-1", FromPort: -1, ToPort: -1, CIDRs: []netip.Prefix{pfx("0.0.0.0/0"), pfx("::/0")}}}

// baseIngress holds rules that must not admit tcp/80 but exercise every
// kind of match the kernel has to accept (icmp type/code, icmpv6, udp
// range, bare protocol number, IPv6 CIDR).
var baseIngress = []SGRule{
	{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDRs: []netip.Prefix{pfx("10.213.0.0/24")}},
	{Protocol: "icmp", FromPort: 8, ToPort: -1, CIDRs: []netip.Prefix{pfx("10.0.0.0/8")}},
	{Protocol: "icmp", FromPort: 3, ToPort: 4, CIDRs: []netip.Prefix{pfx("0.0.0.0/0")}},
	{Protocol: "icmpv6", FromPort: -1, ToPort: -1, CIDRs: []netip.Prefix{pfx("::/0")}},
	{Protocol: "udp", FromPort: 1000, ToPort: 2000, CIDRs: []netip.Prefix{pfx("2001:db8::/32"), pfx("10.213.0.0/24")}},
	{Protocol: "47", CIDRs: []netip.Prefix{pfx("10.213.0.2/32")}},
}

// Test 1: authorizing tcp/80 admits new connections within 1 s; revoking
// it refuses new ones while an established connection keeps working
// (AWS: "existing tracked connections are not interrupted" when a rule is
// removed).
func TestSGAuthorizeRevoke(t *testing.T) {
	tp := newSGTopo(t)
	without := SecurityGroup{ID: "sg-a", Ingress: baseIngress, Egress: allEgress}
	tp.apply(t, without)
	if tp.cli.canConnect(t, "", "10.213.0.1:80") {
		t.Fatal("tcp/80 admitted without a rule")
	}

	with := without
	with.Ingress = append(slices.Clone(baseIngress), SGRule{Protocol: "tcp", FromPort: 80, ToPort: 80, CIDRs: []netip.Prefix{pfx("10.213.0.0/24")}})
	start := time.Now()
	tp.apply(t, with)
	if !within(time.Second, func() bool { return tp.cli.canConnect(t, "", "10.213.0.1:80") }) {
		t.Fatal("tcp/80 not admitted within 1 s of the authorize")
	}
	t.Logf("authorize effective after %v", time.Since(start))

	est, err := tp.cli.dial("", "10.213.0.1:80")
	if err != nil {
		t.Fatalf("dial before revoke: %v", err)
	}
	defer est.Close()
	if !echo(est) {
		t.Fatal("established connection does not echo")
	}

	tp.apply(t, without) // revoke
	if tp.cli.canConnect(t, "", "10.213.0.1:80") {
		t.Fatal("new connection admitted after the revoke")
	}
	for i := 0; i < 3; i++ {
		if !echo(est) {
			t.Fatalf("established connection broken by the revoke (round %d)", i)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if s := tp.fw.Stats(); s.Rebuilds != 3 {
		t.Errorf("stats %+v: want 3 rebuilds (rule changes)", s)
	}
}

// Test 2: a rule referencing a peer group admits only the peers' current
// addresses; adding a member is a set-element update effective within 1 s.
func TestSGPeerSet(t *testing.T) {
	tp := newSGTopo(t)
	sg := func(peers ...string) SecurityGroup {
		r := SGRule{Protocol: "tcp", FromPort: 80, ToPort: 80}
		for _, p := range peers {
			r.Peers = append(r.Peers, ip(p))
		}
		return SecurityGroup{ID: "sg-db", Ingress: []SGRule{r}}
	}
	tp.apply(t, sg("10.213.0.2"))
	if !tp.cli.canConnect(t, "10.213.0.2", "10.213.0.1:80") {
		t.Fatal("peer .2 refused")
	}
	if tp.cli.canConnect(t, "10.213.0.3", "10.213.0.1:80") {
		t.Fatal("non-peer .3 admitted")
	}
	handles := ruleHandles(t, tp.fw, tp.srv, tp.fw.ENITable(tp.eni), "ingress")

	tp.apply(t, sg("10.213.0.2", "10.213.0.3"))
	if !within(time.Second, func() bool { return tp.cli.canConnect(t, "10.213.0.3", "10.213.0.1:80") }) {
		t.Fatal("new peer .3 not admitted within 1 s")
	}
	tp.apply(t, sg("10.213.0.3"))
	if tp.cli.canConnect(t, "10.213.0.2", "10.213.0.1:80") {
		t.Fatal("removed peer .2 still admitted")
	}
	if tp.cli.canConnect(t, "10.213.0.4", "10.213.0.1:80") || !tp.cli.canConnect(t, "10.213.0.3", "10.213.0.1:80") {
		t.Fatal("wrong admission after the membership change")
	}
	if s := tp.fw.Stats(); s.Rebuilds != 1 || s.ElementUpdates != 2 {
		t.Errorf("stats %+v: membership changes must be set-element updates", s)
	}
	if got := ruleHandles(t, tp.fw, tp.srv, tp.fw.ENITable(tp.eni), "ingress"); !slices.Equal(got, handles) {
		t.Errorf("rules were rebuilt (handles %v → %v)", handles, got)
	}
	if got := setElems(t, tp.srv, tp.fw.ENITable(tp.eni), "i0_4"); !slices.Equal(got, []string{"10.213.0.3", "10.213.0.4/end"}) {
		t.Errorf("kernel set elements %v", got)
	}
	// Idempotent: the same input again changes nothing.
	tp.apply(t, sg("10.213.0.3"))
	if s := tp.fw.Stats(); s.Rebuilds != 1 || s.ElementUpdates != 2 {
		t.Errorf("stats %+v after an identical apply", s)
	}
}

// Test 3: security groups are stateful: with no egress rule at all, a
// connection admitted inbound completes (replies ride conntrack), while
// the server cannot open connections itself.
func TestSGStateful(t *testing.T) {
	tp := newSGTopo(t)
	tp.cli.serve(t, "10.213.0.2:8080")
	if !tp.srv.canConnect(t, "", "10.213.0.2:8080") {
		t.Fatal("topology broken: server cannot reach client")
	}
	tp.apply(t, SecurityGroup{ID: "sg-in", Ingress: []SGRule{{Protocol: "tcp", FromPort: 80, ToPort: 80, CIDRs: []netip.Prefix{pfx("0.0.0.0/0")}}}})
	if !tp.cli.canConnect(t, "", "10.213.0.1:80") {
		t.Fatal("inbound connection failed: replies need no egress rule")
	}
	if tp.srv.canConnect(t, "", "10.213.0.2:8080") {
		t.Fatal("outbound connection admitted with no egress rule")
	}
	tp.apply(t, SecurityGroup{ID: "sg-in", Ingress: nil, Egress: allEgress})
	if !tp.srv.canConnect(t, "", "10.213.0.2:8080") {
		t.Fatal("outbound connection refused with egress allow-all: replies need no ingress rule")
	}
}

// IPv6: sets of the IPv6 family match, and neighbour discovery passes
// both default-deny chains (it is never resolved before the SG applies).
func TestSGIPv6(t *testing.T) {
	tp := newSGTopo(t)
	tp.srv.addr(t, tp.eni, "fd00:213::1/64")
	tp.cli.addr(t, tp.fw.Prefix()+"c0", "fd00:213::2/64", "fd00:213::3/64")
	tp.srv.serve(t, "[fd00:213::1]:80")
	tp.apply(t, SecurityGroup{ID: "sg-v6", Ingress: []SGRule{{Protocol: "tcp", FromPort: 80, ToPort: 80,
		CIDRs: []netip.Prefix{pfx("fd00:213::2/128")}}}})
	// Neighbour discovery runs before the first SYN can leave: on a busy
	// host that takes longer than one dial's timeout.
	if !within(3*time.Second, func() bool { return tp.cli.canConnect(t, "fd00:213::2", "[fd00:213::1]:80") }) {
		t.Fatal("IPv6 peer in the CIDR refused (or neighbour discovery blocked)")
	}
	if tp.cli.canConnect(t, "fd00:213::3", "[fd00:213::1]:80") {
		t.Fatal("IPv6 address outside the CIDR admitted")
	}
	if tp.cli.canConnect(t, "", "10.213.0.1:80") {
		t.Fatal("IPv4 admitted by an IPv6-only rule")
	}
}

// aclTopo: client ns —veth— router ns (forwarding) with the server
// subnet's bridge <prefix>b1 —veth— server ns.
//
//	client <p>c0 10.214.1.2/24 ⇄ <p>rc 10.214.1.1/24 [router] <p>b1 10.214.2.1/24 ∋ <p>rs ⇄ <p>s0 10.214.2.2/24 server
type aclTopo struct {
	fw                *Firewall
	cli, router, srv  *testNS
	bridge, serverENI string
}

func newACLTopo(t *testing.T) *aclTopo {
	requireRoot(t)
	p := testPrefix(t)
	tp := &aclTopo{fw: New(p), cli: newNS(t), router: newNS(t), srv: newNS(t), bridge: p + "b1", serverENI: p + "s0"}
	veth(t, tp.cli, p+"c0", tp.router, p+"rc")
	veth(t, tp.router, p+"rs", tp.srv, tp.serverENI)
	tp.router.bridge(t, tp.bridge, p+"rs")
	tp.cli.addr(t, p+"c0", "10.214.1.2/24")
	tp.router.addr(t, p+"rc", "10.214.1.1/24")
	tp.router.addr(t, tp.bridge, "10.214.2.1/24")
	tp.srv.addr(t, tp.serverENI, "10.214.2.2/24")
	tp.cli.defaultRoute(t, "10.214.1.1")
	tp.srv.defaultRoute(t, "10.214.2.1")
	tp.router.forwarding(t)
	tp.srv.serve(t, "10.214.2.2:80")
	t.Cleanup(func() {
		if err := tp.fw.RemoveSubnetACL(tp.router.path, tp.bridge); err != nil {
			t.Errorf("RemoveSubnetACL: %v", err)
		}
		if err := tp.fw.RemoveENI(tp.srv.path, tp.serverENI); err != nil {
			t.Errorf("RemoveENI: %v", err)
		}
		checkNoTables(t, tp.fw, tp.cli, tp.router, tp.srv)
		checkHostUntouched(t, p)
	})
	if !within(time.Second, func() bool { return tp.cli.canConnect(t, "", "10.214.2.2:80") }) {
		t.Fatal("topology broken: no routed connectivity without a firewall")
	}
	return tp
}

func (tp *aclTopo) acl(t *testing.T, entries ...ACLEntry) {
	t.Helper()
	if err := tp.fw.ApplySubnetACL(tp.router.path, tp.bridge, NetworkACL{ID: "acl-test", Entries: entries}); err != nil {
		t.Fatalf("ApplySubnetACL: %v", err)
	}
}

func tcpEntry(n int, egress bool, from, to int, cidr string, allow bool) ACLEntry {
	return ACLEntry{RuleNumber: n, Egress: egress, Protocol: 6, PortFrom: from, PortTo: to, CIDR: pfx(cidr), Allow: allow, ICMPType: -1, ICMPCode: -1}
}

// Test 4: network ACLs are ordered (lowest number first, first match wins)
// and stateless: removing the outbound ephemeral-port entry breaks the
// replies — even of an established connection — while the server's SG,
// which has no egress rule, needs none.
func TestNACL(t *testing.T) {
	tp := newACLTopo(t)
	// The server's SG: tcp/80 in, nothing out.
	if err := tp.fw.ApplyENI(tp.srv.path, tp.serverENI, []SecurityGroup{{ID: "sg-web",
		Ingress: []SGRule{{Protocol: "tcp", FromPort: 80, ToPort: 80, CIDRs: []netip.Prefix{pfx("0.0.0.0/0")}}}}}); err != nil {
		t.Fatal(err)
	}
	const srv = "10.214.2.2:80"
	ephemeral := tcpEntry(100, true, 1024, 65535, "0.0.0.0/0", true)

	// A lower-numbered deny beats a higher allow (given in reverse order).
	tp.acl(t, tcpEntry(200, false, 80, 80, "0.0.0.0/0", true), tcpEntry(100, false, 80, 80, "10.214.1.0/24", false), ephemeral)
	if tp.cli.canConnect(t, "", srv) {
		t.Fatal("deny 100 did not beat allow 200")
	}
	// The same entries renumbered: the allow now comes first.
	tp.acl(t, tcpEntry(200, false, 80, 80, "10.214.1.0/24", false), tcpEntry(100, false, 80, 80, "0.0.0.0/0", true), ephemeral)
	if !within(time.Second, func() bool { return tp.cli.canConnect(t, "", srv) }) {
		t.Fatal("allow 100 did not beat deny 200")
	}
	est, err := tp.cli.dial("", srv)
	if err != nil {
		t.Fatal(err)
	}
	defer est.Close()
	if !echo(est) {
		t.Fatal("established connection does not echo")
	}

	// Without the outbound ephemeral-port rule replies are dropped.
	tp.acl(t, tcpEntry(100, false, 80, 80, "0.0.0.0/0", true), tcpEntry(100, true, 80, 80, "0.0.0.0/0", true))
	if tp.cli.canConnect(t, "", srv) {
		t.Fatal("connection completed without an outbound rule for the replies")
	}
	if echo(est) {
		t.Fatal("established connection survived: the NACL must be stateless")
	}

	// Restored: new connections work again.
	tp.acl(t, tcpEntry(100, false, 80, 80, "0.0.0.0/0", true), ephemeral)
	if !within(time.Second, func() bool { return tp.cli.canConnect(t, "", srv) }) {
		t.Fatal("connections still failing after restoring the ephemeral rule")
	}
	// An empty ACL is the "*" rule alone: deny.
	tp.acl(t)
	if tp.cli.canConnect(t, "", srv) {
		t.Fatal("empty ACL admitted traffic")
	}
}

// Test 5: Remove* leave no table with the prefix; removal is idempotent;
// Purge clears what a previous process left.
func TestCleanup(t *testing.T) {
	tp := newACLTopo(t)
	sg := []SecurityGroup{{ID: "sg", Ingress: baseIngress, Egress: allEgress}}
	if err := tp.fw.ApplyENI(tp.srv.path, tp.serverENI, sg); err != nil {
		t.Fatal(err)
	}
	tp.acl(t, tcpEntry(100, false, 80, 80, "0.0.0.0/0", true))
	if names, err := tp.fw.Tables(tp.router.path); err != nil || !slices.Equal(names, []string{tp.fw.ACLTable(tp.bridge)}) {
		t.Fatalf("router tables %v, %v", names, err)
	}
	if names, err := tp.fw.Tables(tp.srv.path); err != nil || !slices.Equal(names, []string{tp.fw.ENITable(tp.serverENI)}) {
		t.Fatalf("server tables %v, %v", names, err)
	}
	if err := tp.fw.RemoveENI(tp.srv.path, tp.serverENI); err != nil {
		t.Fatal(err)
	}
	if err := tp.fw.RemoveSubnetACL(tp.router.path, tp.bridge); err != nil {
		t.Fatal(err)
	}
	checkNoTables(t, tp.fw, tp.cli, tp.router, tp.srv)
	if err := tp.fw.RemoveENI(tp.srv.path, tp.serverENI); err != nil {
		t.Fatalf("second RemoveENI: %v", err)
	}
	if !tp.cli.canConnect(t, "", "10.214.2.2:80") {
		t.Fatal("traffic still filtered after removal")
	}

	// A new Firewall (as after a restart) purges what an old one left.
	if err := tp.fw.ApplyENI(tp.srv.path, tp.serverENI, sg); err != nil {
		t.Fatal(err)
	}
	if err := New(tp.fw.Prefix()).Purge(tp.srv.path); err != nil {
		t.Fatal(err)
	}
	checkNoTables(t, tp.fw, tp.srv)
	// After an external removal the cached state must not fool Apply.
	if err := tp.fw.ApplyENI(tp.srv.path, tp.serverENI, sg); err != nil {
		t.Fatal(err)
	}
	if names, _ := tp.fw.Tables(tp.srv.path); len(names) != 1 {
		t.Fatalf("re-apply after purge: tables %v", names)
	}
}

// The guard refuses the host's namespace (checked without programming it).
func TestRefusesHostNamespace(t *testing.T) {
	for _, p := range []string{"/proc/self/ns/net", "/proc/thread-self/ns/net"} {
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = checkForeignNS(fd, p)
		unix.Close(fd)
		if err == nil {
			t.Fatalf("%s accepted", p)
		}
	}
	if _, err := New("x-").Tables(""); err == nil {
		t.Fatal("empty namespace path accepted")
	}
}

// ruleHandles returns the kernel handles of a chain's rules.
func ruleHandles(t *testing.T, fw *Firewall, ns *testNS, table, chain string) []uint64 {
	t.Helper()
	var hs []uint64
	err := withConn(ns.path, func(c *nftables.Conn, _ string) error {
		rules, err := c.GetRules(nftTable(table), &nftables.Chain{Name: chain})
		for _, r := range rules {
			hs = append(hs, r.Handle)
		}
		return err
	})
	if err != nil || len(hs) == 0 {
		t.Fatalf("rules of %s/%s: %v %v", table, chain, hs, err)
	}
	return hs
}

// setElems reads a set back from the kernel ("addr" or "addr/end").
func setElems(t *testing.T, ns *testNS, table, set string) []string {
	t.Helper()
	var out []string
	err := withConn(ns.path, func(c *nftables.Conn, _ string) error {
		s, err := c.GetSetByName(nftTable(table), set)
		if err != nil {
			return err
		}
		els, err := c.GetSetElements(s)
		for _, e := range els {
			a, _ := netip.AddrFromSlice(e.Key)
			v := a.String()
			if e.IntervalEnd {
				v += "/end"
			}
			out = append(out, v)
		}
		return err
	})
	if err != nil {
		t.Fatalf("set %s: %v", set, err)
	}
	slices.Sort(out)
	return out
}
