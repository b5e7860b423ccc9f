package oidc

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// IssuerURL is minicloud's issuer (the iss of its tokens). Names under
// localhost reach the local machine, and IAM takes only https URLs
// without a port, so this one never depends on where minicloud listens.
const IssuerURL = "https://oidc.minicloud.localhost"

// Paths the gateway serves the issuer's documents and token minting on.
const (
	DiscoveryPath = "/_minicloud/oidc/.well-known/openid-configuration"
	KeysPath      = "/_minicloud/oidc/.well-known/jwks.json"
	TokenPath     = "/_minicloud/oidc/token"
)

// DefaultAudience is the audience of a minted token when none is given:
// sts.amazonaws.com, as EKS and GitHub Actions' AWS action use.
const DefaultAudience = "sts.amazonaws.com"

// keyFile is the issuer's signing key in its directory.
const keyFile = "key.pem"

// Issuer is minicloud's OIDC issuer: its key, made on first use.
type Issuer struct {
	dir string // "" keeps the key in memory
	now func() time.Time

	mu  sync.Mutex
	key *rsa.PrivateKey
	kid string
}

// NewIssuer returns the issuer whose key lives in dir ("" in memory).
func NewIssuer(dir string) *Issuer { return &Issuer{dir: dir, now: time.Now} }

// signer loads, or makes and saves, the issuer's key.
func (i *Issuer) signer() (*rsa.PrivateKey, string, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.key != nil {
		return i.key, i.kid, nil
	}
	key, err := i.loadOrMake()
	if err != nil {
		return nil, "", err
	}
	kid, err := keyID(&key.PublicKey)
	if err != nil {
		return nil, "", err
	}
	i.key, i.kid = key, kid
	return key, kid, nil
}

func (i *Issuer) loadOrMake() (*rsa.PrivateKey, error) {
	path := filepath.Join(i.dir, keyFile)
	if i.dir != "" {
		b, err := os.ReadFile(path)
		if err == nil {
			return parseKey(b)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("oidc: read the issuer key: %w", err)
		}
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("oidc: make the issuer key: %w", err)
	}
	if i.dir == "" {
		return key, nil
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("oidc: encode the issuer key: %w", err)
	}
	if err := os.MkdirAll(i.dir, 0o700); err != nil {
		return nil, fmt.Errorf("oidc: make %s: %w", i.dir, err)
	}
	// Written aside and renamed, so that a crash leaves either no key or a
	// whole one; a concurrent first use in another process wins the race
	// and both then read its key.
	tmp, err := os.CreateTemp(i.dir, keyFile+".*")
	if err != nil {
		return nil, fmt.Errorf("oidc: save the issuer key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err == nil {
		_, err = tmp.Write(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		if err == nil {
			err = tmp.Sync()
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Link(tmp.Name(), path)
		}
		if errors.Is(err, fs.ErrExist) {
			b, rerr := os.ReadFile(path)
			if rerr != nil {
				return nil, fmt.Errorf("oidc: read the issuer key: %w", rerr)
			}
			return parseKey(b)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("oidc: save the issuer key: %w", err)
	}
	return key, nil
}

func parseKey(b []byte) (*rsa.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("oidc: the issuer key file holds no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("oidc: parse the issuer key: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("oidc: the issuer key is a %T, not RSA", k)
	}
	return rk, nil
}

// keyID is the key's kid: its RFC 7638 thumbprint, so that it is the same
// wherever the key is read.
func keyID(pub *rsa.PublicKey) (string, error) {
	jwk := fmt.Sprintf(`{"e":%q,"kty":"RSA","n":%q}`, b64(big.NewInt(int64(pub.E)).Bytes()), b64(pub.N.Bytes()))
	sum := sha256.Sum256([]byte(jwk))
	return b64(sum[:]), nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// Claims are what a minted token says.
type Claims struct {
	Subject  string
	Audience []string
	// TTL is how long the token is valid (an hour when zero).
	TTL time.Duration
	// Extra are further claims (amr, email, repository…), which must not
	// replace the registered ones.
	Extra map[string]any
}

// Mint signs a token of the issuer.
func (i *Issuer) Mint(c Claims) (string, error) {
	key, kid, err := i.signer()
	if err != nil {
		return "", err
	}
	if c.Subject == "" {
		return "", errors.New("oidc: a token needs a subject")
	}
	ttl := c.TTL
	if ttl <= 0 {
		ttl = time.Hour
	}
	aud := c.Audience
	if len(aud) == 0 {
		aud = []string{DefaultAudience}
	}
	now := i.now().Unix()
	claims := map[string]any{}
	for k, v := range c.Extra {
		claims[k] = v
	}
	claims["iss"], claims["sub"], claims["iat"], claims["nbf"], claims["exp"] = IssuerURL, c.Subject, now, now, now+int64(ttl/time.Second)
	if len(aud) == 1 {
		claims["aud"] = aud[0]
	} else {
		claims["aud"] = aud
	}
	return sign(key, kid, claims)
}

func sign(key *rsa.PrivateKey, kid string, claims map[string]any) (string, error) {
	h, err := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": kid})
	if err != nil {
		return "", err
	}
	p, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("oidc: encode the claims: %w", err)
	}
	input := b64(h) + "." + b64(p)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("oidc: sign: %w", err)
	}
	return input + "." + b64(sig), nil
}

// JWK is one key of a JSON Web Key Set.
type JWK struct {
	Kty string `json:"kty"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
	Kid string `json:"kid,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

// KeySet is a JSON Web Key Set.
type KeySet struct {
	Keys []JWK `json:"keys"`
}

// Keys is the issuer's JSON Web Key Set.
func (i *Issuer) Keys() (KeySet, error) {
	key, kid, err := i.signer()
	if err != nil {
		return KeySet{}, err
	}
	pub := &key.PublicKey
	return KeySet{Keys: []JWK{{Kty: "RSA", Use: "sig", Alg: "RS256", Kid: kid, N: b64(pub.N.Bytes()), E: b64(big.NewInt(int64(pub.E)).Bytes())}}}, nil
}

// Discovery is the issuer's OpenID Provider metadata
// (.well-known/openid-configuration), its jwks_uri where the gateway
// serves the keys for a client on this machine.
func Discovery(gatewayURL string) map[string]any {
	return map[string]any{
		"issuer":                                IssuerURL,
		"jwks_uri":                              gatewayURL + KeysPath,
		"response_types_supported":              []string{"id_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"claims_supported":                      []string{"sub", "aud", "exp", "iat", "iss", "nbf", "amr"},
	}
}

// registered are the claims Mint sets itself.
var registered = map[string]bool{"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true}

// AddClaim adds a KEY=VALUE claim to c.Extra: amr, a list (RFC 8176),
// gathers every value given; a registered claim cannot be set this way.
func (c *Claims) AddClaim(kv string) error {
	k, v, ok := strings.Cut(kv, "=")
	if !ok || k == "" || registered[k] {
		return fmt.Errorf("oidc: a claim is KEY=VALUE, KEY not one of iss, sub, aud, exp, nbf, iat: %q", kv)
	}
	if c.Extra == nil {
		c.Extra = map[string]any{}
	}
	if k == "amr" {
		prev, _ := c.Extra[k].([]string)
		c.Extra[k] = append(prev, v)
		return nil
	}
	c.Extra[k] = v
	return nil
}
