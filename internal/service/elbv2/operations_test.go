package elbv2_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/minicloud/minicloud/internal/server"
)

// TestOperations runs the operations the other tests do not, and reads
// each change back.
func TestOperations(t *testing.T) {
	t.Parallel()
	certA, certB := "arn:aws:acm:us-east-1:000000000000:certificate/a", "arn:aws:acm:us-east-1:000000000000:certificate/b"
	certs := newFakeCerts(certA, certB)
	e := newEnv(t, server.Config{EC2Runtime: &testRuntime{}, Certificates: certs})
	n := e.newNetwork(t, true)
	lb := e.newLB(t, n, "ops")
	lbARN := lb.LoadBalancerArn
	tg := e.newTG(t, n, "ops-tg")

	t.Run("load balancer", func(t *testing.T) {
		again, err := e.elb.CreateLoadBalancer(e.ctx, &elb.CreateLoadBalancerInput{Name: aws.String("ops"), Subnets: []string{n.subnetA, n.subnetB}})
		if err != nil || aws.ToString(again.LoadBalancers[0].LoadBalancerArn) != aws.ToString(lbARN) {
			t.Errorf("the same CreateLoadBalancer again: %v %v", again, err)
		}
		sub, err := e.elb.SetSubnets(e.ctx, &elb.SetSubnetsInput{LoadBalancerArn: lbARN, Subnets: []string{n.subnetA2, n.subnetB}})
		if err != nil {
			t.Fatal(err)
		}
		if len(sub.AvailabilityZones) != 2 || !slices.ContainsFunc(sub.AvailabilityZones, func(z types.AvailabilityZone) bool { return aws.ToString(z.SubnetId) == n.subnetA2 }) {
			t.Errorf("SetSubnets %+v", sub.AvailabilityZones)
		}
		ip, err := e.elb.SetIpAddressType(e.ctx, &elb.SetIpAddressTypeInput{LoadBalancerArn: lbARN, IpAddressType: types.IpAddressTypeIpv4})
		if err != nil || ip.IpAddressType != types.IpAddressTypeIpv4 {
			t.Errorf("SetIpAddressType %v %v", ip, err)
		}
		_, err = e.elb.SetIpAddressType(e.ctx, &elb.SetIpAddressTypeInput{LoadBalancerArn: lbARN, IpAddressType: types.IpAddressTypeDualstack})
		wantError(t, err, "InvalidConfigurationRequest", "")
		sg, err := e.elb.SetSecurityGroups(e.ctx, &elb.SetSecurityGroupsInput{LoadBalancerArn: lbARN, SecurityGroups: []string{n.sg, n.defaultSG}})
		if err != nil || len(sg.SecurityGroupIds) != 2 {
			t.Errorf("SetSecurityGroups %v %v", sg, err)
		}

		attrs, err := e.elb.ModifyLoadBalancerAttributes(e.ctx, &elb.ModifyLoadBalancerAttributesInput{LoadBalancerArn: lbARN, Attributes: []types.LoadBalancerAttribute{
			{Key: aws.String("deletion_protection.enabled"), Value: aws.String("true")}, {Key: aws.String("idle_timeout.timeout_seconds"), Value: aws.String("120")}}})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, a := range attrs.Attributes {
			got[aws.ToString(a.Key)] = aws.ToString(a.Value)
		}
		for k, v := range map[string]string{"deletion_protection.enabled": "true", "idle_timeout.timeout_seconds": "120", "routing.http2.enabled": "true",
			"routing.http.desync_mitigation_mode": "defensive", "routing.http.xff_header_processing.mode": "append", "access_logs.s3.enabled": "false",
			"client_keep_alive.seconds": "3600", "routing.http.drop_invalid_header_fields.enabled": "false"} {
			if got[k] != v {
				t.Errorf("attribute %s = %q, want %q", k, got[k], v)
			}
		}
		_, err = e.elb.DeleteLoadBalancer(e.ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: lbARN})
		wantError(t, err, "OperationNotPermitted", "Load balancer '"+aws.ToString(lbARN)+"' cannot be deleted because deletion protection is enabled")
	})

	t.Run("listeners and certificates", func(t *testing.T) {
		l, err := e.elb.CreateListener(e.ctx, &elb.CreateListenerInput{LoadBalancerArn: lbARN, Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443),
			Certificates: []types.Certificate{{CertificateArn: aws.String(certA)}}, SslPolicy: aws.String("ELBSecurityPolicy-TLS13-1-2-2021-06"),
			DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: tg.TargetGroupArn}}})
		if err != nil {
			t.Fatal(err)
		}
		la := l.Listeners[0].ListenerArn
		if got := certs.inUseBy(certA); !slices.Equal(got, []string{aws.ToString(lbARN)}) {
			t.Errorf("certificate A used by %v", got)
		}
		if _, err := e.elb.AddListenerCertificates(e.ctx, &elb.AddListenerCertificatesInput{ListenerArn: la, Certificates: []types.Certificate{{CertificateArn: aws.String(certB)}}}); err != nil {
			t.Fatal(err)
		}
		lc, err := e.elb.DescribeListenerCertificates(e.ctx, &elb.DescribeListenerCertificatesInput{ListenerArn: la})
		if err != nil || len(lc.Certificates) != 2 {
			t.Fatalf("listener certificates %+v %v", lc, err)
		}
		if len(certs.inUseBy(certB)) != 1 {
			t.Error("an added certificate is not in use")
		}
		_, err = e.elb.RemoveListenerCertificates(e.ctx, &elb.RemoveListenerCertificatesInput{ListenerArn: la, Certificates: []types.Certificate{{CertificateArn: aws.String(certA)}}})
		wantError(t, err, "OperationNotPermitted", "The default certificate of a listener cannot be removed")
		if _, err := e.elb.RemoveListenerCertificates(e.ctx, &elb.RemoveListenerCertificatesInput{ListenerArn: la, Certificates: []types.Certificate{{CertificateArn: aws.String(certB)}}}); err != nil {
			t.Fatal(err)
		}
		if got := certs.inUseBy(certB); len(got) != 0 {
			t.Errorf("a removed certificate is still used by %v", got)
		}
		m, err := e.elb.ModifyListener(e.ctx, &elb.ModifyListenerInput{ListenerArn: la, Port: aws.Int32(8443), Certificates: []types.Certificate{{CertificateArn: aws.String(certB)}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Listeners[0]; aws.ToInt32(got.Port) != 8443 || aws.ToString(got.Certificates[0].CertificateArn) != certB || aws.ToString(got.SslPolicy) != "ELBSecurityPolicy-TLS13-1-2-2021-06" {
			t.Errorf("modified listener %+v", got)
		}
		if len(certs.inUseBy(certA)) != 0 || len(certs.inUseBy(certB)) != 1 {
			t.Errorf("after the default certificate changed: A used by %v, B by %v", certs.inUseBy(certA), certs.inUseBy(certB))
		}
		ls, err := e.elb.DescribeListeners(e.ctx, &elb.DescribeListenersInput{LoadBalancerArn: lbARN})
		if err != nil || len(ls.Listeners) != 1 || aws.ToInt32(ls.Listeners[0].Port) != 8443 {
			t.Errorf("listeners %+v %v", ls, err)
		}
		if _, err := e.elb.DeleteListener(e.ctx, &elb.DeleteListenerInput{ListenerArn: la}); err != nil {
			t.Fatal(err)
		}
		if got := certs.inUseBy(certB); len(got) != 0 {
			t.Errorf("a deleted listener's certificate is still used by %v", got)
		}
	})

	t.Run("rules", func(t *testing.T) {
		l := e.newListener(t, aws.ToString(lbARN), aws.ToString(tg.TargetGroupArn), 80)
		tg2 := e.newTG(t, n, "ops-tg2")
		var arns []string
		for i, p := range []int32{10, 20} {
			r, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(p),
				Conditions: []types.RuleCondition{{Field: aws.String("query-string"), QueryStringConfig: &types.QueryStringConditionConfig{Values: []types.QueryStringKeyValuePair{{Key: aws.String("v"), Value: aws.String(fmt.Sprint(i))}}}}},
				Actions: []types.Action{{Type: types.ActionTypeEnumForward, ForwardConfig: &types.ForwardActionConfig{
					TargetGroups:                []types.TargetGroupTuple{{TargetGroupArn: tg.TargetGroupArn, Weight: aws.Int32(1)}, {TargetGroupArn: tg2.TargetGroupArn, Weight: aws.Int32(3)}},
					TargetGroupStickinessConfig: &types.TargetGroupStickinessConfig{Enabled: aws.Bool(true), DurationSeconds: aws.Int32(60)}}}},
				Tags: []types.Tag{{Key: aws.String("n"), Value: aws.String(fmt.Sprint(i))}}})
			if err != nil {
				t.Fatal(err)
			}
			arns = append(arns, aws.ToString(r.Rules[0].RuleArn))
		}
		if _, err := e.elb.SetRulePriorities(e.ctx, &elb.SetRulePrioritiesInput{RulePriorities: []types.RulePriorityPair{
			{RuleArn: aws.String(arns[0]), Priority: aws.Int32(30)}, {RuleArn: aws.String(arns[1]), Priority: aws.Int32(10)}}}); err != nil {
			t.Fatal(err)
		}
		m, err := e.elb.ModifyRule(e.ctx, &elb.ModifyRuleInput{RuleArn: aws.String(arns[0]),
			Conditions: []types.RuleCondition{{Field: aws.String("http-request-method"), HttpRequestMethodConfig: &types.HttpRequestMethodConditionConfig{Values: []string{"GET", "HEAD"}}}}})
		if err != nil {
			t.Fatal(err)
		}
		if c := m.Rules[0].Conditions; len(c) != 1 || aws.ToString(c[0].Field) != "http-request-method" || len(m.Rules[0].Actions) != 1 {
			t.Errorf("modified rule %+v", m.Rules[0])
		}
		rules, err := e.elb.DescribeRules(e.ctx, &elb.DescribeRulesInput{ListenerArn: l.ListenerArn})
		if err != nil {
			t.Fatal(err)
		}
		var order []string
		for _, r := range rules.Rules {
			order = append(order, aws.ToString(r.Priority))
		}
		if !slices.Equal(order, []string{"10", "30", "default"}) || aws.ToString(rules.Rules[0].RuleArn) != arns[1] {
			t.Errorf("priorities %v", order)
		}
		fc := rules.Rules[0].Actions[0].ForwardConfig
		if fc == nil || len(fc.TargetGroups) != 2 || aws.ToInt32(fc.TargetGroups[1].Weight) != 3 || !aws.ToBool(fc.TargetGroupStickinessConfig.Enabled) {
			t.Errorf("forward config %+v", fc)
		}
		tags, err := e.elb.DescribeTags(e.ctx, &elb.DescribeTagsInput{ResourceArns: arns})
		if err != nil || len(tags.TagDescriptions) != 2 || aws.ToString(tags.TagDescriptions[0].Tags[0].Key) != "n" {
			t.Errorf("rule tags %+v %v", tags, err)
		}
		if _, err := e.elb.DeleteRule(e.ctx, &elb.DeleteRuleInput{RuleArn: aws.String(arns[1])}); err != nil {
			t.Fatal(err)
		}
		_, err = e.elb.DescribeRules(e.ctx, &elb.DescribeRulesInput{RuleArns: []string{arns[1]}})
		wantError(t, err, "RuleNotFound", "One or more rules not found")
	})

	t.Run("target groups", func(t *testing.T) {
		m, err := e.elb.ModifyTargetGroup(e.ctx, &elb.ModifyTargetGroupInput{TargetGroupArn: tg.TargetGroupArn, HealthCheckPath: aws.String("/health"),
			HealthCheckIntervalSeconds: aws.Int32(10), Matcher: &types.Matcher{HttpCode: aws.String("200-299")}})
		if err != nil {
			t.Fatal(err)
		}
		if got := m.TargetGroups[0]; aws.ToString(got.HealthCheckPath) != "/health" || aws.ToInt32(got.HealthCheckIntervalSeconds) != 10 || aws.ToString(got.Matcher.HttpCode) != "200-299" {
			t.Errorf("modified target group %+v", got)
		}
		a, err := e.elb.ModifyTargetGroupAttributes(e.ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: tg.TargetGroupArn, Attributes: []types.TargetGroupAttribute{
			{Key: aws.String("stickiness.enabled"), Value: aws.String("true")}, {Key: aws.String("load_balancing.algorithm.type"), Value: aws.String("least_outstanding_requests")}}})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, x := range a.Attributes {
			got[aws.ToString(x.Key)] = aws.ToString(x.Value)
		}
		for k, v := range map[string]string{"stickiness.enabled": "true", "stickiness.type": "lb_cookie", "stickiness.lb_cookie.duration_seconds": "86400",
			"deregistration_delay.timeout_seconds": "300", "load_balancing.algorithm.type": "least_outstanding_requests", "slow_start.duration_seconds": "0",
			"load_balancing.cross_zone.enabled": "use_load_balancer_configuration"} {
			if got[k] != v {
				t.Errorf("target group attribute %s = %q, want %q", k, got[k], v)
			}
		}
		ip, err := e.elb.CreateTargetGroup(e.ctx, &elb.CreateTargetGroupInput{Name: aws.String("ops-ip"), TargetType: types.TargetTypeEnumIp, Protocol: types.ProtocolEnumHttp,
			Port: aws.Int32(8080), VpcId: aws.String(n.vpc)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.elb.RegisterTargets(e.ctx, &elb.RegisterTargetsInput{TargetGroupArn: ip.TargetGroups[0].TargetGroupArn, Targets: []types.TargetDescription{
			{Id: aws.String(n.cidr + ".1.10")}, {Id: aws.String("192.168.0.1"), AvailabilityZone: aws.String("all")}}}); err != nil {
			t.Fatal(err)
		}
		_, err = e.elb.RegisterTargets(e.ctx, &elb.RegisterTargetsInput{TargetGroupArn: ip.TargetGroups[0].TargetGroupArn, Targets: []types.TargetDescription{{Id: aws.String("8.8.8.8")}}})
		wantError(t, err, "ValidationError", "")
		h, err := e.elb.DescribeTargetHealth(e.ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: ip.TargetGroups[0].TargetGroupArn})
		if err != nil || len(h.TargetHealthDescriptions) != 2 {
			t.Errorf("ip targets %+v %v", h, err)
		}
	})

	t.Run("describe, paging and tags", func(t *testing.T) {
		for i := range 3 {
			e.newTG(t, n, fmt.Sprintf("page-%d", i))
		}
		var names []string
		var marker *string
		for pages := 0; ; pages++ {
			out, err := e.elb.DescribeTargetGroups(e.ctx, &elb.DescribeTargetGroupsInput{PageSize: aws.Int32(2), Marker: marker})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.TargetGroups) > 2 || pages > 10 {
				t.Fatalf("page of %d", len(out.TargetGroups))
			}
			for _, g := range out.TargetGroups {
				names = append(names, aws.ToString(g.TargetGroupName))
			}
			if marker = out.NextMarker; marker == nil {
				break
			}
		}
		for _, want := range []string{"ops-tg", "ops-tg2", "ops-ip", "page-0", "page-1", "page-2"} {
			if !slices.Contains(names, want) {
				t.Errorf("paging lost %s: %v", want, names)
			}
		}
		if len(names) != 6 {
			t.Errorf("paged %v", names)
		}
		_, err := e.elb.DescribeTargetGroups(e.ctx, &elb.DescribeTargetGroupsInput{PageSize: aws.Int32(401)})
		wantError(t, err, "ValidationError", "1 validation error detected: Value '401' at 'pageSize' failed to satisfy constraint: Member must have value less than or equal to 400")

		if _, err := e.elb.AddTags(e.ctx, &elb.AddTagsInput{ResourceArns: []string{aws.ToString(lbARN), aws.ToString(tg.TargetGroupArn)},
			Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("test")}, {Key: aws.String("team"), Value: aws.String("a")}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.elb.RemoveTags(e.ctx, &elb.RemoveTagsInput{ResourceArns: []string{aws.ToString(lbARN)}, TagKeys: []string{"team"}}); err != nil {
			t.Fatal(err)
		}
		tags, err := e.elb.DescribeTags(e.ctx, &elb.DescribeTagsInput{ResourceArns: []string{aws.ToString(lbARN), aws.ToString(tg.TargetGroupArn)}})
		if err != nil || len(tags.TagDescriptions) != 2 || len(tags.TagDescriptions[0].Tags) != 1 || len(tags.TagDescriptions[1].Tags) != 2 {
			t.Errorf("tags %+v %v", tags, err)
		}
		byName, err := e.elb.DescribeLoadBalancers(e.ctx, &elb.DescribeLoadBalancersInput{Names: []string{"ops"}})
		if err != nil || len(byName.LoadBalancers) != 1 {
			t.Errorf("by name %+v %v", byName, err)
		}

		limits, err := e.elb.DescribeAccountLimits(e.ctx, &elb.DescribeAccountLimitsInput{})
		if err != nil {
			t.Fatal(err)
		}
		lim := map[string]string{}
		for _, l := range limits.Limits {
			lim[aws.ToString(l.Name)] = aws.ToString(l.Max)
		}
		if lim["application-load-balancers"] != "50" || lim["target-groups"] != "3000" || lim["listeners-per-application-load-balancer"] != "50" {
			t.Errorf("limits %v", lim)
		}
		pol, err := e.elb.DescribeSSLPolicies(e.ctx, &elb.DescribeSSLPoliciesInput{Names: []string{"ELBSecurityPolicy-2016-08"}})
		if err != nil || len(pol.SslPolicies) != 1 || !slices.Contains(pol.SslPolicies[0].SslProtocols, "TLSv1") || len(pol.SslPolicies[0].Ciphers) == 0 {
			t.Errorf("ELBSecurityPolicy-2016-08 %+v %v", pol, err)
		}
		all, err := e.elb.DescribeSSLPolicies(e.ctx, &elb.DescribeSSLPoliciesInput{})
		if err != nil || len(all.SslPolicies) < 20 {
			t.Errorf("%d SSL policies, %v", len(all.SslPolicies), err)
		}
	})
}
