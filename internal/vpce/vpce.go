package vpce

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/reconcile"
	"github.com/minicloud/minicloud/internal/service/ec2"
	"github.com/minicloud/minicloud/internal/state"
	"github.com/minicloud/minicloud/internal/vpcnet"
	"github.com/minicloud/minicloud/internal/workload"
)

// Endpoints is EC2's endpoint seam; *ec2.Service implements it.
type Endpoints interface {
	Store() state.Store
	DesiredEndpoint(ctx context.Context, account, region, id string) (ec2.EndpointSpec, bool, error)
	DesiredEndpoints(ctx context.Context) ([]ec2.EndpointSpec, error)
	ReportEndpointAvailable(ctx context.Context, account, region, id string) error
}

// Workloads places interfaces in namespaces; *workload.Runtime implements
// it.
type Workloads interface {
	Place(ctx context.Context, name string, enis []vpcnet.ENI) (*workload.Placement, error)
	Unplace(ctx context.Context, name string, also ...vpcnet.ENI) error
}

// Network makes gateway endpoints' namespaces; *vpcnet.Network implements
// it.
type Network interface {
	EnsureGatewayEndpoint(ctx context.Context, vpcID, id string, addrs []netip.Addr) (string, error)
	DeleteGatewayEndpoint(ctx context.Context, vpcID, id string) error
}

// Config configures a Controller.
type Config struct {
	EC2       Endpoints
	Workloads Workloads
	// Net makes gateway endpoints' namespaces; nil serves interface
	// endpoints only.
	Net Network
	// Handler serves every request (the gateway).
	Handler http.Handler
	// Certificate issues the HTTPS certificate of an endpoint for names
	// (vpcapi.Issue with minicloud's CA); called at an endpoint's first
	// handshake, then kept.
	Certificate func(names []string) (*tls.Certificate, error)
	// Names are the AWS service names of region every endpoint's
	// certificate covers besides its own (vpcapi.Names).
	Names func(region string) []string
	// Listen listens inside the namespace at ns; workload.ListenIn when
	// nil (tests listen elsewhere).
	Listen func(ns, network, address string) (net.Listener, error)
	// HTTPPort and HTTPSPort are 80 and 443 when zero.
	HTTPPort, HTTPSPort uint16
	// ReadHeaderTimeout and IdleTimeout go to http.Server.
	ReadHeaderTimeout, IdleTimeout time.Duration
	Logger                         *slog.Logger
}

// Controller serves interface endpoints.
type Controller struct {
	cfg Config
	log *slog.Logger
	q   *reconcile.Controller[reconcile.Key]

	mu   sync.Mutex
	eps  map[reconcile.Key]*endpoint
	dns  atomic.Pointer[snapshot]
	errs map[reconcile.Key]string // the last failure of each endpoint, for Health
}

// endpoint is one interface endpoint being served.
type endpoint struct {
	spec ec2.EndpointSpec
	// info is what each request through it carries (policy included),
	// swapped when the endpoint changes.
	info atomic.Pointer[api.VPCEndpoint]
	// names are its certificate's names; cert the certificate, made at the
	// first handshake.
	certMu sync.Mutex
	names  []string
	cert   *tls.Certificate
	enis   map[string]*served
	// gateway is a gateway endpoint's serving (its namespace's
	// addresses), nil for an interface endpoint.
	gateway *served
}

// served is one interface's listeners (or a gateway endpoint's).
type served struct {
	eni  vpcnet.ENI
	srvs []*http.Server
	// nsID is the namespace the listeners are in (vpcnet.NamespaceID): a
	// namespace made again (removed behind the controller's back) needs
	// new ones.
	nsID string
	// vpcID and addrs are a gateway endpoint's.
	vpcID string
	addrs []netip.Addr
}

