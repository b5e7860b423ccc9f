// Package server assembles minicloud: it opens the state store, builds the
// data plane and every service, hands the services to the gateway, and runs
// the lifecycle of all of them and of the DNS and HTTP listeners as one
// ordered list (lifecycle.go). cmd/minicloud and the in-process tests both
// start minicloud through it, so tests exercise exactly what the binary runs.
package server

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/catalog"
	"github.com/minicloud/minicloud/internal/authz"
	"github.com/minicloud/minicloud/internal/awsendpoints"
	"github.com/minicloud/minicloud/internal/certport"
	"github.com/minicloud/minicloud/internal/dnszone"
	"github.com/minicloud/minicloud/internal/ec2port"
	"github.com/minicloud/minicloud/internal/gateway"
	"github.com/minicloud/minicloud/internal/instance/apionly"
	instruntime "github.com/minicloud/minicloud/internal/instance/runtime"
	"github.com/minicloud/minicloud/internal/lb/nodes"
	"github.com/minicloud/minicloud/internal/oidc"
	"github.com/minicloud/minicloud/internal/pki"
	"github.com/minicloud/minicloud/internal/service/acm"
	"github.com/minicloud/minicloud/internal/service/cloudtrail"
	"github.com/minicloud/minicloud/internal/service/cloudwatch"
	"github.com/minicloud/minicloud/internal/service/ec2"
	"github.com/minicloud/minicloud/internal/service/elbv2"
	elbctl "github.com/minicloud/minicloud/internal/service/elbv2/controller"
	"github.com/minicloud/minicloud/internal/service/iam"
	"github.com/minicloud/minicloud/internal/service/logs"
	"github.com/minicloud/minicloud/internal/service/rds"
	"github.com/minicloud/minicloud/internal/service/route53"
	"github.com/minicloud/minicloud/internal/service/ssm"
	"github.com/minicloud/minicloud/internal/service/sts"
	"github.com/minicloud/minicloud/internal/state"
	"github.com/minicloud/minicloud/internal/vpcapi"
	"github.com/minicloud/minicloud/internal/vpce"
	"github.com/minicloud/minicloud/internal/vpcnet"
	"github.com/minicloud/minicloud/internal/workload"
)

// Config is minicloud's configuration; cmd/minicloud fills it from flags and
// the environment.
type Config struct {
	Listen    string
	StateDir  string
	Ephemeral bool
	Accounts  map[string]string
	Logger    *slog.Logger
	Version   string
	// EC2Runtime runs EC2 instances (ec2.Runtime); nil means the data
	// plane's runtime when DataPlane is on, else the API-only runtime
	// (package apionly: instances reach running, stopped and terminated
	// with nothing running). Tests set it to a runtime of their own.
	EC2Runtime ec2.Runtime
	// ELBDataplane runs load balancers' nodes (elbv2's
	// controller.Dataplane); nil: load balancers are API-only. Tests set
	// it to a fake.
	ELBDataplane elbctl.Dataplane
	// Certificates replaces ACM as load balancers' HTTPS listeners see it
	// (certport.Port); nil, the default: the server's own ACM.
	Certificates certport.Port
	// DataPlane is off (the zero value), auto or on: whether VPCs become real
	// networks and instances real processes on this host.
	DataPlane string
	// PublicCIDR is the range of public IPs on the host (default
	// 198.18.0.0/15).
	PublicCIDR netip.Prefix
	// DNSListen is where Start serves DNS for Route 53's public zones: an
	// address, DNSListenAuto, or "" / DNSListenOff for none.
	DNSListen string
	// AllowedHosts are names besides IP addresses, localhost and AWS
	// endpoint names that requests' Host header may carry (gateway's
	// guard against DNS rebinding): a container network's name, say.
	AllowedHosts []string
	// Secrets maps access keys to their secret access keys
	// (--accounts KEY=ACCOUNT:SECRET).
	Secrets map[string]string
	// VerifySignatures makes every request prove its SigV4 signature
	// (gateway, auth.go).
	VerifySignatures bool
	// Now is the clock signatures are checked against (time.Now if nil):
	// tests skew it.
	Now func() time.Time
	// MaxConnections is how many HTTP connections are served at once
	// (0: DefaultMaxConnections; negative: no limit); past it a request
	// is answered 503 (connlimit.go).
	MaxConnections int
	// ReadHeaderTimeout, BodyIdleTimeout and IdleTimeout bound a
	// connection's request head, the pauses of its body and its idle
	// keep-alive time (0: the defaults in connlimit.go).
	ReadHeaderTimeout, BodyIdleTimeout, IdleTimeout time.Duration
	// MetricsInterval is how often the data planes publish CloudWatch's
	// built-in metrics (AWS/EC2, AWS/ApplicationELB): 0 is AWS's minute
	// (basic monitoring: five). Shorter is for tests (serve
	// --metrics-interval).
	MetricsInterval time.Duration
	// IAMEnforce evaluates every request against its caller's IAM
	// policies (serve --iam enforce; package authz) and makes AssumeRole
	// check the role's trust policy; signatures must then be verified
	// too (VerifySignatures), or anyone could claim any access key.
	IAMEnforce bool
	// SSMCheckInterval is how often Systems Manager checks each instance's
	// agent (0: 30 s) and SSMConnectionLostAfter how long after its last
	// ping an agent shows ConnectionLost (0: 5 minutes); tests shorten
	// them.
	SSMCheckInterval, SSMConnectionLostAfter time.Duration
	// CloudTrailOff leaves the calls unrecorded (serve --cloudtrail off):
	// LookupEvents still answers, with the events recorded before. It
	// exists to measure what recording costs, side by side (bench/).
	CloudTrailOff bool
}

