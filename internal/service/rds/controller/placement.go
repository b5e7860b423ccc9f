package controller

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/ec2port"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
	"github.com/minicloud/minicloud/internal/workload"
)

// Placement in the VPC (the workload runtime placing, the data plane on):
// a DB instance with a DB subnet group gets a requester-managed ENI
// ("RDSNetworkInterface") in the group's subnet of its AvailabilityZone
// (else its first subnet) with its VPC security groups; a Multi-AZ standby
// gets its own in a subnet of SecondaryAvailabilityZone. Each server is a
// workload placed on its ENI (a namespace named after the ENI), which
// returns once the network controller has applied the security groups; the
// server runs in that namespace on the ENI's address and the instance's
// Port. The loopback port stays, as a relay from the host to it
// (proxy.go). Stopping or deleting the instance removes namespace and
// ENI; starting it again makes new ones.

// eniDescription is the Description of the ENIs, as AWS's.
const eniDescription = "RDSNetworkInterface"

func (c *Controller) placing() bool {
	return c.cfg.EC2 != nil && c.cfg.Workloads != nil && c.cfg.Workloads.Placing()
}

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
	e, err := c.cfg.EC2.CreateENI(ctx, sc.Account, sc.Region, ec2port.ENIRequest{
		SubnetID: subnetInAZ(rec.DBSubnetGroup, az), SecurityGroupIDs: groupIDs(rec), Description: eniDescription})
	if err != nil {
		return nil, fmt.Errorf("create the %s: %w", what, err)
	}
	eni := records.PlacedENI{ID: e.ID, VPCID: e.VPCID, SubnetID: e.SubnetID, MAC: e.MAC, IP: e.IP.String()}
	if !c.update(sc, id, status, func(r *records.Instance) bool { set(r, &eni); return false }) {
		_ = c.cfg.EC2.DeleteENI(context.Background(), sc.Account, sc.Region, eni.ID)
		return nil, fmt.Errorf("the instance changed while its %s was made", what)
	}
	return &eni, nil
}

// vpcENI is e as the data plane sees it.
func vpcENI(e *records.PlacedENI) (workload.ENI, error) {
	ip, err := netip.ParseAddr(e.IP)
	if err != nil {
		return workload.ENI{}, fmt.Errorf("network interface %s: %w", e.ID, err)
	}
	mac, _ := net.ParseMAC(e.MAC)
	return workload.ENI{ID: e.ID, VPCID: e.VPCID, SubnetID: e.SubnetID, MAC: mac, IP: ip}, nil
}

// attachENI places the workload named after e on it: its namespace with e
// plugged in and the security groups applied.
func (c *Controller) attachENI(ctx context.Context, e *records.PlacedENI) (*engine.Listen, error) {
	ve, err := vpcENI(e)
	if err != nil {
		return nil, err
	}
	pl, err := c.cfg.Workloads.Place(ctx, e.ID, []workload.ENI{ve})
	if err != nil {
		return nil, err
	}
	return &engine.Listen{NS: pl.NS, IP: ve.IP}, nil
}

// unplug removes an ENI's workload placement and the ENI.
func (c *Controller) unplug(sc state.Scope, e *records.PlacedENI) error {
	if e == nil || !c.placing() {
		return nil
	}
	ctx := context.Background()
	if err := c.cfg.Workloads.Unplace(ctx, e.ID, workload.ENI{ID: e.ID, VPCID: e.VPCID}); err != nil {
		return err
	}
	return c.cfg.EC2.DeleteENI(ctx, sc.Account, sc.Region, e.ID)
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
