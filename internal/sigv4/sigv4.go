// Package sigv4 verifies AWS Signature Version 4 as AWS's front ends do:
// signatures in the Authorization header and in presigned URLs, the
// request time against the clock, and presigned URLs' expiry. It knows no
// accounts or protocols: the caller finds the secret of the request's
// access key and writes a Failure as its service's error. Sign signs a
// request the same way, for minicloud's own commands that call its API.
//
// The canonical request is the one of the SigV4 specification, read from
// the request as the client sent it:
//
//   - the canonical URI is the path as sent (still percent-encoded),
//     encoded once more; S3 (Options.S3) signs the path as sent, without
//     that second encoding. Both the path with dot segments and repeated
//     slashes removed (AWS's normalization, botocore's) and the path as
//     sent (aws-sdk-go-v2 does not normalize) are accepted;
//   - the canonical query string is every query parameter but
//     X-Amz-Signature, decoded and re-encoded (RFC 3986 unreserved
//     characters kept, everything else %XX), sorted by name then value;
//   - the canonical headers are those SignedHeaders lists, lower case,
//     values of repeated headers joined with commas, spaces trimmed and
//     runs of spaces collapsed; host is the request's Host;
//   - the payload hash is x-amz-content-sha256 when sent (UNSIGNED-PAYLOAD
//     and the streaming values are signed as given; a hex hash must be the
//     body's), else UNSIGNED-PAYLOAD for S3's presigned URLs, else the
//     SHA-256 of the body.
//
// The signing key is derived from the secret and the credential scope's
// date, region and service; the scope's date must be the request's date.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Algorithm is the only signing algorithm verified.
const Algorithm = "AWS4-HMAC-SHA256"

// MaxSkew is how far AWS lets a signed request's time be from its clock.
const MaxSkew = 15 * time.Minute

// Payload hashes that are signed as given rather than computed.
const (
	UnsignedPayload  = "UNSIGNED-PAYLOAD"
	streamingPayload = "STREAMING-"
)

const amzDateLayout = "20060102T150405Z"

// Kind is why a request failed verification; each protocol names it with
// its own error code.
type Kind int

const (
	// Malformed: the signature's parameters cannot be read.
	Malformed Kind = iota + 1
	// Mismatch: the signature is not the one the secret gives.
	Mismatch
	// Skewed: the request time is more than MaxSkew from the clock.
	Skewed
	// Expired: a presigned URL's X-Amz-Expires has passed.
	Expired
	// NotYetValid: a presigned URL is dated more than MaxSkew ahead.
	NotYetValid
)

// Failure is a request that did not verify.
type Failure struct {
	Kind    Kind
	Message string
}

func (f *Failure) Error() string { return f.Message }

// Request is what verification reads of an HTTP request, as received.
type Request struct {
	Method string
	// Path is the request target's path exactly as sent (percent-encoded).
	Path string
	// RawQuery is the query string as sent.
	RawQuery      string
	Host          string
	Header        http.Header
	ContentLength int64
	Body          []byte
}

// FromHTTP is the Request of a server-side *http.Request and its body.
func FromHTTP(r *http.Request, body []byte) *Request {
	path := r.RequestURI
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if !strings.HasPrefix(path, "/") {
		// Absolute form ("http://host/path") or a request made in-process.
		path = r.URL.EscapedPath()
	}
	return &Request{Method: r.Method, Path: path, RawQuery: r.URL.RawQuery, Host: r.Host, Header: r.Header, ContentLength: r.ContentLength, Body: body}
}

// Options tune verification to the service.
type Options struct {
	// Now is the clock's time.
	Now time.Time
	// S3 selects S3's rules: the path is signed as sent, and a presigned
	// URL signs UNSIGNED-PAYLOAD.
	S3 bool
}

// signed is what a request's signature says of itself.
type signed struct {
	scope         string // date/region/service/aws4_request
	date          string // the scope's date
	signedHeaders []string
	signature     string
	amzDate       time.Time
	presigned     bool
	expires       time.Duration
}

// Verify checks req's SigV4 signature against secret. The request must be
// signed (Authorization header or X-Amz-Credential); a nil error means it
// verified, else the error is a *Failure.
func Verify(req *Request, secret string, opt Options) error {
	s, err := parse(req)
	if err != nil {
		return err
	}
	if err := s.checkTime(opt.Now); err != nil {
		return err
	}
	hash, err := payloadHash(req, s, opt)
	if err != nil {
		return err
	}
	key := SigningKey(secret, s.scope)
	for _, path := range canonicalPaths(req.Path, opt.S3) {
		creq := canonicalRequest(req, s, path, hash)
		if hmac.Equal([]byte(hex.EncodeToString(hmacSHA256(key, stringToSign(s, creq)))), []byte(s.signature)) {
			return nil
		}
	}
	return &Failure{Kind: Mismatch, Message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}
}

