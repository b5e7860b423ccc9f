package netctl_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/sys/unix"

	"github.com/minicloud/minicloud/internal/netctl"
	"github.com/minicloud/minicloud/internal/sdktest"
	"github.com/minicloud/minicloud/internal/server"
	"github.com/minicloud/minicloud/internal/vpcnet"
	"github.com/minicloud/minicloud/internal/vpcnet/firewall"
)

// The main goroutine keeps the main thread. vpcnet does namespace work on
// goroutines locked to threads it then discards; were the main thread one
// of them, Go would keep it wedged inside a VPC namespace, /proc/self/ns/net
// would be that namespace, and the firewall would refuse to program it as
// "the host's". (cmd/minicloud needs the same.)
func init() { runtime.LockOSThread() }

const (
	okTimeout   = 2 * time.Second
	failTimeout = 250 * time.Millisecond
)

// env is an in-process minicloud (ephemeral store), a vpcnet.Network and a
// Firewall with a unique prefix, and a controller on the server's store.
// Everything is torn down, and checked to be gone, when the test ends.
type env struct {
	t      *testing.T
	ctx    context.Context
	prefix string
	net    *vpcnet.Network
	fw     *firewall.Firewall
	ctl    *netctl.Controller
	ec2    *ec2.Client
	srv    *server.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("netctl tests need root (network namespaces, veths, nftables); run them as root")
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	prefix := "n" + hex.EncodeToString(b)[:5]
	n, err := vpcnet.New(vpcnet.Config{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	if ok, why := n.Available(); !ok {
		t.Fatalf("vpcnet not available: %s", why)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	t.Cleanup(func() {
		defer cancel()
		if err := n.Cleanup(context.Background()); err != nil {
			t.Errorf("Cleanup: %v", err)
		}
		_ = n.Close()
		assertNothingLeft(t, prefix)
	})
	srv, err := server.New(server.Config{Ephemeral: true})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		_ = srv.Close(context.Background())
	})
	fw := firewall.New(prefix + "-")
	var logw io.Writer = io.Discard
	if testing.Verbose() {
		logw = os.Stderr
	}
	ctl := netctl.New(srv.EC2(), srv.EC2().Store(), n, fw, slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err := ctl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		if err := ctl.Stop(sctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	c := ec2.NewFromConfig(aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint:     aws.String(hs.URL),
		RetryMaxAttempts: 1,
		HTTPClient:       sdktest.HTTPClient(),
	})
	return &env{t: t, ctx: ctx, prefix: prefix, net: n, fw: fw, ctl: ctl, ec2: c, srv: srv}
}

func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// assertNothingLeft checks that no namespace or host link of the prefix
// remains.
func assertNothingLeft(t *testing.T, prefix string) {
	t.Helper()
	if left, err := vpcnet.Namespaces(prefix + "-"); err != nil || len(left) > 0 {
		t.Errorf("namespaces left behind after cleanup: %v %v", left, err)
	}
	for _, line := range strings.Split(ip(t, "-o", "link"), "\n") {
		if strings.Contains(line, prefix+"-") {
			t.Errorf("left behind after cleanup (ip -o link): %s", line)
		}
	}
}

func ip(t *testing.T, args ...string) string {
	t.Helper()
	return run(t, "ip", args...)
}

// ipIn runs ip inside the named namespace (ip -n knows /run/netns only).
func ipIn(t *testing.T, name string, args ...string) string {
	t.Helper()
	return run(t, "nsenter", append([]string{"--net=" + vpcnet.NamespacePath(name), "ip"}, args...)...)
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// serve runs an HTTP server answering "<identity>" on a listener made
// inside the namespace at nsPath.
func serve(t *testing.T, nsPath, addr, identity string) {
	t.Helper()
	var l net.Listener
	err := vpcnet.InNamespace(nsPath, func() (err error) {
		l, err = net.Listen("tcp4", addr)
		return err
	})
	if err != nil {
		t.Fatalf("listen %s in %s: %v", addr, nsPath, err)
	}
	srv := &http.Server{ReadHeaderTimeout: 2 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, identity)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
}

// dialer dials from inside a namespace, or from the host pinned to one
// device (so nothing can leave through the host's own interfaces).
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
	err := vpcnet.InNamespace(d.nsPath, func() (err error) {
		conn, err = nd.DialContext(ctx, network, addr)
		return err
	})
	return conn, err
}

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

// eventually polls until GET addr succeeds with body (reachable) or fails
// (not reachable), within limit, and returns how long it took.
func eventually(t *testing.T, d dialer, addr, body string, reachable bool, limit time.Duration, what string) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(limit)
	var last string
	for {
		got, err := d.get(addr, failTimeout)
		switch {
		case reachable && err == nil && got == body:
			return time.Since(start)
		case !reachable && err != nil:
			return time.Since(start)
		case err != nil:
			last = err.Error()
		default:
			last = fmt.Sprintf("answered %q", got)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: after %v still %s (want reachable=%v)", what, limit, last, reachable)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stays checks GET addr keeps failing for a while.
func stays(t *testing.T, d dialer, addr string, what string) {
	t.Helper()
	for range 2 {
		if body, err := d.get(addr, failTimeout); err == nil {
			t.Fatalf("%s: reachable (%q), want blocked", what, body)
		}
	}
}

// waitFor polls cond for up to limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestControllerEndToEnd drives the data plane through the EC2 API only:
// a VPC with a public and a private subnet, an internet gateway, route
// tables, security groups, a network ACL and an Elastic IP; ENIs plugged
// into namespaces as the instance runtime would; real HTTP between them
// and from the host.
func TestControllerEndToEnd(t *testing.T) {
	e := newEnv(t)
	c, ctx := e.ec2, e.ctx
	names := e.net.Names()

	vpc := must[*ec2.CreateVpcOutput](t)(c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})).Vpc
	vpcID := aws.ToString(vpc.VpcId)
	subA := aws.ToString(must[*ec2.CreateSubnetOutput](t)(c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: &vpcID, CidrBlock: aws.String("10.0.1.0/24")})).Subnet.SubnetId)
	subB := aws.ToString(must[*ec2.CreateSubnetOutput](t)(c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: &vpcID, CidrBlock: aws.String("10.0.2.0/24")})).Subnet.SubnetId)
	igw := aws.ToString(must[*ec2.CreateInternetGatewayOutput](t)(c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})).InternetGateway.InternetGatewayId)
	must[*ec2.AttachInternetGatewayOutput](t)(c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &vpcID}))
	rtb := aws.ToString(must[*ec2.CreateRouteTableOutput](t)(c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: &vpcID})).RouteTable.RouteTableId)
	must[*ec2.CreateRouteOutput](t)(c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &rtb, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: &igw}))
	rtbAssoc := aws.ToString(must[*ec2.AssociateRouteTableOutput](t)(c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: &rtb, SubnetId: &subA})).AssociationId)
	web := aws.ToString(must[*ec2.CreateSecurityGroupOutput](t)(c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: &vpcID,
		GroupName: aws.String("web"), Description: aws.String("web")})).GroupId)
	defSG := aws.ToString(must[*ec2.DescribeSecurityGroupsOutput](t)(c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{vpcID}}, {Name: aws.String("group-name"), Values: []string{"default"}}}})).SecurityGroups[0].GroupId)
	defACL := aws.ToString(must[*ec2.DescribeNetworkAclsOutput](t)(c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{vpcID}}, {Name: aws.String("default"), Values: []string{"true"}}}})).NetworkAcls[0].NetworkAclId)

	// ENIs: A (web server) in the public subnet in default + web, B in the
	// private subnet in default.
	eniA := must[*ec2.CreateNetworkInterfaceOutput](t)(c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: &subA,
		Groups: []string{defSG, web}, PrivateIpAddress: aws.String("10.0.1.10")})).NetworkInterface
	eniB := must[*ec2.CreateNetworkInterfaceOutput](t)(c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: &subB,
		PrivateIpAddress: aws.String("10.0.2.20")})).NetworkInterface
	eip := must[*ec2.AllocateAddressOutput](t)(c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc}))
	eipAssoc := aws.ToString(must[*ec2.AssociateAddressOutput](t)(c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: eip.AllocationId,
		NetworkInterfaceId: eniA.NetworkInterfaceId})).AssociationId)
	public := aws.ToString(eip.PublicIp)
	if !netip.MustParsePrefix("198.18.0.0/15").Contains(netip.MustParseAddr(public)) {
		t.Fatalf("EIP %s outside 198.18.0.0/15", public)
	}

	// The controller builds the VPC; then plug the ENIs in as the runtime
	// would (namespaces named after the ENIs: they have no instance).
	if err := e.ctl.Sync(ctx); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	router := vpcnet.NamespacePath(names.RouterNamespace(vpcID))
	if !exists(router) {
		t.Fatalf("no router namespace %s after Sync", router)
	}
	plug := func(eni *types.NetworkInterface) string {
		t.Helper()
		id := aws.ToString(eni.NetworkInterfaceId)
		path, err := e.net.CreateInstanceNamespace(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		mac, err := net.ParseMAC(aws.ToString(eni.MacAddress))
		if err != nil {
			t.Fatal(err)
		}
		err = e.net.AttachENI(ctx, vpcnet.ENI{ID: id, VPCID: vpcID, SubnetID: aws.ToString(eni.SubnetId), MAC: mac,
			IP: netip.MustParseAddr(aws.ToString(eni.PrivateIpAddress)), DeviceIndex: 0}, path)
		if err != nil {
			t.Fatal(err)
		}
		return path
	}
	nsA, nsB := plug(eniA), plug(eniB)
	t.Cleanup(func() {
		for _, eni := range []*types.NetworkInterface{eniA, eniB} {
			_ = e.net.DeleteInstanceNamespace(context.Background(), aws.ToString(eni.NetworkInterfaceId))
		}
	})
	e.ctl.Trigger()
	table := e.fw.ENITable("eth0")
	for _, ns := range []string{nsA, nsB} {
		waitFor(t, 3*time.Second, "security groups in "+ns, func() bool {
			ts, err := e.fw.Tables(ns)
			return err == nil && slices.Contains(ts, table)
		})
	}

	serve(t, nsA, "0.0.0.0:80", "A")
	fromB := dialer{nsPath: nsB}
	fromHost := dialer{bindDev: names.Gateway(vpcID)}
	atA := "10.0.1.10:80"
	atEIP := net.JoinHostPort(public, "80")

	// (a) Between subnets: the default group admits its members, the
	// default network ACL everything.
	eventually(t, fromB, atA, "A", true, okTimeout, "B → A (default SG, default ACL)")

	// (b) The host reaches A on its EIP only once web admits port 80.
	stays(t, fromHost, atEIP, "host → EIP before any rule for port 80")
	perm := []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}
	must[*ec2.AuthorizeSecurityGroupIngressOutput](t)(c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: &web, IpPermissions: perm}))
	took := eventually(t, fromHost, atEIP, "A", true, time.Second, "host → EIP after authorizing port 80")
	t.Logf("host → EIP reachable %v after AuthorizeSecurityGroupIngress", took)

	// (c) A deny numbered below the default allow blocks the routed
	// traffic into the subnet; removing it restores it.
	must[*ec2.CreateNetworkAclEntryOutput](t)(c.CreateNetworkAclEntry(ctx, &ec2.CreateNetworkAclEntryInput{NetworkAclId: &defACL, RuleNumber: aws.Int32(50),
		Egress: aws.Bool(false), Protocol: aws.String("6"), RuleAction: types.RuleActionDeny, CidrBlock: aws.String("0.0.0.0/0"),
		PortRange: &types.PortRange{From: aws.Int32(80), To: aws.Int32(80)}}))
	eventually(t, fromHost, atEIP, "", false, time.Second, "host → EIP with ACL deny 50")
	stays(t, fromB, atA, "B → A with ACL deny 50")
	must[*ec2.DeleteNetworkAclEntryOutput](t)(c.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: &defACL, RuleNumber: aws.Int32(50), Egress: aws.Bool(false)}))
	eventually(t, fromHost, atEIP, "A", true, time.Second, "host → EIP after deleting the ACL entry")
	eventually(t, fromB, atA, "A", true, time.Second, "B → A after deleting the ACL entry")

	// (b, continued) Revoking the rule blocks new connections again.
	must[*ec2.RevokeSecurityGroupIngressOutput](t)(c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: &web, IpPermissions: perm}))
	eventually(t, fromHost, atEIP, "", false, time.Second, "host → EIP after revoking port 80")
	stays(t, fromHost, atEIP, "host → EIP after revoking port 80")
	eventually(t, fromB, atA, "A", true, time.Second, "B → A after the revoke (default SG)")

	// B leaves the default group for web (which admits nobody): A's
	// default group no longer has B as a member.
	must[*ec2.ModifyNetworkInterfaceAttributeOutput](t)(c.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{
		NetworkInterfaceId: eniB.NetworkInterfaceId, Groups: []string{web}}))
	eventually(t, fromB, atA, "", false, time.Second, "B → A once B left the default group")

	st := e.ctl.Status()
	if st["lastError"] != nil || !slices.Contains(st["vpcs"].([]string), vpcID) || st["enis"].(int) < 2 {
		t.Fatalf("Status: %v", st)
	}

	// (d) Deleting the VPC's resources removes its network.
	must[*ec2.DisassociateAddressOutput](t)(c.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: &eipAssoc}))
	must[*ec2.ReleaseAddressOutput](t)(c.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: eip.AllocationId}))
	for _, eni := range []*types.NetworkInterface{eniA, eniB} {
		must[*ec2.DeleteNetworkInterfaceOutput](t)(c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: eni.NetworkInterfaceId}))
	}
	// ENIs gone: their rulesets leave the namespaces still there.
	for _, ns := range []string{nsA, nsB} {
		waitFor(t, 3*time.Second, "security groups removed from "+ns, func() bool {
			ts, err := e.fw.Tables(ns)
			return err == nil && len(ts) == 0
		})
	}
	must[*ec2.DisassociateRouteTableOutput](t)(c.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: &rtbAssoc}))
	must[*ec2.DeleteRouteTableOutput](t)(c.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: &rtb}))
	must[*ec2.DeleteSubnetOutput](t)(c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: &subB}))
	// The subnet's bridge goes (and B's veth with it).
	bridgeB := names.Bridge(subB)
	waitFor(t, 3*time.Second, "bridge of "+subB+" removed", func() bool {
		return !strings.Contains(ipIn(t, names.RouterNamespace(vpcID), "-o", "link"), bridgeB)
	})
	must[*ec2.DeleteSubnetOutput](t)(c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: &subA}))
	must[*ec2.DetachInternetGatewayOutput](t)(c.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &vpcID}))
	gw := names.Gateway(vpcID)
	waitFor(t, 3*time.Second, "internet gateway link "+gw+" removed", func() bool {
		return !strings.Contains(ip(t, "-o", "link"), gw)
	})
	must[*ec2.DeleteInternetGatewayOutput](t)(c.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: &igw}))
	must[*ec2.DeleteSecurityGroupOutput](t)(c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: &web}))
	must[*ec2.DeleteVpcOutput](t)(c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: &vpcID}))
	waitFor(t, 3*time.Second, "router namespace "+router+" removed", func() bool { return !exists(router) })
	if strings.Contains(ip(t, "-4", "route", "show", "table", "all"), public) {
		t.Errorf("host route to %s left behind", public)
	}
	if err := e.ctl.Sync(ctx); err != nil {
		t.Fatalf("Sync after deletion: %v", err)
	}
	if st := e.ctl.Status(); slices.Contains(st["vpcs"].([]string), vpcID) || st["lastError"] != nil {
		t.Fatalf("Status after deletion: %v", st)
	}
}

