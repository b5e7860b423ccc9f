package dataplane_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/jackc/pgx/v5"
	"github.com/miekg/dns"

	"github.com/minicloud/minicloud/internal/server"
)

// newEnvDNS is newEnv with minicloud really listening, its DNS server
// included; it returns the DNS server's address.
func newEnvDNS(t *testing.T) (*env, string) {
	return newEnvDNSWith(t, nil)
}

// newEnvDNSWith is newEnvDNS with the server's configuration changed by
// set (nil: as it is).
func newEnvDNSWith(t *testing.T, set func(*server.Config)) (*env, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the data-plane tests need root (network namespaces, overlayfs, nftables); CI runs them as root")
	}
	cfg := server.Config{Ephemeral: true, DataPlane: server.DataPlaneOn, Listen: "127.0.0.1:0", DNSListen: "127.0.0.1:0", PublicCIDR: sharedPublicCIDR}
	if set != nil {
		set(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	if srv.DNSAddr() == "" {
		t.Fatal("minicloud's DNS server is not listening")
	}
	ac := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String("http://" + srv.Addr()),
	}
	return &env{t: t, ctx: context.Background(), ec2: ec2.NewFromConfig(ac), r53: route53.NewFromConfig(ac), rds: rds.NewFromConfig(ac), srv: srv}, srv.DNSAddr()
}

// resolveUserData serves on port 8080, from inside the instance:
//
//	/resolve?name=N         the address the instance's resolver gives N
//	/tcp?host=H&port=P      "ok" when a TCP connection to H:P opens
//
// or "fail <error>".
const resolveUserData = `#!/bin/sh
cat > /var/tmp/resolve.py <<'EOF'
import http.server, socket, urllib.parse
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        try:
            if u.path == "/resolve":
                b = socket.gethostbyname(q["name"][0])
            elif u.path == "/tcp":
                socket.create_connection((q["host"][0], int(q["port"][0])), timeout=2).close()
                b = "ok"
            else:
                b = "fail unknown path"
        except Exception as e:
            b = "fail " + repr(e)
        b = b.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("0.0.0.0", 8080), H).serve_forever()
EOF
nohup python3 /var/tmp/resolve.py >/var/tmp/resolve.log 2>&1 &
`

// dbEndpoint returns a DB instance's endpoint name and port.
func (e *env) dbEndpoint(id string) (string, int) {
	e.t.Helper()
	out, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
	if err != nil {
		e.t.Fatal(err)
	}
	ep := out.DBInstances[0].Endpoint
	if ep == nil || aws.ToString(ep.Address) == "" {
		e.t.Fatalf("DB instance %s has no endpoint", id)
	}
	return aws.ToString(ep.Address), int(aws.ToInt32(ep.Port))
}

// dbENIByIP returns a VPC's RDS network interfaces by private IP.
func (e *env) dbENIByIP(vpcID string) map[string]types.NetworkInterface {
	out := map[string]types.NetworkInterface{}
	for _, n := range e.dbENIs(vpcID) {
		out[aws.ToString(n.PrivateIpAddress)] = n
	}
	return out
}

// askDNS sends one A question to addr and returns the rcode and the
// addresses answered.
func askDNS(t *testing.T, addr, name string) (int, []string) {
	t.Helper()
	m := new(dns.Msg).SetQuestion(dns.Fqdn(name), dns.TypeA)
	r, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, addr)
	if err != nil {
		t.Fatalf("DNS %s: %v", name, err)
	}
	var ips []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			ips = append(ips, a.A.String())
		}
	}
	return r.Rcode, ips
}