// New returns a Controller; nothing happens before Start.
func New(cfg Config) *Controller {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Listen == nil {
		cfg.Listen = workload.ListenIn
	}
	if cfg.HTTPPort == 0 {
		cfg.HTTPPort = 80
	}
	if cfg.HTTPSPort == 0 {
		cfg.HTTPSPort = 443
	}
	c := &Controller{cfg: cfg, log: cfg.Logger.With("component", "vpce"), eps: map[reconcile.Key]*endpoint{}, errs: map[reconcile.Key]string{}}
	c.dns.Store(&snapshot{})
	c.q = reconcile.New("vpce", reconcile.Func[reconcile.Key](c.reconcile), reconcile.Options[reconcile.Key]{
		Logger:  cfg.Logger,
		Store:   cfg.EC2.Store(),
		Sources: []reconcile.Source[reconcile.Key]{reconcile.Objects("ec2", "vpce")},
		List:    c.list,
		// The safety resync re-places interfaces whose namespace was
		// removed behind the controller's back.
		Resync:     30 * time.Second,
		MinBackoff: 200 * time.Millisecond,
		MaxBackoff: 5 * time.Second,
		// Stopping closes every listener; the namespaces stay.
		OnStop: c.closeAll,
	})
	return c
}

// Start lists every endpoint and serves them, in the background, until
// Stop.
func (c *Controller) Start(ctx context.Context) error { return c.q.Start(ctx) }

// Stop closes every listener; the namespaces stay for the next Start.
func (c *Controller) Stop(ctx context.Context) error { return c.q.Stop(ctx) }

// Health reports the endpoints served and the reconciler's state.
func (c *Controller) Health() map[string]any {
	out := c.q.Status().Map()
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, e := range c.eps {
		n += len(e.enis)
	}
	out["endpoints"], out["interfaces"] = len(c.eps), n
	if len(c.errs) > 0 {
		errs := map[string]string{}
		for k, v := range c.errs {
			errs[k.String()] = v
		}
		out["errors"] = errs
	}
	return out
}

// Sync reconciles one endpoint now and returns its error (tests).
func (c *Controller) Sync(ctx context.Context, account, region, id string) error {
	return c.q.Sync(ctx, reconcile.Key{Scope: state.Scope{Account: account, Region: region}, ID: id})
}

