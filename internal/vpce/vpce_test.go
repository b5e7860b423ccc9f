package vpce_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/service/ec2"
	"github.com/minicloud/minicloud/internal/state"
	"github.com/minicloud/minicloud/internal/vpce"
	"github.com/minicloud/minicloud/internal/vpcnet"
	"github.com/minicloud/minicloud/internal/workload"
)

// fakeWorkloads records placements; nothing is plugged in.
type fakeWorkloads struct {
	mu     sync.Mutex
	placed map[string]bool
	fail   error
}

func (f *fakeWorkloads) Place(_ context.Context, name string, enis []vpcnet.ENI) (*workload.Placement, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	f.placed[name] = true
	return &workload.Placement{Name: name, NS: "ns-" + name, ENIs: enis}, nil
}

func (f *fakeWorkloads) Unplace(_ context.Context, name string, _ ...vpcnet.ENI) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.placed, name)
	return nil
}

func (f *fakeWorkloads) names() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for n := range f.placed {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// loopbackListeners listens on loopback for each address asked, and
// remembers which (the namespace's address and port → the real one).
type loopbackListeners struct {
	mu    sync.Mutex
	addrs map[string]string
}

func (l *loopbackListeners) listen(ns, network, address string) (net.Listener, error) {
	if !strings.HasPrefix(ns, "ns-eni-") {
		return nil, fmt.Errorf("listening in %q", ns)
	}
	ln, err := net.Listen(network, "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.addrs[address] = ln.Addr().String()
	l.mu.Unlock()
	return ln, nil
}

func (l *loopbackListeners) addr(a string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.addrs[a]
}

type env struct {
	ctx  context.Context
	ec2  *ec2.Service
	wl   *fakeWorkloads
	lns  *loopbackListeners
	ctl  *vpce.Controller
	vpc  string
	subs []string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := api.WithRequest(context.Background(), &api.RequestInfo{Account: "000000000000", Region: "us-east-1"})
	svc := ec2.New(state.NewMemory(), ec2.WithEndpointRuntime())
	e := &env{ctx: ctx, ec2: svc, wl: &fakeWorkloads{placed: map[string]bool{}}, lns: &loopbackListeners{addrs: map[string]string{}}}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ep := api.VPCEndpointOf(r.Context())
		if ep == nil {
			http.Error(w, "no endpoint", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "%s %s %t", ep.ID, ep.VPCID, r.TLS != nil)
	})
	e.ctl = vpce.New(vpce.Config{EC2: svc, Workloads: e.wl, Handler: handler, Listen: e.lns.listen, HTTPPort: 8080, HTTPSPort: 8443,
		Certificate: func([]string) (*tls.Certificate, error) { return nil, errors.New("no CA in this test") }})
	if err := e.ctl.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.ctl.Stop(context.Background()) })
	v, err := svc.CreateVpc(ctx, &ec2api.CreateVpcRequest{CidrBlock: new("10.9.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	e.vpc = *v.Vpc.VpcId
	if _, err := svc.ModifyVpcAttribute(ctx, &ec2api.ModifyVpcAttributeRequest{VpcId: &e.vpc, EnableDnsHostnames: &ec2api.AttributeBooleanValue{Value: new(true)}}); err != nil {
		t.Fatal(err)
	}
	for i, az := range []string{"us-east-1a", "us-east-1b"} {
		sn, err := svc.CreateSubnet(ctx, &ec2api.CreateSubnetRequest{VpcId: &e.vpc, CidrBlock: new(fmt.Sprintf("10.9.%d.0/24", i+1)), AvailabilityZone: new(az)})
		if err != nil {
			t.Fatal(err)
		}
		e.subs = append(e.subs, *sn.Subnet.SubnetId)
	}
	return e
}

func (e *env) describe(t *testing.T, id string) ec2api.VpcEndpoint {
	t.Helper()
	out, err := e.ec2.DescribeVpcEndpoints(e.ctx, &ec2api.DescribeVpcEndpointsRequest{VpcEndpointIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	return out.VpcEndpoints[0]
}

func eventually(t *testing.T, what string, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestInterfaceEndpoint: an interface endpoint's interfaces are placed
// and serve the handler with the endpoint in the request; it becomes
// available; its names resolve to its interfaces (private DNS in its VPC
// only); removing a subnet and deleting the endpoint take them away.
func TestInterfaceEndpoint(t *testing.T) {
	e := newEnv(t)
	out, err := e.ec2.CreateVpcEndpoint(e.ctx, &ec2api.CreateVpcEndpointRequest{VpcId: &e.vpc, ServiceName: new("com.amazonaws.us-east-1.sts"),
		VpcEndpointType: new("Interface"), SubnetIds: e.subs})
	if err != nil {
		t.Fatal(err)
	}
	id := *out.VpcEndpoint.VpcEndpointId
	eventually(t, "available", func() error {
		if st := *e.describe(t, id).State; st != "available" {
			return fmt.Errorf("state %s", st)
		}
		return nil
	})
	ep := e.describe(t, id)
	if got := e.wl.names(); !slices.Equal(got, slices.Sorted(slices.Values(ep.NetworkInterfaceIds))) {
		t.Fatalf("placed %v, want the endpoint's interfaces %v", got, ep.NetworkInterfaceIds)
	}
	addrs := e.ctl.Addrs("000000000000", "us-east-1", id)
	if len(addrs) != 2 {
		t.Fatalf("serving on %v", addrs)
	}
	for _, a := range addrs {
		body, err := get("http://" + e.lns.addr(netip.AddrPortFrom(a, 8080).String()))
		if want := id + " " + e.vpc + " false"; err != nil || body != want {
			t.Fatalf("%s: %q %v, want %q", a, body, err, want)
		}
	}

	// The endpoint's own names and, in its VPC only, the service's name.
	set := e.ctl.Names().Endpoints()
	regional, ok := set.Lookup(*ep.DnsEntries[0].DnsName + ".")
	if !ok || !slices.Equal(regional.AddrsFrom(""), addrs) {
		t.Fatalf("%s is %v %v, want %v", *ep.DnsEntries[0].DnsName, regional, ok, addrs)
	}
	zonal, ok := set.Lookup(*ep.DnsEntries[1].DnsName + ".")
	if !ok || len(zonal.AddrsFrom("")) != 1 {
		t.Fatalf("%s is %v %v", *ep.DnsEntries[1].DnsName, zonal, ok)
	}
	private := e.ctl.PrivateDNS(e.vpc)
	s := private.For("sts.us-east-1.amazonaws.com.")
	if s == nil {
		t.Fatalf("no private DNS for sts in %s: %v", e.vpc, private)
	}
	if p, ok := s.Lookup("sts.us-east-1.amazonaws.com."); !ok || !slices.Equal(p.AddrsFrom(e.vpc), addrs) {
		t.Fatalf("private sts is %v %v, want %v", p, ok, addrs)
	}
	if other := e.ctl.PrivateDNS("vpc-0123456789abcdef0"); len(other) != 0 {
		t.Fatalf("another VPC sees %v", other)
	}

	// One subnet less: its interface is unplaced and no longer serves.
	if _, err := e.ec2.ModifyVpcEndpoint(e.ctx, &ec2api.ModifyVpcEndpointRequest{VpcEndpointId: &id, RemoveSubnetIds: e.subs[1:]}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "one interface", func() error {
		if got := e.ctl.Addrs("000000000000", "us-east-1", id); len(got) != 1 || len(e.wl.names()) != 1 {
			return fmt.Errorf("serving on %v, placed %v", got, e.wl.names())
		}
		return nil
	})
	// Private DNS off: the VPC's resolver no longer answers the service.
	if _, err := e.ec2.ModifyVpcEndpoint(e.ctx, &ec2api.ModifyVpcEndpointRequest{VpcEndpointId: &id, PrivateDnsEnabled: new(false)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "private DNS off", func() error {
		if p := e.ctl.PrivateDNS(e.vpc); len(p) != 0 {
			return fmt.Errorf("still %v", p)
		}
		return nil
	})

	if _, err := e.ec2.DeleteVpcEndpoints(e.ctx, &ec2api.DeleteVpcEndpointsRequest{VpcEndpointIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "removed", func() error {
		if got := e.wl.names(); len(got) != 0 {
			return fmt.Errorf("still placed: %v", got)
		}
		if _, ok := e.ctl.Names().Endpoints().Lookup(*ep.DnsEntries[0].DnsName + "."); ok {
			return errors.New("its name still resolves")
		}
		return nil
	})
	if _, err := get("http://" + e.lns.addr(netip.AddrPortFrom(addrs[0], 8080).String())); err == nil {
		t.Fatal("a deleted endpoint still serves")
	}
}

// TestInterfaceEndpointPendingWhileUnplaced: an endpoint whose interfaces
// cannot be placed stays pending, and becomes available once they can.
func TestInterfaceEndpointPendingWhileUnplaced(t *testing.T) {
	e := newEnv(t)
	e.wl.mu.Lock()
	e.wl.fail = vpcnet.ErrSubnetNotFound
	e.wl.mu.Unlock()
	out, err := e.ec2.CreateVpcEndpoint(e.ctx, &ec2api.CreateVpcEndpointRequest{VpcId: &e.vpc, ServiceName: new("com.amazonaws.us-east-1.ssm"),
		VpcEndpointType: new("Interface"), SubnetIds: e.subs[:1]})
	if err != nil {
		t.Fatal(err)
	}
	id := *out.VpcEndpoint.VpcEndpointId
	time.Sleep(300 * time.Millisecond)
	if st := *e.describe(t, id).State; st != "pending" {
		t.Fatalf("state %s while its interface is not placed", st)
	}
	if h := e.ctl.Health(); h["errors"] == nil {
		t.Errorf("health shows no error: %v", h)
	}
	e.wl.mu.Lock()
	e.wl.fail = nil
	e.wl.mu.Unlock()
	eventually(t, "available", func() error {
		if st := *e.describe(t, id).State; st != "available" {
			return fmt.Errorf("state %s", st)
		}
		return nil
	})
}

func get(url string) (string, error) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// fakeNet records gateway endpoints' namespaces.
type fakeNet struct {
	mu  sync.Mutex
	eps map[string][]netip.Addr
}

func (f *fakeNet) EnsureGatewayEndpoint(_ context.Context, _, id string, addrs []netip.Addr) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.eps[id] = addrs
	return "ns-eni-gw-" + id, nil
}

func (f *fakeNet) DeleteGatewayEndpoint(_ context.Context, _, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.eps, id)
	return nil
}

func (f *fakeNet) addrs(id string) ([]netip.Addr, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.eps[id]
	return a, ok
}

// TestGatewayEndpoint: a gateway endpoint gets its namespace with its
// prefix list's address, served with the endpoint in the request, and
// loses it when deleted.
func TestGatewayEndpoint(t *testing.T) {
	ctx := api.WithRequest(context.Background(), &api.RequestInfo{Account: "000000000000", Region: "us-east-1"})
	svc := ec2.New(state.NewMemory(), ec2.WithEndpointRuntime(), ec2.WithPublicPool(netip.MustParsePrefix("198.19.232.0/24")))
	gwNet := &fakeNet{eps: map[string][]netip.Addr{}}
	lns := &loopbackListeners{addrs: map[string]string{}}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, api.VPCEndpointOf(r.Context()).ID) })
	ctl := vpce.New(vpce.Config{EC2: svc, Workloads: &fakeWorkloads{placed: map[string]bool{}}, Net: gwNet, Handler: handler,
		Listen: lns.listen, HTTPPort: 8080, HTTPSPort: 8443})
	if err := ctl.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ctl.Stop(context.Background()) })
	v, err := svc.CreateVpc(ctx, &ec2api.CreateVpcRequest{CidrBlock: new("10.9.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	out, err := svc.CreateVpcEndpoint(ctx, &ec2api.CreateVpcEndpointRequest{VpcId: v.Vpc.VpcId, ServiceName: new("com.amazonaws.us-east-1.s3")})
	if err != nil {
		t.Fatal(err)
	}
	id := *out.VpcEndpoint.VpcEndpointId
	s3 := netip.MustParseAddr("198.19.232.242")
	eventually(t, "served", func() error {
		if a, ok := gwNet.addrs(id); !ok || !slices.Equal(a, []netip.Addr{s3}) {
			return fmt.Errorf("namespace addresses %v %t", a, ok)
		}
		if lns.addr(netip.AddrPortFrom(s3, 8080).String()) == "" {
			return errors.New("not listening")
		}
		return nil
	})
	if body, err := get("http://" + lns.addr(netip.AddrPortFrom(s3, 8080).String())); err != nil || body != id {
		t.Fatalf("served %q %v, want %s", body, err, id)
	}
	if _, err := svc.DeleteVpcEndpoints(ctx, &ec2api.DeleteVpcEndpointsRequest{VpcEndpointIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "removed", func() error {
		if _, ok := gwNet.addrs(id); ok {
			return errors.New("its namespace is still there")
		}
		return nil
	})
}
