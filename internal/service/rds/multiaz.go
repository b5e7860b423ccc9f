package rds

import (
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// Multi-AZ DB instance deployments, the API's side: MultiAZ on
// CreateDBInstance and ModifyDBInstance for engines with standbys
// (engine.Standbys), the standby's Availability Zone, and the standby in
// /_minicloud/health. The controller keeps the standby (controller/multiaz.go).

// checkCreateMultiAZ applies AWS's and minicloud's rules to
// CreateDBInstance's MultiAZ.
func (s *Service) checkCreateMultiAZ(in *rdsapi.CreateDBInstanceMessage, engineName string) error {
	if !deref(in.MultiAZ) {
		return nil
	}
	if deref(in.AvailabilityZone) != "" {
		return errCombination("Requesting a specific availability zone is not valid for Multi-AZ instances.")
	}
	if !engine.Is[engine.Standbys](s.engineFor(engineName)) {
		return s.notFor(engine.Is[engine.Standbys], "runs Multi-AZ DB instance deployments", engineName)
	}
	return nil
}

// initStandby gives a new Multi-AZ record its standby's Availability Zone.
func initStandby(r *records.Instance, sc state.Scope) {
	if !deref(r.MultiAZ) {
		return
	}
	r.SecondaryAvailabilityZone = ptr(secondaryAZ(r, sc))
	r.Standby = &records.StandbyState{}
}

// secondaryAZ picks the standby's zone: the first zone of the DB subnet
// group other than the primary's (the group covers at least two), else,
// without a group, another zone of the Region.
func secondaryAZ(r *records.Instance, sc state.Scope) string {
	primary := deref(r.AvailabilityZone)
	if r.DBSubnetGroup != nil {
		for _, s := range r.DBSubnetGroup.Subnets {
			if az := deref(s.SubnetAvailabilityZone.Name); az != "" && az != primary {
				return az
			}
		}
	}
	if primary == sc.Region+"a" {
		return sc.Region + "b"
	}
	return sc.Region + "a"
}

// checkModifyMultiAZ applies AWS's and minicloud's rules to
// ModifyDBInstance's MultiAZ on r.
func (s *Service) checkModifyMultiAZ(r *records.Instance, in *rdsapi.ModifyDBInstanceMessage) error {
	if in.MultiAZ == nil || !*in.MultiAZ || deref(r.MultiAZ) {
		return nil
	}
	if e := deref(r.Engine); !engine.Is[engine.Standbys](s.engineFor(e)) {
		return s.notFor(engine.Is[engine.Standbys], "runs Multi-AZ DB instance deployments", e)
	}
	if r.IsReplica() {
		return errCombination("minicloud does not make read replicas Multi-AZ yet.")
	}
	return nil
}

// applyModifyMultiAZ applies ModifyDBInstance's MultiAZ, checked, to r
// (within its transaction): the controller builds or removes the standby
// while the instance is modifying. minicloud has no maintenance window, so
// the change is made at once whatever ApplyImmediately says.
func applyModifyMultiAZ(r *records.Instance, sc state.Scope, in *rdsapi.ModifyDBInstanceMessage, pend *rdsPending) {
	if in.MultiAZ == nil || *in.MultiAZ == deref(r.MultiAZ) {
		return
	}
	if *in.MultiAZ {
		r.MultiAZ = ptr(true)
		r.SecondaryAvailabilityZone = ptr(secondaryAZ(r, sc))
		r.Standby = &records.StandbyState{}
	} else {
		r.MultiAZ = ptr(false)
	}
	pend.MultiAZ = ptr(*in.MultiAZ) // until the controller has made (or removed) the standby
	r.DBInstanceStatus = ptr("modifying")
}

// standbyHealth is a Multi-AZ instance's "standby" entry in
// /_minicloud/health: where the standby is (no address to connect to).
func standbyHealth(r *records.Instance) map[string]any {
	if r.Standby == nil {
		return nil
	}
	out := map[string]any{"availabilityZone": deref(r.SecondaryAvailabilityZone), "built": r.Standby.Built}
	if r.Standby.ENI != nil {
		out["networkInterface"] = r.Standby.ENI.ID
	}
	return out
}
