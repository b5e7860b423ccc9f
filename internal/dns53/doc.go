// Package dns53 answers real DNS queries from Route 53 hosted zones
// (a dnszone.Source): the host-side authoritative server of the public
// zones (Server), and the same answering code for VPC resolvers, which
// call Answer with a filter selecting the private zones of their VPC.
//
// # Server
//
// New(Config).Start(addr) binds UDP and TCP on one address (port 0: a
// free port, the same for both) and returns once serving; Addr, Stop
// (idempotent, restartable), ListenAndServe (Start, then block until
// Stop) and Status (zones, record values that failed to parse, counters)
// complete it. It answers authoritatively (AA, RA clear) every name at or
// under a public hosted zone. When several public zones share a name, only
// the one not Shadowed answers (the zone the name is delegated to, by
// Route 53's rule: the chosen one, else the oldest); the others are
// skipped, so a later duplicate never blanks out or takes over a name. Names outside every
// public zone are forwarded to Config.Upstreams in order (UDP, then TCP
// when truncated, ForwardTimeout 2 s each; an upstream failing or
// answering SERVFAIL/REFUSED passes to the next; none answering:
// SERVFAIL). With no upstreams they are REFUSED at once, as Route 53's
// name servers answer for zones they do not host. A CNAME chain that
// leaves the zones is completed upstream when the query has RD and
// upstreams are configured (for stub clients); otherwise the answer ends
// with the CNAME, as an authoritative server's does.
//
// Service endpoint names (Config.Endpoints: RDS DB instances, the whole
// of rds.amazonaws.com) are answered before the hosted zones, as AWS's
// public DNS answers them: A with the public IP of a publicly accessible
// instance, else its private IP, TTL 5; NODATA for an instance without an
// address now (stopped) and for the names between an endpoint and the
// domain; NXDOMAIN for any other name of the domain; AA set. A hosted
// zone's CNAME to an endpoint is completed from them when the query has RD.
//
// # Answers
//
// Record values are Route 53's text form, parsed with dns.NewRR as
// "<name> <ttl> IN <type> <value>" once per Snapshot (compiled snapshots
// are cached by pointer); a value that does not parse is skipped and
// reported in Status. Types: A, AAAA, CNAME, MX, TXT, NS, SOA, SRV, CAA,
// PTR, NAPTR, SPF (and anything else miekg/dns parses).
//
//   - Names are matched case-insensitively; the question is echoed as sent
//     (0x20) and answer owners use the query's spelling.
//   - CNAME: chased through the owned zones, across zones too, up to 8
//     links; a loop ends the chain. The rcode is that of the last name
//     (RFC 6604): a CNAME to a missing owned name is NXDOMAIN.
//   - Wildcards (RFC 4592): "*.<closest encloser>" synthesizes records
//     named as queried; existing names and empty non-terminals block it.
//     The escaped "\052" label is accepted.
//   - Negative answers: NXDOMAIN for a missing name, NOERROR with no
//     answer (NODATA) for an existing name or empty non-terminal without
//     the type; both carry the zone SOA in the authority section with TTL
//     min(SOA TTL, SOA minimum), as Route 53. A zone without an SOA
//     record gets Route 53's default one.
//   - NS at the apex is answered from the apex NS set. A non-apex NS set
//     is a delegation: names at or under it get a referral (AA clear, the
//     NS set in authority, in-zone A/AAAA glue in additional).
//   - ANY: every record set at the name (policies applied per type),
//     as Route 53's name servers answer it (no RFC 8482 minimal answer).
//   - EDNS(0): an OPT with 4096 bytes is returned when the query has one,
//     echoing DO; versions other than 0 get BADVERS. UDP answers larger
//     than the client's size (512 without EDNS, capped at 4096) are
//     truncated with TC (miekg's Truncate); TCP answers are complete.
//   - Opcodes other than QUERY: NOTIMP; classes other than IN/ANY, AXFR
//     and IXFR: REFUSED; not exactly one question: FORMERR.
//
// # Routing policies
//
// A set is healthy when its HealthCheckID (if any) is healthy per
// Source.Healthy and, with Alias.EvaluateTargetHealth, its target is: a
// record in a hosted zone is healthy when at least one of the target's
// sets of the type is (recursively); a target without records is
// unhealthy; other targets use Resolve's healthy (and ok).
//
//   - Simple: every value (health not evaluated, as Route 53).
//   - Weighted: one set, probability weight/total among healthy sets of
//     non-zero weight; if none, uniformly among healthy weight-0 sets;
//     if no set is healthy, all are treated as healthy (Route 53).
//   - Failover: PRIMARY when healthy, else SECONDARY when healthy, else
//     PRIMARY (all unhealthy counts as all healthy).
//   - Multivalue answer: up to 8 healthy sets in random order; when none
//     is healthy, up to 8 of all (Route 53).
//   - Latency (deterministic): among healthy sets (all when none is), the
//     one whose Region is ClientInfo.Region (Config.ClientRegion), else
//     the lexicographically first Region.
//   - Geolocation (deterministic): ClientInfo.Location
//     (Config.ClientLocation) matched by subdivision, then country, then
//     continent, then the default location (CountryCode "*"); an
//     unhealthy match passes to the next broader one; with every match
//     unhealthy, the most specific. No match, and no default: NODATA
//     (NOERROR, SOA), as Route 53. An unknown location matches only "*".
//
// Alias sets: a target in a hosted zone (Alias.HostedZoneID of a zone of
// the snapshot, or empty/the set's own zone) answers the target's sets of
// the same type, policies applied, with the alias's owner name and the
// target's TTL; other targets answer Source.Resolve's addresses (A or
// AAAA) with TTL 60; a missing target answers NODATA.
//
// # VPC resolvers
//
// Answer(src, filter, req, client) is the answering core without
// transport: it returns (nil, false) when no accepted zone contains the
// name (forward it), else the authoritative reply without OPT and not
// truncated; the caller adds EDNS, truncates, and may clear AA / set RA
// as a recursive resolver's reply. DanglingCNAME reports a chain to
// complete upstream.
package dns53
