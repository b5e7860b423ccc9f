// Package server assembles minicloud: it opens the state store, builds every
// service and hands them to the gateway, and owns the HTTP listener's
// lifecycle. cmd/minicloud and the in-process tests both start minicloud
// through it, so tests exercise exactly what the binary runs.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/catalog"
	"github.com/minicloud/minicloud/internal/dns53"
	"github.com/minicloud/minicloud/internal/ec2port"
	"github.com/minicloud/minicloud/internal/gateway"
	"github.com/minicloud/minicloud/internal/service/ec2"
	"github.com/minicloud/minicloud/internal/service/rds"
	"github.com/minicloud/minicloud/internal/service/route53"
	"github.com/minicloud/minicloud/internal/service/sts"
	"github.com/minicloud/minicloud/internal/state"
	"github.com/minicloud/minicloud/internal/vpcnet"
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
	// plane's runtime when DataPlane is on, else none (instances stay
	// pending). Tests set it to a runtime of their own.
	EC2Runtime ec2.Runtime
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
}

// Server is a running minicloud.
type Server struct {
	cfg       Config
	store     state.Store
	ec2       *ec2.Service
	route53   *route53.Service
	rds       *rds.Service
	dns       *dns53.Server
	dnsReason string
	dp        *dataPlane
	gw        *gateway.Gateway
	http      *http.Server
	listener  net.Listener
	done      chan error
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
	dp, err := newDataPlane(cfg)
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	if cfg.EC2Runtime == nil && dp.rt != nil {
		cfg.EC2Runtime = dp.rt
	}
	stsSvc := sts.New(store)
	ec2Svc := ec2.New(store, ec2.WithRuntime(cfg.EC2Runtime), ec2.WithPublicPool(cfg.PublicCIDR))
	r53Svc := route53.New(store)
	rdsEC2 := rdsPort{ec2Svc.Port(ec2port.RequesterRDS)}
	rdsCfg := rds.Config{StateDir: stateDirOf(cfg), Subnets: rdsEC2, Logger: cfg.Logger}
	if dp.net != nil {
		rdsCfg.Net, rdsCfg.ENIs, rdsCfg.Sync = dp.net, rdsEC2, dp.sync
	}
	rdsSvc := rds.New(store, rdsCfg)
	implemented := map[string]map[string]api.Handler{
		"sts":     stsSvc.Handlers(),
		"ec2":     ec2Svc.Handlers(),
		"route53": r53Svc.Handlers(),
		"rds":     rdsSvc.Handlers(),
	}
	var backends []gateway.Backend
	for _, info := range catalog.All {
		backends = append(backends, gateway.Backend{Info: info, Handlers: implemented[info.Name]})
	}
	s := &Server{cfg: cfg, store: store, ec2: ec2Svc, route53: r53Svc, rds: rdsSvc, dp: dp}
	if err := r53Svc.Start(context.Background()); err != nil {
		dp.close()
		_ = store.Close()
		return nil, fmt.Errorf("start Route 53 health checks: %w", err)
	}
	s.gw = gateway.New(gateway.Config{
		Backends:     backends,
		Accounts:     cfg.Accounts,
		Identities:   stsSvc,
		Logger:       cfg.Logger,
		Version:      cfg.Version,
		Health:       s.health,
		Reset:        s.reset,
		Diagram:      s.Diagram,
		KnownRegion:  ec2.KnownRegion,
		AllowedHosts: append(listenName(cfg.Listen), cfg.AllowedHosts...),
	})
	// The network controller starts first, so that the instances the runtime
	// boots find their VPC's network.
	if err := dp.start(ec2Svc, s); err != nil {
		r53Svc.Stop()
		dp.close()
		_ = store.Close()
		return nil, err
	}
	if err := ec2Svc.StartRuntime(); err != nil {
		r53Svc.Stop()
		_ = dp.stop(context.Background())
		_ = store.Close()
		return nil, fmt.Errorf("start the EC2 instance runtime: %w", err)
	}
	if err := rdsSvc.Start(context.Background()); err != nil {
		r53Svc.Stop()
		_ = ec2Svc.Close(context.Background())
		_ = dp.stop(context.Background())
		_ = store.Close()
		return nil, fmt.Errorf("start the RDS engine controller: %w", err)
	}
	if dp.net != nil {
		// Health checks may probe public IPs only while the data plane
		// keeps that range on the host.
		pub := cfg.PublicCIDR
		if !pub.IsValid() {
			pub = vpcnet.DefaultPublicCIDR
		}
		r53Svc.SetPublicRange(pub)
	}
	return s, nil
}

// Handler is the gateway, for tests that serve it with httptest.
func (s *Server) Handler() http.Handler { return s.gw }

// Route53 is the Route 53 service, for DNS servers (its Source).
func (s *Server) Route53() *route53.Service { return s.route53 }

