package dataplane_test

// Helpers shared by the network tests: building VPCs, security groups and
// instances through the SDK, and probing the network from the host and
// from inside instances.

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/route53"

	instruntime "github.com/minicloud/minicloud/internal/instance/runtime"
	"github.com/minicloud/minicloud/internal/server"
	"github.com/minicloud/minicloud/internal/vpcnet"
)

// probeServerPy is an HTTP server run by instances: on each port given as
// an argument it serves
//
//	/id             the instance's ID as IMDSv2 reports it
//	/whoami         the client's address as the instance sees it
//	/probe?url=U    fetches U from inside the instance (600 ms timeout) and
//	                answers "ok <body>" or "fail <error>"
//
// so a test can look at the network from inside an instance without
// reading its files.
const probeServerPy = `import http.server, socketserver, sys, threading, urllib.parse, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
def instance_id():
    t = opener.open(urllib.request.Request("http://169.254.169.254/latest/api/token", method="PUT",
        headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"}), timeout=2).read().decode()
    return opener.open(urllib.request.Request("http://169.254.169.254/latest/meta-data/instance-id",
        headers={"X-aws-ec2-metadata-token": t}), timeout=2).read().decode()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        code = 200
        try:
            if u.path == "/id":
                body = instance_id()
            elif u.path == "/whoami":
                body = self.client_address[0]
            elif u.path == "/probe":
                try:
                    body = "ok " + opener.open(q["url"][0], timeout=0.6).read().decode()
                except Exception as e:
                    body = "fail " + repr(e)
            else:
                code, body = 404, "not found"
        except Exception as e:
            code, body = 500, repr(e)
        b = body.encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
class S(http.server.ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True
servers = [S(("0.0.0.0", int(p)), H) for p in sys.argv[1:]]
for s in servers[1:]:
    threading.Thread(target=s.serve_forever, daemon=True).start()
servers[0].serve_forever()
`

// probeUserData is user data starting the probe server on ports.
func probeUserData(ports ...int) string {
	ps := make([]string, len(ports))
	for i, p := range ports {
		ps[i] = fmt.Sprint(p)
	}
	return "#!/bin/sh\ncat > /var/tmp/probe.py <<'EOF'\n" + probeServerPy + "EOF\n" +
		"nohup python3 /var/tmp/probe.py " + strings.Join(ps, " ") + " >/var/tmp/probe.log 2>&1 &\n"
}

// httpClient never uses a proxy: every request goes to a VPC address.
var httpClient = &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}

// fetch GETs u from the host and returns the body of a 200 answer.
func fetch(u string) (string, error) {
	resp, err := httpClient.Get(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("%s: HTTP %d: %s", u, resp.StatusCode, b)
	}
	return strings.TrimSpace(string(b)), err
}

// probe asks the probe server of the instance at public IP from to fetch
// target from inside it; it returns the body fetched, or an error saying
// why the probe or the fetch failed.
func probe(from, target string) (string, error) {
	body, err := fetch("http://" + from + "/probe?url=" + url.QueryEscape(target))
	if err != nil {
		return "", fmt.Errorf("probe server on %s: %w", from, err)
	}
	if rest, ok := strings.CutPrefix(body, "ok "); ok {
		return rest, nil
	}
	return "", fmt.Errorf("from %s to %s: %s", from, target, body)
}

// reaches waits up to d until the instance at public IP from reaches
// target and gets want.
func reaches(from, target, want string, d time.Duration) error {
	return eventually(d, func() error {
		got, err := probe(from, target)
		if err == nil && got != want {
			err = fmt.Errorf("from %s, %s answered %q, want %q", from, target, got, want)
		}
		return err
	})
}

// blocked waits up to d until the instance at public IP from fails to
// reach target (the probe server itself must answer).
func blocked(from, target string, d time.Duration) error {
	return eventually(d, func() error {
		got, err := probe(from, target)
		if err == nil {
			return fmt.Errorf("from %s, %s still answers %q", from, target, got)
		}
		if strings.HasPrefix(err.Error(), "probe server") {
			return err
		}
		return nil
	})
}

func (e *env) image() *string {
	e.t.Helper()
	images, err := e.ec2.DescribeImages(e.ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"},
		Filters: []types.Filter{{Name: aws.String("name"), Values: []string{"al2023-ami-2023*-x86_64"}}}})
	if err != nil || len(images.Images) == 0 {
		e.t.Fatalf("no AL2023 image: %v", err)
	}
	return images.Images[0].ImageId
}

