// Package oidc is minicloud's own OpenID Connect issuer and the JSON Web
// Token checks sts:AssumeRoleWithWebIdentity makes.
//
// minicloud cannot reach any real identity provider (it is offline), so
// to test GitHub-Actions-style or EKS-style role assumption it is an
// issuer itself: Issuer keeps one RSA key (RS256), made on first use and
// kept in <state-dir>/oidc/key.pem (0600, directory 0700; in memory with
// --ephemeral), mints tokens with it (`minicloud oidc token`), and answers
// its discovery document and JSON Web Key Set, which the gateway serves
// under /_minicloud/oidc/. Its issuer URL, IssuerURL, is stable —
// independent of the address minicloud listens on — so an IAM OIDC
// provider created for it, and the trust policies naming its condition
// keys (oidc.minicloud.localhost:sub, …:aud), keep working.
//
// Parse reads a token without trusting it; Token.Verify checks its
// signature against a key set (RS256 and ES256) and its times. The keys of
// any other issuer cannot be fetched here, so STS refuses their tokens as
// AWS refuses a token whose keys it cannot retrieve; nothing is ever
// accepted unverified.
//
// It must not know IAM's or STS's records.
package oidc
