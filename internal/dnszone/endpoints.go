package dnszone

import (
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Service endpoints are the DNS names AWS itself publishes for resources
// of its services, outside any hosted zone: today the endpoints of RDS DB
// instances, <id>.<12 chars>.<region>.rds.amazonaws.com; next load
// balancers', caches', buckets'. Each service owns a whole domain
// (RDSDomain) and publishes it through an EndpointSource: every name under
// it is answered from that service's EndpointSet alone, never forwarded.
// The DNS servers read every service's source through one list,
// EndpointSources.

// RDSDomain is the domain of RDS endpoints, fully qualified, lower case.
const RDSDomain = "rds.amazonaws.com."

// EndpointTTL is the TTL of endpoint answers: RDS publishes its endpoints
// with 5 seconds, so that clients follow a failover or a new address soon.
const EndpointTTL = 5

// Endpoint is one service endpoint name and where it points now.
type Endpoint struct {
	// Name is fully qualified, lower case, with the trailing dot.
	Name            string
	Account, Region string
	// VPC is the VPC of PrivateIPs ("" when there is none).
	VPC string
	// PrivateIPs are the resource's addresses in its VPC (a DB instance
	// has one, a load balancer one per node); none when it has none now (a
	// stopped DB instance, one still being created).
	PrivateIPs []netip.Addr
	// PublicIPs are its public IPv4 addresses when it is publicly
	// accessible (internet-facing) and has them.
	PublicIPs []netip.Addr
	// PublicInVPC answers the public addresses inside the VPC too: a load
	// balancer's name has one answer everywhere, where a DB instance's
	// resolves to its private address from inside its VPC.
	PublicInVPC bool
	// Unhealthy marks an endpoint that an alias with EvaluateTargetHealth
	// must not answer with (a load balancer without a healthy target).
	Unhealthy bool
	// TTL is the TTL of its answers; 0 is EndpointTTL.
	TTL uint32
	// Rotate turns the order of its addresses by one on every answer, so
	// that clients taking the first spread their new connections (an
	// Aurora reader endpoint, whose answers also live only a second).
	Rotate bool
}

// EndpointSet is every endpoint name of a domain at one moment. It is
// immutable: a change produces a new EndpointSet.
type EndpointSet struct {
	// Domain is the apex the set is authoritative for (RDSDomain).
	Domain string
	// Names are the endpoints by Name.
	Names map[string]Endpoint
	// Parents are the names between an endpoint and Domain
	// ("<12 chars>.<region>.rds.amazonaws.com."): they exist without
	// records (empty non-terminals), so they are NODATA, not NXDOMAIN.
	Parents map[string]bool
	// Wildcards are endpoints answering every name one label below their
	// key (S3's bucket hosts, <bucket>.s3.<region>.amazonaws.com., under
	// "s3.<region>.amazonaws.com."); the answer carries the name asked.
	Wildcards map[string]Endpoint
}

// Lookup is the endpoint answering name (fully qualified, lower case): its
// own, else the wildcard of its parent.
func (s *EndpointSet) Lookup(name string) (Endpoint, bool) {
	if e, ok := s.Names[name]; ok {
		return e, true
	}
	if _, parent, ok := strings.Cut(name, "."); ok {
		if e, ok := s.Wildcards[parent]; ok {
			e.Name = name
			return e, true
		}
	}
	return Endpoint{}, false
}

// NewEndpointSet indexes endpoints of domain (a fully qualified, lower
// case apex); endpoints outside domain are left out.
func NewEndpointSet(domain string, endpoints []Endpoint) *EndpointSet {
	s := &EndpointSet{Domain: domain, Names: map[string]Endpoint{}, Parents: map[string]bool{}}
	for _, e := range endpoints {
		if !strings.HasSuffix(e.Name, "."+domain) {
			continue
		}
		s.Names[e.Name] = e
		for n := e.Name; ; {
			_, parent, _ := strings.Cut(n, ".")
			if parent == domain || parent == "" {
				break
			}
			s.Parents[parent] = true
			n = parent
		}
	}
	return s
}

// Covers reports whether name (fully qualified, lower case) is at or
// under the set's domain.
func (s *EndpointSet) Covers(name string) bool {
	return s != nil && s.Domain != "" && (name == s.Domain || strings.HasSuffix(name, "."+s.Domain))
}

// EndpointSource gives DNS servers the current endpoints. Implementations
// must be safe for concurrent use and cheap (servers call it for every
// query): return a prebuilt snapshot.
type EndpointSource interface {
	Endpoints() *EndpointSet
}

// EndpointSources are the endpoint sources of every service that
// publishes names; each owns its own domain.
type EndpointSources []EndpointSource

// Sets takes the current set of each source: one consistent view for a
// query.
func (ss EndpointSources) Sets() EndpointSets {
	out := make(EndpointSets, 0, len(ss))
	for _, s := range ss {
		if set := s.Endpoints(); set != nil {
			out = append(out, set)
		}
	}
	return out
}

// EndpointSets are the current sets of several services.
type EndpointSets []*EndpointSet

// For is the set whose domain covers name (fully qualified, lower case) —
// the most specific one, should domains nest — or nil.
func (s EndpointSets) For(name string) *EndpointSet {
	var best *EndpointSet
	for _, set := range s {
		if set.Covers(name) && (best == nil || len(set.Domain) > len(best.Domain)) {
			best = set
		}
	}
	return best
}

// Equal reports whether e and o are the same endpoint with the same
// addresses (in the same order).
func (e Endpoint) Equal(o Endpoint) bool {
	return e.Name == o.Name && e.Account == o.Account && e.Region == o.Region && e.VPC == o.VPC &&
		slices.Equal(e.PrivateIPs, o.PrivateIPs) && slices.Equal(e.PublicIPs, o.PublicIPs) &&
		e.PublicInVPC == o.PublicInVPC && e.Unhealthy == o.Unhealthy && e.TTL == o.TTL && e.Rotate == o.Rotate
}

// AnswerTTL is the TTL of the endpoint's answers.
func (e Endpoint) AnswerTTL() uint32 {
	if e.TTL == 0 {
		return EndpointTTL
	}
	return e.TTL
}

// rotations counts each rotating endpoint's answers (its name → an
// *atomic.Uint64), each answer turning its order by one. Per name, so that
// two reader endpoints asked in turn do not each see every other count
// (with two readers each, one would always answer the same reader first).
// A deleted endpoint's counter stays: a few bytes per name ever rotated.
var rotations sync.Map

// Answer is what the endpoint answers a client inside VPC vpcID ("" for
// outside every VPC): AddrsFrom, in an order turned by one per answer when
// the endpoint rotates.
func (e Endpoint) Answer(vpcID string) []netip.Addr {
	addrs := e.AddrsFrom(vpcID)
	if !e.Rotate || len(addrs) < 2 {
		return addrs
	}
	c, _ := rotations.LoadOrStore(e.Name, new(atomic.Uint64))
	k := int(c.(*atomic.Uint64).Add(1) % uint64(len(addrs)))
	return append(slices.Clone(addrs[k:]), addrs[:k]...)
}

// AddrsFrom are the addresses the endpoint resolves to for a client
// inside the VPC vpcID, or outside every VPC when vpcID is "" (public
// DNS): its private IPs inside its own VPC (unless PublicInVPC);
// elsewhere its public IPs when it has them, else its private IPs (AWS's
// public DNS answers a private resource's private addresses too). None
// means the endpoint has no address now.
func (e Endpoint) AddrsFrom(vpcID string) []netip.Addr {
	if vpcID != "" && vpcID == e.VPC && !(e.PublicInVPC && len(e.PublicIPs) > 0) {
		return e.PrivateIPs
	}
	if len(e.PublicIPs) > 0 {
		return e.PublicIPs
	}
	return e.PrivateIPs
}
