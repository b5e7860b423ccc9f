// Package firewall enforces EC2 security groups and network ACLs on the
// emulated VPC data plane (network namespaces, veth pairs, bridges built by
// package vpcnet) by compiling them into nftables rulesets and programming
// them over netlink (github.com/google/nftables; no nft binary is needed).
//
// # Model
//
// The input is neutral (SecurityGroup/SGRule, NetworkACL/ACLEntry); the
// control-plane adapter resolves referenced groups to their members'
// current private addresses (SGRule.Peers). CompileENI and CompileACL are
// pure: they return a Ruleset, which prints as nft syntax (String), can be
// evaluated without a kernel (Eval, used by the unit tests) and is what
// ApplyENI/ApplySubnetACL turn into netlink messages.
//
// # Security groups: where and how
//
// A security group is enforced in the network namespace of the instance,
// on the instance side of its ENI (the interface given to ApplyENI), with
// one inet-family table per ENI, <prefix>sg-<iface>:
//
//	chain input   { type filter hook input priority filter; policy accept;   iifname IF jump ingress }
//	chain output  { type filter hook output priority filter; policy accept;  oifname IF jump egress }
//	chain forward { type filter hook forward priority filter; policy accept; iifname IF jump ingress; oifname IF jump egress }
//	chain ingress { ct state established,related return; exemptions; one rule per SG rule and family; counter drop }
//	chain egress  { the same for the destination address }
//
// Why there: conntrack runs per namespace, so the inet hooks of the
// instance's namespace see the ENI's traffic with its connection state and
// nothing else, without br_netfilter (whose bridge-nf-call-* sysctls would
// make every bridge in the router namespace pass frames through the IP
// hooks) and without a shared table keyed by interface. The forward chain
// covers instances that route (source/dest check disabled). Other
// interfaces (lo, other ENIs with their own tables) are untouched: the base
// chains have policy accept and only jump for their interface.
//
// Semantics, as in AWS: rules only allow; the union of all the ENI's
// groups applies; anything else is dropped, in both directions (AWS's
// default "egress allow all" is an ordinary rule the caller passes). The
// first rule accepts packets of known flows, so replies need no rule in the
// other direction, and changing or revoking rules never cuts an
// established flow: conntrack keeps it, only new flows meet the new rules
// (AWS: "existing tracked connections are not interrupted"). Allowing rules
// end in "return", which for input and output is accept (policy accept),
// and lets a packet forwarded in and out of the same ENI meet both
// directions' rules. ICMP/ICMPv6 rules match the type and, when given, the
// code; "icmp" rules apply to IPv4 only, "icmpv6" to IPv6 only; ports of
// tcp/udp are destination ports; other protocols ignore ports.
//
// Always allowed (AWS does not filter them with security groups either):
// Firewall.Exempt remote addresses (DefaultExempt: instance metadata, time
// sync, link-local DNS; the caller may add the VPC resolver) and ICMPv6
// neighbour discovery (types 133–136), without which IPv6 would not work.
// ARP is not IP traffic and never reaches inet hooks.
//
// Addresses live in named interval sets, one per SG rule and address
// family (i<k>_4, e<k>_6, …), holding the rule's CIDRs and peer addresses
// (overlaps merged in user space, as the kernel requires). ApplyENI keeps
// the last ruleset applied per namespace and table: when only addresses
// changed (a peer group gained or lost members, a CIDR changed), it flushes
// and refills just the affected sets in one transaction; otherwise it
// replaces the table ("add table; delete table; add table; …") in one
// transaction. Either way packets see the old or the new ruleset, never a
// mix, and the change is effective as soon as the call returns.
//
// # Network ACLs: where and how
//
// A network ACL is enforced in the VPC router namespace, on the routed
// traffic of the subnet's bridge (the interface given to ApplySubnetACL),
// with one inet-family table per subnet, <prefix>acl-<bridge>:
//
//	chain forward  { type filter hook forward priority filter; policy accept;
//	                 iifname BR oifname BR return   # within the subnet: not filtered
//	                 oifname BR jump inbound        # routed into the subnet
//	                 iifname BR jump outbound }     # routed out of the subnet
//	chain inbound  { entries in ascending rule number: … accept | … drop; counter drop }
//	chain outbound { the same }
//
// Traffic between instances of one subnet is bridged, not routed, and so
// never reaches the forward hook (and the first rule excludes it should
// br_netfilter be active), matching AWS where ACLs apply at the subnet
// boundary only. Traffic to the router namespace itself (input/output
// hooks, e.g. an emulated resolver) is not filtered, as AWS does not filter
// the VPC's DNS with ACLs.
//
// Semantics follow internal/service/ec2.aclEvaluate: per direction the
// entries in ascending rule number (a stable sort, so equal numbers keep
// their input order), the first match decides (accept or drop), and the
// "*" rule denies the rest — it is implicit (the trailing counter drop);
// entries numbered 32767/32768 passed as data compile like the others. The
// remote address is the source for inbound and the destination for
// outbound entries; an IPv4 CIDR never matches IPv6 and vice versa; tcp/udp
// ranges apply to the destination port; ICMP entries match the type, and —
// unlike aclEvaluate, whose packets carry no code — also the code when it
// is not -1, as AWS does. There is no conntrack match: ACLs are stateless,
// so replies need their own entries (e.g. outbound tcp 1024-65535), and
// removing them breaks even established flows.
//
// # Safety and naming
//
// Every table is named with the Firewall's prefix; Tables lists them and
// Purge deletes them all from a namespace. Namespaces are passed as paths
// (/var/run/netns/NAME, /proc/PID/ns/net, /proc/PID/fd/N); the namespace
// this process started in, PID 1's and /proc/self's are refused, so the
// host's own firewall is never programmed.
//
// # Limitations
//
//   - AWS does not track flows admitted by "all traffic from 0.0.0.0/0 in
//     both directions" rules (untracked flows are cut immediately when such
//     a rule is revoked); here every flow is tracked, so established flows
//     always survive a revoke.
//   - An instance with CAP_NET_ADMIN in its own namespace could remove its
//     table. The same Ruleset could instead be hooked on the host side of
//     the ENI with bridge-family conntrack if that ever matters.
//   - Prefix-list references must be expanded to CIDRs by the caller.
//   - The cache behind set-element updates is per Firewall value; a new
//     process rebuilds each table on its first apply (Purge first to drop
//     tables of ENIs that no longer exist).
package firewall