// Server is a running minicloud.
type Server struct {
	cfg     Config
	store   state.Store
	iam     *iam.Service
	ec2     *ec2.Service
	route53 *route53.Service
	acm     *acm.Service
	rds     *rds.Service
	elb     *elbv2.Service
	cw      *cloudwatch.Service
	logs    *logs.Service
	trail   *cloudtrail.Service
	ssm     *ssm.Service
	dns     *dnsServer
	http    *httpServer
	gw      *gateway.Gateway
	// parts is everything the server runs, in start order (see
	// lifecycle.go).
	parts []*part
}

// DefaultStateDir is where state lives without --state-dir: the user's data
// directory ($XDG_DATA_HOME/minicloud or ~/.local/share/minicloud).
func DefaultStateDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "minicloud")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "minicloud")
	}
	return filepath.Join(os.TempDir(), "minicloud")
}

// New opens the store and builds the services; it does not listen yet.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var (
		store state.Store
		err   error
	)
	if cfg.Ephemeral {
		store = state.NewMemory()
	} else {
		if cfg.StateDir == "" {
			cfg.StateDir = DefaultStateDir()
		}
		store, err = state.OpenBolt(filepath.Join(cfg.StateDir, "state.db"))
		if err != nil {
			return nil, fmt.Errorf("open state: %w", err)
		}
	}
	// CloudWatch's metrics live in files of their own beside state.db
	// (internal/metrics says why); the data planes publish theirs there.
	// Alarms live in the state store and are evaluated every
	// MetricsInterval too (a minute unless a test shortens it).
	cwSvc, err := cloudwatch.New(cloudwatch.Config{Dir: metricsDir(cfg), Now: cfg.Now, Logger: cfg.Logger,
		State: store, EvaluationInterval: cfg.MetricsInterval})
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	// CloudWatch Logs' events live in files of their own too
	// (internal/service/logs says why); metric filters publish to
	// CloudWatch.
	logsSvc, err := logs.New(logs.Config{Dir: eventsDir(cfg), State: store, Metrics: cwSvc.Publisher(), Now: cfg.Now, Logger: cfg.Logger})
	if err != nil {
		_ = cwSvc.Stop(context.Background())
		_ = store.Close()
		return nil, err
	}
	// CloudTrail's events too: append-mostly, read by time, dropped by age.
	trailSvc, err := cloudtrail.New(cloudtrail.Config{Dir: trailDir(cfg), Now: cfg.Now, Logger: cfg.Logger})
	if err != nil {
		_ = logsSvc.Stop(context.Background())
		_ = cwSvc.Stop(context.Background())
		_ = store.Close()
		return nil, err
	}
	ca := pki.New(caDir(cfg))
	dp, err := newDataPlane(cfg, cwSvc.Publisher(), ca)
	if err != nil {
		_ = trailSvc.Stop(context.Background())
		_ = logsSvc.Stop(context.Background())
		_ = cwSvc.Stop(context.Background())
		_ = store.Close()
		return nil, err
	}
	switch {
	case cfg.EC2Runtime != nil:
	case dp.rt != nil:
		cfg.EC2Runtime = dp.rt
	default:
		// API-only: instances reach AWS's states with nothing running,
		// saying so (console output, health).
		cfg.EC2Runtime = apionly.New(apionly.Config{Reason: dp.reason, Logger: cfg.Logger})
	}
	iamSvc := iam.New(store)
	issuer := oidc.NewIssuer(oidcDir(cfg))
	stsSvc := sts.New(store, stsRoles{iamSvc}).WithFederation(stsFederation{iam: iamSvc, issuer: issuer})
	ec2Opts := []ec2.Option{ec2.WithRuntime(cfg.EC2Runtime), ec2.WithPublicPool(cfg.PublicCIDR), ec2.WithProfiles(iamSvc.Profiles())}
	if dp.wl != nil {
		// Interface endpoints are served (vpce) and pending until then.
		ec2Opts = append(ec2Opts, ec2.WithEndpointRuntime())
	}
	ec2Svc := ec2.New(store, ec2Opts...)
	var authorizer api.Authorizer
	if enf := enforcer(iamSvc, ec2Svc, cfg.IAMEnforce); enf != nil {
		// STS decodes the messages enforcement encodes.
		stsSvc.WithMessages(enf)
		authorizer = enf
	}
	if dp.rt != nil {
		// Instances get their profile's role credentials from IMDS.
		dp.rt.SetRoles(iamSvc.Profiles(), stsSvc.RoleCredentials())
	}
	r53Svc := route53.New(store)
	r53Svc.SetLogs(logsSvc.Writer(), logsSvc.Groups())
	cwSvc.SetInstanceActor(ec2Svc.InstanceActor())
	// RDS's servers are workloads: placed in their VPCs with the data
	// plane on, on loopback only without.
	rdsCfg := rds.Config{StateDir: stateDirOf(cfg), EC2: ec2Svc.Port(ec2port.RequesterRDS), Workloads: dp.wl, Logger: cfg.Logger,
		Metrics: cwSvc.Publisher(), MetricsInterval: cfg.MetricsInterval, Logs: logsSvc.Writer()}
	if dp.net != nil {
		// Health checks may probe public IPs only while the data plane
		// keeps that range on the host.
		r53Svc.SetPublicRange(publicCIDR(cfg))
	}
	if rdsCfg.Workloads == nil {
		// Without the data plane the servers still run, on loopback, in
		// cgroups named after the state directory as the data plane's
		// are (so "minicloud cleanup" finds them); an ephemeral store
		// gets a name of its process's own.
		wcfg := workload.Config{Logger: cfg.Logger}
		if !cfg.Ephemeral {
			wcfg.CgroupPrefix = Prefix(cfg.StateDir)
		}
		rdsCfg.Workloads = workload.New(wcfg)
	}
	rdsSvc := rds.New(store, rdsCfg)
	// ACM validates requested certificates through Route 53's public
	// zones, as AWS does through the public DNS; it needs no data plane.
	acmSvc := acm.New(store, acm.Config{CA: ca, Zones: r53Svc.Source(), Logger: cfg.Logger})
	certs := cmp.Or(cfg.Certificates, acmSvc.Port())
	// Load balancers' nodes are workloads too; without the data plane the
	// API runs them nowhere (API-only) unless a test gives a data plane.
	elbDP, lbNodes := cfg.ELBDataplane, (*nodes.Dataplane)(nil)
	if elbDP == nil && dp.wl != nil {
		lbNodes = nodes.New(nodes.Config{Workloads: dp.wl, Certs: certs, Logger: cfg.Logger,
			Metrics: cwSvc.Publisher(), MetricsInterval: cfg.MetricsInterval})
		elbDP = lbNodes
	}
	// Systems Manager keeps the keys of SecureString parameters beside
	// the store; it plays the SSM Agent of the instances whose role and
	// network would let the agent in (from inside their namespaces).
	ssmSvc := ssm.New(store, ssm.Config{KeyDir: ssmKeyDir(cfg), Images: ec2Svc, Now: cfg.Now, Logger: cfg.Logger,
		Instances: ssmInstances{ec2Svc}, Profiles: iamSvc.Profiles(), Policies: iamSvc, Agent: ssmAgent(dp), AgentEnv: []string{instruntime.CAEnvironment},
		CheckInterval: cfg.SSMCheckInterval, ConnectionLostAfter: cfg.SSMConnectionLostAfter})
	sessions := newSessionManager(cfg, dp, ssmSvc)
	elbSvc := elbv2.New(store, elbv2.Config{EC2: ec2Svc.Port(ec2port.RequesterELB), Dataplane: elbDP, Certs: certs, Logger: cfg.Logger})
	// The endpoint names both the VPC resolvers and the DNS server answer.
	endpoints := dnszone.EndpointSources{rdsSvc.EndpointSource(), elbSvc.EndpointSource()}
	if dp.net != nil {
		// AWS's own service names, to the public service addresses the
		// in-VPC API listener serves (vpcapi).
		public := publicCIDR(cfg)
		endpoints = append(endpoints, awsendpoints.New(ec2.RegionNames(), func(svc string) netip.Addr {
			return vpcnet.ServiceAddress(public, svc)
		}).Sources()...)
	}
	// Interface VPC endpoints serve the gateway (set below) in their
	// interfaces' namespaces and publish their names.
	var vpceCtl *vpce.Controller
	var vpcEndpointDNS func(string) dnszone.EndpointSets
	gw := &lateHandler{}
	if dp.wl != nil && dp.net != nil {
		vpceCtl = vpce.New(vpce.Config{EC2: ec2Svc, Workloads: dp.wl, Net: dp.net, Handler: gw,
			Certificate:       func(names []string) (*tls.Certificate, error) { return vpcapi.Issue(acmSvc.CA(), names) },
			Names:             func(region string) []string { return vpcapi.Names([]string{region}) },
			ReadHeaderTimeout: cmp.Or(cfg.ReadHeaderTimeout, DefaultReadHeaderTimeout), IdleTimeout: cmp.Or(cfg.IdleTimeout, DefaultIdleTimeout),
			Logger: cfg.Logger})
		endpoints = append(endpoints, vpceCtl.Names())
		vpcEndpointDNS = vpceCtl.PrivateDNS
	}
	r53Svc.SetEndpoints(endpoints)
	dp.wire(ec2Svc, store, r53Svc.Source(), endpoints, vpcEndpointDNS, cfg.Logger)
	s := &Server{cfg: cfg, store: store, iam: iamSvc, ec2: ec2Svc, route53: r53Svc, acm: acmSvc, rds: rdsSvc, elb: elbSvc, cw: cwSvc, logs: logsSvc, trail: trailSvc, ssm: ssmSvc,
		dns: &dnsServer{listen: cfg.DNSListen, zones: r53Svc.Source(), endpoints: endpoints, onQuery: r53Svc.LogQuery, logger: cfg.Logger},
		http: &httpServer{listen: cfg.Listen, logger: cfg.Logger, maxConns: cmp.Or(cfg.MaxConnections, DefaultMaxConnections),
			readHeaderTimeout: cmp.Or(cfg.ReadHeaderTimeout, DefaultReadHeaderTimeout), idleTimeout: cmp.Or(cfg.IdleTimeout, DefaultIdleTimeout)}}
	// The order is the start order; Close stops in reverse. The network
	// controller runs before the instance runtime, so that the instances it
	// boots find their VPC's network, and both before RDS, whose servers
	// are placed on that network. The listeners start last, once everything
	// they answer for runs.
	s.parts = []*part{
		{name: "state store", health: "state", it: stateStore{store, cfg}},
		// Right after the state: the data planes publish metrics until
		// they stop.
		service(cwSvc),
		service(logsSvc),
		// Stopped after the HTTP listener, so that it writes the events
		// of every answered call.
		service(trailSvc),
		{name: "network controller", health: "dataPlane", it: dp, dataPlane: true},
		{name: "instance runtime", health: "instances", it: instanceRuntime{ec2Svc}, dataPlane: true},
		// Stopped after ELB's controller, which drives it.
		{name: "load balancer nodes", health: "loadBalancerNodes", it: lbNodes, dataPlane: true},
		service(stsSvc),
		service(iamSvc),
		service(ec2Svc),
		service(r53Svc),
		service(acmSvc),
		service(rdsSvc),
		service(elbSvc),
		service(ssmSvc),
		// After Systems Manager, before it stops: sessions end on record.
		{name: "Session Manager", it: sessions},
		// After EC2: its actions stop and terminate instances.
		{name: "alarm evaluator", health: "alarms", it: cwSvc.Evaluator()},
		{name: "DNS server", health: "dns", it: s.dns, listener: true},
		{name: "HTTP listener", it: s.http, listener: true},
	}
	s.gw = gateway.New(gateway.Config{
		Backends:         backends(s.parts),
		Accounts:         cfg.Accounts,
		Identities:       api.IdentityChain{stsSvc, iamSvc},
		Logger:           cfg.Logger,
		Version:          cfg.Version,
		Health:           func() map[string]any { return withIAM(partsHealth(s.parts), cfg.IAMEnforce) },
		Reset:            s.reset,
		Diagram:          s.Diagram,
		KnownRegion:      ec2.KnownRegion,
		AllowedHosts:     append(listenName(cfg.Listen), cfg.AllowedHosts...),
		Secrets:          cfg.Secrets,
		VerifySignatures: cfg.VerifySignatures || cfg.IAMEnforce,
		DataChannels:     sessions.m,
		Now:              cfg.Now,
		BodyIdleTimeout:  cmp.Or(cfg.BodyIdleTimeout, DefaultBodyIdleTimeout),
		Recorder:         recorder(trailSvc, cfg.CloudTrailOff),
		Authorizer:       authorizer,
		Endpoints:        minicloudEndpoints(r53Svc, acmSvc, issuer),
	})
	s.http.handler = s.gw
	// Workloads reach the AWS APIs only, through endpoints as on the
	// public service addresses.
	awsOnly := s.gw.AWSOnly()
	gw.h.Store(&awsOnly)
	if dp.net != nil {
		// The API where AWS's public endpoints are, for instances; it
		// starts after, and stops before, the loopback listener.
		vpcAPI := vpcapi.New(vpcapi.Config{Addresses: dp.net, Handler: awsOnly, CA: acmSvc.CA(), Regions: ec2.RegionNames(),
			ReadHeaderTimeout: s.http.readHeaderTimeout, IdleTimeout: s.http.idleTimeout, Logger: cfg.Logger})
		s.parts = append(s.parts, &part{name: "VPC API listener", health: "vpcAPI", it: vpcAPI, listener: true, dataPlane: true})
	}
	if vpceCtl != nil {
		s.parts = append(s.parts, &part{name: "VPC endpoints", health: "vpcEndpoints", it: vpceCtl, listener: true, dataPlane: true})
	}
	if err := startParts(context.Background(), s.parts, false); err != nil {
		return nil, err
	}
	return s, nil
}

