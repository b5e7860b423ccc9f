package cli_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/minicloud/minicloud/internal/termtest"
)

// sessionPublicCIDR is this test's part of the public range (the
// data-plane tests give each server its own /24 of 198.19.0.0/16).
const sessionPublicCIDR = "198.19.230.0/24"

// ssmProfile makes the instance profile a managed instance needs: a role
// EC2 may assume with AmazonSSMManagedInstanceCore. It returns its name.
func ssmProfile(t *testing.T, ctx context.Context, cfg aws.Config) string {
	t.Helper()
	c := iam.NewFromConfig(cfg)
	const name = "ssm-core"
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	steps := []func() error{
		func() error {
			_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)})
			return err
		},
		func() error {
			_, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(name),
				PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")})
			return err
		},
		func() error {
			_, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(name)})
			return err
		},
		func() error {
			_, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(name), RoleName: aws.String(name)})
			return err
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	return name
}

// TestSessionManagerCLI: `aws ssm start-session` (CLI v1 and v2, each
// running the real session-manager-plugin, driven through a terminal)
// opens a shell in an instance whose security group allows no inbound
// traffic at all — hostname, id, sudo id, a resize, ^C, a multi-line
// command, exit — and forwards a local port to a TCP server in a private
// subnet through it; DescribeSessions shows the sessions active, then in
// the history.
func TestSessionManagerCLI(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("Session Manager's test needs the data plane, so root (CI runs as root)")
	}
	clis := requireCLIs(t)
	if _, err := exec.LookPath("session-manager-plugin"); err != nil {
		t.Fatalf("the AWS CLIs run session-manager-plugin: build and install it with scripts/session-manager-plugin.sh (%v)", err)
	}
	s := startServer(t, "--ephemeral", "--data-plane", "on", "--public-cidr", sessionPublicCIDR, "--dns-listen", "off")
	ctx := context.Background()
	cfg := aws.Config{Region: "us-east-1", Credentials: awscreds.NewStaticCredentialsProvider("test", "test", ""), BaseEndpoint: aws.String(s.URL)}
	ec2c, ssmc := ec2.NewFromConfig(cfg), ssm.NewFromConfig(cfg)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	// A VPC with a public subnet (its route to the internet gateway) and a
	// private one; the session's target allows no inbound traffic, the
	// private server only port 8080 from the target's group.
	vpc, err := ec2c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.77.0.0/16")})
	must(err)
	vpcID := vpc.Vpc.VpcId
	subnet := func(cidr, az string) string {
		sn, err := ec2c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpcID, CidrBlock: aws.String(cidr), AvailabilityZone: aws.String(az)})
		must(err)
		return aws.ToString(sn.Subnet.SubnetId)
	}
	public, private := subnet("10.77.1.0/24", "us-east-1a"), subnet("10.77.2.0/24", "us-east-1b")
	private2 := subnet("10.77.3.0/24", "us-east-1a") // the database's second AZ
	igw, err := ec2c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	must(err)
	_, err = ec2c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: vpcID})
	must(err)
	rt, err := ec2c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: vpcID})
	must(err)
	_, err = ec2c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rt.RouteTable.RouteTableId, DestinationCidrBlock: aws.String("0.0.0.0/0"),
		GatewayId: igw.InternetGateway.InternetGatewayId})
	must(err)
	_, err = ec2c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId, SubnetId: aws.String(public)})
	must(err)
	// The target's agent reaches ssm.us-east-1.amazonaws.com through the
	// internet gateway, on its public IP.
	_, err = ec2c.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: aws.String(public),
		MapPublicIpOnLaunch: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}})
	must(err)
	profile := ssmProfile(t, ctx, cfg)
	sg := func(name string, ingress ...ec2types.IpPermission) string {
		out, err := ec2c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String(name), VpcId: vpcID})
		must(err)
		if len(ingress) > 0 {
			_, err = ec2c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: out.GroupId, IpPermissions: ingress})
			must(err)
		}
		return aws.ToString(out.GroupId)
	}
	noInbound := sg("no-inbound")
	serverSG := sg("private-server", ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(8080), ToPort: aws.Int32(8080),
		UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String(noInbound)}}})
	images, err := ec2c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"},
		Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"al2023-ami-2023*-x86_64"}}}})
	must(err)
	if len(images.Images) == 0 {
		t.Fatal("no AL2023 image")
	}
	run := func(subnet, group, profile, userData string) ec2types.Instance {
		in := &ec2.RunInstancesInput{ImageId: images.Images[0].ImageId, InstanceType: ec2types.InstanceTypeT3Micro,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(subnet), SecurityGroupIds: []string{group},
			UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(userData)))}
		if profile != "" {
			in.IamInstanceProfile = &ec2types.IamInstanceProfileSpecification{Name: aws.String(profile)}
		}
		out, err := ec2c.RunInstances(ctx, in)
		must(err)
		return out.Instances[0]
	}
	target := run(public, noInbound, profile, "#!/bin/sh\ntrue\n")
	// The server has no instance profile and no way out of its subnet:
	// not a managed instance.
	server := run(private, serverSG, "", "#!/bin/sh\nmkdir -p /srv/www && echo private-server-ok > /srv/www/index.html\n"+
		"cd /srv/www && python3 -m http.server 8080 >/dev/null 2>&1 &\n")
	for _, id := range []*string{target.InstanceId, server.InstanceId} {
		deadline := time.Now().Add(60 * time.Second)
		for {
			out, err := ec2c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{aws.ToString(id)}})
			must(err)
			if out.Reservations[0].Instances[0].State.Name == ec2types.InstanceStateNameRunning {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s not running", aws.ToString(id))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	targetID := aws.ToString(target.InstanceId)

	// A target that is not an instance of the account is not connected,
	// nor is a running instance that is not managed (no instance profile,
	// no path to Systems Manager's endpoints).
	for _, c := range clis {
		r := c.aws(t, s, awsEnv(t), "ssm", "start-session", "--target", "i-0000000000000000f")
		if r.code == 0 || !strings.Contains(r.stderr, "TargetNotConnected") {
			t.Errorf("%s: start-session on no instance: %s", c.name, r)
		}
		serverID := aws.ToString(server.InstanceId)
		r = c.aws(t, s, awsEnv(t), "ssm", "start-session", "--target", serverID)
		if r.code == 0 || !strings.Contains(r.stderr, "TargetNotConnected") || !strings.Contains(r.stderr, serverID+" is not connected.") {
			t.Errorf("%s: start-session on an instance that is not managed: %s", c.name, r)
		}
	}

	for _, c := range clis {
		t.Run("shell "+c.name, func(t *testing.T) {
			f, cmd := c.startSession(t, s, "--target", targetID)
			term := termtest.Read(f)
			term.Expect(t, "Starting session with SessionId: ")
			id := term.Line(t)
			send := func(in string) {
				t.Helper()
				if _, err := io.WriteString(f, in); err != nil {
					t.Fatal(err)
				}
			}
			send("hostname; id; sudo id\r")
			term.Expect(t, "ip-10-77-1-")
			term.Expect(t, "uid=1000(ssm-user) gid=1000(ssm-user) groups=1000(ssm-user)")
			term.Expect(t, "uid=0(root) gid=0(root) groups=0(root)")
			active, err := ssmc.DescribeSessions(ctx, &ssm.DescribeSessionsInput{State: ssmtypes.SessionStateActive,
				Filters: []ssmtypes.SessionFilter{{Key: ssmtypes.SessionFilterKeySessionId, Value: aws.String(id)}}})
			must(err)
			if len(active.Sessions) != 1 || aws.ToString(active.Sessions[0].Target) != targetID || active.Sessions[0].Status != ssmtypes.SessionStatusConnected ||
				aws.ToString(active.Sessions[0].DocumentName) != "SSM-SessionManagerRunShell" {
				t.Errorf("DescribeSessions Active: %+v", active.Sessions)
			}
			termtest.Shell(t, f, term, 24, 80, termtest.Resize(f))
			send("exit 3\r")
			term.Expect(t, "Exiting session with sessionId: "+id)
			termtest.WaitExit(t, cmd, 20*time.Second)
			hist, err := ssmc.DescribeSessions(ctx, &ssm.DescribeSessionsInput{State: ssmtypes.SessionStateHistory,
				Filters: []ssmtypes.SessionFilter{{Key: ssmtypes.SessionFilterKeySessionId, Value: aws.String(id)}}})
			must(err)
			if len(hist.Sessions) != 1 || hist.Sessions[0].Status != ssmtypes.SessionStatusTerminated || hist.Sessions[0].EndDate == nil {
				t.Errorf("DescribeSessions History: %+v", hist.Sessions)
			}
		})
	}

	t.Run("interactive command", func(t *testing.T) {
		f, cmd := clis[0].startSession(t, s, "--target", targetID, "--document-name", "AWS-StartInteractiveCommand",
			"--parameters", `{"command":["echo from-$(hostname | cut -c1-5) && id -un"]}`)
		term := termtest.Read(f)
		term.Expect(t, "Starting session with SessionId: ")
		id := term.Line(t)
		term.Expect(t, "from-ip-10")
		term.Expect(t, "ssm-user")
		term.Expect(t, "Exiting session with sessionId: "+id)
		termtest.WaitExit(t, cmd, 20*time.Second)
	})

	t.Run("preferences", func(t *testing.T) {
		prefs := `{"schemaVersion":"1.0","description":"Session Manager preferences","sessionType":"Standard_Stream","inputs":{` +
			`"runAsEnabled":true,"runAsDefaultUser":"nobody","idleSessionTimeout":"20","maxSessionDuration":"60",` +
			`"shellProfile":{"windows":"","linux":"export PROFILE_MARK=prefs-$((2*21))"}}}`
		_, err := ssmc.CreateDocument(ctx, &ssm.CreateDocumentInput{Name: aws.String("SSM-SessionManagerRunShell"), Content: aws.String(prefs),
			DocumentType: ssmtypes.DocumentTypeSession, DocumentFormat: ssmtypes.DocumentFormatJson})
		must(err)
		defer func() {
			_, err := ssmc.DeleteDocument(ctx, &ssm.DeleteDocumentInput{Name: aws.String("SSM-SessionManagerRunShell")})
			must(err)
		}()
		f, cmd := clis[len(clis)-1].startSession(t, s, "--target", targetID)
		term := termtest.Read(f)
		term.Expect(t, "Starting session with SessionId: ")
		id := term.Line(t)
		_, _ = io.WriteString(f, "id -un; echo mark=$PROFILE_MARK; exit\r")
		term.Expect(t, "\nnobody")
		term.Expect(t, "mark=prefs-42")
		term.Expect(t, "Exiting session with sessionId: "+id)
		termtest.WaitExit(t, cmd, 20*time.Second)
		hist, err := ssmc.DescribeSessions(ctx, &ssm.DescribeSessionsInput{State: ssmtypes.SessionStateHistory,
			Filters: []ssmtypes.SessionFilter{{Key: ssmtypes.SessionFilterKeySessionId, Value: aws.String(id)}}})
		must(err)
		if len(hist.Sessions) != 1 || aws.ToString(hist.Sessions[0].MaxSessionDuration) != "60" {
			t.Errorf("DescribeSessions of a session under preferences: %+v", hist.Sessions)
		}
	})

	t.Run("psql to RDS through port forwarding", func(t *testing.T) {
		rdsc := rds.NewFromConfig(cfg)
		dbSG := sg("db", ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(5432), ToPort: aws.Int32(5432),
			UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String(noInbound)}}})
		_, err := rdsc.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("private"),
			DBSubnetGroupDescription: aws.String("private"), SubnetIds: []string{private, private2}})
		must(err)
		_, err = rdsc.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("db1"), Engine: aws.String("postgres"),
			DBInstanceClass: aws.String("db.t3.micro"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("master"),
			MasterUserPassword: aws.String("secret-password"), DBSubnetGroupName: aws.String("private"), VpcSecurityGroupIds: []string{dbSG}})
		must(err)
		var endpoint string
		deadline := time.Now().Add(3 * time.Minute)
		for endpoint == "" {
			out, err := rdsc.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("db1")})
			must(err)
			if db := out.DBInstances[0]; aws.ToString(db.DBInstanceStatus) == "available" && db.Endpoint != nil {
				endpoint = aws.ToString(db.Endpoint.Address)
			} else if time.Now().After(deadline) {
				t.Fatalf("db1 is %s", aws.ToString(db.DBInstanceStatus))
			}
			time.Sleep(time.Second)
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		must(err)
		_, local, _ := net.SplitHostPort(l.Addr().String())
		l.Close()
		f, cmd := clis[len(clis)-1].startSession(t, s, "--target", targetID, "--document-name", "AWS-StartPortForwardingSessionToRemoteHost",
			"--parameters", fmt.Sprintf(`{"host":["%s"],"portNumber":["5432"],"localPortNumber":["%s"]}`, endpoint, local))
		term := termtest.Read(f)
		term.Expect(t, "Port "+local+" opened for sessionId ")
		psql := exec.Command("psql", "-h", "127.0.0.1", "-p", local, "-U", "master", "-d", "postgres", "-tAc", "select 6*7")
		psql.Env = append(os.Environ(), "PGPASSWORD=secret-password", "PGCONNECT_TIMEOUT=20")
		out, err := psql.CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "42" {
			t.Errorf("psql through the instance to %s: %v\n%s\n%s", endpoint, err, out, term.All())
		}
		_, _ = io.WriteString(f, "\x03")
		termtest.WaitExit(t, cmd, 20*time.Second)
	})

	t.Run("port forwarding to a private subnet", func(t *testing.T) {
		c := clis[len(clis)-1]
		l, err := net.Listen("tcp", "127.0.0.1:0")
		must(err)
		_, local, _ := net.SplitHostPort(l.Addr().String())
		l.Close()
		f, cmd := c.startSession(t, s, "--target", targetID, "--document-name", "AWS-StartPortForwardingSessionToRemoteHost",
			// By its private DNS name: the agent resolves it as the instance
			// does, with the VPC's resolver.
			"--parameters", fmt.Sprintf(`{"host":["%s"],"portNumber":["8080"],"localPortNumber":["%s"]}`, aws.ToString(server.PrivateDnsName), local))
		term := termtest.Read(f)
		term.Expect(t, "Port "+local+" opened for sessionId ")
		client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		for i := range 2 { // a second client after the first went
			var body string
			deadline := time.Now().Add(30 * time.Second) // the server's user data may still be starting
			for {
				resp, err := client.Get("http://127.0.0.1:" + local + "/index.html")
				if err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					body = string(b)
					if strings.Contains(body, "private-server-ok") {
						break
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("request %d through the forwarded port: %v %q\n%s", i, err, body, term.All())
				}
				time.Sleep(500 * time.Millisecond)
			}
		}
		_, _ = io.WriteString(f, "\x03") // ^C: the plugin terminates the session
		termtest.WaitExit(t, cmd, 20*time.Second)
	})
}

