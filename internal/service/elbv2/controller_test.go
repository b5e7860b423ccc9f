package elbv2_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/minicloud/minicloud/internal/server"
	"github.com/minicloud/minicloud/internal/service/elbv2/controller"
)

// nodeENIs are the network interfaces of load balancer lb's nodes, by
// their description.
func (e *testEnv) nodeENIs(t *testing.T, lb types.LoadBalancer) []ec2types.NetworkInterface {
	t.Helper()
	out, err := e.ec2.DescribeNetworkInterfaces(e.ctx, &ec2.DescribeNetworkInterfacesInput{})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(lb.LoadBalancerArn)
	want := "ELB app/" + aws.ToString(lb.LoadBalancerName) + "/" + arn[strings.LastIndex(arn, "/")+1:]
	var enis []ec2types.NetworkInterface
	for _, n := range out.NetworkInterfaces {
		if aws.ToString(n.Description) == want {
			enis = append(enis, n)
		}
	}
	return enis
}

func (e *testEnv) privateIP(t *testing.T, instance string) netip.Addr {
	t.Helper()
	out, err := e.ec2.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{instance}})
	if err != nil {
		t.Fatal(err)
	}
	return netip.MustParseAddr(aws.ToString(out.Reservations[0].Instances[0].PrivateIpAddress))
}

func groupIDs(groups []ec2types.GroupIdentifier) []string {
	var out []string
	for _, g := range groups {
		out = append(out, aws.ToString(g.GroupId))
	}
	return out
}

// waitView polls until the data plane's View of arn satisfies cond.
func waitView(t *testing.T, dp *fakeDataplane, arn string, what string, cond func(controller.View) bool) controller.View {
	t.Helper()
	var v controller.View
	if !waitFor(func() bool {
		var ok bool
		v, _, ok = dp.view(arn)
		return ok && cond(v)
	}) {
		t.Fatalf("%s: the data plane's View is %+v", what, v)
	}
	return v
}

