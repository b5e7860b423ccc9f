package controller

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/minicloud/minicloud/internal/ec2port"
	"github.com/minicloud/minicloud/internal/reconcile"
	"github.com/minicloud/minicloud/internal/service/elbv2/records"
	"github.com/minicloud/minicloud/internal/state"
)

// A load balancer's pass: its nodes first (an interface per enabled
// subnet, its public IP, its security groups), then the View applied to
// the data plane, then what it achieved recorded (active, or the error),
// and last the nodes of subnets no longer enabled taken down — after the
// data plane stopped using them.

// reconcileLB converges load balancer k (or takes down a retired one).
func (c *Controller) reconcileLB(ctx context.Context, k key) (reconcile.Result, error) {
	var (
		lb               records.LoadBalancer
		retired          records.RetiredLB
		found, isRetired bool
	)
	err := c.cfg.Store.View(ctx, func(tx state.Tx) error {
		var err error
		if lb, found, err = records.LoadBalancers.Get(tx, k.Scope, k.id); err != nil || found {
			return err
		}
		retired, isRetired, err = records.Retired.Get(tx, k.Scope, k.id)
		return err
	})
	if err != nil {
		return reconcile.Result{}, err
	}
	if !found {
		return reconcile.Result{}, c.takeDown(ctx, k, retired, isRetired)
	}
	nodes, stale, err := c.ensureNodes(ctx, k, &lb)
	if err != nil {
		c.recordError(k, err)
		return reconcile.Result{}, err
	}
	lb.Nodes = nodes
	view, err := c.buildView(ctx, k.Scope, &lb)
	if err != nil {
		return reconcile.Result{}, err
	}
	if err := c.apply(ctx, k, view); err != nil {
		c.recordError(k, err)
		return reconcile.Result{}, err
	}
	if _, err := c.updateLB(k.Scope, k.id, func(r *records.LoadBalancer) {
		r.Error = ""
		if r.State != nil && len(nodes) == len(r.AvailabilityZones) {
			r.State.Code, r.State.Reason = ptr("active"), nil
		}
	}); err != nil {
		return reconcile.Result{}, err
	}
	if len(stale) > 0 {
		if c.cfg.Dataplane != nil {
			if err := c.cfg.Dataplane.Remove(ctx, k.Account, k.Region, view.ARN, nodesView(stale)); err != nil {
				return reconcile.Result{}, fmt.Errorf("stop the nodes of subnets %s no longer uses: %w", view.Name, err)
			}
		}
		if err := c.removeNodes(ctx, k, stale); err != nil {
			return reconcile.Result{}, err
		}
	}
	return reconcile.Result{}, nil
}

// apply hands view to the data plane unless it runs it already, and marks
// its certificates in use.
func (c *Controller) apply(ctx context.Context, k key, view View) error {
	c.mu.Lock()
	last := c.applied[k]
	c.mu.Unlock()
	if last != nil && reflect.DeepEqual(*last, view) {
		return nil
	}
	if c.cfg.Dataplane != nil {
		if err := c.cfg.Dataplane.Apply(ctx, view); err != nil {
			return fmt.Errorf("apply load balancer %s: %w", view.Name, err)
		}
	}
	if c.cfg.Certs != nil {
		for _, l := range view.Listeners {
			for _, cert := range l.Certificates {
				if err := c.cfg.Certs.Use(ctx, k.Account, k.Region, cert, view.ARN); err != nil {
					c.log.Warn("elbv2: mark a certificate in use", "certificate", cert, "loadBalancer", view.ARN, "err", err)
				}
			}
		}
	}
	c.mu.Lock()
	c.applied[k] = &view
	c.mu.Unlock()
	return nil
}

// recordError notes why the load balancer is not active (yet).
func (c *Controller) recordError(k key, err error) {
	if _, uerr := c.updateLB(k.Scope, k.id, func(r *records.LoadBalancer) { r.Error = err.Error() }); uerr != nil {
		c.log.Warn("elbv2: record a load balancer's error", "id", k.id, "err", uerr)
	}
}

// ensureNodes gives every enabled subnet of lb its node, in the order of
// the subnets, and returns the nodes of subnets no longer enabled (stale).
func (c *Controller) ensureNodes(ctx context.Context, k key, lb *records.LoadBalancer) (nodes, stale []records.Node, err error) {
	if c.cfg.EC2 == nil {
		return nil, nil, nil
	}
	subnets := lb.Subnets()
	for _, n := range lb.Nodes {
		if !slices.Contains(subnets, n.SubnetID) {
			stale = append(stale, n)
		}
	}
	for _, az := range lb.AvailabilityZones {
		subnet := deref(az.SubnetId)
		i := slices.IndexFunc(lb.Nodes, func(n records.Node) bool { return n.SubnetID == subnet })
		var n records.Node
		if i >= 0 {
			n = lb.Nodes[i]
		} else if n, err = c.newNode(ctx, k, lb, subnet, deref(az.ZoneName)); err != nil {
			return nil, nil, err
		}
		if n, err = c.syncNode(ctx, k, lb, n); err != nil {
			return nil, nil, err
		}
		nodes = append(nodes, n)
	}
	return nodes, stale, nil
}

// eniDescription is the Description AWS gives a load balancer's
// interfaces.
func eniDescription(lb *records.LoadBalancer) string {
	return "ELB app/" + deref(lb.LoadBalancerName) + "/" + lb.ID
}

