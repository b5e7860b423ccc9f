package ec2

import (
	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

func sgCheckRuleFilters(fs []state.Filter) error {
	return state.CheckFilterNames(fs, "group-id", "security-group-rule-id")
}

func sgMatchRule(fs []state.Filter, r *ec2api.SecurityGroupRule) (bool, error) {
	vals := map[string][]string{
		"group-id":               one(deref(r.GroupId)),
		"security-group-rule-id": one(deref(r.SecurityGroupRuleId)),
	}
	return state.MatchWithTags(fs, fromAPITags(r.Tags), func(name string) ([]string, bool) {
		v, ok := vals[name]
		return v, ok
	})
}

// sgRuleTags makes security group rules (sgr-) taggable through CreateTags,
// DeleteTags and DescribeTags, though they live inside their group.
type sgRuleTags struct{}

func init() { taggables["sgr"] = sgRuleTags{} }

func (sgRuleTags) idPrefix() string { return "sgr" }
func (sgRuleTags) tagType() string  { return "security-group-rule" }

func (sgRuleTags) retag(t *rtx, id string, fn func([]ec2api.Tag) []ec2api.Tag) error {
	if !sgValidRuleID(id) {
		return apiErr("InvalidSecurityGroupRuleId.Malformed", "The security group rule ID '%s' is malformed", id)
	}
	all, err := securityGroups.all(t)
	if err != nil {
		return err
	}
	for _, g := range all {
		for i := range g.Rules {
			if deref(g.Rules[i].SecurityGroupRuleId) == id {
				g.Rules[i].Tags = fn(g.Rules[i].Tags)
				return securityGroups.put(t, g)
			}
		}
	}
	return apiErr("InvalidSecurityGroupRuleId.NotFound", "The security group rule ID '%s' does not exist", id)
}

func (sgRuleTags) eachTagged(t *rtx, fn func(id string, tags []ec2api.Tag) error) error {
	return securityGroups.table.ForEach(t.tx, t.scope, func(_ string, g securityGroupRecord) error {
		for _, r := range g.Rules {
			if err := fn(deref(r.SecurityGroupRuleId), r.Tags); err != nil {
				return err
			}
		}
		return nil
	})
}
