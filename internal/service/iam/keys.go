package iam

import (
	"context"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/iamapi"
	"github.com/minicloud/minicloud/internal/state"
)

// keyRec is an IAM user's access key. minicloud keeps the secret, so the
// gateway can verify the signatures made with it.
type keyRec struct {
	ID      string    `json:"id"`
	Secret  string    `json:"secret"`
	Account string    `json:"account"`
	User    string    `json:"user"` // the user's key (lower-case name)
	Status  string    `json:"status"`
	Created time.Time `json:"created"`
}

// Access keys are looked up before the caller's account is known, so all
// of them live in one scope of their own, as STS's sessions do.
var (
	accessKeys = state.Table[keyRec]{Service: "iam", Kind: "access-key"}
	keyScope   = state.Scope{Account: "any", Region: state.GlobalRegion}
)

const maxKeysPerUser = 2

// keysOf are a user's access keys.
func keysOf(tx state.Tx, account, userKey string) ([]keyRec, error) {
	var out []keyRec
	err := accessKeys.ForEach(tx, keyScope, func(_ string, k keyRec) error {
		if k.Account == account && k.User == userKey {
			out = append(out, k)
		}
		return nil
	})
	return out, err
}

// renameKeys moves a renamed user's keys to its new name.
func renameKeys(tx state.Tx, account, from, to string) error {
	ks, err := keysOf(tx, account, from)
	for _, k := range ks {
		k.User = to
		if err == nil {
			err = accessKeys.Put(tx, keyScope, k.ID, k)
		}
	}
	return err
}

func noKey(id string) error { return noSuchEntity("The Access Key with id %s cannot be found.", id) }

// CreateAccessKey issues an access key pair for a user (at most two).
func (s *Service) CreateAccessKey(ctx context.Context, in *iamapi.CreateAccessKeyRequest) (*iamapi.CreateAccessKeyResponse, error) {
	name, err := callerUser(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	var k keyRec
	var userName string
	err = s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		h, err := userKind.get(tx, sc, name)
		if err != nil {
			return err
		}
		userName = h.base().Name
		have, err := keysOf(tx, sc.Account, key(userName))
		if err != nil {
			return err
		}
		if len(have) >= maxKeysPerUser {
			return limitExceeded("Cannot exceed quota for AccessKeysPerUser: %d", maxKeysPerUser)
		}
		k = keyRec{ID: state.NewAccessKeyID("AKIA"), Secret: state.NewSecretKey(), Account: sc.Account, User: key(userName),
			Status: "Active", Created: s.stamp()}
		return accessKeys.Put(tx, keyScope, k.ID, k)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.CreateAccessKeyResponse{AccessKey: &iamapi.AccessKey{UserName: new(userName), AccessKeyId: new(k.ID),
		Status: new(k.Status), SecretAccessKey: new(k.Secret), CreateDate: new(k.Created)}}, nil
}

// ListAccessKeys lists a user's access keys, without their secrets.
func (s *Service) ListAccessKeys(ctx context.Context, in *iamapi.ListAccessKeysRequest) (*iamapi.ListAccessKeysResponse, error) {
	name, err := callerUser(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	var (
		ks       []keyRec
		userName string
	)
	err = s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		h, err := userKind.get(tx, sc, name)
		if err != nil {
			return err
		}
		userName = h.base().Name
		ks, err = keysOf(tx, sc.Account, key(userName))
		return err
	})
	if err != nil {
		return nil, err
	}
	pg, trunc, marker, err := page(ks, in.MaxItems, in.Marker, func(k keyRec) string { return k.ID })
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListAccessKeysResponse{AccessKeyMetadata: []iamapi.AccessKeyMetadata{}, IsTruncated: trunc, Marker: marker}
	for _, k := range pg {
		out.AccessKeyMetadata = append(out.AccessKeyMetadata, iamapi.AccessKeyMetadata{UserName: new(userName), AccessKeyId: new(k.ID),
			Status: new(k.Status), CreateDate: new(k.Created)})
	}
	return out, nil
}

// userKey finds a key of the named user (the caller without a name).
func (s *Service) userKey(ctx context.Context, userName *string, id string, fn func(tx state.Tx, k *keyRec) error) error {
	name, err := callerUser(ctx, userName)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		h, err := userKind.get(tx, sc, name)
		if err != nil {
			return err
		}
		k, ok, err := accessKeys.Get(tx, keyScope, id)
		if err != nil {
			return err
		}
		if !ok || k.Account != sc.Account || k.User != key(h.base().Name) {
			return noKey(id)
		}
		return fn(tx, &k)
	})
}

// UpdateAccessKey activates or deactivates an access key.
func (s *Service) UpdateAccessKey(ctx context.Context, in *iamapi.UpdateAccessKeyRequest) (*iamapi.Empty, error) {
	if st := *in.Status; st != "Active" && st != "Inactive" {
		return nil, validationError("1 validation error detected: Value '%s' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]", st)
	}
	return nil, s.userKey(ctx, in.UserName, *in.AccessKeyId, func(tx state.Tx, k *keyRec) error {
		k.Status = *in.Status
		return accessKeys.Put(tx, keyScope, k.ID, *k)
	})
}

// DeleteAccessKey deletes an access key: requests signed with it fail
// from then on.
func (s *Service) DeleteAccessKey(ctx context.Context, in *iamapi.DeleteAccessKeyRequest) (*iamapi.Empty, error) {
	return nil, s.userKey(ctx, in.UserName, *in.AccessKeyId, func(tx state.Tx, k *keyRec) error {
		return accessKeys.Delete(tx, keyScope, k.ID)
	})
}

// GetAccessKeyLastUsed answers whose key it is. minicloud does not record
// use, so it answers as AWS does for a key never used.
func (s *Service) GetAccessKeyLastUsed(ctx context.Context, in *iamapi.GetAccessKeyLastUsedRequest) (*iamapi.GetAccessKeyLastUsedResponse, error) {
	var name string
	err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		k, ok, err := accessKeys.Get(tx, keyScope, *in.AccessKeyId)
		if err != nil {
			return err
		}
		if !ok || k.Account != sc.Account {
			return noKey(*in.AccessKeyId)
		}
		u, ok, err := users.Get(tx, sc, k.User)
		if ok {
			name = u.Name
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetAccessKeyLastUsedResponse{UserName: new(name),
		AccessKeyLastUsed: &iamapi.AccessKeyLastUsed{ServiceName: new("N/A"), Region: new("N/A")}}, nil
}

// Resolve implements api.Identities for the access keys of IAM users: a
// request signed with one acts as its user. An inactive key resolves, but
// marked so that signature verification refuses it as AWS does.
func (s *Service) Resolve(ctx context.Context, accessKey string) (api.Identity, bool, error) {
	if !strings.HasPrefix(accessKey, "AKIA") {
		return api.Identity{}, false, nil
	}
	var (
		k     keyRec
		u     userRec
		found bool
	)
	err := s.store.View(ctx, func(tx state.Tx) error {
		var err error
		if k, found, err = accessKeys.Get(tx, keyScope, accessKey); err != nil || !found {
			return err
		}
		u, found, err = users.Get(tx, state.Global(k.Account), k.User)
		return err
	})
	if err != nil || !found {
		return api.Identity{}, false, err
	}
	return api.Identity{Account: k.Account, ARN: u.ARN, UserID: u.ID, Secret: k.Secret, Inactive: k.Status != "Active"}, true, nil
}
