// Package iam implements AWS Identity and Access Management (query
// protocol): users, groups and their members, roles with their trust
// policies, customer managed policies with versions (five at most, one
// default), AWS managed policies with their real documents (embedded from
// awspolicies.json), inline policies, attachments, permissions boundaries,
// instance profiles, service-linked roles of the services minicloud has,
// access keys, login profiles, tags, account aliases, the account summary
// and GetAccountAuthorizationDetails.
//
// What is stored is not yet enforced: no request is evaluated against
// these policies (a later step; STS AssumeRole does not read trust
// policies yet either). Access keys are real: Resolve lets the gateway
// resolve a request signed with an IAM user's key to that user, and
// verify its signature with the secret kept here.
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
