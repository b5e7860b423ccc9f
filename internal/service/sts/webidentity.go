package sts

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/stsapi"
	"github.com/minicloud/minicloud/internal/iampolicy"
	"github.com/minicloud/minicloud/internal/oidc"
)

// Provider is an IAM OpenID Connect provider as STS needs it.
type Provider struct {
	ARN       string
	URL       string // without https://: the prefix of its condition keys
	ClientIDs []string
}

// Federation is what AssumeRoleWithWebIdentity needs besides roles: the
// account's OIDC providers and roles' trust policies (IAM's), and the
// keys of an issuer (only minicloud's own issuer's are reachable).
type Federation interface {
	OIDCProvider(ctx context.Context, account, issuer string) (p Provider, found bool, err error)
	TrustPolicy(ctx context.Context, roleARN string) (*iampolicy.Policy, error)
	KeysOf(issuer string) (keys oidc.KeySet, found bool, err error)
}

// WithFederation gives STS its port for web identities; without it
// AssumeRoleWithWebIdentity refuses every token.
func (s *Service) WithFederation(f Federation) *Service {
	s.federation = f
	return s
}

// AssumeRoleWithWebIdentity's limits (the model's): a token of 4 to
// 20,000 characters; durations up to 12 hours, within the role's maximum.
const (
	minTokenLen       = 4
	maxTokenLen       = 20000
	maxWebIdentityDur = 43200
)

// The answers AWS gives for tokens it refuses, word for word.
const (
	msgNotJWT      = "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)"
	msgNoKey       = "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements"
	msgInvalid     = "The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request."
	msgAudience    = "Incorrect token audience"
	msgNotAuthWeb  = "Not authorized to perform sts:AssumeRoleWithWebIdentity"
	msgNoProvider  = "No OpenIDConnect provider found in your account for %s"
	msgTokenExpiry = "Token expired: current date/time %d must be before the expiration date/time %d"
)

func invalidToken(msg string, args ...any) error {
	return api.Errorf(http.StatusBadRequest, "InvalidIdentityToken", msg, args...)
}

// AssumeRoleWithWebIdentity exchanges an OpenID Connect ID token for a
// role session, as AWS does, with no AWS credentials: the token's issuer
// must be an OIDC provider of the role's account, one of its audiences a
// client ID of that provider, its signature one of the issuer's keys, its
// validity window current; then the role's trust policy must allow the
// provider (principal Federated) with the token's condition keys
// (<provider>:aud, :sub, :amr).
func (s *Service) AssumeRoleWithWebIdentity(ctx context.Context, in *stsapi.AssumeRoleWithWebIdentityRequest) (*stsapi.AssumeRoleWithWebIdentityResponse, error) {
	raw := *in.WebIdentityToken
	switch {
	case len(raw) < minTokenLen:
		return nil, validation("1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length greater than or equal to %d", minTokenLen)
	case len(raw) > maxTokenLen:
		return nil, validation("1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length less than or equal to %d", maxTokenLen)
	case in.DurationSeconds != nil && *in.DurationSeconds > maxWebIdentityDur:
		return nil, validation("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to %d", *in.DurationSeconds, maxWebIdentityDur)
	}
	m, err := checkRoleRequest(*in.RoleArn, *in.RoleSessionName, in.DurationSeconds)
	if err != nil {
		return nil, err
	}
	account := m[2]
	tok, prov, err := s.verifyToken(ctx, account, raw)
	if err != nil {
		return nil, err
	}
	role, err := s.webIdentityRole(ctx, *in.RoleArn, tok, prov, *in.RoleSessionName)
	if err != nil {
		return nil, err
	}
	duration, err := roleDuration(in.DurationSeconds, role)
	if err != nil {
		return nil, err
	}
	policies, err := s.sessionPolicies(ctx, account, in.Policy, in.PolicyArns)
	if err != nil {
		return nil, err
	}
	sess := roleSession(m, role, *in.RoleSessionName, policies)
	if err := s.issue(ctx, &sess, seconds(duration)); err != nil {
		return nil, err
	}
	return &stsapi.AssumeRoleWithWebIdentityResponse{
		Credentials:                 sess.credentials(),
		SubjectFromWebIdentityToken: new(tok.Subject),
		AssumedRoleUser:             &stsapi.AssumedRoleUser{AssumedRoleId: new(sess.UserID), Arn: new(sess.ARN)},
		Provider:                    new(prov.ARN),
		Audience:                    new(audienceOf(tok, prov)),
	}, nil
}

