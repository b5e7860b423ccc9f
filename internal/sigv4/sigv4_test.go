package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The SigV4 test suite's credentials and clock (AWS's published suite, as
// awslabs/aws-c-auth keeps it in tests/aws-signing-test-suite/v4; every
// case below signs for us-east-1, service "service", normalized paths).
const (
	suiteSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	suiteTime   = "2015-08-30T12:36:00Z"
)

// parseSuiteRequest reads a suite request: "METHOD target HTTP/1.1", then
// "Name:value" headers, a blank line and the body. The target is taken as
// the bytes on the wire.
func parseSuiteRequest(t *testing.T, text string) *Request {
	t.Helper()
	head, body, _ := strings.Cut(text, "\n\n")
	sc := bufio.NewScanner(strings.NewReader(head))
	sc.Scan()
	method, rest, _ := strings.Cut(sc.Text(), " ")
	target := rest[:strings.LastIndex(rest, " ")]
	path, query, _ := strings.Cut(target, "?")
	r := &Request{Method: method, Path: path, RawQuery: query, Header: http.Header{}, ContentLength: -1, Body: []byte(body)}
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		if strings.EqualFold(k, "host") {
			r.Host = v
			continue
		}
		r.Header.Add(k, v)
	}
	return r
}

func suiteNow(t *testing.T) time.Time {
	now, err := time.Parse(time.RFC3339, suiteTime)
	if err != nil {
		t.Fatal(err)
	}
	return now
}

func TestSuiteVectors(t *testing.T) {
	const auth = "Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders="
	const presign = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Signature="
	const date = "X-Amz-Date:20150830T123600Z\n"
	cases := []struct{ name, request string }{
		{"get-vanilla-query-order-key-case", "GET /?Param2=value2&Param1=value1 HTTP/1.1\nHost:example.amazonaws.com\n" +
			auth + "host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500\n" + date},
		{"get-vanilla-query-order-key-case presigned", "GET /?Param2=value2&Param1=value1&" + presign +
			"86012e2c9ad4d77369f5d81c11f75158aae4f895a085212cc6d3f923d300bed5 HTTP/1.1\nHost:example.amazonaws.com\n" + date},
		{"get-vanilla-empty-query-key presigned", "GET /?Param1=value1&" + presign +
			"49096700cbbaa5753443850f40df10f904fc2fdb544dc9512203cc77c471a9de HTTP/1.1\nHost:example.amazonaws.com\n" + date},
		{"get-vanilla-with-session-token", "GET / HTTP/1.1\nHost:example.amazonaws.com\n" +
			auth + "host;x-amz-date;x-amz-security-token, Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8\n" + date +
			"X-Amz-Security-Token:6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267\n"},
		{"get-vanilla-query-unreserved", "GET /?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz HTTP/1.1\nHost:example.amazonaws.com\n" +
			auth + "host;x-amz-date, Signature=9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197\n" + date},
		{"get-utf8", "GET /\u1234 HTTP/1.1\nHost:example.amazonaws.com\n" +
			auth + "host;x-amz-date, Signature=8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85\n" + date},
		{"get-header-value-trim", "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1: value1\nMy-Header2: \"a   b   c\"\n" +
			auth + "host;my-header1;my-header2;x-amz-date, Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736\n" + date},
		{"get-header-key-duplicate", "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:value2\nMy-Header1:value2\nMy-Header1:value1\n" +
			auth + "host;my-header1;x-amz-date, Signature=c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea\n" + date},
		{"get-slashes-normalized", "GET //example// HTTP/1.1\nHost:example.amazonaws.com\n" +
			auth + "host;x-amz-date, Signature=9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84\n" + date},
		{"get-slash-dot-slash-normalized", "GET /./ HTTP/1.1\nHost:example.amazonaws.com\n" +
			auth + "host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31\n" + date},
		{"post-x-www-form-urlencoded", "POST / HTTP/1.1\nContent-Type:application/x-www-form-urlencoded\nHost:example.amazonaws.com\nContent-Length:13\n" +
			"x-amz-content-sha256:9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e\n" +
			auth + "content-length;content-type;host;x-amz-content-sha256;x-amz-date, Signature=d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b\n" + date + "\nParam1=value1"},
	}
	now := suiteNow(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := Verify(parseSuiteRequest(t, tc.request), suiteSecret, Options{Now: now}); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			// The same request fails with another secret, and with one
			// byte of a signed part changed.
			if err := Verify(parseSuiteRequest(t, tc.request), suiteSecret+"x", Options{Now: now}); kindOf(err) != Mismatch {
				t.Fatalf("Verify with another secret = %v, want Mismatch", err)
			}
			r := parseSuiteRequest(t, tc.request)
			r.Method = "PUT"
			if err := Verify(r, suiteSecret, Options{Now: now}); kindOf(err) != Mismatch {
				t.Fatalf("Verify with another method = %v, want Mismatch", err)
			}
		})
	}
}

