// Package prototype_test runs examples/01-prototype end to end against the
// real minicloud binary with its data plane (root, as CI runs): the AWS CLI
// and boto3 scripts build Route 53 → Elastic IP → EC2 → RDS, the site is
// reached by name through minicloud's DNS, its visits go through PostgreSQL
// in the VPC, and the teardown leaves nothing behind.
package prototype_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/vishvananda/netlink"
)

const (
	siteURL = "http://app.example.test/"
	cliV2   = "/usr/bin/aws"
)

// exampleDir is examples/01-prototype, relative to this package.
var exampleDir, _ = filepath.Abs("../../examples/01-prototype")

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the prototype test needs root (the data plane: namespaces, overlayfs, nftables); CI runs it as root")
	}
	if _, err := os.Stat(cliV2); err != nil {
		t.Fatalf("AWS CLI v2 %s: %v (install Debian's awscli)", cliV2, err)
	}
}

// imageDir is where the scripts build the app: the directory of the AMI
// they register (minicloud reads it on the host; the instance sees it as a
// layer over the built-in image).
func imageDir(t *testing.T) string { return filepath.Join(t.TempDir(), "image") }

// TestPrototypeCLI builds the prototype with provision.sh (AWS CLI v2) and
// checks what the issue promises: every resource ready, the name resolving
// to the Elastic IP, visits counted in RDS, the instance as a single point
// of failure, the database closed to everything but SG web, the data
// surviving a restart of minicloud, and a teardown that leaves nothing.
func TestPrototypeCLI(t *testing.T) {
	requireRoot(t)
	start := time.Now()
	stateDir := t.TempDir()
	img := imageDir(t)
	mc := startMinicloud(t, stateDir)
	out := runScript(t, mc, img, "./provision.sh")
	o := outputs(t, out)
	c := mc.clients()
	checkReady(t, c, o)
	checkDiagram(t, mc, o)

	// The name resolves through minicloud's DNS to the Elastic IP, and the
	// page counts visits: the second GET sees the first one's row.
	if ips, err := resolveA(mc.DNS, "app.example.test"); err != nil || !slices.Equal(ips, []string{o["EIP"]}) {
		t.Fatalf("app.example.test resolves to %v (%v), want [%s]", ips, err, o["EIP"])
	}
	site := siteClient(mc.DNS)
	n1, err := waitVisit(site, siteURL, 30*time.Second)
	if err != nil {
		t.Fatalf("the site never answered: %v\n%s", err, consoleOf(t, c, o["INSTANCE"]))
	}
	n2, err := visit(site, siteURL)
	if err != nil || n2 != n1+1 {
		t.Fatalf("second visit: count %d (%v), want %d", n2, err, n1+1)
	}

	checkDBIsolated(t, c, o)

	// The single point of failure: one instance serves the site.
	ctx := t.Context()
	if _, err := c.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{o["INSTANCE"]}}); err != nil {
		t.Fatal(err)
	}
	waitInstance(t, c, o["INSTANCE"], types.InstanceStateNameStopped)
	for range 3 {
		if n, err := visit(site, siteURL); err == nil {
			t.Fatalf("the site still answers (%d visits) with its only instance stopped", n)
		}
	}
	if ips, err := resolveA(mc.DNS, "app.example.test"); err != nil || !slices.Equal(ips, []string{o["EIP"]}) {
		t.Fatalf("with the instance stopped app.example.test resolves to %v (%v), want the same Elastic IP %s", ips, err, o["EIP"])
	}
	if _, err := c.ec2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{o["INSTANCE"]}}); err != nil {
		t.Fatal(err)
	}
	waitInstance(t, c, o["INSTANCE"], types.InstanceStateNameRunning)
	n3, err := waitVisit(site, siteURL, 30*time.Second)
	if err != nil || n3 != n2+1 {
		t.Fatalf("after stop/start: count %d (%v), want %d (the data kept in RDS)\n%s", n3, err, n2+1, consoleOf(t, c, o["INSTANCE"]))
	}
	if eip := aws.ToString(instance(t, c, o["INSTANCE"]).PublicIpAddress); eip != o["EIP"] {
		t.Fatalf("after stop/start the instance's public IP is %s, want its Elastic IP %s", eip, o["EIP"])
	}

	// A restart of minicloud: instances and databases come back from the
	// state directory, the site with them.
	mc.stop(t)
	if n, err := visit(site, siteURL); err == nil {
		t.Fatalf("the site answers (%d visits) while minicloud is stopped", n)
	}
	mc = startMinicloud(t, stateDir)
	c = mc.clients()
	site = siteClient(mc.DNS)
	n4, err := waitVisit(site, siteURL, 60*time.Second)
	if err != nil || n4 != n3+1 {
		t.Fatalf("after restarting minicloud: count %d (%v), want %d", n4, err, n3+1)
	}

	runScript(t, mc, img, "./teardown.sh")
	checkTornDown(t, c, stateDir)
	mc.stop(t)
	checkHostClean(t, stateDir)
	t.Logf("provision, checks, restart and teardown with the AWS CLI: %v", time.Since(start).Round(time.Millisecond))
}

