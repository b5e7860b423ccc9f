package vpcnet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const (
	okTimeout   = 3 * time.Second
	failTimeout = 300 * time.Millisecond
)

// env is one test's Network with a unique prefix, torn down (and checked to
// be gone) when the test ends, pass or fail.
type env struct {
	t   testing.TB
	n   *Network
	ctx context.Context
}

func newEnv(t testing.TB) *env {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("vpcnet tests need root (network namespaces, veths, nftables); run them as root")
	}
	prefix := testPrefix()
	n, err := New(Config{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	if ok, why := n.Available(); !ok {
		t.Fatalf("vpcnet not available: %s", why)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(func() {
		defer cancel()
		if err := n.Cleanup(context.Background()); err != nil {
			t.Errorf("Cleanup: %v", err)
		}
		_ = n.Close()
		assertNothingLeft(t, prefix)
	})
	return &env{t: t, n: n, ctx: ctx}
}

// testPrefix is a prefix no other test (or minicloud) uses.
func testPrefix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return "t" + hex.EncodeToString(b)[:5]
}

// assertNothingLeft checks that no namespace, host link or host route of
// ours remains.
func assertNothingLeft(t testing.TB, prefix string) {
	t.Helper()
	if left, err := Namespaces(prefix + "-"); err != nil || len(left) > 0 {
		t.Errorf("namespaces left behind after cleanup: %v %v", left, err)
	}
	for _, line := range strings.Split(ipCmd(t, "-o", "link"), "\n") {
		if strings.Contains(line, prefix+"-") {
			t.Errorf("left behind after cleanup (ip -o link): %s", line)
		}
	}
	if out := ipCmd(t, "-4", "route", "show", "table", "all"); strings.Contains(out, prefix+"-") {
		t.Errorf("routes left behind:\n%s", out)
	}
}

func ipTry(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	return string(out), err
}

func ipCmd(t testing.TB, args ...string) string {
	t.Helper()
	out, err := ipTry(args...)
	if err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// ipIn runs ip inside the named namespace (ip -n knows /run/netns only).
func ipIn(t testing.TB, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "nsenter", append([]string{"--net=" + NamespacePath(name), "ip"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip (in %s) %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// nsenterNft runs nft inside the named namespace.
func nsenterNft(t testing.TB, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "nsenter", append([]string{"--net=" + NamespacePath(name), "nft"}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("nft (in %s) %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) vpc(id string, cidrs ...string) {
	e.t.Helper()
	v := VPC{ID: id}
	for _, c := range cidrs {
		v.CIDRs = append(v.CIDRs, netip.MustParsePrefix(c))
	}
	e.must(e.n.EnsureVPC(e.ctx, v))
}

func (e *env) subnet(vpcID, id, cidr string) {
	e.t.Helper()
	e.must(e.n.EnsureSubnet(e.ctx, Subnet{VPCID: vpcID, ID: id, CIDR: netip.MustParsePrefix(cidr)}))
}

var (
	igwDefault = Route{Destination: netip.MustParsePrefix("0.0.0.0/0"), Target: TargetInternetGateway}
	localRoute = Route{Destination: netip.MustParsePrefix("10.0.0.0/16"), Target: TargetLocal}
)

func natDefault(id string) Route {
	return Route{Destination: netip.MustParsePrefix("0.0.0.0/0"), Target: TargetNATGateway, NATGatewayID: id}
}

// instance creates an instance namespace with one ENI (eth0) and returns its
// path.
func (e *env) instance(vpcID, subnetID, id, ip string) string {
	e.t.Helper()
	path, err := e.n.CreateInstanceNamespace(e.ctx, id)
	e.must(err)
	e.must(e.n.AttachENI(e.ctx, testENI(vpcID, subnetID, id, ip), path))
	return path
}

// testENI is the ENI e.instance gives instance id: eni-<id>, a MAC made
// from the ID, device 0.
func testENI(vpcID, subnetID, id, ip string) ENI {
	mac := net.HardwareAddr{0x02, 0x00, 0x0a, 0x00, byte(len(id)), id[len(id)-1]}
	return ENI{ID: "eni-" + id, VPCID: vpcID, SubnetID: subnetID, MAC: mac, IP: netip.MustParseAddr(ip)}
}

// serve runs an HTTP server answering "<identity> <remote addr>" on a
// listener made inside nsPath ("" for the host namespace).
func serve(t *testing.T, nsPath, addr, identity string) net.Addr {
	t.Helper()
	var l net.Listener
	listen := func() (err error) {
		l, err = net.Listen("tcp4", addr)
		return err
	}
	var err error
	if nsPath == "" {
		err = listen()
	} else {
		err = InNamespace(nsPath, listen)
	}
	if err != nil {
		t.Fatalf("listen %s in %q: %v", addr, nsPath, err)
	}
	srv := &http.Server{ReadHeaderTimeout: 2 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s", identity, r.RemoteAddr)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr()
}

// dialer dials from inside nsPath, or from the host bound to device bindDev
// (so that nothing can leave through the host's own interfaces).
type dialer struct {
	nsPath  string
	bindDev string
}

func (d dialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	nd := net.Dialer{}
	if d.bindDev != "" {
		dev := d.bindDev
		nd.Control = func(_, _ string, c syscall.RawConn) error {
			var serr error
			if err := c.Control(func(fd uintptr) {
				serr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, dev)
			}); err != nil {
				return err
			}
			return serr
		}
	}
	if d.nsPath == "" {
		return nd.DialContext(ctx, network, addr)
	}
	var conn net.Conn
	err := InNamespace(d.nsPath, func() (err error) {
		conn, err = nd.DialContext(ctx, network, addr)
		return err
	})
	return conn, err
}

// get fetches http://addr/ and returns the body.
func (d dialer) get(addr string, timeout time.Duration) (string, error) {
	c := &http.Client{Timeout: timeout, Transport: &http.Transport{DialContext: d.dial, DisableKeepAlives: true}}
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// fromHost dials from the host, pinned to the VPC's gateway link.
func (e *env) fromHost(vpcID string) dialer { return dialer{bindDev: e.n.Names().Gateway(vpcID)} }

func from(nsPath string) dialer { return dialer{nsPath: nsPath} }

// wantBody GETs and checks the body is "<identity> <remoteIP>:port".
func wantBody(t *testing.T, d dialer, addr, identity, remoteIP string) {
	t.Helper()
	body, err := d.get(addr, okTimeout)
	if err != nil {
		t.Fatalf("GET %s: %v", addr, err)
	}
	f := strings.Fields(body)
	if len(f) != 2 || f[0] != identity {
		t.Fatalf("GET %s: body %q, want identity %q", addr, body, identity)
	}
	host, _, _ := net.SplitHostPort(f[1])
	if remoteIP != "" && host != remoteIP {
		t.Fatalf("GET %s: server saw client %s, want %s", addr, host, remoteIP)
	}
}

func wantFail(t *testing.T, d dialer, addr string) {
	t.Helper()
	start := time.Now()
	body, err := d.get(addr, failTimeout)
	if err == nil {
		t.Fatalf("GET %s succeeded (%q), want failure", addr, body)
	}
	if el := time.Since(start); el > failTimeout+time.Second {
		t.Fatalf("GET %s took %v to fail", addr, el)
	}
}
