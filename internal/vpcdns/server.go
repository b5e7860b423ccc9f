package vpcdns

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"

	"github.com/minicloud/minicloud/internal/dnszone"
	"github.com/minicloud/minicloud/internal/guestlimit"
	"github.com/minicloud/minicloud/internal/vpcnet"
)

// LinkLocalResolver is the resolver's link-local address, the same in every
// VPC (AWS also serves fd00:ec2::253 on Nitro; minicloud is IPv4 only).
var LinkLocalResolver = netip.MustParseAddr("169.254.169.253")

// ResolverAddress is the VPC-local resolver address: the primary CIDR's
// base + 2 (10.0.0.2 for 10.0.0.0/16); the zero Addr for an invalid or
// non-IPv4 prefix.
func ResolverAddress(primary netip.Prefix) netip.Addr {
	if !primary.IsValid() || !primary.Addr().Is4() {
		return netip.Addr{}
	}
	a := primary.Masked().Addr()
	return a.Next().Next()
}

// DefaultForwardTimeout bounds one exchange with one upstream server.
const DefaultForwardTimeout = 2 * time.Second

// VPCInfo is what the resolver needs to know of its VPC.
type VPCInfo struct {
	ID     string
	Region string
	// CIDRs are the VPC's IPv4 blocks; the resolver answers PTR queries
	// for addresses inside them.
	CIDRs []netip.Prefix
	// EnableDNSSupport is the VPC attribute enableDnsSupport: false turns
	// the resolver off (it stops listening).
	EnableDNSSupport bool
	// EnableDNSHostnames is the VPC attribute enableDnsHostnames: public
	// DNS hostnames resolve (to the private IP) only when it is true.
	EnableDNSHostnames bool
}

// Host is one private IPv4 address of the VPC (an ENI's primary or
// secondary address) and what is named after it.
type Host struct {
	PrivateIP netip.Addr
	// PublicIP is the public IPv4 address mapped to PrivateIP (Elastic or
	// auto-assigned), or the zero Addr.
	PublicIP netip.Addr
	// Names are further private DNS names of the address, e.g. the
	// resource-based name i-0123456789abcdef0.ec2.internal. Only names
	// under the region's PrivateZone are answered; the IP-based name
	// (PrivateName) is always answered and need not be listed.
	Names []string
}

// Config configures a Server.
type Config struct {
	VPC VPCInfo
	// Hosts returns the VPC's current addresses. It is called for every
	// query the resolver answers itself, from many goroutines: it must be
	// cheap (return a snapshot) and safe for concurrent use. Nil means
	// none.
	Hosts func() []Host
	// Zones returns the Route 53 private hosted zones associated with the
	// VPC, under the same rules as Hosts. Nil means none. A zone is
	// compiled once for as long as Zones returns the same *dnszone.Zone
	// (a snapshot's zones never change), and a new version of a zone (same
	// ID) is compiled from the last one, names changed only.
	Zones func() []*dnszone.Zone
	// Endpoints give the service endpoint names (RDS DB instances…),
	// under the same rules as Hosts.
	Endpoints dnszone.EndpointSources
	// VPCEndpoints, when set, gives further endpoint sets for this VPC
	// alone, under the same rules as Hosts: the private DNS names of its
	// interface VPC endpoints (sts.us-east-1.amazonaws.com to their
	// interfaces), which take precedence over Endpoints' answer for the
	// same name as AWS's private hosted zone does (the more specific
	// domain wins, EndpointSets.For).
	VPCEndpoints func() dnszone.EndpointSets
	// Upstreams are the servers names the VPC does not own are forwarded
	// to, tried in order. Their sockets are created in the namespace of
	// the process (not the router namespace). Empty means answer SERVFAIL
	// at once for such names.
	Upstreams []netip.AddrPort
	// ForwardTimeout bounds each exchange with an upstream (UDP, then TCP
	// when the UDP answer is truncated); DefaultForwardTimeout when zero.
	ForwardTimeout time.Duration
	// Port is the port to listen on; 53 when zero (tests use others).
	Port uint16
	// ManageAddresses makes Start add the listen addresses that are missing
	// in the namespace (as /32 on lo, see EnsureAddresses) and Stop remove
	// the ones it added.
	ManageAddresses bool
	// Limits bound what each client, and all together, may take of the
	// resolver; DefaultLimits' value for each zero field.
	Limits Limits
	// Budget is the descriptor budget TCP connections and forwarded
	// queries draw from; guestlimit.Process() when nil.
	Budget *guestlimit.Budget
	// Stats, when set, counts what the limits refused (several servers may
	// share one).
	Stats *Stats
	// Logger; nil discards.
	Logger *slog.Logger
}

