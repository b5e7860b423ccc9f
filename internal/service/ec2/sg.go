package ec2

import (
	"context"
	"strings"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// CreateSecurityGroup creates a group in a VPC (the default VPC when none is
// given) with AWS's default egress rule allowing all traffic.
func (s *Service) CreateSecurityGroup(ctx context.Context, in *ec2api.CreateSecurityGroupRequest) (*ec2api.CreateSecurityGroupResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	name, desc := deref(in.GroupName), deref(in.Description)
	if in.GroupName == nil {
		return nil, errMissingParam("GroupName")
	}
	if in.Description == nil {
		return nil, errMissingParam("GroupDescription")
	}
	if err := sgValidateText("GroupName", name); err != nil {
		return nil, err
	}
	if err := sgValidateText("GroupDescription", desc); err != nil {
		return nil, err
	}
	if strings.HasPrefix(strings.ToLower(name), "sg-") {
		return nil, errInvalidParam("Group names may not be in the format sg-*.")
	}
	if name == sgDefaultName {
		return nil, errInvalidParam("Cannot use reserved security group name: default")
	}
	tags, err := tagsFor(in.TagSpecifications, "security-group", "security-group")
	if err != nil {
		return nil, err
	}
	var rec *securityGroupRecord
	err = s.update(ctx, func(t *rtx) error {
		vpcID := deref(in.VpcId)
		if vpcID == "" {
			v, err := s.ensureDefaultVPC(t)
			if err != nil {
				return err
			}
			if v == nil {
				return apiErr("VPCIdNotSpecified", "No default VPC for this user")
			}
			vpcID = deref(v.VpcId)
		} else if _, err := vpcs.get(t, vpcID); err != nil {
			return err
		}
		dup, err := sgByName(t, vpcID, name)
		if err != nil {
			return err
		}
		if dup != nil {
			return apiErr("InvalidGroup.Duplicate", "The security group '%s' already exists for VPC '%s'", name, vpcID)
		}
		id := state.NewID("sg")
		rec = &securityGroupRecord{SecurityGroup: ec2api.SecurityGroup{
			GroupId: new(id), GroupName: new(name), Description: new(desc),
			OwnerId: new(t.scope.Account), VpcId: new(vpcID), Tags: tags,
		}}
		rec.Rules = []ec2api.SecurityGroupRule{sgNewRule(t, id, true, sgPerm{proto: "-1", from: -1, to: -1, cidr4: "0.0.0.0/0"})}
		return securityGroups.put(t, rec)
	})
	if err != nil {
		return nil, err
	}
	out := &ec2api.CreateSecurityGroupResult{GroupId: rec.GroupId}
	if len(rec.Tags) > 0 {
		out.Tags = rec.Tags
	}
	return out, nil
}

// sgValidateText checks a group name or description: at most 255
// characters of a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*.
func sgValidateText(param, s string) error {
	if s == "" {
		return errInvalidParam("Invalid value '' for %s. It must not be empty.", param)
	}
	if len(s) > 255 {
		return errInvalidParam("Invalid value '%s' for %s. Length exceeds maximum of 255 characters.", s, param)
	}
	for _, c := range s {
		if c > 127 || (c < ' ') {
			return errInvalidParam("Invalid value '%s' for %s. Character sets beyond ASCII are not supported.", s, param)
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(" ._-:/()#,@[]+=&;{}!$*", c)) {
			return errInvalidParam("Invalid value '%s' for %s. Valid characters are a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*", s, param)
		}
	}
	return nil
}

// sgLookup finds the group of an operation by GroupId, or by GroupName in
// the default VPC.
func (s *Service) sgLookup(t *rtx, id, name *string) (*securityGroupRecord, error) {
	if deref(id) != "" {
		return securityGroups.get(t, *id)
	}
	if deref(name) == "" {
		return nil, errMissingParam("groupId")
	}
	v, err := s.ensureDefaultVPC(t)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, apiErr("VPCIdNotSpecified", "No default VPC for this user")
	}
	g, err := sgByName(t, deref(v.VpcId), *name)
	if err != nil {
		return nil, err
	}
	if g == nil {
		return nil, apiErr("InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC '%s'", *name, deref(v.VpcId))
	}
	return g, nil
}

