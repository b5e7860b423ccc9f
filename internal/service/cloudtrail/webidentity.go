package cloudtrail

import (
	"strings"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/stsapi"
)

// webIdentityOf is the userIdentity of an unsigned
// AssumeRoleWithWebIdentity call and the account it is recorded in, the
// role's (no access key names one): AWS writes such a caller as
// WebIdentityUser — its principalId the provider, the audience and the
// subject joined by ":", its userName the subject, its identityProvider
// the provider — known once the call succeeded.
func webIdentityOf(c *api.Call) (userIdentity, string, bool) {
	in, ok := c.Input.(*stsapi.AssumeRoleWithWebIdentityRequest)
	if !ok || c.Info.AccessKey != "" || in.RoleArn == nil {
		return userIdentity{}, "", false
	}
	account := c.Info.Account
	if p := strings.SplitN(*in.RoleArn, ":", 6); len(p) == 6 && len(p[4]) == 12 {
		account = p[4]
	}
	id := userIdentity{Type: "WebIdentityUser"}
	if out, ok := c.Output.(*stsapi.AssumeRoleWithWebIdentityResponse); ok && out.Provider != nil && out.Audience != nil && out.SubjectFromWebIdentityToken != nil {
		sub := *out.SubjectFromWebIdentityToken
		id.PrincipalID = *out.Provider + ":" + *out.Audience + ":" + sub
		id.UserName, id.IdentityProvider = sub, *out.Provider
	}
	return id, account, true
}
