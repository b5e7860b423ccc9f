package acm

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/acmapi"
	"github.com/minicloud/minicloud/internal/pki"
	"github.com/minicloud/minicloud/internal/state"
)

// ACM's quotas: names on one certificate (AWS's default, adjustable there
// up to 100), and certificates of each kind in an account's region.
const (
	maxCertificateNames = 10
	maxCertificates     = 2500
	maxCommonNameLen    = 64
)

// issuedKeyAlgorithms are the keys ACM issues public certificates with.
var issuedKeyAlgorithms = []string{string(pki.RSA2048), string(pki.ECP256), string(pki.ECP384)}

// amazonOwned are the domains ACM refuses to issue public certificates
// for (FailureReason ADDITIONAL_VERIFICATION_REQUIRED).
var amazonOwned = []string{"amazonaws.com", "cloudfront.net", "elasticbeanstalk.com"}

// RequestCertificate records a certificate request. A public one waits in
// PENDING_VALIDATION until its validation CNAMEs appear in a public hosted
// zone (the validator issues it then); a private one names an AWS Private
// CA, which minicloud does not have, and fails.
func (s *Service) RequestCertificate(ctx context.Context, in *acmapi.RequestCertificateRequest) (*acmapi.RequestCertificateResponse, error) {
	req, err := requestCheck(in)
	if err != nil {
		return nil, err
	}
	sc, now := scopeOf(ctx), s.now()
	var id string
	err = s.store.Update(ctx, func(tx state.Tx) error {
		var err error
		id, err = s.requestPlan(tx, sc, now, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &acmapi.RequestCertificateResponse{CertificateArn: new(arnOf(sc, id))}, nil
}

// certificateRequest is a RequestCertificate checked on its own.
type certificateRequest struct {
	token string
	// names are every name, the domain name first, each once.
	names     []string
	validated map[string]string // name (lower case) → ValidationDomain
	keyAlg    string
	ct        string
	caARN     string
	tags      []acmapi.Tag
}

// requestCheck checks the request alone, in AWS's order: the model's
// constraints, then the names, the validation options and the tags.
func requestCheck(in *acmapi.RequestCertificateRequest) (*certificateRequest, error) {
	var v violations
	domain := deref(in.DomainName)
	v.domainList(in.SubjectAlternativeNames, "subjectAlternativeNames")
	v.domain(domain, "domainName")
	if in.IdempotencyToken != nil {
		v.length(*in.IdempotencyToken, "idempotencyToken", 1, maxTokenLen)
		v.pattern(*in.IdempotencyToken, "idempotencyToken", tokenRE, tokenPattern)
	}
	v.enum(in.ValidationMethod, "validationMethod", validationMethods)
	v.enum(in.KeyAlgorithm, "keyAlgorithm", keyAlgorithms)
	if in.Options != nil {
		v.enum(in.Options.CertificateTransparencyLoggingPreference, "options.certificateTransparencyLoggingPreference", ctPreferences)
	}
	if p := in.CertificateAuthorityArn; p != nil {
		v.length(*p, "certificateAuthorityArn", minARNLen, maxARNLen)
		v.pattern(*p, "certificateAuthorityArn", pcaArnRE, pcaArnPattern)
	}
	if dvo := in.DomainValidationOptions; dvo != nil {
		if len(dvo) < 1 || len(dvo) > maxDomains {
			v.Add(nil, "domainValidationOptions", fmt.Sprintf("Member must have length between 1 and %d", maxDomains))
		}
		for i, o := range dvo {
			v.domain(deref(o.DomainName), fmt.Sprintf("domainValidationOptions.%d.member.domainName", i+1))
			v.domain(deref(o.ValidationDomain), fmt.Sprintf("domainValidationOptions.%d.member.validationDomain", i+1))
		}
	}
	v.tags(in.Tags, "tags")
	if err := v.Err(); err != nil {
		return nil, err
	}

	if len(domain) > maxCommonNameLen {
		return nil, errDomainValidationOptions("The first domain name can be no longer than %d characters.", maxCommonNameLen)
	}
	req := &certificateRequest{token: deref(in.IdempotencyToken), keyAlg: string(pki.RSA2048), ct: "ENABLED",
		caARN: deref(in.CertificateAuthorityArn), tags: in.Tags, validated: map[string]string{}}
	if in.KeyAlgorithm != nil {
		req.keyAlg = *in.KeyAlgorithm
	}
	if in.Options != nil && in.Options.CertificateTransparencyLoggingPreference != nil {
		req.ct = *in.Options.CertificateTransparencyLoggingPreference
	}
	if req.caARN == "" {
		if !slices.Contains(issuedKeyAlgorithms, req.keyAlg) {
			return nil, errInvalidParameter("Key algorithm %s is not supported for public certificates: use %s.", req.keyAlg, strings.Join(issuedKeyAlgorithms, ", "))
		}
		if deref(in.ValidationMethod) == "EMAIL" {
			return nil, errInvalidParameter("minicloud cannot send email, so EMAIL validation could never complete: " +
				"request the certificate with ValidationMethod DNS and create its validation CNAME records in a Route 53 public hosted zone.")
		}
	}
	for _, n := range append([]string{domain}, in.SubjectAlternativeNames...) {
		if !slices.ContainsFunc(req.names, func(m string) bool { return strings.EqualFold(m, n) }) {
			req.names = append(req.names, n)
		}
	}
	if len(req.names) > maxCertificateNames {
		return nil, api.Errorf(http.StatusBadRequest, "LimitExceededException",
			"Cannot request a certificate with more than %d domain names (this one has %d).", maxCertificateNames, len(req.names))
	}
	for _, o := range in.DomainValidationOptions {
		name, vd := deref(o.DomainName), deref(o.ValidationDomain)
		if !slices.ContainsFunc(req.names, func(m string) bool { return strings.EqualFold(m, name) }) {
			return nil, errDomainValidationOptions("DomainValidationOption %s is not one of the certificate's domain names.", name)
		}
		base := strings.ToLower(strings.TrimPrefix(name, "*."))
		if l := strings.ToLower(vd); l != base && !strings.HasSuffix(base, "."+l) {
			return nil, errDomainValidationOptions("The ValidationDomain %s must be %s or one of its superdomains.", vd, base)
		}
		req.validated[strings.ToLower(name)] = vd
	}
	if err := checkReservedTags(in.Tags); err != nil {
		return nil, err
	}
	return req, nil
}

func errDomainValidationOptions(format string, args ...any) error {
	return api.Errorf(http.StatusBadRequest, "InvalidDomainValidationOptionsException", format, args...)
}

// requestPlan records the request in tx, or finds the certificate an
// hour-old idempotency token made, and returns its ID.
func (s *Service) requestPlan(tx state.Tx, sc state.Scope, now time.Time, req *certificateRequest) (string, error) {
	if req.token != "" {
		t, ok, err := tokens.Get(tx, sc, req.token)
		if err != nil {
			return "", err
		}
		if ok && now.Sub(t.Created) < tokenLife {
			if _, found, err := certs.Get(tx, sc, t.ID); err != nil || found {
				return t.ID, err
			}
		}
	}
	n := 0
	err := certs.ForEachShared(tx, sc, func(_ string, r *certRecord) error {
		if r.Type != typeImported {
			n++
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if n >= maxCertificates {
		return "", api.Errorf(http.StatusBadRequest, "LimitExceededException",
			"The account has reached its limit of %d certificates in region %s.", maxCertificates, sc.Region)
	}
	r := s.newRequested(sc, now, req)
	if err := certs.Put(tx, sc, r.ID, r); err != nil {
		return "", err
	}
	if req.token != "" {
		if err := tokens.Put(tx, sc, req.token, tokenRecord{ID: r.ID, Created: now}); err != nil {
			return "", err
		}
	}
	return r.ID, nil
}

// newRequested is the record of a new request: pending validation, or
// failed at once where AWS fails it (a Private CA minicloud does not have,
// an Amazon-owned name).
func (s *Service) newRequested(sc state.Scope, now time.Time, req *certificateRequest) certRecord {
	id := newID()
	r := certRecord{
		ID: id, ARN: arnOf(sc, id), Type: typeAmazon, Status: statusPending,
		DomainName: req.names[0], Names: req.names, KeyAlgorithm: req.keyAlg, CTLogging: req.ct,
		CreatedAt: now, Subject: "CN=" + req.names[0], Issuer: pki.Organization, SignatureAlgorithm: "SHA256WITHECDSA",
		Tags: req.tags,
	}
	if req.caARN != "" {
		r.Type, r.CAArn, r.Status, r.FailureReason = typePrivate, req.caARN, statusFailed, "PCA_RESOURCE_NOT_FOUND"
		return r
	}
	failed := slices.ContainsFunc(req.names, amazonOwnedName)
	if failed {
		r.Status, r.FailureReason = statusFailed, "ADDITIONAL_VERIFICATION_REQUIRED"
	}
	for _, n := range req.names {
		name, value := validationCNAME(sc.Account, n)
		v := domainValidation{DomainName: n, ValidationDomain: n, Status: statusPending, RecordName: name, RecordValue: value}
		if vd, ok := req.validated[strings.ToLower(n)]; ok {
			v.ValidationDomain = vd
		}
		if failed {
			v.Status = domainFailed
		}
		r.Validations = append(r.Validations, v)
	}
	return r
}

func amazonOwnedName(name string) bool {
	name = strings.ToLower(name)
	return slices.ContainsFunc(amazonOwned, func(d string) bool { return name == d || strings.HasSuffix(name, "."+d) })
}
