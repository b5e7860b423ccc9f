// Package iampolicy is the IAM policy language and its evaluation engine:
// Parse validates a JSON policy document with AWS's MalformedPolicyDocument
// messages and compiles it; Evaluate decides a Request (principal, action,
// resources, condition keys) against a PolicySet the way AWS's "Policy
// evaluation logic" documents it, and says which statement decided and
// why, in the words of AWS's AccessDenied messages.
//
// It owns the grammar and the semantics only. It must not know IAM's
// records (users, roles, attachments: the IAM service builds the
// PolicySet), HTTP, or how an operation maps to an action and resource ARNs
// (package authz's table). It has no state; a *Policy is immutable.
//
// # Evaluation
//
// Per resource (a request on several resources needs each allowed):
//
//  1. An explicit Deny in any applicable policy decides: service control
//     policies, the resource policy (when its Principal names the caller),
//     identity policies, the permissions boundary, session policies.
//     (The order in which types are checked only decides which type the
//     message names; AWS documents that it names one of them.)
//     A VPC endpoint policy (PolicySet.Endpoint, for a request that came
//     through an endpoint) is checked here too, for every caller, the
//     root user included: a Deny naming the caller decides, and without an
//     Allow naming the caller the request is refused ("because no VPC
//     endpoint policy allows …"); its Allow grants nothing by itself.
//  2. Every level of SCPs must have an applicable Allow.
//  3. The resource policy. Within the principal's own account an Allow that
//     names the caller directly — its user ARN, its session ARN, "*", its
//     service — is enough, even without an identity Allow and past a
//     boundary or session policy. An Allow that names the role ARN of an
//     assumed-role caller replaces the identity policies but is still
//     limited by the boundary and session policies (the IAM user guide's
//     table of resource-based policies and permissions boundaries; AWS
//     changed role-ARN grants this way in 2023). An Allow naming the
//     account (its root ARN or bare ID) delegates to the identity
//     policies.
//  4. Otherwise an identity policy must allow, and then the boundary (if
//     any) and the session policies (if any) too.
//  5. Across accounts (the resource's account is not the principal's) the
//     identity side of 4 and a resource policy Allow naming the caller,
//     its role or its account are both needed. So are they within one
//     account for a role's trust policy (a Trust policy as the resource
//     policy: AssumeRole on the role's ARN) and for policies that must
//     allow like KMS key policies (PolicySet.ResourceMustAllow): "IAM role
//     trust policies and KMS key policies are exceptions".
//
// Outcome's String is SimulatePrincipalPolicy's EvalDecision ("allowed",
// "explicitDeny", "implicitDeny"); Decision's Policy and Statement are its
// matched statement, whose Start and End are its place in the document as
// the simulator answers it (1-based lines; columns one past the brace, as
// the AWS CLI's simulate-custom-policy example shows).
//
// A federated user's session (GetFederationToken) is limited by its
// session policies even when there are none (PolicySet.SessionScoped):
// AWS documents that such a session then has no permissions.
//
// The root user is not subject to identity policies, boundaries or session
// policies; an explicit deny in an SCP or the resource policy still stops
// it. Anonymous callers and service principals are only allowed by a
// resource policy.
//
// A Deny with NotPrincipal always denies a principal that has a
// permissions boundary (documented on the boundaries page). NotPrincipal
// leaves a caller out only when every identity it carries is listed: its
// ARN, for a session its role ARN, and its account (the NotPrincipal
// page's examples).
//
// # Matching
//
// Action: case-insensitive, * and ? wildcards. Resource and Arn*
// conditions: case-sensitive, the first five ARN segments (arn, partition,
// service, region, account) each matched on its own, the resource part —
// where * crosses ':' and '/' — as one; ArnEquals and ArnLike are the same
// operator, as the condition operators page describes them. Policy
// variables (${aws:username}, ${aws:PrincipalTag/team}, ${key, 'default'},
// the escapes ${*} ${?} ${$}) are substituted in Resource and in string
// and ARN condition values of Version 2012-10-17 documents, literally (a *
// from a variable is not a wildcard); a variable with no value and no
// default matches nothing.
//
// Conditions: keys case-insensitive; operators AND'ed, values of one key
// OR'ed. A missing key makes positive operators false and negated ones
// (StringNotEquals, NotIpAddress, ArnNotLike…) true; …IfExists makes
// either true; ForAllValues is true on a missing or empty key and
// ForAnyValue false. Without a set operator, a multi-valued key satisfies
// a positive operator when any value matches and a negated one when none
// does. Dates are ISO 8601 or epoch seconds; BinaryEquals compares the
// base64-decoded bytes; IpAddress takes IPv4 and IPv6 CIDRs.
//
// # What is documented and what is inferred
//
// Parse checks in the order IAM's answers show, the first class of fault
// winning: JSON and element syntax ("Syntax errors in policy."); Version
// 2012-10-17 for managed policies ("Policy document must be version
// 2012-10-17 or greater."; inline policies may still be 2008-10-17 or have
// none); faults IAM reports as "The policy failed legacy parsing" in any
// statement (an Effect in the wrong case, a date, number or CIDR that does
// not parse, an ARN of a valid partition with five segments or no
// service); unique Sids; then statement by statement the principal,
// actions and resources present, the actions' vendors, the resources'
// format (a resource "x:y" is read as "arn:y:*:*:*:*", and the messages
// quote that form).
//
// Confirmed, from responses users quote (TestConfirmedMessages) or the
// answers moto's IAM tests record (TestIAMValidation): the texts above and
// "Policy document should not specify a principal.", "Missing required
// field Principal", "Invalid principal in policy: "AWS":"…"" and
// ""SERVICE":"…"", "Policy statement must contain actions." / "…resources.",
// "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2,
// etc.", "Actions/Condition can contain only one colon.", "Vendor x is not
// valid", "Resource x must be in ARN format or "*".", "Partition "x" is not
// valid for resource "…".", "Resource vendor must be fully qualified and
// cannot contain regexes.", the IAM resource path and region messages, the
// S3 region message, "Statement IDs (SID) in a single policy must be
// unique.". AccessDenied's reasons follow the pattern of the user guide's
// access-denied page ("because no <type> policy allows the <action>
// action", "with an explicit deny in a(n) <type> policy").
//
// Inferred: "Has prohibited field Resource" for a trust policy (the
// console's "Has prohibited field Principal" pattern); the alphanumeric Sid
// message for identity policies; "Action vendors (e.g., aws, ec2, etc.)
// must not contain wildcards" (quoted once); that an unparsable number or
// CIDR fails like a date; that "*" is a valid partition. IAM accepts a few
// odd dates ("01T", "2016-12-13t2:00:00.593194+23") that Parse refuses
// as legacy faults. Resource policies get IAM's messages too, though S3
// words some of them its own way ("Invalid principal in policy", "Policy
// has invalid resource"). Not implemented: a service's own checks of which
// actions and resources it has (S3's "Action does not apply to any
// resource(s) in statement"), RCPs, VPC endpoint policies, and the check
// AWS makes when a policy is saved that the principals it names exist (the
// IAM service's job: Statement.Principal lists them).
package iampolicy