func parse(req *Request) (*signed, error) {
	if auth := req.Header.Get("Authorization"); auth != "" {
		return parseHeader(req, auth)
	}
	q, err := url.ParseQuery(req.RawQuery)
	if err != nil || q.Get("X-Amz-Credential") == "" {
		return nil, malformed("The request is not signed with AWS Signature Version 4.")
	}
	s := &signed{presigned: true, signature: q.Get("X-Amz-Signature"), signedHeaders: splitHeaders(q.Get("X-Amz-SignedHeaders"))}
	if q.Get("X-Amz-Algorithm") != Algorithm {
		return nil, malformed("X-Amz-Algorithm must be " + Algorithm + ".")
	}
	if err := s.setScope(q.Get("X-Amz-Credential")); err != nil {
		return nil, err
	}
	if s.amzDate, err = time.Parse(amzDateLayout, q.Get("X-Amz-Date")); err != nil {
		return nil, malformed("X-Amz-Date must be a date of the form 20060102T150405Z.")
	}
	// Without X-Amz-Expires (STS's presigner omits it) a presigned URL
	// lives as long as a header-signed request may be late.
	s.expires = MaxSkew
	if e := q.Get("X-Amz-Expires"); e != "" {
		secs, err := strconv.Atoi(e)
		if err != nil || secs < 1 || secs > 604800 {
			return nil, malformed("X-Amz-Expires must be a number of seconds between 1 and 604800.")
		}
		s.expires = time.Duration(secs) * time.Second
	}
	return s, s.checkScopeDate()
}

func parseHeader(req *Request, auth string) (*signed, error) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(auth), " ")
	if alg != Algorithm {
		return nil, malformed("Unsupported authorization type " + strconv.Quote(alg) + ".")
	}
	s := &signed{}
	for part := range strings.SplitSeq(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			if err := s.setScope(v); err != nil {
				return nil, err
			}
		case "SignedHeaders":
			s.signedHeaders = splitHeaders(v)
		case "Signature":
			s.signature = v
		}
	}
	if s.scope == "" || len(s.signedHeaders) == 0 || s.signature == "" {
		return nil, malformed("The Authorization header needs Credential, SignedHeaders and Signature.")
	}
	var err error
	if d := req.Header.Get("X-Amz-Date"); d != "" {
		s.amzDate, err = time.Parse(amzDateLayout, d)
	} else if d := req.Header.Get("Date"); d != "" {
		s.amzDate, err = http.ParseTime(d)
	} else {
		return nil, malformed("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if err != nil {
		return nil, malformed("The request's X-Amz-Date or Date header is not a valid date.")
	}
	return s, s.checkScopeDate()
}

// setScope reads "AKID/20150830/us-east-1/service/aws4_request".
func (s *signed) setScope(cred string) error {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" || len(parts[1]) != 8 {
		return malformed("Credential should be scoped to a valid date, region and service: " + strconv.Quote(cred) + ".")
	}
	s.date, s.scope = parts[1], strings.Join(parts[1:], "/")
	return nil
}

