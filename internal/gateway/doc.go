// Package gateway is minicloud's single HTTP front door. For every request it
// reads the SigV4 credential scope, identifies the service, protocol and
// operation the way AWS front ends do (credential scope, X-Amz-Target,
// smithy-rpc-v2 paths, Action parameters, REST paths), resolves the caller's
// account, verifies the request's signature when that is on (auth.go, with
// package sigv4), asks Config.Authorizer (IAM enforcement, package authz)
// once the input is decoded, runs the service's handler through the codec and writes
// the response, errors always in the request's protocol (EC2's shape for
// EC2, also before routing). It also serves minicloud's own endpoints under
// /_minicloud/.
//
// It must not contain any service's behaviour: services are reached only
// through api.Handler values, and identities through the Identities interface.
package gateway
