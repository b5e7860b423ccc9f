package elbv2_test

import (
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/minicloud/minicloud/internal/server"
)

// TestLifecycle builds the whole phase-2 setup API-only and describes it
// back: a load balancer becomes active, its listener, rule, target group
// and targets read back as created, and everything deletes.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{EC2Runtime: &testRuntime{}})
	n := e.newNetwork(t, true)
	lb := e.newLB(t, n, "web")
	arn := aws.ToString(lb.LoadBalancerArn)
	if !regexp.MustCompile(`^arn:aws:elasticloadbalancing:us-east-1:\d{12}:loadbalancer/app/web/[0-9a-f]{16}$`).MatchString(arn) {
		t.Errorf("ARN %s", arn)
	}
	if !regexp.MustCompile(`^web-\d+\.us-east-1\.elb\.amazonaws\.com$`).MatchString(aws.ToString(lb.DNSName)) {
		t.Errorf("DNS name %s", aws.ToString(lb.DNSName))
	}
	if lb.State.Code != types.LoadBalancerStateEnumProvisioning || lb.Scheme != types.LoadBalancerSchemeEnumInternetFacing ||
		aws.ToString(lb.CanonicalHostedZoneId) != "Z35SXDOTRQ7X7K" || aws.ToString(lb.VpcId) != n.vpc ||
		len(lb.AvailabilityZones) != 2 || lb.Type != types.LoadBalancerTypeEnumApplication || lb.IpAddressType != types.IpAddressTypeIpv4 {
		t.Errorf("created %+v", lb)
	}
	if len(lb.SecurityGroups) != 1 || lb.SecurityGroups[0] != n.defaultSG {
		t.Errorf("security groups %v, want the VPC's default %s", lb.SecurityGroups, n.defaultSG)
	}
	active := e.waitState(t, arn, "active")
	for _, az := range active.AvailabilityZones {
		if len(az.LoadBalancerAddresses) != 0 {
			t.Errorf("an ALB shows no addresses: %+v", az)
		}
	}

	tg := e.newTG(t, n, "web-tg")
	tgARN := aws.ToString(tg.TargetGroupArn)
	if aws.ToString(tg.HealthCheckPath) != "/" || aws.ToInt32(tg.HealthCheckIntervalSeconds) != 30 || aws.ToInt32(tg.HealthCheckTimeoutSeconds) != 5 ||
		aws.ToInt32(tg.HealthyThresholdCount) != 5 || aws.ToInt32(tg.UnhealthyThresholdCount) != 2 || aws.ToString(tg.Matcher.HttpCode) != "200" ||
		aws.ToString(tg.HealthCheckPort) != "traffic-port" || tg.TargetType != types.TargetTypeEnumInstance || aws.ToString(tg.ProtocolVersion) != "HTTP1" {
		t.Errorf("target group defaults %+v", tg)
	}
	l := e.newListener(t, arn, tgARN, 80)
	rule, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(10),
		Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/api/*"}}},
		Actions:    []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("200"), ContentType: aws.String("text/plain"), MessageBody: aws.String("ok")}}}})
	if err != nil {
		t.Fatal(err)
	}
	i1, i2 := e.runInstance(t, n.subnetA), e.runInstance(t, n.subnetB)
	if _, err := e.elb.RegisterTargets(e.ctx, &elb.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn,
		Targets: []types.TargetDescription{{Id: aws.String(i1)}, {Id: aws.String(i2), Port: aws.Int32(8080)}}}); err != nil {
		t.Fatal(err)
	}

	rules, err := e.elb.DescribeRules(e.ctx, &elb.DescribeRulesInput{ListenerArn: l.ListenerArn})
	if err != nil {
		t.Fatal(err)
	}
	if len(rules.Rules) != 2 || aws.ToString(rules.Rules[0].Priority) != "10" || aws.ToString(rules.Rules[1].Priority) != "default" ||
		!aws.ToBool(rules.Rules[1].IsDefault) || aws.ToString(rules.Rules[0].RuleArn) != aws.ToString(rule.Rules[0].RuleArn) {
		t.Errorf("rules %+v", rules.Rules)
	}
	if c := rules.Rules[0].Conditions[0]; c.PathPatternConfig == nil || c.PathPatternConfig.Values[0] != "/api/*" || c.Values[0] != "/api/*" {
		t.Errorf("condition %+v", c)
	}
	health, err := e.elb.DescribeTargetHealth(e.ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn})
	if err != nil {
		t.Fatal(err)
	}
	if len(health.TargetHealthDescriptions) != 2 {
		t.Fatalf("health %+v", health.TargetHealthDescriptions)
	}
	for _, h := range health.TargetHealthDescriptions {
		if h.TargetHealth.State != types.TargetHealthStateEnumUnavailable || h.TargetHealth.Reason != types.TargetHealthReasonEnumHealthCheckDisabled {
			t.Errorf("API-only health %+v %+v", *h.Target.Id, *h.TargetHealth)
		}
	}
	tgs, err := e.elb.DescribeTargetGroups(e.ctx, &elb.DescribeTargetGroupsInput{LoadBalancerArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if len(tgs.TargetGroups) != 1 || len(tgs.TargetGroups[0].LoadBalancerArns) != 1 || tgs.TargetGroups[0].LoadBalancerArns[0] != arn {
		t.Errorf("target groups of the load balancer %+v", tgs.TargetGroups)
	}

	if _, err := e.elb.DeleteTargetGroup(e.ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: tg.TargetGroupArn}); err == nil {
		t.Error("a target group a listener uses was deleted")
	} else {
		wantError(t, err, "ResourceInUse", "")
	}
	if _, err := e.elb.DeleteLoadBalancer(e.ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.elb.DeleteTargetGroup(e.ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: tg.TargetGroupArn}); err != nil {
		t.Fatal(err)
	}
	_, err = e.elb.DescribeLoadBalancers(e.ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{arn}})
	wantError(t, err, "LoadBalancerNotFound", "")
}