// lateHandler is a handler known only after the parts that serve it are
// built (the gateway as workloads reach it, for the VPC endpoints built
// before it).
type lateHandler struct {
	h atomic.Pointer[http.Handler]
}

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*l.h.Load()).ServeHTTP(w, r)
}

// backends gives the gateway every generated service, with the handlers of
// those a part implements; the others answer NotImplemented.
func backends(parts []*part) []gateway.Backend {
	implemented := map[string]map[string]api.Handler{}
	for _, p := range parts {
		if svc, ok := p.it.(Service); ok {
			implemented[svc.Info().Name] = svc.Handlers()
		}
	}
	var out []gateway.Backend
	for _, info := range catalog.All {
		out = append(out, gateway.Backend{Info: info, Handlers: implemented[info.Name]})
	}
	return out
}

// Handler is the gateway, for tests that serve it with httptest.
func (s *Server) Handler() http.Handler { return s.gw }

// Route53 is the Route 53 service, for DNS servers (its Source).
func (s *Server) Route53() *route53.Service { return s.route53 }

// EC2 is the EC2 service, for data-plane controllers (its DesiredNetwork
// and Store).
func (s *Server) EC2() *ec2.Service { return s.ec2 }

func (s *Server) reset(ctx context.Context) error {
	if err := s.store.Reset(ctx); err != nil {
		return err
	}
	s.iam.Invalidate()
	if err := s.cw.Reset(ctx); err != nil {
		return err
	}
	if err := s.trail.Reset(ctx); err != nil {
		return err
	}
	return s.logs.Reset(ctx)
}

