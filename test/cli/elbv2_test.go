package cli_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestELBv2CLI builds the whole phase-2 setup with each AWS CLI — a VPC
// with an internet gateway, two subnets in two zones, a security group,
// two instances, an internet-facing Application Load Balancer (waited for
// with the CLI's own waiter), a target group, a listener and a rule — and
// describes it back. minicloud runs API-only here: no node serves, which
// DescribeTargetHealth says.
func TestELBv2CLI(t *testing.T) {
	for _, cli := range requireCLIs(t) {
		t.Run(cli.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, "--ephemeral", "--data-plane", "off", "--dns-listen", "off")
			env := awsEnv(t)
			do := func(args ...string) result {
				t.Helper()
				r := cli.aws(t, s, env, args...)
				if r.code != 0 {
					t.Fatalf("aws %s: %s", strings.Join(args, " "), r)
				}
				return r
			}
			vpc := decode[struct{ Vpc struct{ VpcId string } }](t, do("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16")).Vpc.VpcId
			subnet := func(cidr, zone string) string {
				return decode[struct{ Subnet struct{ SubnetId string } }](t, do("ec2", "create-subnet", "--vpc-id", vpc,
					"--cidr-block", cidr, "--availability-zone", zone)).Subnet.SubnetId
			}
			subA, subB := subnet("10.0.1.0/24", "us-east-1a"), subnet("10.0.2.0/24", "us-east-1b")
			igw := decode[struct {
				InternetGateway struct{ InternetGatewayId string }
			}](t, do("ec2", "create-internet-gateway")).InternetGateway.InternetGatewayId
			do("ec2", "attach-internet-gateway", "--internet-gateway-id", igw, "--vpc-id", vpc)
			sg := decode[struct{ GroupId string }](t, do("ec2", "create-security-group", "--group-name", "alb", "--description", "alb", "--vpc-id", vpc)).GroupId
			do("ec2", "authorize-security-group-ingress", "--group-id", sg, "--protocol", "tcp", "--port", "80", "--cidr", "0.0.0.0/0")
			image := decode[struct{ Images []struct{ ImageId string } }](t, do("ec2", "describe-images", "--filters", "Name=name,Values=al2023-ami-*-x86_64")).Images[0].ImageId
			var instances []string
			for _, sub := range []string{subA, subB} {
				out := decode[struct{ Instances []struct{ InstanceId string } }](t, do("ec2", "run-instances", "--image-id", image,
					"--instance-type", "t3.micro", "--subnet-id", sub, "--count", "1"))
				instances = append(instances, out.Instances[0].InstanceId)
			}

			lb := decode[struct {
				LoadBalancers []struct {
					LoadBalancerArn, DNSName, CanonicalHostedZoneId, Scheme, VpcId string
					State                                                          struct{ Code string }
				}
			}](t, do("elbv2", "create-load-balancer", "--name", "web", "--subnets", subA, subB, "--security-groups", sg,
				"--tags", "Key=env,Value=cli")).LoadBalancers[0]
			if !regexp.MustCompile(`^web-\d+\.us-east-1\.elb\.amazonaws\.com$`).MatchString(lb.DNSName) || lb.CanonicalHostedZoneId != "Z35SXDOTRQ7X7K" ||
				lb.Scheme != "internet-facing" || lb.VpcId != vpc || lb.State.Code != "provisioning" {
				t.Fatalf("create-load-balancer: %+v", lb)
			}
			do("elbv2", "wait", "load-balancer-available", "--load-balancer-arns", lb.LoadBalancerArn)

			tg := decode[struct {
				TargetGroups []struct{ TargetGroupArn string }
			}](t, do("elbv2", "create-target-group", "--name", "web-tg",
				"--protocol", "HTTP", "--port", "8080", "--vpc-id", vpc, "--health-check-path", "/health")).TargetGroups[0].TargetGroupArn
			listener := decode[struct {
				Listeners []struct{ ListenerArn string }
			}](t, do("elbv2", "create-listener", "--load-balancer-arn", lb.LoadBalancerArn,
				"--protocol", "HTTP", "--port", "80", "--default-actions", "Type=forward,TargetGroupArn="+tg)).Listeners[0].ListenerArn
			do("elbv2", "create-rule", "--listener-arn", listener, "--priority", "10",
				"--conditions", `[{"Field":"path-pattern","PathPatternConfig":{"Values":["/static/*"]}}]`,
				"--actions", `[{"Type":"fixed-response","FixedResponseConfig":{"StatusCode":"200","ContentType":"text/plain","MessageBody":"static"}}]`)
			do("elbv2", "register-targets", "--target-group-arn", tg, "--targets", "Id="+instances[0], "Id="+instances[1]+",Port=9090")

			lbs := decode[struct {
				LoadBalancers []struct {
					State             struct{ Code string }
					AvailabilityZones []struct{ ZoneName, SubnetId string }
					SecurityGroups    []string
				}
			}](t, do("elbv2", "describe-load-balancers", "--names", "web")).LoadBalancers
			if len(lbs) != 1 || lbs[0].State.Code != "active" || len(lbs[0].AvailabilityZones) != 2 || !slices.Equal(lbs[0].SecurityGroups, []string{sg}) {
				t.Errorf("describe-load-balancers: %+v", lbs)
			}
			rules := decode[struct {
				Rules []struct {
					Priority  string
					IsDefault bool
					Actions   []struct{ Type string }
				}
			}](t, do("elbv2", "describe-rules", "--listener-arn", listener)).Rules
			if len(rules) != 2 || rules[0].Priority != "10" || rules[0].Actions[0].Type != "fixed-response" || !rules[1].IsDefault || rules[1].Actions[0].Type != "forward" {
				t.Errorf("describe-rules: %+v", rules)
			}
			tgs := decode[struct {
				TargetGroups []struct {
					HealthCheckPath  string
					LoadBalancerArns []string
				}
			}](t, do("elbv2", "describe-target-groups", "--load-balancer-arn", lb.LoadBalancerArn)).TargetGroups
			if len(tgs) != 1 || tgs[0].HealthCheckPath != "/health" || !slices.Equal(tgs[0].LoadBalancerArns, []string{lb.LoadBalancerArn}) {
				t.Errorf("describe-target-groups: %+v", tgs)
			}
			health := decode[struct {
				TargetHealthDescriptions []struct {
					Target struct {
						Id   string
						Port int
					}
					TargetHealth struct{ State, Reason string }
				}
			}](t, do("elbv2", "describe-target-health", "--target-group-arn", tg)).TargetHealthDescriptions
			if len(health) != 2 {
				t.Fatalf("describe-target-health: %+v", health)
			}
			for _, h := range health {
				if h.TargetHealth.State != "unavailable" || h.TargetHealth.Reason != "Target.HealthCheckDisabled" {
					t.Errorf("API-only target health: %+v", h)
				}
			}
			tags := decode[struct {
				TagDescriptions []struct{ Tags []struct{ Key, Value string } }
			}](t, do("elbv2", "describe-tags", "--resource-arns", lb.LoadBalancerArn)).TagDescriptions
			if len(tags) != 1 || len(tags[0].Tags) != 1 || tags[0].Tags[0].Value != "cli" {
				t.Errorf("describe-tags: %+v", tags)
			}
			r := cli.aws(t, s, env, "elbv2", "create-load-balancer", "--name", "one-zone", "--subnets", subA)
			if r.code == 0 || !strings.Contains(r.stderr, "ValidationError") || !strings.Contains(r.stderr, "At least two subnets in two different Availability Zones must be specified") {
				t.Errorf("one zone: %s", r)
			}

			do("elbv2", "delete-load-balancer", "--load-balancer-arn", lb.LoadBalancerArn)
			do("elbv2", "wait", "load-balancers-deleted", "--load-balancer-arns", lb.LoadBalancerArn)
			do("elbv2", "delete-target-group", "--target-group-arn", tg)
		})
	}
}

