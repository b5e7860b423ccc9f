package vpcnet

import (
	"context"
	"errors"
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
// table first. A rule, early in the rule list (priority GuardRulePriority),
// looks the public range up in the main table before any such rule, so the
// guard holds whatever else the host routes by policy. That rule is one for
// all the processes guarding the range: each adds it (adding it again is a
// no-op), and the last to leave removes it, when no guard route for the range
// remains in the main table.
//
// The host must also never forward between a VPC and anything else: each
// gateway link has forwarding off, but a later change of the global
// ip_forward (a container engine starting) resets every interface's value.
// A table of the prefix in the host's nftables drops forwarded traffic on
// the prefix's gateway links whatever that setting says. It is installed
// before the first gateway link (EnsureInternetGateway), not at start: the
// kernel takes 10–25 ms to register a base chain's hook, and a minicloud
// with no internet gateway has no link for it to guard.

// guardMetric is the metric of this Network's guard route; the /32 routes of
// mapped public IPs are more specific and win whatever the metric.
func (n *Network) guardMetric() int { return n.names.GuardMetric() }

// GuardMetric is the metric of the prefix's guard route for the public range
// (an unreachable route in the main table), derived from the prefix.
func (n Names) GuardMetric() int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(n.Prefix))
	return 3000 + int(h.Sum32()%50000)
}

// GuardTable is the name of the prefix's host nftables table (family inet)
// that drops forwarding on its gateway links.
func (n Names) GuardTable() string { return n.Prefix + "-guard" }

func (n *Network) guardRoute() *netlink.Route {
	return &netlink.Route{Dst: prefixToIPNet(n.public), Type: unix.RTN_UNREACHABLE, Table: unix.RT_TABLE_MAIN, Priority: n.guardMetric()}
}

// GuardRulePriority is the priority of the rule that sends a public range to
// the main table: below 1000, ahead of the rules VPN clients add. It is fixed,
// not derived from the prefix, so every minicloud process guarding a range
// shares one rule rather than two processes' derived priorities colliding
// and the first to clean up removing the other's.
const GuardRulePriority = 150

// guardRule sends the public range to the main table.
func (n *Network) guardRule() *netlink.Rule {
	r := netlink.NewRule()
	r.Dst = prefixToIPNet(n.public)
	r.Table = unix.RT_TABLE_MAIN
	r.Priority = GuardRulePriority
	r.Family = unix.AF_INET
	return r
}

// GuardPublicRange installs the unreachable route for the public range on
// the host and the rule that keeps it ahead of policy routing (idempotent).
// Call it before any public IP is handed out.
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
	return nil
}

// guardForwardingOnce installs the forwarding guard table if this Network
// has not yet (idempotent; before any gateway link exists).
func (n *Network) guardForwardingOnce() error {
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
	return &nftables.Table{Family: nftables.TableFamilyINet, Name: n.names.GuardTable()}
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

// unguardPublicRange removes this Network's guard route and, when no other
// process's guard route for the range remains, the shared rule. It attempts
// both and returns both errors.
func (n *Network) unguardPublicRange(host *netlink.Handle) error {
	var errs []error
	if err := host.RouteDel(n.guardRoute()); err != nil && !isNotFound(err) && err != unix.ESRCH {
		errs = append(errs, fmt.Errorf("vpcnet: remove the public range guard: %w", err))
	}
	others, err := n.otherGuards(host)
	if err != nil {
		errs = append(errs, fmt.Errorf("vpcnet: list the public range guards: %w", err))
	} else if !others {
		if err := host.RuleDel(n.guardRule()); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("vpcnet: remove the public range rule: %w", err))
		}
	}
	return errors.Join(errs...)
}

// otherGuards reports whether an unreachable route for the public range,
// another process's guard, is in the main table.
func (n *Network) otherGuards(host *netlink.Handle) (bool, error) {
	routes, err := RetryDump(func() ([]netlink.Route, error) {
		return host.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Dst: prefixToIPNet(n.public), Table: unix.RT_TABLE_MAIN},
			netlink.RT_FILTER_DST|netlink.RT_FILTER_TABLE)
	})
	if err != nil {
		return false, err
	}
	mine := n.guardMetric()
	for _, r := range routes {
		if r.Type == unix.RTN_UNREACHABLE && r.Priority != mine {
			return true, nil
		}
	}
	return false, nil
}
