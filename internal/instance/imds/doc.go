// Package imds owns the EC2 Instance Metadata Service as minicloud's
// instances see it at http://169.254.169.254: an http.Handler that answers
// for whichever instance sent the request, with AWS's paths, listings,
// status codes and bodies.
//
// The instance runtime decides where the handler listens (169.254.169.254:80
// inside each instance's network namespace, or a host-side proxy the
// instances are routed to) and fills an InstanceData per instance from the
// EC2 control plane's InstanceSpec plus what the spec does not carry (VPC
// CIDRs, security group names, the zone ID). The handler identifies the
// instance only by the request's source address (Lookup): never by a
// header, since anything in the instance could set one.
//
// Behaviour, as AWS documents and answers it:
//
//   - IMDSv1: plain GET. IMDSv2: PUT /latest/api/token with
//     X-aws-ec2-metadata-token-ttl-seconds (1–21600) returns a token, which
//     GETs send in X-aws-ec2-metadata-token. A missing or invalid TTL is
//     400; a PUT carrying X-Forwarded-For is 403 (AWS refuses tokens to
//     anything that looks proxied); an invalid or expired token is 401,
//     also when tokens are optional; with HttpTokens "required" a GET
//     without a token is 401.
//   - HttpEndpoint "disabled": every request is 403.
//   - A request from an address that is no instance's is 403 as well: the
//     metadata service is not there for that caller, which is different
//     from a metadata path that does not exist (404).
//   - Directories list their entries one per line, subdirectories with a
//     trailing "/"; entries that have no value (public-ipv4 without a
//     public address, iam/ without a profile, public-keys/ without a key
//     pair, tags/ unless InstanceMetadataTags is enabled, user-data without
//     user data) are neither listed nor served (404).
//   - Responses are text/plain (user-data application/octet-stream), with
//     Server: EC2ws; errors are AWS's small XHTML pages.
//
// Tokens are stateless: an HMAC (keyed per Server) over the instance ID and
// expiry, so a guest that requests tokens in a loop costs no memory, and a
// token taken from one instance is refused by every other.
//
// Not provided: IAM role credentials (iam/security-credentials/<role> is
// 404 until STS issues instance credentials), the signed identity
// documents (pkcs7, signature, rsa2048), spot and scheduled events, and
// the PUT response hop limit (an http.Handler cannot see IP TTLs; the
// runtime's network enforces reachability instead). Every dated version
// in the root listing serves the same data as latest.
package imds