// Start starts the listeners: DNS (cfg.DNSListen), then HTTP on cfg.Listen,
// served in the background.
func (s *Server) Start() error {
	return startParts(context.Background(), s.parts, true)
}

// Addr is the address Start listens on.
func (s *Server) Addr() string { return s.http.ln.Addr().String() }

// Done reports the listener's end.
func (s *Server) Done() <-chan error { return s.http.done }

// Close stops everything in reverse start order: first serving, waiting up
// to the context's deadline for requests in flight, and last the store.
// The data plane gets its own time (dataPlaneStopBudget).
func (s *Server) Close(ctx context.Context) error {
	return stopParts(ctx, s.parts)
}

// httpServer is the HTTP listener of the gateway, as a listener part.
type httpServer struct {
	listen  string // Config.Listen
	handler http.Handler
	logger  *slog.Logger
	ln      net.Listener
	srv     *http.Server
	done    chan error
	// maxConns bounds the connections served at once (<= 0: none);
	// readHeaderTimeout and idleTimeout go to http.Server (connlimit.go).
	maxConns                       int
	readHeaderTimeout, idleTimeout time.Duration
}

// Start listens and serves in the background.
func (h *httpServer) Start(context.Context) error {
	ln, err := net.Listen("tcp", h.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", h.listen, err)
	}
	h.ln = ln
	if gw, ok := h.handler.(*gateway.Gateway); ok && h.maxConns > 0 {
		ln = newLimitListener(ln, h.maxConns, gw.Overloaded, h.logger)
	}
	h.srv = &http.Server{Handler: h.handler, ReadHeaderTimeout: h.readHeaderTimeout, IdleTimeout: h.idleTimeout,
		ErrorLog: slog.NewLogLogger(h.logger.Handler(), slog.LevelWarn)}
	h.done = make(chan error, 1)
	go func() {
		err := h.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		h.done <- err
	}()
	return nil
}

