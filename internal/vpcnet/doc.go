// Package vpcnet builds the real network behind minicloud's VPCs: Linux
// network namespaces, bridges, veth pairs, policy routing and nftables NAT,
// all driven over netlink (no shelling out). Callers are level-triggered
// reconcilers: every method is idempotent and converges the kernel towards
// what it is told.
//
// # Topology
//
//	host namespace ("the internet")
//	  <p>-g<h(vpc)>  169.254.64.1/30   host /32 route per public IP:
//	  │  MTU 1500                        198.18.x.y via 169.254.64.2
//	  │ veth (internet gateway)
//	  │
//	┌─┼──── router namespace <p>-r-<vpcID> (one per VPC) ─────────────────┐
//	│ <p>-u<h(vpc)>  169.254.64.2/30     ip_forward=1                      │
//	│   nftables table ip <p>-nat: DNAT public→private (in),              │
//	│   SNAT private→public / NAT gateway (out), igw-egress drop          │
//	│                                                                     │
//	│ <p>-b<h(subnet-a)> 10.0.1.1/24        <p>-b<h(subnet-b)> 10.0.2.1/24 │
//	│   bridge, MTU 9001                      bridge                       │
//	│    ├─ <p>-e<h(eni-1)>                    └─ <p>-e<h(eni-2)>          │
//	└────┼─────────────────────────────────────────┼──────────────────────┘
//	     │ veth (ENI), MTU 9001                    │
//	┌────┴──── <p>-i-<instanceID> ───┐     ┌───────┴──── <p>-i-<id> ───────┐
//	│ eth0 10.0.1.10/24, ENI's MAC   │     │ eth0 10.0.2.20/24             │
//	│ default via 10.0.1.1           │     │ default via 10.0.2.1          │
//	└────────────────────────────────┘     └───────────────────────────────┘
//
// <p> is Config.Prefix (a short hash of the state directory) and h(id) a hex
// SHA-256 prefix of the ID filling the 15-byte interface-name limit; the
// full ID is the link's alias. Names computes every name; Cleanup removes
// exactly the namespaces and host links starting with "<p>-".
//
// Every VPC has its own router namespace, so VPCs may overlap. A subnet is a
// bridge holding the VPC router address (CIDR base + 1). An ENI is a veth
// pair: eth<DeviceIndex> in the instance namespace (ENI MAC and IP with the
// subnet's prefix length; device 0 also gets the default route via base + 1)
// and a bridge port in the router namespace. MTU is 9001 inside the VPC and
// 1500 on the internet-gateway link, as on AWS. The router knows every ENI's
// MAC (a permanent neighbour entry, as AWS's mapping service answers ARP),
// and an attached ENI sends a gratuitous ARP, so an address handed to a new
// ENI is reached at once by the router and by the subnet's other instances.
//
// # Routing
//
// The router's main table holds the bridges' connected routes and an
// "unreachable" route per VPC CIDR block (the local route: in the VPC but in
// no subnet goes nowhere; the blocks are read back from there). Each subnet
// has a table, 10000 + its bridge's ifindex, selected by the rule
// "from <subnet CIDR> lookup <table>" (priority 1000). The table holds a
// "throw" route per VPC CIDR block (falls back to the main table: local
// traffic), the subnet's routes from SetRoutes — internet and NAT gateway
// targets as "via 169.254.x.1 dev <p>-u…", blackholes as kernel blackhole
// routes, targets that do not exist (yet) as blackholes — and, when no route
// covers 0.0.0.0/0, a blackhole default so nothing falls through to the
// main table: as on AWS, a destination with no route is dropped silently
// (the client times out; no ICMP "network unreachable" comes back). A more
// specific route than a VPC CIDR wins over the local route.
//
// # The internet gateway and public IPs
//
// The host is the internet. An internet gateway is a veth pair between the
// host and the router on a /30 of LinkNetwork (169.254.64.0/18: link-local,
// which AWS forbids as a VPC CIDR; the first free /30 among the host's
// addresses, searched from a point hashed from the prefix and VPC ID). A public IP (EIP, auto-assigned or NAT gateway; from
// Config.PublicCIDR, 198.18.0.0/15 by default) gets a host route
// "<public>/32 via <router end>" and nothing else is routed from the host to
// a VPC. MapPublicIP adds "iifname <uplink> ip daddr <public> dnat to
// <private>" and "oifname <uplink> ip saddr <private> snat to <public>". So:
//
//   - the host reaches an instance on its public IP; the instance sees the
//     host's address on that VPC's gateway link (HostAddress, the
//     first address of its /30), not a public IP as AWS would show a client's;
//   - the instance reaches any host address, seen as its public IP; host
//     services listening on HostAddress (or 0.0.0.0) are "on the internet";
//   - an instance without a public IP cannot leave (the igw-egress rule
//     drops un-NATed traffic on the uplink) nor be reached (no host route).
//
// A NAT gateway (EnsureNATGateway; needs the internet gateway) SNATs the
// sources of subnets whose routes target it to its public IP, ahead of the
// instances' own mappings; the host has a route to its public IP for the
// replies, and nothing else comes in: the router has no route for it.
//
// The host end of each gateway link has forwarding and IPv6 disabled, so the
// host never forwards VPC traffic to its real interfaces.
//
// # AWS's public service addresses
//
// The last /28 of the public range (ServiceRange; none for a range smaller
// than a /24) is kept from EC2 for the addresses AWS's regional endpoints
// resolve to (ServiceAddress: one for every service's API, one for S3, one
// for DynamoDB). EnsureServiceAddresses puts them on the host, as /32s on
// Names.ServiceLink (a veth pair with both ends on the host: the dummy
// driver is missing from some kernels), so a host listener (package
// vpcapi) binds them. An instance reaches them exactly as it reaches the
// internet: its packets leave through the gateway link with its public IP
// or its NAT gateway's as the source and are delivered locally; the replies
// follow the /32 route back. Nothing is forwarded by the host, and the
// guard route of the range stays below the addresses' local routes.
// Cleanup removes the link with the prefix's other host links.
//
// # VPC endpoints
//
// An interface endpoint's ENI is an ENI like any other: the endpoint
// controller (package vpce) places it in a namespace named after it
// (workload.Place) and serves there. A gateway endpoint is a namespace of
// its own (EnsureGatewayEndpoint: InstanceNamespace of the vpce- ID)
// joined to the router by a veth pair (Names.Endpoint in the router, eth0
// in the endpoint) and holding its prefix list's addresses on eth0; a
// route with TargetGatewayEndpoint is a device route down that link in the
// subnet's table (the endpoint answers ARP for its addresses, the router's
// end answers for the VPC's by proxy, and has rp_filter off), a blackhole
// while the link does not exist. The source address is left as it is: the
// instance's private IP. DeleteGatewayEndpoint removes both; Cleanup
// removes what a crash left with the prefix's other namespaces.
//
// # Hook points for filtering (package vpcnet/firewall)
//
// vpcnet filters nothing but the gateway's egress rule above. Security
// groups and network ACLs belong to the firewall package, in its own tables,
// matching on these devices of the router namespace Names.RouterNamespace:
//
//   - Names.ENIPort(eniID): the ENI's bridge port; every frame from the
//     instance enters the router namespace here (nftables bridge family:
//     iifname / oifname), including traffic within a subnet;
//   - Names.Bridge(subnetID): the subnet's bridge, the iif/oif of routed
//     traffic between subnets and to the gateway (network ACLs);
//   - Names.Uplink(vpcID): the internet-gateway end; DNAT happens at
//     prerouting priority -100, SNAT at postrouting 100.
//
// # Limitations
//
// IPv4 only. Hairpin through a public IP from inside the VPC is not
// translated. Secondary ENIs get no default route. A NAT gateway's own
// subnet and private IP are not modelled: the router does its NAT. Route
// targets other than the internet gateway, NAT gateways, local and
// blackhole are for the caller to pass as blackholes. Desired route tables
// are kept in memory (a restarted process keeps the kernel's tables and
// recovers mappings and NAT gateways in use from the NAT table, but expects
// SetRoutes again before gateway changes re-resolve them).
package vpcnet