// Server is the Amazon-provided DNS resolver of one VPC. It is safe for
// concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	timeout time.Duration
	vpc     atomic.Pointer[VPCInfo]
	g       guards

	// hosted is the compiled hosted zones (hosted.go); hostedMu
	// serializes compiling them.
	hosted   atomic.Pointer[hostedCache]
	hostedMu sync.Mutex

	mu      sync.Mutex
	started bool
	nsPath  string
	listen  []netip.Addr
	added   []netip.Addr
	servers []*dns.Server
}

// New returns a stopped Server.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, log: cfg.Logger, timeout: cfg.ForwardTimeout, g: newGuards(cfg)}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.timeout <= 0 {
		s.timeout = DefaultForwardTimeout
	}
	if s.cfg.Port == 0 {
		s.cfg.Port = 53
	}
	s.cfg.Upstreams = append([]netip.AddrPort(nil), cfg.Upstreams...)
	v := cloneVPC(cfg.VPC)
	s.vpc.Store(&v)
	return s
}

func cloneVPC(v VPCInfo) VPCInfo {
	v.CIDRs = append([]netip.Prefix(nil), v.CIDRs...)
	return v
}

// Update replaces the VPC's information. Turning EnableDNSSupport off
// closes the sockets (queries then meet ICMP port unreachable / TCP RST);
// turning it on again opens them, which is the only way Update fails.
func (s *Server) Update(v VPCInfo) error {
	v = cloneVPC(v)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vpc.Store(&v)
	if !s.started {
		return nil
	}
	switch {
	case v.EnableDNSSupport && s.servers == nil:
		return s.bind()
	case !v.EnableDNSSupport && s.servers != nil:
		s.shutdown()
	}
	return nil
}

// Start serves DNS on UDP and TCP, Config.Port, on each listen address
// inside the network namespace at nsPath (a /run/netns file or
// /proc/<pid>/ns/net), typically the VPC's ResolverAddress and
// LinkLocalResolver in its router namespace. The sockets are bound with
// IP_FREEBIND, so an address may be added to the namespace after Start;
// only then does traffic reach it. With EnableDNSSupport false nothing is
// bound until Update turns it on.
func (s *Server) Start(nsPath string, listen []netip.Addr) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("vpcdns: already started")
	}
	if len(listen) == 0 {
		return errors.New("vpcdns: no listen address")
	}
	for _, a := range listen {
		if !a.IsValid() || a.Zone() != "" {
			return fmt.Errorf("vpcdns: invalid listen address %v", a)
		}
	}
	s.nsPath, s.listen = nsPath, append([]netip.Addr(nil), listen...)
	if s.cfg.ManageAddresses {
		added, err := EnsureAddresses(nsPath, listen)
		s.added = added
		if err != nil {
			s.removeAdded()
			return err
		}
	}
	if s.vpc.Load().EnableDNSSupport {
		if err := s.bind(); err != nil {
			s.removeAdded()
			return err
		}
	}
	s.started = true
	return nil
}