func (c *Controller) list(ctx context.Context) ([]reconcile.Key, error) {
	specs, err := c.cfg.EC2.DesiredEndpoints(ctx)
	if err != nil {
		return nil, err
	}
	keys := make([]reconcile.Key, 0, len(specs))
	for _, s := range specs {
		keys = append(keys, keyOf(s))
	}
	// Endpoints served but gone from the list are reconciled too (removed).
	c.mu.Lock()
	for k := range c.eps {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	c.mu.Unlock()
	return keys, nil
}

func keyOf(s ec2.EndpointSpec) reconcile.Key {
	return reconcile.Key{Scope: state.Scope{Account: s.Account, Region: s.Region}, ID: s.ID}
}

// reconcile converges one endpoint: its interfaces placed and served, the
// ones it no longer has removed, its names published, and it reported
// available.
func (c *Controller) reconcile(ctx context.Context, k reconcile.Key) (reconcile.Result, error) {
	spec, found, err := c.cfg.EC2.DesiredEndpoint(ctx, k.Account, k.Region, k.ID)
	if err != nil {
		return reconcile.Result{}, err
	}
	if !found || (spec.Type != "Interface" && (spec.Type != "Gateway" || c.cfg.Net == nil)) {
		c.remove(ctx, k)
		return reconcile.Result{}, nil
	}
	if spec.Type == "Gateway" {
		err = c.serveGateway(ctx, k, spec)
	} else {
		err = c.serve(ctx, k, spec)
	}
	c.mu.Lock()
	if err != nil {
		c.errs[k] = err.Error()
	} else {
		delete(c.errs, k)
	}
	c.mu.Unlock()
	if err != nil {
		return reconcile.Result{}, err
	}
	if spec.State == "pending" {
		if err := c.cfg.EC2.ReportEndpointAvailable(ctx, k.Account, k.Region, k.ID); err != nil {
			return reconcile.Result{}, fmt.Errorf("report %s available: %w", k.ID, err)
		}
	}
	return reconcile.Result{}, nil
}

// serve makes spec's interfaces serve and drops the ones it lost.
func (c *Controller) serve(ctx context.Context, k reconcile.Key, spec ec2.EndpointSpec) error {
	e := c.endpoint(k, spec)
	var errs []error
	for _, ni := range spec.ENIs {
		eni := vpcnet.ENI{ID: ni.ID, VPCID: spec.VPCID, SubnetID: ni.SubnetID, MAC: ni.MAC, IP: ni.IP}
		// Placing is idempotent and cheap when done: it also re-plugs an
		// interface whose namespace was removed behind our back.
		pl, err := c.cfg.Workloads.Place(ctx, ni.ID, []vpcnet.ENI{eni})
		if err != nil {
			errs = append(errs, fmt.Errorf("place %s: %w", ni.ID, err))
			continue
		}
		c.mu.Lock()
		sv := e.enis[ni.ID]
		c.mu.Unlock()
		nsID := vpcnet.NamespaceID(pl.NS)
		if sv != nil && sv.eni.IP == ni.IP && sv.nsID == nsID {
			continue
		}
		if sv != nil {
			c.closeServers(sv.srvs)
		}
		sv = &served{eni: eni, nsID: nsID}
		if sv.srvs, err = c.listen(e, pl.NS, eni.IP); err != nil {
			errs = append(errs, fmt.Errorf("serve %s: %w", ni.ID, err))
			continue
		}
		c.mu.Lock()
		e.enis[ni.ID] = sv
		c.mu.Unlock()
	}
	for id, sv := range c.servedENIs(e) {
		if !slices.ContainsFunc(spec.ENIs, func(n ec2.EndpointENI) bool { return n.ID == id }) {
			c.closeServers(sv.srvs)
			if err := c.cfg.Workloads.Unplace(context.WithoutCancel(ctx), id, sv.eni); err != nil {
				errs = append(errs, fmt.Errorf("remove %s: %w", id, err))
			}
			c.mu.Lock()
			delete(e.enis, id)
			c.mu.Unlock()
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("endpoint %s: %w", spec.ID, err)
	}
	c.mu.Lock()
	e.spec = spec
	c.mu.Unlock()
	c.publish()
	return nil
}

// endpoint is k's served endpoint, made when new, with spec's identity,
// policy and certificate names.
func (c *Controller) endpoint(k reconcile.Key, spec ec2.EndpointSpec) *endpoint {
	c.mu.Lock()
	e := c.eps[k]
	if e == nil {
		e = &endpoint{enis: map[string]*served{}}
		c.eps[k] = e
	}
	c.mu.Unlock()
	e.info.Store(&api.VPCEndpoint{ID: spec.ID, VPCID: spec.VPCID, Policy: spec.Policy})
	names := c.certNames(spec)
	e.certMu.Lock()
	if !slices.Equal(e.names, names) {
		e.names, e.cert = names, nil
	}
	e.certMu.Unlock()
	return e
}

// serveGateway makes a gateway endpoint's namespace with its service's
// addresses and serves them there.
func (c *Controller) serveGateway(ctx context.Context, k reconcile.Key, spec ec2.EndpointSpec) error {
	e := c.endpoint(k, spec)
	ns, err := c.cfg.Net.EnsureGatewayEndpoint(ctx, spec.VPCID, spec.ID, spec.Addrs)
	if err != nil {
		return err
	}
	c.mu.Lock()
	sv := e.gateway
	c.mu.Unlock()
	nsID := vpcnet.NamespaceID(ns)
	if sv != nil && slices.Equal(sv.addrs, spec.Addrs) && sv.nsID == nsID {
		return nil
	}
	if sv != nil {
		c.closeServers(sv.srvs)
	}
	sv = &served{vpcID: spec.VPCID, addrs: slices.Clone(spec.Addrs), nsID: nsID}
	for _, a := range spec.Addrs {
		srvs, err := c.listen(e, ns, a)
		sv.srvs = append(sv.srvs, srvs...)
		if err != nil {
			c.closeServers(sv.srvs)
			return fmt.Errorf("gateway endpoint %s: serve %s: %w", spec.ID, a, err)
		}
	}
	c.mu.Lock()
	e.gateway, e.spec = sv, spec
	c.mu.Unlock()
	return nil
}

func (c *Controller) servedENIs(e *endpoint) map[string]*served {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]*served, len(e.enis))
	for id, sv := range e.enis {
		out[id] = sv
	}
	return out
}