func kindOf(err error) Kind {
	var f *Failure
	if errors.As(err, &f) {
		return f.Kind
	}
	return 0
}

// TestClock: a header-signed request within 15 minutes of the clock
// verifies; further either way it is Skewed; a presigned URL verifies
// until it expires, and is not valid yet when dated more than 15 minutes
// ahead.
func TestClock(t *testing.T) {
	header := "GET / HTTP/1.1\nHost:example.amazonaws.com\nAuthorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31\nX-Amz-Date:20150830T123600Z\n\n"
	presigned := "GET /?Param2=value2&Param1=value1&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Signature=86012e2c9ad4d77369f5d81c11f75158aae4f895a085212cc6d3f923d300bed5 HTTP/1.1\nHost:example.amazonaws.com\n\n"
	signed := suiteNow(t)
	for _, tc := range []struct {
		name    string
		request string
		offset  time.Duration // clock minus signing time
		want    Kind
	}{
		{"header, 14 min late", header, 14 * time.Minute, 0},
		{"header, 14 min early", header, -14 * time.Minute, 0},
		{"header, 16 min late", header, 16 * time.Minute, Skewed},
		{"header, 16 min early", header, -16 * time.Minute, Skewed},
		{"presigned, before expiry", presigned, 59 * time.Minute, 0},
		{"presigned, expired", presigned, 61 * time.Minute, Expired},
		{"presigned, 14 min early", presigned, -14 * time.Minute, 0},
		{"presigned, 16 min early", presigned, -16 * time.Minute, NotYetValid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(parseSuiteRequest(t, tc.request), suiteSecret, Options{Now: signed.Add(tc.offset)})
			if kindOf(err) != tc.want || (tc.want == 0) != (err == nil) {
				t.Fatalf("Verify = %v (kind %d), want kind %d", err, kindOf(err), tc.want)
			}
		})
	}
}

// TestMalformed: what cannot be read as a signature is Malformed, and a
// scope dated another day than the request is a Mismatch.
func TestMalformed(t *testing.T) {
	now := suiteNow(t)
	for _, tc := range []struct {
		name, auth, query string
		want              Kind
	}{
		{"unsigned", "", "", Malformed},
		{"other algorithm", "AWS4-HMAC-SHA512 Credential=a/20150830/us-east-1/s/aws4_request, SignedHeaders=host, Signature=00", "", Malformed},
		{"no signed headers", "AWS4-HMAC-SHA256 Credential=a/20150830/us-east-1/s/aws4_request, Signature=00", "", Malformed},
		{"short scope", "AWS4-HMAC-SHA256 Credential=a/20150830/s/aws4_request, SignedHeaders=host, Signature=00", "", Malformed},
		{"scope of another day", "AWS4-HMAC-SHA256 Credential=a/20150831/us-east-1/s/aws4_request, SignedHeaders=host, Signature=00", "", Mismatch},
		{"presigned with a bad expiry", "", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%2F20150830%2Fus-east-1%2Fs%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=0&X-Amz-SignedHeaders=host&X-Amz-Signature=00", Malformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Request{Method: "GET", Path: "/", RawQuery: tc.query, Host: "h", Header: http.Header{"X-Amz-Date": {"20150830T123600Z"}}}
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			if err := Verify(r, "s", Options{Now: now}); kindOf(err) != tc.want {
				t.Fatalf("Verify = %v, want kind %d", err, tc.want)
			}
		})
	}
}

