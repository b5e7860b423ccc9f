// Package certport is ACM as the other services see it: what a load
// balancer's HTTPS listener (and next CloudFront and API Gateway custom
// domains) needs of a certificate — whether it exists and can be served,
// its chain and key for the TLS handshake, and the InUseBy list ACM shows
// and that blocks DeleteCertificate. ACM implements Port; the server hands
// it to each service at construction, so no service imports ACM's package.
package certport

import (
	"context"
	"time"
)

// Cert is a certificate as a TLS server needs it.
type Cert struct {
	ARN string
	// Status is ACM's: ISSUED, PENDING_VALIDATION, EXPIRED, REVOKED,
	// FAILED, VALIDATION_TIMED_OUT, INACTIVE.
	Status string
	// DomainName and SANs are the names it covers.
	DomainName string
	SANs       []string
	NotBefore  time.Time
	NotAfter   time.Time
	// CertificatePEM is the leaf, ChainPEM the intermediates up to (not
	// including) the root; PrivateKeyPEM the leaf's key, unencrypted.
	CertificatePEM, ChainPEM, PrivateKeyPEM []byte
}

// Port is ACM for one consuming service. Lookups answer found=false for an
// ARN that is not a certificate of the account and region.
type Port interface {
	// Certificate returns the certificate with its key.
	Certificate(ctx context.Context, account, region, arn string) (c Cert, found bool, err error)
	// Use records that the resource user (an ARN: a load balancer) uses
	// the certificate: it appears in InUseBy and DeleteCertificate is
	// refused with ResourceInUseException. Idempotent.
	Use(ctx context.Context, account, region, arn, user string) error
	// Unuse removes user from InUseBy; a missing certificate or user is not
	// an error.
	Unuse(ctx context.Context, account, region, arn, user string) error
}
