// Package dnszone is the contract between the Route 53 service, which owns
// hosted zones, record sets and health checks, and the DNS servers that
// answer from them (the authoritative server on the host and each VPC's
// resolver for private zones). It holds plain data only: a consistent,
// immutable snapshot of every zone, and the questions a server must ask back
// (health of a health check, addresses of an alias target).
//
// Snapshots share what did not change. A change to one zone makes a new
// Snapshot whose other zones are the same *Zone values as before, and
// whose changed zone holds the same *RecordSet values for every record set
// the change left alone. Servers rely on that to index only what changed
// (ChangedNames); nothing reachable from a published Snapshot is ever
// modified, so it is read without locks.
package dnszone

import (
	"net/netip"
	"time"
)

// Snapshot is every hosted zone at one moment. It is immutable: a change
// produces a new Snapshot, which shares the zones that did not change.
type Snapshot struct {
	// Zones are sorted by Name, then ID.
	Zones []*Zone
}

// Zone is one hosted zone.
type Zone struct {
	ID      string // Z…, without "/hostedzone/"
	Name    string // fully qualified, lower case, with the trailing dot
	Private bool
	// Created is when the zone was created (zero for zones older than
	// the field): Route 53's delegation rule prefers the oldest zone.
	Created time.Time
	// Shadowed marks a public zone whose name another public zone answers
	// on the internet: the zone the registrar delegates the name to (see
	// package route53's delegation rule). Servers of public zones skip it.
	Shadowed bool
	// VPCs are the VPCs a private zone is associated with.
	VPCs []VPC
	// Records are all record sets of the zone, including its SOA and NS,
	// sorted as ListResourceRecordSets returns them (CompareRecordSets):
	// the sets of one owner name are adjacent, and Find and ChangedNames
	// depend on the order.
	Records []*RecordSet
}

// VPC names a VPC of an account's region.
type VPC struct {
	Region, ID string
}

// RecordSet is one resource record set with its routing policy.
type RecordSet struct {
	Name string // fully qualified, lower case, with the trailing dot; a wildcard label is "*"
	Type string // A, AAAA, CNAME, MX, TXT, NS, SOA, SRV, CAA, PTR, NAPTR, SPF
	TTL  uint32
	// Values are the records' values in Route 53's text form
	// ("10 mail.example.com.", "\"v=spf1 …\"").
	Values []string

	// SetIdentifier is set for every policy but simple.
	SetIdentifier string
	// Weight is the weighted policy's weight (nil: not weighted).
	Weight *int64
	// Failover is "PRIMARY" or "SECONDARY" (empty: not failover).
	Failover string
	// Region is the latency policy's region (empty: not latency).
	Region string
	// GeoLocation is the geolocation policy's location (nil: not geo).
	GeoLocation *GeoLocation
	// MultiValueAnswer marks a multivalue answer record set.
	MultiValueAnswer bool
	// HealthCheckID is the health check that gates this set ("" none).
	HealthCheckID string

	// Alias, when set, replaces Values: the set answers with the target's
	// current addresses.
	Alias *Alias
}

// GeoLocation is a geolocation routing location.
type GeoLocation struct {
	ContinentCode, CountryCode, SubdivisionCode string
}

// Alias is an alias target.
type Alias struct {
	// HostedZoneID and DNSName as given in AliasTarget (DNSName fully
	// qualified, lower case, trailing dot).
	HostedZoneID string
	DNSName      string
	// EvaluateTargetHealth makes the set unhealthy when the target is.
	EvaluateTargetHealth bool
}

// Source gives DNS servers the current zones and answers their questions.
// Implementations must be safe for concurrent use and cheap: servers call
// them for every query.
type Source interface {
	// Snapshot returns the current zones.
	Snapshot() *Snapshot
	// Healthy reports a health check's current status; unknown IDs are
	// healthy (Route 53 treats a deleted health check as healthy).
	Healthy(healthCheckID string) bool
	// Resolve returns the current addresses of an alias target outside the
	// hosted zones (a load balancer, a CloudFront distribution, an S3
	// website endpoint, an API Gateway domain), and whether the target is
	// healthy; ok is false when the target does not exist.
	Resolve(target Alias, qtype string) (addrs []netip.Addr, healthy bool, ok bool)
}
