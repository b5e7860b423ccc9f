package server

import (
	"context"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"github.com/minicloud/minicloud/internal/gateway"
	"github.com/minicloud/minicloud/internal/iampolicy"
	"github.com/minicloud/minicloud/internal/oidc"
	"github.com/minicloud/minicloud/internal/service/iam"
	"github.com/minicloud/minicloud/internal/service/sts"
)

// OIDCDir is where the OIDC issuer key of the state directory stateDir
// lives.
func OIDCDir(stateDir string) string { return filepath.Join(stateDir, "oidc") }

// oidcDir is the server's issuer directory, "" (in memory) with
// --ephemeral.
func oidcDir(cfg Config) string {
	if cfg.Ephemeral {
		return ""
	}
	return OIDCDir(cfg.StateDir)
}

// maxTokenTTL bounds the lifetime of a minted token: a day.
const maxTokenTTL = 24 * time.Hour

// oidcEndpoints serve minicloud's OIDC issuer:
//
//	GET  /_minicloud/oidc/.well-known/openid-configuration  its discovery document
//	GET  /_minicloud/oidc/.well-known/jwks.json             its keys
//	POST /_minicloud/oidc/token?sub=S&aud=A[&aud=…][&ttl=SECONDS][&claim=K=V…]
//	                                                        a signed token, as text
func oidcEndpoints(is *oidc.Issuer) map[string]http.Handler {
	return map[string]http.Handler{
		oidc.DiscoveryPath: getOnly(func(w http.ResponseWriter, r *http.Request) {
			gateway.WriteJSON(w, http.StatusOK, oidc.Discovery("http://"+r.Host))
		}),
		oidc.KeysPath: getOnly(func(w http.ResponseWriter, _ *http.Request) {
			ks, err := is.Keys()
			if err != nil {
				gateway.WriteJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
				return
			}
			gateway.WriteJSON(w, http.StatusOK, ks)
		}),
		oidc.TokenPath: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost {
				w.Header().Set("Allow", "POST")
				gateway.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use POST"})
				return
			}
			c, err := tokenClaims(r)
			if err != nil {
				gateway.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
				return
			}
			tok, err := is.Mint(c)
			if err != nil {
				gateway.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
				return
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write([]byte(tok + "\n"))
		}),
	}
}

type badRequest string

func (e badRequest) Error() string { return string(e) }

// tokenClaims reads a mint request's query.
func tokenClaims(r *http.Request) (oidc.Claims, error) {
	q := r.URL.Query()
	c := oidc.Claims{Subject: q.Get("sub"), Audience: q["aud"]}
	if c.Subject == "" {
		return c, badRequest("sub is required")
	}
	if s := q.Get("ttl"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 || time.Duration(n)*time.Second > maxTokenTTL {
			return c, badRequest("ttl must be 1 to 86400 seconds: " + s)
		}
		c.TTL = time.Duration(n) * time.Second
	}
	for _, kv := range q["claim"] {
		if err := c.AddClaim(kv); err != nil {
			return c, err
		}
	}
	return c, nil
}

func getOnly(f http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET")
			gateway.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use GET"})
			return
		}
		f(w, r)
	})
}

// stsFederation is STS's port for web identities: IAM's OIDC providers
// and trust policies, and minicloud's issuer's keys.
type stsFederation struct {
	iam    *iam.Service
	issuer *oidc.Issuer
}

func (f stsFederation) OIDCProvider(ctx context.Context, account, issuer string) (sts.Provider, bool, error) {
	p, found, err := f.iam.OIDCProvider(ctx, account, issuer)
	return sts.Provider{ARN: p.ARN, URL: p.URL, ClientIDs: p.ClientIDs}, found, err
}

func (f stsFederation) TrustPolicy(ctx context.Context, roleARN string) (*iampolicy.Policy, error) {
	return f.iam.ResourcePolicy(ctx, "sts:AssumeRoleWithWebIdentity", roleARN)
}

func (f stsFederation) KeysOf(issuer string) (oidc.KeySet, bool, error) {
	return f.issuer.KeysOf(issuer)
}