// TestPrototypeBoto3 builds the same architecture with provision.py, checks
// that it serves, and tears it down with teardown.py.
func TestPrototypeBoto3(t *testing.T) {
	requireRoot(t)
	start := time.Now()
	stateDir := t.TempDir()
	img := imageDir(t)
	mc := startMinicloud(t, stateDir)
	o := outputs(t, runScript(t, mc, img, "python3", "provision.py"))
	c := mc.clients()
	checkReady(t, c, o)
	checkDiagram(t, mc, o)
	site := siteClient(mc.DNS)
	if n, err := waitVisit(site, siteURL, 30*time.Second); err != nil || n != 1 {
		t.Fatalf("first visit: count %d (%v), want 1\n%s", n, err, consoleOf(t, c, o["INSTANCE"]))
	}
	runScript(t, mc, img, "python3", "teardown.py")
	checkTornDown(t, c, stateDir)
	mc.stop(t)
	checkHostClean(t, stateDir)
	t.Logf("provision, one visit and teardown with boto3: %v", time.Since(start).Round(time.Millisecond))
}

func instance(t *testing.T, c clients, id string) types.Instance {
	t.Helper()
	out, err := c.ec2.DescribeInstances(t.Context(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Reservations[0].Instances[0]
}

func waitInstance(t *testing.T, c clients, id string, want types.InstanceStateName) {
	t.Helper()
	if err := eventually(60*time.Second, func() error {
		if got := instance(t, c, id).State.Name; got != want {
			return fmt.Errorf("instance %s is %s, want %s", id, got, want)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func consoleOf(t *testing.T, c clients, id string) string {
	out, err := c.ec2.GetConsoleOutput(t.Context(), &ec2.GetConsoleOutputInput{InstanceId: aws.String(id)})
	if err != nil {
		return "console: " + err.Error()
	}
	b, _ := base64.StdEncoding.DecodeString(aws.ToString(out.Output))
	return "console of " + id + ":\n" + tail(string(b), 40)
}

// checkReady checks, through the Go SDK, that what the script built is the
// architecture the issue describes and that each piece is in its ready
// state.
func checkReady(t *testing.T, c clients, o map[string]string) {
	t.Helper()
	ctx := t.Context()
	subnets := strings.Split(o["SUBNETS"], ",")
	if len(subnets) != 4 {
		t.Fatalf("SUBNETS=%s, want 4", o["SUBNETS"])
	}
	pub, priv := subnets[:2], subnets[2:]
	sns, err := c.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: subnets})
	if err != nil {
		t.Fatal(err)
	}
	azs := map[string]bool{}
	for _, sn := range sns.Subnets {
		if sn.State != types.SubnetStateAvailable || aws.ToString(sn.VpcId) != o["VPC"] {
			t.Errorf("subnet %s: state %s, VPC %s", aws.ToString(sn.SubnetId), sn.State, aws.ToString(sn.VpcId))
		}
		azs[aws.ToString(sn.AvailabilityZone)] = true
	}
	if len(azs) != 2 {
		t.Errorf("subnets span AZs %v, want 2", azs)
	}
	igws, err := c.ec2.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: []types.Filter{
		{Name: aws.String("attachment.vpc-id"), Values: []string{o["VPC"]}}}})
	if err != nil || len(igws.InternetGateways) != 1 {
		t.Fatalf("internet gateways of %s: %+v (%v)", o["VPC"], igws, err)
	}
	// AWS reports an attached internet gateway as "available".
	if st := igws.InternetGateways[0].Attachments[0].State; st != "available" {
		t.Errorf("internet gateway attachment state %s, want available", st)
	}
	// Public subnets route to the IGW; private ones do not.
	for _, sn := range subnets {
		rts, err := c.ec2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{
			{Name: aws.String("association.subnet-id"), Values: []string{sn}}}})
		if err != nil {
			t.Fatal(err)
		}
		toIGW := false
		for _, rt := range rts.RouteTables {
			for _, r := range rt.Routes {
				toIGW = toIGW || (aws.ToString(r.DestinationCidrBlock) == "0.0.0.0/0" && strings.HasPrefix(aws.ToString(r.GatewayId), "igw-") && r.State == types.RouteStateActive)
			}
		}
		if want := slices.Contains(pub, sn); toIGW != want {
			t.Errorf("subnet %s: active default route to the IGW %v, want %v", sn, toIGW, want)
		}
	}
	acls, err := c.ec2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{NetworkAclIds: []string{o["NACL"]}})
	if err != nil || len(acls.NetworkAcls) != 1 {
		t.Fatalf("network ACL %s: %v", o["NACL"], err)
	}
	var aclSubnets []string
	for _, a := range acls.NetworkAcls[0].Associations {
		aclSubnets = append(aclSubnets, aws.ToString(a.SubnetId))
	}
	slices.Sort(aclSubnets)
	if want := slices.Sorted(slices.Values(pub)); !slices.Equal(aclSubnets, want) {
		t.Errorf("the custom ACL is on %v, want the public subnets %v", aclSubnets, want)
	}
	// Exactly HTTP in, SSH in from one CIDR, ephemeral replies in and out;
	// the "*" deny entries AWS adds to every ACL come last.
	var entries []string
	for _, e := range acls.NetworkAcls[0].Entries {
		if aws.ToInt32(e.RuleNumber) == 32767 {
			continue
		}
		entries = append(entries, fmt.Sprintf("%v %d %s %s %d-%d %s", aws.ToBool(e.Egress), aws.ToInt32(e.RuleNumber),
			e.RuleAction, aws.ToString(e.Protocol), aws.ToInt32(e.PortRange.From), aws.ToInt32(e.PortRange.To), aws.ToString(e.CidrBlock)))
	}
	slices.Sort(entries)
	wantEntries := []string{
		"false 100 allow 6 80-80 0.0.0.0/0", "false 110 allow 6 22-22 203.0.113.10/32", "false 120 allow 6 1024-65535 0.0.0.0/0",
		"true 100 allow 6 1024-65535 0.0.0.0/0",
	}
	if !slices.Equal(entries, wantEntries) {
		t.Errorf("the public subnets' ACL entries are\n%s\nwant\n%s", strings.Join(entries, "\n"), strings.Join(wantEntries, "\n"))
	}
	sgs, err := c.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{o["WEB_SG"], o["DB_SG"]}})
	if err != nil {
		t.Fatal(err)
	}
	for _, sg := range sgs.SecurityGroups {
		if len(sg.IpPermissions) != 1 {
			t.Errorf("SG %s has %d ingress permissions, want 1", aws.ToString(sg.GroupName), len(sg.IpPermissions))
			continue
		}
		p := sg.IpPermissions[0]
		switch aws.ToString(sg.GroupId) {
		case o["WEB_SG"]:
			if aws.ToInt32(p.FromPort) != 80 || len(p.IpRanges) != 1 || aws.ToString(p.IpRanges[0].CidrIp) != "0.0.0.0/0" {
				t.Errorf("SG web ingress %+v, want tcp 80 from 0.0.0.0/0", p)
			}
		case o["DB_SG"]:
			if aws.ToInt32(p.FromPort) != 5432 || len(p.IpRanges) != 0 || len(p.UserIdGroupPairs) != 1 || aws.ToString(p.UserIdGroupPairs[0].GroupId) != o["WEB_SG"] {
				t.Errorf("SG db ingress %+v, want tcp 5432 from SG web only", p)
			}
		}
	}
	dbs, err := c.rds.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("prototype-db")})
	if err != nil {
		t.Fatal(err)
	}
	db := dbs.DBInstances[0]
	var dbSubnets []string
	for _, s := range db.DBSubnetGroup.Subnets {
		dbSubnets = append(dbSubnets, aws.ToString(s.SubnetIdentifier))
	}
	slices.Sort(dbSubnets)
	if aws.ToString(db.DBInstanceStatus) != "available" || aws.ToString(db.Engine) != "postgres" || aws.ToBool(db.PubliclyAccessible) ||
		!slices.Equal(dbSubnets, slices.Sorted(slices.Values(priv))) || len(db.VpcSecurityGroups) != 1 || aws.ToString(db.VpcSecurityGroups[0].VpcSecurityGroupId) != o["DB_SG"] {
		t.Errorf("DB instance: status %s, engine %s, public %v, subnets %v (want %v), groups %+v", aws.ToString(db.DBInstanceStatus),
			aws.ToString(db.Engine), aws.ToBool(db.PubliclyAccessible), dbSubnets, priv, db.VpcSecurityGroups)
	}
	if got := fmt.Sprintf("%s:%d", aws.ToString(db.Endpoint.Address), aws.ToInt32(db.Endpoint.Port)); got != o["DB_ENDPOINT"] {
		t.Errorf("the app was configured with %s, the DB's endpoint is %s", o["DB_ENDPOINT"], got)
	}
	inst := instance(t, c, o["INSTANCE"])
	if inst.State.Name != types.InstanceStateNameRunning || aws.ToString(inst.SubnetId) != pub[0] || len(inst.SecurityGroups) != 1 ||
		aws.ToString(inst.SecurityGroups[0].GroupId) != o["WEB_SG"] || aws.ToString(inst.PublicIpAddress) != o["EIP"] {
		t.Errorf("instance %s: %s in %s, groups %+v, public IP %s (want running in %s, web, %s)", o["INSTANCE"], inst.State.Name,
			aws.ToString(inst.SubnetId), inst.SecurityGroups, aws.ToString(inst.PublicIpAddress), pub[0], o["EIP"])
	}
	addrs, err := c.ec2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{PublicIps: []string{o["EIP"]}})
	if err != nil || len(addrs.Addresses) != 1 || aws.ToString(addrs.Addresses[0].InstanceId) != o["INSTANCE"] {
		t.Errorf("Elastic IP %s: %+v (%v), want associated with %s", o["EIP"], addrs, err, o["INSTANCE"])
	}
	rrs, err := c.r53.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(o["ZONE"])})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, rr := range rrs.ResourceRecordSets {
		if aws.ToString(rr.Name) == "app.example.test." && rr.Type == "A" && len(rr.ResourceRecords) == 1 && aws.ToString(rr.ResourceRecords[0].Value) == o["EIP"] {
			found = true
		}
	}
	if !found {
		t.Errorf("zone %s has no app.example.test A %s: %+v", o["ZONE"], o["EIP"], rrs.ResourceRecordSets)
	}
	if t.Failed() {
		t.FailNow()
	}
}

