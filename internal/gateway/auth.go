package gateway

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/codec"
	"github.com/minicloud/minicloud/internal/sigv4"
	"github.com/minicloud/minicloud/internal/state"
)

// Signature verification (Config.VerifySignatures) proves that a request
// was signed with the secret of its access key, as AWS does, before
// anything of it is acted on:
//
//   - an unsigned request is refused (MissingAuthenticationToken): with
//     verification on there are no anonymous callers, but for the
//     operations AWS serves unsigned (unsignedOps);
//   - the access key must be one minicloud knows a secret for: a key of
//     Config.Secrets (--accounts KEY=ACCOUNT:SECRET) or temporary
//     credentials STS issued or an IAM user's access key (api.Identities,
//     whose Identity carries the secret and the session token the request
//     must present); any other key, and an IAM key its user made inactive,
//     is refused as AWS refuses a key it never issued;
//   - the signature is checked by package sigv4 against the request as
//     received, with the request time within 15 minutes of the clock and
//     presigned URLs within their expiry.
//
// Each failure is written in the protocol's own words, as AWS's services
// answer it (authCodes).

// unsignedOps are the operations AWS serves without credentials, by
// signing name: their authority is what they carry (a web identity token,
// a SAML assertion), so an unsigned request passes verification; a signed
// one is still verified.
var unsignedOps = map[string]map[string]bool{
	"sts": {"AssumeRoleWithWebIdentity": true, "AssumeRoleWithSAML": true},
}

// authKind is a reason to refuse a request's credentials.
type authKind int

const (
	authMissing    authKind = iota // not signed
	authUnknownKey                 // an access key with no known secret
	authBadToken                   // a session token not the key's
	authMismatch                   // the signature is not the secret's
	authSkewed                     // the request time is too far from the clock
	authExpired                    // a presigned URL past its expiry
	authNotYet                     // a presigned URL dated ahead
	authMalformed                  // the signature cannot be read
)

type authAnswer struct {
	code   string
	status int
	msg    string // "" keeps the verifier's message
}

const (
	invalidToken   = "The security token included in the request is invalid."
	ec2AuthFailure = "AWS was not able to validate the provided access credentials"
)

// authCodes are the errors of each family of protocols, as AWS answers
// them: EC2 says AuthFailure for every credential it cannot validate and
// RequestExpired for time; the query services and Route 53
// SignatureDoesNotMatch, with "Signature expired" for time; the JSON
// protocols InvalidSignatureException; S3 its own codes
// (RequestTimeTooSkewed). Presigned URLs past their expiry keep the
// answer minicloud gave before verification existed (AccessDenied,
// "Request has expired"), S3's.
var authCodes = map[string]map[authKind]authAnswer{
	"ec2": {
		authMissing:    {"MissingAuthenticationToken", http.StatusUnauthorized, "Request is missing Authentication Token"},
		authUnknownKey: {"AuthFailure", http.StatusUnauthorized, ec2AuthFailure},
		authBadToken:   {"AuthFailure", http.StatusUnauthorized, ec2AuthFailure},
		authMismatch:   {"AuthFailure", http.StatusUnauthorized, ec2AuthFailure},
		authSkewed:     {"RequestExpired", http.StatusBadRequest, ""},
		authExpired:    {"RequestExpired", http.StatusBadRequest, ""},
		authNotYet:     {"RequestExpired", http.StatusBadRequest, ""},
		authMalformed:  {"IncompleteSignature", http.StatusBadRequest, ""},
	},
	"query": {
		authMissing:    {"MissingAuthenticationToken", http.StatusForbidden, "Request is missing Authentication Token"},
		authUnknownKey: {"InvalidClientTokenId", http.StatusForbidden, invalidToken},
		authBadToken:   {"InvalidClientTokenId", http.StatusForbidden, invalidToken},
		authMismatch:   {"SignatureDoesNotMatch", http.StatusForbidden, ""},
		authSkewed:     {"SignatureDoesNotMatch", http.StatusForbidden, ""},
		authExpired:    {"AccessDenied", http.StatusForbidden, ""},
		authNotYet:     {"AccessDenied", http.StatusForbidden, ""},
		authMalformed:  {"IncompleteSignature", http.StatusBadRequest, ""},
	},
	"json": {
		authMissing:    {"MissingAuthenticationTokenException", http.StatusForbidden, "Missing Authentication Token"},
		authUnknownKey: {"UnrecognizedClientException", http.StatusForbidden, invalidToken},
		authBadToken:   {"UnrecognizedClientException", http.StatusForbidden, invalidToken},
		authMismatch:   {"InvalidSignatureException", http.StatusForbidden, ""},
		authSkewed:     {"InvalidSignatureException", http.StatusForbidden, ""},
		authExpired:    {"AccessDeniedException", http.StatusForbidden, ""},
		authNotYet:     {"AccessDeniedException", http.StatusForbidden, ""},
		authMalformed:  {"IncompleteSignatureException", http.StatusBadRequest, ""},
	},
	"s3": {
		authMissing:    {"AccessDenied", http.StatusForbidden, "Access Denied"},
		authUnknownKey: {"InvalidAccessKeyId", http.StatusForbidden, "The AWS Access Key Id you provided does not exist in our records."},
		authBadToken:   {"InvalidToken", http.StatusBadRequest, "The provided token is malformed or otherwise invalid."},
		authMismatch:   {"SignatureDoesNotMatch", http.StatusForbidden, "The request signature we calculated does not match the signature you provided. Check your key and signing method."},
		authSkewed:     {"RequestTimeTooSkewed", http.StatusForbidden, "The difference between the request time and the current time is too large."},
		authExpired:    {"AccessDenied", http.StatusForbidden, ""},
		authNotYet:     {"AccessDenied", http.StatusForbidden, ""},
		authMalformed:  {"AuthorizationHeaderMalformed", http.StatusBadRequest, ""},
	},
}

