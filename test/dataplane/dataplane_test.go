// Package dataplane_test drives minicloud with its data plane on, through the
// real Go SDK, and checks with real packets that what the API built works:
// instances boot and run their user data, the host reaches them on their
// Elastic IP, and security groups are enforced. It needs root, as the data
// plane does (CI runs as root).
package dataplane_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	instruntime "github.com/minicloud/minicloud/internal/instance/runtime"
	"github.com/minicloud/minicloud/internal/server"
)

// The main goroutine keeps the main thread, so no namespace work ever parks
// it in a VPC's namespace (see cmd/minicloud).
func init() { goruntime.LockOSThread() }

func TestMain(m *testing.M) {
	// Each instance's init is this test binary re-executed.
	if instruntime.InitMain() {
		return
	}
	os.Exit(m.Run())
}

type env struct {
	t   *testing.T
	ctx context.Context
	ec2 *ec2.Client
	r53 *route53.Client
	rds *rds.Client
	srv *server.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the data-plane tests need root (network namespaces, overlayfs, nftables); CI runs them as root")
	}
	srv, err := server.New(server.Config{Ephemeral: true, DataPlane: server.DataPlaneOn, PublicCIDR: sharedPublicCIDR})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(hs.URL),
	}
	return &env{t: t, ctx: context.Background(), ec2: ec2.NewFromConfig(cfg), r53: route53.NewFromConfig(cfg), rds: rds.NewFromConfig(cfg), srv: srv}
}

// eventually retries f every 50 ms until it succeeds or d passes.
func eventually(d time.Duration, f func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// get fetches url from the host with a short timeout.
func get(url string) (string, error) {
	c := &http.Client{Timeout: 400 * time.Millisecond}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return string(b), err
}

func (e *env) instance(id string) types.Instance {
	e.t.Helper()
	out, err := e.ec2.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		e.t.Fatal(err)
	}
	return out.Reservations[0].Instances[0]
}

