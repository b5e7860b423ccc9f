package ec2

import (
	"context"
	"net/netip"

	"github.com/minicloud/minicloud/internal/state"
)

// AssignPublicIP implements ec2port.Port: the interface gets an
// Amazon-owned public IPv4 address (owner "amazon", as an instance's
// auto-assigned one) from the public pool; the network controller maps it
// 1:1 through the VPC's internet gateway like any other. An interface that
// has a public address keeps it. eniDelete releases it.
func (p *port) AssignPublicIP(ctx context.Context, account, region, eniID string) (netip.Addr, error) {
	var out netip.Addr
	err := p.s.update(scoped(ctx, account, region, "AssociateAddress"), func(t *rtx) error {
		e, err := networkInterfaces.get(t, eniID)
		if err != nil {
			return err
		}
		if err := p.checkManaged(e); err != nil {
			return err
		}
		if err := eniAssignAutoPublicIP(t, e); err != nil {
			return err
		}
		out, _ = netip.ParseAddr(deref(e.Association.PublicIp))
		return networkInterfaces.put(t, e)
	})
	return out, err
}

// ReleasePublicIP implements ec2port.Port.
func (p *port) ReleasePublicIP(ctx context.Context, account, region, eniID string) error {
	return p.s.update(scoped(ctx, account, region, "DisassociateAddress"), func(t *rtx) error {
		e, err := networkInterfaces.get(t, eniID)
		if err != nil {
			if state.IsCode(err, "InvalidNetworkInterfaceID.NotFound") {
				return nil
			}
			return err
		}
		if err := p.checkManaged(e); err != nil {
			return err
		}
		if err := eniReleaseAutoPublicIP(t, e); err != nil {
			return err
		}
		return networkInterfaces.put(t, e)
	})
}
