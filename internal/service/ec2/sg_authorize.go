package ec2

import (
	"context"
	"strconv"

	"github.com/minicloud/minicloud/internal/api/ec2api"
)

func sgItoa32(n int32) string { return strconv.Itoa(int(n)) }

// sgLegacyPerms turns the top-level CidrIp/IpProtocol/FromPort/ToPort/
// SourceSecurityGroupName parameters into an IpPermission.
func sgLegacyPerms(cidr, proto *string, from, to *int32, srcName, srcOwner *string) []ec2api.IpPermission {
	if cidr == nil && proto == nil && srcName == nil {
		return nil
	}
	p := ec2api.IpPermission{IpProtocol: proto, FromPort: from, ToPort: to}
	if p.IpProtocol == nil {
		p.IpProtocol = new("-1")
	}
	if cidr != nil {
		p.IpRanges = []ec2api.IpRange{{CidrIp: cidr}}
	}
	if srcName != nil {
		p.UserIdGroupPairs = []ec2api.UserIdGroupPair{{GroupName: srcName, UserId: srcOwner}}
	}
	return []ec2api.IpPermission{p}
}

// sgAuthorize adds the permissions of one direction to group g; AWS
// rejects the whole request when any rule already exists.
func sgAuthorize(t *rtx, g *securityGroupRecord, egress bool, perms []ec2api.IpPermission, specs []ec2api.TagSpecification) ([]ec2api.SecurityGroupRule, error) {
	if len(perms) == 0 {
		return nil, errMissingParam("IpPermissions")
	}
	tags, err := tagsFor(specs, "security-group-rule", "security-group-rule")
	if err != nil {
		return nil, err
	}
	ps, err := sgPermsFrom(t, g, perms, false)
	if err != nil {
		return nil, err
	}
	id := deref(g.GroupId)
	var added []ec2api.SecurityGroupRule
	for _, p := range ps {
		for i := range g.Rules {
			if sgSame(&g.Rules[i], egress, p) {
				return nil, apiErr("InvalidPermission.Duplicate", "the specified rule \"%s\" already exists", sgDescribePerm(p))
			}
		}
		r := sgNewRule(t, id, egress, p)
		r.Tags = append([]ec2api.Tag{}, tags...)
		g.Rules = append(g.Rules, r)
		added = append(added, r)
	}
	n := 0
	for _, r := range g.Rules {
		if deref(r.IsEgress) == egress {
			n++
		}
	}
	if n > sgMaxRules {
		return nil, apiErr("RulesPerSecurityGroupLimitExceeded", "The maximum number of rules per security group has been reached.")
	}
	if err := securityGroups.put(t, g); err != nil {
		return nil, err
	}
	return added, nil
}

// sgMaxRules is AWS's default quota of rules per group and direction.
const sgMaxRules = 60

