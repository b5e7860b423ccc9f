package elbv2_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/miekg/dns"

	"github.com/minicloud/minicloud/internal/server"
)

// lookup asks minicloud's DNS server at addr for name's A records; rcode
// is the answer's.
func lookup(t *testing.T, addr, name string) (ips []string, rcode int) {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	r, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, addr)
	if err != nil {
		t.Fatalf("query %s: %v", name, err)
	}
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			ips = append(ips, a.A.String())
		}
	}
	slices.Sort(ips)
	return ips, r.Rcode
}

// TestDNSNames: a load balancer's DNS name answers with its nodes'
// addresses (internet-facing: public, internal: private), directly and
// through a Route 53 alias, and is gone with the load balancer.
func TestDNSNames(t *testing.T) {
	t.Parallel()
	srv, err := server.New(server.Config{Ephemeral: true, Listen: "127.0.0.1:0", DNSListen: "127.0.0.1:0", EC2Runtime: &testRuntime{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close(context.Background()) })
	e := envFor(srv, "http://"+srv.Addr())
	n := e.newNetwork(t, true)
	public := e.waitState(t, aws.ToString(e.newLB(t, n, "pub").LoadBalancerArn), "active")
	in, err := e.elb.CreateLoadBalancer(e.ctx, &elb.CreateLoadBalancerInput{Name: aws.String("priv"), Scheme: types.LoadBalancerSchemeEnumInternal,
		Subnets: []string{n.subnetA, n.subnetB}})
	if err != nil {
		t.Fatal(err)
	}
	internal := e.waitState(t, aws.ToString(in.LoadBalancers[0].LoadBalancerArn), "active")
	if name := aws.ToString(internal.DNSName); name[:len("internal-priv-")] != "internal-priv-" {
		t.Errorf("internal DNS name %s", name)
	}

	addrs := func(lb types.LoadBalancer, public bool) []string {
		var out []string
		for _, eni := range e.nodeENIs(t, lb) {
			if public {
				out = append(out, aws.ToString(eni.Association.PublicIp))
			} else {
				out = append(out, aws.ToString(eni.PrivateIpAddress))
			}
		}
		slices.Sort(out)
		return out
	}
	wantPublic, wantPrivate := addrs(public, true), addrs(internal, false)
	if len(wantPublic) != 2 || len(wantPrivate) != 2 {
		t.Fatalf("nodes: %v %v", wantPublic, wantPrivate)
	}
	dnsAddr := srv.DNSAddr()
	for _, c := range []struct {
		name string
		want []string
	}{{aws.ToString(public.DNSName), wantPublic}, {aws.ToString(internal.DNSName), wantPrivate}} {
		var got []string
		if !waitFor(func() bool { got, _ = lookup(t, dnsAddr, c.name); return slices.Equal(got, c.want) }) {
			t.Errorf("%s answers %v, want %v", c.name, got, c.want)
		}
	}

	r53 := route53.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: e.elb.Options().Credentials, BaseEndpoint: aws.String("http://" + srv.Addr())})
	zone, err := r53.CreateHostedZone(e.ctx, &route53.CreateHostedZoneInput{Name: aws.String("example.com"), CallerReference: aws.String("elb-dns")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r53.ChangeResourceRecordSets(e.ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: zone.HostedZone.Id,
		ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{
			Name: aws.String("www.example.com"), Type: r53types.RRTypeA, AliasTarget: &r53types.AliasTarget{DNSName: aws.String("dualstack." + aws.ToString(public.DNSName)),
				HostedZoneId: public.CanonicalHostedZoneId, EvaluateTargetHealth: false}}}}}}); err != nil {
		t.Fatal(err)
	}
	var got []string
	if !waitFor(func() bool { got, _ = lookup(t, dnsAddr, "www.example.com"); return slices.Equal(got, wantPublic) }) {
		t.Errorf("the alias answers %v, want %v", got, wantPublic)
	}

	if _, err := e.elb.DeleteLoadBalancer(e.ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: public.LoadBalancerArn}); err != nil {
		t.Fatal(err)
	}
	if !waitFor(func() bool {
		_, rcode := lookup(t, dnsAddr, aws.ToString(public.DNSName))
		return rcode == dns.RcodeNameError
	}) {
		t.Error("a deleted load balancer's name still resolves")
	}
}
