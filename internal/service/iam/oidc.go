package iam

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api/iamapi"
	"github.com/minicloud/minicloud/internal/state"
)

// OpenID Connect identity providers: the issuers whose tokens
// sts:AssumeRoleWithWebIdentity accepts for the account's roles. A
// provider is named by its URL without "https://" (its ARN is
// arn:aws:iam::<account>:oidc-provider/<host/path>), and so are the
// condition keys of its tokens (<host/path>:aud, :sub, :amr).
type oidcRec struct {
	URL         string      `json:"url"` // without https://
	ARN         string      `json:"arn"`
	ClientIDs   []string    `json:"clientIds,omitempty"`
	Thumbprints []string    `json:"thumbprints,omitempty"`
	Created     time.Time   `json:"created"`
	Tags        []state.Tag `json:"tags,omitempty"`
}

// Keyed by the URL without its scheme: one provider per issuer.
var oidcProviders = state.Table[oidcRec]{Service: "iam", Kind: "oidc-provider"}

// AWS's limits: 100 client IDs of at most 255 characters, at most five
// thumbprints of 40 hex digits, a URL of at most 255 characters.
const (
	maxClientIDs   = 100
	maxClientIDLen = 255
	maxThumbprints = 5
	maxOIDCURL     = 255
)

// oidcURL is a provider URL without its scheme: IAM takes https URLs of a
// host and an optional path, with no port, query or fragment.
func oidcURL(raw string) (string, error) {
	if len(raw) > maxOIDCURL {
		return "", validationError("1 validation error detected: Value at 'url' failed to satisfy constraint: Member must have length less than or equal to %d", maxOIDCURL)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Port() != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", invalidInput("Invalid Open ID Connect Provider URL.")
	}
	return strings.TrimSuffix(strings.TrimPrefix(raw, "https://"), "/"), nil
}

func checkThumbprints(list []string) error {
	if len(list) > maxThumbprints {
		return invalidInput("Thumbprint list must contain fewer than %d entries.", maxThumbprints)
	}
	for _, t := range list {
		if len(t) != 40 {
			return invalidInput("Thumbprint must be exactly 40 characters.")
		}
	}
	return nil
}

func checkClientID(id string) error {
	if len(id) < 1 || len(id) > maxClientIDLen {
		return validationError("1 validation error detected: Value at 'clientID' failed to satisfy constraint: Member must have length less than or equal to %d", maxClientIDLen)
	}
	return nil
}

// providerKey is the table key of a provider ARN of the caller's account;
// "" when the ARN names none.
func providerKey(ctx context.Context, arn string) string {
	prefix := "arn:" + partition(ctx) + ":iam::" + account(ctx) + ":oidc-provider/"
	if !strings.HasPrefix(arn, prefix) {
		return ""
	}
	return strings.ToLower(arn[len(prefix):])
}

func noProvider(arn string) error {
	return noSuchEntity("OpenIDConnect Provider not found for arn %s", arn)
}

func getProvider(ctx context.Context, tx state.Tx, sc state.Scope, arn string) (*oidcRec, error) {
	k := providerKey(ctx, arn)
	if k == "" {
		return nil, noProvider(arn)
	}
	p, ok, err := oidcProviders.Get(tx, sc, k)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, noProvider(arn)
	}
	return &p, nil
}

// provider reads a provider of the caller's account.
func (s *Service) provider(ctx context.Context, arn string) (*oidcRec, error) {
	var p *oidcRec
	err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		var err error
		p, err = getProvider(ctx, tx, sc, arn)
		return err
	})
	return p, err
}