// sdkRequest signs (or presigns) a request with aws-sdk-go-v2's signer and
// returns it as the server receives it.
func sdkRequest(t testing.TB, method, path string, query url.Values, header http.Header, body []byte, presign, s3 bool, token string) *Request {
	t.Helper()
	if presign {
		query = cloneValues(query)
		query.Set("X-Amz-Expires", "900") // what the SDKs' presigners add
	}
	u := &url.URL{Scheme: "http", Host: "127.0.0.1:4566", Path: path, RawQuery: query.Encode()}
	req, err := http.NewRequest(method, u.String(), bytes.NewReader(body))
	if err != nil {
		t.Skip(err) // a path net/http cannot send
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	if presign && s3 {
		hash = UnsignedPayload
	}
	if s3 && !presign {
		req.Header.Set("X-Amz-Content-Sha256", hash)
	}
	creds := aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret/key+1", SessionToken: token}
	opt := func(o *v4.SignerOptions) { o.DisableURIPathEscaping = s3 }
	signer := v4.NewSigner()
	if presign {
		signedURL, hdr, err := signer.PresignHTTP(context.Background(), creds, req, hash, "svc", "eu-west-1", time.Now(), opt)
		if err != nil {
			t.Fatal(err)
		}
		if req, err = http.NewRequest(method, signedURL, bytes.NewReader(body)); err != nil {
			t.Fatal(err)
		}
		req.Header = hdr
	} else if err := signer.SignHTTP(context.Background(), creds, req, hash, "svc", "eu-west-1", time.Now(), opt); err != nil {
		t.Fatal(err)
	}
	return &Request{Method: req.Method, Path: req.URL.EscapedPath(), RawQuery: req.URL.RawQuery, Host: req.URL.Host, Header: req.Header, ContentLength: req.ContentLength, Body: body}
}

// TestSDKSigner: requests aws-sdk-go-v2 signs and presigns, with paths and
// queries that need encoding, for S3 and for the other services, verify.
func TestSDKSigner(t *testing.T) {
	for _, tc := range []struct {
		name    string
		path    string
		query   url.Values
		presign bool
		s3      bool
	}{
		{"query protocol POST", "/", nil, false, false},
		{"rest path with labels", "/2013-04-01/hostedzone/Z1D633PJN98FT9/rrset/", url.Values{"name": {"www.example.com."}, "type": {"A"}}, false, false},
		{"path needing encoding", "/a b/ü:c=d/", url.Values{"k": {"v w+x/y~"}}, false, false},
		{"presigned", "/", url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}}, true, false},
		{"s3 key with spaces", "/bucket/my key/ü+x", nil, false, true},
		{"s3 presigned", "/bucket/a b", url.Values{"x-id": {"GetObject"}}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte("Action=GetCallerIdentity&Version=2011-06-15")
			if tc.presign {
				body = nil
			}
			for _, token := range []string{"", "session-token"} {
				r := sdkRequest(t, http.MethodPost, tc.path, tc.query, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, body, tc.presign, tc.s3, token)
				if err := Verify(r, "secret/key+1", Options{Now: time.Now(), S3: tc.s3}); err != nil {
					t.Fatalf("Verify (token %q): %v", token, err)
				}
				if err := Verify(r, "secret/key+2", Options{Now: time.Now(), S3: tc.s3}); kindOf(err) != Mismatch {
					t.Fatalf("Verify with the wrong secret = %v, want Mismatch", err)
				}
			}
		})
	}
}

