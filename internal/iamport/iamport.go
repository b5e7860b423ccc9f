// Package iamport is IAM and STS as the other services see them: what EC2
// needs to check the instance profile a request names (RunInstances,
// AssociateIamInstanceProfile), and what the metadata service needs to hand
// an instance its role's credentials — the profile's role as it is now,
// and temporary credentials for that role minted by STS. IAM implements
// Profiles (iam.Service.Profiles), STS implements CredentialIssuer
// (sts.Service.RoleCredentials); the server hands them over at
// construction, so neither EC2 nor the instance runtime imports IAM's or
// STS's package.
package iamport

import (
	"context"
	"strings"
	"time"
)

// Profile is an instance profile and the role in it.
type Profile struct {
	Name, Path string
	// ID is the profile's unique ID (AIPA…), ARN its ARN.
	ID, ARN string
	// Role is the profile's role; zero when the profile holds none.
	Role Role
}

// Role is a role as an instance runs as it.
type Role struct {
	Name string
	// ID is the role's unique ID (AROA…), ARN its ARN.
	ID, ARN string
}

// Profiles looks instance profiles up. Lookups answer found=false for a
// profile that does not exist in the account.
type Profiles interface {
	// ProfileByName looks a profile up by its name.
	ProfileByName(ctx context.Context, account, name string) (p Profile, found bool, err error)
}

// ProfileByARN looks the profile an ARN names up: by its name (the ARN's
// last element), found only when the profile's ARN is exactly arn (the same
// account and path).
func ProfileByARN(ctx context.Context, ps Profiles, account, arn string) (Profile, bool, error) {
	name := NameFromARN(arn)
	if name == "" {
		return Profile{}, false, nil
	}
	p, ok, err := ps.ProfileByName(ctx, account, name)
	if err != nil || !ok || p.ARN != arn {
		return Profile{}, false, err
	}
	return p, true, nil
}

// NameFromARN is the profile name of an instance profile ARN
// (arn:aws:iam::<account>:instance-profile/<path><name>), "" when arn is
// not one.
func NameFromARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || !strings.HasPrefix(parts[5], "instance-profile/") {
		return ""
	}
	res := parts[5]
	return res[strings.LastIndexByte(res, '/')+1:]
}

// Session asks for a role's temporary credentials.
type Session struct {
	Account string
	Role    Role
	// Name is the session's name: the instance ID for an instance's role,
	// as AWS names it (arn:aws:sts::<account>:assumed-role/<role>/<i-…>).
	Name string
	// Duration is how long the credentials are valid.
	Duration time.Duration
}

// Credentials are temporary credentials for a role session.
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	// Issued is when they were minted, Expiration when they stop working.
	Issued, Expiration time.Time
}

// CredentialIssuer mints temporary credentials for a role session, which
// the gateway resolves to the assumed role (as AssumeRole's are). It does
// not evaluate the role's trust policy: EC2 assumes an instance's role on
// the instance's behalf.
type CredentialIssuer interface {
	RoleCredentials(ctx context.Context, s Session) (Credentials, error)
}