func (s *signed) checkScopeDate() error {
	if d := s.amzDate.UTC().Format("20060102"); d != s.date {
		return &Failure{Kind: Mismatch, Message: fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", s.date, d, s.amzDate.UTC().Format(amzDateLayout))}
	}
	return nil
}

// checkTime applies AWS's clock rules: a header-signed request within
// MaxSkew of now; a presigned URL not dated more than MaxSkew ahead and
// not past its expiry.
func (s *signed) checkTime(now time.Time) error {
	t, f := s.amzDate.UTC().Format(amzDateLayout), func(x time.Time) string { return x.UTC().Format(amzDateLayout) }
	switch {
	case s.presigned && now.Add(MaxSkew).Before(s.amzDate):
		return &Failure{Kind: NotYetValid, Message: "Request is not yet valid"}
	case s.presigned && now.After(s.amzDate.Add(s.expires)):
		return &Failure{Kind: Expired, Message: "Request has expired"}
	case s.presigned:
		return nil
	case now.Sub(s.amzDate) > MaxSkew:
		return &Failure{Kind: Skewed, Message: fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 15 min.)", t, f(now.Add(-MaxSkew)), f(now))}
	case s.amzDate.Sub(now) > MaxSkew:
		return &Failure{Kind: Skewed, Message: fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 15 min.)", t, f(now.Add(MaxSkew)), f(now))}
	}
	return nil
}

func payloadHash(req *Request, s *signed, opt Options) (string, error) {
	sum := sha256.Sum256(req.Body)
	body := hex.EncodeToString(sum[:])
	h := req.Header.Get("X-Amz-Content-Sha256")
	switch {
	case h == UnsignedPayload || strings.HasPrefix(h, streamingPayload):
		return h, nil
	case h != "":
		if !strings.EqualFold(h, body) {
			return "", &Failure{Kind: Mismatch, Message: "The provided 'x-amz-content-sha256' header does not match what was computed."}
		}
		return h, nil
	case s.presigned && opt.S3:
		return UnsignedPayload, nil
	}
	return body, nil
}

// canonicalPaths are the canonical URIs a client may have signed for path
// as sent: for S3 the path itself; otherwise the path encoded again, both
// normalized (botocore, the SigV4 specification) and not (aws-sdk-go-v2).
func canonicalPaths(path string, s3 bool) []string {
	if path == "" {
		path = "/"
	}
	if s3 {
		return []string{path}
	}
	norm, raw := escape(normalizePath(path), true), escape(path, true)
	if norm == raw {
		return []string{raw}
	}
	return []string{norm, raw}
}

// normalizePath removes "." and ".." segments and empty ones (repeated
// slashes), keeping a leading and a trailing slash.
func normalizePath(p string) string {
	var out []string
	for seg := range strings.SplitSeq(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	n := "/" + strings.Join(out, "/")
	if strings.HasSuffix(p, "/") && len(out) > 0 {
		n += "/"
	}
	return n
}

func canonicalRequest(req *Request, s *signed, path, hash string) string {
	var b strings.Builder
	b.WriteString(req.Method)
	b.WriteByte('\n')
	b.WriteString(path)
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(req.RawQuery, s.presigned))
	b.WriteByte('\n')
	for _, h := range s.signedHeaders {
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(headerValue(req, h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(s.signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(hash)
	return b.String()
}

func canonicalQuery(raw string, presigned bool) string {
	type kv struct{ k, v string }
	var pairs []kv
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, _ = url.QueryUnescape(k)
		v, _ = url.QueryUnescape(v)
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		pairs = append(pairs, kv{escape(k, false), escape(v, false)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

func headerValue(req *Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{req.Host}
	default:
		vals = append([]string(nil), req.Header.Values(name)...)
		if len(vals) == 0 && name == "content-length" && req.ContentLength >= 0 {
			vals = []string{strconv.FormatInt(req.ContentLength, 10)}
		}
	}
	for i, v := range vals {
		vals[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(vals, ",")
}

func stringToSign(s *signed, creq string) []byte {
	sum := sha256.Sum256([]byte(creq))
	return []byte(Algorithm + "\n" + s.amzDate.UTC().Format(amzDateLayout) + "\n" + s.scope + "\n" + hex.EncodeToString(sum[:]))
}

// SigningKey derives the key of a credential scope
// ("20150830/us-east-1/service/aws4_request") from a secret access key.
func SigningKey(secret, scope string) []byte {
	key := []byte("AWS4" + secret)
	for part := range strings.SplitSeq(scope, "/") {
		key = hmacSHA256(key, []byte(part))
	}
	return key
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}

// escape is SigV4's URI encoding: RFC 3986's unreserved characters as they
// are, every other byte as %XX (upper case); '/' kept when encoding a path.
func escape(s string, path bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || path && c == '/' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func splitHeaders(v string) []string {
	if v == "" {
		return nil
	}
	// As given: clients sort them, and the canonical request lists them in
	// the order the signature was computed with.
	return strings.Split(strings.ToLower(v), ";")
}

func malformed(msg string) error { return &Failure{Kind: Malformed, Message: msg} }

// Sign signs r, whose body is body, in its Authorization header as an SDK
// does, for minicloud's own commands that call its API (which must not link
// an AWS SDK into the server's binary): X-Amz-Date and X-Amz-Content-Sha256
// are set, a session token goes in X-Amz-Security-Token, and host,
// content-length (with a body), content-type and every x-amz-* header are
// signed.
func Sign(r *http.Request, body []byte, accessKey, secret, sessionToken, region, service string, now time.Time) {
	now = now.UTC()
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	r.Header.Set("X-Amz-Date", now.Format(amzDateLayout))
	r.Header.Set("X-Amz-Content-Sha256", hash)
	if sessionToken != "" {
		r.Header.Set("X-Amz-Security-Token", sessionToken)
	}
	date := now.Format(amzDateLayout[:8])
	s := &signed{scope: date + "/" + region + "/" + service + "/aws4_request", date: date, amzDate: now, signedHeaders: []string{"host"}}
	if len(body) > 0 {
		s.signedHeaders = append(s.signedHeaders, "content-length")
	}
	for k := range r.Header {
		if k = strings.ToLower(k); k == "content-type" || strings.HasPrefix(k, "x-amz-") {
			s.signedHeaders = append(s.signedHeaders, k)
		}
	}
	sort.Strings(s.signedHeaders)
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	req := &Request{Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, Host: host, Header: r.Header, ContentLength: int64(len(body)), Body: body}
	creq := canonicalRequest(req, s, canonicalPaths(req.Path, false)[0], hash)
	sig := hex.EncodeToString(hmacSHA256(SigningKey(secret, s.scope), stringToSign(s, creq)))
	r.Header.Set("Authorization", fmt.Sprintf("%s Credential=%s/%s, SignedHeaders=%s, Signature=%s", Algorithm, accessKey, s.scope, strings.Join(s.signedHeaders, ";"), sig))
}