// CreateOpenIDConnectProvider registers an OIDC issuer. Its thumbprints
// are kept but never used: minicloud fetches no keys over the network
// (see sts.AssumeRoleWithWebIdentity).
func (s *Service) CreateOpenIDConnectProvider(ctx context.Context, in *iamapi.CreateOpenIDConnectProviderRequest) (*iamapi.CreateOpenIDConnectProviderResponse, error) {
	u, err := oidcURL(*in.Url)
	if err != nil {
		return nil, err
	}
	if err := checkThumbprints(in.ThumbprintList); err != nil {
		return nil, err
	}
	if len(in.ClientIDList) > maxClientIDs {
		return nil, limitExceeded("Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: %d", maxClientIDs)
	}
	var ids []string
	for _, id := range in.ClientIDList {
		if err := checkClientID(id); err != nil {
			return nil, err
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	tags, err := mergeTags(nil, in.Tags)
	if err != nil {
		return nil, err
	}
	rec := oidcRec{URL: u, ARN: iamARN(ctx, "oidc-provider/", "", u), ClientIDs: ids, Thumbprints: in.ThumbprintList, Created: s.stamp(), Tags: tags}
	err = s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		_, exists, err := oidcProviders.Get(tx, sc, strings.ToLower(u))
		if err != nil {
			return err
		}
		if exists {
			return alreadyExists("Provider with url %s already exists.", *in.Url)
		}
		return oidcProviders.Put(tx, sc, strings.ToLower(u), rec)
	})
	if err != nil {
		return nil, err
	}
	out := &iamapi.CreateOpenIDConnectProviderResponse{OpenIDConnectProviderArn: new(rec.ARN)}
	if len(tags) > 0 {
		out.Tags = wireTags(tags)
	}
	return out, nil
}

// GetOpenIDConnectProvider describes a provider.
func (s *Service) GetOpenIDConnectProvider(ctx context.Context, in *iamapi.GetOpenIDConnectProviderRequest) (*iamapi.GetOpenIDConnectProviderResponse, error) {
	p, err := s.provider(ctx, *in.OpenIDConnectProviderArn)
	if err != nil {
		return nil, err
	}
	out := &iamapi.GetOpenIDConnectProviderResponse{Url: new(p.URL), ClientIDList: p.ClientIDs, ThumbprintList: p.Thumbprints, CreateDate: new(p.Created)}
	if out.ClientIDList == nil {
		out.ClientIDList = []string{}
	}
	if out.ThumbprintList == nil {
		out.ThumbprintList = []string{}
	}
	if len(p.Tags) > 0 {
		out.Tags = wireTags(p.Tags)
	}
	return out, nil
}

// ListOpenIDConnectProviders lists the account's providers' ARNs.
func (s *Service) ListOpenIDConnectProviders(ctx context.Context, _ *iamapi.ListOpenIDConnectProvidersRequest) (*iamapi.ListOpenIDConnectProvidersResponse, error) {
	out := &iamapi.ListOpenIDConnectProvidersResponse{OpenIDConnectProviderList: []iamapi.OpenIDConnectProviderListEntry{}}
	err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		return oidcProviders.ForEach(tx, sc, func(_ string, p oidcRec) error {
			out.OpenIDConnectProviderList = append(out.OpenIDConnectProviderList, iamapi.OpenIDConnectProviderListEntry{Arn: new(p.ARN)})
			return nil
		})
	})
	return out, err
}

// DeleteOpenIDConnectProvider removes a provider; as AWS documents, a
// provider that does not exist is no error. Roles that trust it stay, and
// no longer accept its tokens.
func (s *Service) DeleteOpenIDConnectProvider(ctx context.Context, in *iamapi.DeleteOpenIDConnectProviderRequest) (*iamapi.Empty, error) {
	k := providerKey(ctx, *in.OpenIDConnectProviderArn)
	if k == "" {
		return nil, nil
	}
	return nil, s.update(ctx, func(tx state.Tx, sc state.Scope) error { return oidcProviders.Delete(tx, sc, k) })
}

// mutateProvider applies fn to a provider and stores it.
func (s *Service) mutateProvider(ctx context.Context, arn string, fn func(p *oidcRec) error) error {
	return s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		p, err := getProvider(ctx, tx, sc, arn)
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
		return oidcProviders.Put(tx, sc, strings.ToLower(p.URL), *p)
	})
}

