// Package controller is Elastic Load Balancing's controller: it gives
// each load balancer record its nodes — one requester-managed network
// interface per enabled subnet (requester amazon-elb, description
// "ELB app/<name>/<id>", the load balancer's security groups, and for an
// internet-facing one an Amazon-owned public IP) — and hands the load
// balancer's whole configuration, resolved, to the data plane (Dataplane,
// implemented elsewhere) as a View. It moves a load balancer from
// provisioning to active, takes down the nodes of a deleted load balancer
// and of subnets removed by SetSubnets, gives the nodes' interfaces new
// security groups, and ends draining registrations once their
// deregistration delay has passed. The contract with the API is written
// down in package records.
//
// It is level-triggered, on internal/reconcile: its keys are a load
// balancer (by ID, live or retired) or a target group. Events of a load
// balancer, its listeners and rules, and of its retired record enqueue
// the load balancer; an event of a target group enqueues the target group
// (draining) and re-lists every key, and so does an event of an EC2
// instance record: a registration's instance may have stopped, started or
// moved, which changes the View. A periodic re-list (every 30 s) repairs
// what no event reported. A pass builds the View from the records and
// EC2, and calls Dataplane.Apply only when it differs from the View
// applied last (kept in memory: after a restart of minicloud every load
// balancer is applied again). With a nil Dataplane nothing runs and the
// lifecycles complete all the same.
//
// It must not validate API requests (package elbv2 does) nor run a node
// (the data plane does).
package controller