var kindOfFailure = map[sigv4.Kind]authKind{
	sigv4.Malformed:   authMalformed,
	sigv4.Mismatch:    authMismatch,
	sigv4.Skewed:      authSkewed,
	sigv4.Expired:     authExpired,
	sigv4.NotYetValid: authNotYet,
}

// authFamily is the family of authCodes a route's errors belong to.
func authFamily(rt *route) string {
	switch {
	case rt.b.Info.SigningName == "s3":
		return "s3"
	case rt.proto == codec.EC2:
		return "ec2"
	case rt.proto == codec.Query || rt.proto == codec.RestXML:
		return "query"
	}
	return "json"
}

func authError(rt *route, kind authKind, msg string) *codec.Error {
	a := authCodes[authFamily(rt)][kind]
	if a.msg != "" {
		msg = a.msg
	}
	return &codec.Error{Code: a.code, Message: msg, Status: a.status}
}

// key is what the gateway knows of an access key: its principal and, for
// verification, its secret and session token.
type key struct {
	api.Identity
	known bool // a secret is known: verification is possible
}

// lookupKey resolves an access key: temporary credentials STS issued
// first, then the configured keys; any other key is the account
// AccountFor gives, without a secret.
func (g *Gateway) lookupKey(ctx context.Context, accessKey, region string) (key, error) {
	if g.cfg.Identities != nil && accessKey != "" {
		id, found, err := g.cfg.Identities.Resolve(ctx, accessKey)
		if err != nil {
			return key{}, err
		}
		if found {
			return key{Identity: id, known: !id.Inactive}, nil
		}
	}
	k := key{Identity: api.Identity{Account: AccountFor(g.cfg.Accounts, accessKey)}}
	k.ARN = "arn:" + state.PartitionOf(region) + ":iam::" + k.Account + ":root"
	k.UserID = k.Account
	k.Secret, k.known = g.cfg.Secrets[accessKey]
	return k, nil
}

// verify applies signature verification to a routed request.
func (g *Gateway) verify(r *http.Request, body []byte, cred credential, rt *route, k key) error {
	if !cred.Signed {
		return authError(rt, authMissing, "")
	}
	if !k.known {
		return authError(rt, authUnknownKey, "")
	}
	token := r.Header.Get("X-Amz-Security-Token")
	if token == "" {
		token = r.URL.Query().Get("X-Amz-Security-Token")
	}
	if token != k.SessionToken {
		return authError(rt, authBadToken, "")
	}
	err := sigv4.Verify(sigv4.FromHTTP(r, body), k.Secret, sigv4.Options{Now: g.now(), S3: rt.b.Info.SigningName == "s3"})
	var f *sigv4.Failure
	if errors.As(err, &f) {
		return authError(rt, kindOfFailure[f.Kind], f.Message)
	}
	return err
}

func (g *Gateway) now() time.Time {
	if g.cfg.Now != nil {
		return g.cfg.Now()
	}
	return time.Now()
}