// Stop stops serving, waiting up to ctx's deadline for requests in flight.
func (h *httpServer) Stop(ctx context.Context) error {
	if err := h.srv.Shutdown(ctx); err != nil {
		// Requests still running past the deadline are cut, so that
		// nothing uses the store after it closes.
		return errors.Join(err, h.srv.Close())
	}
	return nil
}

// publicCIDR is the range of public IPs the data plane routes on the host.
func publicCIDR(cfg Config) netip.Prefix {
	if cfg.PublicCIDR.IsValid() {
		return cfg.PublicCIDR
	}
	return vpcnet.DefaultPublicCIDR
}

// ACM is the ACM service: its Port for the services that serve its
// certificates, its CA for tests.
func (s *Server) ACM() *acm.Service { return s.acm }

// RDS is the RDS service (its Loopback addresses, for tests and tools).
func (s *Server) RDS() *rds.Service { return s.rds }

// SSM is Systems Manager (its managed-instance checks, for tests).
func (s *Server) SSM() *ssm.Service { return s.ssm }

// ELB is the Elastic Load Balancing service (its health, for tests).
func (s *Server) ELB() *elbv2.Service { return s.elb }

// listenName is the host name of a listen address when it is a name (an
// address needs no allowing): requests to it carry it as their Host.
func listenName(listen string) []string {
	h, _, err := net.SplitHostPort(listen)
	if err != nil || h == "" {
		return nil
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return nil
	}
	return []string{h}
}

