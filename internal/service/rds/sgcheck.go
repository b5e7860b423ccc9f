package rds

import (
	"context"

	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// checkGroups verifies that every group exists and is in the DB instance's
// VPC (when it has one), as AWS does on CreateDBInstance and
// ModifyDBInstance.
func (s *Service) checkGroups(ctx context.Context, sc state.Scope, vpcID string, ids []string) error {
	if s.cfg.EC2 == nil || len(ids) == 0 {
		return nil
	}
	for _, id := range ids {
		v, found, err := s.cfg.EC2.SecurityGroupVPC(ctx, sc.Account, sc.Region, id)
		if err != nil {
			return err
		}
		if !found {
			return errInvalidParam("Invalid security group: %s does not exist.", id)
		}
		if vpcID != "" && v != vpcID {
			return errCombination("Database is in %s, but Ec2 Security Group %s is in %s", vpcID, id, v)
		}
	}
	return nil
}

// instanceVPC is the VPC of a DB instance's subnet group.
func instanceVPC(r *records.Instance) string {
	if r.DBSubnetGroup == nil {
		return ""
	}
	return deref(r.DBSubnetGroup.VpcId)
}