// TestControllerRestartAndReset checks a new controller converges from an
// unknown kernel state: it keeps (without rebuilding) the router of a VPC
// that is still desired, deletes the router of a VPC deleted while no
// controller ran, and a store Reset removes every VPC's network.
func TestControllerRestartAndReset(t *testing.T) {
	e := newEnv(t)
	c, ctx := e.ec2, e.ctx
	names := e.net.Names()
	keep := aws.ToString(must[*ec2.CreateVpcOutput](t)(c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})).Vpc.VpcId)
	gone := aws.ToString(must[*ec2.CreateVpcOutput](t)(c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})).Vpc.VpcId)
	if err := e.ctl.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	keepPath, gonePath := vpcnet.NamespacePath(names.RouterNamespace(keep)), vpcnet.NamespacePath(names.RouterNamespace(gone))
	inode := func(p string) uint64 {
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil {
			t.Fatalf("stat %s: %v", p, err)
		}
		return st.Ino
	}
	before := inode(keepPath)
	if !exists(gonePath) {
		t.Fatalf("no router for %s", gone)
	}

	stop, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := e.ctl.Stop(stop); err != nil {
		t.Fatal(err)
	}
	must[*ec2.DeleteVpcOutput](t)(c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: &gone}))
	time.Sleep(3 * netctl.Debounce) // nobody listens: the router stays
	if !exists(gonePath) {
		t.Fatal("router deleted while no controller ran")
	}

	ctl := netctl.New(e.srv.EC2(), e.srv.EC2().Store(), e.net, e.fw, nil)
	if err := ctl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ctl.Stop(context.Background()) })
	if err := ctl.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if exists(gonePath) {
		t.Error("leftover router of a deleted VPC survived the first pass")
	}
	if after := inode(keepPath); after != before {
		t.Errorf("router of %s rebuilt (inode %d → %d)", keep, before, after)
	}

	if err := e.srv.EC2().Store().Reset(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, "every router gone after Reset", func() bool {
		left, err := vpcnet.Namespaces(names.RouterNamespace(""))
		return err == nil && len(left) == 0
	})
	// The routers go during a pass; its status is written when it ends.
	if err := ctl.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if st := ctl.Status(); len(st["vpcs"].([]string)) != 0 || st["lastError"] != nil {
		t.Errorf("Status after Reset: %v", st)
	}
}

