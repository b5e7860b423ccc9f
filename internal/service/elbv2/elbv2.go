package elbv2

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/elbv2api"
	"github.com/minicloud/minicloud/internal/certport"
	"github.com/minicloud/minicloud/internal/ec2port"
	"github.com/minicloud/minicloud/internal/service/elbv2/controller"
	"github.com/minicloud/minicloud/internal/service/elbv2/records"
	"github.com/minicloud/minicloud/internal/state"
)

// Config configures the service.
type Config struct {
	// EC2 is EC2 as Elastic Load Balancing sees it (requester amazon-elb):
	// subnets, security groups and VPCs to check, instances to register,
	// and the nodes' network interfaces and public IPs. Nil: no load
	// balancer or target group can be made (their subnets and VPCs are
	// not found).
	EC2 ec2port.Port
	// Certs is ACM: an HTTPS listener's certificates, and their InUseBy.
	// Nil: every certificate is not found (CertificateNotFound).
	Certs certport.Port
	// Dataplane runs the load balancers' nodes. Nil: API only (see
	// controller.Dataplane).
	Dataplane controller.Dataplane
	Logger    *slog.Logger
	// Now is the clock (tests move it); time.Now when nil.
	Now func() time.Time
}

// Service is the Elastic Load Balancing (v2) implementation.
type Service struct {
	store state.Store
	cfg   Config
	log   *slog.Logger
	ctl   atomic.Pointer[controller.Controller] // set while the controller runs
	dns   endpointIndex                         // the DNS names (dns.go)
	// scopes are the accounts and regions known to hold load balancers;
	// scanAll asks everyLB to learn them from the whole store.
	scopes  sync.Map // state.Scope → struct{}
	scanAll atomic.Bool
}

// New returns the service over store; Start runs its controller.
func New(store state.Store, cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{store: store, cfg: cfg, log: cfg.Logger}
	s.scanAll.Store(true)
	return s
}

// Start runs the controller, which gives each load balancer its nodes and
// hands it to the data plane, and publishes the DNS names.
func (s *Service) Start(context.Context) error {
	c := controller.New(controller.Config{Store: s.store, Logger: s.log, EC2: s.cfg.EC2, Certs: s.cfg.Certs,
		Dataplane: s.cfg.Dataplane, Now: s.cfg.Now})
	if err := c.Start(); err != nil {
		return err
	}
	s.ctl.Store(c)
	s.startEndpoints()
	return nil
}

// Stop stops the DNS names' updates and the controller, within ctx. What
// runs stays running: a stop of minicloud is not a deletion.
func (s *Service) Stop(ctx context.Context) error {
	c := s.ctl.Swap(nil)
	if c == nil {
		return nil
	}
	s.stopEndpoints()
	return c.Stop(ctx)
}

// Handlers returns the operations for the gateway.
func (s *Service) Handlers() map[string]api.Handler { return elbv2api.Handlers(s) }

// Info describes the service to the gateway.
func (s *Service) Info() *api.ServiceInfo { return elbv2api.Info }

// Health is the controller's counters and every load balancer's state and
// nodes, for /_minicloud/health.
func (s *Service) Health() map[string]any {
	out := map[string]any{"dataPlane": s.cfg.Dataplane != nil}
	if c := s.ctl.Load(); c != nil {
		out["controller"] = c.Status()
	}
	var list []map[string]any
	_ = s.store.View(context.Background(), func(tx state.Tx) error {
		return s.everyLB(tx, func(sc state.Scope, lb *records.LoadBalancer) error {
			e := map[string]any{"account": sc.Account, "region": sc.Region, "name": deref(lb.LoadBalancerName),
				"state": deref(lb.State.Code), "dnsName": deref(lb.DNSName), "nodes": len(lb.Nodes)}
			if lb.Error != "" {
				e["error"] = lb.Error
			}
			list = append(list, e)
			return nil
		})
	})
	out["loadBalancers"] = list
	return out
}

// everyLB calls fn with every load balancer of every account and region.
// It reads only the load balancer tables of the scopes known to hold one
// (s.scopes, kept from the store's events by the DNS index); the first
// call, and the first after the events were lost, scans the whole store
// to learn them.
func (s *Service) everyLB(tx state.Tx, fn func(sc state.Scope, lb *records.LoadBalancer) error) error {
	visit := func(key string, _ []byte) error {
		sc, id, ok := lbTable.ParseKey(key)
		if !ok {
			return nil
		}
		s.scopes.Store(sc, struct{}{})
		lb, found, err := lbTable.Get(tx, sc, id)
		if err != nil || !found {
			return err
		}
		return fn(sc, &lb)
	}
	if s.scanAll.Swap(false) {
		if err := tx.Scan("", visit); err != nil {
			s.scanAll.Store(true)
			return err
		}
		return nil
	}
	var scopes []state.Scope
	s.scopes.Range(func(k, _ any) bool { scopes = append(scopes, k.(state.Scope)); return true })
	slices.SortFunc(scopes, func(a, b state.Scope) int {
		return cmp.Or(strings.Compare(a.Account, b.Account), strings.Compare(a.Region, b.Region))
	})
	for _, sc := range scopes {
		if err := tx.Scan(lbTable.Prefix(sc), visit); err != nil {
			return err
		}
	}
	return nil
}

// noteEvent keeps s.scopes current from a store event.
func (s *Service) noteEvent(ev state.Event) {
	if ev.Reset || ev.Resync {
		if ev.Reset {
			s.scopes.Clear()
		}
		s.scanAll.Store(true)
		return
	}
	if sc, _, ok := lbTable.ParseKey(ev.Key); ok {
		s.scopes.Store(sc, struct{}{})
	}
}

func scopeOf(ctx context.Context) state.Scope {
	r := api.Request(ctx)
	return state.Scope{Account: r.Account, Region: r.Region}
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// Errors. Every ELB error is a 400 of the sender's fault.

func errCode(code, format string, args ...any) error {
	return api.Errorf(http.StatusBadRequest, code, format, args...)
}

func errValidation(format string, args ...any) error {
	return errCode("ValidationError", format, args...)
}

func errConfig(format string, args ...any) error {
	return errCode("InvalidConfigurationRequest", format, args...)
}

// errEnum is AWS's validation message for a value outside a member's enum.
func errEnum(value, member string, allowed ...string) error {
	return errValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]",
		value, member, join(allowed))
}

// errRange is AWS's validation message for a number outside a member's
// range (minimum when n is below it, else maximum).
func errRange(n int64, member string, min, max int64) error {
	if n < min {
		return errValidation("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", n, member, min)
	}
	return errValidation("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", n, member, max)
}

func join(list []string) string {
	out := ""
	for i, s := range list {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}

func deref[T any](p *T) T {
	if p == nil {
		var z T
		return z
	}
	return *p
}

func ptr[T any](v T) *T { return &v }
