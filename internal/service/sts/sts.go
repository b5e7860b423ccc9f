// Package sts implements AWS Security Token Service: who the caller is
// (GetCallerIdentity), temporary credentials for roles (AssumeRole,
// AssumeRoleWithWebIdentity), for the caller itself (GetSessionToken) and
// for its federated users (GetFederationToken) that work as credentials
// afterwards, through the gateway's Identities interface; and
// DecodeAuthorizationMessage.
//
// AssumeRoleWithWebIdentity (webidentity.go) is unsigned, as on AWS: the
// token is checked against the role's account's OIDC providers and its
// issuer's keys (the Federation port: IAM's providers and trust policies,
// internal/oidc's keys — only minicloud's own issuer's are reachable
// offline; any other issuer's token is refused, never accepted
// unverified), then the role's trust policy is evaluated here with the
// provider as a Federated principal and its condition keys. A federated
// user (federation.go) is arn:aws:sts::<account>:federated-user/<name>,
// whose session keeps the IAM user's ARN as RoleARN so that enforcement
// evaluates the user's policies intersected with the session's.
// AssumeRoleWithSAML is answered NotImplemented: there are no SAML
// providers.
//
// It owns the "sts" part of the state store and nothing else. Roles are
// IAM's, reached through the Roles port: AssumeRole refuses a role that
// does not exist (as AWS does, AccessDenied, whether or not IAM is
// enforced), takes the role's ID and MaxSessionDuration, and keeps the
// session's policies (Policy, PolicyArns' documents as they are when the
// session is issued), tags and source identity with the session, for the
// gateway's enforcement to apply (package authz). Whether the caller may
// assume the role — its trust policy and the caller's own policies — is
// decided there, before AssumeRole runs, when IAM is enforced. Without a
// Roles port (New(store, nil)) any role ARN of a valid
// shape may be assumed, with a derived ID and a one-hour maximum.
package sts

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/stsapi"
	"github.com/minicloud/minicloud/internal/iampolicy"
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
	// RoleARN is the role's ARN with its path; Policies the session
	// policy documents; Tags the session tags.
	RoleARN        string            `json:"roleArn,omitempty"`
	Policies       []string          `json:"policies,omitempty"`
	Tags           map[string]string `json:"tags,omitempty"`
	SourceIdentity string            `json:"sourceIdentity,omitempty"`
}

// Access keys are looked up before the caller's account is known, so all
// sessions live in one scope of their own.
var (
	sessions     = state.Table[session]{Service: "sts", Kind: "session"}
	sessionScope = state.Scope{Account: "any", Region: state.GlobalRegion}
)

// Default and minimum DurationSeconds, and the maximum of a role that is
// not known (AWS's default MaxSessionDuration, one hour).
const (
	defaultDuration    = 3600
	minDuration        = 900
	maxSessionDuration = 3600
)

// Role is what STS needs of an IAM role.
type Role struct {
	ARN        string // with its path
	ID         string // AROA…
	MaxSession int32
}

// Roles is STS's port to IAM.
type Roles interface {
	// Role finds a role by ARN; found is false when it does not exist.
	Role(ctx context.Context, arn string) (r Role, found bool, err error)
	// PolicyDocument is a managed policy's default version, as account
	// sees it; found is false when there is no such policy.
	PolicyDocument(ctx context.Context, account, arn string) (doc string, found bool, err error)
}

// Service is the STS implementation.
type Service struct {
	store state.Store
	now   func() time.Time
	roles Roles
	prune pruner
	// federation answers web identities' providers and keys (nil: none).
	federation Federation
	// messages decodes EC2's encoded authorization messages (nil: none).
	messages Messages
}

