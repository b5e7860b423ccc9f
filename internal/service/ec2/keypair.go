package ec2

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// Key pairs. The record keeps the public key in OpenSSH authorized_keys
// format ("ssh-ed25519 AAAA… name") in KeyPairInfo.PublicKey; Describe shows
// it only with IncludePublicKey. The instance runtime puts it into the
// instance's authorized_keys (keyPairByName).

// keyPairByName finds a key pair by name, or InvalidKeyPair.NotFound.
// RunInstances uses it for KeyName.
func keyPairByName(t *rtx, name string) (*keyPairRecord, error) {
	all, err := keyPairs.all(t)
	if err != nil {
		return nil, err
	}
	for _, k := range all {
		if deref(k.KeyName) == name {
			return k, nil
		}
	}
	return nil, keyPairNotFound(name)
}

func keyPairNotFound(name string) error {
	return apiErr("InvalidKeyPair.NotFound", "The key pair '%s' does not exist", name)
}

// keyPairCheckName validates a new key pair's name: 1–255 ASCII characters,
// unique in the account and region.
func keyPairCheckName(t *rtx, name string) error {
	if name == "" {
		return errMissingParam("KeyName")
	}
	if len(name) > 255 {
		return errInvalidParam("Value (%s) for parameter keyName is invalid. Length exceeds maximum of 255.", name)
	}
	for _, r := range name {
		if r > 127 {
			return errInvalidParam("Value (%s) for parameter keyName is invalid. Character sets beyond ASCII are not supported.", name)
		}
	}
	if _, err := keyPairByName(t, name); err == nil {
		return apiErr("InvalidKeyPair.Duplicate", "The keypair '%s' already exists.", name)
	} else if !imageIsCode(err, "InvalidKeyPair.NotFound") {
		return err
	}
	return nil
}

// keyPairAuthorizedKey renders pub as an authorized_keys line with the key
// pair's name as its comment, as AWS shows it.
func keyPairAuthorizedKey(pub ssh.PublicKey, name string) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))) + " " + name
}

