package minicloudtest_test

import (
	"context"
	b64 "encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/jackc/pgx/v5"
	"github.com/miekg/dns"

	"github.com/minicloud/minicloud/minicloudtest"
)

// A test gets a minicloud of its own with New; outside a test, Start and
// Close do the same. Here: a VPC made with the real EC2 client.
func Example() {
	mc, err := minicloudtest.Start(minicloudtest.WithoutDataPlane())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer mc.Close()
	ctx := context.Background()
	client := ec2.NewFromConfig(mc.Config)
	vpc, err := client.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := client.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{aws.ToString(vpc.Vpc.VpcId)}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(aws.ToString(out.Vpcs[0].CidrBlock), out.Vpcs[0].State)
	// Output: 10.1.0.0/16 available
}

// Route 53's public hosted zones answer on the minicloud's DNS server
// (Cloud.DNSAddr), as the internet's DNS would.
func Example_route53() {
	mc, err := minicloudtest.Start(minicloudtest.WithoutDataPlane())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer mc.Close()
	ctx := context.Background()
	r53 := route53.NewFromConfig(mc.Config)
	zone, err := r53.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("example.test"),
		CallerReference: aws.String("example")})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = r53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: zone.HostedZone.Id,
		ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{Action: r53types.ChangeActionUpsert,
			ResourceRecordSet: &r53types.ResourceRecordSet{Name: aws.String("app.example.test"), Type: r53types.RRTypeA,
				TTL: aws.Int64(60), ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("198.51.100.7")}}}}}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	q := new(dns.Msg).SetQuestion("app.example.test.", dns.TypeA)
	in, err := dns.Exchange(q, mc.DNSAddr)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(in.Answer[0].(*dns.A).A)
	// Output: 198.51.100.7
}

// TestRDS: a DB instance is a real PostgreSQL server of the host, which the
// test reaches at Cloud.DBAddress.
func TestRDS(t *testing.T) {
	t.Parallel()
	mc := minicloudtest.New(t)
	ctx := t.Context()
	client := rds.NewFromConfig(mc.Config)
	if _, err := client.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("app-db"),
		Engine: aws.String("postgres"), DBInstanceClass: aws.String("db.t3.micro"), AllocatedStorage: aws.Int32(20),
		MasterUsername: aws.String("app"), MasterUserPassword: aws.String("app-secret-1"), DBName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	// The server's start (initdb and all) is what waiting for available waits for.
	if err := rds.NewDBInstanceAvailableWaiter(client, func(o *rds.DBInstanceAvailableWaiterOptions) {
		o.MinDelay = 200 * time.Millisecond
		o.MaxDelay = time.Second
	}).Wait(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("app-db")}, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	addr, err := mc.DBAddress(ctx, "app-db")
	if err != nil || addr == "" {
		t.Fatalf("no loopback address for app-db: %q, %v", addr, err)
	}
	conn, err := pgx.Connect(ctx, "postgres://app:app-secret-1@"+addr+"/app?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var sum int
	if err := conn.QueryRow(ctx, "SELECT 40 + 2").Scan(&sum); err != nil || sum != 42 {
		t.Fatalf("SELECT 40 + 2 = %d, %v", sum, err)
	}
}

// TestEC2Instance: with the data plane (root on Linux), an instance is a
// real set of processes that runs its user data, and the test reaches it on
// its public IP.
func TestEC2Instance(t *testing.T) {
	t.Parallel()
	mc := minicloudtest.New(t)
	if on, why := mc.DataPlane(); !on {
		if os.Geteuid() == 0 {
			t.Fatalf("root, yet no data plane: %s", why)
		}
		t.Skipf("instances need the data plane: %s", why)
	}
	ctx := t.Context()
	client := ec2.NewFromConfig(mc.Config)
	images, err := client.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"},
		Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"al2023-ami-2023*-x86_64"}}}})
	if err != nil || len(images.Images) == 0 {
		t.Fatalf("no Amazon Linux 2023 image: %v", err)
	}
	// The default VPC's subnets give instances public IPs; its default
	// security group admits only its members, so the web server needs one.
	sg, err := client.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId,
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80), CidrIp: aws.String("0.0.0.0/0")}); err != nil {
		t.Fatal(err)
	}
	userData := "#!/bin/sh\nmkdir -p /var/tmp/www && echo hello from $(hostname) > /var/tmp/www/index.html\n" +
		"cd /var/tmp/www && nohup python3 -m http.server 80 >/dev/null 2>&1 &\n"
	run, err := client.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: images.Images[0].ImageId, InstanceType: ec2types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SecurityGroupIds: []string{aws.ToString(sg.GroupId)},
		UserData: aws.String(b64.StdEncoding.EncodeToString([]byte(userData)))})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	out, err := ec2.NewInstanceRunningWaiter(client, func(o *ec2.InstanceRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, time.Second
	}).WaitForOutput(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ip := aws.ToString(out.Reservations[0].Instances[0].PublicIpAddress)
	if a, err := netip.ParseAddr(ip); err != nil || !mc.PublicCIDR().Contains(a) {
		t.Fatalf("public IP %s is outside the cloud's range %s", ip, mc.PublicCIDR())
	}
	// Running means booted; the user data's server may take a moment more.
	hc := &http.Client{Timeout: time.Second}
	var body string
	deadline := time.Now().Add(20 * time.Second)
	for {
		body, err = get(hc, "http://"+ip+"/")
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || !strings.HasPrefix(body, "hello from ") {
		t.Fatalf("http://%s/: %q, %v", ip, body, err)
	}
}

func get(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", url, resp.Status)
	}
	return string(b), err
}
