package vpcnet

import (
	"context"
	"fmt"
	"hash/fnv"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The public range must never leave the host. Public IPs in use have /32
// routes into their VPC's gateway; one that is not (an Elastic IP not
// associated, an instance stopped) would otherwise follow the host's default
// route out to the real network. GuardPublicRange installs an unreachable
// route for the whole range, so the host fails such traffic at once
// (EHOSTUNREACH) and nothing of 198.18.0.0/15 is ever sent off the machine.
// Several minicloud processes may guard one range: each adds its own route,
// told apart by a metric derived from its prefix, and removes only that one.

// guardMetric is the metric of this Network's guard route; the /32 routes of
// mapped public IPs are more specific and win whatever the metric.
func (n *Network) guardMetric() int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(n.names.Prefix))
	return 3000 + int(h.Sum32()%50000)
}

func (n *Network) guardRoute() *netlink.Route {
	return &netlink.Route{Dst: prefixToIPNet(n.public), Type: unix.RTN_UNREACHABLE, Table: unix.RT_TABLE_MAIN, Priority: n.guardMetric()}
}

// GuardPublicRange installs the unreachable route for the public range on
// the host (idempotent). Call it before any public IP is handed out.
func (n *Network) GuardPublicRange(ctx context.Context) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	host, err := n.hostHandle()
	if err != nil {
		return err
	}
	if err := host.RouteReplace(n.guardRoute()); err != nil {
		return fmt.Errorf("vpcnet: guard the public range %s: %w", n.public, err)
	}
	return nil
}

// unguardPublicRange removes this Network's guard route.
func (n *Network) unguardPublicRange(host *netlink.Handle) error {
	if err := host.RouteDel(n.guardRoute()); err != nil && !isNotFound(err) && err != unix.ESRCH {
		return fmt.Errorf("vpcnet: remove the public range guard: %w", err)
	}
	return nil
}
