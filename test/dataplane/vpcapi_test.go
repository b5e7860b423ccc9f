package dataplane_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/minicloud/minicloud/internal/server"
)

// stsUserData calls `aws sts get-caller-identity --region us-east-1`
// every second from inside the instance, with no endpoint flag: once with
// the access key keyID from the user data (/var/tmp/sts-keys), once with
// the instance's role credentials from IMDS (/var/tmp/sts-role); and curl
// with the system trust store only (/var/tmp/sts-curl, the HTTP status);
// before that, the statuses of POST /_minicloud/reset and GET
// /_minicloud/health on STS's name (/var/tmp/sts-internal). Each file
// holds the ARN or the error; a server on port 80 serves them and the log
// of every attempt (/var/tmp/sts.log, also written to the console).
func stsUserData(keyID string) string {
	return fmt.Sprintf(`#!/bin/sh
cd /var/tmp
nohup python3 -m http.server 80 >/dev/null 2>&1 &
call() {
	out=$(AWS_MAX_ATTEMPTS=1 aws sts get-caller-identity --region us-east-1 --output text --query Arn \
		--cli-connect-timeout 3 --cli-read-timeout 10 2>&1 | tr '\n' ' ')
	echo "$out"
}
# minicloud's own endpoints are not the workloads': reset and health
# answer 404 on AWS's service names.
r=$(curl -sS --connect-timeout 3 -o /dev/null -w '%%{http_code}' -X POST https://sts.us-east-1.amazonaws.com/_minicloud/reset 2>&1)
h=$(curl -sS --connect-timeout 3 -o /dev/null -w '%%{http_code}' https://sts.us-east-1.amazonaws.com/_minicloud/health 2>&1)
echo "$r $h" > sts-internal
(
while true; do
	k=$(AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=secret call)
	r=$(call)
	c=$(env -u AWS_CA_BUNDLE curl -sS --connect-timeout 3 -o /dev/null -w '%%{http_code}' https://sts.us-east-1.amazonaws.com/ 2>&1)
	echo "$c" > sts-curl.tmp && mv sts-curl.tmp sts-curl
	echo "$k" > sts-keys.tmp && mv sts-keys.tmp sts-keys
	echo "$r" > sts-role.tmp && mv sts-role.tmp sts-role
	echo "STS keys: $k | role: $r | curl: $c" | tee /dev/console
	sleep 1
done
) >>/var/tmp/sts.log 2>&1 &
`, keyID)
}

// sourceIPs are the source addresses CloudTrail recorded for the
// GetCallerIdentity calls of access key keyID.
func sourceIPs(e *env, ct *cloudtrail.Client, keyID string) (map[string]bool, error) {
	out, err := ct.LookupEvents(e.ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
		{AttributeKey: cttypes.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(keyID)}}})
	if err != nil {
		return nil, err
	}
	ips := map[string]bool{}
	for _, ev := range out.Events {
		var rec struct {
			EventName       string `json:"eventName"`
			SourceIPAddress string `json:"sourceIPAddress"`
		}
		if err := json.Unmarshal([]byte(aws.ToString(ev.CloudTrailEvent)), &rec); err != nil {
			return nil, err
		}
		if rec.EventName == "GetCallerIdentity" {
			ips[rec.SourceIPAddress] = true
		}
	}
	return ips, nil
}