// AddClientIDToOpenIDConnectProvider adds an audience; adding one the
// provider has is no error.
func (s *Service) AddClientIDToOpenIDConnectProvider(ctx context.Context, in *iamapi.AddClientIDToOpenIDConnectProviderRequest) (*iamapi.Empty, error) {
	id := *in.ClientID
	if err := checkClientID(id); err != nil {
		return nil, err
	}
	return nil, s.mutateProvider(ctx, *in.OpenIDConnectProviderArn, func(p *oidcRec) error {
		if slices.Contains(p.ClientIDs, id) {
			return nil
		}
		if len(p.ClientIDs) >= maxClientIDs {
			return limitExceeded("Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: %d", maxClientIDs)
		}
		p.ClientIDs = append(p.ClientIDs, id)
		return nil
	})
}

// RemoveClientIDFromOpenIDConnectProvider removes an audience; removing
// one the provider does not have is no error.
func (s *Service) RemoveClientIDFromOpenIDConnectProvider(ctx context.Context, in *iamapi.RemoveClientIDFromOpenIDConnectProviderRequest) (*iamapi.Empty, error) {
	return nil, s.mutateProvider(ctx, *in.OpenIDConnectProviderArn, func(p *oidcRec) error {
		p.ClientIDs = slices.DeleteFunc(p.ClientIDs, func(id string) bool { return id == *in.ClientID })
		return nil
	})
}

// UpdateOpenIDConnectProviderThumbprint replaces the thumbprints.
func (s *Service) UpdateOpenIDConnectProviderThumbprint(ctx context.Context, in *iamapi.UpdateOpenIDConnectProviderThumbprintRequest) (*iamapi.Empty, error) {
	if err := checkThumbprints(in.ThumbprintList); err != nil {
		return nil, err
	}
	return nil, s.mutateProvider(ctx, *in.OpenIDConnectProviderArn, func(p *oidcRec) error {
		p.Thumbprints = in.ThumbprintList
		return nil
	})
}

// TagOpenIDConnectProvider adds or replaces a provider's tags.
func (s *Service) TagOpenIDConnectProvider(ctx context.Context, in *iamapi.TagOpenIDConnectProviderRequest) (*iamapi.Empty, error) {
	return nil, s.mutateProvider(ctx, *in.OpenIDConnectProviderArn, func(p *oidcRec) error {
		t, err := mergeTags(p.Tags, in.Tags)
		p.Tags = t
		return err
	})
}

// UntagOpenIDConnectProvider removes a provider's tags.
func (s *Service) UntagOpenIDConnectProvider(ctx context.Context, in *iamapi.UntagOpenIDConnectProviderRequest) (*iamapi.Empty, error) {
	return nil, s.mutateProvider(ctx, *in.OpenIDConnectProviderArn, func(p *oidcRec) error {
		p.Tags = untag(p.Tags, in.TagKeys)
		return nil
	})
}

// ListOpenIDConnectProviderTags lists a provider's tags.
func (s *Service) ListOpenIDConnectProviderTags(ctx context.Context, in *iamapi.ListOpenIDConnectProviderTagsRequest) (*iamapi.ListOpenIDConnectProviderTagsResponse, error) {
	p, err := s.provider(ctx, *in.OpenIDConnectProviderArn)
	if err != nil {
		return nil, err
	}
	t, tr, m, err := pageTags(p.Tags, in.MaxItems, in.Marker)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListOpenIDConnectProviderTagsResponse{Tags: t, IsTruncated: tr, Marker: m}, nil
}

// OIDCProvider is a provider as STS sees it.
type OIDCProvider struct {
	ARN       string
	URL       string // without https://
	ClientIDs []string
}

// OIDCProvider finds the provider of issuer (an iss claim, https://…) in
// account: STS's AssumeRoleWithWebIdentity.
func (s *Service) OIDCProvider(ctx context.Context, account, issuer string) (OIDCProvider, bool, error) {
	u := strings.TrimSuffix(strings.TrimPrefix(issuer, "https://"), "/")
	var (
		p     oidcRec
		found bool
	)
	err := s.store.View(ctx, func(tx state.Tx) error {
		var err error
		p, found, err = oidcProviders.Get(tx, state.Global(account), strings.ToLower(u))
		return err
	})
	if err != nil || !found {
		return OIDCProvider{}, false, err
	}
	return OIDCProvider{ARN: p.ARN, URL: p.URL, ClientIDs: p.ClientIDs}, true, nil
}
