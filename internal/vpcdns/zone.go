package vpcdns

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// Zone is a Route 53 private hosted zone associated with the VPC, in a
// minimal neutral form. The resolver answers every name at or under Name
// from Records alone (it is authoritative for the zone: a missing name is
// NXDOMAIN, never forwarded), as Route 53 Resolver does for private hosted
// zones.
type Zone struct {
	// Name is the apex, e.g. "corp.example" (a trailing dot is optional;
	// case does not matter).
	Name string
	// Records are the zone's record sets. Without an SOA record at the apex
	// the resolver uses Route 53's default one for private zones.
	Records []Record
}

// Record is one record set, as a ResourceRecordSet of Route 53.
type Record struct {
	// Name is the absolute owner name; "*.<name>" is a wildcard.
	Name string
	// Type is the record type in presentation form: A, AAAA, CNAME, TXT,
	// and anything else miekg/dns parses (MX, SRV, PTR, SOA, NS, …).
	Type string
	// TTL in seconds.
	TTL uint32
	// Values are the record data in presentation form, as Route 53's
	// ResourceRecords: "192.0.2.1", "target.example.", "\"some text\"".
	Values []string
}

// zone is a compiled zone: owner names in lower case with a trailing dot.
type zone struct {
	apex  string
	soa   *dns.SOA
	names map[string][]dns.RR
}

// SOA values: Route 53's own (the default SOA of a hosted zone), with a
// short negative TTL for the names of instances, which come and go.
const (
	soaMname = "ns-1536.awsdns-00.co.uk."
	soaRname = "awsdns-hostmaster.amazon.com."
)

func newZone(apex string, soaTTL, minTTL uint32) *zone {
	apex = canonical(apex)
	return &zone{
		apex: apex,
		soa: &dns.SOA{
			Hdr:     dns.RR_Header{Name: apex, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: soaTTL},
			Ns:      soaMname,
			Mbox:    soaRname,
			Serial:  1,
			Refresh: 7200,
			Retry:   900,
			Expire:  1209600,
			Minttl:  minTTL,
		},
		names: map[string][]dns.RR{},
	}
}

func (z *zone) add(rr dns.RR) {
	name := canonical(rr.Header().Name)
	rr.Header().Name = name
	if s, ok := rr.(*dns.SOA); ok && name == z.apex {
		z.soa = s
		return
	}
	z.names[name] = append(z.names[name], rr)
}

// compileZone turns a Zone into a zone. Records that do not parse or lie
// outside the zone are skipped and reported.
func compileZone(in Zone) (*zone, []error) {
	z := newZone(in.Name, 900, 86400)
	var errs []error
	for _, r := range in.Records {
		name := canonical(r.Name)
		if !dns.IsSubDomain(z.apex, name) {
			errs = append(errs, fmt.Errorf("zone %s: record %s outside the zone", z.apex, name))
			continue
		}
		for _, v := range r.Values {
			rr, err := dns.NewRR(fmt.Sprintf("%s %d IN %s %s", name, r.TTL, r.Type, v))
			if err != nil || rr == nil {
				errs = append(errs, fmt.Errorf("zone %s: record %s %s %q: %v", z.apex, name, r.Type, v, err))
				continue
			}
			z.add(rr)
		}
	}
	return z, errs
}

// canonical is a name in lower case with a trailing dot.
func canonical(name string) string {
	return strings.ToLower(dns.Fqdn(name))
}

// lookupResult is the outcome of a lookup in one zone.
type lookupResult struct {
	answer []dns.RR
	rcode  int
	// cname is the target when the answer ends with a CNAME the query did
	// not ask for (the caller chases it), else "".
	cname string
}

// lookup answers qname (canonical, at or under the apex) for qtype.
// owner is the name to write in the answers (the query's own spelling).
func (z *zone) lookup(qname, owner string, qtype uint16) lookupResult {
	rrs, ok := z.names[qname]
	if qname == z.apex {
		rrs = append([]dns.RR{z.soa}, rrs...)
		ok = true
	}
	if !ok {
		if z.hasDescendant(qname) {
			return lookupResult{rcode: dns.RcodeSuccess} // empty non-terminal
		}
		if rrs, ok = z.wildcard(qname); !ok {
			return lookupResult{rcode: dns.RcodeNameError}
		}
	}
	var out []dns.RR
	var cname *dns.CNAME
	for _, rr := range rrs {
		t := rr.Header().Rrtype
		if c, isC := rr.(*dns.CNAME); isC && qtype != dns.TypeCNAME && qtype != dns.TypeANY {
			cname = c
			continue
		}
		if qtype == dns.TypeANY || t == qtype {
			out = append(out, withOwner(rr, owner))
		}
	}
	if len(out) == 0 && cname != nil {
		return lookupResult{answer: []dns.RR{withOwner(cname, owner)}, cname: canonical(cname.Target)}
	}
	return lookupResult{answer: out, rcode: dns.RcodeSuccess}
}

// hasDescendant reports whether some name of the zone is below name.
func (z *zone) hasDescendant(name string) bool {
	for n := range z.names {
		if len(n) > len(name) && strings.HasSuffix(n, "."+name) {
			return true
		}
	}
	return false
}

// wildcard finds the records of "*.<closest encloser>" for name (RFC 4592).
func (z *zone) wildcard(name string) ([]dns.RR, bool) {
	for n := name; n != z.apex; {
		_, parent, ok := strings.Cut(n, ".")
		if !ok || parent == "" {
			return nil, false
		}
		n = parent
		if _, exists := z.names[n]; exists || n == z.apex || z.hasDescendant(n) {
			rrs, ok := z.names["*."+n]
			return rrs, ok
		}
	}
	return nil, false
}

// withOwner copies rr with another owner name.
func withOwner(rr dns.RR, owner string) dns.RR {
	c := dns.Copy(rr)
	c.Header().Name = owner
	return c
}

// negativeSOA is the SOA for the authority section of a negative answer,
// its TTL capped at the SOA minimum (RFC 2308).
func (z *zone) negativeSOA() dns.RR {
	s := dns.Copy(z.soa).(*dns.SOA)
	s.Hdr.Ttl = min(s.Hdr.Ttl, s.Minttl)
	return s
}
