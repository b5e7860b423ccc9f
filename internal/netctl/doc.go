// Package netctl is the network controller: it makes the VPC data plane
// (internal/vpcnet and its firewall) match the desired network the EC2
// control plane records (ec2.Service.DesiredNetwork).
//
// # Reconciling
//
// The controller is level-triggered and runs on internal/reconcile with
// one key, the whole network: every event of an "ec2" key, Reset and
// Resync alike, means "something may have changed". Events are debounced
// (Debounce, ~20 ms, not extended by later events, so a burst of API calls
// costs one pass and latency stays bounded), then one pass reads the whole
// desired network in one transaction and converges the kernel towards it;
// passes never overlap. Trigger asks for a pass without waiting; Sync runs
// one that starts after the call and returns its error (the workload
// runtime calls it once it has plugged a workload's ENIs in, before any
// process starts behind them). A slow safety tick (Tick, 2 s: the
// reconcile package's resync) runs a pass anyway, which picks up instance
// namespaces that appeared without a Trigger and repairs drift; a failed
// pass is retried with a short back-off (100 ms doubling up to Tick). Stop
// waits for the pass in flight, then stops the VPC resolvers. Status adds
// to the reconcile counters (passes, the last pass's time, its error while
// failing) what the last pass applied.
//
// A pass compares the desired network with what the controller itself
// applied (kept in memory) and calls vpcnet and the firewall only for the
// differences, in an order that keeps each step valid:
//
//  1. VPCs no longer desired: DeleteVPC (the router namespace takes its
//     bridges, gateway veths, NAT table, network ACL tables and the ENI
//     veths with it; the host routes of public IPs go with the links).
//     Then, in every desired VPC, public IP mappings and NAT gateways gone
//     or changed (UnmapPublicIP, DeleteNATGateway), so that an address
//     moving between VPCs is released before any VPC maps it.
//  2. Per desired VPC, in ID order: EnsureVPC; subnets gone
//     (RemoveSubnetACL, DeleteSubnet) and new (EnsureSubnet); public IP
//     mappings and NAT gateways gone or changed (UnmapPublicIP,
//     DeleteNATGateway); the internet gateway (Ensure/
//     DeleteInternetGateway); NAT gateways and mappings desired
//     (EnsureNATGateway, MapPublicIP — only with an internet gateway, which
//     both need, as on AWS); each subnet's routes (SetRoutes) and network
//     ACL (ApplySubnetACL on Names.Bridge in the router namespace).
//  3. ENIs: the security groups of each ENI whose namespace exists are
//     applied on eth<DeviceIndex> in that namespace (ApplyENI); ENIs gone,
//     moved or whose namespace vanished are forgotten (RemoveENI where the
//     namespace still exists).
//
// Errors of one VPC or ENI do not stop the others; the pass reports them
// joined (Status "lastError") and is retried.
//
// A VPC whose router namespace vanished (deleted behind the controller's
// back) is rebuilt from scratch; an ENI namespace replaced by a new one
// (same name, new inode) gets its rules again. Every FullEvery (30 s), after
// Reset/Resync events and on the first pass, a full pass calls every
// Ensure*/Set*/Apply* regardless of the record: they are idempotent, so a
// full pass costs a few netlink round trips per object and repairs any
// drift the cheap checks miss.
//
// # Namespaces of ENIs
//
// The instance runtime creates instance namespaces (vpcnet
// CreateInstanceNamespace) and plugs ENIs in (AttachENI); the controller
// never creates or deletes them and never attaches ENIs. It enforces an
// ENI's security groups only while the namespace Names.InstanceNamespace
// of the ENI's instance exists. An ENI attached to no instance is looked
// for in the namespace named after the ENI itself
// (Names.InstanceNamespace(eniID)): tools and tests can so exercise the
// network with ENIs made by CreateNetworkInterface and no instance. Between
// AttachENI and the pass that follows Trigger the ENI is unfiltered; a
// runtime that must not allow that calls Sync before starting the guest.
//
// Security groups do not filter the VPC's DNS resolver (primary CIDR base
// + 2) nor firewall.DefaultExempt (169.254.169.254, 169.254.169.253, …).
// The firewall's Exempt list is global, so the controller sets it to
// DefaultExempt plus the ENI's VPC resolver before each ApplyENI: the
// Firewall given to New must not be used by anything else to apply ENI
// rulesets.
//
// # Restarts and leftovers
//
// On start the kernel state is unknown: the record is empty, so the first
// (full) pass ensures everything desired, which is cheap and harmless as
// every vpcnet and firewall call is idempotent. What was created for
// resources deleted while no controller ran is found by name: every router
// namespace "<prefix>-r-<vpc-id>" whose VPC is not desired is deleted
// (DeleteVPC) on every full pass. Router namespaces of the prefix belong to
// this controller alone (the prefix is per state directory, which one
// process holds). Instance namespaces belong to the runtime and are never
// touched. A blanket vpcnet.Cleanup at start would be correct only while
// nothing is desired, and would cut every running instance's network at
// each restart, so it is not used; per-VPC deletion by name gives the same
// result for the VPCs that are gone and keeps the others.
//
// # Limitations
//
//   - Inside a VPC that still exists, objects deleted while no controller
//     ran (a subnet's bridge, a public IP mapping, a NAT gateway) are not
//     found again, as vpcnet offers no listing of them: they stay until
//     the VPC goes. Deletions made while the controller runs are applied.
//   - Security-group tables of ENIs that left a namespace while no
//     controller ran stay in that namespace until it is deleted.
//   - IPv4 only, as vpcnet; IPv6 rules and entries are passed to the
//     firewall but no IPv6 traffic exists.
package netctl