// Stop closes the sockets, waits for queries in flight (bounded) and
// removes the addresses Start added. It is idempotent; the Server may be
// started again.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shutdown()
	s.removeAdded()
	s.started = false
}

func (s *Server) removeAdded() {
	if len(s.added) == 0 {
		return
	}
	if err := RemoveAddresses(s.nsPath, s.added); err != nil {
		s.log.Warn("vpcdns: remove addresses", "vpc", s.vpc.Load().ID, "err", err)
	}
	s.added = nil
}

// bind opens every socket in the namespace and serves them; all or none.
// Called with mu held.
func (s *Server) bind() error {
	var pcs []net.PacketConn
	var lns []net.Listener
	closeAll := func() {
		for _, c := range pcs {
			c.Close()
		}
		for _, l := range lns {
			l.Close()
		}
	}
	lc := net.ListenConfig{Control: freebind}
	err := vpcnet.InNamespace(s.nsPath, func() error {
		ctx := context.Background()
		for _, a := range s.listen {
			ap := netip.AddrPortFrom(a, s.cfg.Port).String()
			udp, tcp := "udp4", "tcp4"
			if a.Is6() && !a.Is4In6() {
				udp, tcp = "udp6", "tcp6"
			}
			pc, err := lc.ListenPacket(ctx, udp, ap)
			if err != nil {
				return err
			}
			pcs = append(pcs, pc)
			ln, err := lc.Listen(ctx, tcp, ap)
			if err != nil {
				return err
			}
			lns = append(lns, ln)
		}
		return nil
	})
	if err != nil {
		closeAll()
		return fmt.Errorf("vpcdns: listen in %s: %w", s.nsPath, err)
	}
	var servers []*dns.Server
	l := s.g.limits
	limit := func(r dns.Reader) dns.Reader { return rateReader{Reader: r, g: &s.g} }
	idle := func() time.Duration { return l.TCPIdleTimeout }
	for i := range pcs {
		servers = append(servers,
			&dns.Server{PacketConn: pcs[i], Handler: s, UDPSize: dns.MaxMsgSize, DecorateReader: limit},
			&dns.Server{Listener: s.g.listen(lns[i]), Handler: s, MaxTCPQueries: 128, DecorateReader: limit,
				ReadTimeout: l.TCPReadTimeout, WriteTimeout: l.TCPWriteTimeout, IdleTimeout: idle})
	}
	for i, srv := range servers {
		if err := serve(srv); err != nil {
			for _, started := range servers[:i] {
				_ = started.Shutdown()
			}
			closeAll()
			return fmt.Errorf("vpcdns: serve: %w", err)
		}
	}
	s.servers = servers
	return nil
}

// serve runs srv in the background once it has started.
func serve(srv *dns.Server) error {
	started := make(chan struct{})
	errc := make(chan error, 1)
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { errc <- srv.ActivateAndServe() }()
	select {
	case <-started:
		return nil
	case err := <-errc:
		if err == nil {
			err = errors.New("server ended at once")
		}
		return err
	}
}

// shutdown stops serving; called with mu held.
func (s *Server) shutdown() {
	for _, srv := range s.servers {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := srv.ShutdownContext(ctx); err != nil {
			s.log.Debug("vpcdns: shutdown", "err", err)
		}
		cancel()
		// Closes what Shutdown may have left after its deadline.
		if srv.PacketConn != nil {
			srv.PacketConn.Close()
		}
		if srv.Listener != nil {
			srv.Listener.Close()
		}
	}
	s.servers = nil
}

// freebind lets a socket bind an address the namespace does not have yet.
func freebind(network, _ string, c syscall.RawConn) error {
	level, opt := unix.SOL_IP, unix.IP_FREEBIND
	if network == "udp6" || network == "tcp6" {
		level, opt = unix.SOL_IPV6, unix.IPV6_FREEBIND
	}
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), level, opt, 1)
	}); err != nil {
		return err
	}
	return serr
}