// checkDiagram checks that `minicloud diagram` draws the live architecture:
// the name to the Elastic IP, the Elastic IP to the instance, the instance
// to the database its security group lets it reach, in their subnets.
func checkDiagram(t *testing.T, mc *minicloud, o map[string]string) {
	t.Helper()
	out, err := execOut(binPath, "diagram", "--endpoint", mc.URL, "--account", "000000000000", "--region", "us-east-1")
	if err != nil {
		t.Fatalf("minicloud diagram: %v\n%s", err, out)
	}
	t.Logf("minicloud diagram:\n%s", out)
	id := func(kind, awsID string) string {
		return kind + "_" + strings.NewReplacer("-", "_", ".", "_").Replace(awsID)
	}
	var eipAlloc string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, `["Elastic IP `+o["EIP"]+`"]`) {
			eipAlloc = strings.TrimSpace(l[:strings.Index(l, "[")])
		}
	}
	subnets := strings.Split(o["SUBNETS"], ",")
	for _, want := range []string{
		`Route53 -- "DNS Resolution: app.example.test" --> ` + eipAlloc,
		eipAlloc + ` -- "1:1 NAT at igw-`,
		`--> ` + id("i", o["INSTANCE"]),
		`subgraph ` + id("subnet", subnets[0]) + ` ["public subnet 10.0.0.0/24 prototype-public-a · NACL ` + o["NACL"] + `"]`,
		id("i", o["INSTANCE"]) + `["EC2 prototype-web ` + o["INSTANCE"] + ` (running) 10.0.0.`,
		`db_prototype_db[("RDS prototype-db postgres (available)")]`,
		id("i", o["INSTANCE"]) + ` <-->|"tcp 5432, SG db ← web"| db_prototype_db`,
		`["AZ us-east-1a"]`, `["AZ us-east-1b"]`,
	} {
		if eipAlloc == "" || !strings.Contains(out, want) {
			t.Errorf("the diagram lacks %q", want)
		}
	}
}