// DeleteSecurityGroup deletes a group nothing depends on.
func (s *Service) DeleteSecurityGroup(ctx context.Context, in *ec2api.DeleteSecurityGroupRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if deref(in.GroupId) == "" && deref(in.GroupName) == "" {
		return nil, errMissingParam("groupName or groupId")
	}
	err := s.update(ctx, func(t *rtx) error {
		g, err := s.sgLookup(t, in.GroupId, in.GroupName)
		if err != nil {
			return err
		}
		id := deref(g.GroupId)
		if deref(g.GroupName) == sgDefaultName {
			return apiErr("CannotDelete", "the specified group: \"%s\" name: \"default\" cannot be deleted by a user", id)
		}
		used, err := sgInUseBy(t, id)
		if err != nil {
			return err
		}
		if used {
			return errDependency("resource %s has a dependent object", id)
		}
		return securityGroups.del(t, id)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

// sgFilterNames are DescribeSecurityGroups' filters besides tags.
var sgFilterNames = func() []string {
	names := []string{"description", "group-id", "group-name", "owner-id", "vpc-id"}
	for _, p := range []string{"ip-permission.", "egress.ip-permission."} {
		for _, f := range []string{"cidr", "from-port", "to-port", "protocol", "group-id", "group-name", "user-id", "prefix-list-id", "ipv6-cidr"} {
			names = append(names, p+f)
		}
	}
	return names
}()

// DescribeSecurityGroups lists groups by ID, by name (default VPC) or all,
// with filters and pagination.
func (s *Service) DescribeSecurityGroups(ctx context.Context, in *ec2api.DescribeSecurityGroupsRequest) (*ec2api.DescribeSecurityGroupsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if err := state.CheckFilterNames(toFilters(in.Filters), sgFilterNames...); err != nil {
		return nil, err
	}
	if err := s.ensureDefaultVPCExists(ctx); err != nil {
		return nil, err
	}
	var recs []*securityGroupRecord
	err := s.view(ctx, func(t *rtx) error {
		names := map[string]string{}
		all, err := securityGroups.all(t)
		if err != nil {
			return err
		}
		for _, g := range all {
			names[deref(g.GroupId)] = deref(g.GroupName)
		}
		values := func(g *securityGroupRecord) map[string][]string {
			return sgFilterValues(g, names)
		}
		recs, err = securityGroups.describe(t, in.GroupIds, in.Filters, values)
		if err != nil || len(in.GroupNames) == 0 {
			return err
		}
		v, err := vpcFindDefault(t)
		if err != nil {
			return err
		}
		defVPC := ""
		if v != nil {
			defVPC = deref(v.VpcId)
		}
		var missing []string
		picked := []*securityGroupRecord{}
		for _, n := range in.GroupNames {
			found := false
			for _, g := range recs {
				if deref(g.GroupName) == n && deref(g.VpcId) == defVPC && defVPC != "" {
					found = true
					picked = append(picked, g)
				}
			}
			if !found {
				// A named group that exists but is filtered out is no error.
				exists := false
				for _, g := range all {
					if deref(g.GroupName) == n && deref(g.VpcId) == defVPC && defVPC != "" {
						exists = true
					}
				}
				if !exists {
					missing = append(missing, n)
				}
			}
		}
		if len(missing) > 0 {
			if defVPC == "" {
				return apiErr("VPCIdNotSpecified", "No default VPC for this user")
			}
			return apiErr("InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC '%s'", strings.Join(missing, ", "), defVPC)
		}
		recs = sgDedup(picked)
		return nil
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(recs, in.MaxResults, in.NextToken, func(g *securityGroupRecord) string { return deref(g.GroupId) }, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeSecurityGroupsResult{SecurityGroups: []ec2api.SecurityGroup{}, NextToken: next}
	for _, g := range pg {
		out.SecurityGroups = append(out.SecurityGroups, sgView(g))
	}
	return out, nil
}

func sgDedup(in []*securityGroupRecord) []*securityGroupRecord {
	seen := map[string]bool{}
	out := []*securityGroupRecord{}
	for _, g := range in {
		if !seen[deref(g.GroupId)] {
			seen[deref(g.GroupId)] = true
			out = append(out, g)
		}
	}
	return out
}

// sgFilterValues returns a group's values for every supported filter;
// names maps group IDs to names for the *.group-name filters.
func sgFilterValues(g *securityGroupRecord, names map[string]string) map[string][]string {
	v := map[string][]string{
		"description": one(deref(g.Description)),
		"group-id":    one(deref(g.GroupId)),
		"group-name":  one(deref(g.GroupName)),
		"owner-id":    one(deref(g.OwnerId)),
		"vpc-id":      one(deref(g.VpcId)),
	}
	for _, n := range sgFilterNames {
		if _, ok := v[n]; !ok {
			v[n] = nil
		}
	}
	for _, r := range g.Rules {
		p := "ip-permission."
		if deref(r.IsEgress) {
			p = "egress.ip-permission."
		}
		add := func(name, val string) {
			if val != "" {
				v[p+name] = append(v[p+name], val)
			}
		}
		proto := deref(r.IpProtocol)
		add("protocol", proto)
		if sgHasPorts(proto) {
			add("from-port", sgItoa32(deref(r.FromPort)))
			add("to-port", sgItoa32(deref(r.ToPort)))
		}
		add("cidr", deref(r.CidrIpv4))
		add("ipv6-cidr", deref(r.CidrIpv6))
		add("prefix-list-id", deref(r.PrefixListId))
		if ref := r.ReferencedGroupInfo; ref != nil {
			add("group-id", deref(ref.GroupId))
			add("group-name", names[deref(ref.GroupId)])
			add("user-id", deref(ref.UserId))
		}
	}
	return v
}
