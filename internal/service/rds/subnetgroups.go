package rds

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// pageOpts is RDS's Marker/MaxRecords contract: 20 to 100, default 100.
var pageOpts = state.PageOptions{
	Min: 20, Max: 100, Default: 100, Param: "MaxRecords",
	SizeMessage: func(got, lo, hi int) string {
		return fmt.Sprintf("Invalid value %d for MaxRecords. Must be between %d and %d", got, lo, hi)
	},
	TokenCode: "InvalidParameterValue",
	TokenMessage: func(tok string) string {
		return fmt.Sprintf("Invalid marker: %s", tok)
	},
}

func validSubnetGroupName(n string) bool {
	if n == "" || len(n) > 255 || strings.EqualFold(n, "default") {
		return false
	}
	for _, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ' ' || c == '-') {
			return false
		}
	}
	return true
}

// CreateDBSubnetGroup records a group of subnets of one VPC covering at least
// two availability zones.
func (s *Service) CreateDBSubnetGroup(ctx context.Context, in *rdsapi.CreateDBSubnetGroupMessage) (*rdsapi.CreateDBSubnetGroupResult, error) {
	sc := scopeOf(ctx)
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	name := strings.ToLower(deref(in.DBSubnetGroupName))
	if !validSubnetGroupName(name) {
		return nil, errInvalidParam("The parameter DBSubnetGroupName must be provided and must not be blank or 'default', and must contain only letters, digits, periods, underscores, spaces, or hyphens.")
	}
	if len(in.SubnetIds) == 0 {
		return nil, errInvalidParam("The parameter SubnetIds must be provided.")
	}
	if s.cfg.EC2 == nil {
		return nil, api.Errorf(http.StatusBadRequest, "InvalidSubnet", "No subnets are available to minicloud's RDS (EC2 is not wired).")
	}
	var (
		vpc  string
		azs  = map[string]bool{}
		subs []rdsapi.Subnet
		ids  = slices.Compact(slices.Sorted(slices.Values(in.SubnetIds)))
	)
	for _, id := range ids {
		sn, ok, err := s.cfg.EC2.Subnet(ctx, sc.Account, sc.Region, id)
		if err != nil {
			return nil, err
		}
		v, az := sn.VPCID, sn.AvailabilityZone
		if !ok {
			return nil, api.Errorf(http.StatusBadRequest, "InvalidSubnet", "Some input subnets in :[%s] are invalid.", strings.Join(in.SubnetIds, ", "))
		}
		if vpc != "" && v != vpc {
			return nil, api.Errorf(http.StatusBadRequest, "InvalidSubnet", "Subnets in a DB subnet group must all be in the same VPC: %s is in %s, not %s.", id, v, vpc)
		}
		vpc = v
		azs[az] = true
		subs = append(subs, rdsapi.Subnet{SubnetIdentifier: ptr(id), SubnetAvailabilityZone: &rdsapi.AvailabilityZone{Name: ptr(az)}, SubnetStatus: ptr("Active")})
	}
	if len(azs) < 2 {
		return nil, api.Errorf(http.StatusBadRequest, "DBSubnetGroupDoesNotCoverEnoughAZs",
			"The DB subnet group doesn't meet Availability Zone (AZ) coverage requirement. Current AZ coverage: %s. Add subnets to cover at least 2 AZs.", strings.Join(slices.Sorted(func(yield func(string) bool) {
				for az := range azs {
					if !yield(az) {
						return
					}
				}
			}), ", "))
	}
	rec := records.SubnetGroup{
		DBSubnetGroup: rdsapi.DBSubnetGroup{
			DBSubnetGroupName:        ptr(name),
			DBSubnetGroupDescription: in.DBSubnetGroupDescription,
			VpcId:                    ptr(vpc),
			SubnetGroupStatus:        ptr("Complete"),
			Subnets:                  subs,
			DBSubnetGroupArn:         ptr(state.NewARN(sc, "rds", "subgrp:"+name).String()),
			SupportedNetworkTypes:    []string{"IPV4"},
		},
		Tags: in.Tags,
	}
	err := s.store.Update(ctx, func(tx state.Tx) error {
		_, found, err := records.SubnetGroups.Get(tx, sc, name)
		if err != nil {
			return err
		}
		if found {
			return api.Errorf(http.StatusBadRequest, "DBSubnetGroupAlreadyExists", "The DB subnet group '%s' already exists.", name)
		}
		return records.SubnetGroups.Put(tx, sc, name, rec)
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.CreateDBSubnetGroupResult{DBSubnetGroup: &rec.DBSubnetGroup}, nil
}

// DescribeDBSubnetGroups lists the groups, or the named one.
func (s *Service) DescribeDBSubnetGroups(ctx context.Context, in *rdsapi.DescribeDBSubnetGroupsMessage) (*rdsapi.DBSubnetGroupMessage, error) {
	sc := scopeOf(ctx)
	var all []rdsapi.DBSubnetGroup
	err := s.store.View(ctx, func(tx state.Tx) error {
		if in.DBSubnetGroupName != nil {
			name := strings.ToLower(*in.DBSubnetGroupName)
			rec, found, err := records.SubnetGroups.Get(tx, sc, name)
			if err != nil {
				return err
			}
			if !found {
				return errSubnetGroupNotFound(*in.DBSubnetGroupName)
			}
			all = append(all, rec.DBSubnetGroup)
			return nil
		}
		return records.SubnetGroups.ForEach(tx, sc, func(_ string, r records.SubnetGroup) error {
			all = append(all, r.DBSubnetGroup)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	page, next, err := state.Paginate(all, in.MaxRecords, deref(in.Marker), pageOpts, func(g rdsapi.DBSubnetGroup) string { return deref(g.DBSubnetGroupName) })
	if err != nil {
		return nil, err
	}
	out := &rdsapi.DBSubnetGroupMessage{DBSubnetGroups: page}
	if next != "" {
		out.Marker = ptr(next)
	}
	return out, nil
}

// DeleteDBSubnetGroup removes a group no DB instance uses.
func (s *Service) DeleteDBSubnetGroup(ctx context.Context, in *rdsapi.DeleteDBSubnetGroupMessage) (*rdsapi.Empty, error) {
	sc := scopeOf(ctx)
	name := strings.ToLower(deref(in.DBSubnetGroupName))
	err := s.store.Update(ctx, func(tx state.Tx) error {
		if name == "" {
			return errSubnetGroupNotFound(name)
		}
		_, found, err := records.SubnetGroups.Get(tx, sc, name)
		if err != nil {
			return err
		}
		if !found {
			return errSubnetGroupNotFound(deref(in.DBSubnetGroupName))
		}
		var users []string
		err = records.Instances.ForEach(tx, sc, func(id string, r records.Instance) error {
			if r.DBSubnetGroup != nil && deref(r.DBSubnetGroup.DBSubnetGroupName) == name {
				users = append(users, id)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return api.Errorf(http.StatusBadRequest, "InvalidDBSubnetGroupStateFault", "Cannot delete the subnet group '%s' because at least one database instance: %s is still using it.", name, users[0])
		}
		err = records.Clusters.ForEach(tx, sc, func(id string, c records.Cluster) error {
			if deref(c.DBSubnetGroup) == name {
				users = append(users, id)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return api.Errorf(http.StatusBadRequest, "InvalidDBSubnetGroupStateFault", "Cannot delete the subnet group '%s' because at least one database cluster: %s is still using it.", name, users[0])
		}
		return records.SubnetGroups.Delete(tx, sc, name)
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.Empty{}, nil
}