// newNode makes the node's interface in subnet and records it before it
// is used, so that it is never leaked; one made for a load balancer that
// was deleted meanwhile is deleted again.
func (c *Controller) newNode(ctx context.Context, k key, lb *records.LoadBalancer, subnet, zone string) (records.Node, error) {
	e, err := c.cfg.EC2.CreateENI(ctx, k.Account, k.Region, ec2port.ENIRequest{SubnetID: subnet,
		SecurityGroupIDs: lb.SecurityGroups, Description: eniDescription(lb)})
	if err != nil {
		return records.Node{}, fmt.Errorf("create the network interface of a node in %s: %w", subnet, err)
	}
	n := records.Node{VPCID: e.VPCID, SubnetID: subnet, AvailabilityZone: zone, ENIID: e.ID, MAC: e.MAC, PrivateIP: e.IP.String(),
		SecurityGroups: slices.Clone(lb.SecurityGroups)}
	ok, err := c.updateLB(k.Scope, k.id, func(r *records.LoadBalancer) { r.Nodes = append(r.Nodes, n) })
	if err != nil || !ok {
		if derr := c.cfg.EC2.DeleteENI(context.WithoutCancel(ctx), k.Account, k.Region, e.ID); derr != nil {
			c.log.Warn("elbv2: delete a node's interface", "eni", e.ID, "err", derr)
		}
		return records.Node{}, firstErr(err, errors.New("the load balancer was deleted while its node was made"))
	}
	return n, nil
}

// syncNode gives an internet-facing node its public IP and the node's
// interface the load balancer's security groups, and records both.
func (c *Controller) syncNode(ctx context.Context, k key, lb *records.LoadBalancer, n records.Node) (records.Node, error) {
	changed := false
	if lb.InternetFacing() && n.PublicIP == "" {
		ip, err := c.cfg.EC2.AssignPublicIP(ctx, k.Account, k.Region, n.ENIID)
		if err != nil {
			return n, fmt.Errorf("assign a public IP to %s: %w", n.ENIID, err)
		}
		n.PublicIP, changed = ip.String(), true
	}
	if !sameSet(n.SecurityGroups, lb.SecurityGroups) {
		if err := c.cfg.EC2.SetENIGroups(ctx, k.Account, k.Region, n.ENIID, lb.SecurityGroups); err != nil {
			return n, fmt.Errorf("set the security groups of %s: %w", n.ENIID, err)
		}
		n.SecurityGroups, changed = slices.Clone(lb.SecurityGroups), true
	}
	if changed {
		// Should the record be gone, the interface and its address go with
		// the retired record's pass.
		if _, err := c.updateLB(k.Scope, k.id, func(r *records.LoadBalancer) {
			for i := range r.Nodes {
				if r.Nodes[i].ENIID == n.ENIID {
					r.Nodes[i] = n
				}
			}
		}); err != nil {
			return n, err
		}
	}
	return n, nil
}

// removeNodes deletes nodes' interfaces (their public IPs first) and
// forgets them in the record.
func (c *Controller) removeNodes(ctx context.Context, k key, nodes []records.Node) error {
	for _, n := range nodes {
		if err := c.deleteNode(ctx, k, n); err != nil {
			return err
		}
		if _, err := c.updateLB(k.Scope, k.id, func(r *records.LoadBalancer) {
			r.Nodes = slices.DeleteFunc(r.Nodes, func(x records.Node) bool { return x.ENIID == n.ENIID })
		}); err != nil {
			return err
		}
	}
	return nil
}

func (c *Controller) deleteNode(ctx context.Context, k key, n records.Node) error {
	if n.PublicIP != "" {
		if err := c.cfg.EC2.ReleasePublicIP(ctx, k.Account, k.Region, n.ENIID); err != nil {
			return fmt.Errorf("release the public IP of %s: %w", n.ENIID, err)
		}
	}
	if err := c.cfg.EC2.DeleteENI(ctx, k.Account, k.Region, n.ENIID); err != nil {
		return fmt.Errorf("delete network interface %s: %w", n.ENIID, err)
	}
	return nil
}

// takeDown stops a load balancer that has no record: the data plane first,
// then its nodes' interfaces, its certificates, and its retired record.
func (c *Controller) takeDown(ctx context.Context, k key, r records.RetiredLB, retired bool) error {
	c.mu.Lock()
	last := c.applied[k]
	c.mu.Unlock()
	arn, nodes := r.ARN, nodesView(r.Nodes)
	if last != nil {
		arn = cmp.Or(arn, last.ARN)
		if !retired {
			nodes = last.Nodes
		}
	}
	if arn != "" && c.cfg.Dataplane != nil {
		if err := c.cfg.Dataplane.Remove(ctx, k.Account, k.Region, arn, nodes); err != nil {
			return fmt.Errorf("remove load balancer %s: %w", arn, err)
		}
	}
	c.mu.Lock()
	delete(c.applied, k)
	c.mu.Unlock()
	if !retired {
		return nil
	}
	if c.cfg.EC2 != nil {
		for _, n := range r.Nodes {
			if err := c.deleteNode(ctx, k, n); err != nil {
				return err
			}
		}
	}
	if c.cfg.Certs != nil {
		for _, cert := range r.Certificates {
			if err := c.cfg.Certs.Unuse(ctx, k.Account, k.Region, cert, r.ARN); err != nil {
				return fmt.Errorf("release certificate %s: %w", cert, err)
			}
		}
	}
	return c.cfg.Store.Update(ctx, func(tx state.Tx) error { return records.Retired.Delete(tx, k.Scope, k.id) })
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func deref[T any](p *T) T {
	if p == nil {
		var z T
		return z
	}
	return *p
}

func ptr[T any](v T) *T { return &v }
