package oidc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Token is a JSON Web Token read but not yet trusted.
type Token struct {
	Alg, Kid string
	Issuer   string
	Subject  string
	Audience []string
	AMR      []string
	// Expires, NotBefore and IssuedAt are zero when the token has none.
	Expires, NotBefore, IssuedAt time.Time
	// Claims are all the payload's claims.
	Claims map[string]any

	signed, sig []byte
}

// ErrMalformed is Parse's error for a string that is not a JWT.
var ErrMalformed = errors.New("oidc: not a JSON Web Token")

// Parse reads a compact JWS. It checks nothing but its form.
func Parse(raw string) (*Token, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, ErrMalformed
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	pb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, ErrMalformed
	}
	var h struct{ Alg, Kid string }
	if json.Unmarshal(hb, &h) != nil {
		return nil, ErrMalformed
	}
	t := &Token{Alg: h.Alg, Kid: h.Kid, signed: []byte(parts[0] + "." + parts[1]), sig: sig}
	if json.Unmarshal(pb, &t.Claims) != nil || t.Claims == nil {
		return nil, ErrMalformed
	}
	t.Issuer, _ = t.Claims["iss"].(string)
	t.Subject, _ = t.Claims["sub"].(string)
	t.Audience = strings1(t.Claims["aud"])
	t.AMR = strings1(t.Claims["amr"])
	t.Expires, t.NotBefore, t.IssuedAt = unix(t.Claims["exp"]), unix(t.Claims["nbf"]), unix(t.Claims["iat"])
	return t, nil
}

// strings1 is a claim that is a string or a list of strings.
func strings1(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func unix(v any) time.Time {
	if f, ok := v.(float64); ok {
		return time.Unix(int64(f), 0).UTC()
	}
	return time.Time{}
}

// Verification failures.
var (
	ErrNoKey     = errors.New("oidc: no key of the set signed the token")
	ErrSignature = errors.New("oidc: the signature does not verify")
)

// VerifySignature checks the token's signature with the key of keys its
// kid names (any key when it names none): RS256 or ES256.
func (t *Token) VerifySignature(keys KeySet) error {
	found := false
	for _, k := range keys.Keys {
		if t.Kid != "" && k.Kid != t.Kid {
			continue
		}
		found = true
		if verifyWith(k, t.Alg, t.signed, t.sig) == nil {
			return nil
		}
	}
	if !found {
		return ErrNoKey
	}
	return ErrSignature
}

func verifyWith(k JWK, alg string, signed, sig []byte) error {
	sum := sha256.Sum256(signed)
	switch {
	case alg == "RS256" && k.Kty == "RSA":
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if errors.Join(err1, err2) != nil {
			return ErrSignature
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
	case alg == "ES256" && k.Kty == "EC" && k.Crv == "P-256" && len(sig) == 64:
		x, err1 := base64.RawURLEncoding.DecodeString(k.X)
		y, err2 := base64.RawURLEncoding.DecodeString(k.Y)
		if errors.Join(err1, err2) != nil {
			return ErrSignature
		}
		pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
		if ecdsa.Verify(pub, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
			return nil
		}
	}
	return ErrSignature
}

// KeysOf answers an issuer's key set: minicloud's own issuer is the only
// one whose keys are reachable offline.
func (i *Issuer) KeysOf(issuer string) (KeySet, bool, error) {
	if strings.TrimSuffix(issuer, "/") != IssuerURL {
		return KeySet{}, false, nil
	}
	ks, err := i.Keys()
	if err != nil {
		return KeySet{}, false, fmt.Errorf("oidc: keys of %s: %w", issuer, err)
	}
	return ks, true, nil
}
