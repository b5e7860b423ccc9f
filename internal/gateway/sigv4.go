package gateway

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// credential is what the gateway takes from a SigV4 signature. minicloud does
// not verify signatures (it holds no real secrets), but it parses them as
// strictly as AWS so that a malformed one fails as it would there.
type credential struct {
	AccessKey string
	Date      string
	Region    string
	Service   string
	Signed    bool
	// Presigned is set when the signature came in the query string.
	Presigned bool
	Expires   time.Time
}

// sigError is a malformed-signature failure; the gateway writes it in the
// service's protocol once the service is known.
type sigError struct {
	code, msg string
}

func (e *sigError) Error() string { return e.code + ": " + e.msg }

// The scope's parts and the signature are checked byte by byte: as regexps
// (^\d{8}$, ^[a-z0-9-]{1,64}$, ^[a-z0-9.-]{1,64}$, ^[0-9a-f]{64}$) the
// counted repetitions compiled to 125 KiB of heap at every start, and they
// are on every signed request's path.
var (
	scopeDate   = byteRun{min: 8, max: 8, ok: isDigit}
	scopeRegion = byteRun{min: 1, max: 64, ok: func(c byte) bool { return isLowerAlnum(c) || c == '-' }}
	scopeSvc    = byteRun{min: 1, max: 64, ok: func(c byte) bool { return isLowerAlnum(c) || c == '-' || c == '.' }}
	hexSig      = byteRun{min: 64, max: 64, ok: func(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' }}
)

// byteRun matches a string of min to max bytes, each accepted by ok.
type byteRun struct {
	min, max int
	ok       func(byte) bool
}

// MatchString reports whether all of s is such a run.
func (r byteRun) MatchString(s string) bool {
	if len(s) < r.min || len(s) > r.max {
		return false
	}
	for i := range len(s) {
		if !r.ok(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isLowerAlnum(c byte) bool { return 'a' <= c && c <= 'z' || isDigit(c) }

// parseCredential reads the credential of r from its Authorization header or,
// for presigned URLs, from X-Amz-Credential. An unsigned request returns a zero
// credential and no error: minicloud serves anonymous callers as the default
// account, as most local tooling expects.
func parseCredential(r *http.Request) (credential, error) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		return parseAuthorization(auth)
	}
	q := r.URL.Query()
	if c := q.Get("X-Amz-Credential"); c != "" {
		if alg := q.Get("X-Amz-Algorithm"); alg != "AWS4-HMAC-SHA256" {
			return credential{}, &sigError{"IncompleteSignature", fmt.Sprintf("Unsupported algorithm %q in the X-Amz-Algorithm query parameter.", alg)}
		}
		cred, err := parseScope(c)
		if err != nil {
			return credential{}, err
		}
		if !hexSig.MatchString(q.Get("X-Amz-Signature")) {
			return credential{}, &sigError{"IncompleteSignature", "The request signature is missing or malformed (X-Amz-Signature)."}
		}
		cred.Presigned = true
		if d, exp := q.Get("X-Amz-Date"), q.Get("X-Amz-Expires"); d != "" && exp != "" {
			t, err1 := time.Parse("20060102T150405Z", d)
			var secs int
			_, err2 := fmt.Sscanf(exp, "%d", &secs)
			if err1 != nil || err2 != nil || secs < 1 || secs > 604800 {
				return credential{}, &sigError{"AuthorizationQueryParametersError", "X-Amz-Date or X-Amz-Expires is malformed; X-Amz-Expires must be between 1 and 604800 seconds."}
			}
			cred.Expires = t.Add(time.Duration(secs) * time.Second)
		}
		return cred, nil
	}
	return credential{}, nil
}

func parseAuthorization(auth string) (credential, error) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(auth), " ")
	if alg != "AWS4-HMAC-SHA256" {
		return credential{}, &sigError{"IncompleteSignature", fmt.Sprintf("Unsupported authorization type %q: minicloud accepts AWS Signature Version 4 (AWS4-HMAC-SHA256).", alg)}
	}
	params := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		params[k] = v
	}
	for _, k := range []string{"Credential", "SignedHeaders", "Signature"} {
		if params[k] == "" {
			return credential{}, &sigError{"IncompleteSignature", fmt.Sprintf("Authorization header requires '%s' parameter. Authorization=%s", k, truncate(auth, 200))}
		}
	}
	if !hexSig.MatchString(params["Signature"]) {
		return credential{}, &sigError{"IncompleteSignature", "The request signature is malformed: Signature must be 64 hexadecimal characters."}
	}
	return parseScope(params["Credential"])
}

// parseScope parses "AKID/20240101/us-east-1/sts/aws4_request".
func parseScope(s string) (credential, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 5 || parts[0] == "" {
		return credential{}, &sigError{"IncompleteSignature", fmt.Sprintf("Credential should be scoped to a valid region and service, e.g. AKID/20240101/us-east-1/sts/aws4_request, not '%s'.", truncate(s, 200))}
	}
	if parts[4] != "aws4_request" {
		return credential{}, &sigError{"IncompleteSignature", fmt.Sprintf("Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", truncate(parts[4], 64))}
	}
	if !scopeDate.MatchString(parts[1]) || !scopeRegion.MatchString(parts[2]) || !scopeSvc.MatchString(parts[3]) {
		return credential{}, &sigError{"IncompleteSignature", fmt.Sprintf("Credential should be scoped to a valid date, region and service: '%s'.", truncate(s, 200))}
	}
	if len(parts[0]) > 128 {
		return credential{}, &sigError{"InvalidClientTokenId", "The security token included in the request is invalid."}
	}
	return credential{AccessKey: parts[0], Date: parts[1], Region: parts[2], Service: parts[3], Signed: true}, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
