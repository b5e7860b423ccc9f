package sts

import (
	"context"
	"fmt"

	"github.com/minicloud/minicloud/internal/iamport"
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
	roleID := in.Role.ID
	if roleID == "" {
		roleID = roleUniqueID(in.Role.ARN)
	}
	sess := session{
		Account: in.Account,
		ARN:     fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", partitionOf(in.Role.ARN), in.Account, in.Role.Name, in.Name),
		UserID:  roleID + ":" + in.Name,
		// With IAM enforced, the instance acts with its role's policies.
		RoleARN: in.Role.ARN,
	}
	if err := i.s.issue(ctx, &sess, in.Duration); err != nil {
		return iamport.Credentials{}, err
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
