// Package lb is the data plane of an Application Load Balancer: one node
// that serves a load balancer's listeners, routes each request by the
// listener's rules, answers redirects and fixed responses itself, proxies
// the rest to targets, and checks the targets' health. It owns the
// behaviour AWS documents for that path: rule conditions and their
// wildcards, weighted forwards, target selection (round robin, least
// outstanding requests, weighted random, slow start), stickiness cookies,
// the headers an ALB adds, its own error answers, the idle timeout,
// draining, fail-open, target health states and reasons, and the counters
// CloudWatch will publish.
//
// It must not know about network namespaces, EC2, the ELBv2 API or the
// store. The controller hands it everything as plain values: a Config
// snapshot per change ((*Node).Update, atomic: requests in flight finish on
// the snapshot they started with, targets that stay keep their health),
// a function that opens a listener for a port (inside the node's
// namespace), a dialer for every connection to targets, and a certificate
// lookup by ACM ARN for HTTPS listeners (asked during each handshake; SNI
// chooses among the listener's certificates, the first is the default).
// It reports back through (*Node).Health and (*Node).Counters.
//
// # Health checks run on every node
//
// Each node checks every target of the groups its listeners use, through
// its own dialer, and routes by what it sees, as AWS's nodes do (targets
// see checks from every node of the load balancer). A shared checker would
// dial from one node's address: a target whose security group admits one
// subnet's node but not another's would look healthy to a node that cannot
// reach it. Health therefore describes one node's view; the controller
// merges the nodes' views for DescribeTargetHealth (a target is healthy
// when the nodes that check it say so).
//
// # Built on httputil.ReverseProxy, with a target pool of its own
//
// Proxying, hop-by-hop headers, streaming bodies both ways, flushing
// unknown-length answers and WebSocket upgrades are
// net/http/httputil.ReverseProxy's. Under it, each target group has a
// transport of its own (transport.go): requests without a body to HTTP
// targets go over a pool of keep-alive connections, written and read in
// the client request's goroutine (http.Transport hands every request to a
// read loop and a write loop of the connection, which cost about a third of
// the node's CPU per request in the ALB scenario of docs/benchmarks.md);
// requests with a body and HTTPS targets keep an http.Transport. Either way
// the response header timeout is the idle timeout (a 504), and the target
// gets the client's Accept-Encoding unchanged, as on AWS. HTTP/2 to clients
// is net/http's own, offered in ALPN on HTTPS listeners only, as on AWS.
// Written here, because ReverseProxy does not do them: rule evaluation and
// the actions; X-Forwarded-For's three modes (ReverseProxy only appends)
// and X-Amzn-Trace-Id; target choice, stickiness and draining around each
// request; the idle timeout on client connections (http.Server's
// ConnState, so that an Update can change it live) and on upgraded
// connections (a wrapper that closes the target side after the idle timeout
// without traffic); AWS's error pages, including for requests Go's server
// refuses before any handler runs (on plain HTTP listeners its fixed
// answers are rewritten on the way out; on HTTPS ones they stay Go's).
//
// Stickiness cookies (AWSALB, AWSALBAPP-n, AWSALBTG) are sealed with
// AES-GCM under Options.CookieKey, which the nodes of one load balancer
// share: a client can neither read a target's address from one nor make
// one that names a target it was not given.
package lb