// vpc is a VPC built by newVPC.
type vpc struct {
	id, igw, mainRTB string
	subnets, cidrs   []string
}

// newVPC creates a VPC with one subnet per CIDR (in AZs a, b, …), an
// internet gateway, and a default route to it in the main route table.
func (e *env) newVPC(cidr string, subnetCIDRs ...string) vpc {
	e.t.Helper()
	ctx := e.ctx
	v, err := e.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(cidr)})
	if err != nil {
		e.t.Fatal(err)
	}
	out := vpc{id: aws.ToString(v.Vpc.VpcId)}
	for i, c := range subnetCIDRs {
		sn, err := e.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: v.Vpc.VpcId, CidrBlock: aws.String(c),
			AvailabilityZone: aws.String("us-east-1" + string(rune('a'+i)))})
		if err != nil {
			e.t.Fatal(err)
		}
		out.subnets = append(out.subnets, aws.ToString(sn.Subnet.SubnetId))
		out.cidrs = append(out.cidrs, c)
	}
	igw, err := e.ec2.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	if err != nil {
		e.t.Fatal(err)
	}
	out.igw = aws.ToString(igw.InternetGateway.InternetGatewayId)
	if _, err := e.ec2.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: aws.String(out.igw), VpcId: v.Vpc.VpcId}); err != nil {
		e.t.Fatal(err)
	}
	rtbs, err := e.ec2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{out.id}}, {Name: aws.String("association.main"), Values: []string{"true"}}}})
	if err != nil || len(rtbs.RouteTables) != 1 {
		e.t.Fatalf("main route table of %s: %v", out.id, err)
	}
	out.mainRTB = aws.ToString(rtbs.RouteTables[0].RouteTableId)
	if _, err := e.ec2.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(out.mainRTB),
		DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String(out.igw)}); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// defaultVPC returns the default VPC with its default subnets of
// us-east-1a and us-east-1b (which give instances public IPs).
func (e *env) defaultVPC() vpc {
	e.t.Helper()
	var out vpc
	for _, az := range []string{"us-east-1a", "us-east-1b"} {
		sns, err := e.ec2.DescribeSubnets(e.ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{
			{Name: aws.String("default-for-az"), Values: []string{"true"}}, {Name: aws.String("availability-zone"), Values: []string{az}}}})
		if err != nil || len(sns.Subnets) != 1 {
			e.t.Fatalf("default subnet of %s: %v", az, err)
		}
		sn := sns.Subnets[0]
		if !aws.ToBool(sn.MapPublicIpOnLaunch) {
			e.t.Fatalf("default subnet %s does not map public IPs on launch", aws.ToString(sn.SubnetId))
		}
		out.id = aws.ToString(sn.VpcId)
		out.subnets = append(out.subnets, aws.ToString(sn.SubnetId))
		out.cidrs = append(out.cidrs, aws.ToString(sn.CidrBlock))
	}
	return out
}

// tcpFrom is an ingress permission for tcp port from CIDRs.
func tcpFrom(port int32, cidrs ...string) types.IpPermission {
	p := types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(port), ToPort: aws.Int32(port)}
	for _, c := range cidrs {
		p.IpRanges = append(p.IpRanges, types.IpRange{CidrIp: aws.String(c)})
	}
	return p
}

// tcpFromGroup is an ingress permission for tcp port from the members of
// a security group.
func tcpFromGroup(port int32, group string) types.IpPermission {
	return types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(port), ToPort: aws.Int32(port),
		UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(group)}}}
}

// newSG creates a security group in vpcID with ingress permissions (and
// the default egress rule).
func (e *env) newSG(vpcID, name string, ingress ...types.IpPermission) string {
	e.t.Helper()
	sg, err := e.ec2.CreateSecurityGroup(e.ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(name),
		Description: aws.String(name), VpcId: aws.String(vpcID)})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(ingress) > 0 {
		if _, err := e.ec2.AuthorizeSecurityGroupIngress(e.ctx, &ec2.AuthorizeSecurityGroupIngressInput{
			GroupId: sg.GroupId, IpPermissions: ingress}); err != nil {
			e.t.Fatal(err)
		}
	}
	return aws.ToString(sg.GroupId)
}

// launch describes one instance to run.
type launch struct {
	subnet    string
	groups    []string
	privateIP string // "" lets EC2 choose
	userData  string
}

