// Package vpce is the data plane of interface VPC endpoints (AWS
// PrivateLink for AWS services): it makes the endpoints EC2 records
// (ec2.Service's endpoint seam, DesiredEndpoint/DesiredEndpoints) carry
// traffic, and publishes their DNS names.
//
// # Serving
//
// Each interface of an endpoint is a workload of its own (internal/workload
// Place, named after the ENI): a network namespace with the ENI plugged in
// (its MAC and private IP in its subnet), whose security groups the network
// controller enforces there like any ENI's (internal/netctl looks for an
// ENI that no instance holds in the namespace named after it). Inside it,
// minicloud listens in-process on the ENI's private IP — HTTPS on 443 with
// a certificate of minicloud's CA for the AWS service names, the
// endpoint's own names (*.<service>.<region>.vpce.amazonaws.com) and its
// private DNS name, and HTTP on 80 — and serves the gateway's handler, so
// every service answers there, as through the public service addresses
// (internal/vpcapi). Every request carries the endpoint
// (api.WithVPCEndpoint): the caller's private IP is its source,
// aws:SourceVpc and aws:SourceVpce are known to IAM (internal/authz, which
// also makes the endpoint's policy decide), and CloudTrail records
// vpcEndpointId. No internet or NAT gateway is involved: an instance in a
// private subnet with neither reaches the API through the endpoint only.
//
// Once every interface serves, the controller reports the endpoint
// available (ec2 ReportEndpointAvailable: pending → available). An
// interface gone from the endpoint (ModifyVpcEndpoint RemoveSubnetIds, a
// deleted endpoint) has its listeners closed and its namespace removed.
//
// # DNS
//
// Names is an EndpointSource for every DNS server (the VPC resolvers,
// --dns-listen, Route 53's aliases): the endpoint-specific names of the
// domain vpce.amazonaws.com — the regional one answering every interface's
// address, one per zone answering that zone's — which AWS's public DNS
// answers with the private addresses. PrivateDNS gives a VPC's resolver the
// private DNS names of the VPC's endpoints with private DNS on
// (sts.us-east-1.amazonaws.com…, or *.s3.us-east-1… as a wildcard), each a
// set of its own domain, more specific than the region's public names
// (internal/awsendpoints), so it wins inside that VPC only, as AWS's
// private hosted zone does. Names are published once the endpoint serves.
//
// # Reconciling and restarts
//
// The controller runs on internal/reconcile, one key per endpoint, fed by
// the store's ec2/vpce keys: level-triggered, idempotent, retried with
// back-off (a subnet the network controller has not built yet). Nothing is
// kept but in memory: at start every endpoint is listed and placed again
// (Place finds the namespaces a previous run left, the listeners are new).
// Stop closes the listeners and leaves the namespaces, as a shutdown is not
// a deletion. The namespaces of an endpoint deleted while minicloud was
// down are left to `minicloud cleanup` (they carry the data plane's
// prefix).
//
// # Gateway endpoints
//
// A gateway endpoint (S3, DynamoDB) gets a namespace of its own joined to
// its VPC's router (vpcnet EnsureGatewayEndpoint) that holds its service's
// addresses — those of its prefix list, ec2.EndpointSpec.Addrs, the
// service's public service addresses — and minicloud serves them there as
// it serves an interface (HTTPS 443, HTTP 80, the endpoint in every
// request). The routes to it are the route tables' pl- routes, which the
// network controller realises down that link (blackholes until it exists),
// so only the subnets whose route table is associated reach it; the
// caller's private IP is the source. Deleting the endpoint removes the
// namespace.
//
// The package must not read EC2's records: it sees endpoints through the
// ec2.EndpointSpec the seam exports.
package vpce
