package ec2

import (
	"context"
	"net/http"
	"strings"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/lazyregexp"
	"github.com/minicloud/minicloud/internal/state"
)

// EBS encryption by default, per account and region: when enabled every new
// volume (and the root volumes RunInstances makes) is encrypted whatever the
// request says, with the account's default KMS key. There is no KMS: key IDs
// are recorded and shown as given, and the default key is the ARN of the
// alias aws/ebs, as GetEbsDefaultKmsKeyId shows it on AWS before a customer
// key is chosen.

// ebsDefaultsRecord is an account's EBS encryption settings in a region.
type ebsDefaultsRecord struct {
	EncryptionByDefault bool `json:"encryptionByDefault,omitempty"`
	// KmsKeyID is the default key as ModifyEbsDefaultKmsKeyId gave it
	// (an ARN); empty for alias/aws/ebs.
	KmsKeyID string `json:"kmsKeyId,omitempty"`
}

var ebsDefaultsTable = state.Table[ebsDefaultsRecord]{Service: "ec2", Kind: "ebs-defaults"}

// ebsDefaultsID is the record's ID in the caller's scope (one per scope).
const ebsDefaultsID = "default"

func ebsDefaults(t *rtx) (ebsDefaultsRecord, error) {
	rec, _, err := ebsDefaultsTable.Get(t.tx, t.scope, ebsDefaultsID)
	return rec, err
}

// ebsAliasKey is the ARN of the AWS managed key alias/aws/ebs.
func ebsAliasKey(t *rtx) string { return state.NewARN(t.scope, "kms", "alias/aws/ebs").String() }

// ebsDefaultKey is the account's default EBS key ARN.
func ebsDefaultKey(t *rtx) (string, error) {
	rec, err := ebsDefaults(t)
	if err != nil {
		return "", err
	}
	if rec.KmsKeyID != "" {
		return rec.KmsKeyID, nil
	}
	return ebsAliasKey(t), nil
}

// ebsEncryptedByDefault reports whether the account encrypts new volumes.
func ebsEncryptedByDefault(t *rtx) (bool, error) {
	rec, err := ebsDefaults(t)
	return rec.EncryptionByDefault, err
}

// ebsKeyRE matches the forms of a KMS key a request may name: a key ID, an
// alias name, or a key's or alias's ARN.
var ebsKeyRE = lazyregexp.New(`^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32}|alias/[A-Za-z0-9/_-]+|arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key/[A-Za-z0-9-]+|alias/[A-Za-z0-9/_-]+))$`)

// ebsKeyARN resolves a key named in a request to the ARN AWS records: IDs
// and aliases become ARNs of the caller's account and region.
func ebsKeyARN(t *rtx, key string) (string, error) {
	if !ebsKeyRE.MatchString(key) {
		return "", errInvalidParam("Value (%s) for parameter kmsKeyId is invalid. Expected a valid KMS key ID, alias or ARN.", key)
	}
	switch {
	case strings.HasPrefix(key, "arn:"):
		return key, nil
	case strings.HasPrefix(key, "alias/"):
		return state.NewARN(t.scope, "kms", key).String(), nil
	default:
		return state.NewARN(t.scope, "kms", "key/"+key).String(), nil
	}
}

// ebsPutDefaults changes the caller's settings with fn and stores them.
func (s *Service) ebsPutDefaults(ctx context.Context, dry *bool, fn func(t *rtx, rec *ebsDefaultsRecord) error) (ebsDefaultsRecord, string, error) {
	if err := dryRun(dry); err != nil {
		return ebsDefaultsRecord{}, "", err
	}
	var out ebsDefaultsRecord
	var key string
	err := s.update(ctx, func(t *rtx) error {
		rec, err := ebsDefaults(t)
		if err != nil {
			return err
		}
		if err := fn(t, &rec); err != nil {
			return err
		}
		if err := ebsDefaultsTable.Put(t.tx, t.scope, ebsDefaultsID, rec); err != nil {
			return err
		}
		out = rec
		key, err = ebsDefaultKey(t)
		return err
	})
	return out, key, err
}

