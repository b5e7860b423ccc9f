package dns53

import (
	"github.com/miekg/dns"

	"github.com/minicloud/minicloud/internal/dnszone"
)

// The host server plays the internet's DNS, so it also answers the
// service endpoint names AWS publishes (Config.Endpoints, RDS DB
// instances), as AWS's public DNS does: authoritatively for the whole
// domain, an endpoint's public IP when it has one, else its private IP
// (dnszone.Endpoint.AddrsFrom outside every VPC).

// endpointSOA is the SOA of negative answers in an endpoint domain: AWS's
// name servers, with the endpoints' short TTL as negative TTL so that a
// name created a moment later is not cached away.
func endpointSOA(domain string) *dns.SOA {
	return &dns.SOA{
		Hdr:     dns.RR_Header{Name: domain, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: dnszone.EndpointTTL},
		Ns:      defaultSOAMname,
		Mbox:    defaultSOARname,
		Serial:  1,
		Refresh: 7200,
		Retry:   900,
		Expire:  1209600,
		Minttl:  dnszone.EndpointTTL,
	}
}

// endpointRecords answers name (canonical, covered by set) for qtype with
// owner as the answers' owner: the A record, or none with rcode NOERROR
// (NODATA: an endpoint without an address now, another type, an empty
// non-terminal, the apex) or NXDOMAIN.
func endpointRecords(set *dnszone.EndpointSet, name, owner string, qtype uint16) (answer []dns.RR, rcode int) {
	e, ok := set.Lookup(name)
	switch {
	case !ok && !set.Parents[name] && name != set.Domain:
		return nil, dns.RcodeNameError
	case !ok:
		if name == set.Domain && (qtype == dns.TypeSOA || qtype == dns.TypeANY) {
			soa := endpointSOA(set.Domain)
			soa.Hdr.Name = owner
			return []dns.RR{soa}, dns.RcodeSuccess
		}
		return nil, dns.RcodeSuccess
	}
	if qtype != dns.TypeA && qtype != dns.TypeANY {
		return nil, dns.RcodeSuccess
	}
	for _, ip := range e.Answer("") {
		if ip = ip.Unmap(); ip.Is4() {
			answer = append(answer, &dns.A{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: e.AnswerTTL()}, A: ip.AsSlice()})
		}
	}
	return answer, dns.RcodeSuccess
}

// answerEndpoint is the authoritative reply to req for a name of set.
func answerEndpoint(set *dnszone.EndpointSet, req *dns.Msg) *dns.Msg {
	q := req.Question[0]
	resp := new(dns.Msg)
	resp.SetReply(req)
	resp.Authoritative = true
	resp.RecursionAvailable = false
	resp.Compress = true
	owner := q.Name
	if owner == "" || owner[len(owner)-1] != '.' {
		owner = canonical(q.Name)
	}
	resp.Answer, resp.Rcode = endpointRecords(set, canonical(q.Name), owner, q.Qtype)
	if len(resp.Answer) == 0 {
		resp.Ns = []dns.RR{endpointSOA(set.Domain)}
	}
	return resp
}

// chaseEndpoint completes a hosted zone's CNAME to an endpoint name (a
// record pointing at a DB instance) from sets; false when target is in no
// service's domain.
func chaseEndpoint(sets dnszone.EndpointSets, resp *dns.Msg, target string) bool {
	name := canonical(target)
	set := sets.For(name)
	if set == nil {
		return false
	}
	answer, rcode := endpointRecords(set, name, target, resp.Question[0].Qtype)
	resp.Answer = append(resp.Answer, answer...)
	resp.Rcode = rcode
	if len(answer) == 0 {
		resp.Ns = []dns.RR{endpointSOA(set.Domain)}
	} else {
		resp.Ns = nil
	}
	return true
}