func (e *env) waitState(id string, want types.InstanceStateName) types.Instance {
	e.t.Helper()
	var inst types.Instance
	err := eventually(30*time.Second, func() error {
		inst = e.instance(id)
		if inst.State.Name != want {
			reason := ""
			if inst.StateReason != nil { // none while running or stopping
				reason = aws.ToString(inst.StateReason.Message)
			}
			return fmt.Errorf("instance %s is %s (%s), want %s", id, inst.State.Name, reason, want)
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return inst
}

// TestWebServerOnElasticIP is the prototype's first promise: an instance
// whose user data starts an HTTP server answers on its Elastic IP from the
// host, its security group decides who may connect, and the instance lives
// through stop and start as AWS's do.
func TestWebServerOnElasticIP(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx
	images, err := e.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"},
		Filters: []types.Filter{{Name: aws.String("name"), Values: []string{"al2023-ami-2023*-x86_64"}}}})
	if err != nil || len(images.Images) == 0 {
		t.Fatalf("no AL2023 image: %v", err)
	}
	sg, err := e.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	// A private hosted zone of the default VPC: the instance's resolver
	// answers it, as Route 53 Resolver does inside associated VPCs.
	vpcs, err := e.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{{Name: aws.String("is-default"), Values: []string{"true"}}}})
	if err != nil || len(vpcs.Vpcs) != 1 {
		t.Fatalf("default VPC: %v", err)
	}
	pz, err := e.r53.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("corp.internal"), CallerReference: aws.String("pz"),
		HostedZoneConfig: &r53types.HostedZoneConfig{PrivateZone: true},
		VPC:              &r53types.VPC{VPCId: vpcs.Vpcs[0].VpcId, VPCRegion: r53types.VPCRegionUsEast1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.r53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: pz.HostedZone.Id,
		ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{Action: r53types.ChangeActionCreate,
			ResourceRecordSet: &r53types.ResourceRecordSet{Name: aws.String("db.corp.internal"), Type: r53types.RRTypeA, TTL: aws.Int64(60),
				ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("10.9.8.7")}}}}}}}); err != nil {
		t.Fatal(err)
	}
	// The user data writes the instance's own ID as IMDSv2 reports it, and
	// a file that must survive stop/start, then serves /var/tmp on port 80.
	userData := `#!/bin/sh
tok=$(curl -s -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token)
curl -s -H "X-aws-ec2-metadata-token: $tok" http://169.254.169.254/latest/meta-data/instance-id > /var/tmp/id
python3 -c "import socket; print(socket.gethostbyname(socket.gethostname() + '.ec2.internal'))" > /var/tmp/dns 2>&1
python3 -c "import socket; print(socket.gethostbyname('db.corp.internal'))" > /var/tmp/private 2>&1
echo written-once > /var/tmp/persist
echo 'user data wrote this to /dev/console' > /dev/console
echo ran >> /var/tmp/userdata-runs
cd /var/tmp && nohup python3 -m http.server 80 >/dev/null 2>&1 &
`
	mkdirPerBoot := `mkdir -p /var/lib/cloud/scripts/per-boot && printf '#!/bin/sh\ncd /var/tmp && nohup python3 -m http.server 80 >/dev/null 2>&1 &\n' > /var/lib/cloud/scripts/per-boot/http && chmod +x /var/lib/cloud/scripts/per-boot/http`
	userData = strings.Replace(userData, "cd /var/tmp && nohup", mkdirPerBoot+"\ncd /var/tmp && nohup", 1)
	run, err := e.ec2.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: images.Images[0].ImageId, InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		SecurityGroupIds: []string{aws.ToString(sg.GroupId)},
		UserData:         aws.String(base64.StdEncoding.EncodeToString([]byte(userData))),
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	e.waitState(id, types.InstanceStateNameRunning)

	eip, err := e.ec2.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ec2.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: eip.AllocationId, InstanceId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	url := "http://" + aws.ToString(eip.PublicIp) + "/"

	// No rule for port 80 yet: the host cannot connect.
	time.Sleep(300 * time.Millisecond)
	if body, err := get(url + "id"); err == nil {
		t.Fatalf("reached the instance without a rule for port 80: %q", body)
	}
	perm := []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}
	if _, err := e.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: perm}); err != nil {
		t.Fatal(err)
	}
	var body string
	if err := eventually(time.Second, func() error { body, err = get(url + "id"); return err }); err != nil {
		t.Fatalf("port 80 not reachable within 1 s of the rule: %v", err)
	}
	if strings.TrimSpace(body) != id {
		t.Fatalf("IMDSv2 in the instance reported %q, want %s", body, id)
	}
	// The VPC resolver at base+2 (the instance's resolv.conf) answers the
	// instance's own private DNS name.
	if dns, err := get(url + "dns"); err != nil || strings.TrimSpace(dns) != aws.ToString(e.instance(id).PrivateIpAddress) {
		t.Fatalf("the instance resolved its own name to %q (%v), want %s", dns, err, aws.ToString(e.instance(id).PrivateIpAddress))
	}
	if private, err := get(url + "private"); err != nil || strings.TrimSpace(private) != "10.9.8.7" {
		t.Fatalf("the instance resolved db.corp.internal (private zone of its VPC) to %q (%v), want 10.9.8.7", private, err)
	}
	if _, err := e.ec2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: perm}); err != nil {
		t.Fatal(err)
	}
	if err := eventually(time.Second, func() error {
		if _, err := get(url + "id"); err == nil {
			return errors.New("still reachable")
		}
		return nil
	}); err != nil {
		t.Fatalf("port 80 still reachable 1 s after the revoke")
	}
	if _, err := e.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: perm}); err != nil {
		t.Fatal(err)
	}

	console, err := e.ec2.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := base64.StdEncoding.DecodeString(aws.ToString(console.Output))
	if !strings.Contains(string(out), "Cloud-init") || !strings.Contains(string(out), "finished") {
		t.Fatalf("console output does not show the boot:\n%s", out)
	}
	if !strings.Contains(string(out), "user data wrote this to /dev/console\n") {
		t.Fatalf("console output lacks the line the user data wrote to /dev/console:\n%s", out)
	}

	// Stop and start: the root volume keeps its files, the EIP stays, the
	// user data does not run again, and the per-boot script does.
	if _, err := e.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	e.waitState(id, types.InstanceStateNameStopped)
	if _, err := get(url + "id"); err == nil {
		t.Fatal("a stopped instance still answers")
	}
	if _, err := e.ec2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	inst := e.waitState(id, types.InstanceStateNameRunning)
	if aws.ToString(inst.PublicIpAddress) != aws.ToString(eip.PublicIp) {
		t.Fatalf("public IP after start %s, want the EIP %s", aws.ToString(inst.PublicIpAddress), aws.ToString(eip.PublicIp))
	}
	if err := eventually(5*time.Second, func() error { body, err = get(url + "persist"); return err }); err != nil {
		t.Fatalf("after start the per-boot web server does not answer: %v", err)
	}
	if strings.TrimSpace(body) != "written-once" {
		t.Fatalf("persisted file %q", body)
	}
	runs, err := get(url + "userdata-runs")
	if err != nil || strings.Count(runs, "ran") != 1 {
		t.Fatalf("user data ran %d times (%q, %v), want once", strings.Count(runs, "ran"), runs, err)
	}

	// Terminate: the instance goes, and with it its network.
	if _, err := e.ec2.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{PublicIp: eip.PublicIp}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	e.waitState(id, types.InstanceStateNameTerminated)
}
