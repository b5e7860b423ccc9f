package controller

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
	"github.com/minicloud/minicloud/internal/vpcnet"
)

// Placement in the VPC (the data plane on, Config.Net set): a DB instance
// with a DB subnet group gets a requester-managed ENI ("RDSNetworkInterface")
// in the group's subnet of its AvailabilityZone (else its first subnet) with
// its VPC security groups; a Multi-AZ standby gets its own in a subnet of
// SecondaryAvailabilityZone. The ENI is plugged into a namespace named after
// the ENI itself, where the network controller applies its security groups
// (Sync runs before the server starts); the server runs in that namespace
// on the ENI's address and the instance's Port. The loopback port stays, as
// a host-side TCP proxy to it (proxy.go). Stopping or deleting the instance
// removes namespace and ENI; starting it again makes new ones. The shared
// workload runtime is to replace this file.

// ENIs creates and deletes the DB instances' network interfaces in EC2.
type ENIs interface {
	CreateENI(ctx context.Context, account, region, subnetID string, groupIDs []string, description string) (records.PlacedENI, error)
	DeleteENI(ctx context.Context, account, region, id string) error
	// ModifyENIGroups replaces the security groups of an ENI CreateENI made.
	ModifyENIGroups(ctx context.Context, account, region, id string, groupIDs []string) error
}

// eniDescription is the Description of the ENIs, as AWS's.
const eniDescription = "RDSNetworkInterface"

func (c *Controller) placing() bool { return c.cfg.Net != nil && c.cfg.ENIs != nil }

// wantsVPC reports whether rec is to be placed in its VPC.
func (c *Controller) wantsVPC(rec *records.Instance) bool {
	return c.placing() && rec.DBSubnetGroup != nil && len(rec.DBSubnetGroup.Subnets) > 0
}

// plug makes sure the instance has its ENI (recorded before use, so that it
// is never leaked), its namespace with the ENI attached and the security
// groups applied.
func (c *Controller) plug(ctx context.Context, sc state.Scope, id, status string, rec *records.Instance) (*engine.Listen, error) {
	if rec.ENI == nil {
		eni, err := c.newENI(ctx, sc, id, status, rec, deref(rec.AvailabilityZone), "network interface",
			func(r *records.Instance, e *records.PlacedENI) { r.ENI = e })
		if err != nil {
			return nil, err
		}
		rec.ENI = eni
	}
	l, err := c.attachENI(ctx, rec.ENI)
	if err != nil {
		return nil, err
	}
	l.Port = c.listenPort(rec)
	return l, nil
}

// plugStandby gives the standby its ENI in a subnet of the secondary zone
// (recorded before use, so it is never leaked) and its namespace.
func (c *Controller) plugStandby(ctx context.Context, sc state.Scope, id, status string, rec *records.Instance) (*engine.Listen, error) {
	if rec.Standby.ENI == nil {
		eni, err := c.newENI(ctx, sc, id, status, rec, deref(rec.SecondaryAvailabilityZone), "standby's network interface",
			func(r *records.Instance, e *records.PlacedENI) {
				if r.Standby != nil {
					r.Standby.ENI = e
				}
			})
		if err != nil {
			return nil, err
		}
		rec.Standby.ENI = eni
	}
	return c.attachENI(ctx, rec.Standby.ENI)
}

// newENI makes an ENI with the instance's security groups in its DB subnet
// group's subnet of zone az and records it (set) while the instance still
// has status; what it is ("network interface") goes into the errors.
func (c *Controller) newENI(ctx context.Context, sc state.Scope, id, status string, rec *records.Instance, az, what string, set func(r *records.Instance, e *records.PlacedENI)) (*records.PlacedENI, error) {
	eni, err := c.cfg.ENIs.CreateENI(ctx, sc.Account, sc.Region, subnetInAZ(rec.DBSubnetGroup, az), groupIDs(rec), eniDescription)
	if err != nil {
		return nil, fmt.Errorf("create the %s: %w", what, err)
	}
	if !c.update(sc, id, status, func(r *records.Instance) bool { set(r, &eni); return false }) {
		_ = c.cfg.ENIs.DeleteENI(context.Background(), sc.Account, sc.Region, eni.ID)
		return nil, fmt.Errorf("the instance changed while its %s was made", what)
	}
	return &eni, nil
}

// attachENI makes e's namespace with e plugged in and the security groups
// applied.
func (c *Controller) attachENI(ctx context.Context, e *records.PlacedENI) (*engine.Listen, error) {
	ip, err := netip.ParseAddr(e.IP)
	if err != nil {
		return nil, fmt.Errorf("network interface %s: %w", e.ID, err)
	}
	mac, _ := net.ParseMAC(e.MAC)
	if c.cfg.Sync != nil { // the VPC's subnets exist
		if err := c.cfg.Sync(ctx); err != nil {
			return nil, err
		}
	}
	ns, err := c.cfg.Net.CreateInstanceNamespace(ctx, e.ID)
	if err != nil {
		return nil, err
	}
	if err := c.cfg.Net.AttachENI(ctx, vpcnet.ENI{ID: e.ID, VPCID: e.VPCID, SubnetID: e.SubnetID, MAC: mac, IP: ip}, ns); err != nil {
		return nil, err
	}
	if c.cfg.Sync != nil { // security groups before the server starts
		if err := c.cfg.Sync(ctx); err != nil {
			return nil, err
		}
	}
	return &engine.Listen{NS: ns, IP: ip}, nil
}

// unplug removes an ENI's namespace and the ENI.
func (c *Controller) unplug(sc state.Scope, e *records.PlacedENI) error {
	if e == nil || !c.placing() {
		return nil
	}
	ctx := context.Background()
	if err := c.cfg.Net.DeleteInstanceNamespace(ctx, e.ID); err != nil {
		return err
	}
	if err := c.cfg.Net.DetachENI(ctx, e.VPCID, e.ID); err != nil {
		return err
	}
	return c.cfg.ENIs.DeleteENI(ctx, sc.Account, sc.Region, e.ID)
}

// subnetInAZ is the DB subnet group's first subnet in zone az, else its
// first subnet.
func subnetInAZ(g *rdsapi.DBSubnetGroup, az string) string {
	for _, s := range g.Subnets {
		if s.SubnetAvailabilityZone != nil && deref(s.SubnetAvailabilityZone.Name) == az {
			return deref(s.SubnetIdentifier)
		}
	}
	return deref(g.Subnets[0].SubnetIdentifier)
}

// listenPort is the port a running instance's server listens on in its
// namespace (an engine may name its Unix socket after it): the instance's Port
// in its VPC, else its loopback port.
func (c *Controller) listenPort(r *records.Instance) int {
	if c.wantsVPC(r) {
		if r.Endpoint != nil && deref(r.Endpoint.Port) != 0 {
			return int(*r.Endpoint.Port)
		}
		return 5432
	}
	return r.LoopbackPort
}
