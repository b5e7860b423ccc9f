package oidc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMintVerify: a minted token reads back with its claims and verifies
// against the issuer's key set — also the set of a new Issuer over the
// same directory, since the key is kept there (0600) — and a token that
// was altered, or signed by another key, does not.
func TestMintVerify(t *testing.T) {
	dir := t.TempDir()
	is := NewIssuer(dir)
	raw, err := is.Mint(Claims{Subject: "repo:org/app:ref:refs/heads/main", Audience: []string{"sts.amazonaws.com", "other"}, TTL: time.Minute,
		Extra: map[string]any{"amr": []string{"authenticated"}}})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Issuer != IssuerURL || tok.Subject != "repo:org/app:ref:refs/heads/main" || strings.Join(tok.Audience, ",") != "sts.amazonaws.com,other" ||
		strings.Join(tok.AMR, ",") != "authenticated" || tok.Expires.Sub(tok.IssuedAt) != time.Minute || tok.Alg != "RS256" {
		t.Fatalf("claims %+v", tok)
	}
	if fi, err := os.Stat(filepath.Join(dir, keyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	again, found, err := NewIssuer(dir).KeysOf(IssuerURL + "/")
	if err != nil || !found {
		t.Fatal(found, err)
	}
	other, _ := NewIssuer("").Keys()
	parts := strings.Split(raw, ".")
	for _, tc := range []struct {
		name string
		raw  string
		keys KeySet
		want error
	}{
		{"the issuer's key, read again", raw, again, nil},
		{"altered claims", parts[0] + "." + b64([]byte(`{"iss":"`+IssuerURL+`","sub":"admin"}`)) + "." + parts[2], again, ErrSignature},
		{"another key", raw, other, ErrNoKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := Parse(tc.raw)
			if err != nil {
				t.Fatal(err)
			}
			if err := tok.VerifySignature(tc.keys); !errors.Is(err, tc.want) {
				t.Fatalf("VerifySignature: %v, want %v", err, tc.want)
			}
		})
	}
	if _, found, _ := is.KeysOf("https://token.actions.githubusercontent.com"); found {
		t.Fatal("another issuer's keys are not reachable offline")
	}
}

// TestVerifyES256: tokens signed with P-256 keys (as some issuers do)
// verify against their JWK.
func TestVerifyES256(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := json.Marshal(map[string]string{"alg": "ES256", "kid": "ec"})
	p, _ := json.Marshal(map[string]any{"iss": "https://issuer.example", "sub": "s", "aud": "a", "exp": 2000000000})
	input := b64(h) + "." + b64(p)
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	tok, err := Parse(input + "." + b64(sig))
	if err != nil {
		t.Fatal(err)
	}
	ks := KeySet{Keys: []JWK{{Kty: "EC", Crv: "P-256", Kid: "ec", X: b64(key.X.FillBytes(make([]byte, 32))), Y: b64(key.Y.FillBytes(make([]byte, 32)))}}}
	if err := tok.VerifySignature(ks); err != nil {
		t.Fatal(err)
	}
	sig[5] ^= 1
	tok, _ = Parse(input + "." + b64(sig))
	if err := tok.VerifySignature(ks); !errors.Is(err, ErrSignature) {
		t.Fatalf("a changed signature: %v", err)
	}
}

// TestParseMalformed: what is not a compact JWS is refused.
func TestParseMalformed(t *testing.T) {
	for _, raw := range []string{"", "abc", "a.b", "a.b.c.d", "!!.e30.", b64([]byte("{}")) + ".bm90IGpzb24." + "c2ln"} {
		if _, err := Parse(raw); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%q): %v", raw, err)
		}
	}
}
