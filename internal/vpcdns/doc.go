// Package vpcdns is the Amazon-provided DNS resolver of a VPC
// ("AmazonProvidedDNS", the Route 53 Resolver), serving the instances of
// one VPC from inside its router namespace.
//
// # Where it listens
//
// A Server listens on UDP and TCP port 53 on the addresses given to Start,
// inside the network namespace given to Start: on AWS the VPC's primary
// CIDR base + 2 (ResolverAddress, 10.0.0.2 for 10.0.0.0/16, what
// instances' resolv.conf names) and 169.254.169.253 (LinkLocalResolver),
// both in the VPC's router namespace (vpcnet Names.RouterNamespace).
// Instances reach them through their default route (the router, base + 1)
// or, for base + 2 inside their own subnet, by ARP, which the router
// answers for its local addresses. The sockets are created inside the
// namespace (vpcnet.InNamespace) with IP_FREEBIND, so they may be bound
// before the addresses exist; the addresses must be local to the namespace
// for traffic to reach them: Config.ManageAddresses makes Start add the
// missing ones to lo as /32 and Stop remove them (EnsureAddresses,
// RemoveAddresses). An open socket keeps its namespace alive: Stop the
// server when the VPC goes, and Stop/Start it when its router namespace is
// rebuilt.
//
// # What it answers
//
// With the VPC attribute enableDnsSupport:
//
//   - private DNS hostnames of the VPC's addresses (Config.Hosts):
//     ip-10-0-1-23.ec2.internal in us-east-1,
//     ip-10-0-1-23.<region>.compute.internal elsewhere (PrivateName), plus
//     the further names of a Host under that zone (resource-based names,
//     i-….ec2.internal), A to the private IP; and
//     instance-data.<zone> A 169.254.169.254, as on AWS;
//   - PTR for those private addresses (in-addr.arpa inside the VPC's CIDR
//     blocks, zones cut at octet boundaries) to the IP-based name;
//   - with enableDnsHostnames as well, the public DNS hostnames of the
//     VPC's public IPs, ec2-198-18-0-5.compute-1.amazonaws.com
//     (us-east-1) or ec2-….<region>.compute.amazonaws.com (PublicName),
//     resolve to the PRIVATE IP, AWS's split horizon; their PTR (the public
//     IP's reverse name) gives the public name. Other names of the public
//     zones belong to the internet and are forwarded;
//   - the service endpoint names of Config.Endpoints (RDS DB instances,
//     dnszone.RDSDomain), for the whole domain: an endpoint of this VPC
//     resolves to its private IP, one elsewhere as AWS's public DNS
//     answers it (public IPs, else private IPs; dnszone.Endpoint.AddrsFrom),
//     TTL 5; an endpoint without an address now (a stopped DB instance)
//     and the names between endpoints and the domain are NODATA, any other
//     name of the domain NXDOMAIN, never forwarded. A private hosted zone
//     of the same or a more specific name wins, as on AWS;
//   - AWS's own service names (package awsendpoints, through
//     Config.Endpoints like RDS's): sts.<region>.amazonaws.com,
//     sts.amazonaws.com, ec2.…, s3.… and its bucket hosts… resolve to the
//     public service addresses (vpcnet.ServiceAddress) minicloud serves its
//     API on, so an SDK in an instance reaches it with no endpoint set;
//     each region's names own <region>.amazonaws.com (others NXDOMAIN);
//   - interface VPC endpoints' names (package vpce): their own names
//     under vpce.amazonaws.com (Config.Endpoints, every resolver) and, in
//     the endpoint's VPC only, its private DNS name
//     (Config.VPCEndpoints): sts.<region>.amazonaws.com to the endpoint's
//     interfaces, a set of that name's own, more specific than the
//     region's, so it wins over the public answer as AWS's private hosted
//     zone does;
//   - the Route 53 private hosted zones of Config.Zones, authoritatively
//     (a missing name is NXDOMAIN, never forwarded), with wildcards
//     (RFC 4592), empty non-terminals and CNAME chasing within the VPC's
//     zones (up to 8 links; a target outside them is resolved upstream).
//
// The most specific zone wins. The resolver owns the private zone of its
// region (ec2.internal or <region>.compute.internal), the reverse zones of
// its CIDR blocks and the hosted zones: in them an unknown name is
// NXDOMAIN and a known name without the type asked for is NODATA, both
// with the zone's SOA in the authority section (Route 53's SOA, TTL and
// minimum 60 for the instance zones; Route 53's default for hosted zones
// without their own). An unknown ip- name in the zone is NXDOMAIN: the
// resolver only names the addresses Hosts returns. Instance records have
// TTL 60 (InstanceTTL), as AWS's resolver serves them.
//
// Every other name is forwarded to Config.Upstreams in order: UDP, then
// TCP when the answer is truncated, each exchange bounded by
// ForwardTimeout (2 s); an upstream that fails, times out or answers
// SERVFAIL/REFUSED passes to the next. The upstreams' sockets are created
// in the process's own namespace (the host), not the router's, so an
// upstream is any address the host reaches. AWS's resolver forwards such
// names to the internet's DNS; minicloud, offline, has only what it is
// configured with: with no upstream, or none answering, the answer is
// SERVFAIL, at once when there are none, never a hang.
//
// With enableDnsSupport false the resolver is off on AWS: it does not
// answer at all. Here the sockets are closed (Update reopens them when the
// attribute is turned on again), so queries meet ICMP port unreachable or a
// TCP reset and clients fail over at once instead of waiting for a
// timeout.
//
// # DNS details
//
// Responses have RA set and AA clear, as a recursive resolver's. EDNS(0):
// a query's OPT is passed through to the upstream as is and the upstream's
// OPT back to the client; the resolver's own answers carry an OPT of 1232
// bytes echoing DO, and EDNS versions other than 0 get BADVERS. UDP answers
// larger than the client's buffer (512 bytes without EDNS, at most 4096)
// are truncated with TC set; TCP is served on the same addresses. Opcodes
// other than QUERY get NOTIMP, classes other than IN (and ANY), AXFR and
// IXFR get REFUSED, messages without exactly one question FORMERR.
//
// # Limits
//
// AWS's resolver takes at most 1024 packets a second from each ENI and
// drops the rest unanswered (the documented per-ENI limit of the
// Amazon-provided DNS server). Here each
// client is its source address (an ENI's secondary addresses count apart),
// and Config.Limits (DefaultLimits for its zero fields) bounds it, so that
// a flood from one guest starves neither minicloud nor the VPC's other
// clients:
//
//   - rate: a token bucket of 1024 queries a second with a burst of 1024
//     per client. Over it a UDP query is dropped as it is read, before it
//     is parsed or given a goroutine; a query over TCP closes its
//     connection. The table of clients holds 4096 addresses; past it (a
//     guest sending from ever new, spoofed addresses) newcomers share one
//     bucket until idle clients are swept;
//   - queries in flight (a forwarded one may take the forward timeout):
//     64 per client, 512 per resolver; a query over either is dropped
//     (UDP) or closes its connection (TCP);
//   - TCP: 16 connections per client, 128 per resolver, each also one
//     descriptor of the process's guest budget (guestlimit.Process), a
//     connection over any reset as soon as it is accepted; 2 s to send the
//     first query, 8 s idle between queries (RFC 7766), 2 s to take an
//     answer, 128 queries per connection;
//   - forwarding: each exchange with an upstream takes a descriptor of the
//     budget for its socket; with none left the query gets SERVFAIL.
//
// Config.Stats counts the queries throttled and refused and the forwards
// refused for want of a descriptor; /_minicloud/health shows netctl's total
// for every resolver (dataPlane.network.resolverLimits).
//
// # Limitations
//
// IPv4 only (no AAAA for instances, no fd00:ec2::253, no ip6.arpa). Hosts
// and Zones are called for every query; a hosted zone is parsed once per
// version, a new version only in the names that changed (hosted.go). No
// caching, no DNSSEC, no Resolver endpoints or forwarding rules, no DNS64.
// Hosted-zone alias record sets are not answered, and routing policies are
// not applied: every value of a name's sets is.
package vpcdns