// TestControllerWithDataplane follows a load balancer's nodes and the View
// the data plane runs through its life: interfaces made with the load
// balancer's groups and public IPs, active, a View applied again on every
// change, health from the data plane, draining that ends, and deletion.
func TestControllerWithDataplane(t *testing.T) {
	t.Parallel()
	dp := newFakeDataplane()
	e := newEnv(t, server.Config{EC2Runtime: &testRuntime{}, ELBDataplane: dp})
	n := e.newNetwork(t, true)
	lb := e.waitState(t, aws.ToString(e.newLB(t, n, "ctl").LoadBalancerArn), "active")
	arn := aws.ToString(lb.LoadBalancerArn)

	enis := e.nodeENIs(t, lb)
	if len(enis) != 2 {
		t.Fatalf("%d node interfaces, want one per subnet", len(enis))
	}
	v, _, _ := dp.view(arn)
	if v.Name != "ctl" || v.Scheme != "internet-facing" || v.VPCID != n.vpc || len(v.Nodes) != 2 || v.Attributes["idle_timeout.timeout_seconds"] != "60" {
		t.Errorf("View %+v", v)
	}
	for _, eni := range enis {
		if !aws.ToBool(eni.RequesterManaged) || aws.ToString(eni.RequesterId) != "amazon-elb" ||
			!slices.Equal(groupIDs(eni.Groups), []string{n.defaultSG}) || eni.Association == nil {
			t.Errorf("node interface %+v", eni)
			continue
		}
		i := slices.IndexFunc(v.Nodes, func(x controller.Node) bool { return x.ENIID == aws.ToString(eni.NetworkInterfaceId) })
		if i < 0 || v.Nodes[i].PublicIP.String() != aws.ToString(eni.Association.PublicIp) ||
			v.Nodes[i].PrivateIP.String() != aws.ToString(eni.PrivateIpAddress) || v.Nodes[i].SubnetID != aws.ToString(eni.SubnetId) {
			t.Errorf("interface %s is not a node of the View %+v", aws.ToString(eni.NetworkInterfaceId), v.Nodes)
		}
	}

	// A listener, a rule and a registration: each is applied.
	tg := e.newTG(t, n, "ctl-tg")
	tgARN := aws.ToString(tg.TargetGroupArn)
	l := e.newListener(t, arn, tgARN, 80)
	if _, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(3),
		Conditions: []types.RuleCondition{{Field: aws.String("http-header"), HttpHeaderConfig: &types.HttpHeaderConditionConfig{HttpHeaderName: aws.String("X-A"), Values: []string{"b"}}}},
		Actions:    []types.Action{{Type: types.ActionTypeEnumRedirect, RedirectConfig: &types.RedirectActionConfig{Protocol: aws.String("HTTPS"), Port: aws.String("443"), StatusCode: types.RedirectActionStatusCodeEnumHttp302}}}}); err != nil {
		t.Fatal(err)
	}
	inst := e.runInstance(t, n.subnetA)
	if _, err := e.elb.RegisterTargets(e.ctx, &elb.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn, Targets: []types.TargetDescription{{Id: aws.String(inst)}}}); err != nil {
		t.Fatal(err)
	}
	ip := e.privateIP(t, inst)
	v = waitView(t, dp, arn, "registered target", func(v controller.View) bool {
		return len(v.TargetGroups) == 1 && len(v.TargetGroups[0].Targets) == 1 && v.TargetGroups[0].Targets[0].State == controller.Serving
	})
	if got := v.TargetGroups[0].Targets[0]; got.IP != ip || got.Port != 80 || got.AvailabilityZone != "us-east-1a" || got.ID != inst {
		t.Errorf("target %+v, want %s at %s:80 in us-east-1a", got, inst, ip)
	}
	if len(v.Listeners) != 1 || len(v.Listeners[0].Rules) != 2 || v.Listeners[0].Rules[0].Priority != 3 ||
		v.Listeners[0].Rules[0].Actions[0].Redirect == nil || v.Listeners[0].Rules[0].Actions[0].Redirect.StatusCode != 302 ||
		v.Listeners[0].Rules[0].Conditions[0].HeaderName != "X-A" || !v.Listeners[0].Rules[1].IsDefault ||
		v.Listeners[0].Rules[1].Actions[0].Forward.TargetGroups[0].ARN != tgARN {
		t.Errorf("listeners %+v", v.Listeners)
	}
	if hc := v.TargetGroups[0].HealthCheck; hc.Interval != 30*time.Second || hc.Path != "/" || hc.Matcher != "200" || hc.Port != "traffic-port" {
		t.Errorf("health check %+v", hc)
	}

	// Health comes from the data plane.
	health := func() types.TargetHealth {
		t.Helper()
		out, err := e.elb.DescribeTargetHealth(e.ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.TargetHealthDescriptions) != 1 {
			return types.TargetHealth{}
		}
		return *out.TargetHealthDescriptions[0].TargetHealth
	}
	if h := health(); h.State != types.TargetHealthStateEnumInitial || h.Reason != types.TargetHealthReasonEnumInitialHealthChecking {
		t.Errorf("unchecked target: %+v", h)
	}
	dp.setHealth(tgARN, inst, 80, controller.Health{State: "unhealthy", Reason: "Target.Timeout", Description: "Request timed out"})
	if h := health(); h.State != types.TargetHealthStateEnumUnhealthy || h.Reason != types.TargetHealthReasonEnumTimeout || aws.ToString(h.Description) != "Request timed out" {
		t.Errorf("unhealthy target: %+v", h)
	}
	dp.setHealth(tgARN, inst, 80, controller.Health{State: "healthy"})
	if h := health(); h.State != types.TargetHealthStateEnumHealthy || h.Reason != "" {
		t.Errorf("healthy target: %+v", h)
	}

	// New security groups reach the interfaces and the View.
	if _, err := e.elb.SetSecurityGroups(e.ctx, &elb.SetSecurityGroupsInput{LoadBalancerArn: aws.String(arn), SecurityGroups: []string{n.sg}}); err != nil {
		t.Fatal(err)
	}
	waitView(t, dp, arn, "security groups", func(v controller.View) bool { return slices.Equal(v.SecurityGroups, []string{n.sg}) })
	for _, eni := range e.nodeENIs(t, lb) {
		if !slices.Equal(groupIDs(eni.Groups), []string{n.sg}) {
			t.Errorf("interface %s groups %v, want %s", aws.ToString(eni.NetworkInterfaceId), groupIDs(eni.Groups), n.sg)
		}
	}

	// Deregistration drains for deregistration_delay, then the
	// registration is gone.
	if _, err := e.elb.ModifyTargetGroupAttributes(e.ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: tg.TargetGroupArn,
		Attributes: []types.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("1")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.elb.DeregisterTargets(e.ctx, &elb.DeregisterTargetsInput{TargetGroupArn: tg.TargetGroupArn, Targets: []types.TargetDescription{{Id: aws.String(inst)}}}); err != nil {
		t.Fatal(err)
	}
	if h := health(); h.State != types.TargetHealthStateEnumDraining || h.Reason != types.TargetHealthReasonEnumDeregistrationInProgress {
		t.Errorf("deregistered target: %+v", h)
	}
	v = waitView(t, dp, arn, "draining", func(v controller.View) bool {
		return len(v.TargetGroups) == 1 && len(v.TargetGroups[0].Targets) == 1 && v.TargetGroups[0].Targets[0].State == controller.Draining
	})
	if until := v.TargetGroups[0].Targets[0].DrainingUntil; until.IsZero() || time.Until(until) > 2*time.Second {
		t.Errorf("draining until %v", until)
	}
	waitView(t, dp, arn, "drained", func(v controller.View) bool { return len(v.TargetGroups) == 1 && len(v.TargetGroups[0].Targets) == 0 })
	if h := health(); h.State != "" {
		t.Errorf("a drained target is still described: %+v", h)
	}

	// Deletion: the data plane removes it, then its interfaces go.
	if _, err := e.elb.DeleteLoadBalancer(e.ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	if !waitFor(func() bool { return dp.wasRemoved(arn) }) {
		t.Fatal("the data plane was not asked to remove the load balancer")
	}
	if !waitFor(func() bool { return len(e.nodeENIs(t, lb)) == 0 }) {
		t.Errorf("node interfaces left: %d", len(e.nodeENIs(t, lb)))
	}
}

// TestControllerRetryAndRestart: a load balancer stays provisioning while
// the data plane fails and becomes active once it succeeds; after a
// restart every load balancer is applied again, on the same interfaces.
func TestControllerRetryAndRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dp := newFakeDataplane()
	dp.setFail(errors.New("no room"))
	srv, err := server.New(server.Config{StateDir: dir, EC2Runtime: &testRuntime{}, ELBDataplane: dp})
	if err != nil {
		t.Fatal(err)
	}
	e := envFor(srv, serve(t, srv))
	n := e.newNetwork(t, true)
	lb := e.newLB(t, n, "again")
	arn := aws.ToString(lb.LoadBalancerArn)
	if !waitFor(func() bool { return strings.Contains(strings.Join(healthErrors(srv.ELB().Health()), ","), "no room") }) {
		t.Errorf("health does not say why: %v", srv.ELB().Health())
	}
	e.waitState(t, arn, "provisioning")
	dp.setFail(nil)
	lb = e.waitState(t, arn, "active")
	enis := e.nodeENIs(t, lb)
	if err := srv.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	dp2 := newFakeDataplane()
	srv2, err := server.New(server.Config{StateDir: dir, EC2Runtime: &testRuntime{}, ELBDataplane: dp2})
	if err != nil {
		t.Fatal(err)
	}
	e2 := envFor(srv2, serve(t, srv2))
	v := waitView(t, dp2, arn, "after a restart", func(controller.View) bool { return true })
	if len(v.Nodes) != 2 {
		t.Errorf("View after a restart %+v", v)
	}
	again := e2.nodeENIs(t, lb)
	if len(again) != len(enis) || aws.ToString(again[0].NetworkInterfaceId) != aws.ToString(enis[0].NetworkInterfaceId) {
		t.Errorf("interfaces changed over a restart: %d, then %d", len(enis), len(again))
	}
	e2.waitState(t, arn, "active")
}

// healthErrors are the errors the service's health shows.
func healthErrors(h map[string]any) []string {
	var out []string
	list, _ := h["loadBalancers"].([]map[string]any)
	for _, lb := range list {
		if s, ok := lb["error"].(string); ok {
			out = append(out, s)
		}
	}
	return out
}