// TestAWSAPIFromVPC: an instance calls STS by its regional name, as on
// AWS, and reaches minicloud exactly when it would reach AWS: from a
// public subnet through the internet gateway (seen as its public IP), from
// a private subnet only once a NAT gateway carries it (seen as the NAT's
// Elastic IP); its role's credentials from IMDS answer the assumed-role
// ARN.
func TestAWSAPIFromVPC(t *testing.T) {
	e, dnsAddr := newEnvDNSWith(t, func(c *server.Config) { c.PublicCIDR = netip.MustParsePrefix("198.19.233.0/24") })
	// The host's view of AWS's public DNS answers the names too.
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, dnsAddr)
	}}
	for name, want := range map[string]string{"sts.us-east-1.amazonaws.com": "198.19.233.241", "sts.amazonaws.com": "198.19.233.241",
		"my-bucket.s3.us-east-1.amazonaws.com": "198.19.233.242", "dynamodb.eu-west-1.amazonaws.com": "198.19.233.243"} {
		got, err := r.LookupHost(e.ctx, name)
		if err != nil || len(got) != 1 || got[0] != want {
			t.Errorf("--dns-listen: %s is %v %v, want %s", name, got, err, want)
		}
	}
	ac := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String("http://" + e.srv.Addr())}
	health, err := get("http://" + e.srv.Addr() + "/_minicloud/health")
	var h struct {
		VPCAPI struct {
			State     string   `json:"state"`
			Addresses []string `json:"addresses"`
		} `json:"vpcAPI"`
	}
	if err == nil {
		err = json.Unmarshal([]byte(health), &h)
	}
	if err != nil || h.VPCAPI.State != "on" || len(h.VPCAPI.Addresses) == 0 || h.VPCAPI.Addresses[0] != "198.19.233.241" {
		t.Fatalf("health: %v %s", err, health)
	}
	ct := cloudtrail.NewFromConfig(ac)
	iamc := iam.NewFromConfig(ac)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	if _, err := iamc.CreateRole(e.ctx, &iam.CreateRoleInput{RoleName: aws.String("api-role"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamc.CreateInstanceProfile(e.ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("api-profile")}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamc.AddRoleToInstanceProfile(e.ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("api-profile"), RoleName: aws.String("api-role")}); err != nil {
		t.Fatal(err)
	}

	v := e.newVPC("10.62.0.0/16", "10.62.1.0/24", "10.62.2.0/24")
	public, private := v.subnets[0], v.subnets[1]
	// The private subnet's own route table: the local route only.
	rtb, err := e.ec2.CreateRouteTable(e.ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(v.id)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ec2.AssociateRouteTable(e.ctx, &ec2.AssociateRouteTableInput{RouteTableId: rtb.RouteTable.RouteTableId, SubnetId: aws.String(private)}); err != nil {
		t.Fatal(err)
	}
	sg := e.newSG(v.id, "api", tcpFrom(80, "0.0.0.0/0"))
	img := e.image()

	const pubKey, privKey = "AKIAPUBLICSUBNET0001", "AKIAPRIVATESUBNET001"
	pubRun, err := e.ec2.RunInstances(e.ctx, &ec2.RunInstancesInput{ImageId: img, InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(public), SecurityGroupIds: []string{sg},
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("api-profile")},
		UserData:           aws.String(base64.StdEncoding.EncodeToString([]byte(stsUserData(pubKey))))})
	if err != nil {
		t.Fatal(err)
	}
	pubID := aws.ToString(pubRun.Instances[0].InstanceId)
	privID := aws.ToString(e.runAll(img, launch{subnet: private, groups: []string{sg}, userData: stsUserData(privKey)})[0].InstanceId)
	e.waitState(pubID, types.InstanceStateNameRunning)
	pubIP := e.eip(pubID)

	// From the public subnet: the answer, and the public IP as the source.
	wantFile := func(name string, ok func(string) bool, d time.Duration) string {
		t.Helper()
		var got string
		err := eventually(d, func() error {
			var err error
			if got, err = fetch("http://" + pubIP + "/" + name); err == nil && !ok(got) {
				err = fmt.Errorf("/%s is %q", name, got)
			}
			return err
		})
		if err != nil {
			log, _ := fetch("http://" + pubIP + "/sts.log")
			t.Fatalf("%v; the instance's log:\n%s", err, log)
		}
		return got
	}
	wantFile("sts-keys", func(s string) bool { return strings.HasPrefix(s, "arn:aws:") }, 90*time.Second)
	role := wantFile("sts-role", func(s string) bool { return strings.Contains(s, ":assumed-role/api-role/") }, 30*time.Second)
	if !strings.Contains(role, pubID) {
		t.Errorf("the role's session is %q, want it named after %s", role, pubID)
	}
	// The system trust store has minicloud's CA: curl, without
	// AWS_CA_BUNDLE, gets an HTTP answer (an unsigned request's error).
	wantFile("sts-curl", func(s string) bool { return strings.HasPrefix(s, "4") }, 10*time.Second)
	// An instance cannot drive minicloud itself: its reset and health are
	// not served to workloads.
	wantFile("sts-internal", func(s string) bool { return s == "404 404" }, 10*time.Second)
	wantSource := func(keyID, ip string) {
		t.Helper()
		err := eventually(30*time.Second, func() error {
			ips, err := sourceIPs(e, ct, keyID)
			if err == nil && !ips[ip] {
				err = fmt.Errorf("CloudTrail's sources for %s are %v, want %s", keyID, ips, ip)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	wantSource(pubKey, pubIP)

	// From the private subnet with neither gateway: nothing arrives, and
	// the client times out, as on AWS (the packets are dropped silently; no
	// "network unreachable" comes back).
	if err := eventually(30*time.Second, func() error {
		if con := e.console(privID); !strings.Contains(con, "Connect timeout") {
			return fmt.Errorf("the private instance's console shows no connect timeout:\n%s", con)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if con := e.console(privID); strings.Contains(con, "unreachable") {
		t.Errorf("the private instance was told the network is unreachable:\n%s", con)
	}
	if ips, err := sourceIPs(e, ct, privKey); err != nil || len(ips) > 0 {
		t.Fatalf("the private subnet reached the API with no gateway: %v %v", ips, err)
	}

	// A NAT gateway: it works, seen as the NAT's Elastic IP.
	natEIP, err := e.ec2.AllocateAddress(e.ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	if err != nil {
		t.Fatal(err)
	}
	nat, err := e.ec2.CreateNatGateway(e.ctx, &ec2.CreateNatGatewayInput{SubnetId: aws.String(public), AllocationId: natEIP.AllocationId})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ec2.CreateRoute(e.ctx, &ec2.CreateRouteInput{RouteTableId: rtb.RouteTable.RouteTableId,
		DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: nat.NatGateway.NatGatewayId}); err != nil {
		t.Fatal(err)
	}
	wantSource(privKey, aws.ToString(natEIP.PublicIp))
}

// regionUserData calls `aws ec2 describe-regions` every second with the
// instance's role credentials and serves the last answer (or error) on
// port 80 at /ec2-role.
const regionUserData = `#!/bin/sh
cd /var/tmp
nohup python3 -m http.server 80 >/dev/null 2>&1 &
(
while true; do
	out=$(AWS_MAX_ATTEMPTS=1 aws ec2 describe-regions --region us-east-1 --region-names us-east-1 \
		--query 'Regions[0].RegionName' --output text --cli-connect-timeout 3 2>&1 | tr '\n' ' ')
	echo "$out" > ec2-role.tmp && mv ec2-role.tmp ec2-role
	sleep 1
done
) >/dev/null 2>&1 &
`

// TestAWSAPISourceIPCondition: with IAM enforced, a role policy's
// aws:SourceIp condition sees the instance's public IP: it denies the
// instance's call while it names another address and allows it once it
// names the instance's.
func TestAWSAPISourceIPCondition(t *testing.T) {
	const rootKey, rootSecret = "AKIDROOTVPCAPI000001", "rootsecretrootsecretrootsecret0000000000"
	e, _ := newEnvDNSWith(t, func(c *server.Config) {
		c.PublicCIDR = netip.MustParsePrefix("198.19.233.0/24")
		c.IAMEnforce = true
		c.Accounts = map[string]string{rootKey: "111111111111"}
		c.Secrets = map[string]string{rootKey: rootSecret}
	})
	ac := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(rootKey, rootSecret, ""),
		BaseEndpoint: aws.String("http://" + e.srv.Addr())}
	e.ec2 = ec2.NewFromConfig(ac)
	iamc := iam.NewFromConfig(ac)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	if _, err := iamc.CreateRole(e.ctx, &iam.CreateRoleInput{RoleName: aws.String("ip-role"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	allowFrom := func(cidr string) {
		t.Helper()
		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:DescribeRegions","Resource":"*",` +
			`"Condition":{"IpAddress":{"aws:SourceIp":"` + cidr + `"}}}]}`
		if _, err := iamc.PutRolePolicy(e.ctx, &iam.PutRolePolicyInput{RoleName: aws.String("ip-role"), PolicyName: aws.String("from"), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	allowFrom("192.0.2.0/24")
	if _, err := iamc.CreateInstanceProfile(e.ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("ip-profile")}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamc.AddRoleToInstanceProfile(e.ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("ip-profile"), RoleName: aws.String("ip-role")}); err != nil {
		t.Fatal(err)
	}
	v := e.newVPC("10.63.0.0/16", "10.63.1.0/24")
	sg := e.newSG(v.id, "api", tcpFrom(80, "0.0.0.0/0"))
	run, err := e.ec2.RunInstances(e.ctx, &ec2.RunInstancesInput{ImageId: e.image(), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(v.subnets[0]), SecurityGroupIds: []string{sg},
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("ip-profile")},
		UserData:           aws.String(base64.StdEncoding.EncodeToString([]byte(regionUserData)))})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	e.waitState(id, types.InstanceStateNameRunning)
	pubIP := e.eip(id)
	want := func(ok func(string) bool) {
		t.Helper()
		var got string
		err := eventually(90*time.Second, func() error {
			var err error
			if got, err = fetch("http://" + pubIP + "/ec2-role"); err == nil && !ok(got) {
				err = fmt.Errorf("/ec2-role is %q", got)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	want(func(s string) bool { return strings.Contains(s, "UnauthorizedOperation") })
	allowFrom(pubIP + "/32")
	want(func(s string) bool { return strings.TrimSpace(s) == "us-east-1" })
}