// startSession runs `aws ssm start-session` on a terminal of its own
// (24x80), as a user at a terminal does.
func (c awsCLI) startSession(t *testing.T, s *server, args ...string) (*os.File, *exec.Cmd) {
	t.Helper()
	env := awsEnv(t, "TERM=xterm")
	full := append([]string{"ssm", "start-session"}, args...)
	if c.endpointViaEnv {
		env = append(env, "AWS_ENDPOINT_URL="+s.URL)
	} else {
		full = append([]string{"--endpoint-url", s.URL}, full...)
	}
	cmd := exec.Command(c.path, full...)
	cmd.Env = env
	return termtest.Start(t, cmd, 24, 80), cmd
}

// TestSessionManagerRestart: minicloud stopping ends its open sessions
// cleanly (the plugin is told, the CLI exits 0, the history keeps them
// Terminated), and sessions a killed minicloud left open are recorded
// Terminated when it starts again.
func TestSessionManagerRestart(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("Session Manager's test needs the data plane, so root (CI runs as root)")
	}
	cli := requireCLIs(t)[1]
	stateDir := t.TempDir()
	args := []string{"--state-dir", stateDir, "--data-plane", "on", "--public-cidr", sessionPublicCIDR, "--dns-listen", "off"}
	s := startServer(t, args...)
	ctx := context.Background()
	cfgOf := func(s *server) aws.Config {
		return aws.Config{Region: "us-east-1", Credentials: awscreds.NewStaticCredentialsProvider("test", "test", ""), BaseEndpoint: aws.String(s.URL)}
	}
	clients := func(s *server) (*ec2.Client, *ssm.Client) {
		return ec2.NewFromConfig(cfgOf(s)), ssm.NewFromConfig(cfgOf(s))
	}
	ec2c, _ := clients(s)
	sns, err := ec2c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("default-for-az"), Values: []string{"true"}}}})
	if err != nil || len(sns.Subnets) == 0 {
		t.Fatalf("default subnets: %v", err)
	}
	sg, err := ec2c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("no-inbound"), Description: aws.String("nothing in"),
		VpcId: sns.Subnets[0].VpcId})
	if err != nil {
		t.Fatal(err)
	}
	images, err := ec2c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"},
		Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"al2023-ami-2023*-x86_64"}}}})
	if err != nil || len(images.Images) == 0 {
		t.Fatalf("no AL2023 image: %v", err)
	}
	out, err := ec2c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: images.Images[0].ImageId, InstanceType: ec2types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: sns.Subnets[0].SubnetId, SecurityGroupIds: []string{aws.ToString(sg.GroupId)},
		IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Name: aws.String(ssmProfile(t, ctx, cfgOf(s)))}})
	if err != nil {
		t.Fatal(err)
	}
	target := aws.ToString(out.Instances[0].InstanceId)
	// open starts a session and waits for its shell.
	open := func(s *server) (string, *os.File, *exec.Cmd, *termtest.Output) {
		t.Helper()
		var f *os.File
		var cmd *exec.Cmd
		var term *termtest.Output
		deadline := time.Now().Add(60 * time.Second)
		for { // the instance boots (again, after a restart)
			f, cmd = cli.startSession(t, s, "--target", target)
			term = termtest.Read(f)
			if term.WaitFor("Starting session with SessionId: ", 10*time.Second) {
				break
			}
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			if time.Now().After(deadline) {
				t.Fatalf("no session:\n%s", term.All())
			}
			time.Sleep(time.Second)
		}
		id := term.Line(t)
		_, _ = io.WriteString(f, "echo up-$((6*7))\r")
		term.Expect(t, "up-42")
		return id, f, cmd, term
	}

	first, _, cmd, term := open(s)
	s.stop(t)
	term.Expect(t, "Exiting session with sessionId: "+first)
	termtest.WaitExit(t, cmd, 20*time.Second)

	s = startServer(t, args...)
	second, _, cmd, _ := open(s)
	_ = s.cmd.Process.Kill() // kill -9: the session is not ended
	<-s.done
	_ = cmd.Process.Kill()
	_ = cmd.Wait()

	s = startServer(t, args...)
	_, ssmc := clients(s)
	hist, err := ssmc.DescribeSessions(ctx, &ssm.DescribeSessionsInput{State: ssmtypes.SessionStateHistory})
	if err != nil {
		t.Fatal(err)
	}
	ended := map[string]bool{}
	for _, ses := range hist.Sessions {
		if ses.Status == ssmtypes.SessionStatusTerminated && ses.EndDate != nil {
			ended[aws.ToString(ses.SessionId)] = true
		}
	}
	if !ended[first] || !ended[second] {
		t.Errorf("history after the restarts: %+v; want %s (stopped) and %s (killed) Terminated", hist.Sessions, first, second)
	}
	active, err := ssmc.DescribeSessions(ctx, &ssm.DescribeSessionsInput{State: ssmtypes.SessionStateActive})
	if err != nil || len(active.Sessions) != 0 {
		t.Errorf("active sessions after the restart: %+v %v", active.Sessions, err)
	}
}