// metricsDir is where CloudWatch keeps its metrics ("" in memory).
func metricsDir(cfg Config) string {
	if cfg.Ephemeral {
		return ""
	}
	return filepath.Join(cfg.StateDir, "metrics")
}

// eventsDir is where CloudWatch Logs keeps its events ("" in memory).
func eventsDir(cfg Config) string {
	if cfg.Ephemeral {
		return ""
	}
	return filepath.Join(cfg.StateDir, "logs")
}

// recorder is the gateway's Recorder: CloudTrail, unless it is off (an
// interface holding a nil pointer would not read as none).
func recorder(trail *cloudtrail.Service, off bool) api.Recorder {
	if off {
		return nil
	}
	return trail
}

// enforcer is IAM enforcement when it is on: IAM's policies evaluated by
// package authz, IAM and EC2 answering their resources' tags
// (aws:ResourceTag); nil when off.
func enforcer(iamSvc *iam.Service, tagger authz.ResourceTagger, enforce bool) *authz.Enforcer {
	if !enforce {
		return nil
	}
	return authz.New(authz.Config{Policies: iamSvc, Resources: iamSvc, Paths: iamSvc, Taggers: map[string]authz.ResourceTagger{"iam": iamSvc, "ec2": tagger}})
}

// minicloudEndpoints are the /_minicloud/ endpoints the services' owners serve.
func minicloudEndpoints(r53Svc *route53.Service, acmSvc *acm.Service, issuer *oidc.Issuer) map[string]http.Handler {
	m := map[string]http.Handler{DelegationPath: delegationHandler(r53Svc), CAPath: caHandler(acmSvc.CA())}
	maps.Copy(m, oidcEndpoints(issuer))
	return m
}

