package dataplane_test

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/minicloud/minicloud/internal/server"
)

// perBootUserData is echoUserData's server started at every boot (from
// cloud-init's scripts/per-boot), as a service would be.
var perBootUserData = strings.Replace(echoUserData, "nohup python3 /var/tmp/echo.py >/var/tmp/echo.log 2>&1 &\n",
	"mkdir -p /var/lib/cloud/scripts/per-boot\n"+
		"printf '#!/bin/sh\\nnohup python3 /var/tmp/echo.py >/var/tmp/echo.log 2>&1 &\\n' > /var/lib/cloud/scripts/per-boot/echo.sh\n"+
		"chmod +x /var/lib/cloud/scripts/per-boot/echo.sh\n/var/lib/cloud/scripts/per-boot/echo.sh\n", 1)

// TestALBSurvivesRestart: minicloud stops and starts again on its state
// directory; the load balancer comes back on the same nodes and addresses
// and serves its instance again.
func TestALBSurvivesRestart(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Fatal("the data-plane tests need root; CI runs them as root")
	}
	r := newRestartable(t, server.Config{DataPlane: server.DataPlaneOn, Listen: "127.0.0.1:0", DNSListen: "127.0.0.1:0",
		PublicCIDR: netip.MustParsePrefix("198.19.242.0/24")})
	start := func() *albEnv {
		t.Helper()
		ac, e := r.start()
		return &albEnv{env: e, dns: r.srv.DNSAddr(), elb: elb.NewFromConfig(ac), acm: acm.NewFromConfig(ac)}
	}
	stop := r.stop

	e := start()
	ctx := e.ctx
	v := e.defaultVPC()
	albSG := e.newSG(v.id, "alb", tcpFrom(80, "0.0.0.0/0"))
	webSG := e.newSG(v.id, "web", tcpFromGroup(8080, albSG))
	inst := e.runAll(e.image(), launch{subnet: v.subnets[0], groups: []string{webSG}, userData: perBootUserData})[0]
	id := aws.ToString(inst.InstanceId)
	tg, err := e.elb.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("web"), Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(8080), VpcId: aws.String(v.id), HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2), HealthyThresholdCount: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	tgARN := tg.TargetGroups[0].TargetGroupArn
	if _, err := e.elb.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: tgARN, Targets: []elbtypes.TargetDescription{{Id: aws.String(id)}}}); err != nil {
		t.Fatal(err)
	}
	lb, err := e.elb.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("durable"), Subnets: v.subnets[:2], SecurityGroups: []string{albSG}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.elb.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Port: aws.Int32(80),
		Protocol: elbtypes.ProtocolEnumHttp, DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: tgARN}}}); err != nil {
		t.Fatal(err)
	}
	dnsName := aws.ToString(lb.LoadBalancers[0].DNSName)
	serves := func(e *albEnv, d time.Duration) []string {
		t.Helper()
		var ips []string
		err := eventually(d, func() error {
			_, ips = askDNS(t, e.dns, dnsName)
			if len(ips) != 2 {
				return fmt.Errorf("%s resolves to %v", dnsName, ips)
			}
			for _, ip := range ips {
				body, err := fetch("http://" + ip + "/")
				if err != nil {
					return err
				}
				if !strings.HasPrefix(body, id+" ") {
					return fmt.Errorf("node %s: %q", ip, body)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return ips
	}
	before := serves(e, 45*time.Second)

	stop()
	for _, ip := range before {
		if _, err := fetch("http://" + ip + "/"); err == nil {
			t.Errorf("node %s answers while minicloud is stopped", ip)
		}
	}
	e = start()
	after := serves(e, 60*time.Second)
	if strings.Join(before, ",") != strings.Join(after, ",") {
		t.Errorf("the nodes' addresses changed over the restart: %v, then %v", before, after)
	}
	out, err := e.elb.DescribeLoadBalancers(e.ctx, &elb.DescribeLoadBalancersInput{Names: []string{"durable"}})
	if err != nil || out.LoadBalancers[0].State.Code != elbtypes.LoadBalancerStateEnumActive {
		t.Errorf("after the restart: %+v %v", out, err)
	}
}
