package iam

import (
	"context"
	"slices"

	"github.com/minicloud/minicloud/internal/api/iamapi"
	"github.com/minicloud/minicloud/internal/state"
)

// aliasRec is an account's alias; aliases are unique across accounts, so
// they are kept in the access keys' shared scope, by alias.
type aliasRec struct {
	Account string `json:"account"`
}

var aliases = state.Table[aliasRec]{Service: "iam", Kind: "alias"}

func accountAlias(tx state.Tx, account string) (string, error) {
	var out string
	err := aliases.ForEach(tx, keyScope, func(alias string, a aliasRec) error {
		if a.Account == account {
			out = alias
		}
		return nil
	})
	return out, err
}

// CreateAccountAlias sets the account's alias (an account has one; a new
// one replaces it).
func (s *Service) CreateAccountAlias(ctx context.Context, in *iamapi.CreateAccountAliasRequest) (*iamapi.Empty, error) {
	alias := *in.AccountAlias
	if len(alias) < 3 || len(alias) > 63 || !aliasPattern.MatchString(alias) {
		return nil, validationError("1 validation error detected: Value '%s' at 'accountAlias' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$", alias)
	}
	return nil, s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		a, ok, err := aliases.Get(tx, keyScope, alias)
		if err != nil {
			return err
		}
		if ok {
			if a.Account == sc.Account {
				return nil
			}
			return alreadyExists("The account alias %s already exists.", alias)
		}
		old, err := accountAlias(tx, sc.Account)
		if err != nil {
			return err
		}
		if old != "" {
			if err := aliases.Delete(tx, keyScope, old); err != nil {
				return err
			}
		}
		return aliases.Put(tx, keyScope, alias, aliasRec{Account: sc.Account})
	})
}

// DeleteAccountAlias removes the account's alias.
func (s *Service) DeleteAccountAlias(ctx context.Context, in *iamapi.DeleteAccountAliasRequest) (*iamapi.Empty, error) {
	return nil, s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		a, ok, err := aliases.Get(tx, keyScope, *in.AccountAlias)
		if err != nil {
			return err
		}
		if !ok || a.Account != sc.Account {
			return noSuchEntity("The account alias %s cannot be found.", *in.AccountAlias)
		}
		return aliases.Delete(tx, keyScope, *in.AccountAlias)
	})
}

