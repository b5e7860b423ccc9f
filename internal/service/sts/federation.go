package sts

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/stsapi"
	"github.com/minicloud/minicloud/internal/lazyregexp"
)

// GetFederationToken's Name: 2 to 32 characters of the session-name set.
var federatedName = lazyregexp.New(`^[\w+=,.@-]{2,32}$`)

// GetFederationToken issues credentials for a federated user of the
// caller: arn:aws:sts::<account>:federated-user/<Name>, user ID
// <account>:<Name>. Its permissions, which enforcement applies (package
// authz), are the intersection of the caller's policies and the session
// policies passed here; with none passed it has none, as AWS documents.
// The caller must use long-term credentials: an IAM user's, or the
// account root's (allowed by AWS, though not recommended, for at most an
// hour).
func (s *Service) GetFederationToken(ctx context.Context, in *stsapi.GetFederationTokenRequest) (*stsapi.GetFederationTokenResponse, error) {
	req := api.Request(ctx)
	name := *in.Name
	switch {
	case len(name) < 2:
		return nil, validation("1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 2", name)
	case len(name) > 32:
		return nil, validation("1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must have length less than or equal to 32", name)
	case !federatedName.MatchString(name):
		return nil, validation("1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+", name)
	}
	if strings.HasPrefix(req.AccessKey, "ASIA") {
		return nil, api.Errorf(http.StatusForbidden, "AccessDenied", "Cannot call GetFederationToken with session credentials")
	}
	duration, err := callerDuration(req.Caller, in.DurationSeconds)
	if err != nil {
		return nil, err
	}
	policies, err := s.sessionPolicies(ctx, req.Account, in.Policy, in.PolicyArns)
	if err != nil {
		return nil, err
	}
	tags, err := sessionTags(in.Tags)
	if err != nil {
		return nil, err
	}
	sess := session{
		Account: req.Account,
		ARN:     fmt.Sprintf("arn:%s:sts::%s:federated-user/%s", partitionOfCaller(req.Caller), req.Account, name),
		UserID:  req.Account + ":" + name,
		// The federated user acts within its IAM user's (or the root's)
		// permissions.
		RoleARN:  req.Caller,
		Policies: policies,
		Tags:     tags,
	}
	if err := s.issue(ctx, &sess, seconds(duration)); err != nil {
		return nil, err
	}
	return &stsapi.GetFederationTokenResponse{
		Credentials:   sess.credentials(),
		FederatedUser: &stsapi.FederatedUser{FederatedUserId: new(sess.UserID), Arn: new(sess.ARN)},
	}, nil
}

// partitionOfCaller is the partition of the caller's ARN.
func partitionOfCaller(arn string) string {
	if p := strings.SplitN(arn, ":", 3); len(p) == 3 && p[1] != "" {
		return p[1]
	}
	return "aws"
}

// Messages decodes the encoded authorization failure messages that
// enforcement writes into EC2's UnauthorizedOperation (package authz).
type Messages interface {
	// Decode is the message's JSON; ok is false for a message that was
	// not encoded by this minicloud for a principal of account.
	Decode(encoded, account string) (decoded string, ok bool)
}

// WithMessages gives STS the decoder of authorization messages; without
// it every message is refused as invalid.
func (s *Service) WithMessages(m Messages) *Service {
	s.messages = m
	return s
}

// DecodeAuthorizationMessage answers the JSON behind an encoded
// authorization failure message (AWS's document: allowed, explicitDeny,
// matchedStatements, failures, context). Who may call it is enforcement's
// question (sts:DecodeAuthorizationMessage).
func (s *Service) DecodeAuthorizationMessage(ctx context.Context, in *stsapi.DecodeAuthorizationMessageRequest) (*stsapi.DecodeAuthorizationMessageResponse, error) {
	msg := *in.EncodedMessage
	if len(msg) < 1 || len(msg) > 10240 {
		return nil, validation("1 validation error detected: Value at 'encodedMessage' failed to satisfy constraint: Member must have length less than or equal to 10240")
	}
	if s.messages != nil {
		// Only for the account whose principal was refused.
		if out, ok := s.messages.Decode(msg, api.Request(ctx).Account); ok {
			return &stsapi.DecodeAuthorizationMessageResponse{DecodedMessage: new(out)}, nil
		}
	}
	return nil, api.Errorf(http.StatusBadRequest, "InvalidAuthorizationMessageException", "The message is not a valid encoded authorization message.")
}