// New returns the STS service over store, its roles IAM's (nil: any role
// ARN is accepted, see the package documentation).
func New(store state.Store, roles Roles) *Service {
	return &Service{store: store, now: time.Now, roles: roles}
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

// checkRoleRequest validates what every AssumeRole* names: the role ARN
// (its parts: partition, account, path, name), the session name and the
// duration's lower bound.
func checkRoleRequest(arn, name string, duration *int32) ([]string, error) {
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
	if duration != nil && *duration < minDuration {
		return nil, validation("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to %d", *duration, minDuration)
	}
	return m, nil
}

// AssumeRole issues temporary credentials for the role in the role's account.
func (s *Service) AssumeRole(ctx context.Context, in *stsapi.AssumeRoleRequest) (*stsapi.AssumeRoleResponse, error) {
	arn, name := *in.RoleArn, *in.RoleSessionName
	m, err := checkRoleRequest(arn, name, in.DurationSeconds)
	if err != nil {
		return nil, err
	}
	role, err := s.role(ctx, arn)
	if err != nil {
		return nil, err
	}
	duration, err := roleDuration(in.DurationSeconds, role)
	if err != nil {
		return nil, err
	}
	policies, err := s.sessionPolicies(ctx, m[2], in.Policy, in.PolicyArns)
	if err != nil {
		return nil, err
	}
	tags, err := sessionTags(in.Tags)
	if err != nil {
		return nil, err
	}
	sess := roleSession(m, role, name, policies)
	sess.Tags, sess.SourceIdentity = tags, deref(in.SourceIdentity)
	if err := s.issue(ctx, &sess, seconds(duration)); err != nil {
		return nil, err
	}
	return &stsapi.AssumeRoleResponse{
		Credentials:     sess.credentials(),
		AssumedRoleUser: &stsapi.AssumedRoleUser{AssumedRoleId: new(sess.UserID), Arn: new(sess.ARN)},
		SourceIdentity:  in.SourceIdentity,
	}, nil
}

// roleDuration is an AssumeRole*'s DurationSeconds: an hour by default,
// at most the role's MaxSessionDuration.
func roleDuration(in *int32, role Role) (int32, error) {
	if in == nil {
		return defaultDuration, nil
	}
	if *in > role.MaxSession {
		return 0, validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	return *in, nil
}

// roleSession is a session of role named name, the role ARN's parts in m
// (checkRoleRequest's): arn:<partition>:sts::<account>:assumed-role/<role
// name, without its path>/<name>, user ID <role ID>:<name>.
func roleSession(m []string, role Role, name string, policies []string) session {
	partition, account, roleName := m[1], m[2], m[4]
	return session{
		RoleARN:  role.ARN,
		Policies: policies,
		Account:  account,
		ARN:      fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", partition, account, roleName, name),
		UserID:   role.ID + ":" + name,
	}
}

// callerDuration is the DurationSeconds of credentials for the caller
// itself (GetSessionToken, GetFederationToken): 15 minutes to 36 hours,
// 12 by default; the root user's are cut to an hour.
func callerDuration(caller string, in *int32) (int32, error) {
	duration, max := int32(sessionTokenDefault), int32(sessionTokenMax)
	if strings.HasSuffix(caller, ":root") {
		duration, max = rootSessionMax, rootSessionMax
	}
	if in == nil {
		return duration, nil
	}
	switch d := *in; {
	case d < minDuration:
		return 0, validation("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to %d", d, minDuration)
	case d > sessionTokenMax:
		return 0, validation("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to %d", d, sessionTokenMax)
	}
	return min(*in, max), nil
}

// issue completes a session with new keys that expire after d, and
// records it (deleting the long-expired sessions when that is due).
func (s *Service) issue(ctx context.Context, sess *session, d time.Duration) error {
	now := s.now().UTC().Truncate(time.Second)
	sess.AccessKeyID, sess.Secret, sess.SessionToken = state.NewAccessKeyID("ASIA"), state.NewSecretKey(), sessionToken()
	sess.Expiration, sess.Issued = now.Add(d), now
	if err := s.store.Update(ctx, func(tx state.Tx) error {
		if s.prune.due(now) {
			if err := pruneExpired(tx, now); err != nil {
				return err
			}
		}
		return sessions.Put(tx, sessionScope, sess.AccessKeyID, *sess)
	}); err != nil {
		return fmt.Errorf("sts: record the session of %s: %w", sess.ARN, err)
	}
	return nil
}

// credentials are a session's keys as STS answers them.
func (sess *session) credentials() *stsapi.Credentials {
	return &stsapi.Credentials{AccessKeyId: new(sess.AccessKeyID), SecretAccessKey: new(sess.Secret),
		SessionToken: new(sess.SessionToken), Expiration: new(sess.Expiration)}
}

func seconds(n int32) time.Duration { return time.Duration(n) * time.Second }

// GetSessionToken's DurationSeconds: an IAM user's sessions last 15
// minutes to 36 hours (12 by default), the root user's at most one hour.
const (
	sessionTokenDefault = 43200
	sessionTokenMax     = 129600
	rootSessionMax      = 3600
)

// GetSessionToken issues temporary credentials that act as the caller (an
// IAM user or the root user) with its own permissions. Callers with
// temporary credentials may not, as in AWS. MFA (SerialNumber,
// TokenCode) is not checked.
func (s *Service) GetSessionToken(ctx context.Context, in *stsapi.GetSessionTokenRequest) (*stsapi.GetSessionTokenResponse, error) {
	req := api.Request(ctx)
	if strings.HasPrefix(req.AccessKey, "ASIA") {
		return nil, api.Errorf(http.StatusForbidden, "AccessDenied", "Cannot call GetSessionToken with session credentials")
	}
	duration, err := callerDuration(req.Caller, in.DurationSeconds)
	if err != nil {
		return nil, err
	}
	sess := session{Account: req.Account, ARN: req.Caller, UserID: req.CallerUserID}
	if err := s.issue(ctx, &sess, seconds(duration)); err != nil {
		return nil, err
	}
	return &stsapi.GetSessionTokenResponse{Credentials: sess.credentials()}, nil
}

// role is the role an AssumeRole names: IAM's, which must exist, or
// without IAM one derived from the ARN.
func (s *Service) role(ctx context.Context, arn string) (Role, error) {
	if s.roles == nil {
		return Role{ARN: arn, ID: roleUniqueID(arn), MaxSession: maxSessionDuration}, nil
	}
	r, found, err := s.roles.Role(ctx, arn)
	if err != nil {
		return Role{}, fmt.Errorf("sts: role %s: %w", arn, err)
	}
	if !found {
		// AWS does not tell a missing role from one the caller may not
		// assume.
		return Role{}, api.Errorf(http.StatusForbidden, "AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", api.Request(ctx).Caller, arn)
	}
	return r, nil
}

// Session policy limits (STS quotas): the inline policy up to 2,048
// characters, ten managed policy ARNs, 50 session tags.
const (
	maxInlineSessionPolicy = 2048
	maxPolicyArns          = 10
	maxSessionTags         = 50
)

// sessionPolicies are the documents that scope the session down: the
// inline Policy, validated as a session policy, and PolicyArns' current
// documents.
func (s *Service) sessionPolicies(ctx context.Context, account string, policy *string, arns []stsapi.PolicyDescriptorType) ([]string, error) {
	var docs []string
	if policy != nil {
		doc := *policy
		if len(doc) > maxInlineSessionPolicy {
			return nil, validation("1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length less than or equal to %d", maxInlineSessionPolicy)
		}
		if _, err := iampolicy.Parse(doc, iampolicy.Session); err != nil {
			var m *iampolicy.MalformedPolicyError
			if errors.As(err, &m) {
				return nil, api.Errorf(http.StatusBadRequest, "MalformedPolicyDocument", "%s", m.Message)
			}
			return nil, err
		}
		docs = append(docs, doc)
	}
	if len(arns) > maxPolicyArns {
		return nil, validation("1 validation error detected: Value at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to %d", maxPolicyArns)
	}
	for _, pa := range arns {
		arn := deref(pa.Arn)
		if s.roles == nil {
			continue
		}
		doc, found, err := s.roles.PolicyDocument(ctx, account, arn)
		if err != nil {
			return nil, fmt.Errorf("sts: session policy %s: %w", arn, err)
		}
		if !found {
			return nil, api.Errorf(http.StatusBadRequest, "InvalidParameterValue", "The policy %s does not exist or is not attachable.", arn)
		}
		docs = append(docs, doc)
	}
	return docs, nil
}

// sessionTags are AssumeRole's Tags: at most 50, keys unique whatever
// their case.
func sessionTags(in []stsapi.Tag) (map[string]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	if len(in) > maxSessionTags {
		return nil, validation("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to %d", maxSessionTags)
	}
	out := make(map[string]string, len(in))
	seen := map[string]bool{}
	for _, t := range in {
		k := deref(t.Key)
		if seen[strings.ToLower(k)] {
			return nil, api.Errorf(http.StatusBadRequest, "InvalidParameterValue", "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[strings.ToLower(k)] = true
		out[k] = deref(t.Value)
	}
	return out, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
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
	return api.Identity{Account: sess.Account, ARN: sess.ARN, UserID: sess.UserID, Secret: sess.Secret, SessionToken: sess.SessionToken, Issued: sess.Issued,
		RoleARN: sess.RoleARN, SessionPolicies: sess.Policies, SessionTags: sess.Tags, SourceIdentity: sess.SourceIdentity}, true, nil
}
