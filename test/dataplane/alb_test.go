package dataplane_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/minicloud/minicloud/internal/server"
)

// albEnv is a running minicloud with the clients of phase 2.
type albEnv struct {
	*env
	dns string // minicloud's DNS server
	elb *elb.Client
	acm *acm.Client
}

// newALBEnv is a minicloud of its own public range (publicCIDR, in
// 198.18.0.0/15), so that ALB tests run in parallel without two servers
// giving out the same public IPs on the host.
func newALBEnv(t *testing.T, publicCIDR string) *albEnv {
	t.Parallel()
	e, dnsAddr := newEnvDNSWith(t, func(c *server.Config) { c.PublicCIDR = netip.MustParsePrefix(publicCIDR) })
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String("http://" + e.srv.Addr())}
	return &albEnv{env: e, dns: dnsAddr, elb: elb.NewFromConfig(cfg), acm: acm.NewFromConfig(cfg)}
}

// health is a target group's health by "id:port".
func (e *albEnv) health(tg string) map[string]elbtypes.TargetHealth {
	e.t.Helper()
	out, err := e.elb.DescribeTargetHealth(e.ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
	if err != nil {
		e.t.Fatal(err)
	}
	m := map[string]elbtypes.TargetHealth{}
	for _, d := range out.TargetHealthDescriptions {
		m[fmt.Sprintf("%s:%d", aws.ToString(d.Target.Id), aws.ToInt32(d.Target.Port))] = *d.TargetHealth
	}
	return m
}

// waitHealth waits until every target named in want is in its state.
func (e *albEnv) waitHealth(tg string, want map[string]elbtypes.TargetHealthStateEnum, d time.Duration) {
	e.t.Helper()
	err := eventually(d, func() error {
		got := e.health(tg)
		for k, st := range want {
			if got[k].State != st {
				return fmt.Errorf("target %s is %s (%s: %s), want %s", k, got[k].State, got[k].Reason, aws.ToString(got[k].Description), st)
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// TestApplicationLoadBalancer is phase 2's front door: an internet-facing
// ALB in two AZs balances real HTTP over instances in both, which admit
// only the load balancer's security group; health checks take a target
// that does not answer out of rotation; a rule answers a path itself; the
// DNS name and a Route 53 alias resolve to the nodes; HTTPS serves an ACM
// certificate validated through Route 53 under its security policy; and
// deleting the load balancer takes its nodes away.
func TestApplicationLoadBalancer(t *testing.T) {
	e := newALBEnv(t, "198.19.240.0/24")
	ctx := e.ctx
	v := e.defaultVPC()
	albSG := e.newSG(v.id, "alb", tcpFrom(80, "0.0.0.0/0"), tcpFrom(443, "0.0.0.0/0"))
	webSG := e.newSG(v.id, "web", tcpFromGroup(8080, albSG), tcpFromGroup(8081, albSG))
	img := e.image()
	insts := e.runAll(img, launch{subnet: v.subnets[0], groups: []string{webSG}, userData: probeUserData(8080)},
		launch{subnet: v.subnets[1], groups: []string{webSG}, userData: probeUserData(8080)})
	i1, i2 := aws.ToString(insts[0].InstanceId), aws.ToString(insts[1].InstanceId)

	tg, err := e.elb.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("web"), Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(8080), VpcId: aws.String(v.id), HealthCheckPath: aws.String("/id"),
		HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2),
		HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	tgARN := aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	// i2 also on 8081, where nothing listens: its checks fail.
	if _, err := e.elb.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(tgARN), Targets: []elbtypes.TargetDescription{
		{Id: aws.String(i1)}, {Id: aws.String(i2)}, {Id: aws.String(i2), Port: aws.Int32(8081)}}}); err != nil {
		t.Fatal(err)
	}
	lbOut, err := e.elb.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("front"), Subnets: v.subnets[:2],
		SecurityGroups: []string{albSG}, Scheme: elbtypes.LoadBalancerSchemeEnumInternetFacing})
	if err != nil {
		t.Fatal(err)
	}
	lb := lbOut.LoadBalancers[0]
	lbARN := aws.ToString(lb.LoadBalancerArn)
	listener, err := e.elb.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(lbARN), Port: aws.Int32(80),
		Protocol: elbtypes.ProtocolEnumHttp, DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARN)}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.elb.CreateRule(ctx, &elb.CreateRuleInput{ListenerArn: listener.Listeners[0].ListenerArn, Priority: aws.Int32(10),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/maintenance*"}}},
		Actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse, FixedResponseConfig: &elbtypes.FixedResponseActionConfig{
			StatusCode: aws.String("503"), ContentType: aws.String("text/plain"), MessageBody: aws.String("back soon")}}}}); err != nil {
		t.Fatal(err)
	}
	if err := eventually(30*time.Second, func() error {
		out, err := e.elb.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{lbARN}})
		if err != nil {
			return err
		}
		if st := out.LoadBalancers[0].State; st.Code != elbtypes.LoadBalancerStateEnumActive {
			return fmt.Errorf("load balancer is %s (%s)", st.Code, aws.ToString(st.Reason))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// The DNS name resolves to the nodes' public IPs, one per AZ.
	dnsName := aws.ToString(lb.DNSName)
	rcode, nodeIPs := askDNS(t, e.dns, dnsName)
	if rcode != 0 || len(nodeIPs) != 2 {
		t.Fatalf("%s: rcode %d, addresses %v; want the two nodes' public IPs", dnsName, rcode, nodeIPs)
	}

	e.waitHealth(tgARN, map[string]elbtypes.TargetHealthStateEnum{i1 + ":8080": "healthy", i2 + ":8080": "healthy", i2 + ":8081": "unhealthy"}, 90*time.Second)
	if h := e.health(tgARN)[i2+":8081"]; h.Reason != elbtypes.TargetHealthReasonEnumFailedHealthChecks && h.Reason != elbtypes.TargetHealthReasonEnumTimeout {
		t.Errorf("a target that refuses connections: %s %s", h.Reason, aws.ToString(h.Description))
	}

	// Every node balances over both healthy targets and never over the
	// unhealthy one (which would answer 502).
	for _, ip := range nodeIPs {
		seen := map[string]int{}
		for range 8 {
			id, err := fetch("http://" + ip + "/id")
			if err != nil {
				t.Fatalf("through node %s: %v", ip, err)
			}
			seen[id]++
		}
		if seen[i1] == 0 || seen[i2] == 0 || len(seen) != 2 {
			t.Errorf("node %s sent requests to %v, want both instances", ip, seen)
		}
		// The target sees the node's private address, not the client's.
		who, err := fetch("http://" + ip + "/whoami")
		if err != nil || !strings.HasPrefix(who, "172.31.") {
			t.Errorf("through node %s the target saw %q (%v), want a node's private IP", ip, who, err)
		}
	}
	// The rule answers itself.
	resp, err := httpClient.Get("http://" + nodeIPs[0] + "/maintenance/now")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || string(body) != "back soon" {
		t.Errorf("fixed response: %d %q", resp.StatusCode, body)
	}
	// The instances admit only the load balancer's group: not the host.
	if ip := aws.ToString(insts[0].PublicIpAddress); ip != "" {
		if _, err := fetch("http://" + ip + ":8080/id"); err == nil {
			t.Errorf("the host reached instance %s on %s:8080 around the load balancer", i1, ip)
		}
	}

	// A Route 53 alias to the load balancer resolves to its nodes.
	zone, err := e.r53.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("shop.test"), CallerReference: aws.String(t.Name())})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.r53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: zone.HostedZone.Id,
		ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &r53types.ResourceRecordSet{
			Name: aws.String("www.shop.test"), Type: r53types.RRTypeA, AliasTarget: &r53types.AliasTarget{DNSName: aws.String("dualstack." + dnsName),
				HostedZoneId: lb.CanonicalHostedZoneId, EvaluateTargetHealth: true}}}}}}); err != nil {
		t.Fatal(err)
	}
	if err := eventually(5*time.Second, func() error {
		_, ips := askDNS(t, e.dns, "www.shop.test")
		slices.Sort(ips)
		want := slices.Sorted(slices.Values(nodeIPs))
		if !slices.Equal(ips, want) {
			return fmt.Errorf("www.shop.test → %v, want %v", ips, want)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// HTTPS with a certificate ACM issued once its CNAME was in the zone.
	certARN := e.issueCertificate(aws.ToString(zone.HostedZone.Id), "www.shop.test")
	if _, err := e.elb.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(lbARN), Port: aws.Int32(443),
		Protocol: elbtypes.ProtocolEnumHttps, SslPolicy: aws.String("ELBSecurityPolicy-TLS13-1-2-2021-06"),
		Certificates:   []elbtypes.Certificate{{CertificateArn: aws.String(certARN)}},
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARN)}}}); err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	caPEM, err := fetch("http://" + e.srv.Addr() + "/_minicloud/ca.pem")
	if err != nil || !roots.AppendCertsFromPEM([]byte(caPEM)) {
		t.Fatalf("minicloud's CA: %v", err)
	}
	httpsWith := func(roots *x509.CertPool, maxVersion uint16) (string, error) {
		c := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true,
			TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "www.shop.test", MinVersion: tls.VersionTLS10, MaxVersion: maxVersion},
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, nodeIPs[1]+":443")
			}}}
		resp, err := c.Get("https://www.shop.test/id")
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	https := func(maxVersion uint16) (string, error) { return httpsWith(roots, maxVersion) }
	if err := eventually(10*time.Second, func() error {
		id, err := https(0)
		if err == nil && id != i1 && id != i2 {
			err = fmt.Errorf("HTTPS answered %q", id)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// ELBSecurityPolicy-TLS13-1-2-2021-06 accepts TLS 1.2, not 1.1.
	if _, err := https(tls.VersionTLS12); err != nil {
		t.Errorf("TLS 1.2 under a policy that allows it: %v", err)
	}
	if _, err := https(tls.VersionTLS11); err == nil {
		t.Error("TLS 1.1 accepted under ELBSecurityPolicy-TLS13-1-2-2021-06")
	}
	// A client that does not trust minicloud's CA refuses the certificate,
	// as it refuses any unknown issuer's.
	if _, err := httpsWith(x509.NewCertPool(), 0); err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Errorf("a client without minicloud's CA: %v", err)
	}
	// ACM shows the certificate in use and will not delete it.
	cert, err := e.acm.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(certARN)})
	if err != nil || !slices.Contains(cert.Certificate.InUseBy, lbARN) {
		t.Errorf("certificate InUseBy %v (%v), want the load balancer", cert.Certificate.InUseBy, err)
	}
	var inUse *acmtypes.ResourceInUseException
	if _, err := e.acm.DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: aws.String(certARN)}); !errors.As(err, &inUse) {
		t.Errorf("DeleteCertificate of a certificate in use: %v, want ResourceInUseException", err)
	}

	// Failover: a PRIMARY alias to the load balancer with
	// EvaluateTargetHealth answers while a target is healthy; once the
	// instances admit the load balancer no more and every target is
	// unhealthy, the SECONDARY answers.
	if _, err := e.r53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: zone.HostedZone.Id,
		ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{
			{Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{Name: aws.String("app.shop.test"),
				Type: r53types.RRTypeA, SetIdentifier: aws.String("alb"), Failover: r53types.ResourceRecordSetFailoverPrimary,
				AliasTarget: &r53types.AliasTarget{DNSName: aws.String(dnsName), HostedZoneId: lb.CanonicalHostedZoneId, EvaluateTargetHealth: true}}},
			{Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{Name: aws.String("app.shop.test"),
				Type: r53types.RRTypeA, SetIdentifier: aws.String("sorry"), Failover: r53types.ResourceRecordSetFailoverSecondary,
				TTL: aws.Int64(60), ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("192.0.2.10")}}}},
		}}}); err != nil {
		t.Fatal(err)
	}
	answers := func(want ...string) error {
		_, ips := askDNS(t, e.dns, "app.shop.test")
		slices.Sort(ips)
		if !slices.Equal(ips, slices.Sorted(slices.Values(want))) {
			return fmt.Errorf("app.shop.test → %v, want %v", ips, want)
		}
		return nil
	}
	if err := eventually(5*time.Second, func() error { return answers(nodeIPs...) }); err != nil {
		t.Error(err)
	}
	if _, err := e.ec2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(webSG),
		IpPermissions: []ec2types.IpPermission{tcpFromGroup(8080, albSG), tcpFromGroup(8081, albSG)}}); err != nil {
		t.Fatal(err)
	}
	e.waitHealth(tgARN, map[string]elbtypes.TargetHealthStateEnum{i1 + ":8080": "unhealthy", i2 + ":8080": "unhealthy"}, 25*time.Second)
	if err := eventually(5*time.Second, func() error { return answers("192.0.2.10") }); err != nil {
		t.Error(err)
	}

	// Deleted, the load balancer's nodes stop answering and its
	// interfaces go.
	if _, err := e.elb.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(lbARN)}); err != nil {
		t.Fatal(err)
	}
	if err := eventually(15*time.Second, func() error {
		if _, err := fetch("http://" + nodeIPs[0] + "/id"); err == nil {
			return fmt.Errorf("node %s still answers", nodeIPs[0])
		}
		out, err := e.ec2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{})
		if err != nil {
			return err
		}
		for _, n := range out.NetworkInterfaces {
			if strings.HasPrefix(aws.ToString(n.Description), "ELB app/front/") {
				return fmt.Errorf("interface %s of the deleted load balancer remains", aws.ToString(n.NetworkInterfaceId))
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// issueCertificate requests a certificate for name, puts its validation
// CNAME in the zone and waits until ACM issues it.
func (e *albEnv) issueCertificate(zoneID, name string) string {
	e.t.Helper()
	req, err := e.acm.RequestCertificate(e.ctx, &acm.RequestCertificateInput{DomainName: aws.String(name), ValidationMethod: acmtypes.ValidationMethodDns})
	if err != nil {
		e.t.Fatal(err)
	}
	arn := aws.ToString(req.CertificateArn)
	var rr *acmtypes.ResourceRecord
	if err := eventually(10*time.Second, func() error {
		d, err := e.acm.DescribeCertificate(e.ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(arn)})
		if err != nil {
			return err
		}
		if opts := d.Certificate.DomainValidationOptions; len(opts) == 1 && opts[0].ResourceRecord != nil {
			rr = opts[0].ResourceRecord
			return nil
		}
		return fmt.Errorf("no validation record yet")
	}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.r53.ChangeResourceRecordSets(e.ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zoneID),
		ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &r53types.ResourceRecordSet{
			Name: rr.Name, Type: r53types.RRTypeCname, TTL: aws.Int64(300), ResourceRecords: []r53types.ResourceRecord{{Value: rr.Value}}}}}}}); err != nil {
		e.t.Fatal(err)
	}
	if err := eventually(20*time.Second, func() error {
		d, err := e.acm.DescribeCertificate(e.ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(arn)})
		if err != nil {
			return err
		}
		if d.Certificate.Status != acmtypes.CertificateStatusIssued {
			return fmt.Errorf("certificate is %s", d.Certificate.Status)
		}
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
	return arn
}
