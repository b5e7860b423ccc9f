// Package records is Elastic Load Balancing's state in the store: the
// records of load balancers, listeners, rules and target groups (with
// their registered targets), and of deleted load balancers whose nodes are
// still to be taken down. The API (package elbv2) writes them; the
// controller (package elbv2/controller) reads them and reports back into
// them; both import this package, which imports neither.
//
// # The contract between the API and the controller
//
// The API writes everything a user configures: a load balancer's record
// (the LoadBalancer shape Describe returns, with Scheme, subnets in
// AvailabilityZones, SecurityGroups, IpAddressType; Attributes; Tags),
// listeners and their default rule, rules, target groups with their
// attributes and targets, and deregistrations (a target's DrainingUntil).
// It creates a load balancer in State provisioning. On DeleteLoadBalancer it
// deletes the load balancer, its listeners and rules in one transaction and
// writes a Retired record with the nodes the controller had recorded and
// the certificates the listeners used, so that the controller can take
// them down.
//
// The controller writes only what it achieved, and only into records that
// still exist:
//
//   - LoadBalancer.Nodes: per enabled subnet the node's network interface
//     (ENI ID, MAC, private IP) and, internet-facing, its public IP. A
//     node's interface is recorded right after it is made, before it is
//     used, so that none is ever leaked; one made for a load balancer that
//     was deleted meanwhile is deleted again at once.
//   - LoadBalancer.State: active once every enabled subnet has its node and
//     the data plane applied the configuration (provisioning until then),
//     with Error saying why not while it fails.
//   - TargetGroup.Targets: a registration whose DrainingUntil has passed is
//     removed.
//   - Retired records are deleted once their nodes are gone.
//
// No generation is needed: the controller re-reads everything that makes
// up a load balancer's configuration on every pass and applies it again
// when it differs from what it applied last, so events coalesced, repeated
// or lost do no harm. Every write by either side is an event; the
// controller writes nothing when nothing changed.
//
// Keys: a load balancer, listener, rule or target group is stored under
// the IDs of its ARN's resource part, "<lb id>", "<lb id>/<listener id>",
// "<lb id>/<listener id>/<rule id>" and "<target group id>", so that an
// event on a listener or rule names its load balancer even once the record
// is gone. The records are durable: a field's JSON name must not change.
package records