// elbv2Boto3Script builds the same setup with boto3 and prints what it
// describes back, as JSON.
const elbv2Boto3Script = `
import json, sys, boto3
url = sys.argv[1]
ec2 = boto3.client("ec2", endpoint_url=url, region_name="us-east-1")
elb = boto3.client("elbv2", endpoint_url=url, region_name="us-east-1")
vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
subs = [ec2.create_subnet(VpcId=vpc, CidrBlock=c, AvailabilityZone=z)["Subnet"]["SubnetId"]
        for c, z in (("10.1.1.0/24", "us-east-1a"), ("10.1.2.0/24", "us-east-1b"))]
igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
sg = ec2.create_security_group(GroupName="alb", Description="alb", VpcId=vpc)["GroupId"]
image = ec2.describe_images(Filters=[{"Name": "name", "Values": ["al2023-ami-*-x86_64"]}])["Images"][0]["ImageId"]
insts = [ec2.run_instances(ImageId=image, InstanceType="t3.micro", SubnetId=s, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"] for s in subs]
lb = elb.create_load_balancer(Name="boto", Subnets=subs, SecurityGroups=[sg], Scheme="internal")["LoadBalancers"][0]
elb.get_waiter("load_balancer_available").wait(LoadBalancerArns=[lb["LoadBalancerArn"]], WaiterConfig={"Delay": 1, "MaxAttempts": 30})
tg = elb.create_target_group(Name="boto-tg", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]
l = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
    DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])["Listeners"][0]["ListenerArn"]
elb.create_rule(ListenerArn=l, Priority=5, Conditions=[{"Field": "host-header", "Values": ["api.example.com"]}],
    Actions=[{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}])
elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": i} for i in insts])
out = {
    "lb": elb.describe_load_balancers(Names=["boto"])["LoadBalancers"][0],
    "rules": elb.describe_rules(ListenerArn=l)["Rules"],
    "health": elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"],
    "attrs": elb.describe_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"])["Attributes"],
}
try:
    elb.create_target_group(Name="boto-fn", TargetType="lambda")
    out["lambda"] = "created"
except elb.exceptions.ClientError as e:
    out["lambda"] = e.response["Error"]["Code"]
print(json.dumps(out, default=str))
`