// listen serves HTTP and HTTPS on ip inside the namespace at ns.
func (c *Controller) listen(e *endpoint, ns string, ip netip.Addr) ([]*http.Server, error) {
	var srvs []*http.Server
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.cfg.Handler.ServeHTTP(w, r.WithContext(api.WithVPCEndpoint(r.Context(), e.info.Load())))
	})
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return c.certificate(e) }}
	for _, l := range []struct {
		port uint16
		tls  bool
	}{{c.cfg.HTTPPort, false}, {c.cfg.HTTPSPort, true}} {
		ln, err := c.cfg.Listen(ns, "tcp", net.JoinHostPort(ip.String(), strconv.Itoa(int(l.port))))
		if err != nil {
			c.closeServers(srvs)
			return nil, err
		}
		if l.tls {
			ln = tls.NewListener(ln, tlsCfg)
		}
		srv := &http.Server{Handler: handler, ReadHeaderTimeout: c.cfg.ReadHeaderTimeout, IdleTimeout: c.cfg.IdleTimeout,
			ErrorLog: slog.NewLogLogger(c.log.Handler(), slog.LevelWarn)}
		srvs = append(srvs, srv)
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				c.log.Warn("serving a VPC endpoint", "endpoint", e.info.Load().ID, "addr", ln.Addr(), "err", err)
			}
		}()
	}
	return srvs, nil
}

// certNames are the names an endpoint's certificate covers: the region's
// service names, its own (*.<service>.<region>.vpce.amazonaws.com) and its
// private DNS name.
func (c *Controller) certNames(spec ec2.EndpointSpec) []string {
	var names []string
	if c.cfg.Names != nil {
		names = append(names, c.cfg.Names(spec.Region)...)
	}
	names = append(names, "*."+spec.Service+"."+spec.Region+".vpce.amazonaws.com")
	for _, n := range spec.PrivateDNS {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

func (c *Controller) certificate(e *endpoint) (*tls.Certificate, error) {
	e.certMu.Lock()
	defer e.certMu.Unlock()
	if e.cert != nil {
		return e.cert, nil
	}
	if c.cfg.Certificate == nil {
		return nil, errors.New("vpce: no certificate issuer")
	}
	cert, err := c.cfg.Certificate(e.names)
	if err != nil {
		return nil, err
	}
	e.cert = cert
	return cert, nil
}

// remove stops serving an endpoint and removes its interfaces'
// namespaces.
func (c *Controller) remove(ctx context.Context, k reconcile.Key) {
	c.mu.Lock()
	e := c.eps[k]
	delete(c.eps, k)
	delete(c.errs, k)
	c.mu.Unlock()
	if e == nil {
		return
	}
	if gw := e.gateway; gw != nil {
		c.closeServers(gw.srvs)
		if err := c.cfg.Net.DeleteGatewayEndpoint(context.WithoutCancel(ctx), gw.vpcID, k.ID); err != nil {
			c.log.Warn("remove a gateway endpoint's namespace", "endpoint", k.ID, "err", err)
		}
	}
	for id, sv := range c.servedENIs(e) {
		c.closeServers(sv.srvs)
		if err := c.cfg.Workloads.Unplace(context.WithoutCancel(ctx), id, sv.eni); err != nil {
			c.log.Warn("remove an interface endpoint's namespace", "endpoint", k.ID, "eni", id, "err", err)
		}
	}
	c.publish()
}

// closeServers closes listeners and the connections on them: an interface
// that is gone carries nothing more.
func (c *Controller) closeServers(srvs []*http.Server) {
	for _, srv := range srvs {
		_ = srv.Close()
	}
}

// closeAll closes every listener (Stop); the namespaces stay.
func (c *Controller) closeAll() {
	c.mu.Lock()
	eps := c.eps
	c.eps = map[reconcile.Key]*endpoint{}
	c.mu.Unlock()
	for _, e := range eps {
		for _, sv := range e.enis {
			c.closeServers(sv.srvs)
		}
		if e.gateway != nil {
			c.closeServers(e.gateway.srvs)
		}
	}
	c.publish()
}

// Addrs are the addresses an endpoint serves on now (tests).
func (c *Controller) Addrs(account, region, id string) []netip.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.eps[reconcile.Key{Scope: state.Scope{Account: account, Region: region}, ID: id}]
	if e == nil {
		return nil
	}
	var out []netip.Addr
	for _, sv := range e.enis {
		out = append(out, sv.eni.IP)
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}
