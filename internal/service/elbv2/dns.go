package elbv2

import (
	"context"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minicloud/minicloud/internal/dnszone"
	"github.com/minicloud/minicloud/internal/service/elbv2/controller"
	"github.com/minicloud/minicloud/internal/service/elbv2/records"
	"github.com/minicloud/minicloud/internal/state"
)

// DNS: every load balancer's DNS name is published to minicloud's DNS
// servers (EndpointSource) with its nodes' addresses: an internet-facing
// load balancer's public IPs, everywhere (PublicInVPC: AWS answers a
// public load balancer's name with its public addresses inside its VPC
// too), an internal one's private IPs. A name is Unhealthy — a Route 53
// alias with EvaluateTargetHealth does not answer with it — when no target
// registered behind the load balancer is healthy in the data plane's
// health checks (always, without a data plane: nothing checks). A load
// balancer whose nodes are not made yet has its name without addresses
// (NODATA); a deleted one's name is NXDOMAIN.
//
// The set is an immutable snapshot rebuilt after every change of a load
// balancer's records and, while there are load balancers, every second (the
// health checks' results are not in the store), so a query never touches
// the store.

// healthRefresh is how often the names' health is read again.
const healthRefresh = time.Second

// endpointIndex keeps the endpoint set current.
type endpointIndex struct {
	set     atomic.Pointer[dnszone.EndpointSet]
	mu      sync.Mutex // serializes rebuilds
	stop    context.CancelFunc
	wg      sync.WaitGroup
	changed chan struct{}
}

// EndpointSource is the load balancers' DNS names for DNS servers.
func (s *Service) EndpointSource() dnszone.EndpointSource { return endpointSource{s} }

type endpointSource struct{ s *Service }

func (x endpointSource) Endpoints() *dnszone.EndpointSet {
	if set := x.s.dns.set.Load(); set != nil {
		return set
	}
	return dnszone.NewEndpointSet(ELBDomain, nil)
}

// startEndpoints publishes the first set and follows the store and the
// health checks.
func (s *Service) startEndpoints() {
	d := &s.dns
	ctx, cancel := context.WithCancel(context.Background())
	d.stop, d.changed = cancel, make(chan struct{}, 1)
	ch, unsub := s.store.Subscribe("")
	s.rebuildEndpoints()
	d.wg.Go(func() {
		for ev := range ch {
			s.noteEvent(ev)
			if _, svc, _, _, ok := state.SplitKey(ev.Key); ev.Reset || ev.Resync || (ok && svc == records.LoadBalancers.Service) {
				select {
				case d.changed <- struct{}{}:
				default:
				}
			}
		}
	})
	d.wg.Go(func() {
		defer unsub()
		tick := time.NewTicker(healthRefresh)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-d.changed:
			case <-tick.C:
				// Health only matters to names that exist: with no load
				// balancer, the store is not read every second.
				if set := d.set.Load(); set == nil || len(set.Names) == 0 {
					continue
				}
			}
			s.rebuildEndpoints()
		}
	})
}

// stopEndpoints ends the updates.
func (s *Service) stopEndpoints() {
	d := &s.dns
	if d.stop == nil {
		return
	}
	d.stop()
	d.wg.Wait()
	d.stop = nil
}

// rebuildEndpoints reads every load balancer and publishes a new set when
// it differs.
func (s *Service) rebuildEndpoints() {
	d := &s.dns
	d.mu.Lock()
	defer d.mu.Unlock()
	var list []dnszone.Endpoint
	err := s.store.View(context.Background(), func(tx state.Tx) error {
		return s.everyLB(tx, func(sc state.Scope, lb *records.LoadBalancer) error {
			e := endpointOf(sc, lb)
			healthy, err := s.anyHealthy(tx, sc, lb)
			e.Unhealthy = !healthy
			list = append(list, e)
			return err
		})
	})
	if err != nil {
		s.log.Warn("elbv2: read the load balancers for DNS", "err", err)
		return
	}
	next := dnszone.NewEndpointSet(ELBDomain, list)
	if old := d.set.Load(); old != nil && sameEndpoints(old, next) {
		return
	}
	d.set.Store(next)
}

func sameEndpoints(a, b *dnszone.EndpointSet) bool {
	if len(a.Names) != len(b.Names) {
		return false
	}
	for n, e := range a.Names {
		if o, ok := b.Names[n]; !ok || !o.Equal(e) {
			return false
		}
	}
	return true
}

// endpointOf is the DNS view of a load balancer record.
func endpointOf(sc state.Scope, lb *records.LoadBalancer) dnszone.Endpoint {
	e := dnszone.Endpoint{Name: endpointName(deref(lb.DNSName)), Account: sc.Account, Region: sc.Region, VPC: deref(lb.VpcId),
		PublicInVPC: lb.InternetFacing()}
	for _, n := range lb.Nodes {
		if ip, err := netip.ParseAddr(n.PrivateIP); err == nil {
			e.PrivateIPs = append(e.PrivateIPs, ip)
		}
		if ip, err := netip.ParseAddr(n.PublicIP); err == nil && lb.InternetFacing() {
			e.PublicIPs = append(e.PublicIPs, ip)
		}
	}
	return e
}

// anyHealthy reports whether a registered, not draining target of a target
// group lb forwards to is healthy in the data plane's checks.
func (s *Service) anyHealthy(tx state.Tx, sc state.Scope, lb *records.LoadBalancer) (bool, error) {
	if s.cfg.Dataplane == nil {
		return false, nil
	}
	groups := map[string]bool{}
	listeners, err := records.ListenersOf(tx, sc, lb.ID)
	if err != nil {
		return false, err
	}
	for _, l := range listeners {
		for _, g := range forwardedGroups(l.DefaultActions) {
			groups[g] = true
		}
		rules, err := records.RulesOf(tx, sc, listenerKeyOf(sc, &l))
		if err != nil {
			return false, err
		}
		for _, r := range rules {
			for _, g := range forwardedGroups(r.Actions) {
				groups[g] = true
			}
		}
	}
	for arn := range groups {
		p, _, ok := parseARN(sc, arn, kindTargetGroup)
		if !ok {
			continue
		}
		tg, found, err := tgTable.Get(tx, sc, p.key)
		if err != nil {
			return false, err
		}
		if !found {
			continue
		}
		health := s.cfg.Dataplane.TargetHealth(sc.Account, sc.Region, arn)
		for _, t := range tg.Targets {
			if t.DrainingUntil == nil && health[controller.TargetKey{ID: t.ID, Port: t.Port}].State == "healthy" {
				return true, nil
			}
		}
	}
	return false, nil
}
