//go:build bench

package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/miekg/dns"

	"github.com/minicloud/minicloud/internal/server"
)

// dnsLoad seeds bench.test. with n A records (host-00000… → 198.18.x.y)
// through the Route 53 API and returns a call that sends one UDP query,
// over one of `workers` connected sockets, and checks its answer.
func dnsLoad(srv *server.Server, hc aws.HTTPClient, n, workers int) (func(context.Context) error, error) {
	addr := srv.DNSAddr()
	if addr == "" {
		return nil, errors.New("DNS server not started")
	}
	c := route53.New(route53.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://" + srv.Addr()),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), HTTPClient: hc, Retryer: aws.NopRetryer{}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	hz, err := c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("bench.test."), CallerReference: aws.String("profile")})
	if err != nil {
		return nil, err
	}
	name := func(i int) string { return fmt.Sprintf("host-%05d.bench.test.", i) }
	for lo := 0; lo < n; lo += 500 {
		var ch []r53types.Change
		for i := lo; i < min(lo+500, n); i++ {
			ch = append(ch, r53types.Change{Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{
				Name: aws.String(name(i)), Type: r53types.RRTypeA, TTL: aws.Int64(300),
				ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(fmt.Sprintf("198.18.%d.%d", i>>8&255, i&255))}}}})
		}
		if _, err := c.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: hz.HostedZone.Id,
			ChangeBatch: &r53types.ChangeBatch{Changes: ch}}); err != nil {
			return nil, err
		}
	}
	dc := &dns.Client{Net: "udp", Timeout: time.Second}
	conns := make(chan *dns.Conn, workers)
	for range workers {
		conn, err := dc.Dial(addr)
		if err != nil {
			return nil, err
		}
		conns <- conn
	}
	return func(context.Context) error {
		conn := <-conns
		defer func() { conns <- conn }()
		q, nx := name(rand.IntN(n)), false
		if rand.IntN(10) == 0 {
			q, nx = fmt.Sprintf("nx-%05d.bench.test.", rand.IntN(1000)), true
		}
		m := new(dns.Msg).SetQuestion(q, dns.TypeA)
		m.RecursionDesired = false
		m.SetEdns0(1232, false)
		r, _, err := dc.ExchangeWithConn(m, conn)
		switch {
		case err != nil:
			return err
		case nx && r.Rcode != dns.RcodeNameError, !nx && (r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1):
			return fmt.Errorf("bad answer for %s: %s", q, dns.RcodeToString[r.Rcode])
		}
		return nil
	}, nil
}
