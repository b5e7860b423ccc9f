package vpcnet

import (
	"context"
	"fmt"
	"hash/fnv"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
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
// The route is in the main table, which policy routing may never consult: a
// VPN client's rule ("from all lookup 51820") sends everything to its own
// table first. A rule of ours, early in the rule list, looks the public range
// up in the main table before any such rule, so the guard holds whatever
// else the host routes by policy.
//
// The host must also never forward between a VPC and anything else: each
// gateway link has forwarding off, but a later change of the global
// ip_forward (a container engine starting) resets every interface's value.
// A table of the prefix in the host's nftables drops forwarded traffic on
// the prefix's gateway links whatever that setting says.

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

// guardRule sends the public range to the main table; its priority (below
// 1000, ahead of the rules VPN clients add) is derived from the prefix like
// the route's metric, so each process removes only its own.
func (n *Network) guardRule() *netlink.Rule {
	r := netlink.NewRule()
	r.Dst = prefixToIPNet(n.public)
	r.Table = unix.RT_TABLE_MAIN
	r.Priority = 100 + n.guardMetric()%900
	r.Family = unix.AF_INET
	return r
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
	if err := host.RuleAdd(n.guardRule()); err != nil && !isExist(err) {
		return fmt.Errorf("vpcnet: route the public range %s by the main table: %w", n.public, err)
	}
	n.guardMu.Lock()
	defer n.guardMu.Unlock()
	if n.forwardGuarded {
		return nil
	}
	if err := n.guardForwarding(); err != nil {
		return err
	}
	n.forwardGuarded = true
	return nil
}

func (n *Network) guardTable() *nftables.Table {
	return &nftables.Table{Family: nftables.TableFamilyINet, Name: n.names.Prefix + "-guard"}
}

// guardForwarding installs the host table that drops forwarding on the
// prefix's gateway links ("<prefix>-g…").
func (n *Network) guardForwarding() error {
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("vpcnet: nftables: %w", err)
	}
	t := n.guardTable()
	c.AddTable(t)
	c.DelTable(t)
	c.AddTable(t)
	accept := nftables.ChainPolicyAccept
	ch := c.AddChain(&nftables.Chain{Name: "forward", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityRaw, Policy: &accept})
	gw := []byte(n.names.Prefix + "-" + string(kindGateway))
	for _, key := range []expr.MetaKey{expr.MetaKeyIIFNAME, expr.MetaKeyOIFNAME} {
		c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: []expr.Any{
			&expr.Meta{Key: key, Register: 1},
			// Comparing only the name's first bytes matches the prefix.
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: gw},
			&expr.Verdict{Kind: expr.VerdictDrop},
		}})
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("vpcnet: guard host forwarding: %w", err)
	}
	return nil
}

// unguardForwarding removes the host table, if present.
func (n *Network) unguardForwarding() error {
	n.guardMu.Lock()
	defer n.guardMu.Unlock()
	n.forwardGuarded = false
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("vpcnet: nftables: %w", err)
	}
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		return fmt.Errorf("vpcnet: list nftables tables: %w", err)
	}
	for _, t := range tables {
		if t.Name == n.guardTable().Name {
			c.DelTable(t)
			if err := c.Flush(); err != nil {
				return fmt.Errorf("vpcnet: remove the forwarding guard: %w", err)
			}
		}
	}
	return nil
}

// unguardPublicRange removes this Network's guard route.
func (n *Network) unguardPublicRange(host *netlink.Handle) error {
	if err := host.RouteDel(n.guardRoute()); err != nil && !isNotFound(err) && err != unix.ESRCH {
		return fmt.Errorf("vpcnet: remove the public range guard: %w", err)
	}
	if err := host.RuleDel(n.guardRule()); err != nil && !isNotFound(err) {
		return fmt.Errorf("vpcnet: remove the public range rule: %w", err)
	}
	return nil
}
