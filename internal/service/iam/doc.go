// Package iam implements AWS Identity and Access Management (query
// protocol): users, groups and their members, roles with their trust
// policies, customer managed policies with versions (five at most, one
// default), AWS managed policies with their real documents (embedded from
// awspolicies.json), inline policies, attachments, permissions boundaries,
// instance profiles, service-linked roles of the services minicloud has,
// access keys, login profiles, tags, account aliases, the account summary,
// GetAccountAuthorizationDetails, and OpenID Connect providers (oidc.go),
// which STS's AssumeRoleWithWebIdentity finds through OIDCProvider.
//
// With --iam enforce, package authz evaluates every request against what
// this package answers (enforce.go): PoliciesFor, a principal's identity
// policies and boundary, parsed and cached per entity until the next IAM
// write (every write goes through update, which bumps the cache's
// generation; a store reset calls Invalidate); ResourcePolicy, a role's
// trust policy for sts:AssumeRole; ResourceTags, a user's or role's tags;
// WithPath, an entity's ARN with its path.
// STS finds roles and managed policies' documents through Role and
// PolicyDocument. SimulatePrincipalPolicy and SimulateCustomPolicy
// (simulate.go) run the same engine on stored or given documents; their
// MatchedStatements carry the deciding statement's StartPosition and
// EndPosition as AWS gives them (iampolicy.Position). Access
// keys are real: Resolve lets the gateway resolve a request signed with an
// IAM user's key to that user, and verify its signature with the secret
// kept here.
//
// Profiles (port.go) is its instance profiles, with their role as it is
// at each lookup, as EC2 and the metadata service see them (iamport).
//
// It owns the "iam" part of the state store: per account (IAM is global,
// region "global") users, groups, roles, policies and instance profiles
// keyed by lower-case name, since IAM names are unique whatever their
// case; in one shared scope the access keys and account aliases, which are
// looked up before the account is known or must be unique across
// accounts. Policy documents are validated by internal/iampolicy's
// grammar (validate.go) and answered URL-encoded, as AWS does; the
// CLIs and boto3 decode them.
package iam
