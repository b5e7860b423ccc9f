package dataplane_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
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

// stsLoopUserData calls `aws sts get-caller-identity --region us-east-1`
// every second with access key keyID and any further arguments (an
// endpoint URL), from a script cloud-init runs at every boot, so that the
// calls resume after a restart of minicloud. Nothing is served: the
// instance is in a private subnet, and CloudTrail tells what arrived.
func stsLoopUserData(calls ...[2]string) string {
	var cmds []string
	for _, c := range calls {
		cmds = append(cmds, "AWS_ACCESS_KEY_ID="+c[0]+" AWS_SECRET_ACCESS_KEY=secret aws sts get-caller-identity "+c[1])
	}
	return awsLoopUserData(cmds...)
}

// awsLoopUserData runs each AWS CLI command (in us-east-1, one attempt,
// short timeouts) every second from a per-boot script.
func awsLoopUserData(cmds ...string) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\nmkdir -p /var/lib/cloud/scripts/per-boot\ncat > /var/lib/cloud/scripts/per-boot/sts.sh <<'EOF'\n#!/bin/sh\n(\nwhile true; do\n")
	for _, c := range cmds {
		fmt.Fprintf(&b, "\tAWS_MAX_ATTEMPTS=1 %s --region us-east-1 --cli-connect-timeout 2 --cli-read-timeout 5 >>/var/tmp/sts.log 2>&1\n", c)
	}
	b.WriteString("\tsleep 1\ndone\n) >/dev/null 2>&1 &\nEOF\nchmod +x /var/lib/cloud/scripts/per-boot/sts.sh\n/var/lib/cloud/scripts/per-boot/sts.sh\n")
	return b.String()
}

// trailCall is one event of CloudTrail.
type trailCall struct {
	Time                    time.Time
	Source, VPCE, ErrorCode string
}

// trailCalls are the GetCallerIdentity events of access key keyID since
// since.
func trailCalls(ctx context.Context, ct *cloudtrail.Client, keyID string, since time.Time) ([]trailCall, error) {
	return trailEvents(ctx, ct, keyID, "GetCallerIdentity", since)
}

