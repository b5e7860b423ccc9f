package route53

import (
	"context"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/minicloud/minicloud/internal/api/route53api"
	"github.com/minicloud/minicloud/internal/dns53"
	"github.com/minicloud/minicloud/internal/dnszone"
)

// TestDNSAnswer answers a query from one zone with the DNS server's own
// answering code (dns53.Answer, routing policies included), as Route 53
// answers it from one of the zone's name servers. The resolver and EDNS
// client subnet addresses become the client's address.
func (s *Service) TestDNSAnswer(ctx context.Context, in *route53api.TestDNSAnswerRequest) (*route53api.TestDNSAnswerResponse, error) {
	name, typ := deref(in.RecordName), strings.ToUpper(deref(in.RecordType))
	qtype, ok := dns.StringToType[typ]
	if !ok || typ == "" {
		return nil, errInvalidInput("1 validation error detected: Value '%s' at 'recordType' failed to satisfy constraint: Member must satisfy enum value set: [DS, MX, A, CAA, CNAME, NAPTR, AAAA, PTR, SOA, TLSA, SVCB, SSHFP, HTTPS, SPF, SRV, NS, TXT]", typ)
	}
	if name == "" {
		return nil, errInvalidInput("1 validation error detected: Value null at 'recordName' failed to satisfy constraint: Member must not be null")
	}
	var client netip.Addr
	for _, p := range []*string{in.EDNS0ClientSubnetIP, in.ResolverIP} {
		if p == nil {
			continue
		}
		a, err := netip.ParseAddr(*p)
		if err != nil {
			return nil, errInvalidInput("Invalid IP address: %s", *p)
		}
		if !client.IsValid() {
			client = a
		}
	}
	z, err := s.zone(ctx, deref(in.HostedZoneId))
	if err != nil {
		return nil, err
	}
	req := new(dns.Msg)
	req.SetQuestion(dns.Fqdn(unescapeName(name)), qtype)
	out := &route53api.TestDNSAnswerResponse{
		Nameserver: new(strings.TrimSuffix(firstNameServer(z), ".")),
		RecordName: new(name),
		RecordType: new(typ),
		RecordData: []string{},
		Protocol:   new("UDP"),
	}
	resp, owned := dns53.Answer(s.Source(), func(dz *dnszone.Zone) bool { return dz.ID == z.ID }, req, dns53.ClientInfo{Addr: client})
	if !owned {
		// A name outside the zone: its name servers refuse it.
		out.ResponseCode = new("REFUSED")
		return out, nil
	}
	out.ResponseCode = new(dns.RcodeToString[resp.Rcode])
	for _, rr := range resp.Answer {
		if rr.Header().Rrtype != qtype {
			continue
		}
		hdr := rr.Header().String()
		out.RecordData = append(out.RecordData, strings.TrimPrefix(rr.String(), hdr))
	}
	return out, nil
}

// firstNameServer is the name server a zone's answers come from.
func firstNameServer(z *zoneRecord) string {
	if len(z.NameServers) > 0 {
		return z.NameServers[0]
	}
	return privateNameServers[0]
}
