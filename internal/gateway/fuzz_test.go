package gateway

import (
	"testing"
)

// FuzzParseAuthorization: any Authorization header parses to a credential or
// a signature error, never a panic, and a credential always has its scope.
func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{
		"AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"AWS4-HMAC-SHA256 Credential=/////, SignedHeaders=, Signature=",
		"AWS AKID:sig",
		"AWS4-HMAC-SHA256",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, auth string) {
		cred, err := parseAuthorization(auth)
		if err != nil {
			if _, ok := err.(*sigError); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		if cred.AccessKey == "" || cred.Region == "" || cred.Service == "" {
			t.Fatalf("credential without scope: %+v", cred)
		}
	})
}