// EC2 is the EC2 service, for data-plane controllers (its DesiredNetwork
// and Store).
func (s *Server) EC2() *ec2.Service { return s.ec2 }

func (s *Server) health() map[string]any {
	st := map[string]any{"backend": "bolt", "dir": s.cfg.StateDir}
	if s.cfg.Ephemeral {
		st = map[string]any{"backend": "memory"}
	}
	return map[string]any{"state": st, "instances": s.ec2.RuntimeHealth(), "dataPlane": s.dp.health(), "dns": s.dnsHealth(), "rds": s.rds.Health()}
}

func (s *Server) reset(ctx context.Context) error {
	return s.store.Reset(ctx)
}

// Start listens on cfg.Listen and serves in the background.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Listen, err)
	}
	s.listener = ln
	if err := s.startDNS(); err != nil {
		_ = ln.Close()
		return err
	}
	s.http = &http.Server{Handler: s.gw, ReadHeaderTimeout: 30 * time.Second, ErrorLog: slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn)}
	s.done = make(chan error, 1)
	go func() {
		err := s.http.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	return nil
}

// Addr is the address Start listens on.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// Done reports the listener's end.
func (s *Server) Done() <-chan error { return s.done }

// Close stops serving, waiting up to the context's deadline for requests in
// flight, and closes the store.
func (s *Server) Close(ctx context.Context) error {
	var errs []error
	if s.http != nil {
		if err := s.http.Shutdown(ctx); err != nil {
			// Requests still running past the deadline are cut, so that
			// nothing uses the store after it closes.
			errs = append(errs, err, s.http.Close())
		}
	}
	if s.dns != nil {
		s.dns.Stop()
	}
	s.route53.Stop()
	s.rds.Stop()
	// Stopping instances and removing the data plane get their own time: a
	// slow HTTP shutdown must not leave namespaces and routes behind.
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	errs = append(errs, s.ec2.Close(tctx))
	errs = append(errs, s.dp.stop(tctx))
	errs = append(errs, s.store.Close())
	return errors.Join(errs...)
}

// RDS is the RDS service (its Loopback addresses, for tests and tools).
func (s *Server) RDS() *rds.Service { return s.rds }

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

// stateDirOf is where durable data other than the store lives; "" with
// --ephemeral (RDS then uses a temporary directory).
func stateDirOf(cfg Config) string {
	if cfg.Ephemeral {
		return ""
	}
	return cfg.StateDir
}

// rdsPort adapts EC2's port for RDS (ec2port.Port, requester amazon-rds)
// to the interfaces RDS declares (rds.Subnets, SecurityGroups, VPCAccess,
// ENIs, PublicIPs).
type rdsPort struct{ p ec2port.Port }

func (a rdsPort) Subnet(ctx context.Context, account, region, id string) (vpcID, az, cidr string, ok bool, err error) {
	sn, ok, err := a.p.Subnet(ctx, account, region, id)
	if err != nil || !ok {
		return "", "", "", false, err
	}
	return sn.VPCID, sn.AvailabilityZone, sn.CIDR.String(), true, nil
}

func (a rdsPort) SecurityGroupVPC(ctx context.Context, account, region, id string) (string, bool, error) {
	return a.p.SecurityGroupVPC(ctx, account, region, id)
}

func (a rdsPort) VPCPublicAccess(ctx context.Context, account, region, vpcID string) (igw, dnsSupport, dnsHostnames, ok bool, err error) {
	v, ok, err := a.p.VPC(ctx, account, region, vpcID)
	return v.InternetGateway, v.DNSSupport, v.DNSHostnames, ok, err
}

func (a rdsPort) CreateENI(ctx context.Context, account, region, subnetID string, groupIDs []string, description string) (rds.PlacedENI, error) {
	e, err := a.p.CreateENI(ctx, account, region, ec2port.ENIRequest{SubnetID: subnetID, SecurityGroupIDs: groupIDs, Description: description})
	if err != nil {
		return rds.PlacedENI{}, err
	}
	return rds.PlacedENI{ID: e.ID, VPCID: e.VPCID, SubnetID: e.SubnetID, MAC: e.MAC, IP: e.IP.String()}, nil
}

func (a rdsPort) DeleteENI(ctx context.Context, account, region, id string) error {
	return a.p.DeleteENI(ctx, account, region, id)
}

func (a rdsPort) ModifyENIGroups(ctx context.Context, account, region, id string, groupIDs []string) error {
	return a.p.SetENIGroups(ctx, account, region, id, groupIDs)
}

func (a rdsPort) AssignPublicIP(ctx context.Context, account, region, eniID string) (string, error) {
	ip, err := a.p.AssignPublicIP(ctx, account, region, eniID)
	if err != nil {
		return "", err
	}
	return ip.String(), nil
}

func (a rdsPort) ReleasePublicIP(ctx context.Context, account, region, eniID string) error {
	return a.p.ReleasePublicIP(ctx, account, region, eniID)
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