// GetEbsEncryptionByDefault reports whether new volumes are encrypted.
func (s *Service) GetEbsEncryptionByDefault(ctx context.Context, in *ec2api.GetEbsEncryptionByDefaultRequest) (*ec2api.GetEbsEncryptionByDefaultResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	var on bool
	err := s.view(ctx, func(t *rtx) (err error) {
		on, err = ebsEncryptedByDefault(t)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.GetEbsEncryptionByDefaultResult{EbsEncryptionByDefault: new(on), SseType: new("sse-ebs")}, nil
}

// EnableEbsEncryptionByDefault turns encryption by default on.
func (s *Service) EnableEbsEncryptionByDefault(ctx context.Context, in *ec2api.EnableEbsEncryptionByDefaultRequest) (*ec2api.EnableEbsEncryptionByDefaultResult, error) {
	rec, _, err := s.ebsPutDefaults(ctx, in.DryRun, func(_ *rtx, r *ebsDefaultsRecord) error { r.EncryptionByDefault = true; return nil })
	if err != nil {
		return nil, err
	}
	return &ec2api.EnableEbsEncryptionByDefaultResult{EbsEncryptionByDefault: new(rec.EncryptionByDefault)}, nil
}

// DisableEbsEncryptionByDefault turns encryption by default off.
func (s *Service) DisableEbsEncryptionByDefault(ctx context.Context, in *ec2api.DisableEbsEncryptionByDefaultRequest) (*ec2api.DisableEbsEncryptionByDefaultResult, error) {
	rec, _, err := s.ebsPutDefaults(ctx, in.DryRun, func(_ *rtx, r *ebsDefaultsRecord) error { r.EncryptionByDefault = false; return nil })
	if err != nil {
		return nil, err
	}
	return &ec2api.DisableEbsEncryptionByDefaultResult{EbsEncryptionByDefault: new(rec.EncryptionByDefault)}, nil
}

// GetEbsDefaultKmsKeyId gives the default key of encrypted volumes.
func (s *Service) GetEbsDefaultKmsKeyId(ctx context.Context, in *ec2api.GetEbsDefaultKmsKeyIdRequest) (*ec2api.GetEbsDefaultKmsKeyIdResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	var key string
	err := s.view(ctx, func(t *rtx) (err error) {
		key, err = ebsDefaultKey(t)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.GetEbsDefaultKmsKeyIdResult{KmsKeyId: new(key)}, nil
}

// ModifyEbsDefaultKmsKeyId sets the default key (an ID, alias or ARN).
func (s *Service) ModifyEbsDefaultKmsKeyId(ctx context.Context, in *ec2api.ModifyEbsDefaultKmsKeyIdRequest) (*ec2api.ModifyEbsDefaultKmsKeyIdResult, error) {
	if deref(in.KmsKeyId) == "" {
		return nil, errMissingParam("kmsKeyId")
	}
	_, key, err := s.ebsPutDefaults(ctx, in.DryRun, func(t *rtx, r *ebsDefaultsRecord) error {
		arn, err := ebsKeyARN(t, *in.KmsKeyId)
		r.KmsKeyID = arn
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ModifyEbsDefaultKmsKeyIdResult{KmsKeyId: new(key)}, nil
}

// ResetEbsDefaultKmsKeyId makes alias/aws/ebs the default key again.
func (s *Service) ResetEbsDefaultKmsKeyId(ctx context.Context, in *ec2api.ResetEbsDefaultKmsKeyIdRequest) (*ec2api.ResetEbsDefaultKmsKeyIdResult, error) {
	_, key, err := s.ebsPutDefaults(ctx, in.DryRun, func(_ *rtx, r *ebsDefaultsRecord) error { r.KmsKeyID = ""; return nil })
	if err != nil {
		return nil, err
	}
	return &ec2api.ResetEbsDefaultKmsKeyIdResult{KmsKeyId: new(key)}, nil
}

// ebsEncryption decides a new volume's encryption: requested, inherited
// from its snapshot, or forced by the account's default; and its key: the
// one given (resolved to an ARN), the snapshot's, else the account's
// default. A key without Encrypted=true is InvalidParameterDependency, as
// on AWS, unless encryption by default makes the volume encrypted anyway.
func ebsEncryption(t *rtx, requested *bool, key string, inherited bool, inheritedKey string) (bool, *string, error) {
	byDefault, err := ebsEncryptedByDefault(t)
	if err != nil {
		return false, nil, err
	}
	if key != "" && !deref(requested) && !byDefault {
		return false, nil, api.Errorf(http.StatusBadRequest, "InvalidParameterDependency", "The parameter KmsKeyId requires the parameter Encrypted to be set.")
	}
	if !deref(requested) && !inherited && !byDefault {
		return false, nil, nil
	}
	switch {
	case key != "":
		arn, err := ebsKeyARN(t, key)
		return true, new(arn), err
	case inheritedKey != "":
		return true, new(inheritedKey), nil
	}
	def, err := ebsDefaultKey(t)
	return true, new(def), err
}