// runAll launches every instance at once, waits until all are running and
// returns them in order.
func (e *env) runAll(image *string, ls ...launch) []types.Instance {
	e.t.Helper()
	ids := make([]string, len(ls))
	for i, l := range ls {
		in := &ec2.RunInstancesInput{ImageId: image, InstanceType: types.InstanceTypeT3Micro,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(l.subnet), SecurityGroupIds: l.groups,
			UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(l.userData)))}
		if l.privateIP != "" {
			in.PrivateIpAddress = aws.String(l.privateIP)
		}
		run, err := e.ec2.RunInstances(e.ctx, in)
		if err != nil {
			e.t.Fatal(err)
		}
		ids[i] = aws.ToString(run.Instances[0].InstanceId)
	}
	out := make([]types.Instance, len(ids))
	for i, id := range ids {
		out[i] = e.waitState(id, types.InstanceStateNameRunning)
	}
	return out
}

// eip allocates an Elastic IP, associates it with the instance and
// returns it.
func (e *env) eip(instanceID string) string {
	e.t.Helper()
	a, err := e.ec2.AllocateAddress(e.ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.ec2.AssociateAddress(e.ctx, &ec2.AssociateAddressInput{AllocationId: a.AllocationId, InstanceId: aws.String(instanceID)}); err != nil {
		e.t.Fatal(err)
	}
	return aws.ToString(a.PublicIp)
}

// waitServing waits until the probe server at public IP answers /id with
// the instance's ID.
func waitServing(publicIP, instanceID string) error {
	return eventually(5*time.Second, func() error {
		got, err := fetch("http://" + publicIP + "/id")
		if err == nil && got != instanceID {
			err = fmt.Errorf("%s/id answered %q, want %s", publicIP, got, instanceID)
		}
		return err
	})
}

// sharedPublicCIDR is the public range of this package's servers that have
// no range of their own: the half of 198.18.0.0/15 outside the /24s of
// 198.19.0.0/16 that other servers (ALB, CloudWatch, RDS metrics, other
// packages) claim, so two servers running at once never route one address.
var sharedPublicCIDR = netip.MustParsePrefix("198.18.0.0/16")

// cleanupStateDir removes what a minicloud on stateDir (with public IPs
// from publicCIDR; the zero prefix for the default) left on the host: a
// minicloud with a state directory keeps its networks and mounts for its
// next start; in a test there is none, so they go as "minicloud cleanup"
// would remove them.
func cleanupStateDir(ctx context.Context, t *testing.T, stateDir string, publicCIDR netip.Prefix) {
	t.Helper()
	if err := instruntime.CleanupMounts(filepath.Join(stateDir, "instances")); err != nil {
		t.Errorf("cleanup mounts: %v", err)
	}
	n, err := vpcnet.New(vpcnet.Config{Prefix: server.Prefix(stateDir), PublicCIDR: publicCIDR})
	if err == nil {
		err = n.Cleanup(ctx)
		n.Close()
	}
	if err != nil {
		t.Errorf("cleanup networks: %v", err)
	}
}

// restartable is a minicloud on a state directory of the test's own that
// the test stops and starts again; at the end what it left on the host is
// removed, as "minicloud cleanup" would.
type restartable struct {
	t   *testing.T
	cfg server.Config
	srv *server.Server
}

// newRestartable is a restartable minicloud of cfg (its StateDir set to a
// temporary directory), not started.
func newRestartable(t *testing.T, cfg server.Config) *restartable {
	cfg.StateDir = t.TempDir()
	r := &restartable{t: t, cfg: cfg}
	t.Cleanup(func() {
		r.stop()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cleanupStateDir(ctx, t, cfg.StateDir, cfg.PublicCIDR)
	})
	return r
}

// start makes and starts the server and returns the SDK configuration
// and clients for it.
func (r *restartable) start() (aws.Config, *env) {
	r.t.Helper()
	var err error
	if r.srv, err = server.New(r.cfg); err != nil {
		r.t.Fatal(err)
	}
	if err := r.srv.Start(); err != nil {
		r.t.Fatal(err)
	}
	ac := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String("http://" + r.srv.Addr())}
	return ac, &env{t: r.t, ctx: context.Background(), ec2: ec2.NewFromConfig(ac), r53: route53.NewFromConfig(ac),
		rds: rds.NewFromConfig(ac), srv: r.srv}
}

// stop closes the server, if it runs.
func (r *restartable) stop() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := r.srv
	r.srv = nil
	if s != nil {
		if err := s.Close(ctx); err != nil {
			r.t.Errorf("close: %v", err)
		}
	}
}