func TestELBv2Boto3(t *testing.T) {
	t.Parallel()
	py := findBoto3Python(t)
	s := startServer(t, "--ephemeral", "--data-plane", "off", "--dns-listen", "off")
	r := run(t, awsEnv(t), py, "-c", elbv2Boto3Script, s.URL)
	out := decode[struct {
		LB struct {
			DNSName, Scheme string
			State           struct{ Code string }
		} `json:"lb"`
		Rules []struct {
			Priority string
			Actions  []struct {
				Type           string
				RedirectConfig struct{ Protocol, StatusCode string }
			}
		} `json:"rules"`
		Health []struct {
			TargetHealth struct{ State, Reason string }
		} `json:"health"`
		Attrs  []struct{ Key, Value string } `json:"attrs"`
		Lambda string                        `json:"lambda"`
	}](t, r)
	if !strings.HasPrefix(out.LB.DNSName, "internal-boto-") || out.LB.Scheme != "internal" || out.LB.State.Code != "active" {
		t.Errorf("load balancer %+v", out.LB)
	}
	if len(out.Rules) != 2 || out.Rules[0].Priority != "5" || out.Rules[0].Actions[0].RedirectConfig.StatusCode != "HTTP_301" {
		t.Errorf("rules %+v", out.Rules)
	}
	if len(out.Health) != 2 || out.Health[0].TargetHealth.State != "unavailable" {
		t.Errorf("health %+v", out.Health)
	}
	if !slices.ContainsFunc(out.Attrs, func(a struct{ Key, Value string }) bool {
		return a.Key == "idle_timeout.timeout_seconds" && a.Value == "60"
	}) {
		t.Errorf("attributes %+v", out.Attrs)
	}
	if out.Lambda != "ValidationError" {
		t.Errorf("a lambda target group: %s", out.Lambda)
	}
}
