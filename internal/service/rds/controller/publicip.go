package controller

import (
	"context"
	"fmt"

	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// Public access: a PubliclyAccessible instance placed in its VPC gets an
// Amazon-owned public IP on its network interface (Config.ENIs
// implementing PublicIPs), mapped 1:1 through the VPC's internet gateway
// like an EC2 instance's. It is released with the interface (stop,
// delete) or when PubliclyAccessible is turned off.

// PublicIPs gives DB instances' network interfaces public IPs. Config.ENIs
// implements it when the host routes a public range (the data plane).
type PublicIPs interface {
	// AssignPublicIP returns the interface's public IP, assigning one if
	// it has none.
	AssignPublicIP(ctx context.Context, account, region, eniID string) (string, error)
	// ReleasePublicIP releases it; none is not an error.
	ReleasePublicIP(ctx context.Context, account, region, eniID string) error
}

// syncPublicIP gives the instance's interface a public IP when it is
// publicly accessible and takes it away when it is not, and records it.
func (c *Controller) syncPublicIP(ctx context.Context, sc state.Scope, id, status string, rec *records.Instance) error {
	pub, ok := c.cfg.ENIs.(PublicIPs)
	if !ok || rec.ENI == nil {
		return nil
	}
	want, have := deref(rec.PubliclyAccessible), rec.ENI.PublicIP != ""
	if want == have {
		return nil
	}
	eniID, ip := rec.ENI.ID, ""
	if want {
		var err error
		if ip, err = pub.AssignPublicIP(ctx, sc.Account, sc.Region, eniID); err != nil {
			return fmt.Errorf("assign a public IP to %s: %w", eniID, err)
		}
	} else if err := pub.ReleasePublicIP(ctx, sc.Account, sc.Region, eniID); err != nil {
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