// trailEvents are the events named name of access key keyID since since.
func trailEvents(ctx context.Context, ct *cloudtrail.Client, keyID, name string, since time.Time) ([]trailCall, error) {
	var out []trailCall
	p := cloudtrail.NewLookupEventsPaginator(ct, &cloudtrail.LookupEventsInput{StartTime: aws.Time(since), LookupAttributes: []cttypes.LookupAttribute{
		{AttributeKey: cttypes.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(keyID)}}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, ev := range page.Events {
			var rec struct {
				EventName       string `json:"eventName"`
				SourceIPAddress string `json:"sourceIPAddress"`
				VPCEndpointID   string `json:"vpcEndpointId"`
				ErrorCode       string `json:"errorCode"`
			}
			if err := json.Unmarshal([]byte(aws.ToString(ev.CloudTrailEvent)), &rec); err != nil {
				return nil, err
			}
			if rec.EventName == name {
				out = append(out, trailCall{Time: aws.ToTime(ev.EventTime), Source: rec.SourceIPAddress, VPCE: rec.VPCEndpointID, ErrorCode: rec.ErrorCode})
			}
		}
	}
	return out, nil
}

// TestInterfaceEndpointFromPrivateSubnet: an instance in a private subnet
// with neither an internet nor a NAT gateway calls STS by its regional
// name and reaches minicloud through an interface endpoint with private
// DNS: the VPC's resolver answers the endpoint's interface, CloudTrail
// records the instance's private IP and the endpoint. The endpoint-specific
// name works too (its certificate covers it). The endpoint's security
// group keeps out a client it does not allow; a restart of minicloud keeps
// the endpoint working; deleting it cuts the private subnet off again.
func TestInterfaceEndpointFromPrivateSubnet(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("the data-plane tests need root; CI runs them as root")
	}
	r := newRestartable(t, server.Config{DataPlane: server.DataPlaneOn, Listen: "127.0.0.1:0", DNSListen: "127.0.0.1:0",
		PublicCIDR: netip.MustParsePrefix("198.19.232.0/24")})
	var ct *cloudtrail.Client
	start := func() *env {
		t.Helper()
		ac, e := r.start()
		ct = cloudtrail.NewFromConfig(ac)
		return e
	}
	stop := r.stop
	e := start()
	ctx := e.ctx

	v := e.newVPC("10.64.0.0/16", "10.64.1.0/24", "10.64.2.0/24")
	public, private := v.subnets[0], v.subnets[1]
	if _, err := e.ec2.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: aws.String(v.id), EnableDnsHostnames: &types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	// The private subnet's own route table: the local route only.
	rtb, err := e.ec2.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(v.id)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ec2.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: rtb.RouteTable.RouteTableId, SubnetId: aws.String(private)}); err != nil {
		t.Fatal(err)
	}
	const allowedIP, otherIP = "10.64.2.10", "10.64.2.11"
	// The endpoint admits HTTPS from one client only.
	vpceSG := e.newSG(v.id, "vpce", tcpFrom(443, allowedIP+"/32"))
	out, err := e.ec2.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: aws.String(v.id), VpcEndpointType: types.VpcEndpointTypeInterface,
		ServiceName: aws.String("com.amazonaws.us-east-1.sts"), SubnetIds: []string{private}, SecurityGroupIds: []string{vpceSG}})
	if err != nil {
		t.Fatal(err)
	}
	vpceID := aws.ToString(out.VpcEndpoint.VpcEndpointId)
	// The SDK's State constants are capitalised; EC2 answers lower case.
	if st := out.VpcEndpoint.State; !strings.EqualFold(string(st), "pending") {
		t.Errorf("CreateVpcEndpoint answers %s, want pending", st)
	}
	var ep types.VpcEndpoint
	err = eventually(30*time.Second, func() error {
		d, err := e.ec2.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{vpceID}})
		if err != nil {
			return err
		}
		if ep = d.VpcEndpoints[0]; !strings.EqualFold(string(ep.State), "available") {
			return fmt.Errorf("endpoint %s is %s", vpceID, ep.State)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	enis, err := e.ec2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: ep.NetworkInterfaceIds})
	if err != nil || len(enis.NetworkInterfaces) != 1 {
		t.Fatalf("the endpoint's interfaces: %v %v", enis, err)
	}
	eniIP := aws.ToString(enis.NetworkInterfaces[0].PrivateIpAddress)
	vpceName := aws.ToString(ep.DnsEntries[0].DnsName)

	// A public instance of the VPC asks its resolver, and tries the
	// endpoint (the group lets it not in).
	sg := e.newSG(v.id, "clients", tcpFrom(8080, "0.0.0.0/0"))
	img := e.image()
	const keyA, keyAName, keyB, healthKey = "AKIAVPCECLIENTA00001", "AKIAVPCECLIENTA00002", "AKIAVPCECLIENTB00001", "AKIAVPCEHEALTH"
	insts := e.runAll(img,
		launch{subnet: public, groups: []string{sg}, userData: resolveUserData},
		launch{subnet: private, groups: []string{sg}, privateIP: allowedIP, userData: stsLoopUserData([2]string{keyA, ""}, [2]string{keyAName, "--endpoint-url https://" + vpceName},
			// What minicloud's own health endpoint answers through the
			// endpoint, told by the access key of a call (its status).
			[2]string{healthKey + `$(curl -s -o /dev/null -w '%{http_code}' https://sts.us-east-1.amazonaws.com/_minicloud/health)`, ""})},
		launch{subnet: private, groups: []string{sg}, privateIP: otherIP, userData: stsLoopUserData([2]string{keyB, ""})})
	pubIP := e.eip(aws.ToString(insts[0].InstanceId))
	ask := func(q string) (string, error) { return fetch("http://" + pubIP + ":8080" + q) }
	for name, want := range map[string]string{"sts.us-east-1.amazonaws.com": eniIP, vpceName: eniIP,
		// Other services keep their public answer.
		"ec2.us-east-1.amazonaws.com": "198.19.232.241"} {
		err := eventually(90*time.Second, func() error {
			got, err := ask("/resolve?name=" + url.QueryEscape(name))
			if err == nil && got != want {
				err = fmt.Errorf("%s resolves to %q in the VPC, want %s", name, got, want)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// AWS's public DNS (--dns-listen) answers the endpoint's own names too.
	if _, ips := askDNS(t, r.srv.DNSAddr(), vpceName); strings.Join(ips, ",") != eniIP {
		t.Errorf("--dns-listen: %s is %v, want %s", vpceName, ips, eniIP)
	}
	// The probe's own connect timeout (2 s) is the fetch's: wait longer.
	slow := &http.Client{Timeout: 8 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	if got, err := getBody(slow, "http://"+pubIP+":8080/tcp?host="+eniIP+"&port=443"); err != nil || !strings.HasPrefix(got, "fail") {
		t.Errorf("a client the endpoint's group does not allow connects: %q %v", got, err)
	}

	// The allowed client's calls arrive through the endpoint, from its
	// private IP, by the service's name and by the endpoint's own.
	wantThrough := func(key, from string, since time.Time, d time.Duration) {
		t.Helper()
		err := eventually(d, func() error {
			calls, err := trailCalls(ctx, ct, key, since)
			if err != nil {
				return err
			}
			for _, c := range calls {
				if c.Source == from && c.VPCE == vpceID && c.ErrorCode == "" {
					return nil
				}
			}
			return fmt.Errorf("no call of %s through %s from %s since %s: %+v", key, vpceID, from, since.Format(time.TimeOnly), calls)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Now().Add(-time.Hour)
	wantThrough(keyA, allowedIP, t0, 90*time.Second)
	wantThrough(keyAName, allowedIP, t0, 30*time.Second)
	// Workloads reach the AWS APIs only: minicloud's own endpoints answer
	// 404 through the endpoint.
	wantThrough(healthKey+"404", allowedIP, t0, 30*time.Second)
	if calls, err := trailCalls(ctx, ct, healthKey+"200", t0); err != nil || len(calls) > 0 {
		t.Fatalf("/_minicloud/health answered through the endpoint: %+v %v", calls, err)
	}
	// The other client is kept out by the endpoint's security group.
	if calls, err := trailCalls(ctx, ct, keyB, t0); err != nil || len(calls) > 0 {
		t.Fatalf("a client the endpoint's group does not allow reached STS: %+v %v", calls, err)
	}
	t.Logf("through %s (%s) from %s; %s kept out", vpceID, eniIP, allowedIP, otherIP)
	// A group added to the endpoint lets it in (ModifyVpcEndpoint).
	sgB := e.newSG(v.id, "vpce-b", tcpFrom(443, otherIP+"/32"))
	if _, err := e.ec2.ModifyVpcEndpoint(ctx, &ec2.ModifyVpcEndpointInput{VpcEndpointId: aws.String(vpceID), AddSecurityGroupIds: []string{sgB}}); err != nil {
		t.Fatal(err)
	}
	wantThrough(keyB, otherIP, t0, 30*time.Second)

	// A restart: the endpoint comes back and serves again.
	stop()
	e = start()
	ctx = e.ctx
	restarted := time.Now()
	wantThrough(keyA, allowedIP, restarted, 120*time.Second)

	t.Logf("through %s again after a restart (%s)", vpceID, time.Since(restarted).Round(time.Second))

	// Deleted, the endpoint carries nothing more.
	if _, err := e.ec2.DeleteVpcEndpoints(ctx, &ec2.DeleteVpcEndpointsInput{VpcEndpointIds: []string{vpceID}}); err != nil {
		t.Fatal(err)
	}
	deleted := time.Now().Add(2 * time.Second)
	time.Sleep(10 * time.Second)
	for _, key := range []string{keyA, keyAName, keyB} {
		if calls, err := trailCalls(ctx, ct, key, deleted); err != nil || len(calls) > 0 {
			t.Fatalf("calls of %s still arrive after the endpoint was deleted: %+v %v", key, calls, err)
		}
	}
}

func getBody(c *http.Client, u string) (string, error) {
	resp, err := c.Get(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b)), err
}

// TestGatewayEndpoint: a gateway endpoint for S3 carries the traffic of
// the route tables it is associated with to S3's address (its prefix
// list's, which DescribePrefixLists and GetManagedPrefixListEntries show):
// the subnet reaches it with the endpoint and not without, and
// disassociating the route table cuts it again.
func TestGatewayEndpoint(t *testing.T) {
	e, _ := newEnvDNSWith(t, func(c *server.Config) { c.PublicCIDR = netip.MustParsePrefix("198.19.232.0/24") })
	ctx := e.ctx
	const s3Addr = "198.19.232.242"
	pls, err := e.ec2.DescribePrefixLists(ctx, &ec2.DescribePrefixListsInput{Filters: []types.Filter{
		{Name: aws.String("prefix-list-name"), Values: []string{"com.amazonaws.us-east-1.s3"}}}})
	if err != nil || len(pls.PrefixLists) != 1 || strings.Join(pls.PrefixLists[0].Cidrs, ",") != s3Addr+"/32" {
		t.Fatalf("S3's prefix list: %+v %v", pls, err)
	}
	plID := pls.PrefixLists[0].PrefixListId
	entries, err := e.ec2.GetManagedPrefixListEntries(ctx, &ec2.GetManagedPrefixListEntriesInput{PrefixListId: plID})
	if err != nil || len(entries.Entries) != 1 || aws.ToString(entries.Entries[0].Cidr) != s3Addr+"/32" {
		t.Fatalf("S3's prefix list entries: %+v %v", entries, err)
	}

	v := e.newVPC("10.65.0.0/16", "10.65.1.0/24")
	// The host reaches the instance through the internet gateway, but the
	// service addresses are routed to an interface that forwards nothing
	// (appliance routing is not realised: a blackhole), so only the
	// endpoint's more specific route can carry S3's traffic.
	eni, err := e.ec2.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(v.subnets[0])})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ec2.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(v.mainRTB), DestinationCidrBlock: aws.String("198.19.232.240/28"),
		NetworkInterfaceId: eni.NetworkInterface.NetworkInterfaceId}); err != nil {
		t.Fatal(err)
	}
	sg := e.newSG(v.id, "probe", tcpFrom(8080, "0.0.0.0/0"))
	inst := e.runAll(e.image(), launch{subnet: v.subnets[0], groups: []string{sg}, userData: resolveUserData})[0]
	pubIP := e.eip(aws.ToString(inst.InstanceId))
	slow := &http.Client{Timeout: 8 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	reach := func(want bool, d time.Duration) {
		t.Helper()
		err := eventually(d, func() error {
			got, err := getBody(slow, "http://"+pubIP+":8080/tcp?host="+s3Addr+"&port=443")
			if err == nil && (got == "ok") != want {
				err = fmt.Errorf("S3's address from the subnet: %q, want reachable %t", got, want)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	reach(false, 90*time.Second)

	out, err := e.ec2.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: aws.String(v.id), ServiceName: aws.String("com.amazonaws.us-east-1.s3"),
		RouteTableIds: []string{v.mainRTB}})
	if err != nil {
		t.Fatal(err)
	}
	id := out.VpcEndpoint.VpcEndpointId
	reach(true, 30*time.Second)

	if _, err := e.ec2.ModifyVpcEndpoint(ctx, &ec2.ModifyVpcEndpointInput{VpcEndpointId: id, RemoveRouteTableIds: []string{v.mainRTB}}); err != nil {
		t.Fatal(err)
	}
	reach(false, 30*time.Second)
	if _, err := e.ec2.ModifyVpcEndpoint(ctx, &ec2.ModifyVpcEndpointInput{VpcEndpointId: id, AddRouteTableIds: []string{v.mainRTB}}); err != nil {
		t.Fatal(err)
	}
	reach(true, 30*time.Second)
	if _, err := e.ec2.DeleteVpcEndpoints(ctx, &ec2.DeleteVpcEndpointsInput{VpcEndpointIds: []string{aws.ToString(id)}}); err != nil {
		t.Fatal(err)
	}
	reach(false, 30*time.Second)
}

// TestInterfaceEndpointPolicy: with IAM enforced, a request through an
// interface endpoint needs the endpoint's policy to allow it as well as
// the caller's own: an instance's calls through an EC2 endpoint succeed
// while the policy allows them and are refused, and recorded so, once it
// allows another action only.
func TestInterfaceEndpointPolicy(t *testing.T) {
	const rootKey, rootSecret = "AKIDROOTVPCEPOLICY01", "rootsecretrootsecretrootsecret0000000000"
	e, _ := newEnvDNSWith(t, func(c *server.Config) {
		c.PublicCIDR = netip.MustParsePrefix("198.19.232.0/24")
		c.IAMEnforce = true
		c.Accounts = map[string]string{rootKey: "111111111111"}
		c.Secrets = map[string]string{rootKey: rootSecret}
	})
	ac := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(rootKey, rootSecret, ""),
		BaseEndpoint: aws.String("http://" + e.srv.Addr())}
	e.ec2 = ec2.NewFromConfig(ac)
	ct := cloudtrail.NewFromConfig(ac)
	ctx := e.ctx
	iamc := iam.NewFromConfig(ac)
	if _, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("app"), PolicyName: aws.String("regions"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:DescribeRegions","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	key, err := iamc.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	keyID := aws.ToString(key.AccessKey.AccessKeyId)

	v := e.newVPC("10.66.0.0/16", "10.66.1.0/24")
	if _, err := e.ec2.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: aws.String(v.id), EnableDnsHostnames: &types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	// The subnet's own route table: no way out but the endpoint.
	rtb, err := e.ec2.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(v.id)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ec2.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: rtb.RouteTable.RouteTableId, SubnetId: aws.String(v.subnets[0])}); err != nil {
		t.Fatal(err)
	}
	sg := e.newSG(v.id, "vpce", tcpFrom(443, "10.66.0.0/16"))
	out, err := e.ec2.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: aws.String(v.id), VpcEndpointType: types.VpcEndpointTypeInterface,
		ServiceName: aws.String("com.amazonaws.us-east-1.ec2"), SubnetIds: v.subnets, SecurityGroupIds: []string{sg}})
	if err != nil {
		t.Fatal(err)
	}
	vpceID := out.VpcEndpoint.VpcEndpointId
	e.runAll(e.image(), launch{subnet: v.subnets[0], groups: []string{sg}, userData: awsLoopUserData(
		"AWS_ACCESS_KEY_ID=" + keyID + " AWS_SECRET_ACCESS_KEY=" + aws.ToString(key.AccessKey.SecretAccessKey) + " aws ec2 describe-regions --region-names us-east-1")})
	want := func(since time.Time, ok func(trailCall) bool, d time.Duration) {
		t.Helper()
		err := eventually(d, func() error {
			calls, err := trailEvents(ctx, ct, keyID, "DescribeRegions", since)
			if err != nil {
				return err
			}
			for _, c := range calls {
				if c.VPCE == aws.ToString(vpceID) && ok(c) {
					return nil
				}
			}
			return fmt.Errorf("no such DescribeRegions through %s since %s: %+v", aws.ToString(vpceID), since.Format(time.TimeOnly), calls)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The default policy (full access): the user's own policy decides.
	want(time.Now().Add(-time.Hour), func(c trailCall) bool { return c.ErrorCode == "" }, 90*time.Second)
	if _, err := e.ec2.ModifyVpcEndpoint(ctx, &ec2.ModifyVpcEndpointInput{VpcEndpointId: vpceID,
		PolicyDocument: aws.String(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ec2:DescribeVpcs","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	changed := time.Now()
	want(changed, func(c trailCall) bool { return strings.Contains(c.ErrorCode, "UnauthorizedOperation") }, 30*time.Second)
	if _, err := e.ec2.ModifyVpcEndpoint(ctx, &ec2.ModifyVpcEndpointInput{VpcEndpointId: vpceID, ResetPolicy: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	want(time.Now(), func(c trailCall) bool { return c.ErrorCode == "" }, 30*time.Second)
}
