package rds

import (
	"context"
	"errors"

	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// Checks through EC2. A handler that creates or changes a DB instance
// checks the request on its own, then reads, checks and writes RDS's
// records in one write transaction, so that two requests cannot both
// pass a check only one of them fits. EC2 is the exception: its port's
// lookups are transactions of their own, and the store's transactions do
// not nest, so EC2 is asked before the write transaction and its answers
// are checked inside it, against the records as they are then:
//
//   - security groups (lookupGroups): EC2 says which VPC each group is
//     in, the transaction compares that with the instance's VPC as it
//     reads it;
//   - public access (dns.go): which VPC EC2 is asked about depends on the
//     records, so that VPC is read first and the transaction confirms it
//     is still the instance's (publicCheck.confirm);
//   - a restore's source (restore.confirm) likewise: the request is made
//     from the snapshot it read before the transaction.
//
// When the transaction finds such a record changed it fails with
// errChanged, and the handler checks the request again from the start
// (retryChanged), so a request is only ever written as checked against
// what is stored when it is written.

// errChanged is what a write transaction returns when a record its
// request was checked against before the transaction has changed since.
var errChanged = errors.New("rds: a record the request was checked against changed before it was written")

// retryChanged runs attempt, again while it fails with errChanged.
func retryChanged[T any](ctx context.Context, attempt func() (T, error)) (T, error) {
	for {
		out, err := attempt()
		if !errors.Is(err, errChanged) {
			return out, err
		}
		if err := ctx.Err(); err != nil {
			return out, err
		}
	}
}

// groupVPCs is what EC2 says of a request's VPC security groups, in the
// request's order: each group's VPC, found false for a group that does not
// exist. Nil checks nothing (no groups, or no EC2 to ask).
type groupVPCs []groupVPC

type groupVPC struct {
	id, vpc string
	found   bool
}

// lookupGroups asks EC2 for the VPC of each of the security groups ids.
func (s *Service) lookupGroups(ctx context.Context, sc state.Scope, ids []string) (groupVPCs, error) {
	if s.cfg.EC2 == nil || len(ids) == 0 {
		return nil, nil
	}
	out := make(groupVPCs, 0, len(ids))
	for _, id := range ids {
		v, found, err := s.cfg.EC2.SecurityGroupVPC(ctx, sc.Account, sc.Region, id)
		if err != nil {
			return nil, err
		}
		out = append(out, groupVPC{id: id, vpc: v, found: found})
	}
	return out, nil
}

// check verifies, as AWS does on CreateDBInstance and ModifyDBInstance,
// that every group exists and is in the DB instance's VPC vpcID (when it
// has one).
func (gs groupVPCs) check(vpcID string) error {
	for _, g := range gs {
		if !g.found {
			return errInvalidParam("Invalid security group: %s does not exist.", g.id)
		}
		if vpcID != "" && g.vpc != vpcID {
			return errCombination("Database is in %s, but Ec2 Security Group %s is in %s", vpcID, g.id, g.vpc)
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
