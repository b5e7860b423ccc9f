package ec2

import (
	"context"
	"slices"
	"strconv"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// Placement groups and the account's EC2 attributes. A placement group is
// a name RunInstances' Placement.GroupName must find; minicloud runs every
// instance on one host, so the strategies (cluster, spread, partition) are
// recorded and shown, and place nothing.

type placementGroupRecord struct{ ec2api.PlacementGroup }

var placementGroups = register(&kind[placementGroupRecord]{prefix: "pg", table: state.Table[placementGroupRecord]{Service: "ec2", Kind: "placementgroup"},
	resourceType: "placement-group", noun: "Placement Group", notFound: "InvalidPlacementGroup.Unknown", malformed: "InvalidPlacementGroupId.Malformed",
	id:   func(r *placementGroupRecord) string { return deref(r.GroupId) },
	tags: func(r *placementGroupRecord) *[]ec2api.Tag { return &r.Tags }})

func placementGroupByName(t *rtx, name string) (*placementGroupRecord, error) {
	all, err := placementGroups.all(t)
	if err != nil {
		return nil, err
	}
	for _, g := range all {
		if deref(g.GroupName) == name {
			return g, nil
		}
	}
	return nil, apiErr("InvalidPlacementGroup.Unknown", "The Placement Group '%s' is unknown.", name)
}

// placementCheck is what RunInstances checks of Placement.GroupName: that
// the group exists.
func placementCheck(t *rtx, p *ec2api.Placement) error {
	if p == nil || deref(p.GroupName) == "" {
		return nil
	}
	_, err := placementGroupByName(t, *p.GroupName)
	return err
}

// CreatePlacementGroup records a placement group.
func (s *Service) CreatePlacementGroup(ctx context.Context, in *ec2api.CreatePlacementGroupRequest) (*ec2api.CreatePlacementGroupResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	name := deref(in.GroupName)
	if name == "" {
		return nil, errMissingParam("groupName")
	}
	if len(name) > 255 {
		return nil, errInvalidParam("Value (%s) for parameter groupName is invalid. Length exceeds maximum of 255.", name)
	}
	strategy := deref(in.Strategy)
	if !slices.Contains([]string{"cluster", "spread", "partition"}, strategy) {
		return nil, errInvalidParam("Value (%s) for parameter strategy is invalid. Valid values are: cluster, spread, partition.", strategy)
	}
	rec := &placementGroupRecord{ec2api.PlacementGroup{
		GroupId: new(state.NewID("pg")), GroupName: new(name), State: new("available"), Strategy: new(strategy),
	}}
	switch {
	case in.PartitionCount != nil && strategy != "partition":
		return nil, errInvalidParam("Partition count can only be specified for the partition placement strategy.")
	case strategy == "partition":
		n := int32(2)
		if in.PartitionCount != nil {
			n = *in.PartitionCount
		}
		if n < 1 || n > 7 {
			return nil, errInvalidParam("Value (%d) for parameter partitionCount is invalid. Valid values are between 1 and 7.", n)
		}
		rec.PartitionCount = new(n)
	}
	if lvl := deref(in.SpreadLevel); lvl != "" {
		if strategy != "spread" || (lvl != "host" && lvl != "rack") {
			return nil, errInvalidParam("Value (%s) for parameter spreadLevel is invalid.", lvl)
		}
		rec.SpreadLevel = new(lvl)
	} else if strategy == "spread" {
		rec.SpreadLevel = new("rack")
	}
	tags, err := tagsFor(in.TagSpecifications, "placement-group")
	if err != nil {
		return nil, err
	}
	rec.Tags = tags
	err = s.update(ctx, func(t *rtx) error {
		if _, err := placementGroupByName(t, name); err == nil {
			return apiErr("InvalidPlacementGroup.Duplicate", "The Placement Group '%s' already exists.", name)
		}
		rec.GroupArn = new("arn:aws:ec2:" + t.scope.Region + ":" + t.scope.Account + ":placement-group/" + name)
		return placementGroups.put(t, rec)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreatePlacementGroupResult{PlacementGroup: &rec.PlacementGroup}, nil
}

// DescribePlacementGroups lists placement groups by name, ID and filters.
func (s *Service) DescribePlacementGroups(ctx context.Context, in *ec2api.DescribePlacementGroupsRequest) (*ec2api.DescribePlacementGroupsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	fs := toFilters(in.Filters)
	if err := state.CheckFilterNames(fs, "group-name", "group-arn", "state", "strategy", "spread-level", "partition-count"); err != nil {
		return nil, err
	}
	values := func(g *placementGroupRecord) map[string][]string {
		m := map[string][]string{
			"group-name": one(deref(g.GroupName)), "group-arn": one(deref(g.GroupArn)), "state": one(deref(g.State)),
			"strategy": one(deref(g.Strategy)), "spread-level": one(deref(g.SpreadLevel)),
		}
		if g.PartitionCount != nil {
			m["partition-count"] = one(strconv.Itoa(int(*g.PartitionCount)))
		}
		return m
	}
	out := &ec2api.DescribePlacementGroupsResult{PlacementGroups: []ec2api.PlacementGroup{}}
	err := s.view(ctx, func(t *rtx) error {
		recs, err := placementGroups.describe(t, in.GroupIds, in.Filters, values)
		if err != nil {
			return err
		}
		for _, name := range in.GroupNames {
			if _, err := placementGroupByName(t, name); err != nil {
				return err
			}
		}
		for _, g := range recs {
			if len(in.GroupNames) == 0 || slices.Contains(in.GroupNames, deref(g.GroupName)) {
				out.PlacementGroups = append(out.PlacementGroups, g.PlacementGroup)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeletePlacementGroup deletes a placement group no live instance is in.
func (s *Service) DeletePlacementGroup(ctx context.Context, in *ec2api.DeletePlacementGroupRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	name := deref(in.GroupName)
	if name == "" {
		return nil, errMissingParam("groupName")
	}
	err := s.update(ctx, func(t *rtx) error {
		g, err := placementGroupByName(t, name)
		if err != nil {
			return err
		}
		err = instanceEach(t, func(r *instanceRecord) error {
			if instanceStateName(r) != stateTerminated && r.Placement != nil && deref(r.Placement.GroupName) == name {
				return apiErr("InvalidPlacementGroup.InUse", "The placement group '%s' is in use and may not be deleted.", name)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return placementGroups.del(t, deref(g.GroupId))
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

// accountAttributes are DescribeAccountAttributes' attributes with the
// values AWS gives an account today (EC2-VPC only); default-vpc is read
// from the region.
var accountAttributes = []struct{ name, value string }{
	{"supported-platforms", "VPC"},
	{"vpc-max-security-groups-per-interface", "5"},
	{"max-elastic-ips", "5"},
	{"max-instances", "20"},
	{"vpc-max-elastic-ips", "5"},
	{"default-vpc", ""},
}

// DescribeAccountAttributes answers the account's EC2 attributes.
func (s *Service) DescribeAccountAttributes(ctx context.Context, in *ec2api.DescribeAccountAttributesRequest) (*ec2api.DescribeAccountAttributesResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	for _, n := range in.AttributeNames {
		if !slices.ContainsFunc(accountAttributes, func(a struct{ name, value string }) bool { return a.name == n }) {
			return nil, errInvalidParam("Value (%s) for parameter attributeName is invalid. Unknown attribute name.", n)
		}
	}
	if err := s.ensureDefaultVPCExists(ctx); err != nil {
		return nil, err
	}
	defaultVPC := "none"
	err := s.view(ctx, func(t *rtx) error {
		v, err := vpcFindDefault(t)
		if v != nil {
			defaultVPC = deref(v.VpcId)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeAccountAttributesResult{AccountAttributes: []ec2api.AccountAttribute{}}
	for _, a := range accountAttributes {
		if len(in.AttributeNames) > 0 && !slices.Contains(in.AttributeNames, a.name) {
			continue
		}
		v := a.value
		if a.name == "default-vpc" {
			v = defaultVPC
		}
		out.AccountAttributes = append(out.AccountAttributes, ec2api.AccountAttribute{
			AttributeName: new(a.name), AttributeValues: []ec2api.AccountAttributeValue{{AttributeValue: new(v)}},
		})
	}
	return out, nil
}
