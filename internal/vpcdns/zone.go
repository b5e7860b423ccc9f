package vpcdns

import (
	"strings"

	"github.com/miekg/dns"
)

// zone is a compiled zone: owner names in lower case with a trailing dot.
type zone struct {
	apex  string
	soa   *dns.SOA
	names map[string][]dns.RR
	// below counts the owner names under each name, for the hosted zones
	// (compiled once per version, hosted.go); nil for the instance zones,
	// built per query, which look instead.
	below map[string]int
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
	if _, ok := z.names[name]; !ok && z.below != nil {
		z.count(name, 1)
	}
	z.names[name] = append(z.names[name], rr)
}

// count adds d to the names below each ancestor of name.
func (z *zone) count(name string, d int) {
	for n := name; n != z.apex; {
		_, parent, ok := strings.Cut(n, ".")
		if !ok || parent == "" {
			break
		}
		n = parent
		if z.below[n] += d; z.below[n] <= 0 {
			delete(z.below, n)
		}
	}
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
	if z.below != nil {
		return z.below[name] > 0
	}
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