// TestControllerMovesPublicIPBetweenVPCs re-associates an Elastic IP with
// an ENI of another VPC and back: each move must converge in the first
// pass after it, whichever VPC sorts first (the losing VPC must unmap the
// address before the gaining one can route it).
func TestControllerMovesPublicIPBetweenVPCs(t *testing.T) {
	e := newEnv(t)
	c, ctx := e.ec2, e.ctx
	var vpcIDs, enis []string
	for range 2 {
		vpcID := aws.ToString(must[*ec2.CreateVpcOutput](t)(c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})).Vpc.VpcId)
		sub := aws.ToString(must[*ec2.CreateSubnetOutput](t)(c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: &vpcID, CidrBlock: aws.String("10.0.1.0/24")})).Subnet.SubnetId)
		igw := aws.ToString(must[*ec2.CreateInternetGatewayOutput](t)(c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})).InternetGateway.InternetGatewayId)
		must[*ec2.AttachInternetGatewayOutput](t)(c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &vpcID}))
		eni := must[*ec2.CreateNetworkInterfaceOutput](t)(c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: &sub,
			PrivateIpAddress: aws.String("10.0.1.10")})).NetworkInterface
		vpcIDs, enis = append(vpcIDs, vpcID), append(enis, aws.ToString(eni.NetworkInterfaceId))
	}
	eip := must[*ec2.AllocateAddressOutput](t)(c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc}))
	public := aws.ToString(eip.PublicIp)
	for _, i := range []int{0, 1, 0} {
		must[*ec2.AssociateAddressOutput](t)(c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: eip.AllocationId,
			NetworkInterfaceId: &enis[i], AllowReassociation: aws.Bool(true)}))
		if err := e.ctl.Sync(ctx); err != nil {
			t.Fatalf("Sync after moving %s to %s: %v", public, vpcIDs[i], err)
		}
		gw := e.net.Names().Gateway(vpcIDs[i])
		if r := ip(t, "-4", "route", "show", public+"/32"); !strings.Contains(r, "dev "+gw) {
			t.Fatalf("host route of %s after moving it to %s: %q, want dev %s", public, vpcIDs[i], r, gw)
		}
	}
}