// tcpProbeUserData serves GET / on ports 80 and 443 (only 80 passes the
// public subnets' ACL): it resolves host through the VPC's resolver and
// answers "ok IP" when a TCP connection to IP:port opens within 800 ms,
// else "fail IP error".
func tcpProbeUserData(host string, port int) string {
	py := fmt.Sprintf(`import http.server, socket
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ip = "?"
        try:
            ip = socket.gethostbyname(%q)
            socket.create_connection((ip, %d), timeout=0.8).close()
            b = "ok " + ip
        except Exception as e:
            b = "fail " + ip + " " + repr(e)
        b = b.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
import threading
threading.Thread(target=http.server.ThreadingHTTPServer(("0.0.0.0", 443), H).serve_forever, daemon=True).start()
http.server.ThreadingHTTPServer(("0.0.0.0", 80), H).serve_forever()
`, host, port)
	return "#!/bin/sh\nnohup python3 -c '" + py + "' >/var/tmp/probe.log 2>&1 &\n"
}

// checkDBIsolated checks that the database answers only SG web: the host
// has no path to its private address (and it has no public one), and an
// instance outside SG web, in the same VPC and resolving the same name,
// cannot connect — until it joins SG web.
func checkDBIsolated(t *testing.T, c clients, o map[string]string) {
	t.Helper()
	ctx := t.Context()
	enis, err := c.ec2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{o["VPC"]}}, {Name: aws.String("description"), Values: []string{"RDSNetworkInterface"}}}})
	if err != nil || len(enis.NetworkInterfaces) != 1 {
		t.Fatalf("the DB's network interface: %v (%v)", enis, err)
	}
	eni := enis.NetworkInterfaces[0]
	dbIP := net.ParseIP(aws.ToString(eni.PrivateIpAddress))
	if eni.Association != nil {
		t.Errorf("the DB's interface has a public IP %s", aws.ToString(eni.Association.PublicIp))
	}
	// The host reaches the VPC only through the public range: no route of
	// the host's covers the DB's private address except a default route
	// (which leads out of this machine, never into a VPC). No packet is
	// sent there: it would leave the host.
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		if r.Dst != nil && r.Dst.Contains(dbIP) && !r.Dst.IP.IsUnspecified() {
			t.Errorf("the host has a route to the DB's private address %s: %s", dbIP, r)
		}
	}
	host, _, _ := strings.Cut(o["DB_ENDPOINT"], ":")

	vpcProbe, err := c.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("probe"),
		Description: aws.String("test probe outside web"), VpcId: aws.String(o["VPC"])})
	if err != nil {
		t.Fatal(err)
	}
	probeSG := aws.ToString(vpcProbe.GroupId)
	if _, err := c.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(probeSG),
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80),
			IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}}); err != nil {
		t.Fatal(err)
	}
	imgs, err := c.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"},
		Filters: []types.Filter{{Name: aws.String("name"), Values: []string{"al2023-ami-2023*-x86_64"}}}})
	if err != nil || len(imgs.Images) == 0 {
		t.Fatalf("AL2023 image: %v", err)
	}
	subnets := strings.Split(o["SUBNETS"], ",")
	run, err := c.ec2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: imgs.Images[0].ImageId, InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(subnets[1]), SecurityGroupIds: []string{probeSG},
		UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(tcpProbeUserData(host, 5432))))})
	if err != nil {
		t.Fatal(err)
	}
	probeID := aws.ToString(run.Instances[0].InstanceId)
	waitInstance(t, c, probeID, types.InstanceStateNameRunning)
	alloc, err := c.ec2.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	if err != nil {
		t.Fatal(err)
	}
	assoc, err := c.ec2.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: alloc.AllocationId, InstanceId: aws.String(probeID)})
	if err != nil {
		t.Fatal(err)
	}
	probeURL := "http://" + aws.ToString(alloc.PublicIp) + "/"
	// The probe's own security group also admits 443, its server listens
	// there too, and yet the subnet's ACL drops it: the stateless layer in
	// front of the stateful one. (A port above 1023 would pass: the entry
	// for ephemeral replies admits new connections to those ports as well,
	// as in AWS.)
	if _, err := c.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(probeSG),
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
			IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}}); err != nil {
		t.Fatal(err)
	}
	plain := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	ask := func(want string) error {
		return eventually(30*time.Second, func() error {
			resp, err := plain.Get(probeURL)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			b := make([]byte, 512)
			n, _ := resp.Body.Read(b)
			if got := string(b[:n]); !strings.HasPrefix(got, want+" "+dbIP.String()) {
				return fmt.Errorf("probe instance outside SG web, connecting to %s (%s):5432: %s, want %s", host, dbIP, got, want)
			}
			return nil
		})
	}
	if err := ask("fail"); err != nil {
		t.Error(err)
	}
	// Port 80 answered just now; 443 must not — until an ACL entry admits
	// it, which shows the server was there all along.
	on443 := func() error {
		resp, err := plain.Get("http://" + aws.ToString(alloc.PublicIp) + ":443/")
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := on443(); err == nil {
		t.Errorf("port 443 of an instance in a public subnet answered though the ACL admits only 80, 22 and ephemeral ports")
	}
	entry443 := &ec2.CreateNetworkAclEntryInput{NetworkAclId: aws.String(o["NACL"]), Egress: aws.Bool(false), RuleNumber: aws.Int32(130),
		Protocol: aws.String("6"), PortRange: &types.PortRange{From: aws.Int32(443), To: aws.Int32(443)},
		CidrBlock: aws.String("0.0.0.0/0"), RuleAction: types.RuleActionAllow}
	if _, err := c.ec2.CreateNetworkAclEntry(ctx, entry443); err != nil {
		t.Fatal(err)
	}
	if err := eventually(10*time.Second, on443); err != nil {
		t.Errorf("port 443 with an ACL entry for it: %v", err)
	}
	if _, err := c.ec2.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: aws.String(o["NACL"]),
		Egress: aws.Bool(false), RuleNumber: aws.Int32(130)}); err != nil {
		t.Fatal(err)
	}
	// The same instance in SG web connects: the refusal above was the
	// security group's.
	if _, err := c.ec2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(probeID),
		Groups: []string{probeSG, o["WEB_SG"]}}); err != nil {
		t.Fatal(err)
	}
	if err := ask("ok"); err != nil {
		t.Error(err)
	}

	// The probe goes, so the architecture is again what the script built.
	if _, err := c.ec2.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: assoc.AssociationId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ec2.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: alloc.AllocationId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{probeID}}); err != nil {
		t.Fatal(err)
	}
	waitInstance(t, c, probeID, types.InstanceStateNameTerminated)
	if err := eventually(30*time.Second, func() error {
		_, err := c.ec2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(probeSG)})
		return err
	}); err != nil {
		t.Fatalf("delete the probe's security group: %v", err)
	}
	if t.Failed() {
		t.FailNow()
	}
}

