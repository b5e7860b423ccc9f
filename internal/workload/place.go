package workload

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/minicloud/minicloud/internal/vpcnet"
)

// ENI is a network interface as the data plane sees it: its IDs, MAC,
// private IP and device index (ethN).
type ENI = vpcnet.ENI

// Placement is a workload's network: its namespace, with its ENIs attached
// and their security groups applied.
type Placement struct {
	// Name is the workload's name; the namespace is named after it.
	Name string
	// NS is the path of the network namespace.
	NS string
	// ENIs are the attached interfaces.
	ENIs []vpcnet.ENI
}

// Primary is the ENI with the lowest device index (eth0).
func (p *Placement) Primary() vpcnet.ENI {
	best := p.ENIs[0]
	for _, e := range p.ENIs[1:] {
		if e.DeviceIndex < best.DeviceIndex {
			best = e
		}
	}
	return best
}

// ErrNoNetwork is returned by Place when the runtime has no VPC data plane.
var ErrNoNetwork = errors.New("workload: no VPC data plane")

// Place makes the workload's namespace with exactly enis attached —
// detaching any an earlier Place of the same workload attached that enis no
// longer lists — and returns once the network controller has applied their
// security groups. An ENI whose VPC or subnet the controller has not built
// yet is tried again after one pass, then reported (the error wraps
// vpcnet.ErrVPCNotFound or vpcnet.ErrSubnetNotFound): the caller retries
// later. Place is idempotent.
func (r *Runtime) Place(ctx context.Context, name string, enis []vpcnet.ENI) (*Placement, error) {
	if r.cfg.Net == nil {
		return nil, ErrNoNetwork
	}
	if len(enis) == 0 {
		return nil, fmt.Errorf("workload %s: no network interface to place it on", name)
	}
	ns, err := r.cfg.Net.CreateInstanceNamespace(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("workload %s: namespace: %w", name, err)
	}
	waited := false
	for _, e := range enis {
		err := r.cfg.Net.AttachENI(ctx, e, ns)
		if err != nil && !waited && (errors.Is(err, vpcnet.ErrVPCNotFound) || errors.Is(err, vpcnet.ErrSubnetNotFound)) {
			// The controller builds subnets from the same desired state:
			// one pass, then the answer stands.
			waited = true
			if serr := r.applyNetwork(ctx); serr != nil {
				return nil, fmt.Errorf("workload %s: attach %s: %w (waiting for the network: %v)", name, e.ID, err, serr)
			}
			err = r.cfg.Net.AttachENI(ctx, e, ns)
		}
		if err != nil {
			return nil, fmt.Errorf("workload %s: attach %s: %w", name, e.ID, err)
		}
	}
	r.mu.Lock()
	old := r.placed[name]
	r.placed[name] = slices.Clone(enis)
	r.ns[name] = ns
	r.mu.Unlock()
	for _, o := range old {
		if !slices.ContainsFunc(enis, func(e vpcnet.ENI) bool { return e.ID == o.ID }) {
			if err := r.cfg.Net.DetachENI(ctx, o); err != nil {
				r.log.Warn("detach a network interface no longer attached", "workload", name, "eni", o.ID, "err", err)
			}
		}
	}
	// Nothing of the workload may run before its security groups.
	if err := r.applyNetwork(ctx); err != nil {
		return nil, fmt.Errorf("workload %s: apply the network (security groups): %w", name, err)
	}
	return &Placement{Name: name, NS: ns, ENIs: slices.Clone(enis)}, nil
}

// Unplace detaches the workload's ENIs — those Place attached and also,
// for a workload placed before a restart of minicloud, the ones given — and
// removes its namespace. Processes still inside keep the namespace itself
// alive; stop them first.
func (r *Runtime) Unplace(ctx context.Context, name string, also ...vpcnet.ENI) error {
	if r.cfg.Net == nil {
		return nil
	}
	r.mu.Lock()
	enis := append(r.placed[name], also...)
	delete(r.placed, name)
	delete(r.ns, name)
	r.mu.Unlock()
	var errs []error
	seen := map[string]bool{}
	for _, e := range enis {
		if seen[e.ID] {
			continue
		}
		seen[e.ID] = true
		if err := r.cfg.Net.DetachENI(ctx, e); err != nil {
			errs = append(errs, fmt.Errorf("detach %s: %w", e.ID, err))
		}
	}
	if err := r.cfg.Net.DeleteInstanceNamespace(ctx, name); err != nil {
		errs = append(errs, fmt.Errorf("delete the namespace: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("workload %s: %w", name, err)
	}
	return nil
}
