// Package elbv2 is Elastic Load Balancing's API for Application Load
// Balancers: load balancers, listeners (HTTP and HTTPS, with ACM
// certificates and AWS's security policies), rules with their conditions
// and actions, target groups with their health checks and attributes,
// target registration and health, tags and account limits, with AWS's
// validation, defaults, IDs, ARNs, DNS names, errors and messages. Load
// balancers of type network and gateway, lambda and alb targets, trust
// stores (mutual TLS), authenticate actions, IPv6 (dualstack) and
// Outposts are refused with a message that says so.
//
// The folders say where each part lives:
//
//   - elbv2 (this package): the handlers. They check a request alone, ask
//     EC2 (ec2port) and ACM (certport) what they need — EC2's port opens
//     transactions of its own, which cannot nest in ours — then check
//     against the records and write in one transaction. They run
//     nothing. loadbalancers.go, listeners.go, rules.go (with
//     conditions.go and actions.go), targetgroups.go, targets.go,
//     attributes.go, tags.go, limits.go; names.go has the names, IDs and
//     ARNs; dns.go the DNS names.
//   - elbv2/records: the records, their tables and the contract between
//     the API and the controller.
//   - elbv2/controller: the controller, which makes each load balancer's
//     nodes (network interfaces), hands the load balancer to the data
//     plane (controller.Dataplane, a View of its whole configuration),
//     moves it from provisioning to active and ends draining
//     registrations.
//   - elbv2/sslpolicy: AWS's table of security policies, which the data
//     plane maps to a tls.Config.
//
// What is accepted but does nothing (yet): access, connection and health
// check logs are stored as attributes, but minicloud has no S3 to write
// them to; ProtocolVersion HTTP2 and GRPC are recorded and handed to the
// data plane as they are; zonal shift, WAF fail-open and the target group
// health thresholds are recorded.
//
// Without a data plane (Config.Dataplane nil) everything is recorded and
// every lifecycle completes — load balancers become active, their nodes'
// interfaces are made — but nothing serves, and DescribeTargetHealth says
// so: "unavailable", reason Target.HealthCheckDisabled.
package elbv2