// TestPayloadHash: a body other than the one x-amz-content-sha256 names
// fails, UNSIGNED-PAYLOAD signs no body, and a header-signed request's body
// is part of its signature.
func TestPayloadHash(t *testing.T) {
	r := sdkRequest(t, http.MethodPut, "/bucket/key", nil, http.Header{}, []byte("data"), false, true, "")
	r.Body = []byte("other")
	if err := Verify(r, "secret/key+1", Options{Now: time.Now(), S3: true}); kindOf(err) != Mismatch {
		t.Fatalf("S3 body other than its hash: %v, want Mismatch", err)
	}
	r = sdkRequest(t, http.MethodPost, "/", nil, http.Header{}, []byte("Action=A"), false, false, "")
	r.Body = []byte("Action=B")
	if err := Verify(r, "secret/key+1", Options{Now: time.Now()}); kindOf(err) != Mismatch {
		t.Fatalf("changed body: %v, want Mismatch", err)
	}
}

// FuzzVerify: whatever the request, Verify does not panic and fails only
// with a *Failure; and whatever path, query value, header value and body
// aws-sdk-go-v2 signs, the signed request verifies and the same request
// with another secret does not.
func FuzzVerify(f *testing.F) {
	f.Add("/", "v", "h", []byte("Action=GetCallerIdentity"), false)
	f.Add("/a b/%2F/ü", "x y+z&=", "  a   b  ", []byte{}, true)
	f.Add("//x/./../y", "~!*'()", "\"q\"", []byte{0, 1}, false)
	f.Fuzz(func(t *testing.T, path, qv, hv string, body []byte, s3 bool) {
		junk := &Request{Method: "GET", Path: path, RawQuery: qv, Host: hv, Header: http.Header{"Authorization": {hv}, "X-Amz-Date": {qv}}, Body: body}
		if err := Verify(junk, "s", Options{Now: time.Now(), S3: s3}); err != nil {
			var fl *Failure
			if !errors.As(err, &fl) {
				t.Fatalf("Verify error %T %v, want *Failure", err, err)
			}
		}
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(hv, "\r\n\t\x00") || strings.ContainsFunc(hv, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return
		}
		r := sdkRequest(t, http.MethodPost, path, url.Values{"k": {qv}}, http.Header{"X-Custom": {hv}}, body, false, s3, "")
		if err := Verify(r, "secret/key+1", Options{Now: time.Now(), S3: s3}); err != nil {
			t.Fatalf("an SDK-signed request did not verify: %v (path %q query %q)", err, r.Path, r.RawQuery)
		}
		if err := Verify(r, "secret/key+2", Options{Now: time.Now(), S3: s3}); kindOf(err) != Mismatch {
			t.Fatalf("wrong secret: %v", err)
		}
	})
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// TestSign: what Sign writes is what aws-sdk-go-v2's signer writes for the
// same request, time and credentials, and it verifies.
func TestSign(t *testing.T) {
	now := time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, path, token string
	}{
		{"json protocol", "/", ""},
		{"session token", "/", "session-token"},
		{"path needing encoding", "/a b/ü", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(`{"DashboardName":"ops"}`)
			newReq := func() *http.Request {
				r, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:4566"+tc.path, bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				r.Header.Set("Content-Type", "application/x-amz-json-1.0")
				r.Header.Set("X-Amz-Target", "GraniteServiceVersion20100801.GetDashboard")
				return r
			}
			ours := newReq()
			Sign(ours, body, "AKIDEXAMPLE", "secret/key+1", tc.token, "us-east-1", "monitoring", now)
			sdk := newReq()
			sum := sha256.Sum256(body)
			sdk.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
			creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret/key+1", SessionToken: tc.token}
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, sdk, hex.EncodeToString(sum[:]), "monitoring", "us-east-1", now); err != nil {
				t.Fatal(err)
			}
			if got, want := ours.Header.Get("Authorization"), sdk.Header.Get("Authorization"); got != want {
				t.Errorf("Authorization\n got %s\nwant %s", got, want)
			}
			r := &Request{Method: ours.Method, Path: ours.URL.EscapedPath(), Host: ours.URL.Host, Header: ours.Header, ContentLength: int64(len(body)), Body: body}
			if err := Verify(r, "secret/key+1", Options{Now: now}); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}
