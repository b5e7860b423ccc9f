package acm

import (
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api/acmapi"
	"github.com/minicloud/minicloud/internal/state"
)

// Certificate statuses and types, as ACM names them.
const (
	statusPending  = "PENDING_VALIDATION"
	statusIssued   = "ISSUED"
	statusInactive = "INACTIVE"
	statusExpired  = "EXPIRED"
	statusTimedOut = "VALIDATION_TIMED_OUT"
	statusRevoked  = "REVOKED"
	statusFailed   = "FAILED"

	typeAmazon   = "AMAZON_ISSUED"
	typeImported = "IMPORTED"
	typePrivate  = "PRIVATE"

	domainSuccess = "SUCCESS"
	domainFailed  = "FAILED"
)

// validationTimeout is how long a requested certificate waits for its
// domains to be validated before ACM gives up (VALIDATION_TIMED_OUT).
const validationTimeout = 72 * time.Hour

// certRecord is one certificate: everything DescribeCertificate shows, the
// certificate and key, and what the validation controller works from.
type certRecord struct {
	ID     string `json:"id"`
	ARN    string `json:"arn"`
	Type   string `json:"type"`
	Status string `json:"status"`
	// FailureReason is set for FAILED (a private certificate: minicloud
	// has no AWS Private CA).
	FailureReason string `json:"failureReason,omitempty"`
	DomainName    string `json:"domainName"`
	// Names are SubjectAlternativeNames: every name the certificate
	// covers, DomainName first.
	Names []string `json:"names"`
	// Validations are the requested certificate's domains, one per name.
	Validations []domainValidation `json:"validations,omitempty"`
	// KeyAlgorithm is the API's enum value (RSA_2048, EC_prime256v1…).
	KeyAlgorithm string `json:"keyAlgorithm"`
	// CTLogging is Options.CertificateTransparencyLoggingPreference.
	CTLogging string `json:"ctLogging,omitempty"`
	// CAArn is the Private CA a PRIVATE certificate names.
	CAArn      string    `json:"caArn,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
	IssuedAt   time.Time `json:"issuedAt,omitzero"`
	ImportedAt time.Time `json:"importedAt,omitzero"`

	// What the certificate says, once there is one.
	NotBefore          time.Time          `json:"notBefore,omitzero"`
	NotAfter           time.Time          `json:"notAfter,omitzero"`
	Serial             string             `json:"serial,omitempty"`
	Subject            string             `json:"subject,omitempty"`
	Issuer             string             `json:"issuer,omitempty"`
	SignatureAlgorithm string             `json:"signatureAlgorithm,omitempty"`
	KeyUsages          []string           `json:"keyUsages,omitempty"`
	ExtendedKeyUsages  []extendedKeyUsage `json:"extendedKeyUsages,omitempty"`
	CertificatePEM     string             `json:"certificatePEM,omitempty"`
	ChainPEM           string             `json:"chainPEM,omitempty"`
	// PrivateKeyPEM never leaves minicloud through the API: GetCertificate
	// returns the certificate and chain only; the load balancers that
	// serve the certificate read it through the port.
	PrivateKeyPEM string `json:"privateKeyPEM,omitempty"`

	// InUseBy are the resources (load balancer ARNs) that use it.
	InUseBy []string     `json:"inUseBy,omitempty"`
	Tags    []acmapi.Tag `json:"tags,omitempty"`
}

// domainValidation is one domain of a requested certificate.
type domainValidation struct {
	DomainName       string `json:"domainName"`
	ValidationDomain string `json:"validationDomain"`
	Status           string `json:"status"`
	// RecordName and RecordValue are the validation CNAME.
	RecordName  string `json:"recordName"`
	RecordValue string `json:"recordValue"`
}

type extendedKeyUsage struct {
	Name string `json:"name"`
	OID  string `json:"oid,omitempty"`
}

// tokenRecord remembers a RequestCertificate IdempotencyToken for an hour.
type tokenRecord struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
}

// accountConfig is PutAccountConfiguration's.
type accountConfig struct {
	DaysBeforeExpiry int32     `json:"daysBeforeExpiry"`
	Token            string    `json:"token,omitempty"`
	TokenAt          time.Time `json:"tokenAt,omitzero"`
}

var (
	certs    = state.Table[certRecord]{Service: "acm", Kind: "certificate"}
	tokens   = state.Table[tokenRecord]{Service: "acm", Kind: "token"}
	accounts = state.Table[accountConfig]{Service: "acm", Kind: "account"}
)

// accountKey is the one account configuration record of a scope.
const accountKey = "configuration"

// status is the certificate's status now: an issued certificate past its
// NotAfter is EXPIRED and a request pending for 72 hours
// VALIDATION_TIMED_OUT, whether or not the controller has written so yet.
func (r *certRecord) status(now time.Time) string {
	switch {
	case r.Status == statusIssued && !r.NotAfter.IsZero() && now.After(r.NotAfter):
		return statusExpired
	case r.Status == statusPending && now.Sub(r.CreatedAt) >= validationTimeout:
		return statusTimedOut
	}
	return r.Status
}

// domainStatus is a domain's validation status now: a domain still
// pending when the request timed out has failed.
func (r *certRecord) domainStatus(v domainValidation, now time.Time) string {
	if v.Status == statusPending && r.status(now) == statusTimedOut {
		return domainFailed
	}
	return v.Status
}

// renewalEligibility is ELIGIBLE for a certificate ACM issued that is in
// use, as ACM renews only those.
func (r *certRecord) renewalEligibility(now time.Time) string {
	if r.Type == typeAmazon && r.status(now) == statusIssued && len(r.InUseBy) > 0 {
		return "ELIGIBLE"
	}
	return "INELIGIBLE"
}

// displayKeyAlgorithm is the key algorithm as DescribeCertificate and
// ListCertificates show it: "RSA-2048", "EC-prime256v1" (the request's
// enum has an underscore, the answers a hyphen).
func displayKeyAlgorithm(alg string) string { return strings.Replace(alg, "_", "-", 1) }

// detail is DescribeCertificate's view of r.
func (r *certRecord) detail(now time.Time) *acmapi.CertificateDetail {
	d := &acmapi.CertificateDetail{
		CertificateArn:          new(r.ARN),
		DomainName:              new(r.DomainName),
		SubjectAlternativeNames: r.Names,
		Status:                  new(r.status(now)),
		Type:                    new(r.Type),
		KeyAlgorithm:            new(displayKeyAlgorithm(r.KeyAlgorithm)),
		InUseBy:                 nonNil(r.InUseBy),
		RenewalEligibility:      new(r.renewalEligibility(now)),
		KeyUsages:               []acmapi.KeyUsage{},
		ExtendedKeyUsages:       []acmapi.ExtendedKeyUsage{},
		CreatedAt:               new(r.CreatedAt),
	}
	for _, k := range r.KeyUsages {
		d.KeyUsages = append(d.KeyUsages, acmapi.KeyUsage{Name: new(k)})
	}
	for _, e := range r.ExtendedKeyUsages {
		eku := acmapi.ExtendedKeyUsage{Name: new(e.Name)}
		if e.OID != "" {
			eku.OID = new(e.OID)
		}
		d.ExtendedKeyUsages = append(d.ExtendedKeyUsages, eku)
	}
	setString(&d.Serial, r.Serial)
	setString(&d.Subject, r.Subject)
	setString(&d.Issuer, r.Issuer)
	setString(&d.SignatureAlgorithm, r.SignatureAlgorithm)
	setString(&d.FailureReason, r.FailureReason)
	setString(&d.CertificateAuthorityArn, r.CAArn)
	setTime(&d.IssuedAt, r.IssuedAt)
	setTime(&d.ImportedAt, r.ImportedAt)
	setTime(&d.NotBefore, r.NotBefore)
	setTime(&d.NotAfter, r.NotAfter)
	if r.Type != typeImported {
		d.Options = &acmapi.CertificateOptions{CertificateTransparencyLoggingPreference: new(r.CTLogging)}
	}
	for _, v := range r.Validations {
		dv := acmapi.DomainValidation{
			DomainName:       new(v.DomainName),
			ValidationDomain: new(v.ValidationDomain),
			ValidationStatus: new(r.domainStatus(v, now)),
			ValidationMethod: new("DNS"),
			ResourceRecord:   &acmapi.ResourceRecord{Name: new(v.RecordName), Type: new("CNAME"), Value: new(v.RecordValue)},
		}
		d.DomainValidationOptions = append(d.DomainValidationOptions, dv)
	}
	return d
}

// maxSummaryNames is how many names a ListCertificates summary carries.
const maxSummaryNames = 100

// summary is ListCertificates' view of r.
func (r *certRecord) summary(now time.Time) acmapi.CertificateSummary {
	s := acmapi.CertificateSummary{
		CertificateArn:                       new(r.ARN),
		DomainName:                           new(r.DomainName),
		SubjectAlternativeNameSummaries:      r.Names[:min(len(r.Names), maxSummaryNames)],
		HasAdditionalSubjectAlternativeNames: new(len(r.Names) > maxSummaryNames),
		Status:                               new(r.status(now)),
		Type:                                 new(r.Type),
		KeyAlgorithm:                         new(displayKeyAlgorithm(r.KeyAlgorithm)),
		KeyUsages:                            r.KeyUsages,
		InUse:                                new(len(r.InUseBy) > 0),
		Exported:                             new(false),
		RenewalEligibility:                   new(r.renewalEligibility(now)),
		CreatedAt:                            new(r.CreatedAt),
	}
	for _, e := range r.ExtendedKeyUsages {
		s.ExtendedKeyUsages = append(s.ExtendedKeyUsages, e.Name)
	}
	setTime(&s.IssuedAt, r.IssuedAt)
	setTime(&s.ImportedAt, r.ImportedAt)
	setTime(&s.NotBefore, r.NotBefore)
	setTime(&s.NotAfter, r.NotAfter)
	return s
}

func setString(dst **string, s string) {
	if s != "" {
		*dst = new(s)
	}
}

func setTime(dst **time.Time, t time.Time) {
	if !t.IsZero() {
		*dst = new(t)
	}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