// verifyToken reads and checks a web identity token against the providers
// of account; it never accepts a token whose signature it could not
// check.
func (s *Service) verifyToken(ctx context.Context, account, raw string) (*oidc.Token, Provider, error) {
	tok, err := oidc.Parse(raw)
	if err != nil {
		return nil, Provider{}, invalidToken(msgNotJWT)
	}
	if s.federation == nil {
		return nil, Provider{}, invalidToken(msgNoProvider, tok.Issuer)
	}
	prov, found, err := s.federation.OIDCProvider(ctx, account, tok.Issuer)
	if err != nil {
		return nil, Provider{}, fmt.Errorf("sts: OIDC provider of %s: %w", tok.Issuer, err)
	}
	if !found {
		return nil, Provider{}, invalidToken(msgNoProvider, tok.Issuer)
	}
	if audienceOf(tok, prov) == "" {
		return nil, Provider{}, invalidToken(msgAudience)
	}
	keys, found, err := s.federation.KeysOf(tok.Issuer)
	if err != nil {
		return nil, Provider{}, err
	}
	if !found {
		// Another issuer's keys are on the network minicloud does not
		// reach: AWS's answer when it cannot fetch them.
		return nil, Provider{}, invalidToken(msgNoKey)
	}
	switch err := tok.VerifySignature(keys); {
	case errors.Is(err, oidc.ErrNoKey):
		return nil, Provider{}, invalidToken(msgNoKey)
	case err != nil:
		return nil, Provider{}, invalidToken(msgInvalid)
	}
	now := s.now()
	switch {
	case tok.Expires.IsZero() || tok.Subject == "":
		return nil, Provider{}, invalidToken(msgInvalid)
	case !now.Before(tok.Expires):
		return nil, Provider{}, api.Errorf(http.StatusBadRequest, "ExpiredTokenException", msgTokenExpiry, now.Unix(), tok.Expires.Unix())
	case !tok.NotBefore.IsZero() && now.Add(time.Minute).Before(tok.NotBefore):
		// A minute of clock skew is allowed, as OIDC verifiers do.
		return nil, Provider{}, invalidToken(msgInvalid)
	}
	return tok, prov, nil
}

// audienceOf is the token's audience that is a client ID of prov ("":
// none is).
func audienceOf(tok *oidc.Token, prov Provider) string {
	for _, a := range tok.Audience {
		if slices.Contains(prov.ClientIDs, a) {
			return a
		}
	}
	return ""
}

// webIdentityRole is the role a verified token asks for, once its trust
// policy allows the provider with the token's keys. AWS does not tell a
// missing role from one whose trust policy refuses.
func (s *Service) webIdentityRole(ctx context.Context, arn string, tok *oidc.Token, prov Provider, sessionName string) (Role, error) {
	denied := api.Errorf(http.StatusForbidden, "AccessDenied", msgNotAuthWeb)
	if s.roles == nil {
		return Role{}, denied
	}
	r, found, err := s.roles.Role(ctx, arn)
	if err != nil {
		return Role{}, fmt.Errorf("sts: role %s: %w", arn, err)
	}
	if !found {
		return Role{}, denied
	}
	trust, err := s.federation.TrustPolicy(ctx, r.ARN)
	if err != nil {
		return Role{}, fmt.Errorf("sts: trust policy of %s: %w", arn, err)
	}
	q := iampolicy.Request{
		Principal: iampolicy.Principal{Type: iampolicy.Anonymous, Federated: prov.ARN},
		Action:    "sts:AssumeRoleWithWebIdentity",
		Resources: []string{r.ARN},
		Context:   webIdentityContext(ctx, tok, prov, sessionName, s.now()),
	}
	set := iampolicy.PolicySet{ResourcePolicy: trust, ResourceAccount: strings.SplitN(r.ARN, ":", 6)[4], ResourceMustAllow: true}
	if trust == nil || !iampolicy.Evaluate(q, set).Allowed() {
		return Role{}, denied
	}
	return r, nil
}

// webIdentityContext is the condition keys of a web identity request: the
// provider's (<url>:aud, :sub, :amr, :oaud for the other audiences),
// aws:FederatedProvider, sts:RoleSessionName and the request's own.
func webIdentityContext(ctx context.Context, tok *oidc.Token, prov Provider, sessionName string, now time.Time) iampolicy.Context {
	c := iampolicy.Context{}
	aud := audienceOf(tok, prov)
	c.Set(prov.URL+":aud", aud)
	c.Set(prov.URL+":sub", tok.Subject)
	if len(tok.AMR) > 0 {
		c.Set(prov.URL+":amr", tok.AMR...)
	}
	if others := slices.DeleteFunc(slices.Clone(tok.Audience), func(a string) bool { return a == aud }); len(others) > 0 {
		c.Set(prov.URL+":oaud", others...)
	}
	c.Set("aws:FederatedProvider", prov.ARN)
	c.Set("sts:RoleSessionName", sessionName)
	if ip := api.Request(ctx).SourceIP; ip != "" {
		c.Set("aws:SourceIp", ip)
	}
	c.Set("aws:CurrentTime", now.UTC().Format(time.RFC3339))
	c.Set("aws:EpochTime", strconv.FormatInt(now.Unix(), 10))
	return c
}

// AssumeRoleWithSAML is not built: minicloud has no SAML providers
// (IAM's CreateSAMLProvider), so no assertion could be checked. It is
// answered as an operation minicloud does not implement, in the query
// protocol's error shape, rather than left to look like a bad request.
func (s *Service) AssumeRoleWithSAML(context.Context, *stsapi.AssumeRoleWithSAMLRequest) (*stsapi.AssumeRoleWithSAMLResponse, error) {
	return nil, api.Errorf(http.StatusNotImplemented, "NotImplemented",
		"minicloud does not implement AssumeRoleWithSAML: it has no SAML providers to verify an assertion against; use AssumeRoleWithWebIdentity with minicloud's OIDC issuer (minicloud oidc token)")
}
