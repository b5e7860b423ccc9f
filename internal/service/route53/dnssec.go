package route53

import (
	"context"
	"net/http"
	"regexp"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/route53api"
)

// DNSSEC signing. A key-signing key is backed by a customer managed KMS
// key (ECC_NIST_P256, SIGN_VERIFY, in us-east-1, whose policy lets
// dnssec-route53.amazonaws.com sign). minicloud has no KMS, so no ARN
// names a key Route 53 may use: CreateKeySigningKey answers InvalidKMSArn
// with AWS's message for a key it cannot use, after the same validation
// of its other inputs AWS makes. A zone therefore never has a KSK, and it
// answers GetDNSSEC, Enable and Disable as AWS answers for such a zone.

var kskName = regexp.MustCompile(`^[a-zA-Z0-9_]{3,128}$`)

func errInvalidKMSArn(arn string) error {
	return api.Errorf(http.StatusBadRequest, "InvalidKMSArn", "The CMK with ARN '%s' did not grant all required permissions for DNSSEC usage. Please review your key-policy, and verify that you and Route 53 have permissions to perform the following actions: DescribeKey, GetPublicKey, and Sign.", arn)
}

func errNoSuchKSK(name string) error {
	return api.Errorf(http.StatusNotFound, "NoSuchKeySigningKey", "The specified key-signing key (%s) doesn't exist.", name)
}

// dnssecZone finds a zone DNSSEC applies to: a public one.
func (s *Service) dnssecZone(ctx context.Context, id string) (*zoneRecord, error) {
	z, err := s.zone(ctx, id)
	if err != nil {
		return nil, err
	}
	if z.Private {
		return nil, api.Errorf(http.StatusBadRequest, "InvalidArgument", "Operation is unsupported for private hosted zones.")
	}
	return z, nil
}

// GetDNSSEC reports a zone's signing status: never signing, no keys.
func (s *Service) GetDNSSEC(ctx context.Context, in *route53api.GetDNSSECRequest) (*route53api.GetDNSSECResponse, error) {
	if _, err := s.dnssecZone(ctx, deref(in.HostedZoneId)); err != nil {
		return nil, err
	}
	return &route53api.GetDNSSECResponse{Status: &route53api.DNSSECStatus{ServeSignature: new("NOT_SIGNING")}, KeySigningKeys: []route53api.KeySigningKey{}}, nil
}

// EnableHostedZoneDNSSEC needs an ACTIVE key-signing key, which no zone
// has.
func (s *Service) EnableHostedZoneDNSSEC(ctx context.Context, in *route53api.EnableHostedZoneDNSSECRequest) (*route53api.EnableHostedZoneDNSSECResponse, error) {
	z, err := s.dnssecZone(ctx, deref(in.HostedZoneId))
	if err != nil {
		return nil, err
	}
	return nil, api.Errorf(http.StatusBadRequest, "KeySigningKeyWithActiveStatusNotFound", "Hosted zone with ID '%s' does not have a Key Signing Key in ACTIVE status.", z.ID)
}

// DisableHostedZoneDNSSEC on a zone that does not sign has nothing to
// disable.
func (s *Service) DisableHostedZoneDNSSEC(ctx context.Context, in *route53api.DisableHostedZoneDNSSECRequest) (*route53api.DisableHostedZoneDNSSECResponse, error) {
	if _, err := s.dnssecZone(ctx, deref(in.HostedZoneId)); err != nil {
		return nil, err
	}
	return nil, api.Errorf(http.StatusBadRequest, "DNSSECNotFound", "The hosted zone doesn't have any DNSSEC resources.")
}

// CreateKeySigningKey validates the request, then refuses the KMS key.
func (s *Service) CreateKeySigningKey(ctx context.Context, in *route53api.CreateKeySigningKeyRequest) (*route53api.CreateKeySigningKeyResponse, error) {
	if ref := deref(in.CallerReference); ref == "" || len(ref) > 128 {
		return nil, errInvalidInput("1 validation error detected: Value '%s' at 'callerReference' failed to satisfy constraint: Member must have length between 1 and 128", ref)
	}
	name := deref(in.Name)
	if !kskName.MatchString(name) {
		return nil, api.Errorf(http.StatusBadRequest, "InvalidKeySigningKeyName", "The key-signing key (KSK) name doesn't match the accepted format: 3 to 128 letters, digits and underscores.")
	}
	if st := deref(in.Status); st != "ACTIVE" && st != "INACTIVE" {
		return nil, api.Errorf(http.StatusBadRequest, "InvalidKeySigningKeyStatus", "Your key-signing key status isn't valid: %q (ACTIVE or INACTIVE).", st)
	}
	if _, err := s.dnssecZone(ctx, deref(in.HostedZoneId)); err != nil {
		return nil, err
	}
	return nil, errInvalidKMSArn(deref(in.KeyManagementServiceArn))
}

// kskOp answers Activate/Deactivate/Delete: the zone has no keys.
func (s *Service) kskOp(ctx context.Context, zoneID, name *string) error {
	if _, err := s.dnssecZone(ctx, deref(zoneID)); err != nil {
		return err
	}
	return errNoSuchKSK(deref(name))
}

// ActivateKeySigningKey answers NoSuchKeySigningKey (see CreateKeySigningKey).
func (s *Service) ActivateKeySigningKey(ctx context.Context, in *route53api.ActivateKeySigningKeyRequest) (*route53api.ActivateKeySigningKeyResponse, error) {
	return nil, s.kskOp(ctx, in.HostedZoneId, in.Name)
}

// DeactivateKeySigningKey answers NoSuchKeySigningKey.
func (s *Service) DeactivateKeySigningKey(ctx context.Context, in *route53api.DeactivateKeySigningKeyRequest) (*route53api.DeactivateKeySigningKeyResponse, error) {
	return nil, s.kskOp(ctx, in.HostedZoneId, in.Name)
}

// DeleteKeySigningKey answers NoSuchKeySigningKey.
func (s *Service) DeleteKeySigningKey(ctx context.Context, in *route53api.DeleteKeySigningKeyRequest) (*route53api.DeleteKeySigningKeyResponse, error) {
	return nil, s.kskOp(ctx, in.HostedZoneId, in.Name)
}