// withIAM adds to the health report whether IAM is enforced.
func withIAM(h map[string]any, enforce bool) map[string]any {
	h["iam"] = map[string]any{"mode": map[bool]string{true: "enforce", false: "off"}[enforce]}
	return h
}

// stsRoles is STS's port to IAM's roles and managed policies.
type stsRoles struct{ iam *iam.Service }

func (r stsRoles) Role(ctx context.Context, arn string) (sts.Role, bool, error) {
	ri, found, err := r.iam.Role(ctx, arn)
	return sts.Role{ARN: ri.ARN, ID: ri.ID, MaxSession: ri.MaxSession}, found, err
}

func (r stsRoles) PolicyDocument(ctx context.Context, account, arn string) (string, bool, error) {
	return r.iam.PolicyDocument(ctx, account, arn)
}

// trailDir is where CloudTrail's events live; "" (memory) with
// --ephemeral.
func trailDir(cfg Config) string {
	if cfg.Ephemeral {
		return ""
	}
	return filepath.Join(cfg.StateDir, "cloudtrail")
}

// ssmKeyDir is where Systems Manager keeps the accounts' SecureString
// keys; "" (memory) with --ephemeral.
func ssmKeyDir(cfg Config) string {
	if cfg.Ephemeral {
		return ""
	}
	return filepath.Join(cfg.StateDir, "ssm")
}

// stateDirOf is where durable data other than the store lives; "" with
// --ephemeral (RDS then uses a temporary directory).
func stateDirOf(cfg Config) string {
	if cfg.Ephemeral {
		return ""
	}
	return cfg.StateDir
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