// ListAccountAliases lists the account's alias (none or one).
func (s *Service) ListAccountAliases(ctx context.Context, in *iamapi.ListAccountAliasesRequest) (*iamapi.ListAccountAliasesResponse, error) {
	var list []string
	err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		a, err := accountAlias(tx, sc.Account)
		if a != "" {
			list = append(list, a)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	pg, trunc, marker, err := page(list, in.MaxItems, in.Marker, self)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListAccountAliasesResponse{AccountAliases: pg, IsTruncated: trunc, Marker: marker}, nil
}

// GetAccountSummary answers the account's entity counts and IAM's default
// quotas.
func (s *Service) GetAccountSummary(ctx context.Context, _ *iamapi.Empty) (*iamapi.GetAccountSummaryResponse, error) {
	m := map[string]int32{
		"UsersQuota": 5000, "GroupsQuota": 300, "RolesQuota": 1000, "PoliciesQuota": 1500, "InstanceProfilesQuota": 1000,
		"ServerCertificates": 0, "ServerCertificatesQuota": 20, "AccountMFAEnabled": 0, "AccountAccessKeysPresent": 0,
		"AccountSigningCertificatesPresent": 0, "MFADevices": 0, "MFADevicesInUse": 0,
		"GroupsPerUserQuota": 10, "AttachedPoliciesPerUserQuota": 10, "AttachedPoliciesPerGroupQuota": 10,
		"AttachedPoliciesPerRoleQuota": 10, "PolicySizeQuota": managedPolicyQuota, "PolicyVersionsInUseQuota": 10000,
		"VersionsPerPolicyQuota": maxPolicyVersions, "UserPolicySizeQuota": 2048, "GroupPolicySizeQuota": 5120,
		"RolePolicySizeQuota": 10240, "AccessKeysPerUserQuota": maxKeysPerUser, "SigningCertificatesPerUserQuota": 2,
		"AssumeRolePolicySizeQuota": trustPolicyQuota, "GlobalEndpointTokenVersion": 1,
	}
	err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		for name, n := range map[string]func() (int, error){
			"Users":            func() (int, error) { l, err := users.List(tx, sc); return len(l), err },
			"Groups":           func() (int, error) { l, err := groups.List(tx, sc); return len(l), err },
			"Roles":            func() (int, error) { l, err := roles.List(tx, sc); return len(l), err },
			"Policies":         func() (int, error) { l, err := policies.List(tx, sc); return len(l), err },
			"InstanceProfiles": func() (int, error) { l, err := profiles.List(tx, sc); return len(l), err },
			"Providers":        func() (int, error) { l, err := oidcProviders.List(tx, sc); return len(l), err },
			"PolicyVersionsInUse": func() (int, error) {
				u, err := usage(tx, sc)
				return len(u), err
			},
		} {
			c, err := n()
			if err != nil {
				return err
			}
			m[name] = int32(c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetAccountSummaryResponse{SummaryMap: m}, nil
}

// GetAccountAuthorizationDetails answers every user, group, role and
// managed policy in use of the account with their policies, in pages.
func (s *Service) GetAccountAuthorizationDetails(ctx context.Context, in *iamapi.GetAccountAuthorizationDetailsRequest) (*iamapi.GetAccountAuthorizationDetailsResponse, error) {
	want := func(f string) bool { return len(in.Filter) == 0 || slices.Contains(in.Filter, f) }
	// One list of every entity answered, each a closure writing its
	// detail, so that the pages cut across kinds as AWS's do.
	type entry struct {
		key   string
		write func(out *iamapi.GetAccountAuthorizationDetailsResponse)
	}
	var entries []entry
	err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		u, err := usage(tx, sc)
		if err != nil {
			return err
		}
		if want("User") {
			all, err := users.List(tx, sc)
			if err != nil {
				return err
			}
			for _, x := range all {
				d := iamapi.UserDetail{Path: new(x.Path), UserName: new(x.Name), UserId: new(x.ID), Arn: new(x.ARN), CreateDate: new(x.Created),
					UserPolicyList: inlineDetails(x.Inline), GroupList: []string{}, PermissionsBoundary: wireBoundary(x.Boundary), Tags: wireTags(x.Tags)}
				if d.AttachedManagedPolicies, err = attachedOf(tx, sc, &x, nil); err != nil {
					return err
				}
				for _, gk := range x.Groups {
					if g, ok, err := groups.Get(tx, sc, gk); err == nil && ok {
						d.GroupList = append(d.GroupList, g.Name)
					}
				}
				entries = append(entries, entry{"1" + key(x.Name), func(o *iamapi.GetAccountAuthorizationDetailsResponse) { o.UserDetailList = append(o.UserDetailList, d) }})
			}
		}
		if want("Group") {
			all, err := groups.List(tx, sc)
			if err != nil {
				return err
			}
			for _, x := range all {
				d := iamapi.GroupDetail{Path: new(x.Path), GroupName: new(x.Name), GroupId: new(x.ID), Arn: new(x.ARN), CreateDate: new(x.Created),
					GroupPolicyList: inlineDetails(x.Inline)}
				if d.AttachedManagedPolicies, err = attachedOf(tx, sc, &x, nil); err != nil {
					return err
				}
				entries = append(entries, entry{"2" + key(x.Name), func(o *iamapi.GetAccountAuthorizationDetailsResponse) {
					o.GroupDetailList = append(o.GroupDetailList, d)
				}})
			}
		}
		if want("Role") {
			all, err := roles.List(tx, sc)
			if err != nil {
				return err
			}
			for _, x := range all {
				d := iamapi.RoleDetail{Path: new(x.Path), RoleName: new(x.Name), RoleId: new(x.ID), Arn: new(x.ARN), CreateDate: new(x.Created),
					AssumeRolePolicyDocument: encodeDoc(x.Trust), RolePolicyList: inlineDetails(x.Inline), PermissionsBoundary: wireBoundary(x.Boundary),
					Tags: wireTags(x.Tags), RoleLastUsed: &iamapi.RoleLastUsed{}}
				if d.AttachedManagedPolicies, err = attachedOf(tx, sc, &x, nil); err != nil {
					return err
				}
				ps, err := profilesOf(tx, sc, key(x.Name))
				if err != nil {
					return err
				}
				if d.InstanceProfileList, err = wireProfiles(tx, sc, ps); err != nil {
					return err
				}
				entries = append(entries, entry{"3" + key(x.Name), func(o *iamapi.GetAccountAuthorizationDetailsResponse) { o.RoleDetailList = append(o.RoleDetailList, d) }})
			}
		}
		var ps []*policyRec
		if want("LocalManagedPolicy") {
			all, err := policies.List(tx, sc)
			if err != nil {
				return err
			}
			for i := range all {
				ps = append(ps, &all[i])
			}
		}
		if want("AWSManagedPolicy") {
			// Only AWS's policies the account uses, as AWS answers.
			for arn, p := range awsPolicies() {
				if u[arn] != nil {
					ps = append(ps, p)
				}
			}
		}
		for _, p := range ps {
			w := p.wire(u[p.ARN])
			d := iamapi.ManagedPolicyDetail{PolicyName: w.PolicyName, PolicyId: w.PolicyId, Arn: w.Arn, Path: w.Path, DefaultVersionId: w.DefaultVersionId,
				AttachmentCount: w.AttachmentCount, PermissionsBoundaryUsageCount: w.PermissionsBoundaryUsageCount, IsAttachable: w.IsAttachable,
				Description: w.Description, CreateDate: w.CreateDate, UpdateDate: w.UpdateDate}
			for i := range p.Versions {
				d.PolicyVersionList = append(d.PolicyVersionList, *p.wireVersion(&p.Versions[i]))
			}
			entries = append(entries, entry{"4" + p.ARN, func(o *iamapi.GetAccountAuthorizationDetailsResponse) { o.Policies = append(o.Policies, d) }})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pg, trunc, marker, err := page(entries, in.MaxItems, in.Marker, func(e entry) string { return e.key })
	if err != nil {
		return nil, err
	}
	out := &iamapi.GetAccountAuthorizationDetailsResponse{UserDetailList: []iamapi.UserDetail{}, GroupDetailList: []iamapi.GroupDetail{},
		RoleDetailList: []iamapi.RoleDetail{}, Policies: []iamapi.ManagedPolicyDetail{}, IsTruncated: trunc, Marker: marker}
	for _, e := range pg {
		e.write(out)
	}
	return out, nil
}

func inlineDetails(m map[string]string) []iamapi.PolicyDetail {
	out := []iamapi.PolicyDetail{}
	for _, n := range sortedKeys(m) {
		out = append(out, iamapi.PolicyDetail{PolicyName: new(n), PolicyDocument: encodeDoc(m[n])})
	}
	return out
}