// AuthorizeSecurityGroupIngress adds inbound rules.
func (s *Service) AuthorizeSecurityGroupIngress(ctx context.Context, in *ec2api.AuthorizeSecurityGroupIngressRequest) (*ec2api.AuthorizeSecurityGroupIngressResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	perms := append(sgLegacyPerms(in.CidrIp, in.IpProtocol, in.FromPort, in.ToPort, in.SourceSecurityGroupName, in.SourceSecurityGroupOwnerId), in.IpPermissions...)
	var added []ec2api.SecurityGroupRule
	err := s.update(ctx, func(t *rtx) error {
		g, err := s.sgLookup(t, in.GroupId, in.GroupName)
		if err != nil {
			return err
		}
		added, err = sgAuthorize(t, g, false, perms, in.TagSpecifications)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.AuthorizeSecurityGroupIngressResult{Return: new(true), SecurityGroupRules: added}, nil
}

// AuthorizeSecurityGroupEgress adds outbound rules.
func (s *Service) AuthorizeSecurityGroupEgress(ctx context.Context, in *ec2api.AuthorizeSecurityGroupEgressRequest) (*ec2api.AuthorizeSecurityGroupEgressResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if deref(in.GroupId) == "" {
		return nil, errMissingParam("groupId")
	}
	perms := append(sgLegacyPerms(in.CidrIp, in.IpProtocol, in.FromPort, in.ToPort, in.SourceSecurityGroupName, in.SourceSecurityGroupOwnerId), in.IpPermissions...)
	var added []ec2api.SecurityGroupRule
	err := s.update(ctx, func(t *rtx) error {
		g, err := securityGroups.get(t, deref(in.GroupId))
		if err != nil {
			return err
		}
		added, err = sgAuthorize(t, g, true, perms, in.TagSpecifications)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.AuthorizeSecurityGroupEgressResult{Return: new(true), SecurityGroupRules: added}, nil
}

// sgRevoke removes rules of one direction by ID or by permission. In the
// default VPC unknown permissions are returned, elsewhere they are an
// InvalidPermission.NotFound error and nothing is revoked.
func (s *Service) sgRevoke(t *rtx, g *securityGroupRecord, egress bool, perms []ec2api.IpPermission, ruleIDs []string) ([]ec2api.IpPermission, error) {
	if len(perms) == 0 && len(ruleIDs) == 0 {
		return nil, errMissingParam("IpPermissions or SecurityGroupRuleIds")
	}
	if len(perms) > 0 && len(ruleIDs) > 0 {
		return nil, errCombination("The request cannot contain both 'ipPermissions' and 'securityGroupRuleIds'.")
	}
	remove := map[int]bool{}
	for _, id := range ruleIDs {
		if !sgValidRuleID(id) {
			return nil, apiErr("InvalidSecurityGroupRuleId.Malformed", "The security group rule ID '%s' is malformed", id)
		}
		found := false
		for i := range g.Rules {
			r := &g.Rules[i]
			if deref(r.SecurityGroupRuleId) == id && deref(r.IsEgress) == egress {
				remove[i], found = true, true
			}
		}
		if !found {
			return nil, apiErr("InvalidSecurityGroupRuleId.NotFound", "The security group rule ID '%s' does not exist", id)
		}
	}
	ps, err := sgPermsFrom(t, g, perms, true)
	if err != nil {
		return nil, err
	}
	var unknown []ec2api.IpPermission
	for _, p := range ps {
		found := false
		for i := range g.Rules {
			if sgSame(&g.Rules[i], egress, p) {
				remove[i], found = true, true
			}
		}
		if !found {
			unknown = append(unknown, sgPermToAPI(p))
		}
	}
	if len(unknown) > 0 {
		v, err := vpcs.get(t, deref(g.VpcId))
		if err != nil {
			return nil, err
		}
		if !deref(v.IsDefault) {
			return nil, apiErr("InvalidPermission.NotFound", "The specified rule does not exist in this security group.")
		}
	}
	kept := g.Rules[:0]
	for i, r := range g.Rules {
		if !remove[i] {
			kept = append(kept, r)
		}
	}
	g.Rules = kept
	if err := securityGroups.put(t, g); err != nil {
		return nil, err
	}
	return unknown, nil
}

func sgValidRuleID(id string) bool {
	return len(id) == len("sgr-")+17 && id[:4] == "sgr-" && sgIsHex(id[4:])
}

func sgIsHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// RevokeSecurityGroupIngress removes inbound rules.
func (s *Service) RevokeSecurityGroupIngress(ctx context.Context, in *ec2api.RevokeSecurityGroupIngressRequest) (*ec2api.RevokeSecurityGroupIngressResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	perms := append(sgLegacyPerms(in.CidrIp, in.IpProtocol, in.FromPort, in.ToPort, in.SourceSecurityGroupName, in.SourceSecurityGroupOwnerId), in.IpPermissions...)
	var unknown []ec2api.IpPermission
	err := s.update(ctx, func(t *rtx) error {
		g, err := s.sgLookup(t, in.GroupId, in.GroupName)
		if err != nil {
			return err
		}
		unknown, err = s.sgRevoke(t, g, false, perms, in.SecurityGroupRuleIds)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.RevokeSecurityGroupIngressResult{Return: new(true), UnknownIpPermissions: unknown}, nil
}

// RevokeSecurityGroupEgress removes outbound rules.
func (s *Service) RevokeSecurityGroupEgress(ctx context.Context, in *ec2api.RevokeSecurityGroupEgressRequest) (*ec2api.RevokeSecurityGroupEgressResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if deref(in.GroupId) == "" {
		return nil, errMissingParam("groupId")
	}
	perms := append(sgLegacyPerms(in.CidrIp, in.IpProtocol, in.FromPort, in.ToPort, in.SourceSecurityGroupName, in.SourceSecurityGroupOwnerId), in.IpPermissions...)
	var unknown []ec2api.IpPermission
	err := s.update(ctx, func(t *rtx) error {
		g, err := securityGroups.get(t, deref(in.GroupId))
		if err != nil {
			return err
		}
		unknown, err = s.sgRevoke(t, g, true, perms, in.SecurityGroupRuleIds)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.RevokeSecurityGroupEgressResult{Return: new(true), UnknownIpPermissions: unknown}, nil
}

// DescribeSecurityGroupRules lists rules by ID or all, with filters.
func (s *Service) DescribeSecurityGroupRules(ctx context.Context, in *ec2api.DescribeSecurityGroupRulesRequest) (*ec2api.DescribeSecurityGroupRulesResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	fs := toFilters(in.Filters)
	if err := sgCheckRuleFilters(fs); err != nil {
		return nil, err
	}
	for _, id := range in.SecurityGroupRuleIds {
		if !sgValidRuleID(id) {
			return nil, apiErr("InvalidSecurityGroupRuleId.Malformed", "The security group rule ID '%s' is malformed", id)
		}
	}
	if err := s.ensureDefaultVPCExists(ctx); err != nil {
		return nil, err
	}
	var rules []*ec2api.SecurityGroupRule
	err := s.view(ctx, func(t *rtx) error {
		all, err := securityGroups.all(t)
		if err != nil {
			return err
		}
		byID := map[string]*ec2api.SecurityGroupRule{}
		var every []*ec2api.SecurityGroupRule
		for _, g := range all {
			for i := range g.Rules {
				r := &g.Rules[i]
				byID[deref(r.SecurityGroupRuleId)] = r
				every = append(every, r)
			}
		}
		pick := every
		if len(in.SecurityGroupRuleIds) > 0 {
			pick = nil
			seen := map[string]bool{}
			for _, id := range in.SecurityGroupRuleIds {
				r, ok := byID[id]
				if !ok {
					return apiErr("InvalidSecurityGroupRuleId.NotFound", "The security group rule ID '%s' does not exist", id)
				}
				if !seen[id] {
					seen[id] = true
					pick = append(pick, r)
				}
			}
		}
		for _, r := range pick {
			ok, err := sgMatchRule(fs, r)
			if err != nil {
				return err
			}
			if ok {
				rules = append(rules, r)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(rules, in.MaxResults, in.NextToken, func(r *ec2api.SecurityGroupRule) string { return deref(r.SecurityGroupRuleId) }, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeSecurityGroupRulesResult{SecurityGroupRules: []ec2api.SecurityGroupRule{}, NextToken: next}
	for _, r := range pg {
		out.SecurityGroupRules = append(out.SecurityGroupRules, *r)
	}
	return out, nil
}