// CreateKeyPair generates a key pair and returns its private key once.
func (s *Service) CreateKeyPair(ctx context.Context, in *ec2api.CreateKeyPairRequest) (*ec2api.KeyPair, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	name := deref(in.KeyName)
	keyType := deref(in.KeyType)
	if keyType == "" {
		keyType = "rsa"
	}
	if keyType != "rsa" && keyType != "ed25519" {
		return nil, errInvalidParam("Value (%s) for parameter keyType is invalid. Valid values are: rsa, ed25519.", keyType)
	}
	format := deref(in.KeyFormat)
	if format == "" {
		format = "pem"
	}
	if format != "pem" && format != "ppk" {
		return nil, errInvalidParam("Value (%s) for parameter keyFormat is invalid. Valid values are: pem, ppk.", format)
	}
	tags, err := tagsFor(in.TagSpecifications, "key-pair")
	if err != nil {
		return nil, err
	}
	var (
		material, fingerprint string
		pub                   ssh.PublicKey
	)
	switch keyType {
	case "rsa":
		priv, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		if pub, err = ssh.NewPublicKey(&priv.PublicKey); err != nil {
			return nil, err
		}
		if fingerprint, err = keyPairRSACreatedFingerprint(priv); err != nil {
			return nil, err
		}
		if format == "ppk" {
			material = keyPairPPK(pub, keyPairPPKRSAPrivate(priv), name)
		} else {
			material = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv)}))
		}
	case "ed25519":
		pubKey, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		if pub, err = ssh.NewPublicKey(pubKey); err != nil {
			return nil, err
		}
		fingerprint = keyPairED25519Fingerprint(pub)
		if format == "ppk" {
			material = keyPairPPK(pub, keyPairSSHString(priv.Seed()), name)
		} else {
			block, err := ssh.MarshalPrivateKey(priv, "")
			if err != nil {
				return nil, err
			}
			material = string(pem.EncodeToMemory(block))
		}
	}
	material = strings.TrimRight(material, "\n")
	rec := &keyPairRecord{ec2api.KeyPairInfo{
		KeyPairId:      new(state.NewID("key")),
		KeyFingerprint: new(fingerprint),
		KeyName:        new(name),
		KeyType:        new(keyType),
		Tags:           tags,
		PublicKey:      new(keyPairAuthorizedKey(pub, name)),
	}}
	err = s.update(ctx, func(t *rtx) error {
		if err := keyPairCheckName(t, name); err != nil {
			return err
		}
		rec.CreateTime = new(t.now)
		return keyPairs.put(t, rec)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.KeyPair{KeyFingerprint: rec.KeyFingerprint, KeyMaterial: new(material), KeyName: rec.KeyName,
		KeyPairId: rec.KeyPairId, Tags: rec.Tags}, nil
}

// ImportKeyPair stores a public key given in OpenSSH authorized_keys format
// (RSA 1024–4096 bits or ED25519), or as RFC 4716 (SSH2) text.
func (s *Service) ImportKeyPair(ctx context.Context, in *ec2api.ImportKeyPairRequest) (*ec2api.ImportKeyPairResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	name := deref(in.KeyName)
	tags, err := tagsFor(in.TagSpecifications, "key-pair")
	if err != nil {
		return nil, err
	}
	pub, err := keyPairParsePublic(in.PublicKeyMaterial)
	if err != nil {
		return nil, err
	}
	rec := &keyPairRecord{ec2api.KeyPairInfo{
		KeyPairId: new(state.NewID("key")),
		KeyName:   new(name),
		Tags:      tags,
		PublicKey: new(keyPairAuthorizedKey(pub, name)),
	}}
	switch pub.Type() {
	case ssh.KeyAlgoRSA:
		fp, err := keyPairRSAImportedFingerprint(pub)
		if err != nil {
			return nil, err
		}
		rec.KeyType, rec.KeyFingerprint = new("rsa"), new(fp)
	case ssh.KeyAlgoED25519:
		rec.KeyType, rec.KeyFingerprint = new("ed25519"), new(keyPairED25519Fingerprint(pub))
	}
	err = s.update(ctx, func(t *rtx) error {
		if err := keyPairCheckName(t, name); err != nil {
			return err
		}
		rec.CreateTime = new(t.now)
		return keyPairs.put(t, rec)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ImportKeyPairResult{KeyFingerprint: rec.KeyFingerprint, KeyName: rec.KeyName, KeyPairId: rec.KeyPairId, Tags: rec.Tags}, nil
}

// keyPairFilterValues gives DescribeKeyPairs' filters for one key pair.
func keyPairFilterValues(k *keyPairRecord) map[string][]string {
	return map[string][]string{
		"key-pair-id": one(deref(k.KeyPairId)),
		"fingerprint": one(deref(k.KeyFingerprint)),
		"key-name":    one(deref(k.KeyName)),
		"key-type":    one(deref(k.KeyType)),
	}
}

// DescribeKeyPairs lists key pairs by name, ID and filters.
func (s *Service) DescribeKeyPairs(ctx context.Context, in *ec2api.DescribeKeyPairsRequest) (*ec2api.DescribeKeyPairsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	fs := toFilters(in.Filters)
	if err := state.CheckFilterNames(fs, "key-pair-id", "fingerprint", "key-name", "key-type"); err != nil {
		return nil, err
	}
	var recs []*keyPairRecord
	err := s.view(ctx, func(t *rtx) error {
		all, err := keyPairs.all(t)
		if err != nil {
			return err
		}
		byName := map[string]*keyPairRecord{}
		byID := map[string]*keyPairRecord{}
		for _, k := range all {
			byName[deref(k.KeyName)] = k
			byID[deref(k.KeyPairId)] = k
		}
		if len(in.KeyNames) > 0 || len(in.KeyPairIds) > 0 {
			var missing []string
			var pick []*keyPairRecord
			seen := map[string]bool{}
			add := func(k *keyPairRecord) {
				if !seen[deref(k.KeyPairId)] {
					seen[deref(k.KeyPairId)] = true
					pick = append(pick, k)
				}
			}
			for _, n := range in.KeyNames {
				if k, ok := byName[n]; ok {
					add(k)
				} else {
					missing = append(missing, n)
				}
			}
			for _, id := range in.KeyPairIds {
				if k, ok := byID[id]; ok {
					add(k)
				} else {
					missing = append(missing, id)
				}
			}
			if len(missing) == 1 {
				return keyPairNotFound(missing[0])
			}
			if len(missing) > 1 {
				return apiErr("InvalidKeyPair.NotFound", "The key pairs '%s' do not exist", strings.Join(missing, ", "))
			}
			all = pick
		}
		for _, k := range all {
			vals := keyPairFilterValues(k)
			ok, err := state.MatchWithTags(fs, fromAPITags(k.Tags), func(n string) ([]string, bool) { x, ok := vals[n]; return x, ok })
			if err != nil {
				return err
			}
			if ok {
				recs = append(recs, k)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeKeyPairsResult{KeyPairs: []ec2api.KeyPairInfo{}}
	for _, k := range recs {
		info := k.KeyPairInfo
		if !deref(in.IncludePublicKey) {
			info.PublicKey = nil
		}
		out.KeyPairs = append(out.KeyPairs, info)
	}
	return out, nil
}

// DeleteKeyPair deletes a key pair by name or ID. As in AWS, deleting one
// that does not exist succeeds.
func (s *Service) DeleteKeyPair(ctx context.Context, in *ec2api.DeleteKeyPairRequest) (*ec2api.DeleteKeyPairResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if deref(in.KeyName) == "" && deref(in.KeyPairId) == "" {
		return nil, errMissingParam("KeyName or KeyPairId")
	}
	out := &ec2api.DeleteKeyPairResult{Return: new(true)}
	err := s.update(ctx, func(t *rtx) error {
		var rec *keyPairRecord
		if id := deref(in.KeyPairId); id != "" {
			k, found, err := keyPairs.find(t, id)
			if err != nil {
				return err
			}
			if found && (in.KeyName == nil || deref(k.KeyName) == *in.KeyName) {
				rec = k
			}
		} else {
			k, err := keyPairByName(t, deref(in.KeyName))
			if err != nil && !imageIsCode(err, "InvalidKeyPair.NotFound") {
				return err
			}
			rec = k
		}
		if rec == nil {
			return nil
		}
		out.KeyPairId = rec.KeyPairId
		return keyPairs.del(t, deref(rec.KeyPairId))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
