// Package authz is IAM enforcement (serve --iam enforce): the gateway's
// api.Authorizer. For every request, once its caller is authenticated and
// its input decoded, it asks the question AWS asks — may this principal
// perform this action on these resources in this context? — and answers
// it with package iampolicy's engine:
//
//   - principal: from the resolved identity — the account's root (allowed
//     everything: there are no SCPs or resource policies here to stop
//     it), an IAM user, an assumed-role session (its role's ARN, session
//     policies and session tags); the IAM user's or role's policies,
//     boundary and tags come from Policies, which the IAM service
//     implements with a cache;
//   - action: "<service prefix>:<Operation>", the prefix the signing name
//     but for the exceptions of actionPrefix (monitoring → cloudwatch);
//   - resources: the ARNs the input names, from resourceRules (a table
//     per service of the members that name resources, the operations that
//     create one, and those AWS documents with no resource type, which are
//     evaluated on "*"); operations not in the table are evaluated on "*";
//   - context: aws:SourceIp, aws:SecureTransport, aws:RequestedRegion,
//     aws:CurrentTime, aws:EpochTime, aws:RequestTag/… and aws:TagKeys
//     from the input's tags, and, for a request naming one resource,
//     aws:ResourceTag/… from the service owning it when it implements
//     ResourceTagger; the principal's keys (aws:username,
//     aws:PrincipalTag/…) the engine answers itself;
//   - sts:AssumeRole: the role's trust policy (ResourcePolicies) is the
//     resource policy, which must allow the caller;
//   - IAM resources a request names by name (UserName, RoleName…) carry
//     the entity's path, from PathResolver, as AWS evaluates them;
//   - a federated user (GetFederationToken) is its IAM user's policies
//     limited by its session policies, which allow nothing when there are
//     none (PolicySet.SessionScoped);
//   - sts:AssumeRoleWithWebIdentity and sts:AssumeRoleWithSAML are not
//     asked of the caller's policies: their token is their authority, and
//     STS evaluates the role's trust policy itself.
//
// A refusal is worded per protocol (denied): EC2's UnauthorizedOperation
// with an "encoded authorization failure message" — the decision as
// DecodeAuthorizationMessage's JSON (allowed, explicitDeny,
// matchedStatements, failures, context with the principal, action,
// resource and condition keys), sealed with AES-GCM under a key made at
// start (message.go), which Decode opens for STS —, AccessDenied (query,
// REST-XML), AccessDeniedException (JSON, CBOR); 403 with
// Decision.Message.
//
// It must not read IAM's records (it asks Policies) or know HTTP.
package authz
