package elbv2_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/minicloud/minicloud/internal/server"
)

// TestErrors checks each operation's refusals: AWS's code and message.
func TestErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{EC2Runtime: &testRuntime{}, Certificates: newFakeCerts()})
	n := e.newNetwork(t, true)
	lb := e.newLB(t, n, "errs")
	lbARN := lb.LoadBalancerArn
	tg := e.newTG(t, n, "errs-tg")
	tgARN := tg.TargetGroupArn
	l := e.newListener(t, *lbARN, *tgARN, 80)
	if _, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(5),
		Conditions: []types.RuleCondition{{Field: aws.String("host-header"), Values: []string{"a.example.com"}}},
		Actions:    []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: tgARN}}}); err != nil {
		t.Fatal(err)
	}
	other := e.newNetwork(t, false)
	otherTG := e.newTG(t, other, "errs-other")
	fixed := []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("404")}}}
	forward := []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: tgARN}}
	host := func(v ...string) []types.RuleCondition {
		return []types.RuleCondition{{Field: aws.String("host-header"), Values: v}}
	}
	missingLB := strings.Replace(*lbARN, "/errs/", "/nope/", 1)

	tests := []struct {
		name      string
		call      func() error
		code, msg string
	}{
		{"lb name too long", func() error {
			_, err := e.elb.CreateLoadBalancer(e.ctx, &elb.CreateLoadBalancerInput{Name: aws.String(strings.Repeat("a", 33)), Subnets: []string{n.subnetA, n.subnetB}})
			return err
		}, "ValidationError", "The load balancer name '" + strings.Repeat("a", 33) + "' cannot be longer than '32' characters"},
		{"lb name chars", func() error {
			_, err := e.elb.CreateLoadBalancer(e.ctx, &elb.CreateLoadBalancerInput{Name: aws.String("a_b"), Subnets: []string{n.subnetA, n.subnetB}})
			return err
		}, "ValidationError", "The load balancer name 'a_b' can only contain characters that are alphanumeric characters or hyphens(-)"},
		{"lb name hyphen", func() error {
			_, err := e.elb.CreateLoadBalancer(e.ctx, &elb.CreateLoadBalancerInput{Name: aws.String("ab-"), Subnets: []string{n.subnetA, n.subnetB}})
			return err
		}, "ValidationError", "The load balancer name 'ab-' cannot begin or end with '-'"},
		{"lb name internal-", func() error {
			_, err := e.elb.CreateLoadBalancer(e.ctx, &elb.CreateLoadBalancerInput{Name: aws.String("internal-x"), Subnets: []string{n.subnetA, n.subnetB}})
			return err
		}, "ValidationError", "The load balancer name 'internal-x' cannot begin with 'internal-'"},
		{"one zone", func() error {
			_, err := e.elb.CreateLoadBalancer(e.ctx, &elb.CreateLoadBalancerInput{Name: aws.String("one"), Subnets: []string{n.subnetA}})
			return err
		}, "ValidationError", "At least two subnets in two different Availability Zones must be specified"},
		{"two subnets one zone", func() error {
			_, err := e.elb.CreateLoadBalancer(e.ctx, &elb.CreateLoadBalancerInput{Name: aws.String("same"), Subnets: []string{n.subnetA, n.subnetA2, n.subnetB}})
			return err
		}, "InvalidConfigurationRequest", "A load balancer cannot be attached to multiple subnets in the same Availability Zone"},
		{"subnet not found", func() error {
			_, err := e.elb.CreateLoadBalancer(e.ctx, &elb.CreateLoadBalancerInput{Name: aws.String("nosub"), Subnets: []string{n.subnetA, "subnet-0123456789abcdef0"}})
			return err
		}, "SubnetNotFound", "InvalidSubnetID.NotFound"},
		{"internet-facing without gateway", func() error {
			_, err := e.elb.CreateLoadBalancer(e.ctx, &elb.CreateLoadBalancerInput{Name: aws.String("noigw"), Subnets: []string{other.subnetA, other.subnetB}})
			return err
		}, "InvalidSubnet", "VPC " + other.vpc + " has no internet gateway"},
		{"network type", func() error {
			_, err := e.elb.CreateLoadBalancer(e.ctx, &elb.CreateLoadBalancerInput{Name: aws.String("nlb"), Type: types.LoadBalancerTypeEnumNetwork, Subnets: []string{n.subnetA, n.subnetB}})
			return err
		}, "ValidationError", "minicloud does not run load balancers of type 'network' yet: only 'application' load balancers are supported"},
		{"dualstack", func() error {
			_, err := e.elb.CreateLoadBalancer(e.ctx, &elb.CreateLoadBalancerInput{Name: aws.String("v6"), IpAddressType: types.IpAddressTypeDualstack, Subnets: []string{n.subnetA, n.subnetB}})
			return err
		}, "InvalidConfigurationRequest", "IP address type 'dualstack' needs subnets with IPv6 CIDR blocks, and minicloud's VPCs have no IPv6 yet: use 'ipv4'"},
		{"security group of another VPC", func() error {
			_, err := e.elb.CreateLoadBalancer(e.ctx, &elb.CreateLoadBalancerInput{Name: aws.String("sgvpc"), Subnets: []string{n.subnetA, n.subnetB}, SecurityGroups: []string{other.sg}})
			return err
		}, "InvalidConfigurationRequest", "Security group '" + other.sg + "' does not belong to VPC '" + n.vpc + "'"},
		{"duplicate name, other settings", func() error {
			_, err := e.elb.CreateLoadBalancer(e.ctx, &elb.CreateLoadBalancerInput{Name: aws.String("errs"), Scheme: types.LoadBalancerSchemeEnumInternal, Subnets: []string{n.subnetA, n.subnetB}})
			return err
		}, "DuplicateLoadBalancerName", "A load balancer with the same name 'errs' exists, but with different settings"},
		{"describe missing lb", func() error {
			_, err := e.elb.DescribeLoadBalancers(e.ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{missingLB}})
			return err
		}, "LoadBalancerNotFound", "One or more load balancers not found"},
		{"describe by names and ARNs", func() error {
			_, err := e.elb.DescribeLoadBalancers(e.ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{*lbARN}, Names: []string{"errs"}})
			return err
		}, "ValidationError", "Load balancer names and load balancer ARNs cannot be specified at the same time"},
		{"malformed ARN", func() error {
			_, err := e.elb.DescribeLoadBalancers(e.ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{"nope"}})
			return err
		}, "ValidationError", "'nope' is not a valid load balancer ARN"},
		{"set security groups empty", func() error {
			_, err := e.elb.SetSecurityGroups(e.ctx, &elb.SetSecurityGroupsInput{LoadBalancerArn: lbARN, SecurityGroups: []string{}})
			return err
		}, "ValidationError", "At least one security group must be specified for an Application Load Balancer"},
		{"lb attribute unknown", func() error {
			_, err := e.elb.ModifyLoadBalancerAttributes(e.ctx, &elb.ModifyLoadBalancerAttributesInput{LoadBalancerArn: lbARN,
				Attributes: []types.LoadBalancerAttribute{{Key: aws.String("nope"), Value: aws.String("1")}}})
			return err
		}, "ValidationError", "Load balancer attribute key 'nope' is not recognized"},
		{"idle timeout range", func() error {
			_, err := e.elb.ModifyLoadBalancerAttributes(e.ctx, &elb.ModifyLoadBalancerAttributesInput{LoadBalancerArn: lbARN,
				Attributes: []types.LoadBalancerAttribute{{Key: aws.String("idle_timeout.timeout_seconds"), Value: aws.String("5000")}}})
			return err
		}, "ValidationError", "'idle_timeout.timeout_seconds' value '5000' must be between '1-4000' inclusive"},
		{"access logs without bucket", func() error {
			_, err := e.elb.ModifyLoadBalancerAttributes(e.ctx, &elb.ModifyLoadBalancerAttributesInput{LoadBalancerArn: lbARN,
				Attributes: []types.LoadBalancerAttribute{{Key: aws.String("access_logs.s3.enabled"), Value: aws.String("true")}}})
			return err
		}, "InvalidConfigurationRequest", "The value of 'access_logs.s3.bucket' cannot be empty when access logs are enabled"},

		{"duplicate listener", func() error {
			_, err := e.elb.CreateListener(e.ctx, &elb.CreateListenerInput{LoadBalancerArn: lbARN, Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), DefaultActions: fixed})
			return err
		}, "DuplicateListener", "A listener already exists on this port for this load balancer '" + *lbARN + "'"},
		{"listener protocol", func() error {
			_, err := e.elb.CreateListener(e.ctx, &elb.CreateListenerInput{LoadBalancerArn: lbARN, Protocol: types.ProtocolEnumTcp, Port: aws.Int32(81), DefaultActions: forward})
			return err
		}, "ValidationError", "Listener protocol 'TCP' must be one of 'HTTPS, HTTP'"},
		{"https without certificate", func() error {
			_, err := e.elb.CreateListener(e.ctx, &elb.CreateListenerInput{LoadBalancerArn: lbARN, Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443), DefaultActions: forward})
			return err
		}, "ValidationError", "A certificate must be specified for HTTPS listeners"},
		{"https certificate not found", func() error {
			_, err := e.elb.CreateListener(e.ctx, &elb.CreateListenerInput{LoadBalancerArn: lbARN, Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443), DefaultActions: forward,
				Certificates: []types.Certificate{{CertificateArn: aws.String("arn:aws:acm:us-east-1:000000000000:certificate/nope")}}})
			return err
		}, "CertificateNotFound", "Certificate 'arn:aws:acm:us-east-1:000000000000:certificate/nope' not found"},
		{"ssl policy not found", func() error {
			_, err := e.elb.CreateListener(e.ctx, &elb.CreateListenerInput{LoadBalancerArn: lbARN, Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443), DefaultActions: forward,
				SslPolicy: aws.String("Nope"), Certificates: []types.Certificate{{CertificateArn: aws.String("arn:aws:acm:us-east-1:000000000000:certificate/nope")}}})
			return err
		}, "SSLPolicyNotFound", "SSL policy 'Nope' not found"},
		{"forward to a group of another VPC", func() error {
			_, err := e.elb.CreateListener(e.ctx, &elb.CreateListenerInput{LoadBalancerArn: lbARN, Protocol: types.ProtocolEnumHttp, Port: aws.Int32(82),
				DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: otherTG.TargetGroupArn}}})
			return err
		}, "InvalidConfigurationRequest", "Target group '" + *otherTG.TargetGroupArn + "' is in a different VPC than load balancer '" + *lbARN + "'"},
		{"listener not found", func() error {
			_, err := e.elb.DescribeListeners(e.ctx, &elb.DescribeListenersInput{ListenerArns: []string{strings.Replace(*l.ListenerArn, "/errs/", "/nope/", 1)}})
			return err
		}, "ListenerNotFound", "One or more listeners not found"},
		{"describe listeners without ARNs", func() error {
			_, err := e.elb.DescribeListeners(e.ctx, &elb.DescribeListenersInput{})
			return err
		}, "ValidationError", "You must specify either listener ARNs or a load balancer ARN"},

		{"priority in use", func() error {
			_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(5), Conditions: host("b.example.com"), Actions: forward})
			return err
		}, "PriorityInUse", "Priority '5' is currently in use"},
		{"priority range", func() error {
			_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(50001), Conditions: host("b.example.com"), Actions: forward})
			return err
		}, "ValidationError", "1 validation error detected: Value '50001' at 'priority' failed to satisfy constraint: Member must have value less than or equal to 50000"},
		{"no condition", func() error {
			_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(6), Conditions: []types.RuleCondition{}, Actions: forward})
			return err
		}, "ValidationError", "A condition must be specified"},
		{"condition field", func() error {
			_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(6),
				Conditions: []types.RuleCondition{{Field: aws.String("cookie"), Values: []string{"x"}}}, Actions: forward})
			return err
		}, "ValidationError", "Condition field 'cookie' must be one of '[http-header, http-request-method, host-header, path-pattern, query-string, source-ip]'"},
		{"too many wildcards", func() error {
			_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(6), Conditions: []types.RuleCondition{
				{Field: aws.String("path-pattern"), PathPatternConfig: &types.PathPatternConditionConfig{Values: []string{"/a*?", "/b*?", "/c*?"}}}}, Actions: forward})
			return err
		}, "ValidationError", "A rule can only have '5' wildcards"},
		{"too many values in a condition", func() error {
			_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(6), Conditions: host("a.x", "b.x"), Actions: forward})
			return err
		}, "ValidationError", "The 'host-header' field contains too many values; the limit is '1'"},
		{"too many values", func() error {
			_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(6), Conditions: []types.RuleCondition{
				{Field: aws.String("host-header"), HostHeaderConfig: &types.HostHeaderConditionConfig{Values: []string{"a.x", "b.x", "c.x"}}},
				{Field: aws.String("path-pattern"), PathPatternConfig: &types.PathPatternConditionConfig{Values: []string{"/a", "/b", "/c"}}}}, Actions: forward})
			return err
		}, "ValidationError", "A rule can only have '5' condition values"},
		{"source ip", func() error {
			_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(6),
				Conditions: []types.RuleCondition{{Field: aws.String("source-ip"), SourceIpConfig: &types.SourceIpConditionConfig{Values: []string{"nope"}}}}, Actions: forward})
			return err
		}, "ValidationError", "The 'source-ip' value 'nope' is not a valid CIDR block"},
		{"redirect loop", func() error {
			_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(6), Conditions: host("c.example.com"),
				Actions: []types.Action{{Type: types.ActionTypeEnumRedirect, RedirectConfig: &types.RedirectActionConfig{StatusCode: types.RedirectActionStatusCodeEnumHttp301}}}})
			return err
		}, "InvalidLoadBalancerAction", "The redirect configuration is not valid because it creates a loop."},
		{"fixed response status", func() error {
			_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(6), Conditions: host("c.example.com"),
				Actions: []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("302")}}}})
			return err
		}, "ValidationError", ""},
		{"fixed response body", func() error {
			_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(6), Conditions: host("c.example.com"),
				Actions: []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("200"), MessageBody: aws.String(strings.Repeat("x", 1025))}}}})
			return err
		}, "ValidationError", ""},
		{"authenticate action", func() error {
			_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(6), Conditions: host("c.example.com"),
				Actions: append([]types.Action{{Type: types.ActionTypeEnumAuthenticateOidc, Order: aws.Int32(1)}}, fixed...)})
			return err
		}, "InvalidLoadBalancerAction", "minicloud does not support authenticate-oidc actions: it has no identity provider to authenticate users with"},
		{"delete default rule", func() error {
			rules, err := e.elb.DescribeRules(e.ctx, &elb.DescribeRulesInput{ListenerArn: l.ListenerArn})
			if err != nil {
				return err
			}
			_, err = e.elb.DeleteRule(e.ctx, &elb.DeleteRuleInput{RuleArn: rules.Rules[len(rules.Rules)-1].RuleArn})
			return err
		}, "OperationNotPermitted", "You cannot delete the default rule of a listener"},
		{"set priorities twice", func() error {
			rules, err := e.elb.DescribeRules(e.ctx, &elb.DescribeRulesInput{ListenerArn: l.ListenerArn})
			if err != nil {
				return err
			}
			_, err = e.elb.SetRulePriorities(e.ctx, &elb.SetRulePrioritiesInput{RulePriorities: []types.RulePriorityPair{
				{RuleArn: rules.Rules[0].RuleArn, Priority: aws.Int32(7)}, {RuleArn: rules.Rules[0].RuleArn, Priority: aws.Int32(7)}}})
			return err
		}, "ValidationError", "Priority '7' was provided multiple times"},

		{"tg name", func() error {
			_, err := e.elb.CreateTargetGroup(e.ctx, &elb.CreateTargetGroupInput{Name: aws.String("-tg"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String(n.vpc)})
			return err
		}, "ValidationError", "Target group name '-tg' cannot begin or end with '-'"},
		{"tg lambda", func() error {
			_, err := e.elb.CreateTargetGroup(e.ctx, &elb.CreateTargetGroupInput{Name: aws.String("fn"), TargetType: types.TargetTypeEnumLambda})
			return err
		}, "ValidationError", "minicloud does not support target groups of target type 'lambda' yet: use 'instance' or 'ip'"},
		{"tg timeout over interval", func() error {
			_, err := e.elb.CreateTargetGroup(e.ctx, &elb.CreateTargetGroupInput{Name: aws.String("hc"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String(n.vpc),
				HealthCheckIntervalSeconds: aws.Int32(10), HealthCheckTimeoutSeconds: aws.Int32(10)})
			return err
		}, "ValidationError", "Health check timeout '10' must be smaller than the interval '10'"},
		{"tg matcher", func() error {
			_, err := e.elb.CreateTargetGroup(e.ctx, &elb.CreateTargetGroupInput{Name: aws.String("hc"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String(n.vpc),
				Matcher: &types.Matcher{HttpCode: aws.String("600")}})
			return err
		}, "ValidationError", "Health check matcher HTTP code '600' must be between 200 and 499"},
		{"tg duplicate", func() error {
			_, err := e.elb.CreateTargetGroup(e.ctx, &elb.CreateTargetGroupInput{Name: aws.String("errs-tg"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(8080), VpcId: aws.String(n.vpc)})
			return err
		}, "DuplicateTargetGroupName", "A target group with the same name 'errs-tg' exists, but with different settings"},
		{"tg in use", func() error {
			_, err := e.elb.DeleteTargetGroup(e.ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: tgARN})
			return err
		}, "ResourceInUse", "Target group '" + *tgARN + "' is currently in use by a listener or a rule"},
		{"tg attribute", func() error {
			_, err := e.elb.ModifyTargetGroupAttributes(e.ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: tgARN,
				Attributes: []types.TargetGroupAttribute{{Key: aws.String("stickiness.type"), Value: aws.String("source_ip")}}})
			return err
		}, "InvalidConfigurationRequest", "Stickiness type 'source_ip' is not supported for target groups with the HTTP protocol"},
		{"tg not found", func() error {
			_, err := e.elb.DescribeTargetGroups(e.ctx, &elb.DescribeTargetGroupsInput{Names: []string{"nope"}})
			return err
		}, "TargetGroupNotFound", "Target groups '[nope]' not found"},

		{"register unknown instance", func() error {
			_, err := e.elb.RegisterTargets(e.ctx, &elb.RegisterTargetsInput{TargetGroupArn: tgARN, Targets: []types.TargetDescription{{Id: aws.String("i-0123456789abcdef0")}}})
			return err
		}, "InvalidTarget", "The specified target does not exist, is not in the same VPC as the target group, or has an unsupported instance type."},
		{"register bad instance ID", func() error {
			_, err := e.elb.RegisterTargets(e.ctx, &elb.RegisterTargetsInput{TargetGroupArn: tgARN, Targets: []types.TargetDescription{{Id: aws.String("10.0.0.1")}}})
			return err
		}, "ValidationError", "Instance ID '10.0.0.1' is not valid"},
		{"register no targets", func() error {
			_, err := e.elb.RegisterTargets(e.ctx, &elb.RegisterTargetsInput{TargetGroupArn: tgARN, Targets: []types.TargetDescription{}})
			return err
		}, "ValidationError", "At least one target must be specified"},

		{"tag reserved", func() error {
			_, err := e.elb.AddTags(e.ctx, &elb.AddTagsInput{ResourceArns: []string{*lbARN}, Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("y")}}})
			return err
		}, "ValidationError", "Tag keys starting with 'aws:' are reserved for internal use: 'aws:x'"},
		{"tag duplicate", func() error {
			_, err := e.elb.AddTags(e.ctx, &elb.AddTagsInput{ResourceArns: []string{*lbARN}, Tags: []types.Tag{{Key: aws.String("k")}, {Key: aws.String("k")}}})
			return err
		}, "DuplicateTagKeys", "Tag key 'k' was specified more than once"},
		{"tag missing resource", func() error {
			_, err := e.elb.AddTags(e.ctx, &elb.AddTagsInput{ResourceArns: []string{missingLB}, Tags: []types.Tag{{Key: aws.String("k")}}})
			return err
		}, "LoadBalancerNotFound", ""},
		{"ssl policy", func() error {
			_, err := e.elb.DescribeSSLPolicies(e.ctx, &elb.DescribeSSLPoliciesInput{Names: []string{"Nope"}})
			return err
		}, "SSLPolicyNotFound", "SSL policy 'Nope' not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, tt.call(), tt.code, tt.msg)
		})
	}
}
