// Package imds owns the EC2 Instance Metadata Service as minicloud's
// instances see it at http://169.254.169.254: an http.Handler that answers
// for whichever instance sent the request, with AWS's paths, listings,
// status codes and bodies, and Serve, which serves it on a listener under
// per-instance limits (below).
//
// The instance runtime decides where it listens (169.254.169.254:80 in
// each VPC's router namespace) and fills an InstanceData per instance from the
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
//     public address, iam/ without a profile (see Role credentials), public-keys/ without a key
//     pair, tags/ unless InstanceMetadataTags is enabled, user-data without
//     user data) are neither listed nor served (404).
//   - Responses are text/plain (user-data application/octet-stream), with
//     Server: EC2ws; errors are AWS's small XHTML pages.
//
// Tokens are stateless: an HMAC (keyed per Server) over the instance ID and
// expiry, so a guest that requests tokens in a loop costs no memory, and a
// token taken from one instance is refused by every other.
//
// # Limits
//
// AWS "throttle[s] queries to the IMDS on a per-instance basis" and limits
// "the number of simultaneous connections from an instance", without
// publishing the figures; a throttled request gets HTTP 429 Too Many
// Requests (what clients meet in the wild; AWS's list of IMDS error codes
// names only 400, 401, 403, 404 and 503). Here, so that one guest cannot
// starve minicloud or its neighbours, Serve enforces Limits (DefaultLimits
// unless WithLimits says otherwise), each instance counted by the instance
// that owns the connection's source address, and every caller that is no
// instance's under one shared key:
//
//   - connections: 32 per instance, 512 per listener (a VPC), each also
//     one descriptor of the process's guest budget (guestlimit.Process: a
//     quarter of RLIMIT_NOFILE, at most 4096). A connection over any of
//     them is reset as soon as it is accepted and never reaches the HTTP
//     server, so a flood of half-open requests holds 32 descriptors of
//     minicloud, not one per connection;
//   - requests: a token bucket of 100 a second with a burst of 200 per
//     instance (cloud-init's crawl of the whole tree fits the burst); a
//     request without a token is answered 429 with AWS's error page, IMDSv2
//     token PUTs included (tokens cost nothing to keep, so there is no
//     other limit on them, as AWS says "no practical limit on the number of
//     concurrent tokens");
//   - time: 5 s to send the headers, 10 s for the whole request with its
//     body (the body is never read, but a request's connection is not
//     freed before it has come or the time is up), 10 s to take the
//     answer, 10 s idle between kept-alive requests; headers at most
//     16 KiB (431 past it).
//
// Stats counts the connections reset and the requests throttled;
// /_minicloud/health shows them with the limits (dataPlane.instanceRuntime.
// metadataService) and the budget (dataPlane.guestBudget).
//
// # Role credentials
//
// An instance with an instance profile is served iam/info (Code,
// LastUpdated, InstanceProfileArn, InstanceProfileId) and, when the
// profile holds a role, iam/security-credentials/ listing the role and
// iam/security-credentials/<role> (Code Success, LastUpdated, Type
// AWS-HMAC, AccessKeyId ASIA…, SecretAccessKey, Token, Expiration), which
// the SDKs inside the instance pick up with no configuration. The role is
// read from IAM at every request (iamport.Profiles, WithRoles), so an
// association changed through EC2 or a role taken out of the profile is
// what the next request sees; without a profile iam/ is 404, and with a
// profile that holds no role security-credentials/ is 404 (iam/ lists
// info only). The credentials are a session of the role that STS mints
// (iamport.CredentialIssuer) named after the instance, as AWS names it:
// arn:aws:sts::<account>:assumed-role/<role>/<instance-id>. AWS serves
// credentials valid about six hours and replaces them about every hour,
// "at least five minutes before the expiration of the old credentials";
// here they are valid CredentialLifetime (6 h) and replaced once
// CredentialRefresh (1 h) old, or within CredentialMargin (5 min) of
// their end, whichever comes first. Until then every read returns the
// same keys. A failure to reach IAM or STS is 500, which the SDKs retry.
// Unlike AWS, which keeps serving a removed role's credentials until they
// expire, a role taken out of the profile is 404 at once.
//
// Not provided: the signed identity
// documents (pkcs7, signature, rsa2048), spot and scheduled events, and
// the PUT response hop limit (an http.Handler cannot see IP TTLs; the
// runtime's network enforces reachability instead). Every dated version
// in the root listing serves the same data as latest.
package imds
