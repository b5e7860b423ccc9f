// Package dns_test drives Route 53 through the real Go SDK and checks the
// answers of minicloud's DNS server with a real DNS client.
package dns_test

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/miekg/dns"

	"github.com/minicloud/minicloud/internal/server"
)

type env struct {
	ctx context.Context
	r53 *route53.Client
	dns string
	srv *server.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv, err := server.New(server.Config{Ephemeral: true, Listen: "127.0.0.1:0", DNSListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close(context.Background()) })
	// Health checks probe every 100 ms here instead of AWS's 10 or 30 s.
	srv.Route53().SetCheckInterval(100 * time.Millisecond)
	c := route53.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String("http://" + srv.Addr()),
	})
	return &env{ctx: context.Background(), r53: c, dns: srv.DNSAddr(), srv: srv}
}

func (e *env) query(t *testing.T, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	c := &dns.Client{Timeout: time.Second}
	r, _, err := c.Exchange(m, e.dns)
	if err != nil {
		t.Fatalf("query %s: %v", name, err)
	}
	return r
}

func aValues(r *dns.Msg) []string {
	var out []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	return out
}

func rrset(name, ip string, extra func(*types.ResourceRecordSet)) types.Change {
	rs := &types.ResourceRecordSet{Name: aws.String(name), Type: types.RRTypeA, TTL: aws.Int64(5),
		ResourceRecords: []types.ResourceRecord{{Value: aws.String(ip)}}}
	if extra != nil {
		extra(rs)
	}
	return types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: rs}
}

// TestFailoverFollowsHealth is the Route 53 issue's promise: a failover
// record answers the secondary within interval × threshold after the
// primary's HTTP server stops, and the primary again once it returns.
func TestFailoverFollowsHealth(t *testing.T) {
	e := newEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	primary := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })}
	go func() { _ = primary.Serve(ln) }()

	zone, err := e.r53.CreateHostedZone(e.ctx, &route53.CreateHostedZoneInput{Name: aws.String("example.test"), CallerReference: aws.String("failover")})
	if err != nil {
		t.Fatal(err)
	}
	hc, err := e.r53.CreateHealthCheck(e.ctx, &route53.CreateHealthCheckInput{CallerReference: aws.String("hc"),
		HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp, IPAddress: aws.String("127.0.0.1"),
			Port: aws.Int32(int32(port)), ResourcePath: aws.String("/"), RequestInterval: aws.Int32(10), FailureThreshold: aws.Int32(2)}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.r53.ChangeResourceRecordSets(e.ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: zone.HostedZone.Id,
		ChangeBatch: &types.ChangeBatch{Changes: []types.Change{
			rrset("app.example.test", "198.18.0.1", func(r *types.ResourceRecordSet) {
				r.SetIdentifier, r.Failover, r.HealthCheckId = aws.String("p"), types.ResourceRecordSetFailoverPrimary, hc.HealthCheck.Id
			}),
			rrset("app.example.test", "198.18.0.2", func(r *types.ResourceRecordSet) {
				r.SetIdentifier, r.Failover = aws.String("s"), types.ResourceRecordSetFailoverSecondary
			}),
		}}})
	if err != nil {
		t.Fatal(err)
	}
	want := func(ip string, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			got := aValues(e.query(t, "app.example.test", dns.TypeA))
			if len(got) == 1 && got[0] == ip {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("app.example.test answers %v, want %s within %v", got, ip, within)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	want("198.18.0.1", time.Second)

	// Interval 100 ms × threshold 2, plus a probe's timeout: well under 2 s.
	_ = primary.Close()
	want("198.18.0.2", 2*time.Second)
	status, err := e.r53.GetHealthCheckStatus(e.ctx, &route53.GetHealthCheckStatusInput{HealthCheckId: hc.HealthCheck.Id})
	if err != nil || len(status.HealthCheckObservations) == 0 {
		t.Fatalf("health check status: %v %+v", err, status)
	}

	ln2, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	back := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })}
	go func() { _ = back.Serve(ln2) }()
	t.Cleanup(func() { _ = back.Close() })
	want("198.18.0.1", 2*time.Second)
}

// TestRecordsAndNegativeAnswers checks a zone's records over UDP and TCP,
// CNAME chasing, and NXDOMAIN versus NODATA with the zone's SOA.
func TestRecordsAndNegativeAnswers(t *testing.T) {
	e := newEnv(t)
	zone, err := e.r53.CreateHostedZone(e.ctx, &route53.CreateHostedZoneInput{Name: aws.String("shop.test"), CallerReference: aws.String("z")})
	if err != nil {
		t.Fatal(err)
	}
	cname := types.Change{Action: types.ChangeActionUpsert, ResourceRecordSet: &types.ResourceRecordSet{Name: aws.String("api.shop.test"),
		Type: types.RRTypeCname, TTL: aws.Int64(60), ResourceRecords: []types.ResourceRecord{{Value: aws.String("www.shop.test")}}}}
	if _, err := e.r53.ChangeResourceRecordSets(e.ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: zone.HostedZone.Id,
		ChangeBatch: &types.ChangeBatch{Changes: []types.Change{rrset("www.shop.test", "198.18.1.1", nil), cname}}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		qtype  uint16
		rcode  int
		answer int
		soa    bool
	}{
		{"www.shop.test", dns.TypeA, dns.RcodeSuccess, 1, false},
		{"api.shop.test", dns.TypeA, dns.RcodeSuccess, 2, false},
		{"www.shop.test", dns.TypeAAAA, dns.RcodeSuccess, 0, true},
		{"nope.shop.test", dns.TypeA, dns.RcodeNameError, 0, true},
		{"shop.test", dns.TypeNS, dns.RcodeSuccess, 4, false},
	} {
		r := e.query(t, tc.name, tc.qtype)
		if r.Rcode != tc.rcode || len(r.Answer) != tc.answer || !r.Authoritative {
			t.Errorf("%s %s: rcode %s, %d answers, aa=%v; want %s, %d, aa", tc.name, dns.TypeToString[tc.qtype],
				dns.RcodeToString[r.Rcode], len(r.Answer), r.Authoritative, dns.RcodeToString[tc.rcode], tc.answer)
		}
		hasSOA := len(r.Ns) > 0 && r.Ns[0].Header().Rrtype == dns.TypeSOA
		if hasSOA != tc.soa {
			t.Errorf("%s %s: SOA in authority = %v, want %v", tc.name, dns.TypeToString[tc.qtype], hasSOA, tc.soa)
		}
	}
	m := new(dns.Msg)
	m.SetQuestion("www.shop.test.", dns.TypeA)
	r, _, err := (&dns.Client{Net: "tcp", Timeout: time.Second}).Exchange(m, e.dns)
	if err != nil || len(aValues(r)) != 1 {
		t.Fatalf("TCP query: %v %v", err, r)
	}
}