// TestRDSEndpointDNS resolves DB instance endpoint names as AWS does: in
// the VPC (the instance's resolver) to the private IP, publicly accessible
// or not; from the host (minicloud's DNS, AWS's public DNS) to the public
// IP of a publicly accessible instance, which the host reaches through the
// VPC's internet gateway and security groups, and to the private IP of
// another. A stopped instance's name has no address; a deleted one's does
// not exist.
func TestRDSEndpointDNS(t *testing.T) {
	e, dnsAddr := newEnvDNS(t)
	ctx := e.ctx
	v := e.newVPC("10.61.0.0/16", "10.61.1.0/24", "10.61.2.0/24")
	web := e.newSG(v.id, "web", tcpFrom(8080, "0.0.0.0/0"))
	privSG := e.newSG(v.id, "db-private", tcpFromGroup(5432, web))
	pubSG := e.newSG(v.id, "db-public", tcpFrom(5432, "0.0.0.0/0"))
	if _, err := e.rds.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("dbs"),
		DBSubnetGroupDescription: aws.String("dbs"), SubnetIds: v.subnets}); err != nil {
		t.Fatal(err)
	}
	create := func(id, sg string, public bool) error {
		_, err := e.rds.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String(id),
			Engine: aws.String("postgres"), DBInstanceClass: aws.String("db.t3.micro"), AllocatedStorage: aws.Int32(20),
			MasterUsername: aws.String("master"), MasterUserPassword: aws.String("secret-password"), DBName: aws.String("app"),
			DBSubnetGroupName: aws.String("dbs"), VpcSecurityGroupIds: []string{sg}, PubliclyAccessible: aws.Bool(public)})
		return err
	}
	// AWS refuses a publicly accessible instance in a VPC without DNS
	// hostnames (CreateVpc leaves them off).
	if err := create("pubdb", pubSG, true); err == nil || !strings.Contains(err.Error(), "InvalidVPCNetworkStateFault") {
		t.Fatalf("publicly accessible DB in a VPC without DNS hostnames: %v, want InvalidVPCNetworkStateFault", err)
	}
	if _, err := e.ec2.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: aws.String(v.id),
		EnableDnsHostnames: &types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	if err := create("pubdb", pubSG, true); err != nil {
		t.Fatal(err)
	}
	if err := create("privdb", privSG, false); err != nil {
		t.Fatal(err)
	}
	insts := e.runAll(e.image(), launch{subnet: v.subnets[1], groups: []string{web}, userData: resolveUserData})
	webIP := e.eip(aws.ToString(insts[0].InstanceId))
	e.waitDB("pubdb", "available", 90*time.Second)
	e.waitDB("privdb", "available", 90*time.Second)
	pubName, port := e.dbEndpoint("pubdb")
	privName, _ := e.dbEndpoint("privdb")
	if !strings.HasSuffix(pubName, ".us-east-1.rds.amazonaws.com") || strings.Split(pubName, ".")[1] != strings.Split(privName, ".")[1] {
		t.Fatalf("endpoints %s and %s: want <id>.<one hash per account and region>.us-east-1.rds.amazonaws.com", pubName, privName)
	}

	// The public instance's ENI shows its Amazon-owned public IP.
	var pubPrivate, pubPublic, privPrivate string
	if err := eventually(30*time.Second, func() error {
		pubPrivate, pubPublic, privPrivate = "", "", ""
		for ip, n := range e.dbENIByIP(v.id) {
			switch {
			case n.Association != nil && aws.ToString(n.Association.PublicIp) != "":
				pubPrivate, pubPublic = ip, aws.ToString(n.Association.PublicIp)
				if owner := aws.ToString(n.Association.IpOwnerId); owner != "amazon" {
					return fmt.Errorf("public IP owner %q, want amazon", owner)
				}
			default:
				privPrivate = ip
			}
		}
		if pubPublic == "" || privPrivate == "" {
			return errors.New("want one RDS interface with a public IP and one without")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !netip.MustParsePrefix("198.18.0.0/15").Contains(netip.MustParseAddr(pubPublic)) {
		t.Fatalf("public IP %s outside 198.18.0.0/15", pubPublic)
	}

	// Inside the VPC: both names resolve to private IPs, and the web
	// instance (allowed by the private DB's group) connects by name.
	ask := func(path string) (string, error) { return fetch("http://" + webIP + ":8080" + path) }
	for name, want := range map[string]string{pubName: pubPrivate, privName: privPrivate} {
		if err := eventually(60*time.Second, func() error {
			got, err := ask("/resolve?name=" + url.QueryEscape(name))
			if err == nil && got != want {
				err = fmt.Errorf("resolved to %q", got)
			}
			return err
		}); err != nil {
			t.Fatalf("the instance resolving %s (want %s): %v", name, want, err)
		}
	}
	if got, err := ask("/tcp?host=" + url.QueryEscape(privName) + "&port=" + strconv.Itoa(port)); err != nil || got != "ok" {
		t.Fatalf("the instance connecting to %s:%d: %q %v", privName, port, got, err)
	}

	// From the host: AWS's public DNS.
	for name, want := range map[string]string{pubName: pubPublic, privName: privPrivate} {
		if rcode, ips := askDNS(t, dnsAddr, name); rcode != dns.RcodeSuccess || len(ips) != 1 || ips[0] != want {
			t.Fatalf("minicloud's DNS: %s is %s %v, want %s", name, dns.RcodeToString[rcode], ips, want)
		}
	}
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, dnsAddr)
	}}
	cfg, err := pgx.ParseConfig(fmt.Sprintf("postgres://master:secret-password@%s:%d/app?sslmode=disable&connect_timeout=3", pubName, port))
	if err != nil {
		t.Fatal(err)
	}
	cfg.LookupFunc = resolver.LookupHost
	var conn *pgx.Conn
	if err := eventually(30*time.Second, func() error {
		var err error
		conn, err = pgx.ConnectConfig(ctx, cfg)
		return err
	}); err != nil {
		t.Fatalf("pgx to %s:%d through its public IP: %v", pubName, port, err)
	}
	if got := conn.PgConn().Conn().RemoteAddr().String(); got != net.JoinHostPort(pubPublic, strconv.Itoa(port)) {
		t.Fatalf("connected to %s, want the public IP %s", got, pubPublic)
	}
	var n int
	if _, err := conn.Exec(ctx, "CREATE TABLE visits (n int)"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO visits VALUES (41), (1)"); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SELECT sum(n) FROM visits").Scan(&n); err != nil || n != 42 {
		t.Fatalf("sum = %d, %v; want 42", n, err)
	}
	conn.Close(ctx)

	// No longer publicly accessible (applied at once, as on AWS): the
	// public IP is released and public DNS answers the private IP.
	if _, err := e.rds.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("pubdb"), PubliclyAccessible: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	if err := eventually(30*time.Second, func() error {
		if rcode, ips := askDNS(t, dnsAddr, pubName); rcode != dns.RcodeSuccess || len(ips) != 1 || ips[0] != pubPrivate {
			return fmt.Errorf("%s is %s %v, want %s", pubName, dns.RcodeToString[rcode], ips, pubPrivate)
		}
		if n := e.dbENIByIP(v.id)[pubPrivate]; n.Association != nil {
			return fmt.Errorf("interface still has public IP %s", aws.ToString(n.Association.PublicIp))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// Stopped: the name exists without an address (NODATA); deleted: it
	// does not exist (NXDOMAIN).
	if _, err := e.rds.StopDBInstance(ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String("pubdb")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rds.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("privdb"), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.waitDB("pubdb", "stopped", 60*time.Second)
	if rcode, ips := askDNS(t, dnsAddr, pubName); rcode != dns.RcodeSuccess || len(ips) != 0 {
		t.Fatalf("stopped %s is %s %v, want NOERROR without addresses", pubName, dns.RcodeToString[rcode], ips)
	}
	if err := eventually(60*time.Second, func() error {
		if rcode, _ := askDNS(t, dnsAddr, privName); rcode != dns.RcodeNameError {
			return fmt.Errorf("deleted %s is %s, want NXDOMAIN", privName, dns.RcodeToString[rcode])
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got, err := ask("/resolve?name=" + url.QueryEscape(privName)); err != nil || !strings.HasPrefix(got, "fail") {
		t.Fatalf("the instance resolved the deleted %s: %q %v", privName, got, err)
	}
}
