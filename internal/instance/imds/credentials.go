package imds

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/minicloud/minicloud/internal/iamport"
)

// Role credentials: AWS makes "new credentials available at least five
// minutes before the expiration of the old credentials". What AWS serves
// is valid for about six hours and replaced about every hour, so a
// client that caches them until shortly before they expire always holds
// keys that have hours left; here the same.
const (
	// CredentialLifetime is how long an instance's role credentials are
	// valid.
	CredentialLifetime = 6 * time.Hour
	// CredentialRefresh is the age after which the metadata service
	// serves new credentials.
	CredentialRefresh = time.Hour
	// CredentialMargin is the least time credentials still have to live
	// when they are replaced (AWS's "at least five minutes").
	CredentialMargin = 5 * time.Minute
)

// WithRoles lets the server answer iam/security-credentials/: profiles
// says which role an instance's profile holds now (read at every request,
// so RemoveRoleFromInstanceProfile and AddRoleToInstanceProfile are seen
// at once), issuer mints its credentials. Without it an instance with a
// profile is served iam/info only.
func WithRoles(profiles iamport.Profiles, issuer iamport.CredentialIssuer) Option {
	return func(s *Server) {
		s.roles = &roleSource{profiles: profiles, issuer: issuer, held: map[string]heldCreds{}}
	}
}

// roleSource hands out each instance's role credentials, minting new ones
// on the schedule above.
type roleSource struct {
	profiles iamport.Profiles
	issuer   iamport.CredentialIssuer

	mu   sync.Mutex
	held map[string]heldCreds // by instance ID
}

// heldCreds are the credentials an instance was last given, for one role.
type heldCreds struct {
	roleARN string
	creds   iamport.Credentials
}

// roleNow is the role of d's instance profile now; zero without a role (or
// once the profile is gone).
func (rs *roleSource) roleNow(ctx context.Context, d *InstanceData) (iamport.Role, error) {
	p, ok, err := iamport.ProfileByARN(ctx, rs.profiles, d.AccountID, d.IamInstanceProfileArn)
	if err != nil || !ok {
		return iamport.Role{}, err
	}
	return p.Role, nil
}

// due reports whether c must be replaced at now.
func due(c iamport.Credentials, now time.Time) bool {
	return !now.Before(c.Issued.Add(CredentialRefresh)) || !now.Before(c.Expiration.Add(-CredentialMargin))
}

// credentials are the role's credentials for d's instance: the ones it was
// given, until they are due, else new ones.
func (rs *roleSource) credentials(ctx context.Context, d *InstanceData, role iamport.Role, now time.Time) (iamport.Credentials, error) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if h, ok := rs.held[d.InstanceID]; ok && h.roleARN == role.ARN && !due(h.creds, now) {
		return h.creds, nil
	}
	c, err := rs.issuer.RoleCredentials(ctx, iamport.Session{Account: d.AccountID, Role: role, Name: d.InstanceID, Duration: CredentialLifetime})
	if err != nil {
		return iamport.Credentials{}, fmt.Errorf("credentials of role %s for %s: %w", role.ARN, d.InstanceID, err)
	}
	rs.held[d.InstanceID] = heldCreds{roleARN: role.ARN, creds: c}
	return c, nil
}

// lastUpdated is when d's instance was last given credentials, else zero.
func (rs *roleSource) lastUpdated(instanceID string) time.Time {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.held[instanceID].creds.Issued
}

// forget drops what was held for an instance that is gone.
func (rs *roleSource) forget(instanceID string) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	delete(rs.held, instanceID)
}

// iamView is what the iam/ tree shows of an instance with a profile: its
// role now and, when asked for, the role's credentials.
type iamView struct {
	role        string
	creds       *iamport.Credentials
	lastUpdated time.Time
}

// iamFor reads what path needs of the iam/ tree: nothing unless path is
// under meta-data/iam/ of an instance with a profile; the credentials only
// when path names them.
func (s *Server) iamFor(ctx context.Context, d *InstanceData, parts []string) (*iamView, error) {
	if s.roles == nil || d.IamInstanceProfileArn == "" || len(parts) < 3 || parts[1] != "meta-data" || parts[2] != "iam" {
		return nil, nil
	}
	role, err := s.roles.roleNow(ctx, d)
	if err != nil {
		return nil, err
	}
	if role.Name == "" {
		s.roles.forget(d.InstanceID)
		return &iamView{}, nil
	}
	v := &iamView{role: role.Name}
	if len(parts) == 5 && parts[3] == "security-credentials" && parts[4] == role.Name {
		c, err := s.roles.credentials(ctx, d, role, s.now())
		if err != nil {
			return nil, err
		}
		v.creds = &c
	}
	v.lastUpdated = s.roles.lastUpdated(d.InstanceID)
	return v, nil
}

// Forget drops the credentials held for an instance no longer served
// here, so that a long-lived listener does not keep every instance it
// ever answered.
func (s *Server) Forget(instanceID string) {
	if s.roles != nil {
		s.roles.forget(instanceID)
	}
}
