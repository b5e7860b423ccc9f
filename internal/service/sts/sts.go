// Package sts implements AWS Security Token Service: who the caller is
// (GetCallerIdentity) and temporary credentials for roles (AssumeRole) that
// work as credentials afterwards, through the gateway's Identities interface.
//
// It owns the "sts" part of the state store and nothing else; there is no IAM
// policy evaluation yet, so any role ARN of a valid shape may be assumed.
package sts

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/stsapi"
	"github.com/minicloud/minicloud/internal/lazyregexp"
	"github.com/minicloud/minicloud/internal/state"
)

// session is an issued set of temporary credentials.
type session struct {
	AccessKeyID  string    `json:"accessKeyId"`
	Secret       string    `json:"secret"`
	SessionToken string    `json:"sessionToken"`
	Account      string    `json:"account"`
	ARN          string    `json:"arn"`
	UserID       string    `json:"userId"`
	Expiration   time.Time `json:"expiration"`
	// Issued is when AssumeRole issued the credentials (zero for sessions
	// stored before it was kept).
	Issued time.Time `json:"issued,omitzero"`
}

// Access keys are looked up before the caller's account is known, so all
// sessions live in one scope of their own.
var (
	sessions     = state.Table[session]{Service: "sts", Kind: "session"}
	sessionScope = state.Scope{Account: "any", Region: state.GlobalRegion}
)

// Default and maximum DurationSeconds: without IAM roles yet, every role has
// AWS's default MaxSessionDuration of one hour.
const (
	defaultDuration    = 3600
	minDuration        = 900
	maxSessionDuration = 3600
)

// Service is the STS implementation.
type Service struct {
	store state.Store
	now   func() time.Time
}

// New returns the STS service over store.
func New(store state.Store) *Service {
	return &Service{store: store, now: time.Now}
}

// Handlers returns the operations for the gateway.
func (s *Service) Handlers() map[string]api.Handler { return stsapi.Handlers(s) }

// Info describes the service to the gateway.
func (s *Service) Info() *api.ServiceInfo { return stsapi.Info }

// GetCallerIdentity reports the principal the gateway resolved.
func (s *Service) GetCallerIdentity(ctx context.Context, _ *stsapi.GetCallerIdentityRequest) (*stsapi.GetCallerIdentityResponse, error) {
	req := api.Request(ctx)
	return &stsapi.GetCallerIdentityResponse{
		UserId:  new(req.CallerUserID),
		Account: new(req.Account),
		Arn:     new(req.Caller),
	}, nil
}

var (
	roleARN     = lazyregexp.New(`^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role/((?:[\x21-\x7E]+/)*)([\w+=,.@-]{1,64})$`)
	sessionName = lazyregexp.New(`^[\w+=,.@-]*$`)
)

func validation(format string, args ...any) error {
	return api.Errorf(http.StatusBadRequest, "ValidationError", format, args...)
}

// AssumeRole issues temporary credentials for the role in the role's account.
func (s *Service) AssumeRole(ctx context.Context, in *stsapi.AssumeRoleRequest) (*stsapi.AssumeRoleResponse, error) {
	arn, name := *in.RoleArn, *in.RoleSessionName
	switch {
	case len(arn) < 20:
		return nil, validation("1 validation error detected: Value '%s' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20", arn)
	case len(name) < 2:
		return nil, validation("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2", name)
	case len(name) > 64:
		return nil, validation("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64", name)
	case !sessionName.MatchString(name):
		return nil, validation("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", name)
	}
	m := roleARN.FindStringSubmatch(arn)
	if m == nil {
		return nil, validation("%s is invalid", arn)
	}
	duration := int32(defaultDuration)
	if in.DurationSeconds != nil {
		duration = *in.DurationSeconds
		if duration < minDuration {
			return nil, validation("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to %d", duration, minDuration)
		}
		if duration > maxSessionDuration {
			return nil, validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
		}
	}
	partition, account, roleName := m[1], m[2], m[4]
	roleID := roleUniqueID(arn)
	sess := session{
		AccessKeyID:  state.NewAccessKeyID("ASIA"),
		Secret:       state.NewSecretKey(),
		SessionToken: sessionToken(),
		Account:      account,
		ARN:          fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", partition, account, roleName, name),
		UserID:       roleID + ":" + name,
		Expiration:   s.now().UTC().Add(time.Duration(duration) * time.Second).Truncate(time.Second),
		Issued:       s.now().UTC().Truncate(time.Second),
	}
	if err := s.store.Update(ctx, func(tx state.Tx) error {
		return sessions.Put(tx, sessionScope, sess.AccessKeyID, sess)
	}); err != nil {
		return nil, fmt.Errorf("sts: record session: %w", err)
	}
	return &stsapi.AssumeRoleResponse{
		Credentials: &stsapi.Credentials{
			AccessKeyId:     new(sess.AccessKeyID),
			SecretAccessKey: new(sess.Secret),
			SessionToken:    new(sess.SessionToken),
			Expiration:      new(sess.Expiration),
		},
		AssumedRoleUser: &stsapi.AssumedRoleUser{AssumedRoleId: new(sess.UserID), Arn: new(sess.ARN)},
		SourceIdentity:  in.SourceIdentity,
	}, nil
}

// roleUniqueID derives a stable role ID (AROA…) from the role ARN, so every
// session of one role reports the same ID, as AWS does for one role.
func roleUniqueID(arn string) string {
	sum := sha256.Sum256([]byte(arn))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	var b strings.Builder
	b.WriteString("AROA")
	for i := 0; i < 17; i++ {
		b.WriteByte(alphabet[sum[i]%32])
	}
	return b.String()
}

// sessionToken returns an opaque token shaped like AWS's (long base64).
func sessionToken() string {
	var b strings.Builder
	b.WriteString("FwoGZXIvYXdzE")
	for b.Len() < 356 {
		b.WriteString(state.NewSecretKey())
	}
	return b.String()[:356]
}

// Resolve implements api.Identities for the credentials AssumeRole issued.
func (s *Service) Resolve(ctx context.Context, accessKey string) (api.Identity, bool, error) {
	if !strings.HasPrefix(accessKey, "ASIA") {
		return api.Identity{}, false, nil
	}
	var (
		sess  session
		found bool
	)
	err := s.store.View(ctx, func(tx state.Tx) error {
		var err error
		sess, found, err = sessions.Get(tx, sessionScope, accessKey)
		return err
	})
	if err != nil {
		return api.Identity{}, false, err
	}
	if !found {
		// AWS rejects temporary keys it never issued (or that a reset wiped);
		// falling back to the default account would hide a stale credential.
		return api.Identity{}, false, api.Errorf(http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
	}
	if s.now().After(sess.Expiration) {
		return api.Identity{}, false, api.Errorf(http.StatusBadRequest, "ExpiredToken", "The security token included in the request is expired")
	}
	return api.Identity{Account: sess.Account, ARN: sess.ARN, UserID: sess.UserID, Secret: sess.Secret, SessionToken: sess.SessionToken, Issued: sess.Issued}, true, nil
}
