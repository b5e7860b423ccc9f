package vpcdns

import (
	"github.com/miekg/dns"

	"github.com/minicloud/minicloud/internal/dnszone"
)

// endpointZone is the zone of a service endpoint domain holding only what
// the query needs: name's own A records (Endpoint.Answer for this VPC, with its TTL),
// or name as an existing empty node when it is an endpoint without an
// address now (a stopped DB instance: NODATA) or an empty non-terminal.
// Any other name of the domain is NXDOMAIN: AWS owns the domain, so it
// is never forwarded.
//
// answering says whether the question is one the addresses answer (A or
// ANY): only those turn a rotating endpoint's order, so that the AAAA
// question every dual-stack lookup also asks does not skip a reader.
func endpointZone(set *dnszone.EndpointSet, name string, v *VPCInfo, answering bool) *zone {
	z := newZone(set.Domain, InstanceTTL, dnszone.EndpointTTL)
	if e, ok := set.Lookup(name); ok {
		z.names[name] = nil
		addrs := e.AddrsFrom(v.ID)
		if answering {
			addrs = e.Answer(v.ID)
		}
		for _, ip := range addrs {
			if ip = ip.Unmap(); ip.Is4() {
				rr := &dns.A{Hdr: hdr(name, dns.TypeA), A: ip.AsSlice()}
				rr.Hdr.Ttl = e.AnswerTTL()
				z.add(rr)
			}
		}
	} else if set.Parents[name] {
		z.names[name] = nil
	}
	return z
}