// TestSessionManagerEnforce: with --iam enforce, a user whose policies do
// not allow ssm:StartSession on the instance is refused with AWS's
// message before any target check; one allowed it gets as far as the
// target (not connected here: no data plane).
func TestSessionManagerEnforce(t *testing.T) {
	for _, cli := range requireCLIs(t) {
		t.Run(cli.name, func(t *testing.T) {
			t.Parallel()
			s, root := enforcingServer(t)
			as := func(user, policy string) []string {
				t.Helper()
				cli.aws(t, s, root, "iam", "create-user", "--user-name", user)
				if r := cli.aws(t, s, root, "iam", "put-user-policy", "--user-name", user, "--policy-name", "p", "--policy-document", policy); r.code != 0 {
					t.Fatalf("put-user-policy: %s", r)
				}
				k := decode[struct {
					AccessKey struct{ AccessKeyId, SecretAccessKey string }
				}](t, cli.aws(t, s, root, "iam", "create-access-key", "--user-name", user)).AccessKey
				return append(append([]string(nil), root...), "AWS_ACCESS_KEY_ID="+k.AccessKeyId, "AWS_SECRET_ACCESS_KEY="+k.SecretAccessKey)
			}
			const target = "i-0123456789abcdef0"
			allowed := as("ops", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:StartSession",`+
				`"Resource":["arn:aws:ec2:us-east-1:`+enfAccount+`:instance/*","arn:aws:ssm:us-east-1:`+enfAccount+`:document/SSM-SessionManagerRunShell"]}]}`)
			denied := as("auditor", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:DescribeSessions","Resource":"*"}]}`)
			r := cli.aws(t, s, denied, "ssm", "start-session", "--target", target)
			want := "User: arn:aws:iam::" + enfAccount + ":user/auditor is not authorized to perform: ssm:StartSession on resource: arn:aws:ec2:us-east-1:" + enfAccount + ":instance/" + target
			if r.code == 0 || !strings.Contains(r.stderr, "AccessDenied") || !strings.Contains(r.stderr, want) {
				t.Errorf("start-session by a user not allowed it: %s\nwant AccessDenied: %s", r, want)
			}
			r = cli.aws(t, s, allowed, "ssm", "start-session", "--target", target)
			if r.code == 0 || !strings.Contains(r.stderr, "TargetNotConnected") || !strings.Contains(r.stderr, target+" is not connected.") {
				t.Errorf("start-session by a user allowed it, no data plane: %s", r)
			}
			if r := cli.aws(t, s, denied, "ssm", "describe-sessions", "--state", "History"); r.code != 0 || !strings.Contains(r.stdout, `"Sessions": []`) {
				t.Errorf("describe-sessions: %s", r)
			}
		})
	}
}
