package controller

import (
	"context"
	"fmt"

	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// Public access: a PubliclyAccessible instance placed in its VPC gets an
// Amazon-owned public IP on its network interface (from EC2's pool, through
// its port), mapped 1:1 through the VPC's internet gateway like an EC2
// instance's. It is released with the interface (stop, delete) or when
// PubliclyAccessible is turned off.

// syncPublicIP gives the instance's interface a public IP when it is
// publicly accessible and takes it away when it is not, and records it.
func (c *Controller) syncPublicIP(ctx context.Context, sc state.Scope, id, status string, rec *records.Instance) error {
	if !c.placing() || rec.ENI == nil {
		return nil
	}
	want, have := deref(rec.PubliclyAccessible), rec.ENI.PublicIP != ""
	if want == have {
		return nil
	}
	eniID, ip := rec.ENI.ID, ""
	if want {
		addr, err := c.cfg.EC2.AssignPublicIP(ctx, sc.Account, sc.Region, eniID)
		if err != nil {
			return fmt.Errorf("assign a public IP to %s: %w", eniID, err)
		}
		ip = addr.String()
	} else if err := c.cfg.EC2.ReleasePublicIP(ctx, sc.Account, sc.Region, eniID); err != nil {
		return fmt.Errorf("release the public IP of %s: %w", eniID, err)
	}
	// Should the record have moved on, the address stays with the
	// interface in EC2 (released with it) and the next pass records it.
	c.update(sc, id, status, func(r *records.Instance) bool {
		if r.ENI != nil && r.ENI.ID == eniID {
			r.ENI.PublicIP = ip
		}
		return false
	})
	rec.ENI.PublicIP = ip
	return nil
}
