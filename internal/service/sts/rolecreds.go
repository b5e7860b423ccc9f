package sts

import (
	"context"
	"fmt"
	"time"

	"github.com/minicloud/minicloud/internal/iamport"
	"github.com/minicloud/minicloud/internal/state"
)

// RoleCredentials is STS as the metadata service sees it (iamport): the
// temporary credentials EC2 hands an instance for its profile's role.
func (s *Service) RoleCredentials() iamport.CredentialIssuer { return issuer{s} }

type issuer struct{ s *Service }

// RoleCredentials mints a session of the role named after the instance
// (arn:aws:sts::<account>:assumed-role/<role>/<session>, user ID
// <role ID>:<session>), recorded as AssumeRole's are so that the gateway
// resolves its key. AWS assumes an instance's role for it, so neither the
// trust policy nor the role's MaxSessionDuration applies.
func (i issuer) RoleCredentials(ctx context.Context, in iamport.Session) (iamport.Credentials, error) {
	now := i.s.now().UTC().Truncate(time.Second)
	roleID := in.Role.ID
	if roleID == "" {
		roleID = roleUniqueID(in.Role.ARN)
	}
	sess := session{
		AccessKeyID:  state.NewAccessKeyID("ASIA"),
		Secret:       state.NewSecretKey(),
		SessionToken: sessionToken(),
		Account:      in.Account,
		ARN:          fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", partitionOf(in.Role.ARN), in.Account, in.Role.Name, in.Name),
		UserID:       roleID + ":" + in.Name,
		Expiration:   now.Add(in.Duration),
		Issued:       now,
	}
	if err := i.s.store.Update(ctx, func(tx state.Tx) error {
		if i.s.prune.due(now) {
			if err := pruneExpired(tx, now); err != nil {
				return err
			}
		}
		return sessions.Put(tx, sessionScope, sess.AccessKeyID, sess)
	}); err != nil {
		return iamport.Credentials{}, fmt.Errorf("sts: record the session of %s: %w", in.Role.ARN, err)
	}
	return iamport.Credentials{AccessKeyID: sess.AccessKeyID, SecretAccessKey: sess.Secret, SessionToken: sess.SessionToken,
		Issued: sess.Issued, Expiration: sess.Expiration}, nil
}

// partitionOf is the partition an ARN names (aws when it names none).
func partitionOf(arn string) string {
	if m := roleARN.FindStringSubmatch(arn); m != nil {
		return m[1]
	}
	return "aws"
}