// checkTornDown checks through the API that the account is back to a fresh
// one's: only the default VPC and its default security group, no
// instances, addresses, databases, subnet groups or hosted zones — and
// that on the host only the default VPC's router namespace remains.
func checkTornDown(t *testing.T, c clients, stateDir string) {
	t.Helper()
	ctx := t.Context()
	vpcs, err := c.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vpcs.Vpcs {
		if !aws.ToBool(v.IsDefault) {
			t.Errorf("VPC %s left", aws.ToString(v.VpcId))
		}
	}
	insts, err := c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped", "shutting-down"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(insts.Reservations) != 0 {
		t.Errorf("instances left: %+v", insts.Reservations)
	}
	addrs, err := c.ec2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{})
	if err != nil || len(addrs.Addresses) != 0 {
		t.Errorf("addresses left: %+v (%v)", addrs, err)
	}
	sgs, err := c.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, sg := range sgs.SecurityGroups {
		if aws.ToString(sg.GroupName) != "default" {
			t.Errorf("security group %s (%s) left", aws.ToString(sg.GroupName), aws.ToString(sg.GroupId))
		}
	}
	enis, err := c.ec2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{})
	if err != nil || len(enis.NetworkInterfaces) != 0 {
		t.Errorf("network interfaces left: %+v (%v)", enis, err)
	}
	dbs, err := c.rds.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
	if err != nil || len(dbs.DBInstances) != 0 {
		t.Errorf("DB instances left: %+v (%v)", dbs, err)
	}
	groups, err := c.rds.DescribeDBSubnetGroups(ctx, &rds.DescribeDBSubnetGroupsInput{})
	if err != nil || len(groups.DBSubnetGroups) != 0 {
		t.Errorf("DB subnet groups left: %+v (%v)", groups, err)
	}
	zones, err := c.r53.ListHostedZones(ctx, &route53.ListHostedZonesInput{})
	if err != nil || len(zones.HostedZones) != 0 {
		t.Errorf("hosted zones left: %+v (%v)", zones, err)
	}
	var defaultVPC string
	for _, v := range vpcs.Vpcs {
		defaultVPC = aws.ToString(v.VpcId)
	}
	if err := eventually(10*time.Second, func() error {
		ns, _, _, _, err := hostObjects(stateDir)
		if err != nil {
			return err
		}
		for _, n := range ns {
			if defaultVPC == "" || !strings.HasSuffix(n, "-r-"+defaultVPC) {
				return fmt.Errorf("namespaces left after the teardown: %v (the default VPC is %q)", ns, defaultVPC)
			}
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
}

// checkHostClean checks, once minicloud has stopped and its leftovers for
// the next start are removed as a user would (minicloud cleanup), that no
// namespace, link, route, guard of the public range or process of this
// minicloud remains.
func checkHostClean(t *testing.T, stateDir string) {
	t.Helper()
	// A clean stop ends every instance and database: none of their
	// namespaces (instances' and ENIs', "<prefix>-i-…") may be left. The
	// VPC routers a durable minicloud keeps for its next start are what
	// cleanup is for.
	ns, _, _, _, err := hostObjects(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		if strings.Contains(n, "-i-") {
			t.Errorf("an instance's or interface's namespace outlived minicloud's stop: %s", n)
		}
	}
	if out, err := execOut(binPath, "cleanup", "--state-dir", stateDir, "--public-cidr", publicCIDR); err != nil {
		t.Fatalf("minicloud cleanup: %v\n%s", err, out)
	}
	ns, links, routes, guards, err := hostObjects(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ns)+len(links)+len(routes)+len(guards) != 0 {
		t.Errorf("left on the host: namespaces %v, links %v, routes %v, guard %v", ns, links, routes, guards)
	}
	if ps := processesOf(binPath, stateDir); len(ps) != 0 {
		t.Errorf("processes left: %v", ps)
	}
}

// TestProvisionRefusesRelativeImageDir checks that both provisioning
// scripts refuse a relative IMAGE_DIR (RegisterImage takes an absolute
// path) before they build anything or call the API (the endpoint here is a
// closed loopback port).
func TestProvisionRefusesRelativeImageDir(t *testing.T) {
	for _, script := range [][]string{{"bash", "./provision.sh"}, {"python3", "provision.py"}} {
		cmd := exec.Command(script[0], script[1:]...)
		cmd.Dir = exampleDir
		cmd.Env = scriptEnv([]string{"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1",
			"ENDPOINT=http://127.0.0.1:1", "IMAGE_DIR=relative/image"})
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "IMAGE_DIR must be an absolute path") {
			t.Errorf("%s with a relative IMAGE_DIR: %v\n%s", script[1], err, out)
		}
		if _, err := os.Stat(filepath.Join(exampleDir, "relative")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s built into the relative IMAGE_DIR before refusing it (%v)", script[1], err)
		}
	}
}
